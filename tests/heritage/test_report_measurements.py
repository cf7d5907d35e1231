"""The condition report's Measurements section (HTML and PDF, English and Chinese)."""

from __future__ import annotations

import io

import pytest

from heritage.model import Measurement
from heritage.project import Project
from heritage.report import write_report


def _project() -> Project:
    p = Project()
    p.measurements = [
        Measurement("distance", [[0, 0, 0], [3, 4, 0]], label="Gate width",
                    created="2024-05-06T10:00:00"),
        Measurement("area", [[0, 0, 0], [2, 0, 0], [2, 2, 0]], label="Spall",
                    created="2024-05-07T09:00:00"),
    ]
    return p


def _pdf_text(path) -> str:
    pypdf = pytest.importorskip("pypdf")
    text = "\n".join(page.extract_text() for page in
                      pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages)
    return text.replace("\x00", "")  # pypdf's artefact with the embedded CJK font


@pytest.mark.parametrize("lang, words", [
    ("en", ("Measurements", "Name", "Value", "Units", "Distance", "Area")),
    ("zh", ("测量", "名称", "数值", "单位", "距离", "面积")),
])
def test_measurements_section_html_and_pdf(tmp_path, lang, words):
    out = write_report(_project(), tmp_path / "r.html", pdf=True, lang=lang)
    page = out.read_text(encoding="utf-8")
    section = page[page.index('<h2 id="measurements">'):]
    for text in (*words, "Gate width", "5.000", "Spall", "2.000", "2024-05-06", "2024-05-07"):
        assert text in section, text
    pdf = _pdf_text(out.with_suffix(".pdf"))
    for text in (*words, "Gate width", "5.000", "Spall", "2.000", "2024-05-06"):
        assert text in pdf, text


def test_no_measurements_no_section(tmp_path):
    out = write_report(Project(), tmp_path / "r.html")
    assert 'id="measurements"' not in out.read_text(encoding="utf-8")
