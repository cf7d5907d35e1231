"""IFC building models (IFC2X3, IFC4, IFC4X3 STEP ``.ifc``) through ifcopenshell.

The result is a :class:`~loaders.types.FeatureMesh`:

* Geometry: ifcopenshell's geometry iterator, multi-threaded (one thread per CPU), world
  coordinates in metres, triangulated. Shapes are put in STEP-id order so that a file
  always gives the same mesh whatever order the worker threads finish in. Every triangle
  knows its element (``face_feature``) and has the colour of its IFC surface style
  (``face_colors`` RGBA, transparency -> alpha; ifcopenshell's per-class default colours
  for unstyled elements).
* ``IfcOpeningElement`` (voids) and ``IfcSpace`` geometry are not loaded: space volumes
  would hide the building. Spaces are still features of the tree
  (``metadata["excluded_geometry"]``); ``read(path, include_spaces=True)`` loads them.
* Features: one per product with geometry, per spatial element (project, site, building,
  storey, space...) and per aggregate parent on the way up (e.g. an ``IfcRoof`` made of
  slabs), in tree order (depth first, children by STEP id). ``attributes`` are the
  element's direct JSON-able attributes, ``properties`` its property and quantity sets
  (type sets first, then the occurrence's own, which win), ``parent`` the aggregate or
  spatial container, ``storey`` the name of the building storey above it.
* Coordinates are kept in float64 until :func:`~loaders.types.split_origin`. They are
  georeferenced, in this order of preference:

  1. ``IfcMapConversion`` + ``IfcProjectedCRS`` (IFC4 and later): the Helmert transform
     (rotation from XAxisAbscissa/XAxisOrdinate, Scale, Eastings/Northings/
     OrthogonalHeight) into the map CRS; ``crs`` from the CRS name (e.g. "EPSG:25832").
  2. ``ePSet_MapConversion`` + ``ePSet_ProjectedCRS`` property sets on ``IfcProject`` or
     ``IfcSite`` (the buildingSMART convention for IFC2X3), same transform.
  3. ``IfcSite`` RefLatitude/RefLongitude/RefElevation: the site's placement origin is put
     at that point in the WGS 84 / UTM zone containing it, z = RefElevation + model z, and
     the model is turned so that the context's TrueNorth points to true north (including
     the UTM grid convergence). Approximate: the UTM scale factor is not applied and the
     reference point is rarely surveyed (``metadata["georef"]`` says so).
  4. Nothing: model coordinates, ``crs`` None, a warning.

  Map units: the transform's output is in the map CRS's units (its MapUnit, else the
  unit of the named CRS's axes). Exporters disagree on what ``Scale`` holds: the unit
  ratio project -> map (IFC4.3: 0.001 for millimetres on a metre grid), its inverse
  (1000), 1.0 for "nothing", a projection scale factor near 1 (IFC4 ADD2's "scale of the
  map") or nothing. :func:`resolve_scale` tells them apart by comparing ``Scale`` with the
  unit ratio, so a 4 m wall stays 4 m at the conversion's Eastings/Northings/Height; a
  Scale that is none of these is ignored for the unit ratio and named in a warning, as are
  the inverse and 1.0 (``georef_detail["scale_read_as"]`` says how it was read).

Isolation: ifcopenshell runs in a child process started by a fork server (never a fork
of the caller, which may have Qt threads; the caller's ``__main__`` is not re-imported).
Progress comes back over a pipe (a ``LoadCancelled`` from the callback kills the child),
the model as a pickle whose numpy arrays follow as raw bytes. A child killed by a signal
(ifcopenshell segfaults on some crafted files) gives "IFC geometry engine crashed (signal
N) on this file". The child's stdout (file descriptor 1) is its stderr: nothing native
code prints reaches the caller's stdout. Placement cycles (an ``IfcLocalPlacement``
relative to itself, directly or through others), on which ifcopenshell recurses until it
crashes, are rejected before the geometry with a clear error.

Errors: no STEP header, an unsupported schema, a file ifcopenshell cannot parse, a file
without any ``IfcProduct``, or one that gives no triangle at all (truncated, elements
without body representation, every element failing) give a
:class:`~loaders.types.LoadError`.
ifcopenshell's parser is lenient: a file that defines an instance name twice opens
silently with one of the two entities lost (``corrupt/fail_duplicate_id.ifc`` loses its
IfcProject and has no product): the error then names the duplicated ``#ids``; when such a
file still has products it is loaded with a warning. An element whose geometry fails
(or was lost with the end of a truncated file) is skipped and listed in
``metadata["skipped"]``, and a warning counts them by class ("12 of 80 elements had no
readable geometry: IfcWall ×3, ..."), beside ifcopenshell's error messages; a file that
does not end with ``END-ISO-10303-21;`` is said to be truncated. Duplicate GlobalIds get
``#<step id>`` appended; a cycle in the model tree is cut and named.

Metadata: ``schema``, ``elements`` (IfcProduct count per class), ``storeys``, ``georef``
(how) and ``georef_detail`` (numbers), ``skipped``, ``warnings``, ``excluded_geometry``,
``length_unit_m``, ``shapes``, ``features``.
"""

from __future__ import annotations

import math
import multiprocessing
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..registry import ReaderSpec
from ..safety import UnsafePath, open_regular
from ..types import Feature, FeatureMesh, LoadCancelled, LoadError, ProgressFn, split_origin

#: Element classes whose geometry is never loaded (voids) / not loaded by default.
EXCLUDED_ALWAYS = ("IfcOpeningElement",)
EXCLUDED_BY_DEFAULT = ("IfcOpeningElement", "IfcSpace")

_DEFAULT_RGBA = (204, 204, 204, 255)
_HEADER_BYTES = 65536
_MAX_WARNINGS = 50


def sniff(head: bytes, path: Path) -> bool:
    """A STEP physical file (ISO-10303-21) that mentions an IFC schema."""
    return head.lstrip().startswith(b"ISO-10303-21") and (b"IFC" in head[:4096].upper())


def thread_count() -> int:
    """Threads given to ifcopenshell's geometry iterator."""
    try:
        return max(1, multiprocessing.cpu_count())
    except NotImplementedError:  # pragma: no cover - platform without cpu_count
        return 1


def geometry_settings(geom: Any) -> Any:
    """The ifcopenshell geometry settings used by :func:`read` (``geom`` is
    ``ifcopenshell.geom``). Shared with the benchmark so that it measures the same work."""
    settings = geom.settings()
    settings.set("use-world-coords", True)  # shapes in world coordinates (metres)
    settings.set("weld-vertices", True)  # shared vertices within a shape (default)
    settings.set("apply-default-materials", True)  # per-class colours when unstyled
    return settings


# ------------------------------------------------------------------------- header


def _check_header(path: Path) -> str:
    """Schema name from the STEP header; LoadError when there is no usable header."""
    try:
        with open_regular(path) as fh:
            head = fh.read(_HEADER_BYTES)
    except UnsafePath as exc:
        raise LoadError(path, f"cannot open file: it {exc.reason}",
                        "open the IFC file itself") from None
    except OSError as exc:
        raise LoadError(path, f"cannot open file: {exc.strerror or exc}",
                        "check that it exists and is readable") from None
    text = head.decode("latin-1")
    header = re.search(r"\bHEADER\s*;(.*?)\bENDSEC\s*;", text, re.S | re.I)
    schema = re.search(r"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", header.group(1), re.I) \
        if header else None
    if not text.lstrip().startswith("ISO-10303-21") or header is None or schema is None:
        missing = ("the STEP HEADER section is missing" if header is None
                   else "the header has no FILE_SCHEMA")
        raise LoadError(path, f"cannot parse the IFC header ({missing})",
                        "the file is not a valid IFC STEP file; re-export it")
    return schema.group(1).strip().upper()


def _supported_schemas() -> list[str]:
    try:
        from ifcopenshell import ifcopenshell_wrapper

        return [s for s in ifcopenshell_wrapper.schema_names() if s.upper().startswith("IFC")]
    except Exception:
        return ["IFC2X3", "IFC4"]


def _unsupported(path: Path, schema: str) -> LoadError:
    names = ", ".join(_supported_schemas())
    return LoadError(path, f"unsupported IFC schema {schema}",
                     f"RealScene reads {names} (via ifcopenshell); re-export the model "
                     "as IFC4 or IFC2X3 from the authoring tool")


def _duplicate_instance_names(path: Path, limit: int = 5) -> list[str]:
    """Instance names (#n) defined more than once; only used to explain a broken file."""
    seen: set[bytes] = set()
    dups: list[str] = []
    pattern = re.compile(rb"^\s*#(\d+)\s*=", re.M)
    with open(path, "rb") as fh:
        for m in pattern.finditer(fh.read()):
            key = m.group(1)
            if key in seen:
                dups.append("#" + key.decode())
                if len(dups) >= limit:
                    break
            seen.add(key)
    return dups


# ------------------------------------------------------------------------- values


def _jsonable(value: Any) -> Any:
    """A JSON-able version of an IFC value (wrapped measures unwrapped, tuples -> lists)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    wrapped = getattr(value, "wrappedValue", _MISSING)
    if wrapped is not _MISSING:
        return _jsonable(wrapped)
    try:  # an entity reference: name it
        name = getattr(value, "Name", None)
        kind = value.is_a()
        return f"{kind} {name}" if name else kind
    except Exception:
        return str(value)


_MISSING = object()

_SKIP_ATTRIBUTES = {"GlobalId", "OwnerHistory"}


def _is_scalar(value: Any) -> bool:
    if isinstance(value, (str, bool, int, float)):
        return True
    return (isinstance(value, tuple) and len(value) > 0
            and all(isinstance(v, (str, bool, int, float)) for v in value))


def _attributes(entity: Any) -> dict[str, Any]:
    """Direct attributes that are JSON-able scalars (or tuples of them), no references."""
    out: dict[str, Any] = {}
    try:
        info = entity.get_info(include_identifier=False, recursive=False)
    except Exception:
        return out
    for key, value in info.items():
        if key == "type" or key in _SKIP_ATTRIBUTES or value is None:
            continue
        if _is_scalar(value):
            out[key] = _jsonable(value)
    return out


def _property_value(prop: Any) -> Any:
    kind = prop.is_a()
    if kind == "IfcPropertySingleValue":
        return _jsonable(prop.NominalValue)
    if kind == "IfcPropertyEnumeratedValue":
        values = [_jsonable(v) for v in (prop.EnumerationValues or ())]
        return values[0] if len(values) == 1 else values
    if kind == "IfcPropertyListValue":
        return [_jsonable(v) for v in (prop.ListValues or ())]
    if kind == "IfcPropertyBoundedValue":
        out = {"lower": _jsonable(prop.LowerBoundValue),
               "upper": _jsonable(prop.UpperBoundValue)}
        set_point = getattr(prop, "SetPointValue", None)  # IFC4
        if set_point is not None:
            out["set_point"] = _jsonable(set_point)
        return out
    if kind == "IfcPropertyTableValue":
        return {"defining": [_jsonable(v) for v in (prop.DefiningValues or ())],
                "defined": [_jsonable(v) for v in (prop.DefinedValues or ())]}
    if kind == "IfcPropertyReferenceValue":
        return _jsonable(prop.PropertyReference)
    if kind == "IfcComplexProperty":
        return {p.Name: _property_value(p) for p in (prop.HasProperties or ())}
    return None


def _quantity_value(quantity: Any) -> Any:
    if quantity.is_a("IfcPhysicalComplexQuantity"):
        return {q.Name: _quantity_value(q) for q in (quantity.HasQuantities or ())}
    try:
        return _jsonable(quantity[3])  # LengthValue / AreaValue / VolumeValue / ...
    except Exception:
        return None


def _property_set(definition: Any) -> tuple[str, dict[str, Any]] | None:
    kind = definition.is_a()
    name = getattr(definition, "Name", None) or kind
    if kind == "IfcPropertySet":
        return name, {p.Name: _property_value(p) for p in (definition.HasProperties or ())}
    if kind == "IfcElementQuantity":
        return name, {q.Name: _quantity_value(q) for q in (definition.Quantities or ())}
    if definition.is_a("IfcPropertySetDefinition"):  # pre-defined sets (door lining...)
        values = _attributes(definition)
        for key in ("Name", "Description"):
            values.pop(key, None)
        return name, values
    return None


# ------------------------------------------------------------------------- tree


def _model_tree(f: Any) -> dict[int, int]:
    """Parent STEP id of each object.

    Aggregation (``IfcRelAggregates``) wins over spatial containment; nesting
    (``IfcRelNests``) only fills in objects that have neither.
    """
    parent: dict[int, int] = {}
    for kind, whole, parts in (("IfcRelNests", "RelatingObject", "RelatedObjects"),
                               ("IfcRelContainedInSpatialStructure", "RelatingStructure",
                                "RelatedElements"),
                               ("IfcRelAggregates", "RelatingObject", "RelatedObjects")):
        for rel in f.by_type(kind):
            relating = getattr(rel, whole, None)  # None: a reference the file lacks
            if relating is None:
                continue
            pid = relating.id()
            for obj in getattr(rel, parts, None) or ():
                if obj is not None and obj.id() != pid:
                    parent[obj.id()] = pid
    return parent


def _spatial_elements(f: Any) -> list[Any]:
    for name in ("IfcSpatialElement", "IfcSpatialStructureElement"):
        try:
            return list(f.by_type(name))
        except RuntimeError:  # not in this schema (IfcSpatialElement is IFC4+)
            continue
    return []


def _properties_of(f: Any, wanted: set[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """Property and quantity sets of the objects in ``wanted``, in one pass over the
    relationships (type sets first; the occurrence's own sets override them)."""
    cache: dict[int, tuple[str, dict[str, Any]] | None] = {}

    def convert(definition: Any) -> tuple[str, dict[str, Any]] | None:
        key = definition.id()
        if key not in cache:
            try:
                cache[key] = _property_set(definition)
            except Exception:  # one broken set must not lose the others
                cache[key] = None
        return cache[key]

    out: dict[int, dict[str, dict[str, Any]]] = {}

    def assign(objects: Any, definitions: Any) -> None:
        ids = [o.id() for o in objects or () if o is not None]
        ids = [i for i in ids if i in wanted]
        if not ids:
            return
        if not isinstance(definitions, (tuple, list)):
            definitions = (definitions,)
        for definition in definitions:
            if definition is None:
                continue
            pset = convert(definition)
            if pset is None:
                continue
            name, values = pset
            for i in ids:
                groups = out.setdefault(i, {})
                if name in groups:
                    groups[name] = {**groups[name], **values}
                else:
                    groups[name] = dict(values)

    for rel in f.by_type("IfcRelDefinesByType"):
        if rel.RelatingType is not None:
            assign(rel.RelatedObjects, rel.RelatingType.HasPropertySets or ())
    for rel in f.by_type("IfcRelDefinesByProperties"):
        assign(rel.RelatedObjects, rel.RelatingPropertyDefinition)
    return out


# ------------------------------------------------------------------------- geometry


def _style_rgba(style: Any) -> tuple[int, int, int, int]:
    try:
        r, g, b = style.diffuse.components
        transparency = float(style.transparency)
        if not math.isfinite(transparency):
            transparency = 0.0
    except Exception:
        return _DEFAULT_RGBA
    alpha = 1.0 - min(max(transparency, 0.0), 1.0)
    return tuple(int(round(min(max(c, 0.0), 1.0) * 255)) for c in (r, g, b, alpha))


class _Shapes:
    """Raw per-shape buffers as ifcopenshell returns them (converted once at the end)."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.verts: list[bytes] = []
        self.faces: list[bytes] = []
        self.material_ids: list[bytes] = []
        self.styles: list[tuple] = []


def _iterate_geometry(f: Any, exclude: tuple[str, ...], report: ProgressFn,
                      warnings: list[str], meanwhile: Callable[[], Any]
                      ) -> tuple[_Shapes, Any]:
    """Mesh every element; ``meanwhile()`` runs while the worker threads start meshing.
    Returns the shapes and what ``meanwhile`` returned."""
    import ifcopenshell.geom

    shapes = _Shapes()
    settings = geometry_settings(ifcopenshell.geom)
    try:
        it = ifcopenshell.geom.iterator(settings, f, thread_count(), exclude=list(exclude))
        has_shapes = it.initialize()
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warnings.append(f"ifcopenshell could not generate any geometry: {text}")
        return shapes, meanwhile()
    ids, verts, faces, mids, styles = (shapes.ids, shapes.verts, shapes.faces,
                                       shapes.material_ids, shapes.styles)
    last = -1
    count = 0
    try:
        result = meanwhile()  # the model tree and property sets, overlapping the meshing
        while has_shapes:
            shape = it.get()
            geometry = shape.geometry
            ids.append(shape.id)
            verts.append(geometry.verts_buffer)
            faces.append(geometry.faces_buffer)
            mids.append(geometry.material_ids_buffer)
            styles.append(tuple(_style_rgba(s) for s in geometry.materials))
            count += 1
            if count % 8 == 0:
                done = it.progress()
                if done != last:
                    last = done
                    report(0.05 + 0.8 * done / 100.0, "generating IFC geometry")
            has_shapes = it.next()
    finally:
        del it
    return shapes, result


def _log_entries() -> list[list[str]]:
    """ifcopenshell's log (reading it clears it), as entries of one or more lines."""
    import ifcopenshell

    try:
        log = ifcopenshell.get_log()
    except Exception:
        return []
    entries: list[list[str]] = []
    for line in log.splitlines():
        if line.startswith("["):
            entries.append([line])
        elif entries and line.strip():
            entries[-1].append(line.strip())
    return entries


def _log_errors(entries: list[list[str]]) -> list[str]:
    """Distinct error entries of the log, one line each:
    ``[GEO089] Non-positive extrusion height encountered for: #79=IfcExtrudedAreaSolid(...)``.
    """
    out: list[str] = []
    for entry in entries:
        if not entry[0].startswith("[error]"):
            continue
        head = _LOG_TIME.sub("", entry[0])
        head = _LOG_PREFIX.sub(r"[\1] ", head)
        text = " ".join([head, *entry[1:]])[:300]
        if text not in out:
            out.append(text)
    return out


_LOG_PREFIX = re.compile(r"^\[error\]\s*\[(\w+)\]\s*(?:\[[^\]]*\]\s*)?")
_LOG_TIME = re.compile(r"\s*\[\d{4}-\d\d-\d\d[ T][\d:.]+\]")
_DANGLING = re.compile(r"Instance reference #(\d+) used by instance #(\d+) at attribute "
                       r"index (\d+) not found")


def _dangling_references(entries: list[list[str]]) -> dict[int, set[int]]:
    """Instances whose attributes name entities the file does not have (a truncated or
    damaged file): {instance id: {0-based attribute indices}}, from the parser's log."""
    out: dict[int, set[int]] = {}
    for entry in entries:
        for line in entry:
            m = _DANGLING.search(line)
            if m:
                out.setdefault(int(m.group(2)), set()).add(int(m.group(3)))
    return out


def _ends_properly(path: Path) -> bool:
    """Does the STEP file end with ``END-ISO-10303-21;`` (a truncated one does not)?"""
    try:
        with open_regular(path) as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - 4096))
            tail = fh.read()
    except (OSError, ValueError):
        return True
    return re.search(rb"END-ISO-10303-21\s*;", tail, re.I) is not None


def _lost_representation(product: Any, dangling: dict[int, set[int]]) -> bool:
    """Did the product lose its shape to a reference the file does not have?"""
    if not dangling:
        return False
    shape = getattr(product, "Representation", None)
    if shape is None:
        try:
            index = product.get_argument_index("Representation")
        except Exception:
            return False
        return index in dangling.get(product.id(), ())
    return shape.id() in dangling


def _expects_geometry(product: Any) -> bool:
    """Does the product have a 3D body representation the iterator should have meshed?"""
    shape = getattr(product, "Representation", None)
    if shape is None:
        return False
    for rep in shape.Representations or ():
        if rep is None:  # a reference the (damaged) file lacks
            continue
        ident = (rep.RepresentationIdentifier or "").lower()
        kind = (rep.RepresentationType or "").lower()
        context = rep.ContextOfItems
        ctype = (getattr(context, "ContextType", None) or "")
        if (not ctype and context is not None
                and context.is_a("IfcGeometricRepresentationSubContext")
                and context.ParentContext is not None):
            ctype = context.ParentContext.ContextType or ""
        if ctype.lower() not in ("model", "") or "2d" in kind or kind in ("curve", "point"):
            continue
        if ident in ("body", "facetation", "") or ident.startswith("body"):
            return True
    return False


def _check_placements(path: Path, f: Any) -> None:
    """LoadError when object placements are placed relative to themselves (directly or
    through others): ifcopenshell's geometry code recurses on such a file until it
    crashes. One pass over the placements, each followed up its chain once."""
    try:
        placements = f.by_type("IfcObjectPlacement")
    except RuntimeError:
        return
    done: set[int] = set()
    for start in placements:
        chain: list[int] = []
        on_chain: set[int] = set()
        node = start
        while node is not None:
            key = node.id()
            if key in done:
                break
            if key in on_chain:
                cycle = chain[chain.index(key):]
                path_text = " -> ".join(f"#{i}" for i in [*cycle, key])
                raise LoadError(path, "cyclic object placement: "
                                f"{node.is_a()} #{key} is placed relative to itself "
                                f"({path_text})",
                                "the file is malformed; re-export it from the authoring "
                                "tool")
            chain.append(key)
            on_chain.add(key)
            node = _placement_parent(node)
        done.update(chain)


def _placement_parent(placement: Any) -> Any:
    """The placement a placement is relative to (IfcLocalPlacement.PlacementRelTo, the
    placement of the grid of an IfcGridPlacement), or None."""
    try:
        parent = getattr(placement, "PlacementRelTo", None)
        if parent is not None or not placement.is_a("IfcGridPlacement"):
            return parent
        location = placement.PlacementLocation
        for axis in (getattr(location, "IntersectingAxes", None) or ())[:1]:
            for inverse in ("PartOfU", "PartOfV", "PartOfW"):
                for grid in getattr(axis, inverse, None) or ():
                    return grid.ObjectPlacement
    except Exception:
        return None
    return None


# ------------------------------------------------------------------------- georef


_UNIT_NAMES_M = {
    "METRE": 1.0, "METER": 1.0, "M": 1.0, "MILLIMETRE": 1e-3, "MILLIMETER": 1e-3,
    "MM": 1e-3, "CENTIMETRE": 1e-2, "CENTIMETER": 1e-2, "KILOMETRE": 1e3, "KILOMETER": 1e3,
    "FOOT": 0.3048, "FEET": 0.3048, "FT": 0.3048, "INCH": 0.0254,
    "US SURVEY FOOT": 1200.0 / 3937.0, "USSURVEYFOOT": 1200.0 / 3937.0,
}


def _unit_metres(unit: Any) -> float | None:
    """Metres per unit of an IfcNamedUnit (or a unit name such as 'METRE')."""
    if unit is None:
        return None
    if isinstance(unit, str):
        return _UNIT_NAMES_M.get(unit.strip().upper().replace("_", " ").replace(".", ""))
    try:
        import ifcopenshell.util.unit

        return float(ifcopenshell.util.unit.get_unit_scale(unit))
    except Exception:
        return None


def _crs_from_name(name: Any, warnings: list[str]) -> Any:
    if not name:
        warnings.append("the IFC projected CRS has no name; coordinates are in it but the "
                        "CRS is unknown")
        return None
    from pyproj import CRS

    text = str(name).strip()
    candidates = [text]
    m = re.search(r"(?:EPSG)?\D*(\d{4,6})\s*$", text, re.I)
    if m:
        candidates.append(f"EPSG:{m.group(1)}")
    for candidate in candidates:
        try:
            return CRS.from_user_input(candidate)
        except Exception:
            continue
    warnings.append(f"unknown CRS name {text!r} in the IFC file; coordinates are projected "
                    "but the CRS is not set")
    return None


def _helmert(eastings: float, northings: float, height: float, abscissa: float,
             ordinate: float, scale: float) -> np.ndarray:
    """4x4 map conversion: model units -> map units."""
    norm = math.hypot(abscissa, ordinate)
    a, b = (abscissa / norm, ordinate / norm) if norm > 0 else (1.0, 0.0)
    m = np.eye(4)
    m[:3, :3] = scale * np.array([[a, -b, 0.0], [b, a, 0.0], [0.0, 0.0, 1.0]])
    m[:3, 3] = (eastings, northings, height)
    return m


def _num(value: Any, default: float) -> float:
    value = _jsonable(value)
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def _wcs_inverse(context: Any, unit_m: float) -> np.ndarray | None:
    """Inverse of the context's WorldCoordinateSystem in metres, None when identity."""
    try:
        import ifcopenshell.util.placement

        wcs = np.array(ifcopenshell.util.placement.get_axis2placement(
            context.WorldCoordinateSystem), dtype=np.float64)
    except Exception:
        return None
    wcs[:3, 3] *= unit_m
    if np.allclose(wcs, np.eye(4)):
        return None
    return np.linalg.inv(wcs)


def _model_context(f: Any) -> Any:
    contexts = [c for c in f.by_type("IfcGeometricRepresentationContext")
                if c.is_a() == "IfcGeometricRepresentationContext"]
    for c in contexts:
        if (c.ContextType or "").lower() == "model":
            return c
    return contexts[0] if contexts else None


def _map_conversion_ifc4(f: Any) -> tuple[Any, Any] | None:
    try:
        operations = f.by_type("IfcMapConversion")
    except RuntimeError:  # IFC2X3
        return None
    if not operations:
        return None
    # prefer the conversion of the 3D model context
    model = _model_context(f)
    for op in operations:
        if model is not None and op.SourceCRS == model:
            return op, model
    return operations[0], model


def _georef_map_conversion(f: Any, unit_m: float, warnings: list[str], info: dict
                           ) -> tuple[np.ndarray, Any, str] | None:
    found = _map_conversion_ifc4(f)
    if found is None:
        return None
    op, context = found
    target = op.TargetCRS
    crs = _crs_from_name(getattr(target, "Name", None), warnings)
    map_unit_m = _map_unit(getattr(target, "MapUnit", None), crs, unit_m, warnings)
    scale = getattr(op, "Scale", None)
    params = dict(eastings=_num(op.Eastings, 0.0), northings=_num(op.Northings, 0.0),
                  height=_num(op.OrthogonalHeight, 0.0),
                  abscissa=_num(op.XAxisAbscissa, 1.0), ordinate=_num(op.XAxisOrdinate, 0.0))
    matrix = _conversion_matrix(params, scale, unit_m, map_unit_m, warnings, info)
    if op.is_a("IfcMapConversionScaled"):  # IFC4X3: extra per-axis factors
        matrix = matrix @ np.diag([_num(op.FactorX, 1.0), _num(op.FactorY, 1.0),
                                   _num(op.FactorZ, 1.0), 1.0])
    wcs_inv = _wcs_inverse(context, unit_m) if context is not None else None
    if wcs_inv is not None:
        matrix = matrix @ wcs_inv
    info.update(params, crs_name=getattr(target, "Name", None), scale=matrix_scale(matrix))
    return matrix, crs, "IfcMapConversion"


def matrix_scale(matrix: np.ndarray) -> float:
    return float(np.linalg.norm(matrix[:3, 0]))


#: A projection (grid) scale factor, possibly combined with a height reduction, stays within
#: a few parts per thousand of 1 anywhere a building is modelled; outside this range a
#: Scale is not a projection factor.
_PROJECTION_FACTOR = (0.99, 1.01)


def _is_factor(value: float) -> bool:
    return _PROJECTION_FACTOR[0] <= value <= _PROJECTION_FACTOR[1]


def _unit_words(metres: float) -> str:
    for name, m in (("millimetre", 1e-3), ("centimetre", 1e-2), ("metre", 1.0),
                    ("kilometre", 1e3), ("foot", 0.3048), ("inch", 0.0254),
                    ("US survey foot", 1200.0 / 3937.0)):
        if math.isclose(metres, m, rel_tol=1e-9):
            return name
    return f"{metres:g} m unit"


def resolve_scale(scale: Any, unit_m: float, map_unit_m: float
                  ) -> tuple[float, str, str | None]:
    """The factor from project units to map units that a map conversion's ``Scale`` means.

    IFC4.3 defines ``Scale`` as the factor from project length units to map units (0.001
    for a millimetre project and a metre CRS), optionally times a projection scale factor.
    Exporters also write its inverse (1000), 1.0 for "nothing" whatever the units, a bare
    projection factor (0.9996, the IFC4 ADD2 "scale of the map") or nothing at all. With
    ``r = unit_m / map_unit_m``:

    * absent / 0 / not a number: ``r``;
    * ``Scale / r`` a projection factor (0.99..1.01): ``Scale`` (IFC4.3 meaning);
    * ``Scale`` a projection factor although the units differ: ``r * Scale`` (1.0 or a
      projection factor without the unit ratio);
    * ``Scale * r`` a projection factor: ``1 / Scale`` (the inverse of the unit ratio);
    * anything else is implausible: ``r`` (the file's declared units), with a warning.

    Returns (factor, how it was read, warning or None).
    """
    r = unit_m / map_unit_m
    units = (f"project unit {_unit_words(unit_m)}, map unit {_unit_words(map_unit_m)}")
    value = _num(scale, 0.0) if scale is not None else 0.0
    if value == 0.0:
        warning = None
        if not math.isclose(r, 1.0):
            warning = (f"the map conversion has no Scale although the project unit "
                       f"({unit_m:g} m) and the map unit ({map_unit_m:g} m) differ; "
                       f"using {r:g}")
        return r, "no Scale: the unit ratio", warning
    if value > 0.0 and _is_factor(value / r):
        how = ("Scale = unit ratio" if math.isclose(value, r, rel_tol=1e-9)
               else f"Scale = unit ratio x projection factor {value / r:.6g}")
        return value, how, None
    if value > 0.0 and _is_factor(value):
        if value == 1.0:
            return r, "Scale 1 read as no scale: the unit ratio", (
                f"the map conversion's Scale is 1 although the units differ ({units}); "
                f"read as the unit ratio {r:g} (IFC4.3 wants Scale = {r:g})")
        return r * value, f"Scale = projection factor {value:.6g}, times the unit ratio", None
    if value > 0.0 and _is_factor(value * r):
        return 1.0 / value, "Scale = inverse of the unit ratio", (
            f"the map conversion's Scale {value:g} is the inverse of the unit ratio "
            f"({units}); read as {1.0 / value:g} (IFC4.3 wants Scale = {r:g})")
    return r, "implausible Scale ignored: the unit ratio", (
        f"implausible map conversion Scale {value:g} for {units}: it would make a 4 m "
        f"wall {4.0 * value / unit_m * map_unit_m:g} m tall; the Scale is ignored and the "
        f"unit ratio {r:g} used (check the georeferencing in the authoring tool)")


def _conversion_matrix(params: dict, scale: Any, unit_m: float, map_unit_m: float,
                       warnings: list[str], info: dict | None = None) -> np.ndarray:
    """Map conversion applied to model coordinates in metres (ifcopenshell's output)."""
    s, how, warning = resolve_scale(scale, unit_m, map_unit_m)
    if warning:
        warnings.append(warning)
    if info is not None:
        info.update(scale_in_file=_num(scale, 0.0) if scale is not None else None,
                    scale_read_as=how, map_unit_m=map_unit_m)
    # model metres -> model units -> map units
    m = _helmert(params["eastings"], params["northings"], params["height"],
                 params["abscissa"], params["ordinate"], s)
    return m @ np.diag([1.0 / unit_m, 1.0 / unit_m, 1.0 / unit_m, 1.0])


def _map_unit(unit: Any, crs: Any, unit_m: float, warnings: list[str]) -> float:
    """Metres per map unit: the CRS's MapUnit, else the unit of the named CRS's axes,
    else the project unit. A MapUnit that contradicts the named CRS is warned about."""
    declared = _unit_metres(unit)
    axis_m = None
    try:
        if crs is not None and crs.is_projected and crs.axis_info:  # a length unit
            axis_m = float(crs.axis_info[0].unit_conversion_factor) or None
    except Exception:
        axis_m = None
    if declared is not None:
        if axis_m is not None and not math.isclose(declared, axis_m, rel_tol=1e-6):
            warnings.append(f"the IFC projected CRS's MapUnit ({declared:g} m) differs from "
                            f"the unit of {crs.name} ({axis_m:g} m); using the MapUnit")
        return declared
    return axis_m if axis_m is not None else unit_m


def _georef_psets(f: Any, props: dict[int, dict[str, dict[str, Any]]], unit_m: float,
                  warnings: list[str], info: dict) -> tuple[np.ndarray, Any, str] | None:
    """IFC2X3 convention: ePSet_MapConversion / ePSet_ProjectedCRS on IfcProject/IfcSite."""
    holders = list(f.by_type("IfcProject")) + list(f.by_type("IfcSite"))
    conversion = crs_set = None
    for entity in holders:
        groups = props.get(entity.id(), {})
        conversion = conversion or groups.get("ePSet_MapConversion")
        crs_set = crs_set or groups.get("ePSet_ProjectedCRS")
    if not conversion:
        return None
    crs_set = crs_set or {}
    crs = _crs_from_name(crs_set.get("Name"), warnings)
    map_unit_m = _map_unit(crs_set.get("MapUnit"), crs, unit_m, warnings)
    params = dict(eastings=_num(conversion.get("Eastings"), 0.0),
                  northings=_num(conversion.get("Northings"), 0.0),
                  height=_num(conversion.get("OrthogonalHeight"), 0.0),
                  abscissa=_num(conversion.get("XAxisAbscissa"), 1.0),
                  ordinate=_num(conversion.get("XAxisOrdinate"), 0.0))
    matrix = _conversion_matrix(params, conversion.get("Scale"), unit_m, map_unit_m,
                                warnings, info)
    info.update(params, crs_name=crs_set.get("Name"), scale=matrix_scale(matrix))
    return matrix, crs, "ePSet_MapConversion"


def compound_angle(value: Any) -> float | None:
    """IfcCompoundPlaneAngleMeasure (degrees, minutes, seconds[, millionths]) -> degrees."""
    if value is None:
        return None
    parts = [float(v) for v in value][:4]
    if not parts:
        return None
    parts += [0.0] * (4 - len(parts))
    d, m, s, us = parts
    return d + m / 60.0 + s / 3600.0 + us / 3600e6


def utm_epsg(lat: float, lon: float) -> int:
    """EPSG code of the WGS 84 / UTM zone containing (lat, lon)."""
    lon = ((lon + 180.0) % 360.0) - 180.0
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        zone = 32  # Norway
    elif 72.0 <= lat < 84.0 and lon >= 0.0:  # Svalbard
        zone = 31 if lon < 9 else 33 if lon < 21 else 35 if lon < 33 else 37
    return (32600 if lat >= 0 else 32700) + zone


def _georef_site(f: Any, unit_m: float, warnings: list[str], info: dict
                 ) -> tuple[np.ndarray, Any, str] | None:
    site = None
    for candidate in f.by_type("IfcSite"):
        if candidate.RefLatitude is not None and candidate.RefLongitude is not None:
            site = candidate
            break
    if site is None:
        return None
    lat = compound_angle(site.RefLatitude)
    lon = compound_angle(site.RefLongitude)
    if lat is None or lon is None or not (-80.0 <= lat <= 84.0) or not (-180 <= lon <= 360):
        warnings.append(f"IfcSite reference point ({lat}, {lon}) is outside the UTM zones; "
                        "not georeferenced")
        return None
    from pyproj import CRS, Transformer

    epsg = utm_epsg(lat, lon)
    crs = CRS.from_epsg(epsg)
    to_utm = Transformer.from_crs(4326, epsg, always_xy=True)
    e0, n0 = to_utm.transform(lon, lat)
    e1, n1 = to_utm.transform(lon, lat + 1e-4)  # a step to true north, in grid terms
    grid_north = math.atan2(n1 - n0, e1 - e0)  # ~pi/2 minus the meridian convergence
    context = _model_context(f)
    true_north = math.pi / 2
    if context is not None and getattr(context, "TrueNorth", None) is not None:
        ratios = context.TrueNorth.DirectionRatios
        if len(ratios) >= 2 and (ratios[0] or ratios[1]):
            true_north = math.atan2(ratios[1], ratios[0])
    alpha = grid_north - true_north
    elevation = _num(site.RefElevation, 0.0) * unit_m + 0.0  # no "-0.0"
    # the reference point is the site's placement origin (model coordinates, metres)
    origin = np.zeros(3)
    try:
        import ifcopenshell.util.placement

        if site.ObjectPlacement is not None:
            origin = np.array(ifcopenshell.util.placement.get_local_placement(
                site.ObjectPlacement)[:3, 3], dtype=np.float64) * unit_m
    except Exception:
        pass
    c, s = math.cos(alpha), math.sin(alpha)
    m = np.eye(4)
    m[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    m[:3, 3] = np.array([e0, n0, elevation]) - m[:3, :3] @ origin
    info.update(latitude=lat, longitude=lon, epsg=epsg, easting=e0, northing=n0,
                elevation=elevation, rotation_deg=math.degrees(alpha),
                reference_point_model=origin.tolist())
    return m, crs, "site reference point (approximate)"


def _georeference(f: Any, props: dict, unit_m: float, warnings: list[str]
                  ) -> tuple[np.ndarray | None, Any, str, dict]:
    info: dict[str, Any] = {}
    for attempt in (lambda: _georef_map_conversion(f, unit_m, warnings, info),
                    lambda: _georef_psets(f, props, unit_m, warnings, info),
                    lambda: _georef_site(f, unit_m, warnings, info)):
        try:
            found = attempt()
        except Exception as exc:  # bad georeferencing data must not lose the model
            warnings.append(f"cannot use the georeferencing in the file: {exc}")
            info.clear()
            continue
        if found is not None:
            matrix, crs, how = found
            return matrix, crs, how, info
    warnings.append("the IFC file has no georeferencing (no IfcMapConversion, no "
                    "ePSet_MapConversion, no IfcSite reference point): model coordinates, "
                    "no CRS")
    return None, None, "none", info


# ------------------------------------------------------------------------- read


def read(path: Path, progress: ProgressFn | None = None, *,
         include_spaces: bool = False) -> FeatureMesh:
    """Read an IFC STEP file into a :class:`FeatureMesh` (see the module docstring).

    ifcopenshell runs in a child process (see :func:`read_isolated`), so that a file that
    crashes its native code gives a LoadError instead of killing RealScene.
    ``include_spaces``: also mesh ``IfcSpace`` volumes (off by default: they hide the
    building). Raises :class:`LoadError` (or :class:`LoadCancelled` from ``progress``).
    """
    return read_isolated(path, progress, include_spaces=include_spaces)


def read_in_process(path: Path, progress: ProgressFn | None = None, *,
                    include_spaces: bool = False) -> FeatureMesh:
    """:func:`read` in this process: what the child process runs (and the benchmark's
    measure of the process boundary's cost). A crash of ifcopenshell kills the caller."""
    path = Path(path)
    try:
        return _read(path, progress, include_spaces)
    except (LoadError, LoadCancelled, MemoryError):
        raise
    except RecursionError:
        raise LoadError(path, "cannot read the IFC model: its structure is nested too "
                        "deeply (or cyclic)", "the file is malformed; re-export it") from None
    except Exception as exc:  # ifcopenshell on a malformed model: name the step
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise LoadError(path, f"cannot read the IFC model: {type(exc).__name__}"
                        + (f": {text[:200]}" if text else ""),
                        "the file may be invalid IFC; check it with an IFC validator or "
                        "re-export it") from None


# ------------------------------------------------------------------------- child process

#: Modules the fork server imports once, so that each read's child starts warm.
_PRELOAD = ["loaders.formats.ifc", "ifcopenshell", "ifcopenshell.geom",
            "ifcopenshell.util.unit", "ifcopenshell.util.placement", "pyproj"]

#: Test hook (environment variable, read by the parent at each read and handed to the
#: child): "abort" makes the child os.abort() when the geometry starts, "stdout" makes it
#: write a line on its file descriptor 1 first (as native code would), "sleep" makes it
#: sleep 60 s first (busy without news, like a long parse).
CHILD_TEST_HOOK = "REALSCENE_IFC_CHILD_TEST"

_context_cache: list[Any] = []

#: Longest wait for news from the child before the progress callback is called again
#: (with the last fraction), so that a cancel is seen within this time.
_POLL_S = 0.25


def _context() -> Any:
    """The multiprocessing context of the IFC child: a fork server (started once, from a
    fresh interpreter, so no Qt thread is ever forked) where there is one, else spawn."""
    if not _context_cache:
        if "forkserver" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
        else:  # pragma: no cover - Windows
            ctx = multiprocessing.get_context("spawn")
        _context_cache.append(ctx)
    return _context_cache[0]


def _process_class(ctx: Any) -> Any:
    """``ctx.Process``, or on the fork server :class:`_ForkServerProcess`."""
    if ctx.get_start_method() == "forkserver" and _ForkServerProcess is not None:
        return _ForkServerProcess
    return ctx.Process


def _fork_server_process() -> Any:
    """A fork-server Process that does not re-import the caller's ``__main__`` in the
    child (multiprocessing's default): the child needs only this module, a script calling
    :func:`read` at top level must not run again in it, and the window's main module (Qt)
    has no business in the IFC child. None where the private API it extends differs."""
    try:
        from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
        from multiprocessing.context import ForkServerProcess, set_spawning_popen
    except ImportError:  # pragma: no cover - no fork server on this platform
        return None
    if not all(hasattr(forkserver, n) for n in ("connect_to_new_process", "read_signed")):
        return None  # pragma: no cover - another Python's internals

    class Popen(popen_forkserver.Popen):
        def _launch(self, process_obj: Any) -> None:  # popen_forkserver's, minus __main__
            import io
            import os

            prep_data = spawn.get_preparation_data(process_obj._name)
            prep_data.pop("init_main_from_path", None)
            prep_data.pop("init_main_from_name", None)
            buf = io.BytesIO()
            set_spawning_popen(self)
            try:
                reduction.dump(prep_data, buf)
                reduction.dump(process_obj, buf)
            finally:
                set_spawning_popen(None)
            self.sentinel, w = forkserver.connect_to_new_process(self._fds)
            _parent_w = os.dup(w)
            self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
            with open(w, "wb", closefd=True) as f:
                f.write(buf.getbuffer())
            self.pid = forkserver.read_signed(self.sentinel)

    class Process(ForkServerProcess):
        @staticmethod
        def _Popen(process_obj: Any) -> Any:  # noqa: N802 - multiprocessing's name
            return Popen(process_obj)

    Process.__qualname__ = Process.__name__ = "_ForkServerProcess"
    return Process


_ForkServerProcess = _fork_server_process()


def _child_main(conn: Any, path: str, include_spaces: bool, hook: str = "") -> None:
    """The child: read the file, send progress, then the model (arrays out of band) or
    the error. Its stdout goes to stderr: whatever native code prints never reaches the
    parent's stdout (``info --json`` output stays one JSON document)."""
    import os
    import pickle
    import sys

    try:
        sys.stdout.flush()
    except Exception:
        pass
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:  # a crash is reported by the parent: no core file beside the user's data
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform
        pass

    def progress(fraction: float, message: str) -> None:
        if hook == "abort" and message == "generating IFC geometry":
            os.abort()
        conn.send(("progress", fraction, message))

    try:
        if hook == "stdout":
            os.write(1, b"native debug line from the IFC engine\n")
        elif hook == "sleep":
            import time

            time.sleep(60)
        model = read_in_process(Path(path), progress, include_spaces=include_spaces)
        buffers: list[pickle.PickleBuffer] = []
        data = pickle.dumps(model, protocol=5, buffer_callback=buffers.append)
        views = [b.raw() for b in buffers]
        conn.send(("result", data, [v.nbytes for v in views]))
        for view in views:
            conn.send_bytes(view)
    except LoadError as exc:
        conn.send(("error", exc.reason, exc.hint))
    except MemoryError:
        conn.send(("memory",))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, one line
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        conn.send(("error", f"cannot read the IFC model: {type(exc).__name__}"
                   + (f": {text[:200]}" if text else ""),
                   "the file may be invalid IFC; check it with an IFC validator or "
                   "re-export it"))
    finally:
        conn.close()


def _crash_error(path: Path, exitcode: int | None) -> LoadError:
    import signal

    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        why = " (killed, perhaps for lack of memory)" if name == "SIGKILL" else ""
        return LoadError(path, f"IFC geometry engine crashed (signal {-exitcode}, {name})"
                         f"{why} on this file",
                         "the file is probably malformed; check it with an IFC validator or "
                         "re-export it from the authoring tool")
    return LoadError(path, f"IFC geometry engine stopped without an answer (exit code "
                     f"{exitcode}) on this file",
                     "the file is probably malformed; check it with an IFC validator or "
                     "re-export it from the authoring tool")


def read_isolated(path: Path, progress: ProgressFn | None = None, *,
                  include_spaces: bool = False) -> FeatureMesh:
    """Read in one child process (fork server): progress and errors come back over a
    pipe, the model as a pickle whose numpy arrays follow as raw bytes (no copy through
    pickle). A child that dies (a segfault in ifcopenshell, a kill) gives a LoadError; a
    ``LoadCancelled`` from ``progress`` terminates the child."""
    import os
    import pickle
    from multiprocessing.connection import wait

    path = Path(path)
    if progress is not None:
        progress(0.0, "reading IFC header")
    _check_header(path)  # cheap errors without a process
    if multiprocessing.current_process().daemon:  # a daemon cannot have children
        return read_in_process(path, progress, include_spaces=include_spaces)
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    hook = os.environ.get(CHILD_TEST_HOOK, "")
    proc = _process_class(ctx)(target=_child_main,
                               args=(sender, str(path), include_spaces, hook),
                               name="realscene-ifc", daemon=True)
    try:
        proc.start()
    except Exception as exc:
        receiver.close()
        sender.close()
        raise LoadError(path, f"cannot start the IFC reader process: {exc}",
                        "check the system's process limits and free memory") from None
    sender.close()  # the child holds the only writer: EOF when it dies
    last = (0.0, "reading IFC header")
    try:
        while True:
            if not wait([receiver, proc.sentinel], timeout=_POLL_S):
                # nothing new (a long parse, one big element): the callback still gets to
                # cancel, with the last fraction again
                if progress is not None:
                    progress(*last)
                continue
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                proc.join()
                raise _crash_error(path, proc.exitcode) from None
            kind = message[0]
            if kind == "progress":
                last = (message[1], message[2])
                if progress is not None:
                    progress(*last)
            elif kind == "result":
                _, data, sizes = message
                buffers = []
                for size in sizes:
                    buf = bytearray(size)
                    if size:
                        receiver.recv_bytes_into(buf)
                    else:
                        receiver.recv_bytes()
                    buffers.append(buf)
                return pickle.loads(data, buffers=buffers)
            elif kind == "error":
                raise LoadError(path, message[1], message[2])
            elif kind == "memory":
                raise MemoryError("not enough memory to read the IFC file")
    except (EOFError, OSError):
        proc.join()
        raise _crash_error(path, proc.exitcode) from None
    finally:
        receiver.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
        proc.close()


def _read(path: Path, progress: ProgressFn | None, include_spaces: bool) -> FeatureMesh:
    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(min(max(fraction, 0.0), 1.0), message)

    report(0.0, "reading IFC header")
    header_schema = _check_header(path)
    try:
        import ifcopenshell
        import ifcopenshell.geom  # noqa: F401  (needs the compiled wrapper)
        import ifcopenshell.util.unit
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise LoadError(path, f"cannot read IFC: ifcopenshell is not available ({exc})",
                        "install it: pip install ifcopenshell") from None

    report(0.01, "parsing IFC")
    ifcopenshell.get_log()  # drop messages of earlier reads
    try:
        f = ifcopenshell.open(str(path))
    except ifcopenshell.SchemaError:
        raise _unsupported(path, header_schema) from None
    except ifcopenshell.Error as exc:
        text = str(exc)
        if "header" in text.lower():
            raise LoadError(path, f"cannot parse the IFC header ({text})",
                            "the file is not a valid IFC STEP file; re-export it") from None
        raise LoadError(path, f"cannot parse the IFC file: {text}",
                        "the file may be truncated or corrupt; re-export it") from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise LoadError(path, f"cannot parse the IFC file: {exc}",
                        "the file may be truncated or corrupt; re-export it") from None
    schema = str(f.schema_identifier or f.schema)
    warnings: list[str] = []

    projects = f.by_type("IfcProject")
    products = f.by_type("IfcProduct")
    if not products:
        dups = _duplicate_instance_names(path)
        why = (f"; instance names are defined twice ({', '.join(dups)}), so the parser "
               "dropped entities" if dups else "")
        raise LoadError(path, f"no building elements (IfcProduct) in the IFC file{why}",
                        "the file is empty or invalid; re-export it from the authoring tool")
    consistent = all(f.by_id(p.id()).is_a() == p.is_a() for p in projects)
    if not projects or not consistent:
        dups = _duplicate_instance_names(path)
        problem = ("has no IfcProject" if not projects
                   else "has an IfcProject that another entity overwrites")
        warnings.append(f"the file {problem} (invalid IFC"
                        + (f"; instance names defined twice: {', '.join(dups)}" if dups else "")
                        + "); the model tree may be incomplete")
        projects = [p for p in projects if f.by_id(p.id()).is_a() == p.is_a()]

    exclude = EXCLUDED_ALWAYS if include_spaces else EXCLUDED_BY_DEFAULT
    # every object that may become a feature: its properties are gathered while the
    # geometry worker threads run
    candidates = {p.id() for p in products if not any(p.is_a(t) for t in EXCLUDED_ALWAYS)}
    candidates.update(p.id() for p in projects)

    def tree_and_properties() -> tuple[dict[int, int], dict[int, dict[str, dict[str, Any]]]]:
        return _model_tree(f), _properties_of(f, candidates)

    _check_placements(path, f)
    report(0.05, "generating IFC geometry")
    shapes, (parent_of, props) = _iterate_geometry(f, exclude, report, warnings,
                                                   tree_and_properties)
    log = _log_entries()
    errors = _log_errors(log)
    dangling = _dangling_references(log)

    report(0.86, "building the IFC model tree")
    meshed = set(shapes.ids)
    # features: products with geometry, spatial elements, projects and their ancestors
    wanted: set[int] = set(meshed)
    wanted.update(e.id() for e in _spatial_elements(f))
    wanted.update(p.id() for p in projects)
    for start in list(wanted):
        node = parent_of.get(start)
        while node is not None and node not in wanted:
            wanted.add(node)
            node = parent_of.get(node)
    entities = {i: f.by_id(i) for i in wanted}
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    for i in sorted(wanted):
        p = parent_of.get(i)
        if p is not None and p in wanted:
            children.setdefault(p, []).append(i)
        else:
            roots.append(i)
    roots.sort(key=lambda i: (entities[i].is_a() != "IfcProject", i))
    order: list[int] = []
    placed: set[int] = set()
    while True:
        stack = list(reversed(roots))
        while stack:
            i = stack.pop()
            if i in placed:
                continue
            placed.add(i)
            order.append(i)
            stack.extend(reversed(children.get(i, ())))
        if len(order) == len(wanted):
            break
        # objects on a cycle of the tree (invalid): the first of them becomes a root
        cut = min(wanted - placed)
        parent_of.pop(cut, None)
        roots = [cut]
        warnings.append(f"the IFC model tree has a cycle through #{cut}; it was cut there")

    storey_of: dict[int, str] = {}

    def storey(i: int) -> str:
        chain = []
        node: int | None = i
        name = ""
        while node is not None and node in wanted and node not in chain:
            if node in storey_of:
                name = storey_of[node]
                break
            chain.append(node)
            entity = entities[node]
            if entity.is_a("IfcBuildingStorey"):
                name = entity.Name or ""
                break
            node = parent_of.get(node)
        for n in chain:
            storey_of[n] = name
        return name

    features: list[Feature] = []
    index_of: dict[int, int] = {}
    seen_ids: set[str] = set()
    duplicated: list[str] = []
    for i in order:
        e = entities[i]
        gid = str(getattr(e, "GlobalId", None) or f"#{i}")
        if gid in seen_ids:  # invalid but common: keep feature ids unique
            duplicated.append(gid)
            gid = f"{gid}#{i}"
        seen_ids.add(gid)
        p = parent_of.get(i)
        index_of[i] = len(features)
        feature = Feature(id=str(gid), type=e.is_a(), name=str(getattr(e, "Name", None) or ""),
                          attributes=_attributes(e), properties=props.get(i, {}),
                          storey=storey(i))
        if p is not None and p in index_of:  # parents come before children in `order`
            parent = features[index_of[p]]
            feature.parent = parent.id
            parent.children.append(feature.id)
        features.append(feature)

    if duplicated:
        warnings.append(f"{len(duplicated)} GlobalId(s) used more than once (e.g. "
                        f"{duplicated[0]}); the repeats got '#<step id>' appended")
    # elements whose geometry failed or was lost with the rest of a damaged file
    skipped: list[str] = []
    lost: dict[str, int] = {}
    with_geometry = 0
    excluded_types = tuple(exclude)
    for product in products:
        pid = product.id()
        if any(product.is_a(t) for t in excluded_types):
            continue
        if pid in meshed:
            with_geometry += 1
            continue
        if _expects_geometry(product) or _lost_representation(product, dangling):
            with_geometry += 1
            kind = product.is_a()
            lost[kind] = lost.get(kind, 0) + 1
            skipped.append(f"{kind} {product.Name or ''!s} "
                           f"(#{pid}, {product.GlobalId}): no geometry could be generated"
                           .replace("  ", " "))
    truncated = not _ends_properly(path)
    if truncated:
        warnings.append("the file is truncated (it does not end with END-ISO-10303-21;): "
                        "whatever followed the cut is missing from the model")
    if dangling:
        warnings.append(f"{len(dangling)} entit{'y refers' if len(dangling) == 1 else 'ies refer'}"
                        " to entities missing from the file (a truncated or damaged file)")
    if skipped:
        kinds = ", ".join(f"{k} \u00d7{n}" for k, n in
                          sorted(lost.items(), key=lambda kv: (-kv[1], kv[0]))[:8])
        more = ", ..." if len(lost) > 8 else ""
        warnings.append(f"{len(skipped)} of {with_geometry} elements had no readable "
                        f"geometry: {kinds}{more} (see metadata['skipped'])")
    if errors:
        warnings.extend(f"ifcopenshell: {line}" for line in errors[:10])
        if len(errors) > 10:
            warnings.append(f"ifcopenshell: ... {len(errors) - 10} more errors")

    report(0.92, "assembling the IFC mesh")
    unit_m = 1.0
    try:
        unit_m = float(ifcopenshell.util.unit.calculate_unit_scale(f)) or 1.0
    except Exception:
        warnings.append("cannot determine the project length unit; assuming metres")
    xyz, faces, face_feature, face_colors = _assemble(shapes, index_of)
    if len(faces) == 0:
        if (not include_spaces and not truncated and not skipped
                and any(p.is_a("IfcSpace") and _expects_geometry(p) for p in products)):
            # a sound model of spaces only (a space programme): show them, not nothing
            model = _read(path, None, True)
            model.metadata["warnings"].insert(0, "the model has no geometry besides its "
                                                 "IfcSpace volumes: they are shown")
            model.metadata.pop("notes", None)
            return model
        raise _no_geometry(path, products, skipped, errors, truncated)

    matrix, crs, how, georef_info = _georeference(f, props, unit_m, warnings)
    if matrix is not None and len(xyz):
        xyz = xyz @ matrix[:3, :3].T + matrix[:3, 3]
    vertices, origin = split_origin(xyz)
    if matrix is not None and len(xyz) == 0:
        origin = np.array(matrix[:3, 3], dtype=np.float64)

    counts: dict[str, int] = {}
    for product in products:
        kind = product.is_a()
        counts[kind] = counts.get(kind, 0) + 1
    storeys = [features[index_of[i]].name for i in order
               if entities[i].is_a("IfcBuildingStorey")]
    metadata: dict[str, Any] = {
        "format": "IFC",
        "schema": schema,
        "elements": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        "storeys": storeys,
        "georef": how,
        "georef_detail": _plain(georef_info),
        "length_unit_m": unit_m,
        "excluded_geometry": list(exclude),
        "shapes": len(shapes.ids),
        "features": len(features),
        "skipped": skipped,
        "warnings": warnings[:_MAX_WARNINGS],
    }
    if not include_spaces:
        metadata["notes"] = ["IfcSpace geometry is not loaded (the space volumes would hide "
                             "the building); spaces are listed as features"]
    report(1.0, "done")
    return FeatureMesh(vertices=vertices, origin=origin, faces=faces,
                       face_colors=face_colors, crs=crs, metadata=metadata,
                       features=features, face_feature=face_feature, model_format="IFC")


def _no_geometry(path: Path, products: list, skipped: list[str], errors: list[str],
                 truncated: bool) -> LoadError:
    """The LoadError of a model without any triangle to show."""
    hint = ("the file is incomplete or invalid; download or re-export it from the "
            "authoring tool")
    if truncated:
        return LoadError(path, "the IFC file is truncated (it does not end with "
                         "END-ISO-10303-21;) and none of its elements has readable geometry",
                         hint)
    if skipped:
        first = f" (ifcopenshell: {errors[0][:160]})" if errors else ""
        return LoadError(path, f"none of the {len(skipped)} elements of the IFC file has "
                         f"readable geometry{first}", hint)
    return LoadError(path, f"the IFC file has no 3D geometry: none of its {len(products)} "
                     "products has a body representation",
                     "export the model with its 3D geometry (body representations)")


def _plain(info: dict) -> dict:
    return {k: _jsonable(v) for k, v in info.items()}


def _assemble(shapes: _Shapes, index_of: dict[int, int]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate the per-shape buffers once (STEP-id order), vectorised."""
    n = len(shapes.ids)
    if n == 0:
        return (np.zeros((0, 3)), np.zeros((0, 3), np.int32), np.zeros(0, np.int32),
                np.zeros((0, 4), np.uint8))
    order = np.argsort(np.asarray(shapes.ids, dtype=np.int64), kind="stable")
    vbufs = [shapes.verts[i] for i in order]
    fbufs = [shapes.faces[i] for i in order]
    vcount = np.fromiter((len(b) // 24 for b in vbufs), np.int64, n)
    tcount = np.fromiter((len(b) // 12 for b in fbufs), np.int64, n)
    xyz = np.frombuffer(b"".join(vbufs), dtype=np.float64).reshape(-1, 3)
    faces = np.frombuffer(b"".join(fbufs), dtype=np.int32).reshape(-1, 3)
    voffset = np.concatenate([[0], np.cumsum(vcount)[:-1]])
    if len(xyz) >= 2**31:
        raise MemoryError("more than 2**31 vertices")
    faces = faces + np.repeat(voffset, tcount).astype(np.int32)[:, None]
    face_feature = np.repeat(
        np.fromiter((index_of.get(shapes.ids[i], -1) for i in order), np.int32, n), tcount)

    # colours: one table (default first), per-shape style indices shifted into it
    table = [_DEFAULT_RGBA]
    style_offset = np.empty(n, np.int64)
    mbufs = []
    for k, i in enumerate(order):
        style_offset[k] = len(table)
        table.extend(shapes.styles[i])
        m = shapes.material_ids[i]
        if len(m) != int(tcount[k]) * 4:
            m = np.full(int(tcount[k]), -1, np.int32).tobytes()
        mbufs.append(m)
    mids = np.frombuffer(b"".join(mbufs), dtype=np.int32).astype(np.int64)
    gid = mids + np.repeat(style_offset, tcount)
    gid[mids < 0] = 0
    face_colors = np.asarray(table, dtype=np.uint8)[gid]
    return xyz, faces, face_feature, face_colors


READERS = [
    ReaderSpec(name="IFC", extensions=("ifc",), read=read, sniff=sniff, score=10),
]
