"""Tiled datasets from strangers: 3D Tiles, OSGB and GeoTIFF terrain built here to lie
(sizes, depths, volumes, paths, servers), from the real sample tiles of ../shared/data,
OpenSceneGraph's own osgconv and rasterio. Every case must end as one clear LoadError
naming the file (or one warning of the tileset's while the stream goes on), never a
crash, a hang, a memory blow-up or a read outside the tileset's folder."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loaders
from loaders import LoadError
from loaders.tiles import TileStream, View, tiles3d
from loaders.tiles import base as tiles_base
from loaders.tiles.tiles3d import open_tileset
from loaders.tiles.tiles3d_content import decode
from tests.conftest import SHARED_DATA

from .osgb_support import OSGT_HEADER, UniqueIds, geode_osgt, geometry_osgt, paged_lod_osgt
from .test_http_limits import serve_directory

SAMPLE = SHARED_DATA / "tiles" / "TilesetWithRequestVolume"
REGION = json.loads((SAMPLE / "city" / "tileset.json").read_text())["root"]["boundingVolume"]


def _walk(ts) -> list:
    out, stack = [], [ts.root]
    while stack:
        tile = stack.pop()
        out.append(tile)
        stack += ts.expand(tile)
    return out


def _write_tileset(folder: Path, doc: dict | str, tiles: tuple[str, ...] = ("ll.b3dm",)
                   ) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in tiles:
        shutil.copy(SAMPLE / "city" / name, folder / name)
    (folder / "tileset.json").write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return folder / "tileset.json"


def _doc(root: dict) -> dict:
    return {"asset": {"version": "1.0"}, "geometricError": 100, "root": root}


def _leaf(uri: str = "ll.b3dm", **kw) -> dict:
    return {"boundingVolume": REGION, "geometricError": 0, "content": {"uri": uri}, **kw}


# ======================================================================== 3D Tiles JSON


@pytest.mark.timeout(30)
def test_tileset_json_too_big_too_deep_or_not_a_file(tmp_path, monkeypatch):
    deep = ('{"asset":{"version":"1.0"},"geometricError":1,"root":'
            + '{"children":[' * 100_000 + "]}" * 100_000 + "}")
    with pytest.raises(LoadError, match="invalid tileset JSON"):
        open_tileset(_write_tileset(tmp_path / "deep", deep))
    monkeypatch.setattr(tiles3d, "MAX_TILESET_BYTES", 1 << 20)
    big = _doc(dict(_leaf(), extras={"pad": "x" * (2 << 20)}))
    with pytest.raises(LoadError, match="more than"):
        open_tileset(_write_tileset(tmp_path / "big", big))
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "tileset.json")
    with pytest.raises(LoadError, match="named pipe"):
        open_tileset(fifo / "tileset.json")
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "a.json").symlink_to(loop / "b.json")
    (loop / "b.json").symlink_to(loop / "a.json")
    with pytest.raises(LoadError) as info:
        open_tileset(loop / "a.json")
    assert "a.json" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.timeout(60)
def test_a_tile_with_too_many_children_is_cut_and_a_deep_tree_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(tiles_base, "MAX_CHILDREN", 50)
    wide = _doc({"boundingVolume": REGION, "geometricError": 50,
                 "children": [_leaf() for _ in range(400)]})
    ts = open_tileset(_write_tileset(tmp_path / "wide", wide))
    assert len(ts.expand(ts.root)) == 50
    assert any("400 children" in w for w in ts.warnings)
    # 400 levels, one tile each: the stream stops refining at the depth limit
    depth = 400
    text = ('{"asset":{"version":"1.0"},"geometricError":100,"root":'
            + f'{{"boundingVolume":{json.dumps(REGION)},"geometricError":10,"children":['
            * depth + "]}" * depth + "}")
    ts = open_tileset(_write_tileset(tmp_path / "deep", text))
    stream = TileStream(ts)
    try:
        stream.wait(View(ts.root.center, 1e6, max_sse=1e-9), timeout=60)
    finally:
        stream.close()
    assert max(t.depth for t in _walk(ts)) <= tiles_base.MAX_DEPTH
    assert any("deep" in w for w in ts.warnings)


@pytest.mark.timeout(30)
def test_unusable_volumes_errors_and_transforms(tmp_path):
    huge = {"sphere": [1e308, 1e308, 1e308, 1e308]}
    with pytest.raises(LoadError, match="root tile"):
        open_tileset(_write_tileset(tmp_path / "r", _doc(dict(_leaf(), boundingVolume=huge))))
    kids = [_leaf(boundingVolume=huge), _leaf(boundingVolume={"box": [0, 0, 0] + [1e300] * 9}),
            _leaf(transform=[float("nan")] * 16), _leaf(transform=[1e300] * 16),
            _leaf(boundingVolume={"sphere": [0, 0, 0, -5.0]}),
            _leaf(geometricError=float("nan")), _leaf(geometricError=-3), _leaf()]
    doc = _doc({"boundingVolume": REGION, "geometricError": 50, "refine": "ADD",
                "children": kids})
    text = json.dumps(doc).replace("NaN", "1e999")  # (JSON has no NaN; 1e999 reads as inf)
    ts = open_tileset(_write_tileset(tmp_path / "k", text))
    children = ts.expand(ts.root)
    # a region ignores transforms (the spec): 3's volume is fine, its content is not; a
    # negative sphere radius is taken as its size; broken geometric errors read as 0
    assert [t.key for t in children] == ["0/3", "0/4", "0/5", "0/6", "0/7"]
    assert all(np.all(np.isfinite(t.center)) and np.isfinite(t.radius) for t in children)
    assert sum("not shown" in w for w in ts.warnings) == 2
    assert any("transform holds NaN" in w for w in ts.warnings)
    assert sum("invalid geometricError" in w for w in ts.warnings) == 2
    stream = TileStream(ts)
    try:
        sel = stream.wait(View(ts.root.center + [0, 0, 300.0], 1000.0), timeout=30)
        assert {t.key for t in sel.draw} >= {"0/5", "0/6", "0/7"}  # the good ones draw
        three = next(t for t in sel.draw if t.key == "0/3")
        assert not (stream.content(three) and stream.content(three).meshes)
    finally:
        stream.close()
    assert any("ll.b3dm" in w and "infinite coordinates" in w for w in ts.warnings)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("uri", ["%2e%2e/secret.b3dm", "..\\secret.b3dm", "sub/%2E%2E/%2e%2e/"
                                 "secret.b3dm", "%2Ftmp%2Fsecret.b3dm", "C:%5Csecret.b3dm",
                                 "\\\\host\\share\\secret.b3dm", "//host/secret.b3dm",
                                 "data:application/octet-stream;base64,YjNkbQ==",
                                 "file:///etc/passwd", "link.b3dm", "loop.b3dm", "%00.b3dm"])
def test_content_uris_that_leave_the_folder_are_refused(tmp_path, uri):
    (tmp_path / "secret.b3dm").write_bytes((SAMPLE / "city" / "ll.b3dm").read_bytes())
    inner = tmp_path / "set"
    (inner / "sub").mkdir(parents=True)
    (inner / "link.b3dm").symlink_to(tmp_path / "secret.b3dm")
    (inner / "loop.b3dm").symlink_to(inner / "loop.b3dm")
    doc = _doc({"boundingVolume": REGION, "geometricError": 50,
                "children": [_leaf(uri), _leaf("ll.b3dm")]})
    ts = open_tileset(_write_tileset(inner, doc))
    kids = ts.expand(ts.root)
    assert [Path(k.content[0]).name for k in kids] == ["ll.b3dm"]
    assert len(ts.warnings) == 1 and "\n" not in ts.warnings[0]


# ======================================================================== contents


def _b3dm(glb: bytes, ft: bytes = b'{"BATCH_LENGTH":0}  ', bt: bytes = b"") -> bytes:
    size = 28 + len(ft) + len(bt) + len(glb)
    return b"b3dm" + struct.pack("<6I", 1, size, len(ft), 0, len(bt), 0) + ft + bt + glb


def _glb(doc: dict, binary: bytes = b"\0" * 12) -> bytes:
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    size = 12 + 8 + len(js) + 8 + len(binary)
    return (b"glTF" + struct.pack("<II", 2, size) + struct.pack("<I", len(js)) + b"JSON" + js
            + struct.pack("<I", len(binary)) + b"BIN\0" + binary)


def _pnts(ft: dict, binary: bytes) -> bytes:
    js = json.dumps(ft).encode()
    js += b" " * (-len(js) % 8)
    size = 28 + len(js) + len(binary)
    return b"pnts" + struct.pack("<6I", 1, size, len(js), len(binary), 0, 0) + js + binary


@pytest.mark.timeout(30)
def test_lying_contents_are_one_load_error():
    n = 2**32 - 1
    glb = _glb({"asset": {"version": "2.0"}, "buffers": [{"byteLength": n}],
                "bufferViews": [{"buffer": 0, "byteLength": n}],
                "accessors": [{"bufferView": 0, "componentType": 5126, "count": n // 12,
                               "type": "VEC3"}],
                "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
                "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0})
    cases = {
        "glb 4 GB buffer": _b3dm(glb),
        "pnts 2^31 points": _pnts({"POINTS_LENGTH": 2**31, "POSITION": {"byteOffset": 0}},
                                  b"\0" * 24),
        "batch table longer than the tile": b"b3dm" + struct.pack("<6I", 1, 60, 0, 0,
                                                                  2**31, 0) + b"\0" * 32,
        "batch table JSON not JSON": _b3dm(glb, bt=b"[" * 200_000 + b" " * 8),
    }
    inner = (SAMPLE / "city" / "ll.b3dm").read_bytes()
    deep = inner
    for _ in range(10_000):  # cmpt in cmpt in cmpt ...
        deep = b"cmpt" + struct.pack("<3I", 1, 16 + len(deep), 1) + deep
    cases["cmpt 10^4 deep"] = deep
    for name, data in cases.items():
        with pytest.raises(LoadError) as info:
            decode(data, f"/x/{name}.b3dm")
        assert name in str(info.value) and "\n" not in str(info.value), name


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(which=st.sampled_from(["city/ll.b3dm", "points.pnts"]),
       edits=st.lists(st.tuples(st.integers(0, 63), st.integers(0, 255)), max_size=8),
       cut=st.integers(0, 4096))
def test_mutated_tile_headers_never_escape_as_other_errors(which, edits, cut):
    data = bytearray((SAMPLE / which).read_bytes())
    for pos, value in edits:
        data[pos] = value
    data = bytes(data[: len(data) - cut])
    try:
        decode(data, "/x/t.b3dm")
    except LoadError as exc:
        assert "\n" not in str(exc)


# ======================================================================== over HTTP


class _Slow(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/to-file/"):
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/to-host/"):
            self.send_response(302)
            self.send_header("Location", self.other + "/tileset.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/slow/"):
            time.sleep(4)
        super().do_GET()


@pytest.mark.timeout(60)
def test_slow_and_redirecting_servers(tmp_path):
    _write_tileset(tmp_path, _doc(_leaf()))
    other, other_url, _ = serve_directory(http.server.SimpleHTTPRequestHandler, tmp_path)
    server, url, cls = serve_directory(_Slow, tmp_path)
    cls.other = other_url
    (tmp_path / "slow").mkdir()
    shutil.copy(tmp_path / "tileset.json", tmp_path / "slow" / "tileset.json")
    try:
        with pytest.raises(LoadError) as info:
            open_tileset(f"{url}/slow/tileset.json", http_deadline=1.0)
        assert "slow/tileset.json" in str(info.value)
        for path in ("to-file", "to-host"):
            with pytest.raises(LoadError) as info:
                open_tileset(f"{url}/{path}/tileset.json")
            assert path in str(info.value) and "\n" not in str(info.value)
    finally:
        for s in (server, other):
            s.shutdown()
            s.server_close()


# ======================================================================== OSGB


def _osgb(path: Path, children: list[str]) -> None:
    ids = UniqueIds()
    xyz = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]], dtype=float)
    geode = geode_osgt(geometry_osgt(xyz, np.array([[0, 1, 2]]), None, None, ids), ids)
    text = paged_lod_osgt(np.array([3.0, 3, 0]), 8.0, geode, children, 100.0, ids)
    src = path.with_suffix(".osgt")
    src.write_text(OSGT_HEADER + text)
    subprocess.run(["osgconv", str(src), str(path)], check=True, capture_output=True,
                   timeout=60)
    src.unlink()


def _osgb_tileset(folder: Path, children: list[str],
                  meta: str = "<ModelMetadata><SRS>EPSG:28992</SRS>"
                              "<SRSOrigin>85000,447000,0</SRSOrigin></ModelMetadata>") -> Path:
    top = folder / "Data" / "Tile_+000_+000"
    top.mkdir(parents=True)
    (folder / "metadata.xml").write_text(meta)
    _osgb(top / "Tile_+000_+000.osgb", children)
    return folder


@pytest.mark.timeout(60)
def test_osgb_cycles_end_at_once(tmp_path):
    me = _osgb_tileset(tmp_path / "me", ["Tile_+000_+000.osgb"])
    ab = _osgb_tileset(tmp_path / "ab", ["b.osgb"])
    _osgb(ab / "Data" / "Tile_+000_+000" / "b.osgb", ["./Tile_+000_+000.osgb"])
    for folder, depth in ((me, 0), (ab, 1)):
        ts = loaders.read(folder)
        stream = TileStream(ts)
        try:
            stream.wait(View(ts.root.center + [0, 0, 1.0], 1e5, max_sse=1e-6), timeout=30)
        finally:
            stream.close()
        assert max(t.depth for t in _walk(ts)) == depth
        assert any("cycle" in w for w in ts.warnings)


@pytest.mark.timeout(60)
def test_osgb_many_children_odd_files_and_metadata(tmp_path, monkeypatch):
    monkeypatch.setattr(tiles_base, "MAX_CHILDREN", 100)
    many = _osgb_tileset(tmp_path / "many", [f"c{i}.osgb" for i in range(3000)])
    ts = loaders.read(many)
    assert ts.expand(ts.root) == []
    assert any("3,000 children" in w for w in ts.warnings)
    assert len(ts.warnings) <= tiles_base.MAX_WARNINGS + 1
    # an origin no earth has
    far = _osgb_tileset(tmp_path / "far", [], "<ModelMetadata><SRS>not a CRS</SRS>"
                        "<SRSOrigin>1e308,1e308,0</SRSOrigin></ModelMetadata>")
    with pytest.raises(LoadError, match="SRSOrigin"):
        loaders.read(far)
    # a FIFO, an empty file, a link to outside the folder as top tiles; dirs without files
    for name in ("fifo", "empty", "link", "dirs"):
        folder = _osgb_tileset(tmp_path / name, [])
        top = folder / "Data" / "Tile_+000_+000" / "Tile_+000_+000.osgb"
        if name == "fifo":
            top.unlink()
            os.mkfifo(top)
        elif name == "empty":
            top.write_bytes(b"")
        elif name == "link":
            shutil.move(top, tmp_path / "outside.osgb")
            top.symlink_to(tmp_path / "outside.osgb")
        else:
            shutil.rmtree(folder / "Data" / "Tile_+000_+000")
            for i in range(2000):
                (folder / "Data" / f"Tile_{i:+04d}_+000").mkdir()
        with pytest.raises(LoadError) as info:
            loaders.read(folder)
        assert str(folder) in str(info.value) and "\n" not in str(info.value), name
    # a child that is /dev/zero through a link
    zero = _osgb_tileset(tmp_path / "zero", ["z.osgb"])
    (zero / "Data" / "Tile_+000_+000" / "z.osgb").symlink_to("/dev/zero")
    ts = loaders.read(zero)
    with pytest.raises(LoadError, match="outside"):
        ts.expand(ts.root)


# ======================================================================== GeoTIFF


def _tif(path: Path, data: np.ndarray, **kw) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    data = data if data.ndim == 3 else data[None]
    profile = {"driver": "GTiff", "width": data.shape[2], "height": data.shape[1],
               "count": data.shape[0], "dtype": data.dtype, "crs": "EPSG:28992",
               "transform": from_origin(85000, 447000, 1, 1)}
    profile.update(kw)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    return path


def _drawn(ts) -> int:
    stream = TileStream(ts)
    try:
        sel = stream.wait(View(ts.root.center + [0, 0, 2 * ts.root.radius + 10], 1000.0),
                          timeout=30)
        return len(sel.draw)
    finally:
        stream.close()


@pytest.mark.timeout(60)
def test_odd_dems_and_orthophotos(tmp_path):
    from affine import Affine

    dem = np.random.default_rng(0).random((50, 60)).astype("float32") * 10
    bad = dem.copy()
    bad[5:10, 5:10], bad[20, 20], bad[21, 21], bad[30, 30] = np.nan, np.inf, -np.inf, 3e38
    ts = loaders.read(_tif(tmp_path / "bad.tif", bad))
    assert _drawn(ts) and 0 <= ts.z_range[0] <= ts.z_range[1] <= 10  # 3e38: nodata
    ts = loaders.read(_tif(tmp_path / "nodata.tif", np.full((40, 40), -9999, "float32"),
                           nodata=-9999))
    assert any("nodata" in w for w in ts.warnings)
    _drawn(ts)
    for name, kw in [("rotated", {"transform": Affine(0.7, 0.7, 85000, 0.7, -0.7, 447000)}),
                     ("sheared", {"transform": Affine(1, 5, 85000, 0, -1e-9, 447000)}),
                     ("nocrs", {"crs": None})]:
        assert _drawn(loaders.read(_tif(tmp_path / f"{name}.tif", dem, **kw))), name
    one = loaders.read(_tif(tmp_path / "one.tif", np.array([[5.0]], "float32")))
    assert _drawn(one) and one.z_range == (5.0, 5.0)
    with pytest.raises(LoadError, match="root tile"):  # pixels of 1e299 m
        from rasterio.transform import from_origin

        loaders.read(_tif(tmp_path / "huge.tif", dem, transform=from_origin(0, 1e300, 1e299,
                                                                             1e299)))
    rng = np.random.default_rng(1)
    for name, ortho in [("o16", (rng.random((3, 40, 40)) * 65535).astype("uint16")),
                        ("o2", (rng.random((2, 40, 40)) * 255).astype("uint8")),
                        ("of", rng.random((3, 40, 40)).astype("float32"))]:
        ts = loaders.read(tmp_path / "rotated.tif")
        ts.drape(_tif(tmp_path / f"{name}.tif", ortho))
        assert _drawn(ts), name


@pytest.mark.timeout(60)
def test_rasters_that_name_other_files_or_inflate_are_refused(tmp_path):
    from loaders.tiles.terrain import TerrainTileSet

    secret = _tif(tmp_path / "secret.tif", np.ones((10, 10), "uint8"))
    # a VRT (XML naming any file or URL) given as a .tif
    (tmp_path / "evil.tif").write_text(
        '<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Byte" '
        f'band="1"><SimpleSource><SourceFilename relativeToVRT="0">{secret}</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>")
    for path in (tmp_path / "evil.tif", "/vsicurl/http://127.0.0.1:9/dem.tif",
                 f"/vsizip/{tmp_path}/a.zip/dem.tif", "/dev/zero"):
        with pytest.raises(LoadError) as info:
            TerrainTileSet(path)
        assert "\n" not in str(info.value)
    with pytest.raises(LoadError):
        loaders.read(tmp_path / "evil.tif")
    # one 16,000 x 16,000 deflate tile: 250 KB on disk, 244 MiB to read one pixel
    bomb = _tif(tmp_path / "bomb.tif", np.zeros((16000, 16000), "uint8"), compress="deflate",
                tiled=True, blockxsize=16000, blockysize=16000)
    with pytest.raises(LoadError, match="blocks of 16,000"):
        loaders.read(bomb)
    # 100,000 x 100,000 declared, one block written (a sparse file): opens and streams
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    with rasterio.open(tmp_path / "sparse.tif", "w", driver="GTiff", width=100_000,
                       height=100_000, count=1, dtype="float32", crs="EPSG:28992",
                       transform=from_origin(85000, 447000, 1, 1), compress="deflate",
                       tiled=True, blockxsize=256, blockysize=256, sparse_ok=True,
                       nodata=-9999) as ds:
        ds.write(np.full((1, 256, 256), 5, "float32"), window=Window(50_000, 50_000, 256, 256))
    ts = loaders.read(tmp_path / "sparse.tif")
    assert _drawn(ts) and ts.z_range == (5.0, 5.0)
