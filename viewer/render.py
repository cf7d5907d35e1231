"""Renderer adapter: scene model layers -> VTK actors (pyvista).

INTERFACE (being implemented; the Qt window and the CLI depend on exactly this):

class SceneRenderer:
    def __init__(self, plotter, scene, point_budget=1_500_000)
        plotter: pyvista.Plotter (off-screen, CLI) or pyvistaqt.QtInteractor (GUI).
        Subscribes to scene events and keeps one actor per layer in sync
        (visibility, opacity, colour mode, point size, hidden classes, transform,
        background, eye-dome lighting). Positions drawn = layer local positions
        + (layer.origin - scene.origin), float32.
    def close(self)                 -> disconnect from the scene, remove actors
    def render(self)                -> plotter.render()
    def fit(self, layers=None)      -> reset camera on the bounds of layers (default all visible)
    def view_preset(self, name)     -> name in {"top","front","side","iso","fit"}
    def pick(self, x, y) -> Pick | None
        display coords (VTK convention, origin bottom-left) -> nearest point / vertex of a
        visible layer; also calls scene.set_pick(pick).
    def screenshot(self, path, size=None) -> Path
        save the 3D view as PNG at any resolution (size (w, h), may exceed the window).
    def camera_to_scene(self) / scene_to_camera(self)  sync Scene.camera (true coords)

Modules
-------
The renderer composes: :mod:`viewer.budget` (the VTK-free frame-budget controller,
``renderer.budget``, with an injected clock), :mod:`viewer.camera` (views, framing,
projection), :mod:`viewer.picking` and :mod:`viewer.legend` (legend / colour bar).
``PRESETS``, ``AUTO``, ``PICK_TOLERANCE_PX`` stay importable from here.

Extra public API
----------------
    drawn_indices(layer) -> ndarray | None   indices of the points drawn (None for meshes)
    project(xyz_true) -> (n, 2) display coordinates (VTK convention) of true coordinates
    to_local(xyz_true) / to_true(xyz_local)  scene-origin conversions (float64)
    actors(layer) -> list of the layer's VTK actors
    refresh(layer=None)                      rebuild actors (e.g. after data edits)
    point_pixel_sizes(layer) -> ndarray | None  sizes (px) the drawn points are drawn at
    projection_pixels() -> float             pixels a world unit spans at clip w = 1

Clip (``scene.clip``, event ``clip_changed``)
---------------------------------------------
Every layer kind is clipped while drawing, with the same region semantics as the export
(:mod:`heritage.monitoring.clip`): point layers mask their drawn subset in numpy with
``region.mask`` on the drawn points' true coordinates (what is shown is what
``clip_file`` keeps, for a box, a polygon or a slab, inside or outside); meshes, city and
IFC models are cut by ``vtkClipPolyData`` one plane at a time over convex cells (a box,
turned or not, is one cell of six planes, a slab one of two, a polygon one prism per
triangle of its earcut triangulation, holes left out): a plane is linear, so edges are
cut exactly (one implicit function such as ``vtkPlanes`` or ``vtkImplicitSelectionLoop``
is not, and a large triangle is then cut at the wrong place); the inside is the union of
the cells' parts, the outside what is left. Mapper clipping planes were not used: they
only express the inside of one convex region (at most six planes), never a concave
polygon or the outside. The cut keeps the cells' ``face_id``, so picking still finds the
object; the region's outline is drawn as a wireframe (``clip_outline_actor``).

Point size (:mod:`viewer.pointsize`)
------------------------------------
``layer.point_size_mode`` "adaptive" (default): every drawn point carries the spacing of
the deepest drawn LOD node holding it (with its ancestors' density) and the vertex shader
draws it ``spacing x projection / w`` pixels, between the actor's point size (the
layer's) and ``pointsize.MAX_PIXELS`` (GL_PROGRAM_POINT_SIZE on while a point actor
draws); "fixed": the point size. ``layer.point_shape`` "round" discards the corners.

Level of detail
---------------
Every point layer draws through a :class:`loaders.lod.LodSource`: ``layer.lod`` when set
(the GUI's loading thread builds it; a COPC stream), else an in-memory octree built on
the first draw (:func:`loaders.lod.build_octree`, which reorders ``layer.data`` so that
nodes are slices; indices then refer to the reordered cloud). Before every render the
nodes to draw are chosen for the current camera (:func:`loaders.lod.select_nodes_multi`:
nearer / larger on screen first, nothing outside the frustum, one budget shared by all
point layers) and drawn as ONE actor per layer.

    budget                  the :class:`viewer.budget.FrameBudget` controller; the
                            settings below are its attributes, readable / settable here
    point_budget            int, or "auto" (default): budgets from measured frame times
    target_interactive_seconds (0.06) / target_rest_seconds (0.08): frame-time targets
                            (every GUI-thread frame is an event-loop stall: the rest
                            target is kept near 0.1 s so that no frame blocks the UI longer)
    first_budget            budget of on-screen frames before any frame was timed (40k)
    multi_samples           MSAA samples set on on-screen render windows (0: off; None:
                            leave the plotter's). llvmpipe pays ~60 ms per frame and
                            several times the per-point cost for 4x MSAA at 1280x800
    still_budget            budget of screenshots and off-screen renders in "auto" mode
    seconds_per_point       moving estimate from timed renders
    budgets() -> (interactive, rest)    current_budget() -> int
    interacting             True between StartInteractionEvent and EndInteractionEvent
    update_lod(force=False, budget=None, wait=None) -> bool   re-select, redraw actors
    needs_update            True when a refinement step or fetched nodes wait to be shown
    process_updates() -> bool    GUI thread, from a QTimer: one refinement step / redraw
    on_update               callable or None, called from ANY thread when needs_update
                            became True (e.g. emit a Qt signal); or poll needs_update
    drawn_points, total_points   points drawn in the last selection / in all point layers

While the camera moves (interactor StartInteractionEvent .. EndInteractionEvent) frames
use the interactive budget; when it stops, :meth:`process_updates` refines in steps
(each one selection and one render) up to the rest budget. Nodes that are not resident
(COPC over HTTP) are fetched in a thread pool and drawn when they arrive.

Loading: while any layer is loading (``layer.loading``) and for ``settle_seconds`` after
a layer was added or its data swapped (:meth:`loading_active`), on-screen frames use the
interactive budget too; the refinement to the rest budget starts once that is over, in
steps whose budgets come from the measured cost per point. On-screen plotters are not
rendered synchronously on scene events: :meth:`_auto_render` marks a frame as pending
(the GUI's own render timer, or :meth:`process_updates`, draws it once), so several
events in one event-loop turn cost one frame.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyvista as pv

from loaders import FeatureMesh, Mesh, PointCloud
from loaders.lod import (
    DEFAULT_MIN_PIXELS,
    LodSource,
    OctreeSource,
    build_octree,
    select_nodes_multi,
)

from . import camera, colors, features, picking, pointsize, tile_layer
from .budget import ACTOR_POINTS, AUTO, TRIANGLE_POINTS, Clock, FrameBudget
from .camera import PRESETS
from .legend import Overlays
from .picking import PICK_TOLERANCE_PX
from .scene import Camera, Layer, Pick, Scene, feature_pick, pick_info

__all__ = ["AUTO", "HIGHLIGHT_COLOR", "PICK_TOLERANCE_PX", "PRESETS", "SceneRenderer",
           "use_egl_without_display"]


def use_egl_without_display() -> bool:
    """Without an X or Wayland display, make VTK create EGL render windows directly
    (``VTK_DEFAULT_OPENGL_WINDOW``), instead of trying X first and printing
    "bad X server connection" on every off-screen render. Must run before VTK creates a
    render window; runs on import (importing pyvista creates no window). True when EGL
    was chosen."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return False
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    return os.environ["VTK_DEFAULT_OPENGL_WINDOW"] == "vtkEGLRenderWindow"


use_egl_without_display()

_ACTOR_PREFIX = "realscene-layer-"
HIGHLIGHT_COLOR = (1.0, 0.85, 0.1)  # the selected object of a city / building model
CLIP_OUTLINE_COLOR = (1.0, 0.45, 0.05)  # the clip region's wireframe
#: fields of a layer whose change only needs an actor property update
_PROPERTY_FIELDS = ("visible", "opacity", "point_size", "point_size_mode", "point_shape")
#: tile layers: detail and memory settings (the stream changes, no actor is rebuilt)
_TILE_FIELDS = ("max_sse", "tile_memory_mb")
#: GL_PROGRAM_POINT_SIZE: the vertex shader's gl_PointSize sizes points (adaptive size)
_GL_PROGRAM_POINT_SIZE = 0x8642
#: point actors' shader parts (viewer.pointsize): the per-point spacing attribute, the
#: adaptive size (Potree's: spacing x projection / w, clamped) and round splats
_SPACING_ARRAY = "rs_spacing"
_VS_DEC = "//VTK::PositionVC::Dec\nin float rsSpacing;\n"
_VS_SIZE = ("//VTK::PositionVC::Impl\n"
            f"gl_PointSize = clamp({pointsize.SPLAT_SCALE:.4f} * rsSpacing * rsProj"
            " / max(gl_Position.w, 1e-6), rsMin, rsMax);\n")
_FS_ROUND = ("//VTK::UniformFlow::Impl\n"
             "if (dot(gl_PointCoord * 2.0 - 1.0, gl_PointCoord * 2.0 - 1.0) > 1.0) discard;\n")
#: node clouds kept per streamed layer beyond those drawn (points)
_NODE_CACHE_POINTS = 4_000_000


class _BudgetSetting:
    """A renderer attribute that is the frame-budget controller's attribute of the same
    name (``renderer.seconds_per_point`` is ``renderer.budget.seconds_per_point``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else getattr(obj.budget, self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj.budget, self.name, value)


class _Entry:
    """What the renderer keeps per layer."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self.actors: list[Any] = []
        self.names: list[str] = []
        self.indices: np.ndarray | None = None  # drawn point indices into the full data
        self.points: np.ndarray | None = None  # drawn positions, scene-local float32
        self.mesh_actor_ids: set[int] = set()
        # level of detail (point layers)
        self.source: LodSource | None = None
        self.selection: tuple = ()  # (keys, partial root count) last selected
        self.drawn_sig: Any = None  # what the actor shows (None: must redraw)
        self.node_refs: tuple[np.ndarray, list] | None = None  # streamed: for picking
        self.cache: OrderedDict = OrderedDict()  # streamed node clouds by key
        self.pending: dict[Any, Future] = {}
        self.bounds: tuple[Any, np.ndarray, np.ndarray] | None = None  # cached local box
        self.scalar: tuple[Any, Any] | None = None  # cached (signature, ScalarInfo)
        self.mapper: Any = None
        self.spacing: np.ndarray | None = None  # drawn points' spacing (world units)
        self.spacing_cache: dict[Any, float] = {}  # (id(source), node key) -> spacing
        self.shader_sig: Any = None  # (size mode, shape) the point actor's shader draws
        #: tile layers (loaders.tiles.TileSet data): their stream and tile actors
        self.tiles: tile_layer.TileDraw | None = None


class SceneRenderer:
    """Keeps a pyvista plotter in sync with a :class:`viewer.scene.Scene`."""

    # settings and state of the frame-budget controller (see viewer.budget)
    point_budget = _BudgetSetting()
    target_interactive_seconds = _BudgetSetting()
    target_rest_seconds = _BudgetSetting()
    first_budget = _BudgetSetting()
    settle_seconds = _BudgetSetting()
    still_budget = _BudgetSetting()
    min_budget = _BudgetSetting()
    max_budget = _BudgetSetting()
    seconds_per_point = _BudgetSetting()
    interacting = _BudgetSetting()
    last_frame_seconds = _BudgetSetting()

    def __init__(self, plotter: Any, scene: Scene, point_budget: int | str = AUTO,
                 clock: Clock | None = None) -> None:
        """``clock``: seconds, monotonic (default :func:`time.perf_counter`); it times
        frames and the settling after loads (tests pass a fake one)."""
        self.plotter = plotter
        self.scene = scene
        self.budget = FrameBudget(point_budget, clock=clock)
        self.multi_samples: int | None = 0
        self.min_pixels = DEFAULT_MIN_PIXELS
        self.drawn_points = 0
        #: triangles of the tile layers' last selections (counted in the frame's cost)
        self.drawn_tile_triangles = 0
        self.drawn_tile_actors = 0
        self._tile_budget: int | None = None
        #: process_updates times its frames to the end of plotter.render()
        self._time_whole_render = False
        #: camera signature of the selection process_updates made for the frame the
        #: widget's paint event draws next (its StartEvent need not select again)
        self._fresh_sig: Any = None
        self.on_update: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._needs_update = False
        self._lod_sig: Any = None
        self._in_update = False
        self._render_pending = False  # a scene event asked for a frame not drawn yet
        self._pool: ThreadPoolExecutor | None = None
        self._entries: dict[int, _Entry] = {}
        self._overlays = Overlays(plotter)
        #: the legend / colour bar; its ``on_warning`` hears of text no font can draw
        self.legend_overlays = self._overlays
        self._highlight: str | None = None  # actor name of the selected object
        self._program_size_on = False  # GL_PROGRAM_POINT_SIZE enabled by a point actor
        self._edl_on = False
        self._edl_tag: tuple[Any, int] | None = None  # (render window, EndEvent observer)
        self._clip_function: tuple[Any, Any] | None = None  # (clip, vtk implicit function)
        #: the clip region's wireframe (None without an active clip)
        self.clip_outline_actor: Any = None
        self._handlers = {
            "layer_added": self._on_layer_added,
            "layer_removed": self._on_layer_removed,
            "layer_changed": self._on_layer_changed,
            "layers_reordered": self._on_layers_reordered,
            "background_changed": self._on_background_changed,
            "edl_changed": self._on_edl_changed,
            "selection_changed": self._on_selection_changed,
            "feature_selected": self._on_feature_selected,
            "clip_changed": self._on_clip_changed,
        }
        for name, handler in self._handlers.items():
            scene.connect(name, handler)
        self.plotter.set_background(self.scene.background)
        self._apply_multi_samples()
        for layer in scene.layers:
            self._build(layer)
        self._set_edl(scene.edl)
        self._update_clip_outline()
        self._update_overlays()
        self._observers: list[tuple[Any, int]] = []
        self._add_observers()
        if scene.layers:
            self.fit()

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Disconnect from the scene and remove every actor this renderer added."""
        for name, handler in self._handlers.items():
            self.scene.disconnect(name, handler)
        for obj, tag in self._observers:
            try:
                obj.RemoveObserver(tag)
            except Exception:  # noqa: BLE001 - a window already gone
                pass
        self._observers = []
        paint_iren = getattr(self, "_paint_iren", None)
        if paint_iren is not None:
            paint_iren.EnableRenderOn()
            self._paint_iren = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        for entry in list(self._entries.values()):
            if entry.tiles is not None:
                entry.tiles.close()
            self._remove_actors(entry)
        self._entries.clear()
        if self.clip_outline_actor is not None:
            self.plotter.remove_actor("realscene-clip-outline", reset_camera=False,
                                      render=False)
            self.clip_outline_actor = None
        self._remove_overlays()
        if self._edl_on:
            self._set_edl(False)

    def render(self) -> None:
        self.plotter.render()

    def render_soon(self) -> None:
        """GUI thread: draw one frame. An on-screen Qt widget whose paint event always
        renders (pyvistaqt) is asked for that paint: rendering now as well drew every
        frame twice (render(), then the paint its end schedules). Elsewhere: now."""
        if self._paint_renders():
            self._render_pending = False
            self.plotter.update()
        else:
            self.render()

    def refresh(self, layer: Layer | None = None) -> None:
        """Rebuild the actors of ``layer`` (default: all layers), e.g. after data edits."""
        for lay in [layer] if layer is not None else list(self.scene.layers):
            entry = self._entries.get(lay.id)
            if entry is not None:
                entry.source = None
                entry.bounds = None
                entry.scalar = None
                entry.cache.clear()
            self._build(lay)
        self._update_overlays()
        self.render()

    def actors(self, layer: Layer) -> list[Any]:
        entry = self._entries.get(layer.id)
        return list(entry.actors) if entry else []

    # -- coordinates ---------------------------------------------------------------------
    @property
    def origin(self) -> np.ndarray:
        return (np.zeros(3) if self.scene.origin is None
                else np.asarray(self.scene.origin, dtype=np.float64))

    def to_local(self, xyz: Any) -> np.ndarray:
        """True coordinates -> scene-local coordinates (float64)."""
        return np.asarray(xyz, dtype=np.float64) - self.origin

    def to_true(self, xyz: Any) -> np.ndarray:
        """Scene-local coordinates -> true coordinates (float64)."""
        return np.asarray(xyz, dtype=np.float64) + self.origin

    def _model(self, layer: Layer, origin: Any = None) -> np.ndarray:
        """4x4 affine: positions relative to ``origin`` (default the layer data's) ->
        scene-local coordinates (offset + layer transform)."""
        origin = np.asarray(layer.data.origin if origin is None else origin, np.float64)
        transform = np.asarray(layer.transform, dtype=np.float64)
        model = np.eye(4)
        if np.allclose(transform, np.eye(4)):
            model[:3, 3] = origin - self.origin
        else:  # transform acts on true coordinates: T(o + l) - o_scene
            rot = transform[:3, :3]
            model[:3, :3] = rot
            model[:3, 3] = rot @ origin + transform[:3, 3] - self.origin
        return model

    def _local_positions(self, layer: Layer, local: np.ndarray,
                         origin: Any = None) -> np.ndarray:
        """Float32 positions relative to ``origin`` (default the layer data's origin) ->
        scene-local float32 (offset + transform)."""
        model = self._model(layer, origin)
        if np.allclose(model[:3, :3], np.eye(3)):
            offset = model[:3, 3].astype(np.float32)
            return (local + offset).astype(np.float32, copy=False)
        return (local.astype(np.float64) @ model[:3, :3].T + model[:3, 3]).astype(np.float32)

    # -- level of detail -------------------------------------------------------------------
    def set_point_budget(self, budget: int | str) -> None:
        """``"auto"`` or a number of points (drawn at rest; less while moving)."""
        self.budget.set_point_budget(budget)
        self._lod_sig = None

    def budgets(self) -> tuple[int, int]:
        """(interactive, rest) budgets: from the measured cost per point in auto mode."""
        return self.budget.budgets()

    def current_budget(self) -> int:
        """The budget the next frame uses."""
        off = self._off_screen()
        return self.budget.current(off, not off and self._layers_loading())

    @property
    def total_points(self) -> int:
        total = 0
        for entry in self._entries.values():
            if isinstance(entry.layer.data, PointCloud):
                src = entry.source
                total += src.total_points if src is not None else entry.layer.data.point_count
        return total

    @property
    def needs_update(self) -> bool:
        return self._needs_update

    def _off_screen(self) -> bool:
        return bool(getattr(self.plotter, "off_screen", False))

    def _apply_multi_samples(self) -> None:
        if self._off_screen() or self.multi_samples is None:
            return
        ren_win = getattr(self.plotter, "ren_win", None)
        if ren_win is not None:
            try:
                ren_win.SetMultiSamples(int(self.multi_samples))
            except Exception:  # noqa: BLE001 - a window without MSAA control
                pass

    def _layers_loading(self) -> bool:
        return any(getattr(e.layer, "loading", False) for e in self._entries.values())

    def loading_active(self) -> bool:
        """True while a layer is loading or a layer was added / swapped moments ago:
        frames then use the interactive budget (the rest refinement waits)."""
        return self.budget.settling() or self._layers_loading()

    def _mark_settling(self) -> None:
        """A layer was added or its data swapped: stay interactive for a moment, then
        refine (from :meth:`process_updates`)."""
        if self._off_screen():
            return
        self.budget.start_settling()
        self._needs_update = True

    def _request_update(self) -> None:
        """Any thread: something new is ready to be drawn."""
        self._needs_update = True
        callback = self.on_update
        if callback is not None:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a hook must not break the renderer
                pass

    def process_updates(self) -> bool:
        """GUI thread (poll from a QTimer): if fetched nodes arrived, a refinement step is
        due or a scene event asked for a frame, re-select and render once. Returns True
        when it rendered. While :meth:`loading_active`, refinement waits (frames use the
        interactive budget) and the poll keeps ``needs_update`` set."""
        if not self._needs_update or self.interacting:
            return False
        waiting = self.loading_active()
        rest = self.budget.poll_started(waiting)
        self._needs_update = False
        rendered = False
        while True:
            self.budget.refine_step(rest, waiting)
            changed = self.update_lod()
            if (changed or self._render_pending) and self._paint_renders():
                # a Qt widget that renders in its paint event (pyvistaqt always does, even
                # right after a render): ask for that one frame rather than render now
                # and again when it paints -- every frame of a streaming view cost twice
                self._fresh_sig = camera.signature(self.plotter.renderer)
                self._render_pending = False
                self.plotter.update()
                rendered = True
            elif changed or self._render_pending:
                self._in_update = True  # selection is current: do not redo in StartEvent
                # the frame is timed to the end of render(): the window's buffer swap and
                # blit (where llvmpipe finishes drawing) are half of a frame of many tiles
                self._time_whole_render = not self._off_screen()
                try:
                    self.plotter.render()
                finally:
                    self._in_update = False
                    self._time_whole_render = False
                    self._render_pending = False
                    if self.budget.in_frame:
                        self._end_frame()
                rendered = True
            if self.budget.refine is None or changed or waiting:
                break
        if self.budget.refining:
            self._needs_update = True  # the next step on a later poll
        return rendered

    def _paint_renders(self) -> bool:
        """The plotter is an on-screen Qt widget whose paint event renders the scene."""
        return (not self._off_screen() and callable(getattr(self.plotter, "paintGL", None))
                and callable(getattr(self.plotter, "update", None))
                and bool(getattr(self.plotter, "isVisible", lambda: False)()))

    def _ensure_source(self, entry: _Entry) -> LodSource | None:
        """The layer's LodSource (building an in-memory octree on first use); None while
        a progressive load without LOD is still filling the layer in."""
        layer = entry.layer
        data = layer.data
        src = layer.lod
        if src is not None and not (isinstance(src, OctreeSource) and (
                src.cloud is not data or src.total_points != data.point_count)):
            entry.source = src
            return src
        if layer.loading:
            entry.source = None
            return None
        src = entry.source
        if (isinstance(src, OctreeSource) and src.cloud is data
                and src.total_points == data.point_count):
            return src
        src = build_octree(data)
        layer.lod = src
        entry.source = src
        entry.bounds = None
        return src

    def _view_proj(self) -> tuple[np.ndarray, np.ndarray | None, float]:
        renderer = self.plotter.renderer
        _, _, _, h = camera.viewport(renderer)
        cam = renderer.GetActiveCamera()
        eye = None if cam.GetParallelProjection() else np.array(cam.GetPosition())
        return camera.view_projection(renderer), eye, h

    def update_lod(self, force: bool = False, budget: int | None = None,
                   wait: bool | None = None) -> bool:
        """Select the nodes to draw for the current camera and budget and update the
        point actors. Returns True when what is drawn changed. ``wait``: fetch
        non-resident nodes before drawing (default: off-screen plotters wait). Tile
        layers select and stream their tiles here too (:mod:`viewer.tile_layer`)."""
        tiles_changed = self._update_tiles(self._off_screen() if wait is None else wait)
        entries = [e for e in self._entries.values() if isinstance(e.layer.data, PointCloud)]
        if not entries:
            return tiles_changed
        off = self._off_screen()
        budget = self.budget.choose(off, not off and budget is None and self._layers_loading(),
                                    budget)
        if wait is None:
            wait = off
        sig = (camera.signature(self.plotter.renderer), budget,
               tuple(e.layer.visible for e in entries))
        if not force and sig == self._lod_sig and all(e.drawn_sig is not None for e in entries):
            return tiles_changed
        self._lod_sig = sig
        view_proj, eye, height = self._view_proj()
        lod_entries, pairs, plain = [], [], []
        for entry in entries:
            if not entry.layer.visible:
                continue
            src = self._ensure_source(entry)
            if src is None:
                plain.append(entry)
            else:
                lod_entries.append(entry)
                pairs.append((src, self._model(entry.layer, src.origin)))
        selections = select_nodes_multi(pairs, view_proj, height, budget, eye=eye,
                                        min_pixels=self.min_pixels) if pairs else []
        used = sum(sel.point_count for sel in selections)
        changed = False
        for entry, sel in zip(lod_entries, selections, strict=True):
            partial = 0
            keys = tuple(sel.keys)
            if not keys and sel.root_visible:  # the root alone exceeds the budget
                keys = (entry.source.root,)
                partial = max(1, (budget - used) // max(1, len(lod_entries)))
            changed |= self._draw_selection(entry, keys, partial, wait)
        for entry in plain:
            changed |= self._draw_plain(entry, budget)
        self.drawn_points = sum(len(e.points) for e in entries
                                if e.points is not None and e.layer.visible)
        return changed or tiles_changed

    def _update_tiles(self, wait: bool) -> bool:
        """Stream every tile layer for the current camera (``wait``: load what the view
        needs first, off-screen); True when tile actors changed."""
        changed = False
        tiles = [e.tiles for e in self._entries.values() if e.tiles is not None]
        if not tiles:
            self.drawn_tile_triangles = self.drawn_tile_actors = 0
            return False
        off = self._off_screen()
        share = self.budget.triangle_budget(off, not off and self._layers_loading(),
                                            self.drawn_points, self._tile_budget)
        if share is not None:  # measured frame times: what the frame affords
            self._tile_budget = share
            share = max(share // len(tiles), 1)
        for draw in tiles:
            draw.set_triangle_budget(share)
            changed |= draw.update(wait=wait)
        self.drawn_tile_triangles = sum(d.triangles_shown for d in tiles)
        self.drawn_tile_actors = sum(d.actor_count for d in tiles)
        return changed

    def tile_draw(self, layer: Layer) -> tile_layer.TileDraw | None:
        """The stream and tile actors of a tile layer (None for other layers)."""
        entry = self._entries.get(layer.id)
        return None if entry is None else entry.tiles

    @contextlib.contextmanager
    def held_lod(self) -> Any:
        """Inside, renders keep the points drawn as they are (no re-selection when the
        camera changes): the tiles of one large picture all show the selection made for
        the whole picture (:mod:`viewer.media_render`)."""
        held, self._in_update = self._in_update, True
        try:
            yield self
        finally:
            self._in_update = held

    def drawn_indices(self, layer: Layer) -> np.ndarray | None:
        """Indices (into ``layer.data``) of the points drawn for ``layer`` for the current
        camera and budget (hidden classes excluded). None for meshes and for streamed
        sources whose points are not part of ``layer.data``."""
        if not isinstance(layer.data, PointCloud):
            return None
        self.update_lod()
        entry = self._entries.get(layer.id)
        return None if entry is None else entry.indices

    def _scalar_info(self, entry: _Entry) -> Any:
        layer = entry.layer
        mode = colors.effective_mode(layer)
        if mode not in colors.SCALAR_MODES:
            return None
        key = (mode, layer.attribute, layer.colormap, tuple(layer.contrast), id(layer.data),
               layer.data.point_count,
               id(getattr(layer.data, "attributes", {}).get(layer.attribute)))
        if entry.scalar is None or entry.scalar[0] != key:
            entry.scalar = (key, colors.scalar_info(layer))
        return entry.scalar[1]

    def _draw_selection(self, entry: _Entry, keys: tuple, partial: int, wait: bool) -> bool:
        layer = entry.layer
        src = entry.source
        sig = (keys, partial)
        if isinstance(src, OctreeSource) and src.cloud is layer.data:
            if sig == entry.drawn_sig:
                return False
            parts, own, part_keys = [], {}, []
            for key in keys:
                start, stop = src.node_slice(key)
                step = 1 if not partial else max(1, -(-(stop - start) // partial))
                parts.append(np.arange(start, stop, step, dtype=np.int64))
                own[key] = self._node_spacing(entry, key, src.cloud.positions[start:stop], step)
                part_keys.append(np.full(len(parts[-1]), len(own) - 1, np.int32))
            idx = np.concatenate(parts) if parts else np.zeros(0, np.int64)
            mask = colors.visible_mask(layer, idx)
            if mask is not None:
                idx = idx[mask]
            spacing = self._lod_spacing(entry, src.cloud.positions, part_keys, mask, own,
                                        idx)
            data: PointCloud = layer.data
            pts = self._local_positions(layer, data.positions[idx])
            keep = self._clip_mask(pts)
            if keep is not None:
                idx, pts, spacing = idx[keep], pts[keep], spacing[keep]
            entry.indices = idx
            entry.node_refs = None
            rgb = (colors.layer_colors(layer, idx, scalar=self._scalar_info(entry)).rgb
                   if len(idx) else np.zeros((0, 3), np.uint8))
            entry.drawn_sig = sig
            self._set_points(entry, pts, rgb, spacing)
            return True
        # generic source: node clouds, fetched in the background when not resident
        clouds = self._node_clouds(entry, keys, wait)
        sig = (keys, partial, tuple(k for k, _ in clouds))
        if sig == entry.drawn_sig:
            return False
        info = self._scalar_info(entry)
        pts_list, rgb_list, refs, offsets, own, src_pts, part_keys = [], [], [], [0], {}, [], []
        for key, cloud in clouds:
            local = np.arange(cloud.point_count)
            step = max(1, -(-cloud.point_count // partial)) if partial else 1
            local = local[::step]
            mask = colors.visible_mask(layer, local, data=cloud)
            if mask is not None:
                local = local[mask]
            own[key] = self._node_spacing(entry, key, cloud.positions, step)
            drawn = self._local_positions(layer, cloud.positions[local], cloud.origin)
            keep = self._clip_mask(drawn)
            if keep is not None:
                local, drawn = local[keep], drawn[keep]
            part_keys.append(np.full(len(local), len(own) - 1, np.int64))
            shift = np.asarray(cloud.origin, np.float64) - np.asarray(src.origin, np.float64)
            src_pts.append(cloud.positions[local].astype(np.float64) + shift)
            pts_list.append(drawn)
            rgb_list.append(colors.layer_colors(layer, local, data=cloud, scalar=info).rgb)
            refs.append((key, cloud, local))
            offsets.append(offsets[-1] + len(local))
        pts = np.concatenate(pts_list) if pts_list else np.zeros((0, 3), np.float32)
        rgb = np.concatenate(rgb_list) if rgb_list else np.zeros((0, 3), np.uint8)
        spacing = self._lod_spacing(entry, np.concatenate(src_pts) if src_pts
                                    else np.zeros((0, 3)), part_keys, None, own)
        entry.indices = None
        entry.node_refs = (np.asarray(offsets), refs)
        entry.drawn_sig = sig
        self._set_points(entry, pts, rgb, spacing)
        return True

    def _lod_spacing(self, entry: _Entry, positions: np.ndarray, part_keys: list,
                     mask: np.ndarray | None, own: dict, idx: np.ndarray | None = None
                     ) -> np.ndarray:
        """Per drawn point, the spacing the adaptive size uses
        (:func:`viewer.pointsize.lod_spacing`); ``part_keys`` per node, before ``mask``;
        ``idx``: the drawn points are ``positions[idx]`` (gathered a step at a time)."""
        index = np.concatenate(part_keys) if part_keys else np.zeros(0, np.int32)
        if mask is not None:
            index = index[mask]
        if not own or not len(index):
            return np.zeros(len(index), np.float32)
        try:
            root = entry.source.node(entry.source.root)
        except Exception:  # noqa: BLE001 - hierarchy not known: each node its own
            return np.asarray(list(pointsize.cumulative_spacing(own).values()),
                              np.float32)[index]
        return pointsize.lod_spacing(positions, index, own, root.lo, root.hi, idx)

    @staticmethod
    def _node_spacing(entry: _Entry, key: Any, positions: np.ndarray, step: int = 1) -> float:
        """Spacing of node ``key``'s points (:func:`viewer.pointsize.surface_spacing` of
        its local ``positions``, measured once per node and source), wider by sqrt(step)
        when only every ``step``-th point is drawn."""
        cache_key = (id(entry.source), key)
        spacing = entry.spacing_cache.get(cache_key)
        if spacing is None:
            spacing = entry.spacing_cache[cache_key] = pointsize.surface_spacing(positions)
            if len(entry.spacing_cache) > 100_000:  # bounded (streamed sources)
                entry.spacing_cache.clear()
        return spacing * float(np.sqrt(max(int(step), 1)))

    def _node_clouds(self, entry: _Entry, keys: tuple, wait: bool) -> list:
        """(key, PointCloud) of the selected nodes available now; requests the others."""
        src = entry.source
        out = []
        waiting: list[tuple[Any, Future]] = []
        for key in keys:
            with self._lock:
                cloud = entry.cache.get(key)
                if cloud is not None:
                    entry.cache.move_to_end(key)
            if cloud is None and src.is_resident(key):
                try:
                    cloud = src.get(key)
                except Exception:  # noqa: BLE001 - a failed node is just not drawn
                    cloud = None
                if cloud is not None:
                    with self._lock:
                        entry.cache[key] = cloud
            if cloud is None:
                fut = self._fetch(entry, key)
                if wait and fut is not None:
                    waiting.append((key, fut))
                continue
            out.append((key, cloud))
        for key, fut in waiting:
            try:
                fut.result(timeout=120)
            except Exception:  # noqa: BLE001
                continue
            with self._lock:
                cloud = entry.cache.get(key)
            if cloud is not None:
                out.append((key, cloud))
        # keep the cache bounded: drop least recently used nodes not drawn now
        with self._lock:
            keep = set(keys)
            total = sum(c.point_count for c in entry.cache.values())
            for key in list(entry.cache):
                if total <= _NODE_CACHE_POINTS:
                    break
                if key not in keep:
                    total -= entry.cache.pop(key).point_count
        return out

    def _fetch(self, entry: _Entry, key: Any) -> Future | None:
        with self._lock:
            fut = entry.pending.get(key)
            if fut is not None:
                return fut
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lod-fetch")
            src = entry.source

            def job() -> None:
                try:
                    cloud = src.get(key)
                except Exception:  # noqa: BLE001 - not drawn; retried on the next selection
                    cloud = None
                with self._lock:
                    entry.pending.pop(key, None)
                    if cloud is not None and entry.source is src:
                        entry.cache[key] = cloud
                if cloud is not None:
                    self._request_update()

            fut = self._pool.submit(job)
            entry.pending[key] = fut
            return fut

    def _draw_plain(self, entry: _Entry, budget: int) -> bool:
        """No LOD source (a layer still loading): a strided subsample within budget."""
        layer = entry.layer
        data: PointCloud = layer.data
        n = data.point_count
        sig = ("plain", n, budget)
        if sig == entry.drawn_sig:
            return False
        idx = np.arange(0, n, max(1, -(-n // max(budget, 1))), dtype=np.int64)
        mask = colors.visible_mask(layer, idx)
        if mask is not None:
            idx = idx[mask]
        pts = self._local_positions(layer, data.positions[idx])
        keep = self._clip_mask(pts)
        if keep is not None:
            idx, pts = idx[keep], pts[keep]
        entry.indices = idx
        entry.node_refs = None
        rgb = colors.layer_colors(layer, idx, scalar=self._scalar_info(entry)).rgb
        entry.drawn_sig = sig
        spacing = np.full(len(pts), pointsize.surface_spacing(pts), np.float32)
        self._set_points(entry, pts, rgb, spacing)
        return True

    def _set_points(self, entry: _Entry, pts: np.ndarray, rgb: np.ndarray,
                    spacing: np.ndarray | None = None) -> None:
        """Hand the drawn points to the layer's actor; ``spacing`` (per point, world
        units) sizes them in the adaptive mode."""
        entry.points = pts
        entry.spacing = (np.zeros(len(pts), np.float32) if spacing is None
                         else np.ascontiguousarray(spacing, dtype=np.float32))
        if entry.mapper is None:
            return
        poly = pv.PolyData(pts) if len(pts) else pv.PolyData()
        if len(pts):
            poly.point_data.set_array(np.ascontiguousarray(rgb, dtype=np.uint8), "rgb")
            poly.point_data.set_array(entry.spacing, _SPACING_ARRAY)
            poly.point_data.active_scalars_name = "rgb"
        entry.mapper.SetInputData(poly)
        entry.mapper.Modified()

    # -- timing and interaction ----------------------------------------------------------------
    def _add_observers(self) -> None:
        renderer = self.plotter.renderer
        self._observers.append((renderer, renderer.AddObserver("EndEvent",
                                                               self._on_renderer_end)))
        ren_win = getattr(self.plotter, "render_window", None) or getattr(
            self.plotter, "ren_win", None)
        if ren_win is not None:
            self._observers.append((ren_win, ren_win.AddObserver(
                "StartEvent", self._on_render_start)))
            self._observers.append((ren_win, ren_win.AddObserver(
                "EndEvent", self._on_render_end)))
        iren = getattr(self.plotter, "iren", None)
        vtk_iren = getattr(iren, "interactor", None)
        if vtk_iren is not None and ren_win is not None and callable(
                getattr(self.plotter, "paintGL", None)):
            self._paint_interaction_frames(vtk_iren, ren_win)
        if vtk_iren is not None:
            targets = [vtk_iren]
            style = vtk_iren.GetInteractorStyle()
            if style is not None:
                targets.append(style)
            for obj in targets:
                self._observers.append((obj, obj.AddObserver(
                    "StartInteractionEvent", self._on_interaction_start)))
                self._observers.append((obj, obj.AddObserver(
                    "EndInteractionEvent", self._on_interaction_end)))

    def _paint_interaction_frames(self, vtk_iren: Any, ren_win: Any) -> None:
        """A Qt widget whose paint always renders (pyvistaqt): the interactor's renders
        (each camera step of a drag or wheel) become a paint request, as C++
        QVTKOpenGLNativeWidget does (EnableRender off, RenderEvent -> update). Before,
        the interactor rendered and the paint its frame scheduled rendered again: two
        frames per step. Inside the paint, the interactor's render draws (paintGL
        renders through it)."""
        widget = self.plotter
        vtk_iren.EnableRenderOff()
        self._paint_iren = vtk_iren  # close() gives the interactor its renders back

        def on_render(*_: Any) -> None:
            if getattr(widget, "_in_paint", False):
                ren_win.Render()
            else:
                widget.update()

        self._observers.append((vtk_iren, vtk_iren.AddObserver("RenderEvent", on_render)))

    def _on_render_start(self, *_: Any) -> None:
        fresh, self._fresh_sig = self._fresh_sig, None
        if fresh is not None and fresh == camera.signature(self.plotter.renderer):
            pass  # process_updates selected for this very camera moments ago
        elif not self._in_update:
            self._in_update = True
            try:
                self.update_lod()
            except Exception:  # noqa: BLE001 - never break a render
                import traceback

                traceback.print_exc()
            finally:
                self._in_update = False
        self._update_point_uniforms()
        self.budget.frame_started()

    def _on_render_end(self, *_: Any) -> None:
        if not self.budget.in_frame or self._time_whole_render:
            return  # (process_updates ends the frame once render() returned)
        self._end_frame()

    def _end_frame(self) -> None:
        self._render_pending = False
        on_screen = not self._off_screen()
        # a frame cut by its budget when the measured cost allows clearly more:
        # draw more on a later poll (each such frame still fits its target)
        tris = int(TRIANGLE_POINTS * self.drawn_tile_triangles  # as points (budget.py)
                   + ACTOR_POINTS * self.drawn_tile_actors)
        if self.budget.frame_ended(self.drawn_points + tris, self.total_points + tris,
                                   timed=on_screen,
                                   layers_loading=on_screen and self._layers_loading()):
            self._request_update()

    def _on_interaction_start(self, *_: Any) -> None:
        self.budget.interaction_started()

    def _on_interaction_end(self, *_: Any) -> None:
        if self.budget.interaction_ended():
            self._request_update()

    # -- actors ------------------------------------------------------------------------------
    def _remove_actors(self, entry: _Entry) -> None:
        for name in entry.names:
            self.plotter.remove_actor(name, reset_camera=False, render=False)
        entry.actors, entry.names = [], []
        entry.mesh_actor_ids = set()
        entry.mapper = None
        entry.drawn_sig = None

    def _build(self, layer: Layer) -> None:
        entry = self._entries.get(layer.id)
        if entry is None:
            entry = self._entries[layer.id] = _Entry(layer)
        if entry.tiles is not None and entry.tiles.tileset is not layer.data:
            entry.tiles.close()  # new data (Assign CRS, undo): a new stream
            entry.tiles = None
        if entry.tiles is not None:
            entry.tiles.clear()
        self._remove_actors(entry)
        if tile_layer.is_tiles(layer.data):
            if entry.tiles is None:
                entry.tiles = tile_layer.TileDraw(self, entry)
            else:
                entry.tiles.rebuild()
            entry.tiles.update(wait=self._off_screen())
        elif isinstance(layer.data, PointCloud):
            self._build_points(entry)
        else:
            self._build_mesh(entry)
        self._apply_properties(entry)
        sel = self.scene.selected_feature
        if sel is not None and sel[0] is layer:
            self._update_highlight()

    def _add(self, entry: _Entry, poly: pv.PolyData, suffix: str = "", **kwargs: Any) -> Any:
        """Add one of the layer's mesh actors (cut by the clip first); None when the clip
        leaves nothing of it."""
        poly = self._clip_poly(poly)
        if poly is None:
            return None
        name = f"{_ACTOR_PREFIX}{entry.layer.id}{suffix}"
        actor = self.plotter.add_mesh(poly, name=name, reset_camera=False, render=False,
                                      show_scalar_bar=False, **kwargs)
        entry.actors.append(actor)
        entry.names.append(name)
        return actor

    def _build_points(self, entry: _Entry) -> None:
        """One actor per point layer; its data is replaced by :meth:`update_lod`."""
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

        layer = entry.layer
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(pv.PolyData())
        mapper.SetScalarModeToUsePointFieldData()
        mapper.SelectColorArray("rgb")
        mapper.SetColorModeToDirectScalars()
        mapper.ScalarVisibilityOn()
        mapper.MapDataArrayToVertexAttribute("rsSpacing", _SPACING_ARRAY, 0, -1)
        # the adaptive size is the vertex shader's gl_PointSize: program point size on
        # while this mapper draws (off again after the renderer, see _on_renderer_end)
        from vtkmodules.vtkCommonCore import vtkCommand

        mapper.AddObserver(vtkCommand.UpdateShaderEvent,
                           lambda *_: self._program_point_size(entry))
        actor = vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetRepresentationToPoints()
        prop.SetPointSize(float(layer.point_size))
        prop.LightingOff()
        prop.SetRenderPointsAsSpheres(False)
        name = f"{_ACTOR_PREFIX}{layer.id}"
        self.plotter.add_actor(actor, name=name, reset_camera=False, render=False)
        entry.actors.append(actor)
        entry.names.append(name)
        entry.mapper = mapper
        entry.shader_sig = None
        entry.drawn_sig = None
        entry.points = np.zeros((0, 3), np.float32)
        self.update_lod(force=True)

    def _build_mesh(self, entry: _Entry) -> None:
        layer = entry.layer
        data: Mesh = layer.data
        entry.indices = None
        extras = data.points is not None or data.lines is not None  # glTF points/lines
        if data.vertex_count == 0 or (data.triangle_count == 0 and not extras):
            entry.points = np.zeros((0, 3), np.float32)
            return
        pts = self._local_positions(layer, data.vertices)
        entry.points = pts
        faces = np.asarray(data.faces, dtype=np.int64)
        lc = colors.layer_colors(layer)
        # city / building models: only the chosen LOD, shown objects, filter matches
        shown = features.visible_faces(layer)
        face_keep = np.ones(len(faces), bool) if shown is None else shown.copy()
        textured: list[tuple[np.ndarray, np.ndarray]] = []  # (texture image, face ids)
        if lc.mode == "material" and data.uvs is not None and len(data.uvs) == len(pts):
            groups: dict[int, tuple[np.ndarray, list[np.ndarray]]] = {}
            for part in data.parts:
                tex = part.material.texture
                if tex is None or not np.size(tex) or part.stop <= part.start:
                    continue
                ids = np.arange(max(0, part.start), min(len(faces), part.stop))
                if shown is not None:
                    ids = ids[shown[ids]]
                groups.setdefault(id(tex), (np.asarray(tex), []))[1].append(ids)
                face_keep[ids] = False
            textured = [(img, np.concatenate(ids)) for img, ids in groups.values()]
        kwargs = dict(smooth_shading=False, lighting=True)
        if face_keep.any():
            keep = np.flatnonzero(face_keep)
            poly = pv.PolyData.from_regular_faces(pts, faces[keep])
            poly.cell_data["face_id"] = keep.astype(np.int32)  # picking -> object
            if lc.association == "cell":
                poly.cell_data["rgb"] = lc.rgb[keep]
            else:
                poly.point_data["rgb"] = lc.rgb
            actor = self._add(entry, poly, scalars="rgb", rgb=True, **kwargs)
            if actor is not None:
                entry.mesh_actor_ids.add(id(actor))
        for k, (img, ids) in enumerate(textured):
            poly, texture = tile_layer.textured_polydata(pts, faces, ids, data.uvs, img)
            actor = self._add(entry, poly, suffix=f"-tex{k}", texture=texture, **kwargs)
            if actor is not None:
                entry.mesh_actor_ids.add(id(actor))
        if extras:
            self._add_points_and_lines(entry, pts, lc)

    def _add_points_and_lines(self, entry: _Entry, pts: np.ndarray, lc: Any) -> None:
        """A mesh's POINTS and LINES primitives (glTF): drawn over the same vertices, so
        a pick on them gives a vertex of the layer. Coloured per vertex when the layer's
        colouring is per vertex, else by the file's vertex colours, else the layer colour."""
        layer = entry.layer
        data: Mesh = layer.data
        if lc.association == "point" and len(lc.rgb) == len(pts):
            rgb = np.asarray(lc.rgb)[:, :3]
        elif data.vertex_colors is not None and len(data.vertex_colors) == len(pts):
            rgb = np.asarray(data.vertex_colors)[:, :3]
        else:
            solid = np.round(np.asarray(layer.solid_color, np.float64) * 255)
            rgb = np.broadcast_to(solid.astype(np.uint8), (len(pts), 3))
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        if data.points is not None and len(data.points):
            ids = np.asarray(data.points, np.int64)
            verts = np.column_stack([np.ones(len(ids), np.int64), ids]).ravel()
            poly = pv.PolyData(pts, verts=verts)
            poly.point_data["rgb"] = rgb
            self._add(entry, poly, suffix="-points", scalars="rgb", rgb=True, style="points",
                      point_size=float(layer.point_size), lighting=False,
                      render_points_as_spheres=False)
        if data.lines is not None and len(data.lines):
            seg = np.asarray(data.lines, np.int64)
            cells = np.column_stack([np.full(len(seg), 2, np.int64), seg]).ravel()
            poly = pv.PolyData(pts, lines=cells)
            poly.point_data["rgb"] = rgb
            self._add(entry, poly, suffix="-lines", scalars="rgb", rgb=True, line_width=2.0,
                      lighting=False)

    def _apply_properties(self, entry: _Entry) -> None:
        layer = entry.layer
        for actor in entry.actors:
            actor.SetVisibility(bool(layer.visible))
            prop = actor.GetProperty()
            prop.SetOpacity(float(layer.opacity))
            if isinstance(layer.data, PointCloud) or getattr(layer.data, "points", None) \
                    is not None:  # (a mesh's glTF POINTS too)
                prop.SetPointSize(float(layer.point_size))
        if entry.mapper is not None:
            self._point_shader(entry)

    # -- point size and shape (viewer.pointsize) -------------------------------------------
    @staticmethod
    def _adaptive(entry: _Entry) -> bool:
        return entry.mapper is not None and entry.layer.point_size_mode == "adaptive"

    def _point_shader(self, entry: _Entry) -> None:
        """Shader parts of a point layer's actor for its size mode and shape: adaptive
        sizes in the vertex shader, round splats by discarding the corners."""
        layer = entry.layer
        sig = (layer.point_size_mode, layer.point_shape)
        if sig == entry.shader_sig or not entry.actors:
            return
        entry.shader_sig = sig
        shader = entry.actors[0].GetShaderProperty()
        shader.ClearAllShaderReplacements()
        if self._adaptive(entry):
            shader.AddVertexShaderReplacement("//VTK::PositionVC::Dec", True, _VS_DEC, False)
            shader.AddVertexShaderReplacement("//VTK::PositionVC::Impl", True, _VS_SIZE,
                                              False)
            self._point_uniforms(entry)
        if layer.point_shape == "round":
            shader.AddFragmentShaderReplacement("//VTK::UniformFlow::Impl", True, _FS_ROUND,
                                                False)
        entry.mapper.Modified()

    def projection_pixels(self) -> float:
        """Pixels a world unit spans at clip-space w = 1 in the current view (the
        shader divides by w): viewport half-height x the projection's y scale."""
        renderer = self.plotter.renderer
        _, _, w, h = camera.viewport(renderer)
        mat = renderer.GetActiveCamera().GetProjectionTransformMatrix(w / h, -1.0, 1.0)
        return float(abs(mat.GetElement(1, 1))) * h / 2.0

    def point_pixel_sizes(self, layer: Layer) -> np.ndarray | None:
        """Sizes (pixels) of the drawn points of a point layer, as the shader draws them
        (None for meshes / nothing drawn)."""
        entry = self._entries.get(layer.id)
        if entry is None or entry.points is None or entry.mapper is None:
            return None
        minimum = float(entry.actors[0].GetProperty().GetPointSize()) if entry.actors \
            else float(layer.point_size)
        if not self._adaptive(entry) or entry.spacing is None:
            return np.full(len(entry.points), minimum)
        m = camera.view_projection(self.plotter.renderer)
        w = np.asarray(entry.points, np.float64) @ m[3, :3] + m[3, 3]
        return pointsize.pixel_sizes(entry.spacing, w, self.projection_pixels(), minimum)

    def _point_uniforms(self, entry: _Entry, projection: float | None = None) -> None:
        """The adaptive size's uniforms for the coming frame; the smallest size is the
        actor's point size (the layer's; a report picture may raise it)."""
        if not entry.actors:
            return
        actor = entry.actors[0]
        minimum = float(actor.GetProperty().GetPointSize())
        uniforms = actor.GetShaderProperty().GetVertexCustomUniforms()
        uniforms.SetUniformf("rsProj", float(
            self.projection_pixels() if projection is None else projection))
        uniforms.SetUniformf("rsMin", minimum)
        uniforms.SetUniformf("rsMax", max(pointsize.MAX_PIXELS, minimum))

    def _update_point_uniforms(self) -> None:
        projection = None
        for entry in self._entries.values():
            if self._adaptive(entry) and entry.layer.visible:
                if projection is None:
                    projection = self.projection_pixels()
                self._point_uniforms(entry, projection)

    def _gl_state(self) -> Any:
        ren_win = self.plotter.renderer.GetRenderWindow()
        return None if ren_win is None else ren_win.GetState()

    def _program_point_size(self, entry: _Entry) -> None:
        """UpdateShaderEvent of a point actor (its program is bound, it draws next)."""
        state = self._gl_state()
        if state is None:
            return
        if self._adaptive(entry):
            state.vtkglEnable(_GL_PROGRAM_POINT_SIZE)
            self._program_size_on = True
        elif self._program_size_on:
            state.vtkglDisable(_GL_PROGRAM_POINT_SIZE)
            self._program_size_on = False

    def _on_renderer_end(self, *_: Any) -> None:
        """After our renderer: program point size off again (other mappers' shaders do
        not write gl_PointSize)."""
        if self._program_size_on:
            self._program_size_on = False
            state = self._gl_state()
            if state is not None:
                state.vtkglDisable(_GL_PROGRAM_POINT_SIZE)

    # -- scene events ------------------------------------------------------------------------
    def _on_layer_added(self, layer: Layer, **_: Any) -> None:
        first = len(self._entries) == 0
        if isinstance(layer.data, PointCloud):
            self._mark_settling()
        self._build(layer)
        self._restack()  # a layer put back by undo is drawn at its place again
        self._update_overlays()
        if first:
            self.fit()
        self._auto_render()

    def _on_layer_removed(self, layer: Layer, **_: Any) -> None:
        entry = self._entries.pop(layer.id, None)
        if entry is not None:
            if entry.tiles is not None:
                entry.tiles.close()
            self._remove_actors(entry)
        if self._highlight and self._highlight.startswith(f"{_ACTOR_PREFIX}{layer.id}-"):
            self.plotter.remove_actor(self._highlight, reset_camera=False, render=False)
            self._highlight = None
        self._update_overlays()
        self._auto_render()

    def _on_layer_changed(self, layer: Layer, field: str = "", **_: Any) -> None:
        entry = self._entries.get(layer.id)
        if entry is None:
            return
        if field in _PROPERTY_FIELDS:
            self._apply_properties(entry)
            if field == "visible" and entry.tiles is not None:
                self._request_update()  # a shown tile layer streams again
        elif entry.tiles is not None and field in _TILE_FIELDS:
            entry.tiles.settings_changed()
            self._request_update()
        else:  # colours, hidden classes, transform, data: rebuild (cheap: no LOD recompute)
            if field in ("data", "loading", "lod") and isinstance(layer.data, PointCloud):
                self._mark_settling()  # e.g. the full cloud replaces a preview
            self._build(layer)
            self._restack()  # rebuilt actors keep the layer's place in the draw order
        self._update_overlays()
        self._auto_render()

    def _on_layers_reordered(self, **_: Any) -> None:
        self._restack()
        self._auto_render()

    def draw_order(self) -> list[int]:
        """Layer ids in the order their actors are drawn (VTK draws the renderer's props
        in list order; it matters for translucent layers)."""
        owner = {id(a): lid for lid, e in self._entries.items() for a in e.actors}
        props = self.plotter.renderer.GetViewProps()
        order: list[int] = []
        for i in range(props.GetNumberOfItems()):
            lid = owner.get(id(props.GetItemAsObject(i)))
            if lid is not None and lid not in order:
                order.append(lid)
        return order

    def _restack(self) -> None:
        """Move the layers' actors into the scene's layer order, in the slots they
        hold among the renderer's props (other props keep their places)."""
        ren = self.plotter.renderer
        props = ren.GetViewProps()
        current = [props.GetItemAsObject(i) for i in range(props.GetNumberOfItems())]
        ours = {id(a) for e in self._entries.values() for a in e.actors}
        wanted = [a for lay in self.scene.layers
                  for a in (self._entries[lay.id].actors if lay.id in self._entries else ())]
        slots = [i for i, p in enumerate(current) if id(p) in ours]
        if len(slots) != len(wanted) or \
                [id(current[i]) for i in slots] == [id(a) for a in wanted]:
            return
        new = list(current)
        for i, actor in zip(slots, wanted, strict=True):
            new[i] = actor
        for p in new[slots[0]:]:
            ren.RemoveViewProp(p)
        for p in new[slots[0]:]:
            ren.AddViewProp(p)

    # -- clip ------------------------------------------------------------------------------------
    def _active_clip(self) -> Any:
        clip = getattr(self.scene, "clip", None)
        return clip if clip is not None and clip.enabled else None

    def _clip_mask(self, pts_local: np.ndarray) -> np.ndarray | None:
        """Which of the drawn points (scene-local) the clip keeps; None: all of them."""
        clip = self._active_clip()
        if clip is None or not len(pts_local):
            return None
        return clip.mask(pts_local.astype(np.float64) + self.origin)

    def _convex_cells(self, clip: Any) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        """The clip region as convex cells, each a list of planes (point, outward normal)
        in scene-local coordinates: a box (turned or not) one cell of six planes, a slab
        one of two, a polygon one triangular prism per triangle of its earcut
        triangulation (holes left out), with its Z range. Cached per clip."""
        if self._clip_function is not None and self._clip_function[0] is clip:
            return self._clip_function[1]
        from heritage.monitoring.clip import Box, Polygon, Slab

        o = self.origin

        def z_planes(zmin: float | None, zmax: float | None) -> list:
            out = []
            if zmax is not None:
                out.append((np.array([0.0, 0.0, zmax - o[2]]), np.array([0.0, 0.0, 1.0])))
            if zmin is not None:
                out.append((np.array([0.0, 0.0, zmin - o[2]]), np.array([0.0, 0.0, -1.0])))
            return out

        def sides(ring: np.ndarray) -> list:
            ring = np.asarray(ring, np.float64) - o[:2]
            x, y = ring[:, 0], ring[:, 1]
            if np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) < 0:  # clockwise
                ring = ring[::-1]
            out = []
            for i in range(len(ring)):
                a, b = ring[i], ring[(i + 1) % len(ring)]
                d = b - a
                length = float(np.hypot(d[0], d[1]))
                if length > 0:
                    out.append((np.array([a[0], a[1], 0.0]),
                                np.array([d[1], -d[0], 0.0]) / length))
            return out

        region = clip.region
        if isinstance(region, Box):
            cells = [sides(region.corners_xy()) + z_planes(region.min[2], region.max[2])]
        elif isinstance(region, Slab):
            n = np.asarray(region.normal, np.float64)
            p = np.asarray(region.point, np.float64) - o
            h = region.thickness / 2.0
            cells = [[(p + h * n, n), (p - h * n, -n)]]
        elif isinstance(region, Polygon):
            import mapbox_earcut

            rings = [np.asarray(region.vertices, np.float64)]
            rings += [np.asarray(h, np.float64) for h in region.holes]
            verts = np.concatenate(rings)
            ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
            tri = mapbox_earcut.triangulate_float64(verts, ends).reshape(-1, 3)
            zs = z_planes(region.zmin, region.zmax)
            cells = [sides(verts[t]) + zs for t in tri]
        else:
            raise TypeError(f"cannot draw a clip by {type(region).__name__}")
        self._clip_function = (clip, cells)
        return cells

    @staticmethod
    def _split(poly: Any, planes: list) -> tuple[Any, Any]:
        """``poly`` -> (the part inside the convex cell, the rest), cut exactly: one plane
        at a time (a plane's function is linear, so the cut edges are exact)."""
        from vtkmodules.vtkCommonDataModel import vtkPlane, vtkPolyData
        from vtkmodules.vtkFiltersCore import vtkClipPolyData

        inside, outside = poly, []
        for point, normal in planes:
            if inside.GetNumberOfCells() == 0:
                break
            plane = vtkPlane()
            plane.SetOrigin(*(float(v) for v in point))
            plane.SetNormal(*(float(v) for v in normal))
            cutter = vtkClipPolyData()
            cutter.SetInputData(inside)
            cutter.SetClipFunction(plane)
            cutter.GenerateClippedOutputOn()  # f <= 0: the cell's side of the plane
            cutter.Update()
            beyond = vtkPolyData()
            beyond.ShallowCopy(cutter.GetOutput())
            if beyond.GetNumberOfCells():
                outside.append(beyond)
            inside = vtkPolyData()
            inside.ShallowCopy(cutter.GetClippedOutput())
        return inside, outside

    def _clip_poly(self, poly: Any) -> Any:
        """``poly`` cut by the active clip (itself without one); None when nothing is
        left. Cells keep their data (``face_id``), points theirs (colours, UVs)."""
        clip = self._active_clip()
        if clip is None or poly.n_points == 0:
            return poly
        from vtkmodules.vtkFiltersCore import vtkAppendPolyData

        kept, rest = [], poly
        for planes in self._convex_cells(clip):
            inside, outside = self._split(rest, planes)
            if inside.GetNumberOfCells():
                kept.append(inside)
            if not outside:
                rest = None
                break
            if len(outside) == 1:
                rest = outside[0]
            else:
                joined = vtkAppendPolyData()
                for part in outside:
                    joined.AddInputData(part)
                joined.Update()
                rest = joined.GetOutput()
        pieces = kept if clip.inside else ([] if rest is None else [rest])
        pieces = [p for p in pieces if p.GetNumberOfCells()]
        if not pieces:
            return None
        if len(pieces) == 1:
            out = pv.wrap(pieces[0])
        else:
            joined = vtkAppendPolyData()
            for part in pieces:
                joined.AddInputData(part)
            joined.Update()
            out = pv.wrap(joined.GetOutput())
        tcoords = poly.GetPointData().GetTCoords()
        if tcoords is not None and out.GetPointData().GetTCoords() is None:
            tc = out.GetPointData().GetArray(tcoords.GetName())
            if tc is not None:
                out.GetPointData().SetTCoords(tc)
        return out

    def clip_outline(self) -> np.ndarray | None:
        """Segments (n, 2, 3) of the active clip region's wireframe, true coordinates;
        unbounded sides (a polygon without Z range, a slab) span the scene's bounds."""
        clip = self._active_clip()
        bounds = self.scene.bounds()
        if clip is None:
            return None
        from heritage.monitoring.clip import Box, Polygon, Slab

        region = clip.region
        if bounds is None:
            lo, hi = region.bounds()
            lo = np.where(np.isfinite(lo), lo, 0.0)
            hi = np.where(np.isfinite(hi), hi, 1.0)
            bounds = (lo, hi)
        blo, bhi = (np.asarray(b, np.float64) for b in bounds)

        def prism(ring: np.ndarray, z0: float, z1: float) -> list:
            segs = []
            for i in range(len(ring)):
                a, b = ring[i], ring[(i + 1) % len(ring)]
                for z in (z0, z1):
                    segs.append([[a[0], a[1], z], [b[0], b[1], z]])
                segs.append([[a[0], a[1], z0], [a[0], a[1], z1]])
            return segs

        if isinstance(region, Box):
            segs = prism(region.corners_xy(), region.min[2], region.max[2])
        elif isinstance(region, Polygon):
            z0 = blo[2] if region.zmin is None else region.zmin
            z1 = bhi[2] if region.zmax is None else region.zmax
            segs = prism(np.asarray(region.vertices), z0, z1)
            for hole in region.holes:
                segs += prism(np.asarray(hole), z0, z1)
        elif isinstance(region, Slab):
            n = np.asarray(region.normal, np.float64)
            u = np.cross(n, [0.0, 0.0, 1.0])
            if np.linalg.norm(u) < 1e-9:
                u = np.cross(n, [1.0, 0.0, 0.0])
            u /= np.linalg.norm(u)
            v = np.cross(n, u)
            centre = (blo + bhi) / 2.0
            p = np.asarray(region.point, np.float64)
            centre = centre - ((centre - p) @ n) * n  # onto the plane
            half = max(float(np.linalg.norm(bhi - blo)) / 2.0, region.thickness)
            segs = []
            for side in (-0.5, 0.5):
                c = centre + side * region.thickness * n
                quad = [c + half * (su * u + sv * v)
                        for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
                segs += [[quad[i], quad[(i + 1) % 4]] for i in range(4)]
        else:
            return None
        return np.asarray(segs, np.float64)

    def _update_clip_outline(self) -> None:
        name = "realscene-clip-outline"
        self.plotter.remove_actor(name, reset_camera=False, render=False)
        self.clip_outline_actor = None
        if not getattr(self._active_clip(), "outline", True):
            return
        segs = self.clip_outline()
        if segs is None or not len(segs):
            return
        pts = (segs.reshape(-1, 3) - self.origin).astype(np.float32)
        n = len(segs)
        cells = np.column_stack([np.full(n, 2, np.int64), np.arange(2 * n).reshape(n, 2)])
        poly = pv.PolyData(pts, lines=cells.ravel())
        actor = self.plotter.add_mesh(poly, name=name, color=CLIP_OUTLINE_COLOR,
                                      line_width=2.0, lighting=False, pickable=False,
                                      reset_camera=False, render=False)
        self.clip_outline_actor = actor

    def _on_clip_changed(self, **_: Any) -> None:
        """Cut every layer again: point layers re-mask their drawn subset, mesh layers
        are rebuilt through the new cut."""
        self._clip_function = None
        for entry in list(self._entries.values()):
            if isinstance(entry.layer.data, PointCloud):
                entry.drawn_sig = None
            else:
                self._build(entry.layer)
        self._restack()
        self._update_clip_outline()
        self.update_lod(force=True)
        self._auto_render()

    def _on_background_changed(self, color: Any = None, **_: Any) -> None:
        self.plotter.set_background(self.scene.background if color is None else color)
        self._auto_render()

    def _on_edl_changed(self, enabled: bool = False, **_: Any) -> None:
        self._set_edl(enabled)
        self._auto_render()

    def _on_selection_changed(self, **_: Any) -> None:
        self._update_overlays()
        self._auto_render()

    def _on_feature_selected(self, **_: Any) -> None:
        self._update_highlight()
        self._auto_render()

    def _update_highlight(self) -> None:
        """Draw the selected object of a city / building model (with its parts) in a
        highlight colour over the layer."""
        if self._highlight is not None:
            self.plotter.remove_actor(self._highlight, reset_camera=False, render=False)
            self._highlight = None
        sel = self.scene.selected_feature
        if sel is None:
            return
        layer, feature_id = sel
        entry = self._entries.get(layer.id)
        model = layer.data
        if entry is None or not isinstance(model, FeatureMesh) or entry.points is None \
                or not layer.visible:
            return
        try:
            fmask = np.zeros(len(model.features), bool)
            fmask[model.feature_index(feature_id)] = True
        except KeyError:
            return
        faces = features.face_mask(model, fmask)
        shown = features.visible_faces(layer)
        if shown is not None:
            faces &= shown
        if not faces.any():
            return
        poly = self._clip_poly(pv.PolyData.from_regular_faces(
            entry.points, np.asarray(model.faces, np.int64)[faces]))
        if poly is None:
            return
        name = f"{_ACTOR_PREFIX}{layer.id}-highlight"
        actor = self.plotter.add_mesh(poly, name=name, color=HIGHLIGHT_COLOR,
                                      reset_camera=False, render=False, pickable=False,
                                      show_edges=True, edge_color=(0.35, 0.25, 0.0),
                                      line_width=1, opacity=0.85)
        mapper = actor.GetMapper()
        mapper.SetResolveCoincidentTopologyToPolygonOffset()
        mapper.SetRelativeCoincidentTopologyPolygonOffsetParameters(-2, -20)
        self._highlight = name

    def fit_feature(self, layer: Layer, feature_id: str) -> None:
        """Point the camera at one object of a city / building model (and its parts)."""
        model = layer.data
        entry = self._entries.get(layer.id)
        if not isinstance(model, FeatureMesh) or entry is None or entry.points is None:
            return
        fmask = np.zeros(len(model.features), bool)
        fmask[model.feature_index(feature_id)] = True
        faces = features.face_mask(model, fmask)
        if not faces.any():
            return
        pts = entry.points[np.unique(np.asarray(model.faces)[faces])]
        lo, hi = pts.min(axis=0).astype(float), pts.max(axis=0).astype(float)
        pad = max(float(np.linalg.norm(hi - lo)) * 0.6, 5.0)
        self.plotter.reset_camera(bounds=(lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad,
                                          lo[2] - pad, hi[2] + pad), render=False)
        camera.mark_camera_set(self.plotter.renderer)
        self.camera_to_scene()
        self._auto_render()

    def request_render(self) -> None:
        """Ask for a frame without drawing it now (coalesced; see _auto_render)."""
        self._auto_render()

    def _auto_render(self) -> None:
        # Off-screen plotters render on screenshot. Interactive ones do not render now:
        # the frame is marked pending and drawn once by the GUI's render timer (which
        # renders after every scene event) or by process_updates, so that several scene
        # events in one event-loop turn cost one frame, not one each.
        if not self._off_screen():
            self._render_pending = True
            self._request_update()

    def _set_edl(self, enabled: bool) -> None:
        """Eye-dome lighting of our own (:mod:`viewer.edl`, with ``scene.edl_strength`` /
        ``scene.edl_radius``): after every frame, the frame's colour and depth buffers are
        read, shaded in numpy and written back (vtkEDLShading has no strength or radius and
        blackens the background between points)."""
        enabled = bool(enabled)
        if enabled == self._edl_on:
            return
        ren_win = getattr(self.plotter, "render_window", None) or getattr(
            self.plotter, "ren_win", None)
        if enabled and ren_win is not None:
            # priority 1: before the frame-budget observer, so that its cost is timed
            self._edl_tag = (ren_win, ren_win.AddObserver("EndEvent", self._apply_edl, 1.0))
        elif not enabled and self._edl_tag is not None:
            with contextlib.suppress(Exception):  # a window already gone
                self._edl_tag[0].RemoveObserver(self._edl_tag[1])
            self._edl_tag = None
        self._edl_on = enabled

    def _apply_edl(self, ren_win: Any, *_: Any) -> None:
        """EndEvent: shade the frame just drawn (front buffer) by EDL, in place."""
        try:
            from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
            from vtkmodules.vtkCommonCore import vtkFloatArray, vtkUnsignedCharArray

            from . import edl

            w, h = ren_win.GetSize()
            if w < 1 or h < 1:
                return
            depth = vtkFloatArray()
            ren_win.GetZbufferData(0, 0, w - 1, h - 1, depth)
            zbuf = vtk_to_numpy(depth).reshape(h, w)
            if not (zbuf < 1.0).any():
                return
            rgba = vtkUnsignedCharArray()
            ren_win.GetRGBACharPixelData(0, 0, w - 1, h - 1, 1, rgba)
            cam = self.plotter.renderer.GetActiveCamera()
            near, far = cam.GetClippingRange()
            out = edl.shade(vtk_to_numpy(rgba).reshape(h, w, 4), zbuf, near, far,
                            strength=float(self.scene.edl_strength),
                            radius=float(self.scene.edl_radius),
                            parallel=bool(cam.GetParallelProjection()))
            ren_win.SetRGBACharPixelData(0, 0, w - 1, h - 1,
                                         numpy_to_vtk(out.reshape(-1, 4), deep=1), 1)
        except Exception:  # noqa: BLE001 - never break a render
            import traceback

            traceback.print_exc()

    # -- legend and colour bar (viewer.legend) -------------------------------------------------
    def _remove_overlays(self) -> None:
        self._overlays.close()  # the legends and their layer-1 renderer

    def refresh_overlays(self) -> None:
        """Rebuild the legend / colour bar (e.g. after the view was resized)."""
        self._update_overlays()

    def _update_overlays(self) -> None:
        """A colour bar (scalar modes) or class legend (classification, categories) for
        every visible coloured layer (viewer.legend.overlays_for)."""
        self._overlays.update(self.scene)

    # -- camera (viewer.camera) ----------------------------------------------------------------
    def _local_bounds(self, layers: list[Layer] | None) -> tuple[np.ndarray, np.ndarray] | None:
        if layers is None:
            layers = [lay for lay in self.scene.layers if lay.visible]
        boxes = []
        for layer in layers:
            entry = self._entries.get(layer.id)
            if entry is None:
                continue
            if entry.tiles is not None:
                boxes.append(entry.tiles.local_bounds())
                continue
            if isinstance(layer.data, PointCloud):
                box = self._point_layer_box(entry)  # all points, not only those drawn
                if box is not None:
                    boxes.append(box)
                continue
            if entry.points is None or len(entry.points) == 0:
                continue
            boxes.append((entry.points.min(axis=0), entry.points.max(axis=0)))
        if not boxes:
            return None
        lo = np.min([b[0] for b in boxes], axis=0).astype(np.float64)
        hi = np.max([b[1] for b in boxes], axis=0).astype(np.float64)
        return lo, hi

    def _point_layer_box(self, entry: _Entry) -> tuple[np.ndarray, np.ndarray] | None:
        """Scene-local bounds of all points of a point layer (cached)."""
        layer = entry.layer
        src = entry.source if entry.source is not None else layer.lod
        if src is not None:
            lo, hi = src.bounds
            origin = src.origin
        else:
            data: PointCloud = layer.data
            if data.point_count == 0:
                return None
            key = ("data", id(data), data.point_count)
            if entry.bounds is not None and entry.bounds[0] == key:
                lo, hi = entry.bounds[1], entry.bounds[2]
            else:
                pos = data.positions
                lo = np.array([float(pos[:, a].min()) for a in range(3)])
                hi = np.array([float(pos[:, a].max()) for a in range(3)])
                entry.bounds = (key, lo, hi)
            origin = data.origin
        model = self._model(layer, origin)
        moved = camera.box_corners(lo, hi) @ model[:3, :3].T + model[:3, 3]
        return moved.min(axis=0), moved.max(axis=0)

    def fit(self, layers: list[Layer] | None = None) -> None:
        """Frame ``layers`` (default: all visible) keeping the view direction."""
        bounds = self._local_bounds(layers)
        if bounds is None:
            return
        camera.frame_bounds(self.plotter.renderer, *bounds)
        self.camera_to_scene(emit=False)
        self._auto_render()

    def view_preset(self, name: str) -> None:
        """Standard views: top (down -Z, north up), front (looking along +Y), side
        (looking along -X), iso (from +X +Y +Z towards the centre), fit."""
        camera.orient(self.plotter.renderer, name)
        self.fit()

    def camera_to_scene(self, emit: bool = True) -> Camera:
        """Copy the VTK camera into ``scene.camera`` (true coordinates)."""
        cam = camera.read_camera(self.plotter.renderer, self.origin)
        if emit:
            self.scene.set_camera(cam)
        else:
            self.scene.camera = cam
        return cam

    def scene_to_camera(self) -> None:
        """Apply ``scene.camera`` (true coordinates) to the VTK camera."""
        camera.apply_camera(self.plotter.renderer, self.scene.camera, self.origin)
        self._auto_render()

    # -- picking (viewer.picking) --------------------------------------------------------------
    def project(self, xyz_true: Any) -> np.ndarray:
        """True coordinates (n, 3) -> display coordinates (n, 2), VTK convention."""
        pts = self.to_local(np.atleast_2d(xyz_true))
        return camera.project_local(self.plotter.renderer, pts)[0]

    def pick(self, x: float, y: float) -> Pick | None:
        """Nearest drawn point / vertex of a visible layer under display (x, y).

        Points within a few pixels of the cursor compete by depth (the front-most wins);
        meshes are ray-picked and the nearest vertex of the hit triangle is returned.
        The index is into the layer's full data; coordinates are true float64.
        """
        renderer = self.plotter.renderer
        best: tuple[float, Layer, int] | None = None  # (depth, layer, full index)
        target = (float(x), float(y))
        for layer in self.scene.layers:
            entry = self._entries.get(layer.id)
            if (entry is None or not layer.visible or entry.points is None
                    or not len(entry.points) or not isinstance(layer.data, PointCloud)):
                continue
            xy, depth = camera.project_local(renderer, entry.points)
            radius = max(float(layer.point_size), 2.0)
            if self._adaptive(entry):  # the size drawn near the cursor
                sizes = self.point_pixel_sizes(layer)
                near = np.sum((xy - target) ** 2, axis=1) <= PICK_TOLERANCE_PX ** 2
                if sizes is not None and near.any():
                    radius = max(radius, float(np.median(sizes[near])) / 2.0)
            k = picking.nearest_point(xy, depth, target, radius,
                                      max(PICK_TOLERANCE_PX, radius))
            if k is not None and (best is None or depth[k] < best[0]):
                best = (float(depth[k]), layer, self._drawn_point(entry, k))
        meshes = [e for e in self._entries.values()
                  if isinstance(e.layer.data, Mesh) and e.layer.visible and e.actors]
        if self._active_clip() is None:
            candidates = [(e.layer, e.actors, e.points) for e in meshes]
        else:  # cut actors have their own points (the vertex comes from the face below)
            candidates = [(e.layer, [a], np.asarray(a.GetMapper().GetInput().GetPoints()
                                                    .GetData()))
                          for e in meshes for a in e.actors
                          if a.GetMapper() is not None and a.GetMapper().GetInput() is not None
                          and a.GetMapper().GetInput().GetPoints() is not None]
        hit = picking.pick_mesh(renderer, candidates, x, y)
        if hit is not None and (best is None or hit.depth < best[0]):
            best = None  # the mesh is in front of every point
        for entry in self._entries.values():
            tiled = entry.tiles.pick(x, y) if entry.tiles is not None else None
            if tiled is not None and (best is None or tiled[0] < best[0]) and (
                    hit is None or tiled[0] < hit.depth):
                best, hit = (tiled[0], entry.layer, tiled[1]), None
        if hit is not None and (best is None or hit.depth < best[0]):
            vertex = hit.vertex
            if self._active_clip() is not None and hit.face >= 0:
                # a cut mesh has its own point ids: the nearest vertex of the hit face
                face = np.asarray(hit.owner.data.faces[hit.face], np.int64)
                pts = self._entries[hit.owner.id].points[face].astype(np.float64)
                vertex = int(face[np.argmin(np.sum((pts - hit.position) ** 2, axis=1))])
            pick = feature_pick(hit.owner, vertex, hit.face, self.to_true(hit.position))
        else:
            pick = None if best is None else best[2]
        if pick is not None and pick.feature_id is not None:
            self.scene.select_feature(pick.layer, pick.feature_id)
        elif pick is not None and self.scene.selected_feature is not None:
            self.scene.select_feature(None, None)  # clicked off the model: deselect
        self.scene.set_pick(pick)
        return pick

    @staticmethod
    def _drawn_point(entry: _Entry, k: int) -> Pick:
        """The pick of drawn point ``k`` of a point layer: a point of the layer's data, or,
        for a streamed source (whose points are not in ``layer.data``), of the node cloud
        it was drawn from (:func:`viewer.picking.streamed_pick`)."""
        if entry.indices is not None:
            return pick_info(entry.layer, int(entry.indices[k]))
        if entry.node_refs is None:
            raise RuntimeError(f"{entry.layer.name}: the drawn points have no source to pick")
        offsets, refs = entry.node_refs
        return picking.streamed_pick(entry.layer, offsets, refs, k)

    # -- screenshots --------------------------------------------------------------------------
    def screenshot(self, path: str | Path, size: tuple[int, int] | None = None) -> Path:
        """Save the view as PNG; ``size`` (w, h) may exceed the window (restored after)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        window_size = None if size is None else (int(size[0]), int(size[1]))
        if window_size is not None and (window_size[0] < 1 or window_size[1] < 1):
            raise ValueError(f"bad screenshot size {size!r}")
        with self.plotter.window_size_context(window_size):
            self._update_tiles(wait=True)  # (on screen too) every tile the picture needs
            self.plotter.render()  # pyvista may hand back the last frame otherwise
            img = self.plotter.screenshot(None, return_img=True)
        from PIL import Image

        Image.fromarray(np.asarray(img)).save(path)
        if window_size is not None:
            self._auto_render()
        return path
