"""Point size in the real window: the Properties panel's size mode and round-points
controls change the layer (undoably), and a close-up of a scan is a closed surface in the
default adaptive size where fixed 2-px points leave holes (viewer.pointsize)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from tests.viewer.gui_support import background_u8, open_and_wait, view_image  # noqa: E402


def _holes(win) -> float:
    img = view_image(win).astype(int)
    return float((np.abs(img - background_u8(win)).max(axis=2) <= 10).mean())


def test_size_mode_and_round_points_in_the_properties(qtbot, window, shared_data, tmp_path):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    layer = window.scene.layers[0]
    window.scene.select(layer)
    panel = window.properties_panel
    assert panel.point_size_mode.isEnabled() and panel.round_points.isEnabled()
    assert panel.point_size_mode.currentData() == "adaptive" == layer.point_size_mode
    assert not panel.round_points.isChecked()
    # a close-up over the middle of the scan: the ground fills the view
    renderer = window.renderer
    lo, hi = (np.asarray(b) for b in layer.data.bounds)
    c = (lo + hi) / 2
    cam = window.plotter.renderer.GetActiveCamera()
    cam.SetFocalPoint(*renderer.to_local([c[0], c[1], lo[2]]))
    cam.SetPosition(*renderer.to_local([c[0], c[1] - 15, lo[2] + 25]))
    cam.SetViewUp(0, 0, 1)
    window.plotter.renderer.ResetCameraClippingRange()
    renderer.set_point_budget(1_000_000)
    renderer.request_render()  # the window refines to the rest budget once settled
    qtbot.waitUntil(lambda: renderer.drawn_points > 90_000, timeout=30_000)
    adaptive = _holes(window)
    window.grab().save(str(tmp_path / "adaptive.png"))

    panel.point_size_mode.setCurrentIndex(panel.point_size_mode.findData("fixed"))
    assert layer.point_size_mode == "fixed"
    fixed = _holes(window)
    assert fixed > 0.5 and adaptive < 0.05, (fixed, adaptive)

    panel.round_points.setChecked(True)
    assert layer.point_shape == "round"
    window.session.undo.undo()
    assert layer.point_shape == "square" and not panel.round_points.isChecked()
    window.session.undo.undo()
    assert layer.point_size_mode == "adaptive"
    assert panel.point_size_mode.currentData() == "adaptive"
    assert _holes(window) < 0.05
