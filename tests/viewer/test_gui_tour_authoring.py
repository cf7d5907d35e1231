"""Tours authored in the real window (the Tours tab): add views and an annotation as stops,
reorder, caption, undo, save, reopen, play and read the caption over the view."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from heritage.model import Annotation  # noqa: E402
from tests.viewer.gui_support import LOAD_TIMEOUT_MS, open_and_wait  # noqa: E402


def _settle(qtbot) -> None:
    QtWidgets.QApplication.processEvents()
    qtbot.wait(20)
    QtWidgets.QApplication.processEvents()


def _type(qtbot, edit: QtWidgets.QLineEdit, text: str) -> None:
    """Type into a line edit and press Return (editingFinished), as a user does."""
    edit.setFocus()
    edit.selectAll()
    if text.isascii():
        qtbot.keyClicks(edit, text)
    else:  # (QTest cannot type Chinese: an input method commits it as one string)
        edit.insert(text)
    qtbot.keyClick(edit, QtCore.Qt.Key_Return)
    _settle(qtbot)


def _photo(path) -> None:
    from PIL import Image

    img = Image.new("RGB", (64, 48), (200, 40, 30))
    img.save(path)


def test_author_a_tour_save_reopen_and_play_with_captions(qtbot, window, shared_data,
                                                           tmp_path):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    session, panel = window.session, window.tour_panel
    assert window.tours_dock.isAncestorOf(panel)
    assert window.tours_dock in window.tabifiedDockWidgets(window.measurements_dock)
    window.tours_dock.raise_()
    assert not panel.add_view_button.isEnabled()  # no tour yet

    # a new tour; two views added as stops
    qtbot.mouseClick(panel.new_button, QtCore.Qt.LeftButton)
    [tour] = session.project.tours
    assert tour.name == "Tour 1" and panel.tour_box.currentText() == "Tour 1"
    window.view_preset("top")
    top = window.renderer.camera_to_scene(emit=False)
    qtbot.mouseClick(panel.add_view_button, QtCore.Qt.LeftButton)
    window.view_preset("front")
    front = window.renderer.camera_to_scene(emit=False)
    qtbot.mouseClick(panel.add_view_button, QtCore.Qt.LeftButton)
    assert [s.camera["position"] for s in tour.stops] == [list(top.position),
                                                          list(front.position)]
    assert panel.stops.topLevelItemCount() == 2 and panel.current_stop() == 1

    # reorder: the front view first; undo and redo
    qtbot.mouseClick(panel.up_button, QtCore.Qt.LeftButton)
    assert [s.camera["position"] for s in tour.stops] == [list(front.position),
                                                          list(top.position)]
    assert panel.current_stop() == 0
    window.undo_action.trigger()
    assert tour.stops[0].camera["position"] == list(top.position)
    window.redo_action.trigger()
    assert tour.stops[0].camera["position"] == list(front.position)

    # captions, titles and timing typed in the form
    panel.select_stop(0)
    _type(qtbot, panel.title_edit, "Facade")
    _type(qtbot, panel.caption_edit, "The west front, rebuilt in 1893")
    panel.duration_box.setValue(0.4)
    panel.pause_box.setValue(0.8)
    panel.select_stop(1)
    _type(qtbot, panel.caption_edit, "From above: 屋顶")
    panel.duration_box.setValue(0.4)
    panel.pause_box.setValue(0.8)
    assert (tour.stops[0].title, tour.stops[0].caption) == ("Facade",
                                                            "The west front, rebuilt in 1893")
    assert (tour.stops[0].duration, tour.stops[0].pause) == (0.4, 0.8)
    assert tour.stops[1].caption == "From above: 屋顶"
    assert panel.stops.topLevelItem(0).text(0) == "1. Facade"
    assert panel.stops.topLevelItem(1).text(1) == "From above: 屋顶"
    window.undo_action.trigger()  # the last pause
    assert tour.stops[1].pause == 2.0 and panel.pause_box.value() == 2.0
    window.redo_action.trigger()
    assert tour.stops[1].pause == 0.8

    # an annotation with a photo, added as the third stop
    _photo(tmp_path / "crack.png")
    x, y, z = (np.asarray(front.focal_point)).tolist()
    ann = session.add_annotation(Annotation(kind="point", title="Crack above the door",
                                            description="Hairline crack, 40 cm",
                                            points=[[x, y, z]], media=["crack.png"]))
    window.annotations_panel.select(ann.id)
    qtbot.mouseClick(panel.add_annotation_button, QtCore.Qt.LeftButton)
    assert tour.stops[2].annotation_id == ann.id
    assert panel.stops.topLevelItem(2).text(0) == "3. Crack above the door"
    panel.select_stop(2)
    _type(qtbot, panel.caption_edit, "Watch this one")
    panel.duration_box.setValue(0.4)
    panel.pause_box.setValue(0.8)

    # save, reopen: the tour and its captions come back
    out = tmp_path / "toured.realscene.json"
    session.save(out)
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_project(str(out)) == []
    [tour] = session.project.tours
    assert [s.caption for s in tour.stops] == ["The west front, rebuilt in 1893",
                                               "From above: 屋顶", "Watch this one"]
    assert panel.tour_box.currentText() == "Tour 1"
    assert panel.stops.topLevelItemCount() == 3
    assert panel.stops.topLevelItem(0).text(0) == "1. Facade"

    # play: each stop's caption is shown over the view, with the annotation's text and
    # photo at its stop; cleared when the tour ends
    caption = window.tour_player.caption
    seen: list[tuple] = []  # what the caption box showed, each change once

    def look() -> None:  # connected after the player's own tick: what that tick showed
        state = (caption.isVisible(), caption.title.text(), caption.caption.text(),
                 caption.detail.text(), caption.photo.isVisible())
        if not seen or seen[-1] != state:
            seen.append(state)
            if state[4]:
                window.grab().save(str(tmp_path / "tour_caption.png"))

    window.tour_player.timer.timeout.connect(look)
    assert panel.play_button.text() == "Play"
    with qtbot.waitSignal(window.tour_player.finished, timeout=60_000):
        qtbot.mouseClick(panel.play_button, QtCore.Qt.LeftButton)
        assert panel.play_button.text() == "Stop"
    assert seen[:3] == [
        (True, "Facade", "The west front, rebuilt in 1893", "", False),
        (True, "", "From above: 屋顶", "", False),
        (True, "Crack above the door", "Watch this one", "Hairline crack, 40 cm", True)]
    assert not caption.isVisible() and caption.shown is None
    assert panel.play_button.text() == "Play"
    # the caption box sits over the 3D view
    view = window.plotter.interactor
    view_rect = QtCore.QRect(view.mapTo(window, QtCore.QPoint(0, 0)), view.size())
    assert view_rect.contains(caption.geometry())

    # delete a stop, then the tour; undo brings them back
    panel.select_stop(1)
    qtbot.mouseClick(panel.delete_stop_button, QtCore.Qt.LeftButton)
    assert len(tour.stops) == 2 and panel.stops.topLevelItemCount() == 2
    qtbot.mouseClick(panel.delete_tour_button, QtCore.Qt.LeftButton)
    assert session.project.tours == [] and panel.tour_box.count() == 0
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert len(session.project.tours[0].stops) == 3
    assert panel.stops.topLevelItemCount() == 3


def test_stopping_a_tour_clears_its_caption(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    session, panel = window.session, window.tour_panel
    panel.new_tour("Long")
    tour = session.project.tours[0]
    window.view_preset("top")
    session.add_stop(tour.id, camera=window.renderer.camera_to_scene(emit=False),
                     caption="Stay a while", duration=0.2, pause=30.0)
    qtbot.mouseClick(panel.play_button, QtCore.Qt.LeftButton)
    caption = window.tour_player.caption
    qtbot.waitUntil(lambda: caption.isVisible(), timeout=10_000)
    assert caption.caption.text() == "Stay a while"
    with qtbot.waitSignal(window.tour_player.finished, timeout=5_000):
        qtbot.mouseClick(panel.play_button, QtCore.Qt.LeftButton)  # Stop
    assert not caption.isVisible()
    assert not window.tour_player.playing


def test_drag_a_stop_to_reorder(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    session, panel = window.session, window.tour_panel
    window.tours_dock.raise_()
    panel.new_tour("Drag")
    tour = session.project.tours[0]
    for i in range(3):
        window.view_preset(("top", "front", "side")[i])
        session.add_stop(tour.id, camera=window.renderer.camera_to_scene(emit=False),
                         caption=f"stop {i}")
    _settle(qtbot)
    stops = panel.stops
    # the drop position below the last row puts the first stop last
    panel.select_stop(0)
    last = stops.visualItemRect(stops.topLevelItem(2))
    below = QtCore.QPoint(last.center().x(), last.bottom() - 1)
    assert stops.drop_target(below) == 3
    moved: list[tuple[int, int]] = []
    stops.moved.connect(lambda a, b: moved.append((a, b)))
    mime = stops.model().mimeData([stops.currentIndex()])
    event = QtGui.QDropEvent(QtCore.QPointF(below), QtCore.Qt.MoveAction, mime,
                             QtCore.Qt.LeftButton, QtCore.Qt.NoModifier)
    stops.dropEvent(event)
    assert moved == [(0, 2)]
    assert [s.caption for s in tour.stops] == ["stop 1", "stop 2", "stop 0"]
    assert [stops.topLevelItem(i).text(1) for i in range(3)] == ["stop 1", "stop 2",
                                                                 "stop 0"]
    window.undo_action.trigger()
    assert [s.caption for s in tour.stops] == ["stop 0", "stop 1", "stop 2"]
