"""3D Tiles tile contents -> plain meshes and point clouds (no Qt, no VTK).

Decodes one tile's bytes: ``b3dm`` (batched models), ``i3dm`` (instanced models),
``pnts`` (point clouds), ``cmpt`` (composites of those, recursively, depth-limited) and
glTF / GLB content (3D Tiles 1.1). Embedded glTF goes through RealScene's one glTF
reader (:mod:`loaders.formats.gltf`: Draco, meshopt, quantization, textures), which
already turns glTF's y-up into z-up with the rotation the 3D Tiles spec gives
(``x, y, z -> x, -z, y``). The spec's order of transforms is kept: glTF nodes, y-up to
z-up, then the format's own transform (``RTC_CENTER`` / ``CESIUM_RTC``, i3dm instance
transforms), then the tile's ``transform`` (applied by :mod:`loaders.tiles.tiles3d`).

Every length in a header and table is checked against the bytes there are before
anything is sliced or allocated; a broken tile is one :class:`LoadError` naming the
tile's file or URL. Batch tables (JSON and binary) and ``EXT_structural_metadata``
property tables become :class:`Feature` s of a :class:`FeatureMesh` (one per batch /
feature id, the table's properties as attributes), so a tile's buildings pick like
city objects.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..types import Feature, FeatureMesh, LoadError, Mesh, PointCloud, split_origin

#: composites nest at most this deep (cmpt inside cmpt)
MAX_COMPOSITE_DEPTH = 8
#: i3dm instances are expanded into copies of the model up to this many triangles
INSTANCE_TRIANGLE_BUDGET = 2_000_000
#: JSON tables larger than this are refused (bytes)
MAX_TABLE_JSON = 64 * 2**20

_COMPONENT = {"BYTE": np.int8, "UNSIGNED_BYTE": np.uint8, "SHORT": np.int16,
              "UNSIGNED_SHORT": np.uint16, "INT": np.int32, "UNSIGNED_INT": np.uint32,
              "FLOAT": np.float32, "DOUBLE": np.float64}
_TYPE_SIZE = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
CORRUPT_HINT = "the tile is truncated or corrupt; re-export or re-download the tileset"

#: fetch(uri relative to the tile, max_bytes=...) -> (bytes, a name / path for messages
#: and glTF URIs); the tileset's reader (local or http(s), URIs kept inside its folder)
Fetch = Callable[..., tuple[bytes, str]]


class Decoded:
    """What one tile's bytes hold, in the tile's own frame (before its ``transform``)."""

    def __init__(self) -> None:
        self.meshes: list[Mesh] = []
        self.points: list[PointCloud] = []
        self.warnings: list[str] = []


def decode(data: bytes, name: str, fetch: Fetch | None = None, depth: int = 0) -> Decoded:
    """Decode a tile content ``data`` read from ``name`` (a path or URL, for messages
    and for URIs inside it: ``fetch`` reads them). Raises LoadError."""
    out = Decoded()
    try:
        _decode_into(out, memoryview(data).toreadonly(), name, fetch, depth)
    except LoadError:
        raise
    except MemoryError:
        raise LoadError(name, "not enough memory for this tile", "lower the tile budgets"
                        ) from None
    except (ValueError, KeyError, IndexError, TypeError, struct.error, OverflowError) as exc:
        raise LoadError(name, f"corrupt tile content ({type(exc).__name__}: "
                        f"{str(exc)[:160]})", CORRUPT_HINT) from None
    return out


def _decode_into(out: Decoded, data: memoryview, name: str, fetch: Fetch | None,
                 depth: int) -> None:
    magic = bytes(data[:4])
    if magic == b"b3dm":
        _b3dm(out, data, name, fetch)
    elif magic == b"pnts":
        out.points.append(_pnts(data, name))
    elif magic == b"i3dm":
        _i3dm(out, data, name, fetch)
    elif magic == b"cmpt":
        _cmpt(out, data, name, fetch, depth)
    elif magic == b"glTF" or bytes(data[:64]).lstrip()[:1] == b"{":
        out.meshes.append(_gltf(out, bytes(data), name, fetch=fetch))
    elif magic in (b"vctr", b"geom"):
        raise LoadError(name, f"{magic.decode()} (vector / geometry) tiles are not "
                        "supported", "convert the tileset's vector data to glTF")
    else:
        raise LoadError(name, f"unknown tile content (starts with {magic!r})",
                        "3D Tiles content must be b3dm, i3dm, pnts, cmpt or glTF/GLB")


# ------------------------------------------------------------------------ headers


def _header(data: memoryview, name: str, size: int, kind: str) -> tuple[int, ...]:
    """Unpack a ``size``-byte header (all little-endian uint32 after the magic) and check
    ``byteLength`` and the table lengths against the bytes there are."""
    if len(data) < size:
        raise LoadError(name, f"{kind} is truncated ({len(data)} bytes, its header alone "
                        f"needs {size})", CORRUPT_HINT)
    fields = struct.unpack_from("<" + "I" * ((size - 4) // 4), data, 4)
    version, byte_length = fields[0], fields[1]
    if version != 1:
        raise LoadError(name, f"{kind} version {version} is not supported (only 1)",
                        "re-export the tileset")
    if byte_length > len(data):
        raise LoadError(name, f"{kind} is truncated: its header says {byte_length:,} bytes, "
                        f"the file holds {len(data):,}", CORRUPT_HINT)
    if byte_length < size:
        raise LoadError(name, f"{kind} header says it is {byte_length:,} bytes, less than "
                        f"its {size}-byte header", CORRUPT_HINT)
    return fields


def _tables(data: memoryview, name: str, kind: str, start: int, byte_length: int,
            lengths: tuple[int, int, int, int]) -> tuple[dict, memoryview, dict, memoryview, int]:
    """Feature table JSON + binary and batch table JSON + binary; the offset after them."""
    ft_json_len, ft_bin_len, bt_json_len, bt_bin_len = lengths
    end = start + ft_json_len + ft_bin_len + bt_json_len + bt_bin_len
    if end > byte_length:
        raise LoadError(name, f"{kind} table lengths ({end - start:,} bytes) run past its "
                        f"byteLength ({byte_length:,})", CORRUPT_HINT)
    pos = start
    ft = _json(data[pos:pos + ft_json_len], name, f"{kind} feature table")
    pos += ft_json_len
    ft_bin = data[pos:pos + ft_bin_len]
    pos += ft_bin_len
    bt = _json(data[pos:pos + bt_json_len], name, f"{kind} batch table") if bt_json_len \
        else {}
    pos += bt_json_len
    bt_bin = data[pos:pos + bt_bin_len]
    return ft, ft_bin, bt, bt_bin, end


def _json(raw: memoryview, name: str, what: str) -> dict:
    if len(raw) == 0:
        return {}
    if len(raw) > MAX_TABLE_JSON:
        raise LoadError(name, f"{what} JSON is {len(raw):,} bytes; refused", CORRUPT_HINT)
    try:
        value = json.loads(bytes(raw).rstrip(b" \x00").decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LoadError(name, f"{what} is not valid JSON ({type(exc).__name__})",
                        CORRUPT_HINT) from None
    if not isinstance(value, dict):
        raise LoadError(name, f"{what} is not a JSON object", CORRUPT_HINT)
    return value


def _count(table: dict, key: str, name: str, limit: int) -> int:
    n = table.get(key)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n > limit:
        raise LoadError(name, f"{key} is {str(n)[:40]!r}, not a count this tile can hold",
                        CORRUPT_HINT)
    return n


def _binary(table: dict, binary: memoryview, key: str, count: int, dtype: Any, width: int,
            name: str) -> np.ndarray | None:
    """A feature-table value: ``{"byteOffset": n}`` into the binary body, or a JSON array
    (``count`` x ``width`` values); None when absent."""
    ref = table.get(key)
    if ref is None:
        return None
    if isinstance(ref, list):
        arr = np.asarray(ref, dtype=np.float64).reshape(-1)
        if len(arr) != count * width:
            raise LoadError(name, f"{key} has {len(arr)} values, expected {count * width}",
                            CORRUPT_HINT)
        return arr.reshape(count, width) if width > 1 or count > 1 else arr.reshape(count,
                                                                                    width)
    if not isinstance(ref, dict):
        raise LoadError(name, f"{key} is neither an array nor a byteOffset", CORRUPT_HINT)
    ctype = ref.get("componentType")
    if isinstance(ctype, str):
        if ctype not in _COMPONENT:
            raise LoadError(name, f"{key} has an unknown componentType {ctype[:30]!r}",
                            CORRUPT_HINT)
        dtype = _COMPONENT[ctype]
    offset = ref.get("byteOffset", 0)
    dt = np.dtype(dtype).newbyteorder("<")
    need = count * width * dt.itemsize
    if not isinstance(offset, int) or offset < 0 or offset + need > len(binary):
        raise LoadError(name, f"{key} ({need:,} bytes at {offset!r}) runs past the "
                        f"{len(binary):,}-byte binary table", CORRUPT_HINT)
    return np.frombuffer(binary, dt, count * width, offset).reshape(count, width)


def _vec3(table: dict, binary: memoryview, key: str, name: str) -> np.ndarray | None:
    v = _binary(table, binary, key, 1, np.float32, 3, name)
    if v is None:
        return None
    v = v.reshape(3).astype(np.float64)
    if not np.all(np.isfinite(v)):
        raise LoadError(name, f"{key} is not finite", CORRUPT_HINT)
    return v


def _positions(ft: dict, ft_bin: memoryview, n: int, name: str, kind: str,
               draco: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """pnts / i3dm positions (float64): POSITION, or POSITION_QUANTIZED with
    QUANTIZED_VOLUME_OFFSET / SCALE; plus RTC_CENTER. ``draco``: semantics decoded from
    ``3DTILES_draco_point_compression`` (they replace the binary body's)."""
    draco = draco or {}
    pos = draco.get("POSITION")
    if pos is None:
        pos = _binary(ft, ft_bin, "POSITION", n, np.float32, 3, name)
    if pos is not None:
        xyz = pos.astype(np.float64)
    else:
        q = draco.get("POSITION_QUANTIZED")
        if q is None:
            q = _binary(ft, ft_bin, "POSITION_QUANTIZED", n, np.uint16, 3, name)
        offset = _vec3(ft, ft_bin, "QUANTIZED_VOLUME_OFFSET", name)
        scale = _vec3(ft, ft_bin, "QUANTIZED_VOLUME_SCALE", name)
        if q is None or offset is None or scale is None:
            raise LoadError(name, f"{kind} has no POSITION (nor POSITION_QUANTIZED with "
                            "QUANTIZED_VOLUME_OFFSET/SCALE)", CORRUPT_HINT)
        xyz = offset + q.astype(np.float64) * (scale / 65535.0)
    rtc = _vec3(ft, ft_bin, "RTC_CENTER", name)
    return xyz if rtc is None else xyz + rtc


# ------------------------------------------------------------------------ batch tables


def batch_properties(bt: dict, bt_bin: memoryview, count: int, name: str,
                     warnings: list[str]) -> dict[str, list[Any]]:
    """A batch table as ``{property: [value per batch id]}`` (JSON arrays and binary
    ``{byteOffset, componentType, type}`` columns; extensions are skipped)."""
    props: dict[str, list[Any]] = {}
    for key, value in bt.items():
        if key in ("extensions", "extras"):
            continue
        if isinstance(value, list):
            if len(value) != count:
                warnings.append(f"batch table property {key!r} has {len(value)} values for "
                                f"{count} batch ids; ignored")
                continue
            props[key] = value
        elif isinstance(value, dict):
            width = _TYPE_SIZE.get(str(value.get("type")))
            ctype = value.get("componentType")
            if width is None or ctype not in _COMPONENT:
                warnings.append(f"batch table property {key!r} has an unknown type; ignored")
                continue
            try:
                arr = _binary({key: value}, bt_bin, key, count, _COMPONENT[ctype], width, name)
            except LoadError as exc:
                warnings.append(f"batch table property {key!r}: {exc.reason}; ignored")
                continue
            assert arr is not None
            props[key] = arr[:, 0].tolist() if width == 1 else arr.tolist()
    return props


def _features(props: dict[str, list[Any]], count: int, kind: str) -> list[Feature]:
    """One Feature per batch / feature id with its properties as attributes."""
    ids = props.get("id") or props.get("ID") or props.get("gml_id")
    names = props.get("name") or props.get("Name")
    feats = []
    for i in range(count):
        attrs = {k: _plain(v[i]) for k, v in props.items()}
        fid = str(ids[i]) if ids is not None and ids[i] not in (None, "") else str(i)
        feats.append(Feature(id=fid, type=kind, name="" if names is None else
                             str(names[i] or ""), attributes=attrs))
    seen: set[str] = set()
    for i, f in enumerate(feats):  # ids must be unique within the mesh
        if f.id in seen:
            f.id = f"{f.id}#{i}"
        seen.add(f.id)
    return feats


def _plain(v: Any) -> Any:
    if isinstance(v, (np.generic,)):
        return v.item()
    return v


def featured(mesh: Mesh, vertex_ids: np.ndarray | None, features: list[Feature],
             fmt: str) -> Mesh:
    """``mesh`` as a FeatureMesh whose triangles know their feature (by the feature id of
    their first vertex; -1 where it is out of range)."""
    if vertex_ids is None or not features or not len(mesh.faces):
        return mesh
    face_ids = vertex_ids[mesh.faces[:, 0]].astype(np.int64)
    face_ids[(face_ids < 0) | (face_ids >= len(features))] = -1
    return FeatureMesh(vertices=mesh.vertices, origin=mesh.origin, faces=mesh.faces,
                       normals=mesh.normals, uvs=mesh.uvs, vertex_colors=mesh.vertex_colors,
                       face_colors=mesh.face_colors, parts=mesh.parts, crs=mesh.crs,
                       metadata=mesh.metadata, points=mesh.points, lines=mesh.lines,
                       features=features, face_feature=face_ids.astype(np.int32),
                       model_format=fmt)


# ------------------------------------------------------------------------ glTF


def _gltf(out: Decoded, glb: bytes, name: str, rtc: np.ndarray | None = None,
          batch: tuple[dict[str, list[Any]], int] | None = None,
          fetch: Fetch | None = None) -> Mesh:
    """An embedded or standalone glTF/GLB as a z-up Mesh in the tile's frame, with
    RTC_CENTER / CESIUM_RTC added and its batch / feature table as features. ``fetch``
    reads its external buffers and images (a ``.gltf`` with ``.bin`` / image files, local
    or over http(s)) through the tileset's reader."""
    from ..formats import gltf

    path = Path(name) if "://" not in name else Path("/remote-tile") / Path(name).name
    doc = gltf.load_document(path, glb)
    if fetch is not None:
        # (a .bin may be padded past its byteLength: a little slack, cut by the reader)
        doc.fetch_uri = lambda uri, limit: fetch(uri, max_bytes=limit + 16)[0]
    data = gltf.read(path, doc=doc, feature_ids=True)
    if isinstance(data, PointCloud):  # a glTF of POINTS only: a mesh of points
        data = Mesh(vertices=data.positions, origin=data.origin, faces=np.zeros((0, 3),
                    np.int32), metadata=data.metadata,
                    points=np.arange(data.point_count, dtype=np.int32),
                    vertex_colors=None if "rgb" not in data.attributes else np.column_stack(
                        [data.attributes["rgb"], np.full(data.point_count, 255, np.uint8)]))
    meta = data.metadata
    vertex_ids = meta.pop("vertex_feature_ids", None)
    table = meta.pop("feature_property_table", None)
    meta["warnings"] = [w for w in meta.get("warnings", []) if "no georeference" not in w]
    out.warnings += meta["warnings"]
    offset = np.zeros(3)
    if rtc is not None:
        offset += rtc
    cesium_rtc = meta.get("rtc_center")
    if isinstance(cesium_rtc, list) and len(cesium_rtc) == 3:
        offset += np.asarray(cesium_rtc, dtype=np.float64)
    data.origin = np.asarray(data.origin, np.float64) + offset
    if batch is not None:
        props, count = batch
        return featured(data, vertex_ids, _features(props, count, "3D Tiles feature"),
                        "3D Tiles")
    if vertex_ids is not None:
        props, count, cls = _property_table(doc, table, out.warnings)
        if count:
            return featured(data, vertex_ids, _features(props, count, cls or "feature"),
                            "3D Tiles")
    return data


def _property_table(doc: Any, index: int | None, warnings: list[str]
                    ) -> tuple[dict[str, list[Any]], int, str]:
    """An EXT_structural_metadata property table as ``{name: [value per feature]}``
    (STRING, BOOLEAN and numeric SCALAR / VECn columns), its count and class name."""
    ext = doc.gltf.get("extensions")
    meta = ext.get("EXT_structural_metadata") if isinstance(ext, dict) else None
    tables = meta.get("propertyTables") if isinstance(meta, dict) else None
    if not isinstance(tables, list) or not tables:
        return {}, 0, ""
    table = tables[index if isinstance(index, int) and 0 <= index < len(tables) else 0]
    if not isinstance(table, dict):
        return {}, 0, ""
    count = table.get("count")
    if not isinstance(count, int) or count <= 0 or count > 10_000_000:
        return {}, 0, ""
    cls_name = str(table.get("class", ""))
    schema = meta.get("schema") if isinstance(meta.get("schema"), dict) else {}
    classes = schema.get("classes") if isinstance(schema.get("classes"), dict) else {}
    cls = classes.get(cls_name) if isinstance(classes.get(cls_name), dict) else {}
    cls_props = cls.get("properties") if isinstance(cls.get("properties"), dict) else {}
    props: dict[str, list[Any]] = {}
    for pid, col in (table.get("properties") or {}).items():
        info = cls_props.get(pid) if isinstance(cls_props.get(pid), dict) else {}
        label = str(info.get("name") or pid)
        try:
            props[label] = _column(doc, col, info, count)
        except (LoadError, ValueError, TypeError, KeyError) as exc:
            warnings.append(f"property {label!r} of the feature table cannot be read "
                            f"({str(exc)[:100]}); ignored")
    return props, count, str(cls.get("name") or cls_name)


def _view(doc: Any, index: Any) -> bytes:
    data, start, length, _ = doc.buffer_view(index)
    return bytes(data[start:start + length])


def _column(doc: Any, col: dict, info: dict, count: int) -> list[Any]:
    kind = info.get("type", "SCALAR")
    values = _view(doc, col["values"])
    if kind == "STRING":
        otype = str(col.get("stringOffsetType", "UINT32")).upper()
        dt = {"UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8"}[otype]
        raw = _view(doc, col["stringOffsets"])
        offsets = np.frombuffer(raw, dt, count + 1) if len(raw) >= (count + 1) * \
            np.dtype(dt).itemsize else None
        if offsets is None or np.any(np.diff(offsets.astype(np.int64)) < 0) \
                or int(offsets[-1]) > len(values):
            raise ValueError("string offsets do not fit the values")
        return [values[int(offsets[i]):int(offsets[i + 1])].decode("utf-8", "replace")
                for i in range(count)]
    if kind == "BOOLEAN":
        bits = np.unpackbits(np.frombuffer(values, np.uint8), bitorder="little")
        if len(bits) < count:
            raise ValueError("too few values")
        return [bool(b) for b in bits[:count]]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}.get(kind)
    ctype = str(info.get("componentType", "FLOAT32")).upper()
    dt = {"INT8": "<i1", "UINT8": "<u1", "INT16": "<i2", "UINT16": "<u2", "INT32": "<i4",
          "UINT32": "<u4", "INT64": "<i8", "UINT64": "<u8", "FLOAT32": "<f4",
          "FLOAT64": "<f8"}.get(ctype)
    if width is None or dt is None or info.get("array"):
        raise ValueError(f"{kind} {ctype} columns are not read")
    need = count * width * np.dtype(dt).itemsize
    if len(values) < need:
        raise ValueError("too few values")
    arr = np.frombuffer(values, dt, count * width).reshape(count, width)
    return arr[:, 0].tolist() if width == 1 else arr.tolist()


# ------------------------------------------------------------------------ formats


def _b3dm(out: Decoded, data: memoryview, name: str, fetch: Fetch | None = None) -> None:
    f = _header(data, name, 28, "b3dm")
    byte_length = f[1]
    if f[4] >= 570425344 or f[3] >= 570425344:  # the 2016 header ([batchLength, btLength])
        raise LoadError(name, "b3dm uses the legacy (pre-1.0) header", "re-export the tileset")
    ft, ft_bin, bt, bt_bin, pos = _tables(data, name, "b3dm", 28, byte_length, f[2:6])
    count = _count(ft, "BATCH_LENGTH", name, 50_000_000) if "BATCH_LENGTH" in ft else 0
    rtc = _vec3(ft, ft_bin, "RTC_CENTER", name)
    glb = bytes(data[pos:byte_length])
    if not glb:
        raise LoadError(name, "b3dm holds no glTF", CORRUPT_HINT)
    props = batch_properties(bt, bt_bin, count, name, out.warnings) if count else {}
    out.meshes.append(_gltf(out, glb, name, rtc, (props, count) if count else None,
                            fetch=fetch))


def _pnts(data: memoryview, name: str) -> PointCloud:
    f = _header(data, name, 28, "pnts")
    ft, ft_bin, bt, bt_bin, _ = _tables(data, name, "pnts", 28, f[1], f[2:6])
    n = _count(ft, "POINTS_LENGTH", name, 500_000_000)
    draco, bt_draco = _draco_points(ft, ft_bin, bt, n, name)
    if bt_draco:  # compressed batch-table columns: not in the batch table's binary
        bt = {k: v for k, v in bt.items() if k not in bt_draco}

    def column(key: str, dtype: Any, width: int) -> np.ndarray | None:
        if key in draco:
            return draco[key].reshape(n, -1)[:, :width]
        return _binary(ft, ft_bin, key, n, dtype, width, name)

    xyz = _positions(ft, ft_bin, n, name, "pnts", draco)
    if not np.all(np.isfinite(xyz)):
        raise LoadError(name, "point positions contain NaN or infinity", CORRUPT_HINT)
    attrs: dict[str, np.ndarray] = {}
    rgba = column("RGBA", np.uint8, 4)
    rgb = column("RGB", np.uint8, 3)
    rgb565 = column("RGB565", np.uint16, 1)
    if rgba is not None:
        attrs["rgb"] = np.ascontiguousarray(rgba[:, :3], np.uint8)
    elif rgb is not None:
        attrs["rgb"] = np.ascontiguousarray(rgb, np.uint8)
    elif rgb565 is not None:
        c = rgb565[:, 0].astype(np.uint32)
        r, g, b = (c >> 11) & 31, (c >> 5) & 63, c & 31
        attrs["rgb"] = np.column_stack([r * 255 // 31, g * 255 // 63, b * 255 // 31]
                                       ).astype(np.uint8)
    elif isinstance(ft.get("CONSTANT_RGBA"), list) and len(ft["CONSTANT_RGBA"]) == 4:
        c = np.clip(np.asarray(ft["CONSTANT_RGBA"], np.float64), 0, 255).astype(np.uint8)
        attrs["rgb"] = np.tile(c[:3], (n, 1))
    normal = column("NORMAL", np.float32, 3)
    if normal is not None:
        attrs["normal"] = normal.astype(np.float32)
    batch_id = None
    if "BATCH_ID" in ft:
        batch_id = column("BATCH_ID", np.uint16, 1)
        if batch_id is not None:
            attrs["batch_id"] = batch_id[:, 0].astype(np.uint32)
    meta: dict[str, Any] = {"format": "pnts", "point_count": n, "warnings": []}
    if batch_id is not None and "BATCH_LENGTH" in ft:
        count = _count(ft, "BATCH_LENGTH", name, 50_000_000)
        props = batch_properties(bt, bt_bin, count, name, meta["warnings"])
        meta["batch_table"] = props
    elif (bt or bt_draco) and "BATCH_ID" not in ft:
        # per-point properties: numeric ones as attributes
        per_point: dict[str, Any] = batch_properties(bt, bt_bin, n, name, meta["warnings"])
        per_point.update({k: v[:, 0] for k, v in bt_draco.items() if v.shape[1] == 1})
        for key, values in per_point.items():
            arr = np.asarray(values)
            if arr.dtype.kind in "uif" and arr.ndim == 1:
                attrs[_attr_name(key)] = arr
    local, origin = split_origin(xyz)
    return PointCloud(positions=local, origin=origin, attributes=attrs, metadata=meta)


_DRACO_PNTS = "3DTILES_draco_point_compression"
#: feature-table semantics a Draco point tile may compress (the extension's list, and
#: POSITION_QUANTIZED as some exporters write it)
_DRACO_SEMANTICS = ("POSITION", "POSITION_QUANTIZED", "RGBA", "RGB", "RGB565", "NORMAL",
                    "BATCH_ID")


def _draco_points(ft: dict, ft_bin: memoryview, bt: dict, n: int, name: str
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``3DTILES_draco_point_compression``: the compressed feature-table semantics and
    batch-table columns, each ``(n, k)``, decoded with DracoPy from the feature table's
    binary (``byteOffset`` / ``byteLength``, checked first); ({}, {}) without it."""
    ext = ft.get("extensions")
    info = ext.get(_DRACO_PNTS) if isinstance(ext, dict) else None
    if info is None:
        return {}, {}
    props = info.get("properties") if isinstance(info, dict) else None
    offset, length = (info.get("byteOffset"), info.get("byteLength")) \
        if isinstance(info, dict) else (None, None)
    if not isinstance(props, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (offset, length)):
        raise LoadError(name, f"pnts {_DRACO_PNTS} needs properties, byteOffset and "
                        "byteLength", CORRUPT_HINT)
    if offset + length > len(ft_bin):
        raise LoadError(name, f"pnts Draco data ({length:,} bytes at {offset:,}) runs past "
                        f"the {len(ft_bin):,}-byte feature table binary", CORRUPT_HINT)
    bt_ext = bt.get("extensions") if isinstance(bt, dict) else None
    bt_info = bt_ext.get(_DRACO_PNTS) if isinstance(bt_ext, dict) else None
    bt_props = bt_info.get("properties") if isinstance(bt_info, dict) else None
    bt_props = bt_props if isinstance(bt_props, dict) else {}
    try:
        import DracoPy
    except ImportError:  # pragma: no cover - a dependency in pyproject.toml
        raise LoadError(name, "Draco point tiles need the 'DracoPy' package",
                        "pip install DracoPy") from None
    try:
        decoded = DracoPy.decode(bytes(ft_bin[offset:offset + length]))
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a corrupt tile
        raise LoadError(name, f"the pnts Draco data cannot be decoded ({type(exc).__name__}"
                        f": {str(exc)[:120]})", CORRUPT_HINT) from None

    def attribute(key: str, uid: Any) -> np.ndarray:
        att = None
        if isinstance(uid, int) and not isinstance(uid, bool):
            try:
                att = decoded.get_attribute_by_unique_id(uid)
            except Exception:  # noqa: BLE001 - an id the data does not hold
                att = None
        if att is None or att.get("data") is None:
            raise LoadError(name, f"pnts Draco data has no attribute {str(uid)[:20]} for "
                            f"{key[:60]}", CORRUPT_HINT)
        arr = np.asarray(att["data"])
        arr = arr.reshape(len(arr), -1) if arr.ndim != 2 else arr
        if len(arr) != n:
            raise LoadError(name, f"pnts Draco {key[:60]} holds {len(arr):,} points, "
                            f"POINTS_LENGTH says {n:,}", CORRUPT_HINT)
        return arr

    semantics = {key: attribute(key, uid) for key, uid in props.items()
                 if key in _DRACO_SEMANTICS}
    columns = {str(key): attribute(str(key), uid) for key, uid in bt_props.items()
               if key in bt}
    return semantics, columns


def _attr_name(key: str) -> str:
    name = "".join(c if c.isalnum() else "_" for c in key.lower()).strip("_")
    return name or "value"


def _i3dm(out: Decoded, data: memoryview, name: str, fetch: Fetch | None) -> None:
    f = _header(data, name, 32, "i3dm")
    byte_length, gltf_format = f[1], f[6]
    ft, ft_bin, bt, bt_bin, pos = _tables(data, name, "i3dm", 32, byte_length, f[2:6])
    n = _count(ft, "INSTANCES_LENGTH", name, 10_000_000)
    body = bytes(data[pos:byte_length])
    if gltf_format == 0:  # a URI to the glTF
        uri = body.rstrip(b" \x00").decode("utf-8", "replace")
        if fetch is None:
            raise LoadError(name, "i3dm refers to a glTF by URI but none can be read here",
                            "embed the glTF")
        body, model_name = fetch(uri)
    elif gltf_format == 1:
        model_name = name
    else:
        raise LoadError(name, f"i3dm gltfFormat {gltf_format} is neither 0 (URI) nor 1 "
                        "(embedded)", CORRUPT_HINT)
    scratch = Decoded()
    model = _gltf(scratch, body, model_name)
    out.warnings += scratch.warnings
    positions = _positions(ft, ft_bin, n, name, "i3dm")
    up = _binary(ft, ft_bin, "NORMAL_UP", n, np.float32, 3, name)
    right = _binary(ft, ft_bin, "NORMAL_RIGHT", n, np.float32, 3, name)
    if up is None and "NORMAL_UP_OCT32P" in ft:
        up = _oct_decode(_binary(ft, ft_bin, "NORMAL_UP_OCT32P", n, np.uint16, 2, name))
        right = _oct_decode(_binary(ft, ft_bin, "NORMAL_RIGHT_OCT32P", n, np.uint16, 2,
                                    name))
    scale1 = _binary(ft, ft_bin, "SCALE", n, np.float32, 1, name)
    scale3 = _binary(ft, ft_bin, "SCALE_NON_UNIFORM", n, np.float32, 3, name)
    enu = bool(ft.get("EAST_NORTH_UP")) and up is None
    tris = max(model.triangle_count, 1)
    keep = min(n, max(INSTANCE_TRIANGLE_BUDGET // tris, 1))
    if keep < n:
        out.warnings.append(f"{name}: {n:,} instances of a {model.triangle_count:,}-triangle "
                            f"model; the first {keep:,} are shown (triangle budget)")
    base = model.vertices.astype(np.float64) + model.origin
    verts, faces, ids = [], [], []
    for i in range(keep):
        rot = np.eye(3)
        if up is not None and right is not None:
            u, r = up[i].astype(np.float64), right[i].astype(np.float64)
            rot = np.column_stack([r, u, np.cross(r, u)])
        elif enu:
            rot = _enu_rotation(positions[i])
        s = np.ones(3)
        if scale3 is not None:
            s = scale3[i].astype(np.float64)
        elif scale1 is not None:
            s = np.full(3, float(scale1[i, 0]))
        verts.append((base * s) @ rot.T + positions[i])
        faces.append(model.faces.astype(np.int64) + i * len(base))
        ids.append(np.full(len(base), i, np.int64))
    xyz = np.concatenate(verts) if verts else np.zeros((0, 3))
    local, origin = split_origin(xyz)
    mesh = Mesh(vertices=local, origin=origin,
                faces=np.concatenate(faces).astype(np.int32) if faces else model.faces,
                uvs=None if model.uvs is None else np.tile(model.uvs, (keep, 1)),
                vertex_colors=None if model.vertex_colors is None else
                np.tile(model.vertex_colors, (keep, 1)),
                parts=_repeat_parts(model, keep), metadata={"format": "i3dm",
                                                            "instances": n, "warnings": []})
    props = batch_properties(bt, bt_bin, n, name, out.warnings) if bt else {}
    batch_ids = _binary(ft, ft_bin, "BATCH_ID", n, np.uint16, 1, name)
    vertex_ids = np.concatenate(ids) if ids else None
    count = n
    if batch_ids is not None and vertex_ids is not None:
        vertex_ids = batch_ids[:, 0].astype(np.int64)[vertex_ids]
        count = int(ft["BATCH_LENGTH"]) if isinstance(ft.get("BATCH_LENGTH"), int) else \
            int(batch_ids.max(initial=0)) + 1
        props = batch_properties(bt, bt_bin, count, name, out.warnings) if bt else {}
    out.meshes.append(featured(mesh, vertex_ids, _features(props, count, "3D Tiles instance"),
                               "3D Tiles"))


def _repeat_parts(model: Mesh, times: int) -> list:
    from ..types import MeshPart

    m = len(model.faces)
    return [MeshPart(p.name, p.start + k * m, p.stop + k * m, p.material)
            for k in range(times) for p in model.parts] if times <= 64 else \
        [MeshPart(p.name, 0, m * times, p.material) for p in model.parts[:1]]


def _oct_decode(enc: np.ndarray | None) -> np.ndarray | None:
    if enc is None:
        return None
    v = enc.astype(np.float64) / 65535.0 * 2.0 - 1.0
    x, y = v[:, 0], v[:, 1]
    z = 1.0 - np.abs(x) - np.abs(y)
    neg = z < 0
    x2 = np.where(neg, (1.0 - np.abs(y)) * np.sign(x), x)
    y2 = np.where(neg, (1.0 - np.abs(x)) * np.sign(y), y)
    out = np.column_stack([x2, y2, z])
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _enu_rotation(ecef: np.ndarray) -> np.ndarray:
    """Columns east, north, up at an ECEF position (WGS84 geodetic normal)."""
    x, y, z = ecef
    lon = np.arctan2(y, x)
    p = np.hypot(x, y)
    e2 = 6.69437999014e-3
    lat = np.arctan2(z, p * (1 - e2))
    for _ in range(5):
        n = 6378137.0 / np.sqrt(1 - e2 * np.sin(lat) ** 2)
        lat = np.arctan2(z + e2 * n * np.sin(lat), p)
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    return np.column_stack([east, np.cross(up, east), up])


def _cmpt(out: Decoded, data: memoryview, name: str, fetch: Fetch | None,
          depth: int) -> None:
    if depth >= MAX_COMPOSITE_DEPTH:
        raise LoadError(name, f"composite tiles nest more than {MAX_COMPOSITE_DEPTH} deep",
                        CORRUPT_HINT)
    f = _header(data, name, 16, "cmpt")
    byte_length, count = f[1], f[2]
    pos = 16
    for k in range(count):
        if pos + 12 > byte_length:
            raise LoadError(name, f"cmpt inner tile {k} of {count} starts past its end",
                            CORRUPT_HINT)
        inner_len = struct.unpack_from("<I", data, pos + 8)[0]
        if inner_len < 12 or pos + inner_len > byte_length:
            raise LoadError(name, f"cmpt inner tile {k} ({inner_len:,} bytes at {pos:,}) "
                            f"runs past the composite's {byte_length:,} bytes", CORRUPT_HINT)
        _decode_into(out, data[pos:pos + inner_len], name, fetch, depth + 1)
        pos += inner_len
