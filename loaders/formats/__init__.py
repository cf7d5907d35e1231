"""Format modules. Each defines ``READERS: list[ReaderSpec]``; they are merged here."""

from __future__ import annotations

from ..registry import ReaderSpec

READERS: list[ReaderSpec] = []

# Each module is imported here so that a missing optional dependency only breaks its
# own format (the module must import its heavy dependency lazily inside read()).
from . import e57, gltf, las, obj, planned, ply, stl_off, xyz  # noqa: E402

for _mod in (las, e57, ply, xyz, obj, gltf, stl_off, planned):
    READERS.extend(_mod.READERS)
