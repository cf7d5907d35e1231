"""Legend and colour bar of the selected layer, drawn over the 3D view.

:func:`overlay_for` decides what a layer shows (plain data, no VTK): a colour bar for
scalar colourings (intensity, elevation, numeric attributes of points or objects), a
legend of classes or categories, or nothing. :class:`Overlays` draws that on a pyvista
plotter and removes it again.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from loaders import FeatureMesh

from . import colors, features
from .scene import Layer, Scene

SCALAR_BAR_NAME = "realscene-scalar-bar"
#: entries shown at most: categories of objects / classes of points
MAX_CATEGORY_ENTRIES = 14
MAX_CLASS_ENTRIES = 20


@dataclass
class Overlay:
    """``kind`` "bar" (``info``: the colour bar's range and map) or "legend" (``items``:
    [label, [r, g, b] in 0..1])."""

    kind: str
    info: colors.ScalarInfo | None = None
    items: list = field(default_factory=list)


def overlay_for(scene: Scene) -> Overlay | None:
    """What the view shows for the scene's selected layer, None for nothing."""
    layer: Layer | None = scene.selected
    if layer is None or layer not in scene.layers or not layer.visible:
        return None
    mode = colors.effective_mode(layer)
    if isinstance(layer.data, FeatureMesh) and mode in ("semantic", "type", "attribute"):
        _rgb, legend = features.layer_feature_colors(layer, mode)
        if legend.get("kind") == "numeric":
            info = colors.ScalarInfo(str(legend.get("name", "")), float(legend["min"]),
                                     float(legend["max"]),
                                     str(legend.get("colormap", "viridis")))
            return Overlay("bar", info=info)
        items = [[str(label), [c / 255.0 for c in rgb[:3]]]
                 for label, rgb in legend.get("entries", [])][:MAX_CATEGORY_ENTRIES]
        return Overlay("legend", items=items) if items else None
    if mode == "classification":
        hidden = {int(c) for c in layer.hidden_classes}
        items = [[f"{code} {name}", [c / 255.0 for c in rgb]]
                 for code, name, rgb, _count in colors.class_legend(layer)
                 if code not in hidden][:MAX_CLASS_ENTRIES]
        return Overlay("legend", items=items) if items else None
    info = colors.scalar_info(layer)
    return None if info is None else Overlay("bar", info=info)


def _text_width(text: str) -> int:
    """Width in Latin characters: a Chinese character is about two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def legend_size(items: list, view_size: tuple[int, int]) -> tuple[float, float]:
    """Legend size as view fractions: about 20 px per entry and wide enough for the
    longest label, so the text stays readable (and the box small) at any window size."""
    w, h = (max(int(v), 1) for v in view_size)
    longest = max((_text_width(str(label)) for label, _rgb in items), default=8)
    return (min((11 * longest + 40) / w, 0.45), min((20 * len(items) + 8) / h, 0.7))


def make_scalar_bar(info: colors.ScalarInfo) -> Any:
    """A vtkScalarBarActor for ``info`` on the right of the view."""
    from vtkmodules.vtkCommonCore import vtkLookupTable
    from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor

    lut_rgb = colors.colormap_lut(info.colormap)
    lut = vtkLookupTable()
    lut.SetNumberOfTableValues(len(lut_rgb))
    for i, (r, g, b) in enumerate(lut_rgb):
        lut.SetTableValue(i, r / 255.0, g / 255.0, b / 255.0, 1.0)
    vmin, vmax = info.vmin, info.vmax if info.vmax > info.vmin else info.vmin + 1.0
    lut.SetTableRange(vmin, vmax)
    lut.Build()
    bar = vtkScalarBarActor()
    bar.SetLookupTable(lut)
    bar.SetTitle(info.name)
    bar.SetNumberOfLabels(5)
    bar.SetLabelFormat("%.6g")
    bar.SetMaximumWidthInPixels(80)
    bar.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    bar.GetPositionCoordinate().SetValue(0.88, 0.1)
    bar.SetWidth(0.1)
    bar.SetHeight(0.8)
    for prop in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
        prop.SetFontSize(12)
        prop.SetColor(1.0, 1.0, 1.0)
        prop.SetShadow(True)
        prop.BoldOff()
        prop.ItalicOff()
    bar.UnconstrainedFontSizeOn()
    bar.font_warning = use_font_for(bar.GetTitleTextProperty(), [info.name],  # type: ignore
                                    "Colour bar title")
    return bar


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


class Overlays:
    """The legend / colour bar a plotter shows for a scene."""

    def __init__(self, plotter: Any, on_warning: Any = None) -> None:
        self.plotter = plotter
        self.scalar_bar: Any = None
        #: ``on_warning(text)``: told once per distinct problem (text no font can draw)
        self.on_warning = on_warning
        self.font_warning: str | None = None

    def _warn(self, warning: str | None) -> None:
        if warning and warning != self.font_warning and self.on_warning is not None:
            self.on_warning(warning)
        self.font_warning = warning

    def remove(self) -> None:
        if self.scalar_bar is not None:
            self.plotter.remove_actor(self.scalar_bar, reset_camera=False, render=False)
            self.scalar_bar = None
        if self.plotter.legend is not None:
            self.plotter.remove_legend(render=False)

    def update(self, scene: Scene) -> None:
        """Replace what is shown by what :func:`overlay_for` says for ``scene``."""
        self.remove()
        overlay = overlay_for(scene)
        if overlay is None:
            return
        if overlay.kind == "bar":
            self.scalar_bar = make_scalar_bar(overlay.info)
            self.plotter.add_actor(self.scalar_bar, reset_camera=False, name=SCALAR_BAR_NAME,
                                   pickable=False, render=False)
            self._warn(getattr(self.scalar_bar, "font_warning", None))
        else:
            self.add_legend(overlay.items)

    def add_legend(self, items: list) -> None:
        """A legend in the upper right corner, sized by :func:`legend_size` (placed by
        hand: pyvista's "upper right" keeps a fixed position whatever the size, so a
        wide legend ran off the view)."""
        w, h = legend_size(items, self.plotter.renderer.GetSize())
        legend = self.plotter.add_legend(items, bcolor=(0.1, 0.1, 0.1), border=False,
                                         size=(w, h), face="rectangle",
                                         background_opacity=0.6)
        legend.SetPosition(max(0.0, 0.99 - w), max(0.0, 0.99 - h))
        self._warn(use_font_for(legend.GetEntryTextProperty(),
                                [str(label) for label, _rgb in items], "Legend"))
