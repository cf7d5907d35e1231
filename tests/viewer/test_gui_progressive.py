"""Progressive loading in the real main window (Xvfb): preview layer first, then the full
cloud; cancel mid-load leaves a usable window.

The worker is held at the moment it emitted its preview (a direct-connected slot waits on
an event in the worker thread) so that the in-between state is observed deterministically.
"""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore  # noqa: E402

from benchmarks import synthetic  # noqa: E402
from tests.viewer.gui_support import LOAD_TIMEOUT_MS, open_and_wait  # noqa: E402

N = 600_000


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    return synthetic.write(N, tmp_path_factory.mktemp("survey") / "survey.laz",
                           compressed=True)


def hold_after_preview(job) -> threading.Event:
    gate = threading.Event()
    job.preview.connect(lambda *_: gate.wait(30), QtCore.Qt.DirectConnection)
    return gate


def start_held(win, path):
    """Open ``path`` with the worker held right after its preview is emitted."""
    from viewer.qt import loading

    held = {}
    real_start = loading.LoadJob.start

    def start(job):
        held["gate"] = hold_after_preview(job)
        real_start(job)

    loading.LoadJob.start = start
    try:
        [job] = win.open_paths([str(path)])
    finally:
        loading.LoadJob.start = real_start
    return job, held["gate"]


def test_preview_layer_then_full_cloud(qtbot, window, survey):
    job, gate = start_held(window, survey)
    try:
        qtbot.waitUntil(lambda: len(window.scene.layers) == 1, timeout=LOAD_TIMEOUT_MS)
        layer = window.scene.layers[0]
        assert layer.loading is True
        assert window.loading
        preview_count = layer.data.point_count
        assert 0 < preview_count < N
        assert "loading" in window.layer_panel.tree.topLevelItem(0).text(2)
        assert window.renderer.actors(layer)
    finally:
        gate.set()
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        pass
    assert window.scene.layers == [layer]
    assert layer.loading is False
    assert layer.data.point_count == N > preview_count
    assert window.layer_panel.tree.topLevelItem(0).text(2) == f"{N:,}"
    assert window.renderer.actors(layer)
    assert not window.errors


def test_cancel_mid_load_keeps_window_usable(qtbot, window, survey, shared_data):
    job, gate = start_held(window, survey)
    try:
        qtbot.waitUntil(lambda: len(window.scene.layers) == 1, timeout=LOAD_TIMEOUT_MS)
        assert window.cancel_button.isVisible()
        window.cancel_button.click()
    finally:
        gate.set()
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        pass
    assert job.is_cancelled
    assert window.scene.layers == []  # the preview of a cancelled load goes away
    assert not window.errors
    assert not window.progress.isVisible()
    # the window still works: open another file
    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen_trim.laz")
    assert [lay.name for lay in window.scene.layers] == ["autzen_trim.laz"]
    assert window.scene.layers[0].loading is False


def test_memory_guard_notice_in_window(qtbot, window, survey, monkeypatch):
    from loaders import ingest, progressive
    from loaders.formats import las

    info = las.parse_header(survey)  # (read in the ingest worker: its lean peak)
    per_point = progressive.peak_bytes_per_point(info, lean=ingest.use_worker(info.point_count))
    monkeypatch.setenv(progressive.ENV_BUDGET, str(N * per_point // 4 + 1000))
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    open_and_wait(qtbot, window, survey)
    [layer] = window.scene.layers
    assert layer.data.point_count == N // 4
    assert any("showing 25% of 600,000 points" in m for m in messages)
    window.scene.select(layer)
    assert "memory budget" in window.properties_panel.info.text()
