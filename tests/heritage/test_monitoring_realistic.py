"""The whole monitoring chain on a realistic second epoch (issue 18's realistic change
test): the real AHN3 scan re-surveyed with a 10 x 10 m ground patch raised 0.15 m, the
whole epoch off by a small rigid motion (0.3 deg about Z and a few cm) and 5 mm noise.
Registration recovers the motion; the comparison of the registered epoch finds the patch
with the right magnitude and nothing else significant; the clusters of significant change
are one proposal at the patch."""

from __future__ import annotations

import math

import laspy
import numpy as np
import pytest

from heritage.monitoring import register as R
from heritage.monitoring.change import compare_files
from heritage.monitoring.clusters import clusters_from_file
from loaders.georef import apply_matrix, similarity_from_values
from tests.heritage.test_change import PATCH, SHIFT, patch_mask

NOISE = 0.005


def _xyz(las) -> np.ndarray:
    return np.column_stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)])


@pytest.fixture(scope="module")
def resurvey(shared_data, tmp_path_factory):
    src = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    las = laspy.read(str(src))
    a = _xyz(las)
    centre = (a.min(axis=0) + a.max(axis=0)) / 2
    motion = similarity_from_values((0.06, -0.04, 0.03), (0.0, 0.0, 0.3), 1.0, centre)
    changed = a.copy()
    changed[patch_mask(a), 2] += SHIFT
    b = apply_matrix(motion, changed) + np.random.default_rng(2026).normal(0, NOISE, a.shape)
    las.x, las.y, las.z = b[:, 0], b[:, 1], b[:, 2]
    path = tmp_path_factory.mktemp("resurvey") / "ahn3_2026.laz"
    las.write(str(path))
    return src, path, a, motion


def test_register_then_compare_finds_the_patch_and_nothing_else(resurvey, tmp_path):
    src, path_b, a, motion = resurvey
    # registration: B back onto A, the raised patch (0.5 % of the points) does not bias it
    result = R.register_files(src, path_b)
    expected = np.linalg.inv(motion)
    err = np.abs(apply_matrix(result.matrix, a) - apply_matrix(expected, a)).max()
    assert err < 0.01, err
    d = result.matrix[:3, :3] @ expected[:3, :3].T
    assert math.degrees(math.acos(min(1.0, (np.trace(d) - 1) / 2))) < 0.01
    assert result.overlap > 0.99
    aligned = tmp_path / "ahn3_2026_aligned.laz"
    assert R.write_registered(path_b, aligned, result.matrix) == len(a)
    # the comparison: M3C2 with the registration's error as its uncertainty
    out = tmp_path / "change.laz"
    compare_files(src, aligned, out, method="m3c2",
                  registration_error=max(result.rmse, 0.01))
    las = laspy.read(str(out))
    b = _xyz(las)
    dist = np.asarray(las["m3c2_distance"])
    sig = np.asarray(las["m3c2_significant"]).astype(bool)
    inner = patch_mask(b, -1.0)
    assert sig[inner].mean() > 0.99
    assert abs(np.nanmean(dist[inner]) - SHIFT) < 0.01
    assert not sig[~patch_mask(b, 1.0)].any()  # nothing else significant
    # without registration the same comparison sees change everywhere: the check can fail
    raw = tmp_path / "raw.laz"
    compare_files(src, path_b, raw, method="m3c2", registration_error=0.01)
    raw_sig = np.asarray(laspy.read(str(raw))["m3c2_significant"]).astype(bool)
    assert raw_sig[~patch_mask(b, 1.0)].mean() > 0.05
    # significant change -> one proposed condition annotation at the patch
    (cluster,) = clusters_from_file(out, date_a="2014-03-04", date_b="2026-11-30")
    x0, y0, size = PATCH
    assert abs(cluster.centroid[0] - (x0 + size / 2)) < 0.3
    assert abs(cluster.centroid[1] - (y0 + size / 2)) < 0.3
    assert abs(cluster.mean - SHIFT) < 0.01
