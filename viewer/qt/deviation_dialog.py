"""Tools > Scan vs model…: the dialog, its background job and the window's hook.

The work is the Qt-free core (:mod:`heritage.monitoring.deviation`: distance of every
scan point to the model's triangles in scene coordinates, summarised per object; the
distances kept on the scan, the summary on the model's objects, both coloured by
:func:`~heritage.monitoring.deviation.show_result`). This module only asks for the two
layers, the tolerance and the maximum distance, runs the measurement in a thread with the
window's progress bar and Cancel, and shows the Objects panel's Deviation list.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from heritage.monitoring import deviation as core
from loaders import FeatureMesh, Mesh

from .. import change_layer
from .compare_dialog import point_layers
from .i18n import translate
from .jobs import WindowJob, start_in_window, tools_menu, warning_box


def model_layers(scene) -> list:
    return [layer for layer in scene.layers if isinstance(layer.data, Mesh)]


class DeviationDialog(QtWidgets.QDialog):
    """The scan layer, the model layer, the tolerance and the maximum distance."""

    def __init__(self, scene, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deviationDialog")
        self.setWindowTitle(self.tr("Scan vs model"))
        self.scans = point_layers(scene)
        self.models = model_layers(scene)
        self.scan = QtWidgets.QComboBox(objectName="deviationScan")
        for layer in self.scans:
            self.scan.addItem(layer.name)
        self.model = QtWidgets.QComboBox(objectName="deviationModel")
        for layer in self.models:
            self.model.addItem(layer.name)
        # a city / building model first: it has objects
        for i, layer in enumerate(self.models):
            if isinstance(layer.data, FeatureMesh):
                self.model.setCurrentIndex(i)
                break
        self.tolerance = QtWidgets.QDoubleSpinBox(
            objectName="deviationTolerance", decimals=3, minimum=0.0, maximum=100.0,
            singleStep=0.05, suffix=" m")
        self.tolerance.setValue(core.DEFAULT_TOLERANCE)
        self.max_distance = QtWidgets.QDoubleSpinBox(
            objectName="deviationMaxDistance", decimals=2, minimum=0.01, maximum=1000.0,
            singleStep=0.5, suffix=" m")
        self.max_distance.setValue(core.DEFAULT_MAX_DISTANCE)
        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Scan (points)"), self.scan)
        form.addRow(self.tr("Model (mesh, city or IFC)"), self.model)
        form.addRow(self.tr("Tolerance"), self.tolerance)
        form.addRow(self.tr("Farthest point counted for an object"), self.max_distance)
        note = QtWidgets.QLabel(self.tr(
            "Every point is measured to the nearest triangle in the scene's coordinates "
            "(both layers' alignment applied); + in front of the face, − behind it."),
            wordWrap=True)
        self.error = QtWidgets.QLabel(objectName="deviationError", wordWrap=True)
        self.error.setStyleSheet("color: #c0392b")
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.Ok).setText(self.tr("Measure"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def request(self) -> tuple:
        """(scan layer, model layer, tolerance, max distance); ValueError when refused."""
        if not self.scans or not self.models:
            raise ValueError(self.tr("Open a point cloud and a mesh, city model or IFC "
                                     "model to compare."))
        scan = self.scans[self.scan.currentIndex()]
        model = self.models[self.model.currentIndex()]
        if model.data.triangle_count == 0:
            raise ValueError(self.tr("{name} has no triangles to measure against.").format(
                name=model.name))
        return scan, model, self.tolerance.value(), self.max_distance.value()

    def _accept(self) -> None:
        try:
            self.request()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class DeviationJob(WindowJob):
    """One scan-vs-model measurement in a worker thread."""

    def __init__(self, scan_layer, model_layer, tolerance: float, max_distance: float,
                 parent: QtCore.QObject | None = None) -> None:
        self.scan_layer, self.model_layer = scan_layer, model_layer
        self.tolerance, self.max_distance = tolerance, max_distance
        super().__init__(self._work, self._label, (core.DeviationCancelled,),
                         path=str(scan_layer.path or scan_layer.name), name="deviation",
                         parent=parent)

    def _label(self) -> str:
        return translate("DeviationJob", "Measuring {scan} against {model}…").format(
            scan=self.scan_layer.name, model=self.model_layer.name)

    def _work(self, progress, cancel):
        # every point of the scan (a streamed or thinned layer: its file read again),
        # its alignment applied; the model's alignment applied by the core
        xyz = change_layer.layer_xyz(self.scan_layer)
        return core.deviation(
            xyz, self.model_layer.data, tolerance=self.tolerance,
            max_distance=self.max_distance, model_transform=self.model_layer.transform,
            progress=progress, cancel=cancel)


class DeviationTools(QtCore.QObject):
    """Tools > Scan vs model…: dialog, job, result on the layers, Objects panel shown."""

    measured = QtCore.Signal(object)  # the DeviationResult
    failed = QtCore.Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: DeviationDialog | None = None
        self.error_box: QtWidgets.QMessageBox | None = None
        self.job: DeviationJob | None = None
        menu = tools_menu(window)
        self.action = window._action(
            QT_TR_NOOP("Scan vs &model…"), lambda: self.open_dialog(),
            tip=QT_TR_NOOP("Distance of a scan's points to a mesh, city or IFC model, "
                           "per object"))
        self.action.setObjectName("scanVsModel")
        menu.addAction(self.action)

    def open_dialog(self) -> DeviationDialog:
        self.dialog = DeviationDialog(self.window.scene, self.window)
        self.dialog.accepted.connect(lambda: self.start(*self.dialog.request()))
        self.dialog.open()
        return self.dialog

    def start(self, scan_layer, model_layer, tolerance: float = core.DEFAULT_TOLERANCE,
              max_distance: float = core.DEFAULT_MAX_DISTANCE) -> DeviationJob:
        job = DeviationJob(scan_layer, model_layer, tolerance, max_distance, self)
        self.job = job
        return start_in_window(self.window, job, progress_text=self._progress_text,
                               finished=self._on_finished, failed=self._on_failed,
                               cancelled=self._on_cancelled)

    @staticmethod
    def _progress_text(job: DeviationJob, fraction: float, message: str) -> str:
        return translate("DeviationTools", "Scan vs model: {percent}").format(
            percent=f"{fraction:.0%}")

    def _on_finished(self, job: DeviationJob, result) -> None:
        scene = self.window.scene
        if job.scan_layer not in scene.layers or job.model_layer not in scene.layers:
            return
        core.show_result(self.window.session, job.scan_layer, job.model_layer, result)
        scene.select(job.model_layer)
        dock = getattr(self.window, "objects_dock", None)
        if dock is not None:
            dock.show()
            dock.raise_()
        self.window.statusBar().showMessage(translate(
            "DeviationTools", "{scan} vs {model}: {points} points on {objects} objects "
            "within {distance} m; {seconds} s").format(
            scan=job.scan_layer.name, model=job.model_layer.name,
            points=f"{result.assigned:,}", objects=len(result.objects),
            distance=f"{result.max_distance:g}", seconds=f"{result.seconds:.1f}"), 10000)
        self.measured.emit(result)

    def _on_failed(self, job: DeviationJob, message: str) -> None:
        self._error(message)

    def _on_cancelled(self, job: DeviationJob) -> str:
        return translate("DeviationTools", "Scan vs model cancelled; nothing changed")

    def _error(self, message: str) -> None:
        self.error_box = warning_box(self.window,
                                     translate("DeviationTools", "Cannot measure"), message,
                                     "deviationErrorDialog")
        self.failed.emit(message)


class _Row(QtWidgets.QTreeWidgetItem):
    """A row sorted by the numbers of its columns (kept in UserRole), not their text."""

    def __lt__(self, other: QtWidgets.QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else 0
        a, b = self.data(column, QtCore.Qt.UserRole), other.data(column, QtCore.Qt.UserRole)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a < b
        return self.text(column).lower() < other.text(column).lower()


#: the Deviation list's columns: header (QT_TR_NOOP source) and the per-object key
COLUMNS = ((QT_TR_NOOP("Object"), None), (None, "type"),  # the Objects tree's "Type"
           (QT_TR_NOOP("Points"), "points"),
           (QT_TR_NOOP("Mean (m)"), "mean"), (QT_TR_NOOP("Mean |d| (m)"), "mean_abs"),
           (QT_TR_NOOP("Max |d| (m)"), "max_abs"), (QT_TR_NOOP("RMS (m)"), "rms"),
           (QT_TR_NOOP("Beyond tolerance"), "beyond"))


class DeviationList(QtWidgets.QWidget):
    """The Objects panel's Deviation section: one sortable row per measured object of the
    layer (its objects' ``deviation`` attribute from Tools > Scan vs model…); selecting a
    row selects the object and shows it. Hidden for a layer not measured."""

    def __init__(self, scene, renderer, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("objectDeviation")
        self.scene, self.renderer = scene, renderer
        self.layer = None
        self.title = QtWidgets.QLabel(objectName="objectDeviationTitle", wordWrap=True)
        self.table = QtWidgets.QTreeWidget(objectName="objectDeviationTable")
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setHeaderLabels([translate("", h) if h else translate("ObjectsPanel", "Type")
                                    for h, _ in COLUMNS])
        self.table.setSortingEnabled(True)
        self.table.header().setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selected)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        self.setVisible(False)

    def set_layer(self, layer) -> None:
        self.layer = layer
        self.table.setSortingEnabled(False)
        self.table.clear()
        model = getattr(layer, "data", None)
        rows = []
        if isinstance(model, FeatureMesh):
            for f in model.features:
                d = f.attributes.get(core.ATTRIBUTE)
                if isinstance(d, dict) and "points" in d:
                    rows.append((f, d))
        self.setVisible(bool(rows))
        if not rows:
            return
        meta = model.metadata.get("deviation") or {}
        self.title.setText(translate(
            "DeviationList", "Deviation from {scan}: {n} objects, tolerance {tolerance} m"
        ).format(scan=meta.get("scan", "?"), n=len(rows),
                 tolerance=f"{meta.get('tolerance', 0):g}"))
        items = []
        for f, d in rows:
            item = _Row([f.id])
            item.setData(0, QtCore.Qt.UserRole + 1, f.id)
            item.setToolTip(0, f"{f.type}  {f.name or ''}".strip())
            item.setText(1, f.type or "")
            for col, (_, key) in enumerate(COLUMNS[2:], 2):
                value = d.get(key)
                item.setData(col, QtCore.Qt.UserRole, value)
                if key == "points":
                    text = f"{value:,}"
                elif key == "beyond":
                    text = f"{100 * value:.1f} %"
                else:
                    text = f"{value:+.3f}" if key == "mean" else f"{value:.3f}"
                item.setText(col, text)
                item.setTextAlignment(col, QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
            items.append(item)
        self.table.addTopLevelItems(items)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(len(COLUMNS) - 1, QtCore.Qt.DescendingOrder)

    def select(self, fid: str | None) -> None:
        """Follow the scene's selected object (no signal back)."""
        self.table.blockSignals(True)
        try:
            self.table.clearSelection()
            for i in range(self.table.topLevelItemCount()):
                item = self.table.topLevelItem(i)
                if item.data(0, QtCore.Qt.UserRole + 1) == fid:
                    item.setSelected(True)
                    self.table.scrollToItem(item)
                    break
        finally:
            self.table.blockSignals(False)

    def _selected(self) -> None:
        items = self.table.selectedItems()
        if not items or self.layer is None:
            return
        fid = items[0].data(0, QtCore.Qt.UserRole + 1)
        self.scene.select_feature(self.layer, fid)
        self.renderer.fit_feature(self.layer, fid)


__all__ = ["DeviationDialog", "DeviationJob", "DeviationList", "DeviationTools", "model_layers"]
