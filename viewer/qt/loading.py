"""Background file loading: one worker thread per file, progress and cancel.

The worker reads the file with a progress callback; the callback forwards progress to
the GUI thread through a signal and raises :class:`LoadCancelled` once the user pressed
Cancel, which unwinds the reader cleanly (during the preview, the full read or the
octree build alike).

LAS/LAZ files go through :func:`loaders.progressive.read_progressive`: a coarse preview
cloud is emitted first (``preview`` signal) so the window can show the whole extent
early, then the full cloud (memory-guarded). Every point cloud then gets its in-memory
octree (:func:`loaders.lod.build_octree`), kept on ``job.lod`` for the layer.
"""

from __future__ import annotations

import threading
import traceback

from PySide6 import QtCore

import loaders
from loaders import LoadCancelled, LoadError, PointCloud, progressive

#: share of the progress bar for reading; the octree build takes the rest
READ_SHARE = 0.85
#: longest time the worker waits for the window to show the preview (see wait_preview)
PREVIEW_WAIT_S = 5.0


class LoadJob(QtCore.QObject):
    """Loads one file in a worker thread.

    Signals are emitted from the worker thread and delivered queued to the GUI thread.
    """

    progress = QtCore.Signal(object, float, str)  # job, fraction, message
    preview = QtCore.Signal(object, object)  # job, coarse PointCloud (LAS/LAZ only)
    finished = QtCore.Signal(object, object)  # job, dataset
    failed = QtCore.Signal(object, str)  # job, message
    cancelled = QtCore.Signal(object)  # job

    def __init__(self, path: str, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = False
        #: level-of-detail source built for the loaded cloud (None: none / failed)
        self.lod = None
        #: the coarse preview cloud, once emitted
        self.preview_data: PointCloud | None = None
        #: set by a window that calls :meth:`preview_shown` once it drew the preview: the
        #: worker then pauses until that (at most PREVIEW_WAIT_S), so that the first frame
        #: does not compete for the GIL with the decoder (lazrs holds it while decoding)
        self.wait_preview = False
        self._preview_shown = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"load:{self.path}", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()
        self._preview_shown.set()

    def preview_shown(self) -> None:
        """The GUI has shown the preview: let the worker go on with the full read."""
        self._preview_shown.set()

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

    def _scaled(self, a: float, b: float):
        def report(fraction: float, message: str = "") -> None:
            self._report(a + (b - a) * min(max(float(fraction), 0.0), 1.0), message)

        return report

    def _on_preview(self, cloud: PointCloud) -> None:
        if self._cancel.is_set():
            raise LoadCancelled(self.path)
        self.preview_data = cloud
        self.preview.emit(self, cloud)
        if self.wait_preview:
            self._preview_shown.wait(PREVIEW_WAIT_S)
        if self._cancel.is_set():
            raise LoadCancelled(self.path)

    def _read(self):
        read_progress = self._scaled(0.0, READ_SHARE)
        if progressive.is_progressive(self.path):
            return progressive.read_progressive(self.path, on_preview=self._on_preview,
                                                progress=read_progress)
        return loaders.read(self.path, progress=read_progress)

    def _build_lod(self, data):
        """The octree for a point cloud; None if there is no LOD builder or it failed
        (the layer is then drawn without one). Cancelling still cancels."""
        if not isinstance(data, PointCloud):
            return None
        try:
            from loaders.lod import build_octree
        except ImportError:  # the octree is not available in this build
            return None
        report = self._scaled(READ_SHARE, 1.0)
        report(0.0, "Building level of detail")
        try:
            return build_octree(data, progress=report)
        except (LoadCancelled, KeyboardInterrupt, SystemExit):
            raise
        except Exception:  # noqa: BLE001 - a LOD failure must not lose the data
            traceback.print_exc()
            data.warnings.append("level of detail could not be built; drawing a subsample")
            return None

    def _run(self) -> None:
        try:
            self._report(0.0, "opening")
            data = self._read()
            if self._cancel.is_set():
                raise LoadCancelled(self.path)
            self.lod = self._build_lod(data)
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
