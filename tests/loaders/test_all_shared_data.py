"""Every file in ../shared/data is accounted for: read, rejected clearly, or companion.

Nothing is skipped silently: a new file in shared/data that this table doesn't know
fails the test until someone decides what RealScene should do with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import FeatureMesh, LoadError, Mesh, PointCloud

# relative path -> expected outcome
READ_POINTS = {
    "pointclouds/ahn3_cropped_2.laz", "pointclouds/append-bug.laz",
    "pointclouds/autzen-bmx-2010.las", "pointclouds/autzen_trim.laz",
    "pointclouds/epsg_4326.las", "pointclouds/file_with_both_wkt_and_geotiff_vlrs.las",
    "pointclouds/lion_takanawa.copc.laz", "pointclouds/permutations_1.2_2.las",
    "pointclouds/pumpAVisualReferenceImage.e57",
}
READ_MESH = {
    "meshes/gargo.ply", "meshes/delft_3dfier_lod1/testarea.obj",
    "meshes/fuze_textured_obj/fuze.obj", "meshes/no_indices_3storybuilding.glb",
    "meshes/rotterdam_delfshaven_gltf/3-20-DELFSHAVEN.gltf",
}
# city models and building models: meshes made of identifiable objects (FeatureMesh)
READ_FEATURES = {
    "citymodels/DH_01_subs.city.json", "citymodels/delft.city.json",
    "citymodels/zurich_subset_lod2.city.json",
    "citymodels/rotterdam_textured/rotterdam_one.city.json",
    "bim/AC20-FZK-Haus.ifc", "bim/duplex.ifc",
}
# read as part of another file (materials, buffers, textures)
COMPANIONS = {
    "meshes/delft_3dfier_lod1/3dfier.mtl", "meshes/fuze_textured_obj/fuze.obj.mtl",
    "meshes/fuze_textured_obj/fuze uv.jpg",
    "meshes/rotterdam_delfshaven_gltf/3-20-DELFSHAVEN_bin.bin",
    "citymodels/rotterdam_textured/appearances/0320_4_15.jpg",
    "tiles/TilesetWithRequestVolume/city/ll.b3dm", "tiles/TilesetWithRequestVolume/city/lr.b3dm",
    "tiles/TilesetWithRequestVolume/city/ul.b3dm", "tiles/TilesetWithRequestVolume/city/ur.b3dm",
    "tiles/TilesetWithRequestVolume/city/tileset.json",
    "tiles/TilesetWithRequestVolume/building.b3dm",
    "tiles/TilesetWithRequestVolume/points.pnts",
}
# broken or unsupported on purpose: each must give one clear LoadError
CORRUPT = {
    "corrupt/garbage_nVariableLength.las", "corrupt/truncated_1.2-no-points.las",
    "corrupt/broken_compressor.laz", "corrupt/broken_type.laz", "corrupt/broken_coder.laz",
    "corrupt/simple-laszip-compressor-version-1.2r0.laz", "corrupt/bad-crc.e57",
    "corrupt/invalid_out_of_range_vertex_index.city.json", "corrupt/fail_no_header.ifc",
    "corrupt/fail_duplicate_id.ifc", "corrupt/KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc",
}
# tiled datasets (3D Tiles, OSGB pyramids, DEM / orthophoto terrain): read as a TileSet whose
# first tiles with content load
READ_TILES: set[str] = {"rasters/RGB.byte.tif", "rasters/shade.tif", "tiles/osgb/test.osgb",
                         "tiles/TilesetWithRequestVolume/tileset.json"}
# 3D Tiles, OSGB, GeoTIFF: recognised, not readable yet: refused with a clear message, not misread
NOT_YET: set[str] = set()
# readers disagree on this one (plyfile rejects, trimesh reads 8 points): either a clear
# error or the 8 points is right
EITHER = {"corrupt/cube-ply-1.0_binary-comment_renamed_to_remark-invalid.ply"}

ALL = (READ_POINTS | READ_MESH | READ_FEATURES | READ_TILES | COMPANIONS | CORRUPT | NOT_YET
       | EITHER)


def test_every_shared_file_is_classified(shared_data: Path) -> None:
    present = {str(p.relative_to(shared_data)) for p in shared_data.rglob("*")
               if p.is_file() and p.name != "SOURCES.md"}
    assert present - ALL == set(), "new files in shared/data need a decision here"
    assert ALL - present == set(), "files listed here are missing from shared/data"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("rel", sorted(READ_POINTS | READ_MESH | READ_FEATURES))
def test_real_file_reads(shared_data: Path, rel: str) -> None:
    data = loaders.read(shared_data / rel)
    expected = PointCloud if rel in READ_POINTS else \
        FeatureMesh if rel in READ_FEATURES else Mesh
    assert isinstance(data, expected)
    if rel in READ_FEATURES:
        assert len(data.features) > 0
        assert (data.face_feature >= 0).all() and data.face_feature.max() < len(data.features)
    if isinstance(data, PointCloud):
        assert data.point_count > 0
    else:
        assert data.vertex_count > 0 and data.triangle_count > 0
        assert data.faces.max() < data.vertex_count


@pytest.mark.timeout(60)
@pytest.mark.parametrize("rel", sorted(READ_TILES))
def test_real_tileset_reads(shared_data: Path, rel: str) -> None:
    from loaders.tiles import TileSet

    data = loaders.read(shared_data / rel)
    assert isinstance(data, TileSet)
    try:
        # the first tiles with content, breadth first: they load and hold geometry
        queue, loaded = [data.root], 0
        while queue and loaded < 3:
            tile = queue.pop(0)
            if tile.content is not None:
                content = data.load(tile)
                assert content.triangle_count + content.point_count > 0
                loaded += 1
            queue += data.expand(tile)
        assert loaded > 0
        lo, hi = data.bounds
        assert np.all(np.isfinite(lo)) and np.all(hi >= lo)
    finally:
        data.close()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("rel", sorted(CORRUPT | NOT_YET))
def test_broken_or_unsupported_file_is_one_clear_error(shared_data: Path, rel: str) -> None:
    with pytest.raises(LoadError) as info:
        loaders.read(shared_data / rel)
    message = info.value.message
    assert Path(rel).name in message
    assert "\n" not in message and len(message) < 600
    if rel in NOT_YET:
        assert "not supported yet" in message


@pytest.mark.timeout(20)
@pytest.mark.parametrize("rel", sorted(EITHER))
def test_disputed_file_reads_or_errors_clearly(shared_data: Path, rel: str) -> None:
    try:
        data = loaders.read(shared_data / rel)
    except LoadError as exc:
        assert Path(rel).name in exc.message
    else:
        assert data.point_count == 8 if isinstance(data, PointCloud) else data.vertex_count == 8
