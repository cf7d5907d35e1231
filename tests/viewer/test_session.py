"""The project session (no Qt): undoable edits and saving a scene as a project."""

from __future__ import annotations

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
