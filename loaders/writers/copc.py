"""Index once, open fast: write a COPC 1.0 copy of any LAS/LAZ file RealScene can read.

>>> from loaders.writers.copc import write_copc
>>> out = write_copc("site.laz")            # -> site.copc.laz (or the cache folder)

The output is LAS 1.4, point format 6, 7 or 8 (formats 0-5 are converted: with RGB -> 7,
without -> 6; 9/10 lose their waveform packets -> 6/8), LAZ-compressed with one
variable-size chunk per octree node, the COPC info VLR first, the laszip VLR, the source's
Extra Bytes VLRs (extra bytes are copied verbatim), a WKT CRS VLR when the source has a
CRS, the LAZ chunk table and the hierarchy EVLR (split into pages every ``page_levels``
levels).

Octree (like Potree/untwine): the cube is the bounding box's enclosing cube. Level by
level, every node keeps one point per cell of a ``grid``³ grid over its cell (a random
point of each occupied cell, so the sample is spatially uniform), capped at
``leaf_points``; a node whose remaining points number at most ``leaf_points`` takes them
all and becomes a leaf. So each node plus its ancestors is a uniform sample at spacing
``2 * halfsize / grid / 2**depth``, and every point is stored exactly once.

Out of core, in bounded memory (like Entwine/untwine; :mod:`.copc_buckets`): pass 1
decodes the source ``CHUNK_POINTS`` at a time and spills each point's output record into a
temporary bucket file by its octree cell at a fixed depth (the cube comes from the
header's bounds; if points fall outside them, or they are far too wide, the buckets are
re-spilled once in the cube of the decoded bounds); buckets of more than ``unit_points``
are split into their children. Pass 2 loads one *unit* at a time (the shallowest node
holding at most ``unit_points``), gives each coarse node above it (nodes too big for
memory) its share of ``leaf_points`` (in proportion to the unit's points; one random point
per grid cell, as above), builds the rest of its subtree with :func:`build_copc_octree`
and compresses its chunks; the coarse nodes are written last from their own spill files.
Memory is therefore about ``unit_points`` x ~250 bytes plus a constant, whatever the size
of the file; a file of at most ``unit_points`` points gives exactly the in-memory octree.
The temporary folder sits next to the output and is removed in every case (error,
cancel). No allocation follows the header's point count.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..safety import UnsafePath, open_regular
from ..types import LoadCancelled, LoadError, ProgressFn

GRID = 128  # cells per node side (spacing of a level = node size / GRID)
LEAF_POINTS = 100_000  # node capacity
MAX_DEPTH = 12
PAGE_LEVELS = 6  # hierarchy levels per page
SOFTWARE = "RealScene COPC writer"
_BASE_SIZE = {6: 30, 7: 36, 8: 38}
#: points decoded per step of the first pass
CHUNK_POINTS = 500_000
#: most points held in memory at once while the octree is built (records, coordinates,
#: the octree's sort keys and the reordered copy); fewer under REALSCENE_MEMORY_BUDGET
UNIT_POINTS = 1_500_000
#: peak bytes a point of a unit costs, and the process's size without them (interpreter,
#: laspy/lazrs, pass 1's chunk and spill buffer). Measured: a 30M-point LAZ indexed in
#: 366 MiB with 1.5M-point units; with 350k-point units an 8M one in 200 MiB
UNIT_BYTES = 200
BASE_BYTES = 160 * 2**20
#: deepest level buckets are split to when one holds more than ``unit_points``
SPLIT_MAX_DEPTH = 8


def cache_dir() -> Path:
    """Where COPC copies go when the source folder is not writable."""
    env = os.environ.get("REALSCENE_CACHE_DIR")
    if env:
        return Path(env) / "copc"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "realscene" / "copc"


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".copc.laz", ".laz", ".las"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def default_copc_path(src: str | os.PathLike) -> Path:
    """NAME.copc.laz next to the source if that folder is writable, else in
    :func:`cache_dir` (with a hash of the source path in the name)."""
    src = Path(src).resolve()
    candidate = src.parent / f"{_stem(src)}.copc.laz"
    if candidate != src and os.access(src.parent, os.W_OK):
        return candidate
    digest = hashlib.sha1(str(src).encode("utf-8")).hexdigest()[:10]
    return cache_dir() / f"{_stem(src)}-{digest}.copc.laz"


def find_copc_index(src: str | os.PathLike) -> Path | None:
    """An up-to-date COPC copy of ``src`` written earlier (next to it or in the cache),
    or ``src`` itself when it already is COPC; None otherwise."""
    from ..copc import is_copc

    src = Path(src).resolve()
    if not src.is_file():
        return None
    if is_copc(src):
        return src
    digest = hashlib.sha1(str(src).encode("utf-8")).hexdigest()[:10]
    mtime = src.stat().st_mtime
    for cand in (src.parent / f"{_stem(src)}.copc.laz",
                 cache_dir() / f"{_stem(src)}-{digest}.copc.laz"):
        if cand != src and cand.is_file() and cand.stat().st_mtime >= mtime \
                and is_copc(cand):
            return cand
    return None


# --------------------------------------------------------------------------------------
# octree
# --------------------------------------------------------------------------------------


def build_copc_octree(xyz: np.ndarray, center: np.ndarray, halfsize: float, *,
                      grid: int = GRID, leaf_points: int = LEAF_POINTS,
                      max_depth: int = MAX_DEPTH, seed: int = 0,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Assign every point to one octree node.

    Returns ``(keys, node_of)``: ``keys`` (M, 4) int64 node keys (depth, x, y, z) in
    breadth-first order, ``node_of`` (N,) the index into ``keys`` of each point's node.
    """
    gbits = int(grid).bit_length() - 1
    if grid < 2 or (1 << gbits) != grid:
        raise ValueError("grid must be a power of two")
    if 3 * (max_depth + gbits) > 62:
        raise ValueError("max_depth too large for the grid")
    n = len(xyz)
    lo = np.asarray(center, np.float64) - halfsize
    rel = (np.asarray(xyz, np.float64) - lo) / (2.0 * halfsize)
    np.clip(rel, 0.0, np.nextafter(1.0, 0.0), out=rel)
    node_of = np.full(n, -1, np.int64)
    keys: list[np.ndarray] = []
    n_keys = 0
    rem = np.random.default_rng(seed).permutation(n)
    for d in range(max_depth + 1):
        if len(rem) == 0:
            break
        res = 1 << d
        r = rel[rem]
        nk = (r * res).astype(np.int64)
        nid = (nk[:, 0] << (2 * d)) | (nk[:, 1] << d) | nk[:, 2]
        uniq, inv, counts = np.unique(nid, return_inverse=True, return_counts=True)
        inv = inv.reshape(-1)
        leaf = counts <= leaf_points if d < max_depth else np.ones(len(uniq), bool)
        take = leaf[inv]
        inner = np.flatnonzero(~take)
        if len(inner):
            shift = d + gbits
            cells = (r[inner] * (res * grid)).astype(np.int64)
            cid = (cells[:, 0] << (2 * shift)) | (cells[:, 1] << shift) | cells[:, 2]
            _, first = np.unique(cid, return_index=True)  # a random point per cell
            chosen = inner[np.sort(first)]
            # cap interior nodes at leaf_points (volumetric data fills grid³ cells)
            owner = inv[chosen]
            order = np.argsort(owner, kind="stable")
            sorted_owner = owner[order]
            starts = np.searchsorted(sorted_owner, sorted_owner, side="left")
            rank = np.empty(len(chosen), np.int64)
            rank[order] = np.arange(len(chosen)) - starts
            take[chosen[rank < leaf_points]] = True
        used = np.zeros(len(uniq), bool)
        used[inv[take]] = True
        remap = np.cumsum(used) - 1 + n_keys
        level_keys = np.stack([np.full(len(uniq), d, np.int64), uniq >> (2 * d),
                               (uniq >> d) & (res - 1), uniq & (res - 1)], axis=1)[used]
        keys.append(level_keys)
        n_keys += len(level_keys)
        node_of[rem[take]] = remap[inv[take]]
        rem = rem[~take]
    return np.concatenate(keys) if keys else np.zeros((0, 4), np.int64), node_of


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def _pad(text: str, n: int) -> bytes:
    return text.encode("ascii", "replace")[:n].ljust(n, b"\x00")


def _vlr(user: str, rid: int, data: bytes, description: str = "") -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError("VLR too long")
    return struct.pack("<H16sHH32s", 0, _pad(user, 16), rid, len(data),
                       _pad(description, 32)) + data


def _copc_info_data(center, halfsize, spacing, root_offset, root_size, gps_min,
                    gps_max) -> bytes:
    return struct.pack("<3dddQQdd", *center, halfsize, spacing, root_offset, root_size,
                       gps_min, gps_max) + b"\x00" * 88


def _public_header(h: dict[str, Any]) -> bytes:
    today = h["date"]
    out = struct.pack(
        "<4sHH16sBB32s32sHHHIIBHI5I3d3d6dQQIQ15Q",
        b"LASF", h["file_source_id"], h["global_encoding"], h["guid"], 1, 4,
        _pad(h["system_identifier"], 32), _pad(SOFTWARE, 32),
        today.timetuple().tm_yday, today.year, 375, h["offset_to_points"], h["n_vlrs"],
        h["point_format"] | 0x80, h["record_length"], 0, 0, 0, 0, 0, 0,
        *h["scale"], *h["offset"],
        h["max"][0], h["min"][0], h["max"][1], h["min"][1], h["max"][2], h["min"][2],
        0, h["start_of_evlrs"], 1, h["point_count"], *h["by_return"])
    assert len(out) == 375
    return out


def _target_format(pf: int) -> int:
    if pf in (6, 7, 8):
        return pf
    return {0: 6, 1: 6, 2: 7, 3: 7, 4: 6, 5: 7, 9: 6, 10: 8}[pf]


def _convert_records(arr: np.ndarray, src_fmt, target: int, n_extra: int) -> np.ndarray:
    """(N, record length) uint8 records in ``target`` format from laspy's structured
    array of the source points; extra bytes are copied verbatim."""
    from laspy import PackedPointRecord, PointFormat

    n = len(arr)
    raw = arr.view(np.uint8).reshape(n, arr.dtype.itemsize)
    base_src = src_fmt.size - n_extra
    if src_fmt.id == target:
        return raw
    base = _BASE_SIZE[target]
    out = np.zeros((n, base + n_extra), np.uint8)
    if src_fmt.id in (9, 10):  # PF6/PF8 followed by the wave packet: keep the prefix
        out[:, :base] = raw[:, :base]
    else:
        src = PackedPointRecord(arr, src_fmt)
        dst = PackedPointRecord.zeros(n, PointFormat(target))
        src_dims = set(src_fmt.dimension_names)
        for name in ("X", "Y", "Z", "intensity", "return_number", "number_of_returns",
                     "scan_direction_flag", "edge_of_flight_line", "classification",
                     "synthetic", "key_point", "withheld", "user_data", "point_source_id",
                     "gps_time", "red", "green", "blue", "nir"):
            if name in src_dims and name in set(dst.point_format.dimension_names):
                dst[name] = np.asarray(src[name])
        if "scan_angle_rank" in src_dims:
            dst["scan_angle"] = np.clip(np.round(
                np.asarray(src["scan_angle_rank"], np.float64) / 0.006), -30000, 30000
            ).astype(np.int16)
        out[:, :base] = dst.array.view(np.uint8).reshape(n, base)
    if n_extra:
        out[:, base:] = raw[:, base_src:base_src + n_extra]
    return out


def _source_chunks(src: Path, info, reader, report, total: int):
    """Structured arrays of the source points, ``CHUNK_POINTS`` at a time (never more
    than the header's count in all, never allocated by that count)."""
    from ..formats import las

    done = 0
    try:
        for chunk in reader.chunk_iterator(CHUNK_POINTS):
            left = int(info.point_count) - done
            if left <= 0:
                break
            arr = np.asarray(chunk.array[:left])
            done += len(arr)
            yield arr
            report(0.5 * min(done, total) / total,
                   f"decoding: {_short(done)} of {_short(total)} points")
    except (LoadError, LoadCancelled):
        raise
    except BaseException as exc:
        las.reraise_fatal(exc)
        raise las.as_load_error(src, info, exc, "points") from None


def _short(n: float) -> str:
    """3.6M, 250k, 812."""
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e4:
        return f"{n / 1e3:.0f}k"
    return f"{int(n):,}"


def _header_cube(header, scale: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(center, halfsize) of the cube around the header's bounds, None if unusable."""
    try:
        lo = np.asarray(header.mins, np.float64)
        hi = np.asarray(header.maxs, np.float64)
    except Exception:  # noqa: BLE001 - a header without bounds: use the points'
        return None
    return _cube_around(lo, hi, scale)


def _cube_around(lo: np.ndarray, hi: np.ndarray, scale: np.ndarray
                 ) -> tuple[np.ndarray, float] | None:
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(hi >= lo)):
        return None
    center = (lo + hi) / 2.0
    halfsize = float(np.max(hi - lo)) / 2.0
    halfsize = halfsize * (1 + 1e-9) + float(np.max(np.abs(scale)))
    return center, halfsize


class _Stats:
    """What the header needs, gathered while decoding: count, integer bounds, GPS time
    range, points by return."""

    def __init__(self) -> None:
        self.n = 0
        self.imin = np.full(3, np.iinfo(np.int64).max, np.int64)
        self.imax = np.full(3, np.iinfo(np.int64).min, np.int64)
        self.gps_min, self.gps_max = np.inf, -np.inf
        self.by_return = np.zeros(16, np.int64)

    def add(self, arr: np.ndarray, fmt, ixyz: np.ndarray) -> None:
        self.n += len(arr)
        np.minimum(self.imin, ixyz.min(axis=0), out=self.imin)
        np.maximum(self.imax, ixyz.max(axis=0), out=self.imax)
        if "gps_time" in set(fmt.dimension_names):
            gps = np.asarray(arr["gps_time"], np.float64)
            self.gps_min = min(self.gps_min, float(gps.min()))
            self.gps_max = max(self.gps_max, float(gps.max()))
        rn = _return_numbers(arr, fmt).astype(np.int64)
        self.by_return += np.bincount(rn, minlength=16)[:16]


def _crs_wkt(header) -> tuple[str | None, str | None]:
    """(WKT text to store, crs source) of the source header's CRS."""
    from ..crs import crs_from_las_header, wkt_vlr_text

    crs, source, _ = crs_from_las_header(header)
    if crs is None:
        return None, None
    if source == "wkt":  # keep the original text
        for vlr in list(header.vlrs) + list(getattr(header, "evlrs", None) or []):
            if str(getattr(vlr, "user_id", "")).strip("\x00 ") in ("LASF_Projection",
                                                                     "liblas") \
                    and getattr(vlr, "record_id", None) == 2112:
                text = wkt_vlr_text(vlr)
                if text:
                    return text, source
    try:
        return crs.to_wkt("WKT1_GDAL"), source
    except Exception:
        return crs.to_wkt(), source


def write_copc(src_path: str | os.PathLike, out_path: str | os.PathLike | None = None,
               progress: ProgressFn | None = None, *, grid: int = GRID,
               leaf_points: int = LEAF_POINTS, page_levels: int = PAGE_LEVELS,
               max_depth: int = MAX_DEPTH, unit_points: int | None = None) -> Path:
    """Write a COPC copy of a LAS/LAZ file and return its path.

    ``out_path`` None: :func:`default_copc_path` (NAME.copc.laz next to the source, or
    the cache folder); if the source already is COPC it is returned as is. Runs in a
    worker thread: ``progress(fraction, message)`` may raise :class:`LoadCancelled`,
    which removes the partial output. Raises :class:`LoadError` for unreadable input or
    an unwritable output. ``unit_points`` (default :data:`UNIT_POINTS`) bounds the points
    held in memory at once (see the module notes); messages are ``"phase: detail"``.
    """
    import laspy
    import lazrs

    from ..formats import las

    report = progress or (lambda f, m: None)
    started = time.perf_counter()
    src = Path(src_path)
    if not src.exists():
        raise LoadError(src, "file not found", "check the path")
    if src.is_dir():
        raise LoadError(src, "is a folder, not a LAS/LAZ file")
    try:
        fh = open_regular(src)
    except UnsafePath as exc:
        raise LoadError(src, exc.reason, "index a regular LAS/LAZ file") from None
    with fh:
        if fh.read(4) != b"LASF":
            raise LoadError(src, "not a LAS/LAZ file (it does not start with 'LASF'); only "
                            "LAS and LAZ point clouds can be indexed to COPC",
                            "convert it to LAS/LAZ first")
    report(0.0, f"reading: header of {src.name}")
    info = las.parse_header(src)
    if out_path is None:
        if info.copc:
            report(1.0, "Already COPC")
            return src
        out = default_copc_path(src)
    else:
        out = Path(out_path)
    if out.exists() and out.resolve() == src.resolve():
        raise LoadError(out, "the output would overwrite the source file",
                        "choose another output path")
    if out.is_dir():
        raise LoadError(out, "the output is a folder", "give a file name like NAME.copc.laz")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(out.parent).free
    except OSError as exc:
        raise LoadError(out, f"cannot create the output folder: {exc.strerror or exc}") \
            from None
    # the spilled records (uncompressed) and the output (~ the size of a LAZ source)
    need = info.point_count * (_BASE_SIZE[_target_format(info.point_format)] + max(
        0, info.record_length - _src_point_size(info))) + info.file_size
    if need > free:
        raise LoadError(src, f"indexing needs about {need / 1e9:.1f} GB of free disk space "
                        f"next to the output ({free / 1e9:.1f} GB free)",
                        "free some space or write the COPC to another disk (-o)")
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise LoadError(out, f"cannot write next to the output: {exc.strerror or exc}") \
            from None
    unit_points = max(int(unit_points or _default_unit_points()), int(leaf_points), 1)
    tmp = out.with_name(out.name + ".part")
    try:
        try:
            reader = laspy.open(str(src))
        except BaseException as exc:
            las.reraise_fatal(exc)
            raise las.as_load_error(src, info, exc, "header") from None
        with reader:
            header = reader.header
            result = _write_streamed(src, out, tmp, work, info, header, reader, report,
                                     grid=grid, leaf_points=leaf_points,
                                     page_levels=page_levels, max_depth=max_depth,
                                     unit_points=unit_points, lazrs=lazrs)
        n, n_nodes = result
        report(0.97, "Checking the COPC file")  # a fixed text the window translates
        _quick_check(tmp, n)
        os.replace(tmp, out)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise LoadError(out, f"cannot write the COPC file: {exc.strerror or exc}",
                            "check free disk space and write permission") from None
        if isinstance(exc, MemoryError):
            raise LoadError(src, "not enough memory to index this file",
                            "give a smaller unit_points") from None
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(1.0, f"Wrote {out.name}: {n:,} points, {n_nodes:,} nodes in "
                f"{time.perf_counter() - started:.1f} s")
    return out


def _write_streamed(src: Path, out: Path, tmp: Path, work: Path, info, header, reader,
                    report: ProgressFn, *, grid: int, leaf_points: int, page_levels: int,
                    max_depth: int, unit_points: int, lazrs) -> tuple[int, int]:
    """The two passes (see the module notes); returns (points, nodes) written to
    ``tmp``."""
    from . import copc_buckets as cb

    gbits = int(grid).bit_length() - 1
    if grid < 2 or (1 << gbits) != grid:
        raise ValueError("grid must be a power of two")
    src_fmt = header.point_format
    n_extra = info.record_length - _src_point_size(info)
    target = _target_format(info.point_format)
    record_length = _BASE_SIZE[target] + n_extra
    scale = np.asarray(header.scales, np.float64)
    offset = np.asarray(header.offsets, np.float64)
    total = max(int(info.point_count), 1)
    split_depth = max(0, min(max_depth, SPLIT_MAX_DEPTH))
    depth0 = 0
    while depth0 < min(3, split_depth) and 8 ** depth0 * unit_points < 4 * total:
        depth0 += 1

    # pass 1: decode chunk by chunk, spill the records into buckets at depth0
    guess = _header_cube(header, scale)
    cube = cb.Cube(*(guess or (np.zeros(3), 1.0)), scale, offset)
    spill_depth = depth0 if guess else 0
    buckets = cb.Buckets(work / "pass1", record_length)
    stats = _Stats()
    outside = guess is None
    for arr in _source_chunks(src, info, reader, report, total):
        if not len(arr):
            continue
        records = _convert_records(arr, src_fmt, target, n_extra)
        ixyz = cb.xyz_ints(records)
        stats.add(arr, src_fmt, ixyz)
        del arr
        rel, out_of = cube.rel(ixyz)
        outside = outside or out_of
        buckets.add_cells(records, cb.cells(rel, spill_depth), spill_depth)
        del records, ixyz, rel
    buckets.flush()
    n = stats.n
    if n == 0:
        raise LoadError(src, "the file holds no points to index")
    imin, imax = stats.imin, stats.imax
    lo, hi = imin * scale + offset, imax * scale + offset
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    center, halfsize = _cube_around(lo, hi, scale)  # type: ignore[misc]
    moved = [0]

    def tick(k: int) -> None:
        moved[0] += k
        report(0.5 + 0.05 * min(moved[0], n) / n, f"sorting: {_short(min(moved[0], n))} "
               f"of {_short(n)} points")

    if outside or halfsize < 0.5 * cube.halfsize:  # the header's bounds were wrong
        cube = cb.Cube(center, halfsize, scale, offset)
        again = cb.Buckets(work / "pass1b", record_length)
        cb.respill(buckets, again, cube, depth0, tick)
        buckets = again
    moved[0] = 0
    cb.split_big(buckets, cube, unit_points, split_depth, tick)
    units, node_counts, coarse = cb.plan_units(buckets.counts, unit_points)
    share = cb.quotas(coarse, node_counts, leaf_points)
    samples = cb.Buckets(work / "coarse", record_length)

    wkt, _ = _crs_wkt(header)
    lazvlr = lazrs.LazVlr.new_for_compression(target, n_extra, True)
    vlrs = [b"", _vlr("laszip encoded", 22204, lazvlr.record_data(), "lazrs variable chunks")]
    for data in info.extra_bytes_vlrs:
        vlrs.append(_vlr("LASF_Spec", 4, data, "Extra Bytes Record"))
    if wkt:
        vlrs.append(_vlr("LASF_Projection", 2112, wkt.encode("utf-8") + b"\x00",
                         "OGC WKT Coordinate System"))
    vlrs[0] = _vlr("copc", 1, _copc_info_data(cube.center, cube.halfsize, 0, 0, 0, 0, 0),
                   "COPC info")
    offset_to_points = 375 + sum(len(v) for v in vlrs)
    by_return = [int(v) for v in stats.by_return[1:16]]
    head = {
        "file_source_id": int(header.file_source_id) & 0xFFFF,
        "global_encoding": (int(info.global_encoding) & 0x1) | 0x10,
        "guid": header.uuid.bytes_le if getattr(header, "uuid", None) else b"\x00" * 16,
        "system_identifier": info.system_identifier or "RealScene",
        "date": _dt.date.today(), "offset_to_points": offset_to_points,
        "n_vlrs": len(vlrs), "point_format": target, "record_length": record_length,
        "scale": scale.tolist(), "offset": offset.tolist(),
        "min": lo.tolist(), "max": hi.tolist(),
        "start_of_evlrs": 0, "point_count": n, "by_return": by_return,
    }

    keys: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    with open(tmp, "w+b") as f:
        f.write(_public_header(head))
        for v in vlrs:
            f.write(v)
        assert f.tell() == offset_to_points
        # one chunk a node; the chunks of one call are compressed in parallel
        compressor = lazrs.ParLasZipCompressor(f, lazvlr)

        def emit(blocks: list[np.ndarray]) -> None:
            compressor.compress_chunks([np.ascontiguousarray(b).reshape(-1)
                                        for b in blocks])

        # pass 2: one unit at a time: its share of the coarse nodes, then its subtree
        done = 0
        for seed, unit in enumerate(sorted(units)):
            records = np.concatenate([buckets.read(k) for k in sorted(units[unit])])
            for k in units[unit]:
                buckets.drop(k)
            ixyz = cb.xyz_ints(records)
            rel, _ = cube.rel(ixyz)
            alive = np.ones(len(records), bool)
            if unit[0]:
                shuffled = np.random.default_rng(10_007 + seed).permutation(len(records))
                for d in range(unit[0]):
                    node = cb.ancestor(unit, d)
                    taken = cb.take_coarse(rel, alive, shuffled, d, gbits,
                                           share[(node, unit)])
                    samples.add(node, records[taken])
                    alive[taken] = False
                del shuffled
            rest = np.flatnonzero(alive)
            if len(rest):
                ucenter, uhalf = cube.node(unit)
                xyz = ixyz[rest] * scale + offset
                del ixyz, rel
                ukeys, node_of = build_copc_octree(
                    xyz, ucenter, uhalf, grid=grid, leaf_points=leaf_points,
                    max_depth=max_depth - unit[0], seed=seed)
                del xyz
                ucounts = np.bincount(node_of, minlength=len(ukeys))
                block_of = rest[np.argsort(node_of, kind="stable")]
                del node_of
                sorted_records = records[block_of]
                del records, block_of
                bounds = np.concatenate([[0], np.cumsum(ucounts)])
                emit([sorted_records[bounds[i]:bounds[i + 1]] for i in range(len(ukeys))])
                del sorted_records
                ukeys[:, 1:] += np.array(unit[1:], np.int64) << ukeys[:, :1]
                ukeys[:, 0] += unit[0]
                keys.append(ukeys)
                counts.append(ucounts)
            done += node_counts[unit]
            report(0.55 + 0.38 * done / n, f"building: {_short(done)} of {_short(n)} "
                   "points in the octree")
        samples.flush()
        coarse_keys = sorted(k for k, c in samples.counts.items() if c)
        batch: list[np.ndarray] = []
        for j, node in enumerate(coarse_keys):
            batch.append(samples.read(node))
            keys.append(np.array([node], np.int64))
            counts.append(np.array([samples.counts[node]], np.int64))
            samples.drop(node)
            if sum(len(b) for b in batch) >= unit_points // 2 or j == len(coarse_keys) - 1:
                emit(batch)
                batch = []
            report(0.93 + 0.03 * (j + 1) / len(coarse_keys),
                   f"writing: coarse node {j + 1} of {len(coarse_keys)}")
        compressor.done()
        chunk_pos = _chunk_positions(f, offset_to_points, lazvlr, lazrs)
        all_keys = np.concatenate(keys)
        all_counts = np.concatenate(counts)
        if int(all_counts.sum()) != n:
            raise LoadError(src, f"internal error: {int(all_counts.sum()):,} points "
                            f"placed of {n:,}")
        order = np.lexsort((all_keys[:, 3], all_keys[:, 2], all_keys[:, 1], all_keys[:, 0]))
        all_keys, all_counts = all_keys[order], all_counts[order]
        positions = [chunk_pos[i] for i in order.tolist()]
        f.seek(0, os.SEEK_END)
        evlr_start = f.tell()
        pages = _hierarchy_pages(all_keys, all_counts, positions, page_levels,
                                 evlr_start + 60)
        body = b"".join(pages)
        f.write(struct.pack("<H16sHQ32s", 0, _pad("copc", 16), 1000, len(body),
                            _pad("EPT hierarchy", 32)))
        f.write(body)
        has_gps = np.isfinite(stats.gps_min)
        spacing = 2.0 * cube.halfsize / grid
        head["start_of_evlrs"] = evlr_start
        f.seek(0)
        f.write(_public_header(head))
        f.write(_vlr("copc", 1, _copc_info_data(
            cube.center, cube.halfsize, spacing, evlr_start + 60, len(pages[0]),
            stats.gps_min if has_gps else 0.0, stats.gps_max if has_gps else 0.0),
            "COPC info"))
    return n, len(all_keys)


def _chunk_positions(f, offset_to_points: int, lazvlr, lazrs) -> list[tuple[int, int]]:
    """(offset, size) of every LAZ chunk written to ``f``, from its chunk table."""
    end = f.tell()
    f.seek(offset_to_points)
    table = lazrs.read_chunk_table(f, lazvlr)
    f.seek(end)
    out, pos = [], offset_to_points + 8
    for _count, size in table:
        out.append((pos, int(size)))
        pos += int(size)
    return out


def _default_unit_points() -> int:
    """:data:`UNIT_POINTS`, fewer when ``REALSCENE_MEMORY_BUDGET`` allows less (about
    :data:`UNIT_BYTES` a point at the peak, above a fixed :data:`BASE_BYTES`)."""
    from ..progressive import ENV_BUDGET, memory_budget

    if not os.environ.get(ENV_BUDGET, "").strip():
        return UNIT_POINTS
    return int(min(UNIT_POINTS, max(1, (memory_budget() - BASE_BYTES) // UNIT_BYTES)))


def _src_point_size(info) -> int:
    from ..formats import las

    return las.POINT_SIZES[info.point_format]


def _return_numbers(arr: np.ndarray, fmt) -> np.ndarray:
    from laspy import PackedPointRecord

    return np.asarray(PackedPointRecord(arr, fmt)["return_number"])


def _hierarchy_pages(keys: np.ndarray, counts: np.ndarray,
                     chunk_pos: list[tuple[int, int]], page_levels: int,
                     first_offset: int) -> list[bytes]:
    """Hierarchy pages, the root page first. A page rooted at depth d holds the entries
    of its subtree down to depth d + page_levels - 1 and pointers (point count -1) to the
    pages rooted at depth d + page_levels."""
    page_levels = max(1, int(page_levels))
    tuples = [tuple(int(v) for v in k) for k in keys]

    def ancestor(k, depth):
        s = k[0] - depth
        return (depth, k[1] >> s, k[2] >> s, k[3] >> s)

    page_of: dict[tuple, list[int]] = {}
    pointers: dict[tuple, list[tuple]] = {}
    for i, k in enumerate(tuples):
        page_root = ancestor(k, (k[0] // page_levels) * page_levels)
        page_of.setdefault(page_root, []).append(i)
        if k[0] and k[0] % page_levels == 0:
            pointers.setdefault(ancestor(k, k[0] - page_levels), []).append(k)
    roots = sorted(page_of)  # root (0, 0, 0, 0) first, then by depth
    sizes = {r: 32 * (len(page_of[r]) + len(pointers.get(r, []))) for r in roots}
    offsets, pos = {}, first_offset
    for r in roots:
        offsets[r] = pos
        pos += sizes[r]
    entry = struct.Struct("<4iQii")
    pages = []
    for r in roots:
        parts = []
        for i in page_of[r]:
            off, size = chunk_pos[i]
            parts.append(entry.pack(*tuples[i], off, size, int(counts[i])))
        for k in pointers.get(r, []):
            parts.append(entry.pack(*k, offsets[k], sizes[k], -1))
        pages.append(b"".join(parts))
    return pages


def _quick_check(path: Path, n: int) -> None:
    """Re-open the output as COPC: hierarchy point counts must add up to ``n``."""
    from ..copc import open_copc

    with open_copc(path, cache_bytes=0) as src:
        total = sum(node.point_count for node in src.all_nodes())
    if total != n or src.total_points != n:
        raise LoadError(path, f"internal error: the COPC hierarchy holds {total:,} points, "
                        f"the source {n:,}")


__all__ = ["build_copc_octree", "cache_dir", "default_copc_path", "find_copc_index",
           "write_copc"]
