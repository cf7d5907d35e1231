"""``realscene compare A B`` (two files): B written with its distances, the report, the
parameters as options, usage errors as one line and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import laspy
import numpy as np
import pytest

from viewer.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def epochs(shared_data, tmp_path_factory):
    """A: the real AHN3 scan; B: the same with the ground west of x = 85030 raised 0.2 m."""
    a = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    las = laspy.read(str(a))
    z = np.asarray(las.z, dtype=np.float64)
    raised = (np.asarray(las.x) < 85030.0) & (np.asarray(las.classification) == 2)
    las.z = z + np.where(raised, 0.2, 0.0)
    b = tmp_path_factory.mktemp("cli_epochs") / "ahn3_b.laz"
    las.write(str(b))
    return a, b, raised


def test_compare_two_files_m3c2_with_report(epochs, tmp_path, capsys):
    a, b, raised = epochs
    out, report = tmp_path / "change.laz", tmp_path / "change.html"
    code = main(["compare", str(a), str(b), "--method", "m3c2", "-o", str(out), "--report",
                 str(report), "--cyl-radius", "0.8", "--normal-radii", "1,2",
                 "--core-spacing", "1.5", "--registration-error", "0.005"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.split() == [str(out), str(report)]
    assert "m3c2:" in captured.err and "significant" in captured.err
    las = laspy.read(str(out))
    for name in ("m3c2_distance", "m3c2_lod", "m3c2_significant"):
        assert name in las.point_format.extra_dimension_names
    d = np.asarray(las["m3c2_distance"])
    sig = np.asarray(las["m3c2_significant"]).astype(bool)
    assert np.nanmedian(d[raised & sig]) == pytest.approx(0.2, abs=0.01)
    assert sig[raised].mean() > 0.5
    text = report.read_text(encoding="utf-8")
    assert "cyl_radius=0.8" in text and "normal_radii=[1.0, 2.0]" in text and "<svg" in text


def test_compare_two_files_c2c_options(epochs, tmp_path, capsys):
    a, b, raised = epochs
    out = tmp_path / "c2c.las"
    code = main(["compare", str(a), str(b), "-o", str(out), "--local-model", "plane",
                 "--k", "8", "--signed"])
    assert code == 0, capsys.readouterr().err
    d = np.asarray(laspy.read(str(out))["c2c_distance"])
    assert np.median(d[raised]) == pytest.approx(0.2, abs=0.02)
    assert np.median(np.abs(d[~raised])) < 0.01


@pytest.mark.parametrize("args, message", [
    (["--cyl-radius", "1"], "--cyl-radius is not an option of --method c2c"),
    (["--method", "m3c2", "--local-model", "plane"], "--local-model is not an option"),
    (["--scheduler", "tcp://127.0.0.1:1"], "for folders"),
    (["--cyl-radius", "-1", "--method", "m3c2"], "positive"),
])
def test_compare_usage_errors(epochs, tmp_path, capsys, args, message):
    a, b, _ = epochs
    code = main(["compare", str(a), str(b), "-o", str(tmp_path / "o.laz"), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) <= 2  # one line (argparse adds its usage line)
    assert not (tmp_path / "o.laz").exists()


def test_compare_bad_files_one_line(epochs, shared_data, tmp_path):
    a, b, _ = epochs
    cases = [
        ([str(a), str(tmp_path / "missing.laz"), "-o", str(tmp_path / "o.laz")], "not found"),
        ([str(a), str(b)], "needs -o"),
        ([str(a), str(b), "-o", str(b)], "overwrite"),
        ([str(a), str(tmp_path), "-o", str(tmp_path / "o.laz")], "not one of each"),
        ([str(a), str(shared_data / "meshes" / "gargo.ply"), "-o", str(tmp_path / "o.laz")],
         "gargo.ply"),
    ]
    for args, message in cases:
        proc = subprocess.run([sys.executable, "-m", "viewer.cli", "compare", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
