"""An orthophoto GeoTIFF draped on meshes by planar (top-down) projection.

A city mesh (OBJ, glTF, CityJSON, IFC) or the tiles of an OSGB / 3D Tiles tileset get
per-vertex UVs from their vertices' x, y in the mesh's CRS (the scene CRS), and one
texture: the orthophoto warped with rasterio into that CRS over the mesh's footprint
(from the overview that fits the texels). Roofs take the orthophoto's colours; walls
take the colour of the pixels under them (stretched), as in any top-down drape.

* :class:`Orthophoto`: the GeoTIFF, checked once (a regular file, an 8-bit image with a
  CRS, pixel size known) and warped per request, thread-safe (each read opens its own
  rasterio handle: rasterio datasets are not thread-safe).
* :func:`drape_mesh` / :func:`undrape_mesh`: a whole mesh (texture at most
  :data:`MESH_TEXTURE` a side); the mesh's own UVs and parts are kept in its metadata,
  so undraping gives the file's look back without reading it again.
* :meth:`Orthophoto.drape_content`: a tile's meshes as they load (texture at most
  :data:`TILE_TEXTURE` a side), the hook :meth:`loaders.tiles.TileSet.drape` installs.

Texels the orthophoto does not cover are a neutral grey (opaque: a half-covered
building stays whole).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..types import LoadError, Material, Mesh, MeshPart

#: largest texture side for a whole mesh layer (4096² RGB = 48 MiB)
MESH_TEXTURE = 4096
#: largest texture side per tile
TILE_TEXTURE = 512
#: colour of texels outside the orthophoto
NO_DATA_RGB = (170, 170, 170)
#: the metadata key keeping a draped mesh's own UVs and parts
UNDRAPED = "undraped"


@dataclass
class DrapedLook:
    """What a drape gives one mesh: its UVs (n, 2) float32 and the texture (h, w, 3)."""

    uvs: np.ndarray
    texture: np.ndarray


class Orthophoto:
    """An image GeoTIFF to drape (checked when made; LoadError when it cannot be)."""

    def __init__(self, path: str | Path) -> None:
        from .raster import open_raster, palette_of, raster_role, value_range

        self.path = Path(path)
        ds = open_raster(self.path)  # regular file, readable raster (LoadError)
        try:
            if raster_role(ds) != "imagery":
                raise LoadError(self.path, "is not an image (orthophoto) GeoTIFF",
                                "drape a 3- or 4-band 8-bit image")
            if ds.crs is None:
                raise LoadError(self.path, "the orthophoto has no CRS",
                                "assign one (e.g. gdal_edit.py -a_srs) before draping it")
            self.crs_wkt = ds.crs.to_wkt()
            self.bounds = tuple(ds.bounds)
            self.pixel = math.sqrt(abs(ds.transform.determinant))
            self.overviews = list(ds.overviews(1))
            self.count = 3 if ds.count >= 3 else 1
            self.palette = palette_of(ds) if ds.count < 3 else None
            self.stretch = value_range(ds)  # 16-bit / float images: one stretch for all
        finally:
            ds.close()
        self._pixel_in: dict[str, float] = {}

    # ---- geometry ----------------------------------------------------------------
    def _wkt(self, crs: Any) -> str:
        return self.crs_wkt if crs is None else crs.to_wkt()

    def footprint_in(self, crs: Any) -> tuple[float, float, float, float]:
        """The orthophoto's bounds (west, south, east, north) in ``crs`` (None: its own)."""
        from rasterio.warp import transform_bounds

        if crs is None:
            return self.bounds
        return tuple(transform_bounds(self.crs_wkt, self._wkt(crs), *self.bounds,
                                      densify_pts=21))

    def pixel_in(self, crs: Any) -> float:
        """One orthophoto pixel's ground size in ``crs`` units (measured once per CRS)."""
        key = self._wkt(crs)
        if key not in self._pixel_in:
            from .raster import open_raster, pixel_size_in

            size = None
            if crs is not None:
                ds = open_raster(self.path)
                try:
                    size = pixel_size_in(ds, crs)
                finally:
                    ds.close()
            self._pixel_in[key] = size or self.pixel
        return self._pixel_in[key]

    def texture(self, box: tuple[float, float, float, float], crs: Any,
                max_side: int) -> np.ndarray:
        """The orthophoto warped into ``crs`` over ``box`` (west, south, east, north):
        (h, w, 3) uint8, row 0 north, at most ``max_side`` a side (the orthophoto's own
        resolution when smaller), no-data texels grey."""
        from rasterio.transform import from_bounds

        from .raster import open_raster, warp_rgba

        x0, y0, x1, y1 = box
        px = self.pixel_in(crs)
        tw = int(min(max_side, max(8, math.ceil((x1 - x0) / px))))
        th = int(min(max_side, max(8, math.ceil((y1 - y0) / px))))
        texel = max((x1 - x0) / tw, (y1 - y0) / th)
        level = None  # the coarsest overview still finer than a texel
        for k, factor in enumerate(self.overviews):
            if factor * px <= texel:
                level = k
        src = open_raster(self.path, level)  # (4 * 4096² = 64 MiB at most; float: 4x)
        try:
            rgba = warp_rgba(src, self.count, (th, tw), from_bounds(x0, y0, x1, y1, tw, th),
                             self._wkt(crs), self.palette, self.stretch)
        finally:
            src.close()
        rgb = np.ascontiguousarray(rgba[..., :3])
        rgb[rgba[..., 3] == 0] = NO_DATA_RGB
        return rgb

    # ---- meshes ------------------------------------------------------------------
    def look(self, meshes: list[Mesh], crs: Any, max_side: int) -> list[DrapedLook] | None:
        """The drape of ``meshes`` (their vertices in ``crs``; None: the orthophoto's):
        one texture over their joint footprint and each mesh's UVs; None when the
        orthophoto does not overlap them."""
        xys = [m.vertices[:, :2].astype(np.float64) + m.origin[:2] for m in meshes
               if m.vertex_count]
        if not xys:
            return None
        lo = np.min([xy.min(axis=0) for xy in xys], axis=0)
        hi = np.max([xy.max(axis=0) for xy in xys], axis=0)
        w, s, e, n = self.footprint_in(crs)
        if not (lo[0] < e and hi[0] > w and lo[1] < n and hi[1] > s):
            return None
        span = np.maximum(hi - lo, 1e-6)
        box = (float(lo[0]), float(lo[1]), float(lo[0] + span[0]), float(lo[1] + span[1]))
        image = self.texture(box, crs, max_side)
        looks = []
        for m in meshes:
            xy = m.vertices[:, :2].astype(np.float64) + m.origin[:2]
            uvs = ((xy - lo) / span).astype(np.float32)  # v = 1 at the north (row 0)
            looks.append(DrapedLook(uvs, image))
        return looks

    def drape_content(self, content: Any, crs: Any) -> None:
        """Texture a loaded tile's meshes (``content.meshes``, in ``crs``) in place with
        one texture of at most :data:`TILE_TEXTURE` a side; tiles off the orthophoto
        keep their own look. Runs in the loader thread."""
        meshes = [m for m in content.meshes if m.triangle_count]
        looks = self.look(meshes, crs, TILE_TEXTURE) if meshes else None
        for mesh, look in zip(meshes, looks or (), strict=False):
            _apply(mesh, look, keep=False)


def _apply(mesh: Mesh, look: DrapedLook, keep: bool) -> None:
    """Give ``mesh`` the draped UVs and one textured part (keeping its own UVs and
    parts in its metadata first when ``keep``)."""
    if keep and UNDRAPED not in mesh.metadata:
        mesh.metadata[UNDRAPED] = (mesh.uvs, mesh.parts)
    mesh.uvs = look.uvs
    mesh.parts = [MeshPart("orthophoto", 0, mesh.triangle_count,
                           Material(name="orthophoto", texture=look.texture))]


def check_overlap(photo: Orthophoto, bounds: tuple[np.ndarray, np.ndarray], crs: Any,
                  name: str) -> None:
    """LoadError when the orthophoto does not overlap ``bounds`` (lo, hi xyz in ``crs``):
    the message gives both footprints in that CRS."""
    lo, hi = (np.asarray(b, dtype=np.float64) for b in bounds)
    try:
        w, s, e, n = photo.footprint_in(crs)
    except Exception as exc:  # noqa: BLE001 - a CRS pair PROJ cannot transform
        raise LoadError(photo.path, f"the orthophoto's CRS cannot be transformed into "
                                    f"{name}'s: {str(exc)[:200]}",
                        "check both files' CRS") from None
    if lo[0] < e and hi[0] > w and lo[1] < n and hi[1] > s:
        return
    where = "" if not np.isfinite(lo).all() else \
        f" and {name} x {lo[0]:.0f}..{hi[0]:.0f}, y {lo[1]:.0f}..{hi[1]:.0f}"
    raise LoadError(photo.path, f"the orthophoto does not overlap {name}",
                    f"it covers x {w:.0f}..{e:.0f}, y {s:.0f}..{n:.0f}{where} (in {name}'s "
                    "CRS): choose the orthophoto of this place, or check both files' CRS")


def drape_mesh(mesh: Mesh, ortho: str | Path | Orthophoto, *, name: str | None = None,
               max_side: int = MESH_TEXTURE) -> None:
    """Drape the orthophoto ``ortho`` on ``mesh`` (a Mesh or FeatureMesh in its
    ``crs``; a mesh without a CRS is taken to be in the orthophoto's). Its own UVs and
    parts are kept (:func:`undrape_mesh`); ``metadata["ortho"]`` names the file.
    LoadError when the file cannot be draped or does not overlap the mesh (``name``:
    the layer's, for the message)."""
    apply_mesh_drape(mesh, mesh_drape(mesh, ortho, name=name, max_side=max_side))


def apply_mesh_drape(mesh: Mesh, drape: tuple[Path, DrapedLook]) -> None:
    """Give ``mesh`` a drape made by :func:`mesh_drape` (its own look kept)."""
    path, look = drape
    _apply(mesh, look, keep=True)
    mesh.metadata["ortho"] = str(path)


def mesh_drape(mesh: Mesh, ortho: str | Path | Orthophoto, *, name: str | None = None,
               max_side: int = MESH_TEXTURE) -> tuple[Path, DrapedLook]:
    """The drape of ``ortho`` on ``mesh`` — (the file, its UVs and texture) — made
    without touching the mesh (a background job's part; :func:`apply_mesh_drape` then
    gives it). LoadError as :func:`drape_mesh`."""
    photo = ortho if isinstance(ortho, Orthophoto) else Orthophoto(ortho)
    if not mesh.triangle_count:
        raise LoadError(photo.path, f"{name or 'the mesh'} has no triangles to drape on",
                        "drape on a mesh layer")
    check_overlap(photo, mesh.bounds, mesh.crs, name or "the mesh")
    looks = photo.look([mesh], mesh.crs, max_side)
    if looks is None:  # (only the box of its points overlapped: said the same way)
        check_overlap(photo, (np.full(3, np.inf), np.full(3, np.inf)), mesh.crs,
                      name or "the mesh")
    return photo.path, looks[0]


def undrape_mesh(mesh: Mesh) -> bool:
    """Give a draped ``mesh`` its own UVs and parts back; False when it was not draped."""
    kept = mesh.metadata.pop(UNDRAPED, None)
    mesh.metadata.pop("ortho", None)
    if kept is None:
        return False
    mesh.uvs, mesh.parts = kept
    return True
