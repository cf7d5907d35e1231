"""loaders.writers.tiles3d: the point octree, the mesh split, GLB content and placement.

GLB tiles are read back with pygltflib (not the writer's code); positions are taken back to
the scene CRS with pyproj through the tileset's own root transform.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import laspy
import numpy as np
import pygltflib
import pytest
from pyproj import CRS, Transformer

from loaders.types import Feature, FeatureMesh, PointCloud, split_origin
from loaders.writers import tiles3d as w

RD = CRS.from_epsg(28992)  # Amersfoort / RD New: grid north is not true north


def _accessor(gltf, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    bv = gltf.bufferViews[acc.bufferView]
    n = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc.type]
    dt = {5126: np.float32, 5125: np.uint32, 5123: np.uint16, 5121: np.uint8}[acc.componentType]
    item = np.dtype(dt).itemsize * n
    stride = bv.byteStride or item
    raw = np.frombuffer(gltf.binary_blob(), np.uint8, acc.count * stride - (stride - item)
                        if acc.count else 0, (bv.byteOffset or 0) + (acc.byteOffset or 0))
    rows = np.lib.stride_tricks.as_strided(raw, (acc.count, item), (stride, 1)) if acc.count \
        else np.zeros((0, item), np.uint8)
    return np.ascontiguousarray(rows).view(dt).reshape(acc.count, n)


def _walk(tile: dict, parent_error: float | None = None):
    yield tile, parent_error
    for c in tile.get("children", []):
        yield from _walk(c, tile["geometricError"])


def _read(folder: Path) -> tuple[dict, list[tuple[dict, pygltflib.GLTF2]]]:
    doc = json.loads((folder / "tileset.json").read_text())
    out = []
    for tile, _ in _walk(doc["root"]):
        if "content" in tile:
            out.append((tile, pygltflib.GLTF2.load_binary(folder / tile["content"]["uri"])))
    return doc, out


def _enu_positions(gltf) -> np.ndarray:
    """Content positions in the tileset's z-up frame (node translation, y-up undone)."""
    prim = gltf.meshes[0].primitives[0]
    p = _accessor(gltf, prim.attributes.POSITION).astype(np.float64)
    p += np.asarray(gltf.nodes[0].translation, np.float64)
    return np.column_stack([p[:, 0], -p[:, 2], p[:, 1]])


def _to_scene(doc: dict, enu: np.ndarray, crs) -> np.ndarray:
    m = np.asarray(doc["root"]["transform"], np.float64).reshape(4, 4).T  # column-major
    ecef = enu @ m[:3, :3].T + m[:3, 3]
    t = Transformer.from_crs("EPSG:4978", crs.to_3d(), always_xy=True)
    return np.column_stack(t.transform(ecef[:, 0], ecef[:, 1], ecef[:, 2]))


def _cloud(n: int, seed: int = 1) -> PointCloud:
    rng = np.random.default_rng(seed)
    xyz = np.column_stack([rng.uniform(0, 800, n), rng.uniform(0, 500, n),
                           rng.uniform(0, 30, n)]) + [85000.0, 446000.0, 0.0]
    local, origin = split_origin(xyz)
    ident = rng.permutation(n)  # (classification, intensity) names each point uniquely
    return PointCloud(local, origin, {
        "rgb": rng.integers(0, 256, (n, 3), dtype=np.uint8),
        "intensity": (ident % 65536).astype(np.uint16),
        "classification": (ident // 65536).astype(np.uint8)}, crs=RD)


def test_points_full_resolution_every_point_once_with_attributes(tmp_path):
    cloud = _cloud(60_000)
    frame = w.EcefFrame(RD, cloud.origin)
    # bucket_points below the count: the spill-to-file path is exercised too
    tree = w.write_point_tiles(w.PointChunks.from_cloud(cloud, chunk_points=7000), tmp_path,
                               frame, leaf_points=2000, bucket_points=15_000, grid=32)
    assert tree.counts["points"] == 60_000 and tree.counts["tiles"] > 8
    w.write_tileset(tmp_path / "tileset.json", [(tree, "")], frame)
    doc, tiles = _read(tmp_path)
    assert doc["asset"]["version"] == "1.1"
    pos, rgb, inten, cls = [], [], [], []
    for tile, gltf in tiles:
        prim = gltf.meshes[0].primitives[0]
        assert prim.mode == 0 and tile["refine"] == "ADD"
        enu = _enu_positions(gltf)
        c, h = np.asarray(tile["boundingVolume"]["box"][:3]), \
            np.abs(np.asarray(tile["boundingVolume"]["box"][3:]).reshape(3, 3)).sum(axis=0)
        assert np.all(enu >= c - h - 1e-6) and np.all(enu <= c + h + 1e-6)
        pos.append(enu)
        rgb.append(_accessor(gltf, prim.attributes.COLOR_0)[:, :3])
        inten.append(_accessor(gltf, prim.attributes._INTENSITY)[:, 0])
        cls.append(_accessor(gltf, prim.attributes._CLASSIFICATION)[:, 0])
    scene = _to_scene(doc, np.concatenate(pos), RD)
    src = cloud.xyz()
    a = cloud.attributes
    ident = np.concatenate(cls).astype(np.int64) * 65536 + np.concatenate(inten).astype(np.int64)
    o1 = np.argsort(ident)
    o2 = np.argsort(a["classification"].astype(np.int64) * 65536 + a["intensity"])
    assert len(scene) == len(src)
    assert np.array_equal(ident[o1], np.arange(len(src)))  # every point exactly once
    np.testing.assert_allclose(scene[o1], src[o2], atol=0.002)  # every point, once, in place
    np.testing.assert_array_equal(np.concatenate(rgb)[o1], cloud.attributes["rgb"][o2])
    np.testing.assert_array_equal(np.concatenate(inten)[o1], cloud.attributes["intensity"][o2])
    np.testing.assert_array_equal(np.concatenate(cls)[o1],
                                  cloud.attributes["classification"][o2])


def test_point_hierarchy_errors_decrease_and_boxes_nest(tmp_path):
    cloud = _cloud(40_000, seed=2)
    frame = w.EcefFrame(RD, cloud.origin)
    tree = w.write_point_tiles(w.PointChunks.from_cloud(cloud), tmp_path, frame,
                               leaf_points=1500, grid=16)
    doc = w.write_tileset(tmp_path / "tileset.json", [(tree, "")], frame)
    depth = 0
    for tile, parent_error in _walk(doc["root"]):
        if parent_error is not None:
            assert tile["geometricError"] < parent_error
        b = np.asarray(tile["boundingVolume"]["box"])
        for child in tile.get("children", []):
            cb = np.asarray(child["boundingVolume"]["box"])
            assert np.all(np.abs(cb[:3] - b[:3]) + cb[[3, 7, 11]] <= b[[3, 7, 11]] + 1e-6)
        if "children" not in tile:
            assert tile["geometricError"] == 0
    for tile, _ in _walk(doc["root"]):
        depth = max(depth, len(tile.get("content", {}).get("uri", "r")) - 5)
    assert depth >= 2  # a real hierarchy, not one flat level
    # the root holds a coarse but whole-area sample, not the first points of the input
    root_uri = doc["root"]["children"][0]["content"]["uri"]
    gltf = pygltflib.GLTF2.load_binary(tmp_path / root_uri)
    enu = _enu_positions(gltf)
    assert np.ptp(enu[:, 0]) > 0.8 * np.ptp(frame.to_local(cloud.xyz())[:, 0])


def test_root_transform_places_the_origin_in_ecef_with_enu_axes():
    origin = np.array([85000.0, 446000.0, 10.0])
    frame = w.EcefFrame(RD, origin)
    m = np.asarray(frame.transform_list()).reshape(4, 4).T
    to_ecef = Transformer.from_crs(RD.to_3d(), "EPSG:4978", always_xy=True)
    np.testing.assert_allclose(m[:3, 3], to_ecef.transform(*origin), atol=1e-6)
    # local +z is the ellipsoid normal; local +y points north (towards the pole)
    up, north = m[:3, 2], m[:3, 1]
    assert np.dot(up, m[:3, 3] / np.linalg.norm(m[:3, 3])) > 0.99
    assert north[2] > 0
    # exact, not "projected = ENU": a point 1 km grid-east round-trips to the millimetre and
    # is not 1 km due east in the local frame (grid convergence and scale)
    p = origin + [1000.0, 0, 0]
    enu = frame.to_local(p[None])[0]
    np.testing.assert_allclose(frame.to_scene(enu[None])[0], p, atol=1e-3)
    assert abs(enu[1]) > 0.1  # RD grid north differs from true north here


def test_memory_stays_bounded_streaming_a_las_file(tmp_path):
    n = 3_000_000
    path = tmp_path / "big.las"
    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = [0.001, 0.001, 0.001]
    header.offsets = [85000.0, 446000.0, 0.0]
    header.add_crs(RD)
    rng = np.random.default_rng(3)
    with laspy.open(path, mode="w", header=header) as f:
        for _ in range(n // 500_000):
            rec = laspy.ScaleAwarePointRecord.zeros(500_000, header=header)
            rec.x = rng.uniform(85000, 86000, 500_000)
            rec.y = rng.uniform(446000, 446800, 500_000)
            rec.z = rng.uniform(0, 3, 500_000)  # terrain-like: a surface, as LiDAR is
            rec.intensity = rng.integers(0, 1000, 500_000)
            f.write_points(rec)
    chunks = w.PointChunks.from_las(path, chunk_points=50_000)
    assert chunks.count == n and chunks.crs is not None
    frame = w.EcefFrame(RD, [85500.0, 446400.0, 0.0])
    in_ram = n * w.POINT_DTYPE.itemsize  # the whole cloud as the octree's records
    tracemalloc.start()
    try:
        tree = w.write_point_tiles(chunks, tmp_path / "out", frame, leaf_points=20_000,
                                   bucket_points=150_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tree.counts["points"] == n
    assert peak < in_ram / 4, (peak, in_ram)


def _city(n_buildings: int = 60) -> FeatureMesh:
    verts, faces, face_feature, features = [], [], [], []
    cube_f = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
                       [1, 2, 6], [1, 6, 5], [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7]])
    for i in range(n_buildings):
        x, y = 85000.0 + (i % 10) * 30, 446000.0 + (i // 10) * 30
        h = 5.0 + i
        v = np.array([[x, y, 0], [x + 10, y, 0], [x + 10, y + 10, 0], [x, y + 10, 0],
                      [x, y, h], [x + 10, y, h], [x + 10, y + 10, h], [x, y + 10, h]])
        faces.append(cube_f + 8 * i)
        verts.append(v)
        face_feature += [i] * 12
        features.append(Feature(f"b{i}", "Building", name=f"huis {i}",
                                attributes={"height": h, "名称": f"楼{i}"}))
    local, origin = split_origin(np.concatenate(verts))
    return FeatureMesh(local, origin, np.concatenate(faces).astype(np.int32), crs=RD,
                       features=features, face_feature=np.array(face_feature, np.int32),
                       model_format="CityJSON")


def test_city_tiles_keep_objects_whole_with_ids_and_attributes(tmp_path):
    city = _city()
    frame = w.EcefFrame(RD, city.origin)
    tree = w.write_mesh_tiles(city, tmp_path, frame, leaf_triangles=100)
    doc = w.write_tileset(tmp_path / "tileset.json", [(tree, "")], frame)
    assert tree.counts["triangles"] == city.triangle_count and tree.counts["tiles"] >= 8
    doc, tiles = _read(tmp_path)
    seen: dict[str, int] = {}
    all_pos = []
    for tile, gltf in tiles:
        assert tile["refine"] == "REPLACE"
        prim = gltf.meshes[0].primitives[0]
        ext = prim.extensions["EXT_mesh_features"]["featureIds"][0]
        fid = _accessor(gltf, prim.attributes._FEATURE_ID_0)[:, 0].astype(int)
        idx = _accessor(gltf, prim.indices)[:, 0].reshape(-1, 3)
        table = gltf.extensions["EXT_structural_metadata"]["propertyTables"][0]
        assert table["count"] == ext["featureCount"]
        from tests.heritage.exhibit_support import property_table

        cols = property_table(gltf)
        props = gltf.extensions["EXT_structural_metadata"]["schema"]["classes"]["object"][
            "properties"]
        by_name = {props[k].get("name", k): v for k, v in cols.items()}
        enu = _enu_positions(gltf)
        all_pos.append(enu)
        for f in range(table["count"]):
            fid_id = by_name["id"][f]
            source = city.feature(fid_id)
            seen[fid_id] = seen.get(fid_id, 0) + int(np.sum(np.all(fid[idx] == f, axis=1)))
            assert by_name["name"][f] == source.name
            assert by_name["名称"][f] == source.attributes["名称"]
            assert float(by_name["height"][f]) == source.attributes["height"]
        # each triangle's three vertices belong to one object
        assert np.all(fid[idx][:, 0] == fid[idx][:, 1])
    assert seen == {f.id: 12 for f in city.features}  # every object whole, in one tile
    scene = _to_scene(doc, np.concatenate(all_pos), RD)
    lo, hi = city.bounds
    np.testing.assert_allclose(scene.min(axis=0), lo, atol=0.002)
    np.testing.assert_allclose(scene.max(axis=0), hi, atol=0.002)


def test_glb_tiles_pass_the_gltf_validator(tmp_path):
    from tests.heritage.exhibit_support import glb_errors, validate_glb

    cloud = _cloud(5000)
    frame = w.EcefFrame(RD, cloud.origin)
    w.write_point_tiles(w.PointChunks.from_cloud(cloud), tmp_path / "p", frame,
                        leaf_points=100_000)
    w.write_mesh_tiles(_city(5), tmp_path / "m", frame)
    for glb in [*(tmp_path / "p").glob("*.glb"), *(tmp_path / "m").glob("*.glb")]:
        report = validate_glb(glb)
        assert glb_errors(report) == [], (glb.name, glb_errors(report))


def test_without_crs_no_transform_and_scene_coordinates_minus_origin(tmp_path):
    cloud = _cloud(3000)
    cloud.crs = None
    frame = w.EcefFrame(None, cloud.origin)
    tree = w.write_point_tiles(w.PointChunks.from_cloud(cloud), tmp_path, frame)
    doc = w.write_tileset(tmp_path / "tileset.json", [(tree, "")], frame)
    assert "transform" not in doc["root"]
    _, tiles = _read(tmp_path)
    enu = np.concatenate([_enu_positions(g) for _, g in tiles])
    np.testing.assert_allclose(enu.min(axis=0), cloud.bounds[0] - cloud.origin, atol=0.002)


def test_cancel_from_progress_stops_the_tiling(tmp_path):
    cloud = _cloud(20_000)
    frame = w.EcefFrame(RD, cloud.origin)

    class Stop(Exception):
        pass

    def progress(fraction, message):
        if fraction > 0.4:
            raise Stop

    with pytest.raises(Stop):
        w.write_point_tiles(w.PointChunks.from_cloud(cloud, chunk_points=2000), tmp_path,
                            frame, leaf_points=1000, progress=progress)


def test_attributes_option_chooses_what_point_tiles_carry(tmp_path):
    from tests.heritage.exhibit_support import glb_errors, validate_glb

    cloud = _cloud(20_000, seed=5)
    frame = w.EcefFrame(RD, cloud.origin)
    sizes = {}
    for key, attrs, want in [("all", None, {"COLOR_0", "_INTENSITY", "_CLASSIFICATION"}),
                             ("rgb", ("rgb",), {"COLOR_0"}),
                             ("ic", "intensity, classification",
                              {"_INTENSITY", "_CLASSIFICATION"}),
                             ("none", (), set())]:
        tree = w.write_point_tiles(w.PointChunks.from_cloud(cloud), tmp_path / key, frame,
                                   leaf_points=4000, grid=32, attributes=attrs)
        assert tree.counts["points"] == 20_000
        w.write_tileset(tmp_path / key / "tileset.json", [(tree, "")], frame)
        _, tiles = _read(tmp_path / key)
        n = 0
        for _, gltf in tiles:
            prim = gltf.meshes[0].primitives[0]
            got = {k for k, v in vars(prim.attributes).items() if v is not None}
            assert got == {"POSITION"} | want, key
            assert ("EXT_structural_metadata" in (gltf.extensionsUsed or [])) == \
                bool(want - {"COLOR_0"})
            n += gltf.accessors[prim.attributes.POSITION].count
            if "COLOR_0" in want:  # the chosen attribute still holds the right values
                assert _accessor(gltf, prim.attributes.COLOR_0).shape[1] == 4
        assert n == 20_000
        sizes[key] = tree.counts["bytes"]
        glb = next((tmp_path / key).glob("*.glb"))
        assert glb_errors(validate_glb(glb)) == [], key
    # 12 B of position + 4 B per attribute a point (and a little JSON per tile)
    per_point = {k: v / 20_000 for k, v in sizes.items()}
    assert 12 <= per_point["none"] < 13
    assert 16 <= per_point["rgb"] < 17
    assert 20 <= per_point["ic"] < 21
    assert 24 <= per_point["all"] < 25
    with pytest.raises(ValueError, match="'normals'.*rgb, intensity, classification"):
        w.write_point_tiles(w.PointChunks.from_cloud(cloud), tmp_path / "bad", frame,
                            attributes=["rgb", "normals"])
