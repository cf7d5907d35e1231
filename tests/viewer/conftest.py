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
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close_without_asking()  # tests leave unsaved changes: no Save/Discard question
    del win
    gc.collect()
