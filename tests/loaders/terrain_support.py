"""Real rasters for the terrain tests, made from the AHN3 airborne LiDAR of Delft.

* :func:`make_ahn3_dem`: a DEM (EPSG:28992, float32) of the ground points (class 2) of
  ``pointclouds/ahn3_cropped_2.laz``: mean height per cell, holes (under buildings)
  filled by rasterio's inverse-distance fill, cells far from any ground point nodata.
* :func:`make_ahn3_ortho`: an "orthophoto" of the same place from the *surface* (every
  point, highest per cell), hillshaded to RGB and warped into another CRS (UTM 31N), so
  that draping it on the DEM exercises the reprojection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

AHN3 = Path(__file__).resolve().parents[3] / "shared" / "data" / "pointclouds" / \
    "ahn3_cropped_2.laz"
RD_NEW = "EPSG:28992"


def _points(ground_only: bool) -> np.ndarray:
    import laspy

    las = laspy.read(AHN3)
    xyz = np.column_stack([las.x, las.y, las.z]).astype(np.float64)
    if ground_only:
        xyz = xyz[np.asarray(las.classification) == 2]
    return xyz


def _grid(xyz: np.ndarray, cell: float, how: str) -> tuple[np.ndarray, float, float]:
    """(rows, cols) float64 grid (NaN = empty) over the points' bbox, row 0 north:
    ``how`` "mean" or "max"; and the grid's west / north edges."""
    west = np.floor(xyz[:, 0].min())
    north = np.ceil(xyz[:, 1].max())
    cols = int(np.ceil((xyz[:, 0].max() - west) / cell))
    rows = int(np.ceil((north - xyz[:, 1].min()) / cell))
    c = np.clip(((xyz[:, 0] - west) / cell).astype(int), 0, cols - 1)
    r = np.clip(((north - xyz[:, 1]) / cell).astype(int), 0, rows - 1)
    flat = r * cols + c
    if how == "mean":
        total = np.bincount(flat, weights=xyz[:, 2], minlength=rows * cols)
        count = np.bincount(flat, minlength=rows * cols)
        with np.errstate(invalid="ignore", divide="ignore"):
            grid = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    else:
        grid = np.full(rows * cols, -np.inf)
        np.maximum.at(grid, flat, xyz[:, 2])
        grid[~np.isfinite(grid)] = np.nan
    return grid.reshape(rows, cols), west, north


def make_ahn3_dem(path: Path, cell: float = 0.5, *, nodata: float = -9999.0,
                  overviews: bool = False, fill_distance: float = 40.0) -> Path:
    """Write the AHN3 ground DEM at ``cell`` metres to ``path`` (GeoTIFF, EPSG:28992)."""
    import rasterio
    from rasterio.fill import fillnodata
    from rasterio.transform import from_origin

    grid, west, north = _grid(_points(ground_only=True), cell, "mean")
    mask = np.isfinite(grid).astype(np.uint8)
    filled = fillnodata(np.where(np.isfinite(grid), grid, 0.0).astype(np.float32), mask,
                        max_search_distance=fill_distance / cell, smoothing_iterations=0)
    # cells the fill did not reach stay nodata
    reached = fillnodata(mask.astype(np.float32), mask,
                         max_search_distance=fill_distance / cell) > 0
    dem = np.where(reached, filled, nodata).astype(np.float32)
    profile = dict(driver="GTiff", width=dem.shape[1], height=dem.shape[0], count=1,
                   dtype="float32", crs=RD_NEW, transform=from_origin(west, north, cell, cell),
                   nodata=nodata, tiled=True, blockxsize=64, blockysize=64)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(dem, 1)
        if overviews:
            from rasterio.enums import Resampling

            ds.build_overviews([2, 4, 8], Resampling.average)
    return path


def make_ahn3_ortho(path: Path, crs: str = "EPSG:32631", cell: float = 0.25) -> Path:
    """Write an RGB "orthophoto" of the AHN3 surface (hillshade of the highest points,
    tinted by height) warped into ``crs`` to ``path``; nodata 0."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    from loaders.tiles.terrain import elevation_colours, hillshade

    grid, west, north = _grid(_points(ground_only=False), cell, "max")
    from rasterio.fill import fillnodata

    ok = np.isfinite(grid)
    grid = fillnodata(np.where(ok, grid, 0).astype(np.float32), ok.astype(np.uint8),
                      max_search_distance=8).astype(np.float64)
    shade = hillshade(grid, cell, cell)
    tint = elevation_colours(grid.ravel(), float(np.nanmin(grid)),
                             float(np.nanmax(grid)))[:, :3].reshape(*grid.shape, 3)
    rgb = np.clip(tint * (0.35 + 0.65 * shade[..., None]), 1, 255).astype(np.uint8)
    src_transform = from_origin(west, north, cell, cell)
    h, w = grid.shape
    dst_transform, dw, dh = calculate_default_transform(
        RD_NEW, crs, w, h, west, north - h * cell, west + w * cell, north)
    out = np.zeros((3, dh, dw), np.uint8)
    for b in range(3):
        reproject(rgb[..., b], out[b], src_transform=src_transform, src_crs=RD_NEW,
                  dst_transform=dst_transform, dst_crs=crs, resampling=Resampling.bilinear,
                  src_nodata=0, dst_nodata=0)
    with rasterio.open(path, "w", driver="GTiff", width=dw, height=dh, count=3,
                       dtype="uint8", crs=crs, transform=dst_transform, nodata=0,
                       photometric="RGB") as ds:
        ds.write(out)
    return path
