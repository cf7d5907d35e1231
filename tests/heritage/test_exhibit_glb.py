"""The exhibit GLB of the sample site (scan, OBJ mesh, CityJSON, annotations), judged by the
Khronos validator and re-read by pygltflib and trimesh."""

from __future__ import annotations

import json

import numpy as np
import pygltflib
import pytest
import trimesh

from heritage.exhibits import FORMATS, ExportCancelled, ExportError, export
from heritage.exhibits.glb import simplify_mesh
from heritage.exhibits.source import ExhibitLayer, ExhibitSource, source_from_project
from loaders.crs import as_crs, crs_to_text
from loaders.types import Material, Mesh, MeshPart
from tests.heritage.exhibit_support import (
    SAMPLE_PROJECT,
    accessor_array,
    glb_errors,
    gltf_nodes_world,
    gltf_scene_points,
    property_table,
    validate_glb,
)


@pytest.fixture(scope="module")
def site():
    return source_from_project(SAMPLE_PROJECT, include_hidden=True)


@pytest.fixture(scope="module")
def full(site, tmp_path_factory):
    """Budgets above the site's size: everything goes in unchanged."""
    out = tmp_path_factory.mktemp("full") / "site.glb"
    result = export(site, "glb", out, triangles=10_000_000, points=10_000_000)
    return result, pygltflib.GLTF2().load(str(result.path))


@pytest.fixture(scope="module")
def light(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("light") / "kiosk"
    result = export(site, "glb", out, triangles=45_000, points=50_000)
    return result, pygltflib.GLTF2().load(str(result.path))


def test_the_source_of_the_sample_site(site):
    assert [la.kind for la in site.layers] == ["mesh", "points", "city"]
    assert crs_to_text(as_crs(site.crs)) == "EPSG:28992"
    assert len(site.annotations) >= 3 and site.tours
    lo, hi = site.bounds()
    assert np.all(lo <= site.origin) and np.all(site.origin <= hi)


def test_full_export_validates_and_keeps_every_layer_to_a_millimetre(site, full):
    result, g = full
    assert glb_errors(validate_glb(result.path)) == []
    got = gltf_scene_points(g)
    for layer in site.layers:
        entry = got[layer.name]
        lo, hi = layer.data.bounds
        np.testing.assert_allclose(entry["xyz"].min(axis=0), lo, atol=1e-3)
        np.testing.assert_allclose(entry["xyz"].max(axis=0), hi, atol=1e-3)
        if layer.kind == "points":
            assert entry["points"] == layer.data.point_count
        else:
            assert entry["triangles"] == layer.data.triangle_count
    assert g.asset.extras["realscene"]["crs"] == "EPSG:28992"
    assert g.asset.extras["realscene"]["origin"] == site.origin.tolist()
    assert result.counts["points"] == site.layers[1].data.point_count


def test_hotspots_are_named_nodes_at_their_anchors(site, full):
    result, g = full
    world = gltf_nodes_world(g)
    assert result.counts["hotspots"] == len(site.annotations)
    for ann in site.annotations:
        name = f"hotspot_{ann.id}"
        np.testing.assert_allclose(world[name], ann.anchor, atol=1e-3)
        extras = g.nodes[[n.name for n in g.nodes].index(name)].extras["hotspot"]
        assert extras["title"] == ann.title
        assert extras["description"] == ann.description
        assert (extras["category"], extras["condition"]) == (ann.category, ann.condition)
        assert (extras["date"], extras["author"]) == (ann.observed, ann.author)


def test_a_picked_building_keeps_its_id_and_attributes(site, full):
    _, g = full
    city = site.layers[2].data
    table = property_table(g)
    assert table["id"] == [f.id for f in city.features]
    # a building with geometry and attributes, picked by its triangles in the GLB
    face = int(np.flatnonzero(city.face_feature >= 0)[len(city.faces) // 2])
    feat = city.features[int(city.face_feature[face])]
    assert feat.attributes
    prim = next(m for m in g.meshes if m.name == site.layers[2].name).primitives[0]
    fid = accessor_array(g, prim.attributes._FEATURE_ID_0).astype(int)
    tri = accessor_array(g, prim.indices).reshape(-1, 3)
    mine = tri[fid[tri[:, 0]] == city.feature_index(feat.id)]
    assert len(mine) == int((city.face_feature == city.face_feature[face]).sum())
    row = table["id"].index(feat.id)
    assert json.loads(table["attributes"][row]) == json.loads(
        json.dumps(feat.attributes, default=str))
    assert table["type"][row] == feat.type
    # and its triangles are where the source has them (1 mm, scene CRS)
    got = gltf_scene_points(g)[site.layers[2].name]["xyz"]
    pos = accessor_array(g, prim.attributes.POSITION)
    assert len(got) == len(pos)
    want = city.xyz()[city.faces[city.face_feature == city.face_feature[face]]]
    np.testing.assert_allclose(np.sort(got[mine].reshape(-1, 3), axis=0)[[0, -1]],
                               np.sort(want.reshape(-1, 3), axis=0)[[0, -1]], atol=1e-3)


def test_budgets_hold_and_two_readers_agree(site, light):
    result, g = light
    assert result.path.name == "kiosk.glb"
    assert glb_errors(validate_glb(result.path)) == []
    counts = result.counts
    assert counts["points"] == 50_000
    assert counts["triangles"] <= 45_000
    assert any("simplified" in w for w in result.warnings)
    got = gltf_scene_points(g)
    assert sum(e["points"] for e in got.values()) == counts["points"]
    assert sum(e["triangles"] for e in got.values()) == counts["triangles"]
    # the mesh was simplified (the city is kept whole), and stays inside its bounds
    mesh = site.layers[0]
    assert got[mesh.name]["triangles"] < mesh.data.triangle_count
    assert got[site.layers[2].name]["triangles"] == site.layers[2].data.triangle_count
    lo, hi = mesh.data.bounds
    assert np.all(got[mesh.name]["xyz"] >= lo - 1e-3)
    assert np.all(got[mesh.name]["xyz"] <= hi + 1e-3)
    scene = trimesh.load(str(result.path), process=False)
    pts = tris = 0
    for node in scene.graph.nodes_geometry:
        geom = scene.geometry[scene.graph[node][1]]
        if isinstance(geom, trimesh.PointCloud):
            pts += len(geom.vertices)
        else:
            tris += len(geom.faces)
    assert (pts, tris) == (counts["points"], counts["triangles"])


def _textured_grid(n: int = 60) -> Mesh:
    u, v = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    z = 0.1 * np.sin(6 * u) * np.cos(4 * v)
    verts = np.column_stack([u.ravel() * 20, v.ravel() * 20, z.ravel()]).astype(np.float32)
    idx = np.arange(n * n).reshape(n, n)
    a, b = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    c, d = idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    faces = faces.astype(np.int32)
    tex = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    return Mesh(vertices=verts, origin=np.array([500000.0, 4000000.0, 50.0]), faces=faces,
                uvs=np.column_stack([u.ravel(), v.ravel()]).astype(np.float32),
                parts=[MeshPart("photo", 0, len(faces), Material("photo", texture=tex))])


def test_simplification_keeps_texture_and_each_vertex_keeps_its_uv(tmp_path):
    mesh = _textured_grid()
    small = simplify_mesh(mesh, 1000)
    assert 0 < small.triangle_count <= 1000 and small.uvs is not None
    # every kept vertex is an original one and carries that vertex's UV
    d = np.abs(small.vertices[:, None, :] - mesh.vertices[None, :, :]).sum(axis=2)
    nearest = d.argmin(axis=1)
    assert d.min(axis=1).max() == 0.0
    np.testing.assert_array_equal(small.uvs, mesh.uvs[nearest])
    # and the grid's border, where the texture ends, is still there
    np.testing.assert_array_equal(small.bounds[0][:2], mesh.bounds[0][:2])
    np.testing.assert_array_equal(small.bounds[1][:2], mesh.bounds[1][:2])
    source = ExhibitSource(title="grid", layers=[ExhibitLayer("grid", mesh)],
                           origin=mesh.origin + 3.0)
    result = export(source, "glb", tmp_path / "grid.glb", triangles=1000)
    assert glb_errors(validate_glb(result.path)) == []
    g = pygltflib.GLTF2().load(str(result.path))
    prim = g.meshes[0].primitives[0]
    assert prim.attributes.TEXCOORD_0 is not None
    assert g.materials[prim.material].pbrMetallicRoughness.baseColorTexture is not None
    assert result.counts["triangles"] == small.triangle_count


def test_cancel_leaves_nothing_and_bad_options_are_refused(site, tmp_path):
    def cancel(fraction, message):
        if fraction > 0.5:
            raise ExportCancelled

    with pytest.raises(ExportCancelled):
        export(site, "glb", tmp_path / "x.glb", progress=cancel)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExportError, match="triangle budget"):
        export(site, "glb", tmp_path / "x.glb", triangles=0)
    with pytest.raises(ExportError, match="unknown GLB option"):
        export(site, "glb", tmp_path / "x.glb", polygons=5)
    with pytest.raises(ExportError, match="does not exist"):
        export(site, "glb", tmp_path / "no" / "x.glb")
    with pytest.raises(ExportError, match="unknown export format"):
        export(site, "obj", tmp_path / "x.obj")
    assert "glb" in FORMATS


def test_progress_is_reported_in_order(site, tmp_path):
    seen = []
    export(site, "glb", tmp_path / "p.glb", triangles=20_000, points=20_000,
           progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("simplifying" in m for _, m in seen)


def test_benchmark_part_is_written_once_and_kept_by_other_runs(tmp_path):
    """./run bench --only exhibits writes its own part of RESULTS.md; running it again
    replaces it, and a run of another part keeps it."""
    from benchmarks import __main__ as bench
    from benchmarks import exhibits

    rows = [{"what": "sample", "points": 3, "triangles": 4, "ours_s": 0.1, "trimesh_s": 0.2,
             "ours_bytes": 2**20, "trimesh_bytes": 2**20}]
    results = {"machine": {"cpu": "test"}, "date": "today", "command": "smoke", "reps": 1,
               "exhibits": {"glb": {"rows": rows, "notes": ["a note"]}}}
    out = tmp_path / "RESULTS.md"
    out.write_text("# point clouds\n\nhand-written notes\n")
    bench.write_report(results, ("exhibits",), out)
    text = bench.write_report(results, ("exhibits",), out)
    assert text.startswith("# point clouds\n\nhand-written notes\n")
    assert text.count(exhibits.BEGIN) == 1 and "| sample | 3 | 4 | 0.100 | 0.200 |" in text
    from benchmarks import memscale

    kept = bench.write_report({**results, "memscale": {"rows": []}}, ("memscale",), out)
    assert kept.count(exhibits.BEGIN) == 1 and kept.count(memscale.MARKER) == 1
    assert "| sample | 3 |" in kept and "hand-written notes" in kept
    assert set(exhibits.PARTS) >= {"glb"}
