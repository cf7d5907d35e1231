"""Annotating and measuring by clicking in the real window; undo; project save/reopen."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from PySide6 import QtCore  # noqa: E402

from tests.viewer.gui_support import click, open_and_wait  # noqa: E402


def test_annotate_measure_undo_save_reopen(qtbot, window, shared_data, tmp_path):
    path = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    open_and_wait(qtbot, window, path)
    window.view_preset("top")
    # a pin: one click on the cloud
    window.tool_actions["pin"].trigger()
    pick = click(qtbot, window, 0.5, 0.5)
    anns = window.session.project.annotations
    assert len(anns) == 1 and anns[0].kind == "point"
    np.testing.assert_allclose(anns[0].points[0], pick.xyz, atol=1e-9)  # snapped, float64
    assert anns[0].view is not None  # the camera it was made from
    assert window.annotations_panel.list.count() == 1
    # a polygon: three clicks, then Finish
    window.tool_actions["polygon"].trigger()
    picks = [click(qtbot, window, fx, fy) for fx, fy in ((0.45, 0.4), (0.55, 0.4), (0.5, 0.6))]
    window.finish_action.trigger()
    assert [a.kind for a in anns] == ["point", "polygon"]
    np.testing.assert_allclose(anns[1].points, [p.xyz for p in picks], atol=1e-9)
    # a distance: two clicks finish it
    window.tool_actions["distance"].trigger()
    a, b = click(qtbot, window, 0.4, 0.5), click(qtbot, window, 0.6, 0.5)
    m = window.session.project.measurements
    assert len(m) == 1
    assert m[0].value == pytest.approx(float(np.linalg.norm(b.xyz - a.xyz)), abs=1e-9)
    window._cancel_tool()
    # markers are drawn: white-ish selection / category colours appear over the cloud
    assert len(window.overlay._actors) >= 2
    # edit through the form, then undo the edit and the measurement
    panel = window.annotations_panel
    panel.select(anns[0].id)
    panel.title.setText("Crack at the gate")
    panel.category.setCurrentIndex(panel.category.findData("crack"))
    panel.condition.setCurrentIndex(panel.condition.findData("poor"))
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.LeftButton)
    assert anns[0].title == "Crack at the gate" and anns[0].condition == "poor"
    assert "Crack at the gate" in panel.list.item(0).text()
    window.undo_action.trigger()
    assert anns[0].title == "Annotation 1"
    window.redo_action.trigger()
    assert anns[0].title == "Crack at the gate"
    # filters: search and category
    panel.search.setText("gate")
    assert panel.list.count() == 1
    panel.search.setText("")
    panel.category_filter.setCurrentIndex(panel.category_filter.findData("erosion"))
    assert panel.list.count() == 0 and window.overlay.visible_annotations() == []
    panel.category_filter.setCurrentIndex(0)
    # fly to the annotation's saved view
    window.view_preset("side")
    window.fly_to(anns[0].id)
    np.testing.assert_allclose(window.renderer.camera_to_scene(emit=False).position,
                               anns[0].view["position"], atol=1e-3)
    # save, then reopen in the same window
    out = tmp_path / "site.json"
    window.session.save(out)
    assert not window.session.dirty and "*" not in window.windowTitle()
    with qtbot.waitSignal(window.all_loads_finished, timeout=60_000):
        missing = window.open_project(str(out))
    assert missing == []
    assert [a.title for a in window.session.project.annotations][0] == "Crack at the gate"
    assert len(window.session.project.measurements) == 1
    assert [l.name for l in window.scene.layers] == ["ahn3_cropped_2.laz"]
    assert panel.list.count() == 2


def test_sample_site_opens_as_a_project(qtbot, window):
    with qtbot.waitSignal(window.all_loads_finished, timeout=120_000):
        window.open_sample()
    project = window.session.project
    assert project.title.startswith("Delft sample site")
    assert sorted(l.name for l in window.scene.layers) == ["delft.city.json", "delft_ahn3.laz",
                                                             "testarea.obj"]
    city = window.scene.layer_by_name("delft.city.json")
    assert not city.visible and city.color_mode == "type"  # hidden at first
    kinds = {a.kind for a in project.annotations}
    assert kinds == {"point", "polyline", "polygon", "box"}
    assert len(project.measurements) == 3 and project.tours and len(project.views) == 2
    assert [v.name for v in window.scene.views] == ["Overview", "Roof close-up"]
    laz = window.scene.layer_by_name("delft_ahn3.laz")
    assert laz.color_mode == "classification"  # display settings restored
    assert window.annotations_panel.list.count() == 5
    # every annotation sits on the scan: within a metre of a real point
    xyz = laz.data.xyz()
    for a in project.annotations:
        if a.kind == "box":
            continue
        for p in a.points:
            assert np.min(np.linalg.norm(xyz - p, axis=1)) < 1.0
    assert not window.session.dirty


def test_crash_then_recover_unsaved_work(qtbot, window, shared_data, tmp_path):
    from heritage.model import Annotation
    from heritage.project import recovery_candidate
    from viewer.qt.main_window import MainWindow

    open_and_wait(qtbot, window, shared_data / "pointclouds" / "autzen-bmx-2010.las")
    project_path = tmp_path / "site.json"
    window.session.save(project_path)
    window.settings.setValue("last_project", str(project_path))
    assert window.offer_recovery() is False  # nothing to recover after a clean save
    window.session.add_annotation(Annotation("point", [[194480.0, 259230.0, 425.0]],
                                             title="Unsaved crack"))
    window.project_actions.autosave()  # the autosave timer's work; then the app "crashes"
    assert recovery_candidate(project_path) is not None
    second = MainWindow(settings=window.settings)
    qtbot.addWidget(second)
    second.show()
    # at start the window offers the last project's unsaved work back
    from PySide6 import QtWidgets

    from tests.viewer.test_gui_no_loss import answer

    seen: list = []
    answer("recoveryDialog", QtWidgets.QMessageBox.Yes, seen)
    with qtbot.waitSignal(second.all_loads_finished, timeout=60_000):
        assert second.offer_recovery() is True
    assert seen and "site.json has unsaved changes" in seen[0]
    assert [a.title for a in second.session.project.annotations] == ["Unsaved crack"]
    assert second.session.project.path == project_path.resolve()
    assert second.session.dirty  # recovered work still needs saving
    assert [l.name for l in second.scene.layers] == ["autzen-bmx-2010.las"]
    second.session.save()
    assert recovery_candidate(project_path) is None
    second.close()


@pytest.mark.parametrize("fmt, suffix", [("webanno", ".jsonld"), ("geojson", ".geojson"),
                                         ("csv", ".csv")])
def test_export_import_round_trip_in_the_window(qtbot, window, shared_data, tmp_path,
                                                fmt, suffix):
    with qtbot.waitSignal(window.all_loads_finished, timeout=120_000):
        window.open_sample()
    original = [a.to_dict() for a in window.session.project.annotations]
    out = window.export_annotations(fmt, str(tmp_path / f"anno{suffix}"))
    # delete everything, then import the export back: nothing is lost
    for a in list(window.session.project.annotations):
        window.session.delete_annotation(a.id)
    assert window.annotations_panel.list.count() == 0
    added, replaced = window.import_annotations(str(out))
    assert (added, replaced) == (5, 0)
    assert [a.to_dict() for a in window.session.project.annotations] == original
    assert window.annotations_panel.list.count() == 5
    window.undo_action.trigger()  # the import is one undoable step
    assert window.session.project.annotations == []


def test_condition_report_has_rendered_views(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.all_loads_finished, timeout=120_000):
        window.open_sample()
    window.view_preset("top")
    camera = window.plotter.camera_position
    # the views come from the off-screen renderer (as on the command line): the window's
    # own view does not move
    out = window.export_annotations("report", str(tmp_path / "report.html"))
    assert window.plotter.camera_position == camera
    html = out.read_text(encoding="utf-8")
    for a in window.session.project.annotations:
        assert a.title.replace("(", "") .split()[0] in html
    # every annotation gets its own picture (the two made from one saved view too)
    import re
    from base64 import b64decode

    views = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len({b64decode(v) for v in views}) == len(window.session.project.annotations)


def test_tour_plays_smoothly_through_its_stops(qtbot, window):
    with qtbot.waitSignal(window.all_loads_finished, timeout=120_000):
        window.open_sample()
    tour = window.session.project.tours[0]
    for stop in tour.stops:
        stop.duration, stop.pause = 0.3, 0.05
    reached, positions = [], []
    window.tour_player.stop_reached.connect(reached.append)
    window.plotter.iren.add_observer(
        "RenderEvent", lambda *a: positions.append(window.plotter.camera.position))
    with qtbot.waitSignal(window.tour_player.finished, timeout=60_000):
        window.tour_player.play(tour)
    assert reached == list(range(len(tour.stops)))
    # ends on the last stop's annotation view, through intermediate frames
    last = window.session.project.annotation(tour.stops[-1].annotation_id)
    end = last.view["position"] if last.view else None
    camera = window.renderer.camera_to_scene(emit=False)
    if end is not None:
        np.testing.assert_allclose(camera.position, end, atol=1e-3)
    else:  # an annotation without a saved view: the tour centres on it
        np.testing.assert_allclose(camera.focal_point, last.anchor, atol=1e-3)
    assert len({tuple(np.round(p, 3)) for p in positions}) > len(tour.stops) + 2


def test_edit_vertices_restyle_media_link_and_hide(qtbot, window, shared_data, tmp_path,
                                                   monkeypatch):
    """Editing after placing: move a vertex by clicking, restyle, link photos and an
    object, extend the vocabulary, and hide by category/condition from the View menu."""
    from PySide6 import QtGui, QtWidgets

    from tests.viewer.gui_support import view_image

    path = shared_data / "pointclouds" / "ahn3_cropped_2.laz"
    open_and_wait(qtbot, window, path)
    window.view_preset("top")
    window.tool_actions["polyline"].trigger()
    picks = [click(qtbot, window, fx, 0.5) for fx in (0.4, 0.5)]
    window.finish_action.trigger()
    window._cancel_tool()
    ann = window.session.project.annotations[0]
    panel = window.annotations_panel
    panel.select(ann.id)
    # move the second vertex: click near it, then click its new place
    window.move_vertex_action.trigger()
    assert window.tool.mode == "move_vertex"
    click(qtbot, window, 0.51, 0.5)
    assert window.tool.vertex_index == 1
    target = click(qtbot, window, 0.6, 0.35)
    np.testing.assert_allclose(ann.points[1], target.xyz, atol=1e-9)
    np.testing.assert_allclose(ann.points[0], picks[0].xyz, atol=1e-9)
    window.undo_action.trigger()
    np.testing.assert_allclose(ann.points[1], picks[1].xyz, atol=1e-9)
    window.cancel_tool_action.trigger()
    assert window.tool.mode is None

    # restyle: a colour override drawn in the view, then back to the category colour
    window.view_preset("top")
    panel._set_color((255, 0, 255))
    panel.visible_check.setChecked(True)
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.LeftButton)
    assert tuple(ann.color) == (255, 0, 255)
    panel.list.setCurrentRow(-1)  # unselected: drawn in its own colour, not white
    window.overlay.selected_id = None
    window.overlay.refresh()
    window.renderer.render()
    img = view_image(window)
    magenta = (img[..., 0] > 200) & (img[..., 1] < 60) & (img[..., 2] > 200)
    assert magenta.sum() > 20
    panel.select(ann.id)

    # linked media relative to the project, and an object link
    project_path = tmp_path / "site.realscene.json"
    window.session.save(project_path)
    photo = tmp_path / "photos" / "crack.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    panel.add_media([str(photo)])
    panel.link_layer.setCurrentText(window.scene.layers[0].name)
    panel.link_feature.setText("NL.IMBAG.Pand.0503100000019695")
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.LeftButton)
    assert ann.media == ["photos/crack.jpg"]
    assert ann.link == {"layer": window.scene.layers[0].name,
                        "feature_id": "NL.IMBAG.Pand.0503100000019695"}
    window.session.save()
    from heritage.project import Project

    again = Project.load(project_path)
    assert again.annotations[0].media == ["photos/crack.jpg"]
    assert again.annotations[0].link["feature_id"] == "NL.IMBAG.Pand.0503100000019695"

    # extend the vocabulary from the form; undo removes the category again
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText",
                        staticmethod(lambda *a, **k: ("Salt efflorescence", True)))
    monkeypatch.setattr(QtWidgets.QColorDialog, "getColor",
                        staticmethod(lambda *a, **k: QtGui.QColor(250, 250, 250)))
    qtbot.mouseClick(panel.add_category_button, QtCore.Qt.LeftButton)
    assert "salt_efflorescence" in window.session.project.vocabulary.categories
    assert panel.category.currentData() == "salt_efflorescence"
    assert panel.category_filter.findData("salt_efflorescence") > 0
    window.undo_action.trigger()
    assert "salt_efflorescence" not in window.session.project.vocabulary.categories
    assert panel.category.findData("salt_efflorescence") == -1

    # hide by category and by condition from View > Annotation visibility
    window._refresh_visibility_menu()
    window.visibility_actions[("category", ann.category)].setChecked(False)
    assert window.overlay.visible_annotations() == []
    assert panel.list.count() == 1  # the list still shows it: only the view hides it
    window.visibility_actions[("category", ann.category)].setChecked(True)
    assert window.overlay.visible_annotations() == [ann]
    window.visibility_actions[("condition", "")].setChecked(False)  # no grade yet
    assert window.overlay.visible_annotations() == []
    window.overlay.set_hidden(set(), set())
    assert window.overlay.visible_annotations() == [ann]


def test_import_dialog_says_which_crs_a_file_without_one_is_taken_in(qtbot, window, tmp_path,
                                                                     monkeypatch):
    from PySide6 import QtWidgets

    from heritage.exchange import export
    from heritage.model import Annotation
    from heritage.project import Project

    other = Project(path=tmp_path / "other.realscene.json")
    other.annotations.append(Annotation("point", [[85000.0, 447500.0, 1.0]], title="Tag"))
    csv = export(other, "csv", tmp_path / "theirs.csv")  # states no CRS
    window.session.project.crs = "EPSG:28992"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        lambda *a, **kw: (str(csv), ""))
    window.project_actions.import_annotations_dialog()
    message = window.statusBar().currentMessage()
    assert "Imported 1 new, 0 updated" in message and "taken to be EPSG:28992" in message
    assert [a.title for a in window.session.project.annotations] == ["Tag"]
    window.undo_action.trigger()
    assert window.session.project.annotations == []
