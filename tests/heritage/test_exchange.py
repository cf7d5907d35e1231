"""Annotation exchange: Web Annotation JSON-LD, GeoJSON and CSV round trips, structure,
bad input, and the ``realscene annotations`` command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from heritage import exchange
from heritage.exchange import ExchangeError
from heritage.model import Annotation, Measurement
from heritage.project import Project
from loaders.crs import same_crs
from viewer.cli import main

CAM = {"position": [2680100.5, 1250050.25, 480.0], "focal_point": [2680123.123456789,
       1250000.987654321, 410.0], "view_up": [0.0, 0.0, 1.0], "parallel": False}
FORMATS = ("webanno", "geojson", "csv")


def make_project(tmp_path: Path, crs: str = "EPSG:2056") -> Project:
    p = Project(path=tmp_path / "abbey.rsproj.json", title="Abbey of St. Gallen — nave",
                crs=crs)
    p.vocabulary.add_category("salt efflorescence", "Salt efflorescence", (250, 250, 240))
    x, y = 2680123.123456789, 1250000.987654321
    p.annotations += [
        Annotation("point", [[x, y, 412.3456789012345]], title="Riss über dem Portal",
                   description="Hairline crack\nbelow the cornice;\r\nsee photo «A»\n",
                   category="crack", condition="poor", observed="2026-05-14",
                   author="Zoë Ørsted", tags=["north wall", "a;b", "back\\slash", ""],
                   media=["photos/crack 1.jpg", "photos/detail%20raw.png"],
                   link={"layer": "nave scan", "feature_id": "CH.BUILDING.0001#façade"},
                   view=CAM, created="2026-05-14T09:00:00+00:00",
                   modified="2026-05-15T10:30:00+00:00"),
        Annotation("polyline", [[x, y, 410.0], [x + 0.000000001, y - 1e-7, 410.125],
                                [x + 3.3333333333, y + 2.2222222222, 409.999999999]],
                   title="Crack path", category="crack", condition="fair",
                   observed=None, author="", tags=[], media=[], color=(12, 200, 7)),
        Annotation("polygon", [[x, y, 400.0], [x + 2.5, y, 400.0], [x + 2.5, y + 1.75, 401.5],
                               [x, y + 1.75, 401.5]],
                   title="Salt bloom", description="", category="salt_efflorescence",
                   condition=None, observed="2025-12-01", author="Team B", visible=False,
                   id="not-a-uuid/ä 7"),
        Annotation("box", [[x + 10.1, y + 20.2, 395.5], [x - 0.5, y + 1.5, 420.875]],
                   title="Choir stalls", description="Whole-volume survey region",
                   category="decoration", condition="good", observed="2026-01-31",
                   author="A. Curator", tags=["季節"], link={"layer": "choir"},
                   view=dict(CAM, parallel=True)),
    ]
    p.measurements += [
        Measurement("distance", [[x, y, 400.0], [x + 3.0, y + 4.0, 400.0]], label="span"),
        Measurement("area", [[x, y, 0.0], [x + 2.0, y, 0.0], [x + 2.0, y + 2.0, 0.0]]),
    ]
    return p


def dicts(anns):
    return [a.to_dict() for a in anns]


# ---------------------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_round_trip_loses_nothing(tmp_path, fmt):
    p = make_project(tmp_path)
    out = exchange.export(p, fmt, tmp_path / f"out.{fmt}")
    r = exchange.read_file(out)
    anns, crs = r.annotations, r.crs
    assert dicts(anns) == dicts(p.annotations)
    assert crs == "EPSG:2056"
    assert anns[0].points[0][0] == 2680123.123456789  # exact double


def test_in_memory_round_trips(tmp_path):
    p = make_project(tmp_path)
    for fmt in ("webanno", "geojson"):
        r = getattr(exchange, fmt).parse(json.loads(exchange.export_text(p, fmt)))
        assert dicts(r.annotations) == dicts(p.annotations) and r.crs == "EPSG:2056"
    r = exchange.csv.parse(exchange.export_text(p, "csv"))
    assert dicts(r.annotations) == dicts(p.annotations) and r.crs == "EPSG:2056"


@pytest.mark.parametrize("fmt", FORMATS)
def test_wkt_crs_round_trips(tmp_path, fmt):
    import pyproj

    wkt = pyproj.CRS("EPSG:2056").to_wkt()
    p = make_project(tmp_path, crs=wkt)
    out = exchange.export(p, fmt, tmp_path / "out")
    r = exchange.read_file(out)
    anns, crs = r.annotations, r.crs
    assert dicts(anns) == dicts(p.annotations) and crs == wkt


def test_project_file_is_importable(tmp_path):
    p = make_project(tmp_path)
    p.save()
    r = exchange.read_file(p.path)
    anns, crs = r.annotations, r.crs
    assert dicts(anns) == dicts(p.annotations) and crs == p.crs


def test_wkt_full_precision_and_shapes(tmp_path):
    p = make_project(tmp_path)
    wkts = [exchange.to_wkt(a) for a in p.annotations]
    assert wkts[0] == "POINT Z (2680123.123456789 1250000.987654321 412.3456789012345)"
    assert wkts[1].startswith("LINESTRING Z (")
    assert wkts[2].startswith("POLYGON Z ((2680123.123456789 1250000.987654321 400.0,")
    assert wkts[2].endswith("2680123.123456789 1250000.987654321 400.0))")  # closed ring
    assert wkts[3].startswith("POLYHEDRALSURFACE Z (((") and wkts[3].count("((") == 6
    for a, w in zip(p.annotations, wkts, strict=True):
        kind, pts = exchange.parse_wkt(w)
        assert (kind, pts) == (a.kind, a.points)


# ---------------------------------------------------------------------------------------
# structure
# ---------------------------------------------------------------------------------------


def test_webanno_shape(tmp_path):
    p = make_project(tmp_path)
    doc = json.loads(exchange.export_text(p, "webanno"))
    assert doc["@context"][0] == "http://www.w3.org/ns/anno.jsonld"
    local = doc["@context"][1]
    assert local["crm"] == "http://www.cidoc-crm.org/cidoc-crm/" and "rs" in local
    assert doc["type"] == "AnnotationCollection" and doc["total"] == 4
    page = doc["first"]
    assert page["type"] == "AnnotationPage"
    items = page["items"]
    assert [i["type"] for i in items] == ["Annotation"] * 4
    assert items[0]["id"] == f"urn:uuid:{p.annotations[0].id}"
    assert items[2]["id"].startswith("urn:realscene:annotation:")
    assert [i["motivation"] for i in items] == ["assessing", "assessing", "describing",
                                                "assessing"]
    assert items[0]["creator"] == {"type": "Person", "name": "Zoë Ørsted"}
    for item in items:
        assert {"created", "modified", "body", "target"} <= set(item)
        sel = item["target"]["selector"]
        types = [s["type"] for s in sel]
        assert types[-1] == "WKTSelector"
        assert sel[-1]["crs"] == "http://www.opengis.net/def/crs/EPSG/0/2056"
    pin = items[0]["target"]["selector"][0]
    assert pin["type"] == "PointSelector"
    assert (pin["x"], pin["y"], pin["z"]) == tuple(p.annotations[0].points[0])
    assert items[3]["target"]["selector"][-1]["rs:kind"] == "box"
    assert items[1]["target"]["rs:points"] == p.annotations[1].points
    bodies = items[0]["body"]
    assert {"TextualBody", "SpecificResource", "Image",
            "crm:E14_Condition_Assessment"} <= {b["type"] for b in bodies}
    cat = next(b for b in bodies if b["type"] == "SpecificResource")
    assert cat["purpose"] == "classifying" and cat["source"]["label"] == "Crack"
    tags = [b["value"] for b in bodies if b.get("purpose") == "tagging"]
    assert tags == ["north wall", "a;b", "back\\slash", ""]
    images = [b for b in bodies if b["type"] == "Image"]
    assert images[0]["id"] == "photos/crack%201.jpg" and images[0]["format"] == "image/jpeg"
    e14 = next(b for b in bodies if b["type"] == "crm:E14_Condition_Assessment")
    state = e14["crm:P35_has_identified"]
    assert state["type"] == "crm:E3_Condition_State"
    assert state["crm:P2_has_type"]["label"] == "Poor"
    assert e14["crm:P4_has_time-span"]["crm:P82_at_some_time_within"] == "2026-05-14"
    assert e14["crm:P14_carried_out_by"]["label"] == "Zoë Ørsted"
    assert items[0]["target"]["rs:link"]["feature_id"] == "CH.BUILDING.0001#façade"
    assert items[0]["target"]["rs:view"] == CAM
    salt = next(b for b in items[2]["body"] if b["type"] == "SpecificResource")
    assert salt["source"]["label"] == "Salt efflorescence"


def test_geojson_structure(tmp_path):
    p = make_project(tmp_path)
    doc = json.loads(exchange.export_text(p, "geojson"))
    assert doc["type"] == "FeatureCollection"
    assert doc["crs"] == {"type": "name",
                          "properties": {"name": "urn:ogc:def:crs:EPSG::2056"}}
    feats = doc["features"]
    assert all(f["type"] == "Feature" and isinstance(f["properties"], dict) for f in feats)
    geoms = [f["geometry"]["type"] for f in feats]
    assert geoms == ["Point", "LineString", "Polygon", "Polygon", "LineString", "Polygon"]

    def positions(g):
        c = g["coordinates"]
        if g["type"] == "Point":
            return [c]
        return c if g["type"] == "LineString" else [q for ring in c for q in ring]

    for f in feats:
        assert all(len(pos) == 3 and all(isinstance(v, float) for v in pos)
                   for pos in positions(f["geometry"]))
        if f["geometry"]["type"] == "Polygon":
            ring = f["geometry"]["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) >= 4
    box = feats[3]
    assert box["properties"]["kind"] == "box"
    assert box["properties"]["zmin"] == 395.5 and box["properties"]["zmax"] == 420.875
    assert len(box["geometry"]["coordinates"][0]) == 5
    pin = feats[0]["properties"]
    assert pin["title"] == "Riss über dem Portal" and pin["category_label"] == "Crack"
    assert pin["tags"] == ["north wall", "a;b", "back\\slash", ""]
    assert pin["view"] == CAM and pin["observed"] == "2026-05-14"
    m = feats[4]["properties"]
    assert m["kind"] == "measurement" and m["measurement_kind"] == "distance"
    assert m["value"] == 5.0 and m["units"] == "m" and m["label"] == "span"
    assert feats[5]["properties"]["units"] == "m2"
    assert feats[5]["properties"]["value"] == pytest.approx(2.0)


def test_geojson_measurements_round_trip(tmp_path):
    p = make_project(tmp_path)
    out = exchange.export(p, "geojson", tmp_path / "a.geojson")
    r = exchange.read_file(out)
    assert [m.to_dict() for m in r.measurements] == [m.to_dict() for m in p.measurements]
    assert r.categories["salt_efflorescence"][0] == "Salt efflorescence"


def test_csv_columns(tmp_path):
    p = make_project(tmp_path)
    rows = list(csv.DictReader(io.StringIO(exchange.export_text(p, "csv"), newline="")))
    assert len(rows) == 4
    assert list(rows[0]) == list(exchange.CSV_COLUMNS)
    r = rows[0]
    assert r["tags"] == "north wall;a\\;b;back\\\\slash;\\e"
    assert r["media"] == "photos/crack 1.jpg;photos/detail%20raw.png"
    assert r["wkt"].startswith("POINT Z (2680123.123456789 ")
    assert json.loads(r["view"]) == CAM and json.loads(r["link"])["layer"] == "nave scan"
    assert r["crs"] == "EPSG:2056" and r["category_label"] == "Crack"
    assert rows[1]["color"] == "#0cc807" and rows[2]["visible"] == "false"
    m = list(csv.DictReader(io.StringIO(exchange.measurements_to_csv(p))))
    assert m[0]["kind"] == "distance" and float(m[0]["value"]) == 5.0


def test_geojson_without_crs_and_hand_made_webanno():
    r = exchange.geojson.parse({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2, 3]},
         "properties": {"title": "pin"}}]})
    anns, crs = r.annotations, r.crs
    assert crs is None and anns[0].kind == "point" and anns[0].points == [[1.0, 2.0, 3.0]]
    r = exchange.webanno.parse({
        "@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
        "id": "urn:uuid:0b7c6d8e-7f9a-4c1e-9d3b-2a1f0e4d5c6b",
        "body": {"type": "TextualBody", "value": "spalling"},
        "target": {"source": "scan", "selector": {
            "type": "WKTSelector", "value": "LINESTRING Z (0 0 0, 1 1 1)",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/28992"}}})
    anns, crs = r.annotations, r.crs
    assert crs == "EPSG:28992" and anns[0].description == "spalling"
    assert anns[0].id == "0b7c6d8e-7f9a-4c1e-9d3b-2a1f0e4d5c6b" and anns[0].kind == "polyline"


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------

GOOD_FEATURE = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2, 3]},
                "properties": {}}


@pytest.mark.parametrize("name, content, reason", [
    ("empty.json", "", "empty"),
    ("torn.json", '{"type": "FeatureCollection", "feat', "not valid JSON"),
    ("other.json", '{"hello": 1}', "neither Web Annotation"),
    ("flat.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
         "properties": {}}]}), "3 numbers"),
    ("kind.geojson", json.dumps({"type": "FeatureCollection", "features": [
        dict(GOOD_FEATURE, properties={"kind": "blob"})]}), "unknown annotation kind"),
    ("title.geojson", json.dumps({"type": "FeatureCollection", "features": [
        dict(GOOD_FEATURE, properties={"title": 5})]}), "title"),
    ("crs.geojson", json.dumps({"type": "FeatureCollection", "crs": "EPSG:2056",
                                "features": [GOOD_FEATURE]}), "crs member"),
    ("nosel.jsonld", json.dumps({"@context": "http://www.w3.org/ns/anno.jsonld",
                                 "type": "Annotation", "target": {"source": "x"}}),
     "no WKTSelector"),
    ("badwkt.jsonld", json.dumps({"type": "Annotation", "target": {"selector": {
        "type": "WKTSelector", "value": "POINT Z (1 2 x)"}}}), "not a number"),
    ("twod.jsonld", json.dumps({"type": "Annotation", "target": {"selector": {
        "type": "WKTSelector", "value": "POINT (1 2)"}}}), "3D \\(Z\\)"),
    ("nowkt.csv", "id,kind,title\n1,point,x\n", "lacks the column"),
    ("badrow.csv", "id,kind,wkt\n1,point,POINT Z (1 2)\n", "line 2"),
    ("date.csv", "id,kind,wkt,observed\n1,point,POINT Z (1 2 3),yesterday\n", "isoformat"),
    ("notes.txt", "just some notes\n", "unknown annotation format"),
])
def test_bad_files_give_clear_errors(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExchangeError, match=reason) as info:
        exchange.read_file(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(str(path))


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ValueError, match="file not found"):
        exchange.read_file(tmp_path / "nope.json")
    blob = tmp_path / "scan.laz"
    blob.write_bytes(b"LASF\xff\xfe\x00\x81" * 10)
    with pytest.raises(ExchangeError, match="not a text file"):
        exchange.read_file(blob)


def test_merge_refuses_other_crs(tmp_path):
    p = make_project(tmp_path)
    other = make_project(tmp_path, crs="EPSG:28992")
    result = exchange.read_file(exchange.export(other, "geojson", tmp_path / "o.geojson"))
    with pytest.raises(ExchangeError, match="EPSG:28992.*EPSG:2056"):
        exchange.merge_into(p, result, "o.geojson")
    assert same_crs("EPSG:2056", exchange.crs_from_text(
        "http://www.opengis.net/def/crs/EPSG/0/2056"))
    assert not same_crs("EPSG:2056", "EPSG:28992")


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_export_and_import(tmp_path, capsys, fmt):
    p = make_project(tmp_path)
    p.save()
    out = tmp_path / "exports" / f"annotations.{fmt}"
    code, stdout, err = _run(capsys, "annotations", p.path, "--export", fmt, "-o", out)
    assert code == 0, err
    assert out.is_file() and stdout.strip() == str(out)

    target = make_project(tmp_path / "other")  # shares no ids with p
    keep = target.annotations[0]
    target.annotations = [keep, Annotation.from_dict(dict(p.annotations[1].to_dict(),
                                                          title="old title"))]
    target.save()
    new = tmp_path / "merged" / "site.rsproj.json"
    code, stdout, err = _run(capsys, "annotations", target.path, "--import", out, "-o", new)
    assert code == 0, err
    assert "3 added, 1 replaced" in err
    merged = Project.load(new)
    # same id: the imported record replaces the old one in place; the others are appended
    order = [p.annotations[i] for i in (1, 0, 2, 3)]
    assert [a.id for a in merged.annotations] == [keep.id] + [a.id for a in order]
    assert dicts(merged.annotations[1:]) == dicts(order)
    assert "salt_efflorescence" in merged.vocabulary.categories
    assert Project.load(target.path).annotations[1].title == "old title"  # source untouched


def test_cli_report(tmp_path, capsys):
    p = make_project(tmp_path)
    p.save()
    code, stdout, err = _run(capsys, "annotations", p.path, "--export", "report",
                             "-o", tmp_path / "report.html")
    assert code == 0, err
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Riss über dem Portal" in text and "No rendered view" in text


@pytest.mark.parametrize("argv, mention", [
    (["--export", "kml", "-o", "x.kml"], "invalid choice"),
    (["--export", "csv"], "-o"),
    (["--export", "csv", "--import", "a.csv", "-o", "x"], "not allowed"),
    (["--import", "{missing}", "-o", "new.json"], "file not found"),
    (["--import", "{bad}", "-o", "new.json"], "not valid JSON"),
    (["--import", "{other_crs}", "-o", "new.json"], "EPSG:28992"),
])
def test_cli_bad_input_is_one_line(tmp_path, capsys, argv, mention):
    p = make_project(tmp_path)
    p.save()
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    other = exchange.export(make_project(tmp_path / "o", crs="EPSG:28992"), "csv",
                            tmp_path / "other.csv")
    names = {"missing": tmp_path / "missing.csv", "bad": bad, "other_crs": other}
    argv = [a.format(**names) for a in argv]
    code, out, err = _run(capsys, "annotations", p.path, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("realscene: error: ")
    assert mention in lines[0]
    assert not (tmp_path / "new.json").exists()


def test_cli_missing_project(tmp_path, capsys):
    code, out, err = _run(capsys, "annotations", tmp_path / "none.json", "--export", "csv",
                          "-o", tmp_path / "x.csv")
    assert code == 2 and "project file not found" in err and len(err.splitlines()) == 1
