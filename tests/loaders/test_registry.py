"""The registry: extensions, sniffing and the errors for files that are not there."""

from __future__ import annotations

import pytest

import loaders
from loaders import LoadError, normalised_extension


@pytest.mark.parametrize("name,ext", [
    ("a.las", "las"), ("A.LAZ", "laz"), ("lion.copc.laz", "copc.laz"),
    ("LION.COPC.LAZ", "copc.laz"), ("x.city.json", "city.json"), ("x.json", "json"),
    ("dir.v2/file", ""), ("noext", ""), ("scan.E57", "e57"), ("a.b.ply", "ply"),
    ("/some/path/cloud.xyz", "xyz"), ("copc.laz", "laz"),
])
def test_normalised_extension(name, ext):
    assert normalised_extension(name) == ext


def test_point_cloud_extensions_registered():
    exts = set(loaders.supported_extensions())
    assert {"las", "laz", "copc.laz", "e57", "ply", "xyz", "pts", "txt", "csv"} <= exts


def test_unknown_extension_lists_supported(tmp_path):
    path = tmp_path / "thing.qqq"
    path.write_bytes(b"\x01\x02\x03 binary junk")
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    assert "unrecognised file type '.qqq'" in info.value.reason
    for ext in ("las", "laz", "e57", "ply", "xyz"):
        assert ext in info.value.hint


def test_empty_file(tmp_path):
    path = tmp_path / "empty.las"
    path.write_bytes(b"")
    with pytest.raises(LoadError, match="empty"):
        loaders.read(path)


def test_directory(tmp_path):
    with pytest.raises(LoadError, match="folder"):
        loaders.read(tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(LoadError, match="not found"):
        loaders.read(tmp_path / "nope.laz")


def test_sniffers():
    from pathlib import Path

    from loaders.formats import e57, las, ply, xyz

    p = Path("x")
    assert las.sniff(b"LASF\x00\x00", p) and not las.sniff(b"ply\n", p)
    assert e57.sniff(b"ASTM-E57\x00", p) and not e57.sniff(b"LASF", p)
    assert ply.sniff(b"ply\nformat ascii 1.0\n", p) and not ply.sniff(b"plywood", p)
    assert xyz.sniff(b"1 2 3\n4 5 6\n", p)
    assert xyz.sniff(b"x,y,z\n1,2,3\n", p)
    assert not xyz.sniff(b"hello world\n", p)
    assert not xyz.sniff(b"v 1 2 3\nf 1 2 3\n", p)  # OBJ
    assert not xyz.sniff(b'{"type": "CityJSON"}', p)


def test_text_table_with_unknown_extension_is_sniffed(tmp_path):
    path = tmp_path / "points.dat"
    path.write_text("1 2 3\n4 5 6\n")
    cloud = loaders.read(path)
    assert cloud.point_count == 2 and cloud.metadata["format"] == "XYZ"


def test_no_reader_special_case_content_sniffing_kept(tmp_path, monkeypatch):
    """Every reader opens its file itself: the registry reads only SNIFF_BYTES to choose
    (no whole-file read for one reader), and a mis-named CityJSON is still found by
    content."""
    import json
    import os

    from loaders import registry
    from loaders.registry import ReaderSpec

    assert not hasattr(registry, "WHOLE_FILE_BYTES")
    assert "read_bytes" not in ReaderSpec.__dataclass_fields__
    doc = {"type": "CityJSON", "version": "2.0", "transform": {
        "scale": [1, 1, 1], "translate": [0, 0, 0]}, "vertices": [[0, 0, 0], [1, 0, 0],
                                                                   [0, 1, 0]],
        "CityObjects": {"a": {"type": "Building", "attributes": {"note": "x" * 5000},
                              "geometry": [{"type": "MultiSurface", "lod": "1",
                                            "boundaries": [[[0, 1, 2]]]}]}}}
    path = tmp_path / "one.json"  # not named .city.json: found by its content
    path.write_text(json.dumps(doc))
    assert path.stat().st_size > registry.SNIFF_BYTES
    sizes = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: sizes.append(n) or real_read(fd, n))
    m = loaders.read(path)
    assert m.triangle_count == 1 and m.metadata["file_size"] == path.stat().st_size
    assert m.metadata["format"] == "CityJSON"
    assert sizes and sizes[0] == registry.SNIFF_BYTES
