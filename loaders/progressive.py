"""Progressive loading of big LAS/LAZ files, with a memory guard. No Qt, no VTK.

>>> cloud = read_progressive("big.laz", on_preview=show, progress=report)

1. **Preview** — a coarse but whole view, fast: for LAZ, the chunk table is read and the
   first points of an evenly spread set of chunks are decoded (LAZ chunks can only be
   decoded from their start; taking a short run from *every* chunk, rather than whole
   chunks from a few, spreads the preview over the whole file order, which for a
   scan-ordered survey means the whole area). For uncompressed LAS, short runs of records
   at evenly spread offsets are read with seeks. Small files are decoded in full and
   thinned with a stride. The preview has the same attribute conventions as the full
   read (it goes through the same conversion code in :mod:`loaders.formats.las`) and its
   origin is the centre of the header bounds, which equals the full read's origin
   whenever the header bounds are right.
2. **Full read** — the same conversion code as :func:`loaders.read` (bit-identical
   result). LAZ is decoded with ``lazrs.decompress_points_with_chunk_table`` from the
   compressed bytes of a few chunks at a time: lazrs decodes the chunks of one call in
   parallel (as fast as ``laspy.read``; lazrs' ParLasZipDecompressor on a Python file
   object was half as fast here), but it holds the GIL for the whole call (measured: a
   Python thread ticking every 2 ms sees gaps as long as the call), so calls are kept to
   about ``BATCH_POINTS`` (one chunk per core: ~40-50 ms on two cores).
3. **Memory guard** — the resident size of the full cloud is estimated from the header
   count and the attributes we keep (and the peak while the octree is built); if that
   exceeds the memory budget (60 % of the
   available RAM, or ``REALSCENE_MEMORY_BUDGET`` bytes) every k-th point is kept instead,
   with a warning in ``metadata["warnings"]`` and the facts in
   ``metadata["memory_guard"]``.

Progress is reported through one ``progress(fraction, message)`` callback (preview
0–``PREVIEW_SHARE``, full read the rest); it may raise :class:`LoadCancelled` at any
point, including between preview batches.
"""

from __future__ import annotations

import functools
import math
import os
import struct
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .formats import las
from .types import LoadCancelled, LoadError, PointCloud, ProgressFn

#: points in a preview (decoded from spread chunks or runs). Decoding them takes ~0.05 s;
#: the first frame's cost is the render, and software OpenGL (llvmpipe, 2 cores) draws
#: 80k points at 1280x800 in ~0.3 s (250k: ~0.8 s)
PREVIEW_POINTS = 80_000
#: files up to this many points are decoded in full for the preview, then thinned
FULL_DECODE_BELOW = 400_000
#: shortest run decoded from one LAZ chunk / read from a LAS file
MIN_RUN = 512
#: points decoded per step in the full read (GIL hand-over granularity)
BATCH_POINTS = 100_000
#: points decoded per lazrs call in the preview (it holds the GIL: a window's frames wait)
PREVIEW_BATCH = 8_000
#: LAZ chunks per lazrs call in the full read (0: one per core). lazrs holds the GIL for
#: the whole call and decodes the chunks of one call in parallel, one per core. Measured
#: on 2 cores (50k-point chunks, format 3): one chunk per call ~35 ms, two chunks ~36 ms
#: when both cores are free (they decode in parallel) but up to ~70-140 ms when the GUI
#: renders at the same time; one chunk per call halves the decode throughput on 2 cores
DECODE_CHUNKS_PER_CALL = 0
#: share of the progress bar given to the preview
PREVIEW_SHARE = 0.1
#: fraction of the available RAM a load may use by default
MEMORY_FRACTION = 0.6
#: peak bytes a point costs above the arrays kept while the octree is built in this
#: process (loaders.lod.build_octree: 8 B/pt of sort keys, a few of level bookkeeping;
#: the read itself adds batches of records) ...
LOD_PEAK_EXTRA = 16
#: ... and in the ingest worker (loaders.ingest), with the lean arrays: measured 4.5 B/pt
#: above the 20 kept (benchmarks/RESULTS.md, "bigopen": 24.5 B/pt marginal, 1M -> 8M LAZ)
LEAN_PEAK_EXTRA = 8
ENV_BUDGET = "REALSCENE_MEMORY_BUDGET"

PreviewFn = Callable[[PointCloud], None]


# -- memory guard ------------------------------------------------------------------------
def memory_budget() -> int:
    """Bytes a point cloud may occupy: ``REALSCENE_MEMORY_BUDGET`` if set, else 60 % of
    the RAM available now."""
    env = os.environ.get(ENV_BUDGET, "").strip()
    if env:
        try:
            return max(1, int(float(env)))
        except ValueError:
            pass
    try:
        import psutil

        return int(psutil.virtual_memory().available * MEMORY_FRACTION)
    except Exception:  # noqa: BLE001 - psutil missing or no /proc: assume 4 GB
        return 4 * 1024**3


def bytes_per_point(info: las.LasInfo, lean: bool = False) -> int:
    """Resident bytes a point of this file costs once read (what
    :func:`loaders.formats.las.read_points` keeps; the octree adds next to nothing);
    ``lean``: what :mod:`loaders.ingest` keeps (its other attributes stay in the file)."""
    pf = info.point_format
    if lean:
        return 12 + 2 + 1 + 1 + (3 if pf in (2, 3, 5, 7, 8, 10) else 0)  # returns: 1 byte
    size = 12 + 4  # float32 xyz, float32 scan angle
    size += 2 + 1 + 1 + 1 + 1 + 2  # intensity, class, return no, returns, user data, psid
    if pf in (1, 3, 4, 5, 6, 7, 8, 9, 10):
        size += 8  # gps_time
    if pf in (2, 3, 5, 7, 8, 10):
        size += 3  # rgb as uint8
    if pf in (8, 10):
        size += 2  # nir
    extra = info.record_length - las.POINT_SIZES.get(pf, info.record_length)
    size += max(0, extra) * 2  # extra bytes (scaled ones become float64: be generous)
    return size


def peak_bytes_per_point(info: las.LasInfo, lean: bool = False) -> int:
    """Bytes a point needs at the peak of a load: while the octree is built (measured:
    benchmarks/RESULTS.md, "bigopen")."""
    if lean:
        return bytes_per_point(info, lean=True) + LEAN_PEAK_EXTRA
    return bytes_per_point(info) + LOD_PEAK_EXTRA


def _human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000.0
    return f"{n:.3g} TB"  # pragma: no cover


def memory_plan(info: las.LasInfo, budget: int | None = None,
                lean: bool = False) -> tuple[int, str | None]:
    """``(stride, warning)``: keep every ``stride``-th point so the cloud fits the budget;
    ``warning`` is the notice to show when the cloud is thinned (None when it fits).
    ``lean``: the load of :mod:`loaders.ingest`."""
    return thinning(info.point_count, bytes_per_point(info, lean),
                    peak_bytes_per_point(info, lean), budget)


def thinning(count: int, resident_per_point: int, peak_per_point: int,
             budget: int | None = None,
             hint: str = "index it to COPC to stream it at full detail"
             ) -> tuple[int, str | None]:
    """:func:`memory_plan` of a file of ``count`` points that keep ``resident_per_point``
    bytes each once read and need ``peak_per_point`` while loading; ``hint``: what to do
    to see it whole."""
    budget = memory_budget() if budget is None else int(budget)
    peak = count * peak_per_point
    if peak <= budget or count == 0:
        return 1, None
    stride = max(2, math.ceil(peak / max(budget, 1)))
    share = 100.0 / stride
    pct = f"{share:.0f}%" if share >= 1 else f"{share:.2g}%"
    need = count * resident_per_point
    warning = (f"showing {pct} of {count:,} points (every {stride}th): the full cloud needs "
               f"{_human_bytes(need)} ({_human_bytes(peak)} while loading), the memory "
               f"budget is {_human_bytes(budget)}; {hint}")
    return stride, warning


# -- chunk table -------------------------------------------------------------------------
def laz_chunks(path: Path, info: las.LasInfo) -> list[tuple[int, int, int, int]]:
    """``(first_point, point_count, byte_offset, byte_count)`` of every LAZ chunk."""
    import lazrs

    record = laszip_record(path, info)
    with open(path, "rb") as fh:
        fh.seek(info.offset_to_points)
        try:
            table = lazrs.read_chunk_table(fh, lazrs.LazVlr(record))
        except BaseException as exc:  # lazrs panics are BaseExceptions
            las.reraise_fatal(exc)
            raise LoadError(path, f"cannot read the LAZ chunk table: {exc}",
                            las.CORRUPT_HINT) from None
    chunks = []
    point = 0
    offset = info.offset_to_points + 8
    for n_points, n_bytes in table:
        # fixed-size chunk tables give every chunk the nominal size, the last one too
        n_points = max(0, min(int(n_points), info.point_count - point))
        chunks.append((point, n_points, offset, int(n_bytes)))
        point += n_points
        offset += int(n_bytes)
    return chunks


def laszip_record(path: Path, info: las.LasInfo) -> bytes:
    """The raw laszip VLR payload (lazrs needs it verbatim)."""
    with open(path, "rb") as fh:
        fh.seek(info.header_size)
        block = fh.read(info.offset_to_points - info.header_size)
    rel = 0
    for _ in range(info.n_vlrs):
        user = las.header_text(block[rel + 2: rel + 18])
        rid, length = struct.unpack_from("<HH", block, rel + 18)
        if user == "laszip encoded" and rid == 22204:
            return bytes(block[rel + las.VLR_HEADER: rel + las.VLR_HEADER + length])
        rel += las.VLR_HEADER + length
    raise LoadError(path, "compressed LAZ file without its laszip record", las.CORRUPT_HINT)


# -- preview -----------------------------------------------------------------------------
def _spread(total: int, parts: int) -> np.ndarray:
    """``parts`` evenly spread indices in ``range(total)``."""
    parts = max(1, min(parts, total))
    return np.unique(np.floor((np.arange(parts) + 0.5) * total / parts).astype(np.int64))


def _laz_segments(path: Path, info: las.LasInfo, target: int):
    """LAZ preview plan: [(chunk index, points to decode)] over spread chunks."""
    chunks = laz_chunks(path, info)
    usable = [i for i, c in enumerate(chunks) if c[1] > 0]
    if not usable:
        return chunks, []
    k = min(len(usable), max(1, target // MIN_RUN))
    picked = [usable[int(j)] for j in _spread(len(usable), k)]
    per = max(MIN_RUN, -(-target // len(picked)))
    return chunks, [(i, min(per, chunks[i][1])) for i in picked]


def _laz_preview_source(path: Path, info: las.LasInfo, header, plan, chunks, report,
                        batch: int = PREVIEW_BATCH, ahead: bool = False):
    """Yield laspy point records decoded from the first points of the planned chunks
    (``plan``: [(chunk index, points)]), about ``batch`` points per lazrs call: lazrs
    decodes the chunks of one call in parallel, from memory, holding the GIL. ``ahead``:
    the next call's chunks are decoded in a thread while the caller uses these (lazrs
    lets the GIL go while it decodes: the caller's conversion overlaps the decode)."""
    import laspy
    import lazrs

    record = laszip_record(path, info)
    fmt = header.point_format
    size = fmt.size
    # pointwise-chunked formats (0-5): the first m points need about m/n of the chunk's
    # bytes; layered formats (6-10) store each field for the whole chunk: read it all
    layered = info.point_format >= 6
    total = sum(m for _, m in plan)
    groups: list[list[tuple[int, int]]] = []
    start = 0
    while start < len(plan):
        group, pts = [], 0
        while start < len(plan) and (not group or pts + plan[start][1] <= batch):
            group.append(plan[start])
            pts += plan[start][1]
            start += 1
        groups.append(group)
    done = 0
    with open(path, "rb") as fh:
        def decode(group):
            return decode_group(fh, group, chunks, record, size, layered, lazrs)

        pool = None
        if ahead and len(groups) > 1:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(1, thread_name_prefix="laz-decode")
        try:
            pending = pool.submit(decode, groups[0]) if pool is not None else None
            for k, group in enumerate(groups):
                if pool is None:
                    out = decode(group)
                else:
                    out = pending.result()
                    if k + 1 < len(groups):
                        pending = pool.submit(decode, groups[k + 1])
                arr = np.frombuffer(out, dtype=fmt.dtype())
                yield laspy.ScaleAwarePointRecord(arr, fmt, header.scales, header.offsets)
                done += sum(m for _, m in group)
                report(done / max(total, 1), f"Preview: {done:,} of {total:,} points")
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


def decode_group(fh, group, chunks, record, size, layered, lazrs) -> np.ndarray:
    def attempt(full: bool) -> np.ndarray:
        parts, table = [], []
        for i, m in group:
            _first, n, offset, nbytes = chunks[i]
            want = nbytes if (full or layered or m >= n) else min(
                nbytes, int(nbytes * m / n * 1.5) + 4096)
            fh.seek(offset)
            parts.append(fh.read(want))
            table.append((m, len(parts[-1])))
        data = np.frombuffer(b"".join(parts), np.uint8)
        out = np.zeros(sum(m for _, m in group) * size, np.uint8)
        lazrs.decompress_points_with_chunk_table(data, record, out, table)
        return out

    try:
        return attempt(False)
    except BaseException as exc:  # ran past a truncated read (or a panic): whole chunks
        las.reraise_fatal(exc)
        return attempt(True)


def _las_segments(info: las.LasInfo, target: int) -> list[tuple[int, int]]:
    """LAS preview plan: [(first point, count)] runs spread over the file."""
    count = info.point_count
    runs = max(1, min(target // 64, count // 64))  # ~64-point runs: fine-grained spread
    length = max(1, target // runs)
    starts = _spread(max(1, count - length), runs)
    return [(int(s), int(min(length, count - s))) for s in starts]


def _las_preview_source(path: Path, info: las.LasInfo, header, plan, report):
    import laspy

    fmt = header.point_format
    dtype = fmt.dtype()
    rec = info.record_length
    total = sum(n for _, n in plan)
    done = 0
    with open(path, "rb") as fh:
        i = 0
        while i < len(plan):
            group = []
            pts = 0
            while i < len(plan) and pts < PREVIEW_BATCH:
                group.append(plan[i])
                pts += plan[i][1]
                i += 1
            raw = bytearray(pts * rec)
            view = memoryview(raw)
            pos = 0
            for first, n in group:
                fh.seek(info.offset_to_points + first * rec)
                got = fh.readinto(view[pos: pos + n * rec])
                pos += got or 0
            usable = pos // rec
            if rec != dtype.itemsize:  # records longer than laspy's dtype: cut each
                arr = np.frombuffer(raw, np.uint8)[: usable * rec].reshape(usable, rec)
                arr = np.ascontiguousarray(arr[:, : dtype.itemsize]).view(dtype).reshape(-1)
            else:
                arr = np.frombuffer(raw, dtype=dtype, count=usable)
            yield laspy.ScaleAwarePointRecord(arr, fmt, header.scales, header.offsets)
            done += pts
            report(done / max(total, 1), f"Preview: {done:,} of {total:,} points")


def header_origin(info: las.LasInfo, path: Path) -> np.ndarray | None:
    """Rounded centre of the header's bounds (the full read's origin when they are
    right), or None when the header bounds are unusable."""
    with open(path, "rb") as fh:
        fh.seek(179)
        raw = fh.read(48)
    if len(raw) < 48:
        return None
    max_x, min_x, max_y, min_y, max_z, min_z = struct.unpack("<6d", raw)
    lo = np.array([min_x, min_y, min_z])
    hi = np.array([max_x, max_y, max_z])
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(hi >= lo)):
        return None
    origin = np.round((lo + hi) / 2.0)
    return origin


def read_preview(path: str | Path, preview_points: int = PREVIEW_POINTS,
                 progress: ProgressFn | None = None, *, info: las.LasInfo | None = None,
                 full_decode_below: int = FULL_DECODE_BELOW) -> PointCloud:
    """A coarse, spatially spread subset of a LAS/LAZ file (see the module notes)."""
    path = Path(path)
    info = las.parse_header(path) if info is None else info
    report = progress or (lambda f, m: None)
    count = info.point_count
    target = max(1, int(preview_points))
    origin = header_origin(info, path)
    if count <= max(full_decode_below, target):
        # small file: decode it all and thin it with a stride
        stride = max(1, -(-count // target))
        cloud = las.read_points(path, info, _scaled(report, 0.0, 1.0), batch=BATCH_POINTS,
                                 stride=stride, origin=origin)
        method = f"every {stride}th point" if stride > 1 else "all points"
    elif info.compressed:
        chunks, plan = _laz_segments(path, info, target)
        expected = sum(m for _, m in plan)

        def source(reader):
            return _laz_preview_source(path, info, reader.header, plan, chunks, report)

        cloud = las.read_points(path, info, None, source=source, expected=expected,
                                 origin=origin)
        method = (f"first {plan[0][1]:,} points of {len(plan):,} of {len(chunks):,} "
                  "LAZ chunks")
    else:
        plan = _las_segments(info, target)
        expected = sum(n for _, n in plan)

        def source(reader):
            return _las_preview_source(path, info, reader.header, plan, report)

        cloud = las.read_points(path, info, None, source=source, expected=expected,
                                 origin=origin)
        method = f"{len(plan):,} runs of {plan[0][1]:,} records"
    cloud.metadata["preview"] = {"points": cloud.point_count, "of": count,
                                 "method": method}
    cloud.metadata["source"] = str(path)
    return cloud


def _scaled(report: ProgressFn, a: float, b: float) -> ProgressFn:
    def inner(fraction: float, message: str) -> None:
        report(a + (b - a) * min(max(float(fraction), 0.0), 1.0), message)

    return inner


# -- the whole thing ---------------------------------------------------------------------
def is_progressive(path: str | Path) -> bool:
    """True for files :func:`read_progressive` handles (LAS and LAZ, incl. COPC). Only
    a regular file is opened (a FIFO would block: the readers then refuse it)."""
    try:
        if not Path(path).is_file():
            return False
        with open(path, "rb") as fh:
            return fh.read(4) == b"LASF"
    except OSError:
        return False


def read_full(path: str | Path, progress: ProgressFn | None = None, *,
              info: las.LasInfo | None = None, budget: int | None = None,
              chunks_per_call: int | None = None, stride: int | None = None,
              keep: set[str] | None = None, alloc=None, ahead: bool = False) -> PointCloud:
    """The whole file as :func:`loaders.read` gives it, decoded in GUI-friendly batches
    and thinned by the memory guard when it would not fit the budget. LAZ:
    ``chunks_per_call`` chunks per lazrs call (default :data:`DECODE_CHUNKS_PER_CALL`).
    ``stride`` (decided by the caller) replaces the memory guard; ``keep`` and ``alloc``
    are :func:`loaders.formats.las.read_points`'; ``ahead``: LAZ decodes the next batch
    while this one is converted (a worker process: nothing else needs the cores)."""
    path = Path(path)
    info = las.parse_header(path) if info is None else info
    if stride is None:
        stride, warning = memory_plan(info, budget)
    else:
        warning = None
    source = None
    if info.compressed and info.point_count:
        try:
            chunks = laz_chunks(path, info)
        except LoadError:
            chunks = []
        if chunks and sum(c[1] for c in chunks) == info.point_count:
            plan = [(i, c[1]) for i, c in enumerate(chunks) if c[1]]
            per_call = (DECODE_CHUNKS_PER_CALL if chunks_per_call is None
                        else chunks_per_call) or (os.cpu_count() or 1)
            batch = max(1, int(per_call)) * max(c[1] for c in chunks)

            def source(reader):
                return _laz_preview_source(path, info, reader.header, plan, chunks,
                                           lambda f, m: None, batch=batch, ahead=ahead)
    cloud = las.read_points(path, info, progress, batch=BATCH_POINTS, stride=stride,
                             source=source, keep=keep, alloc=alloc)
    if warning:
        cloud.warnings.insert(0, warning)
        cloud.metadata["memory_guard"] = {
            "stride": stride, "file_points": info.point_count,
            "bytes_needed": info.point_count * bytes_per_point(info),
            "peak_bytes_needed": info.point_count * peak_bytes_per_point(info),
            "budget": memory_budget() if budget is None else int(budget)}
    cloud.metadata.setdefault("source", str(path))
    cloud.metadata.setdefault("file_size", info.file_size)
    return cloud


def read_progressive(path: str | Path, on_preview: PreviewFn | None = None,
                     progress: ProgressFn | None = None, *,
                     preview_points: int = PREVIEW_POINTS, budget: int | None = None,
                     full_decode_below: int = FULL_DECODE_BELOW,
                     full_reader: Callable[..., PointCloud] | None = None) -> PointCloud:
    """Read a LAS/LAZ file progressively: ``on_preview(coarse_cloud)`` is called first
    (unless the file is small enough that a preview would not be faster), then the full
    (or memory-guarded) cloud is returned, read by ``full_reader(path, progress, info=,
    budget=)`` (default :func:`read_full`; :func:`loaders.ingest.read` reads in a worker
    process). Raises LoadError / LoadCancelled."""
    path = Path(path)
    report = progress or (lambda f, m: None)
    report(0.0, "Reading LAS header")
    try:
        info = las.parse_header(path)
    except (LoadError, LoadCancelled):
        raise
    except OSError as exc:
        raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                        "check that it exists and is readable") from None
    # a reader that starts in the background (loaders.ingest: a worker process) starts
    # now, so that its start-up overlaps the preview
    early = getattr(full_reader, "start", None)
    started = early(path, info, budget) if early is not None else None
    full = read_full if full_reader is None else full_reader
    if started is not None:
        full = functools.partial(full, worker=started)
    try:
        return _read_progressive(path, info, report, on_preview, preview_points,
                                 full_decode_below, full, budget)
    finally:
        if started is not None:
            started.close()


def _read_progressive(path, info, report, on_preview, preview_points, full_decode_below,
                      full, budget) -> PointCloud:
    share = 0.0
    if on_preview is not None and info.point_count > 2 * preview_points:
        share = PREVIEW_SHARE
        preview = _guard(path, info, lambda: read_preview(
            path, preview_points, _scaled(report, 0.0, share), info=info,
            full_decode_below=full_decode_below))
        on_preview(preview)
    return _guard(path, info, lambda: full(path, _scaled(report, share, 1.0), info=info,
                                           budget=budget))


def _guard(path: Path, info: las.LasInfo, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (LoadError, LoadCancelled):
        raise
    except MemoryError:
        raise LoadError(path, "not enough memory to read this file",
                        "close other layers or open a smaller file") from None
    except BaseException as exc:  # lazrs panics derive from BaseException
        las.reraise_fatal(exc)
        raise las.as_load_error(path, info, exc, "points") from None
