"""Measurements in double precision, in the units of the project's CRS (metres for
layers given units, see :mod:`viewer.units`; "units" when nothing says).

All functions take true coordinates (float64). Horizontal means the XY plane of a
projected CRS; vertical is Z.
"""

from __future__ import annotations

import numpy as np

UNITS = {
    "distance": "length", "horizontal_distance": "length", "vertical_distance": "length",
    "height_difference": "length", "polyline_length": "length", "area": "area",
    "projected_area": "area", "angle": "degrees",
}


def minimum_points(kind: str) -> int:
    return {"angle": 3, "area": 3, "projected_area": 3}.get(kind, 2)


def _arr(points) -> np.ndarray:
    a = np.asarray(points, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError("points must be a list of (x, y, z)")
    return a


def distance(a, b) -> float:
    return float(np.linalg.norm(np.subtract(b, a, dtype=np.float64)))


def horizontal_distance(a, b) -> float:
    d = np.subtract(b, a, dtype=np.float64)
    return float(np.hypot(d[0], d[1]))


def vertical_distance(a, b) -> float:
    return float(abs(float(b[2]) - float(a[2])))


def height_difference(a, b) -> float:
    """Signed: positive when the second point is higher."""
    return float(b[2]) - float(a[2])


def polyline_length(points) -> float:
    p = _arr(points)
    return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())


def polygon_area_3d(points) -> float:
    """Area of a (nearly) planar polygon in its own plane (vector area, Newell)."""
    p = _arr(points)
    p = p - p.mean(axis=0)  # precision: work relative to the centroid
    cross = np.cross(p, np.roll(p, -1, axis=0)).sum(axis=0)
    return float(np.linalg.norm(cross) / 2.0)


def polygon_area_projected(points) -> float:
    """Area of the polygon's projection on the horizontal (XY) plane (shoelace)."""
    p = _arr(points)[:, :2]
    p = p - p.mean(axis=0)
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def angle(a, vertex, b) -> float:
    """Angle at ``vertex`` between the rays to ``a`` and ``b``, in degrees."""
    u = np.subtract(a, vertex, dtype=np.float64)
    v = np.subtract(b, vertex, dtype=np.float64)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        raise ValueError("an angle needs three distinct points")
    # atan2 of |u x v| and u.v is accurate for small and near-180 degree angles
    return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(u, v)), np.dot(u, v))))


def measure(kind: str, points) -> float:
    p = _arr(points)
    if len(p) < minimum_points(kind):
        raise ValueError(f"{kind} needs at least {minimum_points(kind)} points")
    if kind == "distance":
        return distance(p[0], p[-1]) if len(p) == 2 else polyline_length(p)
    if kind == "horizontal_distance":
        return horizontal_distance(p[0], p[1])
    if kind == "vertical_distance":
        return vertical_distance(p[0], p[1])
    if kind == "height_difference":
        return height_difference(p[0], p[1])
    if kind == "polyline_length":
        return polyline_length(p)
    if kind == "area":
        return polygon_area_3d(p)
    if kind == "projected_area":
        return polygon_area_projected(p)
    if kind == "angle":
        return angle(p[0], p[1], p[2])
    raise ValueError(f"unknown measurement kind {kind!r}")


def format_value(kind: str, value: float, unit: str = "m") -> str:
    """Human-readable value with units, e.g. '12.345 m', '3.20 m²', '87.5°'."""
    what = UNITS.get(kind, "length")
    if what == "degrees":
        return f"{value:.2f}°"
    if what == "area":
        return f"{value:.3f} {unit}²"
    return f"{value:.3f} {unit}"


#: what a length is shown in when nothing says its unit (a mesh without CRS or units)
NO_UNIT = "units"


def project_unit(project) -> str | None:
    """The length unit of a project's measurements: its CRS's ("m", "ft"...), "m" when a
    layer without CRS was given units (scaled into metres), None when nothing says (a
    heritage mesh without units: shown as "units", never as metres)."""
    from loaders.crs import crs_units

    unit = crs_units(project.crs) if project.crs else None
    if unit:
        return unit
    if any((r.display or {}).get("units") for r in project.layers):
        return "m"
    return None
