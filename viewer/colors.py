"""Colour computation for layers: pure numpy, no Qt, no VTK (part of the Qt-free core).

Everything here works on a :class:`viewer.scene.Layer` and returns plain arrays:

- :func:`layer_rgb` -- (n, 3) uint8 colours for the points / vertices / faces drawn;
- :func:`layer_colors` -- the same plus what a colour bar needs (scalar name, range,
  colormap) and whether the colours are per point/vertex or per face;
- :func:`visible_mask` -- which points survive ``layer.hidden_classes``;
- :func:`class_legend`, :func:`scalar_range`, :func:`scalar_info` -- for legends and
  colour bars;
- :func:`colormap_lut`, :func:`apply_colormap` -- small built-in colormaps (viridis,
  turbo, jet, gray, terrain, ...); unknown names fall back to matplotlib when installed.

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

import colorsys
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from loaders import Mesh, PointCloud

SCALAR_MODES = ("intensity", "elevation", "attribute")
INTENSITY_COLORMAP = "gray"
#: Largest number of values used to estimate percentiles (strided, deterministic).
PERCENTILE_SAMPLE = 2_000_000

# --------------------------------------------------------------------------------------
# ASPRS classification (LAS 1.4 R15, table 17), codes 0-18
# --------------------------------------------------------------------------------------

#: code -> (name, (r, g, b))
ASPRS_CLASSES: dict[int, tuple[str, tuple[int, int, int]]] = {
    0: ("Never classified", (140, 140, 140)),
    1: ("Unassigned", (190, 190, 190)),
    2: ("Ground", (165, 113, 60)),
    3: ("Low vegetation", (150, 220, 100)),
    4: ("Medium vegetation", (60, 170, 50)),
    5: ("High vegetation", (20, 100, 20)),
    6: ("Building", (220, 70, 55)),
    7: ("Low point (noise)", (255, 0, 255)),
    8: ("Model key / reserved", (255, 235, 120)),
    9: ("Water", (40, 110, 230)),
    10: ("Rail", (125, 75, 160)),
    11: ("Road surface", (85, 85, 95)),
    12: ("Overlap / reserved", (255, 175, 0)),
    13: ("Wire - guard (shield)", (240, 240, 170)),
    14: ("Wire - conductor (phase)", (250, 250, 0)),
    15: ("Transmission tower", (170, 130, 255)),
    16: ("Wire-structure connector", (200, 200, 60)),
    17: ("Bridge deck", (120, 200, 220)),
    18: ("High noise", (255, 0, 120)),
}


def class_name(code: int) -> str:
    """Name of an ASPRS class; ``"Class N"`` for codes without a standard name."""
    code = int(code)
    entry = ASPRS_CLASSES.get(code)
    return entry[0] if entry else f"Class {code}"


def class_color(code: int) -> tuple[int, int, int]:
    """RGB (0-255) of a class: the standard table, else a deterministic distinct hue."""
    code = int(code)
    entry = ASPRS_CLASSES.get(code)
    if entry:
        return entry[1]
    hue = (code * 0.618033988749895) % 1.0  # golden-ratio hues: neighbours differ
    sat = 0.55 + 0.35 * ((code * 7) % 3) / 2.0
    val = 0.95 - 0.2 * ((code * 5) % 2)
    r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def _class_table(max_code: int) -> np.ndarray:
    table = np.zeros((max(max_code, 255) + 1, 3), np.uint8)
    for code in range(len(table)):
        table[code] = class_color(code)
    return table


_CLASS_TABLE = _class_table(255)

# --------------------------------------------------------------------------------------
# Colormaps: anchor colours linearly interpolated into lookup tables
# --------------------------------------------------------------------------------------

_ANCHORS: dict[str, list[tuple[float, float, float]]] = {
    "viridis": [(0.267, 0.005, 0.329), (0.283, 0.141, 0.458), (0.254, 0.265, 0.530),
                (0.207, 0.372, 0.553), (0.164, 0.471, 0.558), (0.128, 0.567, 0.551),
                (0.135, 0.659, 0.518), (0.267, 0.749, 0.441), (0.478, 0.821, 0.318),
                (0.741, 0.873, 0.150), (0.993, 0.906, 0.144)],
    "turbo": [(0.190, 0.072, 0.232), (0.275, 0.400, 0.861), (0.156, 0.678, 0.973),
              (0.102, 0.894, 0.714), (0.392, 0.992, 0.341), (0.722, 0.945, 0.208),
              (0.949, 0.792, 0.227), (0.992, 0.529, 0.149), (0.890, 0.267, 0.039),
              (0.706, 0.094, 0.004), (0.480, 0.016, 0.011)],
    "jet": [(0.0, 0.0, 0.5), (0.0, 0.0, 1.0), (0.0, 0.5, 1.0), (0.0, 1.0, 1.0),
            (0.5, 1.0, 0.5), (1.0, 1.0, 0.0), (1.0, 0.5, 0.0), (1.0, 0.0, 0.0),
            (0.5, 0.0, 0.0)],
    "gray": [(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)],
    "terrain": [(0.20, 0.20, 0.60), (0.00, 0.60, 1.00), (0.00, 0.80, 0.40),
                (0.50, 0.85, 0.45), (1.00, 1.00, 0.60), (0.75, 0.65, 0.45),
                (0.50, 0.36, 0.33), (0.75, 0.70, 0.69), (1.00, 1.00, 1.00)],
    "plasma": [(0.050, 0.030, 0.528), (0.328, 0.007, 0.640), (0.545, 0.039, 0.647),
               (0.724, 0.197, 0.538), (0.859, 0.360, 0.408), (0.955, 0.533, 0.285),
               (0.994, 0.736, 0.156), (0.940, 0.975, 0.131)],
    "coolwarm": [(0.230, 0.299, 0.754), (0.552, 0.690, 0.996), (0.866, 0.866, 0.866),
                 (0.956, 0.604, 0.484), (0.706, 0.016, 0.150)],
}
_ALIASES = {"grey": "gray", "greys": "gray", "grays": "gray", "rainbow": "jet"}
COLORMAPS: tuple[str, ...] = tuple(_ANCHORS)
_LUT_CACHE: dict[tuple[str, int], np.ndarray] = {}


def colormap_lut(name: str, n: int = 256) -> np.ndarray:
    """(n, 3) uint8 lookup table of a colormap.

    Built-in: viridis, turbo, jet, gray, terrain, plasma, coolwarm (``_r`` suffix
    reverses). Other names are taken from matplotlib when it is installed; otherwise
    ``ValueError``.
    """
    key = (name, n)
    if key in _LUT_CACHE:
        return _LUT_CACHE[key]
    base = name.lower()
    reverse = base.endswith("_r")
    if reverse:
        base = base[:-2]
    base = _ALIASES.get(base, base)
    t = np.linspace(0.0, 1.0, n)
    if base in _ANCHORS:
        anchors = np.asarray(_ANCHORS[base], dtype=np.float64)
        xs = np.linspace(0.0, 1.0, len(anchors))
        rgb = np.stack([np.interp(t, xs, anchors[:, c]) for c in range(3)], axis=1)
    else:
        try:
            import matplotlib  # optional

            rgb = np.asarray(matplotlib.colormaps[name](t))[:, :3]
            reverse = False
        except Exception:
            raise ValueError(f"unknown colormap {name!r} (built-in: "
                             f"{', '.join(COLORMAPS)})") from None
    if reverse:
        rgb = rgb[::-1]
    lut = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    lut.setflags(write=False)
    _LUT_CACHE[key] = lut
    return lut


def apply_colormap(values: np.ndarray, vmin: float, vmax: float,
                   name: str = "viridis") -> np.ndarray:
    """Map scalars to (n, 3) uint8 colours; values outside [vmin, vmax] are clamped,
    NaN maps to the low end."""
    lut = colormap_lut(name)
    values = np.asarray(values, dtype=np.float64)
    span = float(vmax) - float(vmin)
    if not np.isfinite(span) or span <= 0:
        t = np.full(values.shape, 0.5)
    else:
        t = (values - float(vmin)) / span
    t = np.nan_to_num(t, nan=0.0, posinf=1.0, neginf=0.0)
    idx = np.clip((t * (len(lut) - 1) + 0.5).astype(np.int64), 0, len(lut) - 1)
    return lut[idx]


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
            codes = np.clip(codes, 0, len(_CLASS_TABLE) - 1)
            return LayerColors(_CLASS_TABLE[codes], "point", mode)
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
            return LayerColors(apply_colormap(values, lo, hi, info.colormap), "point",
                               mode, info)
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
        from .features import layer_feature_colors

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
    "ASPRS_CLASSES", "COLORMAPS", "INTENSITY_COLORMAP", "LayerColors", "SCALAR_MODES",
    "ScalarInfo", "apply_colormap", "check_color_mode", "class_color", "class_counts",
    "class_legend", "class_name", "colormap_lut", "effective_mode", "layer_colors",
    "layer_rgb", "mesh_face_rgb", "scalar_info", "scalar_range", "visible_mask",
]
