"""Condition report: self-contained HTML (views and photos embedded) and PDF."""

from __future__ import annotations

import base64
import html
import io
import re

import pytest
from PIL import Image

from heritage import exchange
from heritage.report import write_pdf_report, write_report

from .test_exchange import make_project


def _png(color, size=(320, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def project(tmp_path):
    p = make_project(tmp_path)
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (2400, 1600), (180, 90, 40)).save(photos / "crack 1.jpg", quality=90)
    # photos/detail%20raw.png is left missing on purpose
    p.annotations[3].media = ["photos/crack 1.jpg", "docs/survey.pdf"]
    p.annotations[0].title = "Riss über dem Portal <b>&</b>"
    p.save()
    return p


def _data_uris(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/[a-z]+;base64,([^"]+)"',
                                                      text)]


def test_html_report_has_every_annotation_and_embeds_images(project, tmp_path):
    rendered = []

    def render_view(ann):
        rendered.append(ann.id)
        return _png((10, 20, 200))

    out = write_report(project, tmp_path / "out" / "report.html", render_view=render_view,
                       generated="2026-11-24")
    text = out.read_bytes().decode("utf-8")  # keep the description's \r\n as written
    assert text.startswith("<!DOCTYPE html>")
    assert rendered == [a.id for a in project.annotations]
    for a in project.annotations:
        assert html.escape(a.title) in text
        assert html.escape(a.id) in text
        for value in (a.observed, a.author, project.vocabulary.category_label(a.category)):
            if value:
                assert html.escape(value) in text
        if a.description:
            assert html.escape(a.description) in text
    assert "<b>&</b>" not in text  # escaped
    assert "Salt efflorescence" in text and "Poor" in text and "not assessed" in text
    assert "EPSG:2056" in text and "2026-11-24" in text and project.title in text
    assert "Summary by category and condition" in text
    assert "2680123.123, 1250000.988, 412.346" in text  # pin location
    images = _data_uris(text)
    assert len(images) == 4 + 2  # four views, the photo twice
    sizes = [Image.open(io.BytesIO(b)).size for b in images]
    assert (320, 200) in sizes and (1600, 1067) in sizes  # photos are downscaled
    assert "photos/detail%20raw.png: missing photo" in text
    assert "docs/survey.pdf" in text  # a linked file that is not an image
    assert "src=\"photos/" not in text and "file:" not in text  # self-contained


def test_report_without_renderer_or_with_a_failing_one(project, tmp_path):
    text = write_report(project, tmp_path / "r.html").read_text(encoding="utf-8")
    assert text.count("No rendered view") == len(project.annotations)

    def broken(ann):
        raise RuntimeError("no OpenGL context")

    text = write_report(project, tmp_path / "r2.html", render_view=broken).read_text(
        encoding="utf-8")
    assert text.count("could not be rendered (RuntimeError: no OpenGL context)") == 4


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_pdf_report(project, tmp_path):
    html_path = write_report(project, tmp_path / "r.html", pdf=True,
                             render_view=lambda a: _png((0, 120, 0)))
    pdf = html_path.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert _pages(pdf) >= 1 + len(project.annotations)  # summary + one page each
    assert b"/Subtype /Image" in pdf
    only = write_pdf_report(project, tmp_path / "only.pdf")
    assert only.read_bytes().startswith(b"%PDF-") and _pages(only.read_bytes()) >= 5


def test_export_report_formats(project, tmp_path):
    out = exchange.export(project, "report", tmp_path / "c.pdf")
    assert out.read_bytes().startswith(b"%PDF-")
    out = exchange.export(project, "report", tmp_path / "c.html")
    assert "Choir stalls" in out.read_text(encoding="utf-8")
