"""Playing a tour in the window: a QTimer asks :class:`viewer.tours.TourPath` for the
camera at the time elapsed since ``play`` and draws it.

The camera path (keyframes, timing, easing) is Qt-free in :mod:`viewer.tours`, shared
with ``realscene tour``; this module only drives it from the event loop so the window
stays responsive. ``stop()`` ends a tour at any time.
"""

from __future__ import annotations

import time

from PySide6 import QtCore

from ..tours import TourPath


class TourPlayer(QtCore.QObject):
    finished = QtCore.Signal()
    stop_reached = QtCore.Signal(int)

    def __init__(self, window, clock=time.monotonic) -> None:
        super().__init__(window)
        self.window = window
        self.clock = clock
        self.timer = QtCore.QTimer(self, interval=40)
        self.timer.timeout.connect(self._tick)
        self.tour = None
        self.path: TourPath | None = None
        self._reached: set[int] = set()

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self, tour) -> None:
        start = self.window.renderer.camera_to_scene(emit=False)
        self.tour = tour
        self.path = TourPath(self.window.session.project, tour, start)
        self._reached = set()
        self.t0 = self.clock()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self.tour is not None:
            self.tour = None
            self.path = None
            self.finished.emit()

    def _tick(self) -> None:
        if self.tour is None or self.path is None:
            return
        elapsed = self.clock() - self.t0
        self.window.scene.camera = self.path.camera_at(elapsed)
        self.window.renderer.scene_to_camera()
        self.window.renderer.render()
        for index in self.path.stops_done(elapsed):
            if index not in self._reached:
                self._reached.add(index)
                self.stop_reached.emit(index)
        if elapsed >= self.path.duration:
            self.stop()
