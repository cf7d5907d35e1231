"""A LAZ file's lean attributes read on every core, straight from the decoded bytes.

:func:`loaders.progressive.read_full` decodes a LAZ file batch by batch and copies each
field out through laspy's point records on one thread, then converts the positions: on
two cores that conversion costs a third of the decode's wall time again. Here every LAZ
chunk is a task of its own (its place in the arrays is known from the chunk table):
a thread reads the chunk's bytes (``os.pread``), decodes them with lazrs (which lets
the GIL go) into a buffer of its own and copies the kept fields out of the raw records
with numpy (which lets the GIL go too), so both cores decode and copy all the time.

The result equals ``read_full(path, keep=LEAN, alloc=alloc)`` with the return number
and count packed in one byte (:func:`loaders.ingest.pack_returns`'s layout), bit for
bit: the arrays are filled in the same layout and the same
:func:`loaders.formats.las.points_cloud` makes the cloud. Files it does not serve
(LAS, a chunk table that does not cover the header's points, attributes other than
the lean ones, a stride) get ``None``: the caller reads them the usual way; a chunk
that does not decode raises :class:`ChunkFailed` (the usual way then says what is
wrong with the file, or reads what it can).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .formats import las
from .types import PointCloud, ProgressFn

#: the attributes this reader serves
SERVED = frozenset({"rgb", "intensity", "classification", "return_number",
                    "number_of_returns"})
#: LAZ chunks decoded per lazrs call (lazrs decodes them on all cores)
CHUNKS_PER_CALL = 8


class ChunkFailed(Exception):
    """A chunk did not decode (read the file the usual way instead)."""


def _field(dtype: np.dtype, name: str, size: int, fmt: str | None = None,
           at: int = 0) -> np.dtype:
    """A record dtype of ``size`` bytes that views one field (``name``'s offset + ``at``,
    as ``fmt`` or the field's own type)."""
    base, offset = dtype.fields[name][:2]
    return np.dtype({"names": ["v"], "formats": [fmt or base], "offsets": [offset + at],
                     "itemsize": size})


class _Layout:
    """Where the kept fields are in a record of the file's point format."""

    def __init__(self, fmt: Any, keep: set[str], deferred_flags: list[str]) -> None:
        from laspy.point.dims import get_sub_fields_dict

        dtype = fmt.dtype()
        self.size = size = dtype.itemsize
        sub = get_sub_fields_dict(fmt.id)
        self.xyz = _field(dtype, "X", size, "V12")
        self.intensity = _field(dtype, "intensity", size) if "intensity" in keep else None
        cls_field, cls_mask = sub["classification"] if "classification" in sub else (
            "classification", None)
        self.cls = _field(dtype, cls_field, size) if "classification" in keep else None
        self.cls_mask = None if cls_mask is None else int(cls_mask.mask)
        self.returns = None
        if {"return_number", "number_of_returns"} <= keep:
            (f1, m1), (f2, m2) = sub["return_number"], sub["number_of_returns"]
            if f1 != f2:
                raise ValueError("return fields in two bytes")
            self.returns = _field(dtype, f1, size)
            self.rn_mask, self.nr_mask = int(m1.mask), int(m2.mask)
            self.nr_shift = (self.nr_mask & -self.nr_mask).bit_length() - 1
        self.rgb = None
        if "rgb" in keep and "red" in dtype.names:
            self.rgb = [(_field(dtype, c, size, "u1", 0), _field(dtype, c, size, "u1", 1))
                        for c in ("red", "green", "blue")]
        # the deferred flags: which byte each is in (one OR per byte and chunk)
        self.flag_fields = sorted({sub[name][0] for name in deferred_flags})
        self.flag_masks = {name: (sub[name][0], int(sub[name][1].mask))
                           for name in deferred_flags}
        self.flag_views = {f: _field(dtype, f, size) for f in self.flag_fields}
        self.x = [_field(dtype, c, size) for c in ("X", "Y", "Z")]


def read_lean(path: str | Path, info: las.LasInfo, progress: ProgressFn | None = None,
              *, keep: set[str], alloc, packed_name: str, release=lambda a: None,
              chunks_per_call: int = 0) -> PointCloud | None:
    """The file's points with the ``keep`` attributes (the return number and count packed
    in one byte named ``packed_name``: number in the low nibble, count in the high one),
    in arrays from ``alloc(shape, dtype)``; None when this reader does not serve the file
    (see the module notes). A chunk that does not decode raises :class:`ChunkFailed`
    after ``release(array)`` of every array taken."""
    import laspy
    import lazrs

    from . import progressive

    path = Path(path)
    keep = set(keep)
    if not info.compressed or not info.point_count or not keep <= SERVED:
        return None
    try:
        chunks = progressive.laz_chunks(path, info)
    except las.LoadError:
        return None
    count = info.point_count
    if (not chunks or sum(c[1] for c in chunks) != count
            or any(c[2] + c[3] > info.file_size for c in chunks)):
        return None
    record = progressive.laszip_record(path, info)
    report = progress or (lambda f, m: None)
    report(0.0, "Reading LAS header")
    with laspy.open(str(path)) as reader:
        header = reader.header
    fmt = header.point_format
    if int(header.point_count) != count:
        return None
    dims = set(fmt.dimension_names)
    std, _scan_field, _scan_factor, optional = las.point_layout(dims, info.point_format)
    deferred = [name for name, _ in std if name not in keep] + ["scan_angle"]
    deferred += optional
    extra_names = list(fmt.extra_dimension_names)
    deferred += extra_names
    try:
        layout = _Layout(fmt, keep, [n for n in deferred if n in las.FLAG_NAMES])
    except (KeyError, ValueError):
        return None
    if fmt.size != info.record_length:
        return None

    store: dict[str, np.ndarray] = {"xyz": alloc((count, 3), np.int32)}
    if layout.rgb is not None:
        store["rgb"] = alloc((count, 3), np.uint8)
    kept_std: list[tuple[str, Any]] = []
    if layout.intensity is not None:
        store["intensity"] = alloc(count, np.uint16)
        kept_std.append(("intensity", np.uint16))
    if layout.cls is not None:
        store["classification"] = alloc(count, np.uint8)
        kept_std.append(("classification", np.uint8))
    if layout.returns is not None:  # (added after the cloud is made: not an extra dimension)
        store[packed_name] = alloc(count, np.uint8)

    per_call = max(1, int(chunks_per_call or CHUNKS_PER_CALL))
    groups = [list(range(a, min(a + per_call, len(chunks))))
              for a in range(0, len(chunks), per_call)]
    lo = np.full(3, np.iinfo(np.int64).max, np.int64)
    hi = np.full(3, np.iinfo(np.int64).min, np.int64)
    rgb16 = False
    plain_rgb: list[int] = []  # chunks whose colours were stored as 8-bit values
    flags = dict.fromkeys(layout.flag_fields, 0)
    done = 0
    size = layout.size
    bufs = [np.empty(0, np.uint8), np.empty(0, np.uint8)]
    fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below, after the thread

    def decode(k: int) -> np.ndarray:
        """Group ``k`` decoded into buffer ``k % 2`` (in the thread: lazrs lets the GIL
        go while its threads decode the group's chunks, so the caller's copies overlap)."""
        group = groups[k]
        table = [(chunks[i][1], chunks[i][3]) for i in group]
        fh.seek(chunks[group[0]][2])
        data = fh.read(sum(nb for _m, nb in table))
        if len(data) != sum(nb for _m, nb in table):
            raise ChunkFailed(f"chunks {group[0]}.. are cut short")
        need = sum(m for m, _nb in table) * size
        if len(bufs[k % 2]) < need:
            bufs[k % 2] = np.empty(need, np.uint8)
        out = bufs[k % 2][:need]
        try:
            lazrs.decompress_points_with_chunk_table(np.frombuffer(data, np.uint8), record,
                                                     out, table)
        except BaseException as exc:  # lazrs panics are BaseExceptions
            las.reraise_fatal(exc)
            raise ChunkFailed(f"chunks {group[0]}..: {exc}") from None
        return out

    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="laz-decode")
    try:
        pending = pool.submit(decode, 0)
        for k, group in enumerate(groups):
            out = pending.result()
            if k + 1 < len(groups):
                pending = pool.submit(decode, k + 1)
            at = 0
            for i in group:
                first, m = chunks[i][:2]
                stats = _extract(layout, out[at:at + m * size], m, first, store, packed_name)
                at += m * size
                if stats is None:
                    continue
                np.minimum(lo, stats["lo"], out=lo)
                np.maximum(hi, stats["hi"], out=hi)
                if stats["rgb16"]:
                    rgb16 = True
                elif layout.rgb is not None:
                    plain_rgb.append(i)
                for f, v in stats["flags"].items():
                    flags[f] |= v
                done += m
            report(0.95 * done / count, f"Read {done:,} of {count:,} points")
    except ChunkFailed:
        for arr in store.values():
            release(arr)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        fh.close()
    if rgb16:  # the slow path's rule: every colour >> 8 once any is above 255
        for i in plain_rgb:
            first, m = chunks[i][:2]
            store["rgb"][first:first + m] = 0
    flags_set = {name for name, (f, mask) in layout.flag_masks.items() if flags[f] & mask}
    packed = store.pop(packed_name, None)
    cloud = las.points_cloud(
        path, info, header, store, done=count, target=count, count=count, seen=count,
        header_count=count, streamed=True, alloc=alloc, origin=None, std=kept_std,
        optional=[], extra_names=[], extra_keys={}, keep=keep, deferred=deferred,
        flags_set=flags_set, rgb16=rgb16, report=report, int_bounds=(lo, hi))
    if packed is not None:
        cloud.attributes[packed_name] = packed
    cloud.metadata.setdefault("source", str(path))
    cloud.metadata.setdefault("file_size", info.file_size)
    return cloud


def _extract(layout: _Layout, out: np.ndarray, m: int, first: int,
             store: dict[str, np.ndarray], packed_name: str) -> dict[str, Any] | None:
    """Copy chunk records ``out`` (``m`` points) to their place ``first``.. in ``store``;
    returns what the whole file's figures need (integer bounds, colour depth, flags)."""
    if m == 0:
        return None
    sl = slice(first, first + m)

    def view(dt: np.dtype) -> np.ndarray:
        return out.view(dt)["v"]

    np.copyto(store["xyz"][sl].reshape(-1).view(np.uint8).view("V12"), view(layout.xyz))
    stats: dict[str, Any] = {
        "lo": np.array([view(d).min() for d in layout.x], np.int64),
        "hi": np.array([view(d).max() for d in layout.x], np.int64),
        "rgb16": False, "flags": {}}
    if layout.intensity is not None:
        store["intensity"][sl] = view(layout.intensity)
    if layout.cls is not None:
        if layout.cls_mask is None:
            store["classification"][sl] = view(layout.cls)
        else:
            np.bitwise_and(view(layout.cls), layout.cls_mask, out=store["classification"][sl])
    if layout.returns is not None:
        b = view(layout.returns)
        dst = store[packed_name][sl]
        np.bitwise_and(b, layout.nr_mask, out=dst)
        np.right_shift(dst, layout.nr_shift, out=dst)
        np.left_shift(dst, 4, out=dst)
        dst |= b & layout.rn_mask
    if layout.rgb is not None:
        high = any(view(h).any() for _low, h in layout.rgb)
        stats["rgb16"] = high
        dst = store["rgb"][sl]
        for k, (low, h) in enumerate(layout.rgb):
            dst[:, k] = view(h if high else low)
    for f, dt in layout.flag_views.items():
        stats["flags"][f] = int(np.bitwise_or.reduce(view(dt)))
    return stats
