"""glTF 2.0: ``.gltf`` (JSON + external or data-URI buffers) and ``.glb`` (binary).

Own accessor reading with numpy (no pygltflib), so that every failure can be reported
precisely and shared accessors are handled without blowing up memory:

* The scene graph is walked (node ``matrix`` or TRS, float64) from ``scene``, else
  scene 0, else every root node. Coordinates are world coordinates *as stored*: no
  Y-up -> Z-up conversion and no unit guessing (``metadata["up_axis"]`` says "Y" as the
  spec defines, so a viewer can rotate if it wants).
* Vertex blocks are cached by (attribute accessors, world transform): primitives that
  share a POSITION accessor under the same transform (3-20-DELFSHAVEN.gltf: 853 meshes,
  one 22,246-vertex accessor) reuse one block and only their indices are appended.
* Triangles only: strips and fans are converted, points and lines are skipped with a
  warning. Non-indexed primitives get indices 0..n-1.
* One :class:`MeshPart` per drawn primitive with its material's baseColorFactor and
  baseColorTexture (data URI, external file or bufferView image).
* UVs are flipped to the OBJ convention (``v' = 1 - v``, origin bottom-left).
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from ..registry import ReaderSpec
from ..types import LoadError, Material, Mesh, MeshPart, ProgressFn, split_origin

_GLB_MAGIC = b"glTF"
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942
_COMPONENT = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16,
              5125: np.uint32, 5126: np.float32}
_NCOMP = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_MAX_NODE_DEPTH = 512
#: an accessor without a bufferView is zero-filled (plus sparse values): its size comes
#: only from ``count``, so a corrupt count must be refused before allocating
_MAX_ZERO_ACCESSOR_COMPONENTS = 2**25
#: node visits allowed per node in the file (a strict tree visits each node once; this
#: stops a DAG like "node 0 lists node 1 ten times, node 1 lists node 2 ten times..."
#: from expanding exponentially)
_MAX_VISITS_PER_NODE = 64


def _is_index(value) -> bool:
    """A JSON integer (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _brief(value) -> str:
    """Short repr of a (possibly huge or nested) JSON value for an error message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _index_list(doc: "_Doc", value, what: str) -> list[int]:
    """A list of JSON integer indices (``scene.nodes``, ``node.children``) or a LoadError."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(_is_index(v) for v in value):
        raise doc.fail(f"{what} must be a list of node indices, not {_brief(value)}")
    return value


def _lookup(table: dict, key):
    """``table.get(key)`` that tolerates unhashable keys from a corrupt file."""
    return table.get(key) if isinstance(key, (int, str)) and not isinstance(key, bool) \
        else None


# ---------------------------------------------------------------------------- sniffing


def sniff_glb(head: bytes, path: Path) -> bool:
    return len(head) >= 12 and head[:4] == _GLB_MAGIC and \
        struct.unpack_from("<I", head, 4)[0] == 2


def sniff_gltf(head: bytes, path: Path) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    if b'"CityObjects"' in text or b'"CityJSON"' in text:
        return False
    import re

    if re.search(rb'"asset"\s*:\s*\{[^{}]*"version"\s*:\s*"2', text):
        return True
    return any(k in text for k in (b'"accessors"', b'"bufferViews"', b'"meshes"'))


# ---------------------------------------------------------------------------- document


class _Doc:
    """A parsed glTF document plus lazy access to its buffers."""

    def __init__(self, path: Path, gltf: dict, glb_bin: bytes | None) -> None:
        self.path = path
        self.gltf = gltf
        self.glb_bin = glb_bin
        self._buffers: dict[int, bytes] = {}
        self.warnings: list[str] = []

    def fail(self, reason: str, hint: str = "the file is corrupt or incomplete; "
             "re-export it") -> LoadError:
        return LoadError(self.path, reason, hint)

    def item(self, kind: str, index, what: str = "") -> dict:
        items = self.gltf.get(kind)
        if not isinstance(index, int) or isinstance(index, bool) or not isinstance(items, list) \
                or not 0 <= index < len(items) or not isinstance(items[index], dict):
            n = len(items) if isinstance(items, list) else 0
            raise self.fail(f"{what or kind} index {index!r} is out of range "
                            f"(the file has {n} {kind})")
        return items[index]

    def uri_bytes(self, uri: str, what: str) -> bytes:
        if uri.startswith("data:"):
            head, _, payload = uri.partition(",")
            try:
                if head.endswith(";base64"):
                    return base64.b64decode(payload, validate=False)
                return unquote(payload).encode("latin-1")
            except (ValueError, UnicodeEncodeError) as exc:
                raise self.fail(f"{what}: invalid data URI ({exc})") from None
        if "://" in uri:
            raise self.fail(f"{what} refers to a remote URL ({uri[:80]})",
                            "download the file next to the glTF")
        try:
            return (self.path.parent / unquote(uri)).read_bytes()
        except (OSError, ValueError):  # ValueError: NUL byte in the name
            raise self.fail(f"{what} file '{unquote(uri)}' not found next to the glTF",
                            "copy the .bin/.png files that belong to it into the same "
                            "folder") from None

    def buffer(self, index: int) -> bytes:
        if index in self._buffers:
            return self._buffers[index]
        buf = self.item("buffers", index, "buffer")
        uri = buf.get("uri")
        if uri is None:
            if index != 0 or self.glb_bin is None:
                raise self.fail(f"buffer {index} has no uri and there is no GLB binary chunk")
            data = self.glb_bin
        else:
            data = self.uri_bytes(str(uri), f"buffer {index}")
        length = buf.get("byteLength", len(data))
        if not isinstance(length, int) or len(data) < length:
            raise self.fail(f"buffer {index} holds {len(data)} bytes but byteLength says "
                            f"{length}", "the .bin file is truncated; re-export or "
                            "re-download it")
        self._buffers[index] = data
        return data

    def buffer_view(self, index: int) -> tuple[bytes, int, int, int | None]:
        """-> (buffer bytes, start, length, byteStride)."""
        bv = self.item("bufferViews", index, "bufferView")
        data = self.buffer(bv.get("buffer", -1))
        start = bv.get("byteOffset", 0)
        length = bv.get("byteLength", -1)
        if not isinstance(start, int) or not isinstance(length, int) or start < 0 \
                or length < 0 or start + length > len(data):
            raise self.fail(f"bufferView {index} (offset {start}, length {length}) lies "
                            f"outside its buffer of {len(data)} bytes")
        return data, start, length, bv.get("byteStride")

    def accessor(self, index: int, normalized_float: bool = False) -> np.ndarray:
        acc = self.item("accessors", index, "accessor")
        ctype = _lookup(_COMPONENT, acc.get("componentType"))
        ncomp = _lookup(_NCOMP, acc.get("type"))
        count = acc.get("count")
        if ctype is None or ncomp is None or not _is_index(count) or count < 0:
            raise self.fail(f"accessor {index} has an invalid componentType/type/count "
                            f"({_brief(acc.get('componentType'))}/{_brief(acc.get('type'))}/"
                            f"{_brief(count)})")
        dtype = np.dtype(ctype).newbyteorder("<")
        elem = dtype.itemsize * ncomp
        if "bufferView" in acc:
            data, start, length, stride = self.buffer_view(acc["bufferView"])
            off = acc.get("byteOffset", 0)
            if not _is_index(off) or off < 0:
                raise self.fail(f"accessor {index} has an invalid byteOffset "
                                f"{_brief(off)}")
            if stride is not None and (not _is_index(stride) or stride < 0):
                raise self.fail(f"accessor {index}: its bufferView has an invalid byteStride "
                                f"{_brief(stride)}")
            stride = stride or elem
            if stride < elem:
                raise self.fail(f"accessor {index}: byteStride {stride} is smaller than "
                                f"its element size {elem}")
            need = off + (stride * (count - 1) + elem if count else 0)
            if need > length:
                raise self.fail(f"accessor {index} needs {need} bytes but its bufferView "
                                f"has {length}")
            if stride == elem:
                arr = np.frombuffer(data, dtype=dtype, count=count * ncomp,
                                    offset=start + off).reshape(count, ncomp)
            else:
                raw = np.frombuffer(data, dtype=np.uint8, count=need - off,
                                    offset=start + off)
                rows = np.lib.stride_tricks.as_strided(
                    np.pad(raw, (0, stride * count - len(raw))) if count else raw,
                    shape=(count, elem), strides=(stride, 1))
                arr = np.ascontiguousarray(rows).view(dtype).reshape(count, ncomp)
        else:
            # checked BEFORE allocating: nothing in the file backs this size
            if count * ncomp > _MAX_ZERO_ACCESSOR_COMPONENTS:
                raise self.fail(f"accessor {index} has no bufferView but a count of "
                                f"{count:,}, far more than a zero-filled accessor can "
                                "sensibly hold")
            arr = np.zeros((count, ncomp), dtype=dtype)
        sparse = acc.get("sparse")
        if sparse:
            arr = self._apply_sparse(index, arr.copy(), sparse, dtype, ncomp)
        if normalized_float and dtype.kind in "iu":
            out = arr.astype(np.float64) / np.iinfo(dtype).max
            return np.maximum(out, -1.0)
        return arr

    def _apply_sparse(self, index, arr, sparse, dtype, ncomp):
        malformed = self.fail(f"accessor {index} has a malformed sparse section")
        if not isinstance(sparse, dict):
            raise malformed
        n = sparse.get("count")
        ind = sparse.get("indices")
        val = sparse.get("values")
        if not _is_index(n) or n < 0 or n > len(arr) or not isinstance(ind, dict) \
                or not isinstance(val, dict):
            raise malformed
        itype = _lookup(_COMPONENT, ind.get("componentType"))
        ioff = ind.get("byteOffset", 0)
        voff = val.get("byteOffset", 0)
        if itype is None or not _is_index(ioff) or not _is_index(voff) or ioff < 0 \
                or voff < 0:
            raise malformed
        itype = np.dtype(itype).newbyteorder("<")
        data, start, length, _ = self.buffer_view(ind.get("bufferView"))
        if ioff + n * itype.itemsize > length:
            raise self.fail(f"sparse indices of accessor {index} exceed their bufferView")
        idx = np.frombuffer(data, itype, count=n, offset=start + ioff).astype(np.int64)
        data, start, length, _ = self.buffer_view(val.get("bufferView"))
        if voff + n * ncomp * dtype.itemsize > length:
            raise self.fail(f"sparse values of accessor {index} exceed their bufferView")
        vals = np.frombuffer(data, dtype, count=n * ncomp, offset=start + voff).reshape(n, ncomp)
        if n and (idx.max() >= len(arr) or idx.min() < 0):
            raise self.fail(f"sparse indices of accessor {index} are out of range")
        arr[idx] = vals
        return arr


def _load_document(path: Path) -> _Doc:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                        "check that it exists and is readable") from None
    glb_bin = None
    if data[:4] == _GLB_MAGIC:
        if len(data) < 20:
            raise LoadError(path, f"GLB file is truncated ({len(data)} bytes)",
                            "re-export or re-download it")
        _, version, total = struct.unpack_from("<4sII", data, 0)
        if version != 2:
            raise LoadError(path, f"glTF binary version {version} is not supported",
                            "only glTF 2.0 is supported; convert the file")
        if total > len(data):
            raise LoadError(path, f"GLB file is truncated: header says {total} bytes, "
                            f"file has {len(data)}", "re-export or re-download it")
        pos = 12
        json_bytes = None
        while pos + 8 <= total:
            clen, ctype = struct.unpack_from("<II", data, pos)
            if pos + 8 + clen > total:
                raise LoadError(path, f"GLB chunk at byte {pos} runs past the end of the file",
                                "the file is truncated; re-export or re-download it")
            chunk = data[pos + 8:pos + 8 + clen]
            if ctype == _CHUNK_JSON and json_bytes is None:
                json_bytes = chunk
            elif ctype == _CHUNK_BIN and glb_bin is None:
                glb_bin = chunk
            pos += 8 + ((clen + 3) & ~3)
        if json_bytes is None:
            raise LoadError(path, "GLB file has no JSON chunk", "the file is corrupt")
    else:
        json_bytes = data
    try:
        gltf = json.loads(json_bytes.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise LoadError(path, "glTF JSON is not valid UTF-8 text",
                        "is this really a glTF file?") from None
    except json.JSONDecodeError as exc:
        raise LoadError(path, f"invalid glTF JSON: {exc.msg} at line {exc.lineno} column "
                        f"{exc.colno}", "the file is corrupt or truncated; re-export it"
                        ) from None
    except (ValueError, RecursionError) as exc:  # over-long integer literal, deep nesting
        raise LoadError(path, f"invalid glTF JSON: {type(exc).__name__}: "
                        f"{str(exc)[:120]}", "the file is corrupt; re-export it") from None
    if not isinstance(gltf, dict):
        raise LoadError(path, "glTF JSON is not an object", "is this really a glTF file?")
    asset = gltf.get("asset")
    version = str(asset.get("version", "")) if isinstance(asset, dict) else ""
    if not version:
        raise LoadError(path, "not a glTF file (no asset.version)",
                        "is this really a glTF file?")
    if not version.startswith("2"):
        raise LoadError(path, f"glTF version {version} is not supported",
                        "only glTF 2.0 is supported; convert the file")
    return _Doc(path, gltf, glb_bin)


# ---------------------------------------------------------------------------- geometry


def _numbers(doc: _Doc, value, n: int, what: str) -> np.ndarray:
    """A JSON list of ``n`` numbers as float64, or a LoadError."""
    if not isinstance(value, list) or len(value) != n or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise doc.fail(f"{what} must be a list of {n} numbers, not {_brief(value)}")
    try:
        return np.array(value, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        raise doc.fail(f"{what} holds a number out of range") from None


def _node_matrix(doc: _Doc, node: dict, index: int) -> np.ndarray:
    if "matrix" in node:
        m = _numbers(doc, node["matrix"], 16, f"node {index} matrix")
        return m.reshape(4, 4).T  # column-major
    t = _numbers(doc, node.get("translation", [0, 0, 0]), 3, f"node {index} translation")
    r = _numbers(doc, node.get("rotation", [0, 0, 0, 1]), 4, f"node {index} rotation")
    s = _numbers(doc, node.get("scale", [1, 1, 1]), 3, f"node {index} scale")
    norm = np.linalg.norm(r)
    x, y, z, w = r / norm if norm > 0 else (0.0, 0.0, 0.0, 1.0)
    rot = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
    m = np.eye(4)
    m[:3, :3] = rot * s[None, :]
    m[:3, 3] = t
    return m


def _triangles(doc: _Doc, mode: int, idx: np.ndarray, where: str) -> np.ndarray | None:
    if mode == 4:
        n = len(idx) - len(idx) % 3
        if n != len(idx):
            doc.warnings.append(f"{where}: {len(idx)} indices is not a multiple of 3; "
                                "the last incomplete triangle is dropped")
        return idx[:n].reshape(-1, 3)
    if mode == 5:  # strip
        if len(idx) < 3:
            return np.zeros((0, 3), idx.dtype)
        k = np.arange(len(idx) - 2)
        a, b, c = idx[k], idx[k + 1], idx[k + 2]
        odd = (k % 2) == 1
        tri = np.stack([np.where(odd, b, a), np.where(odd, a, b), c], axis=1)
        return tri
    if mode == 6:  # fan
        if len(idx) < 3:
            return np.zeros((0, 3), idx.dtype)
        k = np.arange(1, len(idx) - 1)
        return np.stack([np.full(len(k), idx[0]), idx[k], idx[k + 1]], axis=1)
    return None


def _image_for_texture(doc: _Doc, tex_index, cache: dict) -> tuple[np.ndarray | None, str | None]:
    if not _is_index(tex_index):
        doc.warnings.append(f"texture index {_brief(tex_index)} is invalid; ignored")
        return None, None
    if tex_index in cache:
        return cache[tex_index]
    result: tuple[np.ndarray | None, str | None] = (None, None)
    label = f"texture {tex_index}"
    try:
        tex = doc.item("textures", tex_index, "texture")
        src = tex.get("source")
        if src is None:
            for ext in (tex.get("extensions") or {}).values():
                if isinstance(ext, dict) and "source" in ext:
                    src = ext["source"]
                    break
        img = doc.item("images", src, "image")
        label = str(img.get("uri") or img.get("name") or f"image {src}")[:80]
        if "uri" in img:
            uri = str(img["uri"])
            raw = doc.uri_bytes(uri, f"image {src}")
            tpath = None if uri.startswith("data:") else str(doc.path.parent / unquote(uri))
        else:
            data, start, length, _ = doc.buffer_view(img.get("bufferView", -1))
            raw = data[start:start + length]
            tpath = None
        import io

        from PIL import Image

        with Image.open(io.BytesIO(raw)) as im:
            im.load()
            if im.mode not in ("RGB", "RGBA"):
                im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info
                                else "RGB")
            result = (np.asarray(im, dtype=np.uint8).copy(), tpath)
    except LoadError as exc:
        doc.warnings.append(f"texture {tex_index} skipped: {exc.reason}")
    except Exception as exc:  # noqa: BLE001 - an unreadable image is only a warning
        doc.warnings.append(f"texture {tex_index} ({label}) could not be decoded: "
                            f"{type(exc).__name__}: {exc}")
    cache[tex_index] = result
    return result


def _material(doc: _Doc, index, cache: dict, tex_cache: dict) -> Material:
    if index is None:
        return Material(name="default")
    if _is_index(index) and index in cache:
        return cache[index]
    mat = doc.item("materials", index, "material")
    pbr = mat.get("pbrMetallicRoughness") or {}
    if not isinstance(pbr, dict):
        doc.warnings.append(f"material {index}: malformed pbrMetallicRoughness ignored")
        pbr = {}
    color = pbr.get("baseColorFactor", [1.0, 1.0, 1.0, 1.0])
    try:
        rgba = tuple(float(min(max(c, 0.0), 1.0)) for c in color)
        if len(rgba) != 4 or not all(np.isfinite(rgba)):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        doc.warnings.append(f"material {index}: malformed baseColorFactor ignored")
        rgba = (1.0, 1.0, 1.0, 1.0)
    out = Material(name=str(mat.get("name") or f"material_{index}"), color=rgba)
    bct = pbr.get("baseColorTexture")
    if isinstance(bct, dict) and "index" in bct:
        out.texture, out.texture_path = _image_for_texture(doc, bct["index"], tex_cache)
    cache[index] = out
    return out


def read(path: Path, progress: ProgressFn | None = None) -> Mesh:
    path = Path(path)
    doc = _load_document(path)
    g = doc.gltf
    if progress:
        progress(0.05, "reading glTF")
    for key in ("nodes", "scenes", "meshes", "accessors", "bufferViews", "buffers",
                "materials", "textures", "images"):
        if key in g and g[key] is not None and not isinstance(g[key], list):
            raise doc.fail(f"'{key}' must be a list, not {_brief(g[key])}")
    nodes = g.get("nodes") or []
    scenes = g.get("scenes") or []
    scene_idx = g.get("scene")
    if scene_idx is not None:
        roots = _index_list(doc, doc.item("scenes", scene_idx, "scene").get("nodes"),
                            f"scene {scene_idx} 'nodes'")
    elif scenes:
        roots = _index_list(doc, doc.item("scenes", 0, "scene").get("nodes"),
                            "scene 0 'nodes'")
        if len(scenes) > 1:
            doc.warnings.append(f"no default scene set; showing scene 0 of {len(scenes)}")
    else:
        children = {c for i, n in enumerate(nodes) if isinstance(n, dict)
                    for c in _index_list(doc, n.get("children"), f"node {i} 'children'")}
        roots = [i for i in range(len(nodes)) if i not in children]

    # ---------------- walk the node graph (iterative, cycle-safe)
    draws: list[tuple[int, int, np.ndarray]] = []  # (node, mesh, world matrix)
    stack = [(r, np.eye(4), ()) for r in reversed(roots)]
    max_visits = _MAX_VISITS_PER_NODE * max(len(nodes), 1)
    visits = 0
    while stack:
        ni, parent, chain = stack.pop()
        node = doc.item("nodes", ni, "node")
        if ni in chain or len(chain) > _MAX_NODE_DEPTH:
            raise doc.fail(f"node {ni} is part of a cycle in the node hierarchy")
        visits += 1
        if visits > max_visits:
            raise doc.fail(f"the node hierarchy is not a tree: its {len(nodes)} nodes are "
                           f"reached more than {max_visits:,} times (nodes listed as a "
                           "child several times)")
        world = parent @ _node_matrix(doc, node, ni)
        if "mesh" in node:
            draws.append((ni, node["mesh"], world))
        for c in reversed(_index_list(doc, node.get("children"), f"node {ni} 'children'")):
            stack.append((c, world, chain + (ni,)))

    # ---------------- gather geometry
    # (attribute accessors, world transform) -> (first vertex, vertex count)
    blocks: dict[tuple, tuple[int, int]] = {}
    pos_list: list[np.ndarray] = []
    nrm_list: list[np.ndarray | None] = []
    uv_list: list[np.ndarray | None] = []
    col_list: list[np.ndarray | None] = []
    face_list: list[np.ndarray] = []
    parts: list[MeshPart] = []
    mat_cache: dict = {}
    tex_cache: dict = {}
    n_vertices = 0
    n_faces = 0
    skipped_modes: dict[int, int] = {}
    shared_hits = 0
    for k, (ni, mi, world) in enumerate(draws):
        if progress and k % 200 == 0:
            progress(0.05 + 0.85 * k / max(len(draws), 1), "reading glTF meshes")
        mesh = doc.item("meshes", mi, "mesh")
        prims = mesh.get("primitives") or []
        if not isinstance(prims, list):
            raise doc.fail(f"mesh {mi}: 'primitives' must be a list, not {_brief(prims)}")
        for pi, prim in enumerate(prims):
            where = f"mesh {mi} primitive {pi}"
            if not isinstance(prim, dict):
                raise doc.fail(f"{where} is not a JSON object ({_brief(prim)})")
            mode = prim.get("mode", 4)
            if not _is_index(mode):
                raise doc.fail(f"{where} has an invalid mode {_brief(mode)}")
            if mode not in (4, 5, 6):
                skipped_modes[mode] = skipped_modes.get(mode, 0) + 1
                continue
            attrs = prim.get("attributes") or {}
            if not isinstance(attrs, dict):
                raise doc.fail(f"{where}: 'attributes' must be an object, not "
                               f"{_brief(attrs)}")
            if "POSITION" not in attrs:
                doc.warnings.append(f"{where} has no POSITION attribute; skipped")
                continue
            for name in ("POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0"):
                if name in attrs and not _is_index(attrs[name]):
                    raise doc.fail(f"{where}: {name} accessor index {_brief(attrs[name])} "
                                   "is not an integer")
            if prim.get("targets"):
                doc.warnings.append(f"{where}: morph targets ignored")
            extensions = prim.get("extensions")
            if isinstance(extensions, dict) and "KHR_draco_mesh_compression" in extensions:
                raise doc.fail(f"{where} is Draco-compressed, which is not supported",
                               "re-export the glTF without Draco compression")
            key = (attrs.get("POSITION"), attrs.get("NORMAL"), attrs.get("TEXCOORD_0"),
                   attrs.get("COLOR_0"), world.tobytes())
            if key in blocks:
                base, count = blocks[key]
                shared_hits += 1
            else:
                pos = doc.accessor(attrs["POSITION"]).astype(np.float64)
                if pos.shape[1] != 3:
                    raise doc.fail(f"{where}: POSITION accessor is not VEC3")
                count = len(pos)
                pos = pos @ world[:3, :3].T + world[:3, 3]
                nrm = uv = col = None
                if "NORMAL" in attrs:
                    nrm = doc.accessor(attrs["NORMAL"]).astype(np.float64)
                    if nrm.shape != (count, 3):
                        doc.warnings.append(f"{where}: NORMAL does not match POSITION; "
                                            "ignored")
                        nrm = None
                    else:
                        try:
                            nm = np.linalg.inv(world[:3, :3]).T if np.linalg.det(
                                world[:3, :3]) != 0 else world[:3, :3]
                        except np.linalg.LinAlgError:  # singular after all
                            nm = world[:3, :3]
                        nrm = nrm @ nm.T
                        ln = np.linalg.norm(nrm, axis=1, keepdims=True)
                        nrm = np.divide(nrm, ln, out=np.zeros_like(nrm), where=ln > 0)
                if "TEXCOORD_0" in attrs:
                    uv = doc.accessor(attrs["TEXCOORD_0"], normalized_float=True)
                    uv = uv.astype(np.float64)
                    if uv.shape != (count, 2):
                        doc.warnings.append(f"{where}: TEXCOORD_0 does not match POSITION; "
                                            "ignored")
                        uv = None
                    else:
                        uv = np.column_stack([uv[:, 0], 1.0 - uv[:, 1]])
                if "COLOR_0" in attrs:
                    c = doc.accessor(attrs["COLOR_0"])
                    if len(c) != count or c.shape[1] not in (3, 4):
                        doc.warnings.append(f"{where}: COLOR_0 does not match POSITION; "
                                            "ignored")
                    else:
                        col = _to_rgba8(c)
                base = n_vertices
                blocks[key] = (base, count)
                pos_list.append(pos)
                nrm_list.append(nrm)
                uv_list.append(uv)
                col_list.append(col)
                n_vertices += count
            if "indices" in prim:
                idx = doc.accessor(prim["indices"]).reshape(-1)
                if idx.dtype.kind not in "u":
                    raise doc.fail(f"{where}: indices accessor is not an unsigned integer "
                                   "type")
                idx = idx.astype(np.int64)
                if len(idx) and idx.max() >= count:
                    raise doc.fail(f"{where}: index {int(idx.max())} is out of range "
                                   f"(POSITION has {count} vertices)")
            else:
                idx = np.arange(count, dtype=np.int64)
            tris = _triangles(doc, mode, idx, where)
            if tris is None or len(tris) == 0:
                continue
            face_list.append(tris + base)
            mat = _material(doc, prim.get("material"), mat_cache, tex_cache)
            name = mesh.get("name") or nodes[ni].get("name") or f"mesh_{mi}"
            if len(prims) > 1:
                name = f"{name}[{pi}]"
            parts.append(MeshPart(str(name), n_faces, n_faces + len(tris), mat))
            n_faces += len(tris)

    for mode, n in sorted(skipped_modes.items()):
        label = {0: "points", 1: "lines", 2: "line loops", 3: "line strips"}.get(
            mode, f"mode {mode}")
        doc.warnings.append(f"{n} primitive(s) drawn as {label} skipped (only triangles "
                            "are shown)")
    if progress:
        progress(0.92, "building mesh")
    if n_vertices:
        positions = np.concatenate(pos_list)
    else:
        positions = np.zeros((0, 3))
    faces = np.concatenate(face_list) if face_list else np.zeros((0, 3), np.int64)
    if not np.all(np.isfinite(positions)):
        raise doc.fail("vertex positions contain NaN or infinity")
    if n_vertices >= 2**31:
        raise doc.fail("too many vertices for one mesh", "split the file")

    def merge(chunks, width, fill, dtype):
        if not chunks or all(c is None for c in chunks):
            return None
        out = []
        for c, p in zip(chunks, pos_list, strict=True):
            out.append(c if c is not None else np.full((len(p), width), fill))
        return np.concatenate(out).astype(dtype)

    normals = None
    if nrm_list and all(n is not None for n in nrm_list):
        normals = np.concatenate(nrm_list).astype(np.float32)
    elif any(n is not None for n in nrm_list):
        doc.warnings.append("only some primitives have normals; normals dropped")
    uvs = merge(uv_list, 2, 0.0, np.float32)
    colors = merge(col_list, 4, 255, np.uint8)

    local, origin = split_origin(positions)
    meta = {
        "format": "GLB" if doc.glb_bin is not None or path.suffix.lower() == ".glb"
        else "glTF",
        "version": str(g["asset"].get("version")),
        "generator": str(g["asset"].get("generator", "")),
        "warnings": doc.warnings,
        "up_axis": "Y",
        "uv_origin": "bottom-left",
        "nodes_drawn": len(draws),
        "primitives": len(parts),
        "shared_vertex_blocks_reused": shared_hits,
    }
    _georeference_note(doc, g, positions, meta)
    if not len(faces):
        doc.warnings.append("the file contains no triangles")
    if progress:
        progress(1.0, "done")
    return Mesh(vertices=local, origin=origin, faces=faces.astype(np.int32),
                normals=normals, uvs=uvs, vertex_colors=colors, parts=parts, metadata=meta)


def _to_rgba8(c: np.ndarray) -> np.ndarray:
    if c.dtype.kind == "f":
        c8 = np.clip(np.round(c * 255.0), 0, 255).astype(np.uint8)
    else:
        c8 = (c.astype(np.float64) / np.iinfo(c.dtype).max * 255.0).round().astype(np.uint8)
    if c8.shape[1] == 3:
        c8 = np.concatenate([c8, np.full((len(c8), 1), 255, np.uint8)], axis=1)
    return c8


def _georeference_note(doc: _Doc, g: dict, positions: np.ndarray, meta: dict) -> None:
    used = g.get("extensionsUsed")
    if isinstance(used, list) and "CESIUM_RTC" in used:
        ext = g.get("extensions")
        rtc = ext.get("CESIUM_RTC") if isinstance(ext, dict) else None
        meta["rtc_center"] = rtc.get("center") if isinstance(rtc, dict) else None
        return
    if not len(positions):
        return
    extent = positions.max(axis=0) - positions.min(axis=0)
    integral = bool(np.all(positions == np.round(positions)))
    if extent.max() > 10_000 or (integral and extent.max() > 1000):
        doc.warnings.append(
            "the glTF has no georeference (no CRS or offset); positions are kept as "
            f"stored, spanning {extent[0]:,.0f} x {extent[1]:,.0f} x {extent[2]:,.0f} "
            "units" + (" of whole numbers (possibly millimetres relative to a local "
                       "origin)" if integral else "") + "; units were not converted")


READERS = [
    ReaderSpec(name="glTF", extensions=("gltf",), read=read, sniff=sniff_gltf, score=10),
    ReaderSpec(name="GLB", extensions=("glb",), read=read, sniff=sniff_glb, score=10),
]
