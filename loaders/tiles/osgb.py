"""OSGB oblique-photogrammetry tilesets (ContextCapture / DJI Terra layout), no Qt, no VTK.

A tileset is a folder::

    metadata.xml                      <SRS> (EPSG:n, ENU:lat,lon or WKT) + <SRSOrigin>
    Data/Tile_+000_+000/Tile_+000_+000.osgb          top tile: a root osg::PagedLOD
    Data/Tile_+000_+000/Tile_+000_+000_L16_0.osgb    its finer children, by file name
    ...

Each ``.osgb`` is read by OpenSceneGraph itself: its ``osgconv`` tool (Debian package
``openscenegraph``) runs in a subprocess with a timeout (a crash in OSG's plugins becomes a
:class:`LoadError`, never a dead viewer) and writes OSG's *ASCII* scene format (``.osgt``,
images included as raw pixels with ``-O WriteImageHint=IncludeData``), which
:func:`parse_osgt` reads. No hand-written parser of the binary format. When it is built
(``./run`` does), a persistent worker linked against OpenSceneGraph
(:mod:`loaders.tiles.osgb_worker`) reads the tiles instead, ~10x faster, into the same
tiles; without it the layer's warnings say the slower osgconv path is used.

Tiles: every ``osg::PagedLOD`` is one :class:`~loaders.tiles.base.Tile`; its inline
geometry is the tile's content, the file names of its ``RangeDataList`` are its children
(read when the tile is expanded). A file holding several PagedLODs (a Group) is a node whose
children are those PagedLODs. The root of a folder tileset is a virtual node over every top
tile ``Data/Tile_*/Tile_*.osgb`` (the file named like its folder); the top tiles' bounding
spheres are read in batches (osgconv takes many input files at once).

Geometric error: OSG switches a PagedLOD to its child file when the bounding sphere's size
on screen exceeds the range (PIXEL_SIZE_ON_SCREEN: ``2 r ppr / d`` pixels, from OSG's
``CullingSet::computePixelSizeVector``), or when the eye comes nearer than the range
(DISTANCE_FROM_EYE_POINT). The geometric error is chosen so that :func:`select_tiles` with
:data:`~loaders.tiles.base.DEFAULT_MAX_SSE` refines at the same place:
``max_sse * 2 r / range`` and ``max_sse * range / REFERENCE_PPR`` respectively.

Georeference (:func:`loaders.crs.read_osgb_metadata`): with an EPSG/WKT SRS the native
coordinates are offsets from SRSOrigin in that CRS; with ``ENU:lat,lon`` they are an exact
east-north-up tangent frame at (lat, lon, h=0) on WGS 84, turned into ECEF (EPSG:4978) in
float64 and reprojected by :meth:`TileSet.set_target_crs`.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..safety import UnsafePath, check_regular_file, resolve_inside
from ..types import LoadError, Material, Mesh, MeshPart, split_origin
from . import base as base_module
from .base import DEFAULT_MAX_SSE, Tile, TileContent, TileSet

#: seconds one osgconv run may take before it is stopped
OSGCONV_TIMEOUT = 120.0
#: the largest .osgb read (real tiles are kilobytes to tens of megabytes)
MAX_OSGB_BYTES = 512 * 2**20
#: the largest ASCII conversion read back (raw pixels are bigger than the JPEGs)
MAX_OSGT_BYTES = 2 * 2**30
#: osgconv's address space (MiB): a tile claiming huge images or arrays fails inside it
OSGCONV_MEMORY_MB = 4096
#: the largest texture decoded (pixels)
MAX_TEXTURE_PIXELS = 8192 * 8192
#: pixels per radian assumed for DISTANCE_FROM_EYE_POINT ranges (1000 px tall, 60 degrees)
REFERENCE_PPR = 500.0 / np.tan(np.radians(30.0))
#: top-tile files per osgconv run when the tileset opens
OPEN_BATCH = 64
#: bytes of parsed files kept for the next load (expand parses what load then needs)
PARSE_CACHE_BYTES = 96 * 2**20

OSGB_MAGIC = b"\xa1\x0e\x91\x6c\x45\x45\xfb\x1a"
_TOP_RE = re.compile(r"^Tile_[^/\\]+$")
_HINT_REEXPORT = "the tile may be truncated or corrupt; re-export the tileset"


# ==================================================================================
# osgconv
# ==================================================================================
def osgconv_path() -> str | None:
    """The osgconv executable, or None when OpenSceneGraph is not installed."""
    return shutil.which("osgconv")


def run_osgconv(inputs: list[Path], *, images: bool = True,
                timeout: float = OSGCONV_TIMEOUT) -> str:
    """OSG's ASCII text (``.osgt``) of ``inputs`` (several: a Group of them, in order).

    ``images``: include every texture's pixels. Raises LoadError (naming the first input)
    when osgconv is missing, fails, crashes or runs out of time. The temporary folder is
    removed whatever happens."""
    exe = osgconv_path()
    first = inputs[0]
    if exe is None:
        raise LoadError(first, "OpenSceneGraph's osgconv is not installed",
                        "install the Debian package 'openscenegraph' (./run does)")
    tmp = tempfile.mkdtemp(prefix="realscene-osgb-")
    try:
        out = Path(tmp) / "tile.osgt"
        # 17 significant digits: OSG's ASCII default (6) rounds coordinates to centimetres
        # a kilometre from the origin
        cmd = [exe, "-O", "precision 17" + (" WriteImageHint=IncludeData" if images else "")]
        limit = shutil.which("prlimit")
        if limit:  # (util-linux) the same memory bound as the worker's
            cmd = [limit, f"--as={OSGCONV_MEMORY_MB * 2**20}", "--", *cmd]
        # absolute: osgconv runs in the temporary folder
        cmd += [os.path.abspath(p) for p in inputs] + [os.fspath(out)]
        env = dict(os.environ, OSG_NOTIFY_LEVEL="WARN", OSG_OPTIMIZER="OFF")
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LoadError(first, f"OpenSceneGraph took more than {timeout:.0f} s to read it",
                            _HINT_REEXPORT) from None
        except OSError as exc:
            raise LoadError(first, f"cannot run osgconv: {exc.strerror or exc}",
                            "check the OpenSceneGraph installation") from None
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        last = err[-1][:200] if err else ""
        if proc.returncode < 0:
            raise LoadError(first, f"OpenSceneGraph crashed reading it (signal "
                            f"{-proc.returncode})", _HINT_REEXPORT)
        if proc.returncode != 0 or not out.is_file():
            raise LoadError(first, "OpenSceneGraph cannot read it"
                            + (f" ({last})" if last else ""), _HINT_REEXPORT)
        size = out.stat().st_size
        if size > MAX_OSGT_BYTES:
            raise LoadError(first, f"the tile expands to {size:,} bytes of scene text, more "
                            f"than the {MAX_OSGT_BYTES:,} allowed", "split the tileset finer")
        return out.read_text(encoding="utf-8", errors="replace")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ==================================================================================
# .osgt parsing
# ==================================================================================
class OsgObject:
    """One ``osg::Class { ... }`` of an ``.osgt`` file: ``items`` in order, each one of
    ``("line", tokens)``, ``("block", key, args, items)``, ``("vector", key, args, raw
    text)``, ``("data", key, args, bytes)`` or an :class:`OsgObject`."""

    __slots__ = ("cls", "items", "uid")

    def __init__(self, cls: str) -> None:
        self.cls = cls
        self.items: list[Any] = []
        self.uid: str | None = None

    def prop(self, key: str) -> list[str] | None:
        for it in self.items:
            if isinstance(it, tuple) and it[0] == "line" and it[1] and it[1][0] == key:
                return it[1][1:]
        return None

    def block(self, key: str) -> tuple[list[str], list[Any]] | None:
        for it in self.items:
            if isinstance(it, tuple) and it[0] in ("block", "vector", "data") and it[1] == key:
                return it[2], it[3]
        return None

    def objects(self, key: str | None = None) -> list["OsgObject"]:
        """Objects directly inside this one (``key``: inside its block ``key``)."""
        if key is None:
            return [it for it in self.items if isinstance(it, OsgObject)]
        found = self.block(key)
        if found is None or not isinstance(found[1], list):
            return []
        return [it for it in found[1] if isinstance(it, OsgObject)]


class _Reader:
    def __init__(self, text: str) -> None:
        self.t = text
        self.p = 0
        self.n = len(text)
        self.ids: dict[str, OsgObject] = {}

    def line(self) -> str | None:
        if self.p >= self.n:
            return None
        e = self.t.find("\n", self.p)
        if e < 0:
            e = self.n
        s = self.t[self.p:e].strip()
        self.p = e + 1
        return s

    def items(self) -> list[Any]:
        out: list[Any] = []
        while True:
            s = self.line()
            if s is None:
                raise ValueError("the scene text ends inside a block")
            if not s or s.startswith("#"):
                continue
            if s == "}":
                return out
            if s.endswith("{"):
                head = _tokens(s[:-1])
                if not head:
                    out.append(("block", "", [], self.items()))
                elif "::" in head[0]:
                    out.append(self.obj(head[0]))
                elif head[0] == "vector":
                    end = self.t.find("}", self.p)
                    if end < 0:
                        raise ValueError("unterminated vector")
                    out.append(("vector", head[0], head[1:], self.t[self.p:end]))
                    self.p = end
                    self.line()
                elif head[0] == "Data" and self._peek_quote():
                    q0 = self.t.find('"', self.p)
                    q1 = self.t.find('"', q0 + 1)
                    if q1 < 0:
                        raise ValueError("unterminated image data")
                    raw = base64.b64decode(self.t[q0 + 1:q1])
                    self.p = q1 + 1
                    end = self.t.find("}", self.p)
                    self.p = end if end >= 0 else self.n
                    self.line()
                    out.append(("data", head[0], head[1:], raw))
                else:
                    inner = self.items()
                    if inner and isinstance(inner[0], tuple) and inner[0][0] == "line" \
                            and inner[0][1][:1] == ["ClassName"]:
                        # an object written as a property ("Image TRUE { ClassName ...")
                        inner = [self._register(OsgObject(inner[0][1][1]), inner[1:])]
                    out.append(("block", head[0], head[1:], inner))
            else:
                out.append(("line", _tokens(s)))

    def _peek_quote(self) -> bool:
        q = self.t.find('"', self.p)
        return q >= 0 and not self.t[self.p:q].strip()

    def obj(self, cls: str) -> OsgObject:
        return self._register(OsgObject(cls), self.items())

    def _register(self, ob: OsgObject, items: list[Any]) -> OsgObject:
        ob.items = items
        uid = ob.prop("UniqueID")
        if uid:
            ob.uid = uid[0]
            if len(ob.items) == 1 and ob.uid in self.ids:  # a reference to a shared one
                return self.ids[ob.uid]
            self.ids[ob.uid] = ob
        return ob


def _tokens(s: str) -> list[str]:
    if '"' in s:
        try:
            return shlex.split(s, posix=True)
        except ValueError:
            return s.split()
    return s.split()


def parse_osgt(text: str) -> list[OsgObject]:
    """The top-level objects of OSG ASCII text (raises ValueError when malformed)."""
    r = _Reader(text)
    out: list[OsgObject] = []
    while True:
        s = r.line()
        if s is None:
            return out
        if not s or s.startswith("#"):
            continue
        if s.endswith("{") and "::" in s:
            out.append(r.obj(_tokens(s[:-1])[0]))


# ==================================================================================
# scene graph -> plain geometry
# ==================================================================================
@dataclass
class Geometry:
    """One drawable in the file's native frame (float64 positions)."""

    xyz: np.ndarray
    faces: np.ndarray
    uvs: np.ndarray | None
    material: Material


@dataclass
class PagedLod:
    """One ``osg::PagedLOD``: its sphere, ranges, child file names and inline geometry."""

    center: np.ndarray
    radius: float
    range_mode: str
    ranges: list[tuple[float, float]]
    files: list[str]
    geometry: list[Geometry] = field(default_factory=list)

    def child_files(self) -> list[str]:
        return [f for f in self.files if f]

    def geometric_error(self, max_sse: float = DEFAULT_MAX_SSE) -> float:
        """The error at which select_tiles refines where OSG switches to the children."""
        ranges = [r for r, f in zip(self.ranges, self.files, strict=False) if f]
        if not ranges:
            return 0.0
        if self.range_mode.upper().startswith("PIXEL"):
            threshold = max(min(lo for lo, _ in ranges), 1e-6)
            return float(max_sse * 2.0 * self.radius / threshold)
        threshold = max(hi for _, hi in ranges)
        return float(max_sse * min(threshold, 1e12) / REFERENCE_PPR)


@dataclass
class OsgbFile:
    """What one ``.osgb`` holds: its PagedLODs and the geometry outside them."""

    path: Path
    lods: list[PagedLod] = field(default_factory=list)
    free: list[Geometry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        total = 0
        for g in [*self.free, *(g for lod in self.lods for g in lod.geometry)]:
            total += g.xyz.nbytes + g.faces.nbytes + (0 if g.uvs is None else g.uvs.nbytes)
            tex = g.material.texture
            total += 0 if tex is None else tex.nbytes
        return total


_GL_CHANNELS = {6407: 3, 6408: 4, 6409: 1, 6410: 2, 32992: 3, 32993: 4}


def _floats(raw: str, width: int) -> np.ndarray:
    arr = np.array(raw.split(), dtype=np.float64)
    if arr.size % width:
        raise ValueError("an array's values do not fill its rows")
    return arr.reshape(-1, width)


def _image(img: OsgObject, warnings: list[str]) -> np.ndarray | None:
    """An osg::Image's pixels as (H, W, 3|4) uint8, row 0 at the top."""
    size = img.prop("Size")
    data = img.block("Data")
    if not size or data is None or not isinstance(data[1], bytes):
        return None
    return _pixels(data[1], int(size[0]), int(size[1]),
                   int((img.prop("PixelFormat") or ["0"])[0]),
                   int((img.prop("DataType") or ["0"])[0]),
                   int((img.prop("Packing") or ["1"])[0]),
                   (img.prop("Origin") or ["0"])[0] == "0", warnings)


def _pixels(raw: bytes, w: int, h: int, fmt: int, dtype: int, packing: int,
            bottom_left: bool, warnings: list[str]) -> np.ndarray | None:
    """Image bytes (OSG's layout: rows padded to ``packing``) as (H, W, 3|4) uint8, row 0
    at the top; None (and a warning) when not decodable. Shared by the osgconv and the
    worker paths."""
    packing = max(packing, 1)
    ch = _GL_CHANNELS.get(fmt)
    if ch is None or dtype != 5121:
        msg = f"a texture in pixel format {fmt:#x} / type {dtype} is not decoded (drawn plain)"
        if msg not in warnings:
            warnings.append(msg)
        return None
    if w <= 0 or h <= 0 or w * h > MAX_TEXTURE_PIXELS:
        warnings.append(f"a {w}x{h} texture is refused (more than {MAX_TEXTURE_PIXELS:,} px)")
        return None
    stride = -(-w * ch // packing) * packing
    if len(raw) < stride * h:
        warnings.append("a texture holds fewer bytes than its size says (drawn plain)")
        return None
    px = np.frombuffer(raw, np.uint8, stride * h).reshape(h, stride)[:, :w * ch]
    px = px.reshape(h, w, ch)
    if fmt in (32992, 32993):  # BGR(A)
        px = px[:, :, [2, 1, 0, *([3] if ch == 4 else [])]]
    if ch == 1:
        px = np.repeat(px, 3, axis=2)
    elif ch == 2:
        px = np.concatenate([np.repeat(px[:, :, :1], 3, axis=2), px[:, :, 1:]], axis=2)
    if bottom_left:  # BOTTOM_LEFT: row 0 is the bottom
        px = px[::-1]
    return np.ascontiguousarray(px)


def _primitive_faces(prim: OsgObject, nverts: int) -> np.ndarray | None:
    mode = (prim.prop("Mode") or ["TRIANGLES"])[0]
    vec = prim.block("vector")
    if vec is not None and prim.cls.endswith("DrawArrayLengths"):  # runs from First
        first = int((prim.prop("First") or ["0"])[0])
        runs = np.array(vec[1].split(), dtype=np.int64)
        starts = first + np.concatenate([[0], np.cumsum(runs)[:-1]]) if len(runs) else runs
        found = [_triangles(mode, np.arange(a, a + n), nverts)
                 for a, n in zip(starts, runs, strict=True)]
        found = [t for t in found if t is not None]
        return np.concatenate(found) if found else None
    if vec is not None:
        idx = np.array(vec[1].split(), dtype=np.int64)
    elif prim.cls.endswith("DrawArrays"):
        first = int((prim.prop("First") or ["0"])[0])
        count = int((prim.prop("Count") or ["0"])[0])
        idx = np.arange(first, first + count, dtype=np.int64)
    else:
        return None
    return _triangles(mode, idx, nverts)


#: OpenGL primitive modes by number (the worker sends numbers, osgconv names)
GL_MODES = {0: "POINTS", 1: "LINES", 2: "LINE_LOOP", 3: "LINE_STRIP", 4: "TRIANGLES",
            5: "TRIANGLE_STRIP", 6: "TRIANGLE_FAN", 7: "QUADS", 8: "QUAD_STRIP", 9: "POLYGON"}


def _triangles(mode: str, idx: np.ndarray, nverts: int) -> np.ndarray | None:
    """Triangles (n, 3) of one primitive set's vertex indices in its GL mode (None for
    points and lines); degenerate ones dropped. Raises ValueError on an index out of
    range."""
    idx = np.asarray(idx, dtype=np.int64)
    if mode == "TRIANGLES":
        tri = idx[: len(idx) // 3 * 3].reshape(-1, 3)
    elif mode == "TRIANGLE_STRIP" and len(idx) >= 3:
        k = np.arange(len(idx) - 2)
        a, b, c = idx[k], idx[k + 1], idx[k + 2]
        odd = (k % 2) == 1
        tri = np.column_stack([a, np.where(odd, c, b), np.where(odd, b, c)])
    elif mode in ("TRIANGLE_FAN", "POLYGON") and len(idx) >= 3:
        tri = np.column_stack([np.full(len(idx) - 2, idx[0]), idx[1:-1], idx[2:]])
    elif mode == "QUADS":
        q = idx[: len(idx) // 4 * 4].reshape(-1, 4)
        tri = np.concatenate([q[:, [0, 1, 2]], q[:, [0, 2, 3]]])
    elif mode == "QUAD_STRIP" and len(idx) >= 4:
        k = np.arange(0, len(idx) // 2 * 2 - 2, 2)
        a, b, c, d = idx[k], idx[k + 1], idx[k + 3], idx[k + 2]
        tri = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    else:
        return None
    if len(tri) and (tri.min() < 0 or tri.max() >= nverts):
        raise ValueError("a primitive indexes a vertex the geometry does not have")
    tri = tri[(tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])]
    return tri


def _geometry(geo: OsgObject, matrix: np.ndarray | None, warnings: list[str],
              images: dict[int, np.ndarray | None]) -> Geometry | None:
    va = geo.block("VertexArray")
    arrays = [o for o in (va[1] if va else []) if isinstance(o, OsgObject)]
    if not arrays or arrays[0].block("vector") is None:
        return None
    xyz = _floats(arrays[0].block("vector")[1], 3)
    faces = [f for p in geo.objects("PrimitiveSetList")
             if (f := _primitive_faces(p, len(xyz))) is not None]
    uv = None
    tc = geo.objects("TexCoordArrayList")
    if tc and tc[0].block("vector") is not None:
        uv = _floats(tc[0].block("vector")[1], 2)
    diffuse = None
    textures: list[tuple[np.ndarray | None, str]] = []
    for ss in geo.objects("StateSet"):
        for att in ss.objects("AttributeList"):
            if att.cls == "osg::Material":
                found = att.prop("Diffuse")
                if found and len(found) >= 6:
                    try:
                        diffuse = tuple(float(v) for v in found[2:6])
                    except ValueError:
                        pass
        tal = ss.block("TextureAttributeList")
        for data in (tal[1] if tal else []):
            if not (isinstance(data, tuple) and data[0] == "block"):
                continue
            for tex in (o for o in data[3] if isinstance(o, OsgObject)):
                for img in tex.objects("Image"):
                    if id(img) not in images:
                        images[id(img)] = _checked_image(img, warnings)
                    textures.append((images[id(img)], (img.prop("FileName") or [""])[0]))
    return _make_geometry(xyz, faces, matrix, uv, f"osgb-{geo.uid or id(geo)}", diffuse,
                          textures)


def _make_geometry(xyz: np.ndarray, faces: list[np.ndarray], matrix: np.ndarray | None,
                   uv: np.ndarray | None, name: str, diffuse: tuple | None,
                   textures: list[tuple[np.ndarray | None, str]]) -> Geometry:
    """A drawable from its arrays (shared by the osgconv and the worker paths): vertices
    through the transforms above it, UVs kept when they match the vertices and a texture
    is shown, the first decodable texture, the front diffuse colour."""
    tri = np.concatenate(faces).astype(np.int32) if faces else np.zeros((0, 3), np.int32)
    if matrix is not None:
        xyz = xyz @ matrix[:3, :3] + matrix[3, :3]  # OSG: row vectors, v * M
    uvs = uv.astype(np.float32) if uv is not None and len(uv) == len(xyz) else None
    material = Material(name=name)
    if diffuse is not None:
        material.color = diffuse  # type: ignore[assignment]
    for pixels, tex_name in textures:
        if pixels is not None:
            material.texture = pixels
            material.name = tex_name or name
            break
    if material.texture is None:
        uvs = None
    return Geometry(xyz=xyz, faces=tri, uvs=uvs, material=material)


def _checked_image(img: OsgObject, warnings: list[str]) -> np.ndarray | None:
    if _outside_name((img.prop("FileName") or [""])[0], warnings):
        return None
    return _image(img, warnings)


def _outside_name(name: str, warnings: list[str]) -> bool:
    """True (and a warning) for an image OSG fetched from outside the tileset (an absolute
    or '..' name): it is not shown."""
    if name and (os.path.isabs(name) or ".." in Path(name.replace("\\", "/")).parts
                 or re.match(r"^[A-Za-z]:", name)):
        warnings.append(f"texture {name[:80]!r} names a file outside the tileset: not shown")
        return True
    return False


def _matrix(ob: OsgObject) -> np.ndarray | None:
    found = ob.block("Matrix")
    if found is None:
        return None
    rows = [it[1] for it in found[1] if isinstance(it, tuple) and it[0] == "line"]
    vals = [float(v) for r in rows for v in r]
    return np.array(vals, dtype=np.float64).reshape(4, 4) if len(vals) == 16 else None


def osgb_file_from_objects(path: Path, top: list[OsgObject]) -> OsgbFile:
    """Collect the PagedLODs and free geometry of a parsed file."""
    result = OsgbFile(path=path)
    images: dict[int, np.ndarray | None] = {}

    def walk(ob: OsgObject, matrix: np.ndarray | None, sink: list[Geometry]) -> None:
        if ob.cls == "osg::PagedLOD":
            lod = _paged_lod(ob, matrix)
            result.lods.append(lod)
            for kid in ob.objects("Children"):
                walk(kid, matrix, lod.geometry)
            if lod.radius <= 0 and lod.geometry:
                lod.center, lod.radius = _sphere(lod.geometry)
            return
        if ob.cls == "osg::Geometry":
            g = _geometry(ob, matrix, result.warnings, images)
            if g is not None and len(g.faces):
                sink.append(g)
            return
        if ob.cls in ("osg::MatrixTransform",):
            m = _matrix(ob)
            if m is not None:
                matrix = m if matrix is None else m @ matrix
        elif ob.cls == "osg::ProxyNode":
            result.warnings.append("an osg::ProxyNode is not followed")
        for kid in ob.objects("Drawables") + ob.objects("Children"):
            walk(kid, matrix, sink)

    for ob in top:
        walk(ob, None, result.free)
    return result


def _paged_lod(ob: OsgObject, matrix: np.ndarray | None) -> PagedLod:
    center, radius = None, 0.0
    uc = ob.prop("UserCenter")
    if uc and len(uc) >= 4:
        center = np.array([float(v) for v in uc[:3]], dtype=np.float64)
        radius = float(uc[3])
    ranges: list[tuple[float, float]] = []
    rl = ob.block("RangeList")
    for it in (rl[1] if rl else []):
        if isinstance(it, tuple) and it[0] == "line" and len(it[1]) >= 2:
            ranges.append((float(it[1][0]), float(it[1][1])))
    files: list[str] = []
    rd = ob.block("RangeDataList")
    for it in (rd[1] if rd else []):
        if isinstance(it, tuple) and it[0] == "line":
            files.append(it[1][0] if it[1] else "")
    return _make_lod(center, radius, matrix,
                     (ob.prop("RangeMode") or ["DISTANCE_FROM_EYE_POINT"])[0], ranges, files)


def _make_lod(center: np.ndarray | None, radius: float, matrix: np.ndarray | None,
              range_mode: str, ranges: list[tuple[float, float]], files: list[str]) -> PagedLod:
    """A PagedLod (shared by the osgconv and the worker paths): its user-defined sphere
    through the transforms above it (None: none, computed later from its geometry), one
    file name per range."""
    if center is None:
        center, radius = np.zeros(3), 0.0
    elif matrix is not None:
        center = center @ matrix[:3, :3] + matrix[3, :3]
        radius *= float(np.max(np.linalg.norm(matrix[:3, :3], axis=1)))
    files = files + [""] * (len(ranges) - len(files))
    return PagedLod(center=center, radius=radius, range_mode=range_mode, ranges=ranges,
                    files=files[:len(ranges)] if ranges else files)


def osgb_file_from_raw(path: Path, raw: Any) -> OsgbFile:
    """What the OSGB worker read (:class:`~loaders.tiles.osgb_worker.RawFile`) as the same
    OsgbFile the osgconv path gives."""
    result = OsgbFile(path=path, warnings=list(raw.warnings))
    images: dict[int, np.ndarray | None] = {}

    def image(k: int) -> tuple[np.ndarray | None, str]:
        img = raw.images[k]
        if k not in images:
            images[k] = None if _outside_name(img.name, result.warnings) \
                else _pixels(img.data, img.width, img.height, img.pixel_format,
                             img.data_type, 1, not img.top_left, result.warnings)
        return images[k], img.name

    for lod in raw.lods:
        result.lods.append(_make_lod(
            lod.center if lod.user_center else None, lod.radius, lod.matrix,
            "PIXEL_SIZE_ON_SCREEN" if lod.pixel_mode else "DISTANCE_FROM_EYE_POINT",
            [(float(a), float(b)) for a, b in lod.ranges], list(lod.files)))
    for n, g in enumerate(raw.geometries):
        faces = [t for mode, idx in g.primitives
                 if (t := _triangles(GL_MODES.get(mode, ""), idx, len(g.xyz))) is not None]
        geom = _make_geometry(g.xyz, faces, g.matrix, g.uv, f"osgb-{n + 1}", g.diffuse,
                              [image(k) for k in g.images if 0 <= k < len(raw.images)])
        if len(geom.faces):
            (result.free if g.lod < 0 else result.lods[g.lod].geometry).append(geom)
    for lod in result.lods:
        if lod.radius <= 0 and lod.geometry:
            lod.center, lod.radius = _sphere(lod.geometry)
    return result


def _sphere(geoms: list[Geometry]) -> tuple[np.ndarray, float]:
    xyz = np.concatenate([g.xyz for g in geoms]) if geoms else np.zeros((0, 3))
    if not len(xyz):
        return np.zeros(3), 0.0
    c = (xyz.min(axis=0) + xyz.max(axis=0)) / 2
    return c, float(np.sqrt(((xyz - c) ** 2).sum(axis=1).max()))


def geometry_mesh(geoms: list[Geometry]) -> Mesh:
    """One Mesh of the tile's drawables, a part (material, texture) per drawable."""
    xyzs, faces, uvs, parts = [], [], [], []
    nv = nf = 0
    any_uv = any(g.uvs is not None for g in geoms)
    for g in geoms:
        xyzs.append(g.xyz)
        faces.append(g.faces + nv)
        if any_uv:
            uvs.append(g.uvs if g.uvs is not None else np.zeros((len(g.xyz), 2), np.float32))
        parts.append(MeshPart(g.material.name, nf, nf + len(g.faces), g.material))
        nv += len(g.xyz)
        nf += len(g.faces)
    xyz = np.concatenate(xyzs) if xyzs else np.zeros((0, 3))
    vertices, origin = split_origin(xyz)
    return Mesh(vertices=vertices, origin=origin,
                faces=np.concatenate(faces).astype(np.int32) if faces
                else np.zeros((0, 3), np.int32),
                uvs=np.concatenate(uvs).astype(np.float32) if any_uv else None, parts=parts)


def _check_osgb(path: Path) -> None:
    """Regular file, size limit and OSG's binary header, before OSG sees it."""
    try:
        st = check_regular_file(path)
        if st.st_size > MAX_OSGB_BYTES:
            raise LoadError(path, f"is {st.st_size:,} bytes, more than the "
                            f"{MAX_OSGB_BYTES:,} a tile may have", "split the tileset finer")
        with open(path, "rb") as fh:
            head = fh.read(8)
    except UnsafePath as exc:
        raise LoadError(path, exc.reason, "give a regular .osgb file") from None
    except FileNotFoundError:
        raise LoadError(path, "file not found", "check the path") from None
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}",
                        "check the file can be read") from None
    if head != OSGB_MAGIC:
        raise LoadError(path, "is not an OpenSceneGraph binary (.osgb) file",
                        "give a tile written by OpenSceneGraph")


#: the start of the layer's warning when the worker is not built (osgconv reads the tiles)
SLOW_READER_WARNING = "OSGB tiles are read through osgconv"
#: how .osgb files are read: "auto" (the worker when built, else osgconv), "worker", "osgconv"
READERS_OF_OSGB = ("auto", "worker", "osgconv")


def worker_pool(reader: str = "auto") -> Any:
    """The OSGB worker pool to read with, or None for the osgconv path. ``reader``:
    "auto" (the worker when it is built), "worker" (LoadError when it is not), "osgconv"."""
    if reader not in READERS_OF_OSGB:
        raise ValueError(f"reader must be one of {READERS_OF_OSGB}, not {reader!r}")
    if reader == "osgconv":
        return None
    from . import osgb_worker

    pool = osgb_worker.default_pool()
    if pool is None and reader == "worker":
        raise LoadError(osgb_worker.default_binary(),
                        f"the OSGB worker is not available: {osgb_worker.unavailable_reason()}",
                        "run ./run once to build it (needs g++ and libopenscenegraph-dev)")
    return pool


def read_osgb_file(path: Path, *, images: bool = True, reader: str = "auto") -> OsgbFile:
    """Read one .osgb with OpenSceneGraph: a persistent worker (see
    :mod:`loaders.tiles.osgb_worker`) or osgconv (raises LoadError)."""
    _check_osgb(path)
    pool = worker_pool(reader)
    if pool is not None:
        raw = pool.read(path, pixels=images)
        try:
            return osgb_file_from_raw(path, raw)
        except (ValueError, IndexError, KeyError) as exc:
            raise LoadError(path, f"OpenSceneGraph's scene is not understood ({exc})"[:300],
                            _HINT_REEXPORT) from None
    text = run_osgconv([path], images=images)
    try:
        top = parse_osgt(text)
        return osgb_file_from_objects(path, top)
    except (ValueError, IndexError, KeyError, RecursionError) as exc:
        raise LoadError(path, f"OpenSceneGraph's scene text is not understood ({exc})"[:300],
                        _HINT_REEXPORT) from None


def read_osgb_headers(paths: list[Path], *, reader: str = "auto") -> list[OsgbFile | LoadError]:
    """Many files' PagedLODs (no textures): one worker request each, or without the
    worker in as few osgconv runs as possible.

    osgconv reads several files into one Group, in order, skipping the ones it cannot
    read: the count of the Group's children tells whether every file came through, and
    the PagedLODs' DatabasePath (the folder OSG read each file from) checks the order when
    the files are in different folders. When that does not line up, files are read one
    by one."""
    out: list[OsgbFile | LoadError] = []
    for path in paths:
        try:
            _check_osgb(path)
            out.append(OsgbFile(path=path))
        except LoadError as exc:
            out.append(exc)
    good = [i for i, r in enumerate(out) if isinstance(r, OsgbFile)]
    if not good:
        return out
    if worker_pool(reader) is not None:
        for i in good:
            try:
                out[i] = read_osgb_file(paths[i], images=False, reader=reader)
            except LoadError as exc:
                out[i] = exc
        return out
    folders = [os.path.realpath(paths[i].parent) for i in good]
    distinct = len(set(folders)) == len(folders)
    if len(good) > 1:
        try:
            top = parse_osgt(run_osgconv([paths[i] for i in good], images=False))
            kids = top[0].objects("Children") if len(top) == 1 else []
            if len(kids) != len(good):
                raise ValueError("count")
            for i, kid, folder in zip(good, kids, folders, strict=True):
                db = _first_database_path(kid)
                if distinct and (db is None or os.path.realpath(db) != folder):
                    raise ValueError("order")
                out[i] = osgb_file_from_objects(paths[i], [kid])
            return out
        except (LoadError, ValueError, IndexError, RecursionError):
            pass
    for i in good:
        try:
            out[i] = read_osgb_file(paths[i], images=False, reader="osgconv")
        except LoadError as exc:
            out[i] = exc
    return out


def _first_database_path(ob: OsgObject) -> str | None:
    if ob.cls == "osg::PagedLOD":
        db = ob.prop("DatabasePath")
        if db and len(db) >= 2:
            return db[1]
        return None
    for kid in ob.objects("Children"):
        found = _first_database_path(kid)
        if found is not None:
            return found
    return None


# ==================================================================================
# the tileset
# ==================================================================================
def _enu_to_ecef(lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    """(rotation whose rows are E, N, U in ECEF, ECEF of (lat, lon, 0)) on WGS 84."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi, lam = np.radians(lat), np.radians(lon)
    n = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
    p0 = np.array([n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam),
                   n * (1 - e2) * np.sin(phi)])
    east = np.array([-np.sin(lam), np.cos(lam), 0.0])
    north = np.array([-np.sin(phi) * np.cos(lam), -np.sin(phi) * np.sin(lam), np.cos(phi)])
    up = np.array([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])
    return np.vstack([east, north, up]), p0


def find_tileset_root(path: Path) -> tuple[Path, Path | None]:
    """(folder, metadata.xml or None) of an OSGB tileset given as its folder, its
    metadata.xml or one .osgb inside it."""
    if path.is_dir():
        meta = path / "metadata.xml"
        if not meta.is_file():
            raise LoadError(path, "is a folder without metadata.xml",
                            "open the OSGB tileset's folder (metadata.xml + Data/)")
        if not (path / "Data").is_dir():
            raise LoadError(path, "has a metadata.xml but no Data folder of tiles",
                            "open the OSGB tileset's folder (metadata.xml + Data/)")
        return path, meta
    if path.name.lower().endswith(".xml"):
        if not (path.parent / "Data").is_dir():
            raise LoadError(path, "has no Data folder of tiles beside it",
                            "open the metadata.xml of an OSGB tileset (metadata.xml + Data/)")
        return path.parent, path
    return path.parent, None


def is_osgb_folder(path: Path) -> bool:
    """True for a folder holding metadata.xml and Data/ (an OSGB tileset), or a
    ``<ModelMetadata`` metadata.xml without Data/ (then the reader says what is missing)."""
    meta = path / "metadata.xml"
    if not meta.is_file():
        return False
    if (path / "Data").is_dir():
        return True
    try:
        with open(meta, "rb") as fh:
            return b"<ModelMetadata" in fh.read(4096)
    except OSError:
        return False


class OsgbTileSet(TileSet):
    """An OSGB tileset (folder, metadata.xml or one .osgb) streamed tile by tile."""

    format_name = "OSGB"

    def __init__(self, path: str | Path, *, progress: Callable[[float, str], None] | None = None,
                 workers: int = 2, reader: str = "auto") -> None:
        path = Path(path)
        folder, meta = find_tileset_root(path)
        self.folder = folder
        # "auto": the fast worker when it is built, else osgconv (and a warning saying so)
        self._reader = reader if worker_pool(reader) is not None else "osgconv"
        self._slow_reader = reader == "auto" and self._reader == "osgconv"
        self._cache: OrderedDict[str, OsgbFile] = OrderedDict()
        self._cache_bytes = 0
        self._cache_lock = threading.Lock()
        self._rotation: np.ndarray | None = None
        self._offset = np.zeros(3)
        info: dict[str, Any] = {"crs": None, "origin": None, "enu": None, "warnings": []}
        if meta is not None:
            from ..crs import read_osgb_metadata

            info = read_osgb_metadata(meta)
        native_crs = info["crs"]
        origin = np.array(info["origin"] or (0.0, 0.0, 0.0), dtype=np.float64)
        if info["enu"] is not None:
            from pyproj import CRS

            rot, p0 = _enu_to_ecef(*info["enu"])
            self._rotation = rot
            self._offset = p0 + origin @ rot
            native_crs = CRS.from_epsg(4978)
        else:
            self._offset = origin
        if not np.all(np.isfinite(self._offset)) or \
                float(np.abs(self._offset).max()) > base_module.MAX_COORDINATE:
            raise LoadError(meta or path, f"SRSOrigin {info['origin']} is out of range",
                            "correct <SRSOrigin> in metadata.xml")
        if meta is None:
            top_files = [path]
        else:
            top_files = self._top_files(path)
        root = self._open_tops(path, top_files, progress, workers)
        super().__init__(str(path), root, native_crs=native_crs, metadata={
            "srs": info.get("srs"), "srs_origin": info["origin"], "enu": info["enu"],
            "top_tiles": len(top_files), "folder": str(folder)})
        self.warnings.extend(info["warnings"])
        self._place_tree(root)

    # ---- opening ----------------------------------------------------------------
    def _top_files(self, path: Path) -> list[Path]:
        data = self.folder / "Data"
        tops: list[Path] = []
        with os.scandir(data) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False) and _TOP_RE.match(entry.name):
                    f = Path(entry.path) / f"{entry.name}.osgb"
                    if f.is_file() and os.path.realpath(f).startswith(
                            os.path.realpath(self.folder) + os.sep):  # (no link out)
                        tops.append(f)
        if not tops:
            raise LoadError(path, "its Data folder holds no Tile_*/Tile_*.osgb top tile",
                            "check the tileset was copied completely")
        return sorted(tops)

    def _open_tops(self, path: Path, files: list[Path],
                   progress: Callable[[float, str], None] | None, workers: int) -> Tile:
        batches = [files[i:i + OPEN_BATCH] for i in range(0, len(files), OPEN_BATCH)]
        results: list[OsgbFile | LoadError] = []
        def headers(batch: list[Path]) -> list[OsgbFile | LoadError]:
            return read_osgb_headers(batch, reader=self._reader)

        if len(batches) == 1:
            results = headers(batches[0])
        else:
            with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
                for k, part in enumerate(pool.map(headers, batches)):
                    results += part
                    if progress is not None:
                        progress((k + 1) / len(batches), f"{len(results)} top tiles read")
        tops: list[Tile] = []
        warnings: list[str] = []
        for res in results:
            if isinstance(res, LoadError):
                if len(files) == 1:
                    raise res
                warnings.append(str(res))
                continue
            warnings += res.warnings
            tile = self._file_tile(res, cache=False)
            if tile is not None:
                tops.append(tile)
        if self._slow_reader:
            from . import osgb_worker

            warnings.append(f"{SLOW_READER_WARNING}, about 10x slower: the fast "
                            f"reader is not available ({osgb_worker.unavailable_reason()}); "
                            "./run builds it (needs g++ and libopenscenegraph-dev)")
        self._open_warnings = warnings
        if not tops:
            raise LoadError(path, "no top tile holds geometry or PagedLODs",
                            _HINT_REEXPORT)
        if len(files) == 1:
            return tops[0]
        centres = np.array([t.center for t in tops])
        lo = np.min(centres - [[t.radius] for t in tops], axis=0)
        hi = np.max(centres + [[t.radius] for t in tops], axis=0)
        c = (lo + hi) / 2
        r = float(max(np.linalg.norm(t.center - c) + t.radius for t in tops))
        root = Tile(key="root", center=c, radius=r, geometric_error=1e12, content=None,
                    children=tops)
        for t in tops:
            t.parent = root
            t.depth = 1
        return root

    def _place_tree(self, root: Tile) -> None:
        self.warnings.extend(w for w in self._open_warnings if w not in self.warnings)
        stack = [root]
        while stack:
            t = stack.pop()
            self._place(t)
            for k in t.children or ():
                if k.parent is None:
                    k.parent, k.depth = t, t.depth + 1
                stack.append(k)

    def _file_tile(self, f: OsgbFile, *, cache: bool = True) -> Tile | None:
        """The tile of a file: its single PagedLOD, or a node over its PagedLODs."""
        rel = os.path.relpath(f.path, self.folder)
        if cache:
            self._remember(f)
        if len(f.lods) == 1 and not f.free:
            return self._lod_tile(f, 0, rel)
        kids = [self._lod_tile(f, i, f"{rel}#{i}") for i in range(len(f.lods))]
        if not kids and not f.free:
            return None
        spheres = [(k.center, k.radius) for k in kids]
        if f.free:
            spheres.append(_sphere(f.free))
        c, r = _union(spheres)
        # without content of its own, a node always gives way to its PagedLODs
        error = max((k.geometric_error for k in kids), default=0.0) if f.free else 1e12
        node = Tile(key=rel, center=c, radius=r, geometric_error=error if kids else 0.0,
                    content=(str(f.path), None) if f.free else None, children=kids)
        for k in kids:
            k.parent = node
        return node

    def _lod_tile(self, f: OsgbFile, i: int, key: str) -> Tile:
        lod = f.lods[i]
        files = lod.child_files()
        error = lod.geometric_error()
        if files and not lod.geometry:  # nothing to draw: always give way to the children
            error = 1e12
        return Tile(key=key, center=lod.center.copy(), radius=float(lod.radius),
                    geometric_error=error,
                    content=(str(f.path), i) if lod.geometry else None,
                    children=None if files else [],
                    extra={"files": files, "dir": str(f.path.parent)})

    # ---- TileSet ----------------------------------------------------------------
    def native_to_crs(self, xyz: np.ndarray) -> np.ndarray:
        xyz = np.asarray(xyz, dtype=np.float64)
        if self._rotation is not None:
            return xyz @ self._rotation + self._offset
        return xyz + self._offset

    def _expand(self, tile: Tile) -> list[Tile]:
        names = tile.extra.get("files") or []
        if len(names) > base_module.MAX_CHILDREN:  # (before resolving them: each costs)
            self.warnings.append(f"{self.source}: tile {tile.key} names {len(names):,} "
                                 f"children, more than {base_module.MAX_CHILDREN:,}; the "
                                 "others are not read")
            names = names[:base_module.MAX_CHILDREN]
        base = tile.extra.get("dir") or str(self.folder)
        # the files of this tile and its ancestors: a child naming one is a cycle
        ancestors, up = set(), tile
        while up is not None:
            if up.key != "root":
                ancestors.add(os.path.realpath(self.folder / str(up.key).split("#")[0]))
            up = up.parent
        paths: list[Path] = []
        for name in names:
            try:
                target = resolve_inside(base, name, must_exist=False)
                if os.path.commonpath([os.path.realpath(self.folder), target]) != \
                        os.path.realpath(self.folder):
                    raise UnsafePath(name, "points outside the tileset's folder")
            except UnsafePath as exc:
                where = Path(tile.content[0]) if tile.content else Path(base)
                raise LoadError(where, f"child tile {exc.reference[:120]!r} {exc.reason}",
                                "only tiles inside the tileset's folder are read") from None
            if os.fspath(target) in ancestors:
                msg = f"{self.source}: child tile {name[:120]!r} of {tile.key} is the " \
                      "tile itself or one of its parents (a cycle); not read again"
                if msg not in self.warnings:
                    self.warnings.append(msg)
                continue
            if not target.exists():
                msg = f"{self.source}: child tile {name[:120]!r} of {tile.key} is missing"
                if msg not in self.warnings:
                    self.warnings.append(msg)
                continue
            paths.append(target)
        kids: list[Tile] = []
        # one osgconv run for all the children's spheres (no pixels: the loads read those)
        for res in (read_osgb_headers(paths, reader=self._reader) if paths else []):
            if isinstance(res, LoadError):
                if str(res) not in self.warnings:
                    self.warnings.append(str(res))
                continue
            self.warnings.extend(w for w in res.warnings if w not in self.warnings)
            kid = self._file_tile(res, cache=False)
            if kid is not None:
                kids.append(kid)
        for kid in kids:  # grandchildren already known (a Group file) get placed too
            for g in kid.children or ():
                g.depth = tile.depth + 2
                self._place(g)
        return kids

    def _load(self, tile: Tile, cancel: Callable[[], bool] | None) -> TileContent:
        path, index = tile.content
        if cancel is not None and cancel():
            return TileContent()
        f = self._read(Path(path))
        geoms = f.free if index is None else f.lods[index].geometry
        mesh = geometry_mesh(geoms)
        mesh.metadata.update(source=path, tile=tile.key, format="OSGB")
        if tile.children is None and not (cancel is not None and cancel()):
            # know the children now, in this loading thread, so that selecting them
            # later (on the caller's thread) runs no osgconv
            try:
                self.expand(tile)
            except LoadError as exc:
                if str(exc) not in self.warnings:
                    self.warnings.append(str(exc))
        return TileContent(meshes=[mesh])

    # ---- file cache -------------------------------------------------------------
    def _read(self, path: Path) -> OsgbFile:
        key = os.fspath(path)
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        f = read_osgb_file(path, reader=self._reader)
        self._remember(f)
        return f

    def _remember(self, f: OsgbFile) -> None:
        key = os.fspath(f.path)
        size = f.nbytes
        if size > PARSE_CACHE_BYTES:
            return
        with self._cache_lock:
            if key in self._cache:
                return
            self._cache[key] = f
            self._cache_bytes += size
            while self._cache_bytes > PARSE_CACHE_BYTES and self._cache:
                _, old = self._cache.popitem(last=False)
                self._cache_bytes -= old.nbytes

    def close(self) -> None:
        with self._cache_lock:
            self._cache.clear()
            self._cache_bytes = 0


def _union(spheres: list[tuple[np.ndarray, float]]) -> tuple[np.ndarray, float]:
    centres = np.array([c for c, _ in spheres], dtype=np.float64)
    radii = np.array([r for _, r in spheres], dtype=np.float64)
    lo = (centres - radii[:, None]).min(axis=0)
    hi = (centres + radii[:, None]).max(axis=0)
    c = (lo + hi) / 2
    return c, float(np.max(np.linalg.norm(centres - c, axis=1) + radii))


def read_osgb(path: Path, progress: Callable[[float, str], None] | None = None) -> OsgbTileSet:
    """Registry entry: an OSGB tileset from its folder, metadata.xml or one .osgb."""
    return OsgbTileSet(path, progress=progress)


def sniff_metadata_xml(head: bytes, path: Path) -> bool:
    """A ContextCapture / DJI Terra metadata.xml (``<ModelMetadata``)."""
    return b"<ModelMetadata" in head[:4096]


def _sniff_osgb(head: bytes, path: Path) -> bool:
    # OpenSceneGraph binary header: OSG_HEADER_LOW 0x6C910EA1, OSG_HEADER_HIGH 0x1AFB4545
    return head[:8] == OSGB_MAGIC


def _sniff_any(head: bytes, path: Path) -> bool:
    return _sniff_osgb(head, path) or sniff_metadata_xml(head, path)


def _registry_spec() -> Any:
    from ..registry import ReaderSpec

    return ReaderSpec("OSGB", ("osgb", "xml"), read_osgb, sniff=_sniff_any, score=10,
                      folder=is_osgb_folder)


READERS = [_registry_spec()]
