"""Deterministic synthetic airborne-scan point clouds, written as LAS and LAZ.

The cloud imitates an airborne LiDAR survey of a town: rolling terrain (class 2), box and
gable-roofed buildings (class 6) and trees (class 5), with RGB, intensity, return numbers
and GPS time. Points are stored in *scan order* like a real survey: flight-line strips
along Y, scan lines across each strip, zig-zagging; so consecutive points (and LAZ
chunks) are spatially coherent strips, which is what makes progressive loading hard.

Everything is a pure function of (point count, GENERATOR_VERSION): point ``i`` is
computed from its index and per-block seeded noise, so files are generated block by
block without holding the whole cloud, and reruns produce identical files.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

GENERATOR_VERSION = 1
DENSITY = 8.0  # points per square metre
STRIP_WIDTH = 250.0  # metres
ORIGIN = (85_000.0, 440_000.0, 0.0)  # projected coordinates in the millions-ish range
BLOCK = 2_000_000
CELL = 50.0  # building lattice
TREE_CELL = 17.0  # tree lattice
DATA_DIR = Path(__file__).resolve().parent / "data"


class Layout:
    """Where point ``i`` lies: strip, scan line and position on the line."""

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self.side = math.sqrt(self.n / DENSITY)
        self.spacing = 1.0 / math.sqrt(DENSITY)
        self.n_strips = max(1, round(self.side / STRIP_WIDTH))
        self.strip_width = self.side / self.n_strips
        self.per_line = max(1, math.ceil(self.strip_width / self.spacing))
        lines = math.ceil(self.n / (self.per_line * self.n_strips))
        self.lines = max(1, lines)
        self.line_spacing = self.side / self.lines
        rng = np.random.default_rng(1000 + GENERATOR_VERSION)
        nx = int(math.ceil(self.side / CELL)) + 1
        # buildings: one per lattice cell with probability 0.55
        self.b_has = rng.random((nx, nx)) < 0.55
        w = rng.uniform(10, 32, (nx, nx))
        d = rng.uniform(8, 28, (nx, nx))
        cx = rng.uniform(w / 2 + 3, CELL - w / 2 - 3)
        cy = rng.uniform(d / 2 + 3, CELL - d / 2 - 3)
        self.b_x0, self.b_x1 = cx - w / 2, cx + w / 2
        self.b_y0, self.b_y1 = cy - d / 2, cy + d / 2
        self.b_h = rng.uniform(5, 40, (nx, nx))
        self.b_gable = rng.random((nx, nx)) < 0.5
        self.b_colour = rng.integers(0, 4, (nx, nx))
        nt = int(math.ceil(self.side / TREE_CELL)) + 1
        self.t_has = rng.random((nt, nt)) < 0.35
        self.t_cx = rng.uniform(3, TREE_CELL - 3, (nt, nt))
        self.t_cy = rng.uniform(3, TREE_CELL - 3, (nt, nt))
        self.t_r = rng.uniform(2, 5.5, (nt, nt))
        self.t_h = rng.uniform(6, 18, (nt, nt))


def terrain(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (4.0 * np.sin(x / 170.0) + 3.0 * np.cos(y / 230.0)
            + 1.5 * np.sin((x + 2 * y) / 61.0) + 0.02 * x - 0.01 * y + 2.0)


ROOF_COLOURS = np.array([[150, 60, 50], [110, 110, 115], [70, 70, 80], [170, 140, 110]])


def block(layout: Layout, start: int, stop: int) -> dict[str, np.ndarray]:
    """Point attributes of points ``start:stop`` (local metres, before the origin)."""
    rng = np.random.default_rng([GENERATOR_VERSION, layout.n, start])
    i = np.arange(start, stop, dtype=np.int64)
    per_strip = layout.per_line * layout.lines
    strip = i // per_strip
    rest = i % per_strip
    line = rest // layout.per_line
    pos = rest % layout.per_line
    pos = np.where(line % 2 == 1, layout.per_line - 1 - pos, pos)  # zig-zag
    m = len(i)
    x = (strip * layout.strip_width + (pos + 0.5) * layout.strip_width / layout.per_line
         + rng.normal(0, 0.08, m))
    y = (line + 0.5) * layout.line_spacing + rng.normal(0, 0.08, m)
    # wobble of the scan line, like a real scanner
    y += 0.3 * np.sin(pos * 0.05 + strip)
    x = np.clip(x, 0, layout.side)
    y = np.clip(y, 0, layout.side)
    ground = terrain(x, y)
    z = ground + rng.normal(0, 0.03, m)
    cls = np.full(m, 2, np.uint8)
    noise = rng.normal(0, 1, (m, 3))
    rgb = np.empty((m, 3), np.float64)
    rgb[:] = [105, 125, 70]
    rgb += noise * [18, 18, 12]
    intensity = rng.normal(900, 120, m)
    returns = np.ones(m, np.uint8)
    n_returns = np.ones(m, np.uint8)

    # buildings
    ci = np.minimum((x // CELL).astype(np.int64), layout.b_has.shape[0] - 1)
    cj = np.minimum((y // CELL).astype(np.int64), layout.b_has.shape[1] - 1)
    lx, ly = x - ci * CELL, y - cj * CELL
    inside = (layout.b_has[ci, cj] & (lx >= layout.b_x0[ci, cj]) & (lx <= layout.b_x1[ci, cj])
              & (ly >= layout.b_y0[ci, cj]) & (ly <= layout.b_y1[ci, cj]))
    if inside.any():
        bi, bj = ci[inside], cj[inside]
        base = terrain(bi * CELL + (layout.b_x0[bi, bj] + layout.b_x1[bi, bj]) / 2,
                       bj * CELL + (layout.b_y0[bi, bj] + layout.b_y1[bi, bj]) / 2)
        h = layout.b_h[bi, bj]
        half = (layout.b_y1[bi, bj] - layout.b_y0[bi, bj]) / 2
        dist = np.abs(ly[inside] - (layout.b_y0[bi, bj] + half))
        ridge = np.where(layout.b_gable[bi, bj], 0.45 * (half - dist), 0.0)
        z[inside] = base + h + ridge + rng.normal(0, 0.02, int(inside.sum()))
        cls[inside] = 6
        rgb[inside] = ROOF_COLOURS[layout.b_colour[bi, bj]] + noise[inside] * 10
        intensity[inside] = rng.normal(1400, 150, int(inside.sum()))

    # trees (not on buildings)
    ti = np.minimum((x // TREE_CELL).astype(np.int64), layout.t_has.shape[0] - 1)
    tj = np.minimum((y // TREE_CELL).astype(np.int64), layout.t_has.shape[1] - 1)
    dx = x - ti * TREE_CELL - layout.t_cx[ti, tj]
    dy = y - tj * TREE_CELL - layout.t_cy[ti, tj]
    r = layout.t_r[ti, tj]
    rr = (dx * dx + dy * dy) / (r * r)
    tree = layout.t_has[ti, tj] & (rr < 1.0) & ~inside
    if tree.any():
        k = int(tree.sum())
        th = layout.t_h[ti[tree], tj[tree]]
        canopy = th * (0.55 + 0.45 * np.sqrt(np.maximum(0, 1 - rr[tree])))
        first = rng.random(k) < 0.75
        z[tree] = np.where(first, ground[tree] + canopy * rng.uniform(0.85, 1.0, k),
                           ground[tree] + canopy * rng.uniform(0.1, 0.8, k))
        cls[tree] = 5
        rgb[tree] = np.array([45, 85, 40]) + noise[tree] * [10, 20, 10]
        intensity[tree] = rng.normal(500, 150, k)
        n_returns[tree] = 2
        returns[tree] = np.where(first, 1, 2)

    rgb16 = (np.clip(rgb, 0, 255).astype(np.uint16) * 257)
    return {
        "x": x + ORIGIN[0], "y": y + ORIGIN[1], "z": z + ORIGIN[2],
        "classification": cls,
        "red": rgb16[:, 0], "green": rgb16[:, 1], "blue": rgb16[:, 2],
        "intensity": np.clip(intensity, 0, 65535).astype(np.uint16),
        "return_number": returns, "number_of_returns": n_returns,
        "gps_time": 300_000.0 + i * 2e-6,
        "point_source_id": (strip + 1).astype(np.uint16),
    }


def size_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    mult = 1
    if text.endswith("m"):
        mult, text = 1_000_000, text[:-1]
    elif text.endswith("k"):
        mult, text = 1000, text[:-1]
    return int(float(text) * mult)


def path_for(n: int, compressed: bool, data_dir: Path | None = None) -> Path:
    data_dir = Path(data_dir or DATA_DIR)
    ext = "laz" if compressed else "las"
    return data_dir / f"synthetic_{size_label(n)}_v{GENERATOR_VERSION}.{ext}"


def write(n: int, path: Path, compressed: bool, block_points: int = BLOCK) -> Path:
    """Write the synthetic cloud of ``n`` points (atomically, via a temporary name)."""
    import laspy

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    layout = Layout(n)
    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = np.array([0.001, 0.001, 0.001])
    header.offsets = np.array(ORIGIN)
    header.system_identifier = "RealScene benchmark"
    header.generating_software = f"realscene synthetic v{GENERATOR_VERSION}"
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    kwargs = {}
    if compressed:
        kwargs["laz_backend"] = _laz_writer_backend()
    with laspy.open(str(tmp), mode="w", header=header, do_compress=compressed,
                    **kwargs) as writer:
        for start in range(0, n, block_points):
            stop = min(n, start + block_points)
            cols = block(layout, start, stop)
            rec = laspy.ScaleAwarePointRecord.zeros(stop - start, header=header)
            for name, values in cols.items():
                rec[name] = values
            writer.write_points(rec)
    tmp.replace(path)
    return path


def _laz_writer_backend():
    import laspy

    try:
        import lazrs  # noqa: F401

        return laspy.LazBackend.LazrsParallel
    except ImportError:  # pragma: no cover
        return laspy.LazBackend.detect_available()[0]


def ensure(n: int, compressed: bool, data_dir: Path | None = None, log=print) -> Path:
    """The cached synthetic file of ``n`` points, generating it on first use."""
    path = path_for(n, compressed, data_dir)
    if path.exists():
        return path
    import time

    t0 = time.perf_counter()
    log(f"generating {path.name} ({n:,} points)…")
    write(n, path, compressed)
    log(f"  done in {time.perf_counter() - t0:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
    return path
