"""``realscene export PROJECT --format F -o OUT``: the exhibit of a project from the command
line (the export step the window and scripts share), its progress on stderr, and one-line
refusals (exit 2) for outputs that would overwrite the project or its files, unknown
layers, annotations or tours, and formats not available."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from viewer.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "assets" / "sample_site"
PROJECT = SAMPLE / "delft.realscene.json"
CRACK = "ff12518b-b2e1-40ba-ba98-93e07edb1b17"


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_error_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.startswith("realscene: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_export_glb_of_the_sample_site(tmp_path, capsys):
    import pygltflib

    out = tmp_path / "delft.glb"
    code, stdout, err = _run(capsys, "export", PROJECT, "--format", "glb", "-o", out,
                             "--annotations", "category:crack,erosion", "--points", "20000",
                             "--triangles", "5000")
    assert code == 0, err
    assert stdout.strip() == str(out)  # stdout: the path written, nothing else
    assert "realscene: export:   0%" in err  # progress on stderr
    assert [p.name for p in tmp_path.iterdir()] == ["delft.glb"]  # no temporary left
    gltf = pygltflib.GLTF2.load(str(out))
    titles = {(n.extras or {}).get("hotspot", {}).get("title") for n in gltf.nodes}
    assert {"Crack along the quay wall", "Weathered roof ridge"} <= titles
    assert "Moss on the roof slope" not in titles  # biological growth was not chosen


def test_export_refuses_to_overwrite_the_project_or_its_files(tmp_path, capsys):
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    project = site / "delft.realscene.json"
    before = {p: _sha(p) for p in site.rglob("*") if p.is_file()}
    for target in (project, site / "delft_ahn3.laz",
                   site / "delft_city_lod1" / ".." / "delft.city.json"):
        code, stdout, err = _run(capsys, "export", project, "--format", "glb", "-o", target)
        assert code == 2, err
        assert "is the input" in _one_error_line(err) and stdout == ""
    # a folder export into the project's own folder (it holds the inputs)
    code, _, err = _run(capsys, "export", project, "--format", "3dtiles", "-o", site)
    assert code == 2 and "holds the input" in _one_error_line(err)
    # ... or into any folder that is not empty
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    code, _, err = _run(capsys, "export", project, "--format", "web", "-o", full)
    assert code == 2 and "not empty" in _one_error_line(err)
    assert {p: _sha(p) for p in site.rglob("*") if p.is_file()} == before
    assert (full / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("args, message", [
    (["--layers", "nope.laz"], "no layer named 'nope.laz'"),
    (["--tour", "Harbour"], "no tour named 'Harbour'"),
    (["--annotations", "no-such-id"], "no annotation with id 'no-such-id'"),
    (["--annotations", "category:"], "category: needs one or more"),
    (["--triangles", "0"], "expected a positive number"),
    (["--points", "many"], "expected a whole number"),
    (["--format", "obj"], "unknown --format 'obj'"),
])
def test_bad_choices_are_one_line(tmp_path, capsys, args, message):
    argv = ["export", PROJECT, "-o", tmp_path / "x.glb"]
    if "--format" not in args:
        argv += ["--format", "glb"]
    code, stdout, err = _run(capsys, *argv, *args)
    assert code == 2, err
    assert message in _one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_format_not_available_yet(tmp_path, capsys, monkeypatch):
    """A format whose export module is not in this version: said so, exit 2."""
    from heritage import exhibits

    monkeypatch.setitem(exhibits.FORMATS, "x3d", ("x3d", "an X3D scene"))
    code, _, err = _run(capsys, "export", PROJECT, "--format", "x3d", "-o", tmp_path / "a")
    assert code == 2
    line = _one_error_line(err)
    assert "format x3d is not available yet" in line and "glb" in line
    assert list(tmp_path.iterdir()) == []


def test_missing_project(tmp_path, capsys):
    code, _, err = _run(capsys, "export", tmp_path / "none.realscene.json", "--format", "glb",
                        "-o", tmp_path / "a.glb")
    assert code == 2 and "none.realscene.json" in _one_error_line(err)
