"""Broken and awkward real files: each gives a LoadError naming the file and the reason,
quickly (laspy hangs and lazrs panics on some of them when called naively)."""

from __future__ import annotations

import shutil

import pytest

import loaders
from loaders import LoadError

CASES = [
    ("garbage_nVariableLength.las", "1,069,128,089 variable-length records"),
    ("truncated_1.2-no-points.las", "header says 1,065 points but the file holds none"),
    ("broken_compressor.laz", "compressor type 16 is not valid"),
    ("broken_type.laz", "item type 22"),
    ("broken_coder.laz", "coder type 15"),
    ("simple-laszip-compressor-version-1.2r0.laz", "legacy LAZ"),
    ("bad-crc.e57", "checksum mismatch, file is corrupted"),
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name,reason", CASES)
def test_corrupt_file_is_load_error(shared_data, name, reason):
    path = shared_data / "corrupt" / name
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    err = info.value
    assert name in str(err)
    assert reason in err.reason
    assert err.hint  # every error says what to do


@pytest.mark.timeout(10)
def test_legacy_laz_hint_names_converters(shared_data):
    with pytest.raises(LoadError) as info:
        loaders.read(shared_data / "corrupt" / "simple-laszip-compressor-version-1.2r0.laz")
    assert "pdal translate" in info.value.hint and "laszip" in info.value.hint


@pytest.mark.timeout(10)
def test_lazrs_panic_is_load_error_without_precheck(shared_data, tmp_path, monkeypatch):
    """If the laszip record check is bypassed, lazrs raises PanicException (a
    BaseException); the reader must still turn it into a LoadError."""
    from loaders.formats import las

    monkeypatch.setattr(las, "_parse_laszip", lambda path, data: {
        "compressor": 2, "coder": 0, "version": "x", "chunk_size": 0, "items": []})
    monkeypatch.setattr(las, "_check_laz_data", lambda path, fh, info: None)
    for name in ("broken_coder.laz", "simple-laszip-compressor-version-1.2r0.laz"):
        with pytest.raises(LoadError) as info:
            loaders.read(shared_data / "corrupt" / name)
        assert name in str(info.value)


@pytest.mark.timeout(10)
def test_partly_truncated_las_returns_points_with_warning(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "epsg_4326.las"
    data = src.read_bytes()
    path = tmp_path / "cut.las"
    path.write_bytes(data[: len(data) - 20 * 1000 - 7])  # PF0: 20 bytes a point
    cloud = loaders.read(path)
    assert 0 < cloud.point_count < 5380
    assert any("truncated" in w for w in cloud.metadata["warnings"])


@pytest.mark.timeout(10)
def test_truncated_laz_is_load_error(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    path = tmp_path / "cut.laz"
    path.write_bytes(src.read_bytes()[:300_000])
    with pytest.raises(LoadError, match="cut.laz"):
        loaders.read(path)


@pytest.mark.timeout(10)
def test_truncated_e57_is_load_error(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "pumpAVisualReferenceImage.e57"
    path = tmp_path / "cut.e57"
    path.write_bytes(src.read_bytes()[:1_000_000])
    with pytest.raises(LoadError, match="truncated"):
        loaders.read(path)


@pytest.mark.timeout(10)
def test_truncated_ply_is_load_error(shared_data, tmp_path):
    path = tmp_path / "cut.ply"
    shutil.copy(shared_data / "meshes" / "gargo.ply", path)
    path.write_bytes(path.read_bytes()[:500_000])
    with pytest.raises(LoadError, match="cut.ply"):
        loaders.read(path)
