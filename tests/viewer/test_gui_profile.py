"""Tools > Profile… in the real window: the section line by two clicks in the 3D view,
the width changed live, a measurement clicked on the plot and saved to the project
(undoable), exports; the same points as the core cut of the files."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from tests.viewer.gui_support import open_and_wait  # noqa: E402


def canvas_click(qtbot, panel, distance, height):
    x, y = panel.axes.transData.transform((distance, height))
    ratio = panel.canvas.device_pixel_ratio or 1.0
    pos = QtCore.QPoint(int(round(x / ratio)), int(round(panel.canvas.height() - y / ratio)))
    qtbot.mouseClick(panel.canvas, QtCore.Qt.LeftButton, pos=pos)
    QtWidgets.QApplication.processEvents()


def test_profile_panel_line_width_measure_export(qtbot, window, shared_data, tmp_path):
    from heritage.monitoring.profile import profile_files

    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    obj = shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
    open_and_wait(qtbot, window, laz, obj)
    action = window.findChild(QtWidgets.QMenu, "toolsMenu").actions()
    assert window.profile_tools.action in action
    window.profile_tools.action.trigger()
    panel = window.profile_tools.panel
    qtbot.waitExposed(panel)
    assert not panel.export_buttons["png"].isEnabled()
    window.view_preset("top")
    window.renderer.render()
    panel.pick_button.setChecked(True)
    window.raise_()  # the view on top where it is clicked (picking reads what is drawn)
    window.activateWindow()
    QtWidgets.QApplication.processEvents()
    from viewer.scene import pick_info

    scan = window.scene.layer_by_name("ahn3_cropped_2.laz")
    xyz = scan.data.xyz()
    ia = int(np.argmin(np.hypot(xyz[:, 0] - 85000, xyz[:, 1] - 447450)))
    ib = int(np.argmin(np.hypot(xyz[:, 0] - 85060, xyz[:, 1] - 447600)))
    a, b = pick_info(scan, ia), pick_info(scan, ib)
    window.scene.set_pick(a)  # two picks in the view, as a click makes them
    window.scene.set_pick(b)
    assert a is not None and b is not None
    assert not panel.pick_button.isChecked() and panel.line is not None
    assert panel.line.start == pytest.approx(tuple(a.xyz[:2]))
    assert panel.line.end == pytest.approx(tuple(b.xyz[:2]))
    first = panel.profile
    assert first.point_count > 100 and first.segment_count > 0
    # the same as the core's cut of the files
    same = profile_files([laz, obj], panel.line)
    assert first.point_count == same.point_count
    assert first.segment_count == same.segment_count
    # the width: cut again at once, wider holds more
    panel.width_box.setValue(3.0)
    assert panel.line.half_width == pytest.approx(1.5)
    assert panel.profile.point_count > first.point_count
    assert f"{panel.profile.point_count:,} points" in panel.status.text()
    # a measurement: two clicks on the plot, snapped to profile points
    prof = panel.profile
    pts = prof.points[0]
    i, j = int(np.argmin(pts.distance)), int(np.argmax(pts.height))
    qtbot.mouseClick(panel.measure_button, QtCore.Qt.LeftButton)
    assert panel.measure_button.isChecked()
    canvas_click(qtbot, panel, pts.distance[i], pts.height[i])
    canvas_click(qtbot, panel, pts.distance[j], pts.height[j])
    assert len(panel.measurements) == 1 and panel.measure_list.count() == 1
    m = panel.measurements[0]
    sx, sy = panel._pixel_scale()  # snapped to a profile point within a pixel or two
    assert abs(m.a[0] - pts.distance[i]) <= 2 * sx and abs(m.a[1] - pts.height[i]) <= 2 * sy
    assert abs(m.b[0] - pts.distance[j]) <= 2 * sx and abs(m.b[1] - pts.height[j]) <= 2 * sy
    assert panel.measure_list.item(0).text() == m.label(prof.units)
    # saved to the project as a distance measurement: its value is the slope distance
    before = len(window.session.project.measurements)
    qtbot.mouseClick(panel.save_button, QtCore.Qt.LeftButton)
    saved = window.session.project.measurements[before:]
    assert len(saved) == 1 and saved[0].kind == "distance"
    assert saved[0].value == pytest.approx(m.slope_distance, abs=1e-6)
    window.undo_action.trigger()
    assert len(window.session.project.measurements) == before
    # exports
    for fmt in ("png", "svg", "csv"):
        out = panel.export(tmp_path / f"p.{fmt}")
        assert out.stat().st_size > 500
    assert panel.export_buttons["png"].isEnabled()
    panel.grab().save(str(tmp_path / "panel.png"))
    import os

    if os.environ.get("REALSCENE_PROFILE_SNAPSHOT"):
        panel.grab().save(os.environ["REALSCENE_PROFILE_SNAPSHOT"])


def test_profile_from_polyline_annotation(qtbot, window, shared_data):
    from heritage.model import Annotation

    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    open_and_wait(qtbot, window, laz)
    panel = window.profile_tools.open_panel()
    window.session.add_annotation(Annotation(
        kind="polyline", title="section A", points=[[85000.0, 447450.0, 0.0],
                                                    [85030.0, 447520.0, 0.0],
                                                    [85060.0, 447600.0, 0.0]]))
    assert panel.annotation_box.count() == 1 and panel.annotation_box.itemText(0) == "section A"
    qtbot.mouseClick(panel.use_annotation, QtCore.Qt.LeftButton)
    assert panel.line.start == (85000.0, 447450.0) and panel.line.end == (85060.0, 447600.0)
    assert panel.profile.point_count > 500
