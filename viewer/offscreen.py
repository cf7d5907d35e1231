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


class OffscreenRenderer:
    """Context manager rendering ``scene`` off screen at ``size`` (w, h)."""

    def __init__(self, scene: Any, size: tuple[int, int] = (1280, 800), *,
                 session: Any = None, point_budget: int | str | None = "auto",
                 annotations: bool = True, multi_samples: int | None = None,
                 decorations: Any = None, attribution: str | None = None,
                 lang: str = "en") -> None:
        self.scene = scene
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

        #: a viewer.scene.Decorations to draw (scale bar, north arrow, gizmo, title,
        #: CRS/attribution line; :mod:`viewer.decorations`); None: none
        self.decorations = decorations
        self.attribution = attribution
        self.lang = lang
        self.decorator: Any = None
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
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.overlay is not None:
            self.overlay.close()
            self.overlay = None
            if self.decorations is not None:
                from .decorations import ViewDecorations

                self.decorator = ViewDecorations(self.plotter, self.scene, self.decorations,
                                                 attribution=self.attribution, lang=self.lang)
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None
        if self.plotter is not None:
            self.plotter.close()
            self.plotter = None

    # -- camera -------------------------------------------------------------------------
    def set_view(self, view: Any = None) -> None:
        if self.decorator is not None:
            self.decorator.close()
            self.decorator = None
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

    def annotation_png(self, annotation: Any) -> bytes:
        """The view an annotation was made from (or an oblique view framing it), the
        annotation highlighted: the pictures of condition reports."""
        from .scene import Camera

        self.highlight(annotation.id)
        return self.png(Camera.for_annotation(annotation))
