"""Orthophotos that are not 8-bit (16-bit, float: satellite and some DOM deliveries) are
stretched over their own value range, the same for every tile, instead of being clipped to
0..255 (which drew a 16-bit image almost white)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loaders.tiles import TileStream, View
from loaders.tiles.terrain import TerrainTileSet
from tests.conftest import SHARED_DATA

from .terrain_support import make_ahn3_dem, make_ahn3_ortho

RGB = SHARED_DATA / "rasters" / "RGB.byte.tif"


def _as_16bit(src: Path, out: Path, scale: float = 257.0) -> Path:
    """``src`` (8-bit RGB) written again as 16-bit (values x ``scale``), same georeference
    and nodata mask."""
    import rasterio

    with rasterio.open(src) as ds:
        data = ds.read().astype(np.float64) * scale
        profile = ds.profile | {"dtype": "uint16", "nodata": 0, "driver": "GTiff"}
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(np.clip(data, 0, 65535).astype(np.uint16))
    return out


def _textures(tileset: TerrainTileSet) -> np.ndarray:
    stream = TileStream(tileset)
    try:
        root = tileset.root
        sel = stream.wait(View(root.center + np.array([0, 0, 5.0 * root.radius]), 500.0))
        pixels = [part.material.texture for t in sel.draw
                  for m in stream.content(t).meshes for part in m.parts
                  if part.material.texture is not None]
        return np.concatenate([p.reshape(-1, p.shape[-1])[:, :3] for p in pixels])
    finally:
        stream.close()
        tileset.close()


@pytest.mark.timeout(60)
def test_16_bit_imagery_is_stretched_like_its_8_bit_original(tmp_path):
    """RGB.byte.tif as 16-bit imagery draws like the 8-bit file: the texels follow the
    original's (correlation), use the 8-bit range, and are not the near-white of a clip."""
    eight = _textures(TerrainTileSet(RGB))
    sixteen = _textures(TerrainTileSet(_as_16bit(RGB, tmp_path / "rgb16.tif")))
    assert eight.shape == sixteen.shape
    a, b = eight.astype(float).ravel(), sixteen.astype(float).ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.95
    lit = a > 0  # (the image's no-data frame is transparent black in both)
    assert np.median(b[lit]) < 200 and np.percentile(b[lit], 99) > 200


@pytest.mark.timeout(60)
def test_a_16_bit_orthophoto_drapes_like_its_8_bit_original(tmp_path):
    """The same stretch when a 16-bit orthophoto is draped on a DEM (warped per tile)."""
    dem = make_ahn3_dem(tmp_path / "dem.tif", cell=1.0)
    ortho = make_ahn3_ortho(tmp_path / "ortho.tif")
    ortho16 = _as_16bit(ortho, tmp_path / "ortho16.tif", scale=200.0)
    eight = _textures(TerrainTileSet(dem, ortho=ortho))
    sixteen = _textures(TerrainTileSet(dem, ortho=ortho16))
    a, b = eight.astype(float).ravel(), sixteen.astype(float).ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.9
    assert np.median(b) < 230
