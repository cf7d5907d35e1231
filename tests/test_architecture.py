"""Architecture rules: the core (loaders, heritage, scene model) stays free of Qt and VTK,
packages have no import cycles and keep their layers (import-linter), and no module imports
another module's private names."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PySide6", "shiboken6", "pyvistaqt", "qtpy", "vtk", "vtkmodules", "pyvista")


def test_core_imports_no_qt_or_vtk(shared_data):
    """Import the core and read real files of every kind; no Qt/VTK module gets loaded."""
    code = f"""
import sys
import loaders, heritage, viewer.scene, viewer.colors
import heritage.exchange, heritage.report, heritage.exhibits, heritage.monitoring
import loaders.writers.copc, viewer.colormaps, viewer.features, viewer.session
from viewer.scene import Scene
s = Scene()
for p in {[str(shared_data / 'pointclouds' / 'autzen-bmx-2010.las'),
           str(shared_data / 'meshes' / 'no_indices_3storybuilding.glb')]!r}:
    s.add(loaders.read(p))
bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})
print(','.join(bad))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"


def test_import_linter_contracts():
    exe = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "BROKEN" not in out.stdout


PACKAGES = ("loaders", "heritage", "viewer")


def test_contracts_cover_cycles_and_layers():
    """The contracts the issue asks for are declared (lint-imports checks them)."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"]
    by_type = {}
    for c in contracts:
        by_type.setdefault(c["type"], []).append(c)
    assert any(set(c["ancestors"]) >= set(PACKAGES) for c in by_type["acyclic_siblings"])
    assert any(c["layers"] == ["viewer", "heritage", "loaders"] for c in by_type["layers"])
    inner = [c for c in by_type["layers"] if c.get("containers") == ["viewer"]]
    assert inner
    level = {name.strip(): i for i, layer in enumerate(inner[0]["layers"])
             for name in layer.replace(":", "|").split("|")}
    assert level["cli"] < level["qt"] < level["render"] < level["scene"]
    assert level["api"] < level["offscreen"] < level["pipeline"] < level["session"]
    qt_free = [c for c in by_type["forbidden"] if "PySide6" in c["forbidden_modules"]]
    assert qt_free and {"loaders", "heritage"} <= set(qt_free[0]["source_modules"])


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private_imports(path: Path, root: Path = ROOT) -> list[str]:
    """``from x import _y`` and ``x._y`` where x is another of our modules."""
    ours = (*PACKAGES, "tests", "benchmarks")
    me = _module_name(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                pkg = me.split(".")[: len(me.split(".")) - node.level
                                     + (path.name == "__init__.py")]
                base = ".".join(pkg + ([base] if base else []))
            if base.split(".")[0] not in ours or base == me:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: "
                                 f"from {base} import {alias.name}")
                modules[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ours:
                    modules[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                and node.value.id in modules and modules[node.value.id] != me):
            found.append(f"{path.relative_to(root)}:{node.lineno}: "
                         f"{node.value.id}.{node.attr}")
    return found


def test_no_private_names_imported_across_modules():
    """A name with a leading underscore is private to its module: no other module (tests
    and benchmarks included) imports it or reaches into it; make it public instead."""
    files = [p for top in (*PACKAGES, "tests", "benchmarks")
             for p in sorted((ROOT / top).rglob("*.py"))]
    found = [hit for p in files for hit in _private_imports(p)]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_private_name_check_finds_one(tmp_path):
    """The check above sees both spellings (so its passing means something)."""
    probe = tmp_path / "tests" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("from loaders.formats import las\nfrom viewer.colors import _x\n"
                     "from . import _own_package_private\nlas._y()\n", encoding="utf-8")
    hits = _private_imports(probe, tmp_path)
    assert len(hits) == 3 and "import _x" in hits[0] and "las._y" in hits[2], hits
