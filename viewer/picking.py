"""Picking: what is under a display position (VTK convention, origin bottom-left).

Points are picked in screen space from what is drawn (:func:`nearest_point`, plain
numpy on projected positions); meshes are ray-picked with VTK's cell picker
(:func:`pick_mesh`). :meth:`viewer.render.SceneRenderer.pick` composes the two and turns
the winner into a :class:`viewer.scene.Pick`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from . import camera

#: points within this many pixels of the cursor are candidates
PICK_TOLERANCE_PX = 12.0


def nearest_point(xy: np.ndarray, depth: np.ndarray, target: Any,
                  radius: float, tolerance: float = PICK_TOLERANCE_PX) -> int | None:
    """Index of the point picked at display ``target`` among points projected to ``xy``
    (n, 2) with ``depth`` (n,) in [-1, 1]; None when none is within ``tolerance`` pixels.
    Points under the cursor within their drawn ``radius`` compete by depth (the
    front-most wins); otherwise the closest in screen space wins."""
    target = np.asarray(target, dtype=np.float64)
    d2 = np.sum((xy - target) ** 2, axis=1)
    near = np.flatnonzero((d2 <= tolerance * tolerance) & (depth >= -1.0) & (depth <= 1.0))
    if not len(near):
        return None
    under = near[d2[near] <= radius * radius]
    if len(under):
        return int(under[np.argmin(depth[under])])
    return int(near[np.argmin(d2[near])])


@dataclass
class MeshHit:
    """A ray pick on a mesh: ``owner`` is the candidate the hit actor belongs to."""

    depth: float  # display depth in [-1, 1]
    owner: Any
    vertex: int  # nearest vertex of the hit cell (index into the candidate's points)
    face: int  # the cell's "face_id" (face index in the layer's data), -1 without it
    position: np.ndarray  # picked position, scene-local


def pick_mesh(renderer: Any, candidates: Iterable[tuple[Any, list, np.ndarray]],
              x: float, y: float, tolerance: float = 0.0005) -> MeshHit | None:
    """Ray-pick the surface under display (x, y) among ``candidates`` (owner, actors,
    scene-local vertex positions shared by the actors' point ids)."""
    candidates = list(candidates)
    if not candidates:
        return None
    from vtkmodules.vtkRenderingCore import vtkCellPicker

    picker = vtkCellPicker()
    picker.SetTolerance(tolerance)
    picker.PickFromListOn()
    by_actor = {}
    for owner, actors, points in candidates:
        for actor in actors:
            picker.AddPickList(actor)
            by_actor[id(actor)] = (owner, points)
    if not picker.Pick(float(x), float(y), 0.0, renderer):
        return None
    found = by_actor.get(id(picker.GetActor()))
    if found is None:
        return None
    owner, points = found
    ds = picker.GetDataSet()
    cell = ds.GetCell(picker.GetCellId())
    pos = np.array(picker.GetPickPosition())
    ids = [cell.GetPointId(i) for i in range(cell.GetNumberOfPoints())]
    if not ids:
        return None
    # the sub-meshes share the layer's vertex array, so point ids are vertex indices
    verts = points[ids].astype(np.float64)
    vid = ids[int(np.argmin(np.sum((verts - pos) ** 2, axis=1)))]
    depth = float(camera.project_local(renderer, pos[None])[1][0])
    face_ids = ds.GetCellData().GetArray("face_id")
    face = int(face_ids.GetValue(picker.GetCellId())) if face_ids is not None else -1
    return MeshHit(depth, owner, int(vid), face, pos)


def streamed_pick(layer: Any, offsets: np.ndarray, refs: list, k: int) -> Any:
    """The :class:`viewer.scene.Pick` of drawn point ``k`` of a streamed layer, whose
    drawn points are the node clouds ``refs`` ((key, cloud, local indices) each, drawn
    one after another from ``offsets``). ``index`` is the point's index in its node;
    the node key is in the attributes (``"node"``) with the node's own attribute values.
    Coordinates are true float64 data coordinates, as :func:`viewer.scene.pick_info`."""
    from .scene import Pick

    n = int(np.searchsorted(offsets, k, side="right")) - 1
    if not 0 <= n < len(refs):
        raise IndexError(f"drawn point {k} is outside the {int(offsets[-1])} drawn points")
    key, cloud, local = refs[n]
    index = int(local[k - int(offsets[n])])
    xyz = cloud.positions[index].astype(np.float64) + np.asarray(cloud.origin, np.float64)
    attrs: dict[str, Any] = {"node": "-".join(str(v) for v in key)
                             if isinstance(key, tuple) else str(key)}
    from loaders.types import loaded_attributes

    for name, values in loaded_attributes(cloud).items():  # not those still in the file
        v = values[index]
        attrs[name] = v.tolist() if hasattr(v, "tolist") else v
    return Pick(layer=layer, index=index, xyz=xyz, attributes=attrs)
