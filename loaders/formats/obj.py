"""Wavefront OBJ (+ MTL materials and textures).

Parsed with numpy rather than trimesh so that the result is exactly what the file holds:

* Positions are parsed in float64 and split into float32 local positions plus a float64
  origin (3dfier writes raw RD New coordinates straight into the OBJ).
* Vertices: when every ``v`` is always used with the same ``vt``/``vn`` the file's own
  vertex list is kept as is (``vertex_count`` == number of ``v`` lines, unreferenced
  vertices included). When a ``v`` is used with several ``vt``/``vn`` (UV seams, as in
  MeshLab exports) each distinct ``v/vt/vn`` corner becomes one vertex, like every GPU
  loader (and trimesh) does; ``metadata["obj_counts"]`` keeps the file's raw counts.
* Polygons are triangulated by :mod:`loaders.triangulate` (convex ones fanned, concave
  ones with earcut). Faces are grouped by material (stable order, first use of
  a material first) and there is one :class:`MeshPart` per material.
* UVs are as stored in the file (origin bottom-left, ``metadata["uv_origin"]``); the
  texture image is as stored (row 0 = top of the image).
* A missing MTL file, an undefined material or a missing/unreadable texture is a warning
  in ``metadata["warnings"]``, never a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from ..registry import ReaderSpec
from ..safety import check_regular_file, read_regular
from ..triangulate import triangulate_faces
from ..types import LoadError, Material, Mesh, MeshPart, ProgressFn, split_origin

MAX_MTL_BYTES = 64 << 20  # a material library is text; more than this is not one

_KEYWORDS = {
    "v", "vt", "vn", "vp", "f", "l", "p", "o", "g", "s", "mtllib", "usemtl", "usemap",
    "maplib", "cstype", "deg", "curv", "curv2", "surf", "parm", "end", "bmat", "step",
    "trim", "hole", "scrv", "sp", "con", "mg", "bevel", "c_interp", "d_interp", "lod",
    "shadow_obj", "trace_obj", "ctech", "stech", "call", "csh",
}

# map_* options and how many numeric arguments they take at most
_MAP_OPTIONS = {
    "-blendu": 1, "-blendv": 1, "-bm": 1, "-boost": 1, "-cc": 1, "-clamp": 1,
    "-imfchan": 1, "-mm": 2, "-o": 3, "-s": 3, "-t": 3, "-texres": 1, "-type": 1,
}


def sniff(head: bytes, path: Path) -> bool:
    """True when the first lines look like OBJ statements (conservative)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
        if any(ord(c) < 9 for c in text):
            return False
    lines = text.splitlines()
    if len(head) >= 4096 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    seen_statement = False
    checked = 0
    for line in lines:
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            continue
        key = s.split(None, 1)[0]
        if key not in _KEYWORDS:
            return False
        if key in ("v", "vt", "vn", "f", "o", "g", "mtllib", "usemtl"):
            seen_statement = True
        if key == "v":
            try:
                [float(t) for t in s.split()[1:4]]
            except ValueError:
                return False
        checked += 1
        if checked >= 50:
            break
    return seen_statement


# ---------------------------------------------------------------------------- MTL


def _split_map_args(rest: str) -> str:
    """Strip ``-option value...`` prefixes of a ``map_Kd`` line; return the file name.

    The file name is the raw remainder of the line, so names with spaces survive
    (``map_Kd fuze uv.jpg``).
    """
    pos = 0
    n = len(rest)
    while True:
        m = re.compile(r"\s*(\S+)").match(rest, pos)
        if not m:
            return ""
        tok = m.group(1)
        if tok.lower() in _MAP_OPTIONS and m.end() < n:
            pos = m.end()
            for _ in range(_MAP_OPTIONS[tok.lower()]):
                m2 = re.compile(r"\s*(\S+)").match(rest, pos)
                if not m2:
                    break
                arg = m2.group(1)
                try:
                    float(arg)
                except ValueError:
                    if tok.lower() in ("-blendu", "-blendv", "-clamp", "-imfchan",
                                       "-cc", "-type"):
                        pos = m2.end()  # on/off, channel letter, type name
                    break
                pos = m2.end()
            continue
        return rest[m.start(1):].strip()


def _find_file(base: Path, name: str, root: Path | None = None) -> Path | None:
    """Resolve a file referenced from an OBJ/MTL, tolerating common export quirks.

    The file must be a regular file inside ``root`` (the OBJ's folder; links are followed
    and must stay inside): an absolute path or a ``..`` escape is only looked for by its bare
    name next to the referencing file, never opened where it points.
    """
    name = name.strip().strip('"').replace("\\", "/")
    if not name or "\x00" in name:
        return None
    root = Path(os.path.realpath(root if root is not None else base))
    for cand in (name, unquote(name)):
        p = Path(os.path.realpath(base / cand)) if not os.path.isabs(cand) else None
        if p is not None and _inside(root, p) and _is_file(p):
            return p
    # case-insensitive match, then the bare file name next to the OBJ/MTL
    bare = name.rsplit("/", 1)[-1]
    if bare in ("", ".", ".."):
        return None
    try:
        entries = list(base.iterdir())
    except OSError:
        return None
    for entry in entries:
        if entry.name.lower() == bare.lower():
            real = Path(os.path.realpath(entry))
            if _inside(root, real) and _is_file(real):
                return real
    return None


def _inside(root: Path, p: Path) -> bool:
    try:
        return os.path.commonpath([root, p]) == str(root)
    except ValueError:
        return False


def _is_file(p: Path) -> bool:
    """``Path.is_file`` that is False (not an exception) for names the OS rejects.

    A corrupt ``mtllib``/``map_Kd`` line can hold a name that is too long (ENAMETOOLONG)
    or contains a NUL byte; that is a missing file, not a crash.
    """
    try:
        check_regular_file(p)  # (a FIFO or a device named as a texture is no file)
        return True
    except (OSError, ValueError):  # (UnsafePath is a ValueError)
        return False


def load_image(path: Path) -> np.ndarray:
    """Image file -> (H, W, 3|4) uint8 array (Pillow)."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if ("A" in im.getbands() or "transparency" in im.info)
                            else "RGB")
        return np.asarray(im, dtype=np.uint8).copy()


def _parse_mtl(mtl_path: Path, warnings: list[str],
               image_cache: dict[Path, np.ndarray | None],
               root: Path | None = None) -> dict[str, Material]:
    materials: dict[str, Material] = {}
    text = read_regular(mtl_path, MAX_MTL_BYTES).decode("utf-8", errors="replace")
    current: Material | None = None
    alpha: dict[str, float] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        key = parts[0]
        rest = parts[1].strip() if len(parts) > 1 else ""
        low = key.lower()
        if low == "newmtl":
            current = Material(name=rest)
            materials[rest] = current
        elif current is None:
            continue
        elif low == "kd":
            try:
                vals = [float(t) for t in rest.split()[:3]]
            except ValueError:
                warnings.append(f"{mtl_path.name}: bad Kd line '{line}' ignored")
                continue
            if len(vals) == 1:
                vals = vals * 3
            if len(vals) == 3:
                rgb = [min(max(v, 0.0), 1.0) for v in vals]
                current.color = (rgb[0], rgb[1], rgb[2], current.color[3])
        elif low == "d":
            try:
                a = float(rest.split()[-1])
            except (ValueError, IndexError):
                continue
            alpha[current.name] = min(max(a, 0.0), 1.0)
        elif low == "map_kd":
            fname = _split_map_args(rest)
            found = _find_file(mtl_path.parent, fname, root)
            current.texture_path = str(found) if found else fname
            if found is None:
                warnings.append(f"texture '{fname}' of material '{current.name}' not found "
                                f"inside the folder of the OBJ; the material is drawn "
                                f"without it")
                continue
            if found not in image_cache:
                try:
                    image_cache[found] = load_image(found)
                except Exception as exc:  # noqa: BLE001 - any Pillow failure is a warning
                    image_cache[found] = None
                    warnings.append(f"texture '{found.name}' could not be read "
                                    f"({type(exc).__name__}: {exc})")
            current.texture = image_cache[found]
    # "Tr" is ambiguous (MeshLab writes Tr 1 for opaque), so only "d" sets the alpha.
    for name, a in alpha.items():
        m = materials[name]
        m.color = (m.color[0], m.color[1], m.color[2], a)
    return materials


# ---------------------------------------------------------------------------- OBJ


def _floats(path: Path, rows: list[str], width: int, what: str) -> np.ndarray:
    """Parse lines of numbers (keyword already stripped) into a (N, width) array."""
    if not rows:
        return np.zeros((0, width), np.float64)
    try:
        flat = np.array(" ".join(rows).split(), dtype=np.float64)
        if flat.size == len(rows) * width:
            return flat.reshape(-1, width)
    except ValueError:
        pass
    out = np.zeros((len(rows), width), np.float64)
    for i, r in enumerate(rows):
        toks = r.split()
        try:
            vals = [float(t) for t in toks[:width]]
        except ValueError:
            raise LoadError(path, f"malformed '{what}' line {i + 1}: '{what} {r.strip()}'",
                            "the file may be corrupt; re-export it") from None
        if len(vals) < min(width, 2 if what == "vt" else width):
            raise LoadError(path, f"'{what}' line {i + 1} has {len(vals)} values",
                            "the file may be corrupt; re-export it")
        out[i, :len(vals)] = vals
    return out


def read(path: Path, progress: ProgressFn | None = None) -> Mesh:
    path = Path(path)
    warnings: list[str] = []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                        "check that it exists and is readable") from None
    if b"\x00" in data[:4096]:
        raise LoadError(path, "binary data in an OBJ file", "is this really an OBJ file?")
    text = data.decode("utf-8", errors="replace")
    if progress:
        progress(0.0, "reading OBJ")

    v_rows: list[str] = []
    vt_rows: list[str] = []
    vn_rows: list[str] = []
    # face corners: per face (start into corner lists, n corners)
    corner_tokens: list[str] = []
    face_sizes: list[int] = []
    face_mat: list[int] = []
    face_line: list[int] = []
    mat_names: list[str] = []
    mat_index: dict[str, int] = {}
    mtllibs: list[str] = []
    objects: list[str] = []
    current_mat = -1
    lines = text.splitlines()
    n_lines = len(lines)
    step = max(n_lines // 20, 50000)
    polygon_faces = 0
    for lineno, raw in enumerate(lines, 1):
        if progress and lineno % step == 0:
            progress(0.8 * lineno / n_lines, "reading OBJ")
        if not raw or raw[0] == "#":
            continue
        line = raw.strip()
        # joined lines ("\" continuation) are rare; handle the simple case
        if not line:
            continue
        key, _, rest = line.partition(" ")
        if "\t" in key:
            split_line = line.split(None, 1)
            key, rest = split_line[0], (split_line[1] if len(split_line) > 1 else "")
        if key == "v":
            v_rows.append(rest)
        elif key == "f":
            toks = rest.split()
            if len(toks) < 3:
                warnings.append(f"line {lineno}: face with {len(toks)} corners skipped")
                continue
            if len(toks) > 3:
                polygon_faces += 1
            corner_tokens.extend(toks)
            face_sizes.append(len(toks))
            face_mat.append(current_mat)
            face_line.append(lineno)
        elif key == "vt":
            vt_rows.append(rest)
        elif key == "vn":
            vn_rows.append(rest)
        elif key == "usemtl":
            name = rest.strip()
            if name not in mat_index:
                mat_index[name] = len(mat_names)
                mat_names.append(name)
            current_mat = mat_index[name]
        elif key == "mtllib":
            mtllibs.append(rest.strip())
        elif key == "o" or key == "g":
            objects.append(rest.strip())

    if not v_rows:
        raise LoadError(path, "no vertices ('v' lines) found",
                        "the file is empty or not an OBJ file")
    # positions (and optional per-vertex colours "v x y z r g b")
    v_widths = {len(r.split()) for r in v_rows[:1000]}
    vertex_rgb = None
    if v_widths == {6} or v_widths == {7}:
        allv = _floats(path, v_rows, max(v_widths), "v")
        xyz = allv[:, :3]
        rgb = allv[:, 3:6]
        if max(v_widths) == 7:  # x y z w r g b is not standard; treat as xyzw
            xyz = allv[:, :3]
            rgb = None
        if rgb is not None:
            scale = 255.0 if np.nanmax(rgb, initial=0.0) <= 1.0 else 1.0
            vertex_rgb = np.clip(np.round(rgb * scale), 0, 255).astype(np.uint8)
    else:
        xyz = _floats(path, v_rows, 3, "v")
    uv_all = _floats(path, vt_rows, 2, "vt") if vt_rows else None
    vn_all = _floats(path, vn_rows, 3, "vn") if vn_rows else None
    nv, nvt, nvn = len(xyz), len(vt_rows), len(vn_rows)
    if not np.all(np.isfinite(xyz)):
        raise LoadError(path, "vertex coordinates contain NaN or infinity",
                        "the file is corrupt; re-export it")

    # ------------------------------------------------------------------ faces
    n_corners = len(corner_tokens)
    sizes = np.asarray(face_sizes, dtype=np.int64)
    if n_corners:
        vi, ti, ni = _parse_corners(path, corner_tokens, face_line, sizes, nv, nvt, nvn)
    else:
        vi = ti = ni = np.zeros(0, np.int64)
    if progress:
        progress(0.85, "building mesh")

    # decide on the vertex list
    use_t = ti is not None and uv_all is not None
    use_n = ni is not None and vn_all is not None
    if ti is not None and uv_all is None:
        warnings.append("faces reference texture coordinates but the file has no 'vt'")
    if ni is not None and vn_all is None:
        warnings.append("faces reference normals but the file has no 'vn'")
    keys = [vi]
    if use_t:
        keys.append(ti)
    if use_n:
        keys.append(ni)
    split = False
    if len(keys) > 1 and n_corners:
        combo = np.stack(keys, axis=1)
        uniq, inverse = np.unique(combo, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        if len(uniq) != len(np.unique(vi)):
            split = True
    if split:
        positions = xyz[uniq[:, 0]]
        corner_v = inverse
        col = 1
        uvs = normals = None
        if use_t:
            t = uniq[:, col]
            col += 1
            uvs = np.where((t >= 0)[:, None], uv_all[np.maximum(t, 0)], 0.0)
        if use_n:
            nn = uniq[:, col]
            normals = np.where((nn >= 0)[:, None], vn_all[np.maximum(nn, 0)], 0.0)
        vcol = vertex_rgb[uniq[:, 0]] if vertex_rgb is not None else None
    else:
        positions = xyz
        corner_v = vi
        uvs = normals = None
        if use_t:
            uvs = np.zeros((nv, 2))
            ok = ti >= 0
            uvs[vi[ok]] = uv_all[ti[ok]]
        if use_n:
            normals = np.zeros((nv, 3))
            ok = ni >= 0
            normals[vi[ok]] = vn_all[ni[ok]]
        vcol = vertex_rgb
    if use_t and np.any(ti < 0):
        warnings.append("some faces have no texture coordinates; they get UV (0, 0)")
    if use_n and np.any(ni < 0):
        warnings.append("some faces have no normals; the normals are incomplete")

    faces, tri_face = triangulate_faces(positions, corner_v, sizes)

    # ------------------------------------------------------------------ materials
    materials: dict[str, Material] = {}
    image_cache: dict[Path, np.ndarray | None] = {}
    for lib in mtllibs:
        names = [lib]
        if not _find_file(path.parent, lib):
            names = lib.split()  # several libraries on one line
        for name in names:
            found = _find_file(path.parent, name)
            if found is None:
                warnings.append(f"material library '{name}' not found inside the folder "
                                f"of {path.name}; default colours are used")
                continue
            try:
                materials.update(_parse_mtl(found, warnings, image_cache, path.parent))
            except (OSError, ValueError) as exc:
                warnings.append(f"material library '{name}' could not be read: {exc}")

    fm = np.asarray(face_mat, dtype=np.int64)[tri_face] if len(tri_face) else \
        np.zeros(0, np.int64)
    parts: list[MeshPart] = []
    if len(faces):
        # group faces by material, materials in order of first use; -1 (none) first
        order = np.argsort(fm, kind="stable")
        faces = faces[order]
        fm_sorted = fm[order]
        bounds = np.flatnonzero(np.diff(fm_sorted)) + 1
        starts = np.concatenate([[0], bounds])
        stops = np.concatenate([bounds, [len(fm_sorted)]])
        for s, e in zip(starts, stops, strict=True):
            mi = int(fm_sorted[s])
            if mi < 0:
                parts.append(MeshPart("default", int(s), int(e), Material(name="default")))
                continue
            name = mat_names[mi]
            mat = materials.get(name)
            if mat is None:
                if mtllibs:
                    warnings.append(f"material '{name}' is not defined in the material "
                                    "library; a default colour is used")
                mat = Material(name=name)
            parts.append(MeshPart(name, int(s), int(e), mat))

    if not len(faces):
        warnings.append("the OBJ file contains no faces (only points/lines); nothing to draw")
    local, origin = split_origin(positions)
    meta = {
        "format": "OBJ",
        "warnings": warnings,
        "obj_counts": {"v": nv, "vt": nvt, "vn": nvn, "f": int(len(sizes)),
                       "polygons_triangulated": polygon_faces},
        "vertices_split_at_uv_seams": bool(split),
        "objects": len(objects),
        "uv_origin": "bottom-left",
        "material_libraries": mtllibs,
    }
    if progress:
        progress(1.0, "done")
    mesh = Mesh(
        vertices=local,
        origin=origin,
        faces=faces.astype(np.int32),
        normals=normals.astype(np.float32) if normals is not None else None,
        uvs=uvs.astype(np.float32) if uvs is not None else None,
        vertex_colors=(np.concatenate([vcol, np.full((len(vcol), 1), 255, np.uint8)], 1)
                       if vcol is not None else None),
        parts=parts,
        metadata=meta,
    )
    return mesh


def _parse_corners(path: Path, tokens: list[str], face_line: list[int], sizes: np.ndarray,
                   nv: int, nvt: int, nvn: int):
    """Face corner tokens ``v``, ``v/vt``, ``v//vn``, ``v/vt/vn`` -> 0-based index arrays.

    Returns (vi, ti or None, ni or None); missing entries are -1.
    """
    n = len(tokens)
    first = tokens[0]
    slashes = first.count("/")
    homogeneous = all(t.count("/") == slashes for t in tokens)
    cols: list[np.ndarray] = []
    if homogeneous:
        try:
            if slashes == 0:
                cols = [np.array(tokens, dtype=np.int64)]
            else:
                parts = "/".join(tokens).split("/")
                if len(parts) == n * (slashes + 1):
                    arr = np.array([p if p else "0" for p in parts], dtype=np.int64)
                    arr = arr.reshape(n, slashes + 1)
                    cols = [arr[:, i] for i in range(slashes + 1)]
        except (ValueError, OverflowError):  # OverflowError: index beyond int64
            cols = []
    if not cols:
        # general path: mixed corner formats
        arr = np.zeros((n, 3), np.int64)
        for i, t in enumerate(tokens):
            sp = t.split("/")
            try:
                for j, s in enumerate(sp[:3]):
                    arr[i, j] = int(s) if s else 0
            except ValueError:
                line = face_line[int(np.searchsorted(np.cumsum(sizes), i, side="right"))]
                raise LoadError(path, f"malformed face corner '{t[:60]}' on line {line}",
                                "the file may be corrupt; re-export it") from None
            except OverflowError:
                line = face_line[int(np.searchsorted(np.cumsum(sizes), i, side="right"))]
                raise LoadError(path, f"face corner '{t[:60]}' on line {line} has an index "
                                f"out of range (the file has {nv} 'v', {nvt} 'vt' and {nvn} "
                                "'vn' entries)", "the file is corrupt; re-export it") from None
        cols = [arr[:, 0], arr[:, 1], arr[:, 2]]
    while len(cols) < 3:
        cols.append(np.zeros(n, np.int64))

    def fix(raw: np.ndarray, count: int, what: str) -> np.ndarray | None:
        if not np.any(raw):
            return None
        out = np.where(raw > 0, raw - 1, np.where(raw < 0, count + raw, -1))
        bad = (raw != 0) & ((out < 0) | (out >= count))
        if what == "v":
            bad |= raw == 0
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            line = face_line[int(np.searchsorted(np.cumsum(sizes), i, side="right"))]
            raise LoadError(path, f"face on line {line} references {what} index {int(raw[i])} "
                            f"but the file has only {count} '{what}' entries",
                            "the file is corrupt or truncated; re-export it")
        return out

    vi = fix(cols[0], nv, "v")
    if vi is None:
        raise LoadError(path, "faces have no vertex indices", "the file is corrupt")
    ti = fix(cols[1], nvt, "vt")
    ni = fix(cols[2], nvn, "vn")
    return vi, ti, ni


READERS = [
    ReaderSpec(name="OBJ", extensions=("obj",), read=read, sniff=sniff, score=10),
]
