"""Registering survey epoch B onto epoch A: coarse by point pairs, fine by ICP.

- *Coarse*: three or more matching points (B's, then A's) fitted by
  :func:`loaders.georef.fit_similarity` (rigid unless scale is allowed), the same fit the
  window's Align panel uses.
- *Fine*: point-to-plane ICP (open3d,
  :func:`open3d.pipelines.registration.registration_icp`) in three stages of shrinking
  correspondence distance (4x, 2x, 1x ``max_distance``). Big clouds are voxel-downsampled
  (the voxel chosen from the point spacing so that about ``max_points`` remain); the
  correspondence distance defaults to three times the spacing of the points ICP uses.
  Coordinates are centred on A before ICP, so survey coordinates in the hundreds of
  kilometres keep their precision.

The result (:class:`Registration`) is the 4x4 matrix mapping B's coordinates onto A's,
the RMSE of the ICP correspondences (metres), the overlap (share of B's ICP points with a
correspondence in A within ``max_distance``) and the number of ICP iterations.

Files: :func:`register_files` reads LAS/LAZ/COPC with laspy (big files sampled in bounded
chunks, never whole) and other point-cloud formats through :func:`loaders.read`;
:func:`write_registered` writes B with the matrix applied to every point at full
resolution, keeping every dimension, VLR and the CRS (offsets moved when the moved points
would not fit the file's integer range).

``progress(fraction, message)`` is called between stages and after every ICP iteration;
it may raise (e.g. :class:`loaders.LoadCancelled`) to cancel: the exception propagates.
No Qt, no VTK.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loaders.georef import apply_matrix, fit_similarity
from loaders.safety import UnsafePath, open_regular
from loaders.types import LoadError

ProgressFn = Callable[[float, str], None]

#: points of each cloud ICP works on at most (more are voxel-downsampled / sampled)
MAX_ICP_POINTS = 400_000
#: ICP stages: multiples of the final correspondence distance
STAGES = (4.0, 2.0, 1.0)
#: iterations per stage at most
MAX_ITERATIONS = 40
#: a stage stops when fitness and RMSE change less than this between iterations
RELATIVE = 1e-7
#: points read per chunk from LAS/LAZ files
CHUNK = 1_000_000
#: the largest pairs file read (a CSV of point pairs is small)
MAX_PAIRS_BYTES = 1 << 20


@dataclass
class Registration:
    """The result of registering B onto A."""

    #: 4x4 float64: ``A ~= matrix @ B`` (B's coordinates into A's)
    matrix: np.ndarray
    #: RMS distance of the ICP correspondences after the last stage (m); nan without ICP
    rmse: float
    #: share of B's ICP points with a correspondence in A within ``max_distance`` (0..1)
    overlap: float
    #: ICP iterations over all stages
    iterations: int
    #: the final stage converged before its iteration limit
    converged: bool
    #: the final correspondence distance (m)
    max_distance: float
    #: voxel size used to downsample (0: none)
    voxel: float
    #: median point spacing of the points ICP used (m)
    spacing: float
    #: points of A and of B that ICP used
    points: tuple[int, int] = (0, 0)
    #: the coarse matrix from point pairs (None: none given)
    coarse: np.ndarray | None = None
    #: RMS of the point-pair fit (m), None without pairs
    pairs_rms: float | None = None
    #: things the user should know ("B overlaps A by only 12 %")
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able dict (the transform file written beside an export)."""
        out = {
            "matrix": np.asarray(self.matrix, dtype=float).tolist(),
            "convention": "A = matrix @ B (column vectors, homogeneous coordinates)",
            "rmse_m": None if math.isnan(self.rmse) else float(self.rmse),
            "overlap": float(self.overlap),
            "iterations": int(self.iterations),
            "converged": bool(self.converged),
            "max_distance_m": float(self.max_distance),
            "voxel_m": float(self.voxel),
            "spacing_m": float(self.spacing),
            "points_a": int(self.points[0]),
            "points_b": int(self.points[1]),
            "coarse_matrix": None if self.coarse is None else
            np.asarray(self.coarse, dtype=float).tolist(),
            "pairs_rms_m": self.pairs_rms,
            "warnings": list(self.warnings),
        }
        return out

    def summary(self) -> str:
        """One line: RMSE, overlap, iterations."""
        text = (f"RMSE {self.rmse:.4f} m, overlap {self.overlap * 100:.1f} %, "
                f"{self.iterations} ICP iterations")
        if self.pairs_rms is not None:
            text += f" (point pairs RMS {self.pairs_rms:.4f} m)"
        return text


def _report(progress: ProgressFn | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(float(min(max(fraction, 0.0), 1.0)), message)


def _xyz(value: Any, what: str) -> np.ndarray:
    p = np.asarray(value, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"{what} must be an (N, 3) array of points, got shape {p.shape}")
    keep = np.isfinite(p).all(axis=1)
    return p if keep.all() else p[keep]


def _translation(t: np.ndarray) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = t
    return m


# --------------------------------------------------------------------------------------
# coarse: point pairs
# --------------------------------------------------------------------------------------


def coarse_from_pairs(b_points: Any, a_points: Any, allow_scale: bool = False
                      ) -> tuple[np.ndarray, float]:
    """Matrix mapping B's points onto A's matching points (>= 3 pairs, rigid unless
    ``allow_scale``), and the RMS of the fit (m). ``ValueError`` for too few, collinear
    or mismatched pairs."""
    m, _res, rms = fit_similarity(b_points, a_points, allow_scale=allow_scale)
    return m, float(rms)


def read_pairs_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Point pairs from a CSV file: six numbers a row, ``bx, by, bz, ax, ay, az`` (a point
    of B, then the same point in A); a header row and ``#`` comments are skipped;
    comma, semicolon, tab or space separated. Raises :class:`LoadError`."""
    try:
        with open_regular(path, MAX_PAIRS_BYTES) as fh:
            text = fh.read().decode("utf-8-sig")
    except (OSError, UnsafePath, UnicodeDecodeError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise LoadError(path, f"cannot read the point pairs: {reason}",
                        "give a small text file of pairs, one per line: "
                        "bx,by,bz,ax,ay,az") from None
    rows: list[list[float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        dialect = "," if "," in line else ";" if ";" in line else None
        cells = next(csv.reader(io.StringIO(line), delimiter=dialect)) if dialect \
            else line.split()
        cells = [c.strip() for c in cells if c.strip()]
        try:
            values = [float(c) for c in cells]
        except ValueError:
            if not rows:  # a header
                continue
            raise LoadError(path, f"line {number} is not six numbers: {line[:80]!r}",
                            "write bx,by,bz,ax,ay,az on every line") from None
        if len(values) != 6 or not all(map(math.isfinite, values)):
            raise LoadError(path, f"line {number} has {len(values)} values, not six "
                            "finite numbers", "write bx,by,bz,ax,ay,az on every line")
        rows.append(values)
    if len(rows) < 3:
        raise LoadError(path, f"has {len(rows)} point pair(s); at least 3 are needed",
                        "add pairs of matching points: bx,by,bz,ax,ay,az")
    arr = np.asarray(rows, dtype=np.float64)
    return arr[:, :3], arr[:, 3:]


# --------------------------------------------------------------------------------------
# fine: ICP
# --------------------------------------------------------------------------------------


def point_spacing(xyz: Any, sample: int = 20_000, seed: int = 0) -> float:
    """Median distance from a point to its nearest neighbour (m), over a random sample
    of at most ``sample`` query points (the neighbours are searched among all)."""
    from scipy.spatial import cKDTree

    p = _xyz(xyz, "points")
    if len(p) < 2:
        return 0.0
    tree = cKDTree(p)
    rng = np.random.default_rng(seed)
    q = p if len(p) <= sample else p[rng.choice(len(p), sample, replace=False)]
    d, _ = tree.query(q, k=2)
    d = d[:, 1]
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 0.0


def _downsample(p: np.ndarray, voxel: float, max_points: int, seed: int) -> np.ndarray:
    """Voxel centroids (``voxel`` > 0), then a random sample when still too many."""
    import open3d as o3d

    if voxel > 0 and len(p):
        cloud = o3d.t.geometry.PointCloud(o3d.core.Tensor(p, dtype=o3d.core.float64))
        p = cloud.voxel_down_sample(float(voxel)).point.positions.numpy()
    if len(p) > max_points:
        rng = np.random.default_rng(seed)
        p = p[np.sort(rng.choice(len(p), max_points, replace=False))]
    return p


def _auto_voxel(p: np.ndarray, max_points: int) -> float:
    """A voxel leaving about ``max_points`` of a survey (a surface: count ~ 1/voxel^2)."""
    if len(p) <= max_points:
        return 0.0
    spacing = point_spacing(p)
    return spacing * math.sqrt(len(p) / max_points) if spacing > 0 else 0.0


def register_points(a_xyz: Any, b_xyz: Any, init: Any = None, *,
                    max_distance: float | None = None, voxel: float | None = None,
                    max_points: int = MAX_ICP_POINTS, max_iterations: int = MAX_ITERATIONS,
                    progress: ProgressFn | None = None) -> Registration:
    """Refine ``init`` (4x4 mapping B onto A; identity when None) by point-to-plane ICP.

    ``voxel``: downsampling voxel (m); None chooses one for clouds over ``max_points``,
    0 keeps the points (sampled to ``max_points``). ``max_distance``: final
    correspondence distance (m); None: three times the spacing of the points used.
    ``progress(fraction, message)`` may raise to cancel.
    """
    import open3d as o3d

    reg = o3d.pipelines.registration
    a = _xyz(a_xyz, "A's points")
    b = _xyz(b_xyz, "B's points")
    if len(a) < 10 or len(b) < 10:
        raise ValueError(f"too few points to register ({len(a)} in A, {len(b)} in B; "
                         "at least 10 each)")
    m0 = np.eye(4) if init is None else np.asarray(init, dtype=np.float64)
    if m0.shape != (4, 4) or not np.isfinite(m0).all():
        raise ValueError("the initial transform must be a finite 4x4 matrix")
    if voxel is not None and (not math.isfinite(voxel) or voxel < 0):
        raise ValueError(f"the voxel size must be a positive number of metres, got {voxel}")
    if max_distance is not None and (not math.isfinite(max_distance) or max_distance <= 0):
        raise ValueError("the maximum correspondence distance must be a positive number "
                         f"of metres, got {max_distance}")
    _report(progress, 0.0, "downsampling")
    # centre on A (rounded): large survey coordinates keep their precision
    origin = np.rint(a[0] + (a - a[0]).mean(axis=0))
    a_local = a - origin
    b_local = apply_matrix(_translation(-origin) @ m0, b)  # B moved by init, centred
    va = _auto_voxel(a_local, max_points) if voxel is None else float(voxel)
    vb = _auto_voxel(b_local, max_points) if voxel is None else float(voxel)
    used_voxel = max(va, vb)
    a_used = _downsample(a_local, used_voxel, max_points, 1)
    b_used = _downsample(b_local, used_voxel, max_points, 2)
    spacing = max(point_spacing(a_used), point_spacing(b_used))
    if max_distance is None:
        if spacing <= 0:
            raise ValueError("the points coincide: cannot derive a correspondence distance")
        max_distance = 3.0 * spacing
    _report(progress, 0.1, "normals")
    target = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(a_used))
    target.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(20))
    source = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(b_used))
    estimation = reg.TransformationEstimationPointToPlane()
    one_step = reg.ICPConvergenceCriteria(0.0, 0.0, 1)
    current = np.eye(4)
    iterations, converged = 0, False
    result = None
    n_stages = len(STAGES)
    for k, factor in enumerate(STAGES):
        base = 0.2 + 0.8 * k / n_stages
        distance = float(max_distance * factor)
        previous = reg.evaluate_registration(source, target, distance, current)
        converged = False
        # one open3d iteration per call: progress and cancel between iterations, the
        # iterations counted; the stop rule is open3d's own (relative fitness and RMSE)
        for i in range(int(max_iterations)):
            _report(progress, base + 0.8 / n_stages * i / max_iterations,
                    f"ICP {k + 1}/{n_stages}, iteration {i + 1}")
            result = reg.registration_icp(source, target, distance, current, estimation,
                                          one_step)
            current = np.asarray(result.transformation, dtype=np.float64)
            iterations += 1
            if abs(result.fitness - previous.fitness) < RELATIVE and \
                    abs(result.inlier_rmse - previous.inlier_rmse) < RELATIVE:
                converged = True
                break
            previous = result
    result = reg.evaluate_registration(source, target, float(max_distance), current)
    # back to the true coordinates: M = T(o) @ M_local @ T(-o) @ init
    matrix = _translation(origin) @ current @ _translation(-origin) @ m0
    out = Registration(matrix=matrix, rmse=float(result.inlier_rmse),
                       overlap=float(result.fitness), iterations=iterations,
                       converged=converged, max_distance=float(max_distance),
                       voxel=float(used_voxel), spacing=float(spacing),
                       points=(len(a_used), len(b_used)))
    if out.overlap < 0.3:
        out.warnings.append(f"only {out.overlap * 100:.0f} % of B found a match in A within "
                            f"{max_distance:.3g} m: check the coarse alignment (point "
                            "pairs) or raise the maximum distance")
    _report(progress, 1.0, "done")
    return out


def register(a_xyz: Any, b_xyz: Any, pairs: tuple[Any, Any] | None = None, *,
             allow_scale: bool = False, init: Any = None, icp: bool = True,
             **options: Any) -> Registration:
    """Coarse (``pairs=(b_points, a_points)``, else ``init``) then fine (ICP) registration
    of B onto A, on in-memory (N, 3) arrays. ``options`` go to :func:`register_points`."""
    coarse, pairs_rms = None, None
    if pairs is not None:
        coarse, pairs_rms = coarse_from_pairs(pairs[0], pairs[1], allow_scale)
        init = coarse
    if not icp:
        m = np.eye(4) if init is None else np.asarray(init, dtype=np.float64)
        return Registration(matrix=m, rmse=float("nan"), overlap=float("nan"), iterations=0,
                            converged=True, max_distance=0.0, voxel=0.0, spacing=0.0,
                            coarse=coarse, pairs_rms=pairs_rms)
    out = register_points(a_xyz, b_xyz, init, **options)
    out.coarse, out.pairs_rms = coarse, pairs_rms
    return out


# --------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------


def _is_las(path: str | os.PathLike) -> bool:
    try:
        with open_regular(path) as fh:
            return fh.read(4) == b"LASF"
    except (OSError, UnsafePath):
        return False


def _open_error(path: Any, exc: BaseException) -> LoadError:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    return LoadError(path, f"cannot read the file: {reason}",
                     "check the path and that it is a LAS/LAZ point cloud")


def sample_points(path: str | os.PathLike, max_points: int = 2_000_000,
                  progress: ProgressFn | None = None) -> tuple[np.ndarray, Any, int]:
    """``(xyz, crs, total)``: at most about ``max_points`` evenly strided points of a
    point-cloud file (LAS/LAZ/COPC read in chunks by laspy, others by
    :func:`loaders.read`), its CRS (pyproj or None) and its number of points."""
    import laspy

    if not _is_las(path):
        from loaders import PointCloud, read

        data = read(path)
        if not isinstance(data, PointCloud):
            raise LoadError(path, f"is a {data.kind}, not a point cloud",
                            "register point clouds (LAS/LAZ, E57, PLY, XYZ)")
        xyz = data.xyz()
        step = max(1, math.ceil(len(xyz) / max_points))
        return xyz[::step], data.crs, len(xyz)
    try:
        fh = open_regular(path)
    except (OSError, UnsafePath) as exc:
        raise _open_error(path, exc) from None
    try:
        with laspy.open(fh) as reader:
            total = int(reader.header.point_count)
            try:
                crs = reader.header.parse_crs()
            except Exception:  # noqa: BLE001 - a broken CRS record: registration goes on
                crs = None
            step = max(1, math.ceil(total / max_points))
            parts, done = [], 0
            for chunk in reader.chunk_iterator(CHUNK):
                first = (-done) % step
                sel = slice(first, None, step)
                parts.append(np.column_stack([np.asarray(chunk.x)[sel],
                                              np.asarray(chunk.y)[sel],
                                              np.asarray(chunk.z)[sel]]))
                done += len(chunk)
                _report(progress, done / max(total, 1), "reading")
    except LoadError:
        raise
    except (OSError, ValueError, laspy.errors.LaspyException) as exc:
        raise LoadError(path, f"cannot read the points: {exc}",
                        "the file may be truncated or not a LAS/LAZ file") from None
    xyz = np.concatenate(parts) if parts else np.zeros((0, 3))
    return xyz, crs, total


def register_files(path_a: str | os.PathLike, path_b: str | os.PathLike,
                   pairs: tuple[Any, Any] | None = None, *, allow_scale: bool = False,
                   max_points: int = 2_000_000, progress: ProgressFn | None = None,
                   **options: Any) -> Registration:
    """Register the file ``path_b`` onto ``path_a`` (see :func:`register`); both are
    sampled to about ``max_points`` points for ICP. Both files must be in one CRS."""
    def part(lo: float, hi: float) -> ProgressFn:
        return lambda f, msg: _report(progress, lo + (hi - lo) * f, msg)

    a, crs_a, _ = sample_points(path_a, max_points, part(0.0, 0.15))
    b, crs_b, _ = sample_points(path_b, max_points, part(0.15, 0.3))
    if crs_a is not None and crs_b is not None and not crs_a.equals(crs_b):
        raise LoadError(path_b, f"is in {crs_b.name}, not in A's {crs_a.name}",
                        "reproject one epoch into the other's CRS first")
    return register(a, b, pairs, allow_scale=allow_scale, progress=part(0.3, 1.0),
                    **options)


def _without_copc(vlrs: Any) -> list[Any]:
    return [v for v in (vlrs or []) if getattr(v, "user_id", "") != "copc"]


def write_registered(path_b: str | os.PathLike, out: str | os.PathLike, matrix: Any,
                     progress: ProgressFn | None = None) -> int:
    """Write B with ``matrix`` applied to every point (full resolution) to ``out``
    (LAS, or LAZ when the name ends in .laz), keeping the point format, every dimension,
    the VLRs/EVLRs (but a COPC index, which no longer fits) and the CRS; the offsets are
    moved to the new centre when the moved points would not fit the file's integer
    range. Written to a temporary name and renamed at the end. Returns the point count."""
    import laspy
    from laspy.vlrs.vlrlist import VLRList

    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (4, 4) or not np.isfinite(m).all():
        raise ValueError("the transform must be a finite 4x4 matrix")
    out = Path(out)
    if out.exists() and os.path.samefile(out, path_b):
        raise LoadError(out, "is the input file", "write the registered epoch to a new file")
    try:
        fh = open_regular(path_b)
    except (OSError, UnsafePath) as exc:
        raise _open_error(path_b, exc) from None
    tmp = out.with_name(f".{out.name}.part")
    written = 0
    try:
        with laspy.open(fh) as reader:
            src = reader.header
            total = int(src.point_count)
            header = copy.deepcopy(src)
            header.vlrs = VLRList(_without_copc(header.vlrs))
            if getattr(header, "evlrs", None) is not None:
                header.evlrs = _without_copc(header.evlrs)
            scales = np.asarray(src.scales, dtype=np.float64)
            offsets = np.asarray(src.offsets, dtype=np.float64)
            corners = np.array([[x, y, z] for x in (src.mins[0], src.maxs[0])
                                for y in (src.mins[1], src.maxs[1])
                                for z in (src.mins[2], src.maxs[2])])
            moved = apply_matrix(m, corners)
            lo, hi = moved.min(axis=0), moved.max(axis=0)
            limit = 2 ** 31 - 2
            if (np.abs((lo - offsets) / scales) > limit).any() or \
                    (np.abs((hi - offsets) / scales) > limit).any():
                offsets = np.round((lo + hi) / 2.0 / scales) * scales
            header.offsets = offsets
            header.point_count = 0
            do_compress = out.suffix.lower() == ".laz"
            with laspy.open(tmp, mode="w", header=header, do_compress=do_compress) as writer:
                for chunk in reader.chunk_iterator(CHUNK):
                    xyz = np.column_stack([np.asarray(chunk.x), np.asarray(chunk.y),
                                           np.asarray(chunk.z)])
                    new = apply_matrix(m, xyz)
                    ints = np.round((new - offsets) / scales)
                    if (np.abs(ints) > limit).any():
                        raise LoadError(path_b, "moved points do not fit the file's "
                                        "coordinate range", "check the transform")
                    record = laspy.ScaleAwarePointRecord(chunk.array.copy(),
                                                         chunk.point_format, scales, offsets)
                    record.X = ints[:, 0].astype(np.int32)
                    record.Y = ints[:, 1].astype(np.int32)
                    record.Z = ints[:, 2].astype(np.int32)
                    writer.write_points(record)
                    written += len(chunk)
                    _report(progress, written / max(total, 1), "writing")
        os.replace(tmp, out)
    except LoadError:
        tmp.unlink(missing_ok=True)
        raise
    except (OSError, ValueError, laspy.errors.LaspyException) as exc:
        tmp.unlink(missing_ok=True)
        raise LoadError(path_b, f"cannot write the registered copy to {out}: {exc}",
                        "check the output folder and the input file") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return written


def transform_path(out: str | os.PathLike) -> Path:
    """Where the transform of an export is written: ``OUT.transform.json`` beside it."""
    out = Path(out)
    name = out.name
    for suffix in (".copc.laz", ".laz", ".las"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return out.with_name(name + ".transform.json")


def write_transform_json(path: str | os.PathLike, result: Registration,
                         a: str | None = None, b: str | None = None) -> Path:
    """Write the registration (matrix, RMSE, overlap...) as JSON."""
    doc = {"reference": a, "moved": b, **result.to_json()}
    path = Path(path)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path
