"""Profiles (heritage.monitoring.profile) on real data: the Delft AHN3 scan and the 3dfier
LOD1 OBJ / CityJSON of the same place. Point counts equal a numpy mask over laspy's
points (LAZ chunks and COPC node queries), cut lines lie on the section plane, on the
model's triangles and at its roof heights; CSV / SVG / PNG are written; measurements."""

from __future__ import annotations

import csv
import io
import math
import xml.etree.ElementTree as ET

import laspy
import numpy as np
import pytest

from heritage.monitoring.clip import Slab, clip_file
from heritage.monitoring.profile import (
    Profile,
    ProfileLine,
    ProfileMeasurement,
    cut_lines,
    points_from_file,
    profile_files,
    profile_layers,
)
from loaders.types import LoadError

LINE = "85000,447450,85060,447600"  # across the Delft scan, through four buildings


@pytest.fixture(scope="module")
def ahn3(shared_data):
    return shared_data / "pointclouds" / "ahn3_cropped_2.laz"


@pytest.fixture(scope="module")
def obj(shared_data):
    return shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj"


def numpy_corridor(x, y, x1, y1, x2, y2, half):
    """The corridor, written out independently: |cross| <= half, 0 <= dot <= L."""
    ux, uy = x2 - x1, y2 - y1
    length = math.hypot(ux, uy)
    ux, uy = ux / length, uy / length
    dx, dy = x - x1, y - y1
    along = dx * ux + dy * uy
    across = -dx * uy + dy * ux
    return (np.abs(across) <= half) & (along >= 0) & (along <= length)


def distance_to_triangles(p, tri):
    """Distance from point ``p`` to the nearest of the triangles ``tri`` (T, 3, 3),
    sampled densely on each triangle near ``p`` (barycentric grid)."""
    near = np.linalg.norm(tri.mean(axis=1) - p, axis=1) < np.linalg.norm(
        tri - tri.mean(axis=1)[:, None], axis=2).max(axis=1) + 1e-6
    best = np.inf
    for a, b, c in tri[near]:
        n = np.cross(b - a, c - a)
        if np.linalg.norm(n) == 0:
            continue
        n = n / np.linalg.norm(n)
        q = p - np.dot(p - a, n) * n  # projection onto the plane
        v0, v1, v2 = b - a, c - a, q - a
        d00, d01, d11 = v0 @ v0, v0 @ v1, v1 @ v1
        d20, d21 = v2 @ v0, v2 @ v1
        den = d00 * d11 - d01 * d01
        v = (d11 * d20 - d01 * d21) / den
        w = (d00 * d21 - d01 * d20) / den
        if min(v, w, 1 - v - w) >= -1e-4:
            best = min(best, abs(np.dot(p - a, n)))
    return best


def test_points_equal_a_numpy_mask_over_laspy(ahn3):
    las = laspy.read(ahn3)
    x, y = np.asarray(las.x), np.asarray(las.y)
    line = ProfileLine.parse(LINE, width=2.0)
    expected = numpy_corridor(x, y, 85000, 447450, 85060, 447600, 1.0)
    assert 1000 < expected.sum() < len(x)
    pts = points_from_file(ahn3, line, chunk_points=50_000)  # several chunks
    assert len(pts) == expected.sum() and pts.source == "file"
    assert pts.source_points == len(x)
    want = np.c_[x[expected], y[expected], np.asarray(las.z)[expected]]
    order = np.lexsort(pts.xyz.T[::-1])
    np.testing.assert_allclose(pts.xyz[order], want[np.lexsort(want.T[::-1])], atol=1e-9)
    # classes kept; the projection: distance along, height = z, |offset| <= half width
    assert sorted(np.unique(pts.classification)) == sorted(
        np.unique(np.asarray(las.classification)[expected]))
    assert np.all(np.abs(pts.offset) <= 1.0) and pts.distance.min() >= 0
    assert pts.distance.max() <= line.length
    np.testing.assert_allclose(pts.height, pts.xyz[:, 2])
    back = line.to_xyz(pts.distance, pts.height)
    np.testing.assert_allclose(np.hypot(*(back[:, :2] - pts.xyz[:, :2]).T),
                               np.abs(pts.offset), atol=1e-6)


def test_in_memory_layer_equals_file_and_transform_moves(ahn3):
    from loaders import read
    from viewer.scene import Layer

    line = ProfileLine.parse(LINE, width=3.0)
    cloud = read(ahn3)
    memory = profile_layers([Layer("scan", cloud)], line).points[0]
    from_file = profile_layers([Layer("scan", cloud, path=str(ahn3))], line).points[0]
    assert memory.source == "memory" and from_file.source == "file"
    assert len(memory) == len(from_file) > 1000
    # an aligned layer: its points are cut where they are shown (moved 5 m east)
    moved = np.eye(4)
    moved[0, 3] = 5.0
    las = laspy.read(ahn3)
    expected = numpy_corridor(np.asarray(las.x) + 5.0, np.asarray(las.y), 85000, 447450,
                              85060, 447600, 1.5)
    shifted = profile_layers([Layer("scan", cloud, path=str(ahn3), transform=moved)], line)
    assert len(shifted.points[0]) == expected.sum() != len(from_file)


def test_copc_reads_only_the_corridor_and_equals_the_mask(shared_data, tmp_path):
    path = shared_data / "pointclouds" / "lion_takanawa.copc.laz"
    las = laspy.read(path)
    x, y = np.asarray(las.x), np.asarray(las.y)
    cx, cy = float(np.median(x)), float(np.median(y))
    line = ProfileLine((cx - 2.0, cy - 0.5), (cx + 2.0, cy + 0.7), 0.05)
    expected = numpy_corridor(x, y, cx - 2.0, cy - 0.5, cx + 2.0, cy + 0.7, 0.05)
    pts = points_from_file(path, line)
    assert len(pts) == expected.sum() > 100
    assert pts.rgb is not None and pts.rgb.dtype == np.uint8 and pts.rgb.max() > 100
    # the corridor is a clip region: clip_file writes the same points
    out = clip_file(path, line, tmp_path / "corridor.laz")
    assert out.points_written == expected.sum() and out.copc_query


def test_obj_cut_lines_lie_on_the_plane_on_the_mesh_at_roof_heights(ahn3, obj):
    import trimesh

    line = ProfileLine.parse(LINE, width=2.0)
    profile = profile_files([ahn3, obj], line)
    assert profile.units == "units"  # neither file has a CRS
    (cut,) = profile.cuts
    assert len(cut) > 50 and "Building" in cut.object_ids()
    ends = cut.xyz.reshape(-1, 3)
    along, across = line.coordinates(ends)
    assert np.abs(across).max() < 1e-6  # on the section plane
    assert along.min() >= -1e-9 and along.max() <= line.length + 1e-9
    np.testing.assert_allclose(cut.distance.ravel(), along, atol=1e-9)
    # on the model's Building triangles (the OBJ read by trimesh on its own, float64)
    scene = trimesh.load(obj, process=False)
    buildings = scene.geometry["Building"] if isinstance(scene, trimesh.Scene) else scene
    is_b = np.array([o == "Building" for o in cut.objects])
    b_ends = cut.xyz[is_b].reshape(-1, 3)
    tri = np.asarray(buildings.vertices, dtype=np.float64)[np.asarray(buildings.faces)]
    assert max(distance_to_triangles(p, tri) for p in b_ends) < 1e-3
    # flat LOD1 roofs: the horizontal building segments are at roof vertex heights, and
    # the scan's building points under them reach those heights
    flat = is_b & (np.abs(cut.height[:, 0] - cut.height[:, 1]) < 1e-6) & \
        (np.abs(cut.distance[:, 0] - cut.distance[:, 1]) > 0.5)
    roofs = np.unique(np.round(cut.height[flat, 0], 2))
    assert len(roofs) >= 3  # several buildings of different heights cut
    vertex_z = np.unique(np.round(np.asarray(buildings.vertices)[:, 2], 2))
    assert set(roofs) <= set(vertex_z)
    (pts,) = profile.points
    for roof in roofs:  # LOD1: one height per building, a high percentile of its roof
        under = np.zeros(len(pts), dtype=bool)
        for s in np.flatnonzero(flat & (np.abs(cut.height[:, 0] - roof) < 0.01)):
            d0, d1 = sorted(cut.distance[s])
            under |= (pts.distance >= d0) & (pts.distance <= d1)
        under &= pts.classification == 6  # the scan's building points
        assert under.sum() >= 5
        assert abs(np.percentile(pts.height[under], 90) - roof) < 2.5


def test_city_model_cut_lines_per_object(shared_data):
    from loaders import read

    city = read(shared_data / "citymodels" / "delft.city.json")
    line = ProfileLine.parse(LINE, width=2.0)
    cut = cut_lines("city", city, line)
    ids = cut.object_ids()
    types = {city.feature(i).type for i in ids}
    assert "Building" in types and len([i for i in ids
                                        if city.feature(i).type == "Building"]) >= 3
    # a hidden object is not cut
    building = next(i for i in ids if city.feature(i).type == "Building")
    hidden = cut_lines("city", city, line, hidden_features={building})
    assert building not in hidden.object_ids() and len(hidden) < len(cut)


def test_exports_csv_svg_png(ahn3, obj, tmp_path):
    from PIL import Image

    line = ProfileLine.parse(LINE, width=2.0)
    profile = profile_files([ahn3, obj], line)
    m = ProfileMeasurement((20.0, 0.3), (25.0, 13.07))
    rows = list(csv.reader(io.StringIO(
        profile.write(tmp_path / "p.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["distance", "height", "x", "y", "z", "layer", "class", "segment"]
    assert len(rows) == 1 + profile.point_count + 2 * profile.segment_count
    first = rows[1]
    assert first[5] == "ahn3_cropped_2.laz" and first[6] in {"1", "2", "6", "9", "26"}
    assert float(first[1]) == float(first[4])
    cut_rows = [r for r in rows[1:] if r[5] == "testarea.obj"]
    assert len(cut_rows) == 2 * profile.segment_count and "Building" in {r[6] for r in cut_rows}
    svg = profile.write(tmp_path / "p.svg", measurements=[m], title="Delft")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = svg.read_text(encoding="utf-8")
    assert "distance along the profile (units)" in text and "S 13.714 units" in text
    png = profile.write(tmp_path / "p.png", measurements=[m], size=(8, 4), dpi=100)
    with Image.open(png) as im:
        assert im.size == (800, 400)
        assert len(set(im.convert("RGB").getdata())) > 20  # drawn, not blank
    with pytest.raises(LoadError, match="unknown output type"):
        profile.write(tmp_path / "p.pdf")


def test_measurement_values_and_3d_points():
    line = ProfileLine((100.0, 200.0), (130.0, 240.0), 0.5)  # 50 m long
    m = ProfileMeasurement((10.0, 2.0), (13.0, 6.0))
    assert m.horizontal == pytest.approx(3.0)
    assert m.vertical == pytest.approx(4.0)
    assert m.slope_distance == pytest.approx(5.0)
    assert m.slope_degrees == pytest.approx(math.degrees(math.atan2(4, 3)))
    a, b = np.array(m.points_3d(line))
    np.testing.assert_allclose(a, [106.0, 208.0, 2.0])
    assert np.linalg.norm(b - a) == pytest.approx(5.0)
    from heritage.model import Measurement

    saved = Measurement("distance", m.points_3d(line), label="profile")
    assert saved.value == pytest.approx(m.slope_distance)


def test_line_parsing_slab_and_nearest():
    with pytest.raises(ValueError, match="four numbers"):
        ProfileLine.parse("1,2,3", 1.0)
    with pytest.raises(ValueError, match="two different points"):
        ProfileLine.parse("1,2,1,2", 1.0)
    with pytest.raises(ValueError, match="positive"):
        ProfileLine.parse("0,0,1,1", 0.0)
    slab = Slab((10.0, 5.0, 0.0), (0.0, 1.0, 0.0), 2.0)  # the plane y = 5
    line = ProfileLine.from_slab(slab, (0.0, 0.0, 20.0, 10.0))
    assert line.half_width == 1.0 and line.length == pytest.approx(20.0)
    assert {line.start, line.end} == {(0.0, 5.0), (20.0, 5.0)}
    xyz = np.array([[3.0, 5.9, 1.0], [3.0, 6.1, 1.0], [25.0, 5.0, 0.0]])
    assert line.mask(xyz).tolist() == [True, False, False]
    assert slab.mask(xyz).tolist() == [True, False, True]  # unbounded along the line
    with pytest.raises(ValueError, match="vertical"):
        ProfileLine.from_slab(Slab((0, 0, 0), (0, 0, 1), 1.0), (0, 0, 1, 1))
    p = Profile(line)
    assert p.extent() is None and p.nearest(1.0, 1.0) is None


def test_bad_file_is_one_load_error(tmp_path, shared_data):
    bad = tmp_path / "bad.laz"
    bad.write_bytes(b"LASF" + b"\0" * 50)
    line = ProfileLine.parse("0,0,1,1", 1.0)
    with pytest.raises(LoadError) as info:
        points_from_file(bad, line)
    assert "bad.laz" in info.value.message
    with pytest.raises(LoadError, match="not found"):
        points_from_file(tmp_path / "missing.laz", line)
