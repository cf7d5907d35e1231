"""Tour authoring in the core (no Qt): session edits (undoable), stop captions and stored
cameras saved in the project, older projects without them, the caption text of a stop."""

from __future__ import annotations

import json

import pytest

from heritage.model import Annotation, Tour, TourStop, stop_camera
from heritage.project import Project
from viewer.scene import Camera, Scene
from viewer.session import ProjectSession
from viewer.tours import TourPath, stop_text

TOP = Camera(position=(10.0, 20.0, 500.0), focal_point=(10.0, 20.0, 0.0),
             view_up=(0.0, 1.0, 0.0))
FRONT = Camera(position=(10.0, -480.0, 5.0), focal_point=(10.0, 20.0, 5.0),
               view_up=(0.0, 0.0, 1.0))


def _session(tmp_path) -> tuple[ProjectSession, list[str]]:
    session = ProjectSession(Scene(), untitled_recovery=tmp_path / "recovery.json")
    events: list[str] = []
    session.scene.connect("tours_changed", lambda **kw: events.append("tours"))
    return session, events


def test_tour_edits_are_undoable(tmp_path):
    session, events = _session(tmp_path)
    tour = session.add_tour()
    assert tour.name == "Tour 1" and session.project.tours == [tour] and events
    a = session.add_stop(tour.id, camera=TOP, caption="from above")
    b = session.add_stop(tour.id, camera=FRONT)
    assert tour.stops == [a, b] and a.camera["position"] == [10.0, 20.0, 500.0]
    session.move_stop(tour.id, 1, 0)
    assert tour.stops == [b, a]
    session.update_stop(tour.id, 0, caption="the front", title="Front", duration=1.5,
                        pause=0.5)
    assert (b.caption, b.title, b.duration, b.pause) == ("the front", "Front", 1.5, 0.5)
    session.rename_tour(tour.id, "Walk")
    session.delete_stop(tour.id, 1)
    assert tour.stops == [b] and tour.name == "Walk"
    session.delete_tour(tour.id)
    assert session.project.tours == []
    # every step undoes, in order
    session.undo.undo()
    assert session.project.tours == [tour]
    session.undo.undo()
    assert tour.stops == [b, a]
    session.undo.undo()
    assert tour.name == "Tour 1"
    session.undo.undo()
    assert (b.caption, b.title, b.duration, b.pause) == ("", "", 2.0, 2.0)
    session.undo.undo()
    assert tour.stops == [a, b]
    session.undo.redo()
    assert tour.stops == [b, a]
    assert session.add_tour().name == "Tour 2"  # a free name


def test_stop_edits_refuse_what_cannot_be(tmp_path):
    session, _ = _session(tmp_path)
    tour = session.add_tour("T")
    with pytest.raises(ValueError, match="needs a camera"):
        session.add_stop(tour.id)
    with pytest.raises(KeyError):
        session.add_stop(tour.id, annotation_id="nope")
    session.add_stop(tour.id, camera=TOP)
    with pytest.raises(ValueError, match="negative"):
        session.update_stop(tour.id, 0, pause=-1)
    with pytest.raises(ValueError, match="needs a name"):
        session.rename_tour(tour.id, "  ")
    before = session.undo.undo_text()
    session.update_stop(tour.id, 0, caption="")  # no change: no edit
    assert session.undo.undo_text() == before


def test_captions_and_cameras_are_saved_and_old_projects_load(tmp_path):
    session, _ = _session(tmp_path)
    ann = session.add_annotation(Annotation(kind="point", title="Crack",
                                            description="Hairline", points=[[1, 2, 3]],
                                            media=["notes.txt", "photo.jpg"]))
    tour = session.add_tour("Walk")
    session.add_stop(tour.id, camera=TOP, title="Roof", caption="屋顶 from above")
    session.add_stop(tour.id, annotation_id=ann.id, caption="look closely")
    path = session.save(tmp_path / "p.realscene.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    stops = doc["tours"][0]["stops"]
    assert stops[0]["caption"] == "屋顶 from above" and stops[0]["title"] == "Roof"
    assert stops[0]["camera"]["focal_point"] == [10.0, 20.0, 0.0]
    assert "camera" not in stops[1]
    back = Project.load(path)  # validated against the schema
    [t] = back.tours
    assert [s.caption for s in t.stops] == ["屋顶 from above", "look closely"]
    assert t.stops[0].camera == tour.stops[0].camera

    # a project written before captions: stops without them load with empty ones
    for s in doc["tours"][0]["stops"]:
        for key in ("caption", "title", "camera"):
            s.pop(key, None)
    doc["tours"][0]["stops"][0]["view_id"] = None
    old = tmp_path / "old.realscene.json"
    old.write_text(json.dumps(doc), encoding="utf-8")
    [t] = Project.load(old).tours
    assert [(s.caption, s.title, s.camera) for s in t.stops] == [("", "", None)] * 2

    # what a stop shows: title, caption and, for an annotation, its text and first photo
    text = stop_text(session.project, tour.stops[1])
    assert (text.title, text.caption, text.annotation_title, text.description,
            text.photo) == ("Crack", "look closely", "Crack", "Hairline", "photo.jpg")
    text = stop_text(session.project, tour.stops[0])
    assert (text.title, text.caption, text.photo) == ("Roof", "屋顶 from above", None)


def test_a_stored_camera_is_where_the_tour_goes():
    stop = TourStop(camera=TOP.to_dict(), caption="c")
    camera, title, ann = stop_camera(stop, [], lambda _id: None, None)
    assert camera["position"] == [10.0, 20.0, 500.0] and title == "" and ann is None
    project = Project(tours=[Tour("t", [stop, TourStop(camera=FRONT.to_dict(),
                                                       duration=1.0, pause=1.0)])])
    path = TourPath(project, project.tours[0], FRONT)
    assert path.duration == pytest.approx(2.0 + 2.0 + 1.0 + 1.0)
    assert path.camera_at(4.0).position == TOP.position
    assert path.leg_at(1.0).index == 0 and path.leg_at(4.5).index == 1
    assert path.leg_at(99).index == 1
    with pytest.raises(ValueError):
        TourStop(camera=TOP.to_dict(), pause=-1)
