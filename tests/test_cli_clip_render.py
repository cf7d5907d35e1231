"""``realscene render --clip-box [--clip-outside] [--clip-outline]``: the scene drawn
clipped to a box (scene coordinates) of a real LAZ, its outside, the optional orange
outline; a malformed box is one clear line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import laspy
import numpy as np
from PIL import Image

from viewer.cli import main

W, H = 400, 300


def _render(src: Path, tmp_path: Path, name: str, *flags: str) -> np.ndarray:
    out = tmp_path / f"{name}.png"
    assert main(["render", str(src), "--size", f"{W}x{H}", "--view", "top",
                 "--background", "0,0,0", "--msaa", "0", "--no-attribution",
                 "--color-by", "solid", "-o", str(out), *flags]) == 0
    with Image.open(out) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def _lit(img: np.ndarray, x0: int, x1: int) -> int:
    return int((img[:, x0:x1].max(axis=2) > 60).sum())


def _orange(img: np.ndarray) -> int:
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return int(((r > 200) & (g > 60) & (g < 170) & (b < 60)).sum())


def test_render_clip_box_inside_outside_and_outline(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    las = laspy.read(src)
    x, y, z = np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)
    mid = (x.min() + x.max()) / 2  # the bounds' centre: the picture's middle column
    box = ",".join(repr(float(v)) for v in (x.min() - 10, y.min() - 10, z.min() - 10,
                                            mid, y.max() + 10, z.max() + 10))
    left, right = (0, W // 2 - 12), (W // 2 + 12, W)
    whole = _render(src, tmp_path, "whole")
    assert _lit(whole, *left) > 2000 and _lit(whole, *right) > 2000
    inside = _render(src, tmp_path, "inside", "--clip-box", box)
    assert _lit(inside, *left) > 0.8 * _lit(whole, *left)
    assert _lit(inside, *right) == 0
    assert _orange(inside) == 0  # no outline unless asked for
    outside = _render(src, tmp_path, "outside", "--clip-box", box, "--clip-outside")
    assert _lit(outside, *left) == 0
    assert _lit(outside, *right) > 0.8 * _lit(whole, *right)
    outlined = _render(src, tmp_path, "outlined", "--clip-box", box, "--clip-outline")
    assert _orange(outlined) > 50


def test_render_clip_box_errors(shared_data, tmp_path, capsys):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    for flags, expected in ((["--clip-box", "1,2,3"], "six numbers"),
                            (["--clip-box", "5,5,5,1,1,1"], "above its max"),
                            (["--clip-outside"], "go with --clip-box")):
        code = main(["render", str(src), "-o", str(tmp_path / "x.png"), *flags])
        err = capsys.readouterr().err
        assert code == 2, err
        assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / "x.png").exists()
