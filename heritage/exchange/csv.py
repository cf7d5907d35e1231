r"""CSV (``csv``): :func:`write` one row per annotation, :func:`parse` them back;
:func:`measurements_to_csv` for the measurements table.

One row per annotation (UTF-8, header row): id, kind, title, description, category,
category_label, condition, condition_label, observed, author, tags, media, link,
wkt, crs, view, color, visible, created, modified. ``tags``/``media`` are
``;``-joined with ``\`` escaping ``;`` and ``\`` (an empty item is ``\e``); ``link``
and ``view`` are JSON; ``color`` is ``#rrggbb``. Measurements are not in the CSV
(see :func:`measurements_to_csv` for a separate table).

Safe in spreadsheets (OWASP "CSV injection"): a text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a single quote ``'`` in front,
so no spreadsheet runs it as a formula; a cell that really starts with ``'`` gets one
more, so the import (which removes exactly one leading ``'`` from such cells) gives
back every value unchanged. Numeric columns (a measurement's value) stay numbers.
Fields longer than :data:`CSV_FIELD_LIMIT` characters are refused on import.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from loaders.crs import crs_units

from ..model import Vocabulary
from ..project import Project
from .common import (
    BadContent,
    ImportResult,
    crs_from_text,
    make_annotation,
    parse_with,
    parse_wkt,
    to_wkt,
    unit_suffix,
    xyz_text,
)

CSV_COLUMNS = ("id", "kind", "title", "description", "category", "category_label",
               "condition", "condition_label", "observed", "author", "tags", "media",
               "link", "wkt", "crs", "view", "color", "visible", "created", "modified")


#: the longest CSV field read (characters); csv's own default is 131,072
CSV_FIELD_LIMIT = 1 << 20


def _hex(color: Any) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in color) if color else ""


def _unhex(text: str) -> list[int] | None:
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        raise BadContent(f"colour {text!r} is not #rrggbb")
    return [int(text[i:i + 2], 16) for i in (1, 3, 5)]


def _join(items: list[str]) -> str:
    def esc(s: str) -> str:
        return "\\e" if s == "" else s.replace("\\", "\\\\").replace(";", "\\;")

    return ";".join(esc(s) for s in items)


def _split(text: str) -> list[str]:
    if not text:
        return []
    out: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            cur.append({"\\": "\\", ";": ";", "e": ""}.get(nxt, ch + nxt))
            i += 2
            continue
        if ch == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def csv_safe(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula (see the module docstring)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_unsafe(text: str) -> str:
    """Undo :func:`csv_safe` exactly: one leading ``'`` goes when the next character is
    one that :func:`csv_safe` protects."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r'":
        return text[1:]
    return text


def write(project: Project, fh: Any) -> None:
    """Write the annotation table to the text file ``fh``, one row at a time."""
    w = csv.writer(fh, lineterminator="\r\n")  # RFC 4180; quotes a lone CR too
    w.writerow(CSV_COLUMNS)
    vocab = project.vocabulary
    danger = _FORMULA_START
    for row in _csv_rows(project, vocab):  # (csv_safe, inlined: 20 cells a row)
        w.writerow([("'" + c) if c.startswith(danger) else c for c in row])


def _csv_rows(project: Project, vocab: Vocabulary) -> Any:
    for a in project.annotations:
        yield [
            a.id, a.kind, a.title, a.description, a.category,
            vocab.category_label(a.category),
            a.condition or "",
            vocab.conditions.get(a.condition, (a.condition,))[0] if a.condition else "",
            a.observed or "", a.author, _join(a.tags), _join(a.media),
            json.dumps(a.link, ensure_ascii=False) if a.link is not None else "",
            to_wkt(a), project.crs or "",
            json.dumps(a.view, ensure_ascii=False) if a.view is not None else "",
            _hex(a.color), "true" if a.visible else "false", a.created, a.modified,
        ]


def measurements_to_csv(project: Project) -> str:
    """A separate table of measurements: id, kind, label, value, units, wkt, crs, created."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(("id", "kind", "label", "value", "units", "wkt", "crs", "created"))
    unit = crs_units(project.crs)
    for m in project.measurements:
        wkt = "LINESTRING Z (" + ", ".join(xyz_text(p) for p in m.points) + ")"
        w.writerow([csv_safe(m.id), m.kind, csv_safe(m.label), repr(m.value),
                    unit_suffix(m.kind, unit) or "", wkt, csv_safe(project.crs or ""),
                    csv_safe(m.created)])
    return buf.getvalue()


def _parse_text(text: str) -> ImportResult:
    try:
        return _parse_csv(text)
    except csv.Error as exc:
        msg = str(exc)
        if "field larger than field limit" in msg:
            msg = (f"a field is longer than {CSV_FIELD_LIMIT:,} characters (the most "
                   "RealScene reads)")
        raise BadContent(f"not readable as CSV: {msg}") from None


def _parse_csv(text: str) -> ImportResult:
    if text.startswith("\ufeff"):
        text = text[1:]
    if csv.field_size_limit() != CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in ("kind", "wkt") if c not in header]
    if missing:
        raise BadContent(f"CSV header lacks the column(s) {', '.join(missing)} "
                   f"(expected {', '.join(CSV_COLUMNS)})")
    result = ImportResult(annotations=[], format="csv")
    crss = set()
    for n, row in enumerate(reader, start=2):
        where = f"line {reader.line_num} (row {n - 1})"
        if None in row:
            raise BadContent(f"{where}: more fields than the header has")
        row = {k: (csv_unsafe(v) if v is not None else "") for k, v in row.items()}
        if not any(row.values()):
            continue
        try:
            wkind, pts = parse_wkt(row["wkt"])
        except BadContent as exc:
            raise BadContent(f"{where}: {exc}") from None
        kind = row.get("kind") or wkind
        if kind == "box" and wkind != "box":
            pts = [[min(p[i] for p in pts) for i in range(3)],
                   [max(p[i] for p in pts) for i in range(3)]]
        d: dict[str, Any] = {"kind": kind, "points": pts}
        for key in ("id", "title", "description", "category", "author", "created",
                    "modified"):
            if row.get(key):
                d[key] = row[key]
        d["condition"] = row.get("condition") or None
        d["observed"] = row.get("observed") or None
        d["tags"] = _split(row.get("tags", ""))
        d["media"] = _split(row.get("media", ""))
        for key in ("link", "view"):
            if row.get(key):
                try:
                    d[key] = json.loads(row[key])
                except json.JSONDecodeError as exc:
                    raise BadContent(f"{where}: column {key} is not JSON ({exc.msg})") from None
        try:
            d["color"] = _unhex(row.get("color", ""))
        except BadContent as exc:
            raise BadContent(f"{where}: {exc}") from None
        vis = (row.get("visible") or "true").strip().lower()
        if vis not in ("true", "false", "1", "0", "yes", "no"):
            raise BadContent(f"{where}: visible must be true or false, got {vis!r}")
        d["visible"] = vis in ("true", "1", "yes")
        if row.get("crs"):
            crss.add(crs_from_text(row["crs"]))
        if row.get("category") and row.get("category_label"):
            result.categories.setdefault(row["category"], (row["category_label"], None))
        if row.get("condition") and row.get("condition_label"):
            result.conditions.setdefault(row["condition"], (row["condition_label"], None))
        result.annotations.append(make_annotation(d, where))
    if len(crss) > 1:
        raise BadContent(f"rows in different CRSs ({', '.join(sorted(map(str, crss)))})")
    result.crs = crss.pop() if crss else None
    return result


def _is_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _plausible_chinese(text: str) -> bool:
    """Whether ``text`` (decoded as GB18030) reads as Chinese rather than as another
    8-bit encoding decoded wrongly: it has Chinese characters, at least two thirds of its
    non-ASCII characters are in GB2312 (the common simplified characters and
    punctuation), and none stands between two ASCII letters (as an accented letter of
    Latin-1 text read as GBK does, e.g. ``Größe`` -> ``Gr鲞e``)."""
    other = [i for i, ch in enumerate(text) if not ch.isascii()]
    if not any("\u4e00" <= text[i] <= "\u9fff" for i in other):
        return False
    outside = 0
    for i in other:
        try:
            text[i].encode("gb2312")
        except UnicodeEncodeError:
            outside += 1
        if 0 < i < len(text) - 1 and _is_letter(text[i - 1]) and _is_letter(text[i + 1]):
            return False
    return 3 * outside <= len(other)


def decode_csv_bytes(data: bytes, where: str | Path) -> str:
    """Text of a CSV that is not UTF-8: UTF-16 with a byte order mark, or GB18030 (and
    its subsets GBK and GB2312, as Excel on Chinese Windows saves CSV) when it decodes
    as such into Chinese text. Anything else is refused (:class:`ExchangeError` naming
    the encoding problem), never decoded into the wrong characters."""
    from .common import ExchangeError

    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ExchangeError(where, "not readable as UTF-16 text, though it starts like "
                                "it; save it as UTF-8 and import it again") from None
    if data.lstrip()[:1] in (b"{", b"["):
        raise ExchangeError(where, "JSON that is not UTF-8 (JSON must be UTF-8); save it "
                            "as UTF-8 and import it again")
    if b"\x00" not in data[:65536]:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = None
        if text is not None and _plausible_chinese(text):
            return text
    if b"\x00" in data[:65536]:
        raise ExchangeError(where, "not a text file (expected UTF-8 JSON or CSV)")
    raise ExchangeError(where, "the text is neither UTF-8 nor clearly GB18030/GBK Chinese, "
                        "so its characters cannot be read for sure; save it as UTF-8 "
                        "(\"CSV UTF-8\" in Excel) and import it again")


def parse(text: Any, where: str | Path = "<csv>") -> ImportResult:
    """CSV text -> everything it holds; :class:`ExchangeError`
    naming ``where`` when it is not readable as CSV."""
    return parse_with(where, _parse_text, text)
