"""PLY (ASCII, binary little/big endian) point clouds and meshes via plyfile.

A PLY with a non-empty ``face`` element becomes a :class:`Mesh` (polygons triangulated
by :mod:`loaders.triangulate`: convex ones fanned, concave ones with earcut);
otherwise a :class:`PointCloud`.

The header is parsed here first, for two reasons:

* sanity: element counts are checked against the file size before plyfile allocates
  anything (a mangled count must not become a multi-gigabyte allocation);
* leniency: header lines with an unknown keyword (e.g. ``remark`` instead of
  ``comment`` in ``cube-ply-1.0_binary-comment_renamed_to_remark-invalid.ply``) are read
  as comments, with a warning, instead of rejecting the file as plyfile does.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..registry import ReaderSpec
from ..triangulate import triangulate_faces
from ..types import LoadCancelled, LoadError, Mesh, PointCloud, ProgressFn, split_origin

HINT = "the file may be truncated or corrupt; re-export it"
MAX_HEADER = 1 << 20
_SIZES = {"char": 1, "int8": 1, "uchar": 1, "uint8": 1, "short": 2, "int16": 2,
          "ushort": 2, "uint16": 2, "int": 4, "int32": 4, "uint": 4, "uint32": 4,
          "float": 4, "float32": 4, "double": 8, "float64": 8}
_KEYWORDS = {"ply", "format", "element", "property", "comment", "obj_info", "end_header"}


def parse_header(path: Path, raw: bytes):
    """Return (fixed header bytes, body offset, format, elements, warnings)."""
    end = raw.find(b"end_header")
    if not raw.startswith(b"ply") or end < 0:
        if raw.startswith(b"ply"):
            raise LoadError(path, "corrupt PLY: no 'end_header' line in the header", HINT)
        raise LoadError(path, "not a PLY file (it does not start with 'ply')",
                        "check the file type; it may be misnamed")
    nl = raw.find(b"\n", end)
    if nl < 0:
        body_offset = len(raw)
    else:
        body_offset = nl + 1
    text = raw[:body_offset].decode("latin-1")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out, warnings, elements, fmt = [], [], [], None
    for line in lines:
        words = line.split()
        if not words:
            continue
        key = words[0]
        if key not in _KEYWORDS:
            warnings.append(f"header line with unknown keyword '{key}' was read as a comment")
            out.append("comment " + line.strip())
            continue
        if key == "format":
            if len(words) < 3 or words[1] not in ("ascii", "binary_little_endian",
                                                  "binary_big_endian"):
                raise LoadError(path, f"corrupt PLY header: bad format line '{line.strip()}'",
                                HINT)
            fmt = words[1]
        elif key == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise LoadError(path, f"corrupt PLY header: bad element line "
                                f"'{line.strip()[:80]}'", HINT)
            elements.append([words[1], int(words[2]), []])
        elif key == "property":
            if not elements:
                raise LoadError(path, "corrupt PLY header: property before any element", HINT)
            if len(words) >= 2 and words[1] == "list":
                if len(words) != 5 or words[2] not in _SIZES or words[3] not in _SIZES:
                    raise LoadError(path, f"corrupt PLY header: bad property line "
                                    f"'{line.strip()[:80]}'", HINT)
                elements[-1][2].append(("list", words[2], words[3], words[4]))
            else:
                if len(words) != 3 or words[1] not in _SIZES:
                    raise LoadError(path, f"corrupt PLY header: bad property line "
                                    f"'{line.strip()[:80]}'", HINT)
                elements[-1][2].append(("scalar", words[1], None, words[2]))
        out.append(line.rstrip())
    if fmt is None:
        raise LoadError(path, "corrupt PLY header: no format line", HINT)
    fixed = ("\n".join(out) + "\n").encode("latin-1")
    return fixed, body_offset, fmt, elements, warnings


def check_sizes(path: Path, fmt: str, elements, body_bytes: int) -> None:
    need = 0
    for name, count, props in elements:
        if fmt == "ascii":
            row = 2 * max(len(props), 1)  # at least one digit and a separator a value
        else:
            row = sum(_SIZES[p[1]] if p[0] == "scalar" else _SIZES[p[1]] for p in props)
        need += count * row
        if need > body_bytes:
            raise LoadError(path, f"file is truncated or corrupt: the header declares "
                            f"{count:,} '{name}' records, more than the {body_bytes:,} bytes "
                            "of data can hold", HINT)


def read(path: Path, progress: ProgressFn | None = None):
    path = Path(path)
    report = progress or (lambda f, m: None)
    report(0.0, "Reading PLY header")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(min(size, MAX_HEADER))
    fixed, body_offset, fmt, elements, warnings = parse_header(path, head)
    check_sizes(path, fmt, elements, size - body_offset)
    try:
        from plyfile import PlyData

        if warnings:  # header was repaired: feed the fixed header plus the body
            with open(path, "rb") as fh:
                fh.seek(body_offset)
                ply = PlyData.read(io.BytesIO(fixed + fh.read()))
        else:
            ply = _read_fast(path, fmt, elements)
    except (LoadError, LoadCancelled):
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        if isinstance(exc, MemoryError):
            raise LoadError(path, "not enough memory to read this file",
                            "close other layers or open a smaller file") from None
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoadError(path, f"cannot read PLY file: {text[:250]}", HINT) from None
    report(0.7, "Building geometry")
    return _build(path, ply, fmt, warnings, report)


def _read_fast(path: Path, fmt: str, elements):
    """Read with plyfile; for binary triangle meshes first try fixed-length face lists
    (memory-mapped, much faster than plyfile's per-face loop). plyfile checks every list
    length and raises when a face is not a triangle; then read the slow, general way."""
    from plyfile import PlyData, PlyElementParseError

    known = {}
    if fmt != "ascii":
        for name, _count, props in elements:
            lists = [p[3] for p in props if p[0] == "list"]
            if name == "face" and lists:
                known[name] = {prop: 3 for prop in lists}
    if known:
        try:
            return PlyData.read(str(path), known_list_len=known)
        except PlyElementParseError as exc:
            if "unexpected list length" not in str(exc):
                raise
    return PlyData.read(str(path))


def _column(vertex, *names):
    props = {p.name for p in vertex.properties}
    for name in names:
        if name in props:
            return np.asarray(vertex[name])
    return None


def colour_channel(values: np.ndarray, peak: float | None = None) -> np.ndarray:
    """A colour channel as uint8: floats up to 1 scaled by 255, 16-bit values above 255
    shifted down by 8, the rest clipped. The choice is made on the whole column's largest
    (finite) value: ``peak`` when ``values`` is a block of a column read in blocks
    (None: there is none), else ``values``' own."""
    if peak is None and values.size:
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        peak = float(finite.max()) if finite.size else None
    if values.dtype.kind == "f":
        if peak is not None and peak <= 1.0:
            values = values * 255.0
        return np.clip(np.nan_to_num(values), 0, 255).astype(np.uint8)
    if values.dtype.itemsize > 1 and peak is not None and peak > 255:
        return (np.clip(values, 0, 65535) >> 8).astype(np.uint8)
    return np.clip(values, 0, 255).astype(np.uint8)


def _build(path: Path, ply, fmt: str, warnings: list[str], report):
    names = [e.name for e in ply.elements]
    if "vertex" not in names:
        raise LoadError(path, "PLY file has no 'vertex' element", HINT)
    vertex = ply["vertex"]
    xs = [_column(vertex, c) for c in "xyz"]
    if any(c is None for c in xs):
        raise LoadError(path, "PLY vertices have no x, y, z properties", HINT)
    with np.errstate(invalid="ignore", over="ignore"):
        xyz = np.stack([c.astype(np.float64) for c in xs], axis=1)
    if not np.isfinite(xyz).all():
        warnings.append("some vertex coordinates are not finite numbers")
    positions, origin = split_origin(xyz)

    colours = [_column(vertex, f"{c}", f"diffuse_{c}") for c in ("red", "green", "blue")]
    rgb = None
    if all(c is not None for c in colours):
        rgb = np.stack([colour_channel(c) for c in colours], axis=1)
    alpha = _column(vertex, "alpha", "diffuse_alpha")
    normals = None
    ncols = [_column(vertex, c) for c in ("nx", "ny", "nz")]
    if all(c is not None for c in ncols):
        normals = np.stack(ncols, axis=1).astype(np.float32)

    comments = list(ply.comments) + list(ply.obj_info)
    metadata: dict[str, Any] = {
        "format": "PLY",
        "version": "1.0",
        "encoding": fmt,
        "comments": comments,
        "elements": {e.name: int(e.count) for e in ply.elements},
        "vertex_properties": [p.name for p in vertex.properties],
        "warnings": warnings,
    }
    faces_el = ply["face"] if "face" in names else None
    if faces_el is not None and faces_el.count > 0:
        fprops = {p.name for p in faces_el.properties}
        key = "vertex_indices" if "vertex_indices" in fprops else (
            "vertex_index" if "vertex_index" in fprops else None)
        if key is None:
            raise LoadError(path, "PLY faces have no vertex_indices list", HINT)
        faces = _triangulate(path, faces_el[key], positions, warnings)
        vc = None
        if rgb is not None:
            a = (colour_channel(alpha) if alpha is not None
                 else np.full(len(rgb), 255, np.uint8))
            vc = np.concatenate([rgb, a[:, None]], axis=1)
        uvs = None
        u = _column(vertex, "s", "u", "texture_u")
        v = _column(vertex, "t", "v", "texture_v")
        if u is not None and v is not None:
            uvs = np.stack([u, v], axis=1).astype(np.float32)
        tex = [c.split(None, 1)[1] for c in ply.comments
               if c.lower().startswith("texturefile") and len(c.split(None, 1)) > 1]
        if tex:
            metadata["texture_files"] = tex
        report(1.0, f"Read {len(faces):,} triangles")
        return Mesh(vertices=positions, origin=origin, faces=faces, normals=normals,
                    uvs=uvs, vertex_colors=vc, metadata=metadata)

    attributes: dict[str, np.ndarray] = {}
    if rgb is not None:
        attributes["rgb"] = rgb
    if normals is not None:
        attributes["normals"] = normals
    used = {"x", "y", "z", "red", "green", "blue", "diffuse_red", "diffuse_green",
            "diffuse_blue", "nx", "ny", "nz"}
    for prop in vertex.properties:
        if prop.name in used or getattr(prop, "len_dtype", None) is not None:
            continue
        values = np.asarray(vertex[prop.name])
        name = prop.name
        if name in ("scalar_intensity", "intensity"):
            name = "intensity"
        elif name in ("scalar_classification", "classification", "class", "label"):
            name = "classification"
            values = values.astype(np.uint8) if values.size == 0 or (
                values.min() >= 0 and values.max() <= 255) else values
        else:
            name = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_") or "extra"
        if name in attributes:
            name = f"extra_{name}"
        attributes[name] = values
    report(1.0, f"Read {len(positions):,} points")
    return PointCloud(positions=positions, origin=origin, attributes=attributes,
                      metadata=metadata)


def _triangulate(path: Path, lists, positions: np.ndarray, warnings: list[str]) -> np.ndarray:
    n_vertices = len(positions)
    lists = np.asarray(lists, dtype=object) if not isinstance(lists, np.ndarray) else lists
    if lists.dtype != object and lists.ndim == 2:  # fixed-length lists
        block = np.asarray(lists, dtype=np.int64)
        sizes = np.full(len(block), block.shape[1], np.int64)
        corners = block.ravel()
        if block.shape[1] < 3:
            warnings.append(f"{len(block):,} faces with fewer than 3 vertices were skipped")
            sizes, corners = sizes[:0], corners[:0]
    else:
        lengths = np.fromiter((len(p) for p in lists), dtype=np.int64, count=len(lists))
        keep = lengths >= 3
        if not keep.all():
            warnings.append(f"{int(np.sum(~keep)):,} faces with fewer than 3 vertices "
                            "were skipped")
        sizes = lengths[keep]
        kept = [lists[i] for i in np.flatnonzero(keep)]
        corners = (np.concatenate([np.asarray(p, dtype=np.int64).ravel() for p in kept])
                   if kept else np.zeros(0, np.int64))
    bad = (corners < 0) | (corners >= n_vertices)
    if bad.any():
        face_of = np.repeat(np.arange(len(sizes)), sizes)
        raise LoadError(path, f"corrupt PLY: {len(np.unique(face_of[bad])):,} faces refer to "
                        f"vertices outside 0..{n_vertices - 1}", HINT)
    faces, _ = triangulate_faces(positions, corners, sizes)
    return faces.astype(np.int32)


def sniff(head: bytes, path: Path) -> bool:
    return head[:4] in (b"ply\n", b"ply\r") or head[:5] == b"ply\r\n"


READERS = [ReaderSpec(name="PLY", extensions=("ply",), read=read, sniff=sniff, score=10)]
