"""Curator exports: what a museum kiosk or a tourism web page is made from.

Hotspots from annotations, a Smithsonian Voyager scene, a static web exhibit, IIIF
manifests and the media that go with them. Each export works on a project (its layers,
annotations, views and tours) and the plain data of :mod:`loaders`, writes through
:mod:`loaders.writers` (GLB, 3D Tiles) and never on widgets, so the window, the command line
and a script make the same exhibit.

No Qt, no VTK (import-linter contracts in ``pyproject.toml``); pictures of the scene come
from the off-screen renderer handed in by the caller, like reports do.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .source import (
    ExhibitLayer,
    ExhibitSource,
    ExportCancelled,
    ExportError,
    ExportResult,
    ProgressFn,
)

__all__ = ["FORMATS", "export", "available_formats", "ExhibitLayer", "ExhibitSource",
           "ExportCancelled", "ExportError", "ExportResult", "ProgressFn"]

#: export format -> (module in this package, what it makes). Each module has
#: ``export(source, out, progress=None, **options) -> ExportResult``.
FORMATS: dict[str, tuple[str, str]] = {
    "glb": ("glb", "one GLB file: the model with hotspot nodes"),
    "3dtiles": ("tiles3d", "a 3D Tiles 1.1 folder (tileset.json) for digital-twin platforms"),
    "voyager": ("voyager", "a Smithsonian Voyager scene folder (.svx.json)"),
    "web": ("web", "an offline web exhibit folder (index.html)"),
    "iiif": ("iiif", "a IIIF Presentation 3 manifest with W3C annotations"),
}


def _module(fmt: str) -> Any:
    key = str(fmt).lower()
    if key not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}",
                          "one of " + ", ".join(FORMATS))
    name = FORMATS[key][0]
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise ExportError(f"the {key} export is not available in this version",
                          "choose another format") from None


def available_formats() -> list[str]:
    """The formats whose export module is present."""
    out = []
    for key in FORMATS:
        try:
            _module(key)
        except ExportError:
            continue
        out.append(key)
    return out


def export(source: ExhibitSource, fmt: str, out: str | Path,
           progress: ProgressFn | None = None, **options: Any) -> ExportResult:
    """Export ``source`` as ``fmt`` (a key of :data:`FORMATS`) to ``out`` (a file for
    "glb" and "iiif", a folder for the others). ``progress(fraction, message)`` may raise
    :class:`ExportCancelled`. Options are the format's own (e.g. ``triangles=N``,
    ``points=N`` for GLB). Raises :class:`ExportError` for an unknown or unavailable
    format or bad options."""
    return _module(fmt).export(source, Path(out), progress=progress, **options)
