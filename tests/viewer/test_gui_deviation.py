"""Tools > Scan vs model… in the real window: the AHN3 crop against the Delft CityJSON."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from tests.viewer.gui_support import open_and_wait, view_image  # noqa: E402


def _layers(window):
    scan = next(la for la in window.scene.layers if la.kind == "pointcloud")
    model = next(la for la in window.scene.layers if la.is_feature_model)
    return scan, model


def test_scan_vs_model_in_the_window(qtbot, window, shared_data, tmp_path):
    from heritage.monitoring.deviation import DISTANCE_FIELD, OBJECT_ATTRIBUTE, deviation

    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz",
                  shared_data / "citymodels" / "delft.city.json")
    scan, model = _layers(window)
    tools = window.deviation_tools
    menu = window.menuBar().findChild(QtWidgets.QMenu, "toolsMenu")
    assert tools.action in menu.actions()
    before = view_image(window)

    # a cancelled run changes nothing
    job = tools.start(scan, model, 0.5, 5.0)
    job.cancel()
    qtbot.waitUntil(lambda: job.done, timeout=60_000)
    assert DISTANCE_FIELD not in scan.data.attributes and scan.color_mode != "attribute"

    # the dialog: the city model is proposed, tolerance 0.5 m, Measure
    dialog = tools.open_dialog()
    assert dialog.models[dialog.model.currentIndex()] is model
    assert dialog.scans[dialog.scan.currentIndex()] is scan
    dialog.tolerance.setValue(0.5)
    with qtbot.waitSignal(tools.measured, timeout=120_000) as blocker:
        dialog.findChild(QtWidgets.QDialogButtonBox).button(
            QtWidgets.QDialogButtonBox.Ok).click()
    result = blocker.args[0]
    qtbot.waitUntil(lambda: not window.loading, timeout=10_000)
    ref = deviation(scan.data.xyz(), model.data, tolerance=0.5, max_distance=5.0)
    np.testing.assert_allclose(result.distance, ref.distance)

    # the scan coloured by its signed distance (diverging), the objects by the share
    # beyond the tolerance
    assert scan.color_mode == "attribute" and scan.attribute == DISTANCE_FIELD
    assert scan.colormap == "rdbu_r"
    assert len(scan.data.attributes[DISTANCE_FIELD]) == scan.data.point_count
    assert model.color_mode == "attribute" and model.attribute == OBJECT_ATTRIBUTE
    after = view_image(window)
    assert np.abs(after.astype(int) - before.astype(int)).sum(axis=2).mean() > 5

    # the Objects panel lists every measured object, sortable by number
    panel = window.objects_panel
    window.objects_dock.show()
    assert panel.layer is model
    table = panel.deviation.table
    assert panel.deviation.isVisibleTo(panel)
    assert table.topLevelItemCount() == len(result.objects)
    table.sortByColumn(2, QtCore.Qt.DescendingOrder)  # points
    counts = [table.topLevelItem(i).data(2, QtCore.Qt.UserRole)
              for i in range(table.topLevelItemCount())]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == result.objects[0].points
    table.sortByColumn(7, QtCore.Qt.DescendingOrder)  # beyond tolerance
    shares = [table.topLevelItem(i).data(7, QtCore.Qt.UserRole)
              for i in range(table.topLevelItemCount())]
    assert shares == sorted(shares, reverse=True)

    # selecting a row selects that object (and shows it)
    building = next(o for o in result.objects if o.type == "Building")
    row = next(table.topLevelItem(i) for i in range(table.topLevelItemCount())
               if table.topLevelItem(i).text(0) == building.key)
    table.setCurrentItem(row)
    qtbot.waitUntil(lambda: window.scene.selected_feature is not None
                    and window.scene.selected_feature[1] == building.key, timeout=5_000)
    assert row.text(1) == "Building" and row.text(2) == f"{building.points:,}"
    props = panel.properties
    names = [props.topLevelItem(i).text(0) for i in range(props.topLevelItemCount())]
    assert names  # the object's properties (its deviation attribute among them)
    window.renderer.render()
    QtWidgets.QApplication.processEvents()
    window.grab().save(str(tmp_path / "deviation.png"))
    if (out := pytest.importorskip("os").environ.get("REALSCENE_SNAPSHOT_DIR")):
        window.grab().save(f"{out}/deviation.png")
