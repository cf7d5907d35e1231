"""No data loss by mistake, in the real window: closing asks about unsaved changes,
untitled work is recovered, removing a layer is undoable, the layer order is kept, and
stored media paths reach the system opener only when they are safe."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from tests.viewer.gui_support import LOAD_TIMEOUT_MS, click, open_and_wait  # noqa: E402


def answer(object_name: str, button, seen: list, tries: int = 500) -> None:
    """Click ``button`` of the message box named ``object_name`` as soon as it shows
    (it runs its own event loop, so the click comes from a timer); its text goes in
    ``seen``."""
    for w in QtWidgets.QApplication.topLevelWidgets():
        if w.objectName() == object_name and w.isVisible():
            seen.append(w.text())
            w.button(button).click()
            return
    if tries > 0:
        QtCore.QTimer.singleShot(20, lambda: answer(object_name, button, seen, tries - 1))


def close_quietly(window) -> None:
    """pytest-qt's own close at teardown must not wait on the unsaved-changes question."""
    window.close_without_asking()


def no_dialog(object_name: str) -> bool:
    return not any(w.objectName() == object_name and w.isVisible()
                   for w in QtWidgets.QApplication.topLevelWidgets())


def annotate(window, title="Crack"):
    from heritage.model import Annotation

    lo, hi = window.scene.bounds()
    return window.session.add_annotation(Annotation("point", [list((lo + hi) / 2)],
                                                    title=title))


# -- 1. closing with unsaved changes asks first ---------------------------------------------
def test_close_with_unsaved_changes_asks_cancel_save_discard(qtbot, window, shared_data,
                                                             tmp_path, monkeypatch):
    from heritage.project import Project

    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen-bmx-2010.las")
    annotate(window, "Unsaved crack")
    assert window.session.dirty
    # Cancel: the window stays open, nothing lost
    seen: list = []
    answer("unsavedChangesDialog", QtWidgets.QMessageBox.Cancel, seen)
    assert window.close() is False
    assert seen and "unsaved changes" in seen[0]
    assert window.isVisible() and window.session.project.annotations
    # Save on an untitled project asks for a file name, saves, then closes
    target = tmp_path / "saved.realscene.json"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    seen.clear()
    answer("unsavedChangesDialog", QtWidgets.QMessageBox.Save, seen)
    assert window.close() is True
    assert seen and not window.isVisible()
    assert [a.title for a in Project.load(target).annotations] == ["Unsaved crack"]


def test_discard_closes_and_clean_window_closes_without_asking(qtbot, tmp_path,
                                                               shared_data):
    from viewer.qt.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win, before_close_func=close_quietly)
    win.show()
    open_and_wait(qtbot, win, shared_data / "pointclouds" / "autzen-bmx-2010.las")
    annotate(win)
    recovery = win.session.autosave()  # what the autosave timer does
    assert recovery is not None and recovery.is_file()  # untitled work has a recovery file
    seen: list = []
    answer("unsavedChangesDialog", QtWidgets.QMessageBox.Discard, seen)
    assert win.close() is True and seen
    assert not recovery.exists()  # discarded on purpose: nothing offered next time
    clean = MainWindow(settings=settings)
    qtbot.addWidget(clean, before_close_func=close_quietly)
    clean.show()
    assert clean.close() is True and no_dialog("unsavedChangesDialog")


# -- 2. untitled work is autosaved and offered back -------------------------------------------
def test_untitled_work_is_recovered_at_next_start(qtbot, tmp_path, shared_data):
    from viewer.qt.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "profile" / "s.ini"),
                                QtCore.QSettings.IniFormat)
    first = MainWindow(settings=settings)
    qtbot.addWidget(first, before_close_func=close_quietly)
    first.show()
    las = shared_data / "pointclouds" / "autzen-bmx-2010.las"
    open_and_wait(qtbot, first, las)
    first.scene.update(first.scene.layers[0], point_size=6.0)
    annotate(first, "Untitled crack")
    assert first.session.project.path is None
    first.project_actions.autosave()  # the autosave timer's work; then the app "crashes"
    recovery = tmp_path / "profile" / "untitled-recovery.realscene.json"
    assert recovery.is_file()

    second = MainWindow(settings=settings)
    qtbot.addWidget(second, before_close_func=close_quietly)
    second.show()
    seen: list = []
    answer("untitledRecoveryDialog", QtWidgets.QMessageBox.Yes, seen)
    with qtbot.waitSignal(second.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        assert second.offer_recovery() is True
    assert seen
    assert [a.title for a in second.session.project.annotations] == ["Untitled crack"]
    assert [l.name for l in second.scene.layers] == ["autzen-bmx-2010.las"]
    assert second.scene.layers[0].point_size == 6.0
    assert second.session.project.path is None  # still untitled ...
    assert second.session.dirty and "untitled *" in second.windowTitle()  # ... and unsaved
    assert not settings.value("last_project")  # the recovery file is not a project
    # saving it somewhere removes the recovery file; layer paths are relative to it
    out = second.session.save(tmp_path / "site.realscene.json")
    assert not recovery.exists()
    from heritage.project import Project

    assert not Project.load(out).missing_layers()
    second.close_without_asking()
    first.close_without_asking()


# -- 3. removing a layer is an undoable command ---------------------------------------------------
def test_remove_layer_undo_keeps_the_measurement(qtbot, window, shared_data):
    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    small = shared_data / "pointclouds" / "permutations_1.2_2.las"
    open_and_wait(qtbot, window, laz)
    window.view_preset("top")
    window.tool_actions["distance"].trigger()
    click(qtbot, window, 0.4, 0.5)
    click(qtbot, window, 0.6, 0.5)
    window._cancel_tool()
    open_and_wait(qtbot, window, small)  # a second layer, after the first
    # (UTM 15N, far from the Delft scan: the window asks; add it anyway)
    window.project_actions.fit_box.findChild(QtWidgets.QPushButton, "addAnyway").click()
    qtbot.waitUntil(lambda: len(window.scene.layers) == 2)
    layer = window.scene.layer_by_name("ahn3_cropped_2.laz")
    window.scene.update(layer, color_mode="elevation", point_size=5.0)
    data = layer.data
    measurements = window.session.project.measurements
    assert len(measurements) == 1
    measurement = measurements[0]
    position = window.scene.layers.index(layer)

    window.scene.select(layer)
    qtbot.mouseClick(window.layer_panel.remove_button, QtCore.Qt.LeftButton)
    assert layer not in window.scene.layers
    assert window.session.project.measurements == [measurement]
    assert "Remove layer" in window.undo_action.text()

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # Ctrl+Z
    assert window.scene.layers.index(layer) == position  # back at its place ...
    assert window.scene.layers[position].data is data  # ... without reading it again
    assert layer.color_mode == "elevation" and layer.point_size == 5.0
    assert window.session.project.measurements == [measurement]
    assert layer.id in window.renderer._entries  # drawn again
    assert window.layer_panel.tree.topLevelItemCount() == 2

    qtbot.keyClick(window, QtCore.Qt.Key_Z,
                   QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)  # Ctrl+Shift+Z
    assert layer not in window.scene.layers
    assert window.session.project.measurements == [measurement]
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert layer in window.scene.layers
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # the measurement
    assert window.session.project.measurements == []
    assert layer in window.scene.layers


# -- 4. the layer order is saved and restored -----------------------------------------------------
def test_layer_order_is_saved_and_restored(qtbot, window, shared_data, tmp_path):
    big = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    small = shared_data / "pointclouds" / "permutations_1.2_2.las"
    open_and_wait(qtbot, window, small, big)

    def names():
        return [l.name for l in window.scene.layers]

    def tree_names():
        tree = window.layer_panel.tree
        return [tree.topLevelItem(i).text(0).removeprefix("⚠ ")
                for i in range(tree.topLevelItemCount())]

    def drawn_names():
        by_id = {l.id: l.name for l in window.scene.layers}
        return [by_id[i] for i in window.renderer.draw_order()]

    # the big file first, with ▲ (an undoable move)
    window.scene.select(window.scene.layer_by_name("ahn3_cropped_2.laz"))
    for _ in range(len(names())):
        qtbot.mouseClick(window.layer_panel.up_button, QtCore.Qt.LeftButton)
    assert names() == ["ahn3_cropped_2.laz", "permutations_1.2_2.las"]
    assert tree_names() == names() and drawn_names() == names()
    window.undo_action.trigger()
    assert names() == ["permutations_1.2_2.las", "ahn3_cropped_2.laz"]
    assert drawn_names() == names()
    window.redo_action.trigger()
    assert names() == ["ahn3_cropped_2.laz", "permutations_1.2_2.las"]

    out = tmp_path / "order.realscene.json"
    window.session.save(out)
    # reopen: the small file finishes loading first, yet keeps its saved place
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.open_project(str(out))
    assert names() == ["ahn3_cropped_2.laz", "permutations_1.2_2.las"]
    assert tree_names() == names() and drawn_names() == names()
    assert not window.session.dirty


# -- 5. stored media reach the system opener only when safe ---------------------------------
def test_media_outside_the_project_are_not_opened(qtbot, window, shared_data, tmp_path,
                                                  monkeypatch):
    from heritage.model import Annotation
    from heritage.project import Project

    opened: list[str] = []
    monkeypatch.setattr(QtGui.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toLocalFile()) or True)
    folder = tmp_path / "project"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo")
    (folder / "media" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tmp_path / "outside.sh").write_text("#!/bin/sh\necho gotcha\n")
    (folder / "media" / "link.jpg").symlink_to(tmp_path / "outside.sh")
    project = Project(path=folder / "site.realscene.json")
    media = ["../outside.sh", "/etc/passwd", "media/run.sh", "media/link.jpg",
             "media/photo.jpg"]
    project.annotations.append(Annotation("point", [[0.0, 0.0, 0.0]], title="Stranger's",
                                          media=media))
    project.save()
    window.open_project(str(project.path))
    panel = window.annotations_panel
    panel.select(window.session.project.annotations[0].id)
    assert panel.media.count() == len(media)
    messages = []
    for row, reference in enumerate(media):
        panel.media.setCurrentRow(row)
        qtbot.mouseClick(panel.media_open, QtCore.Qt.LeftButton)
        messages.append(window.statusBar().currentMessage())
        if reference != "media/photo.jpg":
            assert reference in messages[-1] and "Not opened" in messages[-1]
    assert opened == [str((folder / "media" / "photo.jpg").resolve())]
    assert "outside" in messages[0] and "absolute" in messages[1]
    assert "image or document" in messages[2] and "outside" in messages[3]


# -- 6. a project's warnings are shown when it opens -----------------------------------------
def test_project_layers_outside_its_folder_are_named_on_open(qtbot, window, shared_data,
                                                              tmp_path):
    from heritage.project import LayerRecord, Project

    scan = shared_data / "pointclouds" / "permutations_1.2_2.las"
    project = Project(path=tmp_path / "site.realscene.json")
    project.layers.append(LayerRecord(path=project.relative(scan), name=scan.name))
    project.save()
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.open_project(str(project.path))
        message = window.statusBar().currentMessage()
    assert "outside the project folder" in message and scan.name in message
    assert [l.name for l in window.scene.layers] == [scan.name]
