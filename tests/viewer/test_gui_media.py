"""Pictures and films in the real window (Xvfb): File > Save screenshot… with a 4K
transparent background through the dialog, File > Export video… (a 1 s turntable re-read
by ffmpeg as ~30 H.264 frames; the project's tour), both drawn step by step on the main
thread in the window's progress bar; Cancel leaves no file and hides the bar; the window
handles events between steps; one job at a time; errors are one message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore, QtWidgets  # noqa: E402

from tests.viewer.gui_support import LOAD_TIMEOUT_MS  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample_site"
PROJECT = SAMPLE / "delft.realscene.json"
JOB_TIMEOUT_MS = 240_000


def _open_sample(qtbot, window):
    with qtbot.waitSignal(window.all_loads_finished, timeout=LOAD_TIMEOUT_MS):
        window.open_project(str(PROJECT))


def _answer(monkeypatch, dialog_class, setup, out: Path):
    """The dialog: shown, set up by ``setup(dialog)``, accepted through its OK button;
    the file dialog answers ``out``."""

    def exec_(self):
        self.show()
        setup(self)
        buttons = self.findChild(QtWidgets.QDialogButtonBox)
        buttons.button(QtWidgets.QDialogButtonBox.Ok).click()
        return self.result()

    monkeypatch.setattr(dialog_class, "exec", exec_)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(out), ""))


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_4k_transparent_screenshot_through_the_dialog(qtbot, window, tmp_path, monkeypatch):
    from PIL import Image

    from viewer.qt.media_dialogs import ScreenshotDialog

    _open_sample(qtbot, window)
    file_menu = window.menuBar().actions()[0].menu()
    assert window.screenshot_action in file_menu.actions()
    assert window.video_action in file_menu.actions()
    out = tmp_path / "shots" / "site_4k"  # the .png is added
    out.parent.mkdir()

    def setup(dialog):
        size = dialog.findChild(QtWidgets.QComboBox, "mediaSize")
        size.setCurrentIndex(size.findData("3840x2160"))
        assert not dialog.findChild(QtWidgets.QSpinBox, "mediaWidth").isEnabled()
        dialog.findChild(QtWidgets.QCheckBox, "mediaTransparent").setChecked(True)

    _answer(monkeypatch, ScreenshotDialog, setup, out)
    camera = window.renderer.camera_to_scene(emit=False)
    with qtbot.waitSignal(window.media.saved, timeout=JOB_TIMEOUT_MS) as saved:
        window.screenshot_action.trigger()
        assert window.progress.isVisible() and window.cancel_button.isVisible()
        assert not window.screenshot_action.isEnabled()
        assert not window.video_action.isEnabled()
    png = out.with_suffix(".png")
    assert saved.args == [png]
    image = Image.open(png)
    assert image.mode == "RGBA" and image.size == (3840, 2160)
    alpha = np.asarray(image)[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0  # the corners are background
    # the window's camera (its vertical view angle) in a wider picture: the site in the
    # middle, opaque, the rest see-through (the scan's adaptive points close into a
    # surface at 4K: about half the picture)
    assert (alpha == 0).mean() > 0.4 and (alpha == 255).sum() > 20_000
    assert alpha[1080 - 200:1080 + 200, 1920 - 300:1920 + 300].max() == 255
    assert _leftovers(out.parent) == ["site_4k.png"]
    # done: the bar is gone, the actions are back, the path is said, the view is unchanged
    assert not window.progress.isVisible() and not window.cancel_button.isVisible()
    assert window.screenshot_action.isEnabled() and window.video_action.isEnabled()
    assert str(png) in window.statusBar().currentMessage()
    after = window.renderer.camera_to_scene(emit=False)
    assert np.allclose(after.position, camera.position)
    assert np.allclose(after.focal_point, camera.focal_point)


def test_tiled_still_steps_while_the_window_handles_events(qtbot, window, tmp_path):
    """Beyond the tile size the picture is drawn a tile per timer tick; a timer of the
    window fires between tiles; the still equals its size."""
    from PIL import Image

    _open_sample(qtbot, window)
    window.media.max_tile = 512  # a 1600x900 picture in several tiles
    fired: list[int] = []
    job = window.media.save_still(tmp_path / "tiled.png", (1600, 900))
    assert job is not None and job.core.tiled and job.core.total > 4
    QtCore.QTimer.singleShot(0, lambda: fired.append(job.core.done))
    # a second job is refused while one runs
    assert window.media.save_still(tmp_path / "second.png", (100, 100)) is None
    with qtbot.waitSignal(window.media.saved, timeout=JOB_TIMEOUT_MS):
        pass
    assert fired and fired[0] < job.core.total  # the timer fired before the last tile
    assert Image.open(tmp_path / "tiled.png").size == (1600, 900)
    assert _leftovers(tmp_path) == ["settings.ini", "tiled.png"]  # not the refused one


def test_turntable_video_through_the_dialog(qtbot, window, tmp_path, monkeypatch):
    from viewer.media_render import read_video_info
    from viewer.qt.media_dialogs import VideoDialog

    _open_sample(qtbot, window)
    out = tmp_path / "spin.mp4"

    def setup(dialog):
        assert dialog.findChild(QtWidgets.QRadioButton, "videoTurntable").isChecked()
        dialog.findChild(QtWidgets.QDoubleSpinBox, "videoSeconds").setValue(1.0)
        assert dialog.findChild(QtWidgets.QSpinBox, "videoFps").value() == 30
        size = dialog.findChild(QtWidgets.QComboBox, "mediaSize")
        size.setCurrentIndex(size.findData("custom"))
        dialog.findChild(QtWidgets.QSpinBox, "mediaWidth").setValue(320)
        dialog.findChild(QtWidgets.QSpinBox, "mediaHeight").setValue(240)

    _answer(monkeypatch, VideoDialog, setup, out)
    ticks: list[int] = []
    timer = QtCore.QTimer(interval=0)
    timer.timeout.connect(lambda: ticks.append(1))
    with qtbot.waitSignal(window.media.saved, timeout=JOB_TIMEOUT_MS):
        window.video_action.trigger()
        job = window.media.job
        assert job is not None and job.core.total == 30
        timer.start()
    timer.stop()
    # another timer of the window ran many times while the 30 frames were drawn
    assert len(ticks) >= 10
    info = read_video_info(out)
    assert info["codec"] == "h264" and info["size"] == (320, 240)
    assert abs(info["fps"] - 30) < 0.01 and abs(info["frames"] - 30) <= 1
    assert _leftovers(tmp_path) == ["settings.ini", "spin.mp4"]
    assert not window.progress.isVisible()


def test_tour_video_from_the_dialog_choice(qtbot, window, tmp_path):
    from viewer.qt.media_dialogs import VideoDialog

    _open_sample(qtbot, window)
    tours = [t.name for t in window.session.project.tours]
    dialog = VideoDialog((640, 480), tours, window)
    tour = dialog.findChild(QtWidgets.QRadioButton, "videoTour")
    assert tour.isEnabled()
    tour.setChecked(True)
    assert not dialog.findChild(QtWidgets.QDoubleSpinBox, "videoSeconds").isEnabled()
    size = dialog.findChild(QtWidgets.QComboBox, "mediaSize")
    size.setCurrentIndex(size.findData("window"))
    request = dialog.request()
    assert request.tour == tours[0] and request.seconds is None
    assert request.size == (640, 480)
    # an odd window size gives an even video
    assert VideoDialog((641, 481), tours, window).sizes.size_value() != (641, 481)
    assert VideoDialog((641, 481), [], window).findChild(
        QtWidgets.QRadioButton, "videoTour").isEnabled() is False


def test_cancel_during_a_video_leaves_nothing(qtbot, window, tmp_path):
    from viewer.qt.media_dialogs import VideoRequest

    _open_sample(qtbot, window)
    out = tmp_path / "long.mp4"
    job = window.media.save_video(out, VideoRequest(size=(320, 240), seconds=10.0))
    assert job is not None and job.core.total == 300
    qtbot.waitUntil(lambda: job.core.done >= 3, timeout=JOB_TIMEOUT_MS)
    assert window.progress.isVisible()
    with qtbot.waitSignal(window.media.save_cancelled, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(window.cancel_button, QtCore.Qt.LeftButton)
    assert job.core.done < 300
    assert _leftovers(tmp_path) == ["settings.ini"]  # neither the film nor its part file
    assert not window.progress.isVisible() and not window.cancel_button.isVisible()
    assert window.video_action.isEnabled() and window.media.job is None


def test_errors_are_one_message(qtbot, window, tmp_path):
    from viewer.qt.media_dialogs import VideoRequest

    _open_sample(qtbot, window)
    with qtbot.waitSignal(window.media.save_failed) as failed:
        window.media.save_video(tmp_path / "x.mp4",
                                VideoRequest(size=(320, 240), seconds=None, tour="Nope"))
    assert "Nope" in failed.args[0] and "Condition walk" in failed.args[0]
    box = window.findChild(QtWidgets.QMessageBox, "mediaErrorDialog")
    assert box is not None and box.isVisible()
    box.close()
    with qtbot.waitSignal(window.media.save_failed) as failed:
        window.media.save_still(tmp_path / "missing" / "x.png", (100, 100))
    assert "does not exist" in failed.args[0]
    assert not window.progress.isVisible() and window.screenshot_action.isEnabled()
    assert _leftovers(tmp_path) == ["settings.ini"]


def test_closing_the_window_during_a_video_stops_it(qtbot, window, tmp_path):
    from viewer.qt.media_dialogs import VideoRequest

    _open_sample(qtbot, window)
    job = window.media.save_video(tmp_path / "closing.mp4",
                                  VideoRequest(size=(320, 240), seconds=10.0))
    qtbot.waitUntil(lambda: job.core.done >= 2, timeout=JOB_TIMEOUT_MS)
    assert window.close_without_asking()
    assert job.done and job.offscreen is None
    assert _leftovers(tmp_path) == ["settings.ini"]
