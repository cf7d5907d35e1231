"""``realscene index`` of a big LAZ: peak memory and time of the whole process (issue 20).

    python -m benchmarks --only index                 # part of the report
    python -m benchmarks.index_bench --write          # alone, records its part

The synthetic 1M- and 30M-point LAZ files (:func:`benchmarks.synthetic.ensure`) are indexed
to COPC by the real CLI (``viewer.cli.main(["index", FILE, "-o", OUT])``) in a fresh
Python process; its peak resident memory is the whole process's own high-water mark
(VmHWM, noted at exit), its time the wall clock from start to exit. For scale, a process
that only runs ``laspy.read`` on the same file is measured the same way. The output is
checked: laspy's CopcReader opens it and counts every point.

Targets (issue 20): indexing runs in bounded memory — the whole process peaks at most
1 GiB on the 30M file, and the peak grows by at most 10 bytes a point from 1M to 30M.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import parts

BEGIN = "<!-- index-bench:begin -->"
END = "<!-- index-bench:end -->"
ROOT = Path(__file__).resolve().parents[1]
SIZES = (1_000_000, 30_000_000)
PEAK_TARGET = 2**30  # whole-process peak at the largest size
MARGINAL_TARGET = 10.0  # bytes a point, between the smallest and the largest size


#: run first in every child: at exit it notes the process's own peak (VmHWM of its fresh
#: address space; ``ru_maxrss`` from ``wait4`` would also count the parent's pages when the
#: child is started by vfork/fork + exec)
_PEAK = """import atexit
def _peak():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                with open({out!r}, "w") as o:
                    o.write(line.split()[1])
atexit.register(_peak)
"""


def _child(code: str, timeout: float = 3600) -> dict[str, Any]:
    """Run ``code`` in a fresh Python; its wall time, peak resident bytes (its own VmHWM)
    and the last line of its stderr."""
    with tempfile.TemporaryDirectory(prefix="realscene-index-bench-peak-") as tmp:
        peak_file = Path(tmp) / "peak"
        cmd = [sys.executable, "-c", _PEAK.format(out=str(peak_file)) + code]
        err = Path(tmp) / "stderr"
        with open(err, "wb") as fh:
            t = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=fh,
                                  timeout=timeout)
            wall = time.perf_counter() - t
        lines = err.read_text("utf-8", "replace").strip().splitlines() or [""]
        tail = lines[-1][:300]
        peak = int(peak_file.read_text()) * 1024 if peak_file.exists() else 0
    out = {"wall_s": wall, "peak": peak, "last_line": tail}
    if proc.returncode != 0 or not peak:
        out["error"] = f"exit {proc.returncode}: {tail}"
    return out


def measure(path: Path, n: int, reps: int, log=print) -> dict[str, Any]:
    import laspy

    index_runs, read_runs = [], []
    with tempfile.TemporaryDirectory(prefix="realscene-index-bench-") as tmp:
        out = Path(tmp) / "out.copc.laz"
        for rep in range(reps):
            r = _child("import sys\nfrom viewer.cli import main\n"
                       f"sys.exit(main(['index', {str(path)!r}, '-o', {str(out)!r}]))")
            if "error" in r:
                return {"points": n, "error": r["error"]}
            with laspy.CopcReader.open(str(out)) as reader:
                assert reader.header.point_count == n, reader.header.point_count
            r["out_bytes"] = out.stat().st_size
            index_runs.append(r)
            log(f"  index {path.name} #{rep + 1}: {r['wall_s']:.1f} s, peak "
                f"{r['peak'] / 2**20:.0f} MiB ({r['last_line']})")
            out.unlink()
            b = _child(f"import laspy\nlaspy.read({str(path)!r})")
            if "error" not in b:
                read_runs.append(b)
                log(f"  laspy.read #{rep + 1}: {b['wall_s']:.1f} s, peak "
                    f"{b['peak'] / 2**20:.0f} MiB")
    med = statistics.median
    result = {"points": n, "file": path.name, "file_bytes": path.stat().st_size,
              "index_s": med(r["wall_s"] for r in index_runs),
              "index_s_min": min(r["wall_s"] for r in index_runs),
              "peak": med(r["peak"] for r in index_runs),
              "out_bytes": index_runs[-1]["out_bytes"],
              "summary": index_runs[-1]["last_line"]}
    if read_runs:
        result["read_s"] = med(r["wall_s"] for r in read_runs)
        result["read_peak"] = med(r["peak"] for r in read_runs)
    return result


def run(data_dir: Path | None = None, reps: int = 1, sizes=SIZES, log=print) -> dict:
    from . import synthetic

    rows = []
    for n in sizes:
        path = synthetic.ensure(n, True, data_dir, log=log)
        log(f"[index] {path.name}")
        rows.append(measure(path, n, reps, log=log))
    return {"rows": rows, "reps": reps}


def _verdict(ok: bool) -> str:
    return f"**{'met' if ok else 'NOT met'}**"


def section(result: dict[str, Any], header: str) -> str:
    rows = result["rows"]
    lines = [BEGIN, "", "# Indexing a big LAZ to COPC (`realscene index`)", "", header, "",
             "The real CLI in a fresh Python process (`viewer.cli.main(['index', FILE, "
             "'-o', OUT])`; "
             "out of core: decoded chunk by chunk into bucket files, the octree built a "
             "unit at a time, loaders/writers/copc.py); peak = the whole process's peak "
             "resident memory (its VmHWM at exit), time = wall clock to exit. For scale, a process "
             "that only runs `laspy.read` on the same file. Before issue 20 the writer held "
             "the whole cloud (the issue reports ~7.6 GiB, ~250 B/pt, for the 30M file; "
             "not re-measured here).", "",
             "| file | points | index s | index peak MiB | B/pt | laspy.read s | "
             "laspy.read peak MiB | COPC MiB |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| – | {r['points']:,} | – | – | – | – | – | {r['error']} |")
            continue
        lines.append(f"| {r['file']} | {r['points']:,} | {r['index_s']:.1f} | "
                     f"{r['peak'] / 2**20:,.0f} | {r['peak'] / r['points']:.1f} | "
                     f"{r.get('read_s', float('nan')):.1f} | "
                     f"{r.get('read_peak', 0) / 2**20:,.0f} | {r['out_bytes'] / 2**20:.0f} |")
    good = [r for r in rows if "error" not in r]
    if len(good) >= 2:
        small, big = min(good, key=lambda r: r["points"]), max(good, key=lambda r: r["points"])
        marginal = (big["peak"] - small["peak"]) / (big["points"] - small["points"])
        lines += ["",
                  f"- bounded: peak ≤ 1 GiB at {big['points'] / 1e6:.0f}M: "
                  f"{_verdict(big['peak'] <= PEAK_TARGET)} ({big['peak'] / 2**20:,.0f} MiB).",
                  f"- marginal peak {small['points'] / 1e6:.0f}M → "
                  f"{big['points'] / 1e6:.0f}M ≤ {MARGINAL_TARGET:.0f} B/pt: "
                  f"{_verdict(marginal <= MARGINAL_TARGET)} ({marginal:.1f} B/pt).",
                  f"- time against `laspy.read` alone at {big['points'] / 1e6:.0f}M: "
                  f"{big['index_s'] / big['read_s']:.1f}× (no target; the writer decodes, "
                  "sorts and compresses everything once more)." if "read_s" in big else ""]
    lines += ["", END]
    return "\n".join(ln for ln in lines if ln is not None) + "\n"


def extract(text: str) -> tuple[str, str]:
    """(RESULTS.md without this benchmark's part, that part or "")."""
    return parts.extract(text, BEGIN, END)


merge = parts.merge


def main(argv: list[str] | None = None) -> dict:
    import datetime as dt

    from . import harness, synthetic

    ap = argparse.ArgumentParser(prog="python -m benchmarks.index_bench",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,30M")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--write", action="store_true",
                    help="record the part in benchmarks/RESULTS.md (else print it)")
    args = ap.parse_args(argv)
    sizes = [synthetic.parse_size(s) for s in args.sizes.split(",") if s.strip()]
    result = run(reps=args.reps, sizes=sizes)
    machine = "; ".join(f"{k}: {v}" for k, v in harness.machine().items())
    command = "python -m benchmarks.index_bench " + " ".join(
        argv if argv is not None else sys.argv[1:])
    text = section(result, f"Run {dt.datetime.now():%Y-%m-%d %H:%M} with "
                   f"`{command.strip()}`; median of {args.reps} run(s). Machine: {machine}.")
    if args.write:
        out = Path(__file__).resolve().parent / "RESULTS.md"
        rest, _ = extract(out.read_text() if out.exists() else "")
        out.write_text(merge(rest, text))
    print(text)
    return result


if __name__ == "__main__":
    main()
