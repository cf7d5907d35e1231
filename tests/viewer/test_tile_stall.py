"""No UI stall while tiles stream, and tilesets framed by their real extent (issue 19).

What keeps the GUI thread short is structural, so it is tested as structure (no timed
assertions; the stall itself is measured in benchmarks/tiles_bench.py):

- a tile's VTK data (clip, colours, textures) is built in the loader thread: the actors
  the window adds use the polydata prepared there, and a settings change makes it stale;
- unknown children are read in the stream's pool, never on the thread that selects;
- the tile triangle budget follows the measured frame cost (FrameBudget), and each drawn
  tile counts for its draw call;
- a tileset's bounds are its top-level volumes' box (3D Tiles box/region in the scene
  CRS, a DEM's extent), tighter than the root's sphere, and hold every tile's content.

Real data: the Delft city mesh as a quadtree (tests/viewer/test_tile_layer.DelftTiles),
the Cesium 3D Tiles sample, the AHN3 DEM built by tests/loaders/terrain_support.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from loaders import LoadError  # noqa: E402
from loaders.tiles import TileStream, View, select_tiles  # noqa: E402
from tests.viewer.test_tile_layer import (  # noqa: E402, F401
    DATA,
    DelftTiles,
    add_tiles,
    look_at,
    view,  # the renderer fixture
)
from viewer.budget import MIN_TILE_TRIANGLES, TRIANGLE_POINTS, FrameBudget  # noqa: E402

CESIUM = DATA / "tiles" / "TilesetWithRequestVolume" / "tileset.json"


class ThreadRecordingTiles(DelftTiles):
    """DelftTiles that remember the threads their children were read on."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.expand_threads: list[str] = []

    def _expand(self, tile):
        self.expand_threads.append(threading.current_thread().name)
        return super()._expand(tile)


def close_view(tiles) -> View:
    lo, hi = tiles.bounds
    eye = (lo + hi) / 2 + np.array([0.0, 0.0, 30.0])
    return View(eye=eye, pixels_per_radian=2000.0, max_sse=1.0)


def test_children_are_read_in_the_pool_not_on_the_selecting_thread():
    tiles = ThreadRecordingTiles(levels=3)
    stream = TileStream(tiles)
    try:
        v = close_view(tiles)
        first = stream.update(v)  # the GUI thread's call: selects, reads no child
        assert tiles.root in first.expand
        assert threading.current_thread().name not in tiles.expand_threads
        sel = stream.wait(v)
        assert tiles.expand_threads, "the children were read"
        assert all(name.startswith("realscene-tiles") for name in tiles.expand_threads)
        assert max(t.depth for t in sel.draw) == 2  # refined to the leaves all the same
        assert not sel.expand and not stream.busy
    finally:
        stream.close()
    # select_tiles keeps reading children itself by default (scripts, readers' tests)
    tiles2 = ThreadRecordingTiles(levels=2)
    loaded = {}
    sel = select_tiles(tiles2, close_view(tiles2), loaded.get)
    assert tiles2.root.children and not sel.expand


def test_tile_vtk_data_is_prepared_in_the_loader_thread(view):  # noqa: F811 - fixture
    scene, renderer = view
    tiles = DelftTiles(levels=2)
    made_on: list[str] = []
    layer = add_tiles(scene, tiles)
    draw = renderer.tile_draw(layer)
    prepare = draw.prepare

    def recording(tile, content):
        made_on.append(threading.current_thread().name)
        prepare(tile, content)

    draw.restart()  # a fresh cache and no actors: every content goes through the hook
    draw.stream.prepare = recording
    # (the camera's near / far planes now fit an empty scene: selection ignores them)
    look_at(renderer, tiles.true.mean(axis=0), 150.0)
    renderer.update_lod()
    renderer.render()
    assert made_on and all(n.startswith("realscene-tiles") for n in made_on)
    drawn = list(draw.stream.drawn())
    assert drawn and draw.shown
    for tile, content in drawn:
        gen, specs = content.prepared
        assert gen == draw._generation
        shown = draw.shown[id(tile)]
        # the actors draw the very polydata built in the loader thread
        assert [poly for _a, _i, poly in shown.items] == [s.poly for s in specs]
        for actor, spec in zip(shown.actors, specs, strict=True):
            assert actor.GetMapper().GetInput() is spec.poly
        # the VTK copies count against the layer's memory budget
        assert content.prepared_bytes > 0
    assert draw.stream.cached_bytes >= sum(c.prepared_bytes for _t, c in drawn) > 0
    # a colour change: what was prepared is stale, the actors are built again
    old = {id(tile): content.prepared[0] for tile, content in drawn}
    scene.update(layer, color_mode="elevation")
    renderer.update_lod()
    again = list(draw.stream.drawn())
    assert again
    for tile, content in again:
        assert content.prepared[0] == draw._generation != old.get(id(tile), -1)
        rgb = draw.shown[id(tile)].items[0][2].GetPointData().GetArray("rgb")
        assert rgb is not None


def test_the_triangle_budget_follows_the_measured_frame_cost():
    now = [0.0]
    budget = FrameBudget(clock=lambda: now[0])
    assert budget.triangle_budget() is None  # nothing timed: the layer's own budget
    budget.frame_started()
    now[0] += 0.2  # a slow frame: 0.2 s for 100k point-equivalents
    budget.frame_ended(100_000, 100_000)
    inter, rest = budget.budgets()
    tris = budget.triangle_budget(layers_loading=True)
    assert tris == max(int(inter / TRIANGLE_POINTS), MIN_TILE_TRIANGLES)
    assert budget.triangle_budget(off_screen=True) is None  # a still picture: all of it
    # a cheap frame: more triangles, and the small drift keeps the last budget
    for _ in range(10):
        budget.frame_started()
        now[0] += 0.001
        budget.frame_ended(100_000, 100_000)
    more = budget.triangle_budget(layers_loading=True)
    assert more > tris
    assert budget.triangle_budget(layers_loading=True, last=int(more * 1.1)) == \
        int(more * 1.1)
    # points drawn by point layers leave less for the tiles
    assert budget.triangle_budget(layers_loading=True, points=10**9) == MIN_TILE_TRIANGLES


def test_a_tile_counts_for_its_draw_call_in_selection():
    tiles = DelftTiles(levels=3)
    stream = TileStream(tiles)
    try:
        v = close_view(tiles)
        # frames on screen (no waiting): the coarse levels are read on the way down too,
        # so a selection that stops refining early has its tiles
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            full = stream.update(v)
            if not full.fetch and not full.expand and not stream.stats()["pending"]:
                break
            time.sleep(0.01)
        assert max(t.depth for t in full.draw) == 2
        loaded = stream._loaded
        cheap = select_tiles(tiles, v, loaded, triangle_budget=10**9, tile_cost=0)
        costly = select_tiles(tiles, v, loaded, triangle_budget=full.triangles + 10,
                              tile_cost=10**6)
        assert len(cheap.draw) == len(full.draw)
        assert len(costly.draw) < len(full.draw)  # stops refining: tiles cost calls
    finally:
        stream.close()


@pytest.mark.skipif(not CESIUM.exists(), reason="shared data missing")
def test_3d_tiles_bounds_are_the_box_in_the_scene_crs_and_hold_the_content():
    import loaders

    ts = loaders.read(str(CESIUM))
    ts.set_target_crs("EPSG:32618")
    lo, hi = ts.bounds
    size = hi - lo
    assert np.all(size > 0)
    assert size.max() < 0.8 * 2 * ts.root.radius  # tighter than the root's sphere
    assert size[2] < 0.3 * size[:2].min()  # a city: flat, not a ball
    stream = TileStream(ts)
    try:
        sel = stream.wait(View(eye=(lo + hi) / 2 + [0, 0, 50.0], pixels_per_radian=5000.0,
                               max_sse=1.0))
        xyz = np.vstack([m.vertices.astype(np.float64) + m.origin
                         for t in sel.draw for m in stream.content(t).meshes])
    finally:
        stream.close()
    pad = 1e-3 * size.max() + 0.01
    assert np.all(xyz.min(axis=0) >= lo - pad) and np.all(xyz.max(axis=0) <= hi + pad)


def test_a_dem_is_framed_by_its_extent(tmp_path):
    from loaders.tiles.terrain import TerrainTileSet
    from tests.loaders.terrain_support import make_ahn3_dem

    dem = TerrainTileSet(make_ahn3_dem(tmp_path / "dem.tif", cell=1.0))
    import rasterio

    lo, hi = dem.bounds

    with rasterio.open(dem.source) as src:
        b = src.bounds
    assert np.allclose(lo[:2], [b.left, b.bottom]) and np.allclose(hi[:2], [b.right, b.top])
    z_lo, z_hi = dem.z_range
    assert np.isclose(lo[2], z_lo) and np.isclose(hi[2], z_hi)
    assert (hi - lo)[2] < 2 * dem.root.radius / 4  # not the sphere's height


class FlakyChildrenTiles(DelftTiles):
    """DelftTiles whose root's children read fails ``failures`` times as a server's 503
    would (then succeeds), or for good with ``reason`` (a broken file)."""

    def __init__(self, failures: int, reason: str = "HTTP 503 Service Unavailable") -> None:
        super().__init__(levels=3)
        self.failures = failures
        self.reason = reason
        self.reads = 0

    def _expand(self, tile):
        if tile.key == "r":
            self.reads += 1
            if self.reads <= self.failures:
                raise LoadError(f"https://example.invalid/{tile.key}.json", self.reason)
        return super()._expand(tile)


def test_children_whose_read_failed_transiently_are_read_again():
    tiles = FlakyChildrenTiles(failures=2)
    stream = TileStream(tiles)
    stream.retry_seconds = 0.01  # the back-off (2 s by default) shortened for the test
    try:
        sel = stream.wait(close_view(tiles), timeout=60)
    finally:
        stream.close()
    assert tiles.reads == 3  # two 503s, then the children
    assert tiles.root.children  # not a leaf forever
    assert all(t is not tiles.root for t in sel.draw)  # refined below the root
    assert any("HTTP 503" in w for w in tiles.warnings)


def test_children_of_a_broken_file_are_not_read_again():
    tiles = FlakyChildrenTiles(failures=10, reason="not an OSGB file")
    stream = TileStream(tiles)
    stream.retry_seconds = 0.01
    try:
        sel = stream.wait(close_view(tiles), timeout=60)
    finally:
        stream.close()
    assert tiles.reads == 1
    assert tiles.root.children == []  # a leaf: drawn as itself
    assert [t.key for t in sel.draw] == ["r"]


def test_textured_tiles_are_drawn_unlit_untextured_ones_lit(view):  # noqa: F811 - fixture
    # a photogrammetry texture is the photo (light included), and unlit spares llvmpipe
    # the per-fragment normals of flat shading (a third of a frame of textured tiles)
    from tests.viewer.test_tile_layer import photo

    scene, renderer = view
    textured = add_tiles(scene, DelftTiles(levels=2, texture=photo()))
    plain = add_tiles(scene, DelftTiles(levels=2))
    renderer.fit()
    renderer.update_lod(wait=True)
    for layer, lit in ((textured, False), (plain, True)):
        actors = [a for s in renderer.tile_draw(layer).shown.values() for a in s.actors]
        assert actors
        assert {bool(a.GetProperty().GetLighting()) for a in actors} == {lit}
        assert {a.GetTexture() is not None for a in actors} == {not lit}


def test_tile_frames_are_held_to_the_tile_frame_target():
    from viewer.budget import TILE_FRAME_SECONDS

    now = [0.0]
    budget = FrameBudget(clock=lambda: now[0])
    for _ in range(5):  # 1 us per point-equivalent: 60 / 80 ms frames are 60k / 80k
        budget.frame_started()
        now[0] += 0.1
        budget.frame_ended(100_000, 100_000)
    assert budget.budgets() == (60_000, 80_000)
    # the tiles get the tile target's worth (their frame gap is render + compose)
    assert TILE_FRAME_SECONDS < budget.target_interactive_seconds
    assert budget.triangle_budget() == max(
        int(TILE_FRAME_SECONDS / 1e-6 / TRIANGLE_POINTS), MIN_TILE_TRIANGLES)
    budget.target_tile_seconds = 1.0  # no tile cap: the frame's own budget
    assert budget.triangle_budget() == max(int(80_000 / TRIANGLE_POINTS), MIN_TILE_TRIANGLES)


@pytest.mark.skipif(not hasattr(__import__("os"), "getpriority"), reason="no nice values")
def test_loader_threads_run_at_a_lower_priority():
    import os

    from loaders.tiles.base import LOADER_NICE

    tiles = DelftTiles(levels=2)
    stream = TileStream(tiles)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    try:
        nice = stream._pool.submit(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result(30)
    finally:
        stream.close()
    assert nice == min(mine + LOADER_NICE, 19) > mine
    # the caller's own thread keeps its priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine


def test_the_window_freezes_the_startup_heap_once():
    # a full GC over the ~220k objects of the imported modules took 45-200 ms on the
    # GUI thread while tiles streamed; frozen, a collection scans the newer objects only
    import gc

    pytest.importorskip("PySide6")
    from viewer.qt import main_window

    main_window.freeze_startup_heap()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000
    # once per process: later objects stay collectable (frozen objects freed meanwhile,
    # e.g. by another thread, lower the count: it must not grow)
    junk = [[object()] for _ in range(1000)]
    main_window.freeze_startup_heap()
    assert gc.get_freeze_count() <= frozen
    del junk


class SplitPartTiles(DelftTiles):
    """Textured DelftTiles whose faces come in three parts: two share the photo (as glTF
    primitives of one material do), the third has a texture of its own."""

    def __init__(self, photo: np.ndarray) -> None:
        super().__init__(levels=2, texture=photo)
        self.other = np.ascontiguousarray(photo[::2, ::2])

    def _load(self, tile, cancel=None):
        from loaders import Material, MeshPart

        content = super()._load(tile, cancel)
        mesh = content.meshes[0]
        n = mesh.triangle_count
        a, b = n // 3, 2 * n // 3
        mesh.parts = [MeshPart("a", 0, a, Material(texture=self.texture)),
                      MeshPart("b", a, b, Material(texture=self.other)),
                      MeshPart("c", b, n, Material(texture=self.texture))]
        return content


def test_parts_sharing_a_texture_are_one_actor(view):  # noqa: F811 - fixture
    from tests.viewer.test_tile_layer import photo

    scene, renderer = view
    layer = add_tiles(scene, SplitPartTiles(photo()))
    renderer.fit()
    renderer.update_lod(wait=True)
    draw = renderer.tile_draw(layer)
    assert draw.shown
    for shown in draw.shown.values():
        # two textures: two draw calls (not three parts), every face drawn once
        assert len(shown.actors) == 2
        assert sum(int(p.GetNumberOfPolys()) for _a, _i, p in shown.items) == \
            shown.triangles
        faces = np.sort(np.concatenate([
            pv.wrap(p).cell_data["face_id"] for _a, _i, p in shown.items]))
        assert np.array_equal(faces, np.arange(shown.triangles))


def test_a_wheel_step_in_the_window_draws_one_frame(window, qtbot):
    # pyvistaqt's paint always renders: an interactor that renders too drew every camera
    # step twice (render, then the paint its frame scheduled); now the step asks for
    # the paint only, as C++ QVTKOpenGLNativeWidget does
    win = window
    from tests.viewer.test_tile_layer import DELFT_OBJ

    win.open_paths([str(DELFT_OBJ)], remember=False)
    qtbot.waitUntil(lambda: not win.jobs, timeout=60_000)
    qtbot.wait(500)
    ren_win = win.plotter.ren_win
    frames: list[int] = []
    tag = ren_win.AddObserver("StartEvent", lambda *_: frames.append(1))
    try:
        qtbot.wait(300)
        frames.clear()
        cam = win.plotter.renderer.GetActiveCamera()
        before = cam.GetPosition()
        win.plotter.iren.interactor.MouseWheelForwardEvent()  # what a wheel notch calls
        qtbot.wait(400)
    finally:
        ren_win.RemoveObserver(tag)
    assert cam.GetPosition() != before  # the step moved the camera
    assert len(frames) == 1
