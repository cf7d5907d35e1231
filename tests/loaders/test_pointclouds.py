"""Point-cloud readers against the real files, checked with the files' own libraries."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import loaders
from loaders import LoadCancelled, LoadError, Mesh, PointCloud
from loaders.crs import crs_summary

LAS_FILES = [
    "autzen_trim.laz", "append-bug.laz", "file_with_both_wkt_and_geotiff_vlrs.las",
    "autzen-bmx-2010.las", "ahn3_cropped_2.laz", "epsg_4326.las", "permutations_1.2_2.las",
    "lion_takanawa.copc.laz",
]


def _f32_tol(cloud: PointCloud) -> float:
    extent = float(np.abs(cloud.positions).max()) if cloud.point_count else 0.0
    return 1e-6 + 4 * np.finfo(np.float32).eps * extent


@pytest.fixture(scope="module")
def pc_dir(shared_data):
    return shared_data / "pointclouds"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", LAS_FILES)
def test_las_matches_laspy(read_shared, name):
    cloud = read_shared(f"pointclouds/{name}")
    ref = read_shared(f"pointclouds/{name}", reader="laspy")
    assert isinstance(cloud, PointCloud)
    n = len(ref.points)
    assert cloud.point_count == n
    assert cloud.metadata["header_point_count"] == ref.header.point_count
    assert cloud.positions.dtype == np.float32 and cloud.origin.dtype == np.float64

    x, y, z = (np.asarray(ref.x), np.asarray(ref.y), np.asarray(ref.z))
    # exact float64 bounds from the scaled integers
    np.testing.assert_allclose(cloud.metadata["bounds_min"], [x.min(), y.min(), z.min()],
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(cloud.metadata["bounds_max"], [x.max(), y.max(), z.max()],
                               rtol=0, atol=1e-6)
    tol = _f32_tol(cloud)
    lo, hi = cloud.bounds
    np.testing.assert_allclose(lo, [x.min(), y.min(), z.min()], rtol=0, atol=tol)
    np.testing.assert_allclose(hi, [x.max(), y.max(), z.max()], rtol=0, atol=tol)
    np.testing.assert_allclose(cloud.xyz(), np.stack([x, y, z], axis=1), rtol=0, atol=tol)

    attrs = cloud.attributes
    for key, a in attrs.items():
        assert len(a) == n, key
    np.testing.assert_array_equal(attrs["classification"], np.asarray(ref.classification))
    assert attrs["classification"].dtype == np.uint8
    np.testing.assert_array_equal(attrs["intensity"], np.asarray(ref.intensity))
    assert attrs["intensity"].dtype == np.uint16
    np.testing.assert_array_equal(attrs["return_number"], np.asarray(ref.return_number))
    if "gps_time" in ref.point_format.dimension_names:
        np.testing.assert_array_equal(attrs["gps_time"], np.asarray(ref.gps_time))
    else:
        assert "gps_time" not in attrs
    if "red" in ref.point_format.dimension_names:
        rgb16 = np.stack([ref.red, ref.green, ref.blue], axis=1)
        expected = rgb16 >> 8 if rgb16.max() > 255 else rgb16
        assert attrs["rgb"].dtype == np.uint8 and attrs["rgb"].shape == (n, 3)
        np.testing.assert_array_equal(attrs["rgb"], expected.astype(np.uint8))
    else:
        assert "rgb" not in attrs
    expected_format = ("COPC" if name.endswith(".copc.laz") else
                       "LAZ" if name.endswith(".laz") else "LAS")
    assert cloud.metadata["format"] == expected_format
    assert cloud.metadata["version"] == str(ref.header.version)
    assert cloud.metadata["point_format"] == ref.header.point_format.id
    assert cloud.metadata["compressed"] == name.endswith(".laz")


def test_autzen_crs_in_international_feet(read_shared):
    cloud = read_shared("pointclouds/autzen_trim.laz")
    s = crs_summary(cloud.crs)
    assert s["horizontal_units"] == "foot"  # international foot, not US survey foot
    assert "HARN" in s["name"] and not s["is_geographic"]
    assert cloud.metadata["crs_source"].startswith("wkt")
    rgb = cloud.attributes["rgb"]
    assert rgb.max() == 236  # 8-bit values stored in 16-bit, kept as they are
    assert set(np.unique(cloud.attributes["classification"])) == {1, 2}


def test_wkt_wins_over_geotiff_with_warning(read_shared):
    cloud = read_shared("pointclouds/file_with_both_wkt_and_geotiff_vlrs.las")
    assert cloud.crs.to_epsg() == 6880
    assert cloud.metadata["crs_source"] == "wkt"
    assert any("disagree" in w and "32104" in w for w in cloud.metadata["warnings"])
    assert crs_summary(cloud.crs)["horizontal_units"] == "US survey foot"
    assert "rgb" not in cloud.attributes
    assert cloud.metadata["point_format"] == 6


def test_geographic_las(read_shared):
    cloud = read_shared("pointclouds/epsg_4326.las")
    assert cloud.crs.to_epsg() == 4326
    s = crs_summary(cloud.crs)
    assert s["is_geographic"] and s["epsg"] == 4326
    assert any("geographic degrees" in w for w in cloud.metadata["warnings"])
    lo, hi = cloud.metadata["bounds_min"], cloud.metadata["bounds_max"]
    assert -94.7 < lo[0] < hi[0] < -94.65 and 31.03 < lo[1] < hi[1] < 31.05
    assert cloud.metadata["crs_source"] == "geotiff"


def _class_counts(codes) -> dict[int, int]:
    classes, counts = np.unique(np.asarray(codes), return_counts=True)
    return dict(zip(classes.tolist(), counts.tolist(), strict=True))


def test_ahn3_no_crs_and_classes(read_shared):
    cloud = read_shared("pointclouds/ahn3_cropped_2.laz")
    assert cloud.crs is None and cloud.metadata["crs_source"] is None
    # the counts per class are laspy's; the classes are AHN3's (26: a code outside ASPRS)
    expected = _class_counts(read_shared("pointclouds/ahn3_cropped_2.laz",
                                         reader="laspy").classification)
    assert set(expected) == {1, 2, 6, 9, 26}
    assert _class_counts(cloud.attributes["classification"]) == expected
    assert crs_summary(None)["epsg"] is None


def test_bmx_compound_crs_and_16bit_rgb(read_shared):
    cloud = read_shared("pointclouds/autzen-bmx-2010.las")
    s = crs_summary(cloud.crs)
    assert s["is_compound"]
    assert s["horizontal_units"] == "metre" and s["vertical_units"] == "US survey foot"
    subs = [c.to_epsg() for c in cloud.crs.sub_crs_list]
    assert subs == [2991, 6360]
    assert cloud.metadata["rgb_16bit"] is True
    assert cloud.point_count == 829


def test_append_bug_pf8_extra_bytes_class_65(read_shared):
    cloud = read_shared("pointclouds/append-bug.laz")
    ref = read_shared("pointclouds/append-bug.laz", reader="laspy")
    assert cloud.crs.to_epsg() == 2154
    assert 65 in set(np.unique(cloud.attributes["classification"]).tolist())
    np.testing.assert_array_equal(cloud.attributes["nir"], np.asarray(ref.nir))
    np.testing.assert_array_equal(cloud.attributes["Deviation"], np.asarray(ref["Deviation"]))
    # laspy reads only the first Extra Bytes VLR; the second one names the last byte
    np.testing.assert_array_equal(cloud.attributes["confidence"],
                                  np.asarray(ref["ExtraBytes"]))
    assert cloud.metadata["generating_software"] == "TerraScan"
    assert {"Deviation", "confidence"} <= set(cloud.metadata["extra_dimensions"])


def test_permutations_single_point(read_shared):
    cloud = read_shared("pointclouds/permutations_1.2_2.las")
    assert cloud.point_count == 1
    lo, hi = cloud.bounds
    assert np.all(lo == hi)
    assert cloud.crs.to_epsg() == 26915
    assert cloud.metadata["system_identifier"] == "libLAS"


def test_copc(read_shared):
    cloud = read_shared("pointclouds/lion_takanawa.copc.laz")
    assert cloud.point_count == 341_989
    assert cloud.metadata["format"] == "COPC"
    assert cloud.attributes["OriginId"].dtype == np.uint32
    np.testing.assert_array_equal(cloud.attributes["OriginId"],
                                  np.asarray(read_shared("pointclouds/lion_takanawa.copc.laz",
                                                         reader="laspy")["OriginId"]))
    copc = cloud.metadata["copc"]
    assert copc["halfsize"] > 0 and len(copc["center"]) == 3
    assert cloud.crs is None
    assert cloud.metadata["generating_software"].startswith("PDAL")


def test_progress_and_cancel(pc_dir):
    calls = []
    loaders.read(pc_dir / "ahn3_cropped_2.laz", lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)

    def cancel(fraction, message):
        if fraction > 0:
            raise LoadCancelled()

    for name in ("ahn3_cropped_2.laz", "pumpAVisualReferenceImage.e57"):
        with pytest.raises(LoadCancelled):
            loaders.read(pc_dir / name, cancel)


def test_e57_matches_pye57(pc_dir):
    import pye57

    path = pc_dir / "pumpAVisualReferenceImage.e57"
    cloud = loaders.read(path)
    ref = pye57.E57(str(path)).read_scan(0, intensity=True, colors=True)
    assert cloud.point_count == 155_201
    xyz = np.stack([ref["cartesianX"], ref["cartesianY"], ref["cartesianZ"]], axis=1)
    np.testing.assert_allclose(cloud.xyz(), xyz, rtol=0, atol=_f32_tol(cloud))
    np.testing.assert_allclose(cloud.metadata["bounds_min"], xyz.min(axis=0), atol=1e-9)
    assert cloud.attributes["intensity"].dtype == np.float32
    np.testing.assert_array_equal(cloud.attributes["intensity"], ref["intensity"])
    rgb = np.stack([ref["colorRed"], ref["colorGreen"], ref["colorBlue"]], axis=1)
    np.testing.assert_array_equal(cloud.attributes["rgb"], rgb)
    md = cloud.metadata
    assert md["format"] == "E57" and md["scan_count"] == 1 and md["image_count"] == 1
    assert md["structured"] and md["scans"][0]["grid"] == {"rows": 1074, "columns": 345}


def test_gargo_ply_mesh_matches_plyfile(shared_data):
    from plyfile import PlyData

    path = shared_data / "meshes" / "gargo.ply"
    mesh = loaders.read(path)
    ref = PlyData.read(str(path))
    assert isinstance(mesh, Mesh)
    assert mesh.vertex_count == 25_002 and mesh.triangle_count == 50_000
    v = ref["vertex"]
    xyz = np.stack([v["x"], v["y"], v["z"]], axis=1).astype(np.float64)
    np.testing.assert_allclose(mesh.xyz(), xyz, rtol=0, atol=1e-4)
    faces = np.stack(list(ref["face"]["vertex_indices"]))
    np.testing.assert_array_equal(mesh.faces, faces)
    assert mesh.faces.dtype == np.int32
    np.testing.assert_array_equal(mesh.vertex_colors,
                                  np.stack([v["red"], v["green"], v["blue"], v["alpha"]], 1))
    np.testing.assert_allclose(mesh.normals, np.stack([v["nx"], v["ny"], v["nz"]], 1))
    assert mesh.metadata["format"] == "PLY" and "VCGLIB generated" in mesh.metadata["comments"]


def test_ply_remark_header_read_leniently(shared_data):
    """Our choice: an unknown header keyword ('remark' instead of 'comment') is read as a
    comment with a warning, as trimesh does, rather than rejected as plyfile does."""
    path = (shared_data / "corrupt" /
            "cube-ply-1.0_binary-comment_renamed_to_remark-invalid.ply")
    cloud = loaders.read(path)
    assert isinstance(cloud, PointCloud) and cloud.point_count == 8
    np.testing.assert_array_equal(np.abs(cloud.xyz()), np.ones((8, 3)))
    assert "rgb" in cloud.attributes and "normals" in cloud.attributes
    assert any("remark" in w for w in cloud.metadata["warnings"])


def test_ply_ascii_polygons_are_fan_triangulated(tmp_path):
    path = tmp_path / "quad.ply"
    path.write_text(
        "ply\nformat ascii 1.0\nelement vertex 5\nproperty float x\nproperty float y\n"
        "property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"
        "element face 2\nproperty list uchar int vertex_indices\nend_header\n"
        "0 0 0 255 0 0\n1 0 0 0 255 0\n1 1 0 0 0 255\n0 1 0 1 2 3\n2 2 0 4 5 6\n"
        "4 0 1 2 3\n3 1 4 2\n")
    mesh = loaders.read(path)
    assert isinstance(mesh, Mesh)
    assert mesh.faces.tolist() == [[1, 4, 2], [0, 1, 2], [0, 2, 3]] or \
        sorted(mesh.faces.tolist()) == sorted([[0, 1, 2], [0, 2, 3], [1, 4, 2]])
    assert mesh.vertex_colors[0].tolist() == [255, 0, 0, 255]


def test_ply_point_cloud_float_colours(tmp_path):
    path = tmp_path / "pts.ply"
    path.write_text(
        "ply\nformat ascii 1.0\nelement vertex 2\nproperty double x\nproperty double y\n"
        "property double z\nproperty float red\nproperty float green\nproperty float blue\n"
        "property float scalar_intensity\nend_header\n"
        "100000.5 200000.25 3 1 0.5 0 7\n100001.5 200001.25 4 0 0 1 9\n")
    cloud = loaders.read(path)
    assert isinstance(cloud, PointCloud)
    np.testing.assert_allclose(cloud.xyz()[0], [100000.5, 200000.25, 3])
    assert cloud.attributes["rgb"].tolist() == [[255, 127, 0], [0, 0, 255]]
    assert cloud.attributes["intensity"].tolist() == [7, 9]


# ---------------------------------------------------------------- ASCII point clouds

def _read_text(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return loaders.read(path)


def test_xyz_plain_space(tmp_path):
    c = _read_text(tmp_path, "a.xyz", "1 2 3\n4 5 6\n7.5 8 9e1\n")
    np.testing.assert_allclose(c.xyz(), [[1, 2, 3], [4, 5, 6], [7.5, 8, 90]])
    assert c.metadata["format"] == "XYZ" and c.attributes == {}


def test_csv_header_float_rgb(tmp_path):
    c = _read_text(tmp_path, "b.csv", "x,y,z,r,g,b,classification\n"
                   "1.0,2,3,0.5,0.25,1.0,2\n4,5,6,0,0.1,0.2,65\n")
    assert c.metadata["delimiter"] == "comma" and c.metadata["has_header"]
    assert c.attributes["rgb"].tolist() == [[128, 64, 255], [0, 26, 51]]
    assert c.attributes["classification"].tolist() == [2, 65]
    assert c.attributes["classification"].dtype == np.uint8


def test_pts_count_line_xyzirgb(tmp_path):
    c = _read_text(tmp_path, "c.pts", "3\n1 2 3 -100 255 0 10\n4 5 6 200 0 255 20\n"
                   "7 8 9.5 0 1 2 3\n")
    assert c.point_count == 3 and c.metadata["header_point_count"] == 3
    assert c.attributes["intensity"].tolist() == [-100, 200, 0]
    assert c.attributes["rgb"].tolist() == [[255, 0, 10], [0, 255, 20], [1, 2, 3]]


def test_txt_slash_header_tab_and_semicolon(tmp_path):
    c = _read_text(tmp_path, "d.txt", "//X\tY\tZ\tIntensity\n1\t2\t3\t4\n5\t6\t7\t8\n")
    assert c.attributes["intensity"].tolist() == [4, 8]
    assert c.metadata["delimiter"] == "tab"
    c = _read_text(tmp_path, "e.xyz", "1;2,5;3\n4;5;6,25\n")  # decimal commas
    np.testing.assert_allclose(c.xyz(), [[1, 2.5, 3], [4, 5, 6.25]])


def test_xyz_six_columns_normals_vs_rgb(tmp_path):
    c = _read_text(tmp_path, "n.xyz", "0 0 0 0 0 -1\n1 1 1 0.5 0.5 0.7071\n")
    assert "normals" in c.attributes and "rgb" not in c.attributes
    c = _read_text(tmp_path, "r.xyz", "0 0 0 10 20 30\n1 1 1 40 50 60\n")
    assert c.attributes["rgb"].tolist() == [[10, 20, 30], [40, 50, 60]]


def test_xyz_bad_line_is_load_error(tmp_path):
    path = tmp_path / "bad.xyz"
    path.write_text("1 2 3\n4 5 6\n" * 20 + "7 8 oops\n")
    with pytest.raises(LoadError, match="line 41"):
        loaders.read(path)


def test_xyz_chunked_progress(tmp_path, monkeypatch):
    from loaders.formats import xyz

    monkeypatch.setattr(xyz, "BLOCK_BYTES", 64)
    path = tmp_path / "many.xyz"
    rows = np.arange(300 * 3, dtype=float).reshape(300, 3) / 7
    np.savetxt(path, rows, fmt="%.6f")
    calls = []
    c = loaders.read(path, lambda f, m: calls.append(f))
    assert c.point_count == 300 and len(calls) > 10
    np.testing.assert_allclose(c.xyz(), rows, atol=1e-5)


def test_real_cloud_exported_to_text_reads_back(read_shared, tmp_path):
    las = read_shared("pointclouds/ahn3_cropped_2.laz", reader="laspy")
    n = 1000
    x, y, z = (np.asarray(las.x)[:n], np.asarray(las.y)[:n], np.asarray(las.z)[:n])
    inten = np.asarray(las.intensity)[:n]
    cls = np.asarray(las.classification)[:n]
    path = tmp_path / "ahn3.txt"
    with open(path, "w") as fh:
        fh.write("x y z intensity classification\n")
        for row in zip(x, y, z, inten, cls, strict=True):
            fh.write("%.3f %.3f %.3f %d %d\n" % row)
    cloud = loaders.read(path)
    assert cloud.point_count == n
    np.testing.assert_allclose(cloud.xyz(), np.stack([x, y, z], 1), rtol=0, atol=1e-3)
    np.testing.assert_array_equal(cloud.attributes["intensity"], inten)
    np.testing.assert_array_equal(cloud.attributes["classification"], cls)
    # PTS dialect of the same points, comma separated CSV too
    pts = tmp_path / "ahn3.pts"
    with open(pts, "w") as fh:
        fh.write(f"{n}\n")
        for row in zip(x, y, z, inten, strict=True):
            fh.write("%.3f %.3f %.3f %d 10 20 30\n" % row)
    cloud = loaders.read(pts)
    np.testing.assert_allclose(cloud.xyz(), np.stack([x, y, z], 1), rtol=0, atol=1e-3)
    assert (cloud.attributes["rgb"] == [10, 20, 30]).all()


def test_las_with_wrong_extension_is_sniffed(pc_dir, tmp_path):
    for ext in ("xyz", "bin"):
        target = tmp_path / f"cloud.{ext}"
        shutil.copy(pc_dir / "epsg_4326.las", target)
        cloud = loaders.read(target)
        assert cloud.metadata["format"] == "LAS" and cloud.point_count == 5380


def test_text_named_las_is_load_error(tmp_path):
    path = tmp_path / "notes.las"
    path.write_text("These are my survey notes, not a point cloud.\n")
    with pytest.raises(LoadError, match="LASF"):
        loaders.read(path)
