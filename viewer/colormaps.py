"""Colour primitives shared by :mod:`viewer.colors` and :mod:`viewer.features` (numpy only).

ASPRS point classes (names and colours, :data:`CLASS_TABLE` for codes 0-255) and small
built-in colormaps (:func:`colormap_lut`, :func:`apply_colormap`). Both colour modules
build on this one, so neither imports the other for its primitives.
"""

from __future__ import annotations

import colorsys

import numpy as np

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


#: (256, 3) uint8 colour of every class code 0-255.
CLASS_TABLE = _class_table(255)

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
    # ColorBrewer YlOrRd (as matplotlib's): pale yellow (none) to dark red (much)
    "ylorrd": [(1.000, 1.000, 0.800), (1.000, 0.929, 0.627), (0.996, 0.851, 0.463),
               (0.996, 0.698, 0.298), (0.992, 0.553, 0.235), (0.988, 0.306, 0.165),
               (0.890, 0.102, 0.110), (0.741, 0.000, 0.149), (0.502, 0.000, 0.149)],
    "plasma": [(0.050, 0.030, 0.528), (0.328, 0.007, 0.640), (0.545, 0.039, 0.647),
               (0.724, 0.197, 0.538), (0.859, 0.360, 0.408), (0.955, 0.533, 0.285),
               (0.994, 0.736, 0.156), (0.940, 0.975, 0.131)],
    "coolwarm": [(0.230, 0.299, 0.754), (0.552, 0.690, 0.996), (0.866, 0.866, 0.866),
                 (0.956, 0.604, 0.484), (0.706, 0.016, 0.150)],
    # ColorBrewer RdBu (as matplotlib's): red low, white centre, blue high; "rdbu_r" is
    # the change map (loss blue, no change white, gain red)
    "rdbu": [(0.404, 0.000, 0.122), (0.698, 0.094, 0.169), (0.839, 0.376, 0.302),
             (0.957, 0.647, 0.510), (0.992, 0.859, 0.780), (0.969, 0.969, 0.969),
             (0.820, 0.898, 0.941), (0.573, 0.773, 0.871), (0.263, 0.576, 0.765),
             (0.129, 0.400, 0.675), (0.020, 0.188, 0.380)],
}
#: colour maps with a neutral centre: scalar ranges drawn with them are symmetric about
#: zero (viewer.colors), so no change is the centre colour
DIVERGING_COLORMAPS = ("rdbu", "coolwarm", "bwr", "seismic", "rdylbu", "rdgy", "brbg",
                       "piyg", "prgn", "puor", "spectral", "rdylgn")
COLORMAP_ALIASES = {"grey": "gray", "greys": "gray", "grays": "gray", "rainbow": "jet"}
COLORMAPS: tuple[str, ...] = tuple(_ANCHORS)
_LUT_CACHE: dict[tuple[str, int], np.ndarray] = {}


def colormap_lut(name: str, n: int = 256) -> np.ndarray:
    """(n, 3) uint8 lookup table of a colormap.

    Built-in: viridis, turbo, jet, gray, terrain, ylorrd, plasma, coolwarm, rdbu (``_r`` suffix
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
    base = COLORMAP_ALIASES.get(base, base)
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


def is_diverging(name: str) -> bool:
    """True for a colour map with a neutral centre (``rdbu_r``, ``coolwarm``, ``RdBu``...)."""
    base = str(name).lower()
    if base.endswith("_r"):
        base = base[:-2]
    return base in DIVERGING_COLORMAPS
