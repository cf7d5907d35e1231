"""OSGB oblique-photogrammetry tilesets (loaders.tiles.osgb): the real shared tile, tilesets
built from real meshes with OSG's own tools (tests/loaders/osgb_support.py), streaming,
millimetre georeference (EPSG + SRSOrigin, ENU) and hostile inputs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import LoadError
from loaders.tiles import TileStream, View
from loaders.tiles.osgb import SLOW_READER_WARNING

from .osgb_support import (
    OSGT_HEADER,
    UniqueIds,
    build_osgb_tileset,
    geode_osgt,
    geometry_osgt,
    paged_lod_osgt,
)

pytestmark = pytest.mark.skipif(shutil.which("osgconv") is None,
                                reason="OpenSceneGraph (osgconv) is not installed")

SHARED_TILE = "tiles/osgb/test.osgb"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A 2x2 top-tile, 3-level textured tileset over the Delft city mesh (EPSG:28992)."""
    return build_osgb_tileset(tmp_path_factory.mktemp("osgb") / "delft", grid=(2, 2), levels=3)


@pytest.fixture(scope="module")
def built_enu(tmp_path_factory):
    return build_osgb_tileset(tmp_path_factory.mktemp("osgb_enu") / "delft", grid=(1, 1),
                              levels=2, enu=True, texture=False)


def _leaves(ts, tile, out):
    kids = ts.expand(tile)
    if not kids and tile.content is not None:
        out.append(tile)
    for k in kids:
        _leaves(ts, k, out)
    return out


@pytest.mark.timeout(60)
def test_shared_tile_geometry_texture_and_children(shared_data: Path) -> None:
    ts = loaders.read(shared_data / SHARED_TILE)
    assert ts.kind == "tiles" and ts.format_name == "OSGB" and ts.crs is None
    root = ts.root
    # the file's float32 centre, to the last digit (not OSG's 6-digit ASCII rounding)
    np.testing.assert_allclose(root.center, [-143.627609, -197.907135, 438.412537], atol=1e-6)
    assert root.radius == pytest.approx(36.6513)
    # PIXEL_SIZE_ON_SCREEN 36.65 px: OSG refines when the sphere's 2 r ppr / d exceeds it
    assert root.geometric_error == pytest.approx(16 * 2 * 36.6513 / 36.6513)
    assert root.extra["files"] == ["Tile_+000_+000_L16_0.osgb"]
    mesh = ts.load(root).meshes[0]
    assert mesh.vertex_count == 200 and mesh.triangle_count == 114
    assert mesh.uvs.shape == (200, 2)
    textured = [p for p in mesh.parts if p.material.texture is not None]
    assert len(textured) == 1 and textured[0].material.texture.shape == (128, 256, 3)
    assert textured[0].stop - textured[0].start == 112
    # the textured faces sample the atlas' filled area (rows flipped to row 0 = top)
    tex = textured[0].material.texture
    uv = mesh.uvs[mesh.faces[textured[0].start:textured[0].stop].ravel()]
    rows = ((1 - uv[:, 1]) * tex.shape[0]).astype(int).clip(0, tex.shape[0] - 1)
    cols = (uv[:, 0] * tex.shape[1]).astype(int).clip(0, tex.shape[1] - 1)
    assert (tex[rows, cols].sum(axis=1) > 0).all()
    # its child file is not in the shared folder: a warning, not a failure
    assert ts.expand(root) == []
    assert any("Tile_+000_+000_L16_0.osgb" in w and "missing" in w for w in ts.warnings)


@pytest.mark.timeout(120)
def test_built_tileset_opens_from_folder_metadata_and_one_file(built) -> None:
    assert built.files == 4 * (1 + 4 + 16)
    for source in (built.path, built.path / "metadata.xml"):
        ts = loaders.read(source)
        assert ts.format_name == "OSGB" and ts.crs.to_epsg() == 28992
        assert len(ts.root.children) == 4 and ts.root.content is None
        assert not [w for w in ts.warnings if not w.startswith(SLOW_READER_WARNING)]
        ts.close()
    one = built.path / "Data" / "Tile_+001_+000" / "Tile_+001_+000.osgb"
    ts = loaders.read(one)
    assert ts.crs is None and ts.root.content is not None
    kids = ts.expand(ts.root)
    assert kids and all(k.key.startswith("Tile_+001_+000_L1_") for k in kids)
    content = ts.load(ts.root)
    part = content.meshes[0].parts[0]
    assert part.material.texture is not None and part.material.texture.shape[2] == 3
    assert content.meshes[0].uvs is not None


@pytest.mark.timeout(120)
def test_tilestream_streams_coarse_first_then_finer_close_up(built) -> None:
    ts = loaders.read(built.path)
    stream = TileStream(ts, workers=2)
    try:
        far = View(eye=ts.root.center + [0, 0, 30 * ts.root.radius], pixels_per_radian=866.0)
        sel = stream.wait(far)
        assert sel.draw and {t.depth for t in sel.draw} == {1}
        # close above a leaf: refines down to the finest level near the eye
        leaf = _leaves(ts, ts.root.children[0], [])[0]
        close = View(eye=leaf.center + [0, 0, 20.0], pixels_per_radian=866.0)
        first = stream.update(close)
        assert first.draw and min(t.depth for t in first.draw) == 1  # the coarse stays
        sel = stream.wait(close)
        depths = {t.depth for t in sel.draw}
        assert max(depths) == 3 and sel.triangles > 0
        assert not [w for w in ts.warnings
                    if "missing" not in w and not w.startswith(SLOW_READER_WARNING)]
    finally:
        stream.close()
        ts.close()


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    return cKDTree(b).query(a)[0]


@pytest.mark.timeout(120)
def test_epsg_tileset_lands_where_its_metadata_says_to_a_millimetre(built) -> None:
    ts = loaders.read(built.path)
    top = next(t for t in ts.root.children if t.key.endswith("Tile_+001_+001.osgb"))
    leaves = _leaves(ts, top, [])
    xyz = np.concatenate([ts.load(t).meshes[0].xyz() for t in leaves])
    # every finest-level vertex is a source vertex (RD New), within a millimetre
    truth = built.truth["Tile_+001_+001"]
    assert _nearest(xyz, truth).max() < 1e-3
    # and in another CRS through pyproj, the same
    from pyproj import Transformer

    ts.set_target_crs("EPSG:32631")  # (metric: float32 vertices hold millimetres)
    utm = np.concatenate([ts.load(t).meshes[0].xyz() for t in leaves[:2]])
    fwd = Transformer.from_crs("EPSG:28992", "EPSG:32631", always_xy=True)
    expected = np.column_stack(fwd.transform(truth[:, 0], truth[:, 1], truth[:, 2]))
    assert _nearest(utm, expected).max() < 1e-3
    ts.close()


@pytest.mark.timeout(120)
def test_enu_tileset_lands_where_its_metadata_says_to_a_millimetre(built_enu) -> None:
    ts = loaders.read(built_enu.path)
    assert ts.crs.to_epsg() == 4978 and ts.metadata["enu"] is not None
    leaves = _leaves(ts, ts.root.children[0] if ts.root.children else ts.root, [])
    ecef = np.concatenate([ts.load(t).meshes[0].xyz() for t in leaves])
    # the truth: the builder placed (lon, lat, h) with pyproj's topocentric conversion;
    # pyproj's geodetic -> geocentric gives where they are in ECEF
    from pyproj import Transformer

    truth = built_enu.truth["Tile_+000_+000"]
    cart = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    expected = np.column_stack(cart.transform(truth[:, 0], truth[:, 1], truth[:, 2]))
    assert _nearest(ecef, expected).max() < 1e-3
    # the root lands over its tiles in lon/lat too
    ts.set_target_crs("EPSG:4979")
    centre = ts.root.center
    assert centre[0] == pytest.approx(truth[:, 0].mean(), abs=0.01)
    assert centre[1] == pytest.approx(truth[:, 1].mean(), abs=0.01)
    ts.close()


def _write_osgb(path: Path, text: str) -> None:
    src = path.with_suffix(".osgt")
    src.write_text(OSGT_HEADER + text)
    subprocess.run(["osgconv", str(src), str(path)], check=True, capture_output=True,
                   timeout=60)
    src.unlink()


def _plod_with_children(children: list[str]) -> str:
    ids = UniqueIds()
    xyz = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]], dtype=float)
    geode = geode_osgt(geometry_osgt(xyz, np.array([[0, 1, 2]]), None, None, ids), ids)
    return paged_lod_osgt(np.array([3.0, 3, 0]), 8.0, geode, children, 100.0, ids)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("child", ["../outside.osgb", "/etc/hostname", "sub/../../x.osgb"])
def test_child_path_escaping_the_folder_is_one_clear_error(tmp_path, child) -> None:
    (tmp_path / "outside.osgb").write_bytes(b"x")
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    _write_osgb(tiles / "Tile_+000_+000.osgb", _plod_with_children([child]))
    ts = loaders.read(tiles / "Tile_+000_+000.osgb")
    assert ts.load(ts.root).triangle_count == 1
    with pytest.raises(LoadError) as info:
        ts.expand(ts.root)
    msg = str(info.value)
    assert "\n" not in msg and ("outside" in msg or "absolute" in msg)


@pytest.mark.timeout(60)
def test_broken_files_are_one_clear_error(tmp_path, shared_data: Path) -> None:
    raw = (shared_data / SHARED_TILE).read_bytes()
    cases = {
        "truncated.osgb": raw[:5000],
        "text.osgb": b"this is not a scene graph\n" * 10,
        "empty_header.osgb": raw[:8],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(LoadError) as info:
            loaders.read(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)
    # a huge metadata.xml, a folder without Data, an empty Data
    big = tmp_path / "big"
    (big / "Data").mkdir(parents=True)
    (big / "metadata.xml").write_bytes(b"<ModelMetadata>" + b" " * (2 << 20)
                                       + b"</ModelMetadata>")
    with pytest.raises(LoadError, match="bytes"):
        loaders.read(big)
    nodata = tmp_path / "nodata"
    nodata.mkdir()
    (nodata / "metadata.xml").write_text("<ModelMetadata><SRS>EPSG:4547</SRS>"
                                         "</ModelMetadata>")
    with pytest.raises(LoadError, match="no Data folder"):
        loaders.read(nodata)
    with pytest.raises(LoadError, match="no Data folder"):
        loaders.read(nodata / "metadata.xml")
    (nodata / "Data").mkdir()
    with pytest.raises(LoadError, match="no Tile_"):
        loaders.read(nodata)
    # any other folder keeps the registry's message
    with pytest.raises(LoadError, match="is a folder"):
        loaders.read(tmp_path)


@pytest.mark.timeout(60)
def test_refines_where_openscenegraph_switches(shared_data: Path) -> None:
    """OSG shows the child file once the sphere's pixel size 2 r ppr / d exceeds the
    range; select_tiles' SSE crosses DEFAULT_MAX_SSE there too (within the radius)."""
    from loaders.tiles import DEFAULT_MAX_SSE

    ts = loaders.read(shared_data / SHARED_TILE)
    tile, ppr = ts.root, 866.0
    switch = 2 * tile.radius * ppr / 36.6513  # distance at which OSG switches
    for k, refines in ((0.5, True), (0.9, True), (1.1, False), (3.0, False)):
        eye = tile.center + [0, 0, k * switch]
        osg_pixels = 2 * tile.radius * ppr / (k * switch)
        assert (osg_pixels > 36.6513) == refines
        assert (View(eye=eye, pixels_per_radian=ppr).sse(tile) > DEFAULT_MAX_SSE) == refines


@pytest.mark.timeout(60)
def test_osgconv_timeout_is_a_load_error_and_temporary_files_go(tmp_path, monkeypatch,
                                                               shared_data: Path) -> None:
    import tempfile

    from loaders.tiles import osgb

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(LoadError, match="took more than"):
        osgb.run_osgconv([shared_data / SHARED_TILE], timeout=1e-4)
    ts = loaders.read(shared_data / SHARED_TILE)
    assert ts.load(ts.root).triangle_count == 114
    assert list(scratch.iterdir()) == []  # every osgconv output removed
