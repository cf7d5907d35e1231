"""Legends and colour bars of the coloured layers, drawn over the 3D view.

:func:`overlay_for_layer` decides what a layer shows (plain data, no VTK): a colour bar
for scalar colourings (intensity, elevation, numeric attributes of points or objects), a
legend of classes or categories, or nothing; :func:`overlays_for` lists them for every
visible layer. :func:`draw_legend` draws one compactly, as QGIS's layer legend, at the UI
font's size (Pillow, CJK fonts through :mod:`heritage.fonts`) and :func:`stack_boxes`
places them in the lower right corner, never over the view's centre. :class:`Overlays`
shows them on a pyvista plotter, in a renderer of their own (render window layer 1), so
eye-dome lighting does not shade them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from loaders import FeatureMesh

from . import colors, features
from .scene import Layer, Scene

#: entries shown at most: categories of objects / classes of points
MAX_CATEGORY_ENTRIES = 14
MAX_CLASS_ENTRIES = 20


@dataclass
class Overlay:
    """``kind`` "bar" (``info``: the colour bar's range and map) or "legend" (``items``:
    [label, [r, g, b] in 0..1]); ``name``: what the colours show (a legend's subtitle)."""

    kind: str
    info: colors.ScalarInfo | None = None
    items: list = field(default_factory=list)
    name: str = ""


def overlay_for(scene: Scene) -> Overlay | None:
    """What the view shows for the scene's selected layer, None for nothing."""
    layer: Layer | None = scene.selected
    if layer is None or layer not in scene.layers:
        return None
    return overlay_for_layer(layer)


def overlays_for(scene: Scene) -> list[tuple[str, Overlay]]:
    """(layer name, overlay) of every visible layer that has a legend or colour bar, in
    the scene's layer order: one legend per coloured layer."""
    out = []
    for layer in scene.layers:
        overlay = overlay_for_layer(layer)
        if overlay is not None:
            out.append((str(layer.name), overlay))
    return out


def overlay_for_layer(layer: Layer) -> Overlay | None:
    """What the view shows for ``layer``'s colours, None for nothing (hidden, RGB...)."""
    if not layer.visible:
        return None
    mode = colors.effective_mode(layer)
    if isinstance(layer.data, FeatureMesh) and mode in ("semantic", "type", "attribute"):
        _rgb, legend = features.layer_feature_colors(layer, mode)
        if legend.get("kind") == "numeric":
            info = colors.ScalarInfo(str(legend.get("name", "")), float(legend["min"]),
                                     float(legend["max"]),
                                     str(legend.get("colormap", "viridis")))
            return Overlay("bar", info=info, name=info.name)
        items = [[str(label), [c / 255.0 for c in rgb[:3]]]
                 for label, rgb in legend.get("entries", [])][:MAX_CATEGORY_ENTRIES]
        return Overlay("legend", items=items, name=str(legend.get("name", "") or mode)) \
            if items else None
    if mode == "classification":
        hidden = {int(c) for c in layer.hidden_classes}
        items = [[f"{code} {name}", [c / 255.0 for c in rgb]]
                 for code, name, rgb, _count in colors.class_legend(layer)
                 if code not in hidden][:MAX_CLASS_ENTRIES]
        return Overlay("legend", items=items, name="classification") if items else None
    info = colors.scalar_info(layer)
    return None if info is None else Overlay("bar", info=info, name=info.name)


# -- drawing (Pillow: no VTK) ----------------------------------------------------------------
#: the UI font: 9 pt at 96 dpi (Qt's default on Linux); the window passes its own
UI_FONT_PT = 9.0
#: room between the view's edge and the legends, and between legends, in font pixels
MARGIN_EM, GAP_EM = 0.8, 0.5
#: legends stay in the view's right half (so never over its centre) and at most this
#: fraction of its height (the rest is the data's)
MAX_WIDTH_FRACTION, MAX_HEIGHT_FRACTION = 0.45, 0.62
BACKGROUND = (28, 28, 28, 225)  # nearly opaque: readable over any data, EDL or not
TEXT = (238, 238, 238, 255)
SUBTITLE = (185, 185, 185, 255)
SWATCH_EDGE = (150, 150, 150, 255)
BAR_LABELS = 5


def ui_font_px(point_size: float = UI_FONT_PT, scale: float = 1.0) -> int:
    """Pixel size of a ``point_size`` font at 96 dpi times ``scale`` (the device pixel
    ratio of the window)."""
    return max(6, int(round(point_size * 96.0 / 72.0 * float(scale))))


@dataclass
class LegendPicture:
    """One layer's legend drawn: ``image`` (h, w, 4) uint8 RGBA, rows top down."""

    title: str
    image: Any
    font_warning: str | None = None

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


@functools.lru_cache(maxsize=32)
def _pil_font(path: str, index: int, px: int) -> Any:
    from PIL import ImageFont

    if not path:
        return ImageFont.load_default(size=px)
    return ImageFont.truetype(path, size=px, index=index)


def legend_font(texts: list[str], px: int, what: str = "Legend") -> tuple[Any, str | None]:
    """A Pillow font of ``px`` pixels that draws ``texts`` (CJK included, through
    :func:`heritage.fonts.font_for`); and a one-line warning when no installed font draws
    them all (the font drawing most of them is used)."""
    from heritage import fonts

    text = "".join(texts)
    font = fonts.font_for(text)
    warning = None
    if font is None:
        missing = fonts.unreachable_chars(text)
        bad = next((t for t in texts if any(c in missing for c in t)), text)
        warning = f"{what}: {fonts.no_font_message(bad, missing)}"
        ranked = sorted(fonts.candidates(), key=lambda f: len(fonts.missing_glyphs(text, f)))
        font = ranked[0] if ranked else None
    try:
        if font is not None:
            return _pil_font(str(font.path), int(font.index), int(px)), warning
    except OSError:
        pass
    return _pil_font("", 0, int(px)), warning


def _fit(draw: Any, text: str, font: Any, width: int) -> str:
    """``text``, cut with "…" to ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _bar_labels(info: colors.ScalarInfo) -> list[str]:
    """The colour bar's values, top (maximum) down, with as many decimals as the step
    between them needs (17.2, 13.0, 8.7... not 12.9685)."""
    vmax = info.vmax if info.vmax > info.vmin else info.vmin + 1.0
    step = (vmax - info.vmin) / (BAR_LABELS - 1)
    decimals = min(6, max(0, 1 - math.floor(math.log10(step)))) if step > 0 else 0
    return [f"{vmax - i * step:.{decimals}f}" for i in range(BAR_LABELS)]


def draw_legend(title: str, overlay: Overlay, px: int, max_size: tuple[int, int]
                ) -> LegendPicture | None:
    """``overlay`` drawn compactly, as QGIS's layer legend: the layer's name, what the
    colours mean (classes with swatches, or a colour ramp with five values), text of
    ``px`` pixels on a dark, nearly opaque box no larger than ``max_size`` (w, h):
    longer labels are cut with "…", entries that do not fit are counted ("… 3 more").
    None when not even the title and one entry fit."""
    from PIL import Image, ImageDraw

    max_w, max_h = (int(v) for v in max_size)
    subtitle = overlay.info.name if overlay.kind == "bar" and overlay.info else overlay.name
    labels = (_bar_labels(overlay.info) if overlay.kind == "bar"
              else [str(label) for label, _rgb in overlay.items])
    texts = [title, subtitle or "", *labels]
    font, warning = legend_font(texts, px, "Colour bar" if overlay.kind == "bar" else "Legend")
    ascent, descent = font.getmetrics()
    line = ascent + descent + max(1, px // 6)
    pad = max(3, int(round(px * 0.5)))
    swatch = max(6, int(round(px * 0.9)))
    gap = max(3, px // 2)
    heads = [t for t in (title, subtitle) if t]
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    inner = max_w - 2 * pad
    if inner < swatch + gap + 2 * px:
        return None
    if overlay.kind == "bar":
        bar_h = (BAR_LABELS - 1) * line
        height = 2 * pad + len(heads) * line + bar_h + line
        if height > max_h:
            return None
        rows = labels
    else:
        room = (max_h - 2 * pad - len(heads) * line) // line
        if room < 1:
            return None
        rows = labels
        if len(rows) > room:
            rows = labels[:room - 1] if room > 1 else []
            more = len(labels) - len(rows)
            rows = [*rows, f"… {more} more"]
        height = 2 * pad + (len(heads) + len(rows)) * line
    text_w = max([probe.textlength(t, font=font) for t in heads] +
                 [swatch + gap + probe.textlength(t, font=font) for t in rows])
    width = min(max_w, int(math.ceil(text_w)) + 2 * pad)
    img = Image.new("RGBA", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    y = pad
    for text, fill in zip(heads, (TEXT, SUBTITLE), strict=False):
        draw.text((pad, y), _fit(draw, text, font, width - 2 * pad), font=font, fill=fill)
        y += line
    label_x = pad + swatch + gap
    label_w = width - label_x - pad
    if overlay.kind == "bar":
        lut = np.asarray(colors.colormap_lut(overlay.info.colormap), np.uint8)
        top = y + line // 2
        ramp = lut[np.linspace(len(lut) - 1, 0, bar_h).round().astype(int)]
        img.paste(Image.fromarray(np.repeat(ramp[:, None, :3], swatch, axis=1), "RGB"),
                  (pad, top))
        draw.rectangle((pad, top, pad + swatch - 1, top + bar_h - 1), outline=SWATCH_EDGE)
        for i, text in enumerate(rows):
            cy = top + i * (bar_h - 1) / (BAR_LABELS - 1)
            draw.text((label_x, cy - (ascent + descent) / 2), _fit(draw, text, font, label_w),
                      font=font, fill=TEXT)
    else:
        colours = [rgb for _label, rgb in overlay.items]
        for i, text in enumerate(rows):
            sy = y + (line - swatch) // 2
            if i < len(colours) and not text.startswith("… "):
                rgb = tuple(int(round(float(c) * 255)) for c in colours[i][:3])
                draw.rectangle((pad, sy, pad + swatch - 1, sy + swatch - 1), fill=rgb,
                               outline=SWATCH_EDGE)
            draw.text((label_x, y + (line - ascent - descent) / 2),
                      _fit(draw, text, font, label_w), font=font, fill=TEXT)
            y += line
    return LegendPicture(title, np.asarray(img), warning)


def stack_boxes(sizes: list[tuple[int, int]], view_size: tuple[int, int], margin: int,
                gap: int) -> list[tuple[int, int, int, int] | None]:
    """Where legends of ``sizes`` (w, h) go in a view of ``view_size``: (x, y, w, h) in
    display pixels (origin lower left), stacked upwards from the lower right corner in
    columns that stay in the view's right half and below :data:`MAX_HEIGHT_FRACTION` of
    its height, so they never cover the centre nor each other; None for a legend that
    does not fit."""
    vw, vh = (max(int(v), 1) for v in view_size)
    left_limit = vw / 2.0 + gap  # never reach the centre
    top_limit = max(margin, int(vh * MAX_HEIGHT_FRACTION))
    out: list[tuple[int, int, int, int] | None] = []
    right, y, col_w = vw - margin, margin, 0
    for w, h in sizes:
        if y > margin and y + h > top_limit:  # the column is full: one more to its left
            right, y, col_w = right - col_w - gap, margin, 0
        if right - w < left_limit or y + h > top_limit:
            out.append(None)
            continue
        out.append((right - w, y, w, h))
        y += h + gap
        col_w = max(col_w, w)
    return out


def builtin_font_draws(text: str) -> bool:
    """Whether VTK's built-in fonts (Arial, Courier, Times: Latin) draw ``text``; Latin
    labels keep them, so they look as they always did."""
    return all(ord(c) < 0x250 or 0x2000 <= ord(c) < 0x2070 or c in "²³°×µ·"
               for c in text)


def use_font_for(prop: Any, texts: list[str] | tuple[str, ...], what: str) -> str | None:
    """Set a font file on the VTK text property ``prop`` that draws ``texts`` when the
    built-in fonts cannot (:func:`heritage.fonts.font_for`: Noto Sans CJK SC...). When no
    installed font draws them all, the font drawing the most of them is used and a
    one-line warning (``what``: whose text) is returned; None otherwise."""
    text = "".join(texts)
    if builtin_font_draws(text):
        return None
    from heritage import fonts

    font = fonts.font_for(text)
    warning = None
    if font is None:
        missing = fonts.unreachable_chars(text)
        bad = next((t for t in texts if any(c in missing for c in t)), text)
        warning = f"{what}: {fonts.no_font_message(bad, missing)}"
        ranked = sorted(fonts.candidates(), key=lambda f: len(fonts.missing_glyphs(text, f)))
        font = ranked[0] if ranked else None
        if font is None or len(fonts.missing_glyphs(text, font)) == len(
                fonts.drawn_chars(text)):
            return warning
    path = fonts.single_face_file(font)  # VTK's FreeType reads a file's first face only
    prop.SetFontFamily(prop.GetFontFamilyFromString("File"))
    prop.SetFontFile(str(path))
    return warning


def legend_layout(scene: Scene, view_size: tuple[int, int], font_px: int | None = None
                  ) -> list[tuple[LegendPicture, tuple[int, int, int, int]]]:
    """The legends of ``scene`` drawn and placed for a view of ``view_size``: (picture,
    (x, y, w, h) display box, origin lower left); the ones that do not fit are left
    out. No VTK: tiled stills paste these pictures into the finished image."""
    vw, vh = (max(int(v), 1) for v in view_size)
    px = int(font_px or ui_font_px())
    margin, gap = int(round(px * MARGIN_EM)), int(round(px * GAP_EM))
    max_size = (int(vw * MAX_WIDTH_FRACTION) - margin, int(vh * MAX_HEIGHT_FRACTION) - margin)
    pictures = [p for title, overlay in overlays_for(scene)
                if (p := draw_legend(title, overlay, px, max_size)) is not None]
    boxes = stack_boxes([p.size for p in pictures], (vw, vh), margin, gap)
    return [(p, box) for p, box in zip(pictures, boxes, strict=True) if box is not None]


def paste_legends(image: Any, layout: list[tuple[LegendPicture, tuple[int, int, int, int]]]
                  ) -> None:
    """Blend the legend pictures of ``layout`` into ``image`` ((h, w, 3|4) uint8, rows
    top down) in place, where :func:`legend_layout` placed them."""
    h = image.shape[0]
    for pic, (x, y, w, bh) in layout:
        top = h - y - bh
        rgba = pic.image.astype(np.float32)
        alpha = rgba[..., 3:4] / 255.0
        region = image[top:top + bh, x:x + w]
        rgb = region[..., :3].astype(np.float32)
        region[..., :3] = np.round(rgba[..., :3] * alpha + rgb * (1.0 - alpha)).astype(np.uint8)
        if image.shape[2] == 4:
            a = region[..., 3:4].astype(np.float32) / 255.0
            region[..., 3:4] = np.round(255.0 * (alpha + a * (1.0 - alpha))).astype(np.uint8)


class Overlays:
    """The legends and colour bars a plotter shows for a scene: one per coloured,
    visible layer (:func:`legend_layout`), in the lower right corner. Each is drawn by
    a renderer of its own in the render window's layer 1 whose viewport is the legend's
    box: it clears the depth buffer there, so eye-dome lighting (which shades by depth
    after the frame, :mod:`viewer.edl`) leaves the legends as drawn. Window
    screenshots and CLI renders draw the whole render window and so include them; tiled
    stills hide them and paste :func:`legend_layout`'s pictures into the whole image."""

    def __init__(self, plotter: Any, on_warning: Any = None) -> None:
        self.plotter = plotter
        #: ``on_warning(text)``: told once per distinct problem (text no font can draw)
        self.on_warning = on_warning
        self.font_warning: str | None = None
        #: text size in pixels: the UI font's (the window sets its own, times its
        #: device pixel ratio)
        self.font_px = ui_font_px()
        #: the legends drawn: (LegendPicture, vtkRenderer, (x, y, w, h) display box)
        self.shown: list[tuple[LegendPicture, Any, tuple[int, int, int, int]]] = []
        self._scene: Scene | None = None
        self._size: tuple[int, int] | None = None
        self._observer: tuple[Any, int] | None = None
        #: set by :meth:`set_visible` (False while a tiled still is drawn)
        self.hidden = False
        #: (size, boxes) of the last :meth:`boxes_for` at a size not drawn
        self._boxes_cache: tuple[tuple[int, int], list] | None = None

    def _warn(self, warning: str | None) -> None:
        if warning and warning != self.font_warning and self.on_warning is not None:
            self.on_warning(warning)
        self.font_warning = warning

    def remove(self) -> None:
        ren_win = getattr(self.plotter, "ren_win", None)
        for _pic, ren, _box in self.shown:
            if ren_win is not None:
                ren_win.RemoveRenderer(ren)
        self.shown = []

    def close(self) -> None:
        self.remove()
        self._scene = None
        if self._observer is not None:
            try:
                self._observer[0].RemoveObserver(self._observer[1])
            except Exception:  # noqa: BLE001 - a window already gone
                pass
            self._observer = None

    def view_size(self) -> tuple[int, int]:
        ren_win = getattr(self.plotter, "ren_win", None)
        if ren_win is None:  # the plotter has closed (a resize timer firing late)
            return 1, 1
        w, h = ren_win.GetSize()
        return max(int(w), 1), max(int(h), 1)

    def set_visible(self, visible: bool) -> None:
        """Show or hide the legends (tiled stills paste them instead)."""
        self.hidden = not visible
        for _pic, ren, _box in self.shown:
            ren.SetDraw(bool(visible))

    def update(self, scene: Scene) -> None:
        """Replace what is shown by the legends of ``scene`` (see :func:`legend_layout`)."""
        self.remove()
        self._scene = scene
        self._boxes_cache = None
        if getattr(self.plotter, "ren_win", None) is None:
            return  # the plotter has closed: nothing to draw on
        size = self.view_size()
        self._size = size
        layout = legend_layout(scene, size, self.font_px)
        ren_win = self.plotter.ren_win
        if layout:
            ren_win.SetNumberOfLayers(max(2, ren_win.GetNumberOfLayers()))
            if self._observer is None:
                self._observer = (ren_win, ren_win.AddObserver("StartEvent", self._on_start))
        for pic, box in layout:
            from vtkmodules.vtkRenderingCore import vtkRenderer

            ren = vtkRenderer()
            ren.SetLayer(1)
            ren.InteractiveOff()
            ren.SetPreserveDepthBuffer(False)  # depth 1 under the legend: no EDL there
            ren.SetDraw(not self.hidden)
            ren.AddViewProp(_image_actor(pic.image))
            ren_win.AddRenderer(ren)
            self.shown.append((pic, ren, box))
        self._place(size)
        self._warn(next((p.font_warning for p, _box in layout if p.font_warning), None))

    def boxes_for(self, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
        """The legends' (x, y, w, h) display boxes in a view of ``size``, drawn or not
        (a tiled still hides them while its tiles are drawn and pastes them at the end,
        where :func:`legend_layout` puts them): what the labels keep off."""
        if self._scene is None:
            return []
        size = (max(int(size[0]), 1), max(int(size[1]), 1))
        if size == self._size:
            return [box for _pic, _ren, box in self.shown]
        if self._boxes_cache is None or self._boxes_cache[0] != size:
            boxes = [box for _pic, box in legend_layout(self._scene, size, self.font_px)]
            self._boxes_cache = (size, boxes)
        return list(self._boxes_cache[1])

    def _place(self, size: tuple[int, int]) -> None:
        vw, vh = size
        for _pic, ren, (x, y, w, h) in self.shown:
            ren.SetViewport(x / vw, y / vh, (x + w) / vw, (y + h) / vh)

    def _on_start(self, *_: Any) -> None:
        """Before a frame: a window of another size (a screenshot at another size, a
        resize before the window's own refresh) gets the legends placed for it."""
        if self._scene is None or not self.shown or self.hidden:
            return
        size = self.view_size()
        if size != self._size:
            self.update(self._scene)


def _image_actor(image: Any) -> Any:
    """A vtkActor2D drawing the RGBA ``image`` (rows top down) pixel for pixel."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkRenderingCore import vtkActor2D, vtkImageMapper

    h, w = image.shape[:2]
    data = vtkImageData()
    data.SetDimensions(w, h, 1)
    scalars = numpy_to_vtk(np.ascontiguousarray(image[::-1]).reshape(-1, image.shape[2]),
                           deep=True)
    scalars.SetName("legend")
    data.GetPointData().SetScalars(scalars)
    mapper = vtkImageMapper()
    mapper.SetInputData(data)
    mapper.SetColorWindow(255.0)
    mapper.SetColorLevel(127.5)
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    actor.SetPickable(False)
    return actor
