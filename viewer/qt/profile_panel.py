"""Tools > Profile…: a window with the 2D cross-section of a vertical slab.

The section line is chosen by two clicks in the 3D view ("Pick line in view") or taken
from a polyline annotation; the width is set in the panel and the section is cut again
as it changes (heritage.monitoring.profile: full-resolution points from LAS/LAZ/COPC
files, cut lines of meshes, city and IFC models). Measure: click two points of the plot
(snapped to the nearest profile point within a few pixels); the horizontal, vertical and
slope distance are drawn and listed, and can be saved as distance measurements of the
project. Exports: PNG, SVG, CSV.

The plot is matplotlib's QtAgg canvas: the exported PNG/SVG are drawn by the same
function (heritage.monitoring.profile.draw_profile), with axes and equal scales for free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6 import QtCore, QtWidgets

from heritage.monitoring.profile import Profile, ProfileLine, ProfileMeasurement, draw_profile

from ..colormaps import CLASS_TABLE
from .i18n import QT_TR_NOOP
from .jobs import tools_menu

SNAP_PX = 8.0  # a click within this many pixels of a profile point takes that point
MAX_DRAWN = 200_000  # points drawn per layer in the panel (exports draw every one)


class ProfilePanel(QtWidgets.QWidget):
    """The profile window of a scene (and its project session)."""

    computed = QtCore.Signal(object)  # the Profile

    def __init__(self, scene: Any, session: Any = None, parent: Any = None) -> None:
        super().__init__(parent, QtCore.Qt.Window)
        self.setObjectName("profilePanel")
        self.setWindowTitle(self.tr("Profile"))
        self.scene, self.session = scene, session
        self.line: ProfileLine | None = None
        self.profile: Profile | None = None
        self.measurements: list[ProfileMeasurement] = []
        self._pending: list[Any] = []  # clicked line ends (3D) / measurement ends (2D)
        self._measure_first: tuple[float, float] | None = None

        self.pick_button = QtWidgets.QPushButton(self.tr("Pick line in view"),
                                                 objectName="profilePick", checkable=True)
        self.pick_button.setToolTip(self.tr("Click the two ends of the section line in the "
                                            "3D view"))
        self.annotation_box = QtWidgets.QComboBox(objectName="profileAnnotation")
        self.annotation_box.setToolTip(self.tr("Take the line from a polyline annotation "
                                               "(its first and last point)"))
        self.use_annotation = QtWidgets.QPushButton(self.tr("Use"), objectName="profileUse")
        self.width_box = QtWidgets.QDoubleSpinBox(objectName="profileWidth", decimals=2,
                                                  minimum=0.01, maximum=1000.0, value=1.0,
                                                  singleStep=0.25, suffix=" m")
        self.width_box.setToolTip(self.tr("Full width of the section"))
        self.measure_button = QtWidgets.QPushButton(self.tr("Measure"),
                                                    objectName="profileMeasure",
                                                    checkable=True)
        self.measure_button.setToolTip(self.tr("Click two points of the profile"))
        self.save_button = QtWidgets.QPushButton(self.tr("Save measurements to project"),
                                                 objectName="profileSaveMeasurements")
        self.export_buttons = {}
        for fmt in ("png", "svg", "csv"):
            button = QtWidgets.QPushButton(fmt.upper(), objectName=f"profileExport_{fmt}")
            button.setToolTip(self.tr("Export the profile as {fmt}").format(fmt=fmt.upper()))
            button.clicked.connect(lambda _=False, f=fmt: self.export_dialog(f))
            self.export_buttons[fmt] = button
        self.status = QtWidgets.QLabel(objectName="profileStatus", wordWrap=True)
        self.measure_list = QtWidgets.QListWidget(objectName="profileMeasurements")
        self.measure_list.setMaximumHeight(90)
        self.figure = Figure(figsize=(8, 3.5), dpi=100)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setObjectName("profileCanvas")
        self.canvas.setMinimumSize(480, 240)
        self.axes = self.figure.add_subplot()

        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.pick_button)
        top.addWidget(self.annotation_box, 1)
        top.addWidget(self.use_annotation)
        top.addWidget(QtWidgets.QLabel(self.tr("Width")))
        top.addWidget(self.width_box)
        top.addWidget(self.measure_button)
        for button in self.export_buttons.values():
            top.addWidget(button)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.measure_list, 1)
        bottom.addWidget(self.save_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.status)
        layout.addLayout(bottom)
        self.resize(1000, 520)

        self.pick_button.toggled.connect(self._pick_toggled)
        self.use_annotation.clicked.connect(self.use_selected_annotation)
        self.width_box.valueChanged.connect(self._width_changed)
        self.measure_button.toggled.connect(lambda on: self._set_measure_first(None))
        self.save_button.clicked.connect(self.save_measurements)
        self.canvas.mpl_connect("button_press_event", self._on_canvas_click)
        scene.connect("picked", self._on_picked)
        if session is not None:
            session.scene.connect("annotations_changed",
                                  lambda **kw: self.refresh_annotations())
        self.refresh_annotations()
        self._update_buttons()
        self.draw()

    # -- the line ---------------------------------------------------------------------
    def refresh_annotations(self) -> None:
        self.annotation_box.clear()
        if self.session is None:
            return
        for ann in self.session.project.annotations:
            if ann.kind == "polyline" and len(ann.points) >= 2:
                self.annotation_box.addItem(ann.title or ann.id, ann.id)
        self.use_annotation.setEnabled(self.annotation_box.count() > 0)

    def use_selected_annotation(self) -> bool:
        ann_id = self.annotation_box.currentData()
        if ann_id is None or self.session is None:
            return False
        ann = self.session.project.annotation(ann_id)
        return self.set_line_points(ann.points)

    def _pick_toggled(self, on: bool) -> None:
        self._pending = []
        if on:
            tool = getattr(self.parent(), "tool", None)
            if tool is not None:
                tool.cancel()  # one click tool at a time
            self.status.setText(self.tr("Click the first end of the line in the 3D view"))

    def _on_picked(self, pick=None, **_) -> None:
        if not self.pick_button.isChecked() or pick is None:
            return
        self._pending.append([float(v) for v in pick.xyz])
        if len(self._pending) == 1:
            self.status.setText(self.tr("Now click the other end"))
            return
        points, self._pending = self._pending, []
        self.pick_button.setChecked(False)
        self.set_line_points(points)

    def set_line_points(self, points: Any) -> bool:
        try:
            line = ProfileLine.from_points(points, self.width_box.value())
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        self.set_line(line)
        return True

    def set_line(self, line: ProfileLine) -> None:
        """Cut the visible layers along ``line`` and show the section."""
        self.line = line
        if abs(self.width_box.value() - line.width) > 1e-9:
            self.width_box.blockSignals(True)
            self.width_box.setValue(line.width)
            self.width_box.blockSignals(False)
        self.measurements = []
        self.measure_list.clear()
        self.recompute()

    def _width_changed(self, value: float) -> None:
        if self.line is not None:
            self.line = ProfileLine(self.line.start, self.line.end, value / 2.0)
            self.recompute()

    def recompute(self) -> Profile | None:
        from heritage.monitoring.profile import profile_layers
        from loaders.types import LoadError

        from ..units import scene_length_unit

        if self.line is None:
            return None
        layers = [layer for layer in self.scene.layers if layer.visible]
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.WaitCursor)
        try:
            self.profile = profile_layers(layers, self.line, units=scene_length_unit(self.scene))
        except LoadError as exc:
            self.status.setText(exc.message)
            return None
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        p = self.profile
        text = self.tr("{points} points, {segments} cut-line segments along {length} "
                       "{units}").format(points=f"{p.point_count:,}",
                                         segments=f"{p.segment_count:,}",
                                         length=f"{self.line.length:.2f}", units=p.units)
        if p.warnings:
            text += " — " + "; ".join(p.warnings)
        self.status.setText(text)
        self._update_buttons()
        self.draw()
        self.computed.emit(p)
        return p

    # -- plot and measurements ----------------------------------------------------------
    def draw(self) -> None:
        self.axes.clear()
        if self.profile is None:
            self.axes.set_axis_off()
            self.axes.text(0.5, 0.5, self.tr("Pick a line in the 3D view or use a polyline "
                                             "annotation"), ha="center", va="center",
                           transform=self.axes.transAxes)
        else:
            self.axes.set_axis_on()
            units = self.profile.units
            draw_profile(self.axes, self.profile, class_table=CLASS_TABLE,
                         measurements=self.measurements, max_points=MAX_DRAWN,
                         xlabel=self.tr("distance along the profile ({units})").format(
                             units=units),
                         ylabel=self.tr("height ({units})").format(units=units))
            if self._measure_first is not None:
                self.axes.plot(*self._measure_first, marker="o", color="#d35400")
        self.figure.tight_layout()
        self.canvas.draw_idle()

    def _set_measure_first(self, point) -> None:
        self._measure_first = point
        if self.measure_button.isChecked():
            self.status.setText(self.tr("Click the first point of the measurement")
                                if point is None else self.tr("Click the second point"))

    def _on_canvas_click(self, event) -> None:
        if not self.measure_button.isChecked() or event.inaxes is not self.axes \
                or event.xdata is None:
            return
        self.click_profile(float(event.xdata), float(event.ydata))

    def _pixel_scale(self) -> tuple[float, float]:
        """Profile units per pixel along each axis of the plot."""
        inv = self.axes.transData.inverted()
        (x0, y0), (x1, y1) = inv.transform([(0.0, 0.0), (1.0, 1.0)])
        return abs(x1 - x0) or 1.0, abs(y1 - y0) or 1.0

    def click_profile(self, distance: float, height: float) -> ProfileMeasurement | None:
        """A click at (distance, height) of the plot while measuring (snapped to the
        nearest profile point within a few pixels); the second click adds a measurement."""
        if self.profile is None:
            return None
        snapped = self.profile.nearest(distance, height, self._pixel_scale(), SNAP_PX)
        point = snapped if snapped is not None else (distance, height)
        if self._measure_first is None:
            self._set_measure_first(point)
            self.draw()
            return None
        m = ProfileMeasurement(self._measure_first, point)
        self.measurements.append(m)
        self.measure_list.addItem(m.label(self.profile.units))
        self._set_measure_first(None)
        self._update_buttons()
        self.draw()
        return m

    def save_measurements(self) -> int:
        """Add the profile's measurements to the project as distance measurements
        (undoable); their 3D distance is the slope distance."""
        if self.session is None or self.line is None:
            return 0
        from heritage.model import Measurement

        for m in self.measurements:
            self.session.add_measurement(Measurement(
                "distance", m.points_3d(self.line),
                label=self.tr("Profile: {label}").format(label=m.label(self.profile.units))))
        count = len(self.measurements)
        self.status.setText(self.tr("{n} measurements saved to the project").format(n=count))
        return count

    def _update_buttons(self) -> None:
        have = self.profile is not None
        for button in self.export_buttons.values():
            button.setEnabled(have)
        self.measure_button.setEnabled(have)
        self.save_button.setEnabled(bool(self.measurements) and self.session is not None)

    # -- export -------------------------------------------------------------------------
    def export(self, path: str | Path) -> Path:
        """Write the profile (PNG, SVG or CSV by the suffix) with its measurements."""
        if self.profile is None:
            raise ValueError("no profile yet: pick a line first")
        return self.profile.write(path, measurements=self.measurements,
                                  class_table=CLASS_TABLE)

    def export_dialog(self, fmt: str) -> Path | None:
        from loaders.types import LoadError

        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, self.tr("Export profile"), f"profile.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if not path:
            return None
        try:
            out = self.export(path)
        except (LoadError, ValueError) as exc:
            self.status.setText(getattr(exc, "message", str(exc)))
            return None
        self.status.setText(self.tr("Exported {name}").format(name=out.name))
        return out


class ProfileTools(QtCore.QObject):
    """Tools > Profile… in a main window: opens (once) the profile window."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel: ProfilePanel | None = None
        menu = tools_menu(window)
        self.action = window._action(
            QT_TR_NOOP("&Profile…"), lambda: self.open_panel(),
            tip=QT_TR_NOOP("A 2D cross-section of the points and models along a line, "
                           "with measurements"))
        self.action.setObjectName("profileAction")
        menu.addAction(self.action)

    def open_panel(self) -> ProfilePanel:
        if self.panel is None:
            self.panel = ProfilePanel(self.window.scene, self.window.session, self.window)
        self.panel.show()
        self.panel.raise_()
        return self.panel
