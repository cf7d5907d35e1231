"""Aligning a layer onto another in the real window: by values, by point pairs (typed
and clicked), undo, and the transform saved in the project file."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore  # noqa: E402

from tests.viewer.gui_support import click, open_and_wait  # noqa: E402


@pytest.fixture
def site(qtbot, window, shared_data):
    from viewer.qt.alignment import AlignmentPanel

    obj = shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    open_and_wait(qtbot, window, obj, laz)
    messages: list[str] = []
    panel = AlignmentPanel(window.scene, window.session, status=messages.append)
    qtbot.addWidget(panel)
    panel.show()
    mesh = window.scene.layer_by_name("testarea.obj")
    cloud = window.scene.layer_by_name("ahn3_cropped_2.laz")
    panel.set_layers(mesh, cloud)
    assert panel.moved_layer() is mesh and panel.reference_layer() is cloud
    return panel, mesh, cloud, messages


def test_fit_point_pairs_aligns_back_undo_and_save(qtbot, window, site, tmp_path):
    from heritage.project import Project
    from loaders.georef import apply_matrix, similarity_from_values

    panel, mesh, cloud, _ = site
    centre = panel.pivot()
    wrong = similarity_from_values(translate=(12, -7, 3), rotate_deg=(0, 0, 4), pivot=centre)
    window.session.update_layer(mesh, transform=wrong)
    # the value boxes follow the layer's transform
    assert [b.value() for b in panel.translate] == pytest.approx([12, -7, 3], abs=1e-3)
    assert panel.rotate[2].value() == pytest.approx(4.0, abs=1e-4)
    assert panel.scale.value() == pytest.approx(1.0)
    # pairs: the vertices where they are shown now -> where they belong (file coords)
    xyz = mesh.data.xyz()
    idx = np.linspace(0, len(xyz) - 1, 5).astype(int)
    assert len({tuple(p) for p in xyz[idx]}) == 5
    for i, p in enumerate(xyz[idx]):
        panel.add_pair(apply_matrix(mesh.transform, p)[0], p)
        if i < 2:
            assert panel.fit_matrix is None and not panel.apply_fit_button.isEnabled()
    assert panel.table.rowCount() == 5
    np.testing.assert_allclose(np.array([s for s, _ in panel.pairs]), xyz[idx], atol=1e-6)
    assert panel.residuals.max() < 1e-6
    assert "RMS 0.0000" in panel.rms_label.text()
    assert panel.table.item(0, 3).text() == "0.0000"
    # remove one pair: still a good fit
    panel.remove_pair(4)
    assert panel.table.rowCount() == 4 and panel.residuals.max() < 1e-6
    qtbot.mouseClick(panel.apply_fit_button, QtCore.Qt.LeftButton)
    np.testing.assert_allclose(mesh.transform, np.eye(4), atol=1e-6)
    assert [b.value() for b in panel.translate] == pytest.approx([0, 0, 0], abs=1e-3)
    window.undo_action.trigger()
    np.testing.assert_allclose(mesh.transform, wrong, atol=1e-9)
    window.redo_action.trigger()
    np.testing.assert_allclose(mesh.transform, np.eye(4), atol=1e-6)
    # a bad set of pairs explains itself
    panel.clear_pairs()
    assert panel.table.rowCount() == 0
    for t in (0.0, 1.0, 2.0):
        p = xyz[0] + [t, 0, 0]
        panel.add_pair(p, p)
    assert "collinear" in panel.rms_label.text() and not panel.apply_fit_button.isEnabled()
    # save the misaligned state, reload the project file: the transform is recorded
    window.undo_action.trigger()
    out = tmp_path / "aligned.json"
    window.session.save(out)
    project = Project.load(out)
    rec = next(r for r in project.layers if r.name == "testarea.obj")
    np.testing.assert_allclose(np.array(rec.transform), wrong, atol=1e-9)
    rec_cloud = next(r for r in project.layers if r.name == "ahn3_cropped_2.laz")
    assert rec_cloud.transform is None


def test_apply_values_reset_and_undo(qtbot, window, site):
    from loaders.georef import similarity_from_values

    panel, mesh, cloud, _ = site
    for box, v in zip(panel.translate, (1.5, -2.25, 0.5), strict=True):
        box.setValue(v)
    panel.rotate[2].setValue(10.0)
    panel.scale.setValue(1.1)
    qtbot.mouseClick(panel.apply_values_button, QtCore.Qt.LeftButton)
    expected = similarity_from_values((1.5, -2.25, 0.5), (0, 0, 10.0), 1.1, panel.pivot())
    np.testing.assert_allclose(mesh.transform, expected, atol=1e-9)
    assert window.session.dirty
    qtbot.mouseClick(panel.reset_button, QtCore.Qt.LeftButton)
    np.testing.assert_allclose(mesh.transform, np.eye(4))
    window.undo_action.trigger()
    np.testing.assert_allclose(mesh.transform, expected, atol=1e-9)
    assert panel.rotate[2].value() == pytest.approx(10.0, abs=1e-4)
    window.undo_action.trigger()
    np.testing.assert_allclose(mesh.transform, np.eye(4))
    assert panel.scale.value() == pytest.approx(1.0)
    np.testing.assert_allclose(cloud.transform, np.eye(4))
    # switching the moved layer shows that layer's values and drops the pairs
    panel.add_pair(mesh.data.xyz()[0], mesh.data.xyz()[0])
    panel.set_layers(cloud)
    assert panel.pairs == [] and panel.reference_layer() is mesh


def test_click_pairs_in_the_view(qtbot, window, site):
    panel, mesh, cloud, messages = site
    scene = window.scene
    from viewer.scene import Camera, layer_bounds

    window.view_preset("top")
    # look straight down on the cloud (the mesh covers a larger area around it)
    lo, hi = layer_bounds(cloud)
    c = (lo + hi) / 2.0
    scene.set_camera(Camera(position=(c[0], c[1], c[2] + 400.0), focal_point=tuple(c),
                            view_up=(0.0, 1.0, 0.0)))
    window.renderer.scene_to_camera()
    qtbot.mouseClick(panel.pick_button, QtCore.Qt.LeftButton)
    assert panel.pick_button.isChecked()
    # a first click on the reference is refused with a hint
    scene.update(mesh, visible=False)
    window.renderer.render()
    pick = click(qtbot, window, 0.5, 0.5)
    assert pick.layer is cloud and panel.pairs == []
    assert "testarea.obj" in messages[-1]
    # source on the mesh, then target on the cloud
    scene.update(mesh, visible=True)
    scene.update(cloud, visible=False)
    window.renderer.render()
    src = click(qtbot, window, 0.5, 0.5)
    assert src.layer is mesh
    scene.update(cloud, visible=True)
    scene.update(mesh, visible=False)
    window.renderer.render()
    dst = click(qtbot, window, 0.5, 0.5)
    assert dst.layer is cloud
    assert panel.table.rowCount() == 1
    np.testing.assert_allclose(panel.pairs[0][0], src.xyz, atol=1e-9)  # identity: file
    np.testing.assert_allclose(panel.pairs[0][1], dst.xyz, atol=1e-9)
    # toggling off stops collecting
    qtbot.mouseClick(panel.pick_button, QtCore.Qt.LeftButton)
    scene.update(mesh, visible=True)
    window.renderer.render()
    click(qtbot, window, 0.45, 0.45)
    assert panel.table.rowCount() == 1


def test_the_pivot_of_a_cloud_with_its_octree_is_its_bounds_centre(site):
    panel, _mesh, cloud, _ = site
    lo, hi = cloud.data.bounds  # the pass over every point the octree spares
    assert cloud.lod is not None and cloud.lod.cloud is cloud.data
    np.testing.assert_array_equal(panel.pivot(cloud), (lo + hi) / 2.0)
