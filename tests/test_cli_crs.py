"""``--crs [FILE=]CRS`` on the command line: a survey without a CRS record (a LAS made
here with laspy, no CRS) described and rendered as EPSG:4547 / 4526, a local city grid as
a PROJ string, bad values refused in one line (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.loaders.test_cgcs2000 import write_survey_las
from viewer.cli import assigned_crs, main


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bare(tmp_path):
    """A LAS without any CRS record, eastings ~512,000 m (CGCS2000 CM 114°E)."""
    path = tmp_path / "勘测 no crs.las"
    xyz = write_survey_las(path, None, prefixed=False)
    return path, xyz


def test_info_takes_the_crs_given(bare, capsys):
    path, xyz = bare
    code, out, err = _run(capsys, "info", path, "--json")
    assert code == 0, err
    assert json.loads(out)["crs"] is None
    for spec in ("EPSG:4547", f"{path.name}=EPSG:4547", f"{path}=EPSG:4547"):
        code, out, err = _run(capsys, "info", path, "--json", "--crs", spec)
        assert code == 0, err
        info = json.loads(out)
        assert info["crs"]["epsg"] == 4547, spec
        # the file's numbers, not transformed: taken to be in the CRS given
        np.testing.assert_allclose(info["bounds"]["min"], xyz.min(axis=0), atol=5e-4)
        assert "assigned by the user" in info["metadata"]["crs_source"]
    code, out, err = _run(capsys, "info", path, "--crs", "EPSG:4547")
    assert code == 0 and "4547" in out and "Gauss-Kruger CM 114E" in out, out


def test_info_warns_when_the_crs_given_does_not_fit_the_eastings(tmp_path, capsys):
    """Eastings with the zone prefix 38 given as 4547 (no prefix): the warning names 4526."""
    path = tmp_path / "prefixed.las"
    write_survey_las(path, None, prefixed=True)
    code, out, err = _run(capsys, "info", path, "--json", "--crs", "EPSG:4547")
    assert code == 0, err
    warnings = " ".join(json.loads(out)["warnings"])
    assert "4526" in warnings, warnings
    code, out, err = _run(capsys, "info", path, "--json", "--crs", "EPSG:4526")
    assert "4526" not in " ".join(json.loads(out)["warnings"])


def _share_drawn(png) -> float:
    from PIL import Image

    with Image.open(png) as im:
        img = np.asarray(im.convert("RGB")).astype(int)
    return float((np.abs(img - img[0, 0]).sum(axis=2) > 30).mean())


def test_render_places_a_file_by_the_crs_given(tmp_path, capsys):
    """A 4547 survey and the same area without CRS, eastings with the zone prefix (4526):
    without --crs the bare one is taken to be in the scene CRS, 38,000 km east, and the
    picture is mostly empty; with ``--crs FILE=EPSG:4526`` it lands on the first."""
    tagged = tmp_path / "tagged.las"
    write_survey_las(tagged, 4547, prefixed=False)
    bare = tmp_path / "bare.las"
    write_survey_las(bare, None, prefixed=True)
    apart, together = tmp_path / "apart.png", tmp_path / "together.png"
    common = ["--size", "320x200", "--view", "top", "--point-size", "6", "--msaa", "0",
              "--no-attribution"]  # only the data in the picture
    code, out, err = _run(capsys, "render", tagged, bare, "-o", apart, *common)
    assert code == 0, err
    code, out, err = _run(capsys, "render", tagged, bare, "-o", together, *common,
                          "--crs", "bare.las=EPSG:4526")
    assert code == 0, err
    assert _share_drawn(together) > 0.1 > 20 * _share_drawn(apart), \
        (_share_drawn(together), _share_drawn(apart))


def test_render_a_local_grid_given_as_proj(bare, tmp_path, capsys):
    path, _ = bare
    out_png = tmp_path / "local.png"
    local = ("+proj=tmerc +lat_0=0 +lon_0=114.3 +k=1 +x_0=50000 +y_0=-3000000 "
             "+ellps=GRS80 +units=m +no_defs")
    code, out, err = _run(capsys, "render", path, "-o", out_png, "--size", "160x100",
                          "--crs", local)
    assert code == 0, err
    assert out_png.exists() and _share_drawn(out_png) > 0.05


def test_assigned_crs_matching():
    paths = ["data/a.las", "b.laz"]
    assert assigned_crs(["EPSG:4547"], paths) == {"data/a.las": "EPSG:4547",
                                                 "b.laz": "EPSG:4547"}
    assert assigned_crs(["a.las=EPSG:4547", "b.laz=EPSG:4526"], paths) == \
        {"data/a.las": "EPSG:4547", "b.laz": "EPSG:4526"}
    proj = "+proj=tmerc +lon_0=114.3 +x_0=50000 +ellps=GRS80 +units=m"
    assert assigned_crs([proj], paths) == {p: proj for p in paths}
    assert assigned_crs([f"b.laz={proj}"], paths) == {"b.laz": proj}


@pytest.mark.parametrize("argv,needle", [
    (["info", "{las}", "--crs", "EPSG:999999"], "bad --crs 'EPSG:999999'"),
    (["info", "{las}", "--crs", "other.las=EPSG:4547"], "'other.las' is not one of the "
                                                        "files given"),
    (["info", "{las}", "--crs", "EPSG:5737"], "bad --crs 'EPSG:5737'"),  # heights only
    (["render", "{las}", "-o", "{png}", "--crs", "+proj=bogus"], "bad --crs"),
    (["open", "{las}", "--crs", "nonsense"], "bad --crs 'nonsense'"),
])
def test_bad_crs_is_one_line(bare, tmp_path, capsys, argv, needle):
    path, _ = bare
    argv = [a.format(las=path, png=tmp_path / "x.png") for a in argv]
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("realscene: error:"), err
    assert needle in lines[0], lines[0]


def test_crs_on_a_project_is_refused(bare, tmp_path, capsys):
    from viewer.api import open_files

    path, _ = bare
    project = tmp_path / "site.realscene.json"
    with open_files(path) as site:
        site.save(project)
    for argv in (["info", project, "--crs", "EPSG:4547"],
                 ["render", project, "-o", tmp_path / "p.png", "--crs", "EPSG:4547"]):
        code, out, err = _run(capsys, *argv)
        assert code == 2 and "--crs is for data files" in err, err
