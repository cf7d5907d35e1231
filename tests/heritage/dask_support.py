"""Helpers for the Dask batch tests: a real ``dask scheduler`` and ``dask worker`` on
127.0.0.1 (the ``dask`` command of this environment, separate processes), and folders of
small tiles cut from the real AHN3 scan.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

DASK = Path(sys.executable).with_name("dask")


@dataclass
class RealCluster:
    address: str
    scheduler_file: Path
    scheduler: subprocess.Popen
    worker: subprocess.Popen

    def worker_pids(self) -> set[int]:
        """The ``dask worker`` process and its children (the nanny's worker process)."""
        import psutil

        proc = psutil.Process(self.worker.pid)
        return {proc.pid} | {c.pid for c in proc.children(recursive=True)}


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: this process and children
        proc.wait(timeout=10)


def start_real_cluster(folder: Path, timeout: float = 90.0):
    """Start ``dask scheduler`` and one ``dask worker`` (1 process, 1 thread) on 127.0.0.1;
    a generator: yields a :class:`RealCluster`, stops both on close."""
    if not DASK.exists():
        pytest.fail(f"the dask command is missing at {DASK}")
    sched_file = folder / "scheduler.json"
    log_s = open(folder / "scheduler.log", "wb")
    log_w = open(folder / "worker.log", "wb")
    procs: list[subprocess.Popen] = []
    try:
        scheduler = subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(sched_file)],
            stdout=log_s, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder)
        procs.append(scheduler)
        deadline = time.monotonic() + timeout
        address = None
        while time.monotonic() < deadline and address is None:
            if scheduler.poll() is not None:
                pytest.fail("dask scheduler exited: "
                            + (folder / "scheduler.log").read_text(errors="replace")[-2000:])
            try:
                address = json.loads(sched_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        if address is None:
            pytest.fail("dask scheduler did not start in time")
        worker = subprocess.Popen(
            [str(DASK), "worker", "--scheduler-file", str(sched_file), "--host",
             "127.0.0.1", "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
            stdout=log_w, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder)
        procs.append(worker)
        from distributed import Client

        with Client(address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(1, timeout=timeout)
        yield RealCluster(address, sched_file, scheduler, worker)
    finally:
        for proc in reversed(procs):
            _stop(proc)
        log_s.close()
        log_w.close()


def cut_tiles(src: Path, folder: Path, n: int = 3, shift: float = 0.0) -> list[Path]:
    """``n`` tiles of a few thousand points cut from a real LAS/LAZ (4 m wide strips),
    optionally lifted by ``shift`` metres (a later epoch)."""
    import laspy

    las = laspy.read(src)
    x0, y0 = las.header.mins[:2]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        mask = (las.x >= x0 + 10 * i) & (las.x < x0 + 10 * i + 4) & (las.y < y0 + 40)
        tile = laspy.LasData(las.header)
        tile.points = las.points[np.asarray(mask)].copy()
        if shift:
            tile.Z = np.asarray(tile.Z) + int(round(shift / las.header.scales[2]))
        path = folder / f"tile_{i}.laz"
        tile.write(path)
        out.append(path)
    return out


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
