"""Survey epochs: comparing scans of the same monument or district taken at different times.

Clip, section and profile of an epoch; registration of one epoch onto another;
cloud-to-cloud (C2C) and M3C2 distances; detected change written back into the heritage
record (annotations with their condition) so it is tracked like any other observation.
Processes work on the plain data of :mod:`loaders` (one function per tile, so the same code
runs locally or on a Dask cluster); the dialog lives in ``viewer/qt`` and the command in
``viewer/cli`` (CloudCompare's qM3C2 split: process, dialog, command).

No Qt, no VTK (import-linter contracts in ``pyproject.toml``).
"""

from .clip import Box, ClipResult, Polygon, Region, Slab, clip_file, region_from_annotation

__all__ = ["Box", "ClipResult", "Polygon", "Region", "Slab", "clip_file",
           "region_from_annotation"]
