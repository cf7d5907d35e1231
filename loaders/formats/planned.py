"""Formats RealScene recognises but cannot read yet (CityJSON, IFC, 3D Tiles).

They are recognised by extension and content so that the user gets a clear "not
supported yet" with a way forward, instead of "unrecognised file" or a misread as glTF.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..registry import ReaderSpec
from ..types import LoadError


def _refuse(name: str, hint: str):
    def read(path: Path, progress=None):
        raise LoadError(path, f"{name} files are not supported yet", hint)

    return read


def _sniff_cityjson(head: bytes, path: Path) -> bool:
    return re.search(rb'"type"\s*:\s*"CityJSON"', head[:4096]) is not None


def _sniff_tileset(head: bytes, path: Path) -> bool:
    text = head[:4096]
    return (text.lstrip().startswith(b"{") and b'"root"' in text and b'"asset"' in text
            and b'"geometricError"' in text)


def _sniff_ifc(head: bytes, path: Path) -> bool:
    return head.lstrip().startswith(b"ISO-10303-21") and (b"IFC" in head[:4096].upper())


READERS = [
    ReaderSpec("CityJSON", ("city.json", "cityjson"),
               _refuse("CityJSON", "CityJSON support is planned; meanwhile convert it to "
                       "OBJ, e.g. `cjio FILE export obj OUT.obj`"),
               sniff=_sniff_cityjson, score=10),
    ReaderSpec("IFC", ("ifc",),
               _refuse("IFC (BIM)", "IFC support is planned; meanwhile export the model "
                       "to glTF or OBJ from your BIM tool or IfcConvert"),
               sniff=_sniff_ifc, score=10),
    ReaderSpec("3D Tiles", ("tileset.json",),
               _refuse("3D Tiles", "3D Tiles support is planned"),
               sniff=_sniff_tileset, score=10),
]
