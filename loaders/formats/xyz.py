"""ASCII point clouds: XYZ, PTS, TXT, CSV (and ASC).

Dialects handled:

* an optional header line naming the columns (``x,y,z,r,g,b,intensity,classification``,
  ``//X Y Z R G B``, ``# x y z``...);
* PTS: the first line holds only the point count; rows are ``x y z [i] [r g b]``;
* delimiters: whitespace, comma, semicolon or tab (with semicolons, a decimal comma
  ``1,5`` is read as ``1.5``);
* comment lines starting with ``#`` or ``//`` (when not a header);
* columns without a header: 3 = xyz, 4 = xyz+intensity, 6 = xyz+rgb (or xyz+normals when
  the last three hold negative values), 7 = xyz+intensity+rgb (the PTS convention),
  more = xyz+intensity+rgb+extras (7+) or xyz+extras;
* colours as 0-255 integers, 0-1 floats or 16-bit values, stored as (N, 3) uint8.

The file is parsed in blocks of lines (about 8 MB) with ``np.fromstring``-style fast
parsing, and progress is reported per block.

Memory stays proportional to the points whatever the line structure: every read is
bounded (no ``readline`` or ``for line in file`` without a limit), a line longer than
:data:`MAX_LINE_BYTES` or with more than :data:`MAX_COLUMNS` numbers is rejected with a
clear message (a file that is one gigantic line of numbers is not a point table), and
each parsed block is kept only as float64 x/y/z plus float32 other columns until the
float32 positions are filled in, block by block. Peak: about 3 times the output arrays.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..registry import ReaderSpec
from ..types import LoadError, PointCloud, ProgressFn

BLOCK_BYTES = 8 << 20
#: longest line accepted (a row of a thousand numbers fits many times over)
MAX_LINE_BYTES = 64 << 10
#: most numbers on a row
MAX_COLUMNS = 1000
LINE_HINT = ("a point table has one point per line ('x y z ...'); convert the file, e.g. "
             "with CloudCompare or PDAL, to LAS/LAZ or to one point per line")
HINT = "expected rows of numbers 'x y z [intensity] [r g b]', optionally with a header line"
_NUM = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")

_ALIASES = {
    "x": "x", "y": "y", "z": "z", "east": "x", "easting": "x", "north": "y",
    "northing": "y", "lon": "x", "longitude": "x", "lat": "y", "latitude": "y",
    "elevation": "z", "height": "z", "h": "z",
    "r": "red", "red": "red", "g": "green", "green": "green", "b": "blue", "blue": "blue",
    "i": "intensity", "intensity": "intensity", "inten": "intensity",
    "scalar_intensity": "intensity", "reflectance": "intensity",
    "c": "classification", "class": "classification", "classification": "classification",
    "label": "classification", "scalar_classification": "classification",
    "nx": "nx", "ny": "ny", "nz": "nz", "normal_x": "nx", "normal_y": "ny", "normal_z": "nz",
}


def _is_number(token: str) -> bool:
    return bool(_NUM.match(token)) or token.lower() in ("nan", "inf", "-inf", "+inf")


def _delimiter(line: str) -> str | None:
    if "\t" in line and len(line.split("\t")) >= 3:
        return "\t"
    if ";" in line:
        return ";"
    if "," in line:
        return ","
    return None  # whitespace


def _split(line: str, delim: str | None) -> list[str]:
    if delim is None:
        return line.split()
    return [t.strip() for t in line.split(delim) if t.strip() != ""] if delim == "\t" \
        else [t.strip() for t in line.split(delim)]


def _too_long(path: Path, line: int) -> LoadError:
    return LoadError(path, f"line {line:,} is longer than {MAX_LINE_BYTES:,} bytes: not a "
                     "point table with one point per line", LINE_HINT)


def _first_lines(path: Path, n: int = 64) -> list[str]:
    """The first ``n`` lines, each read with a bounded ``readline``."""
    lines = []
    with open(path, "rb") as fh:
        while len(lines) < n:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            if len(raw) > MAX_LINE_BYTES:
                raise _too_long(path, len(lines) + 1)
            lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
    return lines


def _decimals(tokens: list[str]) -> int:
    """Most digits after the decimal point among plain decimal numbers (no exponent)."""
    best = 0
    for tok in tokens:
        t = tok.replace(",", ".")
        if "e" in t.lower() or "." not in t:
            continue
        best = max(best, len(t.split(".", 1)[1].strip()))
    return min(best, 12)


def _layout(path: Path) -> dict[str, Any]:
    """Work out header, skip count, delimiter and column names from the first lines."""
    lines = _first_lines(path)
    skip, names, point_count = 0, None, None
    i = 0
    # leading blank lines and comments
    while i < len(lines) and (not lines[i].strip() or
                              (lines[i].lstrip().startswith(("#", "//")) and
                               not _looks_like_header(lines[i]))):
        i += 1
    if i >= len(lines):
        raise LoadError(path, "no point rows found in the text file", HINT)
    first = lines[i].strip()
    tokens = first.split()
    if len(tokens) == 1 and tokens[0].isdigit() and i + 1 < len(lines):
        point_count = int(tokens[0])  # PTS count line
        i += 1
    elif _looks_like_header(first):
        delim = _delimiter(first.lstrip("#/ "))
        names = [t.strip().strip('"\'').lower() for t in
                 _split(first.lstrip("#/ ").strip(), delim)]
        i += 1
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith(("#", "//"))):
        i += 1
    skip = i
    data_lines = [ln for ln in lines[i:] if ln.strip() and not ln.lstrip().startswith(("#", "//"))]
    if not data_lines:
        raise LoadError(path, "no point rows found in the text file", HINT)
    delim = _delimiter(data_lines[0])
    decimal_comma = False
    if delim == ";" and any("," in ln for ln in data_lines[:8]):
        decimal_comma = True
    ncols = len(_split(data_lines[0], delim))
    if ncols > MAX_COLUMNS:
        raise LoadError(path, f"rows have {ncols:,} columns, more than the {MAX_COLUMNS:,} a "
                        "point table can have", LINE_HINT)
    first_xyz: list[str] = []
    for ln in data_lines[:16]:
        toks = _split(ln.replace(",", ".") if decimal_comma else ln, delim)
        if len(toks) != ncols or not all(_is_number(t) for t in toks):
            raise LoadError(path, f"not a point table: line '{ln[:60]}' is not {ncols} numbers",
                            HINT)
        first_xyz.extend(toks[:3] if names is None else
                         [t for t, name in zip(toks, names, strict=False)
                          if _ALIASES.get(name) in ("x", "y", "z")])
    if ncols < 3:
        raise LoadError(path, f"rows have only {ncols} column(s); need at least x, y, z", HINT)
    if names is not None and len(names) != ncols:
        raise LoadError(path, f"the header names {len(names)} columns but rows have {ncols}",
                        HINT)
    return {"skip": skip, "names": names, "delim": delim, "decimal_comma": decimal_comma,
            "ncols": ncols, "point_count": point_count, "decimals": _decimals(first_xyz)}


def _looks_like_header(line: str) -> bool:
    text = line.strip().lstrip("#/ ").strip()
    if not text:
        return False
    toks = _split(text, _delimiter(text))
    if len(toks) < 3 or any(_is_number(t) for t in toks):
        return False
    canon = [_ALIASES.get(t.strip().strip('"\'').lower()) for t in toks]
    return {"x", "y", "z"} <= set(canon)


def _parse_block(text: str, layout: dict[str, Any], path: Path, line0: int) -> np.ndarray:
    ncols = layout["ncols"]
    if len(text) > MAX_LINE_BYTES:  # find an over-long line before splitting it into tokens
        for k, ln in enumerate(text.split("\n")):
            if len(ln) > MAX_LINE_BYTES:
                raise _too_long(path, line0 + k + 1)
    if layout["decimal_comma"]:
        text = text.replace(",", ".")
    if layout["delim"] is not None:
        text = text.replace(layout["delim"], " ")
    if "#" in text or "//" in text:
        text = "\n".join(ln for ln in text.split("\n")
                         if not ln.lstrip().startswith(("#", "//")))
    lines = [ln for ln in text.split("\n") if ln.strip()]
    try:
        values = np.fromstring(" ".join(lines), dtype=np.float64, sep=" ")
    except (ValueError, DeprecationWarning):
        values = None
    if values is None or values.size != len(lines) * ncols:
        # find the offending line for a clear message
        for k, ln in enumerate(lines):
            toks = ln.split()
            if len(toks) != ncols or not all(_is_number(t) for t in toks):
                raise LoadError(path, f"line {line0 + k + 1}: expected {ncols} numbers, got "
                                f"'{ln.strip()[:60]}'", HINT)
        raise LoadError(path, "the text table could not be parsed as numbers", HINT)
    return values.reshape(-1, ncols)


def read(path: Path, progress: ProgressFn | None = None) -> PointCloud:
    import warnings as _warnings

    path = Path(path)
    report = progress or (lambda f, m: None)
    report(0.0, "Reading text point cloud")
    try:
        with open(path, "rb") as fh:
            sample = fh.read(4096)
        if b"\x00" in sample:
            raise LoadError(path, "binary data, not a text point table", HINT)
        layout = _layout(path)
    except UnicodeError:
        raise LoadError(path, "not a text file", HINT) from None
    size = path.stat().st_size
    store = _Blocks(path, layout)
    line_no = layout["skip"]
    with open(path, "rb") as fh, _warnings.catch_warnings():
        _warnings.simplefilter("error", DeprecationWarning)
        for k in range(layout["skip"]):
            if len(fh.readline(MAX_LINE_BYTES + 1)) > MAX_LINE_BYTES:
                raise _too_long(path, k + 1)
        rest = b""
        while True:
            chunk = fh.read(BLOCK_BYTES)
            data = rest + chunk
            if not chunk:
                if data.strip():
                    if len(data) > MAX_LINE_BYTES:
                        raise _too_long(path, line_no + 1)
                    store.add(_parse_block(data.decode("utf-8", "replace"), layout, path,
                                           line_no))
                break
            cut = data.rfind(b"\n")
            if cut < 0:  # no line end in this block: one line longer than the limit
                if len(data) > MAX_LINE_BYTES:
                    raise _too_long(path, line_no + 1)
                rest = data
                continue
            body, rest = data[:cut], data[cut + 1:]
            if len(rest) > MAX_LINE_BYTES:
                raise _too_long(path, line_no + body.count(b"\n") + 2)
            store.add(_parse_block(body.decode("utf-8", "replace"), layout, path, line_no))
            line_no += body.count(b"\n") + 1
            del body, data
            report(0.9 * min(fh.tell() / max(size, 1), 1.0), f"Read {store.count:,} points")
    return store.finish(report)


class _Blocks:
    """Parsed blocks kept compactly (float64 x/y/z, float32 other columns) until the
    output arrays are allocated once the point count is known."""

    def __init__(self, path: Path, layout: dict[str, Any]) -> None:
        self.path, self.layout = path, layout
        ncols = layout["ncols"]
        names = _columns(layout, None)
        index = {name: k for k, name in enumerate(names)}
        if not {"x", "y", "z"} <= set(index):
            raise LoadError(path, "the header has no x, y and z columns", HINT)
        self.xyz_cols = [index["x"], index["y"], index["z"]]
        self.other_cols = [k for k in range(ncols) if k not in self.xyz_cols]
        self.xyz: list[np.ndarray] = []
        self.other: list[np.ndarray] = []
        self.count = 0
        self.skipped = 0
        self.lo = np.full(3, np.inf)
        self.hi = np.full(3, -np.inf)
        #: smallest value of columns 3..5 (tells normals from colours, 6 columns)
        self.tail_min = np.inf

    def add(self, table: np.ndarray) -> None:
        xyz = table[:, self.xyz_cols]
        good = np.isfinite(xyz).all(axis=1)
        if not good.all():
            self.skipped += int((~good).sum())
            table, xyz = table[good], xyz[good]
        if not len(xyz):
            return
        self.lo = np.minimum(self.lo, xyz.min(axis=0))
        self.hi = np.maximum(self.hi, xyz.max(axis=0))
        if self.layout["ncols"] == 6 and self.layout["names"] is None:
            tail = table[:, 3:6]
            finite = tail[np.isfinite(tail)]
            if finite.size:
                self.tail_min = min(self.tail_min, float(finite.min()))
        self.xyz.append(xyz)
        self.other.append(table[:, self.other_cols].astype(np.float32))
        self.count += len(xyz)

    def finish(self, report) -> PointCloud:
        n = self.count
        if n == 0:
            raise LoadError(self.path, "no points in the text file", HINT)
        origin = np.rint((self.lo + self.hi) / 2.0)
        origin[~np.isfinite(origin)] = 0.0
        positions = np.empty((n, 3), np.float32)
        columns = [np.empty(n, np.float32) for _ in self.other_cols]
        done = 0
        while self.xyz:  # fill the outputs, dropping each block once copied
            xyz, other = self.xyz.pop(0), self.other.pop(0)
            m = len(xyz)
            positions[done:done + m] = xyz - origin
            for k, col in enumerate(columns):
                col[done:done + m] = other[:, k]
            done += m
            del xyz, other
        names = _columns(self.layout, self.tail_min)
        other_names = [names[k] for k in self.other_cols]
        return _to_cloud(self.path, positions, origin, self.lo, self.hi,
                         dict(zip(other_names, columns, strict=True)), names,
                         self.layout, self.skipped, report)


def _columns(layout: dict[str, Any], tail_min: float | None) -> list[str]:
    """Column names; ``tail_min`` is the smallest value of columns 3..5 (needed only for
    six unnamed columns: negative values there mean normals, not colours)."""
    ncols = layout["ncols"]
    if layout["names"]:
        out = []
        for k, name in enumerate(layout["names"]):
            canon = _ALIASES.get(name)
            out.append(canon if canon and canon not in out else
                       (re.sub(r"[^0-9a-z_]+", "_", name).strip("_") or f"extra_{k}"))
        return out
    if ncols == 3:
        return ["x", "y", "z"]
    if ncols == 4:
        return ["x", "y", "z", "intensity"]
    if ncols == 6:
        if tail_min is not None and tail_min < 0:
            return ["x", "y", "z", "nx", "ny", "nz"]
        return ["x", "y", "z", "red", "green", "blue"]
    if ncols >= 7:
        return ["x", "y", "z", "intensity", "red", "green", "blue"] + \
            [f"extra_{k}" for k in range(7, ncols)]
    return ["x", "y", "z"] + [f"extra_{k}" for k in range(3, ncols)]


def _rgb(values: np.ndarray) -> tuple[np.ndarray, str]:
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 0.0
    if top <= 1.0 and finite.size and not np.all(finite == np.round(finite)):
        return np.clip(np.round(values * 255.0), 0, 255).astype(np.uint8), "0-1"
    if top > 255:
        return np.clip(values / 257.0, 0, 255).round().astype(np.uint8), "0-65535"
    return np.clip(np.round(values), 0, 255).astype(np.uint8), "0-255"


def _to_cloud(path: Path, positions: np.ndarray, origin: np.ndarray, lo: np.ndarray,
              hi: np.ndarray, columns: dict[str, np.ndarray], cols: list[str],
              layout: dict[str, Any], skipped: int, report) -> PointCloud:
    warnings: list[str] = []
    if skipped:
        warnings.append(f"{skipped:,} rows with non-finite coordinates were skipped")
    attributes: dict[str, np.ndarray] = {}
    rgb_range = None
    if {"red", "green", "blue"} <= set(columns):
        rgb, rgb_range = _rgb(np.stack([columns.pop("red"), columns.pop("green"),
                                        columns.pop("blue")], axis=1))
        attributes["rgb"] = rgb
    if {"nx", "ny", "nz"} <= set(columns):
        attributes["normals"] = np.stack([columns.pop("nx"), columns.pop("ny"),
                                          columns.pop("nz")], axis=1)
    for name, values in columns.items():
        if name == "classification":
            if values.size and (values.min() < 0 or values.max() > 255):
                warnings.append("classification values outside 0-255 kept as numbers")
                attributes[name] = values
            else:
                attributes[name] = values.astype(np.uint8)
        else:
            attributes[name] = values
    n = len(positions)
    if layout["point_count"] is not None and layout["point_count"] != n:
        warnings.append(f"the PTS count line says {layout['point_count']:,} points but the "
                        f"file holds {n:,}")
    delim_name = {None: "whitespace", ",": "comma", ";": "semicolon", "\t": "tab"}
    metadata = {
        "format": "XYZ",
        "version": None,
        "columns": cols,
        "delimiter": delim_name[layout["delim"]],
        "decimal_comma": layout["decimal_comma"],
        "has_header": layout["names"] is not None,
        "header_point_count": layout["point_count"],
        "rgb_range": rgb_range,
        "bounds_min": lo.tolist(),
        "bounds_max": hi.tolist(),
        "decimals": layout.get("decimals"),
        "warnings": warnings,
    }
    report(1.0, f"Read {n:,} points")
    return PointCloud(positions=positions, origin=origin, attributes=attributes,
                      metadata=metadata)


def sniff(head: bytes, path: Path) -> bool:
    """True for text whose first rows are tables of at least three numbers."""
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head[:-4].decode("utf-8", "ignore")
    lines = [ln.strip() for ln in text.splitlines()[:20]]
    if len(head) >= 4096 and lines:
        lines = lines[:-1]  # the last line may be cut
    lines = [ln for ln in lines if ln and not ln.startswith(("#", "//"))]
    if lines and len(lines[0].split()) == 1 and lines[0].isdigit():
        lines = lines[1:]
    if lines and _looks_like_header(lines[0]):
        lines = lines[1:]
    if not lines:
        return False
    delim = _delimiter(lines[0])
    ncols = None
    for ln in lines:
        toks = _split(ln.replace(",", ".") if delim == ";" else ln, delim)
        if len(toks) < 3 or not all(_is_number(t) for t in toks):
            return False
        if ncols is None:
            ncols = len(toks)
        elif len(toks) != ncols:
            return False
    return True


READERS = [ReaderSpec(name="XYZ", extensions=("xyz", "pts", "txt", "csv", "asc"), read=read,
                      sniff=sniff, score=1)]
