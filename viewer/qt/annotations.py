"""Annotating and measuring by clicking in the 3D view, and the annotations panel.

The tool listens to the scene's ``picked`` events (a click on a point or surface in
the view snaps to the picked point) and builds pins, polylines, polygons, boxes or
measurements; Enter (or "Finish") completes a multi-point shape, Esc cancels. All edits
go through the :class:`~viewer.session.ProjectSession` so they can be undone.
"""

from __future__ import annotations

from datetime import date

from PySide6 import QtCore, QtGui, QtWidgets

from heritage.measure import format_value, measure, minimum_points
from heritage.model import Annotation, Measurement

from ..session import ProjectSession

ANNOTATION_TOOLS = {"pin": "point", "polyline": "polyline", "polygon": "polygon",
                    "box": "box"}
MEASURE_TOOLS = ("distance", "horizontal_distance", "vertical_distance",
                 "height_difference", "polyline_length", "area", "projected_area", "angle")
#: points after which a tool finishes by itself
AUTO_FINISH = {"pin": 1, "box": 2, "distance": 2, "horizontal_distance": 2,
               "vertical_distance": 2, "height_difference": 2, "angle": 3}


class AnnotationTool(QtCore.QObject):
    """The active click tool: collects picked points, then creates the record."""

    changed = QtCore.Signal()

    def __init__(self, session: ProjectSession, overlay, window) -> None:
        super().__init__(window)
        self.session = session
        self.overlay = overlay
        self.window = window
        self.mode: str | None = None
        self.points: list[list[float]] = []
        session.scene.connect("picked", self._on_picked)

    def start(self, mode: str | None) -> None:
        self.mode = mode
        self.points = []
        self._sync()
        if mode:
            n = AUTO_FINISH.get(mode)
            how = f"click {n} point{'s' if n > 1 else ''}" if n else \
                "click points, Enter to finish"
            self.window.statusBar().showMessage(
                f"{mode.replace('_', ' ').capitalize()}: {how}; Esc cancels", 8000)

    def cancel(self) -> None:
        self.start(None)

    def _sync(self) -> None:
        self.overlay.draft = list(self.points)
        self.overlay.refresh()
        self.changed.emit()

    def _on_picked(self, pick=None, **_) -> None:
        if self.mode is None or pick is None:
            return
        self.add_point([float(c) for c in pick.xyz])

    def add_point(self, xyz) -> None:
        self.points.append([float(c) for c in xyz])
        if AUTO_FINISH.get(self.mode) == len(self.points):
            self.finish()
        else:
            self._sync()

    def finish(self):
        mode, points = self.mode, list(self.points)
        if mode is None:
            return None
        need = minimum_points(mode) if mode in MEASURE_TOOLS else \
            {"pin": 1, "polyline": 2, "polygon": 3, "box": 2}[mode]
        if len(points) < need:
            self.window.statusBar().showMessage(
                f"{mode.replace('_', ' ')} needs at least {need} points", 5000)
            return None
        self.points = []
        self.overlay.draft = []
        self.window.renderer.camera_to_scene(emit=False)
        camera = self.session.scene.camera
        if mode in MEASURE_TOOLS:
            record = self.session.add_measurement(Measurement(mode, points))
            self.window.statusBar().showMessage(
                f"{mode.replace('_', ' ')}: {format_value(mode, measure(mode, points))}", 10000)
        else:
            n = sum(1 for a in self.session.project.annotations) + 1
            record = self.session.add_annotation(
                Annotation(ANNOTATION_TOOLS[mode], points, title=f"Annotation {n}",
                           observed=date.today().isoformat(),
                           author=str(self.window.settings.value("author", ""))),
                camera=camera)
            self.window.annotations_panel.select(record.id)
        self.changed.emit()
        return record


class AnnotationsPanel(QtWidgets.QWidget):
    """List with search and filters, selection synced with the view, fly-to, edit form."""

    fly_to_requested = QtCore.Signal(str)

    def __init__(self, session: ProjectSession, overlay, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.overlay = overlay
        self.search = QtWidgets.QLineEdit(placeholderText="Search annotations…",
                                          objectName="annotationSearch")
        self.category_filter = QtWidgets.QComboBox(objectName="categoryFilter")
        self.condition_filter = QtWidgets.QComboBox(objectName="conditionFilter")
        self.author_filter = QtWidgets.QLineEdit(placeholderText="author",
                                                 objectName="authorFilter")
        self.since_filter = QtWidgets.QLineEdit(placeholderText="since YYYY-MM-DD",
                                                objectName="sinceFilter")
        self.list = QtWidgets.QListWidget(objectName="annotationList")
        self.title = QtWidgets.QLineEdit(objectName="annTitle")
        self.description = QtWidgets.QPlainTextEdit(objectName="annDescription")
        self.description.setMaximumHeight(70)
        self.category = QtWidgets.QComboBox(objectName="annCategory")
        self.condition = QtWidgets.QComboBox(objectName="annCondition")
        self.observed = QtWidgets.QLineEdit(objectName="annObserved",
                                            placeholderText="YYYY-MM-DD")
        self.author = QtWidgets.QLineEdit(objectName="annAuthor")
        self.tags = QtWidgets.QLineEdit(objectName="annTags", placeholderText="tag; tag")
        self.apply_button = QtWidgets.QPushButton("Apply", objectName="annApply")
        self.delete_button = QtWidgets.QPushButton("Delete", objectName="annDelete")
        self.fly_button = QtWidgets.QPushButton("Fly to", objectName="annFlyTo")
        self._fill_vocabulary()

        filters = QtWidgets.QGridLayout()
        filters.addWidget(self.search, 0, 0, 1, 2)
        filters.addWidget(self.category_filter, 1, 0)
        filters.addWidget(self.condition_filter, 1, 1)
        filters.addWidget(self.author_filter, 2, 0)
        filters.addWidget(self.since_filter, 2, 1)
        form = QtWidgets.QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Description", self.description)
        form.addRow("Category", self.category)
        form.addRow("Condition", self.condition)
        form.addRow("Observed", self.observed)
        form.addRow("Author", self.author)
        form.addRow("Tags", self.tags)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.apply_button, self.fly_button, self.delete_button):
            buttons.addWidget(b)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)

        for w in (self.search, self.author_filter, self.since_filter):
            w.textChanged.connect(self.refresh)
        for w in (self.category_filter, self.condition_filter):
            w.currentIndexChanged.connect(self._filters_changed)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemDoubleClicked.connect(lambda item: self.fly_to_requested.emit(
            item.data(QtCore.Qt.UserRole)))
        self.apply_button.clicked.connect(self.apply_edits)
        self.delete_button.clicked.connect(self.delete_current)
        self.fly_button.clicked.connect(lambda: self.current_id() and
                                        self.fly_to_requested.emit(self.current_id()))
        session.scene.connect("annotations_changed", lambda **kw: self.refresh())
        self.refresh()

    def _fill_vocabulary(self) -> None:
        vocab = self.session.project.vocabulary
        self.category_filter.clear()
        self.category_filter.addItem("All categories", None)
        self.category.clear()
        for key, (label, rgb) in vocab.categories.items():
            pix = QtGui.QPixmap(12, 12)
            pix.fill(QtGui.QColor(*rgb))
            self.category_filter.addItem(QtGui.QIcon(pix), label, key)
            self.category.addItem(QtGui.QIcon(pix), label, key)
        self.condition_filter.clear()
        self.condition_filter.addItem("All conditions", None)
        self.condition.clear()
        self.condition.addItem("—", None)
        for key, (label, _rgb) in vocab.conditions.items():
            self.condition_filter.addItem(label, key)
            self.condition.addItem(label, key)

    # -- list ---------------------------------------------------------------------------
    def matches(self, a) -> bool:
        text = self.search.text().strip().lower()
        if text and text not in " ".join([a.title, a.description, a.author, a.category,
                                           " ".join(a.tags)]).lower():
            return False
        cat = self.category_filter.currentData()
        if cat and a.category != cat:
            return False
        cond = self.condition_filter.currentData()
        if cond and a.condition != cond:
            return False
        author = self.author_filter.text().strip().lower()
        if author and author not in a.author.lower():
            return False
        since = self.since_filter.text().strip()
        if since and (not a.observed or a.observed < since):
            return False
        return True

    def _filters_changed(self) -> None:
        # the 3D view shows what the list shows: category/condition filters hide markers
        vocab = self.session.project.vocabulary
        cat, cond = self.category_filter.currentData(), self.condition_filter.currentData()
        self.overlay.set_filters(
            categories=set() if not cat else set(vocab.categories) - {cat},
            conditions=set() if not cond else (set(vocab.conditions) | {""}) - {cond})
        self.refresh()

    def refresh(self) -> None:
        current = self.current_id()
        self.list.blockSignals(True)
        self.list.clear()
        vocab = self.session.project.vocabulary
        for a in self.session.project.annotations:
            if not self.matches(a):
                continue
            cond = vocab.conditions.get(a.condition, (a.condition or "",))[0]
            item = QtWidgets.QListWidgetItem(
                f"{a.title or '(untitled)'} — {vocab.category_label(a.category)}"
                + (f", {cond}" if cond else "") + (f", {a.observed}" if a.observed else ""))
            item.setData(QtCore.Qt.UserRole, a.id)
            pix = QtGui.QPixmap(12, 12)
            pix.fill(QtGui.QColor(*(a.color or vocab.category_color(a.category))))
            item.setIcon(QtGui.QIcon(pix))
            self.list.addItem(item)
            if a.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._load_form(self.current_id())

    def current_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(QtCore.Qt.UserRole) if item else None

    def select(self, ann_id: str | None) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(QtCore.Qt.UserRole) == ann_id:
                self.list.setCurrentRow(i)
                return

    def _current_changed(self, *_):
        ann_id = self.current_id()
        self.overlay.selected_id = ann_id
        self.overlay.refresh()
        self._load_form(ann_id)

    def _load_form(self, ann_id: str | None) -> None:
        enabled = ann_id is not None
        for w in (self.title, self.description, self.category, self.condition,
                  self.observed, self.author, self.tags, self.apply_button,
                  self.delete_button, self.fly_button):
            w.setEnabled(enabled)
        if not enabled:
            return
        a = self.session.project.annotation(ann_id)
        self.title.setText(a.title)
        self.description.setPlainText(a.description)
        self.category.setCurrentIndex(max(self.category.findData(a.category), 0))
        self.condition.setCurrentIndex(max(self.condition.findData(a.condition), 0))
        self.observed.setText(a.observed or "")
        self.author.setText(a.author)
        self.tags.setText("; ".join(a.tags))

    def apply_edits(self) -> None:
        ann_id = self.current_id()
        if ann_id is None:
            return
        try:
            self.session.update_annotation(
                ann_id, title=self.title.text(), description=self.description.toPlainText(),
                category=self.category.currentData(), condition=self.condition.currentData(),
                observed=self.observed.text().strip() or None, author=self.author.text(),
                tags=[t.strip() for t in self.tags.text().split(";") if t.strip()])
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, "Cannot apply", str(exc))

    def delete_current(self) -> None:
        ann_id = self.current_id()
        if ann_id is not None:
            self.session.delete_annotation(ann_id)
