"""Colour modes of viewer.colors on synthetic and real data."""

from __future__ import annotations

import numpy as np
import pytest

from loaders import Material, Mesh, MeshPart, PointCloud, split_origin
from viewer import colors
from viewer.scene import Scene


def _cloud(n=100, **attrs) -> PointCloud:
    rng = np.random.default_rng(1)
    xyz = rng.uniform(0, 10, (n, 3)) + [100000.0, 400000.0, 0.0]
    xyz[:, 2] = np.linspace(0, 10, n)
    pos, origin = split_origin(xyz)
    return PointCloud(pos, origin, attributes=attrs)


def _layer(data, **display):
    return Scene().add(data, **display)


def test_ground_is_asprs_brown_and_standard_names():
    assert colors.class_name(2) == "Ground"
    r, g, b = colors.class_color(2)
    assert r > g > b and r - b > 60  # brown
    assert colors.class_name(6) == "Building"
    assert colors.class_name(9) == "Water"
    assert colors.class_name(18) == "High noise"
    assert len({colors.class_color(c) for c in range(19)}) == 19  # all distinct


def test_classification_mode_colours_and_unknown_code():
    codes = np.array([2, 2, 6, 65, 255, 0], np.uint8)
    layer = _layer(_cloud(6, classification=codes), color_mode="classification")
    rgb = colors.layer_rgb(layer)
    assert rgb.dtype == np.uint8 and rgb.shape == (6, 3)
    assert tuple(rgb[0]) == colors.ASPRS_CLASSES[2][1]
    assert tuple(rgb[2]) == colors.ASPRS_CLASSES[6][1]
    # a code outside the standard table still gets a stable colour and a name
    assert tuple(rgb[3]) == colors.class_color(65)
    assert colors.class_color(65) not in {c for _, c in colors.ASPRS_CLASSES.values()}
    assert colors.class_name(65) == "Class 65"
    legend = colors.class_legend(layer)
    assert [(code, count) for code, _, _, count in legend] == [
        (0, 1), (2, 2), (6, 1), (65, 1), (255, 1)]
    assert legend[3][1] == "Class 65" and legend[3][2] == colors.class_color(65)


def test_real_ahn3_unknown_class_26(read_shared):
    las = read_shared("pointclouds/ahn3_cropped_2.laz", reader="laspy")
    codes = np.asarray(las.classification)
    classes, counts = np.unique(codes, return_counts=True)
    expected = dict(zip(classes.tolist(), counts.tolist(), strict=True))  # laspy's counts
    pos, origin = split_origin(np.c_[las.x, las.y, las.z])
    cloud = PointCloud(pos, origin, {"classification": codes})
    layer = _layer(cloud, color_mode="classification")
    legend = {code: (name, rgb, count) for code, name, rgb, count in colors.class_legend(layer)}
    assert set(legend) == {1, 2, 6, 9, 26}
    assert {code: count for code, (_, _, count) in legend.items()} == expected
    assert legend[26][:2] == ("Class 26", colors.class_color(26))
    assert legend[2][:2] == ("Ground", colors.class_color(2))


def test_hidden_classes_mask():
    codes = np.array([1, 2, 2, 6, 65], np.uint8)
    layer = _layer(_cloud(5, classification=codes), hidden_classes={2, 65})
    assert colors.visible_mask(layer).tolist() == [True, False, False, True, False]
    assert colors.visible_mask(layer, np.array([3, 4])).tolist() == [True, False]
    layer.hidden_classes = set()
    assert colors.visible_mask(layer) is None


def test_intensity_percentile_stretch_is_gray():
    values = np.arange(101, dtype=np.uint16)  # 0..100: 2nd percentile 2, 98th 98
    layer = _layer(_cloud(101, intensity=values), color_mode="intensity")
    rgb = colors.layer_rgb(layer)
    assert np.all(rgb[:, 0] == rgb[:, 1]) and np.all(rgb[:, 1] == rgb[:, 2])
    assert rgb[0, 0] == 0 and rgb[2, 0] == 0  # clamped below the 2 % point
    assert rgb[100, 0] == 255 and rgb[98, 0] == 255
    assert 100 < rgb[50, 0] < 155
    assert colors.scalar_range(layer) == pytest.approx((2.0, 98.0))
    layer.contrast = (0.0, 100.0)
    assert colors.scalar_range(layer) == pytest.approx((0.0, 100.0))
    # colours are computed on the whole layer even for a subset of indices
    sub = colors.layer_rgb(layer, np.array([0, 100]))
    assert sub[:, 0].tolist() == [0, 255]


def test_elevation_ramp_in_true_units():
    layer = _layer(_cloud(50), color_mode="elevation", contrast=(0.0, 100.0),
                   colormap="viridis")
    info = colors.scalar_info(layer)
    assert info.name == "elevation" and info.colormap == "viridis"
    assert (info.vmin, info.vmax) == pytest.approx((0.0, 10.0), abs=1e-5)
    rgb = colors.layer_rgb(layer)
    lut = colors.colormap_lut("viridis")
    assert tuple(rgb[0]) == tuple(lut[0]) and tuple(rgb[-1]) == tuple(lut[-1])


def test_attribute_mode_uses_layer_colormap():
    values = np.linspace(-5, 5, 30)
    layer = _layer(_cloud(30, gps_time=values), color_mode="attribute",
                   attribute="gps_time", colormap="turbo", contrast=(0, 100))
    rgb = colors.layer_rgb(layer)
    lut = colors.colormap_lut("turbo")
    assert tuple(rgb[0]) == tuple(lut[0]) and tuple(rgb[-1]) == tuple(lut[-1])
    assert colors.scalar_info(layer).name == "gps_time"


def test_rgb_solid_and_fallbacks():
    rgb16 = np.array([[65535, 0, 256]] * 4, np.uint16)
    layer = _layer(_cloud(4, rgb=rgb16), color_mode="rgb")
    assert colors.layer_rgb(layer)[0].tolist() == [255, 0, 1]
    layer = _layer(_cloud(4), color_mode="solid", solid_color=(1.0, 0.5, 0.0))
    assert colors.layer_rgb(layer)[0].tolist() == [255, 128, 0]
    # a mode the data cannot show falls back to solid instead of crashing ...
    layer.color_mode = "classification"
    assert colors.effective_mode(layer) == "solid"
    assert colors.layer_rgb(layer)[0].tolist() == [255, 128, 0]
    # ... and check_color_mode explains the problem for the CLI
    with pytest.raises(ValueError, match="not available"):
        colors.check_color_mode(layer, "classification")
    with pytest.raises(ValueError, match="no scalar attribute"):
        colors.check_color_mode(layer, "attribute", "nope")


def test_mesh_material_and_vertex_colours():
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 1]], np.float32)
    faces = np.array([[0, 1, 2], [1, 3, 2]], np.int32)
    vc = np.array([[255, 0, 0, 255]] * 4, np.uint8)
    parts = [MeshPart("roof", 0, 1, Material("roof", (1.0, 0.0, 0.0, 1.0))),
             MeshPart("tex", 1, 2, Material("tex", texture=np.full((4, 4, 3), 40, np.uint8)))]
    mesh = Mesh(verts, np.zeros(3), faces, vertex_colors=vc, parts=parts)
    layer = _layer(mesh)
    assert layer.color_mode == "material"
    lc = colors.layer_colors(layer)
    assert lc.association == "cell"
    assert lc.rgb.tolist() == [[255, 0, 0], [40, 40, 40]]
    layer.color_mode = "vertex"
    lc = colors.layer_colors(layer)
    assert lc.association == "point" and lc.rgb.tolist() == [[255, 0, 0]] * 4
    layer.color_mode = "elevation"
    assert colors.scalar_range(layer) is not None


@pytest.mark.parametrize("name", [*colors.COLORMAPS, "gray_r", "grey"])
def test_colormaps(name):
    lut = colors.colormap_lut(name)
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert not np.array_equal(lut[0], lut[-1])


def test_unknown_colormap():
    with pytest.raises(ValueError, match="unknown colormap"):
        colors.colormap_lut("no-such-map")


def test_no_qt_or_vtk_import():
    import subprocess
    import sys

    code = ("import sys, viewer.colors; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('vtk', 'vtkmodules', 'pyvista', 'PySide6', 'pyvistaqt')]; print(bad); "
            "sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
