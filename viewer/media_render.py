"""Pictures and films of a scene, off screen: stills beyond the screen, turntable and tour
videos. No Qt (VTK through :class:`viewer.offscreen.OffscreenRenderer`).

Every job is a sequence of small steps (one tile, one frame), so that the window can run
it from a timer and stay responsive, and the CLI and scripts simply loop::

    with OffscreenRenderer(scene, (1280, 800), session=session) as off:
        StillJob(off, "big.png", (7680, 4320), view="iso", transparent=True).run()
        VideoJob(off, "spin.mp4", turntable(off, seconds=12), size=(1920, 1080)).run()

**Stills** larger than :data:`MAX_DIRECT` pixels either way are rendered in tiles: the
points drawn are chosen once for the whole picture (its size, its camera, the point
budget of a still) and held while every tile is drawn with an off-axis part of the same
camera (``vtkCamera.SetWindowCenter`` and a narrower view angle / parallel scale, as
``vtkRenderLargeImage`` does). Point sizes and label font sizes are in pixels, so a tiled
picture shows them as a direct render of the same size does; fixed 2D overlays (colour
bar, legend) are moved into each tile's pixel coordinates. ``transparent``: RGBA with
alpha 0 where nothing is drawn.

**Videos** are H.264 (yuv420p, even width and height) MP4 files written through
imageio-ffmpeg's bundled ffmpeg; frames are streamed to the encoder one by one. The
camera paths: :func:`turntable` (a full turn around the vertical through the view's focal
point) and :func:`tour_path` (the window's tour player path, :class:`viewer.tours.TourPath`).

Progress: ``progress(fraction, message)``; it may raise
:class:`heritage.exhibits.source.ExportCancelled` to stop. A stopped or failed job leaves
nothing under the requested name (it writes a temporary file beside it and renames it).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from heritage.exhibits.source import ExportCancelled, ProgressFn

from .scene import Camera
from .tours import TourPath, find_tour

__all__ = ["MAX_DIRECT", "VIDEO_FPS", "ExportCancelled", "StillJob", "VideoJob",
           "render_still", "tile_grid", "turntable", "tour_path", "read_video_info"]

#: largest side rendered in one piece; larger pictures are tiled (GL framebuffers of
#: many drivers stop at 4096 or 8192, and 8K with MSAA in one piece needs ~2 GB)
MAX_DIRECT = 4096
#: guard band of tiles, pixels (see :func:`guard_band`)
GUARD = 384
#: frames per second of videos
VIDEO_FPS = 30.0


def tile_grid(size: tuple[int, int], tile: tuple[int, int]) -> list[tuple[int, int]]:
    """The lower-left corners (x0, y0) in VTK display pixels (origin bottom left) of
    the tiles of ``tile`` (w, h) covering a picture of ``size``; the last row and column
    may reach past the picture (cropped)."""
    w, h = size
    tw, th = tile
    return [(x, y) for y in range(0, h, th) for x in range(0, w, tw)]


def guard_band(max_tile: int) -> int:
    """Pixels drawn around each tile and thrown away: labels whose anchor lies just
    outside a tile still reach into it (VTK places a label only when its anchor is in
    view)."""
    return min(GUARD, max_tile // 4)


def _tile_size(size: tuple[int, int], max_tile: int) -> tuple[int, int]:
    """Equal tiles (without their guard band), each side with its band at most
    ``max_tile``, as few as possible; the picture itself when it fits in one."""
    w, h = size
    if w <= max_tile and h <= max_tile:
        return w, h
    inner = max_tile - 2 * guard_band(max_tile)
    nx, ny = math.ceil(w / inner), math.ceil(h / inner)
    return math.ceil(w / nx), math.ceil(h / ny)


def _atomic_target(out: Path) -> Path:
    return out.with_name(f".{out.stem}.part{out.suffix}")


class _Job:
    """Steps, progress and cancel shared by stills and videos."""

    total = 1
    done = 0

    def __init__(self, out: str | Path, progress: ProgressFn | None) -> None:
        self.out = Path(out)
        if not self.out.parent.is_dir():
            raise ValueError(f"{self.out}: folder {self.out.parent} does not exist")
        self.tmp = _atomic_target(self.out)
        self.progress = progress
        self.cancelled = False
        self.finished = False

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / max(1, self.total))

    def step(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def cancel(self) -> None:
        """Stop: nothing is left under the requested name."""
        self.cancelled = True
        self._cleanup()
        try:
            self.tmp.unlink()
        except OSError:
            pass

    def _cleanup(self) -> None:
        pass

    def _report(self, message: str) -> None:
        if self.progress is not None and self.finished:
            try:  # written: too late to stop
                self.progress(1.0, message)
            except ExportCancelled:
                pass
        elif self.progress is not None:
            try:
                self.progress(self.fraction, message)
            except ExportCancelled:
                self.cancel()
                raise

    def run(self) -> Path:
        """All steps; returns the file written. ExportCancelled when the progress
        callback stopped it (nothing written)."""
        try:
            while self.step():
                pass
        except BaseException:
            if not self.finished:
                self.cancel()
            raise
        return self.out


class StillJob(_Job):
    """A picture of ``size`` (w, h) from ``view`` (None: the renderer's camera; a preset,
    a saved view's name or a :class:`viewer.scene.Camera`) as PNG at ``out``; one step
    per tile. ``out`` None: only :attr:`image` (an (h, w, 3|4) uint8 array)."""

    def __init__(self, offscreen: Any, out: str | Path | None, size: tuple[int, int], *,
                 view: Any = None, transparent: bool = False, max_tile: int = MAX_DIRECT,
                 progress: ProgressFn | None = None) -> None:
        if out is not None:
            super().__init__(out, progress)
        else:
            self.out, self.tmp, self.progress = None, None, progress  # type: ignore[assignment]
            self.cancelled = self.finished = False
        w, h = int(size[0]), int(size[1])
        if not (1 <= w <= 65536 and 1 <= h <= 65536):
            raise ValueError(f"bad picture size {w}x{h}")
        if max_tile < 16:
            raise ValueError(f"tiles must be at least 16 pixels, got {max_tile}")
        self.off = offscreen
        self.size = (w, h)
        self.transparent = bool(transparent)
        self.tile = _tile_size(self.size, max_tile)
        self.tiled = self.tile != self.size
        self.guard = guard_band(max_tile) if self.tiled else 0
        self.corners = tile_grid(self.size, self.tile) if self.tiled else [(0, 0)]
        self.total = len(self.corners)
        self.done = 0
        self.image = np.zeros((h, w, 4 if self.transparent else 3), np.uint8)
        offscreen.set_view(view)
        self._state: dict | None = None

    # -- one tile -------------------------------------------------------------------------
    def step(self) -> bool:
        if self.cancelled:
            raise ExportCancelled("cancelled")
        if self.done >= self.total:
            return False
        self._report(f"tile {self.done + 1} of {self.total}" if self.tiled else "drawing")
        if not self.tiled:
            self.image[:] = grab(self.off, self.size, self.transparent)
        else:
            if self._state is None:
                self._begin_tiles()
            self._draw_tile(*self.corners[self.done])
        self.done += 1
        if self.done >= self.total:
            self._finish()
            return False
        return True

    def _begin_tiles(self) -> None:
        plotter, renderer = self.off.plotter, self.off.renderer
        ren = plotter.renderer
        cam = ren.GetActiveCamera()
        held = renderer.held_lod()
        state = {"held": held, "size": tuple(plotter.window_size),
                 "angle": cam.GetViewAngle(), "scale": cam.GetParallelScale(),
                 "center": cam.GetWindowCenter(), "actors2d": []}
        self._state = state
        # the points of the whole picture: selected at its size, held for every tile
        plotter.ren_win.SetSize(*self.size)
        renderer.update_lod(force=True)
        overlay = getattr(self.off, "overlay", None)
        if overlay is not None:  # the labels placed once for the whole picture, held
            overlay.place_labels()
            overlay.labels_held = True
            state["overlay"] = overlay
        for actor in _fixed_2d_actors(ren):
            coords = []
            for coord in (actor.GetPositionCoordinate(), actor.GetPosition2Coordinate()):
                display = coord.GetComputedDoubleDisplayValue(ren)
                coords.append((coord, coord.GetCoordinateSystem(), coord.GetValue(),
                                coord.GetReferenceCoordinate(), display))
            state["actors2d"].append(coords)
        for coords in state["actors2d"]:
            for coord, _system, _value, _ref, _display in coords:
                coord.SetReferenceCoordinate(None)
                coord.SetCoordinateSystemToDisplay()
        # the legends (viewer.legend): laid out for the whole picture and pasted into it
        # at the end, not drawn in every tile
        legends = getattr(renderer, "legend_overlays", None)
        if legends is not None:
            from .legend import legend_layout

            state["legends"] = (legends, legend_layout(renderer.scene, self.size,
                                                       legends.font_px))
            legends.set_visible(False)
        held.__enter__()
        plotter.ren_win.SetSize(self.tile[0] + 2 * self.guard, self.tile[1] + 2 * self.guard)

    def _draw_tile(self, x0: int, y0: int) -> None:
        w, h = self.size
        g = self.guard
        tw, th = self.tile[0] + 2 * g, self.tile[1] + 2 * g  # drawn with the guard band
        cam = self.off.plotter.renderer.GetActiveCamera()
        state = self._state
        assert state is not None
        scale = th / h
        if cam.GetParallelProjection():
            cam.SetParallelScale(state["scale"] * scale)
        else:
            half = math.radians(state["angle"]) / 2.0
            cam.SetViewAngle(math.degrees(2.0 * math.atan(math.tan(half) * scale)))
        cam.SetWindowCenter((x0 - g + tw / 2.0 - w / 2.0) / (tw / 2.0),
                            (y0 - g + th / 2.0 - h / 2.0) / (th / 2.0))
        for coords in state["actors2d"]:
            for coord, _system, _value, _ref, display in coords:
                coord.SetValue(display[0] - (x0 - g), display[1] - (y0 - g))
        tile = grab(self.off, (tw, th), self.transparent, resize=False)
        tile = tile[g:th - g, g:tw - g]  # the tile without its guard band
        # display y up; image rows top down
        rows = min(self.tile[1], h - y0)
        cols = min(self.tile[0], w - x0)
        top = h - y0 - rows
        self.image[top:top + rows, x0:x0 + cols] = tile[self.tile[1] - rows:, :cols]

    def _cleanup(self) -> None:
        state, self._state = self._state, None
        if state is None:
            return
        plotter = self.off.plotter
        cam = plotter.renderer.GetActiveCamera()
        cam.SetViewAngle(state["angle"])
        cam.SetParallelScale(state["scale"])
        cam.SetWindowCenter(*state["center"])
        for coords in state["actors2d"]:
            for coord, system, value, ref, _display in coords:
                coord.SetCoordinateSystem(system)
                coord.SetReferenceCoordinate(ref)
                coord.SetValue(*value)
        state["held"].__exit__(None, None, None)
        if "overlay" in state:
            state["overlay"].labels_held = False
        plotter.ren_win.SetSize(*state["size"])
        if "legends" in state:
            state["legends"][0].set_visible(True)
            self._legends = state["legends"][1]

    def _finish(self) -> None:
        self._cleanup()
        legends, self._legends = getattr(self, "_legends", None), None
        if legends:
            from .legend import paste_legends

            paste_legends(self.image, legends)
        if self.out is not None:
            from PIL import Image

            Image.fromarray(self.image).save(self.tmp, format="PNG")
            os.replace(self.tmp, self.out)
        self.finished = True
        self._report("done")

    def cancel(self) -> None:
        self.cancelled = True
        self._cleanup()
        if self.tmp is not None:
            try:
                self.tmp.unlink()
            except OSError:
                pass


def _fixed_2d_actors(ren: Any) -> list[Any]:
    """2D actors placed in window coordinates (colour bar, legend, text), not the labels
    that follow 3D anchors (those are placed through the tile's camera)."""
    out = []
    actors = ren.GetActors2D()
    actors.InitTraversal()
    for _ in range(actors.GetNumberOfItems()):
        actor = actors.GetNextActor2D()
        mapper = actor.GetMapper()
        if mapper is not None and mapper.IsA("vtkLabelPlacementMapper"):
            continue
        out.append(actor)
    return out


def grab(offscreen: Any, size: tuple[int, int], transparent: bool = False,
         resize: bool = True) -> np.ndarray:
    """One render of the off-screen plotter at ``size``: (h, w, 3|4) uint8."""
    plotter = offscreen.plotter
    if resize and tuple(plotter.window_size) != tuple(size):
        with plotter.window_size_context(size):
            return grab(offscreen, size, transparent, resize=False)
    plotter.render()
    img = plotter.screenshot(None, return_img=True, transparent_background=transparent)
    img = np.asarray(img)
    if img.shape[:2] != (size[1], size[0]):
        raise RuntimeError(f"the renderer gave a {img.shape[1]}x{img.shape[0]} picture "
                           f"instead of {size[0]}x{size[1]}")
    return img


def render_still(offscreen: Any, out: str | Path | None, size: tuple[int, int], *,
                 view: Any = None, transparent: bool = False, max_tile: int = MAX_DIRECT,
                 progress: ProgressFn | None = None) -> np.ndarray:
    """:class:`StillJob` run to the end; the picture (also written to ``out`` if given)."""
    job = StillJob(offscreen, out, size, view=view, transparent=transparent,
                   max_tile=max_tile, progress=progress)
    job.run()
    return job.image


# -- camera paths ---------------------------------------------------------------------------
def turntable(offscreen: Any, seconds: float, fps: float = VIDEO_FPS,
              view: Any = "iso") -> tuple[int, Iterator[Camera]]:
    """(frame count, cameras) of one full turn in ``seconds`` around the vertical
    through the focal point of ``view`` (default the iso view of the whole scene),
    keeping its distance and height; the last frame stops one step short of the first,
    so the video loops."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"turntable seconds must be positive, got {seconds}")
    offscreen.set_view(view)
    start = offscreen.renderer.camera_to_scene(emit=False)
    count = max(1, int(round(seconds * fps)))
    focal = np.asarray(start.focal_point, np.float64)
    offset = np.asarray(start.position, np.float64) - focal

    def cameras() -> Iterator[Camera]:
        for i in range(count):
            a = 2.0 * math.pi * i / count
            c, s = math.cos(a), math.sin(a)
            rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
            up = rot @ np.asarray(start.view_up, np.float64)
            yield Camera(position=tuple(float(v) for v in focal + rot @ offset),
                         focal_point=tuple(float(v) for v in focal),
                         view_up=tuple(float(v) for v in up), parallel=start.parallel)

    return count, cameras()


def tour_path(offscreen: Any, project: Any, name: str, fps: float = VIDEO_FPS,
              view: Any = "iso") -> tuple[int, Iterator[Camera]]:
    """(frame count, cameras) of the tour called ``name`` played from ``view``: the
    cameras ``realscene tour`` and the window's player show at 0, 1/fps, 2/fps, ...
    (:class:`viewer.tours.UnknownTour` when there is no such tour)."""
    tour = find_tour(project, name)
    offscreen.set_view(view)
    path = TourPath(project, tour, offscreen.renderer.camera_to_scene(emit=False))
    times = path.frame_times(fps)
    return len(times), (path.camera_at(t) for t in times)


# -- videos ---------------------------------------------------------------------------------
class VideoJob(_Job):
    """An H.264 MP4 at ``out`` of ``path`` = (frame count, cameras) from :func:`turntable`
    or :func:`tour_path`, ``size`` (even w, h) at ``fps``; one step per frame, each frame
    sent to ffmpeg as it is drawn."""

    def __init__(self, offscreen: Any, out: str | Path, path: tuple[int, Iterable[Camera]],
                 size: tuple[int, int], fps: float = VIDEO_FPS, *,
                 max_tile: int = MAX_DIRECT, progress: ProgressFn | None = None) -> None:
        super().__init__(out, progress)
        if self.out.suffix.lower() != ".mp4":
            raise ValueError(f"{self.out}: videos are written as MP4 (name it .mp4)")
        w, h = int(size[0]), int(size[1])
        if w < 16 or h < 16 or w % 2 or h % 2:
            raise ValueError(f"bad video size {w}x{h}: H.264 needs an even width and "
                             "height of at least 16 pixels")
        if not (math.isfinite(fps) and 0 < fps <= 240):
            raise ValueError(f"frames per second must be in (0, 240], got {fps}")
        self.off = offscreen
        self.size = (w, h)
        self.fps = float(fps)
        self.max_tile = max_tile
        self.total, cameras = path
        self.cameras = iter(cameras)
        self.done = 0
        self._writer: Any = None

    def _open(self) -> None:
        import imageio_ffmpeg

        self._writer = imageio_ffmpeg.write_frames(
            str(self.tmp), self.size, fps=self.fps, codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", quality=8, macro_block_size=2, ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"])
        self._writer.send(None)  # start ffmpeg

    def step(self) -> bool:
        if self.cancelled:
            raise ExportCancelled("cancelled")
        if self.done >= self.total:
            return False
        self._report(f"frame {self.done + 1} of {self.total}")
        if self._writer is None:
            self._open()
        camera = next(self.cameras)
        frame = render_still(self.off, None, self.size, view=camera,
                             max_tile=self.max_tile)
        self._writer.send(np.ascontiguousarray(frame[:, :, :3]))
        self.done += 1
        if self.done >= self.total:
            self._finish()
            return False
        return True

    def _finish(self) -> None:
        writer, self._writer = self._writer, None
        writer.close()  # waits for ffmpeg to finish the file
        os.replace(self.tmp, self.out)
        self.finished = True
        self._report("done")

    def _cleanup(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the file is thrown away
                pass


def read_video_info(path: str | Path) -> dict[str, Any]:
    """What ffmpeg reads from a video: ``size``, ``fps``, ``codec``, ``frames`` (counted
    by decoding) — for tests and for checking a written file."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = sum(1 for _ in reader)
    codec = str(meta.get("codec", "")).split()[0] if meta.get("codec") else ""
    return {"size": tuple(meta["size"]), "fps": float(meta["fps"]), "codec": codec,
            "frames": frames}


def frames_of(path: str | Path) -> tuple[tuple[int, int], Callable[[], Iterator[np.ndarray]]]:
    """(size, iterator factory) of a video's frames as (h, w, 3) uint8 arrays."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    reader.close()

    def frames() -> Iterator[np.ndarray]:
        for raw in imageio_ffmpeg.read_frames(str(path)):
            if isinstance(raw, dict):
                continue
            yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)

    return (w, h), frames
