"""``realscene register A B -o B_aligned.laz``: a real scan (AHN3) moved by 0.5 deg about Z
and 0.3 m plus noise is moved back at full resolution, with its transform beside it; a
big motion is undone from point pairs (``--pairs``); bad input is one line, exit 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import laspy
import numpy as np
import pytest

from loaders.georef import apply_matrix, similarity_from_values
from viewer.cli import main

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pointclouds"
AHN3 = DATA / "ahn3_cropped_2.laz"

pytestmark = pytest.mark.skipif(not AHN3.exists(), reason="shared sample data missing")


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _xyz(las):
    return np.column_stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)])


@pytest.fixture(scope="module")
def original():
    las = laspy.read(AHN3)
    return las, _xyz(las)


def _moved(tmp_path, original, motion, noise=0.005):
    las, a = original
    moved = laspy.read(AHN3)
    xyz = apply_matrix(motion, a) + np.random.default_rng(5).normal(0, noise, a.shape)
    moved.x, moved.y, moved.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    path = tmp_path / "epoch_b.laz"
    moved.write(path)
    return path


def test_register_writes_b_back_onto_a(tmp_path, capsys, original):
    las, a = original
    centre = (a.min(axis=0) + a.max(axis=0)) / 2
    motion = similarity_from_values((0.3, -0.2, 0.0), (0, 0, 0.5), 1.0, centre)
    b = _moved(tmp_path, original, motion)
    out = tmp_path / "b_aligned.laz"
    code, stdout, err = _run(capsys, "register", AHN3, b, "-o", out)
    assert code == 0, err
    first, second = stdout.strip().splitlines()
    assert first.startswith("RMSE ") and "overlap 100.0 %" in first
    assert second == str(out)
    rmse = float(first.split()[1])
    assert 0.005 < rmse < 0.015
    back = laspy.read(out)
    d = np.linalg.norm(_xyz(back) - a, axis=1)
    assert d.max() < 0.03 and np.median(d) < 0.012
    assert np.array_equal(np.asarray(back.classification), np.asarray(las.classification))
    doc = json.loads((tmp_path / "b_aligned.transform.json").read_text())
    m = np.array(doc["matrix"])
    expected = np.linalg.inv(motion)
    angle = math.degrees(math.acos(min(1.0, (np.trace(m[:3, :3] @ expected[:3, :3].T) - 1) / 2)))
    assert angle < 0.01
    assert np.abs(apply_matrix(m, a) - apply_matrix(expected, a)).max() < 0.01
    assert doc["reference"] == str(AHN3) and doc["moved"] == str(b)
    assert 0.99 < doc["overlap"] <= 1.0 and doc["iterations"] > 0


def test_register_from_point_pairs(tmp_path, capsys, original):
    las, a = original
    centre = (a.min(axis=0) + a.max(axis=0)) / 2
    motion = similarity_from_values((12.0, 30.0, 2.0), (0, 0, 25.0), 1.0, centre)
    b = _moved(tmp_path, original, motion)
    idx = [10, len(a) // 2, len(a) - 10, len(a) // 4]
    pairs = tmp_path / "pairs.csv"
    rows = ["bx,by,bz,ax,ay,az"] + [
        ",".join(f"{v:.3f}" for v in (*apply_matrix(motion, a[i])[0], *a[i])) for i in idx]
    pairs.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "b_aligned.las"
    code, stdout, err = _run(capsys, "register", AHN3, b, "-o", out, "--pairs", pairs)
    assert code == 0, err
    doc = json.loads((tmp_path / "b_aligned.transform.json").read_text())
    assert doc["coarse_matrix"] is not None and doc["pairs_rms_m"] < 0.01
    d = np.linalg.norm(_xyz(laspy.read(out)) - a, axis=1)
    assert np.median(d) < 0.012
    # without ICP (pairs only) the same command still works
    code, stdout, err = _run(capsys, "register", AHN3, b, "-o", tmp_path / "c.laz",
                             "--pairs", pairs, "--no-icp")
    assert code == 0, err
    assert stdout.startswith("point pairs RMS")


def test_register_bad_input(tmp_path, capsys):
    code, _, err = _run(capsys, "register", AHN3, tmp_path / "missing.laz", "-o",
                        tmp_path / "x.laz")
    assert code == 2 and "file not found" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "register", AHN3, AHN3, "-o", tmp_path / "x.ply")
    assert code == 2 and ".las or .laz" in err
    code, _, err = _run(capsys, "register", AHN3, AHN3, "-o", tmp_path / "x.laz", "--no-icp")
    assert code == 2 and "--no-icp needs --pairs" in err
    bad = tmp_path / "pairs.csv"
    bad.write_text("1,2,3,4,5,6\n", encoding="utf-8")
    code, _, err = _run(capsys, "register", AHN3, AHN3, "-o", tmp_path / "x.laz",
                        "--pairs", bad)
    assert code == 2 and "at least 3" in err and "Traceback" not in err
    code, _, err = _run(capsys, "register", AHN3, AHN3, "-o", tmp_path / "x.laz",
                        "--max-distance", "-1")
    assert code == 2
