"""realscene compare DIR_A DIR_B / realscene index DIR: folders of tiles on Dask."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import laspy
import numpy as np
import pytest

from heritage.monitoring.change import compare_files
from tests.heritage.dask_support import copy_tree, cut_tiles, start_real_cluster
from viewer.cli import main


@pytest.fixture(scope="module")
def real_cluster(tmp_path_factory):
    yield from start_real_cluster(tmp_path_factory.mktemp("dask"))


@pytest.fixture(scope="module")
def epochs(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """Epoch A: three tiles of the AHN3 scan; epoch B: the same tiles, tile_1 lifted 5 cm."""
    root = tmp_path_factory.mktemp("epochs")
    src = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    cut_tiles(src, root / "A")
    cut_tiles(src, root / "B")
    lifted = cut_tiles(src, root / "lift", shift=0.05)
    shutil.copy(lifted[1], root / "B" / "tile_1.laz")
    return root / "A", root / "B"


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_folders_on_the_real_worker(real_cluster, epochs, shared_data, tmp_path,
                                            capsys):
    a = copy_tree(epochs[0], tmp_path / "A")
    b = copy_tree(epochs[1], tmp_path / "B")
    shutil.copy(shared_data / "corrupt" / "broken_type.laz", b / "tile_2.laz")  # broken
    shutil.copy(a / "tile_0.laz", a / "only_a.laz")  # unpaired
    out = tmp_path / "out"
    code, stdout, err = _run(capsys, "compare", a, b, "-o", out, "--scheduler",
                             real_cluster.address)
    assert code == 2  # a tile failed: one line, the others finished
    last = err.strip().splitlines()[-1]
    assert last.startswith("realscene: error: 1 of 3 tiles failed") and "tile_2" in last
    assert stdout.strip() == str(out.resolve() / "summary.json")
    assert "[3/3]" in err and "unpaired (only in a): " in err and "only_a.laz" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"done": 2, "skipped": 0, "failed": 1}
    assert [Path(p).name for p in summary["only_in_a"]] == ["only_a.laz"]
    (failed,) = summary["failed"]
    assert failed["file"] == str(b / "tile_2.laz") and "corrupt LAZ" in failed["reason"]
    pids = real_cluster.worker_pids()
    tiles = {r["name"]: r for r in summary["tiles"]}
    assert all(r["worker"]["pid"] in pids for r in tiles.values())

    # each tile is exactly the single-file comparison, run here
    for name, lifted in (("tile_0", False), ("tile_1", True)):
        direct = compare_files(a / f"{name}.laz", b / f"{name}.laz", tmp_path / "d.laz")
        got = tiles[name]["result"]["stats"]
        assert got["mean"] == pytest.approx(direct.stats.mean, abs=1e-12)
        assert got["max_abs"] == pytest.approx(direct.stats.max_abs, abs=1e-12)
        assert (0.0 < got["max_abs"] <= 0.0501) if lifted else got["max_abs"] == 0.0
        las = laspy.read(out / f"{name}.laz")
        ref = laspy.read(tmp_path / "d.laz")
        assert las.header.point_count == laspy.read(b / f"{name}.laz").header.point_count
        extra = [d for d in las.point_format.extra_dimension_names]
        assert extra and extra == list(ref.point_format.extra_dimension_names)
        assert np.array_equal(np.asarray(las[extra[0]]), np.asarray(ref[extra[0]]))
        assert tiles[name]["result"]["out_path"] == str(out.resolve() / f"{name}.laz")

    # re-run: the two finished pairs are skipped; another method is new work
    code, _, err = _run(capsys, "compare", a, b, "-o", out, "--scheduler",
                        real_cluster.address)
    assert code == 2 and err.count("skipped (already done)") == 2
    code, _, err = _run(capsys, "compare", a, b, "-o", out, "--scheduler",
                        real_cluster.address, "--signed")
    assert code == 2 and "(already done)" not in err and err.count(": done in") == 2


def test_index_folder_cli_local_cluster(epochs, tmp_path, capsys):
    out = tmp_path / "copc"
    code, stdout, err = _run(capsys, "index", epochs[0], "-o", out, "--workers", "1")
    assert code == 0, err
    assert stdout.strip() == str(out.resolve() / "summary.json")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scheduler"]["kind"] == "local" and summary["counts"]["done"] == 3
    assert sorted(p.name for p in out.glob("*.copc.laz")) == [
        "tile_0.copc.laz", "tile_1.copc.laz", "tile_2.copc.laz"]


def test_folder_usage_errors(epochs, tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = _run(capsys, "index", epochs[0], "-o", tmp_path / "o", "--scheduler",
                        f"tcp://127.0.0.1:{port}", "--connect-timeout", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"cannot reach the Dask scheduler tcp://127.0.0.1:{port}" in err
    code, _, err = _run(capsys, "compare", epochs[0], epochs[1])
    assert code == 2 and "needs -o OUT_DIR" in err
    code, _, err = _run(capsys, "compare", epochs[0], epochs[1], "-o", tmp_path / "o",
                        "--report", tmp_path / "r.html")
    assert code == 2 and "--report" in err
    code, _, err = _run(capsys, "compare", epochs[0], epochs[1], "-o", epochs[1])
    assert code == 2 and "output folder is an input folder" in err
