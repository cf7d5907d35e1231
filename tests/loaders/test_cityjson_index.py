"""The CityJSON reader reads boundaries and integer vertices from their JSON text with
numpy (loaders.formats.cityjson.index_boundaries / parse_int_rows): checked here against
a plain Python reading of the same JSON, on random and on malformed input."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from loaders.formats.cityjson import index_boundaries, parse_int_rows


def _reference(b, depth: int):
    """(surfaces, rings per surface, ring lengths, ids) by walking the lists."""
    surfaces = b
    for _ in range(depth - 1):
        surfaces = [s for shell in surfaces for s in shell]
    rings = [r for s in surfaces for r in s]
    return (len(surfaces), [len(s) for s in surfaces], [len(r) for r in rings],
            [v for r in rings for v in r])


def _random_boundaries(rng: random.Random, depth: int):
    def ring():
        return [rng.randrange(0, 10**rng.randrange(1, 12)) for _ in range(rng.randrange(0, 7))]

    def surface():
        return [ring() for _ in range(rng.randrange(0, 4))]

    def level(d):
        if d == 1:
            return [surface() for _ in range(rng.randrange(0, 5))]
        return [level(d - 1) for _ in range(rng.randrange(0, 4))]
    return level(depth)


def _text(value, pretty: bool) -> bytes:
    """Compact, or pretty-printed as files often are (whitespace the reader takes out)."""
    return json.dumps(value, indent=2 if pretty else None,
                      separators=None if pretty else (",", ":")).encode()


def test_index_boundaries_matches_walking_the_lists() -> None:
    rng = random.Random(7)
    geoms = [(_random_boundaries(rng, d), d) for d in [1, 2, 3] * 60]
    parts = [_text(b, pretty=i % 2 == 0) for i, (b, _) in enumerate(geoms)]
    ix = index_boundaries(parts, [d for _, d in geoms])
    assert not ix.bad
    refs = [_reference(b, d) for b, d in geoms]
    assert ix.nsurf.tolist() == [r[0] for r in refs]
    assert ix.rps.tolist() == [n for r in refs for n in r[1]]
    assert ix.rlen.tolist() == [n for r in refs for n in r[2]]
    assert ix.idx.tolist() == [v for r in refs for v in r[3]]


@pytest.mark.parametrize("boundaries,depth,reason", [
    ([[[0, 1.5, 2]]], 1, "vertex index '1.5' is not an integer"),
    ([[[0, 1, 2**70]]], 1, "is not an integer"),
    ([[[0, 1, None]]], 1, "vertex index 'null' is not an integer"),
    ([[[0, "a", 2]]], 1, "vertex index 'a' is not an integer"),
    ([[[0, 1e5, 2]]], 1, "is not an integer"),
    ([[0, 1, 2]], 1, "a surface is not a list of rings"),
    ([[[[0, 1, 2]]]], 1, "a ring is not a list of vertex indices"),
    ([[[0, 1, 2]]], 2, "a surface is not a list of rings"),
    ([[[0, {"a": 1}, 2]]], 1, "is not an integer"),
])
def test_malformed_geometries_are_named_and_the_others_kept(boundaries, depth, reason) -> None:
    good = [[[0, 1, 2]], [[2, 3, 4, 5]]]
    parts = [_text(good, False), _text(boundaries, False), _text(good, True)]
    ix = index_boundaries(parts, [1, depth, 1])
    assert list(ix.bad) == [1] and reason in ix.bad[1]
    assert ix.nsurf.tolist() == [2, 0, 2]
    assert ix.idx.tolist() == [0, 1, 2, 2, 3, 4, 5] * 2


def test_negative_indices_are_read_for_the_range_check() -> None:
    ix = index_boundaries([b"[[[0,-1,2]]]"], [1])
    assert not ix.bad and ix.idx.tolist() == [0, -1, 2]


def test_parse_int_rows() -> None:
    rows = [[1, -2, 3], [400000000, 5, -600], [0, 0, 0]]
    assert parse_int_rows(json.dumps(rows, indent=1).encode()).tolist() == rows
    assert parse_int_rows(b"[]").shape == (0, 3)
    for other in ([[1, 2], [3, 4, 5]], [[1.5, 2, 3]], [[1, 2, None]], [[1, 2, 3, 4]],
                  [[1, 2, 10**19]], [[[1, 2, 3]]], [1, 2, 3], [[1, 2, 3], 4]):
        assert parse_int_rows(json.dumps(other).encode()) is None, other
    big = np.random.default_rng(1).integers(-10**12, 10**12, (5000, 3))
    assert np.array_equal(parse_int_rows(json.dumps(big.tolist()).encode()), big)


def _same_mesh(a, b) -> None:
    for name in ("vertices", "origin", "faces", "face_feature", "face_semantic", "face_lod",
                 "face_colors"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None) and (x is None or np.array_equal(x, y)), name
    assert [(f.id, f.type, f.attributes, f.parent, f.children, f.lods) for f in a.features] \
        == [(f.id, f.type, f.attributes, f.parent, f.children, f.lods) for f in b.features]
    assert a.semantic_names == b.semantic_names and a.lod_names == b.lod_names
    assert a.metadata == b.metadata


def test_text_path_reads_real_files_as_the_json_tree_path(shared_data, monkeypatch) -> None:
    """Every CityJSON of the shared data (and a corrupt one) read through msgspec with the
    boundaries as text, and through the JSON tree (the path of files msgspec refuses):
    the same model, metadata and warnings."""
    from loaders.formats import cityjson

    paths = sorted(shared_data.rglob("*.city.json"))
    assert len(paths) >= 5
    from loaders import LoadError

    def read(path):
        try:
            return cityjson.read(path)
        except LoadError as exc:
            return str(exc)

    refused = 0
    for path in paths:
        fast = read(path)
        with monkeypatch.context() as m:
            m.setattr(cityjson, "_parse_structs", lambda raw: None)
            tree = read(path)
        if isinstance(fast, str):
            assert fast == tree
            refused += 1
        else:
            _same_mesh(fast, tree)
    assert refused < len(paths)
