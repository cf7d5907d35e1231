"""The window and the command line show the same scene: a project opened in the real
window (Xvfb) and rendered by ``realscene render`` from the same saved view give the same
picture, for the bundled sample site and for a mixed-CRS scene (the AHN3 scan, which
states no CRS, with the Delft city model written in UTM 31N by the test).

The window draws without anti-aliasing (for speed on software OpenGL); the CLI
anti-aliases by default (8x MSAA), so the comparison renders with ``--msaa 0``.
Tolerance: mean absolute difference < 1 (of 255) per channel over the picture, and pixel
probes (annotation points; points on the scan) within 24 per channel and not background.
The default, anti-aliased CLI picture is compared too, on 8x8-pixel block averages
(mean < 4). Both draw every point in view (a fixed budget above the point counts).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.viewer.gui_support import background_u8
from tests.viewer.test_pipeline import (
    SAMPLE,
    SAMPLE_PROJECT,
    cityjson_bounds,
    true_bounds,
    write_cityjson_in,
)

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 2_000_000  # above every layer's point count: all points drawn in both
MEAN_TOLERANCE = 1.0
PROBE_TOLERANCE = 24
BLOCK, BLOCK_TOLERANCE = 8, 4.0  # anti-aliased CLI picture vs the window


def _open_project(qtbot, window, path):
    window.resize(1400, 900)
    with qtbot.waitSignal(window.all_loads_finished, timeout=120_000):
        window.open_project(str(path))
    window.renderer.set_point_budget(BUDGET)
    # the legend belongs to the selected layer: the first one, as on the command line
    window.scene.select(window.scene.layers[0])
    window.renderer.refresh_overlays()


def _drawn(window) -> list:
    return [None if (d := window.renderer.drawn_indices(layer)) is None else len(d)
            for layer in window.scene.layers]


def _window_picture(qtbot, window, view_name):
    from PySide6 import QtWidgets

    from viewer.legend import ui_font_px

    # what the CLI draws by default: no gizmo, scale bar or arrow; legends at the
    # default UI font size (the window uses its own Qt font's, which Xvfb may size apart)
    window.scene.set_decorations(axes=False, scale_bar=False, north_arrow=False)
    window.renderer.legend_overlays.font_px = ui_font_px()
    window.renderer.refresh_overlays()
    view = next(v for v in window.scene.views if v.name == view_name)
    window.restore_view(view)

    last: list = []

    def settled() -> bool:  # the view at rest: the same points drawn twice running
        window.renderer.update_lod(force=True)
        QtWidgets.QApplication.processEvents()
        now = _drawn(window)
        done = now == last and window.renderer.current_budget() >= BUDGET
        last[:] = now
        return done

    qtbot.waitUntil(settled, timeout=20_000)
    window.renderer.render()
    img = np.asarray(window.plotter.screenshot(None, return_img=True))[..., :3]
    return img.astype(int)


def _cli_picture(project, view_name, size, tmp_path, msaa=0):
    from PIL import Image

    out = tmp_path / "cli.png"
    proc = subprocess.run(
        [sys.executable, "-m", "viewer.cli", "render", str(project), "-o", str(out),
         "--size", f"{size[0]}x{size[1]}", "--view", view_name, "--budget", str(BUDGET),
         "--msaa", str(msaa), "--no-attribution"],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def _probe(window, img, xyz):
    """Mean colour of the 5x5 pixels of ``img`` where the true coordinates ``xyz`` are
    drawn in the window."""
    h = img.shape[0]
    x, y = window.renderer.project(np.asarray([xyz], np.float64))[0]
    row, col = int(round(h - 1 - y)), int(round(x))
    return img[row - 2:row + 3, col - 2:col + 3].reshape(-1, 3).mean(axis=0)


def _block_difference(a, b, k=BLOCK) -> float:
    """Mean absolute difference of k x k block averages (anti-aliasing evens out)."""
    h, w = a.shape[0] // k * k, a.shape[1] // k * k

    def blocks(x):
        return x[:h, :w].reshape(h // k, k, w // k, k, 3).mean(axis=(1, 3))

    return float(np.abs(blocks(a) - blocks(b)).mean())


def _compare(window, win_img, cli_img, probes):
    assert win_img.shape == cli_img.shape
    if os.environ.get("REALSCENE_DEBUG_PICTURES"):
        from PIL import Image

        d = Path(os.environ["REALSCENE_DEBUG_PICTURES"])
        d.mkdir(exist_ok=True)
        n = len(list(d.glob("*.png")))
        Image.fromarray(win_img.astype(np.uint8)).save(d / f"{n}_win.png")
        Image.fromarray(cli_img.astype(np.uint8)).save(d / f"{n + 1}_cli.png")
    diff = np.abs(win_img - cli_img)
    assert diff.mean() < MEAN_TOLERANCE, f"mean difference {diff.mean():.2f}"
    bg = background_u8(window)
    h, w = win_img.shape[:2]
    xy = window.renderer.project(np.asarray(probes, np.float64))
    inside = [p for p, (x, y) in zip(probes, xy, strict=True)
              if 2 <= x < w - 2 and 2 <= y < h - 2]
    assert len(inside) >= 2, "the probes are not in the picture"
    for xyz in inside:
        a, b = _probe(window, win_img, xyz), _probe(window, cli_img, xyz)
        assert np.abs(a - b).max() <= PROBE_TOLERANCE, (xyz, a, b)
        assert np.abs(a - bg).sum() > 30, f"probe {xyz} shows background"


def test_sample_project_window_and_cli_render_alike(qtbot, window, tmp_path):
    _open_project(qtbot, window, SAMPLE_PROJECT)
    assert [layer.name for layer in window.scene.layers] == [
        "testarea.obj", "delft_ahn3.laz", "delft.city.json"]
    win_img = _window_picture(qtbot, window, "Overview")
    size = (win_img.shape[1], win_img.shape[0])
    cli_img = _cli_picture(SAMPLE_PROJECT, "Overview", size, tmp_path)
    # probes: the annotations' points (pins, polygon and polyline vertices, boxes)
    probes = [p for a in window.session.project.annotations for p in a.points]
    _compare(window, win_img, cli_img, probes)
    smooth = _cli_picture(SAMPLE_PROJECT, "Overview", size, tmp_path, msaa=8)
    assert _block_difference(win_img, smooth) < BLOCK_TOLERANCE


def test_mixed_crs_project_window_and_cli_render_alike(qtbot, window, tmp_path,
                                                       shared_data):
    """The AHN3 scan (RD New, no CRS stored: the project's CRS) and the Delft model in
    UTM 31N: the model is transformed onto the scan in the window and on the CLI."""
    from heritage.model import View
    from heritage.project import LayerRecord, Project
    from loaders.crs import same_crs

    scan = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    model = write_cityjson_in(SAMPLE / "delft.city.json", tmp_path / "delft_utm.city.json")
    centre = (85036.0, 447527.0)
    camera = {"position": [centre[0] - 60.0, centre[1] - 160.0, 160.0],
              "focal_point": [centre[0], centre[1], 5.0], "view_up": [0.0, 0.0, 1.0],
              "parallel": False}
    project = Project(crs="EPSG:28992", views=[View("Oblique", camera)], layers=[
        # saved filters keep coplanar surfaces out of the picture (ground and water
        # points lie exactly on the model's terrain, and some terrain polygons overlap):
        # depth ties there are decided differently by the on-screen and the off-screen
        # OpenGL context, which is not what this test compares
        LayerRecord(path=str(scan), name="scan",
                    display={"color_mode": "classification", "point_size": 2.0,
                             "hidden_classes": [2, 9]}),
        LayerRecord(path=model.name, name="model",
                    display={"color_mode": "type",
                             "feature_filter": 'type == "Building"'})])
    path = project.save(tmp_path / "mixed.realscene.json")

    _open_project(qtbot, window, path)
    assert not window.errors
    scan_layer, model_layer = window.scene.layers
    assert same_crs(window.scene.crs, "EPSG:28992")
    assert scan_layer.data.crs is None  # assumed to be in the scene CRS
    # the model lands on the scan: back at its RD New coordinates
    lo, hi = cityjson_bounds(SAMPLE / "delft.city.json")
    mlo, mhi = true_bounds(model_layer)
    assert np.abs(mlo[:2] - lo[:2]).max() < 0.05 and np.abs(mhi[:2] - hi[:2]).max() < 0.05
    slo, shi = true_bounds(scan_layer)
    overlap = np.minimum(mhi[:2], shi[:2]) - np.maximum(mlo[:2], slo[:2])
    assert (overlap > 0.9 * (shi - slo)[:2]).all()  # over (nearly) all of the scan

    win_img = _window_picture(qtbot, window, "Oblique")
    size = (win_img.shape[1], win_img.shape[0])
    cli_img = _cli_picture(path, "Oblique", size, tmp_path)
    # probes: high building points of the scan (class 6, roofs), where the scan and the
    # model's buildings meet
    xyz, classes = scan_layer.data.xyz(), scan_layer.data.attributes["classification"]
    roofs = xyz[classes == 6]
    roofs = roofs[roofs[:, 2] > np.percentile(roofs[:, 2], 80)]  # roofs, not walls
    roofs = roofs[np.argsort(roofs[:, 0])]
    probes = [roofs[int(len(roofs) * f)] for f in (0.3, 0.5, 0.7)]
    _compare(window, win_img, cli_img, probes)


def test_cli_open_takes_a_project(tmp_path):
    """``realscene open PROJECT`` opens the project in the window (it used to say
    "unrecognised file type '.json'")."""
    from PIL import Image

    out = tmp_path / "window.png"
    proc = subprocess.run(
        [sys.executable, "-m", "viewer.cli", "open", str(SAMPLE_PROJECT), "--snapshot",
         str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "REALSCENE_STATE_DIR": str(tmp_path / "state")})
    assert proc.returncode == 0, proc.stderr
    assert "unrecognised" not in proc.stderr
    assert Image.open(out).size[0] > 200


def _write_las(path, xyz, crs, classes):
    import laspy
    from pyproj import CRS

    header = laspy.LasHeader(point_format=6, version="1.4")
    header.offsets = np.floor(xyz.min(axis=0))
    header.scales = np.array([0.001, 0.001, 0.001])
    header.add_crs(CRS.from_user_input(crs))
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    las.classification = classes
    las.write(path)
    return path


def test_files_opened_together_take_the_first_files_crs(qtbot, window, tmp_path,
                                                        shared_data):
    """Opened together, the first georeferenced file sets the scene CRS, as on the
    command line, even when a later file finishes first: a slow LAZ in RD New, then a
    small cloud in UTM 31N (done first) that must be transformed into RD New."""
    import laspy
    from pyproj import Transformer

    from loaders.crs import same_crs
    from tests.viewer.gui_support import open_and_wait

    src = laspy.read(shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    xyz = np.column_stack([src.x, src.y, src.z])
    classes = np.asarray(src.classification)
    rd = _write_las(tmp_path / "scan_rd.laz", xyz, "EPSG:28992", classes)
    sub = xyz[::50]
    x, y = Transformer.from_crs("EPSG:28992", "EPSG:32631", always_xy=True).transform(
        sub[:, 0], sub[:, 1])
    utm = _write_las(tmp_path / "few_utm.las", np.column_stack([x, y, sub[:, 2]]),
                     "EPSG:32631", classes[::50])
    open_and_wait(qtbot, window, rd, utm)
    assert not window.errors
    assert same_crs(window.scene.crs, "EPSG:28992")
    few = next(layer for layer in window.scene.layers if layer.name == "few_utm.las")
    assert same_crs(few.data.crs, "EPSG:28992")
    lo, hi = true_bounds(few)
    np.testing.assert_allclose(lo[:2], sub.min(axis=0)[:2], atol=0.05)
    np.testing.assert_allclose(hi[:2], sub.max(axis=0)[:2], atol=0.05)
    assert not any("another CRS" in w for w in few.data.warnings)
