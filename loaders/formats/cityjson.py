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
* Triangulation is vectorised over the whole file: polygons without holes are
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

``metadata``: format, version, sequence (CityJSONSeq?), city_objects (count by type),
object_count, feature_count, geometry_counts, lods, default_lod (highest LOD in the
file), semantic_counts (polygons per semantic type), semantic_triangle_counts,
vertex_count_file, template_instances, degenerate_surfaces, invalid_geometries, skipped,
warnings, crs_source, reference_system, transform, extensions, file_metadata (the file's
own ``metadata``), textures ({count, missing, applied}), material_theme.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np

from ..registry import ReaderSpec
from ..types import Feature, FeatureMesh, LoadError, ProgressFn, split_origin

KNOWN_VERSIONS = ("1.0", "1.1", "2.0")

# geometry type -> nesting depth of the surface list inside "boundaries"
_SURFACE_DEPTH = {"MultiSurface": 1, "CompositeSurface": 1, "Solid": 2, "MultiSolid": 3,
                  "CompositeSolid": 3}
_NOT_DRAWN = ("MultiPoint", "MultiLineString")

_MAX_SKIPPED_LINES = 50
_PROGRESS_EVERY = 2000
_DEFAULT_COLOR = (204, 204, 204, 255)

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
    if isinstance(value, float) and np.isfinite(value):
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


@lru_cache(maxsize=32)
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
        self.g_nsurf: list[int] = []
        self.g_voff: list[int] = []
        self.g_vcount: list[int] = []
        self.g_label: list[tuple[int, int, str]] = []  # (feature, geometry no., type)
        # per surface (aligned with self.surfaces)
        self.surfaces: list = []
        self.sem_vals: list = []
        self.sem_lut_off: list[int] = []  # per geometry: offset into sem_lut, -1 = none
        self.sem_lut_len: list[int] = []
        self.sem_lut: list[int] = []
        self.mat_vals: list = []
        self.has_materials = False
        self.theme: str | None = None
        # name tables
        self.lod_ids: dict[str, int] = {}
        self.sem_ids: dict[str, int] = {}
        self.missing_lod = 0
        self.bad_semantics = 0
        self.bad_semantics_first = ""
        self.n_objects_seen = 0
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

    def add_objects(self, objects: dict, voff: int, vcount: int, verts: np.ndarray) -> None:
        features = self.features
        type_counts = self.type_counts
        for oid, obj in objects.items():
            self.n_objects_seen += 1
            if self.n_objects_seen % _PROGRESS_EVERY == 0:
                self.report(0.05 + 0.45 * min(self.n_objects_seen / self.total_objects, 1.0),
                            f"reading city objects ({self.n_objects_seen:,})")
            if not isinstance(obj, dict):
                self.skip(f"city object '{oid}' skipped: not a JSON object")
                continue
            otype = obj.get("type")
            if not isinstance(otype, str):
                otype = "Unknown"
            type_counts[otype] = type_counts.get(otype, 0) + 1
            attrs = obj.get("attributes")
            if not isinstance(attrs, dict):
                attrs = {}
            parents = obj.get("parents")
            parent = (parents[0] if isinstance(parents, list) and parents
                      and isinstance(parents[0], str) else None)
            children = obj.get("children")
            if isinstance(children, list):
                children = [c for c in children if isinstance(c, str)]
            else:
                children = []
            fi = len(features)
            features.append(Feature(id=str(oid), type=otype, attributes=attrs,
                                    parent=parent, children=children))
            geoms = obj.get("geometry")
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
                    gtype = g.get("type") if isinstance(g, dict) else None
                    self.skip(f"{otype} '{oid}': geometry #{gi}"
                              + (f" ({gtype})" if isinstance(gtype, str) else "")
                              + f" skipped: {_reason(exc)}")
            self.obj_geoms.append(len(geoms))
            self.obj_bad.append(bad)

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
        if not isinstance(g, dict):
            raise _Bad("not a JSON object")
        gtype = g.get("type")
        counts = self.geometry_counts
        counts[gtype] = counts.get(gtype, 0) + 1
        lod_value = g.get("lod")
        if gtype == "GeometryInstance":
            g, voff, vcount = self._instance(g, voff, vcount, verts)
            gtype = g.get("type")
            if lod_value is None:
                lod_value = g.get("lod")
        depth = _SURFACE_DEPTH.get(gtype)
        if depth is None:
            if gtype in _NOT_DRAWN:
                self._record(fi, gi, gtype, lod_value, 0, 0, 0, -1, 0)
                return
            raise _Bad(f"unknown geometry type {str(gtype)[:40]!r}")
        b = g["boundaries"]
        if type(b) is not list:
            raise _Bad("'boundaries' is not a list")
        if depth == 1:
            surfaces = b
        elif depth == 2:
            surfaces = list(chain.from_iterable(b))
        else:
            surfaces = list(chain.from_iterable(chain.from_iterable(b)))
        n = len(surfaces)

        # semantics -> (per-surface local values, lookup of surface types)
        flat = lut = None
        sem = g.get("semantics")
        if isinstance(sem, dict) and sem.get("values") is not None:
            values = sem["values"]
            flat = _flatten_values(values, depth, n)
            if flat is None:
                flat = _null_aware_flatten(values, b, depth)
                if flat is not None and len(flat) != n:
                    flat = None
            surfs = sem.get("surfaces")
            if flat is not None and isinstance(surfs, list):
                lut = []
                ids = self.sem_ids
                for s in surfs:
                    name = s.get("type") if isinstance(s, dict) else None
                    if not isinstance(name, str):
                        lut.append(-1)
                        continue
                    i = ids.get(name)
                    if i is None:
                        i = ids[name] = len(ids)
                    lut.append(i)
            else:
                flat = None
                if not self.bad_semantics:
                    self.bad_semantics_first = f"'{self.features[fi].id}' geometry #{gi}"
                self.bad_semantics += 1

        # material of the chosen theme
        mflat = None
        mat = g.get("material")
        if isinstance(mat, dict) and mat:
            if self.theme is None:
                self.theme = next(iter(mat))
            m = mat.get(self.theme)
            if isinstance(m, dict):
                if m.get("values") is not None:
                    mflat = _flatten_values(m["values"], depth, n)
                    if mflat is None:
                        mflat = _null_aware_flatten(m["values"], b, depth)
                        if mflat is not None and len(mflat) != n:
                            mflat = None
                elif type(m.get("value")) is int:
                    mflat = [m["value"]] * n

        # commit (nothing above has changed the builder's per-surface lists)
        if lut is None:
            self.sem_vals.extend(repeat(None, n))
            self._record(fi, gi, gtype, lod_value, n, voff, vcount, -1, 0)
        else:
            self.sem_vals.extend(flat)
            self._record(fi, gi, gtype, lod_value, n, voff, vcount, len(self.sem_lut),
                         len(lut))
            self.sem_lut.extend(lut)
        if mflat is None:
            self.mat_vals.extend(repeat(None, n))
        else:
            self.has_materials = True
            self.mat_vals.extend(mflat)
        self.surfaces.extend(surfaces)

    def _record(self, fi, gi, gtype, lod_value, n, voff, vcount, lut_off, lut_len) -> None:
        self.g_feat.append(fi)
        self.g_lod.append(self._lod_id(normalise_lod(lod_value)))
        self.g_nsurf.append(n)
        self.g_voff.append(voff)
        self.g_vcount.append(vcount)
        self.g_label.append((fi, gi, gtype))
        self.sem_lut_off.append(lut_off)
        self.sem_lut_len.append(lut_len)

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
        return tg, self.add_vertices(moved), len(tv)

    # ------------------------------------------------------------------ geometry

    def _check_geometries(self) -> np.ndarray:
        """Per-geometry structural check (used only when the fast path found a problem).

        Returns a boolean mask of geometries whose boundaries are well-formed lists of
        lists of integers.
        """
        ok = np.ones(len(self.g_feat), bool)
        s = 0
        for gi, n in enumerate(self.g_nsurf):
            surfaces = self.surfaces[s:s + n]
            s += n
            try:
                for surf in surfaces:
                    if type(surf) is not list:
                        raise TypeError("a surface is not a list of rings")
                    for ring in surf:
                        if type(ring) is not list:
                            raise TypeError("a ring is not a list of vertex indices")
                        for v in ring:
                            if type(v) is not int or not -2**62 < v < 2**62:
                                raise TypeError(f"vertex index {str(v)[:20]!r} is not an "
                                                "integer")
            except TypeError as exc:
                ok[gi] = False
                self._bad_geometry(gi, str(exc))
        return ok

    def _bad_geometry(self, gi: int, reason: str) -> None:
        fi, no, gtype = self.g_label[gi]
        f = self.features[fi]
        self.obj_bad[fi] += 1
        self.skip(f"{f.type} '{f.id}': geometry #{no} ({gtype}) skipped: {reason}")

    def finish(self, crs, metadata: dict, earcut) -> FeatureMesh:
        report = self.report
        report(0.5, "triangulating")
        V = np.concatenate(self.blocks) if self.blocks else np.zeros((0, 3))
        G = len(self.g_feat)
        g_nsurf = np.asarray(self.g_nsurf, np.int64)
        surfaces = self.surfaces
        S = len(surfaces)

        # ---- flatten boundaries (fast path; a structural problem -> per-geometry check)
        try:
            if S and set(map(type, surfaces)) != {list}:
                raise TypeError
            rings = list(chain.from_iterable(surfaces))
            if rings and set(map(type, rings)) != {list}:
                raise TypeError
            rps = np.fromiter(map(len, surfaces), np.int64, count=S)
            rlen = np.fromiter(map(len, rings), np.int64, count=len(rings))
            idx = np.fromiter(chain.from_iterable(rings), np.int64, count=int(rlen.sum()))
            g_ok = np.ones(G, bool)
        except (TypeError, ValueError, OverflowError):
            g_ok = self._check_geometries()
            surf_ok = np.repeat(g_ok, g_nsurf)
            keep_surfaces = [s for s, k in zip(surfaces, surf_ok.tolist(), strict=True) if k]
            rings = list(chain.from_iterable(keep_surfaces))
            rps = np.zeros(S, np.int64)
            rps[surf_ok] = np.fromiter(map(len, keep_surfaces), np.int64,
                                       count=len(keep_surfaces))
            rlen = np.fromiter(map(len, rings), np.int64, count=len(rings))
            idx = np.fromiter(chain.from_iterable(rings), np.int64, count=int(rlen.sum()))
        del rings
        R = len(rlen)
        surf_geom = np.repeat(np.arange(G), g_nsurf)
        ring_surf = np.repeat(np.arange(S), rps)
        ring_end = np.cumsum(rlen)
        ring_start = ring_end - rlen

        # ---- vertex offsets (CityJSONSeq features, template instances) and range check
        g_voff = np.asarray(self.g_voff, np.int64)
        g_vcount = np.asarray(self.g_vcount, np.int64)
        if G and (g_voff.any() or (g_vcount != g_vcount[0]).any()):
            idx_geom = np.repeat(surf_geom[ring_surf], rlen)
            bad = (idx < 0) | (idx >= g_vcount[idx_geom])
            idx += g_voff[idx_geom]
            del idx_geom
        else:
            limit = int(g_vcount[0]) if G else 0
            if idx.size and (idx.min() < 0 or idx.max() >= limit):
                bad = (idx < 0) | (idx >= limit)
            else:
                bad = None
        finite = np.isfinite(V).all(axis=1)
        if not finite.all() and idx.size:
            in_range = ~bad if bad is not None else np.ones(len(idx), bool)
            nan_ref = np.zeros(len(idx), bool)
            nan_ref[in_range] = ~finite[idx[in_range]]
            bad = nan_ref if bad is None else (bad | nan_ref)
        if bad is not None and bad.any():
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
                v = int(idx[p]) - int(g_voff[gi])
                if 0 <= v < int(g_vcount[gi]):
                    self._bad_geometry(gi, f"vertex {v} has coordinates that are not numbers")
                else:
                    self._bad_geometry(gi, f"references vertex {v} but there are only "
                                       f"{int(g_vcount[gi])} vertices")
        surf_ok = np.repeat(g_ok, g_nsurf)

        # ---- remove repeated consecutive vertices (incl. a closing repeat of the first)
        n_idx = len(idx)
        prev = np.empty_like(idx)
        if n_idx:
            prev[1:] = idx[:-1]
            nz = rlen > 0
            prev[ring_start[nz]] = idx[ring_end[nz] - 1]
        dup = idx == prev
        if n_idx and dup.any():
            dpos = np.flatnonzero(dup)
            dring = np.searchsorted(ring_start, dpos, side="right") - 1
            rlen_new = rlen - np.bincount(dring, minlength=R)
        else:
            rlen_new = rlen

        # ---- drop invalid geometries, degenerate outer rings and tiny holes
        surf_first_ring = np.cumsum(rps) - rps
        has_rings = rps > 0
        outer_ok = np.zeros(S, bool)
        outer_ok[has_rings] = rlen_new[surf_first_ring[has_rings]] >= 3
        degenerate = surf_ok & ~outer_ok
        keep_surf = surf_ok & outer_ok
        ring_keep = keep_surf[ring_surf] & (rlen_new >= 3)
        idx_keep = np.repeat(ring_keep, rlen)
        if n_idx:
            idx_keep &= ~dup
        idx = idx[idx_keep]
        rlen = rlen_new[ring_keep]
        ring_surf = ring_surf[ring_keep]
        del idx_keep, dup, prev
        ring_end = np.cumsum(rlen)
        ring_start = ring_end - rlen
        R = len(rlen)

        report(0.6, "triangulating")
        is_outer = np.ones(R, bool)
        if R:
            is_outer[1:] = ring_surf[1:] != ring_surf[:-1]
        outer = np.flatnonzero(is_outer)  # first ring of each kept surface, in order
        surf_ids = ring_surf[outer]  # polygon k -> surface id
        nrings = np.diff(np.append(outer, R))

        # ---- fan triangulation of single-ring polygons, checked in 3D: the sum of the
        # fan triangles' cross products is the polygon's Newell vector N; the fan is valid
        # when no fan triangle points against N (true for every convex polygon)
        fk = np.flatnonzero(nrings == 1)
        start = ring_start[outer[fk]]
        ntri = rlen[outer[fk]] - 2  # >= 1
        T = int(ntri.sum())
        tri_k = np.repeat(np.arange(len(fk)), ntri)
        first_tri = np.cumsum(ntri) - ntri
        ta = start[tri_k]
        tb = ta + (np.arange(T) - first_tri[tri_k] + 1)
        tc = tb + 1
        A = V[idx[ta]]
        c = _cross(V[idx[tb]] - A, V[idx[tc]] - A)
        del A
        if T:
            N = np.add.reduceat(c, first_tri, axis=0)
            total = np.add.reduceat(np.sqrt(np.einsum("ij,ij->i", c, c)), first_tri)
        else:
            N = np.zeros((0, 3))
            total = np.zeros(0)
        nn = np.einsum("ij,ij->i", N, N)
        fan_degenerate = np.sqrt(nn) <= 1e-12 * total  # zero area (also when all are 0)
        proj = np.einsum("ij,ij->i", c, N[tri_k])  # = projected doubled area * |N|
        del c
        nn_t = nn[tri_k]
        fan_bad = np.zeros(len(fk), bool)
        wrong = proj < -1e-9 * nn_t
        if wrong.any():
            fan_bad[tri_k[wrong]] = True
        fan_bad &= ~fan_degenerate
        keep_tri = ~(fan_bad | fan_degenerate)[tri_k] & (proj > 1e-12 * nn_t)
        fan_tris = np.stack([ta[keep_tri], tb[keep_tri], tc[keep_tri]], axis=1)
        fan_k = fk[tri_k[keep_tri]]
        n_degenerate = int(degenerate.sum()) + int(fan_degenerate.sum())
        del proj, nn_t, ta, tb, tc, tri_k, keep_tri

        # ---- earcut: polygons with holes, and single-ring polygons the fan cannot do
        ear = np.concatenate([np.flatnonzero(nrings > 1), fk[fan_bad]])
        ear.sort()
        ear_tris, ear_k, n_failed = self._earcut(V, idx, ear, outer, nrings, rlen,
                                                 ring_start, earcut, report)
        n_degenerate += n_failed
        tri_pos = np.concatenate([fan_tris, ear_tris]) if len(ear_tris) else fan_tris
        tri_k_all = np.concatenate([fan_k, ear_k]) if len(ear_k) else fan_k
        if len(ear_k):
            order = np.argsort(tri_k_all, kind="stable")
            tri_pos = tri_pos[order]
            tri_k_all = tri_k_all[order]
        faces = idx[tri_pos].astype(np.int32)
        face_surf = surf_ids[tri_k_all]

        report(0.9, "building the model")
        return self._assemble(V, faces, face_surf, surf_geom, g_ok, degenerate,
                              n_degenerate, crs, metadata)

    def _earcut(self, V, idx, ear, outer, nrings, rlen, ring_start, earcut, report):
        """Triangulate polygons ``ear`` (with holes, or concave) with mapbox_earcut after
        projecting their rings onto the plane of the outer ring's Newell normal.

        Returns (triangles as positions into ``idx``, polygon of each, failures)."""
        E = len(ear)
        empty = (np.zeros((0, 3), np.int64), np.zeros(0, np.int64), 0)
        if not E:
            return empty
        if earcut is None:
            self.warnings.append(
                "mapbox_earcut is not installed: concave polygons and holes are "
                "fan-triangulated (holes are filled)")
        enr = nrings[ear]
        sub_rings = _ranges(outer[ear], enr)  # ring ids of these polygons, in order
        s_rlen = rlen[sub_rings]
        pos = _ranges(ring_start[sub_rings], s_rlen)  # their positions in idx
        s_end = np.cumsum(s_rlen)
        s_start = s_end - s_rlen
        s_outer = np.cumsum(enr) - enr  # sub-ring index of each polygon's outer ring
        n = len(pos)
        P = V[idx[pos]]
        # Newell normal of the outer rings, on coordinates relative to their first vertex
        ring_of = np.repeat(np.arange(len(s_rlen)), s_rlen)
        Q = P - P[s_start[ring_of]]
        nxt = np.arange(1, n + 1)
        nxt[s_end - 1] = s_start
        ring_n = np.add.reduceat(_cross(Q, Q[nxt]), s_start, axis=0)
        ring_ext = np.maximum.reduceat(np.einsum("ij,ij->i", Q, Q), s_start)
        normal = ring_n[s_outer]
        nlen = np.sqrt(np.einsum("ij,ij->i", normal, normal))
        ok = nlen > 1e-12 * np.maximum(ring_ext[s_outer], 1e-300)
        # orthonormal basis (u, v) with u x v = n, and 2D coordinates relative to the
        # polygon's first vertex
        nh = normal / np.where(nlen > 0, nlen, 1.0)[:, None]
        a = np.zeros((E, 3))
        use_x = np.abs(nh[:, 0]) < 0.9
        a[use_x, 0] = 1.0
        a[~use_x, 1] = 1.0
        u = _cross(a, nh)
        u /= np.maximum(np.sqrt(np.einsum("ij,ij->i", u, u)), 1e-300)[:, None]
        v = _cross(nh, u)
        poly_start = s_start[s_outer]
        poly_len = s_end[s_outer + enr - 1] - poly_start
        poly_of = np.repeat(np.arange(E), poly_len)
        Rel = P - P[poly_start][poly_of]
        XY = np.empty((n, 2))
        XY[:, 0] = np.einsum("ij,ij->i", Rel, u[poly_of])
        XY[:, 1] = np.einsum("ij,ij->i", Rel, v[poly_of])
        del P, Q, Rel, ring_of, poly_of

        tris: list[np.ndarray] = []
        counts = np.zeros(E, np.int64)
        failed = int((~ok).sum())
        ok_l = ok.tolist()
        ps_l = poly_start.tolist()
        pl_l = poly_len.tolist()
        so_l = s_outer.tolist()
        enr_l = enr.tolist()
        for i in range(E):
            if i and i % 5000 == 0:
                report(0.6 + 0.3 * i / E, "triangulating concave polygons and holes")
            if not ok_l[i]:
                continue
            a0 = ps_l[i]
            b0 = a0 + pl_l[i]
            if earcut is None:
                m = int(s_rlen[so_l[i]])
                t = np.stack([np.zeros(m - 2, np.int64), np.arange(1, m - 1),
                              np.arange(2, m)], axis=1)
            else:
                ends = (s_end[so_l[i]:so_l[i] + enr_l[i]] - a0).astype(np.uint32)
                try:
                    t = np.asarray(earcut(XY[a0:b0], ends), np.int64).reshape(-1, 3)
                except Exception:
                    t = np.zeros((0, 3), np.int64)
            if len(t) == 0:
                failed += 1
                continue
            tris.append(t + a0)
            counts[i] = len(t)
        if not tris:
            return empty[0], empty[1], failed
        t = np.concatenate(tris)
        tk = np.repeat(ear, counts)
        # the outer ring's winding for every triangle, and no zero-area triangles
        e1 = XY[t[:, 1]] - XY[t[:, 0]]
        e2 = XY[t[:, 2]] - XY[t[:, 0]]
        area2 = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        flip = area2 < 0
        t[flip] = t[flip][:, [0, 2, 1]]
        keep = area2 != 0
        return pos[t[keep]], tk[keep], failed

    def _assemble(self, V, faces, face_surf, surf_geom, g_ok, degenerate, n_degenerate,
                  crs, metadata) -> FeatureMesh:
        features = self.features
        G = len(self.g_feat)
        g_feat = np.asarray(self.g_feat, np.int64)
        g_lod = np.asarray(self.g_lod, np.int64)

        # objects whose every geometry is invalid are dropped
        obj_geoms = np.asarray(self.obj_geoms, np.int64)
        obj_bad = np.asarray(self.obj_bad, np.int64)
        drop = (obj_geoms > 0) & (obj_bad >= obj_geoms)
        n_dropped = int(drop.sum())
        n_bad_geoms = int(obj_bad.sum())
        if n_dropped:
            remap = np.cumsum(~drop) - 1
            remap[drop] = -1
            features = [f for f, d in zip(features, drop.tolist(), strict=True) if not d]
        else:
            remap = None

        # names sorted; ids remapped
        lod_names = sorted(self.lod_ids, key=lod_key)
        lod_map = np.full(len(self.lod_ids) + 1, -1, np.int64)
        for name, i in self.lod_ids.items():
            lod_map[i] = lod_names.index(name)
        g_lod_sorted = lod_map[g_lod] if G else g_lod  # -1 -> lod_map[-1] == -1
        sem_names = sorted(self.sem_ids)
        sem_map = np.full(len(self.sem_ids) + 1, -1, np.int64)
        for name, i in self.sem_ids.items():
            sem_map[i] = sem_names.index(name)

        # per-surface semantic ids
        S = len(self.surfaces)
        surf_sem = self._surface_values(self.sem_vals, S, surf_geom, semantic=True)
        surf_sem = sem_map[surf_sem]
        surf_valid = np.repeat(g_ok, np.asarray(self.g_nsurf, np.int64))

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
                surf_mat = self._surface_values(self.mat_vals, S, surf_geom, semantic=False,
                                                limit=len(table) - 1)
                face_colors = table[surf_mat[face_surf]]
        metadata.pop("_materials", None)

        # feature LODs (from their valid geometries, drawn or not)
        if G:
            valid_g = g_ok & (g_lod_sorted >= 0)
            pairs = np.unique(g_feat[valid_g] * (len(lod_names) + 1) + g_lod_sorted[valid_g])
            all_features = self.features
            for p in pairs.tolist():
                fi, li = divmod(p, len(lod_names) + 1)
                all_features[fi].lods.append(lod_names[li])

        if len(faces) == 0 and n_bad_geoms and int((g_ok & (np.asarray(self.g_nsurf) > 0)
                                                    ).sum()) == 0:
            detail = self.skipped[0] if self.skipped else "invalid geometry"
            raise LoadError(self.path, f"no valid geometry in this CityJSON file: {detail}"[:400],
                            "repair the file (e.g. with cjio or val3dity) or re-export it")

        finite = np.isfinite(V).all(axis=1)
        if finite.all():
            positions, origin = split_origin(V)
        else:  # unused vertices with null / NaN coordinates: keep them at the origin
            origin = split_origin(V[finite])[1]
            positions = np.where(finite[:, None], V - origin, 0.0).astype(np.float32)
        sem_counts = {}
        sem_tri_counts = {}
        if sem_names:
            sc = np.bincount(surf_sem[(surf_sem >= 0) & surf_valid], minlength=len(sem_names))
            tc = np.bincount(face_semantic[face_semantic >= 0], minlength=len(sem_names))
            sem_counts = {n: int(c) for n, c in zip(sem_names, sc, strict=True)}
            sem_tri_counts = {n: int(c) for n, c in zip(sem_names, tc, strict=True)}

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
        })
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

    def _surface_values(self, vals: list, S: int, surf_geom: np.ndarray, *, semantic: bool,
                        limit: int = -1) -> np.ndarray:
        """Per-surface global ids from the collected per-surface values (None = none)."""
        out = np.full(S, -1, np.int64)
        if not S:
            return out
        try:
            raw = np.array(vals, dtype=np.float64)
            if raw.shape != (S,):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raw = np.array([v if type(v) is int else np.nan for v in vals], np.float64)
        ok = np.isfinite(raw) & (raw >= 0) & (raw < 2**31) & (raw == np.floor(raw))
        local = np.where(ok, raw, -1).astype(np.int64)
        if semantic:
            lut = np.asarray(self.sem_lut + [-1], np.int64)
            off = np.asarray(self.sem_lut_off, np.int64)[surf_geom]
            size = np.asarray(self.sem_lut_len, np.int64)[surf_geom]
            ok &= (off >= 0) & (local < size)
            out[:] = np.where(ok, lut[np.where(ok, off + local, -1)], -1)
        else:
            ok &= local <= limit
            out[:] = np.where(ok, local, -1)
        return out

    def _material_table(self, materials) -> tuple[np.ndarray | None, int | None]:
        if not isinstance(materials, list) or not materials:
            return None, None
        table = np.empty((len(materials) + 1, 4), np.uint8)
        for i, m in enumerate(materials):
            rgba = list(_DEFAULT_COLOR)
            if isinstance(m, dict):
                c = m.get("diffuseColor")
                try:
                    if isinstance(c, list) and len(c) >= 3:
                        rgba[:3] = [int(round(min(max(float(x), 0.0), 1.0) * 255))
                                    for x in c[:3]]
                    t = m.get("transparency")
                    if t is not None:
                        rgba[3] = int(round((1.0 - min(max(float(t), 0.0), 1.0)) * 255))
                except (TypeError, ValueError):
                    pass
            table[i] = rgba
        table[-1] = _DEFAULT_COLOR  # index -1: surfaces without a material
        return table, len(materials)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (n, 3) arrays (faster than np.cross for long arrays)."""
    out = np.empty_like(a)
    a0, a1, a2 = a[:, 0], a[:, 1], a[:, 2]
    b0, b1, b2 = b[:, 0], b[:, 1], b[:, 2]
    out[:, 0] = a1 * b2 - a2 * b1
    out[:, 1] = a2 * b0 - a0 * b2
    out[:, 2] = a0 * b1 - a1 * b0
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for every (s, n), vectorised."""
    lengths = np.asarray(lengths, np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, np.int64) - offsets, lengths) + np.arange(
        int(lengths.sum()))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Bad):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"malformed ({type(exc).__name__}{': ' + text[:120] if text else ''})"


# ---------------------------------------------------------------------------- reading


def _decode_vertices(verts: Any, transform: Any, path: Path, where: str,
                     warnings: list[str] | None = None) -> np.ndarray:
    if not isinstance(verts, list):
        raise LoadError(path, f"{where}'vertices' is not a list", "re-export the file")
    if not verts:
        return np.zeros((0, 3))
    try:
        arr = np.array(verts, dtype=np.float64)
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
    t = doc.get("transform")
    if t is None:
        return None
    try:
        scale = np.asarray(t["scale"], np.float64)
        translate = np.asarray(t["translate"], np.float64)
        if scale.shape != (3,) or translate.shape != (3,) or not (
                np.isfinite(scale).all() and np.isfinite(translate).all()):
            raise ValueError
    except (TypeError, ValueError, KeyError):
        raise LoadError(path, "'transform' must have 'scale' and 'translate' of 3 numbers",
                        "re-export the file") from None
    return scale, translate


def _json_error(path: Path, exc: json.JSONDecodeError, line_offset: int = 0) -> LoadError:
    return LoadError(path, f"invalid JSON at line {exc.lineno + line_offset}, column "
                           f"{exc.colno}: {exc.msg}",
                     "the file is truncated or not valid JSON; re-export or re-download it")


def _loads(raw: bytes, path: Path):
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _json_error(path, exc) from None
    except UnicodeDecodeError:
        raise LoadError(path, "not UTF-8 JSON text", "re-export the file as UTF-8") from None
    except RecursionError:
        raise LoadError(path, "malformed JSON (nesting too deep)", "re-export the file") \
            from None


def _read_seq(raw: bytes, path: Path, warnings: list[str], skipped: list[str]):
    """CityJSONSeq -> (header dict, list of (CityObjects, vertices list, line no.))."""
    lines = raw.splitlines()
    header = None
    features = []
    bad_lines = 0
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            if header is None:
                if isinstance(exc, json.JSONDecodeError):
                    raise _json_error(path, exc, no - 1) from None
                raise LoadError(path, f"line {no} is not valid JSON text",
                                "re-export the file") from None
            bad_lines += 1
            if len(skipped) < _MAX_SKIPPED_LINES:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
                skipped.append(f"line {no} skipped: invalid JSON ({msg})")
            continue
        if header is None:
            if not isinstance(obj, dict) or obj.get("type") != "CityJSON":
                raise LoadError(path, "the first line of a CityJSONSeq file must be a "
                                      "CityJSON header object",
                                "this is not a CityJSONSeq file")
            header = obj
            continue
        if not isinstance(obj, dict) or obj.get("type") != "CityJSONFeature":
            bad_lines += 1
            if len(skipped) < _MAX_SKIPPED_LINES:
                skipped.append(f"line {no} skipped: not a CityJSONFeature")
            continue
        if not isinstance(obj.get("CityObjects"), dict) or not isinstance(
                obj.get("vertices"), list):
            bad_lines += 1
            if len(skipped) < _MAX_SKIPPED_LINES:
                skipped.append(f"line {no} skipped: feature lacks 'CityObjects' or "
                               "'vertices'")
            continue
        features.append((obj["CityObjects"], obj["vertices"], no))
    if header is None:
        raise LoadError(path, "empty CityJSONSeq file", "re-export the file")
    if bad_lines:
        warnings.append(f"{bad_lines} line{'s' if bad_lines != 1 else ''} of the CityJSONSeq "
                        f"file could not be read and {'were' if bad_lines != 1 else 'was'} "
                        "skipped")
    if bad_lines and not features:
        raise LoadError(path, "no readable CityJSONFeature line in this CityJSONSeq file",
                        "re-export the file")
    return header, features


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
    for t in textures:
        name = t.get("image") if isinstance(t, dict) else None
        if not isinstance(name, str) or not name:
            missing.append(str(name))
            continue
        if _URL.match(name):
            continue  # a URL: not checked
        try:  # os.path rather than pathlib: this runs for every texture of every file
            ok = os.path.isfile(os.path.join(base, name.replace("\\", "/")))
        except (OSError, ValueError):
            ok = False
        if not ok:
            missing.append(name)
    return {"count": len(textures), "missing": missing, "applied": False}


def read(path: Path, progress: ProgressFn | None = None) -> FeatureMesh:
    """Read a CityJSON or CityJSONSeq file into a :class:`FeatureMesh` (all LODs)."""
    path = Path(path)
    report = progress or (lambda f, m: None)
    report(0.0, "reading CityJSON")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                        "check that it exists and is readable") from None
    warnings: list[str] = []
    skipped: list[str] = []
    seq = path.name.lower().endswith(".jsonl")
    doc = None
    if not seq:
        try:
            doc = json.loads(raw)
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
    if seq:
        doc, chunks = _read_seq(raw, path, warnings, skipped)
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
        total = sum(len(c[0]) for c in chunks) + (
            len(doc["CityObjects"]) if isinstance(doc.get("CityObjects"), dict) else 0)

    b = _Builder(path, report, total)
    b.warnings = warnings
    b.skipped = skipped
    b.set_templates(doc, transform)

    if not seq:
        verts = _decode_vertices(doc["vertices"], transform, path, "", b.warnings)
        b.vertex_count_file = len(verts)
        voff = b.add_vertices(verts)
        b.add_objects(doc["CityObjects"], voff, len(verts), verts)
    else:
        head_objects = doc.get("CityObjects")
        head_verts = doc.get("vertices") or []
        if isinstance(head_objects, dict) and head_objects:
            verts = _decode_vertices(head_verts, transform, path, "header: ", b.warnings)
            b.vertex_count_file += len(verts)
            b.add_objects(head_objects, b.add_vertices(verts), len(verts), verts)
        for objects, vlist, no in chunks:
            try:
                verts = _decode_vertices(vlist, transform, path, f"line {no}: ", b.warnings)
            except LoadError as exc:
                b.skip(f"line {no} skipped: {exc.reason}")
                continue
            b.vertex_count_file += len(verts)
            b.add_objects(objects, b.add_vertices(verts), len(verts), verts)

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
        "transform": ({"scale": transform[0].tolist(), "translate": transform[1].tolist()}
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
    try:
        from mapbox_earcut import triangulate_float64 as earcut
    except ImportError:  # pragma: no cover - a pinned dependency
        earcut = None
    mesh = b.finish(crs, metadata, earcut)
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
