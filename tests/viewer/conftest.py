"""The real main window for GUI tests: fresh settings, closed and collected afterwards."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture
def window(qtbot, tmp_path):
    from PySide6 import QtCore

    from viewer.qt.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)
    win = MainWindow(settings=settings)
    win.resize(900, 640)
    # tests leave unsaved changes: close without the Save/Discard question (pytest-qt
    # closes its widgets before this fixture's teardown runs)
    qtbot.addWidget(win, before_close_func=lambda w: w.close_without_asking())
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close_without_asking()
    del win
    gc.collect()
