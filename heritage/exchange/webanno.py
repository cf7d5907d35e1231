"""W3C Web Annotation JSON-LD (``webanno``): :func:`write` a project's annotations,
:func:`parse` them back.

An ``AnnotationCollection`` whose ``first`` page holds one ``Annotation`` per record.
``@context`` is the W3C context plus a small local one (prefixes ``rs:`` for
RealScene terms and ``crm:`` for CIDOC-CRM). Bodies: ``TextualBody`` items for the
title and description (``rs:field`` tells which), a ``SpecificResource`` with
purpose ``classifying`` for the category (source = the vocabulary term with its
label), ``TextualBody`` items with purpose ``tagging`` for tags, ``Image`` (or
``Video``/``Sound``/``Text``/``Dataset``) bodies for media with the relative path as
(percent-encoded) ``id``, and the condition record as a ``crm:E14_Condition_Assessment``
(``crm:P35_has_identified`` -> ``crm:E3_Condition_State`` with ``crm:P2_has_type`` the
grade; ``crm:P4_has_time-span`` the observed date; ``crm:P14_carried_out_by`` the
author). Target: ``source`` the linked layer (or the project), ``selector`` = a
``PointSelector`` (pins) and a ``WKTSelector`` (``POINT Z``, ``LINESTRING Z``,
``POLYGON Z`` with a closed ring, a box as a closed ``POLYHEDRALSURFACE Z`` with
``rs:kind: box``) whose ``crs`` is ``http://www.opengis.net/def/crs/EPSG/0/NNNN`` for
EPSG CRSs, else the CRS text (WKT) as stored. Non-pin kinds also carry their vertices
in ``rs:points``; ``rs:link`` (layer + feature id) and ``rs:view`` (camera) are JSON
literals. The collection carries the project vocabulary (``rs:vocabulary``) and the
measurements (``rs:measurements``).
"""

from __future__ import annotations

import mimetypes
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from ..model import Annotation, Measurement
from ..project import Project
from .common import (
    BadContent,
    ImportResult,
    as_list,
    crs_from_text,
    crs_uri,
    json_types,
    make_annotation,
    parse_with,
    parse_wkt,
    point_list,
    terms_from,
    to_wkt,
    vocab_terms,
    write_envelope,
)

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"

RS_NS = "https://realscene.example/ns/annotation#"

RS_VOCAB = "https://realscene.example/vocab/"

CRM_NS = "http://www.cidoc-crm.org/cidoc-crm/"

LOCAL_CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "rs": RS_NS,
    "crm": CRM_NS,
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "WKTSelector": "rs:WKTSelector",
    "PointSelector": "rs:PointSelector",
    "x": "rs:x", "y": "rs:y", "z": "rs:z",
    "crs": {"@id": "rs:crs", "@type": "@id"},
    "rs:points": {"@type": "@json"},
    "rs:link": {"@type": "@json"},
    "rs:view": {"@type": "@json"},
    "rs:color": {"@type": "@json"},
    "rs:vocabulary": {"@type": "@json"},
    "rs:measurements": {"@type": "@json"},
}

CONTEXT = [ANNO_CONTEXT, LOCAL_CONTEXT]


def _anno_id(ann_id: str) -> str:
    try:
        if str(uuid.UUID(ann_id)) == ann_id:
            return f"urn:uuid:{ann_id}"
    except (ValueError, AttributeError, TypeError):
        pass
    return "urn:realscene:annotation:" + quote(ann_id, safe="")


def _anno_id_back(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    if text.lower().startswith("urn:uuid:"):
        return text[9:]
    if text.startswith("urn:realscene:annotation:"):
        return unquote(text[len("urn:realscene:annotation:"):])
    return text


def _project_source(project: Project) -> str:
    name = project.path.name if project.path else (project.title or "untitled")
    return "urn:realscene:project:" + quote(name, safe="")


_MEDIA_TYPES = {"image": "Image", "video": "Video", "audio": "Sound", "text": "Text"}


def _media_body(path: str) -> dict[str, Any]:
    mime = mimetypes.guess_type(path)[0]
    kind = _MEDIA_TYPES.get((mime or "").split("/")[0], "Dataset")
    body: dict[str, Any] = {"id": quote(path, safe="/"), "type": kind, "rs:field": "media"}
    if mime:
        body["format"] = mime
    return body


def _annotation_to_webanno(ann: Annotation, project: Project) -> dict[str, Any]:
    vocab = project.vocabulary
    bodies: list[dict[str, Any]] = []
    if ann.title:
        bodies.append({"type": "TextualBody", "purpose": "describing", "rs:field": "title",
                       "format": "text/plain", "value": ann.title})
    if ann.description:
        bodies.append({"type": "TextualBody", "purpose": "describing",
                       "rs:field": "description", "format": "text/plain",
                       "value": ann.description})
    bodies.append({
        "type": "SpecificResource", "purpose": "classifying", "rs:field": "category",
        "source": {"id": RS_VOCAB + "category/" + quote(ann.category, safe=""),
                   "type": "skos:Concept", "label": vocab.category_label(ann.category),
                   "rs:key": ann.category},
    })
    for tag in ann.tags:
        bodies.append({"type": "TextualBody", "purpose": "tagging", "value": tag})
    for m in ann.media:
        bodies.append(_media_body(m))
    if ann.condition is not None or ann.observed is not None:
        node: dict[str, Any] = {"type": "crm:E14_Condition_Assessment", "purpose": "assessing",
                                "rs:field": "condition"}
        if ann.condition is not None:
            label = vocab.conditions.get(ann.condition, (ann.condition, None))[0]
            node["crm:P35_has_identified"] = {
                "type": "crm:E3_Condition_State",
                "crm:P2_has_type": {
                    "id": RS_VOCAB + "condition/" + quote(ann.condition, safe=""),
                    "type": "crm:E55_Type", "label": label, "rs:key": ann.condition},
            }
        if ann.observed is not None:
            node["crm:P4_has_time-span"] = {"type": "crm:E52_Time-Span",
                                            "crm:P82_at_some_time_within": ann.observed}
        if ann.author:
            node["crm:P14_carried_out_by"] = {"type": "crm:E21_Person", "label": ann.author}
        bodies.append(node)

    selectors: list[dict[str, Any]] = []
    if ann.kind == "point":
        x, y, z = ann.points[0]
        selectors.append({"type": "PointSelector", "x": x, "y": y, "z": z})
    wkt: dict[str, Any] = {"type": "WKTSelector", "value": to_wkt(ann)}
    if project.crs:
        wkt["crs"] = crs_uri(project.crs)
    if ann.kind == "box":
        wkt["rs:kind"] = "box"
    selectors.append(wkt)
    target: dict[str, Any] = {
        "type": "SpecificResource",
        "source": ("urn:realscene:layer:" + quote(str(ann.link["layer"]), safe="")
                   if ann.link and ann.link.get("layer") else _project_source(project)),
        "selector": selectors,
    }
    if ann.kind != "point":
        target["rs:points"] = ann.points
    if ann.link is not None:
        target["rs:link"] = ann.link
    if ann.view is not None:
        target["rs:view"] = ann.view

    if ann.condition is not None:
        motivation = "assessing"
    elif ann.title or ann.description:
        motivation = "describing"
    elif ann.tags:
        motivation = "tagging"
    else:
        motivation = "describing"
    rec: dict[str, Any] = {
        "id": _anno_id(ann.id), "type": "Annotation", "motivation": motivation,
        "created": ann.created, "modified": ann.modified,
    }
    if ann.author:
        rec["creator"] = {"type": "Person", "name": ann.author}
    rec["rs:kind"] = ann.kind
    rec["rs:visible"] = ann.visible
    if ann.color is not None:
        rec["rs:color"] = list(ann.color)
    rec["body"] = bodies
    rec["target"] = target
    return rec


def annotation_record(ann: Annotation, project: Project) -> dict[str, Any]:
    """One annotation exactly as :func:`write` puts it in the collection (a JSON-LD
    object without ``@context``; its terms are those of :data:`CONTEXT`). The IIIF
    manifest (:mod:`heritage.exhibits.iiif`) reuses it."""
    return _annotation_to_webanno(ann, project)


def _webanno_head(project: Project) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": _project_source(project) + ":annotations",
        "type": "AnnotationCollection",
        "label": project.title or (project.path.stem if project.path else "Annotations"),
        "total": len(project.annotations),
        "rs:crs": project.crs,
        "rs:vocabulary": vocab_terms(project.vocabulary),
        "rs:measurements": [m.to_dict() for m in project.measurements],
    }


def write(project: Project, fh: Any) -> None:
    """Write the AnnotationCollection to the text file ``fh``, one annotation at a time."""
    write_envelope(
        fh, _webanno_head(project),
        '\n  "first": {\n    "type": "AnnotationPage",\n    "startIndex": 0,\n'
        '    "items": [',
        (_annotation_to_webanno(a, project) for a in project.annotations), "      ",
        "\n    ]\n  }\n}\n")




def _webanno_record(rec: Any, where: str) -> tuple[Annotation, str | None, dict, dict]:
    if not isinstance(rec, dict) or "Annotation" not in json_types(rec):
        raise BadContent(f"{where}: not an Annotation (type {rec.get('type') if isinstance(rec, dict) else type(rec).__name__!r})")  # noqa: E501
    d: dict[str, Any] = {}
    cats: dict[str, tuple[str, None]] = {}
    conds: dict[str, tuple[str, None]] = {}
    ann_id = _anno_id_back(rec.get("id", rec.get("@id")))
    if ann_id:
        d["id"] = ann_id
        where = f"{where} ({ann_id})"
    for key in ("created", "modified"):
        if isinstance(rec.get(key), str):
            d[key] = rec[key]
    creator = rec.get("creator")
    if isinstance(creator, list):
        creator = creator[0] if creator else None
    if isinstance(creator, dict):
        d["author"] = str(creator.get("name") or creator.get("nickname") or "")
    elif isinstance(creator, str):
        d["author"] = creator
    if "rs:visible" in rec:
        d["visible"] = bool(rec["rs:visible"])
    if rec.get("rs:color") is not None:
        d["color"] = rec["rs:color"]
    tags: list[str] = []
    media: list[str] = []
    for body in as_list(rec.get("body")):
        if isinstance(body, str):  # a bare IRI body: treat as media
            media.append(unquote(body))
            continue
        if not isinstance(body, dict):
            raise BadContent(f"{where}: a body must be an object")
        types = json_types(body)
        field_ = body.get("rs:field")
        purpose = body.get("purpose")
        if "crm:E14_Condition_Assessment" in types or field_ == "condition":
            state = body.get("crm:P35_has_identified")
            if isinstance(state, list):
                state = state[0] if state else None
            if isinstance(state, dict):
                grade = state.get("crm:P2_has_type")
                if isinstance(grade, dict):
                    key = grade.get("rs:key")
                    if not isinstance(key, str):
                        gid = str(grade.get("id", ""))
                        key = unquote(gid.rsplit("/", 1)[-1]) if gid else None
                    if not key and isinstance(grade.get("label"), str):
                        key = grade["label"].strip().lower().replace(" ", "_")
                    d["condition"] = key
                    if key and isinstance(grade.get("label"), str):
                        conds[key] = (grade["label"], None)
                elif isinstance(grade, str):
                    d["condition"] = grade
            span = body.get("crm:P4_has_time-span")
            if isinstance(span, dict):
                when = (span.get("crm:P82_at_some_time_within")
                        or span.get("crm:P82a_begin_of_the_begin"))
                if when is not None:
                    d["observed"] = str(when)
            elif isinstance(span, str):
                d["observed"] = span
            who = body.get("crm:P14_carried_out_by")
            if "author" not in d and isinstance(who, dict) and who.get("label"):
                d["author"] = str(who["label"])
        elif field_ == "category" or purpose == "classifying":
            src = body.get("source", body)
            if isinstance(src, str):
                d["category"] = unquote(src.rsplit("/", 1)[-1])
            elif isinstance(src, dict):
                key = src.get("rs:key")
                if not isinstance(key, str):
                    sid = str(src.get("id", ""))
                    key = unquote(sid.rsplit("/", 1)[-1]) if sid else None
                if not key and isinstance(src.get("label"), str):
                    key = src["label"].strip().lower().replace(" ", "_")
                if key:
                    d["category"] = key
                    if isinstance(src.get("label"), str):
                        cats[key] = (src["label"], None)
        elif field_ == "title":
            d["title"] = str(body.get("value", ""))
        elif field_ == "description" or (purpose in (None, "describing", "commenting")
                                         and "TextualBody" in types and "description" not in d):
            d["description"] = str(body.get("value", ""))
        elif purpose == "tagging":
            tags.append(str(body.get("value", "")))
        elif field_ == "media" or set(types) & {"Image", "Video", "Sound", "Text", "Dataset"}:
            src = body.get("id", body.get("source"))
            if not isinstance(src, str):
                raise BadContent(f"{where}: a media body needs an id (its path)")
            media.append(unquote(src))
    d["tags"], d["media"] = tags, media

    target = rec.get("target")
    if isinstance(target, list):
        target = target[0] if target else None
    if not isinstance(target, dict):
        raise BadContent(f"{where}: the target needs a selector with the geometry")
    crs = None
    kind = rec.get("rs:kind")
    points = None
    point_sel = None
    for sel in as_list(target.get("selector")):
        if not isinstance(sel, dict):
            continue
        st = json_types(sel)
        if "WKTSelector" in st:
            wkind, wpts = parse_wkt(sel.get("value"))
            if sel.get("crs") is not None:
                crs = crs_from_text(sel.get("crs"))
            if sel.get("rs:kind") == "box" or kind == "box":
                kind = "box"
                if wkind != "box":
                    wpts = [[min(p[i] for p in wpts) for i in range(3)],
                            [max(p[i] for p in wpts) for i in range(3)]]
            kind = kind or wkind
            if points is None:
                points = wpts
        elif "PointSelector" in st:
            try:
                point_sel = [[float(sel["x"]), float(sel["y"]), float(sel["z"])]]
            except (KeyError, TypeError, ValueError):
                raise BadContent(f"{where}: a PointSelector needs numeric x, y and z") from None
    if points is None and point_sel is not None:
        points, kind = point_sel, kind or "point"
    if points is None and target.get("rs:points") is not None:
        points = point_list(target["rs:points"], where)
    if points is None:
        raise BadContent(f"{where}: the target has no WKTSelector or PointSelector")
    if not kind:
        raise BadContent(f"{where}: cannot tell the annotation kind")
    d["kind"], d["points"] = kind, points
    if target.get("rs:link") is not None:
        d["link"] = target["rs:link"]
    if target.get("rs:view") is not None:
        d["view"] = target["rs:view"]
    return make_annotation(d, where), crs, cats, conds


def _parse(doc: Any) -> ImportResult:
    """A collection, page, single annotation or list of annotations -> ImportResult."""
    meta: dict[str, Any] = {}
    if isinstance(doc, list):
        records = doc
    elif isinstance(doc, dict):
        types = json_types(doc)
        if "Annotation" in types:
            records = [doc]
        elif "AnnotationPage" in types:
            records = as_list(doc.get("items"))
            meta = doc
        elif "AnnotationCollection" in types:
            meta = doc
            records = []
            page = doc.get("first")
            seen = 0
            while isinstance(page, dict) and seen < 100000:
                records.extend(as_list(page.get("items")))
                page = page.get("next")
                seen += 1
            if isinstance(page, str):
                raise BadContent("the collection's pages are not embedded (linked page "
                           f"{page!r}); only embedded pages can be read")
            records.extend(as_list(doc.get("items")))
        else:
            raise BadContent("JSON-LD without an Annotation, AnnotationPage or "
                       "AnnotationCollection")
    else:
        raise BadContent("expected a JSON object or list")
    result = ImportResult(annotations=[], format="webanno")
    crss = set()
    for i, rec in enumerate(records):
        ann, crs, cats, conds = _webanno_record(rec, f"annotation {i + 1}")
        result.annotations.append(ann)
        if crs is not None:
            crss.add(crs)
        for k, v in cats.items():
            result.categories.setdefault(k, v)
        for k, v in conds.items():
            result.conditions.setdefault(k, v)
    if len(crss) > 1:
        raise BadContent(f"annotations in different CRSs ({', '.join(sorted(crss))})")
    declared = crs_from_text(meta.get("rs:crs")) if meta.get("rs:crs") else None
    result.crs = crss.pop() if crss else declared
    vocab = meta.get("rs:vocabulary")
    if isinstance(vocab, dict):
        result.categories.update(terms_from(vocab.get("categories")))
        result.conditions.update(terms_from(vocab.get("conditions")))
    result.measurements = _measurements_from_dicts(meta.get("rs:measurements"))
    return result


def _measurements_from_dicts(items: Any) -> list[Measurement]:
    out = []
    for i, m in enumerate(as_list(items)):
        try:
            out.append(Measurement.from_dict(m))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadContent(f"measurement {i + 1}: {exc}") from None
    return out


def parse(doc: Any, where: str | Path = "<webanno>") -> ImportResult:
    """A Web Annotation document (collection, page, list or one
    annotation) -> everything it holds; :class:`ExchangeError`
    naming ``where`` when it is not readable as Web Annotation JSON-LD."""
    return parse_with(where, _parse, doc)
