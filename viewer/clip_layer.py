"""The scene's clip and the layers' files: regions made from what the view shows, and the
full-resolution export of a point layer's file clipped by a region drawn in the scene.

The clip drawn in a view (``Scene.set_clip``) is in the scene's true coordinates: the
scene CRS, each layer moved by its ``transform`` (alignment) and scaled into metres by its
``units``. A layer's file is in its own coordinates, so the export takes the region back
into them (:func:`region_in_file`) before :func:`heritage.monitoring.clip.clip_file`
reads the file at full resolution (never the drawn subset):

- the layer's transform and units are inverted exactly for a turn about Z, a shift and a
  uniform scale (every region), and for any invertible transform for a slab; a box or a
  polygon of a layer tilted by its alignment is refused (a tilted box is no Box);
- a layer drawn in another CRS than its file's (reprojected on reading) has the region's
  outline transformed with pyproj (a box becomes a polygon, edges densified); heights are
  kept. A slab cannot be reprojected as a plane and is refused.

Qt-free: the window (viewer/qt/clip_panel.py), ``realscene render --clip-box`` and
:class:`viewer.api.Site` use it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from heritage.monitoring.clip import Box, ClipResult, Polygon, Region, Slab, clip_file
from loaders import PointCloud

#: vertices added along each edge of an outline reprojected into a file's CRS
DENSIFY = 16


def box_from_bounds(lo: Any, hi: Any) -> Box:
    """An axis-aligned :class:`Box` from the corners ``lo`` / ``hi`` (e.g. the scene's
    or a layer's bounds), widened to whole millimetres plus one on every side so that it
    holds every point also when shown with three decimals."""
    lo = np.floor(np.asarray(lo, np.float64) * 1000.0) / 1000.0 - 1e-3
    hi = np.ceil(np.asarray(hi, np.float64) * 1000.0) / 1000.0 + 1e-3
    return Box(tuple(lo), tuple(hi))


def vertical_slab(a: Any, b: Any, thickness: float) -> Slab:
    """The slab of ``thickness`` around the vertical plane through the points ``a`` and
    ``b`` (a section along the line a-b seen from its side). ValueError when a and b
    lie on one vertical."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b[:2] - a[:2]
    if float(np.hypot(*d)) < 1e-9:
        raise ValueError("the two points of a section lie on one vertical: pick two "
                         "points apart in plan")
    return Slab(tuple(a), (float(-d[1]), float(d[0]), 0.0), float(thickness))


# -- scene -> file ----------------------------------------------------------------------
def layer_matrix(layer: Any) -> np.ndarray:
    """The 4x4 matrix taking the layer's file coordinates (after any reprojection) to
    the scene's: its transform times its units' scale."""
    from .units import UNIT_FACTORS

    m = np.asarray(getattr(layer, "transform", None) if getattr(layer, "transform", None)
                   is not None else np.eye(4), np.float64)
    factor = UNIT_FACTORS.get(getattr(layer, "units", None) or "", 1.0)
    return m @ np.diag([factor, factor, factor, 1.0])


def _affine(region: Region, m: np.ndarray) -> Region:
    """``region`` moved by the 4x4 affine ``m`` (exact; ValueError when impossible)."""
    if np.allclose(m, np.eye(4), rtol=0, atol=1e-12):
        return region
    lin, t = m[:3, :3], m[:3, 3]
    if isinstance(region, Slab):
        inv_t = np.linalg.inv(lin).T
        n = inv_t @ np.asarray(region.normal)
        length = float(np.linalg.norm(n))
        return Slab(tuple(lin @ np.asarray(region.point) + t), tuple(n / length),
                    region.thickness / length)
    # a turn about Z with a uniform scale: lin = s * Rz
    s = float(lin[2, 2])
    rz = lin / s if s > 0 else None
    if rz is None or not np.allclose(rz[:2, 2], 0, atol=1e-9) \
            or not np.allclose(rz[2, :2], 0, atol=1e-9) \
            or not np.allclose(rz[:2, :2] @ rz[:2, :2].T, np.eye(2), atol=1e-9) \
            or np.linalg.det(rz[:2, :2]) < 0:
        raise ValueError("the layer's alignment tilts, mirrors or stretches it: a box or "
                         "a polygon cannot be taken into its file's coordinates; clip by a "
                         "slab, or align the file itself first")
    theta = math.degrees(math.atan2(rz[1, 0], rz[0, 0]))

    def xy(points: Any) -> np.ndarray:
        p = np.asarray(points, np.float64)
        return p @ lin[:2, :2].T + t[:2]

    def z(value: float | None) -> float | None:
        return None if value is None else s * value + t[2]

    if isinstance(region, Box):
        lo, hi = np.asarray(region.min), np.asarray(region.max)
        c = xy(((lo[:2] + hi[:2]) / 2)[None])[0]
        half = (hi[:2] - lo[:2]) / 2 * s
        return Box((c[0] - half[0], c[1] - half[1], z(lo[2])),
                   (c[0] + half[0], c[1] + half[1], z(hi[2])), region.angle + theta)
    if isinstance(region, Polygon):
        return Polygon(tuple(map(tuple, xy(region.vertices))),
                       tuple(tuple(map(tuple, xy(h))) for h in region.holes),
                       z(region.zmin), z(region.zmax))
    raise TypeError(f"cannot move a {type(region).__name__}")


def _densify(ring: np.ndarray, steps: int = DENSIFY) -> np.ndarray:
    out = []
    for a, b in zip(ring, np.roll(ring, -1, axis=0), strict=True):
        f = np.arange(steps)[:, None] / steps
        out.append(a + (b - a) * f)
    return np.concatenate(out)


def _reproject(region: Region, scene_crs: Any, file_crs: Any) -> Region:
    from pyproj import CRS, Transformer

    if isinstance(region, Slab):
        raise ValueError("the layer is drawn in another coordinate system than its file's: "
                         "a slab cannot be taken into the file's; clip by a box or a polygon")
    tr = Transformer.from_crs(CRS.from_user_input(scene_crs), CRS.from_user_input(file_crs),
                              always_xy=True)

    def ring(points: Any) -> tuple:
        p = _densify(np.asarray(points, np.float64))
        x, y = tr.transform(p[:, 0], p[:, 1])
        x, y = np.asarray(x), np.asarray(y)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("the clip region lies outside the area where the file's "
                             "coordinate system is defined")
        return tuple(zip(x.tolist(), y.tolist(), strict=True))

    if isinstance(region, Box):
        return Polygon(ring(region.corners_xy()), (), region.min[2], region.max[2])
    if isinstance(region, Polygon):
        return Polygon(ring(region.vertices), tuple(ring(h) for h in region.holes),
                       region.zmin, region.zmax)
    raise TypeError(f"cannot reproject a {type(region).__name__}")


def region_in_file(layer: Any, region: Region, scene_crs: Any = None) -> Region:
    """``region`` (scene coordinates) in the coordinates of ``layer``'s file: the
    layer's transform and units inverted, then (a layer reprojected on reading) its
    outline transformed from ``scene_crs`` into the file's CRS. ValueError with the
    reason when it cannot be done."""
    if not isinstance(region, Region):
        raise TypeError("the clip region must be a Box, Polygon or Slab")
    m = layer_matrix(layer)
    try:
        inv = np.linalg.inv(m)
    except np.linalg.LinAlgError:
        raise ValueError("the layer's transform cannot be inverted") from None
    out = _affine(region, inv)
    source = getattr(layer.data, "metadata", {}).get("reprojected_from")
    if source:
        if scene_crs is None:
            scene_crs = layer.data.crs
        if scene_crs is None:
            raise ValueError("the layer was reprojected but the scene has no CRS")
        out = _reproject(out, scene_crs, source)
    return out


def clip_source(layer: Any) -> Path:
    """The LAS/LAZ/COPC file of a point layer that can be clipped (ValueError else)."""
    from loaders.copc import is_url

    name = getattr(layer, "name", "layer")
    if not isinstance(getattr(layer, "data", None), PointCloud):
        raise ValueError(f"{name} is not a point cloud: select a point layer")
    path = getattr(layer, "path", None)
    if not path:
        raise ValueError(f"{name} was not read from a file: nothing to clip at full "
                         "resolution")
    if is_url(str(path)):
        raise ValueError(f"{name} streams over the network: save it as a file first")
    p = Path(str(path))
    if p.suffix.lower() not in (".las", ".laz"):
        raise ValueError(f"{name}: only LAS, LAZ and COPC files can be clipped "
                         f"(this is {p.suffix or 'a file without extension'})")
    return p


def export_layer_clip(layer: Any, region: Region, out: str | os.PathLike, *,
                      inside: bool = True, scene_crs: Any = None, progress: Any = None,
                      cancel: Any = None) -> ClipResult:
    """Write every point of ``layer``'s LAS/LAZ/COPC file inside ``region`` (scene
    coordinates; outside it with ``inside=False``) to ``out`` (.las/.laz/.copc.laz),
    the region taken into the file's coordinates first (:func:`region_in_file`).
    ValueError when the layer or region cannot be clipped; LoadError for the file;
    LoadCancelled when ``progress`` raises it or ``cancel()`` says so (nothing written)."""
    src = clip_source(layer)
    file_region = region_in_file(layer, region, scene_crs)
    return clip_file(src, file_region, out, outside=not inside, progress=progress,
                     cancel=cancel)


__all__ = ["box_from_bounds", "clip_source", "export_layer_clip", "layer_matrix",
           "region_in_file", "vertical_slab"]
