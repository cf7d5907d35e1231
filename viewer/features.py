"""Attribute queries over the features of a city model or building model (no Qt, no VTK).

Works on a :class:`loaders.FeatureMesh` and returns plain values and numpy arrays:

- :func:`attribute_names`, :func:`feature_values` -- what can be queried;
- :func:`compile_filter`, :func:`filter_mask`, :func:`face_mask` -- a small, safe
  attribute expression language (``type == "Building" and yearOfConstruction < 1950``)
  evaluated per feature, and the triangles of the matching features (children of a
  matching feature included);
- :func:`color_by_attribute`, :func:`color_by_semantics` -- per-face RGBA colours and a
  legend;
- :func:`search_features` -- find features by id, name or type.

Attribute names
---------------
A feature's value for a name is looked up in this order: the pseudo-attributes ``type``,
``id``, ``name`` and ``storey`` (empty -> None); its own ``attributes`` (nested objects
are also reachable as ``"outer.inner"``); its ``properties`` as ``"Group.Prop"``. A name
that is not found gives None.

Filter expressions
------------------
Python syntax, parsed with :mod:`ast` and checked against a whitelist; nothing is ever
passed to ``eval``. Allowed:

- comparisons ``== != < <= > >=``, ``in`` / ``not in`` (list membership or substring),
  ``is None`` / ``is not None``; chained comparisons ``10 <= h < 20``;
- ``and``, ``or``, ``not``, parentheses; ``+ - * / %`` on numbers;
- numbers, strings in quotes, ``True``, ``False``, ``None``, lists ``[...]``;
- attribute names: bare (``measuredHeight``), dotted (``Pset_WallCommon.IsExternal``),
  backquoted for any name (```Pset_WallCommon.Is External```), or ``attr("any name")``;
- functions ``lower(x)``, ``upper(x)``, ``exists(x)``.

A missing attribute is None; any comparison involving None (or values that cannot be
compared, like a string and a number) is False, never an error. Numbers stored as
strings compare numerically with numbers (``"1950" < 2000``).
"""

from __future__ import annotations

import ast
import json
import math
import zlib
from collections import Counter
from typing import Any, Callable

import numpy as np

from loaders import Feature, FeatureMesh

from .colormaps import apply_colormap, class_color

PSEUDO_ATTRIBUTES: tuple[str, ...] = ("type", "id", "name", "storey")

#: Qualitative palette for categorical colouring (Tableau 10 without its grey, plus the
#: light variants of the first three): 12 distinct colours.
CATEGORY_PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (174, 199, 232),
    (255, 187, 120), (152, 223, 138),
)
OTHER_COLOR: tuple[int, int, int] = (128, 128, 128)
NO_VALUE_COLOR: tuple[int, int, int] = (190, 190, 190)
NO_VALUE_LABEL = "no value"
OTHER_LABEL = "other"

#: Conventional colours of CityGML / CityJSON semantic surfaces.
SEMANTIC_COLORS: dict[str, tuple[int, int, int]] = {
    "RoofSurface": (170, 70, 50),
    "WallSurface": (228, 218, 196),
    "GroundSurface": (90, 90, 90),
    "ClosureSurface": (200, 210, 230),
    "OuterCeilingSurface": (205, 190, 170),
    "OuterFloorSurface": (150, 140, 125),
    "Window": (160, 205, 240),
    "Door": (120, 75, 40),
    "InteriorWallSurface": (240, 235, 220),
    "CeilingSurface": (235, 235, 235),
    "FloorSurface": (170, 150, 120),
    "WaterSurface": (40, 110, 220),
    "WaterGroundSurface": (70, 80, 120),
    "WaterClosureSurface": (120, 170, 230),
    "TrafficArea": (110, 110, 115),
    "AuxiliaryTrafficArea": (165, 160, 140),
    "TransportationMarking": (245, 245, 245),
    "TransportationHole": (60, 60, 60),
}
SEMANTIC_NONE_COLOR: tuple[int, int, int] = (215, 215, 215)

__all__ = [
    "CATEGORY_PALETTE", "NO_VALUE_COLOR", "NO_VALUE_LABEL", "OTHER_COLOR", "OTHER_LABEL",
    "PSEUDO_ATTRIBUTES", "SEMANTIC_COLORS", "SEMANTIC_NONE_COLOR", "attribute_names",
    "color_by_attribute", "color_by_semantics", "compile_filter", "face_mask",
    "feature_values", "filter_mask", "parent_index", "search_features",
]

# --------------------------------------------------------------------------------------
# Attribute lookup
# --------------------------------------------------------------------------------------

_MISSING = object()


def _nested_names(prefix: str, value: Any, out: dict[str, None]) -> None:
    out[prefix] = None
    if isinstance(value, dict):
        for key, sub in value.items():
            _nested_names(f"{prefix}.{key}", sub, out)


def attribute_names(model: FeatureMesh) -> list[str]:
    """All names that :func:`feature_values` and filters understand: the
    pseudo-attributes first, then attribute names (sorted, nested objects as
    ``"outer.inner"``), then property names as ``"Group.Prop"`` (sorted)."""
    attrs: dict[str, None] = {}
    props: dict[str, None] = {}
    for f in model.features:
        for key, value in (f.attributes or {}).items():
            _nested_names(str(key), value, attrs)
        for group, values in (f.properties or {}).items():
            if isinstance(values, dict):
                for key in values:
                    props[f"{group}.{key}"] = None
    names = list(PSEUDO_ATTRIBUTES)
    seen = set(names)
    for name in sorted(attrs, key=str.lower) + sorted(props, key=str.lower):
        if name not in seen:
            names.append(name)
            seen.add(name)
    return names


def _lookup(feature: Feature, name: str) -> Any:
    """Value of ``name`` for ``feature`` or ``_MISSING``."""
    if name == "type":
        return feature.type or _MISSING
    if name == "id":
        return feature.id
    if name == "name":
        value = feature.name or (feature.attributes or {}).get("name") or \
            (feature.attributes or {}).get("Name")
        return value if value not in (None, "") else _MISSING
    if name == "storey":
        return feature.storey or _MISSING
    attrs = feature.attributes or {}
    if name in attrs:
        return attrs[name]
    if "." in name:
        group, _, prop = name.partition(".")
        values = (feature.properties or {}).get(group)
        if isinstance(values, dict) and prop in values:
            return values[prop]
        # nested attribute objects ("address.city"), trying every split of the dots
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):
            head = ".".join(parts[:i])
            value = attrs.get(head, _MISSING)
            for key in parts[i:]:
                if isinstance(value, dict) and key in value:
                    value = value[key]
                else:
                    value = _MISSING
                    break
            if value is not _MISSING:
                return value
    return _MISSING


def feature_value(feature: Feature, name: str) -> Any:
    """Value of attribute ``name`` of one feature, or None."""
    value = _lookup(feature, name)
    return None if value is _MISSING else value


def feature_values(model: FeatureMesh, name: str) -> list:
    """Value of attribute ``name`` for every feature (None where it has none)."""
    return [feature_value(f, name) for f in model.features]


# --------------------------------------------------------------------------------------
# Filter expressions
# --------------------------------------------------------------------------------------

_MAX_EXPR = 10_000
_FUNCTIONS = ("attr", "lower", "upper", "exists")


def _number(value: Any) -> float | None:
    """``value`` as a number for comparisons (numeric strings included), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    return None


def _coerce(a: Any, b: Any) -> tuple[Any, Any]:
    """Compare a number with a numeric string as numbers."""
    if isinstance(a, str) != isinstance(b, str):
        na, nb = _number(a), _number(b)
        if na is not None and nb is not None:
            return na, nb
    return a, b


def _compare(op: ast.cmpop, a: Any, b: Any) -> bool:
    if isinstance(op, ast.Is):
        return a is b
    if isinstance(op, ast.IsNot):
        return a is not b
    if a is None or b is None:
        return False
    try:
        if isinstance(op, (ast.In, ast.NotIn)):
            if isinstance(b, str):
                found = isinstance(a, str) and a in b
            elif isinstance(b, (list, tuple, set, dict)):
                found = any(_compare(ast.Eq(), a, item) for item in b)
            else:
                return False
            return found if isinstance(op, ast.In) else not found
        a, b = _coerce(a, b)
        if isinstance(op, ast.Eq):
            return bool(a == b)
        if isinstance(op, ast.NotEq):
            return bool(a != b)
        if isinstance(a, bool) or isinstance(b, bool):
            return False  # no ordering of booleans
        if isinstance(op, ast.Lt):
            return bool(a < b)
        if isinstance(op, ast.LtE):
            return bool(a <= b)
        if isinstance(op, ast.Gt):
            return bool(a > b)
        if isinstance(op, ast.GtE):
            return bool(a >= b)
    except Exception:
        return False
    return False


def _arith(op: ast.operator, a: Any, b: Any) -> Any:
    a, b = _number(a), _number(b)
    if a is None or b is None:
        return None
    try:
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return a / b
        if isinstance(op, ast.Mod):
            return a % b
    except (ZeroDivisionError, OverflowError):
        return None
    return None


class _Rewrite:
    """Backquoted names -> ``attr("...")``, with a map back to original columns."""

    def __init__(self, expr: str) -> None:
        out: list[str] = []
        self.marks: list[tuple[int, int]] = []  # (new position, original position)
        i, n = 0, len(expr)
        quote: str | None = None
        while i < n:
            ch = expr[i]
            if quote:
                out.append(ch)
                if ch == "\\" and i + 1 < n:
                    out.append(expr[i + 1])
                    i += 2
                    continue
                if ch == quote:
                    quote = None
                i += 1
                continue
            if ch in "\"'":
                quote = ch
                out.append(ch)
                i += 1
                continue
            if ch == "`":
                end = expr.find("`", i + 1)
                if end < 0:
                    raise _error(expr, i, "unclosed backquote")
                name = expr[i + 1:end]
                if not name.strip():
                    raise _error(expr, i, "empty backquoted name")
                self.marks.append((len("".join(out)), i))
                out.append(f"attr({json.dumps(name)})")
                self.marks.append((len("".join(out)), end + 1))
                i = end + 1
                continue
            out.append(ch)
            i += 1
        self.text = "".join(out)

    def original(self, pos: int) -> int:
        new0, orig0 = 0, 0
        for new, orig in self.marks:
            if new > pos:
                break
            new0, orig0 = new, orig
        return orig0 + max(0, pos - new0)


def _error(expr: str, pos: int | None, what: str) -> ValueError:
    if pos is None:
        return ValueError(f"invalid filter {expr!r}: {what}")
    pos = max(0, min(pos, len(expr)))
    return ValueError(f"invalid filter at column {pos + 1}: {what}\n  {expr}\n  "
                      + " " * pos + "^")


_Eval = Callable[[Feature], Any]


class _Compiler:
    def __init__(self, expr: str, rewrite: _Rewrite) -> None:
        self.expr = expr
        self.rewrite = rewrite

    def fail(self, node: ast.AST, what: str) -> ValueError:
        col = getattr(node, "col_offset", None)
        pos = None if col is None else self.rewrite.original(col)
        return _error(self.expr, pos, what)

    def compile(self, node: ast.AST) -> _Eval:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"{_describe(node)} is not allowed in a filter")
        return method(node)

    # -- leaves ---------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> _Eval:
        value = node.value
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise self.fail(node, f"constant {value!r} is not allowed")
        return lambda f: value

    def _Name(self, node: ast.Name) -> _Eval:
        name = node.id
        if name in _FUNCTIONS:
            raise self.fail(node, f"{name} is a function: write {name}(...)")
        return lambda f: feature_value(f, name)

    def _Attribute(self, node: ast.Attribute) -> _Eval:
        parts = [node.attr]
        inner: ast.AST = node.value
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name):
            raise self.fail(node, "only attribute names can contain dots "
                                  "(write `Group.Name` in backquotes)")
        parts.append(inner.id)
        name = ".".join(reversed(parts))
        return lambda f: feature_value(f, name)

    def _List(self, node: ast.List | ast.Tuple) -> _Eval:
        items = [self.compile(e) for e in node.elts]
        return lambda f: [item(f) for item in items]

    _Tuple = _List

    # -- operators ------------------------------------------------------------------
    def _BoolOp(self, node: ast.BoolOp) -> _Eval:
        parts = [self.compile(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda f: all(_truth(p(f)) for p in parts)
        return lambda f: any(_truth(p(f)) for p in parts)

    def _UnaryOp(self, node: ast.UnaryOp) -> _Eval:
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda f: not _truth(operand(f))
        if isinstance(node.op, ast.USub):
            def neg(f: Feature) -> Any:
                v = _number(operand(f))
                return None if v is None else -v
            return neg
        if isinstance(node.op, ast.UAdd):
            return lambda f: _number(operand(f))
        raise self.fail(node, f"operator {_describe(node.op)} is not allowed")

    def _BinOp(self, node: ast.BinOp) -> _Eval:
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod)):
            raise self.fail(node, f"operator {_describe(node.op)} is not allowed "
                                  "(use + - * / %)")
        left, right, op = self.compile(node.left), self.compile(node.right), node.op
        return lambda f: _arith(op, left(f), right(f))

    def _Compare(self, node: ast.Compare) -> _Eval:
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)) and not (
                    isinstance(comp, ast.Constant) and comp.value is None):
                raise self.fail(comp, "'is' / 'is not' can only test for None "
                                      "(use == to compare values)")
        left = self.compile(node.left)
        ops = list(node.ops)
        rights = [self.compile(c) for c in node.comparators]

        def compare(f: Feature) -> bool:
            a = left(f)
            for op, right in zip(ops, rights, strict=True):
                b = right(f)
                if not _compare(op, a, b):
                    return False
                a = b
            return True
        return compare

    def _Call(self, node: ast.Call) -> _Eval:
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in _FUNCTIONS:
            what = func.id if isinstance(func, ast.Name) else _describe(func)
            raise self.fail(node, f"calling {what} is not allowed (functions: "
                                  f"{', '.join(_FUNCTIONS)})")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise self.fail(node, f"{func.id}() takes exactly one argument")
        arg = node.args[0]
        if func.id == "attr":
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise self.fail(arg, 'attr() takes an attribute name in quotes, '
                                     'e.g. attr("Pset_WallCommon.IsExternal")')
            name = arg.value
            return lambda f: feature_value(f, name)
        inner = self.compile(arg)
        if func.id == "exists":
            return lambda f: inner(f) is not None
        if func.id == "lower":
            return lambda f: _str_call(inner(f), str.lower)
        return lambda f: _str_call(inner(f), str.upper)


def _str_call(value: Any, fn: Callable[[str], str]) -> Any:
    return fn(value) if isinstance(value, str) else value


def _truth(value: Any) -> bool:
    try:
        return bool(value)
    except Exception:
        return False


def _describe(node: ast.AST) -> str:
    names = {
        "Call": "a function call", "Subscript": "indexing", "Lambda": "lambda",
        "Pow": "'**'", "FloorDiv": "'//'", "BitAnd": "'&'", "BitOr": "'|'",
        "BitXor": "'^'", "LShift": "'<<'", "RShift": "'>>'", "Invert": "'~'",
        "MatMult": "'@'", "IfExp": "'x if c else y'", "ListComp": "a comprehension",
        "GeneratorExp": "a comprehension", "DictComp": "a comprehension",
        "SetComp": "a comprehension", "Dict": "a dict", "Set": "a set",
        "JoinedStr": "an f-string", "NamedExpr": "':='", "Starred": "'*'",
        "Await": "await", "Yield": "yield", "YieldFrom": "yield", "Slice": "a slice",
    }
    return names.get(type(node).__name__, type(node).__name__)


def compile_filter(expr: str) -> Callable[[Feature], bool]:
    """Compile an attribute expression (see the module docstring) into a predicate
    ``feature -> bool``. An empty expression matches every feature.

    Raises ``ValueError`` with the column and what is wrong for bad syntax or anything
    outside the whitelist (function calls other than attr/lower/upper/exists, indexing,
    ``**``, lambdas, comprehensions, ...). The expression is never evaluated by Python.
    """
    if not isinstance(expr, str):
        raise ValueError(f"a filter must be text, got {type(expr).__name__}")
    if len(expr) > _MAX_EXPR:
        raise ValueError(f"filter too long ({len(expr)} characters, at most {_MAX_EXPR})")
    if not expr.strip():
        return lambda f: True
    rewrite = _Rewrite(expr)
    text = rewrite.text
    try:
        tree = ast.parse(text.strip().replace("\n", " "), mode="eval")
    except SyntaxError as exc:
        stripped = len(text) - len(text.lstrip())
        pos = None if exc.offset is None else rewrite.original(exc.offset - 1 + stripped)
        raise _error(expr, pos, exc.msg or "syntax error") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise _error(expr, None, f"cannot parse ({type(exc).__name__})") from None
    compiler = _Compiler(expr, _ShiftedRewrite(rewrite, len(text) - len(text.lstrip())))
    try:
        body = compiler.compile(tree.body)
    except RecursionError:
        raise _error(expr, None, "expression nested too deeply") from None

    def predicate(feature: Feature) -> bool:
        try:
            return _truth(body(feature))
        except RecursionError:
            return False

    predicate.expression = expr  # type: ignore[attr-defined]
    return predicate


class _ShiftedRewrite:
    """Column map for an expression parsed after stripping leading blanks."""

    def __init__(self, rewrite: _Rewrite, shift: int) -> None:
        self._rewrite, self._shift = rewrite, shift

    def original(self, pos: int) -> int:
        return self._rewrite.original(pos + self._shift)


# --------------------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------------------


def filter_mask(model: FeatureMesh, expr: str | Callable[[Feature], bool]) -> np.ndarray:
    """(F,) bool: which features match ``expr`` (an expression or a predicate)."""
    predicate = compile_filter(expr) if isinstance(expr, str) else expr
    return np.fromiter((bool(predicate(f)) for f in model.features), dtype=bool,
                       count=len(model.features))


def parent_index(model: FeatureMesh) -> np.ndarray:
    """(F,) int64 index of each feature's parent, -1 for none (from ``parent`` and
    from the parents' ``children`` lists)."""
    features = model.features
    index = {f.id: i for i, f in enumerate(features)}
    parent = np.full(len(features), -1, np.int64)
    for i, f in enumerate(features):
        for child in f.children or ():
            j = index.get(child)
            if j is not None and j != i:
                parent[j] = i
    for i, f in enumerate(features):
        if f.parent is not None:
            j = index.get(f.parent)
            if j is not None and j != i:
                parent[i] = j
    return parent


def _with_descendants(model: FeatureMesh, mask: np.ndarray) -> np.ndarray:
    """``mask`` extended to every feature one of whose ancestors is in it."""
    out = np.asarray(mask, dtype=bool).copy()
    parent = parent_index(model)
    has_parent = parent >= 0
    if not has_parent.any():
        return out
    for _ in range(len(out)):  # depth is small; the bound guards against cycles
        inherited = np.zeros_like(out)
        inherited[has_parent] = out[parent[has_parent]]
        new = out | inherited
        if np.array_equal(new, out):
            break
        out = new
    return out


def face_mask(model: FeatureMesh, feature_mask: np.ndarray,
              include_children: bool = True) -> np.ndarray:
    """(M,) bool per triangle: its feature is in ``feature_mask`` or (with
    ``include_children``) descends from one that is, so a selected Building shows the
    triangles of its BuildingParts. Triangles without a feature are False."""
    feature_mask = np.asarray(feature_mask, dtype=bool)
    if len(feature_mask) != len(model.features):
        raise ValueError(f"feature mask has {len(feature_mask)} entries, the model has "
                         f"{len(model.features)} features")
    if include_children:
        feature_mask = _with_descendants(model, feature_mask)
    ff = np.asarray(model.face_feature, dtype=np.int64)
    out = np.zeros(len(ff), bool)
    valid = (ff >= 0) & (ff < len(feature_mask))
    out[valid] = feature_mask[ff[valid]]
    return out


# --------------------------------------------------------------------------------------
# Colouring
# --------------------------------------------------------------------------------------


def _inherited_values(model: FeatureMesh, name: str) -> list:
    """Per feature value of ``name``; features without it take their nearest
    ancestor's value."""
    values = feature_values(model, name)
    parent = parent_index(model)
    out = list(values)
    for i in range(len(out)):
        j, steps = i, 0
        while out[i] is None and parent[j] >= 0 and steps < len(out):
            j = int(parent[j])
            out[i] = values[j]
            steps += 1
    return out


def _faces_per_feature(model: FeatureMesh) -> np.ndarray:
    ff = np.asarray(model.face_feature, dtype=np.int64)
    ff = ff[(ff >= 0) & (ff < len(model.features))]
    return np.bincount(ff, minlength=len(model.features))


def _face_rgba(model: FeatureMesh, table: np.ndarray, none_rgb: tuple) -> np.ndarray:
    """Per-face RGBA from a (F, 3) per-feature table; faces without a feature get
    ``none_rgb``."""
    nf = len(model.features)
    full = np.empty((nf + 1, 4), np.uint8)
    full[:nf, :3] = table
    full[nf, :3] = none_rgb
    full[:, 3] = 255
    ff = np.asarray(model.face_feature, dtype=np.int64)
    ff = np.where((ff >= 0) & (ff < nf), ff, nf)
    return full[ff]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and \
        not isinstance(value, (bool, np.bool_)) and math.isfinite(float(value))


def _label(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def color_by_attribute(model: FeatureMesh, name: str, colormap: str = "viridis",
                       max_categories: int = len(CATEGORY_PALETTE)
                       ) -> tuple[np.ndarray, dict[str, Any]]:
    """Colour every triangle by its feature's value of attribute ``name``.

    Returns ``(face_colors, legend)``: (M, 4) uint8 RGBA and a description:

    - numeric values (all present values are numbers): a continuous ``colormap`` ramp
      from the minimum to the maximum; ``legend = {"kind": "numeric", "name", "min",
      "max", "colormap", "no_value": rgb or None}``;
    - otherwise categorical: the most frequent values (counted over features that have
      triangles) get the :data:`CATEGORY_PALETTE`, the rest :data:`OTHER_COLOR`;
      ``legend = {"kind": "categorical", "name", "entries": [(label, rgb), ...],
      "counts": {label: features}}``.

    Features without the value take their parent's (recursively, so a BuildingPart is
    coloured like its Building); those with none at all are :data:`NO_VALUE_COLOR`,
    listed as ``"no value"`` (categorical entries / numeric ``no_value``).
    """
    values = _inherited_values(model, name)
    nfaces = _faces_per_feature(model)
    drawn = nfaces > 0 if nfaces.any() else np.ones(len(values), bool)
    nf = len(values)
    table = np.empty((nf, 3), np.uint8)
    table[:] = NO_VALUE_COLOR
    unfeatured = bool(np.any(np.asarray(model.face_feature) < 0))
    present = [i for i, v in enumerate(values) if v is not None]
    missing_drawn = unfeatured or any(values[i] is None for i in np.flatnonzero(drawn))

    if present and all(_is_number(values[i]) for i in present):
        idx = np.asarray(present, np.int64)
        nums = np.asarray([float(values[i]) for i in present], np.float64)
        shown = drawn[idx] if drawn[idx].any() else np.ones(len(idx), bool)
        vmin, vmax = float(nums[shown].min()), float(nums[shown].max())
        table[idx] = apply_colormap(nums, vmin, vmax, colormap)
        legend: dict[str, Any] = {
            "kind": "numeric", "name": name, "min": vmin, "max": vmax,
            "colormap": colormap, "no_value": NO_VALUE_COLOR if missing_drawn else None,
        }
        return _face_rgba(model, table, NO_VALUE_COLOR), legend

    labels = [None if v is None else _label(v) for v in values]
    counts = Counter(labels[i] for i in np.flatnonzero(drawn) if labels[i] is not None)
    if not counts:  # nothing drawn has a value: count all features
        counts = Counter(lab for lab in labels if lab is not None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = ranked[:max(0, min(max_categories, len(CATEGORY_PALETTE)))]
    colors = {label: CATEGORY_PALETTE[k] for k, (label, _) in enumerate(top)}
    entries: list[tuple[str, tuple[int, int, int]]] = [(lab, colors[lab]) for lab, _ in top]
    legend_counts = {lab: n for lab, n in top}
    rest = ranked[len(top):]
    for i, lab in enumerate(labels):
        if lab is not None:
            table[i] = colors.get(lab, OTHER_COLOR)
    if rest:
        entries.append((OTHER_LABEL, OTHER_COLOR))
        legend_counts[OTHER_LABEL] = sum(n for _, n in rest)
    if missing_drawn:
        entries.append((NO_VALUE_LABEL, NO_VALUE_COLOR))
        legend_counts[NO_VALUE_LABEL] = int(sum(1 for i in np.flatnonzero(drawn)
                                                if labels[i] is None))
    legend = {"kind": "categorical", "name": name, "entries": entries,
              "counts": legend_counts}
    return _face_rgba(model, table, NO_VALUE_COLOR), legend


def semantic_color(name: str) -> tuple[int, int, int]:
    """Conventional colour of a semantic surface type; a stable distinct colour for
    names outside :data:`SEMANTIC_COLORS`."""
    if name in SEMANTIC_COLORS:
        return SEMANTIC_COLORS[name]
    return class_color(64 + zlib.crc32(name.encode("utf-8")) % 1000)


def color_by_semantics(model: FeatureMesh) -> tuple[np.ndarray, dict[str, Any]]:
    """Colour every triangle by its semantic surface (RoofSurface red-brown, WallSurface
    beige, GroundSurface dark grey, Window light blue, Door brown, WaterSurface blue,
    ...); triangles without one are light grey.

    Returns ``(face_colors (M, 4) uint8, legend)`` with ``legend = {"kind":
    "categorical", "name": "semantics", "entries": [(surface, rgb), ...], "counts":
    {surface: triangles}}`` for the surfaces present (``"none"`` last).
    """
    names = list(model.semantic_names)
    m = len(model.faces)
    table = np.empty((len(names) + 1, 4), np.uint8)
    for k, sname in enumerate(names):
        table[k, :3] = semantic_color(sname)
    table[len(names), :3] = SEMANTIC_NONE_COLOR
    table[:, 3] = 255
    sem = np.asarray(model.face_semantic if model.face_semantic is not None
                     else np.full(m, -1), dtype=np.int64)
    sem = np.where((sem >= 0) & (sem < len(names)), sem, len(names))
    colors = table[sem]
    counts = np.bincount(sem, minlength=len(names) + 1)
    entries, legend_counts = [], {}
    for k in np.argsort(-counts[:len(names)], kind="stable"):
        if counts[k]:
            entries.append((names[k], tuple(int(c) for c in table[k, :3])))
            legend_counts[names[k]] = int(counts[k])
    if counts[len(names)]:
        entries.append(("none", SEMANTIC_NONE_COLOR))
        legend_counts["none"] = int(counts[len(names)])
    return colors, {"kind": "categorical", "name": "semantics", "entries": entries,
                    "counts": legend_counts}


# --------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------


def search_features(model: FeatureMesh, text: str, limit: int | None = None) -> list[int]:
    """Indices of features whose id, name or type contains ``text`` (case-insensitive),
    best first: exact id, exact id ignoring case, exact name or type, id prefix, then
    other matches (in model order). Empty text gives []."""
    needle = (text or "").strip()
    if not needle:
        return []
    low = needle.lower()
    scored: list[tuple[int, int]] = []
    for i, f in enumerate(model.features):
        fid, name, ftype = str(f.id), str(f.name or ""), str(f.type or "")
        if fid == needle:
            rank = 0
        elif fid.lower() == low:
            rank = 1
        elif name.lower() == low or ftype.lower() == low:
            rank = 2
        elif fid.lower().startswith(low) or name.lower().startswith(low):
            rank = 3
        elif low in fid.lower() or low in name.lower() or low in ftype.lower():
            rank = 4
        else:
            continue
        scored.append((rank, i))
    scored.sort()
    result = [i for _, i in scored]
    return result if limit is None else result[:limit]


# --------------------------------------------------------------------------------------
# What a layer shows: LOD choice, hidden objects, attribute filter
# --------------------------------------------------------------------------------------


def lod_face_mask(model: FeatureMesh, lod: str | None = None) -> np.ndarray:
    """(M,) bool: triangles of the chosen LOD; ``None`` = each object's highest LOD.
    Triangles without a LOD are always shown."""
    face_lod = np.asarray(model.face_lod, dtype=np.int64)
    m = len(face_lod)
    if m == 0 or not model.lod_names or (face_lod < 0).all():
        return np.ones(m, bool)
    if lod is not None:
        if lod not in model.lod_names:
            return np.ones(m, bool)
        return (face_lod == model.lod_names.index(lod)) | (face_lod < 0)
    ff = np.asarray(model.face_feature, dtype=np.int64)
    best = np.full(max(len(model.features), 1) + 1, -1, np.int64)
    slot = np.where(ff >= 0, ff, len(best) - 1)  # faces without a feature share a slot
    np.maximum.at(best, slot, face_lod)
    return (face_lod == best[slot]) | (face_lod < 0)


def visible_faces(layer: Any) -> np.ndarray | None:
    """(M,) bool: the triangles a city / building model layer draws (its LOD choice,
    hidden objects and attribute filter), or None when everything is drawn. A filter
    that does not compile hides nothing (the panel reports the error)."""
    model = layer.data
    if not isinstance(model, FeatureMesh):
        return None
    keep = lod_face_mask(model, getattr(layer, "city_lod", None))
    hidden = getattr(layer, "hidden_features", None)
    if hidden:
        fmask = np.fromiter((f.id in hidden for f in model.features), bool,
                            count=len(model.features))
        keep &= ~face_mask(model, fmask)
    expr = getattr(layer, "feature_filter", None)
    if expr:
        try:
            keep &= face_mask(model, filter_mask(model, expr))
        except ValueError:
            pass
    return None if keep.all() else keep


def layer_feature_colors(layer: Any, mode: str) -> tuple[np.ndarray, dict]:
    """(M, 3) uint8 per-face colours of a city / building model in ``mode`` (semantic,
    type, attribute) and the legend to show with them."""
    model = layer.data
    if mode == "semantic":
        rgba, legend = color_by_semantics(model)
    elif mode == "type":
        rgba, legend = color_by_attribute(model, "type")
    else:
        rgba, legend = color_by_attribute(model, layer.attribute or "type",
                                          colormap=layer.colormap)
    return np.ascontiguousarray(np.asarray(rgba)[:, :3], dtype=np.uint8), legend
