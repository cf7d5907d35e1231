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


# --------------------------------------------------------------------------------------
# China's national systems: CGCS2000 and its Gauss-Krüger zones, 1985 heights
# --------------------------------------------------------------------------------------

#: Chinese names of the geodetic datums of China's national systems (pyproj datum name ->
#: (short name used before a projection, name of the geographic CRS))
_CN_DATUMS = {
    "China 2000": ("CGCS2000", "2000国家大地坐标系"),
    "Beijing 1954": ("北京54", "1954北京坐标系"),
    "Xian 1980": ("西安80", "1980西安坐标系"),
    "New Beijing": ("新北京54", "新1954北京坐标系"),
}
#: Chinese names of vertical datums (pyproj datum name -> name)
_CN_VERTICAL = {
    "Yellow Sea 1985": "1985国家高程基准",
    "Yellow Sea 1956": "1956黄海高程系",
}

#: EPSG codes of CGCS2000's Gauss-Krüger projections: (first code, first zone, last zone,
#: zone width in degrees, zone number prefixed to the easting)
CGCS2000_GK_RANGES = (
    (4513, 25, 45, 3, True),   # 3-degree zones 25..45 (CM 75°E..135°E), with prefix
    (4534, 25, 45, 3, False),  # the same without prefix ("3-degree Gauss-Kruger CM nE")
    (4491, 13, 23, 6, True),   # 6-degree zones 13..23 (CM 75°E..135°E), with prefix
    (4502, 13, 23, 6, False),  # the same without prefix
)
CGCS2000_GEOGRAPHIC = 4490
HEIGHT_1985 = 5737


def cgcs2000_gk_code(zone_width: int, zone: int, prefixed: bool) -> int | None:
    """EPSG code of CGCS2000 / Gauss-Krüger ``zone`` (3° or 6° zones), with or without the
    zone number prefixed to the easting; None outside China's zones."""
    for first, lo, hi, width, prefix in CGCS2000_GK_RANGES:
        if width == zone_width and prefix == prefixed and lo <= zone <= hi:
            return first + zone - lo
    return None


def _central_meridian(width: int, zone: int) -> float:
    return 3.0 * zone if width == 3 else 6.0 * zone - 3.0


def gauss_kruger_info(crs: Any) -> dict[str, Any] | None:
    """What a Gauss-Krüger (transverse Mercator, scale 1, false northing 0) projection of a
    Chinese datum says, or None for any other CRS: ``datum`` (pyproj name),
    ``central_meridian`` (degrees east), ``zone`` (the number prefixed to the easting, or
    None), ``prefixed``, ``zone_width`` (3, 6 or None when the definition fits both),
    ``false_easting``. Built from the projection's parameters (and the EPSG code, which
    alone tells a 3° from a 6° zone without prefix at a shared central meridian)."""
    h = horizontal_part(as_crs(crs)) if crs is not None else None
    if h is None or not h.is_projected:
        return None
    try:
        datum = h.geodetic_crs.datum.name
        conv = h.to_json_dict().get("conversion") or {}
    except Exception:
        return None
    if datum not in _CN_DATUMS or "transverse mercator" not in \
            str((conv.get("method") or {}).get("name", "")).lower():
        return None
    params = {str(p.get("name", "")).lower(): p.get("value") for p in conv.get("parameters", [])}
    try:
        cm = float(params["longitude of natural origin"])
        k = float(params.get("scale factor at natural origin", 1.0))
        fe = float(params["false easting"])
        fn = float(params.get("false northing", 0.0))
        lat0 = float(params.get("latitude of natural origin", 0.0))
    except (KeyError, TypeError, ValueError):
        return None
    if abs(k - 1.0) > 1e-12 or fn != 0.0 or lat0 != 0.0:
        return None
    zone = None
    if fe != 500000.0:
        z = (fe - 500000.0) / 1e6
        if z != int(z) or not 1 <= z <= 60:
            return None
        zone = int(z)
    width = None
    code = epsg_code(h)
    for first, lo, hi, w, _prefix in CGCS2000_GK_RANGES:
        if code is not None and first <= code <= first + hi - lo:
            width = w
    if width is None:
        name = str(h.name).lower()
        if "3-degree" in name or "3 degree" in name:
            width = 3
        elif zone is not None:
            width = 3 if cm == 3.0 * zone else 6 if cm == 6.0 * zone - 3.0 else None
        elif cm % 3 == 0 and cm % 6 != 3:
            width = 3
        elif "gauss-kruger" in name or "gauss kruger" in name:
            width = 6
    return {"datum": datum, "central_meridian": cm, "zone": zone, "prefixed": zone is not None,
            "zone_width": width, "false_easting": fe}


def _degrees(value: float) -> str:
    return f"{value:g}°E" if value >= 0 else f"{-value:g}°W"


def _zh_name(crs: Any) -> str | None:
    """The Chinese name of a national CRS (None: no Chinese name)."""
    if crs.is_compound:
        parts = [_zh_name(s) or str(s.name) for s in crs.sub_crs_list]
        return " + ".join(parts) if any(_zh_name(s) for s in crs.sub_crs_list) else None
    datum = getattr(crs.datum, "name", None) if crs.datum is not None else None
    if crs.is_vertical:
        return _CN_VERTICAL.get(datum)
    if crs.is_projected:
        gk = gauss_kruger_info(crs)
        if gk is None:
            return None
        short = _CN_DATUMS[gk["datum"]][0]
        band = f"{gk['zone_width']}度带" if gk["zone_width"] else ""
        zone = f" 第{gk['zone']}带（东坐标含带号）" if gk["prefixed"] else ""
        return f"{short} / {band}高斯-克吕格{zone} 中央子午线{_degrees(gk['central_meridian'])}"
    if datum in _CN_DATUMS:
        name = _CN_DATUMS[datum][1]
        if crs.is_geocentric:
            return name + "（地心）"
        return name + ("（三维）" if len(crs.axis_info) == 3 else "")
    return None


def crs_display_name(crs: Any, lang: str = "en") -> str:
    """A CRS's name for people: "name (EPSG:n)". With ``lang`` "zh" (or "zh_CN", "zh-Hans"
    ...) China's national systems get their Chinese names, built from the projection's
    parameters: "CGCS2000 / 3度带高斯-克吕格 中央子午线114°E (EPSG:4547)",
    "2000国家大地坐标系 (EPSG:4490)", "1985国家高程基准 (EPSG:5737)"; other CRSs keep their
    (English) names. "no CRS" / "无坐标系" for None."""
    zh = str(lang or "").lower().replace("-", "_").startswith("zh")
    if crs is None:
        return "无坐标系" if zh else "no CRS"
    try:
        crs = as_crs(crs)
    except ValueError:
        return str(crs)
    name = None
    if zh:
        try:
            name = _zh_name(crs)
        except Exception:  # noqa: BLE001 - naming must never fail
            name = None
    name = name or str(crs.name)
    if name.lower() in ("unknown", "undefined", ""):  # a PROJ string: show its definition
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                definition = crs.to_proj4() or ""
        except Exception:  # noqa: BLE001
            definition = ""
        name = ("自定义" if zh else "custom") + (f": {definition[:100]}" if definition else "")
    code = crs_to_text(crs)
    return f"{name} ({code})" if code and len(code) < 40 else name


def easting_warning(crs: Any, x_min: float, x_max: float) -> str | None:
    """One warning when the eastings of data tagged with a Gauss-Krüger CRS do not fit it:
    eastings of ~38,500,000 m under a CRS without zone prefix (e.g. EPSG:4547) carry the
    zone number 38, and eastings of ~500,000 m under a prefixed CRS (EPSG:4526) lack it.
    The warning names the CGCS2000 code that fits. None when they fit (or not GK)."""
    gk = gauss_kruger_info(crs) if crs is not None else None
    if gk is None or not (np_isfinite(x_min) and np_isfinite(x_max)):
        return None
    label = crs_label(as_crs(crs))
    mid = (float(x_min) + float(x_max)) / 2.0
    width = gk["zone_width"]
    cgcs = gk["datum"] == "China 2000"
    if not gk["prefixed"]:
        if abs(mid) < 1e7:
            return None
        zone = int(mid // 1e6)
        fits = [w for w in ((width,) if width else (3, 6))
                if _central_meridian(w, zone) == gk["central_meridian"]]
        code = cgcs2000_gk_code(fits[0], zone, True) if fits and cgcs else None
        hint = (f"assign EPSG:{code} (CGCS2000 / {fits[0]}-degree Gauss-Kruger zone {zone}, "
                "with the prefix) to this layer" if code else
                "assign the CRS of that zone with the zone prefix to this layer")
        return (f"eastings are about {mid:,.0f} m: they carry the Gauss-Krüger zone "
                f"number {zone} as a prefix, but the file is tagged {label}, whose eastings "
                f"have no zone prefix; {hint}")
    zone = gk["zone"]
    if int(mid // 1e6) == zone:
        return None
    if 0 <= mid < 1e6:
        code = cgcs2000_gk_code(width, zone, False) if width and cgcs else None
        hint = (f"assign EPSG:{code} (CGCS2000 / {width}-degree Gauss-Kruger CM "
                f"{gk['central_meridian']:g}E, without the prefix) to this layer" if code else
                "assign the CRS of the same zone without the zone prefix to this layer")
        return (f"eastings are about {mid:,.0f} m, without the Gauss-Krüger zone prefix, "
                f"but the file is tagged {label}, whose eastings start with the zone number "
                f"{zone}; {hint}")
    return (f"eastings are about {mid:,.0f} m, outside zone {zone} of {label} "
            f"({zone * 1e6:,.0f}-{(zone + 1) * 1e6:,.0f} m); check the file's CRS")


def np_isfinite(value: float) -> bool:
    try:
        return bool(abs(float(value)) < float("inf"))
    except (TypeError, ValueError):
        return False


def data_crs_warnings(crs: Any, bounds_min: Any, bounds_max: Any) -> list[str]:
    """Warnings about data in ``crs`` with these bounds (eastings that do not fit a
    Gauss-Krüger CRS); never raises."""
    try:
        warning = easting_warning(crs, float(bounds_min[0]), float(bounds_max[0]))
    except Exception:  # noqa: BLE001 - a check must never fail a read
        return []
    return [warning] if warning else []


# --------------------------------------------------------------------------------------
# Choosing a CRS: a searchable list (national systems first), user-given definitions
# --------------------------------------------------------------------------------------


def national_crs_codes() -> list[str]:
    """China's national systems, in the order a CRS list offers them: CGCS2000
    geographic, 1985 heights, the 3° zones without and with prefix, the 6° zones."""
    codes = [f"EPSG:{CGCS2000_GEOGRAPHIC}", f"EPSG:{HEIGHT_1985}"]
    for first, lo, hi, _w, _p in (CGCS2000_GK_RANGES[1], CGCS2000_GK_RANGES[0],
                                  CGCS2000_GK_RANGES[3], CGCS2000_GK_RANGES[2]):
        codes += [f"EPSG:{first + i}" for i in range(hi - lo + 1)]
    return codes


@lru_cache(maxsize=1)
def _crs_catalogue() -> tuple[tuple[str, str], ...]:
    """(``AUTH:code``, name) of every CRS in pyproj's database (EPSG first)."""
    from pyproj.database import query_crs_info

    rows = [(f"{i.auth_name}:{i.code}", i.name) for i in query_crs_info()
            if not i.deprecated]
    rows.sort(key=lambda r: (r[0].split(":")[0] != "EPSG", len(r[0]), r[0]))
    return tuple(rows)


@lru_cache(maxsize=4096)
def _cached_display_name(code: str, lang: str) -> str:
    try:
        return crs_display_name(as_crs(code), lang)
    except Exception:  # noqa: BLE001
        return code


def search_crs(text: str = "", *, recent: tuple[str, ...] | list[str] = (), lang: str = "en",
               limit: int = 300) -> list[tuple[str, str]]:
    """CRSs matching ``text`` as ``(code, display name)``: recent choices first, then
    China's national systems, then the rest of pyproj's database. Every word of ``text``
    must appear in the code, the English name or (national systems) the Chinese name:
    "4547", "CGCS2000", "高斯", "UTM 50N"."""
    words = [w for w in str(text or "").lower().replace(",", " ").split() if w]

    def matches(*fields: str) -> bool:
        hay = " ".join(fields).lower()
        return all(w in hay for w in words)

    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    names = dict(_crs_catalogue())
    for code in list(recent):
        if code in seen:
            continue
        shown = _cached_display_name(code, lang) if ":" in code and len(code) < 40 else \
            code[:60]
        en = names.get(code, "")
        if matches(code, shown, en):
            out.append((code, shown))
            seen.add(code)
    for code in national_crs_codes():
        if code in seen:
            continue
        en, zh = names.get(code, ""), _cached_display_name(code, "zh")
        if matches(code, en, zh, "CGCS2000" if "China" in en else ""):
            out.append((code, _cached_display_name(code, lang)))
            seen.add(code)
    if words:
        for code, name in _crs_catalogue():
            if len(out) >= limit:
                break
            if code not in seen and matches(code, name):
                out.append((code, f"{name} ({code})"))
                seen.add(code)
    return out[:limit]


def parse_user_crs(text: str) -> Any:
    """A CRS the user typed for a layer: "EPSG:4547", "4547", a CRS name, a PROJ string
    ("+proj=tmerc +lat_0=0 +lon_0=114.5 ... ") or WKT. Raises ValueError with a readable
    message when pyproj does not take it, or it is not a geographic / projected / compound
    / engineering CRS a layer can be in."""
    crs = parse_crs_text(text)
    if crs is None:
        raise ValueError("no coordinate system given; type e.g. EPSG:4547, a PROJ string "
                         "(+proj=tmerc ...) or WKT")
    if crs.is_vertical and not crs.is_compound:
        raise ValueError(f"{crs.name} is a vertical (height) system only; give the "
                         "horizontal one, or a compound such as EPSG:4547+5737")
    return crs


# --------------------------------------------------------------------------------------
# OSGB tilesets: metadata.xml (ContextCapture / DJI Terra layout)
# --------------------------------------------------------------------------------------

#: the largest metadata.xml read (real ones are a few hundred bytes)
OSGB_METADATA_MAX_BYTES = 1 << 20


def read_osgb_metadata(path: Any) -> dict[str, Any]:
    """The georeference of an OSGB tileset's ``metadata.xml``::

        <ModelMetadata version="1">
          <SRS>EPSG:4547</SRS>            (or ENU:lat,lon, or WKT)
          <SRSOrigin>500000,3400000,0</SRSOrigin>
        </ModelMetadata>

    Returns ``{"crs", "origin" (x, y, z) or None, "srs" (the text), "enu" ((lat, lon) or
    None), "warnings"}``. Tile coordinates are relative to ``origin`` in ``crs``. An ENU
    system is a local east-north-up plane tangent at lat/lon (WGS 84): ``crs`` is then an
    orthographic projection centred there, right for eastings/northings near the centre
    but NOT for heights (the tangent plane's "up" is not the ellipsoidal height away from
    the centre); :class:`loaders.tiles.osgb.OsgbTileSet` places ENU tiles exactly through
    ECEF (EPSG:4978) instead. The file is read safely (regular file, at most
    :data:`OSGB_METADATA_MAX_BYTES`, no DTD or entities). Raises LoadError when it is not
    a readable metadata.xml."""
    from pathlib import Path

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    from .safety import UnsafePath, read_regular
    from .types import LoadError

    path = Path(path)
    try:
        raw = read_regular(path, OSGB_METADATA_MAX_BYTES)
    except UnsafePath as exc:
        raise LoadError(path, exc.reason, "give the tileset's metadata.xml file") from None
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}",
                        "check the file exists and can be read") from None
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        raise LoadError(path, "metadata.xml declares a DTD or entities, which are refused",
                        "remove the DOCTYPE from the file") from None
    except Exception as exc:  # ParseError
        raise LoadError(path, f"not well-formed XML ({str(exc)[:120]})",
                        "re-export the tileset's metadata.xml") from None
    srs_el = root.find(".//SRS")
    origin_el = root.find(".//SRSOrigin")
    warnings: list[str] = []
    srs = (srs_el.text or "").strip() if srs_el is not None else ""
    origin = None
    if origin_el is not None and (origin_el.text or "").strip():
        try:
            values = [float(v) for v in origin_el.text.replace(" ", "").split(",")]
            if len(values) not in (2, 3) or not all(np_isfinite(v) for v in values):
                raise ValueError
            origin = (values + [0.0])[:3]
            origin = (origin[0], origin[1], origin[2])
        except ValueError:
            warnings.append(f"SRSOrigin {origin_el.text.strip()[:60]!r} is not 2 or 3 "
                            "numbers; origin taken as 0,0,0")
    crs, enu = None, None
    if not srs:
        warnings.append("metadata.xml has no SRS: the tiles' coordinates have no CRS")
    elif srs.upper().startswith("ENU:"):
        try:
            lat, lon = (float(v) for v in srs[4:].split(","))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
        except ValueError:
            raise LoadError(path, f"SRS {srs[:60]!r} is not ENU:latitude,longitude",
                            "write it as e.g. ENU:30.5,114.3") from None
        enu = (lat, lon)
        from pyproj import CRS

        crs = CRS.from_proj4(f"+proj=ortho +lat_0={lat!r} +lon_0={lon!r} +x_0=0 +y_0=0 "
                             "+ellps=WGS84 +units=m +no_defs +type=crs")
    else:
        try:
            crs = parse_crs_text(srs)
        except ValueError as exc:
            warnings.append(f"SRS not understood: {exc}")
    if crs is not None and origin is not None:
        warnings += data_crs_warnings(crs, origin, origin)
    return {"crs": crs, "origin": origin, "srs": srs, "enu": enu, "warnings": warnings}
