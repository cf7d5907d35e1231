"""CityJSON from others: object types the specification does not define, duplicate ids in
a CityJSONSeq, template reference points outside the model, and memory that stays
proportional to the file. Every input is built in the test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import loaders
from loaders.formats import cityjson
from tests.loaders.test_cityjson import CUBE_VERTS, city, cube, write


def _tri(lod="1"):
    return [{"type": "MultiSurface", "lod": lod, "boundaries": [[[0, 1, 2]]]}]


TRI = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]


# ---------------------------------------------------------------------------- types


def test_unknown_object_types_are_named_in_a_warning(tmp_path: Path) -> None:
    doc = city({"a": {"type": "Building", "geometry": _tri()},
                "b": {"type": "Skyscraper", "geometry": _tri()},
                "c": {"type": "Skyscraper"},
                "d": {"type": "+NoiseBarrier", "geometry": _tri()},  # an extension type
                "e": {"type": "TransportSquare", "geometry": _tri()},  # 1.x/2.0 name
                "f": {"type": "building", "geometry": _tri()}}, TRI)  # wrong case
    m = loaders.read(write(tmp_path / "types.city.json", doc))
    assert m.metadata["unknown_types"] == ["Skyscraper", "building"]
    warned = [w for w in m.warnings if "does not define" in w]
    assert len(warned) == 1, m.warnings
    assert "'Skyscraper' (2)" in warned[0] and "'building' (1)" in warned[0]
    assert "3 city objects of 2 types" in warned[0] and "generic" in warned[0]
    assert "NoiseBarrier" not in warned[0] and "TransportSquare" not in warned[0]
    # still loaded, with their type kept
    assert m.feature("b").type == "Skyscraper" and m.feature("c").type == "Skyscraper"
    assert (m.face_feature == m.feature_index("b")).sum() == 1
    assert m.triangle_count == 5


def test_known_and_extension_types_give_no_warning(tmp_path: Path) -> None:
    types = sorted(cityjson.SPEC_TYPES) + ["+Extra"]
    doc = city({f"o{i}": {"type": t, "geometry": _tri()} for i, t in enumerate(types)}, TRI)
    m = loaders.read(write(tmp_path / "all.city.json", doc))
    assert m.metadata["unknown_types"] == []
    assert not [w for w in m.warnings if "type" in w], m.warnings


# ---------------------------------------------------------------------------- CityJSONSeq ids


def _seq(tmp_path: Path, *features) -> Path:
    header = {"type": "CityJSON", "version": "2.0",
              "transform": {"scale": [1, 1, 1], "translate": [0, 0, 0]},
              "CityObjects": {}, "vertices": []}
    p = tmp_path / "dups.city.jsonl"
    p.write_text("\n".join(json.dumps(o) for o in (header, *features)) + "\n")
    return p


def _feature(fid, objects, shift):
    return {"type": "CityJSONFeature", "id": fid, "CityObjects": objects,
            "vertices": [[shift + x, y, z] for x, y, z in TRI]}


def test_duplicate_ids_in_cityjsonseq_are_kept_and_reported(tmp_path: Path) -> None:
    p = _seq(tmp_path,
             _feature("a", {"a": {"type": "Building", "geometry": _tri(),
                                  "attributes": {"n": 1}}}, 0),
             _feature("b", {"b": {"type": "Building", "geometry": _tri()}}, 10),
             _feature("a", {"a": {"type": "Building", "geometry": _tri(),
                                  "attributes": {"n": 2}}}, 20),
             _feature("a", {"a": {"type": "Building", "geometry": _tri(),
                                  "attributes": {"n": 3}}}, 30))
    m = loaders.read(p)
    ids = [f.id for f in m.features]
    assert ids == ["a", "b", "a#2", "a#3"]  # nothing merged or overwritten
    assert [m.feature(i).attributes["n"] for i in ("a", "a#2", "a#3")] == [1, 2, 3]
    x = m.xyz()
    for fid, shift in (("a", 0), ("b", 10), ("a#2", 20), ("a#3", 30)):
        faces = m.faces[m.face_feature == m.feature_index(fid)]
        assert len(faces) == 1 and x[faces].min(axis=(0, 1))[0] == shift
    assert m.metadata["duplicate_ids"] == {"a": {"lines": [2, 4, 5],
                                                 "renamed": ["a#2", "a#3"]}}
    warned = [w for w in m.warnings if "more than one line" in w]
    assert len(warned) == 1 and "'a'" in warned[0] and "lines 2, 4, 5" in warned[0]
    assert "a#2" in warned[0]


def test_unique_ids_in_cityjsonseq_give_no_warning(tmp_path: Path) -> None:
    p = _seq(tmp_path, _feature("a", {"a": {"type": "Building", "geometry": _tri()}}, 0),
             _feature("b", {"b": {"type": "Building", "geometry": _tri()}}, 10))
    m = loaders.read(p)
    assert [f.id for f in m.features] == ["a", "b"] and "duplicate_ids" not in m.metadata
    assert not [w for w in m.warnings if "line" in w], m.warnings


def test_renamed_copy_does_not_clash_with_an_existing_id(tmp_path: Path) -> None:
    p = _seq(tmp_path, _feature("a", {"a": {"type": "Building", "geometry": _tri()},
                                      "a#2": {"type": "Building", "geometry": _tri()}}, 0),
             _feature("a", {"a": {"type": "Building", "geometry": _tri()}}, 10))
    ids = [f.id for f in loaders.read(p).features]
    assert len(ids) == len(set(ids)) == 3 and ids[2] == "a#3"


# ---------------------------------------------------------------------------- templates


def _template_doc(extra_vertices=()):
    templates = {"templates": [{"type": "MultiSurface", "lod": "2",
                                "boundaries": [[[0, 1, 2, 3]]]}],
                 "vertices-templates": [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]}
    # the reference point lies far away from everything drawn: the instance is moved by
    # the matrix's translation back next to the building
    instance = {"type": "GeometryInstance", "template": 0, "boundaries": [8],
                "transformationMatrix": [1, 0, 0, -995, 0, 1, 0, -995, 0, 0, 1, -1000,
                                         0, 0, 0, 1]}
    doc = city({"house": {"type": "Building", "geometry": [
                    {"type": "Solid", "lod": "2", "boundaries": cube()}]},
                "tree": {"type": "SolitaryVegetationObject", "geometry": [instance]}},
               CUBE_VERTS + [[1000, 1000, 1000]] + list(extra_vertices))
    doc["geometry-templates"] = templates
    return doc


def test_template_reference_point_is_not_part_of_the_bounds(tmp_path: Path) -> None:
    m = loaders.read(write(tmp_path / "tpl.city.json", _template_doc()))
    lo, hi = m.bounds
    # the cube (0..1) and the instance (5..6, 5..6, 0) only; not (1000, 1000, 1000)
    assert np.allclose(lo, [0, 0, 0]) and np.allclose(hi, [6, 6, 1]), (lo, hi)
    assert m.metadata["reference_points_dropped"] == 1
    x = m.xyz()
    tree = m.faces[m.face_feature == m.feature_index("tree")]
    assert np.allclose(x[tree].min(axis=(0, 1)), [5, 5, 0])
    assert np.allclose(x[tree].max(axis=(0, 1)), [6, 6, 0])
    assert m.faces.max() < m.vertex_count and m.triangle_count == 12 + 2


def test_reference_point_used_by_a_surface_stays(tmp_path: Path) -> None:
    """A vertex that is a reference point and also a corner of a drawn surface is kept."""
    doc = _template_doc([[1000, 1001, 1000], [1001, 1000, 1000]])
    doc["CityObjects"]["roof"] = {"type": "Building", "geometry": [
        {"type": "MultiSurface", "lod": "2", "boundaries": [[[8, 10, 9]]]}]}
    m = loaders.read(write(tmp_path / "tpl2.city.json", doc))
    lo, hi = m.bounds
    assert np.allclose(hi, [1001, 1001, 1000]) and np.allclose(lo, [0, 0, 0])
    assert "reference_points_dropped" not in m.metadata


# ---------------------------------------------------------------------------- memory


def _synthetic_city(path: Path, n: int, seed: int = 1, seq: bool = False) -> Path:
    """``n`` buildings: prisms on 4- to 12-gon footprints (some concave, some with a
    courtyard hole) as LOD 2 Solids with Ground/Roof/Wall semantics and attributes; CityJSON
    2.0 with a transform, written compactly as exporters do (``seq``: as CityJSONSeq, one
    building a line with its own vertices)."""
    rng = np.random.default_rng(seed)
    verts: list[list[int]] = []
    objects = {}
    side = int(np.ceil(np.sqrt(n)))
    for b in range(n):
        cx, cy = (b % side) * 30_000, (b // side) * 30_000
        k = int(rng.integers(4, 13))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(5_000, 12_000, k) * np.where(np.arange(k) % 3 == 2, 0.5, 1.0)
        h = int(rng.integers(3_000, 30_000))
        base = len(verts)
        for a, r in zip(ang, rad, strict=True):
            x, y = cx + int(r * np.cos(a)), cy + int(r * np.sin(a))
            verts += [[x, y, 0], [x, y, h]]
        ground = [base + 2 * i for i in range(k)][::-1]
        roof = [base + 2 * i + 1 for i in range(k)]
        walls = [[[base + 2 * i, base + 2 * ((i + 1) % k), base + 2 * ((i + 1) % k) + 1,
                   base + 2 * i + 1]] for i in range(k)]
        shell = [[ground], [roof]] + walls
        if b % 4 == 0:  # a courtyard: a hole in the ground and the roof
            hb = len(verts)
            sq = [(-1500, -1500), (1500, -1500), (1500, 1500), (-1500, 1500)]
            verts += [[cx + dx, cy + dy, z] for dx, dy in sq for z in (0, h)]
            shell[0].append([hb + 0, hb + 2, hb + 4, hb + 6])
            shell[1].append([hb + 7, hb + 5, hb + 3, hb + 1])
        objects[f"NL.IMBAG.Pand.{b:010d}"] = {
            "type": "Building",
            "attributes": {"yearOfConstruction": int(rng.integers(1600, 2024)),
                           "function": "residential", "measuredHeight": h / 1000,
                           "identificatie": f"NL.IMBAG.Pand.{b:010d}"},
            "geometry": [{"type": "Solid", "lod": "2.2", "boundaries": [shell],
                          "semantics": {"surfaces": [{"type": "GroundSurface"},
                                                     {"type": "RoofSurface"},
                                                     {"type": "WallSurface"}],
                                        "values": [[0, 1] + [2] * k]}}]}
    transform = {"scale": [0.001, 0.001, 0.001], "translate": [85000, 446000, 0]}
    if not seq:
        doc = city(objects, verts, transform=transform)
        path.write_bytes(json.dumps(doc, separators=(",", ":")).encode())
        return path

    def local(b, base):
        return [local(x, base) for x in b] if isinstance(b, list) else b - base

    lines = [city({}, [], transform=transform)]
    for oid, obj in objects.items():
        shell = obj["geometry"][0]["boundaries"]
        base = min(v for surf in shell[0] for ring in surf for v in ring)
        top = max(v for surf in shell[0] for ring in surf for v in ring) + 1
        obj["geometry"][0]["boundaries"] = local(shell, base)
        lines.append({"type": "CityJSONFeature", "id": oid, "CityObjects": {oid: obj},
                      "vertices": verts[base:top]})
    path.write_bytes(b"\n".join(json.dumps(x, separators=(",", ":")).encode()
                                for x in lines) + b"\n")
    return path


def _peaks(path: Path, name: str = "_parse_structs") -> tuple[int, int, object]:
    """(peak of the whole read, peak after the JSON was parsed by ``name``) in bytes, with
    tracemalloc; the parse itself is the floor of the first."""
    import tracemalloc

    parse = getattr(cityjson, name)

    def parse_then_reset(raw):
        doc = parse(raw)
        nonlocal whole
        whole = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()  # from here on: our own processing, tree still alive
        return doc

    whole = 0
    setattr(cityjson, name, parse_then_reset)
    tracemalloc.start()
    try:
        mesh = cityjson.read(path)
        after = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        setattr(cityjson, name, parse)
    return max(whole, after), after, mesh


def test_memory_stays_proportional_to_the_file(tmp_path: Path, monkeypatch) -> None:
    path = _synthetic_city(tmp_path / "city.city.json", 4500)
    size = path.stat().st_size
    warm = city({"a": {"type": "Building", "geometry": _tri()}}, TRI)
    loaders.read(write(tmp_path / "warm.city.json", warm))  # imports (pyproj) not counted
    whole, after_parse, mesh = _peaks(path)
    assert mesh.triangle_count > 100_000 and len(mesh.features) == 4500
    assert size > cityjson.SPLIT_MIN_BYTES
    # Measured on this 4.8 MB model: msgspec's parse 3.0x the file (boundaries and
    # vertices stay JSON text), the whole read 7.5x (its peak is the triangulation's).
    # Before (every list parsed into Python objects by orjson) the parse was the peak,
    # 14.6x with the vertices parsed apart, 20.7x in one call; after the parse 8.7x.
    assert whole < 10 * size, whole / size
    # files msgspec refuses (a NaN, a geometry that is not an object...) take the JSON
    # tree path: its bounds as before
    monkeypatch.setattr(cityjson, "_parse_structs", lambda raw: None)
    whole, after_parse, same = _peaks(path, "_parse_document")
    assert np.array_equal(same.faces, mesh.faces)
    assert after_parse < 12 * size, after_parse / size
    assert whole < 18 * size, whole / size


def test_cityjsonseq_memory_stays_proportional(tmp_path: Path) -> None:
    """CityJSONSeq lines are parsed one at a time: the JSON trees of all lines are never
    alive together (measured on this 4.5 MB file: 7.6x the file; 18.4x when every line was
    parsed first)."""
    path = _synthetic_city(tmp_path / "city.city.jsonl", 4500, seq=True)
    size = path.stat().st_size
    warm = city({"a": {"type": "Building", "geometry": _tri()}}, TRI)
    loaders.read(write(tmp_path / "warm.city.json", warm))  # imports (pyproj) not counted
    whole, _, mesh = _peaks(path)
    assert mesh.metadata["sequence"] and len(mesh.features) == 4500
    assert mesh.triangle_count > 100_000 and not [w for w in mesh.warnings if "line" in w]
    same = cityjson.read(_synthetic_city(tmp_path / "one.city.json", 4500))
    assert np.array_equal(mesh.faces, same.faces)
    assert np.allclose(mesh.xyz(), same.xyz(), rtol=0, atol=1e-6)
    assert whole < 11 * size, whole / size


def _read_both_ways(path: Path, monkeypatch):
    monkeypatch.setattr(cityjson, "_parse_structs", lambda raw: None)  # the JSON tree path
    monkeypatch.setattr(cityjson, "SPLIT_MIN_BYTES", 1 << 62)
    one = cityjson.read(path)
    monkeypatch.setattr(cityjson, "SPLIT_MIN_BYTES", 0)
    split = cityjson.read(path)
    for name in ("vertices", "origin", "faces", "face_feature", "face_semantic", "face_lod"):
        assert np.array_equal(getattr(one, name), getattr(split, name)), name
    assert [f.id for f in one.features] == [f.id for f in split.features]
    assert [f.attributes for f in one.features] == [f.attributes for f in split.features]
    assert one.metadata["warnings"] == split.metadata["warnings"]
    return split


@pytest.mark.parametrize("case", ["compact", "pretty", "decoy_first", "decoy_last",
                                  "text_in_vertices", "two_vertices_keys"])
def test_vertices_parsed_apart_give_the_same_model(tmp_path: Path, monkeypatch, case):
    doc = city({"a": {"type": "Building", "geometry": [
        {"type": "Solid", "lod": "2", "boundaries": cube()}],
        "attributes": {"vertices": [[7, 7, 7]], "note": '"vertices": [[9, 9, 9]]'}}},
        CUBE_VERTS)
    text = json.dumps(doc, indent=2 if case == "pretty" else None)
    if case == "decoy_first":  # an object whose "vertices" key comes before the real one
        doc = {"metadata": {"vertices": [[5, 5, 5]]}, **doc}
        text = json.dumps(doc)
    elif case == "decoy_last":  # the real one first, another object's after it
        doc = {"vertices": doc.pop("vertices"), **doc, "metadata": {"vertices": [[5, 5, 5]]}}
        text = json.dumps(doc)
    elif case == "text_in_vertices":
        text = json.dumps(doc).replace("[[0, 0, 0]", '[["0", 0, 0]')
    elif case == "two_vertices_keys":  # JSON keeps the last one
        text = json.dumps(doc)[:-1] + ', "vertices": ' + json.dumps(
            [[x + 10, y, z] for x, y, z in CUBE_VERTS]) + "}"
    path = tmp_path / "v.city.json"
    path.write_text(text)
    raw = path.read_bytes()
    taken = cityjson.parse_split(raw) is not None
    assert taken == (case not in ("decoy_last", "text_in_vertices"))
    m = _read_both_ways(path, monkeypatch)
    if case != "text_in_vertices":
        assert m.triangle_count == 12
    if case == "two_vertices_keys":
        assert np.allclose(m.bounds[0], [10, 0, 0])


def test_synthetic_city_parsed_apart_is_identical(tmp_path: Path, monkeypatch):
    path = _synthetic_city(tmp_path / "city.city.json", 300)
    assert cityjson.parse_split(path.read_bytes()) is not None
    _read_both_ways(path, monkeypatch)
