"""Regenerate the README's window pictures: ``docs/screenshot.png`` (the sample site in
English) and ``docs/screenshot-zh.png`` (the same window in Chinese, a Chinese annotation
selected so its edit form shows). Run under a display, e.g.
``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6 import QtCore, QtWidgets

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent / "assets" / "sample_site" / "delft.realscene.json"


def shoot(out: Path, language: str) -> Path:
    from viewer.qt.main_window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(str(Path(tmp) / "shot.ini"), QtCore.QSettings.IniFormat)
        settings.setValue("language", language)
        win = MainWindow(settings=settings)
        win.renderer.set_point_budget(1_000_000)  # the whole sample scan
        win.resize(1280, 800)
        win.show()
        loop = QtCore.QEventLoop()
        win.all_loads_finished.connect(loop.quit)
        win.open_project(str(PROJECT), remember=False)
        if win.jobs:
            loop.exec()
        if language == "zh":
            first = win.session.project.annotations[0]
            win.session.update_annotation(first.id, title="屋脊风化 — 明代砖雕")
            win.annotations_panel.select(first.id)
        for _ in range(20):  # level of detail and labels settle
            app.processEvents()
            win.renderer.process_updates()
            win.renderer.render()
            QtCore.QThread.msleep(50)
        win.grab().save(str(out))
        win.close_without_asking()
        win.close()
    return out


if __name__ == "__main__":
    print(shoot(HERE / "screenshot.png", "en"))
    print(shoot(HERE / "screenshot-zh.png", "zh"))
