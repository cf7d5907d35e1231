"""CGCS2000 in the real window: LASes tagged EPSG:4526 (zone 38, eastings with the zone
prefix, WKT record) and EPSG:4547 (CM 114°E, GeoTIFF keys) open in place and a picked
point's coordinates show in the status bar to the millimetre; a survey without CRS gets
EPSG:4547 from the searchable list of the Assign CRS dialog, read again in the background
(progress bar, Cancel; cancel keeps the layer), undo/redo, saved, reopened; ``open --crs``
opens a file in the CRS given; the status bar names the scene CRS in Chinese."""

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
    with qtbot.waitSignal(window.all_loads_finished, timeout=30_000):
        panels[0].click()
        # read again in the background: the window's progress bar and Cancel meanwhile
        assert window.jobs and window.progress.isVisible()
        assert window.cancel_button.isVisible() and layer.loading
    assert not layer.loading and not window.progress.isVisible()
    assert epsg_code(layer.data.crs) == 4547 and epsg_code(window.scene.crs) == 4547
    np.testing.assert_allclose(layer.data.bounds[0], xyz.min(axis=0), atol=5e-4)
    # (remembered when the job's own finished signal reaches the dialog's slot: queued)
    from viewer.qt.crs import recent_crs

    qtbot.waitUntil(lambda: recent_crs(window.settings)[:1] == ["EPSG:4547"], timeout=30_000)
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


def test_cancel_leaves_the_layer_as_it_was(qtbot, window, tmp_path):
    """Cancel pressed while the file is read again: no edit, the layer's data, CRS and
    scene CRS as before; assigning again then works."""
    path = tmp_path / "no crs.las"
    write_survey_las(path, None, prefixed=False)
    open_and_wait(qtbot, window, path)
    layer = window.scene.layers[0]
    data, steps = layer.data, window.session.undo.can_undo()

    with qtbot.waitSignal(window.all_loads_finished, timeout=30_000):
        job = window.assign_layer_crs(layer, "EPSG:4547")
        # Cancel at once: whether or not the reader thread has finished, its result is
        # taken on the GUI thread, after this click
        assert window.cancel_button.isVisible()
        window.cancel_button.click()
    assert job.is_cancelled
    assert layer.data is data and layer.data.crs is None and window.scene.crs is None
    assert not layer.loading and window.session.undo.can_undo() == steps
    with qtbot.waitSignal(window.all_loads_finished, timeout=30_000):
        window.assign_layer_crs(layer, "EPSG:4547")
    assert epsg_code(layer.data.crs) == 4547
    window.session.undo.undo()
    assert layer.data is data


def test_assign_refused_while_the_layer_is_read_and_for_bad_text(qtbot, window, tmp_path):
    path = tmp_path / "no crs.las"
    write_survey_las(path, None, prefixed=False)
    open_and_wait(qtbot, window, path)
    layer = window.scene.layers[0]
    with pytest.raises(ValueError, match="not a coordinate reference system"):
        window.assign_layer_crs(layer, "+proj=bogus")
    with qtbot.waitSignal(window.all_loads_finished, timeout=30_000):
        window.assign_layer_crs(layer, "EPSG:4547")
        with pytest.raises(ValueError, match="being read"):
            window.assign_layer_crs(layer, "EPSG:4526")
    assert epsg_code(layer.data.crs) == 4547


def test_open_with_a_crs_given_and_the_crs_kept_when_the_scene_crs_changes(
        qtbot, window, tmp_path):
    """``realscene open FILE --crs EPSG:4547`` (run_app -> open_paths): the file is read
    in that CRS and the CRS is saved as the layer's; a later scene-CRS change re-reads
    the file with it (not as a file without CRS)."""
    path = tmp_path / "survey.las"
    xyz = write_survey_las(path, None, prefixed=False)
    with qtbot.waitSignal(window.all_loads_finished, timeout=30_000):
        window.open_paths([str(path)], assign_crs={str(path): "EPSG:4547"})
    layer = window.scene.layers[0]
    assert epsg_code(layer.data.crs) == 4547 and epsg_code(window.scene.crs) == 4547
    assert window.session.record_layer(layer).crs == "EPSG:4547"
    with qtbot.waitSignal(window.all_loads_finished, timeout=30_000):
        ok, message = window.set_scene_crs("EPSG:4526")
    assert ok, message
    assert epsg_code(layer.data.crs) == 4526
    # the same place, with the zone number 38 before the easting
    np.testing.assert_allclose(layer.data.bounds[0][0], xyz[:, 0].min() + 38_000_000,
                               atol=0.05)


def test_status_bar_names_the_scene_crs_in_chinese(qtbot, window, tmp_path):
    from viewer.qt import i18n

    path = tmp_path / "survey.las"
    write_survey_las(path, 4547, prefixed=False)
    open_and_wait(qtbot, window, path)
    assert "EPSG:4547" in window.crs_button.text()
    assert "高斯" not in window.crs_button.text()
    try:
        window.set_language("zh")
        text = window.crs_button.text()
        assert "高斯-克吕格" in text and "114°E" in text and "EPSG:4547" in text, text
    finally:
        window.set_language("en")
        i18n.install("en")
    assert "高斯" not in window.crs_button.text()
