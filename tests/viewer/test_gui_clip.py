"""The Clip dock in the real window: a box typed in its fields hides the points outside
it (drawn subset checked point by point), Inside / Outside, Off; a polygon from an
annotation; a slab through two clicked points; "Export clipped points…" writes the
layer's file clipped in FILE coordinates (the layer moved by an alignment) in the
background, the count in the status bar; Cancel leaves no file."""

from __future__ import annotations

import math

import laspy
import numpy as np
import pytest

pytestmark = pytest.mark.gui

from tests.viewer.gui_support import click, open_and_wait  # noqa: E402


def _drawn_true(win, layer) -> np.ndarray:
    win.renderer.render()
    idx = win.renderer.drawn_indices(layer)
    xyz = layer.data.positions[idx].astype(np.float64) + layer.data.origin
    m = np.asarray(layer.transform, np.float64)
    return xyz @ m[:3, :3].T + m[:3, 3]


@pytest.fixture
def autzen(qtbot, window, shared_data):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    open_and_wait(qtbot, window, src)
    layer = window.scene.layers[0]
    window.scene.select(layer)
    return src, layer


def test_box_fields_inside_outside_off(qtbot, window, autzen, tmp_path):
    _, layer = autzen
    tools = window.clip_tools
    panel = tools.panel
    assert window.clip_dock.windowTitle() == "Clip"
    assert window.clip_dock.toggleViewAction() in window.menuBar().actions()[1].menu().actions()
    tools.clip_action.trigger()
    assert window.clip_dock.isVisible()
    panel.from_layer_button.click()
    lo = [s.value() for s in panel.min_fields]
    hi = [s.value() for s in panel.max_fields]
    assert np.allclose(lo, layer.data.bounds[0], atol=3e-3)
    mid = (lo[0] + hi[0]) / 2
    panel.max_fields[0].setValue(mid)  # typed: the box ends half way along X
    panel.apply_button.click()
    clip = window.scene.clip
    assert clip is not None and clip.inside and clip.region.max[0] == pytest.approx(mid)
    inside = _drawn_true(window, layer)
    assert 0 < len(inside) and (inside[:, 0] <= mid + 1e-6).all()
    assert clip.region.mask(inside).all()
    assert "inside" in panel.status.text()
    panel.outside.setChecked(True)  # the side switches at once
    assert not window.scene.clip.inside
    outside = _drawn_true(window, layer)
    assert len(outside) and (outside[:, 0] > mid - 1e-6).all()
    assert not clip.region.mask(outside).any()
    window.grab().save(str(tmp_path / "clip_window.png"))
    window.grab().save("/tmp/v2_clip_window.png")
    panel.off_button.click()
    assert window.scene.clip is None
    whole = _drawn_true(window, layer)  # both sides drawn again
    assert (whole[:, 0] < mid - 1).any() and (whole[:, 0] > mid + 1).any()


def test_polygon_from_annotation_and_slab_from_clicks(qtbot, window, autzen):
    from heritage.model import Annotation

    _, layer = autzen
    panel = window.clip_tools.panel
    (x0, y0, z0), (x1, y1, _) = layer.data.bounds
    ring = [[x0 - 1, y0 - 1, z0], [x1 + 1, y0 - 1, z0], [x0 - 1, y1 + 1, z0]]  # a triangle
    ann = window.session.add_annotation(Annotation("polygon", ring, title="tri"))
    window.annotations_panel.select(ann.id)
    panel.from_annotation_button.click()
    region = window.scene.clip.region
    assert type(region).__name__ == "Polygon"
    drawn = _drawn_true(window, layer)
    assert len(drawn) and region.mask(drawn).all()
    # below the triangle's diagonal only
    u = (drawn[:, 0] - x0) / (x1 - x0) + (drawn[:, 1] - y0) / (y1 - y0)
    assert (u <= 1.05).all()
    panel.clear()
    # a slab: two points clicked in the view (top view), 4 m thick
    window.view_preset("top")
    panel.set_shape("slab")
    panel.thickness.setValue(4.0)
    panel.slab_button.click()
    assert panel.picking == "slab"
    a = click(qtbot, window, 0.3, 0.5)
    b = click(qtbot, window, 0.7, 0.45)
    qtbot.waitUntil(lambda: window.scene.clip is not None, timeout=10_000)
    region = window.scene.clip.region
    assert type(region).__name__ == "Slab" and region.thickness == pytest.approx(4.0)
    assert abs(region.normal[2]) < 1e-9 and abs(region.distance([b.xyz])[0]) < 1e-6
    assert abs(region.distance([a.xyz])[0]) < 1e-6 and panel.picking is None
    drawn = _drawn_true(window, layer)
    assert len(drawn) and (np.abs(region.distance(drawn)) <= 2.0 + 1e-6).all()


def test_export_clipped_points_in_file_coordinates(qtbot, window, autzen, tmp_path):
    src, layer = autzen
    # the layer aligned: turned 30 degrees about Z and shifted (as by ICP)
    (x0, y0, z0), (x1, y1, z1) = layer.data.bounds
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2, 0.0])
    a = math.radians(30)
    rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = c - rot @ c + [12.0, -7.0, 1.5]
    window.scene.update(layer, transform=m)
    panel = window.clip_tools.panel
    lo = c + [-300, -200, z0 - 10]
    hi = c + [250, 150, (z0 + z1) / 2]
    panel.set_box_fields(lo, hi)
    assert panel.apply()
    out = tmp_path / "clip.laz"
    with qtbot.waitSignal(window.clip_tools.exported, timeout=60_000) as got:
        job = window.clip_tools.export_dialog(out=str(out))
        assert job is not None and window.progress.isVisible()
    result = got.args[0]
    # expected: the file's points moved by the layer's transform, inside the box
    las = laspy.read(src)
    xyz = np.column_stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)])
    moved = xyz @ m[:3, :3].T + m[:3, 3]
    inside = ((moved >= lo) & (moved <= hi)).all(axis=1)
    assert 0 < inside.sum() < len(xyz)
    written = laspy.read(out)
    assert len(written) == result.points_written == int(inside.sum())
    assert np.allclose(np.sort(np.asarray(written.x)), np.sort(xyz[inside, 0]))
    assert f"{int(inside.sum()):,}" in window.statusBar().currentMessage()
    assert not window.progress.isVisible()


def test_export_cancel_leaves_no_file_and_refusals(qtbot, window, shared_data, tmp_path):
    src = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    open_and_wait(qtbot, window, src)
    layer = window.scene.layers[0]
    window.scene.select(layer)
    tools = window.clip_tools
    tools.export_dialog(out=str(tmp_path / "none.laz"))  # no clip yet: refused
    assert "Clip the view first" in tools.error_box.text()
    tools.panel.box_from_view()
    assert tools.panel.apply()
    out = tmp_path / "cancelled.laz"
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        job = tools.export_dialog(out=str(out))
        window.cancel_button.click()
    assert job.done and job.result is None
    assert "cancelled" in window.statusBar().currentMessage()
    assert not out.exists() and not list(tmp_path.glob("cancelled*"))


def test_polygon_drawn_by_clicks(qtbot, window, autzen):
    _, layer = autzen
    panel = window.clip_tools.panel
    window.view_preset("top")
    window.tool.start("pin")  # the annotation tool stops while the clip takes clicks
    panel.set_shape("polygon")
    panel.draw_button.click()
    assert panel.picking == "polygon" and window.tool.mode is None
    picks = [click(qtbot, window, fx, fy) for fx, fy in ((0.35, 0.45), (0.65, 0.45),
                                                         (0.5, 0.6))]
    assert "3" in panel.status.text()
    panel.apply_button.click()
    region = window.scene.clip.region
    assert type(region).__name__ == "Polygon" and panel.picking is None
    assert np.allclose(region.vertices, [p.xyz[:2] for p in picks])
    assert not window.session.project.annotations  # no pin was added meanwhile
    drawn = _drawn_true(window, layer)
    assert len(drawn) and region.mask(drawn).all()
