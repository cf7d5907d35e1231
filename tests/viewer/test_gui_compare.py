"""Tools > Compare epochs… in the real window: the AHN3 scan and a copy with a raised
patch (tests/heritage/test_change.py) compared in the background, epoch B coloured by
its change (red in the patch, near white elsewhere), the Change histogram, the colour
bar, "Export with change…" round-tripping, Cancel."""

from __future__ import annotations

import laspy
import numpy as np
import pytest
from PySide6 import QtWidgets

from tests.heritage.test_change import PATCH, SHIFT, ahn3, displaced, patch_mask  # noqa: F401
from tests.viewer.gui_support import open_and_wait, view_image

pytestmark = pytest.mark.gui


def _pixels(win, xyz):
    QtWidgets.QApplication.processEvents()
    view_image(win)  # the first grab after a camera change can show the frame before
    img = view_image(win).astype(int)
    h, w = img.shape[:2]
    xy = win.renderer.project(xyz)
    cols = np.clip(np.round(xy[:, 0]).astype(int), 0, w - 1)
    rows = np.clip(h - 1 - np.round(xy[:, 1]).astype(int), 0, h - 1)
    return img[rows, cols]


def test_compare_epochs_in_the_window(window, qtbot, displaced, shared_data,  # noqa: F811
                                      tmp_path):
    path_a = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    path_b = displaced[0]
    open_and_wait(qtbot, window, path_a, path_b)
    # (the two files load side by side: the layers' order is whichever finished first)
    la = window.scene.layer_by_name(path_a.name)
    lb = window.scene.layer_by_name(path_b.name)
    window.session.update_layer(la, visible=False)
    tools = window.change_tools
    dialog = tools.open_dialog()
    first, second = window.scene.layers  # the defaults: A the first layer, B the last
    assert (dialog.epoch_a.currentText(), dialog.epoch_b.currentText()) == (first.name,
                                                                            second.name)
    dialog.epoch_a.setCurrentText(la.name)
    dialog.epoch_b.setCurrentText(lb.name)
    dialog.method.setCurrentIndex(dialog.method.findData("c2c"))
    dialog.local_model.setCurrentIndex(dialog.local_model.findData("plane"))
    with qtbot.waitSignal(tools.compared, timeout=120_000):
        dialog.findChild(QtWidgets.QDialogButtonBox).button(
            QtWidgets.QDialogButtonBox.Ok).click()
    d = lb.data.attributes["c2c_distance"]
    assert len(d) == lb.data.point_count  # every point of the layer
    assert lb.color_mode == "attribute" and lb.attribute == "c2c_distance"
    assert window.scene.selected is lb
    # the Properties panel names the diverging map the layer is drawn with
    assert window.properties_panel.colormap.currentText() == lb.colormap == "rdbu_r"
    from viewer import legend

    bar = legend.overlay_for_layer(lb)
    assert bar.kind == "bar" and bar.info.vmin == -bar.info.vmax
    # the Properties panel's contrast: the upper percentile 99.9 reaches the patch
    window.properties_panel.contrast_hi.setValue(99.9)
    assert lb.contrast[1] == pytest.approx(99.9)
    qtbot.wait(500)  # the Change dock shown: the view settles at its new size
    window.view_preset("top")
    qtbot.wait(200)
    xyz = lb.data.xyz()
    inner = np.flatnonzero(patch_mask(xyz, -2.0))
    rng = np.random.default_rng(1)
    pick_in = xyz[rng.choice(inner, 40, replace=False)]
    outside = np.flatnonzero(~patch_mask(xyz, 3.0) & (np.abs(d) < 0.01))
    pick_out = xyz[rng.choice(outside, 200, replace=False)]
    window.plotter.screenshot(str(tmp_path / "change.png"))
    red = _pixels(window, pick_in)
    assert np.median(red[:, 0] - red[:, 2]) > 60  # gain: red
    white = _pixels(window, pick_out)
    assert np.median(white.min(axis=1)) > 200  # no change: near white
    window.plotter.screenshot(str(tmp_path / "change.png"))
    # the histogram of the selected layer
    panel = tools.panel
    assert panel.stats is not None and sum(panel.view.counts) == len(d)
    assert "Median" in panel.summary.text() or "中位" in panel.summary.text()
    assert abs(np.median(d[inner]) - SHIFT) < 0.01
    image = panel.view.grab().toImage()
    assert not image.isNull() and image.width() > 50
    # export B with its distances
    out = tools.export_dialog(str(tmp_path / "b_change.laz"))
    las = laspy.read(str(out))
    assert len(las.x) == len(lb.data.xyz())
    fx = np.column_stack([las.x, las.y, las.z])
    fd = np.asarray(las["c2c_distance"])
    assert abs(np.median(fd[patch_mask(fx, -2.0)]) - SHIFT) < 0.01
    np.testing.assert_allclose(np.sort(fd), np.sort(d), atol=1e-9)
    # M3C2 in the background, cancelled: nothing changes
    job = tools.start(la, lb, "m3c2", {"cyl_radius": 0.5}, True)
    with qtbot.waitSignal(job.cancelled, timeout=60_000):
        window.cancel_loads()
    assert "m3c2_distance" not in lb.data.attributes and not window.jobs
