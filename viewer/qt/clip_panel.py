"""The Clip dock (Tools > Clip…): a box, polygon or slab clip of every layer in the view,
inside or outside, off; "Export clipped points…" of the selected point layer's file.

The work is the core's: ``Scene.set_clip`` (drawn by viewer.render for every layer kind),
the regions of :mod:`heritage.monitoring.clip` and :mod:`viewer.clip_layer` (regions from
the view's or a layer's bounds, a vertical slab through two points, the region taken back
into a layer's file coordinates, :func:`~viewer.clip_layer.export_layer_clip` at full
resolution). This module only edits the region, takes clicks in the view while a polygon
or a slab is drawn (a temporary tool: the annotation tool is cancelled) and runs the
export in a thread with the window's progress bar and Cancel.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from heritage.monitoring.clip import Box, Polygon, Slab, region_from_annotation
from loaders import LoadCancelled, PointCloud

from .. import clip_layer
from .i18n import translate
from .jobs import WindowJob, start_in_window, tools_menu, warning_box

AXES = ("X", "Y", "Z")


class ClipPanel(QtWidgets.QWidget):
    """Region (box fields, polygon, slab), side (inside / outside), Apply / Off, export."""

    def __init__(self, window) -> None:
        super().__init__()
        self.setObjectName("clipPanel")
        self.window = window
        self.scene = window.scene
        #: "polygon" / "slab" while clicks in the view are taken as the region's points
        self.picking: str | None = None
        self.picked: list[list[float]] = []
        self.polygon: Polygon | None = None
        self.slab_points: list[list[float]] = []

        self.shape = QtWidgets.QComboBox(objectName="clipShape")
        self.shape.addItem(self.tr("Box"), "box")
        self.shape.addItem(self.tr("Polygon"), "polygon")
        self.shape.addItem(self.tr("Slab (section)"), "slab")
        self.shape.currentIndexChanged.connect(self._shape_changed)

        # box: numeric min / max, from the view or the selected layer
        self.box_page = QtWidgets.QWidget()
        grid = QtWidgets.QFormLayout(self.box_page)
        grid.setContentsMargins(0, 0, 0, 0)
        self.min_fields, self.max_fields = [], []
        # one field a row: a survey's coordinates need the dock's whole width
        for end, fields, label in (("min", self.min_fields, self.tr("{axis} min")),
                                   ("max", self.max_fields, self.tr("{axis} max"))):
            for axis in AXES:
                spin = QtWidgets.QDoubleSpinBox(objectName=f"clip{axis}{end}")
                spin.setRange(-1e10, 1e10)
                spin.setDecimals(3)
                spin.setMinimumWidth(40)
                spin.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                   QtWidgets.QSizePolicy.Fixed)
                grid.addRow(label.format(axis=axis), spin)
                fields.append(spin)
        self.from_view_button = QtWidgets.QPushButton(self.tr("From view"),
                                                      objectName="clipFromView")
        self.from_view_button.setToolTip(self.tr("The bounds of the visible layers"))
        self.from_view_button.clicked.connect(self.box_from_view)
        self.from_layer_button = QtWidgets.QPushButton(self.tr("From layer"),
                                                       objectName="clipFromLayer")
        self.from_layer_button.setToolTip(self.tr("The bounds of the selected layer"))
        self.from_layer_button.clicked.connect(self.box_from_layer)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.from_view_button)
        row.addWidget(self.from_layer_button)
        grid.addRow(row)

        # polygon: from the selected annotation or clicked in the view
        self.polygon_page = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self.polygon_page)
        box.setContentsMargins(0, 0, 0, 0)
        self.from_annotation_button = QtWidgets.QPushButton(
            self.tr("From selected annotation"), objectName="clipFromAnnotation")
        self.from_annotation_button.setToolTip(
            self.tr("A polygon or box annotation selected in the Annotations panel"))
        self.from_annotation_button.clicked.connect(lambda: self.polygon_from_annotation())
        self.draw_button = QtWidgets.QPushButton(self.tr("Draw in the view"),
                                                 objectName="clipDraw", checkable=True)
        self.draw_button.setToolTip(self.tr("Click the polygon's corners in the 3D view, "
                                            "then Apply"))
        self.draw_button.toggled.connect(
            lambda on: self.start_picking("polygon") if on else self.stop_picking())
        box.addWidget(self.from_annotation_button)
        box.addWidget(self.draw_button)

        # slab: a vertical plane through two clicked points and a thickness
        self.slab_page = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(self.slab_page)
        form.setContentsMargins(0, 0, 0, 0)
        self.slab_button = QtWidgets.QPushButton(self.tr("Pick two points"),
                                                 objectName="clipSlabPick", checkable=True)
        self.slab_button.setToolTip(self.tr("A vertical section through two points "
                                            "clicked in the 3D view"))
        self.slab_button.toggled.connect(
            lambda on: self.start_picking("slab") if on else self.stop_picking())
        self.thickness = QtWidgets.QDoubleSpinBox(objectName="clipThickness")
        self.thickness.setRange(0.001, 1e6)
        self.thickness.setDecimals(3)
        self.thickness.setValue(1.0)
        self.thickness.setSuffix(" m")
        form.addRow(self.slab_button)
        form.addRow(self.tr("Thickness"), self.thickness)

        self.pages = QtWidgets.QStackedWidget()
        for page in (self.box_page, self.polygon_page, self.slab_page):
            self.pages.addWidget(page)

        self.inside = QtWidgets.QRadioButton(self.tr("Inside"), objectName="clipInside",
                                             checked=True)
        self.outside = QtWidgets.QRadioButton(self.tr("Outside"), objectName="clipOutside")
        self.inside.toggled.connect(self._side_changed)
        sides = QtWidgets.QHBoxLayout()
        sides.addWidget(self.inside)
        sides.addWidget(self.outside)
        self.apply_button = QtWidgets.QPushButton(self.tr("Apply"), objectName="clipApply")
        self.apply_button.clicked.connect(lambda: self.apply())
        self.off_button = QtWidgets.QPushButton(self.tr("Off"), objectName="clipOff")
        self.off_button.setToolTip(self.tr("Draw every layer whole again"))
        self.off_button.clicked.connect(self.clear)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.off_button)
        self.export_button = QtWidgets.QPushButton(self.tr("Export clipped points…"),
                                                   objectName="clipExport")
        self.export_button.setToolTip(self.tr(
            "Write the selected point layer's LAS/LAZ/COPC file inside the clip, at full "
            "resolution"))
        self.export_button.clicked.connect(lambda: window.clip_tools.export_dialog())
        self.status = QtWidgets.QLabel("", objectName="clipStatus", wordWrap=True)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.shape)
        layout.addWidget(self.pages)
        layout.addLayout(sides)
        layout.addLayout(buttons)
        layout.addWidget(self.export_button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.scene.connect("picked", self._on_picked)
        self.scene.connect("clip_changed", self._on_clip_changed)

    # -- region ----------------------------------------------------------------------------
    def _shape_changed(self, *_args) -> None:
        self.stop_picking()
        self.pages.setCurrentIndex(self.shape.currentIndex())

    def set_shape(self, key: str) -> None:
        self.shape.setCurrentIndex(self.shape.findData(key))

    def set_box_fields(self, lo, hi) -> None:
        for spin, value in zip(self.min_fields + self.max_fields, list(lo) + list(hi),
                               strict=True):
            spin.setValue(float(value))

    def box_from_view(self) -> None:
        bounds = self.scene.bounds()
        if bounds is None:
            self.status.setText(self.tr("Nothing is visible to take bounds from."))
            return
        box = clip_layer.box_from_bounds(*bounds)
        self.set_shape("box")
        self.set_box_fields(box.min, box.max)

    def box_from_layer(self) -> None:
        from ..scene import layer_bounds

        layer = self.scene.selected
        if layer is None:
            self.status.setText(self.tr("Select a layer first."))
            return
        box = clip_layer.box_from_bounds(*layer_bounds(layer))
        self.set_shape("box")
        self.set_box_fields(box.min, box.max)

    def polygon_from_annotation(self, ann_id: str | None = None) -> bool:
        ann_id = ann_id or self.window.annotations_panel.current_id()
        if not ann_id:
            self.status.setText(self.tr("Select a polygon or box annotation first."))
            return False
        try:
            region = region_from_annotation(self.window.session.project.annotation(ann_id))
        except (KeyError, ValueError):
            self.status.setText(self.tr("Only a polygon or box annotation can clip."))
            return False
        if isinstance(region, Box):
            self.set_shape("box")
            self.set_box_fields(region.min, region.max)
        else:
            self.set_shape("polygon")
            self.polygon = region
        return self.apply()

    def region(self):
        """The region the panel describes (ValueError when incomplete)."""
        shape = self.shape.currentData()
        if shape == "box":
            return Box(tuple(s.value() for s in self.min_fields),
                       tuple(s.value() for s in self.max_fields))
        if shape == "polygon":
            if self.picking == "polygon" and len(self.picked) >= 3:
                self.polygon = Polygon(tuple((p[0], p[1]) for p in self.picked))
            if self.polygon is None:
                raise ValueError(self.tr("Take a polygon from an annotation or draw one "
                                         "(three corners at least)."))
            return self.polygon
        if len(self.slab_points) < 2:
            raise ValueError(self.tr("Pick two points for the section first."))
        return clip_layer.vertical_slab(self.slab_points[0], self.slab_points[1],
                                        self.thickness.value())

    def apply(self) -> bool:
        """Clip the view to the panel's region and side."""
        try:
            region = self.region()
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        if self.picking == "polygon":
            self.draw_button.setChecked(False)
        self.scene.set_clip(region, inside=self.inside.isChecked())
        return True

    def clear(self) -> None:
        self.stop_picking()
        self.scene.set_clip(None)

    def _side_changed(self, *_args) -> None:
        clip = self.scene.clip
        if clip is not None and clip.inside != self.inside.isChecked():
            self.scene.set_clip(clip.region, inside=self.inside.isChecked(),
                                enabled=clip.enabled)

    def _on_clip_changed(self, clip=None, **_kw) -> None:
        if clip is None:
            self.status.setText(self.tr("No clip: every layer is drawn whole."))
            return
        side = self.tr("inside") if clip.inside else self.tr("outside")
        kind = {Box: self.tr("box"), Polygon: self.tr("polygon"),
                Slab: self.tr("slab")}.get(type(clip.region), "")
        self.status.setText(self.tr("Clipped: {side} the {kind}.").format(side=side,
                                                                         kind=kind))
        with QtCore.QSignalBlocker(self.inside), QtCore.QSignalBlocker(self.outside):
            self.inside.setChecked(clip.inside)
            self.outside.setChecked(not clip.inside)

    # -- clicks in the view ------------------------------------------------------------------
    def start_picking(self, what: str) -> None:
        """Take the next clicks in the view as the polygon's corners / the slab's two
        points (the annotation tool stops meanwhile)."""
        self.window.tool.cancel()
        self.picking, self.picked = what, []
        other = self.slab_button if what == "polygon" else self.draw_button
        with QtCore.QSignalBlocker(other):
            other.setChecked(False)
        self.status.setText(self.tr("Click the corners in the view, then Apply.")
                            if what == "polygon" else
                            self.tr("Click two points in the view."))

    def stop_picking(self) -> None:
        self.picking = None
        for button in (self.draw_button, self.slab_button):
            with QtCore.QSignalBlocker(button):
                button.setChecked(False)

    def _on_picked(self, pick=None, **_kw) -> None:
        if self.picking is None or pick is None:
            return
        if self.window.tool.mode is not None:  # an annotation tool took over
            self.stop_picking()
            return
        self.picked.append([float(v) for v in pick.xyz])
        if self.picking == "polygon":
            self.status.setText(self.tr("{n} corner(s); Apply when done.").format(
                n=len(self.picked)))
        elif len(self.picked) == 2:
            self.slab_points = list(self.picked)
            self.stop_picking()
            self.apply()


class ClipExportJob(WindowJob):
    """One clip export in a worker thread (the window's progress bar and Cancel)."""

    def __init__(self, layer, region, out: str, inside: bool, scene_crs,
                 parent: QtCore.QObject | None = None) -> None:
        self.layer, self.region, self.out = layer, region, str(out)
        self.inside, self.scene_crs = inside, scene_crs
        super().__init__(self._work, self._label, (LoadCancelled,),
                         path=str(layer.path or layer.name), name="clip-export",
                         parent=parent)

    def _label(self) -> str:
        return translate("ClipExportJob", "Clipping {name}…").format(name=self.layer.name)

    def _work(self, progress, cancel):
        return clip_layer.export_layer_clip(
            self.layer, self.region, self.out, inside=self.inside,
            scene_crs=self.scene_crs, progress=progress, cancel=cancel)


class ClipTools(QtCore.QObject):
    """The window's clip: the Clip dock, Tools > Clip… and Export clipped points…, the
    View menu's dock entry."""

    exported = QtCore.Signal(object)  # ClipResult
    failed = QtCore.Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        window.clip_tools = self
        self.job: ClipExportJob | None = None
        self.error_box: QtWidgets.QMessageBox | None = None
        self.panel = ClipPanel(window)
        scroll = QtWidgets.QScrollArea(widgetResizable=True,
                                       frameShape=QtWidgets.QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        scroll.setWidget(self.panel)
        self.dock = window._dock(QT_TR_NOOP("Clip"), "clipDock", scroll,
                                 QtCore.Qt.LeftDockWidgetArea)
        window.clip_dock = self.dock
        window.tabifyDockWidget(window.properties_dock, self.dock)
        window.properties_dock.raise_()
        bar = window.menuBar()
        menu = tools_menu(window)
        self.clip_action = window._action(
            QT_TR_NOOP("C&lip…"), self.show_panel,
            tip=QT_TR_NOOP("Clip every layer by a box, a polygon or a slab"))
        self.clip_action.setObjectName("clipTool")
        self.export_action = window._action(
            QT_TR_NOOP("Export clipped &points…"), lambda: self.export_dialog(),
            tip=QT_TR_NOOP("Write the selected point layer's file inside the clip"))
        self.export_action.setObjectName("exportClip")
        menu.addAction(self.clip_action)
        menu.addAction(self.export_action)
        for action in bar.actions():  # the View menu: beside the Layers dock's entry
            sub = action.menu()
            if sub is not None and window.layer_dock.toggleViewAction() in sub.actions():
                sub.insertAction(window.properties_dock.toggleViewAction(),
                                 self.dock.toggleViewAction())
                break

    def show_panel(self) -> None:
        self.dock.show()
        self.dock.raise_()

    def export_dialog(self, out: str | None = None) -> ClipExportJob | None:
        """Export the selected point layer's file clipped by the scene's clip (a file
        dialog unless ``out``), in the background; returns the job or None."""
        scene = self.window.scene
        layer = scene.selected
        if scene.clip is None:
            self._error(translate("ClipTools", "Clip the view first (a box, a polygon or "
                                  "a slab), then export."))
            return None
        if layer is None or not isinstance(layer.data, PointCloud):
            self._error(translate("ClipTools", "Select a point layer to export."))
            return None
        try:
            src = clip_layer.clip_source(layer)
            clip_layer.region_in_file(layer, scene.clip.region, scene.crs)
        except ValueError as exc:
            self._error(str(exc))
            return None
        if out is None:
            out, _ = QtWidgets.QFileDialog.getSaveFileName(
                self.window, translate("ClipTools", "Export clipped points"),
                str(src.with_name(src.name.split(".")[0] + "_clip.laz")),
                translate("ClipTools", "Point clouds (*.laz *.las *.copc.laz)"))
            if not out:
                return None
        job = ClipExportJob(layer, scene.clip.region, out, scene.clip.inside, scene.crs, self)
        self.job = job
        return start_in_window(self.window, job, progress_text=self._progress_text,
                               finished=self._on_finished, failed=self._on_failed,
                               cancelled=self._on_cancelled, cancelled_ms=8000)

    @staticmethod
    def _progress_text(job: ClipExportJob, fraction: float, message: str) -> str | None:
        if job.done:
            return None
        return translate("ClipTools", "Clipping {name}: {percent}").format(
            name=job.layer.name, percent=f"{fraction:.0%}")

    def _on_finished(self, job: ClipExportJob, result) -> None:
        self.window.statusBar().showMessage(translate(
            "ClipTools", "Wrote {count} of {total} points to {path}").format(
            count=f"{result.points_written:,}", total=f"{result.source_points:,}",
            path=Path(result.output).name), 15000)
        self.exported.emit(result)

    def _on_failed(self, job: ClipExportJob, message: str) -> None:
        self._error(message)

    def _on_cancelled(self, job: ClipExportJob) -> str:
        return translate("ClipTools", "Clip export cancelled; nothing written")

    def _error(self, message: str) -> None:
        self.error_box = warning_box(self.window,
                                     translate("ClipTools", "Cannot export the clip"),
                                     message, "clipErrorDialog")
        self.failed.emit(message)


__all__ = ["ClipExportJob", "ClipPanel", "ClipTools"]
