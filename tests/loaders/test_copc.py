"""COPC: streaming a real COPC file locally and over HTTP range requests (from a local
server the test starts), and indexing real LAS/LAZ files to COPC (validated with laspy's
CopcReader, our CopcSource and a point-by-point comparison with the source)."""

from __future__ import annotations

import http.server
import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import LoadError
from loaders.copc import open_copc
from loaders.writers.copc import write_copc
from viewer.cli import main

laspy = pytest.importorskip("laspy")

LION = "lion_takanawa.copc.laz"
LION_POINTS = 341_989


# --------------------------------------------------------------------------------------
# a local HTTP server with (or without) Range support
# --------------------------------------------------------------------------------------


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with ``Range: bytes=a-b`` support (206 + Content-Range)."""

    served = None  # list of byte counts, set per server

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):  # noqa: N802
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404, "Not Found")
            return
        size = path.stat().st_size
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        if not m:
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(data)
            self.served.append(len(data))
            return
        start = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
        if start >= size or end < start:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(data)
        self.served.append(len(data))


class NoRangeHandler(http.server.SimpleHTTPRequestHandler):
    """Python's own handler: ignores Range and sends the whole file with 200."""

    def log_message(self, *args):
        pass


def serve(handler, directory: Path):
    served: list[int] = []
    cls = type("H", (handler,), {"served": served})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(cls, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}", served


@pytest.fixture(scope="module")
def served_dir(tmp_path_factory, shared_data):
    """A folder with the lion and an indexed AHN3 copy with a deep, paged hierarchy."""
    root = tmp_path_factory.mktemp("copc_http")
    shutil.copy(shared_data / "pointclouds" / LION, root / LION)
    write_copc(shared_data / "pointclouds" / "ahn3_cropped_2.laz", root / "ahn3.copc.laz",
               leaf_points=4000, page_levels=2)
    return root


@pytest.fixture(scope="module")
def range_server(served_dir):
    server, url, served = serve(RangeHandler, served_dir)
    yield url, served
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def all_points(src):
    nodes = src.all_nodes()
    clouds = [src.get(n.key) for n in nodes]
    return nodes, clouds


def _sorted_rows(xyz: np.ndarray, *cols: np.ndarray) -> np.ndarray:
    table = np.column_stack([np.round(xyz, 6)] + [np.asarray(c, np.float64).reshape(
        len(xyz), -1) for c in cols])
    return table[np.lexsort(table.T[::-1])]


def check_nodes_inside(src, nodes, clouds, tol):
    for node, cloud in zip(nodes, clouds, strict=True):
        assert cloud.point_count == node.point_count, node.key
        assert np.array_equal(cloud.origin, src.origin)
        if cloud.point_count:
            p = cloud.positions.astype(np.float64)
            assert np.all(p >= node.lo - tol) and np.all(p <= node.hi + tol), node.key


# --------------------------------------------------------------------------------------
# local streaming
# --------------------------------------------------------------------------------------


def test_local_lion_streaming(shared_data):
    path = shared_data / "pointclouds" / LION
    with open_copc(path) as src:
        assert src.total_points == LION_POINTS
        meta = src.metadata
        assert meta["format"] == "COPC" and meta["version"] == "1.4"
        assert meta["point_format"] == 7 and meta["header_point_count"] == LION_POINTS
        assert meta["crs_source"] is None and src.crs is None
        assert meta["copc"]["halfsize"] > 0 and len(meta["copc"]["center"]) == 3
        assert np.array_equal(src.origin, np.round(meta["copc"]["center"]))
        assert "OriginId" in src.attribute_names and "rgb" in src.attribute_names
        # only header, VLRs, EVLR headers, the root page and the root chunk were read
        assert src.bytes_fetched < 0.2 * path.stat().st_size
        assert src.is_resident(src.root)

        nodes, clouds = all_points(src)
        assert sum(n.point_count for n in nodes) == LION_POINTS
        assert [c.key for c in src.children(src.root)] == src.node(src.root).children
        check_nodes_inside(src, nodes, clouds, tol=0.011)

        root = src.get(src.root)
        with laspy.CopcReader.open(str(path)) as reader:
            ref = reader.query(level=0)
        assert root.point_count == len(ref)
        ref_xyz = np.stack([ref.x, ref.y, ref.z], axis=1)
        assert np.allclose(root.xyz(), ref_xyz, atol=1e-6)
        assert np.array_equal(root.attributes["intensity"], np.asarray(ref.intensity))
        assert np.array_equal(root.attributes["OriginId"], np.asarray(ref.OriginId))
        ref_rgb = np.stack([ref.red, ref.green, ref.blue], axis=1) >> 8
        assert np.array_equal(root.attributes["rgb"], ref_rgb.astype(np.uint8))
        assert root.attributes["rgb"].dtype == np.uint8
        assert root.attributes["classification"].dtype == np.uint8

        # every node together = the whole file as the LAS reader reads it
        full = loaders.read(path)
        assert full.metadata["format"] == "COPC"  # loaders.read still reads it whole
        assert set(full.attributes) == set(src.attribute_names)
        all_xyz = np.concatenate([c.xyz() for c in clouds])
        all_oid = np.concatenate([c.attributes["OriginId"] for c in clouds])
        all_rgb = np.concatenate([c.attributes["rgb"] for c in clouds])
        assert np.array_equal(
            _sorted_rows(all_xyz, all_oid, all_rgb),
            _sorted_rows(full.xyz(), full.attributes["OriginId"], full.attributes["rgb"]))

        # the renderer's node selection works on it (whole hierarchy known: flat table)
        from loaders.lod import LodSource, look_at_view_proj, select_nodes

        assert isinstance(src, LodSource)
        table = src.node_table()
        assert table is not None and table.keys[0] == src.root and len(table.keys) == 9
        lo, hi = src.bounds
        assert np.all(lo <= hi) and np.all(np.abs(lo) < 10)  # local coordinates
        eye = (hi + lo) / 2 + np.array([0.0, -15.0, 3.0])
        view = look_at_view_proj(eye, (hi + lo) / 2, aspect=1.5)
        keys = select_nodes(src, view, 800, budget=150_000)
        assert keys[0] == src.root and sum(src.node(k).point_count for k in keys) <= 150_000

        preview = src.preview(max_points=100_000)
        assert preview.point_count == root.point_count  # level 1 does not fit
        assert preview.metadata["format"] == "COPC"
        assert src.preview(max_points=10_000).point_count == 10_000
        assert src.preview(max_points=10**6).point_count == LION_POINTS


def test_lru_budget_and_threads(shared_data):
    path = shared_data / "pointclouds" / LION
    with open_copc(path, cache_bytes=2_000_000) as src:
        keys = [n.key for n in src.all_nodes()]
        with ThreadPoolExecutor(8) as pool:
            clouds = list(pool.map(src.get, keys * 3))
        assert [c.point_count for c in clouds] == [src.node(k).point_count for k in keys] * 3
        # the budget holds (one node may exceed it alone)
        assert src.cached_bytes <= 2_000_000 or sum(map(src.is_resident, keys)) == 1
        assert not all(src.is_resident(k) for k in keys)


def test_open_progress_and_cancel(shared_data):
    path = shared_data / "pointclouds" / LION
    steps = []
    open_copc(path, progress=lambda f, m: steps.append((f, m))).close()
    assert steps[0][0] == 0.0 and steps[-1][0] == 1.0

    def cancel(fraction, message):
        if fraction >= 0.5:
            raise loaders.LoadCancelled()

    with pytest.raises(loaders.LoadCancelled):
        open_copc(path, progress=cancel)


def test_local_errors(shared_data, tmp_path):
    with pytest.raises(LoadError, match="not a COPC file"):
        open_copc(shared_data / "pointclouds" / "autzen_trim.laz")
    with pytest.raises(LoadError, match="file not found"):
        open_copc(tmp_path / "missing.copc.laz")
    with pytest.raises(LoadError, match="LAS/LAZ"):
        open_copc(shared_data / "meshes" / "gargo.ply")
    data = (shared_data / "pointclouds" / LION).read_bytes()
    cut = tmp_path / "cut.copc.laz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoadError) as info:
        open_copc(cut)
    assert "cut.copc.laz" in str(info.value) and info.value.hint
    # a damaged node chunk: open works, get(node) gives a LoadError (not a lazrs panic)
    with open_copc(shared_data / "pointclouds" / LION) as src:
        entry = src._entries[(1, 0, 0, 0)]
        page = (src.copc_info["hierarchy_root_offset"], src.copc_info["hierarchy_root_size"])
    rng = np.random.default_rng(1)
    damaged = bytearray(data)
    noise = rng.integers(0, 256, 3900, np.uint8).tobytes()
    damaged[entry.offset + 100: entry.offset + 4000] = noise
    (tmp_path / "damaged.copc.laz").write_bytes(damaged)
    with open_copc(tmp_path / "damaged.copc.laz") as src:
        with pytest.raises(LoadError, match=r"cannot decompress COPC node \(1, 0, 0, 0\)"):
            src.get((1, 0, 0, 0))
        assert src.get(src.root).point_count > 0
    # a garbage hierarchy page
    damaged = bytearray(data)
    damaged[page[0]: page[0] + page[1]] = rng.integers(0, 256, page[1], np.uint8).tobytes()
    (tmp_path / "hier.copc.laz").write_bytes(damaged)
    with pytest.raises(LoadError, match="invalid COPC"):
        open_copc(tmp_path / "hier.copc.laz")


# --------------------------------------------------------------------------------------
# HTTP range streaming
# --------------------------------------------------------------------------------------


def test_http_streaming_fetches_only_requested_nodes(range_server, served_dir):
    url, served = range_server
    local = open_copc(served_dir / LION)
    size = (served_dir / LION).stat().st_size
    with open_copc(f"{url}/{LION}") as remote:
        assert remote.total_points == LION_POINTS
        assert remote.metadata["url"].endswith(LION)
        opened = remote.bytes_fetched
        assert opened < 0.2 * size
        smallest = min(remote.children(remote.root), key=lambda n: n.point_count)
        got = remote.get(smallest.key)
        entry = remote._entries[smallest.key]
        assert remote.bytes_fetched == opened + entry.byte_size  # exactly that chunk
        assert remote.bytes_fetched < 0.3 * size
        assert remote.bytes_fetched == sum(served)  # what the server really sent
        ref = local.get(smallest.key)
        assert np.array_equal(got.positions, ref.positions)
        for name in ref.attributes:
            assert np.array_equal(got.attributes[name], ref.attributes[name]), name
        assert np.array_equal(remote.get(remote.root).positions,
                              local.get(local.root).positions)
    local.close()


def test_http_lazy_hierarchy_pages_and_thread_pool(range_server, served_dir):
    url, served = range_server
    local = open_copc(served_dir / "ahn3.copc.laz")
    with open_copc(f"{url}/ahn3.copc.laz") as remote:
        assert remote.total_points == 208_432
        known = len(remote.known_nodes())
        assert known < 10  # only the root page: root + level 1 (level 2 in sub-pages)
        assert remote.node_table() is None  # not all pages read yet
        level1 = remote.children(remote.root)
        before = remote.request_count
        level2 = [c for n in level1 for c in remote.children(n.key)]
        assert level2 and remote.request_count > before  # sub-pages fetched on demand
        # the renderer's selection walks node/children, reading the pages it reaches
        from loaders.lod import look_at_view_proj, select_nodes

        lo, hi = remote.bounds
        view = look_at_view_proj((hi + lo) / 2 + np.array([0.0, -300.0, 100.0]),
                                 (hi + lo) / 2, aspect=1.5)
        keys = select_nodes(remote, view, 800, budget=50_000)
        assert keys[0] == remote.root and len(keys) > 1
        nodes = remote.all_nodes()
        assert len(nodes) > 20 and max(n.key[0] for n in nodes) >= 3
        assert len(remote.node_table().keys) == len(nodes)
        assert sum(n.point_count for n in nodes) == 208_432
        keys = [n.key for n in nodes]
        with ThreadPoolExecutor(6) as pool:
            clouds = list(pool.map(remote.get, keys))
        for key, cloud in zip(keys, clouds, strict=True):
            ref = local.get(key)
            assert np.array_equal(cloud.positions, ref.positions), key
            assert np.array_equal(cloud.attributes["classification"],
                                  ref.attributes["classification"]), key
        assert remote.bytes_fetched == sum(served[-remote.request_count:])
    local.close()


def test_http_errors(range_server, served_dir):
    url, _ = range_server
    with pytest.raises(LoadError, match="HTTP 404") as info:
        open_copc(f"{url}/no_such_file.copc.laz")
    assert info.value.path.endswith("no_such_file.copc.laz") and info.value.hint
    server, plain_url, _ = serve(NoRangeHandler, served_dir)
    try:
        with pytest.raises(LoadError, match="range requests") as info:
            open_copc(f"{plain_url}/{LION}")
        assert info.value.hint
    finally:
        server.shutdown()
        server.server_close()
    # nothing listens there any more
    with pytest.raises(LoadError, match="network error"):
        open_copc(f"{plain_url}/{LION}")


# --------------------------------------------------------------------------------------
# indexing (write_copc)
# --------------------------------------------------------------------------------------

_FIELDS = ("X", "Y", "Z", "intensity", "return_number", "number_of_returns",
           "classification", "user_data", "point_source_id", "scan_direction_flag",
           "edge_of_flight_line", "synthetic", "key_point", "withheld")


def point_table(las, extra_bytes: int) -> np.ndarray:
    """Every compared value of every point as one structured array, sorted."""
    dims = set(las.point_format.dimension_names)
    cols = [(n, np.asarray(las[n]).astype(np.int64)) for n in _FIELDS]
    for n in ("gps_time", "red", "green", "blue", "nir"):
        if n in dims:
            cols.append((n, np.asarray(las[n]).astype(np.float64)))
    if "scan_angle_rank" in dims:
        cols.append(("scan", np.asarray(las.scan_angle_rank) / 0.006))
    else:
        cols.append(("scan", np.asarray(las.scan_angle, np.float64)))
    raw = las.points.array.view(np.uint8).reshape(len(las.points), -1)
    for i in range(extra_bytes):
        cols.append((f"eb{i}", raw[:, raw.shape[1] - extra_bytes + i].astype(np.int64)))
    table = np.empty(len(cols[0][1]), [(n, c.dtype) for n, c in cols])
    for n, c in cols:
        table[n] = c
    if "scan_angle_rank" in dims:
        table["scan"] = np.round(table["scan"])
    return np.sort(table, order=[n for n, _ in cols])


@pytest.mark.parametrize("name, count, src_pf, out_pf, extra_bytes, epsg", [
    ("ahn3_cropped_2.laz", 208_432, 1, 6, 0, None),
    ("autzen_trim.laz", 110_000, 3, 7, 0, "ft"),
    ("append-bug.laz", 37_805, 8, 8, 3, 2154),
])
def test_write_copc_real_files(shared_data, tmp_path, name, count, src_pf, out_pf,
                               extra_bytes, epsg):
    src_path = shared_data / "pointclouds" / name
    steps = []
    out = write_copc(src_path, tmp_path / "out.copc.laz", progress=lambda f, m:
                     steps.append(f), leaf_points=6000, page_levels=2)
    assert out == tmp_path / "out.copc.laz" and out.is_file()
    assert steps[-1] == 1.0 and steps == sorted(steps)
    assert not list(tmp_path.glob("*.part"))

    src = laspy.read(src_path)
    assert src.header.point_format.id == src_pf
    # laspy's own COPC reader accepts it, with every point
    with laspy.CopcReader.open(str(out)) as reader:
        assert reader.header.version == "1.4"
        assert reader.header.point_format.id == out_pf
        assert reader.header.point_count == count
        # the root page holds the top levels only; the rest is in sub-pages
        assert any(e.point_count == -1 for e in reader.root_page.entries.values())
        assert sum(max(e.point_count, 0) for e in reader.root_page.entries.values()) < count
        assert len(reader.query()) == count

    # every point exactly once with the same values (as plain LAZ, sorted)
    dst = laspy.read(out)
    assert len(dst.points) == count
    assert np.array_equal(point_table(dst, extra_bytes), point_table(src, extra_bytes))
    assert np.allclose(dst.header.mins, [dst.x.min(), dst.y.min(), dst.z.min()])
    assert np.allclose(dst.header.maxs, [dst.x.max(), dst.y.max(), dst.z.max()])
    by_return = np.bincount(np.asarray(dst.return_number), minlength=16)[1:16]
    assert list(dst.header.number_of_points_by_return) == list(by_return)
    assert np.array_equal(dst.header.scales, src.header.scales)

    # hierarchy: consistent counts, points inside their cubes, a uniform top level
    with open_copc(out) as copc:
        nodes, clouds = all_points(copc)
        assert len(nodes) > 9 and sum(n.point_count for n in nodes) == count
        assert all(n.point_count > 0 for n in nodes)
        tol = float(np.max(src.header.scales))
        check_nodes_inside(copc, nodes, clouds, tol)
        info = copc.metadata["copc"]
        assert info["spacing"] == pytest.approx(2 * info["halfsize"] / 128)
        if "gps_time" in set(src.point_format.dimension_names):
            assert info["gps_time_min"] == pytest.approx(float(src.gps_time.min()))
            assert info["gps_time_max"] == pytest.approx(float(src.gps_time.max()))
        # CRS preserved
        if epsg is None:
            assert copc.crs is None
        elif epsg == "ft":
            from loaders.crs import same_crs

            assert same_crs(copc.crs, loaders.read(src_path).crs)
            assert "foot" in copc.crs.axis_info[0].unit_name.lower()
        else:
            assert copc.crs.to_epsg() == epsg
        # our streaming reader and our LAS reader agree on names and values
        full_src = loaders.read(src_path)
        assert set(copc.attribute_names) == set(full_src.attributes)
        got = np.concatenate([c.attributes["classification"] for c in clouds])
        assert np.array_equal(np.bincount(got, minlength=256),
                              np.bincount(full_src.attributes["classification"],
                                          minlength=256))
    full_out = loaders.read(out)
    assert full_out.metadata["format"] == "COPC" and full_out.point_count == count


def test_write_copc_defaults_and_errors(shared_data, tmp_path, monkeypatch):
    from loaders.writers.copc import default_copc_path, find_copc_index

    src = tmp_path / "site.las"
    shutil.copy(shared_data / "pointclouds" / "autzen-bmx-2010.las", src)
    assert find_copc_index(src) is None
    out = write_copc(src)
    assert out == tmp_path / "site.copc.laz"
    assert find_copc_index(src) == out
    assert write_copc(out) == out  # already COPC: nothing to do
    # a read-only folder -> the cache folder
    monkeypatch.setenv("REALSCENE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("os.access", lambda *a, **k: False)
    cached = default_copc_path(src)
    assert cached.parent == tmp_path / "cache" / "copc"
    assert cached.name.startswith("site-") and cached.name.endswith(".copc.laz")
    monkeypatch.undo()

    with pytest.raises(LoadError, match="not a LAS/LAZ"):
        write_copc(shared_data / "meshes" / "gargo.ply", tmp_path / "x.copc.laz")
    with pytest.raises(LoadError):
        write_copc(shared_data / "corrupt" / "garbage_nVariableLength.las",
                   tmp_path / "y.copc.laz")

    def cancel(fraction, message):
        if fraction > 0.5:
            raise loaders.LoadCancelled()

    with pytest.raises(loaders.LoadCancelled):
        write_copc(src, tmp_path / "z.copc.laz", progress=cancel)
    assert not (tmp_path / "z.copc.laz").exists()
    assert not list(tmp_path.glob("*.part"))


def test_cli_index(shared_data, tmp_path, capsys):
    src = shared_data / "pointclouds" / "autzen_trim.laz"
    out = tmp_path / "autzen.copc.laz"
    code = main(["index", str(src), "-o", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert stdout.strip() == str(out)
    assert "110,000 points" in stderr and " s" in stderr
    with laspy.CopcReader.open(str(out)) as reader:
        assert reader.header.point_count == 110_000

    code = main(["index", str(tmp_path / "missing.laz")])
    stdout, stderr = capsys.readouterr()
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "not found" in stderr
    code = main(["index", str(shared_data / "meshes" / "gargo.ply"), "-o",
                 str(tmp_path / "g.copc.laz")])
    stdout, stderr = capsys.readouterr()
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "LAS/LAZ" in stderr
