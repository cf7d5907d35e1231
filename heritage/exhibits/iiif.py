"""A IIIF manifest of the 3D model (``--format iiif``) with the annotations as W3C
annotations.

IIIF has no published 3D specification yet. This export follows the IIIF 3D Technical
Specification Group's draft (the example manifests of github.com/IIIF/3d, which use the
draft Presentation 4 context ``http://iiif.io/api/presentation/4/context.json``): the
Presentation 3 structure -- a ``Manifest`` whose ``items`` hold one container with an
``AnnotationPage`` of ``painting`` annotations -- with a ``Scene`` as the container (a 3D
space, right-handed, Y up, like glTF) instead of a 2D ``Canvas``. Written beside the
manifest ``NAME.json``:

- ``NAME.glb`` -- the model (:mod:`heritage.exhibits.glb`), the body of the ``painting``
  annotation (``type: Model``, ``format: model/gltf-binary``) that targets the Scene, so
  it sits at the Scene's origin in its own (Y-up) frame;
- the Scene's ``annotations``: one ``AnnotationPage`` with every annotation as the W3C
  Web Annotation export writes it (:func:`heritage.exchange.webanno.annotation_record`:
  same id, motivation, bodies -- title, description, category, tags, media, condition --
  and ``rs:`` terms), except the target: its ``source`` is the Scene, and its selectors
  are a ``PointSelector`` at the annotation's anchor in the Scene's frame (what 3D IIIF
  viewers place a comment with) followed by the export's own ``WKTSelector`` with the
  geometry in the project CRS (``crs``), which stays exact; ``rs:points``, ``rs:link``
  and ``rs:view`` are kept as they are.

Every ``id`` is a URI under ``base_url`` (where the folder will be published; the
folder's ``file:`` URI when not given); annotation ids stay the Web Annotation export's
``urn:uuid:`` ones. ``@context`` is the Web Annotation export's local context (``rs:``,
``crm:``, ``WKTSelector``...) followed by the IIIF context, which comes last as IIIF
requires. Labels keep their text as written (any script), tagged ``zh`` when they contain
Chinese characters, else ``none``. The CRS and origin (the Scene's frame:
``scene = (x, -z, y) + origin``) are in the manifest's ``metadata``.

No Qt, no VTK.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from heritage.exchange import webanno
from heritage.model import Vocabulary
from heritage.project import Project
from loaders.crs import as_crs, crs_to_text

from .source import (
    ExhibitSource,
    ExportCancelled,
    ExportError,
    ExportResult,
    ProgressFn,
    checkpoint,
    scaled,
)
from .voyager import to_model_frame

#: the IIIF 3D draft's context (draft Presentation 4); must come last in ``@context``
IIIF_CONTEXT = "http://iiif.io/api/presentation/4/context.json"
CONTEXT = [webanno.LOCAL_CONTEXT, IIIF_CONTEXT]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def language_map(text: str) -> dict[str, list[str]]:
    """A IIIF language map for ``text``: ``zh`` when it has Chinese characters."""
    return {("zh" if _CJK.search(text or "") else "none"): [text]}


def _project_of(source: ExhibitSource) -> Project:
    """The project the Web Annotation export would see for these annotations."""
    return Project(title=source.title, crs=crs_to_text(as_crs(source.crs)),
                   annotations=list(source.annotations),
                   vocabulary=source.vocabulary or Vocabulary())


def w3c_annotation(ann: Any, source: ExhibitSource, scene_id: str,
                   project: Project | None = None) -> dict[str, Any]:
    """One annotation for the manifest: the Web Annotation export's record with its target
    on the Scene (see the module docstring)."""
    rec = webanno.annotation_record(ann, project or _project_of(source))
    old = rec["target"]
    x, y, z = (float(v) for v in to_model_frame(np.asarray(ann.anchor), source.origin))
    selectors = [{"type": "PointSelector", "x": x, "y": y, "z": z}]
    selectors += [s for s in old.get("selector", []) if s.get("type") != "PointSelector"]
    target: dict[str, Any] = {"type": "SpecificResource",
                              "source": {"id": scene_id, "type": "Scene"},
                              "selector": selectors}
    for key, value in old.items():
        if key not in ("type", "source", "selector"):
            target[key] = value
    rec["target"] = target
    return rec


def build_manifest(source: ExhibitSource, manifest_id: str, model_url: str
                   ) -> dict[str, Any]:
    """The manifest for ``source`` published at ``manifest_id`` whose model is at
    ``model_url``."""
    title = source.title or "RealScene exhibit"
    scene_id = f"{manifest_id}/scene/1"
    project = _project_of(source)
    comments = [w3c_annotation(a, source, scene_id, project) for a in source.annotations]
    metadata = [
        {"label": {"en": ["Coordinate reference system"]},
         "value": {"none": [crs_to_text(as_crs(source.crs)) or "none (local coordinates)"]}},
        {"label": {"en": ["Scene origin in the CRS"]},
         "value": {"none": [" ".join(repr(float(v)) for v in source.origin)]}},
        {"label": {"en": ["Scene axes"]},
         "value": {"en": ["Y up; scene (x, y, z) = CRS (x - ox, z - oz, -(y - oy))"]}},
    ]
    scene: dict[str, Any] = {
        "id": scene_id, "type": "Scene", "label": language_map(title),
        "items": [{
            "id": f"{scene_id}/page/1", "type": "AnnotationPage",
            "items": [{
                "id": f"{scene_id}/annotation/model", "type": "Annotation",
                "motivation": ["painting"],
                "body": {"id": model_url, "type": "Model", "format": "model/gltf-binary",
                         "label": language_map(title)},
                "target": {"id": scene_id, "type": "Scene"},
            }],
        }],
    }
    if comments:
        scene["annotations"] = [{"id": f"{scene_id}/annotations/1",
                                 "type": "AnnotationPage", "items": comments}]
    return {
        "@context": CONTEXT,
        "id": manifest_id,
        "type": "Manifest",
        "label": language_map(title),
        "metadata": metadata,
        "items": [scene],
    }


def export(source: ExhibitSource, out: str | Path, progress: ProgressFn | None = None, *,
           base_url: str | None = None, **glb_options: Any) -> ExportResult:
    """Write the manifest ``out`` (``NAME.json``) and its model ``NAME.glb`` beside it.
    ``base_url``: where the folder will be published (``https://…/``); ids are made under
    it. Other options (``triangles``, ``points``) go to the GLB export. ``progress`` may
    raise :class:`ExportCancelled`: nothing is left behind then."""
    out = Path(out)
    if out.suffix.lower() != ".json":
        out = out.with_name(out.name + ".json")
    if out.is_dir():
        raise ExportError(f"{out} is a folder", "a IIIF manifest is a file; give a file "
                          "name ending in .json")
    if not source.layers:
        raise ExportError("nothing to export: no layers", "choose at least one layer")
    if base_url is None:
        out.parent.mkdir(parents=True, exist_ok=True)
        base_url = out.parent.resolve().as_uri() + "/"
    elif not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", base_url):
        raise ExportError(f"base URL {base_url!r} is not a URL",
                          "give where the files will be published, e.g. "
                          "https://museum.example/iiif/site/")
    if not base_url.endswith("/"):
        base_url += "/"
    from . import glb

    model = out.with_suffix(".glb")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_model = out.with_name(f".{model.name}.partial")
    tmp_manifest = out.with_name(f".{out.name}.partial")
    try:
        res = glb.export(source, tmp_model, progress=scaled(progress, 0.0, 0.9),
                         **glb_options)
        checkpoint(progress, 0.92, "IIIF: annotations")
        manifest = build_manifest(source, base_url + quote(out.name),
                                  base_url + quote(model.name))
        tmp_manifest.write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8")
        checkpoint(progress, 0.99, "IIIF: writing")
        os.replace(tmp_model, model)
        os.replace(tmp_manifest, out)
    except BaseException:
        for p in (tmp_model, tmp_manifest):
            p.unlink(missing_ok=True)
        raise
    counts = dict(res.counts)
    counts["annotations"] = len(source.annotations)
    checkpoint(progress, 1.0, "IIIF manifest written")
    return ExportResult(path=out, counts=counts, warnings=list(res.warnings))


__all__ = ["CONTEXT", "ExportCancelled", "IIIF_CONTEXT", "build_manifest", "export",
           "language_map", "w3c_annotation"]
