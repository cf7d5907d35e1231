"""The fast OSGB reader (loaders/tiles/osgb_worker.cpp + .py): a persistent OpenSceneGraph
worker gives exactly what the osgconv path gives, on the real shared tile and on a tileset
built from real meshes; hostile tiles are one LoadError each and the worker survives or is
restarted; a killed, crashed or stuck worker is replaced."""

from __future__ import annotations

import os
import shutil
import signal
import struct
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import LoadError
from loaders.tiles import osgb, osgb_worker
from loaders.tiles.osgb import OsgbTileSet, read_osgb_file

from .osgb_support import build_osgb_tileset

pytestmark = pytest.mark.skipif(shutil.which("osgconv") is None,
                                reason="OpenSceneGraph (osgconv) is not installed")

SHARED_TILE = "tiles/osgb/test.osgb"


@pytest.fixture(scope="module")
def exe() -> Path:
    """The worker program, built (as ./run does) when missing or out of date."""
    try:
        return osgb_worker.build_worker()
    except osgb_worker.WorkerUnavailable as exc:
        pytest.skip(f"the OSGB worker cannot be built here: {exc}")


@pytest.fixture()
def pool(exe):
    p = osgb_worker.WorkerPool(exe, timeout=3.0)
    yield p
    p.close()


def _same_file(a: osgb.OsgbFile, b: osgb.OsgbFile) -> None:
    assert len(a.lods) == len(b.lods) and len(a.free) == len(b.free)
    assert a.warnings == b.warnings
    pairs = list(zip(a.free, b.free, strict=True))
    for la, lb in zip(a.lods, b.lods, strict=True):
        np.testing.assert_array_equal(la.center, lb.center)
        assert la.radius == lb.radius and la.range_mode == lb.range_mode
        assert la.ranges == lb.ranges and la.files == lb.files
        assert len(la.geometry) == len(lb.geometry)
        pairs += list(zip(la.geometry, lb.geometry, strict=True))
    assert pairs
    for ga, gb in pairs:
        np.testing.assert_array_equal(ga.xyz, gb.xyz)
        np.testing.assert_array_equal(ga.faces, gb.faces)
        assert (ga.uvs is None) == (gb.uvs is None)
        if ga.uvs is not None:
            np.testing.assert_array_equal(ga.uvs, gb.uvs)
        assert ga.material.color == gb.material.color
        ta, tb = ga.material.texture, gb.material.texture
        assert (ta is None) == (tb is None)
        if ta is not None:
            assert ga.material.name == gb.material.name
            np.testing.assert_array_equal(ta, tb)


@pytest.mark.timeout(60)
def test_worker_reads_the_shared_tile_exactly_as_osgconv(exe, shared_data: Path) -> None:
    path = shared_data / SHARED_TILE
    for images in (True, False):
        via_osgconv = read_osgb_file(path, images=images, reader="osgconv")
        via_worker = read_osgb_file(path, images=images, reader="worker")
        _same_file(via_osgconv, via_worker)
    lod = via_worker.lods[0]  # (spheres only: no textures read)
    assert lod.range_mode == "PIXEL_SIZE_ON_SCREEN"
    assert lod.files == ["", "Tile_+000_+000_L16_0.osgb"]
    assert all(g.material.texture is None for g in lod.geometry)
    full = read_osgb_file(path, reader="worker")
    tex = [g.material.texture for g in full.lods[0].geometry if g.material.texture is not None]
    assert len(tex) == 1 and tex[0].shape == (128, 256, 3) and tex[0].any()


def _walk(ts, tile, out):
    out.append(tile)
    for kid in ts.expand(tile):
        _walk(ts, kid, out)
    return out


@pytest.mark.timeout(180)
def test_built_tileset_gives_the_same_tiles_and_contents(exe, tmp_path) -> None:
    built = build_osgb_tileset(tmp_path / "delft", grid=(2, 1), levels=2, texture_px=256)
    a = OsgbTileSet(built.path, reader="osgconv")
    b = OsgbTileSet(built.path, reader="worker")
    try:
        assert a.warnings == b.warnings == []
        ta, tb = _walk(a, a.root, []), _walk(b, b.root, [])
        assert [t.key for t in ta] == [t.key for t in tb] and len(ta) >= 1 + 2 + 4
        textured = 0
        for x, y in zip(ta, tb, strict=True):
            np.testing.assert_array_equal(x.center, y.center)
            assert (x.radius, x.geometric_error, x.refine) == (y.radius, y.geometric_error,
                                                                y.refine)
            assert x.extra == y.extra and (x.content is None) == (y.content is None)
            if x.content is None:
                continue
            ma, mb = a.load(x).meshes[0], b.load(y).meshes[0]
            np.testing.assert_array_equal(ma.origin, mb.origin)
            np.testing.assert_array_equal(ma.vertices, mb.vertices)
            np.testing.assert_array_equal(ma.faces, mb.faces)
            np.testing.assert_array_equal(ma.uvs, mb.uvs)
            assert [(p.name, p.start, p.stop) for p in ma.parts] == \
                [(p.name, p.start, p.stop) for p in mb.parts]
            for pa, pb in zip(ma.parts, mb.parts, strict=True):
                if pa.material.texture is not None:
                    textured += 1
                    np.testing.assert_array_equal(pa.material.texture, pb.material.texture)
        assert textured == len(ta) - 1  # all but the root
        # in the scene's CRS too (the same reprojection of the same numbers)
        a.set_target_crs("EPSG:32631")
        b.set_target_crs("EPSG:32631")
        leaf_a, leaf_b = ta[-1], tb[-1]
        np.testing.assert_array_equal(a.load(leaf_a).meshes[0].xyz(),
                                      b.load(leaf_b).meshes[0].xyz())
    finally:
        a.close()
        b.close()


def _hostile(shared_data: Path, folder: Path) -> dict[str, Path]:
    raw = (shared_data / SHARED_TILE).read_bytes()
    huge = bytearray(raw)  # every vertex/uv array claims 2^31 elements
    for k in [i for i in range(len(raw) - 4) if raw[i:i + 4] == struct.pack("<I", 194)]:
        huge[k:k + 4] = struct.pack("<I", 0x7FFFFFF0)
    crash = bytearray(raw)  # a corrupt header field on which OSG's reader segfaults
    crash[280:284] = b"\xff\xff\xff\x7f"
    cases = {"truncated.osgb": raw[:5000], "half.osgb": raw[:len(raw) // 2],
             "header_only.osgb": raw[:8], "not_osgb.osgb": b"this is not a scene graph\n" * 10,
             "huge.osgb": bytes(huge), "crash.osgb": bytes(crash)}
    out = {}
    for name, data in cases.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


@pytest.mark.timeout(60)
def test_hostile_tiles_are_one_load_error_and_the_worker_carries_on(pool, tmp_path,
                                                                    shared_data: Path) -> None:
    good = shared_data / SHARED_TILE
    for name, path in _hostile(shared_data, tmp_path).items():
        # straight to the worker (the reader's own checks would refuse some of them first)
        with pytest.raises(LoadError) as info:
            pool.read(path)
        msg = str(info.value)
        assert name in msg and "\n" not in msg, msg
        if name == "crash.osgb":
            assert "crashed" in msg and "signal" in msg
        elif name == "huge.osgb":
            assert "memory" in msg or "cannot read" in msg
        elif name == "header_only.osgb":  # OSG's reader loops on it one time in two
            assert "cannot read it" in msg or "took more than 3 s" in msg
        else:
            assert "cannot read it" in msg
        assert len(pool.read(good).geometries) == 2  # the next tile reads fine
    assert pool.started >= 2  # the crash replaced its worker
    # through the reader: the same single-line LoadErrors
    for name, path in _hostile(shared_data, tmp_path).items():
        if name == "header_only.osgb":
            continue  # (may take the reader's 10 s deadline: seen above)
        with pytest.raises(LoadError) as info:
            loaders.read(path)
        assert name in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(LoadError, match="line break"):
        pool.read(tmp_path / "a\nb.osgb")


@pytest.mark.timeout(60)
def test_killed_or_stuck_worker_is_restarted(pool, shared_data: Path) -> None:
    good = shared_data / SHARED_TILE
    assert pool.read(good).lods and pool.started == 1
    (pid,) = pool.idle_pids()
    os.kill(pid, signal.SIGKILL)  # killed while idle: the next request is not its victim
    assert pool.read(good).lods and pool.started == 2
    (pid2,) = pool.idle_pids()
    assert pid2 != pid
    # a worker that does not answer in time is killed; the tile is one LoadError
    with pytest.raises(LoadError, match="took more than"):
        pool.read(good, timeout=1e-6)
    assert pool.idle_pids() == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid2, 0)
    assert len(pool.read(good).geometries) == 2 and pool.started == 3


@pytest.mark.timeout(60)
def test_missing_worker_falls_back_to_osgconv_and_says_so_once(exe, monkeypatch, tmp_path,
                                                              shared_data: Path) -> None:
    monkeypatch.setenv(osgb_worker.ENV_WORKER, str(tmp_path / "not-built"))
    osgb_worker.reset_default_pool()
    try:
        assert "not built" in osgb_worker.unavailable_reason()
        ts = loaders.read(shared_data / SHARED_TILE)
        assert ts._reader == "osgconv"
        slow = [w for w in ts.warnings if w.startswith(osgb.SLOW_READER_WARNING)]
        assert len(slow) == 1 and "not built" in slow[0]
        assert ts.load(ts.root).triangle_count == 114
        with pytest.raises(LoadError, match="not available"):
            read_osgb_file(shared_data / SHARED_TILE, reader="worker")
    finally:
        monkeypatch.delenv(osgb_worker.ENV_WORKER)
        osgb_worker.reset_default_pool()
    ts = loaders.read(shared_data / SHARED_TILE)
    assert ts._reader == "auto"
    assert not [w for w in ts.warnings if w.startswith(osgb.SLOW_READER_WARNING)]


@pytest.mark.timeout(60)
def test_build_failure_is_a_reason_not_a_traceback(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CXX", shutil.which("false") or "false")
    with pytest.raises(osgb_worker.WorkerUnavailable, match="does not compile"):
        osgb_worker.build_worker(tmp_path / "w", force=True)
    assert not (tmp_path / "w").exists() and list(tmp_path.iterdir()) == []


@pytest.mark.timeout(60)
def test_threads_each_get_a_worker_and_results_agree(pool, shared_data: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    good = shared_data / SHARED_TILE
    with ThreadPoolExecutor(max_workers=3) as threads:
        results = list(threads.map(lambda _: pool.read(good), range(24)))
    assert 1 <= pool.started <= 3
    first = results[0].geometries
    for res in results[1:]:
        for a, b in zip(first, res.geometries, strict=True):
            np.testing.assert_array_equal(a.xyz, b.xyz)
            assert [len(i) for _, i in a.primitives] == [len(i) for _, i in b.primitives]
    # the threads that started them have ended (their workers with them): still readable
    assert len(pool.read(good).geometries) == 2


@pytest.mark.timeout(60)
def test_osgconv_path_reads_a_relative_path(shared_data: Path, monkeypatch) -> None:
    monkeypatch.chdir(shared_data / "tiles")
    f = read_osgb_file(Path("osgb/test.osgb"), reader="osgconv")
    assert len(f.lods) == 1 and len(f.lods[0].geometry) == 2
