"""Format modules. Each defines ``READERS: list[ReaderSpec]``; they are merged here. (The
tiled datasets' readers, :mod:`loaders.tiles`, are registered by :mod:`loaders` itself:
they use format modules (glTF), so importing them here would make an import cycle.)"""

from __future__ import annotations

from ..registry import ReaderSpec

READERS: list[ReaderSpec] = []

# Each module is imported here so that a missing optional dependency only breaks its
# own format (the module must import its heavy dependency lazily inside read()).
from . import cityjson, e57, gltf, ifc, las, obj, planned, ply, stl_off, xyz  # noqa: E402

for _mod in (las, e57, ply, xyz, obj, gltf, stl_off, ifc, cityjson, planned):
    READERS.extend(_mod.READERS)
