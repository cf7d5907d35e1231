"""The RealScene main window: 3D view, layer tree, properties, menus, status bar."""

from __future__ import annotations

import gc
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TR_NOOP
from pyvistaqt import QtInteractor

from loaders import supported_extensions

from .. import pipeline
from ..render import SceneRenderer
from ..scene import Scene
from . import dialogs, i18n
from .loading import LoadJob
from .panels import LayerPanel, PropertiesPanel
from .project_actions import ProjectActions
from .shortcuts import TOOL_SHORTCUTS

ORG, APP = "RealScene", "RealScene"
#: version of the saved dock layout (QSettings "window_state"): a state saved by an
#: older layout (docks wider than the 3D view) is not restored
LAYOUT_VERSION = 2


#: (label, value) of the point budget choices; values are what QSettings stores
POINT_BUDGETS = [(QT_TR_NOOP("Auto"), "auto"), ("100k", "100000"), ("250k", "250000"),
                 ("500k", "500000"), ("1M", "1000000"), ("2M", "2000000"),
                 ("5M", "5000000")]


_HEAP_FROZEN = False


def freeze_startup_heap() -> None:
    """Once per process: the objects alive now (imported modules, classes: ~220k) leave
    the cyclic GC's reach (gc.freeze). A full collection scanned them all on the GUI
    thread, 45-200 ms in one go, while tiles streamed; later objects are collected as
    before."""
    global _HEAP_FROZEN
    if not _HEAP_FROZEN:
        _HEAP_FROZEN = True
        # the modules a first point cloud's load imports (laspy, lazrs, pyproj, requests:
        # ~200 modules, ~0.15 s holding the GIL) are imported now, not while a window
        # waits on its loading thread
        try:
            import laspy  # noqa: F401
            import lazrs  # noqa: F401
            import psutil  # noqa: F401
            import pyproj  # noqa: F401

            from loaders import copc, ingest, ingest_ply, progressive  # noqa: F401
            from loaders.crs import crs_from_las_header  # noqa: F401
        except ImportError:  # pragma: no cover - a broken install: the load will say so
            pass
        gc.collect()
        gc.freeze()


class MainWindow(QtWidgets.QMainWindow):
    """Composes the scene model, the renderer adapter and the Qt panels."""

    all_loads_finished = QtCore.Signal()
    indexed = QtCore.Signal(str)  # path of a COPC index written by index_file()

    def __init__(self, settings: QtCore.QSettings | None = None) -> None:
        freeze_startup_heap()  # before this window's own objects: they stay collectable
        super().__init__()
        self.setWindowTitle("RealScene")
        self.setAcceptDrops(True)
        self.settings = settings or QtCore.QSettings(ORG, APP)
        # the interface language: View > Language, else the system locale
        i18n.install(i18n.chosen_language(self.settings))
        self.scene = Scene()
        self.jobs: list[LoadJob] = []
        self.errors: list[str] = []
        self._press_pos: tuple[int, int] | None = None
        self._fitted = False

        # 3D view
        self.plotter = QtInteractor(self, auto_update=False)
        self.plotter.interactor.setObjectName("view3d")
        self.plotter.interactor.setMinimumSize(320, 240)
        self.setCentralWidget(self.plotter.interactor)
        self.renderer = SceneRenderer(self.plotter, self.scene)
        # heritage: the project document, undo history, annotation overlay and tools
        from ..overlay import AnnotationOverlay
        from ..session import ProjectSession
        from .annotations import AnnotationsPanel, AnnotationTool

        self.session = ProjectSession(self.scene,
                                      untitled_recovery=self._untitled_recovery_path())
        self.session.default_author = str(self.settings.value("author", "") or "")
        #: False after close_without_asking() or once the window has closed
        self._ask_on_close = True
        #: the File menu's project actions (open, save, import, export, recover, recent)
        self.project_actions = ProjectActions(self)
        #: warnings about text in the 3D view no installed font can draw
        self.font_warnings: list[str] = []
        self.overlay = AnnotationOverlay(self.plotter, self.session, self.renderer,
                                         on_warning=self._font_warning)
        self.renderer.legend_overlays.on_warning = self._font_warning
        from ..decorations import ViewDecorations

        #: scale bar, north arrow, axis gizmo (View menu; scene.decorations)
        self.decorations = ViewDecorations(self.plotter, self.scene,
                                           lang=i18n.current_language(),
                                           on_warning=self._font_warning)
        # legends at the UI font's size, in the view's device pixels
        self.renderer.legend_overlays.font_px = max(6, round(
            QtGui.QFontInfo(self.font()).pixelSize() * self.devicePixelRatioF()))
        self.annotations_panel = AnnotationsPanel(self.session, self.overlay)
        self.annotations_panel.fly_to_requested.connect(self.fly_to)
        self.tool = AnnotationTool(self.session, self.overlay, self)
        from .tours import TourPlayer

        self.tour_player = TourPlayer(self)

        # panels
        self.layer_panel = LayerPanel(self.scene, session=self.session)
        self.properties_panel = PropertiesPanel(self.scene, session=self.session)
        self.properties_panel.tiles.status_for = self.tile_status
        self.layer_dock = self._dock(QT_TR_NOOP("Layers"), "layersDock", self.layer_panel,
                                     QtCore.Qt.LeftDockWidgetArea)
        # (scrolled: a tile layer's box makes it taller than the dock shares with Clip)
        self.properties_dock = self._dock(QT_TR_NOOP("Properties"),
                                          "propertiesDock", scrolled(self.properties_panel),
                                          QtCore.Qt.LeftDockWidgetArea)
        self.annotations_dock = self._dock(QT_TR_NOOP("Annotations"),
                                           "annotationsDock",
                                           self.annotations_panel,
                                           QtCore.Qt.RightDockWidgetArea)
        # city models and BIM: objects tree/search/filter; alignment of models
        from .alignment import AlignmentPanel
        from .objects import ObjectsPanel

        self.objects_panel = ObjectsPanel(self.scene, self.renderer, self.session)
        self.objects_panel.second_coordinates = self.secondary_coordinates
        self.objects_dock = self._dock(QT_TR_NOOP("Objects"), "objectsDock",
                                       scrolled(self.objects_panel),
                                       QtCore.Qt.RightDockWidgetArea)
        self.alignment_panel = AlignmentPanel(
            self.scene, self.session,
            status=lambda text: self.statusBar().showMessage(text, 8000))
        self.alignment_dock = self._dock(QT_TR_NOOP("Align"), "alignmentDock",
                                         scrolled(self.alignment_panel),
                                         QtCore.Qt.RightDockWidgetArea)
        # picking point pairs and drawing annotations both take clicks: one at a time
        self.alignment_panel.pick_button.toggled.connect(
            lambda on: on and self.tool.cancel())
        self.tool.changed.connect(self._tool_changed_for_alignment)
        # the measurements list, a tab beside the annotations
        from .measurements import MeasurementsPanel

        self.measurements_panel = MeasurementsPanel(self.session, self.overlay)
        self.measurements_dock = self._dock(QT_TR_NOOP("Measurements"), "measurementsDock",
                                            self.measurements_panel,
                                            QtCore.Qt.RightDockWidgetArea)
        self.tabifyDockWidget(self.annotations_dock, self.measurements_dock)
        self.tabifyDockWidget(self.annotations_dock, self.objects_dock)
        self.tabifyDockWidget(self.annotations_dock, self.alignment_dock)
        # tour authoring, a tab beside the measurements (viewer/qt/tour_panel.py)
        from .tour_panel import TourPanel

        self.tour_panel = TourPanel(
            self.session, camera=lambda: self.renderer.camera_to_scene(emit=False),
            selected_annotation=self.annotations_panel.current_id, player=self.tour_player)
        self.tours_dock = self._dock(QT_TR_NOOP("Tours"), "toursDock", self.tour_panel,
                                     QtCore.Qt.RightDockWidgetArea)
        self.tabifyDockWidget(self.measurements_dock, self.tours_dock)
        # five tabs do not fit under a narrow dock: vertical tabs on its outer edge keep
        # every title readable without widening the dock
        self.setTabPosition(QtCore.Qt.RightDockWidgetArea, QtWidgets.QTabWidget.East)
        self.annotations_dock.raise_()
        # a tool opens the list its record goes to (when its dock was closed or behind)
        self.tool.changed.connect(self._show_panel_for_tool)

        # status bar: picked point, progress, cancel
        self.pick_label = QtWidgets.QLabel(objectName="pickLabel")
        i18n.set_text(self.pick_label, "setText", "",
                      QT_TR_NOOP("Click a point to see its coordinates"))
        self.pick_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.progress = QtWidgets.QProgressBar(objectName="loadProgress")
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QtWidgets.QPushButton(objectName="cancelLoad")
        i18n.set_text(self.cancel_button, "setText", "",
                      QT_TR_NOOP("Cancel"))
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_loads)
        self.statusBar().addWidget(self.pick_label, 1)
        self.drawn_label = QtWidgets.QLabel("", objectName="drawnLabel")
        i18n.set_text(self.drawn_label, "setToolTip", "", QT_TR_NOOP(
            "Points drawn / points in the visible point layers"))
        self.statusBar().addPermanentWidget(self.drawn_label)
        self.crs_button = QtWidgets.QToolButton(objectName="crsButton", autoRaise=True)
        i18n.set_text(self.crs_button, "setToolTip", "", QT_TR_NOOP(
            "The scene's coordinate system; click to change it or "
                          "to show coordinates in a second one"))
        self.crs_button.clicked.connect(self.crs_dialog)
        self.statusBar().addPermanentWidget(self.crs_button)
        #: a second CRS in which picked coordinates are also shown (None: none)
        self.secondary_crs = None
        self._secondary_transformer = None
        saved_crs = self.settings.value("secondary_crs")
        if saved_crs:
            from .crs import parse_crs

            try:
                self.secondary_crs = parse_crs(str(saved_crs))
            except ValueError:
                self.secondary_crs = None
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        from .exhibit_dialog import ExhibitExports

        self.exhibits = ExhibitExports(self)  # File > Export exhibit…
        from .media_dialogs import MediaExports

        self.media = MediaExports(self)  # File > Save screenshot…, Export video…

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        from .profile_panel import ProfileTools

        self.profile_tools = ProfileTools(self)  # Tools > Profile… (a 2D cross-section)
        from .compare_dialog import ChangeTools

        self.change_tools = ChangeTools(self)  # Tools > Compare epochs…, Change dock
        from .clip_panel import ClipTools

        self.clip_tools = ClipTools(self)  # Tools > Clip…, the Clip dock, clipped export

        self.scene.connect("picked", self._on_picked)
        self.scene.connect("views_changed", lambda **kw: self._refresh_views())
        self.scene.connect("layer_added", self._on_layer_added)
        self.scene.connect("crs_changed", lambda **kw: self._refresh_crs_button())
        # (a layer in degrees drawn in a metric CRS chosen for it: said on the button)
        self.scene.connect("layer_added", lambda **kw: self._refresh_crs_button())
        self._refit_after_reload = False
        self._progress_message: str | None = None  # the last progress line shown
        self._refresh_crs_button()
        from .deviation_dialog import DeviationTools

        self.deviation_tools = DeviationTools(self)  # Tools > Scan vs model…
        self.scene.connect("*", self._schedule_render)
        self._render_timer = QtCore.QTimer(self, singleShot=True, interval=0)
        self._render_timer.timeout.connect(self._do_render)
        # level of detail: refinement steps and streamed nodes are drawn from this poll
        self._lod_timer = QtCore.QTimer(self, interval=60)
        self._lod_timer.timeout.connect(self._poll_lod)
        self._lod_timer.start()
        # autosave to the recovery file (only when there are unsaved changes)
        self._autosave_timer = QtCore.QTimer(self, interval=60_000)
        self._autosave_timer.timeout.connect(self.project_actions.autosave)
        self._autosave_timer.start()

        # a spare reading process, started once the window is up and again a while after
        # each load (not while the load's peak memory is still held, nor while the view
        # refines): the next big point cloud skips its start-up (loaders.ingest.prestart)
        QtCore.QTimer.singleShot(1500, self._prestart_reader)
        self.all_loads_finished.connect(
            lambda: QtCore.QTimer.singleShot(3000, self._prestart_reader))

        # legends are sized in pixels of the view: redo them when the view is resized
        self._legend_timer = QtCore.QTimer(self, singleShot=True, interval=150)
        self._legend_timer.timeout.connect(self._refresh_overlays)
        self.plotter.interactor.installEventFilter(self)
        self.plotter.iren.add_observer("LeftButtonPressEvent", self._on_press)
        self.plotter.iren.add_observer("LeftButtonReleaseEvent", self._on_release)
        self.plotter.iren.add_observer("EndInteractionEvent",
                                       lambda *a: self.renderer.camera_to_scene())

        self.resize(1280, 800)
        self._restore_layout()
        background = self.settings.value("background")
        if background:
            try:
                self.scene.set_background(tuple(float(c) for c in str(background).split(",")))
            except ValueError:
                pass

    # -- construction -----------------------------------------------------------------
    def _untitled_recovery_path(self) -> Path:
        """Where unsaved untitled work is autosaved: the ``recovery_dir`` setting, else
        beside an INI settings file (a separate profile: snapshots, tests), else the
        user's state folder (viewer.session.default_recovery_dir)."""
        from ..session import UNTITLED_RECOVERY_NAME, default_recovery_dir

        folder = self.settings.value("recovery_dir")
        if folder:
            return Path(str(folder)) / UNTITLED_RECOVERY_NAME
        if self.settings.format() == QtCore.QSettings.IniFormat:
            return Path(self.settings.fileName()).resolve().parent / UNTITLED_RECOVERY_NAME
        return default_recovery_dir() / UNTITLED_RECOVERY_NAME

    def _dock(self, title, name, widget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(self, objectName=name)
        i18n.set_text(dock, "setWindowTitle", "", title)  # title: marked source
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text, slot, shortcut=None, checkable=False, tip=None) -> QtGui.QAction:
        # text and tip: sources marked with QT_TR_NOOP(...), shown
        # translated and re-translated when the language changes
        action = QtGui.QAction(self)
        i18n.set_text(action, "setText", "", text)
        if shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.setCheckable(checkable)
        if tip:
            i18n.set_text(action, "setStatusTip", "", tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        project = self.project_actions
        self.open_action = self._action(QT_TR_NOOP("&Open…"), project.open_dialog,
                                        QtGui.QKeySequence.Open)
        self.sample_action = self._action(
            QT_TR_NOOP("Open &sample site"),
            lambda: self.maybe_save(QT_TR_NOOP("opening the sample site")) and self.open_sample())
        self.open_url_action = self._action(
            QT_TR_NOOP("Open &URL…"), project.open_url_dialog, "Ctrl+U",
            tip=QT_TR_NOOP("Stream a COPC point cloud or a 3D Tiles tileset over HTTP(S)"))
        self.index_action = self._action(
            QT_TR_NOOP("&Index to COPC…"), lambda: self.index_file(), "Ctrl+I",
            tip=QT_TR_NOOP(
                "Write a COPC copy of a LAS/LAZ so that it opens instantly next time"))
        self.screenshot_action = self._action(QT_TR_NOOP("Save &screenshot…"),
                                              self.screenshot_dialog, "Ctrl+Shift+S")
        self.video_action = self._action(
            QT_TR_NOOP("Export &video…"), lambda: self.media.video_dialog(),
            tip=QT_TR_NOOP("A turntable or a tour of the scene as an H.264 MP4 film"))
        self.export_exhibit_action = self._action(
            QT_TR_NOOP("Export e&xhibit…"), lambda: self.exhibits.open_dialog(), "Ctrl+E",
            tip=QT_TR_NOOP("GLB with hotspots, 3D Tiles, a Voyager scene, an offline web "
                           "page or IIIF for a museum kiosk or a tourism page"))
        self.quit_action = self._action(QT_TR_NOOP("&Quit"), self.close, QtGui.QKeySequence.Quit)
        self.view_actions = {
            "fit": self._action(QT_TR_NOOP("&Fit all"), lambda: self.view_preset("fit"), "F"),
            "selection": self._action(QT_TR_NOOP("Fit &selection"), self.fit_selection, "Shift+F"),
            "top": self._action(QT_TR_NOOP("&Top"), lambda: self.view_preset("top"), "1"),
            "front": self._action(QT_TR_NOOP("F&ront"), lambda: self.view_preset("front"), "2"),
            "side": self._action(QT_TR_NOOP("S&ide"), lambda: self.view_preset("side"), "3"),
            "iso": self._action(QT_TR_NOOP("&Isometric"), lambda: self.view_preset("iso"), "4"),
        }
        self.decoration_actions = {
            key: self._action(text, lambda on, k=key: self.toggle_decoration(k, on),
                              checkable=True, tip=tip)
            for key, text, tip in (
                ("axes", QT_TR_NOOP("&Axis gizmo"), QT_TR_NOOP("X, Y, Z axes in a corner")),
                ("scale_bar", QT_TR_NOOP("Scale &bar"),
                 QT_TR_NOOP("A scale bar at the focal distance (metres, or units without "
                            "a CRS)")),
                ("north_arrow", QT_TR_NOOP("&North arrow"),
                 QT_TR_NOOP("An arrow to grid north (georeferenced scenes)")),
                ("attribution", QT_TR_NOOP("CRS and &credits line"),
                 QT_TR_NOOP("The coordinate system and the data's credits at the bottom "
                            "(also in screenshots)")))}
        for key, action in self.decoration_actions.items():  # as last time (settings)
            action.setObjectName(f"decoration_{key}")
            on = self.settings.value(f"view/{key}", getattr(self.scene.decorations, key),
                                     type=bool)
            self.scene.set_decorations(**{key: on})
            action.setChecked(bool(on))
        self.edl_action = self._action(QT_TR_NOOP("&Eye-dome lighting"), self.toggle_edl,
                                       "E", checkable=True,
                                       tip=QT_TR_NOOP("Shade points by depth to show shape"))
        self.edl_settings_action = self._action(
            QT_TR_NOOP("Eye-dome lighting &settings…"), self.show_edl_dialog,
            tip=QT_TR_NOOP("Strength and radius of eye-dome lighting, with live preview"))
        self.edl_dialog = None
        self.save_view_action = self._action(
            QT_TR_NOOP("Save &view…"), self.save_view_dialog, "Ctrl+B",
            tip=QT_TR_NOOP("Bookmark the current camera"))
        self.background_action = self._action(QT_TR_NOOP("&Background colour…"),
                                              self.choose_background)
        self.about_action = self._action(QT_TR_NOOP("&About RealScene"), self.about)
        self.undo_action = self._action(QT_TR_NOOP("&Undo"), lambda: self.session.undo.undo(),
                                        QtGui.QKeySequence.Undo)
        self.redo_action = self._action(QT_TR_NOOP("&Redo"), lambda: self.session.undo.redo(),
                                        QtGui.QKeySequence.Redo)
        self.open_project_action = self._action(QT_TR_NOOP("Open &project…"),
                                                project.open_project_dialog, "Ctrl+Shift+O")
        self.save_project_action = self._action(QT_TR_NOOP("Save project"), project.save_project,
                                                QtGui.QKeySequence.Save)
        self.save_project_as_action = self._action(QT_TR_NOOP("Save project &as…"),
                                                   project.save_project_as, "Ctrl+Alt+S")
        self.tool_actions = {}
        group = QtGui.QActionGroup(self)
        labels = {"pin": QT_TR_NOOP("&Pin"), "polyline": QT_TR_NOOP("Poly&line"),
                  "polygon": QT_TR_NOOP("Poly&gon (area)"), "box": QT_TR_NOOP("&Box region"),
                  "distance": QT_TR_NOOP("&Distance"),
                  "horizontal_distance": QT_TR_NOOP("&Horizontal distance"),
                  "vertical_distance": QT_TR_NOOP("&Vertical distance"),
                  "height_difference": QT_TR_NOOP("Height &difference"),
                  "polyline_length": QT_TR_NOOP("Polyline &length"),
                  "area": QT_TR_NOOP("&Area (in plane)"),
                  "projected_area": QT_TR_NOOP("&Projected area"), "angle": QT_TR_NOOP("An&gle")}
        for key, label in labels.items():
            action = self._action(label, lambda checked, k=key: self.tool.start(
                k if checked else None), checkable=True)
            action.setObjectName(f"tool_{key}")
            action.setShortcut(QtGui.QKeySequence(TOOL_SHORTCUTS[key]))
            group.addAction(action)
            self.tool_actions[key] = action
        group.setExclusionPolicy(QtGui.QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self.move_vertex_action = self._action(
            QT_TR_NOOP("&Move vertices"), lambda: self.tool.start_move_vertex(), "M",
            tip=QT_TR_NOOP(
                "Move a vertex of the selected annotation: click it, then click its new place"))
        self.finish_action = self._action(QT_TR_NOOP("&Finish shape"), lambda: self.tool.finish(),
                                          "Return")
        self.cancel_tool_action = self._action(QT_TR_NOOP("&Cancel tool"), self._cancel_tool,
                                               "Escape")
        for action in (self.finish_action, self.cancel_tool_action):
            # only while the 3D view has focus: Return in a text field must not finish
            action.setShortcutContext(QtCore.Qt.WidgetWithChildrenShortcut)
            self.plotter.interactor.addAction(action)
        self.preferences_action = self._action(
            QT_TR_NOOP("&Preferences…"), self.preferences_dialog, "Ctrl+,",
            tip=QT_TR_NOOP("Default author of new annotations"))
        self.preferences_action.setMenuRole(QtGui.QAction.PreferencesRole)
        self.shortcuts_action = self._action(QT_TR_NOOP("&Keyboard shortcuts…"),
                                             self.shortcuts_dialog, "F1")
        self.session.undo.listeners.append(self.update_undo_actions)
        self.update_undo_actions()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = self._menu(bar, QT_TR_NOOP("&File"))
        self.project_actions.fill_file_menu(
            file_menu, self.open_action, self.open_project_action, self.save_project_action,
            self.save_project_as_action, self.open_url_action, self.sample_action)
        self.recent_menu = self.project_actions.recent_menu
        file_menu.addSeparator()
        file_menu.addAction(self.index_action)
        file_menu.addAction(self.screenshot_action)
        file_menu.addAction(self.video_action)
        file_menu.addAction(self.export_exhibit_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self._menu(bar, QT_TR_NOOP("&View"))
        for action in self.view_actions.values():
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.save_view_action)
        self.views_menu = self._menu(view_menu, QT_TR_NOOP("Saved &views"))
        self._refresh_views()
        view_menu.addSeparator()
        view_menu.addAction(self.edl_action)
        view_menu.addAction(self.edl_settings_action)
        for action in self.decoration_actions.values():
            view_menu.addAction(action)
        view_menu.addAction(self.background_action)
        self.crs_action = view_menu.addAction("", self.crs_dialog)
        i18n.set_text(self.crs_action, "setText", "", QT_TR_NOOP("&Coordinate systems…"))
        self.crs_action.setObjectName("crsAction")
        view_menu.addSeparator()
        view_menu.addAction(self.layer_dock.toggleViewAction())
        view_menu.addAction(self.properties_dock.toggleViewAction())
        edit_menu = self._menu(bar, QT_TR_NOOP("&Edit"))
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.preferences_action)
        annotate_menu = self._menu(bar, QT_TR_NOOP("&Annotate"))
        for key in ("pin", "polyline", "polygon", "box"):
            annotate_menu.addAction(self.tool_actions[key])
        measure_menu = self._menu(annotate_menu, QT_TR_NOOP("&Measure"))
        for key, action in self.tool_actions.items():
            if key not in ("pin", "polyline", "polygon", "box"):
                measure_menu.addAction(action)
        annotate_menu.addSeparator()
        annotate_menu.addAction(self.move_vertex_action)
        annotate_menu.addAction(self.finish_action)
        annotate_menu.addAction(self.cancel_tool_action)
        self.tours_menu = self._menu(view_menu, QT_TR_NOOP("&Tours"))
        self.tours_menu.aboutToShow.connect(self._refresh_tours)
        self._refresh_tours()
        view_menu.addAction(self.annotations_dock.toggleViewAction())
        view_menu.addAction(self.measurements_dock.toggleViewAction())
        view_menu.addAction(self.tours_dock.toggleViewAction())
        view_menu.addAction(self.objects_dock.toggleViewAction())
        view_menu.addAction(self.alignment_dock.toggleViewAction())
        self.visibility_menu = self._menu(view_menu,
                                          QT_TR_NOOP("Annotation &visibility"))
        self.visibility_menu.setObjectName("annotationVisibilityMenu")
        self.visibility_menu.aboutToShow.connect(self._refresh_visibility_menu)
        self._refresh_visibility_menu()
        self.language_menu = self._menu(view_menu, QT_TR_NOOP("&Language"))
        self.language_menu.setObjectName("languageMenu")
        group = QtGui.QActionGroup(self)
        self.language_actions = {}
        for code, name in i18n.LANGUAGES.items():  # each in its own language
            action = self.language_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(code == i18n.current_language())
            action.setObjectName(f"language_{code}")
            action.triggered.connect(lambda _=False, c=code: self.set_language(c))
            group.addAction(action)
            self.language_actions[code] = action
        help_menu = self._menu(bar, QT_TR_NOOP("&Help"))
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    def _menu(self, parent, title: str) -> QtWidgets.QMenu:
        """A menu added to ``parent`` (menu bar or menu), titled by the marked source
        ``title`` (QT_TR_NOOP) in the current language."""
        menu = parent.addMenu("")
        i18n.set_text(menu, "setTitle", "", title)
        return menu

    def set_language(self, language: str) -> None:
        """Switch the interface to ``language`` ("en" / "zh"), remembered for the next
        start. Menus, actions, dock titles, the toolbar and the status bar change at once;
        the panels' own labels change at the next start (the status bar says so)."""
        self.settings.setValue(i18n.SETTINGS_KEY, language)
        self.settings.sync()
        i18n.install(language)
        i18n.retranslate()
        for code, action in self.language_actions.items():
            action.setChecked(code == i18n.current_language())
        self.budget_box.setItemText(0, i18n.translate("", POINT_BUDGETS[0][0]))
        self.update_undo_actions()
        self._refresh_crs_button()
        self._refresh_views()
        self._refresh_tours()
        self._refresh_visibility_menu()
        self.statusBar().showMessage(
            self.tr("Language changed: menus now, panels at the next start"), 10000)

    def _build_toolbar(self) -> None:
        tb = self.addToolBar(self.tr("Main"))
        tb.setObjectName("mainToolbar")
        tb.addAction(self.open_action)
        tb.addSeparator()
        for key in ("fit", "top", "front", "side", "iso"):
            tb.addAction(self.view_actions[key])
        tb.addSeparator()
        tb.addAction(self.edl_action)
        tb.addAction(self.screenshot_action)
        tb.addSeparator()
        budget_label = QtWidgets.QLabel()
        i18n.set_text(budget_label, "setText", "", QT_TR_NOOP(" Point budget "))
        tb.addWidget(budget_label)
        self.budget_box = QtWidgets.QComboBox(objectName="pointBudget")
        i18n.set_text(self.budget_box, "setToolTip", "", QT_TR_NOOP(
            "Most points drawn at a time (Auto adapts to the measured frame time)"))
        for label, value in POINT_BUDGETS:
            self.budget_box.addItem(i18n.translate("", label), value)
        saved = str(self.settings.value("point_budget", "auto"))
        index = self.budget_box.findData(saved)
        self.budget_box.setCurrentIndex(max(index, 0))
        self.renderer.set_point_budget(self.budget_box.currentData())
        self.budget_box.currentIndexChanged.connect(self._on_budget_changed)
        tb.addWidget(self.budget_box)
        # the click tools on a second row: annotation shapes, then measurements
        self.addToolBarBreak()
        tools = self.addToolBar(self.tr("Annotate"))
        tools.setObjectName("annotateToolbar")
        self.annotate_toolbar = tools
        for key in ("pin", "polyline", "polygon", "box"):
            tools.addAction(self.tool_actions[key])
        tools.addSeparator()
        for key, action in self.tool_actions.items():
            if key not in ("pin", "polyline", "polygon", "box"):
                tools.addAction(action)
        tools.addSeparator()
        tools.addAction(self.move_vertex_action)
        tools.addAction(self.finish_action)
        tools.addAction(self.cancel_tool_action)
        from .shortcuts import show_shortcut_in_tooltip

        for bar in (tb, tools):
            for action in bar.actions():
                show_shortcut_in_tooltip(action)

    # -- opening files --------------------------------------------------------------
    def open_paths(self, paths, allow_redirects: bool = False,
                   assign_crs: dict[str, str] | None = None,
                   remember: bool = True) -> list[LoadJob]:
        """Open files and URLs in the background; ``allow_redirects``: URLs may redirect
        to other hosts (else the window asks when one does); ``assign_crs`` maps a path
        (as given) to the CRS its file is taken to be in (``realscene open --crs``);
        ``remember``: add them to the recent files (not a project's layers)."""
        started = []
        from loaders.copc import is_url

        from .loading import CrsOrder

        # files opened together: the first georeferenced one sets the scene CRS, as on
        # the command line, whichever finishes first
        order = CrsOrder() if len(paths) > 1 else None
        for given in paths:
            path = str(given) if is_url(given) else str(Path(given).expanduser().resolve())
            started.append(self._start_job(path, allow_redirects=allow_redirects,
                                           crs_order=order,
                                           assign_crs=(assign_crs or {}).get(str(given))))
            # a file the user adds to a scene: ask when its CRS does not fit (not a
            # project's own layers)
            started[-1].check_fit = remember and bool(self.scene.layers)
            if remember:
                self.project_actions.add_recent(path)
        self._update_progress()
        return started

    def _start_job(self, path: str, reload_layer=None, allow_redirects: bool = False,
                   crs_order=None, assign_crs: str | None = None) -> LoadJob:
        """Read ``path`` in the background; with ``reload_layer``, the result replaces
        that layer's data (a failure or cancel keeps the layer as it was);
        ``allow_redirects``: a URL may redirect to another host (the user said yes);
        ``assign_crs``: the CRS the file is taken to be in (else the one assigned to its
        layer before, else the file's own)."""
        from viewer.session import ASSIGNED_CRS

        job = LoadJob(path, self)
        job.allow_redirects = allow_redirects
        job.target_crs = lambda: self.scene.crs
        # a CRS assigned to the layer (in this session, or saved in the project)
        job.assign_crs = assign_crs or (
            reload_layer is not None and reload_layer.data.metadata.get(ASSIGNED_CRS)) \
            or self.session.assigned_crs(path)
        job.progress.connect(self._on_progress)
        job.preview.connect(self._on_preview)
        job.wait_preview = True  # _on_preview calls job.preview_shown()
        job.finished.connect(self._on_loaded)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        if reload_layer is not None:
            job.layer = reload_layer
            job.reload = True
        self.jobs.append(job)
        job.join_crs_order(crs_order)
        job.start()
        return job

    def assign_layer_crs(self, layer, text: str) -> LoadJob:
        """Take ``layer`` to be in the CRS ``text`` (EPSG code, PROJ, WKT; checked by
        :func:`loaders.crs.parse_user_crs`, ValueError): its file is read again with it in
        the background (progress bar, Cancel), transformed into the scene CRS; when the
        job finishes the change is one undoable edit of the session
        (:meth:`viewer.session.ProjectSession.assign_layer_crs`, as
        :func:`viewer.pipeline.assign_crs` does for scripts). Cancel or a failure leaves
        the layer as it was."""
        from loaders.crs import parse_user_crs

        parse_user_crs(text)
        if not layer.path:
            raise ValueError(self.tr("This layer has no file to read again."))
        # (layer.loading: set here and cleared on the GUI thread when the result is taken,
        # so a reader thread that has just finished still counts as reading)
        if layer.loading or any(getattr(j, "layer", None) is layer and not j.done
                                for j in self.jobs):
            raise ValueError(self.tr("This layer is being read; wait until it has loaded."))
        self.scene.update(layer, loading=True)
        job = self._start_job(str(layer.path), reload_layer=layer, assign_crs=text)
        job.assigning = True
        self._update_progress()
        return job

    def index_file(self, path: str | None = None):
        """Write a COPC index of a LAS/LAZ (default: the selected layer's file) in the
        background, so that later opens stream it instead of reading it all."""
        from .loading import IndexJob

        if path is None:
            layer = self.scene.selected
            if layer is not None and layer.path and Path(layer.path).suffix.lower() in (
                    ".las", ".laz"):
                path = layer.path
            else:
                path, _ = QtWidgets.QFileDialog.getOpenFileName(
                    self, self.tr("Index a point cloud to COPC"),
                    str(self.settings.value("last_dir", str(Path.home()))),
                    self.tr("LAS/LAZ point clouds (*.las *.laz)"))
                if not path:
                    return None
        job = IndexJob(str(path), parent=self)
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_indexed)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self.jobs.append(job)
        job.start()
        self._update_progress()
        return job

    def _on_indexed(self, job, out: str) -> None:
        self.indexed.emit(out)
        self.statusBar().showMessage(
            self.tr("Indexed {name} → {out}: it now opens by streaming").format(
                name=Path(job.path).name, out=out), 10000)
        self._finish_job(job)

    # -- background jobs of tools (exhibit exports...) --------------------------------
    def add_job(self, job) -> None:
        """Show ``job`` (with ``path``, ``cancel()``, ``wait()``, ``done`` and, optionally,
        ``progress_label``) in the progress bar; Cancel cancels it. The tool reports its
        progress with :meth:`job_progress` and calls :meth:`finish_job` at the end."""
        self.jobs.append(job)
        self._update_progress()

    def job_progress(self, job, fraction: float, text: str) -> None:
        job.last_fraction = fraction
        self._update_progress()
        self._show_progress_message(text)

    def finish_job(self, job) -> None:
        self._finish_job(job)

    @property
    def loading(self) -> bool:
        return any(not j.done for j in self.jobs)

    def cancel_loads(self) -> None:
        for job in self.jobs:
            job.cancel()

    def _prestart_reader(self) -> None:
        """Start the spare reading process, unless a load runs (it would compete with it
        for memory and cores: the end of the loads schedules this again)."""
        if self.jobs:
            return
        from loaders import ingest

        ingest.prestart()

    def _finish_job(self, job: LoadJob) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        self._update_progress()
        if not self.jobs:
            progress = self._progress_message
            if progress is not None and self.statusBar().currentMessage() == progress:
                self.statusBar().clearMessage()
            self._progress_message = None
            if self._refit_after_reload:
                self._refit_after_reload = False
                self.renderer.fit()
            self.all_loads_finished.emit()

    def _on_progress(self, job: LoadJob, fraction: float, message: str) -> None:
        if job not in self.jobs:  # a late report of a job already finished
            return
        job.last_fraction = fraction
        self._update_progress()
        name = Path(job.path).name
        self._show_progress_message(self.tr("Loading {name}: {message} {percent}").format(
            name=name, message=i18n.translate("", message), percent=f"{fraction:.0%}"))

    def _show_progress_message(self, text: str) -> None:
        """A progress line in the status bar; cleared when the last job finishes (unless
        something else was said since), so the bar never stays on "Loading … 85 %"."""
        self._progress_message = text
        self.statusBar().showMessage(text, 2000)

    def _update_progress(self) -> None:
        busy = bool(self.jobs)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            # Each job reports its own fraction; show the least advanced one.
            label = getattr(self.jobs[0], "progress_label", None) \
                if len(self.jobs) == 1 else None
            self.progress.setFormat(
                (label or self.tr("Loading {n} file(s)…").format(n=len(self.jobs))) + " %p%")
            self.progress.setValue(int(self._min_fraction() * 1000))

    def _min_fraction(self) -> float:
        fractions = [getattr(j, "last_fraction", 0.0) for j in self.jobs]
        return min(fractions) if fractions else 1.0

    def _on_preview(self, job: LoadJob, data) -> None:
        """A coarse preview of a big point cloud: show it now, fill it in later."""
        try:
            if job.is_cancelled or getattr(job, "layer", None) is not None:
                return
            job.layer = self.scene.add(data, path=job.path, loading=True)
            if getattr(job, "record", None) is not None:
                self.session.place_layer(job.layer, job.record)
            self.statusBar().showMessage(
                self.tr("{name}: showing a preview of {n} points while the rest loads").format(
                    name=Path(job.path).name, n=f"{data.point_count:,}"), 4000)
        finally:
            job.preview_shown()  # the worker waits for the first frame, then reads on

    def _drop_preview(self, job: LoadJob) -> None:
        layer = getattr(job, "layer", None)
        job.layer = None
        if getattr(job, "reload", False):  # re-reading an open layer: keep it as it was
            if layer is not None and layer in self.scene.layers and layer.loading:
                self.scene.update(layer, loading=False)
            return
        if layer is not None and layer in self.scene.layers:
            self.scene.remove(layer)

    def _on_loaded(self, job: LoadJob, data) -> None:
        if job.is_cancelled:
            self._drop_preview(job)
        else:
            layer = getattr(job, "layer", None)
            lod = getattr(job, "lod", None)
            if getattr(job, "assigning", False):  # Assign CRS…: one undoable edit
                if layer is not None and layer in self.scene.layers:
                    layer.loading = False
                    self.session.assign_layer_crs(layer, data, lod)
                elif lod is not None and hasattr(lod, "close"):
                    lod.close()  # the layer was removed meanwhile: nothing to assign
                self._finish_job(job)
                return
            if layer is not None and layer in self.scene.layers:
                # one 'data' event for the whole swap (each event costs the renderer a
                # rebuild and a frame): lod and loading change with it, consistently
                self.session.replace_layer_data(layer, data, lod)
            elif layer is not None:  # removed while loading: undo brings it back whole
                layer.lod, layer.loading, layer.data = lod, False, data
                self._finish_job(job)
                return
            else:  # the pipeline's last step, as on the command line
                if getattr(job, "record", None) is None and getattr(job, "check_fit", False) \
                        and self.project_actions.offer_fit(job, data, lod):
                    self._finish_job(job)  # in another CRS: added when the user says so
                    return
                layer = pipeline.add_to_scene(self.scene, pipeline.Loaded(
                    job.path, data, lod, job.streamed, job.streamed_from))
            record = getattr(job, "record", None)
            if record is not None:  # opened from a project: restore its display settings
                pipeline.apply_record(self.scene, layer, record, self.session)
            if job.streamed:
                via = self.tr(" from its COPC index {name}").format(
                    name=Path(job.streamed_from).name) if job.streamed_from else ""
                self.statusBar().showMessage(self.tr(
                    "Streaming {name}{via}: {n} points, only the nodes in view are loaded"
                ).format(name=Path(job.path).name, via=via, n=f"{lod.total_points:,}"), 8000)
            for warning in data.metadata.get("warnings", []):
                self.statusBar().showMessage(f"{Path(job.path).name}: {warning}", 8000)
        self._finish_job(job)

    def _on_failed(self, job: LoadJob, message: str) -> None:
        self.errors.append(message)
        self._drop_preview(job)
        self._finish_job(job)
        if self._ask_redirect(job):
            return
        dialogs.show_load_error(self, message)

    def _ask_redirect(self, job: LoadJob) -> bool:
        """A URL refused because it redirects to another host: ask the user whether to
        follow it (the box ``redirectDialog``); Yes opens it again with permission.
        False when the failure was something else."""
        from loaders.copc import RedirectRefused

        err = getattr(job, "error", None)
        if not isinstance(err, RedirectRefused) or getattr(job, "allow_redirects", False):
            return False
        reload_layer = job.layer if getattr(job, "reload", False) else None

        def answered(allowed: bool) -> None:
            if allowed:
                self._start_job(job.path, reload_layer, allow_redirects=True)
                self._update_progress()
            else:
                self.statusBar().showMessage(self.tr(
                    "Not opened: {url} redirects to {host}").format(url=job.path,
                                                                     host=err.host), 8000)

        dialogs.ask_redirect(self, job.path, err.host, err.target, answered)
        return True

    def _on_cancelled(self, job: LoadJob) -> None:
        self._drop_preview(job)
        self.statusBar().showMessage(
            self.tr("Cancelled loading {name}").format(name=Path(job.path).name), 5000)
        self._finish_job(job)

    def _on_layer_added(self, layer, **kw) -> None:
        if not self._fitted or len(self.scene.layers) == 1:
            self._fitted = True
            opening = self.project_actions.take_opening_view()
            if opening is not None:  # a project opens on its first saved view
                self.restore_view(opening)
            else:
                self.renderer.fit()

    # -- view --------------------------------------------------------------------------
    def _schedule_render(self, event: str, **kw) -> None:
        if event not in ("picked", "camera_changed"):
            self._render_timer.start()

    def _do_render(self) -> None:
        self.renderer.render_soon()  # one frame: the widget's paint renders it
        self._update_drawn_label()

    def _poll_lod(self) -> None:
        if self.renderer.process_updates():
            self._update_drawn_label()

    def tile_status(self, layer) -> dict | None:
        """A tile layer's stream counts for the Properties status line: tiles drawn
        (actors), loaded (in memory), pending (being read), MB, warnings."""
        draw = self.renderer.tile_draw(layer) if hasattr(self.renderer, "tile_draw") else None
        if draw is None:
            return None
        status = dict(draw.status())
        stats = draw.stream.stats()
        status.update(loaded=stats["loaded"], pending=stats["pending"],
                      megabytes=stats["bytes"] / 2**20)
        return status

    def _update_drawn_label(self) -> None:
        total = self.renderer.total_points
        text = self.tr("{drawn} / {total} points").format(
            drawn=f"{self.renderer.drawn_points:,}", total=f"{total:,}") if total else ""
        if self.drawn_label.text() != text:
            self.drawn_label.setText(text)

    def set_point_budget(self, value) -> None:
        """``"auto"`` or a number of points; remembered in the settings."""
        self.renderer.set_point_budget(value)
        self.settings.setValue("point_budget", str(self.renderer.point_budget))
        index = self.budget_box.findData(str(self.renderer.point_budget))
        if index >= 0 and index != self.budget_box.currentIndex():
            self.budget_box.blockSignals(True)
            self.budget_box.setCurrentIndex(index)
            self.budget_box.blockSignals(False)
        self.renderer.update_lod(force=True)
        self.renderer.render()
        self._update_drawn_label()

    def _on_budget_changed(self, index: int) -> None:
        self.set_point_budget(self.budget_box.itemData(index))

    def view_preset(self, name: str) -> None:
        self.renderer.view_preset(name)
        self.renderer.render()

    def fit_selection(self) -> None:
        if self.scene.selected is not None:
            self.renderer.fit([self.scene.selected])
            self.renderer.render()

    def save_view(self, name: str):
        """Bookmark the current camera (undoable; saved in the project)."""
        camera = self.renderer.camera_to_scene(emit=False)
        self.session.save_view(name, camera)
        return self.scene.views[-1]

    def save_view_dialog(self) -> None:
        name = dialogs.ask_view_name(
            self, self.tr("View {n}").format(n=len(self.scene.views) + 1))
        if name:
            self.save_view(name)

    def restore_view(self, view) -> None:
        from ..scene import Camera

        self.scene.set_camera(Camera(**vars(view.camera)))
        self.renderer.scene_to_camera()
        self.renderer.render()

    def _refresh_views(self) -> None:
        self.views_menu.clear()
        for view in self.scene.views:
            action = self.views_menu.addAction(view.name)
            action.triggered.connect(lambda _=False, v=view: self.restore_view(v))
        self.views_menu.setEnabled(bool(self.scene.views))

    def toggle_decoration(self, key: str, checked: bool) -> None:
        """Show or hide a decoration of the view (``key``: a field of
        viewer.scene.Decorations); screenshots draw the same."""
        self.scene.set_decorations(**{key: checked})
        self.settings.setValue(f"view/{key}", bool(checked))
        self.renderer.request_render()

    def toggle_edl(self, checked: bool) -> None:
        self.scene.set_edl(checked)

    def show_edl_dialog(self) -> None:
        """View > Eye-dome lighting settings… (viewer.qt.edl_dialog; non-modal)."""
        if self.edl_dialog is None:
            from .edl_dialog import EdlDialog

            self.edl_dialog = EdlDialog(self.scene, self)
            self.scene.connect("edl_changed", self._sync_edl_action)
        self.edl_dialog.sync()
        self.edl_dialog.show()
        self.edl_dialog.raise_()

    def _sync_edl_action(self, enabled: bool = False, **_: object) -> None:
        if self.edl_action.isChecked() != bool(enabled):
            self.edl_action.blockSignals(True)
            self.edl_action.setChecked(bool(enabled))
            self.edl_action.blockSignals(False)

    def choose_background(self) -> None:
        r, g, b = (int(c * 255) for c in self.scene.background)
        color = QtWidgets.QColorDialog.getColor(QtGui.QColor(r, g, b), self,
                                                self.tr("Background"))
        if color.isValid():
            self.set_background((color.redF(), color.greenF(), color.blueF()))

    def set_background(self, rgb) -> None:
        self.scene.set_background(rgb)
        self.settings.setValue("background", ",".join(f"{c:.4f}" for c in rgb))

    def screenshot_dialog(self) -> None:
        """Size (up to 8K), transparency, file; drawn as a job (:mod:`.media_dialogs`)."""
        self.media.screenshot_dialog()

    def about(self) -> None:
        QtWidgets.QMessageBox.about(
            self, self.tr("About RealScene"),
            self.tr("RealScene — a desktop 3D viewer for real-scene city models and cultural "
                    "heritage.\nFormats: {formats}").format(
                formats=", ".join(supported_extensions())))

    # -- picking ------------------------------------------------------------------------
    def _on_press(self, obj, event) -> None:
        self._press_pos = tuple(self.plotter.iren.interactor.GetEventPosition())

    def _on_release(self, obj, event) -> None:
        pos = tuple(self.plotter.iren.interactor.GetEventPosition())
        if self._press_pos is not None and max(abs(pos[0] - self._press_pos[0]),
                                               abs(pos[1] - self._press_pos[1])) <= 3:
            try:
                self.renderer.pick(*pos)
            except Exception as exc:  # noqa: BLE001 - a click never crashes the window
                self.report_click_error(exc)
        self._press_pos = None

    def report_click_error(self, exc: BaseException) -> None:
        """An error while handling a click (picking, a tool): one line in the status bar
        (its class and message), never only on stderr."""
        text = " ".join(str(exc).split()) or repr(exc)
        line = self.tr("Click failed: {kind}: {message}").format(
            kind=type(exc).__name__, message=text)
        self.statusBar().showMessage(line, 15000)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QtCore.QEvent.Resize and watched is self.plotter.interactor:
            self._legend_timer.start()
        return super().eventFilter(watched, event)

    def _refresh_overlays(self) -> None:
        self.renderer.refresh_overlays()
        self._schedule_render("overlays")

    # -- coordinate systems ------------------------------------------------------------
    def _refresh_crs_button(self) -> None:
        from .crs import crs_code, crs_name, interface_language

        if self.scene.crs is None:
            code = self.tr("none")
        elif interface_language().lower().startswith("zh"):  # 2000国家大地坐标系 (EPSG:4490)
            code = crs_name(self.scene.crs)
        else:
            code = crs_code(self.scene.crs)
        text = self.tr("Scene CRS: {code}").format(code=code)
        auto = self._auto_crs_note()
        if auto:
            text += self.tr(" ({name}, chosen for longitude/latitude data)").format(
                name=self.scene.crs.name)
        self.crs_button.setProperty("autoCrs", auto)
        if self.secondary_crs is not None:
            text += f"  (+ {crs_code(self.secondary_crs)})"
        self.crs_button.setText(text)

    def _auto_crs_note(self) -> str:
        """The note of a layer whose geographic coordinates are drawn in the scene CRS
        chosen for them (:func:`loaders.georef.prepare_for_scene`), else ""."""
        if self.scene.crs is None:
            return ""
        from loaders import georef

        for layer in self.scene.layers:
            note = layer.data.metadata.get("auto_crs")
            if note and georef.same_crs(layer.data.crs, self.scene.crs):
                return str(note)
        return ""

    def crs_dialog(self) -> None:
        from .crs import CrsDialog

        layer_crss = [l.data.crs for l in self.scene.layers if l.data.crs is not None]
        dialog = CrsDialog(self.scene.crs, self.secondary_crs, layer_crss, self)
        if dialog.exec() != QtWidgets.QDialog.Accepted:
            return
        scene_crs, second = dialog.values()
        self.set_secondary_crs(second)
        if scene_crs is not None:
            ok, message = self.set_scene_crs(scene_crs)
            if not ok:
                dialogs.warn(self, self.tr("Scene CRS not changed"), message)

    def set_secondary_crs(self, crs) -> None:
        """Show picked coordinates also in ``crs`` (None: only in the scene CRS)."""
        from .crs import crs_code

        self.secondary_crs = crs
        self._secondary_transformer = None
        self.settings.setValue("secondary_crs", crs_code(crs) if crs is not None else "")
        self._refresh_crs_button()
        if self.scene.last_pick is not None:
            self._on_picked(self.scene.last_pick)
        self.objects_panel.refresh_properties()

    def secondary_coordinates(self, xyz) -> str:
        """``xyz`` (true coordinates in the scene CRS) in the second CRS, as text; ""
        when there is no second CRS or the scene CRS is unknown."""
        if self.secondary_crs is None or self.scene.crs is None:
            return ""
        from loaders.georef import transform_points

        from .crs import crs_code, format_coordinates

        try:
            out = transform_points(xyz, self.scene.crs, self.secondary_crs)[0]
        except ValueError as exc:
            return f"{crs_code(self.secondary_crs)}: {exc}"
        return f"{crs_code(self.secondary_crs)}: {format_coordinates(out, self.secondary_crs)}"

    def set_scene_crs(self, crs) -> tuple[bool, str]:
        """Make ``crs`` the scene CRS (:meth:`viewer.session.ProjectSession.change_crs`):
        layers that know their CRS are re-read in the background and transformed into it.
        Refused (with the reason) while the project holds annotations or measurements,
        whose coordinates are in the current CRS, or while files are being opened."""
        change = self.session.change_crs(crs, loading=bool(self.jobs))
        if not change.changed or change.message == "same coordinate system":
            return change.changed, change.message
        for layer in change.reload:
            self._start_job(layer.path, reload_layer=layer)
        self._refit_after_reload = bool(change.reload)
        self._update_progress()
        if not change.reload:
            self.renderer.fit()
        return True, change.message

    def _tool_changed_for_alignment(self) -> None:
        if self.tool.mode is not None and self.alignment_panel.pick_button.isChecked():
            self.alignment_panel.pick_button.setChecked(False)

    def _font_warning(self, text: str) -> None:
        """Text in the 3D view that no installed font can draw (said once per problem)."""
        self.font_warnings.append(text)
        self.statusBar().showMessage(text, 15000)

    def _on_picked(self, pick, **kw) -> None:
        text = format_pick(pick)
        if pick is not None:
            second = self.secondary_coordinates(pick.xyz)
            if second:
                text = text.replace("  |  ", f"  ({second})  |  ", 1) if "  |  " in text \
                    else f"{text}  ({second})"
        self.pick_label.setText(text)

    # -- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        from .project_actions import folder_source

        # a dropped folder is a tileset (OSGB, or 3D Tiles: its tileset.json)
        paths = [folder_source(p) if Path(p).is_dir() else p
                 for p in (u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile())]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    # -- layout persistence -------------------------------------------------------------
    def _restore_layout(self) -> None:
        """The saved geometry and dock layout; a dock layout saved by an older version
        (LAYOUT_VERSION) is ignored, and the default one (narrow docks, the 3D view the
        largest part) is applied when the window is first shown."""
        geometry = self.settings.value("geometry")
        state = self.settings.value("window_state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        restored = False
        if state is not None:
            restored = self.restoreState(state, LAYOUT_VERSION)
        self._default_dock_sizes_pending = not restored

    def default_dock_widths(self, width: int | None = None) -> tuple[int, int]:
        """(left, right) dock widths for a window ``width`` px wide: together at most
        ~36 % of it, so that the 3D view keeps more than 60 %."""
        width = width or self.width()
        left = max(200, min(260, int(width * 0.19)))
        right = max(230, min(320, int(width * 0.18)))
        return left, right

    def apply_default_layout(self) -> None:
        """Narrow docks: Layers above Properties on the left, the Annotations /
        Measurements / Objects / Align tabs on the right."""
        left, right = self.default_dock_widths()
        for dock in self.findChildren(QtWidgets.QDockWidget):
            narrow_combos(dock.widget())
            budget = left if self.dockWidgetArea(dock) == QtCore.Qt.LeftDockWidgetArea \
                else right
            widget = dock.widget()
            if widget.minimumSizeHint().width() > budget and \
                    not isinstance(widget, QtWidgets.QScrollArea):
                # a panel wider than its share scrolls instead of squeezing the view
                dock.setWidget(scrolled(widget))
        self.resizeDocks([self.layer_dock, self.annotations_dock], [left, right],
                         QtCore.Qt.Horizontal)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if getattr(self, "_default_dock_sizes_pending", None) is not None:
            pending, self._default_dock_sizes_pending = self._default_dock_sizes_pending, None
            for dock in self.findChildren(QtWidgets.QDockWidget):
                narrow_combos(dock.widget())
            if pending:  # (once the docks have their first sizes: after this event)
                QtCore.QTimer.singleShot(0, self.apply_default_layout)

    def _show_panel_for_tool(self) -> None:
        from .annotations import ANNOTATION_TOOLS, MEASURE_TOOLS

        mode = self.tool.mode
        dock = self.annotations_dock if mode in ANNOTATION_TOOLS or mode == "move_vertex" \
            else self.measurements_dock if mode in MEASURE_TOOLS else None
        if dock is not None and (dock.isHidden() or not dock.widget().isVisible()):
            dock.show()
            dock.raise_()

    def preferences_dialog(self) -> None:
        from .shortcuts import PreferencesDialog

        dialog = PreferencesDialog(self.session.default_author, self)
        if dialog.exec() == QtWidgets.QDialog.Accepted:
            self.set_default_author(dialog.author.text())

    def set_default_author(self, author: str) -> None:
        """The author of new annotations (kept for the next start)."""
        self.session.default_author = author.strip()
        self.settings.setValue("author", self.session.default_author)
        self.settings.sync()

    def shortcuts_dialog(self):
        """Help > Keyboard shortcuts…: every action that has a key (non-modal)."""
        from .shortcuts import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.setAttribute(QtCore.Qt.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    # -- heritage: undo, tools, projects ----------------------------------------------------
    def update_undo_actions(self) -> None:
        """Undo/redo texts and the window title (project name, * when unsaved)."""
        undo = self.session.undo
        self.undo_action.setEnabled(undo.can_undo())
        undo_label, redo_label = self.tr("&Undo"), self.tr("&Redo")
        self.undo_action.setText(f"{undo_label} {undo.undo_text()}".strip())
        self.redo_action.setEnabled(undo.can_redo())
        self.redo_action.setText(f"{redo_label} {undo.redo_text()}".strip())
        name = self.session.project.path.name if self.session.project.path else \
            self.tr("untitled")
        self.setWindowTitle(f"RealScene — {name}{' *' if self.session.dirty else ''}")

    def _refresh_tours(self) -> None:
        self.tours_menu.clear()
        for tour in self.session.project.tours:
            action = self.tours_menu.addAction(self.tr("Play “{name}”").format(name=tour.name))
            action.triggered.connect(lambda _=False, t=tour: self.tour_player.play(t))
        self.tours_menu.addAction(self.tr("Stop tour"), self.tour_player.stop)
        self.tours_menu.setEnabled(True)

    def _refresh_visibility_menu(self) -> None:
        """Checkable categories and condition grades: unchecked ones are hidden in 3D."""
        menu, overlay = self.visibility_menu, self.overlay
        menu.clear()
        vocab = self.session.project.vocabulary
        self.visibility_actions = {}

        def add(kind, key, label):
            hidden = overlay.hidden_categories if kind == "category" else \
                overlay.hidden_conditions
            action = menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(key not in hidden)
            action.toggled.connect(lambda on, k=key, kd=kind: self.set_annotation_visible(
                kd, k, on))
            self.visibility_actions[(kind, key)] = action

        lang = i18n.current_language()  # the standard terms in the interface language
        menu.addSection(self.tr("Categories"))
        for key in vocab.categories:
            add("category", key, vocab.category_label(key, lang))
        menu.addSection(self.tr("Condition"))
        for key in vocab.conditions:
            add("condition", key, vocab.condition_label(key, lang))
        add("condition", "", self.tr("No grade"))
        menu.addSeparator()
        menu.addAction(self.tr("Show all"), lambda: self.overlay.set_hidden(set(), set()))

    def set_annotation_visible(self, kind: str, key: str, visible: bool) -> None:
        hidden = set(self.overlay.hidden_categories if kind == "category"
                     else self.overlay.hidden_conditions)
        (hidden.discard if visible else hidden.add)(key)
        if kind == "category":
            self.overlay.set_hidden(categories=hidden)
        else:
            self.overlay.set_hidden(conditions=hidden)

    def _cancel_tool(self) -> None:
        self.tool.cancel()
        for action in self.tool_actions.values():
            action.setChecked(False)

    def fly_to(self, ann_id: str) -> None:
        """Move the camera to the view an annotation was made from (or centre on it)."""
        from ..scene import Camera

        a = self.session.project.annotation(ann_id)
        camera = Camera.for_annotation(a)
        self.scene.set_camera(camera)
        self.renderer.scene_to_camera()
        self.renderer.render()

    # -- project actions (viewer.qt.project_actions; the work is the session's) ------------
    def open_project(self, path: str, remember: bool = True) -> list:
        """Open a project (layers load in the background); the missing layer records."""
        return self.project_actions.open_project(path, remember)

    def open_sample(self) -> None:
        self.project_actions.open_sample()

    def recover_project(self, path: str) -> list:
        return self.project_actions.recover_project(path)

    def offer_recovery(self) -> bool:
        return self.project_actions.offer_recovery()

    def maybe_save(self, before: str = QT_TR_NOOP("closing")) -> bool:
        return self.project_actions.maybe_save(before)

    def save_project(self) -> bool:
        return self.project_actions.save_project()

    def import_annotations(self, path: str) -> tuple[int, int]:
        return self.project_actions.import_annotations(path)

    def export_annotations(self, fmt: str, path: str) -> Path:
        return self.project_actions.export_annotations(fmt, path)

    def recent_files(self) -> list[str]:
        return self.project_actions.recent_files()

    def close_without_asking(self) -> bool:
        """Close even with unsaved changes (snapshots, scripts, tests); a recovery file
        already written is kept, as after a crash."""
        self._ask_on_close = False
        return self.close()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if self._ask_on_close and not self.maybe_save():
            event.ignore()
            return
        self._ask_on_close = False  # closed: a later close() (e.g. at teardown) won't ask
        if not self.session.dirty:
            self.session.discard_recovery()
        self.save_layout()
        self._lod_timer.stop()
        self._autosave_timer.stop()
        self.cancel_loads()
        for job in list(self.jobs):
            job.wait(5)
        for layer in self.scene.layers:  # tile reads still running end first
            draw = self.renderer.tile_draw(layer)
            if draw is not None:
                draw.stream.close(wait=5)
        self.decorations.close()
        self.overlay.close()
        self.measurements_panel.close_panel()
        self.renderer.close()
        self.plotter.close()
        super().closeEvent(event)


def narrow_combos(widget: QtWidgets.QWidget, chars: int = 3) -> None:
    """Let the combo boxes in ``widget`` be narrower than their longest item (shown in
    full in the open list), so that a dock never pushes the 3D view below its share."""
    for combo in widget.findChildren(QtWidgets.QComboBox):
        combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(chars)
        # (Qt keeps the minimum size hint computed from the items until a style change)
        QtWidgets.QApplication.sendEvent(combo, QtCore.QEvent(QtCore.QEvent.StyleChange))
        view = combo.view()
        view.setMinimumWidth(max(view.minimumWidth(), view.sizeHintForColumn(0) + 24))


def scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a scroll area, so that a dense panel never forces the window wider
    or taller than the screen."""
    area = QtWidgets.QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.NoFrame)
    area.setWidget(widget)
    return area


def format_pick(pick) -> str:
    if pick is None:
        return i18n.translate("MainWindow", "No point under the cursor")
    x, y, z = (float(v) for v in pick.xyz)
    from loaders.georef import coordinate_decimals

    try:  # the file's precision (LAS scale...), not float32 noise
        d = coordinate_decimals(pick.layer.data)
    except Exception:  # noqa: BLE001 - the status line must never fail
        d = 4
    crs = pick.layer.data.crs
    unit = ""
    if crs is not None:
        try:
            from loaders.crs import crs_summary

            unit = crs_summary(crs).get("horizontal_units") or ""
        except Exception:  # noqa: BLE001 - the status line must never fail
            unit = ""
    text = f"{pick.layer.name}  #{pick.index}:  X {x:.{d}f}  Y {y:.{d}f}  Z {z:.{d}f}"
    if unit:
        text += f"  [{unit}]"
    attrs = []
    for key, value in pick.attributes.items():
        if isinstance(value, float):
            value = f"{value:.6g}"
        attrs.append(f"{key}={value}")
    if attrs:
        text += "  |  " + "  ".join(attrs)
    return text
