"""Legends and colour bars in the 3D view: at the UI font's size in the lower right corner,
never over the view's centre, one per coloured layer, untouched by eye-dome lighting, and in
CLI renders and tiled stills."""

from __future__ import annotations

import numpy as np
import pytest

import loaders
from viewer.legend import legend_layout, stack_boxes, ui_font_px
from viewer.scene import Scene

SIZE = (800, 500)


@pytest.fixture(scope="module")
def two_layer_scene(shared_data):
    scene = Scene()
    scene.add(loaders.read(shared_data / "pointclouds" / "autzen_trim.laz"), name="autzen",
              color_mode="classification")
    scene.add(loaders.read(shared_data / "pointclouds" / "autzen_trim.laz"),
              name="autzen again", color_mode="elevation")
    return scene


def _crop(img: np.ndarray, box) -> np.ndarray:
    x, y, w, h = box
    return img[img.shape[0] - y - h:img.shape[0] - y, x:x + w].astype(int)


def _ink_rows(rgb: np.ndarray) -> list[tuple[int, int]]:
    """Runs (first, last) of rows holding light text pixels."""
    rows = np.flatnonzero((rgb.min(axis=2) > 200).any(axis=1))
    runs, start = [], None
    for a, b in zip(rows, [*rows[1:], None], strict=True):
        start = a if start is None else start
        if b is None or b != a + 1:
            runs.append((start, a))
            start = None
    return runs


def test_boxes_stack_in_the_corner_and_never_cover_the_centre():
    sizes = [(150, 100)] * 7 + [(500, 40)]
    for view in ((800, 500), (1280, 800), (400, 300)):
        boxes = stack_boxes(sizes, view, 10, 6)
        placed = [b for b in boxes if b is not None]
        assert placed and boxes[-1] is None  # too wide for the right half
        for i, (x, y, w, h) in enumerate(placed):
            assert x >= view[0] / 2 and x + w <= view[0] - 10 and y >= 10
            assert not (x <= view[0] / 2 <= x + w and y <= view[1] / 2 <= y + h)
            for x2, y2, w2, h2 in placed[i + 1:]:
                assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y


def test_one_small_legend_per_layer_unshaded_by_edl(two_layer_scene):
    from viewer.offscreen import OffscreenRenderer

    px = ui_font_px()
    pictures = {}
    for edl in (False, True):
        two_layer_scene.edl = edl
        with OffscreenRenderer(two_layer_scene, SIZE, multi_samples=0) as r:
            r.set_view("top")
            r.plotter.camera.zoom(3)  # data under the legends
            img = r.image()
            shown = r.renderer.legend_overlays.shown
            pictures[edl] = img, [(pic, box) for pic, _ren, box in shown]
    two_layer_scene.edl = False
    img, shown = pictures[True]
    assert [pic.title for pic, _box in shown] == ["autzen", "autzen again"]
    (_, a), (_, b) = shown
    assert a[1] + a[3] <= b[1]  # stacked, not overlapping
    for pic, box in shown:
        x, y, w, h = box
        # in the right half, off the centre, small
        assert x > SIZE[0] / 2 and x + w <= SIZE[0]  # right half: the centre stays clear
        assert w * h < 0.15 * SIZE[0] * SIZE[1]
        crop = _crop(img, box)
        # EDL on: the legend is drawn as it was made (its box is 88 % opaque)
        assert np.abs(crop - pic.image[..., :3].astype(int)).mean() < 12
        assert (crop.min(axis=2) > 200).sum() > 50 and np.median(crop) < 60
        # text lines as tall as the UI font (the old legend's text was several times it)
        heights = [b - a + 1 for a, b in _ink_rows(crop)]
        assert heights and px / 2 <= max(heights) <= 1.5 * px
    # the same pixels without EDL
    img_off, shown_off = pictures[False]
    for (_pic, box), (_pic2, box2) in zip(shown, shown_off, strict=True):
        assert box == box2
        assert np.abs(_crop(img, box) - _crop(img_off, box)).mean() < 4


def test_cli_render_and_tiled_still_include_the_legend(two_layer_scene, shared_data,
                                                        tmp_path):
    from PIL import Image

    from viewer.cli import main
    from viewer.media_render import render_still
    from viewer.offscreen import OffscreenRenderer

    out = tmp_path / "render.png"
    main(["render", str(shared_data / "pointclouds" / "autzen_trim.laz"), "-o", str(out),
          "--size", "640x400", "--color-by", "classification"])
    img = np.asarray(Image.open(out).convert("RGB"))
    scene = Scene()
    scene.add(loaders.read(shared_data / "pointclouds" / "autzen_trim.laz"),
              name="autzen_trim.laz", color_mode="classification")
    (pic, box), = legend_layout(scene, (640, 400))
    assert "Ground" in " ".join(str(i[0]) for i in
                                __import__("viewer.legend").legend.overlay_for_layer(
                                    scene.layers[0]).items)
    crop = _crop(img, box)
    assert crop.shape[:2] == pic.image.shape[:2]
    assert np.abs(crop - pic.image[..., :3].astype(int)).mean() < 12
    assert (crop.min(axis=2) > 200).sum() > 50 and np.median(crop) < 60
    # a tiled still: the legend once, in the whole picture's corner, as drawn directly
    with OffscreenRenderer(two_layer_scene, (640, 400), multi_samples=0) as r:
        direct = render_still(r, None, (640, 400), view="top")
        tiled = render_still(r, None, (640, 400), view="top", max_tile=200)
        assert r.renderer.legend_overlays.hidden is False
    layout = legend_layout(two_layer_scene, (640, 400))
    assert len(layout) == 2
    for pic, box in layout:
        assert np.abs(_crop(tiled, box) - pic.image[..., :3].astype(int)).mean() < 12
        assert np.abs(_crop(tiled, box) - _crop(direct, box)).mean() < 4
    # nowhere else: the top left tile shows no legend box colour block
    assert not (np.abs(tiled[:100, :100].astype(int) - 28).sum(axis=2) < 6).all()
