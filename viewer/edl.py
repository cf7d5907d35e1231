"""Eye-dome lighting (EDL) with a strength and a radius, as Potree draws it (numpy, no VTK).

VTK's ``vtkEDLShading`` has no strength or radius setting, and it turns the background
between sparse points black (close-ups fall apart into dots with black holes). This module
shades a rendered frame from its colour and depth buffers instead::

    out = shade(rgb, zbuffer, near, far, strength=1.0, radius=1.4)

For every point pixel, the log2 linear depths of 8 neighbours at ``radius`` pixels are
compared with its own; ``response = sum(max(0, d - d_i)) / 8`` (only neighbours that are
points count: the pixel is darkened where it lies behind its neighbours), and the colour is
multiplied by ``exp(-300 * strength * response)``, Potree's formula. Background pixels
(depth 1) are never changed, so there are no black halos around points.

:class:`viewer.render.SceneRenderer` applies it after every frame and to screenshots, with
``Scene.edl_strength`` / ``Scene.edl_radius``; ``realscene render --edl --edl-strength S
--edl-radius R`` and :mod:`viewer.api` set the same fields.
"""

from __future__ import annotations

import math

import numpy as np

#: Potree's defaults
DEFAULT_STRENGTH = 1.0
DEFAULT_RADIUS = 1.4
#: accepted ranges (the window's controls and the CLI use them)
STRENGTH_RANGE = (0.0, 10.0)
RADIUS_RANGE = (1.0, 8.0)
NEIGHBOURS = 8


def check_strength(value: float) -> float:
    """``value`` as a float inside :data:`STRENGTH_RANGE`; ValueError naming the range."""
    return _check(value, STRENGTH_RANGE, "EDL strength")


def check_radius(value: float) -> float:
    """``value`` (pixels) as a float inside :data:`RADIUS_RANGE`; ValueError otherwise."""
    return _check(value, RADIUS_RANGE, "EDL radius")


def _check(value: float, bounds: tuple[float, float], what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(v) or not bounds[0] <= v <= bounds[1]:
        raise ValueError(f"{what} must be between {bounds[0]:g} and {bounds[1]:g}, not {v:g}")
    return v


def neighbour_offsets(radius: float) -> list[tuple[int, int]]:
    """The 8 (dx, dy) pixel offsets at ``radius`` (>= 1) around a pixel, rounded."""
    out = []
    for i in range(NEIGHBOURS):
        a = 2.0 * math.pi * i / NEIGHBOURS
        dx, dy = radius * math.cos(a), radius * math.sin(a)
        out.append((int(math.floor(dx + 0.5)), int(math.floor(dy + 0.5))))
    return out


def log_depth(zbuffer: np.ndarray, near: float, far: float,
              parallel: bool = False) -> np.ndarray:
    """log2 of the linear (eye) depth of each pixel of an OpenGL depth buffer in [0, 1]
    (camera clipping range ``near``..``far``); +inf for background pixels (depth 1)."""
    z = np.asarray(zbuffer, dtype=np.float32)
    near = max(float(near), 1e-9)
    far = max(float(far), near * (1 + 1e-6))
    if parallel:
        lin = near + z * np.float32(far - near)
    else:
        ndc = z * 2.0 - 1.0
        lin = np.float32(2.0 * near * far) / (np.float32(far + near) - ndc * np.float32(far - near))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log2(np.maximum(lin, np.float32(1e-12)), dtype=np.float32)
    out[z >= np.float32(1.0)] = np.inf
    return out


def response(logd: np.ndarray, radius: float = DEFAULT_RADIUS) -> np.ndarray:
    """Potree's EDL response per pixel: mean over the 8 neighbours at ``radius`` px of
    ``max(0, d - d_i)`` (neighbours that are background or outside the image count 0)."""
    h, w = logd.shape
    offs = neighbour_offsets(radius)
    pad = max(max(abs(dx), abs(dy)) for dx, dy in offs)
    padded = np.full((h + 2 * pad, w + 2 * pad), np.inf, np.float32)
    padded[pad:pad + h, pad:pad + w] = logd
    total = np.zeros((h, w), np.float32)
    tmp = np.empty((h, w), np.float32)
    fg = np.isfinite(logd)
    own = np.where(fg, logd, np.float32(0))
    for dx, dy in offs:
        nb = padded[pad + dy:pad + dy + h, pad + dx:pad + dx + w]
        np.subtract(own, nb, out=tmp)  # -inf where the neighbour is background
        np.maximum(tmp, 0, out=tmp)
        total += tmp
    total[~fg] = 0
    return total / NEIGHBOURS


def shade_factor(zbuffer: np.ndarray, near: float, far: float, *,
                 strength: float = DEFAULT_STRENGTH, radius: float = DEFAULT_RADIUS,
                 parallel: bool = False) -> np.ndarray:
    """Per-pixel multiplier in [0, 1] (1 for background pixels)."""
    res = response(log_depth(zbuffer, near, far, parallel), radius)
    return np.exp(res * np.float32(-300.0 * strength), dtype=np.float32)


def shade(rgb: np.ndarray, zbuffer: np.ndarray, near: float, far: float, *,
          strength: float = DEFAULT_STRENGTH, radius: float = DEFAULT_RADIUS,
          parallel: bool = False) -> np.ndarray:
    """``rgb`` (h, w, 3 or 4 uint8; same row order as ``zbuffer`` (h, w)) shaded by EDL;
    a new uint8 array; alpha and background pixels are left as they are."""
    rgb = np.asarray(rgb)
    z = np.asarray(zbuffer)
    if z.shape != rgb.shape[:2]:
        raise ValueError(f"depth {z.shape} and colour {rgb.shape[:2]} sizes differ")
    out = rgb.copy()
    if strength <= 0 or not (z < 1.0).any():
        return out
    f = shade_factor(z, near, far, strength=strength, radius=radius, parallel=parallel)
    # fixed point (x 256): a third of the cost of a float multiply of the whole image
    f256 = (f * np.float32(256.0) + np.float32(0.5)).astype(np.uint16)
    col = rgb[..., :3].astype(np.uint16)
    col *= f256[..., None]
    col >>= 8
    out[..., :3] = col
    return out
