"""Project workflow in the real window (issue 17): File > New / Close project, the question
when a file in another coordinate system joins the scene, the first saved view as the
opening camera, and per-layer units and up axis in the properties."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("pytestqt")
if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
    pytest.skip("no display for the GUI test", allow_module_level=True)

from heritage.model import Annotation, Measurement  # noqa: E402
from tests.viewer.gui_support import LOAD_TIMEOUT_MS, open_and_wait  # noqa: E402
from viewer.qt import dialogs  # noqa: E402
from viewer.qt.project_actions import SAMPLE_PROJECT  # noqa: E402
from viewer.scene import layer_bounds  # noqa: E402


def _open_sample(qtbot, window):
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.open_project(str(SAMPLE_PROJECT))
    window.renderer.render()
    assert len(window.scene.layers) == 3 and window.scene.crs is not None


def _extent(layer) -> np.ndarray:
    lo, hi = layer_bounds(layer)
    return hi - lo


def test_new_and_close_project_ask_then_empty_the_window(qtbot, window, monkeypatch):
    _open_sample(qtbot, window)
    session = window.session
    assert session.project.annotations and window.scene.views
    session.add_annotation(Annotation("point", [[85000.0, 447500.0, 2.0]], title="Crack"))
    answers = []

    def ask(_parent, _name, before):
        answers.append(before)
        return answers_to_give.pop(0)

    monkeypatch.setattr(dialogs, "ask_unsaved_changes", ask)
    actions = window.project_actions
    file_menu = window.menuBar().actions()[0].menu()
    assert actions.new_action in file_menu.actions()
    assert actions.close_action in file_menu.actions()

    answers_to_give = ["cancel"]  # Cancel keeps everything
    actions.new_action.trigger()
    assert len(window.scene.layers) == 3 and session.dirty
    assert answers == ["starting a new project"]

    answers_to_give = ["discard"]
    actions.new_action.trigger()
    assert not window.scene.layers and window.scene.crs is None
    assert not session.project.annotations and not session.project.measurements
    assert not window.scene.views and session.project.path is None and not session.dirty
    assert window.annotations_panel.list.count() == 0 if hasattr(
        window.annotations_panel, "list") else True
    assert window.measurements_panel.tree.topLevelItemCount() == 0
    assert not window.undo_action.isEnabled()

    # Close project: the same, and the next start does not reopen it
    _open_sample(qtbot, window)
    assert window.settings.value("last_project")
    actions.close_action.trigger()  # nothing unsaved: no question
    assert answers == ["starting a new project"] * 2
    assert not window.scene.layers and not window.session.project.annotations
    assert window.settings.value("last_project") is None
    # the empty window opens a file as a new scene
    open_and_wait(qtbot, window, SAMPLE_PROJECT.parent / "delft.city.json")
    assert len(window.scene.layers) == 1 and actions.fit_box is None


def test_a_file_in_another_crs_asks(qtbot, window, shared_data, monkeypatch):
    from PySide6 import QtWidgets

    gargo = shared_data / "meshes" / "gargo.ply"  # a heritage mesh: no CRS, no units
    _open_sample(qtbot, window)
    actions = window.project_actions
    open_and_wait(qtbot, window, gargo)
    box = actions.fit_box
    assert box is not None and box.isVisible() and box.objectName() == "crsFitDialog"
    assert "gargo.ply" in box.text() and "RD New" in box.text()
    assert len(window.scene.layers) == 3  # not joined silently
    add = box.findChild(QtWidgets.QPushButton, "addAnyway")
    assert "centre" in add.text()
    add.click()
    qtbot.waitUntil(lambda: len(window.scene.layers) == 4)
    layer = window.scene.layers[-1]
    others = window.scene.bounds(window.scene.layers[:3])
    lo, hi = layer_bounds(layer)
    np.testing.assert_allclose((lo[:2] + hi[:2]) / 2, (others[0][:2] + others[1][:2]) / 2,
                               atol=1e-3)  # placed at the scene's centre
    assert window.session.record_layer(layer).transform is not None  # saved so

    # Cancel: not opened
    open_and_wait(qtbot, window, gargo)
    actions.fit_box.button(QtWidgets.QMessageBox.Cancel).click()
    qtbot.waitUntil(lambda: actions.fit_box is None)
    assert len(window.scene.layers) == 4
    assert "Not opened: gargo.ply" in window.statusBar().currentMessage()

    # Open in a new project (asking about the unsaved work first)
    monkeypatch.setattr(dialogs, "ask_unsaved_changes", lambda *a: "discard")
    window.session.add_measurement(Measurement("distance", [[0, 0, 0], [1, 0, 0]]))
    open_and_wait(qtbot, window, gargo)
    actions.fit_box.findChild(QtWidgets.QPushButton, "openInNewProject").click()
    qtbot.waitUntil(lambda: len(window.scene.layers) == 1)
    assert window.scene.layers[0].name == "gargo.ply" and window.scene.crs is None
    assert not window.session.project.measurements and not window.scene.views

    # a georeferenced file into this local scene asks too
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen-bmx-2010.las")
    box = actions.fit_box
    assert box is not None and "local coordinates" in box.text()
    box.button(QtWidgets.QMessageBox.Cancel).click()
    qtbot.waitUntil(lambda: actions.fit_box is None)
    assert len(window.scene.layers) == 1 and window.scene.crs is None


def test_a_project_opens_on_its_first_saved_view(qtbot, window):
    _open_sample(qtbot, window)
    first = window.scene.views[0]
    assert first.name == "Overview"
    camera = window.scene.camera
    np.testing.assert_allclose(camera.position, first.camera.position, atol=1e-3)
    np.testing.assert_allclose(camera.focal_point, first.camera.focal_point, atol=1e-3)
    # the view itself, not a fit of the data: the renderer's camera is there too
    window.renderer.render()
    vtk_camera = window.plotter.renderer.GetActiveCamera()
    origin = window.renderer.origin
    np.testing.assert_allclose(np.array(vtk_camera.GetFocalPoint()) + origin,
                               first.camera.focal_point, atol=1e-2)


def test_units_and_up_axis_in_the_properties(qtbot, window, shared_data, tmp_path):
    from PySide6 import QtWidgets

    gargo = shared_data / "meshes" / "gargo.ply"
    open_and_wait(qtbot, window, gargo)
    layer = window.scene.layers[0]
    panel = window.properties_panel
    window.scene.select(layer)
    assert not panel.units.isHidden() and panel.units.currentData() is None
    assert not panel.up_axis.isHidden() and panel.up_axis.currentData() == "Z"
    size = _extent(layer)
    lo = layer_bounds(layer)[0]
    m = window.session.add_measurement(Measurement(
        "distance", [list(lo), list(lo + [10.0, 0, 0])]))
    tree = window.measurements_panel.tree
    assert tree.topLevelItem(0).text(2) == "10.000 units"  # not metres

    panel.units.setCurrentIndex(panel.units.findData("mm"))
    QtWidgets.QApplication.processEvents()
    assert layer.units == "mm"
    np.testing.assert_allclose(_extent(layer), size * 0.001, rtol=1e-5)
    assert tree.topLevelItem(0).text(2) == "10.000 m"  # (the points were taken before)
    assert window.overlay._unit() == "m"
    panel.up_axis.setCurrentIndex(panel.up_axis.findData("Y"))
    QtWidgets.QApplication.processEvents()
    np.testing.assert_allclose(_extent(layer), size[[0, 2, 1]] * 0.001, rtol=1e-5)
    assert panel.up_axis.itemText(panel.up_axis.findData("Y")) == "Y (turn it upright)"
    window.renderer.view_preset("fit")
    window.renderer.render()
    window.grab().save(str(tmp_path / "units_upright.png"))
    if os.environ.get("REALSCENE_SNAPSHOT_DIR"):
        window.grab().save(os.path.join(os.environ["REALSCENE_SNAPSHOT_DIR"],
                                        "units_upright.png"))

    # undoable like the other properties
    window.session.undo.undo()
    assert layer.up_axis == "Z" and panel.up_axis.currentData() == "Z"
    window.session.undo.redo()
    # saved with the project and restored
    out = tmp_path / "heritage.realscene.json"
    window.session.save(out)
    window.session.delete_measurement(m.id)
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.open_project(str(out))
    again = window.scene.layers[0]
    assert again is not layer and again.units == "mm" and again.up_axis == "Y"
    np.testing.assert_allclose(_extent(again), size[[0, 2, 1]] * 0.001, rtol=1e-5)
    window.scene.select(again)
    assert panel.units.currentData() == "mm" and panel.up_axis.currentData() == "Y"


def test_georeferenced_layers_offer_no_units(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen-bmx-2010.las")
    window.scene.select(window.scene.layers[0])
    panel = window.properties_panel
    assert panel.units.isHidden() and panel.up_axis.isHidden()
    assert window.overlay._unit() == "m"
