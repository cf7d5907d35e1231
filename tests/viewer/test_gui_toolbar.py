"""The Annotate toolbar: tools with keys (shown in tooltips, no clashes), the default
author (Edit > Preferences…, saved, written into new annotations) and Help > Keyboard
shortcuts… built from the actions."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402


def test_toolbar_and_shortcut_start_the_pin_tool(qtbot, window):
    from viewer.qt.shortcuts import TOOL_SHORTCUTS, clashing_shortcuts

    bar = window.findChild(QtWidgets.QToolBar, "annotateToolbar")
    assert bar is not None and bar.isVisible()
    pin = window.tool_actions["pin"]
    assert pin in bar.actions()
    assert all(a in bar.actions() for a in window.tool_actions.values())
    # the toolbar button starts the tool
    button = bar.widgetForAction(pin)
    qtbot.mouseClick(button, QtCore.Qt.LeftButton)
    assert window.tool.mode == "pin" and pin.isChecked()
    window._cancel_tool()
    assert window.tool.mode is None
    # its key does too, from the 3D view
    assert pin.shortcut().toString() == TOOL_SHORTCUTS["pin"] == "P"
    window.raise_()
    window.activateWindow()
    if QtWidgets.QApplication.activeWindow() is not window:  # (Xvfb has no window manager)
        QtWidgets.QApplication.setActiveWindow(window)
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is window)
    window.plotter.interactor.setFocus()
    qtbot.keyClick(window.plotter.interactor, QtCore.Qt.Key_P)
    assert window.tool.mode == "pin"
    qtbot.keyClick(window.plotter.interactor, QtCore.Qt.Key_D)
    assert window.tool.mode == "distance"
    window._cancel_tool()
    # tooltips name the key; no key is bound twice
    assert pin.toolTip() == "Pin (P)"
    assert "(F)" in window.view_actions["fit"].toolTip()
    assert clashing_shortcuts(window) == {}
    # a measuring tool brings its list to the front
    window.measurements_dock.hide()
    window.tool_actions["angle"].trigger()
    assert window.measurements_dock.isVisible()
    window._cancel_tool()


def test_default_author_is_saved_and_used(qtbot, window, tmp_path):
    def fill_and_accept():
        dialog = window.findChild(QtWidgets.QDialog, "preferencesDialog")
        dialog.author.setText("  Li Wei ")
        dialog.accept()

    QtCore.QTimer.singleShot(100, fill_and_accept)
    window.preferences_action.trigger()
    assert window.session.default_author == "Li Wei"
    assert window.settings.value("author") == "Li Wei"
    # a pin made with the tool gets it
    window.tool.start("pin")
    window.tool.add_point([1.0, 2.0, 3.0])
    (annotation,) = window.session.project.annotations
    assert annotation.author == "Li Wei"
    # saved for the next start (read by MainWindow.__init__ into the session)
    settings = QtCore.QSettings(window.settings.fileName(), QtCore.QSettings.IniFormat)
    assert settings.value("author") == "Li Wei"


def test_keyboard_shortcuts_dialog_lists_the_actions(qtbot, window):
    dialog = window.shortcuts_dialog()
    qtbot.addWidget(dialog)
    assert dialog.lookup("Fit all") == "F"
    assert dialog.lookup("Pin") == "P"
    assert dialog.lookup("Eye-dome lighting") == "E"
    names = {name for name, _keys in dialog.rows}
    # every action with a key is listed (built from the actions: cannot go stale)
    for action in window.findChildren(QtGui.QAction):
        if not action.shortcut().isEmpty() and action.text():
            assert action.text().replace("&", "").rstrip("…") in names, action.text()
    assert window.shortcuts_action in [a for m in window.menuBar().findChildren(
        QtWidgets.QMenu) for a in m.actions()]
    dialog.search.setText("fit")
    visible = [dialog.table.item(i, 0).text() for i in range(dialog.table.rowCount())
               if not dialog.table.isRowHidden(i)]
    assert "Fit all" in visible and "Pin" not in visible
    dialog.close()


def test_keyboard_shortcuts_dialog_in_chinese(qtbot, window):
    from viewer.qt import i18n

    window.set_language("zh")
    try:
        dialog = window.shortcuts_dialog()
        qtbot.addWidget(dialog)
        assert dialog.windowTitle() != "Keyboard shortcuts"
        fit = i18n.translate("", "&Fit all").replace("&", "")
        assert fit != "Fit all" and dialog.lookup(fit.split("(")[0].strip()) == "F" \
            or any(keys == "F" and name != "Fit all" for name, keys in dialog.rows)
        pin = window.tool_actions["pin"]
        assert pin.toolTip().endswith("(P)") and not pin.toolTip().startswith("Pin")
        dialog.close()
    finally:
        window.set_language("en")
