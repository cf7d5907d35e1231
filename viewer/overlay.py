"""Annotation and measurement overlays in the 3D view (VTK via pyvista).

Draws the session's annotations (pins, polylines, polygons, boxes) coloured by
category, with labels that stay readable (always on top, fixed screen size), and
measurements as lines with their values. Subscribes to the scene's
``annotations_changed`` / ``measurements_changed`` events. Few actors: one per kind of
geometry, rebuilt on change, and the labels: one text actor each, measured once, placed
before every frame in screen space by :func:`viewer.labels.place_labels` (no two
overlap, none is cut by the view's edge, the selected markup's label always shows;
a moved label gets a leader line), so a camera change re-places only the labels.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyvista as pv

from heritage.measure import format_value, measure
from heritage.vocabulary import HIGHLIGHT_COLOR

from .labels import PlacedLabel, place_labels, project
from .legend import use_font_for
from .session import ProjectSession

#: label text size (pixels) and the padding of the box drawn behind it
LABEL_FONT_PX = 14
LABEL_PAD = 3
LABEL_BACKGROUND = (0.18, 0.18, 0.18)
LABEL_OPACITY = 0.7


class AnnotationOverlay:
    def __init__(self, plotter: Any, session: ProjectSession, renderer: Any,
                 on_warning: Callable[[str], None] | None = None) -> None:
        self.plotter = plotter
        #: told once per distinct problem (a label no installed font can draw)
        self.on_warning = on_warning
        self.font_warning: str | None = None
        self.session = session
        self.renderer = renderer  # SceneRenderer: to_local for the scene origin
        # hidden by the user (View > Annotation visibility) and by the panel's filters
        self.hidden_categories: set[str] = set()
        self.hidden_conditions: set[str] = set()
        self.filtered_categories: set[str] = set()
        self.filtered_conditions: set[str] = set()
        self.selected_id: str | None = None
        #: one annotation in focus (condition-report pictures): the other annotations and
        #: the measurements are hidden ("hide") or dimmed ("dim", grey, without labels)
        self.focus_id: str | None = None
        self.focus_others = "hide"
        self.draft: list[list[float]] = []  # vertices of an annotation being drawn
        self._actors: list[Any] = []
        #: the labels: texts, local anchors, keep flags (selected), pin positions
        self.label_texts: list[str] = []
        self._label_pts = np.zeros((0, 3))
        self._label_keep = np.zeros(0, bool)
        self._marker_pts = np.zeros((0, 3))
        self._label_actors: list[Any] = []  # one vtkTextActor per label
        self._label_sizes = np.zeros((0, 2))  # (w, h) of each label's box, pixels
        self._label_offsets = np.zeros((0, 2))  # text origin inside its box
        self._label_back: Any = None  # (actor, polydata) of the boxes behind the texts
        self._label_lines: Any = None  # (actor, polydata) of the leader lines
        #: the labels shown by the last placement (viewer.labels.PlacedLabel)
        self.placed: list[PlacedLabel] = []
        #: True: keep the labels where they are (a tiled still draws one placement)
        self.labels_held = False
        ren_win = getattr(plotter, "ren_win", None)
        self._ren_win = ren_win
        self._observer = None if ren_win is None else ren_win.AddObserver(
            "StartEvent", self._on_render_start)
        self._handlers = [("annotations_changed", self.refresh),
                          ("measurements_changed", self.refresh),
                          ("layer_added", self.refresh)]
        for name, handler in self._handlers:
            session.scene.connect(name, handler)

    def close(self) -> None:
        for name, handler in self._handlers:
            self.session.scene.disconnect(name, handler)
        if self._observer is not None:
            self._ren_win.RemoveObserver(self._observer)
            self._observer = None
        self._clear()

    def _clear(self) -> None:
        for actor in self._actors:
            self.plotter.remove_actor(actor, render=False)
        self._actors = []
        self._remove_labels()

    def visible_annotations(self) -> list:
        hidden_cat = self.hidden_categories | self.filtered_categories
        hidden_cond = self.hidden_conditions | self.filtered_conditions
        return [a for a in self.session.project.annotations
                if a.visible and a.category not in hidden_cat
                and (a.condition or "") not in hidden_cond]

    def set_filters(self, categories: set[str] | None = None,
                    conditions: set[str] | None = None) -> None:
        """What the annotations panel's filters leave out (the view shows what the list
        shows)."""
        if categories is not None:
            self.filtered_categories = set(categories)
        if conditions is not None:
            self.filtered_conditions = set(conditions)
        self.refresh()

    def set_hidden(self, categories: set[str] | None = None,
                   conditions: set[str] | None = None) -> None:
        """Hide annotations by category or condition grade ("" = no grade)."""
        if categories is not None:
            self.hidden_categories = set(categories)
        if conditions is not None:
            self.hidden_conditions = set(conditions)
        self.refresh()

    def set_focus(self, annotation_id: str | None, others: str = "hide") -> None:
        """Put one annotation in focus (None: none): the other annotations and all
        measurements are hidden (``others="hide"``) or dimmed (``"dim"``)."""
        if others not in ("hide", "dim"):
            raise ValueError(f"others must be 'hide' or 'dim', not {others!r}")
        self.focus_id, self.focus_others = annotation_id, others
        self.refresh()

    def _background(self, a_id: str | None) -> str | None:
        """How a markup that is not the focused annotation is drawn: None (as usual),
        "hide" or "dim"."""
        if self.focus_id is None or a_id == self.focus_id:
            return None
        return self.focus_others

    def refresh(self, **_: Any) -> None:
        self._clear()
        if self.session.scene.origin is None:
            return
        vocab = self.session.project.vocabulary
        to_local = self.renderer.to_local
        pins, pin_colors = [], []
        line_pts, line_cells, line_colors = [], [], []
        labels, label_pts, label_keep = [], [], []

        def add_line(points, color, closed=False):
            idx0 = sum(len(p) for p in line_pts)
            pts = np.asarray([to_local(p) for p in points], dtype=np.float64)
            ids = list(range(idx0, idx0 + len(pts)))
            if closed:
                ids.append(idx0)
            line_pts.append(pts)
            line_cells.append([len(ids), *ids])
            line_colors.append(color)

        for a in self.visible_annotations():
            color = a.color or vocab.category_color(a.category)
            if a.id == self.selected_id:
                color = HIGHLIGHT_COLOR  # (white vanished on white/light scans)
            behind = self._background(a.id)
            if behind == "hide":
                continue
            if behind == "dim":
                color = _dimmed(color)
            if a.kind == "point":
                pins.append(to_local(a.points[0]))
                pin_colors.append(color)
            elif a.kind in ("polyline", "polygon"):
                add_line(a.points, color, closed=a.kind == "polygon")
                pins.extend(to_local(p) for p in a.points)
                pin_colors.extend([color] * len(a.points))
            elif a.kind == "box":
                lo, hi = np.asarray(a.points[0]), np.asarray(a.points[1])
                c = [[x, y, z] for z in (lo[2], hi[2]) for x, y in
                     ((lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1]))]
                add_line(c[:4], color, closed=True)
                add_line(c[4:], color, closed=True)
                for i in range(4):
                    add_line([c[i], c[i + 4]], color)
            if behind is None:
                labels.append(a.title or vocab.category_label(a.category))
                label_pts.append(to_local(a.anchor))
                label_keep.append(a.id in (self.selected_id, self.focus_id))
        for m in self.session.project.measurements:
            behind = self._background(m.id)
            if not m.visible or behind == "hide":
                continue
            color = HIGHLIGHT_COLOR if m.id == self.selected_id else (255, 255, 0)
            if behind == "dim":
                color = _dimmed(color)
            closed = m.kind in ("area", "projected_area")
            add_line(m.points, color, closed=closed)
            pins.extend(to_local(p) for p in m.points)
            pin_colors.extend([color] * len(m.points))
            if behind == "dim":
                continue
            try:
                value = format_value(m.kind, measure(m.kind, m.points), self._unit())
            except ValueError:
                value = "?"
            labels.append(f"{m.kind.replace('_', ' ')}: {value}")
            label_pts.append(to_local(np.mean(np.asarray(m.points, dtype=float), axis=0)))
            label_keep.append(m.id == self.selected_id)
        if self.draft:
            add_line(self.draft, (255, 255, 255))
            pins.extend(to_local(p) for p in self.draft)
            pin_colors.extend([(255, 255, 255)] * len(self.draft))

        if pins:
            cloud = pv.PolyData(np.asarray(pins, dtype=np.float32))
            cloud["rgb"] = np.asarray(pin_colors, dtype=np.uint8)
            self._actors.append(self.plotter.add_mesh(
                cloud, scalars="rgb", rgb=True, point_size=14,
                render_points_as_spheres=True, pickable=False, name="annotation-pins",
                reset_camera=False))
        if line_pts:
            pts = np.vstack(line_pts).astype(np.float32)
            lines = np.concatenate([np.asarray(c) for c in line_cells])
            poly = pv.PolyData(pts, lines=lines)
            poly.cell_data["rgb"] = np.asarray(line_colors, dtype=np.uint8)
            self._actors.append(self.plotter.add_mesh(
                poly, scalars="rgb", rgb=True, line_width=4, pickable=False,
                name="annotation-lines", reset_camera=False))
        for actor in self._actors:
            _on_top(actor)
        self._set_labels(labels, label_pts, label_keep, pins)
        self.renderer.request_render()  # coalesced with other events' frames

    # -- labels ---------------------------------------------------------------------------
    def _remove_labels(self) -> None:
        ren = self.plotter.renderer
        for actor in self._label_actors:
            ren.RemoveViewProp(actor)
        for part in (self._label_back, self._label_lines):
            if part is not None:
                ren.RemoveViewProp(part[0])
        self._label_actors, self._label_back, self._label_lines = [], None, None
        self.label_texts, self.placed = [], []

    def _set_labels(self, texts: list[str], points: list, keep: list[bool],
                    markers: list) -> None:
        """Make one text actor per label (measured once here) and place them."""
        from vtkmodules.vtkRenderingCore import vtkTextActor, vtkTextProperty

        self.label_texts = list(texts)
        self._label_pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        self._label_keep = np.asarray(keep, dtype=bool)
        self._marker_pts = np.asarray(markers, dtype=np.float64).reshape(-1, 3)
        if not texts:
            return
        ren = self.plotter.renderer
        prop = vtkTextProperty()
        prop.SetFontSize(LABEL_FONT_PX)
        prop.SetColor(1.0, 1.0, 1.0)
        prop.SetJustificationToLeft()
        prop.SetVerticalJustificationToBottom()
        self._label_font(prop, texts)
        # leader lines first: the label boxes are drawn over them
        self._label_lines = _polys_2d(ren, (1.0, 1.0, 1.0), 0.9, line_width=1.5)
        self._label_back = _polys_2d(ren, LABEL_BACKGROUND, LABEL_OPACITY)
        sizes, offsets = [], []
        for text in texts:
            actor = vtkTextActor()
            actor.SetInput(text)
            actor.SetTextProperty(prop)
            actor.PickableOff()
            actor.SetPosition(0.0, 0.0)
            bbox = [0.0, 0.0, 0.0, 0.0]
            actor.GetBoundingBox(ren, bbox)  # xmin, xmax, ymin, ymax at position 0, 0
            sizes.append((bbox[1] - bbox[0] + 2 * LABEL_PAD, bbox[3] - bbox[2] + 2 * LABEL_PAD))
            offsets.append((LABEL_PAD - bbox[0], LABEL_PAD - bbox[2]))
            actor.VisibilityOff()
            ren.AddViewProp(actor)
            self._label_actors.append(actor)
        self._label_sizes = np.asarray(sizes, dtype=np.float64)
        self._label_offsets = np.asarray(offsets, dtype=np.float64)
        self.place_labels()

    def _on_render_start(self, *_: Any) -> None:
        if self.labels_held or not self._label_actors:
            return
        try:
            self.place_labels()
        except Exception:  # noqa: BLE001 - never break a frame
            import traceback

            traceback.print_exc()

    def place_labels(self) -> list[PlacedLabel]:
        """Place the labels for the current camera and view size (every frame does)."""
        if not self._label_actors:
            self.placed = []
            return self.placed
        ren = self.plotter.renderer
        vw, vh = (max(int(v), 1) for v in ren.GetSize())
        cam = ren.GetActiveCamera()
        vtk_m = cam.GetCompositeProjectionTransformMatrix(ren.GetTiledAspectRatio(), -1, 1)
        matrix = np.array([[vtk_m.GetElement(i, j) for j in range(4)] for i in range(4)])
        anchors, front = project(matrix, self._label_pts, (vw, vh))
        markers, m_front = project(matrix, self._marker_pts, (vw, vh))
        # the legends' boxes at this view size, drawn or (tiled stills) pasted later
        legends = getattr(self.renderer, "legend_overlays", None)
        obstacles = legends.boxes_for((vw, vh)) if legends is not None else []
        self.placed = place_labels(anchors, self._label_sizes, (vw, vh), visible=front,
                                   keep=self._label_keep, markers=markers[m_front],
                                   obstacles=obstacles or None)
        shown = {p.index: p for p in self.placed}
        for i, actor in enumerate(self._label_actors):
            p = shown.get(i)
            actor.SetVisibility(p is not None)
            if p is not None:
                actor.SetPosition(p.box[0] + self._label_offsets[i, 0],
                                  p.box[1] + self._label_offsets[i, 1])
        _set_quads(self._label_back[1], [p.box for p in self.placed])
        _set_lines(self._label_lines[1], [p.leader for p in self.placed if p.leader])
        return self.placed

    def _label_font(self, prop: Any, labels: list[str]) -> None:
        """A font file for the labels when VTK's own fonts cannot draw them (Chinese)."""
        warning = use_font_for(prop, labels, "Annotation labels")
        if warning and warning != self.font_warning and self.on_warning is not None:
            self.on_warning(warning)
        self.font_warning = warning

    def _unit(self) -> str:
        """The scene CRS's unit, "m" for layers given units, "units" when nothing says
        (a heritage mesh without units does not measure in metres)."""
        from .units import scene_length_unit

        return scene_length_unit(self.session.scene)


def _polys_2d(ren: Any, color: tuple[float, float, float], opacity: float,
              line_width: float | None = None) -> tuple[Any, Any]:
    """A 2D actor (display pixels) drawing a polydata filled in later: label boxes, or
    with ``line_width`` leader lines. Returns (actor, polydata)."""
    from vtkmodules.vtkCommonDataModel import vtkPolyData
    from vtkmodules.vtkRenderingCore import vtkActor2D, vtkPolyDataMapper2D

    poly = vtkPolyData()
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(poly)
    mapper.ScalarVisibilityOff()
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    actor.PickableOff()
    prop = actor.GetProperty()
    prop.SetColor(*color)
    prop.SetOpacity(opacity)
    if line_width is not None:
        prop.SetLineWidth(line_width)
    ren.AddViewProp(actor)
    return actor, poly


def _set_quads(poly: Any, boxes: list) -> None:
    """``poly`` becomes one quad per box (x, y, w, h)."""
    pts = np.array([[(x, y, 0), (x + w, y, 0), (x + w, y + h, 0), (x, y + h, 0)]
                    for x, y, w, h in boxes], dtype=np.float64).reshape(-1, 3)
    cells = np.array([[4, 4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3] for i in range(len(boxes))],
                     dtype=np.int64).ravel()
    _fill(poly, pts, cells, polys=True)


def _set_lines(poly: Any, lines: list) -> None:
    """``poly`` becomes one segment per (x0, y0, x1, y1)."""
    pts = np.array([[(x0, y0, 0), (x1, y1, 0)] for x0, y0, x1, y1 in lines],
                   dtype=np.float64).reshape(-1, 3)
    cells = np.array([[2, 2 * i, 2 * i + 1] for i in range(len(lines))], dtype=np.int64).ravel()
    _fill(poly, pts, cells, polys=False)


def _fill(poly: Any, pts: np.ndarray, cells: np.ndarray, polys: bool) -> None:
    from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray

    points = vtkPoints()
    points.SetData(numpy_to_vtk(np.ascontiguousarray(pts), deep=True))
    cell_array = vtkCellArray()
    if len(cells):
        cell_array.SetCells(len(cells) // (5 if polys else 3),
                            numpy_to_vtkIdTypeArray(cells, deep=True))
    poly.SetPoints(points)
    if polys:
        poly.SetPolys(cell_array)
    else:
        poly.SetLines(cell_array)
    poly.Modified()


def _dimmed(color: Any) -> tuple[int, int, int]:
    """A markup's colour greyed (three quarters mid-grey): present, not competing."""
    return tuple(int(round(0.25 * float(c) + 0.75 * 110.0)) for c in color[:3])


def _on_top(actor: Any) -> None:
    """Draw overlays over the data (labels and markers must stay readable)."""
    try:
        mapper = actor.GetMapper()
        mapper.SetResolveCoincidentTopologyToPolygonOffset()
        mapper.SetRelativeCoincidentTopologyLineOffsetParameters(0, -66000)
        mapper.SetRelativeCoincidentTopologyPointOffsetParameter(-66000)
    except AttributeError:
        pass
