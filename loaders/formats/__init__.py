"""Format modules. Each defines ``READERS: list[ReaderSpec]``; they are merged here."""

from __future__ import annotations

from ..registry import ReaderSpec

READERS: list[ReaderSpec] = []

# Each module is imported here so that a missing optional dependency only breaks its
# own format (the module must import its heavy dependency lazily inside read()).
from . import cityjson, e57, gltf, ifc, las, obj, planned, ply, stl_off, xyz  # noqa: E402

for _mod in (las, e57, ply, xyz, obj, gltf, stl_off, ifc, cityjson, planned):
    READERS.extend(_mod.READERS)

from ..tiles import terrain as _terrain  # noqa: E402  (GeoTIFF DEM / imagery)

READERS.extend(_terrain.READERS)

from ..tiles import tiles3d as _tiles3d  # noqa: E402  (3D Tiles: a streamed TileSet)

READERS.extend(_tiles3d.READERS)

from ..tiles import osgb as _osgb  # noqa: E402  (OSGB oblique-photogrammetry tilesets)

READERS.extend(_osgb.READERS)
