"""GeoJSON (``geojson``): :func:`write` a project's annotations and measurements,
:func:`parse` them back.

A ``FeatureCollection`` in the project CRS with the legacy named ``crs`` member
(``urn:ogc:def:crs:EPSG::NNNN``; non-EPSG CRSs are written as their text). Geometries
are 3D: ``Point``, ``LineString``, ``Polygon`` (closed ring); a box is the
``Polygon`` of its footprint at ``zmin`` with ``zmin``/``zmax`` properties and
``kind: "box"``. All metadata are properties. Measurements are features with
``kind: "measurement"``, ``measurement_kind``, ``value`` and ``units``
(``LineString`` of the picked points; ``Polygon`` for the area kinds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loaders.crs import crs_units

from ..model import Annotation, Measurement, Vocabulary
from ..project import Project
from .common import (
    BadContent,
    ImportResult,
    closed_ring,
    crs_from_text,
    crs_urn,
    make_annotation,
    open_ring,
    parse_with,
    point_list,
    terms_from,
    unit_suffix,
    vocab_terms,
    write_envelope,
)

AREA_MEASUREMENTS = ("area", "projected_area")


def _properties(ann: Annotation, vocab: Vocabulary) -> dict[str, Any]:
    d = ann.to_dict()
    props: dict[str, Any] = {"id": ann.id, "kind": ann.kind}
    for key in ("title", "description", "category"):
        props[key] = d[key]
    props["category_label"] = vocab.category_label(ann.category)
    props["condition"] = ann.condition
    props["condition_label"] = (vocab.conditions.get(ann.condition, (ann.condition,))[0]
                                if ann.condition is not None else None)
    for key in ("observed", "author", "tags", "media", "link", "view", "color", "visible",
                "created", "modified"):
        props[key] = d[key]
    return props


def _geometry(ann: Annotation) -> dict[str, Any]:
    pts = ann.points
    if ann.kind == "point":
        return {"type": "Point", "coordinates": list(pts[0])}
    if ann.kind == "polyline":
        return {"type": "LineString", "coordinates": [list(p) for p in pts]}
    if ann.kind == "polygon":
        return {"type": "Polygon", "coordinates": [closed_ring(pts)]}
    (x0, y0, z0), (x1, y1, _z1) = pts
    foot = [[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0]]
    return {"type": "Polygon", "coordinates": [closed_ring(foot)]}


def _geojson_features(project: Project) -> Any:
    for ann in project.annotations:
        props = _properties(ann, project.vocabulary)
        if ann.kind == "box":
            props["zmin"], props["zmax"] = ann.points[0][2], ann.points[1][2]
        yield {"type": "Feature", "id": ann.id, "geometry": _geometry(ann),
               "properties": props}
    unit = crs_units(project.crs) if project.measurements else None
    for m in project.measurements:
        if m.kind in AREA_MEASUREMENTS:
            geom = {"type": "Polygon", "coordinates": [closed_ring(m.points)]}
        else:
            geom = {"type": "LineString", "coordinates": [list(p) for p in m.points]}
        yield {"type": "Feature", "id": m.id, "geometry": geom, "properties": {
            "id": m.id, "kind": "measurement", "measurement_kind": m.kind, "label": m.label,
            "value": m.value, "units": unit_suffix(m.kind, unit), "created": m.created}}


def _geojson_head(project: Project) -> dict[str, Any]:
    fc: dict[str, Any] = {"type": "FeatureCollection"}
    if project.crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs_urn(project.crs)}}
    fc["name"] = project.title or (project.path.stem if project.path else "annotations")
    fc["realscene"] = {"format": "realscene-annotations", "version": 1,
                       "vocabulary": vocab_terms(project.vocabulary)}
    return fc


def write(project: Project, fh: Any) -> None:
    """Write the FeatureCollection to the text file ``fh``, one feature at a time."""
    write_envelope(fh, _geojson_head(project), '\n  "features": [',
                    _geojson_features(project), "    ", "\n  ]\n}\n")


def _geom_points(geom: Any, where: str) -> tuple[str, list[list[float]]]:
    if not isinstance(geom, dict):
        raise BadContent(f"{where}: the feature has no geometry")
    gtype, coords = geom.get("type"), geom.get("coordinates")
    if gtype == "Point":
        return "point", point_list([coords], where)
    if gtype == "LineString":
        return "polyline", point_list(coords, where)
    if gtype == "Polygon":
        if not isinstance(coords, list) or not coords:
            raise BadContent(f"{where}: a Polygon needs a ring")
        return "polygon", point_list(coords[0], where)
    if gtype == "MultiPoint":
        return "multipoint", point_list(coords, where)
    raise BadContent(f"{where}: unsupported geometry type {gtype!r}")


def _parse(doc: Any) -> ImportResult:
    if not isinstance(doc, dict):
        raise BadContent("GeoJSON must be an object")
    if doc.get("type") == "Feature":
        features = [doc]
    elif doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise BadContent("a FeatureCollection needs a list of features")
    else:
        raise BadContent(f"not GeoJSON (type {doc.get('type')!r})")
    result = ImportResult(annotations=[], format="geojson")
    crs_obj = doc.get("crs")
    if isinstance(crs_obj, dict):
        props = crs_obj.get("properties") or {}
        if crs_obj.get("type") == "name" and isinstance(props.get("name"), str):
            result.crs = crs_from_text(props["name"])
        elif crs_obj.get("type") in ("EPSG", "epsg") and props.get("code") is not None:
            result.crs = f"EPSG:{int(props['code'])}"
        else:
            raise BadContent("the crs member must be a named CRS "
                       "({\"type\": \"name\", \"properties\": {\"name\": ...}})")
    elif crs_obj is not None:
        raise BadContent("the crs member must be an object")
    meta = doc.get("realscene")
    if isinstance(meta, dict) and isinstance(meta.get("vocabulary"), dict):
        result.categories.update(terms_from(meta["vocabulary"].get("categories")))
        result.conditions.update(terms_from(meta["vocabulary"].get("conditions")))
    for i, feat in enumerate(features):
        where = f"feature {i + 1}"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise BadContent(f"{where}: not a Feature")
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise BadContent(f"{where}: properties must be an object")
        fid = props.get("id", feat.get("id"))
        if fid is not None:
            where = f"{where} ({fid})"
        gkind, pts = _geom_points(feat.get("geometry"), where)
        if props.get("kind") == "measurement":
            if gkind == "polygon":
                pts = open_ring(pts)
            d = {"kind": props.get("measurement_kind"), "points": pts,
                 "label": props.get("label") or "", "id": fid,
                 "created": props.get("created")}
            try:
                result.measurements.append(Measurement.from_dict(d))
            except (KeyError, TypeError, ValueError) as exc:
                raise BadContent(f"{where}: {exc}") from None
            continue
        kind = props.get("kind") or ("point" if gkind in ("point", "multipoint") else gkind)
        if kind == "box":
            if gkind != "polygon":
                raise BadContent(f"{where}: a box must be a Polygon footprint")
            try:
                zmin = float(props.get("zmin", min(p[2] for p in pts)))
                zmax = float(props.get("zmax", max(p[2] for p in pts)))
            except (TypeError, ValueError):
                raise BadContent(f"{where}: zmin/zmax must be numbers") from None
            pts = [[min(p[0] for p in pts), min(p[1] for p in pts), zmin],
                   [max(p[0] for p in pts), max(p[1] for p in pts), zmax]]
        elif gkind == "polygon":
            pts = open_ring(pts)
        d = {k: v for k, v in props.items()
             if k not in ("category_label", "condition_label", "zmin", "zmax", "points")}
        d["kind"], d["points"] = kind, pts
        if fid is not None:
            d["id"] = str(fid)
        if props.get("category_label") and props.get("category"):
            result.categories.setdefault(str(props["category"]),
                                         (str(props["category_label"]), None))
        if props.get("condition_label") and props.get("condition"):
            result.conditions.setdefault(str(props["condition"]),
                                         (str(props["condition_label"]), None))
        result.annotations.append(make_annotation(d, where))
    return result


def parse(doc: Any, where: str | Path = "<geojson>") -> ImportResult:
    """A GeoJSON FeatureCollection or Feature -> everything it holds; :class:`ExchangeError`
    naming ``where`` when it is not readable as GeoJSON."""
    return parse_with(where, _parse, doc)
