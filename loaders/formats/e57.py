"""E57 (ASTM E2807) point clouds via pye57 / libE57Format.

Every scan is read (cartesian or spherical), its pose applied, invalid points dropped,
and all scans concatenated. Intensity stays float32, colours become uint8 (scaled by the
scan's colour limits when they exceed 0-255). Structured-grid facts (row/column counts)
and the number of embedded images go into metadata.

``pye57.E57(path)`` is not used to open files: its error path refers to ``WindowsError``
(a NameError on Linux) and may try to delete the file, so the libE57 ImageFile is opened
directly. Before libE57 sees a file, its 48-byte physical header is checked against the
file size, and each scan's point count against the bits its record prototype needs, so a
mangled count cannot make pye57 allocate huge buffers.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from ..registry import ReaderSpec
from ..types import LoadCancelled, LoadError, PointCloud, ProgressFn, split_origin
from .las import NO_POINTS

SIGNATURE = b"ASTM-E57"
CHUNK = 1_000_000
HINT = "the file may be truncated or corrupt; re-export or re-download it"


def _check_physical_header(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(48)
    if len(head) < 48 or head[:8] != SIGNATURE:
        raise LoadError(path, "not an E57 file (it does not start with 'ASTM-E57')",
                        "check the file type; it may be misnamed")
    major, minor, length, xml_offset, xml_length, page_size = struct.unpack_from(
        "<IIQQQQ", head, 8)
    if major != 1:
        raise LoadError(path, f"unsupported E57 version {major}.{minor}", "")
    if page_size != 1024:
        raise LoadError(path, f"corrupt E57 header: page size {page_size} (must be 1024)", HINT)
    if length != size:
        raise LoadError(path, f"file is truncated or padded: the E57 header says "
                        f"{length:,} bytes but the file has {size:,}", HINT)
    if size % page_size:
        raise LoadError(path, "file size is not a whole number of E57 pages", HINT)
    if xml_offset >= size or xml_offset + xml_length > size or xml_length == 0:
        raise LoadError(path, "corrupt E57 header: the XML section lies outside the file",
                        HINT)


def _bits_of(node) -> float:
    """Minimum bits a record field needs in a compressed vector (0 when constant)."""
    from pye57 import libe57

    kind = node.type()
    if kind == libe57.NodeType.E57_FLOAT:
        return 32.0 if libe57.FloatNode(node).precision() == libe57.E57_SINGLE else 64.0
    if kind == libe57.NodeType.E57_INTEGER:
        n = libe57.IntegerNode(node)
    elif kind == libe57.NodeType.E57_SCALED_INTEGER:
        n = libe57.ScaledIntegerNode(node)
    else:
        return 0.0
    return float(np.log2(max(float(n.maximum()) - float(n.minimum()), 0.0) + 1.0))


def _fail(path: Path, exc: BaseException) -> LoadError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = text.lower()
    if "checksum" in low:
        return LoadError(path, "checksum mismatch, file is corrupted", HINT)
    if isinstance(exc, MemoryError):
        return LoadError(path, "not enough memory to read this file",
                         "close other layers or open a smaller file")
    return LoadError(path, f"cannot read E57 file: {text[:250]}", HINT)


def read(path: Path, progress: ProgressFn | None = None) -> PointCloud:
    path = Path(path)
    _check_physical_header(path)
    report = progress or (lambda f, m: None)
    report(0.0, "Opening E57 file")
    try:
        return _read(path, report)
    except (LoadError, LoadCancelled):
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        raise _fail(path, exc) from None


def _read(path: Path, report) -> PointCloud:
    import pye57
    from pye57 import libe57
    from pye57.e57 import SUPPORTED_POINT_FIELDS

    image_file = libe57.ImageFile(str(path), "r")
    e57 = pye57.E57.__new__(pye57.E57)
    e57.path = str(path)
    e57.image_file = image_file
    try:
        root = image_file.root()
        size = path.stat().st_size
        n_scans = e57.scan_count
        headers = [e57.get_header(i) for i in range(n_scans)]
        total = 0
        for i, h in enumerate(headers):
            proto = libe57.StructureNode(h.points.prototype())
            bits = sum(_bits_of(proto.get(k)) for k in range(proto.childCount()))
            n = int(h.point_count)
            if n < 0 or (bits > 0 and n * bits / 8 > size) or (bits == 0 and n > size * 8):
                raise LoadError(path, f"corrupt E57: scan {i} claims {n:,} points, more than "
                                f"the {size:,}-byte file can hold", HINT)
            total += n

        chunks_xyz, chunks_int, chunks_rgb, chunks_scan = [], [], [], []
        scans_meta: list[dict[str, Any]] = []
        any_intensity = any("intensity" in h.point_fields for h in headers)
        any_colour = any("colorRed" in h.point_fields for h in headers)
        done = 0
        for i, h in enumerate(headers):
            fields = set(h.point_fields)
            cartesian = "cartesianX" in fields
            coords = (["cartesianX", "cartesianY", "cartesianZ"] if cartesian else
                      ["sphericalRange", "sphericalAzimuth", "sphericalElevation"])
            if not set(coords) <= fields:
                raise LoadError(path, f"scan {i} has neither cartesian nor spherical "
                                "coordinates", HINT)
            wanted = list(coords)
            if "intensity" in fields:
                wanted.append("intensity")
            colours = [c for c in ("colorRed", "colorGreen", "colorBlue") if c in fields]
            if len(colours) == 3:
                wanted += colours
            invalid = "cartesianInvalidState" if cartesian else "sphericalInvalidState"
            if invalid in fields:
                wanted.append(invalid)
            n = int(h.point_count)
            if n == 0:  # libE57 refuses to open a reader on zero records
                scans_meta.append(_scan_meta(h, i, cartesian))
                continue
            cap = max(1, min(n, CHUNK))
            data, buffers = {}, libe57.VectorSourceDestBuffer()
            for name in wanted:
                dtype = np.uint16 if name.startswith("color") else SUPPORTED_POINT_FIELDS[name]
                arr = np.empty(cap, dtype)
                data[name] = arr
                buffers.append(libe57.SourceDestBuffer(image_file, name, arr, cap, True, True))
            reader = h.points.reader(buffers)
            try:
                got = 0
                while got < n:
                    k = reader.read()
                    if k <= 0:
                        break
                    got += k
                    block = {name: data[name][:k].copy() for name in wanted}
                    keep = block[invalid] == 0 if invalid in block else slice(None)
                    xyz = np.stack([block[c][keep] for c in coords], axis=1).astype(np.float64)
                    if not cartesian:
                        xyz = pye57.e57.convert_spherical_to_cartesian(xyz)
                    if h.has_pose():
                        xyz = xyz @ np.asarray(h.rotation_matrix, np.float64).T + \
                            np.asarray(h.translation, np.float64)
                    chunks_xyz.append(xyz)
                    m = len(xyz)
                    if any_intensity:
                        chunks_int.append(block["intensity"][keep].astype(np.float32)
                                          if "intensity" in block else np.zeros(m, np.float32))
                    if any_colour:
                        if len(colours) == 3:
                            rgb = np.stack([block[c][keep] for c in colours], axis=1)
                            chunks_rgb.append(_to_uint8(h, rgb))
                        else:
                            chunks_rgb.append(np.zeros((m, 3), np.uint8))
                    if n_scans > 1:
                        chunks_scan.append(np.full(m, i, np.uint16))
                    done += k
                    report(0.9 * done / max(total, 1), f"Read {done:,} of {total:,} points")
            finally:
                reader.close()
            if got < n:
                raise LoadError(path, f"file is truncated: scan {i} says {n:,} points but "
                                f"only {got:,} could be read", HINT)
            scans_meta.append(_scan_meta(h, i, cartesian))
        images = 0
        if root.isDefined("images2D"):
            images = libe57.VectorNode(root.get("images2D")).childCount()
    finally:
        try:
            image_file.close()
        except Exception:
            pass

    xyz = np.concatenate(chunks_xyz) if chunks_xyz else np.zeros((0, 3))
    positions, origin = split_origin(xyz)
    lo = xyz.min(axis=0) if len(xyz) else np.zeros(3)
    hi = xyz.max(axis=0) if len(xyz) else np.zeros(3)
    del xyz
    attributes: dict[str, np.ndarray] = {}
    if any_intensity:
        attributes["intensity"] = np.concatenate(chunks_int) if chunks_int else \
            np.zeros(0, np.float32)
    if any_colour:
        attributes["rgb"] = np.concatenate(chunks_rgb) if chunks_rgb else \
            np.zeros((0, 3), np.uint8)
    if n_scans > 1:
        attributes["scan_index"] = np.concatenate(chunks_scan) if chunks_scan else \
            np.zeros(0, np.uint16)
    warnings: list[str] = []
    if len(positions) == 0:
        warnings.append(NO_POINTS + (f" ({n_scans} scan{'s' if n_scans != 1 else ''} "
                                     f"without points" if n_scans else " (no scans")
                        + (f", {images} image{'s' if images != 1 else ''})" if images
                           else ")"))
    if len(positions) < total:
        warnings.append(f"{total - len(positions):,} of {total:,} points are marked invalid "
                        "and were skipped")
    metadata = {
        "format": "E57",
        "version": "1.0",
        "scan_count": n_scans,
        "header_point_count": total,
        "scans": scans_meta,
        "image_count": images,
        "structured": any(s.get("grid") for s in scans_meta),
        "bounds_min": np.asarray(lo, float).tolist(),
        "bounds_max": np.asarray(hi, float).tolist(),
        "warnings": warnings,
    }
    report(1.0, f"Read {len(positions):,} points")
    return PointCloud(positions=positions, origin=origin, attributes=attributes, crs=None,
                      metadata=metadata)


def _to_uint8(header, rgb: np.ndarray) -> np.ndarray:
    lo, hi = 0.0, 255.0
    try:
        limits = header.node["colorLimits"]
        lo = float(limits["colorRedMinimum"].value())
        hi = float(limits["colorRedMaximum"].value())
    except Exception:
        pass
    if lo == 0 and hi <= 255:
        return np.clip(rgb, 0, 255).astype(np.uint8)
    span = max(hi - lo, 1.0)
    return np.clip((rgb.astype(np.float64) - lo) * (255.0 / span), 0, 255).astype(np.uint8)


def _scan_meta(h, index: int, cartesian: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"index": index, "point_count": int(h.point_count),
                            "coordinates": "cartesian" if cartesian else "spherical",
                            "fields": list(h.point_fields)}
    try:
        meta["name"] = h.node["name"].value() if h.node.isDefined("name") else None
        meta["guid"] = h.guid
    except Exception:
        pass
    try:
        if h.has_pose():
            meta["rotation"] = [float(v) for v in h.rotation]
            meta["translation"] = [float(v) for v in h.translation]
    except Exception:
        pass
    fields = set(h.point_fields)
    if {"rowIndex", "columnIndex"} <= fields:
        try:
            rows = int(h.rowMaximum) - int(h.rowMinimum) + 1
            cols = int(h.columnMaximum) - int(h.columnMinimum) + 1
            meta["grid"] = {"rows": rows, "columns": cols}
        except Exception:
            meta["grid"] = {"rows": None, "columns": None}
    return meta


def sniff(head: bytes, path: Path) -> bool:
    return head[:8] == SIGNATURE


READERS = [ReaderSpec(name="E57", extensions=("e57",), read=read, sniff=sniff, score=10)]
