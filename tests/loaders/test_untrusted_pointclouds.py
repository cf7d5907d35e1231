"""Point clouds from others: files without points, text tables of any line structure,
geographic coordinates drawn in metres, and coordinates shown at the file's precision.
Every odd input is built here."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from pathlib import Path

import laspy
import numpy as np
import pytest
from pyproj import CRS

import loaders
from loaders import LoadError, georef
from loaders.formats import xyz as xyz_reader

# --------------------------------------------------------------------------------------
# builders of empty files (shared with the GUI test)
# --------------------------------------------------------------------------------------


def write_empty_las(path: Path, point_format: int = 3) -> Path:
    """A valid LAS/LAZ (by extension) whose header says 0 points."""
    las = laspy.LasData(laspy.LasHeader(point_format=point_format, version="1.2"))
    las.write(str(path))
    return Path(path)


def write_empty_e57(path: Path, scans: int = 1, images: int = 0) -> Path:
    """An E57 with ``scans`` scans of zero points (a real cartesian prototype and an empty
    compressed vector) and ``images`` embedded JPEG images (Image2D with a visual
    reference representation), written with libE57 through pye57."""
    import pye57
    from pye57 import libe57

    e57 = pye57.E57(str(path), mode="w")
    f = e57.image_file
    root = f.root()
    for _ in range(scans):
        scan = libe57.StructureNode(f)
        scan.set("guid", libe57.StringNode(f, "{%s}" % uuid.uuid4()))
        scan.set("name", libe57.StringNode(f, "scan without points"))
        proto = libe57.StructureNode(f)
        for name in ("cartesianX", "cartesianY", "cartesianZ"):
            proto.set(name, libe57.FloatNode(f, 0.0, libe57.E57_SINGLE, -1.0, 1.0))
        scan.set("points", libe57.CompressedVectorNode(f, proto, libe57.VectorNode(f, True)))
        e57.data3d.append(scan)
    jpeg = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
    images2d = libe57.VectorNode(root.get("images2D"))
    for k in range(images):
        image = libe57.StructureNode(f)
        image.set("guid", libe57.StringNode(f, "{%s}" % uuid.uuid4()))
        images2d.append(image)
        image = libe57.StructureNode(images2d.get(k))  # attached: blobs can be written
        visual = libe57.StructureNode(f)
        image.set("visualReferenceRepresentation", visual)
        blob = libe57.BlobNode(f, len(jpeg))
        visual.set("jpegImage", blob)
        visual.set("imageWidth", libe57.IntegerNode(f, 1))
        visual.set("imageHeight", libe57.IntegerNode(f, 1))
        blob.write(np.frombuffer(jpeg, np.uint8).copy(), 0, len(jpeg))
    e57.close()
    return Path(path)


# --------------------------------------------------------------------------------------
# files without points
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.las", "empty.laz"])
def test_las_without_points_opens_with_a_warning(tmp_path, name):
    path = write_empty_las(tmp_path / name)
    cloud = loaders.read(path)
    assert cloud.point_count == 0
    assert "the file holds no points" in cloud.warnings
    # level of detail copes with it too
    from loaders.lod import build_octree

    source = build_octree(cloud)
    assert source.total_points == 0


@pytest.mark.parametrize("scans,images", [(1, 0), (3, 0), (0, 1), (1, 2)])
def test_e57_without_points_opens_with_a_warning(tmp_path, scans, images):
    path = write_empty_e57(tmp_path / "empty.e57", scans=scans, images=images)
    cloud = loaders.read(path)
    assert cloud.point_count == 0 and cloud.kind == "pointcloud"
    warning = next(w for w in cloud.warnings if "no points" in w)
    if images:
        assert f"{images} image" in warning
    assert cloud.metadata["scan_count"] == scans
    assert cloud.metadata["image_count"] == images


def test_cli_info_and_render_of_files_without_points(tmp_path, capsys):
    from viewer.cli import main

    for path in (write_empty_las(tmp_path / "e.laz"),
                 write_empty_e57(tmp_path / "e.e57", scans=1)):
        assert main(["info", str(path)]) == 0
        out, err = capsys.readouterr()
        assert "points:     0" in out and "warning: the file holds no points" in out
        assert "bounds:     none (no points)" in out
        png = tmp_path / f"{path.suffix[1:]}.png"
        assert main(["render", str(path), "-o", str(png), "--size", "160x100"]) == 0
        out, err = capsys.readouterr()
        assert png.stat().st_size > 0 and "no points" in err


# --------------------------------------------------------------------------------------
# text tables: bounded memory whatever the line structure
# --------------------------------------------------------------------------------------


def _peak_growth(fn) -> tuple[object, int]:
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        try:
            result = fn()
        except LoadError as exc:
            result = exc
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return result, peak


def test_one_line_xyz_is_refused_in_bounded_memory(tmp_path):
    """A few MB of numbers on one line (no newline at all): a clear message, and memory
    a small multiple of... far less than the file, not ~40 times it."""
    path = tmp_path / "one_line.xyz"
    row = b"636001.76 848935.20 406.26 "
    path.write_bytes(row * (4_000_000 // len(row)))
    size = path.stat().st_size
    result, peak = _peak_growth(lambda: loaders.read(path))
    assert isinstance(result, LoadError)
    assert "line 1 is longer than" in result.message and "one point per line" in \
        result.message
    assert peak < 2 * size, f"{peak:,} bytes traced for a {size:,}-byte file"


def test_one_gigantic_line_after_normal_rows_is_refused(tmp_path):
    path = tmp_path / "late_long_line.xyz"
    with open(path, "wb") as fh:
        fh.write(b"1.0 2.0 3.0\n" * 20_000)
        fh.write(b"4.0 5.0 6.0 " * 400_000)  # ~5 MB without a line end
        fh.write(b"\n7.0 8.0 9.0\n")
    result, peak = _peak_growth(lambda: loaders.read(path))
    assert isinstance(result, LoadError)
    assert "line 20,001 is longer than" in result.message
    assert peak < 20 * path.stat().st_size  # (bounded by the block size, 8 MB)


def test_too_many_columns_is_a_clear_message(tmp_path):
    path = tmp_path / "wide.xyz"
    path.write_text(" ".join(["1.5"] * 5000) + "\n" + " ".join(["2.5"] * 5000) + "\n")
    with pytest.raises(LoadError, match=r"5,000 columns, more than the 1,000"):
        loaders.read(path)


def test_file_without_any_newline_is_read(tmp_path):
    path = tmp_path / "no_newline.xyz"
    path.write_bytes(b"10.5 20.25 30.125")  # one short row, no line end
    cloud = loaders.read(path)
    assert cloud.point_count == 1
    np.testing.assert_allclose(cloud.xyz()[0], [10.5, 20.25, 30.125])


def test_xyz_memory_is_proportional_to_the_points(tmp_path, monkeypatch):
    """A regular table of a few MB: peak traced memory stays a small multiple of the file,
    and, beyond the one block of text being parsed, of the output arrays."""
    rng = np.random.default_rng(7)
    n = 150_000
    table = np.column_stack([85_000 + rng.random(n) * 70, 447_400 + rng.random(n) * 240,
                             rng.random(n) * 26, rng.integers(0, 255, (n, 3))])
    path = tmp_path / "rows.xyz"
    np.savetxt(path, table, fmt=["%.3f", "%.3f", "%.3f", "%d", "%d", "%d"])
    size = path.stat().st_size
    cloud, peak = _peak_growth(lambda: loaders.read(path))
    assert cloud.point_count == n
    np.testing.assert_allclose(cloud.xyz(), np.round(table[:, :3], 3), atol=2e-3)
    assert np.array_equal(cloud.attributes["rgb"], table[:, 3:].astype(np.uint8))
    output = cloud.positions.nbytes + sum(a.nbytes for a in cloud.attributes.values())
    assert peak < 20 * size, (peak, size)
    # with small blocks (so that the text being parsed is not what counts): the points
    monkeypatch.setattr(xyz_reader, "BLOCK_BYTES", 1 << 17)
    again, peak = _peak_growth(lambda: loaders.read(path))
    np.testing.assert_array_equal(again.positions, cloud.positions)
    assert peak < 8 * output, (peak, output)
    # the file's decimals are kept for display
    assert cloud.metadata["decimals"] == 3
    lo, hi = georef.display_bounds(cloud)
    assert lo == [round(float(v), 3) for v in table[:, :3].min(axis=0)]
    assert hi == [round(float(v), 3) for v in table[:, :3].max(axis=0)]


def test_block_boundaries_do_not_change_the_result(tmp_path, monkeypatch):
    rows = [f"{i * 0.5:.1f} {i * 0.25:.2f} {i:.0f} {i % 200} {i % 3}\n" for i in range(3000)]
    path = tmp_path / "blocks.txt"
    path.write_text("x y z intensity classification\n" + "".join(rows))
    whole = loaders.read(path)
    monkeypatch.setattr(xyz_reader, "BLOCK_BYTES", 97)  # many blocks, cut mid-line
    pieces = loaders.read(path)
    assert pieces.point_count == whole.point_count == 3000
    np.testing.assert_array_equal(pieces.xyz(), whole.xyz())
    for key in ("intensity", "classification"):
        np.testing.assert_array_equal(pieces.attributes[key], whole.attributes[key])


# --------------------------------------------------------------------------------------
# geographic coordinates: a metric CRS chosen automatically
# --------------------------------------------------------------------------------------


def test_geographic_las_is_reprojected_to_its_utm_zone(shared_data):
    cloud = loaders.read(shared_data / "pointclouds" / "epsg_4326.las")
    assert cloud.crs.is_geographic
    lo_deg, hi_deg = cloud.bounds
    assert (hi_deg - lo_deg)[0] < 0.03  # degrees
    crs = georef.prepare_for_scene(cloud, None)
    assert crs.to_epsg() == 32615 and cloud.crs.to_epsg() == 32615  # WGS 84 / UTM 15N
    lo, hi = cloud.bounds
    extent = hi - lo
    # hundreds of metres to kilometres in x and y, comparable to each other
    assert 1500 < extent[0] < 3000 and 800 < extent[1] < 1600
    assert 0.3 < extent[1] / extent[0] < 1.0
    assert abs(extent[2] - (hi_deg - lo_deg)[2]) < 1e-3  # heights kept
    # the same points, transformed independently with pyproj
    from pyproj import Transformer

    t = Transformer.from_crs(4326, 32615, always_xy=True)
    x, y = t.transform(lo_deg[0], lo_deg[1])
    assert abs(lo[0] - x) < 300 and abs(lo[1] - y) < 300
    assert "UTM zone 15N" in cloud.metadata["auto_crs"]
    assert not any("geographic degrees" in w for w in cloud.warnings)
    # a scene CRS already set wins
    again = loaders.read(shared_data / "pointclouds" / "epsg_4326.las")
    assert georef.prepare_for_scene(again, CRS.from_epsg(32616)).to_epsg() == 32616
    assert "auto_crs" not in again.metadata


@pytest.mark.parametrize("epsg,lon,lat,expect", [
    (4326, -94.67, 31.04, 32615),   # WGS 84 -> WGS 84 / UTM zone 15N
    (4269, -94.67, 31.04, 26915),   # NAD83 -> NAD83 / UTM zone 15N
    (4326, 4.36, 52.0, 32631),      # Delft
    (4326, 151.2, -33.9, 32756),    # Sydney, southern hemisphere
])
def test_metric_crs_is_the_utm_zone_of_the_centre(epsg, lon, lat, expect):
    crs = georef.metric_crs_for(CRS.from_epsg(epsg), (lon - 0.01, lat - 0.01, 0),
                                (lon + 0.01, lat + 0.01, 10))
    assert crs.to_epsg() == expect


def test_metric_crs_for_a_datum_without_utm_definitions():
    # EPSG:4047 (GRS 1980 authalic sphere) has no UTM CRSs: WGS 84's zone, with the
    # longitudes/latitudes taken as they are (no invented datum shift)
    src = CRS.from_epsg(4047)
    crs = georef.metric_crs_for(src, (-94.68, 31.03, 0), (-94.66, 31.05, 0))
    assert crs.to_epsg() == 32615
    pts = georef.transform_points([[-94.67, 31.04, 0.0]], src, crs)
    same = georef.transform_points([[-94.67, 31.04, 0.0]], 4326, crs)
    np.testing.assert_allclose(pts, same, atol=1e-6)


@pytest.mark.parametrize("lat", [85.5, -86.0])
def test_metric_crs_near_the_poles_is_a_local_transverse_mercator(lat):
    crs = georef.metric_crs_for(CRS.from_epsg(4326), (10.0, lat - 0.05, 0),
                                (10.2, lat + 0.05, 0))
    assert crs.is_projected and "transverse Mercator" in crs.name
    pts = georef.transform_points([[10.1, lat, 0.0]], 4326, crs)
    assert np.all(np.abs(pts[0, :2]) < 10_000)  # near the projection's origin


def test_metric_crs_keeps_a_vertical_crs_and_ignores_projected_data():
    compound = CRS.from_user_input("EPSG:4326+5703")  # WGS 84 + NAVD88 height
    crs = georef.metric_crs_for(compound, (-94.7, 31.0, 0), (-94.6, 31.1, 0))
    assert crs.is_compound and crs.sub_crs_list[0].to_epsg() == 32615
    assert crs.sub_crs_list[1].to_epsg() == 5703
    assert georef.metric_crs_for(CRS.from_epsg(28992), (0, 0, 0), (1, 1, 1)) is None


# --------------------------------------------------------------------------------------
# coordinates shown at the file's precision
# --------------------------------------------------------------------------------------


def test_display_bounds_are_the_header_values_at_the_file_scale(shared_data):
    path = shared_data / "pointclouds" / "autzen_trim.laz"
    cloud = loaders.read(path)
    header = laspy.open(path).header
    lo, hi = georef.display_bounds(cloud)
    assert lo == [round(float(v), 2) for v in header.mins]
    assert hi == [round(float(v), 2) for v in header.maxs]
    # the float32 positions alone would give noise such as 636001.7600097656
    assert float(cloud.bounds[0][0]) != 636001.76 and lo[0] == 636001.76
    assert georef.coordinate_decimals(cloud) == 2


def test_decimals_follow_scale_offset_and_float_precision(tmp_path):
    las = laspy.LasData(laspy.LasHeader(point_format=0, version="1.2"))
    las.header.scales = np.array([0.001, 0.001, 0.01])
    las.header.offsets = np.array([0.0005, 0.0, 0.0])  # an offset finer than the scale
    las.x = np.array([1.0005, 2.0015])
    las.y = np.array([3.0, 4.0])
    las.z = np.array([5.0, 6.0])
    las.write(str(tmp_path / "fine.las"))
    cloud = loaders.read(tmp_path / "fine.las")
    assert georef.coordinate_decimals(cloud) == 4
    assert georef.display_bounds(cloud)[0][0] == 1.0005
    # a mesh (no scale): decimals from the float32 precision of its local coordinates
    mesh = loaders.Mesh(vertices=np.array([[-300, 0, 0], [300, 1, 1]], np.float32),
                        origin=np.array([85_000.0, 447_000.0, 0.0]),
                        faces=np.zeros((0, 3), np.int32))
    assert georef.coordinate_decimals(mesh) == 4
    assert georef.display_bounds(mesh)[0] == [84_700.0, 447_000.0, 0.0]


def test_streamed_copc_in_degrees_is_seen_in_its_utm_zone(shared_data, tmp_path):
    """A COPC in EPSG:4326 streams through a ReprojectedSource: node boxes and node points
    in metres, the same points as reading the file whole and reprojecting it."""
    from loaders.copc import open_copc
    from loaders.writers.copc import write_copc

    path = write_copc(shared_data / "pointclouds" / "epsg_4326.las",
                      tmp_path / "geo.copc.laz", leaf_points=500)
    source = open_copc(path)
    assert source.crs.is_geographic
    lod, preview = georef.prepare_source_for_scene(source, source.preview(), None)
    try:
        assert isinstance(lod, georef.ReprojectedSource)
        assert lod.crs.to_epsg() == 32615 and preview.crs.to_epsg() == 32615
        assert "UTM zone 15N" in lod.metadata["auto_crs"]
        assert lod.total_points == 5380 and lod.file_size == path.stat().st_size
        lo, hi = lod.bounds
        assert 1500 < (hi - lo)[0] < 3000 and 800 < (hi - lo)[1] < 1600
        table = lod.node_table()
        clouds = []
        for key, nlo, nhi in zip(table.keys, table.lo, table.hi, strict=True):
            cloud = lod.get(key)
            assert cloud.crs.to_epsg() == 32615
            if cloud.point_count:
                assert np.all(cloud.positions >= nlo - 1e-3), key
                assert np.all(cloud.positions <= nhi + 1e-3), key
                clouds.append(cloud.xyz())
        streamed = np.concatenate(clouds)
        whole = loaders.read(shared_data / "pointclouds" / "epsg_4326.las")
        georef.prepare_for_scene(whole, None)
        a = streamed[np.lexsort(streamed.T[::-1])]
        b = whole.xyz()[np.lexsort(whole.xyz().T[::-1])]
        np.testing.assert_allclose(a, b, atol=0.02)  # (COPC rounds to its own scale)
        # a projected source in the scene CRS is left as it is
        same, _ = georef.prepare_source_for_scene(source, preview, source.crs)
        assert same is source
    finally:
        lod.close()
