"""3D Tiles 1.1 from plain data: a folder with ``tileset.json`` and GLB tile content.

>>> frame = EcefFrame(crs, origin)
>>> tile = write_point_tiles(PointChunks.from_cloud(cloud), out / "scan", frame)
>>> tile = write_mesh_tiles(mesh, out / "city", frame)
>>> write_tileset(out / "tileset.json", [tile], frame)

Placement (ECEF)
----------------
Tile content is in one local east-north-up frame (metres) at ``origin``; the root tile's
``transform`` takes it to ECEF (EPSG:4978). Every point and vertex is transformed
*exactly* (scene CRS -> ECEF with pyproj, then into the ENU frame), not by treating the
projected CRS as if it were ENU: that shortcut is off by the projection's scale factor
(UTM: 0.9996, i.e. 40 cm per km), the grid convergence (a rotation of up to a few degrees:
tens of metres at the edge of a 1 km district) and the earth's curvature (8 cm at 1 km),
while the exact transform costs about 0.6 s per million points. A CRS without heights
(2D) takes ``z`` as ellipsoidal height (no geoid model offline: EGM/NAP heights put the
tileset tens of metres too low or high, uniformly). Without a CRS there is no ``transform``
and content stays in scene coordinates minus the origin.

glTF is y-up: content positions are ``(east, up, -north)`` relative to each tile's centre
(a node translation), as the 3D Tiles spec expects (the runtime turns y-up into z-up).

Point clouds (``refine`` ADD, every point stored exactly once)
--------------------------------------------------------------
An octree on the enclosing cube, built bottom-up like PotreeConverter 2: a node with more
than ``leaf_points`` points splits into its 8 octants; each node keeps the points its
children hand up (one per cell of a ``grid``³ grid over the node) and hands up one per cell
of a (``grid``/2)³ grid to its parent. So a node and its ancestors are a uniform sample at
spacing ``node size / grid``, its ``geometricError``; leaves have error 0.

Streaming: input comes as chunks (:class:`PointChunks`: a cloud in memory, or a LAS/LAZ/COPC
file read with laspy's chunk iterator). A node with more than ``bucket_points`` points is
never held at once: its points are spilled into 8 temporary files (one per octant) chunk by
chunk, each processed in turn, so memory is bounded by ``bucket_points`` records plus the
points handed up (a few grid² per node on the path) whatever the size of the cloud.

Meshes and city models (``refine`` REPLACE)
-------------------------------------------
A k-d split of the faces (city/BIM models: of whole objects, so an object is never cut) into
leaves of at most ``leaf_triangles`` triangles; inner tiles have no content of their own
(their error is the size of their box, so a viewer refines them as you approach). Objects
carry ``EXT_mesh_features`` feature ids and an ``EXT_structural_metadata`` property table
with their id, type, name and attributes.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..types import LoadCancelled, ProgressFn

GRID = 128
LEAF_POINTS = 50_000
BUCKET_POINTS = 2_000_000
CHUNK_POINTS = 500_000
MAX_DEPTH = 20
LEAF_TRIANGLES = 100_000
#: point attributes a tile can carry (besides the position), in their glTF form: ``rgb`` as
#: COLOR_0 (RGBA uint8, 4 B), ``intensity`` and ``classification`` as float32 scalars (4 B
#: each: glTF wants every vertex attribute element 4-byte aligned, and py3dtiles' reader
#: ignores ``byteStride``, so they can be neither uint16/uint8 nor interleaved)
POINT_ATTRIBUTES = ("rgb", "intensity", "classification")

# spilled / in-memory point record: ENU metres (float64) + attributes
POINT_DTYPE = np.dtype([("x", "<f8"), ("y", "<f8"), ("z", "<f8"), ("rgb", "u1", (3,)),
                        ("intensity", "<u2"), ("classification", "u1")])

_OCTANT = np.array([[(o >> 0) & 1, (o >> 1) & 1, (o >> 2) & 1] for o in range(8)], np.float64)


# ---- placement ----------------------------------------------------------------------------
class EcefFrame:
    """Scene CRS -> local ENU frame at ``origin`` (metres), and the ENU -> ECEF matrix."""

    def __init__(self, crs: Any, origin: Any) -> None:
        self.origin = np.asarray(origin, np.float64).reshape(3)
        self.crs = crs
        self.matrix: np.ndarray | None = None  # 4x4 ENU -> ECEF
        self._to_ecef = None
        if crs is None:
            return
        from pyproj import CRS, Transformer

        crs3d = CRS.from_user_input(crs).to_3d()
        self._to_ecef = Transformer.from_crs(crs3d, "EPSG:4978", always_xy=True)
        to_geo = Transformer.from_crs(crs3d, "EPSG:4979", always_xy=True)
        lon, lat, _ = to_geo.transform(*self.origin)
        o = np.array(self._to_ecef.transform(*self.origin), np.float64)
        if not np.all(np.isfinite(o)) or not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError(f"the origin {self.origin.tolist()} cannot be placed on the earth "
                             f"in {CRS.from_user_input(crs).name}")
        lam, phi = math.radians(lon), math.radians(lat)
        east = [-math.sin(lam), math.cos(lam), 0.0]
        north = [-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi)]
        up = [math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)]
        self.rotation = np.array([east, north, up], np.float64)  # rows: ECEF -> ENU
        self.ecef_origin = o
        m = np.eye(4)
        m[:3, :3] = self.rotation.T
        m[:3, 3] = o
        self.matrix = m
        self.lonlat = (lon, lat)

    def to_local(self, xyz: np.ndarray) -> np.ndarray:
        """(N, 3) scene coordinates (float64) -> ENU metres at the origin."""
        xyz = np.asarray(xyz, np.float64)
        if self._to_ecef is None:
            return xyz - self.origin
        x, y, z = self._to_ecef.transform(xyz[:, 0], xyz[:, 1], xyz[:, 2])
        d = np.column_stack([x, y, z])
        d -= self.ecef_origin
        return d @ self.rotation.T

    def to_scene(self, enu: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_local` (tests and readers)."""
        enu = np.asarray(enu, np.float64)
        if self._to_ecef is None:
            return enu + self.origin
        ecef = enu @ self.rotation + self.ecef_origin
        x, y, z = self._to_ecef.transform(ecef[:, 0], ecef[:, 1], ecef[:, 2],
                                          direction="INVERSE")
        return np.column_stack([x, y, z])

    def transform_list(self) -> list[float] | None:
        """The root ``transform`` (column-major 16 numbers) or None without a CRS."""
        return None if self.matrix is None else [float(v) for v in self.matrix.T.ravel()]


# ---- point input ---------------------------------------------------------------------------
@dataclass
class PointChunks:
    """Points in chunks: ``make()`` returns a fresh iterator of ``(xyz float64 (N,3) in
    ``crs``, attributes dict)``; ``count`` is the total, ``bounds`` (lo, hi) in ``crs``."""

    make: Callable[[], Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]]
    count: int
    bounds: tuple[np.ndarray, np.ndarray]
    crs: Any = None
    has: set[str] = field(default_factory=set)  # of "rgb", "intensity", "classification"

    @classmethod
    def from_cloud(cls, cloud: Any, chunk_points: int = CHUNK_POINTS) -> PointChunks:
        attrs = cloud.attributes

        def gen() -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
            for s in range(0, cloud.point_count, chunk_points):
                sl = slice(s, s + chunk_points)
                xyz = cloud.positions[sl].astype(np.float64) + cloud.origin
                yield xyz, {k: attrs[k][sl] for k in ("rgb", "intensity", "classification")
                            if k in attrs}

        has = {k for k in ("rgb", "intensity", "classification") if k in attrs}
        return cls(gen, cloud.point_count, cloud.bounds, cloud.crs, has)

    @classmethod
    def from_las(cls, path: str | os.PathLike, crs: Any = None,
                 chunk_points: int = CHUNK_POINTS) -> PointChunks:
        """A LAS/LAZ/COPC file read chunk by chunk (never whole); ``crs`` overrides the
        file's own."""
        import laspy

        path = Path(path)
        with laspy.open(path) as f:
            h = f.header
            count = int(h.point_count)
            lo, hi = np.array(h.mins, np.float64), np.array(h.maxs, np.float64)
            dims = set(h.point_format.dimension_names)
            if crs is None:
                try:
                    crs = h.parse_crs()
                except Exception:  # noqa: BLE001 - a broken CRS record: caller gives one
                    crs = None
        has = {"intensity", "classification"} & dims
        if {"red", "green", "blue"} <= dims:
            has.add("rgb")

        def gen() -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
            with laspy.open(path) as f:
                for pts in f.chunk_iterator(chunk_points):
                    xyz = np.column_stack([np.asarray(pts.x), np.asarray(pts.y),
                                           np.asarray(pts.z)])
                    a: dict[str, np.ndarray] = {}
                    if "rgb" in has:
                        rgb = np.column_stack([pts.red, pts.green, pts.blue])
                        a["rgb"] = (rgb >> 8 if rgb.max(initial=0) > 255 else rgb).astype(
                            np.uint8)
                    if "intensity" in has:
                        a["intensity"] = np.asarray(pts.intensity)
                    if "classification" in has:
                        a["classification"] = np.asarray(pts.classification)
                    yield xyz, a

        return cls(gen, count, (lo, hi), crs, has)


def _records(xyz_local: np.ndarray, attrs: dict[str, np.ndarray]) -> np.ndarray:
    rec = np.zeros(len(xyz_local), POINT_DTYPE)
    rec["x"], rec["y"], rec["z"] = xyz_local[:, 0], xyz_local[:, 1], xyz_local[:, 2]
    if "rgb" in attrs:
        rec["rgb"] = attrs["rgb"]
    if "intensity" in attrs:
        rec["intensity"] = np.clip(attrs["intensity"], 0, 65535)
    if "classification" in attrs:
        rec["classification"] = np.asarray(attrs["classification"]).astype(np.uint8)
    return rec


def _xyz(rec: np.ndarray) -> np.ndarray:
    return np.column_stack([rec["x"], rec["y"], rec["z"]])


# ---- GLB --------------------------------------------------------------------------------------
class _Glb:
    """A minimal GLB builder: one buffer, accessors with min/max where glTF wants them."""

    def __init__(self) -> None:
        self.gltf: dict[str, Any] = {"asset": {"version": "2.0",
                                               "generator": "RealScene 3D Tiles writer"},
                                     "buffers": [], "bufferViews": [], "accessors": []}
        self.parts: list[bytes] = []
        self.size = 0

    def view(self, data: bytes, target: int | None = None, stride: int | None = None) -> int:
        pad = (-self.size) % 8
        if pad:
            self.parts.append(b"\0" * pad)
            self.size += pad
        bv: dict[str, Any] = {"buffer": 0, "byteOffset": self.size, "byteLength": len(data)}
        if target:
            bv["target"] = target
        if stride:
            bv["byteStride"] = stride
        self.parts.append(data)
        self.size += len(data)
        self.gltf["bufferViews"].append(bv)
        return len(self.gltf["bufferViews"]) - 1

    def accessor(self, arr: np.ndarray, type_: str, *, target: int | None = 34962,
                 view: int | None = None, offset: int = 0, count: int | None = None,
                 ctype: int | None = None, normalized: bool = False,
                 minmax: bool = False) -> int:
        ctypes = {np.dtype("float32"): 5126, np.dtype("uint32"): 5125,
                  np.dtype("uint16"): 5123, np.dtype("uint8"): 5121}
        if view is None:
            view = self.view(np.ascontiguousarray(arr).tobytes(), target)
        acc: dict[str, Any] = {"bufferView": view, "componentType": ctype or ctypes[arr.dtype],
                               "count": int(count if count is not None else len(arr)),
                               "type": type_}
        if offset:
            acc["byteOffset"] = offset
        if normalized:
            acc["normalized"] = True
        if minmax:
            a = arr.reshape(len(arr), -1)
            acc["min"] = [float(v) for v in a.min(axis=0)]
            acc["max"] = [float(v) for v in a.max(axis=0)]
        self.gltf["accessors"].append(acc)
        return len(self.gltf["accessors"]) - 1

    def use(self, ext: str) -> None:
        used = self.gltf.setdefault("extensionsUsed", [])
        if ext not in used:
            used.append(ext)

    def bytes(self) -> bytes:
        binary = b"".join(self.parts)
        binary += b"\0" * ((-len(binary)) % 4)
        self.gltf["buffers"] = [{"byteLength": len(binary)}]
        js = json.dumps(self.gltf, separators=(",", ":")).encode("utf-8")
        js += b" " * ((-len(js)) % 4)
        total = 12 + 8 + len(js) + 8 + len(binary)
        return b"".join([struct.pack("<4sII", b"glTF", 2, total),
                         struct.pack("<I4s", len(js), b"JSON"), js,
                         struct.pack("<I4s", len(binary), b"BIN\0"), binary])


def _yup(enu: np.ndarray) -> np.ndarray:
    """ENU (z-up) -> glTF (y-up): (e, u, -n)."""
    return np.column_stack([enu[:, 0], enu[:, 2], -enu[:, 1]])


def point_glb(rec: np.ndarray, centre: np.ndarray, has: set[str]) -> bytes:
    """GLB of POINTS: positions relative to ``centre`` (ENU) under a translated node;
    COLOR_0 (RGBA8), _INTENSITY, _CLASSIFICATION (float32) as EXT_structural_metadata
    property attributes."""
    g = _Glb()
    pos = _yup(_xyz(rec) - centre).astype(np.float32)
    attributes = {"POSITION": g.accessor(pos, "VEC3", minmax=True)}
    if "rgb" in has:
        rgba = np.full((len(rec), 4), 255, np.uint8)
        rgba[:, :3] = rec["rgb"]
        attributes["COLOR_0"] = g.accessor(rgba, "VEC4", normalized=True)
    props = {}
    # float32 scalars: exact for these integers, 4-byte aligned as glTF wants for vertex
    # attributes, and tightly packed (readers such as py3dtiles ignore byteStride)
    for name, attr in (("intensity", "_INTENSITY"), ("classification", "_CLASSIFICATION")):
        if name in has:
            attributes[attr] = g.accessor(rec[name].astype(np.float32), "SCALAR")
            props[name] = {"attribute": attr}
    prim: dict[str, Any] = {"attributes": attributes, "mode": 0}
    if props:
        g.use("EXT_structural_metadata")
        g.gltf["extensions"] = {"EXT_structural_metadata": {
            "schema": {"id": "realscene_points", "classes": {"point": {"properties": {
                k: {"type": "SCALAR", "componentType": "FLOAT32"} for k in props}}}},
            "propertyAttributes": [{"class": "point", "properties": props}]}}
        prim["extensions"] = {"EXT_structural_metadata": {"propertyAttributes": [0]}}
    if "rgb" not in has:
        g.gltf["materials"] = [{"pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1]},
                                "extensions": {"KHR_materials_unlit": {}}}]
        g.use("KHR_materials_unlit")
        prim["material"] = 0
    g.gltf["meshes"] = [{"primitives": [prim]}]
    g.gltf["nodes"] = [{"mesh": 0, "translation": [float(v) for v in _yup(centre[None])[0]]}]
    g.gltf["scenes"] = [{"nodes": [0]}]
    g.gltf["scene"] = 0
    return g.bytes()


# ---- point octree -------------------------------------------------------------------------
@dataclass
class _Ctx:
    out: Path
    prefix: str
    grid: int
    leaf_points: int
    bucket_points: int
    has: set[str]
    tmp: Path
    total: int
    progress: ProgressFn | None
    done: int = 0
    tiles: int = 0
    written: int = 0
    bytes: int = 0

    def advance(self, n: int, message: str) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(0.3 + 0.7 * self.done / max(self.total, 1), message)


def _one_per_cell(rec: np.ndarray, lo: np.ndarray, size: float, grid: int) -> np.ndarray:
    """Boolean mask choosing one point per occupied cell of a grid³ grid on the cube."""
    key = np.zeros(len(rec), np.int64)
    for i, c in enumerate("xyz"):
        cell = ((rec[c] - lo[i]) * (grid / size)).astype(np.int64)
        np.clip(cell, 0, grid - 1, out=cell)
        key *= grid
        key += cell
    _, first = np.unique(key, return_index=True)
    mask = np.zeros(len(rec), bool)
    mask[first] = True
    return mask


def _octants(rec: np.ndarray, lo: np.ndarray, half: float) -> np.ndarray:
    """Octant 0..7 of each record (bit 0: x, 1: y, 2: z in the upper half)."""
    o = (rec["x"] >= lo[0] + half).astype(np.uint8)
    o |= (rec["y"] >= lo[1] + half).astype(np.uint8) << 1
    o |= (rec["z"] >= lo[2] + half).astype(np.uint8) << 2
    return o


def _finish(ctx: _Ctx, node_pts: np.ndarray, children: list[dict], lo: np.ndarray,
            size: float, depth: int, key: str, leaf: bool) -> tuple[np.ndarray, dict | None]:
    """Hand points up, write this node's content, return (handed up, tile or None)."""
    if depth > 0 and len(node_pts):
        up = _one_per_cell(node_pts, lo, size, max(ctx.grid // 2, 1))
        handed, node_pts = node_pts[up], node_pts[~up]
    else:
        handed = node_pts[:0]
    if not len(node_pts) and not children:
        return handed, None
    los, his = [c["_lo"] for c in children], [c["_hi"] for c in children]
    tile: dict[str, Any] = {"geometricError": 0.0 if leaf else size / ctx.grid,
                            "refine": "ADD"}
    if len(node_pts):
        xyz = _xyz(node_pts)
        plo, phi = xyz.min(axis=0), xyz.max(axis=0)
        los.append(plo)
        his.append(phi)
        centre = np.round((plo + phi) / 2, 3)
        name = f"{ctx.prefix}{key}.glb"
        data = point_glb(node_pts, centre, ctx.has)
        (ctx.out / name).write_bytes(data)
        tile["content"] = {"uri": name}
        ctx.tiles += 1
        ctx.written += len(node_pts)
        ctx.bytes += len(data)
    tile["_lo"], tile["_hi"] = np.min(los, axis=0), np.max(his, axis=0)
    if children:
        tile["children"] = children
    return handed, tile


def _node_mem(ctx: _Ctx, holder: list[np.ndarray], lo: np.ndarray, size: float, depth: int,
              key: str) -> tuple[np.ndarray, dict | None]:
    rec = holder.pop()
    if len(rec) <= ctx.leaf_points or depth >= MAX_DEPTH or size < 1e-6:
        ctx.advance(len(rec), "tiling points")
        return _finish(ctx, rec, [], lo, size, depth, key, True)
    half = size / 2
    octs = _octants(rec, lo, half)
    order = np.argsort(octs, kind="stable")
    counts = np.bincount(octs, minlength=8)
    subs, start = [], 0
    for c in counts:
        subs.append(rec[order[start:start + c]])
        start += c
    del rec, order, octs
    handed, children = [], []
    for o in range(8):
        sub = subs[o]
        subs[o] = None  # type: ignore[call-overload]
        if not len(sub):
            continue
        h, t = _node_mem(ctx, [sub], lo + _OCTANT[o] * half, half, depth + 1, key + str(o))
        del sub
        handed.append(h)
        if t is not None:
            children.append(t)
    node_pts = np.concatenate(handed) if handed else np.zeros(0, POINT_DTYPE)
    return _finish(ctx, node_pts, children, lo, size, depth, key, False)


def _read_file(path: Path, start: int, n: int) -> np.ndarray:
    with open(path, "rb") as f:
        f.seek(start * POINT_DTYPE.itemsize)
        return np.fromfile(f, POINT_DTYPE, n)


def _node_spill(ctx: _Ctx, chunks: Callable[[], Iterator[np.ndarray]], count: int,
                lo: np.ndarray, size: float, depth: int, key: str
                ) -> tuple[np.ndarray, dict | None]:
    """A node whose points come as chunks of records: in memory when small enough, else
    spilled to 8 octant files processed one after the other."""
    if count <= ctx.bucket_points or depth >= MAX_DEPTH:
        parts = list(chunks())
        rec = np.concatenate(parts) if parts else np.zeros(0, POINT_DTYPE)
        del parts
        return _node_mem(ctx, [rec], lo, size, depth, key)
    half = size / 2
    files = [ctx.tmp / f"{ctx.prefix}{key}{o}.bin" for o in range(8)]
    counts = np.zeros(8, np.int64)
    handles = [open(p, "wb") for p in files]
    try:
        for rec in chunks():
            octs = _octants(rec, lo, half)
            order = np.argsort(octs, kind="stable")
            c = np.bincount(octs, minlength=8)
            s = 0
            for o in range(8):
                if c[o]:
                    rec[order[s:s + c[o]]].tofile(handles[o])
                s += c[o]
            counts += c
            del rec, order, octs
    finally:
        for h in handles:
            h.close()
    handed, children = [], []
    step = max(ctx.bucket_points // 4, 1)
    for o in range(8):
        n = int(counts[o])
        if n:
            def read(path: Path = files[o], n: int = n) -> Iterator[np.ndarray]:
                for s in range(0, n, step):
                    yield _read_file(path, s, min(step, n - s))

            h, t = _node_spill(ctx, read, n, lo + _OCTANT[o] * half, half, depth + 1,
                               key + str(o))
            handed.append(h)
            if t is not None:
                children.append(t)
        files[o].unlink(missing_ok=True)
    node_pts = np.concatenate(handed) if handed else np.zeros(0, POINT_DTYPE)
    return _finish(ctx, node_pts, children, lo, size, depth, key, False)


@dataclass
class TileTree:
    """A written tree: ``root`` is the tile dict (bounding volumes in the local frame),
    with ``counts`` of points / triangles / tiles / bytes and ``warnings``."""

    root: dict[str, Any]
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def write_point_tiles(points: PointChunks, out_dir: str | os.PathLike, frame: EcefFrame, *,
                      prefix: str = "", grid: int = GRID, leaf_points: int = LEAF_POINTS,
                      bucket_points: int = BUCKET_POINTS,
                      attributes: Iterable[str] | None = None,
                      progress: ProgressFn | None = None) -> TileTree | None:
    """Tile a point cloud at full resolution into ``out_dir`` (GLB files named
    ``{prefix}{octant path}.glb``). Streams: memory stays within about ``bucket_points``
    records. ``attributes``: which of :data:`POINT_ATTRIBUTES` the tiles carry when the
    cloud has them (default: all it has; ``()``: positions only). Returns the tree (None
    for an empty cloud). ``progress`` may raise to cancel. ValueError for an unknown
    attribute name."""
    has = set(points.has)
    if attributes is not None:
        wanted = {a.strip() for a in (attributes.split(",") if isinstance(attributes, str)
                                      else attributes) if a.strip()}
        unknown = sorted(wanted - set(POINT_ATTRIBUTES))
        if unknown:
            raise ValueError(f"unknown point attribute {', '.join(map(repr, unknown))}: "
                             f"choose from {', '.join(POINT_ATTRIBUTES)}")
        has &= wanted
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if points.count == 0:
        return None
    if frame.crs is not None and points.crs is not None:
        from pyproj import CRS

        if not CRS.from_user_input(points.crs).equals(CRS.from_user_input(frame.crs)):
            frame = _SourceFrame(points.crs, frame)
    # the cube: the local frame box of the source bounds (corners + centre of edges), padded
    # for curvature and the rounding of header bounds
    blo, bhi = (np.asarray(b, np.float64) for b in points.bounds)
    corners = np.array([[x, y, z] for x in (blo[0], (blo[0] + bhi[0]) / 2, bhi[0])
                        for y in (blo[1], (blo[1] + bhi[1]) / 2, bhi[1])
                        for z in (blo[2], bhi[2])])
    local = frame.to_local(corners)
    clo, chi = local.min(axis=0), local.max(axis=0)
    size = float((chi - clo).max())
    pad = size * 0.01 + 1.0
    clo -= pad
    size += 2 * pad
    with tempfile.TemporaryDirectory(prefix="realscene-tiles-") as tmp:
        ctx = _Ctx(out, prefix, grid, leaf_points, max(bucket_points, leaf_points),
                   has, Path(tmp), points.count, progress)
        read_count = [0]

        def chunks() -> Iterator[np.ndarray]:
            for xyz, attrs in points.make():
                if progress is not None:
                    progress(0.3 * read_count[0] / points.count, "reading points")
                read_count[0] += len(xyz)
                keep = np.all(np.isfinite(xyz), axis=1)
                if not keep.all():
                    xyz, attrs = xyz[keep], {k: v[keep] for k, v in attrs.items()}
                loc = frame.to_local(xyz)
                # points outside the padded cube (wrong header bounds) are clamped in
                np.clip(loc, clo, clo + size, out=loc)
                yield _records(loc, attrs)

        _, root = _node_spill(ctx, chunks, points.count, clo, size, 0, "r")
    if root is None:
        return None
    root["geometricError"] = max(root["geometricError"], size / grid)
    counts = {"points": ctx.written, "tiles": ctx.tiles, "bytes": ctx.bytes}
    warnings = []
    if ctx.written != points.count:
        warnings.append(f"{points.count - ctx.written} points without finite coordinates "
                        "were left out")
    return TileTree(root, counts, warnings)


class _SourceFrame(EcefFrame):
    """The output frame of ``frame`` for points given in another CRS (a file read from
    disk in its own CRS): source CRS -> ECEF -> the frame's ENU."""

    def __init__(self, crs: Any, frame: EcefFrame) -> None:  # noqa: D107
        from pyproj import CRS, Transformer

        self.__dict__.update(frame.__dict__)
        self._to_ecef = Transformer.from_crs(CRS.from_user_input(crs).to_3d(), "EPSG:4978",
                                             always_xy=True)


# ---- meshes and city models ---------------------------------------------------------------
def _string_column(values: list[str], g: _Glb) -> tuple[int, int]:
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, np.uint32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return g.view(b"".join(encoded)), g.view(offsets.tobytes())


def _text(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)


def mesh_glb(enu: np.ndarray, faces: np.ndarray, centre: np.ndarray, *,
             colors: np.ndarray | None = None, base_color: tuple = (0.8, 0.8, 0.8, 1.0),
             feature_ids: np.ndarray | None = None, features: list | None = None) -> bytes:
    """GLB of TRIANGLES: ``enu`` (V, 3) local positions, ``faces`` (M, 3) into them.
    With ``feature_ids`` ((V,) index into ``features``), EXT_mesh_features ids and an
    EXT_structural_metadata table (id, type, name, one STRING column per attribute)."""
    g = _Glb()
    pos = _yup(enu - centre).astype(np.float32)
    attributes = {"POSITION": g.accessor(pos, "VEC3", minmax=True)}
    if colors is not None:
        attributes["COLOR_0"] = g.accessor(np.ascontiguousarray(colors, np.uint8), "VEC4",
                                           normalized=True)
    prim: dict[str, Any] = {"attributes": attributes, "mode": 4, "material": 0,
                            "indices": g.accessor(faces.astype(np.uint32).ravel(), "SCALAR",
                                                  target=34963)}
    if feature_ids is not None and features is not None:
        attributes["_FEATURE_ID_0"] = g.accessor(feature_ids.astype(np.float32), "SCALAR")
        g.use("EXT_mesh_features")
        g.use("EXT_structural_metadata")
        prim["extensions"] = {"EXT_mesh_features": {"featureIds": [
            {"featureCount": len(features), "attribute": 0, "propertyTable": 0}]}}
        keys: list[str] = []
        for f in features:
            for k in f.attributes:
                if k not in keys:
                    keys.append(k)
        columns = {"id": [f.id for f in features], "type": [f.type for f in features],
                   "name": [f.name for f in features]}
        names = {"id": "id", "type": "type", "name": "name"}
        for i, k in enumerate(keys):
            pid = f"attr_{i}"
            names[pid] = k
            columns[pid] = [_text(f.attributes.get(k)) for f in features]
        props, table = {}, {}
        for pid, values in columns.items():
            props[pid] = {"type": "STRING", "name": names[pid]}
            v, o = _string_column(values, g)
            table[pid] = {"values": v, "stringOffsets": o, "stringOffsetType": "UINT32"}
        g.gltf["extensions"] = {"EXT_structural_metadata": {
            "schema": {"id": "realscene_objects", "classes": {"object": {"properties": props}}},
            "propertyTables": [{"class": "object", "count": len(features),
                                "properties": table}]}}
    g.gltf["materials"] = [{"pbrMetallicRoughness": {
        "baseColorFactor": [float(c) for c in base_color], "metallicFactor": 0.0,
        "roughnessFactor": 1.0}, "doubleSided": True}]
    if len(base_color) > 3 and base_color[3] < 1:
        g.gltf["materials"][0]["alphaMode"] = "BLEND"
    g.gltf["meshes"] = [{"primitives": [prim]}]
    g.gltf["nodes"] = [{"mesh": 0, "translation": [float(v) for v in _yup(centre[None])[0]]}]
    g.gltf["scenes"] = [{"nodes": [0]}]
    g.gltf["scene"] = 0
    return g.bytes()


def write_mesh_tiles(mesh: Any, out_dir: str | os.PathLike, frame: EcefFrame, *,
                     prefix: str = "", leaf_triangles: int = LEAF_TRIANGLES,
                     base_color: tuple = (0.8, 0.8, 0.8, 1.0),
                     progress: ProgressFn | None = None) -> TileTree | None:
    """Tile a Mesh / FeatureMesh (see the module docstring). None when it has no faces."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    faces = np.asarray(mesh.faces, np.int64)
    if not len(faces):
        return None
    if progress is not None:
        progress(0.0, "placing vertices")
    enu = frame.to_local(mesh.xyz())
    feats = getattr(mesh, "features", None)
    face_feature = getattr(mesh, "face_feature", None)
    use_features = bool(feats) and face_feature is not None
    # units to split: whole objects for city/BIM models, single faces otherwise
    centroids = enu[faces].mean(axis=1)
    if use_features:
        unit_of_face = np.asarray(face_feature, np.int64).copy()
        unit_of_face[unit_of_face < 0] = len(feats)  # faces of no object: one extra unit
        n_units = len(feats) + 1
    else:
        unit_of_face = np.arange(len(faces))
        n_units = len(faces)
    tri_per_unit = np.bincount(unit_of_face, minlength=n_units)
    if use_features:
        sums = np.zeros((n_units, 3))
        np.add.at(sums, unit_of_face, centroids)
        unit_centre = sums / np.maximum(tri_per_unit, 1)[:, None]
    else:
        unit_centre = centroids
    order_faces = np.argsort(unit_of_face, kind="stable")
    face_start = np.concatenate([[0], np.cumsum(tri_per_unit)])
    colors = None
    if getattr(mesh, "vertex_colors", None) is not None:
        colors = np.asarray(mesh.vertex_colors, np.uint8)
    stats = {"triangles": 0, "tiles": 0, "bytes": 0, "done": 0}

    def faces_of(units: np.ndarray) -> np.ndarray:
        idx = [order_faces[face_start[u]:face_start[u + 1]] for u in units]
        return np.concatenate(idx) if idx else np.zeros(0, np.int64)

    def leaf(units: np.ndarray, key: str) -> dict[str, Any]:
        fidx = faces_of(units)
        f = faces[fidx]
        used, inv = np.unique(f.ravel(), return_inverse=True)
        local_faces = inv.reshape(-1, 3)
        v = enu[used]
        kw: dict[str, Any] = {}
        if colors is not None:
            kw["colors"] = colors[used]
        if use_features:
            # a vertex shared by two objects is split so every vertex has one object
            fid = unit_of_face[fidx]
            pairs = np.column_stack([f.ravel(), np.repeat(fid, 3)])
            uniq, inv2 = np.unique(pairs, axis=0, return_inverse=True)
            local_faces = inv2.reshape(-1, 3)
            v = enu[uniq[:, 0]]
            if colors is not None:
                kw["colors"] = colors[uniq[:, 0]]
            objs, local_id = np.unique(uniq[:, 1], return_inverse=True)
            kw["feature_ids"] = local_id
            from ..types import Feature

            kw["features"] = [feats[o] if o < len(feats) else Feature("", "") for o in objs]
        lo, hi = v.min(axis=0), v.max(axis=0)
        centre = np.round((lo + hi) / 2, 3)
        data = mesh_glb(v, local_faces, centre, base_color=base_color, **kw)
        name = f"{prefix}{key}.glb"
        (out / name).write_bytes(data)
        stats["triangles"] += len(f)
        stats["tiles"] += 1
        stats["bytes"] += len(data)
        stats["done"] += len(f)
        if progress is not None:
            progress(stats["done"] / len(faces), "tiling meshes")
        return {"geometricError": 0.0, "refine": "REPLACE", "content": {"uri": name},
                "_lo": lo, "_hi": hi}

    def split(units: np.ndarray, key: str, depth: int) -> dict[str, Any]:
        n_tri = int(tri_per_unit[units].sum())
        if n_tri <= leaf_triangles or len(units) <= 1 or depth >= MAX_DEPTH:
            return leaf(units, key)
        c = unit_centre[units]
        axis = int(np.argmax(c.max(axis=0) - c.min(axis=0)))
        order = units[np.argsort(c[:, axis], kind="stable")]
        cum = np.cumsum(tri_per_unit[order])
        cut = int(np.clip(np.searchsorted(cum, cum[-1] / 2), 1, len(order) - 1))
        kids = [split(order[:cut], key + "0", depth + 1), split(order[cut:], key + "1",
                                                                depth + 1)]
        lo = np.min([k["_lo"] for k in kids], axis=0)
        hi = np.max([k["_hi"] for k in kids], axis=0)
        return {"geometricError": float(np.linalg.norm(hi - lo)) / 16, "refine": "REPLACE",
                "children": kids, "_lo": lo, "_hi": hi}

    units = np.nonzero(tri_per_unit)[0]
    root = split(units, "m", 0)
    root["geometricError"] = max(root["geometricError"],
                                 float(np.linalg.norm(root["_hi"] - root["_lo"])) / 16)
    return TileTree(root, {k: stats[k] for k in ("triangles", "tiles", "bytes")})


# ---- tileset.json -------------------------------------------------------------------------
def box(lo: np.ndarray, hi: np.ndarray) -> list[float]:
    """A 3D Tiles ``box`` (centre + three half-axes) around lo..hi, padded by 1 mm."""
    c = (lo + hi) / 2
    h = (hi - lo) / 2 + 0.001
    return [float(v) for v in (*c, h[0], 0, 0, 0, h[1], 0, 0, 0, h[2])]


def _finalise(tile: dict[str, Any], uri_prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"boundingVolume": {"box": box(tile["_lo"], tile["_hi"])},
                           "geometricError": float(tile["geometricError"]),
                           "refine": tile["refine"]}
    if "content" in tile:
        out["content"] = {"uri": uri_prefix + tile["content"]["uri"]}
    if tile.get("children"):
        out["children"] = [_finalise(c, uri_prefix) for c in tile["children"]]
    return out


def write_tileset(path: str | os.PathLike, trees: list[tuple[TileTree, str]],
                  frame: EcefFrame, *, metadata: dict[str, Any] | None = None) -> dict:
    """Write ``tileset.json`` with one child of the root per ``(tree, folder)`` (content
    URIs relative to ``path``'s folder are ``folder/...``). Returns the JSON."""
    children = [_finalise(t.root, f"{folder}/" if folder else "") for t, folder in trees]
    los = [np.asarray(t.root["_lo"]) for t, _ in trees]
    his = [np.asarray(t.root["_hi"]) for t, _ in trees]
    err = max([c["geometricError"] for c in children] + [0.0])
    if not children:
        los, his = [np.zeros(3)], [np.zeros(3)]
    root: dict[str, Any] = {"boundingVolume": {"box": box(np.min(los, axis=0),
                                                          np.max(his, axis=0))},
                            "geometricError": err * 2, "refine": "ADD", "children": children}
    if frame.matrix is not None:
        root["transform"] = frame.transform_list()
    doc: dict[str, Any] = {"asset": {"version": "1.1", "generator": "RealScene"},
                           "geometricError": err * 4 if err else 1.0, "root": root}
    if metadata:
        doc["asset"]["extras"] = metadata
    Path(path).write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    return doc


__all__ = ["EcefFrame", "PointChunks", "TileTree", "write_point_tiles", "write_mesh_tiles",
           "write_tileset", "point_glb", "mesh_glb", "box", "LoadCancelled",
           "POINT_ATTRIBUTES"]
