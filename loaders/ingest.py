"""Reading a big LAS/LAZ file in a worker process, into shared memory. No Qt.

The full read of a big file (:func:`read`) runs in a child process: it decodes the file
(LAZ: lazrs, several chunks a call, on every core), keeps only the lean set of
attributes (:data:`LEAN`: xyz as float32 around an origin, RGB as uint8, intensity,
classification, return number and count packed in one byte: 19 bytes a point) in
memory-file descriptors
(``memfd``), builds the octree there (:func:`loaders.lod.build_octree`, which reorders
the arrays in place) and hands the descriptors to this process, which maps them: the
arrays are never copied, and the process that shows them never holds the GIL for the
decode or the build (a window stays responsive). The other attributes of the file (GPS
time, scan angle, user data, point source id, set flags, extra bytes) stay in the file:
:class:`DeferredAttributes` names them and reads them on demand, in a worker again
(:meth:`DeferredAttributes.load`, with progress; the window does it in the background).

A worker that cannot start (no ``memfd``, a sandbox without processes) leaves the work to
:func:`loaders.progressive.read_full` in this process; a worker that dies or fails gives
one :class:`LoadError`. ``REALSCENE_INGEST=inprocess`` forces the in-process read.
"""

from __future__ import annotations

import atexit
import mmap
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from .types import LoadError, PointCloud, ProgressFn, loaded_attributes  # noqa: F401

#: the attributes read with the points; the rest stay in the file until asked for
LEAN = frozenset({"rgb", "intensity", "classification", "return_number",
                  "number_of_returns"})
#: the byte both return fields share in a worker's cloud (return number in the low
#: nibble, number of returns in the high one: LAS keeps each in 3 or 4 bits)
PACKED_RETURNS = "_returns_packed"
RETURN_FIELDS = {"return_number": 0, "number_of_returns": 4}
#: smaller files are read in this process (a worker's start costs ~0.2 s)
WORKER_MIN_POINTS = 300_000
#: LAZ chunks a worker decodes per lazrs call (it holds no GUI: big calls are fastest)
WORKER_CHUNKS_PER_CALL = 8
ENV_MODE = "REALSCENE_INGEST"
#: the worker's niceness (its CPU goes to the window first)
WORKER_NICE = 15
#: seconds between progress messages from the worker
PROGRESS_EVERY = 0.05
_ROOT = Path(__file__).resolve().parents[1]


def use_worker(point_count: int) -> bool:
    """Whether a file of ``point_count`` points is read in a worker process."""
    mode = os.environ.get(ENV_MODE, "").strip().lower()
    if mode == "inprocess" or not hasattr(os, "memfd_create"):
        return False
    return mode == "worker" or point_count >= WORKER_MIN_POINTS


# -- deferred attributes -----------------------------------------------------------------
class PackedField:
    """One field of a packed byte array (``(packed >> shift) & 15``), read without
    unpacking the whole array: ``field[i]`` / ``field[a:b]`` unpack only those points;
    ``np.asarray(field)`` unpacks all of it."""

    def __init__(self, packed: np.ndarray, shift: int) -> None:
        self.packed = packed
        self.shift = shift
        self.dtype = np.dtype(np.uint8)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.packed.shape

    @property
    def ndim(self) -> int:
        return 1

    @property
    def size(self) -> int:
        return int(self.packed.size)

    def __len__(self) -> int:
        return len(self.packed)

    def __getitem__(self, index):
        return (self.packed[index] >> self.shift) & 15

    def __array__(self, dtype=None, copy=None):
        values = (self.packed >> self.shift) & 15
        return values if dtype is None else values.astype(dtype)


class DeferredAttributes(dict):
    """A cloud's attribute arrays, some of which are still in the file (``deferred``),
    two of which may share a byte (``packed``: the return number and count).

    It behaves as the dict of every attribute: a deferred name is ``in`` it and listed by
    ``keys()``; reading one (``[name]``, ``get``, ``items()``) reads all of them first,
    blocking (:meth:`load`). Code that must not block (drawing) asks :meth:`is_deferred`
    or iterates :meth:`loaded_items`; a window calls :meth:`load` in the background. A
    packed name gives its values unpacked (a new array each time: the cloud keeps one byte
    for both); :meth:`loaded_items` gives it as a :class:`PackedField`, which unpacks only
    the points it is indexed with (a node of the octree, a picked point)."""

    def __init__(self, loaded: dict[str, np.ndarray], deferred: Iterable[str],
                 loader: Callable[[ProgressFn | None], dict[str, np.ndarray]],
                 packed: dict[str, PackedField] | None = None) -> None:
        super().__init__(loaded)
        self.packed = {k: v for k, v in (packed or {}).items()
                       if not dict.__contains__(self, k)}
        self.deferred = [d for d in deferred
                         if not dict.__contains__(self, d) and d not in self.packed]
        self._loader = loader
        self._lock = threading.Lock()

    def is_deferred(self, name: str) -> bool:
        return name in self.deferred

    def load(self, progress: ProgressFn | None = None) -> None:
        """Read the deferred attributes from the file (once; thread-safe)."""
        with self._lock:
            if not self.deferred:
                return
            arrays = self._loader(progress)
            for name in list(self.deferred):
                if name in arrays:
                    dict.__setitem__(self, name, arrays[name])
            self.deferred = []

    def loaded_items(self):
        return list(dict.items(self)) + list(self.packed.items())

    def __missing__(self, key: str) -> np.ndarray:
        if key in self.packed:
            return np.asarray(self.packed[key])
        if key in self.deferred:
            self.load()
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.packed or key in self.deferred

    def __setitem__(self, key: str, value: Any) -> None:
        self.packed.pop(key, None)
        if key in self.deferred:
            self.deferred.remove(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        if key in self.packed or key in self.deferred:
            self.pop(key)
        else:
            dict.__delitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def keys(self):
        return list(dict.keys(self)) + list(self.packed) + list(self.deferred)

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return dict.__len__(self) + len(self.packed) + len(self.deferred)

    def items(self):
        return self.copy().items()

    def values(self):
        return self.copy().values()

    def pop(self, key: str, *default: Any) -> Any:
        if key in self.packed:
            return np.asarray(self.packed.pop(key))
        if key in self.deferred:
            self.load()
        return dict.pop(self, key, *default)

    def copy(self) -> dict[str, np.ndarray]:
        self.load()
        out = dict(dict.items(self))
        out.update((k, np.asarray(v)) for k, v in self.packed.items())
        return out

    def __reduce__(self):  # pickles (and deep copies) as the plain dict of every array
        return (dict, (self.copy(),))


def pack_returns(attributes: dict[str, np.ndarray]) -> None:
    """(In a worker) replace ``return_number`` and ``number_of_returns`` of a cloud by
    one byte holding both (:data:`PACKED_RETURNS`), in the first one's memory."""
    if not all(dict.__contains__(attributes, k) for k in RETURN_FIELDS):
        return
    low = attributes.pop("return_number")
    high = attributes.pop("number_of_returns")
    for a in range(0, len(low), 1 << 20):
        b = a + (1 << 20)
        low[a:b] &= 15
        low[a:b] |= high[a:b] << 4
    attributes[PACKED_RETURNS] = low


def take_prebuilt_lod(cloud: Any) -> Any:
    """The octree the worker built for ``cloud`` (once; None when there is none or the
    cloud changed since)."""
    src = cloud.__dict__.pop("_prebuilt_lod", None) if hasattr(cloud, "__dict__") else None
    if src is None or src.cloud is not cloud or src.total_points != cloud.point_count:
        return None
    return src


# -- the parent's side -------------------------------------------------------------------
def read(path: str | Path, progress: ProgressFn | None = None, *, info: Any = None,
         budget: int | None = None, worker: _Worker | None = None) -> PointCloud:
    """The whole file as :func:`loaders.progressive.read_full` gives it, read and
    octree-built in a worker (see the module notes): the lean attributes in memory, the
    others deferred; the octree is kept for :func:`take_prebuilt_lod`. ``worker``: the
    one :func:`start` started for it."""
    from . import progressive
    from .formats import las

    path = Path(path)
    info = las.parse_header(path) if info is None else info
    if not use_worker(info.point_count):
        return progressive.read_full(path, progress, info=info, budget=budget)
    stride, warning = progressive.memory_plan(info, budget, lean=True)
    request = {"mode": "load", "path": str(path), "stride": stride}
    try:
        if worker is not None and worker.path == path:
            result, arrays = worker.result(progress)
        else:
            if worker is not None:
                worker.close()
            result, arrays = _run(path, request, progress)
    except _NoWorker:
        return progressive.read_full(path, progress, info=info, budget=budget)
    cloud = _assemble(path, result, arrays, "deferred", {"stride": stride})
    if warning:
        cloud.warnings.insert(0, warning)
        cloud.metadata["memory_guard"] = {
            "stride": stride, "file_points": info.point_count,
            "bytes_needed": info.point_count * progressive.bytes_per_point(info, lean=True),
            "peak_bytes_needed": info.point_count * progressive.peak_bytes_per_point(
                info, lean=True),
            "budget": progressive.memory_budget() if budget is None else int(budget)}
    cloud.metadata.setdefault("file_size", info.file_size)
    return cloud


def read_ply(path: str | Path, progress: ProgressFn | None = None, *,
             budget: int | None = None) -> PointCloud:
    """A binary point-cloud PLY read lean in a worker (:mod:`loaders.ingest_ply`): as
    :func:`loaders.read` gives it, its positions, RGB, intensity and classification in
    memory and in the octree's order (kept for :func:`take_prebuilt_lod`), its other
    properties (normals, extra scalars) deferred. Other PLY files, and any PLY when the
    worker cannot run, are read by :func:`loaders.read`."""
    from . import ingest_ply, progressive
    from . import read as read_any

    path = Path(path)
    plan = ingest_ply.plan(path)
    if plan is None or not use_worker(plan["count"]):
        return read_any(path, progress=progress)
    resident, peak = ingest_ply.bytes_per_point(plan)
    stride, warning = progressive.thinning(
        plan["count"], resident, peak, budget,
        hint="convert it to LAZ and index it to COPC to stream it at full detail")
    try:
        result, arrays = _run(path, {"mode": "ply", "path": str(path), "stride": stride},
                              progress)
    except _NoWorker:
        return read_any(path, progress=progress)
    cloud = _assemble(path, result, arrays, "ply_deferred", {"stride": stride})
    if warning:
        cloud.warnings.insert(0, warning)
        cloud.metadata["memory_guard"] = {
            "stride": stride, "file_points": plan["count"],
            "bytes_needed": plan["count"] * resident, "peak_bytes_needed": plan["count"] * peak,
            "budget": progressive.memory_budget() if budget is None else int(budget)}
    cloud.metadata.setdefault("file_size", path.stat().st_size)
    return cloud


def _assemble(path: Path, result: dict, arrays: dict[str, np.ndarray], deferred_mode: str,
              check: dict) -> PointCloud:
    """The cloud of a worker's result (its arrays mapped, its octree kept for
    :func:`take_prebuilt_lod`, its other attributes deferred)."""
    from .lod import OctreeSource

    meta = result["metadata"]
    positions = arrays.pop("positions")
    cloud = PointCloud(positions=positions, origin=np.asarray(result["origin"], np.float64),
                       attributes={}, crs=result["crs"], metadata=meta)
    o = result["octree"]
    request = {"mode": deferred_mode, "path": str(path), "count": len(positions),
               "origin": cloud.origin.tolist(), "capacity": o["capacity"], **check}
    packed = arrays.pop(PACKED_RETURNS, None)
    fields = {} if packed is None else {
        name: PackedField(packed, shift) for name, shift in RETURN_FIELDS.items()}
    cloud.attributes = DeferredAttributes(arrays, meta.get("deferred", []),
                                          lambda report: _read_deferred(request, report),
                                          fields)
    cloud.metadata.setdefault("source", str(path))
    cloud.metadata["ingest"] = "worker"
    cloud.__dict__["_prebuilt_lod"] = OctreeSource(
        cloud, o["cube_lo"], o["cube_size"], o["keys"], o["starts"], o["counts"],
        (np.asarray(o["lo"]), np.asarray(o["hi"])), o["capacity"])
    return cloud


def _read_deferred(request: dict, progress: ProgressFn | None) -> dict[str, np.ndarray]:
    try:
        _result, arrays = _run(Path(request["path"]), request, progress)
    except _NoWorker:
        if request["mode"] == "ply_deferred":
            from . import ingest_ply

            return ingest_ply.deferred(request, progress or (lambda f, m: None), np.empty)
        arrays = _deferred_arrays(request, progress, np.empty)
    return arrays


class _NoWorker(Exception):
    """The worker process could not be started (not a problem of the file)."""


def _spawn() -> tuple[subprocess.Popen, Connection, Any]:
    """A new worker process: (process, connection, its stderr file)."""
    ours, theirs = socket.socketpair()
    err = tempfile.TemporaryFile()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(_ROOT)] + [p for p in [
        env.get("PYTHONPATH")] if p])
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from loaders.ingest import worker_main; worker_main()",
             str(theirs.fileno())], pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            env=env, cwd=str(_ROOT))
    except OSError as exc:
        ours.close()
        theirs.close()
        err.close()
        raise _NoWorker(str(exc)) from None
    theirs.close()
    return proc, Connection(ours.detach()), err


_spare: tuple[subprocess.Popen, Connection, Any] | None = None
_spare_lock = threading.Lock()


def prestart() -> bool:
    """Start a spare worker now, which imports what a read needs and waits: the next
    big read (:func:`read`, :func:`start`) takes it and skips the ~0.4 s start-up. Call it
    from the main thread (a worker dies with the thread that started it: elsewhere this
    does nothing) where a big file may be opened soon: a window once shown and after each
    load, a command that reads files. One spare at most; it dies with this process.
    Whether a spare is ready or starting."""
    global _spare
    if threading.current_thread() is not threading.main_thread() or not use_worker(
            WORKER_MIN_POINTS):
        return False
    with _spare_lock:
        if _spare is not None and _spare[0].poll() is None:
            return True
        if _spare is not None:
            _discard(_spare)
        try:
            _spare = _spawn()
        except _NoWorker:
            _spare = None
        return _spare is not None


def spare_pid() -> int | None:
    """The process id of the spare worker waiting for a request (None: none)."""
    spare = _spare
    return spare[0].pid if spare is not None and spare[0].poll() is None else None


def _take_spare() -> tuple[subprocess.Popen, Connection, Any] | None:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare[0].poll() is not None:
        _discard(spare)
        return None
    return spare


def _discard(spare: tuple[subprocess.Popen, Connection, Any]) -> None:
    proc, conn, err = spare
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    conn.close()
    err.close()


@atexit.register
def discard_spare() -> None:
    """Stop the spare worker, if there is one (at exit, or to free its memory)."""
    spare = _take_spare()
    if spare is not None:
        _discard(spare)


class _Worker:
    """One worker process running one request; started at once (so that its start-up
    overlaps whatever comes next), its result collected by :meth:`result`."""

    def __init__(self, path: Path, request: dict) -> None:
        self.path = path
        self.proc, self.conn, self.err = _take_spare() or _spawn()
        try:
            self.conn.send(request)
        except OSError:
            pass  # the worker died at once: result() says why
        self._done = False

    def result(self, progress: ProgressFn | None) -> tuple[dict, dict[str, np.ndarray]]:
        """Wait for the worker (reporting its progress: ``progress`` may raise
        :class:`LoadCancelled`, which kills it); its result and its arrays, mapped."""
        path, proc, conn, err = self.path, self.proc, self.conn, self.err
        report = progress or (lambda f, m: None)
        arrays: dict[str, np.ndarray] = {}
        last: tuple = (0.0, "Reading points")
        try:
            while True:
                if conn.poll(0.05):
                    kind, *body = conn.recv()
                    if kind == "progress":
                        last = tuple(body)
                        report(*last)
                    elif kind == "error":
                        reason, hint = body
                        raise LoadError(path, reason, hint)
                    elif kind == "fallback":
                        raise _NoWorker(body[0])
                    elif kind == "done":
                        result = body[0]
                        for name, dtype, shape in result.pop("arrays"):
                            fd = recv_handle(conn)
                            arrays[name] = _map(fd, np.dtype(dtype), tuple(shape))
                        conn.send_bytes(b"mapped")
                        self._done = True
                        return result, arrays
                elif proc.poll() is not None:
                    raise LoadError(path, f"the reading process ended unexpectedly "
                                    f"({_exit_text(proc.returncode)}){_tail(err)}",
                                    "the file may be corrupt, or memory ran out; "
                                    "try again with fewer layers open")
                else:
                    report(*last)  # lets a cancel through while the worker is quiet
        except (EOFError, ConnectionError, OSError) as exc:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            raise LoadError(path, f"the reading process failed ({exc}; "
                            f"{_exit_text(proc.poll())}){_tail(err)}",
                            "the file may be corrupt; try again") from None
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker (killed unless it handed its arrays over) and wait for it."""
        proc = self.proc
        if proc.poll() is None and not self._done:
            proc.kill()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a wedged child
            proc.kill()
            proc.wait()
        self.conn.close()
        self.err.close()


def start(path: str | Path, info: Any, budget: int | None = None) -> _Worker | None:
    """Start reading ``path`` in a worker now (None when it is not read in a worker):
    pass it to :func:`read` as ``worker`` (or ``close()`` it)."""
    from . import progressive

    if not use_worker(info.point_count):
        return None
    stride, _warning = progressive.memory_plan(info, budget, lean=True)
    try:
        return _Worker(Path(path), {"mode": "load", "path": str(path), "stride": stride})
    except _NoWorker:
        return None


def _run(path: Path, request: dict, progress: ProgressFn | None
         ) -> tuple[dict, dict[str, np.ndarray]]:
    """Run one request in a new worker; its result and its arrays, mapped."""
    return _Worker(path, request).result(progress)


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _tail(err) -> str:
    try:
        err.seek(0)
        text = err.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    lines = [t for t in text if t.strip()][-1:]
    return f": {lines[0][:300]}" if lines else ""


def _map(fd: int, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """The array in the memory file ``fd`` (shared, writable; the fd is closed)."""
    try:
        count = int(np.prod(shape)) if shape else 1
        size = count * dtype.itemsize
        if size == 0:
            return np.zeros(shape, dtype)
        mm = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    return np.frombuffer(mm, dtype, count=count).reshape(shape)


# -- the worker's side -------------------------------------------------------------------
class _Shared:
    """Arrays in memory files: allocated by ``alloc``, found again by their address."""

    def __init__(self) -> None:
        self.files: dict[int, tuple[int, mmap.mmap]] = {}

    def alloc(self, shape, dtype) -> np.ndarray:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = np.dtype(dtype)
        size = max(int(np.prod(shape)) * dtype.itemsize, 1)
        fd = os.memfd_create("realscene-points", os.MFD_CLOEXEC)
        os.ftruncate(fd, size)
        mm = mmap.mmap(fd, size)
        arr = np.frombuffer(mm, dtype, count=int(np.prod(shape))).reshape(shape)
        self.files[arr.__array_interface__["data"][0]] = (fd, mm)
        return arr

    def fd_of(self, arr: np.ndarray) -> int:
        return self.files[arr.__array_interface__["data"][0]][0]

    def release(self, arr: np.ndarray) -> None:
        """Free the memory of an array no longer used (its pages dropped; the file
        closed); the array must not be read again."""
        fd, mm = self.files.pop(arr.__array_interface__["data"][0])
        try:
            mm.madvise(mmap.MADV_REMOVE)
        except (AttributeError, OSError, ValueError):
            os.ftruncate(fd, 0)
        os.close(fd)


def worker_main() -> None:
    """The worker process: one request on the socket given in ``argv[1]``."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: die with the parent
    except Exception:  # noqa: BLE001 - not Linux: the parent kills us on cancel anyway
        pass
    try:
        os.nice(WORKER_NICE)  # background work: a window's frames come first
    except OSError:
        pass
    conn = Connection(int(sys.argv[1]))
    from . import ingest_ply, lod, parallel_las, progressive  # noqa: F401 - imported before
    from .formats import las  # noqa: F401 - (a spare worker waits with them imported)

    try:
        import laspy  # noqa: F401
        import lazrs  # noqa: F401
        import pyproj  # noqa: F401 - a LAS header's CRS (~0.1 s to import)

        from . import crs  # noqa: F401
    except ImportError:  # the request's read says so
        pass

    try:
        request = conn.recv()
    except (EOFError, OSError):
        return  # a spare nobody used
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY or fraction >= 1.0:
            last[0] = now
            conn.send(("progress", float(fraction), message))

    shared = _Shared()
    try:
        from . import ingest_ply

        mode = request["mode"]
        if mode == "load":
            result, arrays = _load(request, report, shared.alloc, shared.release)
        elif mode == "ply":
            result, arrays = ingest_ply.load(request, report, shared.alloc)
        elif mode == "ply_deferred":
            arrays, result = ingest_ply.deferred(request, report, shared.alloc), {}
        else:
            arrays = _deferred_arrays(request, report, shared.alloc)
            result = {}
    except ingest_ply.Fallback as exc:
        conn.send(("fallback", str(exc)))
        return
    except LoadError as exc:
        conn.send(("error", exc.reason, exc.hint))
        return
    except MemoryError:
        conn.send(("error", "not enough memory to read this file",
                   "close other layers or open a smaller file"))
        return
    result["arrays"] = [(name, a.dtype.str, a.shape) for name, a in arrays.items()]
    conn.send(("done", result))
    for a in arrays.values():
        send_handle(conn, shared.fd_of(a), os.getppid())
    if conn.poll(60):  # the parent has mapped them (or is gone): done
        try:
            conn.recv_bytes()
        except (EOFError, OSError):
            pass
    # the parent waits for this process to end: skip the interpreter's teardown (freeing
    # every module took ~0.1 s of each load); nothing is left to flush but stderr
    sys.stderr.flush()
    os._exit(0)


def _load(request: dict, report: ProgressFn, alloc, release=lambda a: None
          ) -> tuple[dict, dict[str, np.ndarray]]:
    from . import parallel_las, progressive
    from .formats import las
    from .lod import build_octree

    path = Path(request["path"])
    info = las.parse_header(path)
    cloud = None
    if request["stride"] == 1:  # every core decodes and copies (LAZ; None: not served)
        try:
            cloud = parallel_las.read_lean(
                path, info, lambda f, m: report(0.85 * f, m), keep=set(LEAN), alloc=alloc,
                packed_name=PACKED_RETURNS, release=release)
        except parallel_las.ChunkFailed:
            cloud = None  # the usual read says what is wrong, or reads what it can
    if cloud is None:
        cloud = progressive.read_full(
            path, lambda f, m: report(0.85 * f, m), info=info, stride=request["stride"],
            chunks_per_call=WORKER_CHUNKS_PER_CALL, keep=set(LEAN), alloc=alloc,
            ahead=True)
    high = cloud.attributes.get("number_of_returns")
    pack_returns(cloud.attributes)
    if high is not None:
        release(high)
    src = build_octree(cloud, lambda f, m: report(0.85 + 0.15 * f, m))
    arrays = {"positions": cloud.positions, **cloud.attributes}
    result = {"metadata": cloud.metadata, "origin": cloud.origin.tolist(), "crs": cloud.crs,
              "octree": {"cube_lo": src.cube_lo, "cube_size": src.cube_size,
                         "keys": np.asarray(src.keys, np.int64).reshape(-1, 4),
                         "starts": src._starts, "counts": src._counts,
                         "lo": src.bounds[0], "hi": src.bounds[1],
                         "capacity": src.capacity}}
    return result, arrays


def _deferred_arrays(request: dict, report: ProgressFn | None, alloc
                     ) -> dict[str, np.ndarray]:
    """The deferred attributes, in the octree order of the lean read: the file read
    again whole (every attribute), the same octree order computed again from the same
    positions, and the deferred arrays reordered by it."""
    from . import progressive
    from .formats import las
    from .lod import KeyBuffer, cloud_cube, octree_order, permute_all_in_place

    report = report or (lambda f, m: None)
    path = Path(request["path"])
    info = las.parse_header(path)
    cloud = progressive.read_full(path, lambda f, m: report(0.8 * f, m), info=info,
                                  stride=request["stride"],
                                  chunks_per_call=WORKER_CHUNKS_PER_CALL, ahead=True)
    n = cloud.point_count
    if n != request["count"] or cloud.origin.tolist() != list(request["origin"]):
        raise LoadError(path, "the file changed since it was opened",
                        "open it again to read its other attributes")
    names = [k for k in cloud.attributes if k not in LEAN]
    out: dict[str, np.ndarray] = {}
    if n > request["capacity"]:
        kb = KeyBuffer(n)
        _lo, _hi, cube_lo, size = cloud_cube(cloud.positions)
        kb.fill_parallel(cloud.positions, cube_lo, size)
        report(0.85, "reading the other attributes: ordering")
        perm = octree_order(kb, request["capacity"])[0]
        permute_all_in_place([cloud.attributes[name] for name in names], perm)
        del perm, kb
    for name in names:
        src = cloud.attributes.pop(name)
        dst = alloc(src.shape, src.dtype)
        dst[...] = src
        out[name] = dst
        del src
    report(1.0, "other attributes read")
    return out


read.start = start  # type: ignore[attr-defined]  # progressive.read_progressive starts it early
