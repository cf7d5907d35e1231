"""Opening big clouds in the window (issue 20): time and memory of the real MainWindow
opening a 1M and an 8M LAS/LAZ/PLY, side by side with ``laspy.read`` and CloudCompare.

    python -m benchmarks --only bigopen [--bigopen-sizes 1M,8M]
    python -m benchmarks.bigopen --sizes 200k,1M --reps 1     # alone, prints (smoke run)

Every figure is a fresh process. Memory is the whole process TREE (the process and its
children: RealScene decodes in a worker process), summed as PSS (proportional set size:
a page shared between the window and its worker counts once, split between them) from
``/proc/<pid>/smaps_rollup`` -- except shared memory: every shared-memory file the tree
maps or holds open (memfd, /dev/shm, SysV) counts once at its full size in RAM, since PSS
sees only the pages a process mapped and touched (a worker's points handed over in a
memory file are in RAM, but in no PSS until the window reads them). Sampled every ~10 ms
by a thread of the benchmark process (outside the measured one, so that sampling does not
take the measured process's GIL). Figures are given ABOVE the process's own settled empty
state. Times come from a second run of each measurement WITHOUT the sampler: reading
``smaps_rollup`` walks the process's page tables under its memory lock, and every 10 ms
that slowed the window's 8M open by ~30 % on a 2-core machine (its page faults wait); the
memory figures come from the sampled run.

1. ``laspy.read`` baseline: a fresh python imports laspy + lazrs, settles, then reads the
   file; wall time of the read and peak tree PSS above the pre-read state.
2. The window: a fresh process makes the real MainWindow (under Xvfb), opens and closes a
   10-point file of the same kind (lazy imports, the reader's worker), settles with its
   spare reading process up (its empty state; the spare is started again after the load
   before the resident figure is taken), then ``open_paths([file])`` and waits until the
   full cloud with its LOD is in the layer (``all_loads_finished``) and the next frame is
   rendered. Time = open -> that frame; peak = highest tree PSS from the open until the
   renderer is idle; resident = tree PSS after ``gc.collect()`` and a 1 s settle. Marginal
   B/pt = (figure at the big size - figure at the small size) / (difference in points).
3. ``realscene render FILE -o out.png`` as a subprocess (whole process wall time and peak
   tree PSS, from process start) vs a process that only runs ``laspy.read(FILE)``.
4. CloudCompare (Debian's ``cloudcompare``, which reads no LAS/LAZ) opens the same points
   converted once to binary PLY: ``CloudCompare -SILENT -AUTO_SAVE OFF -O file.ply`` (it
   exits by itself once the commands ran), cwd a temporary folder, on the benchmark's
   display (``xvfb-run -a`` when there is none); only the CloudCompare process is measured
   (not Xvfb nor xvfb-run's shell). Its empty start = the same command on a 10-point PLY;
   open time = wall(file) - wall(tiny), peak = peak(file) - peak(tiny).

Data: ``benchmarks.synthetic`` LAZ (format 3) and, converted once into benchmarks/data,
binary little-endian PLY of the same points: x, y, z float32 shifted to local coordinates
(minus the floor of the file's minimum, written in a header comment; float32 keeps mm
there), red/green/blue uchar (the LAS 16-bit colours >> 8), ``scalar_intensity`` ushort and
``scalar_classification`` uchar: CloudCompare's own names for scalar fields (2.11 in
``-SILENT`` loads a property named plain ``classification`` as nothing, ``scalar_*`` ones
as scalar fields); RealScene's PLY reader keeps them as ``intensity`` and
``classification``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from . import parts

BEGIN = "<!-- bigopen-bench:begin -->"
END = "<!-- bigopen-bench:end -->"
ROOT = Path(__file__).resolve().parents[1]
SIZES = (1_000_000, 8_000_000)
TINY_POINTS = 10
PLY_VERSION = 2
SAMPLE_S = 0.01
TARGETS = {
    "ingest": 1.3,  # window open -> full cloud with LOD shown / laspy.read
    "peak_bpp": 32.0,  # marginal peak tree PSS of the window open, B/pt
    "resident_bpp": 20.0,  # marginal resident tree PSS after the load, B/pt
    "render": 1.5,  # realscene render process / laspy.read process (8M LAZ)
    "cc_time": 1.0,  # window open of the PLY / CloudCompare's open of it
    "cc_peak_bpp": 24.0,  # our window's peak above its empty state, B/pt
}


# ---- the process tree's memory ------------------------------------------------------------
def _proc_table() -> dict[int, tuple[int, str]]:
    """{pid: (parent pid, command name)} of every process readable in /proc."""
    table: dict[int, tuple[int, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                raw = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        head, _, rest = raw.rpartition(")")
        comm = head.partition("(")[2]
        fields = rest.split()
        if len(fields) > 1:
            table[int(entry.name)] = (int(fields[1]), comm)
    return table


def tree_pids(root: int, keep: Callable[[str], bool] | None = None) -> list[int]:
    """``root`` and all its descendants (children, grandchildren...) whose command name
    ``keep`` accepts (all when ``keep`` is None; a rejected process's children are still
    walked)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table and (keep is None or keep(table[pid][1])):
            out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def pss(pid: int, shmem: bool = True) -> int:
    """Proportional set size of ``pid`` in bytes (0 when it is gone or unreadable); with
    ``shmem=False`` without its shared-memory pages (``Pss_Shmem``)."""
    total = shared = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    total = int(line.split()[1]) * 1024
                elif line.startswith(b"Pss_Shmem:"):
                    shared = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return total if shmem else total - shared


#: shared-memory files: memfd_create, POSIX shm, SysV shm, MAP_SHARED|MAP_ANONYMOUS
_SHMEM = ("/memfd:", "/dev/shm/", "/SYSV", "/dev/zero")


def shmem_files(pid: int) -> dict[tuple[int, int], int]:
    """{(device, inode): bytes in RAM} of the shared-memory files ``pid`` maps shared or
    holds open. PSS counts such a file's pages only where a process mapped AND touched
    them: the pages a worker wrote into a memory file, handed over and exited, are in RAM
    but in no process's PSS until read."""
    out: dict[tuple[int, int], int] = {}

    def add(path: str) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return
        out[(st.st_dev, st.st_ino)] = st.st_blocks * 512

    try:
        with open(f"/proc/{pid}/maps") as fh:
            for line in fh:
                f = line.split(None, 5)
                if len(f) == 6 and f[1][3:4] == "s" and f[5].startswith(_SHMEM):
                    add(f"/proc/{pid}/map_files/{f[0]}")
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(_SHMEM):
                add(f"/proc/{pid}/fd/{fd}")
    except OSError:
        pass
    return out


def memory(pids: Iterable[int]) -> int:
    """The RAM a set of processes holds, in bytes: their PSS without shared-memory pages,
    plus every shared-memory file they map or hold open, counted once at its size in RAM
    (see :func:`shmem_files`)."""
    total, files = 0, {}
    for p in pids:
        total += pss(p, shmem=False)
        files.update(shmem_files(p))
    return total + sum(files.values())


def rss(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (0 when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def tree_pss(root: int, keep: Callable[[str], bool] | None = None) -> int:
    """The :func:`memory` of ``root``'s process tree (see :func:`tree_pids`), in bytes."""
    return memory(tree_pids(root, keep))


class _NoSamples(contextlib.nullcontext):
    """A :class:`TreeSampler` that samples nothing (a run timed without it)."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: list[tuple[float, int]] = []
        self.max_processes = self.rss_peak = 0

    def peak(self, *_a: Any) -> int:
        return 0


def paired(measure: Callable[..., dict[str, Any]], time_keys: Iterable[str], *args: Any
           ) -> dict[str, Any]:
    """``measure(*args)`` twice: sampled (its memory figures) and not (its times, the
    sampled ones kept as ``<key>_sampled``); see the module notes."""
    mem = measure(*args)
    if "error" in mem:
        return mem
    timed = measure(*args, sample=False)
    if "error" in timed:
        return timed
    row = dict(mem)
    for key in time_keys:
        row[f"{key}_sampled"] = mem[key]
        row[key] = timed[key]
    return row


class TreeSampler:
    """A thread sampling the tree PSS of a process every ``interval`` s as ``(time.monotonic(),
    bytes)`` pairs (``time.monotonic`` is the machine's clock, the same in every process, so
    a child can report its phases and the samples be cut by them)."""

    def __init__(self, root: int, interval: float = SAMPLE_S,
                 keep: Callable[[str], bool] | None = None) -> None:
        self.root, self.interval, self.keep = root, interval, keep
        self.samples: list[tuple[float, int]] = []
        self.max_processes = 0  # the most processes seen in the tree at once
        self.rss_peak = 0  # the highest sum of the tree's resident set sizes (VmRSS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree_pids(self.root, self.keep)
            self.samples.append((time.monotonic(), memory(pids)))
            self.max_processes = max(self.max_processes, len(pids))
            self.rss_peak = max(self.rss_peak, sum(rss(p) for p in pids))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def peak(self, start: float = float("-inf"), end: float = float("inf")) -> int:
        """Highest sample taken between ``start`` and ``end`` (0 when none)."""
        return max((v for t, v in self.samples if start <= t <= end), default=0)


def run_sampled(cmd: list[str], keep: Callable[[str], bool] | None = None,
                cwd: str | Path | None = None, timeout: float = 3600,
                env: dict[str, str] | None = None, sample: bool = True) -> dict[str, Any]:
    """Run ``cmd`` with its process tree sampled: wall time from start to exit, the tree's
    peak PSS, the samples, the peak of the tree's summed RSS, its output. (Not
    ``ru_maxrss``: after a fork + exec it starts from the forking process's size.)
    ``sample=False``: not sampled (for the times: see the module notes); no memory."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env)
    sampler = TreeSampler(proc.pid, keep=keep) if sample else _NoSamples()
    with sampler:
        deadline = time.monotonic() + timeout
        while True:
            pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, _usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return {"rc": proc.returncode, "wall_s": wall, "t0": t0, "peak": sampler.peak(),
            "rss_peak": sampler.rss_peak, "samples": sampler.samples,
            "max_processes": sampler.max_processes,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace")}


def _child_json(r: dict[str, Any]) -> dict[str, Any]:
    """The JSON a child printed last, or ``{"error": ...}``."""
    if r["rc"] != 0:
        tail = (r["stderr"].strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {r['rc']}: {tail[:300]}"}
    for line in reversed(r["stdout"].strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": "the child printed no result"}


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


# ---- data -----------------------------------------------------------------------------------
PLY_DTYPE = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"),
                      ("green", "u1"), ("blue", "u1"), ("scalar_intensity", "<u2"),
                      ("scalar_classification", "u1")])


def ply_header(count: int, shift: Iterable[float], source: str) -> bytes:
    sx, sy, sz = shift
    props = {"f4": "float", "u1": "uchar", "u2": "ushort"}
    lines = ["ply", "format binary_little_endian 1.0",
             f"comment RealScene benchmark: the points of {source}",
             f"comment local coordinates: x - {sx:.0f}, y - {sy:.0f}, z - {sz:.0f}",
             f"element vertex {count}"]
    lines += [f"property {props[PLY_DTYPE[n].kind + str(PLY_DTYPE[n].itemsize)]} {n}"
              for n in PLY_DTYPE.names]
    return ("\n".join(lines + ["end_header"]) + "\n").encode("ascii")


def las_to_ply(src: Path, out: Path, limit: int | None = None,
               chunk: int = 1_000_000) -> Path:
    """Write the points of the LAS/LAZ ``src`` (its first ``limit`` when given) as the
    benchmark's binary PLY ``out``, chunk by chunk (atomically, via a temporary name).
    Colours: 16-bit ones >> 8, files whose colours all fit 8 bits as they are (as
    RealScene's LAS reader does; a first pass finds which)."""
    import laspy

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    with laspy.open(str(src)) as reader:
        names = set(reader.header.point_format.dimension_names)
        colour = {"red", "green", "blue"} <= names
        wide = colour and any(int(max(p.red.max(), p.green.max(), p.blue.max())) > 255
                              for p in reader.chunk_iterator(chunk) if len(p))
    with laspy.open(str(src)) as reader:
        h = reader.header
        count = h.point_count if limit is None else min(limit, h.point_count)
        shift = np.floor(np.asarray(h.mins, np.float64))
        with open(tmp, "wb") as fh:
            fh.write(ply_header(count, shift, src.name))
            done = 0
            for pts in reader.chunk_iterator(chunk):
                k = min(len(pts), count - done)
                if k <= 0:
                    break
                rec = np.empty(k, PLY_DTYPE)
                for axis, name in enumerate("xyz"):
                    rec[name] = (np.asarray(getattr(pts, name)[:k], np.float64)
                                 - shift[axis]).astype(np.float32)
                for name in ("red", "green", "blue"):
                    c = np.asarray(pts[name][:k], np.uint16) if colour else 0
                    rec[name] = (c >> 8) if wide else c
                rec["scalar_intensity"] = (np.asarray(pts.intensity[:k])
                                           if "intensity" in names else 0)
                rec["scalar_classification"] = np.asarray(pts.classification[:k], np.uint8)
                fh.write(rec.tobytes())
                done += k
    tmp.replace(out)
    return out


def tiny_laz(src: Path, out: Path) -> Path:
    """The first :data:`TINY_POINTS` points of ``src`` as a LAZ (the warm-up file)."""
    import laspy

    if out.exists():
        return out
    with laspy.open(str(src)) as reader:
        pts = reader.read_points(TINY_POINTS)
        header = reader.header
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    with laspy.open(str(tmp), mode="w", header=laspy.LasHeader(
            point_format=header.point_format.id, version=header.version),
            do_compress=True) as writer:
        writer.header.scales, writer.header.offsets = header.scales, header.offsets
        writer.write_points(pts)
    tmp.replace(out)
    return out


def ensure_data(sizes: Iterable[int], data_dir: Path | None = None,
                log=print) -> dict[str, Any]:
    """The synthetic LAZ of every size, its PLY, and the 10-point warm-up files."""
    from . import synthetic

    data_dir = Path(data_dir or synthetic.DATA_DIR)
    files: dict[str, Any] = {"laz": {}, "ply": {}}
    for n in sizes:
        laz = synthetic.ensure(n, True, data_dir, log=log)
        ply = data_dir / f"synthetic_{synthetic.size_label(n)}_v{synthetic.GENERATOR_VERSION}" \
            f"_ply{PLY_VERSION}.ply"
        if not ply.exists():
            log(f"[bigopen] converting {laz.name} -> {ply.name}")
            las_to_ply(laz, ply)
        files["laz"][n], files["ply"][n] = laz, ply
    first = files["laz"][min(sizes)]
    files["tiny_laz"] = tiny_laz(first, data_dir / f"bigopen_tiny_{TINY_POINTS}.laz")
    tiny_ply = data_dir / f"bigopen_tiny_{TINY_POINTS}_ply{PLY_VERSION}.ply"
    if not tiny_ply.exists():
        las_to_ply(first, tiny_ply, limit=TINY_POINTS)
    files["tiny_ply"] = tiny_ply
    return files


# ---- 1. laspy.read in a fresh process -------------------------------------------------------
def laspy_child(path: str) -> dict[str, Any]:
    """(In the child) read ``path`` with laspy; phases as ``time.monotonic`` stamps."""
    import laspy

    try:
        import lazrs  # noqa: F401
    except ImportError:
        pass
    gc.collect()
    time.sleep(0.3)
    empty = tree_pss(os.getpid())
    t0 = time.monotonic()
    data = laspy.read(path)
    t1 = time.monotonic()
    n = len(data.points)
    gc.collect()
    held = tree_pss(os.getpid())
    return {"points": n, "t0": t0, "t1": t1, "read_s": t1 - t0, "empty": empty,
            "held": held}


def measure_laspy(path: Path, sample: bool = True) -> dict[str, Any]:
    r = run_sampled(_python("-m", "benchmarks.bigopen", "--child", "laspy", str(path)),
                    cwd=ROOT, sample=sample)
    out = _child_json(r)
    if "error" in out:
        return out
    peak = max((v for t, v in r["samples"] if out["t0"] <= t <= out["t1"] + 0.05),
               default=out["held"])
    out["peak"] = max(peak, out["held"]) - out["empty"]
    out["resident"] = out["held"] - out["empty"]
    return out


# ---- 2. the window ----------------------------------------------------------------------------
def wait_spare(timeout: float = 15.0) -> None:
    """(In the window's child) wait until the window's spare reading process is up and
    has imported what it needs (:func:`loaders.ingest.prestart`; the window starts one
    once shown and again a while after each load), so that the empty state and the state
    after a load both hold one."""
    from loaders import ingest

    from .harness import spin_events

    limit = time.monotonic() + timeout
    while ingest.spare_pid() is None and time.monotonic() < limit:
        spin_events(0.1)
    pid = ingest.spare_pid()
    if pid is None:
        return
    import psutil

    try:  # its imports done: it sleeps, waiting for a request
        proc = psutil.Process(pid)
        last = -1.0
        while time.monotonic() < limit:
            spin_events(0.3)
            used = sum(proc.cpu_times()[:2])
            if used == last and proc.status() == psutil.STATUS_SLEEPING:
                break
            last = used
    except psutil.Error:
        pass


def window_child(path: str, warm: str | None, timeout: float = 1800) -> dict[str, Any]:
    """(In the child, with a display) open ``path`` in the real MainWindow after a warm-up
    open of ``warm``; phases as ``time.monotonic`` stamps, tree PSS when empty/after."""
    from PySide6 import QtCore, QtWidgets

    from viewer.qt.main_window import MainWindow

    from .harness import WINDOW, spin_events

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    tmp = tempfile.mkdtemp(prefix="realscene-bigopen-")
    settings = QtCore.QSettings(str(Path(tmp) / "s.ini"), QtCore.QSettings.IniFormat)
    win = MainWindow(settings=settings)
    win.resize(*WINDOW)
    win.show()
    spin_events(0.5)
    done = {"flag": False}
    win.all_loads_finished.connect(lambda: done.__setitem__("flag", True))

    def wait_loaded() -> None:
        if not done["flag"]:
            spin_events(timeout, win.all_loads_finished)

    if warm:
        win.open_paths([warm], remember=False)
        wait_loaded()
        for layer in list(win.scene.layers):
            win.scene.remove(layer)
        spin_events(0.5)
    wait_spare()  # the empty window holds its spare reader, as a user's does
    frames: list[float] = []  # time.monotonic() at the end of every frame the window drew
    # (the window draws in pyvistaqt's paint event, not only through plotter.render())
    win.plotter.ren_win.AddObserver("EndEvent", lambda *_a: frames.append(time.monotonic()))
    gc.collect()
    spin_events(1.0)
    gc.collect()
    empty = tree_pss(os.getpid())
    errors_before = len(win.errors)
    done["flag"] = False
    t0 = time.monotonic()
    win.open_paths([path], remember=False)
    wait_loaded()
    t_loaded = time.monotonic()
    limit = t_loaded + 30.0
    while not any(t > t_loaded for t in frames) and time.monotonic() < limit:
        spin_events(0.005)
    t_shown = min((t for t in frames if t > t_loaded), default=float("nan"))
    limit = time.perf_counter() + 60.0
    while win.renderer.needs_update and time.perf_counter() < limit:
        spin_events(0.05)
    t_idle = time.monotonic()
    gc.collect()
    spin_events(1.0)
    wait_spare()  # started again after the load: the same window state as the empty one
    gc.collect()
    resident = tree_pss(os.getpid())
    layer = win.scene.layers[0] if win.scene.layers else None
    data = getattr(layer, "data", None)
    result = {"t0": t0, "t_loaded": t_loaded, "t_shown": t_shown, "t_idle": t_idle,
              "open_s": t_shown - t0, "loaded_s": t_loaded - t0, "idle_s": t_idle - t0,
              "frames": len(frames), "refining_at_end": bool(win.renderer.needs_update),
              "empty": empty, "resident_abs": resident, "resident": resident - empty,
              "points": int(getattr(data, "point_count", 0) or 0),
              "lod": bool(layer is not None and getattr(layer, "lod", None) is not None),
              "attributes": sorted(getattr(data, "attributes", {}) or {}),
              "errors": list(win.errors)[errors_before:]}
    win.close()
    win.deleteLater()
    spin_events(0.05)
    return result


def measure_window(path: Path, warm: Path | None, points: int, sample: bool = True
                   ) -> dict[str, Any]:
    cmd = _python("-m", "benchmarks.bigopen", "--child", "window", str(path))
    if warm is not None:
        cmd += ["--warm", str(warm)]
    r = run_sampled(cmd, cwd=ROOT, sample=sample)
    out = _child_json(r)
    if "error" in out:
        return out
    out["peak_abs"] = max(max((v for t, v in r["samples"] if out["t0"] <= t <= out["t_idle"]),
                              default=0), out["resident_abs"])
    out["peak"] = out["peak_abs"] - out["empty"]
    out["processes"] = r["max_processes"]
    if out["errors"]:
        out["error"] = "; ".join(out["errors"])[:300]
    elif out["points"] != points or not out["lod"]:
        out["error"] = (f"the layer holds {out['points']:,} of {points:,} points, LOD "
                        f"{'built' if out['lod'] else 'missing'}")
    return out


# ---- 3. realscene render vs a laspy.read process ----------------------------------------------
def realscene_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("realscene")
    return [str(exe)] if exe.exists() else _python("-m", "viewer.cli")


def measure_render(path: Path, tmp: Path, sample: bool = True) -> dict[str, Any]:
    out = tmp / f"render_{path.stem}.png"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # off screen, as a server
    r = run_sampled([*realscene_cmd(), "render", str(path), "-o", str(out)], cwd=tmp, env=env,
                    sample=sample)
    if r["rc"] != 0 or not out.exists():
        tail = (r["stderr"].strip().splitlines() or ["no image written"])[-1]
        return {"error": f"exit {r['rc']}: {tail[:300]}"}
    out.unlink()
    return {"wall_s": r["wall_s"], "peak": r["peak"], "rss_peak": r["rss_peak"]}


def measure_laspy_process(path: Path, sample: bool = True) -> dict[str, Any]:
    r = run_sampled(_python("-c", f"import laspy; laspy.read({str(path)!r})"), sample=sample)
    if r["rc"] != 0:
        return {"error": f"exit {r['rc']}: {r['stderr'].strip()[-300:]}"}
    return {"wall_s": r["wall_s"], "peak": r["peak"], "rss_peak": r["rss_peak"]}


# ---- 4. CloudCompare ---------------------------------------------------------------------------
def cloudcompare_exe() -> str | None:
    return shutil.which("CloudCompare") or shutil.which("cloudcompare")


def ensure_cloudcompare(log=print) -> str | None:
    """CloudCompare's path; installed with apt when missing and we are root on Debian."""
    exe = cloudcompare_exe()
    if exe or os.geteuid() != 0 or not shutil.which("apt-get"):
        return exe
    log("[bigopen] installing cloudcompare (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                    "cloudcompare"], env=env, capture_output=True, timeout=1800)
    return cloudcompare_exe()


def _is_cloudcompare(comm: str) -> bool:
    return comm.lower().startswith("cloudcompare")


def measure_cloudcompare(exe: str, ply: Path, sample: bool = True) -> dict[str, Any]:
    """One ``CloudCompare -SILENT -O ply`` run: wall time, peak PSS of CloudCompare alone."""
    cmd = [exe, "-SILENT", "-AUTO_SAVE", "OFF", "-O", str(ply)]
    if not os.environ.get("DISPLAY"):
        cmd = ["xvfb-run", "-a", *cmd]
    with tempfile.TemporaryDirectory(prefix="realscene-bigopen-cc-") as cwd:
        r = run_sampled(cmd, keep=_is_cloudcompare, cwd=cwd, sample=sample)
        left = sorted(os.listdir(cwd))
    log = r["stdout"] + r["stderr"]
    if r["rc"] != 0 or "error" in log.lower():
        tail = [line for line in log.strip().splitlines() if line.strip()][-1:] or ["?"]
        return {"error": f"exit {r['rc']}: {tail[0][:300]}"}
    return {"wall_s": r["wall_s"], "peak": r["peak"], "files_written": left}


# ---- the run --------------------------------------------------------------------------------
#: the window's times (taken from its unsampled run)
WINDOW_TIMES = ("open_s", "loaded_s", "idle_s")


def wkey(kind: str, points: int) -> str:
    """The key of a window figure in ``result["window"]`` (a string: the results go to
    JSON too)."""
    return f"{kind} {points}"


def _median(rows: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in rows if "error" not in r and key in r]
    return float(statistics.median(vals)) if vals else float("nan")


def _first_error(rows: list[dict[str, Any]]) -> str | None:
    return next((r["error"] for r in rows if "error" in r), None)


def _summ(rows: list[dict[str, Any]], keys: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: _median(rows, k) for k in keys}
    err = _first_error(rows)
    if err and all("error" in r for r in rows):
        out["error"] = err
    elif err:
        out["note"] = f"one run failed: {err}"
    ok = [r for r in rows if "error" not in r]
    for k in ("points", "lod", "attributes", "processes", "refining_at_end"):
        if ok and k in ok[-1]:
            out[k] = ok[-1][k]
    return out


def run(sizes: Iterable[int] = SIZES, reps: int = 2, data_dir: Path | None = None,
        log=print, cloudcompare: bool = True) -> dict[str, Any]:
    """Every measurement at every size, ``reps`` times, ours and the baseline interleaved."""
    from .harness import code_commit

    sizes = sorted(set(sizes))
    commit_start = code_commit()
    files = ensure_data(sizes, data_dir, log=log)
    result: dict[str, Any] = {"sizes": sizes, "reps": reps, "laspy": {}, "window": {},
                              "render": {}, "cc": {}, "notes": []}
    if not os.environ.get("DISPLAY"):
        result["notes"].append("no display: the window part did not run (use ./run bench)")
    for n in sizes:
        laz, ply = files["laz"][n], files["ply"][n]
        base_rows, win_laz, win_ply = [], [], []
        for rep in range(reps):
            base_rows.append(paired(measure_laspy, ("read_s",), laz))
            log(f"[bigopen] {rep + 1}/{reps} laspy.read {laz.name}: "
                + _brief(base_rows[-1], "read_s"))
            if os.environ.get("DISPLAY"):
                win_laz.append(paired(measure_window, WINDOW_TIMES, laz, files["tiny_laz"], n))
                log(f"[bigopen] {rep + 1}/{reps} window {laz.name}: "
                    + _brief(win_laz[-1], "open_s"))
                win_ply.append(paired(measure_window, WINDOW_TIMES, ply, files["tiny_ply"], n))
                log(f"[bigopen] {rep + 1}/{reps} window {ply.name}: "
                    + _brief(win_ply[-1], "open_s"))
        keys = ("open_s", "loaded_s", "idle_s", "peak", "resident", "empty")
        result["laspy"][n] = _summ(base_rows, ("read_s", "peak", "resident", "empty"))
        result["laspy"][n]["file"] = laz.name
        if win_laz:
            result["window"][wkey("laz", n)] = {**_summ(win_laz, keys), "file": laz.name}
            result["window"][wkey("ply", n)] = {**_summ(win_ply, keys), "file": ply.name}
    big = max(sizes)
    laz = files["laz"][big]
    rows_r, rows_l = [], []
    with tempfile.TemporaryDirectory(prefix="realscene-bigopen-") as tmp:
        for rep in range(reps):
            rows_l.append(paired(measure_laspy_process, ("wall_s",), laz))
            rows_r.append(paired(measure_render, ("wall_s",), laz, Path(tmp)))
            log(f"[bigopen] {rep + 1}/{reps} render {laz.name}: "
                + _brief(rows_r[-1], "wall_s") + " vs laspy process "
                + _brief(rows_l[-1], "wall_s"))
    result["render"] = {"file": laz.name, "points": big,
                        "ours": _summ(rows_r, ("wall_s", "peak", "rss_peak")),
                        "laspy": _summ(rows_l, ("wall_s", "peak", "rss_peak"))}
    exe = ensure_cloudcompare(log) if cloudcompare else None
    if exe is None:
        result["cc"] = {"skipped": "CloudCompare is not installed (Debian: apt-get install "
                        "cloudcompare; `./run bench` installs it as root)" if cloudcompare
                        else "not asked (--no-cloudcompare)"}
    else:
        tiny_rows: list[dict[str, Any]] = []
        for n in sizes:
            rows = []
            for rep in range(reps):
                tiny_rows.append(paired(measure_cloudcompare, ("wall_s",), exe,
                                        files["tiny_ply"]))
                rows.append(paired(measure_cloudcompare, ("wall_s",), exe, files["ply"][n]))
                log(f"[bigopen] {rep + 1}/{reps} CloudCompare {files['ply'][n].name}: "
                    + _brief(rows[-1], "wall_s"))
            result["cc"][n] = {**_summ(rows, ("wall_s", "peak")), "file": files["ply"][n].name}
        result["cc"]["tiny"] = _summ(tiny_rows, ("wall_s", "peak"))
        result["cc"]["files_written"] = sorted({f for r in tiny_rows if "error" not in r
                                                for f in r["files_written"]})
    result["commit_start"], result["commit"] = commit_start, code_commit()
    result["load_end"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    derive(result)
    return result


def _brief(r: dict[str, Any], key: str) -> str:
    if "error" in r:
        return f"failed: {r['error']}"
    mem = f", peak +{r['peak'] / 2**20:.0f} MiB" if "peak" in r else ""
    return f"{r[key]:.2f} s{mem}"


def _bpp(a: float, b: float, na: int, nb: int) -> float:
    return (b - a) / (nb - na) if nb != na else float("nan")


def derive(result: dict[str, Any]) -> None:
    """The ratios and bytes per point the targets are about (in place)."""
    sizes = result["sizes"]
    small, big = min(sizes), max(sizes)
    d: dict[str, Any] = {}
    for kind in ("laz", "ply"):
        w = result["window"]
        for n in sizes:
            row = w.get(wkey(kind, n))
            if row and "error" not in row and "error" not in result["laspy"][n]:
                row["ingest_ratio"] = row["open_s"] / result["laspy"][n]["read_s"]
                row["peak_bpp"] = row["peak"] / n
                row["resident_bpp"] = row["resident"] / n
        a, b = w.get(wkey(kind, small)), w.get(wkey(kind, big))
        if a and b and "error" not in a and "error" not in b and big != small:
            d[f"{kind}_marginal_peak_bpp"] = _bpp(a["peak"], b["peak"], small, big)
            d[f"{kind}_marginal_resident_bpp"] = _bpp(a["resident"], b["resident"], small, big)
    la, lb = result["laspy"].get(small), result["laspy"].get(big)
    if la and lb and "error" not in la and "error" not in lb and big != small:
        d["laspy_marginal_peak_bpp"] = _bpp(la["peak"], lb["peak"], small, big)
        d["laspy_marginal_resident_bpp"] = _bpp(la["resident"], lb["resident"], small, big)
    r = result["render"]
    if "error" not in r["ours"] and "error" not in r["laspy"]:
        d["render_ratio"] = r["ours"]["wall_s"] / r["laspy"]["wall_s"]
        d["render_peak_bpp"] = r["ours"]["peak"] / r["points"]
        d["render_laspy_peak_bpp"] = r["laspy"]["peak"] / r["points"]
    cc = result["cc"]
    if "tiny" in cc and "error" not in cc["tiny"]:
        for n in sizes:
            row = cc.get(n)
            if row and "error" not in row:
                row["open_s"] = row["wall_s"] - cc["tiny"]["wall_s"]
                row["peak_above"] = row["peak"] - cc["tiny"]["peak"]
                row["peak_bpp"] = row["peak_above"] / n
                ours = result["window"].get(wkey("ply", n))
                if ours and "error" not in ours:
                    row["time_ratio"] = ours["open_s"] / row["open_s"]
    result["derived"] = d


# ---- RESULTS.md -------------------------------------------------------------------------------
def _mib(v: float) -> str:
    return f"{v / 2**20:,.0f}"


def _met(ok: bool) -> str:
    return f"**{'met' if ok else 'NOT met'}**"


def _label(n: int) -> str:
    from .synthetic import size_label

    return size_label(n)


def _commit_line(result: dict[str, Any]) -> str:
    """Which code was measured (both commits when the tree changed during the run)."""
    end = result.get("commit", "unknown")
    start = result.get("commit_start", end)
    if start == end:
        return f"Measured on the code of commit **{end}**"
    return (f"Measured on changing code: the tree was at **{start}** when this part started "
            f"and at **{end}** when it ended (someone committed meanwhile)")


def section(result: dict[str, Any], header: str) -> str:
    sizes = result["sizes"]
    small, big = min(sizes), max(sizes)
    d = result.get("derived", {})
    lines = [BEGIN, "", "# Opening big clouds in the window: memory and time vs laspy.read and "
             "CloudCompare (issue 20)", "", header, "",
             f"Synthetic LAZ of {', '.join(_label(n) for n in sizes)} points (point format 3: "
             "xyz, RGB, intensity, classification, returns, GPS time...) and the same points "
             "as binary PLY (x, y, z float32 in local coordinates: minus the floor of the "
             "file's minimum; RGB uchar; scalar_intensity ushort; scalar_classification "
             "uchar: CloudCompare loads both as scalar fields, RealScene as intensity and "
             "classification). Every "
             "figure is a fresh process; memory = PSS summed over the process and its "
             "children, with shared-memory files (memfd, /dev/shm) they map or hold open "
             "counted once at their full size in RAM (PSS alone misses the pages of a "
             "worker's hand-over that no process touched yet), sampled every "
             f"{SAMPLE_S * 1000:.0f} ms, above the process's own "
             "settled empty state (the window: after a warm-up open of a "
             f"{TINY_POINTS}-point file of the same kind, its layer removed). Marginal B/pt = "
             f"(figure at {_label(big)} - figure at {_label(small)}) / "
             f"{big - small:,} points. Times come from a second run of each measurement "
             "without the memory sampler (reading smaps_rollup every 10 ms slows the "
             "measured process: the window's 8M open by ~30 % on this machine). Median of "
             f"{result['reps']} run(s), ours and the baseline interleaved.", "",
             _commit_line(result) + "; load "
             f"average at the end of this part {result.get('load_end', '?')} (2 cores: other "
             "work on the machine slows both sides).", ""]
    summary: list[str] = []
    # 1 + 2: the window vs laspy.read
    lines += ["## The window vs laspy.read", "",
              "Window time = `open_paths([file])` → full cloud with its LOD in the layer "
              "(`all_loads_finished`) → next frame rendered; refined = until the renderer "
              "is idle. laspy.read = the read alone in a fresh process (laspy + lazrs "
              "imported before).", "",
              "| file | laspy.read s | window s (loaded / refined) | ratio | peak MiB: laspy"
              " / window | resident MiB: laspy / window | window B/pt peak / resident | "
              "processes (most at once) |", "|---|---|---|---|---|---|---|---|"]
    ingest_ok: list[tuple[str, float]] = []
    for key, w in sorted(result["window"].items(),
                         key=lambda kv: (int(kv[0].split()[1]), kv[0])):
        kind, n = key.split()[0], int(key.split()[1])
        base = result["laspy"][n]
        if "error" in w:
            lines.append(f"| {w['file']} | | failed: {w['error'][:200]} | | | | | |")
            continue
        ratio = w.get("ingest_ratio", float("nan"))
        lines.append(
            f"| {w['file']} | {base.get('read_s', float('nan')):.2f} | {w['open_s']:.2f} "
            f"({w['loaded_s']:.2f} / {w['idle_s']:.2f}) | {ratio:.2f} | "
            f"{_mib(base.get('peak', 0))} / {_mib(w['peak'])} | "
            f"{_mib(base.get('resident', 0))} / {_mib(w['resident'])} | "
            f"{w.get('peak_bpp', 0):.1f} / {w.get('resident_bpp', 0):.1f} | "
            f"{w.get('processes', 0)} |")
        if kind == "laz":
            ingest_ok.append((w["file"], ratio, n == big))
    lines.append("")
    kept = {w["file"]: ", ".join(w.get("attributes", [])) for w in result["window"].values()
            if "error" not in w}
    if kept:
        lines += ["Attribute names the layer offers after the load (besides xyz; those "
                  "kept in the file until asked are listed too): "
                  + "; ".join(f"{f}: {a or 'none'}" for f, a in kept.items()) + ".", ""]
    if "laspy_marginal_peak_bpp" in d:
        lines.append(f"laspy.read marginal: peak {d['laspy_marginal_peak_bpp']:.1f} B/pt, "
                     f"resident {d['laspy_marginal_resident_bpp']:.1f} B/pt (all of the "
                     "file's attributes).")
        lines.append("")
    judged = [r for _f, r, at_big in ingest_ok if at_big]
    if judged:
        summary.append(
            f"- 1. Whole-file ingest in the window (open → full cloud + LOD shown) of the "
            f"{_label(big)} LAZ / laspy.read ≤ {TARGETS['ingest']}: "
            f"{_met(judged[0] <= TARGETS['ingest'])} ("
            + "; ".join(f"{f}: {r:.2f}x" for f, r, _b in ingest_ok) + ")")
    else:
        summary.append("- 1. Whole-file ingest in the window / laspy.read: **n/a** (not run)")
    for key, what, target in (("peak", "Peak memory of opening a LAZ in the window, "
                               "marginal", "peak_bpp"),
                              ("resident", "Resident after the load, marginal",
                               "resident_bpp")):
        v = d.get(f"laz_marginal_{key}_bpp")
        ply = d.get(f"ply_marginal_{key}_bpp")
        if v is None:
            summary.append(f"- {2 if key == 'peak' else 3}. {what}: **n/a** (needs two sizes "
                           "and a display)")
            continue
        summary.append(f"- {2 if key == 'peak' else 3}. {what} ≤ {TARGETS[target]:.0f} B/pt: "
                       f"{_met(v <= TARGETS[target])} ({v:.1f} B/pt LAZ {_label(small)}→"
                       f"{_label(big)}"
                       + (f"; PLY {ply:.1f} B/pt)" if ply is not None else ")"))
    # 3: render
    r = result["render"]
    lines += ["## `realscene render` vs a process that only runs laspy.read", "",
              f"{r['file']}: whole process from start to exit (`realscene render FILE -o "
              "out.png`, off screen, no DISPLAY) vs `python -c \"import laspy; "
              "laspy.read(FILE)\"`. Peak = highest tree PSS of the process (absolute); "
              "peak RSS = highest sum of the tree's VmRSS (counts shared pages in each "
              "process).", "",
              "| process | wall s | peak PSS MiB | peak RSS MiB | peak PSS B/pt |",
              "|---|---|---|---|---|"]
    for name, row in (("laspy.read", r["laspy"]), ("realscene render", r["ours"])):
        if "error" in row:
            lines.append(f"| {name} | failed: {row['error'][:200]} | | | |")
        else:
            lines.append(f"| {name} | {row['wall_s']:.2f} | {_mib(row['peak'])} | "
                         f"{_mib(row['rss_peak'])} | {row['peak'] / r['points']:.1f} |")
    lines.append("")
    if "render_ratio" in d:
        summary.append(f"- 4. `realscene render` of the {_label(big)} LAZ / a laspy.read "
                       f"process ≤ {TARGETS['render']}: "
                       f"{_met(d['render_ratio'] <= TARGETS['render'])} "
                       f"({d['render_ratio']:.2f}x: {r['ours']['wall_s']:.2f} vs "
                       f"{r['laspy']['wall_s']:.2f} s; peak {d['render_peak_bpp']:.1f} vs "
                       f"{d['render_laspy_peak_bpp']:.1f} B/pt)")
    else:
        summary.append("- 4. `realscene render` / a laspy.read process: **n/a** (failed)")
    # 4: CloudCompare
    cc = result["cc"]
    lines += ["## CloudCompare opening the same points (PLY)", ""]
    if "skipped" in cc:
        lines += [f"Not measured: {cc['skipped']}.", ""]
        summary.append(f"- 5. Open time vs CloudCompare: **n/a** ({cc['skipped']})")
    else:
        tiny = cc.get("tiny", {})
        lines += [f"`CloudCompare -SILENT -AUTO_SAVE OFF -O file.ply` (Debian's 2.11; "
                  "exits by itself once its commands ran; cwd a temporary folder: it wrote "
                  f"{cc.get('files_written') or 'nothing'} there). Only the CloudCompare "
                  "process is measured (not Xvfb). Its empty start = the same command on a "
                  f"{TINY_POINTS}-point PLY: {tiny.get('wall_s', float('nan')):.2f} s, "
                  f"{_mib(tiny.get('peak', 0))} MiB. Ours = the window opening the same "
                  "PLY above its empty window (as above).", "",
                  "| file | CloudCompare open s | ours s | ratio | CloudCompare peak MiB "
                  "(B/pt) | ours peak MiB (B/pt) | ours, the LAZ: s, peak B/pt |",
                  "|---|---|---|---|---|---|---|"]
        verdicts = []
        for n in sizes:
            row = cc.get(n, {})
            ours = result["window"].get(wkey("ply", n), {})
            olaz = result["window"].get(wkey("laz", n), {})
            if "error" in row or "open_s" not in row:
                lines.append(f"| {row.get('file', n)} | failed: "
                             f"{row.get('error', tiny.get('error', '?'))[:200]} | | | | | |")
                continue
            o_s = f"{ours['open_s']:.2f}" if "open_s" in ours else "n/a"
            o_p = (f"{_mib(ours['peak'])} ({ours['peak_bpp']:.1f})" if "peak_bpp" in ours
                   else "n/a")
            o_laz = (f"{olaz['open_s']:.2f} s, {olaz['peak_bpp']:.1f}" if "peak_bpp" in olaz
                     else "n/a")
            ratio = f"{row['time_ratio']:.2f}" if "time_ratio" in row else "n/a"
            lines.append(f"| {row['file']} | {row['open_s']:.2f} | {o_s} | {ratio} | "
                         f"{_mib(row['peak_above'])} ({row['peak_bpp']:.1f}) | {o_p} | "
                         f"{o_laz} |")
            if n == big and "time_ratio" in row and "peak_bpp" in ours:
                verdicts = [
                    f"- 5. Open time of the {_label(n)} PLY in the window / CloudCompare's ≤ "
                    f"{TARGETS['cc_time']}: {_met(row['time_ratio'] <= TARGETS['cc_time'])} "
                    f"({row['time_ratio']:.2f}x: {ours['open_s']:.2f} vs {row['open_s']:.2f} "
                    "s, ours building the LOD too)",
                    f"- 6. Peak memory of that open ≤ {TARGETS['cc_peak_bpp']:.0f} B/pt: "
                    f"{_met(ours['peak_bpp'] <= TARGETS['cc_peak_bpp'])} "
                    f"({ours['peak_bpp']:.1f} B/pt; CloudCompare {row['peak_bpp']:.1f} B/pt)"]
        lines.append("")
        summary += verdicts or ["- 5. Open time vs CloudCompare: **n/a** (no figure)"]
    machine = [f"- **{k}**: {v}" for k, v in result.get("machine", {}).items()]
    lines[6:6] = ["## Summary (targets)", "", *summary, ""] + (
        ["## Machine", "", *machine, ""] if machine else [])
    for note in result.get("notes", []):
        lines += [f"Note: {note}", ""]
    lines += [END]
    return "\n".join(lines) + "\n"


def extract(text: str) -> tuple[str, str]:
    """(RESULTS.md without this benchmark's part, that part or "")."""
    return parts.extract(text, BEGIN, END)


merge = parts.merge


def _child_main(args: argparse.Namespace) -> int:
    if args.child == "laspy":
        out = laspy_child(args.path)
    else:
        out = window_child(args.path, args.warm)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bigopen",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,8M", help="two point counts (default 1M,8M)")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--no-cloudcompare", action="store_true")
    ap.add_argument("--child", choices=("laspy", "window"), help=argparse.SUPPRESS)
    ap.add_argument("--warm", default=None, help=argparse.SUPPRESS)
    ap.add_argument("path", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child_main(args)
    from . import harness, synthetic

    sizes = [synthetic.parse_size(s) for s in args.sizes.split(",") if s.strip()]
    result = run(sizes, args.reps, cloudcompare=not args.no_cloudcompare)
    result["machine"] = harness.machine()
    sys.stdout.write(section(result, f"Standalone run, {args.reps} repetition(s) (printed, "
                             "not recorded)."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
