"""Camera of a VTK renderer: standard views, framing bounds, projection to the display,
and the copy to / from :class:`viewer.scene.Camera` (true coordinates).

Functions take the VTK renderer (``plotter.renderer``) and work in scene-local
coordinates; ``origin`` is the scene origin (float64) that turns local into true
coordinates. They import no VTK module: they only call the renderer's and camera's
methods. :class:`viewer.render.SceneRenderer` composes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .scene import Camera

PRESETS = ("top", "front", "side", "iso", "fit")
#: direction of view and view-up of each standard view (scene axes: X east, Y north, Z up)
PRESET_DIRECTIONS = {
    "top": ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0)),
    "front": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "side": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "iso": ((-1.0, -1.0, -1.0), (0.0, 0.0, 1.0)),
}


def viewport(renderer: Any) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the renderer's viewport in display pixels."""
    w, h = renderer.GetSize()
    ox, oy = renderer.GetOrigin()
    return float(ox), float(oy), float(max(w, 1)), float(max(h, 1))


def view_projection(renderer: Any) -> np.ndarray:
    """4x4 composite projection matrix of the active camera (local -> clip)."""
    _, _, w, h = viewport(renderer)
    mat = renderer.GetActiveCamera().GetCompositeProjectionTransformMatrix(w / h, -1.0, 1.0)
    return np.array([[mat.GetElement(i, j) for j in range(4)] for i in range(4)])


def project_local(renderer: Any, pts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Scene-local points -> display xy (n, 2) and depth (n,) in [-1, 1] (inf behind
    the camera)."""
    ox, oy, w, h = viewport(renderer)
    m = view_projection(renderer)
    p = np.asarray(pts, dtype=np.float64)
    clip = p @ m[:3, :3].T + m[:3, 3]
    wc = p @ m[3, :3] + m[3, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        ndc = clip / wc[:, None]
    xy = np.empty((len(p), 2))
    xy[:, 0] = (ndc[:, 0] + 1.0) * w / 2.0 + ox
    xy[:, 1] = (ndc[:, 1] + 1.0) * h / 2.0 + oy
    depth = np.where(wc > 0, ndc[:, 2], np.inf)
    return xy, depth


def signature(renderer: Any) -> tuple:
    """What a level-of-detail selection depends on: camera and viewport size."""
    cam = renderer.GetActiveCamera()
    return (cam.GetPosition(), cam.GetFocalPoint(), cam.GetViewUp(), cam.GetViewAngle(),
            cam.GetParallelProjection(), cam.GetParallelScale(), tuple(renderer.GetSize()))


def box_corners(lo: Any, hi: Any) -> np.ndarray:
    """The 8 corners (8, 3) of the axis-aligned box lo..hi."""
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                     for z in (lo[2], hi[2])], np.float64)


def tighten(renderer: Any, lo: np.ndarray, hi: np.ndarray, fill: float = 0.9) -> None:
    """Move in after ResetCamera (which frames the bounding sphere) so that the
    projected bounding box fills about ``fill`` of the viewport."""
    cam = renderer.GetActiveCamera()
    corners = box_corners(lo, hi)
    radius = max(float(np.linalg.norm(hi - lo)) / 2.0, 1e-9)
    for _ in range(3):
        xy, depth = project_local(renderer, corners)
        if not np.all(np.isfinite(xy)) or not np.all(np.isfinite(depth)):
            return
        ox, oy, w, h = viewport(renderer)
        f = max(np.max(np.abs(xy[:, 0] - ox - w / 2)) / (w / 2),
                np.max(np.abs(xy[:, 1] - oy - h / 2)) / (h / 2))
        if f <= 0:
            return
        factor = min(fill / f, 4.0)
        if cam.GetParallelProjection():
            cam.SetParallelScale(cam.GetParallelScale() / factor)
            return
        # keep the camera well outside the data
        factor = min(factor, cam.GetDistance() / (1.2 * radius))
        if factor <= 1.02:
            return
        cam.Dolly(factor)


def frame_bounds(renderer: Any, lo: np.ndarray, hi: np.ndarray) -> None:
    """Frame the local box lo..hi keeping the view direction."""
    renderer.ResetCamera(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
    tighten(renderer, lo, hi)
    renderer.ResetCameraClippingRange(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
    mark_camera_set(renderer)


def check_preset(name: str) -> str:
    """The preset's canonical name; ValueError naming the choices for an unknown one."""
    key = name.lower()
    if key not in PRESETS:
        raise ValueError(f"unknown view {name!r} (choose from {', '.join(PRESETS)})")
    return key


def orient(renderer: Any, name: str) -> None:
    """Turn the camera about its focal point to look in a standard view's direction
    (top: down -Z, north up; front: along +Y; side: along -X; iso: from +X +Y +Z
    towards the centre). "fit" keeps the direction. Framing is the caller's."""
    name = check_preset(name)
    if name == "fit":
        return
    direction, up = PRESET_DIRECTIONS[name]
    cam = renderer.GetActiveCamera()
    focal = np.array(cam.GetFocalPoint())
    d = np.asarray(direction) / np.linalg.norm(direction)
    cam.SetPosition(*(focal - d))
    cam.SetFocalPoint(*focal)
    cam.SetViewUp(*up)
    if name == "iso":
        cam.OrthogonalizeViewUp()


def read_camera(renderer: Any, origin: Any) -> Camera:
    """The active VTK camera as a :class:`Camera` in true coordinates."""
    cam = renderer.GetActiveCamera()
    origin = np.asarray(origin, dtype=np.float64)
    return Camera(position=tuple((np.asarray(cam.GetPosition()) + origin).tolist()),
                  focal_point=tuple((np.asarray(cam.GetFocalPoint()) + origin).tolist()),
                  view_up=tuple(float(v) for v in cam.GetViewUp()),
                  parallel=bool(cam.GetParallelProjection()))


def apply_camera(renderer: Any, camera: Camera, origin: Any) -> None:
    """Set the active VTK camera from a :class:`Camera` in true coordinates."""
    origin = np.asarray(origin, dtype=np.float64)
    cam = renderer.GetActiveCamera()
    cam.SetPosition(*(np.asarray(camera.position, np.float64) - origin))
    cam.SetFocalPoint(*(np.asarray(camera.focal_point, np.float64) - origin))
    cam.SetViewUp(*camera.view_up)
    cam.SetParallelProjection(bool(camera.parallel))
    renderer.ResetCameraClippingRange()
    mark_camera_set(renderer)


def mark_camera_set(renderer: Any) -> None:
    """Stop pyvista from replacing our camera with its default on the first render."""
    try:
        renderer.camera.is_set = True
        renderer.camera_set = True
    except Exception:  # older / other pyvista versions
        pass
