"""Scale bar, north arrow, axis gizmo, title and CRS/attribution line over a 3D view.

The numbers are plain functions (no VTK): :func:`world_per_pixel` (scene units per screen
pixel at the focal distance, or from the parallel scale), :func:`nice_length` (the round
1/2/5 x 10^n length of the scale bar), :func:`screen_direction` (where a world axis points
on the screen: the north arrow is the scene's +Y, grid north of its projected CRS),
:func:`scene_units` and :func:`attribution_line`.

:class:`ViewDecorations` draws them on a pyvista plotter as 2D actors - the window's and
the off-screen renderer's alike - and recomputes them from the camera at the start of
every frame. Each actor is anchored to a corner of the view (a normalized-viewport
reference coordinate plus a pixel offset) and its shape is in pixels relative to that
anchor, so tiled pictures (:mod:`viewer.media_render`) place it once for the whole image.
Corners: the gizmo upper left, the north arrow upper right, the scale bar lower left, the
title top centre, the CRS/attribution line bottom centre (legends: lower right).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .scene import Decorations, Scene

#: pixels: the scale bar is at most this long
SCALE_BAR_MAX_PX = 200
SCALE_BAR_POS = (16, 34)  # from the lower left corner
NORTH_ARROW_POS = (-46, -52)  # centre, from the upper right corner
NORTH_ARROW_RADIUS = 24
GIZMO_POS = (52, -56)  # centre, from the upper left corner
GIZMO_LENGTH = 32
TITLE_FONT = 22
TEXT_FONT = 13
AXIS_COLORS = ((230, 70, 60), (80, 200, 80), (80, 140, 255))
WHITE = (255, 255, 255)

# stroke letters in a unit box (x right, y up): pairs of points
_GLYPHS = {
    "N": ((0, 0), (0, 1), (0, 1), (1, 0), (1, 0), (1, 1)),
    "X": ((0, 0), (1, 1), (0, 1), (1, 0)),
    "Y": ((0, 1), (0.5, 0.5), (1, 1), (0.5, 0.5), (0.5, 0.5), (0.5, 0)),
    "Z": ((0, 1), (1, 1), (1, 1), (0, 0), (0, 0), (1, 0)),
}


# -- numbers (no VTK) ------------------------------------------------------------------------
def nice_length(max_length: float) -> float:
    """The largest 1, 2 or 5 x 10^n not above ``max_length`` (> 0)."""
    if not (max_length > 0 and math.isfinite(max_length)):
        raise ValueError(f"bad length {max_length!r}")
    exp = math.floor(math.log10(max_length))
    for step in (5, 2, 1):
        value = step * 10.0 ** exp
        if value <= max_length * (1 + 1e-9):
            return value
    return 10.0 ** (exp - 1) * 5  # pragma: no cover - log10 rounding


def world_per_pixel(parallel: bool, parallel_scale: float, view_angle: float,
                    distance: float, height_px: int) -> float:
    """Scene units per screen pixel at the focal point: a parallel view shows
    2 x ``parallel_scale`` over the view's height; a perspective one 2 d tan(angle / 2)
    at the focal distance d (VTK's view angle is vertical)."""
    height_px = max(int(height_px), 1)
    if parallel:
        return 2.0 * float(parallel_scale) / height_px
    return 2.0 * float(distance) * math.tan(math.radians(view_angle) / 2.0) / height_px


def scale_bar(units_per_px: float,
              max_px: int = SCALE_BAR_MAX_PX) -> tuple[float, float] | None:
    """(length in scene units, length in pixels: 40-100 % of ``max_px``) of the scale
    bar, None when the view's scale is unknown. Not tied to the view's width: the tiles
    of a large picture each draw the one bar of the whole picture."""
    if not (units_per_px > 0 and math.isfinite(units_per_px)):
        return None
    length = nice_length(float(max_px) * units_per_px)
    return length, length / units_per_px


def format_length(length: float, units: str) -> str:
    """"50 m", "2 km", "20 cm", "5 mm"; other units as given ("0.5 units", "10 ft")."""
    def num(v: float) -> str:
        return f"{v:.6g}"

    if units == "m":
        if length >= 1000:
            return f"{num(length / 1000)} km"
        if length < 0.01:
            return f"{num(length * 1000)} mm"
        if length < 1:
            return f"{num(length * 100)} cm"
    return f"{num(length)} {units}"


_UNIT_NAMES = {"metre": "m", "meter": "m", "foot": "ft", "us survey foot": "US ft",
               "kilometre": "km", "kilometer": "km"}


def scene_units(scene: Scene) -> str:
    """The unit of the scene's coordinates: that of its CRS's first axis ("m", "ft"...),
    "units" for a scene without a (projected) CRS."""
    crs = scene.crs
    if crs is None:  # layers given units are scaled into metres (viewer.units)
        return "m" if any(getattr(l, "units", None) for l in scene.layers) else "units"
    try:
        from loaders.crs import as_crs

        crs = as_crs(crs)
        if crs.is_geographic:
            return "units"
        name = crs.axis_info[0].unit_name.lower()
    except Exception:  # noqa: BLE001 - an odd CRS: say nothing wrong
        return "units"
    return _UNIT_NAMES.get(name, name or "units")


def screen_direction(view_matrix: Any, axis: Any) -> tuple[float, float, float]:
    """(x, y, depth) of the world direction ``axis`` in camera coordinates (x right, y up
    on the screen, depth towards the viewer): the rotation part of the camera's view
    matrix applied to it."""
    rot = np.asarray(view_matrix, dtype=np.float64).reshape(4, 4)[:3, :3]
    v = rot @ np.asarray(axis, dtype=np.float64)
    return float(v[0]), float(v[1]), float(v[2])


def attribution_line(scene: Scene, extra: str | None = None, lang: str = "en") -> str:
    """The CRS/attribution line of renders: the scene CRS's name and the data's credits
    (``extra``, then ``attribution`` / ``copyright`` in the layers' metadata)."""
    from loaders.crs import crs_display_name

    parts = [crs_display_name(scene.crs, lang)]
    credits: list[str] = []
    for text in [extra] + [_layer_credit(layer) for layer in scene.layers]:
        text = " ".join(str(text or "").split())
        if text and text not in credits:
            credits.append(text)
    return " · ".join(parts + credits)


def _layer_credit(layer: Any) -> str | None:
    meta = getattr(getattr(layer, "data", None), "metadata", None) or {}
    for key in ("attribution", "copyright"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _glyph(char: str, cx: float, cy: float, w: float = 7, h: float = 10) -> list:
    pts = _GLYPHS[char]
    return [(cx + (x - 0.5) * w, cy + (y - 0.5) * h) for x, y in pts]


# -- drawing (VTK) ---------------------------------------------------------------------------
class _Strokes:
    """Line segments in pixels around an anchored origin, drawn twice: a dark halo and
    the coloured line, so they read on light and dark data."""

    def __init__(self, plotter: Any, anchor: tuple[float, float],
                 offset: tuple[float, float], width: float = 2.0) -> None:
        from vtkmodules.vtkCommonDataModel import vtkPolyData
        from vtkmodules.vtkRenderingCore import vtkActor2D, vtkPolyDataMapper2D

        self.poly = vtkPolyData()
        self.actors = []
        for halo in (True, False):
            mapper = vtkPolyDataMapper2D()
            mapper.SetInputData(self.poly)
            mapper.SetScalarVisibility(not halo)
            mapper.SetColorModeToDirectScalars()
            actor = vtkActor2D()
            actor.SetMapper(mapper)
            prop = actor.GetProperty()
            prop.SetLineWidth(width + 3 if halo else width)
            prop.SetColor((0.0, 0.0, 0.0) if halo else (1.0, 1.0, 1.0))
            if halo:
                prop.SetOpacity(0.6)
            _anchor(actor, anchor, offset)
            actor.PickableOff()
            plotter.renderer.AddViewProp(actor)
            self.actors.append(actor)
        self.plotter = plotter

    def set(self, segments: list, colors: list) -> None:
        """``segments``: [(x0, y0), (x1, y1), ...] point pairs; ``colors``: RGB per pair."""
        from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
        from vtkmodules.vtkCommonCore import vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkCellArray

        n = len(segments)
        pts = np.zeros((max(n, 1), 3))
        if n:
            pts[:n, :2] = np.asarray(segments, dtype=np.float64)
        points = vtkPoints()
        points.SetData(numpy_to_vtk(pts, deep=True))
        lines = vtkCellArray()
        cells = np.column_stack([np.full(n // 2, 2), np.arange(0, n - n % 2).reshape(-1, 2)])
        lines.SetCells(n // 2, numpy_to_vtkIdTypeArray(cells.ravel().astype(np.int64),
                                                       deep=True))
        self.poly.SetPoints(points)
        self.poly.SetLines(lines)
        rgb = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
        arr = numpy_to_vtk(rgb, deep=True)
        arr.SetName("colors")
        self.poly.GetCellData().SetScalars(arr)
        self.poly.Modified()

    def show(self, on: bool) -> None:
        for actor in self.actors:
            actor.SetVisibility(bool(on))

    def remove(self) -> None:
        for actor in self.actors:
            self.plotter.renderer.RemoveViewProp(actor)
        self.actors = []


def _anchor(actor: Any, anchor: tuple[float, float], offset: tuple[float, float]) -> None:
    from vtkmodules.vtkRenderingCore import vtkCoordinate

    ref = vtkCoordinate()
    ref.SetCoordinateSystemToNormalizedViewport()
    ref.SetValue(float(anchor[0]), float(anchor[1]))
    coord = actor.GetPositionCoordinate()
    coord.SetCoordinateSystemToViewport()
    coord.SetReferenceCoordinate(ref)
    coord.SetValue(float(offset[0]), float(offset[1]))
    actor._realscene_anchor = ref  # type: ignore[attr-defined]  # keep it alive


def _text(plotter: Any, anchor: tuple[float, float], offset: tuple[float, float],
          size: int, justify: str = "left", vertical: str = "bottom",
          bold: bool = False, box: bool = False) -> Any:
    from vtkmodules.vtkRenderingCore import vtkTextActor

    actor = vtkTextActor()
    prop = actor.GetTextProperty()
    prop.SetFontSize(int(size))
    prop.SetColor(1.0, 1.0, 1.0)
    prop.SetShadow(not box)
    prop.SetBold(bold)
    getattr(prop, {"left": "SetJustificationToLeft", "center": "SetJustificationToCentered",
                   "right": "SetJustificationToRight"}[justify])()
    getattr(prop, {"bottom": "SetVerticalJustificationToBottom",
                   "top": "SetVerticalJustificationToTop"}[vertical])()
    if box:
        prop.SetBackgroundColor(0.05, 0.05, 0.05)
        prop.SetBackgroundOpacity(0.55)
    _anchor(actor, anchor, offset)
    actor.PickableOff()
    plotter.renderer.AddViewProp(actor)
    return actor


class ViewDecorations:
    """The decorations of ``scene`` on ``plotter``: ``settings`` (a
    :class:`viewer.scene.Decorations`; None: the scene's own, followed as they change -
    the window). ``attribution``: a credit for the data added to the CRS line; ``lang``:
    the language of the CRS's name; ``on_warning(text)``: text no font can draw."""

    def __init__(self, plotter: Any, scene: Scene, settings: Decorations | None = None, *,
                 attribution: str | None = None, lang: str = "en",
                 on_warning: Any = None) -> None:
        self.plotter = plotter
        self.scene = scene
        self._own = settings
        self.extra_attribution = attribution
        self.lang = lang
        self.on_warning = on_warning
        self.scale: tuple[float, float] | None = None  # (length, px) last drawn
        self.north: tuple[float, float] | None = None  # screen direction last drawn
        self.bar = _Strokes(plotter, (0.0, 0.0), SCALE_BAR_POS, width=2.0)
        self.bar_label = _text(plotter, (0.0, 0.0), (SCALE_BAR_POS[0], SCALE_BAR_POS[1] + 9),
                               TEXT_FONT)
        self.arrow = _Strokes(plotter, (1.0, 1.0), NORTH_ARROW_POS, width=2.0)
        self.gizmo = _Strokes(plotter, (0.0, 1.0), GIZMO_POS, width=2.0)
        self.title = _text(plotter, (0.5, 1.0), (0, -10), TITLE_FONT, "center", "top",
                           bold=True, box=True)
        self.credit = _text(plotter, (0.5, 0.0), (0, 4), TEXT_FONT - 2, "center", box=True)
        self._title_text: str | None = None
        self._credit_key: Any = None
        self._observer = None
        ren_win = plotter.render_window
        self._ren_win = ren_win
        self._observer = ren_win.AddObserver("StartEvent", self._on_render_start)
        if settings is None:
            scene.connect("decorations_changed", self._on_changed)
        self.update()

    @property
    def settings(self) -> Decorations:
        return self._own if self._own is not None else self.scene.decorations

    def close(self) -> None:
        if self._observer is not None:
            self._ren_win.RemoveObserver(self._observer)
            self._observer = None
        if self._own is None:
            self.scene.disconnect("decorations_changed", self._on_changed)
        for strokes in (self.bar, self.arrow, self.gizmo):
            strokes.remove()
        for actor in (self.bar_label, self.title, self.credit):
            self.plotter.renderer.RemoveViewProp(actor)

    def _on_changed(self, **_: Any) -> None:
        self.update()

    def _on_render_start(self, *_: Any) -> None:
        try:
            self.update()
        except Exception:  # noqa: BLE001 - never break a frame
            import traceback

            traceback.print_exc()

    # -- one frame ------------------------------------------------------------------------
    def update(self) -> None:
        """Recompute every decoration from the camera and the view's size."""
        s = self.settings
        ren = self.plotter.renderer
        cam = ren.GetActiveCamera()
        h = ren.GetSize()[1]
        view = cam.GetViewTransformMatrix()
        matrix = [view.GetElement(i, j) for i in range(4) for j in range(4)]
        self._update_scale_bar(s.scale_bar and bool(self.scene.layers), cam, h)
        self._update_north(s.north_arrow and self._georeferenced(), matrix)
        self._update_gizmo(s.axes and bool(self.scene.layers), matrix)
        self._update_title(s.title)
        self._update_credit(s.attribution)

    def _georeferenced(self) -> bool:
        return self.scene.crs is not None and scene_units(self.scene) != "units"

    def _update_scale_bar(self, on: bool, cam: Any, h: int) -> None:
        bar = None
        if on:
            upp = world_per_pixel(bool(cam.GetParallelProjection()), cam.GetParallelScale(),
                                  cam.GetViewAngle(), cam.GetDistance(), h)
            bar = scale_bar(upp)
        self.scale = bar
        self.bar.show(bar is not None)
        self.bar_label.SetVisibility(bar is not None)
        if bar is None:
            return
        length, px = bar
        segs = [(0, 0), (px, 0), (0, 0), (0, 7), (px, 0), (px, 7), (px / 2, 0), (px / 2, 4)]
        self.bar.set(segs, [WHITE] * 4)
        self.bar_label.SetInput(format_length(length, scene_units(self.scene)))

    def _update_north(self, on: bool, matrix: list) -> None:
        x, y, _ = screen_direction(matrix, (0.0, 1.0, 0.0))
        norm = math.hypot(x, y)
        on = on and norm > 1e-3
        self.north = (x / norm, y / norm) if on else None
        self.arrow.show(on)
        if not on:
            return
        dx, dy = x / norm, y / norm
        px, py = -dy, dx
        r = NORTH_ARROW_RADIUS
        tip = (dx * r, dy * r)
        segs = [(-dx * r, -dy * r), tip,
                tip, (tip[0] - dx * 10 + px * 6, tip[1] - dy * 10 + py * 6),
                tip, (tip[0] - dx * 10 - px * 6, tip[1] - dy * 10 - py * 6)]
        segs += _glyph("N", dx * (r + 11), dy * (r + 11))
        self.arrow.set(segs, [WHITE] * (len(segs) // 2))

    def _update_gizmo(self, on: bool, matrix: list) -> None:
        self.gizmo.show(on)
        if not on:
            return
        axes = []
        for k, name in enumerate("XYZ"):
            x, y, depth = screen_direction(matrix, np.eye(3)[k])
            axes.append((depth, k, name, x, y))
        segs: list = []
        colors: list = []
        for _depth, k, name, x, y in sorted(axes):  # the farthest first
            tip = (x * GIZMO_LENGTH, y * GIZMO_LENGTH)
            segs += [(0.0, 0.0), tip]
            glyph = _glyph(name, x * (GIZMO_LENGTH + 10), y * (GIZMO_LENGTH + 10))
            segs += glyph
            colors += [AXIS_COLORS[k]] * (1 + len(glyph) // 2)
        self.gizmo.set(segs, colors)

    def _update_title(self, title: str) -> None:
        title = " ".join(str(title or "").split())
        self.title.SetVisibility(bool(title))
        if title == self._title_text:
            return
        self._title_text = title
        self.title.SetInput(title)
        if title:
            self._font(self.title, title, "Title")

    def _update_credit(self, on: bool) -> None:
        self.credit.SetVisibility(bool(on))
        if not on:
            return
        key = (id(self.scene.crs), len(self.scene.layers), self.extra_attribution, self.lang)
        if key == self._credit_key:
            return
        self._credit_key = key
        text = attribution_line(self.scene, self.extra_attribution, self.lang)
        self.credit.SetInput(text)
        self._font(self.credit, text, "CRS/attribution line")

    def _font(self, actor: Any, text: str, what: str) -> None:
        from .legend import use_font_for

        warning = use_font_for(actor.GetTextProperty(), [text], what)
        if warning and self.on_warning is not None:
            self.on_warning(warning)
