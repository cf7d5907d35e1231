"""The test suite's own rules (tests/conftest.py): the session cache of real files, the one
"no display" skip and the leak check for windows, plotters and VTK objects.

The skip and the leak check are run on a small inner test file in a child pytest, with this
suite's conftest rules, and judged from its JUnit report.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from loaders import PointCloud
from tests.conftest import NO_DISPLAY_REASON, SharedDataChanged

ROOT = Path(__file__).resolve().parents[1]

INNER_CONFTEST = """
from tests.conftest import (  # noqa: F401  (the rules under test)
    leak_check, pytest_collection_modifyitems, pytest_runtest_makereport)
"""

INNER_TESTS = '''
import pytest

KEPT = []


def test_leaves_a_plotter_open():
    import pyvista as pv

    pv.Plotter(off_screen=True, window_size=(64, 48))


def test_keeps_a_vtk_object():
    from vtkmodules.vtkCommonCore import vtkPoints

    KEPT.append(vtkPoints())


def test_closes_its_plotter():
    import pyvista as pv

    pl = pv.Plotter(off_screen=True, window_size=(64, 48))
    pl.add_mesh(pv.Sphere())
    pl.screenshot(None, return_img=True)
    pl.close()


def test_draws_nothing():
    assert sum(range(4)) == 6


def test_makes_and_drops_vtk_objects():
    from vtkmodules.vtkCommonCore import vtkPoints

    points = vtkPoints()
    points.InsertNextPoint(0.0, 1.0, 2.0)
    assert points.GetNumberOfPoints() == 1


def test_leaves_a_window_open(qtbot):
    from PySide6 import QtWidgets

    w = QtWidgets.QWidget()
    w.setWindowTitle("forgotten")
    w.show()
    KEPT.append(w)


def test_closes_its_window(qtbot):
    from PySide6 import QtWidgets

    w = QtWidgets.QWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
'''


def _run_inner(tmp_path: Path, *args: str, env: dict | None = None) -> dict[str, tuple]:
    """Run the inner tests; {test name: (outcome, message)} from the JUnit report."""
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    report = tmp_path / "report.xml"
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         f"--junitxml={report}", "-o", "qt_api=pyside6", *args, "test_inner.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert report.exists(), out.stdout + out.stderr
    results: dict[str, tuple] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag
                message = child.get("message", "") if child.tag == "skipped" else (
                    child.get("message", "") + "\n" + (child.text or ""))
        # a teardown error is reported as a second entry of the same test: keep the worst
        if results.get(case.get("name"), ("passed",))[0] == "passed":
            results[case.get("name")] = (outcome, message)
    return results


@pytest.mark.gui
def test_leak_check_fails_tests_that_leave_windows_plotters_or_vtk_objects(tmp_path):
    res = _run_inner(tmp_path)
    assert res["test_leaves_a_plotter_open"][0] == "error"
    assert "plotter left open" in res["test_leaves_a_plotter_open"][1]
    assert res["test_keeps_a_vtk_object"][0] == "error"
    assert "1 VTK objects not collected" in res["test_keeps_a_vtk_object"][1]
    assert res["test_leaves_a_window_open"][0] == "error"
    assert "window left open: QWidget 'forgotten'" in res["test_leaves_a_window_open"][1]
    # clean tests, and tests that draw nothing, pass
    for name in ("test_closes_its_plotter", "test_closes_its_window", "test_draws_nothing",
                 "test_makes_and_drops_vtk_objects"):
        assert res[name] == ("passed", ""), (name, res[name])


def test_gui_tests_are_skipped_with_one_reason_without_a_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    res = _run_inner(tmp_path, "-k", "window or draws_nothing", env=env)
    assert res["test_leaves_a_window_open"] == ("skipped", NO_DISPLAY_REASON)
    assert res["test_closes_its_window"] == ("skipped", NO_DISPLAY_REASON)
    assert res["test_draws_nothing"] == ("passed", "")


def test_read_shared_reads_once_and_shares_read_only_data(read_shared):
    rel = "pointclouds/autzen-bmx-2010.las"
    cloud = read_shared(rel)
    assert read_shared(rel) is cloud
    with pytest.raises(ValueError, match="read-only"):
        cloud.positions[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        cloud.attributes["classification"][0] = 7
    # replacing its arrays (as drawing a cloud does, to reorder it) is refused too
    with pytest.raises(SharedDataChanged, match="PointCloud.positions .* own copy"):
        cloud.positions = cloud.positions[::-1]
    with pytest.raises(TypeError):
        cloud.attributes["classification"] = np.zeros(cloud.point_count, np.uint8)
    assert isinstance(cloud, PointCloud) and cloud.point_count == 829
    # a new object made from it is the test's own
    flipped = dataclasses.replace(cloud, positions=-cloud.positions)
    flipped.positions = flipped.positions * 2
    las = read_shared(rel, reader="laspy")
    assert read_shared(rel, reader="laspy") is las
    assert len(las.points) == cloud.point_count
    np.testing.assert_array_equal(np.asarray(las.classification),
                                  cloud.attributes["classification"])
