"""Attribute queries, filters and colouring over FeatureMesh features (viewer.features)."""

from __future__ import annotations

import numpy as np
import pytest

from loaders import Feature, FeatureMesh
from viewer.colors import apply_colormap
from viewer.features import (
    CATEGORY_PALETTE,
    NO_VALUE_COLOR,
    OTHER_COLOR,
    SEMANTIC_COLORS,
    SEMANTIC_NONE_COLOR,
    attribute_names,
    color_by_attribute,
    color_by_semantics,
    compile_filter,
    face_mask,
    feature_values,
    filter_mask,
    search_features,
)


def _model() -> FeatureMesh:
    """A small city model.

    features: 0 B1 Building (with parts 1, 2), 1 B1-p1 BuildingPart (own height),
    2 B1-p2 BuildingPart (no attributes), 3 B2 Building, 4 W1 IfcWall in a storey,
    5 R1 Road (no attributes); faces: 2 per feature except B1 (geometry in its parts).
    """
    features = [
        Feature("B1", "Building", attributes={
            "yearOfConstruction": 1923, "function": "residential", "measuredHeight": 12.5,
            "bgt_status": "bestaand", "address": {"city": "Delft", "number": 7}},
            children=["B1-p1", "B1-p2"]),
        Feature("B1-p1", "BuildingPart", attributes={"measuredHeight": 8.0},
                parent="B1"),
        Feature("B1-p2", "BuildingPart", parent="B1"),
        Feature("B2", "Building", name="Town Hall", attributes={
            "yearOfConstruction": "1975", "function": "office", "measuredHeight": 21.0,
            "bgt_status": "plan"}),
        Feature("W1", "IfcWall", name="Basic Wall:Exterior", storey="Level 1",
                attributes={"Name": "Basic Wall:Exterior"},
                properties={"Pset_WallCommon": {"IsExternal": True, "Fire Rating": "EI60"},
                            "Qto_WallBaseQuantities": {"Length": 4.2}}),
        Feature("R1", "Road"),
    ]
    face_feature = np.array([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, -1], np.int32)
    m = len(face_feature)
    faces = np.tile(np.array([[0, 1, 2]], np.int32), (m, 1))
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
    face_semantic = np.array([0, 1, 0, 1, 2, 1, -1, -1, 3, 4, -1], np.int16)
    return FeatureMesh(vertices, np.zeros(3), faces, features=features,
                       face_feature=face_feature, face_semantic=face_semantic,
                       semantic_names=["RoofSurface", "WallSurface", "GroundSurface",
                                       "WaterSurface", "MysterySurface"],
                       model_format="CityJSON")


def _ids(model, mask):
    return [f.id for f, keep in zip(model.features, mask, strict=True) if keep]


# --------------------------------------------------------------------------------------
# names and values
# --------------------------------------------------------------------------------------


def test_attribute_names_and_values():
    model = _model()
    names = attribute_names(model)
    assert names[:4] == ["type", "id", "name", "storey"]
    for name in ("yearOfConstruction", "function", "measuredHeight", "address.city",
                 "Pset_WallCommon.IsExternal", "Pset_WallCommon.Fire Rating",
                 "Qto_WallBaseQuantities.Length", "Name"):
        assert name in names
    assert len(names) == len(set(names))
    assert feature_values(model, "type") == ["Building", "BuildingPart", "BuildingPart",
                                             "Building", "IfcWall", "Road"]
    assert feature_values(model, "name") == [None, None, None, "Town Hall",
                                             "Basic Wall:Exterior", None]
    assert feature_values(model, "storey") == [None] * 4 + ["Level 1", None]
    assert feature_values(model, "measuredHeight") == [12.5, 8.0, None, 21.0, None, None]
    assert feature_values(model, "Pset_WallCommon.IsExternal")[4] is True
    assert feature_values(model, "address.city")[0] == "Delft"
    assert feature_values(model, "nope") == [None] * 6


# --------------------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("expr, expected", [
    ('type == "Building" and yearOfConstruction < 1950', ["B1"]),
    ("measuredHeight >= 10", ["B1", "B2"]),
    ('function in ["residential", "office"]', ["B1", "B2"]),
    ('not (bgt_status == "bestaand")', ["B1-p1", "B1-p2", "B2", "W1", "R1"]),
    ('"Hall" in name', ["B2"]),
    ("yearOfConstruction > 1950", ["B2"]),            # "1975" compares as a number
    ("measuredHeight != 8", ["B1", "B2"]),             # missing -> False, not True
    ("measuredHeight is None", ["B1-p2", "W1", "R1"]),
    ("measuredHeight is not None and measuredHeight < 10", ["B1-p1"]),
    ("`Pset_WallCommon.IsExternal` == True", ["W1"]),
    ("Pset_WallCommon.IsExternal", ["W1"]),
    ('`Pset_WallCommon.Fire Rating` == "EI60"', ["W1"]),
    ('attr("Pset_WallCommon.Fire Rating") == "EI60"', ["W1"]),
    ("Qto_WallBaseQuantities.Length * 2 > 8", ["W1"]),
    ('address.city == "Delft"', ["B1"]),
    ('lower(type) == "road" or storey == "Level 1"', ["W1", "R1"]),
    ("exists(yearOfConstruction)", ["B1", "B2"]),
    ("10 <= measuredHeight < 20", ["B1"]),
    ("-measuredHeight < -20", ["B2"]),
    ('id not in ["B1", "B2"] and type == "BuildingPart"', ["B1-p1", "B1-p2"]),
    ('type == "Building" and (function == "office" or measuredHeight < 13)', ["B1", "B2"]),
    ("measuredHeight < function", []),                 # number vs text: False, no error
    ("measuredHeight / 0 > 1", []),
    ("", ["B1", "B1-p1", "B1-p2", "B2", "W1", "R1"]),
])
def test_filters(expr, expected):
    model = _model()
    mask = filter_mask(model, expr)
    assert mask.dtype == bool and mask.shape == (6,)
    assert _ids(model, mask) == expected


@pytest.mark.parametrize("expr, message", [
    ("__import__('os')", "calling __import__ is not allowed"),
    ("__import__('os').system('echo hi')", "not allowed"),
    ("open('/etc/passwd')", "calling open is not allowed"),
    ("type.__class__.__mro__[1]", "indexing"),
    ("(lambda: 1)()", "not allowed"),
    ("[x for x in type]", "comprehension"),
    ("2 ** 100000", "'\\*\\*'"),
    ("measuredHeight >", "column"),
    ('type == "Building', "column"),
    ("type = 'Building'", "column"),
    ("`unclosed == 1", "unclosed backquote"),
    ("type is 'Building'", "only test for None"),
    ('attr(type) == 1', "in quotes"),
    ("f'{type}' == 'x'", "f-string"),
    ("{1: 2}", "a dict"),
    ("lower", "lower is a function"),
])
def test_bad_or_unsafe_filters_raise_value_error(expr, message):
    with pytest.raises(ValueError, match=message):
        compile_filter(expr)


def test_error_message_points_at_the_problem():
    with pytest.raises(ValueError) as info:
        compile_filter('measuredHeight > 3 and open("x")')
    text = str(info.value)
    assert "column 24" in text and 'open("x")' in text and "^" in text
    with pytest.raises(ValueError) as info:
        compile_filter('`Pset.A B` > 1 and os.system("x")')
    assert "column 20" in str(info.value)


def test_filter_never_raises_on_odd_values():
    predicate = compile_filter("a < 3 or b in c or d + 1 > 2 or lower(e) == 'x'")
    odd = Feature("x", "T", attributes={"a": [1, 2], "b": {"k": 1}, "c": 5, "d": "text",
                                        "e": 3})
    assert predicate(odd) is False
    assert predicate(Feature("y", "T")) is False


def test_filter_mask_accepts_a_predicate():
    model = _model()
    mask = filter_mask(model, lambda f: f.type == "Road")
    assert _ids(model, mask) == ["R1"]


# --------------------------------------------------------------------------------------
# masks
# --------------------------------------------------------------------------------------


def test_face_mask_includes_children():
    model = _model()
    mask = filter_mask(model, 'type == "Building" and function == "residential"')
    assert _ids(model, mask) == ["B1"]
    faces = face_mask(model, mask)
    assert faces.dtype == bool and faces.shape == (11,)
    # B1 has no faces of its own: its parts' faces are shown
    assert np.flatnonzero(faces).tolist() == [0, 1, 2, 3]
    assert not face_mask(model, mask, include_children=False).any()
    # a part alone selects only its own faces
    faces = face_mask(model, filter_mask(model, 'id == "B1-p2"'))
    assert np.flatnonzero(faces).tolist() == [2, 3]
    with pytest.raises(ValueError, match="entries"):
        face_mask(model, np.ones(3, bool))


def test_face_mask_uses_children_lists_and_deep_nesting():
    features = [Feature("site", "Site", children=["bld"]),
                Feature("bld", "Building", children=["storey"]),  # no parent field
                Feature("storey", "IfcBuildingStorey", parent="bld"),
                Feature("wall", "IfcWall", parent="storey"),
                Feature("other", "IfcWall")]
    faces = np.zeros((3, 3), np.int32)
    model = FeatureMesh(np.zeros((3, 3), np.float32), np.zeros(3), faces,
                        features=features, face_feature=np.array([3, 4, 2], np.int32))
    faces_on = face_mask(model, filter_mask(model, 'id == "site"'))
    assert faces_on.tolist() == [True, False, True]


# --------------------------------------------------------------------------------------
# colouring
# --------------------------------------------------------------------------------------


def test_color_by_numeric_attribute():
    model = _model()
    colors, legend = color_by_attribute(model, "measuredHeight", colormap="viridis")
    assert colors.shape == (11, 4) and colors.dtype == np.uint8
    assert (colors[:, 3] == 255).all()
    assert legend["kind"] == "numeric" and legend["name"] == "measuredHeight"
    # B1 has no faces: the range is that of the drawn features (parts inherit from B1)
    assert legend["min"] == 8.0 and legend["max"] == 21.0
    assert legend["colormap"] == "viridis"
    assert legend["no_value"] == NO_VALUE_COLOR
    expect = apply_colormap(np.array([8.0, 12.5, 21.0]), 8.0, 21.0, "viridis")
    assert colors[0, :3].tolist() == expect[0].tolist()      # B1-p1: own value 8
    assert colors[2, :3].tolist() == expect[1].tolist()      # B1-p2: inherits 12.5
    assert colors[4, :3].tolist() == expect[2].tolist()      # B2: 21
    for face in (6, 8, 10):                                   # W1, R1, no feature
        assert colors[face, :3].tolist() == list(NO_VALUE_COLOR)


def test_color_by_categorical_attribute():
    model = _model()
    colors, legend = color_by_attribute(model, "type")
    assert legend["kind"] == "categorical" and legend["name"] == "type"
    entries = dict(legend["entries"])
    # counted over drawn features: 2 BuildingParts first, then alphabetical
    labels = [label for label, _ in legend["entries"]]
    assert labels == ["BuildingPart", "Building", "IfcWall", "Road", "no value"]
    assert entries["BuildingPart"] == CATEGORY_PALETTE[0]
    assert colors[0, :3].tolist() == list(CATEGORY_PALETTE[0])
    assert colors[4, :3].tolist() == list(entries["Building"])
    assert colors[10, :3].tolist() == list(NO_VALUE_COLOR)   # face without feature
    assert entries["no value"] == NO_VALUE_COLOR

    # children inherit categorical values; features without any are "no value"
    colors, legend = color_by_attribute(model, "function")
    entries = dict(legend["entries"])
    assert colors[2, :3].tolist() == list(entries["residential"])   # B1-p2 from B1
    assert colors[6, :3].tolist() == list(NO_VALUE_COLOR)           # W1
    assert legend["counts"]["residential"] == 2 and legend["counts"]["office"] == 1
    assert legend["counts"]["no value"] == 2


def test_categorical_colouring_groups_the_rest_as_other():
    features = [Feature(f"f{i}", "Building", attributes={"code": f"c{i % 15:02d}"})
                for i in range(40)]
    n = len(features)
    model = FeatureMesh(np.zeros((3, 3), np.float32), np.zeros(3),
                        np.zeros((n, 3), np.int32), features=features,
                        face_feature=np.arange(n, dtype=np.int32))
    colors, legend = color_by_attribute(model, "code")
    labels = [label for label, _ in legend["entries"]]
    assert len(labels) == len(CATEGORY_PALETTE) + 1 and labels[-1] == "other"
    # most frequent first: c00..c09 appear 3 times, c10..c14 twice
    assert labels[:10] == [f"c{i:02d}" for i in range(10)]
    assert "no value" not in labels
    assert legend["counts"]["other"] == 6
    assert colors[14, :3].tolist() == list(OTHER_COLOR)   # code c14
    assert len({tuple(c) for _, c in legend["entries"]}) == len(legend["entries"])


def test_numeric_colouring_with_a_single_value_and_no_values():
    model = _model()
    colors, legend = color_by_attribute(model, "Qto_WallBaseQuantities.Length")
    assert legend["kind"] == "numeric" and legend["min"] == legend["max"] == 4.2
    colors, legend = color_by_attribute(model, "does not exist")
    assert legend["kind"] == "categorical"
    assert legend["entries"] == [("no value", NO_VALUE_COLOR)]
    assert (colors[:, :3] == NO_VALUE_COLOR).all()


def test_color_by_semantics():
    model = _model()
    colors, legend = color_by_semantics(model)
    assert colors.shape == (11, 4) and colors.dtype == np.uint8
    assert colors[0, :3].tolist() == list(SEMANTIC_COLORS["RoofSurface"])
    assert colors[1, :3].tolist() == list(SEMANTIC_COLORS["WallSurface"])
    assert colors[4, :3].tolist() == list(SEMANTIC_COLORS["GroundSurface"])
    assert colors[8, :3].tolist() == list(SEMANTIC_COLORS["WaterSurface"])
    assert colors[6, :3].tolist() == list(SEMANTIC_NONE_COLOR)
    roof, wall, ground = (np.array(SEMANTIC_COLORS[k]) for k in
                          ("RoofSurface", "WallSurface", "GroundSurface"))
    assert roof[0] > roof[1] and roof[0] > roof[2]             # reddish
    assert wall.min() > 180 and ground.max() < 120           # light wall, dark ground
    assert SEMANTIC_COLORS["Window"][2] > SEMANTIC_COLORS["Window"][0]
    labels = [label for label, _ in legend["entries"]]
    assert labels[0] == "WallSurface" and labels[-1] == "none"
    assert set(labels) == {"RoofSurface", "WallSurface", "GroundSurface", "WaterSurface",
                           "MysterySurface", "none"}
    assert legend["counts"]["WallSurface"] == 3 and legend["counts"]["none"] == 3
    mystery = dict(legend["entries"])["MysterySurface"]
    assert colors[9, :3].tolist() == list(mystery)
    assert mystery not in (SEMANTIC_NONE_COLOR,)


# --------------------------------------------------------------------------------------
# search
# --------------------------------------------------------------------------------------


def test_search_features():
    model = _model()
    assert search_features(model, "B1") == [0, 1, 2]           # exact id first
    assert search_features(model, "b1-P2") == [2]
    assert search_features(model, "hall") == [3]
    assert search_features(model, "buildingpart") == [1, 2]
    assert search_features(model, "building")[:2] == [0, 3]    # prefix of type ranks low
    assert set(search_features(model, "building")) == {0, 1, 2, 3}
    assert search_features(model, "wall") == [4]
    assert search_features(model, "  ") == []
    assert search_features(model, "zzz") == []
    assert search_features(model, "B", limit=2) == [0, 1]
