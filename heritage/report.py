"""Condition report: a self-contained HTML file (and optionally a PDF) of the annotations.

    write_report(project, "report.html", render_view=fn, pdf=True)

Per annotation: a rendered view (``render_view(annotation) -> PNG bytes | None``, supplied
by the viewer; without it the report says that no view was rendered), the metadata table,
the description and the linked photos. Photos are resolved inside the project folder
(links included; see :mod:`heritage.media`), decoded with Pillow and written afresh
(downscaled to at most ``MAX_IMAGE_PX`` on the long side, no original bytes or metadata),
then embedded as base64 data URIs, so the HTML file can be mailed or archived on its own.
Media outside the project folder, non-images named like images, decompression bombs and
the like are left out and named in the report's "Left out" section (and passed to ``on_warning``).

The PDF is drawn with fpdf2 (pure Python; needs Pillow and fontTools) from the same
content, with a Unicode TrueType font (DejaVu Sans from the system or from matplotlib's
data) when one is found; text DejaVu cannot draw (Chinese...) is drawn with an installed
font that can (:mod:`heritage.fonts`: Noto Sans CJK SC...), embedded as a subset. A text
no installed font can draw stops the PDF with a message naming it (no character is
silently lost).
"""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .measure import polygon_area_3d, polyline_length
from .media import MediaRefused, decode_image, embeddable_image, resolve_media
from .model import Annotation
from .project import Project, atomic_write_bytes, atomic_write_text, same_file
from .vocabulary import check_lang, kind_term, report_word

MAX_IMAGE_PX = 1600
RenderView = Callable[[Annotation], "bytes | None"]
Warn = Callable[[str], None]

_IMAGE_EXT = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp"}


@dataclass
class _Picture:
    label: str
    data: bytes | None = None  # browser/PDF-ready image bytes
    mime: str = ""
    size: tuple[int, int] | None = None
    note: str = ""


@dataclass
class _Entry:
    ann: Annotation
    rows: list[tuple[str, str]]
    view: _Picture
    photos: list[_Picture] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # media that are not images


# ---------------------------------------------------------------------------------------
# content shared by HTML and PDF
# ---------------------------------------------------------------------------------------


def _prepare_image(data: bytes, label: str, prefer_png: bool = False) -> _Picture:
    """Decode and write afresh as JPEG/PNG (at most MAX_IMAGE_PX); never the raw bytes."""
    try:
        img = decode_image(data, label, max_px=MAX_IMAGE_PX, prefer_png=prefer_png)
    except MediaRefused as exc:
        return _Picture(label, None, "", None, exc.reason)
    return _Picture(label, img.data, img.mime, img.size)


def _view_picture(ann: Annotation, render_view: RenderView | None,
                  lang: str = "en") -> _Picture:
    if render_view is None:
        return _Picture("view", note=report_word(
            "No rendered view: this report was made without a renderer.", lang))
    try:
        png = render_view(ann)
    except Exception as exc:
        return _Picture("view", note=f"{report_word('The view could not be rendered', lang)}"
                        f" ({type(exc).__name__}: {exc}).")
    if not png:
        return _Picture("view", note=report_word("No rendered view for this annotation.",
                                                 lang))
    return _prepare_image(bytes(png), "view", prefer_png=True)


def _fmt(v: float) -> str:
    return f"{v:,.3f}".replace(",", "\u2009")


def _geometry_rows(ann: Annotation, unit: str, lang: str = "en") -> list[tuple[str, str]]:
    def w(text: str) -> str:
        return report_word(text, lang)

    a = ann.anchor
    rows = [(w("Location"), f"{a[0]:.3f}, {a[1]:.3f}, {a[2]:.3f}")]
    if ann.kind == "polyline":
        rows.append((w("Length"), f"{_fmt(polyline_length(ann.points))} {unit}"))
    elif ann.kind == "polygon":
        rows.append((w("Area"), f"{_fmt(polygon_area_3d(ann.points))} {unit}²"))
    elif ann.kind == "box":
        lo, hi = ann.points
        rows.append((w("Size"), " × ".join(f"{hi[i] - lo[i]:.3f}" for i in range(3))
                     + f" {unit} (x × y × z)"))
    if ann.kind != "point":
        rows.append((w("Vertices"), str(len(ann.points))))
    return rows


def _measurement_rows(project: Project, lang: str = "en") -> list[tuple[str, ...]]:
    """The measurements table: name, kind, value, units, date (in ``lang``)."""
    from .measure import UNITS, measure, project_unit

    unit = project_unit(project) or report_word("units", lang)
    rows = []
    for m in project.measurements:
        try:
            value = f"{measure(m.kind, m.points):.3f}"
        except ValueError:
            value = "?"
        what = UNITS.get(m.kind, "length")
        units = "°" if what == "degrees" else (f"{unit}²" if what == "area" else unit)
        kind = report_word(m.kind.replace("_", " ").capitalize(), lang)
        rows.append((m.label or report_word("(untitled)", lang), kind, value, units,
                     m.created[:10]))
    return rows


def _entries(project: Project, render_view: RenderView | None,
             left_out: list[str] | None = None, lang: str = "en") -> list[_Entry]:
    """The report's content in ``lang`` (``en``, ``zh``); media that are not used are
    named in ``left_out``."""
    left_out = [] if left_out is None else left_out
    lang = check_lang(lang)

    def w(text: str) -> str:
        return report_word(text, lang)

    from .measure import project_unit

    unit = project_unit(project) or w("units")
    vocab = project.vocabulary
    out = []
    for ann in project.annotations:
        cond = (vocab.condition_label(ann.condition, lang) if ann.condition
                else w("not assessed"))
        sep = "，" if lang == "zh" else ", "
        rows = [(w("Category"), vocab.category_label(ann.category, lang)),
                (w("Condition"), cond),
                (w("Observed"), ann.observed or "—"),
                (w("Author"), ann.author or "—"),
                (w("Kind"), kind_term(ann.kind, lang))]
        rows += _geometry_rows(ann, unit, lang)
        rows.append((w("Tags"), sep.join(ann.tags) if ann.tags else "—"))
        if ann.link:
            rows.append((w("Linked object"), " / ".join(
                f"{v}" for v in (ann.link.get("layer"), ann.link.get("feature_id")) if v)
                or str(ann.link)))
        rows += [(w("Created"), ann.created), (w("Modified"), ann.modified),
                 (w("ID"), ann.id)]
        entry = _Entry(ann, rows, _view_picture(ann, render_view, lang))
        where = f"annotation {ann.title or ann.id!r}"
        for m in ann.media:
            if Path(str(m).replace("\\", "/")).suffix.lower() not in _IMAGE_EXT:
                try:  # only the name is listed; still say when it is not a project file
                    resolve_media(project.folder, m)
                    entry.files.append(m)
                except MediaRefused as exc:
                    if exc.reason == "does not exist":
                        entry.files.append(f"{m} ({w('missing')})")
                    else:
                        entry.files.append(f"{_printable(m)} (left out: {exc.reason})")
                        left_out.append(f"{where}: media {exc}")
                continue
            try:
                img = embeddable_image(project.folder, m, max_px=MAX_IMAGE_PX)
            except MediaRefused as exc:
                note = ("missing photo (does not exist)" if exc.reason == "does not exist"
                        else f"left out: {exc.reason}")
                entry.photos.append(_Picture(_printable(m), note=note))
                left_out.append(f"{where}: media {exc}")
                continue
            entry.photos.append(_Picture(m, img.data, img.mime, img.size))
        out.append(entry)
    return out


def _printable(text: str) -> str:
    return str(text).replace("\x00", "\\0")


def _summary(project: Project, lang: str = "en"
             ) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """Columns (condition labels + not assessed + total) and rows (category, counts)."""
    vocab = project.vocabulary
    conds = list(vocab.conditions)
    for a in project.annotations:
        if a.condition and a.condition not in conds:
            conds.append(a.condition)
    cats = [k for k in vocab.categories if any(a.category == k for a in project.annotations)]
    cats += sorted({a.category for a in project.annotations} - set(cats))
    cols = [vocab.condition_label(c, lang) for c in conds] + [
        report_word("Not assessed", lang), report_word("Total", lang)]
    rows = []
    for cat in cats + [None]:
        anns = [a for a in project.annotations if cat is None or a.category == cat]
        counts = [sum(a.condition == c for a in anns) for c in conds]
        counts += [sum(not a.condition for a in anns), len(anns)]
        rows.append((vocab.category_label(cat, lang) if cat else report_word("All", lang),
                     counts))
    return cols, rows


def _header(project: Project, generated: str | None,
            lang: str = "en") -> list[tuple[str, str]]:
    def w(text: str) -> str:
        return report_word(text, lang)

    name = project.title or (project.path.name.removesuffix(".realscene.json")
                             .removesuffix(".json") if project.path
                             else w("Untitled project"))
    return [(w("Project"), name),
            (w("File"), str(project.path) if project.path else "—"),
            (w("CRS"), project.crs or w("not set")),
            (w("Annotations"), str(len(project.annotations))),
            (w("Date"), generated or datetime.now(timezone.utc).date().isoformat())]


def _title(head: list[tuple[str, str]], lang: str) -> str:
    return f"{report_word('Condition report', lang)} — {head[0][1]}"


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------

REPORT_CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,"Noto Sans CJK SC","Source Han Sans SC",
"Microsoft YaHei","PingFang SC","Hiragino Sans GB",sans-serif;margin:2em;color:#222;
max-width:60em}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #888;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#eee} td.n{text-align:right}
table.meta th{width:11em}
.annotation{page-break-inside:avoid;break-inside:avoid}
.swatch{display:inline-block;width:.9em;height:.9em;border:1px solid #555;
margin-right:.4em;vertical-align:-.1em}
.description{white-space:pre-wrap;background:#f7f7f7;padding:.5em;border-left:3px solid #aaa}
figure{display:inline-block;margin:.4em;vertical-align:top}
figure img{max-width:28em;max-height:22em;border:1px solid #aaa}
figure.view img{max-width:100%;max-height:none}
figcaption{font-size:.85em;color:#555}
.note{color:#866;font-style:italic}
"""


def escape_html(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _img(pic: _Picture, cls: str = "") -> str:
    cap = f"<figcaption>{escape_html(pic.label)}</figcaption>" if cls != "view" else ""
    if pic.data is None:
        if cls != "view":
            return f'<p class="note">{escape_html(pic.label)}: {escape_html(pic.note)}</p>'
        return f'<p class="note">{escape_html(pic.note)}</p>'
    uri = f"data:{pic.mime};base64,{base64.b64encode(pic.data).decode('ascii')}"
    return (f'<figure class="{cls}"><img src="{uri}" alt="{escape_html(pic.label)}">{cap}'
            "</figure>")


def _swatch(rgb: Any) -> str:
    if not rgb:
        return ""
    return f'<span class="swatch" style="background:rgb({",".join(str(int(c)) for c in rgb)})">' \
           "</span>"


def render_html(project: Project, entries: list[_Entry], generated: str | None = None,
                left_out: list[str] | tuple[str, ...] = (), lang: str = "en") -> str:
    lang = check_lang(lang)

    def w(text: str) -> str:
        return report_word(text, lang)

    vocab = project.vocabulary
    head = _header(project, generated, lang)
    title = _title(head, lang)
    html_lang = "zh-Hans" if lang == "zh" else "en"
    parts = ["<!DOCTYPE html>", f'<html lang="{html_lang}"><head><meta charset="utf-8">',
             f"<title>{escape_html(title)}</title>",
             '<meta name="generator" content="RealScene">', f"<style>{REPORT_CSS}</style>",
             "</head><body>", f"<h1>{escape_html(title)}</h1>", '<table class="meta">']
    parts += [f"<tr><th>{escape_html(k)}</th><td>{escape_html(v)}</td></tr>" for k, v in head]
    parts.append("</table>")

    cols, rows = _summary(project, lang)
    parts.append(f"<h2>{escape_html(w('Summary by category and condition'))}</h2>")
    parts.append(f'<table class="summary"><tr><th>{escape_html(w("Category"))}</th>'
                 + "".join(f"<th>{escape_html(c)}</th>" for c in cols) + "</tr>")
    for n_row, (label, counts) in enumerate(rows, start=1):
        cells = "".join(f'<td class="n">{n}</td>' for n in counts)
        tag = "th" if n_row == len(rows) else "td"  # the last row: all categories
        parts.append(f"<tr><{tag}>{escape_html(label)}</{tag}>{cells}</tr>")
    parts.append("</table>")

    for i, en in enumerate(entries, start=1):
        a = en.ann
        parts.append(f'<section class="annotation" id="a-{escape_html(a.id)}">')
        parts.append(f"<h2>{i}. {_swatch(a.color or vocab.category_color(a.category))}"
                     f"{escape_html(a.title or w('(untitled)'))}</h2>")
        parts.append(_img(en.view, "view"))
        parts.append('<table class="meta">')
        for k, v in en.rows:
            sw = ""
            if k == w("Condition") and a.condition in vocab.conditions:
                sw = _swatch(vocab.conditions[a.condition][1])
            parts.append(f"<tr><th>{escape_html(k)}</th><td>{sw}{escape_html(v)}</td></tr>")
        parts.append("</table>")
        if a.description:
            parts.append(f'<div class="description">{escape_html(a.description)}</div>')
        if en.photos:
            parts.append(f"<h3>{escape_html(w('Photos'))}</h3><div class=\"photos\">")
            parts += [_img(p, "photo") for p in en.photos]
            parts.append("</div>")
        if en.files:
            parts.append(f"<h3>{escape_html(w('Other linked files'))}</h3><ul>"
                         + "".join(f"<li>{escape_html(f)}</li>" for f in en.files) + "</ul>")
        parts.append("</section>")
    if not entries:
        parts.append(f'<p class="note">{escape_html(w("This project has no annotations."))}</p>')
    m_rows = _measurement_rows(project, lang)
    if m_rows:
        heads = ("Name", "Kind", "Value", "Units", "Date")
        parts.append(f'<h2 id="measurements">{escape_html(w("Measurements"))}</h2>'
                     '<table class="summary measurements"><tr>'
                     + "".join(f"<th>{escape_html(w(h))}</th>" for h in heads) + "</tr>")
        parts += ["<tr>" + "".join(f'<td{" class=n" if i == 2 else ""}>{escape_html(c)}</td>'
                                   for i, c in enumerate(r)) + "</tr>" for r in m_rows]
        parts.append("</table>")
    if left_out:
        parts.append(f'<h2 id="left-out">{escape_html(w("Left out"))}</h2><p>'
                     + escape_html(w("These linked files were not included: media are read only "
                            "from the project folder, and only images RealScene can "
                            "decode are embedded.")) + "</p><ul>"
                     + "".join(f"<li>{escape_html(_printable(w))}</li>" for w in left_out)
                     + "</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _refuse_overwriting_project(project: Project, out: Path) -> None:
    if project.path is not None and same_file(out, project.path):
        raise ValueError(f"{out}: is the project file itself; choose another output name")


def write_report(project: Project, out_html: str | Path, *,
                 render_view: RenderView | None = None, pdf: bool = False,
                 generated: str | None = None, on_warning: Warn | None = None,
                 lang: str = "en") -> Path:
    """Write the HTML condition report (atomically); with ``pdf=True`` also the PDF next
    to it (same name, ``.pdf``). Returns the HTML path. Each media file left out is
    passed to ``on_warning`` (and listed in the report). ``lang`` (``en``, ``zh``): the
    language of headings, labels, categories and grades; dates stay ISO 8601."""
    lang = check_lang(lang)
    out = Path(out_html)
    _refuse_overwriting_project(project, out)
    if pdf:
        _refuse_overwriting_project(project, out.with_suffix(".pdf"))
    left_out: list[str] = []
    entries = _entries(project, render_view, left_out, lang)
    atomic_write_text(out, render_html(project, entries, generated, left_out, lang))
    if pdf:
        atomic_write_bytes(out.with_suffix(".pdf"),
                           render_pdf(project, entries, generated, left_out, lang))
    for w in left_out if on_warning else ():
        on_warning(w)
    return out


def write_pdf_report(project: Project, out_pdf: str | Path, *,
                     render_view: RenderView | None = None,
                     generated: str | None = None, on_warning: Warn | None = None,
                     lang: str = "en") -> Path:
    """Write only the PDF condition report (atomically); see :func:`write_report`."""
    lang = check_lang(lang)
    out = Path(out_pdf)
    _refuse_overwriting_project(project, out)
    left_out: list[str] = []
    entries = _entries(project, render_view, left_out, lang)
    atomic_write_bytes(out, render_pdf(project, entries, generated, left_out, lang))
    for w in left_out if on_warning else ():
        on_warning(w)
    return out


# ---------------------------------------------------------------------------------------
# PDF (fpdf2)
# ---------------------------------------------------------------------------------------


def _font_files() -> tuple[Path, Path | None] | None:
    """DejaVu Sans (regular, bold) from the system or from matplotlib's data folder."""
    folders = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"),
               Path("/usr/share/fonts/dejavu"), Path("/Library/Fonts"),
               Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"]
    try:
        import importlib.util

        spec = importlib.util.find_spec("matplotlib")
        if spec and spec.origin:
            folders.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    except (ImportError, ValueError):
        pass
    for folder in folders:
        regular = folder / "DejaVuSans.ttf"
        if regular.is_file():
            bold = folder / "DejaVuSans-Bold.ttf"
            return regular, bold if bold.is_file() else None
    return None


def _pdf_fonts(pdf: Any) -> tuple[str, Callable[[Any], str], bool]:
    """The PDF's main font family, the function every text goes through, and whether the
    main font is a Unicode one.

    Latin text is drawn with DejaVu Sans; a text with characters it lacks (Chinese...)
    gets an installed font that has them (:func:`heritage.fonts.require_font`, the
    Simplified Chinese face of a collection first), embedded as fpdf2's fallback font
    (regular and bold). A text that no installed font can draw raises
    :class:`heritage.fonts.NoFontError` (the PDF is not written, rather than written with
    characters lost)."""
    from . import fonts as ff

    dejavu = _font_files()
    main: ff.FontChoice | None = None
    if dejavu:
        pdf.add_font("DejaVu", "", str(dejavu[0]))
        pdf.add_font("DejaVu", "B", str(dejavu[1] or dejavu[0]))
        family, main = "DejaVu", ff.FontChoice(dejavu[0], 0, "DejaVu Sans")
    else:
        main = ff.font_for("Condition report — × ² •")
        if main is not None:
            bold = ff.font_for("Condition report — × ² •", bold=True) or main
            pdf.add_font("Main", "", str(main.path), collection_font_number=main.index)
            pdf.add_font("Main", "B", str(bold.path), collection_font_number=bold.index)
            family = "Main"
        else:
            family = "helvetica"  # core fonts: Latin-1 only
    fallbacks: list[tuple[str, ff.FontChoice]] = []

    def cover(text: str) -> None:
        if main is not None:
            lacking = ff.missing_glyphs(text, main)
        else:
            lacking = "".join(c for c in ff.drawn_chars(text) if ord(c) > 0xFF)
            if lacking:  # the core fonts take no fallback: there is no Unicode font at all
                raise ff.NoFontError(text, lacking)
        for _name, font in fallbacks:
            lacking = ff.missing_glyphs(lacking, font) if lacking else ""
        if not lacking:
            return
        try:
            font = ff.require_font(lacking)
        except ff.NoFontError as exc:
            raise ff.NoFontError(text, exc.missing) from None
        bold = ff.font_for(lacking, bold=True) or font
        name = f"Fallback{len(fallbacks)}"
        pdf.add_font(name, "", str(font.path), collection_font_number=font.index)
        pdf.add_font(name, "B", str(bold.path), collection_font_number=bold.index)
        fallbacks.append((name, font))
        pdf.set_fallback_fonts([n for n, _f in fallbacks], exact_match=False)

    def t(s: Any) -> str:
        text = str(s)
        if main is None:
            text = text.replace("—", "-").replace("×", "x").replace("²", "2") \
                .replace("\u2009", " ").replace("•", "-")
        cover(text)
        return text

    return family, t, main is not None


def render_pdf(project: Project, entries: list[_Entry], generated: str | None = None,
               left_out: list[str] | tuple[str, ...] = (), lang: str = "en") -> bytes:
    lang = check_lang(lang)

    def w(text: str) -> str:
        return report_word(text, lang)

    try:
        from fpdf import FPDF
        from fpdf.enums import XPos, YPos
    except ImportError:
        raise RuntimeError("PDF reports need the fpdf2 package (pip install fpdf2)") from None

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)
    family, t, fonts = _pdf_fonts(pdf)
    vocab = project.vocabulary
    head = _header(project, generated, lang)
    title = _title(head, lang)
    pdf.set_title(t(title))
    pdf.set_creator("RealScene")
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text: str, size: float = 10, style: str = "", h: float = 5.5) -> None:
        pdf.set_font(family, style, size)
        pdf.multi_cell(width, h, t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def kv_table(rows: list[tuple[str, str]]) -> None:
        pdf.set_font(family, "", 9)
        with pdf.table(col_widths=(35, width - 35), first_row_as_headings=False,
                       line_height=5, text_align="LEFT") as table:
            for k, v in rows:
                r = table.row()
                pdf.set_font(family, "B", 9)
                r.cell(t(k))
                pdf.set_font(family, "", 9)
                r.cell(t(v))
        pdf.ln(2)

    def picture(pic: _Picture, max_w: float, max_h: float) -> None:
        if pic.data is None or not pic.size:
            line(f"{pic.label}: {pic.note}" if pic.label != "view" else pic.note, 9, "", 5)
            return
        w_px, h_px = pic.size
        scale = min(max_w / w_px, max_h / h_px)
        w, h = w_px * scale, h_px * scale
        if pdf.get_y() + h > pdf.page_break_trigger:
            pdf.add_page()
        try:
            pdf.image(io.BytesIO(pic.data), x=pdf.l_margin, y=pdf.get_y(), w=w, h=h)
        except Exception as exc:
            line(f"{pic.label}: cannot be placed in the PDF ({exc})", 9)
            return
        pdf.set_y(pdf.get_y() + h + 1)
        if pic.label != "view":
            line(pic.label, 8, "", 4)
        pdf.ln(1)

    pdf.add_page()
    line(title, 18, "B", 9)
    pdf.ln(2)
    kv_table(head)
    line(w("Summary by category and condition"), 13, "B", 7)
    cols, rows = _summary(project, lang)
    pdf.set_font(family, "", 8)
    first = 40
    rest = (width - first) / max(1, len(cols))
    with pdf.table(col_widths=(first,) + (rest,) * len(cols), line_height=5,
                   text_align=("LEFT",) + ("RIGHT",) * len(cols)) as table:
        r = table.row()
        for c in [w("Category")] + cols:
            r.cell(t(c))
        for label, counts in rows:
            r = table.row()
            r.cell(t(label))
            for n in counts:
                r.cell(str(n))

    for i, en in enumerate(entries, start=1):
        a = en.ann
        pdf.add_page()
        rgb = a.color or vocab.category_color(a.category)
        pdf.set_fill_color(*[int(c) for c in rgb])
        pdf.rect(pdf.l_margin, pdf.get_y() + 1.2, 4, 4, style="F")
        pdf.set_fill_color(255, 255, 255)  # tables fill their cells with the fill colour
        pdf.set_x(pdf.l_margin + 6)
        pdf.set_font(family, "B", 14)
        pdf.multi_cell(width - 6, 7, t(f"{i}. {a.title or w('(untitled)')}"),
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        picture(en.view, width, 95)
        kv_table(en.rows)
        if a.description:
            line(w("Description"), 11, "B", 6)
            line(a.description, 10, "", 5)
            pdf.ln(2)
        if en.photos:
            line(w("Photos"), 11, "B", 6)
            for p in en.photos:
                picture(p, width * 0.75, 80)
        if en.files:
            line(w("Other linked files"), 11, "B", 6)
            for f in en.files:
                line(f"• {f}" if fonts else f"- {f}", 9, "", 5)
    if not entries:
        line(w("This project has no annotations."), 10)
    m_rows = _measurement_rows(project, lang)
    if m_rows:
        pdf.add_page()
        line(w("Measurements"), 13, "B", 7)
        pdf.set_font(family, "", 8)
        with pdf.table(col_widths=(width * 0.34, width * 0.2, width * 0.16, width * 0.12,
                                   width * 0.18), line_height=5,
                       text_align=("LEFT", "LEFT", "RIGHT", "LEFT", "LEFT")) as table:
            r = table.row()
            for h in ("Name", "Kind", "Value", "Units", "Date"):
                r.cell(t(w(h)))
            for row in m_rows:
                r = table.row()
                for c in row:
                    r.cell(t(c))
    if left_out:
        pdf.add_page()
        line(w("Left out"), 13, "B", 7)
        line(w("These linked files were not included: media are read only from the project "
               "folder, and only images RealScene can decode are embedded."), 10)
        for w in left_out:
            line(f"• {_printable(w)}" if fonts else f"- {_printable(w)}", 9, "", 5)
    return bytes(pdf.output())
