"""STL (binary and ASCII) and OFF (ASCII), parsed with numpy.

STL stores every triangle with its own three corners. Corners with bit-identical
coordinates are merged into one vertex (``metadata["stl_triangles"]`` keeps the file's
triangle count; ``triangle_count`` is unchanged by the merge; degenerate triangles are
kept). The per-facet normals are not used (renderers compute smooth or flat normals).

OFF: ``OFF``/``COFF``/``NOFF``/``CNOFF`` headers, ``#`` comments, polygons triangulated
by :mod:`loaders.triangulate` (convex ones fanned, concave ones with earcut), optional
per-face colours (0..255 integers or 0..1 floats) and per-vertex colours (COFF).
Binary OFF is rejected with a clear error.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from ..registry import ReaderSpec
from ..triangulate import triangulate_faces
from ..types import LoadError, Mesh, MeshPart, ProgressFn, split_origin

_STL_RECORD = np.dtype([("normal", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])


# ---------------------------------------------------------------------------- STL


def _stl_binary_consistent(size: int, head: bytes) -> bool:
    if len(head) < 84:
        return False
    count = struct.unpack_from("<I", head, 80)[0]
    return size == 84 + 50 * count


def sniff_stl(head: bytes, path: Path) -> bool:
    try:
        size = Path(path).stat().st_size
    except OSError:
        size = -1
    if _stl_binary_consistent(size, head):
        return True
    text = head.lstrip().lower()
    return text.startswith(b"solid") and b"facet" in text


def _merge_vertices(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T*3, 3) float array -> unique vertices (first-occurrence order) and faces."""
    if not len(corners):
        return corners.reshape(0, 3), np.zeros((0, 3), np.int64)
    c = np.ascontiguousarray(corners)
    c = c + 0.0  # turn -0.0 into 0.0 so that both merge
    keys = c.view(np.dtype((np.void, c.dtype.itemsize * 3))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    # renumber in order of first occurrence so that vertex order follows the file
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    verts = c[first[order]]
    faces = rank[inverse.reshape(-1)].reshape(-1, 3)
    return verts, faces


def read_stl(path: Path, progress: ProgressFn | None = None) -> Mesh:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                        "check that it exists and is readable") from None
    if not data:
        raise LoadError(path, "file is empty", "re-export or re-download it")
    if progress:
        progress(0.0, "reading STL")
    warnings: list[str] = []
    name = ""
    if _stl_binary_consistent(len(data), data[:84]):
        count = struct.unpack_from("<I", data, 80)[0]
        rec = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=84)
        corners = rec["v"].reshape(-1, 3).astype(np.float64)
        kind = "binary"
        header = data[:80].split(b"\x00", 1)[0].decode("latin-1", "replace").strip()
        name = header
    elif data.lstrip()[:5].lower() == b"solid":
        corners, name = _read_ascii_stl(path, data)
        kind = "ascii"
    elif len(data) >= 84:
        count = struct.unpack_from("<I", data, 80)[0]
        expected = 84 + 50 * count
        if len(data) < expected:
            raise LoadError(path, f"binary STL is truncated: the header announces {count:,} "
                            f"triangles ({expected:,} bytes) but the file has {len(data):,} "
                            "bytes", "re-export or re-download it")
        rec = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=84)
        corners = rec["v"].reshape(-1, 3).astype(np.float64)
        kind = "binary"
        warnings.append(f"{len(data) - expected} bytes of trailing data after the last "
                        "triangle ignored")
    else:
        raise LoadError(path, f"not an STL file ({len(data)} bytes, no 'solid' keyword and "
                        "too short for a binary STL header)", "re-export the file")
    n_tri = len(corners) // 3
    if n_tri == 0:
        raise LoadError(path, "STL file contains no triangles", "re-export the file")
    if not np.all(np.isfinite(corners)):
        raise LoadError(path, "STL vertex coordinates contain NaN or infinity",
                        "the file is corrupt; re-export it")
    if progress:
        progress(0.6, "merging STL vertices")
    verts, faces = _merge_vertices(corners)
    local, origin = split_origin(verts)
    if progress:
        progress(1.0, "done")
    return Mesh(
        vertices=local, origin=origin, faces=faces.astype(np.int32),
        parts=[MeshPart(name or "STL", 0, n_tri)],
        metadata={"format": "STL", "version": kind, "warnings": warnings,
                  "stl_triangles": n_tri, "stl_name": name,
                  "vertices_merged": int(len(corners) - len(verts))},
    )


_VERTEX_RE = re.compile(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", re.IGNORECASE)


def _read_ascii_stl(path: Path, data: bytes) -> tuple[np.ndarray, str]:
    first = data.lstrip().split(b"\n", 1)[0]
    name = first[5:].strip().decode("latin-1", "replace")
    found = _VERTEX_RE.findall(data)
    if not found and b"facet" not in data.lower():
        raise LoadError(path, "ASCII STL contains no facets", "re-export the file")
    try:
        corners = np.array(found, dtype=np.float64).reshape(-1, 3) if found else \
            np.zeros((0, 3))
    except ValueError:
        raise LoadError(path, "ASCII STL has a malformed 'vertex' line",
                        "the file is corrupt; re-export it") from None
    if len(corners) % 3:
        raise LoadError(path, f"ASCII STL has {len(corners)} vertices, not a multiple of 3",
                        "the file is truncated or corrupt; re-export it")
    n_facets = len(re.findall(rb"endfacet", data, re.IGNORECASE))
    if n_facets != len(corners) // 3:
        raise LoadError(path, f"ASCII STL has {n_facets} complete facets but "
                        f"{len(corners)} vertices", "the file is truncated or corrupt")
    return corners, name


# ---------------------------------------------------------------------------- OFF


_OFF_HEADERS = {"OFF", "COFF", "NOFF", "CNOFF", "STOFF", "STCOFF", "STNOFF", "STCNOFF"}


def sniff_off(head: bytes, path: Path) -> bool:
    text = head.lstrip()
    m = re.match(rb"([A-Za-z]*OFF)\b", text)
    return bool(m) and m.group(1).decode() in _OFF_HEADERS | {"4OFF", "nOFF"}


def _off_lines(text: str):
    for lineno, raw in enumerate(text.splitlines(), 1):
        s = raw.split("#", 1)[0].strip()
        if s:
            yield lineno, s


def read_off(path: Path, progress: ProgressFn | None = None) -> Mesh:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                        "check that it exists and is readable") from None
    if progress:
        progress(0.0, "reading OFF")
    head = data[:64].lstrip()
    if b"BINARY" in data[:64].split(b"\n", 1)[0].upper():
        raise LoadError(path, "binary OFF is not supported", "save the OFF file as ASCII")
    text = data.decode("utf-8", errors="replace")
    lines = list(_off_lines(text))
    if not lines or not head:
        raise LoadError(path, "file is empty", "re-export or re-download it")
    lineno, first = lines[0]
    toks = first.split()
    keyword = toks[0]
    if keyword not in _OFF_HEADERS:
        if keyword in ("4OFF", "nOFF") or keyword.endswith("OFF"):
            raise LoadError(path, f"OFF variant '{keyword}' is not supported",
                            "only 3-D OFF, COFF, NOFF and CNOFF are read")
        raise LoadError(path, "not an OFF file (first keyword is not OFF)",
                        "is this really an OFF file?")
    has_st = "ST" in keyword
    has_c = "C" in keyword
    has_n = "N" in keyword.replace("OFF", "")
    rest = toks[1:]
    pos = 1
    if not rest:
        if len(lines) < 2:
            raise LoadError(path, "OFF header has no vertex/face counts", "the file is "
                            "truncated")
        lineno, cl = lines[1]
        rest = cl.split()
        pos = 2
    try:
        nv, nf = int(rest[0]), int(rest[1])
    except (ValueError, IndexError):
        raise LoadError(path, f"line {lineno}: bad OFF counts '{' '.join(rest)}'",
                        "expected 'vertices faces edges'") from None
    if nv <= 0 or nf < 0:
        raise LoadError(path, f"OFF header announces {nv} vertices and {nf} faces",
                        "the file is corrupt")
    if len(lines) - pos < nv + nf:
        raise LoadError(path, f"OFF header announces {nv:,} vertices and {nf:,} faces but "
                        f"the file has only {len(lines) - pos:,} data lines",
                        "the file is truncated or its counts are wrong; re-export it")
    if len(lines) - pos > nv + nf:
        extra = len(lines) - pos - nv - nf
        warn_extra = [f"{extra} data line(s) after the last face ignored"]
    else:
        warn_extra = []
    warnings: list[str] = list(warn_extra)

    # ---- vertices
    vlines = [s for _, s in lines[pos:pos + nv]]
    width = 3 + (3 if has_n else 0) + (2 if has_st else 0)
    try:
        rows = [r.split() for r in vlines]
        lens = {len(r) for r in rows}
        if len(lens) == 1:
            varr = np.array(rows, dtype=np.float64)
        else:
            w = max(lens)
            varr = np.full((nv, w), np.nan)
            for i, r in enumerate(rows):
                varr[i, :len(r)] = [float(t) for t in r]
    except ValueError:
        raise LoadError(path, "malformed vertex line in OFF file",
                        "the file is corrupt; re-export it") from None
    if varr.shape[1] < 3 or not np.all(np.isfinite(varr[:, :3])):
        bad = int(np.flatnonzero(~np.all(np.isfinite(varr[:, :3]), axis=1))[0]) \
            if varr.shape[1] >= 3 else 0
        raise LoadError(path, f"OFF vertex on line {lines[pos + bad][0]} has fewer than 3 "
                        "coordinates or invalid numbers", "the file is corrupt")
    xyz = varr[:, :3]
    normals = varr[:, 3:6].astype(np.float32) if has_n and varr.shape[1] >= 6 else None
    vertex_colors = None
    if has_c:
        c0 = width
        if varr.shape[1] >= c0 + 3:
            vertex_colors = _colors_to_rgba8(varr[:, c0:c0 + 4])
    if progress:
        progress(0.4, "reading OFF faces")

    # ---- faces
    flines = lines[pos + nv:pos + nv + nf]
    corners: list[int] = []
    sizes: list[int] = []
    fcolors: list[list[float] | None] = []
    any_color = False
    for ln, s in flines:
        t = s.split()
        try:
            n = int(t[0])
            idx = [int(v) for v in t[1:1 + n]]
        except (ValueError, IndexError):
            raise LoadError(path, f"line {ln}: malformed OFF face '{s[:60]}'",
                            "the file is corrupt; re-export it") from None
        if n < 3 or len(idx) != n:
            if n < 3 and len(idx) == n:
                warnings.append(f"line {ln}: face with {n} corners skipped")
                continue
            raise LoadError(path, f"line {ln}: face announces {n} corners but lists "
                            f"{len(idx)}", "the file is corrupt or its counts are wrong")
        extra = t[1 + n:]
        col = None
        if len(extra) >= 3:
            try:
                col = [float(v) for v in extra[:4]]
                any_color = True
            except ValueError:
                col = None
        corners.extend(idx)
        sizes.append(n)
        fcolors.append(col)
    bad_idx = next((c for c in corners if not 0 <= c < nv), None) if corners and \
        not 0 <= min(corners) <= max(corners) < nv else None
    if bad_idx is not None:  # checked on Python ints: no int64 overflow on huge values
        raise LoadError(path, f"OFF face references vertex {bad_idx} but the file has {nv} "
                        "vertices", "the file is corrupt; re-export it")
    cidx = np.asarray(corners, dtype=np.int64)
    sizes_a = np.asarray(sizes, dtype=np.int64)
    faces, face_of_tri = triangulate_faces(xyz, cidx, sizes_a)
    face_colors = None
    if any_color:
        # a face without colour gets light grey; ints 0..255 or floats 0..1
        w = max(len(c) for c in fcolors if c is not None)
        arr = np.full((len(fcolors), w), np.nan)
        for i, c in enumerate(fcolors):
            if c is not None:
                arr[i, :len(c)] = c
        rgba = _colors_to_rgba8(arr)
        missing = np.isnan(arr[:, 0])
        rgba[missing] = (204, 204, 204, 255)
        face_colors = rgba[face_of_tri]
    if len(faces) == 0:
        warnings.append("the OFF file contains no faces")
    local, origin = split_origin(xyz)
    if progress:
        progress(1.0, "done")
    return Mesh(
        vertices=local, origin=origin, faces=faces.astype(np.int32), normals=normals,
        vertex_colors=vertex_colors, face_colors=face_colors,
        parts=[MeshPart("OFF", 0, len(faces))] if len(faces) else [],
        metadata={"format": "OFF", "version": keyword, "warnings": warnings,
                  "off_counts": {"vertices": nv, "faces": nf},
                  "polygons_triangulated": int(np.sum(sizes_a > 3))},
    )


def _colors_to_rgba8(arr: np.ndarray) -> np.ndarray:
    """(N, 3|4) colours, either all 0..1 floats or 0..255 integers -> (N, 4) uint8."""
    arr = np.asarray(arr, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    scale = 255.0 if finite.size and finite.max() <= 1.0 else 1.0
    out = np.full((len(arr), 4), 255, dtype=np.uint8)
    n = min(arr.shape[1], 4)
    vals = np.nan_to_num(arr[:, :n] * scale, nan=255.0)
    out[:, :n] = np.clip(np.round(vals), 0, 255).astype(np.uint8)
    return out


READERS = [
    ReaderSpec(name="STL", extensions=("stl",), read=read_stl, sniff=sniff_stl, score=10),
    ReaderSpec(name="OFF", extensions=("off",), read=read_off, sniff=sniff_off, score=10),
]
