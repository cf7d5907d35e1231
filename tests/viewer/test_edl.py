"""Eye-dome lighting with strength and radius (viewer.edl), in numpy and in the renderer.

Pixel probes on a synthetic step: two planes of points at different depths seen from
above; the far plane's pixels along the step darken more as the strength grows, the dark
band widens with the radius, and background pixels (around and between points) keep the
background colour (vtkEDLShading turned them black).
"""

from __future__ import annotations

import numpy as np
import pytest

from viewer import edl
from viewer.scene import Scene


def step_depth(h=60, w=80, split=40, near=0.5, far=0.8):
    z = np.full((h, w), far, np.float32)
    z[:, :split] = near  # the near plane on the left
    return z


def test_numpy_step_darkens_with_strength_and_widens_with_radius():
    z = step_depth()
    rgb = np.full(z.shape + (4,), 200, np.uint8)
    row = 30
    values = [edl.shade(rgb, z, 1.0, 100.0, strength=s)[row, 40, 0] for s in (0.0, 0.001, 0.01)]
    assert values[0] == 200 and values[0] > values[1] > values[2]
    # only the far side of the step darkens (the pixel behind its neighbours)
    out = edl.shade(rgb, z, 1.0, 100.0, strength=0.01)
    assert (out[row, :40, 0] == 200).all() and (out[row, 42:, 0] == 200).all()
    band = [int((edl.shade(rgb, z, 1.0, 100.0, strength=0.01, radius=r)[row, :, 0] < 200).sum())
            for r in (1.4, 3.0, 6.0)]
    assert band[0] < band[1] < band[2], band
    assert band[0] == 1 and band[2] == 6


def test_numpy_background_is_never_changed():
    z = step_depth()
    z[:, 60:] = 1.0  # background right of the far plane
    z[10:20, 10:20] = 1.0  # a hole in the near plane
    rgb = np.zeros(z.shape + (4,), np.uint8)
    rgb[...] = (40, 50, 60, 255)
    rgb[z < 1] = (200, 200, 200, 255)
    out = edl.shade(rgb, z, 1.0, 100.0, strength=5.0, radius=4.0)
    bg = z >= 1
    assert (out[bg] == (40, 50, 60, 255)).all()
    # points next to background are not darkened by it either
    assert (out[30, 56:60, 0] == 200).all() and (out[22, 5:25, 0] == 200).all()


def test_numpy_parallel_projection_and_shapes():
    z = step_depth()
    rgb = np.full(z.shape + (3,), 200, np.uint8)
    assert edl.shade(rgb, z, 1.0, 100.0, strength=0.05, parallel=True)[30, 40, 0] < 200
    with pytest.raises(ValueError):
        edl.shade(rgb, z[:10], 1.0, 100.0)


def test_scene_fields_defaults_and_ranges():
    scene = Scene()
    assert (scene.edl_strength, scene.edl_radius) == (1.0, 1.4)  # Potree's
    seen = []
    scene.connect("edl_changed", lambda **kw: seen.append(kw))
    scene.set_edl(True, strength=2.5, radius=3)
    assert (scene.edl, scene.edl_strength, scene.edl_radius) == (True, 2.5, 3.0)
    scene.set_edl(radius=2)
    assert (scene.edl, scene.edl_strength, scene.edl_radius) == (True, 2.5, 2.0)
    assert [kw["enabled"] for kw in seen] == [True, True]
    for bad in ({"strength": -1}, {"strength": "x"}, {"radius": 0.2}, {"radius": float("nan")}):
        with pytest.raises(ValueError):
            scene.set_edl(False, **bad)
    assert (scene.edl, scene.edl_strength, scene.edl_radius) == (True, 2.5, 2.0)


# -- in the renderer (off-screen, llvmpipe) ---------------------------------------------------
pv = pytest.importorskip("pyvista")


def step_scene(spacing: float = 0.025) -> Scene:
    from loaders import PointCloud

    xs, ys = np.meshgrid(np.arange(0, 10, spacing), np.arange(0, 10, spacing))
    far = np.c_[xs.ravel(), ys.ravel(), np.zeros(xs.size)]
    near = far[far[:, 0] < 5] + [0, 0, 1.0]
    pts = np.r_[far, near].astype(np.float32)
    scene = Scene()
    scene.add(PointCloud(positions=pts, origin=np.zeros(3),
                         attributes={"rgb": np.full((len(pts), 3), 200, np.uint8)}), name="step")
    return scene


@pytest.fixture
def step(tmp_path):
    from PIL import Image

    from viewer.render import SceneRenderer

    scene = step_scene()
    pl = pv.Plotter(off_screen=True, window_size=(320, 240))
    r = SceneRenderer(pl, scene)
    r.view_preset("top")

    def shot(**edl_args):
        if edl_args:
            scene.set_edl(True, **edl_args)
        path = r.screenshot(tmp_path / "s.png")
        return np.asarray(Image.open(path).convert("RGB")).astype(int)

    yield scene, r, shot
    r.close()
    pl.close()


def test_renderer_step_darker_with_strength_wider_with_radius(step):
    scene, _, shot = step
    plain = shot()
    row = plain[120, :, 0]
    assert (row[100:220] == 200).all()  # no edge without EDL
    mins = [shot(strength=s)[100:140, :, 0].min() for s in (0.02, 0.1, 0.5)]
    assert 200 > mins[0] > mins[1] > mins[2], mins
    widths = [int((shot(strength=0.5, radius=r)[120, 100:220, 0] < 150).sum())
              for r in (1.4, 3.0, 6.0)]
    assert widths[0] < widths[1] < widths[2], widths
    scene.set_edl(False)
    assert (shot()[120, 100:220, 0] == 200).all()  # off again: the picture as before


def test_renderer_background_next_to_points_keeps_its_colour(tmp_path):
    """A close-up of a sparse cloud: the background between and around the points keeps
    the background colour (no black holes, no black halo)."""
    from PIL import Image

    from viewer.render import SceneRenderer

    scene = step_scene(spacing=0.5)
    pl = pv.Plotter(off_screen=True, window_size=(320, 240))
    r = SceneRenderer(pl, scene)
    try:
        r.view_preset("top")

        def shot():
            path = r.screenshot(tmp_path / "s.png")
            return np.asarray(Image.open(path).convert("RGB")).astype(int)

        plain = shot()
        scene.set_edl(True, strength=1.0, radius=1.4)
        img = shot()
    finally:
        r.close()
        pl.close()
    bg = np.round(np.array(scene.background) * 255).astype(int)
    was_bg = np.abs(plain - bg).sum(axis=2) <= 3
    assert was_bg.mean() > 0.3  # gaps between the sparse points are visible
    changed = np.abs(img - plain).sum(axis=2) > 3
    assert changed.any()  # EDL did shade the points along the step
    assert not (changed & was_bg).any(), (changed & was_bg).mean()


def test_cli_render_edl_strength_and_radius(tmp_path, capsys):
    """``realscene render --edl-strength S --edl-radius R``: the same shading as the window;
    out-of-range values are a one-line usage error."""
    import laspy
    from PIL import Image

    from viewer.cli import main

    scene = step_scene(spacing=0.05)
    pts = scene.layers[0].data.positions.astype(np.float64)
    las = laspy.create(point_format=0, file_version="1.2")
    las.header.scales = [0.001] * 3
    las.header.offsets = [0.0] * 3
    las.x, las.y, las.z = pts[:, 0], pts[:, 1], pts[:, 2]
    src = tmp_path / "step.las"
    las.write(src)

    def render(*extra):
        out = tmp_path / "out.png"
        code = main(["render", str(src), "-o", str(out), "--size", "320x240",
                     "--view", "top", "--color-by", "solid", *extra])
        assert code == 0, capsys.readouterr().err
        return np.asarray(Image.open(out).convert("L")).astype(int)

    plain = render()
    weak = render("--edl-strength", "0.02")
    strong = render("--edl-strength", "0.5")
    wide = render("--edl-strength", "0.5", "--edl-radius", "5")
    dark = [int((img < plain.max() * 0.6).sum()) for img in (plain, weak, strong, wide)]
    assert dark[0] < dark[1] < dark[2] < dark[3], dark
    capsys.readouterr()
    code = main(["render", str(src), "-o", str(tmp_path / "x.png"), "--edl-strength", "99"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "EDL strength" in err[0], err


def test_picking_is_the_same_with_edl_on(step):
    """The write-back after each frame must not disturb hardware picking."""
    scene, r, shot = step
    shot()

    def picks():
        out = []
        for x, y in ((100, 120), (160, 120), (220, 120), (162, 120)):
            p = r.pick(x, y)
            out.append(None if p is None else tuple(np.round(p.xyz, 3)))
        return out

    plain = picks()
    assert all(p is not None for p in plain)
    shot(strength=1.0, radius=3.0)
    assert picks() == plain


def test_api_render_edl_strength_and_radius(tmp_path):
    """viewer.api: ``site.render(..., edl_strength=, edl_radius=)`` shades like the CLI;
    a value out of range is a ValueError before anything is drawn."""
    import laspy
    from PIL import Image

    from viewer.api import open_files

    pts = step_scene(spacing=0.05).layers[0].data.positions.astype(np.float64)
    las = laspy.create(point_format=0, file_version="1.2")
    las.header.scales = [0.001] * 3
    las.header.offsets = [0.0] * 3
    las.x, las.y, las.z = pts[:, 0], pts[:, 1], pts[:, 2]
    las.write(tmp_path / "step.las")
    with open_files(tmp_path / "step.las") as site:

        def dark(**kw):
            out = site.render(tmp_path / "a.png", size=(320, 240), view="top", **kw)
            return int((np.asarray(Image.open(out).convert("L")) < 100).sum())

        plain = dark(edl=False)
        weak = dark(edl_strength=0.02)
        assert site.scene.edl and site.scene.edl_strength == 0.02
        wide = dark(edl_strength=0.5, edl_radius=5)
        assert plain < weak < wide
        with pytest.raises(ValueError, match="EDL radius"):
            site.render(tmp_path / "b.png", size=(320, 240), edl_radius=50)
        assert not (tmp_path / "b.png").exists()
