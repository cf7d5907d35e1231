"""Binary point-cloud PLY read lean, in the ingest worker (see :mod:`loaders.ingest`).

A binary PLY whose first element is ``vertex`` with fixed-size properties only, and which
has no faces, is read without ever holding the file's records whole: the records are read
in blocks, (1) for the bounds, (2) for the float32 positions and the octree's sort keys,
then (3) one kept property at a time, gathered straight into its final place in the
octree order. Kept: positions, RGB, intensity and classification (named as
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


def _blocks(p: dict, names: list[str]):
    """``(start, records)`` blocks of the vertex records (only ``names``' fields)."""
    dtype = np.dtype([tuple(d) for d in p["dtype"]])
    n = p["count"]
    with open(p["path"], "rb") as fh:
        fh.seek(p["offset"])
        for a in range(0, n, BLOCK):
            m = min(BLOCK, n - a)
            buf = np.empty(m, dtype)
            got = fh.readinto(memoryview(buf).cast("B"))
            if got != m * dtype.itemsize:
                raise LoadError(p["path"], "file is truncated: fewer vertex records than its "
                                "header declares", ply_format.HINT)
            yield a, buf[names] if names else buf


def _positions(p: dict, alloc, report: ProgressFn) -> tuple[np.ndarray, np.ndarray, list]:
    """Float32 positions around the rounded centre of the bounds (as
    :func:`loaders.types.split_origin` makes them) and the origin; two block passes."""
    n = p["count"]
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    finite = True
    for a, block in _blocks(p, ["x", "y", "z"]):
        for k, c in enumerate("xyz"):
            col = block[c].astype(np.float64)
            ok = np.isfinite(col)
            if not ok.all():
                finite = False
                col = col[ok]
            if len(col):
                lo[k] = min(lo[k], float(col.min()))
                hi[k] = max(hi[k], float(col.max()))
        report(0.2 * (a + len(block)) / max(n, 1), "Reading PLY: bounds")
    origin = np.rint((lo + hi) / 2.0)
    origin[~np.isfinite(origin)] = 0.0
    warnings = [] if finite else ["some vertex coordinates are not finite numbers"]
    positions = alloc((n, 3), np.float32)
    for a, block in _blocks(p, ["x", "y", "z"]):
        for k, c in enumerate("xyz"):
            positions[a:a + len(block), k] = block[c].astype(np.float64) - origin[k]
        report(0.2 + 0.2 * (a + len(block)) / max(n, 1), "Reading PLY: positions")
    return positions, origin, warnings


def _column(p: dict, prop: str) -> np.ndarray:
    """One property of every vertex, in file order (contiguous)."""
    dtype = np.dtype([tuple(d) for d in p["dtype"]])
    out = np.empty(p["count"], dtype[prop])
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


def _order(positions: np.ndarray, capacity: int, report: ProgressFn):
    """The octree order of ``positions`` (None when it is a single node) and its tree."""
    from .lod import DEFAULT_CAPACITY, KeyBuffer, cloud_cube, octree_order

    capacity = capacity or DEFAULT_CAPACITY
    n = len(positions)
    if n:
        lo, hi, cube_lo, size = cloud_cube(positions)  # (finite: checked by the caller)
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
    from .lod import DEFAULT_CAPACITY, permute_in_place

    p = plan(request["path"])
    if p is None:
        raise LoadError(request["path"], "not a binary point-cloud PLY any more",
                        "open it again")
    names = [d[0] for d in p["dtype"]]
    positions, origin, warnings = _positions(p, alloc, report)
    if warnings:  # not finite: the full reader keeps such a cloud (without its octree)
        raise Fallback(warnings[0])
    perm, tree = _order(positions, DEFAULT_CAPACITY, report)
    if perm is not None:
        report(0.6, "building level of detail: reordering")
        permute_in_place(positions, perm)
    arrays: dict[str, np.ndarray] = {"positions": positions}
    colours = [next((c for c in group if c in names), None) for group in _COLOURS]
    if all(colours):
        rgb = alloc((p["count"], 3), np.uint8)
        for k, prop in enumerate(colours):
            col = ply_format.colour_channel(_column(p, prop))
            _gather(col, perm, rgb[:, k])
            del col
        arrays["rgb"] = rgb
    attr_names = _attribute_names(names)
    deferred = []
    for prop, name in attr_names.items():
        if name not in ("intensity", "classification"):
            deferred.append(name)
            continue
        col = _column(p, prop)
        if name == "classification" and (col.size == 0 or (col.min() >= 0 and
                                                           col.max() <= 255)):
            col = col.astype(np.uint8)
        out = alloc(col.shape, col.dtype)
        _gather(col, perm, out)
        arrays[name] = out
        del col
        report(0.7 + 0.3 * len(arrays) / (len(attr_names) + 2), "Reading PLY: attributes")
    if {"nx", "ny", "nz"} <= set(names):
        deferred.insert(0, "normals")
    tree.pop("_kb", None)
    metadata = {"format": "PLY", "version": "1.0", "encoding": p["encoding"],
                "comments": p["comments"], "elements": p["elements"],
                "vertex_properties": names, "warnings": warnings, "deferred": deferred}
    report(1.0, f"Read {p['count']:,} points")
    return {"metadata": metadata, "origin": origin.tolist(), "crs": None,
            "octree": tree}, arrays


def deferred(request: dict, report: ProgressFn, alloc: Callable) -> dict[str, np.ndarray]:
    """The worker's "ply_deferred" request: the properties left in the file, in the
    octree order of the lean read (computed again from the same positions)."""
    p = plan(request["path"])
    if p is None or p["count"] != request["count"]:
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
        normals = alloc((p["count"], 3), np.float32)
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
