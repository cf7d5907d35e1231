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

Extra public API
----------------
    drawn_indices(layer) -> ndarray | None   indices of the points drawn (None for meshes)
    project(xyz_true) -> (n, 2) display coordinates (VTK convention) of true coordinates
    to_local(xyz_true) / to_true(xyz_local)  scene-origin conversions (float64)
    actors(layer) -> list of the layer's VTK actors
    refresh(layer=None)                      rebuild actors (e.g. after data edits)

Level of detail: a point cloud larger than ``point_budget`` draws a deterministic,
spatially uniform subsample: the prefix of a fixed random permutation of its points
(seeded, computed once per layer and cached). :meth:`drawn_indices` is the single place
that decides which points are drawn; an octree LOD replaces it later. Picking maps the
drawn subsample back to indices into the full layer data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyvista as pv

from loaders import Mesh, PointCloud

from . import colors
from .scene import Camera, Layer, Pick, Scene, pick_info

PRESETS = ("top", "front", "side", "iso", "fit")
_ACTOR_PREFIX = "realscene-layer-"
_SCALAR_BAR_NAME = "realscene-scalar-bar"
PICK_TOLERANCE_PX = 12.0
#: fields of a layer whose change only needs an actor property update
_PROPERTY_FIELDS = ("visible", "opacity", "point_size")
_SEED = 20240611


class _Entry:
    """What the renderer keeps per layer."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self.actors: list[Any] = []
        self.names: list[str] = []
        self.indices: np.ndarray | None = None  # drawn point indices into the full data
        self.points: np.ndarray | None = None  # drawn positions, scene-local float32
        self.permutation: np.ndarray | None = None  # cached LOD order
        self.mesh_actor_ids: set[int] = set()


class SceneRenderer:
    """Keeps a pyvista plotter in sync with a :class:`viewer.scene.Scene`."""

    def __init__(self, plotter: Any, scene: Scene, point_budget: int = 1_500_000) -> None:
        self.plotter = plotter
        self.scene = scene
        self.point_budget = int(point_budget)
        self._entries: dict[int, _Entry] = {}
        self._scalar_bar: Any = None
        self._edl_on = False
        self._handlers = {
            "layer_added": self._on_layer_added,
            "layer_removed": self._on_layer_removed,
            "layer_changed": self._on_layer_changed,
            "layers_reordered": self._on_layers_reordered,
            "background_changed": self._on_background_changed,
            "edl_changed": self._on_edl_changed,
            "selection_changed": self._on_selection_changed,
        }
        for name, handler in self._handlers.items():
            scene.connect(name, handler)
        self.plotter.set_background(self.scene.background)
        for layer in scene.layers:
            self._build(layer)
        self._set_edl(scene.edl)
        self._update_overlays()
        if scene.layers:
            self.fit()

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Disconnect from the scene and remove every actor this renderer added."""
        for name, handler in self._handlers.items():
            self.scene.disconnect(name, handler)
        for entry in list(self._entries.values()):
            self._remove_actors(entry)
        self._entries.clear()
        self._remove_overlays()
        if self._edl_on:
            self._set_edl(False)

    def render(self) -> None:
        self.plotter.render()

    def refresh(self, layer: Layer | None = None) -> None:
        """Rebuild the actors of ``layer`` (default: all layers), e.g. after data edits."""
        for lay in [layer] if layer is not None else list(self.scene.layers):
            entry = self._entries.get(lay.id)
            if entry is not None:
                entry.permutation = None
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

    def _local_positions(self, layer: Layer, local: np.ndarray) -> np.ndarray:
        """Layer-local float32 positions -> scene-local float32 (offset + transform)."""
        offset = self.scene.local_offset(layer)  # float64
        transform = np.asarray(layer.transform, dtype=np.float64)
        if np.allclose(transform, np.eye(4)):
            return (local + offset.astype(np.float32)).astype(np.float32, copy=False)
        # transform acts on true coordinates: T(o_layer + l) - o_scene
        rot = transform[:3, :3]
        shift = rot @ np.asarray(layer.data.origin, np.float64) + transform[:3, 3] - self.origin
        return (local.astype(np.float64) @ rot.T + shift).astype(np.float32)

    # -- level of detail -------------------------------------------------------------------
    def drawn_indices(self, layer: Layer) -> np.ndarray | None:
        """Indices (into the full point data) of the points drawn for ``layer``.

        The one place that decides what is drawn: the points of visible classes, at most
        ``point_budget`` of them, as the prefix of a fixed random permutation (a
        deterministic, spatially uniform subsample). None for meshes.
        """
        data = layer.data
        if not isinstance(data, PointCloud):
            return None
        n = data.point_count
        mask = colors.visible_mask(layer)
        if n <= self.point_budget:
            idx = np.arange(n, dtype=np.int64)
            return idx if mask is None else idx[mask]
        entry = self._entries.get(layer.id)
        order = entry.permutation if entry is not None else None
        if order is None or len(order) != n:
            rng = np.random.default_rng(_SEED)
            order = rng.permutation(n).astype(np.int32 if n < 2**31 else np.int64)
            if entry is not None:
                entry.permutation = order
        if mask is not None:
            order = order[mask[order]]
        return np.sort(order[: self.point_budget]).astype(np.int64)

    # -- actors ------------------------------------------------------------------------------
    def _remove_actors(self, entry: _Entry) -> None:
        for name in entry.names:
            self.plotter.remove_actor(name, reset_camera=False, render=False)
        entry.actors, entry.names = [], []
        entry.mesh_actor_ids = set()

    def _build(self, layer: Layer) -> None:
        entry = self._entries.get(layer.id)
        if entry is None:
            entry = self._entries[layer.id] = _Entry(layer)
        self._remove_actors(entry)
        if isinstance(layer.data, PointCloud):
            self._build_points(entry)
        else:
            self._build_mesh(entry)
        self._apply_properties(entry)

    def _add(self, entry: _Entry, poly: pv.PolyData, suffix: str = "", **kwargs: Any) -> Any:
        name = f"{_ACTOR_PREFIX}{entry.layer.id}{suffix}"
        actor = self.plotter.add_mesh(poly, name=name, reset_camera=False, render=False,
                                      show_scalar_bar=False, **kwargs)
        entry.actors.append(actor)
        entry.names.append(name)
        return actor

    def _build_points(self, entry: _Entry) -> None:
        layer = entry.layer
        data: PointCloud = layer.data
        idx = self.drawn_indices(layer)
        entry.indices = idx
        if idx is None or len(idx) == 0:
            entry.points = np.zeros((0, 3), np.float32)
            return
        pts = self._local_positions(layer, data.positions[idx])
        entry.points = pts
        poly = pv.PolyData(pts)  # one vertex cell per point
        poly.point_data["rgb"] = colors.layer_rgb(layer, idx)
        self._add(entry, poly, scalars="rgb", rgb=True, style="points",
                  point_size=float(layer.point_size), lighting=False,
                  render_points_as_spheres=False)

    def _build_mesh(self, entry: _Entry) -> None:
        layer = entry.layer
        data: Mesh = layer.data
        entry.indices = None
        if data.vertex_count == 0 or data.triangle_count == 0:
            entry.points = np.zeros((0, 3), np.float32)
            return
        pts = self._local_positions(layer, data.vertices)
        entry.points = pts
        faces = np.asarray(data.faces, dtype=np.int64)
        lc = colors.layer_colors(layer)
        face_keep = np.ones(len(faces), bool)
        textured: list[tuple[np.ndarray, np.ndarray]] = []  # (texture image, face ids)
        if lc.mode == "material" and data.uvs is not None and len(data.uvs) == len(pts):
            groups: dict[int, tuple[np.ndarray, list[np.ndarray]]] = {}
            for part in data.parts:
                tex = part.material.texture
                if tex is None or not np.size(tex) or part.stop <= part.start:
                    continue
                ids = np.arange(max(0, part.start), min(len(faces), part.stop))
                groups.setdefault(id(tex), (np.asarray(tex), []))[1].append(ids)
                face_keep[ids] = False
            textured = [(img, np.concatenate(ids)) for img, ids in groups.values()]
        kwargs = dict(smooth_shading=False, lighting=True)
        if face_keep.any():
            keep = np.flatnonzero(face_keep)
            poly = pv.PolyData.from_regular_faces(pts, faces[keep])
            if lc.association == "cell":
                poly.cell_data["rgb"] = lc.rgb[keep]
            else:
                poly.point_data["rgb"] = lc.rgb
            actor = self._add(entry, poly, scalars="rgb", rgb=True, **kwargs)
            entry.mesh_actor_ids.add(id(actor))
        for k, (img, ids) in enumerate(textured):
            poly = pv.PolyData.from_regular_faces(pts, faces[ids])
            poly.active_texture_coordinates = np.asarray(data.uvs, dtype=np.float32)
            img = np.ascontiguousarray(img)
            if img.dtype != np.uint8:
                img = np.clip(img, 0, 255).astype(np.uint8)
            texture = pv.Texture(img)  # pyvista flips rows (image top = v 1)
            actor = self._add(entry, poly, suffix=f"-tex{k}", texture=texture, **kwargs)
            entry.mesh_actor_ids.add(id(actor))

    def _apply_properties(self, entry: _Entry) -> None:
        layer = entry.layer
        for actor in entry.actors:
            actor.SetVisibility(bool(layer.visible))
            prop = actor.GetProperty()
            prop.SetOpacity(float(layer.opacity))
            if isinstance(layer.data, PointCloud):
                prop.SetPointSize(float(layer.point_size))

    # -- scene events ------------------------------------------------------------------------
    def _on_layer_added(self, layer: Layer, **_: Any) -> None:
        first = len(self._entries) == 0
        self._build(layer)
        self._update_overlays()
        if first:
            self.fit()
        self._auto_render()

    def _on_layer_removed(self, layer: Layer, **_: Any) -> None:
        entry = self._entries.pop(layer.id, None)
        if entry is not None:
            self._remove_actors(entry)
        self._update_overlays()
        self._auto_render()

    def _on_layer_changed(self, layer: Layer, field: str = "", **_: Any) -> None:
        entry = self._entries.get(layer.id)
        if entry is None:
            return
        if field in _PROPERTY_FIELDS:
            self._apply_properties(entry)
        else:  # colours, hidden classes, transform, data: rebuild (cheap: no LOD recompute)
            self._build(layer)
        self._update_overlays()
        self._auto_render()

    def _on_layers_reordered(self, **_: Any) -> None:
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

    def _auto_render(self) -> None:
        # Off-screen plotters render on screenshot; interactive ones redraw now.
        if not getattr(self.plotter, "off_screen", False):
            try:
                self.plotter.render()
            except Exception:  # a closed / not yet shown window
                pass

    def _set_edl(self, enabled: bool) -> None:
        enabled = bool(enabled)
        if enabled == self._edl_on:
            return
        if enabled:
            self.plotter.enable_eye_dome_lighting()
        else:
            self.plotter.disable_eye_dome_lighting()
        self._edl_on = enabled

    # -- legend and colour bar ----------------------------------------------------------------
    def _remove_overlays(self) -> None:
        if self._scalar_bar is not None:
            self.plotter.remove_actor(self._scalar_bar, reset_camera=False, render=False)
            self._scalar_bar = None
        if self.plotter.legend is not None:
            self.plotter.remove_legend(render=False)

    def _update_overlays(self) -> None:
        """Colour bar (scalar modes) or class legend (classification) of the selected
        layer; nothing for other modes."""
        self._remove_overlays()
        layer = self.scene.selected
        if layer is None or layer not in self.scene.layers or not layer.visible:
            return
        mode = colors.effective_mode(layer)
        if mode == "classification":
            hidden = {int(c) for c in layer.hidden_classes}
            items = [[f"{code} {name}", [c / 255.0 for c in rgb]]
                     for code, name, rgb, _count in colors.class_legend(layer)
                     if code not in hidden][:20]
            if items:
                self.plotter.add_legend(items, bcolor=(0.1, 0.1, 0.1), border=False,
                                        size=(0.24, min(0.05 * len(items) + 0.02, 0.6)),
                                        loc="upper right", face="rectangle",
                                        background_opacity=0.6)
            return
        info = colors.scalar_info(layer)
        if info is None:
            return
        self._scalar_bar = self._make_scalar_bar(info)
        self.plotter.add_actor(self._scalar_bar, reset_camera=False, name=_SCALAR_BAR_NAME,
                               pickable=False, render=False)

    @staticmethod
    def _make_scalar_bar(info: colors.ScalarInfo) -> Any:
        from vtkmodules.vtkCommonCore import vtkLookupTable
        from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor

        lut_rgb = colors.colormap_lut(info.colormap)
        lut = vtkLookupTable()
        lut.SetNumberOfTableValues(len(lut_rgb))
        for i, (r, g, b) in enumerate(lut_rgb):
            lut.SetTableValue(i, r / 255.0, g / 255.0, b / 255.0, 1.0)
        vmin, vmax = info.vmin, info.vmax if info.vmax > info.vmin else info.vmin + 1.0
        lut.SetTableRange(vmin, vmax)
        lut.Build()
        bar = vtkScalarBarActor()
        bar.SetLookupTable(lut)
        bar.SetTitle(info.name)
        bar.SetNumberOfLabels(5)
        bar.SetLabelFormat("%.6g")
        bar.SetMaximumWidthInPixels(80)
        bar.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        bar.GetPositionCoordinate().SetValue(0.88, 0.1)
        bar.SetWidth(0.1)
        bar.SetHeight(0.8)
        for prop in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
            prop.SetFontSize(12)
            prop.SetColor(1.0, 1.0, 1.0)
            prop.SetShadow(True)
            prop.BoldOff()
            prop.ItalicOff()
        bar.UnconstrainedFontSizeOn()
        return bar

    # -- camera -------------------------------------------------------------------------------
    def _local_bounds(self, layers: list[Layer] | None) -> tuple[np.ndarray, np.ndarray] | None:
        if layers is None:
            layers = [lay for lay in self.scene.layers if lay.visible]
        boxes = []
        for layer in layers:
            entry = self._entries.get(layer.id)
            if entry is None or entry.points is None or len(entry.points) == 0:
                continue
            boxes.append((entry.points.min(axis=0), entry.points.max(axis=0)))
        if not boxes:
            return None
        lo = np.min([b[0] for b in boxes], axis=0).astype(np.float64)
        hi = np.max([b[1] for b in boxes], axis=0).astype(np.float64)
        return lo, hi

    def fit(self, layers: list[Layer] | None = None) -> None:
        """Frame ``layers`` (default: all visible) keeping the view direction."""
        bounds = self._local_bounds(layers)
        if bounds is None:
            return
        lo, hi = bounds
        renderer = self.plotter.renderer
        renderer.ResetCamera(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
        self._tighten(lo, hi)
        renderer.ResetCameraClippingRange(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
        self._mark_camera_set()
        self.camera_to_scene(emit=False)
        self._auto_render()

    def _tighten(self, lo: np.ndarray, hi: np.ndarray, fill: float = 0.9) -> None:
        """Move in after ResetCamera (which frames the bounding sphere) so that the
        projected bounding box fills about ``fill`` of the viewport."""
        cam = self.plotter.renderer.GetActiveCamera()
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                            for z in (lo[2], hi[2])])
        radius = max(float(np.linalg.norm(hi - lo)) / 2.0, 1e-9)
        for _ in range(3):
            xy, depth = self._project_local(corners)
            if not np.all(np.isfinite(xy)) or not np.all(np.isfinite(depth)):
                return
            ox, oy, w, h = self._viewport()
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

    def view_preset(self, name: str) -> None:
        """Standard views: top (down -Z, north up), front (looking along +Y), side
        (looking along -X), iso (from +X +Y +Z towards the centre), fit."""
        name = name.lower()
        if name not in PRESETS:
            raise ValueError(f"unknown view {name!r} (choose from {', '.join(PRESETS)})")
        if name != "fit":
            directions = {  # direction of view, view up
                "top": ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0)),
                "front": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
                "side": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
                "iso": ((-1.0, -1.0, -1.0), (0.0, 0.0, 1.0)),
            }
            direction, up = directions[name]
            cam = self.plotter.renderer.GetActiveCamera()
            focal = np.array(cam.GetFocalPoint())
            d = np.asarray(direction) / np.linalg.norm(direction)
            cam.SetPosition(*(focal - d))
            cam.SetFocalPoint(*focal)
            cam.SetViewUp(*up)
            if name == "iso":
                cam.OrthogonalizeViewUp()
        self.fit()

    def camera_to_scene(self, emit: bool = True) -> Camera:
        """Copy the VTK camera into ``scene.camera`` (true coordinates)."""
        cam = self.plotter.renderer.GetActiveCamera()
        camera = Camera(position=tuple(self.to_true(cam.GetPosition()).tolist()),
                        focal_point=tuple(self.to_true(cam.GetFocalPoint()).tolist()),
                        view_up=tuple(float(v) for v in cam.GetViewUp()),
                        parallel=bool(cam.GetParallelProjection()))
        if emit:
            self.scene.set_camera(camera)
        else:
            self.scene.camera = camera
        return camera

    def scene_to_camera(self) -> None:
        """Apply ``scene.camera`` (true coordinates) to the VTK camera."""
        camera = self.scene.camera
        cam = self.plotter.renderer.GetActiveCamera()
        cam.SetPosition(*self.to_local(camera.position))
        cam.SetFocalPoint(*self.to_local(camera.focal_point))
        cam.SetViewUp(*camera.view_up)
        cam.SetParallelProjection(bool(camera.parallel))
        self.plotter.renderer.ResetCameraClippingRange()
        self._mark_camera_set()
        self._auto_render()

    def _mark_camera_set(self) -> None:
        # stop pyvista from replacing our camera with its default on the first render
        renderer = self.plotter.renderer
        try:
            renderer.camera.is_set = True
            renderer.camera_set = True
        except Exception:  # older / other pyvista versions
            pass

    # -- picking ------------------------------------------------------------------------------
    def _viewport(self) -> tuple[float, float, float, float]:
        renderer = self.plotter.renderer
        w, h = renderer.GetSize()
        ox, oy = renderer.GetOrigin()
        return float(ox), float(oy), float(max(w, 1)), float(max(h, 1))

    def _project_local(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scene-local points -> display xy (n, 2) and depth (n,) in [-1, 1]."""
        renderer = self.plotter.renderer
        ox, oy, w, h = self._viewport()
        cam = renderer.GetActiveCamera()
        mat = cam.GetCompositeProjectionTransformMatrix(w / h, -1.0, 1.0)
        m = np.array([[mat.GetElement(i, j) for j in range(4)] for i in range(4)])
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

    def project(self, xyz_true: Any) -> np.ndarray:
        """True coordinates (n, 3) -> display coordinates (n, 2), VTK convention."""
        pts = self.to_local(np.atleast_2d(xyz_true))
        return self._project_local(pts)[0]

    def pick(self, x: float, y: float) -> Pick | None:
        """Nearest drawn point / vertex of a visible layer under display (x, y).

        Points within a few pixels of the cursor compete by depth (the front-most wins);
        meshes are ray-picked and the nearest vertex of the hit triangle is returned.
        The index is into the layer's full data; coordinates are true float64.
        """
        best: tuple[float, Layer, int] | None = None  # (depth, layer, full index)
        target = np.array([float(x), float(y)])
        tol = PICK_TOLERANCE_PX
        for layer in self.scene.layers:
            entry = self._entries.get(layer.id)
            if (entry is None or not layer.visible or entry.points is None
                    or not len(entry.points) or not isinstance(layer.data, PointCloud)):
                continue
            xy, depth = self._project_local(entry.points)
            d2 = np.sum((xy - target) ** 2, axis=1)
            near = np.flatnonzero((d2 <= tol * tol) & (depth >= -1.0) & (depth <= 1.0))
            if not len(near):
                continue
            radius = max(float(layer.point_size), 2.0)
            # points under the cursor (within their drawn size) compete by depth;
            # otherwise the closest in screen space wins
            under = near[d2[near] <= radius * radius]
            if len(under):
                k = under[np.argmin(depth[under])]
            else:
                k = near[np.argmin(d2[near])]
            if best is None or depth[k] < best[0]:
                best = (float(depth[k]), layer, int(entry.indices[k]))
        mesh_hit = self._pick_mesh(x, y)
        if mesh_hit is not None and (best is None or mesh_hit[0] < best[0]):
            best = mesh_hit
        pick = None if best is None else pick_info(best[1], best[2])
        self.scene.set_pick(pick)
        return pick

    def _pick_mesh(self, x: float, y: float) -> tuple[float, Layer, int] | None:
        mesh_entries = [e for e in self._entries.values()
                        if isinstance(e.layer.data, Mesh) and e.layer.visible and e.actors]
        if not mesh_entries:
            return None
        from vtkmodules.vtkRenderingCore import vtkCellPicker

        picker = vtkCellPicker()
        picker.SetTolerance(0.0005)
        picker.PickFromListOn()
        by_actor = {}
        for entry in mesh_entries:
            for actor in entry.actors:
                picker.AddPickList(actor)
                by_actor[id(actor)] = entry
        if not picker.Pick(float(x), float(y), 0.0, self.plotter.renderer):
            return None
        entry = by_actor.get(id(picker.GetActor()))
        if entry is None:
            return None
        ds = picker.GetDataSet()
        cell = ds.GetCell(picker.GetCellId())
        pos = np.array(picker.GetPickPosition())
        ids = [cell.GetPointId(i) for i in range(cell.GetNumberOfPoints())]
        if not ids:
            return None
        # the sub-meshes share the layer's vertex array, so point ids are vertex indices
        verts = entry.points[ids].astype(np.float64)
        vid = ids[int(np.argmin(np.sum((verts - pos) ** 2, axis=1)))]
        depth = float(self._project_local(pos[None])[1][0])
        return depth, entry.layer, int(vid)

    # -- screenshots --------------------------------------------------------------------------
    def screenshot(self, path: str | Path, size: tuple[int, int] | None = None) -> Path:
        """Save the view as PNG; ``size`` (w, h) may exceed the window (restored after)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        window_size = None if size is None else (int(size[0]), int(size[1]))
        if window_size is not None and (window_size[0] < 1 or window_size[1] < 1):
            raise ValueError(f"bad screenshot size {size!r}")
        with self.plotter.window_size_context(window_size):
            self.plotter.render()  # pyvista may hand back the last frame otherwise
            img = self.plotter.screenshot(None, return_img=True)
        from PIL import Image

        Image.fromarray(np.asarray(img)).save(path)
        if window_size is not None:
            self._auto_render()
        return path
