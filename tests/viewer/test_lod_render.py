"""Rendering through the level of detail: budgets, one actor per layer, view-dependent
density, and precision at national-grid coordinates (off-screen VTK, llvmpipe)."""

from __future__ import annotations

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from loaders import PointCloud, read, split_origin  # noqa: E402
from viewer.render import SceneRenderer  # noqa: E402
from viewer.scene import Scene  # noqa: E402

SIZE = (320, 240)


@pytest.fixture
def plotter():
    pl = pv.Plotter(off_screen=True, window_size=SIZE)
    yield pl
    pl.close()


def shot(renderer, tmp_path, name):
    from PIL import Image

    return np.asarray(Image.open(renderer.screenshot(tmp_path / name)).convert("RGB")).astype(int)


def test_budget_one_actor_and_nearer_region_denser(shared_data, plotter, tmp_path):
    cloud = read(shared_data / "pointclouds" / "ahn3_cropped_2.laz")  # drawing reorders it
    scene = Scene()
    renderer = SceneRenderer(plotter, scene, point_budget=40_000)
    layer = scene.add(cloud, name="ahn3")
    renderer.view_preset("top")
    idx = renderer.drawn_indices(layer)
    assert 10_000 <= len(idx) <= 40_000 == renderer.current_budget()
    assert renderer.drawn_points == len(idx) and renderer.total_points == cloud.point_count
    assert len(renderer.actors(layer)) == 1
    img = shot(renderer, tmp_path, "top.png")
    assert (np.abs(img - np.round(np.array(scene.background) * 255)).max(axis=2) > 30).mean() > 0.1
    # camera low over the south-west corner looking north-east: more points drawn there
    lo, hi = (np.asarray(b) for b in cloud.bounds)
    corner = lo + (hi - lo) * [0.15, 0.15, 0.0]

    def share_near(indices):
        xy = layer.data.xyz()[indices][:, :2]
        return np.mean(np.linalg.norm(xy - corner[:2], axis=1) < 15.0)

    top_share = share_near(idx)
    cam = plotter.renderer.GetActiveCamera()
    cam.SetFocalPoint(*renderer.to_local(corner + [30, 30, 0]))
    cam.SetPosition(*renderer.to_local(corner + [-25, -25, 30]))
    cam.SetViewUp(0, 0, 1)
    plotter.renderer.ResetCameraClippingRange()
    near_idx = renderer.drawn_indices(layer)
    assert len(near_idx) <= 40_000
    assert share_near(near_idx) > 1.5 * top_share
    assert np.sum(np.linalg.norm(layer.data.xyz()[near_idx][:, :2] - corner[:2], axis=1)
                  < 15.0) > 1.5 * np.sum(np.linalg.norm(layer.data.xyz()[idx][:, :2]
                                                        - corner[:2], axis=1) < 15.0)
    assert len(renderer.actors(layer)) == 1
    # hidden classes are honoured on node data
    scene.update(layer, hidden_classes={2})
    hidden = renderer.drawn_indices(layer)
    assert not np.any(layer.data.attributes["classification"][hidden] == 2)
    # a camera looking away draws nothing
    cam.SetPosition(*renderer.to_local(corner + [-300, -300, 30]))
    cam.SetFocalPoint(*renderer.to_local(corner + [-1000, -1000, 0]))
    assert len(renderer.drawn_indices(layer)) == 0
    renderer.close()


def test_auto_budget_adapts_to_measured_cost(plotter):
    renderer = SceneRenderer(plotter, Scene())
    assert renderer.point_budget == "auto"
    renderer.seconds_per_point = 3e-6  # llvmpipe
    inter, rest = renderer.budgets()
    assert 20_000 <= inter < rest <= 200_000
    renderer.seconds_per_point = 1e-9  # a workstation GPU
    inter, rest = renderer.budgets()
    assert inter >= 5_000_000 and rest == renderer.max_budget
    renderer.set_point_budget(250_000)
    assert renderer.budgets()[1] == 250_000 and renderer.current_budget() == 250_000
    renderer.close()


@pytest.mark.parametrize("east,north", [(2_680_000.0, 1_250_000.0), (500_000.0, 5_000_000.0)])
def test_millimetre_grid_at_national_grid_coordinates(plotter, tmp_path, east, north):
    """A 1 mm grid in the middle of 300k points spread over 1 km: zoomed in, every grid
    column is drawn as its own column of pixels, and picks return the exact points."""
    rng = np.random.default_rng(7)
    n_bg = 300_000
    bg = np.c_[east + rng.uniform(-500, 500, n_bg), north + rng.uniform(-500, 500, n_bg),
               400.0 + rng.uniform(0, 5, n_bg)]
    k = 20
    gx, gy = np.meshgrid(np.arange(k) * 0.001, np.arange(k) * 0.001)
    grid = np.c_[east + 0.0005 + gx.ravel(), north + 0.0005 + gy.ravel(), np.full(k * k, 410.0)]
    xyz = np.vstack([bg, grid])
    pos, origin = split_origin(xyz)
    cls = np.r_[np.full(n_bg, 1, np.uint8), np.full(k * k, 6, np.uint8)]
    cloud = PointCloud(pos, origin, {"classification": cls})
    scene = Scene()
    scene.background = (0.0, 0.0, 0.0)
    renderer = SceneRenderer(plotter, scene, point_budget=50_000)
    # fixed 3-px points: an adaptive size would (rightly) close the grid into a surface
    layer = scene.add(cloud, name="grid", point_size=3.0, point_size_mode="fixed",
                      color_mode="solid", solid_color=(1.0, 1.0, 1.0))
    renderer.view_preset("top")
    centre = grid.mean(axis=0)
    cam = plotter.renderer.GetActiveCamera()
    cam.SetParallelProjection(True)
    cam.SetFocalPoint(*renderer.to_local(centre))
    cam.SetPosition(*renderer.to_local(centre + [0, 0, 50]))
    cam.SetViewUp(0, 1, 0)
    cam.SetParallelScale(0.012)  # 24 mm over 240 px: 10 px per millimetre
    plotter.renderer.ResetCameraClippingRange()
    img = shot(renderer, tmp_path, "grid.png")
    assert renderer.drawn_points <= 50_000
    fg = img.max(axis=2) > 128
    cols = np.flatnonzero(fg.any(axis=0))
    rows = np.flatnonzero(fg.any(axis=1))
    groups = lambda ix: 1 + int(np.sum(np.diff(ix) > 1)) if len(ix) else 0  # noqa: E731
    assert groups(cols) == k and groups(rows) == k  # distinct columns/rows, no banding
    spacing = np.diff([c for c in cols if c - 1 not in cols])
    assert np.all(np.abs(spacing - 10) <= 1), spacing
    # picking returns the true float64 coordinates of the chosen grid point
    data_xyz = layer.data.xyz()
    for g in (0, 21, 210, k * k - 1):
        x, y = renderer.project(grid[g])[0]
        pick = renderer.pick(x, y)
        assert pick is not None and pick.layer is layer
        assert np.all(np.abs(pick.xyz - grid[g]) < 1e-6), pick.xyz - grid[g]
        assert np.array_equal(pick.xyz, data_xyz[pick.index])
    renderer.close()


class FakeClock:
    """Seconds that move only when told to: ``advance(dt)``, or ``tick`` per reading."""

    def __init__(self, tick=0.0):
        self.now = 1000.0
        self.tick = tick

    def __call__(self):
        self.now += self.tick
        return self.now

    def advance(self, seconds):
        self.now += seconds


def _on_screen(renderer, monkeypatch):
    """Make an off-screen renderer behave as an on-screen (GUI) one; count its frames."""
    monkeypatch.setattr(renderer, "_off_screen", lambda: False)
    frames = []
    real = renderer.plotter.render
    monkeypatch.setattr(renderer.plotter, "render",
                        lambda *a, **kw: (frames.append(renderer.drawn_points), real())[1])
    return frames


def _cloud(n=200_000, seed=3):
    rng = np.random.default_rng(seed)
    xyz = np.c_[rng.uniform(0, 500, n), rng.uniform(0, 500, n), rng.uniform(0, 20, n)]
    local, origin = split_origin(xyz)
    return PointCloud(local, origin,
                      {"rgb": rng.integers(0, 255, (n, 3), dtype=np.uint8)})


def test_gui_frames_during_a_load_are_interactive_and_coalesced(plotter, monkeypatch):
    scene = Scene()
    clock = FakeClock()
    renderer = SceneRenderer(plotter, scene, clock=clock)
    frames = _on_screen(renderer, monkeypatch)
    renderer.settle_seconds = 0.0
    # nothing timed yet: a conservative first budget, not the rest budget
    assert renderer.current_budget() == renderer.first_budget <= 50_000
    layer = scene.add(_cloud(), name="preview", loading=True)
    assert frames == []  # scene events do not render synchronously...
    assert renderer.needs_update and renderer.process_updates()
    assert len(frames) == 1  # ...the pending frame is drawn once
    assert frames[0] <= renderer.first_budget
    renderer.budget.timed = True  # as if timed (pyvista skips frames before its first show)

    renderer.seconds_per_point = 1e-6
    inter, rest = renderer.budgets()
    assert inter < rest
    assert renderer.current_budget() == inter  # loading: interactive budget
    # several events in one turn: one frame
    scene.update(layer, point_size=3.0)
    scene.update(layer, opacity=0.5)
    scene.set_background((0.2, 0.2, 0.2))
    del frames[:]
    renderer.process_updates()
    assert len(frames) == 1
    # while loading, the refinement does not start
    for _ in range(5):
        renderer.process_updates()
    assert renderer.drawn_points <= inter and renderer.needs_update

    # the full cloud replaces the preview: refined in steps up to the rest budget
    layer.loading = False
    renderer.settle_seconds = 60.0
    scene.update(layer, data=_cloud(400_000, seed=4))
    after_swap = renderer.drawn_points
    assert renderer.budget.last_budget == inter  # the swap itself is drawn interactively
    renderer.process_updates()
    assert renderer.budget.last_budget == inter and renderer.needs_update  # still settling
    clock.advance(59.0)
    renderer.process_updates()
    assert renderer.budget.last_budget == inter and renderer.needs_update  # still settling
    clock.advance(1.5)  # the settling time is over
    steps = []
    for _ in range(20):
        renderer.seconds_per_point = 1e-6  # keep the budgets fixed for the test
        if not renderer.needs_update:
            break
        if renderer.process_updates():
            steps.append(renderer.drawn_points)
    assert not renderer.needs_update
    assert steps and steps == sorted(steps)
    assert after_swap <= steps[-1] and renderer.budget.last_budget == rest
    assert renderer.current_budget() == rest
    renderer.close()


def test_budget_grows_after_the_first_timed_frame(plotter, monkeypatch):
    scene = Scene()
    clock = FakeClock()
    renderer = SceneRenderer(plotter, scene, clock=clock)
    frames = _on_screen(renderer, monkeypatch)
    renderer.settle_seconds = 0.0
    scene.add(_cloud(), name="a", loading=True)
    renderer.process_updates()
    assert frames == [renderer.first_budget]
    assert not renderer.budget.timed  # pyvista skips frames before its first show
    # a real frame of the render window, timed by the clock: 0.1 us per point drawn
    clock.tick = 1e-7 * renderer.drawn_points
    plotter.ren_win.Render()
    clock.tick = 0.0
    assert renderer.budget.timed and renderer.last_frame_seconds == pytest.approx(
        1e-7 * renderer.drawn_points)
    assert renderer.seconds_per_point == pytest.approx(1e-7)
    # the measured cost allows far more: the next poll draws more (still interactive)
    assert renderer.needs_update
    renderer.process_updates()
    assert frames[-1] > renderer.first_budget
    renderer.close()
