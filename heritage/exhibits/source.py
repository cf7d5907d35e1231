"""What an exhibit is made from: plain data, the same for every export format.

An :class:`ExhibitSource` is built by the caller (the window and the command line through
``viewer/exhibit.py``; a script or a test through :func:`source_from_files` /
:func:`source_from_project`) and handed to :func:`heritage.exhibits.export`. Every export
module reads only this: no session, no widget, no VTK.

Coordinates
-----------
Everything is in the *scene CRS* (:attr:`ExhibitSource.crs`): each layer's ``data`` holds
float32 positions relative to its own float64 origin (``data.xyz()`` gives true
coordinates), annotation points are true coordinates. :attr:`ExhibitSource.origin` is one
float64 point near the data that exports use as their local frame (a GLB stores float32
positions relative to it and records it).

Progress and cancel
-------------------
Exports take ``progress(fraction, message)`` (:data:`ProgressFn`); it may raise
:class:`ExportCancelled` to stop the export, which then leaves no half-written output
behind under the requested name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from heritage.model import Annotation, Tour, View

#: ``progress(fraction_done, message)``; may raise :class:`ExportCancelled`
ProgressFn = Callable[[float, str], None]

#: layer kinds an exhibit knows
LAYER_KINDS = ("points", "mesh", "city", "bim")


class ExportCancelled(Exception):
    """Raised from a progress callback to stop an export the user cancelled."""


class ExportError(Exception):
    """An export could not be made: one line naming what is wrong and what to do."""

    def __init__(self, reason: str, hint: str = "") -> None:
        self.reason = reason
        self.hint = hint
        super().__init__(f"{reason} ({hint})" if hint else reason)


@dataclass
class ExportResult:
    """What an export wrote.

    path : the file or folder written
    counts : e.g. ``{"points": 100000, "triangles": 50000, "hotspots": 4}``
    warnings : what the curator should know (a layer skipped, a texture dropped...)
    """

    path: Path
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def layer_kind(data: Any) -> str:
    """"points", "mesh", "city" (CityJSON) or "bim" (IFC) for a loaders dataset."""
    if getattr(data, "kind", "") == "pointcloud":
        return "points"
    fmt = str(getattr(data, "model_format", "") or "").lower()
    if hasattr(data, "features"):
        return "bim" if fmt == "ifc" else "city"
    return "mesh"


@dataclass
class ExhibitLayer:
    """One layer to export.

    name : the layer's name as the curator sees it
    data : a loaders ``PointCloud`` / ``Mesh`` / ``FeatureMesh`` in the scene CRS
    kind : "points", "mesh", "city" or "bim" (from the data when not given)
    color : RGB 0..1 used where the data has no colour of its own, or None
    opacity : 0..1
    point_size : screen size of points in pixels (a hint; glTF has none)
    """

    name: str
    data: Any
    kind: str = ""
    color: tuple[float, float, float] | None = None
    opacity: float = 1.0
    point_size: float = 2.0

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind = layer_kind(self.data)
        if self.kind not in LAYER_KINDS:
            raise ValueError(f"unknown layer kind {self.kind!r} (one of {LAYER_KINDS})")


@dataclass
class ExhibitSource:
    """Everything an export is made from (see the module docstring for coordinates)."""

    title: str = ""
    crs: Any = None  # pyproj CRS or None
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    layers: list[ExhibitLayer] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    tours: list[Tour] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    project_dir: Path | None = None  # for annotation media (heritage.media)
    vocabulary: Any = None  # heritage.model.Vocabulary for category/condition labels

    def __post_init__(self) -> None:
        self.origin = np.asarray(self.origin, dtype=np.float64).reshape(3)

    def bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(min, max) true coordinates of all layers and annotations, or None if empty."""
        los, his = [], []
        for layer in self.layers:
            n = getattr(layer.data, "point_count", None)
            if n is None:
                n = layer.data.vertex_count
            if n:
                lo, hi = layer.data.bounds
                los.append(lo)
                his.append(hi)
        for ann in self.annotations:
            p = np.asarray(ann.points, dtype=np.float64)
            los.append(p.min(axis=0))
            his.append(p.max(axis=0))
        if not los:
            return None
        return np.min(los, axis=0), np.max(his, axis=0)

    def centre_origin(self) -> np.ndarray:
        """Set :attr:`origin` to the rounded centre of :meth:`bounds` and return it."""
        b = self.bounds()
        self.origin = np.rint((b[0] + b[1]) / 2.0) if b is not None else np.zeros(3)
        return self.origin

    def annotation(self, ann_id: str) -> Annotation:
        for a in self.annotations:
            if a.id == ann_id:
                return a
        raise KeyError(ann_id)

    def view(self, view_id: str) -> View:
        for v in self.views:
            if v.id == view_id:
                return v
        raise KeyError(view_id)



def checkpoint(progress: ProgressFn | None, fraction: float, message: str) -> None:
    """Report progress (which may raise :class:`ExportCancelled`)."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


def scaled(progress: ProgressFn | None, start: float, stop: float) -> ProgressFn | None:
    """A progress callback mapping 0..1 onto ``start..stop`` of ``progress``."""
    if progress is None:
        return None
    return lambda f, m: progress(start + (stop - start) * min(max(f, 0.0), 1.0), m)


# -- building a source without the viewer (scripts, tests) --------------------------------
def source_from_files(paths: Iterable[str | Path], *, crs: Any = None, title: str = "",
                      annotations: Iterable[Annotation] = (), tours: Iterable[Tour] = (),
                      views: Iterable[View] = (), project_dir: str | Path | None = None,
                      names: Iterable[str] | None = None,
                      progress: ProgressFn | None = None) -> ExhibitSource:
    """Read ``paths`` with :func:`loaders.read`, bring them into one CRS like the window does
    (``crs`` when given, else the first georeferenced layer's, see
    :func:`loaders.georef.prepare_for_scene`) and make a source of them. The origin is the
    centre of everything. Raises ``loaders.LoadError`` for a file that cannot be read."""
    import loaders
    from loaders.georef import prepare_for_scene

    paths = [Path(p) for p in paths]
    names = list(names) if names is not None else [p.name for p in paths]
    scene_crs = crs
    layers = []
    for i, (path, name) in enumerate(zip(paths, names, strict=True)):
        checkpoint(progress, i / max(len(paths), 1), f"reading {path.name}")
        data = loaders.read(path)
        got = prepare_for_scene(data, scene_crs)
        if scene_crs is None and got is not None:
            scene_crs = got
        layers.append(ExhibitLayer(name=name, data=data))
    if scene_crs is not None:
        from loaders.crs import as_crs

        scene_crs = as_crs(scene_crs)
    source = ExhibitSource(title=title, crs=scene_crs, layers=layers,
                           annotations=list(annotations), tours=list(tours),
                           views=list(views),
                           project_dir=Path(project_dir) if project_dir else None)
    source.centre_origin()
    checkpoint(progress, 1.0, "read")
    return source


def source_from_project(project_path: str | Path, *, include_hidden: bool = False,
                        progress: ProgressFn | None = None) -> ExhibitSource:
    """A source from a saved project file without the viewer: its visible layers (all with
    ``include_hidden``) in the project CRS, its annotations (visible ones), tours and views.
    Layer transforms stored in the project are applied (``loaders.georef.apply_matrix``)."""
    from heritage.project import Project

    project = Project.load(project_path)
    records = [r for r in project.layers
               if include_hidden or r.display.get("visible", True)]
    source = source_from_files([project.absolute(r.path) for r in records], crs=project.crs,
                               title=project.title,
                               annotations=[a for a in project.annotations if a.visible],
                               tours=project.tours, views=project.views,
                               project_dir=project.folder,
                               names=[r.name or Path(r.path).name for r in records],
                               progress=progress)
    source.vocabulary = project.vocabulary
    for rec, layer in zip(records, source.layers, strict=True):
        disp = rec.display
        if "opacity" in disp:
            layer.opacity = float(disp["opacity"])
        if "point_size" in disp:
            layer.point_size = float(disp["point_size"])
        if disp.get("color") is not None and len(disp["color"]) >= 3:
            c = [float(v) for v in disp["color"][:3]]
            layer.color = tuple(v / 255.0 if max(c) > 1.0 else v for v in c)
        if rec.transform is not None:
            _apply_transform(layer.data, rec.transform)
    source.centre_origin()
    return source


def _apply_transform(data: Any, matrix: Any) -> None:
    from loaders.georef import apply_matrix
    from loaders.types import split_origin

    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (4, 4) or np.allclose(m, np.eye(4)):
        return
    xyz = apply_matrix(m, data.xyz())
    local, origin = split_origin(xyz)
    if hasattr(data, "vertices"):
        data.vertices = local
        data.normals = None  # recomputed by whoever needs them
    else:
        data.positions = local
    data.origin = origin
