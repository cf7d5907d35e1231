"""Tiled layers in the renderer: a :class:`loaders.tiles.TileStream` per tile layer.

A scene layer whose data is a :class:`loaders.tiles.TileSet` (3D Tiles, OSGB, terrain)
is drawn through :class:`TileDraw`, owned by :class:`viewer.render.SceneRenderer`:

- before a frame (``update_lod``) a :class:`loaders.tiles.View` is built from the VTK
  camera (eye in true coordinates = local + scene origin, ``pixels_per_radian`` =
  viewport height / (2 tan(view angle / 2)), the frustum's planes), the stream selects
  and schedules background loads, and the drawn tiles are diffed against the actors:
  new tiles get actors (at most ``slice_seconds`` of actor building per on-screen frame,
  the rest on the next poll, so streaming never stalls the window), tiles no longer drawn
  lose theirs once every wanted tile is shown (no holes while children replace a parent);
- a fetch finishing calls the renderer's ``_request_update`` (the window's ``on_update``
  then its QTimer calls ``process_updates``);
- off-screen renders (CLI ``render``, screenshots, scripts) ``wait`` for every tile the
  view needs before drawing;
- tiles go through the renderer's mesh path (``SceneRenderer._add``): the scene clip cuts
  them like meshes, and textures are drawn with their UVs;
- :meth:`TileDraw.pick` ray-picks the drawn tiles: true xyz (terrain: its height), and
  for a tile with batch features (a :class:`loaders.FeatureMesh`) the object's properties.

No Qt here; the window composes it through the renderer.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
import pyvista as pv

from loaders import FeatureMesh, Mesh, PointCloud
from loaders.tiles import TileSet, TileStream, View

from . import camera, picking
from .colormaps import apply_colormap
from .colors import rgb_bytes
from .scene import Layer, Pick, reader_colour_modes

#: seconds of actor building per on-screen frame (the rest waits for the next poll)
SLICE_SECONDS = 0.03
#: default cache size of a tile layer (bytes of loaded tile contents)
DEFAULT_MAX_BYTES = 768 * 2**20
#: default triangle budget of a tile layer
DEFAULT_TRIANGLES = 3_000_000

_counter = itertools.count(1)


def is_tiles(data: Any) -> bool:
    """True for a tiled dataset (a layer drawn through a :class:`TileDraw`)."""
    return isinstance(data, TileSet)


def textured_polydata(pts: np.ndarray, faces: np.ndarray, ids: np.ndarray, uvs: np.ndarray,
                      image: np.ndarray) -> tuple[pv.PolyData, pv.Texture]:
    """Faces ``ids`` of a mesh (scene-local ``pts``, all its vertices) with their UVs
    and ``image`` as a texture (pyvista flips rows: the image's top is v = 1); cells
    keep their face index (``face_id``: picking finds the object)."""
    poly = pv.PolyData.from_regular_faces(pts, faces[ids])
    poly.cell_data["face_id"] = np.asarray(ids).astype(np.int32)
    poly.active_texture_coordinates = np.asarray(uvs, dtype=np.float32)
    img = np.ascontiguousarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    return poly, pv.Texture(img)


def frustum_planes(renderer: Any, origin: np.ndarray) -> np.ndarray:
    """The active camera's six frustum planes (a, b, c, d), unit normals pointing
    inside, in true coordinates (``origin``: the scene origin)."""
    cam = renderer.GetActiveCamera()
    _, _, w, h = camera.viewport(renderer)
    raw = [0.0] * 24
    cam.GetFrustumPlanes(w / h, raw)
    planes = np.asarray(raw, dtype=np.float64).reshape(6, 4)
    norms = np.linalg.norm(planes[:, :3], axis=1)
    norms[norms == 0] = 1.0
    planes /= norms[:, None]
    planes[:, 3] -= planes[:, :3] @ np.asarray(origin, np.float64)  # local -> true
    return planes


def camera_view(renderer: Any, origin: np.ndarray, max_sse: float,
                transform: np.ndarray | None = None) -> View:
    """A :class:`loaders.tiles.View` of the renderer's camera, in the layer data's true
    coordinates (``transform``: the layer's, undone)."""
    cam = renderer.GetActiveCamera()
    _, _, _, h = camera.viewport(renderer)
    eye = np.asarray(cam.GetPosition(), np.float64) + origin
    planes = frustum_planes(renderer, origin)
    if cam.GetParallelProjection():
        # orthographic: a tile's pixels do not shrink with distance; the eye put where a
        # perspective camera would see the same scale
        scale = max(float(cam.GetParallelScale()), 1e-9)
        angle = np.radians(30.0)
        ppr = h / (2.0 * np.tan(angle / 2.0))
        direction = np.asarray(cam.GetDirectionOfProjection(), np.float64)
        focal = np.asarray(cam.GetFocalPoint(), np.float64) + origin
        eye = focal - direction * scale / np.tan(angle / 2.0)
    else:
        ppr = h / (2.0 * np.tan(np.radians(cam.GetViewAngle()) / 2.0))
    if transform is not None and not np.allclose(transform, np.eye(4)):
        inv = np.linalg.inv(np.asarray(transform, np.float64))
        eye = inv[:3, :3] @ eye + inv[:3, 3]
        # plane n.x + d >= 0 on true x = T y: (n R) . y + (n . t + d)
        rot, shift = transform[:3, :3], transform[:3, 3]
        planes = np.column_stack([planes[:, :3] @ rot, planes[:, :3] @ shift + planes[:, 3]])
    return View(eye=eye, pixels_per_radian=float(ppr), planes=planes, max_sse=float(max_sse))


class _Shown:
    """The actors of one drawn tile."""

    __slots__ = ("actors", "names", "items")

    def __init__(self) -> None:
        self.actors: list[Any] = []
        self.names: list[str] = []
        #: (actor id, content item, the actor's polydata as cut by the clip): picking
        #: and counts read them (pyvista's mapper does not keep its Python dataset)
        self.items: list[tuple[int, Any, Any]] = []


class TileDraw:
    """What the renderer keeps for one tile layer: its stream and the tiles' actors."""

    def __init__(self, renderer: Any, entry: Any) -> None:
        self.renderer = renderer
        self.entry = entry
        layer: Layer = entry.layer
        self.tileset: TileSet = layer.data
        self.stream = TileStream(self.tileset, max_bytes=_layer_bytes(layer),
                                 triangle_budget=DEFAULT_TRIANGLES,
                                 on_loaded=renderer._request_update)
        self.shown: dict[int, _Shown] = {}
        #: True while drawn tiles still wait for their actors (time-sliced)
        self.behind = False
        #: z range (true) of the elevation colours: the first drawn content's
        self.z_range: tuple[float, float] | None = None
        self.reader_colour: str | None = None
        self._sync_reader_colour()

    # -- settings -----------------------------------------------------------------------
    def _sync_reader_colour(self, reload: bool = False) -> None:
        """A colour mode the reader paints (terrain elevation / hillshade, "material"
        for its texture): tell the TileSet and, with ``reload``, drop the contents
        cached in the other colouring."""
        layer = self.entry.layer
        mode = layer.color_mode
        modes = reader_colour_modes(self.tileset)
        if mode == "material":
            # the file's own look: the draped texture, else the terrain's plain colours
            wanted = next((m for m in ("texture", "elevation") if m in modes), None)
        else:
            wanted = mode if mode in modes and mode != "solid" else None
        if wanted is None or wanted == getattr(self.tileset, "colour", None):
            self.reader_colour = wanted or self.reader_colour
            return
        setter = getattr(self.tileset, "set_colour", None)
        try:
            if callable(setter):
                setter(wanted)
            elif hasattr(self.tileset, "colour"):
                self.tileset.colour = wanted
            else:
                return
        except ValueError:
            return
        self.reader_colour = wanted
        if reload:  # contents painted before: read them again
            self.restart()

    def restart(self) -> None:
        """A new stream (empty cache): contents must be read again."""
        self.clear()
        self.stream.close()
        self.stream = TileStream(self.tileset, max_bytes=_layer_bytes(self.entry.layer),
                                 triangle_budget=DEFAULT_TRIANGLES,
                                 on_loaded=self.renderer._request_update)

    def settings_changed(self) -> None:
        """The layer's detail (``max_sse``) or memory budget changed."""
        self.stream.max_bytes = _layer_bytes(self.entry.layer)

    def rebuild(self) -> None:
        """Colours, clip or transform changed: every tile's actors again."""
        self.clear()
        self._sync_reader_colour(reload=True)

    # -- per frame ----------------------------------------------------------------------
    def view(self) -> View:
        layer = self.entry.layer
        return camera_view(self.renderer.plotter.renderer, self.renderer.origin,
                           float(getattr(layer, "max_sse", 16.0)), layer.transform)

    def update(self, wait: bool = False) -> bool:
        """Select for the current camera, load (``wait``: until complete) and bring the
        actors in line with the drawn tiles. Returns True when the actors changed."""
        layer = self.entry.layer
        if not layer.visible:
            return False
        view = self.view()
        if wait:
            self.stream.wait(view)
        else:
            self.stream.update(view)
        drawn = {id(t): (t, c) for t, c in self.stream.drawn()}
        changed = False
        start = time.perf_counter()
        self.behind = False
        for key, (tile, content) in drawn.items():
            if key in self.shown:
                continue
            # at least one tile per update, then as many as the slice allows
            if not wait and changed and time.perf_counter() - start > SLICE_SECONDS:
                self.behind = True
                break
            self.shown[key] = self._build(tile, content)
            changed = True
        if not self.behind:  # every wanted tile shows: drop the others
            for key in [k for k in self.shown if k not in drawn]:
                self._drop(key)
                changed = True
        if self.behind:  # the rest of the new tiles on the next poll
            self.renderer._request_update()
        if changed:
            self.renderer._apply_properties(self.entry)
        return changed

    def clear(self) -> None:
        for key in list(self.shown):
            self._drop(key)

    def close(self) -> None:
        self.clear()
        self.stream.close()

    def _drop(self, key: int) -> None:
        shown = self.shown.pop(key, None)
        if shown is None:
            return
        plotter = self.renderer.plotter
        entry = self.entry
        for name, actor in zip(shown.names, shown.actors, strict=True):
            plotter.remove_actor(name, reset_camera=False, render=False)
            if name in entry.names:
                i = entry.names.index(name)
                entry.names.pop(i)
                entry.actors.pop(i)
            entry.mesh_actor_ids.discard(id(actor))

    # -- actors -------------------------------------------------------------------------
    def _build(self, tile: Any, content: Any) -> _Shown:
        shown = _Shown()
        for item in [*content.meshes, *content.points]:
            if isinstance(item, Mesh) and item.triangle_count:
                self._add_mesh(shown, item)
            elif isinstance(item, PointCloud) and item.point_count:
                self._add_points(shown, item)
        return shown

    def _add(self, shown: _Shown, item: Any, poly: pv.PolyData, **kwargs: Any) -> None:
        suffix = f"-tile{next(_counter)}"
        actor = self.renderer._add(self.entry, poly, suffix=suffix, **kwargs)
        if actor is None:  # the clip left nothing of it
            return
        shown.actors.append(actor)
        shown.names.append(self.entry.names[-1])
        shown.items.append((id(actor), item, actor.GetMapper().dataset))
        if isinstance(item, Mesh):
            self.entry.mesh_actor_ids.add(id(actor))

    def _elevation(self, z_true: np.ndarray) -> np.ndarray:
        layer = self.entry.layer
        if self.z_range is None:
            lo, hi = (float(np.nanpercentile(z_true, p)) for p in (2.0, 98.0))
            self.z_range = (lo, hi if hi > lo else lo + 1.0)
        return apply_colormap(z_true, self.z_range[0], self.z_range[1], layer.colormap)

    def _solid(self, n: int) -> np.ndarray:
        rgb = np.round(np.asarray(self.entry.layer.solid_color, np.float64) * 255)
        return np.ascontiguousarray(np.broadcast_to(rgb.astype(np.uint8), (n, 3)))

    def _add_mesh(self, shown: _Shown, mesh: Mesh) -> None:
        layer = self.entry.layer
        pts = self.renderer._local_positions(layer, mesh.vertices, origin=mesh.origin)
        faces = np.asarray(mesh.faces, dtype=np.int64)
        mode = layer.color_mode
        kwargs: dict[str, Any] = dict(smooth_shading=False, lighting=True)
        keep = np.ones(len(faces), bool)
        if mode == "material" and mesh.uvs is not None and len(mesh.uvs) == len(pts):
            for part in mesh.parts:
                tex = part.material.texture
                if tex is None or not np.size(tex) or part.stop <= part.start:
                    continue
                ids = np.arange(max(0, part.start), min(len(faces), part.stop))
                keep[ids] = False
                poly, texture = textured_polydata(pts, faces, ids, mesh.uvs, tex)
                self._add(shown, mesh, poly, texture=texture, **kwargs)
        if not keep.any():
            return
        ids = np.flatnonzero(keep)
        poly = pv.PolyData.from_regular_faces(pts, faces[ids])
        poly.cell_data["face_id"] = ids.astype(np.int32)
        reader_painted = mode in reader_colour_modes(self.tileset) and mode != "material"
        if mode == "solid":
            poly.point_data["rgb"] = self._solid(len(pts))
        elif mode == "elevation" and not reader_painted:
            z = mesh.vertices[:, 2].astype(np.float64) + float(mesh.origin[2])
            poly.point_data["rgb"] = self._elevation(z)
        elif mesh.vertex_colors is not None and len(mesh.vertex_colors) == len(pts):
            poly.point_data["rgb"] = rgb_bytes(mesh.vertex_colors)
        elif mesh.face_colors is not None and len(mesh.face_colors) == len(faces):
            poly.cell_data["rgb"] = rgb_bytes(np.asarray(mesh.face_colors)[ids])
        elif mesh.parts:  # the parts' material colours (OBJ, glTF base colours)
            rgb = np.broadcast_to(self._solid(1)[0], (len(faces), 3)).copy()
            for part in mesh.parts:
                c = np.asarray(part.material.color, np.float64)[:3]
                rgb[max(0, part.start):min(len(faces), part.stop)] = np.clip(
                    np.round(c * 255), 0, 255).astype(np.uint8)
            poly.cell_data["rgb"] = rgb[ids]
        else:
            poly.point_data["rgb"] = self._solid(len(pts))
        self._add(shown, mesh, poly, scalars="rgb", rgb=True, **kwargs)

    def _add_points(self, shown: _Shown, cloud: PointCloud) -> None:
        layer = self.entry.layer
        pts = self.renderer._local_positions(layer, cloud.positions, origin=cloud.origin)
        mask = self.renderer._clip_mask(pts)
        if mask is not None:
            pts = pts[mask]
        if not len(pts):
            return
        rgb_attr = cloud.attributes.get("rgb")
        if layer.color_mode == "solid":
            rgb = self._solid(len(pts))
        elif layer.color_mode == "elevation" or rgb_attr is None:
            z = cloud.positions[:, 2].astype(np.float64) + float(cloud.origin[2])
            rgb = self._elevation(z if mask is None else z[mask])
        else:
            rgb = rgb_bytes(rgb_attr if mask is None else np.asarray(rgb_attr)[mask])
        poly = pv.PolyData(pts)
        poly.point_data["rgb"] = rgb
        self._add(shown, cloud, poly, scalars="rgb", rgb=True, style="points",
                  point_size=float(layer.point_size), lighting=False,
                  render_points_as_spheres=False)

    # -- queries ------------------------------------------------------------------------
    @property
    def actor_count(self) -> int:
        return sum(len(s.actors) for s in self.shown.values())

    def triangles_drawn(self) -> int:
        """Triangles of the tile actors now in the renderer (after the clip)."""
        total = 0
        for shown in self.shown.values():
            for _aid, _item, poly in shown.items:
                if poly is not None:
                    total += int(poly.GetNumberOfPolys())
        return total

    def actor_polydata(self) -> list[Any]:
        """The polydata of every tile actor now drawn (scene-local, cut by the clip)."""
        return [poly for shown in self.shown.values() for _a, _i, poly in shown.items]

    def status(self) -> dict[str, Any]:
        """Counts for a status line: tiles drawn / loaded / pending, cached megabytes."""
        sel = self.stream.last
        return {"drawn": len(self.shown), "selected": 0 if sel is None else len(sel.draw),
                "loaded": self.stream.loads, "pending": self.stream.busy,
                "megabytes": self.stream.cached_bytes / 2**20,
                "warnings": list(self.tileset.warnings)}

    def local_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Scene-local box of the whole tileset (its root's bounding sphere): fitting
        the view frames all of it, not only the tiles drawn now."""
        layer = self.entry.layer
        lo, hi = self.tileset.bounds
        model = self.renderer._model(layer, np.zeros(3))
        moved = camera.box_corners(lo, hi) @ model[:3, :3].T + model[:3, 3]
        return moved.min(axis=0), moved.max(axis=0)

    def pick(self, x: float, y: float) -> tuple[float, Pick] | None:
        """Ray-pick the drawn tiles: (display depth, Pick) or None."""
        layer = self.entry.layer
        if not layer.visible or not self.shown:
            return None
        items: dict[int, Any] = {}
        candidates = []
        for shown in self.shown.values():
            for actor, (aid, item, poly) in zip(shown.actors, shown.items, strict=True):
                if not isinstance(item, Mesh) or poly is None or not poly.n_points:
                    continue
                items[aid] = item
                candidates.append(((aid, item), [actor], np.asarray(poly.points)))
        hit = picking.pick_mesh(self.renderer.plotter.renderer, candidates, x, y)
        if hit is None:
            return None
        _aid, item = hit.owner
        xyz = self.renderer.to_true(hit.position)
        if not np.allclose(layer.transform, np.eye(4)):
            inv = np.linalg.inv(np.asarray(layer.transform, np.float64))
            data_xyz = inv[:3, :3] @ xyz + inv[:3, 3]
        else:
            data_xyz = xyz
        attrs: dict[str, Any] = {}
        height_at = getattr(self.tileset, "height_at", None)
        if callable(height_at):
            try:
                h = float(np.asarray(height_at(data_xyz[None, :2]), np.float64).ravel()[0])
            except Exception:  # noqa: BLE001 - the surface height is the fallback
                h = float("nan")
            attrs["height"] = h if np.isfinite(h) else float(data_xyz[2])
        pick = Pick(layer=layer, index=max(int(hit.face), 0), xyz=xyz, attributes=attrs)
        if isinstance(item, FeatureMesh) and hit.face >= 0:
            feature = item.feature_at_face(int(hit.face))
            if feature is not None:
                pick.feature_id = str(feature.id)
                attrs.update({"id": feature.id, "type": feature.type})
                if feature.name:
                    attrs["name"] = feature.name
                for key, value in (feature.attributes or {}).items():
                    attrs.setdefault(str(key), value)
        return hit.depth, pick


def _layer_bytes(layer: Layer) -> int:
    mb = getattr(layer, "tile_memory_mb", None)
    return int(float(mb) * 2**20) if mb else DEFAULT_MAX_BYTES
