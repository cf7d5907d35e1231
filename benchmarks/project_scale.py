"""How a project with many annotations scales: load (schema-checked), export CSV, GeoJSON
and Web Annotation. Issue 13: 200k annotations took 5.5 GB and 90 s to export (53 s of it
schema validation).

Each size runs in a fresh child process: the child writes the project file, resets the
kernel's peak-memory mark (``VmHWM``, Linux), then loads, validates and exports it three
ways, timing each step; the peak is that of the load and exports alone.

    from benchmarks import project_scale
    project_scale.run(sizes=(10_000, 50_000, 200_000))
    python -m benchmarks.project_scale 10000 200000     # prints the table
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import gc, json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
n, folder = {n!r}, Path({folder!r})

from heritage.project import Project
from heritage.exchange import export

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

def rss_peak():  # the peak since the last reset (Linux), else the process's peak
    try:
        return status("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def reset_peak():  # writing the project file must not count as the load's peak
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return status("VmRSS")
    except OSError:
        return rss_peak()

# the project file: annotations of every kind, with text, tags, media, views
x, y = 2680123.123456789, 1250000.987654321
cam = {{"position": [x + 10, y + 10, 450.0], "focal_point": [x, y, 410.0],
       "view_up": [0.0, 0.0, 1.0], "parallel": False}}
kinds = [("point", 1), ("polyline", 3), ("polygon", 4), ("box", 2)]
anns = []
for i in range(n):
    kind, k = kinds[i % 4]
    pts = [[x + i * 0.01 + j, y - j * 0.5, 400.0 + j] for j in range(k)]
    if kind == "box":
        pts = [[x + i, y, 400.0], [x + i + 1.5, y + 2.5, 403.0]]
    anns.append({{"id": f"a{{i:07d}}", "kind": kind, "points": pts,
                 "title": f"Crack {{i}} near the portal", "description": "Hairline crack\n"
                 "below the cornice; see photo", "category": "crack", "condition": "poor",
                 "observed": "2026-05-14", "author": "Team A", "tags": ["north", "wall"],
                 "media": [f"photos/p{{i}}.jpg"], "link": None,
                 "view": cam if i % 10 == 0 else None, "color": None, "visible": True,
                 "created": "2026-05-14T09:00:00+00:00",
                 "modified": "2026-05-14T09:00:00+00:00"}})
doc = {{"format": "realscene-project", "schema_version": 1, "title": "scale", "crs":
       "EPSG:2056", "layers": [], "annotations": anns, "measurements": []}}
path = folder / "scale.realscene.json"
path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
del doc, anns
gc.collect()
size = path.stat().st_size
base = reset_peak()
times = {{}}
t = time.perf_counter()
project = Project.load(path)
times["load_validate_s"] = time.perf_counter() - t
for fmt, name in (("csv", "out.csv"), ("geojson", "out.geojson"),
                  ("webanno", "out.jsonld")):
    t = time.perf_counter()
    export(project, fmt, folder / name)
    times[f"export_{{fmt}}_s"] = time.perf_counter() - t
peak = rss_peak()
print(json.dumps({{"annotations": n, "file_bytes": size, "rss_before_bytes": base,
                  "peak_rss_bytes": peak, **times}}))
"""


def measure(n: int, root: str | Path = ROOT, timeout: float = 3600) -> dict[str, Any]:
    """One child process: write a project of ``n`` annotations, load, validate, export.
    ``root`` is the source tree to measure (another checkout compares versions)."""
    with tempfile.TemporaryDirectory(prefix="rs-scale-") as tmp:
        code = textwrap.dedent(_CHILD).format(root=str(root), n=int(n), folder=tmp)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"annotations": n, "error": f"exit {proc.returncode}: {tail[:300]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(sizes=(10_000, 50_000, 200_000), root: str | Path = ROOT, log=print) -> dict:
    """Measure each size in its own child process -> {"sizes": [...], "results": [...]}."""
    results = []
    for n in sizes:
        r = measure(n, root)
        results.append(r)
        if log:
            log(format_row(r))
    return {"sizes": list(sizes), "results": results}


def format_row(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"{r['annotations']:>8,} annotations: {r['error']}"
    total = sum(v for k, v in r.items() if k.endswith("_s"))
    return (f"{r['annotations']:>8,} annotations ({r['file_bytes'] / 1e6:.0f} MB): "
            f"load+validate {r['load_validate_s']:.1f} s, export csv "
            f"{r['export_csv_s']:.1f} s, geojson {r['export_geojson_s']:.1f} s, webanno "
            f"{r['export_webanno_s']:.1f} s (total {total:.1f} s); peak RSS "
            f"{r['peak_rss_bytes'] / 2**20:,.0f} MiB")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--root=")]
    roots = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--root=")]
    run(tuple(int(a) for a in args) or (10_000, 50_000, 200_000),
        root=roots[0] if roots else ROOT)
