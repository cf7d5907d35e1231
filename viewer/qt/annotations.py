"""Annotating and measuring by clicking in the 3D view, and the annotations panel.

The tool listens to the scene's ``picked`` events (a click on a point or surface in
the view snaps to the picked point) and builds pins, polylines, polygons, boxes or
measurements; Enter (or "Finish") completes a multi-point shape, Esc cancels. All edits
go through the :class:`~viewer.session.ProjectSession` so they can be undone.
"""

from __future__ import annotations

from datetime import date

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from heritage.measure import format_value, measure, minimum_points
from heritage.model import Annotation, Measurement
from heritage.vocabulary import CATEGORY_COLORS

from ..session import ProjectSession
from . import i18n
from .i18n import translate

ANNOTATION_TOOLS = {"pin": "point", "polyline": "polyline", "polygon": "polygon",
                    "box": "box"}
MEASURE_TOOLS = ("distance", "horizontal_distance", "vertical_distance",
                 "height_difference", "polyline_length", "area", "projected_area", "angle")
#: points after which a tool finishes by itself
#: the tools' names in status messages (QT_TR_NOOP sources)
TOOL_NAMES = {"pin": QT_TR_NOOP("Pin"), "polyline": QT_TR_NOOP("Polyline"),
              "polygon": QT_TR_NOOP("Polygon (area)"), "box": QT_TR_NOOP("Box region"),
              "distance": QT_TR_NOOP("Distance"),
              "horizontal_distance": QT_TR_NOOP("Horizontal distance"),
              "vertical_distance": QT_TR_NOOP("Vertical distance"),
              "height_difference": QT_TR_NOOP("Height difference"),
              "polyline_length": QT_TR_NOOP("Polyline length"),
              "area": QT_TR_NOOP("Area (in plane)"),
              "projected_area": QT_TR_NOOP("Projected area"), "angle": QT_TR_NOOP("Angle")}


def tool_name(mode: str) -> str:
    """A tool's name in the interface language."""
    return translate("", TOOL_NAMES.get(mode, mode.replace("_", " ").capitalize()))


AUTO_FINISH = {"pin": 1, "box": 2, "distance": 2, "horizontal_distance": 2,
               "vertical_distance": 2, "height_difference": 2, "angle": 3}


def open_with_system(path) -> bool:
    """Hand a vetted local file to the desktop's opener (the GUI's only call of it)."""
    return QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(path)))


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
        self.editing_id: str | None = None
        self.vertex_index: int | None = None
        self._last_pick = None  # a pin placed on an object of a city/BIM model links to it
        session.scene.connect("picked", self._on_picked)

    def start(self, mode: str | None) -> None:
        self.mode = mode
        self.points = []
        self.editing_id = self.vertex_index = self._last_pick = None
        self._sync()
        if mode:
            n = AUTO_FINISH.get(mode)
            how = (self.tr("click {n} points").format(n=n) if n > 1 else
                   self.tr("click 1 point")) if n else self.tr("click points, Enter to finish")
            self.window.statusBar().showMessage(self.tr("{tool}: {how}; Esc cancels").format(
                tool=tool_name(mode), how=how), 8000)

    def cancel(self) -> None:
        self.start(None)

    def _sync(self) -> None:
        self.overlay.draft = list(self.points)
        self.overlay.refresh()
        self.changed.emit()

    def _on_picked(self, pick=None, **_) -> None:
        if self.mode is None or pick is None:
            return
        if self.mode == "move_vertex":
            self.move_vertex_click([float(c) for c in pick.xyz])
            return
        self._last_pick = pick
        self.add_point([float(c) for c in pick.xyz])

    # -- editing vertices ------------------------------------------------------------------
    def start_move_vertex(self, ann_id: str | None = None) -> bool:
        """Move vertices of an annotation: click a vertex, then click where it goes
        (snapping to the picked point). Each move is one undoable step."""
        ann_id = ann_id or self.window.annotations_panel.current_id()
        if ann_id is None:
            self.window.statusBar().showMessage(
                self.tr("Select an annotation to edit first"), 5000)
            return False
        self.start(None)
        self.mode = "move_vertex"
        self.editing_id = ann_id
        self.vertex_index: int | None = None
        self.window.statusBar().showMessage(
            self.tr("Move vertex: click the vertex to move, then click where it goes; "
                    "Esc ends"),
            10000)
        self.changed.emit()
        return True

    def move_vertex_click(self, xyz) -> None:
        import numpy as np

        try:
            a = self.session.project.annotation(self.editing_id)
        except KeyError:
            self.cancel()
            return
        if self.vertex_index is None:
            pts = np.asarray(a.points if a.kind != "box" else _box_corners(a.points), float)
            self.vertex_index = int(np.argmin(np.linalg.norm(pts - np.asarray(xyz), axis=1)))
            self.overlay.draft = [list(pts[self.vertex_index])]
            self.overlay.refresh()
            self.window.statusBar().showMessage(
                self.tr("Vertex {n} of “{title}”: now click its new place").format(
                    n=self.vertex_index + 1, title=a.title), 10000)
        else:
            if a.kind == "box":  # a corner moves: the box is re-formed from the corners
                corners = _box_corners(a.points)
                corners[self.vertex_index] = list(xyz)
                i = self.vertex_index
                opposite = corners[(i + 2) % 4 + 4 if i < 4 else (i - 2) % 4]
                self.session.update_annotation(a.id, points=[list(xyz), opposite])
            else:
                self.session.move_vertex(a.id, self.vertex_index, xyz)
            self.vertex_index = None
            self.overlay.draft = []
            self.overlay.refresh()
            self.window.statusBar().showMessage(
                self.tr("Vertex moved (Ctrl+Z undoes); click another vertex, or Esc"), 8000)
        self.changed.emit()

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
                self.tr("{tool} needs at least {n} points").format(tool=tool_name(mode),
                                                                   n=need), 5000)
            return None
        self.points = []
        self.overlay.draft = []
        self.window.renderer.camera_to_scene(emit=False)
        camera = self.session.scene.camera
        if mode in MEASURE_TOOLS:
            record = self.session.add_measurement(Measurement(mode, points))
            self.window.statusBar().showMessage(
                f"{tool_name(mode)}: {format_value(mode, measure(mode, points))}", 10000)
        else:
            n = sum(1 for a in self.session.project.annotations) + 1
            annotation = Annotation(ANNOTATION_TOOLS[mode], points,
                                    title=self.tr("Annotation {n}").format(n=n),
                                    observed=date.today().isoformat())
            # (the author: the session's default_author, Edit > Preferences…)
            feature = getattr(self._last_pick, "feature_id", None)
            if mode == "pin" and feature:
                annotation.link = {"layer": self._last_pick.layer.name,
                                   "feature_id": str(feature)}
            record = self.session.add_annotation(annotation, camera=camera)
            self.window.annotations_panel.select(record.id)
        self.changed.emit()
        return record


def _box_corners(points) -> list[list[float]]:
    """The 8 corners of a box annotation, bottom ring then top ring (as drawn)."""
    lo, hi = points[0], points[1]
    return [[x, y, z] for z in (lo[2], hi[2]) for x, y in
            ((lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1]))]


class AnnotationsPanel(QtWidgets.QWidget):
    """List with search and filters, selection synced with the view, fly-to, edit form."""

    fly_to_requested = QtCore.Signal(str)

    def __init__(self, session: ProjectSession, overlay, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.overlay = overlay
        self.search = QtWidgets.QLineEdit(placeholderText=self.tr("Search annotations…"),
                                          objectName="annotationSearch")
        self.category_filter = QtWidgets.QComboBox(objectName="categoryFilter")
        self.condition_filter = QtWidgets.QComboBox(objectName="conditionFilter")
        self.author_filter = QtWidgets.QLineEdit(placeholderText=self.tr("author"),
                                                 objectName="authorFilter")
        self.since_filter = QtWidgets.QLineEdit(placeholderText=self.tr("since YYYY-MM-DD"),
                                                objectName="sinceFilter")
        self.list = QtWidgets.QListWidget(objectName="annotationList")
        self.title = QtWidgets.QLineEdit(objectName="annTitle")
        self.description = QtWidgets.QPlainTextEdit(objectName="annDescription")
        self.description.setMaximumHeight(54)
        self.category = QtWidgets.QComboBox(objectName="annCategory")
        self.condition = QtWidgets.QComboBox(objectName="annCondition")
        self.observed = QtWidgets.QLineEdit(objectName="annObserved",
                                            placeholderText="YYYY-MM-DD")
        self.author = QtWidgets.QLineEdit(objectName="annAuthor")
        self.tags = QtWidgets.QLineEdit(objectName="annTags", placeholderText=self.tr("tag; tag"))
        self.add_category_button = QtWidgets.QToolButton(objectName="annAddCategory",
                                                         text="+")
        self.add_category_button.setToolTip(
            self.tr("Add a category to this project's vocabulary"))
        # style: colour override (None = the category's colour) and visibility
        self.color_button = QtWidgets.QPushButton(self.tr("Category colour"),
                                                  objectName="annColor")
        self.color_button.setToolTip(self.tr("Colour of this annotation in the view (click to "
                                             "change)"))
        self.color_reset = QtWidgets.QToolButton(objectName="annColorReset", text="↺")
        self.color_reset.setToolTip(self.tr("Back to the category's colour"))
        self.visible_check = QtWidgets.QCheckBox(self.tr("shown"), objectName="annVisible")
        self._color: tuple[int, int, int] | None = None
        # linked media (paths relative to the project) and a linked object
        self.media = QtWidgets.QListWidget(objectName="annMedia")
        self.media.setMaximumHeight(60)
        self.media_add = QtWidgets.QToolButton(objectName="annMediaAdd", text=self.tr("Add…"))
        self.media_remove = QtWidgets.QToolButton(objectName="annMediaRemove",
                                                 text=self.tr("Remove"))
        self.media_open = QtWidgets.QToolButton(objectName="annMediaOpen", text=self.tr("Open"))
        self.link_layer = QtWidgets.QComboBox(objectName="annLinkLayer", editable=True)
        self.link_layer.setToolTip(self.tr("Layer of the linked object"))
        self.link_feature = QtWidgets.QLineEdit(objectName="annLinkFeature",
                                                placeholderText=self.tr(
                                                    "object id (IFC GlobalId, CityJSON id)"))
        self.apply_button = QtWidgets.QPushButton(self.tr("Apply"), objectName="annApply")
        self.delete_button = QtWidgets.QPushButton(self.tr("Delete"), objectName="annDelete")
        self.fly_button = QtWidgets.QPushButton(self.tr("Fly to"), objectName="annFlyTo")
        self._fill_vocabulary()

        filters = QtWidgets.QGridLayout()
        filters.addWidget(self.search, 0, 0, 1, 2)
        filters.addWidget(self.category_filter, 1, 0)
        filters.addWidget(self.condition_filter, 1, 1)
        filters.addWidget(self.author_filter, 2, 0)
        filters.addWidget(self.since_filter, 2, 1)
        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Title"), self.title)
        form.addRow(self.tr("Description"), self.description)
        category_row = QtWidgets.QHBoxLayout()
        category_row.addWidget(self.category, 1)
        category_row.addWidget(self.add_category_button)
        form.addRow(self.tr("Category"), category_row)
        form.addRow(self.tr("Condition"), self.condition)
        form.addRow(self.tr("Observed"), self.observed)
        form.addRow(self.tr("Author"), self.author)
        form.addRow(self.tr("Tags"), self.tags)
        style_row = QtWidgets.QHBoxLayout()
        style_row.addWidget(self.color_button, 1)
        style_row.addWidget(self.color_reset)
        extra = QtWidgets.QFormLayout()
        extra.addRow(self.tr("Style"), style_row)
        extra.addRow("", self.visible_check)
        media_box = QtWidgets.QVBoxLayout()
        media_box.addWidget(self.media)
        media_buttons = QtWidgets.QHBoxLayout()
        for b in (self.media_add, self.media_remove, self.media_open):
            media_buttons.addWidget(b)
        media_buttons.addStretch(1)
        media_box.addLayout(media_buttons)
        extra.addRow(self.tr("Media"), media_box)
        extra.addRow(self.tr("Object layer"), self.link_layer)
        extra.addRow(self.tr("Object id"), self.link_feature)
        # the record on one tab, style / media / object link on another: the list keeps
        # its room in a small dock
        self.form_tabs = QtWidgets.QTabWidget(objectName="annFormTabs")
        record_page, extra_page = QtWidgets.QWidget(), QtWidgets.QWidget()
        record_page.setLayout(form)
        extra_page.setLayout(extra)
        self.form_tabs.addTab(record_page, self.tr("Record"))
        self.form_tabs.addTab(extra_page, self.tr("Style, media, object"))
        form.setContentsMargins(2, 2, 2, 2)
        extra.setContentsMargins(2, 2, 2, 2)
        for f in (form, extra):  # a narrow dock puts a field under its label
            f.setRowWrapPolicy(QtWidgets.QFormLayout.WrapLongRows)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.apply_button, self.fly_button, self.delete_button):
            # as narrow as their text (the style's 80 px minimum would widen the dock)
            b.setMinimumWidth(b.fontMetrics().horizontalAdvance(b.text()) + 16)
            buttons.addWidget(b)
        buttons.setContentsMargins(0, 0, 0, 0)
        # the form and its buttons: shown only for a selected (or new) annotation, so
        # that with none selected the list gets the room
        self.editor = QtWidgets.QWidget(objectName="annEditor")
        editor_layout = QtWidgets.QVBoxLayout(self.editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addWidget(self.form_tabs)
        editor_layout.addLayout(buttons)
        self.hint = QtWidgets.QLabel(self.tr("Select an annotation to edit it, or add one "
                                             "with a tool of the Annotate toolbar."),
                                     objectName="annHint", wordWrap=True)
        self.hint.setEnabled(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self.list, 1)
        layout.addWidget(self._build_proposals())
        layout.addWidget(self.hint)
        layout.addWidget(self.editor)

        for w in (self.search, self.author_filter, self.since_filter):
            w.textChanged.connect(self.refresh)
        for w in (self.category_filter, self.condition_filter):
            w.currentIndexChanged.connect(self._filters_changed)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemDoubleClicked.connect(lambda item: self.fly_to_requested.emit(
            item.data(QtCore.Qt.UserRole)))
        self.apply_button.clicked.connect(self.apply_edits)
        self.add_category_button.clicked.connect(self.add_category_dialog)
        self.color_button.clicked.connect(self.choose_color)
        self.color_reset.clicked.connect(lambda: self._set_color(None))
        self.media_add.clicked.connect(self.add_media_dialog)
        self.media_remove.clicked.connect(
            lambda: self.media.currentRow() >= 0 and self.media.takeItem(self.media.currentRow()))
        self.media_open.clicked.connect(self.open_media)
        self.media.itemDoubleClicked.connect(lambda _item: self.open_media())
        self.delete_button.clicked.connect(self.delete_current)
        self.fly_button.clicked.connect(lambda: self.current_id() and
                                        self.fly_to_requested.emit(self.current_id()))
        session.scene.connect("annotations_changed", lambda **kw: self.refresh())
        session.scene.connect("annotations_changed", lambda **kw: self.refresh_proposals())
        session.scene.connect("vocabulary_changed", lambda **kw: self._vocabulary_changed())
        self.refresh()

    # -- proposals (significant change → condition) ---------------------------------------
    def _build_proposals(self) -> QtWidgets.QWidget:
        """The "Proposed" section: annotations proposed from detected change (not
        annotations yet), each accepted (an ordinary, undoable annotation) or rejected."""
        box = QtWidgets.QWidget(objectName="proposalsBox")
        self.proposals_label = QtWidgets.QLabel(objectName="proposalsLabel")
        self.propose_button = QtWidgets.QToolButton(objectName="proposeFromChange",
                                                    text=self.tr("From change…"))
        self.propose_button.setToolTip(self.tr(
            "Propose one annotation per cluster of significant change, from a point cloud "
            "written by Compare (M3C2, or C2C with a threshold)"))
        self.proposal_list = QtWidgets.QListWidget(objectName="proposalList")
        self.proposal_list.setMaximumHeight(90)
        self.proposal_list.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.accept_button = QtWidgets.QToolButton(objectName="proposalAccept",
                                                   text=self.tr("Accept"))
        self.reject_button = QtWidgets.QToolButton(objectName="proposalReject",
                                                   text=self.tr("Reject"))
        self.accept_all_button = QtWidgets.QToolButton(objectName="proposalAcceptAll",
                                                       text=self.tr("Accept all"))
        head = QtWidgets.QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.proposals_label, 1)
        head.addWidget(self.propose_button)
        actions = QtWidgets.QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        for b in (self.accept_button, self.reject_button, self.accept_all_button):
            actions.addWidget(b)
        actions.addStretch(1)
        layout = QtWidgets.QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.proposal_list)
        layout.addLayout(actions)
        self._proposal_widgets = (self.proposal_list, self.accept_button, self.reject_button,
                                  self.accept_all_button)
        self.accept_button.clicked.connect(self.accept_selected_proposals)
        self.reject_button.clicked.connect(self.reject_selected_proposals)
        self.accept_all_button.clicked.connect(lambda: self.session.accept_proposals())
        self.propose_button.clicked.connect(self.propose_from_change_dialog)
        self.proposal_list.itemSelectionChanged.connect(self._proposal_selection_changed)
        self.refresh_proposals()
        return box

    def refresh_proposals(self) -> None:
        proposals = self.session.project.proposals
        selected = set(self.selected_proposals())
        self.proposal_list.blockSignals(True)
        self.proposal_list.clear()
        vocab = self.session.project.vocabulary
        lang = i18n.current_language()
        for a in proposals:
            item = QtWidgets.QListWidgetItem(
                f"{a.title} — {vocab.category_label(a.category, lang)}")
            item.setData(QtCore.Qt.UserRole, a.id)
            item.setToolTip(a.description)
            pix = QtGui.QPixmap(12, 12)
            pix.fill(QtCore.Qt.transparent)
            painter = QtGui.QPainter(pix)  # an outline: a proposal, not an annotation yet
            pen = QtGui.QPen(QtGui.QColor(*vocab.category_color(a.category)), 2,
                             QtCore.Qt.DashLine)
            painter.setPen(pen)
            painter.drawRect(1, 1, 10, 10)
            painter.end()
            item.setIcon(QtGui.QIcon(pix))
            item.setForeground(QtGui.QBrush(QtGui.QColor(128, 128, 128)))
            font = item.font()
            font.setItalic(True)
            item.setFont(font)
            self.proposal_list.addItem(item)
            item.setSelected(a.id in selected)
        self.proposal_list.blockSignals(False)
        self.proposals_label.setText(self.tr("Proposed from change: {n}").format(
            n=len(proposals)))
        for w in self._proposal_widgets:
            w.setVisible(bool(proposals))
        self._proposal_selection_changed()

    def selected_proposals(self) -> list[str]:
        return [item.data(QtCore.Qt.UserRole) for item in self.proposal_list.selectedItems()]

    def _proposal_selection_changed(self) -> None:
        chosen = bool(self.proposal_list.selectedItems())
        self.accept_button.setEnabled(chosen)
        self.reject_button.setEnabled(chosen)

    def accept_selected_proposals(self) -> None:
        ids = self.selected_proposals()
        if ids:
            accepted = self.session.accept_proposals(ids)
            self.select(accepted[-1].id)

    def reject_selected_proposals(self) -> None:
        for pid in self.selected_proposals():
            self.session.reject_proposal(pid)

    def propose_from_change_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, self.tr("Propose annotations from change"),
            str(self.session.project.folder),
            self.tr("Compared point clouds (*.laz *.las);;All files (*)"))
        if path:
            self.propose_from_change(path)

    def propose_from_change(self, path, threshold: float | None = None) -> int:
        """Propose annotations from a compared point cloud; a C2C one asks for the
        threshold. Returns how many were proposed; errors go to a message box."""
        from loaders.types import LoadError

        try:
            made = self.session.propose_annotations(path, threshold=threshold,
                                                    lang=i18n.current_language())
        except LoadError as exc:
            if threshold is None and "threshold" in str(exc):
                value, ok = QtWidgets.QInputDialog.getDouble(
                    self, self.tr("Change threshold"),
                    self.tr("C2C distances carry no significance: count a change as "
                            "significant beyond (m):"), 0.05, 0.001, 100.0, 3)
                return self.propose_from_change(path, value) if ok else 0
            QtWidgets.QMessageBox.warning(self, self.tr("Cannot propose"), str(exc))
            return 0
        self._status(self.tr("{n} annotations proposed from change: accept or reject them "
                             "under the list").format(n=len(made)))
        return len(made)

    def _vocabulary_changed(self) -> None:
        cat, cond = self.category_filter.currentData(), self.condition_filter.currentData()
        for w in (self.category_filter, self.condition_filter, self.category, self.condition):
            w.blockSignals(True)
        self._fill_vocabulary()
        self.category_filter.setCurrentIndex(max(self.category_filter.findData(cat), 0))
        self.condition_filter.setCurrentIndex(max(self.condition_filter.findData(cond), 0))
        for w in (self.category_filter, self.condition_filter, self.category, self.condition):
            w.blockSignals(False)
        self.refresh()

    def _fill_vocabulary(self) -> None:
        vocab = self.session.project.vocabulary
        self.category_filter.clear()
        self.category_filter.addItem(self.tr("All categories"), None)
        self.category.clear()
        lang = i18n.current_language()
        for key, (_label, rgb) in vocab.categories.items():
            label = vocab.category_label(key, lang)
            pix = QtGui.QPixmap(12, 12)
            pix.fill(QtGui.QColor(*rgb))
            self.category_filter.addItem(QtGui.QIcon(pix), label, key)
            self.category.addItem(QtGui.QIcon(pix), label, key)
        self.condition_filter.clear()
        self.condition_filter.addItem(self.tr("All conditions"), None)
        self.condition.clear()
        self.condition.addItem("—", None)
        for key in vocab.conditions:
            label = vocab.condition_label(key, lang)
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
            lang = i18n.current_language()
            cond = vocab.condition_label(a.condition, lang) if a.condition else ""
            item = QtWidgets.QListWidgetItem(
                f"{a.title or self.tr('(untitled)')} — {vocab.category_label(a.category, lang)}"
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
                  self.delete_button, self.fly_button, self.color_button, self.color_reset,
                  self.visible_check, self.media, self.media_add, self.media_remove,
                  self.media_open, self.link_layer, self.link_feature):
            w.setEnabled(enabled)
        self.editor.setVisible(enabled)
        self.hint.setVisible(not enabled)
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
        self._set_color(tuple(a.color) if a.color else None)
        self.visible_check.setChecked(a.visible)
        self.media.clear()
        for rel in a.media:
            item = QtWidgets.QListWidgetItem(rel)
            item.setData(QtCore.Qt.UserRole, rel)
            if not self._media_path(rel).is_file():
                item.setForeground(QtGui.QColor(200, 60, 60))
                item.setToolTip(self.tr("file not found"))
            self.media.addItem(item)
        self.link_layer.clear()
        self.link_layer.addItem("")
        for layer in self.session.scene.layers:
            self.link_layer.addItem(layer.name)
        link = a.link or {}
        self.link_layer.setCurrentText(link.get("layer", ""))
        self.link_feature.setText(link.get("feature_id", ""))

    def apply_edits(self) -> None:
        ann_id = self.current_id()
        if ann_id is None:
            return
        try:
            self.session.update_annotation(
                ann_id, title=self.title.text(), description=self.description.toPlainText(),
                category=self.category.currentData(), condition=self.condition.currentData(),
                observed=self.observed.text().strip() or None, author=self.author.text(),
                tags=[t.strip() for t in self.tags.text().split(";") if t.strip()],
                color=list(self._color) if self._color else None,
                visible=self.visible_check.isChecked(),
                media=[self.media.item(i).data(QtCore.Qt.UserRole)
                       for i in range(self.media.count())],
                link=self._form_link())
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, self.tr("Cannot apply"), str(exc))

    def _form_link(self) -> dict[str, str] | None:
        feature = self.link_feature.text().strip()
        layer = self.link_layer.currentText().strip()
        if not feature:
            return None
        return {"layer": layer, "feature_id": feature}

    # -- style ----------------------------------------------------------------------------
    def _set_color(self, rgb) -> None:
        self._color = tuple(int(c) for c in rgb) if rgb else None
        if self._color:
            r, g, b = self._color
            self.color_button.setText(f"#{r:02x}{g:02x}{b:02x}")
            self.color_button.setStyleSheet(
                f"background-color: rgb({r},{g},{b}); color: "
                f"{'black' if r * 0.3 + g * 0.59 + b * 0.11 > 128 else 'white'}")
        else:
            self.color_button.setText(self.tr("Category colour"))
            self.color_button.setStyleSheet("")

    def choose_color(self) -> None:
        ann_id = self.current_id()
        if ann_id is None:
            return
        a = self.session.project.annotation(ann_id)
        start = self._color or a.color or self.session.project.vocabulary.category_color(
            a.category)
        color = QtWidgets.QColorDialog.getColor(QtGui.QColor(*start), self,
                                                self.tr("Annotation colour"))
        if color.isValid():
            self._set_color((color.red(), color.green(), color.blue()))

    # -- vocabulary -------------------------------------------------------------------------
    def add_category_dialog(self) -> None:
        label, ok = QtWidgets.QInputDialog.getText(
            self, self.tr("Add category"),
            self.tr("Name of the new category (e.g. Salt efflorescence):"))
        if not ok or not label.strip():
            return
        color = QtWidgets.QColorDialog.getColor(QtGui.QColor(*CATEGORY_COLORS["other"]), self,
                                                self.tr("Colour for {name}").format(
                                                    name=label.strip()))
        rgb = (color.red(), color.green(), color.blue()) if color.isValid() else \
            CATEGORY_COLORS["other"]
        try:
            key = self.session.add_category(label.strip(), rgb)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self, self.tr("Cannot add category"), str(exc))
            return
        self.category.setCurrentIndex(max(self.category.findData(key), 0))

    # -- media ---------------------------------------------------------------------------------
    def _media_path(self, rel: str):
        from pathlib import Path

        project = self.session.project
        return project.absolute(rel) if project.path else Path(rel)

    def add_media_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, self.tr("Link photos or documents"), str(self.session.project.path.parent)
            if self.session.project.path else "",
            self.tr("Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp);;All files (*)"))
        self.add_media(paths)

    def add_media(self, paths) -> None:
        """Add files to the form's media list (applied with Apply), relative to the
        project where possible."""
        from pathlib import Path

        project = self.session.project
        for p in paths:
            rel = project.relative(p) if project.path else str(Path(p).resolve())
            item = QtWidgets.QListWidgetItem(rel)
            item.setData(QtCore.Qt.UserRole, rel)
            self.media.addItem(item)

    def open_media(self) -> bool:
        """Open the selected media file with the desktop's application, only if it is
        an image or document inside the project folder (media references come from
        projects and imports, i.e. from others); otherwise the status bar says why."""
        from heritage.media import openable, refusal_reason

        item = self.media.currentItem()
        if item is None:
            return False
        reference = item.data(QtCore.Qt.UserRole)
        folder = self.session.project.folder
        path = openable(folder, reference)
        if path is None:
            reason = refusal_reason(folder, reference) or "is not allowed"
            hint = self.tr(" Relink it with Add….") if reason == "does not exist" else ""
            self._status(self.tr("Not opened: {path} {reason}.").format(
                path=reference, reason=translate("", reason)) + hint)
            return False
        open_with_system(path)
        return True

    def _status(self, text: str) -> None:
        window = self.parentWidget()  # (a floating dock is still the window's child)
        while window is not None and not isinstance(window, QtWidgets.QMainWindow):
            window = window.parentWidget()
        if window is not None:
            window.statusBar().showMessage(text, 10000)

    def delete_current(self) -> None:
        ann_id = self.current_id()
        if ann_id is not None:
            self.session.delete_annotation(ann_id)
