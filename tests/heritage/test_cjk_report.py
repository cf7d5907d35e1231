"""Chinese text in the condition reports: every character in the PDF and the HTML, or a
clear message naming the text and what to install (never a silent "—")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from heritage import exchange, fonts
from heritage.exchange import ExchangeError
from heritage.report import write_pdf_report, write_report

from .test_exchange import make_project

TITLE = "屋脊风化 — 明代砖雕"
AUTHOR = "李明（文物保护中心）"
DESCRIPTION = "东侧屋脊的砖雕表面粉化，局部剥落，需加固。"
CATEGORY = "砖雕"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

needs_cjk_font = pytest.mark.skipif(fonts.font_for(TITLE + AUTHOR + DESCRIPTION) is None,
                                    reason="no CJK font installed (./run installs "
                                           "fonts-noto-cjk)")


@pytest.fixture(autouse=True)
def _fresh_font_cache():
    fonts.clear_cache()
    yield
    fonts.clear_cache()


@pytest.fixture
def project(tmp_path):
    p = make_project(tmp_path)
    a = p.annotations[0]
    a.title, a.author, a.description = TITLE, AUTHOR, DESCRIPTION
    a.tags = ["明代", "屋脊"]
    p.vocabulary.add_category("brick-carving", CATEGORY, (150, 80, 40))
    a.category = "brick-carving"
    p.save()
    return p


def _squash(text: str) -> str:
    """Extracted text without the spaces and NULs pypdf puts between CJK glyphs."""
    return "".join(text.replace("\x00", "").split())


def _pdf_text(path: Path) -> tuple[str, str | None]:
    from pypdf import PdfReader

    pypdf_text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    poppler = None
    if shutil.which("pdftotext"):
        poppler = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"],
                                 capture_output=True, text=True, check=True,
                                 timeout=60).stdout
    return pypdf_text, poppler


@needs_cjk_font
def test_pdf_report_keeps_chinese_title_author_description(project, tmp_path):
    out = write_pdf_report(project, tmp_path / "报告 明代.pdf", generated="2026-12-04")
    pypdf_text, poppler = _pdf_text(out)
    squashed = _squash(pypdf_text)
    for text in (TITLE, AUTHOR, DESCRIPTION, CATEGORY, "明代"):
        assert _squash(text) in squashed, text
    if poppler is not None:  # poppler extracts the lines exactly as written
        for text in (TITLE, AUTHOR, DESCRIPTION):
            assert text in poppler, text
    # the CJK face is embedded (as a subset: the report stays small)
    data = out.read_bytes()
    assert b"NotoSansCJKSC" in data or b"CJK" in data or b"Han" in data
    assert out.stat().st_size < 2_000_000


def test_latin_report_embeds_no_cjk_font(tmp_path):
    project = make_project(tmp_path)
    for a in project.annotations:  # (the sample has a tag 季節)
        a.tags = [t for t in a.tags if t.isascii()]
    out = write_pdf_report(project, tmp_path / "r.pdf", generated="2026-12-04")
    assert b"CJK" not in out.read_bytes()


@needs_cjk_font
def test_html_report_has_chinese_and_cjk_fonts(project, tmp_path):
    out = write_report(project, tmp_path / "报告.html", generated="2026-12-04")
    text = out.read_bytes().decode("utf-8")
    assert '<meta charset="utf-8">' in text
    assert "<html lang=" in text
    for name in ('"Noto Sans CJK SC"', '"Source Han Sans SC"', '"Microsoft YaHei"',
                 '"PingFang SC"', "sans-serif"):
        assert name in text
    for value in (TITLE, AUTHOR, DESCRIPTION, CATEGORY):
        assert value in text


@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs DejaVu Sans (Latin only)")
def test_no_font_for_chinese_stops_the_pdf_with_a_clear_message(project, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv(fonts.ENV_FONT, str(DEJAVU))
    monkeypatch.setenv(fonts.ENV_SYSTEM_FONTS, "0")
    fonts.clear_cache()
    assert fonts.font_for(TITLE) is None
    with pytest.raises(fonts.NoFontError):  # a ValueError: the window shows it
        write_pdf_report(project, tmp_path / "direct.pdf", generated="2026-12-04")
    out = tmp_path / "report.pdf"
    with pytest.raises(ExchangeError) as err:  # the CLI's and the window's export
        exchange.export(project, "report", out)
    message = str(err.value)
    assert str(out) in message
    # which text (the first one met: the category in the summary) and its characters
    assert f"can draw {CATEGORY!r} (砖 U+7816 雕 U+96D5)" in message
    assert "fonts-noto-cjk" in message and fonts.ENV_FONT in message  # what to do
    assert "\n" not in message
    assert not out.exists()  # nothing half-written


@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs DejaVu Sans (Latin only)")
def test_missing_font_message_names_text_and_remedy(monkeypatch):
    monkeypatch.setenv(fonts.ENV_FONT, str(DEJAVU))
    monkeypatch.setenv(fonts.ENV_SYSTEM_FONTS, "0")
    fonts.clear_cache()
    with pytest.raises(fonts.NoFontError) as err:
        fonts.require_font(TITLE)
    assert err.value.missing == "屋脊风化明代砖雕"
    assert f"can draw {TITLE!r}" in str(err.value)
    assert "install fonts-noto-cjk or set REALSCENE_FONT" in str(err.value)


@needs_cjk_font
def test_font_for_prefers_the_simplified_chinese_face(tmp_path):
    font = fonts.font_for(TITLE)
    assert font is not None and fonts.missing_glyphs(TITLE + AUTHOR, font) == ""
    if font.path.suffix.lower() == ".ttc":
        assert "SC" in font.family.split() or "Simplified" in font.family
    # a single-face file of it for renderers that read face 0 only (VTK)
    single = fonts.single_face_file(font)
    assert fonts.missing_glyphs(TITLE, fonts.FontChoice(single, 0, font.family)) == ""
    assert fonts.single_face_file(font) == single  # cached


def test_override_font_is_used_first(monkeypatch):
    if not DEJAVU.is_file():
        pytest.skip("needs DejaVu Sans")
    monkeypatch.setenv(fonts.ENV_FONT, str(DEJAVU))
    fonts.clear_cache()
    assert fonts.font_for("Riss über dem Portal").path == DEJAVU
