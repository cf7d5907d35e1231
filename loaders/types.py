"""Plain in-memory data returned by every reader.

No Qt, no VTK: a reader turns a file into one of these, and everything else (the scene
model, the renderer, the CLI, ``heritage``) works on them.

Coordinates
-----------
City data lives in projected CRSs with coordinates in the millions of metres, which
float32 cannot hold to the millimetre. Every dataset therefore stores *local* float32
positions plus a float64 ``origin``; the true coordinate of point ``i`` is
``origin + positions[i]`` computed in float64 (see :meth:`PointCloud.xyz`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: A progress callback: ``report(fraction_done, message)``. It may raise
#: :class:`LoadCancelled` to abort the read.
ProgressFn = Callable[[float, str], None]


class LoadError(Exception):
    """A file could not be read.

    Carries the file, what is wrong with it and what the user can do about it, so that
    the GUI and the CLI can show one clear message.
    """

    def __init__(self, path: str | Path, reason: str, hint: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.path}: {self.reason}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class LoadCancelled(Exception):
    """Raised from a progress callback to stop a read that the user cancelled."""


def split_origin(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split float64 positions into float32 local positions and a float64 origin.

    The origin is the centre of the bounding box, rounded to whole units so that it is
    stable and readable.
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    if len(xyz) == 0:
        return np.zeros((0, 3), np.float32), np.zeros(3)
    lo = np.minimum.reduce(xyz, axis=0)  # (ufuncs: ndarray.min's wrapper costs more
    hi = np.maximum.reduce(xyz, axis=0)  # than the work for small models)
    origin = np.rint((lo + hi) / 2.0)
    if not all(map(math.isfinite, origin.tolist())):  # NaN rows (min/max propagate them), or inf
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            origin = np.rint((np.nanmin(xyz, axis=0) + np.nanmax(xyz, axis=0)) / 2.0)
        origin[~np.isfinite(origin)] = 0.0
    return (xyz - origin).astype(np.float32), origin


@dataclass
class PointCloud:
    """A point cloud.

    Attributes
    ----------
    positions : (N, 3) float32
        Positions relative to ``origin``.
    origin : (3,) float64
        Offset added to ``positions`` to give true coordinates in ``crs``.
    attributes : dict of str to ndarray
        Per-point values, all of length N. Well-known names: ``rgb`` (N, 3) uint8,
        ``intensity``, ``classification`` (uint8), ``return_number``,
        ``number_of_returns``, ``gps_time``, ``nir``; other names are extra dimensions.
    crs : pyproj.CRS or None
    metadata : dict
        ``format``, ``version``, ``source`` and reader-specific facts (header counts,
        point format, CRS source, warnings...). Plain JSON-able values.
    """

    positions: np.ndarray
    origin: np.ndarray
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    crs: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)

    kind = "pointcloud"

    @property
    def point_count(self) -> int:
        return int(len(self.positions))

    def xyz(self) -> np.ndarray:
        """True coordinates in double precision, (N, 3) float64."""
        return self.positions.astype(np.float64) + self.origin

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(min, max) true coordinates as float64 arrays."""
        if self.point_count == 0:
            return np.zeros(3), np.zeros(3)
        p = self.positions  # per column: ~10x faster than p.min(axis=0) on (N, 3)
        lo = np.array([p[:, k].min() for k in range(3)], np.float64) + self.origin
        hi = np.array([p[:, k].max() for k in range(3)], np.float64) + self.origin
        return lo, hi

    @property
    def warnings(self) -> list[str]:
        return self.metadata.setdefault("warnings", [])


@dataclass
class Material:
    """Surface appearance of a mesh part."""

    name: str = ""
    color: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)  # RGBA 0..1
    texture: np.ndarray | None = None  # (H, W, 3|4) uint8 image
    texture_path: str | None = None


@dataclass
class MeshPart:
    """A named run of faces ``faces[start:stop]`` sharing one material."""

    name: str
    start: int
    stop: int
    material: Material = field(default_factory=Material)


@dataclass
class Mesh:
    """A triangle mesh (everything is triangulated on read).

    Attributes
    ----------
    vertices : (N, 3) float32, relative to ``origin``
    origin : (3,) float64
    faces : (M, 3) int32 vertex indices
    normals : (N, 3) float32 or None
    uvs : (N, 2) float32 or None
    vertex_colors : (N, 4) uint8 or None
    face_colors : (M, 4) uint8 or None
    parts : list of MeshPart, covering the faces in order (may be empty)
    points : (K,) int32 indices of vertices drawn as points, or None (glTF POINTS
        primitives beside triangles: a photogrammetry mesh with its sparse cloud)
    lines : (L, 2) int32 vertex index pairs drawn as line segments, or None (glTF
        LINES / LINE_STRIP / LINE_LOOP primitives)
    """

    vertices: np.ndarray
    origin: np.ndarray
    faces: np.ndarray
    normals: np.ndarray | None = None
    uvs: np.ndarray | None = None
    vertex_colors: np.ndarray | None = None
    face_colors: np.ndarray | None = None
    parts: list[MeshPart] = field(default_factory=list)
    crs: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    points: np.ndarray | None = None
    lines: np.ndarray | None = None

    kind = "mesh"

    @property
    def vertex_count(self) -> int:
        return int(len(self.vertices))

    @property
    def triangle_count(self) -> int:
        return int(len(self.faces))

    def xyz(self) -> np.ndarray:
        return self.vertices.astype(np.float64) + self.origin

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.vertex_count == 0:
            return np.zeros(3), np.zeros(3)
        lo = self.vertices.min(axis=0).astype(np.float64) + self.origin
        hi = self.vertices.max(axis=0).astype(np.float64) + self.origin
        return lo, hi

    @property
    def warnings(self) -> list[str]:
        return self.metadata.setdefault("warnings", [])


@dataclass
class Feature:
    """One object of a city model or building model: a CityJSON city object or an IFC
    element / spatial structure element.

    id : CityJSON object id or IFC GlobalId (unique within the model)
    type : "Building", "BuildingPart", "IfcWall", "IfcBuildingStorey"...
    name : human name where the format has one (IFC Name), else ""
    attributes : flat JSON-able ``{name: value}`` of the object's own attributes
        (CityJSON ``attributes``; IFC direct attributes such as Name, Description,
        ObjectType, Tag)
    properties : grouped JSON-able values ``{group: {name: value}}`` (IFC property sets
        and quantity sets; CityJSON: empty)
    parent : id of the parent object (CityJSON ``parents[0]``; IFC spatial container or
        aggregate), or None
    children : ids of child objects
    lods : LODs this object has geometry in (e.g. ["1.2", "2.2"]); empty if none
    storey : IFC building storey name the element is contained in, or ""
    """

    id: str
    type: str
    name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    lods: list[str] = field(default_factory=list)
    storey: str = ""


@dataclass
class FeatureMesh(Mesh):
    """A triangle mesh made of identifiable objects: a city model or a building model.

    It is drawn like any :class:`Mesh`; in addition every triangle knows which object,
    semantic surface and LOD it belongs to, so objects can be picked, highlighted,
    filtered, coloured by attribute and shown per LOD.

    Attributes (in addition to :class:`Mesh`)
    ----------
    features : list of Feature, including objects without geometry (e.g. an IFC storey
        or a CityJSON parent building whose geometry lives in its parts)
    face_feature : (M,) int32 index into ``features`` of each triangle
    face_semantic : (M,) int16 index into ``semantic_names`` of each triangle, -1 = none
    semantic_names : e.g. ["RoofSurface", "WallSurface", "GroundSurface"]
    face_lod : (M,) int16 index into ``lod_names``, -1 = unknown / single LOD
    lod_names : e.g. ["1.2", "2.2"]
    model_format : "CityJSON" or "IFC"
    """

    features: list[Feature] = field(default_factory=list)
    face_feature: np.ndarray | None = None
    face_semantic: np.ndarray | None = None
    semantic_names: list[str] = field(default_factory=list)
    face_lod: np.ndarray | None = None
    lod_names: list[str] = field(default_factory=list)
    model_format: str = ""

    def __post_init__(self) -> None:
        m = len(self.faces)
        if self.face_feature is None:
            self.face_feature = np.full(m, -1, np.int32)
        if self.face_semantic is None:
            self.face_semantic = np.full(m, -1, np.int16)
        if self.face_lod is None:
            self.face_lod = np.full(m, -1, np.int16)
        self._index: dict[str, int] | None = None

    def feature_index(self, feature_id: str) -> int:
        """Index of the feature with ``feature_id``; raises KeyError."""
        if self._index is None or len(self._index) != len(self.features):
            self._index = {f.id: i for i, f in enumerate(self.features)}
        return self._index[feature_id]

    def feature(self, feature_id: str) -> Feature:
        return self.features[self.feature_index(feature_id)]

    def feature_at_face(self, face: int) -> Feature | None:
        i = int(self.face_feature[face]) if 0 <= face < len(self.face_feature) else -1
        return self.features[i] if i >= 0 else None

    def counts_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.features:
            counts[f.type] = counts.get(f.type, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


Dataset = PointCloud | Mesh


def loaded_attributes(cloud: Any) -> dict[str, Any]:
    """The attribute arrays of ``cloud`` in memory now: never reads one that stayed in the
    file (:class:`loaders.ingest.DeferredAttributes`)."""
    attrs = cloud.attributes
    if hasattr(attrs, "loaded_items"):
        return dict(attrs.loaded_items())
    return attrs
