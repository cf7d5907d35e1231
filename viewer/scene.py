"""The scene model: layers with display state, camera, saved views, selection.

No Qt and no VTK. Panels edit the model; the model emits events; the renderer adapter
and the Qt widgets subscribe and redraw. Events (all carry keyword arguments):

- ``layer_added(layer, index)``, ``layer_removed(layer)``, ``layers_reordered()``
- ``layer_changed(layer, field)`` for any display property
- ``selection_changed(layer)``
- ``camera_changed(camera)``, ``background_changed(color)``, ``edl_changed(enabled)``,
  ``decorations_changed(decorations)``
- ``picked(pick)`` when a point was picked in a view
- ``clip_changed(clip)`` when the clip region, its side or its switch changed
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loaders import Dataset, FeatureMesh, Mesh, PointCloud

from . import edl
from .events import EventEmitter

COLOR_MODES_POINTS = ("rgb", "intensity", "classification", "elevation", "solid")
COLOR_MODES_MESH = ("material", "vertex", "elevation", "solid")
#: extra colour modes of city / building models (FeatureMesh)
COLOR_MODES_FEATURES = ("semantic", "type")
#: extra colour modes of tile layers whose reader paints them (terrain)
COLOR_MODES_TILES = ("hillshade",)

_ids = itertools.count(1)


def reader_colour_modes(tileset: Any) -> tuple[str, ...]:
    """Colour modes a tile reader paints itself (terrain: "elevation", "hillshade",
    "texture" when draped), from the TileSet's ``colour_modes``."""
    return tuple(str(m) for m in (getattr(tileset, "colour_modes", None) or ()))


def tile_color_modes(tileset: Any) -> list[str]:
    """The colour modes of a tile layer: textures / the file's colours ("material"),
    the modes its reader paints (terrain hillshade), elevation and a solid colour."""
    modes = ["material"]
    for mode in (*reader_colour_modes(tileset), "elevation", "solid"):
        if mode not in modes and mode != "texture":
            modes.append(mode)
    return modes


def default_color_mode(data: Dataset) -> str:
    if getattr(data, "kind", None) == "tiles":  # a TileSet: textures / file colours
        return "material"
    if isinstance(data, PointCloud):
        if "rgb" in data.attributes:
            return "rgb"
        if "classification" in data.attributes and len(
            np.unique(data.attributes["classification"][:100000])
        ) > 1:
            return "classification"
        if "intensity" in data.attributes:
            return "intensity"
        return "elevation"
    if isinstance(data, FeatureMesh):
        if data.face_colors is not None or data.parts:
            return "material"
        if (np.asarray(data.face_semantic) >= 0).any():
            return "semantic"
        return "type"
    if data.vertex_colors is not None and not data.parts:
        return "vertex"
    if data.parts or data.face_colors is not None:
        return "material"
    if data.vertex_colors is not None:
        return "vertex"
    return "solid"


@dataclass
class Layer:
    """One dataset in the scene and how it is displayed."""

    name: str
    data: Dataset
    path: str | None = None
    visible: bool = True
    opacity: float = 1.0
    color_mode: str = "solid"
    attribute: str | None = None  # for color_mode == "attribute"
    colormap: str = "viridis"
    solid_color: tuple[float, float, float] = (0.85, 0.85, 0.85)
    point_size: float = 2.0
    #: point clouds: "adaptive" (Potree's: sized by level-of-detail spacing and
    #: distance, ``point_size`` the smallest) or "fixed" (``point_size`` pixels);
    #: "square" or "round" splats (viewer.pointsize)
    point_size_mode: str = "adaptive"
    point_shape: str = "square"
    contrast: tuple[float, float] = (2.0, 98.0)  # percentile stretch for scalars
    #: change layers (a diverging map on ``<method>_distance``): points whose
    #: ``<method>_significant`` is 0 are drawn grey (viewer.colors)
    significant_only: bool = False
    hidden_classes: set[int] = field(default_factory=set)
    transform: np.ndarray = field(default_factory=lambda: np.eye(4))
    #: level-of-detail source (loaders.lod.LodSource) for point clouds: an in-memory
    #: octree over ``data`` or a streamed COPC; None draws ``data`` directly.
    lod: Any = None
    #: True while a progressive load is still filling this layer in.
    loading: bool = False
    #: city / building models (FeatureMesh): objects hidden by id (tree show/hide), an
    #: attribute filter expression (only matching objects are drawn) and the LOD shown
    #: (None: each object's highest LOD)
    hidden_features: set[str] = field(default_factory=set)
    feature_filter: str | None = None
    city_lod: str | None = None
    #: glTF layers: which axis of the file is up ("Y" as the spec says, "Z" for a file
    #: stored against it); changing it re-orients ``data``. None: no choice to make.
    up_axis: str | None = None
    #: the file's length unit ("mm", "cm", "m", "ft"; see viewer.units) when it has no
    #: CRS: setting it scales ``data`` into metres. None: no units, measured in "units".
    units: str | None = None
    #: tile layers (loaders.tiles.TileSet): the detail (maximum screen-space error in
    #: pixels; smaller is finer) and the memory of loaded tiles (MB; None: the default)
    max_sse: float = 16.0
    tile_memory_mb: float | None = None
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def kind(self) -> str:
        return self.data.kind

    def available_color_modes(self) -> list[str]:
        if self.is_tiles:
            return tile_color_modes(self.data)
        if isinstance(self.data, PointCloud):
            modes = []
            attrs = self.data.attributes
            if "rgb" in attrs:
                modes.append("rgb")
            if "intensity" in attrs:
                modes.append("intensity")
            if "classification" in attrs:
                modes.append("classification")
            modes.append("elevation")
            if any(self.scalar_attributes()):
                modes.append("attribute")
            modes.append("solid")
            return modes
        modes = []
        if self.data.parts or self.data.face_colors is not None:
            modes.append("material")
        if self.data.vertex_colors is not None:
            modes.append("vertex")
        if isinstance(self.data, FeatureMesh):
            if (np.asarray(self.data.face_semantic) >= 0).any():
                modes.append("semantic")
            modes += ["type", "attribute"]
        modes += ["elevation", "solid"]
        return modes

    def scalar_attributes(self) -> list[str]:
        """Names of attributes that can colour the layer: per-point attributes of a
        point cloud, object attributes of a city / building model."""
        if isinstance(self.data, FeatureMesh):
            from .features import attribute_names

            return attribute_names(self.data)
        if not isinstance(self.data, PointCloud):
            return []
        attrs = self.data.attributes
        if hasattr(attrs, "is_deferred"):  # names still in the file: per-point scalars
            loaded = dict(attrs.loaded_items())  # no read, no unpacking
            return [k for k in attrs.keys() if k not in loaded or loaded[k].ndim == 1]
        return [k for k, v in attrs.items() if v.ndim == 1]

    @property
    def is_feature_model(self) -> bool:
        return isinstance(self.data, FeatureMesh)

    @property
    def is_tiles(self) -> bool:
        """True for a tiled dataset streamed by the renderer (3D Tiles, OSGB, terrain)."""
        return getattr(self.data, "kind", None) == "tiles"


@dataclass
class Camera:
    """Camera in true (double precision) coordinates."""

    position: tuple[float, float, float] = (0.0, 0.0, 1.0)
    focal_point: tuple[float, float, float] = (0.0, 0.0, 0.0)
    view_up: tuple[float, float, float] = (0.0, 1.0, 0.0)
    parallel: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"position": list(self.position), "focal_point": list(self.focal_point),
                "view_up": list(self.view_up), "parallel": self.parallel}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Camera:
        return cls(position=tuple(d["position"]), focal_point=tuple(d["focal_point"]),
                   view_up=tuple(d["view_up"]), parallel=bool(d.get("parallel", False)))

    @classmethod
    def for_annotation(cls, annotation: Any, minimum_distance: float = 15.0) -> Camera:
        """The view an annotation was made from, or, if it has none, an oblique view
        (from the south-east, 35° down) framing its vertices."""
        if annotation.view:
            return cls.from_dict(annotation.view)
        pts = np.asarray(annotation.points, dtype=np.float64)
        centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
        size = float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0)))
        distance = max(minimum_distance, 2.5 * size)
        direction = np.array([0.5, -0.65, 0.57])
        direction /= np.linalg.norm(direction)
        return cls(position=tuple(centre + distance * direction), focal_point=tuple(centre),
                   view_up=(0.0, 0.0, 1.0))

    @classmethod
    def framing_annotation(cls, annotation: Any, *, minimum_extent: float = 1.0,
                           fill: float = 0.4, view_angle: float = 30.0,
                           aspect: float = 1.6) -> Camera:
        """A picture of one annotation (condition reports): centred on its geometry,
        looking the way its saved view looked (else the oblique view from the south-east,
        35° down), at the distance where its box as seen from there - at least
        ``minimum_extent`` across, the frame of a pin - fills ``fill`` of the picture's
        width or height, whichever it reaches first (``view_angle``: the vertical field
        of view in degrees; ``aspect``: width / height)."""
        pts = np.asarray(annotation.points, dtype=np.float64).reshape(-1, 3)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        centre = (lo + hi) / 2.0
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                            for z in (lo[2], hi[2])]) - centre
        direction = np.array([0.5, -0.65, 0.57])
        view_up = np.array([0.0, 0.0, 1.0])
        if annotation.view:
            saved = cls.from_dict(annotation.view)
            looked = np.subtract(saved.position, saved.focal_point, dtype=np.float64)
            if np.linalg.norm(looked) > 0:
                direction = looked
                view_up = np.asarray(saved.view_up, dtype=np.float64)
        direction = direction / np.linalg.norm(direction)
        if np.linalg.norm(np.cross(direction, view_up)) < 1e-6:  # looking along "up"
            view_up = np.array([0.0, 1.0, 0.0])
        right = np.cross(view_up, direction)
        right /= np.linalg.norm(right)
        up = np.cross(direction, right)
        half = max(float(minimum_extent), 1e-9) / 2.0
        half_w = max(float(np.abs(corners @ right).max()), half)
        half_h = max(float(np.abs(corners @ up).max()), half)
        nearer = float((corners @ direction).max())  # the box's side facing the camera
        t = np.tan(np.radians(view_angle) / 2.0) * float(fill)
        distance = max(half_h / t, half_w / (t * float(aspect))) + max(nearer, 0.0)
        return cls(position=tuple(float(v) for v in centre + distance * direction),
                   focal_point=tuple(float(v) for v in centre),
                   view_up=tuple(float(v) for v in view_up))


@dataclass
class SavedView:
    name: str
    camera: Camera


@dataclass
class Decorations:
    """What the view draws over the data (:mod:`viewer.decorations`): the axis gizmo,
    a scale bar, a north arrow (georeferenced scenes), a title and the CRS/attribution
    line. The window's defaults; off-screen renders draw only what they are given."""

    axes: bool = True
    scale_bar: bool = True
    north_arrow: bool = True
    attribution: bool = False
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Decorations":
        known = {k: d[k] for k in vars(cls()) if k in d}
        return cls(**{k: (str(v) if k == "title" else bool(v)) for k, v in known.items()})


@dataclass(frozen=True)
class Clip:
    """The scene's clip: a :mod:`heritage.monitoring.clip` region (Box, Polygon, Slab) in
    the scene's true coordinates (its CRS), the side drawn (``inside``: the region's
    points, else the rest) and a switch (``enabled``; off keeps the region for later)."""

    region: Any
    inside: bool = True
    enabled: bool = True
    #: draw the region's wireframe (off: pictures with nothing but the clipped data)
    outline: bool = True

    def mask(self, xyz_true: Any) -> np.ndarray:
        """Bool array over (N, 3) true positions: True where a point is drawn."""
        if not self.enabled:
            return np.ones(len(np.asarray(xyz_true)), bool)
        return self.region.mask(xyz_true, inside=self.inside)


@dataclass
class Pick:
    """A picked point: true coordinates and the layer's attribute values there."""

    layer: Layer
    index: int
    xyz: np.ndarray  # float64 (3,)
    attributes: dict[str, Any]
    feature_id: str | None = None  # the object picked in a city / building model


class Scene(EventEmitter):
    """Layers, camera, saved views and selection. Owns the scene origin.

    The scene origin is a float64 offset; renderers draw ``true - origin`` in float32.
    It is fixed by the first layer added.
    """

    def __init__(self) -> None:
        super().__init__()
        self.layers: list[Layer] = []
        self.origin: np.ndarray | None = None
        self.camera = Camera()
        self.views: list[SavedView] = []
        self.selected: Layer | None = None
        self.background: tuple[float, float, float] = (0.12, 0.13, 0.16)
        self.edl: bool = False
        #: eye-dome lighting strength and radius (px), Potree's (viewer.edl)
        self.edl_strength: float = edl.DEFAULT_STRENGTH
        self.edl_radius: float = edl.DEFAULT_RADIUS
        #: scale bar, north arrow, axis gizmo... (event ``decorations_changed``)
        self.decorations = Decorations()
        self.last_pick: Pick | None = None
        #: the selected object of a city / building model: (layer, feature id)
        self.selected_feature: tuple[Layer, str] | None = None
        #: the scene's CRS (pyproj.CRS): the first georeferenced layer's unless set
        self.crs: Any = None
        #: the clip drawn in every view (:class:`Clip`; None: nothing clipped)
        self.clip: Clip | None = None

    # -- layers ---------------------------------------------------------------------
    def add(self, data: Dataset, name: str | None = None, path: str | None = None,
            **display: Any) -> Layer:
        if name is None:
            name = Path(path).name if path else data.metadata.get("source", "layer")
            name = Path(str(name)).name
        from .units import default_up_axis

        layer = Layer(name=name, data=data, path=path, color_mode=default_color_mode(data),
                      up_axis=default_up_axis(data))
        for key, value in display.items():
            setattr(layer, key, value)
        if self.origin is None:
            self.origin = np.array(data.origin, dtype=np.float64)
        if self.crs is None and data.crs is not None:
            self.crs = data.crs
            self.emit("crs_changed", crs=self.crs)
        self.layers.append(layer)
        self.emit("layer_added", layer=layer, index=len(self.layers) - 1)
        if self.selected is None:
            self.select(layer)
        return layer

    def insert(self, layer: Layer, index: int) -> Layer:
        """Put an existing layer (e.g. one removed earlier) back at ``index``, with its
        data and display state as they are; emits ``layer_added``."""
        if layer in self.layers:
            return layer
        index = max(0, min(int(index), len(self.layers)))
        if self.origin is None:
            self.origin = np.array(layer.data.origin, dtype=np.float64)
        if self.crs is None and layer.data.crs is not None:
            self.crs = layer.data.crs
            self.emit("crs_changed", crs=self.crs)
        self.layers.insert(index, layer)
        self.emit("layer_added", layer=layer, index=index)
        if self.selected is None:
            self.select(layer)
        return layer

    def remove(self, layer: Layer) -> None:
        if layer not in self.layers:
            return
        self.layers.remove(layer)
        if self.selected is layer:
            self.selected = None
            self.emit("selection_changed", layer=None)
        if self.selected_feature and self.selected_feature[0] is layer:
            self.select_feature(None, None)
        if not self.layers:
            self.origin = None
        self.emit("layer_removed", layer=layer)
        if not self.layers and self.crs is not None:  # the next file opened sets it
            self.set_crs(None)

    def move(self, layer: Layer, new_index: int) -> None:
        self.layers.remove(layer)
        new_index = max(0, min(new_index, len(self.layers)))
        self.layers.insert(new_index, layer)
        self.emit("layers_reordered")

    def update(self, layer: Layer, **changes: Any) -> None:
        """Change display properties of ``layer``; emits one event per field changed."""
        for key, value in changes.items():
            if not hasattr(layer, key):
                raise AttributeError(f"layer has no property {key!r}")
            if key == "color_mode" and value not in (*COLOR_MODES_POINTS, *COLOR_MODES_MESH,
                                                     *COLOR_MODES_FEATURES, "attribute",
                                                     *COLOR_MODES_TILES):
                raise ValueError(f"unknown colour mode {value!r}")
            if key == "point_size_mode" and value not in ("adaptive", "fixed"):
                raise ValueError(f"unknown point size mode {value!r}")
            if key == "point_shape" and value not in ("square", "round"):
                raise ValueError(f"unknown point shape {value!r}")
            if key == "up_axis":  # re-orient the data (a glTF stored Z-up, or back)
                self._set_up_axis(layer, value)
                continue
            if key == "units":  # scale the data into metres (or back to its numbers)
                self._set_units(layer, value)
                continue
            setattr(layer, key, value)
            self.emit("layer_changed", layer=layer, field=key)

    def _set_up_axis(self, layer: Layer, up_axis: str) -> None:
        from .units import check_reshapable, set_up_axis

        if layer.up_axis is None:
            raise ValueError(f"layer {layer.name!r} has no up axis to choose")
        if up_axis == layer.up_axis:
            return
        check_reshapable(layer)
        layer.data = set_up_axis(layer.data, up_axis)  # ValueError for a bad axis
        layer.up_axis = up_axis
        self.emit("layer_changed", layer=layer, field="data")

    def _set_units(self, layer: Layer, units: str | None) -> None:
        from .units import check_reshapable, check_units, scale_data, scale_factor

        units = check_units(units)  # ValueError for an unknown unit
        if units == layer.units:
            return
        if units is not None and layer.data.crs is not None:
            raise ValueError(f"layer {layer.name!r} is georeferenced: its CRS gives its "
                             "units")
        check_reshapable(layer)
        layer.data = scale_data(layer.data, scale_factor(layer.units, units), units)
        layer.units = units
        self.emit("layer_changed", layer=layer, field="data")
        self.emit("layer_changed", layer=layer, field="units")

    def select(self, layer: Layer | None) -> None:
        if layer is self.selected:
            return
        self.selected = layer
        self.emit("selection_changed", layer=layer)

    def select_feature(self, layer: Layer | None, feature_id: str | None) -> None:
        """Select an object of a city / building model (None clears the selection)."""
        new = (layer, str(feature_id)) if layer is not None and feature_id else None
        if new == self.selected_feature or (new and self.selected_feature and
                                            new[0] is self.selected_feature[0] and
                                            new[1] == self.selected_feature[1]):
            return
        self.selected_feature = new
        self.emit("feature_selected", layer=layer if new else None,
                  feature_id=new[1] if new else None)

    def set_crs(self, crs: Any) -> None:
        """Set the scene CRS (the caller reprojects layers; see viewer.georeference)."""
        self.crs = crs
        self.emit("crs_changed", crs=crs)

    def layer_by_name(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    # -- geometry -------------------------------------------------------------------
    def bounds(self, layers: list[Layer] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """True-coordinate bounds of the given (default: visible) layers."""
        layers = [l for l in self.layers if l.visible] if layers is None else layers
        if not layers:
            return None
        los, his = zip(*(layer_bounds(l) for l in layers), strict=True)
        return np.min(los, axis=0), np.max(his, axis=0)

    def local_offset(self, layer: Layer) -> np.ndarray:
        """Offset (float64) from the scene origin to the layer's origin."""
        origin = self.origin if self.origin is not None else np.zeros(3)
        return np.asarray(layer.data.origin, dtype=np.float64) - origin

    # -- camera and views -------------------------------------------------------------
    def set_camera(self, camera: Camera) -> None:
        self.camera = camera
        self.emit("camera_changed", camera=camera)

    def save_view(self, name: str) -> SavedView:
        view = SavedView(name, Camera(**vars(self.camera)))
        self.views.append(view)
        self.emit("views_changed")
        return view

    def set_background(self, color: tuple[float, float, float]) -> None:
        self.background = tuple(float(c) for c in color)
        self.emit("background_changed", color=self.background)

    def set_decorations(self, **changes: Any) -> None:
        """Change what the view draws over the data (fields of :class:`Decorations`)."""
        for key, value in changes.items():
            if not hasattr(self.decorations, key):
                raise AttributeError(f"no decoration {key!r}")
            setattr(self.decorations, key, str(value) if key == "title" else bool(value))
        self.emit("decorations_changed", decorations=self.decorations)

    def set_edl(self, enabled: bool | None = None, *, strength: float | None = None,
                radius: float | None = None) -> None:
        """Eye-dome lighting on/off (None: unchanged), its strength (0..10) and radius
        (1..8 px); ValueError for values out of range (nothing changed then)."""
        strength = self.edl_strength if strength is None else edl.check_strength(strength)
        radius = self.edl_radius if radius is None else edl.check_radius(radius)
        if enabled is not None:
            self.edl = bool(enabled)
        self.edl_strength, self.edl_radius = strength, radius
        self.emit("edl_changed", enabled=self.edl)

    def set_clip(self, region: Any = None, *, inside: bool = True,
                 enabled: bool = True, outline: bool = True) -> Clip | None:
        """Clip every layer to ``region`` (a heritage.monitoring.clip Box / Polygon /
        Slab in the scene's true coordinates; None: no clip), drawing what lies
        ``inside`` it or outside; ``enabled=False`` keeps the region but draws all.
        Emits ``clip_changed``; TypeError for something that is not a region."""
        from heritage.monitoring.clip import Region

        if region is not None and not isinstance(region, Region):
            raise TypeError("the clip region must be a Box, Polygon or Slab "
                            "(heritage.monitoring.clip)")
        self.clip = None if region is None else Clip(region, bool(inside), bool(enabled),
                                                     bool(outline))
        self.emit("clip_changed", clip=self.clip)
        return self.clip

    def set_pick(self, pick: Pick | None) -> None:
        self.last_pick = pick
        self.emit("picked", pick=pick)


def layer_bounds(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = layer.data.bounds
    if not np.allclose(layer.transform, np.eye(4)):
        corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                            for z in (lo[2], hi[2])])
        moved = corners @ layer.transform.T
        lo, hi = moved[:, :3].min(axis=0), moved[:, :3].max(axis=0)
    return lo, hi


def pick_info(layer: Layer, index: int) -> Pick:
    """Build a :class:`Pick` for point/vertex ``index`` of ``layer``."""
    data = layer.data
    if isinstance(data, PointCloud):
        xyz = data.positions[index].astype(np.float64) + data.origin
        attrs = {}
        from loaders.types import loaded_attributes

        for key, values in loaded_attributes(data).items():  # not those still in the file
            v = values[index]
            attrs[key] = v.tolist() if hasattr(v, "tolist") else v
    else:
        assert isinstance(data, Mesh)
        xyz = data.vertices[index].astype(np.float64) + data.origin
        attrs = {}
    return Pick(layer=layer, index=int(index), xyz=xyz, attributes=attrs)


def feature_pick(layer: Layer, vertex: int, face: int, xyz_true: np.ndarray) -> Pick:
    """A pick on a mesh surface: the exact surface point, the nearest vertex, and for a
    city / building model the object the face belongs to."""
    pick = pick_info(layer, vertex)
    pick.xyz = np.asarray(xyz_true, dtype=np.float64)
    data = layer.data
    if isinstance(data, FeatureMesh):
        feature = data.feature_at_face(int(face))
        if feature is not None:
            pick.feature_id = feature.id
            pick.attributes = {"id": feature.id, "type": feature.type}
            if feature.name:
                pick.attributes["name"] = feature.name
    return pick
