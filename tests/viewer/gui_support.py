"""Helpers shared by the GUI tests (the ``window`` fixture lives in conftest.py)."""

from __future__ import annotations

import numpy as np

LOAD_TIMEOUT_MS = 60_000


def open_and_wait(qtbot, win, *paths):
    from PySide6 import QtWidgets

    with qtbot.waitSignal(win.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        win.open_paths([str(p) for p in paths])
    win.renderer.render()
    QtWidgets.QApplication.processEvents()


def view_image(win) -> np.ndarray:
    win.renderer.render()
    return np.asarray(win.plotter.screenshot(None, return_img=True))[..., :3]


def settled_image(qtbot, win, timeout_ms: int = 20_000) -> np.ndarray:
    """The view at rest: refine its level of detail until two frames running are the same
    (a cloud still refining, or a label still being placed, changes pixels between frames)."""
    from PySide6 import QtWidgets

    last: list = []

    def same() -> bool:
        win.renderer.update_lod(force=True)
        QtWidgets.QApplication.processEvents()
        img = view_image(win)
        done = bool(last) and np.array_equal(img, last[0])
        last[:] = [img]
        return done

    qtbot.waitUntil(same, timeout=timeout_ms)
    return last[0]


def background_u8(win) -> np.ndarray:
    return np.round(np.array(win.scene.background) * 255).astype(int)


def non_background_fraction(img, bg) -> float:
    return float((np.abs(img.astype(int) - bg).sum(axis=2) > 30).mean())


def click(qtbot, win, fx, fy):
    """Click the 3D view at fractions (fx, fy) of its size; wait for and return the pick."""
    from PySide6 import QtCore

    view = win.plotter.interactor
    pos = QtCore.QPoint(int(view.width() * fx), int(view.height() * fy))
    # every pick is announced, a miss too (waiting for last_pick to change missed a
    # second miss in a row: None after None)
    picks: list = []

    def seen(event=None, pick=None, **_kw) -> None:
        picks.append(pick)

    win.scene.connect("picked", seen)
    try:
        qtbot.mouseClick(view, QtCore.Qt.LeftButton, pos=pos)
        qtbot.waitUntil(lambda: bool(picks), timeout=10_000)
    finally:
        win.scene.disconnect("picked", seen)
    return picks[-1]


class GapProbe:
    """The event loop's gaps, measured: a QTimer ticking every ``interval`` ms records the
    seconds between ticks in :attr:`gaps` (a gap well over the interval is a stall).
    Reported by tests, never asserted on (timings belong to the benchmarks)."""

    def __init__(self, parent, interval: int = 10) -> None:
        import time

        from PySide6 import QtCore

        self._clock = time.perf_counter
        self.gaps: list[float] = []
        self._last = self._clock()
        self.timer = QtCore.QTimer(parent, interval=interval)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = self._clock()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        """Start (or restart) measuring from now."""
        self._last = self._clock()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def longest_ms(self) -> float:
        return max(self.gaps or [0.0]) * 1000
