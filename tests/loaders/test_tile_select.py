"""Tile selection for a view that waits for its tiles (off-screen renders, scripts): only
the tiles of the final view are read, not the coarser levels on the way down; a view on
screen still shows the coarse tiles first (no holes while the finer ones arrive)."""

from __future__ import annotations

import numpy as np
import pytest

import loaders
from loaders.tiles import TileStream, View

from .osgb_support import build_osgb_tileset


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory):
    return build_osgb_tileset(tmp_path_factory.mktemp("sel") / "delft", grid=(2, 2), levels=3,
                              texture_px=64)


def _close_view(tileset) -> View:
    lo, hi = tileset.bounds
    centre = (lo + hi) / 2
    return View(centre + np.array([0.0, -40.0, 60.0]), 1400.0)


@pytest.mark.timeout(60)
def test_a_waiting_view_reads_only_the_tiles_it_shows(pyramid):
    tileset = loaders.read(pyramid.path)
    stream = TileStream(tileset)
    try:
        sel = stream.wait(_close_view(tileset))
        assert sel.draw and max(t.depth for t in sel.draw) >= 3  # the finest level shows
        assert stream.loads == len(sel.draw)  # nothing read that is not drawn
    finally:
        stream.close()
        tileset.close()


@pytest.mark.timeout(60)
def test_on_screen_the_coarse_tiles_come_first(pyramid):
    """Updates without waiting (the window's frames) read a coarse tile before its finer
    children replace it: more tiles are read than the final view shows."""
    import time

    tileset = loaders.read(pyramid.path)
    stream = TileStream(tileset)
    try:
        view = _close_view(tileset)
        depths: list[int] = []
        deadline = time.monotonic() + 50
        while time.monotonic() < deadline:
            sel = stream.update(view)
            depths.append(min((t.depth for t in sel.draw), default=99))
            if not sel.fetch and not sel.expand and not stream.stats()["pending"]:
                break
            time.sleep(0.01)
        assert min(depths) <= 2 < max(t.depth for t in sel.draw)  # coarse shown first
        assert stream.loads > len(sel.draw)
    finally:
        stream.close()
        tileset.close()
