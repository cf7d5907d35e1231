"""Curator exports (issue 16): ``./run bench --only exhibits`` -> its own part of RESULTS.md.

A small registry of parts (:data:`PARTS`), each ``fn(data_dir, reps, log) -> dict`` with
``rows`` (what, ours s, baseline s, bytes...) and ``notes``:

- ``glb``: writing the GLB of the sample site and of a 2M-triangle mesh (a plane subdivided
  into a 1001 x 1001 height field) with :func:`loaders.writers.glb.write_glb`, against
  trimesh's own exporter (``trimesh.exchange.gltf.export_glb``) writing the same buffers
  (float32 positions relative to the same origin, uint32/uint16 indices, RGBA point
  colours) to a file; plus the whole exhibit export (simplification to a budget included).

The part sits between its own markers at the end of RESULTS.md; other runs keep it as it
was (:func:`extract` / :func:`merge`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

BEGIN = "<!-- exhibits: written by `./run bench --only exhibits` -->"
END = "<!-- end of exhibits -->"
ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PROJECT = ROOT / "assets" / "sample_site" / "delft.realscene.json"


def _median_time(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _grid_mesh(n: int = 1001):
    from loaders.types import Mesh

    u, v = np.meshgrid(np.linspace(0.0, 500.0, n), np.linspace(0.0, 500.0, n))
    z = 5.0 * np.sin(u / 37.0) * np.cos(v / 53.0)
    verts = np.column_stack([u.ravel(), v.ravel(), z.ravel()]).astype(np.float32)
    idx = np.arange(n * n, dtype=np.int32).reshape(n, n)
    a, b = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    c, d = idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    return Mesh(vertices=verts, origin=np.array([85000.0, 447000.0, 0.0]), faces=faces)


def _trimesh_scene(layers: list[Any], origin: np.ndarray):
    """The same buffers as a trimesh scene (positions relative to ``origin``)."""
    import trimesh

    scene = trimesh.Scene()
    for name, data in layers:
        local = (data.xyz() - origin).astype(np.float32)
        if getattr(data, "kind", "") == "pointcloud":
            rgb = data.attributes.get("rgb")
            colors = None
            if rgb is not None:
                colors = np.column_stack([rgb, np.full(len(rgb), 255, np.uint8)])
            geom = trimesh.PointCloud(local, colors=colors)
        else:
            geom = trimesh.Trimesh(local, np.asarray(data.faces), process=False,
                                   validate=False)
        scene.add_geometry(geom, geom_name=name, node_name=name)
    return scene


def _compare(label: str, layers: list[Any], origin: np.ndarray, reps: int,
             tmp: Path) -> dict[str, Any]:
    import trimesh.exchange.gltf as tgltf

    from loaders.writers.glb import GlbLayer, write_glb

    ours_path, theirs_path = tmp / "ours.glb", tmp / "trimesh.glb"
    glb_layers = [GlbLayer(name, data) for name, data in layers]
    t_ours, counts = _median_time(lambda: write_glb(ours_path, glb_layers, origin=origin),
                                  reps)

    def theirs() -> int:
        scene = _trimesh_scene(layers, origin)
        blob = tgltf.export_glb(scene, include_normals=False)
        theirs_path.write_bytes(blob)
        return len(blob)

    t_theirs, size_theirs = _median_time(theirs, reps)
    return {"what": label, "points": counts["points"], "triangles": counts["triangles"],
            "ours_s": t_ours, "trimesh_s": t_theirs, "ours_bytes": counts["bytes"],
            "trimesh_bytes": size_theirs}


def run_glb(data_dir: Path, reps: int = 3, log: Callable[[str], None] = print) -> dict:
    from heritage.exhibits import export
    from heritage.exhibits.source import ExhibitLayer, ExhibitSource, source_from_project

    rows, notes = [], []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        site = source_from_project(SAMPLE_PROJECT, include_hidden=True)
        layers = [(la.name, la.data) for la in site.layers]
        log("[exhibits/glb] sample site")
        rows.append(_compare("sample site (OBJ mesh, AHN3 scan, CityJSON)", layers,
                             site.origin, reps, tmp))
        log("[exhibits/glb] 2M-triangle mesh")
        grid = _grid_mesh()
        rows.append(_compare("2M-triangle height field", [("grid", grid)],
                             np.rint(grid.bounds[0]), reps, tmp))
        log("[exhibits/glb] exhibit exports")
        t, res = _median_time(lambda: export(site, "glb", tmp / "site.glb"), reps)
        rows.append({"what": "exhibit export of the sample site (default budgets, hotspots, "
                             "object metadata)", "points": res.counts["points"],
                     "triangles": res.counts["triangles"], "ours_s": t,
                     "ours_bytes": res.counts["bytes"]})
        src = ExhibitSource(title="grid", layers=[ExhibitLayer("grid", grid)],
                            origin=np.rint(grid.bounds[0]))
        t, res = _median_time(lambda: export(src, "glb", tmp / "grid.glb",
                                             triangles=500_000), reps)
        rows.append({"what": "exhibit export of the 2M-triangle mesh simplified to 500k "
                             "(meshoptimizer)", "points": 0,
                     "triangles": res.counts["triangles"], "ours_s": t,
                     "ours_bytes": res.counts["bytes"]})
    notes.append("trimesh writes the same float32 positions (relative to the same origin), "
                 "indices and point colours, without normals; its file has no materials "
                 "per part, no object metadata and no georeference. Times are medians of "
                 f"{reps} runs, writing to a temporary folder.")
    return {"rows": rows, "notes": notes}


#: part name -> fn(data_dir, reps, log) -> {"rows": [...], "notes": [...]}
PARTS: dict[str, Callable[..., dict]] = {"glb": run_glb}


def run(data_dir: Path, reps: int = 3, parts: list[str] | None = None,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    return {name: fn(data_dir, reps, log) for name, fn in PARTS.items()
            if parts is None or name in parts}


def _fmt_s(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else "–"


def section(results: dict[str, Any], header: str) -> str:
    lines = [BEGIN, "", "# Curator exports (exhibits)", "", header, ""]
    for name, part in results.items():
        lines += [f"## {name}", "",
                  "| what | points | triangles | RealScene s | baseline s | RealScene MiB | "
                  "baseline MiB |", "|---|---|---|---|---|---|---|"]
        for r in part["rows"]:
            base_b = r.get("trimesh_bytes", r.get("baseline_bytes"))
            base_s = r.get("trimesh_s", r.get("baseline_s"))
            lines.append(f"| {r['what']} | {r['points']:,} | {r['triangles']:,} | "
                         f"{_fmt_s(r['ours_s'])} | {_fmt_s(base_s)} | "
                         f"{r['ours_bytes'] / 2**20:.1f} | "
                         f"{f'{base_b / 2**20:.1f}' if base_b else '–'} |")
        lines += [""] + [f"- {n}" for n in part["notes"]] + [""]
    lines.append(END)
    return "\n".join(lines) + "\n"


def extract(text: str) -> tuple[str, str]:
    """(RESULTS.md without the exhibits part, the exhibits part or "")."""
    before, marker, rest = text.partition(BEGIN)
    if not marker:
        return text, ""
    block, end, after = rest.partition(END)
    return (before.rstrip() + "\n" + after.lstrip("\n")).rstrip() + "\n", \
        marker + block + end + "\n"


def merge(text: str, block: str) -> str:
    return text.rstrip() + "\n\n" + block.strip() + "\n" if block else text
