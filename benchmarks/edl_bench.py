"""Per-frame cost of eye-dome lighting at 1280x800 (``python -m benchmarks.edl_bench``).

Renders one synthetic cloud (a terrain with a step, ``--points`` points) in an
off-screen plotter at 1280x800, no MSAA (as the window), and times ``--frames`` renders
each: no EDL, VTK's ``vtkEDLShading`` (pyvista's enable_eye_dome_lighting), and
RealScene's own EDL (:mod:`viewer.edl`, read back + numpy + write back after the frame),
plus the numpy shading alone. Prints medians in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def cloud(n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 100, (n, 2))
    z = np.sin(xy[:, 0] / 7) * 3 + np.where(xy[:, 1] > 50, 8.0, 0.0)
    return np.c_[xy, z].astype(np.float32)


def main(argv: list[str] | None = None) -> dict:
    import pyvista as pv

    from loaders import PointCloud
    from viewer import edl
    from viewer.render import SceneRenderer
    from viewer.scene import Scene

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--frames", type=int, default=15)
    args = ap.parse_args(argv)
    pts = cloud(args.points)
    scene = Scene()
    scene.add(PointCloud(positions=pts, origin=np.zeros(3),
                         attributes={"rgb": np.full((len(pts), 3), 180, np.uint8)}), name="c")
    pl = pv.Plotter(off_screen=True, window_size=(1280, 800))
    pl.ren_win.SetMultiSamples(0)
    r = SceneRenderer(pl, scene, point_budget=args.points)
    r.view_preset("iso")

    def frames() -> float:
        pl.ren_win.Render()
        times = []
        for i in range(args.frames):
            pl.camera.azimuth = pl.camera.azimuth + 0.5 * (1 if i % 2 else -1)
            t = time.perf_counter()
            pl.ren_win.Render()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000

    out = {"points": args.points, "size": "1280x800"}
    out["no EDL ms"] = frames()
    pl.enable_eye_dome_lighting()
    out["vtkEDLShading ms"] = frames()
    pl.disable_eye_dome_lighting()
    scene.set_edl(True)
    out["viewer.edl ms"] = frames()
    z = np.ones((800, 1280), np.float32)
    z[100:700] = np.random.default_rng(2).uniform(0.3, 0.9, (600, 1280))
    rgb = np.full((800, 1280, 4), 180, np.uint8)
    t = time.perf_counter()
    for _ in range(args.frames):
        edl.shade(rgb, z, 1.0, 500.0)
    out["numpy shade alone ms"] = (time.perf_counter() - t) / args.frames * 1000
    r.close()
    pl.close()
    for k, v in out.items():
        print(f"{k:24s} {v:.1f}" if isinstance(v, float) else f"{k:24s} {v}")
    return out


if __name__ == "__main__":
    main()
