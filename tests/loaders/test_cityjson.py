"""CityJSON / CityJSONSeq reader: real files from ../shared/data and small hand-written
files for the geometry cases (holes, vertical walls, templates, LODs, broken parts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders import FeatureMesh, LoadCancelled, LoadError
from loaders.formats import cityjson
from loaders.registry import normalised_extension

# ---------------------------------------------------------------------------- helpers


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def city(objects: dict, vertices: list, **extra) -> dict:
    doc = {"type": "CityJSON", "version": "2.0", "CityObjects": objects,
           "vertices": vertices}
    doc.update(extra)
    return doc


def tri_areas(mesh: FeatureMesh) -> np.ndarray:
    x = mesh.xyz()
    f = mesh.faces
    return np.linalg.norm(np.cross(x[f[:, 1]] - x[f[:, 0]], x[f[:, 2]] - x[f[:, 0]]),
                          axis=1) / 2


def tri_normals(mesh: FeatureMesh) -> np.ndarray:
    x = mesh.xyz()
    f = mesh.faces
    n = np.cross(x[f[:, 1]] - x[f[:, 0]], x[f[:, 2]] - x[f[:, 0]])
    return n / np.linalg.norm(n, axis=1)[:, None]


def cube(base: int = 0) -> list:
    """Outward-oriented unit cube Solid boundaries over vertices base..base+7."""
    b = base
    return [[[[b + 0, b + 3, b + 2, b + 1]], [[b + 4, b + 5, b + 6, b + 7]],
             [[b + 0, b + 1, b + 5, b + 4]], [[b + 1, b + 2, b + 6, b + 5]],
             [[b + 2, b + 3, b + 7, b + 6]], [[b + 3, b + 0, b + 4, b + 7]]]]


CUBE_VERTS = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
              [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]]

# ---------------------------------------------------------------------------- real files


def test_delft(shared_data: Path) -> None:
    m = loaders.read(shared_data / "citymodels" / "delft.city.json")
    assert isinstance(m, FeatureMesh) and m.model_format == "CityJSON"
    md = m.metadata
    assert md["format"] == "CityJSON" and md["version"] == "2.0"
    assert len(m.features) == 570
    assert md["city_objects"] == {"Building": 160, "Road": 143, "PlantCover": 126,
                                  "LandUse": 81, "GenericCityObject": 54, "Bridge": 3,
                                  "WaterBody": 3}
    assert m.counts_by_type() == md["city_objects"]
    assert md["geometry_counts"] == {"MultiSurface": 410, "Solid": 160}
    assert md["vertex_count_file"] == 18262 and m.vertex_count == 18262
    assert m.crs is not None and m.crs.to_epsg() == 7415
    assert md["crs_source"] == "metadata.referenceSystem"
    # RD New coordinates, stored as float32 around a float64 origin
    assert abs(m.origin[0] - 85000) < 1000 and abs(m.origin[1] - 447500) < 1000
    assert m.vertices.dtype == np.float32 and m.origin.dtype == np.float64
    lo, hi = m.bounds
    ext = md["file_metadata"]["geographicalExtent"]
    assert np.allclose(lo, ext[:3], atol=0.01) and np.allclose(hi, ext[3:], atol=0.01)
    assert m.lod_names == ["1"] and md["default_lod"] == "1" and md["lods"] == ["1"]
    assert m.triangle_count > 30000 and m.faces.max() < m.vertex_count
    assert (m.face_feature >= 0).all() and (m.face_lod == 0).all()
    assert (m.face_semantic == -1).all() and m.semantic_names == []
    b = next(f for f in m.features if f.type == "Building")
    assert b.lods == ["1"] and "identificatiebagpnd" in b.attributes
    # every Building has triangles
    with_faces = set(np.unique(m.face_feature).tolist())
    assert all(i in with_faces for i, f in enumerate(m.features) if f.type == "Building")
    assert md["warnings"] == []


def test_zurich_parts_semantics_and_swiss_crs(shared_data: Path) -> None:
    m = loaders.read(shared_data / "citymodels" / "zurich_subset_lod2.city.json")
    md = m.metadata
    assert md["version"] == "1.1"
    assert md["city_objects"] == {"BuildingPart": 161, "Building": 49}
    assert m.crs.to_epsg() == 2056
    lo, hi = m.bounds
    assert 2_678_000 < lo[0] < hi[0] < 2_688_000  # 7-digit LV95 eastings (SOURCES.md)
    ext = md["file_metadata"]["geographicalExtent"]
    assert np.allclose(lo, ext[:3], atol=0.01) and np.allclose(hi, ext[3:], atol=0.01)
    parts = [f for f in m.features if f.type == "BuildingPart"]
    buildings = {f.id: f for f in m.features if f.type == "Building"}
    assert all(p.parent in buildings for p in parts)
    assert sum(len(b.children) for b in buildings.values()) == 161
    # the parents' geometry lives in their parts
    faced = {m.features[i].type for i in np.unique(m.face_feature)}
    assert faced == {"BuildingPart"}
    # semantic polygons per type (SOURCES.md counts 54 GroundSurface *objects*; one of
    # them is referenced by two polygons)
    assert md["semantic_counts"] == {"GroundSurface": 55, "RoofSurface": 644,
                                     "WallSurface": 1340}
    names = m.semantic_names
    assert set(names) == {"RoofSurface", "WallSurface", "GroundSurface"}
    for name in names:
        assert (m.face_semantic == names.index(name)).sum() > 0
    # roofs face up, walls are (nearly) vertical
    n = tri_normals(m)
    roof = m.face_semantic == names.index("RoofSurface")
    wall = m.face_semantic == names.index("WallSurface")
    ground = m.face_semantic == names.index("GroundSurface")
    assert (n[roof, 2] > 0).mean() > 0.95
    assert (np.abs(n[wall, 2]) < 0.2).mean() > 0.95
    assert (n[ground, 2] < 0).mean() > 0.95
    assert m.lod_names == ["2"] and (m.face_lod == 0).all()


def test_den_haag_without_crs_and_materials(shared_data: Path) -> None:
    m = loaders.read(shared_data / "citymodels" / "DH_01_subs.city.json")
    assert m.crs is None
    assert any("referenceSystem" in w for w in m.warnings)
    assert m.metadata["city_objects"] == {"BuildingPart": 8, "Building": 4}
    assert m.metadata["geometry_counts"] == {"Solid": 9}
    assert m.face_colors is not None and m.face_colors.shape == (m.triangle_count, 4)
    assert m.face_colors.dtype == np.uint8
    # material 1 of theme "" is dark red (0.502, 0, 0)
    assert any(tuple(c) == (128, 0, 0, 255) for c in np.unique(m.face_colors, axis=0))
    # closed outward solids: positive volume per building part
    x = m.xyz() - m.origin
    f = m.faces
    vol = np.einsum("ij,ij->i", x[f[:, 0]], np.cross(x[f[:, 1]], x[f[:, 2]])) / 6
    per = np.bincount(m.face_feature, weights=vol)
    assert (per[np.unique(m.face_feature)] > 0).all()


def test_rotterdam_missing_textures_do_not_crash(shared_data: Path) -> None:
    m = loaders.read(shared_data / "citymodels" / "rotterdam_textured"
                     / "rotterdam_one.city.json")
    assert len(m.features) == 1 and m.triangle_count > 0
    tex = m.metadata["textures"]
    assert tex["count"] == 6 and len(tex["missing"]) == 5
    assert "appearances/0320_4_15.jpg" not in tex["missing"]
    assert any("missing" in w for w in m.warnings)
    assert m.crs.to_epsg() == 7415


def test_out_of_range_vertex_index_is_a_clear_error(shared_data: Path) -> None:
    path = shared_data / "corrupt" / "invalid_out_of_range_vertex_index.city.json"
    with pytest.raises(LoadError) as info:
        loaders.read(path)
    msg = info.value.message
    assert path.name in msg and "99" in msg and "\n" not in msg


def test_sniffing_and_extensions(shared_data: Path, tmp_path: Path) -> None:
    head = (shared_data / "citymodels" / "delft.city.json").read_bytes()[:4096]
    assert b'"type":"CityJSON"' not in head  # "type" comes after CityObjects here
    assert cityjson.sniff(head, Path("x.json"))
    assert not cityjson.sniff(b'{"asset": {"version": "2.0"}, "meshes": []}', Path("x"))
    assert not cityjson.sniff(b"ply\nformat ascii 1.0\n", Path("x"))
    assert normalised_extension("a.CITY.JSONL") == "city.jsonl"
    # a generic .json is read when its content is CityJSON
    p = write(tmp_path / "model.json", city({"a": {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}]}},
        [[0, 0, 0], [1, 0, 0], [0, 1, 0]]))
    assert loaders.read(p).triangle_count == 1
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(LoadError):
        loaders.read(other)


# ---------------------------------------------------------------------------- geometry


def test_polygon_with_hole_area(tmp_path: Path) -> None:
    x0, y0 = 85000.0, 447000.0
    verts = [[x0, y0, 1], [x0 + 10, y0, 1], [x0 + 10, y0 + 10, 1], [x0, y0 + 10, 1],
             [x0 + 3, y0 + 3, 1], [x0 + 3, y0 + 7, 1], [x0 + 7, y0 + 7, 1],
             [x0 + 7, y0 + 3, 1]]
    doc = city({"plaza": {"type": "TransportationSquare", "geometry": [
        {"type": "MultiSurface", "lod": "1",
         "boundaries": [[[0, 1, 2, 3], [4, 5, 6, 7]]]}]}}, verts)
    m = loaders.read(write(tmp_path / "hole.city.json", doc))
    assert tri_areas(m).sum() == pytest.approx(100 - 16, abs=1e-9)
    # no triangle inside the hole
    c = m.xyz()[m.faces].mean(axis=1)
    inside = (c[:, 0] > x0 + 3) & (c[:, 0] < x0 + 7) & (c[:, 1] > y0 + 3) & (c[:, 1] < y0 + 7)
    assert not inside.any()
    assert (tri_normals(m)[:, 2] > 0.999).all()  # counter-clockwise outer ring: up


def test_vertical_wall_with_hole(tmp_path: Path) -> None:
    # a wall in the x-z plane (vertical), 10 m wide and 6 m high, window 2 x 1.5 m
    verts = [[0, 0, 0], [10, 0, 0], [10, 0, 6], [0, 0, 6],
             [4, 0, 2], [4, 0, 3.5], [6, 0, 3.5], [6, 0, 2]]
    doc = city({"w": {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "2", "boundaries": [[[0, 1, 2, 3], [4, 5, 6, 7]]],
         "semantics": {"surfaces": [{"type": "WallSurface"}], "values": [0]}}]}}, verts)
    m = loaders.read(write(tmp_path / "wall.city.json", doc))
    assert tri_areas(m).sum() == pytest.approx(60 - 3, abs=1e-9)
    n = tri_normals(m)
    assert np.allclose(n, [0, -1, 0], atol=1e-9)  # outward, as the ring's orientation
    assert m.semantic_names == ["WallSurface"] and (m.face_semantic == 0).all()
    assert m.metadata["semantic_counts"] == {"WallSurface": 1}


def test_concave_polygons(tmp_path: Path) -> None:
    # an L-shape (fan from vertex 0 is wrong) and a dart-shaped quad
    verts = [[0, 0, 0], [4, 0, 0], [4, 1, 0], [1, 1, 0], [1, 4, 0], [0, 4, 0],
             [10, 0, 0], [12, 3, 0], [10, 1, 0], [8, 3, 0]]
    doc = city({"l": {"type": "LandUse", "geometry": [
        {"type": "MultiSurface", "lod": "1",
         "boundaries": [[[0, 1, 2, 3, 4, 5]], [[9, 6, 7, 8]], [[8, 9, 6, 7]]]}]}}, verts)
    m = loaders.read(write(tmp_path / "concave.city.json", doc))
    # L: 4 + 3 = 7; the dart (shoelace) 2, once starting at a convex corner (the fan
    # from there is wrong) and once at its reflex corner (the fan from there is right)
    assert tri_areas(m).sum() == pytest.approx(7 + 2 + 2, abs=1e-9)
    assert m.triangle_count == 4 + 2 + 2
    assert (tri_normals(m)[:, 2] > 0.999).all()


def test_geometry_template_instance(tmp_path: Path) -> None:
    templates = {"templates": [
        {"type": "MultiSurface", "lod": "2",
         "boundaries": [[[0, 1, 2, 3]]],
         "semantics": {"surfaces": [{"type": "RoofSurface"}], "values": [0]}}],
        "vertices-templates": [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]}
    matrix = [2, 0, 0, 10, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]  # row-major: scale 2, +x 10
    doc = city({"tree": {"type": "SolitaryVegetationObject", "geometry": [
        {"type": "GeometryInstance", "template": 0, "boundaries": [0],
         "transformationMatrix": matrix}]}},
        [[100000, 200000, 5000]],
        transform={"scale": [0.001, 0.001, 0.001], "translate": [0, 0, 0]})
    doc["geometry-templates"] = templates
    m = loaders.read(write(tmp_path / "tpl.city.json", doc))
    assert m.metadata["template_instances"] == 1
    used = m.xyz()[np.unique(m.faces)]
    assert np.allclose(used.min(axis=0), [110, 200, 5]) and np.allclose(used.max(axis=0),
                                                                          [112, 202, 5])
    assert tri_areas(m).sum() == pytest.approx(4)
    assert m.lod_names == ["2"] and m.features[0].lods == ["2"]
    assert m.semantic_names == ["RoofSurface"] and (m.face_semantic == 0).all()


def test_cityjson_10_without_transform(tmp_path: Path) -> None:
    doc = {"type": "CityJSON", "version": "1.0",
           "metadata": {"referenceSystem": "urn:ogc:def:crs:EPSG::7415"},
           "CityObjects": {"b": {"type": "Building", "attributes": {"h": 1},
                                 "geometry": [{"type": "Solid", "lod": 2,
                                               "boundaries": cube()},
                                              {"type": "Solid", "lod": 1.2,
                                               "boundaries": cube()}]}},
           "vertices": [[85000.5 + x, 447000.25 + y, z + 0.125] for x, y, z in CUBE_VERTS]}
    m = loaders.read(write(tmp_path / "v10.city.json", doc))
    assert m.metadata["version"] == "1.0" and m.metadata["transform"] is None
    assert m.crs.to_epsg() == 7415
    assert m.lod_names == ["1.2", "2"] and m.features[0].lods == ["1.2", "2"]
    lo, hi = m.bounds
    assert np.allclose(lo, [85000.5, 447000.25, 0.125]) and np.allclose(
        hi, [85001.5, 447001.25, 1.125])
    assert m.triangle_count == 24 and tri_areas(m).sum() == pytest.approx(12)
    assert m.metadata["warnings"] == []


def test_two_lods_on_one_object(tmp_path: Path) -> None:
    verts = CUBE_VERTS + [[0, 0, 1], [1, 0, 1], [0.5, 0, 1.5]]
    doc = city({"b": {"type": "Building", "geometry": [
        {"type": "Solid", "lod": "1", "boundaries": cube()},
        {"type": "MultiSurface", "lod": "2.2", "boundaries": [[[8, 9, 10]]],
         "semantics": {"surfaces": [{"type": "WallSurface"}], "values": [0]}}]},
        "p": {"type": "BuildingPart", "parents": ["b"]}}, verts)
    doc["CityObjects"]["b"]["children"] = ["p"]
    m = loaders.read(write(tmp_path / "lods.city.json", doc))
    assert m.lod_names == ["1", "2.2"] and m.metadata["default_lod"] == "2.2"
    assert (m.face_lod == 0).sum() == 12 and (m.face_lod == 1).sum() == 1
    assert m.feature("b").lods == ["1", "2.2"] and m.feature("b").children == ["p"]
    assert m.feature("p").parent == "b" and m.feature("p").lods == []
    assert (m.face_feature == m.feature_index("b")).all()
    lod1 = m.face_lod == 0
    assert (m.face_semantic[lod1] == -1).all() and (m.face_semantic[~lod1] == 0).all()


def test_points_and_lines_are_counted_not_drawn(tmp_path: Path) -> None:
    doc = city({"pole": {"type": "CityFurniture", "geometry": [
        {"type": "MultiPoint", "lod": "1", "boundaries": [0, 1]},
        {"type": "MultiLineString", "lod": "1", "boundaries": [[0, 1]]}]},
        "roof": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "2", "boundaries": [[[0, 1, 2]]]}]}},
        [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    m = loaders.read(write(tmp_path / "pts.city.json", doc))
    assert m.metadata["geometry_counts"]["MultiPoint"] == 1
    assert m.metadata["geometry_counts"]["MultiLineString"] == 1
    assert any("MultiPoint" in s for s in m.metadata["skipped"])
    assert len(m.features) == 2 and m.feature("pole").lods == ["1"]
    assert m.triangle_count == 1 and m.features[m.face_feature[0]].id == "roof"


def test_cityjsonseq(tmp_path: Path) -> None:
    header = {"type": "CityJSON", "version": "2.0",
              "transform": {"scale": [0.01, 0.01, 0.01], "translate": [1000, 2000, 0]},
              "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/7415"},
              "CityObjects": {}, "vertices": []}
    f1 = {"type": "CityJSONFeature", "id": "a",
          "CityObjects": {"a": {"type": "Building", "geometry": [
              {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}]}},
          "vertices": [[0, 0, 0], [100, 0, 0], [0, 100, 0]]}
    f2 = {"type": "CityJSONFeature", "id": "b",
          "CityObjects": {"b": {"type": "Building", "children": ["b-1"]},
                          "b-1": {"type": "BuildingPart", "parents": ["b"], "geometry": [
                              {"type": "Solid", "lod": "2", "boundaries": cube()}]}},
          "vertices": [[500 + 100 * x, 500 + 100 * y, 100 * z] for x, y, z in CUBE_VERTS]}
    p = tmp_path / "seq.city.jsonl"
    p.write_text("\n".join(json.dumps(o) for o in (header, f1, f2)) + "\n")
    m = loaders.read(p)
    assert m.metadata["sequence"] is True
    assert [f.id for f in m.features] == ["a", "b", "b-1"]
    assert m.crs.to_epsg() == 7415 and m.metadata["vertex_count_file"] == 11
    x = m.xyz()
    a = m.face_feature == m.feature_index("a")
    part = m.face_feature == m.feature_index("b-1")
    assert a.sum() == 1 and part.sum() == 12
    assert np.allclose(x[m.faces[a]].min(axis=(0, 1)), [1000, 2000, 0])
    assert np.allclose(x[m.faces[part]].min(axis=(0, 1)), [1005, 2005, 0])
    assert np.allclose(x[m.faces[part]].max(axis=(0, 1)), [1006, 2006, 1])
    assert m.feature("b-1").parent == "b"
    # a generic .jsonl name works too (by content)
    q = tmp_path / "seq.jsonl"
    q.write_bytes(p.read_bytes())
    assert loaders.read(q).triangle_count == 13


def test_partly_broken_file_loads_the_valid_objects(tmp_path: Path) -> None:
    verts = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    doc = city({"good": {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}]},
        "bad": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 50]]]}]},
        "mangled": {"type": "Building", "geometry": [
            {"type": "Solid", "lod": "1", "boundaries": [[0, 1, 2]]}]}}, verts)
    m = loaders.read(write(tmp_path / "partly.city.json", doc))
    assert [f.id for f in m.features] == ["good"]
    assert m.triangle_count == 1 and (m.face_feature == 0).all()
    skipped = " ".join(m.metadata["skipped"])
    assert "'bad'" in skipped and "50" in skipped and "'mangled'" in skipped
    assert m.metadata["invalid_geometries"] == 2
    assert any("invalid" in w for w in m.warnings)
    with pytest.raises(KeyError):
        m.feature("bad")


def test_malformed_boundaries_mixed_with_good_ones(tmp_path: Path) -> None:
    # the fast path fails on the string; the per-geometry check keeps the rest
    doc = city({"good": {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]],
         "semantics": {"surfaces": [{"type": "RoofSurface"}], "values": [0]}}]},
        "worse": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, None]]]}]}},
        [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    m = loaders.read(write(tmp_path / "mixed.city.json", doc))
    assert [f.id for f in m.features] == ["good"] and m.triangle_count == 1
    assert m.semantic_names == ["RoofSurface"] and m.face_semantic.tolist() == [0]


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    p = tmp_path / "broken.city.json"
    p.write_text('{"type": "CityJSON",\n "version": "2.0",\n "CityObjects": {,}\n}')
    with pytest.raises(LoadError) as info:
        loaders.read(p)
    msg = info.value.message
    assert "broken.city.json" in msg and "line 3" in msg and "column" in msg


@pytest.mark.parametrize("doc, words", [
    ({"type": "FeatureCollection", "features": []}, "not a CityJSON"),
    ({"type": "CityJSON", "version": "2.0", "CityObjects": {}}, "'vertices' is missing"),
    ({"type": "CityJSON", "version": "2.0", "vertices": []}, "'CityObjects' is missing"),
    ({"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": [[1, 2]]},
     "[x, y, z]"),
    ([1, 2, 3], "not a CityJSON"),
])
def test_structural_errors(tmp_path: Path, doc, words: str) -> None:
    p = tmp_path / "bad.city.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(LoadError) as info:
        loaders.read(p)
    assert words in info.value.message and "bad.city.json" in info.value.message


def test_unknown_version_reads_with_a_warning(tmp_path: Path) -> None:
    doc = city({"a": {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}]}},
        [[0, 0, 0], [1, 0, 0], [0, 1, 0]], version="9.9")
    m = loaders.read(write(tmp_path / "v99.city.json", doc))
    assert m.triangle_count == 1 and any("9.9" in w for w in m.warnings)


def test_unusable_reference_system_is_a_warning(tmp_path: Path) -> None:
    doc = city({}, [], metadata={"referenceSystem": "urn:ogc:def:crs:EPSG::999999999"})
    m = loaders.read(write(tmp_path / "crs.city.json", doc))
    assert m.crs is None and any("999999999" in w for w in m.warnings)


def test_cancel(tmp_path: Path) -> None:
    objects = {f"o{i}": {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}]}
        for i in range(5000)}
    p = write(tmp_path / "many.city.json", city(objects, [[0, 0, 0], [1, 0, 0], [0, 1, 0]]))
    seen: list[str] = []

    def cancel(fraction: float, message: str) -> None:
        seen.append(message)
        if message.startswith("reading city objects ("):
            raise LoadCancelled()

    with pytest.raises(LoadCancelled):
        loaders.read(p, cancel)
    assert seen[-1].startswith("reading city objects (")
    calls: list[float] = []
    m = loaders.read(p, lambda f, msg: calls.append(f))
    assert m.triangle_count == 5000 and calls[-1] == 1.0 and calls == sorted(calls)


def test_lod_names_and_reference_systems() -> None:
    assert cityjson.normalise_lod(2) == "2" and cityjson.normalise_lod(2.0) == "2"
    assert cityjson.normalise_lod(1.2) == "1.2" and cityjson.normalise_lod(" 2.2 ") == "2.2"
    assert sorted(["2.2", "10", "1", "1.3", "2"], key=cityjson.lod_key) == [
        "1", "1.3", "2", "2.2", "10"]
    f = cityjson.epsg_from_reference_system
    assert f("https://www.opengis.net/def/crs/EPSG/0/7415") == 7415
    assert f("http://www.opengis.net/def/crs/EPSG/0/2056") == 2056
    assert f("urn:ogc:def:crs:EPSG::7415") == 7415 and f("EPSG:28992") == 28992
    assert f("something else") is None


def test_synthetic_city_areas_and_closed_solids(tmp_path: Path) -> None:
    """The benchmark's synthetic city (gables, concave stars, courtyards with holes):
    triangulated area equals the polygons' area, and every LOD's solid is closed and
    outward (positive volume)."""
    from benchmarks.cityjson_bench import make_synthetic_city

    path = make_synthetic_city(40, tmp_path / "synthetic.city.json", seed=3)
    doc = json.loads(path.read_text())
    m = loaders.read(path)
    assert m.metadata["city_objects"] == {"Building": 40, "BuildingPart": 8}
    assert m.lod_names == ["1.2", "1.3", "2.2"] and m.metadata["default_lod"] == "2.2"
    assert m.metadata["degenerate_surfaces"] == 0 and m.metadata["skipped"] == []
    verts = np.array(doc["vertices"], float) * doc["transform"]["scale"] + doc["transform"][
        "translate"]
    verts -= verts.mean(axis=0)

    def vector_area(ring: list) -> np.ndarray:
        p = verts[ring] - verts[ring[0]]
        return np.cross(p, np.roll(p, -1, axis=0)).sum(axis=0) / 2

    expected = 0.0
    holes = 0
    for obj in doc["CityObjects"].values():
        for g in obj.get("geometry", []):
            for surface in g["boundaries"][0]:
                n = vector_area(surface[0])
                nh = n / np.linalg.norm(n)
                expected += np.linalg.norm(n) - sum(abs(vector_area(h) @ nh)
                                                    for h in surface[1:])
                holes += len(surface) - 1
    assert holes > 0
    x = verts  # same vertex order as the mesh (no instances)
    f = m.faces
    cr = np.cross(x[f[:, 1]] - x[f[:, 0]], x[f[:, 2]] - x[f[:, 0]])
    assert np.linalg.norm(cr, axis=1).sum() / 2 == pytest.approx(expected, rel=1e-9)
    vol = np.einsum("ij,ij->i", x[f[:, 0]], cr) / 6
    key = m.face_feature.astype(np.int64) * 3 + m.face_lod
    per_solid = np.bincount(key, weights=vol)[np.unique(key)]
    assert len(per_solid) == 40 * 3 and (per_solid > 1.0).all()


@pytest.mark.parametrize("materials, expected", [
    # plain opaque colours (all at once when there are many), clamped to 0..1, rounded half to even
    ([{"diffuseColor": [0.5, 0, 1.2]}, {"diffuseColor": [-1, 0.2, 0.3]}],
     [(128, 0, 255, 255), (0, 51, 76, 255)]),
    # transparency, unusable colours and non-objects (one material at a time)
    ([{"diffuseColor": [1, 1, 1], "transparency": 0.25},
      {"diffuseColor": [1, "x", 1], "transparency": "y"}],
     [(255, 255, 255, 191), (204, 204, 204, 255)]),
    ([{"diffuseColor": [0.1, 0.2]}, 7], [(204, 204, 204, 255)] * 2),
])
@pytest.mark.parametrize("few", [64, 0], ids=["one-at-a-time", "all-at-once"])
def test_material_colours(tmp_path: Path, monkeypatch, materials, expected, few) -> None:
    monkeypatch.setattr(cityjson, "_FEW_MATERIALS", few)
    geometry = [{"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]], [[0, 2, 3]]],
                 "material": {"theme": {"values": [0, 1]}}}]
    doc = city({"a": {"type": "Building", "geometry": geometry}},
               [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]],
               appearance={"materials": materials})
    m = loaders.read(write(tmp_path / "mat.city.json", doc))
    assert [tuple(c) for c in m.face_colors.tolist()] == expected


def test_triangulation_of_real_synthetic_and_broken_files(shared_data: Path,
                                                         tmp_path: Path) -> None:
    """The one triangulation path on the real files, on a synthetic city with concave
    roofs and courtyards (earcut), on partly broken files and on quads."""
    from benchmarks.cityjson_bench import make_synthetic_city

    files = sorted((shared_data / "citymodels").rglob("*.city.json"))
    files.append(make_synthetic_city(60, tmp_path / "synthetic.city.json", seed=7))
    # (the NaN makes orjson refuse the file, so json reads 2**70 as an integer)
    doc = city({"ok": {"type": "Building", "attributes": {"h": float("nan")}, "geometry": [
        {"type": "MultiSurface", "lod": "2", "boundaries": [[[0, 1, 2, 2, 0]], [[0, 1, 9]],
                                                            [[0, 0, 0]], [[3, 4, 5]]]}]},
        "bad": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "2", "boundaries": [[[0, 1, 77]]]}]},
        "flat": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2, 6, 2]]]}]},
        "float": {"type": "Building", "geometry": [
            {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1.5, 2]]]}]}},
        [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [2, 2, 0]])
    files.append(write(tmp_path / "partly.city.json", doc))
    # an index too large for any array, and nothing else wrong
    doc = city({"ok": {"type": "Building", "attributes": {"h": float("nan")}, "geometry": [
        {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}]},
        "huge": {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2**70]]]}]}},
        doc["vertices"])
    files.append(write(tmp_path / "huge.city.json", doc))
    # quads (their own fast path): convex, repeated vertices, concave from either end,
    # zero area, half of zero area
    quads = [[0, 1, 2, 3], [0, 1, 1, 2], [0, 1, 2, 0], [0, 1, 0, 2], [4, 5, 6, 7],
             [5, 6, 7, 4], [8, 9, 10, 11], [8, 9, 10, 12]]
    doc = city({"q": {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "1", "boundaries": [[q] for q in quads]}]}},
        [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
         [0, 0, 0], [2, 1, 0], [0, 2, 0], [0.5, 1, 0],
         [0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0], [1, 1, 0]])
    files.append(write(tmp_path / "quads.city.json", doc))
    assert len(files) >= 7
    for path in files:
        a = loaders.read(path)
        assert a.triangle_count > 0, path.name
        skipped = " ".join(a.metadata["skipped"])
        if path.name == "partly.city.json":
            assert "vertex 77" in skipped and "'1.5' is not an integer" in skipped
        if path.name == "huge.city.json":
            assert f"'{2**70}'"[:21] in skipped and "is not an integer" in skipped
        if path.name == "quads.city.json":
            assert a.faces.tolist() == [[0, 1, 2], [0, 2, 3], [0, 1, 2], [1, 2, 0],
                                        [7, 4, 5], [7, 5, 6], [5, 6, 7], [5, 7, 4],
                                        [8, 10, 12]]
            assert a.metadata["degenerate_surfaces"] == 2


def test_json_the_standard_library_reads_but_orjson_does_not(tmp_path: Path) -> None:
    """NaN literals and a UTF-8 byte-order mark: orjson refuses them, json reads them."""
    text = json.dumps(city({"a": {"type": "Building", "attributes": {"h": float("nan")},
                                  "geometry": [{"type": "MultiSurface", "lod": "1",
                                                "boundaries": [[[0, 1, 2]]]}]}},
                           [[0, 0, 0], [1, 0, 0], [0, 1, 0]]))
    assert "NaN" in text
    p = tmp_path / "nan.city.json"
    p.write_bytes(b"\xef\xbb\xbf" + text.encode())
    m = loaders.read(p)
    assert m.triangle_count == 1 and np.isnan(m.features[0].attributes["h"])


def test_garbage_collector_left_alone(tmp_path: Path) -> None:
    """The reader does not switch Python's garbage collector off (no process-wide
    state changed by a library), also while it reads."""
    import gc

    p = write(tmp_path / "one.city.json", city({}, []))
    assert gc.isenabled()
    during: list[bool] = []
    loaders.read(p, lambda fraction, message: during.append(gc.isenabled()))
    assert during and all(during)
    gc.disable()
    try:
        loaders.read(p, lambda fraction, message: during.append(gc.isenabled()))
        assert not gc.isenabled()
    finally:
        gc.enable()
