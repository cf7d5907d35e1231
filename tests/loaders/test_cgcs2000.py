"""China's national coordinate system: CGCS2000 and its Gauss-Krüger zones (with and
without the zone number prefixed to the easting), 1985 heights, read from LAS WKT and
GeoTIFF records, CityJSON, IFC names and OSGB metadata.xml; Chinese names; the
zone-prefix check; the searchable CRS list; assigning a CRS to a layer (undo, project)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from loaders.crs import (
    crs_display_name,
    easting_warning,
    epsg_code,
    gauss_kruger_info,
    parse_user_crs,
    read_osgb_metadata,
    search_crs,
)

#: the test points: (easting without prefix, northing, height), millimetre coordinates
N_POINTS = 400


def survey_points(prefixed: bool, n: int = N_POINTS) -> np.ndarray:
    """A few hundred points near 114°E (Wuhan), each coordinate a whole number of mm."""
    rng = np.random.default_rng(2000)
    x = 512_345.678 + rng.integers(0, 80_000, n) / 1000.0
    y = 3_380_123.456 + rng.integers(0, 60_000, n) / 1000.0
    z = 23.001 + rng.integers(0, 15_000, n) / 1000.0
    if prefixed:
        x = x + 38_000_000.0
    return np.column_stack([x, y, z])


def write_survey_las(path: Path, code: int | None, *, prefixed: bool,
                     version: str = "1.2") -> np.ndarray:
    """A LAS file at millimetre scale tagged with EPSG ``code`` (LAS 1.4: a WKT record
    with the WKT bit; 1.2: GeoTIFF keys; None: no CRS); returns the true coordinates."""
    import laspy
    from pyproj import CRS

    xyz = survey_points(prefixed)
    header = laspy.LasHeader(point_format=6 if version == "1.4" else 3, version=version)
    header.scales = np.array([0.001, 0.001, 0.001])
    header.offsets = np.floor(xyz.min(axis=0))
    if code is not None:
        header.add_crs(CRS.from_epsg(code))
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    las.intensity = np.arange(len(xyz), dtype=np.uint16)
    las.write(str(path))
    return xyz


def test_las_4526_wkt_and_4547_geotiff(tmp_path):
    import loaders

    a = tmp_path / "zone38_prefixed.las"
    xyz_a = write_survey_las(a, 4526, prefixed=True, version="1.4")
    b = tmp_path / "cm114.las"
    xyz_b = write_survey_las(b, 4547, prefixed=False, version="1.2")
    for path, xyz, code, source in ((a, xyz_a, 4526, "wkt"), (b, xyz_b, 4547, "geotiff")):
        data = loaders.read(path)
        assert epsg_code(data.crs) == code
        assert data.metadata["crs_source"] == source
        assert not [w for w in data.warnings if "eastings" in w]  # they fit the CRS
        lo, hi = data.bounds
        np.testing.assert_allclose(lo, xyz.min(axis=0), atol=5e-4)
        np.testing.assert_allclose(hi, xyz.max(axis=0), atol=5e-4)
    assert crs_display_name(loaders.read(b).crs, "zh") == \
        "CGCS2000 / 3度带高斯-克吕格 中央子午线114°E (EPSG:4547)"
    assert crs_display_name(loaders.read(a).crs, "zh") == \
        "CGCS2000 / 3度带高斯-克吕格 第38带（东坐标含带号） 中央子午线114°E (EPSG:4526)"
    assert crs_display_name(loaders.read(b).crs, "en") == \
        "CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547)"


def test_zone_prefix_mismatch_warns_with_the_right_code(tmp_path):
    import loaders

    # eastings ~38,500,000 tagged 4547 (no prefix): one warning naming 4526
    wrong = tmp_path / "prefixed_but_4547.las"
    write_survey_las(wrong, 4547, prefixed=True)
    warnings = [w for w in loaders.read(wrong).warnings if "eastings" in w]
    assert len(warnings) == 1 and "EPSG:4526" in warnings[0] and "zone number 38" in warnings[0]
    # the reverse: eastings ~500,000 tagged 4526 (with prefix): names 4547
    reverse = tmp_path / "plain_but_4526.las"
    write_survey_las(reverse, 4526, prefixed=False, version="1.4")
    warnings = [w for w in loaders.read(reverse).warnings if "eastings" in w]
    assert len(warnings) == 1 and "EPSG:4547" in warnings[0]
    # 6-degree zones: zone 20 (CM 117°E) with prefix is EPSG:4498, without 4509
    assert "EPSG:4498" in easting_warning("EPSG:4509", 20_450_000, 20_460_000)
    assert easting_warning("EPSG:4498", 20_450_000, 20_460_000) is None
    assert easting_warning("EPSG:28992", 38_500_000, 38_600_000) is None  # not GK


def test_chinese_names_from_parameters():
    # every national code has a Chinese name built from its parameters
    for code in range(4491, 4555):
        info = gauss_kruger_info(f"EPSG:{code}")
        assert info is not None and info["zone_width"] in (3, 6), code
        zh = crs_display_name(f"EPSG:{code}", "zh")
        assert zh.startswith("CGCS2000 / ") and "高斯-克吕格" in zh, (code, zh)
        assert f"中央子午线{info['central_meridian']:g}°E" in zh
    assert crs_display_name("EPSG:4502", "zh").startswith("CGCS2000 / 6度带")
    assert crs_display_name("EPSG:4490", "zh") == "2000国家大地坐标系 (EPSG:4490)"
    assert crs_display_name("EPSG:5737", "zh") == "1985国家高程基准 (EPSG:5737)"
    compound = crs_display_name("EPSG:4547+5737", "zh_CN")
    assert compound == "CGCS2000 / 3度带高斯-克吕格 中央子午线114°E + 1985国家高程基准"
    assert "Yellow Sea 1985 height" in crs_display_name("EPSG:4547+5737", "en")
    assert crs_display_name("EPSG:2383", "zh").startswith("西安80 / 3度带")
    assert crs_display_name("EPSG:28992", "zh") == "Amersfoort / RD New (EPSG:28992)"


def test_cityjson_and_ifc_names(shared_data, tmp_path):
    """CityJSON referenceSystem in its three spellings; an IFC's IfcProjectedCRS named by
    code or by its EPSG name (the real FZK-Haus model with a map conversion added), read
    by the IFC reader itself."""
    import ifcopenshell

    import loaders
    from loaders.formats.cityjson import crs_from_reference_system

    for ref in ("EPSG:4547", "https://www.opengis.net/def/crs/EPSG/0/4547",
                "urn:ogc:def:crs:EPSG::4547"):
        crs, warnings = crs_from_reference_system(ref)
        assert epsg_code(crs) == 4547 and not warnings, ref
    for i, name in enumerate(("EPSG:4547", "CGCS2000 / 3-degree Gauss-Kruger CM 114E")):
        f = ifcopenshell.open(str(shared_data / "bim" / "AC20-FZK-Haus.ifc"))
        context = next(c for c in f.by_type("IfcGeometricRepresentationContext")
                       if c.is_a() == "IfcGeometricRepresentationContext"
                       and c.ContextType == "Model")
        metre = f.createIfcSIUnit(None, "LENGTHUNIT", None, "METRE")
        target = f.createIfcProjectedCRS(Name=name, MapUnit=metre)
        f.createIfcMapConversion(SourceCRS=context, TargetCRS=target, Eastings=512_345.0,
                                 Northings=3_380_123.0, OrthogonalHeight=23.0,
                                 XAxisAbscissa=1.0, XAxisOrdinate=0.0, Scale=1.0)
        out = tmp_path / f"fzk_{i}.ifc"
        f.write(str(out))
        model = loaders.read(out)
        assert epsg_code(model.crs) == 4547, name
        assert 512_300 < model.bounds[0][0] < 512_400
        assert not any("CRS" in w for w in model.metadata.get("warnings", [])), name


def test_search_list_national_first():
    codes = [c for c, _ in search_crs("4547")]
    assert codes[0] == "EPSG:4547"
    cgcs = [c for c, _ in search_crs("CGCS2000")]
    assert cgcs[0] == "EPSG:4490" and "EPSG:4547" in cgcs and "EPSG:4526" in cgcs
    gauss = [c for c, _ in search_crs("高斯")]
    assert "EPSG:4547" in gauss and len(gauss) == 4555 - 4491
    assert "EPSG:32650" in [c for c, _ in search_crs("UTM 50N")]
    # recent choices come first, then the national systems
    listed = [c for c, _ in search_crs("", recent=["EPSG:28992"])]
    assert listed[:3] == ["EPSG:28992", "EPSG:4490", "EPSG:5737"]
    assert dict(search_crs("4547", lang="zh"))["EPSG:4547"].startswith("CGCS2000 / 3度带")


def test_user_crs_validation():
    local = ("+proj=tmerc +lat_0=0 +lon_0=114.3 +k=1 +x_0=50000 +y_0=-3000000 "
             "+ellps=GRS80 +units=m +no_defs")
    assert parse_user_crs(local).is_projected
    assert "custom" in crs_display_name(parse_user_crs(local), "en")
    with pytest.raises(ValueError, match="not a coordinate reference system"):
        parse_user_crs("+proj=nonsense +foo")
    with pytest.raises(ValueError, match="vertical"):
        parse_user_crs("EPSG:5737")


def test_osgb_metadata_xml(tmp_path):
    from loaders import LoadError

    meta = tmp_path / "metadata.xml"
    meta.write_text('<?xml version="1.0" encoding="utf-8"?>\n<ModelMetadata version="1">\n'
                    "\t<SRS>EPSG:4547</SRS>\n\t<SRSOrigin>512345.5,3380123.25,21</SRSOrigin>\n"
                    "</ModelMetadata>\n", encoding="utf-8")
    info = read_osgb_metadata(meta)
    assert epsg_code(info["crs"]) == 4547 and info["origin"] == (512345.5, 3380123.25, 21.0)
    assert not info["warnings"]
    meta.write_text("<ModelMetadata><SRS>EPSG:4547</SRS><SRSOrigin>38512345,3380123,0"
                    "</SRSOrigin></ModelMetadata>", encoding="utf-8")
    assert "EPSG:4526" in read_osgb_metadata(meta)["warnings"][0]
    meta.write_text("<ModelMetadata><SRS>ENU:30.5,114.25</SRS><SRSOrigin>0,0,52.3"
                    "</SRSOrigin></ModelMetadata>", encoding="utf-8")
    info = read_osgb_metadata(meta)
    assert info["enu"] == (30.5, 114.25) and info["origin"][2] == 52.3
    from pyproj import Transformer

    lonlat = Transformer.from_crs(info["crs"], "EPSG:4326", always_xy=True).transform(0, 0)
    np.testing.assert_allclose(lonlat, (114.25, 30.5), atol=1e-9)
    wkt = tmp_path / "wkt" / "metadata.xml"
    wkt.parent.mkdir()
    from pyproj import CRS

    wkt.write_text(f"<ModelMetadata><SRS>{CRS.from_epsg(4526).to_wkt()}</SRS>"
                   "<SRSOrigin>38512345,3380123,0</SRSOrigin></ModelMetadata>")
    assert epsg_code(read_osgb_metadata(wkt)["crs"]) == 4526
    # entity expansion refused, broken XML and ENU out of range are one clear error
    meta.write_text('<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]>'
                    "<ModelMetadata><SRS>&a;</SRS></ModelMetadata>")
    with pytest.raises(LoadError, match="DTD"):
        read_osgb_metadata(meta)
    meta.write_text("<ModelMetadata><SRS>EPSG:4547</SRS>")
    with pytest.raises(LoadError, match="not well-formed"):
        read_osgb_metadata(meta)
    meta.write_text("<ModelMetadata><SRS>ENU:130,400</SRS></ModelMetadata>")
    with pytest.raises(LoadError, match="ENU"):
        read_osgb_metadata(meta)


def test_assign_crs_undo_save_reopen(tmp_path):
    """A survey without CRS: assign EPSG:4547 (the core workflow the window, scripts and
    the CLI share); undo/redo; saved with the project; reopened with it."""
    from heritage.project import Project
    from viewer import pipeline
    from viewer.scene import Scene
    from viewer.session import ProjectSession

    bare = tmp_path / "无坐标 survey.las"
    xyz = write_survey_las(bare, None, prefixed=False)
    scene = Scene()
    session = ProjectSession(scene, untitled_recovery=tmp_path / "rec.json")
    pipeline.open_files([str(bare)], scene)
    layer = scene.layers[0]
    assert layer.data.crs is None and scene.crs is None
    pipeline.assign_crs(session, layer, "EPSG:4547")
    assert epsg_code(layer.data.crs) == 4547 and epsg_code(scene.crs) == 4547
    np.testing.assert_allclose(layer.data.bounds[0], xyz.min(axis=0), atol=5e-4)
    session.undo.undo()
    assert layer.data.crs is None and scene.crs is None
    session.undo.redo()
    assert epsg_code(layer.data.crs) == 4547
    project_file = tmp_path / "项目.realscene.json"
    session.save(project_file)
    saved = json.loads(project_file.read_text(encoding="utf-8"))
    assert saved["layers"][0]["crs"] == "EPSG:4547" and saved["crs"] == "EPSG:4547"
    reopened = pipeline.open_project(project_file)
    assert epsg_code(reopened.scene.layers[0].data.crs) == 4547
    assert epsg_code(reopened.scene.crs) == 4547
    # an old project (no layer "crs") still opens: the file's CRS (none) is used
    del saved["layers"][0]["crs"]
    project_file.write_text(json.dumps(saved), encoding="utf-8")
    assert Project.load(project_file).layers[0].crs is None
    assert pipeline.open_project(project_file).scene.layers[0].data.crs is None


def test_assign_custom_proj_round_trip_and_reprojection(tmp_path):
    """A local city system given as a PROJ string: saved and reopened as the same CRS; a
    layer assigned 4526 in a 4547 scene is transformed into it (same place)."""
    from loaders.crs import same_crs
    from viewer import pipeline
    from viewer.scene import Scene
    from viewer.session import ProjectSession

    plain = tmp_path / "plain.las"
    write_survey_las(plain, 4547, prefixed=False)
    bare = tmp_path / "prefixed_no_crs.las"
    xyz = write_survey_las(bare, None, prefixed=True)
    scene = Scene()
    session = ProjectSession(scene, untitled_recovery=tmp_path / "rec.json")
    pipeline.open_files([str(plain), str(bare)], scene)
    layer = scene.layer_by_name("prefixed_no_crs.las")
    pipeline.assign_crs(session, layer, "EPSG:4526")
    lo = layer.data.bounds[0]
    np.testing.assert_allclose(lo, xyz.min(axis=0) - [38_000_000, 0, 0], atol=2e-3)

    local = ("+proj=tmerc +lat_0=0 +lon_0=114.3 +k=1 +x_0=50000 +y_0=-3000000 "
             "+ellps=GRS80 +units=m +no_defs +type=crs")
    other = tmp_path / "local.las"
    write_survey_las(other, None, prefixed=False)
    scene2 = Scene()
    session2 = ProjectSession(scene2, untitled_recovery=tmp_path / "rec2.json")
    pipeline.open_files([str(other)], scene2)
    pipeline.assign_crs(session2, scene2.layers[0], local)
    session2.save(tmp_path / "local.realscene.json")
    reopened = pipeline.open_project(tmp_path / "local.realscene.json")
    assert same_crs(reopened.scene.layers[0].data.crs, parse_user_crs(local))
    with pytest.raises(ValueError, match="not a coordinate reference system"):
        pipeline.assign_crs(session2, scene2.layers[0], "+proj=bogus")
