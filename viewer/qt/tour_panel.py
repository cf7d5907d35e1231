"""The Tours tab (beside Annotations and Measurements): tours authored as in Voyager.

A list of the project's tours (New, Rename, Delete) and the selected tour's stops (title,
caption, transition seconds, pause seconds): Add current view (the camera the author has
now, stored in the stop), Add selected annotation, Move up / Move down (or drag a stop),
Delete stop, and Play / Stop. The selected stop's title, caption, duration and pause are
edited below the list. Every edit is a :class:`~viewer.session.ProjectSession` tour edit
(undoable); the panel follows the scene's ``tours_changed`` events (edits, undo/redo,
project open).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6 import QtCore, QtWidgets

from ..session import ProjectSession
from ..tours import stop_text

TOUR_ROLE = QtCore.Qt.UserRole


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


class StopList(QtWidgets.QTreeWidget):
    """The stops of a tour; a stop dragged to another place asks ``moved(from, to)``
    (the session moves it, undoable; the list is then filled again)."""

    moved = QtCore.Signal(int, int)

    def __init__(self) -> None:
        super().__init__(objectName="tourStops")
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setDragDropMode(QtWidgets.QAbstractItemView.InternalMove)
        self.setDefaultDropAction(QtCore.Qt.MoveAction)

    def drop_target(self, pos: QtCore.QPoint) -> int:
        """The index a stop dropped at ``pos`` (viewport coordinates) goes to, counted
        before the dragged stop is taken out."""
        item = self.itemAt(pos)
        count = self.topLevelItemCount()
        if item is None:
            return count
        index = self.indexOfTopLevelItem(item)
        rect = self.visualItemRect(item)
        return index + 1 if pos.y() > rect.center().y() else index

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt)
        source = self.indexOfTopLevelItem(self.currentItem()) if self.currentItem() else -1
        target = self.drop_target(event.position().toPoint())
        # the session moves the stop; the list is refilled from the project
        event.setDropAction(QtCore.Qt.IgnoreAction)
        event.accept()
        if source < 0:
            return
        if target > source:
            target -= 1
        if target != source:
            self.moved.emit(source, target)


class TourPanel(QtWidgets.QWidget):
    """Tours and their stops; edits go through the session.

    ``camera()`` returns the window's current camera (:class:`viewer.scene.Camera`),
    ``selected_annotation()`` the id of the annotation selected in the Annotations tab
    (or None), ``player`` is the window's :class:`viewer.qt.tours.TourPlayer`."""

    def __init__(self, session: ProjectSession, camera: Callable[[], Any],
                 selected_annotation: Callable[[], str | None], player=None,
                 parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.camera = camera
        self.selected_annotation = selected_annotation
        self.player = player
        self._project = session.project
        self._filling = False

        # tours
        self.tour_box = QtWidgets.QComboBox(objectName="tourCombo")
        self.new_button = QtWidgets.QToolButton(objectName="tourNew")
        self.rename_button = QtWidgets.QToolButton(objectName="tourRename")
        self.delete_tour_button = QtWidgets.QToolButton(objectName="tourDelete")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.tour_box, 1)
        for b in (self.new_button, self.rename_button, self.delete_tour_button):
            top.addWidget(b)

        # stops
        self.stops = StopList()
        self.add_view_button = QtWidgets.QPushButton(objectName="stopAddView")
        self.add_annotation_button = QtWidgets.QPushButton(objectName="stopAddAnnotation")
        self.up_button = QtWidgets.QToolButton(objectName="stopUp", text="▲")
        self.down_button = QtWidgets.QToolButton(objectName="stopDown", text="▼")
        self.delete_stop_button = QtWidgets.QToolButton(objectName="stopDelete")
        self.play_button = QtWidgets.QPushButton(objectName="tourPlay")
        add_row = QtWidgets.QHBoxLayout()
        add_row.addWidget(self.add_view_button)
        add_row.addWidget(self.add_annotation_button)
        add_row.addStretch(1)
        edit_row = QtWidgets.QHBoxLayout()
        for b in (self.up_button, self.down_button, self.delete_stop_button):
            edit_row.addWidget(b)
        edit_row.addStretch(1)
        edit_row.addWidget(self.play_button)

        # the selected stop
        self.title_edit = QtWidgets.QLineEdit(objectName="stopTitle")
        self.caption_edit = QtWidgets.QLineEdit(objectName="stopCaption")
        self.duration_box = QtWidgets.QDoubleSpinBox(objectName="stopDuration")
        self.pause_box = QtWidgets.QDoubleSpinBox(objectName="stopPause")
        for box in (self.duration_box, self.pause_box):
            box.setRange(0.0, 600.0)
            box.setDecimals(1)
            box.setSingleStep(0.5)
            box.setKeyboardTracking(False)
        self.form = QtWidgets.QFormLayout()
        self.form_labels = [QtWidgets.QLabel() for _ in range(4)]
        for label, field in zip(self.form_labels, (self.title_edit, self.caption_edit,
                                                   self.duration_box, self.pause_box),
                                strict=True):
            self.form.addRow(label, field)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.stops, 1)
        layout.addLayout(add_row)
        layout.addLayout(edit_row)
        layout.addLayout(self.form)
        self._set_texts()

        self.tour_box.currentIndexChanged.connect(lambda *_: self._fill_stops())
        self.new_button.clicked.connect(self.new_tour)
        self.rename_button.clicked.connect(self.rename_dialog)
        self.delete_tour_button.clicked.connect(self.delete_tour)
        self.add_view_button.clicked.connect(self.add_current_view)
        self.add_annotation_button.clicked.connect(self.add_selected_annotation)
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(+1))
        self.delete_stop_button.clicked.connect(self.delete_current_stop)
        self.play_button.clicked.connect(self.play_or_stop)
        self.stops.currentItemChanged.connect(lambda *_: self._load_form())
        self.stops.moved.connect(self._moved)
        self.title_edit.editingFinished.connect(lambda: self._edit(title=self.title_edit.text()))
        self.caption_edit.editingFinished.connect(
            lambda: self._edit(caption=self.caption_edit.text()))
        self.duration_box.valueChanged.connect(lambda v: self._edit(duration=v))
        self.pause_box.valueChanged.connect(lambda v: self._edit(pause=v))
        if player is not None:
            player.finished.connect(self._update_play_button)
        session.scene.connect("tours_changed", self._on_changed)
        session.scene.connect("project_changed", self._on_project_changed)
        self.refresh()

    # -- texts ---------------------------------------------------------------------------
    def _set_texts(self) -> None:
        self.new_button.setText(self.tr("New"))
        self.new_button.setToolTip(self.tr("A new, empty tour"))
        self.rename_button.setText(self.tr("Rename…"))
        self.delete_tour_button.setText(self.tr("Delete"))
        self.delete_tour_button.setToolTip(self.tr("Delete this tour"))
        self.add_view_button.setText(self.tr("Add current view"))
        self.add_view_button.setToolTip(self.tr(
            "Add the camera the view has now as the tour's next stop"))
        self.add_annotation_button.setText(self.tr("Add selected annotation"))
        self.add_annotation_button.setToolTip(self.tr(
            "Add the annotation selected in the Annotations tab as a stop: its text and "
            "photo are shown when the tour gets there"))
        self.up_button.setToolTip(self.tr("Move the stop earlier"))
        self.down_button.setToolTip(self.tr("Move the stop later"))
        self.delete_stop_button.setText(self.tr("Delete stop"))
        self.stops.setHeaderLabels([self.tr("Stop"), self.tr("Caption"), self.tr("Move s"),
                                    self.tr("Pause s")])
        self.stops.setToolTip(self.tr("Drag a stop to reorder the tour"))
        for label, text in zip(self.form_labels, (self.tr("Title"), self.tr("Caption"),
                                                  self.tr("Move (s)"), self.tr("Pause (s)")),
                               strict=True):
            label.setText(text)
        self.title_edit.setPlaceholderText(self.tr("the view's or annotation's name"))
        self.caption_edit.setPlaceholderText(self.tr("shown over the view during the tour"))
        self.duration_box.setToolTip(self.tr("Seconds the camera takes to reach this stop"))
        self.pause_box.setToolTip(self.tr("Seconds the tour stays at this stop"))
        self._update_play_button()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.type() == QtCore.QEvent.LanguageChange:
            self._set_texts()
            self.refresh()
        super().changeEvent(event)

    def close_panel(self) -> None:
        self.session.scene.disconnect("tours_changed", self._on_changed)
        self.session.scene.disconnect("project_changed", self._on_project_changed)

    # -- state -----------------------------------------------------------------------------
    def current_tour(self):
        tour_id = self.tour_box.currentData(TOUR_ROLE)
        if tour_id is None:
            return None
        try:
            return self.session.tour(tour_id)
        except KeyError:
            return None

    def current_stop(self) -> int | None:
        item = self.stops.currentItem()
        return self.stops.indexOfTopLevelItem(item) if item is not None else None

    def select_tour(self, tour_id: str | None) -> None:
        index = self.tour_box.findData(tour_id, TOUR_ROLE)
        if index >= 0:
            self.tour_box.setCurrentIndex(index)

    def select_stop(self, index: int | None) -> None:
        if index is None or not 0 <= index < self.stops.topLevelItemCount():
            self.stops.setCurrentItem(None)
        else:
            self.stops.setCurrentItem(self.stops.topLevelItem(index))

    def _on_changed(self, **_kw) -> None:
        self.refresh()

    def _on_project_changed(self, **_kw) -> None:
        if self.session.project is not self._project:  # another project was opened
            self.refresh()

    # -- filling ---------------------------------------------------------------------------
    def refresh(self) -> None:
        self._project = self.session.project
        tour = self.current_tour()
        current = tour.id if tour is not None else None
        self._filling = True
        self.tour_box.clear()
        for t in self.session.project.tours:
            self.tour_box.addItem(t.name, t.id)
        self._filling = False
        index = self.tour_box.findData(current, TOUR_ROLE) if current else -1
        self.tour_box.setCurrentIndex(index if index >= 0 else
                                      (0 if self.tour_box.count() else -1))
        self._fill_stops()

    def _fill_stops(self) -> None:
        if self._filling:
            return
        row = self.current_stop()
        tour = self.current_tour()
        self._filling = True
        self.stops.clear()
        if tour is not None:
            project = self.session.project
            for i, stop in enumerate(tour.stops):
                text = stop_text(project, stop)
                title = text.title or (self.tr("(missing)") if stop.camera is None
                                       else self.tr("View"))
                item = QtWidgets.QTreeWidgetItem([f"{i + 1}. {title}", _short(stop.caption),
                                                  f"{stop.duration:g}", f"{stop.pause:g}"])
                item.setToolTip(1, stop.caption)
                item.setFlags(item.flags() | QtCore.Qt.ItemIsDragEnabled)
                item.setFlags(item.flags() & ~QtCore.Qt.ItemIsDropEnabled)
                self.stops.addTopLevelItem(item)
        self._filling = False
        self.stops.resizeColumnToContents(0)
        count = self.stops.topLevelItemCount()
        if count:
            self.select_stop(min(row, count - 1) if row is not None else None)
        self._load_form()

    def _load_form(self) -> None:
        tour, index = self.current_tour(), self.current_stop()
        stop = tour.stops[index] if tour is not None and index is not None \
            and index < len(tour.stops) else None
        self._filling = True
        self.title_edit.setText(stop.title if stop else "")
        self.caption_edit.setText(stop.caption if stop else "")
        self.duration_box.setValue(stop.duration if stop else 2.0)
        self.pause_box.setValue(stop.pause if stop else 2.0)
        self._filling = False
        has_tour, has_stop = tour is not None, stop is not None
        for w in (self.title_edit, self.caption_edit, self.duration_box, self.pause_box,
                  self.delete_stop_button):
            w.setEnabled(has_stop)
        self.up_button.setEnabled(has_stop and index > 0)
        self.down_button.setEnabled(has_stop and index < len(tour.stops) - 1)
        for w in (self.rename_button, self.delete_tour_button, self.add_view_button,
                  self.add_annotation_button):
            w.setEnabled(has_tour)
        self._update_play_button()

    def _update_play_button(self, *_args) -> None:
        playing = self.player is not None and self.player.playing
        self.play_button.setText(self.tr("Stop") if playing else self.tr("Play"))
        tour = self.current_tour()
        self.play_button.setEnabled(playing or (tour is not None and bool(tour.stops)
                                                and self.player is not None))

    # -- actions -----------------------------------------------------------------------------
    def new_tour(self, name: str = "") -> None:
        tour = self.session.add_tour(name or "")
        self.select_tour(tour.id)

    def rename_dialog(self) -> None:
        tour = self.current_tour()
        if tour is None:
            return
        name, ok = QtWidgets.QInputDialog.getText(self, self.tr("Rename tour"),
                                                  self.tr("Name:"), text=tour.name)
        if ok and name.strip():
            self.session.rename_tour(tour.id, name)

    def delete_tour(self) -> None:
        tour = self.current_tour()
        if tour is not None:
            self.session.delete_tour(tour.id)

    def _ensure_tour(self):
        tour = self.current_tour()
        if tour is None:
            tour = self.session.add_tour()
            self.select_tour(tour.id)
        return tour

    def add_current_view(self) -> None:
        tour = self._ensure_tour()
        self.session.add_stop(tour.id, camera=self.camera())
        self.select_stop(len(tour.stops) - 1)

    def add_selected_annotation(self) -> None:
        ann_id = self.selected_annotation()
        if ann_id is None:
            QtWidgets.QMessageBox.information(
                self, self.tr("Add selected annotation"),
                self.tr("Select an annotation in the Annotations tab first."))
            return
        tour = self._ensure_tour()
        self.session.add_stop(tour.id, annotation_id=ann_id)
        self.select_stop(len(tour.stops) - 1)

    def move_current(self, step: int) -> None:
        tour, index = self.current_tour(), self.current_stop()
        if tour is None or index is None:
            return
        target = max(0, min(index + step, len(tour.stops) - 1))
        if target != index:
            self.session.move_stop(tour.id, index, target)
            self.select_stop(target)

    def _moved(self, source: int, target: int) -> None:
        tour = self.current_tour()
        if tour is not None:
            self.session.move_stop(tour.id, source, target)
            self.select_stop(max(0, min(target, len(tour.stops) - 1)))

    def delete_current_stop(self) -> None:
        tour, index = self.current_tour(), self.current_stop()
        if tour is not None and index is not None:
            self.session.delete_stop(tour.id, index)

    def _edit(self, **changes: Any) -> None:
        if self._filling:
            return
        tour, index = self.current_tour(), self.current_stop()
        if tour is None or index is None or index >= len(tour.stops):
            return
        self.session.update_stop(tour.id, index, **changes)

    def play_or_stop(self) -> None:
        if self.player is None:
            return
        if self.player.playing:
            self.player.stop()
        else:
            tour = self.current_tour()
            if tour is not None and tour.stops:
                self.player.play(tour)
        self._update_play_button()
