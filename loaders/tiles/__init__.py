"""Tiled datasets streamed by screen-space error: OSGB oblique-photogrammetry pyramids,
3D Tiles tilesets and DEM terrain (see :mod:`loaders.tiles.base`). No Qt, no VTK."""

from __future__ import annotations

from .base import (
    DEFAULT_MAX_SSE,
    Selection,
    Tile,
    TileContent,
    TileSet,
    TileStream,
    View,
    select_tiles,
)

__all__ = ["DEFAULT_MAX_SSE", "Selection", "Tile", "TileContent", "TileSet", "TileStream",
           "View", "select_tiles"]
