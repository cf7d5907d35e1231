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
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..registry import ReaderSpec
from ..types import LoadError, PointCloud, ProgressFn, split_origin

BLOCK_BYTES = 8 << 20
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


def _first_lines(path: Path, n: int = 64) -> list[str]:
    lines = []
    with open(path, "rb") as fh:
        for raw in fh:
            lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
            if len(lines) >= n:
                break
    return lines


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
    for ln in data_lines[:16]:
        toks = _split(ln.replace(",", ".") if decimal_comma else ln, delim)
        if len(toks) != ncols or not all(_is_number(t) for t in toks):
            raise LoadError(path, f"not a point table: line '{ln[:60]}' is not {ncols} numbers",
                            HINT)
    if ncols < 3:
        raise LoadError(path, f"rows have only {ncols} column(s); need at least x, y, z", HINT)
    if names is not None and len(names) != ncols:
        raise LoadError(path, f"the header names {len(names)} columns but rows have {ncols}",
                        HINT)
    return {"skip": skip, "names": names, "delim": delim, "decimal_comma": decimal_comma,
            "ncols": ncols, "point_count": point_count}


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
    blocks: list[np.ndarray] = []
    line_no = layout["skip"]
    with open(path, "rb") as fh, _warnings.catch_warnings():
        _warnings.simplefilter("error", DeprecationWarning)
        for _ in range(layout["skip"]):
            fh.readline()
        rest = b""
        while True:
            chunk = fh.read(BLOCK_BYTES)
            data = rest + chunk
            if not chunk:
                if data.strip():
                    blocks.append(_parse_block(data.decode("utf-8", "replace"), layout, path,
                                               line_no))
                break
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            body, rest = data[:cut], data[cut + 1:]
            blocks.append(_parse_block(body.decode("utf-8", "replace"), layout, path, line_no))
            line_no += body.count(b"\n") + 1
            report(0.9 * min(fh.tell() / max(size, 1), 1.0),
                   f"Read {sum(len(b) for b in blocks):,} points")
    table = np.concatenate(blocks) if blocks else np.zeros((0, layout["ncols"]))
    del blocks
    return _to_cloud(path, table, layout, report)


def _columns(layout: dict[str, Any], table: np.ndarray) -> list[str]:
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
        tail = table[:, 3:6]
        if tail.size and tail.min() < 0:
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


def _to_cloud(path: Path, table: np.ndarray, layout: dict[str, Any], report) -> PointCloud:
    cols = _columns(layout, table)
    index = {name: k for k, name in enumerate(cols)}
    if not {"x", "y", "z"} <= set(index):
        raise LoadError(path, "the header has no x, y and z columns", HINT)
    xyz = table[:, [index["x"], index["y"], index["z"]]]
    warnings: list[str] = []
    bad = ~np.isfinite(xyz).all(axis=1)
    if bad.any():
        warnings.append(f"{int(bad.sum()):,} rows with non-finite coordinates were skipped")
        table, xyz = table[~bad], xyz[~bad]
    positions, origin = split_origin(xyz)
    lo = xyz.min(axis=0) if len(xyz) else np.zeros(3)
    hi = xyz.max(axis=0) if len(xyz) else np.zeros(3)
    attributes: dict[str, np.ndarray] = {}
    rgb_range = None
    if {"red", "green", "blue"} <= set(index):
        rgb, rgb_range = _rgb(table[:, [index["red"], index["green"], index["blue"]]])
        attributes["rgb"] = rgb
    if {"nx", "ny", "nz"} <= set(index):
        attributes["normals"] = table[:, [index["nx"], index["ny"], index["nz"]]].astype(
            np.float32)
    for name, k in index.items():
        if name in ("x", "y", "z", "red", "green", "blue", "nx", "ny", "nz"):
            continue
        values = table[:, k]
        if name == "classification":
            if values.size and (values.min() < 0 or values.max() > 255):
                warnings.append("classification values outside 0-255 kept as numbers")
                attributes[name] = values.astype(np.float32)
            else:
                attributes[name] = values.astype(np.uint8)
        else:
            attributes[name] = values.astype(np.float32)
    n = len(positions)
    if layout["point_count"] is not None and layout["point_count"] != n:
        warnings.append(f"the PTS count line says {layout['point_count']:,} points but the "
                        f"file holds {n:,}")
    if n == 0:
        raise LoadError(path, "no points in the text file", HINT)
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
