"""A COPC URL that redirects to another host, opened in the real window: the window asks
("... redirects to HOST. Allow?") and opens it only on Yes. Both servers are real HTTP
servers the test starts on 127.0.0.1 (two ports: two hosts)."""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.gui

from tests.viewer.gui_support import LOAD_TIMEOUT_MS  # noqa: E402
from tests.viewer.test_gui_copc import RangeHandler  # noqa: E402

LION = "lion_takanawa.copc.laz"


class Redirect(RangeHandler):
    target = ""
    hits = 0

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        self.send_response(302)
        self.send_header("Location", self.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def two_hosts(tmp_path, shared_data):
    shutil.copy(shared_data / "pointclouds" / LION, tmp_path / LION)
    RangeHandler.sent = 0
    real = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(tmp_path)))
    real_url = f"http://127.0.0.1:{real.server_address[1]}"
    hop_cls = type("Hop", (Redirect,), {"target": real_url, "hits": 0})
    hop = ThreadingHTTPServer(("127.0.0.1", 0), partial(hop_cls, directory=str(tmp_path)))
    for server in (real, hop):
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{hop.server_address[1]}/{LION}", real_url, hop_cls
    for server in (real, hop):
        server.shutdown()
        server.server_close()


def _question(qtbot, window):
    from PySide6 import QtWidgets

    found = []

    def shown():
        box = window.findChild(QtWidgets.QMessageBox, "redirectDialog")
        if box is not None and box.isVisible():
            found.append(box)
            return True
        return False

    qtbot.waitUntil(shown, timeout=LOAD_TIMEOUT_MS)
    return found[0]


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_redirect_to_another_host_asks_first(qtbot, window, two_hosts, answer):
    from PySide6 import QtWidgets

    url, real_url, hop = two_hosts
    window.open_paths([url])
    box = _question(qtbot, window)
    host = real_url.split("//")[1]
    assert box.text() == f"{url} redirects to {host}. Allow?"
    assert window.scene.layers == [] and RangeHandler.sent == 0  # not contacted yet
    assert window.findChild(QtWidgets.QMessageBox, "loadErrorDialog") is None
    if answer == "no":
        box.button(QtWidgets.QMessageBox.No).click()
        qtbot.waitUntil(lambda: not window.jobs, timeout=10_000)
        qtbot.wait(200)
        assert window.scene.layers == [] and RangeHandler.sent == 0
        assert hop.hits == 1
        return
    box.button(QtWidgets.QMessageBox.Yes).click()
    qtbot.waitUntil(lambda: len(window.scene.layers) == 1 and not window.jobs,
                    timeout=LOAD_TIMEOUT_MS)
    layer = window.scene.layers[0]
    assert layer.lod is not None and layer.lod.total_points == 341_989
    assert RangeHandler.sent > 0 and hop.hits > 1
    assert window.findChild(QtWidgets.QMessageBox, "loadErrorDialog") is None


def test_allowed_up_front_opens_without_asking(qtbot, window, two_hosts):
    """``realscene open --allow-redirects URL``: the window follows it without a question."""
    from PySide6 import QtWidgets

    url, _, hop = two_hosts
    window.open_paths([url], allow_redirects=True)
    qtbot.waitUntil(lambda: len(window.scene.layers) == 1 and not window.jobs,
                    timeout=LOAD_TIMEOUT_MS)
    assert window.scene.layers[0].lod.total_points == 341_989 and hop.hits > 1
    assert window.findChild(QtWidgets.QMessageBox, "redirectDialog") is None
