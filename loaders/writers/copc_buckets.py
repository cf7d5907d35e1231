"""Out-of-core pieces of the COPC writer: raw point records spilled to bucket files.

Indexing a cloud bigger than memory (like Entwine, untwine and PotreeConverter do): the
first pass decodes the source chunk by chunk and appends every point's record to the file
of its octree cell at a fixed depth (a *bucket*); buckets that hold too many points are
split into their eight children, chunk by chunk. The second pass then loads a few buckets
at a time (a *unit*: the largest octree node that fits the memory setting) and builds its
subtree in memory. Everything lives in one temporary folder that the caller removes.

Records are stored as they will be written (LAS 1.4 point format 6/7/8 plus extra
bytes), so a bucket file is ``count * record_length`` bytes and X, Y, Z are the first
three little-endian int32 of each record.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

Key = tuple[int, int, int, int]  # octree node: (depth, x, y, z)

#: bytes of records buffered in memory before they are appended to their files
SPILL_BUFFER = 32 * 1024 * 1024
#: records read at a time when a bucket is split or re-spilled
READ_CHUNK = 500_000


class Cube:
    """The octree's cube: ``lo`` corner (scaled coordinates) and edge ``size``; turns
    integer LAS coordinates into cells at a depth."""

    def __init__(self, center: np.ndarray, halfsize: float, scale: np.ndarray,
                 offset: np.ndarray) -> None:
        self.center = np.asarray(center, np.float64)
        self.halfsize = float(halfsize)
        self.lo = self.center - self.halfsize
        self.size = 2.0 * self.halfsize
        self.scale = np.asarray(scale, np.float64)
        self.offset = np.asarray(offset, np.float64)

    def rel(self, ixyz: np.ndarray) -> tuple[np.ndarray, bool]:
        """Positions in [0, 1)³ of the cube and whether any point lay outside it."""
        rel = (ixyz * self.scale + self.offset - self.lo) / self.size
        outside = bool(len(rel)) and bool((rel.min() < 0.0) or (rel.max() >= 1.0))
        np.clip(rel, 0.0, np.nextafter(1.0, 0.0), out=rel)
        return rel, outside

    def node(self, key: Key) -> tuple[np.ndarray, float]:
        """(center, halfsize) of an octree node."""
        d, x, y, z = key
        half = self.halfsize / (1 << d)
        lo = self.lo + np.array([x, y, z], np.float64) * (2.0 * half)
        return lo + half, half


def xyz_ints(records: np.ndarray) -> np.ndarray:
    """(N, 3) int64 X, Y, Z of (N, record length) uint8 records."""
    return np.ascontiguousarray(records[:, :12]).view("<i4").reshape(-1, 3).astype(np.int64)


def cells(rel: np.ndarray, depth: int) -> np.ndarray:
    """(N, 3) int64 cell indices at ``depth`` of positions in [0, 1)³."""
    return (rel * (1 << depth)).astype(np.int64)


def ancestor(key: Key, depth: int) -> Key:
    s = key[0] - depth
    return (depth, key[1] >> s, key[2] >> s, key[3] >> s)


class Buckets:
    """Bucket files of raw records in ``folder``, keyed by octree node."""

    def __init__(self, folder: Path, record_length: int,
                 buffer_bytes: int = SPILL_BUFFER) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.record_length = int(record_length)
        self.buffer_bytes = int(buffer_bytes)
        self.counts: dict[Key, int] = {}
        self._pending: dict[Key, list[np.ndarray]] = {}
        self._pending_bytes = 0

    def path(self, key: Key) -> Path:
        return self.folder / "b{}_{}_{}_{}.bin".format(*key)

    def add(self, key: Key, records: np.ndarray) -> None:
        """Queue ``records`` for the bucket ``key`` (written when the buffer is full)."""
        if not len(records):
            return
        self._pending.setdefault(key, []).append(records)
        self.counts[key] = self.counts.get(key, 0) + len(records)
        self._pending_bytes += records.nbytes
        if self._pending_bytes >= self.buffer_bytes:
            self.flush()

    def add_cells(self, records: np.ndarray, cell: np.ndarray, depth: int) -> None:
        """Append each record to the bucket of its ``cell`` (N, 3) at ``depth``."""
        ids = (cell[:, 0] << (2 * depth)) | (cell[:, 1] << depth) | cell[:, 2]
        if depth <= 5:  # at most 2**15 buckets: numpy sorts 16-bit keys by radix
            ids = ids.astype(np.uint16)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        ends = np.r_[starts[1:], len(ids)]
        mask = (1 << depth) - 1
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            i = int(ids[s])
            key = (depth, i >> (2 * depth), (i >> depth) & mask, i & mask)
            self.add(key, records[order[s:e]])

    def flush(self) -> None:
        for key, parts in self._pending.items():
            with open(self.path(key), "ab") as fh:
                for part in parts:
                    fh.write(np.ascontiguousarray(part).data)
        self._pending.clear()
        self._pending_bytes = 0

    def read(self, key: Key, start: int = 0, count: int | None = None) -> np.ndarray:
        """Records ``start`` .. ``start + count`` of a (flushed) bucket."""
        total = self.counts.get(key, 0)
        count = total - start if count is None else min(count, total - start)
        if count <= 0:
            return np.zeros((0, self.record_length), np.uint8)
        data = np.fromfile(self.path(key), np.uint8, count=count * self.record_length,
                           offset=start * self.record_length)
        return data.reshape(-1, self.record_length)

    def chunks(self, key: Key, size: int = READ_CHUNK) -> Iterator[np.ndarray]:
        for start in range(0, self.counts.get(key, 0), size):
            yield self.read(key, start, size)

    def drop(self, key: Key) -> None:
        self.counts.pop(key, None)
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            pass


def respill(old: Buckets, new: Buckets, cube: Cube, depth: int,
            tick: Callable[[int], None] = lambda n: None) -> None:
    """Move every record of ``old`` into ``new``'s buckets at ``depth`` of ``cube``."""
    old.flush()
    for key in sorted(old.counts):
        for recs in old.chunks(key):
            rel, _ = cube.rel(xyz_ints(recs))
            new.add_cells(recs, cells(rel, depth), depth)
            tick(len(recs))
        old.drop(key)
    new.flush()


def split_big(buckets: Buckets, cube: Cube, max_points: int, max_depth: int,
              tick: Callable[[int], None] = lambda n: None) -> None:
    """Split buckets of more than ``max_points`` records into their children (chunk by
    chunk) until every bucket fits or reaches ``max_depth``."""
    buckets.flush()
    while True:
        big = [k for k, c in buckets.counts.items() if c > max_points and k[0] < max_depth]
        if not big:
            return
        for key in sorted(big):
            depth = key[0] + 1
            for recs in buckets.chunks(key):
                rel, _ = cube.rel(xyz_ints(recs))
                c = cells(rel, depth)
                # rounding at a face must not move a point out of its parent
                lo = np.array(key[1:], np.int64) * 2
                np.clip(c, lo, lo + 1, out=c)
                buckets.add_cells(recs, c, depth)
                tick(len(recs))
            buckets.drop(key)
            buckets.flush()


def plan_units(counts: dict[Key, int], unit_points: int
               ) -> tuple[dict[Key, list[Key]], dict[Key, int], dict[Key, list[Key]]]:
    """Group buckets into units: the shallowest node on each bucket's path whose points
    number at most ``unit_points`` (the bucket itself when even it is bigger).

    Returns ``(units, node_counts, coarse)``: each unit's buckets; the point count of
    every node down to the buckets; and for every coarse node (a proper ancestor of a
    unit, sampled across units) the units below it.
    """
    node_counts: dict[Key, int] = {}
    for key, c in counts.items():
        for d in range(key[0] + 1):
            a = ancestor(key, d)
            node_counts[a] = node_counts.get(a, 0) + c
    units: dict[Key, list[Key]] = {}
    for key in counts:
        unit = key
        for d in range(key[0] + 1):
            a = ancestor(key, d)
            if node_counts[a] <= unit_points:
                unit = a
                break
        units.setdefault(unit, []).append(key)
    coarse: dict[Key, list[Key]] = {}
    for unit in units:
        for d in range(unit[0]):
            coarse.setdefault(ancestor(unit, d), []).append(unit)
    return units, node_counts, coarse


def quotas(coarse: dict[Key, list[Key]], node_counts: dict[Key, int],
           leaf_points: int) -> dict[tuple[Key, Key], int]:
    """How many points each unit gives each coarse node above it: ``leaf_points`` shared
    in proportion to the units' point counts (largest remainders)."""
    out: dict[tuple[Key, Key], int] = {}
    for node, units in coarse.items():
        weights = np.array([node_counts[u] for u in units], np.float64)
        share = leaf_points * weights / max(weights.sum(), 1.0)
        base = np.floor(share).astype(np.int64)
        left = int(leaf_points - base.sum())
        if left > 0:
            base[np.argsort(-(share - base), kind="stable")[:left]] += 1
        for u, q in zip(units, base.tolist(), strict=True):
            out[(node, u)] = int(q)
    return out


def take_coarse(rel: np.ndarray, alive: np.ndarray, order: np.ndarray, depth: int,
                gbits: int, quota: int) -> np.ndarray:
    """Indices of the points a unit gives a coarse node at ``depth``: one point per cell
    of the node's grid (the first in the random ``order``, a permutation of the points),
    at most ``quota`` of them (the first in ``order``), among the ``alive`` points."""
    if quota <= 0:
        return np.zeros(0, np.int64)
    idx = order[alive[order]]
    shift = depth + gbits
    c = (rel[idx] * float(1 << shift)).astype(np.int64)
    cid = (c[:, 0] << (2 * shift)) | (c[:, 1] << shift) | c[:, 2]
    _, first = np.unique(cid, return_index=True)
    return idx[np.sort(first)[:quota]]


__all__ = ["Buckets", "Cube", "ancestor", "cells", "plan_units", "quotas", "respill",
           "split_big", "take_coarse", "xyz_ints"]
