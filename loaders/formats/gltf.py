"""glTF 2.0: ``.gltf`` (JSON + external or data-URI buffers) and ``.glb`` (binary).

Own accessor reading with numpy (no pygltflib), so that every failure can be reported
precisely and shared accessors are handled without blowing up memory:

* The scene graph is walked (node ``matrix`` or TRS, float64) from ``scene``, else
  scene 0, else every root node.
* glTF is Y-up by specification; RealScene's scene is Z-up. Positions and normals are
  rotated +90 degrees about X at load (glTF +Y -> scene +Z, glTF +Z -> scene -Y) and
  ``metadata["up_axis"]`` records "Y". :func:`set_up_axis` re-orients a dataset for a
  file stored against the spec (Z up); the rotation is a signed permutation of the axes,
  so switching back and forth is exact. No unit guessing.
* Vertex blocks are cached by (attribute accessors, world transform): primitives that
  share a POSITION accessor under the same transform (3-20-DELFSHAVEN.gltf: 853 meshes,
  one 22,246-vertex accessor) reuse one block and only their indices are appended.
* Triangles, strips and fans become faces; POINTS become ``Mesh.points`` and LINES /
  LINE_LOOP / LINE_STRIP become ``Mesh.lines`` (vertex indices into the same vertices).
  A file made only of POINTS is returned as a :class:`PointCloud` (COLOR_0 as ``rgb``),
  so it gets level of detail, colouring and picking like any point cloud.
  Non-indexed primitives get indices 0..n-1.
* ``KHR_draco_mesh_compression`` (DracoPy) and ``EXT_meshopt_compression`` /
  ``KHR_meshopt_compression`` (meshoptimizer) are decoded, ``KHR_mesh_quantization``
  is honoured (normalized integer attributes). Any other extension listed in
  ``extensionsRequired`` is refused with "uses extension X, which RealScene does not read".
* Buffers and images named by URI are read only from regular files inside the glTF's
  own folder (``loaders.safety.resolve_inside``) or from ``data:`` URIs; a buffer file's
  size is checked against ``byteLength`` before it is read, and every accessor,
  bufferView and decoded size is checked against the bytes that back it before numpy
  allocates or reads anything.
* One :class:`MeshPart` per drawn triangle primitive with its material's
  baseColorFactor and baseColorTexture (data URI, external file or bufferView image).
* UVs are flipped to the OBJ convention (``v' = 1 - v``, origin bottom-left).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import struct
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np

from ..registry import ReaderSpec
from ..safety import UnsafePath, open_regular, resolve_inside
from ..types import LoadError, Material, Mesh, MeshPart, PointCloud, ProgressFn, split_origin

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
#: a texture image file larger than this is not read (bytes)
_MAX_IMAGE_BYTES = 256 * 2**20
#: a .gltf / .glb file larger than this is refused before it is read (bytes)
_MAX_FILE_BYTES = 4 * 2**30
#: meshopt output may be at most this many times its compressed input (plus a little):
#: the codec cannot do better, so a larger declared size is a lie that would only
#: make the reader allocate memory the file cannot fill
_MESHOPT_MAX_RATIO = 256
#: extensions RealScene reads; any other in ``extensionsRequired`` is refused
SUPPORTED_REQUIRED_EXTENSIONS = frozenset({
    "KHR_draco_mesh_compression", "EXT_meshopt_compression", "KHR_meshopt_compression",
    "KHR_mesh_quantization",
    # the geometry and base colour are read; only the shading differs (drawn lit)
    "KHR_materials_unlit",
    # Pillow decodes WebP textures
    "EXT_texture_webp",
})
_MESHOPT_EXTENSIONS = ("EXT_meshopt_compression", "KHR_meshopt_compression")
_DRACO = "KHR_draco_mesh_compression"
#: glTF (Y up) -> scene (Z up): +90 degrees about X; (x, y, z) -> (x, -z, y)
_Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: exporters known to write Z-up coordinates against the spec: (text in
#: ``asset.generator``, note shown to the user); the user can still choose Y
_Z_UP_GENERATORS = (
    ("CityJSON2glTF", "Z up: CityJSON2glTF copies the CityJSON (Z-up) coordinates into "
                      "the glTF without rotating them"),
)
#: line primitive modes -> label
_LINE_MODES = {1: "lines", 2: "line loops", 3: "line strips"}


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
        self._buffers: dict[int, memoryview] = {}
        self._decoded_views: dict[int, tuple[memoryview, int, int, int | None]] = {}
        self.warnings: list[str] = []
        #: reads a non-data URI instead of the glTF's folder: ``(uri, max_bytes) -> bytes``
        #: (3D Tiles content: the tileset's reader, local or http(s), which keeps URIs
        #: inside the tileset's folder / origin and checks sizes before reading)
        self.fetch_uri = None

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

    def resolve(self, uri: str, what: str) -> Path:
        """The regular file inside the glTF's folder that ``uri`` names, or a LoadError
        naming the URI (absolute paths, ``file:`` URLs, ``..`` and links out of the folder,
        devices and FIFOs are refused)."""
        shown = uri if len(uri) <= 80 else uri[:77] + "..."
        try:
            scheme = urlsplit(uri).scheme
        except ValueError:  # e.g. "http://[" (a broken IPv6 host)
            scheme = "invalid"
        if scheme.lower() in ("http", "https", "ftp"):
            raise self.fail(f"{what} refers to a remote URL ({shown})",
                            "download the file next to the glTF")
        if len(scheme) > 1:  # file:, and anything else that is not a relative path
            raise self.fail(f"{what} URI '{shown}' is a {scheme}: URL, not a file beside "
                            "the glTF; refused", "a glTF may only use files inside its own "
                            "folder (or data: URIs); copy the file there")
        try:
            return resolve_inside(self.path.parent, unquote(uri))
        except UnsafePath as exc:
            if exc.reason == "does not exist":
                raise self.fail(f"{what} file '{unquote(shown)}' not found next to the glTF",
                                "copy the .bin/.png files that belong to it into the same "
                                "folder") from None
            raise self.fail(f"{what} URI '{shown}' {exc.reason}; refused",
                            "a glTF may only use files inside its own folder (or data: "
                            "URIs); copy the file there") from None

    def uri_bytes(self, uri: str, what: str, length: int | None = None,
                  max_bytes: int = _MAX_IMAGE_BYTES) -> tuple[bytes, Path | None]:
        """The bytes named by ``uri`` (a ``data:`` URI or a file inside the glTF's
        folder) and the file's path (None for data URIs). With ``length`` (a buffer's
        byteLength) exactly that many bytes are read, after checking the file holds them;
        otherwise at most ``max_bytes``."""
        if not isinstance(uri, str):
            raise self.fail(f"{what} has a uri that is not text ({_brief(uri)})")
        if uri.startswith("data:"):
            head, _, payload = uri.partition(",")
            try:
                if head.endswith(";base64"):
                    return base64.b64decode(payload, validate=False), None
                return unquote(payload).encode("latin-1"), None
            except (ValueError, UnicodeEncodeError) as exc:
                raise self.fail(f"{what}: invalid data URI ({exc})") from None
        if self.fetch_uri is not None:
            data = self.fetch_uri(uri, max_bytes if length is None else length)
            if length is not None and len(data) < length:
                raise self.fail(f"{what} '{uri[:80]}' holds {len(data):,} bytes but "
                                f"byteLength says {length:,}", "the .bin file is truncated; "
                                "re-export or re-download it")
            return (data if length is None else data[:length]), None
        target = self.resolve(uri, what)
        name = unquote(uri if len(uri) <= 80 else uri[:77] + "...")
        try:
            with open_regular(target) as fh:
                size = os.fstat(fh.fileno()).st_size
                if length is not None:
                    if size < length:
                        raise self.fail(f"{what} file '{name}' holds {size:,} bytes but "
                                        f"byteLength says {length:,}",
                                        "the .bin file is truncated; re-export or "
                                        "re-download it")
                    data = fh.read(length)
                else:
                    if size > max_bytes:
                        raise self.fail(f"{what} file '{name}' is {size:,} bytes, more "
                                        f"than the {max_bytes:,} RealScene reads",
                                        "use a smaller file")
                    data = fh.read(max_bytes)
        except UnsafePath as exc:  # swapped for a FIFO/device between check and open
            raise self.fail(f"{what} URI '{name}' {exc.reason}; refused") from None
        except OSError as exc:
            raise self.fail(f"{what} file '{name}' cannot be read: "
                            f"{exc.strerror or exc}", "check that it is readable") from None
        if length is not None and len(data) < length:  # shrank while reading
            raise self.fail(f"{what} file '{name}' holds {len(data):,} bytes but "
                            f"byteLength says {length:,}", "the .bin file is truncated; "
                            "re-export or re-download it")
        return data, target

    def buffer(self, index: int) -> memoryview:
        if _is_index(index) and index in self._buffers:
            return self._buffers[index]
        buf = self.item("buffers", index, "buffer")
        length = buf.get("byteLength")
        if not _is_index(length) or length < 0:
            raise self.fail(f"buffer {index} has no valid byteLength ({_brief(length)})")
        uri = buf.get("uri")
        if uri is None:
            if index != 0 or self.glb_bin is None:
                ext = buf.get("extensions")
                if isinstance(ext, dict) and any(
                        isinstance(ext.get(n), dict) and ext[n].get("fallback")
                        for n in _MESHOPT_EXTENSIONS):
                    raise self.fail(f"buffer {index} is a meshopt fallback buffer with no "
                                    "data, but a bufferView reads it directly")
                raise self.fail(f"buffer {index} has no uri and there is no GLB binary chunk")
            data = self.glb_bin
        else:
            data, _ = self.uri_bytes(uri, f"buffer {index}", length=length)
        if len(data) < length:
            raise self.fail(f"buffer {index} holds {len(data):,} bytes but byteLength says "
                            f"{length:,}", "the file is truncated; re-export or "
                            "re-download it")
        view = memoryview(data)[:length]
        self._buffers[index] = view
        return view

    def buffer_view(self, index: int) -> tuple[memoryview, int, int, int | None]:
        """-> (buffer bytes, start, length, byteStride); meshopt-compressed views are
        decoded (once) and returned as their own buffer."""
        if _is_index(index) and index in self._decoded_views:
            return self._decoded_views[index]
        bv = self.item("bufferViews", index, "bufferView")
        ext = bv.get("extensions")
        if isinstance(ext, dict):
            for name in _MESHOPT_EXTENSIONS:
                if name in ext:
                    view = self._meshopt_view(index, bv, ext[name], name)
                    self._decoded_views[index] = view
                    return view
        data = self.buffer(bv.get("buffer", -1))
        start = bv.get("byteOffset", 0)
        length = bv.get("byteLength", -1)
        if not _is_index(start) or not _is_index(length) or start < 0 \
                or length < 0 or start + length > len(data):
            raise self.fail(f"bufferView {index} (offset {_brief(start)}, length "
                            f"{_brief(length)}) lies outside its buffer of {len(data):,} "
                            "bytes")
        return data, start, length, bv.get("byteStride")

    def _meshopt_view(self, index: int, bv: dict, mo, name: str
                      ) -> tuple[memoryview, int, int, int | None]:
        """Decode an ``EXT_meshopt_compression`` bufferView with meshoptimizer."""
        where = f"bufferView {index} ({name})"
        if not isinstance(mo, dict):
            raise self.fail(f"{where}: the extension is not a JSON object")
        data = self.buffer(mo.get("buffer", -1))
        off, clen = mo.get("byteOffset", 0), mo.get("byteLength")
        stride, count = mo.get("byteStride"), mo.get("count")
        mode, filt = mo.get("mode"), mo.get("filter", "NONE")
        if not all(_is_index(v) and v >= 0 for v in (off, clen, stride, count)):
            raise self.fail(f"{where}: byteOffset/byteLength/byteStride/count must be "
                            f"non-negative integers ({_brief([off, clen, stride, count])})")
        if off + clen > len(data):
            raise self.fail(f"{where}: compressed data (offset {off:,}, length {clen:,}) "
                            f"lies outside its buffer of {len(data):,} bytes")
        size = count * stride
        if size > _MESHOPT_MAX_RATIO * clen + 65536:
            raise self.fail(f"{where} declares {size:,} bytes decoded from only {clen:,} "
                            "compressed bytes, more than the codec can produce")
        src = np.frombuffer(data, np.uint8, count=clen, offset=off)
        try:
            import meshoptimizer as mopt
        except ImportError:  # pragma: no cover - a dependency in pyproject.toml
            raise self.fail(f"{where}: meshopt decoding needs the 'meshoptimizer' package",
                            "pip install meshoptimizer") from None
        try:
            if mode == "ATTRIBUTES":
                if stride == 0 or stride % 4 or stride > 256:
                    raise ValueError(f"byteStride {stride} is not a multiple of 4 up to 256")
                out = mopt.decode_vertex_buffer(count, stride, src,
                                                dtype=np.dtype((np.void, stride)))
                out = out.view(np.uint8).reshape(-1)
                filters = {"OCTAHEDRAL": mopt.decode_filter_oct,
                           "QUATERNION": mopt.decode_filter_quat,
                           "EXPONENTIAL": mopt.decode_filter_exp}
                if filt in filters:
                    out = filters[filt](out, count, stride)
                elif filt not in ("NONE", None):
                    raise ValueError(f"unknown filter {_brief(filt)}")
                view_stride = bv.get("byteStride", stride)
            elif mode in ("TRIANGLES", "INDICES"):
                if stride not in (2, 4):
                    raise ValueError(f"index byteStride {stride} is not 2 or 4")
                if mode == "TRIANGLES" and count % 3:
                    raise ValueError(f"{count} indices is not a multiple of 3")
                decode = (mopt.decode_index_buffer if mode == "TRIANGLES"
                          else mopt.decode_index_sequence)
                # (the wrapper decodes into a uint32 array; 16-bit indices fill its
                # first half)
                out = decode(count, stride, src).view(np.uint8)[:size]
                view_stride = None
            else:
                raise ValueError(f"unknown mode {_brief(mode)}")
        except (ValueError, RuntimeError) as exc:
            raise self.fail(f"{where}: the compressed data cannot be decoded ({exc})"
                            ) from None
        return memoryview(np.ascontiguousarray(out)), 0, size, view_stride

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
        # KHR_mesh_quantization: normalized integer attributes (positions, normals...)
        if (normalized_float or acc.get("normalized") is True) and dtype.kind in "iu":
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


def load_document(path: Path, data: bytes | None = None) -> _Doc:
    """The parsed glTF/GLB at ``path``, or in ``data`` when given (a GLB embedded in a
    3D Tiles b3dm/i3dm: external URIs still resolve inside ``path``'s folder)."""
    if data is not None:
        if len(data) > _MAX_FILE_BYTES:
            raise LoadError(path, f"embedded glTF is {len(data):,} bytes, more than the "
                            f"{_MAX_FILE_BYTES:,} RealScene reads", "use a smaller file")
        return _parse_document(path, bytes(data))
    try:
        with open_regular(path, _MAX_FILE_BYTES) as fh:  # (size checked on the open file)
            data = fh.read()
    except UnsafePath as exc:
        raise LoadError(path, exc.reason, "open a regular glTF/GLB file") from None
    except OSError as exc:
        raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                        "check that it exists and is readable") from None
    return _parse_document(path, data)


_load_document = load_document


def _parse_document(path: Path, data: bytes) -> _Doc:
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
    required = gltf.get("extensionsRequired") or []
    if not isinstance(required, list):
        raise LoadError(path, f"'extensionsRequired' must be a list, not {_brief(required)}",
                        "the file is corrupt; re-export it")
    unknown = [e for e in required
               if not (isinstance(e, str) and e in SUPPORTED_REQUIRED_EXTENSIONS)]
    if unknown:
        names = ", ".join(_brief(e) for e in unknown)
        raise LoadError(path, f"uses extension{'s' if len(unknown) > 1 else ''} {names}, "
                        "which RealScene does not read",
                        "re-export the model without it (RealScene reads glTF 2.0 core, "
                        "Draco and meshopt compression and mesh quantization)")
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


def _segments(doc: _Doc, mode: int, idx: np.ndarray, where: str) -> np.ndarray:
    """(L, 2) vertex index pairs of a LINES (1), LINE_LOOP (2) or LINE_STRIP (3)
    primitive."""
    if mode == 1:
        n = len(idx) - len(idx) % 2
        if n != len(idx):
            doc.warnings.append(f"{where}: {len(idx)} line indices is not a multiple of 2; "
                                "the last incomplete segment is dropped")
        return idx[:n].reshape(-1, 2)
    if len(idx) < 2:
        return np.zeros((0, 2), idx.dtype)
    pairs = np.stack([idx[:-1], idx[1:]], axis=1)
    if mode == 2 and len(idx) > 2:  # loop: close it
        pairs = np.concatenate([pairs, [[idx[-1], idx[0]]]])
    return pairs


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
            raw, target = doc.uri_bytes(img["uri"], f"image {src}")
            tpath = None if target is None else str(target)
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


def read(path: Path, progress: ProgressFn | None = None, *, doc: _Doc | None = None,
         feature_ids: bool = False) -> Mesh | PointCloud:
    """``path`` as a Mesh (or a PointCloud when it holds only points). ``doc``: an already
    parsed document (:func:`load_document`, e.g. a GLB embedded in a 3D Tiles tile).
    ``feature_ids``: also return each vertex's feature id (3D Tiles ``_BATCHID`` or the
    ``EXT_mesh_features`` attribute, -1 where a primitive has none) as
    ``metadata["vertex_feature_ids"]`` and the property table the ids index as
    ``metadata["feature_property_table"]``."""
    path = Path(path)
    doc = doc if doc is not None else _load_document(path)
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
    fid_list: list[np.ndarray | None] = []
    fid_table: int | None = None
    tri_blocks: set[int] = set()  # first vertex of blocks that triangles use
    face_list: list[np.ndarray] = []
    point_list: list[np.ndarray] = []
    line_list: list[np.ndarray] = []
    line_modes: dict[int, int] = {}
    parts: list[MeshPart] = []
    mat_cache: dict = {}
    tex_cache: dict = {}
    n_vertices = 0
    n_faces = 0
    skipped_modes: dict[int, int] = {}
    shared_hits = 0
    draco_used = 0
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
            if mode not in (0, 1, 2, 3, 4, 5, 6):
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
            draco = extensions.get(_DRACO) if isinstance(extensions, dict) else None
            decoded: _Decoded | None = None
            fid_name, table = _feature_id_attribute(prim, attrs) if feature_ids \
                else (None, None)
            if table is not None and fid_table is None:
                fid_table = table
            if draco is not None:
                decoded = _decode_draco(doc, draco, attrs, where)
                draco_used += 1
                key = ("draco", draco.get("bufferView"), world.tobytes())
            else:
                key = (attrs.get("POSITION"), attrs.get("NORMAL"), attrs.get("TEXCOORD_0"),
                       attrs.get("COLOR_0"), attrs.get(fid_name), world.tobytes())

            if key in blocks:
                base, count = blocks[key]
                shared_hits += 1
            else:
                pos = _attribute(doc, decoded, attrs, "POSITION").astype(np.float64)
                if pos.ndim != 2 or pos.shape[1] != 3:
                    raise doc.fail(f"{where}: POSITION accessor is not VEC3")
                count = len(pos)
                pos = pos @ world[:3, :3].T + world[:3, 3]
                nrm = uv = col = None
                if "NORMAL" in attrs:
                    nrm = _attribute(doc, decoded, attrs, "NORMAL").astype(np.float64)
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
                    uv = _attribute(doc, decoded, attrs, "TEXCOORD_0", True).astype(np.float64)
                    if uv.shape != (count, 2):
                        doc.warnings.append(f"{where}: TEXCOORD_0 does not match POSITION; "
                                            "ignored")
                        uv = None
                    else:
                        uv = np.column_stack([uv[:, 0], 1.0 - uv[:, 1]])
                if "COLOR_0" in attrs:
                    c = _attribute(doc, decoded, attrs, "COLOR_0")
                    if c.ndim != 2 or len(c) != count or c.shape[1] not in (3, 4):
                        doc.warnings.append(f"{where}: COLOR_0 does not match POSITION; "
                                            "ignored")
                    else:
                        col = _to_rgba8(c)
                fid = None
                if fid_name is not None:
                    f = _attribute(doc, decoded, attrs, fid_name).reshape(-1)
                    if len(f) == count:
                        fid = np.round(f.astype(np.float64)).astype(np.int64)
                    else:
                        doc.warnings.append(f"{where}: {fid_name} does not match POSITION; "
                                            "ignored")
                fid_list.append(fid)
                base = n_vertices
                blocks[key] = (base, count)
                pos_list.append(pos)
                nrm_list.append(nrm)
                uv_list.append(uv)
                col_list.append(col)
                n_vertices += count
            if decoded is not None and decoded.indices is not None:
                idx = decoded.indices
            elif "indices" in prim and decoded is None:
                idx = doc.accessor(prim["indices"]).reshape(-1)
                if idx.dtype.kind not in "u":
                    raise doc.fail(f"{where}: indices accessor is not an unsigned integer "
                                   "type")
            else:
                idx = np.arange(count, dtype=np.int64)
            idx = idx.astype(np.int64, copy=False)
            if len(idx) and idx.max() >= count:
                raise doc.fail(f"{where}: index {int(idx.max())} is out of range "
                               f"(POSITION has {count} vertices)")
            if mode == 0:
                if len(idx):
                    point_list.append(idx + base)
                continue
            if mode in _LINE_MODES:
                seg = _segments(doc, mode, idx, where)
                if len(seg):
                    line_list.append(seg + base)
                    line_modes[mode] = line_modes.get(mode, 0) + 1
                continue
            tris = _triangles(doc, mode, idx, where)
            if tris is None or len(tris) == 0:
                continue
            tri_blocks.add(base)
            face_list.append(tris + base)
            mat = _material(doc, prim.get("material"), mat_cache, tex_cache)
            name = mesh.get("name") or nodes[ni].get("name") or f"mesh_{mi}"
            if len(prims) > 1:
                name = f"{name}[{pi}]"
            parts.append(MeshPart(str(name), n_faces, n_faces + len(tris), mat))
            n_faces += len(tris)

    for mode, n in sorted(skipped_modes.items()):
        doc.warnings.append(f"{n} primitive(s) with unknown mode {mode} skipped")
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
    # glTF is Y-up, the scene is Z-up (a signed permutation: exact); a few exporters
    # are known to write Z-up coordinates against the spec
    generator = str(g["asset"].get("generator", ""))
    up_axis, up_note = "Y", "Y up (glTF standard)"
    for marker, note in _Z_UP_GENERATORS:
        if marker in generator:
            up_axis, up_note = "Z", note
    if up_axis == "Y":
        positions = positions @ _Y_UP_TO_Z_UP.T

    def merge(chunks, width, fill, dtype):
        if not chunks or all(c is None for c in chunks):
            return None
        out = []
        for c, p in zip(chunks, pos_list, strict=True):
            out.append(c if c is not None else np.full((len(p), width), fill))
        return np.concatenate(out).astype(dtype)

    colors = merge(col_list, 4, 255, np.uint8)
    points = np.concatenate(point_list) if point_list else None
    meta = {
        "format": "GLB" if doc.glb_bin is not None or path.suffix.lower() == ".glb"
        else "glTF",
        "version": str(g["asset"].get("version")),
        "generator": str(g["asset"].get("generator", "")),
        "warnings": doc.warnings,
        "up_axis": up_axis,
        "up_axis_note": up_note,
        "nodes_drawn": len(draws),
        "shared_vertex_blocks_reused": shared_hits,
    }
    if draco_used:
        meta["draco_primitives"] = draco_used
    if feature_ids and any(f is not None for f in fid_list):
        meta["vertex_feature_ids"] = merge([None if f is None else f[:, None]
                                            for f in fid_list], 1, -1, np.int64)[:, 0]
        meta["feature_property_table"] = fid_table
    _georeference_note(doc, g, positions, meta)

    if points is not None and not face_list and not line_list:
        # only POINTS: a point cloud (LOD, colouring and picking like any cloud)
        if progress:
            progress(1.0, "done")
        return _point_cloud(positions[points], None if colors is None else colors[points],
                            meta)

    # normals only matter where triangles are drawn: blocks used only by points/lines
    # get zeros rather than dropping every normal
    normals = None
    bases = np.cumsum([0] + [len(p) for p in pos_list[:-1]]).tolist()
    if nrm_list and all(n is not None or b not in tri_blocks
                        for n, b in zip(nrm_list, bases, strict=True)) \
            and any(n is not None for n in nrm_list):
        normals = np.concatenate([n if n is not None else np.zeros((len(p), 3))
                                  for n, p in zip(nrm_list, pos_list, strict=True)])
        if up_axis == "Y":
            normals = normals @ _Y_UP_TO_Z_UP.T
        normals = normals.astype(np.float32)
    elif any(n is not None for n in nrm_list):
        doc.warnings.append("only some primitives have normals; normals dropped")
    uvs = merge(uv_list, 2, 0.0, np.float32)
    lines = np.concatenate(line_list) if line_list else None

    local, origin = split_origin(positions)
    meta.update({"uv_origin": "bottom-left", "primitives": len(parts)})
    if points is not None:
        meta["points"] = int(len(points))
    if lines is not None:
        meta["line_segments"] = int(len(lines))
    if not len(faces) and lines is None:
        doc.warnings.append("the file contains no triangles")
    if progress:
        progress(1.0, "done")
    return Mesh(vertices=local, origin=origin, faces=faces.astype(np.int32),
                normals=normals, uvs=uvs, vertex_colors=colors, parts=parts, metadata=meta,
                points=None if points is None else points.astype(np.int32),
                lines=None if lines is None else lines.astype(np.int32))


#: the up axes a user can choose for a glTF layer
UP_AXES = ("Y", "Z")


def set_up_axis(data: Mesh | PointCloud, up_axis: str) -> Mesh | PointCloud:
    """``data`` (read by this module: ``metadata["up_axis"]`` says which axis of the file
    is the scene's +Z now) re-oriented so that the file's ``up_axis`` is the scene's +Z:
    "Y" as the glTF specification says, "Z" for a file stored against it.

    Returns a new dataset (new position/normal arrays; the input is left as it is), or
    ``data`` itself when nothing changes. The rotation is a signed permutation of the
    axes, so switching back and forth gives the same numbers.
    """
    if up_axis not in UP_AXES:
        raise ValueError(f"up axis must be one of {', '.join(UP_AXES)}, not {up_axis!r}")
    current = data.metadata.get("up_axis")
    if current not in UP_AXES:
        raise ValueError("this layer has no up axis to choose (not a glTF)")
    if current == up_axis:
        return data
    # Y -> Z up: (x, y, z) -> (x, -z, y); back: (x, y, z) -> (x, z, -y)
    perm = [0, 2, 1]
    sign = np.array([1.0, -1.0, 1.0]) if up_axis == "Y" else np.array([1.0, 1.0, -1.0])

    def turn(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        return np.ascontiguousarray(a[:, perm] * sign.astype(a.dtype))

    origin = np.asarray(data.origin, np.float64)[perm] * sign
    metadata = dict(data.metadata, up_axis=up_axis,
                    up_axis_note="Y up (glTF standard)" if up_axis == "Y" else
                    "Z up (chosen for this layer: stored against the glTF standard)")
    if isinstance(data, PointCloud):
        return dataclasses.replace(data, positions=turn(data.positions), origin=origin,
                                   metadata=metadata)
    return dataclasses.replace(data, vertices=turn(data.vertices), origin=origin,
                               normals=turn(data.normals), metadata=metadata)


def _point_cloud(xyz: np.ndarray, rgba: np.ndarray | None, meta: dict) -> PointCloud:
    local, origin = split_origin(xyz)
    attributes = {}
    if rgba is not None:
        attributes["rgb"] = np.ascontiguousarray(rgba[:, :3])
    meta = dict(meta, point_count=int(len(xyz)))
    if not len(xyz):
        meta["warnings"].append("the file contains no points")
    return PointCloud(positions=local, origin=origin, attributes=attributes, metadata=meta)


def _attribute(doc: _Doc, decoded: _Decoded | None, attrs: dict, name: str,
               normalized: bool = False) -> np.ndarray:
    """A primitive's attribute: Draco-decoded, else read from its accessor."""
    if decoded is not None and name in decoded.attributes:
        return decoded.attributes[name]
    return doc.accessor(attrs[name], normalized_float=normalized)


@dataclasses.dataclass
class _Decoded:
    """A Draco-decoded primitive: attributes by glTF name, indices (None: points)."""

    attributes: dict[str, np.ndarray]
    indices: np.ndarray | None


def _decode_draco(doc: _Doc, ext, attrs: dict, where: str) -> _Decoded:
    """Decode a ``KHR_draco_mesh_compression`` primitive with DracoPy."""
    if not isinstance(ext, dict) or not _is_index(ext.get("bufferView")) \
            or not isinstance(ext.get("attributes"), dict):
        raise doc.fail(f"{where}: malformed {_DRACO} extension")
    data, start, length, _ = doc.buffer_view(ext["bufferView"])
    blob = bytes(data[start:start + length])
    try:
        import DracoPy
    except ImportError:  # pragma: no cover - a dependency in pyproject.toml
        raise doc.fail(f"{where}: Draco decoding needs the 'DracoPy' package",
                       "pip install DracoPy") from None
    try:
        decoded = DracoPy.decode(blob)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a corrupt file
        raise doc.fail(f"{where}: the Draco data cannot be decoded "
                       f"({type(exc).__name__}: {str(exc)[:120]})") from None
    out: dict[str, np.ndarray] = {}
    for name, uid in ext["attributes"].items():
        if name not in attrs:
            continue  # (the spec: only attributes the primitive lists are used)
        try:
            att = decoded.get_attribute_by_unique_id(int(uid)) if _is_index(uid) else None
        except Exception:  # noqa: BLE001
            att = None
        if att is None or att.get("data") is None:
            raise doc.fail(f"{where}: Draco data has no attribute {_brief(uid)} for {name}")
        arr = np.asarray(att["data"])
        if arr.ndim == 1:
            arr = arr.reshape(len(arr), -1)
        out[name] = arr
    if "POSITION" not in out:
        raise doc.fail(f"{where}: {_DRACO} does not map POSITION")
    faces = getattr(decoded, "faces", None)
    indices = None
    if faces is not None and np.size(faces):
        indices = np.asarray(faces, dtype=np.int64).reshape(-1)
    return _Decoded(out, indices)


def _feature_id_attribute(prim: dict, attrs: dict) -> tuple[str | None, int | None]:
    """The vertex attribute holding a primitive's feature ids and the property table
    they index: ``EXT_mesh_features`` ``featureIds[0]`` with an attribute, else the
    3D Tiles 1.0 ``_BATCHID`` (or ``BATCHID``)."""
    ext = prim.get("extensions")
    mf = ext.get("EXT_mesh_features") if isinstance(ext, dict) else None
    ids = mf.get("featureIds") if isinstance(mf, dict) else None
    if isinstance(ids, list) and ids and isinstance(ids[0], dict):
        n = ids[0].get("attribute")
        table = ids[0].get("propertyTable")
        name = f"_FEATURE_ID_{n}" if _is_index(n) else None
        if name in attrs and _is_index(attrs[name]):
            return name, table if _is_index(table) else None
    for name in ("_BATCHID", "BATCHID"):
        if name in attrs and _is_index(attrs[name]):
            return name, None
    return None, None


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
