"""Registration of epoch B onto epoch A (heritage.monitoring.register) on a real scan."""

from __future__ import annotations

import json
import math
from pathlib import Path

import laspy
import numpy as np
import pytest

from heritage.monitoring import register as R
from loaders import LoadCancelled, LoadError
from loaders.georef import apply_matrix, similarity_from_values

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "pointclouds"
AHN3 = DATA / "ahn3_cropped_2.laz"
LION = DATA / "lion_takanawa.copc.laz"
NOISE = 0.005  # m, per axis

pytestmark = pytest.mark.skipif(not AHN3.exists(), reason="shared sample data missing")


def _xyz(las) -> np.ndarray:
    return np.column_stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)])


def _motion(centre) -> np.ndarray:
    """0.5 deg about Z (about the centre of the scan) and 0.3 m shift."""
    return similarity_from_values((0.3, -0.2, 0.05), (0.0, 0.0, 0.5), 1.0, centre)


def _rotation_error_deg(m: np.ndarray, expected: np.ndarray) -> float:
    d = m[:3, :3] @ expected[:3, :3].T
    return math.degrees(math.acos(min(1.0, max(-1.0, (np.trace(d) - 1) / 2))))


@pytest.fixture(scope="module")
def epochs():
    las = laspy.read(AHN3)
    a = _xyz(las)
    centre = (a.min(axis=0) + a.max(axis=0)) / 2
    motion = _motion(centre)
    rng = np.random.default_rng(7)
    b = apply_matrix(motion, a) + rng.normal(0.0, NOISE, a.shape)
    return a, b, motion


def test_icp_recovers_a_small_rigid_motion_on_a_real_scan(epochs):
    a, b, motion = epochs
    steps = []
    result = R.register(a, b, progress=lambda f, m: steps.append((f, m)))
    expected = np.linalg.inv(motion)  # B back onto A
    # every point of the scan lands within 1 cm of where the true inverse puts it
    err = np.abs(apply_matrix(result.matrix, a) - apply_matrix(expected, a)).max()
    assert err < 0.01
    assert _rotation_error_deg(result.matrix, expected) < 0.01
    # RMSE of the correspondences ~ the noise (B's point vs its own original: sqrt(3) sigma)
    assert NOISE < result.rmse < 3 * NOISE
    assert result.overlap > 0.99
    assert result.iterations >= 3 and result.converged
    assert result.max_distance == pytest.approx(3 * result.spacing)
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("iteration" in m for _, m in steps)


def test_without_icp_the_motion_is_not_undone(epochs):
    """The check above can fail: identity leaves B 0.3 m and 0.5 deg away."""
    a, b, motion = epochs
    result = R.register(a, b, icp=False)
    err = np.abs(apply_matrix(result.matrix, a) - apply_matrix(np.linalg.inv(motion), a))
    assert err.max() > 0.3


def test_point_pairs_give_the_coarse_start_and_icp_refines_it(epochs):
    a, b, motion = epochs
    # a big motion ICP alone would not undo: 20 deg and 15 m
    centre = (a.min(axis=0) + a.max(axis=0)) / 2
    big = similarity_from_values((15.0, -8.0, 1.0), (0.0, 0.0, 20.0), 1.0, centre)
    b_big = apply_matrix(big, a)
    idx = [0, len(a) // 3, 2 * len(a) // 3, len(a) - 1]
    rng = np.random.default_rng(3)
    pairs_b = b_big[idx] + rng.normal(0, 0.05, (4, 3))  # picked by hand: 5 cm off
    pairs_a = a[idx]
    result = R.register(a, b_big, (pairs_b, pairs_a))
    assert result.coarse is not None and 0 < result.pairs_rms < 0.2
    expected = np.linalg.inv(big)
    coarse_err = np.abs(apply_matrix(result.coarse, a) - apply_matrix(expected, a)).max()
    fine_err = np.abs(apply_matrix(result.matrix, a) - apply_matrix(expected, a)).max()
    assert fine_err < 0.01 < coarse_err
    assert result.coarse[:3, :3] @ result.coarse[:3, :3].T == pytest.approx(np.eye(3))


def test_big_clouds_are_voxel_downsampled(epochs):
    a, b, motion = epochs
    result = R.register(a, b, max_points=40_000)
    assert result.voxel > 0 and max(result.points) <= 40_000
    err = np.abs(apply_matrix(result.matrix, a) - apply_matrix(np.linalg.inv(motion), a))
    assert err.max() < 0.05  # coarser points, still a few cm over 230 m


def test_cancel_between_iterations(epochs):
    a, b, _ = epochs
    calls = []

    def progress(f, msg):
        calls.append(msg)
        if "iteration 2" in msg:
            raise LoadCancelled("B")

    with pytest.raises(LoadCancelled):
        R.register(a, b, progress=progress)
    assert not any("ICP 2/3" in m for m in calls)


def test_bad_input():
    with pytest.raises(ValueError, match="too few points"):
        R.register(np.zeros((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="collinear"):
        R.coarse_from_pairs([[0, 0, 0], [1, 1, 1], [2, 2, 2]], [[0, 0, 0], [1, 1, 1], [2, 2, 2]])
    with pytest.raises(ValueError, match="voxel"):
        R.register_points(np.random.rand(50, 3), np.random.rand(50, 3), voxel=-1)


def test_pairs_csv(tmp_path):
    f = tmp_path / "pairs.csv"
    f.write_text("bx,by,bz,ax,ay,az\n# picked on site\n1,2,3,4,5,6\n7;8;9;10;11;12\n"
                 "1 0 0 2 0 0\n", encoding="utf-8")
    b, a = R.read_pairs_csv(f)
    assert b.tolist() == [[1, 2, 3], [7, 8, 9], [1, 0, 0]]
    assert a.tolist() == [[4, 5, 6], [10, 11, 12], [2, 0, 0]]
    f.write_text("1,2,3,4,5,6\n1,2,3\n", encoding="utf-8")
    with pytest.raises(LoadError, match="line 2 has 3 values"):
        R.read_pairs_csv(f)
    f.write_text("1,2,3,4,5,6\n", encoding="utf-8")
    with pytest.raises(LoadError, match="at least 3"):
        R.read_pairs_csv(f)


def _moved_copy(src: Path, out: Path, motion: np.ndarray, noise: float, seed: int) -> None:
    """B: the real file moved by ``motion`` plus noise, every dimension kept."""
    las = laspy.read(src)
    xyz = apply_matrix(motion, _xyz(las))
    xyz += np.random.default_rng(seed).normal(0, noise, xyz.shape)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    las.write(out)


def test_files_register_and_export_at_full_resolution(tmp_path):
    las_a = laspy.read(AHN3)
    a = _xyz(las_a)
    motion = _motion((a.min(axis=0) + a.max(axis=0)) / 2)
    b_path = tmp_path / "b.laz"
    _moved_copy(AHN3, b_path, motion, NOISE, 11)
    result = R.register_files(AHN3, b_path)
    assert _rotation_error_deg(result.matrix, np.linalg.inv(motion)) < 0.01
    out = tmp_path / "b_aligned.laz"
    n = R.write_registered(b_path, out, result.matrix)
    assert n == len(a)
    back = laspy.read(out)
    # every point back where it was in A (noise and 1 mm quantisation)
    d = _xyz(back) - a
    assert np.sqrt((d ** 2).sum(axis=1)).max() < 6 * NOISE
    assert abs(d.mean(axis=0)).max() < 0.002
    # every dimension kept
    assert back.point_format.id == las_a.point_format.id
    for dim in ("intensity", "classification", "return_number", "gps_time",
                "scan_angle_rank", "point_source_id"):
        assert np.array_equal(np.asarray(back[dim]), np.asarray(las_a[dim])), dim
    assert back.header.scales.tolist() == las_a.header.scales.tolist()
    path = R.write_transform_json(R.transform_path(out), result, str(AHN3), str(b_path))
    assert path.name == "b_aligned.transform.json"
    doc = json.loads(path.read_text())
    assert np.allclose(doc["matrix"], result.matrix) and doc["rmse_m"] == result.rmse


@pytest.mark.skipif(not LION.exists(), reason="lion scan missing")
def test_export_moves_offsets_when_needed_and_drops_the_copc_index(tmp_path):
    """The lion (COPC, extra bytes) moved to a zone-prefixed Gauss-Krueger easting
    (38 500 000 m: beyond 2^31 centimetres from the old offset): the offsets move, the
    colours and the extra-bytes VLR stay, the COPC index (which no longer fits) goes."""
    src = laspy.read(LION)
    far = similarity_from_values((38_500_000.0, 3_000_000.0, 10.0), (0, 0, 30.0))
    out = tmp_path / "lion_moved.laz"
    R.write_registered(LION, out, far)
    back = laspy.read(out)
    expected = apply_matrix(far, _xyz(src))
    assert np.abs(_xyz(back) - expected).max() <= 0.5 * 0.01 + 1e-6
    assert not np.allclose(back.header.offsets, src.header.offsets)
    assert np.array_equal(np.asarray(back.red), np.asarray(src.red))
    kept = [(v.user_id, v.record_id) for v in src.header.vlrs if v.user_id != "copc"]
    assert kept and [(v.user_id, v.record_id) for v in back.header.vlrs] == kept
    assert not any(getattr(v, "user_id", "") == "copc" for v in back.header.evlrs or [])


def test_export_keeps_the_crs_and_every_vlr(tmp_path):
    src_path = DATA / "autzen_trim.laz"
    src = laspy.read(src_path)
    motion = similarity_from_values((1.0, 2.0, 0.5), (0, 0, 0.5), 1.0, _xyz(src).mean(axis=0))
    out = tmp_path / "autzen_aligned.las"
    R.write_registered(src_path, out, motion)
    back = laspy.read(out)
    assert [(v.user_id, v.record_id) for v in back.header.vlrs] == \
        [(v.user_id, v.record_id) for v in src.header.vlrs]
    assert back.header.parse_crs().equals(src.header.parse_crs())
    assert np.abs(_xyz(back) - apply_matrix(motion, _xyz(src))).max() <= 0.005 + 1e-6
    assert np.array_equal(np.asarray(back.gps_time), np.asarray(src.gps_time))


def test_export_refuses_its_own_input(tmp_path):
    b = tmp_path / "b.las"
    laspy.read(DATA / "autzen-bmx-2010.las").write(b)
    with pytest.raises(LoadError, match="is the input file"):
        R.write_registered(b, b, np.eye(4))
    fifo = tmp_path / "pipe.las"
    import os

    os.mkfifo(fifo)
    with pytest.raises(LoadError, match="named pipe"):
        R.write_registered(fifo, tmp_path / "x.las", np.eye(4))
