"""The measurements list in the real window: select, rename, hide, delete, copy, undo."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from heritage.model import Measurement  # noqa: E402
from tests.viewer.gui_support import click, open_and_wait  # noqa: E402


def _settle(qtbot) -> None:
    """Let the list's deferred edits (queued out of the item's own signal) run."""
    QtWidgets.QApplication.processEvents()
    qtbot.wait(20)
    QtWidgets.QApplication.processEvents()


def _line_cells(window) -> int:
    actor = next((a for a in window.overlay._actors
                  if a.GetMapper().GetInput().GetNumberOfLines()), None)
    return 0 if actor is None else actor.GetMapper().GetInput().GetNumberOfLines()


def test_measurements_list_edits_are_undoable(qtbot, window, shared_data, tmp_path):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    window.view_preset("top")
    session, panel = window.session, window.measurements_panel
    tree = panel.tree
    assert window.measurements_dock.widget() is panel
    # tabbed with the annotations
    assert window.measurements_dock in window.tabifiedDockWidgets(window.annotations_dock)
    # one measured with the window's tool (two clicks), one added through the session
    window.tool_actions["distance"].trigger()
    click(qtbot, window, 0.4, 0.5), click(qtbot, window, 0.6, 0.5)
    window._cancel_tool()
    [a] = session.project.measurements
    x, y, z = a.points[0]
    b = session.add_measurement(Measurement("area", [[x, y, z], [x + 2, y, z],
                                                     [x + 2, y + 2, z]]))
    assert tree.topLevelItemCount() == 2
    row = [tree.topLevelItem(0).text(c) for c in range(4)]
    # the file has no CRS and no units: "units", not metres (issue 17)
    assert row[1] == "Distance" and row[2] == f"{a.value:.3f} units"
    assert row[3] == a.created[:16].replace("T", " ")
    assert tree.topLevelItem(1).text(1) == "Area (in plane)"
    assert tree.topLevelItem(1).text(2) == "2.000 units²"
    assert _line_cells(window) == 2  # the distance and the closed triangle

    # select: highlighted in the view
    panel.select(b.id)
    assert window.overlay.selected_id == b.id and panel.delete_button.isEnabled()

    # rename in place
    tree.topLevelItem(0).setText(0, "Gate width")
    _settle(qtbot)
    assert a.label == "Gate width" and tree.topLevelItem(0).text(0) == "Gate width"
    window.undo_action.trigger()
    assert a.label == "" and tree.topLevelItem(0).text(0) == ""
    window.redo_action.trigger()
    assert a.label == "Gate width"

    # hide with the checkbox: not drawn any more; undo shows it again
    tree.topLevelItem(1).setCheckState(0, QtCore.Qt.Unchecked)
    _settle(qtbot)
    assert b.visible is False and _line_cells(window) == 1
    assert tree.topLevelItem(1).checkState(0) == QtCore.Qt.Unchecked
    window.undo_action.trigger()
    assert b.visible is True and _line_cells(window) == 2
    assert tree.topLevelItem(1).checkState(0) == QtCore.Qt.Checked

    # copy: a duplicate right after it, with its own id; undo removes it
    panel.select(a.id)
    qtbot.mouseClick(panel.copy_button, QtCore.Qt.LeftButton)
    ms = session.project.measurements
    assert len(ms) == 3 and ms[1].id != a.id and ms[1].points == a.points
    assert ms[1].label == "Gate width (copy)" and tree.topLevelItem(1).text(0) == ms[1].label
    assert panel.current_id() == ms[1].id
    window.undo_action.trigger()
    assert session.project.measurements == [a, b] and tree.topLevelItemCount() == 2

    # delete, undo
    panel.select(b.id)
    qtbot.mouseClick(panel.delete_button, QtCore.Qt.LeftButton)
    assert session.project.measurements == [a] and tree.topLevelItemCount() == 1
    window.undo_action.trigger()
    assert session.project.measurements == [a, b] and tree.topLevelItemCount() == 2

    # saved with the project (name and visibility), and the list follows project open
    tree.topLevelItem(1).setCheckState(0, QtCore.Qt.Unchecked)
    _settle(qtbot)
    out = tmp_path / "m.json"
    session.save(out)
    session.delete_measurement(a.id)
    assert tree.topLevelItemCount() == 1
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        window.open_project(str(out))
    _settle(qtbot)
    ms = session.project.measurements
    assert [m.label for m in ms] == ["Gate width", ""] and [m.visible for m in ms] == [
        True, False]
    assert tree.topLevelItemCount() == 2 and tree.topLevelItem(0).text(0) == "Gate width"
    assert tree.topLevelItem(1).checkState(0) == QtCore.Qt.Unchecked
