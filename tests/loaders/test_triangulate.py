"""One polygon triangulator (loaders.triangulate) for OBJ, PLY, OFF and CityJSON: concave
faces are triangulated inside the polygon; triangles and convex quads are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders.triangulate import triangulate_faces, triangulate_polygons

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
