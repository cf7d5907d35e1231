"""The scene pipeline: read -> reproject into the scene CRS -> level of detail -> layer.

One path from a file (or a COPC URL) to a scene layer, shared by every face of
RealScene: the window's loading job (``viewer/qt/loading.py`` adds only the worker
thread, progress signals and Cancel), the command line (``render``, ``open``) and Python
scripts. No Qt, no VTK.

- :func:`load` reads one source and brings it into the scene CRS: COPC files, COPC URLs
  and LAS/LAZ files with an up-to-date COPC index are *streamed* (the COPC hierarchy is
  opened, its top levels are the layer's data and the source is its level of detail,
  wrapped to transform nodes on fetch when the CRS differs); LAS/LAZ files are read
  progressively (a coarse preview handed to ``on_preview`` first, memory-guarded);
  everything else through :func:`loaders.read`. The data is then transformed into the
  scene CRS (or, while the scene has none, data in degrees into a metric CRS:
  :func:`loaders.georef.prepare_for_scene`) and a point cloud gets its octree.
- :func:`add_to_scene` makes the scene layer, with a project record's display settings.
- :func:`open_files` / :func:`open_project` do both for several sources, in order, so the
  first georeferenced layer sets the scene CRS and the others follow it, as in the window.

``scene_crs`` arguments take a CRS (anything pyproj understands) or a callable giving it,
evaluated when the data is transformed (the window passes ``lambda: scene.crs``: another
file may have set it meanwhile).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import loaders
from loaders import LoadCancelled, LoadError, Mesh, PointCloud, progressive
from loaders.crs import parse_crs_text

ProgressFn = Callable[[float, str], None]

#: share of the progress for reading; reprojection and the octree build take the rest
READ_SHARE = 0.85


@dataclass
class Loaded:
    """One source brought through the pipeline, ready to become a scene layer."""

    path: str
    data: Any
    #: level-of-detail source: in-memory octree, streamed COPC (maybe reprojected) or None
    lod: Any = None
    #: True when the layer streams from a COPC (local, URL, or an index of the file)
    streamed: bool = False
    #: the COPC index streamed instead of the file itself, if any
    streamed_from: str | None = None

    def close(self) -> None:
        """Release a streamed source (open files / HTTP sessions)."""
        if self.streamed and self.lod is not None:
            self.lod.close()
        if is_tiles(self.data):
            self.data.close()


def _noop(_fraction: float, _message: str = "") -> None:
    pass


def scaled(progress: ProgressFn | None, a: float, b: float) -> ProgressFn:
    """``progress`` seen as a sub-range [a, b] of the whole."""
    report = progress or _noop

    def sub(fraction: float, message: str = "") -> None:
        report(a + (b - a) * min(max(float(fraction), 0.0), 1.0), message)

    return sub


def _crs_now(scene_crs: Any) -> Any:
    return scene_crs() if callable(scene_crs) else scene_crs


def is_tiles(data: Any) -> bool:
    """True for a tiled dataset (:class:`loaders.tiles.TileSet`: 3D Tiles, OSGB,
    terrain), streamed by the renderer tile by tile."""
    return getattr(data, "kind", None) == "tiles"


def is_tileset_url(path: str) -> bool:
    """True for an http(s) URL of a 3D Tiles tileset (``.json``), read by the 3D Tiles
    reader rather than streamed as a COPC."""
    from urllib.parse import urlsplit

    from loaders import copc

    return copc.is_url(path) and urlsplit(path).path.lower().endswith(".json")


def stream_target(path: str) -> tuple[str, str | None] | None:
    """``(copc, index)`` to stream for ``path`` (``index``: the COPC copy streamed instead
    of the file, else None), or None to read the file into memory."""
    from loaders import copc
    from loaders.writers.copc import find_copc_index

    if is_tileset_url(path) or Path(str(path)).is_dir():
        return None
    if copc.is_url(path):
        return path, None
    found = find_copc_index(path)
    if found is None:
        return None
    return str(found), (str(found) if str(found) != str(path) else None)


def read(path: str, progress: ProgressFn | None = None,
         on_preview: Callable[[PointCloud], None] | None = None) -> Any:
    """Read a file into memory: LAS/LAZ progressively (``on_preview(coarse)`` first for
    big files; memory-guarded), anything else with :func:`loaders.read`."""
    if is_tileset_url(path):  # a 3D Tiles tileset over http(s): streamed tile by tile
        from loaders.tiles.tiles3d import open_tileset

        return open_tileset(path)
    from loaders import ingest

    if not Path(str(path)).is_dir() and progressive.is_progressive(path):
        return progressive.read_progressive(path, on_preview=on_preview, progress=progress,
                                            full_reader=ingest.read)
    if str(path).lower().endswith(".ply"):  # a big point-cloud PLY: read lean, in a worker
        return ingest.read_ply(path, progress)
    return loaders.read(path, progress=progress)


def reproject(data: Any, scene_crs: Any, progress: ProgressFn | None = None) -> Any:
    """Transform freshly read ``data`` into the scene CRS, in place (degrees into a metric
    CRS while the scene has none); a failure keeps the data, with a warning. Returns the
    CRS the data is in now (:func:`loaders.georef.prepare_for_scene`)."""
    from loaders import georef

    if is_tiles(data):  # tiles are transformed as they load, in the loading threads
        return georef.prepare_tiles_for_scene(data, _crs_now(scene_crs))
    if getattr(data, "crs", None) is None:
        return None
    crs_before, positions_before = data.crs, getattr(data, "positions", None)
    crs = georef.prepare_for_scene(data, _crs_now(scene_crs), progress=progress)
    if data.crs is not crs_before or getattr(data, "positions", None) is not positions_before:
        data.__dict__.pop("_prebuilt_lod", None)  # moved: its octree is built again
    return crs


def build_lod(data: Any, progress: ProgressFn | None = None) -> Any:
    """The octree of a point cloud (None for other data, or when the build failed: the
    layer is then drawn from a subsample, with a warning). Cancelling still cancels."""
    if not isinstance(data, PointCloud):
        return None
    from loaders.ingest import take_prebuilt_lod
    from loaders.lod import build_octree

    report = progress or _noop
    prebuilt = take_prebuilt_lod(data)  # built with the read, in the reading process
    if prebuilt is not None:
        report(1.0, "level of detail ready")
        return prebuilt
    report(0.0, "Building level of detail")
    try:
        return build_octree(data, progress=report)
    except (LoadCancelled, KeyboardInterrupt, SystemExit):
        raise
    except Exception:  # noqa: BLE001 - a LOD failure must not lose the data
        traceback.print_exc()
        data.warnings.append("level of detail could not be built; drawing a subsample")
        return None


def load(path: str, scene_crs: Any = None, progress: ProgressFn | None = None, *,
         on_preview: Callable[[PointCloud], None] | None = None,
         allow_redirects: bool = False, stream: bool = True,
         with_lod: bool = True, on_crs: Callable[[Any], None] | None = None,
         assign_crs: Any = None) -> Loaded:
    """Read ``path`` (a file or a COPC URL) and bring it into ``scene_crs``: the whole
    pipeline up to the scene layer. ``progress(fraction, message)`` may raise
    :class:`loaders.LoadCancelled` to cancel; ``stream=False`` reads a COPC (or a file
    with a COPC index) into memory instead of streaming it; ``on_crs(crs)`` is told the
    CRS the data is drawn in once it is known (None: none); ``assign_crs`` (a CRS or its
    text: EPSG code, PROJ, WKT) is taken as the data's CRS instead of the file's, before
    the data is transformed (a layer's CRS assigned by the user). Raises LoadError."""
    read_progress = scaled(progress, 0.0, READ_SHARE)
    target = stream_target(path) if stream else None
    if target is not None:
        from loaders import georef
        from loaders.copc import open_copc

        copc_path, index = target
        source = open_copc(copc_path, progress=scaled(progress, 0.0, 0.9),
                           allow_cross_host_redirects=allow_redirects)
        try:
            preview = source.preview()
            if assign_crs is not None:
                source.crs = assign_data_crs(preview, assign_crs)
            # into the scene CRS, or a metric CRS for degrees: nodes transformed on fetch
            lod, preview = georef.prepare_source_for_scene(source, preview,
                                                           _crs_now(scene_crs))
        except BaseException:
            source.close()
            raise
        if on_crs is not None:
            on_crs(preview.crs)
        return Loaded(path, preview, lod, streamed=True, streamed_from=index)
    data = read(path, read_progress, on_preview)
    if assign_crs is not None:
        try:
            assign_data_crs(data, assign_crs)
        except ValueError as exc:
            raise LoadError(path, f"the CRS assigned to it is not understood ({exc})",
                            "assign the layer another CRS") from None
    crs = reproject(data, scene_crs, progress=scaled(progress, READ_SHARE * 0.9, READ_SHARE))
    if on_crs is not None:
        on_crs(crs)
    lod = build_lod(data, scaled(progress, READ_SHARE, 1.0)) if with_lod else None
    if isinstance(data, PointCloud):  # counted here (a loading thread), not on a frame
        from types import SimpleNamespace

        from .colors import class_counts

        class_counts(SimpleNamespace(data=data))  # (cached in the cloud's metadata)
    return Loaded(path, data, lod)


def assign_data_crs(data: Any, assign_crs: Any) -> Any:
    """Give freshly read ``data`` the CRS the user assigned (recorded in its metadata, with
    a note of what the file said), without transforming it (``realscene info --crs``);
    returns the CRS. ValueError for an invalid CRS."""
    from loaders.crs import GEOGRAPHIC_WARNING, crs_label, crs_to_text, data_crs_warnings

    from .session import ASSIGNED_CRS

    crs = parse_crs_text(assign_crs)
    text = assign_crs if isinstance(assign_crs, str) else crs_to_text(crs)
    before = data.crs
    data.crs = crs
    if is_tiles(data):  # a tileset's tiles are transformed from its native CRS
        data.native_crs = crs
    data.metadata[ASSIGNED_CRS] = text.strip() if crs is not None else None
    warnings = data.metadata.setdefault("warnings", [])
    # the file's CRS warnings (a zone prefix mismatch, degrees) no longer apply
    stale = set(data_crs_warnings(before, *data.bounds)) | {GEOGRAPHIC_WARNING}
    warnings[:] = [w for w in warnings if w not in stale]
    if crs is not None:
        warnings += data_crs_warnings(crs, *data.bounds)
        if crs.is_geographic:
            warnings.append(GEOGRAPHIC_WARNING)
    data.metadata["crs_source"] = f"assigned by the user (the file says: {crs_label(before)})"
    return crs


def assign_crs(session: Any, layer: Any, crs: Any,
               progress: ProgressFn | None = None) -> Any:
    """Assign ``crs`` (a CRS, or text: "EPSG:4547", a PROJ string, WKT) to ``layer``,
    whose file has no CRS or a wrong one: the file is read again with it and transformed
    into the scene CRS like any other layer (the scene takes the CRS when it has none),
    as one undoable edit of ``session`` (saved in the layer's project record). Returns the
    new data. Raises ValueError for an invalid CRS or a layer without a file, LoadError
    when the file cannot be read again."""
    from loaders.crs import parse_user_crs

    if not getattr(layer, "path", None):
        raise ValueError(f"layer {layer.name!r} has no file to read again with a CRS")
    if isinstance(crs, str):
        parse_user_crs(crs)  # a clear message for an invalid or height-only CRS
    scene = session.scene
    loaded = load(str(layer.path), scene.crs, progress, assign_crs=crs)
    session.assign_layer_crs(layer, loaded.data, loaded.lod)
    return loaded.data


# -- scene layers ------------------------------------------------------------------------


def to_scene_crs(scene: Any, data: Any) -> None:
    """A source that was read while the scene CRS was still unknown to it (files opened
    together in the window): transform a mesh now; a point cloud (whose level of detail
    is built already) keeps its CRS with a warning."""
    from loaders import georef

    if scene.crs is None or data.crs is None or \
            not georef.needs_reprojection(data.crs, scene.crs):
        return
    if isinstance(data, PointCloud):
        data.warnings.append("in another CRS than the scene; reopen it to transform it")
        return
    try:
        georef.reproject(data, scene.crs)
    except ValueError as exc:
        data.warnings.append(f"not transformed into the scene CRS: {exc}")


def to_scene_crs_tiles(scene: Any, tileset: Any) -> None:
    """A tileset read while the scene CRS was unknown to it: deliver its tiles in the
    scene CRS from now on (nothing is loaded yet that would need transforming)."""
    from loaders import georef

    if scene.crs is None or tileset.crs is None or \
            not georef.needs_reprojection(tileset.crs, scene.crs):
        return
    georef.prepare_tiles_for_scene(tileset, scene.crs)


def drape(scene: Any, layer: Any, ortho: str | Path, prepared: Any = None) -> None:
    """Drape the orthophoto GeoTIFF ``ortho`` on ``layer`` and show it, in the "material"
    colour mode. A terrain (its TileSet's ``drape``: warped into the DEM's CRS tile by
    tile) or an OSGB / 3D Tiles layer (the tiles' meshes projected top-down as they load)
    has its tiles read again textured (one ``data`` event gives it a new stream: the cache
    held the tiles coloured before); a mesh layer (OBJ, glTF, CityJSON, IFC) gets UVs
    projected top-down and the orthophoto warped over its footprint as its texture, its
    own materials kept (:func:`undrape`). The same step for the window's Drape
    orthophoto…, ``render --drape`` and ``site.drape``. ValueError when the layer takes
    no orthophoto (a point cloud, imagery); LoadError when the orthophoto cannot be
    draped (not an image, no CRS, not over the layer). ``prepared``: what
    :func:`prepare_drape` made of it in a background job (then only shown here)."""
    from loaders.tiles.drape import apply_mesh_drape

    data = layer.data
    if isinstance(data, Mesh):
        apply_mesh_drape(data, prepared or prepare_drape(layer, ortho))
    elif prepared is not None and callable(getattr(data, "set_drape_state", None)):
        data.set_drape_state(prepared)  # made (and checked) by prepare_drape already
    elif callable(getattr(data, "drape", None)):
        try:
            data.drape(str(ortho))
        except LoadError as exc:
            if "imagery can only be draped on a DEM" in exc.reason:
                raise ValueError(f"{layer.name} is imagery: an orthophoto drapes on a DEM, "
                                 "a mesh or a tile layer") from None
            raise
    else:
        raise ValueError(f"{layer.name} takes no orthophoto (a DEM, a mesh or a tile "
                         "layer does)")
    scene.update(layer, data=data)
    if "material" in layer.available_color_modes() and layer.color_mode != "material":
        scene.update(layer, color_mode="material")


def prepare_drape(layer: Any, ortho: str | Path) -> Any:
    """The slow part of :func:`drape`, for a background job (the GUI thread then calls
    ``drape(scene, layer, ortho, prepared)``): a mesh's UVs and texture, or a tileset's
    orthophoto checked (``TileSet.prepare_drape``); the layer is not touched yet.
    Raises as :func:`drape`."""
    from loaders.tiles.drape import mesh_drape

    data = layer.data
    if isinstance(data, Mesh):
        return mesh_drape(data, str(ortho), name=layer.name)
    if not callable(getattr(data, "drape", None)):
        raise ValueError(f"{layer.name} takes no orthophoto (a DEM, a mesh or a tile "
                         "layer does)")
    if callable(getattr(data, "prepare_drape", None)):
        try:
            return data.prepare_drape(str(ortho))
        except LoadError as exc:
            if "imagery can only be draped on a DEM" in exc.reason:
                raise ValueError(f"{layer.name} is imagery: an orthophoto drapes on a DEM, "
                                 "a mesh or a tile layer") from None
            raise
    data.drape(str(ortho))  # a tileset of its own kind: draped here
    return True


def drape_state(layer: Any) -> Any:
    """What is draped on ``layer`` now, as :func:`restore_drape` (or :func:`drape`'s
    ``prepared``) takes it back without reading the orthophoto again: a mesh's (file,
    UVs and texture), a tileset's ``drape_state()``; None when nothing is draped."""
    from loaders.tiles.drape import UNDRAPED, DrapedLook

    data = layer.data
    ortho = data.metadata.get("ortho")
    if not ortho:
        return None
    if isinstance(data, Mesh):
        if UNDRAPED not in data.metadata or not data.parts:
            return None
        return Path(ortho), DrapedLook(data.uvs, data.parts[0].material.texture)
    state = getattr(data, "drape_state", None)
    return state() if callable(state) else None


def restore_drape(scene: Any, layer: Any, state: Any) -> None:
    """Give ``layer`` back a drape :func:`drape_state` saved (None: none, undraped), the
    orthophoto not read again: the undo and redo of the session's drape edits."""
    if state is None:
        undrape(scene, layer)
        return
    ortho = state[0] if isinstance(layer.data, Mesh) else state.path
    drape(scene, layer, ortho, state)


def drape_layer(session: Any, layer: Any, ortho: str | Path, prepared: Any = None) -> None:
    """Drape the orthophoto ``ortho`` on ``layer`` (:func:`drape`; ``prepared``: what
    :func:`prepare_drape` made in a background job) as one undoable edit of ``session``
    (a :class:`viewer.session.ProjectSession`): undo gives back what was draped before
    (nothing, or the previous orthophoto) and the colour mode, redo drapes again without
    reading the orthophoto. Raises (ValueError, LoadError) before anything changes; the
    project saves the layer's orthophoto (``display["drape"]``). The window's Drape
    orthophoto… and ``site.drape``."""
    from heritage.undo import Command

    if prepared is None:
        prepared = prepare_drape(layer, ortho)
    before, mode, scene = drape_state(layer), layer.color_mode, session.scene

    def undo() -> None:
        restore_drape(scene, layer, before)
        if mode in layer.available_color_modes():
            scene.update(layer, color_mode=mode)

    session.undo.push(Command(f"Drape {Path(ortho).name} on “{layer.name}”",
                              lambda: drape(scene, layer, ortho, prepared), undo))


def undrape_layer(session: Any, layer: Any) -> bool:
    """Take the draped orthophoto off ``layer`` (:func:`undrape`) as one undoable edit of
    ``session`` (undo drapes it again, not read again, in its colour mode). False, and
    no edit, when none is draped. The window's Remove orthophoto and ``site.undrape``."""
    from heritage.undo import Command

    state = drape_state(layer)
    if state is None:
        return False
    mode, scene = layer.color_mode, session.scene

    def undo() -> None:
        restore_drape(scene, layer, state)
        if mode in layer.available_color_modes():
            scene.update(layer, color_mode=mode)

    session.undo.push(Command(f"Remove orthophoto from “{layer.name}”",
                              lambda: undrape(scene, layer), undo))
    return True


def undrape(scene: Any, layer: Any) -> bool:
    """Take a draped orthophoto off ``layer`` (a mesh gets its own materials back, a
    tile layer's tiles are read again as they are, a terrain's in its elevation or
    hillshade colours). False when none was draped."""
    from loaders.tiles.drape import undrape_mesh

    data = layer.data
    if isinstance(data, Mesh):
        done = undrape_mesh(data)
    elif data.metadata.get("ortho") and callable(getattr(data, "drape", None)):
        data.drape(None)  # (a terrain: its elevation / hillshade colours again)
        done = True
    else:
        return False
    if done:
        colour = getattr(data, "colour", None)  # a terrain's colours before the drape
        scene.update(layer, data=data)
        if colour in layer.available_color_modes() and layer.color_mode == "material":
            scene.update(layer, color_mode=colour)
        if layer.color_mode not in layer.available_color_modes():  # no materials now
            from .scene import default_color_mode

            scene.update(layer, color_mode=default_color_mode(data))
    return done


def apply_record(scene: Any, layer: Any, record: Any, session: Any = None) -> None:
    """Give ``layer`` a project record's display settings (colour mode, point size,
    opacity, visibility, up axis, transform, name...), a terrain its draped orthophoto
    (a file that cannot be draped is a warning of the layer's) and, with a session, its
    saved place in the layer order."""
    from .session import ProjectSession

    ortho = record.display.get("drape")  # a terrain, mesh or tile layer's orthophoto
    if isinstance(ortho, str) and ortho and session is not None:
        path = session.project.location(ortho)
        try:
            drape(scene, layer, path)
        except (LoadError, ValueError) as exc:
            layer.data.warnings.append(f"orthophoto not draped: {getattr(exc, 'message', exc)}")
    scene.update(layer, **ProjectSession.apply_record(layer, record))
    if session is not None:
        session.place_layer(layer, record)


def read_record_attributes(data: Any, record: Any, progress: ProgressFn | None = None) -> None:
    """A layer reopened from a project coloured by an attribute that stayed in its file
    (:class:`loaders.ingest.DeferredAttributes`): read it now, in the loading thread, not
    on the first frame."""
    attrs = getattr(data, "attributes", None)
    display = getattr(record, "display", None) or {}
    name = display.get("attribute") if display.get("color_mode", "attribute") == "attribute" \
        else None
    if name and hasattr(attrs, "is_deferred") and attrs.is_deferred(name):
        attrs.load(progress)


def add_to_scene(scene: Any, loaded: Loaded, record: Any = None, session: Any = None) -> Any:
    """The last pipeline step: ``loaded`` as a layer of ``scene`` (with ``record``'s
    display settings when it comes from a project). Returns the layer."""
    if is_tiles(loaded.data):
        to_scene_crs_tiles(scene, loaded.data)
    elif not loaded.streamed:
        to_scene_crs(scene, loaded.data)
    layer = scene.add(loaded.data, path=loaded.path, lod=loaded.lod)
    if record is not None:
        apply_record(scene, layer, record, session)
    return layer


@dataclass
class CrsFit:
    """A file that does not fit the scene it is opened into (:func:`crs_fit`)."""

    #: "other_crs" (transformed into the scene's CRS), "no_crs" (no CRS nor units, into a
    #: georeferenced scene) or "georeferenced" (a georeferenced file into a local scene)
    kind: str
    #: one line: the file, its CRS and the scene's
    message: str
    #: the file's CRS and the scene's, as labels ("" for none)
    file_crs: str = ""
    scene_crs: str = ""


def _with_data(scene: Any) -> list:
    """The scene's layers that hold points or vertices (an empty file places nothing)."""
    return [l for l in scene.layers if is_tiles(l.data)
            or getattr(l.data, "point_count", getattr(l.data, "vertex_count", 0))]


def _near_scene(scene: Any, data: Any) -> bool:
    """True when ``data``'s bounds overlap the scene's layers' or lie beside them (within
    the larger extent): their coordinates already agree."""
    import numpy as np

    try:
        lo, hi = scene.bounds(_with_data(scene))
        dlo, dhi = (np.asarray(b, dtype=np.float64) for b in data.bounds)
    except Exception:  # noqa: BLE001 - no bounds to compare: ask
        return False
    if not (np.isfinite(dlo).all() and np.isfinite(dhi).all()):
        return False
    size = max(float(np.max(hi - lo)), float(np.max(dhi - dlo)), 1.0)
    gap = np.maximum(np.maximum(lo - dhi, dlo - hi), 0.0)
    return float(np.max(gap)) <= size


def crs_fit(scene: Any, data: Any, name: str = "the file") -> CrsFit | None:
    """Whether ``data``, just read (and transformed by :func:`load`), fits the non-empty
    ``scene``: None when it does, else what differs. It does not fit when its CRS is
    another one (or it has none while the scene has one, or the other way round) *and* it
    does not lie with the scene's data: a heritage mesh in its own units beside a city,
    a scan from another continent. A file in another CRS that lands on the scene once
    transformed, or a survey delivered without a CRS record in the scene's coordinates,
    fits (an empty scene takes any file). The window asks what to do (add anyway, open
    in a new project, cancel), the command line warns."""
    from loaders import georef
    from loaders.crs import as_crs, crs_label

    def label(crs: Any) -> str:
        try:
            return crs_label(as_crs(crs))
        except ValueError:
            return "an unknown CRS"

    if not _with_data(scene) or _near_scene(scene, data):
        return None
    scene_crs = scene.crs
    source = data.metadata.get("reprojected_from")
    if data.crs is None:
        if scene_crs is None:
            return None
        return CrsFit("no_crs", f"{name} has no coordinate system and no units; the scene "
                                f"is in {label(scene_crs)}", "", label(scene_crs))
    if scene_crs is None:
        return CrsFit("georeferenced", f"{name} is in {label(source or data.crs)}; the "
                                       "scene has local coordinates (no CRS)",
                      label(source or data.crs), "")
    if source or georef.needs_reprojection(data.crs, scene_crs):
        return CrsFit("other_crs", f"{name} is in {label(source or data.crs)}, the scene "
                                   f"in {label(scene_crs)}", label(source or data.crs),
                      label(scene_crs))
    return None


def place_in_scene(scene: Any, layer: Any) -> bool:
    """A layer that does not share the scene's coordinates (a file without CRS in a
    georeferenced scene, or the other way round) placed at the scene's centre: when its
    bounds are far from the other layers' (it would be drawn out of sight), a translation
    puts its footprint's centre on theirs, its base at their lowest point. Returns True
    when it was moved (``layer.transform``, saved in the project)."""
    import numpy as np

    others = [l for l in scene.layers if l is not layer]
    if not others:
        return False
    from .scene import layer_bounds

    lo, hi = scene.bounds(others)
    llo, lhi = layer_bounds(layer)
    size = max(float(np.max(hi - lo)), float(np.max(lhi - llo)), 1.0)
    gap = np.maximum(np.maximum(lo - lhi, llo - hi), 0.0)
    if float(np.max(gap)) <= size:  # overlaps or sits beside them already
        return False
    target = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    current = np.array([(llo[0] + lhi[0]) / 2, (llo[1] + lhi[1]) / 2, llo[2]])
    transform = np.array(layer.transform, dtype=np.float64)
    transform[:3, 3] += target - current
    scene.update(layer, transform=transform)
    return True


def open_files(paths: list[str], scene: Any = None, *, allow_redirects: bool = False,
               on_warning: Callable[[str], None] | None = None,
               assign_crs: dict[str, Any] | None = None) -> Any:
    """A scene with ``paths`` as layers, in order: the first georeferenced one sets the
    scene CRS, the others are transformed into it. ``assign_crs`` maps a path (as given)
    to the CRS its file is taken to be in instead of its own (see :func:`load`). Each data
    warning is passed to ``on_warning`` as ``"PATH: warning"``. Raises LoadError (sources
    already opened are closed)."""
    from .scene import Scene

    scene = scene if scene is not None else Scene()
    opened: list[Loaded] = []
    try:
        for path in paths:
            loaded = load(str(path), lambda: scene.crs, allow_redirects=allow_redirects,
                          assign_crs=(assign_crs or {}).get(path))
            opened.append(loaded)
            _warn_data(loaded, on_warning)
            fit = crs_fit(scene, loaded.data, str(path))
            if fit is not None and on_warning is not None:
                on_warning(f"{fit.message}: added as it is"
                           + (", transformed into the scene's CRS" if fit.kind == "other_crs"
                              else ", its coordinates taken as the scene's"))
            add_to_scene(scene, loaded)
    except BaseException:
        for loaded in opened:
            loaded.close()
        raise
    return scene


def _warn_data(loaded: Loaded, on_warning: Callable[[str], None] | None) -> None:
    if on_warning is None:
        return
    for warning in list(loaded.data.metadata.get("warnings", [])):
        on_warning(f"{loaded.path}: {warning}")


def close_scene(scene: Any) -> None:
    """Release the streamed sources of the scene's layers."""
    for layer in scene.layers:
        if is_tiles(layer.data):
            try:
                layer.data.close()
            except Exception:  # noqa: BLE001 - closing must not fail the caller
                pass
        lod = getattr(layer, "lod", None)
        if lod is not None and hasattr(lod, "close"):
            try:
                lod.close()
            except Exception:  # noqa: BLE001 - closing must not fail the caller
                pass


def is_project(path: str | Path) -> bool:
    """True for a RealScene project file (``*.realscene.json``, or a JSON file that says
    it is one in its first kilobytes)."""
    p = Path(str(path))
    name = p.name.lower()
    if name.endswith(".realscene.json"):
        return True
    if not name.endswith(".json") or not p.is_file():
        return False
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"realscene-project"' in head


def open_project(project: Any, *, on_warning: Callable[[str], None] | None = None,
                 allow_redirects: bool = False) -> Any:
    """Open a project with its display state, without a window: a
    :class:`viewer.session.ProjectSession` whose scene has the project's CRS, its layers
    (in the saved order, with their display settings), its saved views, annotations and
    measurements. ``project``: a path or a loaded :class:`heritage.project.Project`.
    Layers whose files are missing or cannot be read are reported to ``on_warning`` and
    left out (they stay in the project document). Raises
    :class:`heritage.project.ProjectError` for an unreadable project."""
    from heritage.project import Project

    from .scene import Scene
    from .session import ProjectSession

    def warn(message: str) -> None:
        if on_warning is not None:
            on_warning(message)

    if not isinstance(project, Project):
        path = project
        project = Project.load(path)
        for warning in project.warnings:
            warn(f"{path}: {warning}")
    where = project.path or "project"
    scene = Scene()
    session = ProjectSession(scene, project)
    try:
        crs = parse_crs_text(project.crs)
    except ValueError as exc:
        warn(f"{where}: project CRS not understood: {exc}")
        crs = None
    if crs is not None:
        scene.set_crs(crs)
    session.load_views()
    missing = project.missing_layers()
    try:
        for record in project.layers:
            layer_path = str(project.location(record.path))  # a URL stays a URL
            if record in missing:
                warn(f"{layer_path}: layer file not found; left out")
                continue
            try:
                loaded = load(layer_path, lambda: scene.crs, allow_redirects=allow_redirects,
                              assign_crs=record.crs)
            except LoadError as exc:
                warn(f"{exc.message}; left out")
                continue
            except ValueError as exc:  # an assigned CRS pyproj does not take
                warn(f"{layer_path}: assigned CRS not understood ({exc}); left out")
                continue
            _warn_data(loaded, on_warning)
            read_record_attributes(loaded.data, record)
            add_to_scene(scene, loaded, record, session)
    except BaseException:
        close_scene(scene)
        raise
    return session
