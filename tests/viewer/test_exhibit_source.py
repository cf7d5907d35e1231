"""viewer/exhibit.py: what an exhibit of an open scene is made from (the session ->
ExhibitSource builder the window, the CLI and scripts share), the output checks, and the
write-to-a-temporary-name-then-rename that leaves nothing behind on cancel or failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heritage.exhibits import ExportCancelled
from heritage.project import Project
from loaders.crs import same_crs

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample_site"
SAMPLE_PROJECT = SAMPLE / "delft.realscene.json"


@pytest.fixture(scope="module")
def session():
    from viewer import pipeline

    warnings: list[str] = []
    opened = pipeline.open_project(SAMPLE_PROJECT, on_warning=warnings.append)
    assert [l.name for l in opened.scene.layers] == ["testarea.obj", "delft_ahn3.laz",
                                                      "delft.city.json"], warnings
    yield opened
    pipeline.close_scene(opened.scene)


def test_source_of_the_sample_site(session):
    from viewer.exhibit import exhibit_source

    project = Project.load(SAMPLE_PROJECT)
    source = exhibit_source(session)
    # the visible layers (the city model is hidden in the project), as the scene holds them
    assert [l.name for l in source.layers] == ["testarea.obj", "delft_ahn3.laz"]
    scene_layers = {l.name: l for l in session.scene.layers}
    for layer in source.layers:
        assert layer.data is scene_layers[layer.name].data
    assert [l.kind for l in source.layers] == ["mesh", "points"]
    assert source.layers[0].opacity == pytest.approx(0.6)  # the project's display setting
    assert same_crs(source.crs, session.scene.crs) and same_crs(source.crs, project.crs)
    # every annotation, tour and view of the project, positions in the scene CRS
    assert [a.id for a in source.annotations] == [a.id for a in project.annotations]
    for mine, theirs in zip(source.annotations, project.annotations, strict=True):
        assert np.allclose(mine.points, theirs.points, atol=1e-9)
        assert (mine.title, mine.category, mine.condition) == \
            (theirs.title, theirs.category, theirs.condition)
    assert [t.name for t in source.tours] == ["Condition walk"]
    assert len(source.tours[0].stops) == 4
    assert [v.name for v in source.views] == ["Overview", "Roof close-up"]
    assert source.project_dir == SAMPLE.resolve()
    assert source.title == project.title
    # the local frame sits inside the data
    lo, hi = source.bounds()
    assert np.all(source.origin >= lo - 1) and np.all(source.origin <= hi + 1)


def test_layers_by_name_hidden_ones_included(session):
    from viewer.exhibit import exhibit_source

    source = exhibit_source(session, layers=["delft.city.json", "delft_ahn3.laz"])
    assert [l.name for l in source.layers] == ["delft_ahn3.laz", "delft.city.json"]  # scene order
    assert source.layers[1].kind == "city"
    with pytest.raises(ValueError, match="no layer named 'nope.laz'.*delft_ahn3.laz"):
        exhibit_source(session, layers=["nope.laz"])
    with pytest.raises(ValueError, match="no layer to export"):
        exhibit_source(session, layers=[])


def test_annotation_choice_and_tours_follow_it(session):
    from viewer.exhibit import by_category, exhibit_source

    project = session.project
    crack = next(a for a in project.annotations if a.category == "crack")
    source = exhibit_source(session, annotations=by_category("crack"))
    assert [a.id for a in source.annotations] == [crack.id]
    # the tour keeps its view stop and the stop on the crack; stops on annotations left
    # out are dropped (an exhibit cannot fly to a hotspot it does not have)
    stops = source.tours[0].stops
    assert [(s.view_id is not None, s.annotation_id) for s in stops] == \
        [(True, None), (False, crack.id)]
    assert len(project.tours[0].stops) == 4  # the project's tour is untouched

    none = exhibit_source(session, annotations="none")
    assert none.annotations == [] and len(none.tours[0].stops) == 1
    two = [project.annotations[3].id, project.annotations[0].id]
    chosen = exhibit_source(session, annotations=two)
    assert [a.id for a in chosen.annotations] == [project.annotations[0].id,
                                                 project.annotations[3].id]
    with pytest.raises(ValueError, match="no annotation with id 'missing'"):
        exhibit_source(session, annotations=["missing"])

    # copies: an edit after the source was made does not reach an export in progress
    chosen.annotations[0].title = "changed in the export"
    assert project.annotations[0].title != "changed in the export"


def test_tours_by_name(session):
    from viewer.exhibit import exhibit_source

    assert exhibit_source(session, tours=[]).tours == []
    assert [t.name for t in exhibit_source(session, tours="Condition walk").tours] == \
        ["Condition walk"]
    with pytest.raises(ValueError, match="no tour named 'Harbour'.*'Condition walk'"):
        exhibit_source(session, tours=["Harbour"])


def test_alignment_transform_is_applied(session):
    from viewer.exhibit import exhibit_source

    layer = session.scene.layer_by_name("testarea.obj")
    before = layer.data.bounds
    moved = np.eye(4)
    moved[:3, 3] = (10.0, -20.0, 3.0)
    session.update_layer(layer, transform=moved)
    try:
        source = exhibit_source(session)
        data = source.layers[0].data
        assert data is not layer.data
        lo, hi = data.bounds
        assert np.allclose(lo, before[0] + moved[:3, 3], atol=1e-3)
        assert np.allclose(hi, before[1] + moved[:3, 3], atol=1e-3)
        assert np.allclose(layer.data.bounds[0], before[0])  # the scene's data unchanged
        assert len(data.faces) == len(layer.data.faces)
    finally:
        session.undo.undo()
    assert np.allclose(layer.transform, np.eye(4))


def test_size_estimate_follows_the_budget(session):
    from viewer.exhibit import estimate_size, exhibit_source

    source = exhibit_source(session)
    whole = estimate_size(source)
    cloud = source.layers[1].data
    assert whole > cloud.point_count * 12  # at least the positions
    fewer = estimate_size(source, points=cloud.point_count // 10)
    assert fewer < whole
    assert estimate_size(source, triangles=10, points=10) < fewer


def test_output_refused_where_it_would_overwrite_an_input(session, tmp_path):
    from viewer.exhibit import check_output, export_exhibit

    laz = SAMPLE / "delft_ahn3.laz"
    with pytest.raises(ValueError, match="is the input .*delft.realscene.json"):
        export_exhibit(session, "glb", SAMPLE_PROJECT)
    with pytest.raises(ValueError, match="is the input .*delft_ahn3.laz"):
        export_exhibit(session, "iiif", SAMPLE / "delft_city_lod1" / ".." / "delft_ahn3.laz")
    link = tmp_path / "link.glb"
    link.symlink_to(laz)
    with pytest.raises(ValueError, match="is the input"):
        check_output("glb", link, [laz])
    # a folder export into the project's folder (holding the inputs) or any full folder
    with pytest.raises(ValueError, match="holds the input"):
        export_exhibit(session, "3dtiles", SAMPLE)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not empty"):
        check_output("web", tmp_path / "full")
    with pytest.raises(ValueError, match="is a folder"):
        check_output("glb", tmp_path / "full")
    with pytest.raises(ValueError, match="does not exist"):
        check_output("glb", tmp_path / "no" / "such.glb")
    with pytest.raises(ValueError, match="unknown export format 'obj'"):
        check_output("obj", tmp_path / "a.obj")
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep me"
    assert check_output("web", tmp_path / "new") == tmp_path / "new"


@pytest.mark.parametrize("fmt, name", [("glb", "site.glb"), ("iiif", "site.json"),
                                       ("web", "site_web"), ("voyager", "site_voyager"),
                                       ("3dtiles", "site_tiles")])
def test_cancel_leaves_nothing_behind(session, tmp_path, fmt, name):
    """A progress callback that cancels after the export started writing: no file or
    folder under the requested name and no temporary file beside it (a folder is written
    under a hidden name, removed on cancel; a file format's own temporary files too)."""
    from viewer.exhibit import export_exhibit

    calls = []

    def progress(fraction: float, message: str) -> None:
        calls.append((fraction, message))
        if len(calls) >= 2:
            raise ExportCancelled()

    out = tmp_path / name
    with pytest.raises(ExportCancelled):
        export_exhibit(session, fmt, out, progress, points=50_000)
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []


def test_iiif_model_beside_the_manifest(session, tmp_path):
    """The manifest's model NAME.glb is written beside it under its real name (not a
    temporary one), and the manifest points at it."""
    from viewer.exhibit import export_exhibit

    out = tmp_path / "manifest.json"
    export_exhibit(session, "iiif", out, points=20_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.glb", "manifest.json"]
    assert "manifest.glb" in out.read_text(encoding="utf-8")
    assert "partial" not in out.read_text(encoding="utf-8")


def test_site_export_exhibit(tmp_path):
    """viewer.api: the same export from a script; layers by handle, no annotations."""
    import pygltflib

    from viewer.api import open_project

    with open_project(SAMPLE_PROJECT) as site:
        result = site.export_exhibit("glb", tmp_path / "scan.glb",
                                     layers=[site.layer("delft_ahn3.laz")],
                                     annotations="none", points=10_000)
    gltf = pygltflib.GLTF2.load(str(result.path))
    assert not any((n.extras or {}).get("hotspot") for n in gltf.nodes)
    layers = {(n.extras or {}).get("layer") for n in gltf.nodes} - {None}
    assert layers == {"delft_ahn3.laz"}
    assert result.counts.get("points") == 10_000


def test_export_writes_under_the_name_asked(session, tmp_path):
    from viewer.exhibit import export_exhibit

    seen = []
    out = tmp_path / "site.glb"
    result = export_exhibit(session, "glb", out, lambda f, m: seen.append(f),
                            annotations=["9dcaea6f-0dc4-49eb-b557-80086e52c774"],
                            points=20_000, triangles=5_000)
    assert result.path == out and out.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["site.glb"]
    assert seen and seen == sorted(seen)
    import pygltflib

    gltf = pygltflib.GLTF2.load(str(out))
    titles = [(n.extras or {}).get("hotspot", {}).get("title") for n in gltf.nodes]
    assert "Weathered roof ridge" in titles
    assert "Crack along the quay wall" not in titles
