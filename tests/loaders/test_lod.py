"""In-memory octree (loaders.lod.build_octree) and view-dependent node selection."""

from __future__ import annotations

import time

import numpy as np
import pytest

from loaders import LoadCancelled, PointCloud, read
from loaders.lod import (
    ROOT,
    OctreeSource,
    build_octree,
    look_at_view_proj,
    select_nodes,
)


def _rows(cloud: PointCloud) -> np.ndarray:
    """Every point as a row (positions + all attributes), rows sorted."""
    cols = [cloud.positions.astype(np.float64)]
    for v in cloud.attributes.values():
        cols.append(np.asarray(v, np.float64).reshape(len(v), -1))
    rows = np.hstack(cols)
    return rows[np.lexsort(rows.T[::-1])]


@pytest.fixture(scope="module")
def autzen_octree(shared_data, read_shared):
    original = read_shared("pointclouds/autzen_trim.laz")
    cloud = read(shared_data / "pointclouds" / "autzen_trim.laz")  # build_octree reorders it
    steps = []
    src = build_octree(cloud, progress=lambda f, m: steps.append((f, m)), capacity=4096)
    return original, cloud, src, steps


def test_every_point_in_exactly_one_node_inside_its_cell(autzen_octree):
    _original, cloud, src, steps = autzen_octree
    assert isinstance(src, OctreeSource) and src.cloud is cloud
    assert steps and steps[-1][0] == 1.0
    n = cloud.point_count
    covered = np.zeros(n, np.int32)
    total = 0
    for key in src.keys:
        node = src.node(key)
        start, stop = src.node_slice(key)
        assert stop - start == node.point_count > 0
        covered[start:stop] += 1
        total += node.point_count
        pts = src.get(key).positions.astype(np.float64)
        tol = 1e-6 * src.cube_size
        assert np.all(pts >= node.lo - tol) and np.all(pts <= node.hi + tol), key
        d, x, y, z = key
        if d:
            assert (d - 1, x >> 1, y >> 1, z >> 1) in src.keys  # parent exists
            assert key in src.node((d - 1, x >> 1, y >> 1, z >> 1)).children
    assert total == n == src.total_points
    assert np.all(covered == 1)
    assert src.node(ROOT).point_count == 4096
    assert src.depth >= 2


def test_reordered_attributes_stay_aligned(autzen_octree):
    original, cloud, _src, _ = autzen_octree
    assert np.array_equal(cloud.origin, original.origin)
    assert np.array_equal(_rows(cloud), _rows(original))


def test_get_is_zero_copy_and_preview_is_top_levels(autzen_octree):
    _original, cloud, src, _ = autzen_octree
    key = src.keys[-1]
    node = src.get(key)
    assert np.shares_memory(node.positions, cloud.positions)
    assert np.shares_memory(node.attributes["rgb"], cloud.attributes["rgb"])
    assert np.array_equal(node.origin, cloud.origin)
    prev = src.preview(10_000)
    assert 4096 <= prev.point_count <= 10_000
    assert np.shares_memory(prev.positions, cloud.positions)


def test_root_sample_is_spatially_spread(autzen_octree):
    _original, cloud, src, _ = autzen_octree
    xy = cloud.positions[:, :2].astype(np.float64)
    lo, hi = xy.min(axis=0), xy.max(axis=0)

    def cells(p):
        ij = np.floor((p - lo) / (hi - lo + 1e-9) * 16).astype(int)
        return set(map(tuple, ij))

    occupied = cells(xy)
    root = src.get(ROOT).positions[:, :2].astype(np.float64)
    assert len(cells(root) & occupied) >= 0.9 * len(occupied)


def test_memory_no_extra_copies():
    rng = np.random.default_rng(3)
    n = 300_000
    xyz = rng.random((n, 3)) * [500.0, 300.0, 20.0]
    cloud = PointCloud(xyz.astype(np.float32), np.array([2_680_000.0, 1_250_000.0, 400.0]),
                       {"rgb": rng.integers(0, 255, (n, 3), dtype=np.uint8),
                        "classification": rng.integers(0, 20, n, dtype=np.uint8),
                        "intensity": rng.integers(0, 65535, n, dtype=np.uint16)})
    before = _rows(cloud)
    src = build_octree(cloud)
    # reordered in place, in several blocks (n > loaders.lod.CHUNK): rows stay whole
    assert np.array_equal(_rows(cloud), before)
    arrays = [cloud.positions, *cloud.attributes.values()]
    assert all(a.base is None for a in arrays)  # own buffers, no views of bigger ones
    data_bytes = sum(a.nbytes for a in arrays)
    assert data_bytes <= 18 * n
    table = src.node_table()
    index_bytes = sum(np.asarray(a).nbytes for a in (table.lo, table.hi, table.counts,
                                                       src._starts, src._lo, src._hi))
    assert index_bytes <= 8 * n
    assert not any(isinstance(v, np.ndarray) and len(v) >= n for v in vars(src).values())


def test_small_cloud_is_one_node_and_not_reordered():
    pos = np.arange(30, dtype=np.float32).reshape(10, 3)
    cloud = PointCloud(pos.copy(), np.zeros(3))
    src = build_octree(cloud)
    assert src.keys == [ROOT] and np.array_equal(cloud.positions, pos)


def test_cancel_leaves_cloud_untouched(shared_data):
    cloud = read(shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    before = cloud.positions

    def progress(fraction, message):
        if fraction > 0.5:
            raise LoadCancelled("x")

    with pytest.raises(LoadCancelled):
        build_octree(cloud, progress=progress, capacity=2048)
    assert cloud.positions is before


@pytest.fixture(scope="module")
def ahn3(shared_data):
    cloud = read(shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    return cloud, build_octree(cloud, capacity=2048)


def test_select_frustum_budget_and_distance(ahn3):
    cloud, src = ahn3
    lo, hi = src.bounds
    centre = (lo + hi) / 2
    size = hi - lo
    # looking away from the data: nothing
    eye = centre + [0, -size[1], 50]
    away = look_at_view_proj(eye, eye + [0, -1, 0], aspect=1.5)
    assert select_nodes(src, away, 800, 10**9) == []
    # looking at it: budget respected, closed under "parent of"
    view = look_at_view_proj(centre + [0, -size[1], size[1] / 2], centre, aspect=1.5)
    for budget in (5_000, 30_000, 100_000):
        keys = select_nodes(src, view, 800, budget)
        assert keys and sum(src.node(k).point_count for k in keys) <= budget
        chosen = set(keys)
        for d, x, y, z in keys:
            assert d == 0 or (d - 1, x >> 1, y >> 1, z >> 1) in chosen
    # low camera at the south-west corner looking across: near half gets deeper nodes
    eye = np.array([lo[0], lo[1], hi[2] + 5.0])
    view = look_at_view_proj(eye, [hi[0], hi[1], lo[2]], aspect=1.5, fov_y_deg=60)
    keys = select_nodes(src, view, 800, 60_000, min_pixels=1)
    near, far = [], []
    for key in keys:
        node = src.node(key)
        c = (node.lo + node.hi) / 2
        d = np.linalg.norm((c - lo)[:2])
        (near if d < 0.3 * np.linalg.norm(size[:2]) else far).append(key[0])
    assert near and max(near) > max(far, default=0)
    # fast: a few hundred microseconds to milliseconds
    t = time.perf_counter()
    for _ in range(10):
        select_nodes(src, view, 800, 100_000)
    assert (time.perf_counter() - t) / 10 < 0.01


def test_threaded_reorder_and_key_fill_equal_the_single_threaded_ones():
    from loaders import lod

    rng = np.random.default_rng(7)
    n = 3 * lod.CHUNK + 123  # several blocks, a ragged last one
    perm = rng.permutation(n).astype(np.uint32)
    arrays = [rng.random((n, 3), dtype=np.float32), rng.integers(0, 255, (n, 3), np.uint8),
              rng.integers(0, 60000, n).astype(np.uint16), rng.random(n)]
    frozen = rng.integers(0, 9, n).astype(np.uint8)
    frozen.flags.writeable = False  # replaced by a reordered copy
    expected = [a[perm] for a in arrays + [frozen]]
    ids = [id(a) for a in arrays]
    out = lod.permute_all_in_place(arrays + [frozen], perm, threads=2)
    assert [id(a) for a in out[:4]] == ids  # in place
    for got, want in zip(out, expected, strict=True):
        np.testing.assert_array_equal(got, want)

    pos = rng.random((n, 3), dtype=np.float32) * 100
    one, two = lod.KeyBuffer(n), lod.KeyBuffer(n)
    one.fill(pos, np.zeros(3), 100.0)
    two.fill_parallel(pos, np.zeros(3), 100.0, threads=2)
    np.testing.assert_array_equal(one.keys, two.keys)
    index = two.keys & np.uint64(0xFFFFFFFF)  # (low 32 bits: the point's index)
    np.testing.assert_array_equal(index, np.arange(n))


def test_the_two_thread_sort_equals_numpys():
    from loaders import lod

    rng = np.random.default_rng(3)
    for n in (0, 5, 4 * lod.CHUNK + 17):
        keys = rng.integers(0, 50, n).astype(np.uint64)  # many equal keys
        want = np.sort(keys)
        lod.sort_in_place(keys, threads=2)
        np.testing.assert_array_equal(keys, want)
