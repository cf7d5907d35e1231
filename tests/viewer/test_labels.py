"""Annotation and measurement labels placed in screen space (viewer.labels and the
overlay's labels): labels anchored a few pixels apart do not overlap (in the placement
and in the rendered picture), a label at the view's edge is drawn whole inside it, the
selected markup's label always shows, and a camera change re-places them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.labels import candidates, leader_for, overlap, place_labels, project
from viewer.overlay import LABEL_BACKGROUND

SAMPLE_PROJECT = Path(__file__).resolve().parents[2] / "assets/sample_site/delft.realscene.json"
SIZE = (640, 420)


def _assert_apart(boxes) -> None:
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not overlap(a, b), (a, b)


def _assert_inside(box, view) -> None:
    x, y, w, h = box
    assert x >= 0 and y >= 0 and x + w <= view[0] and y + h <= view[1], (box, view)


# -- placement (no VTK) -----------------------------------------------------------------------
def test_labels_anchored_a_few_pixels_apart_do_not_overlap():
    view = (800, 500)
    anchors = np.array([[400 + 3 * i, 250 + 2 * i] for i in range(6)], dtype=float)
    sizes = np.array([[150, 19], [120, 19], [190, 19], [90, 19], [160, 19], [110, 19]], float)
    placed = place_labels(anchors, sizes, view)
    assert len(placed) == 6  # room for all of them around the cluster
    _assert_apart([p.box for p in placed])
    for p in placed:
        _assert_inside(p.box, view)
        assert p.box[2:] == tuple(sizes[p.index])
    # the ones moved away from their anchor say where they belong
    far = [p for p in placed if leader_for(p.anchor, p.box) is not None]
    assert far and all(p.leader is not None for p in far)


def test_labels_with_no_room_are_dropped_but_the_selected_one_shows():
    view = (300, 120)
    anchors = np.tile([150.0, 60.0], (40, 1))
    sizes = np.tile([120.0, 19.0], (40, 1))
    keep = np.zeros(40, bool)
    keep[37] = True
    placed = place_labels(anchors, sizes, view, keep=keep)
    assert 2 <= len(placed) < 40
    assert 37 in [p.index for p in placed]
    _assert_apart([p.box for p in placed])
    for p in placed:
        _assert_inside(p.box, view)


def test_labels_avoid_markers_when_they_can():
    view = (800, 500)
    anchor = np.array([[400.0, 250.0]])
    right = candidates((400.0, 250.0), (100.0, 19.0), view)[0][0]
    # a pin where the label would go first: it goes elsewhere
    pin = np.array([[right[0] + 40, right[1] + 9]])
    placed = place_labels(anchor, [[100.0, 19.0]], view, markers=pin)
    box = placed[0].box
    assert box != right
    assert not overlap(box, (pin[0, 0] - 8, pin[0, 1] - 8, 16, 16))


def test_labels_keep_off_the_legends_boxes():
    """A label anchored next to the legend's corner is placed off the legend's box."""
    view = (800, 500)
    legend = (600.0, 10.0, 190.0, 200.0)  # (x, y, w, h), lower right, as viewer.legend
    anchor = np.array([[560.0, 100.0]])
    first = candidates((560.0, 100.0), (150.0, 19.0), view)[0][0]
    assert overlap(first, legend)  # its first choice would cover the legend
    placed = place_labels(anchor, [[150.0, 19.0]], view, obstacles=[legend])
    assert len(placed) == 1 and not overlap(placed[0].box, legend)


def test_drawn_labels_keep_off_the_legend():
    """A pin on the scan just left of the classification legend: its label, whose first
    place would cover the legend, is drawn off the legend's box (the overlay passes the
    legends' boxes at the picture's size to the placement)."""
    from heritage.model import Annotation
    from viewer import pipeline
    from viewer.offscreen import OffscreenRenderer

    session = pipeline.open_project(SAMPLE_PROJECT)
    try:
        session.project.annotations.clear()
        session.project.measurements.clear()
        scene = session.scene
        with OffscreenRenderer(scene, SIZE, session=session, multi_samples=0) as r:
            r.image("Overview")
            boxes = r.renderer.legend_overlays.boxes_for(SIZE)
            assert boxes, "the sample's classified scan has a legend"
            x, y, w, h = boxes[0]
            pick = None
            for dx in range(4, 80, 4):  # a scan point just left of the legend
                pick = r.renderer.pick(x - dx, y + h / 2)
                if pick is not None:
                    break
            assert pick is not None
            title = "Crack"  # short: its first place, right of the pin, fits the view
            session.project.annotations.append(
                Annotation(kind="point", points=[list(map(float, pick.xyz))], title=title))
            r.overlay.refresh()
            r.image("Overview")
            placed = list(r.overlay.placed)
        assert placed
        first = candidates(tuple(placed[0].anchor), tuple(placed[0].box[2:]), SIZE)[0][0]
        assert any(overlap(first, b) for b in boxes)  # where it would go without the rule
        for p in placed:
            assert not any(overlap(p.box, b) for b in boxes), (p.box, boxes)
    finally:
        pipeline.close_scene(session.scene)


def test_label_at_the_edge_is_shifted_inside():
    view = (640, 400)
    for anchor in ([638.0, 200.0], [2.0, 397.0], [320.0, 1.0], [639.0, 0.0]):
        placed = place_labels(np.array([anchor]), [[200.0, 19.0]], view)
        assert len(placed) == 1
        _assert_inside(placed[0].box, view)


def test_anchors_outside_the_view_or_behind_the_camera_show_no_label():
    view = (640, 400)
    anchors = np.array([[-30.0, 200.0], [700.0, 10.0], [320.0, 200.0], [300.0, 100.0]])
    placed = place_labels(anchors, np.tile([80.0, 19.0], (4, 1)), view,
                          visible=[True, True, True, False])
    assert [p.index for p in placed] == [2]


def test_project_matches_a_known_projection():
    # a camera looking down -z: x, y in [-1, 1] map to the view, w = -z
    m = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, -0.1], [0, 0, -1, 0]], float)
    xy, front = project(m, [[0.5, -0.5, -1.0], [0, 0, 2.0]], (200, 100))
    assert np.allclose(xy[0], [150.0, 25.0]) and front.tolist() == [True, False]


# -- the overlay's labels, drawn -----------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster_site():
    """The sample site with its layers hidden (a plain background) and five pin
    annotations a few centimetres apart (a few pixels on screen), nothing else."""
    from heritage.model import Annotation
    from viewer import pipeline

    session = pipeline.open_project(SAMPLE_PROJECT)
    anns = session.project.annotations
    base = np.asarray(anns[0].anchor, dtype=float)
    for a in anns:
        a.visible = False
    session.project.measurements.clear()
    titles = ["Weathered roof ridge", "Facade repair (1998)", "Crack along the quay wall",
              "Moss", "Tree canopy against the facade"]
    for i, title in enumerate(titles):
        anns.append(Annotation(kind="point", points=[list(base + [0.03 * i, 0.02 * i, 0.0])],
                               title=title))
    for layer in session.scene.layers:
        layer.visible = False
    yield session
    pipeline.close_scene(session.scene)


def _label_pixels(img: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Pixels that are not the plain background (label boxes, text, pins, leaders)."""
    return np.abs(img.astype(int) - background).sum(axis=2) > 9


def _patches(mask: np.ndarray) -> int:
    """How many 8-connected patches ``mask`` holds."""
    seen = np.zeros_like(mask)
    count = 0
    h, w = mask.shape
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        count += 1
        stack = [start]
        seen[start] = True
        while stack:
            r, c = stack.pop()
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < h and 0 <= cc < w and mask[rr, cc] and not seen[rr, cc]:
                        seen[rr, cc] = True
                        stack.append((rr, cc))
    return count


def _mask(boxes, shape) -> np.ndarray:
    out = np.zeros(shape[:2], bool)
    h = shape[0]
    for x, y, w, bh in boxes:
        out[max(h - int(np.ceil(y + bh)), 0):h - int(y), int(x):int(np.ceil(x + w))] = True
    return out


def test_drawn_labels_of_close_anchors_do_not_overlap(cluster_site):
    from viewer.offscreen import OffscreenRenderer

    with OffscreenRenderer(cluster_site.scene, SIZE, session=cluster_site,
                           multi_samples=0) as r:
        img = r.image("Overview")
        placed = list(r.overlay.placed)
        texts = list(r.overlay.label_texts)
    assert len(texts) == 5 and len(placed) == 5
    anchors = np.array([p.anchor for p in placed])
    assert np.ptp(anchors, axis=0).max() < 12  # anchored a few pixels apart
    boxes = [p.box for p in placed]
    _assert_apart(boxes)
    for box in boxes:
        _assert_inside(box, SIZE)
    background = np.median(img.reshape(-1, 3), axis=0).astype(int)
    drawn = _label_pixels(img, background)
    # each box is drawn whole (its background and text)
    inner = [(x + 1, y + 1, w - 2, h - 2) for x, y, w, h in boxes]
    assert drawn[_mask(inner, img.shape)].mean() > 0.97
    # the boxes drawn (label background and text, each pixel once) are as many separate
    # patches as there are labels: two overlapping or touching boxes would be one
    near = _mask(boxes, img.shape)
    box_colour = np.round(0.7 * 255 * np.asarray(LABEL_BACKGROUND) + 0.3 * background)
    label_px = (np.abs(img.astype(int) - box_colour).max(axis=2) <= 6) | (img.min(axis=2) > 90)
    assert _patches(label_px & near) == len(boxes)
    # and no label box is drawn anywhere else
    far = ~_mask([(x - 3, y - 3, w + 6, h + 6) for x, y, w, h in boxes], img.shape)
    assert (np.abs(img.astype(int) - box_colour).max(axis=2) <= 3)[far].sum() < 40
    # white text inside every box, and (but for leader lines and pins) nowhere else
    white = img.min(axis=2) > 200
    for box in inner:
        cols = white[_mask([box], img.shape)].sum()
        assert cols > 20, box
    outside = white & ~_mask([(x - 2, y - 2, w + 4, h + 4) for x, y, w, h in boxes],
                             img.shape)
    assert outside.sum() < 0.02 * white.sum() + sum(
        np.hypot(p.leader[2] - p.leader[0], p.leader[3] - p.leader[1]) * 2
        for p in placed if p.leader)


def test_label_anchored_at_the_right_edge_is_inside_the_picture(cluster_site):
    from viewer.offscreen import OffscreenRenderer

    anns = cluster_site.project.annotations
    shown = [a for a in anns if a.visible]
    saved = [a.points for a in shown]
    try:
        with OffscreenRenderer(cluster_site.scene, SIZE, session=cluster_site,
                               multi_samples=0) as r:
            r.set_view("Overview")
            ren = r.plotter.renderer
            cam = ren.GetActiveCamera()
            vtk_m = cam.GetCompositeProjectionTransformMatrix(SIZE[0] / SIZE[1], -1, 1)
            m = np.array([[vtk_m.GetElement(i, j) for j in range(4)] for i in range(4)])
            # a point that projects 2 px from the right edge, half way up: unproject
            target = np.array([(SIZE[0] - 2) / SIZE[0] * 2 - 1, 0.0, 0.5, 1.0])
            world = np.linalg.solve(m, target)
            true = r.renderer.to_true(world[:3] / world[3])
            for a in shown[1:]:
                a.visible = False
            shown[0].points = [list(map(float, np.ravel(true)))]
            shown[0].title = "Crack along the quay wall, east end"
            r.overlay.refresh()
            img = r.image()
            placed = list(r.overlay.placed)
    finally:
        for a, points in zip(shown, saved, strict=True):
            a.points, a.visible = points, True
    assert len(placed) == 1
    p = placed[0]
    assert p.anchor[0] == pytest.approx(SIZE[0] - 2, abs=1.0)
    _assert_inside(p.box, SIZE)
    # the whole text is drawn: its ink spans (nearly) the box, which ends inside the picture
    white = img.min(axis=2) > 200
    box_mask = _mask([p.box], img.shape)
    cols = np.flatnonzero((white & box_mask).any(axis=0))
    assert cols.size and cols.max() < SIZE[0] - 1
    assert cols.max() - cols.min() > 0.85 * (p.box[2] - 8)


def test_labels_follow_the_camera_without_a_rebuild(cluster_site):
    from viewer.offscreen import OffscreenRenderer

    with OffscreenRenderer(cluster_site.scene, SIZE, session=cluster_site,
                           multi_samples=0) as r:
        r.image("Overview")
        actors = list(r.overlay._label_actors)
        first = [p.anchor for p in r.overlay.placed]
        cam = r.plotter.renderer.GetActiveCamera()
        cam.Azimuth(4.0)
        r.image()
        second = [p.anchor for p in r.overlay.placed]
        assert r.overlay._label_actors == actors  # the same actors, only moved
        assert len(second) == 5
        assert np.abs(np.subtract(first, second)).max() > 1.0
        _assert_apart([p.box for p in r.overlay.placed])
