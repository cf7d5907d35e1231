"""The realscene command line: info, render and bad input, on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import loaders
from viewer.cli import main


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _needs(ext: str) -> None:
    if ext not in loaders.supported_extensions():
        pytest.skip(f"the .{ext} reader has not landed yet")


def test_info_json_obj(shared_data, capsys):
    path = shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
    code, out, err = _run(capsys, "info", path, "--json")
    assert code == 0, err
    info = json.loads(out)
    for key in ("format", "bounds", "crs", "kind", "path", "attributes", "warnings",
                "vertex_count", "triangle_count"):
        assert key in info
    assert info["kind"] == "mesh" and info["format"] == "OBJ"
    assert (info["vertex_count"], info["triangle_count"]) == (14760, 28619)
    mesh = loaders.read(path)
    lo, hi = mesh.bounds
    # to the data's precision (float32 local positions: 4 decimals here), without noise
    d = info["coordinate_decimals"]
    assert d == 4
    assert info["bounds"]["min"] == [round(float(v), d) for v in lo]
    assert info["bounds"]["max"] == [round(float(v), d) for v in hi]
    assert info["bounds"]["min"][0] == 84616.468  # the file's "v 84616.468 ..."


def test_info_city_model_and_ifc(shared_data, capsys):
    code, out, err = _run(capsys, "info", shared_data / "citymodels" / "delft.city.json",
                          "--json")
    assert code == 0, err
    info = json.loads(out)
    # SOURCES.md: 570 objects, 160 Building, 143 Road, 126 PlantCover, ...; EPSG:7415
    assert info["model_format"] == "CityJSON" and info["object_count"] == 570
    assert info["objects_by_type"]["Building"] == 160
    assert info["objects_by_type"]["Road"] == 143 and info["objects_by_type"]["Bridge"] == 3
    assert info["lods"] == ["1"] and info["crs"]["epsg"] == 7415
    code, out, err = _run(capsys, "info", shared_data / "citymodels"
                          / "zurich_subset_lod2.city.json")
    assert code == 0, err
    assert "BuildingPart                     161" in out and "LODs:       2" in out
    assert "RoofSurface" in out and "EPSG:2056" in out
    code, out, err = _run(capsys, "info", shared_data / "bim" / "duplex.ifc", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["model_format"] == "IFC"
    assert info["objects_by_type"]["IfcWallStandardCase"] == 56
    assert info["objects_by_type"]["IfcBuildingStorey"] == 4
    assert info["georeference"]["method"].startswith("site reference point")
    assert info["crs"]["epsg"] == 32616


@pytest.mark.parametrize("name, count", [("autzen_trim.laz", 110000),
                                         ("autzen-bmx-2010.las", 829)])
def test_info_json_las(shared_data, capsys, name, count):
    _needs(name.rsplit(".", 1)[1])
    laspy = pytest.importorskip("laspy")
    path = shared_data / "pointclouds" / name
    code, out, err = _run(capsys, "info", path, "--json")
    assert code == 0, err
    info = json.loads(out)
    for key in ("format", "bounds", "crs", "kind", "path", "attributes", "warnings",
                "point_count"):
        assert key in info
    assert info["kind"] == "pointcloud" and info["point_count"] == count
    header = laspy.read(path).header
    assert np.allclose(info["bounds"]["min"], header.mins, atol=1e-3)
    assert np.allclose(info["bounds"]["max"], header.maxs, atol=1e-3)
    cls = info["attributes"]["classification"]
    assert cls["min"] >= 0 and cls["max"] <= 255


def test_info_text(shared_data, capsys):
    code, out, _ = _run(capsys, "info", shared_data / "meshes" / "delft_3dfier_lod1"
                        / "testarea.obj")
    assert code == 0 and "triangles:  28,619" in out


def test_render_writes_png_of_requested_size(shared_data, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "city.png"
    path = shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
    code, _, err = _run(capsys, "render", path, "-o", out, "--size", "200x150",
                        "--view", "top", "--color-by", "elevation", "--background", "white")
    assert code == 0, err
    img = Image.open(out)
    assert img.size == (200, 150)
    arr = np.asarray(img.convert("RGB"))
    assert arr[0, 0].tolist() == [255, 255, 255]
    assert (np.abs(arr.astype(int) - 255).max(axis=-1) > 30).mean() > 0.05


def test_render_point_cloud(shared_data, tmp_path, capsys):
    _needs("laz")
    from PIL import Image

    out = tmp_path / "autzen.png"
    code, _, err = _run(capsys, "render", shared_data / "pointclouds" / "autzen_trim.laz",
                        "-o", out, "--size", "240x160", "--color-by", "classification",
                        "--edl", "--point-size", "3")
    assert code == 0, err
    assert Image.open(out).size == (240, 160)


def _assert_one_line_error(code, err, expected_code=2, mention=None):
    assert code == expected_code
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("realscene: error: ")
    assert "Traceback" not in err
    if mention:
        assert mention in lines[0]


@pytest.mark.parametrize("name", ["truncated_1.2-no-points.las", "broken_type.laz",
                                  "garbage_nVariableLength.las"])
def test_corrupt_file(shared_data, capsys, name):
    path = shared_data / "corrupt" / name
    code, out, err = _run(capsys, "info", path, "--json")
    _assert_one_line_error(code, err, mention=str(path))
    assert out == ""


def test_missing_path(tmp_path, capsys):
    missing = tmp_path / "nope.laz"
    code, _, err = _run(capsys, "info", missing)
    _assert_one_line_error(code, err, mention=str(missing))
    code, _, err = _run(capsys, "render", missing, "-o", tmp_path / "x.png")
    _assert_one_line_error(code, err, mention=str(missing))


@pytest.mark.parametrize("size", ["big", "100", "0x100", "100x-5", "10x10x10"])
def test_bogus_size(shared_data, tmp_path, capsys, size):
    path = shared_data / "meshes" / "gargo.ply"
    code, _, err = _run(capsys, "render", path, "-o", tmp_path / "x.png", "--size", size)
    _assert_one_line_error(code, err, mention="--size")
    assert not (tmp_path / "x.png").exists()


def test_unknown_colour_mode(shared_data, tmp_path, capsys):
    path = shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
    code, _, err = _run(capsys, "render", path, "-o", tmp_path / "x.png", "--size",
                        "64x64", "--color-by", "sparkles")
    _assert_one_line_error(code, err, mention="sparkles")
    code, _, err = _run(capsys, "render", path, "-o", tmp_path / "x.png", "--size",
                        "64x64", "--color-by", "classification")
    _assert_one_line_error(code, err, mention=str(path))


def test_bad_arguments_and_subprocess_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "viewer.cli", "render"],
                          capture_output=True, text=True)
    _assert_one_line_error(proc.returncode, proc.stderr)
    proc = subprocess.run([sys.executable, "-m", "viewer.cli", "info",
                           str(tmp_path / "missing.obj")], capture_output=True, text=True)
    _assert_one_line_error(proc.returncode, proc.stderr, mention="missing.obj")


def test_annotations_report_renders_each_annotations_view(tmp_path):
    """The condition report from the CLI has a rendered view per annotation (from its
    saved camera, or framing it), unless --no-views."""
    import re

    from viewer.cli import main

    project = Path(__file__).resolve().parents[1] / "assets" / "sample_site" / \
        "delft.realscene.json"
    out = tmp_path / "report.html"
    assert main(["annotations", str(project), "--export", "report", "-o", str(out),
                 "--size", "320x200"]) == 0
    html = out.read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,', html)
    assert len(images) == html.count('class="annotation"') == 5
    assert "No rendered view" not in html
    quick = tmp_path / "quick.html"
    assert main(["annotations", str(project), "--export", "report", "-o", str(quick),
                 "--no-views"]) == 0
    assert quick.read_text(encoding="utf-8").count("No rendered view") == 5
