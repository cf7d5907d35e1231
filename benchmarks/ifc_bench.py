"""IFC reading speed: ``loaders.read(path)`` against ifcopenshell's own geometry iterator.

Baseline: ``ifcopenshell.open(path)`` and one pass of ``ifcopenshell.geom.iterator``
over the whole file with the settings, element filter (no openings, no spaces) and thread
count that :mod:`loaders.formats.ifc` uses, collecting every shape's ``verts`` and
``faces`` tuples into Python lists. Ours: ``loaders.read(path)`` (the same geometry plus
colours, the model tree, property sets, georeferencing and the numpy mesh), which runs
ifcopenshell in a child process (a crash there is an error message, not the app's end).
In-process: ``ifc.read_in_process(path)``, the same work without the child; the
difference to "ours" is the price of the process boundary (``boundary_*``).

All run interleaved (baseline, ours, in-process, baseline, ...), after one warm-up of
each (imports, pyproj's database, the fork server).

    python -m benchmarks.ifc_bench ../shared/data/bim/*.ifc --reps 5
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _baseline(path: Path) -> tuple[int, int]:
    import ifcopenshell
    import ifcopenshell.geom

    from loaders.formats import ifc

    f = ifcopenshell.open(str(path))
    it = ifcopenshell.geom.iterator(ifc.geometry_settings(ifcopenshell.geom), f,
                                    ifc.thread_count(), exclude=list(ifc.EXCLUDED_BY_DEFAULT))
    verts: list[tuple] = []
    faces: list[tuple] = []
    if it.initialize():
        while True:
            geometry = it.get().geometry
            verts.append(geometry.verts)
            faces.append(geometry.faces)
            if not it.next():
                break
    del it
    return len(verts), sum(len(x) for x in faces) // 3


def _ours(path: Path) -> tuple[int, int]:
    import loaders

    model = loaders.read(path)
    return int(model.metadata.get("shapes", 0)), model.triangle_count


def _in_process(path: Path) -> tuple[int, int]:
    from loaders.formats import ifc

    model = ifc.read_in_process(path)
    return int(model.metadata.get("shapes", 0)), model.triangle_count


def measure_ifc(path: Path, reps: int) -> dict[str, Any]:
    """Time the baseline, ``loaders.read`` and the in-process read ``reps`` times each,
    interleaved."""
    path = Path(path)
    _baseline(path)  # warm-up: imports, schema tables, pyproj database
    _ours(path)  # (and the fork server)
    _in_process(path)
    base_s: list[float] = []
    ours_s: list[float] = []
    inproc_s: list[float] = []
    elements = triangles = 0
    base_counts = (0, 0)
    for _ in range(max(1, reps)):
        gc.collect()
        t = time.perf_counter()
        base_counts = _baseline(path)
        base_s.append(time.perf_counter() - t)
        gc.collect()
        t = time.perf_counter()
        elements, triangles = _ours(path)
        ours_s.append(time.perf_counter() - t)
        gc.collect()
        t = time.perf_counter()
        _in_process(path)
        inproc_s.append(time.perf_counter() - t)
    ratios = [o / b for o, b in zip(ours_s, base_s, strict=True)]
    boundary = [o - i for o, i in zip(ours_s, inproc_s, strict=True)]
    return {
        "file": path.name,
        "size_mb": round(path.stat().st_size / 1e6, 3),
        "baseline_s": base_s,
        "ours_s": ours_s,
        "ratio_min": min(ours_s) / min(base_s),
        "ratio_median": statistics.median(ratios),
        "in_process_s": inproc_s,
        "boundary_median_s": statistics.median(boundary),
        "boundary_ratio_median": statistics.median(
            [o / i for o, i in zip(ours_s, inproc_s, strict=True)]),
        "elements": elements,
        "triangles": triangles,
        "baseline_elements": base_counts[0],
        "baseline_triangles": base_counts[1],
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    for path in args.files:
        print(json.dumps(measure_ifc(path, args.reps), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
