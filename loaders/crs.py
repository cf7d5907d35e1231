"""Coordinate reference systems: the one module that parses, compares and names them
(:func:`as_crs`, :func:`same_crs`, :func:`crs_to_text`, :func:`crs_label`,
:func:`epsg_code`, :func:`crs_units`), reads them from LAS headers and summarises them.

LAS files can hold a CRS twice: as GeoTIFF keys (LASF_Projection 34735..34737) and as an
OGC WKT string (LASF_Projection 2112). The LAS 1.4 spec makes the WKT record authoritative
when bit 4 of the header's global encoding (the "WKT bit") is set; otherwise the GeoTIFF
keys are. Real files disagree (``file_with_both_wkt_and_geotiff_vlrs.las``), and some
carry GeoTIFF keys that only say "user defined" (``autzen_trim.laz``), so this module
records where the CRS came from and warns when the two records disagree.

pyproj is imported lazily.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

WKT_BIT = 1 << 4

#: the warning of a reader whose data is in geographic degrees (dropped once the data is
#: drawn in a metric CRS, see :func:`loaders.georef.prepare_for_scene`)
GEOGRAPHIC_WARNING = "coordinates are geographic degrees (longitude/latitude), not metres"

# GeoTIFF key ids
_GEOGRAPHIC_TYPE = 2048
_PROJECTED_TYPE = 3072
_VERTICAL_TYPE = 4096


def _is_epsg_code(value: int) -> bool:
    return 1024 <= value <= 32766


def _crs_from_geokeys(geokeys: tuple) -> Any:
    """CRS from GeoTIFF (key id, value) pairs, or None when they give no EPSG code."""
    from pyproj import CRS
    from pyproj.crs import CompoundCRS

    keys = dict(geokeys)
    horizontal = None
    for key_id in (_PROJECTED_TYPE, _GEOGRAPHIC_TYPE):
        code = keys.get(key_id)
        if code is not None and _is_epsg_code(code):
            horizontal = CRS.from_epsg(code)
            break
    if horizontal is None:
        return None
    vcode = keys.get(_VERTICAL_TYPE)
    if vcode is not None and _is_epsg_code(vcode):
        try:
            vertical = CRS.from_epsg(vcode)
            if vertical.is_vertical:
                return CompoundCRS(f"{horizontal.name} + {vertical.name}",
                                   [horizontal, vertical])
        except Exception:  # an unknown vertical code must not lose the horizontal CRS
            pass
    return horizontal


def wkt_vlr_text(vlr) -> str:
    """The WKT text of a LAS WKT VLR (laspy's parsed ``string`` or the raw record)."""
    raw = getattr(vlr, "string", None)
    if raw is None:
        raw = getattr(vlr, "record_data", b"")
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return raw.strip("\x00 \r\n\t")


def _crs_from_wkt(text: str) -> Any:
    from pyproj import CRS

    if not text:
        return None
    return CRS.from_wkt(text)


# --------------------------------------------------------------------------------------
# One place for CRS parsing, comparison and CRS-to-text (every other module imports these)
# --------------------------------------------------------------------------------------

#: pyproj's identification confidence (0-100) needed before a CRS without its own
#: authority id is called by an EPSG code (labels, summaries, saved text, comparison)
MIN_CONFIDENCE = 90


def parse_crs_text(text: Any) -> Any:
    """A pyproj CRS from a project's or a user's text (``EPSG:28992``, ``28992``, WKT, PROJ);
    None for empty text; a CRS object is returned as is; ValueError with a readable
    message (naming an example) otherwise."""
    if text is None or not str(text).strip():
        return None
    if not isinstance(text, str):
        return text  # already a CRS
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    text = text.strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise ValueError(f"“{text[:80]}” is not a coordinate reference system pyproj knows "
                         f"({str(exc).splitlines()[0]}); use e.g. EPSG:28992") from None


def as_crs(value: Any) -> Any:
    """A pyproj CRS from a CRS or anything ``pyproj.CRS.from_user_input`` takes
    ("EPSG:28992", WKT, PROJ text); None stays None. ValueError when it is not a CRS."""
    from pyproj import CRS

    if value is None:
        return None
    if isinstance(value, CRS):
        return value
    try:
        return CRS.from_user_input(value)
    except Exception as exc:
        raise ValueError(f"not a coordinate reference system: {value!r} ({exc})") from None


def horizontal_part(crs: Any) -> Any:
    """The horizontal part of a CRS (compound: first non-vertical sub-CRS; 3D
    geographic / projected: its 2D version); None for a purely vertical CRS."""
    if crs is None:
        return None
    if crs.is_compound:  # (pyproj's is_vertical is also True for compound CRSs)
        return next((s for s in crs.sub_crs_list if not s.is_vertical), None)
    if crs.is_vertical:
        return None
    if len(crs.axis_info) == 3:
        try:
            return crs.to_2d()
        except Exception:
            return crs
    return crs


def has_vertical(crs: Any) -> bool:
    """True when the CRS defines heights (compound with a vertical part, vertical, or
    3D geographic / projected with ellipsoidal heights)."""
    if crs is None:
        return False
    if crs.is_compound:
        return any(s.is_vertical for s in crs.sub_crs_list)
    if crs.is_vertical:
        return True
    return len(crs.axis_info) == 3


def _equal(a: Any, b: Any) -> bool:
    """Two pyproj CRSs describe exactly the same system (axis order ignored)."""
    try:
        if a.equals(b, ignore_axis_order=True):
            return True
        ea, eb = epsg_code(a), epsg_code(b)
        return ea is not None and ea == eb
    except Exception:
        return False


def horizontal_only_match(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` differ but share the horizontal CRS and only one of
    them defines heights (e.g. EPSG:7415 RD New + NAP height vs EPSG:28992 RD New).

    :func:`same_crs` treats such a pair as the same system (positions need no change);
    this function tells the caller so that it can say the vertical CRS is assumed.
    Raises ValueError for a text that is not a CRS.
    """
    a, b = as_crs(a), as_crs(b)
    if a is None or b is None or _equal(a, b):
        return False
    if has_vertical(a) == has_vertical(b):
        return False
    ha, hb = horizontal_part(a), horizontal_part(b)
    return ha is not None and hb is not None and _equal(ha, hb)


def same_crs(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` describe the same system (axis order ignored), or the
    same horizontal system where only one of them has heights (:func:`horizontal_only_match`).

    Accepts pyproj CRSs or CRS text ("EPSG:28992", WKT). Never raises: two missing CRSs
    are the same, a missing and a known one are not, and a text that is not a CRS is
    the same only as the identical text.
    """
    if a is None or b is None:
        return a is b
    if isinstance(a, str) and isinstance(b, str) and a.strip() == b.strip():
        return True
    try:
        a, b = as_crs(a), as_crs(b)
    except ValueError:
        return False
    return bool(_equal(a, b) or horizontal_only_match(a, b))


def _quick_epsg(crs) -> int | None:
    """The EPSG code the CRS definition itself carries (no database search)."""
    try:
        ident = crs.to_json_dict().get("id") or {}
        if str(ident.get("authority", "")).upper() == "EPSG":
            return int(ident["code"])
    except Exception:
        pass
    return None


def epsg_code(crs: Any) -> int | None:
    """The EPSG code of a pyproj CRS: the one its definition carries, else the one pyproj
    identifies with at least :data:`MIN_CONFIDENCE`; None when there is none."""
    if crs is None:
        return None
    code = _quick_epsg(crs)
    if code is not None:
        return code
    try:
        return crs.to_epsg(min_confidence=MIN_CONFIDENCE)
    except Exception:
        return None


def crs_to_text(crs: Any) -> str | None:
    """The text a CRS is saved and reported as: "EPSG:n" (or another authority's
    "AUTH:code") when it has one (see :func:`epsg_code`), else its WKT. None for None.
    ``as_crs(crs_to_text(c))`` gives back a CRS for which ``same_crs`` holds."""
    if crs is None:
        return None
    code = epsg_code(crs)
    if code is not None:
        return f"EPSG:{code}"
    try:
        auth = crs.to_authority(min_confidence=MIN_CONFIDENCE)
    except Exception:
        auth = None
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()


def crs_label(crs: Any) -> str:
    """A CRS for messages: "name (EPSG:n)", or its name when it has no EPSG code."""
    if crs is None:
        return "no CRS"
    try:
        code = epsg_code(crs)
        return f"{crs.name} (EPSG:{code})" if code else str(crs.name)
    except Exception:
        return str(getattr(crs, "name", crs))


_UNIT_ABBREVIATIONS = {"metre": "m", "meter": "m", "foot": "ft", "US survey foot": "ftUS",
                       "degree": "deg"}


def crs_units(crs: Any) -> str | None:
    """Abbreviated length unit of a CRS's first axis (``m``, ``ft``...) for reports and
    exports, None if there is no CRS or it cannot be parsed."""
    if crs is None or (isinstance(crs, str) and not crs.strip()):
        return None
    try:
        axes = as_crs(crs).axis_info
        name = axes[0].unit_name if axes else None
    except Exception:
        return None
    return _UNIT_ABBREVIATIONS.get(name or "", name)

def crs_from_las_header(header) -> tuple[Any, str | None, list[str]]:
    """Read the CRS of a laspy header.

    Returns ``(crs or None, crs_source, warnings)``. ``crs_source`` is one of
    ``"wkt"``, ``"geotiff"``, ``"wkt (geotiff keys not usable)"``,
    ``"geotiff (no WKT record although the WKT bit is set)"`` or None.
    """
    wkt_vlrs, geo_vlrs = [], []
    for vlr in list(getattr(header, "vlrs", [])) + list(getattr(header, "evlrs", None) or []):
        user = str(getattr(vlr, "user_id", "")).strip("\x00 ")
        rid = getattr(vlr, "record_id", None)
        if user == "LASF_Projection" and rid == 2112:
            wkt_vlrs.append(vlr)
        elif user == "liblas" and rid == 2112:  # libLAS wrote its WKT here
            wkt_vlrs.append(vlr)
        elif user == "LASF_Projection" and rid == 34735:
            geo_vlrs.append(vlr)

    wkts = tuple(wkt_vlr_text(v) for v in wkt_vlrs)
    geos = tuple(tuple((k.id, k.value_offset) for k in getattr(v, "geo_keys", []))
                 for v in geo_vlrs)
    encoding = getattr(header, "global_encoding", 0)
    encoding = int(getattr(encoding, "value", encoding) or 0)
    crs, source, warnings = _resolve(wkts, geos, bool(encoding & WKT_BIT))
    return crs, source, list(warnings)


@lru_cache(maxsize=64)
def _resolve(wkts: tuple, geos: tuple, wkt_bit: bool) -> tuple[Any, str | None, tuple]:
    """Pick the CRS from the WKT texts and GeoTIFF key sets (cached: parsing is slow)."""
    warnings: list[str] = []
    wkt_crs = geo_crs = None
    for text in wkts:
        try:
            wkt_crs = _crs_from_wkt(text)
        except Exception as exc:
            warnings.append(f"WKT coordinate system record could not be parsed: {exc}")
            wkt_crs = None
        if wkt_crs is not None:
            break
    for keys in geos:
        try:
            geo_crs = _crs_from_geokeys(keys)
        except Exception as exc:
            warnings.append(f"GeoTIFF keys could not be turned into a CRS: {exc}")
            geo_crs = None
        if geo_crs is not None:
            break

    if wkt_bit:
        if wkt_crs is not None:
            crs, source = wkt_crs, "wkt"
        elif geo_crs is not None:
            crs, source = geo_crs, "geotiff (no WKT record although the WKT bit is set)"
        else:
            crs, source = None, None
    else:
        if geo_crs is not None:
            crs, source = geo_crs, "geotiff"
        elif wkt_crs is not None:
            source = "wkt (geotiff keys not usable)" if geos else "wkt"
            crs = wkt_crs
        else:
            crs, source = None, None

    if wkt_crs is not None and geo_crs is not None and not same_crs(wkt_crs, geo_crs):
        used = "WKT" if source == "wkt" else "GeoTIFF"
        warnings.append(
            "the WKT and GeoTIFF coordinate system records disagree "
            f"(WKT: {crs_label(wkt_crs)}; GeoTIFF: {crs_label(geo_crs)}); using the {used} record"
            + (" because the WKT bit is set" if wkt_bit else "")
        )
    return crs, source, tuple(warnings)


def _unit_of(axes) -> str | None:
    units = [a.unit_name for a in axes if getattr(a, "unit_name", None)]
    if not units:
        return None
    return units[0] if all(u == units[0] for u in units) else ", ".join(units)


def crs_summary(crs) -> dict[str, Any]:
    """A JSON-able description of a pyproj CRS, for ``realscene info`` and metadata."""
    if crs is None:
        return {"name": None, "epsg": None, "horizontal_units": None, "is_geographic": False,
                "is_compound": False, "vertical_units": None, "wkt": None}
    epsg = epsg_code(crs)
    horizontal, vertical = crs, None
    if crs.is_compound:
        subs = crs.sub_crs_list
        horizontal = next((s for s in subs if not s.is_vertical), subs[0] if subs else crs)
        vertical = next((s for s in subs if s.is_vertical), None)
    elif crs.is_vertical:
        vertical, horizontal = crs, None
    h_axes, v_axes = [], []
    if horizontal is not None:
        for axis in horizontal.axis_info:
            direction = (axis.direction or "").lower()
            (v_axes if direction in ("up", "down") else h_axes).append(axis)
    if vertical is not None:
        v_axes = list(vertical.axis_info)
    return {
        "name": crs.name,
        "epsg": epsg,
        "horizontal_units": _unit_of(h_axes),
        "is_geographic": bool(horizontal is not None and horizontal.is_geographic),
        "is_compound": bool(crs.is_compound),
        "vertical_units": _unit_of(v_axes),
        "wkt": crs.to_wkt(),
    }
