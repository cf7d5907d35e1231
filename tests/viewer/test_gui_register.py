"""Align panel "Refine by ICP" in the real window: two epochs of a real scan (AHN3, B moved
by 0.5 deg about Z and 0.3 m), ICP in the background moves B back, RMSE and overlap shown,
undoable; Cancel leaves the layer where it was."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from tests.viewer.gui_support import open_and_wait  # noqa: E402


@pytest.fixture
def epochs(qtbot, window, shared_data, tmp_path):
    import laspy

    from loaders.georef import apply_matrix, similarity_from_values
    from viewer.qt.alignment import AlignmentPanel

    src = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    las = laspy.read(src)
    a = np.column_stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)])
    motion = similarity_from_values((0.3, -0.2, 0.0), (0, 0, 0.5), 1.0,
                                    (a.min(axis=0) + a.max(axis=0)) / 2)
    b = apply_matrix(motion, a) + np.random.default_rng(2).normal(0, 0.005, a.shape)
    las.x, las.y, las.z = b[:, 0], b[:, 1], b[:, 2]
    b_path = tmp_path / "epoch_b.laz"
    las.write(b_path)
    open_and_wait(qtbot, window, src, b_path)
    panel = AlignmentPanel(window.scene, window.session)
    qtbot.addWidget(panel)
    panel.show()
    moved = window.scene.layer_by_name("epoch_b.laz")
    reference = window.scene.layer_by_name("ahn3_cropped_2.laz")
    panel.set_layers(moved, reference)
    return panel, moved, reference, motion


def test_refine_by_icp_moves_b_back_and_undo(qtbot, window, epochs, tmp_path):
    from loaders.georef import apply_matrix

    panel, moved, reference, motion = epochs
    assert panel.icp_button.isEnabled() and not panel.icp_cancel_button.isEnabled()
    panel.icp_button.click()
    assert panel.icp_job is not None and panel.icp_cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.icp_job is None, timeout=120_000)
    result = panel.icp_result
    assert result is not None, panel.icp_label.text()
    xyz = moved.data.xyz()
    # the layer's transform undoes the motion: B's points land on A's within 1 cm
    err = apply_matrix(moved.transform, apply_matrix(motion, reference.data.xyz()[:5000]))
    assert np.abs(err - reference.data.xyz()[:5000]).max() < 0.01
    assert "RMSE 0.0" in panel.icp_label.text() and "overlap 100.0 %" in panel.icp_label.text()
    assert len(xyz) == moved.data.point_count
    window.grab().save(str(tmp_path / "icp.png"))
    panel.grab().save("/tmp/g18_align_panel.png")
    # undoable
    window.undo_action.trigger()
    assert np.allclose(moved.transform, np.eye(4))


def test_cancel_icp_leaves_the_layer(qtbot, window, epochs):
    panel, moved, _, _ = epochs
    panel.icp_button.click()
    panel.cancel_icp()
    qtbot.waitUntil(lambda: panel.icp_job is None, timeout=60_000)
    assert panel.icp_result is None
    assert np.allclose(moved.transform, np.eye(4))
    assert "cancelled" in panel.icp_label.text()


def test_icp_needs_two_point_clouds(qtbot, window, shared_data):
    from viewer.qt.alignment import AlignmentPanel

    obj = shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    open_and_wait(qtbot, window, obj, laz)
    panel = AlignmentPanel(window.scene, window.session)
    qtbot.addWidget(panel)
    panel.set_layers(window.scene.layer_by_name("testarea.obj"),
                     window.scene.layer_by_name("ahn3_cropped_2.laz"))
    assert panel.refine_by_icp() is False and panel.icp_job is None
