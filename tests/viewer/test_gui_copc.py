"""COPC in the real window: stream a local COPC, stream one over HTTP from a server the
test starts on 127.0.0.1, and index a LAZ so that it then opens by streaming."""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from tests.viewer.gui_support import (  # noqa: E402
    LOAD_TIMEOUT_MS,
    background_u8,
    non_background_fraction,
    open_and_wait,
    view_image,
)


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with HTTP Range support (206 Partial Content), counting bytes sent."""

    sent = 0

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):  # noqa: N802
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        size = path.stat().st_size
        header = self.headers.get("Range")
        start, end = 0, size - 1
        if header and header.startswith("bytes="):
            a, _, b = header[6:].partition("-")
            start = int(a) if a else size - int(b)
            end = int(b) if a and b else size - 1
            end = min(end, size - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read(end - start + 1)
        type(self).sent += len(data)
        self.wfile.write(data)


@pytest.fixture
def http_dir(tmp_path):
    RangeHandler.sent = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(RangeHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_local_copc_streams_through_its_hierarchy(qtbot, window, shared_data):
    path = shared_data / "pointclouds" / "lion_takanawa.copc.laz"
    open_and_wait(qtbot, window, path)
    layer = window.scene.layers[0]
    assert layer.lod is not None and layer.lod.metadata["format"] == "COPC"
    assert layer.lod.total_points == 341_989
    item = window.layer_panel.tree.topLevelItem(0)
    assert item.text(1) == "points (COPC)" and item.text(2) == "341,989"
    assert non_background_fraction(view_image(window), background_u8(window)) > 0.02


def test_copc_streams_over_http_in_the_window(qtbot, window, shared_data, http_dir):
    folder, base = http_dir
    src = shared_data / "pointclouds" / "lion_takanawa.copc.laz"
    shutil.copy(src, folder / "lion.copc.laz")
    url = f"{base}/lion.copc.laz"
    open_and_wait(qtbot, window, url)
    layer = window.scene.layers[0]
    assert layer.name == "lion.copc.laz"
    assert layer.lod.total_points == 341_989
    # draw with a small budget: only some nodes are fetched, never the whole file
    window.set_point_budget(60_000)
    qtbot.waitUntil(lambda: window.renderer.drawn_points > 0, timeout=LOAD_TIMEOUT_MS)
    img = view_image(window)
    assert non_background_fraction(img, background_u8(window)) > 0.02
    assert 0 < RangeHandler.sent < src.stat().st_size * 0.7
    assert window.renderer.drawn_points <= 60_000 + 50_000  # whole nodes


def test_index_to_copc_then_open_streams(qtbot, window, shared_data, tmp_path):
    laz = tmp_path / "ahn3.laz"
    shutil.copy(shared_data / "pointclouds" / "ahn3_cropped_2.laz", laz)
    with qtbot.waitSignal(window.indexed, timeout=LOAD_TIMEOUT_MS) as blocker:
        window.index_file(str(laz))
    out = Path(blocker.args[0])
    assert out == tmp_path / "ahn3.copc.laz" and out.is_file()
    qtbot.waitUntil(lambda: not window.jobs, timeout=10_000)
    # opening the original LAZ now streams its COPC index
    open_and_wait(qtbot, window, laz)
    layer = window.scene.layers[0]
    assert layer.lod.metadata["format"] == "COPC" and layer.lod.total_points == 208_432
    lo, hi = layer.lod.bounds
    true_lo = np.asarray(lo) + layer.lod.origin
    assert 84_999 < true_lo[0] < 85_001 and 447_412 < true_lo[1] < 447_414
