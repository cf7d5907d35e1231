"""The lean LAZ reader of the ingest worker (loaders.parallel_las): bit for bit the cloud
the usual read gives (with the return fields packed), on the real files and on files
made to hit its edge cases (colour depth changing between chunks, flags set in one
chunk only, a broken chunk)."""

from __future__ import annotations

from pathlib import Path

import laspy
import numpy as np
import pytest

from loaders import ingest, parallel_las, progressive
from loaders.formats import las

LAZ = ["ahn3_cropped_2.laz", "autzen_trim.laz", "lion_takanawa.copc.laz", "append-bug.laz"]


def _lean(path: Path, **kw):
    info = las.parse_header(path)
    return parallel_las.read_lean(path, info, keep=set(ingest.LEAN), alloc=np.empty,
                                  packed_name=ingest.PACKED_RETURNS, **kw)


def _assert_same(path: Path, ours) -> None:
    ref = progressive.read_full(path, keep=set(ingest.LEAN))
    ingest.pack_returns(ref.attributes)
    np.testing.assert_array_equal(ours.origin, ref.origin)
    np.testing.assert_array_equal(ours.positions, ref.positions)
    assert set(ours.attributes) == set(ref.attributes)
    for key, values in ref.attributes.items():
        np.testing.assert_array_equal(ours.attributes[key], values, err_msg=key)
    assert ours.metadata == ref.metadata
    assert ours.warnings == ref.warnings
    assert ours.crs == ref.crs


@pytest.mark.parametrize("name", LAZ)
def test_the_real_files_read_as_the_usual_read_reads_them(shared_data, name):
    path = shared_data / "pointclouds" / name
    ours = _lean(path, chunks_per_call=3)
    assert ours is not None, "served"
    assert ingest.PACKED_RETURNS in ours.attributes
    _assert_same(path, ours)


def _write(path: Path, fmt: int, n: int, chunk: int, colours: np.ndarray | None = None,
           synthetic_at: int | None = None) -> Path:
    header = laspy.LasHeader(point_format=fmt, version="1.4" if fmt >= 6 else "1.2")
    header.scales = [0.01, 0.01, 0.01]
    header.offsets = [500000.0, 4000000.0, 0.0]
    rec = laspy.ScaleAwarePointRecord.zeros(n, header=header)
    rng = np.random.default_rng(fmt)
    rec.x = 500000 + rng.uniform(0, 100, n)
    rec.y = 4000000 + rng.uniform(0, 100, n)
    rec.z = rng.uniform(0, 30, n)
    rec.intensity = rng.integers(0, 65535, n)
    rec.classification = rng.integers(0, 20 if fmt >= 6 else 31, n)
    nret = rng.integers(1, 8 if fmt < 6 else 16, n)
    rec.number_of_returns = nret
    rec.return_number = np.minimum(rng.integers(1, 16, n), nret)
    rec.gps_time = rng.uniform(0, 1e5, n)
    if colours is not None:
        rec.red, rec.green, rec.blue = colours[:, 0], colours[:, 1], colours[:, 2]
    if synthetic_at is not None:
        rec.synthetic[synthetic_at] = 1
    with laspy.open(path, mode="w", header=header, do_compress=True,
                    laz_backend=laspy.LazBackend.Lazrs) as w:
        for a in range(0, n, chunk):  # one LAZ chunk per write: chunk boundaries known
            w.write_points(rec[a:a + chunk])
    return path


@pytest.mark.parametrize("fmt", [1, 3, 7, 8])
def test_point_formats_colour_depth_and_flags_match_the_usual_read(tmp_path, fmt):
    n, chunk = 120_000, 50_000
    colours = None
    if fmt in (3, 7, 8):  # 8-bit values in the first chunks, a 16-bit one in the last
        colours = np.random.default_rng(1).integers(0, 256, (n, 3)).astype(np.uint16)
        colours[-5] = [65535, 300, 4000]
    path = _write(tmp_path / f"f{fmt}.laz", fmt, n, chunk, colours, synthetic_at=70_000)
    info = las.parse_header(path)
    assert len(progressive.laz_chunks(path, info)) >= 2
    ours = _lean(path, chunks_per_call=1)
    assert ours is not None
    _assert_same(path, ours)
    assert "synthetic" in ours.metadata["deferred"]
    if colours is not None:
        assert ours.metadata["rgb_16bit"]
        assert ours.attributes["rgb"][:chunk].max() == 0  # each below 256: >> 8 gives 0
        np.testing.assert_array_equal(ours.attributes["rgb"][-5], [255, 1, 15])
    packed = ours.attributes[ingest.PACKED_RETURNS]
    ref = laspy.read(path)
    np.testing.assert_array_equal(packed & 15, np.asarray(ref.return_number))
    np.testing.assert_array_equal(packed >> 4, np.asarray(ref.number_of_returns))


def test_what_it_does_not_serve_goes_the_usual_way(shared_data, tmp_path):
    las_file = shared_data / "pointclouds" / "file_with_both_wkt_and_geotiff_vlrs.las"
    assert _lean(las_file) is None  # not compressed
    laz = shared_data / "pointclouds" / "autzen_trim.laz"
    info = las.parse_header(laz)
    assert parallel_las.read_lean(laz, info, keep={"gps_time"}, alloc=np.empty,
                                  packed_name="p") is None


def test_garbage_in_a_chunk_reads_as_the_usual_read_reads_it(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    chunks = progressive.laz_chunks(src, las.parse_header(src))
    data = bytearray(src.read_bytes())
    _first, _m, offset, nbytes = chunks[len(chunks) // 2]
    data[offset + 20: offset + nbytes - 20] = bytes(nbytes - 40)  # a chunk's body zeroed
    bad = tmp_path / "bad.laz"
    bad.write_bytes(bytes(data))
    cloud = _lean(bad)
    assert cloud is not None
    _assert_same(bad, cloud)


def test_a_chunk_that_fails_raises_after_giving_back_its_arrays(shared_data, monkeypatch):
    import lazrs

    path = shared_data / "pointclouds" / "autzen_trim.laz"
    real = lazrs.decompress_points_with_chunk_table
    calls = []

    def failing(*args):
        calls.append(1)
        if len(calls) == 2:
            raise lazrs.LazrsError("broken chunk")
        return real(*args)

    monkeypatch.setattr(lazrs, "decompress_points_with_chunk_table", failing)
    taken, given = [], []

    def alloc(shape, dtype):
        taken.append(np.empty(shape, dtype))
        return taken[-1]

    with pytest.raises(parallel_las.ChunkFailed, match="broken chunk"):
        parallel_las.read_lean(path, las.parse_header(path), keep=set(ingest.LEAN),
                               alloc=alloc, packed_name="p", chunks_per_call=1,
                               release=given.append)
    assert len(taken) == 5 and len(given) == len(taken)
    assert all(any(g is t for g in given) for t in taken)
