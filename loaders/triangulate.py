"""Polygon triangulation shared by the mesh readers (OBJ, PLY, OFF) and CityJSON.

All polygons of a file are triangulated at once with numpy:

- every ring's Newell vector N (the sum of the cross products of consecutive vertices
  taken relative to the ring's first vertex; twice its vector area) gives the polygon's
  plane. For a single-ring polygon the same cross products are the doubled vector areas
  of its fan triangles (0, i, i+1), so the fan is valid exactly when none of them points
  against N: true for every convex polygon, and checked without a Python loop;
- polygons with holes, and single-ring polygons whose fan is not valid (concave), are
  projected onto the plane of their outer ring's Newell normal and triangulated with
  ``mapbox_earcut``; the triangles are given the outer ring's winding.

Fan triangles of zero area are dropped; a polygon of zero area gives no triangles and is
counted as degenerate. No Qt, no VTK, no global state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

#: positions (vertex uses) handled per block: bounds the temporary arrays' memory
BLOCK = 1 << 16

#: the warning a reader gives when mapbox_earcut is missing (a pinned dependency)
EARCUT_MISSING = ("mapbox_earcut is not installed: concave polygons and holes are "
                  "fan-triangulated (holes are filled)")

_DEFAULT: Any = object()


def default_earcut() -> Callable | None:
    """``mapbox_earcut.triangulate_float64``, or None when it is not installed."""
    try:
        from mapbox_earcut import triangulate_float64
    except ImportError:  # pragma: no cover - a pinned dependency
        return None
    return triangulate_float64


@dataclass
class PolygonTriangles:
    """Result of :func:`triangulate_polygons`."""

    #: (T, 3) int64 positions into the ``idx`` given (``idx[tris]`` are vertex ids),
    #: grouped by polygon in polygon order
    tris: np.ndarray
    #: (T,) polygon of each triangle
    polygon: np.ndarray
    #: polygons that gave no triangles (zero area, or earcut failed)
    n_degenerate: int
    #: True when concave polygons or holes were met but mapbox_earcut is not installed
    earcut_missing: bool = False


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (n, 3) arrays (faster than np.cross for long arrays)."""
    out = np.empty_like(a)
    a0, a1, a2 = a[:, 0], a[:, 1], a[:, 2]
    b0, b1, b2 = b[:, 0], b[:, 1], b[:, 2]
    out[:, 0] = a1 * b2 - a2 * b1
    out[:, 1] = a2 * b0 - a0 * b2
    out[:, 2] = a0 * b1 - a1 * b0
    return out


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for every (s, n), vectorised."""
    lengths = np.asarray(lengths, np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, np.int64) - offsets, lengths) + np.arange(
        int(lengths.sum()))


def triangulate_polygons(V: np.ndarray, idx: np.ndarray, rlen: np.ndarray,
                         nrings: np.ndarray, *, earcut: Any = _DEFAULT,
                         progress: Callable[[float, str], None] | None = None,
                         block: int = BLOCK) -> PolygonTriangles:
    """Triangulate polygons given as rings of vertex ids.

    ``V``: (N, 3) vertex coordinates; ``idx``: the vertex id at every ring position (all
    valid, of finite vertices); ``rlen``: the length of every ring (>= 3, no repeated
    consecutive vertex); ``nrings``: the number of rings of every polygon (>= 1; the
    outer ring first, then its holes; rings of a polygon are consecutive).
    ``earcut``: a ``mapbox_earcut.triangulate_float64``-like function, None to do
    without (concave polygons are then fanned and holes filled); by default
    mapbox_earcut's. ``progress(fraction, message)``, fraction 0..1, while earcut runs.
    """
    if earcut is _DEFAULT:
        earcut = default_earcut()
    V = np.asarray(V, np.float64)
    idx = np.asarray(idx, np.int64)
    rlen = np.asarray(rlen, np.int64)
    nrings = np.asarray(nrings, np.int64)
    R = len(rlen)
    ring_end = np.cumsum(rlen)
    ring_start = ring_end - rlen
    outer = np.cumsum(nrings) - nrings  # ring id of each polygon's outer ring

    # ---- per ring: vertices relative to the ring's first vertex (Q) and the cross
    # products of consecutive ones, e_i = Q_i x Q_i+1. Their sum is the ring's Newell
    # vector N (twice its vector area); for a single-ring polygon, e_1 .. e_m-2 are
    # exactly the cross products of its fan triangles (e_0 = e_m-1 = 0).
    # The arrays per position are the largest: they are made for whole rings in blocks
    # of about ``block`` positions, so their memory stays small and is reused (the
    # results per ring and the fan triangles are kept).
    ring_n = np.zeros((R, 3))
    ring_fan = np.zeros(R, bool)
    ring_fan[outer[nrings == 1]] = True
    ring_degenerate = np.zeros(R, bool)
    ring_bad = np.zeros(R, bool)
    fan_parts: list[np.ndarray] = []
    ring_parts: list[np.ndarray] = []
    r0 = 0
    while r0 < R:
        a = int(ring_start[r0])
        r1 = max(int(np.searchsorted(ring_end, a + block, side="right")), r0 + 1)
        b = int(ring_end[r1 - 1])
        rs = ring_start[r0:r1] - a
        ring_of = np.repeat(np.arange(r1 - r0), rlen[r0:r1])
        P = V[idx[a:b]]
        Q = P - P[rs][ring_of]
        del P
        nxt = np.arange(1, b - a + 1)
        nxt[ring_end[r0:r1] - a - 1] = rs
        e = cross(Q, Q[nxt])
        del Q, nxt
        rn = np.add.reduceat(e, rs, axis=0)
        ring_total = np.add.reduceat(np.sqrt(np.einsum("ij,ij->i", e, e)), rs)
        ring_nn = np.einsum("ij,ij->i", rn, rn)
        # the fan of a single-ring polygon is valid when no fan triangle points
        # against N (true for every convex polygon); zero area -> degenerate
        fan = ring_fan[r0:r1]
        degenerate = fan & (np.sqrt(ring_nn) <= 1e-12 * ring_total)
        proj = np.einsum("ij,ij->i", e, rn[ring_of])  # projected doubled area * |N|
        del e
        nn_p = ring_nn[ring_of]
        bad = np.zeros(r1 - r0, bool)
        wrong = proj < -1e-9 * nn_p
        if wrong.any():
            bad[ring_of[wrong]] = True
            bad &= fan & ~degenerate
        # first and last fan positions have e = 0 exactly, so they are never kept
        keep = (fan & ~(bad | degenerate))[ring_of] & (proj > 1e-12 * nn_p)
        tb = np.flatnonzero(keep)
        fr = ring_of[tb]
        fan_parts.append(np.stack([rs[fr] + a, tb + a, tb + a + 1], axis=1))
        ring_parts.append(fr + r0)
        ring_n[r0:r1] = rn
        ring_degenerate[r0:r1] = degenerate
        ring_bad[r0:r1] = bad
        del proj, nn_p, keep, wrong, ring_of, tb, fr
        r0 = r1
    fan_tris = (np.concatenate(fan_parts) if len(fan_parts) > 1 else fan_parts[0]
                if fan_parts else np.zeros((0, 3), np.int64))
    fan_ring = (np.concatenate(ring_parts) if len(ring_parts) > 1 else ring_parts[0]
                if ring_parts else np.zeros(0, np.int64))
    del fan_parts, ring_parts
    ring_poly = np.repeat(np.arange(len(outer)), nrings)
    fan_k = ring_poly[fan_ring]
    n_degenerate = int(ring_degenerate.sum())

    # ---- earcut: polygons with holes, and single-ring polygons the fan cannot do
    ear = np.flatnonzero((nrings > 1) | ring_bad[outer])
    ear_tris, ear_k, n_failed = _earcut(V, idx, ring_n, ear, outer, nrings, rlen,
                                        ring_start, ring_end, earcut, progress)
    n_degenerate += n_failed
    if len(ear_k):
        tri_pos = np.concatenate([fan_tris, ear_tris])
        tri_k = np.concatenate([fan_k, ear_k])
        order = np.argsort(tri_k, kind="stable")
        tri_pos, tri_k = tri_pos[order], tri_k[order]
    else:
        tri_pos, tri_k = fan_tris, fan_k
    return PolygonTriangles(tri_pos.astype(np.int64, copy=False), tri_k, n_degenerate,
                            bool(len(ear) and earcut is None))


def _earcut(V, idx, ring_n, ear, outer, nrings, rlen, ring_start, ring_end, earcut,
            progress):
    """Triangulate polygons ``ear`` (with holes, or concave) with mapbox_earcut after
    projecting their rings onto the plane of the outer ring's Newell normal
    (``ring_n``). ``V[idx]`` are the vertices at every position.

    Returns (triangles as positions into ``idx``, polygon of each, failures)."""
    E = len(ear)
    empty = (np.zeros((0, 3), np.int64), np.zeros(0, np.int64), 0)
    if not E:
        return empty
    enr = nrings[ear]
    e_outer = outer[ear]  # ring id of each polygon's outer ring
    # extent of the outer ring (max squared distance from its first vertex)
    o_pos = ranges(ring_start[e_outer], rlen[e_outer])
    Qo = V[idx[o_pos]] - np.repeat(V[idx[ring_start[e_outer]]], rlen[e_outer], axis=0)
    o_ext = np.maximum.reduceat(np.einsum("ij,ij->i", Qo, Qo),
                                np.cumsum(rlen[e_outer]) - rlen[e_outer])
    del Qo, o_pos
    normal = ring_n[e_outer]
    nlen = np.sqrt(np.einsum("ij,ij->i", normal, normal))
    ok = nlen > 1e-12 * np.maximum(o_ext, 1e-300)
    # all rings of these polygons are consecutive in idx: positions poly_start ..
    # poly_start + poly_len
    poly_start = ring_start[e_outer]
    poly_len = ring_end[e_outer + enr - 1] - poly_start
    pos = ranges(poly_start, poly_len)
    n = len(pos)
    # orthonormal basis (u, v) with u x v = n, and 2D coordinates relative to the
    # polygon's first vertex
    nh = normal / np.where(nlen > 0, nlen, 1.0)[:, None]
    a = np.zeros((E, 3))
    use_x = np.abs(nh[:, 0]) < 0.9
    a[use_x, 0] = 1.0
    a[~use_x, 1] = 1.0
    u = cross(a, nh)
    u /= np.maximum(np.sqrt(np.einsum("ij,ij->i", u, u)), 1e-300)[:, None]
    v = cross(nh, u)
    poly_of = np.repeat(np.arange(E), poly_len)
    Rel = V[idx[pos]] - V[idx[poly_start]][poly_of]
    XY = np.empty((n, 2))
    XY[:, 0] = np.einsum("ij,ij->i", Rel, u[poly_of])
    XY[:, 1] = np.einsum("ij,ij->i", Rel, v[poly_of])
    del Rel, poly_of

    tris: list[np.ndarray] = []
    counts = np.zeros(E, np.int64)
    failed = int((~ok).sum())
    ok_l = ok.tolist()
    pl_l = poly_len.tolist()
    s_start = (np.cumsum(poly_len) - poly_len).tolist()  # polygon start in XY
    e_outer_l = e_outer.tolist()
    enr_l = enr.tolist()
    for i in range(E):
        if progress is not None and i and i % 5000 == 0:
            progress(i / E, "triangulating concave polygons and holes")
        if not ok_l[i]:
            continue
        a0 = s_start[i]
        b0 = a0 + pl_l[i]
        r0 = e_outer_l[i]
        if earcut is None:
            m = int(rlen[r0])
            t = np.stack([np.zeros(m - 2, np.int64), np.arange(1, m - 1),
                          np.arange(2, m)], axis=1)
        else:
            ends = (ring_end[r0:r0 + enr_l[i]] - (ring_start[r0])).astype(np.uint32)
            try:
                t = np.asarray(earcut(XY[a0:b0], ends), np.int64).reshape(-1, 3)
            except Exception:
                t = np.zeros((0, 3), np.int64)
        if len(t) == 0:
            failed += 1
            continue
        tris.append(t + a0)
        counts[i] = len(t)
    if not tris:
        return empty[0], empty[1], failed
    t = np.concatenate(tris)
    tk = np.repeat(ear, counts)
    # the outer ring's winding for every triangle, and no zero-area triangles
    e1 = XY[t[:, 1]] - XY[t[:, 0]]
    e2 = XY[t[:, 2]] - XY[t[:, 0]]
    area2 = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    flip = area2 < 0
    t[flip] = t[flip][:, [0, 2, 1]]
    keep = area2 != 0
    return pos[t[keep]], tk[keep], failed


def _fan(corners: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain fan (0, k+1, k+2) of every face: vertex ids (T, 3), face of each."""
    starts = np.cumsum(sizes) - sizes
    ntri = sizes - 2
    face_of_tri = np.repeat(np.arange(len(sizes)), ntri)
    k = np.arange(int(ntri.sum())) - np.repeat(np.cumsum(ntri) - ntri, ntri)
    s = starts[face_of_tri]
    return (np.stack([corners[s], corners[s + k + 1], corners[s + k + 2]], axis=1),
            face_of_tri)


def triangulate_faces(V: np.ndarray, corners: np.ndarray, sizes: np.ndarray, *,
                      earcut: Any = _DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """Triangles of a mesh's polygonal faces (each a single ring, no holes).

    ``corners``: the vertex ids of every face, concatenated; ``sizes``: the vertex count
    of every face (>= 3). Triangles are kept as they are; convex polygons are fanned
    (0, k+1, k+2); concave ones are triangulated with earcut (:func:`triangulate_polygons`).
    A face whose polygon has zero area is fanned as it is, so that no face is lost.

    Returns (vertex ids (T, 3) int64, face index of each triangle), in face order.
    """
    corners = np.asarray(corners, np.int64)
    sizes = np.asarray(sizes, np.int64)
    F = len(sizes)
    if F == 0:
        return np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
    if np.all(sizes == 3):
        return corners.reshape(-1, 3), np.arange(F)
    starts = np.cumsum(sizes) - sizes
    poly = np.flatnonzero(sizes > 3)
    pos = ranges(starts[poly], sizes[poly])
    idx = corners[pos]
    plen = sizes[poly]
    res = triangulate_polygons(V, idx, plen, np.ones(len(poly), np.int64), earcut=earcut)
    tris_p = idx[res.tris]
    face_p = poly[res.polygon]
    got = np.zeros(len(poly), bool)
    got[res.polygon] = True
    parts = [(tris_p, face_p)]
    tri_faces = np.flatnonzero(sizes == 3)
    if len(tri_faces):
        parts.append((corners[starts[tri_faces][:, None] + np.arange(3)], tri_faces))
    if not got.all():  # zero-area polygons: their plain fan
        lost = poly[~got]
        lc = corners[ranges(starts[lost], sizes[lost])]
        ft, ff = _fan(lc, sizes[lost])
        parts.append((ft, lost[ff]))
    tris = np.concatenate([p[0] for p in parts])
    face = np.concatenate([p[1] for p in parts])
    order = np.argsort(face, kind="stable")
    return tris[order], face[order]
