"""CityJSON reading speed: ``loaders.read(path)`` against a plain ``json.load``.

Baseline: ``json.load(open(path))`` (the least any CityJSON reader in Python must do).
Ours: ``loaders.read(path)``, i.e. the same file to a render-ready
:class:`loaders.FeatureMesh` (vertices decoded, every LOD triangulated, per-triangle
object / semantic / LOD ids, features with attributes, CRS). Targets: <= 2 ms for a file
under 100 KB; ratio <= 0.6 from 1 MB (:data:`SMALL_BYTES`, :data:`SMALL_TARGET_S`,
:data:`LARGE_BYTES`, :data:`LARGE_TARGET_RATIO`, :func:`verdict`).

Both run in this process, interleaved (baseline, ours, baseline, ours, ...), after one
warm-up of each (imports, pyproj's database).

:func:`make_synthetic_city` writes a deterministic CityJSON 2.0 file of LOD 1.2 + 1.3 + 2.2
buildings (3DBAG-like: compact JSON, ``transform``, EPSG:7415) for larger runs.

    python -m benchmarks.cityjson_bench ../shared/data/citymodels/*.city.json --reps 5
    python -m benchmarks.cityjson_bench --synthetic 10000 --reps 3
"""

from __future__ import annotations

import gc
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SCALE = 0.001
TRANSLATE = (84000.0, 446000.0, 0.0)
_FUNCTIONS = ("woonfunctie", "kantoorfunctie", "winkelfunctie", "industriefunctie",
              "onderwijsfunctie", "bijeenkomstfunctie")


# ---------------------------------------------------------------------------- synthetic


def _footprint(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Counter-clockwise footprint (k, 2) in metres around (0, 0), and an optional
    counter-clockwise courtyard ring (made clockwise by the caller)."""
    if kind == "rect" or kind == "court":
        w, d = rng.uniform(8, 20), rng.uniform(6, 14)
        ring = np.array([[-w, -d], [w, -d], [w, d], [-w, d]]) / 2
        hole = None
        if kind == "court":
            ring *= 1.6
            hole = ring * 0.4
    elif kind == "ell":
        w, d = rng.uniform(10, 20), rng.uniform(10, 20)
        a, b = w * rng.uniform(0.3, 0.6), d * rng.uniform(0.3, 0.6)
        ring = np.array([[0, 0], [w, 0], [w, b], [a, b], [a, d], [0, d]]) - [w / 2, d / 2]
        hole = None
    else:  # star-shaped, usually concave, 5..12 corners
        k = int(rng.integers(5, 13))
        # jittered even angles: every gap < pi, so the ring is simple and the centre lies
        # in its kernel (the hipped roof's apex stands above it)
        ang = (np.arange(k) + rng.uniform(-0.35, 0.35, k)) * (2 * math.pi / k)
        rad = rng.uniform(4, 10, k)
        ring = np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
        hole = None
    theta = rng.uniform(0, math.pi)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    ring = ring @ rot.T
    if hole is not None:
        hole = hole @ rot.T
    return ring, hole


def _solid_prism(base: int, k: int, top: int, hole: tuple[int, int, int] | None):
    """Boundaries + semantic values of a prism. ``base``/``top`` are the first vertex ids of
    the ground and top outer rings (k vertices each); ``hole`` = (base, top, m) of an
    inner ring."""
    g = list(range(base, base + k))
    t = list(range(top, top + k))
    ground = [g[::-1]]
    roof = [t]
    walls = [[[g[i], g[(i + 1) % k], t[(i + 1) % k], t[i]]] for i in range(k)]
    values = [0, 1] + [2] * k
    if hole is not None:
        hb, ht, m = hole
        hg = list(range(hb, hb + m))
        htp = list(range(ht, ht + m))
        ground.append(hg)  # the hole ring runs the other way than the outer ring
        roof.append(htp[::-1])
        walls += [[[hg[(i + 1) % m], hg[i], htp[i], htp[(i + 1) % m]]] for i in range(m)]
        values += [2] * m
    return [[ground, roof] + walls], [values]


def make_synthetic_city(n_buildings: int, path: Path, seed: int = 0) -> Path:
    """Write a deterministic CityJSON 2.0 file with ``n_buildings`` buildings.

    Each building has LOD 1.2, 1.3 and 2.2 Solids with Ground/Roof/Wall semantics;
    footprints are rectangles (gabled roofs), L-shapes and star shapes (concave; hipped
    roofs) and rectangles with a courtyard (polygons with holes). One building in five is
    a ``Building`` without geometry whose ``BuildingPart`` child holds it. Attributes:
    yearOfConstruction, function, measuredHeight, roofType, storeysAboveGround,
    identificatie and a few 3DBAG-like heights/dates.
    """
    path = Path(path)
    rng = np.random.default_rng(seed)
    cols = max(1, int(math.ceil(math.sqrt(n_buildings))))
    verts: list[list[int]] = []
    objects: dict[str, Any] = {}
    sem_surfaces = [{"type": "GroundSurface"}, {"type": "RoofSurface"},
                    {"type": "WallSurface"}]

    def add(xyz: np.ndarray) -> int:
        start = len(verts)
        q = np.round((xyz - TRANSLATE) / SCALE).astype(np.int64)
        verts.extend(q.tolist())
        return start

    for i in range(n_buildings):
        r = rng.random()
        kind = "rect" if r < 0.5 else "star" if r < 0.8 else "ell" if r < 0.9 else "court"
        cx = 85000.0 + (i % cols) * 40.0 + rng.uniform(-3, 3)
        cy = 447000.0 + (i // cols) * 40.0 + rng.uniform(-3, 3)
        z0 = round(rng.uniform(-1.0, 2.0), 3)
        h = round(rng.uniform(6.0, 30.0), 3)
        ring, hole = _footprint(rng, kind)
        k = len(ring)
        xy = ring + [cx, cy]
        ground = add(np.column_stack([xy, np.full(k, z0)]))
        top1 = add(np.column_stack([xy, np.full(k, z0 + h)]))
        hole_ids = None
        if hole is not None:
            hxy = hole + [cx, cy]
            m = len(hxy)
            hg = add(np.column_stack([hxy, np.full(m, z0)]))
            ht = add(np.column_stack([hxy, np.full(m, z0 + h)]))
            hole_ids = (hg, ht, m)
        b1, v1 = _solid_prism(ground, k, top1, hole_ids)
        # LOD 1.3: the same prism at a second height (3DBAG stores 1.2, 1.3 and 2.2)
        top13 = add(np.column_stack([xy, np.full(k, z0 + h * 0.9)]))
        hole13 = None
        if hole_ids is not None:
            hole13 = (hole_ids[0], add(np.column_stack([hole + [cx, cy],
                                                        np.full(len(hole), z0 + h * 0.9)])),
                      hole_ids[2])
        b13, v13 = _solid_prism(ground, k, top13, hole13)
        # LOD 2.2
        eaves = z0 + h * 0.8
        if kind == "rect":
            # gabled roof: ridge along the long side
            top2 = add(np.column_stack([xy, np.full(k, eaves)]))
            e = xy[1] - xy[0]
            f = xy[3] - xy[0]
            if np.hypot(*e) >= np.hypot(*f):
                r0, r1 = xy[0] + f / 2, xy[1] + f / 2
                ridge = add(np.array([[*r0, z0 + h], [*r1, z0 + h]]))
                g = list(range(ground, ground + 4))
                t = list(range(top2, top2 + 4))
                surfaces = [[g[::-1]],
                            [[t[0], t[1], ridge + 1, ridge]], [[t[2], t[3], ridge, ridge + 1]],
                            [[g[0], g[1], t[1], t[0]]], [[g[1], g[2], t[2], ridge + 1, t[1]]],
                            [[g[2], g[3], t[3], t[2]]], [[g[3], g[0], t[0], ridge, t[3]]]]
            else:
                r0, r1 = xy[0] + e / 2, xy[3] + e / 2
                ridge = add(np.array([[*r0, z0 + h], [*r1, z0 + h]]))
                g = list(range(ground, ground + 4))
                t = list(range(top2, top2 + 4))
                surfaces = [[g[::-1]],
                            [[t[1], t[2], ridge + 1, ridge]], [[t[3], t[0], ridge, ridge + 1]],
                            [[g[0], g[1], t[1], ridge, t[0]]], [[g[1], g[2], t[2], t[1]]],
                            [[g[2], g[3], t[3], ridge + 1, t[2]]], [[g[3], g[0], t[0], t[3]]]]
            b2 = [surfaces]
            v2 = [[0, 1, 1, 2, 2, 2, 2]]
        elif kind in ("star", "ell"):
            # hipped roof: one triangle per footprint edge up to an apex above the centre
            top2 = add(np.column_stack([xy, np.full(k, eaves)]))
            apex = add(np.array([[cx, cy, z0 + h]]))
            g = list(range(ground, ground + k))
            t = list(range(top2, top2 + k))
            surfaces = [[g[::-1]]]
            surfaces += [[[t[j], t[(j + 1) % k], apex]] for j in range(k)]
            surfaces += [[[g[j], g[(j + 1) % k], t[(j + 1) % k], t[j]]] for j in range(k)]
            b2 = [surfaces]
            v2 = [[0] + [1] * k + [2] * k]
        else:  # courtyard: flat roof at the eaves height, with the hole
            top2 = add(np.column_stack([xy, np.full(k, eaves)]))
            hg, _, m = hole_ids
            ht2 = add(np.column_stack([hole + [cx, cy], np.full(m, eaves)]))
            b2, v2 = _solid_prism(ground, k, top2, (hg, ht2, m))
        geometry = [
            {"type": "Solid", "lod": "1.2", "boundaries": b1,
             "semantics": {"surfaces": sem_surfaces, "values": v1}},
            {"type": "Solid", "lod": "1.3", "boundaries": b13,
             "semantics": {"surfaces": sem_surfaces, "values": v13}},
            {"type": "Solid", "lod": "2.2", "boundaries": b2,
             "semantics": {"surfaces": sem_surfaces, "values": v2}},
        ]
        attributes = {
            "identificatie": f"NL.IMBAG.Pand.{503100000000000 + i}",
            "yearOfConstruction": int(rng.integers(1600, 2024)),
            "function": _FUNCTIONS[int(rng.integers(0, len(_FUNCTIONS)))],
            "measuredHeight": round(h, 2),
            "roofType": {"rect": "gabled", "court": "flat"}.get(kind, "hipped"),
            "storeysAboveGround": max(1, int(h // 3)),
            "status": "Pand in gebruik",
            "h_maaiveld": z0,
            "h_dak_min": round(z0 + h * 0.8, 3),
            "h_dak_max": round(z0 + h, 3),
            "documentdatum": f"{int(rng.integers(1990, 2024))}-0{int(rng.integers(1, 10))}-1"
                             f"{int(rng.integers(0, 10))}",
        }
        bid = f"NL.IMBAG.Pand.{503100000000000 + i}"
        if i % 5 == 4:
            objects[bid] = {"type": "Building", "attributes": attributes,
                            "children": [bid + "-0"]}
            objects[bid + "-0"] = {"type": "BuildingPart", "parents": [bid],
                                   "attributes": {"storeysAboveGround":
                                                  attributes["storeysAboveGround"]},
                                   "geometry": geometry}
        else:
            objects[bid] = {"type": "Building", "attributes": attributes,
                            "geometry": geometry}

    arr = np.asarray(verts, np.float64) * SCALE + TRANSLATE
    doc = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [SCALE] * 3, "translate": list(TRANSLATE)},
        "metadata": {
            "referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/7415",
            "geographicalExtent": [round(float(v), 3) for v in
                                   (*arr.min(axis=0), *arr.max(axis=0))] if len(arr) else [],
            "title": f"RealScene synthetic city ({n_buildings} buildings, seed {seed})",
        },
        "CityObjects": objects,
        "vertices": verts,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    return path


# ---------------------------------------------------------------------------- measuring


def _baseline(path: Path) -> float:
    t = time.perf_counter()
    with open(path) as fh:
        json.load(fh)
    return time.perf_counter() - t


def _parse_only(path: Path) -> float:
    """orjson's parse alone (the floor of any reader that builds the JSON tree with it)."""
    import orjson

    t = time.perf_counter()
    with open(path, "rb") as fh:
        orjson.loads(fh.read())
    return time.perf_counter() - t


def _ours(path: Path) -> tuple[float, Any]:
    import loaders

    t = time.perf_counter()
    mesh = loaders.read(path)
    return time.perf_counter() - t, mesh


def _compact_size(path: Path) -> int:
    """Bytes of the file's JSON written without whitespace."""
    with open(path, "rb") as fh:
        return len(json.dumps(json.load(fh), separators=(",", ":"), ensure_ascii=False)
                   .encode())


#: files under this size: read in at most SMALL_TARGET_S (median)
SMALL_BYTES, SMALL_TARGET_S = 100_000, 0.002
#: files from this size: at most LARGE_TARGET_RATIO x json.load (median ratio)
LARGE_BYTES, LARGE_TARGET_RATIO = 1_000_000, 0.6


def verdict(result: dict[str, Any]) -> tuple[str, bool | None]:
    """(the target that applies to a measured file, met?); None: no target in between."""
    size = result["size_mb"] * 1e6
    if size < SMALL_BYTES:
        return f"≤ {SMALL_TARGET_S * 1000:g} ms", \
            statistics.median(result["ours_s"]) <= SMALL_TARGET_S
    if size >= LARGE_BYTES:
        return f"≤ {LARGE_TARGET_RATIO}× json.load", \
            result["ratio_median"] <= LARGE_TARGET_RATIO
    return "none (100 KB - 1 MB)", None


def measure_cityjson(path: Path, reps: int) -> dict[str, Any]:
    """Time ``json.load`` and ``loaders.read`` ``reps`` times each, interleaved."""
    path = Path(path)
    _baseline(path)  # warm-up: imports, pyproj's database, file cache
    _ours(path)
    base_s: list[float] = []
    ours_s: list[float] = []
    parse_s: list[float] = []
    objects = triangles = 0
    for _ in range(max(1, reps)):
        gc.collect()
        base_s.append(_baseline(path))
        gc.collect()
        parse_s.append(_parse_only(path))
        gc.collect()
        dt, mesh = _ours(path)
        ours_s.append(dt)
        objects, triangles = len(mesh.features), mesh.triangle_count
        del mesh
    ratios = [o / b for o, b in zip(ours_s, base_s, strict=True)]
    return {
        "file": path.name,
        "size_mb": round(path.stat().st_size / 1e6, 3),
        "json_mb": round(_compact_size(path) / 1e6, 3),
        "baseline_s": base_s,
        "ours_s": ours_s,
        "ratio_min": min(ours_s) / min(base_s),
        "ratio_median": statistics.median(ratios),
        "parse_ratio_median": statistics.median(
            [p / b for p, b in zip(parse_s, base_s, strict=True)]),
        "objects": objects,
        "triangles": triangles,
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="also measure a synthetic city of N buildings")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(__file__).resolve().parent / "data")
    args = parser.parse_args(argv)
    files = list(args.files)
    if args.synthetic:
        out = args.data_dir / f"synthetic_city_{args.synthetic}.city.json"
        if not out.exists():
            make_synthetic_city(args.synthetic, out)
        files.append(out)
    for path in files:
        print(json.dumps(measure_cityjson(path, args.reps), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
