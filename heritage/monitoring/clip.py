"""Clip regions and the full-resolution clip export of a LAS/LAZ/COPC file.

Regions (plain data, coordinates in the file's CRS):

- :class:`Box`: axis-aligned ``min``/``max`` corners, optionally turned by ``angle``
  degrees about Z around its centre;
- :class:`Polygon`: a 2D outline in XY (a vertex list or WKT, holes allowed) with an
  optional Z range; a polygon annotation becomes one (:func:`region_from_annotation`);
- :class:`Slab`: the points within ``thickness / 2`` of a plane (point + normal).

Each has ``mask(xyz, inside=True)`` (a bool array; ``inside=False`` gives the
complement) and ``bounds()`` (the axis-aligned box holding the region, ±inf where it is
unbounded), which decides which COPC nodes are read.

>>> from heritage.monitoring.clip import Box, clip_file
>>> clip_file("site.laz", Box((10, 20, 0), (30, 40, 50)), "part.laz")

:func:`clip_file` writes every point of the region at full resolution, never the drawn
subset: a LAS/LAZ source is read in chunks (laspy ``chunk_iterator``); a COPC source and a
bounded region read only the octree nodes the region's bounds touch. The output keeps the
point format, version, every dimension (extra bytes too), scales/offsets, the CRS and the
VLRs/EVLRs that stay valid (the COPC info VLR and hierarchy EVLR are dropped: they describe
the source's octree). ``.copc.laz`` output: LAZ first, then indexed with the project's COPC
writer (:func:`loaders.writers.copc.write_copc`, which stores formats 0-5 as 6/7).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loaders.safety import UnsafePath, open_regular
from loaders.types import LoadCancelled, LoadError, ProgressFn

CHUNK_POINTS = 1_000_000  # points per chunk read from a LAS/LAZ source
NODE_BATCH_POINTS = 2_000_000  # points decompressed at once from a COPC source
OUTPUT_SUFFIXES = (".copc.laz", ".laz", ".las")

Vec3 = tuple[float, float, float]


def _xyz(xyz: Any) -> np.ndarray:
    arr = np.asarray(xyz, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"expected an (N, 3) array of positions, got shape {arr.shape}")
    return arr


def _vec(values: Sequence[float], n: int, what: str) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if len(out) != n or not all(math.isfinite(v) for v in out):
        raise ValueError(f"{what}: expected {n} finite numbers, got {values!r}")
    return out


class Region:
    """Base of the clip regions: ``mask`` and ``bounds``."""

    def _inside(self, xyz: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def mask(self, xyz: Any, inside: bool = True) -> np.ndarray:
        """Bool array over the (N, 3) positions: True where a point is inside the region
        (its boundary included), or outside it with ``inside=False``."""
        m = self._inside(_xyz(xyz))
        return m if inside else ~m

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def is_bounded(self) -> bool:
        """True when the bounds restrict at least one axis (so a COPC query helps)."""
        lo, hi = self.bounds()
        return bool(np.any(np.isfinite(lo) | np.isfinite(hi)))


@dataclass(frozen=True)
class Box(Region):
    """A box from ``min`` to ``max`` (inclusive), turned ``angle`` degrees about the Z
    axis through its centre (counter-clockwise seen from above)."""

    min: Vec3
    max: Vec3
    angle: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = _vec(self.min, 3, "box min"), _vec(self.max, 3, "box max")
        if any(a > b for a, b in zip(lo, hi, strict=True)):
            raise ValueError(f"box min {lo} is above its max {hi} on some axis")
        if not math.isfinite(float(self.angle)):
            raise ValueError("box angle must be a finite number of degrees")
        object.__setattr__(self, "min", lo)
        object.__setattr__(self, "max", hi)
        object.__setattr__(self, "angle", float(self.angle))

    @classmethod
    def parse(cls, text: str, angle: float = 0.0) -> Box:
        """``"XMIN,YMIN,ZMIN,XMAX,YMAX,ZMAX"`` -> Box (ValueError when malformed)."""
        parts = [p for p in text.replace(" ", "").split(",") if p != ""]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"box {text!r}: not six numbers XMIN,YMIN,ZMIN,XMAX,YMAX,ZMAX") \
                from None
        if len(values) != 6:
            raise ValueError(f"box {text!r}: expected six numbers XMIN,YMIN,ZMIN,XMAX,YMAX,"
                             f"ZMAX, got {len(values)}")
        return cls(tuple(values[:3]), tuple(values[3:]), angle)

    def _inside(self, xyz: np.ndarray) -> np.ndarray:
        lo, hi = self.min, self.max
        z = xyz[:, 2]
        m = (z >= lo[2]) & (z <= hi[2])
        if self.angle % 360.0 == 0.0:
            x, y = xyz[:, 0], xyz[:, 1]
            return m & (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
        cx, cy = (lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0
        hx, hy = (hi[0] - lo[0]) / 2.0, (hi[1] - lo[1]) / 2.0
        a = math.radians(self.angle)
        c, s = math.cos(a), math.sin(a)
        dx, dy = xyz[:, 0] - cx, xyz[:, 1] - cy
        u = c * dx + s * dy  # rotate by -angle into the box's own axes
        v = -s * dx + c * dy
        return m & (np.abs(u) <= hx) & (np.abs(v) <= hy)

    def corners_xy(self) -> np.ndarray:
        """(4, 2) corners in XY after the rotation (counter-clockwise)."""
        lo, hi = self.min, self.max
        cx, cy = (lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0
        hx, hy = (hi[0] - lo[0]) / 2.0, (hi[1] - lo[1]) / 2.0
        a = math.radians(self.angle)
        c, s = math.cos(a), math.sin(a)
        local = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
        return np.c_[cx + c * local[:, 0] - s * local[:, 1],
                     cy + s * local[:, 0] + c * local[:, 1]]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.angle % 360.0 == 0.0:
            return np.array(self.min), np.array(self.max)
        xy = self.corners_xy()
        return (np.r_[xy.min(axis=0), self.min[2]], np.r_[xy.max(axis=0), self.max[2]])


@dataclass(frozen=True)
class Polygon(Region):
    """A polygon in XY (``vertices`` of its outline, optional ``holes``), with an optional
    Z range; without one it reaches through every height."""

    vertices: tuple[tuple[float, float], ...]
    holes: tuple[tuple[tuple[float, float], ...], ...] = ()
    zmin: float | None = None
    zmax: float | None = None
    _geom: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import shapely

        def ring(points: Any, what: str) -> tuple[tuple[float, float], ...]:
            out = []
            for p in points:
                p = tuple(p)
                if len(p) < 2:
                    raise ValueError(f"{what}: each vertex needs x and y, got {p!r}")
                out.append(_vec(p[:2], 2, what))
            if len(out) > 1 and out[0] == out[-1]:
                out.pop()
            if len(out) < 3:
                raise ValueError(f"{what}: a polygon needs at least 3 distinct vertices")
            return tuple(out)

        shell = ring(self.vertices, "polygon")
        holes = tuple(ring(h, "polygon hole") for h in self.holes)
        zmin = None if self.zmin is None else float(self.zmin)
        zmax = None if self.zmax is None else float(self.zmax)
        if zmin is not None and zmax is not None and zmin > zmax:
            raise ValueError(f"polygon zmin {zmin} is above zmax {zmax}")
        geom = shapely.Polygon(shell, holes)
        if geom.area <= 0:
            raise ValueError("the polygon has no area")
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        shapely.prepare(geom)
        object.__setattr__(self, "vertices", shell)
        object.__setattr__(self, "holes", holes)
        object.__setattr__(self, "zmin", zmin)
        object.__setattr__(self, "zmax", zmax)
        object.__setattr__(self, "_geom", geom)

    @classmethod
    def from_wkt(cls, text: str, zmin: float | None = None,
                 zmax: float | None = None) -> Polygon:
        """A WKT ``POLYGON`` (Z values ignored) -> Polygon (ValueError otherwise)."""
        import shapely
        import shapely.wkt

        try:
            geom = shapely.wkt.loads(text)
        except Exception as exc:
            raise ValueError(f"polygon WKT cannot be read: {' '.join(str(exc).split())[:200]}") \
                from None
        if isinstance(geom, shapely.MultiPolygon) and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if not isinstance(geom, shapely.Polygon):
            raise ValueError(f"expected a WKT POLYGON, got {geom.geom_type}")
        return cls(tuple(tuple(c[:2]) for c in geom.exterior.coords),
                   tuple(tuple(tuple(c[:2]) for c in r.coords) for r in geom.interiors),
                   zmin, zmax)

    @property
    def geometry(self) -> Any:
        """The shapely geometry (prepared)."""
        return self._geom

    def _inside(self, xyz: np.ndarray) -> np.ndarray:
        import shapely

        x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
        x0, y0, x1, y1 = self._geom.bounds
        m = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        if self.zmin is not None:
            m &= z >= self.zmin
        if self.zmax is not None:
            m &= z <= self.zmax
        idx = np.flatnonzero(m)
        if len(idx):
            m[idx] = shapely.intersects_xy(self._geom, x[idx], y[idx])
        return m

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = self._geom.bounds
        return (np.array([x0, y0, -np.inf if self.zmin is None else self.zmin]),
                np.array([x1, y1, np.inf if self.zmax is None else self.zmax]))

    def to_wkt(self) -> str:
        return self._geom.wkt


@dataclass(frozen=True)
class Slab(Region):
    """The points within ``thickness / 2`` of the plane through ``point`` with ``normal``
    (a section slice)."""

    point: Vec3
    normal: Vec3
    thickness: float

    def __post_init__(self) -> None:
        p = _vec(self.point, 3, "slab point")
        n = np.array(_vec(self.normal, 3, "slab normal"))
        length = float(np.linalg.norm(n))
        if length == 0:
            raise ValueError("slab normal must not be zero")
        t = float(self.thickness)
        if not (math.isfinite(t) and t > 0):
            raise ValueError(f"slab thickness must be a positive number, got {self.thickness}")
        object.__setattr__(self, "point", p)
        object.__setattr__(self, "normal", tuple(float(v) for v in n / length))
        object.__setattr__(self, "thickness", t)

    def distance(self, xyz: Any) -> np.ndarray:
        """Signed distance of each point from the plane."""
        return (_xyz(xyz) - np.array(self.point)) @ np.array(self.normal)

    def _inside(self, xyz: np.ndarray) -> np.ndarray:
        return np.abs(self.distance(xyz)) <= self.thickness / 2.0

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.full(3, -np.inf), np.full(3, np.inf)
        n = np.array(self.normal)
        axis = int(np.argmax(np.abs(n)))
        if np.count_nonzero(n) == 1:  # a slab across one axis is bounded along it
            lo[axis] = self.point[axis] - self.thickness / 2.0
            hi[axis] = self.point[axis] + self.thickness / 2.0
        return lo, hi


def region_from_annotation(annotation: Any, zmin: float | None = None,
                           zmax: float | None = None) -> Region:
    """A polygon annotation -> :class:`Polygon` (its vertices in XY; ``zmin``/``zmax``
    give the height range, default: every height); a box annotation -> :class:`Box`.
    The annotation's points must be in the coordinates of the file to clip."""
    kind = getattr(annotation, "kind", None)
    points = [list(p) for p in getattr(annotation, "points", [])]
    if kind == "polygon":
        return Polygon(tuple((p[0], p[1]) for p in points), zmin=zmin, zmax=zmax)
    if kind == "box":
        lo = [min(p[i] for p in points) for i in range(3)]
        hi = [max(p[i] for p in points) for i in range(3)]
        return Box(tuple(lo), tuple(hi))
    raise ValueError(f"a {kind} annotation has no area to clip by: draw a polygon or a box")


# --------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------


@dataclass
class ClipResult:
    """What :func:`clip_file` did."""

    output: Path
    points_written: int
    points_read: int  # points decoded from the source
    source_points: int  # points in the source
    bytes_read: int  # bytes read from the source file
    source_bytes: int
    nodes_read: int = 0  # COPC nodes decoded (0 for a LAS/LAZ source)
    nodes_total: int = 0
    copc_query: bool = False  # True when only the touched COPC nodes were read
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


class _CountingFile:
    """A read-only file object that counts the bytes read through it."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.bytes_read += len(data)
        return data

    def readinto(self, buf: Any) -> int:
        n = self._fh.readinto(buf)
        self.bytes_read += n or 0
        return n

    def seek(self, pos: int, whence: int = 0) -> int:
        return self._fh.seek(pos, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._fh.close()


def _is_copc_record(vlr: Any) -> bool:
    return str(getattr(vlr, "user_id", "")).strip("\x00 ") == "copc" \
        or type(vlr).__name__ in ("CopcInfoVlr", "CopcHierarchyVlr")


def _output_header(header: Any, evlrs: list[Any]) -> tuple[Any, list[Any]]:
    """A copy of the source header for the clip: the COPC records and the laszip VLR
    dropped (the writer makes its own), everything else kept."""
    from laspy.vlrs.vlrlist import VLRList

    out = copy.deepcopy(header)
    keep = [v for v in out.vlrs
            if not _is_copc_record(v) and type(v).__name__ != "LasZipVlr"]
    out.vlrs = VLRList(keep)
    out.evlrs = None
    return out, [v for v in evlrs if not _is_copc_record(v)]


def _output_kind(out: Path) -> str:
    name = out.name.lower()
    for suffix in OUTPUT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    raise LoadError(out, "unknown output type", "name the output NAME.las, NAME.laz or "
                    "NAME.copc.laz")


def _check(progress: ProgressFn, cancel: Callable[[], bool] | None, fraction: float,
           message: str) -> None:
    if cancel is not None and cancel():
        raise LoadCancelled("clip cancelled")
    progress(min(max(fraction, 0.0), 1.0), message)


def clip_file(src_path: str | os.PathLike, region: Region, out_path: str | os.PathLike, *,
              outside: bool = False, progress: ProgressFn | None = None,
              cancel: Callable[[], bool] | None = None,
              chunk_points: int = CHUNK_POINTS) -> ClipResult:
    """Write the points of ``src_path`` inside ``region`` (outside it with ``outside``)
    at full resolution to ``out_path`` (.las, .laz or .copc.laz).

    ``progress(fraction, message)`` is called along the way and may raise
    :class:`LoadCancelled`; ``cancel()`` returning True stops too (LoadCancelled). A stop
    or an error leaves no output behind. Raises :class:`LoadError` for a missing,
    irregular, broken or non-LAS source and an unwritable output.
    """
    from loaders.formats import las

    started = time.perf_counter()
    report = progress or (lambda f, m: None)
    src, out = Path(src_path), Path(out_path)
    if not isinstance(region, Region):
        raise TypeError("region must be a Box, Polygon or Slab")
    if not src.exists():
        raise LoadError(src, "file not found", "check the path")
    if src.is_dir():
        raise LoadError(src, "is a folder, not a LAS/LAZ file")
    kind = _output_kind(out)
    try:
        fh = open_regular(src)
    except UnsafePath as exc:
        raise LoadError(src, exc.reason, "clip a regular LAS/LAZ file") from None
    fh.close()
    info = las.parse_header(src)  # sanity checks of the declared counts and sizes
    if out.exists() and out.resolve() == src.resolve():
        raise LoadError(out, "the output would overwrite the source file",
                        "choose another output path")
    if out.is_dir():
        raise LoadError(out, "the output is a folder", "give a file name like NAME.laz")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LoadError(out, f"cannot create the output folder: {exc.strerror or exc}") \
            from None

    use_copc = bool(info.copc) and not outside and region.is_bounded()
    if kind == ".copc.laz":
        laz_out = out.with_name(out.name[: -len(".copc.laz")] + ".clip-part.laz")
    else:
        laz_out = out.with_name(out.name + ".part")
    share = 0.6 if kind == ".copc.laz" else 1.0

    def sub(f: float, m: str) -> None:
        _check(report, cancel, f * share, m)

    try:
        try:
            if use_copc:
                result = _clip_copc(src, info, region, laz_out, kind != ".las", sub)
            else:
                result = _clip_chunks(src, info, region, outside, laz_out, kind != ".las",
                                      sub, chunk_points)
        except (LoadError, LoadCancelled, KeyboardInterrupt):
            raise
        except BaseException as exc:
            las.reraise_fatal(exc)
            if isinstance(exc, OSError) and exc.filename and Path(exc.filename) == laz_out:
                raise LoadError(out, f"cannot write the clip: {exc.strerror or exc}",
                                "check free disk space and write permission") from None
            raise las.as_load_error(src, info, exc, "points") from None
        if kind == ".copc.laz":
            if result.points_written == 0:
                raise LoadError(out, "no points lie in the clip region, so there is nothing "
                                "to index as COPC", "check that the region is given in the "
                                "file's coordinates, or write .laz")
            from loaders.writers.copc import write_copc

            write_copc(laz_out, out, progress=lambda f, m: _check(
                report, cancel, 0.6 + 0.4 * f, m))
            laz_out.unlink()
        else:
            os.replace(laz_out, out)
    except BaseException:
        try:
            laz_out.unlink()
        except OSError:
            pass
        raise
    result.output = out
    result.seconds = time.perf_counter() - started
    if result.points_written == 0:
        result.warnings.append("no points lie in the clip region (is it in the file's "
                               "coordinates?)")
    report(1.0, f"Wrote {out.name}: {result.points_written:,} of "
                f"{result.source_points:,} points")
    return result


def _positions(points: Any) -> np.ndarray:
    return np.stack([np.asarray(points.x), np.asarray(points.y), np.asarray(points.z)], axis=1)


def _writer(path: Path, header: Any, compress: bool) -> Any:
    import laspy

    return laspy.LasWriter(open(path, "wb"), header=header, do_compress=compress)


def _clip_chunks(src: Path, info: Any, region: Region, outside: bool, out: Path,
                 compress: bool, report: ProgressFn, chunk_points: int) -> ClipResult:
    import laspy

    total = int(info.point_count)
    raw = open_regular(src)
    counted = _CountingFile(raw)
    written = done = 0
    with laspy.open(counted, closefd=True) as reader:
        header, evlrs = _output_header(reader.header, list(reader.header.evlrs or []))
        with _writer(out, header, compress) as writer:
            for chunk in reader.chunk_iterator(max(int(chunk_points), 1)):
                left = total - done
                if left <= 0:
                    break
                if len(chunk) > left:
                    chunk = chunk[:left]
                done += len(chunk)
                keep = region.mask(_positions(chunk), inside=not outside)
                if keep.any():
                    writer.write_points(chunk[keep])
                    written += int(keep.sum())
                report(done / max(total, 1),
                       f"Clipped {done:,} of {total:,} points ({written:,} kept)")
            if evlrs and header.version.minor >= 4:
                writer.write_evlrs(evlrs)
    return ClipResult(out, written, done, total, counted.bytes_read, info.file_size)


def _copc_evlrs(counted: _CountingFile, info: Any) -> list[Any]:
    """The source's EVLRs other than the COPC hierarchy, read from the file."""
    import laspy

    out = []
    for user, rid, offset, length in info.evlrs:
        if user.strip("\x00 ") == "copc":
            continue
        counted.seek(offset - 60)
        head = counted.read(60)
        data = counted.read(length)
        description = head[20:52].split(b"\x00", 1)[0].decode("ascii", "replace")
        out.append(laspy.VLR(user, rid, description, data))
    return out


def _clip_copc(src: Path, info: Any, region: Region, out: Path, compress: bool,
               report: ProgressFn) -> ClipResult:
    from laspy.copc import Bounds, CopcReader, load_octree_for_query

    raw = open_regular(src)
    counted = _CountingFile(raw)
    total = int(info.point_count)
    with CopcReader(counted, close_fd=True) as reader:
        lo, hi = region.bounds()
        eps = np.abs(np.asarray(reader.header.scales, np.float64))
        hmin, hmax = np.asarray(reader.header.mins), np.asarray(reader.header.maxs)
        qlo = np.where(np.isfinite(lo), lo - eps, hmin - 1.0)
        qhi = np.where(np.isfinite(hi), hi + eps, hmax + 1.0)
        nodes = load_octree_for_query(counted, reader.copc_info, reader.root_page,
                                      query_bounds=Bounds(qlo, qhi))
        all_entries = [e for e in reader.root_page.entries.values() if e.point_count >= 0]
        nodes = [n for n in nodes if n.point_count > 0]
        for n in nodes:  # a file from a stranger: every node must lie inside the file
            if n.offset < info.offset_to_points or n.byte_size <= 0 \
                    or n.offset + n.byte_size > info.file_size or n.point_count > total:
                raise LoadError(src, f"corrupt COPC hierarchy: node {n.key} points outside "
                                "the file or holds more points than the header declares",
                                "re-index the source with `realscene index`")
        need = sum(n.point_count for n in nodes)
        if need > total:
            raise LoadError(src, f"corrupt COPC hierarchy: the nodes hold {need:,} points, "
                            f"the header {total:,}", "re-index the source")
        header, evlrs = _output_header(reader.header, _copc_evlrs(counted, info))
        nodes.sort(key=lambda n: n.offset)
        written = done = 0
        with _writer(out, header, compress) as writer:
            batch: list[Any] = []
            size = 0
            for i, node in enumerate(nodes):
                batch.append(node)
                size += node.point_count
                if size < NODE_BATCH_POINTS and i < len(nodes) - 1:
                    continue
                points = reader._fetch_and_decompress_points_of_nodes(batch)
                done += len(points)
                keep = region.mask(_positions(points))
                if keep.any():
                    writer.write_points(points[keep])
                    written += int(keep.sum())
                batch, size = [], 0
                report(done / max(need, 1),
                       f"Clipped {done:,} of {need:,} points in {i + 1} of {len(nodes)} "
                       f"nodes ({written:,} kept)")
            if evlrs and header.version.minor >= 4:
                writer.write_evlrs(evlrs)
    return ClipResult(out, written, done, total, counted.bytes_read, info.file_size,
                      nodes_read=len(nodes), nodes_total=max(len(all_entries), len(nodes)),
                      copc_query=True)
