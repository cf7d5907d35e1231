"""IFC reader (loaders/formats/ifc.py) on the real shared models, the corrupt IFC files and
small models built here with ifcopenshell.api.

Expected values come from ../shared/data/SOURCES.md (counts), from ifcopenshell itself
(property sets, per-element geometry through ``create_shape``) and from pyproj (the UTM
position of the site reference point), never from the reader under test.
"""

from __future__ import annotations

import math
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.geometry
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.unit
import ifcopenshell.geom
import ifcopenshell.util.element
import numpy as np
import pytest

import loaders
from loaders import FeatureMesh, LoadCancelled, LoadError
from loaders.formats import ifc
from tests.loaders.ifc_support import ifc_skeleton

FZK = "bim/AC20-FZK-Haus.ifc"
DUPLEX = "bim/duplex.ifc"


@pytest.fixture(scope="module")
def fzk(shared_data: Path) -> FeatureMesh:
    return loaders.read(shared_data / FZK)


@pytest.fixture(scope="module")
def duplex(shared_data: Path) -> FeatureMesh:
    return loaders.read(shared_data / DUPLEX)


def _feature_xyz(model: FeatureMesh, feature_id: str) -> np.ndarray:
    """True (float64) coordinates of the vertices of one feature's triangles."""
    idx = model.feature_index(feature_id)
    used = np.unique(model.faces[model.face_feature == idx])
    return model.xyz()[used]


def _world_verts(path: Path, global_id: str) -> np.ndarray:
    """The element's vertices in model world coordinates (metres), by ifcopenshell alone."""
    f = ifcopenshell.open(str(path))
    settings = ifcopenshell.geom.settings()
    settings.set("use-world-coords", True)
    shape = ifcopenshell.geom.create_shape(settings, f.by_guid(global_id))
    return np.frombuffer(shape.geometry.verts_buffer, np.float64).reshape(-1, 3)


def _assert_same_points(ours: np.ndarray, expected: np.ndarray, tol: float) -> None:
    assert len(ours) > 0 and len(expected) > 0
    d = np.linalg.norm(expected[:, None, :] - ours[None, :, :], axis=2)
    assert d.min(axis=1).max() < tol, d.min(axis=1).max()
    assert d.min(axis=0).max() < tol, d.min(axis=0).max()


def _check_mesh(model: FeatureMesh) -> None:
    m = model.triangle_count
    assert model.vertices.dtype == np.float32 and model.origin.dtype == np.float64
    assert model.faces.dtype == np.int32 and model.faces.shape == (m, 3)
    assert model.faces.min() >= 0 and model.faces.max() < model.vertex_count
    assert model.face_feature.shape == (m,) and model.face_feature.min() >= 0
    assert model.face_feature.max() < len(model.features)
    assert model.face_colors.shape == (m, 4) and model.face_colors.dtype == np.uint8
    assert model.model_format == "IFC"
    ids = [f.id for f in model.features]
    assert len(set(ids)) == len(ids)
    by_id = {f.id: f for f in model.features}
    for f in model.features:  # the tree is consistent both ways
        if f.parent is not None:
            assert f.id in by_id[f.parent].children
        for c in f.children:
            assert by_id[c].parent == f.id


# --------------------------------------------------------------------------- FZK-Haus


def test_fzk_counts_and_tree(fzk: FeatureMesh) -> None:
    _check_mesh(fzk)
    md = fzk.metadata
    assert md["format"] == "IFC" and md["schema"] == "IFC4"
    assert md["elements"]["IfcWallStandardCase"] == 13
    assert md["elements"]["IfcWindow"] == 11
    assert md["elements"]["IfcDoor"] == 5
    assert md["elements"]["IfcSpace"] == 7
    assert sum(md["elements"].values()) == 127  # IfcProducts per SOURCES.md
    assert md["storeys"] == ["Erdgeschoss", "Dachgeschoss"]
    assert md["skipped"] == []
    counts = fzk.counts_by_type()
    assert counts["IfcWallStandardCase"] == 13 and counts["IfcWindow"] == 11
    assert counts["IfcDoor"] == 5 and counts["IfcBuildingStorey"] == 2
    assert counts["IfcSpace"] == 7  # spaces are features...
    assert counts["IfcProject"] == counts["IfcSite"] == counts["IfcBuilding"] == 1
    assert "IfcOpeningElement" not in counts
    space_idx = [i for i, f in enumerate(fzk.features) if f.type == "IfcSpace"]
    assert not np.isin(fzk.face_feature, space_idx).any()  # ...without triangles
    assert "IfcSpace" in md["excluded_geometry"]

    project = fzk.features[0]
    assert project.type == "IfcProject" and project.parent is None
    site = fzk.feature(project.children[0])
    assert site.type == "IfcSite" and site.name == "Gelaende"
    building = fzk.feature(site.children[0])
    assert building.type == "IfcBuilding" and building.name == "FZK-Haus"
    storeys = [fzk.feature(c) for c in building.children]
    assert [s.name for s in storeys] == ["Erdgeschoss", "Dachgeschoss"]
    walls = [f for f in fzk.features if f.type == "IfcWallStandardCase"]
    assert {w.storey for w in walls} <= {"Erdgeschoss", "Dachgeschoss"}
    assert all(fzk.feature(w.parent).type == "IfcBuildingStorey" for w in walls)
    for space in (f for f in fzk.features if f.type == "IfcSpace"):
        assert space.storey in ("Erdgeschoss", "Dachgeschoss")
    # every triangle belongs to an element with geometry, and walls have triangles
    wall_idx = [fzk.feature_index(w.id) for w in walls]
    assert np.isin(wall_idx, fzk.face_feature).all()


def test_fzk_attributes_and_properties_match_ifcopenshell(fzk: FeatureMesh,
                                                          shared_data: Path) -> None:
    f = ifcopenshell.open(str(shared_data / FZK))
    wall = f.by_type("IfcWallStandardCase")[0]
    ours = fzk.feature(wall.GlobalId)
    assert ours.type == "IfcWallStandardCase" and ours.name == wall.Name
    assert ours.attributes["Name"] == wall.Name and ours.attributes["Tag"] == wall.Tag
    assert "OwnerHistory" not in ours.attributes
    expected = ifcopenshell.util.element.get_psets(wall)
    assert "Pset_WallCommon" in ours.properties
    assert "BaseQuantities" in ours.properties  # quantity sets too
    for pset, values in expected.items():
        got = ours.properties[pset]
        for key, value in values.items():
            if key == "id":
                continue
            if isinstance(value, float):
                assert got[key] == pytest.approx(value)
            else:
                assert got[key] == value, (pset, key)
    site = fzk.feature(f.by_type("IfcSite")[0].GlobalId)
    assert site.attributes["RefLatitude"] == [49, 6, 1, 566000]
    assert site.attributes["RefElevation"] == 110.0


def test_fzk_colours(fzk: FeatureMesh) -> None:
    types = np.array([f.type for f in fzk.features])[fzk.face_feature]
    names = np.array([f.name for f in fzk.features])[fzk.face_feature]
    walls = fzk.face_colors[types == "IfcWallStandardCase"]
    assert (walls == [207, 207, 207, 255]).all()  # ArchiCAD style: 0.81 grey, opaque
    roof = fzk.face_colors[names == "Dach-1"]
    assert len(roof) and (roof == [190, 86, 24, 255]).all()  # roof tiles
    site = fzk.face_colors[types == "IfcSite"]
    assert (site == [50, 135, 39, 255]).all()  # grass
    windows = fzk.face_colors[types == "IfcWindow"]
    assert (windows[:, 3] < 128).any() and (windows[:, 3] == 255).any()  # glass + frames
    assert (walls[:, 3] == 255).all()


def test_fzk_approximate_georeference(fzk: FeatureMesh, shared_data: Path) -> None:
    from pyproj import CRS, Proj, Transformer

    assert fzk.crs is not None and fzk.crs.to_epsg() == 32632  # WGS 84 / UTM 32N
    assert fzk.crs == CRS.from_epsg(32632)
    assert fzk.metadata["georef"] == "site reference point (approximate)"
    lat = 49 + 6 / 60 + 1.566 / 3600  # (49, 6, 1, 566000)
    lon = 8 + 26 / 60 + 11.5404 / 3600  # (8, 26, 11, 540400)
    e0, n0 = Transformer.from_crs(4326, 32632, always_xy=True).transform(lon, lat)
    assert 455_000 < e0 < 460_000 and 5_437_000 < n0 < 5_441_000  # Karlsruhe
    # TrueNorth (0.766, 0.643) is 40 deg from model +x, so model +y is 50 deg west of
    # north; the UTM grid is turned by the meridian convergence on top of that
    convergence = Proj("EPSG:32632").get_factors(lon, lat).meridian_convergence
    alpha = math.radians(50.0 + convergence)
    c, s = math.cos(alpha), math.sin(alpha)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    wall = ifcopenshell.open(str(shared_data / FZK)).by_type("IfcWallStandardCase")[0]
    model_xyz = _world_verts(shared_data / FZK, wall.GlobalId)
    expected = model_xyz @ rot.T + np.array([e0, n0, 110.0])
    _assert_same_points(_feature_xyz(fzk, wall.GlobalId), expected, 1e-3)
    lo, hi = fzk.bounds
    assert lo[2] == pytest.approx(109.0, abs=0.5)  # base slab 1 m below +-0 at 110 m
    assert np.all(np.abs(fzk.origin[:2] - [e0, n0]) < 50)


# --------------------------------------------------------------------------- Duplex


def test_duplex_ifc2x3(duplex: FeatureMesh) -> None:
    _check_mesh(duplex)
    md = duplex.metadata
    assert md["schema"] == "IFC2X3"
    assert sorted(md["storeys"]) == sorted(["Level 1", "Level 2", "T/FDN", "Roof"])
    assert md["elements"]["IfcWallStandardCase"] + md["elements"].get("IfcWall", 0) == 57
    assert md["elements"]["IfcWindow"] == 24 and md["elements"]["IfcDoor"] == 14
    assert md["elements"]["IfcSlab"] == 21 and md["elements"]["IfcSpace"] == 21
    assert sum(md["elements"].values()) == 295
    counts = duplex.counts_by_type()
    assert counts["IfcBuildingStorey"] == 4 and counts["IfcSpace"] == 21
    assert counts["IfcFurnishingElement"] == 61
    # IfcRoof / IfcStair have no geometry of their own but aggregate slabs / flights
    roof = next(f for f in duplex.features if f.type == "IfcRoof")
    assert roof.children and all(duplex.feature(c).type == "IfcSlab" for c in roof.children)
    wall = next(f for f in duplex.features if f.type == "IfcWallStandardCase")
    assert wall.storey in md["storeys"]
    assert "Pset_WallCommon" in wall.properties
    assert isinstance(wall.properties["Pset_WallCommon"]["IsExternal"], bool)
    # furniture sits in spaces: their storey is found by walking up
    sofa = next(f for f in duplex.features if f.type == "IfcFurnishingElement")
    assert duplex.feature(sofa.parent).type in ("IfcSpace", "IfcBuildingStorey")
    assert sofa.storey in md["storeys"]


def test_duplex_approximate_georeference(duplex: FeatureMesh) -> None:
    from pyproj import Transformer

    assert duplex.crs.to_epsg() == 32616  # Chicago: UTM 16N
    lat = 41 + 52 / 60 + 27.84 / 3600
    lon = -(87 + 38 / 60 + 21.839999 / 3600)
    e0, n0 = Transformer.from_crs(4326, 32616, always_xy=True).transform(lon, lat)
    detail = duplex.metadata["georef_detail"]
    assert detail["easting"] == pytest.approx(e0, abs=1e-6)
    assert detail["northing"] == pytest.approx(n0, abs=1e-6)
    lo, hi = duplex.bounds
    assert lo[0] < e0 + 30 and hi[0] > e0 - 30 and lo[1] < n0 + 30 and hi[1] > n0 - 30


# --------------------------------------------------------------------------- errors


def test_no_header(shared_data: Path) -> None:
    with pytest.raises(LoadError) as info:
        loaders.read(shared_data / "corrupt/fail_no_header.ifc")
    assert "cannot parse the IFC header" in info.value.reason
    assert "fail_no_header.ifc" in info.value.message


def test_unsupported_schema(shared_data: Path) -> None:
    with pytest.raises(LoadError) as info:
        loaders.read(shared_data / "corrupt/KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc")
    assert info.value.reason == "unsupported IFC schema IFC4X3_RC2"
    assert "IFC2X3" in info.value.hint and "IFC4" in info.value.hint


def test_duplicate_instance_name_is_a_clear_error(shared_data: Path) -> None:
    # ifcopenshell opens it silently but #19 (the IfcProject) is lost: nothing to show
    with pytest.raises(LoadError) as info:
        loaders.read(shared_data / "corrupt/fail_duplicate_id.ifc")
    assert "no building elements" in info.value.reason
    assert "#19" in info.value.reason


def test_cancel(shared_data: Path) -> None:
    seen: list[float] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if fraction > 0.1:
            raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        loaders.read(shared_data / DUPLEX, progress)
    assert seen and seen[-1] < 0.9  # stopped during the geometry, not at the end

    def cancel_now(fraction: float, message: str) -> None:
        raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        loaders.read(shared_data / DUPLEX, cancel_now)


def test_progress_is_monotonic(tmp_path: Path) -> None:
    path = _synthetic(tmp_path, "IFC4")
    seen: list[float] = []
    loaders.read(path, lambda fraction, message: seen.append(fraction))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_registered_and_sniffed(shared_data: Path, tmp_path: Path) -> None:
    assert "ifc" in loaders.supported_extensions()  # registers the built-in readers
    assert loaders.REGISTRY.choose(shared_data / FZK).read is ifc.read
    renamed = tmp_path / "house.dat"  # content wins over the extension
    renamed.write_bytes((shared_data / "corrupt/fail_no_header.ifc").read_bytes())
    assert loaders.REGISTRY.choose(renamed).read is ifc.read


# --------------------------------------------------------------------------- synthetic


def _synthetic(tmp_path: Path, schema: str, *, millimetres: bool = True,
               broken: bool = False, space: bool = False) -> Path:
    """Project / site / building / storey with one 5 x 0.2 x 3 m wall at the origin."""
    f, body, storey = ifc_skeleton(schema, unit="MILLI" if millimetres else None)

    def element(cls: str, name: str, rep) -> None:
        e = ifcopenshell.api.root.create_entity(f, ifc_class=cls, name=name)
        ifcopenshell.api.geometry.assign_representation(f, product=e, representation=rep)
        ifcopenshell.api.geometry.edit_object_placement(f, product=e)
        if cls == "IfcSpace":
            ifcopenshell.api.aggregate.assign_object(f, relating_object=storey, products=[e])
        else:
            ifcopenshell.api.spatial.assign_container(f, relating_structure=storey,
                                                      products=[e])
        pset = ifcopenshell.api.pset.add_pset(f, product=e, name="Pset_Test")
        ifcopenshell.api.pset.edit_pset(f, pset=pset, properties={"Label": name})

    element("IfcWall", "W1", ifcopenshell.api.geometry.add_wall_representation(
        f, context=body, length=5.0, height=3.0, thickness=0.2))
    if space:
        element("IfcSpace", "Room", ifcopenshell.api.geometry.add_wall_representation(
            f, context=body, length=2.0, height=2.0, thickness=2.0))
    if broken:  # an extrusion of depth 0: ifcopenshell cannot mesh it
        scale = 1000.0 if millimetres else 1.0
        solid = f.createIfcExtrudedAreaSolid(
            f.createIfcRectangleProfileDef("AREA", None, None, 0.1 * scale, 0.1 * scale),
            f.createIfcAxis2Placement3D(f.createIfcCartesianPoint((0.0, 0.0, 0.0))),
            f.createIfcDirection((0.0, 0.0, 1.0)), 0.0)
        element("IfcColumn", "Broken", f.createIfcShapeRepresentation(
            body, "Body", "SweptSolid", [solid]))
    path = tmp_path / f"synthetic_{schema}.ifc"
    f.write(str(path))
    return path


def _add_map_conversion(path: Path, out: Path, *, eastings: float, northings: float,
                        height: float, angle_deg: float, scale: float | None,
                        crs_name: str = "EPSG:25832") -> None:
    f = ifcopenshell.open(str(path))
    context = next(c for c in f.by_type("IfcGeometricRepresentationContext")
                   if c.is_a() == "IfcGeometricRepresentationContext"
                   and c.ContextType == "Model")
    metre = f.createIfcSIUnit(None, "LENGTHUNIT", None, "METRE")
    crs = f.createIfcProjectedCRS(Name=crs_name, MapUnit=metre)
    f.createIfcMapConversion(
        SourceCRS=context, TargetCRS=crs, Eastings=eastings, Northings=northings,
        OrthogonalHeight=height, XAxisAbscissa=math.cos(math.radians(angle_deg)),
        XAxisOrdinate=math.sin(math.radians(angle_deg)), Scale=scale)
    f.write(str(out))


def _helmert(xyz_m: np.ndarray, e: float, n: float, h: float, angle_deg: float,
             scale: float) -> np.ndarray:
    """IfcMapConversion on coordinates given in project units."""
    a, b = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    x, y, z = xyz_m.T
    return np.stack([e + scale * (a * x - b * y), n + scale * (b * x + a * y),
                     h + scale * z], axis=1)


def test_synthetic_model(tmp_path: Path) -> None:
    model = loaders.read(_synthetic(tmp_path, "IFC4", space=True, broken=True))
    _check_mesh(model)
    assert [f.type for f in model.features] == [
        "IfcProject", "IfcSite", "IfcBuilding", "IfcBuildingStorey", "IfcWall", "IfcSpace"]
    wall = model.features[4]
    assert wall.storey == "Ground" and wall.properties["Pset_Test"] == {"Label": "W1"}
    lo, hi = model.bounds
    assert np.allclose(lo, [0, 0, 0], atol=1e-6) and np.allclose(hi, [5, 0.2, 3], atol=1e-6)
    assert model.crs is None and model.metadata["georef"] == "none"
    assert any("georeferencing" in w for w in model.metadata["warnings"])
    assert model.metadata["length_unit_m"] == pytest.approx(0.001)
    # the broken column is skipped and listed; the space has no triangles
    assert len(model.metadata["skipped"]) == 1 and "Broken" in model.metadata["skipped"][0]
    assert "IfcColumn" in model.metadata["skipped"][0]
    assert set(np.unique(model.face_feature)) == {4}
    with_spaces = ifc.read(_synthetic(tmp_path, "IFC4", space=True), include_spaces=True)
    assert set(np.unique(with_spaces.face_feature)) == {4, 5}


def test_map_conversion_in_millimetres_double_precision(tmp_path: Path) -> None:
    src = _synthetic(tmp_path, "IFC4", millimetres=True)
    out = tmp_path / "georef.ifc"
    e, n, h, angle = 458123.4567, 5438765.4321, 112.25, 30.0
    _add_map_conversion(src, out, eastings=e, northings=n, height=h, angle_deg=angle,
                        scale=0.001)
    model = loaders.read(out)
    assert model.metadata["georef"] == "IfcMapConversion"
    assert model.crs.to_epsg() == 25832
    corners_mm = np.array([[0, 0, 0], [5000, 0, 0], [0, 200, 3000], [5000, 200, 3000]], float)
    expected = _helmert(corners_mm, e, n, h, angle, 0.001)
    # (5000, 0, 0) mm -> E + 4.330127..., N + 2.5
    assert expected[1, 0] == pytest.approx(e + 5 * math.cos(math.radians(30)))
    xyz = model.xyz()
    assert xyz.dtype == np.float64 and len(xyz) >= 8
    for corner in expected:  # each corner is a vertex, to the hundredth of a millimetre
        assert np.linalg.norm(xyz - corner, axis=1).min() < 1e-5
    assert np.abs(model.origin - [e, n, h]).max() < 10


def test_map_conversion_without_scale_uses_unit_ratio(tmp_path: Path) -> None:
    src = _synthetic(tmp_path, "IFC4", millimetres=True)
    out = tmp_path / "noscale.ifc"
    _add_map_conversion(src, out, eastings=1000.0, northings=2000.0, height=0.0,
                        angle_deg=0.0, scale=None)
    model = loaders.read(out)
    assert any("no Scale" in w for w in model.metadata["warnings"])
    lo, hi = model.bounds
    assert np.allclose(lo, [1000, 2000, 0], atol=1e-5)
    assert np.allclose(hi, [1005, 2000.2, 3], atol=1e-5)


def test_map_conversion_on_the_real_house(tmp_path: Path, shared_data: Path) -> None:
    """FZK-Haus with an IfcMapConversion added: it wins over the site lat/lon."""
    out = tmp_path / "fzk_georef.ifc"
    e, n, h, angle = 456789.123456, 5441234.654321, 111.5, -12.5
    _add_map_conversion(shared_data / FZK, out, eastings=e, northings=n, height=h,
                        angle_deg=angle, scale=None)
    model = loaders.read(out)
    assert model.metadata["georef"] == "IfcMapConversion"
    assert model.crs.to_epsg() == 25832
    assert not any("no Scale" in w for w in model.metadata["warnings"])  # metres both
    wall = ifcopenshell.open(str(shared_data / FZK)).by_type("IfcWallStandardCase")[3]
    expected = _helmert(_world_verts(shared_data / FZK, wall.GlobalId), e, n, h, angle, 1.0)
    _assert_same_points(_feature_xyz(model, wall.GlobalId), expected, 1e-5)


def test_ifc2x3_epset_map_conversion(tmp_path: Path) -> None:
    src = _synthetic(tmp_path, "IFC2X3", millimetres=False)
    f = ifcopenshell.open(str(src))
    site = f.by_type("IfcSite")[0]
    conv = ifcopenshell.api.pset.add_pset(f, product=site, name="ePSet_MapConversion")
    ifcopenshell.api.pset.edit_pset(f, pset=conv, properties={
        "Eastings": 385000.25, "Northings": 5820000.75, "OrthogonalHeight": 34.0,
        "XAxisAbscissa": 0.0, "XAxisOrdinate": 1.0, "Scale": 1.0})
    crs = ifcopenshell.api.pset.add_pset(f, product=site, name="ePSet_ProjectedCRS")
    ifcopenshell.api.pset.edit_pset(f, pset=crs, properties={"Name": "EPSG:25833"})
    out = tmp_path / "epset.ifc"
    f.write(str(out))
    model = loaders.read(out)
    assert model.metadata["schema"] == "IFC2X3"
    assert model.metadata["georef"] == "ePSet_MapConversion"
    assert model.crs.to_epsg() == 25833
    # x axis points to grid north (90 deg): model (5, 0, 0) -> (E, N + 5)
    xyz = model.xyz()
    for corner in _helmert(np.array([[0, 0, 0], [5, 0, 0], [5, 0.2, 3]], float),
                           385000.25, 5820000.75, 34.0, 90.0, 1.0):
        assert np.linalg.norm(xyz - corner, axis=1).min() < 1e-5


def test_helpers() -> None:
    assert ifc.compound_angle((49, 6, 1, 566000)) == pytest.approx(49.100435)
    assert ifc.compound_angle((-87, -38, -21, -839999)) == pytest.approx(-87.6394, abs=1e-6)
    assert ifc.utm_epsg(49.1, 8.44) == 32632
    assert ifc.utm_epsg(41.87, -87.64) == 32616
    assert ifc.utm_epsg(-33.9, 18.4) == 32734
    assert ifc.utm_epsg(60.0, 5.0) == 32632  # Norway exception


def test_duplicate_global_ids_stay_unique(tmp_path: Path) -> None:
    f = ifcopenshell.open(str(_synthetic(tmp_path, "IFC4", space=True)))
    wall = f.by_type("IfcWall")[0]
    f.by_type("IfcSpace")[0].GlobalId = wall.GlobalId  # invalid, seen in the wild
    path = tmp_path / "dup_guid.ifc"
    f.write(str(path))
    model = loaders.read(path)
    ids = [feat.id for feat in model.features]
    assert len(set(ids)) == len(ids) == 6
    assert model.feature(wall.GlobalId).type == "IfcWall"
    assert any("GlobalId" in w for w in model.metadata["warnings"])
