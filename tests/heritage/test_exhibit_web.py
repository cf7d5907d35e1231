"""The offline web exhibit (``--format web``) of the sample site, used in a real browser.

Headless Chromium (Debian's ``chromium``) is driven by playwright-core from
``web_exhibit_check.mjs``: the page is opened from ``file://`` and from a static HTTP server,
the model must draw (pixels of the WebGL canvas), a tap on a hotspot shows its title, the
tour advances, the language toggle switches every text of the page, and no request leaves
the folder. The hotspots are checked against the GLB's own hotspot nodes (pygltflib).
"""

from __future__ import annotations

import base64
import copy
import functools
import http.server
import io
import json
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from PIL import Image

from heritage import vocabulary
from heritage.exhibits import ExportCancelled, ExportError, export
from heritage.exhibits.source import source_from_project
from heritage.exhibits.web import MARKER, UI_TEXT, exhibit_data, model_frame, orbit
from heritage.model import TourStop
from heritage.project import Project
from tests.heritage.exhibit_support import REPO, SAMPLE_PROJECT, gltf_nodes_world

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
PHOTO = DATA / "meshes" / "fuze_textured_obj" / "fuze uv.jpg"
CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path(__file__).with_name("web_exhibit_check.mjs")
TRICKY_TITLE = "Weathered roof ridge </script><b>屋脊风化</b> {{LANG}} ☂"
#: a camera stored in a tour stop: the roof ridge from the south-west, closer than its view
STORED_CAMERA = {"position": [85040.0, 447380.0, 45.0], "focal_point": [85070.0, 447425.0, 25.0],
                 "view_up": [0.0, 0.0, 1.0], "parallel": False}
STORED_CAPTION = "南侧屋脊：瓦片松动，注意排水沟 </script>"


# -- the exhibit ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    """The sample project copied, with a real photo on the first annotation and a media
    reference outside the folder on the second."""
    folder = tmp_path_factory.mktemp("project")
    for item in SAMPLE_PROJECT.parent.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, folder / item.name)
    (folder / "photos").mkdir()
    shutil.copy(PHOTO, folder / "photos" / "ridge.jpg")
    (folder.parent / "secret.jpg").write_bytes(PHOTO.read_bytes())
    project = Project.load(folder / SAMPLE_PROJECT.name)
    project.annotations[0].title = TRICKY_TITLE
    project.annotations[0].media = ["photos/ridge.jpg"]
    project.annotations[1].media = ["../secret.jpg"]
    # stop 2 of the tour: "Add current view" in the Tours tab (a stored camera, no view,
    # no annotation) with a Chinese caption and no title
    project.tours[0].stops.insert(1, TourStop(camera=STORED_CAMERA, caption=STORED_CAPTION))
    project.save(folder / SAMPLE_PROJECT.name)
    return folder


@pytest.fixture(scope="module")
def site(project_dir):
    return source_from_project(project_dir / SAMPLE_PROJECT.name)


@pytest.fixture(scope="module")
def exhibit(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("web") / "kiosk"
    return export(site, "web", out, points=150_000, triangles=60_000)


def test_the_folder_holds_everything_the_page_needs(site, exhibit):
    out = exhibit.path
    for name in ("index.html", "model.glb", "model.glb.js", "exhibit.js", "exhibit.css",
                 "viewer/model-viewer-umd.min.js", "viewer/LICENSE-model-viewer.txt",
                 "viewer/THIRD_PARTY_LICENSES.txt", MARKER):
        assert (out / name).is_file(), name
    assert "Apache License" in (out / "viewer/LICENSE-model-viewer.txt").read_text()
    third = (out / "viewer/THIRD_PARTY_LICENSES.txt").read_text()
    for package in ("three", "lit", "@monogrid/gainmap-js", "fflate"):
        assert f"\n{package} " in third, package
    # the script copy of the model is the model, byte for byte
    js = (out / "model.glb.js").read_text()
    b64 = js.split('"')[1]
    assert base64.b64decode(b64) == (out / "model.glb").read_bytes()
    assert exhibit.counts["hotspots"] == len(site.annotations)
    assert exhibit.counts["tour_stops"] == len(site.tours[0].stops)
    assert exhibit.counts["photos"] == 1


def test_the_page_font_draws_every_word_of_both_languages(exhibit):
    from fontTools.ttLib import TTFont

    from heritage.exhibits.web import page_text

    page = (exhibit.path / "index.html").read_text(encoding="utf-8")
    blob = page.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    text = page_text(json.loads(blob))
    assert "屋脊风化" in text and "开始导览" in text and "Start tour" in text
    b64 = page.split("data:font/woff;base64,", 1)[1].split(")", 1)[0]
    cmap = TTFont(io.BytesIO(base64.b64decode(b64))).getBestCmap()
    assert [c for c in text if not c.isspace() and ord(c) not in cmap] == []
    assert len(cmap) < 1000  # a subset, not the whole CJK font
    licence = (exhibit.path / "fonts" / "FONT-LICENSE.txt").read_text(encoding="utf-8")
    assert "Open Font License" in licence


def test_no_url_outside_the_folder_in_what_we_wrote(exhibit):
    for name in ("index.html", "exhibit.js", "exhibit.css"):
        text = (exhibit.path / name).read_text(encoding="utf-8")
        assert "http:" not in text and "https:" not in text and "//cdn" not in text, name


def test_photos_are_copied_from_their_pixels_and_refusals_reported(site, exhibit):
    photos = sorted((exhibit.path / "media").iterdir())
    assert [p.name for p in photos] == ["a001-1.jpg"]
    with Image.open(photos[0]) as im:
        assert im.format == "JPEG" and min(im.size) > 0
        assert not im.info.get("exif")
    assert photos[0].read_bytes() != PHOTO.read_bytes()  # re-encoded, not copied
    refused = [w for w in exhibit.warnings if "secret.jpg" in w]
    assert len(refused) == 1 and "outside" in refused[0]
    assert not any(p.name == "secret.jpg" for p in exhibit.path.rglob("*"))


def test_hotspots_sit_on_the_glb_hotspot_nodes(site, exhibit):
    data = exhibit_data(site)
    g = pygltflib.GLTF2().load(str(exhibit.path / "model.glb"))
    nodes = gltf_nodes_world(g)
    for ann, h in zip(site.annotations, data["hotspots"], strict=True):
        in_glb = model_frame(nodes[f"hotspot_{ann.id}"], site.origin)
        np.testing.assert_allclose(h["position"], in_glb, atol=1e-3)
        np.testing.assert_allclose(h["position"], model_frame(ann.anchor, site.origin),
                                   atol=1e-3)


def test_tour_stops_with_a_stored_camera_and_captions(site, exhibit):
    """Every stop is in the page: a stored-camera stop goes to its camera with its caption
    (not left out); a stop's title is its own, the view's name or the annotation's."""
    assert not any("left out" in w for w in exhibit.warnings), exhibit.warnings
    data = exhibit_data(site)
    (tour,) = data["tours"]
    assert len(tour["stops"]) == len(site.tours[0].stops) == 5
    view_stop, stored, ann_stop = tour["stops"][:3]
    assert (view_stop["title"], view_stop["caption"], view_stop["hotspot"]) == \
        ("Overview", "", None)
    assert (stored["title"], stored["caption"], stored["hotspot"]) == ("", STORED_CAPTION, None)
    pos = model_frame(STORED_CAMERA["position"], site.origin)
    tgt = model_frame(STORED_CAMERA["focal_point"], site.origin)
    theta, phi, radius = orbit(pos, tgt)
    assert stored["camera"]["orbit"] == f"{theta:.3f}deg {phi:.3f}deg {radius:.3f}m"
    assert stored["camera"]["target"] == " ".join(f"{v:.3f}m" for v in tgt)
    first = data["hotspots"][0]
    assert (ann_stop["title"], ann_stop["hotspot"]) == (TRICKY_TITLE, 1)
    assert ann_stop["camera"] == first["camera"]
    # a stored camera wins over the stop's annotation, whose panel still opens; a stop's
    # own title wins over the annotation's
    site2 = copy.deepcopy(site)
    s = site2.tours[0].stops[2]
    s.camera, s.title, s.caption = dict(STORED_CAMERA), "屋脊近景", "看瓦片"
    got = exhibit_data(site2)["tours"][0]["stops"][2]
    assert (got["title"], got["caption"], got["hotspot"]) == ("屋脊近景", "看瓦片", 1)
    assert got["camera"] == stored["camera"]
    # the caption is drawn by the page font and written safely inside the page's script
    page = (exhibit.path / "index.html").read_text(encoding="utf-8")
    assert "南侧屋脊：瓦片松动" in page and STORED_CAPTION not in page
    blob = page.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(blob)["tours"][0]["stops"][1]["caption"] == STORED_CAPTION


def test_frame_and_orbit():
    # scene x east, y north, z up -> glTF x, y up, z south
    np.testing.assert_allclose(model_frame([11.0, 22.0, 33.0], [1.0, 2.0, 3.0]),
                               [10.0, 30.0, -20.0])
    # from the south (glTF +z), level: theta 0, phi 90; from the east: theta 90; from above
    assert orbit([0, 0, 5], [0, 0, 0]) == pytest.approx((0.0, 90.0, 5.0))
    assert orbit([5, 0, 0], [0, 0, 0]) == pytest.approx((90.0, 90.0, 5.0))
    assert orbit([0, 7, 0], [0, 0, 0]) == pytest.approx((0.0, 0.0, 7.0))


def test_every_page_word_has_both_languages():
    assert UI_TEXT["en"].keys() == UI_TEXT["zh"].keys()
    for key in UI_TEXT["en"]:
        assert UI_TEXT["en"][key] != UI_TEXT["zh"][key], key
    template = (REPO / "heritage/exhibits/web_assets/index.html").read_text()
    import re

    for key in re.findall(r'data-i18n="([a-z_]+)"', template):
        assert key in UI_TEXT["en"], key


def test_the_language_it_opens_in_and_bad_options(site, tmp_path):
    out = export(site, "web", tmp_path / "en", points=1000, triangles=1000, lang="en",
                 idle_seconds=60).path
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    blob = page.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    data = json.loads(blob)
    assert data["lang"] == "en" and data["idle_seconds"] == 60
    assert data["hotspots"][0]["title"] == TRICKY_TITLE  # "</" escaped, the text intact
    for bad in ({"lang": "fr"}, {"idle_seconds": 0}, {"colour": "red"}):
        with pytest.raises(ExportError):
            export(site, "web", tmp_path / "bad", points=1000, triangles=1000, **bad)
        assert not (tmp_path / "bad").exists()


def test_refuses_a_folder_that_is_not_an_exhibit(site, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(ExportError, match="other files"):
        export(site, "web", out, points=1000, triangles=1000)
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]


def test_cancel_leaves_nothing_and_an_earlier_exhibit_is_replaced(site, tmp_path):
    out = tmp_path / "kiosk"
    first = export(site, "web", out, points=1000, triangles=1000)
    assert first.path == out and (out / MARKER).is_file()
    before = (out / "model.glb").read_bytes()

    def cancel(fraction, message):
        if fraction > 0.8:
            raise ExportCancelled()

    with pytest.raises(ExportCancelled):
        export(site, "web", out, progress=cancel, points=2000, triangles=2000)
    assert (out / "model.glb").read_bytes() == before  # the earlier exhibit is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk"]  # no temporary left
    export(site, "web", out, points=2000, triangles=2000)
    assert (out / "model.glb").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk"]


# -- in a real browser -------------------------------------------------------------------
def _browser_check(url: str, shot: Path) -> dict:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the web exhibit cannot be driven (install Node.js)")
    if not CHROMIUM.is_file():
        pytest.skip("chromium is not installed: apt-get install chromium (./run does it)")
    if not (REPO / "node_modules" / "playwright-core" / "package.json").is_file():
        pytest.skip("npm package playwright-core is not installed: run ./run once")
    proc = subprocess.run(["node", str(DRIVER), url, str(shot), str(CHROMIUM)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "fatal" not in result, result
    return result


def _judge(result: dict, site, exhibit, shot: Path, inside: str) -> None:
    assert result["loaded"] == "1", result
    points = [la for la in site.layers if la.kind == "points"]
    assert result["pointSizes"] == [max(la.point_size for la in points)] * len(points)
    assert result["errors"] == [], result["errors"]
    # nothing left the folder: every request is inside it (or the page's own blob:)
    outside = [u for u in result["requests"]
               if not (u.startswith(inside) or u.startswith("blob:"))]
    assert outside == [], outside
    # the model draws: the WebGL canvas has many covered, varied pixels
    with Image.open(shot) as im:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float64)
    covered = rgba[..., 3] > 0
    assert covered.mean() > 0.05, covered.mean()
    assert rgba[covered][:, :3].std(axis=0).max() > 10.0
    # the first language is Chinese; a tap on hotspot 1 shows its title and photo
    assert result["lang0"] == "zh-CN"
    assert result["pageFont"]["status"] == ["loaded"]  # the embedded subset font is used
    assert result["pageFont"]["drawn"].startswith('"RealScene Page"')
    assert result["hotspotCount"] == len(site.annotations)
    assert result["hotspotBox"]["width"] >= 48 and result["hotspotBox"]["height"] >= 48
    first = site.annotations[0]
    assert result["panelTitle"] == TRICKY_TITLE
    assert result["panelDescription"] == first.description
    assert vocabulary.category_term(first.category, "zh") in result["panelFacts"]
    photo = result["panelPhotos"][0]
    assert photo["width"] > 0 and photo["src"].startswith(inside)
    # the language toggle switches the page's words and the vocabulary
    assert set(UI_TEXT["en"].values()) >= set(result["en"]["texts"])
    assert set(UI_TEXT["zh"].values()) >= set(result["zh"]["texts"])
    assert result["en"]["lang"] == "en" and result["zh"]["lang"] == "zh-CN"
    assert vocabulary.category_term(first.category, "en") in result["en"]["facts"]
    assert vocabulary.category_term(first.category, "zh") in result["zh"]["facts"]
    assert result["en"]["tourButtons"] == ["Start tour"]
    assert result["zh"]["tourButtons"] == ["开始导览"]
    # the tour: stop 1 is the overview view, next goes to the first annotation stop
    data = exhibit_data(site)
    stops = data["tours"][0]["stops"]
    s1, s2 = result["stop1"], result["stop2"]
    assert (s1["stop"], s2["stop"], result["back"]["stop"]) == ("1", "2", "1")
    assert s1["caption"] == stops[0]["caption"] and s2["caption"] == stops[1]["caption"]
    assert s1["title"] == stops[0]["title"] == "Overview"
    # stop 2 is the stored-camera stop: no title, its Chinese caption shown in the tour bar
    assert s2["title"] == "" and s2["caption"] == STORED_CAPTION
    assert s2["captionBox"]["height"] > 10 and s2["captionBox"]["width"] > 50
    assert s1["captionBox"]["height"] == 0  # an empty caption takes no room
    assert "第 2 站" in s2["step"]
    assert s2["orbitAttr"] == stops[1]["camera"]["orbit"]
    target = [float(v.rstrip("m")) for v in stops[1]["camera"]["target"].split()]
    np.testing.assert_allclose(s2["target"], target, atol=0.05)  # the camera got there
    theta, phi, radius = (float(v.rstrip("degm")) for v in stops[1]["camera"]["orbit"].split())
    np.testing.assert_allclose(np.degrees(s2["orbit"][:2]), [theta, phi], atol=0.5)
    assert s2["orbit"][2] == pytest.approx(radius, rel=0.02)
    if stops[1]["hotspot"]:  # an annotation stop opens its panel
        assert s2["panel"] == data["hotspots"][stops[1]["hotspot"] - 1]["title"]
    assert result["back"]["caption"] == stops[0]["caption"]
    assert result["back"]["title"] == stops[0]["title"]


def test_in_chromium_from_file_url(site, exhibit, tmp_path):
    shot = tmp_path / "canvas.png"
    inside = exhibit.path.resolve().as_uri() + "/"
    result = _browser_check(inside + "index.html", shot)
    _judge(result, site, exhibit, shot, inside)
    assert not any(u.endswith("/model.glb") for u in result["requests"])  # the script copy


def test_in_chromium_from_a_static_server(site, exhibit, tmp_path):
    handler = functools.partial(_QuietHandler, directory=str(exhibit.path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        inside = f"http://127.0.0.1:{server.server_address[1]}/"
        shot = tmp_path / "canvas.png"
        result = _browser_check(inside + "index.html", shot)
    finally:
        server.shutdown()
        server.server_close()
    _judge(result, site, exhibit, shot, inside)
    assert inside + "model.glb" in result["requests"]
    assert not any(u.endswith("model.glb.js") for u in result["requests"])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass
