"""3D Tiles 1.0 / 1.1 tilesets read as a streamed :class:`TileSet` (no Qt, no VTK).

>>> from loaders.tiles.tiles3d import open_tileset
>>> ts = open_tileset("site/tileset.json")            # or an http(s) URL
>>> stream = TileStream(ts); stream.wait(view)

* ``tileset.json`` (1.0 and 1.1), local or over http(s); external tilesets (a content
  that is another tileset JSON) are read when their tile is first expanded, and a
  tileset that includes itself (directly or through others) is refused with a warning.
* Bounding volumes ``region`` (radians + heights on WGS84 -> an ECEF sphere), ``box``
  and ``sphere`` become ``Tile.center`` / ``radius`` in the native frame; ``transform``
  (column-major 4x4) is chained parent -> child and applies to box / sphere volumes and
  to content, never to regions (the spec); ``viewerRequestVolume`` ->
  ``Tile.request_volume``; a content's own ``boundingVolume`` (1.0 ``content``, 1.1
  ``contents[]``: one sphere around them all) -> ``Tile.content_volume`` (content out of
  view is neither fetched nor drawn); ``refine`` is inherited.
* Native frame: EPSG:4978 (ECEF) when the tileset is georeferenced (a region volume, or
  a root that lands on the earth's surface), else ``native_crs`` None (local units).
* Content (``content.uri`` or 1.1 ``contents``): b3dm, i3dm, pnts, cmpt and glTF/GLB
  (:mod:`loaders.tiles.tiles3d_content`). Content URIs stay inside the root tileset's
  folder (local: no ``..`` escape, no absolute path, no link out; remote: the same
  scheme, host and port unless ``allow_other_hosts``). Network reads reuse
  :mod:`loaders.copc`'s HTTP reader (overall deadline per request, bodies never read past
  the size asked for, redirects to other hosts refused unless allowed).
* A broken tile is one :class:`LoadError` naming its file or URL (a TileStream records it
  as a warning and keeps streaming). An external tileset or implicit subtree whose read
  failed transiently (network error, deadline, HTTP 5xx / 429) is read again later: the
  external one through a stand-in child (its siblings stay), which a TileStream expands
  again after a back-off.

* Implicit tiling (1.1 ``implicitTiling``, quadtrees and octrees over a box or a region,
  binary or JSON subtrees) is read subtree by subtree as tiles are expanded
  (:mod:`loaders.tiles.tiles3d_implicit`).
"""

from __future__ import annotations

import json
import math
import os
import posixpath
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urljoin, urlsplit

import numpy as np

from ..copc import is_url
from ..registry import ReaderSpec
from ..safety import UnsafePath, read_regular, resolve_inside
from ..types import LoadError, ProgressFn, split_origin
from . import base as tiles_base
from .base import Tile, TileContent, TileSet, transient
from .tiles3d_content import decode
from .tiles3d_implicit import Implicit, available, expand_uri, parse_implicit, tile_volume

#: a tileset JSON larger than this is refused (bytes)
MAX_TILESET_BYTES = 128 * 2**20
#: one tile content larger than this is refused (bytes)
MAX_CONTENT_BYTES = 1024 * 2**20
#: external tilesets nest at most this deep
MAX_EXTERNAL_DEPTH = 32
#: tile JSON nests at most this deep
MAX_TREE_DEPTH = 200
_A, _F = 6378137.0, 1 / 298.257223563
_E2 = _F * (2 - _F)
HINT = "the tileset is incomplete or corrupt; re-export or re-download it"


# ------------------------------------------------------------------------ fetching


class _Fetcher:
    """Reads a tileset's files: relative references resolved against the file that names
    them, kept inside the root tileset's folder (local) or origin (http)."""

    def __init__(self, root: str, *, allow_other_hosts: bool = False,
                 http_deadline: float | None = None) -> None:
        self.remote = is_url(root)
        self.allow_other_hosts = allow_other_hosts
        self.http_deadline = http_deadline
        if self.remote:
            from ..copc import url_origin

            self.origin = url_origin(root)
            self.root = root
        else:
            self.root_dir = os.path.realpath(os.path.dirname(os.path.abspath(root)))
            self.root = os.path.join(self.root_dir, os.path.basename(root))

    def resolve(self, base: str, uri: str) -> str:
        """The absolute path / URL of ``uri`` written in the file ``base``; LoadError
        when it leaves the tileset's folder / origin."""
        if not isinstance(uri, str) or not uri or "\x00" in uri:
            raise LoadError(base, f"content uri {str(uri)[:80]!r} is not a file name", HINT)
        if self.remote:
            from ..copc import url_origin

            target = urljoin(base, uri)
            origin = url_origin(target)
            if origin[0] not in ("http", "https"):
                raise LoadError(base, f"uri {uri[:80]!r} is not an http(s) URL; refused",
                                HINT)
            if origin != self.origin and not self.allow_other_hosts:
                raise LoadError(base, f"uri {uri[:80]!r} points to another host "
                                f"({origin[1]}); refused",
                                "allow other hosts to follow it (allow_other_hosts)")
            return target
        parts = urlsplit(uri)
        if len(parts.scheme) > 1:
            raise LoadError(base, f"uri {uri[:80]!r} is a URL, not a file inside the "
                            "tileset's folder; refused", "copy the file into the folder")
        rel_base = os.path.relpath(os.path.dirname(base), self.root_dir)
        ref = unquote(parts.path).replace("\\", "/")
        if ref.startswith("/") or (len(ref) > 1 and ref[1] == ":"):
            raise LoadError(base, f"uri {uri[:80]!r} is an absolute path; refused", HINT)
        joined = posixpath.normpath(posixpath.join(rel_base.replace(os.sep, "/"), ref))
        try:
            if joined == ".." or joined.startswith("../"):
                raise UnsafePath(uri, "points outside the tileset's folder")
            return str(resolve_inside(self.root_dir, joined))
        except UnsafePath as exc:
            if exc.reason == "does not exist":
                raise LoadError(base, f"content {uri[:80]!r} does not exist", HINT) from None
            raise LoadError(base, f"uri {uri[:80]!r} {exc.reason}; refused",
                            "a tileset may only use files inside its own folder") from None

    def fetch(self, ref: str, max_bytes: int) -> bytes:
        if not self.remote:
            try:
                data = read_regular(ref, max_bytes + 1)
            except UnsafePath as exc:
                raise LoadError(ref, exc.reason, "open a regular file") from None
            except FileNotFoundError:
                raise LoadError(ref, "file not found", HINT) from None
            except OSError as exc:
                raise LoadError(ref, f"cannot read: {exc.strerror or exc}",
                                "check that it is readable") from None
            if len(data) > max_bytes:
                raise LoadError(ref, f"is more than {max_bytes:,} bytes; refused",
                                "split the tileset into smaller tiles")
            return data
        from ..copc import HttpBytes

        kwargs: dict[str, Any] = {"allow_cross_host_redirects": self.allow_other_hosts}
        if self.http_deadline is not None:
            kwargs["deadline"] = self.http_deadline
        src = HttpBytes(ref, **kwargs)
        try:
            if src.size > max_bytes:
                raise LoadError(ref, f"is {src.size:,} bytes, more than the {max_bytes:,} "
                                "read for one file; refused", "split the tileset")
            head = src.head
            if src.size > len(head):
                head = head + src.read_at(len(head), src.size - len(head))
            return head[:src.size]
        finally:
            src.close()


# ------------------------------------------------------------------------ volumes


def geodetic_to_ecef(lon: np.ndarray, lat: np.ndarray, h: np.ndarray) -> np.ndarray:
    """WGS84 longitude / latitude (radians) and ellipsoidal height -> ECEF (n, 3)."""
    lon, lat, h = (np.asarray(v, dtype=np.float64) for v in (lon, lat, h))
    n = _A / np.sqrt(1 - _E2 * np.sin(lat) ** 2)
    return np.column_stack([(n + h) * np.cos(lat) * np.cos(lon),
                            (n + h) * np.cos(lat) * np.sin(lon),
                            (n * (1 - _E2) + h) * np.sin(lat)])


def _numbers(value: Any, n: int, what: str, where: str) -> np.ndarray:
    if not isinstance(value, list) or len(value) != n or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise LoadError(where, f"{what} must be {n} numbers", HINT)
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise LoadError(where, f"{what} holds NaN or infinity", HINT)
    return arr


def volume_sphere(volume: Any, transform: np.ndarray, where: str
                  ) -> tuple[np.ndarray, float, bool]:
    """A bounding volume as (centre, radius, is_region) in the native frame."""
    c, r, region, _hull = volume_bounds(volume, transform, where)
    return c, r, region


def volume_bounds(volume: Any, transform: np.ndarray, where: str
                  ) -> tuple[np.ndarray, float, bool, np.ndarray | None]:
    """A bounding volume as (centre, radius, is_region, hull) in the native frame; the
    hull: points whose box bounds the volume tighter than the sphere (a box's 8 corners,
    a region's samples; None for a sphere) -- ``Tile.extra["hull"]``, what framing uses."""
    if not isinstance(volume, dict):
        raise LoadError(where, "a tile has no boundingVolume", HINT)
    if "region" in volume:
        w, s, e, n, lo, hi = _numbers(volume["region"], 6, "region", where)
        if e < w:  # crosses the antimeridian
            e += 2 * math.pi
        lon = np.linspace(w, e, 5)
        lat = np.linspace(s, n, 5)
        glon, glat = np.meshgrid(lon, lat)
        pts = np.concatenate([geodetic_to_ecef(glon.ravel(), glat.ravel(),
                                               np.full(glon.size, h)) for h in (lo, hi)])
        c = (pts.min(axis=0) + pts.max(axis=0)) / 2
        return c, float(np.linalg.norm(pts - c, axis=1).max()), True, pts
    m3, t = transform[:3, :3], transform[:3, 3]
    if "box" in volume:
        b = _numbers(volume["box"], 12, "box", where)
        c = m3 @ b[:3] + t
        axes = m3 @ b[3:].reshape(3, 3).T  # columns: the half-axes
        signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)])
        corners = signs @ axes.T
        r = float(np.linalg.norm(corners, axis=1).max())
        return c, r, False, corners + c
    if "sphere" in volume:
        sp = _numbers(volume["sphere"], 4, "sphere", where)
        scale = float(np.linalg.norm(m3, ord=2)) if np.any(m3) else 1.0
        return m3 @ sp[:3] + t, float(abs(sp[3]) * scale), False, None
    raise LoadError(where, "a boundingVolume has no region, box or sphere "
                    f"({', '.join(list(volume)[:4]) or 'empty'})", HINT)


def _matrix(value: Any, where: str) -> np.ndarray:
    if value is None:
        return np.eye(4)
    return _numbers(value, 16, "transform", where).reshape(4, 4).T  # column-major


# ------------------------------------------------------------------------ tileset


class Tiles3dTileSet(TileSet):
    """A 3D Tiles tileset (see the module docstring). ``Tile.content`` is a tuple of the
    tile's content references (absolute paths / URLs); ``Tile.extra`` holds its JSON,
    world transform, source file and the chain of tilesets it came through."""

    format_name = "3D Tiles"

    def __init__(self, source: str, *, allow_other_hosts: bool = False,
                 http_deadline: float | None = None) -> None:
        self.fetcher = _Fetcher(str(source), allow_other_hosts=allow_other_hosts,
                                http_deadline=http_deadline)
        ref = self.fetcher.root
        doc = self._read_tileset(ref)
        warnings: list[str] = []
        root = self._tile(doc["root"], np.eye(4), "REPLACE", ref, (ref,), "0", warnings)
        georeferenced = root.extra.pop("region", False) or \
            6.2e6 < float(np.linalg.norm(root.center)) < 6.5e6
        native = None
        if georeferenced:
            from ..crs import as_crs

            native = as_crs("EPSG:4978")
        asset = doc.get("asset") if isinstance(doc.get("asset"), dict) else {}
        meta = {"version": str(asset.get("version", "")), "warnings": warnings,
                "geometric_error": doc.get("geometricError"),
                "georeferenced": bool(georeferenced)}
        if isinstance(doc.get("properties"), dict):
            meta["properties"] = list(doc["properties"])[:50]
        super().__init__(str(source), root, native, meta)

    # ---- reading -----------------------------------------------------------------
    def _read_tileset(self, ref: str) -> dict:
        raw = self.fetcher.fetch(ref, MAX_TILESET_BYTES)
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise LoadError(ref, "tileset JSON is not UTF-8 text", HINT) from None
        except (ValueError, RecursionError) as exc:
            raise LoadError(ref, f"invalid tileset JSON ({type(exc).__name__}: "
                            f"{str(exc)[:120]})", HINT) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("root"), dict):
            raise LoadError(ref, "not a 3D Tiles tileset (no root tile)",
                            "open the tileset.json of a 3D Tiles tileset")
        asset = doc.get("asset")
        version = str(asset.get("version", "")) if isinstance(asset, dict) else ""
        if not version:
            raise LoadError(ref, "not a 3D Tiles tileset (no asset.version)", HINT)
        if not version.startswith(("0.", "1.")):
            raise LoadError(ref, f"3D Tiles version {version[:20]} is not supported",
                            "RealScene reads 3D Tiles 1.0 and 1.1")
        required = doc.get("extensionsRequired") or []
        if isinstance(required, list) and required:
            known = {"3DTILES_content_gltf", "3DTILES_multiple_contents"}
            unknown = [str(e)[:60] for e in required if e not in known]
            if unknown:
                raise LoadError(ref, f"the tileset requires {', '.join(unknown)}, which "
                                "RealScene does not read", "re-export it without them")
        return doc

    def _tile(self, js: dict, parent_transform: np.ndarray, parent_refine: str, ref: str,
              chain: tuple[str, ...], key: str, warnings: list[str]) -> Tile:
        """A Tile from its JSON (children left for :meth:`_expand`)."""
        world = parent_transform @ _matrix(js.get("transform"), ref)
        if "implicitTiling" in js:
            imp = parse_implicit(js, ref)
            refine = str(js.get("refine", parent_refine)).upper()
            return self._implicit_tile(imp, (0, 0, 0, 0), world,
                                       refine if refine in ("ADD", "REPLACE")
                                       else parent_refine, chain, key)
        center, radius, region, hull = volume_bounds(js.get("boundingVolume"), world, ref)
        error = js.get("geometricError", 0)
        if not isinstance(error, (int, float)) or isinstance(error, bool) \
                or not math.isfinite(error) or error < 0:
            warnings.append(f"{ref}: tile {key} has an invalid geometricError; 0 used")
            error = 0.0
        refine = str(js.get("refine", parent_refine)).upper()
        if refine not in ("ADD", "REPLACE"):
            refine = parent_refine
        contents, external, spheres = [], [], []
        items = js.get("contents") if isinstance(js.get("contents"), list) else \
            [js["content"]] if isinstance(js.get("content"), dict) else []
        for item in items:
            uri = item.get("uri", item.get("url")) if isinstance(item, dict) else None
            if uri is None:
                continue
            target = self.fetcher.resolve(ref, uri)
            path = urlsplit(target).path if self.fetcher.remote else target
            is_tileset = path.lower().endswith(".json")
            (external if is_tileset else contents).append(target)
            if not is_tileset:
                spheres.append(self._content_sphere(item, world, ref, key, warnings))
        request = None
        if isinstance(js.get("viewerRequestVolume"), dict):
            c, r, _ = volume_sphere(js["viewerRequestVolume"], world, ref)
            request = (c, r)
        extra: dict[str, Any] = {"json": js, "transform": world, "ref": ref,
                                 "chain": chain, "external": external}
        if hull is not None:
            extra["hull"] = hull
        if region:
            extra["region"] = True
        return Tile(key=key, center=center, radius=radius, geometric_error=float(error),
                    content=tuple(contents) or None, refine=refine, request_volume=request,
                    extra=extra, content_volume=_union(spheres))

    @staticmethod
    def _content_sphere(item: dict, world: np.ndarray, ref: str, key: str,
                        warnings: list[str]) -> tuple[np.ndarray, float] | None:
        """A content's own ``boundingVolume`` as a native sphere (None: not given, or
        unreadable: said once, the tile's volume is used)."""
        if not isinstance(item.get("boundingVolume"), dict):
            return None
        try:
            c, r, _ = volume_sphere(item["boundingVolume"], world, ref)
        except LoadError as exc:
            warnings.append(f"{ref}: tile {key}: content boundingVolume ignored "
                            f"({exc.reason})"[:400])
            return None
        return c, r

    def _implicit_tile(self, imp: Implicit, coords: tuple[int, int, int, int],
                       world: np.ndarray, refine: str, chain: tuple[str, ...],
                       key: str, flags: list[bool] | None = None) -> Tile:
        """Implicit tile ``coords`` (level, x, y, z); ``flags``: its content
        availability (read from its subtree when None: the implicit root)."""
        if flags is None:
            ok, flags = self._available(imp, coords)
            if not ok:
                flags = []
        level = coords[0]
        volume = tile_volume(imp, *coords)
        center, radius, region = volume_sphere(volume, world, imp.ref)
        contents = []
        for template, flag in zip(imp.content_uris, flags, strict=False):
            if flag:
                uri = expand_uri(template, *coords)
                try:
                    contents.append(self.fetcher.resolve(imp.ref, uri))
                except LoadError as exc:
                    self._warn(str(exc))
        extra: dict[str, Any] = {"implicit": (imp, coords), "transform": world,
                                 "ref": imp.ref, "chain": chain, "external": []}
        if region:
            extra["region"] = True
        return Tile(key=key, center=center, radius=radius,
                    geometric_error=imp.error / 2 ** level, content=tuple(contents) or None,
                    refine=refine, extra=extra)

    def _available(self, imp: Implicit, coords: tuple[int, int, int, int]
                   ) -> tuple[bool, list[bool]]:
        def read(uri: str) -> tuple[bytes, str]:
            target = self.fetcher.resolve(imp.ref, uri)
            return self.fetcher.fetch(target, MAX_TILESET_BYTES), target

        def near(name: str, uri: str) -> bytes:
            return self.fetcher.fetch(self.fetcher.resolve(name, uri), MAX_TILESET_BYTES)

        return available(imp, coords, read, near)

    def _expand_implicit(self, tile: Tile) -> list[Tile]:
        imp, (level, x, y, z) = tile.extra["implicit"]
        kids = []
        for c in range(imp.n):
            coords = (level + 1, 2 * x + (c & 1), 2 * y + ((c >> 1) & 1),
                      2 * z + ((c >> 2) & 1) if imp.dims == 3 else 0)
            try:
                ok, flags = self._available(imp, coords)
                if ok:
                    key = f"{tile.key}/{c}"
                    kids.append(self._implicit_tile(imp, coords, tile.extra["transform"],
                                                    tile.refine, tile.extra["chain"], key,
                                                    flags))
            except LoadError as exc:
                if transient(exc):  # the stream reads this tile's children again later
                    raise
                self._warn(str(exc))
        return kids

    def _expand(self, tile: Tile) -> list[Tile]:
        if "implicit" in tile.extra:
            return self._expand_implicit(tile)
        if "retry_external" in tile.extra:  # raises: a stream retries or gives up
            return [self._external(tile, tile.extra["retry_external"], f"{tile.key}/0")]
        js = tile.extra.get("json") or {}
        kids_js = js.get("children") or []
        if not isinstance(kids_js, list):
            kids_js = []
        world, ref, chain = tile.extra["transform"], tile.extra["ref"], tile.extra["chain"]
        kids: list[Tile] = []
        if tile.depth >= MAX_TREE_DEPTH:
            self._warn(f"{ref}: tiles nest more than {MAX_TREE_DEPTH} deep; the deeper "
                       "ones are not shown")
            return kids
        if len(kids_js) > tiles_base.MAX_CHILDREN:  # (before reading them: each costs)
            self._warn(f"{ref}: tile {tile.key} lists {len(kids_js):,} children, more than "
                       f"{tiles_base.MAX_CHILDREN:,}; the others are not shown")
            kids_js = kids_js[:tiles_base.MAX_CHILDREN]
        for i, kj in enumerate(kids_js):
            if not isinstance(kj, dict):
                continue
            try:
                kids.append(self._tile(kj, world, tile.refine, ref, chain,
                                       f"{tile.key}/{i}", self.warnings))
            except LoadError as exc:
                self._warn(str(exc))
        for k, ext_ref in enumerate(tile.extra.get("external", ())):
            try:
                kids.append(self._external(tile, ext_ref, f"{tile.key}/x{k}"))
            except LoadError as exc:
                if transient(exc):  # a network error: a stand-in read again later
                    kids.append(self._pending_external(tile, ext_ref, f"{tile.key}/x{k}"))
                self._warn(str(exc))
        return kids

    def _pending_external(self, tile: Tile, ref: str, key: str) -> Tile:
        """A stand-in child for the external tileset ``ref`` whose read failed
        transiently: ``tile``'s volume, no content, its children the external root once
        read (a TileStream reads them again after a back-off; its siblings stay)."""
        centre = self._native_centres.get(id(tile), np.asarray(tile.center, np.float64))
        extra: dict[str, Any] = {"retry_external": ref, "transform": tile.extra["transform"],
                                 "ref": tile.extra["ref"], "chain": tile.extra["chain"],
                                 "external": []}
        if "hull" in tile.extra:
            extra["hull"] = tile.extra["hull"]
        return Tile(key=key, center=np.array(centre, dtype=np.float64), radius=tile.radius,
                    geometric_error=tile.geometric_error, refine=tile.refine, extra=extra)

    def _external(self, tile: Tile, ref: str, key: str) -> Tile:
        chain = tile.extra["chain"]
        if ref in chain:
            raise LoadError(ref, "the tileset includes itself (through "
                            f"{len(chain)} external tileset(s)); not read again", HINT)
        if len(chain) >= MAX_EXTERNAL_DEPTH:
            raise LoadError(ref, f"external tilesets nest more than {MAX_EXTERNAL_DEPTH} "
                            "deep; not read", HINT)
        doc = self._read_tileset(ref)
        return self._tile(doc["root"], tile.extra["transform"], tile.refine, ref,
                          chain + (ref,), key, self.warnings)

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def _load(self, tile: Tile, cancel: Callable[[], bool] | None) -> TileContent:
        out = TileContent()
        world = tile.extra["transform"]
        for ref in tile.content or ():
            if cancel is not None and cancel():
                break
            data = self.fetcher.fetch(ref, MAX_CONTENT_BYTES)

            def fetch_inner(uri: str, base: str = ref, max_bytes: int = MAX_CONTENT_BYTES
                            ) -> tuple[bytes, str]:
                target = self.fetcher.resolve(base, uri)
                return self.fetcher.fetch(target, min(max_bytes, MAX_CONTENT_BYTES)), target

            decoded = decode(data, ref, fetch_inner)
            for w in decoded.warnings:
                self._warn(f"{ref}: {w}"[:400])
            for mesh in decoded.meshes:
                xyz = mesh.vertices.astype(np.float64) + mesh.origin
                mesh.vertices, mesh.origin = split_origin(_apply(world, xyz))
                if mesh.normals is not None:
                    n = mesh.normals.astype(np.float64) @ world[:3, :3].T
                    ln = np.linalg.norm(n, axis=1, keepdims=True)
                    mesh.normals = np.divide(n, ln, out=np.zeros_like(n),
                                             where=ln > 0).astype(np.float32)
                mesh.metadata["source"] = ref
                out.meshes.append(mesh)
            for cloud in decoded.points:
                xyz = cloud.positions.astype(np.float64) + cloud.origin
                cloud.positions, cloud.origin = split_origin(_apply(world, xyz))
                if "normal" in cloud.attributes:
                    n = cloud.attributes["normal"].astype(np.float64) @ world[:3, :3].T
                    ln = np.linalg.norm(n, axis=1, keepdims=True)
                    cloud.attributes["normal"] = np.divide(
                        n, ln, out=np.zeros_like(n), where=ln > 0).astype(np.float32)
                cloud.metadata["source"] = ref
                out.points.append(cloud)
        return out


def _union(spheres: list[tuple[np.ndarray, float] | None]
           ) -> tuple[np.ndarray, float] | None:
    """One sphere around all ``spheres`` (None when any is unknown, or none given)."""
    if not spheres or any(s is None for s in spheres):
        return None
    if len(spheres) == 1:
        return spheres[0]
    centres = np.array([s[0] for s in spheres])  # type: ignore[index]
    radii = np.array([s[1] for s in spheres])  # type: ignore[index]
    c = ((centres - radii[:, None]).min(axis=0) + (centres + radii[:, None]).max(axis=0)) / 2
    return c, float((np.linalg.norm(centres - c, axis=1) + radii).max())


def _apply(m: np.ndarray, xyz: np.ndarray) -> np.ndarray:
    if np.array_equal(m, np.eye(4)):
        return xyz
    return xyz @ m[:3, :3].T + m[:3, 3]


def open_tileset(source: str | os.PathLike, *, allow_other_hosts: bool = False,
                 http_deadline: float | None = None) -> Tiles3dTileSet:
    """Open a 3D Tiles ``tileset.json`` (a path or an http(s) URL); raises LoadError."""
    src = str(source) if is_url(source) else os.fspath(source)
    return Tiles3dTileSet(src, allow_other_hosts=allow_other_hosts,
                          http_deadline=http_deadline)


def _read(path: Path, progress: ProgressFn | None = None) -> Tiles3dTileSet:
    if os.path.isdir(path):  # a 3D Tiles folder: its tileset.json
        path = Path(path) / "tileset.json"
    if progress:
        progress(0.1, "reading tileset.json")
    ts = open_tileset(path)
    if progress:
        progress(1.0, "done")
    return ts


def sniff_tileset(head: bytes, path: Path) -> bool:
    text = head[:4096]
    return (text.lstrip().startswith(b"{") and b'"root"' in text and b'"asset"' in text
            and b'"geometricError"' in text)


def _is_tileset_folder(path: Path) -> bool:
    return os.path.isfile(os.path.join(path, "tileset.json"))


READERS = [ReaderSpec("3D Tiles", ("tileset.json",), _read, sniff=sniff_tileset, score=10,
                      folder=_is_tileset_folder)]
