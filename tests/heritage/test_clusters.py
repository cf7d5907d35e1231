"""Significant change → condition (heritage.monitoring.clusters): the displaced patch of
the real AHN3 scan (tests/heritage/test_change.py) is found as exactly one cluster with
the right area, change and volume, proposed as an annotation; proposals in the session
(accept / undo / reject, saved with the project, accepted ones exported as annotations)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from heritage.model import Annotation
from heritage.monitoring.change import compare_files
from heritage.monitoring.clusters import (
    PROPOSAL_TAG,
    ChangeCluster,
    clusters_from_file,
    find_clusters,
    propose,
)
from heritage.project import Project
from loaders.types import LoadError
from tests.heritage.test_change import PATCH, SHIFT, ahn3, displaced  # noqa: F401 - fixtures
from viewer.scene import Scene
from viewer.session import ProjectSession

AREA = PATCH[2] ** 2


@pytest.fixture(scope="module")
def m3c2_out(displaced, shared_data, tmp_path_factory):  # noqa: F811 - fixture
    path_b, _ = displaced
    out = tmp_path_factory.mktemp("change") / "m3c2.laz"
    result = compare_files(shared_data / "pointclouds" / "ahn3_cropped_2.laz", path_b, out,
                           method="m3c2", registration_error=0.01)
    return out, result


def test_realistic_change_is_one_cluster_at_the_patch(m3c2_out):
    out, result = m3c2_out
    clusters = clusters_from_file(out, date_a="2014-03-04", date_b="2024-05-07")
    assert len(clusters) == 1
    c = clusters[0]
    x0, y0, size = PATCH
    assert abs(c.centroid[0] - (x0 + size / 2)) < 0.3
    assert abs(c.centroid[1] - (y0 + size / 2)) < 0.3
    assert abs(c.area - AREA) < 0.15 * AREA
    assert abs(c.mean - SHIFT) < 0.01
    assert SHIFT - 0.03 < c.max < SHIFT + 0.05
    assert abs(c.volume - AREA * SHIFT) < 0.15 * AREA * SHIFT
    assert c.count >= 1400  # the patch holds 1,518 points
    assert (c.date_a, c.date_b, c.field) == ("2014-03-04", "2024-05-07", "m3c2_distance")
    # the footprint is the hull of the patch: inside it, a little beyond by noise
    xy = np.asarray(c.footprint)[:, :2]
    assert (xy[:, 0] > x0 - 0.6).all() and (xy[:, 0] < x0 + size + 0.6).all()
    assert (xy[:, 1] > y0 - 0.6).all() and (xy[:, 1] < y0 + size + 0.6).all()
    # the date of B defaults to the file's
    assert clusters_from_file(out)[0].date_b == result.epoch_b["date"]


def test_proposal_has_the_numbers_in_the_projects_language(m3c2_out):
    out, _ = m3c2_out
    (c,) = clusters_from_file(out, date_a="2014-03-04", date_b="2024-05-07")
    (en,) = propose([c])
    assert en.kind == "polygon" and len(en.points) >= 4
    assert en.category == "deformation"  # a rise; a loss is material_loss (below)
    assert en.observed == "2024-05-07" and PROPOSAL_TAG in en.tags
    for number in (f"{c.area:.2f} m²", f"{c.mean:+.3f} m", f"{c.max:+.3f} m",
                   f"{c.volume:+.3f} m³", "2014-03-04", "2024-05-07", "M3C2"):
        assert number in en.description
    (zh,) = propose([c], lang="zh")
    assert "平方米" in zh.description and "体积估算" in zh.description
    assert "隆起" in zh.title


def test_c2c_with_a_threshold(displaced, shared_data, tmp_path):  # noqa: F811 - fixture
    path_b, _ = displaced
    out = tmp_path / "c2c.laz"
    compare_files(shared_data / "pointclouds" / "ahn3_cropped_2.laz", path_b, out,
                  local_model="plane", signed=True)
    with pytest.raises(LoadError, match="threshold"):
        clusters_from_file(out)
    clusters = clusters_from_file(out, threshold=0.05)
    assert len(clusters) == 1
    assert abs(clusters[0].area - AREA) < 0.15 * AREA
    assert abs(clusters[0].mean - SHIFT) < 0.015


def _ground(seed=1):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 40.0, (60000, 2))
    return np.column_stack([xy, np.full(len(xy), 5.0)])


def test_loss_rise_and_tiny_clusters():
    xyz = _ground()
    d = np.random.default_rng(2).normal(0.0, 0.002, len(xyz))
    loss = (np.hypot(xyz[:, 0] - 10, xyz[:, 1] - 10) < 3.0)  # a disc: 28.3 m²
    rise = (np.abs(xyz[:, 0] - 30) < 2) & (np.abs(xyz[:, 1] - 30) < 1)  # 8 m²
    tiny = np.flatnonzero(np.hypot(xyz[:, 0] - 30, xyz[:, 1] - 10) < 0.3)[:5]
    d[loss] -= 0.08
    d[rise] += 0.05
    d[tiny] += 0.2
    sig = np.abs(d) > 0.02
    clusters = find_clusters(xyz, d, sig)
    assert len(clusters) == 2  # the 5 scattered points are dropped
    big, small = clusters  # largest |volume| first
    assert abs(big.area - np.pi * 9) < 0.1 * np.pi * 9 and big.mean < 0
    assert abs(big.volume + 0.08 * np.pi * 9) < 0.1 * 0.08 * np.pi * 9
    assert abs(small.area - 8.0) < 0.8 and small.mean > 0
    cats = [a.category for a in propose(clusters)]
    assert cats == ["material_loss", "deformation"]
    assert "Loss" in propose(clusters)[0].title
    # the same with a threshold instead of a mask; NaN is never significant
    d[:100] = np.nan
    assert len(find_clusters(xyz, d, threshold=0.02)) == 2
    assert find_clusters(xyz, np.zeros(len(xyz)), threshold=0.02) == []
    with pytest.raises(ValueError):
        find_clusters(xyz, d)  # neither a mask nor a threshold
    with pytest.raises(ValueError):
        find_clusters(xyz, d[:10], threshold=0.02)


def test_file_without_change_is_a_load_error(shared_data):
    with pytest.raises(LoadError, match="no change dimension"):
        clusters_from_file(shared_data / "pointclouds" / "ahn3_cropped_2.laz")


def _clusters() -> list[ChangeCluster]:
    def square(x, mean):
        fp = [[x, 0.0, 1.0], [x + 2, 0.0, 1.0], [x + 2, 2.0, 1.0], [x, 2.0, 1.0]]
        return ChangeCluster(count=100, centroid=[x + 1, 1.0, 1.0], footprint=fp, area=4.0,
                             volume=4.0 * mean, mean=mean, max=mean * 1.2,
                             date_a="2019-01-02", date_b="2024-03-04", field="m3c2_distance")

    return [square(0.0, -0.1), square(10.0, 0.05), square(20.0, -0.2)]


def test_session_accept_undo_reject_save_reopen(tmp_path):
    session = ProjectSession(Scene())
    session.default_author = "K"
    session.add_annotation(Annotation(kind="point", points=[[0, 0, 0]], title="old"))
    proposals = session.propose_annotations(_clusters())
    assert len(session.project.proposals) == 3 and len(session.project.annotations) == 1
    assert all(p.author == "K" for p in proposals)
    first, second, third = proposals
    session.accept_proposal(first.id)
    assert session.project.annotations[-1] is first
    assert [p.id for p in session.project.proposals] == [second.id, third.id]
    session.undo.undo()
    assert [p.id for p in session.project.proposals] == [first.id, second.id, third.id]
    assert len(session.project.annotations) == 1
    session.undo.redo()
    session.reject_proposal(second.id)
    assert [p.id for p in session.project.proposals] == [third.id]
    with pytest.raises(KeyError):
        session.accept_proposal(second.id)
    path = tmp_path / "site.realscene.json"
    session.save(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert [a["id"] for a in doc["proposals"]] == [third.id]
    reopened = Project.load(path)
    assert [a.id for a in reopened.annotations][-1] == first.id
    assert [a.id for a in reopened.proposals] == [third.id]
    # accept all, undone in one step
    s2 = ProjectSession(Scene(), reopened)
    s2.accept_proposals()
    assert reopened.proposals == [] and reopened.annotations[-1].id == third.id
    s2.undo.undo()
    assert [a.id for a in reopened.proposals] == [third.id]
    # a project without proposals writes none (older readers see the same document)
    assert "proposals" not in Project().to_dict()


def test_cli_propose_adds_proposals_to_the_project(tmp_path, capsys):
    import laspy

    from viewer.cli import main

    xyz = _ground()
    d = np.where(np.hypot(xyz[:, 0] - 20, xyz[:, 1] - 20) < 4.0, -0.07, 0.0)
    header = laspy.LasHeader(point_format=3, version="1.4")
    header.scales = [0.001] * 3
    header.add_extra_dims([laspy.ExtraBytesParams("c2c_distance", "f8")])
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2] + d
    las["c2c_distance"] = d
    changed = tmp_path / "c2c.laz"
    las.write(str(changed))
    project = tmp_path / "p.realscene.json"
    Project().save(project)
    args = ["propose", str(changed), "--project", str(project), "--date-a", "2019-01-02",
            "--date-b", "2024-03-04", "--lang", "zh"]
    assert main(args) == 2  # C2C needs a threshold: one line, no traceback
    assert "threshold" in capsys.readouterr().err
    assert main(args + ["--threshold", "0.03"]) == 0
    (p,) = Project.load(project).proposals
    assert p.category == "material_loss" and "2019-01-02" in p.description
    assert "平方米" in p.description and Project.load(project).annotations == []
    assert main(["propose", str(changed), "--project", str(project), "--date-a", "x"]) == 2
