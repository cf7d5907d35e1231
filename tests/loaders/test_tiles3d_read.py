"""3D Tiles reading (loaders.tiles.tiles3d) on real tilesets: the Cesium sample
TilesetWithRequestVolume (b3dm city with batch tables, an external tileset, a pnts, a
viewerRequestVolume), RealScene's own 3D Tiles export read back, the same tileset over
HTTP from a local server, Draco / meshopt content made by gltf-pipeline / gltfpack, and
hostile tilesets (truncated and lying tiles, escaping URIs, self-including tilesets)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import FeatureMesh, LoadError
from loaders.tiles import DEFAULT_MAX_SSE, TileSet, TileStream, View
from loaders.tiles.tiles3d import Tiles3dTileSet, open_tileset
from loaders.tiles.tiles3d_content import decode
from tests.conftest import SHARED_DATA

SAMPLE = SHARED_DATA / "tiles" / "TilesetWithRequestVolume"
REPO = Path(__file__).resolve().parents[2]
NODE_BIN = REPO / "node_modules" / ".bin"


def _walk(ts: TileSet):
    """Every tile, depth first (expanding all)."""
    stack = [ts.root]
    while stack:
        tile = stack.pop()
        yield tile
        stack += ts.expand(tile)


def _xyz(item) -> np.ndarray:
    return (item.vertices if hasattr(item, "vertices") else item.positions
            ).astype(np.float64) + item.origin


def _lonlat(xyz: np.ndarray) -> np.ndarray:
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
    lon, lat, h = tr.transform(*xyz.T)
    return np.column_stack([np.radians(lon), np.radians(lat), h])


@pytest.fixture(scope="module")
def city_export(tmp_path_factory):
    from heritage.exhibits import export
    from heritage.exhibits.source import source_from_files

    src = source_from_files([SHARED_DATA / "citymodels" / "delft.city.json"])
    out = tmp_path_factory.mktemp("t3d") / "city"
    export(src, "3dtiles", out, leaf_triangles=4000)
    return src, out


# ------------------------------------------------------------------ the Cesium sample


@pytest.mark.timeout(60)
def test_cesium_sample_tree_contents_and_batch_tables():
    ts = loaders.read(SAMPLE / "tileset.json")
    assert isinstance(ts, Tiles3dTileSet) and ts.format_name == "3D Tiles"
    folder = loaders.read(SAMPLE)  # the folder opens its tileset.json
    assert isinstance(folder, Tiles3dTileSet) and folder.source.endswith("tileset.json")
    assert ts.crs.to_epsg() == 4978
    # the root region: ECEF near the sample's place (lon -75.61 deg, lat 40.04 deg)
    lon, lat, _ = _lonlat(ts.root.center[None])[0]
    assert abs(np.degrees(lon) + 75.61) < 0.01 and abs(np.degrees(lat) - 40.04) < 0.01
    assert ts.root.refine == "ADD" and ts.root.content is None
    tiles = list(_walk(ts))
    with_content = [t for t in tiles if t.content]
    names = sorted(Path(t.content[0]).name for t in with_content)
    assert names == ["building.b3dm", "ll.b3dm", "lr.b3dm", "points.pnts", "ul.b3dm",
                     "ur.b3dm"]
    assert ts.warnings == []
    city = [t for t in with_content if Path(t.content[0]).parent.name == "city"]
    assert len(city) == 4 and all(t.refine == "ADD" for t in city)  # inherited
    for tile in city:
        content = ts.load(tile)
        (mesh,) = content.meshes
        assert isinstance(mesh, FeatureMesh) and len(mesh.features) == 10
        assert (mesh.face_feature >= 0).all()
        xyz = _xyz(mesh)
        assert np.linalg.norm(xyz - tile.center, axis=1).max() <= tile.radius + 1e-3
        # every building lands where its batch table says (RTC_CENTER, y-up -> z-up)
        for i, feat in enumerate(mesh.features):
            assert set(feat.attributes) == {"id", "Longitude", "Latitude", "Height"}
            verts = np.unique(mesh.faces[mesh.face_feature == i])
            geo = _lonlat(xyz[verts])
            assert abs(geo[:, 0].mean() - feat.attributes["Longitude"]) < 1e-6
            assert abs(geo[:, 1].mean() - feat.attributes["Latitude"]) < 1e-6
            assert abs(geo[:, 2].max() - feat.attributes["Height"]) < 0.01
            assert abs(geo[:, 2].min()) < 0.01
    (building,) = [t for t in with_content if t.content[0].endswith("building.b3dm")]
    mesh = ts.load(building).meshes[0]
    assert mesh.triangle_count == 66094 and not isinstance(mesh, FeatureMesh)
    assert np.linalg.norm(_xyz(mesh) - building.center, axis=1).max() <= building.radius
    (points,) = [t for t in with_content if t.content[0].endswith("points.pnts")]
    c, r = points.request_volume
    assert r == pytest.approx(15.0) and np.linalg.norm(c - points.center) < 1e-6
    cloud = ts.load(points).points[0]
    assert cloud.point_count == 125000 and cloud.attributes["rgb"].shape == (125000, 3)
    assert np.linalg.norm(_xyz(cloud) - points.center, axis=1).max() <= 1.25 + 1e-3


@pytest.mark.timeout(60)
def test_stream_honours_request_volume_and_target_crs():
    ts = open_tileset(SAMPLE / "tileset.json")
    stream = TileStream(ts)
    try:
        (points,) = [t for t in _walk(ts) if t.content and t.content[0].endswith(".pnts")]
        far = points.center + np.array([0.0, 0.0, 200.0])
        near = points.center + np.array([0.0, 0.0, 10.0])
        drawn_far = {t.key for t in stream.wait(View(far, 1000.0)).draw}
        drawn_near = {t.key for t in stream.wait(View(near, 1000.0)).draw}
        assert points.key not in drawn_far and points.key in drawn_near
        assert len(drawn_near) == 6 and stream.loads == 6
    finally:
        stream.close()
    # into UTM 18N (the sample is in Pennsylvania): metres, heights kept
    ts.set_target_crs("EPSG:32618")
    tile = [t for t in _walk(ts) if t.content and t.content[0].endswith("ll.b3dm")][0]
    xyz = _xyz(ts.load(tile).meshes[0])
    assert 400_000 < xyz[:, 0].min() < 600_000 and 4_400_000 < xyz[:, 1].min() < 4_500_000


# ------------------------------------------------------------------ RealScene's own export


@pytest.mark.timeout(60)
def test_realscene_export_reads_back_exactly(city_export):
    src, out = city_export
    ts = open_tileset(out / "tileset.json")
    assert ts.metadata["version"] == "1.1" and ts.crs.to_epsg() == 4978
    ts.set_target_crs(src.crs)
    original = src.layers[0].data
    got: dict[str, np.ndarray] = {}
    triangles = 0
    for tile in _walk(ts):
        if not tile.content:
            continue
        for mesh in ts.load(tile).meshes:
            assert isinstance(mesh, FeatureMesh)
            triangles += mesh.triangle_count
            xyz = _xyz(mesh)
            for i, feat in enumerate(mesh.features):
                verts = np.unique(mesh.faces[mesh.face_feature == i])
                if len(verts):
                    got[feat.attributes["id"]] = xyz[verts]
    assert triangles == original.triangle_count
    assert len(got) == len({original.features[i].id for i in np.unique(original.face_feature)})
    xyz0 = _xyz(original)
    for i, feat in enumerate(original.features[:200]):
        verts = np.unique(original.faces[original.face_feature == i])
        if not len(verts):
            continue
        a, b = np.sort(xyz0[verts], axis=0), np.sort(got[feat.id], axis=0)
        assert a.shape == b.shape and np.abs(a - b).max() < 1e-3, feat.id


# ------------------------------------------------------------------ HTTP


@pytest.mark.timeout(60)
def test_tileset_over_http_streams(tmp_path):
    from tests.loaders.test_http_limits import Handler, serve_directory

    server, url, _ = serve_directory(Handler, SAMPLE)
    try:
        ts = open_tileset(f"{url}/tileset.json")
        assert ts.crs.to_epsg() == 4978
        stream = TileStream(ts)
        try:
            (points,) = [t for t in _walk(ts) if t.content and t.content[0].endswith(".pnts")]
            sel = stream.wait(View(points.center + np.array([0, 0, 10.0]), 1000.0))
            assert len(sel.draw) == 6 and ts.warnings == []
            assert sel.triangles == 66094 + 4 * 120 and sel.points == 125000
            assert all(c.startswith(url) for t in sel.draw for c in t.content)
        finally:
            stream.close()
        # the viewer's read path (window, CLI, scripts) opens a tileset URL the same way
        from viewer import pipeline

        assert pipeline.stream_target(f"{url}/tileset.json") is None
        via = pipeline.read(f"{url}/tileset.json")
        assert isinstance(via, Tiles3dTileSet) and len(list(_walk(via))) == 9
        # a content URI on another host is refused (the tile is left out, with a warning)
        (tmp_path / "t").mkdir()
        doc = json.loads((SAMPLE / "city" / "tileset.json").read_text())
        doc["root"]["children"][0]["content"]["uri"] = "http://127.0.0.2:9/ll.b3dm"
        (tmp_path / "t" / "tileset.json").write_text(json.dumps(doc))
        server2, url2, _ = serve_directory(Handler, tmp_path / "t")
        try:
            ts2 = open_tileset(f"{url2}/tileset.json")
            kids = ts2.expand(ts2.root)
            assert len(kids) == 3
            assert any("another host" in w for w in ts2.warnings)
        finally:
            server2.shutdown()
            server2.server_close()
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ compressed glTF content


def _one_tile_tileset(folder: Path, content: str, box: list[float],
                      transform: list[float] | None) -> Path:
    root: dict = {"boundingVolume": {"box": box}, "geometricError": 0, "refine": "REPLACE",
                  "content": {"uri": content}}
    if transform is not None:
        root["transform"] = transform
    path = folder / "tileset.json"
    path.write_text(json.dumps({"asset": {"version": "1.1"}, "geometricError": 10,
                                "root": root}))
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize("tool", ["gltf-pipeline", "gltfpack"])
def test_draco_and_meshopt_content(city_export, tmp_path, tool):
    exe = NODE_BIN / tool
    if not exe.exists():
        pytest.skip(f"{tool} not installed (npm install in the repository)")
    _, out = city_export
    doc = json.loads((out / "tileset.json").read_text())
    leaf = doc["root"]
    while "content" not in leaf:
        leaf = leaf["children"][0]
    transform = doc["root"].get("transform")
    plain = out / leaf["content"]["uri"]
    packed = tmp_path / "packed.glb"
    # (positions quantized to 16 bits: about 5 mm over this ~300 m tile)
    args = ["-d", "--draco.quantizePositionBits", "16"] if tool == "gltf-pipeline" \
        else ["-cc", "-vp", "16"]
    subprocess.run([str(exe), "-i", str(plain), "-o", str(packed), *args], check=True,
                   capture_output=True, timeout=120)
    text = packed.read_bytes()
    assert (b"KHR_draco_mesh_compression" if tool == "gltf-pipeline"
            else b"EXT_meshopt_compression") in text
    shutil.copy(plain, tmp_path / "plain.glb")
    box = leaf["boundingVolume"]["box"]
    a = open_tileset(_one_tile_tileset(tmp_path, "plain.glb", box, transform))
    ma = a.load(a.root).meshes[0]
    (tmp_path / "p").mkdir()
    shutil.copy(packed, tmp_path / "p" / "packed.glb")
    b = open_tileset(_one_tile_tileset(tmp_path / "p", "packed.glb", box, transform))
    mb = b.load(b.root).meshes[0]
    assert mb.triangle_count == ma.triangle_count
    xa, xb = _xyz(ma), _xyz(mb)
    assert np.abs(xa.min(axis=0) - xb.min(axis=0)).max() < 0.01
    assert np.abs(xa.max(axis=0) - xb.max(axis=0)).max() < 0.01
    # every packed vertex lies on an original one (the tools re-order and weld vertices)
    from scipy.spatial import cKDTree

    assert cKDTree(xa).query(xb)[0].max() < 0.01


# ------------------------------------------------------------------ cmpt, i3dm


def _glb_of(b3dm: bytes) -> bytes:
    _, _, n, a, b, c, d = struct.unpack_from("<4sIIIIII", b3dm, 0)
    return b3dm[28 + a + b + c + d: n]


def _padded(raw: bytes, align: int = 8) -> bytes:
    return raw + b" " * (-len(raw) % align)


def test_cmpt_and_i3dm_from_real_tiles():
    ll = (SAMPLE / "city" / "ll.b3dm").read_bytes()
    pnts = (SAMPLE / "points.pnts").read_bytes()
    inner_ll = ll + b"\0" * (-len(ll) % 8)
    inner_ll = inner_ll[:8] + struct.pack("<I", len(inner_ll)) + inner_ll[12:]
    body = inner_ll + pnts
    cmpt = struct.pack("<4sIII", b"cmpt", 1, 16 + len(body), 2) + body
    out = decode(cmpt, "x.cmpt")
    assert len(out.meshes) == 1 and len(out.points) == 1
    assert out.meshes[0].triangle_count == 120 and out.points[0].point_count == 125000
    # the composite is checked: an inner tile longer than the composite is refused
    with pytest.raises(LoadError, match="runs past"):
        short = bytearray(cmpt[:16 + len(inner_ll) - 4])
        struct.pack_into("<I", short, 8, len(short))
        decode(bytes(short), "short.cmpt")
    with pytest.raises(LoadError, match="truncated"):  # the composite's own byteLength
        decode(cmpt[:-1], "cut.cmpt")
    # i3dm: the ll model three times, at offsets, the last one scaled by 2
    glb = _glb_of(ll)
    positions = np.array([[0, 0, 0], [100, 0, 0], [0, 200, 0]], np.float32)
    ft_json = _padded(json.dumps({"INSTANCES_LENGTH": 3, "POSITION": {"byteOffset": 0},
                                  "SCALE": {"byteOffset": 36},
                                  "RTC_CENTER": [1000.0, 0.0, 0.0]}).encode())
    ft_bin = positions.tobytes() + np.array([1, 1, 2], np.float32).tobytes()
    ft_bin = ft_bin + b"\0" * (-len(ft_bin) % 8)
    bt_json = _padded(json.dumps({"name": ["a", "b", "c"]}).encode())
    total = 32 + len(ft_json) + len(ft_bin) + len(bt_json) + len(glb)
    i3dm = struct.pack("<4sIIIIIII", b"i3dm", 1, total, len(ft_json), len(ft_bin),
                       len(bt_json), 0, 1) + ft_json + ft_bin + bt_json + glb
    out = decode(i3dm, "x.i3dm")
    (mesh,) = out.meshes
    single = decode(ll, "ll.b3dm").meshes[0]
    n = single.vertex_count
    assert mesh.vertex_count == 3 * n and mesh.triangle_count == 3 * 120
    model = _xyz(single) - np.array(json.loads(ll[28:28 + 92])["RTC_CENTER"])
    xyz = _xyz(mesh)
    assert np.abs(xyz[:n] - (model + [1000, 0, 0])).max() < 1e-3
    assert np.abs(xyz[n:2 * n] - (model + [1100, 0, 0])).max() < 1e-3
    assert np.abs(xyz[2 * n:] - (2 * model + [1000, 200, 0])).max() < 1e-3
    assert isinstance(mesh, FeatureMesh) and [f.name for f in mesh.features] == ["a", "b", "c"]
    assert (mesh.face_feature == np.repeat([0, 1, 2], 120)).all()


# ------------------------------------------------------------------ hostile input


def _copy_sample(tmp_path: Path) -> Path:
    dst = tmp_path / "s"
    shutil.copytree(SAMPLE, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    dst.chmod(0o755)
    return dst


@pytest.mark.timeout(60)
def test_broken_tiles_are_one_clear_error_and_streaming_goes_on(tmp_path):
    s = _copy_sample(tmp_path)
    ll = (s / "city" / "ll.b3dm").read_bytes()
    (s / "city" / "ll.b3dm").write_bytes(ll[: len(ll) // 2])  # truncated
    lr = bytearray((s / "city" / "lr.b3dm").read_bytes())
    struct.pack_into("<I", lr, 12, 10**9)  # a feature table "longer" than the tile
    (s / "city" / "lr.b3dm").write_bytes(bytes(lr))
    ur = bytearray((s / "city" / "ur.b3dm").read_bytes())
    struct.pack_into("<I", ur, 8, len(ur) + 1000)  # byteLength lies: more than the file
    (s / "city" / "ur.b3dm").write_bytes(bytes(ur))
    ts = open_tileset(s / "tileset.json")
    tiles = {Path(t.content[0]).name: t for t in _walk(ts) if t.content}
    for name, words in [("ll.b3dm", "truncated"), ("lr.b3dm", "run past"),
                        ("ur.b3dm", "truncated")]:
        with pytest.raises(LoadError) as info:
            ts.load(tiles[name])
        message = info.value.message
        assert name in message and words in message and "\n" not in message
    stream = TileStream(ts)
    try:
        sel = stream.wait(View(tiles["points.pnts"].center + [0, 0, 10.0], 1000.0))
        drawn = {Path(t.content[0]).name for t in sel.draw}
        assert {"ul.b3dm", "building.b3dm", "points.pnts"} <= drawn
        assert sum(any(n in w for w in ts.warnings) for n in ("ll.b3dm", "lr.b3dm",
                                                              "ur.b3dm")) == 3
    finally:
        stream.close()


def test_content_uris_stay_inside_the_folder(tmp_path):
    (tmp_path / "secret.b3dm").write_bytes((SAMPLE / "city" / "ll.b3dm").read_bytes())
    inner = tmp_path / "set"
    inner.mkdir()
    shutil.copy(SAMPLE / "city" / "ul.b3dm", inner / "ul.b3dm")
    doc = json.loads((SAMPLE / "city" / "tileset.json").read_text())
    kids = doc["root"]["children"]
    kids[0]["content"]["uri"] = "../secret.b3dm"
    kids[1]["content"]["uri"] = str(tmp_path / "secret.b3dm")
    kids[2]["content"]["uri"] = "file:///etc/passwd"
    kids[3]["content"]["uri"] = "ul.b3dm"
    (inner / "tileset.json").write_text(json.dumps(doc))
    (inner / "link.b3dm").symlink_to(tmp_path / "secret.b3dm")
    ts = open_tileset(inner / "tileset.json")
    children = ts.expand(ts.root)
    assert [Path(t.content[0]).name for t in children] == ["ul.b3dm"]
    text = " | ".join(ts.warnings)
    assert "outside" in text and "absolute" in text and "URL" in text
    doc["root"]["children"] = [dict(kids[3], content={"uri": "link.b3dm"})]
    (inner / "tileset.json").write_text(json.dumps(doc))
    ts = open_tileset(inner / "tileset.json")
    assert ts.expand(ts.root) == [] and "outside" in " ".join(ts.warnings)


def test_self_including_tilesets_are_refused(tmp_path):
    region = json.loads((SAMPLE / "city" / "tileset.json").read_text())["root"][
        "boundingVolume"]
    me = {"asset": {"version": "1.0"}, "geometricError": 10,
          "root": {"boundingVolume": region, "geometricError": 10,
                   "content": {"uri": "tileset.json"}}}
    (tmp_path / "tileset.json").write_text(json.dumps(me))
    ts = loaders.read(tmp_path / "tileset.json")
    assert ts.expand(ts.root) == []
    assert any("includes itself" in w for w in ts.warnings)
    # a -> b -> a
    a = dict(me, root=dict(me["root"], content={"uri": "b.json"}))
    b = dict(me, root=dict(me["root"], content={"uri": "a.json"}))
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    ts = open_tileset(tmp_path / "a.json")
    (b_root,) = ts.expand(ts.root)
    assert ts.expand(b_root) == [] and any("includes itself" in w for w in ts.warnings)
    # the whole stream terminates
    stream = TileStream(ts)
    try:
        sel = stream.wait(View(ts.root.center, 1e6, max_sse=0.001), timeout=30)
        assert sel.draw == [] and sel.fetch == []
    finally:
        stream.close()


def test_not_a_tileset_and_broken_json_are_clear(tmp_path):
    bad = tmp_path / "tileset.json"
    bad.write_text('{"asset": {"version": "1.0"}, "geometricError": 1, "root": {"bounding')
    with pytest.raises(LoadError, match="invalid tileset JSON"):
        open_tileset(bad)
    bad.write_text(json.dumps({"asset": {"version": "1.0"}, "geometricError": 1,
                               "root": {"boundingVolume": {"box": [0, 1]},
                                        "geometricError": 1}}))
    with pytest.raises(LoadError, match="box must be 12 numbers"):
        loaders.read(bad)


def test_quantized_pnts_and_i3dm_glb_by_uri(tmp_path):
    """The sample's points re-encoded as POSITION_QUANTIZED + RGB565 (as exporters write
    them) decode to the same points within the quantization step and colour depth; an
    i3dm naming its GLB by URI reads it from beside it (and not from outside)."""
    raw = (SAMPLE / "points.pnts").read_bytes()
    ref = decode(raw, "points.pnts").points[0]
    xyz, rgb = _xyz(ref), ref.attributes["rgb"]
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    q = np.round((xyz - lo) / (hi - lo) * 65535).astype(np.uint16)
    c = rgb.astype(np.uint16)
    rgb565 = ((c[:, 0] >> 3) << 11) | ((c[:, 1] >> 2) << 5) | (c[:, 2] >> 3)
    ft_bin = q.tobytes() + rgb565.astype(np.uint16).tobytes()
    ft_bin += b"\0" * (-len(ft_bin) % 8)
    ft_json = _padded(json.dumps({
        "POINTS_LENGTH": len(q), "POSITION_QUANTIZED": {"byteOffset": 0},
        "RGB565": {"byteOffset": q.nbytes}, "QUANTIZED_VOLUME_OFFSET": lo.tolist(),
        "QUANTIZED_VOLUME_SCALE": (hi - lo).tolist()}).encode())
    pnts = struct.pack("<4sIIIIII", b"pnts", 1, 28 + len(ft_json) + len(ft_bin),
                       len(ft_json), len(ft_bin), 0, 0) + ft_json + ft_bin
    cloud = decode(pnts, "q.pnts").points[0]
    step = (hi - lo) / 65535
    assert np.all(np.abs(_xyz(cloud) - xyz) <= step + 1e-6)
    assert np.abs(cloud.attributes["rgb"].astype(int) - rgb.astype(int)).max() <= 8
    # i3dm with gltfFormat 0 (a URI)
    (tmp_path / "models").mkdir()
    glb = _glb_of((SAMPLE / "city" / "ll.b3dm").read_bytes())
    (tmp_path / "models" / "house.glb").write_bytes(glb)
    (tmp_path / "outside.glb").write_bytes(glb)
    ft_json = _padded(json.dumps({"INSTANCES_LENGTH": 2, "POSITION": [0, 0, 0, 5, 0, 0]}
                                 ).encode())
    for uri, ok in (("house.glb", True), ("../outside.glb", False)):
        body = _padded(uri.encode())
        i3dm = struct.pack("<4sIIIIIII", b"i3dm", 1, 32 + len(ft_json) + len(body),
                           len(ft_json), 0, 0, 0, 0) + ft_json + body
        (tmp_path / "models" / "t.i3dm").write_bytes(i3dm)
        doc = {"asset": {"version": "1.0"}, "geometricError": 1,
               "root": {"boundingVolume": {"sphere": [0, 0, 0, 1e7]}, "geometricError": 0,
                        "content": {"uri": "t.i3dm"}}}
        (tmp_path / "models" / "tileset.json").write_text(json.dumps(doc))
        ts = open_tileset(tmp_path / "models" / "tileset.json")
        if ok:
            mesh = ts.load(ts.root).meshes[0]
            assert mesh.triangle_count == 240
        else:
            with pytest.raises(LoadError, match="outside"):
                ts.load(ts.root)


@pytest.mark.timeout(120)
def test_b3dm_and_its_3d_tiles_tools_glb_conversion_agree(tmp_path):
    """3d-tiles-tools (an independent implementation) turns the b3dm into a 1.1 GLB: the
    RTC_CENTER folded into a node, the batch table into EXT_mesh_features +
    EXT_structural_metadata. Both read to the same ECEF positions and features."""
    exe = NODE_BIN / "3d-tiles-tools"
    if not exe.exists():
        pytest.skip("3d-tiles-tools not installed (npm install in the repository)")
    src = SAMPLE / "city" / "ll.b3dm"
    glb = tmp_path / "ll.glb"
    subprocess.run([str(exe), "convertB3dmToGlb", "-i", str(src), "-o", str(glb), "-f"],
                   check=True, capture_output=True, timeout=100)
    a = decode(src.read_bytes(), str(src)).meshes[0]
    b = decode(glb.read_bytes(), str(glb)).meshes[0]
    assert isinstance(b, FeatureMesh) and len(b.features) == len(a.features) == 10
    assert np.abs(_xyz(a) - _xyz(b)).max() < 1e-3
    assert (a.face_feature == b.face_feature).all()
    for fa, fb in zip(a.features, b.features, strict=True):
        for key in ("Longitude", "Latitude", "Height"):  # (float32 in the GLB)
            assert fb.attributes[key] == pytest.approx(fa.attributes[key], rel=1e-6)


def _subtree(js: dict, binary: bytes = b"") -> bytes:
    raw = json.dumps(js).encode()
    raw += b" " * (-len(raw) % 8)
    binary += b"\0" * (-len(binary) % 8)
    return struct.pack("<4sIQQ", b"subt", 1, len(raw), len(binary)) + raw + binary


@pytest.mark.parametrize("subtree_levels", [1, 2])
def test_implicit_quadtree_of_the_sample_city(tmp_path, subtree_levels):
    """The sample's four city tiles are the 2 x 2 split of its region: as an implicit
    QUADTREE (level 1: x east, y north), each real b3dm must land in its own tile's
    volume; with one subtree level the level-1 tiles come from child subtrees."""
    city = json.loads((SAMPLE / "city" / "tileset.json").read_text())["root"]
    for name, (x, y) in {"ll": (0, 0), "lr": (1, 0), "ul": (0, 1), "ur": (1, 1)}.items():
        (tmp_path / "content" / "1" / str(x)).mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / "city" / f"{name}.b3dm", tmp_path / "content" / "1" / str(x) /
                    f"{y}.b3dm")
    sub = tmp_path / "subtrees"
    if subtree_levels == 2:  # one subtree: root (no content) + 4 children with content
        (sub / "0" / "0").mkdir(parents=True)
        (sub / "0" / "0" / "0.subtree").write_bytes(_subtree(
            {"buffers": [{"byteLength": 1}], "bufferViews": [
                {"buffer": 0, "byteOffset": 0, "byteLength": 1}],
             "tileAvailability": {"constant": 1},
             "contentAvailability": [{"bitstream": 0}],
             "childSubtreeAvailability": {"constant": 0}}, bytes([0b11110])))
    else:  # a root subtree and four child subtrees, one tile each
        (sub / "0" / "0").mkdir(parents=True)
        (sub / "0" / "0" / "0.subtree").write_bytes(_subtree(
            {"tileAvailability": {"constant": 1}, "contentAvailability": [{"constant": 0}],
             "childSubtreeAvailability": {"constant": 1}}))
        for x in (0, 1):
            (sub / "1" / str(x)).mkdir(parents=True)
            for y in (0, 1):
                (sub / "1" / str(x) / f"{y}.subtree").write_bytes(_subtree(
                    {"tileAvailability": {"constant": 1},
                     "contentAvailability": [{"constant": 1}],
                     "childSubtreeAvailability": {"constant": 0}}))
    doc = {"asset": {"version": "1.1"}, "geometricError": 140,
           "root": {"boundingVolume": city["boundingVolume"], "geometricError": 70,
                    "refine": "REPLACE",
                    "content": {"uri": "content/{level}/{x}/{y}.b3dm"},
                    "implicitTiling": {"subdivisionScheme": "QUADTREE",
                                       "subtreeLevels": subtree_levels,
                                       "availableLevels": 2,
                                       "subtrees": {"uri": "subtrees/{level}/{x}/{y}.subtree"}}}}
    (tmp_path / "tileset.json").write_text(json.dumps(doc))
    ts = open_tileset(tmp_path / "tileset.json")
    assert ts.crs.to_epsg() == 4978 and ts.root.content is None
    kids = ts.expand(ts.root)
    assert len(kids) == 4 and ts.warnings == []
    for kid in kids:
        assert kid.geometric_error == 35 and ts.expand(kid) == []
        mesh = ts.load(kid).meshes[0]
        assert np.linalg.norm(_xyz(mesh) - kid.center, axis=1).max() <= kid.radius
    # the four tiles together are the sample's four
    names = sorted(f"{Path(k.content[0]).parent.name}/{Path(k.content[0]).name}"
                   for k in kids)
    assert names == ["0/0.b3dm", "0/1.b3dm", "1/0.b3dm", "1/1.b3dm"]
    # a bitstream shorter than the subtree needs is one clear warning, not a crash
    if subtree_levels == 2:
        (sub / "0" / "0" / "0.subtree").write_bytes(_subtree(
            {"buffers": [{"byteLength": 1}], "bufferViews": [
                {"buffer": 0, "byteOffset": 0, "byteLength": 0}],
             "tileAvailability": {"constant": 1},
             "contentAvailability": [{"bitstream": 0}],
             "childSubtreeAvailability": {"constant": 0}}, bytes([0b11110])))
        with pytest.raises(LoadError, match="bitstream does not fit"):
            open_tileset(tmp_path / "tileset.json")


def test_an_overview_of_an_export_with_empty_inner_tiles_draws(city_export):
    """RealScene's export keeps content in its leaves only; its inner tiles have a geometric
    error but nothing of their own to show. Seen from afar (every inner tile's error under
    the threshold) the city still shows: selection goes through tiles without content."""
    _src, out = city_export
    ts = open_tileset(out / "tileset.json")
    stream = TileStream(ts)
    try:
        far = ts.root.center + np.array([0.0, 0.0, 1.0]) * ts.root.radius * 50
        assert View(far, 1000.0).sse(ts.root) < DEFAULT_MAX_SSE
        sel = stream.wait(View(far, 1000.0))
        assert sel.draw and sel.triangles > 0
    finally:
        stream.close()
        ts.close()


# ------------------------------------------------------------------ Draco point tiles


def _draco_pnts(xyz: np.ndarray, rgb: np.ndarray, intensity: np.ndarray,
                rtc: np.ndarray) -> bytes:
    """A pnts with 3DTILES_draco_point_compression, written per the extension's spec:
    POSITION (around RTC_CENTER), RGB and a batch-table Intensity column in one Draco
    buffer of the feature table's binary, each named by its Draco unique id."""
    import DracoPy

    blob = DracoPy.encode((xyz - rtc).astype(np.float32), quantization_bits=16,
                          colors=rgb, preserve_order=True,
                          generic_attributes={7: intensity.reshape(-1, 1)})
    ids = {a["attribute_type"]: a["unique_id"]
           for a in DracoPy.decode(blob).data_struct["attributes"]}  # 0 position, 2 colour
    ft_bin = blob + b"\0" * (-len(blob) % 8)
    ft_json = _padded(json.dumps({
        "POINTS_LENGTH": len(xyz), "POSITION": {"byteOffset": 0},
        "RGB": {"byteOffset": 0}, "RTC_CENTER": rtc.tolist(),
        "extensions": {"3DTILES_draco_point_compression": {
            "properties": {"POSITION": ids[0], "RGB": ids[2]},
            "byteOffset": 0, "byteLength": len(blob)}}}).encode())
    bt_json = _padded(json.dumps({
        "Intensity": {"byteOffset": 0, "type": "SCALAR", "componentType": "UNSIGNED_BYTE"},
        "extensions": {"3DTILES_draco_point_compression": {
            "properties": {"Intensity": 7}}}}).encode())
    total = 28 + len(ft_json) + len(ft_bin) + len(bt_json)
    return struct.pack("<4sIIIIII", b"pnts", 1, total, len(ft_json), len(ft_bin),
                       len(bt_json), 0) + ft_json + ft_bin + bt_json


@pytest.mark.timeout(60)
def test_draco_compressed_pnts(tmp_path):
    """The sample's real points re-encoded with 3DTILES_draco_point_compression (DracoPy,
    16-bit positions) decode to the same points within the quantization step, their
    colours exactly, RTC_CENTER added and the compressed batch-table column as a point
    attribute; @loaders.gl/3d-tiles (independent, when installed) reads the same file
    to the same points."""
    ref = decode((SAMPLE / "points.pnts").read_bytes(), "points.pnts").points[0]
    xyz, rgb = _xyz(ref), ref.attributes["rgb"]
    intensity = rgb.astype(np.uint16).sum(axis=1).astype(np.uint8)
    rtc = np.array([1200.0, -340.0, 56.0])
    pnts = _draco_pnts(xyz + rtc, rgb, intensity, rtc)
    assert len(pnts) < len((SAMPLE / "points.pnts").read_bytes())  # (order kept: ~2/3)
    cloud = decode(pnts, "draco.pnts").points[0]
    step = (xyz.max(axis=0) - xyz.min(axis=0)).max() / (2 ** 16 - 1)
    got = _xyz(cloud)
    assert cloud.point_count == len(xyz)
    assert np.abs(got - (xyz + rtc)).max() <= step + 1e-5
    assert (cloud.attributes["rgb"] == rgb).all()
    assert (cloud.attributes["intensity"] == intensity).all()
    # through a tileset: the tile's transform applies as for plain points
    path = tmp_path / "draco.pnts"
    path.write_bytes(pnts)
    ts = open_tileset(_one_tile_tileset(tmp_path, "draco.pnts", [0, 0, 0, 2000, 0, 0, 0,
                                                                 2000, 0, 0, 0, 2000],
                                        [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 5, 6, 7, 1]))
    (loaded,) = ts.load(ts.root).points
    assert np.abs(_xyz(loaded) - (xyz + rtc + [5, 6, 7])).max() <= step + 1e-5
    # broken Draco data and a lying byteLength are one clear error
    head = 28 + struct.unpack_from("<I", pnts, 12)[0]
    broken = bytearray(pnts)
    broken[head:head + 64] = b"\xff" * 64
    with pytest.raises(LoadError, match="Draco"):
        decode(bytes(broken), "broken.pnts")
    with pytest.raises(LoadError, match="runs past"):
        decode(re.sub(rb'"byteLength": (\d+)', lambda m: b'"byteLength": ' +
                      b"9" * len(m[1]), pnts), "long.pnts")
    # an independent reader of the same file
    if shutil.which("node") is None or not (REPO / "node_modules" / "@loaders.gl" /
                                            "3d-tiles").exists():
        pytest.skip("node or @loaders.gl/3d-tiles missing: no independent read")
    run = subprocess.run(["node", str(Path(__file__).with_name("tiles3d_pnts_loadersgl.mjs")),
                          str(path)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    other = json.loads(run.stdout)
    assert other["pointCount"] == len(xyz)
    assert np.abs(np.asarray(other["positions"]) - got).max() < 1e-3
    assert (np.asarray(other["colors"]) == rgb).all()
    assert (np.asarray(other["intensity"]).reshape(-1) == intensity).all()


# ------------------------------------------------------------------ .gltf (JSON) content


def _gltf_tileset(folder: Path, glb: Path, image_uri: str, buffer_uri: str | None = None
                  ) -> None:
    """``folder``: a one-tile tileset whose content is ``models/fuze.gltf`` (JSON) with its
    .bin beside it and its texture under ``textures/`` (``image_uri`` as written)."""
    models = folder / "models"
    models.mkdir(parents=True)
    subprocess.run([str(NODE_BIN / "gltf-pipeline"), "-i", str(glb), "-o",
                    str(models / "fuze.gltf"), "--separate"], check=True,
                   capture_output=True, timeout=120)
    (folder / "textures").mkdir()
    (models / "fuze0.jpg").rename(folder / "textures" / "fuze0.jpg")
    doc = json.loads((models / "fuze.gltf").read_text())
    doc["images"][0]["uri"] = image_uri
    if buffer_uri is not None:
        doc["buffers"][0]["uri"] = buffer_uri
    (models / "fuze.gltf").write_text(json.dumps(doc))
    _one_tile_tileset(folder, "models/fuze.gltf", [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], None)


@pytest.mark.timeout(90)
def test_gltf_json_content_with_external_files_local_and_over_http(tmp_path):
    """A .gltf content (JSON) whose .bin lies beside it and whose texture lies in the
    tileset's textures/ folder (../textures/: inside the tileset, outside the glTF's
    folder) reads the same locally and over HTTP as the GLB it was made from (trimesh's
    export of the real textured fuze OBJ); URIs leaving the folder or the host are
    refused (a texture: skipped with a warning; a buffer: the tile's error)."""
    if not (NODE_BIN / "gltf-pipeline").exists():
        pytest.skip("gltf-pipeline not installed (npm install in the repository)")
    import trimesh
    from PIL import Image

    from tests.loaders.test_http_limits import Handler, serve_directory

    glb = tmp_path / "fuze.glb"
    trimesh.load(SHARED_DATA / "meshes" / "fuze_textured_obj" / "fuze.obj").export(glb)
    ref = decode(glb.read_bytes(), str(glb)).meshes[0]
    _gltf_tileset(tmp_path / "t", glb, "../textures/fuze0.jpg")
    with Image.open(tmp_path / "t" / "textures" / "fuze0.jpg") as im:
        texture = np.asarray(im.convert("RGB"))

    def check(ts: Tiles3dTileSet) -> None:
        (mesh,) = ts.load(ts.root).meshes
        assert mesh.triangle_count == ref.triangle_count == 1000
        assert np.abs(_xyz(mesh) - _xyz(ref)).max() < 1e-6
        assert np.abs(mesh.uvs - ref.uvs).max() < 1e-6
        (part,) = mesh.parts
        assert part.material.texture is not None
        assert (part.material.texture[..., :3] == texture).all()

    check(open_tileset(tmp_path / "t" / "tileset.json"))
    server, url, _ = serve_directory(Handler, tmp_path / "t")
    try:
        remote = open_tileset(f"{url}/tileset.json")
        check(remote)
        assert remote.warnings == []
    finally:
        server.shutdown()
        server.server_close()
    # a texture outside the tileset's folder is skipped (said), a foreign-host buffer fails
    (tmp_path / "outside.jpg").write_bytes((tmp_path / "t" / "textures" /
                                            "fuze0.jpg").read_bytes())
    _gltf_tileset(tmp_path / "h" / "t", glb, "../../outside.jpg")
    ts = open_tileset(tmp_path / "h" / "t" / "tileset.json")
    (mesh,) = ts.load(ts.root).meshes
    assert mesh.parts[0].material.texture is None
    assert any("outside" in w for w in ts.warnings)
    _gltf_tileset(tmp_path / "x", glb, "../textures/fuze0.jpg", "http://127.0.0.2:9/fuze.bin")
    server, url, _ = serve_directory(Handler, tmp_path / "x")
    try:
        with pytest.raises(LoadError, match="another host"):
            ts = open_tileset(f"{url}/tileset.json")
            ts.load(ts.root)
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ content bounding volumes


@pytest.mark.timeout(60)
def test_content_bounding_volume_culls_the_content(tmp_path):
    """Two tiles of the sample's real ll.b3dm under loose 400 m-wider spheres, one also
    giving its content's tight ``content.boundingVolume`` (1.0), a third with 1.1
    ``contents[]`` volumes: with the view's plane just past the content, the loose tiles
    are still visible, but only contents whose own volume is in view are fetched and
    drawn; with no frustum all three load. The volume follows the target CRS."""
    src = SAMPLE / "city" / "ll.b3dm"
    for name in ("a.b3dm", "b.b3dm", "c.b3dm"):
        shutil.copy(src, tmp_path / name)
    xyz = _xyz(decode(src.read_bytes(), str(src)).meshes[0])
    c = (xyz.min(axis=0) + xyz.max(axis=0)) / 2
    r = float(np.linalg.norm(xyz - c, axis=1).max())
    loose = {"sphere": [*c.tolist(), r + 400]}
    tight = {"sphere": [*c.tolist(), r]}
    kids = [{"boundingVolume": loose, "geometricError": 0,
             "content": {"uri": "a.b3dm", "boundingVolume": tight}},
            {"boundingVolume": loose, "geometricError": 0, "content": {"uri": "b.b3dm"}},
            {"boundingVolume": loose, "geometricError": 0,
             "contents": [{"uri": "c.b3dm", "boundingVolume": tight}]}]
    (tmp_path / "tileset.json").write_text(json.dumps({
        "asset": {"version": "1.1"}, "geometricError": 100,
        "root": {"boundingVolume": loose, "geometricError": 100, "refine": "ADD",
                 "children": kids}}))
    ts = open_tileset(tmp_path / "tileset.json")
    a, b, cc = ts.expand(ts.root)
    assert a.content_volume is not None and b.content_volume is None
    assert np.allclose(a.content_volume[0], c) and a.content_volume[1] == pytest.approx(r)
    assert np.allclose(cc.content_volume[0], c)
    eye = c + [r + 200.0, 0, 0]
    plane = np.array([[1.0, 0, 0, -(c[0] + r + 50)]])  # x >= c.x + r + 50 is in view
    stream = TileStream(ts)
    try:
        sel = stream.wait(View(eye, 1000.0, plane))
        assert [t.key for t in sel.draw] == [b.key]
        assert stream.content(a) is None and stream.content(cc) is None  # never fetched
        sel = stream.wait(View(eye, 1000.0))
        assert sorted(t.key for t in sel.draw) == sorted([a.key, b.key, cc.key])
    finally:
        stream.close()
    ts.set_target_crs("EPSG:4979")
    lon, lat, h = a.content_volume[0]
    assert np.allclose(_lonlat(c[None])[0], [np.radians(lon), np.radians(lat), h], atol=1e-6)


# ------------------------------------------------------------------ transient HTTP errors


@pytest.mark.timeout(60)
def test_external_tileset_read_again_after_a_transient_http_error():
    """The sample over HTTP, its external city/tileset.json answered 503 twice: the
    stream reads it again after its back-off and draws the city (the other children
    drawn meanwhile); answered 404 it is not retried and the rest still draws."""
    from tests.loaders.test_http_limits import Handler, serve_directory

    class Flaky(Handler):
        fails: list = [0]
        status: list = [503]

        def do_GET(self):  # noqa: N802
            if self.path.endswith("city/tileset.json"):
                self.log.append((self.path, None))
                if self.fails[0] > 0:
                    self.fails[0] -= 1
                    self.send_error(self.status[0])
                    return
                self.serve()
                return
            super().do_GET()

    server, url, cls = serve_directory(Flaky, SAMPLE)
    try:
        for status, fails, drawn in ((503, 2, 6), (404, 1, 2)):
            cls.fails[0], cls.status[0] = fails, status
            cls.log.clear()
            ts = open_tileset(f"{url}/tileset.json")
            (points,) = [t for t in ts.expand(ts.root) if t.content
                         and t.content[0].endswith(".pnts")]
            stream = TileStream(ts)
            stream.retry_seconds = 0.05
            try:
                sel = stream.wait(View(points.center + np.array([0, 0, 10.0]), 1000.0),
                                  timeout=30)
            finally:
                stream.close()
            assert len(sel.draw) == drawn, (status, ts.warnings)
            asked = [p for p, _ in cls.log if p.endswith("city/tileset.json")]
            assert len(asked) == (3 if status == 503 else 1)
            assert any(f"HTTP {status}" in w for w in ts.warnings)
    finally:
        server.shutdown()
        server.server_close()
