"""Coordinate reference systems: reading them from LAS headers and summarising them.

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


def _wkt_text(vlr) -> str:
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


def same_crs(a, b) -> bool:
    """True when two pyproj CRSs describe the same system (axis order ignored)."""
    if a is None or b is None:
        return a is b
    try:
        if a.equals(b, ignore_axis_order=True):
            return True
        ea, eb = _quick_epsg(a), _quick_epsg(b)
        if ea is not None and eb is not None:
            return ea == eb
        ea, eb = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
        return ea is not None and ea == eb
    except Exception:
        return False


def _quick_epsg(crs) -> int | None:
    """The EPSG code the CRS definition itself carries (no database search)."""
    try:
        ident = crs.to_json_dict().get("id") or {}
        if str(ident.get("authority", "")).upper() == "EPSG":
            return int(ident["code"])
    except Exception:
        pass
    return None


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

    wkts = tuple(_wkt_text(v) for v in wkt_vlrs)
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
            f"(WKT: {_label(wkt_crs)}; GeoTIFF: {_label(geo_crs)}); using the {used} record"
            + (" because the WKT bit is set" if wkt_bit else "")
        )
    return crs, source, tuple(warnings)


def _label(crs) -> str:
    code = _quick_epsg(crs)
    if code is None:
        try:
            code = crs.to_epsg(min_confidence=70)
        except Exception:
            code = None
    return f"{crs.name} (EPSG:{code})" if code else crs.name


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
    epsg = _quick_epsg(crs)
    if epsg is None:
        try:
            epsg = crs.to_epsg(min_confidence=70)
        except Exception:
            epsg = None
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
