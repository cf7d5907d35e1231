"""Significant change → condition: clusters of changed points proposed as annotations.

    from heritage.monitoring.clusters import clusters_from_file, propose
    clusters = clusters_from_file("change.laz")              # B written by compare_files
    proposals = propose(clusters, date_a="2019-05-02", date_b="2024-05-07", lang="zh")

The points whose change is significant (M3C2: ``m3c2_significant``, |d| > LoD95; C2C:
``|c2c_distance| > threshold``) are clustered by DBSCAN (scikit-learn, k-d tree, all
cores) with ``eps`` a few times the point spacing (the median nearest-neighbour distance
of the significant points), so one patch of change is one cluster however dense the scan.
Clusters of fewer than ``min_points`` points or smaller than ``min_area`` m² are dropped.

For each cluster: centroid, footprint (convex hull in XY, shapely), its area (m²), a
volume estimate (the footprint's area times the mean change of the occupied cells of a
grid of about four points a cell: positive = material added, negative = lost), the
mean and the largest change (signed), the point count and the two epoch dates.
:func:`propose` turns each into a polygon :class:`heritage.model.Annotation` with a
category of the heritage vocabulary by the sign of the change (``material_loss`` for a
loss, ``deformation`` for a rise), a title and a description with the numbers in the
project's language. A proposal is not an annotation until the team accepts it
(:meth:`viewer.session.ProjectSession.accept_proposal`). No Qt, no VTK.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heritage.model import Annotation
from loaders.types import LoadError

#: tag every proposal carries (kept when accepted: the record says where it came from)
PROPOSAL_TAG = "change-detection"
DEFAULT_MIN_POINTS = 30
DEFAULT_MIN_AREA = 0.25  # m²
EPS_FACTOR = 3.0  # DBSCAN eps = EPS_FACTOR x point spacing


@dataclass
class ChangeCluster:
    """One cluster of significant change (coordinates in the file's CRS)."""

    count: int
    centroid: list[float]
    footprint: list[list[float]]  # convex hull in XY, [x, y, z] vertices (z of the point)
    area: float  # m², of the footprint
    volume: float  # m³, signed (sum of change x cell area)
    mean: float  # m, signed
    max: float  # m, the change of largest magnitude (signed)
    date_a: str | None = None
    date_b: str | None = None
    field: str = ""  # the change dimension it was computed from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def point_spacing(xyz: np.ndarray, sample: int = 20000) -> float:
    """Median distance of a point to its nearest neighbour (a sample of at most
    ``sample`` points queried against all)."""
    from scipy.spatial import cKDTree

    xyz = np.asarray(xyz, dtype=np.float64)
    if len(xyz) < 2:
        return 0.0
    step = max(1, len(xyz) // sample)
    d, _ = cKDTree(xyz).query(xyz[::step], k=2, workers=-1)
    d = d[:, 1]
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 0.0


def _grid_volume(xy: np.ndarray, change: np.ndarray, cell: float, area: float) -> float:
    """The footprint's area times the mean of the grid cells' mean changes: each occupied
    cell counts once however many points it holds (a dense scan strip does not weigh
    more), and cells with no point inside the footprint take the mean of the others."""
    ij = np.floor(xy / cell).astype(np.int64)
    _, inverse = np.unique(ij, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    sums = np.bincount(inverse, weights=change)
    counts = np.bincount(inverse)
    return float((sums / counts).mean() * area)


def find_clusters(xyz: Any, change: Any, significant: Any = None, *,
                  threshold: float | None = None, eps: float | None = None,
                  min_points: int = DEFAULT_MIN_POINTS, min_area: float = DEFAULT_MIN_AREA,
                  date_a: str | None = None, date_b: str | None = None,
                  field: str = "") -> list[ChangeCluster]:
    """Clusters of significant change, largest |volume| first.

    ``significant``: a boolean mask (M3C2); or ``threshold``: |change| > threshold (C2C).
    One of the two is needed. NaN changes are never significant. ``eps`` (m): DBSCAN's
    neighbourhood, by default :data:`EPS_FACTOR` x the spacing of the significant points.
    """
    from scipy.spatial import cKDTree
    from shapely.geometry import MultiPoint
    from sklearn.cluster import DBSCAN

    xyz = np.asarray(xyz, dtype=np.float64)
    d = np.asarray(change, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(d) != len(xyz):
        raise ValueError("expected (N, 3) coordinates and N change values")
    if significant is not None:
        sig = np.asarray(significant).astype(bool)
        if len(sig) != len(d):
            raise ValueError("the significance mask has another length than the points")
    elif threshold is not None:
        if not threshold > 0:
            raise ValueError(f"the threshold must be positive, got {threshold}")
        with np.errstate(invalid="ignore"):
            sig = np.abs(d) > threshold
    else:
        raise ValueError("give a significance mask (M3C2) or a threshold (C2C)")
    sig &= np.isfinite(d)
    idx = np.flatnonzero(sig)
    if len(idx) < max(min_points, 3):
        return []
    pts, vals = xyz[idx], d[idx]
    spacing = point_spacing(pts)
    if eps is None:
        eps = EPS_FACTOR * spacing if spacing > 0 else 1.0
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    origin = pts.min(axis=0)
    labels = DBSCAN(eps=eps, min_samples=4, algorithm="kd_tree",
                    n_jobs=-1).fit_predict(pts - origin)
    cell = max(2.0 * spacing, 1e-3)  # about four points a cell
    out: list[ChangeCluster] = []
    for label in np.unique(labels):
        if label < 0:
            continue
        member = labels == label
        if member.sum() < min_points:
            continue
        cp, cv = pts[member], vals[member]
        hull = MultiPoint([tuple(p) for p in cp[:, :2]]).convex_hull
        area = float(hull.area)
        if area < min_area or hull.geom_type != "Polygon":
            continue
        # the hull's vertices are points of the cluster: their z is the point's
        ring = np.asarray(hull.exterior.coords)[:-1]
        _, near = cKDTree(cp[:, :2]).query(ring)
        footprint = [[float(x), float(y), float(cp[i, 2])]
                     for (x, y), i in zip(ring, near, strict=True)]
        biggest = int(np.argmax(np.abs(cv)))
        out.append(ChangeCluster(
            count=int(member.sum()), centroid=[float(c) for c in cp.mean(axis=0)],
            footprint=footprint, area=area, volume=_grid_volume(cp[:, :2], cv, cell, area),
            mean=float(cv.mean()), max=float(cv[biggest]), date_a=date_a, date_b=date_b,
            field=field))
    out.sort(key=lambda c: -abs(c.volume))
    return out


def clusters_from_file(path: str | os.PathLike, *, threshold: float | None = None,
                       date_a: str | None = None, date_b: str | None = None,
                       **options: Any) -> list[ChangeCluster]:
    """Clusters of a LAS/LAZ written by :func:`heritage.monitoring.change.compare_files`:
    ``m3c2_significant`` when present (M3C2), else ``|c2c_distance| > threshold`` (C2C:
    ``threshold`` needed). ``date_b`` defaults to the file's creation date. LoadError for
    a file without a change dimension."""
    from .change import read_epoch

    epoch = read_epoch(path)
    las = epoch.las
    p = Path(path)
    if las is None:
        raise LoadError(p, "not a LAS/LAZ file with change dimensions",
                        "run `realscene compare A B -o OUT.laz` first")
    names = set(las.point_format.dimension_names)
    if "m3c2_distance" in names and "m3c2_significant" in names and threshold is None:
        field, sig = "m3c2_distance", np.asarray(las["m3c2_significant"]).astype(bool)
    elif "m3c2_distance" in names:
        field, sig = "m3c2_distance", None
    elif "c2c_distance" in names:
        field, sig = "c2c_distance", None
        if threshold is None:
            raise LoadError(p, "C2C distances carry no significance",
                            "give a threshold in metres (e.g. --threshold 0.05)")
    else:
        raise LoadError(p, "the file has no change dimension (m3c2_distance or "
                        "c2c_distance)", "run `realscene compare A B -o OUT.laz` first")
    return find_clusters(epoch.xyz, np.asarray(las[field], dtype=np.float64), sig,
                         threshold=threshold, date_a=date_a, date_b=date_b or epoch.date,
                         field=field, **options)


_WORDS = {
    "en": {"loss": "Loss", "rise": "Rise", "title": "{what} {mean:+.2f} m ({area:.1f} m²)",
           "text": ("Change detected between {a} and {b} ({method}): {count} points over "
                    "{area:.2f} m², mean change {mean:+.3f} m, largest {max:+.3f} m, "
                    "volume estimate {volume:+.3f} m³."),
           "unknown": "an unknown date"},
    "zh": {"loss": "缺失", "rise": "隆起", "title": "{what} {mean:+.2f} 米（{area:.1f} 平方米）",
           "text": ("{a}至{b}之间检测到变化（{method}）：{count} 个点，面积 {area:.2f} 平方米，"
                    "平均变化 {mean:+.3f} 米，最大变化 {max:+.3f} 米，体积估算 {volume:+.3f} "
                    "立方米。"),
           "unknown": "未知日期"},
}


def category_for(cluster: ChangeCluster) -> str:
    """The vocabulary key for a cluster: material lost (negative change) or a rise /
    bulge (positive)."""
    return "material_loss" if cluster.mean < 0 else "deformation"


def propose(clusters: list[ChangeCluster], *, lang: str = "en",
            author: str = "") -> list[Annotation]:
    """One proposed polygon annotation per cluster (footprint, category by the sign,
    title and description with the numbers in ``lang``, observed = epoch B's date)."""
    words = _WORDS.get(lang, _WORDS["en"])
    out = []
    for c in clusters:
        method = {"m3c2_distance": "M3C2", "c2c_distance": "C2C"}.get(c.field, c.field or "?")
        numbers = {"count": f"{c.count:,}", "area": c.area, "mean": c.mean, "max": c.max,
                   "volume": c.volume, "method": method,
                   "a": c.date_a or words["unknown"], "b": c.date_b or words["unknown"]}
        what = words["loss"] if c.mean < 0 else words["rise"]
        observed = c.date_b[:10] if c.date_b else None
        out.append(Annotation(
            kind="polygon", points=[list(p) for p in c.footprint],
            title=words["title"].format(what=what, **{k: numbers[k] for k in ("mean", "area")}),
            description=words["text"].format(**numbers), category=category_for(c),
            observed=observed, author=author, tags=[PROPOSAL_TAG]))
    return out
