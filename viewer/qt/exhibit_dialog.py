"""File > Export exhibit…: the dialog and the background export job.

The work is the core's (:mod:`viewer.exhibit`: the session -> ExhibitSource builder and
the export step that writes to a temporary name and renames it at the end; the formats in
:mod:`heritage.exhibits`), shared with ``realscene export`` and
:meth:`viewer.api.Site.export_exhibit`. This module adds what only the window has: the
choices (format, layers, annotations, tour, size budget with an estimate, output path),
a worker thread shown in the window's progress bar with Cancel, and the result (a status
message with an "Open folder" link, or one clear error message).

Object names (for tests and scripted sessions): ``exhibitDialog``, ``exhibitFormat``,
``exhibitLayers``, ``exhibitAnnotations``, ``exhibitCategories``, ``exhibitTour``,
``exhibitTriangles``, ``exhibitPoints``, ``exhibitEstimate``, ``exhibitOutput``,
``exhibitBrowse``, ``exhibitProblem``, ``exhibitDone`` (the status-bar link),
``exhibitErrorDialog``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from heritage.exhibits import FORMATS, ExportCancelled, ExportError

from .. import exhibit
from . import i18n
from .i18n import translate
from .jobs import WindowJob, start_in_window, warning_box

#: the formats as the dialog names them (translated when shown)
FORMAT_LABELS = {"glb": QT_TR_NOOP("GLB model with hotspots (one file)"),
                 "3dtiles": QT_TR_NOOP("3D Tiles 1.1 (folder)"),
                 "voyager": QT_TR_NOOP("Smithsonian Voyager scene (folder)"),
                 "web": QT_TR_NOOP("Offline web exhibit (folder)"),
                 "iiif": QT_TR_NOOP("IIIF Presentation 3 manifest (one file)")}
#: budgets the dialog starts with (0 in a box: no limit)
DEFAULT_TRIANGLES = 500_000
DEFAULT_POINTS = 2_000_000


@dataclass
class ExhibitRequest:
    """What the curator chose in the dialog."""

    fmt: str
    out: Path
    layers: list[str]
    annotations: Any  # "all", "none" or a filter (viewer.exhibit.by_category)
    tours: list[str]
    options: dict[str, Any] = field(default_factory=dict)


def _human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class ExhibitDialog(QtWidgets.QDialog):
    """The choices of an exhibit export of the window's session."""

    def __init__(self, session, parent: QtWidgets.QWidget | None = None,
                 folder: str | Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exhibitDialog")
        self.setWindowTitle(self.tr("Export exhibit"))
        self.session = session
        self.folder = Path(folder) if folder else Path.home()
        scene, project = session.scene, session.project
        available = set(_available_formats())

        self.format_box = QtWidgets.QComboBox(objectName="exhibitFormat")
        for key in FORMATS:
            label = translate("", FORMAT_LABELS.get(key, key))
            if key not in available:
                label += self.tr(" — not available yet")
            self.format_box.addItem(label, key)
            item = self.format_box.model().item(self.format_box.count() - 1)
            item.setEnabled(key in available)
        first = next((i for i in range(self.format_box.count())
                      if self.format_box.itemData(i) in available), 0)
        self.format_box.setCurrentIndex(first)

        self.layer_list = QtWidgets.QListWidget(objectName="exhibitLayers")
        for layer in scene.layers:
            item = QtWidgets.QListWidgetItem(layer.name)
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.Checked if layer.visible else QtCore.Qt.Unchecked)
            self.layer_list.addItem(item)
        self.layer_list.setMaximumHeight(110)

        self.annotation_mode = QtWidgets.QComboBox(objectName="exhibitAnnotations")
        self.annotation_mode.addItem(self.tr("All annotations ({n})").format(
            n=len(project.annotations)), "all")
        self.annotation_mode.addItem(self.tr("Only these categories"), "category")
        self.annotation_mode.addItem(self.tr("No annotations"), "none")
        self.category_list = QtWidgets.QListWidget(objectName="exhibitCategories")
        lang = i18n.current_language()
        present = list(dict.fromkeys(a.category for a in project.annotations))
        for key in present:
            count = sum(1 for a in project.annotations if a.category == key)
            item = QtWidgets.QListWidgetItem(
                f"{project.vocabulary.category_label(key, lang)} ({count})")
            item.setData(QtCore.Qt.UserRole, key)
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.Checked)
            self.category_list.addItem(item)
        self.category_list.setMaximumHeight(90)
        self.category_list.setEnabled(False)

        self.tour_box = QtWidgets.QComboBox(objectName="exhibitTour")
        self.tour_box.addItem(self.tr("No tour"), None)
        for tour in project.tours:
            self.tour_box.addItem(tour.name, tour.name)
        self.tour_box.setCurrentIndex(1 if project.tours else 0)

        self.triangles = QtWidgets.QSpinBox(objectName="exhibitTriangles")
        self.points = QtWidgets.QSpinBox(objectName="exhibitPoints")
        for box, value in ((self.triangles, DEFAULT_TRIANGLES), (self.points, DEFAULT_POINTS)):
            box.setRange(0, 2_000_000_000)
            box.setSingleStep(100_000)
            box.setGroupSeparatorShown(True)
            box.setSpecialValueText(self.tr("no limit"))
            box.setValue(value)
        self.estimate = QtWidgets.QLabel(objectName="exhibitEstimate")

        self.output = QtWidgets.QLineEdit(objectName="exhibitOutput")
        browse = QtWidgets.QPushButton(self.tr("Browse…"), objectName="exhibitBrowse")
        browse.clicked.connect(self.browse)
        out_row = QtWidgets.QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        self.problem = QtWidgets.QLabel(objectName="exhibitProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020")
        self.problem.setVisible(False)

        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.Ok).setText(self.tr("Export"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QtWidgets.QDialogButtonBox.Ok)

        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Format"), self.format_box)
        form.addRow(self.tr("Layers"), self.layer_list)
        form.addRow(self.tr("Annotations"), self.annotation_mode)
        form.addRow("", self.category_list)
        form.addRow(self.tr("Tour"), self.tour_box)
        form.addRow(self.tr("Most triangles"), self.triangles)
        form.addRow(self.tr("Most points"), self.points)
        form.addRow(self.tr("Estimated size"), self.estimate)
        form.addRow(self.tr("Save to"), out_row)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.annotation_mode.currentIndexChanged.connect(self._choices_changed)
        self.layer_list.itemChanged.connect(self._choices_changed)
        self.category_list.itemChanged.connect(self._choices_changed)
        self.triangles.valueChanged.connect(self._choices_changed)
        self.points.valueChanged.connect(self._choices_changed)
        self._format_changed()

    # -- choices --------------------------------------------------------------------------
    @property
    def fmt(self) -> str:
        return str(self.format_box.currentData())

    def _default_output(self) -> Path:
        project = self.session.project
        stem = project.path.name.split(".")[0] if project.path else "exhibit"
        suffix = exhibit.FILE_FORMATS.get(self.fmt)
        return self.folder / (f"{stem}{suffix}" if suffix else f"{stem}_{self.fmt}")

    def _format_changed(self) -> None:
        current = self.output.text().strip()
        if not current or Path(current).name == getattr(self, "_suggested", ""):
            suggestion = self._default_output()
            self._suggested = suggestion.name
            self.output.setText(str(suggestion))
        self._choices_changed()

    def chosen_layers(self) -> list[str]:
        return [self.layer_list.item(i).text() for i in range(self.layer_list.count())
                if self.layer_list.item(i).checkState() == QtCore.Qt.Checked]

    def chosen_annotations(self) -> Any:
        mode = self.annotation_mode.currentData()
        if mode != "category":
            return mode
        keys = [self.category_list.item(i).data(QtCore.Qt.UserRole)
                for i in range(self.category_list.count())
                if self.category_list.item(i).checkState() == QtCore.Qt.Checked]
        return exhibit.by_category(*keys)

    def request(self) -> ExhibitRequest:
        tour = self.tour_box.currentData()
        options = {"triangles": self.triangles.value() or None,
                   "points": self.points.value() or None}
        options, _ignored = exhibit.format_options(self.fmt, options)
        return ExhibitRequest(self.fmt, Path(self.output.text().strip()).expanduser(),
                              self.chosen_layers(), self.chosen_annotations(),
                              [tour] if tour else [], options)

    def _choices_changed(self, *_args) -> None:
        self.category_list.setEnabled(self.annotation_mode.currentData() == "category")
        try:
            source = exhibit.exhibit_source(self.session, self.chosen_layers(),
                                             self.chosen_annotations(), [])
        except ValueError:
            self.estimate.setText(self.tr("choose at least one layer"))
            self.ok_button.setEnabled(False)
            return
        self.ok_button.setEnabled(True)
        size = exhibit.estimate_size(source, self.triangles.value() or None,
                                     self.points.value() or None)
        self.estimate.setText(self.tr("about {size}, {n} hotspots").format(
            size=_human_size(size), n=len(source.annotations)))

    def browse(self) -> None:
        current = self.output.text().strip() or str(self._default_output())
        suffix = exhibit.FILE_FORMATS.get(self.fmt)
        if suffix:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, self.tr("Export exhibit to"), current,
                self.tr("{fmt} files (*{suffix})").format(fmt=self.fmt.upper(),
                                                         suffix=suffix))
        else:
            path = QtWidgets.QFileDialog.getExistingDirectory(
                self, self.tr("Export exhibit into a new or empty folder"), current)
        if path:
            self.output.setText(path)

    def accept(self) -> None:
        """Check the output (never the project or one of its files, a folder export needs
        a new or empty folder) before closing; a problem is shown in the dialog."""
        request = self.request()
        try:
            if not str(request.out).strip() or str(request.out) == ".":
                raise ValueError(self.tr("Choose where to save the exhibit."))
            exhibit.check_output(request.fmt, request.out, exhibit.input_files(self.session))
        except ValueError as exc:
            self.problem.setText(str(exc))
            self.problem.setVisible(True)
            return
        self.problem.setVisible(False)
        super().accept()


def _available_formats() -> list[str]:
    from heritage.exhibits import available_formats

    return available_formats()


class ExhibitJob(WindowJob):
    """One export in a worker thread. The source is made in the GUI thread when the job is
    made (a snapshot: later edits do not reach it); the worker writes it with
    :func:`viewer.exhibit.write_exhibit` (temporary name, renamed at the end). Cancel is
    seen at the next progress report (:class:`ExportCancelled`): nothing is left behind.
    Signals are delivered queued to the GUI thread."""

    def __init__(self, session, request: ExhibitRequest,
                 parent: QtCore.QObject | None = None) -> None:
        self.request = request
        self.source = exhibit.exhibit_source(session, request.layers, request.annotations,
                                             request.tours)
        self.inputs = exhibit.input_files(session)
        super().__init__(self._work, self._label, (ExportCancelled,),
                         path=str(request.out), name=f"export:{request.out}",
                         errors=(ExportError, ValueError, OSError),
                         raise_on_cancel=ExportCancelled, parent=parent)

    def _label(self) -> str:
        return translate("ExhibitJob", "Exporting {name}…").format(name=Path(self.path).name)

    def _work(self, progress, cancel):
        r = self.request
        progress(0.0, "")
        return exhibit.write_exhibit(self.source, r.fmt, r.out, progress,
                                     inputs=self.inputs, **r.options)


class ExhibitExports(QtCore.QObject):
    """The window's exhibit exports: File > Export exhibit… opens the dialog; an accepted
    dialog starts an :class:`ExhibitJob` in the window's progress bar (Cancel cancels it);
    the end is a status message with an "Open folder" link, or one error message.
    ``window`` provides ``session``, ``settings``, ``add_job``, ``job_progress``,
    ``finish_job`` and the status bar."""

    exported = QtCore.Signal(object)  # ExportResult
    export_failed = QtCore.Signal(str)
    export_cancelled = QtCore.Signal()

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: ExhibitDialog | None = None
        self.error_box: QtWidgets.QMessageBox | None = None
        self.done_label = QtWidgets.QLabel(objectName="exhibitDone")
        self.done_label.setTextFormat(QtCore.Qt.RichText)
        self.done_label.linkActivated.connect(self._open_folder)
        self.done_label.setVisible(False)
        window.statusBar().addPermanentWidget(self.done_label)
        self._hide_done = QtCore.QTimer(self, singleShot=True, interval=30_000)
        self._hide_done.timeout.connect(self.done_label.hide)
        self._folder = Path.home()

    def open_dialog(self) -> ExhibitDialog | None:
        """Show the dialog (not blocking); returns it. None without layers (said in the
        status bar)."""
        window = self.window
        if not window.session.scene.layers:
            window.statusBar().showMessage(
                translate("ExhibitExports", "Open a project or files to export first."), 6000)
            return None
        folder = window.settings.value("exhibit_dir", "") or \
            (window.session.project.folder if window.session.project.path else Path.home())
        self.dialog = ExhibitDialog(window.session, window, folder)
        self.dialog.accepted.connect(self._dialog_accepted)
        self.dialog.open()
        return self.dialog

    def _dialog_accepted(self) -> None:
        if self.dialog is not None:
            self.start(self.dialog.request())

    def start(self, request: ExhibitRequest) -> ExhibitJob | None:
        """Export in the background; returns the job (None when the choices are refused:
        said in an error message)."""
        window = self.window
        window.settings.setValue("exhibit_dir", str(Path(request.out).parent))
        try:
            job = ExhibitJob(window.session, request, self)
        except ValueError as exc:
            self._show_error(str(exc))
            return None
        self.done_label.setVisible(False)
        return start_in_window(window, job, progress_text=self._progress_text,
                               finished=self._on_finished, failed=self._on_failed,
                               cancelled=self._on_cancelled)

    @staticmethod
    def _progress_text(job: ExhibitJob, fraction: float, message: str) -> str:
        return translate("ExhibitExports", "Exporting {name}: {message} {percent}").format(
            name=Path(job.path).name, message=translate("", message),
            percent=f"{fraction:.0%}")

    def _on_finished(self, job: ExhibitJob, result) -> None:
        folder = Path(result.path) if Path(result.path).is_dir() else Path(result.path).parent
        self._folder = folder
        counts = ", ".join(f"{v:,} {k}" for k, v in result.counts.items())
        self.done_label.setText(translate(
            "ExhibitExports", "Exhibit written: {path} ({counts}) — <a href=\"open\">Open "
            "folder</a>").format(path=result.path, counts=counts))
        self.done_label.setToolTip("\n".join(result.warnings))
        self.done_label.setVisible(True)
        self._hide_done.start()
        self.window.statusBar().showMessage(
            translate("ExhibitExports", "Exported {path}").format(path=result.path), 10000)
        self.exported.emit(result)

    def _on_failed(self, job: ExhibitJob, message: str) -> None:
        self._show_error(message)
        self.export_failed.emit(message)

    def _on_cancelled(self, job: ExhibitJob) -> None:
        self.window.statusBar().showMessage(translate(
            "ExhibitExports", "Cancelled the export of {name}; nothing was written").format(
            name=Path(job.path).name), 6000)
        self.export_cancelled.emit()

    def _show_error(self, message: str) -> None:
        self.error_box = warning_box(self.window, translate("ExhibitExports", "Cannot export"),
                                     message, "exhibitErrorDialog")

    def _open_folder(self, _link: str = "") -> None:
        QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(self._folder)))
