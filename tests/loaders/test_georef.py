"""Reprojection and similarity fits (loaders.georef)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pyproj import CRS, Transformer
from pyproj.transformer import TransformerGroup

from loaders import Feature, FeatureMesh, LoadCancelled, Mesh, PointCloud, georef, split_origin
from loaders.georef import (
    apply_matrix,
    fit_similarity,
    horizontal_only_match,
    needs_reprojection,
    reproject,
    same_crs,
    similarity_from_values,
    transform_points,
    values_from_matrix,
)


def _cloud(xyz, crs) -> PointCloud:
    local, origin = split_origin(np.asarray(xyz, np.float64))
    n = len(local)
    return PointCloud(local, origin, {"intensity": np.arange(n, dtype=np.uint16)},
                      crs=CRS.from_user_input(crs), metadata={"format": "test"})


def _lonlat_points(n=500, seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lon = 4.85 + rng.random(n) * 0.1          # Amsterdam, inside UTM zone 31N
    lat = 52.33 + rng.random(n) * 0.08
    h = 5.0 + rng.random(n) * 40.0
    return np.column_stack([lon, lat, h])


# --------------------------------------------------------------------------------------
# CRS comparison
# --------------------------------------------------------------------------------------


def test_same_crs_and_horizontal_only_match():
    assert same_crs("EPSG:28992", CRS.from_epsg(28992))
    assert not horizontal_only_match("EPSG:28992", "EPSG:28992")
    # RD New + NAP height vs RD New: same horizontal system, one without heights
    assert same_crs("EPSG:7415", "EPSG:28992")
    assert same_crs("EPSG:28992", "EPSG:7415")
    assert horizontal_only_match("EPSG:7415", "EPSG:28992")
    assert not needs_reprojection("EPSG:7415", "EPSG:28992")
    assert not same_crs("EPSG:4326", "EPSG:32631")
    assert needs_reprojection("EPSG:4326", "EPSG:32631")
    # two different vertical systems over the same horizontal one are not the same
    assert not same_crs("EPSG:6318+5703", "EPSG:6318+6360")
    assert needs_reprojection("EPSG:6318+5703", "EPSG:6318+6360")
    # unknown CRSs: nothing to do
    assert same_crs(None, None)
    assert not same_crs(None, "EPSG:28992")
    assert not needs_reprojection(None, "EPSG:28992")
    # a text that is not a CRS: comparing never raises, transforming does
    assert not same_crs("EPSG:999999", "EPSG:28992")
    assert same_crs("EPSG:999999", "EPSG:999999")
    with pytest.raises(ValueError, match="coordinate reference system"):
        needs_reprojection("EPSG:999999", "EPSG:28992")


# --------------------------------------------------------------------------------------
# Reprojection
# --------------------------------------------------------------------------------------


def test_reproject_pointcloud_4326_to_utm_matches_pyproj():
    lonlat = _lonlat_points()
    cloud = _cloud(lonlat, "EPSG:4326")
    src_true = cloud.xyz()  # what the cloud holds (float32 local + origin)
    returned = reproject(cloud, "EPSG:32631")
    assert returned is cloud
    assert cloud.positions.dtype == np.float32 and cloud.origin.dtype == np.float64
    assert same_crs(cloud.crs, "EPSG:32631") and cloud.crs.to_epsg() == 32631
    assert cloud.metadata["reprojected_from"] == "EPSG:4326"
    assert len(cloud.attributes["intensity"]) == cloud.point_count == len(lonlat)

    t = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)
    ex, ey, ez = t.transform(src_true[:, 0], src_true[:, 1], src_true[:, 2])
    expected = np.column_stack([ex, ey, ez])
    got = cloud.xyz()
    # float32 local positions over a ~7 km extent: sub-millimetre
    assert np.abs(got - expected).max() < 2e-3
    assert np.allclose(got[:, 2], src_true[:, 2], atol=1e-3)  # 2D CRSs keep heights
    assert 620_000 < got[:, 0].mean() < 640_000 and 5.79e6 < got[:, 1].mean() < 5.81e6
    # the origin is re-split like split_origin: centre of the box, whole metres
    lo, hi = expected.min(axis=0), expected.max(axis=0)
    assert np.array_equal(cloud.origin, np.round((lo + hi) / 2))


def test_transform_points_matches_pyproj_and_checks_its_input():
    rd = np.array([[85_036.0, 447_527.0, 3.5], [85_000.0, 447_413.0, -0.6]])
    got = transform_points(rd, "EPSG:28992", "EPSG:4326")
    t = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    lon, lat, h = t.transform(rd[:, 0], rd[:, 1], rd[:, 2])
    assert np.allclose(got, np.column_stack([lon, lat, h]))
    assert 4.3 < got[0, 0] < 4.4 and 51.9 < got[0, 1] < 52.1  # Delft, lon/lat order
    one = transform_points(rd[0], "EPSG:28992", "EPSG:28992")
    assert one.shape == (1, 3) and np.array_equal(one[0], rd[0])
    with pytest.raises(ValueError, match="must be known"):
        transform_points(rd, None, "EPSG:4326")
    with pytest.raises(ValueError, match="not a coordinate reference system"):
        transform_points(rd, "EPSG:28992", "no such crs")


def test_reproject_in_chunks_reports_progress(monkeypatch):
    monkeypatch.setattr(georef, "CHUNK", 128)
    lonlat = _lonlat_points(1000, seed=3)
    cloud = _cloud(lonlat, "EPSG:4326")
    src_true = cloud.xyz()
    calls = []
    reproject(cloud, CRS.from_epsg(32631), progress=lambda f, msg: calls.append(f))
    assert len(calls) == 8 and calls[-1] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(calls, calls[1:], strict=False))
    t = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)
    expected = np.column_stack(t.transform(*src_true.T))
    assert np.abs(cloud.xyz() - expected).max() < 2e-3
    lo, hi = expected.min(axis=0), expected.max(axis=0)
    assert np.array_equal(cloud.origin, np.round((lo + hi) / 2))


def test_reproject_cancelled_leaves_data_unchanged(monkeypatch):
    monkeypatch.setattr(georef, "CHUNK", 100)
    cloud = _cloud(_lonlat_points(350), "EPSG:4326")
    before = cloud.positions.copy(), cloud.origin.copy()

    def cancel(fraction, message):
        raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        reproject(cloud, "EPSG:32631", progress=cancel)
    assert np.array_equal(cloud.positions, before[0])
    assert np.array_equal(cloud.origin, before[1])
    assert cloud.crs.to_epsg() == 4326 and "reprojected_from" not in cloud.metadata


def test_rd_new_with_and_without_nap_is_horizontal_identity():
    rng = np.random.default_rng(5)
    xyz = np.column_stack([85_000 + rng.random(200) * 500, 447_500 + rng.random(200) * 500,
                           rng.random(200) * 30 - 2])
    cloud = _cloud(xyz, "EPSG:7415")
    before = cloud.xyz()
    reproject(cloud, "EPSG:28992")
    assert np.array_equal(cloud.xyz(), before)
    assert cloud.crs.to_epsg() == 28992
    assert cloud.metadata["reprojected_from"] == "EPSG:7415"
    # and pyproj itself agrees it is the identity, both ways
    for a, b in (("EPSG:7415", "EPSG:28992"), ("EPSG:28992", "EPSG:7415")):
        t = Transformer.from_crs(a, b, always_xy=True)
        out = np.column_stack(t.transform(*before.T))
        assert np.abs(out - before).max() < 1e-6
    reproject(cloud, "EPSG:7415")
    assert np.array_equal(cloud.xyz(), before) and cloud.crs.to_epsg() == 7415


def test_reproject_to_the_same_crs_changes_nothing():
    cloud = _cloud([[85_000.0, 447_500.0, 1.0], [85_010.0, 447_510.0, 2.0]], "EPSG:28992")
    before = cloud.xyz()
    reproject(cloud, "EPSG:28992")
    assert np.array_equal(cloud.xyz(), before)
    assert "reprojected_from" not in cloud.metadata


def test_vertical_unit_change_in_compound_crs():
    # NAD83(2011) + NAVD88 height (m) -> NAD83(2011) + NAVD88 height (ftUS): a pure
    # conversion, always available offline
    xyz = np.array([[-100.0, 40.0, 10.0], [-100.01, 40.01, 20.0], [-100.02, 40.0, 0.0]])
    cloud = _cloud(xyz, "EPSG:6318+5703")
    reproject(cloud, "EPSG:6318+6360")
    got = cloud.xyz()
    assert np.allclose(got[:, :2], xyz[:, :2], atol=1e-6)
    assert np.allclose(got[:, 2], xyz[:, 2] / 0.3048006096012192, atol=1e-4)


def test_ellipsoidal_to_nap_heights_when_the_geoid_grid_is_installed():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = TransformerGroup("EPSG:4979", "EPSG:7415", always_xy=True)
    if not group.best_available:
        pytest.skip("the NLGEO2018 geoid grid is not installed and the network is off; "
                    "pyproj can only do a ballpark (height-preserving) transformation")
    xyz = np.array([[4.9, 52.37, 50.0], [4.91, 52.371, 55.0], [4.905, 52.38, 45.0]])
    cloud = _cloud(xyz, "EPSG:4979")
    reproject(cloud, "EPSG:7415")
    # the geoid in Amsterdam lies ~43 m above the ellipsoid
    assert np.all(np.abs(cloud.xyz()[:, 2] - (xyz[:, 2] - 43.0)) < 2.0)


def test_missing_grid_is_reported_as_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = TransformerGroup("EPSG:4979", "EPSG:7415", always_xy=True)
    if group.best_available:
        pytest.skip("the geoid grid is installed: nothing to warn about")
    cloud = _cloud([[4.9, 52.37, 50.0], [4.91, 52.38, 51.0]], "EPSG:4979")
    reproject(cloud, "EPSG:7415")
    assert any("grid" in w for w in cloud.warnings)
    assert 120_000 < cloud.xyz()[0, 0] < 124_000


def test_reproject_mesh_and_feature_mesh():
    lonlat = _lonlat_points(4, seed=9)
    local, origin = split_origin(lonlat)
    faces = np.array([[0, 1, 2], [0, 2, 3]], np.int32)
    normals = np.tile(np.array([[0, 0, 1]], np.float32), (4, 1))
    mesh = Mesh(local, origin, faces, normals=normals, crs=CRS.from_epsg(4326))
    src_true = mesh.xyz()
    out = reproject(mesh, "EPSG:32631")
    assert out is mesh and isinstance(out, Mesh)
    t = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)
    expected = np.column_stack(t.transform(*src_true.T))
    assert np.abs(mesh.xyz() - expected).max() < 2e-3
    assert mesh.normals.shape == (4, 3)
    assert np.allclose(np.linalg.norm(mesh.normals, axis=1), 1.0, atol=1e-5)

    fm = FeatureMesh(local.copy(), origin.copy(), faces.copy(), crs=CRS.from_epsg(4326),
                     features=[Feature("a", "Building")],
                     face_feature=np.zeros(2, np.int32))
    out = reproject(fm, "EPSG:32631")
    assert isinstance(out, FeatureMesh) and out.features[0].id == "a"
    assert np.abs(fm.xyz() - expected).max() < 2e-3


def test_reproject_errors():
    cloud = _cloud([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], "EPSG:4326")
    cloud.crs = None
    with pytest.raises(ValueError, match="no coordinate system"):
        reproject(cloud, "EPSG:32631")
    # latitudes beyond the pole: not a place pyproj can project
    bad = _cloud([[4.9, 95.0, 0.0], [4.9, 96.0, 0.0]], "EPSG:4326")
    with pytest.raises(ValueError, match="invalid coordinates"):
        reproject(bad, "EPSG:32631")
    assert bad.crs.to_epsg() == 4326
    with pytest.raises(ValueError):
        reproject(_cloud([[0.0, 0.0, 0.0]], "EPSG:4326"), "not a crs")
    # an engineering (local) CRS has no transformation to a projected one
    local_wkt = ('ENGCRS["scanner",EDATUM["scan"],CS[Cartesian,2],'
                 'AXIS["x",east,LENGTHUNIT["metre",1]],AXIS["y",north,LENGTHUNIT["metre",1]]]')
    scan = _cloud([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], local_wkt)
    with pytest.raises(ValueError, match="transformation|invalid"):
        reproject(scan, "EPSG:28992")


# --------------------------------------------------------------------------------------
# Similarity transforms
# --------------------------------------------------------------------------------------


def test_similarity_from_values_and_back():
    pivot = (2_680_000.0, 1_250_000.0, 400.0)
    m = similarity_from_values(translate=(12.5, -3.0, 0.75), rotate_deg=(2.0, -3.0, 33.0),
                               scale=1.02, pivot=pivot)
    assert m.shape == (4, 4) and m.dtype == np.float64
    # the pivot moves by the translation only
    assert np.allclose(apply_matrix(m, [pivot])[0], np.add(pivot, (12.5, -3.0, 0.75)),
                       atol=1e-8)
    values = values_from_matrix(m, pivot=pivot)
    assert np.allclose(values["translate"], (12.5, -3.0, 0.75), atol=1e-7)
    assert np.allclose(values["rotate_deg"], (2.0, -3.0, 33.0), atol=1e-9)
    assert values["scale"] == pytest.approx(1.02, abs=1e-12)
    again = similarity_from_values(**values)
    assert np.allclose(again, m, rtol=0, atol=1e-7)
    # without a pivot too, and the identity
    m0 = similarity_from_values(rotate_deg=(0, 0, 90))
    assert np.allclose(apply_matrix(m0, [[1.0, 0.0, 0.0]]), [[0.0, 1.0, 0.0]])
    assert values_from_matrix(np.eye(4))["scale"] == pytest.approx(1.0)
    # order: x, then y, then z (fixed axes)
    v = values_from_matrix(similarity_from_values(rotate_deg=(10, 20, 30)))
    assert np.allclose(v["rotate_deg"], (10, 20, 30))


def test_values_from_matrix_rejects_non_similarities():
    shear = np.eye(4)
    shear[0, 1] = 0.3
    with pytest.raises(ValueError, match="not a similarity"):
        values_from_matrix(shear)
    mirror = np.diag([1.0, 1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="mirror"):
        values_from_matrix(mirror)
    with pytest.raises(ValueError):
        values_from_matrix(np.diag([1.0, 2.0, 1.0, 1.0]))
    with pytest.raises(ValueError):
        similarity_from_values(scale=0)


def _swiss_setup(n=8, seed=0):
    rng = np.random.default_rng(seed)
    # a scan in local scanner coordinates, a few tens of metres across
    src = rng.uniform(-30, 30, (n, 3))
    src[:, 2] = rng.uniform(0, 20, n)
    truth = similarity_from_values(translate=(2_680_123.456, 1_250_654.321, 412.5),
                                   rotate_deg=(0.4, -0.7, 57.3), scale=1.0037)
    dst = apply_matrix(truth, src)
    return src, dst, truth


def test_fit_similarity_recovers_exact_transform_at_large_coordinates():
    src, dst, truth = _swiss_setup()
    m, residuals, rms = fit_similarity(src, dst)
    assert m.dtype == np.float64 and m.shape == (4, 4)
    assert residuals.shape == (len(src),)
    assert rms < 1e-6 and residuals.max() < 1e-6
    assert np.abs(apply_matrix(m, src) - dst).max() < 1e-6
    values = values_from_matrix(m)
    assert values["scale"] == pytest.approx(1.0037, abs=1e-10)
    assert np.allclose(values["rotate_deg"], (0.4, -0.7, 57.3), atol=1e-8)
    # also the other way round: both sets far from the origin
    back, res_back, rms_back = fit_similarity(dst, src)
    assert rms_back < 1e-6
    assert np.allclose(back @ truth, np.eye(4), atol=1e-9)
    # big to big (RD New shifted by a rigid motion), exactly three points
    rd = np.array([[85_000.0, 447_500.0, 1.0], [85_040.0, 447_510.0, 12.0],
                   [85_010.0, 447_560.0, 3.0]])
    rigid = similarity_from_values(translate=(0.8, -1.2, 0.05), rotate_deg=(0, 0, 0.01),
                                   pivot=rd[0])
    m3, _, rms3 = fit_similarity(rd, apply_matrix(rigid, rd), allow_scale=False)
    assert rms3 < 1e-6 and np.allclose(m3, rigid, atol=1e-9)


def test_fit_similarity_with_noise():
    src, dst, truth = _swiss_setup(n=40, seed=2)
    rng = np.random.default_rng(7)
    sigma = 0.01
    noisy = dst + rng.normal(0, sigma, dst.shape)
    m, residuals, rms = fit_similarity(src, noisy)
    # residual RMS close to the noise level (3D: sqrt(3) * sigma, less the fitted dofs)
    assert 0.5 * sigma < rms < 2.5 * sigma
    assert rms == pytest.approx(float(np.sqrt(np.mean(residuals ** 2))))
    # and the fitted transform is close to the truth over the scan
    assert np.abs(apply_matrix(m, src) - dst).max() < 5 * sigma
    # a gross blunder shows up in its residual
    noisy[3] += (0.5, 0.0, 0.0)
    _, residuals, _ = fit_similarity(src, noisy)
    assert int(np.argmax(residuals)) == 3


def test_fit_rigid_keeps_unit_scale():
    src, dst, _ = _swiss_setup(n=10, seed=4)
    m, _, rms = fit_similarity(src, dst, allow_scale=False)
    assert values_from_matrix(m)["scale"] == pytest.approx(1.0, abs=1e-12)
    assert rms > 0.01  # the true transform has a 0.37 % scale a rigid fit cannot take
    m_s, _, rms_s = fit_similarity(src, dst, allow_scale=True)
    assert rms_s < 1e-6


def test_fit_never_returns_a_mirror():
    src, _, _ = _swiss_setup(n=6, seed=11)
    mirrored = src * np.array([1.0, 1.0, -1.0])
    m, _, rms = fit_similarity(src, mirrored)
    assert np.linalg.det(m[:3, :3]) > 0
    assert rms > 0.1


@pytest.mark.parametrize("src, dst, message", [
    ([[0, 0, 0], [1, 0, 0]], [[0, 0, 0], [1, 0, 0]], "at least 3"),
    ([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]],
     [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], "collinear"),
    ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[5, 5, 5]] * 3, "collinear or coincide"),
    ([[2.68e6, 1.25e6, 400.0]] * 4, [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]],
     "coincide"),
    ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 0, 0], [1, 0, 0]], "same number"),
    ([[0, 0], [1, 0], [0, 1]], [[0, 0], [1, 0], [0, 1]], r"\(N, 3\)"),
    ([[0, 0, 0], [1, 0, np.nan], [0, 1, 0]], [[0, 0, 0], [1, 0, 0], [0, 1, 0]],
     "non-finite"),
])
def test_fit_similarity_rejects_degenerate_input(src, dst, message):
    with pytest.raises(ValueError, match=message):
        fit_similarity(np.asarray(src, float), np.asarray(dst, float))


def test_fit_rejects_collinear_points_at_large_coordinates():
    base = np.array([2_680_000.0, 1_250_000.0, 400.0])
    line = base + np.outer(np.arange(5.0), [1.0, 2.0, 0.5])
    good = base + np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10], [5, 5, 5.0]])
    with pytest.raises(ValueError, match="collinear"):
        fit_similarity(line, good)
    with pytest.raises(ValueError, match="collinear"):
        fit_similarity(good, line)
