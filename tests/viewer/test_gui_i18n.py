"""The window in Simplified Chinese (translations/realscene_zh_CN.ts / .qm): every visible
text translated, View > Language switching at once and remembered, the .ts up to date."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from tests.viewer.gui_support import LOAD_TIMEOUT_MS  # noqa: E402
from viewer.qt import i18n  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "translations" / "realscene_zh_CN.ts"
QM = ROOT / "translations" / "realscene_zh_CN.qm"
TOOLS = Path(sys.executable).parent
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
#: words that are the same in a Chinese interface: names, formats, units, codes, the
#: colour maps' own names, the language menu's endonym
KEEP = {"RealScene", "RGB", "LAS", "LAZ", "COPC", "EPSG", "IFC", "CityJSON", "glTF", "X", "Y",
        "Z", "XYZ", "m", "px", "k", "M", "viridis", "turbo", "gray", "terrain", "rdbu",
        "coolwarm", "English",
        "LOD", "WGS", "UTM", "RMS", "URL", "PROJ", "WKT", "CRS", "Ctrl", "Shift", "Esc",
        "YYYY", "MM", "DD"}


def ts_messages(path: Path) -> dict[tuple[str, str], tuple[str, bool]]:
    """(context, source) -> (translation, finished) of a .ts file."""
    out = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            tr = message.find("translation")
            finished = tr.get("type") not in ("unfinished", "obsolete", "vanished") \
                and bool((tr.text or "").strip())
            out[(name, message.findtext("source"))] = (tr.text or "", finished)
    return out


def untranslated(text: str, data_words: set[str]) -> bool:
    """True when ``text`` reads as English: no Chinese, and words left once numbers,
    file names, codes, data names (layer/attribute/feature names) and KEEP are taken out."""
    if not text or CJK.search(text):
        return False
    text = re.sub(r"(?:[A-Za-z]:)?[/\\]\S+", " ", text)  # paths
    text = re.sub(r"[\w.\-]+\.[A-Za-z0-9]{2,5}\b", " ", text)  # file names
    text = re.sub(r"EPSG:\d+", " ", text)
    words = re.findall(r"[A-Za-z]{2,}", text.replace("&", ""))
    return any(w not in KEEP and w not in data_words for w in words)


def widget_texts(root: QtWidgets.QWidget) -> list[tuple[str, str]]:
    """(where, text) of everything a user reads in ``root`` and its children."""
    out = []

    def add(where, text):
        if text:
            out.append((where, str(text)))

    widgets = [root] + root.findChildren(QtWidgets.QWidget)
    for w in widgets:
        where = f"{type(w).__name__}:{w.objectName()}"
        add(where + ".toolTip", w.toolTip())
        if isinstance(w, (QtWidgets.QDockWidget, QtWidgets.QDialog)):
            add(where + ".title", w.windowTitle())
        if isinstance(w, QtWidgets.QLabel):
            add(where, w.text())
        elif isinstance(w, QtWidgets.QAbstractButton):
            add(where, w.text())
        elif isinstance(w, QtWidgets.QLineEdit):
            add(where + ".placeholder", w.placeholderText())
        elif isinstance(w, QtWidgets.QPlainTextEdit):
            add(where + ".placeholder", w.placeholderText())
        elif isinstance(w, QtWidgets.QComboBox):
            for i in range(w.count()):
                add(f"{where}[{i}]", w.itemText(i))
        elif isinstance(w, QtWidgets.QGroupBox):
            add(where, w.title())
        elif isinstance(w, QtWidgets.QTabWidget):
            for i in range(w.count()):
                add(f"{where}.tab{i}", w.tabText(i))
        elif isinstance(w, QtWidgets.QMenu):
            add(where + ".title", w.title())
        elif isinstance(w, QtWidgets.QProgressBar):
            add(where, w.format().replace("%p%", ""))
        if isinstance(w, QtWidgets.QTreeWidget):
            header = w.headerItem()
            for c in range(header.columnCount()):
                add(f"{where}.header{c}", header.text(c))
        if isinstance(w, QtWidgets.QTableWidget):
            for c in range(w.columnCount()):
                item = w.horizontalHeaderItem(c)
                add(f"{where}.header{c}", item.text() if item else "")
    for action in root.findChildren(QtGui.QAction):
        where = f"QAction:{action.objectName()}"
        add(where, action.text())
        add(where + ".statusTip", action.statusTip())
        add(where + ".toolTip", action.toolTip())
        if action.menu() is not None:
            add(where + ".menu", action.menu().title())
    return out


def data_words(win) -> set[str]:
    """Names that come from the data, shown as they are."""
    names = set()
    for layer in win.scene.layers:
        names.add(layer.name)
        names.update(getattr(layer.data, "attributes", {}) or {})
        names.update(layer.scalar_attributes() if hasattr(layer, "scalar_attributes") else ())
        crs = layer.data.crs
        if crs is not None:
            names.add(str(crs.name))
    names.update(view.name for view in win.scene.views)
    names.update(tour.name for tour in win.session.project.tours)
    return {w for n in names for w in re.findall(r"[A-Za-z]{2,}", n)}


def open_settings(tmp_path, language=None) -> QtCore.QSettings:
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)
    if language:
        settings.setValue(i18n.SETTINGS_KEY, language)
    return settings


@pytest.fixture
def english_locale(monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    yield
    i18n.install("en")


def make_window(qtbot, settings):
    from viewer.qt.main_window import MainWindow

    win = MainWindow(settings=settings)
    win.resize(1200, 800)
    qtbot.addWidget(win, before_close_func=lambda w: w.close_without_asking())
    win.show()
    qtbot.waitExposed(win)
    return win


def collect_modal(qtbot, open_it) -> list[tuple[str, str]]:
    """Texts of the modal dialog ``open_it()`` shows; the dialog is then rejected."""
    seen = []

    def grab():
        box = QtWidgets.QApplication.activeModalWidget()
        if box is None:
            QtCore.QTimer.singleShot(50, grab)
            return
        seen.extend(widget_texts(box))
        box.reject()

    QtCore.QTimer.singleShot(50, grab)
    open_it()
    return seen


def test_every_visible_text_is_translated(qtbot, tmp_path, english_locale):
    messages = ts_messages(TS)
    unfinished = [src for (ctx, src), (_tr, done) in messages.items() if not done]
    assert not unfinished, f"unfinished translations in {TS.name}: {unfinished}"

    win = make_window(qtbot, open_settings(tmp_path, "zh"))
    assert i18n.current_language() == "zh"
    with qtbot.waitSignal(win.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        win.open_sample()  # layers, annotations, views and a tour: the panels filled
    win.scene.select(win.scene.layers[-1])
    win._refresh_tours()
    win._refresh_visibility_menu()
    win.objects_dock.raise_()
    QtWidgets.QApplication.processEvents()
    texts = widget_texts(win)
    texts.append(("pickLabel", win.pick_label.text()))
    win._update_progress()

    # dialogs, each opened and closed again
    from viewer.qt import dialogs
    from viewer.qt.crs import CrsDialog
    from viewer.qt.media_dialogs import VideoDialog

    for dialog in (dialogs.ScreenshotDialog((400, 300), win),
                   VideoDialog((400, 300), ["Condition walk"], win),
                   CrsDialog(win.scene.crs, None, [win.scene.crs], win)):
        dialog.show()
        texts += widget_texts(dialog)
        dialog.close()
    box = dialogs.show_load_error(win, "x.las: not a LAS file")
    texts += [(w, t) for w, t in widget_texts(box) if "x.las" not in t]
    box.close()
    box = dialogs.ask_redirect(win, "https://a.example/x.copc.laz", "b.example",
                               "https://b.example/x", lambda allowed: None)
    texts += widget_texts(box)
    box.close()
    texts += collect_modal(qtbot, lambda: dialogs.ask_unsaved_changes(
        win, "site.realscene.json", "closing"))
    texts += collect_modal(qtbot, lambda: dialogs.ask_recover_untitled(win))

    words = data_words(win)
    bad = sorted({f"{where}: {text!r}" for where, text in texts if untranslated(text, words)})
    assert not bad, "English text in the Chinese window (add tr() and a translation):\n" + \
        "\n".join(bad)
    # Qt's own buttons come from qtbase_zh_CN.qm
    assert any(text in ("取消", "&取消", "取消(&C)") for _w, text in texts)


def test_untranslated_text_is_caught():
    """The classifier the test above relies on: English fails, Chinese and data pass."""
    assert untranslated("Move layer up", set())
    assert untranslated("&Open recent", set())
    assert not untranslated("图层上移", set())
    assert not untranslated("delft_ahn3.laz", set())
    assert not untranslated("/data/site_survey/delft_ahn3.laz", set())
    assert not untranslated("EPSG:4547 (X 500000.000 m)", set())
    assert not untranslated("Amersfoort RD", {"Amersfoort", "RD"})


def test_language_menu_switches_at_once_and_is_remembered(qtbot, tmp_path, english_locale):
    settings = open_settings(tmp_path)
    win = make_window(qtbot, settings)
    file_menu = win.menuBar().actions()[0]
    assert file_menu.text() == "&File"
    assert win.open_action.text() == "&Open…"
    assert win.language_actions["en"].isChecked()

    win.language_actions["zh"].trigger()
    assert file_menu.text() == "文件(&F)"
    assert win.open_action.text() == "打开(&O)…"
    assert win.layer_dock.windowTitle() == "图层"
    assert win.layer_dock.toggleViewAction().text() == "图层"
    assert win.language_menu.title() == "语言(&L)"
    assert i18n.current_language() == "zh"
    assert settings.value(i18n.SETTINGS_KEY) == "zh"
    win.close_without_asking()

    again = make_window(qtbot, open_settings(tmp_path))  # a restart: the same settings
    assert again.menuBar().actions()[0].text() == "文件(&F)"
    assert again.language_actions["zh"].isChecked()
    assert again.properties_panel.title.text() == "未选择图层"  # panels too, after a start
    again.language_actions["en"].trigger()
    assert again.menuBar().actions()[0].text() == "&File"
    assert again.open_action.text() == "&Open…"


def test_system_locale_picks_the_language(qtbot, tmp_path, monkeypatch, english_locale):
    assert i18n.language_of_locale("zh_CN.UTF-8") == "zh"
    assert i18n.language_of_locale("zh_TW") == "zh"
    assert i18n.language_of_locale("en_GB.UTF-8") == "en"
    assert i18n.language_of_locale("C.UTF-8") == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    win = make_window(qtbot, open_settings(tmp_path))  # nothing saved: the locale decides
    assert win.menuBar().actions()[0].text() == "文件(&F)"
    assert i18n.current_language() == "zh"
    win.close_without_asking()
    win = make_window(qtbot, open_settings(tmp_path / "..", "en"))  # a saved choice wins
    assert win.menuBar().actions()[0].text() == "&File"


def test_ts_and_qm_are_up_to_date(tmp_path):
    """pyside6-lupdate over viewer/qt finds no string the committed .ts lacks, and
    pyside6-lrelease of the .ts gives the committed .qm."""
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in (ROOT / "viewer" / "qt").glob("*.py"))
    subprocess.run([str(TOOLS / "pyside6-lupdate"), *sources, "-ts", str(fresh)],
                   check=True, capture_output=True, cwd=ROOT, timeout=120)
    found, committed = set(ts_messages(fresh)), set(ts_messages(TS))
    assert not found - committed, f"strings not in {TS.name} (run pyside6-lupdate): " \
        f"{sorted(found - committed)}"
    shutil.copy(TS, tmp_path / "copy.ts")
    subprocess.run([str(TOOLS / "pyside6-lrelease"), str(tmp_path / "copy.ts"), "-qm",
                    str(tmp_path / "copy.qm")], check=True, capture_output=True, timeout=120)
    assert (tmp_path / "copy.qm").read_bytes() == QM.read_bytes(), \
        f"{QM.name} is older than {TS.name}: run pyside6-lrelease"
