"""Change between two point layers of the scene, attached to epoch B (no Qt, no VTK).

    from viewer.change_layer import compare_layers, attach_change, export_with_change
    change = compare_layers(layer_2019, layer_2024, method="m3c2", cyl_radius=0.5)
    attach_change(session, layer_2024, change)   # B coloured by m3c2_distance
    export_with_change(layer_2024, "2024_change.laz")

The distances are computed on the layers' own points at full resolution (``layer.data``,
every point, not the subset drawn; a layer's transform, e.g. a registration, applied),
with :func:`heritage.monitoring.change.c2c` / :func:`~heritage.monitoring.change.m3c2`.
A layer that streams from a COPC or was thinned to fit in memory does not hold all its
points: its epoch is read from its file (:func:`heritage.monitoring.change.read_epoch`);
epoch B must be in memory to carry the result (else compare the files with
:func:`heritage.monitoring.change.compare_files` and open its output).

The result becomes attributes of B (``c2c_distance``; ``m3c2_distance``, ``m3c2_lod``,
``m3c2_significant``), B is coloured by the distance with a diverging colour map centred
on zero (``rdbu_r``: loss blue, no change white, gain red; symmetric limits at the p98 of
|d|, viewer.colors), and ``layer.significant_only`` greys what is below the level of
detection. :func:`export_with_change` writes B's file with the distances as extra
dimensions (every dimension, VLR and the CRS of the file kept).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from heritage.monitoring import change as core
from loaders import LoadError, PointCloud
from loaders.safety import same_file

from .scene import Layer

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]

#: the colour map of a change layer (viewer.colormaps: ColorBrewer RdBu reversed)
CHANGE_COLORMAP = "rdbu_r"
#: the distance attribute of each method
DISTANCE_ATTRIBUTE = {"c2c": "c2c_distance", "m3c2": "m3c2_distance"}
CHANGE_ATTRIBUTES = (*core.C2C_FIELDS, *core.M3C2_FIELDS)


@dataclass
class LayerChange:
    """A comparison of two layers: per point of B, ``fields`` (name -> array)."""

    method: str
    epoch_a: str
    epoch_b: str
    fields: dict[str, np.ndarray]
    stats: core.ChangeStats
    params: dict[str, Any]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def attribute(self) -> str:
        """The distance attribute (``c2c_distance`` / ``m3c2_distance``)."""
        return DISTANCE_ATTRIBUTE[self.method]


def in_memory(layer: Layer) -> bool:
    """True when ``layer.data`` holds every point of its source (not a streamed COPC's
    top levels, not a cloud thinned to fit in memory)."""
    data = layer.data
    if not isinstance(data, PointCloud):
        return False
    if int(data.metadata.get("stride", 1) or 1) > 1:
        return False
    lod = layer.lod
    if lod is None:
        return True
    return getattr(lod, "cloud", None) is data  # an in-memory octree over the data


def layer_xyz(layer: Layer, progress: Progress | None = None) -> np.ndarray:
    """(N, 3) float64 true coordinates of every point of a point layer, its transform
    applied: ``layer.data`` when it holds all points, else the layer's file read again
    (LoadError for a bad file, ValueError for a layer that is not a point cloud)."""
    if not isinstance(layer.data, PointCloud):
        raise ValueError(f"{layer.name}: not a point cloud")
    if in_memory(layer):
        xyz = layer.data.xyz()
    elif layer.path and "://" not in str(layer.path):
        xyz = core.read_epoch(layer.path, progress).xyz
    else:
        raise ValueError(f"{layer.name}: streamed over the network; save it as a file to "
                         "compare it at full resolution")
    t = np.asarray(layer.transform, dtype=np.float64)
    if not np.allclose(t, np.eye(4)):
        xyz = xyz @ t[:3, :3].T + t[:3, 3]
    return xyz


def _check_params(method: str, params: dict[str, Any]) -> None:
    allowed = {"c2c": {"local_model", "k", "signed"},
               "m3c2": {"normal_radii", "cyl_radius", "max_distance", "registration_error",
                        "core_spacing", "robust", "min_points"}}
    if method not in core.METHODS:
        raise ValueError(f"unknown method {method!r} (c2c or m3c2)")
    unknown = sorted(set(params) - allowed[method])
    if unknown:
        raise ValueError(f"{method}: unknown parameter {unknown[0]!r} "
                         f"(one of {', '.join(sorted(allowed[method]))})")


def compare_points(a_xyz: np.ndarray, b_xyz: np.ndarray, method: str = "c2c", *,
                   progress: Progress | None = None, cancel: Cancel | None = None,
                   **params: Any) -> tuple[dict[str, np.ndarray], core.ChangeStats,
                                           dict[str, Any]]:
    """(fields, stats, params) of B compared with A, as :func:`compare_files` computes
    them (the same functions and parameters), on arrays."""
    _check_params(method, params)
    if method == "c2c":
        dist = core.c2c(a_xyz, b_xyz, local_model=params.get("local_model"),
                        k=params.get("k"), signed=bool(params.get("signed", False)),
                        progress=progress, cancel=cancel)
        return {"c2c_distance": dist}, core.change_stats(dist), dict(params)
    kw = {k: v for k, v in params.items() if k != "core_spacing"}
    spacing = params.get("core_spacing")
    if spacing:
        core_idx = core.voxel_corepoints(np.asarray(b_xyz, np.float64), float(spacing))
        d, lod, sig = core.m3c2(a_xyz, b_xyz, np.asarray(b_xyz)[core_idx], progress=progress,
                                cancel=cancel, **kw)
        from scipy.spatial import cKDTree

        _, nearest = cKDTree(np.asarray(b_xyz)[core_idx]).query(b_xyz, workers=-1)
        d, lod, sig = d[nearest], lod[nearest], sig[nearest]
    else:
        d, lod, sig = core.m3c2(a_xyz, b_xyz, progress=progress, cancel=cancel, **kw)
    fields = {"m3c2_distance": d, "m3c2_lod": lod, "m3c2_significant": sig.astype(np.uint8)}
    return fields, core.change_stats(d, sig), dict(params)


def compare_layers(layer_a: Layer, layer_b: Layer, method: str = "c2c", *,
                   progress: Progress | None = None, cancel: Cancel | None = None,
                   **params: Any) -> LayerChange:
    """Compare point layer B with point layer A (every point of each; B must hold all
    its points in memory to carry the result). ``params``: those of
    :func:`heritage.monitoring.change.compare_files` for the method. ValueError for
    bad parameters or layers, LoadError for a file that cannot be read,
    :class:`heritage.monitoring.change.ChangeCancelled` when ``cancel()`` turns true."""
    started = time.perf_counter()
    _check_params(method, params)
    if layer_a is layer_b:
        raise ValueError("choose two different layers to compare")
    for layer in (layer_a, layer_b):
        if not isinstance(layer.data, PointCloud):
            raise ValueError(f"{layer.name}: not a point cloud; compare two point layers")
    if not in_memory(layer_b):
        raise ValueError(f"{layer_b.name}: streamed or thinned, so not every point is in "
                         "memory to carry the distances; compare its file instead "
                         "(written to a new file)")

    def sub(lo: float, hi: float) -> Progress | None:
        return None if progress is None else (lambda f, m: progress(lo + (hi - lo) * f, m))

    if progress is not None:
        progress(0.0, f"Reading {layer_a.name}")
    if cancel is not None and cancel():
        raise core.ChangeCancelled("comparison cancelled")
    a = layer_xyz(layer_a, sub(0.0, 0.1))
    b = layer_xyz(layer_b)
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"{layer_a.name if len(a) == 0 else layer_b.name}: no points")
    notes = []
    ca, cb = layer_a.data.crs, layer_b.data.crs
    if ca is not None and cb is not None and not ca.equals(cb):
        notes.append(f"the layers' CRSs differ ({ca.name} / {cb.name})")
    fields, stats, used = compare_points(a, b, method, progress=sub(0.1, 1.0), cancel=cancel,
                                         **params)
    return LayerChange(method, layer_a.name, layer_b.name, fields, stats, used,
                       time.perf_counter() - started, notes)


def attach_change(owner: Any, layer_b: Layer, change: LayerChange, *,
                  significant_only: bool = False) -> None:
    """Put ``change``'s fields on ``layer_b`` as point attributes (replacing an earlier
    comparison's) and colour it by the distance with the change colour map.
    ``owner``: a :class:`viewer.session.ProjectSession` (the colouring is an undoable
    edit) or a :class:`viewer.scene.Scene`."""
    data = layer_b.data
    n = data.point_count
    for name, values in change.fields.items():
        if len(values) != n:
            raise ValueError(f"{layer_b.name}: {name} has {len(values)} values for {n} points")
    for name in CHANGE_ATTRIBUTES:  # an earlier comparison by the other method goes
        data.attributes.pop(name, None)
    for name, values in change.fields.items():
        data.attributes[name] = np.asarray(values)
    data.metadata["change"] = change
    scene = getattr(owner, "scene", owner)
    scene.emit("layer_changed", layer=layer_b, field="data")  # new attributes
    changes = {"color_mode": "attribute", "attribute": change.attribute,
               "colormap": CHANGE_COLORMAP, "contrast": (2.0, 98.0),
               "significant_only": bool(significant_only and change.method == "m3c2")}
    if hasattr(owner, "update_layer"):
        owner.update_layer(layer_b, **changes)
    else:
        scene.update(layer_b, **changes)


def change_attribute(layer: Layer | None) -> str | None:
    """The change distance a layer shows (its colouring attribute when it is one), else
    the first it has; None for a layer without change attributes."""
    if layer is None or not isinstance(layer.data, PointCloud):
        return None
    attrs = layer.data.attributes
    if layer.attribute in DISTANCE_ATTRIBUTE.values() and layer.attribute in attrs:
        return str(layer.attribute)
    for name in ("m3c2_distance", "c2c_distance"):
        if name in attrs:
            return name
    return None


def layer_change_stats(layer: Layer, attribute: str | None = None,
                       bins: int = 60) -> core.ChangeStats | None:
    """Statistics (mean, median, p95 of |d|, share significant, histogram) of a layer's
    change attribute; None when it has none."""
    name = attribute or change_attribute(layer)
    if name is None or name not in layer.data.attributes:
        return None
    sig_name = name[: -len("_distance")] + "_significant"
    sig = layer.data.attributes.get(sig_name)
    return core.change_stats(layer.data.attributes[name], sig, bins=bins)


def export_with_change(layer: Layer, out_path: str | os.PathLike,
                       progress: Progress | None = None) -> Path:
    """Write B's file (LAS/LAZ) with the layer's change attributes as extra dimensions:
    every dimension, scale/offset, VLR and the CRS of the file kept, each file point
    taking the values of its point in the layer (matched by position; the layer may hold
    its points in another order). ValueError when the layer has no change, is not read
    from a LAS/LAZ file or its points no longer match the file's; LoadError for a bad
    file."""
    names = [n for n in CHANGE_ATTRIBUTES if n in getattr(layer.data, "attributes", {})]
    if not names:
        raise ValueError(f"{layer.name}: no change to export; compare it with an epoch first")
    if not layer.path or "://" in str(layer.path):
        raise ValueError(f"{layer.name}: not read from a local file")
    out = Path(out_path)
    if out.suffix.lower() not in (".las", ".laz"):
        raise ValueError(f"{out}: the output must be a .las or .laz file")
    if same_file(out, layer.path):
        raise ValueError(f"{out}: the output would overwrite the layer's file; choose another")
    if not out.parent.is_dir():
        raise ValueError(f"{out.parent}: the output folder does not exist")
    if progress is not None:
        progress(0.0, f"Reading {Path(layer.path).name}")
    epoch = core.read_epoch(layer.path)
    if epoch.las is None:
        raise LoadError(Path(layer.path), "not a LAS/LAZ file: cannot carry the distances",
                        "convert it to LAZ first")
    data = layer.data
    if len(epoch.xyz) != data.point_count:
        raise ValueError(f"{layer.name}: the layer holds {data.point_count:,} of the file's "
                         f"{len(epoch.xyz):,} points; compare the files instead")
    if progress is not None:
        progress(0.3, "Matching the points")
    from scipy.spatial import cKDTree

    # the layer's positions are the file's (float32 offsets from its origin; a layer
    # reprojected into the scene CRS is matched in its own coordinates only if unchanged)
    mine = data.xyz()
    dist, idx = cKDTree(mine).query(epoch.xyz, workers=-1)
    extent = float(np.ptp(mine, axis=0).max()) if len(mine) else 0.0
    tolerance = max(1e-3, extent * 2e-7)  # float32 rounding of the layer's offsets
    if len(dist) and float(dist.max()) > tolerance:
        raise ValueError(f"{layer.name}: its points no longer lie where the file's are "
                         "(reprojected or moved); compare the files instead")
    fields = {n: np.asarray(data.attributes[n])[idx] for n in names}
    if progress is not None:
        progress(0.7, f"Writing {out.name}")
    written = core.write_with_fields(epoch, out, fields)
    if progress is not None:
        progress(1.0, f"Wrote {out.name}")
    return written


__all__ = ["CHANGE_ATTRIBUTES", "CHANGE_COLORMAP", "DISTANCE_ATTRIBUTE", "LayerChange",
           "attach_change", "change_attribute", "compare_layers", "compare_points",
           "export_with_change", "in_memory", "layer_change_stats", "layer_xyz"]
