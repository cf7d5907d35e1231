"""Profiles: the 2D cross-section of a vertical slab through the scene.

A :class:`ProfileLine` is two XY points and a half-width: the corridor of points within
``half_width`` of the segment (measured across it, every height). It is a clip
:class:`~heritage.monitoring.clip.Region`, so ``clip_file(path, line, out)`` exports the
corridor at full resolution too. :func:`profile_layers` cuts every layer along it:

- point layers: the points inside the corridor, projected to (distance along the line,
  height) with their colours and classes -- read at full resolution from the file when the
  layer is a LAS/LAZ/COPC on disk (chunked as :func:`~heritage.monitoring.clip.clip_file`
  reads, a COPC only in the octree nodes the corridor touches), else from the in-memory
  data;
- meshes, city models, IFC models: the cut lines, the intersection of the triangles with
  the section plane (:func:`trimesh.intersections.mesh_plane`) within the segment,
  projected the same way, each segment knowing its object (CityJSON id / IFC GlobalId) or
  mesh part.

:meth:`Profile.write` exports CSV (distance, height, x, y, z, layer, class, segment),
SVG or PNG (matplotlib, no pyplot; axes in metres or the scene's units);
:func:`draw_profile` draws on any matplotlib axes (the window's panel uses it too).
:class:`ProfileMeasurement` is a measurement between two points of the profile
(horizontal, vertical, slope distance and slope angle), back in 3D by
:meth:`ProfileLine.to_xyz`.

>>> line = ProfileLine.parse("85000,447500,85070,447560", width=1.0)
>>> profile = profile_files(["ahn3.laz", "testarea.obj"], line)
>>> profile.write("section.svg")

No Qt, no VTK.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loaders.safety import UnsafePath, open_regular
from loaders.types import LoadCancelled, LoadError, Mesh, PointCloud, ProgressFn

from .clip import Region, Slab

CHUNK_POINTS = 1_000_000
OUTPUT_SUFFIXES = (".csv", ".svg", ".png")
#: cut-line colours by layer (a layer's lines share one colour)
LINE_COLORS = ("#1f3a93", "#c0392b", "#117a65", "#7d3c98", "#b9770e", "#2e4053")
POINT_GREY = (0.35, 0.35, 0.35)


def _finite(values: Sequence[float], n: int, what: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected {n} numbers, got {values!r}") from None
    if len(out) != n or not all(math.isfinite(v) for v in out):
        raise ValueError(f"{what}: expected {n} finite numbers, got {values!r}")
    return out


@dataclass(frozen=True)
class ProfileLine(Region):
    """The section line from ``start`` to ``end`` (XY) and the corridor ``half_width``
    either side of it; distances along the line start at 0 at ``start``."""

    start: tuple[float, float]
    end: tuple[float, float]
    half_width: float

    def __post_init__(self) -> None:
        a = _finite(self.start, 2, "profile start")
        b = _finite(self.end, 2, "profile end")
        if math.hypot(b[0] - a[0], b[1] - a[1]) <= 0:
            raise ValueError("the profile line needs two different points")
        w = float(self.half_width)
        if not (math.isfinite(w) and w > 0):
            raise ValueError(f"the profile width must be a positive number, got "
                             f"{2 * w if math.isfinite(w) else self.half_width}")
        object.__setattr__(self, "start", a)
        object.__setattr__(self, "end", b)
        object.__setattr__(self, "half_width", w)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, width: float) -> ProfileLine:
        """``"X1,Y1,X2,Y2"`` and the full ``width`` of the corridor -> ProfileLine
        (ValueError when malformed)."""
        parts = [p for p in str(text).replace(" ", "").split(",") if p != ""]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"line {text!r}: not four numbers X1,Y1,X2,Y2") from None
        if len(values) != 4:
            raise ValueError(f"line {text!r}: expected four numbers X1,Y1,X2,Y2, got "
                             f"{len(values)}")
        return cls(tuple(values[:2]), tuple(values[2:]), float(width) / 2.0)

    @classmethod
    def from_points(cls, points: Sequence[Sequence[float]], width: float) -> ProfileLine:
        """From the first and last of ``points`` (two clicks, or a polyline annotation's
        vertices; only X and Y are used) and the full ``width``."""
        pts = [tuple(p) for p in points]
        if len(pts) < 2:
            raise ValueError("a profile line needs two points")
        return cls(tuple(pts[0][:2]), tuple(pts[-1][:2]), float(width) / 2.0)

    @classmethod
    def from_slab(cls, slab: Slab, extent: Sequence[float]) -> ProfileLine:
        """The profile of a vertical :class:`Slab` (its normal horizontal), across the XY
        ``extent`` (XMIN, YMIN, XMAX, YMAX) of the data: the line lies in the slab's
        middle plane, from the extent's first corner along it to its last."""
        n = np.asarray(slab.normal, dtype=np.float64)
        if abs(n[2]) > 1e-6 * max(1.0, float(np.hypot(n[0], n[1]))):
            raise ValueError("a profile needs a vertical section plane (a slab whose normal "
                             "is horizontal)")
        x0, y0, x1, y1 = _finite(extent, 4, "extent")
        normal = n[:2] / np.hypot(n[0], n[1])
        direction = np.array([-normal[1], normal[0]])
        p = np.asarray(slab.point[:2], dtype=np.float64)
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
        t = (corners - p) @ direction
        lo, hi = float(t.min()), float(t.max())
        if hi - lo <= 0:
            raise ValueError("the extent has no length along the section")
        start, end = p + lo * direction, p + hi * direction
        return cls(tuple(start), tuple(end), slab.thickness / 2.0)

    # -- geometry ----------------------------------------------------------------------
    @property
    def length(self) -> float:
        return math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])

    @property
    def width(self) -> float:
        return 2.0 * self.half_width

    @property
    def direction(self) -> np.ndarray:
        """Unit vector (x, y) from start to end."""
        d = np.subtract(self.end, self.start, dtype=np.float64)
        return d / np.hypot(d[0], d[1])

    @property
    def normal(self) -> np.ndarray:
        """Unit vector (x, y) across the line, to its left seen from start to end."""
        d = self.direction
        return np.array([-d[1], d[0]])

    def slab(self) -> Slab:
        """The section as a clip :class:`Slab` (unbounded along the line)."""
        n = self.normal
        return Slab((self.start[0], self.start[1], 0.0), (float(n[0]), float(n[1]), 0.0),
                    self.width)

    def coordinates(self, xyz: Any) -> tuple[np.ndarray, np.ndarray]:
        """(distance along the line from ``start``, signed offset across it) of each
        point, float64."""
        p = np.asarray(xyz, dtype=np.float64)
        dx = p[:, 0] - self.start[0]
        dy = p[:, 1] - self.start[1]
        d, n = self.direction, self.normal
        return dx * d[0] + dy * d[1], dx * n[0] + dy * n[1]

    def _inside(self, xyz: np.ndarray) -> np.ndarray:
        along, across = self.coordinates(xyz)
        return (np.abs(across) <= self.half_width) & (along >= 0.0) & (along <= self.length)

    def corners_xy(self) -> np.ndarray:
        """(4, 2) corners of the corridor in XY."""
        s, e = np.asarray(self.start), np.asarray(self.end)
        off = self.normal * self.half_width
        return np.array([s - off, e - off, e + off, s + off])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        xy = self.corners_xy()
        return (np.r_[xy.min(axis=0), -np.inf], np.r_[xy.max(axis=0), np.inf])

    def to_xyz(self, distance: Any, height: Any) -> np.ndarray:
        """Profile coordinates back to 3D points on the line, (N, 3) float64."""
        d = np.atleast_1d(np.asarray(distance, dtype=np.float64))
        h = np.atleast_1d(np.asarray(height, dtype=np.float64))
        direction = self.direction
        return np.column_stack([self.start[0] + d * direction[0],
                                self.start[1] + d * direction[1], h])

    def to_dict(self) -> dict[str, Any]:
        return {"start": list(self.start), "end": list(self.end), "width": self.width}


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


@dataclass
class ProfilePoints:
    """The points of one layer inside the corridor."""

    layer: str
    xyz: np.ndarray  # (N, 3) float64, true coordinates
    distance: np.ndarray  # (N,) along the line
    offset: np.ndarray  # (N,) across it (signed, left positive)
    rgb: np.ndarray | None = None  # (N, 3) uint8
    classification: np.ndarray | None = None  # (N,) uint8
    source: str = "memory"  # "file" (full resolution from disk) or "memory"
    source_points: int = 0  # points in the layer's file / data

    @property
    def height(self) -> np.ndarray:
        return self.xyz[:, 2]

    def __len__(self) -> int:
        return int(len(self.xyz))


@dataclass
class CutLines:
    """The section of one mesh layer: ``xyz`` (M, 2, 3) segment end points, ``objects``
    the object id (city / IFC) or mesh part name of each segment ("" when none)."""

    layer: str
    xyz: np.ndarray
    distance: np.ndarray  # (M, 2)
    objects: list[str] = field(default_factory=list)

    @property
    def height(self) -> np.ndarray:
        return self.xyz[:, :, 2]

    def __len__(self) -> int:
        return int(len(self.xyz))

    def object_ids(self) -> list[str]:
        """The objects cut, each once, in order."""
        return list(dict.fromkeys(o for o in self.objects if o))


@dataclass
class Profile:
    """Every layer's part of one section."""

    line: ProfileLine
    points: list[ProfilePoints] = field(default_factory=list)
    cuts: list[CutLines] = field(default_factory=list)
    units: str = "m"
    warnings: list[str] = field(default_factory=list)

    @property
    def point_count(self) -> int:
        return sum(len(p) for p in self.points)

    @property
    def segment_count(self) -> int:
        return sum(len(c) for c in self.cuts)

    def extent(self) -> tuple[float, float, float, float] | None:
        """(dmin, hmin, dmax, hmax) of everything in the profile; None when empty."""
        ds = [p.distance for p in self.points if len(p)] + \
             [c.distance.ravel() for c in self.cuts if len(c)]
        hs = [p.height for p in self.points if len(p)] + \
             [c.height.ravel() for c in self.cuts if len(c)]
        if not ds:
            return None
        d, h = np.concatenate(ds), np.concatenate(hs)
        return float(d.min()), float(h.min()), float(d.max()), float(h.max())

    def nearest(self, distance: float, height: float, scale: tuple[float, float] = (1.0, 1.0),
                tolerance: float = math.inf) -> tuple[float, float] | None:
        """The profile point or cut-line end nearest to (``distance``, ``height``), each
        axis divided by ``scale`` (e.g. metres per pixel) before comparing; None when
        nothing lies within ``tolerance`` (in scaled units)."""
        best: tuple[float, float, float] | None = None
        sx, sy = float(scale[0]), float(scale[1])
        candidates = [(p.distance, p.height) for p in self.points if len(p)] + \
            [(c.distance.ravel(), c.height.ravel()) for c in self.cuts if len(c)]
        for d, h in candidates:
            r2 = ((d - distance) / sx) ** 2 + ((h - height) / sy) ** 2
            k = int(np.argmin(r2))
            if best is None or r2[k] < best[0]:
                best = (float(r2[k]), float(d[k]), float(h[k]))
        if best is None or math.sqrt(best[0]) > tolerance:
            return None
        return best[1], best[2]

    # -- export ------------------------------------------------------------------------
    def write(self, out_path: str | os.PathLike, *, measurements: Sequence[Any] = (),
              class_table: np.ndarray | None = None, title: str = "",
              size: tuple[float, float] | None = None, dpi: int = 150) -> Path:
        """Write the profile as CSV, SVG or PNG (by the suffix of ``out_path``); the
        plots carry ``measurements`` (:class:`ProfileMeasurement`). LoadError when the
        output cannot be written."""
        out = Path(out_path)
        kind = out.suffix.lower()
        if kind not in OUTPUT_SUFFIXES:
            raise LoadError(out, "unknown output type", "name the output NAME.csv, NAME.svg "
                            "or NAME.png")
        if out.is_dir():
            raise LoadError(out, "the output is a folder", "give a file name like NAME.svg")
        if kind == ".csv":
            data = self.to_csv().encode("utf-8")
        else:
            data = self.to_image(kind[1:], measurements=measurements,
                                 class_table=class_table, title=title, size=size, dpi=dpi)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, out)
        except OSError as exc:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise LoadError(out, f"cannot write the profile: {exc.strerror or exc}",
                            "check the folder and free disk space") from None
        return out

    def to_csv(self) -> str:
        """distance, height, x, y, z, layer, class, segment: a row per point (class: its
        ASPRS class, segment empty), then two rows per cut-line segment (class: the
        object id or mesh part, segment: its number within the layer)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["distance", "height", "x", "y", "z", "layer", "class", "segment"])
        for p in self.points:
            cls = p.classification
            for i in range(len(p)):
                x, y, z = p.xyz[i]
                w.writerow([f"{p.distance[i]:.4f}", f"{z:.4f}", f"{x:.4f}", f"{y:.4f}",
                            f"{z:.4f}", p.layer, "" if cls is None else int(cls[i]), ""])
        for c in self.cuts:
            for s in range(len(c)):
                for e in range(2):
                    x, y, z = c.xyz[s, e]
                    w.writerow([f"{c.distance[s, e]:.4f}", f"{z:.4f}", f"{x:.4f}",
                                f"{y:.4f}", f"{z:.4f}", c.layer,
                                c.objects[s] if s < len(c.objects) else "", s])
        return buf.getvalue()

    def to_image(self, fmt: str = "png", *, measurements: Sequence[Any] = (),
                 class_table: np.ndarray | None = None, title: str = "",
                 size: tuple[float, float] | None = None, dpi: int = 150) -> bytes:
        """The plot as PNG or SVG bytes (points rasterised inside an SVG, lines, axes
        and text as vectors)."""
        from matplotlib import rc_context
        from matplotlib.figure import Figure

        if fmt == "svg":
            from matplotlib.backends.backend_svg import FigureCanvasSVG as Canvas
        else:
            from matplotlib.backends.backend_agg import FigureCanvasAgg as Canvas
        if size is None:
            ext = self.extent()
            aspect = 0.4 if ext is None else (ext[3] - ext[1] + 1e-9) / (ext[2] - ext[0] + 1e-9)
            size = (12.0, float(min(max(12.0 * aspect + 1.2, 3.5), 9.0)))
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "realscene"}), \
                warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing")
            warnings.filterwarnings("ignore", message="findfont")
            fig = Figure(figsize=size, dpi=dpi)
            Canvas(fig)
            ax = fig.add_subplot()
            draw_profile(ax, self, class_table=class_table, measurements=measurements,
                         title=title)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=dpi)
        return buf.getvalue()


@dataclass(frozen=True)
class ProfileMeasurement:
    """A measurement between two points of a profile, ``a`` and ``b`` = (distance along
    the line, height)."""

    a: tuple[float, float]
    b: tuple[float, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", _finite(self.a, 2, "measurement point"))
        object.__setattr__(self, "b", _finite(self.b, 2, "measurement point"))

    @property
    def horizontal(self) -> float:
        return abs(self.b[0] - self.a[0])

    @property
    def vertical(self) -> float:
        """Height difference, positive when ``b`` is higher."""
        return self.b[1] - self.a[1]

    @property
    def slope_distance(self) -> float:
        return math.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1])

    @property
    def slope_degrees(self) -> float:
        """Angle of the slope from the horizontal (0..90)."""
        return math.degrees(math.atan2(abs(self.vertical), self.horizontal))

    def label(self, units: str = "m") -> str:
        return (f"H {self.horizontal:.3f} {units}  V {self.vertical:+.3f} {units}  "
                f"S {self.slope_distance:.3f} {units}  {self.slope_degrees:.1f}°")

    def points_3d(self, line: ProfileLine) -> list[list[float]]:
        """Both points in 3D (on the line's vertical plane), for a project measurement:
        their 3D distance is the slope distance."""
        xyz = line.to_xyz([self.a[0], self.b[0]], [self.a[1], self.b[1]])
        return xyz.tolist()


# --------------------------------------------------------------------------------------
# cutting layers
# --------------------------------------------------------------------------------------


def _check(progress: ProgressFn | None, cancel: Callable[[], bool] | None, fraction: float,
           message: str) -> None:
    if cancel is not None and cancel():
        raise LoadCancelled("profile cancelled")
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def _matrix(transform: Any) -> np.ndarray | None:
    if transform is None:
        return None
    m = np.asarray(transform, dtype=np.float64)
    return None if np.allclose(m, np.eye(4)) else m


def _apply(m: np.ndarray | None, xyz: np.ndarray) -> np.ndarray:
    if m is None:
        return xyz
    return xyz @ m[:3, :3].T + m[:3, 3]


def _is_las_file(path: Any) -> bool:
    if not path:
        return False
    p = Path(str(path))
    if not p.is_file():
        return False
    try:
        with open_regular(p) as fh:
            return fh.read(4) == b"LASF"
    except (OSError, ValueError):
        return False


def points_in_memory(name: str, cloud: PointCloud, line: ProfileLine,
                     transform: Any = None) -> ProfilePoints:
    """The points of an in-memory cloud inside the corridor."""
    xyz = _apply(_matrix(transform), cloud.xyz())
    keep = line.mask(xyz)
    idx = np.flatnonzero(keep)
    xyz = xyz[idx]
    along, across = line.coordinates(xyz)
    rgb = cloud.attributes.get("rgb")
    cls = cloud.attributes.get("classification")
    return ProfilePoints(name, xyz, along, across,
                         None if rgb is None else np.asarray(rgb)[idx].astype(np.uint8),
                         None if cls is None else np.asarray(cls)[idx].astype(np.uint8),
                         "memory", cloud.point_count)


def points_from_file(path: str | os.PathLike, line: ProfileLine, transform: Any = None, *,
                     name: str | None = None, progress: ProgressFn | None = None,
                     cancel: Callable[[], bool] | None = None,
                     chunk_points: int = CHUNK_POINTS) -> ProfilePoints:
    """Every point of a LAS/LAZ/COPC file inside the corridor, at full resolution: read
    in chunks, or for a COPC (without a ``transform``) only the octree nodes the
    corridor's bounds touch. ``transform`` (4x4) moves the file's points into the scene
    first (an aligned layer). LoadError for a missing or broken file."""
    import laspy

    from loaders.formats import las

    src = Path(path)
    try:
        open_regular(src).close()
    except FileNotFoundError:
        raise LoadError(src, "file not found", "check the path") from None
    except UnsafePath as exc:
        raise LoadError(src, exc.reason, "use a regular LAS/LAZ file") from None
    except OSError as exc:
        raise LoadError(src, f"cannot open the file: {exc.strerror or exc}") from None
    info = las.parse_header(src)
    m = _matrix(transform)
    total = int(info.point_count)
    parts_xyz: list[np.ndarray] = []
    parts_rgb: list[np.ndarray] = []
    parts_cls: list[np.ndarray] = []
    rgb_max = 0

    def take(points: Any) -> None:
        nonlocal rgb_max
        xyz = np.column_stack([np.asarray(points.x, np.float64),
                               np.asarray(points.y, np.float64),
                               np.asarray(points.z, np.float64)])
        xyz = _apply(m, xyz)
        keep = line.mask(xyz)
        names = set(points.point_format.dimension_names)
        if "red" in names and len(points):
            rgb_max = max(rgb_max, int(np.max(points.red)), int(np.max(points.green)),
                          int(np.max(points.blue)))
        if not keep.any():
            return
        parts_xyz.append(xyz[keep])
        if "red" in names:
            parts_rgb.append(np.column_stack([np.asarray(points.red)[keep],
                                              np.asarray(points.green)[keep],
                                              np.asarray(points.blue)[keep]]))
        parts_cls.append(np.asarray(points.classification, dtype=np.uint8)[keep])

    label = name or src.name
    try:
        if info.copc and m is None:
            from laspy.copc import Bounds, CopcReader

            lo, hi = line.bounds()
            with CopcReader(open_regular(src), close_fd=True) as reader:
                hmin = np.asarray(reader.header.mins, np.float64)
                hmax = np.asarray(reader.header.maxs, np.float64)
                eps = np.abs(np.asarray(reader.header.scales, np.float64))
                qlo = np.where(np.isfinite(lo), lo - eps, hmin - 1.0)
                qhi = np.where(np.isfinite(hi), hi + eps, hmax + 1.0)
                _check(progress, cancel, 0.1, f"{label}: reading the COPC nodes the "
                       "profile crosses")
                take(reader.query(Bounds(qlo, qhi)))
        else:
            done = 0
            with laspy.open(open_regular(src), closefd=True) as reader:
                for chunk in reader.chunk_iterator(max(int(chunk_points), 1)):
                    left = total - done
                    if left <= 0:
                        break
                    if len(chunk) > left:
                        chunk = chunk[:left]
                    done += len(chunk)
                    take(chunk)
                    _check(progress, cancel, done / max(total, 1),
                           f"{label}: {done:,} of {total:,} points read")
    except (LoadError, LoadCancelled, KeyboardInterrupt):
        raise
    except BaseException as exc:
        las.reraise_fatal(exc)
        raise las.as_load_error(src, info, exc, "points") from None
    xyz = np.concatenate(parts_xyz) if parts_xyz else np.zeros((0, 3))
    rgb = None
    if parts_rgb:
        rgb16 = np.concatenate(parts_rgb)
        rgb = ((rgb16 >> 8) if rgb_max > 255 else rgb16).astype(np.uint8)
    cls = np.concatenate(parts_cls) if parts_cls else np.zeros(0, np.uint8)
    along, across = line.coordinates(xyz)
    return ProfilePoints(label, xyz, along, across, rgb, cls, "file", total)


def cut_lines(name: str, mesh: Mesh, line: ProfileLine, transform: Any = None, *,
              hidden_features: set[str] | None = None, lod: str | None = None) -> CutLines:
    """The intersection of ``mesh``'s triangles with the section plane, between the
    line's ends: segments in true coordinates, with the object (city / IFC model) or
    mesh part of each. ``hidden_features`` (ids) are left out; ``lod`` keeps one LOD of a
    city model."""
    from trimesh import Trimesh
    from trimesh.intersections import mesh_plane

    empty = CutLines(name, np.zeros((0, 2, 3)), np.zeros((0, 2)), [])
    if mesh.triangle_count == 0:
        return empty
    origin = np.asarray(mesh.origin, dtype=np.float64)
    verts = mesh.vertices.astype(np.float64)
    m = _matrix(transform)
    if m is not None:  # moved in true coordinates, then local again (same origin)
        verts = _apply(m, verts + origin) - origin
    faces = np.asarray(mesh.faces)
    keep = np.ones(len(faces), dtype=bool)
    features = getattr(mesh, "features", None)
    face_feature = getattr(mesh, "face_feature", None)
    if features and face_feature is not None:
        ff = np.asarray(face_feature)
        if hidden_features:
            hidden = np.array([f.id in hidden_features for f in features] + [False])
            keep &= ~hidden[ff]  # (-1 -> the trailing False)
        lod_names = getattr(mesh, "lod_names", [])
        if lod is not None and lod in lod_names:
            fl = np.asarray(mesh.face_lod)
            keep &= (fl == lod_names.index(lod)) | (fl < 0)
    # the plane, in the mesh's local coordinates
    p0 = np.array([line.start[0] - origin[0], line.start[1] - origin[1], 0.0])
    n = np.r_[line.normal, 0.0]
    d = np.r_[line.direction, 0.0]
    side = (verts - p0) @ n
    along = (verts - p0) @ d
    fs, fa = side[faces], along[faces]
    keep &= (fs.min(axis=1) <= 0.0) & (fs.max(axis=1) >= 0.0)
    keep &= (fa.max(axis=1) >= 0.0) & (fa.min(axis=1) <= line.length)
    chosen = np.flatnonzero(keep)
    if not len(chosen):
        return empty
    sub = Trimesh(verts, faces[chosen], process=False, validate=False)
    segments, face_index = mesh_plane(sub, n, p0, return_faces=True)
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2, 3)
    face_index = np.asarray(face_index, dtype=np.int64)
    if not len(segments):
        return empty
    # clip each segment to 0 <= along <= length
    a = (segments - p0) @ d  # (M, 2)
    length = line.length
    lo = np.minimum(a[:, 0], a[:, 1])
    hi = np.maximum(a[:, 0], a[:, 1])
    inside = (hi >= 0.0) & (lo <= length)
    segments, a, face_index = segments[inside], a[inside], face_index[inside]
    span = a[:, 1] - a[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        for e in range(2):
            target = np.clip(a[:, e], 0.0, length)
            moved = (target != a[:, e]) & (span != 0)
            t = np.where(moved, (target - a[:, 0]) / np.where(span == 0, 1, span), 0.0)
            point = segments[:, 0] + t[:, None] * (segments[:, 1] - segments[:, 0])
            segments[moved, e] = point[moved]
    nonzero = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1) > 0
    segments, face_index = segments[nonzero], face_index[nonzero]
    true = segments + origin
    dist = ((true[..., 0] - line.start[0]) * d[0] + (true[..., 1] - line.start[1]) * d[1])
    source_faces = chosen[face_index]
    objects = _face_objects(mesh, source_faces)
    return CutLines(name, true, dist, objects)


def _face_objects(mesh: Mesh, faces: np.ndarray) -> list[str]:
    features = getattr(mesh, "features", None)
    face_feature = getattr(mesh, "face_feature", None)
    if features and face_feature is not None:
        ff = np.asarray(face_feature)[faces]
        return [features[i].id if i >= 0 else "" for i in ff.tolist()]
    if mesh.parts:
        starts = np.array([p.start for p in mesh.parts])
        k = np.searchsorted(starts, faces, side="right") - 1
        names = [p.name for p in mesh.parts]
        return [names[i] if i >= 0 and faces[j] < mesh.parts[i].stop else ""
                for j, i in enumerate(k.tolist())]
    return [""] * len(faces)


def profile_layers(layers: Sequence[Any], line: ProfileLine, *, units: str = "m",
                   full_resolution: bool = True, progress: ProgressFn | None = None,
                   cancel: Callable[[], bool] | None = None) -> Profile:
    """The profile of every layer along ``line``. A layer is anything with ``name`` and
    ``data`` (a :class:`PointCloud` or :class:`Mesh`), optionally ``path``,
    ``transform``, ``hidden_features``, ``city_lod``, ``units`` (the scene's
    :class:`~viewer.scene.Layer` is one). With ``full_resolution`` a point layer whose
    file is a local LAS/LAZ/COPC is read from the file (the in-memory data may be a
    subsample or a streamed preview), unless its points were changed on load
    (reprojected, scaled to units): then from memory, with a warning."""
    profile = Profile(line, units=units)
    n = max(len(layers), 1)
    for i, layer in enumerate(layers):
        name = str(getattr(layer, "name", "") or f"layer {i + 1}")
        data = layer.data
        transform = getattr(layer, "transform", None)

        def sub(f: float, msg: str, i: int = i) -> None:
            _check(progress, cancel, (i + f) / n, msg)

        sub(0.0, f"Cutting {name}")
        if isinstance(data, PointCloud):
            path = getattr(layer, "path", None)
            changed = "reprojected_from" in data.metadata or \
                getattr(layer, "units", None) not in (None, "m") or \
                getattr(layer, "up_axis", None) not in (None, "Z")
            if full_resolution and _is_las_file(path) and not changed:
                profile.points.append(points_from_file(path, line, transform, name=name,
                                                       progress=sub, cancel=cancel))
            else:
                if full_resolution and _is_las_file(path) and changed:
                    profile.warnings.append(f"{name}: its points were changed on loading "
                                            "(reprojected or scaled): the profile uses the "
                                            "points in memory")
                elif getattr(layer, "lod", None) is not None and \
                        not getattr(layer.lod, "in_memory", True):
                    profile.warnings.append(f"{name}: streamed, the profile uses the points "
                                            "loaded so far")
                profile.points.append(points_in_memory(name, data, line, transform))
        elif isinstance(data, Mesh):
            profile.cuts.append(cut_lines(
                name, data, line, transform,
                hidden_features=set(getattr(layer, "hidden_features", set()) or ()),
                lod=getattr(layer, "city_lod", None)))
    _check(progress, cancel, 1.0, f"Profile: {profile.point_count:,} points, "
           f"{profile.segment_count:,} cut segments")
    return profile


@dataclass
class _FileLayer:
    name: str
    data: Any
    path: str | None


def profile_files(paths: Sequence[str | os.PathLike], line: ProfileLine, *,
                  units: str | None = None, progress: ProgressFn | None = None) -> Profile:
    """The profile of files (coordinates as stored in them): LAS/LAZ/COPC read straight
    from disk at full resolution, other files through :func:`loaders.read`. ``units``
    (default: the first CRS's length unit, else "units")."""
    from loaders import read

    layers: list[Any] = []
    crs_units: str | None = None
    for p in paths:
        path = Path(p)
        if _is_las_file(path):
            layers.append(_FileLayer(path.name, PointCloud(np.zeros((0, 3), np.float32),
                                                           np.zeros(3)), str(path)))
            crs = None
            try:
                import laspy

                with laspy.open(open_regular(path), closefd=True) as reader:
                    crs = reader.header.parse_crs()
            except Exception:  # noqa: BLE001 - no readable CRS record: units unknown
                crs = None
        else:
            data = read(path)
            crs = getattr(data, "crs", None)
            layers.append(_FileLayer(path.name, data, None))
        if crs_units is None and crs is not None:
            crs_units = _crs_unit(crs)
    return profile_layers(layers, line, units=units or crs_units or "units",
                          progress=progress)


def _crs_unit(crs: Any) -> str | None:
    try:
        axis = crs.axis_info[0]
        name = (axis.unit_name or "").lower()
    except Exception:  # noqa: BLE001
        return None
    if name in ("metre", "meter"):
        return "m"
    if "us survey foot" in name:
        return "ftUS"
    if "foot" in name:
        return "ft"
    return None


# --------------------------------------------------------------------------------------
# drawing
# --------------------------------------------------------------------------------------


def point_colors(points: ProfilePoints, class_table: np.ndarray | None = None) -> Any:
    """Colours of the profile's points (RGB 0..1): their own colours, else their classes
    through ``class_table`` ((256, 3) uint8), else grey."""
    if points.rgb is not None and len(points.rgb):
        return points.rgb.astype(np.float32) / 255.0
    if class_table is not None and points.classification is not None:
        return np.asarray(class_table)[points.classification].astype(np.float32) / 255.0
    return POINT_GREY


def _font_kw(text: str) -> dict[str, Any]:
    """matplotlib keywords drawing ``text`` with a font that has its characters (CJK):
    empty for plain Latin text."""
    if all(ord(c) < 0x250 for c in text):
        return {}
    from matplotlib.font_manager import FontProperties

    from ..fonts import font_for, single_face_file

    font = font_for(text)
    return {} if font is None else {"fontproperties": FontProperties(
        fname=str(single_face_file(font)))}


def draw_profile(ax: Any, profile: Profile, *, class_table: np.ndarray | None = None,
                 measurements: Sequence[ProfileMeasurement] = (), title: str = "",
                 xlabel: str | None = None, ylabel: str | None = None,
                 point_size: float = 2.0, max_points: int | None = None,
                 rasterized: bool = True, equal: bool = True) -> None:
    """Draw ``profile`` on matplotlib axes ``ax``: points (at most ``max_points`` per
    layer, evenly taken), cut lines per layer colour, the measurements with their
    labels, axes in the profile's units with equal scales."""
    from matplotlib.collections import LineCollection

    units = profile.units
    handles = []
    for pts in profile.points:
        if not len(pts):
            continue
        d, h, colours = pts.distance, pts.height, point_colors(pts, class_table)
        if max_points is not None and len(pts) > max_points:
            step = int(math.ceil(len(pts) / max_points))
            d, h = d[::step], h[::step]
            if isinstance(colours, np.ndarray):
                colours = colours[::step]
        colour_kw = {"c": colours} if isinstance(colours, np.ndarray) else {"color": colours}
        handles.append(ax.scatter(d, h, s=point_size, marker=".", linewidths=0,
                                  rasterized=rasterized, label=pts.layer, **colour_kw))
    for k, cut in enumerate(profile.cuts):
        if not len(cut):
            continue
        segs = np.stack([cut.distance, cut.height], axis=-1)
        lc = LineCollection(segs, colors=LINE_COLORS[k % len(LINE_COLORS)], linewidths=1.3,
                            label=cut.layer)
        ax.add_collection(lc)
        handles.append(lc)
    for mm in measurements:
        ax.plot([mm.a[0], mm.b[0]], [mm.a[1], mm.b[1]], color="#d35400", linewidth=1.4,
                marker="o", markersize=4, zorder=5)
        ax.annotate(mm.label(units), ((mm.a[0] + mm.b[0]) / 2, (mm.a[1] + mm.b[1]) / 2),
                    xytext=(4, 6), textcoords="offset points", fontsize=8, color="#a04000",
                    zorder=6, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                    "alpha": 0.8})
    ext = profile.extent()
    h0 = 0.0 if ext is None else ext[1]
    ax.update_datalim([(0.0, h0), (profile.line.length, h0)])  # the whole line shows
    ax.margins(0.02, 0.05)
    ax.autoscale_view()
    if equal:
        ax.set_aspect("equal", adjustable="datalim")
    xlabel = xlabel if xlabel is not None else f"distance along the profile ({units})"
    ylabel = ylabel if ylabel is not None else f"height ({units})"
    ax.set_xlabel(xlabel, **_font_kw(xlabel))
    ax.set_ylabel(ylabel, **_font_kw(ylabel))
    if title:
        ax.set_title(title, fontsize=10, **_font_kw(title))
    ax.grid(True, linewidth=0.3, alpha=0.6)
    if handles:
        names = " ".join(str(hd.get_label()) for hd in handles)
        ax.legend(handles=handles, fontsize=7, loc="upper right", markerscale=4,
                  **({"prop": _font_kw(names)["fontproperties"]} if _font_kw(names) else {}))
