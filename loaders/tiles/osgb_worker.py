"""The fast OSGB reader: persistent OpenSceneGraph worker processes, no Qt, no VTK.

``osgb_worker.cpp`` (beside this file) is a small program linked against OpenSceneGraph
(Debian ``libopenscenegraph-dev``) that loads OSG's plugins once and then reads one
``.osgb`` per request with ``osgDB::readRefNodeFile``, answering with a compact binary
reply (PagedLODs, geometry arrays, texture pixels). Reading a tile that way costs a few
milliseconds instead of the ~70 ms of an ``osgconv`` run (mostly plugin start-up).

This module builds the program (``./run`` calls :func:`build_worker` once, and again only
when the source changes), runs a small pool of workers (one per loading thread), and
decodes the replies into plain arrays (:class:`RawFile`); :mod:`loaders.tiles.osgb` turns
those into tiles exactly as it does osgconv's output.

Untrusted tiles: each request has a deadline (a worker that does not answer in time is
killed and the next request starts a fresh one); a worker that crashes (OSG's plugins are
native code) is seen as the end of its output and becomes one :class:`LoadError` for that
file; the worker's address space is limited (``--max-memory-mb``) so a tile claiming huge
arrays fails inside it; replies are size-checked before memory is allocated.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..types import LoadError

#: the program's name, installed beside the environment's Python (``.venv/bin``)
WORKER_NAME = "realscene-osgb-worker"
#: the reply format both sides speak (bumped with every change of the format)
PROTOCOL = 1
#: seconds one tile may take before its worker is killed (at most)
WORKER_TIMEOUT = 60.0
#: ... and for a small tile: this many seconds plus one per WORKER_MIN_RATE bytes. OSG's
#: reader loops forever on some corrupt tiles (an 8-byte header-only file, one time in
#: two); real tiles read at ~100 MB/s, so a small one is given up on soon
WORKER_MIN_TIMEOUT = 10.0
WORKER_MIN_RATE = 2 * 2**20
#: the largest reply read (raw pixels are bigger than the tile's JPEGs)
MAX_REPLY_BYTES = 2 * 2**30
#: address-space limit of a worker, MiB (a tile claiming huge arrays fails inside it)
WORKER_MEMORY_MB = 4096
#: idle workers kept between requests (one per loading thread is what is used)
MAX_IDLE = 4
#: environment variable naming another worker program (tests, packagers)
ENV_WORKER = "REALSCENE_OSGB_WORKER"

SOURCE = Path(__file__).with_name("osgb_worker.cpp")
_HINT_REEXPORT = "the tile may be truncated or corrupt; re-export the tileset"


class WorkerUnavailable(RuntimeError):
    """The worker program cannot be built or run (the caller falls back to osgconv)."""


# ==================================================================================
# building
# ==================================================================================
def source_digest() -> str:
    """A short hash of the C++ source: the built program is current when it matches."""
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]


def default_binary() -> Path:
    """Where the program lives: $REALSCENE_OSGB_WORKER, else beside the environment's
    Python (``.venv/bin/realscene-osgb-worker``)."""
    env = os.environ.get(ENV_WORKER)
    if env:
        return Path(env)
    return Path(sys.prefix) / "bin" / WORKER_NAME


def _stamp(exe: Path) -> Path:
    return exe.with_name(exe.name + ".src")


def build_worker(dest: str | os.PathLike | None = None, *, force: bool = False,
                 timeout: float = 600.0) -> Path:
    """Compile ``osgb_worker.cpp`` into ``dest`` (default :func:`default_binary`) unless it
    is there already and built from the current source. Raises WorkerUnavailable with the
    reason (no compiler, no OpenSceneGraph headers, a compile error)."""
    exe = Path(dest) if dest is not None else default_binary()
    want = source_digest()
    stamp = _stamp(exe)
    if not force and exe.is_file() and stamp.is_file() and \
            stamp.read_text(encoding="utf-8").strip() == want:
        return exe
    cxx = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")
    if cxx is None:
        raise WorkerUnavailable("no C++ compiler (install g++)")
    if not Path("/usr/include/osgDB/ReadFile").is_file() and not _has_osg_headers(cxx):
        raise WorkerUnavailable("OpenSceneGraph's headers are missing "
                                "(install libopenscenegraph-dev)")
    exe.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{exe.name}-", dir=exe.parent)
    os.close(fd)
    cmd = [cxx, "-O2", "-std=c++17", "-o", tmp, os.fspath(SOURCE),
           "-losgDB", "-losg", "-lOpenThreads"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise WorkerUnavailable("the OSGB worker does not compile: "
                                    + (err[0][:300] if err else f"exit {proc.returncode}"))
        os.chmod(tmp, 0o755)
        os.replace(tmp, exe)
        stamp.write_text(want + "\n", encoding="utf-8")
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkerUnavailable(f"the OSGB worker cannot be built: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    reset_default_pool()
    return exe


def _has_osg_headers(cxx: str) -> bool:
    try:
        proc = subprocess.run([cxx, "-E", "-x", "c++", "-"], input=b"#include <osgDB/ReadFile>\n",
                              capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_worker() -> Path:
    """The built, current worker program, or WorkerUnavailable saying why not."""
    exe = default_binary()
    if not exe.is_file() or not os.access(exe, os.X_OK):
        raise WorkerUnavailable(f"{exe.name} is not built")
    if os.environ.get(ENV_WORKER):
        return exe
    stamp = _stamp(exe)
    try:
        current = stamp.read_text(encoding="utf-8").strip() == source_digest()
    except OSError:
        current = False
    if not current:
        raise WorkerUnavailable(f"{exe.name} was built from another version of its source")
    return exe


# ==================================================================================
# the reply
# ==================================================================================
@dataclass
class RawImage:
    """A texture as the worker sends it: 8-bit rows, tightly packed (``data`` empty when
    the image was too large or had no pixels)."""

    width: int
    height: int
    pixel_format: int
    data_type: int
    top_left: bool
    name: str
    data: bytes


@dataclass
class RawLod:
    """An osg::PagedLOD in its file's frame (``matrix``: the transforms above it)."""

    user_center: bool
    center: np.ndarray
    radius: float
    pixel_mode: bool
    ranges: list[tuple[float, float]]
    files: list[str]
    database_path: str
    matrix: np.ndarray | None


@dataclass
class RawGeometry:
    """An osg::Geometry: float64 vertices, optional UVs, (GL mode, indices) primitive sets,
    front diffuse colour, its textures' image indices; ``lod``: the PagedLOD holding it
    (-1: outside any)."""

    lod: int
    matrix: np.ndarray | None
    xyz: np.ndarray
    uv: np.ndarray | None
    primitives: list[tuple[int, np.ndarray]]
    diffuse: tuple[float, float, float, float] | None
    images: list[int]


@dataclass
class RawFile:
    """What the worker read from one file."""

    warnings: list[str] = field(default_factory=list)
    images: list[RawImage] = field(default_factory=list)
    lods: list[RawLod] = field(default_factory=list)
    geometries: list[RawGeometry] = field(default_factory=list)


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.p = 0

    def take(self, fmt: str) -> tuple:
        vals = struct.unpack_from(fmt, self.buf, self.p)
        self.p += struct.calcsize(fmt)
        return vals

    def one(self, fmt: str):
        return self.take(fmt)[0]

    def bytes_(self, n: int) -> bytes:
        if n < 0 or self.p + n > len(self.buf):
            raise ValueError("the reply ends inside an array")
        out = self.buf[self.p:self.p + n]
        self.p += n
        return out

    def str_(self) -> str:
        return self.bytes_(self.one("<I")).decode("utf-8", "replace")

    def array(self, dtype: str, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        if count < 0 or self.p + size > len(self.buf):
            raise ValueError("the reply ends inside an array")
        out = np.frombuffer(self.buf, dtype, count, self.p)
        self.p += size
        return out

    def matrix(self) -> np.ndarray | None:
        if not self.one("<B"):
            return None
        return self.array("<f8", 16).reshape(4, 4).copy()

    def vectors(self, width: int) -> np.ndarray | None:
        kind, n = self.take("<BI")
        if kind == 0:
            return None
        if kind not in (4, 8):
            raise ValueError(f"unknown array type {kind}")
        return self.array("<f4" if kind == 4 else "<f8", n * width).reshape(n, width)


def decode_reply(payload: bytes) -> RawFile:
    """A worker's successful reply as plain data (ValueError when malformed)."""
    c = _Cursor(payload)
    try:
        if c.one("<B") != 0:
            raise ValueError("not a successful reply")
        out = RawFile()
        out.warnings = [c.str_() for _ in range(c.one("<I"))]
        for _ in range(c.one("<I")):
            w, h, fmt, dtype, top = c.take("<5I")
            name = c.str_()
            out.images.append(RawImage(w, h, fmt, dtype, bool(top), name,
                                       c.bytes_(c.one("<Q"))))
        for _ in range(c.one("<I")):
            user = bool(c.one("<B"))
            centre = np.array(c.take("<3d"), dtype=np.float64)
            radius = c.one("<d")
            pixel = bool(c.one("<B"))
            ranges = [c.take("<2d") for _ in range(c.one("<I"))]
            files = [c.str_() for _ in range(c.one("<I"))]
            out.lods.append(RawLod(user, centre, radius, pixel, ranges, files, c.str_(),
                                   c.matrix()))
        for _ in range(c.one("<I")):
            lod = c.one("<i")
            if lod >= len(out.lods):
                raise ValueError("a geometry names a PagedLOD the reply does not have")
            matrix = c.matrix()
            xyz = c.vectors(3)
            if xyz is None:
                raise ValueError("a geometry without vertices")
            uv = c.vectors(2)
            prims = []
            for _ in range(c.one("<I")):
                mode, n = c.take("<II")
                prims.append((mode, c.array("<u4", n)))
            diffuse = c.take("<4f") if c.one("<B") else None
            out.geometries.append(RawGeometry(
                lod, matrix, xyz.astype(np.float64), None if uv is None else uv.copy(),
                prims, diffuse, [c.one("<i") for _ in range(c.one("<I"))]))
        if c.p != len(payload):
            raise ValueError("the reply holds bytes after its end")
        return out
    except struct.error as exc:
        raise ValueError(f"the reply is cut short ({exc})") from None


# ==================================================================================
# one worker process
# ==================================================================================
class WorkerDied(Exception):
    """The worker ended (crashed) before answering."""


class WorkerTimeout(Exception):
    """The worker did not answer in time."""


class OsgbWorker:
    """One running worker: requests in, replies out, one at a time (not thread-safe; the
    pool gives each thread its own)."""

    def __init__(self, exe: str | os.PathLike, *, memory_mb: int = WORKER_MEMORY_MB) -> None:
        env = dict(os.environ, OSG_NOTIFY_LEVEL="WARN")
        try:
            self.proc = subprocess.Popen(
                [os.fspath(exe), "--max-memory-mb", str(int(memory_mb)),
                 "--parent", str(os.getpid())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=env, bufsize=0, close_fds=True)
        except OSError as exc:
            raise WorkerUnavailable(f"cannot start {exe}: {exc.strerror or exc}") from None
        self.requests = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, line: bytes, timeout: float) -> tuple[int, bytes]:
        """Send one request line; (status, payload) of the reply. Raises WorkerDied,
        WorkerTimeout (the worker is then killed) or ValueError (a reply too large)."""
        self.requests += 1
        deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write(line + b"\n")
        except (BrokenPipeError, OSError):
            raise WorkerDied(self._ended()) from None
        head = self._read(16, deadline)
        if head[:4] != b"RSOW":
            self.kill()
            raise ValueError("the worker answered something else than a reply")
        version, size = struct.unpack("<IQ", head[4:])
        if version != PROTOCOL:
            self.kill()
            raise WorkerUnavailable(f"the worker speaks protocol {version}, not {PROTOCOL}")
        if size > MAX_REPLY_BYTES or size < 1:
            self.kill()
            raise ValueError(f"the tile expands to {size:,} bytes, more than the "
                             f"{MAX_REPLY_BYTES:,} allowed")
        payload = self._read(size, deadline)
        return payload[0], payload

    def _read(self, n: int, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise WorkerTimeout()
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            k = os.readv(fd, [view[got:]])
            if k == 0:
                raise WorkerDied(self._ended())
            got += k
        return bytes(buf)

    def _ended(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        if code is not None and code < 0:
            return f"signal {-code}"
        return f"exit {code}"

    def kill(self) -> None:
        """Stop the process now (a worker that misbehaved is never reused)."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def close(self) -> None:
        """End the worker politely (end of its input), killing it if it lingers."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


# ==================================================================================
# the pool
# ==================================================================================
class WorkerPool:
    """Workers shared by the loading threads: each request takes an idle worker (or starts
    one), so concurrent threads each get their own; a worker that times out or crashes is
    dropped and the next request starts a fresh one."""

    def __init__(self, exe: str | os.PathLike, *, max_idle: int = MAX_IDLE,
                 timeout: float = WORKER_TIMEOUT) -> None:
        self.exe = Path(exe)
        self.max_idle = max_idle
        self.timeout = timeout
        self._idle: list[OsgbWorker] = []
        self._lock = threading.Lock()
        self.started = 0  # workers started so far (restarts included)

    def _take(self) -> OsgbWorker:
        with self._lock:
            while self._idle:
                w = self._idle.pop()
                if w.alive():
                    return w
                w.kill()  # ended while idle (killed from outside): not an error of a file
            self.started += 1
        return OsgbWorker(self.exe)

    def _give(self, w: OsgbWorker) -> None:
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append(w)
                return
        w.close()

    def idle_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._idle]

    def read(self, path: str | os.PathLike, *, pixels: bool = True,
             timeout: float | None = None) -> RawFile:
        """One file read by a worker (raises LoadError naming ``path``)."""
        path = Path(path)
        name = os.fsencode(os.path.abspath(path))
        if b"\n" in name or b"\r" in name:
            raise LoadError(path, "its name holds a line break", "rename the tile")
        if timeout is None:
            try:
                size = os.stat(path).st_size
            except OSError:
                size = 0
            timeout = min(self.timeout, WORKER_MIN_TIMEOUT + size / WORKER_MIN_RATE)
        line = (b"P " if pixels else b"S ") + name
        for attempt in (0, 1):
            try:
                w = self._take()
            except WorkerUnavailable as exc:
                raise LoadError(path, str(exc), "rebuild it with ./run") from None
            fresh = w.requests == 0
            try:
                status, payload = w.request(line, timeout)
            except WorkerTimeout:
                raise LoadError(path, f"OpenSceneGraph took more than {timeout:g} s to read it",
                                _HINT_REEXPORT) from None
            except WorkerDied as exc:
                w.kill()
                if attempt == 0 and not fresh:
                    continue  # it may have died of an earlier tile: once more, fresh
                raise LoadError(path, f"OpenSceneGraph crashed reading it ({exc})",
                                _HINT_REEXPORT) from None
            except (ValueError, WorkerUnavailable) as exc:
                w.kill()
                raise LoadError(path, str(exc)[:300], _HINT_REEXPORT) from None
            if status != 0:
                # OSG's readers keep state across reads: after a failed one a worker has
                # been seen to loop forever on the next bad file, so it is not reused
                w.close()
                try:
                    msg = _Cursor(payload[1:]).str_()
                except (ValueError, struct.error):
                    msg = "OpenSceneGraph cannot read it"
                raise LoadError(path, msg[:300], _HINT_REEXPORT)
            self._give(w)
            try:
                return decode_reply(payload)
            except ValueError as exc:
                raise LoadError(path, f"the OSGB worker's reply is not understood ({exc})",
                                _HINT_REEXPORT) from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        """End every idle worker (busy ones end when their thread gives them back)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            w.close()


_DEFAULT: WorkerPool | None = None
_DEFAULT_REASON: str | None = None
_DEFAULT_LOCK = threading.Lock()


def default_pool() -> WorkerPool | None:
    """The process-wide pool, or None when the worker is not built (see
    :func:`unavailable_reason`)."""
    global _DEFAULT, _DEFAULT_REASON
    with _DEFAULT_LOCK:
        if _DEFAULT is None and _DEFAULT_REASON is None:
            try:
                _DEFAULT = WorkerPool(find_worker())
            except WorkerUnavailable as exc:
                _DEFAULT_REASON = str(exc)
        return _DEFAULT


def unavailable_reason() -> str | None:
    """Why the default pool is None (None when it is available)."""
    default_pool()
    return _DEFAULT_REASON


def reset_default_pool() -> None:
    global _DEFAULT, _DEFAULT_REASON
    with _DEFAULT_LOCK:
        if _DEFAULT is not None:
            _DEFAULT.close()
        _DEFAULT, _DEFAULT_REASON = None, None


atexit.register(reset_default_pool)


def main(argv: list[str] | None = None) -> int:
    """``python -m loaders.tiles.osgb_worker [--build] [DEST]``: build the worker (./run
    does this at setup); exit 0 when built, 1 with the reason on stderr when not."""
    args = list(sys.argv[1:] if argv is None else argv)
    dest = next((a for a in args if not a.startswith("-")), None)
    try:
        exe = build_worker(dest)
    except WorkerUnavailable as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    sys.stderr.write(f"OSGB worker: {exe}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
