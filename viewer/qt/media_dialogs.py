"""Pictures and films from the window: File > Save screenshot… and File > Export video….

The work is the core's (:mod:`viewer.media_render`: :class:`StillJob` — any size, tiled
beyond :data:`viewer.media_render.MAX_DIRECT`, transparent on request — and
:class:`VideoJob` — turntable or tour, H.264 MP4), shared with ``realscene render`` and
:meth:`viewer.api.Site.render` / ``render_video``. Both draw through their own
:class:`viewer.offscreen.OffscreenRenderer` of the window's scene, starting from the
window's camera, so the window's view stays as it is.

VTK is not thread-safe: a job runs on the main thread, one step (one tile, one frame)
per tick of a zero-interval QTimer, so the window handles its events between steps. It is
shown in the window's progress bar; Cancel stops it at the next step and nothing is left
under the chosen name. One picture or film at a time: both actions are disabled meanwhile.

Object names (for tests and scripted sessions): ``screenshotDialog``, ``videoDialog``,
``mediaSize`` (the preset box), ``mediaWidth``, ``mediaHeight``, ``mediaTransparent``,
``videoTurntable``, ``videoSeconds``, ``videoTour``, ``videoTourName``, ``videoFps``,
``mediaErrorDialog``.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from heritage.exhibits.source import ExportCancelled

from .. import media_render
from .i18n import translate

#: size presets of pictures: key, label (translated when shown), size (None: window/custom)
STILL_PRESETS = [("window", QT_TR_NOOP("Window size ({w}×{h})")),
                 ("1920x1080", QT_TR_NOOP("Full HD 1920×1080")),
                 ("3840x2160", QT_TR_NOOP("4K 3840×2160")),
                 ("7680x4320", QT_TR_NOOP("8K 7680×4320")),
                 ("custom", QT_TR_NOOP("Custom size"))]
#: size presets of videos (even sizes: H.264)
VIDEO_PRESETS = [("window", QT_TR_NOOP("Window size ({w}×{h})")),
                 ("1280x720", QT_TR_NOOP("HD 1280×720")),
                 ("1920x1080", QT_TR_NOOP("Full HD 1920×1080")),
                 ("3840x2160", QT_TR_NOOP("4K 3840×2160")),
                 ("custom", QT_TR_NOOP("Custom size"))]


class SizeChooser(QtWidgets.QWidget):
    """A size preset and, for a custom size, width and height boxes."""

    def __init__(self, presets, window_size: tuple[int, int], default: str,
                 even: bool = False, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.even = even
        w, h = (int(window_size[0]), int(window_size[1]))
        if even:
            w, h = max(16, w - w % 2), max(16, h - h % 2)
        self.window_size = (w, h)
        self.combo = QtWidgets.QComboBox(objectName="mediaSize")
        for key, label in presets:
            text = translate("", label)
            if key == "window":
                text = text.format(w=w, h=h)
            self.combo.addItem(text, key)
        step = 2 if even else 1
        self.width_box = QtWidgets.QSpinBox(objectName="mediaWidth", minimum=16,
                                            maximum=16384, singleStep=step, value=w * 2)
        self.height_box = QtWidgets.QSpinBox(objectName="mediaHeight", minimum=16,
                                             maximum=16384, singleStep=step, value=h * 2)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.width_box)
        layout.addWidget(QtWidgets.QLabel("×"))
        layout.addWidget(self.height_box)
        self.combo.currentIndexChanged.connect(self._preset_changed)
        self.set_preset(default)

    def set_preset(self, key: str) -> None:
        self.combo.setCurrentIndex(max(0, self.combo.findData(key)))
        self._preset_changed()

    def set_custom(self, width: int, height: int) -> None:
        self.set_preset("custom")
        self.width_box.setValue(int(width))
        self.height_box.setValue(int(height))

    def _preset_changed(self, *_args) -> None:
        key = self.combo.currentData()
        custom = key == "custom"
        self.width_box.setEnabled(custom)
        self.height_box.setEnabled(custom)
        if not custom:
            w, h = self.window_size if key == "window" else map(int, key.split("x"))
            self.width_box.setValue(w)
            self.height_box.setValue(h)

    def size_value(self) -> tuple[int, int]:
        w, h = self.width_box.value(), self.height_box.value()
        if self.even:
            w, h = w - w % 2, h - h % 2
        return w, h


class ScreenshotDialog(QtWidgets.QDialog):
    """Asks for the picture's size (the window's, Full HD, 4K, 8K or any) and whether its
    background is transparent."""

    def __init__(self, window_size, parent=None) -> None:
        super().__init__(parent, objectName="screenshotDialog")
        self.setWindowTitle(self.tr("Save screenshot"))
        self.sizes = SizeChooser(STILL_PRESETS, window_size, "window", parent=self)
        self.transparent_box = QtWidgets.QCheckBox(self.tr("Transparent background"),
                                                   objectName="mediaTransparent")
        self.transparent_box.setToolTip(self.tr(
            "A PNG with an alpha channel: nothing drawn is see-through (for catalogues "
            "and posters)"))
        note = QtWidgets.QLabel(self.tr(
            "Pictures larger than {n} pixels are drawn in tiles; 8K takes a while."
        ).format(n=media_render.MAX_DIRECT), wordWrap=True)
        form = QtWidgets.QFormLayout(self)
        form.addRow(self.tr("Size"), self.sizes)
        form.addRow("", self.transparent_box)
        form.addRow(note)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok
                                             | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def size_value(self) -> tuple[int, int]:
        return self.sizes.size_value()

    def transparent(self) -> bool:
        return self.transparent_box.isChecked()


@dataclass
class VideoRequest:
    """What the video dialog asks for: a turntable of ``seconds`` or the tour ``tour``."""

    size: tuple[int, int]
    fps: float = media_render.VIDEO_FPS
    seconds: float | None = 12.0
    tour: str | None = None


class VideoDialog(QtWidgets.QDialog):
    """A turntable (seconds) or one of the project's tours, the size, the frame rate."""

    def __init__(self, window_size, tours: list[str], parent=None) -> None:
        super().__init__(parent, objectName="videoDialog")
        self.setWindowTitle(self.tr("Export video"))
        self.turntable_button = QtWidgets.QRadioButton(self.tr("Turntable"),
                                                       objectName="videoTurntable")
        self.seconds_box = QtWidgets.QDoubleSpinBox(objectName="videoSeconds", minimum=0.1,
                                                    maximum=600.0, decimals=1, value=12.0)
        self.seconds_box.setSuffix(self.tr(" s"))
        self.tour_button = QtWidgets.QRadioButton(self.tr("Tour"), objectName="videoTour")
        self.tour_box = QtWidgets.QComboBox(objectName="videoTourName")
        self.tour_box.addItems(tours)
        if not tours:
            self.tour_button.setEnabled(False)
            self.tour_button.setToolTip(self.tr("The project has no tours"))
        self.turntable_button.setChecked(True)
        self.turntable_button.toggled.connect(self._mode_changed)
        self.sizes = SizeChooser(VIDEO_PRESETS, window_size, "1920x1080", even=True,
                                 parent=self)
        self.fps_box = QtWidgets.QSpinBox(objectName="videoFps", minimum=1, maximum=120,
                                          value=int(media_render.VIDEO_FPS))
        form = QtWidgets.QFormLayout(self)
        form.addRow(self.turntable_button, self.seconds_box)
        form.addRow(self.tour_button, self.tour_box)
        form.addRow(self.tr("Size"), self.sizes)
        form.addRow(self.tr("Frames per second"), self.fps_box)
        form.addRow(QtWidgets.QLabel(self.tr("Written as H.264 MP4, starting from the current "
                                             "view."), wordWrap=True))
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok
                                             | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._mode_changed()

    def _mode_changed(self, *_args) -> None:
        turntable = self.turntable_button.isChecked()
        self.seconds_box.setEnabled(turntable)
        self.tour_box.setEnabled(not turntable)

    def request(self) -> VideoRequest:
        turntable = self.turntable_button.isChecked()
        return VideoRequest(size=self.sizes.size_value(), fps=float(self.fps_box.value()),
                            seconds=self.seconds_box.value() if turntable else None,
                            tour=None if turntable else self.tour_box.currentText())


class MediaJob(QtCore.QObject):
    """One picture or film drawn on the main thread, a step per timer tick. ``make`` gets
    the :class:`OffscreenRenderer` and returns the core job (StillJob / VideoJob); the
    window's camera is put back in the scene at the end. Signals: ``finished(job, path)``,
    ``failed(job, message)``, ``cancelled(job)``. Has what ``MainWindow.add_job`` needs."""

    finished = QtCore.Signal(object, object)
    failed = QtCore.Signal(object, str)
    cancelled = QtCore.Signal(object)

    def __init__(self, window, out: Path, size: tuple[int, int], kind: str,
                 make: Callable[[Any, Any], Any], parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.path = str(out)
        self.kind = kind  # "still" or "video"
        self.size = size
        self.make = make
        self.done = False
        self.last_fraction = 0.0
        self.core: Any = None
        self.offscreen: Any = None
        self._cancel = False
        self.timer = QtCore.QTimer(self, interval=0)
        self.timer.timeout.connect(self._tick)

    @property
    def progress_label(self) -> str:
        name = Path(self.path).name
        if self.kind == "video":
            return translate("MediaExports", "Rendering {name}…").format(name=name)
        return translate("MediaExports", "Saving {name}…").format(name=name)

    @property
    def is_cancelled(self) -> bool:
        return self._cancel

    def start(self) -> None:
        """Make the renderer and the core job (errors: ``failed``), then tick."""
        from ..offscreen import OffscreenRenderer

        window = self.window
        camera = window.renderer.camera_to_scene(emit=False)
        w, h = self.size
        limit = media_render.MAX_DIRECT
        try:
            # the view's decorations (scale bar, north arrow...) as the View menu shows them
            self.offscreen = OffscreenRenderer(window.scene, (min(w, limit), min(h, limit)),
                                               session=window.session,
                                               decorations=window.scene.decorations,
                                               lang=window.decorations.lang).__enter__()
            self.core = self.make(self.offscreen, camera)
        except Exception as exc:  # noqa: BLE001 - one message, never a crash
            self._end()
            self._fail(exc)
            return
        self.timer.start()

    def cancel(self) -> None:
        """Stop at the next step (nothing is left under the name)."""
        self._cancel = True

    def wait(self, timeout: float | None = None) -> None:
        """The window closes: stop now (a cancelled job ends at once)."""
        if not self.done:
            self._cancel = True
            self._tick()

    def _progress(self, fraction: float, _message: str) -> None:
        if self._cancel:
            raise ExportCancelled("cancelled")
        self.last_fraction = float(fraction)
        core = self.core
        if core is None or core.finished:
            return
        step, total, name = core.done + 1, core.total, Path(self.path).name
        if self.kind == "video":
            text = translate("MediaExports", "Rendering {name}: frame {i} of {n}").format(
                name=name, i=step, n=total)
        elif total > 1:
            text = translate("MediaExports", "Saving {name}: tile {i} of {n}").format(
                name=name, i=step, n=total)
        else:
            text = translate("MediaExports", "Saving {name}…").format(name=name)
        self.window.job_progress(self, fraction, text)

    def _tick(self) -> None:
        if self.done:
            return
        core = self.core
        try:
            if self._cancel:
                raise ExportCancelled("cancelled")
            more = core.step()
        except ExportCancelled:
            core.cancel()
            self._end()
            self.cancelled.emit(self)
            return
        except Exception as exc:  # noqa: BLE001 - one message, never a crash
            if not core.finished:
                core.cancel()
            self._end()
            self._fail(exc)
            return
        if not more:
            self._end()
            self.finished.emit(self, Path(self.path))

    def _end(self) -> None:
        self.timer.stop()
        self.done = True
        if self.offscreen is not None:
            offscreen, self.offscreen = self.offscreen, None
            offscreen.close()
            # the off-screen camera moved the scene's: the window's camera is the scene's
            self.window.renderer.camera_to_scene(emit=False)

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, (ValueError, KeyError, OSError)):
            message = str(exc)
        else:
            traceback.print_exc()
            message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str) \
                and not hasattr(exc, "message"):
            message = exc.args[0]
        self.failed.emit(self, message)


class MediaExports(QtCore.QObject):
    """The window's pictures and films: the dialogs, one job at a time in the progress bar
    (the screenshot and video actions disabled meanwhile), a status message with the path
    at the end, or one error message. ``window`` provides ``scene``, ``session``,
    ``renderer``, ``plotter``, ``settings``, ``add_job``, ``job_progress``,
    ``finish_job``, ``screenshot_action``, ``video_action`` and the status bar."""

    saved = QtCore.Signal(object)  # Path
    save_failed = QtCore.Signal(str)
    save_cancelled = QtCore.Signal()

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.job: MediaJob | None = None
        self.error_box: QtWidgets.QMessageBox | None = None
        #: largest side drawn in one piece (tiles beyond it)
        self.max_tile = media_render.MAX_DIRECT

    @property
    def busy(self) -> bool:
        return self.job is not None

    def _folder(self) -> str:
        window = self.window
        folder = window.settings.value("media_dir", "")
        if not folder and window.session.project.path:
            folder = str(window.session.project.folder)
        return str(folder or Path.home())

    def _ask_path(self, title: str, name: str, filter_: str, suffix: str) -> Path | None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, title, str(Path(self._folder()) / name), filter_)
        if not path:
            return None
        out = Path(path)
        if out.suffix.lower() != suffix:
            out = out.with_name(out.name + suffix)
        self.window.settings.setValue("media_dir", str(out.parent))
        return out

    # -- dialogs --------------------------------------------------------------------------
    def screenshot_dialog(self) -> MediaJob | None:
        if self.busy:
            return None
        dialog = ScreenshotDialog(self.window.plotter.window_size, self.window)
        if dialog.exec() != QtWidgets.QDialog.Accepted:
            return None
        out = self._ask_path(translate("MediaExports", "Save screenshot"), "realscene.png",
                             translate("MediaExports", "PNG image (*.png)"), ".png")
        if out is None:
            return None
        return self.save_still(out, dialog.size_value(), dialog.transparent())

    def video_dialog(self) -> MediaJob | None:
        if self.busy:
            return None
        window = self.window
        if not window.scene.layers:
            window.statusBar().showMessage(
                translate("MediaExports", "Open a project or files first."), 6000)
            return None
        tours = [t.name for t in window.session.project.tours]
        dialog = VideoDialog(window.plotter.window_size, tours, window)
        if dialog.exec() != QtWidgets.QDialog.Accepted:
            return None
        request = dialog.request()
        name = "turntable.mp4" if request.tour is None else f"{request.tour}.mp4"
        out = self._ask_path(translate("MediaExports", "Export video"), name,
                             translate("MediaExports", "MP4 video (*.mp4)"), ".mp4")
        if out is None:
            return None
        return self.save_video(out, request)

    # -- jobs -----------------------------------------------------------------------------
    def save_still(self, out: str | Path, size: tuple[int, int],
                   transparent: bool = False) -> MediaJob | None:
        """Draw a PNG of ``size`` from the window's view (in the background of the event
        loop); returns the job, None when one is already running."""
        max_tile = self.max_tile

        def make(offscreen, camera):
            return media_render.StillJob(offscreen, out, size, view=camera,
                                         transparent=transparent, max_tile=max_tile,
                                         progress=job._progress)

        job = MediaJob(self.window, Path(out), tuple(size), "still", make, self)
        return self._start(job)

    def save_video(self, out: str | Path, request: VideoRequest) -> MediaJob | None:
        """Render a turntable or tour video (MP4) from the window's view; returns the
        job, None when one is already running."""
        project, max_tile = self.window.session.project, self.max_tile

        def make(offscreen, camera):
            if request.tour is None:
                path = media_render.turntable(offscreen, float(request.seconds or 0),
                                              request.fps, view=camera)
            else:
                path = media_render.tour_path(offscreen, project, request.tour,
                                              request.fps, view=camera)
            return media_render.VideoJob(offscreen, out, path, request.size, request.fps,
                                         max_tile=max_tile, progress=job._progress)

        job = MediaJob(self.window, Path(out), tuple(request.size), "video", make, self)
        return self._start(job)

    def _start(self, job: MediaJob) -> MediaJob | None:
        if self.busy:
            return None
        self.job = job
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self._set_actions_enabled(False)
        self.window.add_job(job)
        job.start()
        return job

    def _set_actions_enabled(self, on: bool) -> None:
        for name in ("screenshot_action", "video_action"):
            action = getattr(self.window, name, None)
            if action is not None:
                action.setEnabled(on)

    def _done(self, job: MediaJob) -> None:
        self.job = None
        self._set_actions_enabled(True)
        self.window.finish_job(job)

    def _on_finished(self, job: MediaJob, path: Path) -> None:
        self._done(job)
        self.window.statusBar().showMessage(
            translate("MediaExports", "Saved {path}").format(path=path), 10000)
        self.saved.emit(path)

    def _on_failed(self, job: MediaJob, message: str) -> None:
        self._done(job)
        title = translate("MediaExports", "Cannot export the video") if job.kind == "video" else \
            translate("MediaExports", "Cannot save the picture")
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Warning, title, message,
                                    QtWidgets.QMessageBox.Ok, self.window)
        box.setObjectName("mediaErrorDialog")
        box.open()
        self.error_box = box
        self.save_failed.emit(message)

    def _on_cancelled(self, job: MediaJob) -> None:
        self._done(job)
        self.window.statusBar().showMessage(translate(
            "MediaExports", "Cancelled {name}; nothing was written").format(
            name=Path(job.path).name), 6000)
        self.save_cancelled.emit()
