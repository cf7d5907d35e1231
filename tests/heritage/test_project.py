"""The project document: round trips, schema, versions, missing layers, atomic saves."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heritage.model import Annotation, Measurement, Tour, TourStop, View
from heritage.project import (
    SCHEMA_VERSION,
    LayerRecord,
    Project,
    ProjectError,
    recovery_candidate,
    recovery_path,
)

ROOT = Path(__file__).resolve().parents[2]


def make_project(tmp_path: Path, n: int = 3) -> Project:
    layer = tmp_path / "data" / "scan.laz"
    layer.parent.mkdir(parents=True, exist_ok=True)
    layer.write_bytes(b"LASF" + b"\0" * 100)
    p = Project(path=tmp_path / "site.rsproj.json", title="Test site", crs="EPSG:28992")
    p.layers.append(LayerRecord(path=p.relative(layer), name="scan",
                                display={"color_mode": "rgb", "point_size": 2.0}))
    cam = {"position": [85000.0, 447400.0, 120.0], "focal_point": [85030.0, 447520.0, 5.0],
           "view_up": [0.0, 0.0, 1.0], "parallel": False}
    v = View("Overview", cam)
    p.views.append(v)
    for i in range(n):
        p.annotations.append(Annotation(
            "polygon" if i % 2 else "point",
            [[85000.0 + i, 447500.0, 2.0], [85001.0 + i, 447500.0, 2.0],
             [85001.0 + i, 447501.0, 2.5]] if i % 2 else [[85000.123456 + i, 447500.5, 3.25]],
            title=f"Crack {i} — façade", description="Hairline crack\nbelow the cornice",
            category="crack", condition="poor", observed="2026-11-20", author="A. Curator",
            tags=["north wall", "2026 survey"], media=["photos/crack.jpg"],
            link={"layer": "scan", "feature_id": "NL.IMBAG.Pand.0503100000032914"}, view=cam))
    p.measurements.append(Measurement("distance", [[85000, 447500, 0], [85003, 447504, 0]]))
    p.tours.append(Tour("Walk", [TourStop(view_id=v.id),
                                 TourStop(annotation_id=p.annotations[0].id)]))
    p.vocabulary.add_category("salt efflorescence", "Salt efflorescence", (250, 250, 250))
    return p


def test_round_trip_loses_nothing(tmp_path):
    p = make_project(tmp_path)
    p.save()
    q = Project.load(p.path)
    assert q.to_dict() == p.to_dict()
    assert q.annotations[0].points[0][0] == 85000.123456
    assert "salt_efflorescence" in q.vocabulary.categories
    text = p.path.read_text(encoding="utf-8")
    assert json.loads(text)["schema_version"] == SCHEMA_VERSION
    assert "façade" in text  # human-readable, not escaped


def test_layer_paths_are_relative_and_follow_save_as(tmp_path):
    p = make_project(tmp_path)
    p.save()
    assert p.layers[0].path == "data/scan.laz"
    (tmp_path / "elsewhere").mkdir()
    p.save(tmp_path / "elsewhere" / "copy.json")
    assert p.layers[0].path == "../data/scan.laz"
    assert Project.load(p.path).missing_layers() == []


def test_missing_layer_opens_and_relinks(tmp_path):
    p = make_project(tmp_path)
    p.save()
    moved = tmp_path / "moved.laz"
    (tmp_path / "data" / "scan.laz").rename(moved)
    q = Project.load(p.path)  # opens anyway
    assert [r.name for r in q.missing_layers()] == ["scan"]
    q.relink(q.layers[0], moved)
    assert q.missing_layers() == [] and q.layers[0].path == "moved.laz"
    assert len(q.layers[0].sha256) == 64


def test_newer_version_is_refused_and_not_rewritten(tmp_path):
    p = make_project(tmp_path)
    p.save()
    d = json.loads(p.path.read_text())
    d["schema_version"] = SCHEMA_VERSION + 1
    p.path.write_text(json.dumps(d))
    before = p.path.read_bytes()
    with pytest.raises(ProjectError, match="newer RealScene"):
        Project.load(p.path)
    assert p.path.read_bytes() == before


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("format"), "not a RealScene project"),
    (lambda d: d["annotations"][0].update(kind="blob"), "annotations/0/kind"),
    (lambda d: d["annotations"][0].update(points=[[1, 2]]), "annotations/0/points"),
    (lambda d: d.update(schema_version="one"), "schema version"),
])
def test_invalid_documents_give_clear_errors(tmp_path, mutate, message):
    p = make_project(tmp_path)
    d = p.to_dict()
    mutate(d)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ProjectError, match=message):
        Project.load(path)


def test_damaged_json_is_a_clear_error(tmp_path):
    path = tmp_path / "torn.json"
    path.write_text('{"format": "realscene-project", "schema_v')
    with pytest.raises(ProjectError, match="not valid JSON"):
        Project.load(path)


def test_autosave_recovery_file(tmp_path):
    p = make_project(tmp_path)
    p.save()
    assert recovery_candidate(p.path) is None
    p.annotations[0].title = "edited after the last save"
    time.sleep(0.01)
    rec = p.autosave()
    assert rec == recovery_path(p.path) and recovery_candidate(p.path) == rec
    recovered = Project.load(rec)
    assert recovered.annotations[0].title == "edited after the last save"
    p.save()  # a real save removes the recovery file
    assert not rec.exists()


SAVER = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from heritage.project import Project
base = Project.load(sys.argv[1])
i = 0
while True:
    for a in base.annotations:
        a.title = f"version {i}"
    base.save()
    i += 1
    print(i, flush=True)
"""


def test_sigkill_during_saves_never_leaves_a_torn_project(tmp_path):
    """Kill a process that saves in a loop at random moments; the file is always whole."""
    p = make_project(tmp_path, n=300)  # ~0.3 MB document
    for a in p.annotations:
        a.title = "version start"
    p.save()
    rng = random.Random(1234)
    kills = 0
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(p.path), str(ROOT)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.readline()  # the saver is up and has completed one save
        time.sleep(rng.uniform(0.0, 0.2))  # then kill it somewhere inside later saves
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += proc.returncode == -signal.SIGKILL
        q = Project.load(p.path)  # must parse and validate every time
        titles = {a.title for a in q.annotations}
        assert len(titles) == 1, "a project mixing two saves"
        assert len(q.annotations) == 300
    assert kills == 20
    leftovers = [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
    # temp files of killed saves may remain; they never replace the project
    assert all(f.name.startswith(".site.rsproj.json.") for f in leftovers)


def test_older_version_is_migrated_on_open_and_saved_as_current(tmp_path, monkeypatch):
    """The migration chain runs on open (here a pretend schema 2 that renamed a
    field); the file on disk is untouched until the user saves."""
    import heritage.project as hp

    p = make_project(tmp_path)
    p.save()
    d = json.loads(p.path.read_text())
    d["annotations"][0]["headline"] = d["annotations"][0].pop("title")  # "version 1"
    p.path.write_text(json.dumps(d))
    before = p.path.read_bytes()

    def v1_to_v2(doc):
        for a in doc.get("annotations", []):
            a["title"] = a.pop("headline", a.get("title", ""))
        return doc

    monkeypatch.setattr(hp, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(hp.MIGRATIONS, 1, v1_to_v2)
    q = Project.load(p.path)
    assert q.annotations[0].title == p.annotations[0].title
    assert p.path.read_bytes() == before
    q.save()
    assert json.loads(p.path.read_text())["schema_version"] == 2
