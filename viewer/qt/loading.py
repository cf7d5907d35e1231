"""Background file loading: one worker thread per file, progress and cancel.

The work itself is the Qt-free scene pipeline (:func:`viewer.pipeline.load`: read ->
reproject into the scene CRS -> level of detail), the same the command line and scripts
use; this module only runs it in a thread. The pipeline's progress callback forwards
progress to the GUI thread through a signal and raises :class:`LoadCancelled` once the
user pressed Cancel, which unwinds the reader cleanly (during the preview, the full read,
the reprojection or the octree build alike).

LAS/LAZ files go through :func:`loaders.progressive.read_progressive`: a coarse preview
cloud is emitted first (``preview`` signal) so the window can show the whole extent
early, then the full cloud (memory-guarded). Every point cloud then gets its in-memory
octree (:func:`loaders.lod.build_octree`), kept on ``job.lod`` for the layer.

COPC files, http(s) URLs of COPC files, and LAS/LAZ files that have an up-to-date COPC
index (``realscene index`` / File > Index to COPC) are *streamed* instead: the job opens
the COPC hierarchy (:func:`loaders.copc.open_copc`), delivers its top levels as the
layer's data and the :class:`~loaders.copc.CopcSource` as ``job.lod``; the renderer then
fetches only the nodes the view needs.
"""

from __future__ import annotations

import threading
import time
import traceback

from PySide6 import QtCore
from PySide6.QtCore import QT_TR_NOOP

from loaders import LoadCancelled, LoadError, PointCloud

from .. import pipeline

#: share of the progress bar for reading; the octree build takes the rest
READ_SHARE = pipeline.READ_SHARE
#: shortest time between two progress reports of a job to the window: each one repaints
#: the progress bar and the status line, and a window holding a QOpenGLWidget (the 3D
#: view) composes all of itself through OpenGL for any repaint -- on software OpenGL
#: ~0.1 core-second a time, taken from the decode (measured: 0.8 core-s of an 8M-point
#: LAZ's load at 10 reports a second)
PROGRESS_EVERY_S = 0.5
#: longest time the worker waits for the window to show the preview (see wait_preview)
PREVIEW_WAIT_S = 5.0


class CrsOrder:
    """Files opened together decide the scene CRS in the order they were given, as on
    the command line (:func:`viewer.pipeline.open_files`): each job, before transforming
    its data, waits until the jobs before it know their CRS; the scene's CRS, else the
    first of theirs, is the one it transforms into. A job that fails or is cancelled
    counts as having none."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._known: list[tuple[bool, object]] = []

    def join(self) -> int:
        with self._cond:
            self._known.append((False, None))
            return len(self._known) - 1

    def report(self, index: int, crs) -> None:
        with self._cond:
            if not self._known[index][0]:
                self._known[index] = (True, crs)
                self._cond.notify_all()

    def crs_for(self, index: int, scene_crs, cancelled: threading.Event):
        """The CRS job ``index`` transforms into (``scene_crs()`` once it has one)."""
        with self._cond:
            while not all(done for done, _ in self._known[:index]):
                if cancelled.is_set():
                    return None
                self._cond.wait(0.1)
            earlier = [crs for _, crs in self._known[:index] if crs is not None]
        current = scene_crs() if scene_crs is not None else None
        return current if current is not None else (earlier[0] if earlier else None)


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
        #: callable giving the scene CRS to transform the data into (None: keep it)
        self.target_crs = None
        self._cancel = threading.Event()
        self._last_report = float("-inf")  # (progress is reported at most so often)
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
        #: True when the layer streams from a COPC (local, URL, or an index of the file)
        self.streamed = False
        #: the COPC index streamed instead of the file itself, if any
        self.streamed_from: str | None = None
        #: follow HTTP redirects to other hosts (asked of the user when refused)
        self.allow_redirects = False
        #: the LoadError of a failed load (``failed`` carries its message)
        self.error: LoadError | None = None
        #: a CRS the user assigned to this file's layer (text), used instead of the file's
        self.assign_crs: str | None = None
        #: files opened together: their order decides the scene CRS (see CrsOrder)
        self._crs_order: CrsOrder | None = None
        self._crs_index = 0

    def join_crs_order(self, order: CrsOrder | None) -> None:
        """Take part in ``order`` (call before :meth:`start`)."""
        if order is not None:
            self._crs_order, self._crs_index = order, order.join()

    def _crs_known(self, crs) -> None:
        if self._crs_order is not None:
            self._crs_order.report(self._crs_index, crs)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"load:{self.path}", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()
        self._preview_shown.set()

    def preview_shown(self) -> None:
        """The GUI has shown the preview: let the worker go on with the full read."""
        self._preview_shown.set()

    def _scene_crs(self):
        """The scene CRS when the data is transformed (another file may have set it)."""
        if self._crs_order is not None:
            return self._crs_order.crs_for(self._crs_index, self.target_crs, self._cancel)
        return self.target_crs() if self.target_crs is not None else None

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _report(self, fraction: float, message: str = "") -> None:
        if self._cancel.is_set():
            raise LoadCancelled(self.path)
        # at most one report per PROGRESS_EVERY_S (each one repaints the progress bar and
        # the status line in the GUI thread), the first and the last always
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_report < PROGRESS_EVERY_S:
            return
        self._last_report = now
        self.progress.emit(self, float(fraction), message)

    def _on_preview(self, cloud: PointCloud) -> None:
        if self._cancel.is_set():
            raise LoadCancelled(self.path)
        self.preview_data = cloud
        self.preview.emit(self, cloud)
        if self.wait_preview:
            self._preview_shown.wait(PREVIEW_WAIT_S)
        if self._cancel.is_set():
            raise LoadCancelled(self.path)

    def _run(self) -> None:
        try:
            self._report(0.0, QT_TR_NOOP("opening"))  # shown translated by the window
            loaded = pipeline.load(self.path, self._scene_crs, self._report,
                                   on_preview=self._on_preview,
                                   allow_redirects=self.allow_redirects,
                                   on_crs=self._crs_known, assign_crs=self.assign_crs)
            self.lod, self.streamed = loaded.lod, loaded.streamed
            self.streamed_from = loaded.streamed_from
            data = loaded.data
            pipeline.read_record_attributes(data, getattr(self, "record", None), self._report)
            if self._cancel.is_set():
                loaded.close()
                raise LoadCancelled(self.path)
        except LoadCancelled:
            self.done = True
            self.cancelled.emit(self)
        except LoadError as exc:
            self.done = True
            self.error = exc
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
        finally:
            self._crs_known(None)  # failed or cancelled: the jobs after it go on


class IndexJob(LoadJob):
    """Writes a COPC index of a LAS/LAZ file in a worker thread (File > Index to COPC).

    ``finished(job, out_path)`` carries the path of the written COPC.
    """

    def __init__(self, path: str, out: str | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(path, parent)
        self.out = out

    def _run(self) -> None:
        from loaders.writers.copc import write_copc

        try:
            self._report(0.0, QT_TR_NOOP("indexing"))  # shown translated by the window
            out = write_copc(self.path, self.out, progress=self._report)
        except LoadCancelled:
            self.done = True
            self.cancelled.emit(self)
        except LoadError as exc:
            self.done = True
            self.failed.emit(self, exc.message)
        except Exception as exc:  # noqa: BLE001 - never let a worker die silently
            traceback.print_exc()
            self.done = True
            self.failed.emit(self, f"{self.path}: cannot index: {type(exc).__name__}: {exc}")
        else:
            self.done = True
            self.finished.emit(self, str(out))
