"""The Python API (viewer.api): the README's "Scripting" example runs exactly as printed,
and what it writes is right; the API's errors are one clear line."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "assets" / "sample_site"


def readme_example() -> str:
    """The python code block of the README's "Scripting" section, as printed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Scripting\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no 'Scripting' section"
    blocks = re.findall(r"^```python\n(.*?)^```", section.group(1), re.S | re.M)
    assert len(blocks) == 1, "the Scripting section should have one python example"
    return blocks[0]


def _png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def _not_blank(img: np.ndarray) -> float:
    """Share of pixels that differ from the corner (background) colour."""
    return float((np.abs(img - img[0, 0]).sum(axis=2) > 30).mean())


@pytest.fixture(scope="module")
def ran_example(tmp_path_factory):
    """Run the README example in a fresh folder holding the bundled sample site."""
    work = tmp_path_factory.mktemp("scripting")
    shutil.copytree(SAMPLE, work / "assets" / "sample_site")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", readme_example()], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return work, done.stdout


def test_readme_example_prints_the_layers_and_site(ran_example):
    _, out = ran_example
    lines = out.splitlines()
    assert lines[0] == "['testarea.obj', 'delft_ahn3.laz', 'delft.city.json']"
    assert "EPSG:28992" in lines[1] and "Overview" in lines[1] and "Condition walk" in lines[1]


def test_readme_example_renders_pictures(ran_example):
    work, _ = ran_example
    top = _png(work / "top.png")
    assert top.shape == (800, 1280, 3)
    assert _not_blank(top) > 0.2
    overview = _png(work / "overview.png")
    assert overview.shape == (800, 1280, 3) and _not_blank(overview) > 0.2
    assert np.abs(top - overview).mean() > 5  # two different views
    files = _png(work / "files.png")
    assert _not_blank(files) > 0.05


def test_readme_example_exports_the_annotation(ran_example):
    work, _ = ran_example
    doc = json.loads((work / "annotations.geojson").read_text(encoding="utf-8"))
    features = doc["features"]
    from heritage.project import Project

    sample = Project.load(SAMPLE / "delft.realscene.json")
    # the sample's annotations and measurements, and the script's annotation
    assert len(features) == len(sample.annotations) + len(sample.measurements) + 1
    mine = [f for f in features if "Survey mark" in json.dumps(f, ensure_ascii=False)]
    assert len(mine) == 1
    geometry = mine[0]["geometry"]
    assert geometry["type"] == "Point"
    import loaders

    scan = loaders.read(SAMPLE / "delft_ahn3.laz")
    lo, hi = scan.bounds
    np.testing.assert_allclose(geometry["coordinates"],
                               [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2]], atol=1e-6)


def test_readme_example_saves_the_project_with_its_edits(ran_example):
    from heritage.project import Project

    work, _ = ran_example
    project = Project.load(work / "survey.realscene.json")
    assert [a.title for a in project.annotations][-1] == "Survey mark"
    scan = next(r for r in project.layers if r.name == "delft_ahn3.laz")
    assert scan.display["color_mode"] == "elevation" and scan.display["point_size"] == 3
    # layer paths were rewritten for the new file and still lead to the data
    assert scan.path == "assets/sample_site/delft_ahn3.laz"
    assert project.missing_layers() == []
    city = next(r for r in project.layers if r.name == "delft.city.json")
    assert city.display["visible"] is False  # the sample's display state kept


def test_readme_example_writes_the_tour_frames(ran_example):
    from heritage.project import Project
    from viewer.scene import Camera
    from viewer.tours import TourPath

    work, _ = ran_example
    frames = sorted((work / "tour_frames").glob("frame_*.png"))
    project = Project.load(SAMPLE / "delft.realscene.json")
    path = TourPath(project, project.tours[0], Camera())
    assert len(frames) == path.frame_count(2)
    assert _png(frames[0]).shape == (400, 640, 3)
    assert all(_not_blank(_png(f)) > 0.05 for f in frames[:: max(1, len(frames) // 6)])


# -- errors ---------------------------------------------------------------------------------


def test_api_errors_are_one_clear_line(tmp_path):
    from heritage.project import ProjectError
    from loaders import LoadError
    from viewer.api import open_files, open_project

    with pytest.raises(ProjectError):
        bad = tmp_path / "bad.realscene.json"
        bad.write_text("{ not json", encoding="utf-8")
        open_project(bad)
    with pytest.raises(LoadError):
        open_files(tmp_path / "missing.laz")
    with open_files(SAMPLE / "delft.city.json") as site:
        layer = site.layer("delft.city.json")
        with pytest.raises(ValueError, match="intensity"):
            layer.color_by = "intensity"
        with pytest.raises(KeyError, match="delft.city.json"):
            site.layer("nope")
        with pytest.raises(ValueError, match="no view named .Nowhere."):
            site.render(tmp_path / "x.png", size=(64, 40), view="Nowhere")
        with pytest.raises(ValueError, match="PNG"):
            site.render(tmp_path / "x.jpg")
        with pytest.raises(ValueError, match="no file yet"):
            site.save()
        with pytest.raises(KeyError, match="no tours"):
            site.render_tour("t", tmp_path / "frames")


def test_layer_edits_are_undoable(tmp_path):
    from viewer.api import open_files

    with open_files(SAMPLE / "delft.city.json") as site:
        layer = site.layer("delft.city.json")
        before = layer.color_by
        attribute = next(a for a in layer.attributes if a not in layer.color_modes)
        layer.color_by = attribute
        assert layer.layer.color_mode == "attribute" and layer.color_by == attribute
        layer.opacity = 0.5
        site.undo()
        site.undo()
        assert layer.color_by == before and layer.opacity == 1.0
        site.redo()
        assert layer.color_by == attribute


def test_assign_crs_through_the_api(tmp_path):
    """A survey without CRS record: ``site.assign_crs`` reads it again as EPSG:4547 (the
    window's Assign CRS… edit: undoable, saved with the project, used on reopening);
    ``open_files(..., crs=)`` and ``add_file(..., crs=)`` give it when opening."""
    from loaders.crs import epsg_code
    from tests.loaders.test_cgcs2000 import write_survey_las
    from viewer.api import open_files, open_project

    bare = tmp_path / "屋脊 survey.las"
    xyz = write_survey_las(bare, None, prefixed=False)
    prefixed = tmp_path / "prefixed.las"
    write_survey_las(prefixed, None, prefixed=True)
    with open_files(bare) as site:
        layer = site.layer(bare.name)
        assert layer.crs is None and site.crs is None and layer.assigned_crs is None
        handle = site.assign_crs(bare.name, "EPSG:4547")
        assert epsg_code(handle.crs) == 4547 and epsg_code(site.crs) == 4547
        assert layer.assigned_crs == "EPSG:4547"
        np.testing.assert_allclose(layer.bounds[0], xyz.min(axis=0), atol=5e-4)
        site.undo()
        assert layer.crs is None and site.crs is None
        site.redo()
        assert epsg_code(layer.crs) == 4547
        # the same area with the zone prefix in its eastings: 4526, moved onto the first
        other = site.add_file(prefixed, crs="EPSG:4526")
        np.testing.assert_allclose(other.bounds[0], xyz.min(axis=0), atol=2e-3)
        with pytest.raises(ValueError, match="not a coordinate reference system"):
            site.assign_crs(layer, "+proj=bogus")
        with pytest.raises(KeyError, match="no layer named"):
            site.assign_crs("nope.las", "EPSG:4547")
        project = site.save(tmp_path / "项目.realscene.json")
    saved = json.loads(project.read_text(encoding="utf-8"))
    assert [r.get("crs") for r in saved["layers"]] == ["EPSG:4547", "EPSG:4526"]
    with open_project(project) as reopened:
        assert [epsg_code(l.crs) for l in reopened.layers] == [4547, 4547]
        assert [l.assigned_crs for l in reopened.layers] == ["EPSG:4547", "EPSG:4526"]
    with open_files(bare, prefixed, crs={bare: "EPSG:4547", prefixed: "EPSG:4526"}) as s2:
        np.testing.assert_allclose(s2.layer("prefixed.las").bounds[0], xyz.min(axis=0),
                                   atol=2e-3)
    with pytest.raises(ValueError, match="not one of the files"):
        open_files(bare, crs={"other.las": "EPSG:4547"})
