"""The 3D view is the largest part of the window (>= 60 % of its width) at 1280x800 and
1600x1000, empty or with the sample project, in English and Chinese, also after an old
saved layout; the annotation form shows only for a selected annotation."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from tests.viewer.gui_support import LOAD_TIMEOUT_MS  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample_site" / \
    "delft.realscene.json"


def settle(win) -> None:
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
        QtCore.QThread.msleep(10)
    QtWidgets.QApplication.processEvents()


def view_share(win) -> float:
    settle(win)
    return win.plotter.interactor.width() / win.width()


@pytest.fixture
def make_window(qtbot, tmp_path):
    """A window as at a first start: 1280x800 (the constructor's size), given settings."""
    from viewer.qt.main_window import MainWindow

    made = []

    def make(language="en", settings_file="settings.ini", size=None):
        settings = QtCore.QSettings(str(tmp_path / settings_file),
                                    QtCore.QSettings.IniFormat)
        settings.setValue("language", language)
        win = MainWindow(settings=settings)
        if size:
            win.resize(*size)
        qtbot.addWidget(win, before_close_func=lambda w: w.close_without_asking())
        win.show()
        qtbot.waitExposed(win)
        settle(win)
        made.append(win)
        return win

    yield make
    for win in made:
        win.close_without_asking()
    made.clear()
    gc.collect()
    from viewer.qt import i18n

    i18n.install("en")


def open_sample(qtbot, win) -> None:
    with qtbot.waitSignal(win.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        win.open_project(str(SAMPLE), remember=False)
    settle(win)
    assert len(win.scene.layers) >= 2
    assert win.session.project.annotations


@pytest.mark.parametrize("language", ["en", "zh"])
def test_view_gets_60_percent_at_1280_and_1600(qtbot, make_window, language):
    win = make_window(language)
    assert (win.width(), win.height()) == (1280, 800)
    assert view_share(win) >= 0.6  # nothing loaded
    open_sample(qtbot, win)
    assert view_share(win) >= 0.6
    # an annotation selected: its form shows, the view keeps its share
    win.annotations_panel.list.setCurrentRow(0)
    assert win.annotations_panel.editor.isVisible()
    assert view_share(win) >= 0.6
    win.resize(1600, 1000)
    assert view_share(win) >= 0.6
    # every dock is still reachable from the View menu
    view_menu_actions = {a for m in win.menuBar().findChildren(QtWidgets.QMenu)
                         for a in m.actions()}
    for dock in (win.layer_dock, win.properties_dock, win.annotations_dock,
                 win.measurements_dock, win.objects_dock, win.alignment_dock):
        assert dock.toggleViewAction() in view_menu_actions, dock.objectName()


def test_view_share_at_1600_from_the_start(make_window):
    win = make_window(size=(1600, 1000))
    assert view_share(win) >= 0.6


def test_an_old_saved_layout_with_wide_docks_is_not_restored(make_window):
    from viewer.qt.main_window import LAYOUT_VERSION

    old = make_window(settings_file="old.ini")
    old.resizeDocks([old.layer_dock, old.annotations_dock], [450, 450],
                    QtCore.Qt.Horizontal)
    settle(old)
    assert view_share(old) < 0.6  # the layout of an older version
    state = old.saveState()  # as an older version saved it: no version number
    old.close_without_asking()
    old.settings.setValue("window_state", state)
    old.settings.sync()
    win = make_window(settings_file="old.ini")
    assert view_share(win) >= 0.6
    # a layout saved by this version comes back
    win.properties_dock.hide()
    win.save_layout()
    assert win.restoreState(win.settings.value("window_state"), LAYOUT_VERSION)
    again = make_window(settings_file="old.ini")
    assert not again.properties_dock.isVisible()


def test_form_only_for_a_selected_annotation(qtbot, window):
    from heritage.model import Annotation

    panel = window.annotations_panel
    assert not panel.editor.isVisible() and panel.hint.isVisible()
    list_height = panel.list.height()
    a = window.session.add_annotation(Annotation("point", [[1.0, 2.0, 3.0]], title="A"))
    window.session.add_annotation(Annotation("point", [[2.0, 2.0, 3.0]], title="B"))
    settle(window)
    assert not panel.editor.isVisible()  # added by a script: nothing selected
    panel.select(a.id)
    settle(window)
    assert panel.editor.isVisible() and not panel.hint.isVisible()
    assert panel.title.text() == "A"
    with_form = panel.list.height()
    assert with_form < list_height - 100  # the form takes room from the list
    panel.list.setCurrentRow(-1)
    settle(window)
    assert not panel.editor.isVisible()
    assert panel.list.height() > with_form + 100  # the list gets the room back
