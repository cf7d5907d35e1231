"""Binary point-cloud PLY read lean, in the ingest worker (see :mod:`loaders.ingest`).

A binary PLY whose first element is ``vertex`` with fixed-size properties only, and which
has no faces, is read without ever holding the file's records whole: the records are read
in blocks, (1) for the bounds (and what the conversions of whole columns decide on: a
colour's largest value, the classification's range), (2) for the float32 positions, whose
octree order is then computed and applied in place, then (3) for the other kept
properties, each block scattered straight to its places in that order. The attributes
are never held while the sort keys are (8 B/pt): the peak is the positions, the keys
and one column (~22 B/pt with the attributes' 6 at the end), below CloudCompare's 24.
Kept: positions, RGB, intensity and classification (named as
:mod:`loaders.formats.ply` names them); other properties (normals, extra scalars) stay in
the file until asked for (:class:`loaders.ingest.DeferredAttributes`). The arrays and
attribute names are those :func:`loaders.formats.ply.read` gives, in the octree's order.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .formats import ply as ply_format
from .types import LoadError, ProgressFn

_DTYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2",
           "int16": "i2", "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4",
           "uint": "u4", "uint32": "u4", "float": "f4", "float32": "f4", "double": "f8",
           "float64": "f8"}
#: records read per block
BLOCK = 1 << 20
#: records per block of the pass that copies every kept column (a block that stays in
#: the cache while each column is copied out of it)
PASS_BLOCK = 1 << 16
_COLOURS = (("red", "diffuse_red"), ("green", "diffuse_green"), ("blue", "diffuse_blue"))


class Fallback(Exception):
    """This file is better read by the in-process reader (the reason)."""


def plan(path: str | Path) -> dict[str, Any] | None:
    """How to read ``path`` lean: None unless it is a binary point-cloud PLY this module
    reads (anything else goes to :func:`loaders.formats.ply.read`)."""
    path = Path(path)
    try:
        if not path.is_file():  # a FIFO, a device: the full reader refuses it
            return None
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(min(size, ply_format.MAX_HEADER))
        fixed, offset, fmt, elements, warnings = ply_format.parse_header(path, head)
    except (OSError, LoadError):
        return None
    if fmt == "ascii" or warnings or not elements or elements[0][0] != "vertex":
        return None
    if any(count for name, count, _ in elements[1:]):
        return None  # faces (a mesh) or other records after the vertices
    props = elements[0][2]
    if any(p[0] != "scalar" for p in props):
        return None
    names = [p[3] for p in props]
    if len(set(names)) != len(names) or not {"x", "y", "z"} <= set(names):
        return None
    try:
        ply_format.check_sizes(path, fmt, elements, size - offset)
    except LoadError:
        return None  # the full reader gives the message
    order = "<" if fmt == "binary_little_endian" else ">"
    dtype = np.dtype([(p[3], order + _DTYPES[p[1]]) for p in props])
    text = fixed.decode("latin-1").split("\n")
    comments = [line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
                for line in text if line.startswith(("comment", "obj_info"))]
    return {"path": str(path), "offset": offset, "count": int(elements[0][1]),
            "dtype": dtype.descr, "encoding": fmt, "comments": comments,
            "elements": {name: int(count) for name, count, _ in elements}}


def _attribute_names(names: list[str]) -> dict[str, str]:
    """PLY property -> attribute name, as :func:`loaders.formats.ply._build` names them
    (x, y, z and the colours are not attributes)."""
    used = {"x", "y", "z", "red", "green", "blue", "diffuse_red", "diffuse_green",
            "diffuse_blue", "nx", "ny", "nz"}
    out: dict[str, str] = {}
    taken = {"rgb"} | ({"normals"} if {"nx", "ny", "nz"} <= set(names) else set())
    for prop in names:
        if prop in used:
            continue
        if prop in ("scalar_intensity", "intensity"):
            name = "intensity"
        elif prop in ("scalar_classification", "classification", "class", "label"):
            name = "classification"
        else:
            name = re.sub(r"[^0-9A-Za-z_]+", "_", prop).strip("_") or "extra"
        if name in taken:
            name = f"extra_{name}"
        taken.add(name)
        out[prop] = name
    return out


def kept_count(p: dict) -> int:
    """Points kept of the file's: every ``p["stride"]``-th (the memory guard's)."""
    return -(-p["count"] // max(1, int(p.get("stride", 1))))


def bytes_per_point(p: dict) -> tuple[int, int]:
    """``(resident, peak)`` bytes a point of this file costs read lean: float32 xyz,
    RGB, intensity and classification kept; at the peak the positions, the sort keys
    and a column (or the positions, the inverse order and every kept column), measured
    22.8-23.5 B/pt in the window for 18 (benchmarks/RESULTS.md, "bigopen"), plus one."""
    dtype = np.dtype([tuple(d) for d in p["dtype"]])
    names = _attribute_names(list(dtype.names))
    kept = sum(min(dtype[prop].itemsize, 8) for prop, name in names.items()
               if name in ("intensity", "classification"))
    colours = 3 if all(any(c in dtype.names for c in g) for g in _COLOURS) else 0
    resident = 12 + colours + kept
    return resident, max(12 + 8 + 4, 12 + 4 + colours + kept) + 1


def _blocks(p: dict, names: list[str], block: int = 0):
    """``(start, records)`` blocks of ``block`` vertex records (default :data:`BLOCK`;
    only ``names``' fields); with ``p["stride"]`` k, every k-th record, ``start``
    counting the kept ones."""
    dtype = np.dtype([tuple(d) for d in p["dtype"]])
    n = p["count"]
    stride = max(1, int(p.get("stride", 1)))
    step = -(-(block or BLOCK) // stride) * stride  # blocks start on a kept record
    buffer = np.empty(min(step, n), dtype)
    with open(p["path"], "rb") as fh:
        fh.seek(p["offset"])
        for a in range(0, n, step):
            m = min(step, n - a)
            buf = buffer[:m]
            got = fh.readinto(memoryview(buf).cast("B"))
            if got != m * dtype.itemsize:
                raise LoadError(p["path"], "file is truncated: fewer vertex records than its "
                                "header declares", ply_format.HINT)
            view = buf[names] if names else buf
            yield a // stride, view[::stride] if stride > 1 else view


def _scan(p: dict, report: ProgressFn, maxima: list[str] = (),
          ranges: list[str] = ()) -> dict[str, Any]:
    """The first block pass: the bounds of the finite positions (``lo``, ``hi``,
    ``finite``), the largest (finite) value of each of ``maxima`` and ``(min, max)`` of
    each of ``ranges`` (what the conversions of whole columns decide on)."""
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    finite = True
    peak: dict[str, float] = {}
    span: dict[str, tuple[float, float]] = {}
    n = kept_count(p)
    props = ["x", "y", "z"] + [c for c in dict.fromkeys([*maxima, *ranges]) if c not in "xyz"]
    for a, block in _blocks(p, props, PASS_BLOCK):
        for k, c in enumerate("xyz"):
            col = block[c].astype(np.float64)
            ok = np.isfinite(col)
            if not ok.all():
                finite = False
                col = col[ok]
            if len(col):
                lo[k] = min(lo[k], float(col.min()))
                hi[k] = max(hi[k], float(col.max()))
        for c in maxima:
            col = block[c]
            if col.dtype.kind == "f":
                col = col[np.isfinite(col)]
            if col.size:
                peak[c] = max(peak.get(c, -np.inf), float(col.max()))
        for c in ranges:
            col = block[c]
            if col.size:
                was = span.get(c, (np.inf, -np.inf))
                span[c] = (min(was[0], float(col.min())), max(was[1], float(col.max())))
        report(0.2 * (a + len(block)) / max(n, 1), "Reading PLY: bounds")
    origin = np.rint((lo + hi) / 2.0)
    origin[~np.isfinite(origin)] = 0.0
    # the float32 positions' own bounds (rounding is monotonic: the least point rounds
    # to the least position)
    local = ((lo - origin).astype(np.float32).astype(np.float64),
             (hi - origin).astype(np.float32).astype(np.float64))
    return {"origin": origin, "finite": finite, "max": peak, "range": span, "local": local}


def _positions(p: dict, alloc, report: ProgressFn) -> tuple[np.ndarray, np.ndarray, list]:
    """Float32 positions around the rounded centre of the bounds (as
    :func:`loaders.types.split_origin` makes them) and the origin; two block passes."""
    n = kept_count(p)
    scan = _scan(p, report)
    origin = scan["origin"]
    warnings = [] if scan["finite"] else ["some vertex coordinates are not finite numbers"]
    positions = alloc((n, 3), np.float32)
    for a, block in _blocks(p, ["x", "y", "z"]):
        for k, c in enumerate("xyz"):
            positions[a:a + len(block), k] = block[c].astype(np.float64) - origin[k]
        report(0.2 + 0.2 * (a + len(block)) / max(n, 1), "Reading PLY: positions")
    return positions, origin, warnings


def _column(p: dict, prop: str) -> np.ndarray:
    """One property of every vertex, in file order (contiguous)."""
    dtype = np.dtype([tuple(d) for d in p["dtype"]])
    out = np.empty(kept_count(p), dtype[prop])
    for a, block in _blocks(p, [prop]):
        out[a:a + len(block)] = block[prop]
    return out


def _gather(values: np.ndarray, perm: np.ndarray | None, out: np.ndarray) -> None:
    from .lod import CHUNK

    if perm is None:
        out[...] = values
        return
    for a in range(0, len(perm), CHUNK):
        b = min(a + CHUNK, len(perm))
        out[a:b] = values.take(perm[a:b], axis=0, mode="clip")


def _order(positions: np.ndarray, capacity: int, report: ProgressFn,
           bounds: tuple[np.ndarray, np.ndarray] | None = None):
    """The octree order of ``positions`` (None when it is a single node) and its tree;
    ``bounds``: the positions' own (lo, hi), when known."""
    from .lod import DEFAULT_CAPACITY, KeyBuffer, cloud_cube, cube_of, octree_order

    capacity = capacity or DEFAULT_CAPACITY
    n = len(positions)
    if n:  # (finite: checked by the caller)
        lo, hi, cube_lo, size = cloud_cube(positions) if bounds is None else cube_of(*bounds)
    else:
        lo = hi = cube_lo = np.zeros(3)
        size = 1.0
    if n <= capacity:
        return None, {"cube_lo": cube_lo, "cube_size": size, "lo": lo, "hi": hi,
                      "keys": np.zeros((1, 4), np.int64), "starts": np.zeros(1, np.int64),
                      "counts": np.array([n], np.int64), "capacity": capacity}
    kb = KeyBuffer(n)
    kb.fill_parallel(positions, cube_lo, size)
    report(0.45, "building level of detail")
    perm, keys, starts, counts = octree_order(kb, capacity)
    return perm, {"cube_lo": cube_lo, "cube_size": size, "lo": lo, "hi": hi, "keys": keys,
                  "starts": starts, "counts": counts, "capacity": capacity, "_kb": kb}


def load(request: dict, report: ProgressFn, alloc: Callable) -> tuple[dict, dict]:
    """The worker's "ply" request: the lean cloud and its octree (see the module notes)."""
    from .lod import DEFAULT_CAPACITY, permute_all_in_place

    p = plan(request["path"])
    if p is None:
        raise LoadError(request["path"], "not a binary point-cloud PLY any more",
                        "open it again")
    p["stride"] = max(1, int(request.get("stride", 1)))  # the memory guard's
    n = kept_count(p)
    names = [d[0] for d in p["dtype"]]
    colours = [next((c for c in group if c in names), None) for group in _COLOURS]
    colours = colours if all(colours) else []
    attr_names = _attribute_names(names)
    kept = {name: prop for prop, name in attr_names.items()
            if name in ("intensity", "classification")}
    deferred = [name for name in attr_names.values() if name not in kept]
    cls = kept.get("classification")
    scan = _scan(p, report, maxima=colours, ranges=[cls] if cls else [])
    if not scan["finite"]:  # the full reader keeps such a cloud (without its octree)
        raise Fallback("some vertex coordinates are not finite numbers")
    origin = scan["origin"]
    dtypes = np.dtype([tuple(d) for d in p["dtype"]])
    arrays: dict[str, np.ndarray] = {"positions": alloc((n, 3), np.float32)}
    if colours:
        arrays["rgb"] = alloc((n, 3), np.uint8)
    for name, prop in kept.items():
        dt = dtypes[prop]
        if name == "classification":
            lo_, hi_ = scan["range"].get(prop, (0, 0))
            if lo_ >= 0 and hi_ <= 255:
                dt = np.dtype(np.uint8)
        arrays[name] = alloc(n, dt)
    # the second pass: the positions; then their octree order (the positions reordered
    # in place), then the third pass: the other kept columns, each block scattered
    # straight to its places (the inverse order). The attributes are never held while
    # the sort keys are (8 B/pt): the peak stays the positions, the keys and a column.
    positions = arrays["positions"]
    tmp = np.empty(PASS_BLOCK, np.float64)
    for a, block in _blocks(p, ["x", "y", "z"], PASS_BLOCK):
        b = a + len(block)
        t = tmp[:b - a]
        for k, c in enumerate("xyz"):  # as x.astype(float64) - origin, rounded to float32
            np.subtract(block[c], origin[k], out=t, dtype=np.float64)
            positions[a:b, k] = t
        report(0.2 + 0.2 * b / max(n, 1), "Reading PLY: positions")
    perm, tree = _order(positions, DEFAULT_CAPACITY, report, scan["local"])
    inverse = None
    if perm is not None:
        report(0.6, "building level of detail: reordering")
        permute_all_in_place([positions], perm)
        inverse = np.empty(n, np.uint32)  # inverse[i]: where the file's point i goes
        for a in range(0, n, PASS_BLOCK):
            b = min(a + PASS_BLOCK, n)
            inverse[perm[a:b]] = np.arange(a, b, dtype=np.uint32)
        del perm
        tree.pop("_kb")  # (unmapped: its memory back before the attributes take theirs)
    others = [name for name in arrays if name != "positions"]
    for a, block in _blocks(p, [*colours, *kept.values()], PASS_BLOCK) if others else ():
        b = a + len(block)
        at = slice(a, b) if inverse is None else inverse[a:b]
        if colours:  # (rows of 3 bytes scattered as one value each: twice as fast)
            rgb = np.empty((b - a, 3), np.uint8)
            for k, c in enumerate(colours):
                values = block[c]
                rgb[:, k] = values if values.dtype == np.uint8 else ply_format.colour_channel(
                    values, scan["max"].get(c))
            arrays["rgb"].view("V3").reshape(-1)[at] = rgb.view("V3").reshape(-1)
        for name, prop in kept.items():
            arrays[name][at] = block[prop]
        report(0.7 + 0.3 * b / max(n, 1), "Reading PLY: attributes")
    del inverse
    if {"nx", "ny", "nz"} <= set(names):
        deferred.insert(0, "normals")
    tree.pop("_kb", None)
    metadata = {"format": "PLY", "version": "1.0", "encoding": p["encoding"],
                "comments": p["comments"], "elements": p["elements"],
                "vertex_properties": names, "warnings": [], "deferred": deferred}
    report(1.0, f"Read {n:,} points")
    return {"metadata": metadata, "origin": origin.tolist(), "crs": None,
            "octree": tree}, arrays


def deferred(request: dict, report: ProgressFn, alloc: Callable) -> dict[str, np.ndarray]:
    """The worker's "ply_deferred" request: the properties left in the file, in the
    octree order of the lean read (computed again from the same positions)."""
    p = plan(request["path"])
    if p is not None:
        p["stride"] = max(1, int(request.get("stride", 1)))
    if p is None or kept_count(p) != request["count"]:
        raise LoadError(request["path"], "the file changed since it was opened",
                        "open it again to read its other attributes")
    names = [d[0] for d in p["dtype"]]
    positions, origin, _ = _positions(p, np.empty, report)
    if origin.tolist() != list(request["origin"]):
        raise LoadError(request["path"], "the file changed since it was opened",
                        "open it again to read its other attributes")
    perm, _tree = _order(positions, request["capacity"], report)
    del positions
    out: dict[str, np.ndarray] = {}
    if {"nx", "ny", "nz"} <= set(names):
        normals = alloc((kept_count(p), 3), np.float32)
        for k, prop in enumerate(("nx", "ny", "nz")):
            _gather(_column(p, prop).astype(np.float32), perm, normals[:, k])
        out["normals"] = normals
    for prop, name in _attribute_names(names).items():
        if name in ("intensity", "classification"):
            continue
        col = _column(p, prop)
        dst = alloc(col.shape, col.dtype)
        _gather(col, perm, dst)
        out[name] = dst
    report(1.0, "other attributes read")
    return out
