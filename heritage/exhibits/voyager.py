"""A Smithsonian Voyager scene (``--format voyager``): a folder a Voyager explorer opens.

What is written into the folder ``out``:

- ``scene.svx.json`` -- the Voyager document (``application/si-dpo-3d.document+json``
  2.0), valid against Voyager's own JSON schemas (``document.schema.json`` with its
  ``meta``, ``setup``, ``model`` and ``common`` schemas);
- ``models/<name>-<quality>.glb`` -- the model at two or more quality levels
  (:data:`QUALITIES`: "Low", "Medium", "High" by default), each written by
  :mod:`heritage.exhibits.glb` at a fraction of the triangle and point budgets
  (:data:`BUDGET_SHARE`) and listed as one *derivative* of the one Voyager model;
- ``articles/<n>.html`` -- an annotation's whole description when it is longer than its
  lead, linked as the annotation's article;
- ``images/<n>.jpg|png`` -- an annotation's first photo, decoded and encoded afresh by
  :func:`heritage.media.embeddable_image` (nothing from outside the project folder, no
  metadata of the original).

Frames
------
Voyager, like glTF, is Y-up and works in the model's own units: a position in the scene
CRS ``(x, y, z)`` (east, north, up) is written as ``(x - ox, z - oz, -(y - oy))`` with
``(ox, oy, oz)`` the source's origin -- the frame the GLB derivatives are in
(:func:`to_model_frame`, :func:`from_model_frame`). The model's units are the CRS's
(metres, or feet for a CRS in feet). The CRS and the origin are recorded in the scene's
meta (``metas[0].process.georeference``) so the scene can be placed back on the map.

Annotations
-----------
Every annotation becomes a Voyager annotation on the model: its id, its title, ``lead`` =
the first sentence of its description (Latin ``.!?`` or Chinese ``。！？``), the category
and the condition as tags, ``position`` = the pin or the centroid of the vertices,
``direction`` = towards the camera it was made from (else up), the colour of its category
(or its own colour) and a style by category (:data:`CATEGORY_STYLES`); ``marker`` is its
number. Text in any script is written as UTF-8 as it is.

Tours
-----
Each project tour becomes a Voyager tour whose steps are snapshots of the orbit
navigation (``scenes/0/setup/navigation/orbit`` and ``.../offset``): for each stop the
camera stored in it (a stop added as the author's current view), of its saved view, of its
annotation's saved view, or (an annotation without one) the previous stop's viewing
direction and distance moved onto the annotation, as the tour player does
(:func:`heritage.model.stop_camera`). The transition takes the stop's ``duration``. A
step's title is the stop's caption when it has one (Voyager's steps carry a title and no
other text), else the stop's title, the view's name or the annotation's title.
Voyager's orbit camera is ``position = R(orbit) · offset`` with ``R`` the YXZ Euler
rotation of ``orbit`` (degrees), looking along ``-R · z``; :func:`camera_to_orbit` and
:func:`orbit_to_camera` convert both ways. The model centre is in front of the camera
when ``offset.z > 0``; a close-up near the edge of a site can have it behind, so then the
navigation's ``minOffset`` is lifted (null = unbounded) and Voyager shows the view as it
was saved.

No Qt, no VTK.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from heritage.model import DEFAULT_CATEGORIES, Annotation, Vocabulary, stop_camera
from loaders.crs import as_crs, crs_to_text

from .source import (
    ExhibitSource,
    ExportCancelled,
    ExportError,
    ExportResult,
    ProgressFn,
    checkpoint,
    scaled,
)

#: quality levels written by default (Voyager's derivative qualities)
QUALITIES = ("Low", "Medium", "High")
#: share of the triangle / point budgets each quality gets
BUDGET_SHARE = {"Thumb": 1 / 64, "Low": 1 / 16, "Medium": 1 / 4, "High": 1.0,
                "Highest": 1.0}
#: budgets of the "High" derivative when the caller gives none
DEFAULT_TRIANGLES = 1_000_000
DEFAULT_POINTS = 2_000_000

DOCUMENT_NAME = "scene.svx.json"
GENERATOR = "RealScene"

#: Voyager annotation style by category (Voyager's styles: Default, Line, Balloon):
#: damage opens as a balloon, features of the monument get a line marker
CATEGORY_STYLES = {
    "crack": "Balloon", "erosion": "Balloon", "biological_growth": "Balloon",
    "material_loss": "Balloon", "deformation": "Balloon", "graffiti": "Balloon",
    "past_intervention": "Line", "inscription": "Line", "decoration": "Line",
}

_SNAPSHOT_TARGETS = ["scenes/0/setup/navigation/orbit", "scenes/0/setup/navigation/offset"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


# -- frames --------------------------------------------------------------------------------
def to_model_frame(xyz: Any, origin: Any) -> np.ndarray:
    """Scene-CRS coordinates (…, 3) -> the Y-up model frame of the GLB derivatives."""
    d = np.asarray(xyz, dtype=np.float64) - np.asarray(origin, dtype=np.float64)
    return np.stack([d[..., 0], d[..., 2], -d[..., 1]], axis=-1)


def from_model_frame(xyz: Any, origin: Any) -> np.ndarray:
    """The Y-up model frame -> scene-CRS coordinates (inverse of :func:`to_model_frame`)."""
    m = np.asarray(xyz, dtype=np.float64)
    return np.stack([m[..., 0], -m[..., 2], m[..., 1]], axis=-1) + np.asarray(origin, float)


def _direction_to_model(v: Any) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return np.array([v[0], v[2], -v[1]])


def _rotation(orbit_deg: Any) -> np.ndarray:
    """three.js ``Euler(x, y, z, "YXZ")`` as a matrix: Ry · Rx · Rz."""
    x, y, z = (math.radians(float(a)) for a in orbit_deg)
    cx, sx, cy, sy, cz, sz = math.cos(x), math.sin(x), math.cos(y), math.sin(y), \
        math.cos(z), math.sin(z)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return ry @ rx @ rz


def camera_to_orbit(position: Any, focal_point: Any, view_up: Any = (0.0, 1.0, 0.0)
                    ) -> tuple[list[float], list[float]]:
    """A camera in the model frame -> Voyager's orbit navigation ``(orbit, offset)``:
    ``orbit`` = (pitch, yaw, roll) in degrees, ``offset`` = the camera position in the
    rotated frame, so ``position = R(orbit) · offset`` and the camera looks along
    ``-R(orbit) · z`` (towards ``focal_point``)."""
    p = np.asarray(position, dtype=np.float64)
    d = p - np.asarray(focal_point, dtype=np.float64)
    dist = float(np.linalg.norm(d))
    if not dist > 0.0:
        raise ValueError("the camera position and focal point coincide")
    u = d / dist
    pitch = -math.degrees(math.asin(max(-1.0, min(1.0, float(u[1])))))
    yaw = math.degrees(math.atan2(float(u[0]), float(u[2])))
    r = _rotation((pitch, yaw, 0.0))
    up = r.T @ np.asarray(view_up, dtype=np.float64)
    roll = math.degrees(math.atan2(-float(up[0]), float(up[1]))) \
        if abs(up[0]) + abs(up[1]) > 1e-12 else 0.0
    orbit = [pitch, yaw, roll]
    offset = _rotation(orbit).T @ p
    return [float(v) for v in orbit], [float(v) for v in offset]


def orbit_to_camera(orbit: Any, offset: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voyager's ``(orbit, offset)`` -> ``(position, focal_point, view_up)`` in the model
    frame; the focal point is the point ``|offset.z|`` along the line of sight (the orbit
    centre when ``offset.z`` is positive)."""
    r = _rotation(orbit)
    off = np.asarray(offset, dtype=np.float64)
    position = r @ off
    focal = position - r @ np.array([0.0, 0.0, abs(float(off[2]))])
    return position, focal, r @ np.array([0.0, 1.0, 0.0])


# -- text ------------------------------------------------------------------------------------
def lead_of(text: str) -> str:
    """The first sentence of ``text`` (ends at ``.``, ``!`` or ``?`` followed by a space,
    or at ``。``, ``！``, ``？``; the first line at most)."""
    text = (text or "").strip()
    if not text:
        return ""
    first_line = text.splitlines()[0].strip()
    return _SENTENCE_END.split(first_line, maxsplit=1)[0].strip()


def _units(crs: Any) -> str:
    if crs is None:
        return "m"
    try:
        from loaders.crs import as_crs

        unit = (as_crs(crs).axis_info[0].unit_name or "").lower()
    except Exception:  # a CRS pyproj cannot describe: metres, as the scene assumes
        return "m"
    if "foot" in unit or "feet" in unit:
        return "ft"
    return {"kilometre": "km", "kilometer": "km", "centimetre": "cm",
            "millimetre": "mm"}.get(unit, "m")


def _slug(text: str, fallback: str = "model") -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40]
    return s or fallback


# -- cameras of tour stops --------------------------------------------------------------------
def _oblique_camera(ann: Annotation) -> dict[str, Any]:
    """An oblique view from the south-east, 35° down, framing the annotation's vertices
    (as the window frames an annotation without a saved view)."""
    pts = np.asarray(ann.points, dtype=np.float64)
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
    size = float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0)))
    direction = np.array([0.5, -0.65, 0.57])
    direction /= np.linalg.norm(direction)
    pos = centre + max(15.0, 2.5 * size) * direction
    return {"position": pos.tolist(), "focal_point": centre.tolist(),
            "view_up": [0.0, 0.0, 1.0]}


def stop_cameras(source: ExhibitSource, tour: Any) -> list[tuple[Any, dict[str, Any], str]]:
    """``(stop, camera dict in the scene CRS, title)`` for each stop of ``tour`` that still
    exists (a stop whose view or annotation is gone is left out)."""
    out: list[tuple[Any, dict[str, Any], str]] = []
    previous: dict[str, Any] | None = None
    for stop in tour.stops:  # (an annotation without a view: as the tour player does)
        camera, title, ann = stop_camera(stop, source.views, source.annotation, previous)
        if camera is None and ann is not None:
            camera = _oblique_camera(ann)
        if camera is None:
            continue
        out.append((stop, camera, title or ""))
        previous = camera
    return out


# -- the document -----------------------------------------------------------------------------
def _annotation_json(ann: Annotation, number: int, source: ExhibitSource,
                     vocabulary: Vocabulary) -> dict[str, Any]:
    origin = source.origin
    rec: dict[str, Any] = {"id": ann.id}
    if ann.title:
        rec["title"] = ann.title
    lead = lead_of(ann.description)
    if lead:
        rec["lead"] = lead
    tags = [vocabulary.category_label(ann.category)]
    if ann.condition:
        tags.append(vocabulary.condition_label(ann.condition))
    tags.extend(t for t in ann.tags if t)
    rec["tags"] = [t for t in tags if t]
    rec["marker"] = str(number)
    rec["style"] = CATEGORY_STYLES.get(ann.category, "Default")
    if not ann.visible:
        rec["visible"] = False
    rgb = ann.color or vocabulary.categories.get(
        ann.category, DEFAULT_CATEGORIES["other"])[1]
    rec["color"] = [round(float(c) / 255.0, 4) for c in rgb]
    anchor = np.asarray(ann.anchor, dtype=np.float64)
    rec["position"] = [float(v) for v in to_model_frame(anchor, origin)]
    direction = np.array([0.0, 1.0, 0.0])
    if ann.view and "position" in ann.view:
        towards = _direction_to_model(np.subtract(ann.view["position"], anchor))
        n = float(np.linalg.norm(towards))
        if n > 0:
            direction = towards / n
    rec["direction"] = [float(v) for v in direction]
    return rec


def _article_html(ann: Annotation, lang: str = "") -> str:
    title = html.escape(ann.title or "")
    paras = "".join(f"<p>{html.escape(p.strip())}</p>\n"
                    for p in ann.description.split("\n\n") if p.strip())
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{paras}</body></html>\n")


def _camera_json(yfov: float = 52.0) -> dict[str, Any]:
    return {"type": "perspective", "perspective": {"yfov": yfov, "znear": 0.1,
                                                  "zfar": 1_000_000}}


def _setup(units: str, extent: float, orbit: list[float] | None,
           offset: list[float] | None) -> dict[str, Any]:
    return {
        "units": units,
        "interface": {"visible": True, "logo": True, "menu": True, "tools": True},
        "viewer": {"shader": "Default", "toneMapping": True, "exposure": 1, "gamma": 2,
                   "annotationsVisible": True},
        "reader": {"enabled": False, "position": "Overlay"},
        "navigation": {
            "type": "Orbit", "enabled": True, "autoZoom": orbit is None,
            "lightsFollowCamera": True, "autoRotation": False,
            "orbit": {"orbit": orbit or [-30, -25, 0],
                      "offset": offset or [0, 0, max(extent, 1.0) * 1.5],
                      "minOrbit": [-90, None, None], "maxOrbit": [90, None, None],
                      "minOffset": [None, None, 0.1],
                      "maxOffset": [None, None, max(extent, 1.0) * 20]},
        },
        "background": {"style": "RadialGradient", "color0": [0.2, 0.25, 0.3],
                       "color1": [0.01, 0.03, 0.05]},
        "floor": {"visible": False, "position": [0, 0, 0], "size": max(extent, 1.0),
                  "color": [0.6, 0.75, 0.8], "opacity": 0.5, "receiveShadow": False},
        "grid": {"visible": False, "color": [0.5, 0.7, 0.8]},
        "tape": {"enabled": False, "startPosition": [0, 0, 0], "startDirection": [0, 0, 0],
                 "endPosition": [0, 0, 0], "endDirection": [0, 0, 0]},
        "slicer": {"enabled": False, "axis": "X", "inverted": False, "position": 0.5},
    }


def build_document(source: ExhibitSource, derivatives: list[dict[str, Any]], *,
                   articles: dict[str, str] | None = None,
                   images: dict[str, str] | None = None,
                   warnings: list[str] | None = None) -> dict[str, Any]:
    """The ``.svx.json`` document for ``source`` whose model files are ``derivatives``
    (Voyager derivative records); ``articles`` / ``images`` map annotation ids to the
    relative paths written for them."""
    articles, images = articles or {}, images or {}
    warnings = warnings if warnings is not None else []
    vocabulary = source.vocabulary or Vocabulary()
    origin = source.origin
    units = _units(source.crs)

    bounds = source.bounds()
    box = None
    extent = 10.0
    if bounds is not None:
        lo, hi = to_model_frame(np.array(bounds), origin)
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        box = {"min": [float(v) for v in lo], "max": [float(v) for v in hi]}
        extent = float(np.linalg.norm(hi - lo))

    annotations = []
    meta_articles = []
    for i, ann in enumerate(source.annotations, start=1):
        rec = _annotation_json(ann, i, source, vocabulary)
        if ann.id in articles:
            art_id = f"article-{i}"
            art: dict[str, Any] = {"id": art_id, "uri": articles[ann.id],
                                   "mimeType": "text/html"}
            if ann.title:
                art["title"] = ann.title
            if rec.get("lead"):
                art["lead"] = rec["lead"]
            meta_articles.append(art)
            rec["articleId"] = art_id
        if ann.id in images:
            rec["imageUri"] = images[ann.id]
        annotations.append(rec)

    model: dict[str, Any] = {"units": units, "derivatives": derivatives}
    if box is not None:
        model["boundingBox"] = box
    if annotations:
        model["annotations"] = annotations

    tours = []
    states = []
    first_orbit = first_offset = None
    behind = False
    for t_index, tour in enumerate(source.tours):
        steps = []
        for s_index, (stop, camera, title) in enumerate(stop_cameras(source, tour)):
            pos = to_model_frame(camera["position"], origin)
            focal = to_model_frame(camera["focal_point"], origin)
            up = _direction_to_model(camera.get("view_up", (0.0, 0.0, 1.0)))
            try:
                orbit, offset = camera_to_orbit(pos, focal, up)
            except ValueError:
                warnings.append(f"tour {tour.name!r}: stop {s_index + 1} has no viewing "
                                "direction (camera on its focal point); left out")
                continue
            if offset[2] < 0.1:  # the model centre is behind this camera
                behind = True
            step_id = f"tour{t_index + 1}-step{s_index + 1}"
            states.append({"id": step_id, "curve": "EaseQuad",
                           "duration": float(stop.duration), "threshold": 0.5,
                           "values": [orbit, offset]})
            step: dict[str, Any] = {"id": step_id}
            # Voyager's tour steps have a title and no text of their own: the caption the
            # author wrote for the stop, else its title (the view's or annotation's name)
            text = stop.caption.strip() or title
            if text:
                step["title"] = text
            steps.append(step)
            if first_orbit is None:
                first_orbit, first_offset = orbit, offset
        missing = len(tour.stops) - len(steps)
        if missing:
            warnings.append(f"tour {tour.name!r}: {missing} stop(s) whose view or "
                            "annotation no longer exists were left out")
        tours.append({"id": tour.id, "title": tour.name, "steps": steps})

    setup = _setup(units, extent, first_orbit, first_offset)
    if behind:  # a close-up near the edge of the site: let the offset go past the centre
        setup["navigation"]["orbit"]["minOffset"] = [None, None, None]
    if tours:
        setup["tours"] = tours
    if states:
        setup["snapshots"] = {"features": ["navigation"], "targets": list(_SNAPSHOT_TARGETS),
                              "states": states}

    georeference: dict[str, Any] = {
        "crs": crs_to_text(as_crs(source.crs)), "origin": [float(v) for v in origin],
        "axes": "model x = east, y = up, z = -north; scene = (x, -z, y) + origin",
        "units": units,
    }
    meta: dict[str, Any] = {
        "collection": {"title": source.title or "RealScene exhibit"},
        "process": {"generator": GENERATOR, "georeference": georeference},
    }
    if meta_articles:
        meta["articles"] = meta_articles

    title = source.title or "RealScene exhibit"
    doc: dict[str, Any] = {
        "asset": {"type": "application/si-dpo-3d.document+json", "version": "2.0",
                  "generator": GENERATOR},
        "scene": 0,
        "scenes": [{"nodes": [0, 1, 5], "setup": 0}],
        "nodes": [
            {"name": "Camera", "camera": 0},
            {"name": "Lights", "children": [2, 3, 4]},
            {"name": "Key light", "light": 0,
             "rotation": [0.4829741, -0.1070728, 0.1880998, 0.8484633]},
            {"name": "Fill light", "light": 1,
             "rotation": [0.3546969, 0.163893, -0.3861077, 0.8356136]},
            {"name": "Environment", "light": 2},
            {"name": title, "model": 0, "meta": 0},
        ],
        "cameras": [_camera_json()],
        "lights": [
            {"type": "directional", "color": [1, 0.95, 0.9], "intensity": 1.0},
            {"type": "directional", "color": [0.9, 0.95, 1], "intensity": 0.5},
            {"type": "environment", "intensity": 1.0},
        ],
        "metas": [meta],
        "setups": [setup],
        "models": [model],
    }
    return doc


# -- the export --------------------------------------------------------------------------------
def _write_media(source: ExhibitSource, folder: Path, warnings: list[str]
                 ) -> tuple[dict[str, str], dict[str, str]]:
    articles: dict[str, str] = {}
    images: dict[str, str] = {}
    for i, ann in enumerate(source.annotations, start=1):
        if ann.description.strip() and ann.description.strip() != lead_of(ann.description):
            (folder / "articles").mkdir(exist_ok=True)
            rel = f"articles/annotation-{i}.html"
            (folder / rel).write_text(_article_html(ann), encoding="utf-8")
            articles[ann.id] = rel
        if not ann.media:
            continue
        if source.project_dir is None:
            warnings.append(f"annotation {ann.title or ann.id!r}: its photos are not "
                            "included (no project folder to read them from)")
            continue
        from heritage.media import MediaRefused, embeddable_image

        for ref in ann.media:
            try:
                img = embeddable_image(source.project_dir, ref)
            except MediaRefused as exc:
                warnings.append(f"annotation {ann.title or ann.id!r}: media {exc}")
                continue
            (folder / "images").mkdir(exist_ok=True)
            rel = f"images/annotation-{i}." + ("png" if img.mime == "image/png" else "jpg")
            (folder / rel).write_bytes(img.data)
            images[ann.id] = rel
            break
    return articles, images


def export(source: ExhibitSource, out: str | Path, progress: ProgressFn | None = None, *,
           triangles: int | None = None, points: int | None = None,
           qualities: tuple[str, ...] | list[str] = QUALITIES,
           **glb_options: Any) -> ExportResult:
    """Write the Voyager scene of ``source`` into the folder ``out`` (created; files of an
    earlier export there are replaced). ``triangles`` / ``points`` are the budgets of the
    "High" derivative; the others get :data:`BUDGET_SHARE` of them. Other options go to
    the GLB export. ``progress`` may raise :class:`ExportCancelled`: nothing is left
    behind then."""
    out = Path(out)
    qualities = list(dict.fromkeys(qualities))
    bad = [q for q in qualities if q not in BUDGET_SHARE]
    if bad or len(qualities) < 2:
        raise ExportError(f"Voyager qualities {qualities!r} are not two or more of "
                          + ", ".join(BUDGET_SHARE), "e.g. qualities=('Low', 'High')")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file", "a Voyager scene is a folder; choose a "
                          "folder name")
    if out.is_dir() and any(out.iterdir()) and not (out / DOCUMENT_NAME).is_file():
        raise ExportError(f"{out} is a folder with other files in it",
                          "choose an empty or new folder (an earlier Voyager export there "
                          "is replaced)")
    if not source.layers:
        raise ExportError("nothing to export: no layers", "choose at least one layer")
    from . import glb

    # the budgets of the highest quality, no more than the source has: the lower qualities
    # are shares of it (a small site still gets lighter models at Low)
    has_tris = sum(int(la.data.triangle_count) for la in source.layers if la.kind == "mesh")
    has_pts = sum(int(la.data.point_count) for la in source.layers if la.kind == "points")
    triangles = max(1, min(int(triangles or DEFAULT_TRIANGLES), has_tris or 1))
    points = max(1, min(int(points or DEFAULT_POINTS), has_pts or 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    warnings: list[str] = []
    counts: dict[str, int] = {}
    try:
        (work / "models").mkdir()
        slug = _slug(source.title)
        derivatives = []
        n = len(qualities)
        for i, quality in enumerate(sorted(qualities, key=list(BUDGET_SHARE).index)):
            share = BUDGET_SHARE[quality]
            rel = f"models/{slug}-{quality.lower()}.glb"
            sub = scaled(progress, 0.9 * i / n, 0.9 * (i + 1) / n)
            checkpoint(sub, 0.0, f"Voyager: {quality} model")
            res = glb.export(source, work / rel, progress=sub,
                             triangles=max(1, int(triangles * share)),
                             points=max(1, int(points * share)), **glb_options)
            for w in res.warnings:
                if w not in warnings:
                    warnings.append(w)
            asset: dict[str, Any] = {"uri": rel, "type": "Model",
                                     "mimeType": "model/gltf-binary",
                                     "byteSize": max(1, (work / rel).stat().st_size)}
            faces = int(res.counts.get("triangles", 0))
            if faces > 0:
                asset["numFaces"] = faces
            derivatives.append({"usage": "Web3D", "quality": quality, "assets": [asset]})
            counts[f"triangles_{quality.lower()}"] = faces
            counts[f"points_{quality.lower()}"] = int(res.counts.get("points", 0))
        checkpoint(progress, 0.92, "Voyager: annotations")
        articles, images = _write_media(source, work, warnings)
        checkpoint(progress, 0.96, "Voyager: document")
        doc = build_document(source, derivatives, articles=articles, images=images,
                             warnings=warnings)
        (work / DOCUMENT_NAME).write_text(
            json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8")
        checkpoint(progress, 0.99, "Voyager: writing the folder")
        _move_into(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    counts.update(derivatives=len(qualities), annotations=len(source.annotations),
                  tours=len(source.tours), articles=len(articles), images=len(images))
    checkpoint(progress, 1.0, "Voyager scene written")
    return ExportResult(path=out / DOCUMENT_NAME, counts=counts, warnings=warnings)


def _move_into(work: Path, out: Path) -> None:
    """Put the finished export in place: rename the work folder to ``out``, or (``out``
    already exists) replace the entries of the same name inside it."""
    if not out.exists():
        os.replace(work, out)
        return
    for entry in work.iterdir():
        target = out / entry.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.replace(entry, target)
    work.rmdir()


__all__ = ["BUDGET_SHARE", "CATEGORY_STYLES", "DOCUMENT_NAME", "ExportCancelled",
           "QUALITIES", "build_document", "camera_to_orbit", "export", "from_model_frame",
           "lead_of", "orbit_to_camera", "stop_cameras", "to_model_frame"]
