"""Clicking in the real window on every kind of layer: in-memory points, streamed COPC
points, a mesh and a city model can be picked, get a pin by a click and a distance by two
clicks; an error in a click handler goes to the status bar; the status bar does not keep
the loading text once loading has finished."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from tests.viewer.gui_support import LOAD_TIMEOUT_MS, click, open_and_wait  # noqa: E402

KINDS = {
    "points": ("pointclouds", "ahn3_cropped_2.laz"),
    "streamed points": ("pointclouds", "lion_takanawa.copc.laz"),
    "mesh": ("meshes", "gargo.ply"),
    "city": ("citymodels", "delft.city.json"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_layer_kind_is_picked_annotated_and_measured(qtbot, window, shared_data, kind):
    folder, name = KINDS[kind]
    open_and_wait(qtbot, window, shared_data / folder / name)
    layer = window.scene.layers[0]
    if kind == "streamed points":
        assert layer.lod is not None and layer.lod.metadata["format"] == "COPC"
        qtbot.waitUntil(lambda: window.renderer.drawn_points > 0, timeout=LOAD_TIMEOUT_MS)
    window.view_preset("top")
    pick = click(qtbot, window, 0.5, 0.5)
    assert pick is not None and pick.layer is layer
    if kind == "streamed points":  # the nodes' bounds, not the layer's (partial) data
        lo, hi = (np.asarray(b, np.float64) + layer.lod.origin for b in layer.lod.bounds)
    else:
        lo, hi = layer.data.bounds
    span = float(np.max(hi - lo))
    assert np.all(pick.xyz >= lo - 1e-3 * span) and np.all(pick.xyz <= hi + 1e-3 * span)
    assert window.pick_label.text().startswith(layer.name)
    # a pin placed by a click lands on the picked point
    window.tool_actions["pin"].trigger()
    pin = click(qtbot, window, 0.5, 0.5)
    anns = window.session.project.annotations
    assert len(anns) == 1 and anns[0].kind == "point"
    np.testing.assert_allclose(anns[0].points[0], pin.xyz, atol=1e-9)
    # a distance between two clicks
    window.tool_actions["distance"].trigger()
    a = click(qtbot, window, 0.5, 0.5)
    for fx, fy in ((0.55, 0.5), (0.45, 0.5), (0.5, 0.55), (0.5, 0.45), (0.53, 0.53)):
        b = click(qtbot, window, fx, fy)  # a click beside a city's buildings picks nothing
        if b is not None:
            break
    assert a.layer is layer and b.layer is layer
    m = window.session.project.measurements
    assert len(m) == 1
    assert m[0].value == pytest.approx(float(np.linalg.norm(b.xyz - a.xyz)), abs=1e-9)
    assert m[0].value > 0


def test_streamed_pick_is_the_drawn_point_with_its_attributes(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "lion_takanawa.copc.laz")
    qtbot.waitUntil(lambda: window.renderer.drawn_points > 0, timeout=LOAD_TIMEOUT_MS)
    window.view_preset("front")
    pick = click(qtbot, window, 0.5, 0.5)
    assert pick is not None
    # the pick projects back to within the pick tolerance of the click
    view = window.plotter.interactor
    ratio = view.devicePixelRatioF()
    target = np.array([int(view.width() * 0.5), view.height() - 1 - int(view.height() * 0.5)])
    xy = window.renderer.project(pick.xyz[None])[0]
    assert np.linalg.norm(xy - target * ratio) <= 13 * max(ratio, 1.0)
    # the streamed node's own attributes (RGB, intensity) come with the pick
    assert "intensity" in pick.attributes and "node" in pick.attributes


def test_click_handler_error_goes_to_the_status_bar(qtbot, window, shared_data, monkeypatch):
    from PySide6 import QtCore

    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")

    def broken(*args, **kw):
        raise RuntimeError("the pick broke")

    monkeypatch.setattr(window.renderer, "pick", broken)
    view = window.plotter.interactor
    qtbot.mouseClick(view, QtCore.Qt.LeftButton,
                     pos=QtCore.QPoint(view.width() // 2, view.height() // 2))
    qtbot.waitUntil(lambda: "the pick broke" in window.statusBar().currentMessage(),
                    timeout=10_000)
    message = window.statusBar().currentMessage()
    assert "RuntimeError" in message and "\n" not in message


def test_status_bar_does_not_stay_on_loading(qtbot, window, shared_data):
    seen = []
    window.statusBar().messageChanged.connect(seen.append)
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    assert any("Loading" in text for text in seen)  # progress was shown while loading
    assert "Loading" not in window.statusBar().currentMessage()
    assert "%" not in window.statusBar().currentMessage()
