"""Tile layers in the scene and the renderer (viewer.tile_layer), off screen.

The tileset is built here from a REAL mesh: the Delft 3dfier LOD1 city
(meshes/delft_3dfier_lod1/testarea.obj, RD New) cut into a quadtree of tiles whose
parents hold a subsample of their faces (coarser) and whose leaves hold every face,
optionally textured with a real photograph (citymodels/rotterdam_textured/appearances/
0320_4_15.jpg) by planar UVs. The 3D Tiles / OSGB / terrain readers are tested with
their own files in tests/loaders and tests/test_cli_tiles.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

import loaders  # noqa: E402
from loaders import LoadError, Material, Mesh, MeshPart  # noqa: E402
from loaders.tiles import Tile, TileContent, TileSet  # noqa: E402
from loaders.types import split_origin  # noqa: E402
from viewer import pipeline  # noqa: E402
from viewer.render import SceneRenderer  # noqa: E402
from viewer.scene import Scene  # noqa: E402

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
DELFT_OBJ = DATA / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
DELFT_CITY = DATA / "citymodels" / "delft.city.json"
PHOTO = DATA / "citymodels" / "rotterdam_textured" / "appearances" / "0320_4_15.jpg"
SIZE = (400, 300)

pytestmark = pytest.mark.skipif(not DELFT_OBJ.exists(), reason="shared data missing")

_MESH: list[Mesh] = []


def delft_mesh() -> Mesh:
    if not _MESH:
        _MESH.append(loaders.read(str(DELFT_OBJ)))
    return _MESH[0]


class DelftTiles(TileSet):
    """A quadtree over the Delft city mesh: depth ``levels - 1`` leaves hold every face
    whose centroid lies in their square, a tile ``k`` levels above a leaf every
    ``4 ** k``-th of them. ``fail``: keys whose loading raises a LoadError."""

    format_name = "test tiles"

    def __init__(self, levels: int = 3, texture: np.ndarray | None = None,
                 fail: tuple[str, ...] = (), mesh: Mesh | None = None) -> None:
        mesh = mesh if mesh is not None else delft_mesh()
        self.mesh = mesh
        self.levels = levels
        self.texture = texture
        self.fail = set(fail)
        true = mesh.vertices.astype(np.float64) + mesh.origin
        self.true = true
        self.centroids = true[mesh.faces].mean(axis=1)
        lo, hi = true.min(axis=0), true.max(axis=0)
        self.lo, self.hi = lo, hi
        root = self._tile("r", lo[:2], hi[:2], 0)
        super().__init__(str(DELFT_OBJ), root, native_crs="EPSG:28992")

    def _tile(self, key: str, lo: np.ndarray, hi: np.ndarray, depth: int) -> Tile:
        zlo, zhi = self.lo[2], self.hi[2]
        c = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (zlo + zhi) / 2])
        r = float(np.linalg.norm([hi[0] - lo[0], hi[1] - lo[1], zhi - zlo]) / 2)
        leaf = depth == self.levels - 1
        err = 0.0 if leaf else float(max(hi[0] - lo[0], hi[1] - lo[1])) / 16.0
        return Tile(key=key, center=c, radius=r, geometric_error=err,
                    content=(np.array(lo), np.array(hi), depth), depth=depth)

    def _expand(self, tile: Tile) -> list[Tile]:
        lo, hi, depth = tile.content
        if depth >= self.levels - 1:
            return []
        mid = (lo + hi) / 2
        kids = []
        for i, (x0, x1) in enumerate(((lo[0], mid[0]), (mid[0], hi[0]))):
            for j, (y0, y1) in enumerate(((lo[1], mid[1]), (mid[1], hi[1]))):
                kids.append(self._tile(f"{tile.key}{2 * i + j}", np.array([x0, y0]),
                                       np.array([x1, y1]), depth + 1))
        return kids

    def _load(self, tile: Tile, cancel=None) -> TileContent:
        if tile.key in self.fail:
            raise LoadError(tile.key, "broken on purpose", "")
        lo, hi, depth = tile.content
        c = self.centroids
        inside = np.flatnonzero((c[:, 0] >= lo[0]) & (c[:, 0] < hi[0] + 1e-9 * (
            hi[0] == self.hi[0])) & (c[:, 1] >= lo[1]) & (c[:, 1] < hi[1] + 1e-9 * (
                hi[1] == self.hi[1])))
        stride = 4 ** (self.levels - 1 - depth)
        faces = self.mesh.faces[inside[::stride]]
        used, faces = np.unique(faces, return_inverse=True)
        faces = faces.reshape(-1, 3)
        verts, origin = split_origin(self.true[used])
        mesh = Mesh(vertices=verts, origin=origin, faces=faces.astype(np.int64))
        if self.texture is not None:
            span = (self.hi - self.lo)[:2]
            mesh.uvs = ((self.true[used][:, :2] - self.lo[:2]) / span).astype(np.float32)
            mesh.parts = [MeshPart("photo", 0, len(faces), Material(texture=self.texture))]
        return TileContent(meshes=[mesh])


def photo() -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(PHOTO).convert("RGB"))


@pytest.fixture
def view():
    plotter = pv.Plotter(off_screen=True, window_size=SIZE)
    scene = Scene()
    scene.set_background((0.0, 0.0, 0.0))
    renderer = SceneRenderer(plotter, scene, point_budget=100_000)
    yield scene, renderer
    renderer.close()
    plotter.close()


def add_tiles(scene: Scene, tileset: TileSet):
    """The pipeline's last steps for an in-memory tileset: into the scene CRS, a layer."""
    pipeline.reproject(tileset, scene.crs)
    return pipeline.add_to_scene(scene, pipeline.Loaded(tileset.source, tileset))


def drawn_depths(renderer, layer) -> set[int]:
    draw = renderer.tile_draw(layer)
    return {t.depth for t in draw.stream.last.draw}


def look_at(renderer, target, distance, direction=(0.0, -0.3, 1.0)):
    """Put the camera ``distance`` m from true ``target`` (looking at it)."""
    cam = renderer.plotter.renderer.GetActiveCamera()
    d = np.asarray(direction, float)
    d /= np.linalg.norm(d)
    local = renderer.to_local(target)
    cam.SetFocalPoint(*local)
    cam.SetPosition(*(local + distance * d))
    cam.SetViewUp(0, 1, 0)
    renderer.plotter.renderer.ResetCameraClippingRange()


def test_scene_model_of_a_tile_layer(view):
    scene, renderer = view
    tiles = DelftTiles()
    layer = add_tiles(scene, tiles)
    assert layer.is_tiles and layer.kind == "tiles"
    assert scene.crs is not None and scene.crs.to_epsg() == 28992
    assert layer.available_color_modes() == ["material", "elevation", "solid"]
    assert layer.color_mode == "material"
    lo, hi = scene.bounds()
    assert np.all(lo <= tiles.lo + 1e-6) and np.all(hi >= tiles.hi - 1e-6)
    assert np.allclose(scene.origin, tiles.root.center)
    scene.update(layer, color_mode="elevation")
    with pytest.raises(ValueError):
        scene.update(layer, color_mode="rainbow")
    draw = renderer.tile_draw(layer)
    assert draw is not None
    scene.remove(layer)
    assert renderer.tile_draw(layer) is None
    assert draw.stream._closed and not draw.shown


def test_coarse_when_far_finer_when_close_and_tiles_leave_the_view(view):
    scene, renderer = view
    layer = add_tiles(scene, DelftTiles(levels=3))
    renderer.view_preset("top")
    renderer.update_lod(force=True)  # off screen: waits for the tiles of the view
    draw = renderer.tile_draw(layer)
    assert drawn_depths(renderer, layer) == {0}
    far_triangles = draw.triangles_drawn()
    assert far_triangles == draw.stream.last.triangles > 0
    far_keys = set(draw.shown)

    tiles = layer.data
    aim = tiles.lo + 0.25 * (tiles.hi - tiles.lo)  # in the low-x low-y quarter: data there
    corner = tiles.true[np.argmin(np.sum((tiles.true[:, :2] - aim[:2]) ** 2, axis=1))]
    look_at(renderer, corner, 60.0)
    renderer.update_lod(force=True)
    depths = drawn_depths(renderer, layer)
    assert max(depths) == 2, depths  # leaves near the eye
    keys = {t.key for t in draw.stream.last.draw}
    assert not any(k.startswith("r3") for k in keys), keys  # the far quadrant: out of view
    assert not (set(draw.shown) & far_keys)  # the root's actors are gone
    assert set(draw.shown) == {id(t) for t in draw.stream.last.draw}
    assert draw.actor_count == len(renderer.actors(layer))
    # the leaf at the eye holds all its faces: denser than the root's subsample there
    leaves = [draw.stream.content(t).triangle_count for t in draw.stream.last.draw
              if t.depth == 2]
    assert max(leaves) > 4 * (far_triangles / 16)

    # back far away: the coarse root again, the leaves' actors removed
    renderer.view_preset("top")
    renderer.update_lod(force=True)
    assert drawn_depths(renderer, layer) == {0}
    assert draw.triangles_drawn() == far_triangles


def test_a_failed_tile_has_no_actor_and_a_warning(view):
    scene, renderer = view
    layer = add_tiles(scene, DelftTiles(levels=2, fail=("r1",)))
    tiles = layer.data
    look_at(renderer, tiles.root.center, 150.0, direction=(0.0, 0.0, 1.0))
    renderer.update_lod(force=True)
    draw = renderer.tile_draw(layer)
    keys = {t.key for t in draw.stream.last.draw}
    assert {"r0", "r2", "r3"} <= keys
    shown = {t.key: draw.shown.get(id(t)) for t in draw.stream.last.draw}
    assert shown["r1"] is None or not shown["r1"].actors
    assert all(shown[k].actors for k in ("r0", "r2", "r3"))
    assert any("broken on purpose" in w for w in tiles.warnings)


def _screenshot(renderer, path) -> np.ndarray:
    from PIL import Image

    renderer.screenshot(path)
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_textures_are_drawn_with_their_uvs(view, tmp_path):
    scene, renderer = view
    img = photo()
    tiles = DelftTiles(levels=2, texture=img)
    layer = add_tiles(scene, tiles)
    scene.update(layer, max_sse=0.5)  # the finest detail everywhere: every face drawn
    renderer.view_preset("top")
    shot = _screenshot(renderer, tmp_path / "textured.png")
    assert drawn_depths(renderer, layer) == {1}
    # probes: the texture's colour at the uv of true points on the ground
    rng = np.random.default_rng(1)
    h, w = img.shape[:2]
    hits = 0
    tried = 0
    for _ in range(120):
        u, v = rng.uniform(0.1, 0.9, 2)
        xy = tiles.lo[:2] + np.array([u, v]) * (tiles.hi - tiles.lo)[:2]
        z = _surface_z(tiles, xy)
        if z is None:
            continue
        d = renderer.project([[xy[0], xy[1], z]])[0]
        col, row = int(round(d[0])), SIZE[1] - 1 - int(round(d[1]))
        if not (2 <= col < SIZE[0] - 2 and 2 <= row < SIZE[1] - 2):
            continue
        tried += 1
        px = shot[row, col]
        # pyvista flips rows: v = 1 is the image's top row
        tex = img[int((1 - v) * (h - 1)), int(u * (w - 1))].astype(int)
        # lit from above: the same hue, scaled by the light (0.5 .. 1.05)
        ratio = (px + 1) / (tex + 1)
        if np.all(np.abs(ratio - ratio.mean()) < 0.25) and 0.4 < ratio.mean() < 1.2:
            hits += 1
    assert tried >= 40
    assert hits >= 0.6 * tried, (hits, tried)
    # solid colour mode: the texture goes
    scene.update(layer, color_mode="solid", solid_color=(1.0, 0.0, 0.0))
    red = _screenshot(renderer, tmp_path / "solid.png")
    drawn = red.sum(axis=2) > 30
    assert (red[drawn][:, 1] < 40).mean() > 0.95


def _surface_z(tiles: DelftTiles, xy: np.ndarray) -> float | None:
    """The top surface height of the full mesh at true ``xy`` (a ray from above)."""
    mesh = tiles.mesh
    poly = pv.PolyData.from_regular_faces(tiles.true - tiles.root.center, mesh.faces)
    start = np.array([xy[0], xy[1], tiles.hi[2] + 10]) - tiles.root.center
    end = np.array([xy[0], xy[1], tiles.lo[2] - 10]) - tiles.root.center
    pts, _ = poly.ray_trace(start, end, first_point=True)
    if len(pts) == 0:
        return None
    return float(np.asarray(pts).reshape(-1, 3)[0, 2] + tiles.root.center[2])


def _off_surface(tiles: DelftTiles, xyz: np.ndarray) -> float:
    """Distance (m) from true ``xyz`` to the full mesh's surface."""
    c = tiles.root.center
    poly = pv.PolyData.from_regular_faces(tiles.true - c, tiles.mesh.faces)
    _cell, closest = poly.find_closest_cell(np.asarray(xyz) - c, return_closest_point=True)
    return float(np.linalg.norm(np.asarray(closest) + c - xyz))


def test_pick_on_a_tile_gives_the_surface_point(view):
    scene, renderer = view
    layer = add_tiles(scene, DelftTiles(levels=2))
    tiles = layer.data
    scene.update(layer, max_sse=0.5)  # leaves: every face of the city
    renderer.view_preset("top")
    renderer.update_lod(force=True)
    rng = np.random.default_rng(7)
    checked = 0
    off = []
    for k in rng.choice(len(tiles.centroids), 40, replace=False):
        target = tiles.centroids[k]
        d = renderer.project([target])[0]
        if not (0 < d[0] < SIZE[0] and 0 < d[1] < SIZE[1]):
            continue
        pick = renderer.pick(*d)
        if pick is None:
            continue
        assert pick.layer is layer
        # a point of the city's surface (the full mesh), under the cursor (VTK's cell
        # picker may give a point of the cell's plane just past its edge: a grazing wall)
        off.append(_off_surface(tiles, pick.xyz))
        assert np.allclose(renderer.project([pick.xyz])[0], d, atol=1.0)
        checked += 1
    assert checked >= 20
    assert scene.last_pick is pick
    off = np.array(off)
    assert (off < 0.02).mean() >= 0.8 and off.max() < 1.0, off


def test_pick_on_a_feature_tile_gives_the_object(view):
    scene, renderer = view
    city = loaders.read(str(DELFT_CITY))

    class CityTile(TileSet):
        format_name = "test city tile"

        def _load(self, tile, cancel=None):
            return TileContent(meshes=[city])

    lo, hi = (np.asarray(b, float) for b in city.bounds)
    root = Tile("city", (lo + hi) / 2, float(np.linalg.norm(hi - lo) / 2), 0.0,
                content="all")
    layer = add_tiles(scene, CityTile(str(DELFT_CITY), root, native_crs=city.crs))
    renderer.view_preset("top")
    renderer.update_lod(force=True)
    found = None
    for fx in np.linspace(0.3, 0.7, 9):
        for fy in np.linspace(0.3, 0.7, 9):
            pick = renderer.pick(SIZE[0] * fx, SIZE[1] * fy)
            if pick is not None and pick.feature_id is not None:
                found = pick
                break
        if found:
            break
    assert found is not None and found.layer is layer
    feature = city.features[city.feature_index(found.feature_id)]
    assert found.attributes["type"] == feature.type
    for key, value in feature.attributes.items():
        assert found.attributes[key] == value
    assert scene.selected_feature == (layer, found.feature_id)


def test_clip_cuts_the_tiles(view):
    from heritage.monitoring.clip import Box

    scene, renderer = view
    layer = add_tiles(scene, DelftTiles(levels=2))
    tiles = layer.data
    renderer.view_preset("top")
    renderer.update_lod(force=True)
    draw = renderer.tile_draw(layer)
    before = draw.triangles_drawn()
    mid = (tiles.lo + tiles.hi) / 2
    box = Box(min=(tiles.lo[0] - 1, tiles.lo[1] - 1, tiles.lo[2] - 1),
              max=(mid[0], mid[1], tiles.hi[2] + 1))
    scene.set_clip(box)
    renderer.update_lod(force=True)
    assert 0 < draw.triangles_drawn() < before
    assert len(draw.actor_polydata()) == len(renderer.actors(layer))
    for poly in draw.actor_polydata():
        pts = renderer.to_true(np.asarray(poly.points))
        assert np.all(pts[:, 0] <= mid[0] + 1e-3) and np.all(pts[:, 1] <= mid[1] + 1e-3)
    scene.set_clip(None)
    renderer.update_lod(force=True)
    assert draw.triangles_drawn() == before


def test_a_tileset_and_a_city_model_share_the_scene_crs(view):
    scene, renderer = view
    layer = add_tiles(scene, DelftTiles(levels=2))
    city = pipeline.load(str(DELFT_CITY), scene.crs)
    city_layer = pipeline.add_to_scene(scene, city)
    tlo, thi = scene.bounds([layer])
    clo, chi = scene.bounds([city_layer])
    # the same district: footprints overlap by most of the smaller one
    overlap = np.minimum(thi[:2], chi[:2]) - np.maximum(tlo[:2], clo[:2])
    assert np.all(overlap > 0.6 * np.minimum(thi - tlo, chi - clo)[:2])
    renderer.fit()
    renderer.update_lod(force=True)
    assert renderer.tile_draw(layer).shown


def test_streaming_on_screen_is_time_sliced_and_asks_for_updates(view, monkeypatch):
    """Without waiting (the window's way): loads run in the background, a finished load
    calls ``on_update``, and new tiles get actors a slice at a time."""
    import threading

    from viewer import tile_layer

    scene, renderer = view
    layer = add_tiles(scene, DelftTiles(levels=2))
    draw = renderer.tile_draw(layer)
    draw.restart()  # nothing loaded yet
    scene.update(layer, max_sse=0.5)
    renderer.view_preset("top")
    arrived = threading.Event()
    renderer.on_update = arrived.set
    monkeypatch.setattr(tile_layer, "SLICE_SECONDS", 0.0)  # one tile's actors per update
    steps = 0
    while steps < 200:
        arrived.clear()
        draw.update(wait=False)
        steps += 1
        sel = draw.stream.last
        if sel.draw and not sel.fetch and not draw.stream.busy and \
                set(draw.shown) == {id(t) for t in sel.draw}:
            break
        if draw.stream.busy:
            assert arrived.wait(30)  # a finished load asks for an update
    assert drawn_depths(renderer, layer) == {1}
    assert len(draw.shown) == 4
    assert renderer.needs_update  # (asked while tiles were waiting for actors)
    # one actor-building slice per update: the four leaves needed several updates
    assert steps >= 4


def test_terrain_pick_gives_the_height_and_hillshade_reloads(view, tmp_path):
    from loaders.tiles.terrain import TerrainTileSet
    from tests.loaders.terrain_support import make_ahn3_dem

    scene, renderer = view
    dem = TerrainTileSet(make_ahn3_dem(tmp_path / "dem.tif", cell=1.0))
    layer = add_tiles(scene, dem)
    assert layer.available_color_modes() == ["material", "elevation", "hillshade", "solid"]
    renderer.view_preset("top")
    renderer.update_lod(force=True)
    picks = [renderer.pick(SIZE[0] * fx, SIZE[1] * 0.5) for fx in (0.45, 0.5, 0.55)]
    picks = [p for p in picks if p is not None]
    assert picks
    for pick in picks:
        assert pick.layer is layer
        expected = float(dem.height_at(pick.xyz[None, :2])[0])
        assert abs(pick.attributes["height"] - expected) < 1e-6
        assert abs(pick.xyz[2] - expected) < 1.0  # the drawn grid is at the DEM's height
    draw = renderer.tile_draw(layer)
    before = draw.stream
    scene.update(layer, color_mode="hillshade")
    assert dem.colour == "hillshade" and draw.stream is not before  # reloaded
    renderer.update_lod(force=True)
    assert draw.shown and draw.stream.loads > 0
    # back to the file's own look: an undraped DEM has no texture, so its elevation colours
    scene.update(layer, color_mode="material")
    assert dem.colour == "elevation"


def test_a_window_screenshot_waits_for_the_tiles(view, tmp_path, monkeypatch):
    """On screen, frames never wait for loads; a screenshot does (the picture has every
    tile its view needs)."""
    scene, renderer = view
    layer = add_tiles(scene, DelftTiles(levels=2, texture=photo()))
    scene.update(layer, max_sse=0.5)
    renderer.view_preset("top")
    monkeypatch.setattr(renderer, "_off_screen", lambda: False)  # as in the window
    draw = renderer.tile_draw(layer)
    draw.restart()  # nothing loaded
    renderer.update_lod(force=True)
    assert len(draw.shown) < 4  # a frame: what is loaded now, no waiting
    renderer.screenshot(tmp_path / "shot.png")
    assert drawn_depths(renderer, layer) == {1} and len(draw.shown) == 4


def test_a_crs_assigned_to_a_tileset_is_what_its_tiles_are_transformed_from(view):
    scene, renderer = view
    tiles = DelftTiles(levels=2)
    tiles.native_crs = tiles.crs = None  # (as a tileset without its metadata.xml)
    pipeline.assign_data_crs(tiles, "EPSG:28992")
    scene.set_crs("EPSG:32631")  # a UTM scene: RD New tiles must move into it
    layer = add_tiles(scene, tiles)
    assert tiles.crs.to_epsg() == 32631
    lo, hi = scene.bounds([layer])
    # Delft in UTM 31N: about 590 km east, 5763 km north
    assert 5.8e5 < (lo[0] + hi[0]) / 2 < 6.0e5 and 5.75e6 < (lo[1] + hi[1]) / 2 < 5.78e6
    renderer.view_preset("top")
    renderer.update_lod(force=True)
    pts = np.concatenate([np.asarray(p.points) for p in
                          renderer.tile_draw(layer).actor_polydata()])
    true = renderer.to_true(pts)
    assert np.all(true[:, 0] > 5.8e5) and np.all(true[:, 1] > 5.75e6)


def test_new_data_for_a_tile_layer_gets_a_new_stream(view):
    scene, renderer = view
    layer = add_tiles(scene, DelftTiles(levels=2))
    renderer.view_preset("top")
    renderer.update_lod(force=True)
    old = renderer.tile_draw(layer)
    other = DelftTiles(levels=1)
    pipeline.reproject(other, scene.crs)
    layer.data = other  # as the session swaps a layer's data (Assign CRS, undo)
    scene.emit("layer_changed", layer=layer, field="data")
    new = renderer.tile_draw(layer)
    assert new is not old and new.tileset is other and old.stream._closed
    renderer.update_lod(force=True)
    assert [t.key for t in new.stream.last.draw] == ["r"] and new.shown
