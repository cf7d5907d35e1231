"""`realscene render --scale-bar --north-arrow --title` and the CRS/attribution line:
pixel probes where each decoration is drawn, and nothing there without the flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from viewer.cli import main
from viewer.decorations import GIZMO_POS, NORTH_ARROW_POS, SCALE_BAR_POS

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "sample_site" / \
    "delft.realscene.json"
W, H = 480, 320
BLACK = "0,0,0"


def _render(tmp_path: Path, name: str, *flags: str) -> np.ndarray:
    out = tmp_path / f"{name}.png"
    assert main(["render", str(SAMPLE), "--size", f"{W}x{H}", "--view", "top",
                 "--background", BLACK, "--msaa", "0", "-o", str(out), *flags]) == 0
    with Image.open(out) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def _bright(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> int:
    """White-ish pixels in the box (image rows top down)."""
    return int((img[y0:y1, x0:x1].min(axis=2) > 200).sum())


def _lit(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> int:
    """Pixels far brighter than the black background in the box (white or coloured)."""
    return int((img[y0:y1, x0:x1].max(axis=2) > 150).sum())


def _boxes() -> dict[str, tuple[int, int, int, int]]:
    bx, by = SCALE_BAR_POS
    nx, ny = W + NORTH_ARROW_POS[0], -NORTH_ARROW_POS[1]  # centre, rows from the top
    gx, gy = GIZMO_POS[0], -GIZMO_POS[1]
    return {
        # the bar and its label, lower left
        "bar": (bx - 2, H - by - 30, bx + 120, H - by + 3),
        "arrow": (nx - 45, ny - 45, nx + 45, ny + 45),
        "title": (W // 2 - 80, 0, W // 2 + 80, 36),
        "credit": (W // 2 - 150, H - 20, W // 2 + 150, H),
        "gizmo": (gx - 50, gy - 50, gx + 50, gy + 50),
    }


def test_render_draws_decorations_only_when_asked(tmp_path, capsys):
    plain = _render(tmp_path, "plain", "--no-attribution")
    decorated = _render(tmp_path, "decorated", "--scale-bar", "--north-arrow", "--axes",
                        "--title", "代尔夫特 Delft", "--attribution", "AHN3 (CC0)")
    default = _render(tmp_path, "default")  # the CRS line by default, nothing else
    boxes = _boxes()
    for name, box in boxes.items():
        assert _lit(plain, *box) < 15, name  # the dark background there
        assert _lit(decorated, *box) > 25, name
    for name in ("bar", "arrow", "title", "gizmo"):
        assert _lit(default, *boxes[name]) < 15, name
    assert _bright(default, *boxes["credit"]) > 25
    # the top view looks north: the arrow's shaft is vertical (one bright column band)
    x0, y0, x1, y1 = boxes["arrow"]
    cols = np.nonzero((decorated[y0:y1, x0:x1].min(axis=2) > 200).any(axis=0))[0]
    assert cols.max() - cols.min() < 16
    # the axes gizmo: red X, green Y, blue Z
    gizmo = decorated[slice(boxes["gizmo"][1], boxes["gizmo"][3]),
                      slice(boxes["gizmo"][0], boxes["gizmo"][2])]
    r, g, b = gizmo[..., 0], gizmo[..., 1], gizmo[..., 2]
    assert ((r > 180) & (g < 120)).sum() > 5
    assert ((g > 150) & (r < 140) & (b < 140)).sum() > 5
    assert ((b > 200) & (r < 140)).sum() > 5


def test_render_title_in_chinese_uses_a_cjk_font(tmp_path, capsys):
    """The title's Chinese characters are drawn (a font that has them), not empty boxes:
    the same title in two scripts covers clearly more pixels than its Latin part."""
    latin = _render(tmp_path, "latin", "--no-attribution", "--title", "Delft")
    both = _render(tmp_path, "both", "--no-attribution", "--title", "代尔夫特代尔夫特 Delft")
    box = (0, 0, W, 40)
    assert _bright(both, *box) > 2 * _bright(latin, *box) > 0
    assert "font" not in capsys.readouterr().err.lower()
