"""Chinese annotation labels and legends in the 3D view: real glyphs drawn (off screen and
in the real window), not the "—" or nothing VTK's built-in fonts gave; a clear warning
when no installed font can draw a label."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heritage import fonts

TITLE = "屋脊风化 — 明代砖雕"
SAMPLE_PROJECT = Path(__file__).resolve().parents[2] / "assets/sample_site/delft.realscene.json"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

needs_cjk_font = pytest.mark.skipif(fonts.font_for(TITLE) is None,
                                    reason="no CJK font installed (./run installs "
                                           "fonts-noto-cjk)")


@pytest.fixture(autouse=True)
def _fresh_font_cache():
    fonts.clear_cache()
    yield
    fonts.clear_cache()


def _render(title: str | None, size=(480, 300)) -> tuple[np.ndarray, str | None]:
    """The sample site's Overview with only its first annotation shown, titled ``title``
    (None: no labels at all); and the overlay's font warning."""
    from viewer import pipeline
    from viewer.offscreen import OffscreenRenderer

    session = pipeline.open_project(SAMPLE_PROJECT)
    anns = session.project.annotations
    for a in anns[1:]:
        a.visible = False
    session.project.measurements.clear()
    anns[0].title = title or ""
    try:
        with OffscreenRenderer(session.scene, size, session=session, annotations=title
                               is not None, multi_samples=0) as r:
            img = r.image("Overview")
            warning = r.overlay.font_warning if r.overlay is not None else None
    finally:
        pipeline.close_scene(session.scene)
    return img.astype(int), warning


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b).sum(axis=2) > 40


@needs_cjk_font
def test_chinese_label_draws_glyphs_off_screen(monkeypatch):
    bare, _ = _render(None)
    chinese, warning = _render(TITLE)
    dashes, _ = _render("——")
    assert warning is None
    ink_chinese = _changed(chinese, bare).sum()
    ink_dashes = _changed(dashes, bare).sum()
    assert ink_dashes > 0  # the label box and the dashes
    # ten characters drawn: more ink than a box with dashes, and another picture
    assert ink_chinese > 1.4 * ink_dashes
    assert _changed(chinese, dashes).sum() > 0.5 * ink_dashes
    # the old failure: VTK's own font (no CJK glyphs) for the same text
    monkeypatch.setenv(fonts.ENV_FONT, str(DEJAVU))
    monkeypatch.setenv(fonts.ENV_SYSTEM_FONTS, "0")
    fonts.clear_cache()
    latin_only, warning = _render(TITLE)
    assert warning is not None
    assert "Annotation labels: no installed font can draw" in warning
    assert TITLE in warning and "fonts-noto-cjk" in warning
    assert _changed(chinese, latin_only).sum() > 0.5 * ink_dashes


def test_latin_labels_keep_vtk_fonts():
    from vtkmodules.vtkRenderingCore import vtkTextProperty

    from viewer.legend import use_font_for

    prop = vtkTextProperty()
    family = prop.GetFontFamilyAsString()
    assert use_font_for(prop, ["Crack at the gate", "area: 12.5 m²"], "labels") is None
    assert prop.GetFontFamilyAsString() == family and not prop.GetFontFile()


@needs_cjk_font
def test_chinese_legend_and_colour_bar_titles_get_a_cjk_font():
    from vtkmodules.vtkRenderingCore import vtkTextProperty

    from viewer import colors
    from viewer.legend import Overlay, draw_legend, use_font_for

    prop = vtkTextProperty()
    assert use_font_for(prop, ["2 地面", "6 建筑"], "Legend") is None
    assert prop.GetFontFamilyAsString() == "File"
    font = fonts.FontChoice(Path(prop.GetFontFile()), 0, "")
    assert fonts.missing_glyphs("地面建筑", font) == ""
    info = colors.ScalarInfo("高程 (米)", 0.0, 10.0, "viridis")
    bar = draw_legend("测区", Overlay("bar", info=info, name=info.name), 12, (300, 300))
    latin = draw_legend("ab", Overlay("bar", info=info, name="xy (m)"), 12, (300, 300))
    assert bar.font_warning is None
    # drawn with a font that has the glyphs, and more ink than the Latin title
    from viewer.legend import legend_font

    pil_font, warning = legend_font(["测区", "高程 (米)"], 12)
    assert warning is None
    assert fonts.missing_glyphs("测区高程米", fonts.FontChoice(Path(pil_font.path), 0, "")) == ""
    ink = (bar.image[:40, :, :3].min(axis=2) > 120).sum()
    assert ink > 1.1 * (latin.image[:40, :, :3].min(axis=2) > 120).sum()


@needs_cjk_font
@pytest.mark.gui
def test_chinese_label_in_the_real_window(qtbot, window, shared_data, tmp_path):
    from heritage.model import Annotation
    from tests.viewer.gui_support import open_and_wait, settled_image

    open_and_wait(qtbot, window, shared_data / "pointclouds" / "ahn3_cropped_2.laz")
    window.view_preset("top")
    layer = window.scene.layers[0]
    centre = layer.data.xyz().mean(axis=0)
    before = settled_image(qtbot, window).astype(int)

    def shown(title: str) -> np.ndarray:
        window.session.update_annotation(ann.id, title=title)
        qtbot.wait(50)
        return settled_image(qtbot, window).astype(int)

    ann = window.session.add_annotation(Annotation(kind="point", points=[list(centre)],
                                                   title="——"))
    dashes = shown("——")
    chinese = shown(TITLE)
    ink_dashes = _changed(dashes, before).sum()
    assert ink_dashes > 0
    assert _changed(chinese, before).sum() > 1.4 * ink_dashes
    assert _changed(chinese, dashes).sum() > 0.5 * ink_dashes
    assert window.font_warnings == []
    from PIL import Image

    Image.fromarray(chinese.astype(np.uint8)).save(tmp_path / "window.png")
