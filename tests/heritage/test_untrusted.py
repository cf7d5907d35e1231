"""Projects and annotation files from strangers (issue 13): media never leak into reports,
CSV is safe in spreadsheets, every bad document is one clear error, saving never
overwrites an input, keeps permissions and cleans up after a killed save, and exports
stay proportional in memory."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image

from heritage import exchange, media
from heritage.exchange import ExchangeError
from heritage.model import Annotation, Measurement
from heritage.project import (
    Project,
    ProjectError,
    clean_stale_temp_files,
    first_schema_error,
    recovery_candidate,
    recovery_path,
    reference_validator,
    stale_temp_files,
)
from heritage.report import write_pdf_report, write_report
from viewer.cli import main

from .test_exchange import make_project

SECRET = b"password=hunter2 -- a local file that must never travel"


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _jpeg(path: Path, size=(64, 48), color=(200, 30, 30)) -> bytes:
    Image.new("RGB", size, color).save(path, "JPEG", quality=95)
    return path.read_bytes()


def _data_uris(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(
        r'src="data:image/[a-z]+;base64,([^"]+)"', text)]


def _pdf_images(pdf: bytes) -> int:
    return len(re.findall(rb"/Subtype\s*/Image", pdf))


# ---------------------------------------------------------------------------------------
# 1. media: nothing local leaks into reports
# ---------------------------------------------------------------------------------------


def _bomb(path: Path) -> None:
    """A small PNG that decodes to 144 million pixels."""
    Image.new("1", (12_000, 12_000)).save(path, "PNG")


def _escape(kind: str, project_dir: Path, outside: Path) -> str:
    """Set up one hostile media reference of ``kind``; the secret lies in ``outside``."""
    outside.mkdir(exist_ok=True)
    secret_jpg = outside / "secret.jpg"
    _jpeg(secret_jpg, color=(1, 2, 3))
    (outside / "passwd").write_bytes(SECRET)
    if kind == "dotdot":
        return "../outside/secret.jpg"
    if kind == "absolute":
        return str(secret_jpg)
    if kind == "file_uri":
        return secret_jpg.as_uri()
    if kind == "symlink_out":
        (project_dir / "photos" / "link.jpg").symlink_to(secret_jpg)
        return "photos/link.jpg"
    if kind == "symlink_passwd":
        (project_dir / "photos" / "pw.jpg").symlink_to(outside / "passwd")
        return "photos/pw.jpg"
    if kind == "dev_zero":
        (project_dir / "photos" / "zero.jpg").symlink_to("/dev/zero")
        return "photos/zero.jpg"
    if kind == "not_an_image":
        (project_dir / "photos" / "notes.jpg").write_bytes(SECRET)
        return "photos/notes.jpg"
    if kind == "bomb":
        _bomb(project_dir / "photos" / "bomb.png")
        return "photos/bomb.png"
    raise AssertionError(kind)


ESCAPES = ("dotdot", "absolute", "file_uri", "symlink_out", "symlink_passwd", "dev_zero",
           "not_an_image", "bomb")


@pytest.fixture
def site(tmp_path):
    folder = tmp_path / "site"
    (folder / "photos").mkdir(parents=True)
    p = make_project(folder)
    for a in p.annotations:
        a.media = []
    p.save()
    return p


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ESCAPES)
def test_hostile_media_are_refused_in_reports_and_named(site, tmp_path, capsys, kind):
    ref = _escape(kind, site.folder, tmp_path / "outside")
    site.annotations[0].media = [ref]
    site.save()
    with pytest.raises(media.MediaRefused) as info:
        media.embeddable_image(site.folder, ref)
    assert ref.replace("\x00", "\\0") in str(info.value)
    assert media.openable(site.folder, ref) is None or kind == "bomb"

    html_out = write_report(site, tmp_path / "r.html", pdf=True)
    text = html_out.read_text(encoding="utf-8")
    assert _data_uris(text) == []  # nothing embedded (no renderer, no acceptable photo)
    assert SECRET.decode() not in text
    assert _pdf_images(html_out.with_suffix(".pdf").read_bytes()) == 0
    assert SECRET not in html_out.with_suffix(".pdf").read_bytes()
    assert "Left out" in text

    warnings: list[str] = []
    write_report(site, tmp_path / "r2.html", on_warning=warnings.append)
    assert len(warnings) == 1 and ref in warnings[0]
    warnings.clear()
    pdf_out = write_pdf_report(site, tmp_path / "only.pdf", on_warning=warnings.append)
    assert _pdf_images(pdf_out.read_bytes()) == 0 and len(warnings) == 1

    # the export path and the command line say so too (one warning line, exit 0)
    code, out, err = _run(capsys, "annotations", site.path, "--export", "report",
                          "--no-views", "-o", tmp_path / "cli.html")
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("realscene: warning: ")
    assert _data_uris((tmp_path / "cli.html").read_text(encoding="utf-8")) == []


def test_real_photo_inside_is_embedded_re_encoded(site, tmp_path):
    photo = site.folder / "photos" / "crack.png"
    im = Image.new("RGB", (97, 61), (10, 200, 90))
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 47.4239N 9.3767E, camera serial 0815")
    im.save(photo, "PNG", pnginfo=info)
    jpg = site.folder / "photos" / "wall.jpg"
    exif = Image.Exif()
    exif[0x010F] = "SecretCam Inc."  # Make
    Image.new("RGB", (80, 50), (90, 90, 200)).save(jpg, "JPEG", exif=exif)
    site.annotations[1].media = ["photos/crack.png", "photos/wall.jpg"]
    site.save()
    text = write_report(site, tmp_path / "r.html").read_text(encoding="utf-8")
    embedded = _data_uris(text)
    assert len(embedded) == 2
    for data, original in zip(embedded, (photo, jpg), strict=True):
        assert data != original.read_bytes()  # written afresh from decoded pixels
        with Image.open(original) as a, Image.open(io.BytesIO(data)) as b:
            assert b.size == a.size
    assert b"camera serial" not in embedded[0] and b"SecretCam" not in embedded[1]
    assert "Left out" not in text
    assert media.openable(site.folder, "photos/crack.png") == photo.resolve()
    assert media.resolve_media(site.folder, "photos/wall.jpg") == jpg.resolve()


def test_openable_checks_place_kind_and_content(tmp_path):
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.7\n...")
    (tmp_path / "fake.pdf").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 64)
    (tmp_path / "run.sh").write_text("#!/bin/sh\nrm -rf ~\n")
    (tmp_path / "notes.txt").write_text("crack measured 2 mm\n")
    assert media.openable(tmp_path, "doc.pdf") == (tmp_path / "doc.pdf").resolve()
    assert media.openable(tmp_path, "notes.txt") is not None
    for ref in ("fake.pdf", "run.sh", "/etc/passwd", "../x.pdf", "missing.pdf"):
        assert media.openable(tmp_path, ref) is None
        assert media.refusal_reason(tmp_path, ref)
    with pytest.raises(media.MediaRefused, match="outside"):
        media.resolve_media(tmp_path, "../../etc/passwd")
    with pytest.raises(media.MediaRefused, match="NUL"):
        media.resolve_media(tmp_path, "doc.pdf\x00.jpg")


def test_layers_outside_the_folder_are_named(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (tmp_path / "scan.laz").write_bytes(b"x")
    (folder / "inside.laz").write_bytes(b"x")
    doc = {"format": "realscene-project", "schema_version": 1, "annotations": [],
           "measurements": [], "layers": [{"path": "inside.laz"}, {"path": "../scan.laz"},
                                          {"path": "/etc/hostname", "name": "host"}]}
    (folder / "p.json").write_text(json.dumps(doc))
    p = Project.load(folder / "p.json")
    assert len(p.warnings) == 2
    assert "'../scan.laz'" in p.warnings[0] and "'host'" in p.warnings[1]
    assert p.absolute("../scan.laz") == (tmp_path / "scan.laz").resolve()  # still works


# ---------------------------------------------------------------------------------------
# 2. CSV safe in spreadsheets, round trips exact
# ---------------------------------------------------------------------------------------

RISKY = ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx",
         "'quoted", "'=not a formula", "''", "'", "plain", "", "-", "=", "50%"]


def test_csv_cells_are_neutralised_and_round_trip(tmp_path):
    p = make_project(tmp_path)
    anns = []
    for i, text in enumerate(RISKY):
        anns.append(Annotation("point", [[1.0 * i, -2.5, -3.0]], title=text,
                               description=text + " desc", author=text, tags=[text, "ok"],
                               media=[text] if text else [], id=f"{text}#{i}",
                               category="crack"))
    p.annotations = anns
    out = exchange.export(p, "csv", tmp_path / "a.csv")
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    header = rows[0]
    for row in rows[1:]:
        for name, cell in zip(header, row, strict=True):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    titles = [r[header.index("title")] for r in rows[1:]]
    assert titles[0] == "'" + RISKY[0] and titles[RISKY.index("'quoted")] == "''quoted"
    back = exchange.read_file(out).annotations
    assert [a.to_dict() for a in back] == [a.to_dict() for a in anns]


def test_measurement_csv_keeps_negative_numbers(tmp_path):
    p = make_project(tmp_path)
    p.measurements = [Measurement("height_difference", [[0, 0, 5.0], [0, 0, 2.0]],
                                  label="-drop")]
    table = list(csv.DictReader(io.StringIO(exchange.measurements_to_csv(p))))
    assert float(table[0]["value"]) == -3.0 and table[0]["value"].startswith("-")
    assert table[0]["label"] == "'-drop"


# ---------------------------------------------------------------------------------------
# 3. every bad project (and annotation file) is one clear error
# ---------------------------------------------------------------------------------------

GOOD = {"format": "realscene-project", "schema_version": 1,
        "layers": [{"path": "scan.laz", "display": {"point_size": 2.0, "opacity": 1.0}}],
        "annotations": [{"id": "a1", "kind": "point", "points": [[1.5, 2.5, 3.5]],
                         "title": "ok", "media": []}],
        "measurements": []}


def _doc_text(**replace) -> str:
    text = json.dumps(GOOD)
    for old, new in replace.items():
        old = {"coord": "3.5", "title": '"ok"', "path": '"scan.laz"', "media": "[]",
               "size": "2.0", "opacity": "1.0"}[old]
        assert old in text
        text = text.replace(old, new, 1)
    return text


BAD_PROJECTS = [
    ("deep", '{"format": "realscene-project", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "nested too deeply"),
    ("digits", _doc_text(coord="1" * 5000), "thousands of digits"),
    ("bigint", _doc_text(coord="9" * 400), "annotations/0/points/0/2"),
    ("overflow", _doc_text(coord="1e400"), "annotations/0/points/0/2: inf is not a finite"),
    ("nan", _doc_text(coord="NaN"), "annotations/0/points/0/2: nan is not a finite"),
    ("infinity", _doc_text(coord="-Infinity"), "annotations/0/points/0/2: -inf"),
    ("surrogate", _doc_text(title='"bad \\udc80 text"'), "annotations/0/title: text"),
    ("nul_layer", _doc_text(path='"scan\\u0000.laz"'), "layers/0/path: the path contains "
     "a NUL byte"),
    ("nul_media", _doc_text(media='["a\\u0000.jpg"]'), "annotations/0/media/0"),
    ("point_size", _doc_text(size="-5"), "layers/0/display/point_size"),
    ("opacity", _doc_text(opacity="7"), "layers/0/display/opacity"),
    ("colour", _doc_text(size='2, "solid_color": "banana"'), "display/solid_color"),
    ("mode", _doc_text(size='2, "color_mode": "sparkle"'), "display/color_mode"),
    ("colormap", _doc_text(size='2, "colormap": "banana"'), "display/colormap"),
    ("deep_display", _doc_text(size='2, "extra": ' + "[" * 50 + "]" * 50),
     "display/extra"),
    ("fifo", None, "not a regular file"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, text, message", BAD_PROJECTS, ids=[b[0] for b in BAD_PROJECTS])
def test_bad_projects_are_one_clear_error(tmp_path, capsys, name, text, message):
    path = tmp_path / f"{name}.realscene.json"
    if text is None:
        os.mkfifo(path)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        Project.load(path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    code, out, err = _run(capsys, "annotations", path, "--export", "csv", "-o",
                          tmp_path / "out.csv")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"realscene: error: {path}: ")
    assert not (tmp_path / "out.csv").exists()


def test_the_good_document_opens():
    assert first_schema_error(json.loads(_doc_text())) is None


def test_unsavable_text_in_memory_is_refused_on_save_not_written(tmp_path):
    p = make_project(tmp_path)
    p.save()
    before = p.path.read_bytes()
    p.annotations[1].title = "bad \udc80"
    with pytest.raises(ProjectError, match=r"annotations/1/title") as info:
        p.save()
    assert str(info.value).startswith(str(p.path))
    assert p.path.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_display_schema_matches_what_the_viewer_accepts():
    from heritage.project import project_schema
    from viewer.colormaps import COLORMAP_ALIASES, COLORMAPS
    from viewer.scene import (
        COLOR_MODES_FEATURES,
        COLOR_MODES_MESH,
        COLOR_MODES_POINTS,
        COLOR_MODES_TILES,
    )

    display = project_schema()["$defs"]["display"]["properties"]
    # every built-in map, reversed too (the change layers draw with rdbu_r), and aliases
    assert set(display["colormap"]["enum"]) == (set(COLORMAPS) | {f"{c}_r" for c in COLORMAPS}
                                                | set(COLORMAP_ALIASES))
    assert set(display["color_mode"]["enum"]) == {*COLOR_MODES_POINTS, *COLOR_MODES_MESH,
                                                  *COLOR_MODES_FEATURES, "attribute",
                                                  *COLOR_MODES_TILES}


@pytest.mark.parametrize("mutate", [
    lambda d: None,
    lambda d: d["annotations"][0].update(points=[[1, 2]]),
    lambda d: d["annotations"][0].update(kind="blob"),
    lambda d: d["annotations"][0].update(color=[1, 2, 300]),
    lambda d: d["annotations"][0].update(view={"position": [0, 0, 0]}),
    lambda d: d["layers"][0]["display"].update(point_size=0),
    lambda d: d["layers"][0]["display"].update(contrast=[2, 98]),
    lambda d: d["layers"][0].update(transform=[[1, 0, 0, 0]] * 4),
    lambda d: d.update(tours=[{"name": "t", "stops": [{"duration": -1}]}]),
    lambda d: d.update(schema_version=1.5),
])
def test_compiled_validator_agrees_with_the_reference(mutate):
    d = json.loads(_doc_text())
    mutate(d)
    reference = sorted(reference_validator().iter_errors(d), key=lambda e: list(e.path))
    ours = first_schema_error(d)
    assert (ours is None) == (not reference)
    if reference:
        assert ours[0] == ("/".join(map(str, reference[0].path)) or "(top level)")


GEO_POINT = '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2, COORD]}, '\
            '"properties": {"title": TITLE}}'


@pytest.mark.parametrize("name, text, message", [
    ("deep.geojson", '{"type": "FeatureCollection", "features": ' + "[" * 100_000,
     "nested too deeply"),
    ("digits.geojson", GEO_POINT.replace("COORD", "7" * 5000).replace("TITLE", '"t"'),
     "thousands of digits"),
    ("nan.geojson", GEO_POINT.replace("COORD", "NaN").replace("TITLE", '"t"'),
     "geometry/coordinates/2"),
    ("sur.geojson", GEO_POINT.replace("COORD", "3").replace("TITLE", '"\\ud800"'),
     "properties/title"),
    ("nan.jsonld", '{"type": "Annotation", "target": {"selector": {"type": '
     '"PointSelector", "x": 1, "y": 2, "z": Infinity}}}', "target/selector/z"),
    ("long.csv", "id,kind,wkt,description\n1,point,POINT Z (1 2 3)," + "x" * (2 << 20)
     + "\n", "longer than 1,048,576 characters"),
    ("nul.csv", "id,kind,wkt,media\n1,point,POINT Z (1 2 3),a\x00b.jpg\n", "NUL"),
])
def test_bad_annotation_files_are_one_clear_error(tmp_path, capsys, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExchangeError, match=re.escape(message)) as info:
        exchange.read_file(path)
    assert str(info.value).startswith(str(path))
    p = make_project(tmp_path)
    p.save()
    code, out, err = _run(capsys, "annotations", p.path, "--import", path, "-o",
                          tmp_path / "new.json")
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(path) in err


def test_long_csv_fields_below_the_limit_are_read(tmp_path):
    p = make_project(tmp_path)
    p.annotations[0].description = "long " * 100_000  # 500,000 characters
    back = exchange.read_file(exchange.export(p, "csv", tmp_path / "long.csv")).annotations
    assert back[0].description == p.annotations[0].description


# ---------------------------------------------------------------------------------------
# 4. saving
# ---------------------------------------------------------------------------------------


def test_output_naming_an_input_is_refused(tmp_path, capsys):
    p = make_project(tmp_path)
    p.save()
    before = p.path.read_bytes()
    link = tmp_path / "link.json"
    link.symlink_to(p.path)
    other = tmp_path / "sub" / ".." / p.path.name
    (tmp_path / "sub").mkdir()
    for out in (p.path, link, other):
        code, _, err = _run(capsys, "annotations", p.path, "--export", "csv", "-o", out)
        assert code == 2 and "is the input" in err and len(err.strip().splitlines()) == 1
    imp = exchange.export(p, "geojson", tmp_path / "a.geojson")
    imp_before = imp.read_bytes()
    code, _, err = _run(capsys, "annotations", p.path, "--import", imp, "-o", imp)
    assert code == 2 and "is the input" in err
    assert p.path.read_bytes() == before and imp.read_bytes() == imp_before
    with pytest.raises(ExchangeError, match="project file itself"):
        exchange.export(p, "csv", link)
    assert p.path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664])
def test_saving_keeps_permissions_and_owner(tmp_path, mode):
    p = make_project(tmp_path)
    p.save()
    os.chmod(p.path, mode)
    if os.geteuid() == 0:
        os.chown(p.path, 4321, 4322)
    p.title = "changed"
    p.save()
    st = os.stat(p.path)
    assert stat.S_IMODE(st.st_mode) == mode
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (4321, 4322)
    exchange.export(p, "csv", tmp_path / "x.csv")
    os.chmod(tmp_path / "x.csv", 0o600)
    exchange.export(p, "csv", tmp_path / "x.csv")
    assert stat.S_IMODE(os.stat(tmp_path / "x.csv").st_mode) == 0o600


def test_new_files_get_the_umask_default(tmp_path):
    old = os.umask(0o027)
    try:
        p = make_project(tmp_path)
        p.save()
        out = exchange.export(p, "geojson", tmp_path / "new.geojson")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(p.path).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temp_files_are_cleaned_and_a_complete_one_recovered(tmp_path):
    p = make_project(tmp_path)
    p.save()
    name = p.path.name
    dead = _dead_pid()
    torn = tmp_path / f".{name}.{dead}-0a1b2c3d4e5f.tmp"
    torn.write_text('{"format": "realscene-pro')
    old_style = tmp_path / f".{name}.k2j_x9a1.tmp"  # tempfile.mkstemp, earlier versions
    old_style.write_text("{}")
    os.utime(old_style, (time.time() - 7200,) * 2)
    recovery_tmp = tmp_path / f".{recovery_path(p.path).name}.{dead}-ffff00001111.tmp"
    recovery_tmp.write_text("{")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        running = tmp_path / f".{name}.{live.pid}-123456abcdef.tmp"
        running.write_text("{")  # a save still running in another process
        unrelated = tmp_path / ".other.json.123-abc.tmp"
        unrelated.write_text("{")
        stale = stale_temp_files(p.path)
        assert set(stale) == {torn, old_style, recovery_tmp}
        p.save()
        assert not torn.exists() and not old_style.exists() and not recovery_tmp.exists()
        assert running.exists() and unrelated.exists()
    finally:
        live.kill()
        live.wait()
    # a save killed after its temp file was complete: offered for recovery at next load
    p.title = "the newest state"
    complete = tmp_path / f".{name}.{dead}-abcdefabcdef.tmp"
    complete.write_text(p.to_json(), encoding="utf-8")
    future = time.time() + 5
    os.utime(complete, (future, future))
    assert recovery_candidate(p.path) is None
    Project.load(p.path)
    assert not complete.exists()
    rec = recovery_candidate(p.path)
    assert rec is not None and Project.load(rec).title == "the newest state"
    assert clean_stale_temp_files(p.path) == []


def test_save_errors_name_the_project_not_the_temp_file(tmp_path, monkeypatch):
    p = make_project(tmp_path)
    p.save()
    before = p.path.read_bytes()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the disk fills up during the save
    with pytest.raises(ProjectError) as info:
        p.save()
    assert str(info.value).startswith(f"{p.path}: cannot save: No space left on device")
    assert ".tmp" not in str(info.value)
    with pytest.raises(OSError) as info2:
        exchange.export(p, "csv", tmp_path / "x.csv")
    assert info2.value.filename == str(tmp_path / "x.csv")
    monkeypatch.undo()
    assert p.path.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


# ---------------------------------------------------------------------------------------
# 5. scale: exports are streamed
# ---------------------------------------------------------------------------------------


def _many(tmp_path: Path, n: int) -> Project:
    p = Project(path=tmp_path / "many.json", crs="EPSG:2056")
    for i in range(n):
        p.annotations.append(Annotation(
            "polygon", [[2680000.0 + i, 1250000.0, 400.0], [2680001.0 + i, 1250000.5, 401.0],
                        [2680000.5 + i, 1250002.0, 402.0]],
            title=f"Crack {i} near the portal", description="Hairline crack below the "
            "cornice; see photo", category="crack", condition="poor", tags=["n", "w"],
            media=[f"photos/p{i}.jpg"], id=f"a{i:06d}"))
    return p


@pytest.mark.parametrize("fmt", ["csv", "geojson", "webanno"])
def test_export_memory_does_not_grow_with_the_project(tmp_path, fmt):
    # measured (tracemalloc peak, 20,000 annotations): streamed 0.04 MB (GeoJSON) to
    # 0.4 MB (Web Annotation); building the whole text first took 14 MB (CSV) to 370 MB
    # (Web Annotation), growing with every annotation
    p = _many(tmp_path, 20_000)
    tracemalloc.start()
    try:
        out = exchange.export(p, fmt, tmp_path / f"out.{fmt}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.stat().st_size > 5_000_000
    assert peak < 4_000_000, f"{peak:,} bytes at peak"
