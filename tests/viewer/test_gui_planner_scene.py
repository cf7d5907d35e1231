"""Issue 19 end to end in the real window: a planner drops the Delft scan, the city
model, an OSGB tileset folder and a 3D Tiles folder, opens the AHN3 DEM and its
orthophoto (File > Open's path), all in one CRS; the tiles stream (the event loop's
longest gap is measured and printed, not asserted), the orthophoto is draped through the
Properties box, the terrain and a 3D Tiles building are picked, and a clip box cuts
terrain, meshes, tiles and points alike. Files from :mod:`tests.planner_support`."""

from __future__ import annotations

import numpy as np
import pytest

from tests.planner_support import build_planner_files

from .gui_support import GapProbe, background_u8, click, open_and_wait, view_image
from .test_gui_tiles import data_only, drop, settle


def _lit_columns(img: np.ndarray, bg: np.ndarray) -> np.ndarray:
    return np.nonzero((np.abs(img.astype(int) - bg).sum(axis=2) > 30).any(axis=0))[0]


@pytest.mark.timeout(120)
def test_planner_opens_streams_drapes_picks_and_clips(window, qtbot, tmp_path):

    from viewer.scene import Camera

    files = build_planner_files(tmp_path / "planner")
    window.resize(1400, 900)
    probe = GapProbe(window)
    probe.start()
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        drop(window, files.scan, files.city, files.osgb, files.tiles3d.parent)
    open_and_wait(qtbot, window, files.dem, files.ortho)
    assert not window.errors, window.errors
    layers = {layer.name: layer for layer in window.scene.layers}
    assert len(layers) == 6, list(layers)
    scan, city = layers[files.scan.name], layers[files.city.name]
    osgb, t3d = layers[files.osgb.name], layers["tileset.json"]
    dem, ortho = layers[files.dem.name], layers[files.ortho.name]
    assert [lay.is_tiles for lay in (scan, city, osgb, t3d, dem, ortho)] == \
        [False, False, True, True, True, True]
    assert "28992" in str(window.scene.crs) or window.scene.crs.to_epsg() in (28992, 7415)
    assert t3d.data.native_crs.to_epsg() == 4978
    for lay in (osgb, t3d, dem, ortho):  # every tileset delivers in RD New (+ NAP)
        crs = lay.data.crs
        assert (crs.sub_crs_list or [crs])[0].to_epsg() == 28992, lay.name
    opening = list(probe.gaps)
    probe.gaps.clear()
    data_only(window)
    before = sum(window.renderer.tile_draw(lay).stream.stats()["loaded"]
                 for lay in (osgb, t3d, dem, ortho))
    # a close oblique view over the scan: the finer tiles it needs stream in
    xyz = scan.data.positions.astype(np.float64) + scan.data.origin
    centre = (xyz.min(axis=0) + xyz.max(axis=0)) / 2
    window.scene.camera = Camera(position=tuple(centre + (0.0, -120.0, 90.0)),
                                 focal_point=tuple(centre), view_up=(0.0, 0.0, 1.0))
    probe.start()
    window.renderer.scene_to_camera()
    for lay in (osgb, t3d, dem, ortho):
        assert settle(qtbot, window, lay, 60_000)["drawn"] > 0, lay.name
    probe.stop()
    window.view_preset("top")
    print(f"\nlongest event-loop gap while the six opened: {max(opening or [0]) * 1000:.0f} ms "
          f"({len(opening)} ticks of 10 ms); while the close view's tiles streamed: "
          f"{probe.longest_ms():.0f} ms ({len(probe.gaps)} ticks)")
    after = sum(window.renderer.tile_draw(lay).stream.stats()["loaded"]
                for lay in (osgb, t3d, dem, ortho))
    assert after > before  # the close view streamed finer tiles

    # the orthophoto draped through the Properties box's button
    window.scene.select(dem)
    box = window.properties_panel.tiles
    assert box.layer is dem and box.drape_button.isVisibleTo(box)
    job = box.drape_dialog(str(files.ortho))
    qtbot.waitUntil(lambda: job.done and box.drape_job is None, timeout=30_000)
    assert dem.color_mode == "material" and dem.data.colour == "texture"
    settle(qtbot, window, dem)
    drawn = window.renderer.tile_draw(dem).stream.drawn()
    assert any(p.material.texture is not None for _t, c in drawn for m in c.meshes
               for p in m.parts)

    # pick the terrain alone: the status bar gives its height in CRS units (metres)
    others = [lay for lay in window.scene.layers if lay is not dem]
    for lay in others:
        window.scene.update(lay, visible=False)
    window.view_preset("top")
    settle(qtbot, window, dem)
    pick = click(qtbot, window, 0.5, 0.5)
    assert pick is not None and pick.layer is dem
    height = pick.attributes["height"]
    expected = float(dem.data.height_at(np.asarray(pick.xyz)[None, :2])[0])
    assert height == pytest.approx(expected, abs=1e-6) and -3 < height < 5
    qtbot.waitUntil(lambda: window.pick_label.text() != "", timeout=5000)
    assert f"{pick.xyz[0]:.2f}"[:5] in window.pick_label.text()

    # pick a 3D Tiles building: its object properties (the city model's attributes)
    window.scene.update(dem, visible=False)
    window.scene.update(t3d, visible=True)
    window.view_preset("top")
    settle(qtbot, window, t3d)
    picked = None
    for fx, fy in ((0.5, 0.5), (0.45, 0.45), (0.55, 0.55), (0.4, 0.5), (0.6, 0.5)):
        pick = click(qtbot, window, fx, fy)
        if pick is not None and pick.layer is t3d and pick.feature_id:
            picked = pick
            break
    assert picked is not None, "no 3D Tiles object under the probes"
    ids = {f.id for f in city.data.features}
    assert picked.feature_id in ids and picked.attributes.get("type")

    # a clip box over the west half of the scan cuts every layer
    for lay in window.scene.layers:
        window.scene.update(lay, visible=True)
    window.view_preset("top")
    for lay in (osgb, t3d, dem, ortho):
        settle(qtbot, window, lay)
    bg = background_u8(window)
    before = _lit_columns(view_image(window), bg)
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    tools = window.clip_tools
    tools.clip_action.trigger()
    panel = tools.panel
    for field, value in zip(panel.min_fields, (lo[0], lo[1], -50.0), strict=True):
        field.setValue(float(value))
    for field, value in zip(panel.max_fields, ((lo[0] + hi[0]) / 2, hi[1], 100.0),
                            strict=True):
        field.setValue(float(value))
    panel.apply_button.click()
    assert window.scene.clip is not None and window.scene.clip.inside
    for lay in (osgb, t3d, dem, ortho):
        settle(qtbot, window, lay)
    after = _lit_columns(view_image(window), bg)
    assert len(after) and len(after) < 0.5 * len(before), (len(after), len(before))
