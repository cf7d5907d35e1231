"""Change between epochs: C2C of 5M vs 5M points against open3d and CloudCompare, M3C2
against py4dgeo called directly.

    python -m benchmarks --only change [--change-points 5M]
    python -m benchmarks.change_bench --points 5M      # alone, prints the numbers

Epoch A is the real AHN3 tile (../shared/data) copied side by side with offsets up to the
size asked; epoch B is A with 2 cm noise on every coordinate and one 10 x 10 m patch per
copy raised 0.15 m. The arrays are built in memory (the same float64 arrays go to ours
and to open3d); for CloudCompare (Debian's ``cloudcompare``, which reads no LAS/LAZ: its
PDAL plugin is not packaged) they are written once as binary PLY (float64, relative to the
tiles' corner) into ``~/.cache/realscene-bench``. CloudCompare runs ``-SILENT -AUTO_SAVE
OFF -O B.ply -O A.ply -C2C_DIST`` under xvfb-run when there is no display; its own printed
computation times (approximate + exact distances) are compared, and the whole process's
wall time (loading PLY included) is given beside them.

Ours and each Python baseline are timed interleaved after one warm-up call each (median of
the repetitions), so the load of a shared machine falls on both.

Targets (issue 18): C2C at most 1.0x open3d and CloudCompare; M3C2 at most 1.1x py4dgeo.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import parts

BEGIN = "<!-- change-bench:begin -->"
END = "<!-- change-bench:end -->"
CACHE = Path(os.environ.get("REALSCENE_BENCH_CACHE",
                            Path.home() / ".cache" / "realscene-bench"))
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "pointclouds" / \
    "ahn3_cropped_2.laz"
M3C2_POINTS = 1_000_000
M3C2_CORE_SPACING = 2.0
M3C2_PARAMS = {"normal_radii": [0.5, 1.0, 2.0], "cyl_radius": 0.5, "max_distance": 5.0}


def epochs(points: int) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) float64 (N, 3) of about ``points`` points each, relative to the corner."""
    import laspy

    las = laspy.read(str(SOURCE))
    xyz = np.column_stack([np.asarray(las.x, np.float64), np.asarray(las.y, np.float64),
                           np.asarray(las.z, np.float64)])
    xyz -= xyz.min(axis=0) * np.array([1.0, 1.0, 0.0])
    span = xyz.max(axis=0) + 1.0
    copies = max(1, -(-points // len(xyz)))
    cols = int(np.ceil(np.sqrt(copies)))
    parts = [xyz + np.array([(i % cols) * span[0], (i // cols) * span[1], 0.0])
             for i in range(copies)]
    a = np.concatenate(parts)[:points]
    rng = np.random.default_rng(18)
    b = a + rng.normal(0.0, 0.02, a.shape)
    local = np.mod(a[:, :2], span[:2])
    patch = (np.abs(local[:, 0] - 31.0) < 5.0) & (np.abs(local[:, 1] - 37.8) < 5.0)
    b[patch, 2] += 0.15
    return a, b


def _ply(path: Path, xyz: np.ndarray) -> Path:
    import plyfile

    if not path.exists():
        v = np.empty(len(xyz), dtype=[("x", "<f8"), ("y", "<f8"), ("z", "<f8")])
        v["x"], v["y"], v["z"] = xyz.T
        tmp = path.with_suffix(".tmp")
        plyfile.PlyData([plyfile.PlyElement.describe(v, "vertex")]).write(str(tmp))
        os.replace(tmp, path)
    return path


def _median(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _interleaved(fns: dict[str, Callable[[], Any]], reps: int) -> dict[str, tuple[float, Any]]:
    """Median seconds and last result of each function: one untimed warm-up call each,
    then the repetitions alternate between them (the machine's load falls on both)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    outs: dict[str, Any] = {}
    for _ in range(reps):
        for k, fn in fns.items():
            t = time.perf_counter()
            outs[k] = fn()
            times[k].append(time.perf_counter() - t)
    return {k: (statistics.median(times[k]), outs[k]) for k in fns}


def cloudcompare(a_ply: Path, b_ply: Path) -> dict[str, float] | None:
    """CloudCompare's C2C of B (compared) to A (reference): its printed times and the
    process's wall time; None when CloudCompare is not installed."""
    exe = shutil.which("CloudCompare") or shutil.which("cloudcompare")
    if exe is None:
        return None
    cmd = [exe, "-SILENT", "-AUTO_SAVE", "OFF", "-O", str(b_ply), "-O", str(a_ply),
           "-C2C_DIST"]
    if not os.environ.get("DISPLAY"):
        cmd = ["xvfb-run", "-a", *cmd]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t
    log = proc.stdout + proc.stderr
    times = [float(v) for v in re.findall(r"\[(?:computeApproxDistances|ComputeDistances)\] "
                                          r"Time: ([0-9.]+) s", log)]
    mean = re.search(r"Mean distance = ([-0-9.e]+)", log)
    if not times:
        raise RuntimeError(f"CloudCompare printed no distance time: {log[-400:]}")
    return {"compute_s": sum(times), "wall_s": wall,
            "mean": float(mean.group(1)) if mean else float("nan")}


def measure(points: int, reps: int, log=print) -> dict[str, Any]:
    import open3d as o3d
    import py4dgeo

    from heritage.monitoring.change import c2c, m3c2, voxel_corepoints

    log(f"[change] building epochs of {points:,} points")
    a, b = epochs(points)
    out: dict[str, Any] = {"points": len(a), "reps": reps}
    def o3d_c2c() -> np.ndarray:
        pa = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(a))
        pb = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(b))
        return np.asarray(pb.compute_point_cloud_distance(pa))

    log("[change] C2C ours and open3d, interleaved")
    timed = _interleaved({"ours": lambda: c2c(a, b), "open3d": o3d_c2c}, reps)
    (out["ours_s"], ours), (out["open3d_s"], ref) = timed["ours"], timed["open3d"]
    out["max_diff_open3d"] = float(np.abs(ours - ref).max())
    CACHE.mkdir(parents=True, exist_ok=True)
    a_ply = _ply(CACHE / f"change_a_{len(a)}.ply", a)
    b_ply = _ply(CACHE / f"change_b_{len(b)}.ply", b)
    log("[change] C2C CloudCompare")
    runs = [cloudcompare(a_ply, b_ply) for _ in range(reps)]
    if runs[0] is not None:
        out["cc_s"] = statistics.median(r["compute_s"] for r in runs)
        out["cc_wall_s"] = statistics.median(r["wall_s"] for r in runs)
        out["cc_mean"] = runs[0]["mean"]
        out["ours_mean"] = float(ours.mean())

        def ours_from_files() -> None:  # the same PLY files read with plyfile, then C2C
            import plyfile

            def read(p: Path) -> np.ndarray:
                v = plyfile.PlyData.read(str(p))["vertex"].data
                return np.column_stack([v["x"], v["y"], v["z"]])

            c2c(read(a_ply), read(b_ply))

        out["ours_wall_s"], _ = _median(ours_from_files, reps)
    # M3C2 on a smaller pair (py4dgeo on 2 cores), core points a 2 m voxel subsample of B
    n = min(M3C2_POINTS, len(a))
    ma, mb = a[:n], b[:n]
    core = mb[voxel_corepoints(mb, M3C2_CORE_SPACING)]
    out["m3c2_points"], out["m3c2_core"] = n, len(core)
    def direct() -> np.ndarray:
        algo = py4dgeo.M3C2(epochs=(py4dgeo.Epoch(ma), py4dgeo.Epoch(mb)), corepoints=core,
                            **M3C2_PARAMS)
        return algo.run()[0]

    log(f"[change] M3C2 ours and py4dgeo direct, interleaved ({n:,} points, "
        f"{len(core):,} core points)")
    timed = _interleaved({"ours": lambda: m3c2(ma, mb, core, **M3C2_PARAMS),
                          "py4dgeo": direct}, reps)
    (out["m3c2_ours_s"], (d, _, _)), (out["m3c2_py4dgeo_s"], ref_d) = \
        timed["ours"], timed["py4dgeo"]
    with np.errstate(invalid="ignore"):
        out["m3c2_same"] = float(np.mean((np.abs(d - ref_d) <= 1e-9)
                                         | (np.isnan(d) & np.isnan(ref_d))))
    return out


def run(points: int, reps: int, log=print) -> dict[str, Any]:
    return measure(points, reps, log=log)


def _verdict(ratio: float, target: float) -> str:
    return f"**{'met' if ratio <= target else 'NOT met'}** ({ratio:.2f}×, target ≤ {target}×)"


def section(r: dict[str, Any], header: str) -> str:
    lines = [BEGIN, "", "# Change between epochs (C2C, M3C2)", "", header, "",
             "| what | RealScene s | baseline s | baseline |", "|---|---|---|---|",
             f"| C2C {r['points']:,} vs {r['points']:,} points | {r['ours_s']:.2f} | "
             f"{r['open3d_s']:.2f} | open3d compute_point_cloud_distance |"]
    if "cc_s" in r:
        lines.append(f"| C2C {r['points']:,} vs {r['points']:,} points | {r['ours_s']:.2f} | "
                     f"{r['cc_s']:.2f} | CloudCompare -C2C_DIST (its printed times) |")
        lines.append(f"| the same from the PLY files (whole process) | {r['ours_wall_s']:.2f} "
                     f"| {r['cc_wall_s']:.2f} | CloudCompare process wall time |")
    lines.append(f"| M3C2 {r['m3c2_points']:,} vs {r['m3c2_points']:,} points, "
                 f"{r['m3c2_core']:,} core points | {r['m3c2_ours_s']:.2f} | "
                 f"{r['m3c2_py4dgeo_s']:.2f} | py4dgeo M3C2 called directly |")
    lines += ["", f"- C2C vs open3d: {_verdict(r['ours_s'] / r['open3d_s'], 1.0)}; largest "
              f"difference of the distances {r['max_diff_open3d']:.1e} m."]
    if "cc_s" in r:
        lines.append(f"- C2C vs CloudCompare: {_verdict(r['ours_s'] / r['cc_s'], 1.0)} on "
                     f"the computation; whole process from the files "
                     f"{r['ours_wall_s'] / r['cc_wall_s']:.2f}×. Mean distance "
                     f"{r['ours_mean']:.6f} m (ours) vs {r['cc_mean']:.6f} m (CloudCompare, "
                     "float32 coordinates).")
    else:
        lines.append("- C2C vs CloudCompare: not measured (CloudCompare is not installed; "
                     "`./run` installs Debian's `cloudcompare` as root).")
    lines.append(f"- M3C2 vs py4dgeo: "
                 f"{_verdict(r['m3c2_ours_s'] / r['m3c2_py4dgeo_s'], 1.1)}; "
                 f"{100 * r['m3c2_same']:.2f} % of the core points give the same value "
                 "(py4dgeo 1.2.0 itself varies run to run on a few core points).")
    lines += ["", END]
    return "\n".join(lines) + "\n"


def extract(text: str) -> tuple[str, str]:
    """(RESULTS.md without this benchmark's part, that part or "")."""
    return parts.extract(text, BEGIN, END)


merge = parts.merge


def main(argv: list[str] | None = None) -> dict:
    from .synthetic import parse_size

    ap = argparse.ArgumentParser(prog="python -m benchmarks.change_bench")
    ap.add_argument("--points", default="5M")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    result = run(parse_size(args.points), args.reps)
    print(section(result, f"Standalone run, {args.reps} repetitions."))
    return result


if __name__ == "__main__":
    main()
