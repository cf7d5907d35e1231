"""Layer units and up axis, the unit measurements are shown in, whether a file fits the
scene's CRS, New/Close project and the opening view, in the core (no Qt)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import loaders
from heritage.measure import format_value, project_unit
from heritage.model import Annotation, Measurement
from heritage.project import Project
from viewer import pipeline
from viewer.scene import Scene, layer_bounds
from viewer.session import ProjectSession
from viewer.units import check_units, scene_length_unit

ROOT = Path(__file__).resolve().parents[2]
DELFT = ROOT / "assets" / "sample_site" / "delft.realscene.json"


@pytest.fixture
def gargo(shared_data):
    return shared_data / "meshes" / "gargo.ply"


def _extent(layer) -> np.ndarray:
    lo, hi = layer_bounds(layer)
    return hi - lo


def test_units_scale_a_layer_into_metres_and_back(gargo):
    scene = Scene()
    layer = scene.add(loaders.read(gargo), path=str(gargo))
    assert layer.units is None and scene_length_unit(scene) == "units"
    size = _extent(layer)
    lo_before = layer_bounds(layer)[0]
    scene.update(layer, units="mm")
    np.testing.assert_allclose(_extent(layer), size * 0.001, rtol=1e-5)
    np.testing.assert_allclose(layer_bounds(layer)[0], lo_before * 0.001, rtol=1e-5,
                               atol=1e-6)
    assert layer.data.metadata["units"] == "mm" and scene_length_unit(scene) == "m"
    from viewer.decorations import scene_units

    assert scene_units(scene) == "m"  # the scale bar says metres too
    scene.update(layer, units="ft")  # from millimetres to feet: x 304.8
    np.testing.assert_allclose(_extent(layer), size * 0.3048, rtol=1e-5)
    scene.update(layer, units="none")  # its numbers again, in "units"
    np.testing.assert_allclose(_extent(layer), size, rtol=1e-5)
    assert layer.units is None and scene_length_unit(scene) == "units"
    with pytest.raises(ValueError, match="units must be one of"):
        scene.update(layer, units="furlong")


def test_georeferenced_layers_take_units_from_their_crs(shared_data):
    path = shared_data / "pointclouds" / "autzen_trim.laz"  # Lambert, international feet
    scene = Scene()
    layer = scene.add(loaders.read(path), path=str(path))
    assert scene_length_unit(scene) == "ft"
    with pytest.raises(ValueError, match="georeferenced"):
        scene.update(layer, units="mm")
    assert check_units("M") == "m" and check_units("units") is None


def test_measurements_without_units_say_units():
    assert format_value("distance", 2.5, "units") == "2.500 units"
    assert format_value("area", 2.5, "units") == "2.500 units²"
    from heritage.project import LayerRecord

    project = Project(layers=[LayerRecord(path="gargo.ply", display={})])
    assert project_unit(project) is None  # shown as "units"
    project.layers[0].display["units"] = "mm"
    assert project_unit(project) == "m"  # scaled into metres
    assert project_unit(Project(crs="EPSG:28992")) == "m"
    assert project_unit(Project(crs="EPSG:2994")) == "ft"  # Oregon Lambert, feet


def test_up_axis_for_any_mesh_and_point_layer(gargo, shared_data):
    scene = Scene()
    layer = scene.add(loaders.read(gargo), path=str(gargo))
    assert layer.up_axis == "Z"  # as stored
    size = _extent(layer)
    scene.update(layer, up_axis="Y")  # a Y-up scan lying on its back stands up
    np.testing.assert_allclose(_extent(layer), size[[0, 2, 1]], rtol=1e-5)
    assert "turned upright" in layer.data.metadata["up_axis_note"]
    scene.update(layer, up_axis="Z")
    np.testing.assert_allclose(_extent(layer), size, rtol=1e-5)
    cloud = shared_data / "pointclouds" / "lion_takanawa.copc.laz"
    points = scene.add(loaders.read(cloud), path=str(cloud))
    assert points.up_axis == "Z"
    # a georeferenced layer is Z-up by its CRS: no choice
    geo = shared_data / "pointclouds" / "autzen-bmx-2010.las"
    assert Scene().add(loaders.read(geo), path=str(geo)).up_axis is None


def test_streamed_layers_refuse_units_and_up_axis(gargo):
    scene = Scene()
    layer = scene.add(loaders.read(gargo), path=str(gargo))
    layer.lod = object()  # a streamed COPC source (not an in-memory octree)
    with pytest.raises(ValueError, match="streams from a COPC"):
        scene.update(layer, units="mm")
    with pytest.raises(ValueError, match="streams from a COPC"):
        scene.update(layer, up_axis="Y")


def test_units_and_up_axis_are_saved_and_restored(gargo, tmp_path):
    scene = Scene()
    layer = scene.add(loaders.read(gargo), path=str(gargo))
    size = _extent(layer)
    session = ProjectSession(scene, Project(), untitled_recovery=tmp_path / "r.json")
    session.update_layer(layer, units="mm")
    session.update_layer(layer, up_axis="Y")
    out = session.save(tmp_path / "heritage.realscene.json")
    record = Project.load(out).layers[0]
    assert record.display["units"] == "mm" and record.display["up_axis"] == "Y"
    session.undo.undo()  # undoable like any display change
    session.undo.undo()
    assert layer.units is None and layer.up_axis == "Z"
    np.testing.assert_allclose(_extent(layer), size, rtol=1e-5)
    reopened = pipeline.open_project(out)
    again = reopened.scene.layers[0]
    assert again.units == "mm" and again.up_axis == "Y"
    np.testing.assert_allclose(_extent(again), size[[0, 2, 1]] * 0.001, rtol=1e-5)
    assert scene_length_unit(reopened.scene) == "m"
    # the project schema knows the units
    import json

    from heritage.project import ProjectError

    doc = json.loads(out.read_text())
    doc["layers"][0]["display"]["units"] = "furlong"
    bad = tmp_path / "bad.realscene.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ProjectError, match="furlong"):
        Project.load(bad)


def test_a_file_that_does_not_fit_the_scene_crs(gargo, shared_data):
    delft = pipeline.open_project(DELFT)
    scene = delft.scene
    assert scene.crs is not None
    heritage = pipeline.load(str(gargo), scene.crs)
    fit = pipeline.crs_fit(scene, heritage.data, "gargo.ply")
    assert fit.kind == "no_crs" and "gargo.ply has no coordinate system" in fit.message
    assert "Amersfoort / RD New" in fit.message
    feet = pipeline.load(str(shared_data / "pointclouds" / "autzen-bmx-2010.las"),
                         scene.crs, with_lod=False)
    fit = pipeline.crs_fit(scene, feet.data, "autzen")
    assert fit.kind == "other_crs" and "Oregon LCC" in fit.message  # transformed from it
    # an empty scene takes any file; a georeferenced file into a local scene does not fit
    assert pipeline.crs_fit(Scene(), heritage.data) is None
    local = Scene()
    local.add(loaders.read(gargo), path=str(gargo))
    assert pipeline.crs_fit(local, feet.data).kind == "georeferenced"
    # the same CRS fits; so does a file without CRS whose numbers lie on the scene (a
    # survey delivered without its CRS record) and a georeferenced file onto such a scan
    same = pipeline.load(str(ROOT / "assets" / "sample_site" / "delft.city.json"), scene.crs)
    assert pipeline.crs_fit(scene, same.data) is None
    ahn3 = pipeline.load(str(shared_data / "pointclouds" / "ahn3_cropped_2.laz"), scene.crs,
                         with_lod=False)
    assert ahn3.data.crs is None and pipeline.crs_fit(scene, ahn3.data) is None
    scan_only = Scene()
    scan_only.add(ahn3.data, path="ahn3_cropped_2.laz")
    assert pipeline.crs_fit(scan_only, same.data) is None
    # a scene of empty layers (files without points) places nothing: anything fits
    empty = Scene()
    empty.add(loaders.PointCloud(np.zeros((0, 3), np.float32), np.zeros(3)), name="empty")
    assert pipeline.crs_fit(empty, feet.data) is None
    # "add anyway" places the unitless mesh at the scene's centre, out of its own numbers
    layer = pipeline.add_to_scene(scene, heritage)
    assert pipeline.place_in_scene(scene, layer)
    lo, hi = scene.bounds([l for l in scene.layers if l is not layer])
    llo, lhi = layer_bounds(layer)
    np.testing.assert_allclose((llo[:2] + lhi[:2]) / 2, (lo[:2] + hi[:2]) / 2, atol=1e-6)
    assert llo[2] == pytest.approx(lo[2])
    assert not pipeline.place_in_scene(scene, layer)  # in place now


def test_the_command_line_warns_about_a_file_in_another_crs(gargo, shared_data):
    warnings: list[str] = []
    geo = shared_data / "pointclouds" / "autzen-bmx-2010.las"
    scene = pipeline.open_files([str(geo), str(gargo)], on_warning=warnings.append)
    assert len(scene.layers) == 2
    assert any(str(gargo) in w and "no coordinate system" in w and "added as it is" in w
               for w in warnings), warnings


def test_new_and_close_project_empty_the_session(tmp_path):
    session = pipeline.open_project(DELFT)
    session.untitled_recovery = tmp_path / "untitled.json"
    assert session.scene.layers and session.project.annotations and session.scene.views
    session.add_measurement(Measurement("distance", [[0, 0, 0], [1, 0, 0]]))
    events: list[str] = []
    for name in ("annotations_changed", "measurements_changed", "views_changed"):
        session.scene.connect(name, lambda n=name, **kw: events.append(n))
    session.new_project()
    assert not session.scene.layers and session.scene.crs is None
    assert session.project.path is None and not session.project.annotations
    assert not session.project.measurements and not session.scene.views
    assert not session.dirty and not session.undo.can_undo()
    assert {"annotations_changed", "measurements_changed", "views_changed"} <= set(events)
    session.add_annotation(Annotation("point", [[0, 0, 0]], title="x"))
    session.close_project()
    assert not session.project.annotations and not session.dirty


def test_a_project_opens_on_its_first_saved_view():
    session = pipeline.open_project(DELFT)
    assert session.opening_view().name == "Overview"
    assert ProjectSession(Scene()).opening_view() is None


def test_render_without_a_view_uses_the_first_saved_view(tmp_path):
    from viewer.api import open_project

    size = (160, 100)
    with open_project(DELFT) as site:
        default = site.render(tmp_path / "default.png", size=size)
        overview = site.render(tmp_path / "overview.png", size=size, view="Overview")
        iso = site.render(tmp_path / "iso.png", size=size, view="iso")
    from PIL import Image

    def pixels(p):
        return np.asarray(Image.open(p).convert("RGB"), dtype=int)

    assert np.abs(pixels(default) - pixels(overview)).mean() < 1.0
    assert np.abs(pixels(default) - pixels(iso)).mean() > 3.0
