"""Drape orthophoto… is an undoable edit in the real window, and "Remove orthophoto" in
the Properties box takes it off: drape -> Edit > Undo -> Edit > Redo -> Remove
orthophoto -> Edit > Undo, on a DEM terrain (the AHN3 ground of Delft) and on the Delft
CityJSON city model, with an orthophoto of the AHN3 surface (UTM 31N, made from the real
scan). Each step checks the view's pixels, the buttons shown and the saved project."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .gui_support import open_and_wait, view_image
from .test_gui_tiles import data_only, settle

CITY = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "citymodels" / \
    "delft.city.json"


def coloured(rgb: np.ndarray, bg: np.ndarray) -> float:
    """Share of the data's pixels that are not grey (the orthophoto's tints; hillshade
    is grey): channels spread by more than 20."""
    rgb = rgb.astype(int)
    drawn = np.abs(rgb - bg).sum(axis=2) > 30
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    return float((spread[drawn] > 20).mean()) if drawn.any() else 0.0


def saved_drape(window, path: Path) -> str | None:
    out = window.session.save(path)
    return json.loads(out.read_text(encoding="utf-8"))["layers"][0]["display"].get("drape")


def test_terrain_drape_undo_redo_and_remove(window, qtbot, tmp_path):
    from PySide6 import QtCore, QtWidgets

    from tests.loaders.terrain_support import make_ahn3_dem, make_ahn3_ortho

    dem = make_ahn3_dem(tmp_path / "dem.tif", cell=2.0)
    ortho = make_ahn3_ortho(tmp_path / "ortho.tif", cell=1.0)
    project = tmp_path / "terrain.realscene.json"
    open_and_wait(qtbot, window, dem)
    assert not window.errors, window.errors
    layer = window.scene.layers[0]
    window.scene.select(layer)
    box = window.properties_panel.tiles
    data_only(window)
    window.view_preset("top")
    window.session.update_layer(layer, color_mode="hillshade")
    settle(qtbot, window, layer)
    bg = np.round(np.array(window.scene.background) * 255).astype(int)
    assert coloured(view_image(window), bg) < 0.05  # the hillshade: grey
    assert box.drape_button.isVisibleTo(box) and not box.undrape_button.isVisibleTo(box)

    job = box.drape_dialog(str(ortho))
    qtbot.waitUntil(lambda: job.done and box.drape_job is None, timeout=30_000)
    assert layer.color_mode == "material" and layer.data.colour == "texture"
    assert window.undo_action.isEnabled() and ortho.name in window.undo_action.text()
    settle(qtbot, window, layer)
    assert coloured(view_image(window), bg) > 0.3
    assert box.undrape_button.isVisibleTo(box)
    assert saved_drape(window, project) == ortho.name

    window.undo_action.trigger()  # Edit > Undo: the hillshade again
    assert layer.color_mode == "hillshade" and "ortho" not in layer.data.metadata
    settle(qtbot, window, layer)
    assert coloured(view_image(window), bg) < 0.05
    assert not box.undrape_button.isVisibleTo(box)
    assert saved_drape(window, project) is None

    window.redo_action.trigger()  # Edit > Redo: draped, not read again
    settle(qtbot, window, layer)
    assert coloured(view_image(window), bg) > 0.3 and box.undrape_button.isVisibleTo(box)
    assert saved_drape(window, project) == ortho.name
    scroll = window.properties_panel.parentWidget()
    while scroll is not None and not isinstance(scroll, QtWidgets.QScrollArea):
        scroll = scroll.parentWidget()
    if scroll is not None:  # (the snapshot shows the button)
        scroll.ensureWidgetVisible(box.undrape_button)
    window.grab().save(str(tmp_path / "draped_window.png"))

    qtbot.mouseClick(box.undrape_button, QtCore.Qt.LeftButton)  # Remove orthophoto
    assert "ortho" not in layer.data.metadata and layer.color_mode == "hillshade"
    settle(qtbot, window, layer)
    assert coloured(view_image(window), bg) < 0.05
    assert not box.undrape_button.isVisibleTo(box)
    assert saved_drape(window, project) is None
    assert "Remove orthophoto" in window.undo_action.text()

    window.undo_action.trigger()
    settle(qtbot, window, layer)
    assert coloured(view_image(window), bg) > 0.3
    assert saved_drape(window, project) == ortho.name


def test_city_model_drape_undo_redo_and_remove(window, qtbot, tmp_path):
    from PySide6 import QtCore, QtWidgets

    from tests.loaders.terrain_support import make_ahn3_ortho

    ortho = make_ahn3_ortho(tmp_path / "ortho.tif", cell=1.0)
    project = tmp_path / "city.realscene.json"
    open_and_wait(qtbot, window, CITY)
    assert not window.errors, window.errors
    layer = window.scene.layers[0]
    window.scene.select(layer)
    panel = window.properties_panel
    remove = panel.findChild(QtWidgets.QPushButton, "undrapeMeshOrtho")
    assert remove is not None and not remove.isVisibleTo(panel)
    data_only(window)
    window.view_preset("top")
    model, mode = layer.data, layer.color_mode
    own_parts = model.parts
    plain = view_image(window).astype(int)

    def changed(img: np.ndarray) -> float:
        return float((np.abs(img.astype(int) - plain).sum(axis=2) > 60).mean())

    job = panel.tiles.drape_dialog(str(ortho), layer=layer)
    qtbot.waitUntil(lambda: job.done and panel.tiles.drape_job is None, timeout=30_000)
    texture = model.parts[0].material.texture
    assert layer.color_mode == "material" and remove.isVisibleTo(panel)
    assert changed(view_image(window)) > 0.03
    assert saved_drape(window, project) == ortho.name

    window.undo_action.trigger()
    assert model.parts is own_parts and layer.color_mode == mode
    assert changed(view_image(window)) < 0.005 and not remove.isVisibleTo(panel)
    assert panel.color_mode.currentData() == mode
    assert saved_drape(window, project) is None

    window.redo_action.trigger()
    assert model.parts[0].material.texture is texture  # not warped again
    assert changed(view_image(window)) > 0.03 and remove.isVisibleTo(panel)

    qtbot.mouseClick(remove, QtCore.Qt.LeftButton)
    assert model.parts is own_parts and changed(view_image(window)) < 0.005
    assert saved_drape(window, project) is None
    window.undo_action.trigger()
    assert model.parts[0].material.texture is texture and remove.isVisibleTo(panel)
    assert changed(view_image(window)) > 0.03
    assert saved_drape(window, project) == ortho.name
