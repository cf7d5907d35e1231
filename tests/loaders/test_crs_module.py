"""loaders.crs is the one CRS module: parsing, comparison and CRS-to-text (issue 14)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pyproj import CRS

from loaders import crs as crsmod
from loaders.crs import as_crs, crs_label, crs_summary, crs_to_text, epsg_code, same_crs

ROOT = Path(__file__).resolve().parents[2]


def test_crs_to_text_round_trips():
    for code in (28992, 7415, 4326, 32631, 2056):
        c = CRS.from_epsg(code)
        assert crs_to_text(c) == f"EPSG:{code}"
        assert same_crs(as_crs(crs_to_text(c)), c)
    # a CRS without an authority code is saved as WKT that reads back as the same CRS
    local = CRS.from_proj4("+proj=tmerc +lat_0=10 +lon_0=7.3 +k=1 +x_0=0 +y_0=0 "
                           "+ellps=GRS80 +units=m +no_defs")
    text = crs_to_text(local)
    assert not text.startswith("EPSG:") and "TRANSVERSE" in text.upper()
    assert same_crs(as_crs(text), local)
    assert crs_to_text(None) is None


def test_epsg_code_identifies_a_wkt_without_id():
    wkt = CRS.from_epsg(28992).to_wkt("WKT1_GDAL")
    # strip the top-level AUTHORITY so pyproj must identify it
    stripped = wkt[: wkt.rindex(',AUTHORITY[')] + "]"
    c = CRS.from_wkt(stripped)
    assert c.to_json_dict().get("id") is None
    assert epsg_code(c) == 28992
    assert crs_to_text(c) == "EPSG:28992"
    assert crs_label(c) == "Amersfoort / RD New (EPSG:28992)"
    assert crs_summary(c)["epsg"] == 28992


def test_same_crs_accepts_text_and_objects_and_never_raises():
    assert same_crs("EPSG:2056", "http://www.opengis.net/def/crs/EPSG/0/2056")
    assert same_crs(CRS.from_epsg(4326), "OGC:CRS84")  # axis order ignored
    assert not same_crs("EPSG:2056", CRS.from_epsg(28992))
    assert same_crs("not a crs", "not a crs") and not same_crs("not a crs", "EPSG:2056")
    assert not same_crs("", None) and same_crs(None, None)
    with pytest.raises(ValueError, match="not a coordinate reference system"):
        as_crs("not a crs")


def test_no_second_crs_comparison_or_crs_to_text():
    """same_crs and CRS-to-text are defined once, in loaders/crs.py."""
    defined = {}
    for folder in ("loaders", "heritage", "viewer"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and node.name in (
                        "same_crs", "crs_to_text", "crs_text", "_crs_ref",
                        "crs_label", "_crs_label", "epsg_code"):
                    defined.setdefault(node.name, []).append(path.relative_to(ROOT))
    assert defined == {name: [Path("loaders/crs.py")] for name in
                       ("same_crs", "crs_to_text", "crs_label", "epsg_code")}
    assert crsmod.MIN_CONFIDENCE == 90


def test_crs_units_of_text_and_crs_objects():
    """One place for the unit reports and exports print (was heritage.exchange's)."""
    assert crsmod.crs_units("EPSG:28992") == "m"
    assert crsmod.crs_units(CRS.from_epsg(2229)) == "ftUS"  # California zone 5, US feet
    assert crsmod.crs_units("EPSG:4326") == "deg"
    assert crsmod.crs_units(None) is None
    assert crsmod.crs_units("  ") is None
    assert crsmod.crs_units("not a crs") is None
