"""One polygon triangulator (loaders.triangulate) for OBJ, PLY, OFF and CityJSON: concave
faces are triangulated inside the polygon; triangles and convex quads are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import loaders
from loaders.triangulate import default_earcut, triangulate_faces, triangulate_polygons

# an L with its reflex corner (1, 1) second: the fan from (2, 1) would cover the notch
# x > 1, y > 1, which is outside the polygon
L_2D = np.array([(2, 1), (1, 1), (1, 2), (0, 2), (0, 0), (2, 0)], float)
L_AREA = 3.0


def _tilted(xy: np.ndarray) -> np.ndarray:
    """The 2D polygon on a tilted plane in 3D, far from the origin."""
    a, b = np.radians(35.0), np.radians(20.0)
    u = np.array([np.cos(a), np.sin(a), 0.0])
    w = np.array([-np.sin(a) * np.cos(b), np.cos(a) * np.cos(b), np.sin(b)])
    return np.array([1000.0, 2000.0, 50.0]) + xy[:, :1] * u + xy[:, 1:2] * w


def _inside(p: np.ndarray, poly: np.ndarray) -> bool:
    """Even-odd point in polygon (points on the boundary are not tested here)."""
    x, y = p
    inside = False
    for (x1, y1), (x2, y2) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _check_covers_l(faces: np.ndarray, xy: np.ndarray) -> None:
    """Triangles of the L (vertex ids into ``xy``): areas sum to the L's, and every
    triangle lies inside it (sample points strictly inside each triangle)."""
    t = xy[faces]
    e1, e2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    areas = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    assert areas.sum() == pytest.approx(L_AREA, abs=1e-9)
    for tri in t:
        for w in ((1, 1, 1), (4, 1, 1), (1, 4, 1), (1, 1, 4)):
            p = (np.array(w, float) / sum(w)) @ tri
            assert _inside(p, L_2D), f"triangle {tri.tolist()} leaves the polygon"


def test_fan_of_the_l_would_be_wrong():
    """The test polygon really is one a fan gets wrong (guards the test itself)."""
    fan = np.array([[0, k, k + 1] for k in range(1, len(L_2D) - 1)])
    with pytest.raises(AssertionError, match="4.0"):  # overlaps itself, leaves the L
        _check_covers_l(fan, L_2D)


def test_concave_polygon_on_a_tilted_plane():
    V = _tilted(L_2D)
    faces, face = triangulate_faces(V, np.arange(6), np.array([6]))
    assert len(faces) == 4 and (face == 0).all()
    _check_covers_l(faces, L_2D)
    # same orientation as the polygon (normals agree with its Newell normal)
    n = np.cross(V[faces[:, 1]] - V[faces[:, 0]], V[faces[:, 2]] - V[faces[:, 0]])
    newell = np.cross(V - V[0], np.roll(V, -1, axis=0) - V[0]).sum(axis=0)
    assert (n @ newell > 0).all()


def test_polygon_with_hole_and_degenerate_polygon():
    outer = np.array([(0, 0), (4, 0), (4, 4), (0, 4)], float)
    hole = np.array([(1, 1), (1, 3), (3, 3), (3, 1)], float)
    flat = np.array([(0, 0), (1, 0), (2, 0)], float)  # zero area
    xy = np.concatenate([outer, hole, flat])
    V = np.column_stack([xy, np.zeros(len(xy))])
    res = triangulate_polygons(V, np.arange(len(xy)), np.array([4, 4, 3]), np.array([2, 1]))
    t = xy[res.tris]
    e1, e2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    assert (0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])).sum() == \
        pytest.approx(16 - 4)
    assert (res.polygon == 0).all() and res.n_degenerate == 1
    res = triangulate_polygons(V, np.arange(len(xy)), np.array([4, 4, 3]), np.array([2, 1]),
                               earcut=None)
    assert res.earcut_missing


def test_triangles_and_convex_quads_unchanged():
    V = np.array([(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (2, 0, 0)], float)
    corners = np.array([0, 1, 2, 3, 1, 4, 2])
    faces, face = triangulate_faces(V, corners, np.array([4, 3]))
    assert faces.tolist() == [[0, 1, 2], [0, 2, 3], [1, 4, 2]]
    assert face.tolist() == [0, 0, 1]


# ---- the readers ----------------------------------------------------------------------


def _write_obj(path: Path, V: np.ndarray) -> Path:
    lines = [f"v {x!r} {y!r} {z!r}" for x, y, z in V.tolist()]
    lines += ["f 1 2 3 4 5 6", "v 10 0 0", "v 11 0 0", "v 11 1 0", "v 10 1 0", "f 7 8 9 10"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _write_ply(path: Path, V: np.ndarray) -> Path:
    head = ["ply", "format ascii 1.0", f"element vertex {len(V)}", "property double x",
            "property double y", "property double z", "element face 1",
            "property list uchar int vertex_indices", "end_header"]
    body = [f"{x!r} {y!r} {z!r}" for x, y, z in V.tolist()] + ["6 0 1 2 3 4 5"]
    path.write_text("\n".join(head + body) + "\n")
    return path


def _write_off(path: Path, V: np.ndarray) -> Path:
    body = ["OFF", f"{len(V)} 1 0"] + [f"{x!r} {y!r} {z!r}" for x, y, z in V.tolist()]
    path.write_text("\n".join(body + ["6 0 1 2 3 4 5"]) + "\n")
    return path


@pytest.mark.parametrize("writer", [_write_obj, _write_ply, _write_off],
                         ids=["obj", "ply", "off"])
def test_concave_l_face_in_mesh_files(tmp_path, writer):
    V = _tilted(L_2D)
    ext = writer.__name__.rsplit("_", 1)[1]
    mesh = loaders.read(writer(tmp_path / f"l.{ext}", V))
    xyz = mesh.vertices.astype(np.float64) + mesh.origin
    faces = mesh.faces
    if ext == "obj":  # the L plus a unit quad far away, fanned as before
        assert faces[-2:].tolist() == [[6, 7, 8], [6, 8, 9]]
        faces = faces[:-2]
    assert len(faces) == 4
    # vertex ids of the file are kept: map the triangles back to the 2D L
    assert np.allclose(xyz[:6], V, atol=1e-4)
    _check_covers_l(faces, L_2D)


def test_concave_surface_in_cityjson(tmp_path):
    """CityJSON uses the same triangulator (a concave roof surface)."""
    V = _tilted(L_2D)
    doc = {"type": "CityJSON", "version": "2.0",
           "transform": {"scale": [0.001, 0.001, 0.001], "translate": [0, 0, 0]},
           "CityObjects": {"b": {"type": "Building", "geometry": [
               {"type": "MultiSurface", "lod": "2", "boundaries": [[list(range(6))]]}]}},
           "vertices": np.round(V * 1000).astype(int).tolist()}
    p = tmp_path / "l.city.json"
    p.write_text(json.dumps(doc))
    mesh = loaders.read(p)
    xyz = mesh.vertices.astype(np.float64) + mesh.origin
    assert np.allclose(xyz, V, atol=2e-3)
    assert len(mesh.faces) == 4
    _check_covers_l(mesh.faces, L_2D)


# ---- concave polygons fanned from a reflex vertex ---------------------------------------


def _earcut_area(xy: np.ndarray) -> float:
    from mapbox_earcut import triangulate_float64

    t = xy[np.asarray(triangulate_float64(xy, np.array([len(xy)], np.uint32)),
                      np.int64).reshape(-1, 3)]
    e1, e2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    return float(0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]).sum())


def _check_cover(xy: np.ndarray, earcut="default") -> np.ndarray:
    """Triangulate the simple 2D polygon ``xy`` on a tilted plane and check that its
    triangles cover it exactly: every one has the polygon's winding, their areas add
    up to the polygon's (and to earcut's), and each lies inside the polygon."""
    V = _tilted(xy)
    kw = {} if earcut == "default" else {"earcut": earcut}
    res = triangulate_polygons(V, np.arange(len(xy)), np.array([len(xy)]), np.array([1]),
                               **kw)
    assert res.n_degenerate == 0 and (res.polygon == 0).all()
    t = xy[res.tris]
    e1, e2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    signed = 0.5 * (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    x, y = xy[:, 0], xy[:, 1]
    poly_signed = 0.5 * float((x * np.roll(y, -1) - np.roll(x, -1) * y).sum())
    scale = np.abs(xy).max() ** 2
    # the polygon's winding (up to the rounding of the tilted plane's coordinates)
    assert (signed * np.sign(poly_signed) > -1e-12 * scale).all()
    assert signed.sum() == pytest.approx(poly_signed, abs=1e-9 * scale)
    assert np.abs(signed).sum() == pytest.approx(_earcut_area(xy), abs=1e-9 * scale)
    for tri in t[np.abs(signed) > 1e-9 * scale]:  # (zero-area ones cover nothing)
        for w in ((1, 1, 1), (4, 1, 1), (1, 4, 1), (1, 1, 4)):
            p = (np.array(w, float) / sum(w)) @ tri
            assert _inside(p, xy), f"triangle {tri.tolist()} leaves the polygon"
    return res.tris


def _ring(xy: np.ndarray, start: int, reverse: bool) -> np.ndarray:
    xy = np.roll(xy, -start, axis=0)
    return xy[::-1].copy() if reverse else xy


def test_l_is_fanned_from_its_reflex_corner_without_earcut():
    def no_earcut(*args):
        raise AssertionError("earcut called for a polygon with one reflex corner")

    tris = _check_cover(L_2D, earcut=no_earcut)
    assert (tris == 1).any(axis=1).all()  # every triangle has the reflex corner (1, 1)
    V = _tilted(L_2D)
    res = triangulate_polygons(V, np.arange(6), np.array([6]), np.array([1]), earcut=None)
    assert not res.earcut_missing  # nothing was left to earcut
    _check_covers_l(res.tris, L_2D)


def test_dart_quad_fanned_from_its_reflex_corner():
    # reflex corner last: the fan from vertex 0 is wrong, the one from vertex 3 right
    xy = np.array([(0, 0), (2, 1), (0, 2), (0.5, 1)], float)
    tris = _check_cover(xy)
    assert tris.tolist() == [[3, 0, 1], [3, 1, 2]]


@st.composite
def _star_from_reflex_vertex(draw):
    """A polygon star-shaped from its vertex at the origin, which is a reflex vertex
    (the others span more than 180 degrees around it), starting anywhere, either way."""
    span = draw(st.integers(190, 350))
    k = draw(st.integers(3, 12))
    angles = sorted(draw(st.lists(st.integers(0, span), min_size=k, max_size=k,
                                  unique=True)))
    assume(angles[-1] - angles[0] > 180)
    # simple (consecutive vertices less than 180 degrees apart around the origin), and no
    # two vertices in line with the origin (a straight angle there)
    assume(max(np.diff(angles)) < 178)
    assume(not any(b - a == 180 for a in angles for b in angles))
    radii = draw(st.lists(st.integers(1, 50), min_size=k, max_size=k))
    a = np.radians(angles)
    xy = np.concatenate([[(0.0, 0.0)], np.column_stack([np.cos(a), np.sin(a)]) *
                         np.array(radii, float)[:, None]])
    return _ring(xy, draw(st.integers(0, k)), draw(st.booleans()))


@st.composite
def _l_or_u(draw):
    """An L (one reflex corner) or a U (two), of random sizes, starting anywhere."""
    w, h = draw(st.integers(2, 40)), draw(st.integers(2, 40))
    if draw(st.booleans()):  # L
        cx, cy = draw(st.integers(1, w - 1)), draw(st.integers(1, h - 1))
        xy = [(0, 0), (w, 0), (w, cy), (cx, cy), (cx, h), (0, h)]
    else:  # U: a notch from x0 to x1, down to y0
        x0 = draw(st.integers(1, w - 1))
        assume(x0 + 1 < w)
        x1 = draw(st.integers(x0 + 1, w - 1))
        y0 = draw(st.integers(1, h - 1))
        xy = [(0, 0), (w, 0), (w, h), (x1, h), (x1, y0), (x0, y0), (x0, h), (0, h)]
    xy = np.array(xy, float)
    return _ring(xy, draw(st.integers(0, len(xy) - 1)), draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(_star_from_reflex_vertex())
def test_star_shaped_from_a_reflex_vertex_covers_the_polygon(xy):
    _check_cover(xy)


@settings(max_examples=150, deadline=None)
@given(_l_or_u())
def test_l_and_u_shapes_cover_the_polygon(xy):
    def earcut(*args):
        calls.append(1)
        return default_earcut()(*args)

    calls: list = []
    tris = _check_cover(xy, earcut=earcut)
    if len(xy) == 6:  # an L is a fan: from vertex 0 when it is valid, else a reflex one
        assert not calls and len(tris) == 4
        assert len(set.intersection(*(set(t) for t in tris.tolist()))) >= 1
