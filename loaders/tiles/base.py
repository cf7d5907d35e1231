"""Tiled datasets: hierarchies of tiles streamed by screen-space error (no Qt, no VTK).

A :class:`TileSet` is a dataset too big to hold: an oblique-photogrammetry OSGB
pyramid (:mod:`loaders.tiles.osgb`), a 3D Tiles tileset (:mod:`loaders.tiles.tiles3d`)
or a terrain quadtree over a DEM (:mod:`loaders.tiles.terrain`). It is a tree of
:class:`Tile` s, each with a bounding sphere and a geometric error; the tree is expanded
lazily (an external tileset, a PagedLOD child file) and a tile's content is loaded on
demand as a plain :class:`loaders.Mesh` / :class:`loaders.PointCloud` in the
TileSet's CRS (the scene CRS once :meth:`TileSet.set_target_crs` was called).

:func:`select_tiles` chooses, for a camera, the tiles to draw (Cesium's rule: refine a
tile while its screen-space error ``geometric_error * pixels_per_radian / distance``
exceeds the threshold, REPLACE keeping the parent until its children are ready) and the
tiles to fetch; :class:`TileStream` keeps a byte-bounded LRU cache of loaded contents and
loads the wanted ones on a thread pool. The window's renderer, the CLI's off-screen
render and scripts all draw through a TileStream.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic as _monotonic
from typing import Any, Callable, Iterable

import numpy as np

from ..types import LoadError, Mesh, PointCloud

#: default screen-space error threshold (pixels), as CesiumJS's maximumScreenSpaceError
DEFAULT_MAX_SSE = 16.0
#: a tile's children whose read failed transiently (network) are read again after this
#: many seconds, doubled per attempt, up to ``RETRY_ATTEMPTS`` reads in all
RETRY_SECONDS = 2.0
RETRY_ATTEMPTS = 4
_TRANSIENT_WORDS = ("network error", "timed out", "timeout", "connection", "temporarily",
                    "http 408", "http 425", "http 429", "http 500", "http 502", "http 503",
                    "http 504")

#: loader threads run this much nicer than the process (Linux: nice is per thread, and a
#: reader's subprocess started there inherits it): on a machine with few cores, the GUI
#: thread and a software renderer's threads get the CPU first while tiles stream
LOADER_NICE = 10


def _lower_priority() -> None:
    """Thread-pool initializer: this loader thread yields the CPU to the GUI (best
    effort: no per-thread priority on other systems, nothing raised)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid,
                       min(os.getpriority(os.PRIO_PROCESS, tid) + LOADER_NICE, 19))
    except (AttributeError, OSError):
        pass


def transient(exc: BaseException) -> bool:
    """A failure worth retrying: a network error, a deadline, a server's 5xx / 429
    (another read may succeed), not a bad or missing file."""
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    if isinstance(exc, LoadError):
        text = exc.reason.lower()
        return any(word in text for word in _TRANSIENT_WORDS)
    return False


@dataclass(eq=False)
class Tile:
    """One node of a tile hierarchy, in the TileSet's current CRS (true coordinates).

    ``children`` is None until :meth:`TileSet.expand` read them (an external tileset or
    a child file), then a list (empty for a leaf). ``content`` names what
    :meth:`TileSet.load` reads (None: the tile has no content of its own).
    """

    key: str
    center: np.ndarray  # (3,) float64, bounding-sphere centre
    radius: float
    geometric_error: float
    content: Any = None
    refine: str = "REPLACE"  # or "ADD"
    children: list["Tile"] | None = None
    depth: int = 0
    #: (centre, radius) a viewer must be inside for the content to show (3D Tiles
    #: viewerRequestVolume), or None
    request_volume: tuple[np.ndarray, float] | None = None
    #: reader-private state (transform, base URL, PagedLOD file...)
    extra: dict[str, Any] = field(default_factory=dict)
    parent: "Tile | None" = None
    #: an axis-aligned box (lo, hi) around the content, tighter than the sphere, in the
    #: current CRS. A reader gives it in its native frame, as this box or as points whose
    #: hull bounds the tile (``extra["hull"]``, (n, 3): an oriented box's 8 corners, a
    #: region's samples): the TileSet moves them into the CRS and boxes them again;
    #: None: the sphere is all that is known
    box: tuple[np.ndarray, np.ndarray] | None = None
    #: (centre, radius) around the content alone (3D Tiles ``content.boundingVolume``),
    #: tighter than the tile's sphere; a reader gives it native, kept in the current CRS.
    #: Content outside the view is neither fetched nor drawn (the tile still refines)
    content_volume: tuple[np.ndarray, float] | None = None


@dataclass
class TileContent:
    """A loaded tile: meshes and / or point clouds in the TileSet's current CRS."""

    meshes: list[Mesh] = field(default_factory=list)
    points: list[PointCloud] = field(default_factory=list)
    #: what a viewer built from it in the loader thread (TileStream's ``prepare`` hook:
    #: VTK data, so the GUI thread only adds actors) and its bytes (the hook sets them;
    #: counted in :attr:`nbytes`: the cache's budget holds the copies too)
    prepared: Any = None
    prepared_bytes: int = 0

    @property
    def nbytes(self) -> int:
        total = 0
        for m in self.meshes:
            total += m.vertices.nbytes + m.faces.nbytes
            for arr in (m.normals, m.uvs, m.vertex_colors, m.face_colors):
                total += 0 if arr is None else arr.nbytes
            for part in m.parts:
                tex = part.material.texture
                total += 0 if tex is None else tex.nbytes
        for p in self.points:
            total += p.positions.nbytes + sum(a.nbytes for a in p.attributes.values())
        return total + int(self.prepared_bytes)

    @property
    def triangle_count(self) -> int:
        return sum(m.triangle_count for m in self.meshes)

    @property
    def point_count(self) -> int:
        return sum(p.point_count for p in self.points)


#: a tile keeps at most this many children (a hostile tile listing millions is cut, said
#: once in the warnings); readers cut their child lists to it before reading them
MAX_CHILDREN = 65536
#: tiles nest at most this deep (a child file naming its parent: a cycle ends here)
MAX_DEPTH = 256
#: a tile's centre coordinates and radius beyond this (any unit) are refused: nothing
#: real is that big (ECEF is ~6.4e6 m), and the selection's arithmetic must stay finite
MAX_COORDINATE = 1e13
#: a TileSet keeps at most this many warnings (a broken pyramid may have a warning per
#: tile; the list is searched before each is added)
MAX_WARNINGS = 500


class _Warnings(list):
    """A TileSet's warnings: at most :data:`MAX_WARNINGS`, then one line saying more were
    left out (a tileset of a million broken tiles must not grow memory and time)."""

    def append(self, text: Any) -> None:
        if len(self) < MAX_WARNINGS:
            super().append(text)
        elif len(self) == MAX_WARNINGS:
            super().append(f"more than {MAX_WARNINGS} warnings; the others are not listed")

    def extend(self, items: Iterable[Any]) -> None:
        for item in items:
            if len(self) > MAX_WARNINGS:
                break
            self.append(item)


def tile_problem(tile: Tile) -> str | None:
    """Why ``tile``'s bounding sphere or geometric error cannot be used (NaN, infinity,
    a negative or absurdly large size), or None: checked for every tile a reader makes."""
    try:
        c = np.asarray(tile.center, dtype=np.float64).reshape(-1)
        r, e = float(tile.radius), float(tile.geometric_error)
    except (TypeError, ValueError):
        return "its bounding volume is not numbers"
    if c.shape != (3,) or not np.all(np.isfinite(c)) or not math.isfinite(r):
        return "its bounding volume holds NaN or infinity"
    if r < 0 or r > MAX_COORDINATE or float(np.abs(c).max()) > MAX_COORDINATE:
        return f"its bounding volume is out of range (centre " \
               f"{', '.join(f'{v:.4g}' for v in c)}, radius {r:.4g})"
    if not math.isfinite(e) or e < 0:
        return f"its geometric error {e!r} is not a size"
    return None


class TileSet:
    """Base of every tiled dataset (``kind == "tiles"``).

    Subclasses set ``root`` and implement :meth:`_expand` and :meth:`_load` in their
    *native* frame and :meth:`native_to_crs` (native xyz -> ``native_crs`` xyz, float64;
    identity by default). After :meth:`set_target_crs` centres and contents come in
    the target CRS (pyproj, float64).
    """

    kind = "tiles"
    #: a short format name ("OSGB", "3D Tiles", "Terrain")
    format_name = "tiles"

    def __init__(self, source: str, root: Tile, native_crs: Any = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.source = source
        self.root = root
        self.native_crs = native_crs
        self.crs = native_crs
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.metadata.setdefault("source", source)
        self.metadata.setdefault("format", self.format_name)
        self._transformer: Any = None
        self._lock = threading.RLock()
        self._native_centres: dict[int, np.ndarray] = {}
        problem = tile_problem(root)
        if problem is not None:
            raise LoadError(source, f"the root tile cannot be shown: {problem}",
                            "the tileset is corrupt; re-export it")

    # ---- subclasses --------------------------------------------------------------
    def _expand(self, tile: Tile) -> list[Tile]:
        """The children of ``tile`` in the native frame (may read files)."""
        return []

    def _load(self, tile: Tile, cancel: Callable[[], bool] | None) -> TileContent:
        """The content of ``tile`` in the native frame (raises LoadError)."""
        raise NotImplementedError

    def native_to_crs(self, xyz: np.ndarray) -> np.ndarray:
        """Native coordinates -> ``native_crs`` coordinates (float64)."""
        return xyz

    # ---- public ------------------------------------------------------------------
    @property
    def warnings(self) -> list[str]:
        found = self.metadata.get("warnings")
        if not isinstance(found, _Warnings):
            found = self.metadata["warnings"] = _Warnings(found or [])
        return found

    def set_target_crs(self, crs: Any) -> None:
        """Deliver centres and contents in ``crs`` from now on (None: the native CRS)."""
        from ..crs import as_crs

        with self._lock:
            target = as_crs(crs) if crs is not None else None
            if target is None or self.native_crs is None or target == self.native_crs:
                self._transformer = None
                self.crs = self.native_crs if target is None else target
            else:
                from pyproj import Transformer

                self._transformer = Transformer.from_crs(self.native_crs, target,
                                                         always_xy=True)
                self.crs = target
            self._retarget(self.root)

    def to_crs(self, xyz_native: np.ndarray) -> np.ndarray:
        """Native coordinates -> the current CRS (float64, (n, 3))."""
        xyz = np.asarray(self.native_to_crs(np.asarray(xyz_native, dtype=np.float64)),
                         dtype=np.float64).reshape(-1, 3)
        if self._transformer is None:
            return xyz
        x, y, z = self._transformer.transform(xyz[:, 0], xyz[:, 1], xyz[:, 2])
        return np.column_stack([x, y, z]).astype(np.float64)

    def expand(self, tile: Tile) -> list[Tile]:
        """``tile.children``, read on first use (thread-safe); raises LoadError. The
        children are read outside the TileSet's lock (a loading thread reading one tile's
        children must not hold up the selection of another); two threads expanding the
        same tile at once only waste work (the first result is kept)."""
        if tile.children is not None:
            return tile.children
        kids = self._checked(tile, self._expand(tile) if tile.depth < MAX_DEPTH else None)
        with self._lock:
            if tile.children is None:
                for kid in kids:
                    kid.parent = tile
                    kid.depth = tile.depth + 1
                    self._place(kid)
                tile.children = [k for k in kids if tile_problem(k) is None]
        return tile.children

    def _checked(self, tile: Tile, kids: list[Tile] | None) -> list[Tile]:
        """The children a reader gave, without those that cannot be shown and at most
        :data:`MAX_CHILDREN` (each cut said once in the warnings); None: too deep."""
        def warn(text: str) -> None:
            text = f"{self.source}: tile {str(tile.key)[:80]}: {text}"
            if text not in self.warnings:
                self.warnings.append(text)

        if kids is None:
            warn(f"tiles nest more than {MAX_DEPTH} deep (a cycle?); the deeper ones "
                 "are not read")
            return []
        if len(kids) > MAX_CHILDREN:
            warn(f"{len(kids):,} children, more than {MAX_CHILDREN:,}; the others are "
                 "not shown")
            kids = kids[:MAX_CHILDREN]
        good = []
        for kid in kids:
            problem = tile_problem(kid)
            if problem is None:
                good.append(kid)
            else:
                warn(f"child {str(kid.key)[:80]} is not shown: {problem}")
        return good

    def load(self, tile: Tile, cancel: Callable[[], bool] | None = None) -> TileContent:
        """The content of ``tile`` in the current CRS (raises LoadError), its meshes
        textured by the orthophoto draped with :meth:`drape` (in this, the loader thread)."""
        content = self._load(tile, cancel)
        for item in [*content.meshes, *content.points]:
            xyz = item.vertices if isinstance(item, Mesh) else item.positions
            origin = np.asarray(item.origin, dtype=np.float64)
            if not (np.all(np.isfinite(origin)) and np.all(np.isfinite(xyz))):
                raise LoadError(str(item.metadata.get("source") or self.source),
                                f"tile {str(tile.key)[:80]}: its content has NaN or "
                                "infinite coordinates (after its transform)",
                                "the tileset is corrupt; re-export it")
            self._content_to_crs(item)
        draped = getattr(self, "_draped", None)
        if draped is not None and content.meshes:
            draped.drape_content(content, self.crs)
        return content

    def drape(self, ortho: str | Path | None) -> None:
        """Texture the meshes of the tiles loaded from now on with the orthophoto GeoTIFF
        ``ortho`` (top-down: :mod:`loaders.tiles.drape`, warped into the current CRS per
        tile); None takes it off. Reload cached tiles (a new stream) to see it. LoadError
        when the file cannot be draped. (A terrain drapes its own way.)"""
        self.set_drape_state(None if ortho is None else self.prepare_drape(ortho))

    def prepare_drape(self, ortho: str | Path) -> Any:
        """The drape of ``ortho`` checked and made (the file opened, its overlap with
        the tileset checked) without changing the tileset: a background job's part;
        :meth:`set_drape_state` then installs it. LoadError as :meth:`drape`."""
        from .drape import Orthophoto, check_overlap

        photo = Orthophoto(ortho)
        check_overlap(photo, self.bounds, self.crs, self.metadata.get("name") or
                      Path(self.source).name)
        return photo

    def drape_state(self) -> Any:
        """The orthophoto draped now, as :meth:`set_drape_state` takes it back (None when
        none is): undo and redo of a drape install it again without reading the file."""
        return getattr(self, "_draped", None)

    def set_drape_state(self, state: Any) -> None:
        """Install a drape made by :meth:`prepare_drape` (or saved by
        :meth:`drape_state`); None takes it off. Reload cached tiles to see it."""
        self._draped = state
        if state is None:
            self.metadata.pop("ortho", None)
        else:
            self.metadata["ortho"] = str(state.path)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The box of the whole tileset in the current CRS: the root's box when the
        reader knows one, else the union of the top-level tiles' boxes (their spheres'
        boxes when they have none) when they are known, else the root's sphere. Tighter
        than the root's sphere: fitting the view frames the data, not a loose ball."""
        root = self.root
        hull = self._native_hull(root)
        if hull is not None:  # (the root is never placed: boxed here, in today's CRS)
            return self._hull_box(hull)
        kids = root.children or []
        if kids and root.content is None:  # a synthetic root: its tiles say more
            boxes = [_tile_box(k) for k in kids]
            return (np.min([b[0] for b in boxes], axis=0),
                    np.max([b[1] for b in boxes], axis=0))
        return _tile_box(root)

    @property
    def xyz(self) -> np.ndarray:
        lo, hi = self.bounds
        return np.array([lo, hi])

    @property
    def origin(self) -> np.ndarray:
        """A float64 offset near the data (the root's centre, current CRS): what a
        scene takes as its origin when a tileset is its first layer."""
        return np.asarray(self.root.center, dtype=np.float64).copy()

    def close(self) -> None:
        """Release open files / sessions."""

    # ---- helpers -----------------------------------------------------------------
    def _place(self, tile: Tile) -> None:
        """Record ``tile``'s native centre and move it into the current CRS."""
        self._native_centres[id(tile)] = np.asarray(tile.center, dtype=np.float64).copy()
        tile.center = self.to_crs(tile.center)[0]
        hull = self._native_hull(tile)
        if hull is not None:
            tile.box = self._hull_box(hull)
        if tile.request_volume is not None and "native_request" not in tile.extra:
            tile.extra["native_request"] = tile.request_volume
            c, r = tile.request_volume
            tile.request_volume = (self.to_crs(c)[0], r)
        if tile.content_volume is not None and "native_content_volume" not in tile.extra:
            tile.extra["native_content_volume"] = tile.content_volume
            c, r = tile.content_volume
            tile.content_volume = (self.to_crs(c)[0], r)

    def _retarget(self, tile: Tile) -> None:
        native = self._native_centres.setdefault(id(tile), np.asarray(tile.center).copy())
        tile.center = self.to_crs(native)[0]
        hull = self._native_hull(tile)
        if hull is not None:
            tile.box = self._hull_box(hull)
        if "native_request" in tile.extra:
            c, r = tile.extra["native_request"]
            tile.request_volume = (self.to_crs(c)[0], r)
        if "native_content_volume" in tile.extra:
            c, r = tile.extra["native_content_volume"]
            tile.content_volume = (self.to_crs(c)[0], r)
        for kid in tile.children or ():
            self._retarget(kid)

    @staticmethod
    def _native_hull(tile: Tile) -> np.ndarray | None:
        """Native points bounding ``tile`` (its reader's ``extra["hull"]``, or the corners
        of the native box it was given), or None."""
        hull = tile.extra.get("hull")
        if hull is None and tile.box is not None and "native_box" not in tile.extra:
            tile.extra["native_box"] = tile.box  # given by the reader: native
        if hull is None and "native_box" in tile.extra:
            lo, hi = (np.asarray(v, dtype=np.float64) for v in tile.extra["native_box"])
            hull = np.array([[(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]]
                             for i in (0, 1) for j in (0, 1) for k in (0, 1)])
        return None if hull is None else np.asarray(hull, dtype=np.float64).reshape(-1, 3)

    def _hull_box(self, hull: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Native hull points in the current CRS, boxed (axis-aligned)."""
        moved = self.to_crs(hull)
        return moved.min(axis=0), moved.max(axis=0)

    def _content_to_crs(self, item: Mesh | PointCloud) -> None:
        from ..types import split_origin

        if isinstance(item, PointCloud):
            xyz = item.positions.astype(np.float64) + item.origin
            item.positions, item.origin = split_origin(self.to_crs(xyz))
        else:
            xyz = item.vertices.astype(np.float64) + item.origin
            item.vertices, item.origin = split_origin(self.to_crs(xyz))
            if item.normals is not None and self._transformer is not None:
                item.normals = None  # recomputed by the renderer in the new frame
        item.crs = self.crs


def _tile_box(tile: Tile) -> tuple[np.ndarray, np.ndarray]:
    """A tile's box: its own, or its sphere's (the two intersected when both known)."""
    c, r = np.asarray(tile.center, dtype=np.float64), float(tile.radius)
    lo, hi = c - r, c + r
    if tile.box is not None:
        lo = np.maximum(lo, np.asarray(tile.box[0], dtype=np.float64))
        hi = np.minimum(hi, np.asarray(tile.box[1], dtype=np.float64))
        if np.any(lo > hi):  # inconsistent volumes: trust the box
            lo, hi = (np.asarray(v, dtype=np.float64) for v in tile.box)
    return lo, hi


# ---- selection -----------------------------------------------------------------
def _xyz(tile: Tile) -> tuple[float, float, float]:
    """``tile.center`` as floats, kept on the tile until its centre is replaced."""
    centre = tile.center
    cached = tile.__dict__.get("_xyz")
    if cached is None or cached[0] is not centre:
        cached = (centre, tuple(float(v) for v in centre))
        tile.__dict__["_xyz"] = cached
    return cached[1]


@dataclass
class View:
    """What selection needs of a camera: eye (true coords of the TileSet's CRS),
    ``pixels_per_radian`` (viewport height / (2 tan(fov / 2))) and optionally the
    frustum as planes ``(n, 4)`` with ``a x + b y + c z + d >= 0`` inside."""

    eye: np.ndarray
    pixels_per_radian: float
    planes: np.ndarray | None = None
    max_sse: float = DEFAULT_MAX_SSE

    # (plain float arithmetic: selection visits thousands of tiles per frame on the GUI
    # thread, and numpy's per-call overhead on 3-vectors was most of its time)
    def distance(self, tile: Tile) -> float:
        ex, ey, ez = self._eye()
        x, y, z = _xyz(tile)
        return max(math.sqrt((x - ex) ** 2 + (y - ey) ** 2 + (z - ez) ** 2) - tile.radius,
                   1e-6)

    def sse(self, tile: Tile) -> float:
        return tile.geometric_error * self.pixels_per_radian / self.distance(tile)

    def visible(self, tile: Tile) -> bool:
        if self.planes is None:
            return True
        x, y, z = _xyz(tile)
        r = -tile.radius
        for a, b, c, d in self._planes():
            if a * x + b * y + c * z + d < r:
                return False
        return True

    def content_visible(self, tile: Tile) -> bool:
        """Whether ``tile``'s :attr:`Tile.content_volume` (when it has one) is in view."""
        if tile.content_volume is None or self.planes is None:
            return True
        (x, y, z), r = (float(v) for v in tile.content_volume[0]), tile.content_volume[1]
        for a, b, c, d in self._planes():
            if a * x + b * y + c * z + d < -r:
                return False
        return True

    def _eye(self) -> tuple[float, float, float]:
        cached = self.__dict__.get("_eye_t")
        if cached is None or cached[0] is not self.eye:
            cached = (self.eye, tuple(float(v) for v in np.asarray(self.eye).ravel()[:3]))
            self.__dict__["_eye_t"] = cached
        return cached[1]

    def _planes(self) -> list[tuple[float, float, float, float]]:
        cached = self.__dict__.get("_planes_t")
        if cached is None or cached[0] is not self.planes:
            rows = [tuple(float(v) for v in row)
                    for row in np.asarray(self.planes, dtype=np.float64).reshape(-1, 4)]
            cached = (self.planes, rows)
            self.__dict__["_planes_t"] = cached
        return cached[1]

    def inside_request_volume(self, tile: Tile) -> bool:
        if tile.request_volume is None:
            return True
        c, r = tile.request_volume
        return float(np.linalg.norm(self.eye - np.asarray(c))) <= r


@dataclass
class Selection:
    """Tiles to draw now (their content is loaded), tiles to fetch (most wanted
    first) and the triangles / points drawn."""

    draw: list[Tile] = field(default_factory=list)
    fetch: list[Tile] = field(default_factory=list)
    triangles: int = 0
    points: int = 0
    #: tiles whose children are unknown and wanted (``expand=False``: the caller reads
    #: them, e.g. :class:`TileStream` in its pool), most wanted first
    expand: list[Tile] = field(default_factory=list)


def select_tiles(tileset: TileSet, view: View, loaded: Callable[[Tile], TileContent | None],
                 *, triangle_budget: int = 3_000_000, point_budget: int = 3_000_000,
                 expand: bool = True, tile_cost: int = 0, skip: bool = False) -> Selection:
    """Choose what to draw for ``view``.

    ``loaded(tile)`` gives a tile's content when it is in memory (None otherwise).
    A visible tile is refined while its SSE exceeds ``view.max_sse``, its children are
    known (``expand``: read them now when not) and the budgets allow; with REPLACE the
    tile itself is drawn until every visible child with content is loaded (no holes),
    with ADD it is drawn alongside. Tiles whose content is missing go to ``fetch``,
    ordered by SSE (largest first); the root is always wanted. ``tile_cost``: each
    drawn tile counts as that many more triangles against ``triangle_budget`` (a frame
    pays per draw call too); ``expand=False``: unknown children are not read here but
    listed in ``Selection.expand`` (most wanted first). ``skip`` (a view that waits for
    its tiles: off-screen renders, scripts): a REPLACE tile that gives way to its
    children, or whose children are still being read, is neither fetched nor drawn, so
    only the tiles of the final view are loaded (no coarse levels on the way down).
    """
    sel = Selection()
    wanted: list[tuple[float, int, Tile]] = []
    to_expand: list[tuple[float, int, Tile]] = []
    order = 0

    def want(tile: Tile, priority: float) -> None:
        nonlocal order
        order += 1
        wanted.append((-priority, order, tile))

    def ready(tile: Tile) -> bool:  # (content out of view: nothing to wait for)
        return tile.content is None or loaded(tile) is not None or \
            not view.content_visible(tile)

    def draw(tile: Tile) -> None:
        if tile.content is None or not view.inside_request_volume(tile) \
                or not view.content_visible(tile):
            return
        content = loaded(tile)
        if content is None:
            return
        sel.draw.append(tile)
        sel.triangles += content.triangle_count
        sel.points += content.point_count

    def over_budget() -> bool:
        return (sel.triangles + tile_cost * len(sel.draw) >= triangle_budget
                or sel.points >= point_budget)

    def visit(tile: Tile) -> None:
        if not view.visible(tile):
            return
        sse = view.sse(tile)
        kids: list[Tile] = tile.children or []
        # a tile without content of its own shows nothing: always look at its children
        # (an exporter's empty inner nodes with a geometric error would hide all)
        wants_kids = sse > view.max_sse or tile.content is None
        unknown = False  # children being read (in the stream's pool)
        if tile.children is None and wants_kids:
            if not expand:
                to_expand.append((-sse, len(to_expand), tile))
                unknown = True
            else:
                try:
                    kids = tileset.expand(tile)
                except LoadError as exc:
                    if str(exc) not in tileset.warnings:
                        tileset.warnings.append(str(exc))
                    kids = []
        refine = wants_kids and bool(kids) and not over_budget()
        passing = skip and tile.refine == "REPLACE" and (refine or unknown)
        if tile.content is not None and not ready(tile) and not passing:
            want(tile, sse + 1e6 * (tile.depth == 0))
        if not refine:
            if not passing:
                draw(tile)
            return
        visible = [k for k in kids if view.visible(k)]
        if tile.refine == "ADD":
            draw(tile)
            for k in sorted(visible, key=view.distance):
                visit(k)
            return
        # REPLACE: children only when every visible child (that has content) is ready
        if skip or all(_subtree_ready(k, ready) for k in visible):
            for k in sorted(visible, key=view.distance):
                visit(k)
        else:
            draw(tile)
            for k in visible:
                if k.content is not None and not ready(k):
                    want(k, view.sse(k))
                elif k.content is None:  # an empty node: its children are what shows
                    if k.children is None and not expand:
                        to_expand.append((-view.sse(k), len(to_expand), k))
                    for g in k.children or ():
                        if g.content is not None and not ready(g) and view.visible(g):
                            want(g, view.sse(g))

    visit(tileset.root)
    sel.fetch = [t for _, _, t in sorted(wanted, key=lambda w: (w[0], w[1]))]
    sel.expand = [t for _, _, t in sorted(to_expand, key=lambda w: (w[0], w[1]))]
    return sel


def _subtree_ready(tile: Tile, ready: Callable[[Tile], bool]) -> bool:
    """A child can replace its parent when its content is loaded, or, having none,
    when its own children are known and ready (one level down)."""
    if tile.content is not None:
        return ready(tile)
    if tile.children is None:
        return False
    return all(ready(k) for k in tile.children if k.content is not None)


# ---- streaming -----------------------------------------------------------------
class TileStream:
    """A TileSet's loaded contents: a byte-bounded LRU cache filled in the background.

    ``update(view)`` selects (:func:`select_tiles`), schedules up to ``max_requests``
    fetches at a time on a thread pool and returns the :class:`Selection`;
    ``on_loaded`` (any thread) is called when a fetch finished, so a window can
    redraw. Drawn tiles are never evicted by their own fetches. ``wait(view)`` loads
    until the selection is complete (off-screen renders, scripts, tests).
    """

    def __init__(self, tileset: TileSet, *, max_bytes: int = 768 * 2**20,
                 triangle_budget: int = 3_000_000, point_budget: int = 3_000_000,
                 workers: int = 2, max_requests: int = 4,
                 on_loaded: Callable[[], None] | None = None,
                 prepare: Callable[[Tile, TileContent], None] | None = None) -> None:
        self.tileset = tileset
        self.max_bytes = int(max_bytes)
        self.triangle_budget = int(triangle_budget)
        self.point_budget = int(point_budget)
        #: triangles each drawn tile counts for beyond its own (see select_tiles)
        self.tile_cost = 0
        self.max_requests = max_requests
        self.on_loaded = on_loaded
        #: called in the loading thread with each loaded (tile, content) before it is
        #: cached: a viewer builds its draw data there (``content.prepared``), off the
        #: GUI thread; an exception in it is ignored (the viewer builds it later)
        self.prepare = prepare
        #: tiles whose children are being read in the pool (selection never reads them
        #: on the caller's thread: an OSGB child file or an external tileset may be slow)
        self._expanding: dict[int, Future] = {}
        #: id(tile) -> (tile, content, the bytes counted for it when cached)
        self._cache: OrderedDict[int, tuple[Tile, TileContent, int]] = OrderedDict()
        self._failed: set[int] = set()
        #: id(tile) -> (failed reads of its children, monotonic time of the next one):
        #: a transient failure (:func:`transient`) is read again after a back-off
        self._retry: dict[int, tuple[int, float]] = {}
        self.retry_seconds = RETRY_SECONDS
        self._pending: dict[int, Future] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="realscene-tiles",
                                        initializer=_lower_priority)
        self._closed = False
        self._drawn: set[int] = set()
        self.last: Selection | None = None
        #: tiles loaded so far (a counter for progress and tests)
        self.loads = 0

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending or self._expanding)

    def stats(self) -> dict[str, int]:
        """What a status line shows: tiles drawn (last selection), loaded (in the
        cache), pending (being fetched), failed, and the cache's bytes."""
        with self._lock:
            sel = self.last
            return {"drawn": len(sel.draw) if sel is not None else 0,
                    "loaded": len(self._cache), "pending": len(self._pending),
                    "failed": len(self._failed), "bytes": self._bytes}

    def content(self, tile: Tile) -> TileContent | None:
        with self._lock:
            hit = self._cache.get(id(tile))
            if hit is None:
                return None
            self._cache.move_to_end(id(tile))
            return hit[1]

    def _loaded(self, tile: Tile) -> TileContent | None:
        if id(tile) in self._failed:
            return TileContent()  # a failed tile draws as empty, not as a hole forever
        return self.content(tile)

    def update(self, view: View, skip: bool = False) -> Selection:
        """Select for ``view`` and start the reads it wants (``skip``: only the tiles of
        the final view, see :func:`select_tiles`)."""
        sel = select_tiles(self.tileset, view, self._loaded,
                           triangle_budget=self.triangle_budget,
                           point_budget=self.point_budget, expand=False,
                           tile_cost=self.tile_cost, skip=skip)
        self._drawn = {id(t) for t in sel.draw}
        self.last = sel
        now = _monotonic()
        for tile in sel.expand:
            with self._lock:
                if len(self._expanding) >= self.max_requests or self._closed:
                    break
                if id(tile) in self._expanding or self._retry.get(id(tile), (0, 0.0))[1] > now:
                    continue
                self._expanding[id(tile)] = self._pool.submit(self._expand, tile)
        for tile in sel.fetch:
            with self._lock:
                if len(self._pending) >= self.max_requests:
                    break
                if id(tile) in self._pending or id(tile) in self._cache or self._closed:
                    continue
                self._pending[id(tile)] = self._pool.submit(self._fetch, tile)
        return sel

    def wait(self, view: View, timeout: float = 120.0,
             progress: Callable[[float, str], None] | None = None) -> Selection:
        """Select and load until nothing more is wanted (or ``timeout`` seconds): only
        the tiles the view shows are read, not the coarser ones on the way down."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            sel = self.update(view, skip=True)
            with self._lock:
                pending = [*self._pending.values(), *self._expanding.values()]
                retry_at = min((self._retry.get(id(t), (0, 0.0))[1] for t in sel.expand),
                               default=0.0)
            if not sel.fetch and not sel.expand and not pending:
                return sel
            if time.monotonic() > deadline:
                return sel
            if not pending and retry_at > time.monotonic():  # children read again later
                time.sleep(min(retry_at, deadline) - time.monotonic() + 0.001)
                continue
            if progress is not None:
                progress(0.5, f"{self.loads} tiles loaded")
            for fut in pending:
                try:
                    fut.result(timeout=max(deadline - time.monotonic(), 0.01))
                except Exception:  # noqa: BLE001 - recorded by _fetch
                    pass

    def _expand(self, tile: Tile) -> None:
        """Pool: read ``tile``'s children (a failure: a leaf, said once in the warnings)."""
        retry_in = 0.0
        try:
            self.tileset.expand(tile)
        except BaseException as exc:  # noqa: BLE001 - a tile must never kill the stream
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            msg = str(exc) if isinstance(exc, LoadError) else (
                f"{self.tileset.source}: tile {tile.key}: {type(exc).__name__}: {exc}")[:400]
            with self._lock:
                failures = self._retry.get(id(tile), (0, 0.0))[0] + 1
                if transient(exc) and failures < RETRY_ATTEMPTS:
                    # read again after a back-off (a drawn leaf meanwhile), not never
                    retry_in = float(self.retry_seconds) * 2 ** (failures - 1)
                    self._retry[id(tile)] = (failures, _monotonic() + retry_in)
            if not retry_in:
                with self.tileset._lock:
                    if tile.children is None:
                        tile.children = []
            if msg not in self.tileset.warnings:
                self.tileset.warnings.append(msg)
        finally:
            with self._lock:
                self._expanding.pop(id(tile), None)
        if retry_in and self.on_loaded is not None and not self._closed:
            # nothing else may ask for a frame when the back-off ends: a timer does
            timer = threading.Timer(retry_in, self._retry_due)
            timer.daemon = True
            timer.start()
        callback = self.on_loaded
        if callback is not None and not self._closed:
            callback()

    def _retry_due(self) -> None:
        callback = self.on_loaded
        if callback is not None and not self._closed:
            callback()

    def _fetch(self, tile: Tile) -> None:
        try:
            content = self.tileset.load(tile, cancel=lambda: self._closed)
            if self.prepare is not None and not self._closed:
                try:
                    self.prepare(tile, content)
                except Exception:  # noqa: BLE001 - the viewer builds it on its own later
                    content.prepared = None
        except LoadError as exc:
            with self._lock:
                self._failed.add(id(tile))
                self._pending.pop(id(tile), None)
            if str(exc) not in self.tileset.warnings:
                self.tileset.warnings.append(str(exc))
        except BaseException as exc:  # noqa: BLE001 - a tile must never kill the stream
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            with self._lock:
                self._failed.add(id(tile))
                self._pending.pop(id(tile), None)
            msg = f"{self.tileset.source}: tile {tile.key}: {type(exc).__name__}: {exc}"
            if msg not in self.tileset.warnings:
                self.tileset.warnings.append(msg[:400])
        else:
            with self._lock:
                self._pending.pop(id(tile), None)
                if self._closed:
                    return
                size = content.nbytes
                self._cache[id(tile)] = (tile, content, size)
                self._bytes += size
                self.loads += 1
                self._evict()
        callback = self.on_loaded
        if callback is not None:
            callback()

    def _evict(self) -> None:
        """Drop least-recently-used contents beyond ``max_bytes`` (never drawn ones)."""
        for key in list(self._cache):
            if self._bytes <= self.max_bytes:
                break
            if key in self._drawn:
                continue
            _tile, _content, size = self._cache.pop(key)
            self._bytes -= size

    def drawn(self) -> Iterable[tuple[Tile, TileContent]]:
        """(tile, content) of the last selection's drawn tiles."""
        sel = self.last
        if sel is None:
            return []
        out = []
        for t in sel.draw:
            c = self._loaded(t)
            if c is not None:
                out.append((t, c))
        return out

    def close(self, wait: float = 0.0) -> None:
        """Stop loading and drop the cache; ``wait``: at most that many seconds for the
        tile reads already running to end (a window closing: none keeps it alive)."""
        with self._lock:
            self._closed = True
            pending = [*self._pending.values(), *self._expanding.values()]
            self._cache.clear()
            self._bytes = 0
        for fut in pending:
            fut.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if wait > 0 and pending:
            from concurrent.futures import wait as wait_futures

            wait_futures(pending, timeout=wait)
