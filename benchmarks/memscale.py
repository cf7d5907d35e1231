"""How memory scales with the input, for the inputs strangers send (issue 13).

Each case runs in a fresh child process: the child imports what it needs, does a small
warm-up run, notes its resident memory (``VmRSS``), resets the kernel's peak (``VmHWM``),
does the work once and reports the peak. The difference is the work's peak, given per
byte of input so that a reader whose memory grows faster than its input shows at once.
Cases:

- ASCII XYZ with one point a line, and the same numbers on one single line (a 200 MB
  one-line file took 7.5 GB before issue 13);
- CityJSON: the synthetic city of the city benchmark at two sizes (~40x the file before);
- a project with many annotations: load (schema-checked) and export CSV, GeoJSON and Web
  Annotation (``project_scale``).

``python -m benchmarks --only memscale``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: measured by hand on the code before issue 13, for comparison (the old code cannot be run
#: here: it would take the machine's memory)
BEFORE = ("Before issue 13 (old code, measured by hand with /usr/bin/time -v): a 20 MB "
          "one-line XYZ took 2.14 GB and 39 s (a 200 MB one took 7.5 GB), a 189 MB XYZ of 7M "
          "points 680 MB; the 10,000-building CityJSON 18.7× its size resident (the orjson "
          "tree alone was about 8–9× the file; since issue 14 msgspec keeps boundaries and "
          "vertices as text, and nothing of that size is built).")
MARKER = "<!-- memory scaling: written by `./run bench --only memscale` -->"

_CHILD = r"""
import gc, json, sys, time
sys.path.insert(0, {root!r})

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

{imports}
{warm}
gc.collect()
base = status("VmRSS")
with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to now
    fh.write("5")
t = time.perf_counter()
{work}
wall = time.perf_counter() - t
peak = status("VmHWM")
print(json.dumps({{"base": base, "peak": peak, "wall_s": wall, "out": out}}))
"""


def run_child(imports: str, work: str, warm: str = "", timeout: float = 1800) -> dict[str, Any]:
    """Run ``work`` (which sets ``out``) in a fresh process after ``imports`` and ``warm``
    (a small run of the same work, so that lazy imports and caches are not counted)."""
    code = _CHILD.format(root=str(ROOT), imports=textwrap.dedent(imports).strip(),
                         warm=textwrap.dedent(warm).strip(),
                         work=textwrap.dedent(work).strip())
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:300]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_xyz(path: Path, n_points: int, one_line: bool) -> Path:
    """``n_points`` x y z rows (projected-looking numbers with 3 decimals)."""
    if path.exists():
        return path
    rng = np.random.default_rng(13)
    sep = " " if one_line else "\n"
    with open(path, "w") as fh:
        for start in range(0, n_points, 500_000):
            k = min(500_000, n_points - start)
            xyz = rng.uniform((85_000, 447_000, -5), (86_000, 448_000, 60), (k, 3))
            rows = [f"{x:.3f} {y:.3f} {z:.3f}" for x, y, z in xyz.tolist()]
            fh.write(sep.join(rows))
            fh.write(sep if start + k < n_points else "\n")
    return path


def measure_read(path: Path, warm: Path) -> dict[str, Any]:
    r = run_child("import loaders", warm=f"loaders.read({str(warm)!r})", work=
               f"try:\n    d = loaders.read({str(path)!r})\n"
               "except loaders.LoadError as exc:\n    out = {'refused': exc.reason}\n"
               "else:\n    out = {'points': int(getattr(d, 'point_count', 0) or 0),"
               " 'vertices': int(getattr(d, 'vertex_count', 0) or 0)}")
    r["file_bytes"] = path.stat().st_size
    return r


def run(data_dir: Path, log=print, xyz_points=(1_000_000, 8_000_000),
        city_buildings=(1_000, 10_000), annotations=(10_000, 50_000, 200_000)) -> dict:
    from . import project_scale
    from .cityjson_bench import make_synthetic_city

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []

    def record(kind: str, label: str, r: dict[str, Any]) -> None:
        r.update(kind=kind, label=label)
        rows.append(r)
        if "error" in r:
            log(f"  {kind} {label}: {r['error']}")
        else:
            log(f"  {kind} {label}: {(r['peak'] - r['base']) / 2**20:.0f} MiB over "
                f"{r['file_bytes'] / 2**20:.1f} MiB input, {r['wall_s']:.1f} s")

    warm_xyz = write_xyz(data_dir / "memscale_warm.xyz", 1000, False)
    for n in xyz_points:
        for one_line in (False, True):
            name = f"memscale_{n}{'_oneline' if one_line else ''}.xyz"
            log(f"[memscale] {name}")
            p = write_xyz(data_dir / name, n, one_line)
            record("XYZ, one line" if one_line else "XYZ, a point a line",
                   f"{n:,} points", measure_read(p, warm_xyz))
    warm_city = data_dir / "synthetic_city_10.city.json"
    if not warm_city.exists():
        make_synthetic_city(10, warm_city)
    for n in city_buildings:
        p = data_dir / f"synthetic_city_{n}.city.json"
        if not p.exists():
            log(f"writing {p.name}")
            make_synthetic_city(n, p)
        log(f"[memscale] {p.name}")
        record("CityJSON", f"{n:,} buildings", measure_read(p, warm_city))
    log("[memscale] projects (benchmarks/project_scale.py)")
    projects = project_scale.run(annotations, log=lambda line: log("  " + line))
    return {"rows": rows, "projects": projects["results"]}


def section(results: dict[str, Any], header: str) -> str:
    lines = [MARKER, "", "# Memory scaling with the input (files from others)", "", header, "",
             "Peak resident memory of the work alone (in a fresh child process, after its "
             "imports and a small warm-up read: the kernel's peak mark VmHWM reset, the work "
             "done once, the new peak minus the resident memory before), per byte of input. "
             + BEFORE + " A reader whose memory is proportional to its input keeps the last "
             "column flat as the input grows.", "",
             "| input | size | input MiB | peak MiB | peak / input | wall s | result |",
             "|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        if "error" in r:
            lines.append(f"| {r['kind']} | {r['label']} | "
                         f"{r.get('file_bytes', 0) / 2**20:.1f} | – | – | – | {r['error']} |")
            continue
        work = max(r["peak"] - r["base"], 0)
        lines.append(f"| {r['kind']} | {r['label']} | {r['file_bytes'] / 2**20:.1f} | "
                     f"{work / 2**20:.0f} | {work / r['file_bytes']:.1f}× | "
                     f"{r['wall_s']:.1f} | {json.dumps(r['out'])} |")
    projects = results.get("projects") or []
    if projects:
        lines += ["", "Projects with many annotations (benchmarks/project_scale.py; each size "
                  "in its own process: load with schema check, then export CSV, GeoJSON and "
                  "Web Annotation). Before issue 13, 200,000 annotations took 108 s and "
                  "5.0 GB.", "",
                  "| annotations | file MiB | load + validate s | CSV s | GeoJSON s | "
                  "Web Annotation s | peak MiB (load + exports) | peak / file |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in projects:
            if "error" in r:
                lines.append(f"| {r['annotations']:,} | – | – | – | – | – | – | "
                             f"{r['error']} |")
                continue
            work = max(r["peak_rss_bytes"] - r["rss_before_bytes"], 0)
            lines.append(f"| {r['annotations']:,} | {r['file_bytes'] / 2**20:.1f} | "
                         f"{r['load_validate_s']:.1f} | {r['export_csv_s']:.1f} | "
                         f"{r['export_geojson_s']:.1f} | {r['export_webanno_s']:.1f} | "
                         f"{work / 2**20:.0f} | {work / r['file_bytes']:.1f}× |")
    return "\n".join(lines) + "\n"


def merge(existing: str, part: str) -> str:
    """Replace (or append) the memory-scaling part of RESULTS.md, keeping the rest."""
    before, _, _ = existing.partition(MARKER)
    return before.rstrip() + "\n\n" + part.strip() + "\n"
