"""`realscene render` pictures and films: large and transparent PNGs, turntable and tour
MP4s (re-read by ffmpeg from imageio-ffmpeg), one-line errors for bad requests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from viewer.cli import main
from viewer.media_render import read_video_info

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "sample_site" / \
    "delft.realscene.json"


def test_render_transparent_large_png(tmp_path, capsys):
    out = tmp_path / "big.png"
    assert main(["render", str(SAMPLE), "--size", "4800x600", "--transparent",
                 "--view", "top", "-o", str(out)]) == 0
    with Image.open(out) as img:
        assert img.size == (4800, 600) and img.mode == "RGBA"
        alpha = np.asarray(img)[..., 3]
    assert alpha[0, 0] == 0 and (alpha == 255).any()


def test_render_turntable_and_tour_videos(tmp_path, capsys):
    spin = tmp_path / "spin.mp4"
    assert main(["render", str(SAMPLE), "--turntable", "1", "--size", "160x120",
                 "-o", str(spin)]) == 0
    assert read_video_info(spin) == {"size": (160, 120), "fps": 30.0, "codec": "h264",
                                     "frames": 30}
    tour = tmp_path / "tour.mp4"
    assert main(["render", str(SAMPLE), "--tour", "condition walk", "--fps", "10",
                 "--size", "160x120", "-o", str(tour)]) == 0
    info = read_video_info(tour)
    assert info["codec"] == "h264" and info["fps"] == 10.0 and info["frames"] > 10
    assert "frames at 10 fps" in capsys.readouterr().err


def test_bad_media_requests(tmp_path, capsys):
    cases = [
        (["--turntable", "2", "-o", str(tmp_path / "a.png")], ".mp4"),
        (["--turntable", "2", "--size", "161x120", "-o", str(tmp_path / "a.mp4")], "even"),
        (["--turntable", "-1", "-o", str(tmp_path / "a.mp4")], "--turntable"),
        (["--tour", "Nope", "-o", str(tmp_path / "a.mp4")], "no tour named"),
        (["--turntable", "2", "--transparent", "-o", str(tmp_path / "a.mp4")], "alpha"),
    ]
    for extra, words in cases:
        assert main(["render", str(SAMPLE), *extra]) != 0
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
