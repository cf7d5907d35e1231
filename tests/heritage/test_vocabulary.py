"""The bilingual heritage vocabulary (English, Simplified Chinese) and reports in the
user's language: stored values stay the language-neutral keys."""

from __future__ import annotations

import html
import json

import pytest

from heritage import vocabulary
from heritage.model import DEFAULT_CATEGORIES, DEFAULT_CONDITIONS, Annotation, Vocabulary
from heritage.project import Project
from heritage.report import write_report
from viewer.cli import main

TITLE = "屋脊风化 — 明代砖雕"
AUTHOR = "李明（文物保护中心）"


def _cjk(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_default_term_has_english_and_chinese():
    assert set(vocabulary.CATEGORY_TERMS) == set(DEFAULT_CATEGORIES)
    assert set(vocabulary.CONDITION_TERMS) == set(DEFAULT_CONDITIONS)
    for table in (vocabulary.CATEGORY_TERMS, vocabulary.CONDITION_TERMS):
        for terms in table.values():
            assert terms["en"] and _cjk(terms["zh"]), terms
    zh = [vocabulary.CONDITION_TERMS[k]["zh"] for k in DEFAULT_CONDITIONS]  # best first
    assert zh == ["完好", "基本完好", "一般损坏", "严重损坏"]
    assert [v[0] for v in DEFAULT_CATEGORIES.values()] == [
        t["en"] for t in vocabulary.CATEGORY_TERMS.values()]


def test_labels_in_each_language_and_the_team_words_as_written():
    v = Vocabulary()
    assert v.category_label("crack") == "Crack"
    assert v.category_label("crack", "zh") == "裂缝"
    assert v.condition_label("critical", "zh") == "严重损坏"
    assert v.condition_label(None, "zh") == ""
    v.categories["crack"] = ("Fissure", v.categories["crack"][1])  # renamed by the team
    assert v.category_label("crack", "zh") == "Fissure"
    v.add_category("瓦面松动", "瓦面松动", (10, 20, 30))  # the team's own, in Chinese
    assert v.category_label("瓦面松动", "zh") == "瓦面松动"
    assert v.category_label("瓦面松动", "en") == "瓦面松动"
    assert v.category_label("no_such_thing", "zh") == "No such thing"


@pytest.mark.parametrize("given, code", [(None, "en"), ("", "en"), ("en_GB", "en"),
                                         ("zh", "zh"), ("zh_CN", "zh"), ("zh-Hans", "zh"),
                                         ("ZH-cn", "zh")])
def test_language_names(given, code):
    assert vocabulary.check_lang(given) == code


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language 'fr'.*en, zh"):
        vocabulary.check_lang("fr")
    with pytest.raises(ValueError, match="unknown language"):
        write_report(Project(), "never.html", lang="fr")


def test_stored_values_stay_language_neutral(tmp_path):
    """Projects store keys and the English default labels as before; nothing in a saved
    project depends on the display language."""
    p = Project(path=tmp_path / "p.realscene.json")
    p.annotations.append(Annotation("point", [[1.0, 2.0, 3.0]], title=TITLE,
                                    category="crack", condition="poor"))
    p.save()
    doc = json.loads(p.path.read_text(encoding="utf-8"))
    assert doc["annotations"][0]["category"] == "crack"
    assert doc["annotations"][0]["condition"] == "poor"
    assert doc["vocabulary"]["categories"]["crack"]["label"] == "Crack"
    assert doc["vocabulary"]["conditions"]["poor"]["label"] == "Poor"
    again = Project.load(p.path)
    assert again.vocabulary.to_dict() == Vocabulary().to_dict()


@pytest.fixture
def chinese_project(tmp_path):
    p = Project(path=tmp_path / "故宫项目" / "太和殿.realscene.json", title="太和殿勘察",
                crs="EPSG:4547")
    p.annotations += [
        Annotation("point", [[500000.125, 4000000.5, 35.25]], title=TITLE, author=AUTHOR,
                   description="东侧正脊砖雕表面粉化，\n局部剥落。", category="erosion",
                   condition="poor", observed="2026-04-02", tags=["正脊", "砖雕"]),
        Annotation("polygon", [[0.0, 0.0, 1.0], [2.0, 0.0, 1.0], [2.0, 3.0, 1.0]],
                   title="台基裂缝", category="crack", condition="critical"),
        Annotation("point", [[1.0, 1.0, 1.0]], title="未评定", category="other"),
    ]
    p.save()
    return p


def test_report_in_chinese(chinese_project, tmp_path):
    out = write_report(chinese_project, tmp_path / "报告" / "病害报告.html",
                       generated="2026-05-01", lang="zh")
    text = out.read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in text
    for word in ("病害勘察报告 — 太和殿勘察", "按类别与完损等级汇总", "类别", "完损等级",
                 "记录人", "勘察日期", "风化侵蚀", "裂缝", "其他", "一般损坏", "严重损坏",
                 "完好", "基本完好", "未评定", "合计", "全部", "多边形", "面积",
                 html.escape(TITLE), html.escape(AUTHOR), "东侧正脊砖雕表面粉化",
                 "正脊，砖雕", "2026-04-02", "2026-05-01", "无渲染视图"):
        assert word in text, word
    for english in ("Summary by category", "Condition report", ">Category<", ">Author<",
                    "Erosion", "Poor", "Not assessed", "No rendered view"):
        assert english not in text, english
    default = write_report(chinese_project, tmp_path / "report.html", generated="2026-05-01")
    text = default.read_text(encoding="utf-8")
    assert "Condition report — 太和殿勘察" in text and "Erosion" in text
    assert "病害勘察报告" not in text and "风化侵蚀" not in text


def test_cli_report_lang_zh(chinese_project, tmp_path, capsys):
    out = tmp_path / "输出" / "太和殿报告.html"
    assert main(["annotations", str(chinese_project.path), "--export", "report",
                 "--no-views", "--lang", "zh", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "病害勘察报告" in text and html.escape(TITLE) in text and "一般损坏" in text
    captured = capsys.readouterr()
    assert str(out) in captured.out  # the CLI's own message, in English as always
    assert main(["annotations", str(chinese_project.path), "--export", "report",
                 "--lang", "fr", "-o", str(out)]) == 2
    assert "--lang: invalid choice: 'fr'" in capsys.readouterr().err


def test_script_report_lang_zh(chinese_project, tmp_path):
    from viewer.api import open_project

    with open_project(chinese_project.path) as site:
        out = site.export_annotations("report", tmp_path / "脚本报告.html", lang="zh")
    text = out.read_text(encoding="utf-8")
    assert "病害勘察报告 — 太和殿勘察" in text and "风化侵蚀" in text
