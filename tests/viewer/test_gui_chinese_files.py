"""Chinese text and Chinese file names in the real window: a scan opened from a Chinese
folder, recent files, an annotation in Chinese saved to a Chinese project name (the
window title shows it), exports and a screenshot to Chinese file names, the project
reopened without a character lost."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest

from heritage import exchange
from heritage.model import Annotation
from heritage.project import Project

from .gui_support import LOAD_TIMEOUT_MS, open_and_wait

pytestmark = pytest.mark.gui

SCAN = Path(__file__).resolve().parents[2] / "assets" / "sample_site" / "delft_ahn3.laz"
TITLE = "屋脊风化 — 明代砖雕"
AUTHOR = "李明（文物保护中心）"
DESCRIPTION = "东侧正脊砖雕表面粉化，局部剥落。\n建议：先加固，后清洗。"


def _save_dialog_answers(monkeypatch, path: Path) -> None:
    from PySide6 import QtWidgets

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(path), ""))


def test_chinese_names_and_text_through_the_window(window, qtbot, tmp_path, monkeypatch):
    from PySide6 import QtCore, QtGui, QtWidgets

    from viewer.qt import dialogs

    folder = tmp_path / "故宫项目"
    scan = folder / "扫描数据" / "太和殿点云.laz"
    scan.parent.mkdir(parents=True)
    shutil.copyfile(SCAN, scan)

    # a scan from a Chinese folder; recent files keep its path
    open_and_wait(qtbot, window, scan)
    assert [layer.name for layer in window.scene.layers] == ["太和殿点云.laz"]
    assert window.recent_files()[0] == str(scan.resolve())
    assert [a.text() for a in window.recent_menu.actions()][0] == "太和殿点云.laz"
    window.project_actions.settings.sync()
    again = QtCore.QSettings(window.project_actions.settings.fileName(),
                             QtCore.QSettings.IniFormat)
    assert str(scan.resolve()) in [str(p) for p in again.value("recent_files")]

    # an annotation in Chinese, with a category of the team's own
    lo, hi = window.scene.bounds()
    key = window.session.add_category("瓦面松动", (90, 90, 200))
    ann = window.session.add_annotation(Annotation(
        "point", [[(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2]]], title=TITLE,
        author=AUTHOR, description=DESCRIPTION, category=key, condition="poor",
        observed="2026-04-02", tags=["正脊", "砖雕"]))
    expected = ann.to_dict()

    # saved under a Chinese name through File > Save as: the title shows it
    project_path = folder / "太和殿.realscene.json"
    _save_dialog_answers(monkeypatch, project_path)
    assert window.project_actions.save_project_as()
    assert project_path.is_file()
    assert window.windowTitle() == "RealScene — 太和殿.realscene.json"
    saved = Project.load(project_path)
    assert [a.to_dict() for a in saved.annotations] == [expected]
    assert saved.vocabulary.categories["瓦面松动"][0] == "瓦面松动"
    assert saved.layers[0].path.replace("\\", "/") == "扫描数据/太和殿点云.laz"

    # exports to Chinese file names
    for fmt, name in (("csv", "标注.csv"), ("geojson", "标注.geojson"),
                      ("webanno", "标注.jsonld")):
        out = window.project_actions.export_annotations(fmt, str(folder / "导出" / name))
        assert Path(out).name == name
        assert [a.to_dict() for a in exchange.read_file(out).annotations] == [expected]
    report = window.project_actions.export_annotations("report",
                                                       str(folder / "导出" / "病害报告.html"))
    text = Path(report).read_text(encoding="utf-8")
    for value in (TITLE, AUTHOR, "东侧正脊砖雕表面粉化", "瓦面松动"):
        assert html.escape(value) in text, value
    # the window's report comes in the interface language
    from viewer.qt import i18n

    monkeypatch.setattr(i18n, "current_language", lambda: "zh")
    report = window.project_actions.export_annotations("report",
                                                       str(folder / "导出" / "报告_中文.html"))
    text = Path(report).read_text(encoding="utf-8")
    for value in ("病害勘察报告", "完损等级", "一般损坏", "记录人", html.escape(TITLE)):
        assert value in text, value

    # a screenshot to a Chinese file name, through View > Screenshot
    shot = folder / "截图" / "太和殿全景.png"
    shot.parent.mkdir()
    monkeypatch.setattr(dialogs.ScreenshotDialog, "exec",
                        lambda self: QtWidgets.QDialog.Accepted)
    _save_dialog_answers(monkeypatch, shot)
    with qtbot.waitSignal(window.media.saved, timeout=LOAD_TIMEOUT_MS):  # a job
        window.screenshot_dialog()
    image = QtGui.QImage(str(shot))
    assert not image.isNull() and image.width() > 100

    # reopened: every character is back, in the window and in the title
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.open_project(str(project_path))
    assert window.windowTitle() == "RealScene — 太和殿.realscene.json"
    assert [a.to_dict() for a in window.session.project.annotations] == [expected]
    assert [layer.name for layer in window.scene.layers] == ["太和殿点云.laz"]
