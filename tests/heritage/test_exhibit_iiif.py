"""IIIF manifest export: the IIIF 3D draft's structure (Manifest -> Scene -> painting
annotation with the GLB as a Model body), every id a URI, annotations targeting the
Scene, and the W3C annotations equal to those of RealScene's Web Annotation export (same
bodies, ids, motivation; the export's WKTSelector in the project CRS; a PointSelector in
the Scene's frame that maps back to the annotation to a millimetre). Progress, cancel,
Chinese text."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pygltflib
import pytest

from heritage.exchange import webanno
from heritage.exhibits import ExportCancelled, ExportError, export, iiif
from heritage.exhibits.source import source_from_project
from heritage.exhibits.voyager import from_model_frame
from heritage.project import Project

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample_site" / "delft.realscene.json"
BASE = "https://museum.example/iiif/delft/"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    source = source_from_project(SAMPLE)
    out = tmp_path_factory.mktemp("iiif") / "delft.json"
    seen = []
    result = export(source, "iiif", out, progress=lambda f, m: seen.append(f),
                    base_url=BASE, triangles=5_000, points=10_000)
    manifest = json.loads(out.read_text(encoding="utf-8"))
    return source, out, result, manifest, seen


def ids_of(node, path="$"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "id" and isinstance(value, str):
                yield path, value
            yield from ids_of(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from ids_of(value, f"{path}[{i}]")


def test_manifest_structure_follows_the_iiif_3d_draft(exported):
    source, out, result, m, _ = exported
    assert result.path == out and (out.parent / "delft.glb").is_file()
    assert m["@context"][-1] == iiif.IIIF_CONTEXT  # the IIIF context comes last
    assert m["type"] == "Manifest" and m["id"] == BASE + "delft.json"
    assert m["label"] == {"none": [source.title]}
    (scene,) = m["items"]
    assert scene["type"] == "Scene"
    (page,) = scene["items"]
    assert page["type"] == "AnnotationPage"
    (paint,) = page["items"]
    assert paint["type"] == "Annotation" and paint["motivation"] == ["painting"]
    assert paint["body"]["type"] == "Model"
    assert paint["body"]["format"] == "model/gltf-binary"
    assert paint["body"]["id"] == BASE + "delft.glb"
    assert paint["target"] == {"id": scene["id"], "type": "Scene"}
    # the model the body names is a GLB pygltflib reads, with the project's hotspots
    gltf = pygltflib.GLTF2().load(str(out.parent / unquote(paint["body"]["id"][len(BASE):])))
    names = {n.name for n in gltf.nodes}
    assert {f"hotspot_{a.id}" for a in source.annotations} <= names


def test_every_id_is_a_uri(exported):
    m = exported[3]
    ids = list(ids_of(m))
    assert len(ids) > 10
    for where, value in ids:
        parsed = urlparse(value)
        assert parsed.scheme and (parsed.netloc or parsed.scheme == "urn"), (where, value)
        assert " " not in value, (where, value)
    containers = [v for w, v in ids if "rs:" not in w and "body" not in w
                  and not v.startswith("urn:")]
    assert all(v.startswith(BASE) for v in containers), containers


def test_annotations_target_the_model_scene(exported):
    source, _, _, m, _ = exported
    scene = m["items"][0]
    (page,) = scene["annotations"]
    assert page["type"] == "AnnotationPage"
    items = page["items"]
    assert len(items) == len(source.annotations) == 5
    for rec, ann in zip(items, source.annotations, strict=True):
        target = rec["target"]
        assert target["type"] == "SpecificResource"
        assert target["source"] == {"id": scene["id"], "type": "Scene"}
        point = target["selector"][0]
        assert point["type"] == "PointSelector"
        back = from_model_frame([point["x"], point["y"], point["z"]], source.origin)
        assert np.abs(back - np.asarray(ann.anchor)).max() < 1e-3
    # the painted GLB puts its hotspot for each annotation where the PointSelector says
    gltf = pygltflib.GLTF2().load(str(exported[1].parent / "delft.glb"))
    root = next(n for n in gltf.nodes if n.name == "realscene_root")
    r = np.asarray(root.matrix, dtype=np.float64).reshape(4, 4).T
    nodes = {n.name: n for n in gltf.nodes}
    for rec, ann in zip(items, source.annotations, strict=True):
        local = nodes[f"hotspot_{ann.id}"].translation
        world = (r @ np.array([*local, 1.0]))[:3]
        sel = rec["target"]["selector"][0]
        assert np.abs(world - [sel["x"], sel["y"], sel["z"]]).max() < 1e-3


def test_w3c_annotations_equal_the_web_annotation_export(exported):
    source, _, _, m, _ = exported
    project = Project.load(SAMPLE)
    buf = io.StringIO()
    webanno.write(project, buf)
    expected = {r["id"]: r for r in json.loads(buf.getvalue())["first"]["items"]}
    items = m["items"][0]["annotations"][0]["items"]
    assert [r["id"] for r in items] == [f"urn:uuid:{a.id}" for a in source.annotations]
    for rec in items:
        want = expected[rec["id"]]
        assert {k: v for k, v in rec.items() if k != "target"} == \
            {k: v for k, v in want.items() if k != "target"}
        got_t, want_t = rec["target"], want["target"]
        assert [s for s in got_t["selector"] if s["type"] != "PointSelector"] == \
            [s for s in want_t["selector"] if s["type"] != "PointSelector"]
        assert {k: v for k, v in got_t.items() if k not in ("source", "selector")} == \
            {k: v for k, v in want_t.items() if k not in ("source", "selector")}
    # and the Web Annotation importer reads the manifest's annotations back as the project's
    page = {"type": "AnnotationPage", "items": items}
    back = webanno.parse(page).annotations
    for got, ann in zip(back, source.annotations, strict=True):
        assert got.to_dict() == ann.to_dict()


def test_progress_and_cancel(exported, tmp_path):
    seen = exported[4]
    assert seen == sorted(seen) and seen[-1] == 1.0
    source = exported[0]

    def cancel(fraction, message):
        if fraction > 0.3:
            raise ExportCancelled()

    with pytest.raises(ExportCancelled):
        export(source, "iiif", tmp_path / "m.json", progress=cancel, points=5_000)
    assert list(tmp_path.iterdir()) == []


def test_chinese_text_and_default_ids(tmp_path):
    source = source_from_project(SAMPLE)
    source.title = "代尔夫特样区"
    source.annotations[0].title = "屋脊风化"
    source.annotations[0].description = "南侧屋脊瓦片松动。"
    out = tmp_path / "清单" / "manifest"
    res = export(source, "iiif", out, triangles=2_000, points=2_000)
    assert res.path == out.with_name("manifest.json")
    text = res.path.read_text(encoding="utf-8")
    assert "屋脊风化" in text
    m = json.loads(text)
    assert m["label"] == {"zh": ["代尔夫特样区"]}
    # without a base URL the ids are file: URIs of the folder written
    assert m["id"] == (tmp_path / "清单").resolve().as_uri() + "/manifest.json"
    body = m["items"][0]["items"][0]["items"][0]["body"]
    assert Path(unquote(urlparse(body["id"]).path)).is_file()
    bodies = m["items"][0]["annotations"][0]["items"][0]["body"]
    assert {"type": "TextualBody", "purpose": "describing", "rs:field": "title",
            "format": "text/plain", "value": "屋脊风化"} in bodies


def test_bad_options(tmp_path):
    source = source_from_project(SAMPLE)
    with pytest.raises(ExportError, match="not a URL"):
        export(source, "iiif", tmp_path / "m.json", base_url="museum/delft")
    (tmp_path / "d.json").mkdir()
    with pytest.raises(ExportError, match="folder"):
        export(source, "iiif", tmp_path / "d.json")
