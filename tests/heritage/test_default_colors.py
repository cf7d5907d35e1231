"""The default category/condition colours and the selection highlight read on grey
scans, on white and on the dark default background (WCAG 2 contrast ratio)."""

from __future__ import annotations

import itertools

import pytest

from heritage.model import DEFAULT_CATEGORIES, DEFAULT_CONDITIONS, Vocabulary
from heritage.vocabulary import CATEGORY_COLORS, HIGHLIGHT_COLOR

GREY_SCAN = (0.85, 0.85, 0.85)
WHITE = (1.0, 1.0, 1.0)
DARK = (0.12, 0.13, 0.16)  # viewer.scene.Scene's default background
MIN_RATIO = 2.0


def luminance(rgb) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def unit(rgb255):
    return tuple(c / 255 for c in rgb255)


def test_the_dark_background_is_the_scenes_default():
    from viewer.scene import Scene

    assert Scene().background == pytest.approx(DARK)


@pytest.mark.parametrize("name,rgb", [
    *[(f"category {k}", c) for k, (_l, c) in DEFAULT_CATEGORIES.items()],
    *[(f"condition {k}", c) for k, (_l, c) in DEFAULT_CONDITIONS.items()],
    ("highlight", HIGHLIGHT_COLOR)])
def test_default_colours_read_on_grey_white_and_dark(name, rgb):
    for background in (GREY_SCAN, WHITE, DARK):
        ratio = contrast(unit(rgb), background)
        assert ratio >= MIN_RATIO, f"{name} {rgb} on {background}: {ratio:.2f}"


def test_other_is_no_longer_light_grey_and_unknown_categories_use_it():
    other = Vocabulary().category_color("other")
    assert max(abs(c / 255 - 0.85) for c in other) > 0.3
    assert Vocabulary().category_color("no such category") == other


def test_categories_and_highlight_are_told_apart():
    colours = {**{k: c for k, (_l, c) in DEFAULT_CATEGORIES.items()},
               "highlight": HIGHLIGHT_COLOR}
    for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
        distance = sum((x - y) ** 2 for x, y in zip(ca, cb, strict=True)) ** 0.5
        assert distance >= 60, f"{a} {ca} and {b} {cb} look alike"
    assert set(CATEGORY_COLORS) == set(DEFAULT_CATEGORIES)
