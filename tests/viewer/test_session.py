"""The project session (no Qt): undoable edits and saving a scene as a project."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import loaders
from heritage.model import Annotation, Measurement
from heritage.project import Project
from viewer.scene import Camera, Scene
from viewer.session import ProjectSession


@pytest.fixture
def session(shared_data, tmp_path):
    scene = Scene()
    path = shared_data / "pointclouds" / "autzen-bmx-2010.las"
    scene.add(loaders.read(path), path=str(path))
    return ProjectSession(scene, Project(path=tmp_path / "p.json"))


def test_every_edit_undoes_and_redoes(session):
    events = []
    session.scene.connect("annotations_changed", lambda **kw: events.append(1))
    a = session.add_annotation(Annotation("point", [[194480.5, 259230.25, 425.0]],
                                          title="Crack", category="crack"),
                               camera=Camera(position=(1, 2, 3)))
    assert a.view["position"] == [1, 2, 3]
    session.update_annotation(a.id, title="Long crack", condition="poor")
    session.move_vertex(a.id, 0, [194481.0, 259231.0, 426.0])
    m = session.add_measurement(Measurement("distance", [[0, 0, 0], [1, 1, 1]]))
    layer = session.scene.layers[0]
    session.update_layer(layer, point_size=7.0)
    session.save_view("North", Camera(position=(10, 20, 30)))
    assert a.title == "Long crack" and a.points[0] == [194481.0, 259231.0, 426.0]
    assert session.dirty
    for _ in range(6):
        session.undo.undo()
    assert session.project.annotations == [] and session.project.measurements == []
    assert layer.point_size == 2.0 and session.scene.views == []
    for _ in range(6):
        session.undo.redo()
    assert session.project.annotations[0].title == "Long crack"
    assert session.project.measurements == [m] and layer.point_size == 7.0
    assert [v.name for v in session.scene.views] == ["North"]
    session.delete_annotation(a.id)
    assert session.project.annotations == []
    session.undo.undo()
    assert session.project.annotations == [a]
    assert events


def test_invalid_edit_is_refused_and_not_recorded(session):
    a = session.add_annotation(Annotation("point", [[0, 0, 0]]))
    with pytest.raises(ValueError):
        session.update_annotation(a.id, kind="blob")
    assert session.undo.undo_text().startswith("Add")


def test_save_records_layers_with_display_and_is_clean(session, tmp_path):
    layer = session.scene.layers[0]
    session.update_layer(layer, color_mode="elevation", hidden_classes={2})
    session.add_annotation(Annotation("polygon", [[0, 0, 0], [1, 0, 0], [1, 1, 0]]))
    out = session.save()
    assert not session.dirty
    p = Project.load(out)
    rec = p.layers[0]
    assert rec.name == "autzen-bmx-2010.las" and len(rec.sha256) == 64
    assert rec.display["color_mode"] == "elevation" and rec.display["hidden_classes"] == [2]
    assert not p.missing_layers()
    assert p.crs and p.crs.startswith(("EPSG:", "COMPOUNDCRS", "PROJCRS"))
    changes = ProjectSession.apply_record(layer, rec)
    assert changes["hidden_classes"] == {2} and changes["color_mode"] == "elevation"
    assert np.allclose(layer.transform, np.eye(4))


def test_city_model_display_is_saved_with_the_project(shared_data, tmp_path):
    scene = Scene()
    path = shared_data / "citymodels" / "zurich_subset_lod2.city.json"
    layer = scene.add(loaders.read(path), path=str(path))
    session = ProjectSession(scene, Project(path=tmp_path / "p.json"))
    hidden = {f.id for f in layer.data.features[:3]}
    session.update_layer(layer, hidden_features=hidden, feature_filter='type == "Building"',
                         city_lod="2", color_mode="semantic")
    rec = Project.load(session.save()).layers[0]
    assert rec.display["hidden_features"] == sorted(hidden)
    assert rec.display["feature_filter"] == 'type == "Building"'
    assert rec.display["city_lod"] == "2" and rec.display["color_mode"] == "semantic"
    fresh = Scene().add(loaders.read(path), path=str(path))
    changes = ProjectSession.apply_record(fresh, rec)
    assert changes["hidden_features"] == hidden and changes["city_lod"] == "2"
    assert changes["feature_filter"] == 'type == "Building"'
    # a point cloud's record has no city-model fields
    cloud_path = shared_data / "pointclouds" / "autzen-bmx-2010.las"
    cloud = scene.add(loaders.read(cloud_path), path=str(cloud_path))
    assert "hidden_features" not in session.record_layer(cloud).display


def two_layer_session(shared_data, tmp_path, project_path=None):
    scene = Scene()
    for name in ("autzen-bmx-2010.las", "permutations_1.2_2.las"):
        path = shared_data / "pointclouds" / name
        scene.add(loaders.read(path), path=str(path))
    return ProjectSession(scene, Project(path=project_path),
                          untitled_recovery=tmp_path / "state" / "untitled.json")


def test_layer_removal_and_order_are_commands_on_the_undo_stack(shared_data, tmp_path):
    session = two_layer_session(shared_data, tmp_path)
    scene = session.scene
    first, second = scene.layers
    m = session.add_measurement(Measurement("distance", [[0, 0, 0], [1, 1, 1]]))
    session.update_layer(first, point_size=6.0)
    scene.select(first)
    session.remove_layer(first)
    assert scene.layers == [second] and session.project.measurements == [m]
    assert session.undo.undo_text() == "Remove layer autzen-bmx-2010.las"
    session.undo.undo()  # the removal, not the older point size nor the measurement
    assert scene.layers == [first, second] and scene.selected is first
    assert first.point_size == 6.0 and session.project.measurements == [m]
    session.undo.redo()
    assert scene.layers == [second]
    session.undo.undo()
    session.move_layer(second, 0)
    assert scene.layers == [second, first]
    session.move_layer(second, -5)  # already first: nothing recorded
    assert session.undo.undo_text().startswith("Move layer")
    session.undo.undo()
    assert scene.layers == [first, second]
    session.undo.undo()  # the point size
    assert first.point_size == 2.0 and session.project.measurements == [m]
    session.undo.undo()
    assert session.project.measurements == []
    # the only layer removed and put back: the scene origin and CRS come back with it
    session.remove_layer(second)
    session.remove_layer(first)
    assert scene.origin is None and scene.crs is None
    session.undo.undo()
    assert scene.layers == [first] and scene.origin is not None
    assert scene.crs is not None


def test_layer_order_is_saved_and_restored_in_any_loading_order(shared_data, tmp_path):
    session = two_layer_session(shared_data, tmp_path, tmp_path / "p.json")
    first, second = session.scene.layers
    session.move_layer(second, 0)
    saved = Project.load(session.save())
    assert [r.name for r in saved.layers] == ["permutations_1.2_2.las", "autzen-bmx-2010.las"]
    # reopened: files finish loading in any order; each goes to its saved place
    scene = Scene()
    reopened = ProjectSession(scene, saved)
    by_name = {r.name: r for r in saved.layers}
    for name in ("autzen-bmx-2010.las", "permutations_1.2_2.las"):
        record = by_name[name]
        layer = scene.add(loaders.read(saved.absolute(record.path)), path=None)
        reopened.place_layer(layer, record)
    assert [l.name for l in scene.layers] == ["permutations_1.2_2.las", "autzen-bmx-2010.las"]


def test_untitled_work_is_autosaved_to_its_recovery_file(shared_data, tmp_path,
                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)  # an untitled project's relative paths use the cwd
    session = two_layer_session(shared_data, tmp_path)
    assert session.autosave() is None  # nothing unsaved yet
    session.add_annotation(Annotation("point", [[0.0, 0.0, 0.0]], title="Untitled crack"))
    recovery = session.autosave()
    assert recovery == tmp_path / "state" / "untitled.json"
    assert session.untitled_recovery_candidate() == recovery
    back = Project.load(recovery)
    assert [a.title for a in back.annotations] == ["Untitled crack"]
    assert not back.missing_layers()  # layer paths stored so they resolve from there
    assert [Path(r.path).name for r in back.layers] == ["autzen-bmx-2010.las",
                                                       "permutations_1.2_2.las"]
    # recovered: untitled, unsaved, nothing to undo; saving removes the recovery file
    other = ProjectSession(Scene(), back, untitled_recovery=recovery)
    other.adopt_recovered(recovery, None)
    assert other.project.path is None and other.dirty and not other.undo.can_undo()
    other.save(tmp_path / "site.json")
    assert not recovery.exists() and not other.dirty
    # discarding removes only the file this session wrote
    session.autosave()
    session.discard_recovery()
    assert not recovery.exists()
    recovery.write_text("{}")  # another session's
    session.discard_recovery()
    assert recovery.exists()


def test_default_recovery_folder_follows_the_environment(monkeypatch, tmp_path):
    from viewer.session import UNTITLED_RECOVERY_NAME, default_recovery_dir

    monkeypatch.setenv("REALSCENE_STATE_DIR", str(tmp_path / "rs"))
    assert default_recovery_dir() == tmp_path / "rs"
    assert ProjectSession(Scene()).untitled_recovery == tmp_path / "rs" / UNTITLED_RECOVERY_NAME
    monkeypatch.delenv("REALSCENE_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and sys.platform != "darwin":
        assert default_recovery_dir() == tmp_path / "xdg" / "realscene"
