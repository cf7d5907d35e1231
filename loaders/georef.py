"""Georeferencing: reprojection between CRSs and similarity transforms (no Qt, no VTK).

Two tools bring layers that do not line up into one frame:

- :func:`reproject` moves a dataset's true coordinates from its CRS into another one
  (pyproj, horizontal and, where both CRSs have one, vertical axis), for data whose CRS
  is known;
- :func:`fit_similarity` computes the 4x4 similarity (rotation, uniform scale,
  translation) that best maps control points picked on one layer onto matching points
  on another (Umeyama / Horn least squares), for data whose CRS is unknown or local
  (a heritage scan in scanner coordinates). The matrix is meant for
  :attr:`viewer.scene.Layer.transform`, which acts on true coordinates.
  :func:`similarity_from_values` / :func:`values_from_matrix` turn such a matrix into
  editable numbers (translation, rotation angles, scale) and back.

Every computation is done in float64 on true coordinates (``origin + local``); the
matrices hold coordinates in the millions of metres (RD New, Swiss LV95), so the fits
work on centred coordinates to keep sub-millimetre precision.

pyproj is imported lazily.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .crs import (
    as_crs,
    crs_label,
    crs_to_text,
    has_vertical,
    horizontal_only_match,
    horizontal_part,
    same_crs,
)
from .lod import LodNode, LodSource, NodeTable
from .types import Mesh, PointCloud, ProgressFn, split_origin

#: Points transformed per pyproj call: bounds the float64 temporaries (~100 MB).
CHUNK = 1_000_000

__all__ = [
    "CHUNK", "apply_matrix", "coordinate_decimals", "display_bounds", "fit_similarity",
    "horizontal_only_match", "metric_crs_for", "needs_reprojection", "prepare_for_scene",
    "reproject", "same_crs", "similarity_from_values", "transform_points",
    "values_from_matrix",
]

#: UTM is defined between these latitudes; nearer the poles a local transverse Mercator
UTM_SOUTH, UTM_NORTH = -80.0, 84.0

def needs_reprojection(src: Any, dst: Any) -> bool:
    """True when data in ``src`` must be transformed to be shown in ``dst``.

    False when either CRS is unknown (nothing can be done: the data is taken as is) or
    when :func:`~loaders.crs.same_crs` holds. ValueError for a text that is not a CRS.
    """
    src, dst = as_crs(src), as_crs(dst)
    if src is None or dst is None:
        return False
    return not same_crs(src, dst)


# --------------------------------------------------------------------------------------
# Reprojection
# --------------------------------------------------------------------------------------


def _transformer(src: Any, dst: Any) -> tuple[Any, list[str]]:
    """pyproj Transformer src -> dst (x/y order), plus warnings about missing grids."""
    from pyproj import Transformer
    from pyproj.transformer import TransformerGroup

    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            transformer = Transformer.from_crs(src, dst, always_xy=True)
    except Exception as exc:
        raise ValueError(f"no coordinate transformation from {crs_label(src)} to "
                         f"{crs_label(dst)}: {exc}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            group = TransformerGroup(src, dst, always_xy=True)
        if not group.best_available:
            grids = sorted({g.short_name for op in group.unavailable_operations[:5]
                            for g in getattr(op, "grids", []) if not g.available})
            notes.append(
                "the most accurate transformation from "
                f"{crs_label(src)} to {crs_label(dst)} needs grid files that are not "
                f"installed ({', '.join(grids) or 'unknown grids'}); a less accurate one "
                "was used" + (" (heights may be unchanged)" if has_vertical(src)
                              and has_vertical(dst) else ""))
    except Exception:  # the check is advisory only
        pass
    return transformer, notes


def transform_points(xyz: Any, src_crs: Any, dst_crs: Any) -> np.ndarray:
    """A few true (float64) points from ``src_crs`` into ``dst_crs``: (N, 3) float64 in
    x/y order (longitude, latitude for geographic CRSs); heights are transformed where
    both CRSs define them. Raises ``ValueError`` when either CRS is unknown or there is
    no transformation; points outside the CRSs' area come back as ``inf``."""
    src, dst = as_crs(src_crs), as_crs(dst_crs)
    if src is None or dst is None:
        raise ValueError("both coordinate systems must be known")
    pts = np.atleast_2d(np.asarray(xyz, dtype=np.float64))
    if same_crs(src, dst):
        return pts.copy()
    transformer, _ = _transformer(src, dst)
    return _transform_chunk(transformer, pts)


def _transform_chunk(transformer: Any, xyz: np.ndarray) -> np.ndarray:
    x, y, z = transformer.transform(xyz[:, 0], xyz[:, 1], xyz[:, 2], errcheck=False)
    out = np.empty_like(xyz)
    out[:, 0], out[:, 1], out[:, 2] = x, y, z
    return out


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted per-vertex normals (float32, unit length where defined)."""
    v = vertices.astype(np.float64)
    normals = np.zeros_like(v)
    if len(faces):
        f = faces.astype(np.int64)
        face_n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
        for k in range(3):
            np.add.at(normals, f[:, k], face_n)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    np.divide(normals, length, out=normals, where=length > 0)
    return normals.astype(np.float32)


def reproject(data: PointCloud | Mesh, dst_crs: Any,
              progress: ProgressFn | None = None) -> PointCloud | Mesh:
    """Transform ``data`` (a PointCloud, Mesh or FeatureMesh) from ``data.crs`` into
    ``dst_crs`` **in place** and return it.

    True coordinates (``origin + local``) are transformed in float64 by pyproj
    (``always_xy=True``), in chunks of :data:`CHUNK` points so that a 30M point cloud
    only needs float64 temporaries for one chunk; heights are transformed too where both
    CRSs define a vertical axis (compound or 3D CRSs), otherwise they are kept. The
    result is split again into float32 local positions and a float64 origin (for data
    larger than one chunk the origin is the rounded centre of the transformed bounding
    box estimated from a sample and refined after the pass), ``data.crs`` becomes
    ``dst_crs`` and ``data.metadata["reprojected_from"]`` records the source CRS.
    Mesh vertex normals, if any, are recomputed from the faces.

    ``progress(fraction, message)`` is called after every chunk; it may raise (e.g.
    :class:`~loaders.types.LoadCancelled`) to abort, leaving ``data`` unchanged.

    When the CRSs are the same (:func:`same_crs`) no coordinate changes: only the CRS
    label is replaced (and recorded) if it differs.

    Raises ``ValueError`` when ``data`` has no CRS, when pyproj has no transformation
    between the two CRSs, or when the result is not finite (points outside the area
    where the transformation is defined).
    """
    if not isinstance(data, (PointCloud, Mesh)):
        raise ValueError(f"cannot reproject a {type(data).__name__}")
    dst = as_crs(dst_crs)
    if dst is None:
        raise ValueError("no target coordinate system given")
    src = as_crs(data.crs)
    if src is None:
        raise ValueError("the data has no coordinate system; assign one before "
                         "reprojecting (or align it with control points)")
    if same_crs(src, dst):
        if horizontal_only_match(src, dst):
            data.metadata["reprojected_from"] = crs_to_text(src)
            data.metadata["reprojection"] = (
                "horizontal CRS identical; vertical CRS "
                + ("assigned" if has_vertical(dst) else "dropped")
                + ", coordinates unchanged")
            data.crs = dst
        if progress is not None:
            progress(1.0, "reprojected")
        return data

    transformer, notes = _transformer(src, dst)
    is_cloud = isinstance(data, PointCloud)
    local = data.positions if is_cloud else data.vertices
    n = len(local)
    origin = np.asarray(data.origin, dtype=np.float64)
    label = f"reprojecting to {crs_label(dst)}"

    def check(out: np.ndarray, start: int) -> None:
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            first = start + int(np.flatnonzero(bad)[0])
            p = local[first].astype(np.float64) + origin
            raise ValueError(
                f"transforming from {crs_label(src)} to {crs_label(dst)} gave invalid "
                f"coordinates for {int(bad.sum())} of the points (e.g. point {first} at "
                f"{p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}); are they inside the area where "
                "the coordinate systems are defined, and is the source CRS right?")

    if n <= CHUNK:
        out = _transform_chunk(transformer, local.astype(np.float64) + origin)
        check(out, 0)
        new_local, new_origin = split_origin(out)
        if progress is not None:
            progress(1.0, label)
    else:
        # estimate the target origin from a sample (including each axis' extremes) so
        # the full-size output can be float32 from the start
        step = max(1, n // 100_000)
        idx = np.unique(np.concatenate([np.arange(0, n, step), local.argmin(axis=0),
                                        local.argmax(axis=0)]))
        sample = _transform_chunk(transformer, local[idx].astype(np.float64) + origin)
        sample = sample[np.isfinite(sample).all(axis=1)]
        _, est_origin = split_origin(sample)
        new_local = np.empty((n, 3), np.float32)
        lo = np.full(3, np.inf)
        hi = np.full(3, -np.inf)
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            out = _transform_chunk(transformer, local[start:stop].astype(np.float64) + origin)
            check(out, start)
            lo = np.minimum(lo, out.min(axis=0))
            hi = np.maximum(hi, out.max(axis=0))
            new_local[start:stop] = out - est_origin
            if progress is not None:
                progress(stop / n, label)
        new_origin = np.round((lo + hi) / 2.0)
        shift = new_origin - est_origin
        if np.any(shift != 0):  # keep the origin at the box centre, like split_origin
            for start in range(0, n, CHUNK):
                block = new_local[start:start + CHUNK]
                block[:] = block.astype(np.float64) - shift

    if is_cloud:
        data.positions = new_local
    else:
        data.vertices = new_local
        if data.normals is not None and len(data.normals) == n:
            data.normals = _vertex_normals(new_local, np.asarray(data.faces))
    data.origin = new_origin
    data.metadata["reprojected_from"] = crs_to_text(src)
    data.metadata["reprojection"] = transformer.description or "pyproj"
    for note in notes:
        data.warnings.append(note)
    data.crs = dst
    return data


# --------------------------------------------------------------------------------------
# Geographic data: a metric CRS to draw it in
# --------------------------------------------------------------------------------------


def is_geographic(crs: Any) -> bool:
    """True when the horizontal part of ``crs`` is geographic (degrees)."""
    h = horizontal_part(as_crs(crs))
    return bool(h is not None and h.is_geographic)


def metric_crs_for(crs: Any, lo: Any, hi: Any) -> Any:
    """A metric CRS in which to draw data whose CRS is geographic (longitude/latitude
    degrees), chosen from the data's bounds ``lo``/``hi`` (x = longitude, y = latitude):

    - the UTM zone of the centre of the bounds, on the data's own datum when
      ``pyproj.database.query_utm_crs_info`` knows one for it (e.g. WGS 84 / UTM zone
      15N, NAD83 / UTM zone 15N), else WGS 84's UTM zone (for datums without UTM
      definitions such as EPSG:4047's sphere; longitude and latitude are taken as they
      are, pyproj's ballpark offset, so nothing moves by a datum shift);
    - beyond UTM's latitudes (north of 84°N, south of 80°S) a transverse Mercator
      centred on the data.

    A vertical CRS of a compound source is kept (the result is compound too). Returns
    None when ``crs`` is not geographic or the bounds are not finite degrees.
    """
    from pyproj import CRS
    from pyproj.crs import CompoundCRS, ProjectedCRS
    from pyproj.crs.coordinate_operation import TransverseMercatorConversion

    src = as_crs(crs)
    h = horizontal_part(src)
    if h is None or not h.is_geographic:
        return None
    lo = np.asarray(lo, dtype=np.float64).ravel()
    hi = np.asarray(hi, dtype=np.float64).ravel()
    lon, lat = (lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0
    if not (np.isfinite(lon) and np.isfinite(lat)) or abs(lat) > 90.0 or abs(lon) > 540:
        return None
    lon = (lon + 180.0) % 360.0 - 180.0
    geodetic = h.geodetic_crs or h
    metric = None
    if UTM_SOUTH <= lat <= UTM_NORTH:
        zone = min(60, int((lon + 180.0) // 6.0) + 1)
        north = lat >= 0
        metric = _utm_from_database(geodetic, lon, lat, zone, north)
        if metric is None:  # no UTM on this datum (e.g. EPSG:4047's sphere): WGS 84's,
            # reached by pyproj's ballpark offset (longitude/latitude taken as they are)
            metric = CRS.from_epsg((32600 if north else 32700) + zone)
    else:
        metric = ProjectedCRS(
            name=f"{geodetic.name} / local transverse Mercator "
                 f"{lat:.4f}°, {lon:.4f}°",
            conversion=TransverseMercatorConversion(
                latitude_natural_origin=round(lat, 6),
                longitude_natural_origin=round(lon, 6), scale_factor_natural_origin=1.0),
            geodetic_crs=geodetic)
    if src.is_compound:
        vertical = next((s for s in src.sub_crs_list if s.is_vertical), None)
        if vertical is not None:
            metric = CompoundCRS(f"{metric.name} + {vertical.name}", [metric, vertical])
    return CRS.from_user_input(metric)


def _utm_from_database(geodetic: Any, lon: float, lat: float, zone: int,
                       north: bool) -> Any:
    """The EPSG UTM CRS of ``zone`` on ``geodetic``'s datum, or None."""
    from pyproj import CRS
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    suffix = f"UTM zone {zone}{'N' if north else 'S'}"
    try:
        infos = query_utm_crs_info(datum_name=geodetic.name,
                                   area_of_interest=AreaOfInterest(lon, lat, lon, lat))
    except Exception:  # an unusual datum name: build the conversion instead
        return None
    for info in infos:
        if info.name.endswith(suffix) and not info.deprecated:
            try:
                candidate = CRS.from_authority(info.auth_name, info.code)
            except Exception:
                continue
            base = candidate.geodetic_crs
            if base is not None and base.datum == geodetic.datum:
                return candidate
    return None


def prepare_for_scene(data: PointCloud | Mesh, scene_crs: Any,
                      progress: ProgressFn | None = None) -> Any:
    """Bring freshly read ``data`` into the scene's coordinate system, in place.

    The one pipeline step shared by the window and the command line: with a scene CRS,
    data in another known CRS is reprojected into it; without one (the first
    georeferenced layer sets it), data in geographic degrees is reprojected into a
    metric CRS chosen by :func:`metric_crs_for` (the UTM zone of its centre), so that it
    is not drawn as degrees taken for metres. Returns the CRS the data is now in (None
    when it has none). A failed transformation leaves the data as it was, with a
    warning.
    """
    src = data.crs
    if src is None:
        return None
    target = as_crs(scene_crs) if scene_crs is not None else None
    if target is None:
        if not is_geographic(src):
            return src
        try:
            lo, hi = data.bounds
            target = metric_crs_for(src, lo, hi)
        except Exception as exc:  # noqa: BLE001 - drawing in degrees beats failing
            data.warnings.append(f"no metric coordinate system could be chosen: {exc}")
            return src
        if target is None:
            return src
        note = (f"drawn in {crs_label(target)}, chosen automatically for its geographic "
                f"coordinates ({crs_label(src)}, degrees)")
    else:
        if not needs_reprojection(src, target):
            return src
        note = None
    try:
        reproject(data, target, progress=progress)
    except ValueError as exc:
        data.warnings.append(f"not transformed into the scene CRS: {exc}")
        return data.crs
    if note is not None:
        from .crs import GEOGRAPHIC_WARNING

        data.metadata["auto_crs"] = note
        data.metadata["warnings"] = [w for w in data.warnings if w != GEOGRAPHIC_WARNING]
        data.warnings.append(note)
    return data.crs


def tiles_metric_crs(tileset: Any) -> Any:
    """The metric CRS a geocentric (ECEF) or geographic tileset is drawn in when it opens
    a scene (:func:`metric_crs_for` at the root's centre: its UTM zone); None for a
    tileset in a projected CRS or none."""
    src = as_crs(getattr(tileset, "native_crs", None))
    if src is None or not (src.is_geocentric or is_geographic(src)):
        return None
    native = tileset._native_centres.get(id(tileset.root), tileset.root.center)
    centre = np.asarray(tileset.native_to_crs(np.asarray(native, np.float64).reshape(1, 3)),
                        np.float64).reshape(-1, 3)[0]
    if src.is_geocentric:  # longitude, latitude, height on its datum
        from pyproj.crs import GeographicCRS
        from pyproj.crs.coordinate_system import Ellipsoidal3DCS

        geographic = GeographicCRS(name=src.name, datum=src.datum,
                                   ellipsoidal_cs=Ellipsoidal3DCS())
        lonlat = transform_points(centre[None], src, geographic)[0]
    else:
        geographic, lonlat = horizontal_part(src), centre
    return metric_crs_for(geographic, lonlat, lonlat)


def prepare_tiles_for_scene(tileset: Any, scene_crs: Any) -> Any:
    """Bring a tiled dataset (:class:`loaders.tiles.TileSet`) into the scene's CRS: the
    tiles' centres and contents are delivered in it from now on
    (:meth:`~loaders.tiles.TileSet.set_target_crs`, float64). Without a scene CRS a
    geocentric (ECEF, 3D Tiles) or geographic tileset is drawn in a metric CRS chosen
    as for degrees (:func:`metric_crs_for`: the UTM zone of the root's centre); a
    projected one keeps its CRS (which becomes the scene's). Returns the tileset's CRS
    now (None when it has none). A failed transformation keeps the native CRS, with a
    warning."""
    src = getattr(tileset, "native_crs", None)
    if src is None:
        tileset.set_target_crs(None)  # centres in the native CRS's frame (none)
        return None
    src = as_crs(src)
    tileset.native_crs = src  # (a reader may have given its text)
    target = as_crs(scene_crs) if scene_crs is not None else None
    note = None
    if target is None:
        if src.is_geocentric or is_geographic(src):
            try:
                target = tiles_metric_crs(tileset)
            except Exception as exc:  # noqa: BLE001 - drawing in the native CRS beats failing
                tileset.warnings.append(f"no metric coordinate system could be chosen: {exc}")
                return tileset.crs
            if target is None:
                return tileset.crs
            note = (f"drawn in {crs_label(target)}, chosen automatically for its "
                    f"{'geocentric' if src.is_geocentric else 'geographic'} coordinates "
                    f"({crs_label(src)})")
        else:
            tileset.set_target_crs(None)
            return tileset.crs
    elif not needs_reprojection(src, target):
        tileset.set_target_crs(None)
        return tileset.crs
    try:
        tileset.set_target_crs(target)
    except Exception as exc:  # noqa: BLE001 - pyproj: no transformation
        tileset.warnings.append(f"not transformed into the scene CRS: {exc}")
        return tileset.crs
    if note is not None:
        tileset.metadata["auto_crs"] = note
        tileset.warnings.append(note)
    return tileset.crs


def prepare_source_for_scene(source: Any, preview: PointCloud, scene_crs: Any
                             ) -> tuple[Any, PointCloud]:
    """:func:`prepare_for_scene` for a streamed level-of-detail source (a COPC, local or
    over HTTP) and its preview cloud: when the scene CRS differs from the source's, or
    the scene has none and the source is in geographic degrees, the source is wrapped
    in a :class:`ReprojectedSource` (nodes transformed as they are fetched) and the
    preview is transformed into the same frame. Returns ``(source, preview)``."""
    src = getattr(source, "crs", None)
    if src is None:
        return source, preview
    target = as_crs(scene_crs) if scene_crs is not None else None
    note = None
    if target is None:
        if not is_geographic(src):
            return source, preview
        lo, hi = (np.asarray(b, np.float64) + source.origin for b in source.bounds)
        target = metric_crs_for(src, lo, hi)
        if target is None:
            return source, preview
        note = (f"drawn in {crs_label(target)}, chosen automatically for its geographic "
                f"coordinates ({crs_label(src)}, degrees)")
    elif not needs_reprojection(src, target):
        return source, preview
    try:
        wrapped = ReprojectedSource(source, target, note)
    except ValueError as exc:
        preview.warnings.append(f"not transformed into the scene CRS: {exc}")
        return source, preview
    return wrapped, wrapped.transform_cloud(preview, keep_metadata=True)


class ReprojectedSource(LodSource):
    """A level-of-detail source seen in another CRS: node boxes and node points are
    transformed (pyproj, float64) when asked for; the wrapped source still decides what
    is fetched. Other attributes (``bytes_fetched``, ``file_size``...) are the wrapped
    source's. Node boxes are the transformed box corners, padded by 0.1 % of their size
    for the curvature of the projection."""

    def __init__(self, source: Any, dst_crs: Any, note: str | None = None) -> None:
        src = as_crs(source.crs)
        dst = as_crs(dst_crs)
        self.source = source
        self.crs = dst
        self.root = source.root
        self._transformer, notes = _transformer(src, dst)
        lo, hi = (np.asarray(b, np.float64) for b in source.bounds)
        centre = (lo + hi) / 2.0 + np.asarray(source.origin, np.float64)
        origin = self._forward(centre.reshape(1, 3))[0]  # the data's centre, not the cube's
        if not np.isfinite(origin).all():
            raise ValueError(f"the data lies outside the area of {crs_label(dst)}")
        self.origin = np.round(origin)
        self.total_points = source.total_points
        self.attribute_names = list(getattr(source, "attribute_names", []))
        self.metadata = dict(source.metadata)
        self.metadata["warnings"] = [w for w in source.metadata.get("warnings", [])] + notes
        self.metadata["reprojected_from"] = crs_to_text(src)
        self.metadata["reprojection"] = self._transformer.description or "pyproj"
        if note:
            self.metadata["auto_crs"] = note
            self.metadata["warnings"].append(note)

    def __getattr__(self, name: str) -> Any:
        if name == "source":
            raise AttributeError(name)
        return getattr(self.source, name)

    def _forward(self, true_xyz: np.ndarray) -> np.ndarray:
        return _transform_chunk(self._transformer, true_xyz)

    def _boxes(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Transformed local boxes of (n, 3) local boxes of the wrapped source."""
        lo = np.atleast_2d(np.asarray(lo, np.float64))
        hi = np.atleast_2d(np.asarray(hi, np.float64))
        corners = np.stack([np.where(np.array(bits, bool), hi, lo) for bits in
                            ((x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1))],
                           axis=1)  # (n, 8, 3)
        out = self._forward(corners.reshape(-1, 3) + self.source.origin).reshape(-1, 8, 3)
        new_lo, new_hi = out.min(axis=1), out.max(axis=1)
        pad = (new_hi - new_lo) * 1e-3
        return new_lo - pad - self.origin, new_hi + pad - self.origin

    def _node(self, node: Any) -> Any:
        lo, hi = self._boxes(node.lo, node.hi)
        return LodNode(node.key, lo[0], hi[0], node.point_count, list(node.children))

    def node(self, key: Any) -> Any:
        return self._node(self.source.node(key))

    def children(self, key: Any) -> list[Any]:
        return [self._node(c) for c in self.source.children(key)]

    def is_resident(self, key: Any) -> bool:
        return self.source.is_resident(key)

    def transform_cloud(self, cloud: PointCloud, keep_metadata: bool = False) -> PointCloud:
        """A node cloud of the wrapped source, in this source's CRS and origin."""
        true = cloud.positions.astype(np.float64) + np.asarray(cloud.origin, np.float64)
        out = self._forward(true) if len(true) else true
        meta = dict(cloud.metadata)
        if keep_metadata:
            meta.update({k: v for k, v in self.metadata.items() if k != "warnings"})
            meta["warnings"] = list(self.metadata["warnings"])
        return PointCloud(positions=(out - self.origin).astype(np.float32),
                          origin=self.origin.copy(), attributes=cloud.attributes,
                          crs=self.crs, metadata=meta)

    def get(self, key: Any) -> PointCloud:
        return self.transform_cloud(self.source.get(key))

    def preview(self, max_points: int = 200_000) -> PointCloud:
        return self.transform_cloud(self.source.preview(max_points), keep_metadata=True)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.source.bounds
        new_lo, new_hi = self._boxes(lo, hi)
        return new_lo[0], new_hi[0]

    def node_table(self) -> Any:
        table = self.source.node_table()
        if table is None:
            return None
        lo, hi = self._boxes(table.lo, table.hi)
        return NodeTable(keys=table.keys, lo=lo, hi=hi, counts=table.counts,
                         children=table.children)

    def close(self) -> None:
        self.source.close()

    def __repr__(self) -> str:
        return f"<ReprojectedSource {self.source!r} in {crs_label(self.crs)}>"


# --------------------------------------------------------------------------------------
# Coordinates shown to the user
# --------------------------------------------------------------------------------------


def coordinate_decimals(data: Any) -> int:
    """How many decimals of a coordinate of ``data`` are meaningful.

    From the file when it says so and the coordinates are the file's own (not
    reprojected): a LAS/LAZ/COPC scale factor (0.01 -> 2), a text table's decimals
    (``metadata["decimals"]``). Otherwise from the precision of the float32 local
    positions (their spacing at the largest local coordinate), at most 9.
    """
    meta = getattr(data, "metadata", {}) or {}
    if "reprojected_from" not in meta:
        scale = meta.get("scale")
        if scale:
            try:
                finest = min(abs(float(v)) for v in scale)
                if 0 < finest < float("inf"):
                    d = max(0, min(9, math.ceil(-math.log10(finest) - 1e-9)))
                    # values are offset + n * scale: an offset with more decimals adds them
                    for off in meta.get("offset") or ():
                        off = float(off)
                        while d < 9 and abs(off - round(off, d)) > finest * 1e-3:
                            d += 1
                    return d
            except (TypeError, ValueError, OverflowError):
                pass
        dec = meta.get("decimals")
        if isinstance(dec, int) and 0 <= dec <= 12:
            return dec
    local = getattr(data, "positions", None)
    if local is None:
        local = getattr(data, "vertices", None)
    if local is None or not len(local):
        return 3
    try:
        biggest = float(np.abs(np.asarray(local)).max())
    except (TypeError, ValueError):
        return 3
    if not math.isfinite(biggest):
        return 3
    spacing = float(np.spacing(np.float32(max(biggest, 1e-30))))
    return max(0, min(9, math.floor(-math.log10(spacing))))


def display_bounds(data: Any) -> tuple[list[float], list[float]]:
    """The (min, max) true coordinates of ``data`` to show the user: the file's own
    float64 bounds (header or reader, ``metadata["bounds_min"/"bounds_max"]``) while
    the coordinates are the file's, else the float64 bounds of the data; rounded to
    :func:`coordinate_decimals` (no float32 noise such as 636001.7600097656)."""
    meta = getattr(data, "metadata", {}) or {}
    lo = hi = None
    if "reprojected_from" not in meta and meta.get("bounds_min") is not None \
            and meta.get("bounds_max") is not None and data.kind == "pointcloud" \
            and data.point_count:
        lo = np.asarray(meta["bounds_min"], np.float64)
        hi = np.asarray(meta["bounds_max"], np.float64)
        if lo.shape != (3,) or hi.shape != (3,):
            lo = hi = None
    if lo is None:
        lo, hi = (np.asarray(b, np.float64) for b in data.bounds)
    d = coordinate_decimals(data)
    return ([round(float(v), d) for v in lo], [round(float(v), d) for v in hi])


# --------------------------------------------------------------------------------------
# Similarity transforms
# --------------------------------------------------------------------------------------


def _rotation(rotate_deg: Any) -> np.ndarray:
    """R = Rz @ Ry @ Rx: rotate about x first, then y, then z (fixed axes), degrees."""
    rx, ry, rz = (math.radians(float(a)) for a in rotate_deg)
    cx, sx, cy, sy, cz, sz = (math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry),
                              math.cos(rz), math.sin(rz))
    r_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]], np.float64)
    r_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]], np.float64)
    r_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]], np.float64)
    return r_z @ r_y @ r_x


def _vec3(value: Any, what: str) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    if v.shape != (3,) or not np.isfinite(v).all():
        raise ValueError(f"{what} must be three finite numbers, got {value!r}")
    return v


def similarity_from_values(translate: Any = (0.0, 0.0, 0.0),
                           rotate_deg: Any = (0.0, 0.0, 0.0), scale: float = 1.0,
                           pivot: Any = (0.0, 0.0, 0.0)) -> np.ndarray:
    """4x4 float64 similarity: rotate (degrees about the x, then y, then z axis) and
    scale about ``pivot``, then translate by ``translate``.

    ``p' = scale * R @ (p - pivot) + pivot + translate``.
    """
    t = _vec3(translate, "translate")
    r = _vec3(rotate_deg, "rotate_deg")
    c = _vec3(pivot, "pivot")
    s = float(scale)
    if not math.isfinite(s) or s <= 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    a = s * _rotation(r)
    m = np.eye(4)
    m[:3, :3] = a
    m[:3, 3] = c - a @ c + t
    return m


def values_from_matrix(m: Any, pivot: Any = (0.0, 0.0, 0.0),
                       tol: float = 1e-6) -> dict[str, Any]:
    """Decompose a similarity matrix into the arguments of
    :func:`similarity_from_values` (for the same ``pivot``):
    ``{"translate": (x, y, z), "rotate_deg": (rx, ry, rz), "scale": s, "pivot": ...}``.

    Raises ``ValueError`` when ``m`` is not a similarity (shear, non-uniform scale,
    mirroring or a projective last row), within relative tolerance ``tol``.
    """
    m = np.asarray(m, dtype=np.float64)
    if m.shape != (4, 4) or not np.isfinite(m).all():
        raise ValueError("expected a finite 4x4 matrix")
    if not np.allclose(m[3], [0, 0, 0, 1], atol=tol):
        raise ValueError("the matrix is projective (last row is not 0 0 0 1)")
    a = m[:3, :3]
    det = float(np.linalg.det(a))
    if det <= 0:
        raise ValueError("the matrix mirrors or collapses space; it is not a similarity")
    s = det ** (1.0 / 3.0)
    r = a / s
    if not np.allclose(r.T @ r, np.eye(3), atol=tol * 10):
        raise ValueError("the matrix shears or scales the axes differently; "
                         "it is not a similarity")
    # R = Rz Ry Rx  ->  R[2,0] = -sin(ry)
    sy = -float(np.clip(r[2, 0], -1.0, 1.0))
    ry = math.asin(sy)
    if abs(r[2, 0]) < 1.0 - 1e-12:
        rx = math.atan2(r[2, 1], r[2, 2])
        rz = math.atan2(r[1, 0], r[0, 0])
    else:  # gimbal lock: only rx - rz (or rx + rz) is defined; put it all in rx
        rz = 0.0
        rx = math.atan2(-r[1, 2], r[1, 1])
    c = _vec3(pivot, "pivot")
    t = m[:3, 3] - (c - a @ c)
    return {
        "translate": tuple(float(v) for v in t),
        "rotate_deg": tuple(math.degrees(v) for v in (rx, ry, rz)),
        "scale": float(s),
        "pivot": tuple(float(v) for v in c),
    }


def apply_matrix(m: Any, points: Any) -> np.ndarray:
    """Apply a 4x4 affine matrix to (N, 3) points (float64)."""
    m = np.asarray(m, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    return p @ m[:3, :3].T + m[:3, 3]


def _points(value: Any, what: str) -> np.ndarray:
    p = np.asarray(value, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"{what} must be an (N, 3) array of points, got shape "
                         f"{p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"{what} contains non-finite coordinates")
    return p


def _check_spread(centred: np.ndarray, what: str) -> None:
    sv = np.linalg.svd(centred, compute_uv=False)
    scale = max(float(sv[0]), 1e-300)
    if sv[0] <= 1e-9 * max(1.0, float(np.abs(centred).max(initial=0.0))) or \
            sv[1] <= 1e-9 * scale:
        raise ValueError(f"the {what} points are collinear or coincide; pick at least "
                         "three points that are not on one line")


def fit_similarity(src_pts: Any, dst_pts: Any, allow_scale: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Least-squares similarity mapping ``src_pts`` onto ``dst_pts`` (Umeyama 1991).

    Parameters
    ----------
    src_pts, dst_pts : (N, 3) matching points, N >= 3, not collinear
    allow_scale : False for a rigid fit (rotation + translation only)

    Returns ``(matrix, residuals, rms)``: the 4x4 float64 matrix with
    ``dst ~= matrix @ src``, the (N,) distance of every transformed source point from
    its destination, and the root mean square of those distances.

    Both sets are centred on their own centroid before solving and the residuals are
    computed in centred coordinates, so coordinates in the millions of metres keep
    their precision. Mirroring is never returned (proper rotations only).

    Raises ``ValueError`` for fewer than three pairs, mismatched shapes, non-finite
    values, or collinear / coincident points.
    """
    src = _points(src_pts, "source")
    dst = _points(dst_pts, "target")
    if len(src) != len(dst):
        raise ValueError(f"need the same number of source and target points "
                         f"({len(src)} vs {len(dst)})")
    if len(src) < 3:
        raise ValueError(f"need at least 3 point pairs to fit a transformation, got "
                         f"{len(src)}")
    # centroids: subtract a first point, then average (exact for large coordinates)
    cs = src[0] + (src - src[0]).mean(axis=0)
    cd = dst[0] + (dst - dst[0]).mean(axis=0)
    x = src - cs
    y = dst - cd
    _check_spread(x, "source")
    _check_spread(y, "target")
    n = len(src)
    cov = y.T @ x / n
    u, d, vt = np.linalg.svd(cov)
    sign = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2] = -1.0
    r = u @ np.diag(sign) @ vt
    if allow_scale:
        var_x = float((x * x).sum()) / n
        s = float((d * sign).sum()) / var_x
        if not math.isfinite(s) or s <= 0:
            raise ValueError("the point pairs do not define a valid scale")
    else:
        s = 1.0
    a = s * r
    m = np.eye(4)
    m[:3, :3] = a
    m[:3, 3] = cd - a @ cs
    residuals = np.linalg.norm(x @ a.T - y, axis=1)
    rms = float(np.sqrt(np.mean(residuals ** 2)))
    return m, residuals, rms
