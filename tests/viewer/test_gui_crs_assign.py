"""CGCS2000 in the real window: LASes tagged EPSG:4526 (zone 38, eastings with the zone
prefix, WKT record) and EPSG:4547 (CM 114°E, GeoTIFF keys) open in place and a picked
point's coordinates show in the status bar to the millimetre; a survey without CRS gets
EPSG:4547 from the searchable list of the Assign CRS dialog, undo/redo, saved, reopened."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from loaders.crs import epsg_code  # noqa: E402
from tests.loaders.test_cgcs2000 import write_survey_las  # noqa: E402
from tests.viewer.gui_support import click, open_and_wait  # noqa: E402


@pytest.mark.parametrize("code,prefixed,version", [(4526, True, "1.4"),
                                                    (4547, False, "1.2")])
def test_pick_to_the_millimetre(qtbot, window, tmp_path, code, prefixed, version):
    path = tmp_path / f"survey_{code}.las"
    xyz = write_survey_las(path, code, prefixed=prefixed, version=version)
    open_and_wait(qtbot, window, path)
    assert epsg_code(window.scene.crs) == code
    layer = window.scene.layers[0]
    window.scene.update(layer, point_size=12.0)
    window.renderer.fit()
    window.renderer.render()
    pick = None
    for fx, fy in ((0.5, 0.5), (0.45, 0.5), (0.55, 0.5), (0.5, 0.45), (0.5, 0.55)):
        pick = click(qtbot, window, fx, fy)
        if pick is not None:
            break
    assert pick is not None, "no point under the clicks"
    expected = xyz[pick.index]
    text = window.pick_label.text()
    for axis, value in zip("XYZ", expected, strict=True):
        assert f"{axis} {value:.3f}" in text, (text, expected)
    if prefixed:
        assert f"X {expected[0]:.3f}".startswith("X 385")
    window.scene.select(layer)
    assert f"EPSG:{code}" in window.properties_panel.crs.text()


def test_assign_crs_from_the_list_undo_save_reopen(qtbot, window, tmp_path):
    path = tmp_path / "勘测 no crs.las"
    xyz = write_survey_las(path, None, prefixed=False)
    open_and_wait(qtbot, window, path)
    layer = window.scene.layers[0]
    assert layer.data.crs is None
    window.scene.select(layer)
    panels = [w for w in window.findChildren(QtWidgets.QPushButton, "assignCrs")]
    assert panels and panels[0].isEnabled()

    def choose():
        dialog = QtWidgets.QApplication.activeModalWidget()
        assert dialog is not None and dialog.objectName() == "assignCrsDialog"
        dialog.search.setText("CGCS2000 114E")
        dialog.refresh()
        codes = [dialog.list.item(i).data(QtCore.Qt.UserRole)
                 for i in range(dialog.list.count())]
        row = codes.index("EPSG:4547")
        dialog.list.setCurrentRow(row)
        assert "EPSG:4547" in dialog.info.text()
        dialog.accept()

    QtCore.QTimer.singleShot(300, choose)
    panels[0].click()
    qtbot.waitUntil(lambda: layer.data.crs is not None, timeout=20_000)
    assert epsg_code(layer.data.crs) == 4547 and epsg_code(window.scene.crs) == 4547
    np.testing.assert_allclose(layer.data.bounds[0], xyz.min(axis=0), atol=5e-4)
    assert window.settings.value("recent_crs")[0] == "EPSG:4547"
    window.session.undo.undo()
    assert layer.data.crs is None and window.scene.crs is None
    window.session.undo.redo()
    assert epsg_code(layer.data.crs) == 4547
    project = tmp_path / "项目.realscene.json"
    window.session.save(project)
    window.project_actions.open_project(str(project))
    qtbot.waitUntil(lambda: bool(window.scene.layers) and not window.scene.layers[0].loading,
                    timeout=30_000)
    assert epsg_code(window.scene.layers[0].data.crs) == 4547
    assert epsg_code(window.scene.crs) == 4547


def test_invalid_custom_crs_is_refused_in_the_dialog(qtbot, window):
    from viewer.qt.crs import AssignCrsDialog

    dialog = AssignCrsDialog("scan.las", None, [], window)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QtWidgets.QDialogButtonBox.Ok)
    dialog.custom.setPlainText("+proj=bogus +x=1")
    assert not ok.isEnabled() and "not a coordinate reference system" in dialog.info.text()
    dialog.custom.setPlainText("+proj=tmerc +lat_0=0 +lon_0=114.3 +k=1 +x_0=50000 "
                               "+y_0=-3000000 +ellps=GRS80 +units=m +no_defs")
    assert ok.isEnabled() and "custom" in dialog.info.text()
