"""LAS 1.0-1.4 (point formats 0-10, extra bytes), LAZ (via lazrs) and COPC (read as LAZ).

Before laspy sees a file, its public header, VLR chain, EVLR chain and (for LAZ) the
laszip record are parsed here with :mod:`struct` and sanity-checked against the file
size: laspy hangs on a header claiming 10^9 VLRs, and lazrs panics (a BaseException) on
several broken or legacy LAZ files. Every failure becomes a :class:`LoadError` with a
reason and a hint.

Memory: X/Y/Z are kept as the file's int32 values while reading (12 bytes a point), then
converted in place into float32 positions relative to a float64 origin, block by block,
in float64 arithmetic (``X * scale + offset - origin``). RGB is kept as uint8 from the
start, classification as uint8, so a point with xyz + rgb + class costs 16 bytes.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..registry import ReaderSpec
from ..types import LoadCancelled, LoadError, PointCloud, ProgressFn

CHUNK_POINTS = 500_000
CONVERT_BLOCK = 1_000_000

# minimum record length of each point format
POINT_SIZES = {0: 20, 1: 28, 2: 26, 3: 34, 4: 57, 5: 63, 6: 30, 7: 36, 8: 38, 9: 59, 10: 67}
MIN_HEADER_SIZE = {0: 227, 1: 227, 2: 227, 3: 235, 4: 375}
VLR_HEADER = 54
EVLR_HEADER = 60
# LAZ: a header point count implying more than this many points per compressed byte is
# not believable (real LAZ stores 2-8 bytes a point).
MAX_LAZ_POINTS_PER_BYTE = 64
LASZIP_ITEM_TYPES = set(range(0, 15))
LEGACY_LAZ_HINT = ("it was written by an old LASzip version (1.x, non-chunked 'pointwise' "
                   "compression) that lazrs cannot decode; convert it first with "
                   "`pdal translate in.laz out.laz` or `laszip -i in.laz -o out.laz`")
CORRUPT_HINT = "the file may be truncated or corrupt; re-export or re-download it"
#: the warning of a point cloud file that holds no points (opened, not an error)
NO_POINTS = "the file holds no points"

#: flag dimensions kept only when some point sets them (see point_layout)
FLAG_NAMES = ("synthetic", "key_point", "withheld", "overlap", "scanner_channel",
              "scan_direction_flag", "edge_of_flight_line")
_RESERVED = {"rgb", "intensity", "classification", "return_number", "number_of_returns",
             "gps_time", "nir", "user_data", "point_source_id", "scan_angle", "synthetic",
             "key_point", "withheld", "overlap", "scanner_channel", "scan_direction_flag",
             "edge_of_flight_line"}


@dataclass
class LasInfo:
    """Facts parsed from the raw header, validated against the file size."""

    file_size: int
    version: tuple[int, int]
    header_size: int
    offset_to_points: int
    n_vlrs: int
    point_format: int
    record_length: int
    point_count: int
    scale: tuple[float, float, float]
    offset: tuple[float, float, float]
    system_identifier: str
    generating_software: str
    global_encoding: int
    compressed: bool = False
    copc: bool = False
    laszip: dict[str, Any] | None = None
    extra_bytes_vlrs: list[bytes] = field(default_factory=list)
    start_of_evlrs: int = 0
    n_evlrs: int = 0
    # (user id, record id, offset of the record data, length) of each EVLR
    evlrs: list[tuple[str, int, int, int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def header_text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("ascii", "replace").strip()


def parse_header(path: Path) -> LasInfo:
    """Parse and sanity-check the LAS public header, VLRs and EVLRs. Raises LoadError."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        return parse_header_stream(fh, size, path)


def parse_header_stream(fh, size: int, path: Path | str) -> LasInfo:
    """:func:`parse_header` on any seekable binary file object of ``size`` bytes (a local
    file or an HTTP range reader); ``path`` names it in errors."""
    head = fh.read(375)
    if len(head) < 4 or head[:4] != b"LASF":
        raise LoadError(path, "not a LAS/LAZ file (it does not start with 'LASF')",
                        "check the file type; it may be misnamed")
    if len(head) < 227:
        raise LoadError(path, f"file is truncated: only {size} bytes, shorter than a "
                        "LAS header (227 bytes)", CORRUPT_HINT)
    major, minor = head[24], head[25]
    if major != 1 or minor > 4:
        raise LoadError(path, f"unsupported LAS version {major}.{minor}",
                        "RealScene reads LAS 1.0 to 1.4")
    encoding = struct.unpack_from("<H", head, 6)[0]
    sysid, software = header_text(head[26:58]), header_text(head[58:90])
    header_size, offset_pts, n_vlrs = struct.unpack_from("<HII", head, 94)
    pf_byte, rec_len, legacy_count = struct.unpack_from("<BHI", head, 104)
    scale = struct.unpack_from("<3d", head, 131)
    offset = struct.unpack_from("<3d", head, 155)
    need = MIN_HEADER_SIZE[minor]
    if header_size < need:
        raise LoadError(path, f"corrupt header: header size {header_size} is smaller than "
                        f"the {need} bytes LAS 1.{minor} requires", CORRUPT_HINT)
    if header_size > size or len(head) < min(need, 375):
        raise LoadError(path, f"file is truncated: the header needs {header_size} bytes "
                        f"but the file has {size}", CORRUPT_HINT)
    start_evlr, n_evlrs = 0, 0
    count = legacy_count
    if minor >= 4:
        start_evlr, n_evlrs, count64 = struct.unpack_from("<QIQ", head, 235)
        count = count64 if count64 or not legacy_count else legacy_count
    pf = pf_byte & 0x3F
    compressed_bit = bool(pf_byte & 0x80)
    if pf not in POINT_SIZES:
        raise LoadError(path, f"corrupt header: unknown point format {pf}",
                        "LAS point formats are 0 to 10")
    if rec_len < POINT_SIZES[pf]:
        raise LoadError(path, f"corrupt header: point record length {rec_len} is shorter "
                        f"than point format {pf} needs ({POINT_SIZES[pf]} bytes)",
                        CORRUPT_HINT)
    if offset_pts > size:
        raise LoadError(path, f"file is truncated: point data should start at byte "
                        f"{offset_pts:,} but the file has only {size:,} bytes", CORRUPT_HINT)
    if offset_pts < header_size:
        raise LoadError(path, f"corrupt header: point data offset {offset_pts} lies inside "
                        f"the {header_size}-byte header", CORRUPT_HINT)
    if n_vlrs * VLR_HEADER > offset_pts - header_size:
        raise LoadError(path, f"corrupt header: it claims {n_vlrs:,} variable-length "
                        f"records, which cannot fit in the {offset_pts - header_size:,} "
                        "bytes before the point data", CORRUPT_HINT)
    for axis, s in zip("XYZ", scale, strict=True):
        if not np.isfinite(s) or s == 0:
            raise LoadError(path, f"corrupt header: invalid {axis} scale factor {s!r}",
                            CORRUPT_HINT)
    for axis, o in zip("XYZ", offset, strict=True):
        if not np.isfinite(o):
            raise LoadError(path, f"corrupt header: invalid {axis} offset {o!r}",
                            CORRUPT_HINT)
    info = LasInfo(size, (major, minor), header_size, offset_pts, n_vlrs, pf, rec_len,
                   int(count), scale, offset, sysid, software, encoding,
                   start_of_evlrs=int(start_evlr), n_evlrs=int(n_evlrs))

    # walk the VLR chain
    pos = header_size
    fh.seek(pos)
    vlr_block = fh.read(offset_pts - header_size)
    rel = 0
    for i in range(n_vlrs):
        if rel + VLR_HEADER > len(vlr_block):
            raise LoadError(path, f"corrupt header: variable-length record {i + 1} of "
                            f"{n_vlrs} runs past the start of the point data",
                            CORRUPT_HINT)
        user = header_text(vlr_block[rel + 2: rel + 18])
        rid, length = struct.unpack_from("<HH", vlr_block, rel + 18)
        data = vlr_block[rel + VLR_HEADER: rel + VLR_HEADER + length]
        if len(data) < length:
            raise LoadError(path, f"corrupt header: variable-length record {i + 1} "
                            f"('{user}' {rid}) runs past the start of the point data",
                            CORRUPT_HINT)
        if user == "laszip encoded" and rid == 22204:
            info.laszip = _parse_laszip(path, data)
        elif user == "copc" and rid == 1:
            info.copc = True
        elif user == "LASF_Spec" and rid == 4:
            info.extra_bytes_vlrs.append(data)
        rel += VLR_HEADER + length

    # EVLRs (LAS 1.4)
    if minor >= 4 and n_evlrs:
        if not offset_pts <= start_evlr <= size:
            raise LoadError(path, f"corrupt header: extended records start at byte "
                            f"{start_evlr:,}, outside the point data and file "
                            f"({size:,} bytes)", CORRUPT_HINT)
        if n_evlrs * EVLR_HEADER > size - start_evlr:
            raise LoadError(path, f"corrupt header: it claims {n_evlrs:,} extended records, "
                            "more than fit in the rest of the file", CORRUPT_HINT)
        epos = start_evlr
        for i in range(n_evlrs):
            fh.seek(epos)
            eh = fh.read(EVLR_HEADER)
            if len(eh) < EVLR_HEADER:
                raise LoadError(path, f"file is truncated: extended record {i + 1} of "
                                f"{n_evlrs} is missing", CORRUPT_HINT)
            (elen,) = struct.unpack_from("<Q", eh, 20)
            if epos + EVLR_HEADER + elen > size:
                raise LoadError(path, f"file is truncated: extended record {i + 1} needs "
                                f"{elen:,} bytes beyond the end of the file", CORRUPT_HINT)
            info.evlrs.append((header_text(eh[2:18]), struct.unpack_from("<H", eh, 18)[0],
                               epos + EVLR_HEADER, elen))
            epos += EVLR_HEADER + elen

    info.compressed = compressed_bit or info.laszip is not None
    if info.compressed:
        if info.laszip is None:
            raise LoadError(path, "compressed LAZ file without its laszip record",
                            CORRUPT_HINT)
        _check_laz_data(path, fh, info)
    else:
        _check_las_data(path, info)
    return info


def _parse_laszip(path: Path, data: bytes) -> dict[str, Any]:
    if len(data) < 34:
        raise LoadError(path, "corrupt LAZ: the laszip record is too short", CORRUPT_HINT)
    (compressor, coder, vmaj, vmin, vrev, _options, chunk_size, _n_sp, _o_sp,
     n_items) = struct.unpack_from("<HHBBHIIqqH", data, 0)
    items = []
    for i in range(n_items):
        if 34 + 6 * i + 6 > len(data):
            raise LoadError(path, "corrupt LAZ: the laszip record lists more items than it "
                            "holds", CORRUPT_HINT)
        items.append(struct.unpack_from("<HHH", data, 34 + 6 * i))
    version = f"{vmaj}.{vmin}r{vrev}"
    if compressor not in (0, 1, 2, 3):
        raise LoadError(path, f"corrupt LAZ: compressor type {compressor} is not valid "
                        f"(laszip record, LASzip {version})", CORRUPT_HINT)
    if coder != 0:
        raise LoadError(path, f"corrupt LAZ: coder type {coder} is not valid (only the "
                        "arithmetic coder 0 exists)", CORRUPT_HINT)
    bad = [t for t, _, _ in items if t not in LASZIP_ITEM_TYPES]
    if bad:
        raise LoadError(path, f"corrupt LAZ: item type {bad[0]} in the laszip record is "
                        "unknown", CORRUPT_HINT)
    if compressor == 1:
        raise LoadError(path, f"unsupported legacy LAZ compression (LASzip {version}, "
                        "pointwise, without chunks)", LEGACY_LAZ_HINT)
    return {"compressor": compressor, "coder": coder, "version": version,
            "chunk_size": chunk_size, "items": items}


def _check_laz_data(path: Path, fh, info: LasInfo) -> None:
    data_bytes = info.file_size - info.offset_to_points
    if info.point_count == 0:
        return
    if data_bytes < 8:
        raise LoadError(path, f"file is truncated: header says {info.point_count:,} points "
                        "but the file holds no compressed point data", CORRUPT_HINT)
    fh.seek(info.offset_to_points)
    (table_offset,) = struct.unpack("<q", fh.read(8))
    if table_offset != -1 and not (info.offset_to_points + 8 <= table_offset <= info.file_size):
        raise LoadError(path, f"file is truncated or corrupt: the LAZ chunk table should be at "
                        f"byte {table_offset:,} but the file has {info.file_size:,} bytes",
                        CORRUPT_HINT)
    if table_offset == -1:  # unfinished writer: the offset is in the file's last 8 bytes
        fh.seek(info.file_size - 8)
        (table_offset,) = struct.unpack("<q", fh.read(8))
        if not (info.offset_to_points + 8 <= table_offset <= info.file_size - 8):
            raise LoadError(path, "corrupt LAZ: the chunk table cannot be found", CORRUPT_HINT)
    # lazrs allocates the chunk table from its count before checking anything: validate it
    fh.seek(table_offset)
    table_head = fh.read(8)
    if len(table_head) < 8:
        raise LoadError(path, "file is truncated: the LAZ chunk table is missing",
                        CORRUPT_HINT)
    table_version, n_chunks = struct.unpack("<II", table_head)
    chunk_size = info.laszip["chunk_size"] if info.laszip else 0
    if chunk_size and chunk_size != 0xFFFFFFFF:
        max_chunks = -(-info.point_count // chunk_size) + 1
    else:
        max_chunks = info.point_count
    max_chunks = min(max_chunks, data_bytes)
    if table_version != 0 or n_chunks > max_chunks:
        raise LoadError(path, f"corrupt LAZ: the chunk table (version {table_version}) lists "
                        f"{n_chunks:,} chunks, impossible for {info.point_count:,} points",
                        CORRUPT_HINT)
    if info.point_count > data_bytes * MAX_LAZ_POINTS_PER_BYTE:
        raise LoadError(path, f"corrupt header: it claims {info.point_count:,} points, far more "
                        f"than {data_bytes:,} bytes of compressed data can hold", CORRUPT_HINT)


def _points_end(info: LasInfo) -> int:
    end = info.file_size
    if info.version >= (1, 4) and info.n_evlrs and info.start_of_evlrs >= info.offset_to_points:
        end = min(end, info.start_of_evlrs)
    return end


def _check_las_data(path: Path, info: LasInfo) -> None:
    available = (_points_end(info) - info.offset_to_points) // info.record_length
    if info.point_count and available == 0:
        raise LoadError(path, f"file is truncated: header says {info.point_count:,} points but "
                        "the file holds none", CORRUPT_HINT)
    if available < info.point_count:
        info.warnings.append(f"file is truncated: header says {info.point_count:,} points but "
                             f"the file holds only {available:,}; reading those")
        info.point_count = available


def sanitise_name(name: str, index: int, taken: set[str]) -> str:
    clean = re.sub(r"[^0-9A-Za-z_]+", "_", name or "").strip("_")
    if not clean:
        clean = f"extra_{index}"
    if clean.lower() in _RESERVED or clean in taken:
        clean = f"extra_{clean}"
    base, k = clean, 1
    while clean in taken:
        clean = f"{base}_{k}"
        k += 1
    return clean


_EB_TYPES = {1: "u1", 2: "i1", 3: "<u2", 4: "<i2", 5: "<u4", 6: "<i4", 7: "<u8", 8: "<i8",
             9: "<f4", 10: "<f8"}


def _second_extra_bytes_vlr(data: bytes, nbytes: int):
    """Fields (name, dtype, scale, offset) of an extra-bytes VLR laspy ignored, if they
    describe exactly ``nbytes`` bytes."""
    fields, used = [], 0
    for k in range(len(data) // 192):
        rec = data[k * 192:(k + 1) * 192]
        dtype_code, options = rec[2], rec[3]
        name = header_text(rec[4:36])
        if dtype_code == 0:
            width = options
            dt = f"{width}u1" if width else None
        else:
            dt = _EB_TYPES.get(dtype_code)
        if dt is None:
            return None
        dtype = np.dtype(dt)
        scale = struct.unpack_from("<d", rec, 112)[0] if options & 8 else None
        offset = struct.unpack_from("<d", rec, 136)[0] if options & 16 else None
        fields.append((name, dtype, used, scale, offset))
        used += dtype.itemsize
    return fields if used == nbytes and fields else None


def point_layout(dims: set[str], point_format: int):
    """Which laspy dimensions become which attributes (shared with the COPC streamer).

    Returns ``(std, scan_field, scan_factor, optional)``: ``std`` lists (name, dtype) of
    the attributes always kept, ``scan_field``/``scan_factor`` give the scan angle in
    degrees, ``optional`` the flag dimensions kept only when some point sets them.
    """
    std = [("intensity", np.uint16), ("classification", np.uint8),
           ("return_number", np.uint8), ("number_of_returns", np.uint8),
           ("user_data", np.uint8), ("point_source_id", np.uint16)]
    if "gps_time" in dims:
        std.append(("gps_time", np.float64))
    if "nir" in dims:
        std.append(("nir", np.uint16))
    scan_field = "scan_angle" if point_format >= 6 else "scan_angle_rank"
    scan_factor = 0.006 if point_format >= 6 else 1.0
    optional = [n for n in FLAG_NAMES if n in dims]
    return std, scan_field, scan_factor, optional


def name_extra_dimensions(extra_values: list[tuple[str, np.ndarray]],
                          extra_bytes_vlrs: list[bytes],
                          taken: set[str]) -> dict[str, np.ndarray]:
    """Attribute names and values of laspy's extra dimensions ``(laspy name, values)``.

    Names are sanitised and kept clear of the well-known attributes; laspy's catch-all
    ``ExtraBytes`` is split by the further Extra Bytes VLRs laspy ignores, when they
    describe it exactly. ``taken`` (the names already used) is updated.
    """
    out: dict[str, np.ndarray] = {}
    for i, (name, values) in enumerate(extra_values):
        n = len(values)
        if name == "ExtraBytes" and len(extra_bytes_vlrs) > 1:
            # laspy reads only the first Extra Bytes VLR; further ones describe the rest
            width = values.dtype.itemsize * int(np.prod(values.shape[1:]))
            described = _second_extra_bytes_vlr(b"".join(extra_bytes_vlrs[1:]), width)
            if described:
                raw = np.ascontiguousarray(values).view(np.uint8).reshape(n, width)
                for j, (fname, fdt, start, fscale, foff) in enumerate(described):
                    col = raw[:, start:start + fdt.itemsize].copy().view(fdt)
                    col = col.reshape(n, *fdt.shape) if fdt.shape else col.reshape(n)
                    if fscale is not None or foff is not None:
                        col = col * (fscale if fscale is not None else 1.0) + (foff or 0.0)
                    key = sanitise_name(fname, i + j, taken)
                    out[key] = col
                    taken.add(key)
                continue
        key = sanitise_name("" if name == "ExtraBytes" else name, i, taken)
        out[key] = values
        taken.add(key)
    return out


def read_points(path: Path, info: LasInfo, progress: ProgressFn | None, *,
                 batch: int = CHUNK_POINTS, stride: int = 1, source=None,
                 expected: int | None = None,
                 origin: np.ndarray | None = None, keep: set[str] | None = None,
                 alloc=None) -> PointCloud:
    """Read the points of a LAS/LAZ file into a :class:`PointCloud`.

    The keyword arguments serve progressive loading (:mod:`loaders.progressive`):
    ``batch`` points are decoded per step (lazrs holds the GIL while it decodes, so
    smaller steps keep a GUI responsive); ``stride`` keeps every k-th point (the memory
    guard); ``source(reader)`` replaces the reader's point records by any iterable of
    laspy point records (a preview decoded from a spread of chunks) and ``expected`` is
    then how many points it yields; ``origin`` fixes the origin instead of deriving it
    from the points read; ``keep`` (attribute names) reads only those attributes: the
    others are named in ``metadata["deferred"]`` (read later, on demand: see
    :mod:`loaders.ingest`); ``alloc(shape, dtype)`` allocates the arrays kept (shared
    memory), sized for the header count at once (untouched pages cost nothing).
    """
    import laspy

    report = progress or (lambda f, m: None)
    report(0.0, "Reading LAS header")
    try:
        reader = laspy.open(str(path))
    except (LoadError, LoadCancelled):
        raise
    except BaseException as exc:
        reraise_fatal(exc)
        raise as_load_error(path, info, exc, "header") from None

    with reader:
        header = reader.header
        fmt = header.point_format
        dims = set(fmt.dimension_names)
        header_count = int(header.point_count)
        count = min(header_count, info.point_count) if not info.compressed else header_count
        if count < header_count:
            header.point_count = count  # truncated file: laspy must not read a partial record
        extra_names = list(fmt.extra_dimension_names)
        stride = max(1, int(stride))
        target = -(-count // stride) if expected is None else int(expected)

        # LAZ: do not trust the header count for allocation; grow as points arrive
        cap = target if not info.compressed or alloc is not None else min(target, max(
            CHUNK_POINTS, (info.file_size - info.offset_to_points) * 2 // stride))
        new = alloc or np.empty
        has_rgb = "red" in dims
        rgb16 = False
        std, scan_field, scan_factor, optional = point_layout(dims, info.point_format)
        deferred: list[str] = []
        if keep is not None:
            deferred = [name for name, _ in std if name not in keep]
            if "scan_angle" not in keep:
                deferred.append("scan_angle")
            std = [(name, dt) for name, dt in std if name in keep]
            deferred += [name for name in optional if name not in keep]
            optional = [name for name in optional if name in keep]
            deferred += [name for name in extra_names if f"extra:{name}" not in keep]
            extra_names = [name for name in extra_names if f"extra:{name}" in keep]
            has_rgb = has_rgb and "rgb" in keep
        flags_set: set[str] = set()  # deferred flag dimensions some point sets
        try:
            from laspy.point.dims import get_sub_fields_dict

            flag_bits = get_sub_fields_dict(fmt.id)  # flag -> (its byte's field, mask)
        except Exception:  # noqa: BLE001 - another laspy: test each flag's values
            flag_bits = {}
        store: dict[str, np.ndarray] = {"xyz": new((cap, 3), np.int32)}
        if keep is None or "scan_angle" in keep:
            store["scan_angle"] = new(cap, np.float32)
        if has_rgb:
            store["rgb"] = new((cap, 3), np.uint8)
        for name, dt in std:
            store[name] = new(cap, dt)
        extra_keys: dict[str, str] = {}

        done = 0
        seen = 0  # points decoded (before the stride)
        try:
            chunks = reader.chunk_iterator(batch) if source is None else source(reader)
            for chunk in chunks:
                m = len(chunk)
                if stride > 1:
                    sel = slice((-seen) % stride, None, stride)
                    n = min(len(range(*sel.indices(m))), target - done)
                else:
                    sel = slice(None)
                    n = min(m, target - done)
                seen += m
                if n <= 0:
                    if done >= target:
                        break
                    continue
                if done + n > cap:
                    if alloc is not None:  # sized for the header count: no more points
                        n = cap - done
                        if n <= 0:
                            break
                    cap = min(target, max(cap * 2, done + n))
                    for key, arr in store.items():
                        grown = np.zeros((cap,) + arr.shape[1:], arr.dtype)
                        grown[:done] = arr[:done]
                        store[key] = grown
                sl = slice(done, done + n)
                xyz = store["xyz"]
                xyz[sl, 0] = np.asarray(chunk.X)[sel][:n]
                xyz[sl, 1] = np.asarray(chunk.Y)[sel][:n]
                xyz[sl, 2] = np.asarray(chunk.Z)[sel][:n]
                for name, _ in std:
                    store[name][sl] = np.asarray(chunk[name])[sel][:n]
                if "scan_angle" in store:
                    store["scan_angle"][sl] = \
                        np.asarray(chunk[scan_field])[sel][:n] * scan_factor
                if has_rgb:  # per channel, straight into place (no (n, 3) temporaries)
                    channels = [np.asarray(chunk[c])[sel][:n] for c in ("red", "green",
                                                                        "blue")]
                    if not rgb16 and n and max(int(c.max()) for c in channels) > 255:
                        rgb16 = True  # every earlier value was <= 255, so >> 8 gives 0
                        store["rgb"][:done] = 0
                    dst = store["rgb"][sl]
                    for k, c in enumerate(channels):
                        if rgb16:
                            np.right_shift(c, 8, out=dst[:, k], casting="unsafe")
                        else:
                            np.copyto(dst[:, k], c, casting="unsafe")
                pending = [name for name in deferred
                           if name in FLAG_NAMES and name not in flags_set]
                if pending:  # one OR over each flag byte, not a mask array a flag
                    bits: dict[str, int] = {}
                    for name in pending:
                        field, sub = flag_bits.get(name, (None, None))
                        if field is None:
                            if np.asarray(chunk[name]).any():
                                flags_set.add(name)
                            continue
                        if field not in bits:
                            bits[field] = int(np.bitwise_or.reduce(
                                np.asarray(chunk.array[field]).ravel()))
                        if bits[field] & int(sub.mask):
                            flags_set.add(name)
                for name in optional:
                    values = np.asarray(chunk[name])[sel][:n]
                    if name not in store:
                        if not values.any():
                            continue
                        store[name] = np.zeros(cap, np.uint8)
                    store[name][sl] = values
                for name in extra_names:
                    values = np.asarray(chunk[name])[sel][:n]
                    key = extra_keys.setdefault(name, f"extra:{name}")
                    if key not in store:
                        store[key] = np.empty((cap,) + values.shape[1:], values.dtype)
                    store[key][sl] = values
                done += n
                report(0.95 * done / max(target, 1), f"Read {done:,} of {target:,} points")
        except (LoadError, LoadCancelled):
            raise
        except BaseException as exc:
            reraise_fatal(exc)
            raise as_load_error(path, info, exc, "points") from None

    return points_cloud(
        path, info, header, store, done=done, target=target, count=count, seen=seen,
        header_count=header_count, streamed=source is None, alloc=alloc, origin=origin,
        std=std, optional=optional, extra_names=extra_names, extra_keys=extra_keys, keep=keep,
        deferred=deferred, flags_set=flags_set, rgb16=rgb16, report=report)


def points_cloud(path: Path, info: LasInfo, header, store: dict[str, np.ndarray], *,
                 done: int, target: int, count: int, seen: int, header_count: int,
                 streamed: bool, alloc,
                 origin: np.ndarray | None, std, optional, extra_names, extra_keys, keep,
                 deferred: list[str], flags_set: set[str], rgb16: bool, report: ProgressFn,
                 int_bounds: tuple[np.ndarray, np.ndarray] | None = None) -> PointCloud:
    """The :class:`PointCloud` of the arrays :func:`read_points` (or a parallel reader of
    the same layout) filled: ``store`` holds ``xyz`` (int32, the file's integers,
    converted here in place to float32 local positions) and the attributes' arrays;
    ``int_bounds`` (per-axis integer min and max, when the reader kept them) saves a pass."""
    fmt = header.point_format
    warnings = list(info.warnings)
    if done == 0 and target > 0:
        raise LoadError(path, f"file is truncated: header says {count:,} points but none "
                        "could be read", CORRUPT_HINT)
    if done < target and streamed:
        warnings.append(f"header says {count:,} points but only {seen:,} could be read")
    if done == 0 and streamed:
        warnings.append(NO_POINTS)

    def fit(a: np.ndarray) -> np.ndarray:
        return a if len(a) == done else a[:done] if alloc is not None else a[:done].copy()

    ixyz = fit(store.pop("xyz"))
    scale = np.asarray(header.scales, np.float64)
    offset = np.asarray(header.offsets, np.float64)
    if done:
        if int_bounds is None:  # per column: far faster than ixyz.min(axis=0)
            int_bounds = (np.array([ixyz[:, k].min() for k in range(3)]),
                          np.array([ixyz[:, k].max() for k in range(3)]))
        imin = np.asarray(int_bounds[0], np.float64) * scale + offset
        imax = np.asarray(int_bounds[1], np.float64) * scale + offset
        lo, hi = np.minimum(imin, imax), np.maximum(imin, imax)
        if origin is None:
            origin = np.round((lo + hi) / 2.0)
            origin[~np.isfinite(origin)] = 0.0
    else:
        lo = hi = np.zeros(3)
        if origin is None:
            origin = np.zeros(3)
    origin = np.asarray(origin, np.float64)
    positions = to_local(ixyz, scale, offset - origin)

    attributes: dict[str, np.ndarray] = {}
    if "rgb" in store:
        attributes["rgb"] = fit(store.pop("rgb"))
    for name, _ in std:
        attributes[name] = fit(store.pop(name))
    if "scan_angle" in store:
        attributes["scan_angle"] = fit(store.pop("scan_angle"))
    for name in optional:
        if name in store:
            attributes[name] = fit(store.pop(name))
    extra_values = [(name, fit(store.pop(extra_keys[name]))) for name in extra_names
                    if extra_keys.get(name) in store]
    attributes.update(name_extra_dimensions(extra_values, info.extra_bytes_vlrs,
                                            set(attributes)))

    deferred_extras: list[str] = []  # their attribute names, as a full read names them
    if keep is not None:
        dtype = fmt.dtype()
        later = [(name, np.zeros((0,) + dtype[name].shape, dtype[name].base))
                 for name in fmt.extra_dimension_names if name in deferred]
        deferred_extras = list(name_extra_dimensions(later, info.extra_bytes_vlrs,
                                                     set(attributes)))

    from ..crs import GEOGRAPHIC_WARNING, crs_from_las_header, data_crs_warnings

    crs, crs_source, crs_warnings = crs_from_las_header(header)
    warnings.extend(crs_warnings)
    warnings.extend(data_crs_warnings(crs, lo, hi))  # a Gauss-Krüger zone prefix mismatch
    if crs is not None and crs.is_geographic:
        warnings.append(GEOGRAPHIC_WARNING)
    if info.copc:
        fmt_name = "COPC"
    elif info.compressed:
        fmt_name = "LAZ"
    else:
        fmt_name = "LAS"
    metadata: dict[str, Any] = {
        "format": fmt_name,
        "version": f"{info.version[0]}.{info.version[1]}",
        "point_format": info.point_format,
        "point_record_length": info.record_length,
        "header_point_count": header_count,
        "compressed": info.compressed,
        "scale": scale.tolist(),
        "offset": offset.tolist(),
        "bounds_min": lo.tolist(),
        "bounds_max": hi.tolist(),
        "generating_software": info.generating_software,
        "system_identifier": info.system_identifier,
        "global_encoding": info.global_encoding,
        "crs_source": crs_source,
        "extra_dimensions": [k for k in attributes if k not in _RESERVED],
        # attributes left in the file (read on demand): laspy names; flags only when set
        "deferred": [name for name in deferred
                     if name not in FLAG_NAMES or name in flags_set
                     if name not in deferred_extras] + deferred_extras,
        "scan_angle_unit": "degree",
        "rgb_16bit": bool(rgb16),
        "warnings": warnings,
    }
    try:
        metadata["creation_date"] = header.creation_date.isoformat() \
            if header.creation_date else None
    except Exception:
        metadata["creation_date"] = None
    if info.laszip:
        metadata["laszip_version"] = info.laszip["version"]
    if info.copc:
        metadata["copc"] = copc_info(header)
    report(1.0, f"Read {done:,} points")
    return PointCloud(positions=positions, origin=origin, attributes=attributes, crs=crs,
                      metadata=metadata)


def to_local(ixyz: np.ndarray, scale: np.ndarray, shift: np.ndarray,
             threads: int = 2) -> np.ndarray:
    """The float32 local positions ``ixyz * scale + shift`` of the file's integers, computed
    in ``ixyz``'s memory (a float32 view of it), a block and a column at a time on
    ``threads`` threads (numpy lets the GIL go)."""
    positions = ixyz.view(np.float32)
    done = len(ixyz)
    scale = np.asarray(scale, np.float64)
    shift = np.asarray(shift, np.float64)

    def run(a: int, b: int) -> None:
        tmp = np.empty(min(CONVERT_BLOCK, b - a), np.float64)
        for lo in range(a, b, CONVERT_BLOCK):
            hi = min(lo + CONVERT_BLOCK, b)
            t = tmp[:hi - lo]
            for k in range(3):
                # the same float64 arithmetic as ixyz * scale + shift, then rounded
                np.multiply(ixyz[lo:hi, k], scale[k], out=t)
                np.add(t, shift[k], out=t)
                positions[lo:hi, k] = t

    if threads <= 1 or done < 2 * CONVERT_BLOCK:
        run(0, done)
    else:
        from concurrent.futures import ThreadPoolExecutor

        cuts = [done * i // threads for i in range(threads + 1)]
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, cuts[:-1], cuts[1:]))
    return positions


def copc_info(header) -> dict[str, Any]:
    for vlr in header.vlrs:
        if type(vlr).__name__ == "CopcInfoVlr":
            return {
                "center": [float(v) for v in vlr.center],
                "halfsize": float(vlr.halfsize),
                "spacing": float(vlr.spacing),
                "hierarchy_root_offset": int(vlr.hierarchy_root_offset),
                "hierarchy_root_size": int(vlr.hierarchy_root_size),
                "gps_time_min": float(vlr.gps_min),
                "gps_time_max": float(vlr.gps_max),
            }
    return {}


def reraise_fatal(exc: BaseException) -> None:
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, LoadCancelled,
                        LoadError)):
        raise exc


def as_load_error(path: Path, info: LasInfo, exc: BaseException, stage: str) -> LoadError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = type(exc).__name__
    detail = f"{kind}: {text}" if text else kind
    what = "LAZ" if info.compressed else "LAS"
    if isinstance(exc, MemoryError):
        return LoadError(path, "not enough memory to read this file",
                         "close other layers or open a smaller file")
    if info.compressed:
        return LoadError(path, f"cannot decompress the {what} {stage}: {detail[:200]}",
                         CORRUPT_HINT + "; if it is valid elsewhere, convert it with "
                         "`pdal translate` or `laszip`")
    return LoadError(path, f"cannot read the {what} {stage}: {detail[:200]}", CORRUPT_HINT)


def read(path: Path, progress: ProgressFn | None = None) -> PointCloud:
    path = Path(path)
    info = parse_header(path)
    return read_points(path, info, progress)


def sniff(head: bytes, path: Path) -> bool:
    return head[:4] == b"LASF"


READERS = [ReaderSpec(name="LAS", extensions=("las", "laz", "copc.laz"), read=read,
                      sniff=sniff, score=10)]
