"""The Qt-free scene pipeline (viewer/pipeline.py) and off-screen renderer
(viewer/offscreen.py): files in different CRSs end up in one, projects open with their
display state, saved views render by name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample_site"
SAMPLE_PROJECT = SAMPLE / "delft.realscene.json"
UTM31N = "EPSG:32631"


def write_cityjson_in(src: Path, out: Path, crs: str = UTM31N) -> Path:
    """``src`` (a CityJSON in RD New, EPSG:7415/28992) with its vertices transformed with
    pyproj into ``crs`` (x, y; heights kept), written as a new CityJSON whose
    ``referenceSystem`` says so."""
    from pyproj import Transformer

    doc = json.loads(src.read_text(encoding="utf-8"))
    tf = doc["transform"]
    xyz = np.asarray(doc["vertices"], np.float64) * tf["scale"] + tf["translate"]
    to = Transformer.from_crs("EPSG:28992", crs, always_xy=True)
    x, y = to.transform(xyz[:, 0], xyz[:, 1])
    moved = np.column_stack([x, y, xyz[:, 2]])
    origin = np.floor(moved.min(axis=0))
    step = 1e-8 if to.target_crs.is_geographic else 0.001  # ~1 mm in degrees too
    scale = np.array([step, step, 0.001])
    doc["transform"] = {"scale": scale.tolist(), "translate": origin.tolist()}
    doc["vertices"] = np.round((moved - origin) / scale).astype(np.int64).tolist()
    code = crs.split(":")[1]
    doc.setdefault("metadata", {})["referenceSystem"] = \
        f"https://www.opengis.net/def/crs/EPSG/0/{code}"
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


def cityjson_bounds(path: Path) -> tuple[np.ndarray, np.ndarray]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    tf = doc["transform"]
    xyz = np.asarray(doc["vertices"], np.float64) * tf["scale"] + tf["translate"]
    return xyz.min(axis=0), xyz.max(axis=0)


def true_bounds(layer) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = layer.data.bounds
    return np.asarray(lo, np.float64), np.asarray(hi, np.float64)


@pytest.fixture(scope="module")
def utm_model(tmp_path_factory) -> Path:
    return write_cityjson_in(SAMPLE / "delft.city.json",
                             tmp_path_factory.mktemp("utm") / "delft_utm.city.json")


def test_files_in_different_crss_land_in_the_first_layers_crs(utm_model):
    from loaders.crs import same_crs
    from viewer import pipeline

    warnings: list[str] = []
    scene = pipeline.open_files([str(SAMPLE / "delft.city.json"), str(utm_model)],
                                on_warning=warnings.append)
    assert same_crs(scene.crs, "EPSG:7415")
    rd, utm = scene.layers
    assert utm.data.crs is not None and same_crs(utm.data.crs, scene.crs)
    lo, hi = cityjson_bounds(SAMPLE / "delft.city.json")
    ulo, uhi = true_bounds(utm)
    # the model made in UTM 31N lands where the RD original is (pyproj both ways)
    assert np.abs(ulo[:2] - lo[:2]).max() < 0.05 and np.abs(uhi[:2] - hi[:2]).max() < 0.05
    np.testing.assert_allclose(true_bounds(rd)[0], lo, atol=0.002)
    pipeline.close_scene(scene)


def test_geographic_file_first_is_drawn_in_a_metric_crs(utm_model, tmp_path):
    """Degrees first: the pipeline draws them in a metric CRS (prepare_for_scene), and
    that CRS becomes the scene's."""
    from pyproj import CRS

    from viewer import pipeline

    wgs84 = write_cityjson_in(SAMPLE / "delft.city.json", tmp_path / "wgs.city.json",
                              "EPSG:4326")
    scene = pipeline.open_files([str(wgs84)])
    assert not CRS.from_user_input(scene.crs).is_geographic
    lo, hi = true_bounds(scene.layers[0])
    assert (hi - lo)[:2].max() > 100  # metres, not degrees


def test_open_project_restores_display_state_views_and_crs():
    from loaders.crs import same_crs
    from viewer import pipeline

    session = pipeline.open_project(SAMPLE_PROJECT)
    scene = session.scene
    assert same_crs(scene.crs, "EPSG:28992")
    assert [layer.name for layer in scene.layers] == ["testarea.obj", "delft_ahn3.laz",
                                                      "delft.city.json"]
    mesh, scan, city = scene.layers
    assert mesh.opacity == 0.6
    assert scan.color_mode == "classification" and scan.lod is not None
    assert city.visible is False and city.color_mode == "type"
    assert [v.name for v in scene.views][:2] == ["Overview", "Roof close-up"]
    assert len(session.project.annotations) == 5
    pipeline.close_scene(scene)


def test_open_project_reports_unreadable_layers_and_keeps_the_others(tmp_path):
    from heritage.project import LayerRecord, Project
    from viewer import pipeline

    broken = tmp_path / "broken.laz"
    broken.write_bytes(b"LASF" + b"\0" * 50)
    project = Project(crs="EPSG:28992", layers=[
        LayerRecord(path=str(SAMPLE / "delft.city.json"), name="city"),
        LayerRecord(path="broken.laz", name="broken"),
        LayerRecord(path="gone.obj", name="gone")])
    path = project.save(tmp_path / "p.realscene.json")
    warnings: list[str] = []
    session = pipeline.open_project(path, on_warning=warnings.append)
    assert [layer.name for layer in session.scene.layers] == ["city"]
    assert any("broken.laz" in w and "left out" in w for w in warnings), warnings
    assert any("gone.obj" in w and "not found" in w for w in warnings), warnings


def test_is_project():
    from viewer.pipeline import is_project

    assert is_project(SAMPLE_PROJECT)
    assert not is_project(SAMPLE / "delft.city.json")


def test_offscreen_renders_presets_and_saved_views_by_name():
    from viewer import pipeline
    from viewer.offscreen import OffscreenRenderer, UnknownView

    session = pipeline.open_project(SAMPLE_PROJECT)
    bg = np.round(np.array(session.scene.background) * 255)
    with OffscreenRenderer(session.scene, (160, 100), session=session) as r:
        overview = r.image("Overview")
        top = r.image("top")
        png = r.png("Overview")
        with pytest.raises(UnknownView, match="'Overview', 'Roof close-up'"):
            r.image("No such view")
        pin = r.annotation_png(session.project.annotations[0])
    assert overview.shape == top.shape == (100, 160, 3)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and pin[:8] == b"\x89PNG\r\n\x1a\n"
    for img in (overview, top):
        assert (np.abs(img.astype(int) - bg).sum(axis=2) > 30).mean() > 0.2
    assert np.abs(overview.astype(int) - top.astype(int)).mean() > 10
    pipeline.close_scene(session.scene)
