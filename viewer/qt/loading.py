"""Background file loading: one worker thread per file, progress and cancel.

The worker calls :func:`loaders.read` with a progress callback; the callback forwards
progress to the GUI thread through a signal and raises :class:`LoadCancelled` once the
user pressed Cancel, which unwinds the reader cleanly.
"""

from __future__ import annotations

import threading
import traceback

from PySide6 import QtCore

import loaders
from loaders import LoadCancelled, LoadError


class LoadJob(QtCore.QObject):
    """Loads one file in a worker thread.

    Signals are emitted from the worker thread and delivered queued to the GUI thread.
    """

    progress = QtCore.Signal(object, float, str)  # job, fraction, message
    finished = QtCore.Signal(object, object)  # job, dataset
    failed = QtCore.Signal(object, str)  # job, message
    cancelled = QtCore.Signal(object)  # job

    def __init__(self, path: str, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"load:{self.path}", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _report(self, fraction: float, message: str = "") -> None:
        if self._cancel.is_set():
            raise LoadCancelled(self.path)
        self.progress.emit(self, float(fraction), message)

    def _run(self) -> None:
        try:
            self._report(0.0, "opening")
            data = loaders.read(self.path, progress=self._report)
            if self._cancel.is_set():
                raise LoadCancelled(self.path)
        except LoadCancelled:
            self.done = True
            self.cancelled.emit(self)
        except LoadError as exc:
            self.done = True
            self.failed.emit(self, exc.message)
        except BaseException as exc:  # noqa: BLE001 - never let a worker die silently
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            traceback.print_exc()
            self.done = True
            self.failed.emit(self, f"{self.path}: unexpected error: {type(exc).__name__}: {exc}")
        else:
            self.done = True
            self.finished.emit(self, data)
