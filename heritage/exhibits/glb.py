"""The exhibit GLB: one light file a kiosk or a web page shows, with hotspots.

>>> from heritage.exhibits import export
>>> export(source, "glb", "site.glb", triangles=300_000, points=1_000_000)

- every layer of the source (the caller chose the visible ones);
- mesh layers simplified to share the triangle budget (``triangles``) with
  fast-simplification (quadric edge collapse), part by part so each material keeps its
  faces; UVs, vertex colours and normals follow the collapses (each kept vertex keeps its
  own values; the simplifier merges, it does not re-sample, so a texture seam may smear
  where a collapse crosses it);
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


def simplify_mesh(mesh: Any, target: int) -> Any:
    """A copy of ``mesh`` with at most about ``target`` triangles (the input when it has
    fewer). Parts are simplified one by one (each to its share) so materials keep their
    faces; per-vertex UVs, colours and normals follow the collapses."""
    from dataclasses import replace

    import fast_simplification

    from loaders.types import MeshPart

    nf = mesh.triangle_count
    if target >= nf:
        return mesh
    parts = mesh.parts or [MeshPart(name="", start=0, stop=nf)]
    targets = share([p.stop - p.start for p in parts], target)
    nv = mesh.vertex_count
    carried = {name: arr for name in ("uvs", "vertex_colors", "normals")
               if (arr := getattr(mesh, name)) is not None and len(arr) == nv}
    verts, faces, new_parts, extra = [], [], [], {k: [] for k in carried}
    nverts = nfaces = 0
    for part, want in zip(parts, targets, strict=True):
        f = np.asarray(mesh.faces[part.start:part.stop])
        if len(f) == 0:
            continue
        used, inv = np.unique(f.reshape(-1), return_inverse=True)
        pts = mesh.vertices[used].astype(np.float32)
        tri = inv.reshape(-1, 3).astype(np.int32)
        if want >= len(tri):
            p2, t2, mapping = pts, tri, np.arange(len(used))
        elif want < 1:
            continue
        elif not carried:
            p2, t2 = fast_simplification.simplify(pts, tri, target_count=max(want, 1))
            mapping = None
        else:
            _, _, collapses = fast_simplification.simplify(
                pts, tri, target_count=max(want, 1), return_collapses=True)
            p2, t2, mapping = fast_simplification.replay_simplification(pts, tri, collapses)
        if len(t2) == 0:
            continue
        verts.append(np.asarray(p2, np.float32))
        faces.append(np.asarray(t2, np.int64) + nverts)
        for name, arr in carried.items():
            values = arr[used]
            out = np.zeros((len(p2),) + values.shape[1:], values.dtype)
            ok = mapping >= 0
            out[mapping[ok]] = values[ok]
            extra[name].append(out)
        new_parts.append(replace(part, start=nfaces, stop=nfaces + len(t2)))
        nverts += len(p2)
        nfaces += len(t2)
    kwargs = {name: (np.concatenate(v) if v else None) for name, v in extra.items()}
    return replace(mesh, vertices=np.concatenate(verts) if verts else np.zeros((0, 3),
                   np.float32), faces=(np.concatenate(faces) if faces else
                                       np.zeros((0, 3), np.int64)).astype(np.int32),
                   parts=new_parts if mesh.parts else [], face_colors=None,
                   points=None, lines=None,
                   metadata={**mesh.metadata, "simplified_from": nf},
                   **{k: kwargs.get(k) for k in ("uvs", "vertex_colors", "normals")})


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
