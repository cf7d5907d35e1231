"""Condition-report pictures (issue 17): each annotation's picture frames that annotation,
the other markups are hidden or dimmed, and the points around it close into a surface.
Drawn by the one off-screen renderer on the bundled sample site (real LAZ, OBJ, project)."""

from __future__ import annotations

import hashlib
import io
import math
import re
from base64 import b64decode
from pathlib import Path

import numpy as np
import pytest

from heritage.model import Annotation
from viewer.scene import Camera

SAMPLE_PROJECT = Path(__file__).resolve().parents[2] / "assets/sample_site/delft.realscene.json"
SIZE = (640, 400)


@pytest.fixture(scope="module")
def session():
    from viewer import pipeline

    session = pipeline.open_project(SAMPLE_PROJECT)
    yield session
    pipeline.close_scene(session.scene)


@pytest.fixture()
def offscreen(session):
    from viewer.offscreen import OffscreenRenderer

    with OffscreenRenderer(session.scene, SIZE, session=session) as r:
        yield r


def _by_title(session, words):
    return next(a for a in session.project.annotations if words in a.title)


def _fraction_of_height(camera: Camera, extent: float, view_angle: float = 30.0) -> float:
    d = math.dist(camera.position, camera.focal_point)
    return extent / (2 * d * math.tan(math.radians(view_angle) / 2))


# -- framing (core, no renderer) --------------------------------------------------------------
def _filled(camera: Camera, points, aspect: float, view_angle: float = 30.0) -> float:
    """How much of the picture (its width or height, the larger share) the box of
    ``points`` covers through ``camera`` (a pinhole projection)."""
    pts = np.asarray(points, dtype=float)
    corners = np.array([[x, y, z] for x in (pts[:, 0].min(), pts[:, 0].max())
                        for y in (pts[:, 1].min(), pts[:, 1].max())
                        for z in (pts[:, 2].min(), pts[:, 2].max())])
    forward = np.subtract(camera.focal_point, camera.position)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, camera.view_up)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    rel = corners - np.asarray(camera.position)
    depth = rel @ forward
    assert (depth > 0).all()  # all in front of the camera
    t = math.tan(math.radians(view_angle) / 2)
    x, y = rel @ right / (depth * t * aspect), rel @ up / (depth * t)
    return max(np.ptp(x), np.ptp(y)) / 2


def test_framing_centres_the_geometry_and_fills_a_third_to_a_half():
    poly = Annotation(kind="polygon", points=[[100, 200, 10], [104, 200, 10], [104, 203, 12],
                                              [100, 203, 12]])
    for aspect in (1.6, 0.5):  # landscape, portrait
        cam = Camera.framing_annotation(poly, aspect=aspect)
        assert cam.focal_point == pytest.approx((102, 201.5, 11))
        assert 1 / 3 <= _filled(cam, poly.points, aspect) <= 1 / 2
    # a long crack seen along its length still fills its share, not less
    crack = Annotation(kind="polyline", points=[[0, 0, 0], [100, 0, 0], [100, 2, 1]])
    for view in (None, {"position": [300, -300, 200], "focal_point": [0, 0, 0],
                        "view_up": [0, 0, 1]}):
        crack.view = view
        cam = Camera.framing_annotation(crack, aspect=1.6)
        assert 1 / 3 <= _filled(cam, crack.points, 1.6) <= 1 / 2


def test_framing_keeps_the_saved_views_direction_but_not_its_place():
    view = {"position": [0, -50, 50], "focal_point": [0, 0, 0], "view_up": [0, 0, 1]}
    a = Annotation(kind="point", points=[[10, 10, 5]], view=view)
    b = Annotation(kind="point", points=[[40, 10, 5]], view=view)
    ca, cb = (Camera.framing_annotation(x, minimum_extent=4) for x in (a, b))
    assert ca.focal_point == pytest.approx((10, 10, 5)) and cb.focal_point == (40, 10, 5)
    direction = np.subtract(ca.position, ca.focal_point)
    assert direction / np.linalg.norm(direction) == pytest.approx([0, -0.7071, 0.7071],
                                                                  abs=1e-4)
    # a pin is framed by the minimum extent, not as a zero-size point
    assert 1 / 3 <= _fraction_of_height(ca, 4.0) <= 1 / 2
    # no saved view: oblique, from above
    c = Camera.framing_annotation(Annotation(kind="point", points=[[0, 0, 0]]))
    assert c.position[2] > 0 and c.view_up == (0, 0, 1)


# -- pictures of the sample site ---------------------------------------------------------------
def test_two_annotations_with_one_saved_view_get_their_own_pictures(session, offscreen):
    ridge = _by_title(session, "Weathered roof ridge")  # a pin
    moss = _by_title(session, "Moss on the roof slope")  # a polygon beside it
    assert ridge.view == moss.view  # the sample: both made from the same camera
    pictures = {a.id: offscreen.annotation_image(a) for a in session.project.annotations}
    images = list(pictures.values())
    for i, one in enumerate(images):
        for other in images[i + 1:]:
            assert np.abs(one.astype(int) - other.astype(int)).mean() > 3
    # each is centred on its annotation: its anchor projects to the picture's centre
    for a in (ridge, moss):
        offscreen.set_view(offscreen.annotation_camera(a))
        xy = offscreen.renderer.project(a.anchor)[0]
        assert xy == pytest.approx((SIZE[0] / 2, SIZE[1] / 2), abs=2)


def _colour_pixels(img: np.ndarray, rgb, tol: int = 40) -> int:
    return int((np.abs(img.astype(int) - np.asarray(rgb)).max(axis=2) <= tol).sum())


def test_other_annotations_and_measurements_are_hidden(session, offscreen):
    ridge = _by_title(session, "Weathered roof ridge")
    # another annotation beside the ridge (a line of 4 m), in a colour nothing else has
    other = Annotation(kind="polyline", title="Other damage", category="other",
                       points=[list(np.add(ridge.anchor, d)) for d in ((2, 0, -1), (2, 0, -5))],
                       color=(255, 0, 255))
    session.project.annotations.append(other)
    try:
        offscreen.overlay.set_focus(None)
        offscreen.set_view(offscreen.annotation_camera(ridge))
        with offscreen.renderer.held_lod():
            everything = offscreen.image()
        # the probes see the markups when they are drawn: the measurement lines (yellow)
        # through the ridge pin and the other pin
        assert _colour_pixels(everything, (255, 255, 0)) > 200
        assert _colour_pixels(everything, (255, 0, 255)) > 20
        focused = offscreen.annotation_image(ridge)
        assert _colour_pixels(focused, (255, 255, 0)) == 0
        assert _colour_pixels(focused, (255, 0, 255)) == 0
        ridge_rgb = session.project.vocabulary.category_color(ridge.category)
        assert _colour_pixels(focused, ridge_rgb) > 20  # the annotation itself is drawn
        # dimmed: present in grey, never in their colours
        dimmed = offscreen.annotation_image(ridge, others="dim")
        assert _colour_pixels(dimmed, (255, 255, 0)) == 0
        assert _colour_pixels(dimmed, (255, 0, 255)) == 0
        assert np.abs(dimmed.astype(int) - focused.astype(int)).max() > 60
        # the overlay is left as it was: no focus once the picture is taken
        assert offscreen.overlay.focus_id is None
        with pytest.raises(ValueError, match="hide"):
            offscreen.overlay.set_focus(ridge.id, others="blur")
    finally:
        session.project.annotations.remove(other)
        offscreen.overlay.set_focus(None)


def _background_in_cloud(offscreen, img: np.ndarray, cell: int = 16) -> float:
    """Fraction of background pixels in the cells of the picture that lie inside the
    cloud: cells holding projected points whose 8 neighbours hold points too."""
    entry = next(e for e in offscreen.renderer._entries.values()
                 if e.layer.kind == "pointcloud")
    true = entry.points.astype(np.float64) + offscreen.scene.origin
    xy = offscreen.renderer.project(true)
    h, w = img.shape[:2]
    ok = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    gx, gy = w // cell, h // cell
    cx = np.minimum((xy[ok, 0] // cell).astype(int), gx - 1)
    cy = np.minimum(((h - 1 - xy[ok, 1]) // cell).astype(int), gy - 1)  # rows from the top
    occupied = np.zeros((gy, gx), bool)
    occupied[cy, cx] = True
    inside = occupied.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            inside[1:-1, 1:-1] &= occupied[1 + dy:gy - 1 + dy, 1 + dx:gx - 1 + dx]
    inside[[0, -1], :] = inside[:, [0, -1]] = False
    assert inside.sum() > 50  # the cloud covers much of the picture
    bg = np.round(np.asarray(offscreen.scene.background) * 255)
    background = np.abs(img.astype(int) - bg).max(axis=2) <= 3
    mask = np.kron(inside, np.ones((cell, cell), bool))
    return float(background[:mask.shape[0], :mask.shape[1]][mask].mean())


def test_points_close_into_a_surface(session, offscreen):
    mesh = next(layer for layer in session.scene.layers if layer.name == "testarea.obj")
    scan = next(layer for layer in session.scene.layers if layer.kind == "pointcloud")
    session.scene.update(mesh, visible=False)  # only the scan: no mesh fills the gaps
    mode = getattr(scan, "point_size_mode", None)
    if mode is not None:  # the layer's own size as set, not an adaptive one
        session.scene.update(scan, point_size_mode="fixed")
    try:
        for words in ("Tree canopy", "Facade repair"):
            a = _by_title(session, words)
            offscreen.overlay.set_focus("none")
            camera = offscreen.annotation_camera(a)
            with offscreen.renderer.held_lod():
                sparse = offscreen.image(None)  # the layer's own 2-px points
            gaps = _background_in_cloud(offscreen, sparse)
            offscreen.overlay.set_focus("none")
            spacing = offscreen._picture_lod(camera, a.anchor)
            sizes = offscreen._surface_point_sizes(spacing, camera, SIZE[1])
            try:
                with offscreen.renderer.held_lod():
                    surface = offscreen.image(None)
            finally:
                offscreen._restore_point_sizes(sizes)
            closed = _background_in_cloud(offscreen, surface)
            assert gaps > 0.05, (words, gaps)  # the probe sees sparse dots
            assert closed < 0.03, (words, closed)
            # and annotation_png draws exactly that picture
            assert np.abs(offscreen.annotation_image(a).astype(int)
                          - surface.astype(int)).mean() < 8
    finally:
        session.scene.update(mesh, visible=True)
        if mode is not None:
            session.scene.update(scan, point_size_mode=mode)
        offscreen.overlay.set_focus(None)


def test_point_spacing_of_a_grid():
    from viewer.offscreen import point_spacing

    g = np.stack(np.meshgrid(np.arange(100) * 0.25, np.arange(100) * 0.25), -1).reshape(-1, 2)
    pts = np.c_[g, np.zeros(len(g))]
    assert point_spacing(pts, (12, 12, 0), 50) == pytest.approx(0.25)
    assert point_spacing(pts, (500, 500, 0), 10) is None  # nothing near


# -- the report uses them ------------------------------------------------------------------------
def test_report_html_and_pdf_carry_one_picture_per_annotation(tmp_path):
    from viewer.api import open_project

    with open_project(SAMPLE_PROJECT) as site:
        n = len(site.annotations)
        html = site.export_annotations("report", tmp_path / "report.html").read_text("utf-8")
        pdf = site.export_annotations("report", tmp_path / "report.pdf")
    views = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len({hashlib.sha256(b64decode(v)).hexdigest() for v in views}) == n
    from pypdf import PdfReader

    digests = {hashlib.sha256(img.data).hexdigest()
               for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages
               for img in page.images}
    assert len(digests) >= n
