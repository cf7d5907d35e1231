"""The scene's clip drawn off screen: pixel probes on a point layer and a mesh layer far
from the origin (a box hides what lies outside it, ``inside=False`` the reverse, a polygon
from an annotation, a slab), the outline, picking on a cut mesh."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from heritage.model import Annotation  # noqa: E402
from heritage.monitoring.clip import Box, Polygon, Slab, region_from_annotation  # noqa: E402
from loaders import Mesh, PointCloud  # noqa: E402
from viewer.render import SceneRenderer  # noqa: E402
from viewer.scene import Scene  # noqa: E402

SIZE = (320, 320)
E0, N0 = 85_000.0, 445_000.0  # true coordinates far from zero, as a city survey's
RED, GREEN = (1.0, 0.0, 0.0), (0.0, 0.8, 0.0)


def _points() -> PointCloud:
    """A dense grid of points over x 0..100, y 0..50 (z 0)."""
    x, y = np.meshgrid(np.linspace(0, 100, 201), np.linspace(0, 50, 101))
    xyz = np.c_[x.ravel(), y.ravel(), np.zeros(x.size)]
    origin = np.array([E0 + 50, N0 + 25, 0.0])
    return PointCloud(positions=(xyz + [E0, N0, 0] - origin).astype(np.float32),
                      origin=origin)


def _mesh() -> Mesh:
    """A flat quad over x 0..100, y 60..110 (z 0), two triangles."""
    v = np.array([[0, 60, 0], [100, 60, 0], [100, 110, 0], [0, 110, 0]], np.float64)
    origin = np.array([E0 + 50, N0 + 85, 0.0])
    return Mesh(vertices=(v + [E0, N0, 0] - origin).astype(np.float32), origin=origin,
                faces=np.array([[0, 1, 2], [0, 2, 3]], np.int64))


@pytest.fixture
def view():
    plotter = pv.Plotter(off_screen=True, window_size=SIZE)
    scene = Scene()
    scene.set_background((0.0, 0.0, 0.0))
    renderer = SceneRenderer(plotter, scene, point_budget=100_000)
    pts = scene.add(_points(), name="scan", color_mode="solid", solid_color=RED,
                    point_size=4.0, point_size_mode="fixed")
    mesh = scene.add(_mesh(), name="model", color_mode="solid", solid_color=GREEN)
    renderer.view_preset("top")
    yield scene, renderer, pts, mesh
    renderer.close()
    plotter.close()


def _image(renderer: SceneRenderer, tmp_path: Path) -> np.ndarray:
    from PIL import Image

    path = renderer.screenshot(tmp_path / "clip.png")
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def _probe(renderer: SceneRenderer, img: np.ndarray, x: float, y: float) -> str:
    """What is drawn at true (E0 + x, N0 + y, 0): "points", "mesh" or "nothing"."""
    d = renderer.project([[E0 + x, N0 + y, 0.0]])[0]
    col, row = int(round(d[0])), img.shape[0] - 1 - int(round(d[1]))
    patch = img[row - 1:row + 2, col - 1:col + 2].reshape(-1, 3)
    if ((patch[:, 0] > 150) & (patch[:, 1] < 80)).any():
        return "points"
    if ((patch[:, 1] > 80) & (patch[:, 0] < 80)).any():
        return "mesh"
    if (patch.max(axis=1) < 30).all():
        return "nothing"
    return f"other {patch.tolist()}"


def _probes(renderer, tmp_path):
    img = _image(renderer, tmp_path)
    return {(x, y): _probe(renderer, img, x, y)
            for x in (20, 80) for y in (25, 85)}


def test_without_clip_everything_is_drawn(view, tmp_path):
    scene, renderer, *_ = view
    assert scene.clip is None
    assert _probes(renderer, tmp_path) == {(20, 25): "points", (80, 25): "points",
                                          (20, 85): "mesh", (80, 85): "mesh"}
    assert renderer.clip_outline_actor is None


def test_box_clip_hides_points_and_mesh_outside_then_outside_mode_reverses(view, tmp_path):
    scene, renderer, pts, _ = view
    events = []
    scene.connect("clip_changed", lambda clip, **_: events.append(clip))
    box = Box((E0 - 10, N0 - 10, -1), (E0 + 50, N0 + 120, 1))
    scene.set_clip(box)
    assert events and events[-1].region is box and events[-1].inside
    assert _probes(renderer, tmp_path) == {(20, 25): "points", (80, 25): "nothing",
                                          (20, 85): "mesh", (80, 85): "nothing"}
    # the drawn points are exactly the region's (the export's mask on the same points)
    idx = renderer.drawn_indices(pts)
    true = pts.data.positions[idx].astype(np.float64) + pts.data.origin
    assert len(idx) and box.mask(true).all()
    assert renderer.clip_outline_actor is not None

    scene.set_clip(box, inside=False)
    assert _probes(renderer, tmp_path) == {(20, 25): "nothing", (80, 25): "points",
                                          (20, 85): "nothing", (80, 85): "mesh"}
    idx = renderer.drawn_indices(pts)
    true = pts.data.positions[idx].astype(np.float64) + pts.data.origin
    assert len(idx) and not box.mask(true).any()

    scene.set_clip(box, enabled=False)  # switched off: all drawn, region kept
    assert scene.clip.region is box
    assert set(_probes(renderer, tmp_path).values()) == {"points", "mesh"}
    assert renderer.clip_outline_actor is None
    scene.set_clip(None)
    assert scene.clip is None and events[-1] is None


def test_turned_box_cuts_the_mesh_and_points_along_its_sides(view, tmp_path):
    scene, renderer, *_ = view
    # 45 degrees about its centre (x 50, y 55): a diamond reaching x 50 +- 35 on y 55
    scene.set_clip(Box((E0 + 25, N0 + 30, -1), (E0 + 75, N0 + 80, 1), angle=45))
    probes = _probes(renderer, tmp_path)
    assert probes == {(20, 25): "nothing", (80, 25): "nothing", (20, 85): "nothing",
                      (80, 85): "nothing"}
    img = _image(renderer, tmp_path)
    assert _probe(renderer, img, 50, 45) == "points"
    assert _probe(renderer, img, 50, 70) == "mesh"


def test_polygon_from_an_annotation_clips_both_layers(view, tmp_path):
    scene, renderer, pts, _ = view
    # an L-shaped (concave) polygon: the left column and the bottom row
    ring = [[0, -5], [100, -5], [100, 40], [40, 40], [40, 120], [0, 120]]
    ann = Annotation("polygon", [[E0 + x, N0 + y, 0.0] for x, y in ring])
    region = region_from_annotation(ann)
    assert isinstance(region, Polygon)
    scene.set_clip(region)
    img = _image(renderer, tmp_path)
    assert _probe(renderer, img, 20, 25) == "points"
    assert _probe(renderer, img, 80, 25) == "points"  # the bottom row of the L
    assert _probe(renderer, img, 20, 85) == "mesh"
    assert _probe(renderer, img, 80, 85) == "nothing"  # the L's notch
    assert _probe(renderer, img, 80, 45) == "nothing"
    idx = renderer.drawn_indices(pts)
    true = pts.data.positions[idx].astype(np.float64) + pts.data.origin
    assert region.mask(true).all()
    scene.set_clip(region, inside=False)
    img = _image(renderer, tmp_path)
    assert _probe(renderer, img, 20, 25) == "nothing"
    assert _probe(renderer, img, 80, 85) == "mesh"


def test_vertical_slab_draws_a_section(view, tmp_path):
    scene, renderer, *_ = view
    scene.set_clip(Slab((E0 + 20, N0, 0), (1, 0, 0), 10))
    assert _probes(renderer, tmp_path) == {(20, 25): "points", (80, 25): "nothing",
                                          (20, 85): "mesh", (80, 85): "nothing"}
    segs = renderer.clip_outline()
    assert segs is not None and np.allclose(np.unique(np.round(segs[..., 0], 6)),
                                            [E0 + 15, E0 + 25])


def test_pick_on_a_cut_mesh_names_a_vertex_of_the_layer(view, tmp_path):
    scene, renderer, _, mesh = view
    scene.set_clip(Box((E0 - 10, N0 + 55, -1), (E0 + 50, N0 + 120, 1)))
    _image(renderer, tmp_path)
    d = renderer.project([[E0 + 10, N0 + 100, 0.0]])[0]
    pick = renderer.pick(*d)
    assert pick is not None and pick.layer is mesh
    assert 0 <= pick.index < 4
    assert np.allclose(pick.xyz[:2], [E0 + 10, N0 + 100], atol=1.0)


def test_set_clip_refuses_what_is_not_a_region():
    scene = Scene()
    with pytest.raises(TypeError):
        scene.set_clip((0, 0, 0, 1, 1, 1))
    assert scene.clip is None
