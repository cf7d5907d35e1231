"""File > Export exhibit… in the real window (Xvfb): the sample site exported to GLB through
the dialog (layers, annotations by category, tour, budgets, estimate), in the background
with the window's progress bar; the file re-reads with its hotspots; Cancel leaves no
output and no temporary file; a refused output is said in the dialog."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from tests.viewer.gui_support import LOAD_TIMEOUT_MS  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample_site"
PROJECT = SAMPLE / "delft.realscene.json"


def _open_sample(qtbot, window):
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.open_project(str(PROJECT))
    assert [l.name for l in window.scene.layers] == ["testarea.obj", "delft_ahn3.laz",
                                                      "delft.city.json"]


def _dialog(window):
    window.export_exhibit_action.trigger()
    dialog = window.findChild(QtWidgets.QDialog, "exhibitDialog")
    assert dialog is not None and dialog.isVisible()
    return dialog


def _hotspot_titles(path: Path) -> set[str]:
    import pygltflib

    gltf = pygltflib.GLTF2.load(str(path))
    return {(n.extras or {}).get("hotspot", {}).get("title") for n in gltf.nodes} - {None}


def test_export_glb_through_the_dialog(qtbot, window, tmp_path):
    _open_sample(qtbot, window)
    assert window.export_exhibit_action in window.menuBar().actions()[0].menu().actions()
    dialog = _dialog(window)
    fmt = dialog.findChild(QtWidgets.QComboBox, "exhibitFormat")
    assert fmt.currentData() == "glb"
    # the visible layers are pre-checked (the city model is hidden in the project)
    layers = dialog.findChild(QtWidgets.QListWidget, "exhibitLayers")
    checked = [layers.item(i).text() for i in range(layers.count())
               if layers.item(i).checkState() == QtCore.Qt.Checked]
    assert checked == ["testarea.obj", "delft_ahn3.laz"]
    # only two categories of annotations
    mode = dialog.findChild(QtWidgets.QComboBox, "exhibitAnnotations")
    mode.setCurrentIndex(mode.findData("category"))
    categories = dialog.findChild(QtWidgets.QListWidget, "exhibitCategories")
    assert categories.isEnabled()
    for i in range(categories.count()):
        item = categories.item(i)
        if item.data(QtCore.Qt.UserRole) not in ("crack", "erosion"):
            item.setCheckState(QtCore.Qt.Unchecked)
    tour = dialog.findChild(QtWidgets.QComboBox, "exhibitTour")
    assert tour.currentText() == "Condition walk"
    estimate = dialog.findChild(QtWidgets.QLabel, "exhibitEstimate")
    assert "2 hotspots" in estimate.text()
    before = estimate.text()
    dialog.findChild(QtWidgets.QSpinBox, "exhibitPoints").setValue(20_000)
    dialog.findChild(QtWidgets.QSpinBox, "exhibitTriangles").setValue(5_000)
    assert estimate.text() != before  # the estimate follows the budget
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "delft kiosk 展览.glb"
    dialog.findChild(QtWidgets.QLineEdit, "exhibitOutput").setText(str(out))
    with qtbot.waitSignal(window.exhibits.exported, timeout=120_000) as done:
        qtbot.mouseClick(dialog.ok_button, QtCore.Qt.LeftButton)
        assert window.progress.isVisible() and window.cancel_button.isVisible()
    assert not dialog.isVisible()
    result = done.args[0]
    assert result.path == out and out.is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    assert _hotspot_titles(out) == {"Crack along the quay wall", "Weathered roof ridge"}
    link = window.findChild(QtWidgets.QLabel, "exhibitDone")
    assert link.isVisible() and "href" in link.text() and str(out) in link.text()
    assert not window.progress.isVisible()


def test_cancel_leaves_no_output(qtbot, window, tmp_path, monkeypatch):
    from viewer.qt import jobs

    # an export long enough to be cancelled half-way: each report waits (up to 10 s) for
    # Cancel, the way a big scan keeps the job busy (the sample exports in a blink, so a
    # Cancel clicked "right after the start" could come after the end)
    report = jobs.WindowJob._report

    def slow_report(self, fraction, message=""):
        self._cancel.wait(10)
        return report(self, fraction, message)

    monkeypatch.setattr(jobs.WindowJob, "_report", slow_report)
    _open_sample(qtbot, window)
    dialog = _dialog(window)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "cancelled.glb"
    dialog.findChild(QtWidgets.QLineEdit, "exhibitOutput").setText(str(out))
    # the whole scan (no point budget): Cancel in the status bar right after the start
    dialog.findChild(QtWidgets.QSpinBox, "exhibitPoints").setValue(0)
    with qtbot.waitSignal(window.exhibits.export_cancelled, timeout=120_000):
        qtbot.mouseClick(dialog.ok_button, QtCore.Qt.LeftButton)
        assert window.cancel_button.isVisible()
        qtbot.mouseClick(window.cancel_button, QtCore.Qt.LeftButton)
    assert list(out.parent.iterdir()) == []
    assert not window.progress.isVisible()
    assert "Cancelled" in window.statusBar().currentMessage()


def test_output_that_would_overwrite_an_input_is_refused_in_the_dialog(qtbot, window):
    _open_sample(qtbot, window)
    dialog = _dialog(window)
    laz = SAMPLE / "delft_ahn3.laz"
    size = laz.stat().st_size
    dialog.findChild(QtWidgets.QLineEdit, "exhibitOutput").setText(str(laz))
    qtbot.mouseClick(dialog.ok_button, QtCore.Qt.LeftButton)
    problem = dialog.findChild(QtWidgets.QLabel, "exhibitProblem")
    assert dialog.isVisible() and problem.isVisible()
    assert "is the input" in problem.text()
    assert not window.jobs and laz.stat().st_size == size
    dialog.reject()
