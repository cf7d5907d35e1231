"""Progressive LAS/LAZ loading: preview spread, exact full read, cancel, memory guard.

Real files: ahn3_cropped_2.laz from ../shared/data (208,432 points in 50,000-point LAZ
chunks) and a generated scan-ordered survey (benchmarks.synthetic) written by laspy/lazrs
as LAZ and LAS.
"""

from __future__ import annotations

import numpy as np
import pytest

import loaders
from benchmarks import synthetic
from loaders import LoadCancelled, progressive
from loaders.formats import las

N_SYNTH = 600_000  # 12 LAZ chunks of 50,000 points


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    laz = synthetic.write(N_SYNTH, d / "survey.laz", compressed=True)
    las_path = synthetic.write(N_SYNTH, d / "survey.las", compressed=False)
    return {"laz": laz, "las": las_path}


@pytest.fixture(scope="module")
def ahn3(shared_data):
    return shared_data / "pointclouds" / "ahn3_cropped_2.laz"


def occupied_cells(cloud, lo, hi, grid=24) -> set[tuple[int, int]]:
    xy = cloud.xyz()[:, :2]
    ij = np.floor((xy - lo[:2]) / (hi[:2] - lo[:2] + 1e-9) * grid).astype(int)
    return set(map(tuple, np.clip(ij, 0, grid - 1)))


def assert_same_cloud(a, b) -> None:
    assert a.point_count == b.point_count
    np.testing.assert_array_equal(a.origin, b.origin)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert list(a.attributes) == list(b.attributes)
    for key in b.attributes:
        np.testing.assert_array_equal(a.attributes[key], b.attributes[key], err_msg=key)
    assert a.crs == b.crs


def test_ahn3_chunk_table(ahn3):
    info = las.parse_header(ahn3)
    chunks = progressive.laz_chunks(ahn3, info)
    assert info.point_count == 208_432
    assert [c[1] for c in chunks] == [50_000] * 4 + [8_432]
    assert chunks[0][2] == info.offset_to_points + 8


@pytest.mark.parametrize("kind", ["laz", "las"])
def test_preview_is_a_uniform_spread(synth, kind):
    path = synth[kind]
    full = loaders.read(path)
    preview = progressive.read_preview(path, preview_points=60_000, full_decode_below=0)
    assert 30_000 <= preview.point_count <= 70_000 < full.point_count // 8
    lo, hi = full.bounds
    # LAZ chunks decode only from their start, so a LAZ preview is a run of scan lines
    # from each of the 12 chunks: judge it on a grid as fine as the chunks' strips
    grid = 10 if kind == "laz" else 24
    want = occupied_cells(full, lo, hi, grid)
    got = occupied_cells(preview, lo, hi, grid)
    assert len(got & want) >= 0.9 * len(want)
    # same conventions as the full read
    np.testing.assert_array_equal(preview.origin, full.origin)
    assert list(preview.attributes) == list(full.attributes)
    for key, values in full.attributes.items():
        assert preview.attributes[key].dtype == values.dtype
        assert preview.attributes[key].shape[1:] == values.shape[1:]
    assert preview.metadata["format"] == full.metadata["format"]
    assert preview.metadata["preview"]["of"] == N_SYNTH
    # the preview points are real points of the file
    full_keys = set(map(tuple, full.positions[:, :2].round(3).tolist()))
    sample = preview.positions[:: max(1, preview.point_count // 500), :2].round(3)
    assert all(tuple(p) in full_keys for p in sample.tolist())


def test_laz_preview_decodes_a_spread_of_chunks(synth):
    preview = progressive.read_preview(synth["laz"], preview_points=60_000,
                                       full_decode_below=0)
    assert "of 12 of 12 LAZ chunks" in preview.metadata["preview"]["method"]


def test_small_file_preview_is_thinned_full_decode(ahn3):
    full = loaders.read(ahn3)
    preview = progressive.read_preview(ahn3, preview_points=40_000)
    assert 30_000 <= preview.point_count <= 40_000
    np.testing.assert_array_equal(preview.positions, full.positions[::6])
    lo, hi = full.bounds
    want = occupied_cells(full, lo, hi)
    assert len(occupied_cells(preview, lo, hi) & want) >= 0.9 * len(want)


@pytest.mark.parametrize("name", ["ahn3", "laz", "las"])
def test_read_progressive_equals_loaders_read(name, synth, ahn3):
    path = ahn3 if name == "ahn3" else synth[name]
    previews = []
    fractions = []
    cloud = progressive.read_progressive(path, on_preview=previews.append,
                                         progress=lambda f, m: fractions.append(f),
                                         preview_points=50_000, full_decode_below=0)
    assert len(previews) == 1 and previews[0].point_count < cloud.point_count
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    expected = loaders.read(path)
    assert_same_cloud(cloud, expected)
    assert cloud.metadata["format"] == expected.metadata["format"]
    assert "memory_guard" not in cloud.metadata


def test_no_preview_for_small_files(ahn3):
    previews = []
    progressive.read_progressive(ahn3, on_preview=previews.append, preview_points=500_000)
    assert previews == []


class CancelAt:
    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.calls = 0

    def __call__(self, fraction: float, message: str) -> None:
        self.calls += 1
        if self.stage in message.lower() and self.calls > 2:
            raise LoadCancelled("test")


@pytest.mark.parametrize("kind", ["laz", "las"])
@pytest.mark.parametrize("stage", ["preview", "read"])
def test_cancel(synth, kind, stage):
    previews = []
    with pytest.raises(LoadCancelled):
        progressive.read_progressive(synth[kind], on_preview=previews.append,
                                     progress=CancelAt(stage), preview_points=200_000,
                                     full_decode_below=0)
    assert len(previews) == (0 if stage == "preview" else 1)


def test_memory_guard_subsamples_with_warning(synth, monkeypatch):
    path = synth["laz"]
    info = las.parse_header(path)
    per_point = progressive.peak_bytes_per_point(info)
    budget = N_SYNTH * per_point // 4 + 1000  # a quarter fits
    monkeypatch.setenv(progressive.ENV_BUDGET, str(budget))
    assert progressive.memory_budget() == budget
    cloud = progressive.read_progressive(path)
    stride = cloud.metadata["memory_guard"]["stride"]
    assert stride == 4
    full = loaders.read(path)
    assert cloud.point_count == len(full.positions[::4])
    np.testing.assert_array_equal(cloud.xyz(), full.xyz()[::4])
    np.testing.assert_array_equal(cloud.attributes["rgb"], full.attributes["rgb"][::4])
    warning = cloud.warnings[0]
    assert warning.startswith("showing 25% of 600,000 points")
    assert "memory budget" in warning and "COPC" in warning
    assert cloud.point_count * per_point <= budget


def test_memory_guard_fits_without_notice(synth):
    cloud = progressive.read_full(synth["las"], budget=10**12)
    assert cloud.point_count == N_SYNTH
    assert not any("memory budget" in w for w in cloud.warnings)


def test_resident_bytes_of_xyz_rgb_class(synth):
    cloud = progressive.read_full(synth["laz"])
    kept = (cloud.positions.nbytes + cloud.attributes["rgb"].nbytes
            + cloud.attributes["classification"].nbytes)
    assert kept / cloud.point_count <= 16


def test_corrupt_file_is_a_load_error(tmp_path, ahn3):
    bad = tmp_path / "cut.laz"
    bad.write_bytes(ahn3.read_bytes()[:400_000])
    with pytest.raises(loaders.LoadError):
        progressive.read_progressive(bad, on_preview=lambda c: None, preview_points=10_000,
                                     full_decode_below=0)


@pytest.mark.parametrize("per_call", [1, 3])
def test_full_read_is_the_same_for_any_chunks_per_call(per_call, synth, monkeypatch):
    """Fewer chunks per lazrs call (shorter GIL holds) decode the very same cloud."""
    calls = []
    real = progressive.decode_group

    def counting(fh, group, *a, **kw):
        calls.append(len(group))
        return real(fh, group, *a, **kw)

    monkeypatch.setattr(progressive, "decode_group", counting)
    cloud = progressive.read_full(synth["laz"], chunks_per_call=per_call)
    assert calls and max(calls) <= per_call
    assert_same_cloud(cloud, loaders.read(synth["laz"]))
