"""The scene's coordinate systems: the one everything is drawn in, and an optional
second one in which picked coordinates are also shown (e.g. WGS 84 latitude/longitude).

Both are typed the way pyproj accepts them ("EPSG:7415", "EPSG:4326", a WKT or PROJ
string) or chosen from the CRSs of the open layers; the dialog says at once what the
text means, or why it is not a CRS.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from loaders.crs import parse_crs_text

#: second systems offered in the dialog besides the layers' own
COMMON_CRS = (("EPSG:4326", "WGS 84 latitude / longitude"),
              ("EPSG:4979", "WGS 84 latitude / longitude / ellipsoidal height"),
              ("EPSG:4978", "WGS 84 geocentric (ECEF)"))


parse_crs = parse_crs_text  # (the one parser, in loaders.crs)


def _tr(text: str) -> str:
    """``text`` (a QT_TR_NOOP source) in the interface language (the panels' context)."""
    return QtCore.QCoreApplication.translate("", text)


def describe_crs(crs) -> str:
    """A CRS for the properties panel and the CRS dialogs: its name in the interface
    language, EPSG code, units, degrees."""
    if crs is None:
        return _tr(QT_TR_NOOP("none recorded in the file"))
    try:
        from loaders.crs import crs_summary

        s = crs_summary(crs)
        epsg = f"EPSG:{s['epsg']}" if s.get("epsg") else _tr(QT_TR_NOOP("no EPSG code"))
        units = s.get("horizontal_units") or ""
        if s.get("vertical_units") and s["vertical_units"] != units:
            units += _tr(QT_TR_NOOP("; heights in {units}")).format(
                units=s['vertical_units'])
        kind = _tr(QT_TR_NOOP("geographic (degrees)")) if s.get("is_geographic") else ""
        units = units and _tr(QT_TR_NOOP("units: {units}")).format(units=units)
        name = crs_name(crs)  # (Chinese names of the national systems in Chinese)
        details = ", ".join(x for x in (epsg, units, kind) if x and x not in name)
        return f"{name} ({details})" if details else name
    except Exception:  # noqa: BLE001 - describing must never fail
        epsg = crs.to_epsg() if hasattr(crs, "to_epsg") else None
        return f"{getattr(crs, 'name', crs)}" + (f" (EPSG:{epsg})" if epsg else "")


def crs_code(crs: Any) -> str:
    """"EPSG:n" (or another authority code) of a CRS, else its name."""
    if crs is None:
        return ""
    from loaders.crs import crs_to_text

    ref = crs_to_text(crs)
    return ref if len(ref) < 40 else str(crs.name)


def format_coordinates(xyz: Any, crs: Any) -> str:
    """One point for the status bar: "lat 52.0012345° lon 4.3612345° h 45.20 m" in a
    geographic CRS, "X … Y … Z …" in a projected or geocentric one."""
    x, y, z = (float(v) for v in np.asarray(xyz, dtype=np.float64).ravel()[:3])
    if not all(np.isfinite((x, y, z))):
        return QtCore.QCoreApplication.translate("crs", "outside the area of this CRS")
    if crs is not None and crs.is_geographic:
        return f"lat {y:.7f}°  lon {x:.7f}°  h {z:.2f}"
    return f"X {x:.3f}  Y {y:.3f}  Z {z:.3f}"


class CrsDialog(QtWidgets.QDialog):
    """Choose the scene CRS and the second CRS for coordinates."""

    def __init__(self, scene_crs: Any, secondary: Any, layer_crss: list[Any],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, objectName="crsDialog")
        self.setWindowTitle(self.tr("Coordinate systems"))
        self.setMinimumWidth(560)
        layout = QtWidgets.QVBoxLayout(self)
        intro = QtWidgets.QLabel(self.tr(
            "Layers that know their CRS are transformed into the scene CRS (re-read in "
            "the background). Layers without a CRS are assumed to be in it."))
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QtWidgets.QFormLayout()
        self.scene_edit = QtWidgets.QComboBox(objectName="sceneCrs", editable=True)
        self.second_edit = QtWidgets.QComboBox(objectName="secondCrs", editable=True)
        seen: set[str] = set()
        for crs in layer_crss:
            code = crs_code(crs)
            if code and code not in seen:
                seen.add(code)
                self.scene_edit.addItem(code)
                self.second_edit.addItem(code)
        self.second_edit.insertItem(0, "")
        for code, _label in COMMON_CRS:
            if code not in seen:
                self.second_edit.addItem(code)
        self.scene_edit.setCurrentText(crs_code(scene_crs))
        self.second_edit.setCurrentText(crs_code(secondary))
        self.scene_info = QtWidgets.QLabel(objectName="sceneCrsInfo", wordWrap=True)
        self.second_info = QtWidgets.QLabel(objectName="secondCrsInfo", wordWrap=True)
        form.addRow(self.tr("Scene CRS"), self.scene_edit)
        form.addRow("", self.scene_info)
        form.addRow(self.tr("Also show coordinates in"), self.second_edit)
        form.addRow("", self.second_info)
        layout.addLayout(form)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok
                                                  | QtWidgets.QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.scene_edit.currentTextChanged.connect(self._validate)
        self.second_edit.currentTextChanged.connect(self._validate)
        self._validate()

    def _describe(self, text: str, label: QtWidgets.QLabel, empty: str) -> bool:
        try:
            crs = parse_crs(text)
        except ValueError as exc:
            label.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return False
        label.setText(empty if crs is None else describe_crs(crs))
        return True

    def _validate(self, *_args) -> None:
        ok = self._describe(self.scene_edit.currentText(), self.scene_info,
                            self.tr("none: the first georeferenced layer opened sets it"))
        ok &= self._describe(self.second_edit.currentText(), self.second_info,
                             self.tr("none: coordinates in the scene CRS only"))
        self.buttons.button(QtWidgets.QDialogButtonBox.Ok).setEnabled(ok)

    def values(self) -> tuple[Any, Any]:
        """(scene CRS, second CRS), pyproj CRSs or None."""
        return parse_crs(self.scene_edit.currentText()), \
            parse_crs(self.second_edit.currentText())



def interface_language() -> str:
    """The language of the interface ("zh_CN", "en"...): viewer.qt.i18n's choice when it
    has one, else the application's locale."""
    try:
        from . import i18n

        lang = getattr(i18n, "current_language", None)
        if callable(lang):
            return str(lang() or "en")
    except ImportError:
        pass
    return QtCore.QLocale().name()


def crs_name(crs: Any) -> str:
    """A CRS's name in the interface language (Chinese names for China's national
    systems when the interface is Chinese): see loaders.crs.crs_display_name."""
    from loaders.crs import crs_display_name

    return crs_display_name(crs, interface_language())


#: how many CRSs assigned before are offered first
RECENT_CRS_COUNT = 8


class AssignCrsDialog(QtWidgets.QDialog):
    """Assign a CRS to a layer whose file has none (or a wrong one): a searchable list
    (recent choices and China's national systems first, then pyproj's database) or a
    custom CRS typed as a PROJ string or WKT, checked at once by pyproj."""

    def __init__(self, layer_name: str, current: Any, recent: list[str],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, objectName="assignCrsDialog")
        self.setWindowTitle(self.tr("Assign a coordinate system"))
        self.setMinimumSize(620, 460)
        self.recent = list(recent)
        layout = QtWidgets.QVBoxLayout(self)
        intro = QtWidgets.QLabel(self.tr(
            "The coordinates of “{0}” are taken to be in the system chosen here (now: {1}); "
            "the layer is read again and transformed into the scene CRS.").format(
                layer_name, crs_name(current)), wordWrap=True)
        layout.addWidget(intro)
        self.search = QtWidgets.QLineEdit(objectName="crsSearch")
        self.search.setPlaceholderText(self.tr("Search: 4547, CGCS2000, 高斯, UTM 50N …"))
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.list = QtWidgets.QListWidget(objectName="crsList")
        layout.addWidget(self.list, 1)
        layout.addWidget(QtWidgets.QLabel(self.tr(
            "Or a custom system (a local city grid): a PROJ string or WKT")))
        self.custom = QtWidgets.QPlainTextEdit(objectName="customCrs")
        self.custom.setPlaceholderText("+proj=tmerc +lat_0=0 +lon_0=114.3 +k=1 +x_0=50000 "
                                       "+y_0=-3000000 +ellps=GRS80 +units=m +no_defs")
        self.custom.setMaximumHeight(70)
        layout.addWidget(self.custom)
        self.info = QtWidgets.QLabel(objectName="assignCrsInfo", wordWrap=True)
        layout.addWidget(self.info)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok
                                                  | QtWidgets.QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._timer = QtCore.QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.list.currentItemChanged.connect(lambda *_: self._validate())
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        self.custom.textChanged.connect(self._validate)
        self.refresh()

    def refresh(self) -> None:
        """Fill the list with the CRSs matching the search text."""
        from loaders.crs import search_crs

        self.list.clear()
        for code, name in search_crs(self.search.text(), recent=self.recent,
                                     lang=interface_language()):
            item = QtWidgets.QListWidgetItem(name if code in name else f"{name}  [{code}]")
            item.setData(QtCore.Qt.UserRole, code)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self._validate()

    def chosen_text(self) -> str:
        """The CRS chosen: the custom text when given, else the selected list entry."""
        custom = self.custom.toPlainText().strip()
        if custom:
            return custom
        item = self.list.currentItem()
        return str(item.data(QtCore.Qt.UserRole)) if item is not None else ""

    def _validate(self) -> bool:
        from loaders.crs import parse_user_crs

        ok = False
        text = self.chosen_text()
        if not text:
            self.info.setText(self.tr("Choose a system from the list or type one."))
        else:
            try:
                crs = parse_user_crs(text)
                self.info.setText(crs_name(crs))
                ok = True
            except ValueError as exc:
                self.info.setText(f"<span style='color:#c0392b'>{exc}</span>")
        self.buttons.button(QtWidgets.QDialogButtonBox.Ok).setEnabled(ok)
        return ok


def remember_crs(settings: Any, text: str) -> None:
    """Put ``text`` first in the recent CRS choices kept in ``settings``."""
    if settings is None or len(text) >= 200:  # (long WKT stays in the project only)
        return
    recent = recent_crs(settings)
    settings.setValue("recent_crs", ([text] + [c for c in recent if c != text])
                      [:RECENT_CRS_COUNT])


def recent_crs(settings: Any) -> list[str]:
    """The recent CRS choices kept in ``settings`` (newest first)."""
    if settings is None:
        return []
    stored = settings.value("recent_crs") or []
    return [str(c) for c in (stored if isinstance(stored, list) else [stored]) if c]


def assign_crs_to_layer(parent: QtWidgets.QWidget, session: Any, layer: Any,
                        settings: Any = None, text: str | None = None) -> Any:
    """Layer properties > Assign CRS…: ask for the CRS (``text`` given: no dialog), then
    read the layer again with it into the scene CRS. In the main window this is a
    background job with the progress bar and Cancel (:meth:`MainWindow.assign_layer_crs`),
    applied as one undoable edit when it finishes; elsewhere the core's
    :func:`viewer.pipeline.assign_crs` runs at once. Recent choices are kept in
    ``settings`` once a CRS is assigned. Returns the job (the window), True (done at
    once), or None (cancelled in the dialog, or refused with a message)."""
    from loaders import LoadError
    from viewer import pipeline

    if text is None:
        dialog = AssignCrsDialog(layer.name, layer.data.crs, recent_crs(settings), parent)
        if dialog.exec() != QtWidgets.QDialog.Accepted:
            return None
        text = dialog.chosen_text()
    title = QtCore.QCoreApplication.translate("crs", "Coordinate system not assigned")
    start = getattr(parent, "assign_layer_crs", None)
    if start is not None:
        try:
            job = start(layer, text)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(parent, title, str(exc))
            return None
        job.finished.connect(lambda _job, _data: remember_crs(settings, text))
        return job
    QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.WaitCursor)
    try:
        pipeline.assign_crs(session, layer, text)
    except (ValueError, LoadError) as exc:
        QtWidgets.QApplication.restoreOverrideCursor()
        QtWidgets.QMessageBox.warning(parent, title, str(getattr(exc, "message", exc)))
        return None
    QtWidgets.QApplication.restoreOverrideCursor()
    remember_crs(settings, text)
    return True
