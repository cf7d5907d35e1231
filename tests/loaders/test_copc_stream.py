"""``realscene index`` out of core (issue 20): the COPC writer in bounded memory.

Real LAZ files from ../shared/data are indexed with a tiny memory setting (``unit_points``)
so that the cloud is spilled to many bucket files and built a unit at a time; the output
must hold every source point exactly once with all its values, open with laspy's
CopcReader and our reader, and keep points inside their nodes. The terminal progress is
checked on the real CLI in a subprocess (plain stderr and a pseudo-terminal), and broken
input (a LAZ whose header claims more points than it holds, wrong header bounds) gives one
clear error or a right result, leaving no temporary files.
"""

from __future__ import annotations

import os
import pty
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from loaders import LoadCancelled, LoadError
from loaders.copc import open_copc
from loaders.writers.copc import write_copc
from tests.loaders.test_copc import all_points, check_nodes_inside, point_table

laspy = pytest.importorskip("laspy")
ROOT = Path(__file__).resolve().parents[2]


def _check_same(src_path: Path, out: Path, extra_bytes: int = 0) -> None:
    src = laspy.read(src_path)
    count = len(src.points)
    with laspy.CopcReader.open(str(out)) as reader:
        assert reader.header.point_count == count
        assert len(reader.query()) == count
    dst = laspy.read(out)
    assert np.array_equal(point_table(dst, extra_bytes), point_table(src, extra_bytes))
    assert np.allclose(dst.header.mins, [dst.x.min(), dst.y.min(), dst.z.min()])
    assert np.allclose(dst.header.maxs, [dst.x.max(), dst.y.max(), dst.z.max()])
    by_return = np.bincount(np.asarray(dst.return_number), minlength=16)[1:16]
    assert list(dst.header.number_of_points_by_return) == list(by_return)
    with open_copc(out) as copc:
        nodes, clouds = all_points(copc)
        assert sum(n.point_count for n in nodes) == count
        assert all(n.point_count > 0 for n in nodes)
        check_nodes_inside(copc, nodes, clouds, float(np.max(src.header.scales)))
        keys = {n.key for n in nodes}
        # every node's parent is a node too (readers walk down from the root)
        for d, x, y, z in keys:
            assert d == 0 or (d - 1, x >> 1, y >> 1, z >> 1) in keys


def _no_leftovers(folder: Path, keep: set[str]) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(keep)


@pytest.mark.parametrize("name, extra_bytes", [("ahn3_cropped_2.laz", 0),
                                               ("append-bug.laz", 3)])
def test_streamed_index_keeps_every_point(shared_data, tmp_path, name, extra_bytes):
    src = shared_data / "pointclouds" / name
    out = tmp_path / "out.copc.laz"
    steps: list[tuple[float, str]] = []
    write_copc(src, out, progress=lambda f, m: steps.append((f, m)), leaf_points=3000,
               unit_points=8000, page_levels=2)
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # spilled and built a unit at a time: many units, coarse nodes written from spills
    phases = [m.split(": ")[0] for _, m in steps]
    assert phases.count("building") >= 4 and "writing" in phases
    _check_same(src, out, extra_bytes)
    with open_copc(out) as copc:  # the coarse levels are a sample of the whole cloud
        root = copc.get((0, 0, 0, 0))
        assert 0 < root.point_count <= 3000 + 64
        assert np.ptp(root.positions[:, 0]) > 0.8 * np.ptp(laspy.read(src).x)
    _no_leftovers(tmp_path, {"out.copc.laz"})


def test_memory_budget_sets_the_unit(shared_data, tmp_path, monkeypatch):
    """REALSCENE_MEMORY_BUDGET (the app's memory setting) bounds the points held at once:
    a budget for ~20,000 points a unit builds the 208k-point file in many units."""
    from loaders.writers import copc

    src = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    monkeypatch.setenv("REALSCENE_MEMORY_BUDGET",
                       str(copc.BASE_BYTES + 20_000 * copc.UNIT_BYTES))
    steps: list[str] = []
    write_copc(src, tmp_path / "b.copc.laz", progress=lambda f, m: steps.append(m),
               leaf_points=5000)
    assert sum(m.startswith("building") for m in steps) >= 8
    monkeypatch.delenv("REALSCENE_MEMORY_BUDGET")
    steps.clear()
    write_copc(src, tmp_path / "a.copc.laz", progress=lambda f, m: steps.append(m),
               leaf_points=5000)
    assert sum(m.startswith("building") for m in steps) == 1  # one unit: all in memory
    _check_same(src, tmp_path / "b.copc.laz")


def test_wrong_header_bounds_are_respilled(shared_data, tmp_path):
    """A header whose bounds are a 1 m box at the origin: the points are re-spilled in
    the cube of the decoded bounds, and the output header has the true bounds."""
    data = bytearray((shared_data / "pointclouds" / "autzen_trim.laz").read_bytes())
    struct.pack_into("<6d", data, 179, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0)
    src = tmp_path / "bounds.laz"
    src.write_bytes(bytes(data))
    out = tmp_path / "bounds.copc.laz"
    steps: list[str] = []
    write_copc(src, out, progress=lambda f, m: steps.append(m), leaf_points=3000,
               unit_points=10_000)
    assert any(m.startswith("sorting") for m in steps)
    _check_same(src, out)
    _no_leftovers(tmp_path, {"bounds.laz", "bounds.copc.laz"})


def test_lying_count_and_cancel_leave_nothing(shared_data, tmp_path):
    data = bytearray((shared_data / "pointclouds" / "ahn3_cropped_2.laz").read_bytes())
    (count,) = struct.unpack_from("<I", data, 107)
    struct.pack_into("<I", data, 107, 3 * count)  # claims three times the points it has
    liar = tmp_path / "liar.laz"
    liar.write_bytes(bytes(data))
    with pytest.raises(LoadError) as info:
        write_copc(liar, tmp_path / "liar.copc.laz", unit_points=20_000)
    assert "liar.laz" in str(info.value) and info.value.hint
    _no_leftovers(tmp_path, {"liar.laz"})

    def cancel(fraction, message):
        if message.startswith("building"):
            raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        write_copc(shared_data / "pointclouds" / "ahn3_cropped_2.laz",
                   tmp_path / "c.copc.laz", progress=cancel, unit_points=20_000)
    _no_leftovers(tmp_path, {"liar.laz"})


def _cli(args: list[str], stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "viewer.cli", *args], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=120)


def test_cli_progress_lines_and_errors(shared_data, tmp_path):
    src = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    out = tmp_path / "ahn3.copc.laz"
    proc = _cli(["index", str(src), "-o", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    lines = proc.stderr.strip().splitlines()
    progress = [ln for ln in lines if ln.startswith("indexing: ")]
    phases = [ln.split()[1] for ln in progress]
    # not a terminal: one line per phase, in order, with a percentage and the detail
    assert phases[:2] == ["reading", "decoding"] and "building" in phases
    assert phases[-1] == "checking" and len(phases) == len(set(phases))
    dec = progress[1]
    assert dec.endswith("of 208k points)") and "% (" in dec
    assert lines[-1].startswith("Wrote ahn3.copc.laz: 208,432 points")

    # on a terminal: the same phases, more often (throttled)
    master, slave = pty.openpty()
    try:
        proc = _cli(["index", str(src), "-o", str(tmp_path / "tty.copc.laz")],
                    stderr=slave)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                block = os.read(master, 65536)
            except OSError:
                break
            if not block:
                break
            chunks.append(block)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    text = b"".join(chunks).decode()
    assert "indexing: decoding" in text and "indexing: building" in text

    # broken input: one clear line, no traceback, no temporary files left
    data = bytearray(src.read_bytes())
    struct.pack_into("<I", data, 107, 2 * 208_432)
    bad = tmp_path / "bad" / "liar.laz"
    bad.parent.mkdir()
    bad.write_bytes(bytes(data))
    proc = _cli(["index", str(bad)])
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.strip().splitlines()
              if not ln.startswith("indexing: ")]
    assert len(errors) == 1 and "liar.laz" in errors[0] and "Traceback" not in proc.stderr
    _no_leftovers(bad.parent, {"liar.laz"})
    shutil.rmtree(bad.parent)
