"""Aligning a layer onto another: by typed values or by picked point pairs.

The panel edits :attr:`viewer.scene.Layer.transform` (a 4x4 similarity acting on the
layer's true coordinates) through :meth:`viewer.session.ProjectSession.update_layer`, so
every change is undoable and saved with the project.

- *By values*: translation (m), rotation (degrees about x, y, z) and uniform scale,
  about the centre of the moved layer's file bounds. The values describe the layer's
  whole transform relative to its file coordinates.
- *By point pairs*: with "Pick pairs" on, clicks alternate between a point on the moved
  layer (the source, kept in the layer's file coordinates) and the matching point on
  the reference layer (the target). From three pairs on, a least-squares similarity is
  fitted (:func:`loaders.georef.fit_similarity`); "Apply fit" sets it.
- *Refine by ICP*: from the layer's current transform (e.g. the point-pair fit), point-to-
  plane ICP of the moved point cloud onto the reference point cloud
  (:func:`heritage.monitoring.register.register_points`) in a worker thread, with progress
  and Cancel; RMSE and overlap are shown and the refined transform is set (undoable).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6 import QtCore, QtWidgets

from loaders import LoadCancelled, PointCloud
from loaders.georef import apply_matrix, fit_similarity, similarity_from_values, values_from_matrix

from ..scene import Layer, Scene
from ..session import ProjectSession
from .jobs import WindowJob


def _fmt(xyz) -> str:
    return "  ".join(f"{float(v):.3f}" for v in xyz)


class AlignmentPanel(QtWidgets.QWidget):
    """Dock contents for aligning the layer chosen in "Layer" onto "Reference"."""

    def __init__(self, scene: Scene, session: ProjectSession,
                 status: Callable[[str], object] | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, objectName="alignmentPanel")
        self.scene = scene
        self.session = session
        self._status_fn = status
        #: pairs: (source in the moved layer's file coordinates, target true coordinates)
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.residuals: np.ndarray | None = None
        self.fit_matrix: np.ndarray | None = None
        self._pending_src: np.ndarray | None = None  # first click of a pair (true xyz)
        self._pair_layer_id: int | None = None
        self._filling = False

        layout = QtWidgets.QVBoxLayout(self)
        form = QtWidgets.QFormLayout()
        self.layer_combo = QtWidgets.QComboBox(objectName="alignLayer")
        self.layer_combo.setToolTip(self.tr("The layer to move"))
        self.reference_combo = QtWidgets.QComboBox(objectName="alignReference")
        self.reference_combo.setToolTip(self.tr("The layer it is aligned to"))
        form.addRow(self.tr("Layer"), self.layer_combo)
        form.addRow(self.tr("Reference"), self.reference_combo)
        layout.addLayout(form)

        # -- by values ---------------------------------------------------------------------
        values = QtWidgets.QGroupBox(self.tr("By values"))
        grid = QtWidgets.QGridLayout(values)
        self.translate = [self._spin(-1e7, 1e7, 3, f"alignTranslate{a}") for a in "XYZ"]
        self.rotate = [self._spin(-360.0, 360.0, 4, f"alignRotate{a}") for a in "XYZ"]
        for col, axis in enumerate("XYZ", start=1):
            grid.addWidget(QtWidgets.QLabel(axis, alignment=QtCore.Qt.AlignCenter), 0, col)
        grid.addWidget(QtWidgets.QLabel(self.tr("Translate (m)")), 1, 0)
        grid.addWidget(QtWidgets.QLabel(self.tr("Rotate (°)")), 2, 0)
        for col in range(3):
            grid.addWidget(self.translate[col], 1, col + 1)
            grid.addWidget(self.rotate[col], 2, col + 1)
        self.scale = self._spin(0.001, 1000.0, 6, "alignScale")
        self.scale.setValue(1.0)
        grid.addWidget(QtWidgets.QLabel(self.tr("Scale")), 3, 0)
        grid.addWidget(self.scale, 3, 1)
        self.pivot_label = QtWidgets.QLabel("", objectName="alignPivot")
        self.pivot_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        grid.addWidget(self.pivot_label, 4, 0, 1, 4)
        buttons = QtWidgets.QHBoxLayout()
        self.apply_values_button = QtWidgets.QPushButton(self.tr("Apply"),
                                                       objectName="alignApplyValues")
        self.reset_button = QtWidgets.QPushButton(self.tr("Reset"), objectName="alignReset")
        self.reset_button.setToolTip(self.tr("Back to the file's own coordinates (identity)"))
        buttons.addWidget(self.apply_values_button)
        buttons.addWidget(self.reset_button)
        grid.addLayout(buttons, 5, 0, 1, 4)
        layout.addWidget(values)

        # -- by point pairs ------------------------------------------------------------------
        pairs = QtWidgets.QGroupBox(self.tr("By point pairs"))
        pl = QtWidgets.QVBoxLayout(pairs)
        row = QtWidgets.QHBoxLayout()
        self.pick_button = QtWidgets.QPushButton(self.tr("Pick pairs"),
                                                 objectName="alignPickPairs")
        self.pick_button.setCheckable(True)
        self.pick_button.setToolTip(self.tr("Click a point on the layer, then the same point "
                                            "on the reference; repeat (at least 3 pairs)"))
        self.allow_scale = QtWidgets.QCheckBox(self.tr("Allow scale"),
                                              objectName="alignAllowScale")
        self.allow_scale.setChecked(True)
        row.addWidget(self.pick_button)
        row.addWidget(self.allow_scale)
        pl.addLayout(row)
        self.table = QtWidgets.QTableWidget(0, 4, objectName="alignPairs")
        self.table.setHorizontalHeaderLabels(["#", self.tr("Source XYZ"), self.tr("Target XYZ"),
                                              self.tr("Residual (m)")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        pl.addWidget(self.table)
        row = QtWidgets.QHBoxLayout()
        self.remove_button = QtWidgets.QPushButton(self.tr("Remove pair"),
                                                   objectName="alignRemovePair")
        self.clear_button = QtWidgets.QPushButton(self.tr("Clear"), objectName="alignClearPairs")
        self.apply_fit_button = QtWidgets.QPushButton(self.tr("Apply fit"),
                                                      objectName="alignApplyFit")
        self.apply_fit_button.setEnabled(False)
        row.addWidget(self.remove_button)
        row.addWidget(self.clear_button)
        row.addWidget(self.apply_fit_button)
        pl.addLayout(row)
        self.rms_label = QtWidgets.QLabel(self.tr("Add at least 3 point pairs"),
                                          objectName="alignRms")
        self.rms_label.setWordWrap(True)
        pl.addWidget(self.rms_label)
        layout.addWidget(pairs)

        # -- refine by ICP ------------------------------------------------------------------
        icp = QtWidgets.QGroupBox(self.tr("Refine by ICP"))
        il = QtWidgets.QVBoxLayout(icp)
        row = QtWidgets.QHBoxLayout()
        self.icp_button = QtWidgets.QPushButton(self.tr("Refine by ICP"),
                                                objectName="alignRefineIcp")
        self.icp_button.setToolTip(self.tr("Move the layer onto the reference by ICP, "
                                           "starting from its current alignment"))
        self.icp_cancel_button = QtWidgets.QPushButton(self.tr("Cancel"),
                                                       objectName="alignCancelIcp")
        self.icp_cancel_button.setEnabled(False)
        row.addWidget(self.icp_button)
        row.addWidget(self.icp_cancel_button)
        il.addLayout(row)
        self.icp_progress = QtWidgets.QProgressBar(objectName="alignIcpProgress")
        self.icp_progress.setRange(0, 1000)
        self.icp_progress.setVisible(False)
        il.addWidget(self.icp_progress)
        self.icp_label = QtWidgets.QLabel("", objectName="alignIcpResult")
        self.icp_label.setWordWrap(True)
        self.icp_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        il.addWidget(self.icp_label)
        layout.addWidget(icp)
        #: the running ICP job (None: none)
        self.icp_job: IcpJob | None = None
        #: the last ICP result (heritage.monitoring.register.Registration)
        self.icp_result = None
        self.status_label = QtWidgets.QLabel("", objectName="alignStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        layout.addStretch(1)

        self.layer_combo.currentIndexChanged.connect(self._layer_changed)
        self.apply_values_button.clicked.connect(self.apply_values)
        self.reset_button.clicked.connect(self.reset)
        self.pick_button.toggled.connect(self._pick_toggled)
        self.allow_scale.toggled.connect(lambda _on: self.refit())
        self.remove_button.clicked.connect(self.remove_selected_pair)
        self.clear_button.clicked.connect(self.clear_pairs)
        self.apply_fit_button.clicked.connect(self.apply_fit)
        self.icp_button.clicked.connect(self.refine_by_icp)
        self.icp_cancel_button.clicked.connect(self.cancel_icp)

        scene.connect("layer_added", self._on_layers)
        scene.connect("layer_removed", self._on_layers)
        scene.connect("layer_changed", self._on_layer_changed)
        scene.connect("picked", self._on_picked)
        self.refresh_layers()

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _spin(lo: float, hi: float, decimals: int, name: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox(objectName=name)
        box.setRange(lo, hi)
        box.setDecimals(decimals)
        box.setKeyboardTracking(False)
        return box

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        if self._status_fn is not None:
            self._status_fn(text)

    def _layer_for(self, combo: QtWidgets.QComboBox) -> Layer | None:
        layer_id = combo.currentData()
        return next((l for l in self.scene.layers if l.id == layer_id), None)

    def moved_layer(self) -> Layer | None:
        return self._layer_for(self.layer_combo)

    def reference_layer(self) -> Layer | None:
        return self._layer_for(self.reference_combo)

    def set_layers(self, moved: Layer, reference: Layer | None = None) -> None:
        """Choose the layer to move and (optionally) the reference."""
        self.layer_combo.setCurrentIndex(self.layer_combo.findData(moved.id))
        if reference is not None:
            self.reference_combo.setCurrentIndex(self.reference_combo.findData(reference.id))

    def pivot(self, layer: Layer | None = None) -> np.ndarray:
        """Centre of the layer's bounds in its file coordinates (the rotation pivot)."""
        layer = layer or self.moved_layer()
        if layer is None:
            return np.zeros(3)
        lod = getattr(layer, "lod", None)
        if lod is not None and getattr(lod, "cloud", None) is layer.data:
            # the octree's bounds are the cloud's (local): no pass over a big cloud on
            # the GUI thread each time a load ends
            origin = np.asarray(layer.data.origin, dtype=np.float64)
            lo, hi = (np.asarray(b, dtype=np.float64) + origin for b in lod.bounds)
        else:
            lo, hi = layer.data.bounds
        return (np.asarray(lo, dtype=np.float64) + np.asarray(hi, dtype=np.float64)) / 2.0

    # -- layer lists -----------------------------------------------------------------------
    def _on_layers(self, **_) -> None:
        self.refresh_layers()

    def _on_layer_changed(self, layer=None, field=None, **_) -> None:
        if field == "name":
            self.refresh_layers()
        elif field == "transform" and layer is not None and layer is self.moved_layer():
            self.fill_values()
            self.refit()

    def refresh_layers(self) -> None:
        moved_id, ref_id = self.layer_combo.currentData(), self.reference_combo.currentData()
        for combo in (self.layer_combo, self.reference_combo):
            combo.blockSignals(True)
            combo.clear()
            for layer in self.scene.layers:
                combo.addItem(layer.name, layer.id)
        i = self.layer_combo.findData(moved_id)
        self.layer_combo.setCurrentIndex(i if i >= 0 else (0 if self.scene.layers else -1))
        j = self.reference_combo.findData(ref_id)
        if j < 0 or ref_id == self.layer_combo.currentData():
            j = next((k for k, l in enumerate(self.scene.layers)
                      if l.id != self.layer_combo.currentData()), 0 if self.scene.layers else -1)
        self.reference_combo.setCurrentIndex(j)
        for combo in (self.layer_combo, self.reference_combo):
            combo.blockSignals(False)
        self._layer_changed()

    def _layer_changed(self, *_args) -> None:
        layer = self.moved_layer()
        new_id = layer.id if layer is not None else None
        if new_id != self._pair_layer_id:  # pairs belong to one moved layer
            self._pair_layer_id = new_id
            self.pairs.clear()
            self._pending_src = None
            self.refit()
            if layer is not None and self.reference_combo.currentData() == layer.id:
                k = next((k for k, l in enumerate(self.scene.layers) if l.id != layer.id), -1)
                if k >= 0:
                    self.reference_combo.setCurrentIndex(k)
        self.fill_values()

    # -- by values ------------------------------------------------------------------------
    def fill_values(self) -> None:
        """Show the moved layer's current transform as translation / rotation / scale."""
        layer = self.moved_layer()
        enabled = layer is not None
        self.apply_values_button.setEnabled(enabled)
        self.reset_button.setEnabled(enabled)
        if layer is None:
            self.pivot_label.setText("")
            return
        pivot = self.pivot(layer)
        self.pivot_label.setText(self.tr("Pivot (layer centre): {xyz}").format(xyz=_fmt(pivot)))
        try:
            v = values_from_matrix(layer.transform, pivot)
        except ValueError as exc:
            self.show_status(
                self.tr("The current transform cannot be shown as values: {error}").format(
                    error=exc))
            v = {"translate": (0, 0, 0), "rotate_deg": (0, 0, 0), "scale": 1.0}
        self._filling = True
        for box, value in zip(self.translate, v["translate"], strict=True):
            box.setValue(float(value))
        for box, value in zip(self.rotate, v["rotate_deg"], strict=True):
            box.setValue(float(value))
        self.scale.setValue(float(v["scale"]))
        self._filling = False

    def values_matrix(self) -> np.ndarray:
        return similarity_from_values(
            translate=[b.value() for b in self.translate],
            rotate_deg=[b.value() for b in self.rotate],
            scale=self.scale.value(), pivot=self.pivot())

    def _set_transform(self, layer: Layer, matrix: np.ndarray, what: str) -> None:
        self.session.update_layer(layer, transform=np.array(matrix, dtype=np.float64))
        self.show_status(what.format(name=layer.name))

    def apply_values(self) -> bool:
        layer = self.moved_layer()
        if layer is None:
            self.show_status(self.tr("Open a layer to align first"))
            return False
        try:
            m = self.values_matrix()
        except ValueError as exc:
            self.show_status(str(exc))
            return False
        self._set_transform(layer, m, self.tr("Moved {name}"))
        return True

    def reset(self) -> bool:
        layer = self.moved_layer()
        if layer is None:
            return False
        self._set_transform(layer, np.eye(4), self.tr("Reset the transform of {name}"))
        return True

    # -- by point pairs ---------------------------------------------------------------------
    def add_pair(self, src_true_xyz, dst_true_xyz) -> None:
        """Add a pair: a point on the moved layer (true coordinates, as shown now) and the
        matching point on the reference. The source is kept in file coordinates."""
        layer = self.moved_layer()
        if layer is None:
            raise ValueError("no layer to align")
        src = np.asarray(src_true_xyz, dtype=np.float64).reshape(3)
        dst = np.asarray(dst_true_xyz, dtype=np.float64).reshape(3)
        if np.allclose(layer.transform, np.eye(4)):
            src_file = src.copy()
        else:
            src_file = apply_matrix(np.linalg.inv(layer.transform), src)[0]
        self.pairs.append((src_file, dst))
        self.refit()

    def remove_pair(self, index: int) -> None:
        if 0 <= index < len(self.pairs):
            del self.pairs[index]
            self.refit()

    def remove_selected_pair(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.pairs:
            rows = [len(self.pairs) - 1]
        for r in rows:
            del self.pairs[r]
        self.refit()

    def clear_pairs(self) -> None:
        self.pairs.clear()
        self._pending_src = None
        self.refit()

    def refit(self) -> None:
        """Recompute the fit (from 3 pairs on) and refresh the table and the RMS label."""
        self.fit_matrix, self.residuals = None, None
        if len(self.pairs) >= 3:
            src = np.array([p[0] for p in self.pairs])
            dst = np.array([p[1] for p in self.pairs])
            try:
                m, res, rms = fit_similarity(src, dst, allow_scale=self.allow_scale.isChecked())
            except ValueError as exc:
                self.rms_label.setText(str(exc))
            else:
                self.fit_matrix, self.residuals = m, np.asarray(res)
                self.rms_label.setText(self.tr("RMS {rms} m over {n} pairs").format(
                    rms=f"{rms:.4f}", n=len(self.pairs)))
        else:
            need = 3 - len(self.pairs)
            self.rms_label.setText(self.tr("Add {n} more point pairs").format(n=need)
                                   if need > 1 else self.tr("Add 1 more point pair"))
        self.apply_fit_button.setEnabled(self.fit_matrix is not None)
        self._fill_table()

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.pairs))
        for r, (src, dst) in enumerate(self.pairs):
            res = "" if self.residuals is None else f"{float(self.residuals[r]):.4f}"
            for c, text in enumerate((str(r + 1), _fmt(src), _fmt(dst), res)):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def apply_fit(self) -> bool:
        layer = self.moved_layer()
        if layer is None or self.fit_matrix is None:
            self.show_status(self.tr("Add at least 3 point pairs before applying a fit"))
            return False
        self._set_transform(layer, self.fit_matrix, self.tr("Aligned {name}"))
        return True

    # -- clicking pairs ------------------------------------------------------------------------
    def _pick_toggled(self, on: bool) -> None:
        self._pending_src = None
        if on:
            layer = self.moved_layer()
            if layer is None:
                self.show_status(self.tr("Open a layer to align first"))
            else:
                self.show_status(self.tr("Click a point on {name}").format(name=layer.name))
        else:
            self.show_status("")

    def _on_picked(self, pick=None, **_) -> None:
        if not self.pick_button.isChecked() or pick is None:
            return
        moved, reference = self.moved_layer(), self.reference_layer()
        if moved is None:
            return
        if self._pending_src is None:
            if pick.layer is not moved:
                self.show_status(self.tr(
                    "Click a point on {name} (the layer to move) first").format(name=moved.name))
                return
            self._pending_src = np.asarray(pick.xyz, dtype=np.float64).copy()
            ref_name = reference.name if reference is not None else \
                self.tr("the reference")
            self.show_status(self.tr("Now click the same point on {name}").format(name=ref_name))
            return
        if reference is not None and pick.layer is not reference:
            self.show_status(self.tr("Click the matching point on {name} (the reference)").format(
                name=reference.name))
            return
        if reference is None and pick.layer is moved:
            self.show_status(self.tr("Click the matching point on another layer"))
            return
        src, self._pending_src = self._pending_src, None
        self.add_pair(src, pick.xyz)
        self.show_status(self.tr("Pair {n} added; click a point on {name}").format(
            n=len(self.pairs), name=moved.name))

    # -- refine by ICP -----------------------------------------------------------------------
    def refine_by_icp(self) -> bool:
        """Start ICP of the moved layer onto the reference in a worker thread."""
        moved, reference = self.moved_layer(), self.reference_layer()
        if self.icp_job is not None:
            return False
        if moved is None or reference is None or moved is reference:
            self.show_status(self.tr("Choose a layer and another layer as reference"))
            return False
        if not isinstance(moved.data, PointCloud) or not isinstance(reference.data, PointCloud):
            self.show_status(self.tr("ICP aligns a point cloud onto a point cloud"))
            return False
        target = reference.data.xyz()
        if not np.allclose(reference.transform, np.eye(4)):
            target = apply_matrix(reference.transform, target)
        job = IcpJob(target, moved.data.xyz(), np.array(moved.transform, dtype=np.float64),
                     moved, parent=self)
        job.progress.connect(self._icp_progress)
        job.finished.connect(self._icp_finished)
        job.failed.connect(self._icp_failed)
        job.cancelled.connect(self._icp_cancelled)
        self.icp_job = job
        self.icp_button.setEnabled(False)
        self.icp_cancel_button.setEnabled(True)
        self.icp_progress.setValue(0)
        self.icp_progress.setVisible(True)
        self.icp_label.setText(self.tr("Refining {name} by ICP…").format(name=moved.name))
        job.start()
        return True

    def cancel_icp(self) -> None:
        if self.icp_job is not None:
            self.icp_job.cancel()

    def _icp_done(self) -> None:
        self.icp_job = None
        self.icp_button.setEnabled(True)
        self.icp_cancel_button.setEnabled(False)
        self.icp_progress.setVisible(False)

    def _icp_progress(self, _job, fraction: float, _message: str) -> None:
        self.icp_progress.setValue(int(round(fraction * 1000)))

    def _icp_finished(self, job, result) -> None:
        self._icp_done()
        self.icp_result = result
        layer = job.layer
        if layer not in self.scene.layers:
            return
        self._set_transform(layer, result.matrix, self.tr("Refined {name} by ICP"))
        text = self.tr("RMSE {rmse} m, overlap {overlap} %, {n} iterations").format(
            rmse=f"{result.rmse:.4f}", overlap=f"{result.overlap * 100:.1f}",
            n=result.iterations)
        if result.overlap < 0.3:
            text += "\n" + self.tr("Little overlap: align by point pairs first")
        self.icp_label.setText(text)

    def _icp_failed(self, _job, message: str) -> None:
        self._icp_done()
        self.icp_label.setText(self.tr("ICP failed: {error}").format(error=message))

    def _icp_cancelled(self, _job) -> None:
        self._icp_done()
        self.icp_label.setText(self.tr("ICP cancelled; the layer was not moved"))


class IcpJob(WindowJob):
    """ICP (:func:`heritage.monitoring.register.register_points`) in a worker thread.
    Cancel is seen at the next ICP iteration. Signals are delivered queued to the GUI."""

    def __init__(self, target_xyz: np.ndarray, source_xyz: np.ndarray, init: np.ndarray,
                 layer: Layer, parent: QtCore.QObject | None = None) -> None:
        self.layer = layer
        self._args = (target_xyz, source_xyz, init)
        super().__init__(self._work, "ICP", (LoadCancelled,), path=str(layer.path or ""),
                         name="icp", errors=(ValueError, MemoryError),
                         raise_on_cancel=lambda: LoadCancelled("ICP"), parent=parent)

    def _work(self, progress, cancel):
        from heritage.monitoring.register import register_points

        target, source, init = self._args
        return register_points(target, source, init, progress=progress)
