"""Terrain: a DEM GeoTIFF (made from real AHN3 ground points) as a streamed quadtree,
orthophoto drape, flat imagery (RGB.byte.tif, shade.tif), heights, skirts, hostile files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import LoadError
from loaders.tiles import TileStream, View
from loaders.tiles.terrain import GRID, TerrainTileSet
from tests.loaders.terrain_support import AHN3, make_ahn3_dem, make_ahn3_ortho

RASTERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "rasters"


@pytest.fixture(scope="module")
def dem(tmp_path_factory) -> Path:
    # fill only 5 m around ground points: the larger buildings stay nodata
    return make_ahn3_dem(tmp_path_factory.mktemp("dem") / "ahn3_dem.tif", fill_distance=5.0)


@pytest.fixture(scope="module")
def ortho(tmp_path_factory) -> Path:
    return make_ahn3_ortho(tmp_path_factory.mktemp("ortho") / "ahn3_ortho_utm31.tif")


def _ground(step: int = 40) -> tuple[np.ndarray, np.ndarray]:
    import laspy

    las = laspy.read(AHN3)
    g = np.asarray(las.classification) == 2
    return np.column_stack([las.x, las.y])[g][::step], np.asarray(las.z)[g][::step]


def _leaves(ts: TerrainTileSet, tile=None):
    tile = tile or ts.root
    kids = ts.expand(tile)
    if not kids:
        yield tile
    for k in kids:
        yield from _leaves(ts, k)


def _index(ds, x, y) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of ``ds``'s pixels holding points (x, y) of its CRS, clipped."""
    inv = ~ds.transform
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    col = np.floor(inv.a * x + inv.b * y + inv.c).astype(int)
    row = np.floor(inv.d * x + inv.e * y + inv.f).astype(int)
    return np.clip(row, 0, ds.height - 1), np.clip(col, 0, ds.width - 1)


def _tiff(path: Path, width: int, height: int) -> Path:
    """A minimal little-endian TIFF header declaring a ``width`` x ``height`` float32
    raster in one strip (what a hostile file can claim in a few hundred bytes)."""
    import struct

    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 32), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height),
               (279, 4, 1, 4 * width * height % 2**32), (339, 3, 1, 3)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        packed = struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, typ, count) + packed
    ifd += struct.pack("<I", 0)
    path.write_bytes(b"II*\x00" + struct.pack("<I", 16) + bytes(8) + ifd)
    return path


def _xyz(mesh) -> np.ndarray:
    return mesh.vertices.astype(np.float64) + mesh.origin


def test_registry_reads_the_dem_as_terrain(dem: Path) -> None:
    ts = loaders.read(dem)
    try:
        assert isinstance(ts, TerrainTileSet) and ts.kind == "tiles"
        assert ts.metadata["raster_role"] == "dem" and ts.metadata["format"] == "GeoTIFF"
        assert ts.native_crs.to_epsg() == 28992
        lo, hi = ts.z_range
        assert -2 < lo < hi < 10  # Delft ground, metres NAP
        # the root is coarse (at most GRID cells a side), the leaves native (error 0)
        root = ts.load(ts.root).meshes[0]
        assert root.vertex_count < (GRID + 1) ** 2 + 4 * (GRID + 1)
        assert ts.root.geometric_error > 0
        leaves = list(_leaves(ts))
        assert all(t.geometric_error == 0 for t in leaves) and len(leaves) > 8
    finally:
        ts.close()


def test_leaf_vertices_are_the_dem_samples_and_nodata_is_a_hole(dem: Path) -> None:
    import rasterio

    ts = TerrainTileSet(dem)
    with rasterio.open(dem) as ds:
        full = ds.read(1, masked=True)
        transform = ds.transform
    holes = 0
    for leaf in list(_leaves(ts))[::3]:
        mesh = ts.load(leaf).meshes[0] if ts.load(leaf).meshes else None
        if mesh is None:
            continue
        xyz = _xyz(mesh)
        assert np.isfinite(xyz).all()
        inv = ~transform
        col = inv.a * xyz[:, 0] + inv.b * xyz[:, 1] + inv.c
        row = inv.d * xyz[:, 0] + inv.e * xyz[:, 1] + inv.f
        col, row = np.asarray(col) - 0.5, np.asarray(row) - 0.5
        top = xyz[:, 2] >= np.nanmin(xyz[:, 2]) + 0  # every vertex; skirts are below
        on_grid = (np.abs(col - np.round(col)) < 1e-6) & (np.abs(row - np.round(row)) < 1e-6)
        assert on_grid.all()  # leaves sit on the DEM's pixel centres
        r, c = np.round(row).astype(int), np.round(col).astype(int)
        sample = full[r, c]
        assert not np.ma.getmaskarray(sample).all()
        # surface vertices carry the DEM value exactly; skirt vertices hang below it
        diff = xyz[:, 2] - sample.filled(np.nan)
        surface = np.abs(diff) < 1e-4
        assert surface.sum() > 0.8 * len(diff) and (diff[~surface & top] < 0).all()
        box = leaf.extra["box"]
        window = full[int(box[1] - 0.5):int(box[3] + 0.5) + 1,
                      int(box[0] - 0.5):int(box[2] + 0.5) + 1]
        holes += int(np.ma.getmaskarray(window).any())
        assert not np.ma.getmaskarray(sample[surface]).any()  # no vertex on nodata
    assert holes > 0  # the test DEM has nodata where its leaves were checked
    ts.close()


def test_height_at_matches_the_ground_points(dem: Path) -> None:
    ts = TerrainTileSet(dem)
    xy, z = _ground()
    h = ts.height_at(xy)
    ok = np.isfinite(h)
    assert ok.mean() > 0.95
    d = np.abs(h[ok] - z[ok])
    assert np.median(d) < 0.03 and np.percentile(d, 99) < 0.25  # a 0.5 m grid of means
    # outside and on nodata: NaN
    assert np.isnan(ts.height_at([[0.0, 0.0], [84000.0, 447500.0]])).all()
    # the same heights asked in the scene CRS (UTM 31N) after reprojection
    ts.set_target_crs("EPSG:32631")
    from pyproj import Transformer

    tr = Transformer.from_crs(28992, 32631, always_xy=True)
    ex, ey = tr.transform(xy[:, 0], xy[:, 1])
    h2 = ts.height_at(np.column_stack([ex, ey]))
    assert np.allclose(h2[ok], h[ok], atol=1e-3, equal_nan=True)  # (datum round trip)
    assert np.allclose(ts.height_at(xy, crs="EPSG:28992")[ok], h[ok])
    ts.close()


def test_skirts_close_the_seam_between_levels(dem: Path) -> None:
    """A coarse tile beside the finer children of its neighbour: along the shared edge,
    each tile's skirt hangs below the other's edge, so no gap shows from above."""
    ts = TerrainTileSet(dem)
    a, b = ts.expand(ts.root)[:2]  # level 1, sharing the edge v = a.box[3] = b.box[1]
    assert a.extra["box"][3] == b.extra["box"][1]
    coarse = ts.load(a).meshes[0]
    fine_kids = [k for k in ts.expand(b) if k.extra["box"][1] == b.extra["box"][1]]
    assert len(fine_kids) >= 1
    y_edge = ts.transform.f + ts.transform.e * a.extra["box"][3]

    def edge(mesh):
        xyz = _xyz(mesh)
        on = np.abs(xyz[:, 1] - y_edge) < 1e-6
        pts = xyz[on]
        pts = pts[np.argsort(pts[:, 0])]
        # top (surface) and bottom (skirt) heights at each x
        xs = np.unique(np.round(pts[:, 0], 6))
        top = np.array([pts[np.round(pts[:, 0], 6) == x][:, 2].max() for x in xs])
        bottom = np.array([pts[np.round(pts[:, 0], 6) == x][:, 2].min() for x in xs])
        return xs, top, bottom

    # skirts hang only where a neighbour can be: none on the raster's outer border
    root_xy = np.round(_xyz(ts.load(ts.root).meshes[0])[:, :2], 6)
    assert len(np.unique(root_xy, axis=0)) == len(root_xy)
    axyz = _xyz(coarse)
    uniq, counts = np.unique(np.round(axyz[:, :2], 6), axis=0, return_counts=True)
    assert (counts <= 2).all() and np.allclose(uniq[counts == 2][:, 1], y_edge)
    cx, ctop, cbottom = edge(coarse)
    assert (cbottom < ctop).all()  # the coarse tile's skirt
    for kid in fine_kids:
        fx, ftop, fbottom = edge(ts.load(kid).meshes[0])
        assert len(fx) > 2 and (fbottom < ftop).all()
        inside = (fx >= cx.min()) & (fx <= cx.max())
        coarse_top_at_f = np.interp(fx[inside], cx, ctop)
        coarse_bottom_at_f = np.interp(fx[inside], cx, cbottom)
        # the fine edge runs inside the coarse skirt's span and vice versa
        assert (coarse_bottom_at_f <= ftop[inside] + 1e-6).all()
        assert (np.interp(cx, fx, fbottom)[(cx >= fx.min()) & (cx <= fx.max())]
                <= ctop[(cx >= fx.min()) & (cx <= fx.max())] + 1e-6).all()
        assert np.abs(coarse_top_at_f - ftop[inside]).max() < 1.0
    ts.close()


def test_elevation_and_hillshade_colours(dem: Path) -> None:
    ts = TerrainTileSet(dem)
    assert ts.colour == "elevation" and set(ts.colour_modes) == {"elevation", "hillshade"}
    elev = ts.load(ts.root).meshes[0].vertex_colors
    assert elev is not None and len(np.unique(elev[:, :3], axis=0)) > 10
    ts.set_colour("hillshade")
    shade = ts.load(ts.root).meshes[0].vertex_colors
    assert (shade[:, 0] == shade[:, 1]).all() and shade[:, 0].std() > 2
    with pytest.raises(ValueError):
        ts.set_colour("texture")  # no orthophoto yet
    ts.close()


def test_orthophoto_drape_matches_the_orthophoto(dem: Path, ortho: Path) -> None:
    import rasterio
    from pyproj import Transformer

    ts = TerrainTileSet(dem, ortho=ortho)
    assert ts.colour == "texture" and "texture" in ts.colour_modes
    leaf = list(_leaves(ts))[5]
    content = ts.load(leaf)
    mesh = content.meshes[0]
    tex = mesh.parts[0].material.texture
    assert tex.ndim == 3 and tex.shape[2] == 4 and max(tex.shape[:2]) <= 512
    assert content.nbytes >= tex.nbytes + mesh.vertices.nbytes
    # triangle centroids: the texel their UV names vs the orthophoto at their place
    xyz, uv = _xyz(mesh), mesh.uvs.astype(np.float64)
    cen = xyz[mesh.faces].mean(axis=1)
    cuv = uv[mesh.faces].mean(axis=1)
    th, tw = tex.shape[:2]
    tc = np.clip((cuv[:, 0] * tw).astype(int), 0, tw - 1)
    tr_ = np.clip(((1 - cuv[:, 1]) * th).astype(int), 0, th - 1)
    texel = tex[tr_, tc, :3].astype(float)
    with rasterio.open(ortho) as ds:
        tr = Transformer.from_crs(28992, ds.crs.to_wkt(), always_xy=True)
        ex, ey = tr.transform(cen[:, 0], cen[:, 1])
        rows, cols = _index(ds, ex, ey)
        img = ds.read()
    truth = img[:, np.asarray(rows), np.asarray(cols)].T.astype(float)
    seen = tex[tr_, tc, 3] > 0
    assert seen.mean() > 0.9
    diff = np.abs(texel[seen] - truth[seen]).mean(axis=1)
    assert np.median(diff) < 12
    corr = np.corrcoef(texel[seen].ravel(), truth[seen].ravel())[0, 1]
    assert corr > 0.9
    ts.close()


def _texel_probe(ts: TerrainTileSet, tile, ds, to_native) -> float:
    """Share of triangle centroids whose texel equals rasterio's pixel there."""
    mesh = ts.load(tile).meshes[0]
    tex = mesh.parts[0].material.texture
    xyz, uv = _xyz(mesh), mesh.uvs.astype(np.float64)
    cen = xyz[mesh.faces].mean(axis=1)
    cuv = uv[mesh.faces].mean(axis=1)
    th, tw = tex.shape[:2]
    tc = np.clip((cuv[:, 0] * tw).astype(int), 0, tw - 1)
    tr = np.clip(((1 - cuv[:, 1]) * th).astype(int), 0, th - 1)
    x, y = to_native(cen[:, 0], cen[:, 1])
    rows, cols = _index(ds, x, y)
    bands = ds.read()
    truth = bands[:, np.asarray(rows), np.asarray(cols)].T
    texel = tex[tr, tc, :ds.count]
    return float((texel == truth).all(axis=1).mean())


def test_rgb_byte_opens_as_imagery_reprojected(shared_data: Path) -> None:
    import rasterio
    from pyproj import Transformer

    path = shared_data / "rasters" / "RGB.byte.tif"
    ts = loaders.read(path)
    try:
        assert ts.metadata["raster_role"] == "imagery" and ts.colour == "texture"
        assert np.isnan(ts.height_at([[0.0, 0.0]]))[0]
        ts.set_target_crs("EPSG:3857")
        back = Transformer.from_crs(3857, 32618, always_xy=True).transform
        leaf = next(iter(_leaves(ts)))
        with rasterio.open(path) as ds:
            assert _texel_probe(ts, leaf, ds, back) > 0.95
            # a coarse root: one texture of at most 512 px over the whole image
            root = ts.load(ts.root).meshes[0]
            assert max(root.parts[0].material.texture.shape[:2]) <= 512
            assert np.isclose(_xyz(root)[:, 2], 0.0, atol=1e-3).all()  # flat at 0
            # the root's centre: the image's centre, in Web Mercator
            b = ds.bounds
            cx, cy = Transformer.from_crs(32618, 3857, always_xy=True).transform(
                (b.left + b.right) / 2, (b.bottom + b.top) / 2)
            assert np.hypot(ts.root.center[0] - cx, ts.root.center[1] - cy) < 1.0
    finally:
        ts.close()


def test_shade_tif_reprojected_into_a_utm_scene(shared_data: Path) -> None:
    import rasterio
    from pyproj import Transformer

    path = shared_data / "rasters" / "shade.tif"
    ts = loaders.read(path)
    try:
        assert ts.metadata["raster_role"] == "imagery"
        ts.set_target_crs("EPSG:32613")
        back = Transformer.from_crs(32613, 3857, always_xy=True).transform
        leaves = list(_leaves(ts))
        assert len(leaves) == 4  # 1024 px: four 512 px leaves
        with rasterio.open(path) as ds:
            assert _texel_probe(ts, leaves[0], ds, back) > 0.95
        mesh = ts.load(leaves[0]).meshes[0]
        assert mesh.crs.to_epsg() == 32613
        xyz = _xyz(mesh)
        assert (xyz[:, 0] > 100_000).all() and (xyz[:, 1] > 4_000_000).all()
    finally:
        ts.close()


def test_tilestream_streams_coarse_first_then_leaves(dem: Path) -> None:
    ts = TerrainTileSet(dem)
    stream = TileStream(ts)
    try:
        far = View(eye=ts.root.center + np.array([0, 0, 20_000.0]), pixels_per_radian=1000)
        sel = stream.wait(far)
        assert [t.key for t in sel.draw] == ["r"]
        t = ts.transform
        near = View(eye=np.array([t.c + 5 * t.a, t.f + 5 * t.e, 20.0]), pixels_per_radian=1000)
        sel = stream.wait(near)
        depths = [t.depth for t in sel.draw]
        assert max(depths) >= 3 and any(t.geometric_error == 0 for t in sel.draw)
        assert min(depths) < max(depths)  # far parts stay coarse
        assert stream.cached_bytes > 0
    finally:
        stream.close()
        ts.close()


def test_tiff_without_georeference_opens_in_pixel_units(tmp_path: Path) -> None:
    import rasterio

    path = tmp_path / "plain.tif"
    data = np.arange(100 * 80, dtype=np.float32).reshape(80, 100)
    with rasterio.open(path, "w", driver="GTiff", width=100, height=80, count=1,
                       dtype="float32") as ds:
        ds.write(data, 1)
    ts = loaders.read(path)
    assert ts.native_crs is None and ts.metadata["raster_role"] == "dem"
    assert any("no coordinate reference system" in w for w in ts.warnings)
    lo, hi = ts.bounds
    assert lo[0] < 50 < hi[0] and lo[1] < 40 < hi[1]
    assert ts.load(ts.root).triangle_count > 0
    ts.close()


def test_huge_declared_raster_is_refused(tmp_path: Path) -> None:
    path = _tiff(tmp_path / "huge.tif", 3_000_000, 3_000_000)
    assert path.stat().st_size < 1000
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    assert "huge.tif" in info.value.message and "declares" in info.value.message


def test_corrupt_tiff_is_one_clear_error(tmp_path: Path, dem: Path) -> None:
    truncated = tmp_path / "truncated.tif"
    truncated.write_bytes(dem.read_bytes()[:300])
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    for path in (truncated, garbage):
        with pytest.raises(LoadError) as info:
            ts = loaders.read(path)
            ts.load(ts.root)  # a header that opens but data that does not
        assert path.name in info.value.message and "\n" not in info.value.message


def test_overviews_serve_the_coarse_tiles(tmp_path: Path, ortho: Path) -> None:
    """With overviews in both files, the coarse root reads them: its heights and its
    draped texture agree with the ones made from the full resolution."""
    import shutil

    import rasterio
    from rasterio.enums import Resampling

    plain = make_ahn3_dem(tmp_path / "plain.tif", fill_distance=5.0)
    pyramid = make_ahn3_dem(tmp_path / "pyramid.tif", fill_distance=5.0, overviews=True)
    ortho_ovr = Path(shutil.copy(ortho, tmp_path / "ortho_ovr.tif"))
    with rasterio.open(ortho_ovr, "r+") as ds:
        ds.build_overviews([2, 4, 8], Resampling.average)
    a = TerrainTileSet(plain, ortho=ortho)
    b = TerrainTileSet(pyramid, ortho=ortho_ovr)
    try:
        assert b.metadata["overviews"] and not a.metadata["overviews"]
        ma, mb = a.load(a.root).meshes[0], b.load(b.root).meshes[0]
        # the same grid points (nodata holes may differ a little): heights agree
        za = {tuple(np.round(p[:2], 3)): p[2] for p in _xyz(ma)}
        common = [(za[k], p[2]) for p in _xyz(mb) if (k := tuple(np.round(p[:2], 3))) in za]
        assert len(common) > 0.9 * mb.vertex_count
        pairs = np.array(common)
        assert np.median(np.abs(pairs[:, 0] - pairs[:, 1])) < 0.3
        ta = ma.parts[0].material.texture.astype(float)
        tb = mb.parts[0].material.texture.astype(float)
        assert ta.shape == tb.shape
        seen = (ta[..., 3] > 0) & (tb[..., 3] > 0)
        assert np.corrcoef(ta[seen][:, :3].ravel(), tb[seen][:, :3].ravel())[0, 1] > 0.9
    finally:
        a.close()
        b.close()


def test_dem_in_degrees_has_errors_and_slopes_in_metres(tmp_path: Path, dem: Path) -> None:
    """The AHN3 DEM warped to EPSG:4326: errors, skirts and hillshade slopes are in
    metres (as the heights), and its heights agree with the RD New DEM's."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    geo = tmp_path / "ahn3_wgs84.tif"
    with rasterio.open(dem) as src:
        transform, w, h = calculate_default_transform(src.crs, "EPSG:4326", src.width,
                                                      src.height, *src.bounds)
        out = np.full((h, w), src.nodata, np.float32)
        reproject(rasterio.band(src, 1), out, dst_transform=transform, dst_crs="EPSG:4326",
                  resampling=Resampling.nearest, dst_nodata=src.nodata)
        with rasterio.open(geo, "w", driver="GTiff", width=w, height=h, count=1,
                           dtype="float32", crs="EPSG:4326", transform=transform,
                           nodata=src.nodata) as dst:
            dst.write(out, 1)
    rd, wgs = TerrainTileSet(dem), TerrainTileSet(geo)
    try:
        assert 0.3 < wgs.ground_pixel < 1.0  # about the 0.5 m of the source
        assert 0.5 < wgs.root.geometric_error / rd.root.geometric_error < 2.0
        rd.set_colour("hillshade")
        wgs.set_colour("hillshade")
        s_rd = rd.load(rd.root).meshes[0].vertex_colors[:, 0].astype(float)
        s_geo = wgs.load(wgs.root).meshes[0].vertex_colors[:, 0].astype(float)
        assert abs(np.median(s_rd) - np.median(s_geo)) < 10 and s_geo.std() > 2
        wgs.set_target_crs("EPSG:28992")
        xy, _ = _ground(step=200)
        a, b = rd.height_at(xy), wgs.height_at(xy)
        ok = np.isfinite(a) & np.isfinite(b)
        assert ok.mean() > 0.8 and np.median(np.abs(a[ok] - b[ok])) < 0.1
    finally:
        rd.close()
        wgs.close()
