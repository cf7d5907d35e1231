"""CityJSON 1.0 / 1.1 / 2.0 and CityJSONSeq -> :class:`FeatureMesh`.

* Files: ``.city.json`` (or any ``.json`` whose content sniffs as CityJSON) and
  CityJSONSeq ``.city.jsonl`` / ``.jsonl`` (a ``CityJSON`` header line, then one
  ``CityJSONFeature`` per line with its own local vertex list).
* Vertices are decoded with the file's ``transform`` in float64 (CityJSON 1.0 files may
  have none), then split into float32 local positions plus a float64 origin.
* Every city object becomes one :class:`Feature` (also those without geometry, such as a
  parent ``Building`` whose geometry lives in its ``BuildingPart`` children).
* Geometry: MultiSurface, CompositeSurface, Solid, MultiSolid, CompositeSolid and
  GeometryInstance (template transformed by ``transformationMatrix`` and moved to the
  reference vertex). MultiPoint / MultiLineString are counted but not drawn.
* Every LOD in the file is returned (``face_lod`` indexes ``lod_names``); the viewer picks
  which to show, by default the highest per object (``metadata["default_lod"]`` is the
  highest LOD in the file).
* Triangulation (:mod:`loaders.triangulate`, shared with OBJ, PLY and OFF) is
  vectorised over the whole file: polygons without holes are
  fan-triangulated with numpy when the fan is valid (no fan triangle points against the
  polygon's Newell vector, which is the sum of the fan triangles' cross products; true
  for every convex polygon and for concave ones seen from a reflex corner); polygons
  with holes and the remaining concave ones are triangulated with ``mapbox_earcut`` after
  projecting their rings onto the plane of the outer ring's Newell normal (so vertical
  walls work). Triangles keep the outer ring's orientation (outward for valid solids).
  Repeated consecutive vertices are removed; surfaces of zero area are skipped (counted).
* Semantic surfaces go to ``face_semantic`` / ``semantic_names``; material diffuse
  colours of the first appearance theme go to ``face_colors``. Textures are not applied
  (listed in ``metadata["textures"]``; missing image files are never an error).
* Broken parts (out-of-range vertex indices, malformed boundaries, vertices that are
  not numbers) skip the geometry concerned, listed in ``metadata["skipped"]`` with a
  summary in ``metadata["warnings"]``; an object none of whose geometries is valid is
  left out. The file is refused (LoadError) only when nothing valid remains.

* Files from others: object types CityJSON does not define (not "+Extension" types) are
  read as generic objects and named in a warning (``unknown_types``); an id used by more
  than one CityJSONSeq line keeps every copy, later ones renamed ``ID#2``... and reported
  (``duplicate_ids``); a template instance's reference point that no surface uses is not
  part of the model or its bounds (``reference_points_dropped``).
* Parsing: msgspec decodes a well-formed file into structs (city objects and their
  attributes as Python objects) but keeps each geometry's ``boundaries`` and the
  ``vertices`` as their JSON text, which numpy reads all at once
  (:func:`index_boundaries`, :func:`parse_int_rows`): no Python list per ring, surface or
  vertex, which is where a large file's time went (building them, and the garbage
  collector walking them). A file msgspec refuses (a geometry that is not an object,
  NaN, a byte-order mark...) is parsed by orjson (json as the last resort) into lists,
  whose boundaries are written back as compact text for the same reading.
* Memory: the city objects are released as soon as they are collected, CityJSONSeq lines
  are parsed one at a time, and the triangulation's arrays per vertex use are made in
  blocks. ~7.5x the file (tracemalloc) for a well-formed file, ~15x on the JSON tree
  path (its peak is the parse); CityJSONSeq ~8x (tests/loaders/test_cityjson_untrusted.py).

``metadata``: format, version, sequence (CityJSONSeq?), city_objects (count by type),
object_count, feature_count, geometry_counts, lods, default_lod (highest LOD in the
file), semantic_counts (polygons per semantic type), semantic_triangle_counts,
vertex_count_file, template_instances, degenerate_surfaces, invalid_geometries, skipped,
warnings, crs_source, reference_system, transform, extensions, file_metadata (the file's
own ``metadata``), textures ({count, missing, applied}), material_theme.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from collections import deque
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - a pinned dependency; json is the fallback
    _orjson = None

from ..registry import ReaderSpec
from ..triangulate import EARCUT_MISSING, ranges, triangulate_polygons
from ..types import Feature, FeatureMesh, LoadError, ProgressFn, split_origin

KNOWN_VERSIONS = ("1.0", "1.1", "2.0")

# geometry type -> nesting depth of the surface list inside "boundaries"
_SURFACE_DEPTH = {"MultiSurface": 1, "CompositeSurface": 1, "Solid": 2, "MultiSolid": 3,
                  "CompositeSolid": 3}
_NOT_DRAWN = ("MultiPoint", "MultiLineString")

_MAX_SKIPPED_LINES = 50
_FEW_MATERIALS = 64  # materials in use; see _Builder._material_table
_PROGRESS_EVERY = 2000
_DEFAULT_COLOR = (204, 204, 204, 255)

# city object types of the CityJSON specifications 1.0 to 2.0; others are read as generic
# objects with a warning, except extension types ("+Type")
SPEC_TYPES = frozenset({
    "Bridge", "BridgePart", "BridgeInstallation", "BridgeConstructiveElement",
    "BridgeConstructionElement", "BridgeRoom", "BridgeFurniture", "Building", "BuildingPart",
    "BuildingInstallation", "BuildingConstructiveElement", "BuildingFurniture",
    "BuildingStorey", "BuildingRoom", "BuildingUnit", "CityFurniture", "CityObjectGroup",
    "GenericCityObject", "LandUse", "OtherConstruction", "PlantCover",
    "SolitaryVegetationObject", "TINRelief", "TransportSquare", "Railway", "Road", "Tunnel",
    "TunnelPart", "TunnelInstallation", "TunnelConstructiveElement", "TunnelHollowSpace",
    "TunnelFurniture", "WaterBody", "Waterway"})

_TYPE_RE = re.compile(rb'"type"\s*:\s*"CityJSON(?:Feature)?"')
_OBJECTS_RE = re.compile(rb'"CityObjects"\s*:\s*\{')


# ---------------------------------------------------------------------------- sniffing


def sniff(head: bytes, path: Path) -> bool:
    """True when the first bytes are a CityJSON object or a CityJSONSeq header/feature."""
    text = head[:4096]
    if not text.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return False
    return _TYPE_RE.search(text) is not None or _OBJECTS_RE.search(text) is not None


# ---------------------------------------------------------------------------- helpers


class _Bad(Exception):
    """A geometry that cannot be used; the message says why."""


def lod_key(lod: str) -> tuple:
    """Sort key for LOD names: "0" < "1" < "1.2" < "1.3" < "2" < "2.2" < "10"."""
    parts = []
    for p in lod.split("."):
        try:
            parts.append((0, int(p), ""))
        except ValueError:
            parts.append((1, 0, p))
    return tuple(parts)


def normalise_lod(value: Any) -> str:
    """A geometry's ``lod`` (string in 1.1/2.0, number in 1.0) as a string ("2", "1.2")."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else format(value, "g")
    return ""


_EPSG_PATTERNS = (
    re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/[^/]*/(\d+)/?$", re.I),
    re.compile(r"^urn:ogc:def:crs:EPSG:[^:]*:(\d+)$", re.I),
    re.compile(r"^EPSG:+(\d+)$", re.I),
)


def epsg_from_reference_system(text: str) -> int | None:
    """EPSG code of a CityJSON ``referenceSystem`` (URL, URN or "EPSG:n"), else None."""
    text = text.strip()
    for pattern in _EPSG_PATTERNS:
        m = pattern.match(text)
        if m:
            return int(m.group(1))
    return None


def _crs_from_text(text: str) -> Any:
    from pyproj import CRS

    code = epsg_from_reference_system(text)
    if code is not None:
        return CRS.from_epsg(code)
    return CRS.from_user_input(text)


def crs_from_reference_system(value: Any) -> tuple[Any, list[str]]:
    """``(pyproj.CRS or None, warnings)`` for a ``metadata.referenceSystem`` value."""
    if value is None or value == "":
        return None, ["the file has no referenceSystem: its coordinates have no CRS"]
    if not isinstance(value, str):
        return None, [f"referenceSystem {str(value)[:80]!r} is not a string; CRS unknown"]
    try:
        return _crs_from_text(value), []
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        return None, [f"referenceSystem {value[:120]!r} could not be turned into a CRS"
                      + (f" ({reason})" if reason else "")]


_TYPE_OF = itemgetter("type")


def _all_ints(values: list) -> bool:
    return set(map(type, values)) == {int}


def _flatten_values(values: Any, depth: int, n: int) -> list | None:
    """Per-surface values (semantics / material ``values``) flattened; None if unusable.

    ``values`` is nested like the surfaces (depth 1, 2 or 3); a null at any level means
    "none" for everything below it.
    """
    if values is None:
        return None
    if not isinstance(values, list):
        return None
    try:
        if depth == 1:
            flat = values
        elif depth == 2:
            flat = list(chain.from_iterable(values))
        else:
            flat = list(chain.from_iterable(chain.from_iterable(values)))
    except TypeError:
        flat = _flatten_slow(values, depth)
        if flat is None:
            return None
    if len(flat) != n:
        return None
    return flat


def _flatten_slow(values: Any, depth: int) -> list | None:
    if depth == 0:
        return [values if type(values) is int else None]
    if values is None:
        return None  # cannot know how many surfaces are below a null: caller handles
    if not isinstance(values, list):
        return None
    out: list = []
    for v in values:
        if depth == 1:
            out.append(v if type(v) is int else None)
        else:
            sub = _flatten_slow(v, depth - 1)
            if sub is None:
                return None
            out.extend(sub)
    return out


def _null_aware_flatten(values: Any, boundaries: Any, depth: int) -> list | None:
    """Flatten ``values`` using ``boundaries`` to size shells/solids that are null."""
    if depth == 1:
        return values if isinstance(values, list) else None
    if not isinstance(values, list) or len(values) != len(boundaries):
        return None
    out: list = []
    for v, b in zip(values, boundaries, strict=False):
        n = sum(len(s) for s in b) if depth == 3 else len(b)
        if v is None:
            out.extend(repeat(None, n))
            continue
        sub = _null_aware_flatten(v, b, depth - 1)
        if sub is None:
            return None
        out.extend(sub)
    return out


# ---------------------------------------------------------------------------- index text
# Boundaries and integer vertices are read from their JSON text with numpy (no Python
# list per ring, surface or vertex: building and garbage-collecting those lists took
# most of a large file's reading time).

_WS = b" \t\r\n"
_MAX_DIGITS = 18  # an index of more digits is malformed (int64 holds 18 safely)
_TOO_LARGE = 10 ** _MAX_DIGITS


def _digit_runs(b: np.ndarray, isd: np.ndarray):
    """Start and end (inclusive) positions of the runs of digits in ``b``."""
    edge = np.diff(isd.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edge == 1), np.flatnonzero(edge == -1) - 1


_NUMBER_BYTES = bytes(c if c in b"0123456789-" else 32 for c in range(256))


def _integers(text: bytes, count: int) -> np.ndarray:
    """The ``count`` integers of ``text``, JSON text whose only numbers are integers, in
    order; ValueError when there are not ``count`` of them or one has more than 18 digits
    (numpy reads those as the largest int64)."""
    out = np.fromstring(text.translate(_NUMBER_BYTES), dtype=np.int64, sep=" ")
    if out.size != count:
        raise ValueError(f"{out.size} integers read where {count} were counted")
    if out.size and (int(out.max()) >= _TOO_LARGE or int(out.min()) <= -_TOO_LARGE):
        raise ValueError("an integer of more than 18 digits")
    return out


_INT_TEXT = b"0123456789-,[]"  # all that JSON text of integer lists has (no whitespace)


def parse_int_rows(text: bytes) -> np.ndarray | None:
    """``[[x, y, z], ...]`` of integers (valid JSON text) -> (n, 3) int64; None when the
    text is anything else (floats, other row lengths, nulls...: the caller parses it as
    JSON). Checked on the brackets and commas only: rows follow each other (no number
    between them), each holds exactly two commas, and nothing but integers is there."""
    t = text.translate(None, _WS)
    if t == b"[]":
        return np.zeros((0, 3), np.int64)
    if len(t) < 7 or t[:2] != b"[[" or t[-2:] != b"]]" or t.translate(None, _INT_TEXT):
        return None
    b = np.frombuffer(t, np.uint8)
    o = np.flatnonzero(b == 91)[1:]  # row opens ...
    c = np.flatnonzero(b == 93)[:-1]  # ... and closes
    n = o.size
    if c.size != n or c[-1] != len(t) - 2 or (o >= c).any() or (o[1:] != c[:-1] + 2).any():
        return None
    k = np.flatnonzero(b == 44)
    if k.size != 3 * n - 1 or (np.searchsorted(k, c) - np.searchsorted(k, o) != 2).any():
        return None
    try:
        return _integers(t, 3 * n).reshape(-1, 3)
    except ValueError:  # a number of more than 18 digits
        return None


class _Indexed:
    """Boundaries of many geometries read from their JSON text (:func:`index_boundaries`):
    per geometry its number of surfaces (0 when invalid), per surface its number of
    rings, per ring its number of vertex ids, the vertex ids, and the invalid geometries
    with the reason."""

    __slots__ = ("nsurf", "rps", "rlen", "idx", "bad")

    def __init__(self, nsurf, rps, rlen, idx, bad):
        self.nsurf, self.rps, self.rlen, self.idx, self.bad = nsurf, rps, rlen, idx, bad


def _token_at(text: bytes, p: int) -> str:
    """The JSON value around position ``p`` of ``text`` (for a message)."""
    lo = max(text.rfind(b"[", 0, p + 1), text.rfind(b",", 0, p + 1),
             text.rfind(b"]", 0, p)) + 1
    hi = min((i for i in (text.find(b",", p), text.find(b"]", p), text.find(b"[", p))
              if i >= 0), default=len(text))
    return text[lo:hi].decode("utf-8", "replace").strip('"')[:20] or "?"


def _join_compact(parts: list[bytes]) -> tuple[bytes, np.ndarray]:
    """``parts`` joined without whitespace, and where each part ends in it."""
    text = b"".join(parts)
    compact = text.translate(None, _WS)
    if len(compact) != len(text):  # (pretty-printed: one part at a time)
        parts = [p.translate(None, _WS) for p in parts]
    return compact, np.cumsum(np.fromiter(map(len, parts), np.int64, count=len(parts)))


def _index_fast(text: bytes, ends: np.ndarray, depths: list[int]) -> _Indexed | None:
    """:func:`index_boundaries` when every geometry is valid (None otherwise), looking at
    the brackets and commas only: the level of each bracket, rings where the geometry's
    depth says, no list inside a ring, every list above the rings holding lists only (its
    first item and every item after a comma start with a bracket), ring lengths from their
    commas."""
    if text.translate(None, _INT_TEXT) or text.count(b"],") != text.count(b"],["):
        return None
    b = np.frombuffer(text, np.uint8)
    opens = b == 91
    pos = np.flatnonzero(opens | (b == 93))  # brackets
    is_open = opens[pos]
    del opens
    # (int16: JSON parsers refuse nesting that deep long before)
    lvl = np.cumsum(np.where(is_open, np.int8(1), np.int8(-1)), dtype=np.int16)
    ring_lvl = np.repeat(np.asarray(depths, np.int16) + 2,
                         np.diff(np.searchsorted(pos, ends), prepend=0))
    if (is_open & (lvl > ring_lvl)).any():
        return None
    low = pos[is_open & (lvl < ring_lvl)]
    nxt = b[low + 1]
    if not ((nxt == 91) | (nxt == 93)).all():
        return None
    ro = pos[is_open & (lvl == ring_lvl)]
    rc = pos[~is_open & (lvl == ring_lvl - 1)]
    so = pos[is_open & (lvl == ring_lvl - 1)]
    del pos, is_open, lvl, ring_lvl, low, nxt
    commas = np.flatnonzero(b == 44)
    rlen = np.searchsorted(commas, rc) - np.searchsorted(commas, ro) + (rc - ro > 1)
    del commas
    try:
        idx = _integers(text, int(rlen.sum()))
    except ValueError:  # a number of more than 18 digits, or numbers outside rings
        return None
    rps = np.diff(np.searchsorted(ro, so), append=ro.size)
    nsurf = np.diff(np.searchsorted(so, np.concatenate(([0], ends[:-1]))), append=so.size)
    return _Indexed(nsurf, rps, rlen, idx, {})


def index_boundaries(parts: list[bytes], depths: list[int]) -> _Indexed:
    """Read geometries' ``boundaries`` (compact JSON text, one part per geometry, each a
    JSON array) whose surfaces are nested ``depths[g]`` lists deep (1: MultiSurface, 2:
    Solid, 3: MultiSolid). A geometry holding anything but lists of rings of vertex ids
    (integers) at the right depth is invalid."""
    text, ends = _join_compact(parts)
    fast = _index_fast(text, ends, depths)
    if fast is not None:
        return fast
    lens = np.diff(ends, prepend=0)
    parts = [text[a:b] for a, b in zip((ends - lens).tolist(), ends.tolist(), strict=True)]
    # something is wrong somewhere: find the geometries concerned, byte by byte
    b = np.frombuffer(text, np.uint8)
    isd = (b >= 48) & (b <= 57)
    op = b == 91
    cl = b == 93
    # (int16: JSON parsers refuse nesting that deep long before)
    lvl = np.cumsum(op.view(np.int8) - cl.view(np.int8), dtype=np.int16)
    ring_lvl = np.repeat(np.asarray(depths, np.int16) + 2, lens)
    starts, rends = _digit_runs(b, isd)
    minus = b == 45
    wrong = ~(isd | op | cl | minus | (b == 44))  # not an integer, a list or a comma
    wrong[starts[lvl[starts] != ring_lvl[starts]]] = True  # an index outside a ring
    wrong[starts[rends - starts >= _MAX_DIGITS]] = True  # an index too large
    wrong |= op & (lvl > ring_lvl)  # lists inside rings
    wrong_at = np.flatnonzero(wrong)
    del wrong
    bad: dict[int, str] = {}
    if wrong_at.size:
        for gi, p in zip(*np.unique(np.searchsorted(ends, wrong_at, side="right"),
                                    return_index=True), strict=True):
            p = int(wrong_at[p])
            ch = text[p]
            if ch == 91 and lvl[p] > ring_lvl[p]:
                bad[int(gi)] = "a ring is not a list of vertex indices"
            elif 48 <= ch <= 57 and lvl[p] != ring_lvl[p] and rends[np.searchsorted(
                    starts, p)] - p < _MAX_DIGITS:
                bad[int(gi)] = ("a surface is not a list of rings" if lvl[p] < ring_lvl[p]
                                else "a ring is not a list of vertex indices")
            else:
                bad[int(gi)] = f"vertex index {_token_at(text, p)!r} is not an integer"
        del b, isd, op, cl, lvl, ring_lvl, starts, rends, minus
        parts = [b"[]" if gi in bad else p for gi, p in enumerate(parts)]
        out = index_boundaries(parts, depths)
        out.bad = bad
        return out
    ro = np.flatnonzero(op & (lvl == ring_lvl))
    rc = np.flatnonzero(cl & (lvl == ring_lvl - 1))
    so = np.flatnonzero(op & (lvl == ring_lvl - 1))
    del lvl, ring_lvl, op, cl
    rlen = np.searchsorted(starts, rc) - np.searchsorted(starts, ro)
    rps = np.diff(np.searchsorted(ro, so), append=ro.size)
    nsurf = np.diff(np.searchsorted(so, ends - lens), append=so.size)
    idx = _integers(text, starts.size)  # (negative ones are reported as out of range)
    return _Indexed(nsurf, rps, rlen, idx, bad)


def index_values(parts: list[bytes], depths: list[int]):
    """Per-surface values (semantics ``values``) of many geometries from their compact
    JSON text: lists nested ``depths[g]`` deep whose items are integers or null. Returns
    (readable per part, number of values per part, the values of the readable parts in
    order, null as -1). A part with anything else (floats, a null for a whole shell...) is
    not readable here."""
    G = len(parts)
    if not G:
        return np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0, np.int64)
    text, ends = _join_compact([p.replace(b"null", b"-1") for p in parts])
    lens = np.diff(ends, prepend=0)
    b = np.frombuffer(text, np.uint8)
    isd = (b >= 48) & (b <= 57)
    starts, rends = _digit_runs(b, isd)
    lvl = np.cumsum((b == 91).view(np.int8) - (b == 93).view(np.int8), dtype=np.int16)
    want = np.repeat(np.asarray(depths, np.int16), lens)
    wrong = np.zeros(b.size, bool)
    if text.translate(None, b"0123456789-,[]"):
        wrong = ~(isd | (b == 91) | (b == 93) | (b == 45) | (b == 44))
    wrong[starts[(lvl[starts] != want[starts]) | (rends - starts >= _MAX_DIGITS)]] = True
    wrong |= (b == 91) & (lvl > want)
    ok = np.ones(G, bool)
    ok[np.searchsorted(ends, np.flatnonzero(wrong), side="right")] = False
    counts = np.diff(np.searchsorted(starts, ends), prepend=0)
    if not ok.all():
        counts[~ok] = 0
        text = b"".join(text[a:b] for a, b, k in zip((ends - lens).tolist(), ends.tolist(),
                                                      ok.tolist(), strict=True) if k)
    return ok, counts, _integers(text, int(counts.sum()))


# ---------------------------------------------------------------------------- parsing
# A well-formed file is decoded by msgspec into the structs below: the city objects'
# own fields as Python objects, each geometry's boundaries and the vertices kept as
# their JSON text (read by index_boundaries / parse_int_rows). Anything else (a geometry
# that is not an object, NaN, a byte-order mark...) is parsed by orjson / json into
# dicts and lists, and read by the same code.


class _Semantics(msgspec.Struct, gc=False):
    values: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # JSON text
    surfaces: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # JSON text


class _Geometry(msgspec.Struct, gc=False):
    type: Any = None
    lod: Any = None
    boundaries: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # JSON text
    semantics: _Semantics | None = None
    material: Any = None
    template: Any = None
    transformationMatrix: Any = None  # noqa: N815 - the CityJSON key

    def get(self, key: str, default: Any = None) -> Any:
        v = getattr(self, key, None)
        return default if v is None or v is msgspec.UNSET else v

    def __getitem__(self, key: str) -> Any:
        v = getattr(self, key, None)
        if v is None or v is msgspec.UNSET:
            raise KeyError(key)
        return v


class _CityObject(msgspec.Struct, gc=False):
    type: Any = None
    attributes: Any = None
    parents: Any = None
    children: Any = None
    geometry: list[_Geometry] | None = None

    get = _Geometry.get


_GEOMETRY = (dict, _Geometry)
_RAW_FIELDS = ("type", "version", "CityObjects", "vertices", "transform", "metadata",
               "appearance", "extensions", "geometry-templates")


class _Document(msgspec.Struct, rename={"geometry_templates": "geometry-templates"}):
    type: Any = msgspec.UNSET
    version: Any = msgspec.UNSET
    CityObjects: dict[str, _CityObject] | msgspec.UnsetType = msgspec.UNSET  # noqa: N815
    vertices: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    transform: Any = msgspec.UNSET
    metadata: Any = msgspec.UNSET
    appearance: Any = msgspec.UNSET
    extensions: Any = msgspec.UNSET
    geometry_templates: Any = msgspec.UNSET


_DECODER = msgspec.json.Decoder(_Document)


def _parse_structs(raw: bytes) -> dict | None:
    """A CityJSON document whose city objects and geometries are all JSON objects, as a
    dict of its top-level keys (city objects as structs, boundaries and vertices as JSON
    text); None when msgspec cannot read it that way (the caller parses it as JSON)."""
    try:
        d = _DECODER.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None
    return {k: v for k, v in ((k, getattr(d, k.replace("-", "_"))) for k in _RAW_FIELDS)
            if v is not msgspec.UNSET}


# ---------------------------------------------------------------------------- builder


class _Builder:
    """Collects city objects and geometries from one or more chunks (a CityJSON file is
    one chunk; a CityJSONSeq file has one chunk per feature line), then triangulates
    everything at once with numpy."""

    def __init__(self, path: Path, report, total_objects: int) -> None:
        self.path = path
        self.report = report
        self.total_objects = max(total_objects, 1)
        self.warnings: list[str] = []
        self.skipped: list[str] = []
        self.skipped_extra = 0
        self.features: list[Feature] = []
        self.type_counts: dict[str, int] = {}
        self.geometry_counts: dict[str, int] = {}
        self.obj_geoms: list[int] = []  # geometries each feature has in the file
        self.obj_bad: list[int] = []  # ... of which invalid
        # vertices: blocks of float64 (n, 3)
        self.blocks: list[np.ndarray] = []
        self.n_vertices = 0
        self.vertex_count_file = 0
        # per geometry
        self.g_feat: list[int] = []
        self.g_lod: list[int] = []
        self.g_nsurf: np.ndarray = np.zeros(0, np.int64)  # known after index_boundaries
        self.g_text: list[bytes] = []  # boundaries as compact JSON text
        self.g_depth: list[int] = []  # nesting depth of the surface list
        self.g_voff: list[int] = []
        self.g_vcount: list[int] = []
        self.g_no: list[int] = []  # geometry number in its object
        self.g_type: list[Any] = []
        # per geometry with semantics / materials: (geometry, values, surfaces / kind),
        # made per surface once the surfaces are counted (_surface_values)
        self.g_sem: list[tuple[int, Any, Any]] = []
        self.g_mat: list[tuple[int, str, Any]] = []
        # per surface
        self.sem_vals = np.zeros(0, np.int64)  # semantic surface type id (sem_ids), -1 = none
        self.mat_vals = np.zeros(0, np.int64)  # material index of the theme, -1 = none
        self.has_materials = False
        self.theme: str | None = None
        # name tables
        self.lod_ids: dict[str, int] = {}
        self._lod_raw: dict[str, int] = {}  # lod as written in the file -> lod id
        self.sem_ids: dict[str, int] = {}
        self.missing_lod = 0
        self.bad_semantics = 0
        self.bad_semantics_first = ""
        self.n_objects_seen = 0
        # CityJSONSeq: ids seen so far, and the lines of ids that occur more than once
        self.seen_ids: set[str] | None = None
        self.duplicate_ids: dict[str, list[int]] = {}
        self.id_lines: dict[str, int] = {}
        self.renamed: dict[str, list[str]] = {}
        # vertex ids (in the concatenated vertices) of template instances' reference points
        self.ref_vertices: list[int] = []
        self.metadata_extra: dict[str, Any] = {}
        # templates
        self.templates: list = []
        self.template_vertices: np.ndarray | None = None
        self.instance_count = 0

    # ------------------------------------------------------------------ bookkeeping

    def skip(self, text: str) -> None:
        if len(self.skipped) < _MAX_SKIPPED_LINES:
            self.skipped.append(text)
        else:
            self.skipped_extra += 1

    def add_vertices(self, verts: np.ndarray) -> int:
        """Append a float64 block; returns its offset."""
        off = self.n_vertices
        self.blocks.append(verts)
        self.n_vertices += len(verts)
        return off

    def set_templates(self, doc: dict, transform) -> None:
        gt = doc.get("geometry-templates")
        if gt is None:
            return
        if not isinstance(gt, dict):
            self.warnings.append("'geometry-templates' is not an object; ignored")
            return
        templates = gt.get("templates")
        tverts = gt.get("vertices-templates")
        if not isinstance(templates, list) or not isinstance(tverts, list):
            self.warnings.append("'geometry-templates' lacks 'templates' or "
                                 "'vertices-templates'; instances will be skipped")
            return
        try:
            tv = np.array(tverts, dtype=np.float64) if tverts else np.zeros((0, 3))
        except (TypeError, ValueError):
            self.warnings.append("'vertices-templates' are not [x, y, z] numbers; "
                                 "instances will be skipped")
            return
        if tv.ndim != 2 or tv.shape[1] != 3:
            self.warnings.append("'vertices-templates' are not [x, y, z] numbers; "
                                 "instances will be skipped")
            return
        self.templates = templates
        self.template_vertices = tv

    # ------------------------------------------------------------------ objects

    def add_objects(self, objects: dict, voff: int, vcount: int, verts: np.ndarray,
                    line: int | None = None) -> None:
        """Collect ``objects`` (one CityJSON file, or one CityJSONSeq line ``line``)."""
        features = self.features
        type_counts = self.type_counts
        dups = None
        if self.seen_ids is not None:  # CityJSONSeq: ids must be unique across lines
            dups = self.seen_ids.intersection(objects)
            for oid in dups:  # the line of the first copy
                first = self.id_lines.get(oid)
                self.duplicate_ids.setdefault(oid, [] if first is None else [first])
            self.seen_ids.update(objects)
            if line is not None and len(self.id_lines) < 100_000:
                self.id_lines.update(dict.fromkeys(objects, line))
                for oid in dups:
                    self.id_lines[oid] = self.duplicate_ids[oid][0] if \
                        self.duplicate_ids[oid] else line
        for oid, obj in objects.items():
            if dups and oid in dups:
                oid = self._duplicate(oid, line)
            self.n_objects_seen += 1
            if self.n_objects_seen % _PROGRESS_EVERY == 0:
                self.report(0.05 + 0.45 * min(self.n_objects_seen / self.total_objects, 1.0),
                            f"reading city objects ({self.n_objects_seen:,})")
            if type(obj) is _CityObject:  # (attributes: faster than .get)
                otype, attrs, parents, children, geoms = (obj.type, obj.attributes,
                                                          obj.parents, obj.children,
                                                          obj.geometry)
            elif isinstance(obj, dict):
                otype, attrs, parents, children, geoms = (
                    obj.get("type"), obj.get("attributes"), obj.get("parents"),
                    obj.get("children"), obj.get("geometry"))
            else:
                self.skip(f"city object '{oid}' skipped: not a JSON object")
                continue
            if type(otype) is not str:
                otype = "Unknown"
            type_counts[otype] = type_counts.get(otype, 0) + 1
            if type(attrs) is not dict:
                attrs = {}
            parent = (parents[0] if type(parents) is list and parents
                      and type(parents[0]) is str else None)
            if type(children) is list:
                children = [c for c in children if type(c) is str]
            else:
                children = []
            fi = len(features)
            features.append(Feature(id=str(oid), type=otype, attributes=attrs,
                                    parent=parent, children=children))
            if not geoms:
                self.obj_geoms.append(0)
                self.obj_bad.append(0)
                continue
            if not isinstance(geoms, list):
                self.obj_geoms.append(1)
                self.obj_bad.append(1)
                self.skip(f"{otype} '{oid}': 'geometry' is not a list; skipped")
                continue
            bad = 0
            for gi, g in enumerate(geoms):
                try:
                    self._add_geometry(g, fi, gi, voff, vcount, verts)
                except (_Bad, TypeError, ValueError, KeyError, IndexError, AttributeError,
                        OverflowError) as exc:
                    bad += 1
                    gtype = g.get("type") if isinstance(g, _GEOMETRY) else None
                    self.skip(f"{otype} '{oid}': geometry #{gi}"
                              + (f" ({gtype})" if isinstance(gtype, str) else "")
                              + f" skipped: {_reason(exc)}")
            self.obj_geoms.append(len(geoms))
            self.obj_bad.append(bad)

    def _duplicate(self, oid: str, line: int | None) -> str:
        """An id already used by an earlier CityJSONSeq line: this copy is kept too, as
        ``ID#2`` (``#3``...), and reported."""
        lines = self.duplicate_ids.setdefault(oid, [])
        if line is not None:
            lines.append(line)
        k = len(self.renamed.get(oid, [])) + 2
        new = f"{oid}#{k}"
        while new in self.seen_ids:
            k += 1
            new = f"{oid}#{k}"
        self.seen_ids.add(new)
        self.renamed.setdefault(oid, []).append(new)
        return new

    def _lod_id(self, lod: str) -> int:
        if not lod:
            self.missing_lod += 1
            return -1
        i = self.lod_ids.get(lod)
        if i is None:
            i = self.lod_ids[lod] = len(self.lod_ids)
        return i

    def _add_geometry(self, g: Any, fi: int, gi: int, voff: int, vcount: int,
                      verts: np.ndarray) -> None:
        if type(g) is _Geometry:  # (attributes: 3x faster than .get)
            gtype, lod_value, sem, mat = g.type, g.lod, g.semantics, g.material
        elif isinstance(g, dict):
            gtype, lod_value, sem, mat = (g.get("type"), g.get("lod"), g.get("semantics"),
                                          g.get("material"))
        else:
            raise _Bad("not a JSON object")
        counts = self.geometry_counts
        counts[gtype] = counts.get(gtype, 0) + 1
        if gtype == "GeometryInstance":
            g, voff, vcount = self._instance(g, voff, vcount, verts)
            gtype, sem, mat = g.get("type"), g.get("semantics"), g.get("material")
            if lod_value is None:
                lod_value = g.get("lod")
        depth = _SURFACE_DEPTH.get(gtype)
        if depth is None:
            if gtype in _NOT_DRAWN:
                self._record(fi, gi, gtype, lod_value, b"[]", 1, voff, vcount)
                return
            raise _Bad(f"unknown geometry type {str(gtype)[:40]!r}")
        text = _boundary_text(g["boundaries"])
        k = len(self.g_feat)  # this geometry's number
        if type(sem) is _Semantics:
            if sem.values is not msgspec.UNSET:
                values = bytes(sem.values)
                if values != b"null":
                    self.g_sem.append((k, values, b"null" if sem.surfaces is msgspec.UNSET
                                       else bytes(sem.surfaces)))
        elif isinstance(sem, dict) and sem.get("values") is not None:
            self.g_sem.append((k, _json_text(sem["values"]), _json_text(sem.get("surfaces"))))
        if isinstance(mat, dict) and mat:  # of the chosen theme (the first one seen)
            if self.theme is None:
                self.theme = next(iter(mat))
            m = mat.get(self.theme)
            if isinstance(m, dict):
                if m.get("values") is not None:
                    self.g_mat.append((k, "values", m["values"]))
                elif type(m.get("value")) is int:
                    self.g_mat.append((k, "value", m["value"]))
        self._record(fi, gi, gtype, lod_value, text, depth, voff, vcount)

    def _surface_values(self, bad: dict[int, str]) -> None:
        """Semantic surface type and material per surface (``sem_vals``, ``mat_vals``),
        from the values of the geometries that have them (in the file's order, so that
        names get ids as they come)."""
        nsurf = self.g_nsurf
        first = (np.cumsum(nsurf) - nsurf).tolist()
        nsurf_l = nsurf.tolist()
        S = int(nsurf.sum())
        entries = [e for e in self.g_sem if e[0] not in bad]
        # the values of all geometries read at once; those numpy cannot read (nulls for
        # whole shells, floats...) one at a time below
        ok, counts, values = index_values([e[1] for e in entries],
                                          [self.g_depth[e[0]] for e in entries])
        ok_l, counts_l = ok.tolist(), counts.tolist()
        voff = (np.cumsum(counts) - counts).tolist()
        luts: dict[bytes, list[int] | None] = {}  # surfaces' text -> semantic id per surface
        lut_all: list[int] = []
        vec: list[tuple[int, int, int, int, int]] = []  # (first, n, value at, lut at, lut n)
        pos: list[int] = []  # ... and surfaces done one at a time, with their values
        vals: list[int] = []
        for (k, vtext, stext), okk, cnt, vo in zip(entries, ok_l, counts_l, voff,
                                                    strict=True):
            n = nsurf_l[k]
            flat = None
            if not okk:
                flat = self._flat(_parse(vtext), k, n)
            lut = luts[stext] if stext in luts else luts.setdefault(stext, self._lut(stext))
            if (flat is None and not (okk and cnt == n)) or lut is None:
                if not self.bad_semantics:
                    fi, gi = self.g_feat[k], self.g_no[k]
                    self.bad_semantics_first = f"'{self.features[fi].id}' geometry #{gi}"
                self.bad_semantics += 1
                continue
            m = len(lut)
            if flat is None:  # read by index_values
                vec.append((first[k], n, vo, len(lut_all), m))
                lut_all.extend(lut)
                continue
            pos.extend(range(first[k], first[k] + n))
            vals.extend([lut[v] if type(v) is int and 0 <= v < m else -1 for v in flat])
        sem_vals = _per_surface(S, pos, vals)
        if vec and lut_all:
            at, n, vo, lo, lm = (np.array(c, np.int64) for c in zip(*vec, strict=True))
            v = values[ranges(vo, n)]
            lm = np.repeat(lm, n)
            good = (v >= 0) & (v < lm)
            sem_vals[ranges(at, n)] = np.where(
                good, np.asarray(lut_all, np.int64)[np.repeat(lo, n) + np.where(good, v, 0)],
                -1)
        self.sem_vals = sem_vals
        self.g_sem = []
        pos, vals = [], []
        for k, kind, values in self.g_mat:
            if k in bad:
                continue
            n = nsurf_l[k]
            if kind == "value":
                flat = [values] * n
            else:
                flat = self._flat(values, k, n)
                if flat is None:
                    continue
            self.has_materials = True
            pos.extend(range(first[k], first[k] + n))
            if flat and _all_ints(flat) and min(flat) >= 0:
                vals.extend(flat)
            else:
                vals.extend([v if type(v) is int and v >= 0 else -1 for v in flat])
        self.g_mat = []
        self.mat_vals = _per_surface(S, pos, vals)

    def _lut(self, surfaces_text: bytes) -> list[int] | None:
        """Semantic id of each of a geometry's semantic ``surfaces`` (JSON text; -1 for
        one without a type); None when they are not a list. New names get the next id."""
        try:
            surfs = _parse(surfaces_text)
        except (ValueError, RecursionError):
            return None
        if not isinstance(surfs, list):
            return None
        ids = self.sem_ids
        try:  # the usual case, at C speed: every surface has a string "type"
            names = list(map(_TYPE_OF, surfs))
            if set(map(type, names)) != {str}:
                raise TypeError
            for nm in set(names).difference(ids):
                ids[nm] = len(ids)
            return list(map(ids.__getitem__, names))
        except (TypeError, KeyError, IndexError):
            return [ids.setdefault(nm, len(ids)) if type(nm := s.get("type") if type(s)
                                                       is dict else None) is str else -1
                    for s in surfs]

    def _flat(self, values: Any, k: int, n: int) -> list | None:
        """Geometry ``k``'s per-surface ``values`` (semantics or material) flattened to
        its ``n`` surfaces; None when they do not match its surfaces."""
        depth = self.g_depth[k]
        flat = _flatten_values(values, depth, n)
        if flat is None:  # nulls for whole shells / solids: sized from the boundaries
            flat = _null_aware_flatten(values, _parse(self.g_text[k]), depth)
            if flat is not None and len(flat) != n:
                flat = None
        return flat

    def _record(self, fi, gi, gtype, lod_value, text, depth, voff, vcount) -> None:
        self.g_feat.append(fi)
        i = self._lod_raw.get(lod_value) if type(lod_value) is str else None
        if i is None:
            i = self._lod_id(normalise_lod(lod_value))
            if i >= 0 and type(lod_value) is str:
                self._lod_raw[lod_value] = i
        self.g_lod.append(i)
        self.g_text.append(text)
        self.g_depth.append(depth)
        self.g_voff.append(voff)
        self.g_vcount.append(vcount)
        self.g_no.append(gi)
        self.g_type.append(gtype)

    def _instance(self, g: dict, voff: int, vcount: int, verts: np.ndarray):
        """Resolve a GeometryInstance: returns (template geometry, vertex offset, count)."""
        if self.template_vertices is None:
            raise _Bad("GeometryInstance but the file has no usable geometry-templates")
        t = g.get("template")
        if type(t) is not int or not 0 <= t < len(self.templates):
            raise _Bad(f"template {str(t)[:20]} does not exist "
                       f"(the file has {len(self.templates)})")
        tg = self.templates[t]
        if not isinstance(tg, dict):
            raise _Bad(f"template {t} is not a geometry")
        ref = g.get("boundaries")
        if type(ref) is msgspec.Raw:
            ref = _parse(bytes(ref))
        if not (isinstance(ref, list) and len(ref) == 1 and type(ref[0]) is int):
            raise _Bad("instance 'boundaries' must hold exactly one vertex index")
        r = ref[0]
        if not 0 <= r < vcount:
            raise _Bad(f"references vertex {r} but there are {vcount} vertices")
        m = g.get("transformationMatrix")
        if m is None:
            mat = np.eye(4)
        else:
            mat = np.asarray(m, dtype=np.float64)
            if mat.shape != (16,):
                raise _Bad("transformationMatrix must hold 16 numbers")
            mat = mat.reshape(4, 4)  # row-major
        tv = self.template_vertices
        moved = tv @ mat[:3, :3].T + mat[:3, 3] + verts[r]
        self.instance_count += 1
        self.ref_vertices.append(voff + r)
        return tg, self.add_vertices(moved), len(tv)

    # ------------------------------------------------------------------ geometry

    def _bad_geometry(self, gi: int, reason: str) -> None:
        fi, no, gtype = self.g_feat[gi], self.g_no[gi], self.g_type[gi]
        f = self.features[fi]
        self.obj_bad[fi] += 1
        self.skip(f"{f.type} '{f.id}': geometry #{no} ({gtype}) skipped: {reason}")

    def finish(self, crs, metadata: dict) -> FeatureMesh:
        """Triangulate every collected surface (:meth:`_triangulate`) and build the mesh."""
        self.report(0.5, "triangulating")
        blocks = self.blocks
        V = (blocks[0] if len(blocks) == 1 else np.concatenate(blocks) if blocks
             else np.zeros((0, 3)))
        ix = index_boundaries(self.g_text, self.g_depth)
        self.g_nsurf = ix.nsurf
        g_ok = None
        if ix.bad:
            g_ok = np.ones(len(self.g_feat), bool)
            for gi, reason in ix.bad.items():
                g_ok[gi] = False
                self._bad_geometry(gi, reason)
        self._surface_values(ix.bad)
        self.g_text = []  # the boundaries now live in ix
        faces, face_surf, g_ok, finite, n_degenerate = self._triangulate(V, ix, g_ok)
        if self.ref_vertices:
            V, faces, finite = self._drop_reference_points(V, faces, finite)
        surf_geom = np.repeat(np.arange(len(self.g_feat)), self.g_nsurf)
        self.report(0.9, "building the model")
        return self._assemble(V, finite, faces, face_surf, surf_geom, g_ok, n_degenerate,
                              crs, metadata)

    def _drop_reference_points(self, V, faces, finite):
        """Template instances' reference points that no surface uses are not part of the
        model (nor of its bounds): they only say where an instance goes."""
        refs = np.unique(np.asarray(self.ref_vertices, np.int64))
        used = np.zeros(len(V), bool)
        used[faces.ravel()] = True
        drop = refs[~used[refs]]
        if not drop.size:
            return V, faces, finite
        keep = np.ones(len(V), bool)
        keep[drop] = False
        new_id = (np.cumsum(keep) - 1).astype(np.int32)
        self.metadata_extra["reference_points_dropped"] = int(drop.size)
        return (V[keep], new_id[faces], finite[keep] if finite is not None else None)

    def _triangulate(self, V: np.ndarray, ix: _Indexed, g_ok: np.ndarray | None):
        """All polygons at once (:func:`loaders.triangulate.triangulate_polygons`, after
        the checks and clean-up here) from the boundaries read by
        :func:`index_boundaries`. Returns (faces, face_surf, g_ok, finite, n_degenerate):
        vertex ids (T, 3) int32; the surface of each triangle; per geometry validity
        (None: all valid); per vertex finiteness (None: all finite); the number of
        surfaces that could not be triangulated."""
        report = self.report
        G = len(self.g_feat)
        g_nsurf = self.g_nsurf
        rps, rlen, idx = ix.rps, ix.rlen, ix.idx
        S = len(rps)
        lo, hi = (int(idx.min()), int(idx.max())) if idx.size else (0, -1)
        R = len(rlen)
        n_idx = len(idx)
        surf_geom = np.repeat(np.arange(G), g_nsurf)
        ring_surf = np.repeat(np.arange(S), rps)
        ring_end = np.cumsum(rlen)
        ring_start = ring_end - rlen

        # ---- vertex offsets (CityJSONSeq features, template instances) and range check
        g_voff, g_vcount = self.g_voff, self.g_vcount
        bad = None
        if G and (any(g_voff) or g_vcount.count(g_vcount[0]) != G):
            idx_geom = np.repeat(surf_geom[ring_surf], rlen)
            limit = np.asarray(g_vcount, np.int64)[idx_geom]
            if n_idx and (lo < 0 or (idx >= limit).any()):
                bad = (idx < 0) | (idx >= limit)
            idx += np.asarray(g_voff, np.int64)[idx_geom]
            del idx_geom, limit
        elif n_idx and (lo < 0 or hi >= (g_vcount[0] if G else 0)):
            bad = (idx < 0) | (idx >= (g_vcount[0] if G else 0))
        finite = None  # per vertex, only when some are not
        if not np.isfinite(V).all():
            finite = np.isfinite(V).all(axis=1)
        if finite is not None and n_idx:
            in_range = ~bad if bad is not None else np.ones(n_idx, bool)
            nan_ref = np.zeros(n_idx, bool)
            nan_ref[in_range] = ~finite[idx[in_range]]
            bad = nan_ref if bad is None else (bad | nan_ref)
        if bad is not None and bad.any():
            if g_ok is None:
                g_ok = np.ones(G, bool)
            pos = np.flatnonzero(bad)
            bring = np.searchsorted(ring_start, pos, side="right") - 1
            bgeom = surf_geom[ring_surf[bring]]
            first = {}
            for gi, p in zip(bgeom.tolist(), pos.tolist(), strict=True):
                first.setdefault(gi, p)
            for gi, p in first.items():
                if not g_ok[gi]:
                    continue
                g_ok[gi] = False
                v = int(idx[p]) - g_voff[gi]
                if 0 <= v < g_vcount[gi]:
                    self._bad_geometry(gi, f"vertex {v} has coordinates that are not numbers")
                else:
                    self._bad_geometry(gi, f"references vertex {v} but there are only "
                                       f"{g_vcount[gi]} vertices")
        del bad

        # ---- repeated consecutive vertices (incl. a closing repeat of the first)
        rmin = int(rlen.min()) if R else 0
        if n_idx:
            prev = np.empty_like(idx)
            prev[1:] = idx[:-1]
            if rmin > 0:
                prev[ring_start] = idx[ring_end - 1]
            else:
                nz = rlen > 0
                prev[ring_start[nz]] = idx[ring_end[nz] - 1]
            dup = idx == prev
            del prev
            any_dup = bool(dup.any())
        else:
            any_dup = False
        surf_first_ring = np.cumsum(rps) - rps

        if g_ok is None and not any_dup and rmin >= 3 and (not S or int(rps.min()) > 0):
            # the usual case: nothing to drop, every surface is a polygon
            n_degenerate = 0
            outer = surf_first_ring
            surf_ids = np.arange(S)
            nrings = rps
        else:
            # ---- drop invalid geometries, repeated vertices, degenerate outer rings and
            # tiny holes
            if g_ok is None:
                g_ok = np.ones(G, bool)
            if any_dup:
                dring = np.searchsorted(ring_start, np.flatnonzero(dup), side="right") - 1
                rlen_new = rlen - np.bincount(dring, minlength=R)
            else:
                rlen_new = rlen
            surf_ok = np.repeat(g_ok, g_nsurf)
            has_rings = rps > 0
            outer_ok = np.zeros(S, bool)
            outer_ok[has_rings] = rlen_new[surf_first_ring[has_rings]] >= 3
            n_degenerate = int((surf_ok & ~outer_ok).sum())
            keep_surf = surf_ok & outer_ok
            ring_keep = keep_surf[ring_surf] & (rlen_new >= 3)
            idx_keep = np.repeat(ring_keep, rlen)
            if any_dup:
                idx_keep &= ~dup
            idx = idx[idx_keep]
            rlen = rlen_new[ring_keep]
            ring_surf = ring_surf[ring_keep]
            del idx_keep
            ring_end = np.cumsum(rlen)
            ring_start = ring_end - rlen
            R = len(rlen)
            is_outer = np.ones(R, bool)
            if R:
                is_outer[1:] = ring_surf[1:] != ring_surf[:-1]
            outer = np.flatnonzero(is_outer)  # first ring of each kept surface, in order
            surf_ids = ring_surf[outer]  # polygon k -> surface id
            nrings = np.diff(outer, append=R)
        if any_dup:
            del dup
        n_idx = len(idx)

        report(0.6, "triangulating")
        res = triangulate_polygons(V, idx, rlen, nrings,
                                   progress=lambda f, m: report(0.6 + 0.3 * f, m))
        if res.earcut_missing:
            self.warnings.append(EARCUT_MISSING)
        n_degenerate += res.n_degenerate
        tri_pos, tri_k_all = res.tris, res.polygon
        faces = idx[tri_pos].astype(np.int32)
        face_surf = surf_ids[tri_k_all]

        return faces, face_surf, g_ok, finite, n_degenerate

    def _assemble(self, V, finite, faces, face_surf, surf_geom, g_ok, n_degenerate,
                  crs, metadata) -> FeatureMesh:
        """``finite``: per-vertex mask when some vertices are not finite, else None;
        ``g_ok``: per-geometry validity, None when all are valid."""
        features = self.features
        G = len(self.g_feat)
        g_feat = np.asarray(self.g_feat, np.int64)

        # objects whose every geometry is invalid are dropped
        n_bad_geoms = sum(self.obj_bad)
        remap = None
        n_dropped = 0
        if n_bad_geoms:
            obj_geoms = np.asarray(self.obj_geoms, np.int64)
            obj_bad = np.asarray(self.obj_bad, np.int64)
            drop = (obj_geoms > 0) & (obj_bad >= obj_geoms)
            n_dropped = int(drop.sum())
            if n_dropped:
                remap = np.cumsum(~drop) - 1
                remap[drop] = -1
                features = [f for f, d in zip(features, drop.tolist(), strict=True)
                            if not d]

        # names sorted; ids remapped (index -1 -> -1)
        lod_names = sorted(self.lod_ids, key=lod_key)
        lod_map = np.array([lod_names.index(n) for n in self.lod_ids] + [-1], np.int64)
        g_lod_sorted = lod_map[np.asarray(self.g_lod, np.int64)]
        sem_names = sorted(self.sem_ids)
        sem_map = np.array([sem_names.index(n) for n in self.sem_ids] + [-1], np.int64)

        # per-surface semantic ids
        surf_sem = sem_map[np.array(self.sem_vals, np.int64)]

        # per-face attributes
        face_geom = surf_geom[face_surf]
        face_feature = g_feat[face_geom]
        if remap is not None:
            face_feature = remap[face_feature]
        face_lod = g_lod_sorted[face_geom].astype(np.int16)
        face_semantic = surf_sem[face_surf].astype(np.int16)

        face_colors = None
        materials_used = None
        if self.has_materials:
            table, materials_used = self._material_table(metadata.get("_materials"))
            if table is not None:
                face_mat = np.array(self.mat_vals, np.int64)[face_surf]
                face_mat[face_mat >= materials_used] = -1  # no such material
                face_colors = table[face_mat]
        metadata.pop("_materials", None)

        # feature LODs (from their valid geometries, drawn or not), in name order
        if G and lod_names:
            order = lod_map.tolist()
            ok_l = g_ok.tolist() if g_ok is not None else [True] * G
            all_features = self.features
            for fi, li in sorted({(fi, order[li]) for fi, li, ok in
                                  zip(self.g_feat, self.g_lod, ok_l, strict=True)
                                  if ok and li >= 0}):
                all_features[fi].lods.append(lod_names[li])

        if len(faces) == 0 and n_bad_geoms and g_ok is not None and \
                not (g_ok & (np.asarray(self.g_nsurf) > 0)).any():
            detail = self.skipped[0] if self.skipped else "invalid geometry"
            raise LoadError(self.path, f"no valid geometry in this CityJSON file: {detail}"[:400],
                            "repair the file (e.g. with cjio or val3dity) or re-export it")

        if finite is None:
            positions, origin = split_origin(V)
        else:  # unused vertices with null / NaN coordinates: keep them at the origin
            origin = split_origin(V[finite])[1]
            positions = np.where(finite[:, None], V - origin, 0.0).astype(np.float32)
        sem_counts = {}
        sem_tri_counts = {}
        if sem_names:
            counted = surf_sem >= 0
            if g_ok is not None:
                counted &= np.repeat(g_ok, np.asarray(self.g_nsurf, np.int64))
            sc = np.bincount(surf_sem[counted], minlength=len(sem_names))
            tc = np.bincount(face_semantic[face_semantic >= 0], minlength=len(sem_names))
            sem_counts = dict(zip(sem_names, sc.tolist(), strict=True))
            sem_tri_counts = dict(zip(sem_names, tc.tolist(), strict=True))

        if self.bad_semantics:
            self.warnings.append(
                f"semantics of {self.bad_semantics} geometr"
                f"{'y' if self.bad_semantics == 1 else 'ies'} do not match their surfaces "
                f"and were ignored (first: {self.bad_semantics_first})")
        if self.missing_lod:
            self.warnings.append(f"{self.missing_lod} geometries have no 'lod'; their "
                                 "triangles have face_lod -1")
        not_drawn = {t: c for t, c in self.geometry_counts.items() if t in _NOT_DRAWN}
        for t, c in not_drawn.items():
            self.skip(f"{c} {t} geometr{'y' if c == 1 else 'ies'} not drawn (points and "
                      "lines are not shown)")
        if n_degenerate:
            self.skip(f"{n_degenerate} degenerate surface{'s' if n_degenerate != 1 else ''} "
                      "(fewer than 3 distinct vertices or zero area) not triangulated")
        if n_bad_geoms:
            self.warnings.append(
                f"{n_bad_geoms} invalid geometr{'y' if n_bad_geoms == 1 else 'ies'} skipped"
                + (f"; {n_dropped} object{'s' if n_dropped != 1 else ''} without any valid "
                   "geometry left out" if n_dropped else "")
                + " (see metadata['skipped'])")
        unknown = {t: c for t, c in self.type_counts.items()
                   if t not in SPEC_TYPES and not t.startswith("+")}
        if unknown:
            n = sum(unknown.values())
            names = ", ".join(f"{t[:40]!r} ({c})" for t, c in
                              sorted(unknown.items(), key=lambda kv: (-kv[1], kv[0]))[:5])
            self.warnings.append(
                f"{n} city object{'s' if n != 1 else ''} of {len(unknown)} type"
                f"{'s' if len(unknown) != 1 else ''} that CityJSON does not define "
                f"(and not extension '+' types): {names}"
                + (" ..." if len(unknown) > 5 else "") + "; read as generic objects")
        if self.duplicate_ids:
            n = len(self.duplicate_ids)
            first, lines = next(iter(self.duplicate_ids.items()))
            where = (" on lines " + ", ".join(map(str, lines[:5]))) if lines else ""
            self.warnings.append(
                f"{n} object id{'s' if n != 1 else ''} occur{'s' if n == 1 else ''} on more "
                f"than one line of this CityJSONSeq (first: '{first[:60]}'{where}); every "
                f"copy is kept, later ones renamed ('{self.renamed[first][0][:70]}')")
        if self.skipped_extra:
            self.skipped.append(f"... and {self.skipped_extra} more")

        metadata.update({
            "city_objects": dict(sorted(self.type_counts.items(), key=lambda kv: (-kv[1],
                                                                                 kv[0]))),
            "object_count": sum(self.type_counts.values()),
            "feature_count": len(features),
            "geometry_counts": dict(sorted(self.geometry_counts.items(),
                                           key=lambda kv: str(kv[0]))),
            "lods": lod_names,
            "default_lod": lod_names[-1] if lod_names else None,
            "semantic_counts": sem_counts,
            "semantic_triangle_counts": sem_tri_counts,
            "vertex_count_file": self.vertex_count_file,
            "template_instances": self.instance_count,
            "degenerate_surfaces": n_degenerate,
            "invalid_geometries": n_bad_geoms,
            "skipped": self.skipped,
            "triangle_count": int(len(faces)),
            "unknown_types": sorted(unknown),
        })
        if self.duplicate_ids:
            metadata["duplicate_ids"] = {k: {"lines": v, "renamed": self.renamed[k]}
                                         for k, v in list(self.duplicate_ids.items())[:1000]}
        metadata.update(self.metadata_extra)
        if materials_used is not None:
            metadata["material_theme"] = self.theme
        warnings = metadata.setdefault("warnings", [])
        warnings.extend(self.warnings)
        mesh = FeatureMesh(
            vertices=positions, origin=origin, faces=faces, face_colors=face_colors,
            crs=crs, metadata=metadata, features=features,
            face_feature=face_feature.astype(np.int32), face_semantic=face_semantic,
            semantic_names=sem_names, face_lod=face_lod, lod_names=lod_names,
            model_format="CityJSON")
        return mesh

    def _material_table(self, materials) -> tuple[np.ndarray | None, int | None]:
        """RGBA per material of the file (diffuseColor, transparency; only those that
        surfaces use are read), and a last row for "none"."""
        if not isinstance(materials, list) or not materials:
            return None, None
        n = len(materials)
        used = [i for i in np.unique(self.mat_vals).tolist() if 0 <= i < n]
        if len(used) <= _FEW_MATERIALS:  # one at a time (numpy's cost per call would dominate)
            rows = [_DEFAULT_COLOR] * (n + 1)  # also row -1: surfaces without a material
            for i in used:
                rows[i] = _material_rgba(materials[i])
            return np.array(rows, np.uint8), n
        table = np.empty((n + 1, 4), np.uint8)
        table[:] = _DEFAULT_COLOR
        mats = [materials[i] for i in used]
        if set(map(type, mats)) == {dict}:
            cols = [m.get("diffuseColor") for m in mats]
            if set(map(type, cols)) == {list} and set(map(len, cols)) == {3} and \
                    set(map(type, chain.from_iterable(cols))) <= {int, float} and \
                    all(map(math.isfinite, chain.from_iterable(cols))) and \
                    not any(m.get("transparency") is not None for m in mats):
                # the usual case, all at once: opaque colours of 3 finite numbers each
                rgb = np.minimum(np.maximum(np.array(cols, np.float64), 0.0), 1.0)
                table[used, :3] = np.rint(rgb * 255)
                return table, n
        table[used] = [_material_rgba(m) for m in mats]
        return table, n


def _unit_byte(x: Any) -> int:
    """A number in 0..1 (clamped) as 0..255; TypeError/ValueError when not a number."""
    x = float(x)
    return round((0.0 if x < 0.0 else 1.0 if x > 1.0 else x) * 255)  # NaN: ValueError


def _material_rgba(m: Any) -> list[int]:
    """A CityJSON material's colour as RGBA bytes (the default where it is unusable)."""
    rgba = list(_DEFAULT_COLOR)
    if not isinstance(m, dict):
        return rgba
    c = m.get("diffuseColor")
    if isinstance(c, list) and len(c) >= 3:
        try:
            rgba[:3] = _unit_byte(c[0]), _unit_byte(c[1]), _unit_byte(c[2])
        except (TypeError, ValueError, OverflowError):
            pass
    t = m.get("transparency")
    if t is not None:
        try:
            t = float(t)
            rgba[3] = round((1.0 - (0.0 if t < 0.0 else 1.0 if t > 1.0 else t)) * 255)
        except (TypeError, ValueError, OverflowError):
            pass
    return rgba


def _add_triangles(tris: list[int], tri_surf: list[int], si: int, t: list[int] | None) -> int:
    """Append surface ``si``'s triangles ``t`` (flat vertex ids, or None when it could not
    be triangulated); returns the number of degenerate surfaces (0 or 1)."""
    if t is None:
        return 1
    tris += t
    tri_surf.extend([si] * (len(t) // 3))
    return 0


def _ring_ids(ring: list[int], voff: int) -> list[int]:
    """A ring's vertex ids plus ``voff``, without repeated consecutive ones (the last
    counts as before the first)."""
    if len(set(ring)) == len(ring):  # no vertex repeated at all
        return [v + voff for v in ring] if voff else ring
    out = []
    prev = ring[-1]
    for v in ring:
        if v != prev:
            out.append(v + voff)
        prev = v
    return out


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Bad):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"malformed ({type(exc).__name__}{': ' + text[:120] if text else ''})"


# ---------------------------------------------------------------------------- reading


def _per_surface(n: int, pos: list[int], vals: list[int]) -> np.ndarray:
    """An array of ``n`` values, -1 but ``vals`` at ``pos``."""
    out = np.full(n, -1, np.int64)
    if pos:
        out[np.array(pos, np.int64)] = vals
    return out


def _json_text(value: Any) -> bytes:
    """``value`` (parsed JSON) as compact JSON text again."""
    try:
        if _orjson is not None:  # (copied: orjson's bytes keep a buffer of 4 KB or more)
            return bytes(memoryview(_orjson.dumps(value)))
    except TypeError:  # orjson.JSONEncodeError: integers beyond 64 bits
        pass
    return json.dumps(value, separators=(",", ":")).encode()


def _boundary_text(b: Any) -> bytes:
    """A geometry's ``boundaries`` as compact JSON text (for :func:`index_boundaries`)."""
    if type(b) is msgspec.Raw:  # (whitespace is taken out by index_boundaries)
        text = bytes(b)
    elif type(b) is list:
        text = _json_text(b)
    else:
        text = b""
    if text[:1] != b"[":
        raise _Bad("'boundaries' is not a list")
    return text


def _decode_vertices(verts: Any, transform: Any, path: Path, where: str,
                     warnings: list[str] | None = None) -> np.ndarray:
    if type(verts) is msgspec.Raw:  # JSON text: integers read with numpy, else parsed
        text = bytes(verts)
        ints = parse_int_rows(text)
        if ints is not None:
            arr = ints.astype(np.float64)
            if transform is not None:
                arr *= transform[0]
                arr += transform[1]
            return arr
        verts = _parse(text)
    if not isinstance(verts, list):
        raise LoadError(path, f"{where}'vertices' is not a list", "re-export the file")
    if not verts:
        return np.zeros((0, 3))
    try:  # fromiter: twice as fast as np.array on nested lists; rows checked first
        if set(map(len, verts)) != {3}:
            raise ValueError
        arr = np.fromiter(chain.from_iterable(verts), np.float64,
                          count=3 * len(verts)).reshape(-1, 3)
    except (TypeError, ValueError, OverflowError):
        arr = None
    if arr is None or arr.ndim != 2 or arr.shape[1] != 3:
        # tolerate single bad entries: they become NaN rows, and the geometries that use
        # them are skipped (the check happens when indices are validated)
        arr = np.full((len(verts), 3), np.nan)
        n_bad = 0
        for i, v in enumerate(verts):
            if (isinstance(v, list) and len(v) == 3
                    and all(type(c) in (int, float) for c in v)):
                try:
                    arr[i] = v
                    continue
                except OverflowError:
                    pass
            n_bad += 1
        if n_bad == len(verts):
            raise LoadError(path, f"{where}'vertices' must be a list of [x, y, z] numbers",
                            "re-export the file")
        if warnings is not None:
            warnings.append(f"{where}{n_bad} of {len(verts)} vertices are not [x, y, z] "
                            "numbers; geometry using them is skipped")
    if transform is not None:
        scale, translate = transform
        arr *= scale
        arr += translate
    return arr


def _read_transform(doc: dict, path: Path, warnings: list[str]):
    """(scale, translate) as tuples of 3 floats, or None without a transform."""
    t = doc.get("transform")
    if t is None:
        return None
    try:
        scale = tuple(map(float, t["scale"]))
        translate = tuple(map(float, t["translate"]))
        if len(scale) != 3 or len(translate) != 3 or \
                not all(map(math.isfinite, scale + translate)):
            raise ValueError
    except (TypeError, ValueError, KeyError, OverflowError):
        raise LoadError(path, "'transform' must have 'scale' and 'translate' of 3 numbers",
                        "re-export the file") from None
    return scale, translate


def _read_bytes(path: Path) -> bytes:
    """The whole file (like Path.read_bytes, with fewer calls for small files)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size)
        if len(data) < size:  # over 2 GB (one read's limit), or the file shrank
            parts = [data]
            while chunk := os.read(fd, 1 << 26):
                parts.append(chunk)
            data = b"".join(parts)
        return data
    finally:
        os.close(fd)


def _json_error(path: Path, exc: json.JSONDecodeError, line_offset: int = 0) -> LoadError:
    return LoadError(path, f"invalid JSON at line {exc.lineno + line_offset}, column "
                           f"{exc.colno}: {exc.msg}",
                     "the file is truncated or not valid JSON; re-export or re-download it")


def _parse(raw: bytes):
    """JSON text -> Python objects: orjson (about twice as fast), or the standard library
    when orjson refuses the text. json then either reads it (NaN, a byte-order mark,
    integers beyond 64 bits, UTF-16) or raises its usual, well-located error."""
    if _orjson is not None:
        try:
            return _orjson.loads(raw)
        except _orjson.JSONDecodeError:
            pass
    return json.loads(raw)


SPLIT_MIN_BYTES = 4 << 20  # bytes: smaller files are parsed in one go (faster, and small)
_VERTICES_KEY = re.compile(rb'"vertices"\s*:\s*\[')
_ROWS_END = re.compile(rb"\]\s*\]")
_VERTEX_TEXT = b"0123456789+-.eE,[] \t\r\n"


def _parse_document(raw: bytes):
    """:func:`_parse` of a whole CityJSON file. A large file's top-level ``"vertices"``
    array (a quarter of a typical file) is parsed on its own: orjson's working buffer
    grows with the text parsed in one call, so the peak of the parse is lower (measured
    on a 24 MB city: 19.8x -> 15.7x the file with tracemalloc, 12.5x -> 10.2x resident);
    below ``SPLIT_MIN_BYTES`` the one parse is kept (a little faster, and the file is small).
    Same result as one parse; anything unusual (no such array, other text in it, a key
    of that name elsewhere, invalid JSON) falls back to the one parse and its errors."""
    if _orjson is not None and len(raw) >= SPLIT_MIN_BYTES:
        doc = parse_split(raw)
        if doc is not None:
            return doc
    return _parse(raw)


def parse_split(raw: bytes) -> dict | None:
    if type(raw) is not bytes:
        return None
    # the last match: the top level's "vertices" comes after the city objects in the
    # files seen (a key of that name inside an object is then passed over)
    m = deque(_VERTICES_KEY.finditer(raw), maxlen=1)
    if not m:
        return None
    m = m[0]
    start = m.end() - 1
    end = _ROWS_END.search(raw, start)
    if end is None:
        return None
    end = end.end()
    if raw[start:end].translate(None, _VERTEX_TEXT):  # not only numbers in lists
        return None
    # the array is replaced by a string no file can predict; the parsed document must
    # have it as its top-level "vertices" (else the match was somewhere else)
    token = "\0rs-vertices-" + secrets.token_hex(8)
    view = memoryview(raw)
    try:
        doc = _orjson.loads(b"".join((view[:start], b'"\\u0000' + token[1:].encode() + b'"',
                                      view[end:])))
        if type(doc) is not dict or doc.get("vertices") != token:
            return None
        doc["vertices"] = _orjson.loads(view[start:end])
    except (_orjson.JSONDecodeError, RecursionError):
        return None
    return doc


def _numbered_lines(raw: bytes):
    """(line number, line) of every line, as ``bytes.splitlines`` numbers them, one at a
    time (no list of every line: that would be another copy of the file)."""
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):  # lone CR line breaks
        yield from enumerate(raw.splitlines(), 1)
        return
    start, no, n = 0, 0, len(raw)
    while start < n:
        end = raw.find(b"\n", start)
        if end < 0:
            end = n
        no += 1
        yield no, raw[start:end]
        start = end + 1


class _SeqReader:
    """A CityJSONSeq file read one line at a time: ``header`` is the first line (checked
    on creation); iterating gives (CityObjects, vertices list, line no.) of each feature
    line, parsed only when it is reached, so that the JSON tree of one line at a time is
    alive (plus what the builder keeps of the lines before). Unreadable lines are
    skipped and counted; at the end a warning says how many, and a file with no readable
    feature line (but bad ones) is refused."""

    def __init__(self, raw: bytes, path: Path, warnings: list[str],
                 skipped: list[str]) -> None:
        self.path = path
        self.warnings = warnings
        self.skipped = skipped
        self.estimate = raw.count(b"\n")  # feature lines, about (for progress)
        self._lines = _numbered_lines(raw)
        self.header = self._read_header()

    def _read_header(self) -> dict:
        path = self.path
        for no, line in self._lines:
            if not line.strip():
                continue
            try:
                obj = _parse(line)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                if isinstance(exc, json.JSONDecodeError):
                    raise _json_error(path, exc, no - 1) from None
                raise LoadError(path, f"line {no} is not valid JSON text",
                                "re-export the file") from None
            if not isinstance(obj, dict) or obj.get("type") != "CityJSON":
                raise LoadError(path, "the first line of a CityJSONSeq file must be a "
                                      "CityJSON header object",
                                "this is not a CityJSONSeq file")
            return obj
        raise LoadError(path, "empty CityJSONSeq file", "re-export the file")

    def _bad(self, text: str) -> None:
        self.bad_lines += 1
        if len(self.skipped) < _MAX_SKIPPED_LINES:
            self.skipped.append(text)

    def __iter__(self):
        self.bad_lines = 0
        features = 0
        for no, line in self._lines:
            if not line.strip():
                continue
            try:
                obj = _parse(line)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
                self._bad(f"line {no} skipped: invalid JSON ({msg})")
                continue
            if not isinstance(obj, dict) or obj.get("type") != "CityJSONFeature":
                self._bad(f"line {no} skipped: not a CityJSONFeature")
                continue
            objects, vertices = obj.get("CityObjects"), obj.get("vertices")
            if not isinstance(objects, dict) or not isinstance(vertices, list):
                self._bad(f"line {no} skipped: feature lacks 'CityObjects' or 'vertices'")
                continue
            del obj, line
            features += 1
            yield objects, vertices, no
            del objects, vertices
        bad = self.bad_lines
        if bad:
            self.warnings.append(f"{bad} line{'s' if bad != 1 else ''} of the CityJSONSeq "
                                 f"file could not be read and {'were' if bad != 1 else 'was'}"
                                 " skipped")
            if not features:
                raise LoadError(self.path, "no readable CityJSONFeature line in this "
                                "CityJSONSeq file", "re-export the file")


def _looks_like_seq(raw: bytes) -> bool:
    first = raw.split(b"\n", 1)[0]
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict) and obj.get("type") == "CityJSON"


_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def _texture_info(doc: dict, path: Path) -> dict | None:
    app = doc.get("appearance")
    if not isinstance(app, dict):
        return None
    textures = app.get("textures")
    if not isinstance(textures, list) or not textures:
        return None
    missing = []
    base = os.path.dirname(os.fspath(path))
    listed: dict[str, set[str]] = {}
    for t in textures:
        name = t.get("image") if isinstance(t, dict) else None
        if not isinstance(name, str) or not name:
            missing.append(str(name))
            continue
        if "://" in name and _URL.match(name):
            continue  # a URL: not checked
        folder, _, file = name.replace("\\", "/").rpartition("/")
        if not folder and name[:1] in "/\\":
            folder = "/"
        files = listed.get(folder)
        if files is None:  # one listing per folder instead of a stat per texture
            try:
                with os.scandir(os.path.join(base, folder) or ".") as it:
                    files = listed[folder] = {e.name for e in it if e.is_file()}
            except (OSError, ValueError):
                files = listed[folder] = set()
        if file not in files:
            missing.append(name)
    return {"count": len(textures), "missing": missing, "applied": False}


def read(path: Path, progress: ProgressFn | None = None) -> FeatureMesh:
    """Read a CityJSON or CityJSONSeq file into a :class:`FeatureMesh` (all LODs)."""
    return _read(path if isinstance(path, Path) else Path(path), None, progress)


def _read(path: Path, raw: bytes | None, progress: ProgressFn | None) -> FeatureMesh:
    report = progress or (lambda f, m: None)
    report(0.0, "reading CityJSON")
    if raw is None:
        try:
            raw = _read_bytes(path)
        except OSError as exc:
            raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                            "check that it exists and is readable") from None
    warnings: list[str] = []
    skipped: list[str] = []
    seq = path.name.lower().endswith(".jsonl")
    doc = None
    if not seq:
        doc = _parse_structs(raw)
    if not seq and doc is None:
        try:
            doc = _parse_document(raw)
        except json.JSONDecodeError as exc:
            if exc.msg == "Extra data" and _looks_like_seq(raw):
                seq = True
            else:
                raise _json_error(path, exc) from None
        except UnicodeDecodeError:
            raise LoadError(path, "not UTF-8 JSON text", "re-export the file as UTF-8") \
                from None
        except RecursionError:
            raise LoadError(path, "malformed JSON (nesting too deep)",
                            "re-export the file") from None
    if seq:  # lines parsed one at a time (below), the header now
        chunks = _SeqReader(raw, path, warnings, skipped)
        doc = chunks.header
    else:
        chunks = None
    del raw
    report(0.05, "reading city objects")

    if not isinstance(doc, dict):
        raise LoadError(path, "not a CityJSON file (the JSON is not an object)",
                        "open a CityJSON (.city.json) file")
    ftype = doc.get("type")
    if ftype != "CityJSON":
        if ftype is None and "CityObjects" in doc and "vertices" in doc:
            warnings.append("the file has no \"type\": \"CityJSON\"; read as CityJSON")
        else:
            raise LoadError(path, "not a CityJSON file" + (f" (type is {str(ftype)[:40]!r})"
                                                           if ftype is not None else ""),
                            "open a CityJSON (.city.json) file")
    version = doc.get("version")
    version_text = str(version) if version is not None else None
    if version_text not in KNOWN_VERSIONS:
        warnings.append(f"unknown CityJSON version {version_text!r}; read as CityJSON 2.0")
    transform = _read_transform(doc, path, warnings)
    if not seq:
        if "CityObjects" not in doc:
            raise LoadError(path, "not a valid CityJSON file: 'CityObjects' is missing",
                            "re-export the file")
        if "vertices" not in doc:
            raise LoadError(path, "not a valid CityJSON file: 'vertices' is missing",
                            "re-export the file")
        if not isinstance(doc["CityObjects"], dict):
            raise LoadError(path, "'CityObjects' is not a JSON object", "re-export the file")
        total = len(doc["CityObjects"])
    else:
        total = chunks.estimate + (
            len(doc["CityObjects"]) if isinstance(doc.get("CityObjects"), dict) else 0)

    b = _Builder(path, report, total)
    b.warnings = warnings
    b.skipped = skipped
    b.set_templates(doc, transform)

    # Memory: each part of the parsed JSON is released as soon as it has been used (the
    # vertex lists once decoded, the city objects once collected; the builder releases
    # the boundaries once flattened), so that the JSON tree and the arrays made from it
    # are not all alive at the triangulation's peak.
    if not seq:
        verts = _decode_vertices(doc.pop("vertices"), transform, path, "", b.warnings)
        b.vertex_count_file = len(verts)
        voff = b.add_vertices(verts)
        b.add_objects(doc.pop("CityObjects"), voff, len(verts), verts)
    else:
        b.seen_ids = set()
        head_objects = doc.pop("CityObjects", None)
        head_verts = doc.pop("vertices", None) or []
        if isinstance(head_objects, dict) and head_objects:
            verts = _decode_vertices(head_verts, transform, path, "header: ", b.warnings)
            b.vertex_count_file += len(verts)
            b.add_objects(head_objects, b.add_vertices(verts), len(verts), verts, line=1)
        del head_objects, head_verts
        for objects, vlist, no in chunks:
            try:
                verts = _decode_vertices(vlist, transform, path, f"line {no}: ", b.warnings)
            except LoadError as exc:
                b.skip(f"line {no} skipped: {exc.reason}")
                continue
            b.vertex_count_file += len(verts)
            b.add_objects(objects, b.add_vertices(verts), len(verts), verts, line=no)
        objects = vlist = None

    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    rs = meta.get("referenceSystem")
    crs, crs_warnings = crs_from_reference_system(rs)
    b.warnings.extend(crs_warnings)
    appearance = doc.get("appearance") if isinstance(doc.get("appearance"), dict) else {}
    metadata: dict[str, Any] = {
        "format": "CityJSON",
        "version": version_text,
        "sequence": seq,
        "crs_source": "metadata.referenceSystem" if crs is not None else None,
        "reference_system": rs if isinstance(rs, str) else None,
        "file_metadata": meta,
        "extensions": sorted(doc["extensions"]) if isinstance(doc.get("extensions"), dict)
        else [],
        "transform": ({"scale": list(transform[0]), "translate": list(transform[1])}
                      if transform is not None else None),
        "_materials": appearance.get("materials"),
    }
    tex = _texture_info(doc, path)
    if tex is not None:
        metadata["textures"] = tex
        miss = len(tex["missing"])
        b.skip(f"{tex['count']} texture{'s' if tex['count'] != 1 else ''} not applied "
               f"(textures are not shown yet)"
               + (f"; {miss} image file{'s' if miss != 1 else ''} missing" if miss else ""))
        if miss:
            b.warnings.append(f"{miss} of {tex['count']} texture images are missing: "
                              + ", ".join(tex["missing"][:5])
                              + (" ..." if miss > 5 else ""))
    mesh = b.finish(crs, metadata)
    if b.n_objects_seen == 0:
        mesh.warnings.append("the file has no city objects")
    elif mesh.triangle_count == 0:
        mesh.warnings.append("the file has no drawable geometry")
    report(1.0, "done")
    return mesh


READERS = [
    ReaderSpec("CityJSON", ("city.json", "cityjson", "city.jsonl", "jsonl"), read,
               sniff=sniff, score=10),
]
