"""``realscene profile PATH... --line X1,Y1,X2,Y2 --width W -o OUT``: CSV rows equal a
numpy mask over laspy's points plus the OBJ's cut lines, SVG and PNG written, usage
errors and bad files as one line and exit code 2."""

from __future__ import annotations

import csv
import math

import laspy
import numpy as np
import pytest

from viewer.cli import main

LINE = "85000,447450,85060,447600"


@pytest.fixture(scope="module")
def files(shared_data):
    return (shared_data / "pointclouds" / "ahn3_cropped_2.laz",
            shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj")


def test_csv_has_every_point_in_the_corridor_and_the_cut_lines(files, tmp_path, capsys):
    laz, obj = files
    out = tmp_path / "section.csv"
    assert main(["profile", str(laz), str(obj), "--line", LINE, "--width", "2",
                 "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "cut-line segments" in captured.err
    las = laspy.read(laz)
    x, y = np.asarray(las.x), np.asarray(las.y)
    ux, uy = 60.0, 150.0
    length = math.hypot(ux, uy)
    along = ((x - 85000) * ux + (y - 447450) * uy) / length
    across = (-(x - 85000) * uy + (y - 447450) * ux) / length
    expected = (np.abs(across) <= 1.0) & (along >= 0) & (along <= length)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    points = [r for r in rows if r["layer"] == "ahn3_cropped_2.laz"]
    cuts = [r for r in rows if r["layer"] == "testarea.obj"]
    assert len(points) == int(expected.sum()) > 1000
    assert len(cuts) > 100 and len(cuts) % 2 == 0
    assert {"Building", "Road"} <= {r["class"] for r in cuts}
    got = np.array([[float(r["x"]), float(r["y"]), float(r["z"])] for r in points])
    want = np.c_[x[expected], y[expected], np.asarray(las.z)[expected]]
    np.testing.assert_allclose(np.sort(got, axis=0), np.sort(want, axis=0), atol=1e-4)


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_svg_and_png(files, tmp_path, capsys, suffix, magic):
    out = tmp_path / f"section{suffix}"
    assert main(["profile", str(files[0]), "--line", LINE, "--width", "1.5",
                 "--title", "Delft", "-o", str(out)]) == 0
    assert out.read_bytes()[:len(magic)] == magic
    assert not list(tmp_path.glob(".*part"))  # written atomically


@pytest.mark.parametrize("argv, message", [
    (["--line", "1,2,3", "--width", "1"], "bad profile line"),
    (["--line", LINE, "--width", "0"], "expected a positive number"),
    (["--line", LINE, "--width", "1", "-o", "x.pdf"], "must end in .svg, .png or .csv"),
])
def test_usage_errors_are_one_line(files, tmp_path, capsys, argv, message):
    if "-o" not in argv:
        argv = argv + ["-o", str(tmp_path / "x.svg")]
    assert main(["profile", str(files[0]), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_bad_and_missing_files(tmp_path, capsys):
    bad = tmp_path / "broken.laz"
    bad.write_bytes(b"LASF" + b"\x00" * 40)
    assert main(["profile", str(bad), "--line", LINE, "--width", "1",
                 "-o", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "broken.laz" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()
    assert main(["profile", str(tmp_path / "none.laz"), "--line", LINE, "--width", "1",
                 "-o", str(tmp_path / "x.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
