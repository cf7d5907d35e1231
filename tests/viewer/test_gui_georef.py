"""One coordinate system in the real window: a real city model opened beside a real scan
lands in the same place, is picked and queried in the window's own Objects dock; layers
in another CRS are transformed into the scene CRS; the scene CRS can be changed and
coordinates shown in a second CRS; a model without CRS is aligned by point pairs in the
window's Align dock and saved with the project."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from tests.viewer.gui_support import (  # noqa: E402
    background_u8,
    non_background_fraction,
    open_and_wait,
    view_image,
)


def bounds(layer):
    xyz = layer.data.xyz()
    return xyz.min(axis=0), xyz.max(axis=0)


def layer_row(window, layer):
    tree = window.layer_panel.tree
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        if item.data(0, QtCore.Qt.UserRole) == layer.id:
            return item
    raise AssertionError(f"{layer.name} not in the layer tree")


def settle(window):
    window.renderer.render()
    QtWidgets.QApplication.processEvents()


def test_city_model_beside_scan_pick_query_colour(qtbot, window, shared_data):
    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    city = shared_data / "citymodels" / "delft.city.json"
    open_and_wait(qtbot, window, laz)
    assert window.scene.crs is None  # the scan has no CRS
    open_and_wait(qtbot, window, city)
    scan = window.scene.layer_by_name("ahn3_cropped_2.laz")
    model = window.scene.layer_by_name("delft.city.json")
    # the first georeferenced layer sets the scene CRS; the scan is flagged
    assert window.scene.crs.to_epsg() == 7415
    assert "EPSG:7415" in window.crs_button.text()
    row = layer_row(window, scan)
    assert row.text(0).startswith("⚠") and "No coordinate reference system" in row.toolTip(0)
    row = layer_row(window, model)
    assert row.text(1) == "city model" and row.text(2) == f"{len(model.data.features):,} obj"
    assert not row.text(0).startswith("⚠")
    # same place: the scan's footprint lies (within 15 m) inside the city model's, and
    # the ground heights agree
    (slo, shi), (mlo, mhi) = bounds(scan), bounds(model)
    assert (slo[:2] >= mlo[:2] - 15).all() and (shi[:2] <= mhi[:2] + 15).all()
    assert abs(np.percentile(scan.data.xyz()[:, 2], 5) - mlo[2]) < 5

    # a building inside the scanned strip, picked by clicking it in a top view
    data = model.data
    centres = {}
    for i, f in enumerate(data.features):
        if f.type != "Building":
            continue
        faces = data.faces[data.face_feature == i]
        if len(faces):
            centres[f.id] = data.vertices[faces.ravel()].astype(np.float64).mean(axis=0) \
                + data.origin
    inside = [fid for fid, c in centres.items()
              if slo[0] + 5 < c[0] < shi[0] - 5 and slo[1] + 5 < c[1] < shi[1] - 5]
    assert inside, "no building of delft.city.json over the AHN3 crop"
    target = inside[0]
    window.scene.update(scan, visible=False)  # the roof, not the scan points on it
    window.view_preset("top")
    window.renderer.fit_feature(model, target)
    settle(window)
    view = window.plotter.interactor
    qtbot.mouseClick(view, QtCore.Qt.LeftButton,
                     pos=QtCore.QPoint(view.width() // 2, view.height() // 2))
    qtbot.waitUntil(lambda: window.scene.selected_feature is not None, timeout=10_000)
    assert window.scene.selected_feature == (model, target)
    # the window's Objects dock answers "what is this"
    panel = window.objects_panel
    assert panel.layer is model
    rows = {panel.properties.topLevelItem(i).text(0): panel.properties.topLevelItem(i)
            for i in range(panel.properties.topLevelItemCount())}
    assert rows["id"].text(1) == target and rows["type"].text(1) == "Building"
    attrs = {rows["Attributes"].child(i).text(0) for i in range(rows["Attributes"].childCount())}
    assert set(data.feature(target).attributes) <= attrs and attrs
    # the status bar shows the picked point in the scene CRS, the dock the object's centre
    assert "X 85" in window.pick_label.text() and "Y 447" in window.pick_label.text()
    cx, cy, _ = (float(v) for v in rows["centre"].text(1).split()[1::2])
    assert abs(cx - centres[target][0]) < 30 and abs(cy - centres[target][1]) < 30
    # ... and, on request, in a second CRS too
    from pyproj import CRS

    window.set_secondary_crs(CRS.from_epsg(4326))
    assert "lat 52.0" in window.pick_label.text()
    rows = {panel.properties.topLevelItem(i).text(0): panel.properties.topLevelItem(i)
            for i in range(panel.properties.topLevelItemCount())}
    assert rows["centre (EPSG:4326)"].text(1).startswith("lat 52.0")
    window.set_secondary_crs(None)
    assert "EPSG:4326" not in window.pick_label.text()

    # colour by an attribute from the dock: pixels change, a legend is drawn
    window.scene.select_feature(None, None)
    window.renderer.fit()
    settle(window)
    before = view_image(window)
    index = panel.color_by.findText("Attribute: bgt_status")
    assert index >= 0
    panel.color_by.setCurrentIndex(index)
    assert model.color_mode == "attribute" and model.attribute == "bgt_status"
    settle(window)
    after = view_image(window)
    assert (np.abs(after.astype(int) - before.astype(int)).sum(axis=2) > 30).mean() > 0.01
    # filter by an attribute expression
    panel.filter_edit.setText('type == "Building"')
    panel.filter_apply.click()
    n = sum(f.type == "Building" for f in data.features)
    assert panel.filter_status.text() == f"{n} of {len(data.features)} objects match"


def _utm_copy_of_scan(src, dst):
    """A LAS of (a subsample of) the AHN3 crop transformed to UTM 31N, with its CRS."""
    import laspy
    from pyproj import CRS, Transformer

    las = laspy.read(str(src))
    keep = np.arange(0, len(las.points), 50)
    xyz = np.column_stack([las.x, las.y, las.z])[keep]
    t = Transformer.from_crs("EPSG:28992", "EPSG:32631", always_xy=True)
    x, y, z = t.transform(xyz[:, 0], xyz[:, 1], xyz[:, 2])
    header = laspy.LasHeader(point_format=1, version="1.4")
    header.scales = [0.001] * 3
    header.offsets = [np.floor(x.min()), np.floor(y.min()), 0.0]
    header.add_crs(CRS.from_epsg(32631))
    out = laspy.LasData(header)
    out.x, out.y, out.z = x, y, z
    out.write(str(dst))
    return xyz, np.column_stack([x, y, z])


def test_layers_follow_the_scene_crs(qtbot, window, shared_data, tmp_path):
    from pyproj import Transformer

    city = shared_data / "citymodels" / "delft.city.json"
    utm = tmp_path / "ahn3_utm31.las"
    original, written = _utm_copy_of_scan(shared_data / "pointclouds" / "ahn3_cropped_2.laz", utm)
    open_and_wait(qtbot, window, city)
    open_and_wait(qtbot, window, utm)
    cloud = window.scene.layer_by_name("ahn3_utm31.las")
    model = window.scene.layer_by_name("delft.city.json")
    # the UTM scan was transformed into the scene CRS (RD New + NAP) while loading
    assert window.scene.crs.to_epsg() == 7415
    assert cloud.data.metadata["reprojected_from"] == "EPSG:32631"
    assert "Transformed from EPSG:32631" in layer_row(window, cloud).toolTip(0)
    got = cloud.data.xyz()
    assert len(got) == len(original)
    # without the RDNAPTRANS grids pyproj's RD New <-> UTM is good to about a metre
    assert np.abs(got[:, :2] - original[:, :2]).max() < 2.0

    # a second CRS for coordinates: WGS 84 lat/lon of a picked point
    window.set_secondary_crs(__import__("pyproj").CRS.from_epsg(4326))
    assert "(+ EPSG:4326)" in window.crs_button.text()
    window.renderer.fit()
    settle(window)
    view = window.plotter.interactor
    qtbot.mouseClick(view, QtCore.Qt.LeftButton,
                     pos=QtCore.QPoint(view.width() // 2, view.height() // 2))
    qtbot.waitUntil(lambda: window.scene.last_pick is not None, timeout=10_000)
    text = window.pick_label.text()
    assert "EPSG:4326: lat 52.0" in text and "lon 4.3" in text

    drawn_before = non_background_fraction(view_image(window), background_u8(window))
    # the scene CRS changed to UTM 31N: both layers are re-read and transformed
    ok, message = window.set_scene_crs(__import__("pyproj").CRS.from_epsg(32631))
    assert ok, message
    qtbot.waitUntil(lambda: not window.jobs, timeout=60_000)
    assert "EPSG:32631" in window.crs_button.text()
    assert cloud.data.crs.to_epsg() == 32631 and "reprojected_from" not in cloud.data.metadata
    np.testing.assert_allclose(cloud.data.xyz(), written, atol=2e-3)
    assert model.data.metadata["reprojected_from"] == "EPSG:7415"
    t = Transformer.from_crs("EPSG:7415", "EPSG:32631", always_xy=True)
    mlo = model.data.xyz().min(axis=0)
    assert 5.75e6 < mlo[1] < 5.77e6 and 5.8e5 < mlo[0] < 6.0e5
    assert abs(window.scene.origin[1] - t.transform(85_000, 447_500)[1]) < 2_000
    settle(window)
    img = view_image(window)
    # the same site, drawn about the new origin and fitted again: as much of the view
    assert non_background_fraction(img, background_u8(window)) > 0.7 * drawn_before > 0.02

    # with annotations in the project the scene CRS stays (their coordinates are in it)
    from heritage.model import Annotation

    window.session.add_annotation(Annotation(kind="point", points=[list(original[0])],
                                             title="crack"))
    ok, message = window.set_scene_crs(__import__("pyproj").CRS.from_epsg(28992))
    assert not ok and "annotations" in message
    assert window.scene.crs.to_epsg() == 32631


def test_crs_dialog_validates_what_is_typed(qtbot, window, shared_data):
    from viewer.qt.crs import CrsDialog

    open_and_wait(qtbot, window, shared_data / "citymodels" / "delft.city.json")
    dialog = CrsDialog(window.scene.crs, None, [l.data.crs for l in window.scene.layers],
                       window)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QtWidgets.QDialogButtonBox.Ok)
    assert dialog.scene_edit.currentText() == "EPSG:7415" and ok.isEnabled()
    assert "RD New" in dialog.scene_info.text()
    dialog.second_edit.setCurrentText("EPSG:99999999")
    assert not ok.isEnabled() and "not a coordinate reference system" in \
        dialog.second_info.text()
    dialog.second_edit.setCurrentText("4326")
    assert ok.isEnabled() and "WGS 84" in dialog.second_info.text()
    scene_crs, second = dialog.values()
    assert scene_crs.to_epsg() == 7415 and second.to_epsg() == 4326


def test_model_without_crs_aligned_by_point_pairs_and_saved(qtbot, window, shared_data,
                                                            tmp_path):
    from heritage.project import Project
    from loaders.georef import apply_matrix

    laz = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    dh = shared_data / "citymodels" / "DH_01_subs.city.json"  # no CRS, Den Haag
    open_and_wait(qtbot, window, laz, dh)
    scan = window.scene.layer_by_name("ahn3_cropped_2.laz")
    model = window.scene.layer_by_name("DH_01_subs.city.json")
    assert layer_row(window, model).text(0).startswith("⚠")
    panel = window.alignment_panel
    window.alignment_dock.raise_()
    panel.set_layers(model, scan)
    # three corners of the model's box, matched to three points of the scan's area
    lo, hi = bounds(model)
    src = np.array([[lo[0], lo[1], lo[2]], [hi[0], lo[1], lo[2]], [lo[0], hi[1], hi[2]]])
    slo, shi = bounds(scan)
    shift = np.array([slo[0] + 20, slo[1] + 40, slo[2]]) - src[0]
    for p in src:
        panel.add_pair(p, p + shift)
    assert panel.fit_matrix is not None and panel.residuals.max() < 1e-6
    assert panel.apply_fit_button.isEnabled()
    qtbot.mouseClick(panel.apply_fit_button, QtCore.Qt.LeftButton)
    moved = apply_matrix(model.transform, src)
    np.testing.assert_allclose(moved, src + shift, atol=1e-4)
    out = tmp_path / "site.json"
    window.session.save(out)
    # reopen the project: the model comes back aligned
    window.open_project(str(out))
    qtbot.waitUntil(lambda: not window.jobs and len(window.scene.layers) == 2,
                    timeout=60_000)
    model = window.scene.layer_by_name("DH_01_subs.city.json")
    np.testing.assert_allclose(apply_matrix(model.transform, src), src + shift, atol=1e-4)
    assert Project.load(out).layers
