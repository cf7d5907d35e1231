"""Scan vs model: distance of survey points to a mesh, city model or IFC model, per object.

    from heritage.monitoring.deviation import deviation, deviation_files
    result = deviation(scan_xyz, model, tolerance=0.1, max_distance=5.0,
                       scan_transform=T_scan, model_transform=T_model)
    result.objects[0].key, result.objects[0].mean_abs, result.objects[0].beyond
    result.write_csv("deviation.csv")
    deviation_files("scan.laz", "model.city.json", "deviation.csv", laz_path="scan_d.laz")

For every scan point the closest point on the model's triangles (open3d's
``RaycastingScene.compute_closest_points``: a BVH in C++, ~0.4 s for 200k points against
36k triangles; trimesh's ``proximity.closest_point`` needs rtree and is many times slower).
The **distance is signed** by the nearest triangle's normal: positive in front of the face
(above a roof, outside a wall of a solid), negative behind it. Both sides are put in the
scene's coordinates first (each layer's 4x4 ``transform`` applied to its true coordinates,
as the renderer does), and centred on the model before going to float32, so large
projected coordinates (RD New, UTM) keep millimetres.

**Objects**: a city / building model (:class:`loaders.FeatureMesh`) gives each triangle an
object (CityJSON city object, IFC element; each object at its highest LOD); a plain mesh
gives its parts (OBJ material groups, glTF meshes), or one object when it has none. A
point belongs to the object of its nearest triangle when it is within ``max_distance``;
farther points are measured but counted for no object. Per object: point count, signed mean,
mean of |d|, max |d|, RMS, and the share of its points with |d| > ``tolerance``.

No Qt, no VTK.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from loaders.types import FeatureMesh, LoadCancelled, LoadError, Mesh

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]

DEFAULT_TOLERANCE = 0.1
DEFAULT_MAX_DISTANCE = 5.0
#: the per-point scan attribute (and LAS extra dimension) with the signed distance
DISTANCE_FIELD = "model_distance"
#: the per-object summary stored in a FeatureMesh object's attributes (``deviation.mean``)
ATTRIBUTE = "deviation"
CSV_COLUMNS = ("object", "type", "points", "mean", "mean_abs", "median_abs", "max_abs", "rms",
               "beyond_tolerance")
_CHUNK = 500_000


class DeviationCancelled(LoadCancelled):
    """The user cancelled a scan-vs-model comparison."""


def _step(progress: Progress | None, cancel: Cancel | None, fraction: float,
          message: str) -> None:
    if cancel is not None and cancel():
        raise DeviationCancelled("deviation cancelled")
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def _apply(transform: Any, xyz: np.ndarray) -> np.ndarray:
    if transform is None:
        return xyz
    m = np.asarray(transform, dtype=np.float64)
    if m.shape != (4, 4):
        raise ValueError(f"a layer transform must be 4x4, got {m.shape}")
    if np.allclose(m, np.eye(4)):
        return xyz
    return xyz @ m[:3, :3].T + m[:3, 3]


@dataclass
class ModelObjects:
    """The triangles of a model in scene coordinates and the object of each."""

    vertices: np.ndarray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64
    face_object: np.ndarray  # (F,) int64 index into keys, -1: no object
    keys: list[str]
    types: list[str]


def model_objects(model: Mesh, transform: Any = None) -> ModelObjects:
    """The triangles :func:`deviation` measures against and their objects: features of a
    FeatureMesh (each at its highest LOD), else the mesh's parts, else one object."""
    vertices = _apply(transform, model.xyz())
    faces = np.asarray(model.faces, dtype=np.int64).reshape(-1, 3)
    if isinstance(model, FeatureMesh):
        ff = np.asarray(model.face_feature, dtype=np.int64)
        keep = _highest_lod(model)
        faces, ff = faces[keep], ff[keep]
        return ModelObjects(vertices, faces, ff, [f.id for f in model.features],
                            [f.type for f in model.features])
    face_object = np.zeros(len(faces), np.int64)
    if model.parts:
        face_object[:] = -1
        for i, part in enumerate(model.parts):
            face_object[part.start:part.stop] = i
        names = [p.name or f"part {i}" for i, p in enumerate(model.parts)]
        seen: dict[str, int] = {}
        keys = []
        for name in names:  # unique keys for a CSV (two parts may share a material)
            seen[name] = seen.get(name, 0) + 1
            keys.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
        return ModelObjects(vertices, faces, face_object, keys, ["part"] * len(keys))
    name = str(model.metadata.get("source") or "mesh")
    return ModelObjects(vertices, faces, face_object, [Path(name).name], ["mesh"])


def _highest_lod(model: FeatureMesh) -> np.ndarray:
    face_lod = np.asarray(model.face_lod, dtype=np.int64)
    m = len(face_lod)
    if m == 0 or not model.lod_names or (face_lod < 0).all():
        return np.ones(m, bool)
    ff = np.asarray(model.face_feature, dtype=np.int64)
    best = np.full(max(len(model.features), 1) + 1, -1, np.int64)
    slot = np.where(ff >= 0, ff, len(best) - 1)
    np.maximum.at(best, slot, face_lod)
    return (face_lod == best[slot]) | (face_lod < 0)


def closest_points(xyz: np.ndarray, vertices: np.ndarray, faces: np.ndarray, *,
                   progress: Progress | None = None, cancel: Cancel | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(signed distance (N,) float64, nearest triangle (N,) int64) of every point to the
    triangles; the sign is that of (p - q) . n with n the triangle's normal."""
    import open3d as o3d

    xyz = np.asarray(xyz, dtype=np.float64)
    n = len(xyz)
    if len(faces) == 0:
        raise ValueError("the model has no triangles to measure against")
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    centre = np.rint((lo + hi) / 2.0)
    v = vertices - centre
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(v.astype(np.float32)),
                        o3d.core.Tensor(faces.astype(np.uint32)))
    tri_normal = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    distance = np.empty(n, np.float64)
    triangle = np.empty(n, np.int64)
    for start in range(0, n, _CHUNK):
        _step(progress, cancel, start / max(n, 1), "measuring distances to the model")
        p = xyz[start:start + _CHUNK] - centre
        r = scene.compute_closest_points(o3d.core.Tensor(p.astype(np.float32)))
        tri = r["primitive_ids"].numpy().astype(np.int64)
        # the BVH is float32: the closest point on the triangle it found again in float64
        q = _closest_on_triangles(v[faces[tri]], p)
        delta = p - q
        d = np.sqrt(np.einsum("ij,ij->i", delta, delta))
        side = np.einsum("ij,ij->i", delta, tri_normal[tri])
        distance[start:start + len(p)] = np.where(side < 0, -d, d)
        triangle[start:start + len(p)] = tri
    _step(progress, cancel, 1.0, "distances measured")
    return distance, triangle


def _closest_on_triangles(tris: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Closest point of each p on its triangle (Ericson, Real-Time Collision Detection
    5.1.5), vectorised in float64."""
    a, b, c = tris[:, 0], tris[:, 1], tris[:, 2]
    ab, ac, ap = b - a, c - a, p - a
    dot = lambda x, y: np.einsum("ij,ij->i", x, y)  # noqa: E731
    d1, d2 = dot(ab, ap), dot(ac, ap)
    bp, cp = p - b, p - c
    d3, d4 = dot(ab, bp), dot(ac, bp)
    d5, d6 = dot(ab, cp), dot(ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = va + vb + vc
        v = vb / denom
        w = vc / denom
        out = a + ab * v[:, None] + ac * w[:, None]  # inside the face
        t_ab = d1 / (d1 - d3)
        t_ac = d2 / (d2 - d6)
        t_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
    edge_bc = (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0)
    out = np.where(edge_bc[:, None], b + (c - b) * t_bc[:, None], out)
    edge_ac = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
    out = np.where(edge_ac[:, None], a + ac * t_ac[:, None], out)
    out = np.where(((d6 >= 0) & (d5 <= d6))[:, None], c, out)
    edge_ab = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
    out = np.where(edge_ab[:, None], a + ab * t_ab[:, None], out)
    out = np.where(((d3 >= 0) & (d4 <= d3))[:, None], b, out)
    out = np.where(((d1 <= 0) & (d2 <= 0))[:, None], a, out)
    bad = ~np.isfinite(out).all(axis=1)  # a degenerate triangle: its nearest corner
    if bad.any():
        corners = tris[bad]
        dist = np.linalg.norm(corners - p[bad][:, None], axis=2)
        out[bad] = corners[np.arange(len(corners)), dist.argmin(axis=1)]
    return out


@dataclass
class ObjectDeviation:
    """Deviation of the scan points assigned to one model object (metres)."""

    key: str  # object id (CityJSON id, IFC GlobalId) or part name
    type: str
    points: int
    mean: float  # signed: > 0 scan in front of / above the model
    mean_abs: float
    median_abs: float
    max_abs: float
    rms: float
    beyond: float  # share of points with |d| > tolerance, 0..1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeviationResult:
    distance: np.ndarray  # (N,) signed distance of every scan point to the model
    object_index: np.ndarray  # (N,) int64 index into ``keys`` of the point's object, -1
    keys: list[str]
    objects: list[ObjectDeviation]  # objects with at least one point, most points first
    tolerance: float
    max_distance: float
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def by_key(self) -> dict[str, ObjectDeviation]:
        return {o.key: o for o in self.objects}

    @property
    def assigned(self) -> int:
        return int((self.object_index >= 0).sum())

    def write_csv(self, path: str | os.PathLike) -> Path:
        """One row per object (:data:`CSV_COLUMNS`), UTF-8, atomic."""
        out = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=".deviation-", suffix=".csv", dir=out.parent)
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(CSV_COLUMNS)
                for o in self.objects:
                    w.writerow([o.key, o.type, o.points, f"{o.mean:.4f}", f"{o.mean_abs:.4f}",
                                f"{o.median_abs:.4f}", f"{o.max_abs:.4f}", f"{o.rms:.4f}",
                                f"{o.beyond:.4f}"])
            os.replace(tmp, out)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return out


def summarise(distance: np.ndarray, object_index: np.ndarray, keys: list[str],
              types: list[str], tolerance: float) -> list[ObjectDeviation]:
    """Per-object statistics of the assigned points (object_index >= 0), most points first."""
    d = np.asarray(distance, dtype=np.float64)
    idx = np.asarray(object_index, dtype=np.int64)
    ok = idx >= 0
    d, idx = d[ok], idx[ok]
    k = len(keys)
    count = np.bincount(idx, minlength=k)
    total = np.bincount(idx, weights=d, minlength=k)
    total_abs = np.bincount(idx, weights=np.abs(d), minlength=k)
    total_sq = np.bincount(idx, weights=d * d, minlength=k)
    beyond = np.bincount(idx, weights=(np.abs(d) > tolerance).astype(np.float64),
                         minlength=k)
    max_abs = np.zeros(k)
    np.maximum.at(max_abs, idx, np.abs(d))
    order = np.lexsort((np.abs(d), idx))  # by object, then |d|
    sorted_abs = np.abs(d)[order]
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    out = []
    for i in np.flatnonzero(count):
        c = float(count[i])
        median = float(np.median(sorted_abs[first[i]:first[i] + count[i]]))
        out.append(ObjectDeviation(keys[i], types[i], int(count[i]), float(total[i] / c),
                                   float(total_abs[i] / c), median, float(max_abs[i]),
                                   math.sqrt(float(total_sq[i] / c)), float(beyond[i] / c)))
    out.sort(key=lambda o: (-o.points, o.key))
    return out


def deviation(scan_xyz: Any, model: Mesh, *, tolerance: float = DEFAULT_TOLERANCE,
              max_distance: float = DEFAULT_MAX_DISTANCE, scan_transform: Any = None,
              model_transform: Any = None, progress: Progress | None = None,
              cancel: Cancel | None = None) -> DeviationResult:
    """Distance of every scan point (true coordinates, (N, 3)) to ``model``, both put in
    scene coordinates by their layer transforms, summarised per object."""
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ValueError(f"the tolerance must be a distance >= 0, got {tolerance}")
    if not (max_distance > 0):
        raise ValueError(f"the maximum distance must be > 0, got {max_distance}")
    start = time.perf_counter()
    xyz = np.asarray(scan_xyz, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"scan: expected an (N, 3) array of coordinates, got {xyz.shape}")
    xyz = _apply(scan_transform, xyz)
    objects = model_objects(model, model_transform)
    distance, triangle = closest_points(xyz, objects.vertices, objects.faces,
                                        progress=progress, cancel=cancel)
    object_index = objects.face_object[triangle] if len(triangle) else np.zeros(0, np.int64)
    object_index = np.where(np.abs(distance) <= max_distance, object_index, -1)
    summary = summarise(distance, object_index, objects.keys, objects.types, tolerance)
    result = DeviationResult(distance, object_index, objects.keys, summary, float(tolerance),
                             float(max_distance), time.perf_counter() - start)
    if len(xyz) and not result.assigned:
        result.warnings.append(f"no scan point is within {max_distance:g} of the model: are "
                               "the two co-registered (same CRS, aligned)?")
    return result


def attach(result: DeviationResult, scan: Any = None, model: Any = None) -> None:
    """Keep the result on the data: the scan's per-point ``model_distance`` attribute
    (float32; NaN for a point farther than the maximum distance, drawn grey, so the colour
    range is that of the points near the model) and, on a FeatureMesh, each measured
    object's ``deviation`` attribute (``{"points", "mean", "mean_abs", "median_abs",
    "max_abs", "rms", "beyond"}``; objects without points lose an earlier one), so
    colouring, filters and the properties use them."""
    if scan is not None:
        near = np.where(result.object_index >= 0, result.distance, np.nan)
        scan.attributes[DISTANCE_FIELD] = near.astype(np.float32)
    if isinstance(model, FeatureMesh):
        by_key = result.by_key()
        for f in model.features:
            o = by_key.get(f.id)
            if o is None:
                f.attributes.pop(ATTRIBUTE, None)
                continue
            f.attributes[ATTRIBUTE] = {
                "points": o.points, "mean": round(o.mean, 4), "mean_abs": round(o.mean_abs, 4),
                "median_abs": round(o.median_abs, 4), "max_abs": round(o.max_abs, 4),
                "rms": round(o.rms, 4), "beyond": round(o.beyond, 4)}


def layer_deviation(scan_layer: Any, model_layer: Any, *, tolerance: float = DEFAULT_TOLERANCE,
                    max_distance: float = DEFAULT_MAX_DISTANCE,
                    progress: Progress | None = None, cancel: Cancel | None = None
                    ) -> DeviationResult:
    """:func:`deviation` of two scene layers (anything with ``data`` and ``transform``):
    the scan layer's points against the model layer, in scene coordinates."""
    scan, model = scan_layer.data, model_layer.data
    if getattr(scan, "kind", "") != "pointcloud":
        raise ValueError(f"{getattr(scan_layer, 'name', 'scan')}: not a point cloud layer")
    if not isinstance(model, Mesh):
        raise ValueError(f"{getattr(model_layer, 'name', 'model')}: not a mesh, city model "
                         "or IFC layer")
    result = deviation(scan.xyz(), model, tolerance=tolerance, max_distance=max_distance,
                       scan_transform=getattr(scan_layer, "transform", None),
                       model_transform=getattr(model_layer, "transform", None),
                       progress=progress, cancel=cancel)
    lod = getattr(scan_layer, "lod", None)
    if lod is not None and getattr(lod, "cloud", None) is not scan:
        result.warnings.append("the scan layer is streamed: only its loaded points were "
                               "measured (run `realscene deviation` on the file for all)")
    return result


@dataclass
class DeviationFilesResult:
    result: DeviationResult
    csv_path: str
    laz_path: str | None
    scan_count: int
    warnings: list[str]


def deviation_files(scan_path: str | os.PathLike, model_path: str | os.PathLike,
                    csv_path: str | os.PathLike, *, laz_path: str | os.PathLike | None = None,
                    tolerance: float = DEFAULT_TOLERANCE,
                    max_distance: float = DEFAULT_MAX_DISTANCE,
                    progress: Progress | None = None, cancel: Cancel | None = None
                    ) -> DeviationFilesResult:
    """Read a scan and a model, write the per-object CSV and optionally the scan as LAS/LAZ
    with ``model_distance`` as an extra dimension (every dimension, VLR and CRS kept). A
    scan in another CRS than the model is transformed into the model's CRS."""
    from loaders import read
    from loaders.georef import transform_points

    from .change import read_epoch, write_with_fields

    if laz_path is not None and Path(laz_path).suffix.lower() not in (".las", ".laz"):
        raise ValueError(f"{laz_path}: the scan output must be a .las or .laz file")
    _step(progress, cancel, 0.0, "reading the scan")
    epoch = read_epoch(scan_path)
    _step(progress, cancel, 0.2, "reading the model")
    model = read(Path(model_path))
    if not isinstance(model, Mesh):
        raise LoadError(Path(model_path), f"not a mesh or model ({getattr(model, 'kind', '?')})",
                        "give a mesh (OBJ, PLY, glTF), city model (CityJSON) or IFC file")
    warnings: list[str] = []
    xyz = epoch.xyz
    if epoch.crs is not None and model.crs is not None:
        from loaders.crs import horizontal_only_match, same_crs

        if not (same_crs(epoch.crs, model.crs) or horizontal_only_match(epoch.crs, model.crs)):
            xyz = transform_points(xyz, epoch.crs, model.crs)
            warnings.append("the scan was transformed into the model's CRS")
    elif (epoch.crs is None) != (model.crs is None):
        warnings.append("only one of the two files has a CRS: taken as the same coordinates")

    def sub(f: float, m: str) -> None:
        _step(progress, cancel, 0.3 + 0.6 * f, m)

    result = deviation(xyz, model, tolerance=tolerance, max_distance=max_distance,
                       progress=sub, cancel=cancel)
    result.warnings[:0] = warnings
    result.write_csv(csv_path)
    if laz_path is not None:
        if epoch.las is None:
            raise ValueError(f"{scan_path}: only a LAS/LAZ scan can be written with the "
                             "distances")
        write_with_fields(epoch, laz_path, {DISTANCE_FIELD: result.distance.astype(np.float32)})
    _step(progress, cancel, 1.0, "done")
    return DeviationFilesResult(result, str(csv_path), str(laz_path) if laz_path else None,
                                len(xyz), result.warnings)


#: colour maps of the window's result: the scan by signed distance (diverging, centred on
#: zero: blue behind the model, red in front), the objects by their share beyond tolerance
SCAN_COLORMAP = "rdbu_r"
OBJECT_COLORMAP = "ylorrd"  # built in (viewer.colormaps): saved projects name only those
OBJECT_ATTRIBUTE = f"{ATTRIBUTE}.beyond"


def show_result(owner: Any, scan_layer: Any, model_layer: Any,
                result: DeviationResult) -> bool:
    """Keep ``result`` on the two layers and colour them: the scan by ``model_distance``
    (:data:`SCAN_COLORMAP`) when the result covers every point of its data, the model's
    objects by their share of points beyond the tolerance (:data:`OBJECT_COLORMAP`).
    ``owner``: a session (undoable colouring, ``update_layer``) or a scene. Returns True
    when the scan got the per-point distances."""
    scene = getattr(owner, "scene", owner)
    update = getattr(owner, "update_layer", None) or scene.update
    scan = scan_layer.data
    per_point = getattr(scan, "point_count", -1) == len(result.distance)
    attach(result, scan if per_point else None, model_layer.data)
    model_layer.data.metadata["deviation"] = {
        "tolerance": result.tolerance, "max_distance": result.max_distance,
        "scan": getattr(scan_layer, "name", ""), "assigned": result.assigned}
    if per_point:
        scene.emit("layer_changed", layer=scan_layer, field="data")
        update(scan_layer, color_mode="attribute", attribute=DISTANCE_FIELD,
               colormap=SCAN_COLORMAP, contrast=(2.0, 98.0))
    scene.emit("layer_changed", layer=model_layer, field="data")
    if isinstance(model_layer.data, FeatureMesh):
        update(model_layer, color_mode="attribute", attribute=OBJECT_ATTRIBUTE,
               colormap=OBJECT_COLORMAP)
    return per_point
