"""viewer.clip_layer: a region drawn in the scene taken back into a layer's file
coordinates (alignment inverted; a reprojected layer's outline through pyproj) and the
full-resolution export; a tilted box / reprojected slab refused with the reason."""

from __future__ import annotations

import math

import laspy
import numpy as np
import pytest

from heritage.monitoring.clip import Box, Polygon, Slab
from viewer.clip_layer import box_from_bounds, region_in_file, vertical_slab


class _Layer:
    def __init__(self, transform, metadata=None, units=None):
        from loaders import PointCloud

        self.transform, self.units, self.name, self.path = transform, units, "t", None
        self.data = PointCloud(positions=np.zeros((1, 3), np.float32), origin=np.zeros(3),
                               metadata=dict(metadata or {}))


def _turn(deg: float, shift=(0.0, 0.0, 0.0), tilt: float = 0.0) -> np.ndarray:
    a, t = math.radians(deg), math.radians(tilt)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])
    m = np.eye(4)
    m[:3, :3] = rz @ rx
    m[:3, 3] = shift
    return m


def test_regions_follow_the_layers_alignment_exactly():
    rng = np.random.default_rng(1)
    file_xyz = rng.uniform(-50, 50, (20_000, 3))
    m = _turn(35, (1000.0, -20.0, 3.0))
    scene_xyz = file_xyz @ m[:3, :3].T + m[:3, 3]
    layer = _Layer(m)
    regions = [Box((980, -40, -10), (1020, 0, 20), angle=10),
               Polygon(((970, -50), (1030, -40), (1000, 10)), zmin=-5, zmax=30),
               vertical_slab((1000, -20, 0), (1010, -15, 0), 6.0)]
    for region in regions:
        back = region_in_file(layer, region)
        assert type(back) is type(region)
        expected = region.mask(scene_xyz)
        assert 100 < expected.sum() < len(file_xyz)
        assert np.array_equal(back.mask(file_xyz), expected)


def test_units_and_tilts():
    rng = np.random.default_rng(2)
    file_xyz = rng.uniform(-5000, 5000, (10_000, 3))  # millimetres
    layer = _Layer(np.eye(4), units="mm")
    box = Box((-2, -3, -5), (3, 2, 5))
    assert np.array_equal(region_in_file(layer, box).mask(file_xyz), box.mask(file_xyz / 1000))
    tilted = _Layer(_turn(20, (5, 5, 0), tilt=3))
    with pytest.raises(ValueError, match="tilts"):
        region_in_file(tilted, box)
    slab = Slab((1, 2, 0), (0.3, 0.9, 0.2), 2.0)  # a slab follows any transform
    m = tilted.transform
    scene_xyz = file_xyz / 1000 @ m[:3, :3].T + m[:3, 3]
    assert np.array_equal(region_in_file(tilted, slab).mask(file_xyz / 1000),
                          slab.mask(scene_xyz))


def test_box_from_bounds_holds_every_point_at_three_decimals():
    box = box_from_bounds([1.0004, 2.0, 3.0], [4.0006, 2.0, 9.0])
    assert box.min[0] <= 1.0004 and box.max[0] >= 4.0006 and box.max[1] > box.min[1]
    with pytest.raises(ValueError, match="one vertical"):
        vertical_slab((1, 1, 0), (1, 1, 5), 1.0)


def test_export_of_a_reprojected_layer_uses_the_files_crs(shared_data, tmp_path):
    from pyproj import Transformer

    from viewer.api import open_files

    src = shared_data / "pointclouds" / "epsg_4326.las"
    las = laspy.read(src)
    lon, lat, z = np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)
    with open_files(src) as site:
        layer = site.layers[0]
        assert layer.layer.data.metadata.get("reprojected_from")  # drawn in metres
        tr = Transformer.from_crs("EPSG:4326", site.crs, always_xy=True)
        e, n = tr.transform(lon, lat)
        lo, hi = layer.bounds
        box = Box((lo[0], lo[1], lo[2] - 1), ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2,
                                              hi[2] + 1))
        inside = box.mask(np.column_stack([e, n, z]))
        assert 0 < inside.sum() < len(lon)
        result = site.export_clip(layer, tmp_path / "part.laz", region=box)
        assert result.points_written == int(inside.sum())
        outside = site.export_clip(layer, tmp_path / "rest.laz", region=box, inside=False)
        assert outside.points_written == len(lon) - int(inside.sum())
        site.set_clip(box)
        assert site.clip.region is box
        again = site.export_clip(layer.name, tmp_path / "again.laz")
        assert again.points_written == int(inside.sum())
        site.clear_clip()
        assert site.clip is None
        with pytest.raises(ValueError, match="slab"):
            site.export_clip(layer, tmp_path / "slab.laz",
                             region=vertical_slab(lo, hi, 5.0))
