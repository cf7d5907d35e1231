"""Playing a tour: ordered stops (saved views or annotations), with smooth camera moves.

Each stop's camera is interpolated from the current one over ``stop.duration`` seconds
(eased position and focal point, normalised view-up), then held for ``stop.pause``.
Driven by a QTimer so the window stays responsive; ``stop()`` ends it at any time.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore

from ..scene import Camera


def stop_camera(session, stop, current: Camera) -> Camera | None:
    project = session.project
    if stop.view_id:
        view = next((v for v in project.views if v.id == stop.view_id), None)
        if view is not None:
            return _camera(view.camera)
    if stop.annotation_id:
        try:
            ann = project.annotation(stop.annotation_id)
        except KeyError:
            return None
        if ann.view:
            return _camera(ann.view)
        offset = np.subtract(current.position, current.focal_point)
        return Camera(position=tuple(np.add(ann.anchor, offset)), focal_point=tuple(ann.anchor),
                      view_up=current.view_up, parallel=current.parallel)
    return None


def _camera(d) -> Camera:
    return Camera(position=tuple(d["position"]), focal_point=tuple(d["focal_point"]),
                  view_up=tuple(d["view_up"]), parallel=bool(d.get("parallel", False)))


def interpolate(a: Camera, b: Camera, t: float) -> Camera:
    s = t * t * (3 - 2 * t)  # smoothstep easing
    lerp = lambda p, q: tuple(float(x) for x in (np.asarray(p) * (1 - s)  # noqa: E731
                                                 + np.asarray(q) * s))
    up = np.asarray(lerp(a.view_up, b.view_up))
    norm = np.linalg.norm(up)
    up = tuple(up / norm) if norm > 1e-9 else b.view_up
    return Camera(position=lerp(a.position, b.position),
                  focal_point=lerp(a.focal_point, b.focal_point), view_up=up,
                  parallel=b.parallel)


class TourPlayer(QtCore.QObject):
    finished = QtCore.Signal()
    stop_reached = QtCore.Signal(int)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.timer = QtCore.QTimer(self, interval=40)
        self.timer.timeout.connect(self._tick)
        self.tour = None
        self.index = -1

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self, tour) -> None:
        self.tour = tour
        self.index = -1
        self._next()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self.tour is not None:
            self.tour = None
            self.finished.emit()

    def _next(self) -> None:
        self.index += 1
        if self.tour is None or self.index >= len(self.tour.stops):
            self.stop()
            return
        stop = self.tour.stops[self.index]
        self.start_camera = self.window.renderer.camera_to_scene(emit=False)
        self.target = stop_camera(self.window.session, stop, self.start_camera)
        if self.target is None:  # a stop whose view/annotation was deleted
            self._next()
            return
        self.t0 = time.monotonic()
        self.move_s = max(stop.duration, 1e-3)
        self.hold_s = stop.pause

    def _tick(self) -> None:
        if self.tour is None:
            return
        elapsed = time.monotonic() - self.t0
        t = min(elapsed / self.move_s, 1.0)
        self.window.scene.camera = interpolate(self.start_camera, self.target, t)
        self.window.renderer.scene_to_camera()
        self.window.renderer.render()
        if elapsed >= self.move_s + self.hold_s:
            self.stop_reached.emit(self.index)
            self._next()
