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
- a tile's VTK data (cut by the scene clip like a mesh, coloured, textured with its UVs)
  is built in the loader thread (:meth:`TileDraw.prepare`, the stream's ``prepare`` hook);
  the GUI thread only makes a mapper and an actor per part and adds it to the VTK
  renderer (pyvista's ``add_mesh`` cost tens of ms per tile there), and new tiles per
  frame stop at ``FRAME_TEXTURE_BYTES`` / ``FRAME_NEW_TRIANGLES`` (their first frame
  uploads them); on screen the layer's triangle budget is the renderer's share of the
  measured frame cost, each tile counting ``TILE_TRIANGLES`` for its draw call;
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
from .budget import ACTOR_POINTS, TRIANGLE_POINTS
from .colormaps import apply_colormap
from .colors import rgb_bytes
from .scene import Layer, Pick, reader_colour_modes

#: seconds of actor building per on-screen frame (the rest waits for the next poll)
SLICE_SECONDS = 0.03
#: new tiles per on-screen frame also stop at this many texture bytes and triangles: the
#: frame that first draws them uploads them (on llvmpipe ~25 ms per 2 MB of texture and
#: ~20 ms per 100k triangles), so a burst of loaded tiles is shown over a few frames
#: (300k triangles made the 3D Tiles bench's first frame a 95-126 ms gap; 150k: 79 ms)
FRAME_TEXTURE_BYTES = 3 * 2**20
FRAME_NEW_TRIANGLES = 150_000
#: on screen, each drawn tile counts for this many triangles against the frame's budget
#: (its draw call)
TILE_TRIANGLES = int(ACTOR_POINTS / TRIANGLE_POINTS)
#: default cache size of a tile layer (bytes of loaded tile contents)
DEFAULT_MAX_BYTES = 768 * 2**20
#: default triangle budget of a tile layer
DEFAULT_TRIANGLES = 3_000_000

_counter = itertools.count(1)
#: the renderer's layer actor names (viewer.render._ACTOR_PREFIX; not imported: no cycle)
ACTOR_PREFIX = "realscene-layer-"


def is_tiles(data: Any) -> bool:
    """True for a tiled dataset (a layer drawn through a :class:`TileDraw`)."""
    return isinstance(data, TileSet)


def textured_polydata(pts: np.ndarray, faces: np.ndarray, ids: np.ndarray, uvs: np.ndarray,
                      image: np.ndarray) -> tuple[pv.PolyData, pv.Texture]:
    """Faces ``ids`` of a mesh (scene-local ``pts``, all its vertices) with their UVs
    and ``image`` as a texture; cells keep their face index (``face_id``: picking finds
    the object). The texture is a view of ``image``'s pixels, not a copy (pyvista's
    Texture copies them, flipped: a second copy of every texture in memory): its rows
    stay top first, so the UVs are flipped instead (the image's top is v = 1)."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData

    poly = pv.PolyData.from_regular_faces(pts, faces[ids])
    poly.cell_data["face_id"] = np.asarray(ids).astype(np.int32)
    uv = np.array(uvs, dtype=np.float32)
    uv[:, 1] = 1.0 - uv[:, 1]
    poly.active_texture_coordinates = uv
    img = np.ascontiguousarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    data = vtkImageData()
    data.SetDimensions(w, h, 1)
    data.GetPointData().SetScalars(numpy_to_vtk(img.reshape(h * w, -1), deep=False))
    texture = pv.Texture(data)
    # the pixels live as long as the texture: VTK keeps a wrapper's attributes for as
    # long as its C++ object lives, whoever holds it (an actor)
    texture._rs_pixels = img
    return poly, texture


def frustum_planes(renderer: Any, origin: np.ndarray) -> np.ndarray:
    """The active camera's side frustum planes (a, b, c, d: left, right, bottom, top),
    unit normals pointing inside, in true coordinates (``origin``: the scene origin).
    Not the near / far planes: VTK fits those to the actors drawn now, so tiles not
    loaded yet beyond them would never be wanted (an emptied layer would stay empty)."""
    cam = renderer.GetActiveCamera()
    _, _, w, h = camera.viewport(renderer)
    raw = [0.0] * 24
    cam.GetFrustumPlanes(w / h, raw)
    planes = np.asarray(raw, dtype=np.float64).reshape(6, 4)[:4].copy()
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


class _Spec:
    """One tile actor's VTK data, built in a loader thread (:meth:`TileDraw.prepare`):
    only the mapper and actor are made on the GUI thread (:meth:`TileDraw._actor`)."""

    __slots__ = ("item", "poly", "texture", "scalars", "points", "texture_bytes")

    def __init__(self, item: Any, poly: Any, texture: Any = None, scalars: str | None = None,
                 points: bool = False, texture_bytes: int = 0) -> None:
        self.item = item
        self.poly = poly
        self.texture = texture
        #: bytes of the texture image: what the next render uploads to the GPU
        self.texture_bytes = int(texture_bytes)
        #: "point" / "cell": the poly's "rgb" array colours it (direct scalars)
        self.scalars = scalars
        self.points = points


class _Shown:
    """The actors of one drawn tile."""

    __slots__ = ("actors", "names", "items", "texture_bytes", "triangles")

    def __init__(self) -> None:
        self.texture_bytes = 0
        self.triangles = 0
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
        #: settings generation: contents prepared under another one are built again
        self._generation = 0
        self._triangles_shown = 0
        self.stream = self._new_stream()
        #: the orthophoto the cached contents were textured with (a drape, its undo)
        self._ortho = self.tileset.metadata.get("ortho")
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
        self.stream = self._new_stream()

    def _new_stream(self) -> TileStream:
        return TileStream(self.tileset, max_bytes=_layer_bytes(self.entry.layer),
                          triangle_budget=DEFAULT_TRIANGLES,
                          on_loaded=self.renderer._request_update, prepare=self.prepare)

    def set_triangle_budget(self, triangles: int | None) -> None:
        """Triangles a frame may draw of this layer (the renderer's share of its measured
        frame budget; None: ``DEFAULT_TRIANGLES``, a still picture). Tiles beyond it are
        not refined rather than drawn slowly."""
        self.stream.triangle_budget = int(DEFAULT_TRIANGLES if triangles is None
                                          else min(triangles, DEFAULT_TRIANGLES))
        self.stream.tile_cost = 0 if triangles is None else int(TILE_TRIANGLES)

    def settings_changed(self) -> None:
        """The layer's detail (``max_sse``) or memory budget changed."""
        self.stream.max_bytes = _layer_bytes(self.entry.layer)

    def rebuild(self) -> None:
        """Colours, clip or transform changed: every tile's actors again (the contents
        read again when another orthophoto is draped now, or none)."""
        self.clear()
        ortho = self.tileset.metadata.get("ortho")
        if ortho != self._ortho:  # cached contents are textured by the one before
            self._ortho = ortho
            self.restart()
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
        tex_bytes = triangles = 0
        for key, (tile, content) in drawn.items():
            if key in self.shown:
                continue
            # at least one tile per update, then as many as the slice allows
            if not wait and changed and (
                    time.perf_counter() - start > SLICE_SECONDS
                    or tex_bytes >= FRAME_TEXTURE_BYTES or triangles >= FRAME_NEW_TRIANGLES):
                self.behind = True
                break
            shown = self._build(tile, content)
            self.shown[key] = shown
            tex_bytes += shown.texture_bytes
            triangles += content.triangle_count
            changed = True
        if not self.behind:  # every wanted tile shows: drop the others
            old = [k for k in self.shown if k not in drawn]
            if old:
                self._drop_many(old)
                changed = True
        if self.behind:  # the rest of the new tiles on the next poll
            self.renderer._request_update()
        if changed:
            self.renderer._apply_properties(self.entry)
        return changed

    def clear(self) -> None:
        """Remove every tile actor; contents prepared before are stale from now on."""
        self._generation += 1
        self._drop_many(list(self.shown))

    def close(self) -> None:
        self.clear()
        self.stream.close()

    def _drop(self, key: int) -> None:
        self._drop_many([key])

    def _drop_many(self, keys: list[int]) -> None:
        """Remove the actors of the tiles ``keys`` (one pass over the layer's lists)."""
        gone: set[int] = set()
        ren = self.renderer.plotter.renderer
        for key in keys:
            shown = self.shown.pop(key, None)
            if shown is None:
                continue
            self._triangles_shown -= shown.triangles
            for actor in shown.actors:
                ren.RemoveActor(actor)
                gone.add(id(actor))
        if not gone:
            return
        entry = self.entry
        kept = [(n, a) for n, a in zip(entry.names, entry.actors, strict=True)
                if id(a) not in gone]
        entry.names = [n for n, _ in kept]
        entry.actors = [a for _, a in kept]
        entry.mesh_actor_ids -= gone

    # -- actors -------------------------------------------------------------------------
    def prepare(self, tile: Any, content: Any) -> None:
        """Loader thread (the stream's ``prepare`` hook): build the tile's VTK data (cut by
        the clip, coloured, textured) now, so the GUI thread only makes mappers and
        actors. Tagged with the settings generation: a rebuild since makes it stale."""
        gen = self._generation
        try:
            specs = self._specs(content)
        except Exception:  # noqa: BLE001 - the GUI thread builds it again (and reports)
            content.prepared = None
            return
        content.prepared = (gen, specs)
        # (the textures are views of the content's own pixels: not counted twice)
        content.prepared_bytes = sum(int(spec.poly.GetActualMemorySize()) * 1024
                                     for spec in specs)

    def _build(self, tile: Any, content: Any) -> _Shown:
        prepared = getattr(content, "prepared", None)
        if prepared is not None and prepared[0] == self._generation:
            specs = prepared[1]
        else:
            specs = self._specs(content)
            content.prepared = (self._generation, specs)
        shown = _Shown()
        shown.triangles = int(content.triangle_count)
        for spec in specs:
            self._show(shown, spec)
        self._triangles_shown += shown.triangles
        return shown

    def _specs(self, content: Any) -> list[_Spec]:
        specs: list[_Spec] = []
        for item in [*content.meshes, *content.points]:
            if isinstance(item, Mesh) and item.triangle_count:
                self._mesh_specs(specs, item)
            elif isinstance(item, PointCloud) and item.point_count:
                self._point_specs(specs, item)
        return specs

    def _show(self, shown: _Shown, spec: _Spec) -> None:
        """GUI thread: a mapper and actor for ``spec`` into the renderer (no pyvista
        ``add_mesh``: its colour tables and actor-list scans cost tens of ms per tile)."""
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

        layer = self.entry.layer
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(spec.poly)
        if spec.scalars is not None:
            mapper.SetColorModeToDirectScalars()
            if spec.scalars == "cell":
                mapper.SetScalarModeToUseCellFieldData()
            else:
                mapper.SetScalarModeToUsePointFieldData()
            mapper.SelectColorArray("rgb")
            mapper.ScalarVisibilityOn()
        else:
            mapper.ScalarVisibilityOff()
        actor = vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetColor(1.0, 1.0, 1.0)
        if spec.texture is not None:
            actor.SetTexture(spec.texture)
        if spec.points:
            prop.SetRepresentationToPoints()
            prop.SetPointSize(float(layer.point_size))
            prop.LightingOff()
        elif spec.texture is not None:
            # a photogrammetry texture is the photo: its light is in it (lit again it
            # darkens); unlit also spares llvmpipe the flat normals it derives per
            # fragment: 61 -> 40 ms a frame of 120 textured OSGB tiles (220k triangles)
            prop.LightingOff()
        else:
            prop.SetInterpolationToFlat()
            prop.LightingOn()
        self.renderer.plotter.renderer.AddActor(actor)
        name = f"{ACTOR_PREFIX}{layer.id}-tile{next(_counter)}"
        self.entry.actors.append(actor)
        self.entry.names.append(name)
        shown.actors.append(actor)
        shown.names.append(name)
        shown.items.append((id(actor), spec.item, spec.poly))
        shown.texture_bytes += spec.texture_bytes
        if isinstance(spec.item, Mesh):
            self.entry.mesh_actor_ids.add(id(actor))

    def _spec(self, specs: list[_Spec], item: Any, poly: pv.PolyData, **kwargs: Any) -> None:
        poly = self.renderer._clip_poly(poly)
        if poly is None:  # the clip left nothing of it
            return
        specs.append(_Spec(item, poly, **kwargs))

    def _elevation(self, z_true: np.ndarray) -> np.ndarray:
        layer = self.entry.layer
        if self.z_range is None:
            lo, hi = (float(np.nanpercentile(z_true, p)) for p in (2.0, 98.0))
            self.z_range = (lo, hi if hi > lo else lo + 1.0)
        return apply_colormap(z_true, self.z_range[0], self.z_range[1], layer.colormap)

    def _solid(self, n: int) -> np.ndarray:
        rgb = np.round(np.asarray(self.entry.layer.solid_color, np.float64) * 255)
        return np.ascontiguousarray(np.broadcast_to(rgb.astype(np.uint8), (n, 3)))

    def _mesh_specs(self, specs: list[_Spec], mesh: Mesh) -> None:
        layer = self.entry.layer
        pts = self.renderer._local_positions(layer, mesh.vertices, origin=mesh.origin)
        faces = np.asarray(mesh.faces, dtype=np.int64)
        mode = layer.color_mode
        keep = np.ones(len(faces), bool)
        if mode == "material" and mesh.uvs is not None and len(mesh.uvs) == len(pts):
            # one actor per texture, not per part: parts sharing an image (glTF
            # primitives of one material) are one draw call
            by_texture: dict[int, tuple[np.ndarray, list[np.ndarray]]] = {}
            for part in mesh.parts:
                tex = part.material.texture
                if tex is None or not np.size(tex) or part.stop <= part.start:
                    continue
                ids = np.arange(max(0, part.start), min(len(faces), part.stop))
                keep[ids] = False
                by_texture.setdefault(id(tex), (tex, []))[1].append(ids)
            for tex, groups in by_texture.values():
                ids = groups[0] if len(groups) == 1 else np.concatenate(groups)
                poly, texture = textured_polydata(pts, faces, ids, mesh.uvs, tex)
                self._spec(specs, mesh, poly, texture=texture, texture_bytes=tex.nbytes)
        if not keep.any():
            return
        ids = np.flatnonzero(keep)
        poly = pv.PolyData.from_regular_faces(pts, faces[ids])
        poly.cell_data["face_id"] = ids.astype(np.int32)
        reader_painted = mode in reader_colour_modes(self.tileset) and mode != "material"
        where = "point"
        if mode == "solid":
            poly.point_data["rgb"] = self._solid(len(pts))
        elif mode == "elevation" and not reader_painted:
            z = mesh.vertices[:, 2].astype(np.float64) + float(mesh.origin[2])
            poly.point_data["rgb"] = self._elevation(z)
        elif mesh.vertex_colors is not None and len(mesh.vertex_colors) == len(pts):
            poly.point_data["rgb"] = rgb_bytes(mesh.vertex_colors)
        elif mesh.face_colors is not None and len(mesh.face_colors) == len(faces):
            poly.cell_data["rgb"] = rgb_bytes(np.asarray(mesh.face_colors)[ids])
            where = "cell"
        elif mesh.parts:  # the parts' material colours (OBJ, glTF base colours)
            rgb = np.broadcast_to(self._solid(1)[0], (len(faces), 3)).copy()
            for part in mesh.parts:
                c = np.asarray(part.material.color, np.float64)[:3]
                rgb[max(0, part.start):min(len(faces), part.stop)] = np.clip(
                    np.round(c * 255), 0, 255).astype(np.uint8)
            poly.cell_data["rgb"] = rgb[ids]
            where = "cell"
        else:
            poly.point_data["rgb"] = self._solid(len(pts))
        self._spec(specs, mesh, poly, scalars=where)

    def _point_specs(self, specs: list[_Spec], cloud: PointCloud) -> None:
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
        specs.append(_Spec(cloud, poly, scalars="point", points=True))

    # -- queries ------------------------------------------------------------------------
    @property
    def triangles_shown(self) -> int:
        """Triangles of the tiles with actors (before the clip): the frame's load."""
        return self._triangles_shown

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
