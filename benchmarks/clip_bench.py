"""Clip export of a box: from a big LAZ (chunked) and from its COPC (touched nodes only)
against reading the whole file with ``laspy.read``, masking with numpy and writing the kept
points.

    python -m benchmarks --only clip [--clip-points 30M] [--clip-leaf-sizes 100k,50k,20k]
    python -m benchmarks.clip_bench --points 30M     # alone, prints the numbers

The big LAZ is built once from the real autzen tile (../shared/data) copied side by side
with offsets into ``~/.cache/realscene-bench`` (outside the repo), its COPC with the
project's writer (loaders.writers.copc). The box is 1 % of the area in the middle, full
height. Every run is a fresh process (after the imports and a warm-up read of the small
source tile), so that its peak resident memory (VmHWM) can be measured; the three ways
are interleaved, repetition by repetition.

Targets (issue 18): the COPC clip at least 5x as fast as the whole-file read; the chunked
LAZ clip not slower than it; the chunked clip's peak memory (above the process at rest) at
most a quarter of the whole-file read's.

``--clip-leaf-sizes`` adds a study of the COPC writer's node capacity (``leaf_points``):
indexing time and peak memory, file size, node count and the same clip from each copy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from . import parts

BEGIN = "<!-- clip-bench:begin -->"
END = "<!-- clip-bench:end -->"
CACHE = Path(os.environ.get("REALSCENE_BENCH_CACHE",
                            Path.home() / ".cache" / "realscene-bench"))
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "pointclouds" / \
    "autzen_trim.laz"
BOX_SIDE = 0.1  # of each horizontal side: 1 % of the area
COPC_TARGET = 0.2  # COPC clip / whole-file read (at least 5x as fast)
LAZ_TARGET = 1.0  # chunked LAZ clip / whole-file read
MEMORY_TARGET = 0.25  # peak above rest, chunked clip / whole-file read
WAYS = ("laspy.read + mask + write", "clip LAZ", "clip COPC")


def _default_leaf() -> int:
    from loaders.writers.copc import LEAF_POINTS

    return int(LEAF_POINTS)


def copc_path(points: int, leaf_points: int | None = None) -> Path:
    if leaf_points is None or leaf_points == _default_leaf():
        return CACHE / f"autzen_tiled_{points}.copc.laz"
    return CACHE / f"autzen_tiled_{points}_leaf{leaf_points}.copc.laz"


def ensure_laz(points: int, log=print) -> Path:
    """A LAZ of about ``points`` points (copies of SOURCE side by side), built once."""
    import laspy

    CACHE.mkdir(parents=True, exist_ok=True)
    laz = CACHE / f"autzen_tiled_{points}.laz"
    if laz.exists():
        return laz
    src = laspy.read(SOURCE)
    n = len(src.points)
    tiles = max(1, math.ceil(points / n))
    side = math.ceil(math.sqrt(tiles))
    dx = float(src.header.maxs[0] - src.header.mins[0]) + 1.0
    dy = float(src.header.maxs[1] - src.header.mins[1]) + 1.0
    sx, sy = src.header.scales[0], src.header.scales[1]
    log(f"[clip] building {laz} from {tiles} copies of {SOURCE.name}")
    tmp = laz.with_name(laz.name + ".part")
    with laspy.open(tmp, mode="w", header=src.header, do_compress=True) as writer:
        for t in range(tiles):
            part = src.points.copy()
            part.array["X"] += np.int32(round((t % side) * dx / sx))
            part.array["Y"] += np.int32(round((t // side) * dy / sy))
            writer.write_points(part)
    tmp.replace(laz)
    return laz


def ensure_copc(laz: Path, points: int, leaf_points: int | None = None,
                log=print) -> tuple[Path, dict[str, Any]]:
    """The COPC of ``laz`` written with ``leaf_points`` (the writer's default when None),
    built once; with the indexing run's wall time and peak memory (kept beside it)."""
    leaf = _default_leaf() if leaf_points is None else int(leaf_points)
    copc = copc_path(points, leaf)
    meta = copc.with_name(copc.name + ".json")
    if copc.exists() and meta.exists():
        return copc, json.loads(meta.read_text())
    log(f"[clip] indexing {copc.name} (leaf_points={leaf:,})")
    tmp = copc.with_name(copc.name + ".part.copc.laz")
    r = _child("from loaders.writers.copc import write_copc", "",
               f"write_copc({str(laz)!r}, {str(tmp)!r}, leaf_points={leaf})\nout = None")
    if "error" in r:
        raise RuntimeError(f"indexing {laz.name} failed: {r['error']}")
    tmp.replace(copc)
    info = {"index_s": r["wall_s"], "index_peak": r["peak"] - r["base"], "leaf": leaf}
    meta.write_text(json.dumps(info))
    return copc, info


def ensure_data(points: int, log=print) -> tuple[Path, Path]:
    """(big LAZ, its COPC) of about ``points`` points, built once into CACHE."""
    laz = ensure_laz(points, log)
    return laz, ensure_copc(laz, points, log=log)[0]


def _child(imports: str, warm: str, work: str) -> dict[str, Any]:
    from .memscale import run_child as child

    return child(imports, work, warm, timeout=3600)


_IMPORTS = """
import laspy
import numpy as np
from heritage.monitoring.clip import Box, clip_file
"""


def _work(way: str, path: Path, lo: tuple, hi: tuple, out: Path) -> str:
    box = f"box = Box({lo!r}, {hi!r})\n"
    if way == WAYS[0]:
        return box + (
            f"las = laspy.read({str(path)!r})\n"
            "m = box.mask(np.c_[las.x, las.y, las.z])\n"
            f"with laspy.open({str(out)!r}, mode='w', header=las.header, "
            "do_compress=True) as w:\n"
            "    w.write_points(las.points[m])\n"
            "out = {'written': int(m.sum())}")
    return box + (
        f"res = clip_file({str(path)!r}, box, {str(out)!r})\n"
        "out = {'written': res.points_written, 'points_read': res.points_read, "
        "'bytes_read': res.bytes_read, 'file_bytes': res.source_bytes, "
        "'nodes': res.nodes_read, 'nodes_total': res.nodes_total}")


def _box(laz: Path) -> tuple[tuple, tuple, int]:
    import laspy

    with laspy.open(laz) as r:
        lo, hi = np.array(r.header.mins), np.array(r.header.maxs)
        total = int(r.header.point_count)
    mid = (lo + hi) / 2
    half = (hi - lo) * BOX_SIDE / 2
    return (tuple(float(v) for v in np.r_[mid[:2] - half[:2], lo[2]]),
            tuple(float(v) for v in np.r_[mid[:2] + half[:2], hi[2]]), total)


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    walls = [r["wall_s"] for r in runs]
    peaks = [r["peak"] - r["base"] for r in runs]
    return {"min": min(walls), "median": statistics.median(walls),
            "peak": max(peaks), "peak_abs": max(r["peak"] for r in runs), **runs[-1]["out"]}


def measure(points: int, reps: int, log=print,
            leaf_sizes: list[int] | None = None) -> dict[str, Any]:
    laz = ensure_laz(points, log)
    copc, index = ensure_copc(laz, points, log=log)
    lo, hi, total = _box(laz)
    out = CACHE / "clip_out.laz"
    warm = f"laspy.read({str(SOURCE)!r})"
    runs: dict[str, list[dict[str, Any]]] = {w: [] for w in WAYS}
    for rep in range(reps):
        for way, path in zip(WAYS, (laz, laz, copc), strict=True):
            r = _child(_IMPORTS, warm, _work(way, path, lo, hi, out))
            if "error" in r:
                raise RuntimeError(f"{way}: {r['error']}")
            runs[way].append(r)
            log(f"[clip] {rep + 1}/{reps} {way}: {r['wall_s']:.2f} s, peak "
                f"+{(r['peak'] - r['base']) / 2**20:.0f} MiB")
    out.unlink(missing_ok=True)
    rows = {w: _summary(v) for w, v in runs.items()}
    expected = rows[WAYS[0]]["written"]
    for w in WAYS[1:]:
        if rows[w]["written"] != expected:
            raise RuntimeError(f"{w} wrote {rows[w]['written']:,} points, the numpy mask "
                               f"keeps {expected:,}")
    base = rows[WAYS[0]]
    for r in rows.values():
        r["ratio"] = r["median"] / base["median"]
        r["peak_ratio"] = r["peak"] / max(base["peak"], 1)
    result = {"points": total, "kept": int(expected), "reps": reps, "rows": rows,
              "laz_bytes": laz.stat().st_size, "index": index}
    if leaf_sizes:
        result["leaf"] = leaf_study(laz, points, leaf_sizes, lo, hi, reps, warm, log)
    return result


def leaf_study(laz: Path, points: int, leaf_sizes: list[int], lo: tuple, hi: tuple,
               reps: int, warm: str, log=print) -> list[dict[str, Any]]:
    """Index ``laz`` with each node capacity and clip the same box from each copy."""
    out = CACHE / "clip_out.laz"
    rows = []
    for leaf in leaf_sizes:
        copc, index = ensure_copc(laz, points, leaf, log=log)
        runs = []
        for _ in range(reps):
            r = _child(_IMPORTS, warm, _work(WAYS[2], copc, lo, hi, out))
            if "error" in r:
                raise RuntimeError(f"clip COPC leaf {leaf}: {r['error']}")
            runs.append(r)
        row = {"leaf": leaf, "bytes": copc.stat().st_size, **index, **_summary(runs)}
        log(f"[clip] leaf {leaf:,}: index {index['index_s']:.1f} s, clip "
            f"{row['median']:.2f} s, {row['points_read']:,} points decoded")
        rows.append(row)
    out.unlink(missing_ok=True)
    return rows


def run(points: int, reps: int, log=print, leaf_sizes: list[int] | None = None
        ) -> dict[str, Any]:
    return measure(points, reps, log, leaf_sizes)


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def _verdict(ok: bool) -> str:
    return f"**{'met' if ok else 'NOT met'}**"


def section(result: dict[str, Any], header: str) -> str:
    rows = result["rows"]
    base, laz, copc = (rows[w] for w in WAYS)
    lines = [BEGIN, "", "# Clip export (heritage monitoring)", "", header, "",
             f"Box of 1 % of the area (full height, in the middle: it straddles the "
             f"octree's split planes at every level, the worst place for a COPC query) "
             f"from a {result['points']:,}-point LAZ "
             f"({_mib(result['laz_bytes'])} MiB; the real autzen tile copied side by side "
             f"with offsets) and from its COPC (RealScene's writer, "
             f"{result['index']['leaf']:,} points a node at most; indexing took "
             f"{result['index']['index_s']:.1f} s); {result['kept']:,} points written by "
             "each, checked equal. Each run is a fresh process; time and peak resident "
             "memory above the process at rest (VmHWM) are its own. Ratio = median / "
             "median of the whole-file read.", "",
             "| how | s (min / median) | ratio | peak MiB | points decoded | bytes read |",
             "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        decoded = f"{r['points_read']:,}" if "points_read" in r else f"{result['points']:,}"
        if "nodes_total" in r and r.get("nodes"):
            decoded += f" ({r['nodes']} of {r['nodes_total']} nodes)"
        read = f"{r['bytes_read']:,} of {r['file_bytes']:,}" if "bytes_read" in r else "all"
        lines.append(f"| {name} | {r['min']:.3g} / {r['median']:.3g} | {r['ratio']:.3f} | "
                     f"{_mib(r['peak'])} | {decoded} | {read} |")
    lines += ["",
              f"- COPC clip at least {1 / COPC_TARGET:.0f}× as fast as the whole-file read: "
              f"{_verdict(copc['ratio'] <= COPC_TARGET)} ({1 / copc['ratio']:.1f}×).",
              f"- chunked LAZ clip not slower than the whole-file read: "
              f"{_verdict(laz['ratio'] <= LAZ_TARGET)} ({laz['ratio']:.2f}×).",
              f"- chunked LAZ clip peak memory at most {MEMORY_TARGET:.0%} of the whole-file "
              f"read's: {_verdict(laz['peak_ratio'] <= MEMORY_TARGET)} "
              f"({_mib(laz['peak'])} vs {_mib(base['peak'])} MiB, "
              f"{laz['peak_ratio']:.1%})."]
    if result.get("leaf"):
        lines += ["", "## COPC node capacity (writer's `leaf_points`)", "",
                  "The same LAZ indexed with each capacity, the same box clipped from each "
                  "copy (median of the repetitions).", "",
                  "| leaf_points | index s | index peak MiB | file MiB | nodes | clip s | "
                  "points decoded | bytes read |", "|---|---|---|---|---|---|---|---|"]
        for r in result["leaf"]:
            lines.append(f"| {r['leaf']:,} | {r['index_s']:.1f} | {_mib(r['index_peak'])} | "
                         f"{r['bytes'] / 2**20:.1f} | {r['nodes_total']:,} | "
                         f"{r['median']:.3g} | {r['points_read']:,} ({r['nodes']} nodes) | "
                         f"{r['bytes_read']:,} |")
        default = next((r for r in result["leaf"] if r["leaf"] == result["index"]["leaf"]),
                       None)
        small = min(result["leaf"], key=lambda r: r["leaf"])
        if default is not None and small is not default:
            lines += ["", f"- smallest capacity ({small['leaf']:,}) against the writer's "
                      f"({default['leaf']:,}): "
                      f"{small['points_read'] / default['points_read'] - 1:+.0%} points "
                      f"decoded, {small['median'] / default['median'] - 1:+.0%} clip time, "
                      f"{small['bytes'] / default['bytes'] - 1:+.0%} file size."]
    lines += ["", END]
    return "\n".join(lines) + "\n"


def extract(text: str) -> tuple[str, str]:
    """(RESULTS.md without this benchmark's part, that part or "")."""
    return parts.extract(text, BEGIN, END)


merge = parts.merge


def main(argv: list[str] | None = None) -> dict:
    from . import synthetic

    ap = argparse.ArgumentParser(prog="python -m benchmarks.clip_bench",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="30M")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--leaf-sizes", default="",
                    help="also index with these COPC node capacities, e.g. 100k,50k,20k")
    args = ap.parse_args(argv)
    leaf = [synthetic.parse_size(s) for s in args.leaf_sizes.split(",") if s.strip()]
    result = run(synthetic.parse_size(args.points), args.reps, leaf_sizes=leaf or None)
    print(section(result, f"Standalone run, {args.reps} repetitions (printed, not "
                  "recorded)."))
    return result


if __name__ == "__main__":
    main()
