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


# -- project actions on the session (shared by the window, the CLI and scripts) -------------

def saved_two_layer_project(shared_data, tmp_path):
    """A project of two real LAS files (in the shared data folder, so outside the
    project's own folder) with a display change, an annotation and a view."""
    session = two_layer_session(shared_data, tmp_path, tmp_path / "site.realscene.json")
    first, second = session.scene.layers
    session.update_layer(first, point_size=5.0, color_mode="elevation")
    session.move_layer(second, 0)
    session.add_annotation(Annotation("point", [[1.0, 2.0, 3.0]], title="Crack"))
    session.save_view("North", Camera(position=(10, 20, 30)))
    return session.save()


def test_open_project_makes_it_the_document_and_lists_its_files(shared_data, tmp_path):
    path = saved_two_layer_project(shared_data, tmp_path)
    # a session with other work open: its layers go, the project's state comes
    session = ProjectSession(Scene(), untitled_recovery=tmp_path / "u.json")
    other = shared_data / "pointclouds" / "epsg_4326.las"
    session.scene.add(loaders.read(other), path=str(other))
    session.add_measurement(Measurement("distance", [[0, 0, 0], [1, 1, 1]]))
    events = []
    session.scene.connect("annotations_changed", lambda **kw: events.append("a"))
    session.scene.connect("views_changed", lambda **kw: events.append("v"))
    opened = session.open_project(path)
    assert session.scene.layers == [] and session.project is opened.project
    assert [a.title for a in session.project.annotations] == ["Crack"]
    assert session.project.measurements == []
    assert [v.name for v in session.scene.views] == ["North"] and {"a", "v"} <= set(events)
    assert session.scene.crs is not None and session.project.crs
    assert not session.dirty and not session.undo.can_undo()
    assert [Path(p).name for _r, p in opened.to_load] == ["permutations_1.2_2.las",
                                                          "autzen-bmx-2010.las"]
    assert opened.missing == [] and opened.recovered_from is None
    # the layers live outside the project's folder: each is named in a warning
    assert len(opened.warnings) == 2 and all("outside the project folder" in w
                                             for w in opened.warnings)
    # layers handed back in any order get their display settings and saved place
    for record, file in reversed(opened.to_load):
        layer = session.scene.add(loaders.read(file), path=str(file))
        session.restore_layer(layer, record)
    names = [l.name for l in session.scene.layers]
    assert names == ["permutations_1.2_2.las", "autzen-bmx-2010.las"]
    autzen = session.scene.layers[1]
    assert autzen.point_size == 5.0 and autzen.color_mode == "elevation"
    assert not session.dirty  # restoring is not an edit


def test_open_project_reports_missing_layers_and_an_unknown_crs(shared_data, tmp_path):
    import json

    path = saved_two_layer_project(shared_data, tmp_path)
    doc = json.loads(path.read_text())
    doc["layers"][0]["path"] = "gone/scan.laz"
    doc["crs"] = "EPSG:99999999"
    path.write_text(json.dumps(doc))
    session = ProjectSession(Scene(), untitled_recovery=tmp_path / "u.json")
    opened = session.open_project(path)
    assert [r.path for r in opened.missing] == ["gone/scan.laz"]
    assert len(opened.to_load) == 1
    assert any(w.startswith("Project CRS not understood") for w in opened.warnings)
    assert session.scene.crs is None
    # relinked: the record points at the new file (relative to the project)
    new = session.relink_layer(opened.missing[0], shared_data / "pointclouds" /
                               "autzen-bmx-2010.las")
    assert new.is_file() and session.project.absolute(opened.missing[0].path) == new


def test_open_project_that_cannot_be_read_changes_nothing(shared_data, tmp_path):
    from heritage.project import ProjectError

    session = two_layer_session(shared_data, tmp_path)
    bad = tmp_path / "bad.realscene.json"
    bad.write_text("{ not json")
    with pytest.raises(ProjectError):
        session.open_project(bad)
    assert len(session.scene.layers) == 2


def test_recover_project_is_unsaved_work_on_the_project(shared_data, tmp_path):
    from heritage.project import recovery_candidate

    path = saved_two_layer_project(shared_data, tmp_path)
    crashed = ProjectSession(Scene(), untitled_recovery=tmp_path / "u.json")
    crashed.open_project(path)
    crashed.add_annotation(Annotation("point", [[4.0, 5.0, 6.0]], title="Spall"))
    # autosaved before its layers were read (big files still loading): the recovery file
    # still names them; then the app "crashes"
    recovery = crashed.autosave()
    assert recovery_candidate(path) == recovery
    session = ProjectSession(Scene(), untitled_recovery=tmp_path / "u.json")
    opened = session.recover_project(path)
    assert opened.recovered_from == recovery and session.recovery_file == recovery
    assert session.project.path == path.resolve()
    assert [a.title for a in session.project.annotations] == ["Crack", "Spall"]
    assert session.dirty and not session.undo.can_undo()
    assert [Path(p).name for _r, p in opened.to_load] == ["permutations_1.2_2.las",
                                                          "autzen-bmx-2010.las"]
    session.save()  # saved onto the project; the recovery file goes
    assert not recovery.exists() and not session.dirty
    assert [a.title for a in Project.load(path).annotations] == ["Crack", "Spall"]


def test_recover_untitled_work_stays_untitled(shared_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    crashed = two_layer_session(shared_data, tmp_path)
    crashed.add_annotation(Annotation("point", [[0.0, 0.0, 0.0]], title="Untitled crack"))
    recovery = crashed.autosave()
    session = ProjectSession(Scene(), untitled_recovery=recovery)
    assert session.untitled_recovery_candidate() == recovery
    opened = session.recover_untitled()
    assert opened.recovered_from == recovery and session.project.path is None
    assert session.dirty and [a.title for a in session.project.annotations] == \
        ["Untitled crack"]
    assert [Path(p).name for _r, p in opened.to_load] == ["autzen-bmx-2010.las",
                                                          "permutations_1.2_2.las"]


def annotation_file(tmp_path, crs="EPSG:2994", fmt="geojson"):
    """An annotation file written by another project: one annotation with a category
    this session does not know, in ``crs``."""
    from heritage.exchange import export

    other = Project(path=tmp_path / "other.realscene.json", crs=crs)
    other.vocabulary.add_category("bird_nest", "Bird nest", (250, 0, 250))
    other.annotations.append(Annotation("point", [[7.0, 8.0, 9.0]], title="Tag",
                                        category="bird_nest"))
    return export(other, fmt, tmp_path / f"theirs.{fmt}"), other.annotations[0]


def test_import_annotations_is_one_undoable_edit(session, tmp_path):
    session.project.crs = None
    mine = session.add_annotation(Annotation("point", [[1.0, 1.0, 1.0]], title="Mine"))
    path, theirs = annotation_file(tmp_path)
    events = []
    session.scene.connect("annotations_changed", lambda **kw: events.append("a"))
    result = session.import_annotations(path)
    assert (result.read, result.added, result.replaced) == (1, 1, 0)
    assert result.format and result.assumed_crs is None
    assert [a.title for a in session.project.annotations] == ["Mine", "Tag"]
    assert session.project.crs == "EPSG:2994"  # the project had none: it takes the file's
    assert "bird_nest" in session.project.vocabulary.categories and events
    assert session.undo.undo_text() == "Import annotations from theirs.geojson"
    session.undo.undo()
    assert session.project.annotations == [mine] and session.project.crs is None
    assert "bird_nest" not in session.project.vocabulary.categories
    session.undo.redo()
    assert [a.title for a in session.project.annotations] == ["Mine", "Tag"]
    # the same file again replaces by id
    again = session.import_annotations(path)
    assert (again.added, again.replaced) == (0, 1)


def test_edits_around_an_import_undo_on_the_annotations_shown(session, tmp_path):
    """Undo and redo of an import keep the annotation objects, so an edit made before
    the import still undoes on the annotation the project holds."""
    session.project.crs = "EPSG:2994"
    mine = session.add_annotation(Annotation("point", [[1.0, 1.0, 1.0]], title="Mine"))
    session.update_annotation(mine.id, title="Mine, edited")
    path, _ = annotation_file(tmp_path)
    session.import_annotations(path)
    session.undo.undo()  # the import
    session.undo.undo()  # the edit
    assert [a.title for a in session.project.annotations] == ["Mine"]
    session.undo.redo()
    session.undo.redo()
    assert [a.title for a in session.project.annotations] == ["Mine, edited", "Tag"]


def test_import_in_another_crs_is_refused_before_anything_changes(session, tmp_path):
    session.project.crs = "EPSG:28992"
    path, _ = annotation_file(tmp_path, crs="EPSG:2994")
    with pytest.raises(ValueError, match="EPSG:2994"):
        session.import_annotations(path)
    assert session.project.annotations == [] and not session.undo.can_undo()
    assert "bird_nest" not in session.project.vocabulary.categories


def test_import_without_crs_says_which_crs_was_assumed(session, tmp_path):
    session.project.crs = "EPSG:2994"
    path, _ = annotation_file(tmp_path, crs=None, fmt="csv")
    result = session.import_annotations(path)
    assert result.added == 1 and result.assumed_crs == "EPSG:2994"


def delft_city_session(shared_data, tmp_path):
    scene = Scene()
    path = shared_data / "citymodels" / "delft.city.json"
    scene.add(loaders.read(path), path=str(path))
    return ProjectSession(scene, Project(path=tmp_path / "p.json"),
                          untitled_recovery=tmp_path / "u.json")


def read_into(path, crs):
    from loaders import georef

    data = loaders.read(path)
    georef.prepare_for_scene(data, crs)
    return data


def test_change_crs_rereads_the_georeferenced_layers(shared_data, tmp_path):
    from pyproj import CRS, Transformer

    session = delft_city_session(shared_data, tmp_path)
    scene, layer = session.scene, session.scene.layers[0]
    assert scene.crs.to_epsg() == 7415
    before_lo = layer.data.xyz().min(axis=0)
    change = session.change_crs(CRS.from_epsg(32631), read=read_into)
    assert change.changed and change.reload == [layer], change.message
    assert scene.crs.to_epsg() == 32631 and session.project.crs == "EPSG:32631"
    assert not layer.loading and layer in scene.layers
    lo = layer.data.xyz().min(axis=0)
    t = Transformer.from_crs("EPSG:7415", "EPSG:32631", always_xy=True)
    expected = t.transform(before_lo[0], before_lo[1])
    assert abs(lo[0] - expected[0]) < 50 and abs(lo[1] - expected[1]) < 50
    assert abs(scene.origin[1] - expected[1]) < 2_000  # the origin moved with the CRS
    # the same CRS again: nothing to read
    assert session.change_crs("EPSG:32631", read=read_into).reload == []


def test_change_crs_without_a_reader_leaves_the_layers_to_the_caller(shared_data, tmp_path):
    session = delft_city_session(shared_data, tmp_path)
    layer = session.scene.layers[0]
    change = session.change_crs("EPSG:32631")
    assert change.changed and change.reload == [layer] and layer.loading
    session.replace_layer_data(layer, read_into(layer.path, session.scene.crs))
    assert not layer.loading and layer.data.crs.to_epsg() == 32631


def test_change_crs_is_refused_with_annotations_or_while_loading(shared_data, tmp_path):
    session = delft_city_session(shared_data, tmp_path)
    busy = session.change_crs("EPSG:32631", loading=True)
    assert not busy.changed and "Wait" in busy.message
    session.add_annotation(Annotation("point", [[85000.0, 447500.0, 0.0]], title="crack"))
    refused = session.change_crs("EPSG:32631", read=read_into)
    assert not refused.changed and "annotations" in refused.message
    assert session.scene.crs.to_epsg() == 7415 and not session.scene.layers[0].loading


def test_layers_never_read_stay_in_the_saved_project(shared_data, tmp_path):
    """A script that opens a project and saves it without reading (or failing to read)
    some layers keeps their records; a layer removed by the user is gone."""
    path = saved_two_layer_project(shared_data, tmp_path)
    untouched = ProjectSession(Scene(), Project.load(path),
                               untitled_recovery=tmp_path / "u.json")
    untouched.add_annotation(Annotation("point", [[0.0, 0.0, 0.0]], title="Later"))
    assert [Path(r.path).name for r in Project.load(untouched.save()).layers] == \
        ["permutations_1.2_2.las", "autzen-bmx-2010.las"]
    session = ProjectSession(Scene(), untitled_recovery=tmp_path / "u.json")
    opened = session.open_project(Project.load(path))  # a loaded project works too
    record, file = opened.to_load[0]
    layer = session.scene.add(loaders.read(file), path=str(file))
    session.restore_layer(layer, record)
    session.remove_layer(layer)
    kept = Project.load(session.save()).layers
    assert [Path(r.path).name for r in kept] == ["autzen-bmx-2010.las"]


def test_change_crs_reads_a_layer_again_with_the_crs_the_user_assigned(shared_data, tmp_path):
    """A layer whose CRS the user assigned keeps it when the scene CRS changes (the file's
    own CRS, or its lack of one, would otherwise come back)."""
    from viewer.session import ASSIGNED_CRS

    session = delft_city_session(shared_data, tmp_path)
    layer = session.scene.layers[0]
    layer.data.metadata[ASSIGNED_CRS] = "EPSG:7415"
    calls = []

    def read(path, crs, **kw):
        calls.append(kw)
        return read_into(path, crs)

    assert session.change_crs("EPSG:32631", read=read).changed
    assert calls == [{"assign_crs": "EPSG:7415"}]
