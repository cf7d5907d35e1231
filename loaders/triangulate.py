"""Polygon triangulation shared by the mesh readers (OBJ, PLY, OFF) and CityJSON.

All polygons of a file are triangulated at once with numpy:

- every ring's Newell vector N (the sum of the cross products of consecutive vertices
  taken relative to the ring's first vertex; twice its vector area) gives the polygon's
  plane. For a single-ring polygon the same cross products are the doubled vector areas
  of its fan triangles (0, i, i+1), so the fan is valid exactly when none of them points
  against N: true for every convex polygon, and checked without a Python loop;
- a concave single-ring polygon is fanned from one of its reflex vertices when that fan
  is valid by the same test (always for an L, often for other building outlines), also
  without a Python loop per polygon (:func:`_reflex_fans`);
- polygons with holes, and single-ring polygons no such fan is valid for, are
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
BLOCK = 1 << 14

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
    #: True when holes, or concave polygons no fan is valid for, were met but
    #: mapbox_earcut is not installed
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
    without (concave polygons no fan is valid for are then fanned from their first
    vertex and holes filled); by default mapbox_earcut's. ``progress(fraction,
    message)``, fraction 0..1, while earcut runs.
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
    # the coordinates as three rows: taking columns of it (``VT.take(ids, axis=1)``) is
    # several times faster than ``V[ids]``, and the x, y, z rows it gives are contiguous
    VT = np.ascontiguousarray(V.T)

    # ---- per ring: vertices relative to the ring's first vertex (Q) and the cross
    # products of consecutive ones, e_i = Q_i x Q_i+1. Their sum is the ring's Newell
    # vector N (twice its vector area); for a single-ring polygon, e_1 .. e_m-2 are
    # exactly the cross products of its fan triangles (e_0 = e_m-1 = 0).
    # The arrays per position are the largest: they are made for whole rings in blocks
    # of about ``block`` positions, so their memory stays small and is reused (the
    # results per ring and the fan triangles are kept).
    ring_n = np.zeros((3, R))
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
        rl = rlen[r0:r1]
        rs = ring_start[r0:r1] - a
        ring_of = np.repeat(np.arange(r1 - r0), rl)
        first = rs.take(ring_of)  # position of the ring's first vertex
        Q = VT.take(idx[a:b], axis=1)
        Q -= Q.take(first, axis=1)
        x, y, z = Q
        x0, y0, z0, x1, y1, z1 = x[:-1], y[:-1], z[:-1], x[1:], y[1:], z[1:]
        e = np.empty_like(Q)
        np.subtract(y0 * z1, z0 * y1, out=e[0, :-1])
        np.subtract(z0 * x1, x0 * z1, out=e[1, :-1])
        np.subtract(x0 * y1, y0 * x1, out=e[2, :-1])
        del Q, x, y, z, x0, y0, z0, x1, y1, z1
        # the next vertex of a ring's last one is its first, at Q = 0
        ex, ey, ez = e
        last = ring_end[r0:r1] - (a + 1)
        ex[last] = ey[last] = ez[last] = 0.0
        rn = np.empty((3, r1 - r0))
        for k in range(3):
            np.add.reduceat(e[k], rs, out=rn[k])
        ring_total = np.add.reduceat(np.sqrt(ex * ex + ey * ey + ez * ez), rs)
        ring_nn = rn[0] * rn[0] + rn[1] * rn[1] + rn[2] * rn[2]
        # the fan of a single-ring polygon is valid when no fan triangle points
        # against N (true for every convex polygon); zero area -> degenerate
        fan = ring_fan[r0:r1]
        degenerate = fan & (np.sqrt(ring_nn) <= 1e-12 * ring_total)
        # projected doubled area * |N|
        proj = ex * np.repeat(rn[0], rl)
        proj += ey * np.repeat(rn[1], rl)
        proj += ez * np.repeat(rn[2], rl)
        del e, ex, ey, ez
        nn_p = np.repeat(ring_nn, rl)
        wrong = proj < -1e-9 * nn_p
        bad = np.zeros(r1 - r0, bool)
        if wrong.any():
            bad[ring_of[wrong]] = True
            bad &= fan & ~degenerate
        # first and last fan positions have e = 0 exactly, so they are never kept
        keep = np.repeat(fan & ~(bad | degenerate), rl)
        keep &= proj > 1e-12 * nn_p
        tb = np.flatnonzero(keep)
        fr = ring_of.take(tb)
        t = np.empty((len(tb), 3), np.int64)
        np.add(first.take(tb), a, out=t[:, 0])
        np.add(tb, a, out=t[:, 1])
        np.add(tb, a + 1, out=t[:, 2])
        fan_parts.append(t)
        ring_parts.append(fr + r0)
        ring_n[:, r0:r1] = rn
        ring_degenerate[r0:r1] = degenerate
        ring_bad[r0:r1] = bad
        del proj, nn_p, keep, wrong, tb, fr, t, ring_of, first
        r0 = r1
    parts_t = fan_parts
    parts_r = ring_parts
    del fan_parts, ring_parts
    n_degenerate = int(ring_degenerate.sum())

    # ---- concave single-ring polygons: a fan from one of their reflex vertices
    bad_rings = np.flatnonzero(ring_bad)
    if len(bad_rings):
        rf_tris, rf_ring, fixed = _reflex_fans(VT, idx, ring_n, bad_rings, ring_start, rlen)
        parts_t.append(rf_tris)
        parts_r.append(rf_ring)
        ring_bad[fixed] = False
    tri_pos = (np.concatenate(parts_t) if len(parts_t) > 1 else parts_t[0]
               if parts_t else np.zeros((0, 3), np.int64))
    tri_ring = (np.concatenate(parts_r) if len(parts_r) > 1 else parts_r[0]
                if parts_r else np.zeros(0, np.int64))
    del parts_t, parts_r
    ring_poly = np.repeat(np.arange(len(outer)), nrings)
    tri_k = ring_poly.take(tri_ring)
    del tri_ring
    sort = len(bad_rings) > 0

    # ---- earcut: polygons with holes, and single-ring polygons no fan was found for
    ear = np.flatnonzero((nrings > 1) | ring_bad[outer])
    ear_tris, ear_k, n_failed = _earcut(VT, idx, ring_n, ear, outer, nrings, rlen,
                                        ring_start, ring_end, earcut, progress)
    n_degenerate += n_failed
    if len(ear_k):
        tri_pos = np.concatenate([tri_pos, ear_tris])
        tri_k = np.concatenate([tri_k, ear_k])
        sort = True
    if sort:  # by polygon; the triangles of a polygon all come from one part, in order
        order = np.argsort(tri_k, kind="stable")
        tri_pos, tri_k = tri_pos[order], tri_k[order]
    return PolygonTriangles(tri_pos.astype(np.int64, copy=False), tri_k, n_degenerate,
                            bool(len(ear) and earcut is None))


def _cross_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross products of (3, n) arrays of vectors given as x, y, z rows."""
    out = np.empty_like(a)
    np.subtract(a[1] * b[2], a[2] * b[1], out=out[0])
    np.subtract(a[2] * b[0], a[0] * b[2], out=out[1])
    np.subtract(a[0] * b[1], a[1] * b[0], out=out[2])
    return out


def _reflex_fans(VT, idx, ring_n, rings, ring_start, rlen, rounds=8):
    """Fans from a reflex vertex of the single-ring polygons ``rings`` (ring ids) whose
    fan from their first vertex is not valid (they are concave).

    A fan from any vertex j of a ring is valid when none of its triangles (j, i, i+1)
    points against the ring's Newell vector N (``ring_n``, (3, R)): the signed
    triangles then add up to the polygon's winding number, 1 inside and 0 outside, so
    they cover it exactly without overlapping (the polygon is star-shaped from j).
    Such a j is always a reflex vertex of a polygon with one reflex vertex (an L), and
    often one of a polygon with a few (a T, a Z, a step). The first ``rounds`` reflex
    vertices of every ring are tried in turn. Zero-area triangles are dropped, the
    others have the ring's winding (they point along N).

    Returns (triangles as positions into ``idx``, ring of each, ring ids fanned)."""
    m = rlen[rings]
    K = len(rings)
    off = np.cumsum(m) - m
    pos = ranges(ring_start[rings], m)
    n = len(pos)
    Q = VT.take(idx[pos], axis=1)
    Q -= np.repeat(Q.take(off, axis=1), m, axis=1)
    N = ring_n.take(rings, axis=1)
    nn = N[0] * N[0] + N[1] * N[1] + N[2] * N[2]
    ring_of = np.repeat(np.arange(K), m)
    local = np.arange(n) - np.repeat(off, m)
    prv = np.arange(-1, n - 1)
    prv[off] = off + m - 1
    nxt = np.arange(1, n + 1)
    nxt[off + m - 1] = off
    turn = (_cross_rows(Q - Q.take(prv, axis=1), Q.take(nxt, axis=1) - Q)
            * np.repeat(N, m, axis=1)).sum(axis=0)
    del prv, nxt
    reflex = np.flatnonzero(turn < 0)  # by ring
    rr = ring_of.take(reflex)
    cnt = np.bincount(rr, minlength=K)
    rank = np.arange(len(reflex)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    todo = np.ones(K, bool)
    tris: list[np.ndarray] = []
    tri_ring: list[np.ndarray] = []
    for k in range(rounds):
        apex = reflex[(rank == k) & todo[rr]]  # one apex (position in pos) per ring
        if not len(apex):
            break
        ks = ring_of.take(apex)
        nt = m.take(ks) - 2
        t_of = np.repeat(np.arange(len(ks)), nt)
        step = np.arange(len(t_of)) - np.repeat(np.cumsum(nt) - nt, nt) + 1
        mm = np.repeat(m.take(ks), nt)
        base = np.repeat(off.take(ks), nt)
        jl = np.repeat(local.take(apex), nt)
        i1 = base + (jl + step) % mm
        i2 = base + (jl + step + 1) % mm
        ap = np.repeat(apex, nt)
        A = Q.take(ap, axis=1)
        c = _cross_rows(Q.take(i1, axis=1) - A, Q.take(i2, axis=1) - A)
        proj = (c * np.repeat(N.take(ks, axis=1), nt, axis=1)).sum(axis=0)
        nnt = np.repeat(nn.take(ks), nt)
        good = np.ones(len(ks), bool)
        good[t_of[proj < -1e-9 * nnt]] = False
        keep = np.flatnonzero(good.take(t_of) & (proj > 1e-12 * nnt))
        tris.append(np.stack([pos.take(ap.take(keep)), pos.take(i1.take(keep)),
                              pos.take(i2.take(keep))], axis=1))
        tri_ring.append(rings.take(ks.take(t_of.take(keep))))
        todo[ks[good]] = False
    if not tris:
        return np.zeros((0, 3), np.int64), np.zeros(0, np.int64), rings[:0]
    return np.concatenate(tris), np.concatenate(tri_ring), rings[~todo]


def _earcut(VT, idx, ring_n, ear, outer, nrings, rlen, ring_start, ring_end, earcut,
            progress):
    """Triangulate polygons ``ear`` (with holes, or concave) with mapbox_earcut after
    projecting their rings onto the plane of the outer ring's Newell normal
    (``ring_n``, (3, R)). ``VT.take(idx, axis=1)`` are the vertices at every position.

    Returns (triangles as positions into ``idx``, polygon of each, failures)."""
    E = len(ear)
    empty = (np.zeros((0, 3), np.int64), np.zeros(0, np.int64), 0)
    if not E:
        return empty
    enr = nrings[ear]
    e_outer = outer[ear]  # ring id of each polygon's outer ring
    # extent of the outer ring (max squared distance from its first vertex)
    o_len = rlen[e_outer]
    o_pos = ranges(ring_start[e_outer], o_len)
    Qo = VT.take(idx[o_pos], axis=1)
    Qo -= np.repeat(VT.take(idx[ring_start[e_outer]], axis=1), o_len, axis=1)
    o_ext = np.maximum.reduceat((Qo * Qo).sum(axis=0), np.cumsum(o_len) - o_len)
    del Qo, o_pos
    normal = ring_n[:, e_outer].T
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
    Rel = VT.take(idx[pos], axis=1).T - VT.take(idx[poly_start], axis=1).T[poly_of]
    XY = np.empty((n, 2))
    XY[:, 0] = np.einsum("ij,ij->i", Rel, u[poly_of])
    XY[:, 1] = np.einsum("ij,ij->i", Rel, v[poly_of])
    del Rel, poly_of

    s_start = np.cumsum(poly_len) - poly_len  # polygon start in XY
    done = np.flatnonzero(ok)
    failed = E - len(done)
    if earcut is None:  # the fan of the outer ring (holes are filled)
        nt = o_len[done] - 2
        t_of = np.repeat(np.arange(len(done)), nt)
        k = np.arange(len(t_of)) - np.repeat(np.cumsum(nt) - nt, nt)
        first = np.repeat(s_start[done], nt)
        t = np.stack([first, first + k + 1, first + k + 2], axis=1)
        counts = nt
    else:
        # ring ends relative to their polygon's start, of the polygons' rings in order
        r_ids = ranges(e_outer[done], enr[done])
        ends = (ring_end[r_ids] - np.repeat(poly_start[done], enr[done])).astype(np.uint32)
        c_end = np.cumsum(enr[done])
        starts = s_start[done]
        out: list[np.ndarray] = []
        no_tris = np.zeros(0, np.uint32)
        D = len(done)
        for i, (a0, b0, c0, c1) in enumerate(zip(starts.tolist(),
                                                 (starts + poly_len[done]).tolist(),
                                                 (c_end - enr[done]).tolist(),
                                                 c_end.tolist(), strict=True)):
            if progress is not None and i and i % 5000 == 0:
                progress(i / D, "triangulating concave polygons and holes")
            try:
                out.append(earcut(XY[a0:b0], ends[c0:c1]))
            except Exception:
                out.append(no_tris)
        counts = np.fromiter(map(len, out), np.int64, D) // 3
        t = (np.concatenate(out).astype(np.int64).reshape(-1, 3) if out else
             np.zeros((0, 3), np.int64)) + np.repeat(starts, counts)[:, None]
        del out
    failed += int((counts == 0).sum())
    if not len(t):
        return empty[0], empty[1], failed
    tk = np.repeat(ear[done], counts)
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
