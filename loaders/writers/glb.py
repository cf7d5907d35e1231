"""Plain data -> one binary glTF 2.0 file (GLB) that any glTF viewer opens.

>>> from loaders.writers.glb import GlbLayer, GlbMarker, write_glb
>>> write_glb("site.glb", [GlbLayer("scan", cloud), GlbLayer("city", city_model)],
...           origin=(85000, 447500, 0), crs="EPSG:28992")

What goes in
------------
- a :class:`~loaders.types.Mesh`: one primitive per :class:`~loaders.types.MeshPart`
  (all faces in one when it has none) with its material: base colour, texture (PNG, or
  JPEG for large opaque images, embedded in the GLB), ``TEXCOORD_0`` (v flipped: loaders
  keep the OBJ convention, origin bottom-left; glTF's origin is top-left), ``NORMAL`` when the
  mesh has normals, ``COLOR_0`` from vertex colours;
- a :class:`~loaders.types.PointCloud`: a ``POINTS`` primitive, ``COLOR_0`` from ``rgb``
  (unsigned byte, normalised, RGBA);
- a :class:`~loaders.types.FeatureMesh` (city model, IFC): as a mesh, plus a per-vertex
  ``_FEATURE_ID_0`` (float, vertices shared by two objects are split) referenced by
  ``EXT_mesh_features``, and one ``EXT_structural_metadata`` property table with a row per
  object: ``id``, ``type``, ``name``, ``parent`` and its ``attributes`` and ``properties``
  as JSON text (the attributes differ from object to object, so one JSON column keeps them
  all). The same values are in the layer node's ``extras.features`` only as a count;
- :class:`GlbMarker`: an empty named node at a true position with ``extras`` (hotspots).

Coordinates
-----------
glTF is Y-up in metres with float32 positions; the scene is Z-up in a projected CRS whose
coordinates (hundreds of kilometres) float32 cannot hold to a millimetre. So positions are
stored as float32 *relative to* ``origin`` (computed in float64), under one root node
``realscene_root`` whose matrix rotates Z-up into Y-up (scene x, y, z -> glTF x, z, -y).
True scene coordinates of a glTF position ``p`` are ``origin + R⁻¹ p`` with the root matrix
``R``. ``asset.extras.realscene`` records ``{crs, crs_wkt, origin, up: "Z", root}``.

The GLB container is written directly (12-byte header, JSON chunk, BIN chunk) from the
numpy buffers, each buffer copied once.
"""

from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

# glTF constants
FLOAT, UBYTE, USHORT, UINT = 5126, 5121, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
POINTS_MODE, TRIANGLES_MODE = 0, 4

#: root node matrix (column-major) turning the scene's Z-up into glTF's Y-up
Z_UP_TO_Y_UP = [1.0, 0.0, 0.0, 0.0,
                0.0, 0.0, -1.0, 0.0,
                0.0, 1.0, 0.0, 0.0,
                0.0, 0.0, 0.0, 1.0]
ROOT_NAME = "realscene_root"

ProgressFn = Callable[[float, str], None]


@dataclass
class GlbLayer:
    """One dataset to write as one node (``name``) with its primitives.

    color : RGB 0..1 used where the data has no colour of its own (None: light grey)
    opacity : below 1 the materials blend
    extras : JSON-able values put on the node
    """

    name: str
    data: Any
    color: tuple[float, float, float] | None = None
    opacity: float = 1.0
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class GlbMarker:
    """An empty node at ``position`` (true scene coordinates) carrying ``extras``."""

    name: str
    position: Any
    extras: dict[str, Any] = field(default_factory=dict)


class _Builder:
    """glTF JSON + one binary buffer assembled from numpy arrays."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] = {
            "asset": {"version": "2.0", "generator": "RealScene loaders.writers.glb"},
            "scene": 0, "scenes": [{"nodes": []}], "nodes": [], "meshes": [],
            "materials": [], "accessors": [], "bufferViews": [], "buffers": [],
        }
        self.chunks: list[bytes | memoryview] = []
        self.length = 0
        self.used_extensions: set[str] = set()

    def view(self, data: bytes | memoryview, target: int | None = None, align: int = 4) -> int:
        pad = (-self.length) % align
        if pad:
            self.chunks.append(b"\0" * pad)
            self.length += pad
        bv: dict[str, Any] = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if target is not None:
            bv["target"] = target
        self.chunks.append(data)
        self.length += len(data)
        self.doc["bufferViews"].append(bv)
        return len(self.doc["bufferViews"]) - 1

    def accessor(self, array: np.ndarray, component: int, kind: str, target: int | None,
                 normalized: bool = False, minmax: bool = False) -> int:
        array = np.ascontiguousarray(array)
        acc: dict[str, Any] = {
            "bufferView": self.view(memoryview(array).cast("B"), target),
            "componentType": component, "count": int(len(array)), "type": kind,
        }
        if normalized:
            acc["normalized"] = True
        if minmax and len(array):
            a = array.reshape(len(array), -1)
            acc["min"] = [float(v) for v in a.min(axis=0)]
            acc["max"] = [float(v) for v in a.max(axis=0)]
        self.doc["accessors"].append(acc)
        return len(self.doc["accessors"]) - 1

    def node(self, node: dict[str, Any], parent: int | None) -> int:
        self.doc["nodes"].append(node)
        idx = len(self.doc["nodes"]) - 1
        if parent is None:
            self.doc["scenes"][0]["nodes"].append(idx)
        else:
            self.doc["nodes"][parent].setdefault("children", []).append(idx)
        return idx

    def write(self, path: Path) -> int:
        doc = {k: v for k, v in self.doc.items() if v != []}
        if self.length:
            doc["buffers"] = [{"byteLength": self.length}]
        if self.used_extensions:
            doc["extensionsUsed"] = sorted(self.used_extensions)
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
        text += b" " * ((-len(text)) % 4)
        bin_pad = (-self.length) % 4
        total = 12 + 8 + len(text) + (8 + self.length + bin_pad if self.length else 0)
        tmp = path.with_name(path.name + ".part")
        try:
            with open(tmp, "wb") as f:
                f.write(struct.pack("<4sII", b"glTF", 2, total))
                f.write(struct.pack("<I4s", len(text), b"JSON"))
                f.write(text)
                if self.length:
                    f.write(struct.pack("<I4s", self.length + bin_pad, b"BIN\0"))
                    for c in self.chunks:
                        f.write(c)
                    f.write(b"\0" * bin_pad)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return total


def _local(data: Any, origin: np.ndarray) -> np.ndarray:
    """float32 positions relative to ``origin``, computed in float64."""
    pts = data.positions if getattr(data, "kind", "") == "pointcloud" else data.vertices
    shift = np.asarray(data.origin, np.float64) - origin
    if not shift.any():
        return np.asarray(pts, np.float32)
    return (pts.astype(np.float64) + shift).astype(np.float32)


def _material(b: _Builder, name: str, rgba: tuple[float, ...], texture: np.ndarray | None,
              opacity: float, unlit_points: bool = False) -> int:
    r, g, bl, a = (list(rgba) + [1.0])[:4]
    a = float(a) * float(opacity)
    pbr: dict[str, Any] = {"baseColorFactor": [float(r), float(g), float(bl), a],
                           "metallicFactor": 0.0, "roughnessFactor": 1.0}
    mat: dict[str, Any] = {"name": name or "material", "pbrMetallicRoughness": pbr}
    if texture is not None:
        pbr["baseColorTexture"] = {"index": _texture(b, texture)}
        if texture.ndim == 3 and texture.shape[2] == 4 and texture[..., 3].min() < 255:
            mat["alphaMode"] = "BLEND"
    if a < 1.0:
        mat["alphaMode"] = "BLEND"
    if not unlit_points:
        mat["doubleSided"] = True
    b.doc["materials"].append(mat)
    return len(b.doc["materials"]) - 1


def _texture(b: _Builder, image: np.ndarray) -> int:
    from PIL import Image

    img = np.ascontiguousarray(image)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    pil = Image.fromarray(img.astype(np.uint8))
    buf = io.BytesIO()
    opaque = img.shape[2] == 3 or img[..., 3].min() == 255
    if opaque and img.shape[0] * img.shape[1] > 1024 * 1024:
        pil.convert("RGB").save(buf, "JPEG", quality=90)
        mime = "image/jpeg"
    else:
        pil.save(buf, "PNG")
        mime = "image/png"
    doc = b.doc
    doc.setdefault("images", []).append({"bufferView": b.view(buf.getvalue()),
                                         "mimeType": mime})
    if not doc.get("samplers"):
        doc["samplers"] = [{"magFilter": 9729, "minFilter": 9987,
                            "wrapS": 10497, "wrapT": 10497}]
    doc.setdefault("textures", []).append({"sampler": 0, "source": len(doc["images"]) - 1})
    return len(doc["textures"]) - 1


def _default_rgba(layer: GlbLayer) -> tuple[float, float, float, float]:
    c = layer.color if layer.color is not None else (0.8, 0.8, 0.8)
    return (float(c[0]), float(c[1]), float(c[2]), 1.0)


def _points_primitive(b: _Builder, layer: GlbLayer, origin: np.ndarray) -> dict[str, Any]:
    cloud = layer.data
    attrs = {"POSITION": b.accessor(_local(cloud, origin), FLOAT, "VEC3", ARRAY_BUFFER,
                                    minmax=True)}
    rgb = cloud.attributes.get("rgb")
    if rgb is not None and len(rgb) == cloud.point_count:
        rgba = np.empty((len(rgb), 4), np.uint8)
        rgba[:, :3] = rgb[:, :3]
        rgba[:, 3] = 255
        attrs["COLOR_0"] = b.accessor(rgba, UBYTE, "VEC4", ARRAY_BUFFER, normalized=True)
        base = (1.0, 1.0, 1.0, 1.0)
    else:
        base = _default_rgba(layer)
    mat = _material(b, f"{layer.name} points", base, None, layer.opacity, unlit_points=True)
    return {"attributes": attrs, "mode": POINTS_MODE, "material": mat}


def _split_by_feature(faces: np.ndarray, face_feature: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices used by triangles of several objects are duplicated, one per object:
    returns (old vertex index per new vertex, feature id per new vertex, new faces)."""
    fid = np.repeat(face_feature.astype(np.int64), 3)
    key = faces.reshape(-1).astype(np.int64) * (int(fid.max(initial=0)) + 2) + (fid + 1)
    uniq, inverse = np.unique(key, return_inverse=True)
    nfeat = int(fid.max(initial=0)) + 2
    old = (uniq // nfeat).astype(np.int64)
    feat = (uniq % nfeat).astype(np.int64) - 1
    return old, feat, inverse.reshape(-1, 3).astype(np.uint32)


def _property_table(b: _Builder, mesh: Any) -> dict[str, Any]:
    """EXT_structural_metadata property table, one row per feature (string columns)."""

    def column(values: list[str]) -> dict[str, Any]:
        encoded = [v.encode("utf-8") for v in values]
        offsets = np.zeros(len(encoded) + 1, np.uint32)
        offsets[1:] = np.cumsum([len(e) for e in encoded], dtype=np.uint64)
        return {"values": b.view(b"".join(encoded), align=8),
                "stringOffsets": b.view(offsets.tobytes(), align=8)}

    feats = mesh.features

    def js(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, default=str, sort_keys=True)

    values = {
        "id": [f.id for f in feats],
        "type": [f.type for f in feats],
        "name": [f.name or "" for f in feats],
        "parent": [f.parent or "" for f in feats],
        "attributes": [js(f.attributes) for f in feats],
        "properties": [js(f.properties) for f in feats],
    }
    # a column of empty strings only would need an empty buffer view, which glTF forbids:
    # it is left out (the schema's properties are optional; a reader gets no value)
    return {"class": "feature", "count": len(feats), "name": "objects",
            "properties": {k: column(v) for k, v in values.items() if any(v)}}


FEATURE_SCHEMA = {
    "id": "realscene",
    "classes": {"feature": {
        "name": "Object",
        "description": "A city object (CityJSON) or building element (IFC)",
        "properties": {
            "id": {"type": "STRING", "description": "CityJSON object id or IFC GlobalId"},
            "type": {"type": "STRING", "description": "e.g. Building, IfcWall"},
            "name": {"type": "STRING"},
            "parent": {"type": "STRING", "description": "id of the parent object or ''"},
            "attributes": {"type": "STRING", "description": "the object's attributes, JSON"},
            "properties": {"type": "STRING",
                           "description": "grouped properties (IFC property sets), JSON"},
        }}},
}


def _mesh_primitives(b: _Builder, layer: GlbLayer, origin: np.ndarray,
                     table: int | None) -> list[dict[str, Any]]:
    mesh = layer.data
    faces_all = np.asarray(mesh.faces)
    parts = mesh.parts or [None]
    featured = table is not None
    local_all = _local(mesh, origin)
    prims = []
    for part in parts:
        start, stop = (0, len(faces_all)) if part is None else (part.start, part.stop)
        faces = faces_all[start:stop]
        if len(faces) == 0:
            continue
        if featured:
            old, feat, new_faces = _split_by_feature(faces, mesh.face_feature[start:stop])
        elif len(faces) == len(faces_all):  # one part: every vertex, no re-indexing
            old, feat = slice(None), None
            new_faces = faces.astype(np.uint32, copy=False)
        else:  # only the vertices this part uses
            old, inv = np.unique(faces.reshape(-1), return_inverse=True)
            new_faces, feat = inv.reshape(-1, 3).astype(np.uint32), None
        attrs = {"POSITION": b.accessor(local_all[old], FLOAT, "VEC3", ARRAY_BUFFER,
                                        minmax=True)}
        nv = mesh.vertex_count
        if mesh.normals is not None and len(mesh.normals) == nv:
            n = mesh.normals[old].astype(np.float32)
            length = np.linalg.norm(n, axis=1, keepdims=True)
            good = (length[:, 0] > 1e-12) & np.isfinite(length[:, 0])
            n = np.where(good[:, None], n / np.where(length > 1e-12, length, 1.0),
                         np.array([0, 0, 1], np.float32))
            attrs["NORMAL"] = b.accessor(n.astype(np.float32), FLOAT, "VEC3", ARRAY_BUFFER)
        material = part.material if part is not None else None
        texture = material.texture if material is not None else None
        if texture is not None and mesh.uvs is not None and len(mesh.uvs) == nv:
            uv = mesh.uvs[old].astype(np.float32)
            uv = np.column_stack([uv[:, 0], 1.0 - uv[:, 1]]).astype(np.float32)
            attrs["TEXCOORD_0"] = b.accessor(uv, FLOAT, "VEC2", ARRAY_BUFFER)
        else:
            texture = None
        if mesh.vertex_colors is not None and len(mesh.vertex_colors) == nv:
            col = np.ascontiguousarray(mesh.vertex_colors[old], dtype=np.uint8)
            if col.shape[1] == 3:
                col = np.column_stack([col, np.full(len(col), 255, np.uint8)])
            attrs["COLOR_0"] = b.accessor(col, UBYTE, "VEC4", ARRAY_BUFFER, normalized=True)
        prim: dict[str, Any] = {"attributes": attrs, "mode": TRIANGLES_MODE}
        if featured:
            attrs["_FEATURE_ID_0"] = b.accessor(feat.astype(np.float32), FLOAT, "SCALAR",
                                                ARRAY_BUFFER)
            prim["extensions"] = {"EXT_mesh_features": {"featureIds": [{
                "featureCount": len(mesh.features), "attribute": 0, "propertyTable": table,
                "label": "objects"}]}}
        if material is not None and (material.color != (0.8, 0.8, 0.8, 1.0) or
                                     texture is not None or layer.color is None):
            rgba = material.color if texture is None else (1.0, 1.0, 1.0, material.color[3])
            name = material.name
        else:
            rgba, name = _default_rgba(layer), layer.name
        prim["material"] = _material(b, name, rgba, texture, layer.opacity)
        if _count(old, nv) < 65536:
            prim["indices"] = b.accessor(new_faces.astype(np.uint16).reshape(-1), USHORT,
                                         "SCALAR", ELEMENT_ARRAY_BUFFER)
        else:
            prim["indices"] = b.accessor(new_faces.reshape(-1), UINT, "SCALAR",
                                         ELEMENT_ARRAY_BUFFER)
        prims.append(prim)
    return prims


def _count(index: Any, n: int) -> int:
    return n if isinstance(index, slice) else len(index)


def _crs_info(crs: Any) -> dict[str, Any]:
    if crs is None:
        return {"crs": None, "crs_wkt": None}
    from ..crs import as_crs

    c = as_crs(crs)
    auth = c.to_authority(min_confidence=90)
    return {"crs": f"{auth[0]}:{auth[1]}" if auth else None, "crs_wkt": c.to_wkt()}


def write_glb(path: str | Path, layers: list[GlbLayer], markers: list[GlbMarker] = (), *,
              origin: Any = (0.0, 0.0, 0.0), crs: Any = None, title: str = "",
              extras: dict[str, Any] | None = None,
              progress: ProgressFn | None = None) -> dict[str, int]:
    """Write ``layers`` and ``markers`` to the GLB file ``path`` (see the module docstring).

    Returns counts: ``points``, ``triangles``, ``features``, ``markers``, ``bytes``.
    ``progress(fraction, message)`` may raise to cancel; nothing is left at ``path`` then
    (the file is written under a temporary name and renamed when complete).
    """
    path = Path(path)
    origin = np.asarray(origin, dtype=np.float64).reshape(3)
    b = _Builder()
    info = {**_crs_info(crs), "origin": [float(v) for v in origin], "up": "Z",
            "root": ROOT_NAME,
            "note": "true scene coordinates = origin + inverse(root matrix) * position"}
    b.doc["asset"]["extras"] = {"realscene": info, **(extras or {})}
    if title:
        b.doc["scenes"][0]["name"] = title
    root = b.node({"name": ROOT_NAME, "matrix": list(Z_UP_TO_Y_UP)}, None)
    counts = {"points": 0, "triangles": 0, "features": 0, "markers": 0}
    tables: list[dict[str, Any]] = []
    total = max(len(layers), 1)
    for i, layer in enumerate(layers):
        if progress is not None:
            progress(0.9 * i / total, f"writing {layer.name}")
        data = layer.data
        node: dict[str, Any] = {"name": layer.name}
        if layer.extras:
            node["extras"] = dict(layer.extras)
        if getattr(data, "kind", "") == "pointcloud":
            if data.point_count == 0:
                continue
            prims = [_points_primitive(b, layer, origin)]
            counts["points"] += data.point_count
        else:
            if data.triangle_count == 0:
                continue
            table = None
            if getattr(data, "features", None):
                table = len(tables)
                tables.append(_property_table(b, data))
                counts["features"] += len(data.features)
                b.used_extensions |= {"EXT_mesh_features", "EXT_structural_metadata"}
                node.setdefault("extras", {})["features"] = len(data.features)
            prims = _mesh_primitives(b, layer, origin, table)
            counts["triangles"] += data.triangle_count
        if not prims:
            continue
        b.doc["meshes"].append({"name": layer.name, "primitives": prims})
        node["mesh"] = len(b.doc["meshes"]) - 1
        b.node(node, root)
    for m in markers:
        pos = np.asarray(m.position, dtype=np.float64).reshape(3) - origin
        node = {"name": m.name, "translation": [float(v) for v in pos]}
        if m.extras:
            node["extras"] = m.extras
        b.node(node, root)
        counts["markers"] += 1
    if tables:
        b.doc["extensions"] = {"EXT_structural_metadata": {
            "schema": FEATURE_SCHEMA, "propertyTables": tables}}
    if progress is not None:
        progress(0.95, f"writing {path.name}")
    counts["bytes"] = b.write(path)
    if progress is not None:
        progress(1.0, "written")
    return counts
