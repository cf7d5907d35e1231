"""Chinese text and Chinese file names through projects, CSV, GeoJSON and Web Annotation:
no character lost. CSVs as Chinese offices save them (UTF-8 with or without a BOM,
GB18030/GBK) are read; text in an encoding that cannot be told for sure is refused."""

from __future__ import annotations

import json

import pytest

from heritage import exchange
from heritage.exchange import ExchangeError
from heritage.model import Annotation
from heritage.project import Project
from viewer.cli import main

TITLE = "屋脊风化 — 明代砖雕"
AUTHOR = "李明（文物保护中心）"
DESCRIPTION = "东侧正脊砖雕表面粉化，局部剥落；\n建议：“先加固，后清洗”。"


def chinese_project(tmp_path) -> Project:
    p = Project(path=tmp_path / "故宫项目" / "太和殿.realscene.json", title="太和殿勘察",
                crs="EPSG:4547")
    p.vocabulary.add_category("瓦面松动", "瓦面松动", (90, 90, 200))
    p.annotations += [
        Annotation("point", [[500123.4567, 4412345.6789, 35.125]], title=TITLE,
                   author=AUTHOR, description=DESCRIPTION, category="erosion",
                   condition="poor", observed="2026-04-02", tags=["正脊", "砖雕；彩画"],
                   media=["照片/正脊 01.jpg"], link={"layer": "太和殿扫描", "feature_id": "脊-1"},
                   created="2026-04-02T01:02:03+00:00", modified="2026-04-03T01:02:03+00:00"),
        Annotation("polygon", [[0.5, 0.25, 1.0], [2.0, 0.0, 1.0], [2.0, 3.0, 1.5]],
                   title="琉璃瓦松动", description="西北角", category="瓦面松动",
                   condition="critical", author="王芳"),
    ]
    return p


def _dicts(anns):
    return [a.to_dict() for a in anns]


def test_project_under_chinese_folder_and_name_reopens_unchanged(tmp_path):
    p = chinese_project(tmp_path)
    p.save()
    raw = p.path.read_text(encoding="utf-8")
    assert TITLE in raw and AUTHOR in raw  # readable, not \\u escapes
    again = Project.load(tmp_path / "故宫项目" / "太和殿.realscene.json")
    assert again.title == "太和殿勘察"
    assert _dicts(again.annotations) == _dicts(p.annotations)
    assert again.vocabulary.to_dict() == p.vocabulary.to_dict()
    moved = again.save(tmp_path / "备份" / "太和殿（副本）.realscene.json")
    assert _dicts(Project.load(moved).annotations) == _dicts(p.annotations)


@pytest.mark.parametrize("fmt, name", [("csv", "标注.csv"), ("geojson", "标注.geojson"),
                                       ("webanno", "标注.jsonld")])
def test_exchange_round_trip_to_chinese_file_names(tmp_path, fmt, name):
    p = chinese_project(tmp_path)
    out = exchange.export(p, fmt, tmp_path / "导出" / name)
    r = exchange.read_file(out)
    assert _dicts(r.annotations) == _dicts(p.annotations)
    assert r.annotations[0].title == TITLE and r.annotations[0].author == AUTHOR
    assert r.categories.get("瓦面松动", ("瓦面松动",))[0] == "瓦面松动"
    fresh = Project(crs="EPSG:4547")
    exchange.merge_into(fresh, r, out)
    assert fresh.vocabulary.category_label("瓦面松动", "zh") == "瓦面松动"
    assert fresh.vocabulary.category_label("erosion", "zh") == "风化侵蚀"


def test_csv_file_has_a_bom_for_excel_and_reads_without_one(tmp_path):
    p = chinese_project(tmp_path)
    out = exchange.export(p, "csv", tmp_path / "标注.csv")
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,kind,title")
    bare = tmp_path / "无BOM.csv"
    bare.write_bytes(data[3:])
    assert _dicts(exchange.read_file(bare).annotations) == _dicts(p.annotations)
    # export_text is the text itself (no BOM)
    assert exchange.export_text(p, "csv").startswith("id,kind,title")


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_csv_saved_as_gbk_by_a_chinese_office_is_read(tmp_path, encoding):
    p = chinese_project(tmp_path)
    text = exchange.export_text(p, "csv")
    legacy = tmp_path / f"办公室导出_{encoding}.csv"
    legacy.write_bytes(text.encode(encoding))
    r = exchange.read_file(legacy)
    assert _dicts(r.annotations) == _dicts(p.annotations)


@pytest.mark.parametrize("encoding, text", [
    ("latin-1", "Größe der Fläche"),  # would read as "Gr鲞e der Fl鋍he"
    ("latin-1", "für uns"),
    ("big5", "屋脊風化 明代磚雕"),  # Traditional Chinese in Big5
    ("shift_jis", "屋根の風化"),
])
def test_csv_in_an_encoding_that_cannot_be_told_is_refused(tmp_path, encoding, text):
    bad = tmp_path / "未知编码.csv"
    bad.write_bytes(f"kind,title,wkt\r\npoint,{text},POINT Z (1 2 3)\r\n".encode(encoding))
    with pytest.raises(ExchangeError) as err:
        exchange.read_file(bad)
    assert str(bad) in str(err.value)
    assert "neither UTF-8 nor clearly GB18030/GBK" in str(err.value)
    assert "save it as UTF-8" in str(err.value)


def test_json_that_is_not_utf8_is_refused_with_the_reason(tmp_path):
    bad = tmp_path / "标注.geojson"
    bad.write_bytes(json.dumps({"type": "FeatureCollection", "features": [],
                                "name": "太和殿"}, ensure_ascii=False).encode("gbk"))
    with pytest.raises(ExchangeError, match="JSON that is not UTF-8"):
        exchange.read_file(bad)


def test_utf16_csv_with_bom_is_read(tmp_path):
    p = chinese_project(tmp_path)
    f = tmp_path / "utf16.csv"
    f.write_bytes(exchange.export_text(p, "csv").encode("utf-16"))
    assert _dicts(exchange.read_file(f).annotations) == _dicts(p.annotations)


def test_cli_exports_and_imports_with_chinese_names(tmp_path, capsys):
    p = chinese_project(tmp_path)
    p.save()
    empty = Project(path=tmp_path / "新建文件夹" / "空项目.realscene.json", crs="EPSG:4547")
    empty.save()
    for fmt, name in (("csv", "标注.csv"), ("geojson", "标注.geojson"),
                      ("webanno", "标注.jsonld")):
        out = tmp_path / "导出" / name
        assert main(["annotations", str(p.path), "--export", fmt, "-o", str(out)]) == 0
        new = tmp_path / "导入" / f"新项目_{fmt}.realscene.json"
        assert main(["annotations", str(empty.path), "--import", str(out),
                     "-o", str(new)]) == 0
        back = Project.load(new)
        assert _dicts(back.annotations) == _dicts(p.annotations)
    out = capsys.readouterr()
    assert "标注.csv" in out.out and "2 annotations read (csv): 2 added, 0 replaced" in out.err
