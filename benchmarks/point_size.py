"""Frame time of the point sizes (issue 17): fixed squares vs the adaptive size (vertex
shader, :mod:`viewer.pointsize`) with square and round splats, and, for the choice of
technique, vtkPointGaussianMapper with a per-point scale array in world units (the other
way to make splats grow with closeness).

    python -m benchmarks.point_size [--copies 8] [--frames 5] [--size 1280x800]

The cloud is the AHN3 sample scan (/work/shared/data or $REALSCENE_SHARED_DATA) laid
``copies`` times side by side (208,432 points each: 1.67M for 8), with a point budget of
all the points (the level of detail still draws only what the view needs), off screen
(EGL; llvmpipe on the project's machines). Two views: the whole cloud from above
(adaptive points at their minimum size) and a close-up of one copy (adaptive points
large enough to close the surface). Per case: the median of ``frames`` renders after
one warm-up, and the first frame after new points were handed over (what a
level-of-detail change costs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("REALSCENE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _cloud(copies: int):
    from loaders import PointCloud, read

    scan = read(DATA / "pointclouds" / "ahn3_cropped_2.laz")
    lo, hi = (np.asarray(b) for b in scan.bounds)
    width = float(hi[0] - lo[0]) + 5.0
    pos = np.concatenate([scan.positions + np.float32([i * width, 0, 0])
                          for i in range(copies)])
    attrs = {k: np.concatenate([v] * copies) for k, v in scan.attributes.items()}
    return PointCloud(pos, scan.origin, attrs, scan.crs, dict(scan.metadata)), scan


def _frame(plotter) -> None:
    """One frame, finished (pyvista's render() may skip off-screen frames)."""
    ren_win = plotter.ren_win
    ren_win.Render()
    ren_win.WaitForCompletion()


def _time(plotter, frames: int) -> float:
    _frame(plotter)  # warm-up (shader compile)
    out = []
    for _ in range(frames):
        t = time.perf_counter()
        _frame(plotter)
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def _views(renderer, plotter, scan):
    lo, hi = (np.asarray(b) for b in scan.bounds)
    c = (lo + hi) / 2

    def close() -> None:
        cam = plotter.renderer.GetActiveCamera()
        cam.SetFocalPoint(*renderer.to_local([c[0], c[1], lo[2]]))
        cam.SetPosition(*renderer.to_local([c[0], c[1] - 15, lo[2] + 25]))
        cam.SetViewUp(0, 0, 1)
        plotter.renderer.ResetCameraClippingRange()

    return {"whole (top)": lambda: renderer.view_preset("top"), "close-up": close}


def run(copies: int = 8, frames: int = 5, size: tuple[int, int] = (1280, 800)) -> dict:
    import pyvista as pv

    from viewer.render import SceneRenderer
    from viewer.scene import Scene

    cloud, scan = _cloud(copies)
    n = cloud.point_count
    results: dict = {"points": n, "size": list(size), "rows": []}
    plotter = pv.Plotter(off_screen=True, window_size=size)
    scene = Scene()
    renderer = SceneRenderer(plotter, scene, point_budget=n + 1)
    layer = scene.add(cloud, name="ahn3 x%d" % copies)
    views = _views(renderer, plotter, scan)
    cases = [("fixed", "square"), ("adaptive", "square"), ("adaptive", "round"),
             ("fixed", "round")]
    for view, set_view in views.items():
        set_view()
        renderer.update_lod(force=True)
        for mode, shape in cases:
            scene.update(layer, point_size_mode=mode, point_shape=shape)
            seconds = _time(plotter, frames)
            renderer._entries[layer.id].drawn_sig = None  # hand the points over again
            t = time.perf_counter()
            renderer.update_lod(force=True)
            _frame(plotter)
            first = time.perf_counter() - t
            sizes = renderer.point_pixel_sizes(layer)
            if view == "whole (top)" and mode == "adaptive" and shape == "square":
                entry = renderer._entries[layer.id]  # every point: for the Gaussian mapper
                whole = (entry.points.copy(), entry.spacing.copy(), np.array(
                    entry.mapper.GetInput().GetPointData().GetArray("rgb")))
            results["rows"].append({"view": view, "technique": f"{mode} {shape}",
                                    "drawn": renderer.drawn_points, "frame_s": seconds,
                                    "new_points_frame_s": first,
                                    "median_px": float(np.median(sizes))})
    # vtkPointGaussianMapper, the same points, scale = the same per-point world spacing
    pts, spacing, rgb = whole
    renderer.close()
    plotter.close()
    results["rows"] += _gaussian(pts, rgb, spacing, size, frames, scan, views_of=cloud)
    return results


def _gaussian(pts, rgb, spacing, size, frames, scan, views_of) -> list:
    import pyvista as pv
    from vtkmodules.vtkRenderingCore import vtkActor
    from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLPointGaussianMapper

    from viewer.render import SceneRenderer
    from viewer.scene import Scene

    rows = []
    for shape in ("square", "round"):
        plotter = pv.Plotter(off_screen=True, window_size=size)
        # a renderer only for the views' cameras (same origin and framing)
        scene = Scene()
        helper = SceneRenderer(plotter, scene, point_budget=1)
        scene.add(views_of, name="frame")
        for a in list(plotter.renderer.GetActors()):
            a.SetVisibility(False)
        poly = pv.PolyData(pts)
        poly.point_data["rgb"] = rgb
        poly.point_data["scale"] = (0.5 * spacing).astype(np.float32)  # radius
        mapper = vtkOpenGLPointGaussianMapper()
        mapper.SetInputData(poly)
        mapper.SetScaleArray("scale")
        mapper.SetScalarModeToUsePointFieldData()
        mapper.SelectColorArray("rgb")
        mapper.SetColorModeToDirectScalars()
        mapper.EmissiveOff()
        if shape == "square":
            mapper.SetSplatShaderCode(
                "//VTK::Color::Impl\n")  # the whole quad: a square splat
        else:
            mapper.SetSplatShaderCode(
                "//VTK::Color::Impl\nfloat dist = dot(offsetVCVSOutput.xy,"
                "offsetVCVSOutput.xy);\nif (dist > 1.0) { discard; }\n")
        actor = vtkActor()
        actor.SetMapper(mapper)
        plotter.renderer.AddActor(actor)
        for view, set_view in _views(helper, plotter, scan).items():
            set_view()
            seconds = _time(plotter, frames)
            poly.Modified()
            t = time.perf_counter()
            _frame(plotter)
            first = time.perf_counter() - t
            rows.append({"view": view, "technique": f"vtkPointGaussianMapper {shape}",
                         "drawn": len(pts), "frame_s": seconds,
                         "new_points_frame_s": first, "median_px": float("nan")})
        helper.close()
        plotter.close()
    return rows


def report(results: dict) -> str:
    lines = [f"{results['points']:,} points (AHN3 sample x copies), budget = all points, "
             f"{results['size'][0]}x{results['size'][1]}, off screen",
             "", "| view | technique | points drawn | frame (s) | frame with new points (s) "
             "| median size (px) |", "|---|---|---|---|---|---|"]
    for r in results["rows"]:
        px = "" if r["median_px"] != r["median_px"] else f"{r['median_px']:.1f}"
        lines.append(f"| {r['view']} | {r['technique']} | {r['drawn']:,} | {r['frame_s']:.3f} | "
                     f"{r['new_points_frame_s']:.3f} | {px} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--size", default="1280x800")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    print(report(run(args.copies, args.frames, (w, h))))


if __name__ == "__main__":
    main()
