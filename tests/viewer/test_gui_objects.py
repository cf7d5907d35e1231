"""The Objects panel on real city / building models in the real window."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from tests.viewer.gui_support import open_and_wait, view_image  # noqa: E402


def make_panel(qtbot, window):
    from viewer.qt.objects import ObjectsPanel

    panel = ObjectsPanel(window.scene, window.renderer, window.session)
    qtbot.addWidget(panel)
    panel.resize(420, 800)
    panel.show()
    return panel


def open_model(qtbot, window, path):
    open_and_wait(qtbot, window, path)
    layer = window.scene.layers[-1]
    assert layer.is_feature_model
    window.scene.select(layer)
    return layer


def property_rows(panel):
    rows = {}
    tree = panel.properties
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        rows[item.text(0)] = item
    return rows


def settle(window):
    window.renderer.render()
    QtWidgets.QApplication.processEvents()


def test_city_model_objects_panel(qtbot, window, shared_data):
    panel = make_panel(qtbot, window)
    assert panel.stack.currentWidget() is panel.placeholder
    assert panel.placeholder.text() == "Select a city model or IFC layer"
    layer = open_model(qtbot, window, shared_data / "citymodels" / "zurich_subset_lod2.city.json")
    model = layer.data
    assert panel.layer is layer and panel.stack.currentWidget() is panel.content
    assert panel.tree.topLevelItemCount() == len(panel._roots) > 0
    assert not panel.lod.isVisibleTo(panel)  # a single LOD

    # click in the middle of the top view: an object is selected and shown (the
    # buildings are specks in the whole-model view of this small window, so the top view
    # is first brought close to the largest object)
    window.view_preset("top")
    largest = model.features[int(np.bincount(model.face_feature[model.face_feature >= 0])
                                 .argmax())]
    window.renderer.fit_feature(layer, largest.id)
    settle(window)
    view = window.plotter.interactor
    qtbot.mouseClick(view, QtCore.Qt.LeftButton,
                     pos=QtCore.QPoint(view.width() // 2, view.height() // 2))
    qtbot.waitUntil(lambda: window.scene.selected_feature is not None, timeout=10_000)
    picked = window.scene.selected_feature[1]
    rows = property_rows(panel)
    assert rows["id"].text(1) == picked
    assert panel.tree.currentItem() is not None
    assert panel.tree.currentItem().data(0, QtCore.Qt.UserRole) == picked

    # search by id: Enter selects the best match
    target = next(f for f in model.features if f.id != picked and f.type == "Building")
    panel.search.setText(target.id)
    assert panel.results.count() >= 1
    assert panel.results.item(0).data(QtCore.Qt.UserRole) == target.id
    qtbot.keyClick(panel.search, QtCore.Qt.Key_Return)
    assert window.scene.selected_feature == (layer, target.id)
    assert property_rows(panel)["id"].text(1) == target.id
    assert panel.tree.currentItem().data(0, QtCore.Qt.UserRole) == target.id

    # uncheck the building's tree item: it and its parts are hidden; undo restores
    item = panel._items[target.id]
    item.setCheckState(0, QtCore.Qt.Unchecked)
    assert target.id in layer.hidden_features
    assert set(target.children) <= layer.hidden_features
    window.undo_action.trigger()
    assert layer.hidden_features == set()
    assert item.checkState(0) == QtCore.Qt.Checked

    # group by type: one node per type with counts; unchecking a type hides all of it
    panel.tree_mode.setCurrentIndex(panel.tree_mode.findData("type"))
    labels = sorted(panel.tree.topLevelItem(i).text(0)
                    for i in range(panel.tree.topLevelItemCount()))
    n_part = sum(f.type == "BuildingPart" for f in model.features)
    assert f"BuildingPart ({n_part})" in labels
    node = panel._type_items["BuildingPart"]
    node.setCheckState(0, QtCore.Qt.Unchecked)
    assert len(layer.hidden_features) == n_part
    window.undo_action.trigger()
    assert layer.hidden_features == set() and node.checkState(0) == QtCore.Qt.Checked
    panel.tree_mode.setCurrentIndex(panel.tree_mode.findData("hierarchy"))

    # colour by an attribute: the layer's mode changes and so do the pixels
    window.scene.select_feature(None, None)
    window.renderer.fit_feature(layer, largest.id)
    settle(window)
    before = view_image(window)
    index = panel.color_by.findText("Attribute: Herkunft")
    assert index >= 0
    assert panel.color_by.findText("Object type") >= 0
    panel.color_by.setCurrentIndex(index)
    assert layer.color_mode == "attribute" and layer.attribute == "Herkunft"
    settle(window)
    after = view_image(window)
    assert (np.abs(after.astype(int) - before.astype(int)).sum(axis=2) > 30).mean() > 0.01

    # a bad filter: error shown, nothing applied
    panel.filter_edit.setText("type == ")
    panel.filter_apply.click()
    assert panel.filter_error.isVisibleTo(panel) and panel.filter_error.text()
    assert layer.feature_filter is None
    # a good filter: applied, count shown
    panel.filter_edit.setText('type == "BuildingPart"')
    panel.filter_apply.click()
    assert not panel.filter_error.isVisibleTo(panel)
    assert layer.feature_filter == 'type == "BuildingPart"'
    assert panel.filter_status.text() == f"{n_part} of {len(model.features)} objects match"
    window.undo_action.trigger()
    assert layer.feature_filter is None and panel.filter_edit.text() == ""
    panel.filter_clear.click()
    assert layer.feature_filter is None

    # removing the layer shows the placeholder again
    window.scene.remove(layer)
    assert panel.stack.currentWidget() is panel.placeholder


def test_ifc_objects_panel(qtbot, window, shared_data):
    panel = make_panel(qtbot, window)
    layer = open_model(qtbot, window, shared_data / "bim" / "AC20-FZK-Haus.ifc")
    model = layer.data
    wall = next(f for f in model.features if f.type.startswith("IfcWall"))
    # the tree reaches the wall through the spatial hierarchy
    window.scene.select_feature(layer, wall.id)
    item = panel.tree.currentItem()
    assert item is not None and item.data(0, QtCore.Qt.UserRole) == wall.id
    assert item.parent() is not None  # nested under its storey
    rows = property_rows(panel)
    assert rows["id"].text(1) == wall.id
    assert rows["type"].text(1) == wall.type
    assert rows["storey"].text(1) == wall.storey
    assert "Pset_WallCommon" in rows
    pset = rows["Pset_WallCommon"]
    assert pset.childCount() == len(wall.properties["Pset_WallCommon"])
    # colour options for a model with materials
    assert panel.color_by.findText("Materials") >= 0
    prop = next(iter(wall.properties["Pset_WallCommon"]))
    assert panel.color_by.findText(f"Attribute: Pset_WallCommon.{prop}") >= 0
    # selecting in the tree selects in the scene
    other = next(f for f in model.features if f.type == "IfcDoor")
    panel._ensure_item(other.id).setSelected(True)
    panel.tree.setCurrentItem(panel._items[other.id])
    assert window.scene.selected_feature == (layer, other.id)
    assert property_rows(panel)["id"].text(1) == other.id
