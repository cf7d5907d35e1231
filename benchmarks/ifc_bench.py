"""IFC reading speed: ``loaders.read(path)`` against ifcopenshell's own geometry iterator.

Baseline: ``ifcopenshell.open(path)`` and one pass of ``ifcopenshell.geom.iterator``
over the whole file with the settings, element filter (no openings, no spaces) and thread
count that :mod:`loaders.formats.ifc` uses, collecting every shape's ``verts`` and
``faces`` tuples into Python lists. Ours: ``loaders.read(path)`` (the same geometry plus
colours, the model tree, property sets, georeferencing and the numpy mesh).

Both run in this process, interleaved (baseline, ours, baseline, ours, ...), after one
warm-up of each (imports, pyproj's database).

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


def measure_ifc(path: Path, reps: int) -> dict[str, Any]:
    """Time the baseline and ``loaders.read`` ``reps`` times each, interleaved."""
    path = Path(path)
    _baseline(path)  # warm-up: imports, schema tables, pyproj database
    _ours(path)
    base_s: list[float] = []
    ours_s: list[float] = []
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
    ratios = [o / b for o, b in zip(ours_s, base_s, strict=True)]
    return {
        "file": path.name,
        "size_mb": round(path.stat().st_size / 1e6, 3),
        "baseline_s": base_s,
        "ours_s": ours_s,
        "ratio_min": min(ours_s) / min(base_s),
        "ratio_median": statistics.median(ratios),
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
