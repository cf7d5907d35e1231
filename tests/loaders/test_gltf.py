"""glTF from strangers: orientation, points and lines, compression, extensions, and
buffer/image URIs that must stay inside the glTF's folder.

Every input is built here (trimesh, DracoPy and meshoptimizer write the data; the glTF
JSON around it is written by hand), so each test names exactly what it exercises.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import LoadError, Mesh, PointCloud
from loaders.formats import gltf

pytestmark = pytest.mark.timeout(30)

TRI_POS = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float32)


def _write(tmp_path: Path, doc: dict, blob: bytes | None = None, name: str = "model.gltf",
           bin_name: str = "model.bin") -> Path:
    """Write ``doc`` as .gltf (``blob`` into ``bin_name`` as buffer 0) or as .glb."""
    doc = {"asset": {"version": "2.0"}, **doc}
    p = tmp_path / name
    if name.endswith(".glb"):
        j = json.dumps(doc).encode()
        j += b" " * (-len(j) % 4)
        b = (blob or b"") + b"\0" * (-len(blob or b"") % 4)
        chunks = struct.pack("<II", len(j), 0x4E4F534A) + j
        if blob is not None:
            chunks += struct.pack("<II", len(b), 0x004E4942) + b
        p.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks)
        return p
    if blob is not None and "buffers" in doc and "uri" not in doc["buffers"][0]:
        doc["buffers"][0]["uri"] = bin_name
        (tmp_path / bin_name).write_bytes(blob)
    p.write_text(json.dumps(doc))
    return p


def _triangle_doc(blob_len: int, **prim) -> dict:
    return {
        "buffers": [{"byteLength": blob_len}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 48}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "mode": 5, **prim}]}],
        "nodes": [{"mesh": 0}],
    }


def _error(path: Path, *fragments: str) -> str:
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    msg = str(info.value)
    assert path.name in msg
    for frag in fragments:
        assert frag.lower() in msg.lower(), msg
    assert "Traceback" not in msg and "\n" not in msg
    return msg


# ---------------------------------------------------------------------------- Y up


def test_y_up_model_stands_upright_and_can_be_turned_back(tmp_path: Path) -> None:
    import trimesh

    # a tower 2 wide, 7 tall (glTF +Y), 3 deep, as every standard exporter writes it
    tower = trimesh.creation.box(extents=[2.0, 7.0, 3.0])
    tower.apply_translation([10.0, 3.5, -1.5])  # standing on glTF y = 0, front at z = 0
    tower.export(tmp_path / "tower.glb", include_normals=True)
    m = loaders.read(tmp_path / "tower.glb")
    assert isinstance(m, Mesh)
    lo, hi = m.bounds
    # glTF +Y -> scene +Z, glTF +Z -> scene -Y: upright, on the ground, 3 deep in +y
    np.testing.assert_allclose(lo, [9.0, 0.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(hi, [11.0, 3.0, 7.0], atol=1e-5)
    assert m.metadata["up_axis"] == "Y"
    # the roof's normals (glTF +Y) point up (scene +Z), the floor's down
    roof = m.xyz()[:, 2] > 6.99
    assert roof.any() and m.normals is not None
    assert m.normals[roof][:, 2].min() > 0.5 and m.normals[~roof][:, 2].max() < -0.5

    # a file stored Z-up against the spec: the layer's choice turns it back, exactly
    z = gltf.set_up_axis(m, "Z")
    np.testing.assert_allclose(np.array(z.bounds), [[9, 0, -3], [11, 7, 0]], atol=1e-5)
    np.testing.assert_allclose(z.xyz(), tower.vertices, atol=1e-5)  # as stored
    assert z.metadata["up_axis"] == "Z" and m.metadata["up_axis"] == "Y"  # m unchanged
    back = gltf.set_up_axis(z, "Y")
    assert np.array_equal(back.vertices, m.vertices) and np.array_equal(back.origin, m.origin)
    assert np.array_equal(back.normals, m.normals)
    with pytest.raises(ValueError):
        gltf.set_up_axis(m, "X")


# ---------------------------------------------------------------------------- points, lines


def test_points_only_gltf_opens_as_a_point_cloud(tmp_path: Path) -> None:
    import trimesh

    rng = np.random.default_rng(7)
    xyz = rng.uniform(-5, 5, (500, 3))
    rgba = rng.integers(0, 256, (500, 4), dtype=np.uint8)
    rgba[:, 3] = 255
    trimesh.PointCloud(xyz, colors=rgba).export(tmp_path / "scan.glb")  # POINTS (mode 0)
    assert json.loads(_glb_json(tmp_path / "scan.glb"))["meshes"][0]["primitives"][0][
        "mode"] == 0
    pc = loaders.read(tmp_path / "scan.glb")
    assert isinstance(pc, PointCloud)
    assert pc.point_count == 500
    expected = np.column_stack([xyz[:, 0], -xyz[:, 2], xyz[:, 1]])  # Y-up -> Z-up
    np.testing.assert_allclose(pc.xyz(), expected, atol=1e-5)
    assert np.array_equal(pc.attributes["rgb"], rgba[:, :3])
    assert pc.metadata["up_axis"] == "Y"
    back = gltf.set_up_axis(pc, "Z")
    assert isinstance(back, PointCloud)
    np.testing.assert_allclose(back.xyz(), xyz, atol=1e-5)


def _glb_json(path: Path) -> str:
    data = path.read_bytes()
    n = struct.unpack_from("<I", data, 12)[0]
    return data[20:20 + n].decode()


def test_mixed_file_keeps_triangles_points_and_lines(tmp_path: Path) -> None:
    pos = TRI_POS
    col = np.array([[255, 0, 0, 255]] * 4, np.uint8)
    idx = np.array([0, 1, 2, 3], np.uint16)
    blob = pos.tobytes() + col.tobytes() + idx.tobytes()
    doc = {
        "buffers": [{"byteLength": len(blob)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 48},
                        {"buffer": 0, "byteOffset": 48, "byteLength": 16},
                        {"buffer": 0, "byteOffset": 64, "byteLength": 8}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3"},
            {"bufferView": 1, "componentType": 5121, "normalized": True, "count": 4,
             "type": "VEC4"},
            {"bufferView": 2, "componentType": 5123, "count": 4, "type": "SCALAR"}],
        "meshes": [{"primitives": [
            {"attributes": {"POSITION": 0}, "mode": 5},  # strip: 2 triangles
            {"attributes": {"POSITION": 0, "COLOR_0": 1}, "mode": 0},  # 4 points
            {"attributes": {"POSITION": 0}, "indices": 2, "mode": 3},  # strip: 3 segments
            {"attributes": {"POSITION": 0}, "indices": 2, "mode": 2},  # loop: 4 segments
        ]}],
        "nodes": [{"mesh": 0}],
    }
    m = loaders.read(_write(tmp_path, doc, blob))
    assert isinstance(m, Mesh)
    assert m.triangle_count == 2
    assert m.points is not None and len(m.points) == 4
    assert m.lines is not None and len(m.lines) == 3 + 4
    assert m.lines[-1].tolist() == [3, 0]  # the loop is closed
    # the coloured block's vertices are where the points are, red
    assert np.all(m.vertex_colors[m.points][:, :3] == [255, 0, 0])
    assert m.metadata["points"] == 4 and m.metadata["line_segments"] == 7
    assert not any("skipped" in w for w in m.warnings)
    # every index is a vertex of the mesh
    assert m.points.max() < m.vertex_count and m.lines.max() < m.vertex_count


# ---------------------------------------------------------------------------- compression


def test_draco_compressed_mesh_and_points(tmp_path: Path) -> None:
    import DracoPy
    import trimesh

    ref = trimesh.creation.icosphere(subdivisions=2, radius=3.0)
    v = np.asarray(ref.vertices, np.float32)
    f = np.asarray(ref.faces, np.uint32)
    mesh_blob = DracoPy.encode(v, f, quantization_bits=16, preserve_order=True)
    pts_blob = DracoPy.encode(v + 10.0, quantization_bits=16, preserve_order=True)
    pad = b"\0" * (-len(mesh_blob) % 4)
    blob = mesh_blob + pad + pts_blob
    draco_pos = 0  # Draco's unique id of the position attribute (the only one)
    doc = {
        "extensionsUsed": ["KHR_draco_mesh_compression"],
        "extensionsRequired": ["KHR_draco_mesh_compression"],
        "buffers": [{"byteLength": len(blob)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(mesh_blob)},
                        {"buffer": 0, "byteOffset": len(mesh_blob) + len(pad),
                         "byteLength": len(pts_blob)}],
        "accessors": [
            {"componentType": 5126, "count": len(v), "type": "VEC3"},
            {"componentType": 5125, "count": f.size, "type": "SCALAR"},
            {"componentType": 5126, "count": len(v), "type": "VEC3"}],
        "meshes": [{"primitives": [{
            "attributes": {"POSITION": 0}, "indices": 1, "mode": 4,
            "extensions": {"KHR_draco_mesh_compression": {
                "bufferView": 0, "attributes": {"POSITION": draco_pos}}}}]},
            {"primitives": [{
                "attributes": {"POSITION": 2}, "mode": 0,
                "extensions": {"KHR_draco_mesh_compression": {
                    "bufferView": 1, "attributes": {"POSITION": draco_pos}}}}]}],
        "nodes": [{"mesh": 0}],
    }
    m = loaders.read(_write(tmp_path, doc, blob, name="sphere.glb"))
    assert isinstance(m, Mesh)
    assert (m.vertex_count, m.triangle_count) == (len(v), len(f))
    yz = np.column_stack([v[:, 0], -v[:, 2], v[:, 1]])
    np.testing.assert_allclose(m.xyz(), yz, atol=1e-3)  # 16-bit quantization
    assert m.metadata["draco_primitives"] == 1
    # same triangles
    assert sorted(map(tuple, np.sort(m.faces, axis=1))) == sorted(map(tuple, np.sort(f, 1)))

    doc["nodes"] = [{"mesh": 1}]  # a Draco point cloud alone: a PointCloud
    pc = loaders.read(_write(tmp_path, doc, blob, name="points.glb"))
    assert isinstance(pc, PointCloud) and pc.point_count == len(v)
    np.testing.assert_allclose(pc.xyz(), yz + [10, -10, 10], atol=1e-3)

    # corrupt Draco bytes: a clear error, not a crash
    bad = bytearray(blob)
    bad[4:len(mesh_blob)] = b"\xff" * (len(mesh_blob) - 4)
    doc["nodes"] = [{"mesh": 0}]
    _error(_write(tmp_path, doc, bytes(bad), name="bad.glb"), "Draco")


def _meshopt_doc(pos: np.ndarray, faces: np.ndarray, index_size: int) -> tuple[dict, bytes]:
    import meshoptimizer as mo

    vbuf = mo.encode_vertex_buffer(pos)
    ibuf = mo.encode_index_buffer(faces.reshape(-1), len(faces.reshape(-1)), len(pos))
    blob = vbuf + b"\0" * (-len(vbuf) % 4) + ibuf
    ioff = len(vbuf) + (-len(vbuf) % 4)
    n_idx = faces.size
    doc = {
        "extensionsUsed": ["EXT_meshopt_compression"],
        "extensionsRequired": ["EXT_meshopt_compression"],
        # buffer 0: the compressed bytes; buffer 1: the fallback (no data at all)
        "buffers": [{"byteLength": len(blob)},
                    {"byteLength": pos.nbytes + n_idx * index_size,
                     "extensions": {"EXT_meshopt_compression": {"fallback": True}}}],
        "bufferViews": [
            {"buffer": 1, "byteOffset": 0, "byteLength": pos.nbytes, "byteStride": 12,
             "extensions": {"EXT_meshopt_compression": {
                 "buffer": 0, "byteOffset": 0, "byteLength": len(vbuf), "byteStride": 12,
                 "count": len(pos), "mode": "ATTRIBUTES"}}},
            {"buffer": 1, "byteOffset": pos.nbytes, "byteLength": n_idx * index_size,
             "extensions": {"EXT_meshopt_compression": {
                 "buffer": 0, "byteOffset": ioff, "byteLength": len(ibuf),
                 "byteStride": index_size, "count": n_idx, "mode": "TRIANGLES"}}}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(pos), "type": "VEC3"},
            {"bufferView": 1, "componentType": 5123 if index_size == 2 else 5125,
             "count": n_idx, "type": "SCALAR"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "nodes": [{"mesh": 0}],
    }
    return doc, blob


def _canonical(tris: np.ndarray) -> np.ndarray:
    """Each triangle rotated so its smallest index comes first (winding kept)."""
    tris = np.asarray(tris, np.int64)
    k = np.argmin(tris, axis=1)
    return np.stack([tris[np.arange(len(tris)), (k + i) % 3] for i in range(3)], axis=1)


@pytest.mark.parametrize("index_size", [2, 4])
def test_meshopt_compressed_mesh(tmp_path: Path, index_size: int) -> None:
    import trimesh

    ref = trimesh.creation.icosphere(subdivisions=3)
    pos = np.asarray(ref.vertices, np.float32)
    faces = np.asarray(ref.faces, np.uint32)
    doc, blob = _meshopt_doc(pos, faces, index_size)
    m = loaders.read(_write(tmp_path, doc, blob, name="sphere.glb"))
    assert isinstance(m, Mesh)
    # lossless: the same triangles, same winding (the codec may rotate a triangle's
    # corners, which is the same triangle)
    assert np.array_equal(_canonical(m.faces), _canonical(faces))
    np.testing.assert_allclose(m.xyz(), np.column_stack([pos[:, 0], -pos[:, 2], pos[:, 1]]),
                               atol=1e-6)


def test_meshopt_declared_size_is_checked_before_decoding(tmp_path: Path) -> None:
    import trimesh

    ref = trimesh.creation.icosphere(subdivisions=1)
    doc, blob = _meshopt_doc(np.asarray(ref.vertices, np.float32),
                             np.asarray(ref.faces, np.uint32), 4)
    ext = doc["bufferViews"][0]["extensions"]["EXT_meshopt_compression"]
    ext["count"] = 80_000_000  # 960 MB "decoded" from a few hundred bytes
    doc["accessors"][0]["count"] = 80_000_000
    tracemalloc.start()
    try:
        _error(_write(tmp_path, doc, blob, name="liar.glb"), "bufferView 0",
               "more than the codec can produce")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_unknown_required_extension_is_named(tmp_path: Path) -> None:
    blob = TRI_POS.tobytes()
    doc = _triangle_doc(len(blob))
    doc["extensionsUsed"] = ["KHR_texture_basisu", "KHR_materials_unlit"]
    doc["extensionsRequired"] = ["KHR_texture_basisu", "KHR_materials_unlit"]
    msg = _error(_write(tmp_path, doc, blob), "uses extension 'KHR_texture_basisu', which "
                                             "RealScene does not read")
    assert "corrupt" not in msg and "unlit" not in msg
    doc["extensionsRequired"] = ["KHR_materials_unlit"]  # only the shading differs: read
    assert loaders.read(_write(tmp_path, doc, blob)).triangle_count == 2


# ---------------------------------------------------------------------------- URIs


def _hostile(tmp_path: Path, case: str) -> tuple[Path, str]:
    """A folder with model.gltf whose buffer 0 names something it must not read."""
    d = tmp_path / "model"
    d.mkdir()
    secret = tmp_path / "secret.bin"
    secret.write_bytes(TRI_POS.tobytes())
    uri = {
        "absolute": str(secret),
        "etc_passwd": "/etc/passwd",
        "file_url": "file://" + str(secret),
        "dotdot": "../secret.bin",
        "dotdot_encoded": "%2E%2E/secret.bin",
        "symlink_out": "link.bin",
        "dev_zero": "/dev/zero",
        "symlink_dev_zero": "zero.bin",
        "fifo": "pipe.bin",
        "nul": "model.bin%00.png",
    }[case]
    if case == "symlink_out":
        os.symlink(secret, d / "link.bin")
    if case == "symlink_dev_zero":
        os.symlink("/dev/zero", d / "zero.bin")
    if case == "fifo":
        os.mkfifo(d / "pipe.bin")
    doc = _triangle_doc(48)
    doc["buffers"][0]["uri"] = uri
    return _write(d, doc), uri


@pytest.mark.parametrize("case", ["absolute", "etc_passwd", "file_url", "dotdot",
                                  "dotdot_encoded", "symlink_out", "dev_zero",
                                  "symlink_dev_zero", "fifo", "nul"])
def test_buffer_uri_outside_the_folder_is_refused(tmp_path: Path, case: str) -> None:
    path, uri = _hostile(tmp_path, case)
    msg = _error(path, "buffer 0")
    assert "refused" in msg or "not found" in msg, msg
    assert uri[:30].replace("%00", "\0").split("\0")[0] in msg or case == "nul"


def test_image_uri_outside_the_folder_is_not_read(tmp_path: Path) -> None:
    """A texture named outside the folder is refused (named in a warning); the model
    still opens without it, as with a texture that is missing."""
    import io

    from PIL import Image

    outside = tmp_path / "private.png"
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buf, "PNG")
    outside.write_bytes(buf.getvalue())
    d = tmp_path / "model"
    d.mkdir()
    uv = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float32)
    blob = TRI_POS.tobytes() + uv.tobytes()
    doc = _triangle_doc(len(blob))
    doc["bufferViews"].append({"buffer": 0, "byteOffset": 48, "byteLength": 32})
    doc["accessors"].append({"bufferView": 1, "componentType": 5126, "count": 4,
                             "type": "VEC2"})
    doc["meshes"][0]["primitives"][0]["attributes"]["TEXCOORD_0"] = 1
    doc["meshes"][0]["primitives"][0]["material"] = 0
    doc["materials"] = [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]
    doc["textures"] = [{"source": 0}]
    for uri in ("../private.png", str(outside), "/dev/zero"):
        doc["images"] = [{"uri": uri}]
        m = loaders.read(_write(d, doc, blob))
        assert m.parts[0].material.texture is None
        assert any(uri in w and "refused" in w for w in m.warnings), m.warnings
    # the same image inside the folder is read
    (d / "tex.png").write_bytes(buf.getvalue())
    doc["images"] = [{"uri": "tex.png"}]
    m = loaders.read(_write(d, doc, blob))
    assert m.parts[0].material.texture is not None
    assert m.parts[0].material.texture_path == str((d / "tex.png").resolve())


def test_buffer_file_is_checked_against_byte_length_before_reading(tmp_path: Path) -> None:
    # a .bin far larger than its byteLength: only byteLength bytes are read
    doc = _triangle_doc(48)
    p = _write(tmp_path, doc, TRI_POS.tobytes())
    with open(tmp_path / "model.bin", "r+b") as fh:
        fh.truncate(256 * 2**20)  # sparse: takes no disk space
    tracemalloc.start()
    try:
        m = loaders.read(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert m.triangle_count == 2
    assert peak < 32 * 2**20
    # shorter than its byteLength: a clear error
    (tmp_path / "model.bin").write_bytes(TRI_POS.tobytes()[:40])
    _error(p, "buffer 0", "40 bytes", "byteLength says 48", "truncated")


@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d["accessors"][0].update(count=5), "accessor 0 needs"),
    (lambda d: d["accessors"][0].update(byteOffset=4), "accessor 0 needs"),
    (lambda d: d["bufferViews"][0].update(byteLength=60), "lies outside its buffer"),
    (lambda d: d["bufferViews"][0].update(byteStride=16), "accessor 0 needs"),
    (lambda d: d["accessors"][0].update(count=2**62), "accessor 0 needs"),
    (lambda d: d["buffers"][0].pop("byteLength"), "no valid byteLength"),
])
def test_accessors_never_read_past_their_bytes(tmp_path: Path, edit, fragment) -> None:
    doc = _triangle_doc(48)
    edit(doc)
    _error(_write(tmp_path, doc, TRI_POS.tobytes(), name="bad.glb"), fragment)


@pytest.mark.parametrize("chunk", ["json", "bin"])
def test_glb_chunk_longer_than_the_file(tmp_path: Path, chunk: str) -> None:
    p = _write(tmp_path, _triangle_doc(48), TRI_POS.tobytes(), name="cut.glb")
    data = bytearray(p.read_bytes())
    jlen = struct.unpack_from("<I", data, 12)[0]
    at = 12 if chunk == "json" else 20 + jlen
    struct.pack_into("<I", data, at, 10**9)
    p.write_bytes(bytes(data))
    _error(p, "past the end of the file")


def test_data_uri_buffer_shorter_than_byte_length(tmp_path: Path) -> None:
    doc = _triangle_doc(48)
    doc["buffers"][0]["uri"] = ("data:application/octet-stream;base64,"
                                + base64.b64encode(TRI_POS.tobytes()[:20]).decode())
    _error(_write(tmp_path, doc), "buffer 0", "byteLength says 48")


def test_mesh_quantization_normalized_positions(tmp_path: Path) -> None:
    """KHR_mesh_quantization: int16 normalized positions (0..32767 -> 0..1), scaled by
    the node to metres."""
    q = np.zeros((3, 4), np.int16)  # 4th column: padding to the 4-byte aligned stride
    q[:, :3] = [[0, 0, 0], [32767, 0, 0], [0, 32767, 0]]
    blob = q.tobytes()
    doc = {
        "extensionsUsed": ["KHR_mesh_quantization"],
        "extensionsRequired": ["KHR_mesh_quantization"],
        "buffers": [{"byteLength": len(blob)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(blob),
                         "byteStride": 8}],
        "accessors": [{"bufferView": 0, "componentType": 5122, "normalized": True,
                       "count": 3, "type": "VEC3"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0, "scale": [20.0, 20.0, 20.0]}],
    }
    # (stride 8 > element 6: the last element's padding is outside the view; 3 vertices)
    doc["bufferViews"][0]["byteLength"] = 2 * 8 + 6
    m = loaders.read(_write(tmp_path, doc, blob))
    assert m.triangle_count == 1
    np.testing.assert_allclose(np.array(m.bounds), [[0, 0, 0], [20, 0, 20]], atol=1e-6)
