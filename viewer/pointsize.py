"""Adaptive point size (Potree's): how big a point is drawn, from the spacing of the level
of detail it comes from and its distance. Qt-free and VTK-free (numpy only); the renderer
(:mod:`viewer.render`) hands the per-point spacing to a vertex shader that computes

    pixels = clamp(spacing * projection / w, minimum, maximum)

per point, where ``w`` is the point's clip-space w (its distance along the view axis in
a perspective view, 1 in a parallel one) and ``projection`` the pixels a world unit
spans at distance 1 (:func:`projection_factor`). So points of a coarse level drawn far
away stay small, and the points of a close-up grow until they touch: a closed surface
instead of 2-px dots with holes.

Spacing (:func:`surface_spacing`): scans are surfaces, so the spacing of ``n`` points is
``sqrt(area / n)``, the area measured by the voxels the points occupy (a grid of about
nine points a voxel on a flat, fully covered cell, so that empty voxels between points
do not shrink it). It is measured on each drawn node of the level of detail (a node of an
additive octree - Potree / COPC / :func:`loaders.lod.build_octree` - is a uniform sample
of its cell at its level's density; its ancestors only add a little), so a close-up's
deep nodes get small spacings, far coarse nodes large ones; and on the drawn sample of a
plain cloud (no LOD yet, while a file loads).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: point size modes of a point layer (``Layer.point_size_mode``)
SIZE_MODES = ("adaptive", "fixed")
#: point shapes (``Layer.point_shape``)
SHAPES = ("square", "round")
#: splat width / point spacing (the measured spacing is that of the node's own points, a
#: little wider than with its ancestors': splats overlap a little, enough to close)
SPLAT_SCALE = 1.2
#: largest adaptive point size (pixels): beyond it the level of detail has run out of
#: points and bigger squares would only show blocks
MAX_PIXELS = 48.0


def surface_spacing(positions: Any, count: int | None = None) -> float:
    """Spacing (world units) of points on a surface: ``sqrt(occupied area / count)``,
    the area from the voxels ``positions`` occupy; ``count`` the points they stand for
    (default ``len(positions)``; more when ``positions`` is a subsample). 0 for fewer than
    two points or no extent."""
    pts = np.asarray(positions)
    n = len(pts)
    if n < 2:
        return 0.0
    lo = np.array([float(pts[:, a].min()) for a in range(3)])
    hi = np.array([float(pts[:, a].max()) for a in range(3)])
    side = float(np.max(hi - lo))
    if not np.isfinite(side) or side <= 0:
        return 0.0
    cells = int(min(max(math.sqrt(n) / 3.0, 1.0), 1024.0))
    voxel = side / cells
    ijk = np.minimum(((pts - lo) / voxel).astype(np.int64), cells - 1)
    code = (ijk[:, 0] * (cells + 1) + ijk[:, 1]) * (cells + 1) + ijk[:, 2]
    area = len(np.unique(code)) * voxel * voxel
    return float(math.sqrt(area / max(int(n if count is None else count), 1)))


def cumulative_spacing(own: dict[Any, float]) -> dict[Any, float]:
    """Spacing of each drawn node together with its drawn ancestors (an additive octree
    draws them all): densities add, ``1 / s^2 = sum(1 / s_i^2)`` along the chain of
    ancestors. ``own``: node key ``(depth, x, y, z)`` -> spacing of its own points."""
    out: dict[Any, float] = {}
    for key in sorted(own, key=lambda k: k[0]):
        density = 1.0 / own[key] ** 2 if own[key] > 0 else 0.0
        d, x, y, z = key
        parent = (d - 1, x >> 1, y >> 1, z >> 1)
        if d > 0 and parent in out and out[parent] > 0:
            density += 1.0 / out[parent] ** 2
        out[key] = 1.0 / math.sqrt(density) if density > 0 else 0.0
    return out


def _codes(depth: int, ijk: np.ndarray) -> np.ndarray:
    return (((np.int64(depth) << 60) | (ijk[:, 0].astype(np.int64) << 40)
             | (ijk[:, 1].astype(np.int64) << 20) | ijk[:, 2].astype(np.int64)))


#: drawn points sized per step of :func:`lod_spacing` (its temporaries are ~100 bytes a
#: point: in steps, a big drawn set does not double the window's memory while sized)
SPACING_CHUNK = 1 << 17


def lod_spacing(positions: Any, point_keys: Any, own: dict[Any, float], cube_lo: Any,
                cube_hi: Any, index: Any = None) -> np.ndarray:
    """The spacing each drawn point of a level of detail is sized by (Potree's adaptive
    size): that of the deepest drawn node whose cell holds the point, with its ancestors
    (:func:`cumulative_spacing`). So in a close-up the coarse levels' points are as
    small as the fine ones drawn around them, and no coarse splat covers finer points.

    ``positions`` (n, 3): the points, in the source's local coordinates (``index``: the
    drawn points are ``positions[index]``, taken a step at a time); ``point_keys``: index
    (n,) into ``list(own)`` of the node each point comes from; ``own``: drawn node key ->
    spacing of its own points; ``cube_lo`` / ``cube_hi``: the root cell. Float32 (n,)."""
    keys = list(own)
    count = len(point_keys) if index is None else len(index)
    cum = cumulative_spacing(own)
    key_spacing = np.array([cum[k] for k in keys], np.float64)
    if not count or not keys:
        return np.zeros(count, np.float32)
    lo = np.asarray(cube_lo, np.float64)
    size = np.maximum(np.asarray(cube_hi, np.float64) - lo, 1e-12)
    depth = np.array([k[0] for k in keys], np.int64)
    levels = []  # per depth, deepest first: the drawn cells' codes, sorted, and their rows
    for d in sorted(set(depth.tolist()), reverse=True):
        if d == 0:
            continue
        rows = np.flatnonzero(depth == d)
        drawn = _codes(d, np.array([keys[r][1:] for r in rows], np.int64))
        order = np.argsort(drawn)
        levels.append((d, drawn[order], rows[order]))
    out = np.empty(count, np.float32)
    for a in range(0, count, SPACING_CHUNK):
        b = min(a + SPACING_CHUNK, count)
        where = np.asarray(point_keys[a:b], np.int64)
        spacing = key_spacing[where]
        own_depth = depth[where]
        pts = np.asarray(positions[a:b] if index is None else positions[index[a:b]],
                         np.float64)
        for d, drawn, rows in levels:
            cand = np.flatnonzero(own_depth < d)  # points a deeper drawn node may hold
            if not len(cand):
                continue
            n = 1 << d
            ijk = np.clip(((pts[cand] - lo) / size * n).astype(np.int64), 0, n - 1)
            codes = _codes(d, ijk)
            pos = np.clip(np.searchsorted(drawn, codes), 0, len(drawn) - 1)
            hit = drawn[pos] == codes
            spacing[cand[hit]] = key_spacing[rows[pos[hit]]]
            own_depth[cand[hit]] = d  # now sized by level d: only deeper levels can refine
        out[a:b] = spacing
    return out


def projection_factor(viewport_height: float, view_angle_deg: float, parallel: bool = False,
                      parallel_scale: float = 1.0) -> float:
    """Pixels a world unit spans at distance 1 (perspective: divided by the clip-space w
    in the shader) or anywhere (parallel projection, w = 1)."""
    half = max(float(viewport_height), 1.0) / 2.0
    if parallel:
        return half / max(float(parallel_scale), 1e-12)
    return half / math.tan(math.radians(max(float(view_angle_deg), 1e-3)) / 2.0)


def pixel_sizes(spacing: Any, w: Any, projection: float, minimum: float,
                maximum: float = MAX_PIXELS, scale: float = SPLAT_SCALE) -> np.ndarray:
    """The sizes (pixels) the shader draws: ``spacing`` per point (world units), ``w``
    per point (clip-space w: view depth in perspective, 1 in parallel)."""
    w = np.maximum(np.asarray(w, np.float64), 1e-9)
    px = scale * np.asarray(spacing, np.float64) * float(projection) / w
    return np.clip(px, float(minimum), max(float(maximum), float(minimum)))
