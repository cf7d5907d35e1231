"""heritage.monitoring.batch: folders of tiles on Dask (a real scheduler and worker)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import laspy
import pytest

from heritage.monitoring import batch
from heritage.monitoring.batch import BatchError, index_folder, list_tiles, pair_tiles, safe_stem
from tests.heritage.dask_support import copy_tree, cut_tiles, start_real_cluster


@pytest.fixture(scope="module")
def real_cluster(tmp_path_factory):
    yield from start_real_cluster(tmp_path_factory.mktemp("dask"))


@pytest.fixture(scope="module")
def tiles_a(shared_data, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("epoch") / "A"
    cut_tiles(shared_data / "pointclouds" / "ahn3_cropped_2.laz", folder)
    return folder


def _touch(path: Path) -> None:
    path.write_bytes(b"")


# ---- pairing and folders from strangers -------------------------------------------------

def test_pair_tiles_by_name(tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir()
    b.mkdir()
    for name in ("x.laz", "y.LAS", "z.laz", "w.copc.laz", "x.copc.laz", "notes.txt"):
        _touch(a / name)
    for name in ("x.las", "y.laz", "q.laz", "w.laz"):
        _touch(b / name)
    p = pair_tiles(a, b)
    assert [(n, pa.name, pb.name) for n, pa, pb in p.pairs] == [
        ("w", "w.copc.laz", "w.laz"), ("x", "x.laz", "x.las"), ("y", "y.LAS", "y.laz")]
    assert [Path(f).name for f in p.only_a] == ["z.laz"]
    assert [Path(f).name for f in p.only_b] == ["q.laz"]
    assert [Path(f).name for f, _ in p.ignored] == ["x.copc.laz"]  # the index of x.laz
    assert p.refused == []


def test_two_originals_of_one_tile_are_refused(tmp_path):
    _touch(tmp_path / "t.las")
    _touch(tmp_path / "t.laz")
    listing = list_tiles(tmp_path)
    assert listing.tiles == {}
    assert sorted(Path(f).name for f, _ in listing.refused) == ["t.las", "t.laz"]
    assert "keep one" in listing.refused[0][1]


def test_folder_from_strangers(tmp_path):
    outside = tmp_path / "secret.laz"
    _touch(outside)
    folder = tmp_path / "in"
    folder.mkdir()
    _touch(folder / "good.laz")
    (folder / "escape.laz").symlink_to(outside)
    (folder / "alias.laz").symlink_to(folder / "good.laz")  # inside: fine
    (folder / "dangling.laz").symlink_to(tmp_path / "nothing.laz")
    (folder / "dir.laz").mkdir()
    os.mkfifo(folder / "pipe.laz")
    listing = list_tiles(folder)
    assert sorted(listing.tiles) == ["alias", "good"]
    refused = {Path(f).name: why for f, why in listing.refused}
    assert set(refused) == {"escape.laz", "dangling.laz", "dir.laz", "pipe.laz"}
    assert "outside" in refused["escape.laz"]
    assert "FIFO" in refused["pipe.laz"]
    assert "folder" in refused["dir.laz"]


def test_output_names_are_safe():
    assert safe_stem("tile_12-3.4") == "tile_12-3.4"
    assert safe_stem("瓦片_1") == "瓦片_1"
    for name in ("..", ".hidden", "a b", "a\nb", "a:b", "a\\b", ""):
        stem = safe_stem(name)
        assert stem and not stem.startswith(".") and all(c not in stem for c in "/\\:\n ")
    assert safe_stem("a b") != safe_stem("a_b") != safe_stem("a:b")
    assert len(safe_stem("x" * 300)) <= 110


def test_missing_folder_and_output_on_an_input(tmp_path):
    with pytest.raises(BatchError, match="not found"):
        index_folder(tmp_path / "nope")
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    with pytest.raises(BatchError, match="output folder is an input folder"):
        batch.compare_folders(tmp_path / "A", tmp_path / "B", tmp_path / "B")


# ---- Dask: a real scheduler and worker ---------------------------------------------------

def test_index_folder_runs_on_the_real_worker(real_cluster, tiles_a, shared_data, tmp_path):
    folder = copy_tree(tiles_a, tmp_path / "A")
    shutil.copy(shared_data / "corrupt" / "broken_coder.laz", folder / "broken.laz")
    out = tmp_path / "out"
    seen = []
    summary = index_folder(folder, out, scheduler=real_cluster.address,
                           progress=lambda d, t, r: seen.append((d, t, r["name"])))
    assert summary["counts"] == {"done": 3, "skipped": 0, "failed": 1}
    assert sorted(n for _, _, n in seen) == ["broken", "tile_0", "tile_1", "tile_2"]
    assert [d for d, _, _ in seen] == [1, 2, 3, 4] and {t for _, t, _ in seen} == {4}
    assert summary["scheduler"]["address"] == real_cluster.address
    pids = real_cluster.worker_pids()
    from distributed import Client

    with Client(real_cluster.address, set_as_default=False) as client:
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
    for rec in summary["tiles"]:
        assert rec["worker"]["pid"] in pids and rec["worker"]["pid"] != os.getpid()
        assert rec["worker"]["address"] in workers
    # the broken tile is reported with its file and reason; the others are complete COPCs
    (failed,) = summary["failed"]
    assert failed["name"] == "broken" and failed["file"].endswith("broken.laz")
    assert "corrupt LAZ" in failed["reason"]
    for i in range(3):
        src = laspy.read(folder / f"tile_{i}.laz")
        copc = laspy.read(out / f"tile_{i}.copc.laz")
        assert copc.header.point_count == src.header.point_count > 2000
        assert any(v.record_id == 1 and v.user_id == "copc" for v in copc.header.vlrs)
    assert not (out / "broken.copc.laz").exists()
    assert not [p for p in out.iterdir() if ".part" in p.name]
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["counts"] == summary["counts"]
    status = json.loads((out / "status" / "tile_1.json").read_text())
    assert status["status"] == "done" and status["output"] == "tile_1.copc.laz"

    # re-run (through the scheduler file this time): finished tiles are skipped, the
    # failed one is tried again; outputs untouched
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.copc.laz")}
    again = index_folder(folder, out, scheduler=str(real_cluster.scheduler_file))
    assert again["counts"] == {"done": 0, "skipped": 3, "failed": 1}
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.copc.laz")} == mtimes

    # an incomplete output or a changed input is done again
    with open(out / "tile_0.copc.laz", "r+b") as fh:
        fh.truncate(100)
    os.utime(folder / "tile_2.laz", ns=(1, 1))
    third = index_folder(folder, out, scheduler=real_cluster.address)
    by_name = {r["name"]: r["status"] for r in third["tiles"]}
    assert by_name == {"tile_0": "done", "tile_1": "skipped", "tile_2": "done",
                       "broken": "failed"}
    assert laspy.read(out / "tile_0.copc.laz").header.point_count == \
        laspy.read(folder / "tile_0.laz").header.point_count


def test_unreachable_scheduler_is_one_clear_error(tiles_a, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BatchError) as info:
        index_folder(tiles_a, tmp_path / "out", scheduler=f"tcp://127.0.0.1:{port}",
                     connect_timeout=2)
    assert f"tcp://127.0.0.1:{port}" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(BatchError, match="tcp://HOST:PORT"):
        index_folder(tiles_a, tmp_path / "out", scheduler="127.0.0.1:8786")


def test_local_cluster_by_default(tiles_a, tmp_path):
    summary = index_folder(tiles_a, tmp_path / "out", n_workers=1)
    assert summary["scheduler"]["kind"] == "local"
    assert summary["scheduler"]["workers"] == 1
    assert summary["counts"] == {"done": 3, "skipped": 0, "failed": 0}
    pids = {r["worker"]["pid"] for r in summary["tiles"]}
    assert len(pids) == 1 and os.getpid() not in pids  # a worker process, not this one
    opts = batch.local_cluster_options(n_tiles=2)
    assert opts["processes"] and opts["threads_per_worker"] == 1
    assert 1 <= opts["n_workers"] <= min(2, os.cpu_count() or 1)
    import psutil

    assert opts["memory_limit"] * opts["n_workers"] < psutil.virtual_memory().total
