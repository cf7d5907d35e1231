"""Formats RealScene recognises but cannot read yet (3D Tiles; GeoTIFF rasters are read by
loaders.tiles.terrain).

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


def _sniff_tileset(head: bytes, path: Path) -> bool:
    text = head[:4096]
    return (text.lstrip().startswith(b"{") and b'"root"' in text and b'"asset"' in text
            and b'"geometricError"' in text)


READERS = [
    ReaderSpec("3D Tiles", ("tileset.json",),
               _refuse("3D Tiles", "3D Tiles support is planned"),
               sniff=_sniff_tileset, score=10),
]
