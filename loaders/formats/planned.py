"""Formats RealScene recognises but cannot read yet (none today: 3D Tiles, OSGB tilesets and
GeoTIFF rasters are read by loaders.tiles).

They are recognised by extension and content so that the user gets a clear "not
supported yet" with a way forward, instead of "unrecognised file" or a misread as glTF.
"""

from __future__ import annotations

from pathlib import Path

from ..registry import ReaderSpec
from ..types import LoadError


def _refuse(name: str, hint: str):
    def read(path: Path, progress=None):
        raise LoadError(path, f"{name} files are not supported yet", hint)

    return read


READERS: list[ReaderSpec] = []
