"""Pictures and films off screen (viewer.media_render) on the bundled sample site: tiled
stills against direct renders, transparency, 8K under EGL/llvmpipe, turntable and tour
videos re-read by ffmpeg (imageio-ffmpeg), cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heritage.exhibits.source import ExportCancelled
from viewer import media_render
from viewer.api import open_project

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample_site" / \
    "delft.realscene.json"
TOUR = "Condition walk"


@pytest.fixture(scope="module")
def site():
    with open_project(SAMPLE) as s:
        yield s


@pytest.fixture(autouse=True)
def free_renderers(site):
    yield
    site.close()  # the site's own off-screen renderer, made by render(...)


@pytest.fixture
def off(site):
    from viewer.offscreen import OffscreenRenderer

    with OffscreenRenderer(site.scene, (800, 500), session=site.session) as renderer:
        yield renderer


def test_tile_grid_covers_the_picture():
    corners = media_render.tile_grid((1000, 700), (300, 300))
    assert len(corners) == 4 * 3
    assert (0, 0) in corners and (900, 600) in corners


def test_a_tiled_still_matches_a_direct_render_of_the_same_size(off):
    size = (1200, 800)
    direct = media_render.render_still(off, None, size, view="iso")
    job = media_render.StillJob(off, None, size, view="iso", max_tile=512)
    assert job.tiled and job.total > 4  # really in tiles, with the labels
    job.run()
    tiled = job.image
    assert tiled.shape == direct.shape == (800, 1200, 3)
    diff = np.abs(tiled.astype(int) - direct.astype(int)).max(axis=2)
    assert diff.mean() < 0.5, diff.mean()
    assert (diff > 40).mean() < 0.002  # seams and labels: the same picture
    assert direct.std() > 10  # not blank
    # the renderer is left as it was: a later direct render gives the same picture
    again = media_render.render_still(off, None, size, view="iso")
    assert np.abs(again.astype(int) - direct.astype(int)).mean() < 0.05


def test_transparent_still_has_alpha_zero_where_nothing_is_drawn(site, off, tmp_path):
    out = site.render(tmp_path / "t.png", size=(640, 400), view="top", transparent=True)
    from PIL import Image

    with Image.open(out) as img:
        assert img.mode == "RGBA"
        rgba = np.asarray(img)
    alpha = rgba[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0  # corners: background
    assert 0.05 < (alpha == 255).mean() < 0.95  # the site itself is opaque
    tiled = media_render.render_still(off, None, (640, 400),
                                      view="top", transparent=True, max_tile=300)
    assert np.abs(tiled[..., 3].astype(int) - alpha.astype(int)).mean() < 1.0


@pytest.mark.slow
def test_8k_still_under_egl_with_the_point_budget(off, tmp_path):
    seen = []
    out = tmp_path / "8k.png"
    media_render.render_still(off, out, (7680, 4320), view="iso",
                              progress=lambda f, m: seen.append(f))
    from PIL import Image

    with Image.open(out) as img:
        assert img.size == (7680, 4320)
        small = np.asarray(img.convert("RGB").reduce(8))
    assert small.std() > 10
    assert len(seen) >= 4  # tiled (8K is above MAX_DIRECT), progress per tile
    assert seen == sorted(seen)
    drawn = off.renderer.drawn_points
    assert 0 < drawn <= 1_500_000


def test_cancel_leaves_nothing(site, tmp_path):
    def stop(fraction, message):
        if fraction > 0.1:
            raise ExportCancelled("stop")

    with pytest.raises(ExportCancelled):
        site.render(tmp_path / "big.png", size=(5000, 3000), view="iso", progress=stop)
    with pytest.raises(ExportCancelled):
        site.render_video(tmp_path / "spin.mp4", turntable=2, size=(160, 120), progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_turntable_video_is_h264_at_30_fps_with_every_frame(site, tmp_path):
    out = site.render_video(tmp_path / "spin.mp4", turntable=1.5, size=(320, 240))
    info = media_render.read_video_info(out)
    assert info == {"size": (320, 240), "fps": 30.0, "codec": "h264", "frames": 45}
    _, frames = media_render.frames_of(out)
    frames = list(frames())
    assert all(f.std() > 10 for f in frames)  # none blank
    # it turns: the first and the middle frame differ, the scene stays in view
    assert np.abs(frames[0].astype(int) - frames[22].astype(int)).mean() > 5


def test_tour_video_first_and_last_frames_match_the_tour_frames(site, off, tmp_path):
    from PIL import Image

    from viewer.tours import TourPath, find_tour

    size = (320, 240)
    out = site.render_video(tmp_path / "tour.mp4", tour=TOUR, size=size)
    off.set_view("iso")
    path = TourPath(site.project, find_tour(site.project, TOUR),
                    off.renderer.camera_to_scene(emit=False))
    info = media_render.read_video_info(out)
    assert info["frames"] == path.frame_count(30) and info["codec"] == "h264"
    # `realscene tour`'s frames (Site.render_tour) at the same times: t = 0 and the end
    pngs = site.render_tour(TOUR, tmp_path / "frames", size=size, fps=1 / path.duration)
    assert len(pngs) == 2
    _, frames = media_render.frames_of(out)
    video = list(frames())
    for png, frame in ((pngs[0], video[0]), (pngs[-1], video[-1])):
        with Image.open(png) as img:
            still = np.asarray(img.convert("RGB")).astype(int)
        assert np.abs(still - frame.astype(int)).mean() < 6  # H.264 (yuv420p) loss only
    assert np.abs(video[0].astype(int) - video[-1].astype(int)).mean() > 5


def test_bad_video_requests_are_one_line_errors(site, tmp_path):
    with pytest.raises(ValueError, match="even width"):
        site.render_video(tmp_path / "a.mp4", turntable=1, size=(321, 240))
    with pytest.raises(ValueError, match="MP4"):
        site.render_video(tmp_path / "a.avi", turntable=1, size=(320, 240))
    with pytest.raises(ValueError, match="either"):
        site.render_video(tmp_path / "a.mp4", size=(320, 240))
    with pytest.raises(KeyError, match="no tour named"):
        site.render_video(tmp_path / "a.mp4", tour="Nope", size=(320, 240))
