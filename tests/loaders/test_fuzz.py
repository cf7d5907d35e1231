"""Mangled real files through ``loaders.read``: the only acceptable outcomes are a
PointCloud/Mesh or a LoadError - no other exception, no crash, no hang."""

from __future__ import annotations

import random
import time
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loaders
from loaders import LoadError, Mesh, PointCloud
from tests.conftest import SHARED_DATA

FILES = [
    ("pointclouds/autzen_trim.laz", 25),
    ("pointclouds/append-bug.laz", 30),
    ("pointclouds/file_with_both_wkt_and_geotiff_vlrs.las", 30),
    ("pointclouds/autzen-bmx-2010.las", 30),
    ("pointclouds/ahn3_cropped_2.laz", 25),
    ("pointclouds/epsg_4326.las", 30),
    ("pointclouds/permutations_1.2_2.las", 30),
    ("pointclouds/lion_takanawa.copc.laz", 20),
    ("pointclouds/pumpAVisualReferenceImage.e57", 20),
    ("meshes/gargo.ply", 25),
    ("corrupt/bad-crc.e57", 20),
    ("corrupt/cube-ply-1.0_binary-comment_renamed_to_remark-invalid.ply", 30),
]


@lru_cache(maxsize=None)
def _original(rel: str) -> bytes:
    return (SHARED_DATA / rel).read_bytes()


@st.composite
def mangle(draw, size: int):
    """A list of edits: truncate, flip/overwrite bytes (header area or anywhere), insert
    junk. Positions come from a seeded RNG so that they spread over the whole file
    (hypothesis alone prefers offset 0, which only tests the signature check)."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "head", "head", "anywhere", "insert"]))
        if kind == "truncate":
            edits.append((kind, rng.randrange(4, max(size, 5)), b""))
        elif kind == "head":  # header fields, VLRs, PLY/E57 headers
            pos = rng.randrange(4, max(min(size, 4096), 5))
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            edits.append((kind, pos, junk))
        else:
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
            edits.append((kind, rng.randrange(0, size), junk))
    return edits


def _apply(data: bytes, edits) -> bytes:
    buf = bytearray(data)
    for kind, pos, junk in edits:
        pos = min(pos, len(buf))
        if kind == "truncate":
            del buf[pos:]
        elif kind == "insert":
            buf[pos:pos] = junk
        else:
            buf[pos:pos + len(junk)] = junk
    return bytes(buf)


@pytest.mark.timeout(150)
@pytest.mark.parametrize("rel,examples", FILES, ids=[f[0].split("/")[-1] for f in FILES])
def test_mangled_file_gives_data_or_load_error(rel, examples, tmp_path):
    data = _original(rel)
    name = rel.split("/")[-1]
    target = tmp_path / name

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(edits=mangle(len(data)))
    def check(edits):
        target.write_bytes(_apply(data, edits))
        start = time.monotonic()
        try:
            result = loaders.read(target)
        except LoadError as exc:
            assert name in str(exc)
        else:
            assert isinstance(result, (PointCloud, Mesh))
            n = result.point_count if isinstance(result, PointCloud) else result.vertex_count
            assert n >= 0
        assert time.monotonic() - start < 10, f"read took too long for {edits!r}"

    check()
