"""Smithsonian Voyager scene export: the document is valid against Voyager's own JSON
schemas (../shared/schemas/voyager, $refs resolved from that folder), the model comes at
two or more qualities (GLBs read back by pygltflib), annotation positions map back to the
scene positions to the millimetre, tours keep the project's stops and their cameras,
Chinese text survives, progress and cancel work."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from heritage.exhibits import ExportCancelled, ExportError, export
from heritage.exhibits import voyager as vy
from heritage.exhibits.source import source_from_project
from heritage.model import Annotation, Tour, TourStop, View

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample_site" / "delft.realscene.json"
SCHEMAS = ROOT.parent / "shared" / "schemas" / "voyager"


def voyager_validator():
    """A draft-07 validator of document.schema.json whose $refs (``./meta.schema.json``,
    ``https://schemas.3d.si.edu/voyager/...``) resolve from the schema folder only."""
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource

    if not (SCHEMAS / "document.schema.json").is_file():
        pytest.fail(f"Voyager's schemas not found in {SCHEMAS}")
    registry = Registry()
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema)
        registry = registry.with_resources([(schema["$id"], resource),
                                            (path.name, resource)])
    root = json.loads((SCHEMAS / "document.schema.json").read_text(encoding="utf-8"))
    return Draft7Validator(root, registry=registry)


def errors_of(doc):
    return sorted(voyager_validator().iter_errors(doc), key=lambda e: list(e.path))


def sample_source():
    return source_from_project(SAMPLE)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The sample site exported once (three qualities, small budgets to keep it quick)."""
    source = sample_source()
    out = tmp_path_factory.mktemp("voyager") / "delft scene"
    seen = []
    result = export(source, "voyager", out, progress=lambda f, m: seen.append((f, m)),
                    triangles=20_000, points=40_000)
    doc = json.loads((out / vy.DOCUMENT_NAME).read_text(encoding="utf-8"))
    return source, out, result, doc, seen


def test_the_scene_is_valid_against_voyagers_schemas(exported):
    _, out, result, doc, _ = exported
    assert result.path == out / vy.DOCUMENT_NAME
    errors = errors_of(doc)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    assert doc["asset"]["type"] == "application/si-dpo-3d.document+json"
    model_node = next(n for n in doc["nodes"] if "model" in n)
    assert model_node["model"] == 0 and 5 in doc["scenes"][0]["nodes"]


def test_the_validator_finds_what_voyager_refuses(exported):
    """The schema check above means something: broken documents fail it."""
    doc = exported[3]
    broken = copy.deepcopy(doc)
    del broken["models"][0]["units"]
    assert errors_of(broken)
    broken = copy.deepcopy(doc)
    broken["models"][0]["annotations"][0]["position"] = [1, 2]
    assert errors_of(broken)
    broken = copy.deepcopy(doc)
    broken["models"][0]["derivatives"][0]["quality"] = "Best"
    assert errors_of(broken)


def test_the_model_comes_at_several_qualities(exported):
    import pygltflib

    source, out, result, doc, _ = exported
    derivatives = doc["models"][0]["derivatives"]
    assert [d["quality"] for d in derivatives] == ["Low", "Medium", "High"]
    sizes = []
    for d in derivatives:
        (asset,) = d["assets"]
        path = out / asset["uri"]
        assert path.is_file() and asset["byteSize"] == path.stat().st_size
        assert asset["mimeType"] == "model/gltf-binary" and asset["type"] == "Model"
        gltf = pygltflib.GLTF2().load(str(path))
        assert gltf.meshes, asset["uri"]
        counts = {"POINTS": 0, "TRIANGLES": 0}
        for mesh in gltf.meshes:
            for prim in mesh.primitives:
                acc = gltf.accessors[prim.attributes.POSITION]
                if prim.mode == pygltflib.POINTS:
                    counts["POINTS"] += acc.count
                elif prim.indices is not None:
                    counts["TRIANGLES"] += gltf.accessors[prim.indices].count // 3
        sizes.append(counts)
    # lower qualities are lighter: fewer points (the LAZ has 208k, budgets 2.5k..40k)
    assert sizes[0]["POINTS"] < sizes[1]["POINTS"] < sizes[2]["POINTS"] <= 40_000
    assert all(s["TRIANGLES"] > 0 for s in sizes)
    # ... and fewer triangles (budget 20k of the mesh's 28,619: Low 1/16, Medium 1/4)
    assert sizes[0]["TRIANGLES"] < sizes[1]["TRIANGLES"] < sizes[2]["TRIANGLES"] <= 20_000
    assert result.counts["derivatives"] == 3


def test_a_small_site_still_gets_lighter_models_at_low_quality(tmp_path):
    """Budgets are capped by what the source has, so the lower qualities are shares of the
    real model, not of a default budget larger than the site."""
    source = sample_source()
    result = export(source, "voyager", tmp_path / "small")
    c = result.counts
    assert c["triangles_low"] < c["triangles_medium"] < c["triangles_high"]
    assert c["points_low"] < c["points_medium"] < c["points_high"]


def test_annotation_positions_map_back_to_the_scene(exported):
    source, _, _, doc, _ = exported
    annotations = doc["models"][0]["annotations"]
    assert [a["id"] for a in annotations] == [a.id for a in source.annotations]
    origin = doc["metas"][0]["process"]["georeference"]["origin"]
    assert doc["metas"][0]["process"]["georeference"]["crs"] == "EPSG:28992"
    for rec, ann in zip(annotations, source.annotations, strict=True):
        back = vy.from_model_frame(rec["position"], origin)
        assert np.abs(back - np.asarray(ann.anchor)).max() < 1e-3, ann.title
        assert rec["title"] == ann.title
        assert abs(np.linalg.norm(rec["direction"]) - 1.0) < 1e-9
        assert rec["color"] == [round(c / 255, 4) for c in
                                source.vocabulary.category_color(ann.category)]
    # Y is up: the roof-ridge pin lies higher (model y) than the quay-wall crack
    ridge = next(a for a in annotations if a["title"] == "Weathered roof ridge")
    quay = next(a for a in annotations if a["title"] == "Crack along the quay wall")
    assert ridge["position"][1] > quay["position"][1]
    assert ridge["style"] == "Balloon" and ridge["marker"] == "1"
    assert ridge["lead"] == "Ridge tiles loose and eroded on the south side."


def test_annotation_positions_are_in_the_glb_frame(exported):
    """A hotspot node of the GLB (what Voyager shows) lies where the annotation is."""
    import pygltflib

    source, out, _, doc, _ = exported
    high = out / doc["models"][0]["derivatives"][-1]["assets"][0]["uri"]
    gltf = pygltflib.GLTF2().load(str(high))

    def world(index, parent):
        node = gltf.nodes[index]
        m = np.eye(4)
        if node.matrix:
            m = np.asarray(node.matrix, dtype=np.float64).reshape(4, 4).T
        else:
            t = np.eye(4)
            t[:3, 3] = node.translation or [0, 0, 0]
            x, y, z, w = node.rotation or [0, 0, 0, 1]
            r = np.eye(4)
            r[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                         [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                         [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
            s = np.diag([*(node.scale or [1, 1, 1]), 1.0])
            m = t @ r @ s
        m = parent @ m
        yield index, m
        for child in node.children or []:
            yield from world(child, m)

    positions = {}
    for root in gltf.scenes[gltf.scene or 0].nodes:
        for index, m in world(root, np.eye(4)):
            positions[gltf.nodes[index].name] = m[:3, 3]
    for rec, ann in zip(doc["models"][0]["annotations"], source.annotations, strict=True):
        hits = [p for name, p in positions.items() if name == f"hotspot_{ann.id}"]
        assert hits, f"no hotspot node for {ann.title!r}"
        assert min(np.abs(p - rec["position"]).max() for p in hits) < 1e-3


def test_tours_keep_the_projects_stops_and_cameras(exported):
    source, _, _, doc, _ = exported
    setup = doc["setups"][0]
    (tour,) = setup["tours"]
    (project_tour,) = source.tours
    assert tour["title"] == project_tour.name == "Condition walk"
    assert len(tour["steps"]) == len(project_tour.stops) == 4
    states = {s["id"]: s for s in setup["snapshots"]["states"]}
    assert setup["snapshots"]["targets"] == ["scenes/0/setup/navigation/orbit",
                                            "scenes/0/setup/navigation/offset"]
    origin = doc["metas"][0]["process"]["georeference"]["origin"]
    expected = vy.stop_cameras(source, project_tour)
    for step, stop, (_, camera, title) in zip(tour["steps"], project_tour.stops, expected,
                                              strict=True):
        state = states[step["id"]]
        assert state["duration"] == stop.duration
        orbit, offset = state["values"]
        pos, focal, _ = vy.orbit_to_camera(orbit, offset)
        assert np.abs(vy.from_model_frame(pos, origin) - camera["position"]).max() < 1e-3
        # the camera looks towards the stop's focal point
        want = np.subtract(camera["focal_point"], camera["position"])
        got = vy.from_model_frame(focal, origin) - vy.from_model_frame(pos, origin)
        cos = np.dot(want, got) / np.linalg.norm(want) / np.linalg.norm(got)
        assert cos > 1 - 1e-9
        assert step.get("title", "") == title
    # stop 3 (the quay-wall crack at the edge of the site) has the model centre behind the
    # camera: Voyager's minimum offset is lifted so the view is shown as saved
    assert any(states[s["id"]]["values"][1][2] < 0 for s in tour["steps"])
    assert setup["navigation"]["orbit"]["minOffset"] == [None, None, None]
    # the first stop is a saved view ("Overview"), the second an annotation with its view
    assert tour["steps"][0]["title"] == "Overview"
    ann = source.annotation(project_tour.stops[1].annotation_id)
    assert tour["steps"][1]["title"] == ann.title
    assert setup["navigation"]["orbit"]["orbit"] == states[tour["steps"][0]["id"]]["values"][0]


def test_progress_goes_forward_to_the_end(exported):
    seen = exported[4]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) > 5
    assert any("High" in m for _, m in seen)


def test_chinese_text_survives(tmp_path):
    source = sample_source()
    ann = source.annotations[0]
    ann.title = "屋脊风化"
    ann.description = "南侧屋脊瓦片松动、风化。建议明年修复！另见照片。"
    source.tours[0].name = "病害巡查路线"
    source.views[0].name = "全景"
    source.title = "代尔夫特样区"
    export(source, "voyager", tmp_path / "场景", triangles=5_000, points=5_000,
           qualities=("Low", "High"))
    text = (tmp_path / "场景" / vy.DOCUMENT_NAME).read_text(encoding="utf-8")
    assert "屋脊风化" in text  # written as UTF-8, not \\u escapes
    doc = json.loads(text)
    assert not errors_of(doc)
    rec = doc["models"][0]["annotations"][0]
    assert rec["title"] == "屋脊风化"
    assert rec["lead"] == "南侧屋脊瓦片松动、风化。"
    assert doc["setups"][0]["tours"][0]["title"] == "病害巡查路线"
    assert doc["setups"][0]["tours"][0]["steps"][0]["title"] == "全景"
    assert doc["metas"][0]["collection"]["title"] == "代尔夫特样区"
    article = tmp_path / "场景" / doc["metas"][0]["articles"][0]["uri"]
    assert "建议明年修复！另见照片。" in article.read_text(encoding="utf-8")
    # the model file names stay ASCII (any server, any zip tool)
    for d in doc["models"][0]["derivatives"]:
        assert d["assets"][0]["uri"].isascii()


def test_cancel_leaves_nothing_behind(tmp_path):
    source = sample_source()
    calls = []

    def cancel_later(fraction, message):
        calls.append(fraction)
        if len(calls) == 3:
            raise ExportCancelled()

    with pytest.raises(ExportCancelled):
        export(source, "voyager", tmp_path / "scene", progress=cancel_later,
               triangles=5_000, points=5_000)
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_folder_of_other_files_and_bad_qualities(tmp_path):
    source = sample_source()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_bytes(b"x")
    with pytest.raises(ExportError, match="other files"):
        export(source, "voyager", tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.docx").read_bytes() == b"x"
    with pytest.raises(ExportError, match="two or more"):
        export(source, "voyager", tmp_path / "x", qualities=("High",))
    with pytest.raises(ExportError, match="two or more"):
        export(source, "voyager", tmp_path / "x", qualities=("Low", "Ultra"))


def test_an_earlier_export_is_replaced(tmp_path):
    source = sample_source()
    out = tmp_path / "scene"
    export(source, "voyager", out, triangles=2_000, points=2_000, qualities=("Low", "High"))
    source.annotations = source.annotations[:1]
    export(source, "voyager", out, triangles=2_000, points=2_000, qualities=("Low", "High"))
    doc = json.loads((out / vy.DOCUMENT_NAME).read_text(encoding="utf-8"))
    assert len(doc["models"][0]["annotations"]) == 1
    assert not [p for p in tmp_path.iterdir() if p.name != "scene"]


def test_lead_is_the_first_sentence():
    assert vy.lead_of("Loose tiles. Repair in 2027.") == "Loose tiles."
    assert vy.lead_of("Is it loose? Yes.") == "Is it loose?"
    assert vy.lead_of("瓦片松动。明年修复。") == "瓦片松动。"
    assert vy.lead_of("v1.2 of the survey") == "v1.2 of the survey"
    assert vy.lead_of("first line\nsecond line") == "first line"
    assert vy.lead_of("") == ""


@pytest.mark.parametrize("up", [(0, 1, 0), (0.3, 0.9, 0.1)])
def test_orbit_camera_round_trip(up):
    rng = np.random.default_rng(16)
    for _ in range(50):
        pos = rng.uniform(-500, 500, 3)
        focal = rng.uniform(-50, 50, 3)
        orbit, offset = vy.camera_to_orbit(pos, focal, up)
        p, f, u = vy.orbit_to_camera(orbit, offset)
        assert np.abs(p - pos).max() < 1e-6
        d = (focal - pos) / np.linalg.norm(focal - pos)
        assert np.dot((f - p) / np.linalg.norm(f - p), d) > 1 - 1e-9
        # the view-up is kept (projected onto the image plane)
        want = np.asarray(up, float) - np.dot(up, d) * d
        assert np.dot(u, want / np.linalg.norm(want)) > 1 - 1e-9
    # looking straight down with north up: no roll
    orbit, _ = vy.camera_to_orbit([0, 100, 0], [0, 0, 0], [0, 0, -1])
    assert math.isclose(orbit[0], -90) and abs(orbit[2]) < 1e-9


def test_stops_without_a_view_follow_the_previous_stop():
    a = Annotation("point", [[10.0, 20.0, 5.0]], title="pin")
    b = Annotation("point", [[30.0, 20.0, 5.0]], title="no view")
    v = View("start", {"position": [0.0, -100.0, 50.0], "focal_point": [0.0, 0.0, 0.0],
                       "view_up": [0, 0, 1]})
    from heritage.exhibits.source import ExhibitSource

    source = ExhibitSource(annotations=[a, b], views=[v], tours=[Tour("t", [
        TourStop(view_id=v.id), TourStop(annotation_id=b.id), TourStop(view_id="gone")])])
    cams = vy.stop_cameras(source, source.tours[0])
    assert [t for _, _, t in cams] == ["start", "no view"]
    assert cams[1][1]["position"] == [30.0, -80.0, 55.0]


def test_photos_are_reencoded_and_outside_files_refused(tmp_path):
    from PIL import Image

    source = sample_source()
    project = tmp_path / "project"
    (project / "photos").mkdir(parents=True)
    Image.new("RGB", (64, 48), (200, 30, 30)).save(project / "photos" / "ridge.jpg",
                                                   exif=b"Exif\x00\x00secret")
    (tmp_path / "secret.jpg").write_bytes((project / "photos" / "ridge.jpg").read_bytes())
    source.project_dir = project
    source.annotations[0].media = ["photos/ridge.jpg"]
    source.annotations[1].media = ["../secret.jpg"]
    res = export(source, "voyager", tmp_path / "scene", triangles=2_000, points=2_000,
                 qualities=("Low", "High"))
    doc = json.loads(res.path.read_text(encoding="utf-8"))
    first, second = doc["models"][0]["annotations"][:2]
    assert first["imageUri"] == "images/annotation-1.jpg"
    data = (tmp_path / "scene" / first["imageUri"]).read_bytes()
    assert b"secret" not in data
    with Image.open(tmp_path / "scene" / first["imageUri"]) as im:
        assert im.size == (64, 48)
    assert "imageUri" not in second
    assert any("secret.jpg" in w for w in res.warnings)
    assert sorted(p.name for p in (tmp_path / "scene" / "images").iterdir()) == \
        ["annotation-1.jpg"]


def test_stored_camera_stops_and_captions_become_steps(tmp_path):
    """A stop made by "Add current view" (a stored camera, no view, no annotation) is a
    step at that camera; a step's title is the stop's caption (Voyager's steps have no
    other text), else the stop's title or the view's / annotation's name."""
    source = sample_source()
    tour = source.tours[0]
    ann = source.annotation(tour.stops[1].annotation_id)
    focal = [float(v) for v in ann.anchor]
    stored = {"position": [focal[0] - 12.0, focal[1] - 30.0, focal[2] + 9.0],
              "focal_point": focal, "view_up": [0.0, 0.0, 1.0], "parallel": False}
    caption = "南侧屋脊：瓦片松动，注意排水沟。"
    tour.stops.insert(1, TourStop(camera=stored, caption=caption, duration=3.0))
    tour.stops.insert(2, TourStop(camera=stored, title="屋脊近景"))
    tour.stops[0].caption = "从西南方向俯瞰整个样区"  # a view stop with a caption
    res = export(source, "voyager", tmp_path / "scene", triangles=2_000, points=2_000,
                 qualities=("Low", "High"))
    doc = json.loads(res.path.read_text(encoding="utf-8"))
    assert not errors_of(doc)
    assert not any("left out" in w for w in res.warnings), res.warnings
    setup = doc["setups"][0]
    steps = setup["tours"][0]["steps"]
    assert len(steps) == len(tour.stops) == 6
    assert [s.get("title") for s in steps[:4]] == [
        "从西南方向俯瞰整个样区", caption, "屋脊近景", ann.title]
    assert caption in res.path.read_text(encoding="utf-8")  # UTF-8 as written
    # the stored-camera step is a snapshot of that camera
    states = {s["id"]: s for s in setup["snapshots"]["states"]}
    state = states[steps[1]["id"]]
    assert state["duration"] == 3.0
    origin = doc["metas"][0]["process"]["georeference"]["origin"]
    pos, focal_m, up = vy.orbit_to_camera(*state["values"])
    np.testing.assert_allclose(vy.from_model_frame(pos, origin), stored["position"],
                               atol=1e-3)
    want = np.subtract(stored["focal_point"], stored["position"])
    got = vy.from_model_frame(focal_m, origin) - vy.from_model_frame(pos, origin)
    assert np.dot(want, got) / np.linalg.norm(want) / np.linalg.norm(got) > 1 - 1e-9
