"""What the exchange formats share: errors, the import result, CRS spellings, WKT and
the helpers every format module uses (no format of its own).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..measure import UNITS
from ..model import Annotation, Measurement, Vocabulary
from ..project import FORMAT_NAME, SCHEMA_VERSION, ProjectError, validate

EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"


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


class BadContent(Exception):
    """A content problem found by a format module; :func:`parse_with` turns it into
    :class:`ExchangeError` naming the file."""


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
        raise BadContent(f"a CRS must be text, got {type(text).__name__}")
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


def xyz_text(p: list[float]) -> str:
    return " ".join(_num(c) for c in p)


def closed_ring(points: list[list[float]]) -> list[list[float]]:
    """A closed ring: the vertices plus the first one again (always appended)."""
    return [list(p) for p in points] + [list(points[0])]


def open_ring(ring: list[list[float]]) -> list[list[float]]:
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
    return [closed_ring([c[k] for k in f]) for f in faces]


def to_wkt(ann: Annotation) -> str:
    """WKT with Z and full precision: POINT Z, LINESTRING Z, POLYGON Z, box as a closed
    POLYHEDRALSURFACE Z."""
    pts = ann.points
    if ann.kind == "point":
        return f"POINT Z ({xyz_text(pts[0])})"
    if ann.kind == "polyline":
        return "LINESTRING Z (" + ", ".join(xyz_text(p) for p in pts) + ")"
    if ann.kind == "polygon":
        return "POLYGON Z ((" + ", ".join(xyz_text(p) for p in closed_ring(pts)) + "))"
    faces = _box_faces(pts[0], pts[1])
    return ("POLYHEDRALSURFACE Z (" + ", ".join(
        "((" + ", ".join(xyz_text(p) for p in f) + "))" for f in faces) + ")")


_WKT_HEAD = re.compile(r"^\s*([A-Za-z]+)\s*(ZM|Z|M)?\s*(\(.*\))\s*$", re.S)


def _wkt_tokens(body: str) -> list[str]:
    return re.findall(r"\(|\)|,|[^\s(),]+", body)


def _wkt_nested(tokens: list[str], i: int, dims: int) -> tuple[list[Any], int]:
    if tokens[i] != "(":
        raise BadContent("malformed WKT: expected '('")
    i += 1
    items: list[Any] = []
    while True:
        if i >= len(tokens):
            raise BadContent("malformed WKT: missing ')'")
        if tokens[i] == "(":
            sub, i = _wkt_nested(tokens, i, dims)
            items.append(sub)
        else:
            coords = []
            while i < len(tokens) and tokens[i] not in ("(", ")", ","):
                try:
                    v = float(tokens[i])
                except ValueError:
                    raise BadContent(f"malformed WKT: {tokens[i]!r} is not a number") from None
                if not math.isfinite(v):
                    raise BadContent(f"malformed WKT: coordinate {tokens[i]!r} is not finite")
                coords.append(v)
                i += 1
            if len(coords) != dims:
                raise BadContent(f"WKT point with {len(coords)} coordinates; 3D (Z) coordinates "
                           "are needed")
            items.append(coords[:3])
        if i >= len(tokens):
            raise BadContent("malformed WKT: missing ')'")
        if tokens[i] == ",":
            i += 1
            continue
        if tokens[i] == ")":
            return items, i + 1
        raise BadContent(f"malformed WKT near {tokens[i]!r}")


def parse_wkt(text: str) -> tuple[str, list[list[float]]]:
    """WKT (with Z) -> (annotation kind, points). A polyhedral surface is a box."""
    if not isinstance(text, str):
        raise BadContent("WKT geometry must be text")
    m = _WKT_HEAD.match(text)
    if not m:
        raise BadContent(f"not WKT geometry: {text[:60]!r}")
    gtype, zflag, body = m.group(1).upper(), (m.group(2) or "").upper(), m.group(3)
    dims = 4 if zflag == "ZM" else 3
    tokens = _wkt_tokens(body)
    tree, end = _wkt_nested(tokens, 0, dims)
    if end != len(tokens):
        raise BadContent("malformed WKT: text after the geometry")
    if gtype == "POINT":
        if len(tree) != 1 or not isinstance(tree[0][0], float):
            raise BadContent("malformed WKT POINT")
        return "point", tree
    if gtype == "LINESTRING":
        _check_points(tree, "LINESTRING")
        return "polyline", tree
    if gtype == "POLYGON":
        if not tree or not isinstance(tree[0], list) or not tree[0] \
                or not isinstance(tree[0][0], list):
            raise BadContent("malformed WKT POLYGON")
        _check_points(tree[0], "POLYGON")
        return "polygon", open_ring(tree[0])
    if gtype in ("POLYHEDRALSURFACE", "TIN"):
        pts = [p for poly in tree for ring in poly for p in ring]
        _check_points(pts, gtype)
        lo = [min(p[i] for p in pts) for i in range(3)]
        hi = [max(p[i] for p in pts) for i in range(3)]
        return "box", [lo, hi]
    raise BadContent(f"unsupported WKT geometry type {gtype}")


def _check_points(pts: Any, what: str) -> None:
    if not isinstance(pts, list) or not pts or not all(
            isinstance(p, list) and len(p) == 3 and all(isinstance(c, float) for c in p)
            for p in pts):
        raise BadContent(f"malformed WKT {what}")


def point_list(value: Any, what: str) -> list[list[float]]:
    """A JSON list of [x, y, z] -> float points, checked."""
    if not isinstance(value, list) or not value:
        raise BadContent(f"{what}: expected a list of [x, y, z] positions")
    out = []
    for p in value:
        if not isinstance(p, list) or len(p) != 3 or not all(
                isinstance(c, (int, float)) and not isinstance(c, bool) for c in p):
            raise BadContent(f"{what}: every position needs 3 numbers (x, y, z), got {p!r}"[:200])
        if not all(math.isfinite(c) for c in p):
            raise BadContent(f"{what}: coordinates must be finite numbers")
        out.append([float(c) for c in p])
    return out


def make_annotation(d: dict[str, Any], where: str) -> Annotation:
    """An Annotation from imported fields, checked against the project schema so that a
    project holding it always opens again."""
    try:
        ann = Annotation.from_dict(d)
    except (TypeError, ValueError, KeyError) as exc:
        raise BadContent(f"{where}: {exc}") from None
    doc = {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "layers": [],
           "annotations": [ann.to_dict()], "measurements": []}
    try:
        validate(doc, where)
    except ProjectError as exc:
        reason = exc.reason.replace("invalid project at annotations/0/", "invalid ")
        reason = reason.replace("invalid project at annotations/0", "invalid annotation")
        raise BadContent(f"{where}: {reason}") from None
    return ann


def vocab_terms(vocab: Vocabulary) -> dict[str, Any]:
    return vocab.to_dict()


def terms_from(d: Any) -> dict[str, tuple[str, tuple[int, int, int] | None]]:
    out: dict[str, tuple[str, tuple[int, int, int] | None]] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            if isinstance(v, dict) and isinstance(v.get("label"), str):
                col = v.get("color")
                ok = isinstance(col, list) and len(col) == 3 and all(
                    isinstance(c, int) and 0 <= c <= 255 for c in col)
                out[str(k)] = (v["label"], tuple(col) if ok else None)
    return out


def dump_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def write_envelope(fh: Any, head: dict[str, Any], opening: str, items: Any,
                    indent: str, closing: str) -> None:
    """``head`` pretty-printed, then ``opening``, one compact JSON item a line (indented
    by ``indent``), then ``closing``: the same document as one json.dumps, written a
    record at a time."""
    text = json.dumps(head, indent=2, ensure_ascii=False, allow_nan=False)
    fh.write(text[:-2] + "," + opening)  # (text ends with "\n}")
    sep = "\n" + indent
    for item in items:
        fh.write(sep + dump_line(item))
        sep = ",\n" + indent
    fh.write(closing)


def as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def json_types(node: Any) -> list[str]:
    if not isinstance(node, dict):
        return []
    return [str(t) for t in as_list(node.get("type", node.get("@type")))]


def unit_suffix(kind: str, unit: str | None) -> str | None:
    what = UNITS.get(kind, "length")
    if what == "degrees":
        return "deg"
    if unit is None:
        return None
    return f"{unit}2" if what == "area" else unit


def parse_with(where: str | Path, fn: Any, arg: Any) -> ImportResult:
    try:
        return fn(arg)
    except BadContent as exc:
        raise ExchangeError(where, str(exc)) from None
    except RecursionError:
        raise ExchangeError(where, "structure nested too deeply") from None
