"""Curator exports from an open scene: the session -> :class:`heritage.exhibits.ExhibitSource`
builder and the export step the window (File > Export exhibit…), the command line
(``realscene export``) and scripts (:meth:`viewer.api.Site.export_exhibit`) share.

No Qt, no VTK. The formats themselves live in :mod:`heritage.exhibits` (one module per
format, working on plain data); this module only says *what* goes into an exhibit:

- :func:`exhibit_source` takes the scene's layers (by default the visible ones) with their
  data as the scene holds it (in the scene CRS, a layer's alignment transform applied), the
  project's annotations (all, none, a list of ids or a filter such as
  :func:`by_category`), tours (all, or some by name) and saved views, and the project
  folder (annotation photos).
- :func:`export_exhibit` writes it: the output path is checked first (never the project
  or one of its input files, never an existing non-empty folder); a folder export is
  written under a hidden temporary name beside it and renamed into place at the end, a
  file export through the format's own temporary names, so a cancelled or failed export
  leaves nothing under the requested name (nor temporary files).
- :func:`estimate_size` gives the rough size of an export under a triangle/point budget
  (shown by the window's dialog before exporting).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from heritage.exhibits import (
    FORMATS,
    ExhibitLayer,
    ExhibitSource,
    ExportCancelled,
    ExportError,
    ExportResult,
    ProgressFn,
)
from heritage.model import Annotation

__all__ = ["FORMATS", "FILE_FORMATS", "exhibit_source", "export_exhibit", "write_exhibit",
           "by_category", "select_annotations", "select_layers", "select_tours",
           "estimate_size", "check_output", "input_files", "format_available",
           "format_options", "ExportCancelled", "ExportError", "ExportResult"]

#: formats written as one file (the others write a folder)
FILE_FORMATS = {"glb": ".glb", "iiif": ".json"}

#: an annotation selection: None (all), "all", "none", ids, or a predicate
AnnotationSpec = None | str | Iterable[str] | Callable[[Annotation], bool]


def format_available(fmt: str) -> bool:
    """True when the export module of ``fmt`` is present in this version."""
    from heritage.exhibits import available_formats

    return fmt in available_formats()


def format_options(fmt: str, options: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``options`` split into those the export of ``fmt`` takes and the names of those it
    does not (a triangle budget means nothing to a IIIF manifest): ``(taken, ignored)``.
    Options that are None are left out."""
    import importlib
    import inspect

    given = {k: v for k, v in options.items() if v is not None}
    try:
        module = importlib.import_module(f"heritage.exhibits.{FORMATS[fmt][0]}")
        params = inspect.signature(module.export).parameters
    except (KeyError, ImportError, TypeError, ValueError):
        return given, []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return given, []
    taken = {k: v for k, v in given.items() if k in params}
    return taken, [k for k in given if k not in taken]


# -- what goes in --------------------------------------------------------------------------


def by_category(*categories: str) -> Callable[[Annotation], bool]:
    """An annotation filter: those of the given category keys (``crack``, ``erosion``...)."""
    wanted = {str(c) for c in categories}
    return lambda annotation: annotation.category in wanted


def select_layers(scene: Any, layers: Sequence[Any] | None = None) -> list[Any]:
    """The scene layers to export: ``layers`` (names or :class:`viewer.scene.Layer`
    objects, in the scene's order) or, when None, the visible ones. ValueError naming an
    unknown layer."""
    if layers is None:
        return [layer for layer in scene.layers if layer.visible]
    chosen = []
    for item in layers:
        if isinstance(item, str):
            try:
                chosen.append(scene.layer_by_name(item))
            except KeyError:
                names = ", ".join(repr(l.name) for l in scene.layers) or "none"
                raise ValueError(f"no layer named {item!r} (layers: {names})") from None
        elif item in scene.layers:
            chosen.append(item)
        else:
            raise ValueError(f"layer {getattr(item, 'name', item)!r} is not in the scene")
    return [layer for layer in scene.layers if any(layer is c for c in chosen)]


def select_annotations(project: Any, annotations: AnnotationSpec = None) -> list[Annotation]:
    """The project's annotations to export: None or "all" every one, "none" (or an empty
    list) none, a list of ids those (in the project's order), a predicate those it accepts.
    ValueError naming an unknown id."""
    every = list(project.annotations)
    if annotations is None or (isinstance(annotations, str) and annotations == "all"):
        return every
    if isinstance(annotations, str) and annotations == "none":
        return []
    if callable(annotations):
        return [a for a in every if annotations(a)]
    ids = [annotations] if isinstance(annotations, str) else list(annotations)
    known = {a.id for a in every}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValueError(f"no annotation with id {unknown[0]!r} in the project")
    wanted = set(ids)
    return [a for a in every if a.id in wanted]


def select_tours(project: Any, tours: str | Iterable[str] | None = None) -> list[Any]:
    """The project's tours by name (None: all). ValueError naming an unknown tour."""
    every = list(project.tours)
    if tours is None:
        return every
    names = [tours] if isinstance(tours, str) else list(tours)
    known = {t.name: t for t in every}
    for name in names:
        if name not in known:
            listed = ", ".join(repr(n) for n in known) or "none"
            raise ValueError(f"no tour named {name!r} (tours: {listed})")
    return [known[n] for n in dict.fromkeys(names)]


def _layer_data(layer: Any) -> Any:
    """The layer's data in the scene CRS as drawn: the data itself, or a copy moved by the
    layer's alignment transform (true coordinates in float64)."""
    data = layer.data
    matrix = np.asarray(layer.transform, dtype=np.float64)
    if matrix.shape != (4, 4) or np.allclose(matrix, np.eye(4)):
        return data
    from loaders.georef import apply_matrix
    from loaders.types import split_origin

    local, origin = split_origin(apply_matrix(matrix, data.xyz()))
    if hasattr(data, "vertices"):
        return dataclasses.replace(data, vertices=local, origin=origin, normals=None)
    return dataclasses.replace(data, positions=local, origin=origin)


def exhibit_source(session: Any, layers: Sequence[Any] | None = None,
                   annotations: AnnotationSpec = None,
                   tours: str | Iterable[str] | None = None) -> ExhibitSource:
    """What an export of ``session`` (a :class:`viewer.session.ProjectSession`) is made
    from: ``layers`` (names or scene layers; None: the visible ones) with their data as the
    scene holds it (scene CRS; an alignment transform applied) and display hints, the
    project's ``annotations`` (None/"all", "none", ids, or a filter such as
    :func:`by_category`; copies, so later edits do not reach an export running in the
    background), ``tours`` (names; None: all; stops on annotations left out are dropped),
    saved views, the title, CRS and folder. Raises ValueError for an unknown layer,
    annotation id or tour, or when no layer is chosen."""
    scene, project = session.scene, session.project
    chosen = select_layers(scene, layers)
    if not chosen:
        raise ValueError("no layer to export: show a layer or name one")
    kept = [copy.deepcopy(a) for a in select_annotations(project, annotations)]
    kept_ids = {a.id for a in kept}
    tour_list = []
    for tour in select_tours(project, tours):
        tour = copy.deepcopy(tour)
        tour.stops = [s for s in tour.stops
                      if s.annotation_id is None or s.annotation_id in kept_ids]
        tour_list.append(tour)
    exhibit_layers = []
    for layer in chosen:
        solid = layer.solid_color if layer.color_mode == "solid" else None
        exhibit_layers.append(ExhibitLayer(
            name=layer.name, data=_layer_data(layer),
            color=tuple(float(c) for c in solid) if solid is not None else None,
            opacity=float(layer.opacity), point_size=float(layer.point_size)))
    title = project.title or (project.path.name.split(".")[0] if project.path else "")
    source = ExhibitSource(
        title=title, crs=scene.crs, layers=exhibit_layers, annotations=kept,
        tours=tour_list, views=copy.deepcopy(list(project.views)),
        project_dir=project.folder if project.path is not None else None,
        vocabulary=copy.deepcopy(project.vocabulary))
    source.centre_origin()
    return source


# -- size estimate ---------------------------------------------------------------------------

#: bytes per exported point (float32 xyz + RGBA8) and per triangle (about half a vertex of
#: position + normal + uv each, and three uint32 indices), before container overhead
BYTES_PER_POINT = 16
BYTES_PER_TRIANGLE = 28


def _triangles(data: Any) -> int:
    faces = getattr(data, "faces", None)
    return int(len(faces)) if faces is not None else 0


def estimate_size(source: ExhibitSource, triangles: int | None = None,
                  points: int | None = None) -> int:
    """Rough size in bytes of the exported geometry: every layer within the budgets
    (``triangles`` / ``points``: the most kept over all layers; None: all), plus the
    textures' files. Formats that keep several levels of detail write up to about twice
    this."""
    n_points = sum(int(l.data.point_count) for l in source.layers if l.kind == "points")
    n_tris = sum(_triangles(l.data) for l in source.layers if l.kind != "points")
    if points is not None and points > 0:
        n_points = min(n_points, int(points))
    if triangles is not None and triangles > 0:
        n_tris = min(n_tris, int(triangles))
    textures = 0
    seen: set[int] = set()
    for layer in source.layers:
        for part in getattr(layer.data, "parts", None) or []:
            material = part.material
            if id(material) in seen:
                continue
            seen.add(id(material))
            path = material.texture_path
            if path and Path(path).is_file():
                textures += Path(path).stat().st_size
            elif material.texture is not None:  # stored compressed: about a quarter
                textures += int(np.asarray(material.texture).nbytes) // 4
    return n_points * BYTES_PER_POINT + n_tris * BYTES_PER_TRIANGLE + textures + \
        4096 * (1 + len(source.annotations))


# -- writing ---------------------------------------------------------------------------------


def input_files(session: Any) -> list[Path]:
    """Files the session reads: the project file and every layer's file."""
    project = session.project
    files = [Path(project.path)] if project.path is not None else []
    for layer in session.scene.layers:
        if layer.path and "://" not in str(layer.path):
            files.append(Path(layer.path))
    for record in project.layers:
        if record.path:
            files.append(project.absolute(record.path))
    return files


def check_output(fmt: str, out: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """``out`` checked before anything is written: ValueError (one line) when it would
    overwrite an input (the project, a layer's file; links and other spellings included),
    when a folder export would go into an existing non-empty folder or one holding an
    input, when a file export names a folder, or when its parent folder is missing."""
    from heritage.project import same_file

    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    out = Path(out).expanduser()
    inputs = [Path(p) for p in inputs]
    for source in inputs:
        if out.exists() and source.exists() and same_file(out, source):
            raise ValueError(f"{out}: is the input {source}; writing it would overwrite it "
                             "(choose another output name)")
    if not out.parent.is_dir():
        raise ValueError(f"{out}: its folder {out.parent} does not exist")
    if fmt in FILE_FORMATS:
        if fmt == "iiif":  # the manifest's model is written beside it as NAME.glb
            for source in inputs:
                model = out.with_suffix(".glb")
                if model.exists() and source.exists() and same_file(model, source):
                    raise ValueError(f"{out}: its model {model.name} would overwrite the "
                                     f"input {source} (choose another output name)")
        if out.is_dir():
            raise ValueError(f"{out}: is a folder; the {fmt} export writes one file "
                             f"(name it like exhibit{FILE_FORMATS[fmt]})")
        return out
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: is a file; the {fmt} export writes a folder "
                         "(name a new folder)")
    resolved = out.resolve()
    for source in inputs:
        try:
            source.resolve().relative_to(resolved)
        except ValueError:
            continue
        raise ValueError(f"{out}: holds the input {source}; the {fmt} export writes a "
                         "folder of its own (name a new folder)")
    if out.is_dir() and any(out.iterdir()):
        raise ValueError(f"{out}: the folder is not empty; the {fmt} export writes a "
                         "folder of its own (name a new or empty folder)")
    return out


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def write_exhibit(source: ExhibitSource, fmt: str, out: str | Path,
                  progress: ProgressFn | None = None, *,
                  inputs: Iterable[str | Path] = (), **options: Any) -> ExportResult:
    """Export ``source`` as ``fmt`` to ``out`` through :func:`heritage.exhibits.export`.
    A folder is written under a hidden temporary name beside ``out`` and renamed into
    place at the end; a file format writes its own files through temporary names, and
    whatever a cancelled or failed export left in the folder is removed: a cancelled
    (:class:`ExportCancelled` from ``progress``) or failed export leaves nothing behind.
    ``out`` is checked first (:func:`check_output` with ``inputs``).
    Raises ValueError for a refused output, :class:`ExportError` for an unavailable
    format or bad options."""
    from heritage.exhibits import export

    fmt = str(fmt).lower()
    out = check_output(fmt, out, inputs)
    if not format_available(fmt):
        raise ExportError(f"format {fmt} is not available yet", "choose another format")
    if fmt in FILE_FORMATS:
        # a file format may write files beside its output (IIIF: the model NAME.glb,
        # referenced by its URL): the module writes under the real names, each through a
        # temporary name of its own (see heritage.exhibits.source); what it left of its
        # own (new names starting with the output's) is removed
        before = {p.name for p in out.parent.iterdir()}
        try:
            result = export(source, fmt, out, progress=progress, **options)
        except BaseException:
            for path in out.parent.iterdir():
                if path.name not in before and path.name.lstrip(".").startswith(out.stem):
                    _remove(path)
            raise
        result.path = out
        return result
    tmp = out.with_name(f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    try:
        result = export(source, fmt, tmp, progress=progress, **options)
        if out.is_dir():  # an empty folder named for the export: take its place
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        _remove(tmp)
        raise
    result.path = out
    return result


def export_exhibit(session: Any, fmt: str, out: str | Path,
                   progress: ProgressFn | None = None, *,
                   layers: Sequence[Any] | None = None, annotations: AnnotationSpec = None,
                   tours: str | Iterable[str] | None = None, **options: Any) -> ExportResult:
    """Export the scene of ``session`` as ``fmt`` (``glb``, ``3dtiles``, ``voyager``,
    ``web``, ``iiif``) to ``out``: :func:`exhibit_source` with ``layers``, ``annotations``
    and ``tours``, then :func:`write_exhibit` (the project and the layers' files are the
    inputs ``out`` may not overwrite). ``options`` are the format's (``triangles=N``,
    ``points=N``...)."""
    out = check_output(fmt, out, input_files(session))
    source = exhibit_source(session, layers, annotations, tours)
    return write_exhibit(source, fmt, out, progress, inputs=input_files(session), **options)
