"""Level-of-detail point sources (no Qt, no VTK).

INTERFACE shared by the in-memory octree (built on load) and the COPC reader (local
file or HTTP range requests). The renderer only talks to this interface.

A source is an octree of nodes keyed like COPC/EPT: ``(depth, ix, iy, iz)``; the root
is ``(0, 0, 0, 0)`` and the children of ``(d, x, y, z)`` are
``(d+1, 2x+i, 2y+j, 2z+k)``. Each node holds a spatially uniform subsample of its cell,
and a node plus all its ancestors together give a uniform sample of the node's cell at
that node's density (Potree/COPC "additive" LOD). So drawing a set of nodes that is
closed under "parent of" shows every region at the density of its deepest drawn node.

Coordinates: node bounds and node point positions are *local* float32/float64 values
relative to ``source.origin`` (float64), exactly like :class:`PointCloud`.

class LodNode:                      (dataclass)
    key: tuple[int, int, int, int]
    lo, hi: np.ndarray              float64 (3,) cell bounds, local coordinates
    point_count: int
    children: list[key]             keys of existing children (may be filled lazily)

class LodSource:                    (abstract)
    origin: np.ndarray              float64 (3,)
    crs: pyproj.CRS | None
    metadata: dict                  format, source, header counts, warnings ...
    total_points: int
    attribute_names: list[str]      e.g. ["rgb", "intensity", "classification", ...]
    root: key = (0, 0, 0, 0)
    def node(key) -> LodNode
    def children(key) -> list[LodNode]      may block briefly (COPC hierarchy page)
    def is_resident(key) -> bool            get(key) would return without I/O
    def get(key) -> PointCloud              the node's own points; thread-safe; may block
                                            on I/O (COPC); raises LoadError on failure
    def preview(max_points=200_000) -> PointCloud
                                            the top levels as one cloud (for legends,
                                            colour ranges, properties, first frame)
    def close() -> None
"""

from __future__ import annotations

import heapq
import mmap
import sys
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .types import LoadError, PointCloud, ProgressFn, loaded_attributes

Key = tuple[int, int, int, int]
ROOT: Key = (0, 0, 0, 0)

#: default largest number of points a node takes before the rest goes deeper
DEFAULT_CAPACITY = 8192
#: deepest octree level of the in-memory build (Morton codes of 3 x 10 bits, uint32);
#: a node at this level takes all its points, even more than the capacity
MAX_DEPTH = 10
#: nodes whose bounding sphere projects to fewer pixels (radius) are not refined
DEFAULT_MIN_PIXELS = 64.0


@dataclass
class LodNode:
    """One octree node (see the module docstring)."""

    key: Key
    lo: np.ndarray
    hi: np.ndarray
    point_count: int
    children: list[Key] = field(default_factory=list)


@dataclass
class NodeTable:
    """All nodes of a source as flat arrays (optional fast path for :func:`select_nodes`).

    ``children[i]`` lists row numbers; row 0 is the root.
    """

    keys: list[Key]
    lo: np.ndarray  # (n, 3) float64
    hi: np.ndarray  # (n, 3) float64
    counts: np.ndarray  # (n,) int64
    children: list[list[int]]


class LodSource(ABC):
    """Abstract level-of-detail point source (see the module docstring)."""

    origin: np.ndarray
    crs: Any = None
    metadata: dict
    total_points: int
    attribute_names: list[str]
    root: Key = ROOT

    @abstractmethod
    def node(self, key: Key) -> LodNode: ...

    @abstractmethod
    def children(self, key: Key) -> list[LodNode]: ...

    @abstractmethod
    def is_resident(self, key: Key) -> bool: ...

    @abstractmethod
    def get(self, key: Key) -> PointCloud: ...

    @abstractmethod
    def preview(self, max_points: int = 200_000) -> PointCloud: ...

    def close(self) -> None:  # noqa: B027 - optional
        """Release files / connections (default: nothing to do)."""

    # -- optional extras (defaults work for every source) ------------------------------
    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Tight (lo, hi) local bounds of the points, float64; default the root cell."""
        root = self.node(self.root)
        return np.asarray(root.lo, np.float64), np.asarray(root.hi, np.float64)

    def node_table(self) -> NodeTable | None:
        """Every node as flat arrays when the whole hierarchy is known (else None)."""
        return None


# --------------------------------------------------------------------------------------
# In-memory octree
# --------------------------------------------------------------------------------------


def _spread_table() -> np.ndarray:
    """Table spreading the MAX_DEPTH bits of v so bit k moves to bit 3k (uint32)."""
    v = np.arange(1 << MAX_DEPTH, dtype=np.uint32)
    out = np.zeros_like(v)
    for bit in range(MAX_DEPTH):
        out |= ((v >> np.uint32(bit)) & np.uint32(1)) << np.uint32(3 * bit)
    return out


_SPREAD: np.ndarray | None = None
_SPREAD_LOCK = threading.Lock()


def _spread() -> np.ndarray:
    global _SPREAD
    with _SPREAD_LOCK:
        if _SPREAD is None:
            _SPREAD = _spread_table()
        return _SPREAD


def _compact(code: np.ndarray) -> np.ndarray:
    """Inverse of the spread: every third bit of ``code`` (uint64) -> int64."""
    code = code.astype(np.uint64)
    out = np.zeros(code.shape, np.int64)
    for bit in range(21):
        out |= ((code >> np.uint64(3 * bit)) & np.uint64(1)).astype(np.int64) << bit
    return out


class OctreeSource(LodSource):
    """An octree over an in-memory :class:`PointCloud` (built by :func:`build_octree`).

    The cloud is reordered so that every node is a contiguous slice
    ``cloud.positions[start:stop]`` (level by level, Morton order within a level);
    :meth:`get` returns zero-copy views. ``cloud`` is the (reordered) cloud itself.
    """

    def __init__(self, cloud: PointCloud, cube_lo: np.ndarray, cube_size: float,
                 keys: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                 bounds: tuple[np.ndarray, np.ndarray], capacity: int) -> None:
        self.cloud = cloud
        self.origin = np.asarray(cloud.origin, np.float64)
        self.crs = cloud.crs
        self.metadata = cloud.metadata
        self.total_points = cloud.point_count
        self.attribute_names = list(cloud.attributes)
        self.capacity = int(capacity)
        self.cube_lo = np.asarray(cube_lo, np.float64)
        self.cube_size = float(cube_size)
        self._bounds = (np.asarray(bounds[0], np.float64), np.asarray(bounds[1], np.float64))
        n = len(keys)
        self._keys: list[Key] = [tuple(int(v) for v in k) for k in keys]  # type: ignore[misc]
        self._index = {k: i for i, k in enumerate(self._keys)}
        self._starts = np.asarray(starts, np.int64)
        self._counts = np.asarray(counts, np.int64)
        depth = np.asarray(keys, np.int64).reshape(n, 4)
        size = self.cube_size / (2.0 ** depth[:, 0])
        self._lo = self.cube_lo + depth[:, 1:] * size[:, None]
        self._hi = self._lo + size[:, None]
        children: list[list[int]] = [[] for _ in range(n)]
        for i, (d, x, y, z) in enumerate(self._keys):
            if d:
                parent = self._index.get((d - 1, x >> 1, y >> 1, z >> 1))
                if parent is not None:
                    children[parent].append(i)
        self._children = children
        self._table = NodeTable(self._keys, self._lo, self._hi, self._counts, children)

    # -- LodSource ---------------------------------------------------------------------
    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self._bounds

    @property
    def keys(self) -> list[Key]:
        """Every node key, level by level."""
        return list(self._keys)

    def node_table(self) -> NodeTable:
        return self._table

    def _row(self, key: Key) -> int:
        try:
            return self._index[tuple(key)]  # type: ignore[index]
        except KeyError:
            raise KeyError(f"no octree node {key!r}") from None

    def node(self, key: Key) -> LodNode:
        i = self._row(key)
        return LodNode(self._keys[i], self._lo[i].copy(), self._hi[i].copy(),
                       int(self._counts[i]), [self._keys[c] for c in self._children[i]])

    def children(self, key: Key) -> list[LodNode]:
        return [self.node(self._keys[c]) for c in self._children[self._row(key)]]

    def is_resident(self, key: Key) -> bool:
        return True

    def node_slice(self, key: Key) -> tuple[int, int]:
        """(start, stop) of the node's points in ``cloud``."""
        i = self._row(key)
        start = int(self._starts[i])
        return start, start + int(self._counts[i])

    def _slice(self, start: int, stop: int, step: int = 1) -> PointCloud:
        c = self.cloud
        sl = slice(start, stop, step)
        return PointCloud(c.positions[sl], c.origin,
                          {k: v[sl] for k, v in loaded_attributes(c).items()}, c.crs,
                          c.metadata)

    def get(self, key: Key) -> PointCloud:
        return self._slice(*self.node_slice(key))

    def preview(self, max_points: int = 200_000) -> PointCloud:
        """Whole top levels (a zero-copy prefix of the reordered cloud) holding at most
        ``max_points``; a strided subset of the root when the root alone is larger."""
        depth = np.array([k[0] for k in self._keys], np.int64)
        level_end = np.cumsum(np.bincount(depth, weights=self._counts)).astype(np.int64)
        fits = level_end[level_end <= max(int(max_points), 1)]
        stop = int(fits[-1]) if len(fits) else int(level_end[0])
        step = max(1, -(-stop // max(int(max_points), 1)))
        return self._slice(0, stop, step)

    @property
    def depth(self) -> int:
        return max((k[0] for k in self._keys), default=0)

    def __repr__(self) -> str:
        return (f"OctreeSource({self.total_points} points, {len(self._keys)} nodes, "
                f"depth {self.depth})")


def _report(progress: ProgressFn | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(float(fraction), message)


def _morton_codes(pos: np.ndarray, cube_lo: np.ndarray, size: float) -> np.ndarray:
    """Morton codes (3 x MAX_DEPTH bits, uint32) of the cells of ``pos`` in the cube."""
    n = len(pos)
    cells = 1 << MAX_DEPTH
    scale = np.float32(cells / size)
    spread = _spread()
    code = np.zeros(0, np.uint32)
    q = np.empty(n, np.float32)
    qi = np.empty(n, np.intp)
    for axis in range(3):
        np.subtract(pos[:, axis], np.float32(cube_lo[axis]), out=q)
        np.multiply(q, scale, out=q)
        np.clip(q, np.float32(0), np.float32(cells - 1), out=q)
        np.copyto(qi, q, casting="unsafe")
        part = spread[qi]  # 3 table lookups + ORs (faster than np.take(out=...))
        if axis:
            np.left_shift(part, axis, out=part)
            np.bitwise_or(code, part, out=code)
        else:
            code = part
        del part
    return code


_HI, _LO = (1, 0) if sys.byteorder == "little" else (0, 1)  # words of a uint64 key
#: points handled per step by the chunked passes (Morton codes, permutations)
CHUNK = 1 << 18


class KeyBuffer:
    """``n`` uint64 sort keys (high word: the point's Morton code, low word: its index) in
    an anonymous private mapping of its own, so that once the keys have become a uint32
    permutation its upper half can be handed back to the system (``madvise``) instead of
    staying allocated: the octree build then never holds more than 8 bytes a point of
    its own (:func:`octree_order`)."""

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self._mm: mmap.mmap | None = mmap.mmap(
            -1, max(8 * self.n, mmap.PAGESIZE),
            flags=mmap.MAP_PRIVATE | getattr(mmap, "MAP_ANONYMOUS", 0x20))
        self.keys = np.frombuffer(self._mm, np.uint64, count=self.n)

    @property
    def words(self) -> np.ndarray:
        """(n, 2) uint32 view of the keys."""
        return self.keys.view(np.uint32).reshape(self.n, 2)

    def fill(self, pos: np.ndarray, cube_lo: np.ndarray, size: float, start: int = 0,
             index_start: int | None = None) -> None:
        """Keys of the points ``pos`` (float32 (m, 3)) stored at ``start``..: their Morton
        codes in the cube and their indices (``index_start``.., default ``start``..)."""
        first = start if index_start is None else int(index_start)
        words = self.words
        for a in range(0, len(pos), CHUNK):
            b = min(a + CHUNK, len(pos))
            words[start + a:start + b, _HI] = _morton_codes(pos[a:b], cube_lo, size)
            words[start + a:start + b, _LO] = np.arange(first + a, first + b,
                                                        dtype=np.uint32)

    def fill_parallel(self, pos: np.ndarray, cube_lo: np.ndarray, size: float,
                      threads: int = 0) -> None:
        """:meth:`fill` of all of ``pos`` split over ``threads`` threads (default
        :data:`BUILD_THREADS`)."""
        threads = threads or BUILD_THREADS
        n = len(pos)
        if threads <= 1 or n < 2 * CHUNK:
            self.fill(pos, cube_lo, size)
            return
        from concurrent.futures import ThreadPoolExecutor

        cuts = [n * i // threads // CHUNK * CHUNK for i in range(threads)] + [n]
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda ab: self.fill(pos[ab[0]:ab[1]], cube_lo, size, ab[0]),
                          zip(cuts[:-1], cuts[1:], strict=True)))

    def to_permutation(self, perm_words: np.ndarray) -> np.ndarray:
        """Compact the permutation written into the high words (``perm_words``) into the
        first half of the buffer, give the second half back; returns it (uint32, n)."""
        n = self.n
        flat = self.keys.view(np.uint32)
        for a in range(0, n, CHUNK):  # forward: the source (2i + hi) is never behind i
            b = min(a + CHUNK, n)
            flat[a:b] = flat[2 * a + _HI:2 * b + _HI:2]  # numpy buffers any overlap
        page = mmap.PAGESIZE
        cut = -(-4 * n // page) * page
        if self._mm is not None and cut < len(self._mm) and hasattr(self._mm, "madvise"):
            self._mm.madvise(mmap.MADV_DONTNEED, cut, len(self._mm) - cut)
        return flat[:n]


def sort_in_place(keys: np.ndarray, threads: int = 0) -> None:
    """Sort ``keys`` in place on ``threads`` threads (default :data:`BUILD_THREADS`): a
    partition at the median, then each side sorted by a thread of its own (numpy lets
    the GIL go while it sorts)."""
    threads = threads or BUILD_THREADS
    n = len(keys)
    if threads < 2 or n < 4 * CHUNK:
        keys.sort()
        return
    from concurrent.futures import ThreadPoolExecutor

    keys.partition(n // 2)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(np.ndarray.sort, [keys[:n // 2], keys[n // 2:]]))


def octree_order(kb: KeyBuffer, capacity: int = DEFAULT_CAPACITY,
                 progress: ProgressFn | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The octree's point order from filled keys (:meth:`KeyBuffer.fill`): ``(perm,
    node_keys, starts, counts)``; ``perm[i]`` is the index of the point that goes to place
    ``i`` (uint32, inside ``kb``'s buffer). The keys are sorted in place, cells are found
    by binary search in them, the permutation is written over them; besides the keys,
    only 4 bytes for each point of an inner node are held: a build costs its input's
    arrays plus about 11 bytes a point at its peak (8 of keys).

    The points are sorted once by the Morton code (3 x ``MAX_DEPTH`` bits) of their finest
    cell (ties in input order); then every cell, level by level from the root, keeps up to
    ``capacity`` of its remaining points, evenly spaced along that order (a spatially
    stratified sample); the rest goes to the children. A cell at the deepest level takes
    all its remaining points. Nodes come level by level, in Morton order within a level."""
    n = kb.n
    D = MAX_DEPTH
    keys = kb.keys
    sort_in_place(keys)  # unique keys (the index is in them): any sort is stable
    _report(progress, 0.3, "building level of detail: levels")

    def first_at(codes: np.ndarray, level: int) -> np.ndarray:
        """Sorted position of the first point whose level-``level`` cell is >= code."""
        bound = codes.astype(np.uint64) << np.uint64(3 * (D - level) + 32)
        return np.searchsorted(keys, bound).astype(np.int64)

    # per level: (cells, s, e, take, split, picks); picks (sorted positions, uint32) are
    # what the splitting cells keep, in node order; ``taken`` is every level's picks
    levels: list[tuple[np.ndarray, ...]] = []
    cells = np.zeros(1, np.uint64)
    s = np.zeros(1, np.int64)
    e = np.full(1, n, np.int64)
    steps = np.arange(capacity, dtype=np.int64)
    for level in range(D + 1):
        # taken points in each cell's range, from every coarser level's picks
        s32, e32 = s.astype(np.uint32), e.astype(np.uint32)  # (same dtype: no cast of p)
        before = [(p, np.searchsorted(p, s32), np.searchsorted(p, e32)) for *_, p in levels]
        del s32, e32
        inside = sum((te - ts for _, ts, te in before), np.zeros(len(s), np.int64))
        rem = (e - s) - inside
        split = rem > capacity if level < D else np.zeros(len(rem), bool)
        take = np.where(split, capacity, rem)
        picks = np.empty(int(np.count_nonzero(split)) * capacity, np.uint32)
        for i, j in enumerate(np.flatnonzero(split)):
            a = int(s[j])
            taken = np.concatenate([p[int(ts[j]):int(te[j])] for p, ts, te in before]) \
                if before else np.zeros(0, np.uint32)
            taken = np.sort(taken).astype(np.int64) - a  # taken positions, from a
            # evenly spaced remaining ranks; the r-th remaining position of the range
            # is r + #{i: taken[i] - i <= r}
            ranks = (steps * int(rem[j])) // capacity
            picks[i * capacity:(i + 1) * capacity] = ranks + np.searchsorted(
                taken - np.arange(len(taken)), ranks, side="right") + a
        del before
        levels.append((cells, s, e, take, split, picks))
        if level == D or not split.any():
            break
        # the children of the splitting cells that hold points
        child = (cells[split][:, None] * np.uint64(8) + np.arange(8, dtype=np.uint64)).ravel()
        cs = first_at(child, level + 1)
        ce = first_at(child + np.uint64(1), level + 1)
        has = ce > cs
        cells, s, e = child[has], cs[has], ce[has]
        _report(progress, 0.3 + 0.4 * (level + 1) / (D + 1),
                "building level of detail: levels")

    # the permutation, written over the keys (no longer needed): level by level, nodes
    # in Morton order; a splitting node's points are its picks, a leaf's the untaken
    # positions of its range
    words = kb.words
    order = words[:, _LO]  # sorted position -> input index (strided view)
    perm = words[:, _HI]
    all_picks = [picks for *_, picks in levels]  # each sorted (nodes in Morton order)
    node_keys, node_counts = [], []
    at = 0
    for level, (cells_l, s, e, take, split, picks) in enumerate(levels):
        exists = take > 0
        c = cells_l[exists]
        node_keys.append(np.column_stack([
            np.full(len(c), level, np.int64), _compact(c), _compact(c >> np.uint64(1)),
            _compact(c >> np.uint64(2))]))
        node_counts.append(take[exists].astype(np.int64))
        pick_at = 0
        for j in np.flatnonzero(exists):
            t = int(take[j])
            if split[j]:
                perm[at:at + t] = order[picks[pick_at:pick_at + t]]
                pick_at += t
            else:  # the positions of its range no coarser node took
                a, b = int(s[j]), int(e[j])
                keep = np.ones(b - a, bool)
                for p in all_picks[:level]:
                    lo_, hi_ = np.searchsorted(p, np.uint32(a)), np.searchsorted(p, np.uint32(b))
                    keep[p[lo_:hi_].astype(np.int64) - a] = False
                perm[at:at + t] = order[a:b][keep]
            at += t
    del levels, all_picks, order
    assert at == n
    keys_all = np.concatenate(node_keys)
    counts_all = np.concatenate(node_counts)
    starts_all = np.cumsum(counts_all) - counts_all
    return kb.to_permutation(perm), keys_all, starts_all, counts_all


def permute_in_place(arr: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """``arr[perm]`` written back into ``arr`` (column by column, gathering from a copy of
    the column), so that reordering a cloud costs one column, not a second copy;
    returns ``arr`` (a copy when ``arr`` is read-only)."""
    if not arr.flags.writeable:
        return np.take(arr, perm, axis=0)
    cols = _columns(arr)
    if cols is None:
        arr[...] = np.take(arr, perm, axis=0)
        return arr
    for col in cols:
        _permute_column(col, perm)
    return arr


def _columns(arr: np.ndarray) -> list[np.ndarray] | None:
    """The columns a reorder gathers one at a time: a row of up to 4 bytes (RGB) is one
    (its copy is no bigger than a float column's, and one gather does it)."""
    if arr.ndim == 2 and arr.flags.c_contiguous and 1 < arr.shape[1] * arr.itemsize <= 4:
        return [arr.view(f"V{arr.shape[1] * arr.itemsize}").reshape(-1)]
    return [arr] if arr.ndim == 1 else [arr[:, j] for j in range(arr.shape[1])] \
        if arr.ndim == 2 else None


def _permute_column(col: np.ndarray, perm: np.ndarray, pool: Any = None,
                    threads: int = 1) -> None:
    """Gather from a contiguous copy of the column (fast), in blocks; with a thread
    ``pool``, the blocks are shared among ``threads`` threads (one copy of the column)."""
    source = col.copy()
    n = len(perm)

    def run(lo: int, hi: int) -> None:
        for a in range(lo, hi, CHUNK):
            b = min(a + CHUNK, hi)
            col[a:b] = source.take(perm[a:b], mode="clip")

    if pool is None or threads <= 1 or n < 2 * CHUNK:
        run(0, n)
        return
    cuts = [n * i // threads // CHUNK * CHUNK for i in range(threads)] + [n]
    list(pool.map(lambda ab: run(*ab), zip(cuts[:-1], cuts[1:], strict=True)))


#: threads of the reorder and the key fill (numpy lets the GIL go in both)
BUILD_THREADS = 2


def permute_all_in_place(arrays: list[np.ndarray], perm: np.ndarray,
                         threads: int = BUILD_THREADS) -> list[np.ndarray]:
    """:func:`permute_in_place` of several arrays, each column's gather shared among
    ``threads`` threads (one copy of one column at a time, as single-threaded); returns
    the arrays (copies for read-only ones)."""
    out = list(arrays)
    columns: list[np.ndarray] = []
    for i, arr in enumerate(arrays):
        cols = _columns(arr) if arr.flags.writeable else None
        if cols is None:
            out[i] = permute_in_place(arr, perm)
        else:
            columns += cols
    if threads <= 1 or len(perm) < 2 * CHUNK:
        for col in columns:
            _permute_column(col, perm)
        return out
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        for col in columns:
            _permute_column(col, perm, pool, threads)
    return out


def cloud_cube(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(lo, hi, cube_lo, size)``: the points' bounds and the octree's cube, centred on
    them (the cell grid is then symmetric). LoadError on non-finite positions."""
    # per column: much faster than pos.min(axis=0) on (n, 3) arrays
    lo = np.array([float(pos[:, a].min()) for a in range(3)])
    hi = np.array([float(pos[:, a].max()) for a in range(3)])
    return cube_of(lo, hi)


def cube_of(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """:func:`cloud_cube` of points whose bounds are known (float64 ``lo``, ``hi``: the
    float32 positions' own, or the cube differs)."""
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("non-finite point positions")
    size = max(float(np.max(hi - lo)) * (1.0 + 1e-6), 1e-6)
    return lo, hi, (lo + hi) / 2.0 - size / 2.0, size


def build_octree(cloud: PointCloud, progress: ProgressFn | None = None,
                 capacity: int = DEFAULT_CAPACITY) -> OctreeSource:
    """Build an in-memory octree over ``cloud`` and reorder the cloud in place.

    The order is :func:`octree_order`'s; every array of the cloud (positions and
    attributes) is then permuted in place (:func:`permute_in_place`: read-only arrays are
    replaced by reordered copies), so nodes are contiguous slices. The build costs the
    cloud plus about 9 bytes a point at its peak.

    In extremely dense spots (more than ``capacity`` points in a cube of 1/1024 of the
    extent) a deepest node may hold more than ``capacity`` points.

    A cloud of at most ``capacity`` points is a single root node and is not reordered.
    ``progress(fraction, message)`` may raise :class:`LoadCancelled`; the cloud is only
    modified at the very end, so a cancelled build leaves it as it was.
    """
    capacity = max(int(capacity), 1)
    pos = cloud.positions
    n = int(len(pos))
    _report(progress, 0.0, "building level of detail")
    if n == 0:
        z = np.zeros(3)
        return OctreeSource(cloud, z, 1.0, np.array([ROOT]), np.array([0]), np.array([0]),
                            (z, z), capacity)
    try:
        lo, hi, cube_lo, size = cloud_cube(pos)
    except ValueError as exc:
        raise LoadError(cloud.metadata.get("source", "point cloud"), str(exc),
                        "cannot build level of detail") from None
    if n <= capacity:
        return OctreeSource(cloud, cube_lo, size, np.array([ROOT]), np.array([0]),
                            np.array([n]), (lo, hi), capacity)
    if n >= 1 << 32:
        raise LoadError(cloud.metadata.get("source", "point cloud"),
                        "too many points", "cannot build level of detail")
    kb = KeyBuffer(n)
    kb.fill_parallel(pos, cube_lo, size)
    _report(progress, 0.15, "building level of detail: sorting")
    perm, keys_all, starts_all, counts_all = octree_order(kb, capacity, progress)
    _report(progress, 0.8, "building level of detail: reordering")
    names = list(cloud.attributes)
    done = permute_all_in_place([cloud.positions] + [cloud.attributes[k] for k in names],
                                perm)
    cloud.positions = done[0]
    for name, arr in zip(names, done[1:], strict=True):
        cloud.attributes[name] = arr
    del perm, kb
    _report(progress, 1.0, "level of detail ready")
    return OctreeSource(cloud, cube_lo, size, keys_all, starts_all, counts_all, (lo, hi),
                        capacity)


# --------------------------------------------------------------------------------------
# View-dependent selection
# --------------------------------------------------------------------------------------


def _eye_from_matrix(m: np.ndarray) -> np.ndarray | None:
    """Camera position of a perspective view-projection matrix (None if parallel)."""
    if np.linalg.norm(m[3, :3]) < 1e-12:
        return None
    a = m[[0, 1, 3], :3]
    b = -m[[0, 1, 3], 3]
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return None


@dataclass
class _Prepared:
    visible: np.ndarray  # bool per row
    priority: np.ndarray  # float per row (projected radius in pixels; inf if inside)


def _node_priorities(lo: np.ndarray, hi: np.ndarray, view_proj: np.ndarray,
                     model: np.ndarray, eye: np.ndarray | None,
                     viewport_height: float) -> _Prepared:
    """Frustum visibility and screen-space priority of boxes [lo, hi] (source-local)."""
    lo = np.asarray(lo, np.float64).reshape(-1, 3)
    hi = np.asarray(hi, np.float64).reshape(-1, 3)
    n = len(lo)
    mvp = view_proj @ model
    # eight corners, clip coordinates
    corners = np.empty((n, 8, 4))
    for c in range(8):
        pick = [(c >> a) & 1 for a in range(3)]
        pt = np.where(pick, hi, lo)
        corners[:, c, :] = pt @ mvp[:, :3].T + mvp[:, 3]
    x, y, w = corners[..., 0], corners[..., 1], corners[..., 3]
    outside = (np.all(w <= 0, axis=1)  # behind the camera (perspective)
               | np.all(w + x < 0, axis=1) | np.all(w - x < 0, axis=1)
               | np.all(w + y < 0, axis=1) | np.all(w - y < 0, axis=1))
    centre = (lo + hi) / 2.0
    lin = model[:3, :3]
    scale = float(np.max(np.linalg.svd(lin, compute_uv=False))) if n else 1.0
    radius = np.linalg.norm(hi - lo, axis=1) / 2.0 * scale
    centre_s = centre @ lin.T + model[:3, 3]
    fy = float(np.linalg.norm(view_proj[1, :3]))
    half_h = float(viewport_height) / 2.0
    if eye is None:  # parallel projection: constant scale
        prio = radius * fy * half_h
    else:
        dist = np.linalg.norm(centre_s - np.asarray(eye, np.float64), axis=1)
        with np.errstate(divide="ignore"):
            prio = radius * fy * half_h / np.maximum(dist, 1e-12)
        prio[dist <= radius] = np.inf
    return _Prepared(~outside, prio)


@dataclass
class Selection:
    """Result of :func:`select_nodes_multi` for one source."""

    keys: list[Key]
    point_count: int
    root_visible: bool


def select_nodes_multi(
    sources: Sequence[tuple[LodSource, np.ndarray]], view_proj: np.ndarray,
    viewport_height: float, budget: int, *, eye: Any = None,
    min_pixels: float = DEFAULT_MIN_PIXELS,
) -> list[Selection]:
    """Potree-style selection over several sources sharing one point budget.

    ``sources``: ``(source, model)`` pairs where ``model`` (4x4) maps the source's local
    coordinates to the coordinates of ``view_proj`` (4x4, to OpenGL clip space, e.g.
    VTK's composite projection matrix). ``eye``: camera position in those coordinates
    (derived from ``view_proj`` when None; None for parallel projection).

    Nodes are visited in order of projected bounding-sphere radius (pixels), largest
    first; nodes outside the frustum (side planes) are skipped, nodes smaller than
    ``min_pixels`` (except roots) are not refined; a node is taken only after its
    parent; selection stops at the first node that would exceed ``budget``.
    """
    view_proj = np.asarray(view_proj, np.float64)
    if eye is None:
        eye = _eye_from_matrix(view_proj)
    elif np.linalg.norm(view_proj[3, :3]) < 1e-12:
        eye = None  # parallel projection
    results = [Selection([], 0, False) for _ in sources]
    heap: list[tuple[float, int, int, Any]] = []
    tie = 0
    # per source: a function giving (visible, priority) for a list of child handles
    tables: list[tuple[NodeTable, _Prepared] | None] = []
    for s, (source, model) in enumerate(sources):
        model = np.eye(4) if model is None else np.asarray(model, np.float64)
        table = source.node_table()
        if table is not None and len(table.keys):
            prep = _node_priorities(table.lo, table.hi, view_proj, model, eye,
                                    viewport_height)
            tables.append((table, prep))
            if prep.visible[0]:
                results[s].root_visible = True
                heapq.heappush(heap, (-float(prep.priority[0]), tie, s, 0))
                tie += 1
        else:
            tables.append(None)
            root = source.node(source.root)
            prep = _node_priorities(root.lo, root.hi, view_proj, model, eye,
                                    viewport_height)
            if prep.visible[0]:
                results[s].root_visible = True
                heapq.heappush(heap, (-float(prep.priority[0]), tie, s, root))
                tie += 1
    models = [np.eye(4) if m is None else np.asarray(m, np.float64) for _, m in sources]
    total = 0
    budget = int(budget)
    while heap:
        _, _, s, handle = heapq.heappop(heap)
        entry = tables[s]
        if entry is not None:
            table, prep = entry
            count = int(table.counts[handle])
            if total + count > budget:
                break
            total += count
            results[s].keys.append(table.keys[handle])
            results[s].point_count += count
            for child in table.children[handle]:
                if prep.visible[child] and prep.priority[child] >= min_pixels:
                    heapq.heappush(heap, (-float(prep.priority[child]), tie, s, child))
                    tie += 1
        else:
            node: LodNode = handle
            if total + node.point_count > budget:
                break
            total += node.point_count
            results[s].keys.append(node.key)
            results[s].point_count += node.point_count
            kids = sources[s][0].children(node.key)
            if not kids:
                continue
            prep = _node_priorities(np.array([k.lo for k in kids]),
                                    np.array([k.hi for k in kids]), view_proj, models[s],
                                    eye, viewport_height)
            for k, kid in enumerate(kids):
                if prep.visible[k] and prep.priority[k] >= min_pixels:
                    heapq.heappush(heap, (-float(prep.priority[k]), tie, s, kid))
                    tie += 1
    return results


def select_nodes(source: LodSource, view_proj: np.ndarray, viewport_height: float,
                 budget: int, *, model: Any = None, eye: Any = None,
                 min_pixels: float = DEFAULT_MIN_PIXELS) -> list[Key]:
    """Keys of the nodes of ``source`` to draw for a view, at most ``budget`` points.

    ``view_proj`` maps the source's local coordinates (or, with ``model``, the
    coordinates ``model`` maps them to) to OpenGL clip space. See
    :func:`select_nodes_multi`.
    """
    return select_nodes_multi([(source, model)], view_proj, viewport_height, budget,
                              eye=eye, min_pixels=min_pixels)[0].keys


def look_at_view_proj(eye: Iterable[float], target: Iterable[float],
                      up: Iterable[float] = (0.0, 0.0, 1.0), fov_y_deg: float = 30.0,
                      aspect: float = 1.0, near: float = 0.1,
                      far: float = 1e6) -> np.ndarray:
    """An OpenGL perspective view-projection matrix (for tests and scripts)."""
    eye = np.asarray(list(eye), np.float64)
    f = np.asarray(list(target), np.float64) - eye
    f /= np.linalg.norm(f)
    s = np.cross(f, np.asarray(list(up), np.float64))
    s /= np.linalg.norm(s)
    u = np.cross(s, f)
    view = np.eye(4)
    view[0, :3], view[1, :3], view[2, :3] = s, u, -f
    view[:3, 3] = -view[:3, :3] @ eye
    t = 1.0 / np.tan(np.radians(fov_y_deg) / 2.0)
    proj = np.zeros((4, 4))
    proj[0, 0], proj[1, 1] = t / aspect, t
    proj[2, 2] = (far + near) / (near - far)
    proj[2, 3] = 2 * far * near / (near - far)
    proj[3, 2] = -1.0
    return proj @ view


__all__ = [
    "DEFAULT_CAPACITY", "DEFAULT_MIN_PIXELS", "Key", "LodNode", "LodSource", "NodeTable",
    "OctreeSource", "ROOT", "Selection", "build_octree", "look_at_view_proj",
    "select_nodes", "select_nodes_multi",
]
