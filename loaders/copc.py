"""COPC (Cloud Optimized Point Cloud) streaming: a :class:`LodSource` over a local file or
an HTTP(S) URL read with range requests.

>>> from loaders.copc import open_copc
>>> src = open_copc("https://example.org/site.copc.laz")   # header, VLRs, root page, root
>>> for node in src.children(src.root): ...
>>> cloud = src.get((1, 0, 0, 1))                           # fetches only that node's chunk

Only what is asked for is read: the public header and VLRs (with the sanity checks of the
LAS reader, :func:`loaders.formats.las.parse_header_stream`), the EVLR headers, the root
hierarchy page, further hierarchy pages when :meth:`CopcSource.node`/``children`` first
reach into them, and the LAZ chunk of each node passed to :meth:`CopcSource.get`.
``bytes_fetched`` and ``request_count`` count the traffic.

Node points are decoded with lazrs (one variable-size LAZ chunk per node) and converted
with the LAS reader's conventions (``rgb`` (N, 3) uint8, ``classification`` uint8,
``intensity``, ``scan_angle`` in degrees, extra dimensions by sanitised name), relative to
``source.origin`` = the rounded centre of the COPC cube. Decoded nodes are kept in an LRU
cache bounded by ``cache_bytes``; the returned clouds are shared, do not modify them.

Thread-safe: ``get`` may be called from a pool of threads (one HTTP session per thread,
``os.pread`` for local files); concurrent requests for the same node decode it once.

Over HTTP(S) the server is not trusted: every request has an overall deadline
(``http_deadline``, connect + headers + body, enforced by shutting the socket down, so a
server trickling a byte at a time cannot hold it), a body is never read beyond the bytes
asked for (a server that sends more, or ignores ``Range`` on a larger file, is an error
stopping one byte past it), and redirects are followed only within the same
scheme, host and port unless ``allow_cross_host_redirects`` (else
:class:`RedirectRefused`, which names the host so that the window can ask); an https URL
never redirects to plain http.

``loaders.read("x.copc.laz")`` still reads the whole file through the LAS reader; this
module is the separate streaming entry point.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from .lod import LodNode, LodSource, NodeTable
from .types import LoadCancelled, LoadError, PointCloud, ProgressFn

Key = tuple[int, int, int, int]

DEFAULT_CACHE_BYTES = 512 * 1024 * 1024
HEAD_PREFETCH = 64 * 1024  # first request: header + VLRs in one go
MIN_META_READ = 16 * 1024  # smallest read for header/VLR/EVLR/page metadata
ENTRY_DTYPE = np.dtype([("d", "<i4"), ("x", "<i4"), ("y", "<i4"), ("z", "<i4"),
                        ("offset", "<u8"), ("byte_size", "<i4"), ("point_count", "<i4")])
MAX_WKT_EVLR = 1 << 20
HTTP_CONNECT_TIMEOUT = 10.0  # seconds to connect
HTTP_READ_TIMEOUT = 60.0  # seconds a single socket read may wait
HTTP_DEADLINE = 120.0  # seconds for a whole request (redirects, connect, headers, body)
MAX_REDIRECTS = 10
BODY_CHUNK = 256 * 1024
NOT_COPC_HINT = ("open it as a normal LAS/LAZ file, or index it once with "
                 "`realscene index FILE` to stream it")
CORRUPT_HINT = "the file may be truncated or corrupt; re-export or re-download it"
RANGE_HINT = ("serve the file from a server that supports HTTP byte ranges (S3, nginx, "
              "Apache, most CDNs), or download it and open the local copy")


def is_url(text: str | os.PathLike) -> bool:
    return str(text).lower().startswith(("http://", "https://"))


# --------------------------------------------------------------------------------------
# byte sources
# --------------------------------------------------------------------------------------


class _Counted:
    name: str
    size: int

    def __init__(self) -> None:
        self._count_lock = threading.Lock()
        self.bytes_fetched = 0
        self.request_count = 0

    def _count(self, n: int) -> None:
        with self._count_lock:
            self.bytes_fetched += n
            self.request_count += 1


class _LocalBytes(_Counted):
    """A local file read with ``os.pread`` (no shared file position: thread-safe)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.name = str(path)
        if not path.exists():
            raise LoadError(path, "file not found", "check the path")
        if path.is_dir():
            raise LoadError(path, "is a folder, not a COPC file")
        try:
            self._fh = open(path, "rb")
        except OSError as exc:
            raise LoadError(path, f"cannot open the file: {exc.strerror or exc}") from None
        self.size = os.fstat(self._fh.fileno()).st_size
        self._lock = threading.Lock()

    def read_at(self, offset: int, size: int) -> bytes:
        size = max(0, min(size, self.size - offset))
        if size == 0:
            return b""
        if hasattr(os, "pread"):
            parts, got = [], 0
            while got < size:
                part = os.pread(self._fh.fileno(), size - got, offset + got)
                if not part:
                    break
                parts.append(part)
                got += len(part)
            data = b"".join(parts)
        else:  # pragma: no cover - Windows
            with self._lock:
                self._fh.seek(offset)
                data = self._fh.read(size)
        self._count(len(data))
        return data

    def close(self) -> None:
        self._fh.close()


class RedirectRefused(LoadError):
    """The URL redirects to another host (scheme, host or port differ) and redirects to
    other hosts were not allowed. ``target`` is the URL it redirects to, ``host`` its
    ``host[:port]``; open again with ``allow_cross_host_redirects=True`` to follow it."""

    def __init__(self, url: str, target: str, host: str) -> None:
        self.target = target
        self.host = host
        super().__init__(url, f"redirects to another host, {host} ({_short(target)}); "
                         "redirects to other hosts are not followed unless allowed",
                         "allow them with --allow-redirects (or answer Yes in the window), "
                         "or open the URL it redirects to")


def _short(text: str, n: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def url_origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port filled in from the scheme."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _host_text(url: str) -> str:
    scheme, host, port = url_origin(url)
    default = {"http": 80, "https": 443}.get(scheme)
    host = f"[{host}]" if ":" in host else host
    return host if port == default else f"{host}:{port}"


class _Deadline:
    """An overall deadline for one HTTP request (redirects, connect, headers and body).

    A timer shuts down the socket of every connection the request uses when the deadline
    passes, so that a server trickling its headers or body (each read returning a byte
    in time for the per-read timeout) cannot keep the request alive; the body loop also
    checks the time between chunks."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds
        self.expired = False
        self._done = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(self.seconds, 0.0), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _ACTIVE.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()
        _ACTIVE.deadline = None

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.end

    def watch(self, conn) -> None:
        with self._lock:
            if self._done:
                return
            self._conns.append(conn)
            expired = self.expired
        if expired:
            _abort(conn)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            conns = list(self._conns)
        for conn in conns:
            _abort(conn)


_ACTIVE = threading.local()  # the deadline of the request this thread is making


def _abort(conn) -> None:
    """Shut the socket of a connection down (wakes a read blocked on it)."""
    import socket

    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:  # the plain socket method: an SSL socket's own shutdown would not wake a reader
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError, ValueError):
        pass


_SESSION_CLASSES: dict[str, Any] = {}


def _new_session():
    """A requests.Session whose connections register with the thread's request deadline."""
    if not _SESSION_CLASSES:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.connection import HTTPConnection, HTTPSConnection
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        class Watched:
            def connect(self):
                _watch(self)
                return super().connect()

            def request(self, *args, **kwargs):
                _watch(self)
                return super().request(*args, **kwargs)

        class WatchedHTTP(Watched, HTTPConnection):
            pass

        class WatchedHTTPS(Watched, HTTPSConnection):
            pass

        class HTTPPool(HTTPConnectionPool):
            ConnectionCls = WatchedHTTP

        class HTTPSPool(HTTPSConnectionPool):
            ConnectionCls = WatchedHTTPS

        pools = {"http": HTTPPool, "https": HTTPSPool}

        class Adapter(HTTPAdapter):
            def init_poolmanager(self, *args, **kwargs):
                super().init_poolmanager(*args, **kwargs)
                self.poolmanager.pool_classes_by_scheme = pools

            def proxy_manager_for(self, proxy, **kwargs):
                manager = super().proxy_manager_for(proxy, **kwargs)
                classes = getattr(manager, "pool_classes_by_scheme", None)
                if classes and classes.get("http") is HTTPConnectionPool:  # not SOCKS
                    manager.pool_classes_by_scheme = pools
                return manager

        _SESSION_CLASSES.update(session=requests.Session, adapter=Adapter)
    session = _SESSION_CLASSES["session"]()
    adapter = _SESSION_CLASSES["adapter"]()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"Accept-Encoding": "identity",
                            "User-Agent": "RealScene COPC reader"})
    return session


def _watch(conn) -> None:
    deadline = getattr(_ACTIVE, "deadline", None)
    if deadline is not None:
        deadline.watch(conn)


class HttpBytes(_Counted):
    """An HTTP(S) resource read with ``Range`` requests, one requests.Session per thread.

    The first request (``bytes=0-65535``) checks that the server answers ranges with
    ``206 Partial Content`` and learns the file size from ``Content-Range``; a resource
    no larger than that first read may come whole with ``200``.

    Limits (the server is not trusted): each request, redirects included, has an overall
    ``deadline`` in seconds (connect, headers and body); a body is never read beyond the
    requested length (a server that announces or sends more, or ignores ``Range``, is an
    error); redirects are followed only to the same scheme, host and port (an upgrade from
    http to https on the same host name too), to other hosts only with
    ``allow_cross_host_redirects`` (else :class:`RedirectRefused`), never from https to
    http. Redirects are followed again on every request (nothing is cached), so a
    temporary redirect stays temporary.
    """

    def __init__(self, url: str, *, allow_cross_host_redirects: bool = False,
                 deadline: float = HTTP_DEADLINE) -> None:
        super().__init__()
        import requests  # noqa: F401  (fail early with a clear message if missing)

        self.name = url
        self.allow_cross_host_redirects = bool(allow_cross_host_redirects)
        self.deadline = float(deadline)
        self._local = threading.local()
        self._sessions: list[Any] = []
        self._sessions_lock = threading.Lock()
        self._whole: bytes | None = None
        self.size = 0
        self.head = self._fetch(0, HEAD_PREFETCH, first=True)

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = _new_session()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def read_at(self, offset: int, size: int) -> bytes:
        size = max(0, min(size, self.size - offset))
        if size == 0:
            return b""
        if self._whole is not None:  # a small resource that came whole
            return self._whole[offset: offset + size]
        return self._fetch(offset, size)

    def _fetch(self, offset: int, size: int, first: bool = False) -> bytes:
        from http.client import HTTPException

        import requests
        import urllib3

        end = offset + size - 1
        url = self.name
        deadline = _Deadline(self.deadline)
        resp = None
        try:
            with deadline:
                resp = self._open(url, offset, end, deadline)
                return self._take(resp, offset, size, first, deadline)
        except requests.exceptions.RequestException as exc:
            if deadline.expired:
                raise self._too_slow(offset, end) from None
            text = _short(f"{type(exc).__name__}: {exc}")
            if resp is None:
                raise LoadError(url, f"network error: {text}",
                                "check the URL and your connection") from None
            raise LoadError(url, f"network error while reading bytes {offset}-{end}: "
                            f"{text}", "try again") from None
        except (OSError, HTTPException, urllib3.exceptions.HTTPError) as exc:
            # raw body reads raise urllib3's and http.client's errors, not requests'
            if deadline.expired:
                raise self._too_slow(offset, end) from None
            raise LoadError(url, f"network error while reading bytes {offset}-{end}: "
                            f"{_short(exc)}", "try again") from None
        finally:
            if resp is not None:
                resp.close()

    def _too_slow(self, offset: int, end: int) -> LoadError:
        return LoadError(self.name, f"the server did not answer bytes {offset}-{end} within "
                         f"the {self.deadline:g} s deadline of a request",
                         "the server is too slow or stalled; try again later")

    def _open(self, url: str, offset: int, end: int, deadline: _Deadline):
        """GET with the range, following redirects by the rules in the class docstring."""
        session = self._session()
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if deadline.passed():
                raise self._too_slow(offset, end)
            remaining = max(deadline.remaining(), 0.001)
            resp = session.get(current, headers={"Range": f"bytes={offset}-{end}"},
                               timeout=(min(HTTP_CONNECT_TIMEOUT, remaining),
                                        min(HTTP_READ_TIMEOUT, remaining)),
                               stream=True, allow_redirects=False)
            target = session.get_redirect_target(resp)
            if not target or not resp.is_redirect:
                return resp
            resp.close()
            from urllib.parse import urljoin

            target = urljoin(current, target)
            src, dst = url_origin(current), url_origin(target)
            if dst[0] not in ("http", "https"):
                raise LoadError(url, f"redirects to {_short(target)}, which is not an "
                                "http(s) URL", "open an http(s) URL")
            if src[0] == "https" and dst[0] == "http":
                raise LoadError(url, f"redirects from https to plain http "
                                f"({_short(target)}); that downgrade is refused",
                                "ask the server's owner to serve it over https")
            same = src == dst or (src[:2] == dst[:2] and src[0] == "http"
                                  and dst[0] == "https")
            if not same and not self.allow_cross_host_redirects:
                raise RedirectRefused(url, target, _host_text(target))
            current = target
        raise LoadError(url, f"more than {MAX_REDIRECTS} redirects", "check the URL")

    def _take(self, resp, offset: int, size: int, first: bool, deadline: _Deadline) -> bytes:
        """The body of a range answer, checked and read to at most ``size`` bytes."""
        url = self.name
        end = offset + size - 1
        status = resp.status_code
        if status == 200:
            declared = _content_length(resp)
            if not first or (declared is not None and declared > size):
                raise LoadError(url, "the server does not support HTTP range requests "
                                "(it answered 200 with the whole file instead of 206 "
                                "Partial Content)", RANGE_HINT)
            data = self._body(resp, size, deadline, offset, end, whole=True)
            self._count(len(data))
            self.size = len(data)  # a resource smaller than the first read: fine
            self._whole = data
            return data
        if status == 416:
            raise LoadError(url, f"the server refused byte range {offset}-{end} (HTTP 416): "
                            "the file is shorter than its header says", CORRUPT_HINT)
        if status != 206:
            reason = resp.reason or ""
            hint = ("check the URL" if status in (404, 410) else
                    "check access rights to the URL" if status in (401, 403) else
                    "the server failed; try again later")
            raise LoadError(url, f"HTTP {status} {reason}".strip(), hint)
        crange = resp.headers.get("Content-Range", "")
        start, stop, total = _parse_content_range(crange)
        want_stop = end if first else min(end, self.size - 1)
        if start is None or start != offset or stop is None or stop > end \
                or (not first and stop != want_stop):
            raise LoadError(url, f"the server answered range {offset}-{end} with "
                            f"Content-Range {crange!r}", RANGE_HINT)
        if first:
            if total is None:
                raise LoadError(url, "the server does not say how large the file is "
                                f"(Content-Range {crange!r})", RANGE_HINT)
            if stop != min(end, total - 1):
                raise LoadError(url, f"the server answered range {offset}-{end} with "
                                f"Content-Range {crange!r}", RANGE_HINT)
        elif total is not None and total != self.size:
            raise LoadError(url, f"the file changed on the server ({self.size:,} bytes when "
                            f"opened, now {total:,})", "open it again")
        expected = stop - offset + 1
        data = self._body(resp, expected, deadline, offset, end)
        self._count(len(data))
        if first:
            self.size = total
        if len(data) != expected:
            raise LoadError(url, f"short read: asked for {expected:,} bytes at {offset:,}, "
                            f"got {len(data):,}", "the connection broke or the file changed "
                            "on the server; try again")
        return data

    def _body(self, resp, limit: int, deadline: _Deadline, offset: int, end: int,
              whole: bool = False) -> bytes:
        """Read the body: at most ``limit`` bytes (one more to see whether the server sends
        too much), within the deadline, never decoded (no decompression bombs)."""
        url = self.name
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise LoadError(url, f"the server compressed the answer (Content-Encoding "
                            f"{_short(encoding, 40)}), which byte ranges cannot use",
                            RANGE_HINT)
        declared = _content_length(resp)
        what = "the whole file" if whole else f"bytes {offset}-{end}"
        if declared is not None and declared > limit:
            raise LoadError(url, f"the server announced {declared:,} bytes for {what}, "
                            f"more than the {limit:,} asked for; not read", RANGE_HINT)
        raw = resp.raw
        buf = bytearray()
        while len(buf) <= limit:
            if deadline.passed():
                raise self._too_slow(offset, end)
            chunk = raw.read1(min(BODY_CHUNK, limit + 1 - len(buf)), decode_content=False)
            if not chunk:
                break
            buf += chunk
        if deadline.expired:  # the socket was shut down under the read
            raise self._too_slow(offset, end)
        if len(buf) > limit:
            if whole:
                raise LoadError(url, "the server does not support HTTP range requests (it "
                                "answered 200 with the whole file instead of 206 Partial "
                                "Content)", RANGE_HINT)
            raise LoadError(url, f"the server sent more than the {limit:,} bytes asked for "
                            f"({what}); stopped reading", RANGE_HINT)
        return bytes(buf)

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


def _content_length(resp) -> int | None:
    value = resp.headers.get("Content-Length")
    if value is None:
        return None
    try:
        n = int(value.split(",")[0].strip())
    except ValueError:
        return None
    return n if n >= 0 else None


def _parse_content_range(text: str) -> tuple[int | None, int | None, int | None]:
    """``bytes 0-99/1234`` -> (0, 99, 1234); total None when ``*``."""
    try:
        unit, rest = text.strip().split(" ", 1)
        span, total = rest.split("/", 1)
        a, b = span.split("-", 1)
        if unit != "bytes":
            return None, None, None
        return int(a), int(b), None if total.strip() == "*" else int(total)
    except (ValueError, AttributeError):
        return None, None, None


class _MetaView:
    """A read-only file object over a byte source for metadata (header, VLRs, EVLR
    headers): reads are served from cached segments, a miss fetches at least
    ``MIN_META_READ`` bytes."""

    def __init__(self, src, segments: list[tuple[int, bytes]] | None = None) -> None:
        self._src = src
        self._segments = list(segments or [])
        self._pos = 0

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 1:
            pos += self._pos
        elif whence == 2:
            pos += self._src.size
        self._pos = max(0, pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._src.size - self._pos
        n = max(0, min(n, self._src.size - self._pos))
        if n == 0:
            return b""
        for start, data in self._segments:
            if start <= self._pos and self._pos + n <= start + len(data):
                out = data[self._pos - start: self._pos - start + n]
                self._pos += n
                return out
        want = max(n, MIN_META_READ)
        data = self._src.read_at(self._pos, want)
        self._segments.append((self._pos, data))
        out = data[:n]
        self._pos += len(out)
        return out


# --------------------------------------------------------------------------------------
# the source
# --------------------------------------------------------------------------------------


@dataclass
class _Entry:
    offset: int
    byte_size: int
    point_count: int


class CopcSource(LodSource):
    """A COPC file as a level-of-detail source. Create it with :func:`open_copc`."""

    root: Key = (0, 0, 0, 0)

    def __init__(self, src, *, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 progress: ProgressFn | None = None) -> None:
        report = progress or (lambda f, m: None)
        self._src = src
        self.name = src.name
        self.cache_bytes = int(cache_bytes)
        self._hlock = threading.RLock()  # hierarchy
        self._clock = threading.Lock()  # node cache
        self._cache: OrderedDict[Key, tuple[PointCloud, int]] = OrderedDict()
        self._cached_bytes = 0
        self._inflight: dict[Key, threading.Event] = {}
        self._entries: dict[Key, _Entry] = {}
        self._pending_pages: dict[Key, tuple[int, int]] = {}
        self._nodes: dict[Key, LodNode] = {}
        self._table: NodeTable | None = None
        self._plan_lock = threading.Lock()
        self._rgb16: bool | None = None
        self._optional: list[str] | None = None
        self.attribute_names: list[str] = []
        self._closed = False
        try:
            report(0.1, "Reading the COPC header")
            self._open_header()
            report(0.4, "Reading the COPC hierarchy")
            self._load_page(self.copc_info["hierarchy_root_offset"],
                            self.copc_info["hierarchy_root_size"])
            if self.root not in self._entries:
                raise LoadError(self.name, "invalid COPC: the root hierarchy page has no "
                                "entry for the root node", CORRUPT_HINT)
            report(0.6, "Reading the top level")
            root_cloud = self.get(self.root)
            self.attribute_names = list(root_cloud.attributes)
            self.metadata["rgb_16bit"] = bool(self._rgb16)
            self.metadata["extra_dimensions"] = [
                k for k in self.attribute_names if k not in _las()._RESERVED]
            report(1.0, "COPC ready")
        except BaseException:
            self.close()
            raise

    # ---- opening ----------------------------------------------------------------------

    def _open_header(self) -> None:
        las = _las()
        import laspy

        src = self._src
        segments = [(0, src.head)] if getattr(src, "head", None) else []
        view = _MetaView(src, segments)
        info = las.parse_header_stream(view, src.size, self.name)
        self._info = info
        if not info.copc:
            raise LoadError(self.name, "not a COPC file: it has no COPC info record "
                            f"(a plain {'LAZ' if info.compressed else 'LAS'} file)",
                            NOT_COPC_HINT)
        if info.version != (1, 4) or info.point_format not in (6, 7, 8) \
                or not info.compressed:
            raise LoadError(self.name, f"invalid COPC: LAS {info.version[0]}."
                            f"{info.version[1]}, point format {info.point_format}"
                            f"{'' if info.compressed else ', uncompressed'} (COPC needs "
                            "compressed LAS 1.4 with point format 6, 7 or 8)", CORRUPT_HINT)
        view.seek(0)
        try:
            header = laspy.LasHeader.read_from(view)
        except (LoadError, LoadCancelled):
            raise
        except BaseException as exc:
            las.reraise_fatal(exc)
            raise las.as_load_error(self.name, info, exc, "header") from None
        self.header = header
        vlrs = list(header.vlrs)
        if not vlrs or type(vlrs[0]).__name__ != "CopcInfoVlr":
            raise LoadError(self.name, "invalid COPC: the COPC info record is not the first "
                            "VLR", CORRUPT_HINT)
        laz = [v for v in vlrs if type(v).__name__ == "LasZipVlr"]
        if not laz:
            raise LoadError(self.name, "invalid COPC: no laszip record", CORRUPT_HINT)
        self._laszip_data = bytes(laz[0].record_data)
        if info.laszip and info.laszip["chunk_size"] != 0xFFFFFFFF:
            raise LoadError(self.name, "invalid COPC: the LAZ data does not use "
                            "variable-size chunks", CORRUPT_HINT)
        copc = las.copc_info(header)
        self.copc_info = copc
        root_off, root_size = copc["hierarchy_root_offset"], copc["hierarchy_root_size"]
        if not (0 < root_off and root_off + root_size <= src.size) or root_size % 32 \
                or root_size == 0 or copc["halfsize"] <= 0 \
                or not np.all(np.isfinite(copc["center"])):
            raise LoadError(self.name, f"invalid COPC info record (hierarchy at byte "
                            f"{root_off:,}, {root_size:,} bytes; halfsize "
                            f"{copc['halfsize']}) for a {src.size:,}-byte file", CORRUPT_HINT)
        self._fmt = header.point_format
        self._record_len = info.record_length
        if self._fmt.size != info.record_length:
            raise LoadError(self.name, f"invalid COPC: point records of {info.record_length} "
                            f"bytes do not match point format {info.point_format} with "
                            f"{self._fmt.num_extra_bytes} extra bytes", CORRUPT_HINT)
        self._scales = np.asarray(header.scales, np.float64)
        self._offsets = np.asarray(header.offsets, np.float64)
        self._center = np.asarray(copc["center"], np.float64)
        self._halfsize = float(copc["halfsize"])
        self.origin = np.round(self._center)
        self._cube_lo = self._center - self._halfsize - self.origin

        # CRS: VLRs plus any WKT EVLR (fetched only if present and small)
        evlrs = []
        for user, rid, off, length in info.evlrs:
            if user in ("LASF_Projection", "liblas") and rid == 2112 \
                    and length <= MAX_WKT_EVLR:
                evlrs.append(laspy.VLR(user, rid, "", src.read_at(off, length)))
        proxy = SimpleNamespace(vlrs=vlrs, evlrs=evlrs, global_encoding=header.global_encoding)
        from .crs import crs_from_las_header

        self.crs, crs_source, crs_warnings = crs_from_las_header(proxy)
        self.total_points = int(info.point_count)
        self.metadata: dict[str, Any] = {
            "format": "COPC",
            "version": "1.4",
            "source": self.name,
            "streaming": True,
            "url": self.name if is_url(self.name) else None,
            "file_size": int(src.size),
            "point_format": info.point_format,
            "point_record_length": info.record_length,
            "header_point_count": int(info.point_count),
            "compressed": True,
            "scale": self._scales.tolist(),
            "offset": self._offsets.tolist(),
            "bounds_min": [float(v) for v in header.mins],
            "bounds_max": [float(v) for v in header.maxs],
            "generating_software": info.generating_software,
            "system_identifier": info.system_identifier,
            "global_encoding": info.global_encoding,
            "crs_source": crs_source,
            "copc": copc,
            "scan_angle_unit": "degree",
            "warnings": list(info.warnings) + list(crs_warnings),
        }
        if info.laszip:
            self.metadata["laszip_version"] = info.laszip["version"]

    # ---- hierarchy --------------------------------------------------------------------

    def _load_page(self, offset: int, size: int) -> None:
        if offset + size > self._src.size or size % ENTRY_DTYPE.itemsize:
            raise LoadError(self.name, f"invalid COPC: hierarchy page at byte {offset:,} "
                            f"({size:,} bytes) lies outside the {self._src.size:,}-byte file",
                            CORRUPT_HINT)
        data = self._src.read_at(offset, size)
        if len(data) != size:
            raise LoadError(self.name, "file is truncated: a hierarchy page is cut off",
                            CORRUPT_HINT)
        entries = np.frombuffer(data, ENTRY_DTYPE)
        end_points = self._info.start_of_evlrs or self._src.size
        for e in entries:
            key = (int(e["d"]), int(e["x"]), int(e["y"]), int(e["z"]))
            n, off, nbytes = int(e["point_count"]), int(e["offset"]), int(e["byte_size"])
            d = key[0]
            if d < 0 or d > 30 or min(key[1:]) < 0 or max(key[1:]) >= (1 << d):
                raise LoadError(self.name, f"invalid COPC: hierarchy entry with key {key}",
                                CORRUPT_HINT)
            if n == -1:
                if key not in self._entries:
                    if nbytes <= 0 or off + nbytes > self._src.size:
                        raise LoadError(self.name, f"invalid COPC: hierarchy page of node "
                                        f"{key} lies outside the file", CORRUPT_HINT)
                    self._pending_pages[key] = (off, nbytes)
                continue
            if n < -1 or (n > 0 and (nbytes <= 0 or off < self._info.offset_to_points
                                     or off + nbytes > max(end_points, off + 1)
                                     or off + nbytes > self._src.size)):
                raise LoadError(self.name, f"invalid COPC: node {key} ({n:,} points, "
                                f"{nbytes:,} bytes at {off:,}) lies outside the point data",
                                CORRUPT_HINT)
            self._entries[key] = _Entry(off, nbytes, n)
            self._pending_pages.pop(key, None)

    def _entry(self, key: Key) -> _Entry:
        key = tuple(int(v) for v in key)  # type: ignore[assignment]
        with self._hlock:
            entry = self._entries.get(key)
            if entry is not None:
                return entry
            page = self._pending_pages.get(key)
            if page is None:
                raise KeyError(key)
            self._load_page(*page)
            self._pending_pages.pop(key, None)
            entry = self._entries.get(key)
            if entry is None:
                raise LoadError(self.name, f"invalid COPC: the hierarchy page of node {key} "
                                "does not list that node", CORRUPT_HINT)
            return entry

    def _exists(self, key: Key) -> bool:
        return key in self._entries or key in self._pending_pages

    def node_bounds(self, key: Key) -> tuple[np.ndarray, np.ndarray]:
        d, x, y, z = key
        step = 2.0 * self._halfsize / (1 << d)
        lo = self._cube_lo + step * np.array([x, y, z], np.float64)
        return lo, lo + step

    def node(self, key: Key) -> LodNode:
        """The node ``key`` (loads its hierarchy page if needed). KeyError if absent."""
        key = tuple(int(v) for v in key)  # type: ignore[assignment]
        with self._hlock:
            cached = self._nodes.get(key)
            if cached is not None:
                return cached
            entry = self._entry(key)
            lo, hi = self.node_bounds(key)
            d, x, y, z = key
            kids = [(d + 1, 2 * x + i, 2 * y + j, 2 * z + k)
                    for i in (0, 1) for j in (0, 1) for k in (0, 1)]
            node = LodNode(key=key, lo=lo, hi=hi, point_count=entry.point_count,
                           children=[c for c in kids if self._exists(c)])
            self._nodes[key] = node
            return node

    def children(self, key: Key) -> list[LodNode]:
        return [self.node(c) for c in self.node(key).children]

    def known_nodes(self) -> list[Key]:
        """Keys of every node whose hierarchy page has been read so far."""
        with self._hlock:
            return list(self._entries)

    def all_nodes(self) -> list[LodNode]:
        """Every node, reading all hierarchy pages (breadth first)."""
        out, queue = [], [self.root]
        while queue:
            node = self.node(queue.pop(0))
            out.append(node)
            queue.extend(node.children)
        return out

    # ---- points -----------------------------------------------------------------------

    def is_resident(self, key: Key) -> bool:
        with self._clock:
            return tuple(key) in self._cache

    def get(self, key: Key) -> PointCloud:
        """The points of node ``key`` (thread-safe; fetches and decodes on a cache miss)."""
        key = tuple(int(v) for v in key)  # type: ignore[assignment]
        while True:
            with self._clock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit[0]
                event = self._inflight.get(key)
                if event is None:
                    event = self._inflight[key] = threading.Event()
                    break
            event.wait()  # another thread decodes it; then take it from the cache
            with self._clock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit[0]
            # that thread failed, or it was evicted already: decode it ourselves
        try:
            if self._closed:
                raise LoadError(self.name, "the COPC source is closed")
            try:
                entry = self._entry(key)
            except KeyError:
                raise LoadError(self.name, f"COPC node {key} does not exist") from None
            cloud = self._decode(key, entry)
            nbytes = sum(a.nbytes for a in cloud.attributes.values()) + cloud.positions.nbytes
            with self._clock:
                self._cache[key] = (cloud, nbytes)
                self._cached_bytes += nbytes
                while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
                    _, (_, size) = self._cache.popitem(last=False)
                    self._cached_bytes -= size
            return cloud
        finally:
            with self._clock:
                self._inflight.pop(key, None)
            event.set()

    def _decode(self, key: Key, entry: _Entry) -> PointCloud:
        import lazrs
        from laspy import PackedPointRecord, ScaleAwarePointRecord

        las = _las()
        n = entry.point_count
        if n <= 0:
            return self._to_cloud(key, None, 0)
        data = self._src.read_at(entry.offset, entry.byte_size)
        if len(data) != entry.byte_size:
            raise LoadError(self.name, f"file is truncated: node {key} is cut off",
                            CORRUPT_HINT)
        buf = np.zeros(n * self._record_len, np.uint8)
        try:
            lazrs.decompress_points_with_chunk_table(
                data, self._laszip_data, buf, [(n, entry.byte_size)])
        except BaseException as exc:  # lazrs may panic (a BaseException)
            las.reraise_fatal(exc)
            text = " ".join(str(exc).split())[:200]
            raise LoadError(self.name, f"cannot decompress COPC node {key}: "
                            f"{type(exc).__name__}: {text}", CORRUPT_HINT) from None
        packed = PackedPointRecord.from_buffer(buf, self._fmt)
        record = ScaleAwarePointRecord(packed.array, self._fmt, self._scales, self._offsets)
        return self._to_cloud(key, record, n)

    def _to_cloud(self, key: Key, record, n: int) -> PointCloud:
        las = _las()
        fmt = self._fmt
        dims = set(fmt.dimension_names)
        std, scan_field, scan_factor, optional = las.point_layout(dims, self._info.point_format)
        if record is None:
            from laspy import ScaleAwarePointRecord

            record = ScaleAwarePointRecord.zeros(0, point_format=fmt, scales=self._scales,
                                                 offsets=self._offsets)
        ixyz = np.stack([np.asarray(record.X), np.asarray(record.Y), np.asarray(record.Z)],
                        axis=1).astype(np.float64)
        positions = (ixyz * self._scales + (self._offsets - self.origin)).astype(np.float32)
        with self._plan_lock:
            if self._rgb16 is None and n:  # fixed by the first node decoded (the root)
                self._rgb16 = "red" in dims and bool(
                    max(int(np.max(record[c])) for c in ("red", "green", "blue")) > 255)
                self._optional = [name for name in optional
                                  if np.asarray(record[name]).any()]
            rgb16, keep_optional = bool(self._rgb16), list(self._optional or [])
        attributes: dict[str, np.ndarray] = {}
        if "red" in dims:
            rgb = np.stack([np.asarray(record[c]) for c in ("red", "green", "blue")], axis=1)
            attributes["rgb"] = (rgb >> 8).astype(np.uint8) if rgb16 \
                else np.minimum(rgb, 255).astype(np.uint8)
        for name, dt in std:
            attributes[name] = np.asarray(record[name]).astype(dt)
        attributes["scan_angle"] = (np.asarray(record[scan_field]) * scan_factor).astype(
            np.float32)
        for name in keep_optional:
            attributes[name] = np.asarray(record[name]).astype(np.uint8)
        extra = [(name, np.array(record[name])) for name in fmt.extra_dimension_names]
        attributes.update(las.name_extra_dimensions(extra, self._info.extra_bytes_vlrs,
                                                    set(attributes)))
        meta = {"format": "COPC", "source": self.name, "node": list(key)}
        return PointCloud(positions=positions, origin=self.origin.copy(),
                          attributes=attributes, crs=self.crs, metadata=meta)

    def preview(self, max_points: int = 200_000) -> PointCloud:
        """The top levels of the octree as one cloud: whole levels while they fit in
        ``max_points`` (the root always; subsampled if it alone is larger)."""
        keys = [self.root]
        level = [self.node(self.root)]
        total = level[0].point_count
        while True:
            nxt = [c for node in level for c in self.children(node.key)]
            count = sum(c.point_count for c in nxt)
            if not nxt or total + count > max_points:
                break
            keys.extend(c.key for c in nxt)
            total += count
            level = nxt
        clouds = [self.get(k) for k in keys]
        cloud = concat_clouds(clouds, self.origin, self.crs)
        if cloud.point_count > max_points:
            pick = np.sort(np.random.default_rng(0).choice(cloud.point_count, max_points,
                                                           replace=False))
            cloud = PointCloud(cloud.positions[pick], cloud.origin,
                               {k: v[pick] for k, v in cloud.attributes.items()}, cloud.crs)
        meta = dict(self.metadata)
        meta["warnings"] = list(self.metadata.get("warnings", []))
        meta["preview_nodes"] = len(keys)
        meta["preview_levels"] = max(k[0] for k in keys) + 1
        cloud.metadata = meta
        return cloud

    # ---- bookkeeping ------------------------------------------------------------------

    @property
    def bytes_fetched(self) -> int:
        return self._src.bytes_fetched

    @property
    def request_count(self) -> int:
        return self._src.request_count

    @property
    def file_size(self) -> int:
        return self._src.size

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Tight (lo, hi) *local* bounds of the points (from the header), float64."""
        return (np.asarray(self.metadata["bounds_min"], np.float64) - self.origin,
                np.asarray(self.metadata["bounds_max"], np.float64) - self.origin)

    def node_table(self) -> NodeTable | None:
        """Every node as flat arrays once all hierarchy pages are read, else None (then
        walk ``node``/``children``, which read the pages they reach)."""
        with self._hlock:
            if self._pending_pages:
                return None
            if self._table is None or len(self._table.keys) != len(self._entries):
                keys = [n.key for n in self.all_nodes()]
                row = {k: i for i, k in enumerate(keys)}
                nodes = [self._nodes[k] for k in keys]
                self._table = NodeTable(
                    keys=keys,
                    lo=np.array([n.lo for n in nodes], np.float64).reshape(-1, 3),
                    hi=np.array([n.hi for n in nodes], np.float64).reshape(-1, 3),
                    counts=np.array([n.point_count for n in nodes], np.int64),
                    children=[[row[c] for c in n.children] for n in nodes])
            return self._table

    def close(self) -> None:
        self._closed = True
        with self._clock:
            self._cache.clear()
            self._cached_bytes = 0
        src = getattr(self, "_src", None)
        if src is not None:
            src.close()

    def __enter__(self) -> CopcSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<CopcSource {self.name!r}: {self.total_points:,} points, "
                f"{len(self._entries)} nodes known>")


def concat_clouds(clouds: list[PointCloud], origin: np.ndarray, crs: Any = None) -> PointCloud:
    """Concatenate node clouds that share ``origin`` and attribute names."""
    if not clouds:
        return PointCloud(np.zeros((0, 3), np.float32), np.asarray(origin, np.float64),
                          crs=crs)
    names = list(clouds[0].attributes)
    return PointCloud(
        positions=np.concatenate([c.positions for c in clouds]),
        origin=np.asarray(origin, np.float64).copy(),
        attributes={k: np.concatenate([c.attributes[k] for c in clouds]) for k in names},
        crs=crs)


def _las():
    from .formats import las

    return las


def open_copc(path_or_url: str | os.PathLike, *, cache_bytes: int = DEFAULT_CACHE_BYTES,
              progress: ProgressFn | None = None, allow_cross_host_redirects: bool = False,
              http_deadline: float = HTTP_DEADLINE) -> CopcSource:
    """Open a COPC file (local path or http(s) URL) for streaming.

    Reads the header, VLRs, root hierarchy page and the root node. Usable from a worker
    thread: ``progress(fraction, message)`` may raise :class:`LoadCancelled`.

    Over HTTP(S) every request has an overall deadline of ``http_deadline`` seconds, never
    reads more than the bytes it asked for, and follows redirects only within the same
    host unless ``allow_cross_host_redirects`` (else :class:`RedirectRefused`, a
    :class:`LoadError` naming the host); see :class:`HttpBytes`.

    Raises
    ------
    LoadError
        Missing file, HTTP error (404...), a server without range support, one that is
        too slow (deadline) or sends more than asked, a redirect to another host
        (:class:`RedirectRefused`), a LAS/LAZ that is not COPC, or a truncated/invalid COPC.
    """
    text = str(path_or_url)
    report = progress or (lambda f, m: None)
    report(0.0, f"Opening {text}")
    if is_url(text):
        src = HttpBytes(text, allow_cross_host_redirects=allow_cross_host_redirects,
                         deadline=http_deadline)
    else:
        src = _LocalBytes(Path(text))
    try:
        return CopcSource(src, cache_bytes=cache_bytes, progress=progress)
    except BaseException as exc:
        src.close()
        if isinstance(exc, (LoadError, LoadCancelled, KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(exc, Exception):
            raise LoadError(text, f"cannot read COPC: {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:200]}", CORRUPT_HINT) from None
        raise LoadError(text, f"cannot read COPC: {type(exc).__name__}",
                        CORRUPT_HINT) from None


def is_copc(path: str | os.PathLike) -> bool:
    """True when a local file is a COPC file (cheap: reads its header and VLRs)."""
    try:
        return bool(_las().parse_header(Path(path)).copc)
    except (LoadError, OSError):
        return False


__all__ = ["CopcSource", "RedirectRefused", "concat_clouds", "is_copc", "is_url",
           "open_copc", "DEFAULT_CACHE_BYTES", "HTTP_DEADLINE"]
