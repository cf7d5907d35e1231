"""Change report: one self-contained HTML file for a comparison of two epochs.

    write_change_report(result, "change.html")        # result: change.CompareResult

The histogram of the distances (bars coloured by a diverging map centred on zero, as the
change layer is) is an inline SVG drawn by matplotlib's SVG backend (no pyplot) with text
kept as text (any script the browser can draw); then the statistics (mean, median, 95th
percentile and maximum of |d|, share significant for M3C2), both epochs' names, dates and
point counts, the method and its parameters. The HTML helpers and the atomic write are
those of the condition report (:mod:`heritage.report`). No Qt, no VTK.
"""

from __future__ import annotations

import io
import math
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..project import atomic_write_text
from ..report import REPORT_CSS, escape_html

_WORDS_ZH = {
    "Change report": "变化报告", "Epoch A (reference)": "期次 A（参考）",
    "Epoch B (compared)": "期次 B（比较）", "Method": "方法", "Parameters": "参数",
    "Points": "点数", "Date": "日期", "unknown": "未知", "Distances": "距离",
    "Mean": "平均值", "Median": "中位数", "95th percentile of |d|": "|d| 的 95% 分位数",
    "Maximum |d|": "最大 |d|", "Minimum": "最小值", "Maximum": "最大值",
    "Standard deviation": "标准差", "Without a value": "无值",
    "Significant (|d| > LoD95)": "显著（|d| > LoD95）",
    "Mean of the significant": "显著点平均值", "Histogram": "直方图",
    "distance (m)": "距离（米）", "points": "点数", "Output": "输出", "Generated": "生成时间",
    "Warnings": "警告", "Time": "用时",
}
_METHOD = {"c2c": "Cloud-to-cloud (nearest neighbour, CloudCompare's local models)",
           "m3c2": "M3C2 (py4dgeo; level of detection at 95 %)"}


def _word(text: str, lang: str) -> str:
    return _WORDS_ZH.get(text, text) if lang == "zh" else text


def _m(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.4f} m"


def histogram_svg(counts: list[int], edges: list[float], lang: str = "en") -> str:
    """The histogram as an inline ``<svg>`` (bars coloured by a diverging map centred on
    zero); an empty string when there is nothing to draw."""
    if not counts or len(edges) != len(counts) + 1:
        return ""
    from matplotlib import colormaps, rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    limit = max(abs(edges[0]), abs(edges[-1]), 1e-9)
    cmap = colormaps["RdBu_r"]
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "realscene"}), \
            warnings.catch_warnings():
        # text stays text in the SVG (the browser draws it); a missing glyph in
        # matplotlib's own fonts only affects its layout estimate
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        warnings.filterwarnings("ignore", message="findfont")
        fig = Figure(figsize=(7.5, 3.2))
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        centres = [(edges[i] + edges[i + 1]) / 2 for i in range(len(counts))]
        widths = [edges[i + 1] - edges[i] for i in range(len(counts))]
        colours = [cmap(0.5 + 0.5 * c / limit) for c in centres]
        ax.bar(centres, counts, width=widths, color=colours, edgecolor="#444", linewidth=0.3)
        ax.axvline(0.0, color="#222", linewidth=0.8)
        ax.set_xlabel(_word("distance (m)", lang))
        ax.set_ylabel(_word("points", lang))
        ax.set_yscale("symlog", linthresh=1)
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.find("<svg"):]


def render_change_html(result: Any, generated: str | None = None, lang: str = "en") -> str:
    def w(text: str) -> str:
        return _word(text, lang)

    s = result.stats
    generated = generated or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"{w('Change report')}: {result.epoch_a['name']} → {result.epoch_b['name']}"
    html_lang = "zh-Hans" if lang == "zh" else "en"
    parts = ["<!DOCTYPE html>", f'<html lang="{html_lang}"><head><meta charset="utf-8">',
             f"<title>{escape_html(title)}</title>", '<meta name="generator" content="RealScene">',
             f"<style>{REPORT_CSS}\n.hist svg{{max-width:100%;height:auto}}</style>",
             "</head><body>", f"<h1>{escape_html(title)}</h1>", '<table class="meta">']

    def row(key: str, value: Any) -> None:
        parts.append(f"<tr><th>{escape_html(key)}</th><td>{escape_html(value)}</td></tr>")

    for label, ep, count in ((w("Epoch A (reference)"), result.epoch_a, result.count_a),
                             (w("Epoch B (compared)"), result.epoch_b, result.count_b)):
        row(label, f"{ep['name']} — {w('Date')}: {ep.get('date') or w('unknown')} — "
                   f"{count:,} {w('points')}")
    row(w("Method"), _METHOD.get(result.method, result.method))
    row(w("Parameters"), ", ".join(f"{k}={v}" for k, v in result.params.items()
                                   if v is not None))
    row(w("Output"), Path(result.out_path).name + " (" + ", ".join(result.fields) + ")")
    row(w("Generated"), generated)
    parts.append("</table>")
    parts.append(f"<h2>{escape_html(w('Distances'))}</h2>")
    parts.append('<table class="meta stats">')
    row(w("Mean"), _m(s.mean))
    row(w("Median"), _m(s.median))
    row(w("95th percentile of |d|"), _m(s.p95_abs))
    row(w("Maximum |d|"), _m(s.max_abs))
    row(w("Minimum"), _m(s.min))
    row(w("Maximum"), _m(s.max))
    row(w("Standard deviation"), _m(s.std))
    if s.count - s.valid:
        row(w("Without a value"), f"{s.count - s.valid:,}")
    if s.share_significant is not None:
        row(w("Significant (|d| > LoD95)"),
            f"{s.significant:,} ({100.0 * s.share_significant:.2f} %)")
        row(w("Mean of the significant"), _m(s.mean_significant))
    parts.append("</table>")
    svg = histogram_svg(s.histogram_counts, s.histogram_edges, lang)
    if svg:
        parts.append(f"<h2>{escape_html(w('Histogram'))}</h2>")
        parts.append(f'<figure class="hist">{svg}</figure>')
    if result.warnings:
        parts.append(f"<h2>{escape_html(w('Warnings'))}</h2><ul>")
        parts += [f"<li>{escape_html(text)}</li>" for text in result.warnings]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_change_report(result: Any, out_html: str | Path, *, lang: str = "en",
                        generated: str | None = None) -> Path:
    """Write the HTML change report of a :class:`~heritage.monitoring.change.CompareResult`
    (atomically)."""
    out = Path(out_html)
    atomic_write_text(out, render_change_html(result, generated, lang))
    return out
