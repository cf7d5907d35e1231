"""Point budget control, drawn-points label and progressive refinement in the window."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from tests.viewer.gui_support import open_and_wait  # noqa: E402


def test_point_budget_combo_label_and_refinement(qtbot, window, shared_data):
    win = window
    box = win.findChild(QtWidgets.QComboBox, "pointBudget")
    label = win.findChild(QtWidgets.QLabel, "drawnLabel")
    assert box is not None and label is not None
    assert box.currentData() == "auto" and win.renderer.point_budget == "auto"
    open_and_wait(qtbot, win, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    qtbot.waitUntil(lambda: "208,432 points" in label.text(), timeout=10_000)

    box.setCurrentIndex(box.findData("100000"))
    assert win.renderer.point_budget == 100_000
    assert win.settings.value("point_budget") == "100000"
    assert 0 < win.renderer.drawn_points <= 100_000
    qtbot.waitUntil(lambda: label.text().startswith(f"{win.renderer.drawn_points:,} /"),
                    timeout=5_000)

    # while the camera moves fewer points are drawn; at rest it refines back up
    r = win.renderer
    r.seconds_per_point = 3e-6  # llvmpipe-like: interactive budget ~40k
    r._on_interaction_start()
    r.plotter.renderer.GetActiveCamera().Azimuth(10)
    r.render()
    moving = r.drawn_points
    assert moving <= r.budgets()[0] < 100_000
    r._on_interaction_end()
    qtbot.waitUntil(lambda: not r.needs_update and r.drawn_points > moving, timeout=10_000)
    assert r.drawn_points <= 100_000

    # the choice is remembered
    win.set_point_budget("auto")
    assert win.settings.value("point_budget") == "auto" and box.currentData() == "auto"
    QtCore.QCoreApplication.processEvents()
