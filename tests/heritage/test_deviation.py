"""Scan vs model (heritage.monitoring.deviation) on co-registered real Delft data: the AHN3
crop against the CityJSON LOD1 model and the 3dfier OBJ, checked against a brute force
closest point over every triangle (trimesh.triangles.closest_point)."""

from __future__ import annotations

import csv
import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from heritage.monitoring.deviation import (
    ATTRIBUTE,
    DISTANCE_FIELD,
    DeviationCancelled,
    attach,
    deviation,
    model_objects,
    summarise,
)
from loaders import read

DATA = Path("/work/shared/data")
SCAN = DATA / "pointclouds" / "ahn3_cropped_2.laz"
CITY = DATA / "citymodels" / "delft.city.json"
OBJ = DATA / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def _read(path: Path):
    return read(path)


def _scan():
    return _read(SCAN)


def _brute_force(xyz: np.ndarray, vertices: np.ndarray, faces: np.ndarray):
    """Signed distance and nearest triangle of each point by testing every triangle, and
    the gap to the second nearest object's triangle (ties are ambiguous)."""
    import trimesh

    tris = vertices[faces]
    normals = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    out_d, out_t, all_d, signs = [], [], [], []
    for p in xyz:
        q = trimesh.triangles.closest_point(tris, np.repeat(p[None], len(tris), axis=0))
        dist = np.linalg.norm(p - q, axis=1)
        t = int(np.argmin(dist))
        side = np.einsum("ij,ij->i", p - q, normals)
        out_d.append(-dist[t] if side[t] < 0 else dist[t])
        out_t.append(t)
        all_d.append(dist)
        # at an edge or corner several triangles are nearest: each one's side is a sign
        tied = dist <= dist[t] + 1e-3
        signs.append(set(np.where(side[tied] < 0, -1.0, 1.0).tolist()))
    return np.array(out_d), np.array(out_t), all_d, signs


@pytest.mark.parametrize("model_path", [CITY, OBJ], ids=["cityjson", "obj"])
def test_distances_and_summary_equal_brute_force(model_path):
    scan, model = _scan(), _read(model_path)
    rng = np.random.default_rng(18)
    pick = rng.choice(scan.point_count, 60, replace=False)
    xyz = scan.xyz()[pick]
    result = deviation(xyz, model, tolerance=0.3, max_distance=5.0)
    objects = model_objects(model)
    # brute force in float64 on coordinates centred like the model (no float32 anywhere)
    centre = objects.vertices.mean(axis=0)
    d_ref, t_ref, all_d, signs = _brute_force(xyz - centre, objects.vertices - centre,
                                              objects.faces)
    np.testing.assert_allclose(np.abs(result.distance), np.abs(d_ref), atol=2e-3)
    for i in np.flatnonzero(np.abs(d_ref) > 0.01):  # on the surface the sign is arbitrary
        assert np.sign(result.distance[i]) in signs[i], i
    # the object: the brute-force nearest one, unless another object is as near (a wall
    # meeting the terrain)
    obj_ref = objects.face_object[t_ref]
    for i in range(len(xyz)):
        others = all_d[i][objects.face_object != obj_ref[i]]
        gap = (others.min() if len(others) else np.inf) - abs(d_ref[i])
        expected = obj_ref[i] if abs(d_ref[i]) <= 5.0 else -1
        if gap > 2e-3:
            assert result.object_index[i] == expected, i
    # the per-object numbers are those of the points assigned to them
    ref = {o.key: o for o in summarise(d_ref, result.object_index, objects.keys,
                                       objects.types, 0.3)}
    assert set(ref) == set(result.by_key())
    for key, o in result.by_key().items():
        r = ref[key]
        assert o.points == r.points
        mine = np.abs(d_ref[result.object_index == objects.keys.index(key)])
        assert o.mean_abs == pytest.approx(mine.mean(), abs=2e-3)
        assert o.max_abs == pytest.approx(mine.max(), abs=2e-3)
        assert o.median_abs == pytest.approx(np.median(mine), abs=2e-3)
        assert o.rms == pytest.approx(np.sqrt((mine ** 2).mean()), abs=2e-3)
        assert o.beyond == pytest.approx((mine > 0.3).mean())
        assert o.mean == pytest.approx(r.mean, abs=2e-3)


def test_city_model_per_building_on_the_roofs_the_scan_sees():
    scan, model = _scan(), _read(CITY)
    cls = scan.attributes["classification"]
    roofs = deviation(scan.xyz()[cls == 6], model, tolerance=0.5, max_distance=5.0)
    buildings = [o for o in roofs.objects if o.type == "Building" and o.points >= 150]
    assert len(buildings) >= 6
    for o in buildings:
        # the LOD1 blocks sit under the AHN3 roofs (pitched roofs above a flat block
        # height): scan above the model by a few metres at most, never below on average
        assert 0.5 < o.mean < 5.0, o
        assert o.mean_abs < 5.0 and o.max_abs <= 5.0
    ground = deviation(scan.xyz()[cls == 2], model, tolerance=0.3, max_distance=5.0)
    flat = [o for o in ground.objects if o.type in ("Road", "LandUse") and o.points >= 500]
    assert len(flat) >= 5
    assert np.median([o.median_abs for o in flat]) < 0.1


def test_obj_roofs_close_and_per_part():
    scan, model = _scan(), _read(OBJ)
    cls = scan.attributes["classification"]
    result = deviation(scan.xyz()[cls == 6], model, tolerance=0.5, max_distance=5.0)
    by_key = result.by_key()
    assert by_key["Building"].points > 5000
    assert by_key["Building"].median_abs < 1.0
    assert by_key["Building"].beyond < 0.8
    # most building points are on buildings, not terrain or water
    assert by_key["Building"].points + by_key["BuildingWall"].points > 0.8 * result.assigned


def test_layer_transforms_put_both_in_scene_coordinates():
    scan, model = _scan(), _read(CITY)
    xyz = scan.xyz()[::200]
    base = deviation(xyz, model)
    up = np.eye(4)
    up[:3, 3] = (0.0, 0.0, 1.0)
    moved_model = deviation(xyz, model, model_transform=up)
    down = np.eye(4)
    down[:3, 3] = (0.0, 0.0, -1.0)
    moved_scan = deviation(xyz, model, scan_transform=down)
    np.testing.assert_allclose(moved_model.distance, moved_scan.distance, atol=1e-3)
    assert not np.allclose(moved_model.distance, base.distance, atol=0.1)
    # a point 1 m higher than a roof point on a flat roof: 1 m farther
    both = deviation(xyz, model, scan_transform=up, model_transform=up)
    np.testing.assert_allclose(both.distance, base.distance, atol=1e-3)


def test_far_points_are_measured_but_not_assigned():
    model = _read(CITY)
    lo, hi = model.bounds
    xyz = np.array([(lo + hi) / 2 + (0, 0, 500.0)])
    result = deviation(xyz, model, max_distance=5.0)
    assert abs(result.distance[0]) > 400 and result.object_index[0] == -1
    assert result.objects == [] and result.warnings


def test_attach_csv_and_cancel(tmp_path):
    scan, model = _read(SCAN), read(CITY)  # a private copy of the model: attributes change
    cloud = read(SCAN)
    result = deviation(scan.xyz(), model, tolerance=0.2)
    attach(result, cloud, model)
    assert cloud.attributes[DISTANCE_FIELD].dtype == np.float32
    kept = cloud.attributes[DISTANCE_FIELD]
    assert len(kept) == cloud.point_count
    near = result.object_index >= 0
    assert 0 < near.sum() < len(near)
    np.testing.assert_allclose(kept[near], result.distance[near], rtol=1e-6)
    assert np.isnan(kept[~near]).all()  # beyond the maximum distance: no colour
    first = result.objects[0]
    feature = model.feature(first.key)
    assert feature.attributes[ATTRIBUTE]["points"] == first.points
    assert feature.attributes[ATTRIBUTE]["beyond"] == pytest.approx(first.beyond, abs=1e-4)
    path = result.write_csv(tmp_path / "dev.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == len(result.objects)
    assert rows[0]["object"] == first.key and int(rows[0]["points"]) == first.points
    assert float(rows[0]["rms"]) == pytest.approx(first.rms, abs=1e-4)
    with pytest.raises(DeviationCancelled):
        deviation(scan.xyz(), model, cancel=lambda: True)
    with pytest.raises(ValueError):
        deviation(scan.xyz(), model, tolerance=-1)


def test_cli_writes_csv_and_laz(tmp_path):
    import laspy

    out = tmp_path / "dev.csv"
    laz = tmp_path / "scan_dev.laz"
    proc = subprocess.run([sys.executable, "-m", "viewer.cli", "deviation", str(SCAN), str(CITY),
                           "--tolerance", "0.5", "-o", str(out), "--laz", str(laz)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert any(r["type"] == "Building" for r in rows)
    data = laspy.read(str(laz))
    src = laspy.read(str(SCAN))
    assert len(data.points) == len(src.points)
    d = np.asarray(data[DISTANCE_FIELD])
    ref = deviation(_scan().xyz(), _read(CITY), tolerance=0.5).distance
    # the LAS coordinates differ from the viewer's float32 ones by micrometres: a point
    # almost as near to two faces may take the other (and the other face's side)
    gap = np.abs(np.abs(d) - np.abs(ref))
    assert (gap < 1e-4).mean() > 0.9999 and gap.max() < 0.05
    assert (np.sign(d) == np.sign(ref)).mean() > 0.99
    np.testing.assert_array_equal(np.asarray(data.classification), np.asarray(src.classification))
    assert "Building" in proc.stderr and str(out) in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "viewer.cli", "deviation", str(SCAN),
                          str(tmp_path / "missing.obj"), "-o", str(tmp_path / "x.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "missing.obj" in bad.stderr


def test_ifc_points_offset_from_their_element_by_a_known_distance():
    """Points on an IFC model's element faces moved 2 cm off along the face: every
    element measures 2 cm (a wall, a slab, a window are objects of their own)."""
    model = read(DATA / "bim" / "AC20-FZK-Haus.ifc")
    objects = model_objects(model)
    v, f = objects.vertices, objects.faces
    tri = v[f]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(normal, axis=1)
    rng = np.random.default_rng(7)
    pick = rng.choice(np.flatnonzero(area > 0.05), 3000, replace=True)
    r1, r2 = rng.random(len(pick)), rng.random(len(pick))
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    t = tri[pick]
    # inside the triangle, away from its edges (the centroid pulled in)
    on = (t[:, 0] + (t[:, 1] - t[:, 0]) * r1[:, None] + (t[:, 2] - t[:, 0]) * r2[:, None])
    on = on * 0.8 + t.mean(axis=1) * 0.2
    xyz = on + normal[pick] / area[pick][:, None] * 0.02
    result = deviation(xyz, model, tolerance=0.01, max_distance=1.0)
    # nothing of the model is nearer than 2 cm except where two elements touch
    near = np.abs(result.distance) < 0.02 - 1e-4
    assert near.mean() < 0.25  # openings, sills and slabs meet walls: ~18 % here
    good = ~near
    np.testing.assert_allclose(np.abs(result.distance[good]), 0.02, atol=1e-4)
    # + in front of the face; a face doubled back to back (or a 4 cm thin element)
    # is as near from behind
    assert (result.distance[good] > 0).mean() > 0.85
    same = result.object_index[good] == objects.face_object[pick][good]
    assert same.mean() > 0.8  # the rest: a coincident face of another element (a tie)
    walls = [o for o in result.objects if o.type.startswith("IfcWall")]
    assert len(walls) >= 10
    # 2 cm > the 1 cm tolerance: beyond it, except where a wall meets a slab or a window
    assert np.median([o.beyond for o in walls]) > 0.9
    assert min(o.beyond for o in walls) > 0.7
    for o in walls:
        assert o.max_abs == pytest.approx(0.02, abs=1e-3)
