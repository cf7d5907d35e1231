"""City models and BIM in ``./run bench``: the CityJSON and IFC targets, and whether a
city of 10,000 buildings stays interactive.

- CityJSON load to render-ready geometry vs ``json.load`` of the same file, on every
  CityJSON file in ../shared/data/citymodels and on a synthetic 10,000-building model
  (:func:`benchmarks.cityjson_bench.make_synthetic_city`). Targets: <= 2 ms for files
  under 100 KB, ratio <= 0.6 from 1 MB (:func:`benchmarks.cityjson_bench.verdict`).
- IFC load vs ifcopenshell's own geometry iterator over the same file, on every IFC file
  in ../shared/data/bim. Target: ratio <= 1.3.
- Interactivity of the synthetic 10,000-building model: frame time of our renderer
  (merged geometry, per-object ids kept for picking) vs a plain pyvista mesh of the same
  triangles in the same kind of off-screen window, and the time of one object pick.

:func:`section` renders the results as the "City models and BIM" part of RESULTS.md.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

from .cityjson_bench import make_synthetic_city, measure_cityjson, verdict
from .ifc_bench import measure_ifc

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REALSCENE_SHARED_DATA", ROOT.parent / "shared" / "data"))
MARKER = "<!-- city models and BIM: written by `./run bench --only city,ifc,cityframe` -->"
SYNTHETIC_BUILDINGS = 10_000


def synthetic_city(data_dir: Path, n: int = SYNTHETIC_BUILDINGS, log=print) -> Path:
    out = Path(data_dir) / f"synthetic_city_{n}.city.json"
    if not out.exists():
        log(f"writing {out.name}")
        out.parent.mkdir(parents=True, exist_ok=True)
        make_synthetic_city(n, out)
    return out


def city_files(shared: Path = SHARED) -> list[Path]:
    folder = shared / "citymodels"
    return sorted(folder.rglob("*.city.json")) + sorted(folder.rglob("*.city.jsonl")) \
        if folder.is_dir() else []


def ifc_files(shared: Path = SHARED) -> list[Path]:
    folder = shared / "bim"
    return sorted(folder.glob("*.ifc")) if folder.is_dir() else []


def measure_city_frame(path: Path, reps: int, size=(1280, 800)) -> dict[str, Any]:
    """Frame time of the model in our renderer vs a plain pyvista mesh of the same
    triangles (each in its own off-screen window of ``size``), interleaved; and the
    time to pick the object under the centre of the view."""
    import numpy as np
    import pyvista as pv

    import loaders
    from viewer.render import SceneRenderer
    from viewer.scene import Scene

    from .harness import interleave, offscreen_plotter, timed_frame

    model = loaders.read(path)
    ours_p = offscreen_plotter()
    ours_p.window_size = size
    scene = Scene()
    renderer = SceneRenderer(ours_p, scene)
    layer = scene.add(model, path=str(path))
    renderer.view_preset("iso")
    renderer.render()
    actors = len(ours_p.renderer.GetActors())

    base_p = offscreen_plotter()
    base_p.window_size = size
    faces = np.column_stack([np.full(len(model.faces), 3), model.faces]).ravel()
    base_p.add_mesh(pv.PolyData(model.vertices.astype(np.float32), faces))
    base_p.camera_position = ours_p.camera_position
    base_p.render()

    timed_frame(base_p), timed_frame(ours_p)  # warm up
    out = interleave(max(reps, 5), lambda: timed_frame(base_p), lambda: timed_frame(ours_p))
    # pick the middle of one building, brought into view like a user would
    renderer.view_preset("top")
    biggest = model.features[int(np.bincount(model.face_feature[model.face_feature >= 0])
                                 .argmax())]
    renderer.fit_feature(layer, biggest.id)
    renderer.render()
    w, h = ours_p.window_size
    picks = []
    hit = None
    for _ in range(max(reps, 5)):
        t = time.perf_counter()
        hit = renderer.pick(w // 2, h // 2)
        picks.append(time.perf_counter() - t)
    out.update(file=Path(path).name, objects=len(model.features),
               triangles=model.triangle_count, actors=actors,
               pick_ms=1000 * min(picks), pick_hit=bool(hit is not None and hit.layer is layer),
               window=f"{size[0]}x{size[1]}")
    renderer.close()
    ours_p.close()
    base_p.close()
    return out


def run(reps: int, data_dir: Path, only, log=print, shared: Path = SHARED,
        buildings: int = SYNTHETIC_BUILDINGS) -> dict[str, Any]:
    results: dict[str, Any] = {}
    synth = synthetic_city(data_dir, buildings, log=log) \
        if {"city", "cityframe"} & set(only) else None
    if "city" in only:
        results["city"] = []
        for p in [*city_files(shared), synth]:
            log(f"[city] {p.name}")
            results["city"].append(measure_cityjson(p, reps))
    if "ifc" in only:
        results["ifc"] = []
        for p in ifc_files(shared):
            log(f"[ifc] {p.name}")
            results["ifc"].append(measure_ifc(p, reps))
    if "cityframe" in only:
        log(f"[cityframe] {synth.name}")
        results["cityframe"] = measure_city_frame(synth, reps)
    return results


def _f(v: float) -> str:
    """Seconds as text, in milliseconds below 0.1 s."""
    return f"{v * 1000:.2f} ms" if v < 0.1 else f"{v:.3f} s" if v < 10 else f"{v:.1f} s"


def section(results: dict[str, Any], header: str) -> str:
    """The "City models and BIM" part of RESULTS.md."""
    lines = [MARKER, "", "# City models and BIM", "", header, ""]
    summary = []
    if results.get("city"):
        lines += ["## 6. CityJSON load to render-ready geometry vs `json.load`", "",
                  "Ours: `loaders.read` → FeatureMesh (vertices decoded, every LOD "
                  "triangulated with holes, per-triangle object/semantic/LOD ids, attributes, "
                  "CRS). It decodes with msgspec, keeping boundaries and vertices as JSON text "
                  "that numpy reads (orjson/json lists for files msgspec refuses); Python's "
                  "garbage collector is left as the caller has it. Baseline: "
                  "`json.load` of the same file. Interleaved in one process after a warm-up "
                  "of each, garbage collected before every timed call. Targets: ≤ 2 ms "
                  "(median) for files under 100 KB, ≤ 0.6× `json.load` (median ratio) from "
                  "1 MB. 'orjson parse' is the median ratio of `orjson.loads` alone (no "
                  "geometry at all) to `json.load`: the floor of a reader that builds the "
                  "JSON tree, with the garbage collector on. 'JSON MB' is the file without "
                  "its whitespace: json.load's time follows the file's size only when the "
                  "file is compact.", "",
                  "| file | MB | JSON MB | objects | triangles | json.load (min) | ours (min) | "
                  "ours (median) | ratio min | ratio median | orjson parse | target | met |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        worst = 0.0
        missed = []
        for r in results["city"]:
            target, met = verdict(r)
            lines.append(f"| {r['file']} | {r['size_mb']} | {r.get('json_mb', '–')} | "
                         f"{r['objects']:,} | "
                         f"{r['triangles']:,} | {_f(min(r['baseline_s']))} | "
                         f"{_f(min(r['ours_s']))} | {_f(statistics.median(r['ours_s']))} | "
                         f"{r['ratio_min']:.2f} | {r['ratio_median']:.2f} | "
                         + (f"{r['parse_ratio_median']:.2f}" if "parse_ratio_median" in r
                            else "–") + f" | {target} | "
                         f"{'—' if met is None else 'yes' if met else 'no'} |")
            if "json.load" in target:  # (a ratio only where the target is one)
                worst = max(worst, r["ratio_median"])
            if met is False:
                missed.append(r["file"])
        summary.append("- 6. CityJSON ≤ 2 ms under 100 KB, ≤ 0.6× json.load from 1 MB: "
                       + ("met" if not missed else "**NOT met** for " + ", ".join(missed))
                       + (f" (worst median ratio from 1 MB: {worst:.2f})" if worst else ""))
        lines.append("")
    if results.get("ifc"):
        lines += ["## 7. IFC load vs ifcopenshell's geometry iterator", "",
                  "Ours: `loaders.read` → FeatureMesh (geometry per element via "
                  "`ifcopenshell.geom.iterator` on all cores, classes, names, GlobalIds, "
                  "storeys, property sets and quantities, spatial tree, georeferencing). "
                  "Baseline: the same iterator settings, iterating the shapes and reading "
                  "their vertex and face arrays. Target: ≤ 1.3×. Since issue 13 the geometry "
                  "runs in a child process (a crash in ifcopenshell becomes an error "
                  "message); 'child cost' is ours minus the same read in-process.", "",
                  "| file | MB | elements | triangles | iterator (min) | ours (min) | "
                  "ratio min | ratio median | child cost (median) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        worst = 0.0
        for r in results["ifc"]:
            lines.append(f"| {r['file']} | {r['size_mb']} | {r['elements']:,} | "
                         f"{r['triangles']:,} | {_f(min(r['baseline_s']))} | "
                         f"{_f(min(r['ours_s']))} | {r['ratio_min']:.2f} | "
                         f"{r['ratio_median']:.2f} | "
                         + (f"{1000 * r['boundary_median_s']:+.0f} ms |"
                            if "boundary_median_s" in r else "– |"))
            worst = max(worst, r["ratio_median"])
        summary.append(f"- 7. IFC ≤ 1.3× the iterator: worst median ratio {worst:.2f} — "
                       + ("met" if worst <= 1.3 else "not met"))
        lines.append("")
    if results.get("cityframe"):
        r = results["cityframe"]
        lines += [f"## 8. A city of {r['objects']:,} objects stays interactive", "",
                  f"{r['file']}: {r['objects']:,} objects, {r['triangles']:,} triangles, "
                  f"drawn with {r['actors']} actor(s) in a {r['window']} off-screen window. "
                  "Frame = render + read back after a camera change. Baseline: the same "
                  "triangles as one plain pyvista mesh (no per-object ids, colours or "
                  "picking).", "",
                  "| | plain mesh (min/med) | ours (min/med) | ratio median | pick ms |",
                  "|---|---|---|---|---|",
                  f"| frame | {_f(r['baseline_s']['min'])} / {_f(r['baseline_s']['median'])} | "
                  f"{_f(r['ours_s']['min'])} / {_f(r['ours_s']['median'])} | "
                  f"{r['ratio']['median']:.2f} | {r['pick_ms']:.1f}"
                  f"{'' if r['pick_hit'] else ' (missed)'} |", ""]
        summary.append(f"- 8. {r['objects']:,} city objects: {r['actors']} actor(s), frame "
                       f"{1000 * r['ours_s']['median']:.0f} ms (plain mesh "
                       f"{1000 * r['baseline_s']['median']:.0f} ms), pick "
                       f"{r['pick_ms']:.0f} ms")
    return "\n".join(lines[:6] + ["## Summary (targets)", "", *summary, ""] + lines[6:])


def merge(existing: str, point_clouds: str | None, cities: str | None) -> str:
    """RESULTS.md: the point-cloud part and the city-model part, each replaced only when
    this run produced it (a run of one part keeps the other as it was)."""
    old_pc, _, old_city = existing.partition(MARKER)
    old_city = (MARKER + old_city) if old_city else ""
    pc = point_clouds if point_clouds is not None else old_pc
    city = cities if cities is not None else old_city
    return pc.rstrip() + "\n\n" + city.strip() + "\n" if city else pc
