"""COPC over HTTP from servers that cannot be trusted: every server here is a real HTTP
server the test starts on a loopback address (127.0.0.1, 127.0.0.2), misbehaving on
purpose — trickling its answer, sending far more than the range asked for, ignoring
``Range``, redirecting to another host or within its own."""

from __future__ import annotations

import http.server
import re
import shutil
import socket
import subprocess
import threading
import time
import tracemalloc
from functools import partial
from pathlib import Path

import pytest

from loaders import LoadError
from loaders.copc import RedirectRefused, open_copc

LION = "lion_takanawa.copc.laz"
LION_POINTS = 341_989
MiB = 1 << 20


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder with ``Range`` support; subclasses misbehave. ``log`` records
    (path, range header) per request and ``sent`` the body bytes really written."""

    log: list
    sent: list

    def log_message(self, *args):
        pass

    def _range(self, size: int) -> tuple[int, int] | None:
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        if not m:
            return None
        start = int(m.group(1))
        return start, min(int(m.group(2)) if m.group(2) else size - 1, size - 1)

    def do_GET(self):  # noqa: N802
        self.log.append((self.path, self.headers.get("Range")))
        self.serve()

    def serve(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        span = self._range(len(data))
        if span is None:
            self.send_response(200)
            body = data
        else:
            start, end = span
            body = data[start:end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.write(body)

    def write(self, body: bytes) -> None:
        self.wfile.write(body)
        self.sent.append(len(body))

    def flood(self, total: int) -> None:
        """Write ``total`` bytes (the same block again and again), counting what the
        client really took; stops when the client goes away."""
        block = b"\0" * (64 * 1024)
        written = 0
        try:
            while written < total:
                self.wfile.write(block)
                written += len(block)
        except OSError:
            pass
        finally:
            self.sent.append(written)
            self.close_connection = True


def serve_directory(handler, directory: Path, host: str = "127.0.0.1"):
    cls = type("H", (handler,), {"log": [], "sent": []})
    server = http.server.ThreadingHTTPServer((host, 0), partial(cls, directory=str(directory)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}", cls


@pytest.fixture
def folder(tmp_path, shared_data):
    shutil.copy(shared_data / "pointclouds" / LION, tmp_path / LION)
    (tmp_path / "small.bin").write_bytes(b"not a point cloud, and short")
    return tmp_path


@pytest.fixture
def servers():
    started = []

    def start(handler, directory, host="127.0.0.1"):
        server, url, cls = serve_directory(handler, directory, host)
        started.append(server)
        return url, cls

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _in_thread(fn, limit: float):
    """Run ``fn`` in a thread; (result or exception, seconds). Fails if it does not end
    within ``limit`` (a hang), without waiting for it."""
    out: dict = {}

    def run():
        t0 = time.monotonic()
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["value"] = exc
        out["seconds"] = time.monotonic() - t0

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still reading after {limit} s: no deadline"
    return out["value"], out["seconds"]


# --------------------------------------------------------------------------------------
# an overall deadline per request
# --------------------------------------------------------------------------------------


class TrickleBody(Handler):
    """Right headers for the range, then the body one byte every 0.5 s."""

    def serve(self):
        size = (Path(self.directory) / LION).stat().st_size
        start, end = self._range(size)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        try:
            for _ in range(end - start + 1):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass


class TrickleHeaders(Handler):
    """The status line and headers one byte every 0.5 s (each socket read gets a byte in
    time, so a per-read timeout never fires)."""

    def serve(self):
        head = b"HTTP/1.1 206 Partial Content\r\n" + b"X-Slow: " + b"a" * 4000 + b"\r\n"
        try:
            for i in range(len(head)):
                self.wfile.write(head[i:i + 1])
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass


@pytest.mark.parametrize("handler", [TrickleBody, TrickleHeaders])
def test_trickling_server_hits_the_deadline(folder, servers, handler):
    url, _ = servers(handler, folder)
    exc, seconds = _in_thread(lambda: open_copc(f"{url}/{LION}", http_deadline=2.0), 30)
    assert isinstance(exc, LoadError), exc
    assert "2 s deadline" in exc.reason and exc.path == f"{url}/{LION}" and exc.hint
    assert "bytes 0-65535" in exc.reason


def test_deadline_covers_the_whole_request_not_one_read(folder, servers):
    """A normal server well within the deadline still works (the timer is cancelled and
    connections are reused)."""
    url, cls = servers(Handler, folder)
    with open_copc(f"{url}/{LION}", http_deadline=5.0) as src:
        assert src.total_points == LION_POINTS
        kids = src.children(src.root)
        assert sum(src.get(k.key).point_count for k in kids) == sum(k.point_count
                                                                    for k in kids)
        # the server thread records a response after writing it: wait for the last one
        end = time.monotonic() + 10
        while sum(cls.sent) < src.bytes_fetched and time.monotonic() < end:
            time.sleep(0.01)
        assert src.bytes_fetched == sum(cls.sent)


# --------------------------------------------------------------------------------------
# bodies never read beyond the requested range
# --------------------------------------------------------------------------------------

FLOOD = 512 * MiB


class FloodDeclared(Handler):
    """206 with the right Content-Range for the range asked, then a body 512 MiB long,
    announced in Content-Length."""

    def serve(self):
        start, end = self._range(1 << 40)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{1 << 40}")
        self.send_header("Content-Length", str(FLOOD))
        self.end_headers()
        self.flood(FLOOD)


class FloodUndeclared(Handler):
    """206 with the right Content-Range for the range asked but no Content-Length: the
    body (512 MiB) ends when the connection closes."""

    protocol_version = "HTTP/1.0"

    def serve(self):
        start, end = self._range(1 << 40)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{1 << 40}")
        self.end_headers()
        self.flood(FLOOD)


class FloodLater(Handler):
    """Serves the file right until the first node's chunk, then floods that answer."""

    protocol_version = "HTTP/1.0"

    def serve(self):
        if len(self.log) <= 2:  # header + root hierarchy page
            return super().serve()
        size = (Path(self.directory) / LION).stat().st_size
        start, end = self._range(size)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        self.flood(FLOOD)


@pytest.mark.parametrize("handler", [FloodDeclared, FloodUndeclared, FloodLater])
def test_oversized_answer_is_not_read(folder, servers, handler):
    url, cls = servers(handler, folder)
    tracemalloc.start()
    try:
        exc, _ = _in_thread(lambda: open_copc(f"{url}/{LION}"), 120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(exc, LoadError), exc
    assert "asked for" in exc.reason, exc.reason
    # the client stopped at what it asked for: the socket buffers are all the server got
    # rid of (a few MiB), not the 512 MiB it offered; the reader never held more than that
    time.sleep(0.2)
    assert sum(cls.sent) < 64 * MiB, sum(cls.sent)
    assert peak < 16 * MiB, peak


class IgnoreRangeUndeclared(Handler):
    """Ignores Range: 200 and the whole (512 MiB) body without Content-Length."""

    protocol_version = "HTTP/1.0"

    def serve(self):
        self.send_response(200)
        self.end_headers()
        self.flood(FLOOD)


def test_server_ignoring_range(folder, servers):
    url, cls = servers(IgnoreRangeUndeclared, folder)
    tracemalloc.start()
    try:
        exc, _ = _in_thread(lambda: open_copc(f"{url}/{LION}"), 120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(exc, LoadError) and "range requests" in exc.reason, exc
    time.sleep(0.2)
    assert sum(cls.sent) < 64 * MiB and peak < 16 * MiB
    # Python's own handler ignores Range too (200 with Content-Length): refused unread
    url, cls = servers(http.server.SimpleHTTPRequestHandler, folder)
    with pytest.raises(LoadError, match="range requests"):
        open_copc(f"{url}/{LION}")


class IgnoreRangeSmall(Handler):
    """Ignores Range, answers 200 with a small body sent chunked (no Content-Length)."""

    protocol_version = "HTTP/1.1"

    def serve(self):
        body = (Path(self.directory) / "small.bin").read_bytes()
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))


def test_small_resource_asked_whole(folder, servers):
    """A resource smaller than the first read may come whole (200): it is read, and then
    fails as what it is (not a point cloud), not as a range problem."""
    url, _ = servers(IgnoreRangeSmall, folder)
    with pytest.raises(LoadError) as info:
        open_copc(f"{url}/small.bin")
    assert "range" not in info.value.reason


# --------------------------------------------------------------------------------------
# redirects
# --------------------------------------------------------------------------------------


def _redirector(target_base: str, code: int = 302):
    class Redirect(Handler):
        def serve(self):
            if self.path.startswith("/go/"):
                self.send_response(code)
                self.send_header("Location", target_base + self.path[3:])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().serve()

    return Redirect


def _loopback2_available() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("other", ["port", "address"])
def test_redirect_to_another_host(folder, servers, other):
    if other == "address" and not _loopback2_available():
        pytest.skip("127.0.0.2 cannot be bound here")
    host = "127.0.0.1" if other == "port" else "127.0.0.2"
    real_url, real = servers(Handler, folder, host)
    url, hop = servers(_redirector(real_url), folder)
    with pytest.raises(RedirectRefused) as info:
        open_copc(f"{url}/go/{LION}")
    err = info.value
    assert err.host == real_url.split("//")[1] and err.target == f"{real_url}/{LION}"
    assert err.host in err.reason and "--allow-redirects" in err.hint
    assert real.log == []  # the other host was never contacted
    with open_copc(f"{url}/go/{LION}", allow_cross_host_redirects=True) as src:
        assert src.total_points == LION_POINTS
        assert src.get(src.children(src.root)[0].key).point_count > 0
        assert src.bytes_fetched == sum(real.sent)
    assert len(hop.log) == 1 + len(real.log)  # the refused try, then every request


def test_same_host_redirect_is_followed(folder, servers):
    url, cls = servers(_redirector("", 301), folder)  # /go/x -> /x on the same server
    with open_copc(f"{url}/go/{LION}") as src:
        assert src.total_points == LION_POINTS
    assert [p for p, _ in cls.log].count(f"/{LION}") == [p for p, _ in cls.log].count(
        f"/go/{LION}") > 0


def test_redirect_loop_ends(folder, servers):
    url, _ = servers(_redirector("/go"), folder)  # /go/x -> /go/x ...
    with pytest.raises(LoadError, match="more than 10 redirects"):
        open_copc(f"{url}/go/{LION}")


def _tls_server(folder: Path, tmp: Path, handler):
    """An HTTPS server on 127.0.0.1 with a certificate made for the test (or None)."""
    import ssl

    cert, key = tmp / "cert.pem", tmp / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)], capture_output=True)
    if made.returncode:
        return None
    cls = type("H", (handler,), {"log": [], "sent": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(cls, directory=str(folder)))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"https://127.0.0.1:{server.server_address[1]}", cert


def test_https_to_http_downgrade_refused(folder, servers, tmp_path, monkeypatch):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    plain_url, plain = servers(Handler, folder)
    made = _tls_server(folder, tmp_path, _redirector(plain_url))
    if made is None:
        pytest.skip("openssl could not make a test certificate")
    server, url, cert = made
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    try:
        with pytest.raises(LoadError, match="downgrade is refused"):
            open_copc(f"{url}/go/{LION}", allow_cross_host_redirects=True)
        assert plain.log == []
        with open_copc(f"{url}/{LION}") as src:  # the TLS server itself works
            assert src.total_points == LION_POINTS
    finally:
        server.shutdown()
        server.server_close()


def test_cli_allow_redirects(folder, servers, capsys):
    """``realscene info URL`` refuses a redirect to another host with one line naming it;
    ``--allow-redirects`` follows it."""
    from viewer.cli import main

    real_url, _ = servers(Handler, folder)
    url, _ = servers(_redirector(real_url), folder)
    assert main(["info", f"{url}/go/{LION}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "redirects to another host" in err
    assert real_url.split("//")[1] in err and "Traceback" not in err
    assert main(["info", "--json", "--allow-redirects", f"{url}/go/{LION}"]) == 0
    assert "341989" in capsys.readouterr().out.replace(",", "")
