"""File formats -> plain in-memory data (numpy). No Qt, no VTK.

>>> from loaders import read
>>> cloud = read("site.laz")          # PointCloud or Mesh, raises LoadError
"""

from __future__ import annotations

import threading
from pathlib import Path

from .registry import REGISTRY, LoaderRegistry, ReaderSpec, normalised_extension
from .types import (
    Dataset,
    Feature,
    FeatureMesh,
    LoadCancelled,
    LoadError,
    Material,
    Mesh,
    MeshPart,
    PointCloud,
    ProgressFn,
    split_origin,
)

_registered = False
_register_lock = threading.Lock()


def _register_builtin() -> None:
    """Register the built-in readers once (thread-safe: loads run in worker threads)."""
    global _registered
    if _registered:
        return
    with _register_lock:
        if _registered:
            return
        from . import formats
        from .tiles import osgb, terrain, tiles3d

        for spec in [*formats.READERS, *terrain.READERS, *tiles3d.READERS, *osgb.READERS]:
            REGISTRY.register(spec)
        _registered = True


def read(path: str | Path, progress: ProgressFn | None = None) -> Dataset:
    """Read a file into a :class:`PointCloud` or :class:`Mesh`.

    Raises
    ------
    LoadError
        For any missing, unreadable, truncated, corrupt or unsupported file.
    LoadCancelled
        When ``progress`` raised it.
    """
    _register_builtin()
    return REGISTRY.read(path, progress)


def supported_extensions() -> list[str]:
    _register_builtin()
    return REGISTRY.extensions()


__all__ = [
    "Dataset", "Feature", "FeatureMesh", "LoadCancelled", "LoadError", "LoaderRegistry",
    "Material", "Mesh",
    "MeshPart", "PointCloud", "ProgressFn", "REGISTRY", "ReaderSpec", "read",
    "normalised_extension", "split_origin", "supported_extensions",
]
