"""Terrain: a DEM / DSM GeoTIFF as a quadtree of height grids, and orthophoto imagery.

:class:`TerrainTileSet` streams a raster read with rasterio by window and decimation
(GDAL uses the file's overviews when it has them), so a coarse root costs a few
thousand samples and the leaves reach the native resolution; the whole pyramid is
never in memory.

* A DEM (one band of heights, nodata honoured) becomes regular grids of at most
  :data:`GRID` x :data:`GRID` cells per tile, each with a *skirt*: its border strip
  repeated below the edge by the tile's height error, so that neighbouring tiles of
  different levels show no cracks. Vertices are coloured by elevation (a small
  hypsometric table over the DEM's height range) or by hillshade (sun azimuth 315,
  altitude 45), or textured by an orthophoto draped over it (:meth:`drape`): each tile
  gets a texture warped into the DEM's CRS for its footprint (at most
  :data:`MAX_TEXTURE` px a side).
* An image GeoTIFF (3 / 4 bands uint8, or one uint8 band of greyscale / palette
  imagery) opens as flat imagery at height 0 on the same quadtree, textured by its own
  pixels, so it can lie under other data and be draped on a DEM later.

The native frame is the raster's CRS (a GeoTIFF without one opens in pixel units with a
warning); :meth:`TileSet.set_target_crs` reprojects into the scene CRS in float64.
:meth:`TerrainTileSet.height_at` gives terrain heights at scene points (bilinear on the
full-resolution DEM).
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from ..types import LoadError, Material, Mesh, MeshPart, split_origin
from .base import Tile, TileContent, TileSet
from .raster import apply_affine as _apply
from .raster import (  # noqa: F401 - open_raster, raster_role re-exported (registry, tests)
    open_raster,
    raster_role,
    value_range,
    warp_rgba,
)
from .raster import palette_of as _palette_of
from .raster import pixel_size_in as _pixel_size_in
from .raster import to_rgba as _to_rgba

#: heights beyond this (CRS units, after the file's scale / offset) are nodata: no
#: terrain is 10,000 km high, and one such float (3e38) would wreck every bound
MAX_HEIGHT = 1e7
#: cells per side of a DEM tile's grid
GRID = 64
#: cells per side of a flat imagery tile (enough to follow a reprojection's curvature)
IMAGERY_GRID = 16
#: largest texture side (pixels) of one tile
MAX_TEXTURE = 512
#: refuse rasters declaring more pixels than this per side / in all
MAX_SIDE = 1 << 20
MAX_PIXELS = 1 << 34
#: a decimated read of a file without overviews averages at most this many pixels;
#: beyond, it samples (nearest), so a coarse tile of a huge DEM stays cheap
MAX_AVERAGE_PIXELS = 16 * 2**20

COLOUR_MODES = ("elevation", "hillshade", "texture")

# hypsometric tint: (fraction of the height range, RGB)
_ELEVATION_TABLE = np.array([
    (0.00, 38, 115, 77), (0.15, 90, 160, 80), (0.35, 190, 200, 110),
    (0.55, 200, 160, 90), (0.75, 150, 110, 80), (1.00, 245, 245, 245)], dtype=np.float64)


def elevation_colours(z: np.ndarray, z_min: float, z_max: float) -> np.ndarray:
    """(n, 4) uint8 colours of heights ``z`` over ``[z_min, z_max]`` (NaN: grey)."""
    span = max(z_max - z_min, 1e-9)
    t = np.clip(np.nan_to_num((np.asarray(z, np.float64) - z_min) / span), 0.0, 1.0)
    out = np.empty((len(t), 4), np.uint8)
    for k in range(3):
        out[:, k] = np.round(np.interp(t, _ELEVATION_TABLE[:, 0], _ELEVATION_TABLE[:, k + 1]))
    out[:, 3] = 255
    out[~np.isfinite(z), :3] = 128
    return out


def hillshade(z: np.ndarray, dx: float, dy: float, azimuth: float = 315.0,
              altitude: float = 45.0) -> np.ndarray:
    """Hillshade 0..1 of a height grid ``z`` (rows go south by ``dy`` > 0 metres, columns
    east by ``dx``), lit from ``azimuth`` (degrees clockwise from north) and
    ``altitude`` (degrees above the horizon); NaN where a slope is unknown."""
    z = np.asarray(z, np.float64)
    if z.shape[0] < 2 or z.shape[1] < 2:
        return np.full(z.shape, math.sin(math.radians(altitude)))
    dz_drow, dz_dcol = np.gradient(z, dy, dx)
    dz_dx, dz_dy = dz_dcol, -dz_drow  # rows run south: north is -row
    az = math.radians(azimuth)
    alt = math.radians(altitude)
    # surface normal (-dz/dx, -dz/dy, 1); sun direction towards (east, north, up)
    sun = np.array([math.sin(az) * math.cos(alt), math.cos(az) * math.cos(alt),
                    math.sin(alt)])
    norm = np.sqrt(dz_dx ** 2 + dz_dy ** 2 + 1.0)
    shade = (-dz_dx * sun[0] - dz_dy * sun[1] + sun[2]) / norm
    return np.clip(shade, 0.0, 1.0)


def _bilinear(grid: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sample ``grid`` (rows, cols; NaN = nodata) at fractional column indices ``a``
    and row indices ``b`` (clamped to the grid); invalid neighbours are left out and
    their weight shared by the valid ones; NaN where every weighted neighbour is nodata."""
    h, w = grid.shape
    a = np.clip(a, 0.0, w - 1.0)
    b = np.clip(b, 0.0, h - 1.0)
    a0 = np.minimum(np.floor(a).astype(np.int64), max(w - 2, 0))
    b0 = np.minimum(np.floor(b).astype(np.int64), max(h - 2, 0))
    a1 = np.minimum(a0 + 1, w - 1)
    b1 = np.minimum(b0 + 1, h - 1)
    fa = a - a0
    fb = b - b0
    total = np.zeros(np.broadcast(a, b).shape)
    weight = np.zeros_like(total)
    for rows, cols, wgt in ((b0, a0, (1 - fa) * (1 - fb)), (b0, a1, fa * (1 - fb)),
                            (b1, a0, (1 - fa) * fb), (b1, a1, fa * fb)):
        val = grid[rows, cols]
        ok = np.isfinite(val) & (wgt > 1e-12)
        total += np.where(ok, val, 0.0) * np.where(ok, wgt, 0.0)
        weight += np.where(ok, wgt, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 1e-9, total / np.maximum(weight, 1e-300), np.nan)


def _hull(corners_xy: np.ndarray, z_lo: float, z_hi: float) -> np.ndarray:
    """A tile's 4 ground corners at both heights: ``Tile.extra["hull"]`` (the tileset's
    box for framing: the raster's extent, not its bounding sphere)."""
    xy = np.asarray(corners_xy, dtype=np.float64)[:, :2]
    return np.vstack([np.column_stack([xy, np.full(len(xy), z)]) for z in (z_lo, z_hi)])


class TerrainDrape(NamedTuple):
    """An orthophoto checked for draping on a DEM: its file and what the tiles' warps
    need (its pixel size in the DEM's CRS, overviews, bands, palette)."""

    path: Path
    info: dict[str, Any]


class TerrainTileSet(TileSet):
    """A DEM (``role == "dem"``) or an image (``role == "imagery"``) GeoTIFF as tiles.

    ``ortho`` drapes an orthophoto on a DEM (see :meth:`drape`); ``colour`` is one of
    :attr:`colour_modes` ("elevation" or "hillshade" for a DEM, "texture" when draped or
    for imagery); ``role`` None decides from the file (:func:`raster_role`).
    """

    format_name = "Terrain"

    def __init__(self, path: str | Path, *, ortho: str | Path | None = None,
                 colour: str | None = None, role: str | None = None) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._handles: list[Any] = []
        self._handles_lock = threading.Lock()
        self._ortho_path: Path | None = None
        ds = self._open(self.path)
        notes: list[str] = []
        self.width, self.height = int(ds.width), int(ds.height)
        _check_size(self.path, self.width, self.height)
        self.role = role or raster_role(ds)
        if self.role not in ("dem", "imagery"):
            raise ValueError(f"role must be 'dem' or 'imagery', not {self.role!r}")
        transform = ds.transform
        crs = None
        if ds.crs is not None:
            from pyproj import CRS

            try:
                crs = CRS.from_user_input(ds.crs.to_wkt())
            except Exception as exc:  # noqa: BLE001 - a CRS pyproj can't take: pixel units
                notes.append(f"{self.path.name}: its CRS is not usable ({exc}); "
                             "opened in its own units")
        else:
            notes.append(f"{self.path.name}: no coordinate reference system in the file; "
                         "opened in its own units (assign a CRS to place it)")
        if transform.is_identity or not ds.transform.determinant:
            # not georeferenced: pixel units, north up (row 0 at the top)
            from affine import Affine

            transform = Affine(1.0, 0.0, 0.0, 0.0, -1.0, float(self.height))
            notes.append(f"{self.path.name}: no georeference (geotransform); "
                         "shown in pixel units")
        self.transform = transform
        self.pixel_size = float(math.sqrt(abs(transform.determinant)))
        #: metres per CRS unit along x and y (degrees of a geographic CRS: at the centre)
        self.metres = (1.0, 1.0)
        if crs is not None and crs.is_geographic:
            lat = (transform.f + transform.e * self.height / 2 + transform.d * self.width / 2)
            self.metres = (111_320.0 * max(math.cos(math.radians(lat)), 1e-6), 110_574.0)
        #: a pixel's ground size (metres for a geographic CRS): errors, skirts
        self.ground_pixel = self.pixel_size * math.sqrt(self.metres[0] * self.metres[1])
        self.nodata = ds.nodata
        self.has_overviews = bool(ds.overviews(1))
        self.scale = float((ds.scales or (1.0,))[0] or 1.0)
        self.offset = float((ds.offsets or (0.0,))[0] or 0.0)
        self.count = int(ds.count)
        self.dtype = str(ds.dtypes[0])
        #: imagery that is not 8-bit: the stretch of its 8-bit textures (one for all tiles)
        self._stretch = value_range(ds) if self.role == "imagery" else None
        self._palette = _palette_of(ds) if self.role == "imagery" and self.count < 3 \
            else None
        self._ortho_info: dict[str, Any] = {}
        if self.role == "dem":
            box = (0.5, 0.5, self.width - 0.5, self.height - 0.5)
            self.leaf_span = GRID
        else:
            box = (0.0, 0.0, float(self.width), float(self.height))
            self.leaf_span = MAX_TEXTURE
        if self.role == "dem" and not self.has_overviews and \
                self.width * self.height > MAX_AVERAGE_PIXELS:
            notes.append(f"{self.path.name}: no overviews: coarse tiles sample the DEM "
                         "(build overviews, e.g. gdaladdo, for smoother distant terrain)")
        self.z_range = (0.0, 0.0)
        self.colour_modes: tuple[str, ...] = ("texture",) if self.role == "imagery" \
            else ("elevation", "hillshade")
        self._colour = "texture" if self.role == "imagery" else "elevation"
        metadata = {
            "raster_role": self.role, "raster_size": (self.width, self.height),
            "bands": self.count, "dtype": self.dtype, "nodata": self.nodata,
            "pixel_size": self.pixel_size, "overviews": self.has_overviews,
            "warnings": notes,
        }
        if self.role == "dem":
            metadata["format_detail"] = "DEM GeoTIFF (heights)"
        else:
            metadata["format_detail"] = "image GeoTIFF (flat imagery at height 0)"
        root = self._make_tile("r", box)
        super().__init__(str(self.path), root, native_crs=crs, metadata=metadata)
        if self.role == "dem":
            self._measure_heights()
        # the root's sphere with the height range (native frame)
        self._retarget(self.root)
        if ortho is not None:
            self.drape(ortho)
        if colour is not None:
            self.set_colour(colour)

    # ---- files ---------------------------------------------------------------------
    def _open(self, path: Path, overview: int | None = None) -> Any:
        """This thread's rasterio handle on ``path`` (rasterio datasets are not
        thread-safe), on its overview number ``overview`` when given; LoadError when it
        is not a readable raster."""
        cache = getattr(self._local, "handles", None)
        if cache is None:
            cache = self._local.handles = {}
        ds = cache.get((path, overview))
        if ds is not None:
            return ds
        ds = open_raster(path, overview)
        cache[(path, overview)] = ds
        with self._handles_lock:
            self._handles.append(ds)
        return ds

    def close(self) -> None:
        with self._handles_lock:
            handles, self._handles = self._handles, []
        for ds in handles:
            try:
                ds.close()
            except Exception:  # noqa: BLE001 - closing must not fail
                pass
        self._local = threading.local()

    # ---- colouring -----------------------------------------------------------------
    @property
    def colour(self) -> str:
        """How tiles are coloured: "elevation", "hillshade" or "texture"."""
        return self._colour

    def set_colour(self, mode: str) -> None:
        """Colour tiles loaded from now on by ``mode`` (reload cached tiles, e.g.
        :meth:`TileStream.clear`, to see it everywhere)."""
        if mode not in self.colour_modes:
            raise ValueError(f"colour must be one of {', '.join(self.colour_modes)}, "
                             f"not {mode!r}")
        self._colour = mode

    def drape(self, ortho: str | Path | None) -> None:
        """Texture the tiles with the orthophoto ``ortho`` (an image GeoTIFF, warped into
        this raster's CRS per tile); None takes it off (the colours before it come back).
        Raises LoadError when it cannot be read."""
        self.set_drape_state(None if ortho is None else self.prepare_drape(ortho))

    def prepare_drape(self, ortho: str | Path) -> TerrainDrape:
        """The orthophoto ``ortho`` checked and measured, the terrain not changed yet
        (:meth:`set_drape_state` installs it). LoadError when it cannot be draped."""
        path = Path(ortho)
        if self.role != "dem":
            raise LoadError(path, "imagery can only be draped on a DEM",
                            f"{self.path.name} is imagery itself")
        ds = open_raster(path)
        try:
            if raster_role(ds) != "imagery":
                raise LoadError(path, "is not an image (orthophoto) GeoTIFF",
                                "drape a 3- or 4-band 8-bit image")
            if ds.crs is None and self.native_crs is not None:
                raise LoadError(path, "the orthophoto has no CRS",
                                "assign one before draping it")
            px = math.sqrt(abs(ds.transform.determinant))
            if ds.crs is not None and self.native_crs is not None:
                px = _pixel_size_in(ds, self.native_crs) or px
            info = {"pixel": px, "overviews": list(ds.overviews(1)),
                    "count": 3 if ds.count >= 3 else 1,
                    "palette": _palette_of(ds) if ds.count < 3 else None,
                    "stretch": value_range(ds)}
        finally:
            ds.close()
        return TerrainDrape(path, info)

    def drape_state(self) -> TerrainDrape | None:
        """The orthophoto draped now (None when none is), for :meth:`set_drape_state`."""
        path = self._ortho_path
        return None if path is None else TerrainDrape(path, self._ortho_info)

    def set_drape_state(self, state: TerrainDrape | None) -> None:
        """Drape what :meth:`prepare_drape` made (or :meth:`drape_state` saved); None
        takes the orthophoto off: the DEM's elevation or hillshade colours come back."""
        if state is None:
            self._ortho_path = None
            self.colour_modes = tuple(m for m in self.colour_modes if m != "texture") \
                if self.role == "dem" else self.colour_modes
            if self._colour not in self.colour_modes:
                self._colour = getattr(self, "_undraped_colour", self.colour_modes[0])
            self.metadata.pop("ortho", None)
            return
        if self._colour != "texture":
            self._undraped_colour = self._colour
        self._ortho_info, self._ortho_path = state.info, state.path
        if "texture" not in self.colour_modes:
            self.colour_modes = (*self.colour_modes, "texture")
        self._colour = "texture"
        self.metadata["ortho"] = str(state.path)

    # ---- tree ----------------------------------------------------------------------
    def _cells(self, box: tuple[float, float, float, float]) -> tuple[int, int, float]:
        """(cells along u, cells along v, pixels per cell) of a tile's box."""
        u0, v0, u1, v1 = box
        su, sv = u1 - u0, v1 - v0
        grid = GRID if self.role == "dem" else IMAGERY_GRID
        if self.role == "dem":
            per_cell = max(1.0, max(su, sv) / grid)
        else:
            per_cell = max(su, sv) / grid
        nu = max(1, min(grid, math.ceil(su / per_cell - 1e-9)))
        nv = max(1, min(grid, math.ceil(sv / per_cell - 1e-9)))
        return nu, nv, per_cell

    def _make_tile(self, key: str, box: tuple[float, float, float, float]) -> Tile:
        u0, v0, u1, v1 = box
        t = self.transform
        corners = np.array([_apply(t, u, v) for u, v in ((u0, v0), (u1, v0), (u0, v1), (u1, v1))])
        centre_xy = corners.mean(axis=0)
        radius_xy = float(np.max(np.linalg.norm(corners - centre_xy, axis=1)))
        span = max(u1 - u0, v1 - v0)
        # error: the ground size of a cell (DEM) or of a texel (imagery) at this level
        per = span / self.leaf_span
        error = 0.0 if per <= 1.0 + 1e-9 else per * self.ground_pixel
        z_lo, z_hi = getattr(self, "z_range", (0.0, 0.0))
        centre = np.array([centre_xy[0], centre_xy[1], (z_lo + z_hi) / 2.0])
        radius = math.hypot(radius_xy, (z_hi - z_lo) / 2.0)
        return Tile(key=key, center=centre, radius=radius, geometric_error=error,
                    content=key, extra={"box": box, "hull": _hull(corners, z_lo, z_hi)})

    def _expand(self, tile: Tile) -> list[Tile]:
        u0, v0, u1, v1 = tile.extra["box"]
        su, sv = u1 - u0, v1 - v0
        longest = max(su, sv)
        if longest <= self.leaf_span + 1e-9:
            return []
        us = [u0, self._middle(u0, u1), u1] \
            if su > self.leaf_span and su >= longest / 2 else [u0, u1]
        vs = [v0, self._middle(v0, v1), v1] \
            if sv > self.leaf_span and sv >= longest / 2 else [v0, v1]
        kids = []
        for j in range(len(vs) - 1):
            for i in range(len(us) - 1):
                kids.append(self._make_tile(f"{tile.key}{j}{i}",
                                            (us[i], vs[j], us[i + 1], vs[j + 1])))
        return kids

    def _middle(self, a: float, b: float) -> float:
        """Where a box splits: on a pixel centre (DEM: leaves' vertices are the DEM's
        own samples) or a pixel edge (imagery: leaves' textures are whole pixels)."""
        if self.role == "dem":
            return math.floor((a + b) / 2 - 0.5) + 0.5
        return float(math.floor((a + b) / 2))

    # ---- reading -------------------------------------------------------------------
    def _read_heights(self, box: tuple[float, float, float, float], per_cell: float
                      ) -> tuple[np.ndarray, int, int, float, float]:
        """Heights (float64, NaN = nodata) of the pixel-edge window around ``box``,
        decimated to about one sample per cell: (grid, col_off, row_off, px per sample
        along u, along v)."""
        from rasterio.enums import Resampling
        from rasterio.windows import Window

        ds = self._open(self.path)
        u0, v0, u1, v1 = box
        c0 = max(0, math.floor(u0 - 0.5))
        c1 = min(self.width, math.ceil(u1 + 0.5))
        r0 = max(0, math.floor(v0 - 0.5))
        r1 = min(self.height, math.ceil(v1 + 0.5))
        f = max(1, int(math.floor(per_cell)))
        w, h = c1 - c0, r1 - r0
        ow, oh = max(1, math.ceil(w / f)), max(1, math.ceil(h / f))
        resampling = Resampling.average
        if f > 1 and not self.has_overviews and w * h > MAX_AVERAGE_PIXELS:
            resampling = Resampling.nearest
        data = ds.read(1, window=Window(c0, r0, w, h), out_shape=(oh, ow),
                       resampling=resampling, masked=True)
        grid = np.ma.filled(data.astype(np.float64), np.nan)
        if self.scale != 1.0 or self.offset != 0.0:
            grid = grid * self.scale + self.offset
        grid[~(np.abs(grid) <= MAX_HEIGHT)] = np.nan  # (NaN, infinity, absurd: nodata)
        return grid, c0, r0, w / ow, h / oh

    def _measure_heights(self) -> None:
        """The DEM's height range from a coarse read (colour range, bounding spheres)."""
        nu, nv, per = self._cells(self.root.extra["box"])
        grid, *_ = self._read_heights(self.root.extra["box"], per)
        finite = grid[np.isfinite(grid)]
        if finite.size:
            self.z_range = (float(finite.min()), float(finite.max()))
        else:
            self.warnings.append(f"{self.path.name}: every sample is nodata")
        self.metadata["height_range"] = self.z_range
        z_lo, z_hi = self.z_range
        root = self.root
        root.center = np.array([root.center[0], root.center[1], (z_lo + z_hi) / 2])
        root.radius = math.hypot(root.radius, (z_hi - z_lo) / 2)
        root.extra["hull"] = _hull(root.extra["hull"][:4, :2], z_lo, z_hi)
        self._native_centres[id(root)] = root.center.copy()

    def _load(self, tile: Tile, cancel: Callable[[], bool] | None) -> TileContent:
        from rasterio.errors import RasterioError

        try:
            return self._load_tile(tile, cancel)
        except RasterioError as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else \
                type(exc).__name__
            raise LoadError(self.path, f"tile {tile.key}: cannot read the raster: "
                            f"{text[:200]}", "the file may be truncated or corrupt") from None

    def _load_tile(self, tile: Tile, cancel: Callable[[], bool] | None) -> TileContent:
        box = tile.extra["box"]
        nu, nv, per_cell = self._cells(box)
        u0, v0, u1, v1 = box
        us = np.linspace(u0, u1, nu + 1)
        vs = np.linspace(v0, v1, nv + 1)
        uu, vv = np.meshgrid(us, vs)  # (nv + 1, nu + 1), row 0 = v0
        drop = 0.0
        if self.role == "dem":
            grid, c0, r0, fu, fv = self._read_heights(box, per_cell)
            a = (uu - c0) / fu - 0.5
            b = (vv - r0) / fv - 0.5
            z = _bilinear(grid, a, b)
            drop = self._skirt_drop(tile, grid, c0, r0, fu, fv, us, vs, z)
        else:
            z = np.zeros_like(uu)
        if cancel is not None and cancel():
            return TileContent()
        t = self.transform
        x, y = _apply(t, uu, vv)
        colours = None
        texture = None
        uv = np.column_stack([((uu - u0) / max(u1 - u0, 1e-12)).ravel(),
                              (1.0 - (vv - v0) / max(v1 - v0, 1e-12)).ravel()])
        if self._colour == "texture":
            if self.role == "imagery":
                texture, uv = self._own_texture(box, uu, vv)
            else:
                texture = self._drape_texture(box)
        elif self._colour == "hillshade":
            dx = math.hypot(t.a, t.d) * (u1 - u0) / nu * self.metres[0]
            dy = math.hypot(t.b, t.e) * (v1 - v0) / nv * self.metres[1]
            shade = hillshade(z, dx, dy)
            grey = np.where(np.isfinite(shade), np.round(40 + 215 * shade), 128)
            colours = np.empty((z.size, 4), np.uint8)
            colours[:, :3] = grey.reshape(-1, 1)
            colours[:, 3] = 255
        else:
            colours = elevation_colours(z.ravel(), *self.z_range)
        # skirts only where a neighbour can be: not along the raster's outer border
        r0, r1 = self.root.extra["box"], box
        sides = (r1[1] > r0[1], r1[2] < r0[2], r1[3] < r0[3], r1[0] > r0[0])
        mesh = _grid_mesh(x, y, z, drop, colours, uv, texture, sides)
        mesh.metadata["tile"] = tile.key
        return TileContent(meshes=[mesh] if mesh.triangle_count else [])

    def _skirt_drop(self, tile: Tile, grid: np.ndarray, c0: int, r0: int, fu: float,
                    fv: float, us: np.ndarray, vs: np.ndarray, z: np.ndarray) -> float:
        """How far a tile's skirt hangs below its edges: its geometric error or the
        measured height error of its grid against the samples it was made from, at
        least one pixel's size (neighbours of other levels then meet under it)."""
        rows, cols = grid.shape
        sample_u = c0 + (np.arange(cols) + 0.5) * fu
        sample_v = r0 + (np.arange(rows) + 0.5) * fv
        au = np.interp(sample_u, us, np.arange(len(us)), left=np.nan, right=np.nan)
        bv = np.interp(sample_v, vs, np.arange(len(vs)), left=np.nan, right=np.nan)
        aa, bb = np.meshgrid(au, bv)
        inside = np.isfinite(aa) & np.isfinite(bb)
        measured = 0.0
        if inside.any():
            approx = _bilinear(z, aa[inside], bb[inside])
            diff = np.abs(approx - grid[inside])
            diff = diff[np.isfinite(diff)]
            measured = float(diff.max()) if diff.size else 0.0
        tile.extra["height_error"] = measured
        return max(tile.geometric_error, measured, self.ground_pixel) * 1.5

    def _own_texture(self, box: tuple[float, float, float, float], uu: np.ndarray,
                     vv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An imagery tile's texture from its own pixels (integer window around the box,
        decimated to at most MAX_TEXTURE a side) and the vertices' UVs in it."""
        from rasterio.enums import Resampling
        from rasterio.windows import Window

        ds = self._open(self.path)
        u0, v0, u1, v1 = box
        c0, c1 = max(0, math.floor(u0)), min(self.width, math.ceil(u1))
        r0, r1 = max(0, math.floor(v0)), min(self.height, math.ceil(v1))
        w, h = max(c1 - c0, 1), max(r1 - r0, 1)
        scale = min(1.0, MAX_TEXTURE / max(w, h))
        tw, th = max(1, round(w * scale)), max(1, round(h * scale))
        window = Window(c0, r0, w, h)
        resampling = Resampling.nearest if scale == 1.0 else Resampling.average
        bands = [1, 2, 3] if self.count >= 3 else [1]
        data = ds.read(bands, window=window, out_shape=(len(bands), th, tw),
                       resampling=resampling)
        mask = ds.dataset_mask(window=window, out_shape=(th, tw))
        image = _to_rgba(data, mask, self._palette, self._stretch)
        uv = np.column_stack([((uu - c0) / w).ravel(), (1.0 - (vv - r0) / h).ravel()])
        return image, uv

    def _drape_texture(self, box: tuple[float, float, float, float]) -> np.ndarray | None:
        """The orthophoto warped into this DEM's CRS over the tile's footprint (its box's
        pixel-space rectangle, so the UVs are the box's own coordinates)."""
        from affine import Affine

        ortho, info = self._ortho_path, self._ortho_info  # (undrape may run meanwhile)
        if ortho is None:
            return None

        u0, v0, u1, v1 = box
        # texels: the orthophoto's resolution over the footprint, at most MAX_TEXTURE
        src_px = info["pixel"]
        ground_u = (u1 - u0) * math.hypot(self.transform.a, self.transform.d)
        ground_v = (v1 - v0) * math.hypot(self.transform.b, self.transform.e)
        tw = int(min(MAX_TEXTURE, max(8, math.ceil(ground_u / src_px))))
        th = int(min(MAX_TEXTURE, max(8, math.ceil(ground_v / src_px))))
        # a coarse tile warps from the orthophoto's overview that fits its texels
        texel = max(ground_u / tw, ground_v / th)
        level = None
        for k, factor in enumerate(info["overviews"]):
            if factor * src_px <= texel:
                level = k
        src = self._open(ortho, level)
        dst_transform = self.transform @ Affine.translation(u0, v0) @ \
            Affine.scale((u1 - u0) / tw, (v1 - v0) / th)
        return warp_rgba(src, info["count"], (th, tw), dst_transform, self._rio_crs(),
                         info["palette"], info.get("stretch"))

    def _rio_crs(self) -> Any:
        """The native CRS as rasterio's (made once: WKT parsing costs per tile)."""
        from rasterio.crs import CRS as RioCRS

        if self.native_crs is None:
            return None
        cached = self.__dict__.get("_rio_crs_cache")
        if cached is None:
            cached = self.__dict__["_rio_crs_cache"] = RioCRS.from_wkt(self.native_crs.to_wkt())
        return cached

    # ---- heights -------------------------------------------------------------------
    def height_at(self, xy: Any, crs: Any = None) -> np.ndarray:
        """Terrain heights at points ``xy`` ((n, 2|3), in ``crs``, default the current
        CRS), bilinear on the full-resolution DEM, in CRS units; NaN outside the DEM or
        on nodata. Flat imagery is 0 over its footprint."""
        from ..crs import as_crs

        pts = np.asarray(xy, dtype=np.float64).reshape(-1, np.shape(xy)[-1])[:, :2]
        src = as_crs(crs) if crs is not None else self.crs
        x, y = pts[:, 0], pts[:, 1]
        if src is not None and self.native_crs is not None and src != self.native_crs:
            from pyproj import Transformer

            tr = Transformer.from_crs(src, self.native_crs, always_xy=True)
            x, y = tr.transform(x, y)
        inv = ~self.transform
        u = inv.a * np.asarray(x) + inv.b * np.asarray(y) + inv.c
        v = inv.d * np.asarray(x) + inv.e * np.asarray(y) + inv.f
        inside = np.isfinite(u) & np.isfinite(v) & (u >= 0) & (u <= self.width) & \
            (v >= 0) & (v <= self.height)
        out = np.full(len(pts), np.nan)
        if not inside.any():
            return out
        if self.role == "imagery":
            out[inside] = 0.0
            return out
        from rasterio.windows import Window

        ds = self._open(self.path)
        ui, vi = u[inside] - 0.5, v[inside] - 0.5  # pixel-centre indices
        c0 = max(0, int(np.floor(ui.min())))
        c1 = min(self.width, int(np.floor(ui.max())) + 2)
        r0 = max(0, int(np.floor(vi.min())))
        r1 = min(self.height, int(np.floor(vi.max())) + 2)
        if (c1 - c0) * (r1 - r0) <= MAX_AVERAGE_PIXELS:
            grid = self._full_res(ds, Window(c0, r0, c1 - c0, r1 - r0))
            out[inside] = _bilinear_strict(grid, ui - c0, vi - r0)
            return out
        values = []
        for a, b in zip(ui, vi, strict=True):  # far-apart points: a 2x2 read each
            cc = min(max(0, int(np.floor(a))), self.width - 1)
            rr = min(max(0, int(np.floor(b))), self.height - 1)
            w = min(2, self.width - cc)
            h = min(2, self.height - rr)
            grid = self._full_res(ds, Window(cc, rr, w, h))
            values.append(_bilinear_strict(grid, np.array([a - cc]), np.array([b - rr]))[0])
        out[inside] = values
        return out

    def _full_res(self, ds: Any, window: Any) -> np.ndarray:
        data = ds.read(1, window=window, masked=True)
        grid = np.ma.filled(data.astype(np.float64), np.nan)
        if self.scale != 1.0 or self.offset != 0.0:
            grid = grid * self.scale + self.offset
        grid[~(np.abs(grid) <= MAX_HEIGHT)] = np.nan
        return grid


def _bilinear_strict(grid: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bilinear samples (clamped to the grid): NaN when a neighbour with weight is nodata."""
    h, w = grid.shape
    a = np.clip(a, 0.0, w - 1.0)
    b = np.clip(b, 0.0, h - 1.0)
    a0 = np.minimum(np.floor(a).astype(np.int64), max(w - 2, 0))
    b0 = np.minimum(np.floor(b).astype(np.int64), max(h - 2, 0))
    a1, b1 = np.minimum(a0 + 1, w - 1), np.minimum(b0 + 1, h - 1)
    fa, fb = a - a0, b - b0
    out = np.zeros(len(a))
    for rows, cols, wgt in ((b0, a0, (1 - fa) * (1 - fb)), (b0, a1, fa * (1 - fb)),
                            (b1, a0, (1 - fa) * fb), (b1, a1, fa * fb)):
        val = grid[rows, cols]
        out += np.where(wgt > 1e-12, val, 0.0) * wgt
        out[(wgt > 1e-12) & ~np.isfinite(val)] = np.nan
    return out


def _grid_mesh(x: np.ndarray, y: np.ndarray, z: np.ndarray, drop: float,
               colours: np.ndarray | None, uv: np.ndarray,
               texture: np.ndarray | None,
               sides: tuple[bool, bool, bool, bool] = (True, True, True, True)) -> Mesh:
    """A triangle mesh of a (rows, cols) vertex grid with a skirt ``drop`` below its
    border sides that ``sides`` names (first row, last column, last row, first column;
    no skirt when ``drop`` is 0); triangles touching nodata (NaN) are left out."""
    rows, cols = z.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    xyz = np.column_stack([x.ravel(), y.ravel(), z.ravel()])
    valid = np.isfinite(xyz).all(axis=1)
    a, b = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    c, d = idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    faces = np.concatenate([np.column_stack([a, c, b]), np.column_stack([b, c, d])])
    parts_xyz, parts_uv, parts_col = [xyz], [uv], [colours]
    if drop > 0 and rows > 1 and cols > 1:
        ring = np.concatenate([idx[0, :-1], idx[:-1, -1], idx[-1, ::-1][:-1],
                               idx[::-1, 0][:-1]])  # the border, once around
        skirt = rows * cols + np.arange(len(ring))
        lowered = xyz[ring].copy()
        lowered[:, 2] -= drop
        parts_xyz.append(lowered)
        parts_uv.append(uv[ring])
        parts_col.append(None if colours is None else colours[ring])
        nxt = np.roll(np.arange(len(ring)), -1)
        side = np.repeat(np.arange(4), [cols - 1, rows - 1, cols - 1, rows - 1])
        seg = np.asarray(sides, bool)[side]
        faces = np.concatenate([faces,
                                np.column_stack([ring, skirt, ring[nxt]])[seg],
                                np.column_stack([ring[nxt], skirt, skirt[nxt]])[seg]])
        valid = np.concatenate([valid, valid[ring]])
    xyz = np.concatenate(parts_xyz)
    uv_all = np.concatenate(parts_uv)
    col_all = None if colours is None else np.concatenate(parts_col)
    faces = faces[valid[faces].all(axis=1)]
    used = np.zeros(len(xyz), bool)
    used[faces.ravel()] = True
    remap = np.cumsum(used) - 1
    faces = remap[faces].astype(np.int32)
    vertices, origin = split_origin(xyz[used])
    parts = []
    if texture is not None:
        parts = [MeshPart("orthophoto", 0, len(faces), Material(name="orthophoto",
                                                                texture=texture))]
    return Mesh(vertices=vertices, origin=origin, faces=faces,
                uvs=uv_all[used].astype(np.float32),
                vertex_colors=None if col_all is None else col_all[used],
                parts=parts)


def _check_size(path: Path, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise LoadError(path, "raster has no pixels", "re-export the GeoTIFF")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise LoadError(path, f"declares a {width:,} x {height:,} pixel raster, more than "
                              "RealScene streams",
                        f"at most {MAX_SIDE:,} pixels a side and {MAX_PIXELS:,} in all; "
                        "split it into tiles (e.g. gdal_retile)")


def read_geotiff(path: Path, progress: Any = None) -> TerrainTileSet:
    """Registry reader: a GeoTIFF as a DEM or imagery :class:`TerrainTileSet` (the
    choice is in ``metadata["raster_role"]``)."""
    from rasterio.errors import RasterioError

    try:
        tileset = TerrainTileSet(path)
    except RasterioError as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoadError(path, f"cannot read GeoTIFF: {text[:200]}",
                        "the file may be truncated or corrupt; re-export it") from None
    tileset.metadata["format"] = "GeoTIFF"
    return tileset


def _sniff_tiff(head: bytes, path: Path) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _registry_specs() -> list[Any]:
    from ..registry import ReaderSpec

    return [ReaderSpec("GeoTIFF", ("tif", "tiff"), read_geotiff, sniff=_sniff_tiff, score=1)]


#: the registry's GeoTIFF reader (DEM or imagery, see :func:`read_geotiff`)
READERS = _registry_specs()
