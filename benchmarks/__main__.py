"""``python -m benchmarks`` (``./run bench``): big-file benchmarks -> benchmarks/RESULTS.md.

    python -m benchmarks                      # 1M, 10M, 30M; 3 repetitions
    python -m benchmarks --sizes 1M,10M --reps 5
    python -m benchmarks --quick              # 1M only, 1 repetition (a smoke run)
    python -m benchmarks --only ttff,ingest   # a subset of: ttff ingest memory frame stall
                                              #   city ifc cityframe (city models, BIM) memscale
                                              #   exhibits (curator exports: GLB...)
                                              #   change (C2C vs open3d and CloudCompare,
                                              #   M3C2 vs py4dgeo; --change-points 5M)
                                              #   clip (box clip export from LAZ / COPC
                                              #   vs laspy.read; --clip-points 30M,
                                              #   --clip-leaf-sizes 100k,50k,25k)
                                              #   tiles (OSGB pyramid / 3D Tiles vs one
                                              #   merged mesh, window stalls while
                                              #   streaming; --osgb-tiles 10000)
                                              #   bigopen (the window opening 1M/8M LAZ
                                              #   and PLY vs laspy.read, realscene render,
                                              #   CloudCompare; --bigopen-sizes 1M,8M)
                                              #   index (`realscene index` of the 1M
                                              #   and 30M LAZ: peak RSS, time)

Synthetic data are generated once into benchmarks/data/ (gitignored) and reused.
Memory-heavy cases run one at a time. Needs a display for the UI-stall run (./run bench
starts Xvfb).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from . import (
    bigopen,
    change_bench,
    citymodels,
    clip_bench,
    exhibits,
    harness,
    index_bench,
    memscale,
    synthetic,
    tiles_bench,
)

HERE = Path(__file__).resolve().parent
POINT_CLOUDS = ("ttff", "ingest", "memory", "frame", "stall")
CITY = ("city", "ifc", "cityframe")
MEMSCALE = ("memscale",)
EXHIBITS = ("exhibits",)
CHANGE = ("change",)  # issue 18: C2C vs open3d / CloudCompare, M3C2 vs py4dgeo
CLIP = ("clip",)  # issue 18: box clip export from LAZ / COPC vs laspy.read + mask
TILES = ("tiles",)  # issue 19: OSGB pyramid / 3D Tiles vs one merged mesh, stalls
BIGOPEN = ("bigopen",)  # issue 20: the window opening big clouds vs laspy / CloudCompare
INDEX = ("index",)  # issue 20: realscene index of a 30M LAZ in bounded memory
ALL = POINT_CLOUDS + CITY + MEMSCALE + EXHIBITS + CHANGE + CLIP + TILES + BIGOPEN + INDEX


def run(sizes: list[int], reps: int, data_dir: Path, only=ALL, log=print,
        command: str = "python -m benchmarks", change_points: int | None = None,
        clip_points: int | None = None, clip_leaf_sizes: list[int] | None = None,
        osgb_tiles: int | None = None, bigopen_sizes: list[int] | None = None) -> dict:
    results: dict = {"date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
                     "command": command, "reps": reps,
                     "sizes": [synthetic.size_label(n) for n in sizes], "notes": []}
    results["machine"] = harness.machine()
    files = {}
    for n in sizes if set(only) & set(POINT_CLOUDS) else []:
        for compressed in (True, False):
            files[(n, compressed)] = synthetic.ensure(n, compressed, data_dir, log=log)
    small, big = min(sizes), max(sizes)

    def step(name, fn, *args):
        log(f"[{name}] {', '.join(str(getattr(a, 'name', a)) for a in args)}")
        t = time.perf_counter()
        out = fn(*args)
        log(f"  {time.perf_counter() - t:.1f} s: "
            + json.dumps({k: v for k, v in out.items() if k in ("ratio", "max_gap_ms")}))
        return out

    if "ttff" in only:
        results["ttff"] = {}
        for n in sizes:
            for compressed in (True, False):
                p = files[(n, compressed)]
                results["ttff"][p.name] = step("ttff", harness.measure_ttff, p, reps)
    if "ingest" in only:
        results["ingest"] = {}
        for n in sizes:
            for compressed in (True, False):
                p = files[(n, compressed)]
                results["ingest"][p.name] = step("ingest", harness.measure_ingest, p, reps)
    if "memory" in only:
        p = files[(big, True)]
        results["memory"] = step("memory", harness.measure_memory, p)
        results["memory"]["file"] = p.name
    if "frame" in only:
        ps, pb = files[(small, True)], files[(big, True)]
        results["frame"] = step("frame", harness.measure_frame, ps, pb, reps)
        results["frame"]["small"], results["frame"]["big"] = ps.name, pb.name
    if "stall" in only:
        p = files[(big, True)]
        results["stall"] = step("stall", harness.measure_stall, p)
        results["stall"]["file"] = p.name
    if set(only) & set(CITY):
        results["citymodels"] = citymodels.run(reps, data_dir, only, log=log)
    if "memscale" in only:
        results["memscale"] = memscale.run(data_dir, log=log)
    if "exhibits" in only:
        results["exhibits"] = exhibits.run(data_dir, reps, log=log)
    if "change" in only:
        # 5M vs 5M (the target size), fewer in a run of smaller sizes (--quick)
        results["change"] = change_bench.run(change_points or min(5_000_000, max(sizes)),
                                             reps, log=log)
    if "clip" in only:
        # 30M (the target size), fewer in a run of smaller sizes (--quick)
        results["clip"] = clip_bench.run(clip_points or min(30_000_000, max(sizes)), reps,
                                         log=log, leaf_sizes=clip_leaf_sizes)
    if "tiles" in only:
        # 10,000 OSGB tiles (the target), fewer when asked (--osgb-tiles)
        results["tiles"] = tiles_bench.run(data_dir, reps, log=log,
                                           osgb_tiles=osgb_tiles or tiles_bench.OSGB_TILES)
    if "bigopen" in only:
        # 1M and 8M (the sizes), fewer in a run of smaller sizes (--quick);
        # --bigopen-sizes to choose (e.g. 200k,1M)
        bo_sizes = bigopen_sizes or (bigopen.SIZES if big >= max(bigopen.SIZES)
                                     else (max(big // 8, 1000), big))
        results["bigopen"] = bigopen.run(bo_sizes, min(reps, 2), data_dir, log=log)
    if "index" in only:
        # `realscene index` of the synthetic 1M and 30M LAZ: whole-process peak and time
        results["index"] = index_bench.run(data_dir, reps, log=log)
    if big < 30_000_000 and set(only) & {"frame", "stall"}:
        results["notes"].append(
            f"largest size in this run: {synthetic.size_label(big)}; the frame-time (4) and "
            "stall (5) targets are defined for 30M — rerun `./run bench` for them.")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1M,10M,30M",
                    help="comma-separated point counts (k/M suffixes), default 1M,10M,30M")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per figure (default 3)")
    ap.add_argument("--quick", action="store_true", help="1M only, 1 repetition")
    ap.add_argument("--only", default=",".join(ALL), help="subset of " + ",".join(ALL))
    ap.add_argument("--data-dir", type=Path, default=synthetic.DATA_DIR)
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw numbers")
    ap.add_argument("--change-points", default=None,
                    help="change: points of each epoch for C2C (default 5M, at most the "
                    "largest of --sizes)")
    ap.add_argument("--clip-points", default=None,
                    help="clip: points of the LAZ to clip from (default 30M, at most the "
                    "largest of --sizes)")
    ap.add_argument("--clip-leaf-sizes", default="",
                    help="clip: also index with these COPC node capacities and clip from "
                    "each (e.g. 100k,50k,25k)")
    ap.add_argument("--osgb-tiles", type=int, default=None,
                    help="tiles: tiles of the OSGB pyramid built for it (default 10000)")
    ap.add_argument("--bigopen-sizes", default=None,
                    help="bigopen: the two point counts (default 1M,8M; --quick: 200k,1M)")
    args = ap.parse_args(argv)
    sizes = [synthetic.parse_size(s) for s in args.sizes.split(",") if s.strip()]
    reps = args.reps
    if args.quick:
        sizes, reps = [1_000_000], 1
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    bad = [s for s in only if s not in ALL]
    if bad:
        print(f"unknown measurement {bad[0]!r} (choose from {', '.join(ALL)})", file=sys.stderr)
        return 2
    if "stall" in only and not os.environ.get("DISPLAY"):
        print("the UI-stall benchmark needs a display: run it with ./run bench (Xvfb)",
              file=sys.stderr)
        return 2
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    results = run(sizes, reps, args.data_dir, only, command=command.strip(),
                  change_points=synthetic.parse_size(args.change_points)
                  if args.change_points else None,
                  clip_points=synthetic.parse_size(args.clip_points)
                  if args.clip_points else None,
                  clip_leaf_sizes=[synthetic.parse_size(s) for s in
                                   args.clip_leaf_sizes.split(",") if s.strip()] or None,
                  osgb_tiles=args.osgb_tiles,
                  bigopen_sizes=[synthetic.parse_size(s) for s in
                                 (args.bigopen_sizes or ("200k,1M" if args.quick else
                                                         "1M,8M")).split(",") if s.strip()])
    text = write_report(results, only, args.out)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(text)
    print(f"written to {args.out}")
    return 0


def write_report(results: dict, only, out: Path) -> str:
    """Write RESULTS.md: the parts this run measured replace the old ones; a part not
    run (e.g. the point clouds in ``--only city,ifc``) is kept as it was."""
    pc = harness.report(results) if set(only) & set(POINT_CLOUDS) else None
    city = None
    if set(only) & set(CITY):
        machine = "; ".join(f"{k}: {v}" for k, v in results["machine"].items())
        city = citymodels.section(
            results["citymodels"],
            f"Run {results['date']} with `{results['command']}`; {results['reps']} "
            f"repetitions per figure, interleaved with the baseline in the same process. "
            f"Machine: {machine}.")
    existing = out.read_text() if out.exists() else ""
    # the parts each benchmark owns between markers: kept as they were unless it ran
    owned = {"exhibits": exhibits, "change": change_bench, "clip": clip_bench,
             "tiles": tiles_bench, "bigopen": bigopen, "index": index_bench}
    old_parts = {}
    for name, module in owned.items():
        existing, old_parts[name] = module.extract(existing)
    rest, marker, old_mem = existing.partition(memscale.MARKER)
    text = citymodels.merge(rest, pc, city)
    machine = "; ".join(f"{k}: {v}" for k, v in results["machine"].items())
    if "memscale" in only:
        mem = memscale.section(results["memscale"],
                               f"Run {results['date']} with `{results['command']}`. "
                               f"Machine: {machine}.")
    else:
        mem = marker + old_mem
    if mem:
        text = memscale.merge(text, mem)
    for name, module in owned.items():
        block = old_parts[name]
        if name in only:
            median = "" if name in ("exhibits", "bigopen") else \
                f"; median of {results['reps']} run(s)"
            block = module.section(results[name], f"Run {results['date']} with "
                                   f"`{results['command']}`{median}. Machine: {machine}.")
        text = module.merge(text, block)
    out.write_text(text)
    return text


if __name__ == "__main__":
    sys.exit(main())
