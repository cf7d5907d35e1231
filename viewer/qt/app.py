"""Starting the Qt application: ``run_app`` (used by ``realscene open``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6 import QtCore, QtWidgets


def _check_display() -> str | None:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return ("no display: run RealScene from a desktop session, or under "
                "`xvfb-run -a` for headless use (./run does this for you)")
    return None


def make_app() -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.QCoreApplication.setOrganizationName("RealScene")
        QtCore.QCoreApplication.setApplicationName("RealScene")
        app = QtWidgets.QApplication(sys.argv[:1])
    return app


def run_app(paths: list[str], snapshot: str | None = None, sample: bool = False,
            size: tuple[int, int] | None = None, budget: int | str | None = None,
            allow_redirects: bool = False, project: str | None = None,
            assign_crs: dict[str, str] | None = None) -> int:
    """Open the main window on ``paths`` (and/or the sample site, or the project file
    ``project``); ``allow_redirects``:
    URLs may redirect to other hosts without asking (``open --allow-redirects``);
    ``assign_crs``: {path: CRS} for files without a CRS or a wrong one (``open --crs``).

    With ``snapshot``, wait until every file has loaded (or failed) and the view has
    rendered, save the whole window as PNG and exit. Returns a process exit code:
    2 when a file could not be opened in snapshot mode.
    """
    problem = _check_display()
    if problem:
        print(f"realscene: error: {problem}", file=sys.stderr)
        return 2
    from loaders.copc import is_url

    for p in paths:
        if not is_url(p) and not Path(p).exists():  # URLs: COPC streamed over HTTP(S)
            print(f"realscene: error: {p}: file not found", file=sys.stderr)
            return 2
    app = make_app()
    from .main_window import MainWindow

    settings = None
    if snapshot:  # a snapshot must not depend on (or change) the user's saved layout
        settings = QtCore.QSettings(str(Path(snapshot).with_suffix(".ini")),
                                    QtCore.QSettings.IniFormat)
    window = MainWindow(settings=settings)
    if budget is not None:  # this session only (the saved setting is not changed)
        window.renderer.set_point_budget(budget)
    if size:
        window.resize(*size)
    window.show()
    if not snapshot and window.offer_recovery():  # after a crash, offer unsaved work back
        sample = False
    if sample:
        window.open_sample()
    if project:  # a project: its layers with their display state, views, annotations
        from heritage.project import ProjectError

        try:
            window.open_project(str(project))
        except ProjectError as exc:
            print(f"realscene: error: {exc}", file=sys.stderr)
            window.close_without_asking()
            return 2
    if paths:
        window.open_paths(paths, allow_redirects=allow_redirects, assign_crs=assign_crs)

    exit_code = 0
    if snapshot:
        def take() -> None:
            nonlocal exit_code
            if not (project and window.scene.views):  # a project shows its first view
                window.renderer.fit()
            window.renderer.render()
            app.processEvents()
            window.renderer.render()
            window.grab().save(str(snapshot))
            for message in window.errors:
                print(f"realscene: error: {message}", file=sys.stderr)
            exit_code = 2 if window.errors else 0
            window.close_without_asking()  # a snapshot never waits on a question
            app.quit()

        def when_loaded() -> None:
            QtCore.QTimer.singleShot(300, take)

        if window.jobs:
            window.all_loads_finished.connect(when_loaded)
        else:
            when_loaded()
    app.exec()
    if snapshot and settings is not None:
        try:
            Path(settings.fileName()).unlink()
        except OSError:
            pass
    return exit_code
