"""Layer units and up axis, and the length unit measurements are shown in. No Qt, no VTK.

A file without a CRS has no units: its numbers may be millimetres (a heritage scan from a
structured-light scanner), metres or feet. A layer's ``units`` say which; setting them
scales the layer into the scene's metres (``mm`` -> x 0.001), so that it measures, and
sits beside georeferenced data, at its true size. A layer left without units keeps its
numbers and measures in "units", never in metres it may not be in.

The up axis (``"Y"`` or ``"Z"``: which axis of the file points up) is offered for every
mesh and point layer that is not georeferenced (glTF files, Y-up by the standard, keep
their own choice): a Y-up OBJ or PLY lying on its side is turned upright.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from loaders import Mesh, PointCloud

#: metres per unit of each length unit a layer can be given
UNIT_FACTORS = {"mm": 0.001, "cm": 0.01, "m": 1.0, "ft": 0.3048}
#: the choices offered for a layer, None first: no units (measured in "units")
UNIT_CHOICES = (None, "mm", "cm", "m", "ft")
#: what a length is shown in when nothing says its unit
NO_UNIT = "units"
UP_AXES = ("Y", "Z")


def check_units(units: Any) -> str | None:
    """``units`` as stored on a layer: None (or "", "none", "units") for no units, else
    one of :data:`UNIT_FACTORS`. ValueError otherwise."""
    if units is None or str(units).strip().lower() in ("", "none", NO_UNIT):
        return None
    text = str(units).strip().lower()
    if text not in UNIT_FACTORS:
        raise ValueError(f"units must be one of none, {', '.join(UNIT_FACTORS)}, "
                         f"not {units!r}")
    return text


def scale_factor(old: str | None, new: str | None) -> float:
    """What to multiply coordinates by when a layer's units change from ``old`` to ``new``
    (no units: its numbers as they are, a factor of 1)."""
    return UNIT_FACTORS.get(new or "", 1.0) / UNIT_FACTORS.get(old or "", 1.0)


def scale_data(data: Any, factor: float, units: str | None) -> Any:
    """``data`` scaled by ``factor`` about the coordinate origin (a new dataset; the
    input is left as it is), its metadata saying its ``units``."""
    metadata = dict(data.metadata, units=units)
    origin = np.asarray(data.origin, dtype=np.float64) * factor
    if isinstance(data, PointCloud):
        positions = np.ascontiguousarray(data.positions * np.float32(factor))
        return dataclasses.replace(data, positions=positions, origin=origin,
                                   metadata=metadata)
    if isinstance(data, Mesh):
        vertices = np.ascontiguousarray(data.vertices * np.float32(factor))
        return dataclasses.replace(data, vertices=vertices, origin=origin, metadata=metadata)
    raise ValueError("only point clouds and meshes can be given units")


def default_up_axis(data: Any) -> str | None:
    """The up axis a new layer of ``data`` starts with: a glTF's own (``metadata``), "Z"
    (as stored) for other meshes and point clouds without a CRS, None (no choice) for
    georeferenced data, which is Z-up by definition."""
    axis = data.metadata.get("up_axis")
    if axis in UP_AXES:
        return axis
    if isinstance(data, (Mesh, PointCloud)) and data.crs is None:
        return "Z"
    return None


def set_up_axis(data: Any, up_axis: str) -> Any:
    """``data`` re-oriented so that its file's ``up_axis`` is the scene's +Z (see
    :func:`loaders.formats.gltf.set_up_axis`, which does it for glTF; any other mesh or
    point cloud is taken to be stored as read, Z-up, until told otherwise)."""
    from loaders.formats.gltf import set_up_axis as turn

    generic = "up_axis" not in data.metadata or bool(data.metadata.get("up_axis_generic"))
    if "up_axis" not in data.metadata:
        data = dataclasses.replace(data, metadata=dict(data.metadata, up_axis="Z",
                                                       up_axis_generic=True))
    turned = turn(data, up_axis)
    if generic:
        turned.metadata["up_axis_note"] = (
            "Y up (chosen for this layer: turned upright)" if up_axis == "Y" else
            "Z up (as stored)")
    return turned


def check_reshapable(layer: Any) -> None:
    """A streamed layer (COPC) cannot be scaled or re-oriented in memory: ValueError."""
    lod = getattr(layer, "lod", None)
    if lod is not None and getattr(lod, "cloud", None) is None:
        raise ValueError(f"layer {layer.name!r} streams from a COPC: its units and up "
                         "axis cannot be changed")


def crs_unit(crs: Any) -> str | None:
    """The abbreviated horizontal length unit of ``crs`` ("m", "ft", "ftUS"), None when
    there is no CRS or it says none."""
    if crs is None:
        return None
    try:
        from loaders.crs import as_crs, crs_summary

        unit = crs_summary(as_crs(crs)).get("horizontal_units")
    except Exception:  # noqa: BLE001 - a unit label must never fail the caller
        return None
    if not unit:
        return None
    return {"metre": "m", "meter": "m", "foot": "ft", "US survey foot": "ftUS"}.get(unit, unit)


def scene_length_unit(scene: Any) -> str:
    """The unit lengths measured in ``scene`` are in: the scene CRS's (or a georeferenced
    layer's), "m" when a layer without CRS was given units (they are scaled into metres),
    else "units"."""
    crs = getattr(scene, "crs", None)
    if crs is None:
        crs = next((l.data.crs for l in scene.layers if l.data.crs is not None), None)
    unit = crs_unit(crs)
    if unit:
        return unit
    if any(getattr(l, "units", None) for l in scene.layers):
        return "m"
    return NO_UNIT
