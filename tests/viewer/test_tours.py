"""Tours: the Qt-free camera path (viewer.tours), the window's player that follows it,
and ``realscene tour`` writing the frames of the same path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from heritage.model import Annotation, Tour, TourStop, View
from heritage.project import Project
from viewer.scene import Camera
from viewer.tours import TourPath, UnknownTour, ease, find_tour, interpolate, stop_camera

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample_site"
SAMPLE_PROJECT = SAMPLE / "delft.realscene.json"

START = Camera(position=(85000.0, 447300.0, 400.0), focal_point=(85036.0, 447527.0, 0.0),
               view_up=(0.0, 0.0, 1.0))


def _close(a: Camera, b: Camera, atol: float = 1e-6) -> None:
    np.testing.assert_allclose(a.position, b.position, atol=atol, rtol=0)
    np.testing.assert_allclose(a.focal_point, b.focal_point, atol=atol, rtol=0)
    np.testing.assert_allclose(a.view_up, b.view_up, atol=1e-9, rtol=0)
    assert a.parallel == b.parallel


@pytest.fixture(scope="module")
def sample() -> Project:
    return Project.load(SAMPLE_PROJECT)


# -- the camera path (no Qt, no VTK) ---------------------------------------------------------


def test_path_times_and_keyframes_of_the_sample_tour(sample):
    tour = sample.tours[0]
    path = TourPath(sample, tour, START)
    assert [leg.index for leg in path.legs] == list(range(len(tour.stops)))
    assert path.duration == pytest.approx(sum(s.duration + s.pause for s in tour.stops))
    overview = Camera.from_dict(next(v for v in sample.views if v.id == tour.stops[0].view_id)
                                .camera)
    first = tour.stops[0]
    _close(path.camera_at(0.0), START)
    _close(path.camera_at(first.duration), overview)  # arrived ...
    _close(path.camera_at(first.duration + first.pause * 0.99), overview)  # ... and held
    # half-way in time is half-way in space (smoothstep is symmetric), not at the ends
    mid = path.camera_at(first.duration / 2)
    np.testing.assert_allclose(mid.position, (np.add(START.position, overview.position)) / 2,
                               atol=1e-6)
    quarter = path.camera_at(first.duration / 4)
    share = (quarter.position[2] - START.position[2]) / (overview.position[2]
                                                          - START.position[2])
    assert share == pytest.approx(ease(0.25)) and share < 0.25  # eased: slow start
    # the second stop starts where the first one ended
    assert path.legs[1].start == path.legs[0].target
    assert path.legs[1].t0 == pytest.approx(first.duration + first.pause)
    # after the end: the last stop's camera
    _close(path.camera_at(path.duration + 5), path.legs[-1].target)
    assert path.stops_done(path.duration) == list(range(len(tour.stops)))
    assert path.stops_done(first.duration) == []


def test_annotation_without_a_view_is_centred_keeping_the_previous_offset(sample):
    tour = sample.tours[0]
    path = TourPath(sample, tour, START)
    for leg in path.legs:
        stop = tour.stops[leg.index]
        if stop.annotation_id and not sample.annotation(stop.annotation_id).view:
            ann = sample.annotation(stop.annotation_id)
            np.testing.assert_allclose(leg.target.focal_point, ann.anchor, atol=1e-9)
            np.testing.assert_allclose(
                np.subtract(leg.target.position, leg.target.focal_point),
                np.subtract(leg.start.position, leg.start.focal_point), atol=1e-6)
            break
    else:
        pytest.fail("the sample tour has no stop at an annotation without a view")


def test_stops_whose_view_or_annotation_is_gone_are_skipped():
    view = View("v", Camera(position=(10.0, 0.0, 5.0)).to_dict())
    ann = Annotation("point", [[1.0, 2.0, 3.0]], title="a")
    project = Project(views=[view], annotations=[ann])
    tour = Tour("t", [TourStop(view_id="gone", duration=1, pause=1),
                      TourStop(view_id=view.id, duration=1, pause=0.5),
                      TourStop(annotation_id="gone too"),
                      TourStop(annotation_id=ann.id, duration=2, pause=0)])
    path = TourPath(project, tour, START)
    assert [leg.index for leg in path.legs] == [1, 3]
    assert path.duration == pytest.approx(3.5)
    assert stop_camera(project, tour.stops[0], START) is None
    _close(path.camera_at(path.duration), Camera(
        position=tuple(np.add(ann.anchor, np.subtract((10.0, 0.0, 5.0), (0, 0, 0)))),
        focal_point=tuple(ann.anchor), view_up=(0.0, 1.0, 0.0)))


def test_an_empty_tour_stays_at_the_start():
    path = TourPath(Project(), Tour("empty"), START)
    assert path.duration == 0 and path.legs == []
    _close(path.camera_at(3.0), START)
    assert path.frame_times(25) == [0.0]


def test_view_up_stays_a_unit_vector_and_flips_cleanly():
    a = Camera(view_up=(0.0, 0.0, 1.0))
    b = Camera(position=(5.0, 5.0, 5.0), view_up=(0.0, 1.0, 0.0), parallel=True)
    for t in np.linspace(0, 1, 11):
        assert np.linalg.norm(interpolate(a, b, t).view_up) == pytest.approx(1.0)
    # opposite view-ups cancel half-way: the target's is used, never a zero vector
    c = interpolate(Camera(view_up=(0.0, 0.0, 1.0)), Camera(view_up=(0.0, 0.0, -1.0)), 0.5)
    assert c.view_up == (0.0, 0.0, -1.0)


def test_frame_times_cover_the_whole_path(sample):
    path = TourPath(sample, sample.tours[0], START)
    times = path.frame_times(25)
    assert times[0] == 0 and times[-1] <= path.duration < times[-1] + 1 / 25
    assert len(times) == path.frame_count(25) == int(path.duration * 25) + 1
    with pytest.raises(ValueError):
        path.frame_count(0)


def test_find_tour_by_name_and_the_error_lists_the_tours(sample):
    assert find_tour(sample, "Condition walk") is sample.tours[0]
    assert find_tour(sample, " condition WALK ") is sample.tours[0]
    with pytest.raises(UnknownTour) as info:
        find_tour(sample, "Night walk")
    assert "Night walk" in str(info.value) and "Condition walk" in str(info.value)
    with pytest.raises(UnknownTour, match="no tours"):
        find_tour(Project(), "x")


def test_the_camera_path_imports_neither_qt_nor_vtk():
    code = ("import sys, viewer.tours; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'vtk', 'vtkmodules', 'pyvista', 'pyvistaqt')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# -- realscene tour ------------------------------------------------------------------------------


def _short_tour_project(tmp_path: Path) -> Path:
    """The sample site with its tour shortened (few frames to render)."""
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    project = site / SAMPLE_PROJECT.name
    doc = json.loads(project.read_text(encoding="utf-8"))
    for stop in doc["tours"][0]["stops"]:
        stop["duration"], stop["pause"] = 1.0, 0.5
    project.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return project


def _png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def test_cli_tour_writes_the_frames_of_the_path(tmp_path, capsys):
    from viewer.cli import main

    project = _short_tour_project(tmp_path)
    out = tmp_path / "frames"
    code = main(["tour", str(project), "--name", "Condition walk", "-o", str(out),
                 "--size", "160x100", "--fps", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip() == str(out)
    # 4 stops of 1 s move + 0.5 s pause at 2 fps: t = 0, 0.5, ..., 6.0
    frames = sorted(out.glob("frame_*.png"))
    assert [f.name for f in frames] == [f"frame_{i:05d}.png" for i in range(13)]
    images = [_png(f) for f in frames]
    assert images[0].shape == (100, 160, 3)
    bg = images[0][0, 0]
    for img in images:
        assert (np.abs(img - bg).sum(axis=2) > 30).mean() > 0.05  # not blank
    diff = lambda a, b: float(np.abs(a - b).mean())  # noqa: E731
    # t = 1.0 arrives at the overview, t = 1.5 (end of its pause) still there: same frame;
    # while moving, frames change
    assert diff(images[2], images[3]) < 0.5
    assert diff(images[0], images[1]) > 2 and diff(images[3], images[4]) > 2
    assert "13 frames" in captured.err


def test_cli_tour_unknown_name_lists_the_tours(tmp_path, capsys):
    from viewer.cli import main

    code = main(["tour", str(SAMPLE_PROJECT), "--name", "Night walk", "-o",
                 str(tmp_path / "f")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Night walk" in err and "Condition walk" in err
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize("argv, message", [
    (["--fps", "0"], "--fps"),
    (["--size", "12"], "--size"),
])
def test_cli_tour_bad_options_are_one_line(tmp_path, capsys, argv, message):
    from viewer.cli import main

    code = main(["tour", str(SAMPLE_PROJECT), "--name", "Condition walk", "-o",
                 str(tmp_path / "f"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err


def test_cli_tour_refuses_a_folder_with_old_frames(tmp_path, capsys):
    from viewer.cli import main

    out = tmp_path / "frames"
    out.mkdir()
    (out / "frame_00000.png").write_bytes(b"old")
    code = main(["tour", str(SAMPLE_PROJECT), "--name", "Condition walk", "-o", str(out)])
    assert code == 2 and "already holds frames" in capsys.readouterr().err
    assert (out / "frame_00000.png").read_bytes() == b"old"


# -- the window's player follows the same path ---------------------------------------------


@pytest.mark.gui
def test_window_player_shows_the_path_camera_at_each_time(qtbot, window):
    with qtbot.waitSignal(window.all_loads_finished, timeout=120_000):
        window.open_sample()
    project = window.session.project
    tour = project.tours[0]
    for stop in tour.stops:
        stop.duration, stop.pause = 0.4, 0.1
    times: list[float] = []
    real_clock = window.tour_player.clock

    def clock() -> float:
        times.append(real_clock())
        return times[-1]

    window.tour_player.clock = clock
    start = window.renderer.camera_to_scene(emit=False)
    expected = TourPath(project, tour, start)
    seen: list[tuple[float, Camera]] = []
    # connected after the player's own tick: sees the camera that tick drew
    window.tour_player.timer.timeout.connect(
        lambda: seen.append((times[-1] - times[0],
                             window.renderer.camera_to_scene(emit=False))))
    with qtbot.waitSignal(window.tour_player.finished, timeout=60_000):
        window.tour_player.play(tour)
    assert len(seen) > len(tour.stops) + 2  # through intermediate frames
    for t, camera in seen:
        _close(camera, expected.camera_at(t), atol=1e-6)
    _close(window.renderer.camera_to_scene(emit=False), expected.legs[-1].target)
