"""Heritage records: annotations, measurements, views and tours (plain data, no Qt).

Coordinates are true coordinates (float64) in the project's CRS, never the renderer's
local float32 ones. Every record round-trips through ``to_dict``/``from_dict`` without
loss; the project document stores those dicts.
"""

from __future__ import annotations

import copy
import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from .vocabulary import (
    CATEGORY_COLORS,
    CATEGORY_TERMS,
    CONDITION_COLORS,
    CONDITION_TERMS,
    category_term,
    condition_term,
)

ANNOTATION_KINDS = ("point", "polyline", "polygon", "box")

#: The default heritage vocabulary: id -> (label, RGB 0..255). Teams extend it per project.
DEFAULT_CATEGORIES: dict[str, tuple[str, tuple[int, int, int]]] = {
    key: (CATEGORY_TERMS[key]["en"], CATEGORY_COLORS[key]) for key in CATEGORY_TERMS}

#: Condition grades, best first, with display colours.
DEFAULT_CONDITIONS: dict[str, tuple[str, tuple[int, int, int]]] = {
    key: (CONDITION_TERMS[key]["en"], CONDITION_COLORS[key]) for key in CONDITION_TERMS}


def new_id() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _points(value: Any) -> list[list[float]]:
    try:
        pts = [[float(c) for c in p] for p in (value or [])]
    except OverflowError:
        raise ValueError("a coordinate is too large for a float") from None
    for p in pts:
        if len(p) != 3:
            raise ValueError(f"a point needs 3 coordinates, got {len(p)}")
        if not (math.isfinite(p[0]) and math.isfinite(p[1]) and math.isfinite(p[2])):
            raise ValueError(f"coordinates must be finite numbers, got {p!r}")
    return pts


@dataclass
class Vocabulary:
    """Categories and condition grades a project uses; extensible by the team."""

    categories: dict[str, tuple[str, tuple[int, int, int]]] = field(
        default_factory=lambda: dict(DEFAULT_CATEGORIES))
    conditions: dict[str, tuple[str, tuple[int, int, int]]] = field(
        default_factory=lambda: dict(DEFAULT_CONDITIONS))

    def add_category(self, key: str, label: str, color: tuple[int, int, int]) -> None:
        key = key.strip().lower().replace(" ", "_")
        if not key:
            raise ValueError("a category needs a name")
        self.categories[key] = (label, tuple(int(c) for c in color))

    def category_color(self, key: str) -> tuple[int, int, int]:
        return self.categories.get(key, DEFAULT_CATEGORIES["other"])[1]

    def category_label(self, key: str, lang: str = "en") -> str:
        """The category as shown in ``lang`` (``en``, ``zh``): the standard term, or the
        team's own label when it renamed or added the category."""
        return category_term(key, lang, self.categories.get(key, (None,))[0])

    def condition_label(self, key: str | None, lang: str = "en") -> str:
        """The condition grade as shown in ``lang``; "" for None (not assessed)."""
        if not key:
            return ""
        return condition_term(key, lang, self.conditions.get(key, (key,))[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": {k: {"label": v[0], "color": list(v[1])}
                           for k, v in self.categories.items()},
            "conditions": {k: {"label": v[0], "color": list(v[1])}
                           for k, v in self.conditions.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Vocabulary:
        if not d:
            return cls()
        conv = lambda m: {k: (v["label"], tuple(v["color"])) for k, v in m.items()}  # noqa: E731
        return cls(categories=conv(d.get("categories", {})) or dict(DEFAULT_CATEGORIES),
                   conditions=conv(d.get("conditions", {})) or dict(DEFAULT_CONDITIONS))


@dataclass
class Annotation:
    """One observation on the site: a pin, a polyline, a polygon (area) or a box region.

    ``points`` are true coordinates in the project CRS; a box has two points, its
    minimum and maximum corners.
    """

    kind: str
    points: list[list[float]]
    title: str = ""
    description: str = ""
    category: str = "other"
    condition: str | None = None
    observed: str | None = None  # ISO date of the observation
    author: str = ""
    tags: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)  # paths relative to the project
    link: dict[str, str] | None = None  # {"layer": name, "feature_id": id}
    view: dict[str, Any] | None = None  # camera it was made from (true coordinates)
    color: tuple[int, int, int] | None = None  # style override; None = category colour
    visible: bool = True
    id: str = field(default_factory=new_id)
    created: str = field(default_factory=now_iso)
    modified: str = field(default_factory=now_iso)

    def __post_init__(self) -> None:
        if self.kind not in ANNOTATION_KINDS:
            raise ValueError(f"unknown annotation kind {self.kind!r}")
        self.points = _points(self.points)
        minimum = {"point": 1, "polyline": 2, "polygon": 3, "box": 2}[self.kind]
        if len(self.points) < minimum:
            raise ValueError(f"a {self.kind} annotation needs at least {minimum} points")
        if self.kind == "box":
            lo = [min(p[i] for p in self.points) for i in range(3)]
            hi = [max(p[i] for p in self.points) for i in range(3)]
            self.points = [lo, hi]
        if self.observed:
            date.fromisoformat(str(self.observed)[:10])  # validates

    @property
    def anchor(self) -> list[float]:
        """Where the label goes: the pin, or the centroid of the vertices."""
        n = len(self.points)
        return [sum(p[i] for p in self.points) / n for i in range(3)]

    def to_dict(self) -> dict[str, Any]:
        d = {
            "id": self.id, "kind": self.kind, "points": self.points, "title": self.title,
            "description": self.description, "category": self.category,
            "condition": self.condition, "observed": self.observed, "author": self.author,
            "tags": list(self.tags), "media": list(self.media), "link": self.link,
            "view": self.view, "color": list(self.color) if self.color else None,
            "visible": self.visible, "created": self.created, "modified": self.modified,
        }
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Annotation:
        d = dict(d)
        if d.get("color") is not None:
            d["color"] = tuple(int(c) for c in d["color"])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


MEASUREMENT_KINDS = ("distance", "horizontal_distance", "vertical_distance",
                     "height_difference", "polyline_length", "area", "projected_area",
                     "angle")


@dataclass
class Measurement:
    """A measurement between picked points; ``value`` is computed, never typed in."""

    kind: str
    points: list[list[float]]
    label: str = ""
    id: str = field(default_factory=new_id)
    created: str = field(default_factory=now_iso)
    visible: bool = True  # drawn in the 3D view (the Measurements list's checkbox)

    def __post_init__(self) -> None:
        if self.kind not in MEASUREMENT_KINDS:
            raise ValueError(f"unknown measurement kind {self.kind!r}")
        self.points = _points(self.points)
        from .measure import minimum_points

        if len(self.points) < minimum_points(self.kind):
            raise ValueError(f"{self.kind} needs at least {minimum_points(self.kind)} points")

    @property
    def value(self) -> float:
        from .measure import measure

        return measure(self.kind, self.points)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "points": self.points, "label": self.label,
                "created": self.created, "value": self.value, "visible": self.visible}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Measurement:
        return cls(kind=d["kind"], points=d["points"], label=d.get("label", ""),
                   id=d.get("id") or new_id(), created=d.get("created") or now_iso(),
                   visible=bool(d.get("visible", True)))


@dataclass
class View:
    """A saved camera (bookmark) in true coordinates."""

    name: str
    camera: dict[str, Any]
    id: str = field(default_factory=new_id)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "camera": self.camera}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> View:
        return cls(name=d["name"], camera=d["camera"], id=d.get("id") or new_id())


@dataclass
class TourStop:
    """One stop of a tour: where the camera goes -- a camera stored in the stop (the view
    the author had when adding it), a saved view, or an annotation (its saved view or
    anchor) -- how long it takes to get there and to stay, and what is read meanwhile:
    ``title`` (empty: the view's name or the annotation's title) and ``caption`` (shown
    over the view during playback; the lead of the exports). Projects written before
    ``camera``, ``title`` and ``caption`` existed load with them empty."""

    view_id: str | None = None  # a saved view, or
    annotation_id: str | None = None  # focus on an annotation (its saved view / anchor)
    duration: float = 2.0  # seconds of camera transition to this stop
    pause: float = 2.0  # seconds to stay
    camera: dict[str, Any] | None = None  # a stored camera (wins over view and annotation)
    title: str = ""
    caption: str = ""

    def __post_init__(self) -> None:
        self.duration = float(self.duration)
        self.pause = float(self.pause)
        if self.duration < 0 or self.pause < 0:
            raise ValueError("a tour stop's duration and pause cannot be negative")
        if self.camera is not None:
            self.camera = {"position": [float(v) for v in self.camera["position"]],
                           "focal_point": [float(v) for v in self.camera["focal_point"]],
                           "view_up": [float(v) for v in self.camera["view_up"]],
                           "parallel": bool(self.camera.get("parallel", False))}
        self.title = str(self.title or "")
        self.caption = str(self.caption or "")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"view_id": self.view_id, "annotation_id": self.annotation_id,
                             "duration": self.duration, "pause": self.pause}
        if self.camera is not None:
            d["camera"] = copy.deepcopy(self.camera)
        if self.title:
            d["title"] = self.title
        if self.caption:
            d["caption"] = self.caption
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TourStop:
        return cls(view_id=d.get("view_id"), annotation_id=d.get("annotation_id"),
                   duration=d.get("duration", 2.0), pause=d.get("pause", 2.0),
                   camera=d.get("camera"), title=d.get("title") or "",
                   caption=d.get("caption") or "")


def stop_camera(stop: TourStop, views: list[View], annotation: Any,
                current: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str, Any]:
    """What one tour stop shows: ``(camera, title, annotation or None)``. The camera (a
    dict: position, focal_point, view_up, parallel) is the saved view's, the annotation's
    saved view, or, for an annotation without one, the ``current`` camera's direction and
    distance moved onto the annotation's anchor (None without a current camera: the
    caller frames the annotation its own way). ``(None, "", None)`` when the view or
    annotation no longer exists. ``annotation(id)`` raises KeyError for a missing one.
    The title is the stop's own when it has one. A camera stored in the stop wins over
    its view and annotation (the annotation, if any, is still returned: its text and
    photo go with the stop).
    The window's tour player, ``realscene tour`` and the exhibits all use this."""
    ann = None
    if stop.annotation_id:
        try:
            ann = annotation(stop.annotation_id)
        except KeyError:
            ann = None
    if stop.camera is not None:
        return dict(stop.camera), stop.title or (ann.title if ann else ""), ann
    if stop.view_id:
        view = next((v for v in views if v.id == stop.view_id), None)
        if view is not None:
            return dict(view.camera), stop.title or view.name, None
    if stop.annotation_id:
        if ann is None:
            return None, "", None
        if ann.view:
            return dict(ann.view), stop.title or ann.title, ann
        if current is None:
            return None, stop.title or ann.title, ann
        offset = [float(p) - float(f) for p, f in zip(current["position"],
                                                        current["focal_point"], strict=True)]
        anchor = [float(v) for v in ann.anchor]
        return ({"position": [a + o for a, o in zip(anchor, offset, strict=True)],
                 "focal_point": anchor,
                 "view_up": [float(v) for v in current["view_up"]],
                 "parallel": bool(current.get("parallel", False))}, stop.title or ann.title,
                ann)
    return None, "", None


@dataclass
class Tour:
    name: str
    stops: list[TourStop] = field(default_factory=list)
    id: str = field(default_factory=new_id)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "stops": [s.to_dict() for s in self.stops]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tour:
        return cls(name=d["name"], stops=[TourStop.from_dict(s) for s in d.get("stops", [])],
                   id=d.get("id") or new_id())
