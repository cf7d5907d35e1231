"""SceneRenderer on real data, off-screen (VTK + Mesa llvmpipe; needs an X display or EGL).

Window sizes are small (320x240) because software rendering is slow.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from loaders import PointCloud, read, split_origin  # noqa: E402
from viewer import colors  # noqa: E402
from viewer.render import SceneRenderer  # noqa: E402
from viewer.scene import Scene  # noqa: E402

SIZE = (320, 240)
BASELINE_DIR = Path(__file__).parent / "baseline"
#: mean absolute difference per channel (0-255) allowed against a baseline image
BASELINE_TOLERANCE = 6.0


@pytest.fixture(scope="module")
def autzen(shared_data) -> PointCloud:
    # not read_shared(): the first draw reorders the cloud's points (level of detail)
    return read(shared_data / "pointclouds" / "autzen_trim.laz")


@pytest.fixture
def plotter():
    pl = pv.Plotter(off_screen=True, window_size=SIZE)
    yield pl
    pl.close()


def shot(renderer: SceneRenderer, tmp_path: Path, name: str, size=None) -> np.ndarray:
    from PIL import Image

    path = renderer.screenshot(tmp_path / name, size=size)
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def bg255(scene: Scene) -> np.ndarray:
    return np.round(np.array(scene.background) * 255).astype(int)


def count_near(img: np.ndarray, rgb, tol: int = 12) -> int:
    return int(np.sum(np.all(np.abs(img - np.asarray(rgb)) <= tol, axis=-1)))


def test_classification_top_view_probes_and_edl(autzen, plotter, tmp_path):
    scene = Scene()
    renderer = SceneRenderer(plotter, scene, point_budget=200_000)
    layer = scene.add(autzen, name="autzen", color_mode="classification")
    renderer.view_preset("top")
    img = shot(renderer, tmp_path, "top.png")
    assert img.shape == (SIZE[1], SIZE[0], 3)
    bg = bg255(scene)
    assert np.abs(img[2, 2] - bg).max() <= 2  # a corner shows the background
    assert np.abs(img[-3, 3] - bg).max() <= 2
    h, w = img.shape[:2]
    centre = img[h // 2 - 5:h // 2 + 5, w // 2 - 5:w // 2 + 5].reshape(-1, 3)
    assert np.any(np.abs(centre - bg).max(axis=1) > 30)  # data in the centre
    ground = colors.class_color(2)
    assert count_near(img, ground) > 500  # ground (ASPRS brown) is visible from above

    # hiding ground removes its colour (the legend keeps a ground swatch, so allow a few)
    scene.update(layer, hidden_classes={2})
    idx = renderer.drawn_indices(layer)
    assert not np.any(autzen.attributes["classification"][idx] == 2)
    hidden = shot(renderer, tmp_path, "hidden.png")
    assert count_near(hidden, ground) < 60
    scene.update(layer, hidden_classes=set())

    # eye-dome lighting changes the image
    scene.set_edl(True)
    edl = shot(renderer, tmp_path, "edl.png")
    diff = np.abs(edl - img).mean()
    assert diff > 1.0, diff
    scene.set_edl(False)
    again = shot(renderer, tmp_path, "again.png")
    assert np.abs(again - img).mean() < 0.5
    renderer.close()
    assert not renderer.actors(layer)


def test_baseline_image(autzen, plotter, tmp_path):
    """Compare with a stored render; regenerate with REALSCENE_UPDATE_BASELINE=1."""
    from PIL import Image

    scene = Scene()
    renderer = SceneRenderer(plotter, scene, point_budget=200_000)
    scene.add(autzen, name="autzen", color_mode="elevation", point_size=2.0)
    renderer.view_preset("iso")
    img = shot(renderer, tmp_path, "iso.png")
    baseline = BASELINE_DIR / "autzen_iso_elevation_320x240.png"
    if os.environ.get("REALSCENE_UPDATE_BASELINE"):
        BASELINE_DIR.mkdir(exist_ok=True)
        Image.fromarray(img.astype(np.uint8)).save(baseline)
    assert baseline.exists(), "baseline missing: run with REALSCENE_UPDATE_BASELINE=1"
    ref = np.asarray(Image.open(baseline).convert("RGB")).astype(int)
    assert ref.shape == img.shape
    mad = np.abs(img - ref).mean(axis=(0, 1))
    if np.any(mad >= BASELINE_TOLERANCE):
        failed = tmp_path / "baseline_failed.png"
        Image.fromarray(img.astype(np.uint8)).save(failed)
        pytest.fail(f"image differs from {baseline.name}: mean abs diff per channel {mad} "
                    f">= {BASELINE_TOLERANCE}; rendered image saved to {failed}")


def test_pick_real_points_full_index_with_budget(autzen, plotter):
    scene = Scene()
    renderer = SceneRenderer(plotter, scene, point_budget=30_000)
    layer = scene.add(autzen, name="autzen")
    renderer.view_preset("top")
    idx = renderer.drawn_indices(layer)
    # octree LOD: whole nodes up to the budget
    assert 15_000 <= len(idx) <= 30_000 and len(np.unique(idx)) == len(idx)
    assert np.array_equal(idx, renderer.drawn_indices(layer))  # deterministic
    picked = []
    xyz = autzen.xyz()
    for k in idx[[10, 5000, 20000]]:
        x, y = renderer.project(xyz[k])[0]
        pick = renderer.pick(x, y)
        assert pick is not None and pick.layer is layer
        assert pick.index in set(idx.tolist())  # an index into the full data
        assert np.array_equal(pick.xyz, xyz[pick.index])  # true float64 coordinates
        assert pick.xyz.dtype == np.float64
        assert np.linalg.norm(renderer.project(pick.xyz)[0] - (x, y)) < 3.0
        assert pick.attributes["classification"] == autzen.attributes["classification"][
            pick.index]
        picked.append(pick)
    assert scene.last_pick is picked[-1]
    assert renderer.pick(1, 1) is None  # a background corner
    renderer.close()


def test_pick_big_coordinates_millimetre_grid(plotter):
    n = 12
    gx, gy = np.meshgrid(np.arange(n) * 0.001, np.arange(n) * 0.001)
    xyz = np.c_[2_680_000.0 + gx.ravel(), 1_250_000.0 + gy.ravel(), np.full(n * n, 410.0)]
    pos, origin = split_origin(xyz)
    cloud = PointCloud(pos, origin, {"classification": np.full(n * n, 2, np.uint8)})
    scene = Scene()
    renderer = SceneRenderer(plotter, scene)
    layer = scene.add(cloud, name="grid", point_size=3.0)
    renderer.view_preset("top")
    for k in (0, 13, 77, n * n - 1):
        x, y = renderer.project(xyz[k])[0]
        assert 0 <= x < SIZE[0] and 0 <= y < SIZE[1]
        pick = renderer.pick(x, y)
        assert pick.layer is layer and pick.index == k
        assert np.all(np.abs(pick.xyz - xyz[k]) < 1e-6), pick.xyz - xyz[k]
    # scene camera is in true coordinates
    cam = renderer.camera_to_scene()
    assert abs(cam.focal_point[0] - 2_680_000.0055) < 0.01
    assert abs(cam.focal_point[1] - 1_250_000.0055) < 0.01
    renderer.close()


def test_camera_round_trip_and_events(autzen, plotter, tmp_path):
    scene = Scene()
    scene.background = (1.0, 1.0, 1.0)
    renderer = SceneRenderer(plotter, scene, point_budget=50_000)
    layer = scene.add(autzen, name="autzen")
    renderer.view_preset("iso")
    cam = renderer.camera_to_scene()
    assert scene.camera is cam
    lo, hi = autzen.bounds
    assert np.all(np.array(cam.focal_point) > lo - 1) and np.all(np.array(cam.focal_point) < hi + 1)
    renderer.view_preset("top")
    scene.set_camera(cam)
    renderer.scene_to_camera()
    vtk_cam = plotter.renderer.GetActiveCamera()
    assert np.allclose(np.array(vtk_cam.GetFocalPoint()) + scene.origin, cam.focal_point)
    assert np.allclose(np.array(vtk_cam.GetPosition()) + scene.origin, cam.position)

    scene.update(layer, visible=False)
    assert not any(a.GetVisibility() for a in renderer.actors(layer))
    img = shot(renderer, tmp_path, "hidden.png")
    assert np.abs(img - 255).max() <= 2  # only white background
    scene.update(layer, visible=True, opacity=0.5, point_size=4.0)
    actor = renderer.actors(layer)[0]
    assert actor.GetVisibility() and actor.GetProperty().GetOpacity() == 0.5
    assert actor.GetProperty().GetPointSize() == 4.0
    scene.set_background((0.0, 0.0, 0.0))
    img = shot(renderer, tmp_path, "black.png")
    assert img[1, 1].tolist() == [0, 0, 0]
    scene.remove(layer)
    assert renderer.actors(layer) == []
    renderer.close()


def test_screenshot_larger_than_window(autzen, plotter, tmp_path):
    scene = Scene()
    renderer = SceneRenderer(plotter, scene, point_budget=50_000)
    scene.add(autzen, name="autzen")
    img = shot(renderer, tmp_path, "big.png", size=(SIZE[0] * 2, SIZE[1] * 2))
    assert img.shape == (SIZE[1] * 2, SIZE[0] * 2, 3)
    assert tuple(plotter.window_size) == SIZE  # window restored
    assert np.any(np.abs(img - bg255(scene)).max(axis=-1) > 30)
    renderer.close()


def test_mesh_material_render_and_pick(shared_data, plotter, tmp_path):
    mesh = read(shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj")
    scene = Scene()
    renderer = SceneRenderer(plotter, scene)
    layer = scene.add(mesh, name="delft")
    assert layer.color_mode == "material"
    renderer.view_preset("top")
    img = shot(renderer, tmp_path, "mesh.png")
    fg = np.abs(img - bg255(scene)).max(axis=-1) > 30
    assert fg.mean() > 0.12  # the city fills a good part of the view
    h, w = fg.shape
    pick = renderer.pick(w / 2, h / 2)
    assert pick is not None and pick.layer is layer
    # the picked point lies on the surface (a flat LOD1 roof here); index is the
    # nearest vertex of the hit triangle
    assert pick.xyz[2] == pytest.approx(mesh.xyz()[pick.index][2], abs=0.01)
    assert np.linalg.norm(pick.xyz - mesh.xyz()[pick.index]) < 30.0
    renderer.close()


def test_point_pick_rules_front_most_under_the_cursor_else_closest():
    from viewer.picking import nearest_point

    xy = np.array([[100.0, 100.0], [101.0, 100.0], [104.0, 100.0], [130.0, 100.0]])
    depth = np.array([0.5, 0.2, -0.9, 0.0])
    # within the drawn radius (3 px) the front-most (smallest depth) wins, not the closest
    assert nearest_point(xy, depth, (100.0, 100.0), radius=3.0) == 1
    # none under the cursor: the closest within the tolerance wins, whatever its depth
    assert nearest_point(xy, depth, (108.0, 100.0), radius=2.0) == 2
    # nothing within the tolerance, or only points outside the depth range
    assert nearest_point(xy, depth, (160.0, 100.0), radius=2.0) is None
    assert nearest_point(xy, np.full(4, np.inf), (100.0, 100.0), radius=3.0) is None


def test_legend_or_colour_bar_of_the_selected_layer(autzen):
    from viewer.legend import draw_legend, overlay_for

    scene = Scene()
    layer = scene.add(autzen, name="autzen", color_mode="classification")
    overlay = overlay_for(scene)
    codes = [int(label.split()[0]) for label, _rgb in overlay.items]
    assert overlay.kind == "legend" and 2 in codes
    scene.update(layer, hidden_classes={2})
    assert 2 not in [int(label.split()[0]) for label, _ in overlay_for(scene).items]
    scene.update(layer, color_mode="intensity")
    bar = overlay_for(scene)
    assert bar.kind == "bar" and bar.info.vmax > bar.info.vmin
    scene.update(layer, visible=False)
    assert overlay_for(scene) is None
    # the legend grows with its entries and labels, and never past its caps
    from viewer.legend import Overlay

    small = draw_legend("a", Overlay("legend", items=[["2 Ground", [0, 0, 0]]]), 12,
                        (360, 300)).size
    many = Overlay("legend", items=[["6 Building with a long name", [0, 0, 0]]] * 30)
    big = draw_legend("a", many, 12, (200, 300)).size
    assert small[0] < big[0] <= 200 and small[1] < big[1] <= 300


def test_unknown_view_preset_is_refused(plotter):
    renderer = SceneRenderer(plotter, Scene())
    with pytest.raises(ValueError, match="unknown view 'north'.*top, front, side, iso, fit"):
        renderer.view_preset("north")
    renderer.view_preset("TOP")  # any case
    renderer.close()
