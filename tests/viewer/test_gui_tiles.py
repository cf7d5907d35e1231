"""Tiled layers (3D Tiles, OSGB, terrain) in the real window: opening them (File > Open,
Open folder, drag and drop), the Properties box (detail, memory, live status), projects
that save and reopen them, and the event loop while tiles stream.

A quadtree TileSet built here from the real Delft city mesh stands in where a reader's
file is not needed (the detail control, the status line); the readers' own files (the
Cesium 3D Tiles sample, an OSGB pyramid, a GeoTIFF DEM) go through the window's open
path when their reader is in the tree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loaders import Mesh, read
from loaders.tiles import Tile, TileContent, TileSet
from loaders.types import split_origin

from .gui_support import (
    GapProbe,
    background_u8,
    non_background_fraction,
    open_and_wait,
    view_image,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DELFT = DATA / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
CESIUM = DATA / "tiles" / "TilesetWithRequestVolume" / "tileset.json"


# ---- a real-mesh quadtree ----------------------------------------------------------------
class DelftQuadtree(TileSet):
    """The Delft LOD1 city mesh as a quadtree: each tile holds the faces whose centroid
    lies in its square, coarser levels keep every ``2 ** (levels - depth)``-th face."""

    format_name = "test quadtree"

    def __init__(self, levels: int = 3) -> None:
        mesh = read(DELFT)
        self.mesh = mesh
        self.levels = levels
        self.true_vertices = mesh.vertices.astype(np.float64) + mesh.origin
        self.centroids = self.true_vertices[mesh.faces].mean(axis=1)
        lo, hi = self.true_vertices.min(axis=0), self.true_vertices.max(axis=0)
        half = float(max(hi[0] - lo[0], hi[1] - lo[1])) / 2.0
        centre = (lo + hi) / 2.0
        root = self._tile("r", centre, half, np.arange(len(mesh.faces)), 0)
        super().__init__(str(DELFT), root, native_crs=None)

    def _tile(self, key: str, centre, half: float, faces: np.ndarray, depth: int) -> Tile:
        error = 0.0 if depth >= self.levels else half / 4.0
        radius = float(np.hypot(half, half) + 20.0)
        return Tile(key, np.asarray(centre, np.float64), radius, error,
                    content=(faces, depth), extra={"half": half})

    def _expand(self, tile: Tile) -> list[Tile]:
        faces, depth = tile.content
        if depth >= self.levels:
            return []
        half = tile.extra["half"] / 2.0
        kids = []
        for i, (sx, sy) in enumerate(((-1, -1), (1, -1), (-1, 1), (1, 1))):
            c = self._native_centres.get(id(tile), tile.center) + np.array([sx, sy, 0]) * half
            inside = faces[(np.abs(self.centroids[faces, 0] - c[0]) <= half)
                           & (np.abs(self.centroids[faces, 1] - c[1]) <= half)]
            if len(inside):
                kids.append(self._tile(f"{tile.key}{i}", c, half, inside, depth + 1))
        return kids

    def _load(self, tile: Tile, cancel) -> TileContent:
        faces, depth = tile.content
        faces = faces[::2 ** (self.levels - depth)]
        used, inverse = np.unique(self.mesh.faces[faces], return_inverse=True)
        vertices, origin = split_origin(self.true_vertices[used])
        mesh = Mesh(vertices=vertices, origin=origin,
                    faces=inverse.reshape(-1, 3).astype(np.int32))
        return TileContent(meshes=[mesh])


def add_quadtree(win, levels: int = 3):
    from viewer import pipeline

    tileset = DelftQuadtree(levels)
    layer = pipeline.add_to_scene(win.scene, pipeline.Loaded(str(DELFT), tileset, None,
                                                             False, None))
    win.scene.select(layer)
    return layer


def data_only(win) -> None:
    """Pixel probes see only the data (no axes, north arrow, scale bar or credits)."""
    win.scene.set_decorations(axes=False, scale_bar=False, north_arrow=False,
                              attribution=False)


def settle(qtbot, win, layer, timeout_ms: int = 30_000) -> dict:
    """Let the window stream until nothing is pending and every drawn tile has its
    actors; returns the status line's counts."""
    def done() -> bool:
        draw = win.renderer.tile_draw(layer)
        if draw is None:
            return False
        stats = draw.stream.stats()
        if stats["pending"] or draw.behind or not stats["drawn"]:
            return False
        sel = draw.stream.update(draw.view())
        # nothing more to fetch, and the actors are those of the selection
        return not sel.fetch and set(draw.shown) == {id(t) for t in sel.draw}
    qtbot.waitUntil(done, timeout=timeout_ms)
    return win.tile_status(layer)


# ---- tests ---------------------------------------------------------------------------------
def test_open_filter_and_folder_actions(window, tmp_path):
    from viewer.qt.project_actions import file_filter, folder_source

    text = file_filter()
    for name in ("tileset.json", "metadata.xml", "*.osgb", "*.tif"):
        assert name in text
    assert window.project_actions.open_folder_action.text()
    folder = tmp_path / "t3d"
    folder.mkdir()
    assert folder_source(folder) == str(folder)  # an OSGB folder: the folder itself
    (folder / "tileset.json").write_text("{}")
    assert folder_source(folder) == str(folder / "tileset.json")


def test_properties_detail_status_and_event_loop(window, qtbot):
    """A tile layer streams in the window: the city shows, the status line counts the
    tiles, the detail control draws more tiles when finer; the longest event-loop gap
    while streaming is measured and reported."""
    probe = GapProbe(window)
    window.resize(1400, 900)
    layer = add_quadtree(window)
    box = window.properties_panel.tiles
    assert box.isVisible() and box.layer is layer
    window.view_preset("top")
    data_only(window)
    status = settle(qtbot, window, layer)
    assert status["drawn"] > 0 and status["loaded"] >= status["drawn"]
    bg = background_u8(window)
    tiled = non_background_fraction(view_image(window), bg)
    # the city shows: about as much of the view as the whole mesh drawn as one layer
    whole = window.scene.add(read(DELFT), path=str(DELFT))
    window.scene.update(layer, visible=False)
    full = non_background_fraction(view_image(window), bg)
    window.scene.remove(whole)
    window.scene.update(layer, visible=True)
    window.scene.select(layer)
    assert full > 0.005 and tiled > 0.4 * full, (tiled, full)  # (coarse: half the faces)
    qtbot.waitUntil(lambda: "drawn" in box.status.text(), timeout=5000)
    # finer: more tiles drawn (streamed while the window runs); coarser: fewer
    probe.start()
    box.detail.setValue(1)
    assert layer.max_sse == 1.0
    fine = settle(qtbot, window, layer)["drawn"]
    probe.stop()
    print(f"\nlongest event-loop gap while the quadtree streamed: {probe.longest_ms():.0f} "
          f"ms ({len(probe.gaps)} ticks of 10 ms)")
    box.detail.setValue(64)
    assert layer.max_sse == 64.0
    coarse = settle(qtbot, window, layer)["drawn"]
    assert fine > coarse, (fine, coarse)
    # the detail change is one undoable edit
    window.session.undo.undo()
    assert layer.max_sse == 1.0 and box.detail.value() == 1
    box.memory.setValue(256)
    box.memory.editingFinished.emit()
    assert layer.tile_memory_mb == 256
    assert window.renderer.tile_draw(layer).stream.max_bytes == 256 * 2**20
    # the layer tree names its kind
    item = window.layer_panel.tree.topLevelItem(0)
    assert "tiles" in item.text(1)


def test_project_records_tile_settings(window, tmp_path):
    """A tile layer's detail and memory go into the project's display settings (valid
    against the schema) and come back on a layer read for that record."""
    from heritage.project import Project

    layer = add_quadtree(window, levels=1)
    window.session.update_layer(layer, max_sse=4.0, tile_memory_mb=128, opacity=0.5)
    out = window.session.save(tmp_path / "p.realscene.json")
    project = Project.load(out)  # validated against the schema
    display = project.layers[0].display
    assert display["max_sse"] == 4.0 and display["tile_memory_mb"] == 128
    assert display["opacity"] == 0.5
    other = add_quadtree(window, levels=1)
    window.session.restore_layer(other, project.layers[0])
    assert other.max_sse == 4.0 and other.tile_memory_mb == 128 and other.opacity == 0.5


def test_project_keeps_urls_and_tileset_folders(tmp_path):
    """A streamed URL stays a URL in a project (not made relative, never missing, its
    host named when opened); a tileset folder is not a missing file."""
    from heritage.project import LayerRecord, Project

    folder = tmp_path / "osgb_site"
    folder.mkdir()
    url = "https://tiles.example.org/city/tileset.json"
    project = Project(path=tmp_path / "a.realscene.json")
    project.layers = [LayerRecord(path=project.relative(url), name="city"),
                      LayerRecord(path=project.relative(folder), name="osgb")]
    assert project.layers[0].path == url
    assert project.missing_layers() == []
    assert project.location(url) == url
    project.save()
    moved = tmp_path / "sub"
    moved.mkdir()
    project.save(moved / "b.realscene.json")
    again = Project.load(moved / "b.realscene.json")
    assert again.layers[0].path == url
    assert again.absolute(again.layers[1].path) == folder.resolve()
    assert any("tiles.example.org" in w for w in again.warnings)


# ---- the readers' files through the window's open path -------------------------------------
def _reader(module: str):
    try:
        __import__(module)
    except ImportError:
        pytest.skip(f"{module} is not in the tree yet")


def test_open_cesium_sample_project_round_trip(window, qtbot, tmp_path):
    """The Cesium 3D Tiles sample opens through the window's open path, streams (the
    city shows), saves in a project with its settings and reopens with them."""
    _reader("loaders.tiles.tiles3d")
    open_and_wait(qtbot, window, CESIUM)
    assert not window.errors, window.errors
    layer = window.scene.layers[0]
    assert layer.is_tiles
    window.scene.select(layer)
    window.resize(1400, 900)
    window.renderer.fit()  # (the tileset's box in the scene CRS, no zoom needed)
    data_only(window)
    settle(qtbot, window, layer)
    bg = background_u8(window)
    shown = non_background_fraction(view_image(window), bg)
    window.scene.update(layer, visible=False)
    hidden = non_background_fraction(view_image(window), bg)
    window.scene.update(layer, visible=True)
    assert shown > 0.01 and hidden < shown / 10, (shown, hidden)  # the city, not background
    window.properties_panel.tiles.detail.setValue(8)
    window.session.update_layer(layer, opacity=0.7)
    out = window.session.save(tmp_path / "cesium.realscene.json")
    window.project_actions.close_project()
    assert not window.scene.layers
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        window.project_actions.open_project(str(out))
    qtbot.waitUntil(lambda: bool(window.scene.layers), timeout=10_000)
    again = window.scene.layers[0]
    assert again.is_tiles and again.max_sse == 8.0 and again.opacity == pytest.approx(0.7)



def drop(win, *paths) -> None:
    """Drop files / folders on the window as a file manager does."""
    from PySide6 import QtCore, QtGui

    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(p)) for p in paths])
    event = QtGui.QDropEvent(QtCore.QPointF(300, 200), QtCore.Qt.CopyAction, mime,
                             QtCore.Qt.LeftButton, QtCore.Qt.NoModifier)
    win.dropEvent(event)


def test_drop_osgb_folder_with_point_cloud(window, qtbot, tmp_path):
    """An OSGB tileset folder (built with OpenSceneGraph from the Delft city mesh) and
    the AHN3 point cloud of the same place, dropped together: one scene CRS, the tiles
    stream where the points are."""
    _reader("loaders.tiles.osgb")
    from tests.loaders.osgb_support import build_osgb_tileset

    built = build_osgb_tileset(tmp_path / "delft_osgb", grid=(2, 2), levels=2,
                               texture_px=128)
    laz = Path(__file__).resolve().parents[2] / "assets" / "sample_site" / "delft_ahn3.laz"
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        drop(window, built.path, laz)
    assert not window.errors, window.errors
    tiles = next(l for l in window.scene.layers if l.is_tiles)
    cloud = next(l for l in window.scene.layers if not l.is_tiles)
    assert tiles.data.metadata["format"] == "OSGB"
    assert "28992" in str(window.scene.crs)
    window.scene.select(tiles)
    status = settle(qtbot, window, tiles)
    assert status["drawn"] > 0
    lo, hi = tiles.data.bounds
    xyz = cloud.data.positions.astype(np.float64) + cloud.data.origin
    inside = np.all((xyz[:, :2] >= lo[:2]) & (xyz[:, :2] <= hi[:2]), axis=1).mean()
    assert inside > 0.5  # the same place
    item = window.layer_panel.tree.findItems(tiles.name, __import__("PySide6").QtCore
                                             .Qt.MatchContains)[0]
    assert "OSGB" in item.text(1)


def test_open_folder_action_reads_the_tileset_json(window, qtbot, monkeypatch):
    """File > Open folder… on a 3D Tiles folder opens its tileset.json."""
    _reader("loaders.tiles.tiles3d")
    from PySide6 import QtWidgets

    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(CESIUM.parent)))
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        window.project_actions.open_folder_action.trigger()
    assert not window.errors, window.errors
    assert window.scene.layers[0].is_tiles
    # (the same file: shared data reached through a link resolves to its target)
    assert Path(window.scene.layers[0].path).resolve() == CESIUM.resolve()


def test_geotiff_dem_hillshade_and_drape(window, qtbot, tmp_path):
    """A DEM GeoTIFF (AHN3 ground) opens as terrain: hillshade is offered and drawn;
    Drape orthophoto… textures it in a background job (the tiles are read again)."""
    _reader("loaders.tiles.terrain")
    from tests.loaders.terrain_support import make_ahn3_dem, make_ahn3_ortho

    dem = make_ahn3_dem(tmp_path / "dem.tif", cell=1.0)
    ortho = make_ahn3_ortho(tmp_path / "ortho.tif", cell=0.5)
    open_and_wait(qtbot, window, dem)
    assert not window.errors, window.errors
    layer = window.scene.layers[0]
    window.scene.select(layer)
    assert layer.is_tiles and "hillshade" in layer.available_color_modes()
    box = window.properties_panel.tiles
    assert box.drape_button.isVisibleTo(box)
    data_only(window)
    window.view_preset("top")
    window.session.update_layer(layer, color_mode="hillshade")
    settle(qtbot, window, layer)
    bg = background_u8(window)
    shaded = view_image(window)
    assert non_background_fraction(shaded, bg) > 0.2  # (the fit frames the DEM's extent)
    job = box.drape_dialog(str(ortho))
    qtbot.waitUntil(lambda: job.done and box.drape_job is None, timeout=30_000)
    assert layer.color_mode == "material" and layer.data.colour == "texture"
    settle(qtbot, window, layer)
    draw = window.renderer.tile_draw(layer)
    textured = [c for _t, c in draw.stream.drawn()
                if any(p.material.texture is not None for m in c.meshes for p in m.parts)]
    assert textured, "no drawn tile carries the orthophoto"
    draped = view_image(window)
    assert np.abs(draped.astype(int) - shaded.astype(int)).sum(axis=2).mean() > 5


@pytest.fixture
def served_cesium(tmp_path):
    """A copy of the Cesium sample served over HTTP from a local server thread."""
    import shutil

    from tests.loaders.test_http_limits import Handler, serve_directory

    root = tmp_path / "www"
    shutil.copytree(CESIUM.parent, root / "cesium")
    server, url, _ = serve_directory(Handler, root)
    yield f"{url}/cesium/tileset.json"
    server.shutdown()
    server.server_close()


def test_open_url_of_a_tileset_and_reopen_the_project(window, qtbot, tmp_path,
                                                      served_cesium, monkeypatch):
    """File > Open URL… streams a 3D Tiles tileset.json over HTTP; the project keeps the
    URL and reopens it; Close project closes the stream."""
    _reader("loaders.tiles.tiles3d")
    from PySide6 import QtWidgets

    monkeypatch.setattr(QtWidgets.QInputDialog, "getText",
                        staticmethod(lambda *a, **k: (served_cesium, True)))
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        window.open_url_action.trigger()
    assert not window.errors, window.errors
    layer = window.scene.layers[0]
    assert layer.is_tiles and layer.path == served_cesium
    status = settle(qtbot, window, layer)
    assert status["drawn"] > 0
    out = window.session.save(tmp_path / "web.realscene.json")
    draw = window.renderer.tile_draw(layer)
    window.project_actions.close_project()
    assert draw.stream.stats()["loaded"] == 0 and draw.stream._closed
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        window.project_actions.open_project(str(out))
    qtbot.waitUntil(lambda: bool(window.scene.layers), timeout=10_000)
    again = window.scene.layers[0]
    assert again.is_tiles and again.path == served_cesium
    settle(qtbot, window, again)


def test_broken_tiles_warn_once_and_a_broken_tileset_is_one_message(window, qtbot, tmp_path):
    """A tileset whose city tiles are truncated streams the rest and lists the failed
    tiles in Properties (said once in the status bar); a tileset.json that is not one is
    refused with the load-error box, not a traceback."""
    _reader("loaders.tiles.tiles3d")
    import shutil

    from PySide6 import QtWidgets

    copy = tmp_path / "cesium"
    shutil.copytree(CESIUM.parent, copy)
    for b3dm in (copy / "city").glob("*.b3dm"):
        data = b3dm.read_bytes()
        b3dm.chmod(0o644)
        b3dm.write_bytes(data[: len(data) // 3])
    open_and_wait(qtbot, window, copy / "tileset.json")
    layer = window.scene.layers[0]
    window.scene.select(layer)
    window.plotter.camera.zoom(4.0)
    box = window.properties_panel.tiles
    qtbot.waitUntil(lambda: bool(layer.data.warnings), timeout=30_000)
    box.refresh_status()
    assert "⚠" in box.warnings.text()
    assert set(layer.data.warnings) <= box._said[layer.id]  # said in the status bar
    window.statusBar().clearMessage()
    box.refresh_status()  # the same warnings again: not said twice
    assert "could not be read" not in window.statusBar().currentMessage()

    bad = tmp_path / "bad" / "tileset.json"
    bad.parent.mkdir()
    bad.write_text('{"asset": {"version": "1.0"}, "geometricError": 10, "root": 5}')
    with qtbot.waitSignal(window.all_loads_finished, timeout=30_000):
        window.open_paths([str(bad)])
    assert len(window.errors) == 1 and "Traceback" not in window.errors[0]
    boxes = [w for w in QtWidgets.QApplication.topLevelWidgets()
             if w.objectName() == "loadErrorDialog" and w.isVisible()]
    assert len(boxes) == 1
    boxes[0].close()


def test_autosave_keeps_a_tile_layer(window, qtbot):
    """The recovery file of an untitled session with a tile layer is written and reads
    back (schema-valid) with the layer's tile settings."""
    _reader("loaders.tiles.tiles3d")
    from heritage.project import Project

    open_and_wait(qtbot, window, CESIUM)
    layer = window.scene.layers[0]
    window.scene.select(layer)
    window.properties_panel.tiles.detail.setValue(24)
    recovery = window.session.autosave()
    assert recovery is not None
    try:
        doc = Project.load(recovery)
        assert doc.layers[0].display["max_sse"] == 24.0
        assert Path(doc.layers[0].path).resolve() == CESIUM.resolve()
    finally:
        window.session.discard_recovery()
