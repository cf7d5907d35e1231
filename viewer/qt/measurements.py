"""The measurements list: every measurement of the project (kind, name, value, date).

Selecting one highlights it in the view; the name is edited in place, the checkbox hides
or shows it, Copy duplicates and Delete removes it. Every edit goes through the
:class:`~viewer.session.ProjectSession` (undoable); the list follows the scene's
``measurements_changed`` events (edits, undo/redo, project open).
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from heritage.measure import format_value, measure

from ..session import ProjectSession
from .annotations import tool_name

ID_ROLE = QtCore.Qt.UserRole


class MeasurementsPanel(QtWidgets.QWidget):
    """The project's measurements as a table; edits go through the session."""

    def __init__(self, session: ProjectSession, overlay=None, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.overlay = overlay
        self.tree = QtWidgets.QTreeWidget(objectName="measurementList")
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setEditTriggers(QtWidgets.QAbstractItemView.DoubleClicked
                                  | QtWidgets.QAbstractItemView.EditKeyPressed
                                  | QtWidgets.QAbstractItemView.SelectedClicked)
        self.copy_button = QtWidgets.QPushButton(self.tr("Copy"), objectName="measCopy")
        self.copy_button.setToolTip(self.tr("Duplicate the selected measurement"))
        self.delete_button = QtWidgets.QPushButton(self.tr("Delete"), objectName="measDelete")
        self._set_headers()
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._filling = False
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.copy_button.clicked.connect(self.copy_current)
        self.delete_button.clicked.connect(self.delete_current)
        session.scene.connect("measurements_changed", self._on_changed)
        self.refresh()

    def _set_headers(self) -> None:
        self.tree.setHeaderLabels([self.tr("Name"), self.tr("Kind"), self.tr("Value"),
                                   self.tr("Date")])

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.type() == QtCore.QEvent.LanguageChange:
            self._set_headers()
            self.copy_button.setText(self.tr("Copy"))
            self.copy_button.setToolTip(self.tr("Duplicate the selected measurement"))
            self.delete_button.setText(self.tr("Delete"))
            self.refresh()
        super().changeEvent(event)

    def _on_changed(self, **_kw) -> None:
        self.refresh()

    def close_panel(self) -> None:
        self.session.scene.disconnect("measurements_changed", self._on_changed)

    # -- the list ----------------------------------------------------------------------
    def _unit(self) -> str:
        from viewer.units import scene_length_unit

        return scene_length_unit(self.session.scene)  # "units" when nothing says

    def refresh(self) -> None:
        current = self.current_id()
        unit = self._unit()
        self._filling = True
        self.tree.clear()
        for m in self.session.project.measurements:
            try:
                value = format_value(m.kind, measure(m.kind, m.points), unit)
            except ValueError:
                value = "?"
            item = QtWidgets.QTreeWidgetItem([m.label, tool_name(m.kind), value,
                                              m.created[:16].replace("T", " ")])
            item.setData(0, ID_ROLE, m.id)
            item.setFlags(item.flags() | QtCore.Qt.ItemIsEditable
                          | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(0, QtCore.Qt.Checked if m.visible else QtCore.Qt.Unchecked)
            item.setToolTip(0, self.tr("Double-click to rename; the checkbox shows or "
                                       "hides it in the view"))
            item.setTextAlignment(2, QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
            self.tree.addTopLevelItem(item)
        self._filling = False
        for i in range(3):
            self.tree.resizeColumnToContents(i)
        if current is not None:
            self.select(current)
        self._update_buttons()

    def current_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def item(self, measurement_id: str) -> QtWidgets.QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.data(0, ID_ROLE) == measurement_id:
                return it
        return None

    def select(self, measurement_id: str | None) -> None:
        it = self.item(measurement_id) if measurement_id else None
        if it is not None:
            self.tree.setCurrentItem(it)

    def _update_buttons(self) -> None:
        has = self.current_id() is not None
        self.copy_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def _current_changed(self, *_args) -> None:
        self._update_buttons()
        if self._filling or self.overlay is None:
            return
        self.overlay.selected_id = self.current_id()
        self.overlay.refresh()

    def _item_changed(self, item: QtWidgets.QTreeWidgetItem, column: int) -> None:
        if self._filling or column != 0:
            return
        mid = item.data(0, ID_ROLE)
        try:
            m = self.session.measurement(mid)
        except StopIteration:
            return
        visible = item.checkState(0) == QtCore.Qt.Checked
        label = item.text(0).strip()
        # refresh() runs from the session's event: defer it out of the item's own signal
        if label != m.label:
            QtCore.QTimer.singleShot(0, lambda: self.session.update_measurement(mid,
                                                                                 label=label))
        elif visible != m.visible:
            QtCore.QTimer.singleShot(0, lambda: self.session.update_measurement(
                mid, visible=visible))

    # -- actions -------------------------------------------------------------------------
    def copy_current(self) -> None:
        mid = self.current_id()
        if mid is not None:
            dup = self.session.copy_measurement(mid)
            self.select(dup.id)

    def delete_current(self) -> None:
        mid = self.current_id()
        if mid is not None:
            self.session.delete_measurement(mid)
