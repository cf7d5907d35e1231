"""Offline web exhibit (``--format web``): a folder a museum kiosk or a tourism page serves.

The folder holds ``index.html`` (our page: hotspots, tour, 中文 / English), ``model.glb``
(:mod:`heritage.exhibits.glb`), ``model.glb.js`` (the same bytes as base64 in a classic
script, for pages opened from ``file://``, where browsers refuse ``fetch``), ``media/``
(annotation photos re-encoded from their pixels by :func:`heritage.media.embeddable_image`,
so only decoded images from inside the project folder travel, without metadata) and
``viewer/`` (Google's ``<model-viewer>`` UMD build with its licences, copied from
``web_assets/``). Nothing is loaded from the network: the page uses relative paths only,
and the decoders model-viewer would fetch from a CDN for Draco/KTX2 content are pointed
inside the folder.

Coordinates: the GLB is in glTF's frame (Y up, metres) relative to the source origin:
scene ``(x, y, z)`` -> glTF ``(x - ox, z - oz, -(y - oy))``. Hotspot ``data-position`` and
the tour's camera targets and orbits are given in that frame (:func:`model_frame`).

Tours: every stop goes where :func:`heritage.model.stop_camera` says (a camera stored in
the stop, its saved view, its annotation's view, else the annotation framed as a tap on its
hotspot frames it); the page's tour bar shows the stop's title (its own, the view's name or
the annotation's title) and the caption written for it, and an annotation stop opens the
annotation's panel.

Text: the page's own words and the vocabulary terms (categories, condition grades) come in
English and Simplified Chinese (the visitor toggles); what the team wrote (titles,
descriptions) is shown as written, in any script. No Qt, no VTK.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from heritage import vocabulary
from heritage.media import MediaRefused, embeddable_image
from heritage.model import DEFAULT_CATEGORIES, Vocabulary, stop_camera

from .source import (
    ExhibitSource,
    ExportError,
    ExportResult,
    ProgressFn,
    checkpoint,
    scaled,
)

ASSETS = Path(__file__).with_name("web_assets")
#: the vendored viewer and its licences (copied into ``viewer/`` of every exhibit)
VIEWER_FILES = ("model-viewer-umd.min.js", "LICENSE-model-viewer.txt", "THIRD_PARTY_LICENSES.txt")
#: a file naming the folder as ours: only such a folder is replaced by a new export
MARKER = ".realscene-exhibit"
#: photos per annotation copied into the exhibit
MAX_PHOTOS = 4
#: long side of a copied photo (pixels)
PHOTO_PX = 1600

#: the page's own words (data-i18n keys), English and Simplified Chinese
UI_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "loading": "Loading the model…",
        "load_failed": "The model could not be shown.",
        "tour": "Tour",
        "start_tour": "Start tour",
        "end_tour": "End tour",
        "previous": "◀ Previous",
        "next": "Next ▶",
        "stop_of": "Stop {i} of {n}",
        "close": "Close",
        "reset_view": "Reset view",
        "fullscreen": "Full screen",
        "category": "Category",
        "condition": "Condition",
        "observed": "Observed",
        "not_assessed": "Not assessed",
        "points_of_interest": "Points of interest",
        "help": "Drag to turn, pinch or scroll to zoom, tap a number to read about it.",
        "overview": "Overview",
    },
    "zh": {
        "loading": "正在加载模型…",
        "load_failed": "无法显示模型。",
        "tour": "导览",
        "start_tour": "开始导览",
        "end_tour": "结束导览",
        "previous": "◀ 上一站",
        "next": "下一站 ▶",
        "stop_of": "第 {i} 站，共 {n} 站",
        "close": "关闭",
        "reset_view": "复位视图",
        "fullscreen": "全屏",
        "category": "类别",
        "condition": "完损等级",
        "observed": "勘察日期",
        "not_assessed": "未评定",
        "points_of_interest": "兴趣点",
        "help": "拖动旋转，双指或滚轮缩放，点击编号查看介绍。",
        "overview": "全景",
    },
}


def model_frame(points: Any, origin: Any) -> np.ndarray:
    """Scene coordinates (..., 3) -> the GLB's glTF frame (Y up) relative to ``origin``."""
    p = np.asarray(points, dtype=np.float64) - np.asarray(origin, dtype=np.float64)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


def orbit(position: Any, target: Any) -> tuple[float, float, float]:
    """model-viewer's camera orbit (theta°, phi°, radius m) of a camera at ``position``
    looking at ``target``, both in the glTF frame: theta turns about +Y from +Z towards +X,
    phi is measured down from +Y."""
    d = np.asarray(position, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    r = float(np.linalg.norm(d))
    if r < 1e-9:
        return 0.0, 90.0, 1.0
    theta = math.degrees(math.atan2(d[0], d[2]))
    phi = math.degrees(math.acos(max(-1.0, min(1.0, d[1] / r))))
    return theta, phi, r


def _annotation_camera(ann: Any) -> tuple[np.ndarray, np.ndarray]:
    """(position, focal point) in the scene CRS: the annotation's saved view, else an
    oblique view from the south-east framing it (as the window's fly-to does)."""
    if ann.view:
        return (np.asarray(ann.view["position"], dtype=np.float64),
                np.asarray(ann.view["focal_point"], dtype=np.float64))
    pts = np.asarray(ann.points, dtype=np.float64)
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
    distance = max(15.0, 2.5 * float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0))))
    direction = np.array([0.5, -0.65, 0.57])
    direction /= np.linalg.norm(direction)
    return centre + distance * direction, centre


def _camera_attrs(position: Any, target: Any, origin: Any) -> dict[str, str]:
    pos, tgt = model_frame(position, origin), model_frame(target, origin)
    theta, phi, r = orbit(pos, tgt)
    return {"orbit": f"{theta:.3f}deg {phi:.3f}deg {r:.3f}m",
            "target": f"{tgt[0]:.3f}m {tgt[1]:.3f}m {tgt[2]:.3f}m", "radius": r}


def _terms(key: str | None, term_fn: Any, labels: dict) -> dict[str, str]:
    """{language: term} of a category or grade key ({} for none)."""
    if not key:
        return {}
    label = labels.get(key, (None,))[0]
    return {lang: term_fn(key, lang, label) for lang in vocabulary.LANGS}


def _copy_photos(source: ExhibitSource, ann: Any, index: int, media_dir: Path,
                 warnings: list[str]) -> list[str]:
    photos: list[str] = []
    for ref in ann.media:
        if len(photos) >= MAX_PHOTOS:
            warnings.append(f"annotation “{ann.title}”: only the first {MAX_PHOTOS} photos "
                            "are in the exhibit")
            break
        if source.project_dir is None:
            warnings.append(f"annotation “{ann.title}”: photo {ref!r} skipped (no project "
                            "folder to read it from)")
            continue
        try:
            image = embeddable_image(source.project_dir, ref, max_px=PHOTO_PX)
        except MediaRefused as exc:
            warnings.append(f"annotation “{ann.title}”: photo {exc} — not in the exhibit")
            continue
        ext = ".png" if image.mime == "image/png" else ".jpg"
        name = f"a{index + 1:03d}-{len(photos) + 1}{ext}"
        media_dir.mkdir(exist_ok=True)
        (media_dir / name).write_bytes(image.data)
        photos.append(f"media/{name}")
    return photos


def exhibit_data(source: ExhibitSource, *, media_dir: Path | None = None,
                 lang: str = "zh", warnings: list[str] | None = None) -> dict[str, Any]:
    """The page's data (JSON-able): hotspots, tours, texts. Copies photos into
    ``media_dir`` when given."""
    warnings = warnings if warnings is not None else []
    origin = source.origin
    voc = source.vocabulary if source.vocabulary is not None else Vocabulary()
    hotspots = []
    index_of: dict[str, int] = {}
    for i, ann in enumerate(source.annotations):
        anchor = model_frame(ann.anchor, origin)
        pos, tgt = _annotation_camera(ann)
        color = ann.color or voc.categories.get(ann.category, DEFAULT_CATEGORIES["other"])[1]
        photos = (_copy_photos(source, ann, i, media_dir, warnings)
                  if media_dir is not None else [])
        index_of[ann.id] = len(hotspots)
        hotspots.append({
            "id": ann.id, "number": len(hotspots) + 1,
            "position": [round(float(v), 4) for v in anchor],
            "title": ann.title, "description": ann.description,
            "category": _terms(ann.category, vocabulary.category_term, voc.categories),
            "condition": _terms(ann.condition, vocabulary.condition_term, voc.conditions),
            "observed": (ann.observed or "")[:10],
            "color": "#%02x%02x%02x" % tuple(int(c) for c in color[:3]),
            "photos": photos, "camera": _camera_attrs(pos, tgt, origin),
        })
    tour_list = []
    radius = 1.0
    for tour in source.tours:
        stops = []
        for stop in tour.stops:
            # the one camera of a stop (heritage.model.stop_camera): a camera stored in the
            # stop ("Add current view"), its saved view, or its annotation's; an annotation
            # without a saved view is framed as a tap on its hotspot frames it
            camera, title, ann = stop_camera(stop, source.views, source.annotation, None)
            number = index_of.get(ann.id) if ann is not None else None
            h = hotspots[number] if number is not None else None
            if camera is not None:
                cam = _camera_attrs(camera["position"], camera["focal_point"], origin)
            elif h is not None:
                cam = h["camera"]
            else:
                warnings.append(f"tour “{tour.name}”: a stop whose view or annotation is not "
                                "in the exhibit was left out")
                continue
            stops.append({"title": title or "", "caption": stop.caption,
                          "hotspot": h["number"] if h is not None else None, "camera": cam,
                          "duration": float(stop.duration)})
            radius = max(radius, cam["radius"])
        if stops:
            tour_list.append({"name": tour.name, "stops": stops})
        else:
            warnings.append(f"tour “{tour.name}” has no stop in the exhibit: left out")
    for h in hotspots:
        radius = max(radius, h["camera"]["radius"])
    bounds = source.bounds()
    if bounds is not None:
        radius = max(radius, 4.0 * float(np.linalg.norm(bounds[1] - bounds[0])))
    home = None
    if source.views:  # the project's first saved view opens the exhibit
        cam = source.views[0].camera
        home = _camera_attrs(cam["position"], cam["focal_point"], origin)
        radius = max(radius, home["radius"])
    return {"title": source.title or "", "lang": vocabulary.check_lang(lang),
            "ui": UI_TEXT, "hotspots": hotspots, "tours": tour_list, "home": home,
            "point_size": max([float(la.point_size) for la in source.layers
                               if la.kind == "points"] or [2.0]),
            "max_radius": round(radius * 1.5, 3)}


def page_text(data: dict[str, Any]) -> str:
    """Every text the page can show (both languages): what the embedded font must draw."""
    parts = [data["title"], " ·:#0123456789"]
    for words in data["ui"].values():
        parts.extend(words.values())
    for h in data["hotspots"]:
        parts += [h["title"], h["description"], h["observed"], *h["category"].values(),
                  *h["condition"].values()]
    for tour in data["tours"]:
        parts.append(tour["name"])
        for stop in tour["stops"]:
            parts += [stop["title"], stop["caption"]]
    return "".join(parts)


def _font_css(text: str, folder: Path, warnings: list[str]) -> str:
    """An ``@font-face`` (as a data: URL: browsers refuse font files from ``file://``)
    with the characters of ``text`` from an installed font that has them all
    (:func:`heritage.fonts.font_for`: Noto Sans CJK SC where installed), subset by
    fontTools; its copyright and licence go to ``fonts/FONT-LICENSE.txt``. A kiosk
    without Chinese fonts still draws every word. "" (and a warning) without a font."""
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    from heritage import fonts

    font = fonts.font_for(text)
    if font is None:
        missing = fonts.unreachable_chars(text)
        warnings.append("no installed font has every character of the page ("
                        + missing[:8] + "…): the visitor's own fonts are used "
                        "(install fonts-noto-cjk to embed one)")
        return ""
    options = subset.Options()
    options.flavor = "woff"  # zlib: no brotli needed
    options.layout_features = ["*"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    ttf = TTFont(str(font.path), fontNumber=font.index, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=fonts.drawn_chars(text) + " ")
    subsetter.subset(ttf)
    names = ttf["name"]

    def name(i: int) -> str:
        rec = names.getName(i, 3, 1, 0x409) or names.getName(i, 1, 0, 0)
        return str(rec) if rec is not None else ""

    buf = io.BytesIO()
    ttf.flavor = "woff"
    ttf.save(buf)
    (folder / "fonts").mkdir(exist_ok=True)
    (folder / "fonts" / "FONT-LICENSE.txt").write_text(
        f"The page embeds a subset of {font.family} ({font.path.name}) for the characters "
        f"it shows.\n\nCopyright: {name(0)}\n\nLicence: {name(13)}\n\n{name(14)}\n",
        encoding="utf-8")
    b64 = base64.b64encode(buf.getvalue()).decode("ascii")
    return ("@font-face { font-family: \"RealScene Page\"; font-display: block; "
            f"src: url(data:font/woff;base64,{b64}) format(\"woff\"); }}\n"
            ":root { font-family: \"RealScene Page\", " + _FONT_STACK + "; }")


_FONT_STACK = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
               'sans-serif')


def _page(data: dict[str, Any], font_css: str = "") -> str:
    template = (ASSETS / "index.html").read_text(encoding="utf-8")
    # JSON inside <script>: "</" and U+2028/9 escaped so no text can end the script
    blob = (json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    values = {"TITLE": html.escape(data["title"] or "RealScene"),
              "LANG": "zh-CN" if data["lang"] == "zh" else "en",
              "FONT_CSS": font_css, "DATA": blob}
    # one pass: a user's text containing "{{LANG}}" stays as written
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: values[m.group(1)], template)


def build_page(source: ExhibitSource, out: str | os.PathLike, glb: str | os.PathLike, *,
               lang: str = "zh", idle_seconds: float = 180.0,
               progress: ProgressFn | None = None,
               result: ExportResult | None = None) -> ExportResult:
    """Write the exhibit folder ``out`` around the GLB file ``glb`` (already made from
    ``source``, in the frame of :func:`model_frame`). ``out`` must not exist or be empty;
    :func:`export` handles replacing an earlier exhibit."""
    out = Path(out)
    result = result or ExportResult(path=out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint(progress, 0.0, "copying the viewer")
    viewer = out / "viewer"
    viewer.mkdir(exist_ok=True)
    for name in VIEWER_FILES:
        shutil.copyfile(ASSETS / name, viewer / name)
    for name in ("exhibit.css", "exhibit.js"):
        shutil.copyfile(ASSETS / name, out / name)
    checkpoint(progress, 0.2, "copying the model")
    glb = Path(glb)
    if glb.resolve() != (out / "model.glb").resolve():
        shutil.copyfile(glb, out / "model.glb")
    raw = (out / "model.glb").read_bytes()
    with open(out / "model.glb.js", "w", encoding="ascii") as fh:
        fh.write("window.REALSCENE_MODEL_B64=\"")
        for start in range(0, len(raw), 3 * 1 << 20):
            fh.write(base64.b64encode(raw[start:start + (3 * 1 << 20)]).decode("ascii"))
        fh.write("\";\n")
    checkpoint(progress, 0.5, "copying photos")
    data = exhibit_data(source, media_dir=out / "media", lang=lang,
                        warnings=result.warnings)
    data["idle_seconds"] = float(idle_seconds)
    checkpoint(progress, 0.8, "embedding the font")
    font_css = _font_css(page_text(data), out, result.warnings)
    (out / "index.html").write_text(_page(data, font_css), encoding="utf-8")
    (out / MARKER).write_text("RealScene web exhibit\n", encoding="utf-8")
    result.counts.update({"hotspots": len(data["hotspots"]), "tours": len(data["tours"]),
                          "tour_stops": sum(len(t["stops"]) for t in data["tours"]),
                          "photos": sum(len(h["photos"]) for h in data["hotspots"])})
    checkpoint(progress, 1.0, "exhibit written")
    return result


def export(source: ExhibitSource, out: str | os.PathLike,
           progress: ProgressFn | None = None, *, triangles: int | None = None,
           points: int | None = None, lang: str = "zh", idle_seconds: float = 180.0,
           **glb_options: Any) -> ExportResult:
    """Export ``source`` as an offline web exhibit folder ``out``: the GLB through
    :func:`heritage.exhibits.glb.export` (``triangles`` / ``points``: its budgets; other
    ``glb_options`` go to it too), then the page around it. ``lang`` ("zh" or "en") is the
    language the page opens in and returns to after ``idle_seconds`` without a touch.
    The tours are those of ``source`` (the caller chooses).
    Written into a temporary sibling folder and moved into place at the end, so a
    cancelled or failed export leaves nothing under ``out``; an existing ``out`` is
    replaced only when it is an earlier exhibit (or empty)."""
    from . import glb as glb_export

    try:
        lang = vocabulary.check_lang(lang)
        idle_seconds = float(idle_seconds)
        if not 10.0 <= idle_seconds <= 86400.0:
            raise ValueError
    except (TypeError, ValueError):
        raise ExportError(f"bad web exhibit option lang={lang!r} / idle_seconds="
                          f"{idle_seconds!r}",
                          "lang is zh or en; idle_seconds 10 to 86400") from None
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise ExportError(f"{out} is a file", "a web exhibit is a folder: choose a new name")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise ExportError(f"{out} is a folder with other files in it",
                              "choose a new or empty folder for the exhibit")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        glb_result = glb_export.export(source, tmp / "model.glb",
                                       progress=scaled(progress, 0.0, 0.7),
                                       triangles=triangles, points=points, **glb_options)
        result = ExportResult(path=out, counts=dict(glb_result.counts),
                              warnings=list(glb_result.warnings))
        build_page(source, tmp, tmp / "model.glb", lang=lang, idle_seconds=idle_seconds,
                   progress=scaled(progress, 0.7, 1.0), result=result)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / "x")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
        return result
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["MARKER", "UI_TEXT", "build_page", "exhibit_data", "export", "model_frame",
           "orbit"]
