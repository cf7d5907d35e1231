"""Scale bar, north arrow and axis gizmo (viewer.decorations): the numbers, the scale
bar's pixel length in a known parallel view, the arrow's direction, and the View menu
toggles of the real window (with the window's screenshot drawing the same)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from viewer import decorations as deco
from viewer.scene import Decorations, Scene

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample_site"
PROJECT = SAMPLE / "delft.realscene.json"


@pytest.mark.parametrize("value, nice", [(1.0, 1.0), (1.9, 1.0), (2.0, 2.0), (4.99, 2.0),
                                         (5.0, 5.0), (9.99, 5.0), (10.0, 10.0),
                                         (0.037, 0.02), (734.0, 500.0), (1999.0, 1000.0)])
def test_nice_length_is_1_2_5_times_a_power_of_ten(value, nice):
    assert deco.nice_length(value) == pytest.approx(nice)


def test_world_per_pixel_parallel_and_perspective():
    assert deco.world_per_pixel(True, 50.0, 30.0, 999.0, 500) == pytest.approx(0.2)
    # perspective: 2 d tan(angle / 2) over the height, at the focal distance d
    expected = 2 * 100.0 * math.tan(math.radians(15.0)) / 400
    assert deco.world_per_pixel(False, 1.0, 30.0, 100.0, 400) == pytest.approx(expected)
    length, px = deco.scale_bar(0.2)
    assert (length, px) == (20.0, pytest.approx(100.0))  # 200 px would be 40 -> 20
    assert deco.scale_bar(float("nan")) is None


def test_length_labels_and_units():
    assert deco.format_length(200.0, "m") == "200 m"
    assert deco.format_length(2000.0, "m") == "2 km"
    assert deco.format_length(0.2, "m") == "20 cm"
    assert deco.format_length(0.005, "m") == "5 mm"
    assert deco.format_length(5.0, "units") == "5 units"
    scene = Scene()
    assert deco.scene_units(scene) == "units"
    scene.crs = "EPSG:28992"
    assert deco.scene_units(scene) == "m"
    scene.crs = "EPSG:2263"  # New York Long Island, US survey feet
    assert deco.scene_units(scene) == "US ft"
    scene.crs = "EPSG:4326"  # degrees are no length
    assert deco.scene_units(scene) == "units"


def test_screen_direction_of_north_in_a_top_view_is_up():
    # a camera looking down -Z with +Y up: identity rotation
    x, y, _ = deco.screen_direction(np.eye(4), (0, 1, 0))
    assert (x, y) == (0.0, 1.0)
    # turned 90 degrees about Z: north points left on the screen
    rot = np.eye(4)
    rot[:2, :2] = [[0, -1], [1, 0]]
    x, y, _ = deco.screen_direction(rot, (0, 1, 0))
    assert (x, y) == (-1.0, 0.0)


def test_attribution_line_names_the_crs_and_credits():
    scene = Scene()
    assert deco.attribution_line(scene) == "no CRS"
    scene.crs = "EPSG:28992"
    line = deco.attribution_line(scene, "AHN3 (CC0)")
    assert line == "Amersfoort / RD New (EPSG:28992) · AHN3 (CC0)"


@pytest.fixture(scope="module")
def sample_scene():
    from viewer import pipeline

    session = pipeline.open_project(PROJECT)
    yield session.scene
    pipeline.close_scene(session.scene)


def _bar_row(img: np.ndarray) -> tuple[int, int]:
    """First and last column of the scale bar's white line in the lower left."""
    y = img.shape[0] - 1 - deco.SCALE_BAR_POS[1]
    band = img[y - 1:y + 2, :img.shape[1] // 2].min(axis=2)
    cols = np.nonzero((band > 230).any(axis=0))[0]
    return int(cols.min()), int(cols.max())


def test_scale_bar_length_in_a_known_parallel_view(sample_scene):
    from viewer.offscreen import OffscreenRenderer

    w, h = 640, 400
    sample_scene.background = (0.0, 0.0, 0.0)
    with OffscreenRenderer(sample_scene, (w, h), annotations=False, multi_samples=0,
                           decorations=Decorations(axes=False, north_arrow=False)) as r:
        r.set_view("top")
        cam = r.plotter.renderer.GetActiveCamera()
        cam.SetParallelProjection(True)
        for scale in (300.0, 37.0):
            cam.SetParallelScale(scale)
            img = r.image()
            per_px = 2 * scale / h
            length = deco.nice_length(deco.SCALE_BAR_MAX_PX * per_px)
            first, last = _bar_row(img)
            assert first == pytest.approx(deco.SCALE_BAR_POS[0], abs=1)
            assert last - first == pytest.approx(length / per_px, abs=2)
            assert r.decorator.bar_label.GetInput() == deco.format_length(length, "m")
        # a larger picture of the same view keeps metres per pixel: a longer bar
        cam.SetParallelScale(300.0)
        big = r.image(size=(2 * w, 2 * h))
        first, last = _bar_row(big)
        per_px = 300.0 / h
        length = deco.nice_length(deco.SCALE_BAR_MAX_PX * per_px)
        assert last - first == pytest.approx(length / per_px, abs=2)


def test_tiled_picture_keeps_the_scale_bar_and_arrow(sample_scene):
    from viewer import media_render
    from viewer.offscreen import OffscreenRenderer

    sample_scene.background = (0.0, 0.0, 0.0)
    with OffscreenRenderer(sample_scene, (400, 300), annotations=False, multi_samples=0,
                           decorations=Decorations(axes=False)) as r:
        r.set_view("top")
        cam = r.plotter.renderer.GetActiveCamera()
        cam.SetParallelProjection(True)
        cam.SetParallelScale(200.0)
        whole = media_render.render_still(r, None, (900, 600))
        tiled = media_render.render_still(r, None, (900, 600), max_tile=256)
        assert _bar_row(tiled) == _bar_row(whole)
        per_px = 400.0 / 600
        length = deco.nice_length(deco.SCALE_BAR_MAX_PX * per_px)
        first, last = _bar_row(tiled)
        assert last - first == pytest.approx(length / per_px, abs=2)
        # the north arrow once, upper right, in both
        x, y = 900 + deco.NORTH_ARROW_POS[0], -deco.NORTH_ARROW_POS[1]
        for img in (whole, tiled):
            box = img[y - 40:y + 40, x - 40:x + 40].min(axis=2) > 200
            assert box.sum() > 20


def test_cjk_title_gets_a_font_that_draws_it(sample_scene):
    from viewer.offscreen import OffscreenRenderer

    with OffscreenRenderer(sample_scene, (320, 200), annotations=False,
                           decorations=Decorations(title="代尔夫特 Delft")) as r:
        prop = r.decorator.title.GetTextProperty()
        assert prop.GetFontFamilyAsString() == "File" and prop.GetFontFile()
        from heritage import fonts

        face = fonts.FontChoice(Path(prop.GetFontFile()), 0, "")
        assert not fonts.missing_glyphs("代尔夫特", face)


# -- the window --------------------------------------------------------------------------------
def test_view_menu_toggles_decorations_in_the_window(window, qtbot, tmp_path):
    from PySide6 import QtWidgets

    from tests.viewer.gui_support import view_image

    with qtbot.waitSignal(window.all_loads_finished, timeout=120_000):
        assert window.open_project(str(PROJECT)) == []
    window.set_background((0.0, 0.0, 0.0))
    window.view_preset("top")
    actions = window.decoration_actions
    view_menu = next(a.menu() for a in window.menuBar().actions()
                     if a.menu() is not None and actions["scale_bar"] in a.menu().actions())
    assert view_menu is not None
    # on by default: gizmo, scale bar, north arrow (the sample site is in RD New)
    assert all(actions[k].isChecked() for k in ("axes", "scale_bar", "north_arrow"))
    img = view_image(window)
    h, w = img.shape[:2]
    d = window.decorations
    assert d.scale is not None and d.north == pytest.approx((0.0, 1.0), abs=1e-6)

    def bright(img, x0, y0, x1, y1):
        return int((img[y0:y1, x0:x1].min(axis=2) > 200).sum())

    ys = h - 1 - deco.SCALE_BAR_POS[1]
    bar_box = (deco.SCALE_BAR_POS[0], ys - 1, deco.SCALE_BAR_POS[0] + 60, ys + 2)
    nx, ny = w + deco.NORTH_ARROW_POS[0], -deco.NORTH_ARROW_POS[1]
    arrow_box = (nx - 35, ny - 35, nx + 35, ny + 35)
    assert bright(img, *bar_box) > 50 and bright(img, *arrow_box) > 20
    # View > Scale bar and View > North arrow off: gone from the view
    actions["scale_bar"].trigger()
    actions["north_arrow"].trigger()
    QtWidgets.QApplication.processEvents()
    assert not window.scene.decorations.scale_bar and not window.scene.decorations.north_arrow
    img = view_image(window)
    assert bright(img, *bar_box) < 5 and bright(img, *arrow_box) < 5
    assert d.scale is None and d.north is None
    # the gizmo too
    gx, gy = deco.GIZMO_POS[0], -deco.GIZMO_POS[1]
    colored = img[gy - 45:gy + 45, gx - 45:gx + 45]
    assert ((colored[..., 0] > 180) & (colored[..., 1] < 120)).sum() > 3  # red X
    actions["axes"].trigger()
    img = view_image(window)
    colored = img[gy - 45:gy + 45, gx - 45:gx + 45]
    assert ((colored[..., 0] > 180) & (colored[..., 1] < 120)).sum() == 0
    # the screenshot (File > Save screenshot) draws what the View menu shows
    actions["scale_bar"].trigger()
    actions["attribution"].trigger()
    out = tmp_path / "shot.png"
    with qtbot.waitSignal(window.media.saved, timeout=120_000):
        window.media.save_still(out, (w, h))
    from PIL import Image

    with Image.open(out) as pic:
        shot = np.asarray(pic.convert("RGB")).astype(int)
    assert bright(shot, *bar_box) > 50 and bright(shot, *arrow_box) < 5
    assert bright(shot, w // 2 - 100, h - 18, w // 2 + 100, h) > 20
    window.grab().save(str(tmp_path / "decorations.png"))
    # the choices are remembered for the next window (settings)
    window.settings.sync()
    from PySide6 import QtCore

    from viewer.qt.main_window import MainWindow

    again = MainWindow(settings=QtCore.QSettings(window.settings.fileName(),
                                                 QtCore.QSettings.IniFormat))
    qtbot.addWidget(again, before_close_func=lambda w: w.close_without_asking())
    assert {k: a.isChecked() for k, a in again.decoration_actions.items()} == {
        "axes": False, "scale_bar": True, "north_arrow": False, "attribution": True}
    assert not again.scene.decorations.axes and again.scene.decorations.attribution
    again.close_without_asking()


def test_script_renders_decorations(tmp_path):
    """viewer.api: none by default; ``site.decorations`` turns them on."""
    from PIL import Image

    from viewer.api import open_project

    with open_project(PROJECT) as site:
        site.scene.background = (0.0, 0.0, 0.0)
        plain = site.render(tmp_path / "plain.png", size=(400, 300), view="top")
        site.decorations.scale_bar = True
        site.decorations.attribution = True
        site.attribution = "AHN3 (CC0)"
        shown = site.render(tmp_path / "shown.png", size=(400, 300), view="top")
        assert site._renderer.decorator.credit.GetInput().endswith("· AHN3 (CC0)")
    for path, expect in ((plain, False), (shown, True)):
        with Image.open(path) as img:
            first_last = np.asarray(img.convert("RGB"))
        y = 300 - 1 - deco.SCALE_BAR_POS[1]
        row = first_last[y - 1:y + 2, :150].min(axis=2) > 230
        assert row.any(axis=0).sum() > 40 if expect else not row.any()
