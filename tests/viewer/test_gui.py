"""The real main window, driven under Xvfb with pytest-qt.

Each test opens real files from ../shared/data through the window's own code paths
(background loads, panels, menus) and checks the widgets and the rendered pixels.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

import loaders  # noqa: E402
from tests.viewer.gui_support import (  # noqa: E402
    LOAD_TIMEOUT_MS,
    background_u8,
    non_background_fraction,
    open_and_wait,
    view_image,
)


def test_open_laz_shows_layer_points_and_crs(qtbot, window, shared_data):
    path = shared_data / "pointclouds" / "autzen_trim.laz"
    open_and_wait(qtbot, window, path)
    tree = window.layer_panel.tree
    assert tree.topLevelItemCount() == 1
    item = tree.topLevelItem(0)
    assert item.text(0) == "autzen_trim.laz"
    assert item.text(2) == "110,000"
    img = view_image(window)
    assert non_background_fraction(img, background_u8(window)) > 0.05
    crs_text = window.properties_panel.crs.text()
    assert "foot" in crs_text.lower() or "ft" in crs_text.lower()


def test_colour_mode_change_recolours_view(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen_trim.laz")
    combo = window.properties_panel.color_mode
    before = view_image(window)
    idx = combo.findData("classification")
    assert idx >= 0
    combo.setCurrentIndex(idx)
    qtbot.wait(50)
    layer = window.scene.layers[0]
    assert layer.color_mode == "classification"
    after = view_image(window)
    # ground (class 2) is drawn in the ASPRS ground colour somewhere in the view
    from viewer.colors import class_legend

    legend = {code: rgb for code, name, rgb, count in class_legend(layer)}
    ground = np.array(legend[2], dtype=int)
    close = (np.abs(after.astype(int) - ground).sum(axis=2) < 40).mean()
    assert close > 0.01
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 1.0
    # the class list offers a toggle per class; hiding ground removes its colour
    classes = window.properties_panel.classes
    codes = [classes.item(i).data(QtCore.Qt.UserRole) for i in range(classes.count())]
    assert codes == [1, 2]
    classes.item(codes.index(2)).setCheckState(QtCore.Qt.Unchecked)
    qtbot.wait(50)
    assert layer.hidden_classes == {2}
    hidden = view_image(window)
    close_hidden = (np.abs(hidden.astype(int) - ground).sum(axis=2) < 40).mean()
    assert close_hidden < close / 4


def test_pick_point_shows_full_precision_coordinates(qtbot, window, shared_data):
    path = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    open_and_wait(qtbot, window, path)
    window.view_preset("top")
    w, h = window.plotter.window_size
    view = window.plotter.interactor
    # a real click (press + release without moving) in the middle of the 3D view
    centre = QtCore.QPoint(view.width() // 2, view.height() // 2)
    qtbot.mouseClick(view, QtCore.Qt.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: window.scene.last_pick is not None, timeout=10_000)
    pick = window.scene.last_pick
    data = loaders.read(path)
    # the LOD octree reorders the layer's points: the index is into the layer's data
    layer = window.scene.layers[0]
    true = layer.data.xyz()[pick.index]
    np.testing.assert_allclose(pick.xyz, true, atol=1e-6)
    # ... and the point is a point of the file, to the micrometre
    assert np.min(np.abs(data.xyz() - true).max(axis=1)) < 1e-6
    assert pick.attributes["intensity"] == layer.data.attributes["intensity"][pick.index]
    text = window.pick_label.text()
    # shown to the file's precision: its LAS scale factor is 0.001, so three decimals
    assert data.metadata["scale"][0] == 0.001
    assert f"X {true[0]:.3f}  Y {true[1]:.3f}  Z {true[2]:.3f}" in text
    assert "classification=" in text and "intensity=" in text
    # the picked point is near the view centre: within 5 % of the data extent
    lo, hi = data.bounds
    assert 85_000 <= pick.xyz[0] <= 85_073 and 447_412 <= pick.xyz[1] <= 447_642


def test_visibility_checkbox_hides_layer(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "meshes" / "gargo.ply")
    # only the data: no gizmo, scale bar or arrow over it (they stay when layers hide)
    window.scene.set_decorations(axes=False, scale_bar=False, north_arrow=False)
    bg = background_u8(window)
    assert non_background_fraction(view_image(window), bg) > 0.05
    item = window.layer_panel.tree.topLevelItem(0)
    item.setCheckState(0, QtCore.Qt.Unchecked)
    qtbot.wait(50)
    assert window.scene.layers[0].visible is False
    assert non_background_fraction(view_image(window), bg) < 0.001


def test_corrupt_file_shows_error_and_keeps_other_layers(qtbot, window, shared_data):
    good = shared_data / "pointclouds" / "autzen-bmx-2010.las"
    bad = shared_data / "corrupt" / "garbage_nVariableLength.las"
    open_and_wait(qtbot, window, good, bad)
    assert [l.name for l in window.scene.layers] == ["autzen-bmx-2010.las"]
    assert len(window.errors) == 1 and "garbage_nVariableLength.las" in window.errors[0]
    dialogs = [w for w in QtWidgets.QApplication.topLevelWidgets()
               if w.objectName() == "loadErrorDialog" and w.isVisible()]
    assert dialogs and "garbage_nVariableLength.las" in dialogs[0].text()
    for d in dialogs:
        d.close()


def test_cancel_button_stops_loading(qtbot, window, shared_data):
    window.open_paths([shared_data / "pointclouds" / "ahn3_cropped_2.laz"])
    assert window.cancel_button.isVisible() and window.progress.isVisible()
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        qtbot.mouseClick(window.cancel_button, QtCore.Qt.LeftButton)
    assert window.scene.layers == []
    assert not window.cancel_button.isVisible()


def test_drop_files_opens_them(qtbot, window, shared_data):
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(shared_data / "meshes" /
                                                 "no_indices_3storybuilding.glb"))])
    pos = QtCore.QPointF(100, 100)
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        event = QtGui.QDropEvent(pos, QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                                 QtCore.Qt.NoModifier)
        window.dropEvent(event)
    assert [l.name for l in window.scene.layers] == ["no_indices_3storybuilding.glb"]
    assert window.recent_files()[0].endswith("no_indices_3storybuilding.glb")
    assert window.recent_menu.actions()[0].text() == "no_indices_3storybuilding.glb"


def test_background_edl_and_camera_presets(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen_trim.laz")
    window.set_background((1.0, 1.0, 1.0))
    img = view_image(window)
    assert (img[2, 2] > 245).all()
    plain = view_image(window)
    window.edl_action.trigger()
    assert window.scene.edl is True
    edl = view_image(window)
    assert np.abs(edl.astype(int) - plain.astype(int)).mean() > 0.5
    window.view_actions["top"].trigger()
    cam = window.plotter.camera
    direction = np.array(cam.focal_point) - np.array(cam.position)
    direction /= np.linalg.norm(direction)
    assert direction[2] < -0.99
    window.view_actions["front"].trigger()
    direction = np.array(window.plotter.camera.focal_point) - np.array(
        window.plotter.camera.position)
    assert abs(direction[2]) / np.linalg.norm(direction) < 0.01


def test_layer_reorder_and_remove(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen-bmx-2010.las")
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "permutations_1.2_2.las")
    # Oregon and UTM 15N are far apart: the window asks (issue 17); add it anyway
    window.project_actions.fit_box.findChild(QtWidgets.QPushButton, "addAnyway").click()
    qtbot.waitUntil(lambda: len(window.scene.layers) == 2)
    names = lambda: [l.name for l in window.scene.layers]  # noqa: E731
    assert names() == ["autzen-bmx-2010.las", "permutations_1.2_2.las"]
    window.layer_panel.tree.setCurrentItem(window.layer_panel.tree.topLevelItem(1))
    qtbot.mouseClick(window.layer_panel.up_button, QtCore.Qt.LeftButton)
    assert names() == ["permutations_1.2_2.las", "autzen-bmx-2010.las"]
    qtbot.mouseClick(window.layer_panel.remove_button, QtCore.Qt.LeftButton)
    assert names() == ["autzen-bmx-2010.las"]
    assert window.layer_panel.tree.topLevelItemCount() == 1


def test_window_layout_is_remembered(qtbot, tmp_path):
    from viewer.qt.main_window import MainWindow

    ini = str(tmp_path / "layout.ini")
    first = MainWindow(settings=QtCore.QSettings(ini, QtCore.QSettings.IniFormat))
    qtbot.addWidget(first)
    first.resize(1000, 700)
    first.show()
    qtbot.waitExposed(first)
    first.properties_dock.hide()
    size = (first.width(), first.height())  # (the toolbar rows may round it by a few px)
    # (the toolbar rows may make it taller than asked: at most a third row of tools)
    assert abs(size[0] - 1000) <= 8 and 0 <= size[1] - 700 <= 40
    first.close()
    second = MainWindow(settings=QtCore.QSettings(ini, QtCore.QSettings.IniFormat))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert (second.width(), second.height()) == size
    assert not second.properties_dock.isVisible()
    second.close()


def test_screenshot_larger_than_window(qtbot, window, shared_data, tmp_path):
    open_and_wait(qtbot, window, shared_data / "meshes" / "gargo.ply")
    out = window.renderer.screenshot(tmp_path / "big.png", size=(2000, 1500))
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (2000, 1500)


def test_snapshot_command_saves_the_whole_window(shared_data, tmp_path):
    out = tmp_path / "window.png"
    path = shared_data / "pointclouds" / "autzen_trim.laz"
    proc = subprocess.run([sys.executable, "-m", "viewer.cli", "open", str(path),
                           "--snapshot", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    with Image.open(out) as im:
        img = np.asarray(im.convert("RGB"))
    assert img.shape[0] > 400 and img.shape[1] > 600
    # the 3D view (right of the docks) shows coloured points, not an empty background
    view = img[img.shape[0] // 3: 2 * img.shape[0] // 3, img.shape[1] // 2:]
    assert len(np.unique(view.reshape(-1, 3), axis=0)) > 50


def test_saved_view_restores_camera(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen-bmx-2010.las")
    window.view_preset("top")
    top_position = np.array(window.plotter.camera.position)
    window.save_view("Overview from above")
    assert window.views_menu.actions()[0].text() == "Overview from above"
    window.view_preset("side")
    assert np.linalg.norm(np.array(window.plotter.camera.position) - top_position) > 1
    window.views_menu.actions()[0].trigger()
    np.testing.assert_allclose(window.plotter.camera.position, top_position, atol=1e-3)
    # the scene keeps the view in true coordinates (the file's CRS), not VTK's local ones
    view = window.scene.views[0]
    assert abs(view.camera.focal_point[0] - window.scene.origin[0]) < 1e4
    assert abs(view.camera.focal_point[0]) > 1e5


def test_saved_view_is_undoable_and_in_the_project(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen-bmx-2010.las")
    window.save_view("North")
    assert [v.name for v in window.session.project.views] == ["North"]
    window.undo_action.trigger()
    assert window.scene.views == [] and window.session.project.views == []
    assert not window.views_menu.isEnabled()


def test_layer_property_changes_undo(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen_trim.laz")
    layer = window.scene.layers[0]
    combo = window.properties_panel.color_mode
    combo.setCurrentIndex(combo.findData("classification"))
    window.properties_panel.point_size.setValue(6)
    assert layer.color_mode == "classification" and layer.point_size == 6
    window.undo_action.trigger()
    assert layer.point_size == 2
    window.undo_action.trigger()
    assert layer.color_mode == "rgb"
    assert combo.currentData() == "rgb"  # the panel follows the undo
