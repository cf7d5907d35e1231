"""loaders.writers.glb: plain data -> GLB, judged by the Khronos validator and re-read by
pygltflib and trimesh (not by RealScene's own glTF reader)."""

from __future__ import annotations

import numpy as np
import pygltflib
import pytest
import trimesh

from loaders.types import Feature, FeatureMesh, Material, Mesh, MeshPart, PointCloud
from loaders.writers.glb import Z_UP_TO_Y_UP, GlbLayer, GlbMarker, write_glb
from tests.heritage.exhibit_support import (
    accessor_array,
    glb_errors,
    gltf_nodes_world,
    gltf_scene_points,
    property_table,
    validate_glb,
)

FAR = np.array([85_123.456, 447_654.321, 12.5])  # RD New-sized coordinates


def _textured_mesh() -> Mesh:
    v = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0],
                  [0, 0, 5], [10, 0, 5]], np.float32)
    f = np.array([[0, 1, 2], [0, 2, 3], [0, 1, 5], [0, 5, 4]], np.int32)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.25], [1, 0.25]], np.float32)
    tex = np.zeros((4, 4, 3), np.uint8)
    tex[:2] = (255, 0, 0)  # top rows red
    parts = [MeshPart("floor", 0, 2, Material("floor", (1, 1, 1, 1), texture=tex)),
             MeshPart("wall", 2, 4, Material("wall", (0.2, 0.4, 0.6, 1.0)))]
    return Mesh(vertices=v, origin=FAR.copy(), faces=f, uvs=uv, parts=parts)


def _city() -> FeatureMesh:
    # two houses sharing the vertices 1 and 2 of their common wall
    v = np.array([[0, 0, 0], [5, 0, 0], [5, 5, 0], [0, 5, 0], [10, 0, 0], [10, 5, 0]],
                 np.float32)
    f = np.array([[0, 1, 2], [0, 2, 3], [1, 4, 5], [1, 5, 2]], np.int32)
    feats = [Feature("NL.IMBAG.1", "Building", attributes={"yearOfConstruction": 1650,
                                                           "名称": "老屋"}),
             Feature("NL.IMBAG.2", "Building", attributes={"yearOfConstruction": 1901})]
    return FeatureMesh(vertices=v, origin=FAR + 3.0, faces=f, features=feats,
                       face_feature=np.array([0, 0, 1, 1], np.int32), model_format="CityJSON")


def _cloud(n: int = 1000) -> PointCloud:
    rng = np.random.default_rng(1)
    pos = rng.uniform(-50, 50, (n, 3)).astype(np.float32)
    rgb = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    return PointCloud(positions=pos, origin=FAR - 7.0, attributes={"rgb": rgb})


@pytest.fixture
def written(tmp_path):
    path = tmp_path / "t.glb"
    counts = write_glb(path, [GlbLayer("mesh", _textured_mesh()), GlbLayer("scan", _cloud()),
                              GlbLayer("city", _city(), opacity=0.5)],
                       [GlbMarker("hotspot_a", FAR + [1.0, 2.0, 3.0], {"title": "裂缝"})],
                       origin=FAR.round(), crs="EPSG:28992", title="test")
    return path, counts


def test_counts_and_validator(written):
    path, counts = written
    assert counts["points"] == 1000 and counts["triangles"] == 8
    assert counts["features"] == 2 and counts["markers"] == 1
    report = validate_glb(path)
    assert glb_errors(report) == []
    assert report["issues"]["numWarnings"] == 0, report["issues"]["messages"]


def test_positions_back_in_scene_crs_to_a_millimetre(written):
    path, _ = written
    g = pygltflib.GLTF2().load(str(path))
    assert g.asset.extras["realscene"]["crs"] == "EPSG:28992"
    assert g.asset.extras["realscene"]["up"] == "Z"
    assert g.nodes[g.scenes[0].nodes[0]].matrix == Z_UP_TO_Y_UP
    got = gltf_scene_points(g)
    np.testing.assert_allclose(np.sort(got["mesh"]["xyz"], axis=0)[[0, -1]],
                               np.array(_textured_mesh().bounds), atol=1e-3)
    np.testing.assert_allclose(got["scan"]["xyz"].min(axis=0), _cloud().bounds[0], atol=1e-3)
    np.testing.assert_allclose(got["scan"]["xyz"].max(axis=0), _cloud().bounds[1], atol=1e-3)
    np.testing.assert_allclose(got["city"]["xyz"].min(axis=0), _city().bounds[0], atol=1e-3)
    assert got["scan"]["points"] == 1000 and got["mesh"]["triangles"] == 4
    # the hotspot is where it was put
    np.testing.assert_allclose(gltf_nodes_world(g)["hotspot_a"], FAR + [1, 2, 3], atol=1e-3)
    assert g.nodes[[n.name for n in g.nodes].index("hotspot_a")].extras == {"title": "裂缝"}


def test_z_up_becomes_y_up(written):
    """Raw glTF coordinates: the scene's up (z) is glTF's +Y, north (y) is glTF's -Z."""
    path, _ = written
    scene = trimesh.load(str(path), process=False)
    transform, gname = scene.graph["city"]
    city = scene.geometry[gname]
    pts = trimesh.transform_points(city.vertices, transform)
    local = _city().xyz() - FAR.round()
    np.testing.assert_allclose(pts[:, 1].min(), local[:, 2].min(), atol=1e-3)
    np.testing.assert_allclose(pts[:, 2].min(), -local[:, 1].max(), atol=1e-3)


def test_trimesh_reads_the_same_counts_and_bounds(written):
    path, _ = written
    scene = trimesh.load(str(path), process=False)
    tris = pts = 0
    los, his = [], []
    for node in scene.graph.nodes_geometry:
        transform, gname = scene.graph[node]
        g = scene.geometry[gname]
        v = trimesh.transform_points(np.asarray(g.vertices), transform)
        los.append(v.min(axis=0))
        his.append(v.max(axis=0))
        if isinstance(g, trimesh.PointCloud):
            pts += len(g.vertices)
        else:
            tris += len(g.faces)
    assert (pts, tris) == (1000, 8)
    # back from glTF Y-up to the scene's Z-up: scene = (x, -z, y)
    lo, hi = np.min(los, axis=0), np.max(his, axis=0)
    scene_lo = np.array([lo[0], -hi[2], lo[1]]) + FAR.round()
    want_lo = np.min([_textured_mesh().bounds[0], _cloud().bounds[0], _city().bounds[0]], 0)
    np.testing.assert_allclose(scene_lo, want_lo, atol=1e-3)


def test_points_keep_their_colours(written):
    path, _ = written
    g = pygltflib.GLTF2().load(str(path))
    prim = next(m for m in g.meshes if m.name == "scan").primitives[0]
    assert prim.mode == 0
    acc = g.accessors[prim.attributes.COLOR_0]
    assert acc.normalized and acc.componentType == 5121 and acc.type == "VEC4"
    np.testing.assert_array_equal(accessor_array(g, prim.attributes.COLOR_0)[:, :3],
                                  _cloud().attributes["rgb"])


def test_texture_and_flipped_uvs(written):
    path, _ = written
    g = pygltflib.GLTF2().load(str(path))
    mesh = next(m for m in g.meshes if m.name == "mesh")
    assert [g.materials[p.material].name for p in mesh.primitives] == ["floor", "wall"]
    floor = mesh.primitives[0]
    mat = g.materials[floor.material]
    assert mat.pbrMetallicRoughness.baseColorTexture is not None
    assert g.images[0].mimeType == "image/png"
    uv = accessor_array(g, floor.attributes.TEXCOORD_0)
    xyz = accessor_array(g, floor.attributes.POSITION)
    # the vertex at local y = +10 (v = 1 bottom-left) has glTF v = 0 (top-left origin)
    top = np.argmax(xyz[:, 1])
    assert uv[top, 1] == pytest.approx(0.0)
    wall = g.materials[mesh.primitives[1].material]
    assert wall.pbrMetallicRoughness.baseColorFactor[:3] == pytest.approx([0.2, 0.4, 0.6])
    # the translucent city layer blends
    city = next(m for m in g.meshes if m.name == "city")
    assert g.materials[city.primitives[0].material].alphaMode == "BLEND"


def test_city_objects_have_feature_ids_and_attributes(written):
    path, _ = written
    g = pygltflib.GLTF2().load(str(path))
    assert {"EXT_mesh_features", "EXT_structural_metadata"} <= set(g.extensionsUsed)
    prim = next(m for m in g.meshes if m.name == "city").primitives[0]
    ext = prim.extensions["EXT_mesh_features"]["featureIds"][0]
    assert ext["featureCount"] == 2 and ext["attribute"] == 0
    fid = accessor_array(g, prim.attributes._FEATURE_ID_0)
    faces = accessor_array(g, prim.indices).reshape(-1, 3)
    # every triangle's three vertices carry one object's id: shared vertices were split
    per_face = fid[faces]
    assert (per_face == per_face[:, :1]).all()
    assert sorted(per_face[:, 0].tolist()) == [0, 0, 1, 1]
    table = property_table(g)
    assert table["id"] == ["NL.IMBAG.1", "NL.IMBAG.2"]
    assert table["type"] == ["Building", "Building"]
    import json

    # pick the triangle over x = 7.5 (the second house): its attributes come back
    xyz = accessor_array(g, prim.attributes.POSITION)
    centre = xyz[faces].mean(axis=1)
    picked = int(np.argmax(centre[:, 0]))
    attrs = json.loads(table["attributes"][int(per_face[picked, 0])])
    assert attrs == {"yearOfConstruction": 1901}
    assert json.loads(table["attributes"][0])["名称"] == "老屋"
    assert "name" not in table  # all empty: left out (an empty buffer view is invalid)


def test_cancel_leaves_nothing(tmp_path):
    class Stop(Exception):
        pass

    calls = []

    def progress(f, msg):
        calls.append(f)
        if f > 0.3:
            raise Stop

    path = tmp_path / "c.glb"
    with pytest.raises(Stop):
        write_glb(path, [GlbLayer("a", _cloud()), GlbLayer("b", _city()),
                         GlbLayer("c", _textured_mesh())], origin=FAR, progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_big_mesh_uses_32_bit_indices_and_empty_layers_are_skipped(tmp_path):
    n = 70_000
    v = np.random.default_rng(0).uniform(0, 1, (n, 3)).astype(np.float32)
    f = np.stack([np.arange(n - 2), np.arange(1, n - 1), np.arange(2, n)], 1).astype(np.int32)
    empty = PointCloud(positions=np.zeros((0, 3), np.float32), origin=np.zeros(3))
    path = tmp_path / "big.glb"
    counts = write_glb(path, [GlbLayer("big", Mesh(v, np.zeros(3), f)),
                              GlbLayer("empty", empty)])
    g = pygltflib.GLTF2().load(str(path))
    assert [m.name for m in g.meshes] == ["big"]
    assert g.accessors[g.meshes[0].primitives[0].indices].componentType == 5125
    assert counts["triangles"] == n - 2
    assert glb_errors(validate_glb(path)) == []


def test_an_ifc_model_keeps_its_elements(tmp_path, shared_data):
    """A real IFC file (FZK-Haus): one GLB row per element, GlobalIds and IFC types."""
    import loaders
    from heritage.exhibits.source import layer_kind

    model = loaders.read(shared_data / "bim" / "AC20-FZK-Haus.ifc")
    assert layer_kind(model) == "bim"
    path = tmp_path / "haus.glb"
    counts = write_glb(path, [GlbLayer("haus", model)], origin=np.rint(model.bounds[0]))
    assert glb_errors(validate_glb(path)) == []
    g = pygltflib.GLTF2().load(str(path))
    table = property_table(g)
    assert table["id"] == [f.id for f in model.features]
    assert "IfcWall" in set(table["type"]) or "IfcWallStandardCase" in set(table["type"])
    assert gltf_scene_points(g)["haus"]["triangles"] == counts["triangles"]
    assert counts["triangles"] == model.triangle_count
