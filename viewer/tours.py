"""The camera path of a tour (no Qt, no VTK): keyframes, timing and easing.

A tour is ordered stops (saved views or annotations). Each stop's camera is reached from
the previous one over ``stop.duration`` seconds (smoothstep-eased position and focal
point, normalised view-up), then held for ``stop.pause``. The path starts at the camera
the tour is played from. :class:`TourPath` answers "which camera at time t": the window's
player (:mod:`viewer.qt.tours`) asks it on every tick of its timer, ``realscene tour``
asks it for every frame it writes, so both show the same camera at the same time.

Stops whose view or annotation no longer exists are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from heritage import model

from .scene import Camera


class UnknownTour(KeyError):
    """No tour of that name: the message lists the project's tours."""

    def __init__(self, name: str, names: list[str]) -> None:
        known = ", ".join(f"“{n}”" for n in names) if names else "the project has no tours"
        self.message = f"no tour named “{name}” (tours: {known})"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def find_tour(project: Any, name: str) -> Any:
    """The project's tour called ``name`` (exact, else ignoring case and spaces around)."""
    for tour in project.tours:
        if tour.name == name:
            return tour
    wanted = name.strip().casefold()
    for tour in project.tours:
        if tour.name.strip().casefold() == wanted:
            return tour
    raise UnknownTour(name, [t.name for t in project.tours])


def stop_camera(project: Any, stop: Any, current: Camera) -> Camera | None:
    """The camera of one stop (:func:`heritage.model.stop_camera`, from the ``current``
    camera for an annotation without a saved view); None when the view or annotation no
    longer exists."""
    camera, _, _ = model.stop_camera(stop, project.views, project.annotation,
                                     current.to_dict())
    return Camera.from_dict(camera) if camera is not None else None


@dataclass(frozen=True)
class StopText:
    """What is read at a tour stop (the window shows it over the view during playback):
    the stop's ``title`` and ``caption``, and when the stop is an annotation its
    ``annotation_title``, ``description`` and first ``photo`` (a media reference of the
    project, resolved inside the project folder by whoever shows it:
    :func:`heritage.media.embeddable_image`)."""

    title: str = ""
    caption: str = ""
    annotation_title: str = ""
    description: str = ""
    photo: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.title or self.caption or self.annotation_title or self.description
                    or self.photo)


#: media references shown as a stop's photo (the first of an annotation's media)
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp")


def stop_text(project: Any, stop: Any) -> StopText:
    """The text (and photo) of one stop of a tour of ``project``."""
    _, title, ann = model.stop_camera(stop, project.views, project.annotation, None)
    if ann is None and stop.annotation_id:
        try:
            ann = project.annotation(stop.annotation_id)
        except KeyError:
            ann = None
    if ann is None:
        return StopText(title=title, caption=stop.caption)
    photo = next((m for m in ann.media
                  if str(m).lower().endswith(PHOTO_EXTENSIONS)), None)
    return StopText(title=title, caption=stop.caption, annotation_title=ann.title,
                    description=ann.description, photo=photo)


def ease(t: float) -> float:
    """Smoothstep: 0 -> 0, 1 -> 1, zero speed at both ends."""
    t = min(max(float(t), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def interpolate(a: Camera, b: Camera, t: float) -> Camera:
    """The camera a fraction ``t`` (0..1, eased) of the way from ``a`` to ``b``."""
    s = ease(t)

    def lerp(p: Any, q: Any) -> tuple[float, float, float]:
        v = np.asarray(p, dtype=np.float64) * (1.0 - s) + np.asarray(q, dtype=np.float64) * s
        return tuple(float(x) for x in v)  # type: ignore[return-value]

    up = np.asarray(lerp(a.view_up, b.view_up))
    norm = float(np.linalg.norm(up))
    view_up = tuple(float(x) for x in up / norm) if norm > 1e-9 else tuple(b.view_up)
    return Camera(position=lerp(a.position, b.position),
                  focal_point=lerp(a.focal_point, b.focal_point), view_up=view_up,
                  parallel=b.parallel)


@dataclass(frozen=True)
class Leg:
    """One stop of the path: move from ``start`` to ``target`` in ``[t0, t0 + move)``,
    hold ``target`` until ``t0 + move + hold``."""

    index: int  # the stop's index in the tour
    start: Camera
    target: Camera
    t0: float
    move: float
    hold: float

    @property
    def end(self) -> float:
        return self.t0 + self.move + self.hold


class TourPath:
    """The camera of a tour as a function of time, from a start camera.

    ``duration``: total seconds; ``legs``: one per reachable stop; ``camera_at(t)``;
    ``stops_done(t)``: indices of the stops whose move and pause are over at ``t``;
    ``frame_times(fps)``: the times of the frames of a video of the tour.
    """

    def __init__(self, project: Any, tour: Any, start: Camera) -> None:
        self.tour = tour
        self.start = start
        legs: list[Leg] = []
        current, t = start, 0.0
        for index, stop in enumerate(tour.stops):
            target = stop_camera(project, stop, current)
            if target is None:  # its view or annotation was deleted
                continue
            move = max(float(stop.duration), 1e-3)
            hold = max(float(stop.pause), 0.0)
            legs.append(Leg(index, current, target, t, move, hold))
            current, t = target, t + move + hold
        self.legs = legs
        self.duration = t

    def camera_at(self, t: float) -> Camera:
        """The camera at ``t`` seconds from the start (clamped to the path)."""
        if not self.legs:
            return self.start
        t = float(t)
        for leg in self.legs:
            if t < leg.end:
                return interpolate(leg.start, leg.target, (t - leg.t0) / leg.move)
        return self.legs[-1].target

    def stops_done(self, t: float) -> list[int]:
        return [leg.index for leg in self.legs if t >= leg.end]

    def leg_at(self, t: float) -> Leg | None:
        """The leg playing at ``t`` (moving to its stop or holding it): the stop whose
        caption is shown; the last leg at and after the end; None for an empty path."""
        if not self.legs:
            return None
        t = float(t)
        return next((leg for leg in self.legs if t < leg.end), self.legs[-1])

    def frame_count(self, fps: float) -> int:
        """Frames of a video at ``fps``: one at t = 0, one every 1/fps, and the last
        camera included."""
        if fps <= 0:
            raise ValueError(f"frames per second must be positive, got {fps}")
        return int(np.floor(self.duration * fps + 1e-9)) + 1

    def frame_times(self, fps: float) -> list[float]:
        return [i / fps for i in range(self.frame_count(fps))]
