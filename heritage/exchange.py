"""Annotation exchange: W3C Web Annotation JSON-LD, GeoJSON (3D, with CRS) and CSV.

Every format round-trips an :class:`~heritage.model.Annotation` exactly (``to_dict()``
equal after export and import): coordinates are written with ``repr`` (shortest exact
float text) both as JSON numbers and inside WKT, and every field has a place.

Formats
-------
``webanno``
    An ``AnnotationCollection`` whose ``first`` page holds one ``Annotation`` per record.
    ``@context`` is the W3C context plus a small local one (prefixes ``rs:`` for
    RealScene terms and ``crm:`` for CIDOC-CRM). Bodies: ``TextualBody`` items for the
    title and description (``rs:field`` tells which), a ``SpecificResource`` with
    purpose ``classifying`` for the category (source = the vocabulary term with its
    label), ``TextualBody`` items with purpose ``tagging`` for tags, ``Image`` (or
    ``Video``/``Sound``/``Text``/``Dataset``) bodies for media with the relative path as
    (percent-encoded) ``id``, and the condition record as a ``crm:E14_Condition_Assessment``
    (``crm:P35_has_identified`` -> ``crm:E3_Condition_State`` with ``crm:P2_has_type`` the
    grade; ``crm:P4_has_time-span`` the observed date; ``crm:P14_carried_out_by`` the
    author). Target: ``source`` the linked layer (or the project), ``selector`` = a
    ``PointSelector`` (pins) and a ``WKTSelector`` (``POINT Z``, ``LINESTRING Z``,
    ``POLYGON Z`` with a closed ring, a box as a closed ``POLYHEDRALSURFACE Z`` with
    ``rs:kind: box``) whose ``crs`` is ``http://www.opengis.net/def/crs/EPSG/0/NNNN`` for
    EPSG CRSs, else the CRS text (WKT) as stored. Non-pin kinds also carry their vertices
    in ``rs:points``; ``rs:link`` (layer + feature id) and ``rs:view`` (camera) are JSON
    literals. The collection carries the project vocabulary (``rs:vocabulary``) and the
    measurements (``rs:measurements``).
``geojson``
    A ``FeatureCollection`` in the project CRS with the legacy named ``crs`` member
    (``urn:ogc:def:crs:EPSG::NNNN``; non-EPSG CRSs are written as their text). Geometries
    are 3D: ``Point``, ``LineString``, ``Polygon`` (closed ring); a box is the
    ``Polygon`` of its footprint at ``zmin`` with ``zmin``/``zmax`` properties and
    ``kind: "box"``. All metadata are properties. Measurements are features with
    ``kind: "measurement"``, ``measurement_kind``, ``value`` and ``units``
    (``LineString`` of the picked points; ``Polygon`` for the area kinds).
``csv``
    One row per annotation (UTF-8, header row): id, kind, title, description, category,
    category_label, condition, condition_label, observed, author, tags, media, link,
    wkt, crs, view, color, visible, created, modified. ``tags``/``media`` are
    ``;``-joined with ``\\`` escaping ``;`` and ``\\`` (an empty item is ``\\e``); ``link``
    and ``view`` are JSON; ``color`` is ``#rrggbb``. Measurements are not in the CSV
    (see :func:`measurements_to_csv` for a separate table).

    Safe in spreadsheets (OWASP "CSV injection"): a text cell that starts with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return gets a single quote ``'`` in front,
    so no spreadsheet runs it as a formula; a cell that really starts with ``'`` gets one
    more, so the import (which removes exactly one leading ``'`` from such cells) gives
    back every value unchanged. Numeric columns (a measurement's value) stay numbers.
    Fields longer than :data:`CSV_FIELD_LIMIT` characters are refused on import.

Exports are written row by row (one feature or annotation a line inside the JSON
envelope), so memory stays proportional to one record, not to the project.

Importers accept what these exporters write, plus reasonable hand-made variants (a
single Annotation, an AnnotationPage, a bare list; a GeoJSON file without ``crs``).
Errors are :class:`ExchangeError` (a ``ValueError``) naming the file and the reason.
"""

from __future__ import annotations

import csv
import io
import json
import math
import mimetypes
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from loaders.crs import crs_units, same_crs
from loaders.safety import UnsafePath, open_regular

from .measure import UNITS
from .model import Annotation, Measurement, Vocabulary
from .project import (
    FORMAT_NAME,
    SCHEMA_VERSION,
    Project,
    ProjectError,
    atomic_writer,
    parse_json,
    same_file,
    validate,
)

FORMATS = ("webanno", "geojson", "csv", "report")

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
RS_NS = "https://realscene.example/ns/annotation#"
RS_VOCAB = "https://realscene.example/vocab/"
CRM_NS = "http://www.cidoc-crm.org/cidoc-crm/"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
LOCAL_CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "rs": RS_NS,
    "crm": CRM_NS,
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "WKTSelector": "rs:WKTSelector",
    "PointSelector": "rs:PointSelector",
    "x": "rs:x", "y": "rs:y", "z": "rs:z",
    "crs": {"@id": "rs:crs", "@type": "@id"},
    "rs:points": {"@type": "@json"},
    "rs:link": {"@type": "@json"},
    "rs:view": {"@type": "@json"},
    "rs:color": {"@type": "@json"},
    "rs:vocabulary": {"@type": "@json"},
    "rs:measurements": {"@type": "@json"},
}
CONTEXT = [ANNO_CONTEXT, LOCAL_CONTEXT]

CSV_COLUMNS = ("id", "kind", "title", "description", "category", "category_label",
               "condition", "condition_label", "observed", "author", "tags", "media",
               "link", "wkt", "crs", "view", "color", "visible", "created", "modified")

AREA_MEASUREMENTS = ("area", "projected_area")

#: the longest CSV field read (characters); csv's own default is 131,072
CSV_FIELD_LIMIT = 1 << 20
#: annotation files larger than this are not read
MAX_IMPORT_BYTES = 2 << 30


class ExchangeError(ValueError):
    """An annotation file cannot be read or written; says which file and why."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


@dataclass
class ImportResult:
    """Everything an annotation file holds (beyond the annotations themselves)."""

    annotations: list[Annotation]
    crs: str | None = None
    format: str = ""
    categories: dict[str, tuple[str, tuple[int, int, int] | None]] = field(default_factory=dict)
    conditions: dict[str, tuple[str, tuple[int, int, int] | None]] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)


class _Bad(Exception):
    """Internal: a content problem, turned into ExchangeError with the file name."""


# ---------------------------------------------------------------------------------------
# CRS and geometry helpers
# ---------------------------------------------------------------------------------------

_EPSG_RE = re.compile(r"^\s*EPSG:(\d+)\s*$", re.I)


def crs_uri(crs: str | None) -> str | None:
    """``EPSG:NNNN`` -> the OGC URI; any other CRS text (WKT) is returned as it is."""
    if not crs:
        return crs
    m = _EPSG_RE.match(crs)
    return f"{EPSG_URI}{m.group(1)}" if m else crs


def crs_urn(crs: str | None) -> str | None:
    """``EPSG:NNNN`` -> ``urn:ogc:def:crs:EPSG::NNNN`` (GeoJSON 2008 named CRS)."""
    if not crs:
        return crs
    m = _EPSG_RE.match(crs)
    return f"urn:ogc:def:crs:EPSG::{m.group(1)}" if m else crs


_CRS_IN = [
    re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/[^/]+/(\d+)$", re.I),
    re.compile(r"^urn:ogc:def:crs:EPSG:[^:]*:(\d+)$", re.I),
    re.compile(r"^EPSG:(\d+)$", re.I),
]


def crs_from_text(text: str | None) -> str | None:
    """Any of the spellings above (URI, URN, EPSG:N) -> ``EPSG:N``; other text as is."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise _Bad(f"a CRS must be text, got {type(text).__name__}")
    t = text.strip()
    for rx in _CRS_IN:
        m = rx.match(t)
        if m:
            return f"EPSG:{int(m.group(1))}"
    if re.match(r"^(urn:ogc:def:crs:OGC:[^:]*:CRS84|https?://www\.opengis\.net/def/crs/OGC/"
                r"[^/]+/CRS84)$", t, re.I):
        return "OGC:CRS84"
    return text


def _num(v: float) -> str:
    return repr(float(v))


def _xyz(p: list[float]) -> str:
    return " ".join(_num(c) for c in p)


def _ring(points: list[list[float]]) -> list[list[float]]:
    """A closed ring: the vertices plus the first one again (always appended)."""
    return [list(p) for p in points] + [list(points[0])]


def _unring(ring: list[list[float]]) -> list[list[float]]:
    if len(ring) >= 2 and ring[-1] == ring[0]:
        return ring[:-1]
    return ring


def _box_faces(lo: list[float], hi: list[float]) -> list[list[list[float]]]:
    x0, y0, z0 = lo
    x1, y1, z1 = hi
    c = {  # the eight corners
        "000": [x0, y0, z0], "100": [x1, y0, z0], "110": [x1, y1, z0], "010": [x0, y1, z0],
        "001": [x0, y0, z1], "101": [x1, y0, z1], "111": [x1, y1, z1], "011": [x0, y1, z1],
    }
    faces = [("000", "010", "110", "100"), ("001", "101", "111", "011"),  # bottom, top
             ("000", "100", "101", "001"), ("100", "110", "111", "101"),
             ("110", "010", "011", "111"), ("010", "000", "001", "011")]
    return [_ring([c[k] for k in f]) for f in faces]


def to_wkt(ann: Annotation) -> str:
    """WKT with Z and full precision: POINT Z, LINESTRING Z, POLYGON Z, box as a closed
    POLYHEDRALSURFACE Z."""
    pts = ann.points
    if ann.kind == "point":
        return f"POINT Z ({_xyz(pts[0])})"
    if ann.kind == "polyline":
        return "LINESTRING Z (" + ", ".join(_xyz(p) for p in pts) + ")"
    if ann.kind == "polygon":
        return "POLYGON Z ((" + ", ".join(_xyz(p) for p in _ring(pts)) + "))"
    faces = _box_faces(pts[0], pts[1])
    return ("POLYHEDRALSURFACE Z (" + ", ".join(
        "((" + ", ".join(_xyz(p) for p in f) + "))" for f in faces) + ")")


_WKT_HEAD = re.compile(r"^\s*([A-Za-z]+)\s*(ZM|Z|M)?\s*(\(.*\))\s*$", re.S)


def _wkt_tokens(body: str) -> list[str]:
    return re.findall(r"\(|\)|,|[^\s(),]+", body)


def _wkt_nested(tokens: list[str], i: int, dims: int) -> tuple[list[Any], int]:
    if tokens[i] != "(":
        raise _Bad("malformed WKT: expected '('")
    i += 1
    items: list[Any] = []
    while True:
        if i >= len(tokens):
            raise _Bad("malformed WKT: missing ')'")
        if tokens[i] == "(":
            sub, i = _wkt_nested(tokens, i, dims)
            items.append(sub)
        else:
            coords = []
            while i < len(tokens) and tokens[i] not in ("(", ")", ","):
                try:
                    v = float(tokens[i])
                except ValueError:
                    raise _Bad(f"malformed WKT: {tokens[i]!r} is not a number") from None
                if not math.isfinite(v):
                    raise _Bad(f"malformed WKT: coordinate {tokens[i]!r} is not finite")
                coords.append(v)
                i += 1
            if len(coords) != dims:
                raise _Bad(f"WKT point with {len(coords)} coordinates; 3D (Z) coordinates "
                           "are needed")
            items.append(coords[:3])
        if i >= len(tokens):
            raise _Bad("malformed WKT: missing ')'")
        if tokens[i] == ",":
            i += 1
            continue
        if tokens[i] == ")":
            return items, i + 1
        raise _Bad(f"malformed WKT near {tokens[i]!r}")


def parse_wkt(text: str) -> tuple[str, list[list[float]]]:
    """WKT (with Z) -> (annotation kind, points). A polyhedral surface is a box."""
    if not isinstance(text, str):
        raise _Bad("WKT geometry must be text")
    m = _WKT_HEAD.match(text)
    if not m:
        raise _Bad(f"not WKT geometry: {text[:60]!r}")
    gtype, zflag, body = m.group(1).upper(), (m.group(2) or "").upper(), m.group(3)
    dims = 4 if zflag == "ZM" else 3
    tokens = _wkt_tokens(body)
    tree, end = _wkt_nested(tokens, 0, dims)
    if end != len(tokens):
        raise _Bad("malformed WKT: text after the geometry")
    if gtype == "POINT":
        if len(tree) != 1 or not isinstance(tree[0][0], float):
            raise _Bad("malformed WKT POINT")
        return "point", tree
    if gtype == "LINESTRING":
        _check_points(tree, "LINESTRING")
        return "polyline", tree
    if gtype == "POLYGON":
        if not tree or not isinstance(tree[0], list) or not tree[0] \
                or not isinstance(tree[0][0], list):
            raise _Bad("malformed WKT POLYGON")
        _check_points(tree[0], "POLYGON")
        return "polygon", _unring(tree[0])
    if gtype in ("POLYHEDRALSURFACE", "TIN"):
        pts = [p for poly in tree for ring in poly for p in ring]
        _check_points(pts, gtype)
        lo = [min(p[i] for p in pts) for i in range(3)]
        hi = [max(p[i] for p in pts) for i in range(3)]
        return "box", [lo, hi]
    raise _Bad(f"unsupported WKT geometry type {gtype}")


def _check_points(pts: Any, what: str) -> None:
    if not isinstance(pts, list) or not pts or not all(
            isinstance(p, list) and len(p) == 3 and all(isinstance(c, float) for c in p)
            for p in pts):
        raise _Bad(f"malformed WKT {what}")


def _coords(value: Any, what: str) -> list[list[float]]:
    """A JSON list of [x, y, z] -> float points, checked."""
    if not isinstance(value, list) or not value:
        raise _Bad(f"{what}: expected a list of [x, y, z] positions")
    out = []
    for p in value:
        if not isinstance(p, list) or len(p) != 3 or not all(
                isinstance(c, (int, float)) and not isinstance(c, bool) for c in p):
            raise _Bad(f"{what}: every position needs 3 numbers (x, y, z), got {p!r}"[:200])
        if not all(math.isfinite(c) for c in p):
            raise _Bad(f"{what}: coordinates must be finite numbers")
        out.append([float(c) for c in p])
    return out


def _make(d: dict[str, Any], where: str) -> Annotation:
    """An Annotation from imported fields, checked against the project schema so that a
    project holding it always opens again."""
    try:
        ann = Annotation.from_dict(d)
    except (TypeError, ValueError, KeyError) as exc:
        raise _Bad(f"{where}: {exc}") from None
    doc = {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "layers": [],
           "annotations": [ann.to_dict()], "measurements": []}
    try:
        validate(doc, where)
    except ProjectError as exc:
        reason = exc.reason.replace("invalid project at annotations/0/", "invalid ")
        reason = reason.replace("invalid project at annotations/0", "invalid annotation")
        raise _Bad(f"{where}: {reason}") from None
    return ann


def _hex(color: Any) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in color) if color else ""


def _unhex(text: str) -> list[int] | None:
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        raise _Bad(f"colour {text!r} is not #rrggbb")
    return [int(text[i:i + 2], 16) for i in (1, 3, 5)]


def _vocab_terms(vocab: Vocabulary) -> dict[str, Any]:
    return vocab.to_dict()


def _terms_from(d: Any) -> dict[str, tuple[str, tuple[int, int, int] | None]]:
    out: dict[str, tuple[str, tuple[int, int, int] | None]] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            if isinstance(v, dict) and isinstance(v.get("label"), str):
                col = v.get("color")
                ok = isinstance(col, list) and len(col) == 3 and all(
                    isinstance(c, int) and 0 <= c <= 255 for c in col)
                out[str(k)] = (v["label"], tuple(col) if ok else None)
    return out


# ---------------------------------------------------------------------------------------
# W3C Web Annotation (JSON-LD)
# ---------------------------------------------------------------------------------------


def _anno_id(ann_id: str) -> str:
    try:
        if str(uuid.UUID(ann_id)) == ann_id:
            return f"urn:uuid:{ann_id}"
    except (ValueError, AttributeError, TypeError):
        pass
    return "urn:realscene:annotation:" + quote(ann_id, safe="")


def _anno_id_back(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    if text.lower().startswith("urn:uuid:"):
        return text[9:]
    if text.startswith("urn:realscene:annotation:"):
        return unquote(text[len("urn:realscene:annotation:"):])
    return text


def _project_source(project: Project) -> str:
    name = project.path.name if project.path else (project.title or "untitled")
    return "urn:realscene:project:" + quote(name, safe="")


_MEDIA_TYPES = {"image": "Image", "video": "Video", "audio": "Sound", "text": "Text"}


def _media_body(path: str) -> dict[str, Any]:
    mime = mimetypes.guess_type(path)[0]
    kind = _MEDIA_TYPES.get((mime or "").split("/")[0], "Dataset")
    body: dict[str, Any] = {"id": quote(path, safe="/"), "type": kind, "rs:field": "media"}
    if mime:
        body["format"] = mime
    return body


def _annotation_to_webanno(ann: Annotation, project: Project) -> dict[str, Any]:
    vocab = project.vocabulary
    bodies: list[dict[str, Any]] = []
    if ann.title:
        bodies.append({"type": "TextualBody", "purpose": "describing", "rs:field": "title",
                       "format": "text/plain", "value": ann.title})
    if ann.description:
        bodies.append({"type": "TextualBody", "purpose": "describing",
                       "rs:field": "description", "format": "text/plain",
                       "value": ann.description})
    bodies.append({
        "type": "SpecificResource", "purpose": "classifying", "rs:field": "category",
        "source": {"id": RS_VOCAB + "category/" + quote(ann.category, safe=""),
                   "type": "skos:Concept", "label": vocab.category_label(ann.category),
                   "rs:key": ann.category},
    })
    for tag in ann.tags:
        bodies.append({"type": "TextualBody", "purpose": "tagging", "value": tag})
    for m in ann.media:
        bodies.append(_media_body(m))
    if ann.condition is not None or ann.observed is not None:
        node: dict[str, Any] = {"type": "crm:E14_Condition_Assessment", "purpose": "assessing",
                                "rs:field": "condition"}
        if ann.condition is not None:
            label = vocab.conditions.get(ann.condition, (ann.condition, None))[0]
            node["crm:P35_has_identified"] = {
                "type": "crm:E3_Condition_State",
                "crm:P2_has_type": {
                    "id": RS_VOCAB + "condition/" + quote(ann.condition, safe=""),
                    "type": "crm:E55_Type", "label": label, "rs:key": ann.condition},
            }
        if ann.observed is not None:
            node["crm:P4_has_time-span"] = {"type": "crm:E52_Time-Span",
                                            "crm:P82_at_some_time_within": ann.observed}
        if ann.author:
            node["crm:P14_carried_out_by"] = {"type": "crm:E21_Person", "label": ann.author}
        bodies.append(node)

    selectors: list[dict[str, Any]] = []
    if ann.kind == "point":
        x, y, z = ann.points[0]
        selectors.append({"type": "PointSelector", "x": x, "y": y, "z": z})
    wkt: dict[str, Any] = {"type": "WKTSelector", "value": to_wkt(ann)}
    if project.crs:
        wkt["crs"] = crs_uri(project.crs)
    if ann.kind == "box":
        wkt["rs:kind"] = "box"
    selectors.append(wkt)
    target: dict[str, Any] = {
        "type": "SpecificResource",
        "source": ("urn:realscene:layer:" + quote(str(ann.link["layer"]), safe="")
                   if ann.link and ann.link.get("layer") else _project_source(project)),
        "selector": selectors,
    }
    if ann.kind != "point":
        target["rs:points"] = ann.points
    if ann.link is not None:
        target["rs:link"] = ann.link
    if ann.view is not None:
        target["rs:view"] = ann.view

    if ann.condition is not None:
        motivation = "assessing"
    elif ann.title or ann.description:
        motivation = "describing"
    elif ann.tags:
        motivation = "tagging"
    else:
        motivation = "describing"
    rec: dict[str, Any] = {
        "id": _anno_id(ann.id), "type": "Annotation", "motivation": motivation,
        "created": ann.created, "modified": ann.modified,
    }
    if ann.author:
        rec["creator"] = {"type": "Person", "name": ann.author}
    rec["rs:kind"] = ann.kind
    rec["rs:visible"] = ann.visible
    if ann.color is not None:
        rec["rs:color"] = list(ann.color)
    rec["body"] = bodies
    rec["target"] = target
    return rec


def _webanno_head(project: Project) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": _project_source(project) + ":annotations",
        "type": "AnnotationCollection",
        "label": project.title or (project.path.stem if project.path else "Annotations"),
        "total": len(project.annotations),
        "rs:crs": project.crs,
        "rs:vocabulary": _vocab_terms(project.vocabulary),
        "rs:measurements": [m.to_dict() for m in project.measurements],
    }


def to_webanno(project: Project) -> dict[str, Any]:
    """The project's annotations as a W3C Web Annotation collection (JSON-LD)."""
    items = [_annotation_to_webanno(a, project) for a in project.annotations]
    coll = _webanno_head(project)
    coll["first"] = {"type": "AnnotationPage", "startIndex": 0, "items": items}
    return coll


def _dump_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _write_envelope(fh: Any, head: dict[str, Any], opening: str, items: Any,
                    indent: str, closing: str) -> None:
    """``head`` pretty-printed, then ``opening``, one compact JSON item a line (indented
    by ``indent``), then ``closing``: the same document as one json.dumps, written a
    record at a time."""
    text = json.dumps(head, indent=2, ensure_ascii=False, allow_nan=False)
    fh.write(text[:-2] + "," + opening)  # (text ends with "\n}")
    sep = "\n" + indent
    for item in items:
        fh.write(sep + _dump_line(item))
        sep = ",\n" + indent
    fh.write(closing)


def write_webanno(project: Project, fh: Any) -> None:
    """Write :func:`to_webanno` to the text file ``fh``, one annotation at a time."""
    _write_envelope(
        fh, _webanno_head(project),
        '\n  "first": {\n    "type": "AnnotationPage",\n    "startIndex": 0,\n'
        '    "items": [',
        (_annotation_to_webanno(a, project) for a in project.annotations), "      ",
        "\n    ]\n  }\n}\n")


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _types(node: Any) -> list[str]:
    if not isinstance(node, dict):
        return []
    return [str(t) for t in _as_list(node.get("type", node.get("@type")))]


def _webanno_record(rec: Any, where: str) -> tuple[Annotation, str | None, dict, dict]:
    if not isinstance(rec, dict) or "Annotation" not in _types(rec):
        raise _Bad(f"{where}: not an Annotation (type {rec.get('type') if isinstance(rec, dict) else type(rec).__name__!r})")  # noqa: E501
    d: dict[str, Any] = {}
    cats: dict[str, tuple[str, None]] = {}
    conds: dict[str, tuple[str, None]] = {}
    ann_id = _anno_id_back(rec.get("id", rec.get("@id")))
    if ann_id:
        d["id"] = ann_id
        where = f"{where} ({ann_id})"
    for key in ("created", "modified"):
        if isinstance(rec.get(key), str):
            d[key] = rec[key]
    creator = rec.get("creator")
    if isinstance(creator, list):
        creator = creator[0] if creator else None
    if isinstance(creator, dict):
        d["author"] = str(creator.get("name") or creator.get("nickname") or "")
    elif isinstance(creator, str):
        d["author"] = creator
    if "rs:visible" in rec:
        d["visible"] = bool(rec["rs:visible"])
    if rec.get("rs:color") is not None:
        d["color"] = rec["rs:color"]
    tags: list[str] = []
    media: list[str] = []
    for body in _as_list(rec.get("body")):
        if isinstance(body, str):  # a bare IRI body: treat as media
            media.append(unquote(body))
            continue
        if not isinstance(body, dict):
            raise _Bad(f"{where}: a body must be an object")
        types = _types(body)
        field_ = body.get("rs:field")
        purpose = body.get("purpose")
        if "crm:E14_Condition_Assessment" in types or field_ == "condition":
            state = body.get("crm:P35_has_identified")
            if isinstance(state, list):
                state = state[0] if state else None
            if isinstance(state, dict):
                grade = state.get("crm:P2_has_type")
                if isinstance(grade, dict):
                    key = grade.get("rs:key")
                    if not isinstance(key, str):
                        gid = str(grade.get("id", ""))
                        key = unquote(gid.rsplit("/", 1)[-1]) if gid else None
                    if not key and isinstance(grade.get("label"), str):
                        key = grade["label"].strip().lower().replace(" ", "_")
                    d["condition"] = key
                    if key and isinstance(grade.get("label"), str):
                        conds[key] = (grade["label"], None)
                elif isinstance(grade, str):
                    d["condition"] = grade
            span = body.get("crm:P4_has_time-span")
            if isinstance(span, dict):
                when = (span.get("crm:P82_at_some_time_within")
                        or span.get("crm:P82a_begin_of_the_begin"))
                if when is not None:
                    d["observed"] = str(when)
            elif isinstance(span, str):
                d["observed"] = span
            who = body.get("crm:P14_carried_out_by")
            if "author" not in d and isinstance(who, dict) and who.get("label"):
                d["author"] = str(who["label"])
        elif field_ == "category" or purpose == "classifying":
            src = body.get("source", body)
            if isinstance(src, str):
                d["category"] = unquote(src.rsplit("/", 1)[-1])
            elif isinstance(src, dict):
                key = src.get("rs:key")
                if not isinstance(key, str):
                    sid = str(src.get("id", ""))
                    key = unquote(sid.rsplit("/", 1)[-1]) if sid else None
                if not key and isinstance(src.get("label"), str):
                    key = src["label"].strip().lower().replace(" ", "_")
                if key:
                    d["category"] = key
                    if isinstance(src.get("label"), str):
                        cats[key] = (src["label"], None)
        elif field_ == "title":
            d["title"] = str(body.get("value", ""))
        elif field_ == "description" or (purpose in (None, "describing", "commenting")
                                         and "TextualBody" in types and "description" not in d):
            d["description"] = str(body.get("value", ""))
        elif purpose == "tagging":
            tags.append(str(body.get("value", "")))
        elif field_ == "media" or set(types) & {"Image", "Video", "Sound", "Text", "Dataset"}:
            src = body.get("id", body.get("source"))
            if not isinstance(src, str):
                raise _Bad(f"{where}: a media body needs an id (its path)")
            media.append(unquote(src))
    d["tags"], d["media"] = tags, media

    target = rec.get("target")
    if isinstance(target, list):
        target = target[0] if target else None
    if not isinstance(target, dict):
        raise _Bad(f"{where}: the target needs a selector with the geometry")
    crs = None
    kind = rec.get("rs:kind")
    points = None
    point_sel = None
    for sel in _as_list(target.get("selector")):
        if not isinstance(sel, dict):
            continue
        st = _types(sel)
        if "WKTSelector" in st:
            wkind, wpts = parse_wkt(sel.get("value"))
            if sel.get("crs") is not None:
                crs = crs_from_text(sel.get("crs"))
            if sel.get("rs:kind") == "box" or kind == "box":
                kind = "box"
                if wkind != "box":
                    wpts = [[min(p[i] for p in wpts) for i in range(3)],
                            [max(p[i] for p in wpts) for i in range(3)]]
            kind = kind or wkind
            if points is None:
                points = wpts
        elif "PointSelector" in st:
            try:
                point_sel = [[float(sel["x"]), float(sel["y"]), float(sel["z"])]]
            except (KeyError, TypeError, ValueError):
                raise _Bad(f"{where}: a PointSelector needs numeric x, y and z") from None
    if points is None and point_sel is not None:
        points, kind = point_sel, kind or "point"
    if points is None and target.get("rs:points") is not None:
        points = _coords(target["rs:points"], where)
    if points is None:
        raise _Bad(f"{where}: the target has no WKTSelector or PointSelector")
    if not kind:
        raise _Bad(f"{where}: cannot tell the annotation kind")
    d["kind"], d["points"] = kind, points
    if target.get("rs:link") is not None:
        d["link"] = target["rs:link"]
    if target.get("rs:view") is not None:
        d["view"] = target["rs:view"]
    return _make(d, where), crs, cats, conds


def parse_webanno(doc: Any) -> ImportResult:
    """A collection, page, single annotation or list of annotations -> ImportResult."""
    meta: dict[str, Any] = {}
    if isinstance(doc, list):
        records = doc
    elif isinstance(doc, dict):
        types = _types(doc)
        if "Annotation" in types:
            records = [doc]
        elif "AnnotationPage" in types:
            records = _as_list(doc.get("items"))
            meta = doc
        elif "AnnotationCollection" in types:
            meta = doc
            records = []
            page = doc.get("first")
            seen = 0
            while isinstance(page, dict) and seen < 100000:
                records.extend(_as_list(page.get("items")))
                page = page.get("next")
                seen += 1
            if isinstance(page, str):
                raise _Bad("the collection's pages are not embedded (linked page "
                           f"{page!r}); only embedded pages can be read")
            records.extend(_as_list(doc.get("items")))
        else:
            raise _Bad("JSON-LD without an Annotation, AnnotationPage or "
                       "AnnotationCollection")
    else:
        raise _Bad("expected a JSON object or list")
    result = ImportResult(annotations=[], format="webanno")
    crss = set()
    for i, rec in enumerate(records):
        ann, crs, cats, conds = _webanno_record(rec, f"annotation {i + 1}")
        result.annotations.append(ann)
        if crs is not None:
            crss.add(crs)
        for k, v in cats.items():
            result.categories.setdefault(k, v)
        for k, v in conds.items():
            result.conditions.setdefault(k, v)
    if len(crss) > 1:
        raise _Bad(f"annotations in different CRSs ({', '.join(sorted(crss))})")
    declared = crs_from_text(meta.get("rs:crs")) if meta.get("rs:crs") else None
    result.crs = crss.pop() if crss else declared
    vocab = meta.get("rs:vocabulary")
    if isinstance(vocab, dict):
        result.categories.update(_terms_from(vocab.get("categories")))
        result.conditions.update(_terms_from(vocab.get("conditions")))
    result.measurements = _measurements_from_dicts(meta.get("rs:measurements"))
    return result


def _measurements_from_dicts(items: Any) -> list[Measurement]:
    out = []
    for i, m in enumerate(_as_list(items)):
        try:
            out.append(Measurement.from_dict(m))
        except (KeyError, TypeError, ValueError) as exc:
            raise _Bad(f"measurement {i + 1}: {exc}") from None
    return out


def from_webanno(doc: Any) -> tuple[list[Annotation], str | None]:
    """Web Annotation JSON-LD -> (annotations, project CRS). Raises ValueError."""
    r = _wrap("<webanno>", parse_webanno, doc)
    return r.annotations, r.crs


# ---------------------------------------------------------------------------------------
# GeoJSON
# ---------------------------------------------------------------------------------------


def _properties(ann: Annotation, vocab: Vocabulary) -> dict[str, Any]:
    d = ann.to_dict()
    props: dict[str, Any] = {"id": ann.id, "kind": ann.kind}
    for key in ("title", "description", "category"):
        props[key] = d[key]
    props["category_label"] = vocab.category_label(ann.category)
    props["condition"] = ann.condition
    props["condition_label"] = (vocab.conditions.get(ann.condition, (ann.condition,))[0]
                                if ann.condition is not None else None)
    for key in ("observed", "author", "tags", "media", "link", "view", "color", "visible",
                "created", "modified"):
        props[key] = d[key]
    return props


def _geometry(ann: Annotation) -> dict[str, Any]:
    pts = ann.points
    if ann.kind == "point":
        return {"type": "Point", "coordinates": list(pts[0])}
    if ann.kind == "polyline":
        return {"type": "LineString", "coordinates": [list(p) for p in pts]}
    if ann.kind == "polygon":
        return {"type": "Polygon", "coordinates": [_ring(pts)]}
    (x0, y0, z0), (x1, y1, _z1) = pts
    foot = [[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0]]
    return {"type": "Polygon", "coordinates": [_ring(foot)]}


def _unit_suffix(kind: str, unit: str | None) -> str | None:
    what = UNITS.get(kind, "length")
    if what == "degrees":
        return "deg"
    if unit is None:
        return None
    return f"{unit}2" if what == "area" else unit


def _geojson_features(project: Project) -> Any:
    for ann in project.annotations:
        props = _properties(ann, project.vocabulary)
        if ann.kind == "box":
            props["zmin"], props["zmax"] = ann.points[0][2], ann.points[1][2]
        yield {"type": "Feature", "id": ann.id, "geometry": _geometry(ann),
               "properties": props}
    unit = crs_units(project.crs) if project.measurements else None
    for m in project.measurements:
        if m.kind in AREA_MEASUREMENTS:
            geom = {"type": "Polygon", "coordinates": [_ring(m.points)]}
        else:
            geom = {"type": "LineString", "coordinates": [list(p) for p in m.points]}
        yield {"type": "Feature", "id": m.id, "geometry": geom, "properties": {
            "id": m.id, "kind": "measurement", "measurement_kind": m.kind, "label": m.label,
            "value": m.value, "units": _unit_suffix(m.kind, unit), "created": m.created}}


def _geojson_head(project: Project) -> dict[str, Any]:
    fc: dict[str, Any] = {"type": "FeatureCollection"}
    if project.crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs_urn(project.crs)}}
    fc["name"] = project.title or (project.path.stem if project.path else "annotations")
    fc["realscene"] = {"format": "realscene-annotations", "version": 1,
                       "vocabulary": _vocab_terms(project.vocabulary)}
    return fc


def to_geojson(project: Project) -> dict[str, Any]:
    """The annotations (and measurements) as a 3D GeoJSON FeatureCollection."""
    fc = _geojson_head(project)
    fc["features"] = list(_geojson_features(project))
    return fc


def write_geojson(project: Project, fh: Any) -> None:
    """Write :func:`to_geojson` to the text file ``fh``, one feature at a time."""
    _write_envelope(fh, _geojson_head(project), '\n  "features": [',
                    _geojson_features(project), "    ", "\n  ]\n}\n")


def _geom_points(geom: Any, where: str) -> tuple[str, list[list[float]]]:
    if not isinstance(geom, dict):
        raise _Bad(f"{where}: the feature has no geometry")
    gtype, coords = geom.get("type"), geom.get("coordinates")
    if gtype == "Point":
        return "point", _coords([coords], where)
    if gtype == "LineString":
        return "polyline", _coords(coords, where)
    if gtype == "Polygon":
        if not isinstance(coords, list) or not coords:
            raise _Bad(f"{where}: a Polygon needs a ring")
        return "polygon", _coords(coords[0], where)
    if gtype == "MultiPoint":
        return "multipoint", _coords(coords, where)
    raise _Bad(f"{where}: unsupported geometry type {gtype!r}")


def parse_geojson(doc: Any) -> ImportResult:
    if not isinstance(doc, dict):
        raise _Bad("GeoJSON must be an object")
    if doc.get("type") == "Feature":
        features = [doc]
    elif doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise _Bad("a FeatureCollection needs a list of features")
    else:
        raise _Bad(f"not GeoJSON (type {doc.get('type')!r})")
    result = ImportResult(annotations=[], format="geojson")
    crs_obj = doc.get("crs")
    if isinstance(crs_obj, dict):
        props = crs_obj.get("properties") or {}
        if crs_obj.get("type") == "name" and isinstance(props.get("name"), str):
            result.crs = crs_from_text(props["name"])
        elif crs_obj.get("type") in ("EPSG", "epsg") and props.get("code") is not None:
            result.crs = f"EPSG:{int(props['code'])}"
        else:
            raise _Bad("the crs member must be a named CRS "
                       "({\"type\": \"name\", \"properties\": {\"name\": ...}})")
    elif crs_obj is not None:
        raise _Bad("the crs member must be an object")
    meta = doc.get("realscene")
    if isinstance(meta, dict) and isinstance(meta.get("vocabulary"), dict):
        result.categories.update(_terms_from(meta["vocabulary"].get("categories")))
        result.conditions.update(_terms_from(meta["vocabulary"].get("conditions")))
    for i, feat in enumerate(features):
        where = f"feature {i + 1}"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise _Bad(f"{where}: not a Feature")
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise _Bad(f"{where}: properties must be an object")
        fid = props.get("id", feat.get("id"))
        if fid is not None:
            where = f"{where} ({fid})"
        gkind, pts = _geom_points(feat.get("geometry"), where)
        if props.get("kind") == "measurement":
            if gkind == "polygon":
                pts = _unring(pts)
            d = {"kind": props.get("measurement_kind"), "points": pts,
                 "label": props.get("label") or "", "id": fid,
                 "created": props.get("created")}
            try:
                result.measurements.append(Measurement.from_dict(d))
            except (KeyError, TypeError, ValueError) as exc:
                raise _Bad(f"{where}: {exc}") from None
            continue
        kind = props.get("kind") or ("point" if gkind in ("point", "multipoint") else gkind)
        if kind == "box":
            if gkind != "polygon":
                raise _Bad(f"{where}: a box must be a Polygon footprint")
            try:
                zmin = float(props.get("zmin", min(p[2] for p in pts)))
                zmax = float(props.get("zmax", max(p[2] for p in pts)))
            except (TypeError, ValueError):
                raise _Bad(f"{where}: zmin/zmax must be numbers") from None
            pts = [[min(p[0] for p in pts), min(p[1] for p in pts), zmin],
                   [max(p[0] for p in pts), max(p[1] for p in pts), zmax]]
        elif gkind == "polygon":
            pts = _unring(pts)
        d = {k: v for k, v in props.items()
             if k not in ("category_label", "condition_label", "zmin", "zmax", "points")}
        d["kind"], d["points"] = kind, pts
        if fid is not None:
            d["id"] = str(fid)
        if props.get("category_label") and props.get("category"):
            result.categories.setdefault(str(props["category"]),
                                         (str(props["category_label"]), None))
        if props.get("condition_label") and props.get("condition"):
            result.conditions.setdefault(str(props["condition"]),
                                         (str(props["condition_label"]), None))
        result.annotations.append(_make(d, where))
    return result


def from_geojson(doc: Any) -> tuple[list[Annotation], str | None]:
    """GeoJSON -> (annotations, CRS; None if the file states none). Raises ValueError."""
    r = _wrap("<geojson>", parse_geojson, doc)
    return r.annotations, r.crs


# ---------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    def esc(s: str) -> str:
        return "\\e" if s == "" else s.replace("\\", "\\\\").replace(";", "\\;")

    return ";".join(esc(s) for s in items)


def _split(text: str) -> list[str]:
    if not text:
        return []
    out: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            cur.append({"\\": "\\", ";": ";", "e": ""}.get(nxt, ch + nxt))
            i += 2
            continue
        if ch == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def csv_safe(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula (see the module docstring)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_unsafe(text: str) -> str:
    """Undo :func:`csv_safe` exactly: one leading ``'`` goes when the next character is
    one that :func:`csv_safe` protects."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r'":
        return text[1:]
    return text


def write_csv(project: Project, fh: Any) -> None:
    """Write the annotation table to the text file ``fh``, one row at a time."""
    w = csv.writer(fh, lineterminator="\r\n")  # RFC 4180; quotes a lone CR too
    w.writerow(CSV_COLUMNS)
    vocab = project.vocabulary
    danger = _FORMULA_START
    for row in _csv_rows(project, vocab):  # (csv_safe, inlined: 20 cells a row)
        w.writerow([("'" + c) if c.startswith(danger) else c for c in row])


def to_csv(project: Project) -> str:
    """One row per annotation (see the module docstring for the columns)."""
    buf = io.StringIO()
    write_csv(project, buf)
    return buf.getvalue()


def _csv_rows(project: Project, vocab: Vocabulary) -> Any:
    for a in project.annotations:
        yield [
            a.id, a.kind, a.title, a.description, a.category,
            vocab.category_label(a.category),
            a.condition or "",
            vocab.conditions.get(a.condition, (a.condition,))[0] if a.condition else "",
            a.observed or "", a.author, _join(a.tags), _join(a.media),
            json.dumps(a.link, ensure_ascii=False) if a.link is not None else "",
            to_wkt(a), project.crs or "",
            json.dumps(a.view, ensure_ascii=False) if a.view is not None else "",
            _hex(a.color), "true" if a.visible else "false", a.created, a.modified,
        ]


def measurements_to_csv(project: Project) -> str:
    """A separate table of measurements: id, kind, label, value, units, wkt, crs, created."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(("id", "kind", "label", "value", "units", "wkt", "crs", "created"))
    unit = crs_units(project.crs)
    for m in project.measurements:
        wkt = "LINESTRING Z (" + ", ".join(_xyz(p) for p in m.points) + ")"
        w.writerow([csv_safe(m.id), m.kind, csv_safe(m.label), repr(m.value),
                    _unit_suffix(m.kind, unit) or "", wkt, csv_safe(project.crs or ""),
                    csv_safe(m.created)])
    return buf.getvalue()


def parse_csv(text: str) -> ImportResult:
    try:
        return _parse_csv(text)
    except csv.Error as exc:
        msg = str(exc)
        if "field larger than field limit" in msg:
            msg = (f"a field is longer than {CSV_FIELD_LIMIT:,} characters (the most "
                   "RealScene reads)")
        raise _Bad(f"not readable as CSV: {msg}") from None


def _parse_csv(text: str) -> ImportResult:
    if text.startswith("\ufeff"):
        text = text[1:]
    if csv.field_size_limit() != CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in ("kind", "wkt") if c not in header]
    if missing:
        raise _Bad(f"CSV header lacks the column(s) {', '.join(missing)} "
                   f"(expected {', '.join(CSV_COLUMNS)})")
    result = ImportResult(annotations=[], format="csv")
    crss = set()
    for n, row in enumerate(reader, start=2):
        where = f"line {reader.line_num} (row {n - 1})"
        if None in row:
            raise _Bad(f"{where}: more fields than the header has")
        row = {k: (csv_unsafe(v) if v is not None else "") for k, v in row.items()}
        if not any(row.values()):
            continue
        try:
            wkind, pts = parse_wkt(row["wkt"])
        except _Bad as exc:
            raise _Bad(f"{where}: {exc}") from None
        kind = row.get("kind") or wkind
        if kind == "box" and wkind != "box":
            pts = [[min(p[i] for p in pts) for i in range(3)],
                   [max(p[i] for p in pts) for i in range(3)]]
        d: dict[str, Any] = {"kind": kind, "points": pts}
        for key in ("id", "title", "description", "category", "author", "created",
                    "modified"):
            if row.get(key):
                d[key] = row[key]
        d["condition"] = row.get("condition") or None
        d["observed"] = row.get("observed") or None
        d["tags"] = _split(row.get("tags", ""))
        d["media"] = _split(row.get("media", ""))
        for key in ("link", "view"):
            if row.get(key):
                try:
                    d[key] = json.loads(row[key])
                except json.JSONDecodeError as exc:
                    raise _Bad(f"{where}: column {key} is not JSON ({exc.msg})") from None
        try:
            d["color"] = _unhex(row.get("color", ""))
        except _Bad as exc:
            raise _Bad(f"{where}: {exc}") from None
        vis = (row.get("visible") or "true").strip().lower()
        if vis not in ("true", "false", "1", "0", "yes", "no"):
            raise _Bad(f"{where}: visible must be true or false, got {vis!r}")
        d["visible"] = vis in ("true", "1", "yes")
        if row.get("crs"):
            crss.add(crs_from_text(row["crs"]))
        if row.get("category") and row.get("category_label"):
            result.categories.setdefault(row["category"], (row["category_label"], None))
        if row.get("condition") and row.get("condition_label"):
            result.conditions.setdefault(row["condition"], (row["condition_label"], None))
        result.annotations.append(_make(d, where))
    if len(crss) > 1:
        raise _Bad(f"rows in different CRSs ({', '.join(sorted(map(str, crss)))})")
    result.crs = crss.pop() if crss else None
    return result


def from_csv(text: str) -> tuple[list[Annotation], str | None]:
    """CSV text -> (annotations, CRS from the crs column). Raises ValueError."""
    r = _wrap("<csv>", parse_csv, text)
    return r.annotations, r.crs


# ---------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------


def _wrap(where: str | Path, fn: Any, arg: Any) -> ImportResult:
    try:
        return fn(arg)
    except _Bad as exc:
        raise ExchangeError(where, str(exc)) from None
    except RecursionError:
        raise ExchangeError(where, "structure nested too deeply") from None


def read_file(path: str | Path) -> ImportResult:
    """Read an annotation file, choosing the format by content (not by extension):
    Web Annotation JSON-LD, GeoJSON, CSV, or a RealScene project."""
    path = Path(path)
    try:
        with open_regular(path, MAX_IMPORT_BYTES) as fh:
            data = fh.read()
        text = data.decode("utf-8-sig")
        del data
    except FileNotFoundError:
        raise ExchangeError(path, "file not found") from None
    except IsADirectoryError:
        raise ExchangeError(path, "is a folder, not a file") from None
    except UnsafePath as exc:
        raise ExchangeError(path, f"cannot read: it {exc.reason}") from None
    except UnicodeDecodeError:
        raise ExchangeError(path, "not a text file (expected UTF-8 JSON or CSV)") from None
    except OSError as exc:
        raise ExchangeError(path, f"cannot read: {exc.strerror or exc}") from None
    head = text.lstrip()
    if not head:
        raise ExchangeError(path, "the file is empty")
    if head[0] in "{[":
        try:
            doc = parse_json(text, path)
        except ProjectError as exc:  # (the same checks as for a project)
            raise ExchangeError(path, exc.reason) from None
        if isinstance(doc, dict) and doc.get("format") == FORMAT_NAME:
            try:
                proj = Project.from_dict(doc, path)
            except ProjectError as exc:
                raise ExchangeError(path, exc.reason) from None
            return ImportResult(
                annotations=proj.annotations, crs=proj.crs, format="project",
                categories=dict(proj.vocabulary.categories),
                conditions=dict(proj.vocabulary.conditions),
                measurements=proj.measurements)
        if isinstance(doc, dict) and doc.get("type") in ("FeatureCollection", "Feature"):
            return _wrap(path, parse_geojson, doc)
        if isinstance(doc, dict) and ("@context" in doc or set(_types(doc)) & {
                "Annotation", "AnnotationPage", "AnnotationCollection"}):
            return _wrap(path, parse_webanno, doc)
        if isinstance(doc, list) and doc and all("Annotation" in _types(x) for x in doc):
            return _wrap(path, parse_webanno, doc)
        raise ExchangeError(path, "JSON but neither Web Annotation (JSON-LD), GeoJSON nor a "
                            "RealScene project")
    first = head[:65536].splitlines()[0]
    columns = {c.strip().strip('"').lower() for c in first.split(",")}
    if "," in first and columns & {"wkt", "kind", "id"}:
        return _wrap(path, parse_csv, text)
    raise ExchangeError(path, "unknown annotation format (expected Web Annotation JSON-LD, "
                        "GeoJSON, or CSV with a wkt column)")


def import_file(path: str | Path) -> tuple[list[Annotation], str | None]:
    """Read annotations from a file, choosing the format by content -> (annotations, crs)."""
    r = read_file(path)
    return r.annotations, r.crs


def merge_into(project: Project, result: ImportResult, where: str | Path = "<import>"
               ) -> tuple[int, int]:
    """Add imported annotations to ``project`` (same id: the imported one replaces it),
    plus unknown vocabulary terms. Refuses a file in another CRS. -> (added, replaced)."""
    if result.crs and project.crs and not same_crs(result.crs, project.crs):
        raise ExchangeError(where, f"annotations are in {result.crs}, the project in "
                            f"{project.crs}; reproject them first")
    if result.crs and not project.crs:
        project.crs = result.crs
    index = {a.id: i for i, a in enumerate(project.annotations)}
    added = replaced = 0
    for ann in result.annotations:
        if ann.id in index:
            project.annotations[index[ann.id]] = ann
            replaced += 1
        else:
            index[ann.id] = len(project.annotations)
            project.annotations.append(ann)
            added += 1
    default = (200, 200, 200)
    used_c = {a.category for a in result.annotations}
    for key, (label, color) in result.categories.items():
        if key in used_c and key not in project.vocabulary.categories:
            project.vocabulary.categories[key] = (label, tuple(color or default))
    used_k = {a.condition for a in result.annotations}
    for key, (label, color) in result.conditions.items():
        if key in used_k and key not in project.vocabulary.conditions:
            project.vocabulary.conditions[key] = (label, tuple(color or default))
    return added, replaced


WRITERS = {"webanno": write_webanno, "geojson": write_geojson, "csv": write_csv}


def export_text(project: Project, fmt: str) -> str:
    if fmt not in WRITERS:
        raise ValueError(f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})")
    buf = io.StringIO()
    WRITERS[fmt](project, buf)
    return buf.getvalue()


def export(project: Project, fmt: str, out_path: str | Path, *, render_view: Any = None,
           on_warning: Any = None) -> Path:
    """Write the annotations as ``fmt`` (webanno, geojson, csv, report) atomically, a
    record at a time. Refused (ExchangeError): an output that is the project file itself
    (links included).

    ``report`` writes HTML, or a PDF when ``out_path`` ends in ``.pdf``; media it leaves
    out are passed to ``on_warning``."""
    out = Path(out_path)
    if project.path is not None and same_file(out, project.path):
        raise ExchangeError(out, "is the project file itself; choose another output name")
    if fmt == "report":
        from .report import write_pdf_report, write_report

        if out.suffix.lower() == ".pdf":
            return write_pdf_report(project, out, render_view=render_view,
                                    on_warning=on_warning)
        return write_report(project, out, render_view=render_view, on_warning=on_warning)
    if fmt not in WRITERS:
        raise ValueError(f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})")
    try:
        with atomic_writer(out) as fh:
            WRITERS[fmt](project, fh)
    except ValueError as exc:  # a value JSON cannot hold (NaN...)
        raise ExchangeError(out, f"cannot export: {exc}") from None
    return out
