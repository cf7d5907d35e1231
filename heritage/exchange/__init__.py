"""Annotation exchange: W3C Web Annotation JSON-LD, GeoJSON (3D, with CRS) and CSV.

Every format round-trips an :class:`~heritage.model.Annotation` exactly (``to_dict()``
equal after export and import): coordinates are written with ``repr`` (shortest exact
float text) both as JSON numbers and inside WKT, and every field has a place.

One module per format, each with ``write(project, fh)`` (a record at a time) and
``parse(doc_or_text, where) -> ImportResult``:

- :mod:`heritage.exchange.webanno` -- W3C Web Annotation JSON-LD;
- :mod:`heritage.exchange.geojson` -- GeoJSON (3D, with CRS);
- :mod:`heritage.exchange.csv` -- CSV, safe in spreadsheets;
- :mod:`heritage.exchange.common` -- errors, :class:`ImportResult`, CRS spellings, WKT.

This package is the way in: :func:`read_file` (any format, chosen by content) ->
:class:`ImportResult`; :func:`merge_into` a project; :func:`export` to a file (or the
``report``, see :mod:`heritage.report`) -> its path; :func:`export_text` -> the text.

Exports are written row by row (one feature or annotation a line inside the JSON
envelope), so memory stays proportional to one record, not to the project.

Importers accept what these exporters write, plus reasonable hand-made variants (a
single Annotation, an AnnotationPage, a bare list; a GeoJSON file without ``crs``).
Errors are :class:`ExchangeError` (a ``ValueError``) naming the file and the reason.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from loaders.crs import same_crs
from loaders.safety import UnsafePath, open_regular

from ..project import FORMAT_NAME, Project, ProjectError, atomic_writer, parse_json, same_file
from ..vocabulary import check_lang
from . import csv, geojson, webanno
from .common import (
    ExchangeError,
    ImportResult,
    crs_from_text,
    crs_uri,
    crs_urn,
    json_types,
    parse_wkt,
    to_wkt,
)
from .csv import (
    CSV_COLUMNS,
    CSV_FIELD_LIMIT,
    csv_safe,
    csv_unsafe,
    decode_csv_bytes,
    measurements_to_csv,
)

FORMATS = ("webanno", "geojson", "csv", "report")


#: annotation files larger than this are not read
MAX_IMPORT_BYTES = 2 << 30


def read_file(path: str | Path) -> ImportResult:
    """Read an annotation file, choosing the format by content (not by extension):
    Web Annotation JSON-LD, GeoJSON, CSV, or a RealScene project.

    Text is UTF-8 (with or without a byte order mark); a CSV that is not UTF-8 is read
    as GB18030 (GBK, GB2312) when it decodes as such into Chinese text, and refused
    with a message naming the encoding problem otherwise (see :func:`decode_csv_bytes`)."""
    path = Path(path)
    try:
        with open_regular(path, MAX_IMPORT_BYTES) as fh:
            data = fh.read()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = decode_csv_bytes(data, path)
        del data
    except FileNotFoundError:
        raise ExchangeError(path, "file not found") from None
    except IsADirectoryError:
        raise ExchangeError(path, "is a folder, not a file") from None
    except UnsafePath as exc:
        raise ExchangeError(path, f"cannot read: it {exc.reason}") from None
    except UnicodeDecodeError:
        raise ExchangeError(path, "not a text file (expected UTF-8 JSON or CSV)") from None
    except OSError as exc:
        raise ExchangeError(path, f"cannot read: {exc.strerror or exc}") from None
    head = text.lstrip()
    if not head:
        raise ExchangeError(path, "the file is empty")
    if head[0] in "{[":
        try:
            doc = parse_json(text, path)
        except ProjectError as exc:  # (the same checks as for a project)
            raise ExchangeError(path, exc.reason) from None
        if isinstance(doc, dict) and doc.get("format") == FORMAT_NAME:
            try:
                proj = Project.from_dict(doc, path)
            except ProjectError as exc:
                raise ExchangeError(path, exc.reason) from None
            return ImportResult(
                annotations=proj.annotations, crs=proj.crs, format="project",
                categories=dict(proj.vocabulary.categories),
                conditions=dict(proj.vocabulary.conditions),
                measurements=proj.measurements)
        if isinstance(doc, dict) and doc.get("type") in ("FeatureCollection", "Feature"):
            return geojson.parse(doc, path)
        if isinstance(doc, dict) and ("@context" in doc or set(json_types(doc)) & {
                "Annotation", "AnnotationPage", "AnnotationCollection"}):
            return webanno.parse(doc, path)
        if isinstance(doc, list) and doc and all("Annotation" in json_types(x) for x in doc):
            return webanno.parse(doc, path)
        raise ExchangeError(path, "JSON but neither Web Annotation (JSON-LD), GeoJSON nor a "
                            "RealScene project")
    first = head[:65536].splitlines()[0]
    columns = {c.strip().strip('"').lower() for c in first.split(",")}
    if "," in first and columns & {"wkt", "kind", "id"}:
        return csv.parse(text, path)
    raise ExchangeError(path, "unknown annotation format (expected Web Annotation JSON-LD, "
                        "GeoJSON, or CSV with a wkt column)")


def merge_into(project: Project, result: ImportResult, where: str | Path = "<import>"
               ) -> tuple[int, int]:
    """Add imported annotations to ``project`` (same id: the imported one replaces it),
    plus unknown vocabulary terms. Refuses a file in another CRS. -> (added, replaced)."""
    if result.crs and project.crs and not same_crs(result.crs, project.crs):
        raise ExchangeError(where, f"annotations are in {result.crs}, the project in "
                            f"{project.crs}; reproject them first")
    if result.crs and not project.crs:
        project.crs = result.crs
    index = {a.id: i for i, a in enumerate(project.annotations)}
    added = replaced = 0
    for ann in result.annotations:
        if ann.id in index:
            project.annotations[index[ann.id]] = ann
            replaced += 1
        else:
            index[ann.id] = len(project.annotations)
            project.annotations.append(ann)
            added += 1
    from ..vocabulary import CATEGORY_COLORS

    default = CATEGORY_COLORS["other"]  # (reads on grey scans, unlike light grey)
    used_c = {a.category for a in result.annotations}
    for key, (label, color) in result.categories.items():
        if key in used_c and key not in project.vocabulary.categories:
            project.vocabulary.categories[key] = (label, tuple(color or default))
    used_k = {a.condition for a in result.annotations}
    for key, (label, color) in result.conditions.items():
        if key in used_k and key not in project.vocabulary.conditions:
            project.vocabulary.conditions[key] = (label, tuple(color or default))
    return added, replaced


WRITERS = {"webanno": webanno.write, "geojson": geojson.write, "csv": csv.write}


def export_text(project: Project, fmt: str) -> str:
    if fmt not in WRITERS:
        raise ValueError(f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})")
    buf = io.StringIO()
    WRITERS[fmt](project, buf)
    return buf.getvalue()


def export(project: Project, fmt: str, out_path: str | Path, *, render_view: Any = None,
           on_warning: Any = None, lang: str = "en") -> Path:
    """Write the annotations as ``fmt`` (webanno, geojson, csv, report) atomically, a
    record at a time. Refused (ExchangeError): an output that is the project file itself
    (links included).

    ``report`` writes HTML, or a PDF when ``out_path`` ends in ``.pdf``, in ``lang``
    (``en`` or ``zh``); media it leaves out are passed to ``on_warning``. A CSV file
    starts with a UTF-8 byte order mark, so that Excel (Chinese Windows included) reads
    it as UTF-8; RealScene reads it with or without one."""
    lang = check_lang(lang)
    out = Path(out_path)
    if project.path is not None and same_file(out, project.path):
        raise ExchangeError(out, "is the project file itself; choose another output name")
    if fmt == "report":
        from ..fonts import NoFontError
        from ..report import write_pdf_report, write_report

        try:
            if out.suffix.lower() == ".pdf":
                return write_pdf_report(project, out, render_view=render_view,
                                        on_warning=on_warning, lang=lang)
            return write_report(project, out, render_view=render_view,
                                on_warning=on_warning, lang=lang)
        except NoFontError as exc:  # a PDF would lose characters: not written
            raise ExchangeError(out, f"not written: {exc}") from None
    if fmt not in WRITERS:
        raise ValueError(f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})")
    try:
        with atomic_writer(out) as fh:
            if fmt == "csv":
                fh.write("\ufeff")
            WRITERS[fmt](project, fh)
    except ValueError as exc:  # a value JSON cannot hold (NaN...)
        raise ExchangeError(out, f"cannot export: {exc}") from None
    return out


__all__ = [
    "CSV_COLUMNS", "CSV_FIELD_LIMIT", "ExchangeError", "FORMATS", "ImportResult",
    "MAX_IMPORT_BYTES", "WRITERS", "crs_from_text", "crs_uri", "crs_urn", "csv_safe",
    "csv_unsafe", "export", "export_text", "measurements_to_csv", "merge_into", "parse_wkt",
    "read_file", "to_wkt",
]
