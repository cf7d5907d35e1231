"""Shared test fixtures and rules. Real data lives in ../shared/data next to the checkout.

- ``shared_data``: the folder of real sample files.
- ``read_shared(rel)``: a real file read once per session and shared by the tests that only
  read it (its arrays are read-only; a test that changes the data reads its own copy).
- GUI tests (marked ``gui``, in a ``test_gui*`` module, or using ``qtbot``/``qapp``/the
  ``window`` fixture) are skipped with one reason when there is no X display; ``./run test``
  starts Xvfb.
- Every test fails when it leaves a window open, a plotter unclosed or a VTK object alive
  after its fixtures are torn down (the check pyvista's and pyvistaqt's own test suites
  run): the GUI and render tests, and the CLI and loader tests that render in-process.
"""

from __future__ import annotations

import gc
import os
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("REALSCENE_SHARED_DATA", ROOT.parent / "shared" / "data"))

NO_DISPLAY_REASON = "GUI tests need an X display (./run test starts Xvfb)"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA} (set REALSCENE_SHARED_DATA)")
    return SHARED_DATA


# ---- real files read once per session ----------------------------------------------------

class SharedDataChanged(AttributeError):
    """A test changed a dataset that other tests share (see ``read_shared``)."""


_FROZEN_TYPES: dict[type, type] = {}


def _frozen_type(cls: type) -> type:
    """A subclass of ``cls`` whose instances refuse to have fields set (isinstance still holds)."""
    if cls not in _FROZEN_TYPES:
        def __setattr__(self, name, value):
            if not self.__dict__.get("_shared"):  # a new object (dataclasses.replace)
                object.__setattr__(self, name, value)
                return
            raise SharedDataChanged(
                f"{cls.__name__}.{name} set on data shared by read_shared(): this test changes "
                "the data, so it should read its own copy with loaders.read")

        _FROZEN_TYPES[cls] = type(f"Shared{cls.__name__}", (cls,), {
            "__setattr__": __setattr__, "__module__": cls.__module__})
    return _FROZEN_TYPES[cls]


def _freeze(obj: Any, depth: int = 0) -> Any:
    """Make ``obj`` read-only for the tests that share it: its numpy arrays (in fields, dicts and
    lists) refuse writes, and a RealScene dataset's fields and ``attributes``/``metadata``
    mappings refuse to be replaced or extended (the renderer reorders a cloud it draws by
    replacing its arrays: such a test reads its own copy)."""
    if isinstance(obj, np.ndarray):
        obj.flags.writeable = False
        return obj
    if depth > 3 or obj is None or isinstance(obj, (str, bytes, int, float, bool, Path)):
        return obj
    if isinstance(obj, dict):
        for value in obj.values():
            _freeze(value, depth + 1)
        return obj
    if isinstance(obj, (list, tuple)):
        for value in obj:
            _freeze(value, depth + 1)
        return obj
    if not hasattr(obj, "__dict__"):
        return obj
    fields = vars(obj)
    for value in fields.values():
        _freeze(value, depth + 1)
    if type(obj).__module__.startswith("loaders"):
        for name in ("attributes", "metadata"):
            if isinstance(fields.get(name), dict):
                fields[name] = MappingProxyType(fields[name])
        obj.__class__ = _frozen_type(type(obj))
        fields["_shared"] = True
    return obj


def _realscene_read(path: Path) -> Any:
    import loaders

    return loaders.read(path)


def _laspy_read(path: Path) -> Any:
    import laspy

    return laspy.read(path)


READERS: dict[str, Callable[[Path], Any]] = {"realscene": _realscene_read, "laspy": _laspy_read}


@pytest.fixture(scope="session")
def read_shared(shared_data) -> Callable[..., Any]:
    """``read_shared("pointclouds/ahn3_cropped_2.laz")``: the file read by RealScene's reader
    (``reader="laspy"``: by laspy) once per session, the same object for every test.

    Its numpy arrays are read-only, so a test that changes the data fails loudly instead of
    changing it for the tests after it; such a test reads its own copy with ``loaders.read``.
    """
    cache: dict[tuple[str, str], Any] = {}

    def read(rel: str, reader: str = "realscene") -> Any:
        key = (str(rel), reader)
        if key not in cache:
            data = READERS[reader](shared_data / rel)
            _freeze(data)
            cache[key] = data
        return cache[key]

    return read


# ---- which tests are GUI tests; one "no display" skip --------------------------------------

def pytest_collection_modifyitems(config, items):
    no_display = not os.environ.get("DISPLAY")
    skip = pytest.mark.skip(reason=NO_DISPLAY_REASON)
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if item.get_closest_marker("gui") is None and (
                "qtbot" in fixtures or "qapp" in fixtures
                or item.path.stem.startswith("test_gui")):
            item.add_marker(pytest.mark.gui)
        if no_display and item.get_closest_marker("gui") is not None:
            item.add_marker(skip)


# ---- the leak check for windows, plotters and VTK objects ----------------------------------

def _new_vtk_objects() -> list:
    """Weak references to the VTK objects made since ``gc.freeze()`` and still alive: VTK's
    classes and their subclasses (pyvista's meshes, renderers and cameras, and the classes
    pyvista puts in place of VTK's, such as the one ``vtkPoints()`` makes)."""
    if "vtkmodules" not in sys.modules:
        return []
    from vtkmodules.vtkCommonCore import vtkObjectBase

    found = []
    for o in gc.get_objects():  # the objects made since the freeze only
        if isinstance(o, vtkObjectBase) and not isinstance(o, weakref.ProxyTypes):
            try:
                found.append(weakref.ref(o))
            except TypeError:
                found.append(lambda o=o: o)
    return found


def _open_plotters() -> dict:
    if "pyvista" not in sys.modules:
        return {}
    from pyvista import plotting

    return dict(getattr(plotting, "_ALL_PLOTTERS", {}))


def _qt_app():
    if "PySide6.QtWidgets" not in sys.modules:
        return None
    from PySide6 import QtWidgets

    return QtWidgets.QApplication.instance()


def _open_windows() -> dict:
    """The visible top-level windows, by id (after pending deletions are carried out)."""
    app = _qt_app()
    if app is None:
        return {}
    from PySide6 import QtCore

    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
    return {id(w): w for w in app.topLevelWidgets() if w.isVisible()}


def _describe(obj, *ours) -> str:
    holders = []
    for ref in gc.get_referrers(obj):
        if any(ref is o for o in ours):
            continue
        if isinstance(ref, dict):
            keys = [k for k, v in ref.items() if v is obj]
            holders.append(f"dict[{keys[0]!r}]" if keys else f"dict(len={len(ref)})")
        elif not isinstance(ref, list) or len(ref) < 1000:
            holders.append(type(ref).__name__)
    return f"{type(obj).__name__} held by {', '.join(holders[:4]) or 'nothing visible'}"


_CALL_REPORT = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.fixture(autouse=True)
def leak_check(request):
    """Fail a test that leaves a window open, a plotter unclosed or VTK objects alive once its
    fixtures are torn down (pyvista's and pyvistaqt's ``check_gc``, for every test: GUI and
    render tests, and CLI or loader tests that render in-process).

    Autouse and function-scoped, so it is set up before and torn down after the test's own
    fixtures (``window``, ``plotter``); pytest-qt closes its widgets before that. What leaked is
    closed here so the tests after it start clean.
    """
    node = request.node
    plotters_before = _open_plotters()
    windows_before = _open_windows()
    # Everything alive now moves to the collector's permanent generation: only objects made
    # from here on are collected and listed below, so the check costs little whatever the heap.
    gc.freeze()
    try:
        yield
        leaked = _after_test(node, plotters_before, windows_before)
    finally:
        gc.unfreeze()
    problems = leaked.pop()
    if leaked:
        names = sorted({type(o).__name__ for o in leaked})
        problems.append(f"{len(leaked)} VTK objects not collected ({', '.join(names[:8])}); "
                        f"first: {_describe(leaked[0], leaked)}")
    del leaked
    if problems:
        pytest.fail("leak check: " + "; ".join(problems), pytrace=False)


def _after_test(node, plotters_before: dict, windows_before: dict) -> list:
    """Close what the test left open; the VTK objects it left alive, then the problems."""
    # pytest keeps the test's fixture values (a closed plotter, a window) until after the whole
    # teardown; they are torn down by now, so drop them here
    node.funcargs.clear()
    call_failed = getattr(node.stash.get(_CALL_REPORT, None), "failed", False)
    problems = []
    windows = {k: w for k, w in _open_windows().items() if k not in windows_before}
    for w in windows.values():
        problems.append(f"window left open: {type(w).__name__} {w.windowTitle()!r}")
        close = getattr(w, "close_without_asking", w.close)
        close()
        w.deleteLater()
        del w, close
    del windows
    plotters = {k: p for k, p in _open_plotters().items() if k not in plotters_before}
    for p in plotters.values():
        problems.append(f"plotter left open: {type(p).__name__}")
        p.close()
        del p
    del plotters
    _open_windows()  # carry out the deletions asked for above
    if call_failed:  # its traceback keeps its locals alive: report only what it left open
        return [problems]
    gc.collect()
    suspects = _new_vtk_objects()
    if suspects:
        # an object made in the test may be kept only by garbage that was frozen: collect all
        gc.unfreeze()
        gc.collect()
    leaked = [o for o in (ref() for ref in suspects) if o is not None]
    return [*leaked, problems]


