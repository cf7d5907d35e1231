"""Point clouds from others in the real window: geographic coordinates are drawn in a
metric projection chosen for them (named in the status bar and the properties), and files
without points open with a warning while the app keeps working."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtWidgets  # noqa: E402

from tests.loaders.test_untrusted_pointclouds import write_empty_e57, write_empty_las  # noqa: E402
from tests.viewer.gui_support import (  # noqa: E402
    background_u8,
    non_background_fraction,
    open_and_wait,
    view_image,
)


def test_geographic_las_is_drawn_in_utm_and_says_so(qtbot, window, shared_data):
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "epsg_4326.las")
    assert not window.errors
    layer = window.scene.layers[0]
    xyz = layer.data.xyz()
    extent = xyz.max(axis=0) - xyz.min(axis=0)
    # metres: about 2.2 km by 1.2 km (in degrees it was 0.023 by 0.011)
    assert 1500 < extent[0] < 3000 and 800 < extent[1] < 1600
    assert 30 < extent[2] < 50  # heights unchanged
    assert window.scene.crs.to_epsg() == 32615  # WGS 84 / UTM zone 15N
    assert layer.data.crs.to_epsg() == 32615
    button = window.crs_button.text()
    assert "EPSG:32615" in button and "UTM zone 15N" in button
    window.scene.select(layer)
    QtWidgets.QApplication.processEvents()
    props = window.findChild(QtWidgets.QLabel, "crsLabel").text()
    assert "UTM zone 15N" in props and "EPSG:4326" in props
    # drawn: a view from the top shows the cloud
    window.view_preset("top")
    assert non_background_fraction(view_image(window), background_u8(window)) > 0.02


def test_files_without_points_open_with_a_warning(qtbot, window, tmp_path, shared_data):
    empty_las = write_empty_las(tmp_path / "empty.laz")
    zero_scan = write_empty_e57(tmp_path / "zero_scan.e57", scans=1)
    images_only = write_empty_e57(tmp_path / "images_only.e57", scans=0, images=1)
    for path in (empty_las, zero_scan, images_only):
        open_and_wait(qtbot, window, path)
        assert not window.errors, window.errors
        layer = window.scene.layers[-1]
        assert layer.data.point_count == 0
        assert "no points" in window.statusBar().currentMessage()
        window.scene.select(layer)
        QtWidgets.QApplication.processEvents()
        props = window.findChild(QtWidgets.QLabel, "infoLabel").text()
        assert "0 points" in props and "⚠ the file holds no points" in props
        view_image(window)  # the renderer copes with an empty layer
    # the app keeps working: a real file opens and is drawn beside them
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen_trim.laz")
    assert not window.errors
    window.renderer.fit()
    window.scene.set_decorations(axes=False, scale_bar=False, north_arrow=False)  # data only
    assert non_background_fraction(view_image(window), background_u8(window)) > 0.01
    assert len(window.scene.layers) == 4
    assert np.isfinite(np.asarray(window.scene.bounds()[0])).all()


def test_streamed_copc_in_degrees_is_drawn_in_utm(qtbot, window, shared_data, tmp_path):
    from loaders.writers.copc import write_copc

    path = write_copc(shared_data / "pointclouds" / "epsg_4326.las",
                      tmp_path / "geo.copc.laz", leaf_points=500)
    open_and_wait(qtbot, window, path)
    assert not window.errors
    layer = window.scene.layers[0]
    assert layer.lod is not None and layer.lod.total_points == 5380  # streamed
    assert window.scene.crs.to_epsg() == 32615 and layer.lod.crs.to_epsg() == 32615
    assert "UTM zone 15N" in window.crs_button.text()
    lo, hi = window.scene.bounds()
    assert 1500 < (hi - lo)[0] < 3000 and 800 < (hi - lo)[1] < 1600
    window.view_preset("top")
    assert non_background_fraction(view_image(window), background_u8(window)) > 0.02
