"""Tools > Compare epochs…: the dialog, its background job and the window's change tools.

The work is the Qt-free core (:mod:`viewer.change_layer`: C2C / M3C2 on every point of
two layers, the distances attached to epoch B and coloured with a diverging map centred
on zero); this module only asks for the epochs and parameters, runs it in a thread with
the window's progress bar and Cancel, and offers "Export with change…" (Tools menu and the
layer tree's context menu). An epoch B that streams from a COPC is compared file to file
(:func:`heritage.monitoring.change.compare_files`) and the result opened as a layer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from heritage.monitoring import change as core
from loaders import LoadError, PointCloud

from .. import change_layer
from .i18n import translate
from .jobs import WindowJob, start_in_window, tools_menu, warning_box


def point_layers(scene) -> list:
    return [layer for layer in scene.layers if isinstance(layer.data, PointCloud)]


class CompareDialog(QtWidgets.QDialog):
    """Epoch A and B (point layers), method C2C / M3C2 and its parameters."""

    def __init__(self, scene, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle(self.tr("Compare epochs"))
        self.layers = point_layers(scene)
        self.epoch_a = QtWidgets.QComboBox(objectName="epochA")
        self.epoch_b = QtWidgets.QComboBox(objectName="epochB")
        for layer in self.layers:
            self.epoch_a.addItem(layer.name)
            self.epoch_b.addItem(layer.name)
        if len(self.layers) > 1:
            self.epoch_b.setCurrentIndex(len(self.layers) - 1)
        self.method = QtWidgets.QComboBox(objectName="method")
        self.method.addItem(self.tr("Cloud to cloud (C2C)"), "c2c")
        self.method.addItem(self.tr("M3C2 with level of detection"), "m3c2")
        # C2C
        self.local_model = QtWidgets.QComboBox(objectName="localModel")
        self.local_model.addItem(self.tr("None (nearest neighbour)"), None)
        self.local_model.addItem(self.tr("Plane"), "plane")
        self.local_model.addItem(self.tr("Quadric"), "quadric")
        self.signed = QtWidgets.QCheckBox(self.tr("Signed (above A positive)"),
                                          objectName="signed", checked=True)
        # M3C2
        self.normal_radii = QtWidgets.QLineEdit(
            ", ".join(f"{r:g}" for r in core.DEFAULT_NORMAL_RADII), objectName="normalRadii")
        self.cyl_radius = self._spin(core.DEFAULT_CYL_RADIUS, "cylRadius")
        self.max_distance = self._spin(core.DEFAULT_MAX_DISTANCE, "maxDistance")
        self.registration_error = self._spin(0.0, "registrationError", minimum=0.0)
        self.core_spacing = self._spin(0.0, "coreSpacing", minimum=0.0)
        self.core_spacing.setSpecialValueText(self.tr("every point"))
        self.significant_only = QtWidgets.QCheckBox(
            self.tr("Show significant change only"), objectName="significantOnly")
        self.c2c_box = QtWidgets.QGroupBox(self.tr("C2C"))
        form = QtWidgets.QFormLayout(self.c2c_box)
        form.addRow(self.tr("Local model"), self.local_model)
        form.addRow(self.signed)
        self.m3c2_box = QtWidgets.QGroupBox(self.tr("M3C2"))
        form = QtWidgets.QFormLayout(self.m3c2_box)
        form.addRow(self.tr("Normal radii (m)"), self.normal_radii)
        form.addRow(self.tr("Cylinder radius (m)"), self.cyl_radius)
        form.addRow(self.tr("Max distance (m)"), self.max_distance)
        form.addRow(self.tr("Registration error (m)"), self.registration_error)
        form.addRow(self.tr("Core point spacing (m)"), self.core_spacing)
        form.addRow(self.significant_only)
        top = QtWidgets.QFormLayout()
        top.addRow(self.tr("Epoch A (reference)"), self.epoch_a)
        top.addRow(self.tr("Epoch B (compared)"), self.epoch_b)
        top.addRow(self.tr("Method"), self.method)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.Ok).setText(self.tr("Compare"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.error = QtWidgets.QLabel(objectName="compareError", wordWrap=True)
        self.error.setStyleSheet("color: #c0392b")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.c2c_box)
        layout.addWidget(self.m3c2_box)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.method.currentIndexChanged.connect(self._method_changed)
        self._method_changed()

    def _spin(self, value: float, name: str, minimum: float = 0.001) -> QtWidgets.QDoubleSpinBox:
        spin = QtWidgets.QDoubleSpinBox(objectName=name, decimals=3, minimum=minimum,
                                        maximum=1000.0, singleStep=0.1)
        spin.setValue(value)
        return spin

    def _method_changed(self, *_) -> None:
        m3c2 = self.method.currentData() == "m3c2"
        self.c2c_box.setVisible(not m3c2)
        self.m3c2_box.setVisible(m3c2)

    def request(self) -> tuple:
        """(layer A, layer B, method, params, significant_only); ValueError when the
        choices are refused (said in one line)."""
        if len(self.layers) < 2:
            raise ValueError(self.tr("Open two point clouds (two epochs) to compare."))
        a = self.layers[self.epoch_a.currentIndex()]
        b = self.layers[self.epoch_b.currentIndex()]
        if a is b:
            raise ValueError(self.tr("Choose two different epochs."))
        method = self.method.currentData()
        if method == "c2c":
            params = {"local_model": self.local_model.currentData(),
                      "signed": self.signed.isChecked()}
            return a, b, method, params, False
        try:
            radii = [float(t) for t in self.normal_radii.text().replace(";", ",").split(",")
                     if t.strip()]
        except ValueError:
            radii = []
        if not radii or min(radii) <= 0:
            raise ValueError(self.tr("Normal radii: one or more positive numbers, "
                                     "e.g. 0.5, 1, 2."))
        params = {"normal_radii": radii, "cyl_radius": self.cyl_radius.value(),
                  "max_distance": self.max_distance.value(),
                  "registration_error": self.registration_error.value()}
        if self.core_spacing.value() > 0:
            params["core_spacing"] = self.core_spacing.value()
        return a, b, method, params, self.significant_only.isChecked()

    def _accept(self) -> None:
        try:
            self.request()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class CompareJob(WindowJob):
    """One comparison in a worker thread (the window's progress bar and Cancel).
    ``out`` set: the files are compared (compare_files) and written there."""

    def __init__(self, layer_a, layer_b, method: str, params: dict, out: str | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        self.layer_a, self.layer_b, self.method, self.params = layer_a, layer_b, method, params
        self.out = out
        self.significant_only = False
        super().__init__(self._work, self._label, (core.ChangeCancelled,),
                         path=str(layer_b.path or layer_b.name), name="compare", parent=parent)

    def _label(self) -> str:
        return translate("CompareJob", "Comparing {b} with {a}…").format(
            a=self.layer_a.name, b=self.layer_b.name)

    def _work(self, progress, cancel):
        if self.out:
            return core.compare_files(self.layer_a.path, self.layer_b.path, self.out,
                                      self.method, progress=progress, cancel=cancel,
                                      **self.params)
        return change_layer.compare_layers(self.layer_a, self.layer_b, self.method,
                                           progress=progress, cancel=cancel, **self.params)


class ChangeTools(QtCore.QObject):
    """The window's change tools: Tools > Compare epochs… and Export with change…, the
    Change histogram dock, the layer tree's "Export with change…"."""

    compared = QtCore.Signal(object)  # the layer B coloured by its change
    failed = QtCore.Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: CompareDialog | None = None
        self.error_box: QtWidgets.QMessageBox | None = None
        self.job: CompareJob | None = None
        menu = tools_menu(window)
        self.compare_action = window._action(
            QT_TR_NOOP("&Compare epochs…"), lambda: self.open_dialog(),
            tip=QT_TR_NOOP("Change between two scans: C2C or M3C2 distances on epoch B"))
        self.compare_action.setObjectName("compareEpochs")
        self.export_action = window._action(
            QT_TR_NOOP("Export with &change…"), lambda: self.export_dialog(),
            tip=QT_TR_NOOP("Write the selected layer's file with its change distances"))
        self.export_action.setObjectName("exportChange")
        menu.addAction(self.compare_action)
        menu.addAction(self.export_action)
        from .histogram_panel import HistogramPanel

        self.panel = HistogramPanel(window.scene, window.session)
        window.histogram_dock = window._dock(QT_TR_NOOP("Change"), "changeDock", self.panel,
                                             QtCore.Qt.RightDockWidgetArea)
        window.tabifyDockWidget(window.annotations_dock, window.histogram_dock)
        window.annotations_dock.raise_()
        extensions = getattr(window.layer_panel, "context_extensions", None)
        if extensions is not None:
            extensions.append(self._context_menu)

    def _context_menu(self, menu: QtWidgets.QMenu, layer) -> None:
        if change_layer.change_attribute(layer):
            menu.addAction(self.export_action)

    def open_dialog(self) -> CompareDialog:
        self.dialog = CompareDialog(self.window.scene, self.window)
        self.dialog.accepted.connect(lambda: self.start(*self.dialog.request()))
        self.dialog.open()
        return self.dialog

    def start(self, layer_a, layer_b, method: str, params: dict,
              significant_only: bool = False, out: str | None = None) -> CompareJob | None:
        """Compare in the background (the progress bar; Cancel cancels)."""
        if not change_layer.in_memory(layer_b) and out is None:
            if not layer_b.path or "://" in str(layer_b.path):
                self._error(translate("ChangeTools", "{name} streams over the network: "
                                      "save it as a file first").format(name=layer_b.name))
                return None
            out, _ = QtWidgets.QFileDialog.getSaveFileName(
                self.window, translate("ChangeTools", "Epoch B streams: write the change to"),
                str(Path(layer_b.path).with_name(Path(layer_b.path).name.split(".")[0]
                                                 + "_change.laz")),
                translate("ChangeTools", "LAZ/LAS point clouds (*.laz *.las)"))
            if not out:
                return None
        job = CompareJob(layer_a, layer_b, method, params, out, self)
        job.significant_only = significant_only
        self.job = job
        return start_in_window(self.window, job, progress_text=self._progress_text,
                               finished=self._on_finished, failed=self._on_failed,
                               cancelled=self._on_cancelled)

    @staticmethod
    def _progress_text(job: CompareJob, fraction: float, message: str) -> str:
        return translate("ChangeTools", "Comparing: {message} {percent}").format(
            message=message, percent=f"{fraction:.0%}")

    def _on_finished(self, job: CompareJob, result) -> None:
        if job.out:
            self.window.open_paths([str(job.out)])
            self.window.statusBar().showMessage(translate(
                "ChangeTools", "Wrote {path}; opening it").format(path=job.out), 10000)
            return
        if job.layer_b not in self.window.scene.layers:
            return
        change_layer.attach_change(self.window.session, job.layer_b, result,
                                   significant_only=job.significant_only)
        self.window.scene.select(job.layer_b)
        s = result.stats
        self.window.statusBar().showMessage(translate(
            "ChangeTools", "{b} compared with {a}: mean {mean:.4f} m, median {median:.4f} m, "
            "95% of |d| below {p95:.4f} m").format(
            a=result.epoch_a, b=result.epoch_b, mean=s.mean, median=s.median, p95=s.p95_abs),
            10000)
        self.window.histogram_dock.show()
        self.window.histogram_dock.raise_()
        self.compared.emit(job.layer_b)

    def _on_failed(self, job: CompareJob, message: str) -> None:
        self._error(message)

    def _on_cancelled(self, job: CompareJob) -> str:
        return translate("ChangeTools", "Comparison cancelled; nothing changed")

    def _error(self, message: str) -> None:
        self.error_box = warning_box(self.window, translate("ChangeTools", "Cannot compare"),
                                     message, "compareErrorDialog")
        self.failed.emit(message)

    def export_dialog(self, out: str | None = None):
        """Write the selected layer's file with its change (File dialog unless ``out``);
        returns the path written or None."""
        layer = self.window.scene.selected
        if layer is None or not change_layer.change_attribute(layer):
            self._error(translate("ChangeTools", "Select a layer compared with an epoch "
                                  "(Tools > Compare epochs…) first."))
            return None
        if out is None:
            base = Path(layer.path or layer.name)
            out, _ = QtWidgets.QFileDialog.getSaveFileName(
                self.window, translate("ChangeTools", "Export with change"),
                str(base.with_name(base.name.split(".")[0] + "_change.laz")),
                translate("ChangeTools", "LAZ/LAS point clouds (*.laz *.las)"))
            if not out:
                return None
        try:
            written = change_layer.export_with_change(layer, out)
        except (LoadError, ValueError, OSError) as exc:
            self._error(str(getattr(exc, "message", exc)))
            return None
        self.window.statusBar().showMessage(
            translate("ChangeTools", "Exported {path}").format(path=written), 10000)
        return written


__all__ = ["ChangeTools", "CompareDialog", "CompareJob", "point_layers"]
