"""Drape orthophoto… on a mesh layer in the real window: the Delft CityJSON city model
(RD New) and an orthophoto of the AHN3 surface (UTM 31N, made from the real scan). The
button shows in Properties for a mesh layer (not for a point cloud), the drape runs as
a background job, the view shows the orthophoto's colours on the district and the
project keeps it; an orthophoto elsewhere is one warning box."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .gui_support import open_and_wait, view_image

CITY = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "citymodels" / \
    "delft.city.json"


def greenish(img: np.ndarray) -> float:
    """Share of pixels of the orthophoto's vegetation tint (green over red and blue)."""
    img = img.astype(int)
    return float(((img[..., 1] > img[..., 0] + 15) & (img[..., 1] > img[..., 2] + 15)).mean())


def test_drape_button_on_a_city_model(window, qtbot, tmp_path):
    from PySide6 import QtWidgets

    from tests.loaders.terrain_support import make_ahn3_ortho

    ortho = make_ahn3_ortho(tmp_path / "ortho.tif", cell=0.5)
    open_and_wait(qtbot, window, CITY)
    assert not window.errors, window.errors
    layer = window.scene.layers[0]
    window.scene.select(layer)
    panel = window.properties_panel
    button = panel.findChild(QtWidgets.QPushButton, "drapeMeshOrtho")
    assert button is not None and button.isVisibleTo(panel)
    assert not panel.tiles.isVisibleTo(panel)  # (the tiles box is for tile layers)
    window.scene.set_decorations(axes=False, scale_bar=False, north_arrow=False,
                                 attribution=False)
    window.view_preset("top")
    before = view_image(window)
    job = panel.tiles.drape_dialog(str(ortho), layer=layer)
    qtbot.waitUntil(lambda: job.done and panel.tiles.drape_job is None, timeout=30_000)
    assert layer.color_mode == "material" and layer.data.metadata["ortho"] == str(ortho)
    assert panel.color_mode.currentData() == "material"
    after = view_image(window)
    window.grab().save(str(tmp_path / "window.png"))
    # the photo's greens spread over the east of the district (the type colours only
    # had the parks), and the picture changed where the orthophoto lies
    assert greenish(after) > 1.8 * greenish(before)
    changed = np.abs(after.astype(int) - before.astype(int)).sum(axis=2) > 60
    assert changed.mean() > 0.03

    out = window.session.save(tmp_path / "draped.realscene.json")
    import json

    record = json.loads(out.read_text(encoding="utf-8"))["layers"][0]
    assert record["display"]["drape"] == ortho.name

    # an orthophoto 20 km away: one warning box naming it, the layer unchanged
    import rasterio
    from rasterio.transform import Affine

    far = tmp_path / "far.tif"
    with rasterio.open(ortho) as src:
        profile = src.profile
        profile["transform"] = Affine.translation(20_000, 0) * src.transform
        with rasterio.open(far, "w", **profile) as dst:
            dst.write(src.read())
    job = panel.tiles.drape_dialog(str(far), layer=layer)
    qtbot.waitUntil(lambda: job.done and panel.tiles.drape_job is None, timeout=30_000)
    box = panel.tiles.drape_error
    assert "does not overlap" in box.text() + box.informativeText() + box.detailedText()
    assert layer.data.metadata["ortho"] == str(ortho)
    box.close()
