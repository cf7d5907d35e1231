"""The exhibit GLB: one light file a kiosk or a web page shows, with hotspots.

>>> from heritage.exhibits import export
>>> export(source, "glb", "site.glb", triangles=300_000, points=1_000_000)

- every layer of the source (the caller chose the visible ones);
- mesh layers simplified to share the triangle budget (``triangles``) with meshoptimizer's
  quadric edge-collapse simplifier, part by part so each material keeps its faces. It
  collapses onto existing vertices, so UVs, vertex colours and normals are kept exactly
  and textures stay in place (fast-simplification was tried: it moves vertices, so UVs
  could only be approximated, and it overshot budgets, e.g. 3805 triangles for 3000);
- city and IFC layers are kept whole (simplifying would mix objects): their triangles
  count against the budget first, with a warning when they alone exceed it; each object's
  id, type, name and attributes go in ``EXT_structural_metadata`` (see
  :mod:`loaders.writers.glb`);
- point clouds sampled to share the point budget (``points``): a seeded uniform random
  sample, so density stays even and colours stay;
- every annotation a node ``hotspot_<id>`` at its anchor with ``extras`` {title,
  description, category, condition, date, author, kind, points};
- the georeference in ``asset.extras.realscene`` {crs, crs_wkt, origin, up}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .source import (
    ExhibitSource,
    ExportError,
    ExportResult,
    ProgressFn,
    checkpoint,
    scaled,
)

DEFAULT_TRIANGLES = 500_000
DEFAULT_POINTS = 1_000_000
SAMPLE_SEED = 16


def _budget(value: Any, default: int, what: str) -> int:
    if value is None:
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ExportError(f"{what} budget {value!r} is not a whole number",
                          f"e.g. {default}") from None
    if n < 1:
        raise ExportError(f"{what} budget must be at least 1, not {n}", f"e.g. {default}")
    return n


def share(sizes: list[int], budget: int) -> list[int]:
    """Split ``budget`` between items of ``sizes`` in proportion (none gets more than its
    size; the total never exceeds the budget)."""
    total = sum(sizes)
    if total <= budget:
        return list(sizes)
    out = [min(s, int(budget * s / total)) for s in sizes]
    return out


def _simplify_indices(pts: np.ndarray, tri: np.ndarray, want: int) -> np.ndarray:
    """meshoptimizer's edge-collapse simplifier: indices into ``pts`` of at most ``want``
    triangles (its sloppy simplifier finishes the job where borders stop the first)."""
    import meshoptimizer

    flat = np.ascontiguousarray(tri, np.uint32).reshape(-1)
    pts = np.ascontiguousarray(pts, np.float32)
    dest = np.zeros(len(flat), np.uint32)
    n = meshoptimizer.simplify(dest, flat, pts, target_index_count=want * 3,
                               target_error=1.0)
    if n > want * 3:
        flat = dest[:n].copy()
        n = meshoptimizer.simplify_sloppy(dest, flat, pts, target_index_count=want * 3,
                                          target_error=1.0)
    return dest[:n].reshape(-1, 3)


def simplify_mesh(mesh: Any, target: int) -> Any:
    """A copy of ``mesh`` with at most ``target`` triangles (the input when it has fewer).

    Parts are simplified one by one (each to its share) so materials keep their faces.
    The simplifier (meshoptimizer) only collapses edges onto existing vertices, so every
    kept vertex keeps its own position, UV, colour and normal exactly: textures stay put."""
    from dataclasses import replace

    from loaders.types import MeshPart

    nf = mesh.triangle_count
    if target >= nf:
        return mesh
    parts = mesh.parts or [MeshPart(name="", start=0, stop=nf)]
    targets = share([p.stop - p.start for p in parts], target)
    faces, new_parts = [], []
    nfaces = 0
    for part, want in zip(parts, targets, strict=True):
        f = np.asarray(mesh.faces[part.start:part.stop])
        if len(f) == 0 or want < 1:
            continue
        if want < len(f):
            used, inv = np.unique(f.reshape(-1), return_inverse=True)
            kept = _simplify_indices(mesh.vertices[used], inv.reshape(-1, 3), want)
            f = used[kept.astype(np.int64)]
        if len(f) == 0:
            continue
        faces.append(f)
        new_parts.append(replace(part, start=nfaces, stop=nfaces + len(f)))
        nfaces += len(f)
    all_faces = np.concatenate(faces) if faces else np.zeros((0, 3), np.int64)
    used, inv = np.unique(all_faces.reshape(-1), return_inverse=True)
    nv = mesh.vertex_count

    def take(arr: Any) -> Any:
        return arr[used] if arr is not None and len(arr) == nv else None

    return replace(mesh, vertices=mesh.vertices[used], faces=inv.reshape(-1, 3).astype(np.int32),
                   uvs=take(mesh.uvs), vertex_colors=take(mesh.vertex_colors),
                   normals=take(mesh.normals), parts=new_parts if mesh.parts else [],
                   face_colors=None, points=None, lines=None,
                   metadata={**mesh.metadata, "simplified_from": nf})


def sample_points(cloud: Any, target: int) -> Any:
    """A copy of ``cloud`` with at most ``target`` points: a seeded uniform random sample
    in file order, every attribute kept."""
    from dataclasses import replace

    n = cloud.point_count
    if target >= n:
        return cloud
    rng = np.random.default_rng(SAMPLE_SEED)
    keep = np.sort(rng.choice(n, size=target, replace=False))
    return replace(cloud, positions=cloud.positions[keep],
                   attributes={k: v[keep] for k, v in cloud.attributes.items()
                               if len(v) == n},
                   metadata={**cloud.metadata, "sampled_from": n})


def hotspot_extras(ann: Any) -> dict[str, Any]:
    """What a viewer shows for an annotation (JSON-able)."""
    return {"id": ann.id, "title": ann.title, "description": ann.description,
            "category": ann.category, "condition": ann.condition,
            "date": ann.observed, "author": ann.author, "kind": ann.kind,
            "points": [list(map(float, p)) for p in ann.points]}


def export(source: ExhibitSource, out: Path, progress: ProgressFn | None = None, *,
           triangles: int | None = None, points: int | None = None,
           hotspots: bool = True, **options: Any) -> ExportResult:
    """Write the exhibit GLB of ``source`` to ``out`` (see the module docstring)."""
    from loaders.writers.glb import GlbLayer, GlbMarker, write_glb

    if options:
        raise ExportError("unknown GLB option(s): " + ", ".join(sorted(options)),
                          "GLB takes triangles=N, points=N, hotspots=True|False")
    tri_budget = _budget(triangles, DEFAULT_TRIANGLES, "triangle")
    pt_budget = _budget(points, DEFAULT_POINTS, "point")
    out = Path(out)
    if out.suffix == "":
        out = out.with_name(out.name + ".glb")
    if out.is_dir():
        raise ExportError(f"{out} is a folder", "give a file name ending in .glb")
    if not out.parent.is_dir():
        raise ExportError(f"folder {out.parent} does not exist", "create it first")
    warnings: list[str] = []
    checkpoint(progress, 0.0, "preparing layers")

    whole = [la for la in source.layers if la.kind in ("city", "bim")]
    meshes = [la for la in source.layers if la.kind == "mesh"]
    clouds = [la for la in source.layers if la.kind == "points"]
    fixed = sum(la.data.triangle_count for la in whole)
    if fixed > tri_budget:
        warnings.append(f"city/building models have {fixed} triangles, over the budget of "
                        f"{tri_budget}: they are kept whole (each object stays pickable)")
    mesh_targets = share([la.data.triangle_count for la in meshes], max(tri_budget - fixed, 0))
    pt_targets = share([la.data.point_count for la in clouds], pt_budget)

    prepared: dict[int, Any] = {}
    step = scaled(progress, 0.0, 0.6)
    work = len(meshes) + len(clouds)
    for i, (layer, want) in enumerate(zip(meshes, mesh_targets, strict=True)):
        checkpoint(step, i / max(work, 1), f"simplifying {layer.name}")
        if want < 1:
            warnings.append(f"{layer.name}: left out, no triangles left in the budget")
            continue
        prepared[id(layer)] = simplify_mesh(layer.data, want)
        if layer.data.triangle_count > want:
            warnings.append(f"{layer.name}: simplified from {layer.data.triangle_count} to "
                            f"{prepared[id(layer)].triangle_count} triangles")
    for i, (layer, want) in enumerate(zip(clouds, pt_targets, strict=True)):
        checkpoint(step, (len(meshes) + i) / max(work, 1), f"sampling {layer.name}")
        if want < 1:
            warnings.append(f"{layer.name}: left out, no points left in the budget")
            continue
        prepared[id(layer)] = sample_points(layer.data, want)
        if layer.data.point_count > want:
            warnings.append(f"{layer.name}: {want} of {layer.data.point_count} points")
    for layer in whole:
        prepared[id(layer)] = layer.data

    glb_layers = [GlbLayer(name=la.name, data=prepared[id(la)], color=la.color,
                           opacity=la.opacity,
                           extras={"layer": la.name, "kind": la.kind,
                                   "point_size": la.point_size})
                  for la in source.layers if id(la) in prepared]
    markers = []
    if hotspots:
        markers = [GlbMarker(name=f"hotspot_{a.id}", position=a.anchor,
                             extras={"hotspot": hotspot_extras(a)})
                   for a in source.annotations]
    extras = {"title": source.title} if source.title else {}
    counts = write_glb(out, glb_layers, markers, origin=source.origin, crs=source.crs,
                       title=source.title, extras=extras,
                       progress=scaled(progress, 0.6, 1.0))
    counts["hotspots"] = counts.pop("markers")
    counts["layers"] = len(glb_layers)
    return ExportResult(path=out, counts=counts, warnings=warnings)
