"""The core (loaders, heritage, scene model) must stay free of Qt and VTK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PySide6", "shiboken6", "pyvistaqt", "qtpy", "vtk", "vtkmodules", "pyvista")


def test_core_imports_no_qt_or_vtk(shared_data):
    """Import the core and read real files of every kind; no Qt/VTK module gets loaded."""
    code = f"""
import sys
import loaders, heritage, viewer.scene, viewer.colors
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
