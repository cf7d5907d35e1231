"""GeoTIFF reading shared by the terrain (:mod:`loaders.tiles.terrain`) and the
orthophoto drape on meshes (:mod:`loaders.tiles.drape`): opening a raster safely (a
regular file; a LoadError, never a rasterio traceback), telling heights from imagery,
8-bit bands to an RGBA texture, a pixel's ground size in another CRS. (Moved out of
terrain.py so the drape, which the TileSet base uses, does not import the terrain.)"""

from __future__ import annotations

import math
import warnings as _warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..types import LoadError


def apply_affine(t: Any, u: Any, v: Any) -> tuple[Any, Any]:
    """Affine ``t`` applied to pixel coordinates (u, v) -> (x, y)."""
    return t.a * u + t.b * v + t.c, t.d * u + t.e * v + t.f


def value_range(ds: Any) -> tuple[float, float] | None:
    """The values a non-8-bit image (16-bit, float orthophotos) is stretched over to make
    8-bit textures: the 0.5 and 99.5 percentiles of its first 1 or 3 bands, read once
    decimated to at most 512 px a side (no data left out), the same for every tile (no
    seams). None for an 8-bit image (drawn as it is)."""
    if str(ds.dtypes[0]) == "uint8":
        return None
    from rasterio.enums import Resampling

    bands = [1, 2, 3] if ds.count >= 3 else [1]
    step = max(ds.width, ds.height) / 512.0
    shape = (len(bands), max(1, round(ds.height / max(step, 1.0))),
             max(1, round(ds.width / max(step, 1.0))))
    data = ds.read(bands, out_shape=shape, masked=True, resampling=Resampling.nearest)
    values = np.asarray(data.compressed(), dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    return lo, hi if hi > lo else lo + 1.0


def warp_rgba(src: Any, count: int, shape: tuple[int, int], dst_transform: Any,
              dst_crs: Any, palette: np.ndarray | None,
              stretch: tuple[float, float] | None) -> np.ndarray:
    """(h, w, 4) uint8 texture of the image ``src`` (its first ``count`` bands) warped
    (bilinear) onto ``shape`` at ``dst_transform`` in ``dst_crs``; no data transparent.
    An 8-bit image is warped as it is; one with a ``stretch`` (:func:`value_range`) is
    warped in float and stretched over it."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    th, tw = shape
    source = rasterio.band(src, list(range(1, count + 1)))
    if stretch is None:
        dst = np.zeros((count + 1, th, tw), np.uint8)
        reproject(source=source, destination=dst, dst_transform=dst_transform,
                  dst_crs=dst_crs, dst_alpha=count + 1, resampling=Resampling.bilinear)
        return to_rgba(dst[:count], dst[count], palette)
    dst = np.full((count, th, tw), np.nan, np.float32)
    reproject(source=source, destination=dst, dst_transform=dst_transform, dst_crs=dst_crs,
              dst_nodata=np.nan, resampling=Resampling.bilinear)
    valid = np.isfinite(dst).all(axis=0)
    return to_rgba(np.nan_to_num(dst), valid.astype(np.uint8), palette, stretch)


def to_rgba(bands: np.ndarray, mask: np.ndarray | None, palette: np.ndarray | None,
            stretch: tuple[float, float] | None = None) -> np.ndarray:
    """(h, w, 4) uint8 texture of 1 or 3 bands (greyscale, palette or RGB) and a mask
    (0 = no data: transparent). Bands that are not 8-bit are stretched over ``stretch``
    (lo, hi) (:func:`value_range`), else clipped to 0..255."""
    bands = np.asarray(bands)
    if bands.dtype != np.uint8:
        if stretch is not None:
            lo, hi = stretch
            bands = (bands.astype(np.float32) - lo) * np.float32(255.0 / (hi - lo))
        bands = np.clip(bands, 0, 255).astype(np.uint8)
    h, w = bands.shape[1:]
    out = np.empty((h, w, 4), np.uint8)
    if len(bands) >= 3:
        out[..., :3] = np.moveaxis(bands[:3], 0, -1)
        out[..., 3] = 255
    elif palette is not None:
        out[:] = palette[bands[0]]
    else:
        out[..., :3] = bands[0][..., None]
        out[..., 3] = 255
    if mask is not None:
        out[..., 3] = np.where(np.asarray(mask) > 0, out[..., 3], 0)
    return out


def palette_of(ds: Any) -> np.ndarray | None:
    """A (256, 4) uint8 lookup table of band 1's colour map, or None."""
    try:
        cmap = ds.colormap(1)
    except ValueError:
        return None
    if not cmap:
        return None
    lut = np.zeros((256, 4), np.uint8)
    for k, rgba in cmap.items():
        if 0 <= int(k) < 256:
            lut[int(k)] = rgba
    return lut


def pixel_size_in(src: Any, crs: Any) -> float | None:
    """The ground size of one of ``src``'s pixels, measured in ``crs`` (its centre)."""
    try:
        from pyproj import CRS, Transformer

        tr = Transformer.from_crs(CRS.from_wkt(src.crs.to_wkt()), crs, always_xy=True)
        t = src.transform
        cx, cy = src.width / 2, src.height / 2
        pts = [apply_affine(t, cx, cy), apply_affine(t, cx + 1, cy),
               apply_affine(t, cx, cy + 1)]
        xs, ys = tr.transform([p[0] for p in pts], [p[1] for p in pts])
        du = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
        dv = math.hypot(xs[2] - xs[0], ys[2] - ys[0])
        size = math.sqrt(du * dv)
        return size if math.isfinite(size) and size > 0 else None
    except Exception:  # noqa: BLE001 - an estimate only
        return None


def raster_role(ds: Any) -> str:
    """"dem" for one band of heights, "imagery" for 8-bit images (3 / 4 bands, or one
    greyscale / palette band) and for colour-interpreted bands."""
    from rasterio.enums import ColorInterp

    interp = tuple(ds.colorinterp or ())
    if ds.count >= 3:
        return "imagery"
    if interp and interp[0] == ColorInterp.palette:
        return "imagery"
    if ds.dtypes[0] == "uint8":
        return "imagery"
    return "dem"


#: a compressed raster's block (tile or strip) may inflate to at most this many bytes
MAX_BLOCK_BYTES = 64 * 2**20
#: GDAL's block cache (MiB) unless GDAL_CACHEMAX is set: its default, 5 % of the RAM, is
#: filled by one coarse read of a huge raster without overviews, outside every tile budget
GDAL_CACHE_MB = 256
_cache_bounded = False


def _bound_gdal_cache() -> None:
    """Set GDAL's block cache to :data:`GDAL_CACHE_MB` unless the user's environment
    chose one (once, before the first raster this module opens)."""
    import os

    if "GDAL_CACHEMAX" not in os.environ:
        from rasterio.env import set_gdal_config

        set_gdal_config("GDAL_CACHEMAX", GDAL_CACHE_MB * 2**20)  # (bytes: GDALSetCacheMax64)


def open_raster(path: str | Path, overview: int | None = None) -> Any:
    """A rasterio dataset on ``path`` (on its overview number ``overview`` when given);
    LoadError when it is not a readable raster."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError

    from ..safety import UnsafePath, check_regular_file

    if not _cache_bounded:
        _bound_gdal_cache()
        globals()["_cache_bounded"] = True
    path = Path(path)
    if str(path).replace("\\", "/").lower().startswith("/vsi"):
        raise LoadError(path, "is a GDAL virtual path (remote or inside an archive); refused",
                        "download or extract the file and open it")
    try:
        check_regular_file(path)
    except FileNotFoundError:
        raise LoadError(path, "file not found", "check the path") from None
    except UnsafePath as exc:
        raise LoadError(path, str(exc.args[-1]) if exc.args else "not a regular file",
                        "open a regular file") from None
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", NotGeoreferencedWarning)
            # GeoTIFF only: a VRT (or another format naming files) given as a .tif would
            # make GDAL read any file or URL it names
            ds = rasterio.open(path, driver="GTiff") if overview is None else \
                rasterio.open(path, driver="GTiff", overview_level=overview)
    except (RasterioError, OSError, ValueError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoadError(path, f"not a readable GeoTIFF: {text[:200]}",
                        "the file may be truncated or corrupt; re-export it") from None
    if ds.count < 1:
        ds.close()
        raise LoadError(path, "raster has no bands", "re-export the GeoTIFF")
    (bh, bw), item = ds.block_shapes[0], np.dtype(ds.dtypes[0]).itemsize
    block = bh * bw * item * (ds.count if ds.interleaving is not None and
                              ds.interleaving.name == "PIXEL" else 1)
    if ds.compression is not None and block > MAX_BLOCK_BYTES:
        ds.close()  # (GDAL inflates a whole block to read one pixel of it)
        raise LoadError(path, f"is compressed in blocks of {bw:,} x {bh:,} pixels "
                        f"({block / 2**20:,.0f} MiB each once inflated); refused",
                        "re-tile it: gdal_translate -co TILED=YES -co COMPRESS=DEFLATE")
    return ds
