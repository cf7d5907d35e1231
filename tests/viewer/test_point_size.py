"""Adaptive point size (Potree's: by level-of-detail spacing and distance) and round
splats: the spacing arithmetic (viewer.pointsize, no VTK), pixel probes of real scans
drawn off screen (llvmpipe), and the settings saved in the project."""

from __future__ import annotations

import numpy as np
import pytest

import loaders
from heritage.project import Project
from viewer import pointsize
from viewer.scene import Scene
from viewer.session import ProjectSession

pv = pytest.importorskip("pyvista")

from viewer.render import SceneRenderer  # noqa: E402

SIZE = (480, 360)


# -- spacing arithmetic (Qt-free, VTK-free) ------------------------------------------------
def test_surface_spacing_of_a_grid_and_of_a_subsample():
    g = np.arange(0.0, 40.0, 0.5)
    x, y = np.meshgrid(g, g)
    grid = np.column_stack([x.ravel(), y.ravel(), 0.02 * x.ravel()])  # a gentle slope
    assert pointsize.surface_spacing(grid) == pytest.approx(0.5, rel=0.15)
    # every 4th point of the same surface: twice the spacing
    assert pointsize.surface_spacing(grid[::4]) == pytest.approx(1.0, rel=0.2)
    # a strip (a narrow scan) is not taken for a square
    strip = grid[grid[:, 1] < 4.0]
    assert pointsize.surface_spacing(strip) == pytest.approx(0.5, rel=0.2)
    assert pointsize.surface_spacing(grid[:1]) == 0.0


def test_cumulative_spacing_adds_the_ancestors_density():
    own = {(0, 0, 0, 0): 2.0, (1, 1, 0, 0): 1.0, (2, 2, 1, 0): 0.5}
    cum = pointsize.cumulative_spacing(own)
    assert cum[(0, 0, 0, 0)] == pytest.approx(2.0)
    assert cum[(1, 1, 0, 0)] == pytest.approx(1.0 / np.sqrt(1.0 + 0.25))
    assert cum[(2, 2, 1, 0)] == pytest.approx(1.0 / np.sqrt(4.0 + 1.0 + 0.25))


def test_coarse_points_under_a_finer_drawn_node_take_its_spacing():
    # root cube [0, 8]^3; the drawn child (1, 0, 0, 0) covers [0, 4]^3
    own = {(0, 0, 0, 0): 2.0, (1, 0, 0, 0): 1.0}
    pts = np.array([[1.0, 1.0, 1.0],   # root point inside the drawn child's cell
                    [6.0, 6.0, 1.0],   # root point where nothing finer is drawn
                    [2.0, 2.0, 2.0]])  # the child's own point
    spacing = pointsize.lod_spacing(pts, [0, 0, 1], own, [0, 0, 0], [8, 8, 8])
    fine = 1.0 / np.sqrt(1.0 + 0.25)
    np.testing.assert_allclose(spacing, [fine, 2.0, fine], rtol=1e-6)


def test_pixel_sizes_shrink_with_distance_within_limits():
    sizes = pointsize.pixel_sizes([0.5, 0.5, 0.5], [1.0, 10.0, 1000.0], projection=100.0,
                                  minimum=2.0, maximum=40.0, scale=1.0)
    np.testing.assert_allclose(sizes, [40.0, 5.0, 2.0])
    assert pointsize.projection_factor(800, 90.0) == pytest.approx(400.0)
    assert pointsize.projection_factor(800, 30.0, parallel=True, parallel_scale=4) == 100.0


# -- pixels ----------------------------------------------------------------------------------
@pytest.fixture
def plotter():
    pl = pv.Plotter(off_screen=True, window_size=SIZE)
    yield pl
    pl.close()


def _image(renderer, tmp_path, name):
    from PIL import Image

    return np.asarray(Image.open(renderer.screenshot(tmp_path / name)).convert("RGB")).astype(int)


def _background_share(img, scene):
    bg = np.round(np.array(scene.background) * 255)
    return float((np.abs(img - bg).max(axis=2) <= 10).mean())


def _close_up_over_the_ground(renderer, plotter, cloud):
    """Looking down-slope at the middle of the scan from ~30 m: the ground fills the
    whole picture, so every background pixel is a hole in the surface."""
    lo, hi = (np.asarray(b) for b in cloud.bounds)
    c = (lo + hi) / 2
    cam = plotter.renderer.GetActiveCamera()
    cam.SetFocalPoint(*renderer.to_local([c[0], c[1], lo[2]]))
    cam.SetPosition(*renderer.to_local([c[0], c[1] - 15, lo[2] + 25]))
    cam.SetViewUp(0, 0, 1)
    plotter.renderer.ResetCameraClippingRange()


def test_close_up_of_a_scan_is_a_closed_surface_in_adaptive_size(shared_data, plotter,
                                                                  tmp_path):
    cloud = loaders.read(shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    scene = Scene()
    renderer = SceneRenderer(plotter, scene, point_budget=1_000_000)
    layer = scene.add(cloud, name="ahn3")
    assert layer.point_size_mode == "adaptive" and layer.point_shape == "square"
    _close_up_over_the_ground(renderer, plotter, cloud)
    adaptive = _image(renderer, tmp_path, "adaptive.png")
    sizes = renderer.point_pixel_sizes(layer)
    scene.update(layer, point_size_mode="fixed")
    fixed = _image(renderer, tmp_path, "fixed.png")
    assert _background_share(fixed, scene) > 0.5  # 2-px dots with black holes
    assert _background_share(adaptive, scene) < 0.05
    assert np.median(sizes) > 4 * layer.point_size
    assert np.all(renderer.point_pixel_sizes(layer) == layer.point_size)
    # the top view of the whole scan does not blob: as much background as fixed points
    renderer.view_preset("top")
    far_fixed = _background_share(_image(renderer, tmp_path, "far_fixed.png"), scene)
    scene.update(layer, point_size_mode="adaptive")
    far = _background_share(_image(renderer, tmp_path, "far.png"), scene)
    assert far == pytest.approx(far_fixed, abs=0.03)
    assert np.median(renderer.point_pixel_sizes(layer)) < 3 * layer.point_size


def test_round_splats_differ_from_squares(shared_data, plotter, tmp_path):
    cloud = loaders.read(shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    scene = Scene()
    renderer = SceneRenderer(plotter, scene, point_budget=1_000_000)
    layer = scene.add(cloud, name="ahn3")
    _close_up_over_the_ground(renderer, plotter, cloud)
    for mode in ("adaptive", "fixed"):
        scene.update(layer, point_size_mode=mode, point_size=6.0, point_shape="square")
        square = _image(renderer, tmp_path, f"square-{mode}.png")
        scene.update(layer, point_shape="round")
        round_ = _image(renderer, tmp_path, f"round-{mode}.png")
        changed = (np.abs(square - round_).max(axis=2) > 30).mean()
        assert changed > 0.02, mode
        # round splats leave the squares' corners empty: more background, never less
        assert _background_share(round_, scene) > _background_share(square, scene)


def test_streamed_copc_nodes_are_sized_by_their_level_and_picked(shared_data, plotter,
                                                                 tmp_path):
    from loaders.copc import open_copc

    src = open_copc(shared_data / "pointclouds" / "lion_takanawa.copc.laz")
    try:
        preview = src.preview()
        scene = Scene()
        renderer = SceneRenderer(plotter, scene, point_budget=1_000_000)
        layer = scene.add(preview, name="lion")
        scene.update(layer, lod=src)
        renderer.fit()
        renderer.update_lod(force=True, wait=True)
        far = renderer.point_pixel_sizes(layer)
        plotter.renderer.GetActiveCamera().Zoom(6.0)
        plotter.renderer.ResetCameraClippingRange()
        before = _background_share(_image(renderer, tmp_path, "near-adaptive.png"), scene)
        near = renderer.point_pixel_sizes(layer)
        assert np.median(near) > 2 * np.median(far)
        scene.update(layer, point_size_mode="fixed")
        assert _background_share(_image(renderer, tmp_path, "near-fixed.png"), scene) \
            > before + 0.1
        scene.update(layer, point_size_mode="adaptive")
        renderer.render()
        w, h = plotter.renderer.GetSize()
        pick = renderer.pick(w / 2, h / 2)
        assert pick is not None and pick.layer is layer
    finally:
        src.close()


# -- the project -------------------------------------------------------------------------------
def test_size_mode_and_shape_are_saved_and_restored(shared_data, tmp_path):
    path = shared_data / "pointclouds" / "autzen-bmx-2010.las"
    scene = Scene()
    layer = scene.add(loaders.read(path), path=str(path))
    session = ProjectSession(scene, Project(path=tmp_path / "p.json"))
    session.update_layer(layer, point_size_mode="fixed", point_shape="round", point_size=3.0)
    rec = Project.load(session.save()).layers[0]  # validated against the schema
    assert rec.display["point_size_mode"] == "fixed" and rec.display["point_shape"] == "round"
    fresh = Scene()
    again = fresh.add(loaders.read(path), path=str(path))
    assert again.point_size_mode == "adaptive" and again.point_shape == "square"
    fresh.update(again, **ProjectSession.apply_record(again, rec))
    assert (again.point_size_mode, again.point_shape, again.point_size) == \
        ("fixed", "round", 3.0)
    with pytest.raises(ValueError):
        fresh.update(again, point_shape="triangle")
    with pytest.raises(ValueError):
        fresh.update(again, point_size_mode="huge")


# -- the CLI and a script ----------------------------------------------------------------------
def test_cli_render_round_and_fixed_points(shared_data, tmp_path, capsys):
    from PIL import Image

    from viewer.cli import main

    scan = shared_data / "pointclouds" / "autzen_trim.laz"
    common = ["render", str(scan), "--size", "320x240", "--view", "top", "--point-size", "4",
              "--msaa", "0"]
    images = {}
    for name, extra in {"adaptive": [], "round": ["--round-points"],
                        "fixed": ["--point-size-mode", "fixed"]}.items():
        out = tmp_path / f"{name}.png"
        assert main([*common, "-o", str(out), *extra]) == 0, capsys.readouterr().err
        images[name] = np.asarray(Image.open(out).convert("RGB")).astype(int)
    def changed(name):
        return (np.abs(images[name] - images["adaptive"]).max(axis=2) > 30).mean()

    assert changed("round") > 0.01
    # the whole scan from above: adaptive points stay at the point size (no blobs)
    assert changed("fixed") < 0.005
    assert main([*common, "-o", str(tmp_path / "x.png"), "--point-size-mode", "huge"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_script_sets_size_mode_and_shape(shared_data):
    from viewer.api import open_files

    site = open_files(shared_data / "pointclouds" / "autzen-bmx-2010.las")
    layer = site.layers[0]
    assert layer.point_size_mode == "adaptive" and layer.point_shape == "square"
    layer.point_size_mode = "fixed"
    layer.point_shape = "round"
    assert (layer.point_size_mode, layer.point_shape) == ("fixed", "round")
    with pytest.raises(ValueError):
        layer.point_shape = "star"


def test_benchmark_runs(shared_data):
    """benchmarks/point_size.py on a small window (no timing assertions: it cannot rot)."""
    from benchmarks import point_size

    results = point_size.run(copies=1, frames=1, size=(160, 120))
    techniques = {r["technique"] for r in results["rows"]}
    assert {"fixed square", "adaptive square", "adaptive round",
            "vtkPointGaussianMapper round"} <= techniques
    assert all(r["frame_s"] > 0 and r["drawn"] > 0 for r in results["rows"])
    assert "| close-up | adaptive round |" in point_size.report(results)


def test_lod_spacing_in_steps_and_from_indices_equals_it_whole(monkeypatch):
    rng = np.random.default_rng(5)
    cloud = rng.uniform(0, 8, (5000, 3)).astype(np.float32)
    own = {(0, 0, 0, 0): 0.5, (1, 0, 0, 0): 0.3, (1, 1, 1, 0): 0.25, (2, 1, 1, 1): 0.1,
           (3, 2, 3, 2): 0.05}
    idx = rng.choice(len(cloud), 3000, replace=False)
    keys = rng.integers(0, len(own), len(idx)).astype(np.int32)
    whole = pointsize.lod_spacing(cloud[idx], keys, own, [0, 0, 0], [8, 8, 8])
    monkeypatch.setattr(pointsize, "SPACING_CHUNK", 257)
    steps = pointsize.lod_spacing(cloud, keys, own, [0, 0, 0], [8, 8, 8], index=idx)
    assert whole.dtype == np.float32 and len(set(whole.tolist())) > 2  # some refined
    np.testing.assert_array_equal(steps, whole)
