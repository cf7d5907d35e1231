"""The one off-screen renderer: a scene (and its annotations) to pictures, no window.

Used by ``realscene render``, by the condition-report views (``realscene annotations
--export report``) and by exports; Python scripts use it the same way::

    with OffscreenRenderer(scene, size=(1280, 800), session=session) as r:
        png = r.png("Overview")          # a saved view by name
        pixels = r.image("top")           # a preset: top, front, side, iso, fit
        r.save("out.png", camera)         # a viewer.scene.Camera

The layers are drawn by :class:`viewer.render.SceneRenderer` (the window's renderer, on
an off-screen pyvista plotter); with a ``session``, the project's annotations and
measurements are drawn on top (:class:`viewer.overlay.AnnotationOverlay`), as in the
window. ``multi_samples``: MSAA samples (default: pyvista's, 8); 0 gives the window's
picture exactly (the window skips anti-aliasing for speed on software OpenGL).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: standard views of :meth:`viewer.render.SceneRenderer.view_preset`
PRESETS = ("top", "front", "side", "iso", "fit")

#: an annotation's picture: its extent fills this much of the picture's smaller side
PICTURE_FILL = 0.4
#: a pin is framed at least this many point spacings wide ...
PIN_SPACINGS = 40.0
#: ... and at least this fraction of the scene's diagonal
PIN_SCENE_FRACTION = 0.02
#: points drawn for an annotation's picture (the framed region at full resolution)
PICTURE_BUDGET = 4_000_000
#: splat size / projected point spacing: neighbouring points overlap into a surface
SPLAT_OVERLAP = 1.5
MAX_PICTURE_POINT_SIZE = 16.0


class UnknownView(ValueError):
    """A view name that is neither a preset nor one of the scene's saved views."""


def find_view(scene: Any, name: str) -> Any:
    """The scene's saved view called ``name`` (exact, else ignoring case); UnknownView
    naming the saved views otherwise."""
    for match in (lambda v: v.name == name, lambda v: v.name.lower() == name.lower()):
        view = next((v for v in scene.views if match(v)), None)
        if view is not None:
            return view
    names = ", ".join(repr(v.name) for v in scene.views) or "none"
    raise UnknownView(f"no view named {name!r} (saved views: {names}; presets: "
                      f"{', '.join(PRESETS)})")


def preload() -> Any:
    """Import the renderer's modules (VTK, pyvista: ~2 s on a slow machine) in a
    background thread, so that they load while the data is read (a big cloud is read in a
    worker process: this process only waits for it). Returns the thread."""
    import threading

    def run() -> None:
        try:
            import pyvista  # noqa: F401

            from . import render  # noqa: F401
        except Exception:  # noqa: BLE001 - the renderer's own import says what is wrong
            pass

    thread = threading.Thread(target=run, name="preload-renderer", daemon=True)
    thread.start()
    return thread


class OffscreenRenderer:
    """Context manager rendering ``scene`` off screen at ``size`` (w, h)."""

    def __init__(self, scene: Any, size: tuple[int, int] = (1280, 800), *,
                 session: Any = None, point_budget: int | str | None = "auto",
                 annotations: bool = True, multi_samples: int | None = None,
                 decorations: Any = None, attribution: str | None = None,
                 lang: str = "en") -> None:
        self.scene = scene
        #: a viewer.scene.Decorations to draw (scale bar, north arrow, gizmo, title,
        #: CRS/attribution line; :mod:`viewer.decorations`); None: none
        self.decorations = decorations
        self.attribution = attribution
        self.lang = lang
        self.decorator: Any = None
        self.size = (int(size[0]), int(size[1]))
        self.session = session
        self.point_budget = "auto" if point_budget is None else point_budget
        self.annotations = annotations
        self.multi_samples = multi_samples
        self.plotter: Any = None
        self.renderer: Any = None
        self.overlay: Any = None

    def __enter__(self) -> "OffscreenRenderer":
        import pyvista as pv

        from .render import SceneRenderer

        self.plotter = pv.Plotter(off_screen=True, window_size=self.size)
        if self.multi_samples is not None:  # before the first frame creates the buffers
            self.plotter.ren_win.SetMultiSamples(int(self.multi_samples))
        try:
            self.renderer = SceneRenderer(self.plotter, self.scene,
                                          point_budget=self.point_budget)
            if self.session is not None and self.annotations:
                from .overlay import AnnotationOverlay

                self.overlay = AnnotationOverlay(self.plotter, self.session, self.renderer)
                self.overlay.refresh()
            if self.decorations is not None:
                from .decorations import ViewDecorations

                self.decorator = ViewDecorations(self.plotter, self.scene, self.decorations,
                                                 attribution=self.attribution, lang=self.lang)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.decorator is not None:
            self.decorator.close()
            self.decorator = None
        if self.overlay is not None:
            self.overlay.close()
            self.overlay = None
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None
        if self.plotter is not None:
            self.plotter.close()
            self.plotter = None

    # -- camera -------------------------------------------------------------------------
    def set_view(self, view: Any = None) -> None:
        """Point the camera: None keeps it; a preset name (top, front, side, iso, fit);
        the name of a saved view (UnknownView listing the names if there is none); a
        :class:`viewer.scene.Camera` or a saved view (true coordinates)."""
        if view is None:
            return
        if isinstance(view, str):
            if view.lower() in PRESETS:
                self.renderer.view_preset(view.lower())
                return
            view = find_view(self.scene, view)
        camera = getattr(view, "camera", view)
        from .scene import Camera

        self.scene.camera = Camera(**vars(camera))
        self.renderer.scene_to_camera()

    def highlight(self, annotation_id: str | None) -> None:
        """Draw the annotation ``annotation_id`` highlighted (None: none)."""
        if self.overlay is not None:
            self.overlay.selected_id = annotation_id
            self.overlay.refresh()

    # -- pictures -----------------------------------------------------------------------
    def save(self, path: str | Path, view: Any = None,
             size: tuple[int, int] | None = None) -> Path:
        """Write the view as PNG to ``path``; returns the path."""
        self.set_view(view)
        return self.renderer.screenshot(Path(path), size=size or self.size)

    def png(self, view: Any = None, size: tuple[int, int] | None = None) -> bytes:
        """The view as PNG bytes."""
        with tempfile.TemporaryDirectory() as tmp:
            return self.save(Path(tmp) / "view.png", view, size).read_bytes()

    def image(self, view: Any = None, size: tuple[int, int] | None = None) -> np.ndarray:
        """The view as an (h, w, 3) uint8 array."""
        from PIL import Image

        with Image.open(io.BytesIO(self.png(view, size))) as img:
            return np.asarray(img.convert("RGB"))

    # -- annotation pictures (condition reports) ------------------------------------------
    def annotation_camera(self, annotation: Any, size: tuple[int, int] | None = None) -> Any:
        """The camera of ``annotation``'s picture: centred on its geometry, looking the way
        its saved view looked (else obliquely from the south-east), its extent filling
        :data:`PICTURE_FILL` of the picture. A pin (or a tiny markup) is framed at least
        :data:`PIN_SPACINGS` point spacings of the data around it, and at least
        :data:`PIN_SCENE_FRACTION` of the scene's size, so it shows its surroundings."""
        from .scene import Camera

        w, h = size or self.size
        view_angle = self._view_angle()

        def frame(minimum: float) -> Any:
            return Camera.framing_annotation(annotation, minimum_extent=minimum,
                                             fill=PICTURE_FILL, view_angle=view_angle,
                                             aspect=w / max(h, 1))

        minimum = PIN_SCENE_FRACTION * self._scene_size()
        camera = frame(minimum)
        spacing = self._picture_lod(camera, annotation.anchor)
        if spacing and PIN_SPACINGS * max(spacing.values()) > minimum * 1.05:
            camera = frame(PIN_SPACINGS * max(spacing.values()))
        return camera

    def annotation_png(self, annotation: Any, others: str = "hide",
                       size: tuple[int, int] | None = None) -> bytes:
        """The picture of condition reports: ``annotation`` framed
        (:meth:`annotation_camera`), the other annotations and the measurements hidden
        (``others="hide"``) or dimmed (``"dim"``), the points around it at full resolution
        (:data:`PICTURE_BUDGET`) and large enough to close into a surface at that distance
        (sized for this picture only)."""
        size = size or self.size
        if self.overlay is not None:
            self.overlay.selected_id = None
            self.overlay.set_focus(annotation.id, others)
        sizes: dict[int, float] = {}
        try:
            camera = self.annotation_camera(annotation, size)
            spacing = self._picture_lod(camera, annotation.anchor)
            sizes = self._surface_point_sizes(spacing, camera, size[1])
            with self.renderer.held_lod():
                return self.png(None, size)
        finally:
            self._restore_point_sizes(sizes)
            if self.overlay is not None:
                self.overlay.set_focus(None)

    def annotation_image(self, annotation: Any, others: str = "hide",
                         size: tuple[int, int] | None = None) -> np.ndarray:
        """:meth:`annotation_png` as an (h, w, 3) uint8 array."""
        from PIL import Image

        with Image.open(io.BytesIO(self.annotation_png(annotation, others, size))) as img:
            return np.asarray(img.convert("RGB"))

    def _view_angle(self) -> float:
        return float(self.plotter.renderer.GetActiveCamera().GetViewAngle())

    def _scene_size(self) -> float:
        bounds = self.renderer._local_bounds(None)
        if bounds is None:
            return 0.0
        return float(np.linalg.norm(np.asarray(bounds[1]) - np.asarray(bounds[0])))

    def _picture_lod(self, camera: Any, anchor: Any) -> dict[int, float]:
        """Point the camera, select the points for it with the picture budget, and return
        each visible point layer's point spacing around ``anchor`` (layer id -> spacing,
        scene units; layers with too few points near it left out)."""
        self.set_view(camera)
        budget = PICTURE_BUDGET
        if isinstance(self.point_budget, int) and not isinstance(self.point_budget, bool):
            budget = max(int(self.point_budget), budget)
        self.renderer.update_lod(force=True, budget=budget, wait=True)
        centre = self.renderer.to_local(anchor)
        reach = float(np.linalg.norm(np.subtract(camera.position, camera.focal_point)))
        out = {}
        from loaders import PointCloud

        for entry in self.renderer._entries.values():
            if (not entry.layer.visible or entry.points is None
                    or not isinstance(entry.layer.data, PointCloud)):
                continue
            spacing = point_spacing(entry.points, centre, reach)
            if spacing is not None:
                out[entry.layer.id] = spacing
        return out

    def _surface_point_sizes(self, spacing: dict[int, float], camera: Any,
                             height: int) -> dict[int, float]:
        """Point sizes (pixels) that close each layer's points into a surface at the
        picture's distance, set on the layer's actors (not on the layer); the sizes they
        had, to restore."""
        distance = float(np.linalg.norm(np.subtract(camera.position, camera.focal_point)))
        pixels_per_unit = height / (2.0 * distance * np.tan(np.radians(self._view_angle()) / 2))
        old = {}
        for entry in self.renderer._entries.values():
            if entry.layer.id not in spacing:
                continue
            size = float(np.clip(np.ceil(SPLAT_OVERLAP * spacing[entry.layer.id]
                                         * pixels_per_unit), 1.0, MAX_PICTURE_POINT_SIZE))
            for actor in entry.actors:
                prop = actor.GetProperty()
                old.setdefault(entry.layer.id, prop.GetPointSize())
                prop.SetPointSize(max(size, float(entry.layer.point_size)))
        return old

    def _restore_point_sizes(self, sizes: dict[int, float]) -> None:
        for entry in self.renderer._entries.values():
            if entry.layer.id in sizes:
                for actor in entry.actors:
                    actor.GetProperty().SetPointSize(sizes[entry.layer.id])


def point_spacing(points: np.ndarray, centre: Any, reach: float,
                  sample: int = 1500) -> float | None:
    """The typical distance between neighbouring points around ``centre`` (the median
    nearest-neighbour distance of the ``sample`` points nearest to it, within ``reach``);
    None when fewer than 32 points are that near."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) < 32:
        return None
    d2 = ((pts - np.asarray(centre, dtype=np.float64)) ** 2).sum(axis=1)
    near = np.flatnonzero(d2 <= reach * reach)
    if len(near) < 32:
        return None
    if len(near) > sample:
        near = near[np.argpartition(d2[near], sample)[:sample]]
    p = pts[near]
    sq = (p * p).sum(axis=1)
    dist = sq[:, None] + sq[None, :] - 2.0 * (p @ p.T)
    np.fill_diagonal(dist, np.inf)
    nn = np.sqrt(np.maximum(dist.min(axis=1), 0.0))
    nn = nn[nn > 0]  # duplicates say nothing about the spacing
    return float(np.median(nn)) if len(nn) >= 16 else None
