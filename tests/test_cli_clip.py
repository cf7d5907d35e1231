"""``realscene clip``: a box or polygon of a real LAS/LAZ/COPC file written at full
resolution; bad regions and outputs are one clear line and exit code 2."""

from __future__ import annotations

import laspy
import numpy as np

from viewer.cli import main


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_clip_box_and_outside(shared_data, tmp_path, capsys):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    las = laspy.read(src)
    x, y, z = np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)
    lo = [np.quantile(x, 0.3), np.quantile(y, 0.3), z.min()]
    hi = [np.quantile(x, 0.7), np.quantile(y, 0.7), np.median(z)]
    box = ",".join(repr(float(v)) for v in lo + hi)
    mask = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1]) & (z >= lo[2]) \
        & (z <= hi[2])
    code, out, err = _run(capsys, "clip", src, "--box", box, "-o", tmp_path / "in.laz")
    assert code == 0, err
    assert out.strip() == str(tmp_path / "in.laz")
    assert f"{int(mask.sum()):,} of 110,000 points written" in err
    assert len(laspy.read(tmp_path / "in.laz")) == int(mask.sum())
    code, out, err = _run(capsys, "clip", src, "--box", box, "--outside",
                          "-o", tmp_path / "out.las")
    assert code == 0, err
    assert len(laspy.read(tmp_path / "out.las")) == len(las) - int(mask.sum())


def test_clip_polygon_of_a_copc_reads_part_of_it(shared_data, tmp_path, capsys):
    src = shared_data / "pointclouds" / "lion_takanawa.copc.laz"
    las = laspy.read(src)
    x, y = np.asarray(las.x), np.asarray(las.y)
    x0, x1 = np.quantile(x, [0.4, 0.6])
    y0, y1 = np.quantile(y, [0.4, 0.6])
    wkt = f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"
    code, out, err = _run(capsys, "clip", src, "--polygon", wkt, "--zmax", "1e9",
                          "-o", tmp_path / "lion.copc.laz")
    assert code == 0, err
    expected = int(((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)).sum())
    assert f"{expected:,} of 341,989 points written" in err
    assert "COPC nodes" in err
    read = int(err.split("(read ")[1].split(" points")[0].replace(",", ""))
    assert read < 341_989
    with laspy.CopcReader.open(tmp_path / "lion.copc.laz") as reader:
        assert len(reader.query()) == expected


def test_clip_errors(shared_data, tmp_path, capsys):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    cases = [(["--box", "1,2,3"], "six numbers"),
             (["--box", "5,5,5,1,1,1"], "above its max"),
             (["--polygon", "POINT(1 2)"], "POLYGON"),
             (["--box", "1,2,3,4,5,6", "--zmin", "0"], "--zmin/--zmax go with --polygon")]
    for extra, words in cases:
        code, out, err = _run(capsys, "clip", src, *extra, "-o", tmp_path / "o.laz")
        assert code == 2 and words in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "clip", tmp_path / "none.laz", "--box", "0,0,0,1,1,1",
                        "-o", tmp_path / "o.laz")
    assert code == 2 and "not found" in err
    code, _, err = _run(capsys, "clip", src, "--box", "0,0,0,1,1,1", "-o", tmp_path / "o.xyz")
    assert code == 2 and "output type" in err
    code, _, err = _run(capsys, "clip", src, "--box", "0,0,0,1,1,1")
    assert code == 2 and "-o" in err
    code, _, err = _run(capsys, "clip", src, "--box", "0,0,0,1,1,1", "-o", tmp_path / "e.laz")
    assert code == 0 and "warning: no points" in err
    assert not (tmp_path / "o.laz").exists()
