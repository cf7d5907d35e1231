"""glTF in the real window: a Y-up model stands upright, the properties panel's up-axis
choice re-orients the layer (undoable, saved with the project), POINTS and LINES
primitives are drawn.

Run under Xvfb (``xvfb-run -a -s "-screen 0 1600x1000x24"``).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from viewer.scene import layer_bounds

from .gui_support import (
    LOAD_TIMEOUT_MS,
    background_u8,
    non_background_fraction,
    open_and_wait,
    view_image,
)

pytestmark = pytest.mark.timeout(120)

#: where the snapshots are also copied for a person to look at (when set)
SNAPSHOT_DIR = os.environ.get("REALSCENE_SNAPSHOT_DIR")


def _tower(path: Path) -> Path:
    """A tower 2 wide, 7 tall (glTF +Y, as every standard exporter writes it), 3 deep."""
    import trimesh

    tower = trimesh.creation.box(extents=[2.0, 7.0, 3.0])
    tower.apply_translation([0.0, 3.5, -1.5])
    tower.export(path)
    return path


def _glb(path: Path, doc: dict, blob: bytes) -> Path:
    doc = {"asset": {"version": "2.0"}, **doc}
    j = json.dumps(doc).encode()
    j += b" " * (-len(j) % 4)
    b = blob + b"\0" * (-len(blob) % 4)
    chunks = (struct.pack("<II", len(j), 0x4E4F534A) + j
              + struct.pack("<II", len(b), 0x004E4942) + b)
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks)
    return path


def _wire_square(path: Path) -> Path:
    """A glTF made only of a LINE_LOOP (a 10 m square, Y-up: lying on the ground)."""
    pos = np.array([[0, 0, 0], [10, 0, 0], [10, 0, -10], [0, 0, -10]], np.float32)
    blob = pos.tobytes()
    return _glb(path, {
        "buffers": [{"byteLength": len(blob)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(blob)}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3",
                       "min": [0, 0, -10], "max": [10, 0, 0]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "mode": 2}]}],
        "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0}, blob)


def _coloured_points(path: Path) -> Path:
    """A POINTS-only GLB (what trimesh writes for a point cloud): a ring of points, red
    on one half, blue on the other, standing in the glTF x-y plane (upright)."""
    import trimesh

    t = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    r = 5 + 0.3 * np.random.default_rng(3).standard_normal(len(t))
    xyz = np.column_stack([r * np.cos(t), r * np.sin(t) + 6, np.zeros_like(t)])
    rgba = np.zeros((len(t), 4), np.uint8)
    rgba[:, 3] = 255
    rgba[t < np.pi, 0] = 230  # top half (glTF +y) red
    rgba[t >= np.pi, 2] = 230  # bottom half blue
    trimesh.PointCloud(xyz, colors=rgba).export(path)
    return path


def _extent(layer) -> np.ndarray:
    lo, hi = layer_bounds(layer)
    return np.round(hi - lo, 4)


def _drawn_box(win) -> tuple[int, int]:
    """(width, height) in pixels of what is drawn (not background) in the view: the data
    only (no gizmo, scale bar or north arrow)."""
    win.scene.set_decorations(axes=False, scale_bar=False, north_arrow=False)
    img = view_image(win)
    mask = np.abs(img.astype(int) - background_u8(win)).sum(axis=2) > 30
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert len(rows) and len(cols), "nothing drawn"
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def test_up_axis_choice_reorients_the_layer(qtbot, window, tmp_path):
    from PySide6 import QtWidgets

    path = _tower(tmp_path / "tower.glb")
    open_and_wait(qtbot, window, path)
    layer = window.scene.layers[0]
    panel = window.properties_panel
    assert window.scene.selected is layer
    assert layer.up_axis == "Y" and not panel.up_axis.isHidden()
    np.testing.assert_allclose(_extent(layer), [2, 3, 7])  # upright: 7 m tall
    window.renderer.view_preset("side")
    w, h = _drawn_box(window)
    assert h > 1.5 * w  # seen from the side (3 deep), the tower is tall (7) and narrow

    # the file was stored Z-up: choose Z in the properties panel
    panel.up_axis.setCurrentIndex(panel.up_axis.findData("Z"))
    QtWidgets.QApplication.processEvents()
    assert layer.up_axis == "Z" and layer.data.metadata["up_axis"] == "Z"
    np.testing.assert_allclose(_extent(layer), [2, 7, 3])  # now lying along y
    window.renderer.view_preset("side")
    w, h = _drawn_box(window)
    assert w > 1.5 * h  # from the side: 7 long and 3 tall, lying on its side
    assert "Z up" in panel.info.text()

    # undoable like the panel's other edits
    window.session.undo.undo()
    QtWidgets.QApplication.processEvents()
    assert layer.up_axis == "Y" and panel.up_axis.currentData() == "Y"
    np.testing.assert_allclose(_extent(layer), [2, 3, 7])
    window.session.undo.redo()
    assert layer.up_axis == "Z"

    # saved with the project and restored
    project = tmp_path / "site.realscene.json"
    window.session.save(project)
    saved = json.loads(project.read_text())
    assert saved["layers"][0]["display"]["up_axis"] == "Z"
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.open_project(str(project))
    QtWidgets.QApplication.processEvents()
    reopened = window.scene.layers[0]
    assert reopened is not layer and reopened.up_axis == "Z"
    np.testing.assert_allclose(_extent(reopened), [2, 7, 3])
    window.scene.select(reopened)
    assert panel.up_axis.currentData() == "Z"


def test_up_axis_choice_for_other_formats_starts_as_stored(qtbot, window, tmp_path):
    """Every mesh and point layer without a CRS has the choice (issue 17): Z-up as
    stored until told otherwise; a georeferenced layer has none."""
    off = tmp_path / "cube.off"
    off.write_text("OFF\n8 6 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n0 0 1\n1 0 1\n1 1 1\n0 1 1\n"
                   "4 0 3 2 1\n4 4 5 6 7\n4 0 1 5 4\n4 1 2 6 5\n4 2 3 7 6\n4 3 0 4 7\n")
    open_and_wait(qtbot, window, off)
    assert window.scene.layers[0].up_axis == "Z"
    assert not window.properties_panel.up_axis.isHidden()
    assert window.properties_panel.up_axis.currentData() == "Z"
    assert window.session.record_layer(window.scene.layers[0]).display["up_axis"] == "Z"


def _snapshot(window, tmp_path: Path, name: str) -> Path:
    out = window.renderer.screenshot(tmp_path / name)
    if SNAPSHOT_DIR:
        Path(SNAPSHOT_DIR).mkdir(parents=True, exist_ok=True)
        (Path(SNAPSHOT_DIR) / name).write_bytes(out.read_bytes())
    return out


def test_points_lines_and_y_up_mesh_are_drawn(qtbot, window, tmp_path):
    from loaders import PointCloud

    # POINTS only: a point cloud layer, coloured by its COLOR_0, upright
    open_and_wait(qtbot, window, _coloured_points(tmp_path / "ring.glb"))
    ring = window.scene.layers[0]
    assert isinstance(ring.data, PointCloud) and ring.color_mode == "rgb"
    np.testing.assert_allclose(_extent(ring)[[0, 2]], [10, 10], atol=3)  # (r = 5 +- noise)
    assert _extent(ring)[1] == 0
    window.renderer.view_preset("front")
    img = view_image(window)
    red = (img[..., 0] > 150) & (img[..., 2] < 80)
    blue = (img[..., 2] > 150) & (img[..., 0] < 80)
    assert red.sum() > 200 and blue.sum() > 200
    # red on top (glTF +Y is up): image rows grow downwards
    assert np.flatnonzero(red.any(axis=1)).mean() < np.flatnonzero(blue.any(axis=1)).mean()
    _snapshot(window, tmp_path, "gltf_points_ring.png")
    window.scene.remove(ring)

    # a Y-up mesh from the front: tall and narrow
    open_and_wait(qtbot, window, _tower(tmp_path / "tower.glb"))
    window.renderer.view_preset("side")
    w, h = _drawn_box(window)
    assert h > 1.5 * w
    _snapshot(window, tmp_path, "gltf_y_up_tower.png")
    window.scene.remove(window.scene.layers[0])

    # a file of lines only is drawn (a square on the ground, seen from the top)
    open_and_wait(qtbot, window, _wire_square(tmp_path / "square.glb"))
    square = window.scene.layers[0]
    assert square.data.lines is not None and len(square.data.lines) == 4
    np.testing.assert_allclose(_extent(square), [10, 10, 0])
    window.renderer.view_preset("top")
    img = view_image(window)
    assert 0.001 < non_background_fraction(img, background_u8(window)) < 0.2
    _snapshot(window, tmp_path, "gltf_lines_square.png")
