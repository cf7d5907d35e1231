"""Clip regions and the full-resolution clip export (heritage.monitoring.clip) on real
LAS/LAZ/COPC files: counts equal a numpy mask over laspy's points, every dimension, the
scales/offsets, the CRS and the VLRs survive, COPC input reads only the touched nodes."""

from __future__ import annotations

import laspy
import numpy as np
import pytest

from heritage.model import Annotation
from heritage.monitoring.clip import Box, Polygon, Slab, clip_file, region_from_annotation
from loaders.types import LoadCancelled, LoadError

FILES = ("autzen_trim.laz", "append-bug.laz", "lion_takanawa.copc.laz")


def _xyz(las) -> np.ndarray:
    return np.c_[np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)]


def _middle_box(las, lo_q=0.3, hi_q=0.7, full_z=True) -> Box:
    xyz = _xyz(las)
    lo = np.quantile(xyz, lo_q, axis=0)
    hi = np.quantile(xyz, hi_q, axis=0)
    if full_z:
        lo[2], hi[2] = xyz[:, 2].min(), xyz[:, 2].max()
    return Box(tuple(lo), tuple(hi))


def _numpy_box_mask(las, box: Box) -> np.ndarray:
    x, y, z = np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)
    (x0, y0, z0), (x1, y1, z1) = box.min, box.max
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1) & (z >= z0) & (z <= z1)


def _sorted_records(arr: np.ndarray) -> np.ndarray:
    raw = np.ascontiguousarray(arr).view(np.uint8).reshape(len(arr), -1)
    return raw[np.lexsort(raw.T[::-1])]


def _user_vlrs(header) -> list[tuple[str, int, bytes]]:
    """The VLRs/EVLRs that must survive (not the ones the writer remakes)."""
    out = []
    for v in list(header.vlrs) + list(header.evlrs or []):
        if type(v).__name__ in ("LasZipVlr", "ExtraBytesVlr", "CopcInfoVlr",
                                "CopcHierarchyVlr"):
            continue
        out.append((v.user_id, v.record_id, bytes(v.record_data_bytes())))
    return out


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("suffix", [".laz", ".las"])
def test_box_clip_equals_numpy_mask_and_keeps_everything(shared_data, tmp_path, name, suffix):
    src = shared_data / "pointclouds" / name
    las = laspy.read(src)
    box = _middle_box(las)
    mask = _numpy_box_mask(las, box)
    assert 0 < mask.sum() < len(las)
    result = clip_file(src, box, tmp_path / f"out{suffix}")
    out = laspy.read(tmp_path / f"out{suffix}")
    assert result.points_written == len(out) == int(mask.sum())
    assert out.header.are_points_compressed == (suffix == ".laz")
    # every dimension (extra bytes too), with the same values, format, version, scaling
    assert out.point_format.id == las.point_format.id
    assert list(out.point_format.dimension_names) == list(las.point_format.dimension_names)
    assert str(out.header.version) == str(las.header.version)
    assert np.array_equal(out.header.scales, las.header.scales)
    assert np.array_equal(out.header.offsets, las.header.offsets)
    expected = las.points.array[mask]
    assert out.points.array.dtype == expected.dtype
    assert np.array_equal(_sorted_records(out.points.array), _sorted_records(expected))
    # CRS and the VLRs that stay valid
    assert out.header.parse_crs() == las.header.parse_crs()
    assert _user_vlrs(out.header) == _user_vlrs(las.header)
    assert int(out.header.global_encoding.value) == int(las.header.global_encoding.value)
    xyz = _xyz(out)
    assert np.allclose(out.header.mins, xyz.min(axis=0)) and \
        np.allclose(out.header.maxs, xyz.max(axis=0))


def test_extra_bytes_and_crs_of_the_pf8_file(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "append-bug.laz"
    las = laspy.read(src)
    box = _middle_box(las)
    clip_file(src, box, tmp_path / "o.laz")
    out = laspy.read(tmp_path / "o.laz")
    assert out.point_format.id == 8
    assert {"Deviation", "ExtraBytes", "nir"} <= set(out.point_format.dimension_names)
    assert out.header.parse_crs().to_epsg() == 2154
    mask = _numpy_box_mask(las, box)
    assert np.array_equal(np.asarray(out["Deviation"]), np.asarray(las["Deviation"])[mask])


def test_inside_plus_outside_is_everything(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    las = laspy.read(src)
    box = _middle_box(las, full_z=False)
    a = clip_file(src, box, tmp_path / "in.laz")
    b = clip_file(src, box, tmp_path / "out.laz", outside=True)
    assert a.points_written + b.points_written == len(las)
    both = np.concatenate([laspy.read(tmp_path / "in.laz").points.array,
                           laspy.read(tmp_path / "out.laz").points.array])
    assert np.array_equal(_sorted_records(both), _sorted_records(las.points.array))


def test_copc_reads_only_the_nodes_the_box_touches(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "lion_takanawa.copc.laz"
    las = laspy.read(src)
    box = _middle_box(las, 0.45, 0.55, full_z=False)
    mask = _numpy_box_mask(las, box)
    result = clip_file(src, box, tmp_path / "lion.laz")
    assert result.copc_query
    assert result.points_written == int(mask.sum()) > 0
    assert result.points_read < len(las)
    assert result.bytes_read < src.stat().st_size
    assert 0 < result.nodes_read < result.nodes_total
    out = laspy.read(tmp_path / "lion.laz")
    assert "OriginId" in out.point_format.dimension_names
    assert np.array_equal(_sorted_records(out.points.array),
                          _sorted_records(las.points.array[mask]))
    # the COPC records describe the source's octree: not carried into a plain LAZ
    assert not any(type(v).__name__.startswith("Copc") for v in out.header.vlrs)
    # the whole-file path over the same file gives the same points
    whole = clip_file(src, Slab((0, 0, box.min[2]), (0, 1, 1), 1e-9), tmp_path / "x.laz")
    assert not whole.copc_query and whole.points_read == len(las)


def test_copc_output_is_indexed(shared_data, tmp_path):
    from loaders.copc import is_copc

    src = shared_data / "pointclouds" / "autzen_trim.laz"
    las = laspy.read(src)
    box = _middle_box(las)
    result = clip_file(src, box, tmp_path / "part.copc.laz")
    out = tmp_path / "part.copc.laz"
    assert is_copc(out) and result.output == out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part.copc.laz"]
    with laspy.CopcReader.open(out) as reader:
        pts = reader.query()
    assert len(pts) == int(_numpy_box_mask(las, box).sum())
    assert laspy.read(out).header.parse_crs() == las.header.parse_crs()


def test_polygon_clip_from_wkt_and_annotation(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    las = laspy.read(src)
    xyz = _xyz(las)
    x0, y0 = np.quantile(xyz[:, :2], 0.2, axis=0)
    x1, y1 = np.quantile(xyz[:, :2], 0.8, axis=0)
    tri = [(x0, y0), (x1, y0), ((x0 + x1) / 2, y1)]
    wkt = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in tri + tri[:1]) + "))"
    zmid = float(np.median(xyz[:, 2]))
    region = Polygon.from_wkt(wkt, zmax=zmid)
    # an independent even-odd point-in-polygon test
    x, y = xyz[:, 0], xyz[:, 1]
    inside = np.zeros(len(x), bool)
    for (ax, ay), (bx, by) in zip(tri, tri[1:] + tri[:1], strict=True):
        crosses = (ay > y) != (by > y)
        xc = ax + (y - ay) * (bx - ax) / np.where(by != ay, by - ay, 1)
        inside ^= crosses & (x < xc)
    expected = inside & (xyz[:, 2] <= zmid)
    assert 0 < expected.sum() < len(las)
    result = clip_file(src, region, tmp_path / "poly.laz")
    assert result.points_written == int(expected.sum())
    ann = Annotation(kind="polygon", points=[[px, py, 0.0] for px, py in tri])
    from_ann = region_from_annotation(ann, zmax=zmid)
    assert np.array_equal(from_ann.mask(xyz), region.mask(xyz))
    assert np.array_equal(region.mask(xyz, inside=False), ~region.mask(xyz))


def test_region_masks():
    rng = np.random.default_rng(3)
    pts = rng.uniform(-10, 10, (20_000, 3))
    # a rotated box: 90 degrees swaps its x and y extents about its centre
    box = Box((-4, -1, -10), (4, 1, 10), angle=90)
    same = Box((-1, -4, -10), (1, 4, 10))
    assert np.array_equal(box.mask(pts), same.mask(pts))
    turned = Box((-4, -1, -10), (4, 1, 10), angle=30)
    a = np.radians(30)
    u = np.cos(a) * pts[:, 0] + np.sin(a) * pts[:, 1]
    v = -np.sin(a) * pts[:, 0] + np.cos(a) * pts[:, 1]
    assert np.array_equal(turned.mask(pts), (np.abs(u) <= 4) & (np.abs(v) <= 1))
    lo, hi = turned.bounds()
    assert np.all(pts[turned.mask(pts)] >= lo) and np.all(pts[turned.mask(pts)] <= hi)
    slab = Slab((0, 0, 1), (0, 0, 2), 0.5)
    assert np.array_equal(slab.mask(pts), np.abs(pts[:, 2] - 1) <= 0.25)
    assert slab.is_bounded() and not Slab((0, 0, 0), (1, 1, 0), 1).is_bounded()
    ring = Polygon([(-5, -5), (5, -5), (5, 5), (-5, 5)], holes=[[(-1, -1), (1, -1), (1, 1),
                                                                  (-1, 1)]])
    m = ring.mask(pts)
    ax, ay = np.abs(pts[:, 0]), np.abs(pts[:, 1])
    assert np.array_equal(m, (ax <= 5) & (ay <= 5) & ~((ax < 1) & (ay < 1)))
    box_ann = Annotation(kind="box", points=[[1, 2, 3], [4, 5, 6]])
    assert region_from_annotation(box_ann) == Box((1, 2, 3), (4, 5, 6))
    for bad in (lambda: Box.parse("1,2,3"), lambda: Box((1, 0, 0), (0, 1, 1)),
                lambda: Polygon.from_wkt("LINESTRING(0 0, 1 1)"),
                lambda: Polygon.from_wkt("POLYGON((0 0"), lambda: Slab((0, 0, 0), (0, 0, 0), 1),
                lambda: region_from_annotation(Annotation(kind="point", points=[[0, 0, 0]]))):
        with pytest.raises(ValueError):
            bad()


def test_progress_and_cancel_leave_no_output(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    las = laspy.read(src)
    box = _middle_box(las)
    seen = []
    clip_file(src, box, tmp_path / "a.laz", chunk_points=20_000,
              progress=lambda f, m: seen.append(f))
    assert len(seen) >= 6 and seen == sorted(seen) and seen[-1] == 1.0
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    for name in ("b.laz", "c.copc.laz"):
        calls.clear()
        with pytest.raises(LoadCancelled):
            clip_file(src, box, tmp_path / name, chunk_points=20_000, cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.laz"]


def test_bad_inputs_are_one_clear_error(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    box = Box((0, 0, 0), (1, 1, 1))
    text = tmp_path / "notes.laz"
    text.write_text("not a point cloud")
    truncated = tmp_path / "cut.laz"
    truncated.write_bytes(src.read_bytes()[:5000])
    cases = [(tmp_path / "missing.laz", tmp_path / "o.laz", "not found"),
             (tmp_path, tmp_path / "o.laz", "folder"),
             (text, tmp_path / "o.laz", "LASF"),
             (truncated, tmp_path / "o.laz", ""),
             (src, tmp_path / "o.txt", "output type"),
             (src, tmp_path, "output type")]
    for source, out, words in cases:
        with pytest.raises(LoadError) as info:
            clip_file(source, box, out)
        assert words in info.value.message and "\n" not in info.value.message
    copy = tmp_path / "same.laz"
    copy.write_bytes(src.read_bytes())
    with pytest.raises(LoadError, match="overwrite"):
        clip_file(copy, box, copy)
    with pytest.raises(LoadError, match="no points"):
        clip_file(src, box, tmp_path / "empty.copc.laz")
    assert not (tmp_path / "o.laz").exists() and not (tmp_path / "empty.copc.laz").exists()


def test_site_layer_export_clip(shared_data, tmp_path):
    from viewer.api import open_files

    src = shared_data / "pointclouds" / "append-bug.laz"
    las = laspy.read(src)
    box = _middle_box(las)
    with open_files(src) as site:
        layer = site.layers[0]
        result = layer.export_clip(Annotation(kind="box", points=[box.min, box.max]),
                                   tmp_path / "a.laz")
    assert result.points_written == int(_numpy_box_mask(las, box).sum())
    assert len(laspy.read(tmp_path / "a.laz")) == result.points_written
