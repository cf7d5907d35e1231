"""Regenerate ``docs/screenshot-tiles.png``: issue 19's planner scene of Delft in the
window — the AHN3 scan, the CityJSON city model, an OSGB oblique tileset built from the
Delft meshes, the city's 3D Tiles export and the AHN3 DEM with its orthophoto draped, all
streamed in RD New, seen obliquely over the district. The tilesets and rasters are made
from the real files by :mod:`tests.planner_support` in a temporary folder. Run under a
display, e.g.
``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_tiles_screenshot.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _wait(ms: int) -> None:
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _settle(win, layers, timeout_s: float = 60.0) -> None:
    """Let the window stream until every tile layer has drawn what its view wants."""
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        _wait(100)
        ready = True
        for layer in layers:
            draw = win.renderer.tile_draw(layer)
            if draw is None or not layer.visible:
                continue
            stats = draw.stream.stats()
            sel = draw.stream.update(draw.view())
            if stats["pending"] or draw.behind or sel.fetch:
                ready = False
        if ready:
            return


def main(out: Path = HERE / "screenshot-tiles.png") -> Path:
    from tests.planner_support import build_planner_files
    from viewer.qt.main_window import MainWindow
    from viewer.scene import Camera

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    with tempfile.TemporaryDirectory(prefix="realscene-tiles-shot-") as tmp:
        files = build_planner_files(Path(tmp))
        settings = QtCore.QSettings(str(Path(tmp) / "shot.ini"), QtCore.QSettings.IniFormat)
        win = MainWindow(settings=settings)
        win.resize(1400, 860)
        win.show()
        loop = QtCore.QEventLoop()
        win.all_loads_finished.connect(loop.quit)
        win.open_paths([str(p) for p in (files.osgb, files.tiles3d, files.city, files.dem,
                                          files.ortho, files.scan)],
                       assign_crs={str(k): v for k, v in files.crs.items()}, remember=False)
        loop.exec()
        by_name = {layer.name: layer for layer in win.scene.layers}
        dem = by_name[files.dem.name]
        tiles = [layer for layer in win.scene.layers if layer.is_tiles]
        # the orthophoto draped on the DEM (Properties > Drape orthophoto…); the flat
        # orthophoto layer itself stays listed but hidden under it
        win.scene.select(dem)
        box = win.properties_panel.tiles
        job = box.drape_dialog(str(files.ortho))
        while not (job.done and box.drape_job is None):
            _wait(50)
        win.scene.update(by_name[files.ortho.name], visible=False)
        # the OSGB mesh, the city model and its 3D Tiles export are the same district:
        # the oblique-photogrammetry mesh is shown, the other two stay listed, unticked
        for name in (files.city.name, "tileset.json"):
            win.scene.update(by_name[name], visible=False)
        # the scan's buildings and trees over the draped terrain (ground and water hidden)
        win.scene.update(by_name[files.scan.name], hidden_classes={2, 9})
        # an oblique view from the south-east over the district, the scan in front
        city = by_name[files.city.name].data
        xyz = city.vertices.astype(np.float64) + city.origin
        lo, hi = xyz.min(axis=0), xyz.max(axis=0)
        focus = np.array([(lo[0] + hi[0]) / 2 + 40, (lo[1] + hi[1]) / 2 - 20, 0.0])
        span = float(np.hypot(*(hi - lo)[:2]))
        eye = focus + np.array([0.55, -0.8, 0.7]) * span * 0.8
        win.scene.camera = Camera(position=tuple(eye), focal_point=tuple(focus),
                                  view_up=(0.0, 0.0, 1.0))
        win.renderer.scene_to_camera()
        win.scene.select(dem)
        _settle(win, tiles)
        win.renderer.render()
        _wait(400)  # layout settled, legends sized to the view
        _settle(win, tiles)
        win.renderer.render()
        win.grab().save(str(out))
        win.close()
    return out


if __name__ == "__main__":
    print(main())
