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

from loaders.crs import parse_crs_text

#: second systems offered in the dialog besides the layers' own
COMMON_CRS = (("EPSG:4326", "WGS 84 latitude / longitude"),
              ("EPSG:4979", "WGS 84 latitude / longitude / ellipsoidal height"),
              ("EPSG:4978", "WGS 84 geocentric (ECEF)"))


parse_crs = parse_crs_text  # (the one parser, in loaders.crs)


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
        from .panels import describe_crs

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

