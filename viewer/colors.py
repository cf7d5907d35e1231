"""Colour computation for layers: pure numpy, no Qt, no VTK (part of the Qt-free core).

Everything here works on a :class:`viewer.scene.Layer` and returns plain arrays:

- :func:`layer_rgb` -- (n, 3) uint8 colours for the points / vertices / faces drawn;
- :func:`layer_colors` -- the same plus what a colour bar needs (scalar name, range,
  colormap) and whether the colours are per point/vertex or per face;
- :func:`visible_mask` -- which points survive ``layer.hidden_classes``;
- :func:`class_legend`, :func:`scalar_range`, :func:`scalar_info` -- for legends and
  colour bars;
- :func:`colormap_lut`, :func:`apply_colormap` -- small built-in colormaps (viridis,
  turbo, jet, gray, terrain, ...); unknown names fall back to matplotlib when installed
  (these and the ASPRS class table live in :mod:`viewer.colormaps`, re-exported here).

Colour modes (``layer.color_mode``): point clouds ``rgb``, ``intensity``,
``classification``, ``elevation``, ``attribute`` (``layer.attribute`` with
``layer.colormap``), ``solid``; meshes ``material``, ``vertex``, ``elevation``,
``solid``. A mode the layer's data cannot show (say ``rgb`` on a cloud without colours)
falls back to the solid colour; use :func:`check_color_mode` to reject it up front.

Scalar modes (intensity, elevation, attribute) stretch the colormap over the
``layer.contrast`` percentiles (default 2-98 %) of the *whole* layer, so the colours of
a point do not depend on which subsample is drawn. Intensity is always drawn in gray;
elevation and attribute use ``layer.colormap``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from loaders import Mesh, PointCloud

from .colormaps import (
    ASPRS_CLASSES,
    CLASS_TABLE,
    COLORMAPS,
    apply_colormap,
    class_color,
    class_name,
    colormap_lut,
    is_diverging,
)
from .features import layer_feature_colors

SCALAR_MODES = ("intensity", "elevation", "attribute")
#: points a diverging colour map cannot place (NaN: e.g. an M3C2 cylinder without points)
#: and, with ``layer.significant_only``, change below its level of detection
NOT_SIGNIFICANT_RGB = (150, 150, 150)
INTENSITY_COLORMAP = "gray"
#: Largest number of values used to estimate percentiles (strided, deterministic).
PERCENTILE_SAMPLE = 2_000_000

# --------------------------------------------------------------------------------------
# Layer colours
# --------------------------------------------------------------------------------------


class ScalarInfo(NamedTuple):
    """What a colour bar shows: scalar name, range and colormap."""

    name: str
    vmin: float
    vmax: float
    colormap: str


@dataclass
class LayerColors:
    """Colours of a layer.

    rgb : (n, 3) uint8
    association : "point" (per point / vertex) or "cell" (per mesh face)
    mode : the colour mode actually used (after fallbacks)
    scalar : ScalarInfo for scalar modes (colour bar), else None
    """

    rgb: np.ndarray
    association: str
    mode: str
    scalar: ScalarInfo | None = None


def effective_mode(layer: Any) -> str:
    """The colour mode that will actually be drawn (falls back to ``solid``)."""
    mode = layer.color_mode
    data = layer.data
    if isinstance(data, PointCloud):
        attrs = data.attributes
        if mode in ("rgb", "intensity", "classification") and mode not in attrs:
            return "solid"
        if mode == "attribute":
            values = attrs.get(layer.attribute) if layer.attribute else None
            if values is None or np.asarray(values).ndim != 1:
                return "solid"
        if mode in ("elevation", "solid", "rgb", "intensity", "classification", "attribute"):
            return mode
        return "solid"
    if isinstance(data, Mesh):
        if getattr(data, "features", None) is not None and hasattr(data, "face_feature"):
            if mode in ("type", "attribute"):
                return mode
            if mode == "semantic":
                return mode if (np.asarray(data.face_semantic) >= 0).any() else "type"
        if mode == "material":
            return mode if (data.parts or data.face_colors is not None) else "solid"
        if mode == "vertex":
            return mode if data.vertex_colors is not None else "solid"
        if mode in ("elevation", "solid"):
            return mode
    return "solid"


def check_color_mode(layer: Any, mode: str, attribute: str | None = None) -> None:
    """Raise ``ValueError`` with a user-facing reason if ``layer`` cannot show ``mode``."""
    available = layer.available_color_modes()
    if mode == "attribute":
        names = layer.scalar_attributes()
        if attribute not in names:
            raise ValueError(f"no scalar attribute {attribute!r} "
                             f"(available: {', '.join(names) or 'none'})")
        return
    if mode not in available:
        raise ValueError(f"colour mode {mode!r} not available for this "
                         f"{layer.kind} (available: {', '.join(available)})")


def _solid(layer: Any, n: int) -> np.ndarray:
    rgb = np.clip(np.round(np.asarray(layer.solid_color[:3], float) * 255), 0, 255)
    return np.broadcast_to(rgb.astype(np.uint8), (n, 3)).copy()


def _sample(values: np.ndarray) -> np.ndarray:
    if len(values) > PERCENTILE_SAMPLE:
        step = int(np.ceil(len(values) / PERCENTILE_SAMPLE))
        values = values[::step]
    return values


def _stretch(values: np.ndarray, contrast: tuple[float, float]) -> tuple[float, float]:
    v = _sample(np.asarray(values)).astype(np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return 0.0, 1.0
    lo_p, hi_p = (float(contrast[0]), float(contrast[1])) if contrast else (0.0, 100.0)
    lo_p, hi_p = max(0.0, min(lo_p, 100.0)), max(0.0, min(hi_p, 100.0))
    if hi_p < lo_p:
        lo_p, hi_p = hi_p, lo_p
    vmin, vmax = np.percentile(v, [lo_p, hi_p])
    if vmax <= vmin:  # flat data or too strong a stretch: use the full range
        vmin, vmax = float(v.min()), float(v.max())
    return float(vmin), float(vmax)


def symmetric_range(values: np.ndarray, percentile: float = 98.0) -> tuple[float, float]:
    """(-m, m) with m the ``percentile`` of |values| (finite values): a diverging colour
    map's range, centred on zero (no change is its centre colour)."""
    v = _sample(np.asarray(values)).astype(np.float64)
    v = np.abs(v[np.isfinite(v)])
    if len(v) == 0:
        return -1.0, 1.0
    m = float(np.percentile(v, max(0.0, min(float(percentile), 100.0))))
    if m <= 0.0:
        m = float(v.max()) if v.max() > 0 else 1e-3
    return -m, m


def significance_attribute(layer: Any) -> str | None:
    """The attribute telling whether the change shown is significant: for an attribute
    ``<method>_distance`` the layer's ``<method>_significant`` (M3C2), else None."""
    name = str(layer.attribute or "")
    data = layer.data
    if not name.endswith("_distance") or not isinstance(data, PointCloud):
        return None
    sig = name[: -len("_distance")] + "_significant"
    return sig if sig in data.attributes else None


def _scalar_values(layer: Any, mode: str, data: Any = None) -> tuple[str, np.ndarray]:
    data = layer.data if data is None else data
    if mode == "elevation":
        pos = data.positions if isinstance(data, PointCloud) else data.vertices
        return "elevation", pos[:, 2]
    if mode == "intensity":
        return "intensity", data.attributes["intensity"]
    return str(layer.attribute), data.attributes[layer.attribute]


def scalar_info(layer: Any) -> ScalarInfo | None:
    """Colour-bar description of ``layer`` in a scalar mode (true units), else None."""
    mode = effective_mode(layer)
    if mode not in SCALAR_MODES:
        return None
    name, values = _scalar_values(layer, mode)
    if mode == "attribute" and is_diverging(layer.colormap):
        # symmetric about zero, its half-width the upper contrast percentile of |value|
        vmin, vmax = symmetric_range(values, (layer.contrast or (0.0, 100.0))[1])
    else:
        vmin, vmax = _stretch(values, layer.contrast)
    if mode == "elevation":  # local z -> true z
        vmin += float(layer.data.origin[2])
        vmax += float(layer.data.origin[2])
    cmap = INTENSITY_COLORMAP if mode == "intensity" else layer.colormap
    return ScalarInfo(name, vmin, vmax, cmap)


def scalar_range(layer: Any) -> tuple[float, float] | None:
    """(vmin, vmax) of the colour bar in a scalar mode (true units), else None."""
    info = scalar_info(layer)
    return None if info is None else (info.vmin, info.vmax)


def _take(values: np.ndarray, indices: np.ndarray | None) -> np.ndarray:
    return values if indices is None else values[indices]


def _rgb_attribute(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)[:, :3]
    if rgb.dtype == np.uint8:
        return np.ascontiguousarray(rgb)
    if np.issubdtype(rgb.dtype, np.floating):
        scale = 255.0 if (len(rgb) and np.nanmax(rgb) <= 1.0) else 1.0
        return np.clip(np.round(np.nan_to_num(rgb) * scale), 0, 255).astype(np.uint8)
    if len(rgb) and rgb.max() > 255:  # 16-bit LAS colours
        return (rgb >> 8).astype(np.uint8)
    return rgb.astype(np.uint8)


def rgb_bytes(rgb: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 colours from a file's colours (uint8, 16-bit or 0..1 floats, RGBA
    cut to RGB): what tile layers draw their tiles' vertex / face colours with."""
    return _rgb_attribute(rgb)


def layer_colors(layer: Any, indices: np.ndarray | None = None, data: Any = None,
                 scalar: ScalarInfo | None = None) -> LayerColors:
    """Colours of ``layer``.

    For point clouds, one colour per point of ``indices`` (default: all points). For
    meshes ``indices`` is ignored: per-vertex colours, or per-face colours
    (``association == "cell"``) in ``material`` mode.

    ``data``: a :class:`PointCloud` to colour with the layer's settings instead of
    ``layer.data`` (e.g. one level-of-detail node); scalar ranges still come from the
    whole layer. ``scalar``: a precomputed :func:`scalar_info` (saves recomputing the
    percentiles for every node / frame).
    """
    mode = effective_mode(layer)
    if data is None:
        data = layer.data
    elif mode in ("rgb", "intensity", "classification") and mode not in data.attributes:
        mode = "solid"
    if isinstance(data, PointCloud):
        n = data.point_count if indices is None else len(indices)
        if mode == "rgb":
            return LayerColors(_rgb_attribute(_take(data.attributes["rgb"], indices)),
                               "point", mode)
        if mode == "classification":
            codes = _take(data.attributes["classification"], indices).astype(np.int64)
            codes = np.clip(codes, 0, len(CLASS_TABLE) - 1)
            return LayerColors(CLASS_TABLE[codes], "point", mode)
        if mode in SCALAR_MODES:
            info = scalar if scalar is not None else scalar_info(layer)
            if mode == "attribute" and layer.attribute not in data.attributes:
                return LayerColors(_solid(layer, n), "point", "solid")
            _, values = _scalar_values(layer, mode, data)
            values = _take(values, indices).astype(np.float64)
            lo, hi = info.vmin, info.vmax
            if mode == "elevation":
                lo -= float(data.origin[2])
                hi -= float(data.origin[2])
            rgb = apply_colormap(values, lo, hi, info.colormap)
            if mode == "attribute" and is_diverging(info.colormap):
                grey = ~np.isfinite(values)
                sig_name = significance_attribute(layer) \
                    if getattr(layer, "significant_only", False) else None
                if sig_name is not None and sig_name in data.attributes:
                    sig = _take(data.attributes[sig_name], indices)
                    grey |= ~np.asarray(sig).astype(bool)
                if grey.any():
                    rgb[grey] = NOT_SIGNIFICANT_RGB
            return LayerColors(rgb, "point", mode, info)
        return LayerColors(_solid(layer, n), "point", "solid")

    assert isinstance(data, Mesh)
    nv = data.vertex_count
    if mode == "vertex":
        return LayerColors(_rgb_attribute(data.vertex_colors), "point", mode)
    if mode == "elevation":
        info = scalar_info(layer)
        z = data.vertices[:, 2].astype(np.float64) + float(data.origin[2])
        return LayerColors(apply_colormap(z, info.vmin, info.vmax, info.colormap),
                           "point", mode, info)
    if mode == "material":
        return LayerColors(mesh_face_rgb(layer), "cell", mode)
    if mode in ("semantic", "type", "attribute"):  # city / building models
        rgb, _legend = layer_feature_colors(layer, mode)
        return LayerColors(rgb, "cell", mode)
    return LayerColors(_solid(layer, nv), "point", "solid")


def mesh_face_rgb(layer: Any) -> np.ndarray:
    """(M, 3) uint8 per-face colours of a mesh in material mode.

    ``face_colors`` when the file has them, overridden by the parts' material colours;
    a textured part gets its texture's mean colour (the renderer draws the texture on
    top). Faces no part covers get the layer's solid colour.
    """
    data: Mesh = layer.data
    m = data.triangle_count
    if data.face_colors is not None and len(data.face_colors) == m:
        rgb = _rgb_attribute(data.face_colors)
    else:
        rgb = _solid(layer, m)
    for part in data.parts:
        start, stop = max(0, int(part.start)), min(m, int(part.stop))
        if stop <= start:
            continue
        mat = part.material
        if mat.texture is not None and np.size(mat.texture):
            tex = np.asarray(mat.texture)
            color = tex.reshape(-1, tex.shape[-1])[:, :3].mean(axis=0)
        elif data.face_colors is not None and part.material.color == (0.8, 0.8, 0.8, 1.0):
            continue  # default material: keep the file's face colours
        else:
            color = np.asarray(mat.color[:3], float) * 255.0
        rgb[start:stop] = np.clip(np.round(color), 0, 255).astype(np.uint8)
    return rgb


def layer_rgb(layer: Any, indices: np.ndarray | None = None) -> np.ndarray:
    """(n, 3) uint8 colours of ``layer`` (see :func:`layer_colors`)."""
    return layer_colors(layer, indices).rgb


def visible_mask(layer: Any, indices: np.ndarray | None = None,
                 data: Any = None) -> np.ndarray | None:
    """Boolean mask over ``indices`` (default all points) of points that are drawn, or
    None when nothing is hidden. Points of ``layer.hidden_classes`` are hidden (in every
    colour mode, not only in classification mode). ``data``: a cloud to test instead of
    ``layer.data`` (e.g. a level-of-detail node)."""
    data = layer.data if data is None else data
    if not layer.hidden_classes or not isinstance(data, PointCloud):
        return None
    codes = data.attributes.get("classification")
    if codes is None:
        return None
    hidden = np.zeros(max(256, int(max(layer.hidden_classes)) + 1), bool)
    for c in layer.hidden_classes:
        if int(c) >= 0:
            hidden[int(c)] = True
    codes = _take(codes, indices).astype(np.int64)
    return ~hidden[np.clip(codes, 0, len(hidden) - 1)]


def class_counts(layer: Any) -> dict[int, int]:
    """Point count per classification code present in the layer (all points)."""
    data = layer.data
    if not isinstance(data, PointCloud) or "classification" not in data.attributes:
        return {}
    codes = np.asarray(data.attributes["classification"]).ravel()
    if len(codes) == 0:
        return {}
    # counting 30M codes costs ~0.1-0.3 s and panels ask often: cache per cloud (the
    # counts don't change when the octree reorders the points)
    cached = data.metadata.get("_class_counts")
    if cached is not None and cached[0] == len(codes):
        return dict(cached[1])
    if codes.dtype.kind == "u" and codes.dtype.itemsize == 1:
        counts = np.zeros(256, np.int64)
        for start in range(0, len(codes), 1 << 22):  # bounded temporary memory
            counts += np.bincount(codes[start:start + (1 << 22)], minlength=256)
        result = {int(c): int(counts[c]) for c in np.flatnonzero(counts)}
    else:
        values, counts = np.unique(codes.astype(np.int64), return_counts=True)
        result = {int(v): int(c) for v, c in zip(values, counts, strict=True)}
    data.metadata["_class_counts"] = (len(codes), result)
    return dict(result)


def class_legend(layer: Any) -> list[tuple[int, str, tuple[int, int, int], int]]:
    """``[(code, name, (r, g, b), count), ...]`` for every class present, sorted by code
    (hidden classes included, so a legend can offer to show them again)."""
    return [(code, class_name(code), class_color(code), count)
            for code, count in sorted(class_counts(layer).items())]


__all__ = [
    "ASPRS_CLASSES", "COLORMAPS", "INTENSITY_COLORMAP", "LayerColors",
    "NOT_SIGNIFICANT_RGB", "SCALAR_MODES",
    "ScalarInfo", "apply_colormap", "check_color_mode", "class_color", "class_counts",
    "class_legend", "class_name", "colormap_lut", "effective_mode", "layer_colors",
    "layer_rgb", "mesh_face_rgb", "scalar_info", "scalar_range", "significance_attribute",
    "symmetric_range", "visible_mask", "is_diverging",
]
