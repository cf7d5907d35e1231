"""``realscene render`` through the scene pipeline: projects rendered as saved (display
state, annotations, saved views by name), files in different CRSs drawn in one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.viewer.test_pipeline import SAMPLE, SAMPLE_PROJECT, write_cityjson_in

SIZE = "320x200"


def _render(capsys, *args) -> tuple[int, str]:
    from viewer.cli import main

    code = main(["render", *[str(a) for a in args]])
    return code, capsys.readouterr().err


def _png(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_render_project_as_saved_with_a_saved_view(tmp_path, capsys):
    out = tmp_path / "overview.png"
    code, err = _render(capsys, SAMPLE_PROJECT, "-o", out, "--size", SIZE,
                        "--view", "Overview")
    assert code == 0, err
    saved = _png(out)
    assert saved.shape == (200, 320, 3)
    # the same project without its annotations and measurements: those are drawn too
    doc = json.loads(SAMPLE_PROJECT.read_text(encoding="utf-8"))
    doc["annotations"], doc["measurements"] = [], []
    bare = tmp_path / "bare.realscene.json"
    for layer in doc["layers"]:
        layer["path"] = str(SAMPLE / layer["path"])
    bare.write_text(json.dumps(doc), encoding="utf-8")
    code, err = _render(capsys, bare, "-o", tmp_path / "bare.png", "--size", SIZE,
                        "--view", "Overview")
    assert code == 0, err
    changed = np.abs(saved - _png(tmp_path / "bare.png")).sum(axis=2) > 60
    assert changed.mean() > 0.005  # labels, pins and measurement lines
    # the display state is the saved one: the scan coloured by classification, not by
    # the elevation a bare file would get
    doc["layers"][1]["display"]["color_mode"] = "elevation"
    bare.write_text(json.dumps(doc), encoding="utf-8")
    code, err = _render(capsys, bare, "-o", tmp_path / "elev.png", "--size", SIZE,
                        "--view", "Overview")
    assert code == 0, err
    assert (np.abs(_png(tmp_path / "elev.png") - _png(tmp_path / "bare.png")).sum(axis=2)
            > 60).mean() > 0.05


def test_render_project_unknown_view_lists_the_saved_ones(tmp_path, capsys):
    code, err = _render(capsys, SAMPLE_PROJECT, "-o", tmp_path / "x.png", "--view", "Nave")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("realscene: error: ")
    assert "'Overview'" in lines[0] and "'Roof close-up'" in lines[0]
    assert not (tmp_path / "x.png").exists()


def test_render_files_in_different_crss_draws_them_in_one(tmp_path, capsys):
    """The city model written in UTM 31N and in WGS 84 renders where the RD original
    does: same picture as the original drawn twice."""
    city = SAMPLE / "delft.city.json"
    utm = write_cityjson_in(city, tmp_path / "utm.city.json", "EPSG:32631")
    wgs = write_cityjson_in(city, tmp_path / "wgs.city.json", "EPSG:4326")
    common = ["--size", SIZE, "--view", "top", "--color-by", "solid"]
    code, err = _render(capsys, city, city, "-o", tmp_path / "ref.png", *common)
    assert code == 0, err
    ref = _png(tmp_path / "ref.png")
    for other in (utm, wgs):
        out = tmp_path / f"{other.stem}.png"
        code, err = _render(capsys, city, other, "-o", out, *common)
        assert code == 0, err
        diff = np.abs(_png(out) - ref)
        assert diff.mean() < 3.0, (other.name, diff.mean())


def test_render_refuses_a_project_mixed_with_files(tmp_path, capsys):
    code, err = _render(capsys, SAMPLE_PROJECT, SAMPLE / "delft.city.json",
                        "-o", tmp_path / "x.png")
    assert code == 2 and "project" in err


def test_info_describes_a_project(capsys):
    from viewer.cli import main

    assert main(["info", str(SAMPLE_PROJECT), "--json"]) == 0
    out, err = capsys.readouterr()
    info = json.loads(out)
    assert info["crs"] == "EPSG:28992"
    assert [layer["name"] for layer in info["layers"]] == ["testarea.obj", "delft_ahn3.laz",
                                                            "delft.city.json"]
    assert all(layer["found"] for layer in info["layers"])
    assert info["layers"][1]["display"]["color_mode"] == "classification"
    assert info["views"] == ["Overview", "Roof close-up"]
    assert info["annotations"] == 5 and info["measurements"] == 3
