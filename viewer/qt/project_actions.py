"""The File menu's project actions in the window: new, open, close, save, import, export,
recover, recent files, the sample site; the question asked when a file in another
coordinate system joins the scene; the camera a project opens on (its first saved view).

The work is the session's (:class:`viewer.session.ProjectSession`: ``open_project``,
``recover_project``, ``import_annotations``, ``save``, ``autosave``...), shared with the
command line and scripts; this module adds what only the window has: file choosers, the
questions of :mod:`viewer.qt.dialogs`, the settings (last project, recent files), the
status bar, and reading a project's layers in the background (through the window's
``open_paths``, which hands each one back to ``session.restore_layer``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP

from loaders import supported_extensions

from . import dialogs, i18n
from .i18n import translate

if TYPE_CHECKING:
    from viewer.session import OpenedProject

MAX_RECENT = 10
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "assets" / "sample_site"
SAMPLE_FILES = [
    SAMPLE_DIR / "delft_city_lod1" / "testarea.obj",
    SAMPLE_DIR / "delft_ahn3.laz",
]
SAMPLE_PROJECT = SAMPLE_DIR / "delft.realscene.json"

#: size of the annotation views rendered into condition reports
REPORT_VIEW_SIZE = (640, 400)

EXPORT_FORMATS = {"webanno": QT_TR_NOOP("W3C Web Annotation (*.jsonld)"),
                  "geojson": QT_TR_NOOP("GeoJSON (*.geojson)"),
                  "csv": QT_TR_NOOP("CSV table (*.csv)"),
                  "report": QT_TR_NOOP("Condition report (*.html *.pdf)")}


def file_filter() -> str:
    """The Open dialog's filter: every readable extension, and the tiled sources by
    name (a tileset's ``tileset.json``, an OSGB tileset's ``metadata.xml``), whose file
    names are the whole pattern, not an extension."""
    names = sorted({*supported_extensions(), "tileset.json", "metadata.xml"})
    exts = " ".join(f"*.{e}" for e in names)
    whole = " ".join(e for e in names if "." in e)  # matched by the whole file name
    return translate("ProjectActions", "3D data ({exts});;"
                     "Tilesets: 3D Tiles, OSGB, GeoTIFF terrain ({tiles});;All files (*)"
                     ).format(exts=f"{whole} {exts}",
                              tiles="tileset.json metadata.xml *.osgb *.tif *.tiff")


def folder_source(folder: str | Path) -> str:
    """What opening ``folder`` reads: its ``tileset.json`` when it holds one (a 3D Tiles
    folder), else the folder itself (an OSGB tileset; the reader says when it is not)."""
    tileset = Path(folder) / "tileset.json"
    return str(tileset) if tileset.is_file() else str(folder)


class ProjectActions:
    """The window's project actions; ``window`` (the main window) provides the session,
    the settings, the status bar, ``open_paths`` (background reading),
    and ``update_undo_actions``."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        self.window = window
        self.session = window.session
        self.settings = window.settings
        self.recent_menu: QtWidgets.QMenu | None = None
        #: the saved view the project just opened will show once its first layer is
        #: drawn (None: fit the data)
        self.opening_view = None
        #: the open "file in another CRS" question, if any (``crsFitDialog``)
        self.fit_box: QtWidgets.QMessageBox | None = None

    def _status(self, text: str, ms: int) -> None:
        self.window.statusBar().showMessage(text, ms)

    def _last_dir(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    # -- menu -----------------------------------------------------------------------------
    def fill_file_menu(self, menu: QtWidgets.QMenu, open_action, open_project_action,
                       save_action, save_as_action, open_url_action, sample_action) -> None:
        """The project part of the File menu (the window adds index, screenshot, quit)."""
        self.new_action = QtGui.QAction(self.window, objectName="newProject")
        i18n.set_text(self.new_action, "setText", "", QT_TR_NOOP("&New project"))
        self.new_action.setShortcut(QtGui.QKeySequence.New)
        self.new_action.triggered.connect(lambda _=False: self.new_project())
        self.close_action = QtGui.QAction(self.window, objectName="closeProject")
        i18n.set_text(self.close_action, "setText", "", QT_TR_NOOP("&Close project"))
        self.close_action.setShortcut(QtGui.QKeySequence.Close)
        self.close_action.triggered.connect(lambda _=False: self.close_project())
        self.open_folder_action = QtGui.QAction(self.window, objectName="openFolder")
        i18n.set_text(self.open_folder_action, "setText", "", QT_TR_NOOP("Open &folder…"))
        i18n.set_text(self.open_folder_action, "setToolTip", "",
                      QT_TR_NOOP("A tileset folder: OSGB oblique photogrammetry (metadata.xml "
                                 "and Data/) or a 3D Tiles folder (tileset.json)"))
        self.open_folder_action.triggered.connect(lambda _=False: self.open_folder_dialog())
        menu.addAction(self.new_action)
        menu.addAction(open_action)
        menu.addAction(self.open_folder_action)
        menu.addAction(open_project_action)
        menu.addAction(save_action)
        menu.addAction(save_as_action)
        menu.addAction(self.close_action)
        i18n.set_text(menu.addAction("", self.import_annotations_dialog), "setText", "",
                      QT_TR_NOOP("&Import annotations…"))
        i18n.set_text(menu.addAction("", self.export_annotations_dialog), "setText", "",
                      QT_TR_NOOP("&Export annotations / report…"))
        menu.addAction(open_url_action)
        self.recent_menu = menu.addMenu("")
        i18n.set_text(self.recent_menu, "setTitle", "", QT_TR_NOOP("Open &recent"))
        menu.addAction(sample_action)
        self.refresh_recent()

    # -- opening files ----------------------------------------------------------------------
    def open_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self.window, translate("ProjectActions", "Open 3D data"), self._last_dir(),
            file_filter())
        if paths:
            self.settings.setValue("last_dir", str(Path(paths[0]).parent))
            self.window.open_paths(paths)

    def open_folder_dialog(self) -> None:
        """File > Open folder…: a tileset folder (OSGB with metadata.xml and Data/, or a
        folder holding a tileset.json), read by the same pipeline as a file."""
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self.window, translate("ProjectActions", "Open a tileset folder"), self._last_dir())
        if folder:
            self.settings.setValue("last_dir", str(Path(folder).parent))
            self.window.open_paths([folder_source(folder)])

    def open_url_dialog(self) -> None:
        url = dialogs.ask_url(self.window, str(self.settings.value("last_url", "https://")))
        if url:
            self.settings.setValue("last_url", url)
            self.window.open_paths([url])

    def open_sample(self) -> None:
        """The bundled Delft sample project: scan, city mesh, annotations, measurements,
        views and a tour (falls back to the bare files if the project is unreadable)."""
        from heritage.project import ProjectError

        try:
            self.open_project(str(SAMPLE_PROJECT))
        except ProjectError as exc:
            self._status(str(exc), 8000)
            self.window.open_paths([str(p) for p in SAMPLE_FILES])

    # -- recent files -----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        recent.insert(0, path)
        self.settings.setValue("recent_files", recent[:MAX_RECENT])
        self.refresh_recent()

    def refresh_recent(self) -> None:
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        recent = self.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        self.recent_menu.setEnabled(bool(recent))

    def open_recent(self, path: str) -> None:
        """A recent file: a project opens as a project (asking to save first), anything
        else as a layer."""
        from viewer.pipeline import is_project

        if not is_project(path):
            self.window.open_paths([path])
        elif self.maybe_save(QT_TR_NOOP("opening another project")):
            self.open_project_asking(path)

    # -- projects -----------------------------------------------------------------------------
    def new_project(self) -> bool:
        """File > New project: after asking about unsaved work, an empty, untitled
        project (no layers, annotations, measurements, views or tours). False when the
        user cancelled."""
        if not self.maybe_save(QT_TR_NOOP("starting a new project")):
            return False
        self._empty()
        self._status(translate("ProjectActions", "New project"), 4000)
        return True

    def close_project(self) -> bool:
        """File > Close project: as New, and the window is left empty (the next start
        does not reopen it). False when the user cancelled."""
        if not self.maybe_save(QT_TR_NOOP("closing the project")):
            return False
        self._empty()
        self.settings.remove("last_project")
        self._status(translate("ProjectActions", "Project closed"), 4000)
        return True

    def _empty(self) -> None:
        """Stop the loads, drop an open question, empty the session (core:
        ``session.new_project``)."""
        self.window.cancel_loads()
        if self.fit_box is not None:
            self.fit_box.done(QtWidgets.QMessageBox.Cancel)
        self.opening_view = None
        self.session.new_project()
        self.window.update_undo_actions()

    def take_opening_view(self):
        """The saved view a project just opened on (once), else None: the window shows it
        instead of fitting when the project's first layer arrives."""
        view, self.opening_view = self.opening_view, None
        return view

    # -- a file in another coordinate system -----------------------------------------------
    def offer_fit(self, job, data, lod) -> bool:
        """``data`` (just read for ``job``) is about to join a scene whose CRS it does not
        share (:func:`viewer.pipeline.crs_fit`): ask, without blocking, "Add anyway"
        (transformed into the scene's CRS, or placed at the scene's centre), "Open in a
        new project" or "Cancel" (the box ``crsFitDialog``). False when it fits (the
        caller adds it)."""
        from viewer import pipeline

        name = Path(job.path).name
        fit = pipeline.crs_fit(self.session.scene, data, name)
        if fit is None:
            return False
        loaded = pipeline.Loaded(job.path, data, lod, job.streamed, job.streamed_from)
        tr = lambda text: translate("ProjectActions", text)  # noqa: E731
        if fit.kind == "other_crs":
            text = tr("{name} is in {file_crs}; the scene is in {scene_crs}.")
            add_text = tr("Add anyway (reproject)")
        elif fit.kind == "no_crs":
            text = tr("{name} has no coordinate system and no units; the scene is in "
                      "{scene_crs}.")
            add_text = tr("Add anyway (place at the scene's centre)")
        else:
            text = tr("{name} is in {file_crs}; the scene has local coordinates (no "
                      "coordinate system).")
            add_text = tr("Add anyway (place at the scene's centre)")
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Question,
                                    tr("Another coordinate system"),
                                    text.format(name=name, file_crs=fit.file_crs,
                                                scene_crs=fit.scene_crs), parent=self.window)
        box.setObjectName("crsFitDialog")
        box.setInformativeText(tr("Add it to this project anyway, open it in a new project, "
                                  "or cancel?"))
        add = box.addButton(add_text, QtWidgets.QMessageBox.AcceptRole)
        add.setObjectName("addAnyway")
        new = box.addButton(tr("Open in a new project"), QtWidgets.QMessageBox.ActionRole)
        new.setObjectName("openInNewProject")
        cancel = box.addButton(QtWidgets.QMessageBox.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)

        def finished(_result: int) -> None:
            clicked = box.clickedButton()
            if self.fit_box is box:
                self.fit_box = None
            box.deleteLater()
            self.answer_fit(loaded, fit, "add" if clicked is add else
                            "new" if clicked is new else "cancel")

        box.finished.connect(finished)
        box.setModal(False)
        self.fit_box = box
        box.show()
        return True

    def answer_fit(self, loaded, fit, answer: str):
        """Do what was chosen for a file that does not fit the scene: "add" (placed at the
        scene's centre unless it was transformed into its CRS), "new" (a new project with
        it, after asking about unsaved work) or "cancel". Returns the layer or None."""
        from viewer import pipeline

        name = Path(loaded.path).name
        if answer == "new" and self.maybe_save(QT_TR_NOOP("opening the file in a new project")):
            self._empty()
            return pipeline.add_to_scene(self.session.scene, loaded)  # fitted: first
        if answer == "add":
            layer = pipeline.add_to_scene(self.session.scene, loaded)
            if fit.kind != "other_crs" and pipeline.place_in_scene(self.session.scene, layer):
                self._status(translate("ProjectActions", "{name} placed at the scene's centre"
                                       ).format(name=name), 6000)
            return layer
        loaded.close()
        self._status(translate("ProjectActions", "Not opened: {name}").format(name=name), 5000)
        return None

    def _read_layers(self, opened: OpenedProject) -> list:
        """Read the project's layers in the background (each is handed back to
        ``session.restore_layer`` when it has loaded); show the project's warnings. The
        first layer drawn shows the project's first saved view. Returns the records whose
        files are missing."""
        self.opening_view = self.session.opening_view()
        if opened.warnings:
            self._status("; ".join(opened.warnings), 10000)
        for record, path in opened.to_load:
            for job in self.window.open_paths([str(path)], remember=False):
                job.record = record
        self.window.update_undo_actions()
        return opened.missing

    def open_project(self, path: str, remember: bool = True) -> list:
        """Open a project: its layers load in the background with their display
        settings, in their saved order; annotations, measurements and views appear at
        once. Returns the layer records whose files are missing (the user is offered to
        relink them). Unsaved changes are replaced: ask first (maybe_save)."""
        opened = self.session.open_project(path)
        if remember and not Path(path).name.startswith("."):  # not a recovery file
            self.settings.setValue("last_project", str(Path(path).resolve()))
            self.add_recent(str(Path(path).resolve()))
        return self._read_layers(opened)

    def recover_project(self, path: str) -> list:
        """Open the recovery file of ``path``; the result is unsaved work on ``path``."""
        opened = self.session.recover_project(path)
        self.settings.setValue("last_project", str(Path(path).resolve()))
        return self._read_layers(opened)

    def recover_untitled(self) -> list:
        """Open the untitled recovery file: the result is untitled, unsaved work."""
        return self._read_layers(self.session.recover_untitled())

    def open_project_dialog(self) -> None:
        if not self.maybe_save(QT_TR_NOOP("opening another project")):
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, translate("ProjectActions", "Open project"), self._last_dir(),
            translate("ProjectActions", "RealScene projects (*.json);;All files (*)"))
        if path:
            self.open_project_asking(path)

    def open_project_asking(self, path: str) -> None:
        """Open the project ``path``, offering its recovery file when there is a newer one
        and asking for the files of layers that are missing."""
        from heritage.project import ProjectError, recovery_candidate

        try:
            if recovery_candidate(path) is not None and \
                    dialogs.ask_recover_on_open(self.window, Path(path).name):
                missing = self.recover_project(path)
            else:
                missing = self.open_project(path)
        except ProjectError as exc:
            dialogs.warn(self.window, translate("ProjectActions", "Cannot open project"), str(exc))
            return
        for record in missing:
            new, _ = QtWidgets.QFileDialog.getOpenFileName(
                self.window, translate("ProjectActions", "Find the missing layer {path}").format(
                    path=record.path), str(Path(path).parent))
            if new:
                new = str(self.session.relink_layer(record, new))
                for job in self.window.open_paths([new]):
                    job.record = record

    def offer_recovery(self) -> bool:
        """At start: if the last project has a recovery file newer than the project, or
        an untitled session left its recovery file (the previous session ended without
        saving), offer to recover it. Declined untitled work is removed."""
        from heritage.project import ProjectError, recovery_candidate

        last = self.settings.value("last_project")
        if last and recovery_candidate(str(last)) is not None and \
                dialogs.ask_recover_last_project(self.window, Path(str(last)).name):
            self.recover_project(str(last))
            return True
        untitled = self.session.untitled_recovery_candidate()
        if untitled is None:
            return False
        if not dialogs.ask_recover_untitled(self.window):
            untitled.unlink(missing_ok=True)
            return False
        try:
            self.recover_untitled()
        except ProjectError as exc:
            self._status(translate("ProjectActions", "Could not recover the untitled work: {error}"
                                   ).format(error=exc), 10000)
            return False
        return True

    # -- saving -------------------------------------------------------------------------------
    def save_project(self) -> bool:
        if self.session.project.path is None:
            return self.save_project_as()
        return self._save_to(None)

    def save_project_as(self) -> bool:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, translate("ProjectActions", "Save project"), "site.realscene.json",
            translate("ProjectActions", "RealScene projects (*.json)"))
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str | None) -> bool:
        from heritage.project import ProjectError

        try:
            self.session.save(path)
        except (OSError, ProjectError) as exc:
            dialogs.warn(self.window, translate("ProjectActions", "Cannot save project"), str(exc))
            return False
        self.settings.setValue("last_project", str(self.session.project.path))
        self.window.update_undo_actions()
        self._status(translate("ProjectActions", "Saved {path}").format(
            path=self.session.project.path), 4000)
        return True

    def maybe_save(self, before: str = QT_TR_NOOP("closing")) -> bool:
        """With unsaved changes, ask: Save (asking for a file name when untitled),
        Discard or Cancel. True when it is fine to go on."""
        if not self.session.dirty:
            return True
        name = self.session.project.path.name if self.session.project.path else \
            translate("ProjectActions", "The untitled project")
        answer = dialogs.ask_unsaved_changes(self.window, name, before)
        if answer == "save":
            return self.save_project()
        if answer == "discard":
            self.session.discard_recovery()
            return True
        return False

    def autosave(self) -> None:
        try:
            self.session.autosave()
        except OSError as exc:
            self._status(translate("ProjectActions", "Autosave failed: {error}").format(
                error=exc), 8000)

    # -- annotations in and out ---------------------------------------------------------------
    def export_annotations(self, fmt: str, path: str) -> Path:
        from heritage.exchange import export

        self.session.sync_to_project()
        if fmt == "report":
            out = self._export_report(path)
        else:
            out = export(self.session.project, fmt, path)
        self._status(translate("ProjectActions", "Exported {n} annotations to {path}").format(
            n=len(self.session.project.annotations), path=out), 6000)
        return out

    def _export_report(self, path: str) -> Path:
        """A condition report whose annotation views come from the one off-screen renderer
        (:class:`viewer.offscreen.OffscreenRenderer`, as ``realscene annotations --export
        report``): the window's own view and camera stay as they are."""
        from heritage.exchange import export
        from viewer.offscreen import OffscreenRenderer

        scene = self.session.scene
        camera = scene.camera
        try:
            with OffscreenRenderer(scene, REPORT_VIEW_SIZE, session=self.session) as views:
                return export(self.session.project, "report", path,
                              render_view=views.annotation_png,
                              lang=i18n.current_language())  # in the window's language
        finally:
            scene.camera = camera  # the off-screen views moved the scene's camera

    def export_annotations_dialog(self) -> None:
        labels = {k: translate("", v) for k, v in EXPORT_FORMATS.items()}
        filters = ";;".join(labels.values())
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self.window, translate("ProjectActions", "Export annotations"), "annotations.jsonld",
            filters)
        if not path:
            return
        fmt = next(k for k, v in labels.items() if v == chosen)
        try:
            self.export_annotations(fmt, path)
        except (OSError, ValueError) as exc:
            dialogs.warn(self.window, translate("ProjectActions", "Cannot export"), str(exc))

    def import_annotations(self, path: str) -> tuple[int, int]:
        """Merge annotations from Web Annotation / GeoJSON / CSV (undoable):
        (added, replaced)."""
        result = self.session.import_annotations(path)
        return result.added, result.replaced

    def import_annotations_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, translate("ProjectActions", "Import annotations"), "",
            translate("ProjectActions", "Annotations (*.jsonld *.json *.geojson *.csv)"))
        if not path:
            return
        try:
            result = self.session.import_annotations(path)
        except (OSError, ValueError) as exc:
            dialogs.warn(self.window, translate("ProjectActions", "Cannot import"), str(exc))
            return
        text = translate("ProjectActions", "Imported {added} new, {replaced} updated annotations"
                         ).format(added=result.added, replaced=result.replaced)
        if result.assumed_crs:
            text += translate("ProjectActions", " (the file states no CRS: taken to be {crs})"
                              ).format(crs=result.assumed_crs)
        self._status(text, 6000)
