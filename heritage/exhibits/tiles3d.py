"""3D Tiles 1.1 export (``--format 3dtiles``): a folder a digital-twin platform streams.

``out/tileset.json`` has one child of the root per layer (content in ``out/<layer>/``),
placed on the earth by the root ``transform`` (see :mod:`loaders.writers.tiles3d` for the
frame, the octree and the mesh split). Point clouds are tiled at full resolution: when the
scene holds a thinned copy of a LAS/LAZ/COPC file (the memory guard or a preview), the file
itself is read again chunk by chunk, never whole. Annotations are recorded in the
tileset's ``asset.extras`` (title, position in the scene CRS and in the local frame) so a
platform can show them as hotspots.

Options: ``leaf_points``, ``bucket_points``, ``grid`` (point octree), ``leaf_triangles``
(mesh tiles), ``layers`` (names to include; default all), ``attributes`` (the point
attributes the tiles carry, of ``rgb``, ``intensity``, ``classification``, as a list or
``"rgb,intensity"``; default: all a cloud has; ``[]``: positions only; each costs 4 bytes
a point on top of the 12 of the position).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from loaders.crs import as_crs, crs_to_text
from loaders.types import LoadCancelled
from loaders.writers import tiles3d as w

from .source import (
    ExhibitSource,
    ExportCancelled,
    ExportError,
    ExportResult,
    ProgressFn,
    checkpoint,
    scaled,
)

_STREAMED = (".las", ".laz")


def _folder_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "layer"
    out, i = base, 2
    while out in used:
        out, i = f"{base}_{i}", i + 1
    used.add(out)
    return out


def _point_input(data: Any) -> tuple[w.PointChunks, str | None]:
    """The layer's points at full resolution: the file again when the scene holds fewer
    points than it (memory guard / preview), else the cloud in memory."""
    meta = data.metadata or {}
    src = meta.get("source")
    thinned = bool(meta.get("memory_guard")) or bool(meta.get("preview"))
    if thinned and src and str(src).lower().endswith(_STREAMED) and Path(src).is_file():
        return w.PointChunks.from_las(src, crs=data.crs), str(src)
    return w.PointChunks.from_cloud(data), None


def export(source: ExhibitSource, out: Path, progress: ProgressFn | None = None, *,
           layers: list[str] | None = None, leaf_points: int = w.LEAF_POINTS,
           bucket_points: int = w.BUCKET_POINTS, grid: int = w.GRID,
           leaf_triangles: int = w.LEAF_TRIANGLES, attributes: Any = None,
           **_ignored: Any) -> ExportResult:
    """Write ``out/tileset.json`` and its tiles. Raises ExportError / ExportCancelled (the
    folder is then not left half-written: tiles go to a temporary sibling first)."""
    out = Path(out)
    if attributes is not None:
        names = attributes.split(",") if isinstance(attributes, str) else list(attributes)
        attributes = [str(a).strip() for a in names if str(a).strip()]
        unknown = [a for a in attributes if a not in w.POINT_ATTRIBUTES]
        if unknown:
            raise ExportError(f"unknown point attribute {', '.join(map(repr, unknown))}",
                              f"choose from {', '.join(w.POINT_ATTRIBUTES)}")
    chosen = [la for la in source.layers if layers is None or la.name in layers]
    if not chosen:
        raise ExportError("nothing to export: no layer chosen", "choose at least one layer")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file", "choose a folder name for the 3D Tiles")
    try:
        frame = w.EcefFrame(source.crs, source.origin)
    except ValueError as exc:
        raise ExportError(str(exc), "assign the scene a CRS that fits the data") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    result = ExportResult(out, {"points": 0, "triangles": 0, "tiles": 0, "layers": 0})
    if frame.matrix is None:
        result.warnings.append("the scene has no CRS: the tileset is not placed on the earth "
                               "(no root transform)")
    trees: list[tuple[w.TileTree, str]] = []
    used: set[str] = set()
    try:
        for i, layer in enumerate(chosen):
            part = scaled(progress, i / len(chosen), (i + 1) / len(chosen))
            checkpoint(part, 0.0, f"3D Tiles: {layer.name}")
            folder = _folder_name(layer.name, used)
            if layer.kind == "points":
                chunks, streamed = _point_input(layer.data)
                tree = w.write_point_tiles(chunks, work / folder, frame, grid=grid,
                                           leaf_points=leaf_points,
                                           bucket_points=bucket_points,
                                           attributes=attributes, progress=part)
                if streamed:
                    result.warnings.append(f"{layer.name}: tiled from {streamed} at full "
                                           "resolution")
            else:
                color = tuple(layer.color) if layer.color is not None else (0.8, 0.8, 0.8)
                tree = w.write_mesh_tiles(layer.data, work / folder, frame,
                                          leaf_triangles=leaf_triangles,
                                          base_color=(*color[:3], float(layer.opacity)),
                                          progress=part)
            if tree is None:
                result.warnings.append(f"{layer.name}: empty, left out")
                continue
            trees.append((tree, folder))
            result.warnings.extend(f"{layer.name}: {m}" for m in tree.warnings)
            for k in ("points", "triangles", "tiles"):
                result.counts[k] += tree.counts.get(k, 0)
            result.counts["layers"] += 1
        extras = _extras(source, frame, trees)
        w.write_tileset(work / "tileset.json", trees, frame, metadata=extras)
        checkpoint(progress, 1.0, "3D Tiles written")
    except (ExportCancelled, LoadCancelled):
        shutil.rmtree(work, ignore_errors=True)
        raise ExportCancelled() from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    work.rename(out)
    return result


def _extras(source: ExhibitSource, frame: w.EcefFrame,
            trees: list[tuple[w.TileTree, str]]) -> dict[str, Any]:
    anns = []
    for a in source.annotations:
        p = np.asarray(a.points, np.float64).reshape(-1, 3)
        if not len(p):
            continue
        centre = p.mean(axis=0)
        anns.append({"id": a.id, "title": a.title, "description": getattr(a, "description", ""),
                     "category": getattr(a, "category", ""),
                     "condition": getattr(a, "condition", ""),
                     "position": [float(v) for v in centre],
                     "local": [float(v) for v in frame.to_local(centre[None])[0]]})
    return {"title": source.title, "crs": crs_to_text(as_crs(source.crs)),
            "origin": [float(v) for v in source.origin],
            "layers": [{"folder": f, **t.counts} for t, f in trees],
            "annotations": anns}
