"""Clip export of a box: from a big LAZ (chunked) and from its COPC (touched nodes only)
against reading the whole file with ``laspy.read`` and masking with numpy.

    python -m benchmarks --only clip [--clip-points 30M]
    python -m benchmarks.clip_bench --points 30M     # alone, prints the numbers

The big LAZ is built once from the real autzen tile (../shared/data) copied side by side
with offsets into ``~/.cache/realscene-bench`` (outside the repo), its COPC with the
project's writer (loaders.writers.copc). The box is 1 % of the area in the middle.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

BEGIN = "<!-- clip-bench:begin -->"
END = "<!-- clip-bench:end -->"
CACHE = Path(os.environ.get("REALSCENE_BENCH_CACHE",
                            Path.home() / ".cache" / "realscene-bench"))
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "pointclouds" / \
    "autzen_trim.laz"


def ensure_data(points: int, log=print) -> tuple[Path, Path]:
    """(big LAZ, its COPC) of about ``points`` points, built once into CACHE."""
    import laspy

    from loaders.writers.copc import write_copc

    CACHE.mkdir(parents=True, exist_ok=True)
    laz = CACHE / f"autzen_tiled_{points}.laz"
    copc = CACHE / f"autzen_tiled_{points}.copc.laz"
    if not laz.exists():
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
    if not copc.exists():
        log(f"[clip] indexing {copc}")
        write_copc(laz, copc)
    return laz, copc


def measure(points: int, reps: int, log=print) -> dict[str, Any]:
    import laspy

    from heritage.monitoring.clip import Box, clip_file

    laz, copc = ensure_data(points, log)
    with laspy.open(laz) as r:
        lo, hi = np.array(r.header.mins), np.array(r.header.maxs)
        total = r.header.point_count
    mid = (lo + hi) / 2
    half = (hi - lo) * 0.05  # 10 % of each side: 1 % of the area
    box = Box(tuple(np.r_[mid[:2] - half[:2], lo[2]]), tuple(np.r_[mid[:2] + half[:2], hi[2]]))
    out = CACHE / "clip_out.laz"
    rows: dict[str, list[float]] = {"laspy.read + mask": [], "clip LAZ": [], "clip COPC": []}
    info: dict[str, Any] = {}
    for _ in range(reps):
        t = time.perf_counter()
        las = laspy.read(laz)
        m = box.mask(np.c_[las.x, las.y, las.z])
        kept = las.points[m]
        rows["laspy.read + mask"].append(time.perf_counter() - t)
        expected = len(kept)
        del las, kept
        for name, path in (("clip LAZ", laz), ("clip COPC", copc)):
            t = time.perf_counter()
            res = clip_file(path, box, out)
            rows[name].append(time.perf_counter() - t)
            assert res.points_written == expected, (name, res.points_written, expected)
            info[name] = {"points_read": res.points_read, "bytes_read": res.bytes_read,
                          "file_bytes": res.source_bytes, "nodes": res.nodes_read}
    out.unlink(missing_ok=True)
    base = statistics.median(rows["laspy.read + mask"])
    return {"points": int(total), "kept": int(expected), "reps": reps,
            "rows": {k: {"min": min(v), "median": statistics.median(v),
                         "ratio": statistics.median(v) / base, **info.get(k, {})}
                     for k, v in rows.items()}}


def run(points: int, reps: int, log=print) -> dict[str, Any]:
    return measure(points, reps, log)


def section(result: dict[str, Any], header: str) -> str:
    lines = [BEGIN, "", "# Clip export (heritage monitoring)", "", header, "",
             f"Box of 1 % of the area (full height) from a {result['points']:,}-point LAZ "
             f"(the real autzen tile copied side by side with offsets) and from its COPC "
             f"(RealScene's writer); {result['kept']:,} points written, checked equal to "
             f"the numpy mask. Ratio = median / median of `laspy.read` + mask.", "",
             "| how | s (min / median) | ratio | points decoded | bytes read |",
             "|---|---|---|---|---|"]
    for name, r in result["rows"].items():
        decoded = f"{r['points_read']:,}" if "points_read" in r else f"{result['points']:,}"
        read = f"{r['bytes_read']:,} of {r['file_bytes']:,}" if "bytes_read" in r else "all"
        lines.append(f"| {name} | {r['min']:.3g} / {r['median']:.3g} | {r['ratio']:.3f} | "
                     f"{decoded} | {read} |")
    copc = result["rows"]["clip COPC"]["ratio"]
    lines += ["", f"Target: clip from COPC much faster than the whole-file read: "
              f"**{'met' if copc < 0.2 else 'NOT met'}** ({1 / copc:.2f}× as fast).", "", END]
    return "\n".join(lines) + "\n"


def extract(text: str) -> tuple[str, str]:
    before, marker, rest = text.partition(BEGIN)
    if not marker:
        return text, ""
    block, end, after = rest.partition(END)
    return (before.rstrip() + "\n" + after.lstrip("\n")).rstrip() + "\n", \
        marker + block + end + "\n"


def merge(text: str, block: str) -> str:
    return text.rstrip() + "\n\n" + block.strip() + "\n" if block else text


def main(argv: list[str] | None = None) -> dict:
    from . import synthetic

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="30M")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    result = run(synthetic.parse_size(args.points), args.reps)
    print(section(result, "(printed, not recorded)"))
    return result


if __name__ == "__main__":
    main()
