"""RealScene from Python scripts: open a project or files, change how layers are drawn,
annotate, render PNGs, export annotations, save. No Qt, no window.

    from viewer.api import open_project

    site = open_project("assets/sample_site/delft.realscene.json")
    site.layer("delft_ahn3.laz").color_by = "elevation"
    site.add_annotation("point", [[85010.0, 446370.0, 12.0]], title="Loose tile")
    site.render("top.png", size=(1280, 800), view="top")
    site.export_annotations("geojson", "annotations.geojson")
    site.save("survey.realscene.json")

A :class:`Site` composes the core: the scene model (:mod:`viewer.scene`), the project
session with its undo history (:mod:`viewer.session`), the heritage record and exports
(:mod:`heritage`), the tour camera path (:mod:`viewer.tours`), the scene pipeline
(:mod:`viewer.pipeline`: layers read, reprojected into the scene CRS and given the
project's display settings as in the window) and the off-screen renderer
(:class:`viewer.offscreen.OffscreenRenderer`, made on the first render). Edits go
through the session, so ``site.undo()`` undoes them as in the window.

Bad input raises :class:`loaders.LoadError` (a file), :class:`heritage.project.ProjectError`
(a project) or ``ValueError`` (a setting), each with a one-line message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from heritage.model import Annotation
from heritage.project import Project

from .offscreen import PRESETS
from .scene import Decorations, Layer, Scene
from .session import ProjectSession
from .tours import TourPath, find_tour

__all__ = ["Site", "LayerHandle", "open_project", "open_files", "VIEW_PRESETS"]

#: standard views of :meth:`Site.render` (besides the project's saved views by name)
VIEW_PRESETS = PRESETS


def open_project(path: str | Path | Project) -> Site:
    """Open a RealScene project (``.realscene.json``) as saved: its layers with their
    display settings and order, the scene CRS, annotations, measurements, views and
    tours (:func:`viewer.pipeline.open_project`, as the window and ``realscene render``
    open it; ``path`` may also be a loaded :class:`heritage.project.Project`). Layers
    whose file is missing or unreadable are left out and named in :attr:`Site.warnings`."""
    from . import pipeline

    warnings: list[str] = []
    session = pipeline.open_project(path, on_warning=warnings.append)
    site = Site(session)
    site.warnings.extend(warnings)
    return site


def open_files(*paths: str | Path, crs: dict[str | Path, Any] | None = None) -> Site:
    """Open data files (any format RealScene reads) in a new, untitled project; the
    first georeferenced file sets the scene CRS, the others are reprojected into it.
    ``crs`` maps a file (as given) to the CRS its coordinates are in when the file has
    none or a wrong one ("EPSG:4547", PROJ, WKT), as ``realscene render --crs``."""
    flat: list[str] = []
    for p in paths:
        flat.extend([str(p)] if isinstance(p, (str, Path)) else [str(q) for q in p])
    if not flat:
        raise ValueError("open_files needs at least one file")
    from . import pipeline

    assigned = {str(k): v for k, v in (crs or {}).items()}
    unknown = [k for k in assigned if k not in flat]
    if unknown:
        raise ValueError(f"crs names {unknown[0]!r}, which is not one of the files opened")
    from loaders.crs import parse_user_crs

    for value in assigned.values():
        if isinstance(value, str):
            parse_user_crs(value)  # one clear ValueError for an invalid CRS
    warnings: list[str] = []
    scene = pipeline.open_files(flat, on_warning=warnings.append, assign_crs=assigned)
    site = Site(ProjectSession(scene, Project(), untitled_recovery=_script_recovery()))
    site.warnings.extend(warnings)
    return site


def _script_recovery() -> Path:
    """Where a script's untitled work would be autosaved: not the window's recovery
    file (a script never autosaves; this only keeps the two apart)."""
    import tempfile

    return Path(tempfile.gettempdir()) / "realscene-script-recovery.realscene.json"


class LayerHandle:
    """One layer of a :class:`Site`: read its state, change how it is drawn (each
    change is an undoable edit of the session, saved with the project)."""

    def __init__(self, site: Site, layer: Layer) -> None:
        self._site = site
        self._layer = layer

    def __repr__(self) -> str:
        return f"<layer {self.name!r} {self.kind}, colour by {self.color_by}>"

    @property
    def layer(self) -> Layer:
        """The scene model's layer (:class:`viewer.scene.Layer`)."""
        return self._layer

    @property
    def name(self) -> str:
        return self._layer.name

    @property
    def kind(self) -> str:
        return self._layer.kind

    @property
    def path(self) -> str | None:
        return self._layer.path

    @property
    def crs(self) -> Any:
        """The CRS the layer's data is in (pyproj.CRS), or None; set one the file lacks
        (or has wrong) with :meth:`Site.assign_crs`."""
        return self._layer.data.crs

    @property
    def assigned_crs(self) -> str | None:
        """The CRS assigned to the layer instead of its file's own (its text, as saved
        in the project), or None."""
        from .session import ASSIGNED_CRS

        return self._layer.data.metadata.get(ASSIGNED_CRS) or None

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """True-coordinate (float64) minimum and maximum corners."""
        from .scene import layer_bounds

        return layer_bounds(self._layer)

    def export_clip(self, region: Any, out: str | Path, *, outside: bool = False,
                    progress: Any = None, cancel: Any = None) -> Any:
        """Write this point layer's file clipped to ``region`` (a
        :mod:`heritage.monitoring.clip` Box / Polygon / Slab, or a polygon or box
        :class:`Annotation`, in the file's own coordinates) at full resolution to ``out``
        (.las / .laz / .copc.laz); returns the :class:`~heritage.monitoring.clip.ClipResult`."""
        from heritage.monitoring.clip import Region, clip_file, region_from_annotation

        if self.kind != "pointcloud" or not self.path:
            raise ValueError(f"layer {self.name!r} is not a point cloud read from a file")
        if not isinstance(region, Region):
            region = region_from_annotation(region)
        return clip_file(self.path, region, out, outside=outside, progress=progress,
                         cancel=cancel)

    def export_change(self, out: str | Path, progress: Any = None) -> Path:
        """Write this layer's file (LAS/LAZ) with the change of :meth:`Site.compare` as
        extra dimensions (``c2c_distance``; ``m3c2_distance``, ``m3c2_lod``,
        ``m3c2_significant``), every dimension, VLR and the CRS kept."""
        from .change_layer import export_with_change

        return export_with_change(self._layer, out, progress=progress)

    @property
    def change(self) -> Any:
        """The last comparison attached to this layer
        (:class:`viewer.change_layer.LayerChange`: fields, stats, params), or None."""
        return getattr(self._layer.data, "metadata", {}).get("change")

    @property
    def significant_only(self) -> bool:
        """Change layers: draw change below the level of detection grey (M3C2)."""
        return self._layer.significant_only

    @significant_only.setter
    def significant_only(self, value: bool) -> None:
        self._set(significant_only=bool(value))

    @property
    def color_modes(self) -> list[str]:
        return self._layer.available_color_modes()

    @property
    def attributes(self) -> list[str]:
        """Attributes that can colour the layer (``color_by = NAME``)."""
        return self._layer.scalar_attributes()

    @property
    def color_by(self) -> str:
        """``rgb``, ``intensity``, ``classification``, ``elevation``, ``solid``, ...; for
        an attribute its name. Set it to any of :attr:`color_modes` or :attr:`attributes`
        (``"attribute:NAME"`` also works)."""
        if self._layer.color_mode == "attribute":
            return str(self._layer.attribute)
        return self._layer.color_mode

    @color_by.setter
    def color_by(self, value: str) -> None:
        from . import colors

        mode, attribute = str(value), None
        if mode.startswith("attribute:"):
            mode, attribute = "attribute", mode.split(":", 1)[1]
        elif mode not in self._layer.available_color_modes() and \
                mode in self._layer.scalar_attributes():
            mode, attribute = "attribute", mode
        try:
            colors.check_color_mode(self._layer, mode, attribute)
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from None
        changes: dict[str, Any] = {"color_mode": mode}
        if attribute is not None:
            changes["attribute"] = attribute
        self._site.session.update_layer(self._layer, **changes)

    def _set(self, **changes: Any) -> None:
        self._site.session.update_layer(self._layer, **changes)

    @property
    def visible(self) -> bool:
        return self._layer.visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._set(visible=bool(value))

    @property
    def opacity(self) -> float:
        return self._layer.opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{self.name}: opacity must be 0..1, got {value}")
        self._set(opacity=value)

    @property
    def point_size(self) -> float:
        return self._layer.point_size

    @point_size.setter
    def point_size(self, value: float) -> None:
        value = float(value)
        if not 0.0 < value <= 100.0:
            raise ValueError(f"{self.name}: point size must be in (0, 100], got {value}")
        self._set(point_size=value)

    @property
    def point_size_mode(self) -> str:
        """"adaptive" (by level-of-detail spacing and distance, ``point_size`` the
        smallest; viewer.pointsize) or "fixed" (``point_size`` pixels)."""
        return self._layer.point_size_mode

    @point_size_mode.setter
    def point_size_mode(self, value: str) -> None:
        self._set(point_size_mode=str(value))

    @property
    def point_shape(self) -> str:
        """"square" or "round" splats."""
        return self._layer.point_shape

    @point_shape.setter
    def point_shape(self, value: str) -> None:
        self._set(point_shape=str(value))

    @property
    def colormap(self) -> str:
        return self._layer.colormap

    @colormap.setter
    def colormap(self, value: str) -> None:
        self._set(colormap=str(value))


class Site:
    """An open project: its scene, session (undo history) and off-screen renderer.

    ``layers``, ``layer(name)``, ``annotations``, ``measurements``, ``views``, ``tours``,
    ``crs``, ``warnings``; ``add_file``, ``assign_crs``, ``add_annotation``, ``render``,
    ``render_tour``, ``export_annotations``, ``export_exhibit``, ``save``,
    ``set_clip``/``clear_clip``/``export_clip``, ``undo``/``redo``, ``close``. Use it
    in a ``with`` block (or call :meth:`close`) to free the renderer.
    """

    def __init__(self, session: ProjectSession) -> None:
        self.session = session
        self.scene: Scene = session.scene
        #: what opening noticed without failing (layers left out or outside the folder,
        #: reprojections, readers' notes)
        self.warnings: list[str] = []
        #: what renders draw over the data (viewer.scene.Decorations; none by default):
        #: ``site.decorations.scale_bar = True``, ``.north_arrow``, ``.axes``, ``.title``,
        #: ``.attribution`` (the CRS line; ``site.attribution``: the data's credit)
        self.decorations = Decorations(axes=False, scale_bar=False, north_arrow=False)
        self.attribution: str | None = None
        self._renderer: Any = None

    def add_file(self, path: str | Path, crs: Any = None) -> LayerHandle:
        """Read another file into the scene (reprojected into the scene CRS); ``crs``
        (e.g. "EPSG:4547", a PROJ string or WKT): the CRS the file's coordinates are in,
        when the file has none or a wrong one."""
        from . import pipeline

        if isinstance(crs, str):
            from loaders.crs import parse_user_crs

            parse_user_crs(crs)  # one clear ValueError for an invalid CRS
        loaded = pipeline.load(str(path), self.scene.crs, assign_crs=crs)
        for warning in loaded.data.metadata.get("warnings", []):
            self.warnings.append(f"{path}: {warning}")
        return LayerHandle(self, pipeline.add_to_scene(self.scene, loaded))

    # -- state -----------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.session.project

    @property
    def layers(self) -> list[LayerHandle]:
        return [LayerHandle(self, layer) for layer in self.scene.layers]

    def layer(self, name: str) -> LayerHandle:
        """The layer called ``name`` (its layer-tree name, usually the file name)."""
        try:
            return LayerHandle(self, self.scene.layer_by_name(name))
        except KeyError:
            names = ", ".join(repr(l.name) for l in self.scene.layers) or "none"
            raise KeyError(f"no layer named {name!r} (layers: {names})") from None

    @property
    def crs(self) -> Any:
        """The scene CRS (pyproj.CRS), or None."""
        return self.scene.crs

    @property
    def annotations(self) -> list[Annotation]:
        return list(self.project.annotations)

    @property
    def measurements(self) -> list[Any]:
        return list(self.project.measurements)

    @property
    def views(self) -> list[str]:
        """Names of the saved views (``render(..., view=NAME)``)."""
        return [v.name for v in self.project.views]

    @property
    def tours(self) -> list[str]:
        return [t.name for t in self.project.tours]

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        """True-coordinate bounds of the visible layers."""
        return self.scene.bounds()

    # -- edits ---------------------------------------------------------------------------
    def add_annotation(self, kind: str | Annotation, points: Sequence[Sequence[float]] = (),
                       **fields: Any) -> Annotation:
        """Add an annotation (undoable): ``kind`` is point, polyline, polygon or box;
        ``points`` true coordinates in the scene CRS; ``fields`` any of title,
        description, category, condition, observed, author, tags, media, view."""
        annotation = kind if isinstance(kind, Annotation) else \
            Annotation(kind, [list(p) for p in points], **fields)
        return self.session.add_annotation(annotation)

    def scene_layer(self, layer: str | LayerHandle | Layer) -> Layer:
        """The scene layer ``layer`` names (a name, a handle or the layer itself);
        KeyError for an unknown name, ValueError for a layer of another site."""
        if isinstance(layer, str):
            layer = self.layer(layer)
        target = layer.layer if isinstance(layer, LayerHandle) else layer
        if target not in self.scene.layers:
            raise ValueError(f"layer {target.name!r} is not in this site")
        return target

    def assign_crs(self, layer: str | LayerHandle | Layer, crs: Any) -> LayerHandle:
        """Take ``layer`` (a name, or a layer) to be in ``crs`` ("EPSG:4547", a PROJ
        string or WKT of a local city system, or a pyproj.CRS) when its file has no CRS
        or a wrong one: the file is read again with it and transformed into the scene
        CRS (the scene takes the CRS when it has none), as the window's Assign CRS…
        does: one undoable edit, saved in the project. ValueError for an invalid CRS,
        :class:`loaders.LoadError` when the file cannot be read again."""
        from . import pipeline

        target = self.scene_layer(layer)
        pipeline.assign_crs(self.session, target, crs)
        return LayerHandle(self, target)

    def drape(self, layer: str | LayerHandle | Layer, ortho: str | Path) -> LayerHandle:
        """Drape the orthophoto GeoTIFF ``ortho`` on ``layer`` (by name or handle: a DEM,
        a mesh or city model — projected top-down — or an OSGB / 3D Tiles layer), as the
        window's Drape orthophoto… and ``render --drape`` do: one undoable edit
        (:meth:`undo`), saved with the project. ValueError when the layer takes no
        orthophoto (a point cloud), :class:`loaders.LoadError` when the orthophoto
        cannot be draped (or does not overlap the layer)."""
        from . import pipeline

        target = self.scene_layer(layer)
        pipeline.drape_layer(self.session, target, ortho)
        return LayerHandle(self, target)

    def undrape(self, layer: str | LayerHandle | Layer) -> bool:
        """Take the orthophoto draped on ``layer`` off (a mesh gets its own materials
        back, a terrain its elevation or hillshade colours), as the window's Remove
        orthophoto: one undoable edit. False when none is draped."""
        from . import pipeline

        return pipeline.undrape_layer(self.session, self.scene_layer(layer))

    def compare(self, a: str | LayerHandle | Layer, b: str | LayerHandle | Layer,
                method: str = "c2c", *, significant_only: bool = False,
                progress: Any = None, cancel: Any = None, **params: Any) -> LayerHandle:
        """Change from epoch ``a`` to epoch ``b`` (point layers, by name or handle) by
        ``method`` "c2c" (``local_model``, ``k``, ``signed``) or "m3c2"
        (``normal_radii``, ``cyl_radius``, ``max_distance``, ``registration_error``,
        ``core_spacing``, ``robust``, ``min_points``), on every point of each layer, as
        the window's Tools > Compare epochs…: the distances become attributes of ``b``,
        coloured with a diverging map centred on zero; returns ``b``'s handle (its
        :attr:`LayerHandle.change` holds the statistics)."""
        from .change_layer import attach_change, compare_layers

        layers = [self.scene_layer(a), self.scene_layer(b)]
        change = compare_layers(layers[0], layers[1], method, progress=progress,
                                cancel=cancel, **params)
        attach_change(self.session, layers[1], change, significant_only=significant_only)
        return LayerHandle(self, layers[1])

    # -- clip ----------------------------------------------------------------------------
    @property
    def clip(self) -> Any:
        """The scene's clip (:class:`viewer.scene.Clip`: region, inside, enabled) or None."""
        return self.scene.clip

    def set_clip(self, region: Any, *, inside: bool = True, enabled: bool = True,
                 outline: bool = True) -> Any:
        """Clip every layer of renders to ``region``: a :mod:`heritage.monitoring.clip`
        Box / Polygon / Slab in the scene's coordinates, a polygon or box
        :class:`Annotation`, or an annotation's id; ``inside=False`` keeps the rest;
        ``outline``: draw the region's orange wireframe. Returns the scene's Clip."""
        from heritage.monitoring.clip import Region, region_from_annotation

        if isinstance(region, str):
            region = self.session.project.annotation(region)
        if not isinstance(region, Region):
            region = region_from_annotation(region)
        return self.scene.set_clip(region, inside=inside, enabled=enabled, outline=outline)

    def clear_clip(self) -> None:
        """Draw every layer whole again."""
        self.scene.set_clip(None)

    def export_clip(self, layer: str | LayerHandle | Layer, out: str | Path, *,
                    region: Any = None, inside: bool | None = None, progress: Any = None,
                    cancel: Any = None) -> Any:
        """Write ``layer``'s LAS/LAZ/COPC file clipped at full resolution to ``out``: by
        ``region`` (scene coordinates, as :meth:`set_clip` takes; default: the scene's
        clip and its side), taken into the file's coordinates (the layer's alignment
        inverted, its CRS if it was reprojected: :func:`viewer.clip_layer.region_in_file`).
        Returns the :class:`~heritage.monitoring.clip.ClipResult`."""
        from heritage.monitoring.clip import Region, region_from_annotation

        from .clip_layer import export_layer_clip

        target = self.layer(layer).layer if isinstance(layer, str) else (
            layer.layer if isinstance(layer, LayerHandle) else layer)
        if region is None:
            if self.scene.clip is None:
                raise ValueError("no region given and the scene has no clip")
            region = self.scene.clip.region
            inside = self.scene.clip.inside if inside is None else inside
        elif isinstance(region, str):
            region = region_from_annotation(self.session.project.annotation(region))
        elif not isinstance(region, Region):
            region = region_from_annotation(region)
        return export_layer_clip(target, region, out, inside=True if inside is None else inside,
                                 scene_crs=self.scene.crs, progress=progress, cancel=cancel)

    def undo(self) -> None:
        self.session.undo.undo()

    def redo(self) -> None:
        self.session.undo.redo()

    # -- output --------------------------------------------------------------------------
    def render(self, path: str | Path, size: tuple[int, int] = (1280, 800),
               view: str | None = None, edl: bool | None = None,
               edl_strength: float | None = None, edl_radius: float | None = None,
               background: tuple[float, float, float] | None = None,
               transparent: bool = False, progress: Any = None) -> Path:
        """Render the scene (visible layers, annotations and measurements) to a PNG.
        ``view``: ``top``, ``front``, ``side``, ``iso``, ``fit`` or a saved view's name
        (default: the project's first saved view, else ``iso``).
        Any size up to 16384 a side (8K: ``(7680, 4320)``; larger than
        :data:`viewer.media_render.MAX_DIRECT` is drawn in tiles); ``transparent``: RGBA,
        alpha 0 where nothing is drawn; ``progress(fraction, message)`` may raise
        :class:`heritage.exhibits.source.ExportCancelled` to stop (nothing written)."""
        from .media_render import StillJob

        path = Path(path)
        if path.suffix.lower() != ".png":
            raise ValueError(f"{path}: the picture is written as PNG (name it .png)")
        w, h = _size(size)
        if view is None:  # a project opens on its first saved view
            opening = self.session.opening_view()
            view = opening.name if opening is not None else "iso"
        if edl is not None or edl_strength is not None or edl_radius is not None:
            # eye-dome lighting (viewer.edl): strength 0-10, radius 1-8 px (ValueError)
            self.scene.set_edl(edl if edl is not None else True, strength=edl_strength,
                               radius=edl_radius)
        if background is not None:
            self.scene.set_background(background)
        offscreen = self._offscreen((w, h))
        return StillJob(offscreen, path, (w, h), view=view, transparent=transparent,
                        progress=progress).run()

    def render_video(self, path: str | Path, *, turntable: float | None = None,
                     tour: str | None = None, size: tuple[int, int] = (1280, 720),
                     fps: float = 30.0, view: str = "iso", progress: Any = None) -> Path:
        """An H.264 MP4 video: a ``turntable`` of that many seconds around the scene
        centre, or the ``tour`` of that name (the window player's camera path) played
        from ``view``. ``size`` even; ``progress(fraction, message)`` may raise
        :class:`heritage.exhibits.source.ExportCancelled` to stop (nothing written)."""
        from . import media_render

        if (turntable is None) == (tour is None):
            raise ValueError("render_video needs either turntable=SECONDS or tour=NAME")
        w, h = _size(size)
        if tour is not None:
            find_tour(self.project, tour)  # UnknownTour before any frame
        if self._renderer is not None and self._renderer.size != (w, h):
            self.close()  # frames at the window's own size: one render each
        offscreen = self._offscreen((w, h))
        if turntable is not None:
            frames = media_render.turntable(offscreen, float(turntable), fps, view)
        else:
            frames = media_render.tour_path(offscreen, self.project, str(tour), fps, view)
        return media_render.VideoJob(offscreen, path, frames, (w, h), fps,
                                     progress=progress).run()

    def render_tour(self, name: str, folder: str | Path, size: tuple[int, int] = (1280, 800),
                    fps: float = 25.0, start_view: str = "iso",
                    progress: Any = None) -> list[Path]:
        """Write the frames of the tour called ``name`` as ``frame_00000.png``, ... in
        ``folder`` (created if missing): one every ``1/fps`` seconds of the tour, the
        same cameras the window's player shows at those times when played from
        ``start_view``. Returns the files written."""
        tour = find_tour(self.project, name)
        w, h = _size(size)
        if not fps > 0 or fps > 240:
            raise ValueError(f"frames per second must be in (0, 240], got {fps}")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self._renderer is not None and self._renderer.size != (w, h):
            self.close()  # frames at the window's own size: one render each
        offscreen = self._offscreen((w, h))
        offscreen.set_view(start_view)
        path = TourPath(self.project, tour, offscreen.renderer.camera_to_scene(emit=False))
        times = path.frame_times(fps)
        digits = max(5, len(str(len(times) - 1)))
        written = []
        for i, t in enumerate(times):
            out = folder / f"frame_{i:0{digits}d}.png"
            offscreen.set_view(path.camera_at(t))
            written.append(Path(offscreen.renderer.screenshot(out)))
            if progress is not None:
                progress(i + 1, len(times))
        return written

    def export_annotations(self, fmt: str, path: str | Path, lang: str = "en") -> Path:
        """Write the annotations as ``webanno`` (W3C Web Annotation JSON-LD), ``geojson``,
        ``csv`` or ``report`` (HTML, or PDF when ``path`` ends in .pdf, with each
        annotation's view rendered; in ``lang``: ``en`` or ``zh``)."""
        from heritage.exchange import export

        self.session.sync_to_project()
        render_view = None
        if fmt == "report" and self.scene.layers:
            render_view = self._offscreen((640, 400)).annotation_png
        return Path(export(self.project, fmt, str(path), render_view=render_view,
                           lang=lang))

    def export_exhibit(self, fmt: str, out: str | Path, *,
                       layers: Sequence[str | LayerHandle | Layer] | None = None,
                       annotations: Any = None, tours: str | Sequence[str] | None = None,
                       progress: Any = None, **options: Any) -> Any:
        """Export the site as an exhibit, as the window's File > Export exhibit… and
        ``realscene export`` do (:func:`viewer.exhibit.export_exhibit`): ``fmt`` is
        ``glb`` (one file with a hotspot node per annotation), ``3dtiles`` (a folder with
        ``tileset.json``), ``voyager`` (a Smithsonian Voyager scene folder), ``web`` (an
        offline web page folder) or ``iiif`` (a IIIF Presentation 3 manifest). ``layers``:
        names or layers (None: the visible ones); ``annotations``: None/"all", "none", ids,
        or a filter such as ``viewer.exhibit.by_category("crack")``; ``tours``: names
        (None: all); ``progress(fraction, message)`` may raise
        :class:`heritage.exhibits.ExportCancelled` to stop (nothing is left behind);
        ``options`` the format's own, e.g. ``triangles=N``, ``points=N``. ``out`` may not
        be the project or one of its files (ValueError), and a folder export needs a new
        or empty folder. Returns the :class:`heritage.exhibits.ExportResult` (path,
        counts, warnings); :class:`heritage.exhibits.ExportError` for a format not
        available or bad options."""
        from .exhibit import export_exhibit

        chosen = None if layers is None else [
            l.layer if isinstance(l, LayerHandle) else l for l in layers]
        return export_exhibit(self.session, fmt, out, progress, layers=chosen,
                              annotations=annotations, tours=tours, **options)

    def save(self, path: str | Path | None = None) -> Path:
        """Save the project (to ``path``, or where it was opened from). Layer paths are
        stored relative to the project file."""
        if path is None and self.project.path is None:
            raise ValueError("this project has no file yet: save(PATH)")
        return self.session.save(path)

    def close(self) -> None:
        """Free the off-screen renderer (the site stays usable; the next render makes
        a new one)."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def release(self) -> None:
        """:meth:`close`, and release streamed sources (COPC files and URLs)."""
        from . import pipeline

        self.close()
        pipeline.close_scene(self.scene)

    def __enter__(self) -> Site:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    # -- rendering -------------------------------------------------------------------------
    def _offscreen(self, size: tuple[int, int]) -> Any:
        """The site's off-screen renderer (:class:`viewer.offscreen.OffscreenRenderer`,
        made on the first render, kept for the next ones; it follows the scene's
        changes)."""
        if not self.scene.layers:
            raise ValueError("nothing to render: no layer could be opened")
        if self._renderer is None:
            from .offscreen import OffscreenRenderer

            self._renderer = OffscreenRenderer(self.scene, size, session=self.session,
                                               decorations=self.decorations)
            self._renderer.__enter__()
        if self._renderer.decorator is not None:
            self._renderer.decorator.extra_attribution = self.attribution
        return self._renderer


def _size(size: Iterable[int]) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height), got {size!r}") from None
    if not (1 <= w <= 16384 and 1 <= h <= 16384):
        raise ValueError(f"size must be 1..16384 pixels each way, got {w}x{h}")
    return w, h
