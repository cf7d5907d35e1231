"""Regenerate ``docs/screenshot-city.png``: the Delft scan beside the Delft CityJSON model,
a building picked and its attributes in the Objects dock. Run under a display, e.g.
``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_city_screenshot.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets

HERE = Path(__file__).resolve().parent
SITE = HERE.parent / "assets" / "sample_site"


def main(out: Path = HERE / "screenshot-city.png") -> Path:
    from viewer.qt.main_window import MainWindow

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    settings = QtCore.QSettings(str(out.with_suffix(".ini")), QtCore.QSettings.IniFormat)
    win = MainWindow(settings=settings)
    win.resize(1400, 860)
    win.show()
    loop = QtCore.QEventLoop()
    win.all_loads_finished.connect(loop.quit)
    win.open_paths([str(SITE / "delft_ahn3.laz"), str(SITE / "delft.city.json")])
    loop.exec()
    model = win.scene.layer_by_name("delft.city.json")
    win.scene.select(model)
    # the tallest building over the scan
    data = model.data
    heights = np.zeros(len(data.features))
    for i, f in enumerate(data.features):
        if f.type == "Building":
            faces = data.faces[data.face_feature == i]
            if len(faces):
                heights[i] = data.vertices[faces.ravel(), 2].max()
    target = data.features[int(heights.argmax())].id
    win.objects_dock.raise_()
    win.scene.select_feature(model, target)
    win.view_preset("iso")
    win.renderer.fit_feature(model, target)
    win.plotter.camera.zoom(float(__import__("os").environ.get("ZOOM", "0.5")))
    win.renderer.render()
    wait = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(400, wait.quit)  # layout settled, legend sized to the view
    wait.exec()
    win.renderer.render()
    win.grab().save(str(out))
    win.close()
    out.with_suffix(".ini").unlink(missing_ok=True)
    return out


if __name__ == "__main__":
    print(main())
