"""Mesh readers (OBJ+MTL, glTF/GLB, STL, OFF) on the real files in shared/data/meshes.

Every expectation is checked against an independent reading: raw line counts of the
OBJ, trimesh, or the glTF JSON/accessors read with pygltflib.
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import LoadError, Mesh

pytestmark = pytest.mark.timeout(20)


def _check_mesh(m: Mesh) -> None:
    assert isinstance(m, Mesh)
    assert m.vertices.dtype == np.float32 and m.vertices.ndim == 2 and m.vertices.shape[1] == 3
    assert m.origin.dtype == np.float64 and m.origin.shape == (3,)
    assert m.faces.dtype == np.int32 and m.faces.ndim == 2 and m.faces.shape[1] == 3
    if m.triangle_count:
        assert m.faces.min() >= 0 and m.faces.max() < m.vertex_count
    for attr, width in (("normals", 3), ("uvs", 2)):
        a = getattr(m, attr)
        if a is not None:
            assert a.shape == (m.vertex_count, width) and a.dtype == np.float32
    if m.vertex_colors is not None:
        assert m.vertex_colors.shape == (m.vertex_count, 4) and m.vertex_colors.dtype == np.uint8
    if m.face_colors is not None:
        assert m.face_colors.shape == (m.triangle_count, 4) and m.face_colors.dtype == np.uint8
    if m.parts:  # parts cover the faces in order
        assert m.parts[0].start == 0 and m.parts[-1].stop == m.triangle_count
        for a, b in zip(m.parts, m.parts[1:], strict=False):
            assert a.stop == b.start and a.start < a.stop
    assert isinstance(m.metadata.get("warnings"), list)


# ---------------------------------------------------------------------------- OBJ


@pytest.fixture(scope="module")
def delft_obj(shared_data: Path) -> Path:
    return shared_data / "meshes" / "delft_3dfier_lod1" / "testarea.obj"


@pytest.fixture(scope="module")
def fuze_obj(shared_data: Path) -> Path:
    return shared_data / "meshes" / "fuze_textured_obj" / "fuze.obj"


def _raw_obj(path: Path):
    lines = path.read_text().splitlines()
    v = np.array([ln.split()[1:4] for ln in lines if ln.startswith("v ")], dtype=np.float64)
    faces = [ln.split()[1:] for ln in lines if ln.startswith("f ")]
    return v, faces


def test_delft_obj_counts_bounds_and_precision(delft_obj: Path) -> None:
    m = loaders.read(delft_obj)
    _check_mesh(m)
    v, faces = _raw_obj(delft_obj)
    assert len(v) == 14_760 and m.vertex_count == 14_760
    assert all(len(f) == 3 for f in faces)  # all triangles, so faces == triangles
    assert len(faces) == 28_619 and m.triangle_count == 28_619
    assert m.metadata["format"] == "OBJ"
    assert m.metadata["obj_counts"]["v"] == 14_760
    # true RD New coordinates, to 1e-3
    lo, hi = m.bounds
    np.testing.assert_allclose(lo, v.min(axis=0), atol=1e-3, rtol=0)
    np.testing.assert_allclose(hi, v.max(axis=0), atol=1e-3, rtol=0)
    assert 84_000 < lo[0] < 85_200 and 447_000 < lo[1] < 447_800
    # float32 local + float64 origin: every vertex back to the file's value within 1e-3
    np.testing.assert_allclose(m.xyz(), v, atol=1e-3, rtol=0)
    assert np.abs(m.vertices).max() < 1000  # local coordinates are small
    # faces reference the file's vertices (first face of the file is somewhere in there)
    first = np.array([int(t) - 1 for t in faces[0]])
    assert (m.faces == first).all(axis=1).any()
    assert m.uvs is None and m.normals is None


def test_delft_obj_materials_match_mtl(delft_obj: Path) -> None:
    import trimesh

    m = loaders.read(delft_obj)
    names = [p.name for p in m.parts]
    assert len(m.parts) == 14 and len(set(names)) == 14
    scene = trimesh.load(delft_obj, process=False)  # independent: trimesh splits by material
    assert set(scene.geometry) == set(names)
    for part in m.parts:
        geom = scene.geometry[part.name]
        assert part.stop - part.start == len(geom.faces), part.name
        expected = np.asarray(geom.visual.material.diffuse, dtype=float) / 255.0
        np.testing.assert_allclose(part.material.color, expected, atol=1.5 / 255)
        assert part.material.texture is None
    by_name = {p.name: p.material.color for p in m.parts}
    assert by_name["Building"] == pytest.approx((0.87, 0.26, 0.28, 1.0))
    assert by_name["Water"] == pytest.approx((0.35, 0.65, 0.9, 1.0))
    assert m.warnings == []


def test_fuze_obj_texture_with_space_in_name(fuze_obj: Path) -> None:
    import trimesh

    m = loaders.read(fuze_obj)
    _check_mesh(m)
    ref = trimesh.load(fuze_obj, process=False)
    # 502 'v' but 664 'vt': vertices are split at UV seams, like trimesh does
    assert m.metadata["obj_counts"] == {"v": 502, "vt": 664, "vn": 502, "f": 1000,
                                        "polygons_triangulated": 0}
    assert m.vertex_count == len(ref.vertices) == 664
    assert m.triangle_count == 1000
    np.testing.assert_allclose(np.array(m.bounds), ref.bounds, atol=1e-6)
    assert m.uvs is not None and m.uvs.shape == (664, 2)
    assert m.normals is not None
    assert 0.0 <= m.uvs.min() and m.uvs.max() <= 1.0
    # same UV set as trimesh (order may differ): compare sorted rows
    np.testing.assert_allclose(np.sort(m.uvs, axis=0), np.sort(ref.visual.uv, axis=0), atol=1e-6)
    assert len(m.parts) == 1
    mat = m.parts[0].material
    assert mat.name == "a-super-duper-material"
    assert mat.texture is not None and mat.texture.shape[:2] == (1024, 1024)
    assert mat.texture.dtype == np.uint8 and mat.texture.shape[2] in (3, 4)
    assert Path(mat.texture_path).name == "fuze uv.jpg"
    assert m.warnings == []


def test_obj_missing_mtl_and_texture_are_warnings(tmp_path: Path, delft_obj: Path,
                                                  fuze_obj: Path) -> None:
    shutil.copy(delft_obj, tmp_path / "testarea.obj")  # no 3dfier.mtl next to it
    m = loaders.read(tmp_path / "testarea.obj")
    assert m.triangle_count == 28_619 and len(m.parts) == 14
    assert any("3dfier.mtl" in w for w in m.warnings)

    d = tmp_path / "fuze"
    d.mkdir()
    shutil.copy(fuze_obj, d / "fuze.obj")
    shutil.copy(fuze_obj.parent / "fuze.obj.mtl", d / "fuze.obj.mtl")  # no jpg
    m = loaders.read(d / "fuze.obj")
    assert m.uvs is not None and m.parts[0].material.texture is None
    assert any("fuze uv.jpg" in w for w in m.warnings)


def test_obj_polygons_negative_indices_and_no_material(tmp_path: Path) -> None:
    p = tmp_path / "quad.obj"
    p.write_text("# quad and pentagon\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv -1 0.5 0\n"
                 "f -5 -4 -3 -2\nf 1 4 5\ng pent\nf 1 2 3 4 5\n")
    m = loaders.read(p)
    _check_mesh(m)
    assert m.vertex_count == 5 and m.triangle_count == 2 + 1 + 3
    assert [p.name for p in m.parts] == ["default"]
    assert m.faces[0].tolist() == [0, 1, 2] and m.faces[1].tolist() == [0, 2, 3]


# ---------------------------------------------------------------------------- glTF


@pytest.fixture(scope="module")
def delfshaven(shared_data: Path) -> Path:
    return shared_data / "meshes" / "rotterdam_delfshaven_gltf" / "3-20-DELFSHAVEN.gltf"


@pytest.fixture(scope="module")
def glb(shared_data: Path) -> Path:
    return shared_data / "meshes" / "no_indices_3storybuilding.glb"


def test_delfshaven_shared_accessor_not_expanded(delfshaven: Path) -> None:
    import pygltflib

    m = loaders.read(delfshaven)
    _check_mesh(m)
    g = pygltflib.GLTF2().load(str(delfshaven))
    assert g.scene is None
    prims = [p for mesh in g.meshes for p in mesh.primitives]
    nodes_with_mesh = [n for n in g.nodes if n.mesh is not None]
    assert all(n.matrix is None and n.translation is None for n in nodes_with_mesh)
    # unique (POSITION accessor, transform): all nodes have the identity transform
    unique_pos = {p.attributes.POSITION for p in prims}
    expected_vertices = sum(g.accessors[a].count for a in unique_pos)
    assert expected_vertices == 22_246
    assert m.vertex_count == expected_vertices  # not ~19 M
    expected_tris = sum(g.accessors[p.indices].count for p in prims) // 3
    assert m.triangle_count == expected_tris
    assert len(m.parts) == len(prims) == 853
    # bounds equal the accessor min/max (positions kept as stored, integer mm)
    acc = g.accessors[next(iter(unique_pos))]
    lo, hi = m.bounds
    np.testing.assert_allclose(lo, acc.min, atol=1e-3)
    np.testing.assert_allclose(hi, acc.max, atol=1e-3)
    assert np.all(np.abs(m.xyz() - np.round(m.xyz())) < 1e-3)
    # materials: baseColorFactor of each primitive's material
    for part, prim in zip(m.parts[:50], prims[:50], strict=True):
        factor = g.materials[prim.material].pbrMetallicRoughness.baseColorFactor
        assert part.material.color == pytest.approx(tuple(factor))
    assert any("georeference" in w for w in m.warnings)
    assert m.metadata["format"] == "glTF"
    # CityJSON2glTF copies CityJSON's Z-up coordinates into the glTF unrotated (against
    # the spec): recognised by its generator, so the district lies on the ground (41 m
    # of height over a 1,045 m x 650 m footprint), not on its side
    assert g.asset.generator == "Generated using CityJSON2glTF python utility"
    assert m.metadata["up_axis"] == "Z"
    assert (hi - lo)[2] == pytest.approx(41_158) and (hi - lo)[1] == pytest.approx(649_506)


def test_glb_non_indexed(glb: Path) -> None:
    import trimesh

    m = loaders.read(glb)
    _check_mesh(m)
    assert m.metadata["format"] == "GLB"
    assert m.vertex_count == 216 and m.triangle_count == 72
    assert len(m.parts) == 3
    assert m.normals is not None
    scene = trimesh.load(glb)  # applies the root node rotation too
    # trimesh keeps glTF's Y-up coordinates; RealScene turns them Z-up (glTF +Y -> +Z,
    # glTF +Z -> -Y), so the 3-storey building stands 9 m tall on the ground
    (x0, y0, z0), (x1, y1, z1) = scene.bounds
    np.testing.assert_allclose(np.array(m.bounds), [[x0, -z1, y0], [x1, -z0, y1]],
                               atol=1e-4)
    assert m.bounds[1][2] - m.bounds[0][2] == pytest.approx(9.0)
    assert m.metadata["up_axis"] == "Y"
    assert m.warnings == []


def _glb_to_gltf_data_uri(glb: Path, out: Path) -> None:
    data = glb.read_bytes()
    jlen = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + jlen])
    bin_off = 20 + ((jlen + 3) & ~3)
    blen = struct.unpack_from("<I", data, bin_off)[0]
    payload = data[bin_off + 8:bin_off + 8 + blen]
    doc["buffers"][0]["uri"] = ("data:application/octet-stream;base64,"
                                + base64.b64encode(payload).decode())
    out.write_text(json.dumps(doc))


def test_gltf_data_uri_and_sniffing(tmp_path: Path, glb: Path) -> None:
    ref = loaders.read(glb)
    _glb_to_gltf_data_uri(glb, tmp_path / "embedded.gltf")
    m = loaders.read(tmp_path / "embedded.gltf")
    assert (m.vertex_count, m.triangle_count) == (216, 72)
    np.testing.assert_allclose(m.xyz(), ref.xyz(), atol=1e-6)
    # a mis-named GLB is still read by content
    shutil.copy(glb, tmp_path / "building.dat")
    assert loaders.read(tmp_path / "building.dat").triangle_count == 72


def test_glb_with_embedded_texture(tmp_path: Path, fuze_obj: Path) -> None:
    import trimesh

    ref = trimesh.load(fuze_obj, process=False)
    ref.export(tmp_path / "fuze.glb")  # trimesh embeds the jpg as a bufferView image
    m = loaders.read(tmp_path / "fuze.glb")
    _check_mesh(m)
    assert m.triangle_count == 1000
    assert m.uvs is not None
    tex = m.parts[0].material.texture
    assert tex is not None and tex.shape[:2] == (1024, 1024)
    # UVs come back in the OBJ convention (v up)
    np.testing.assert_allclose(np.sort(m.uvs, axis=0), np.sort(ref.visual.uv, axis=0),
                               atol=1e-5)


def test_gltf_strips_fans_lines_and_transforms(tmp_path: Path) -> None:
    pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float32)
    blob = pos.tobytes()
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(blob),
                     "uri": "data:application/octet-stream;base64,"
                     + base64.b64encode(blob).decode()}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(blob)}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "mode": 5}]},
                   {"primitives": [{"attributes": {"POSITION": 0}, "mode": 6}]},
                   {"primitives": [{"attributes": {"POSITION": 0}, "mode": 1}]}],
        # no "scenes": all root nodes are drawn; node 1 is translated by 10 in x
        "nodes": [{"mesh": 0}, {"mesh": 1, "translation": [10, 0, 0]},
                  {"mesh": 2, "matrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 5, 1]}],
    }
    p = tmp_path / "modes.gltf"
    p.write_text(json.dumps(doc))
    m = loaders.read(p)
    _check_mesh(m)
    assert m.triangle_count == 4  # strip 2 + fan 2
    assert m.vertex_count == 12  # same accessor, three transforms -> three blocks
    assert m.bounds[1][0] == pytest.approx(11.0)
    # the LINES primitive (4 indices -> 2 segments) is kept, not dropped; its node is
    # translated by 5 in glTF z, which is scene -y (glTF is Y-up)
    assert m.lines is not None and m.lines.tolist() == [[8, 9], [10, 11]]
    np.testing.assert_allclose(m.xyz()[8:12], [[0, -5, 0], [1, -5, 0], [0, -5, 1],
                                               [1, -5, 1]], atol=1e-6)
    assert not any("lines" in w for w in m.warnings)


# ---------------------------------------------------------------------------- STL / OFF


@pytest.fixture(scope="module")
def gargo(shared_data: Path):
    import trimesh

    return trimesh.load(shared_data / "meshes" / "gargo.ply", process=False)


@pytest.mark.parametrize("kind", ["stl", "stl_ascii", "off"])
def test_stl_off_roundtrip_from_real_scan(tmp_path: Path, gargo, kind: str) -> None:
    ext = "off" if kind == "off" else "stl"
    p = tmp_path / f"gargo.{ext}"
    gargo.export(p, file_type=kind)
    m = loaders.read(p)
    _check_mesh(m)
    assert m.metadata["format"] == ext.upper()
    assert m.triangle_count == len(gargo.faces) == 50_000
    assert m.vertex_count == len(gargo.vertices) == 25_002  # STL corners merged back
    np.testing.assert_allclose(np.array(m.bounds), gargo.bounds, atol=1e-4)
    # same triangles, as coordinates
    got = np.sort(m.xyz()[m.faces].reshape(-1, 9), axis=0)
    exp = np.sort(np.asarray(gargo.vertices)[gargo.faces].reshape(-1, 9), axis=0)
    np.testing.assert_allclose(got, exp, atol=1e-4)


def test_off_polygons_and_face_colours(tmp_path: Path) -> None:
    p = tmp_path / "cube.off"
    p.write_text("OFF\n# a cube with quads\n8 6 12\n"
                 "0 0 0\n1 0 0\n1 1 0\n0 1 0\n0 0 1\n1 0 1\n1 1 1\n0 1 1\n"
                 "4 0 3 2 1 255 0 0\n4 4 5 6 7 0 255 0\n4 0 1 5 4 0 0 255\n"
                 "4 1 2 6 5 1.0 1.0 0.0 0.5\n4 2 3 7 6\n4 3 0 4 7 10 20 30\n")
    m = loaders.read(p)
    _check_mesh(m)
    assert m.vertex_count == 8 and m.triangle_count == 12
    assert m.metadata["polygons_triangulated"] == 6
    assert m.face_colors is not None
    assert m.face_colors[0].tolist() == [255, 0, 0, 255]
    assert m.face_colors[2].tolist() == [0, 255, 0, 255]


# ---------------------------------------------------------------------------- broken


def _expect_error(path: Path, *fragments: str) -> LoadError:
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    msg = str(info.value)
    assert str(path) in msg or path.name in msg
    for frag in fragments:
        assert frag.lower() in msg.lower(), msg
    return info.value


def test_truncated_glb(tmp_path: Path, glb: Path) -> None:
    data = glb.read_bytes()
    p = tmp_path / "cut.glb"
    p.write_bytes(data[: len(data) // 2])
    _expect_error(p, "truncated")
    p.write_bytes(data[:10])
    _expect_error(p, "truncated")


def test_gltf_missing_bin(tmp_path: Path, delfshaven: Path) -> None:
    p = tmp_path / "3-20-DELFSHAVEN.gltf"
    shutil.copy(delfshaven, p)
    err = _expect_error(p, "3-20-DELFSHAVEN_bin.bin", "not found")
    assert err.hint


def test_gltf_truncated_bin(tmp_path: Path, delfshaven: Path) -> None:
    p = tmp_path / "3-20-DELFSHAVEN.gltf"
    shutil.copy(delfshaven, p)
    b = (delfshaven.parent / "3-20-DELFSHAVEN_bin.bin").read_bytes()
    (tmp_path / "3-20-DELFSHAVEN_bin.bin").write_bytes(b[:1000])
    _expect_error(p, "truncated")


def test_gltf_accessor_out_of_range_and_bad_json(tmp_path: Path, delfshaven: Path) -> None:
    doc = json.loads(delfshaven.read_text())
    doc["meshes"][5]["primitives"][0]["attributes"]["POSITION"] = 99_999
    shutil.copy(delfshaven.parent / "3-20-DELFSHAVEN_bin.bin", tmp_path)
    p = tmp_path / "bad_accessor.gltf"
    p.write_text(json.dumps(doc))
    _expect_error(p, "accessor", "99999", "out of range")

    doc = json.loads(delfshaven.read_text())
    doc["accessors"][0]["count"] = 10**9  # larger than its bufferView
    p.write_text(json.dumps(doc))
    _expect_error(p, "accessor 0")

    doc = json.loads(delfshaven.read_text())
    doc["meshes"][0]["primitives"][0]["indices"] = 853  # positions used as indices
    p.write_text(json.dumps(doc))
    _expect_error(p, "indices")

    p = tmp_path / "broken.gltf"
    p.write_text(delfshaven.read_text()[:5000])
    _expect_error(p, "invalid glTF JSON")


def test_obj_face_index_out_of_range(tmp_path: Path, delft_obj: Path) -> None:
    p = tmp_path / "bad.obj"
    text = delft_obj.read_text() + "f 1 2 99999\n"
    p.write_text(text)
    _expect_error(p, "99999", "14760")
    p.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n")
    _expect_error(p, "line 4")


def test_off_wrong_counts(tmp_path: Path) -> None:
    p = tmp_path / "bad.off"
    p.write_text("OFF\n4 2 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 1 2\n")
    _expect_error(p, "announces", "faces")
    p.write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")
    _expect_error(p, "vertex 7")
    p.write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n4 0 1 2\n")
    _expect_error(p, "4 corners")


def test_empty_and_truncated_stl(tmp_path: Path, gargo) -> None:
    p = tmp_path / "empty.stl"
    p.write_bytes(b"")
    _expect_error(p, "empty")
    p.write_bytes(b"\0" * 80 + struct.pack("<I", 0))
    _expect_error(p, "no triangles")
    p.write_text("solid empty\nendsolid empty\n")
    _expect_error(p)
    full = tmp_path / "full.stl"
    gargo.export(full, file_type="stl")
    p.write_bytes(full.read_bytes()[:5000])
    _expect_error(p, "truncated")


@pytest.mark.parametrize("rel", ["delft_3dfier_lod1/testarea.obj",
                                 "rotterdam_delfshaven_gltf/3-20-DELFSHAVEN.gltf"])
def test_progress_and_cancel(shared_data: Path, rel: str) -> None:
    from loaders import LoadCancelled

    seen: list[float] = []
    loaders.read(shared_data / "meshes" / rel, lambda f, msg: seen.append(f))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)

    def cancel(fraction: float, message: str) -> None:
        if fraction > 0:
            raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        loaders.read(shared_data / "meshes" / rel, cancel)


def test_sniffers_are_conservative(shared_data: Path) -> None:
    from loaders.formats import gltf, obj, stl_off

    d = shared_data / "meshes"
    obj_head = (d / "delft_3dfier_lod1" / "testarea.obj").read_bytes()[:4096]
    glb_head = (d / "no_indices_3storybuilding.glb").read_bytes()[:4096]
    gltf_head = (d / "rotterdam_delfshaven_gltf" / "3-20-DELFSHAVEN.gltf").read_bytes()[:4096]
    city_head = (shared_data / "citymodels" / "delft.city.json").read_bytes()[:4096]
    xyz_head = b"85012.3 447455.5 0.88\n85010.8 447448.8 0.88\n"
    p = Path("x")
    assert obj.sniff(obj_head, p) and not obj.sniff(glb_head, p)
    assert not obj.sniff(xyz_head, p) and not obj.sniff(gltf_head, p)
    assert gltf.sniff_glb(glb_head, p) and not gltf.sniff_glb(gltf_head, p)
    assert gltf.sniff_gltf(gltf_head, p) and not gltf.sniff_gltf(city_head, p)
    assert stl_off.sniff_off(b"OFF\n3 1 0\n", p) and not stl_off.sniff_off(obj_head, p)
    assert not stl_off.sniff_stl(obj_head, d / "delft_3dfier_lod1" / "testarea.obj")
