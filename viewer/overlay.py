"""Annotation and measurement overlays in the 3D view (VTK via pyvista).

Draws the session's annotations (pins, polylines, polygons, boxes) coloured by
category, with labels that stay readable (always on top, fixed screen size), and
measurements as lines with their values. Subscribes to the scene's
``annotations_changed`` / ``measurements_changed`` events. Few actors: one per kind of
geometry and one label actor, rebuilt on change.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyvista as pv

from heritage.measure import format_value, measure

from .legend import use_font_for
from .session import ProjectSession


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
        self._handlers = [("annotations_changed", self.refresh),
                          ("measurements_changed", self.refresh),
                          ("layer_added", self.refresh)]
        for name, handler in self._handlers:
            session.scene.connect(name, handler)

    def close(self) -> None:
        for name, handler in self._handlers:
            self.session.scene.disconnect(name, handler)
        self._clear()

    def _clear(self) -> None:
        for actor in self._actors:
            self.plotter.remove_actor(actor, render=False)
        self._actors = []

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
        labels, label_pts = [], []

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
                color = (255, 255, 255)
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
        for m in self.session.project.measurements:
            behind = self._background(m.id)
            if not m.visible or behind == "hide":
                continue
            color = (255, 255, 255) if m.id == self.selected_id else (255, 255, 0)
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
        if labels:
            self._actors.append(self.plotter.add_point_labels(
                np.asarray(label_pts, dtype=np.float32), labels, font_size=14,
                point_size=1, shape_opacity=0.6, always_visible=True, pickable=False,
                name="annotation-labels", reset_camera=False, render=False))
            self._label_font(self._actors[-1], labels)
        for actor in self._actors:
            _on_top(actor)
        self.renderer.request_render()  # coalesced with other events' frames

    def _label_font(self, actor: Any, labels: list[str]) -> None:
        """A font file for the labels when VTK's own fonts cannot draw them (Chinese)."""
        try:
            prop = actor.GetMapper().GetInputAlgorithm().GetTextProperty()
        except AttributeError:
            return
        warning = use_font_for(prop, labels, "Annotation labels")
        if warning and warning != self.font_warning and self.on_warning is not None:
            self.on_warning(warning)
        self.font_warning = warning

    def _unit(self) -> str:
        """The scene CRS's unit, "m" for layers given units, "units" when nothing says
        (a heritage mesh without units does not measure in metres)."""
        from .units import scene_length_unit

        return scene_length_unit(self.session.scene)


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
