"""One background job for the window's tools, and the usual wiring into the window.

A tool's work is a Qt-free call of the core, ``work(progress, cancel) -> result``:
``progress(fraction, message)`` reports, ``cancel()`` says whether the user pressed
Cancel, and the core raises its own "cancelled" exception to stop. :class:`WindowJob`
runs it in a daemon thread and turns its end into one of the signals (delivered queued to
the GUI thread when connected to a QObject's method):

- the result: ``finished(job, result)``;
- one of the core's cancelled exceptions: ``cancelled(job)``;
- an expected error (LoadError, ValueError, OSError unless told otherwise): ``failed(job,
  message)`` with the error's one line;
- anything else: the traceback printed, ``failed(job, "Type: message")`` - never a crash,
  never a silent worker.

A job has what ``MainWindow.add_job`` needs (``path``, ``progress_label``, ``done``,
``last_fraction``, ``cancel()``, ``wait()``); :func:`start_in_window` shows it in the
window's progress bar (Cancel cancels it) and calls ``window.finish_job`` before the
tool's own handler of each end.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from loaders import LoadError

from . import i18n

Progress = Callable[..., None]
Work = Callable[[Progress, Callable[[], bool]], Any]
# errors whose message is shown as it is (one line); any other is a "Type: message"
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (LoadError, ValueError, OSError)


class WindowJob(QtCore.QObject):
    """``work(progress, cancel)`` in a worker thread, its end as a signal.

    ``label`` (text, or a callable giving it in the current language) is the progress
    bar's label; ``cancelled_types`` the core's exceptions meaning "cancelled";
    ``errors`` the exceptions whose message is shown as it is. ``raise_on_cancel``: a
    callable making the cancelled exception, raised by ``progress`` once Cancel was
    pressed (for a core that only takes a progress callback)."""

    progress = QtCore.Signal(object, float, str)  # job, fraction, message
    finished = QtCore.Signal(object, object)  # job, result
    failed = QtCore.Signal(object, str)  # job, message
    cancelled = QtCore.Signal(object)  # job

    def __init__(self, work: Work, label: str | Callable[[], str] = "",
                 cancelled_types: tuple[type[BaseException], ...] = (), *,
                 path: str = "", name: str = "job",
                 errors: tuple[type[BaseException], ...] = EXPECTED_ERRORS,
                 raise_on_cancel: Callable[[], BaseException] | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.work = work
        self.label = label
        self.cancelled_types = tuple(cancelled_types)
        self.errors = tuple(errors)
        self.raise_on_cancel = raise_on_cancel
        self.path = str(path)
        self.name = name
        self.done = False
        self.last_fraction = 0.0
        self.result: Any = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def progress_label(self) -> str:
        return self.label() if callable(self.label) else self.label

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _report(self, fraction: float, message: str = "") -> None:
        if self.raise_on_cancel is not None and self._cancel.is_set():
            raise self.raise_on_cancel()
        self.progress.emit(self, float(fraction), message)

    def _run(self) -> None:
        try:
            result = self.work(self._report, self._cancel.is_set)
        except BaseException as exc:  # noqa: BLE001 - never let a worker die silently
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self.done = True
            if isinstance(exc, self.cancelled_types):
                self.cancelled.emit(self)
            elif isinstance(exc, self.errors):
                self.failed.emit(self, str(getattr(exc, "message", exc)))
            else:
                traceback.print_exc()
                self.failed.emit(self, f"{type(exc).__name__}: {exc}")
        else:
            self.result = result
            self.done = True
            self.finished.emit(self, result)


class _Wiring(QtCore.QObject):
    """Receives a job's signals in the GUI thread (a QObject living there: the worker's
    emits are queued) and passes them to the window and the tool."""

    def __init__(self, window, job: WindowJob, progress_text, finished, failed,
                 cancelled, cancelled_ms: int) -> None:
        super().__init__(job)
        self.window = window
        self.progress_text, self.finished, self.failed = progress_text, finished, failed
        self.cancelled, self.cancelled_ms = cancelled, cancelled_ms
        job.progress.connect(self.on_progress)
        job.finished.connect(self.on_finished)
        job.failed.connect(self.on_failed)
        job.cancelled.connect(self.on_cancelled)

    def on_progress(self, job, fraction: float, message: str) -> None:
        text = self.progress_text(job, fraction, message)
        if text is not None:
            self.window.job_progress(job, fraction, text)

    def on_finished(self, job, result) -> None:
        self.window.finish_job(job)
        self.finished(job, result)

    def on_failed(self, job, message: str) -> None:
        self.window.finish_job(job)
        self.failed(job, message)

    def on_cancelled(self, job) -> None:
        self.window.finish_job(job)
        text = self.cancelled(job)
        if text:
            self.window.statusBar().showMessage(text, self.cancelled_ms)


def start_in_window(window, job: WindowJob, *,
                    progress_text: Callable[[WindowJob, float, str], str | None],
                    finished: Callable[[WindowJob, Any], None],
                    failed: Callable[[WindowJob, str], None],
                    cancelled: Callable[[WindowJob], str | None],
                    cancelled_ms: int = 6000) -> WindowJob:
    """Show ``job`` in the window's progress bar (Cancel cancels it) and start it.

    ``progress_text(job, fraction, message)`` is the status bar's text while it runs
    (None: that report is not shown); at the end the window forgets the job, then
    ``finished(job, result)``, ``failed(job, message)`` or ``cancelled(job)`` runs in the
    GUI thread (the text ``cancelled`` returns, if any, is shown in the status bar for
    ``cancelled_ms``)."""
    job._wiring = _Wiring(window, job, progress_text, finished, failed, cancelled,
                          cancelled_ms)
    window.add_job(job)
    job.start()
    return job


def tools_menu(window) -> QtWidgets.QMenu:
    """The window's Tools menu (``toolsMenu``), made before Help by the first tool."""
    bar = window.menuBar()
    menu = bar.findChild(QtWidgets.QMenu, "toolsMenu")
    if menu is None:
        menu = QtWidgets.QMenu(bar, objectName="toolsMenu")
        i18n.set_text(menu, "setTitle", "", QT_TR_NOOP("&Tools"))
        actions = bar.actions()
        if actions:
            bar.insertMenu(actions[-1], menu)
        else:
            bar.addMenu(menu)
    return menu


def warning_box(parent: QtWidgets.QWidget, title: str, message: str,
                object_name: str) -> QtWidgets.QMessageBox:
    """A non-blocking warning (opened; keep the returned box to close it in tests)."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Warning, title, message,
                                QtWidgets.QMessageBox.Ok, parent)
    box.setObjectName(object_name)
    box.open()
    return box


__all__ = ["EXPECTED_ERRORS", "WindowJob", "start_in_window", "tools_menu", "warning_box"]
