"""The ``realscene`` command line.

    realscene info PATH|PROJECT [--json] [--crs CRS]
    realscene render PATHS...|PROJECT -o OUT.png [--size WxH] [--color-by MODE] [--edl]
                     [--view top|front|side|iso|fit|SAVED_VIEW] [--background COLOR]
                     [--point-size N] [--budget N|auto] [--crs [FILE=]CRS ...]
                     [--drape LAYER=ORTHO ...]   (an orthophoto GeoTIFF on a DEM,
                     mesh, city model or OSGB / 3D Tiles layer given)
                     [--transparent]   (any size up to 16384x16384, e.g. 8K 7680x4320)
                     [--clip-box X0,Y0,Z0,X1,Y1,Z1 [--clip-outside] [--clip-outline]]
                     [--scale-bar] [--north-arrow] [--axes] [--title TEXT]
                     [--attribution TEXT] [--no-attribution]   (the CRS line is drawn
                     at the bottom unless --no-attribution)
    realscene render PATHS...|PROJECT -o OUT.mp4 --turntable SECONDS [--fps 30] [...]
    realscene render PROJECT -o OUT.mp4 --tour NAME [--fps 30] [--size WxH] [...]
    realscene open PATHS...|PROJECT [--snapshot OUT.png] [--budget N|auto]
                   [--crs [FILE=]CRS ...]
    realscene open-sample
    realscene index PATH [-o OUT.copc.laz]
    realscene index DIR [-o OUT_DIR] [--scheduler tcp://HOST:PORT] [--workers N]
    realscene compare A B [--method c2c|m3c2] -o OUT.laz [--report OUT.html]
                      [--local-model plane|quadric] [--k N] [--signed]      (c2c)
                      [--normal-radii R,...] [--cyl-radius R] [--max-distance D]
                      [--registration-error E] [--core-spacing S] [--robust]
                      [--min-points N]                                       (m3c2)
    realscene register A B -o B_aligned.laz [--pairs PAIRS.csv] [--allow-scale]
                       [--max-distance M] [--voxel M] [--no-icp]
    realscene deviation SCAN MODEL [--tolerance T] [--max-distance D] -o OUT.csv
                        [--laz OUT.laz]
    realscene propose CHANGED.laz --project PROJECT [--threshold T] [--date-a D]
                      [--date-b D] [--min-points N] [--min-area M2] [--lang zh]
    realscene annotations PROJECT --export webanno|geojson|csv|report -o OUT [--lang zh]
    realscene annotations PROJECT --import FILE -o NEW_PROJECT
    realscene tour PROJECT --name NAME -o DIR [--size WxH] [--fps N]
    realscene export PROJECT --format glb|3dtiles|voyager|web|iiif -o OUT [--layers NAME,...]
                     [--annotations all|none|ID,...|category:KEY,...] [--tour NAME]
                     [--triangles N] [--points N]

Bad input gives one line on stderr (``realscene: error: PATH: problem``) and exit code 2;
an unexpected failure one line and exit code 1 (add ``--debug`` for the traceback).
Heavy modules (VTK, Qt) are imported only by the commands that need them.

``--crs [FILE=]CRS`` (``info``, ``render``, ``open``) gives the CRS of a file that has
none or a wrong one (a survey without CRS record: ``--crs EPSG:4547``; a local city grid:
``--crs "scan.las=+proj=tmerc ..."``): the file is read as in that CRS, as the window's
Assign CRS… does (:func:`viewer.pipeline.load` with ``assign_crs``).

``info``, ``render`` and ``open`` also take http(s) URLs of COPC files, streamed with
range requests (:mod:`loaders.copc`). ``render`` and ``open`` also take a project
(``*.realscene.json``): its layers with their display settings, its CRS, annotations,
measurements and saved views. Every layer goes through the window's pipeline
(:mod:`viewer.pipeline`: read -> reproject into the scene CRS -> level of detail), and
pictures through the one off-screen renderer (:mod:`viewer.offscreen`).

stdout belongs to RealScene: while a command runs, file descriptor 1 points at stderr,
so whatever a library prints (ifcopenshell's geometry code, VTK, any native code, or a
Python ``print``) goes to stderr; RealScene's own output is written to a duplicate of
the original stdout (:func:`own_stdout`). ``info --json`` prints exactly one JSON
document.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

PROG = "realscene"
DEFAULT_SIZE = (1280, 800)


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""


#: RealScene's own standard output while a command runs (see :func:`own_stdout`)
_OUT: Any = None


def say(*values: Any, **kwargs: Any) -> None:
    """Print RealScene's own output: to the real stdout, never to what libraries see."""
    print(*values, file=_OUT if _OUT is not None else sys.stdout, flush=True, **kwargs)


def _flush_c_stdio() -> None:
    """Flush C stdio buffers (a native ``printf`` to a pipe is buffered until then)."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except Exception:  # noqa: BLE001 - no libc (or no fflush): nothing to flush
        pass


@contextlib.contextmanager
def own_stdout():
    """For the duration: fd 1 -> fd 2 and ``sys.stdout`` -> ``sys.stderr``, so that
    anything a library prints goes to stderr; :func:`say` writes to a duplicate of the
    original stdout (or to ``sys.stdout`` as it was, when that is not fd 1, e.g. a test's
    capture). Restored afterwards, C stdio buffers flushed first, so it also works when
    :func:`main` is called in-process."""
    global _OUT
    stream = sys.stdout
    previous_out = _OUT
    try:
        stream.flush()
    except Exception:  # noqa: BLE001 - a closed stdout: nothing to flush
        pass
    _flush_c_stdio()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 at all: nothing to protect
        yield
        return
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    own = None
    if fd == 1:
        own = open(os.dup(saved), "w", encoding=getattr(stream, "encoding", None) or "utf-8",
                   errors=getattr(stream, "errors", None) or "strict", closefd=True)
        _OUT = own
    else:
        _OUT = stream
    redirected = False
    try:
        os.dup2(2, 1)
        redirected = True
    except OSError:
        pass
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        for s in (own, sys.stderr):
            try:
                if s is not None:
                    s.flush()
            except Exception:  # noqa: BLE001
                pass
        _flush_c_stdio()
        sys.stdout = stream
        if redirected:
            os.dup2(saved, 1)
        os.close(saved)
        if own is not None:
            own.close()
        _OUT = previous_out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other bad input
        raise UsageError(message)

    def print_help(self, file: Any = None) -> None:  # help is RealScene's own output
        super().print_help(file if file is not None else (_OUT or sys.stdout))


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="RealScene: view LiDAR point clouds and "
                     "city meshes.")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("info", help="describe a file (format, counts, bounds, CRS...)")
    p.add_argument("path", metavar="PATH|URL")
    p.add_argument("--json", action="store_true", help="print JSON")
    _url_options(p)
    _crs_options(p)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("render", help="render files to a PNG (any size, tiled when large), "
                       "or a turntable / tour video (MP4), without a window")
    p.add_argument("paths", nargs="+", metavar="PATH|URL")
    _url_options(p)
    _crs_options(p)
    p.add_argument("--drape", action="append", default=[], metavar="LAYER=ORTHO",
                   help="drape the orthophoto GeoTIFF ORTHO on LAYER, one of the PATHS "
                        "(path or file name): a DEM, a mesh or city model (projected "
                        "top-down), an OSGB / 3D Tiles tileset, as the window's Drape "
                        "orthophoto… (repeatable)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png")
    p.add_argument("--size", default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}", metavar="WxH")
    p.add_argument("--color-by", dest="color_by", metavar="MODE",
                   help="rgb, intensity, classification, elevation, solid, material, "
                        "vertex, attribute:NAME or an attribute name")
    p.add_argument("--edl", action="store_true", help="eye-dome lighting")
    p.add_argument("--edl-strength", type=float, default=None, metavar="S",
                   help="eye-dome lighting strength, 0-10 (default 1.0, Potree's); implies --edl")
    p.add_argument("--edl-radius", type=float, default=None, metavar="R",
                   help="eye-dome lighting radius in pixels, 1-8 (default 1.4); implies --edl")
    p.add_argument("--view", default=None, metavar="NAME",
                   help="top, front, side, iso, fit, or a project's saved view "
                        "(default: the project's first saved view, else iso)")
    p.add_argument("--background", metavar="COLOR", help="name, #rrggbb or r,g,b (0-1)")
    p.add_argument("--point-size", dest="point_size", type=float, metavar="N",
                   help="point size in pixels (adaptive size: the smallest)")
    p.add_argument("--point-size-mode", dest="point_size_mode", choices=("adaptive", "fixed"),
                   help="adaptive (default: grows with the level of detail's spacing as "
                        "the camera comes closer) or fixed pixels")
    p.add_argument("--round-points", dest="round_points", action="store_true",
                   help="round point splats instead of squares")
    p.add_argument("--budget", default="auto", metavar="N|auto",
                   help="most points drawn (level of detail); auto: 1.5M for images")
    p.add_argument("--msaa", type=int, default=None, metavar="N",
                   help="anti-aliasing samples (default: 8); 0 draws exactly as the window "
                        "does (which skips anti-aliasing for speed)")
    p.add_argument("--transparent", action="store_true",
                   help="PNG with an alpha channel, transparent where nothing is drawn")
    p.add_argument("--clip-box", dest="clip_box", metavar="X0,Y0,Z0,X1,Y1,Z1",
                   help="draw only what lies inside this box (scene coordinates: the "
                        "scene CRS); meshes are cut along its sides")
    p.add_argument("--clip-outside", dest="clip_outside", action="store_true",
                   help="with --clip-box: draw what lies outside the box instead")
    p.add_argument("--clip-outline", dest="clip_outline", action="store_true",
                   help="with --clip-box: draw the box's orange wireframe")
    p.add_argument("--scale-bar", dest="scale_bar", action="store_true",
                   help="a scale bar (lower left; metres, or units without a CRS)")
    p.add_argument("--north-arrow", dest="north_arrow", action="store_true",
                   help="an arrow to grid north (upper right; georeferenced scenes)")
    p.add_argument("--axes", action="store_true", help="an axis gizmo (upper left)")
    p.add_argument("--title", default="", metavar="TEXT", help="a title at the top")
    p.add_argument("--attribution", default=None, metavar="TEXT",
                   help="a credit for the data, added to the CRS line at the bottom")
    p.add_argument("--no-attribution", dest="no_attribution", action="store_true",
                   help="leave out the line naming the CRS and the data's credits")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--turntable", type=float, metavar="SECONDS",
                   help="write an H.264 video (OUT.mp4) of one turn around the scene")
    g.add_argument("--tour", metavar="NAME",
                   help="write an H.264 video (OUT.mp4) of a project's tour")
    p.add_argument("--fps", type=float, default=30.0, metavar="N",
                   help="video frames per second (default 30)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("open", help="open files in the desktop viewer")
    p.add_argument("paths", nargs="*", metavar="PATH|URL")
    _url_options(p)
    _crs_options(p)
    p.add_argument("--snapshot", metavar="OUT.png",
                   help="save a screenshot once loaded and quit")
    p.add_argument("--budget", default=None, metavar="N|auto",
                   help="point budget (default: the saved setting, else auto)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("open-sample", help="open the bundled sample site")
    p.add_argument("--snapshot", metavar="OUT.png")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("index", help="write a COPC copy of a LAS/LAZ file (or of every "
                       "LAS/LAZ in a folder, on Dask) so it opens (and streams) fast")
    p.add_argument("path", metavar="PATH|DIR")
    p.add_argument("-o", "--output", metavar="OUT.copc.laz|OUT_DIR",
                   help="default: NAME.copc.laz next to PATH, or the cache folder "
                   "(a folder: next to its files)")
    _batch_options(p)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("annotations", help="export a project's annotations (Web Annotation "
                       "JSON-LD, GeoJSON, CSV, condition report) or import them")
    p.add_argument("project", metavar="PROJECT")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--export", choices=("webanno", "geojson", "csv", "report"),
                   help="format to write (report: HTML, or PDF when OUT ends in .pdf)")
    g.add_argument("--import", dest="import_file", metavar="FILE",
                   help="annotation file (format found by content); writes a new project")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="exported file, or the new project file for --import")
    p.add_argument("--no-views", action="store_true",
                   help="report: leave out the view rendered from each annotation's camera "
                   "(faster; no layers are loaded)")
    p.add_argument("--size", default="640x400",
                   help="report: size of each rendered view, WxH (default 640x400)")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="report: its language, en (default) or zh (Simplified Chinese): "
                   "headings, labels, categories and condition grades; dates stay ISO")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("clip", help="write the points of a LAS/LAZ/COPC file inside (or "
                       "outside) a box or polygon at full resolution to LAS/LAZ/COPC")
    p.add_argument("path", metavar="PATH")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--box", metavar="XMIN,YMIN,ZMIN,XMAX,YMAX,ZMAX",
                   help="an axis-aligned box in the file's CRS")
    g.add_argument("--polygon", metavar="WKT",
                   help="a WKT POLYGON in the file's CRS (XY; every height unless --zmin/--zmax)")
    p.add_argument("--angle", type=float, default=0.0, metavar="DEGREES",
                   help="--box: turn the box about Z around its centre (counter-clockwise)")
    p.add_argument("--zmin", type=float, help="--polygon: lowest height kept")
    p.add_argument("--zmax", type=float, help="--polygon: highest height kept")
    p.add_argument("--outside", action="store_true", help="keep the points outside instead")
    p.add_argument("-o", "--output", required=True, metavar="OUT.laz|OUT.las|OUT.copc.laz")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("profile", help="a 2D cross-section along a line: the points within "
                       "the width (full resolution from LAS/LAZ/COPC) and the cut lines of "
                       "meshes / city / IFC models, as SVG, PNG or CSV")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--line", required=True, metavar="X1,Y1,X2,Y2",
                   help="the section line in the files' coordinates")
    p.add_argument("--width", required=True, type=_positive, metavar="W",
                   help="full width of the section (W/2 either side of the line)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.svg|OUT.png|OUT.csv")
    p.add_argument("--title", default="", help="a title over the plot")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("compare", help="change between two survey epochs: B's points with "
                       "their C2C or M3C2 distance to A (LAS/LAZ extra dimensions), an HTML "
                       "report; two folders: every pair of tiles on Dask")
    p.add_argument("a", metavar="A|DIR_A", help="epoch A, the reference")
    p.add_argument("b", metavar="B|DIR_B", help="epoch B, compared (written with distances)")
    p.add_argument("-o", "--output", metavar="OUT.laz|OUT_DIR",
                   help="B with the distances as extra dimensions (.las or .laz)")
    p.add_argument("--method", choices=("c2c", "m3c2"), default=None,
                   help="c2c: nearest-neighbour cloud-to-cloud (default); m3c2: M3C2 with "
                   "level of detection at 95%% (py4dgeo)")
    p.add_argument("--report", metavar="OUT.html", help="also write an HTML change report")
    g = p.add_argument_group("c2c")
    g.add_argument("--local-model", dest="local_model", choices=("plane", "quadric"),
                   help="distance to a least-squares plane / quadric of A's nearest points "
                   "(as CloudCompare), when smaller than the nearest-neighbour distance")
    g.add_argument("--k", type=_count, metavar="N",
                   help="neighbours of the local model (default 6 plane, 12 quadric)")
    g.add_argument("--signed", action="store_true", default=None,
                   help="sign by the side of A's local plane (normal up): + above A")
    g = p.add_argument_group("m3c2")
    g.add_argument("--normal-radii", dest="normal_radii", type=_floats, metavar="R,...",
                   help="radii of the multi-scale normals in metres (default 0.5,1,2)")
    g.add_argument("--cyl-radius", dest="cyl_radius", type=_positive, metavar="R",
                   help="cylinder radius in metres (default 0.5)")
    g.add_argument("--max-distance", dest="max_distance", type=_positive, metavar="D",
                   help="cylinder half-length in metres (default 5)")
    g.add_argument("--registration-error", dest="registration_error", type=float,
                   metavar="E", help="registration error added to the LoD (metres, default 0)")
    g.add_argument("--core-spacing", dest="core_spacing", type=_positive, metavar="S",
                   help="core points one per S-metre voxel of B (default: every point)")
    g.add_argument("--min-points", dest="min_points", type=_count, metavar="N",
                   help="significant only with at least N points of each epoch in the "
                   "cylinder (default 5)")
    g.add_argument("--robust", action="store_true", default=None,
                   help="median and inter-quartile range instead of mean and deviation")
    _batch_options(p)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("propose", help="propose condition annotations from significant "
                       "change: one per cluster of changed points, saved in the project "
                       "as proposals to accept or reject in the Annotations panel")
    p.add_argument("changed", metavar="CHANGED.laz",
                   help="epoch B written by `realscene compare` (M3C2, or C2C with "
                   "--threshold)")
    p.add_argument("--project", required=True, metavar="PROJECT",
                   help="the project the proposals are added to (saved in place)")
    p.add_argument("--threshold", type=_positive, metavar="M",
                   help="significant beyond this |distance| in metres (needed for C2C)")
    p.add_argument("--date-a", metavar="YYYY-MM-DD", help="date of epoch A")
    p.add_argument("--date-b", metavar="YYYY-MM-DD",
                   help="date of epoch B (default: the file's creation date)")
    p.add_argument("--min-points", type=int, default=30, metavar="N",
                   help="drop clusters of fewer points (default 30)")
    p.add_argument("--min-area", type=_non_negative_float, default=0.25, metavar="M2",
                   help="drop clusters smaller than this many m² (default 0.25)")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="language of the titles and descriptions")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("register", help="register epoch B onto epoch A (point pairs, then "
                       "ICP) and write B moved, at full resolution, with its transform")
    p.add_argument("a", metavar="A", help="epoch A, the reference (stays where it is)")
    p.add_argument("b", metavar="B", help="epoch B, moved onto A (LAS/LAZ/COPC)")
    p.add_argument("-o", "--output", required=True, metavar="B_aligned.laz",
                   help="B moved (.las or .laz); OUT.transform.json is written beside it")
    p.add_argument("--pairs", metavar="PAIRS.csv",
                   help="three or more matching points, one per line: bx,by,bz,ax,ay,az "
                   "(the coarse alignment ICP starts from)")
    p.add_argument("--allow-scale", action="store_true",
                   help="--pairs: fit a similarity (with scale) instead of a rigid motion")
    p.add_argument("--max-distance", type=_positive, metavar="M",
                   help="ICP correspondence distance in metres (default 3x the spacing)")
    p.add_argument("--voxel", type=_non_negative_float, metavar="M",
                   help="ICP downsampling voxel in metres (default: chosen for big clouds)")
    p.add_argument("--no-icp", action="store_true", help="only the point-pair fit")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("deviation", help="scan vs model: distance of a scan's points to a "
                       "mesh, city model or IFC model, summarised per object (CSV), and the "
                       "scan with the distances (LAS/LAZ)")
    p.add_argument("scan", metavar="SCAN", help="the point cloud (LAS/LAZ/COPC, E57, PLY...)")
    p.add_argument("model", metavar="MODEL", help="the mesh, CityJSON or IFC model")
    p.add_argument("--tolerance", type=_non_negative_float, default=0.1, metavar="T",
                   help="share of points farther than T metres per object (default 0.1)")
    p.add_argument("--max-distance", dest="max_distance", type=_positive, default=5.0,
                   metavar="D", help="points farther than D metres from the model count "
                   "for no object (default 5)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.csv",
                   help="one row per object: points, mean, mean |d|, median |d|, max |d|, "
                   "RMS, share beyond the tolerance")
    p.add_argument("--laz", metavar="OUT.laz",
                   help="also the scan with model_distance as an extra dimension")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("tour", help="write a project's tour as numbered PNG frames "
                       "(the camera path the window's player shows)")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--name", required=True, help="the tour's name")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="folder for frame_00000.png, frame_00001.png, ... (created)")
    p.add_argument("--size", default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}", metavar="WxH")
    p.add_argument("--fps", type=float, default=25.0, metavar="N",
                   help="frames per second of the tour (default 25)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)

    p = sub.add_parser("export", help="export a project as an exhibit: GLB with hotspots, "
                       "3D Tiles, a Smithsonian Voyager scene, an offline web page, IIIF")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--format", required=True, metavar="FORMAT",
                   help="glb (one file), 3dtiles (folder), voyager (folder), web (folder), "
                        "iiif (one manifest file)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="the file (glb, iiif) or a new or empty folder (the others)")
    p.add_argument("--layers", metavar="NAME,...",
                   help="layers to export by name (default: the visible ones)")
    p.add_argument("--annotations", default="all", metavar="all|none|ID,...|category:KEY,...",
                   help="annotations to export as hotspots (default: all)")
    p.add_argument("--tour", action="append", default=None, metavar="NAME",
                   help="the tour to export (repeatable; default: every tour)")
    p.add_argument("--triangles", type=_count, metavar="N",
                   help="most triangles kept over all meshes (simplified to fit)")
    p.add_argument("--points", type=_count, metavar="N",
                   help="most points kept over all point clouds")
    p.add_argument("--attributes", metavar="NAME,...",
                   help="3dtiles: the point attributes the tiles carry, of rgb, intensity, "
                        "classification (default: all a cloud has; 'none': positions only)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    return parser


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _floats(text: str) -> list[float]:
    return [_positive(t) for t in text.split(",") if t.strip()] or \
        [_positive(text)]


def _url_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-redirects", dest="allow_redirects", action="store_true",
                   help="follow HTTP redirects of a COPC URL to other hosts")


def _crs_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--crs", action="append", default=[], metavar="[FILE=]CRS",
                   help="the CRS a file's coordinates are in when it has none or a wrong "
                        "one: EPSG:4547, a PROJ string or WKT; FILE= names one of the files "
                        "(path or file name), else every file given (repeatable)")


def assigned_crs(specs: Sequence[str], paths: Sequence[str]) -> dict[str, str]:
    """``--crs [FILE=]CRS`` options -> {path as given: CRS text}. ``FILE`` matches a path
    as given, the same file, or its file name; without ``FILE=`` (or when the text before
    the first ``=`` names none of the files, as in a PROJ string) the CRS is every file's.
    Each CRS is checked (a height-only or unknown CRS is refused): UsageError."""
    from loaders.crs import parse_user_crs

    out: dict[str, str] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        targets = [p for p in paths if _same_file(name, p)] if sep and name else []
        if not targets:
            name, text, targets = "", spec, list(paths)
        text = text.strip()
        try:
            parse_user_crs(text)
        except ValueError as exc:
            hint = "" if name or "=" not in spec else \
                f" ({spec.partition('=')[0]!r} is not one of the files given)"
            raise UsageError(f"bad --crs {spec!r}{hint}: {_one_line(exc)}") from None
        for target in targets:
            out[target] = text
    return out


def _same_file(name: str, path: str) -> bool:
    """``name`` (as a user typed it) names ``path``: the same text, its file name or
    the same file."""
    from loaders.copc import is_url

    if name == path or (not is_url(path) and Path(path).name == name):
        return True
    try:
        return not is_url(path) and Path(name).resolve() == Path(path).resolve()
    except OSError:
        return False


def drape_orthophotos(specs: Sequence[str], scene: Any) -> None:
    """``--drape LAYER=ORTHO`` options: drape each orthophoto on the layer of ``scene``
    read from the path named ``LAYER`` (a DEM, a mesh or city model, an OSGB / 3D Tiles
    tileset: :func:`viewer.pipeline.drape`, before anything is drawn, so tiles are read
    textured). A file not among the layers, or a layer that takes no orthophoto, is a
    UsageError; a bad orthophoto (or one not over the layer) a LoadError."""
    from viewer import pipeline

    for spec in specs:
        dem, sep, ortho = (part.strip() for part in spec.partition("="))
        if not (sep and dem and ortho):
            raise UsageError(f"bad --drape {spec!r}: expected LAYER=ORTHO")
        layers = [lay for lay in scene.layers if lay.path and _same_file(dem, lay.path)]
        if not layers:
            raise UsageError(f"bad --drape {spec!r}: {dem!r} is not one of the files given")
        for layer in layers:
            try:
                pipeline.drape(scene, layer, ortho)
            except ValueError as exc:
                raise UsageError(f"bad --drape {spec!r}: {exc}") from None


def _batch_options(p: argparse.ArgumentParser) -> None:
    """Options of the folder forms (``index DIR``, ``compare DIR_A DIR_B``) run on Dask."""
    g = p.add_argument_group("folders (run on Dask)")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT|FILE",
                   help="run on this Dask scheduler (its address or --scheduler-file); "
                   "default: a local cluster of worker processes")
    g.add_argument("--workers", type=int, metavar="N",
                   help="local cluster: number of worker processes (default: one per core)")
    g.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="how long to try to reach --scheduler (default 10)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with own_stdout():
        return _main(argv)


def _main(argv: list[str]) -> int:
    debug = "--debug" in argv
    try:
        args = _build_parser().parse_args(argv)
        if args.command is None:
            _build_parser().print_help()
            return 0
        if args.command == "propose":
            return int(cmd_propose(args) or 0)
        handler = {"info": cmd_info, "render": cmd_render, "open": cmd_open,
                   "open-sample": cmd_open_sample, "index": cmd_index,
                   "annotations": cmd_annotations, "tour": cmd_tour,
                   "export": cmd_export, "clip": cmd_clip,
                   "profile": cmd_profile,
                   "compare": cmd_compare, "register": cmd_register,
                   "deviation": cmd_deviation}[args.command]
        return int(handler(args) or 0)
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except UsageError as exc:
        _error(str(exc))
        return 2
    except Exception as exc:
        from loaders import LoadError

        if isinstance(exc, LoadError):
            _error(exc.message)
            return 2
        if debug:
            import traceback

            traceback.print_exc()
        _error(f"unexpected {type(exc).__name__}: {_one_line(exc)}"
               + ("" if debug else " (run with --debug for details)"))
        return 1


def _one_line(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split())
    return text[:500]


def _error(message: str) -> None:
    print(f"{PROG}: error: {_one_line(message)}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------


def _load(path: str) -> Any:
    from loaders import LoadCancelled, LoadError, read

    try:
        return read(path)
    except (LoadError, LoadCancelled):
        raise
    except Exception as exc:  # a reader bug must still name the file
        raise LoadError(path, f"cannot read file: {type(exc).__name__}: "
                        f"{_one_line(exc)}") from None


def _load_source(path: str, allow_redirects: bool = False) -> tuple[Any, Any]:
    """``(data, lod)``: a local file read whole (``lod`` None), or an http(s) URL of a
    COPC opened for streaming, as the window does (File > Open URL): ``data`` is its top
    levels, ``lod`` the :class:`~loaders.copc.CopcSource` (close it when done)."""
    from loaders import LoadCancelled, LoadError
    from loaders.copc import is_url, open_copc
    from viewer.pipeline import is_tileset_url

    if is_tileset_url(path):  # a 3D Tiles tileset over http(s): streamed tile by tile
        from viewer.pipeline import read as read_source

        try:
            return read_source(path), None
        except (LoadError, LoadCancelled):
            raise
        except Exception as exc:
            raise LoadError(path, f"cannot open URL: {type(exc).__name__}: "
                            f"{_one_line(exc)}") from None
    if not is_url(path):
        return _load(path), None
    kwargs = {"allow_cross_host_redirects": True} if allow_redirects else {}
    try:
        source = open_copc(path, **kwargs)
    except (LoadError, LoadCancelled):
        raise
    except Exception as exc:
        raise LoadError(path, f"cannot open URL: {type(exc).__name__}: "
                        f"{_one_line(exc)}") from None
    try:
        data = source.preview()
    except BaseException:
        source.close()
        raise
    return data, source


# --------------------------------------------------------------------------------------
# info
# --------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return value.hex() if len(value) <= 64 else f"<{len(value)} bytes>"
    return str(value)


def crs_info(crs: Any) -> dict[str, Any] | None:
    """CRS summary: loaders.crs.crs_summary when available, else name / EPSG / units."""
    if crs is None:
        return None
    try:
        from loaders.crs import crs_summary  # written by the loaders work
    except ImportError:
        crs_summary = None
    if crs_summary is not None:
        try:
            summary = crs_summary(crs)
            if summary is not None:
                return _jsonable(summary if isinstance(summary, dict) else {"name": summary})
        except Exception:
            pass
    info: dict[str, Any] = {"name": getattr(crs, "name", str(crs))}
    try:
        info["epsg"] = crs.to_epsg()
    except Exception:
        info["epsg"] = None
    try:
        info["units"] = [axis.unit_name for axis in crs.axis_info] or None
        if info["units"] and len(set(info["units"])) == 1:
            info["units"] = info["units"][0]
    except Exception:
        info["units"] = None
    return info


def _attribute_ranges(attributes: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in attributes.items():
        values = np.asarray(values)
        entry: dict[str, Any] = {"dtype": str(values.dtype)}
        if values.ndim == 2:
            entry["channels"] = int(values.shape[1])
        if len(values) and values.dtype.kind in "biuf":
            v = values.reshape(len(values), -1).astype(np.float64)
            with np.errstate(invalid="ignore"):
                lo, hi = np.nanmin(v, axis=0), np.nanmax(v, axis=0)
            if values.ndim == 1:
                entry["min"], entry["max"] = lo[0].item(), hi[0].item()
            else:
                entry["min"], entry["max"] = lo.tolist(), hi.tolist()
            if values.dtype.kind in "biu":  # integer values print as integers
                entry["min"] = _intify(entry["min"])
                entry["max"] = _intify(entry["max"])
        out[name] = entry
    return out


def _intify(value: Any) -> Any:
    if isinstance(value, list):
        return [int(v) for v in value]
    return int(value)


def describe(data: Any, path: str, lod: Any = None) -> dict[str, Any]:
    """The facts ``realscene info`` prints, as a JSON-able dict. ``lod``: the streaming
    source ``data`` is the preview of (a COPC URL): counts come from its header."""
    from loaders.georef import coordinate_decimals, display_bounds

    if getattr(data, "kind", None) == "tiles":
        return describe_tiles(data, path)
    meta = dict(data.metadata)
    lo, hi = display_bounds(data)
    info: dict[str, Any] = {
        "path": str(path),
        "kind": data.kind,
        "format": meta.get("format"),
        "version": meta.get("version"),
    }
    if data.kind == "pointcloud":
        info["point_count"] = data.point_count
        if lod is not None:  # streamed: the whole file's count; ranges of the top levels
            info["point_count"] = int(getattr(lod, "total_points", data.point_count))
            info["streamed"] = True
            info["preview_point_count"] = data.point_count
        attributes = _attribute_ranges(data.attributes)
    else:
        info["vertex_count"] = data.vertex_count
        info["triangle_count"] = data.triangle_count
        info["part_count"] = len(data.parts)
        attrs: dict[str, np.ndarray] = {}
        for name in ("normals", "uvs", "vertex_colors", "face_colors"):
            value = getattr(data, name)
            if value is not None:
                attrs[name] = value
        attributes = _attribute_ranges(attrs)
        info["materials"] = sorted({p.material.name for p in data.parts if p.material.name})
        info["textured"] = any(p.material.texture is not None or p.material.texture_path
                               for p in data.parts)
    features = getattr(data, "features", None)
    if features is not None:  # a city model or building model
        info["model_format"] = data.model_format
        info["object_count"] = len(features)
        info["objects_by_type"] = data.counts_by_type()
        info["lods"] = list(data.lod_names)
        sem = data.face_semantic[data.face_semantic >= 0]
        counts = np.bincount(sem, minlength=len(data.semantic_names)) if len(sem) else []
        info["semantic_surfaces"] = {name: int(n) for name, n in
                                     zip(data.semantic_names, counts, strict=False) if n}
        if meta.get("georef"):
            info["georeference"] = {"method": meta["georef"],
                                    "detail": meta.get("georef_detail")}
    info["bounds"] = {"min": [float(v) for v in lo], "max": [float(v) for v in hi]}
    info["coordinate_decimals"] = coordinate_decimals(data)
    info["origin"] = [float(v) for v in data.origin]
    info["crs"] = crs_info(data.crs)
    if data.crs is not None and data.kind == "pointcloud" and data.point_count:
        from loaders.georef import is_geographic, metric_crs_for

        if is_geographic(data.crs):  # what the window and `render` draw it in
            try:
                metric = metric_crs_for(data.crs, *data.bounds)
            except Exception:  # noqa: BLE001 - advisory only
                metric = None
            if metric is not None:
                info["drawn_in"] = crs_info(metric)
    info["attributes"] = attributes
    info["warnings"] = [str(w) for w in meta.get("warnings", [])]
    if data.kind == "pointcloud" and not info.get("point_count"):
        if not any("no points" in w for w in info["warnings"]):
            info["warnings"].append("the file holds no points")
        info["bounds"] = None
    info["metadata"] = _jsonable({k: v for k, v in meta.items()
                                  if k != "warnings" and not k.startswith("_")})
    return _jsonable(info)


def describe_tiles(data: Any, path: str) -> dict[str, Any]:
    """``realscene info`` of a tiled dataset (3D Tiles, OSGB, terrain): its format, CRS
    (and the metric CRS it is drawn in when geocentric), the root's bounding box, the
    top-level tiles (the root's children, read now) and the depth read so far."""
    from loaders import LoadError
    from loaders.georef import tiles_metric_crs

    meta = dict(data.metadata)
    root = data.root
    warnings: list[str] = []
    try:
        top = data.expand(root)
    except LoadError as exc:
        top = []
        warnings.append(str(exc))
    depth, stack = 0, [root]
    while stack:
        tile = stack.pop()
        depth = max(depth, tile.depth)
        stack.extend(tile.children or ())
    lo, hi = data.bounds
    info: dict[str, Any] = {
        "path": str(path), "kind": "tiles", "format": meta.get("format"),
        "version": meta.get("version"),
        "top_level_tiles": len(top), "depth_read": int(depth),
        "root_geometric_error": float(root.geometric_error),
        "root_has_content": root.content is not None,
        "bounds": {"min": [float(v) for v in lo], "max": [float(v) for v in hi]},
        "coordinate_decimals": 3,
        "crs": crs_info(data.native_crs),
    }
    try:
        metric = tiles_metric_crs(data)
    except Exception:  # noqa: BLE001 - advisory only
        metric = None
    if metric is not None:
        info["drawn_in"] = crs_info(metric)
    info["attributes"] = {}
    info["warnings"] = [str(w) for w in [*meta.get("warnings", []), *warnings]]
    info["metadata"] = _jsonable({k: v for k, v in meta.items()
                                  if k != "warnings" and not k.startswith("_")})
    return _jsonable(info)


def _format_info(info: dict[str, Any]) -> str:
    lines = [f"{info['path']}",
             f"  format:     {info.get('format')}"
             + (f" {info['version']}" if info.get("version") else ""),
             f"  kind:       {info['kind']}"]
    if info["kind"] == "tiles":
        lines.append(f"  tiles:      {info['top_level_tiles']:,} top-level (children of the "
                     f"root), depth read so far {info['depth_read']}")
        lines.append(f"  root error: {info['root_geometric_error']:g}"
                     + ("" if info["root_has_content"] else " (the root has no content)"))
        lines.append("  bounds:     the root's bounding sphere, in the CRS below")
    elif info["kind"] == "pointcloud":
        lines.append(f"  points:     {info['point_count']:,}"
                     + (f" (streamed; top levels read: {info['preview_point_count']:,})"
                        if info.get("streamed") else ""))
    else:
        lines.append(f"  vertices:   {info['vertex_count']:,}")
        lines.append(f"  triangles:  {info['triangle_count']:,}")
        lines.append(f"  parts:      {info.get('part_count', 0)}")
    if "object_count" in info:
        lines.append(f"  objects:    {info['object_count']:,} ({info['model_format']})")
        for kind, n in info["objects_by_type"].items():
            lines.append(f"    {kind:<28} {n:>7,}")
        lines.append("  LODs:       " + (", ".join(info["lods"]) or "one (not stated)"))
        if info["semantic_surfaces"]:
            lines.append("  surfaces:   " + ", ".join(
                f"{k} {v:,}" for k, v in info["semantic_surfaces"].items()) + " triangles")
        if info.get("georeference"):
            lines.append(f"  georef:     {info['georeference']['method']}")
    if info["bounds"] is None:
        lines.append("  bounds:     none (no points)")
    else:
        lo, hi = info["bounds"]["min"], info["bounds"]["max"]
        d = int(info.get("coordinate_decimals", 3))
        lines.append("  bounds min: " + "  ".join(f"{v:.{d}f}" for v in lo))
        lines.append("  bounds max: " + "  ".join(f"{v:.{d}f}" for v in hi))
    crs = info.get("crs")
    if crs:
        parts = [str(crs.get("name"))]
        if crs.get("epsg"):
            parts.append(f"EPSG:{crs['epsg']}")
        units = crs.get("units") or crs.get("horizontal_units")
        if units:
            parts.append(f"units: {units}")
        lines.append("  crs:        " + ", ".join(parts))
    else:
        lines.append("  crs:        none")
    if info.get("drawn_in"):
        drawn = info["drawn_in"]
        lines.append(f"  drawn in:   {drawn.get('name')}"
                     + (f", EPSG:{drawn['epsg']}" if drawn.get("epsg") else "")
                     + " (a metric projection chosen for its "
                     + ("geocentric" if info["kind"] == "tiles" else "geographic")
                     + " coordinates)")
    if info["attributes"]:
        lines.append("  attributes:")
        for name, a in info["attributes"].items():
            rng = f"  {a['min']} .. {a['max']}" if "min" in a else ""
            lines.append(f"    {name:<20} {a['dtype']:<8}{rng}")
    for w in info["warnings"]:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def describe_project(path: str) -> dict[str, Any]:
    """The facts ``realscene info PROJECT`` prints: CRS, layers with their display
    settings (and whether their files are there), views, tours, annotation counts."""
    from heritage.project import Project, ProjectError

    try:
        project = Project.load(path)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    missing = {id(r) for r in project.missing_layers()}
    return _jsonable({
        "path": str(path), "format": "RealScene project", "title": project.title,
        "crs": project.crs,
        "layers": [{"name": r.name, "path": r.path, "found": id(r) not in missing,
                    "display": r.display} for r in project.layers],
        "views": [v.name for v in project.views],
        "tours": [t.name for t in project.tours],
        "annotations": len(project.annotations),
        "measurements": len(project.measurements),
        "warnings": list(project.warnings)})


def _format_project_info(info: dict[str, Any]) -> str:
    lines = [f"{info['path']}", f"  format:     {info['format']}",
             f"  title:      {info['title']}", f"  crs:        {info['crs'] or 'none'}",
             f"  layers:     {len(info['layers'])}"]
    for layer in info["layers"]:
        settings = ", ".join(f"{k} {v}" for k, v in layer["display"].items())
        lines.append(f"    {layer['name']:<28} {layer['path']}"
                     + ("" if layer["found"] else "  (missing)")
                     + (f"  [{settings}]" if settings else ""))
    lines.append("  views:      " + (", ".join(info["views"]) or "none"))
    lines.append("  tours:      " + (", ".join(info["tours"]) or "none"))
    lines.append(f"  annotations: {info['annotations']:,}, measurements: "
                 f"{info['measurements']:,}")
    for w in info["warnings"]:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    if _is_local_project(args.path):
        if args.crs:
            raise UsageError(f"{args.path}: --crs is for data files (a project keeps the "
                             "CRS assigned to each layer)")
        info = describe_project(args.path)
        say(json.dumps(info, indent=2) if args.json else _format_project_info(info))
        return 0
    data, lod = _load_source(args.path, getattr(args, "allow_redirects", False))
    crs = assigned_crs(args.crs, [args.path]).get(args.path)
    try:
        if crs is not None:  # the file's numbers, taken to be in this CRS
            from viewer.pipeline import assign_data_crs

            assigned = assign_data_crs(data, crs)
            if lod is not None:
                lod.crs = assigned
        info = describe(data, args.path, lod)
    finally:
        if lod is not None:
            lod.close()
    if args.json:
        say(json.dumps(info, indent=2))
    else:
        say(_format_info(info))
    return 0


# --------------------------------------------------------------------------------------
# render
# --------------------------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"bad --size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x800") from None
    if not (1 <= w <= 16384 and 1 <= h <= 16384):
        raise UsageError(f"bad --size {text!r}: width and height must be 1..16384")
    return w, h


def parse_color(text: str) -> tuple[float, float, float]:
    text = text.strip()
    if "," in text:
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) == 3:
            if max(values) > 1.0:
                values = [v / 255.0 for v in values]
            if all(0.0 <= v <= 1.0 for v in values):
                return tuple(values)  # type: ignore[return-value]
        raise UsageError(f"bad --background {text!r}: expected r,g,b")
    try:
        import pyvista as pv

        return tuple(float(v) for v in pv.Color(text).float_rgb)  # type: ignore[return-value]
    except Exception:
        raise UsageError(f"bad --background {text!r}: unknown colour "
                         "(use a name, #rrggbb or r,g,b)") from None


def _apply_color_by(layers: list[Any], spec: str) -> None:
    from viewer import colors
    from viewer.scene import COLOR_MODES_MESH, COLOR_MODES_POINTS, COLOR_MODES_TILES

    known = set(COLOR_MODES_POINTS) | set(COLOR_MODES_MESH) | set(COLOR_MODES_TILES)
    if spec.startswith("attribute:"):
        mode, attribute = "attribute", spec.split(":", 1)[1]
    elif spec in known:
        mode, attribute = spec, None
    else:
        mode, attribute = "attribute", spec
    applied, reasons = 0, []
    for layer in layers:
        try:
            colors.check_color_mode(layer, mode, attribute)
        except ValueError as exc:
            reasons.append(f"{layer.path}: {exc}")
            continue
        layer.color_mode = mode
        if attribute is not None:
            layer.attribute = attribute
        applied += 1
    if not applied:
        if mode == "attribute" and not spec.startswith("attribute:"):
            names = sorted(known)
            raise UsageError(f"{layers[0].path}: unknown colour mode {spec!r} (modes: "
                             f"{', '.join(names)}, attribute:NAME; "
                             f"{reasons[0].split(': ', 1)[1]})")
        raise UsageError(reasons[0])


def parse_budget(text: str | None) -> int | str | None:
    """``--budget``: a positive number of points (``2M``, ``500k`` allowed) or auto."""
    if text is None:
        return None
    value = str(text).strip().lower().replace("_", "").replace(",", "")
    if value == "auto":
        return "auto"
    scale = {"k": 1_000, "m": 1_000_000}.get(value[-1:], 1)
    try:
        number = float(value[:-1] if scale > 1 else value) * scale
    except ValueError:
        number = -1
    if not (1 <= number <= 1e10) or number != int(number):
        raise UsageError(f"bad --budget {text!r}: expected a number of points or auto")
    return int(number)


def cmd_render(args: argparse.Namespace) -> int:
    size = parse_size(args.size)
    budget = parse_budget(args.budget)
    background = parse_color(args.background) if args.background else None
    if args.point_size is not None and not (0 < args.point_size <= 100):
        raise UsageError(f"bad --point-size {args.point_size}: expected 0 < N <= 100")
    if args.msaa is not None and not (0 <= args.msaa <= 16):
        raise UsageError(f"bad --msaa {args.msaa}: expected 0..16 samples")
    out = Path(args.output)
    video = args.turntable is not None or args.tour is not None
    if video:
        if out.suffix.lower() != ".mp4":
            raise UsageError(f"{out}: a video (--turntable, --tour) is written as .mp4")
        if args.transparent:
            raise UsageError("--transparent is for pictures (H.264 videos have no alpha)")
        if size[0] % 2 or size[1] % 2 or min(size) < 16:
            raise UsageError(f"bad --size {args.size!r}: H.264 videos need an even width "
                             "and height of at least 16")
        if args.turntable is not None and not (math.isfinite(args.turntable)
                                               and 0 < args.turntable <= 3600):
            raise UsageError(f"bad --turntable {args.turntable:g}: expected 0 < SECONDS "
                             "<= 3600")
        if not (math.isfinite(args.fps) and 0 < args.fps <= 240):
            raise UsageError(f"bad --fps {args.fps:g}: expected 0 < N <= 240")
    elif out.suffix.lower() != ".png":
        raise UsageError(f"{out}: output must be a .png file (or .mp4 with --turntable "
                         "or --tour)")
    if out.parent and not out.parent.exists():
        raise UsageError(f"{out}: folder {out.parent} does not exist")
    allow = getattr(args, "allow_redirects", False)
    from viewer import offscreen, pipeline

    offscreen.preload()  # VTK loads while the files are read

    def warn(message: str) -> None:
        print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)

    if len(args.paths) == 1 and _is_local_project(args.paths[0]):
        if args.crs:
            raise UsageError(f"{args.paths[0]}: --crs is for data files (a project keeps "
                             "the CRS assigned to each layer)")
        session = _open_project(args.paths[0], allow, warn)
        scene = session.scene
        if args.tour is not None:
            from viewer.tours import UnknownTour, find_tour

            try:
                find_tour(session.project, args.tour)
            except UnknownTour as exc:
                pipeline.close_scene(scene)
                raise UsageError(f"{args.paths[0]}: {exc}") from None
        if not scene.layers:
            pipeline.close_scene(scene)
            raise UsageError(f"{args.paths[0]}: none of the project's layers could be "
                             "opened")
    else:
        for p in args.paths:
            if _is_local_project(p):
                raise UsageError(f"{p}: a project renders on its own (render PROJECT -o "
                                 "OUT.png)")
        if args.tour is not None:
            raise UsageError("--tour needs a project (render PROJECT --tour NAME -o OUT.mp4)")
        session, scene = None, _open_files(args.paths, allow, warn,
                                           assigned_crs(args.crs, args.paths))
    try:
        drape_orthophotos(args.drape, scene)
    except BaseException:
        pipeline.close_scene(scene)
        raise
    # a project opens on its first saved view (a still; videos keep iso)
    opening = session.opening_view() if session is not None and not video else None
    view = args.view or (opening.name if opening is not None else "iso")
    try:
        return _render(args, out, size, budget, background, scene, session, view)
    finally:
        pipeline.close_scene(scene)


def _is_local_project(path: str) -> bool:
    from loaders.copc import is_url
    from viewer.pipeline import is_project

    return not is_url(path) and is_project(path)


def _open_files(paths: Sequence[str], allow: bool, warn: Any,
                crs: dict[str, str] | None = None) -> Any:
    """The scene of ``paths`` through the window's pipeline (one CRS, level of detail),
    files in ``crs`` taken to be in the CRS given for them; a reader bug still names its
    file."""
    from loaders import LoadCancelled, LoadError
    from viewer import pipeline
    from viewer.scene import Scene

    scene = Scene()
    for p in paths:
        try:
            pipeline.open_files([p], scene, allow_redirects=allow,
                                on_warning=lambda m: warn(m), assign_crs=crs)
        except (LoadError, LoadCancelled):
            pipeline.close_scene(scene)
            raise
        except Exception as exc:
            pipeline.close_scene(scene)
            raise LoadError(p, f"cannot read file: {type(exc).__name__}: "
                            f"{_one_line(exc)}") from None
    return scene


def _open_project(path: str, allow: bool, warn: Any) -> Any:
    from heritage.project import ProjectError
    from viewer import pipeline

    try:
        return pipeline.open_project(path, on_warning=warn, allow_redirects=allow)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None


def _render(args: argparse.Namespace, out: Path, size: tuple[int, int], budget: Any,
            background: Any, scene: Any, session: Any, view: str) -> int:
    from viewer.offscreen import OffscreenRenderer, UnknownView

    layers = list(scene.layers)
    if args.color_by:
        _apply_color_by(layers, args.color_by)
    if args.point_size is not None:
        for layer in layers:
            layer.point_size = float(args.point_size)
    for layer in layers:
        if args.point_size_mode:
            layer.point_size_mode = args.point_size_mode
        if args.round_points:
            layer.point_shape = "round"
    if background is not None:
        scene.background = background
    clip_box = getattr(args, "clip_box", None)
    if clip_box is not None:
        from heritage.monitoring.clip import Box

        try:
            box = Box.parse(clip_box)
        except ValueError as exc:
            raise UsageError(f"bad --clip-box: {exc}") from None
        scene.set_clip(box, inside=not args.clip_outside, outline=args.clip_outline)
    elif getattr(args, "clip_outside", False) or getattr(args, "clip_outline", False):
        raise UsageError("--clip-outside and --clip-outline go with --clip-box")
    edl_strength = getattr(args, "edl_strength", None)
    edl_radius = getattr(args, "edl_radius", None)
    if args.edl or edl_strength is not None or edl_radius is not None:
        try:
            scene.set_edl(True, strength=edl_strength, radius=edl_radius)
        except ValueError as exc:
            raise UsageError(f"bad --edl-strength/--edl-radius: {exc}") from None
    from viewer import media_render

    shown = [-1]

    def progress(fraction: float, message: str) -> None:
        percent = int(fraction * 100)
        if sys.stderr.isatty() and percent != shown[0]:
            shown[0] = percent
            print(f"\r{percent:3d}% {message}   ", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    from viewer.scene import Decorations

    decorations = Decorations(axes=args.axes, scale_bar=args.scale_bar,
                              north_arrow=args.north_arrow, title=args.title,
                              attribution=not args.no_attribution)
    with OffscreenRenderer(scene, size, session=session, point_budget=budget,
                           multi_samples=args.msaa, decorations=decorations,
                           attribution=args.attribution) as renderer:
        try:
            if args.turntable is not None:
                path = media_render.turntable(renderer, args.turntable, args.fps, view)
            elif args.tour is not None:
                path = media_render.tour_path(renderer, session.project, args.tour,
                                              args.fps, view)
            else:
                path = None
            if path is None:
                media_render.StillJob(renderer, out, size, view=view,
                                      transparent=args.transparent, progress=progress).run()
            else:
                media_render.VideoJob(renderer, out, path, size, args.fps,
                                      progress=progress).run()
        except UnknownView as exc:
            raise UsageError(f"{args.paths[0]}: {exc}") from None
        except OSError as exc:
            raise UsageError(f"{exc.filename or out}: cannot write: "
                             f"{exc.strerror or exc}") from None
        finally:
            if shown[0] >= 0:
                print(file=sys.stderr)
    say(out)
    if path is not None:
        print(f"{path[0]} frames at {args.fps:g} fps, {size[0]}x{size[1]}, H.264, in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------
# index (COPC)
# --------------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace) -> int:
    import time

    from loaders.writers.copc import write_copc

    if not Path(args.path).exists():
        raise UsageError(f"{args.path}: file not found")
    if Path(args.path).is_dir():
        return cmd_index_folder(args)
    if args.scheduler is not None or args.workers is not None:
        raise UsageError("--scheduler and --workers are for a folder (index DIR)")
    started = time.perf_counter()
    last = [""]
    show = _index_progress()

    def progress(fraction: float, message: str) -> None:
        last[0] = message
        show(fraction, message)

    out = write_copc(args.path, args.output, progress=progress)
    say(out)
    summary = last[0] if last[0].startswith("Wrote") else "indexed"
    print(f"{summary.split(' in ')[0]} in {time.perf_counter() - started:.2f} s",
          file=sys.stderr)
    return 0


def _index_progress(stream=None, interval: float = 0.5):
    """Progress of ``index FILE`` on stderr: ``indexing: decoding 12% (3.6M of 30M
    points)``, a line when a phase starts and, on a terminal, at most every ``interval``
    seconds (the writer's messages are ``"phase: detail"``)."""
    import time

    stream = stream or sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    state = {"phase": None, "at": 0.0}

    def show(fraction: float, message: str) -> None:
        if message.startswith(("Wrote", "Already")):
            return
        phase, sep, detail = message.partition(": ")
        now = time.monotonic()
        if phase == state["phase"] and (not tty or now - state["at"] < interval):
            return
        state["phase"], state["at"] = phase, now
        if sep:
            text = f"{phase} {100 * fraction:.0f}% ({detail})"
        else:  # a fixed message ("Checking the COPC file")
            text = f"{message[:1].lower()}{message[1:]} {100 * fraction:.0f}%"
        print(f"indexing: {text}", file=stream, flush=True)

    return show


def _batch_progress(done: int, total: int, record: dict) -> None:
    """One line per tile on stderr as it finishes: done / skipped / failed (and why)."""
    status = record.get("status")
    if status == "failed":
        text = f"FAILED: {record.get('reason', '?')}"
    elif status == "skipped":
        text = "skipped (already done)"
    else:
        worker = (record.get("worker") or {}).get("address") or "?"
        text = f"done in {record.get('seconds', 0):.2f} s on {worker}"
    print(f"[{done}/{total}] {record.get('name')}: {text}", file=sys.stderr, flush=True)


def _batch_finish(summary: dict) -> int:
    """Print the summary's path; exit code 2 (with one line) when a tile failed."""
    from heritage.monitoring.batch import SUMMARY

    out = Path(summary["output_folder"])
    counts = summary["counts"]
    for item in summary.get("refused", []):
        print(f"refused {item['file']}: {item['reason']}", file=sys.stderr)
    for key in ("only_in_a", "only_in_b"):
        for path in summary.get(key, []):
            print(f"unpaired ({key.replace('_', ' ')}): {path}", file=sys.stderr)
    print(f"{counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed "
          f"of {summary['tiles_total']} tiles in {summary['seconds']:.2f} s", file=sys.stderr)
    say(out / SUMMARY)
    if counts["failed"]:
        first = summary["failed"][0]
        raise UsageError(f"{counts['failed']} of {summary['tiles_total']} tiles failed "
                         f"(first: {first['reason']}); see {out / SUMMARY}")
    return 0


def cmd_index_folder(args: argparse.Namespace) -> int:
    """``realscene index DIR [-o OUT_DIR] [--scheduler ...]``: every LAS/LAZ on Dask."""
    from heritage.monitoring.batch import BatchError, index_folder

    try:
        summary = index_folder(args.path, args.output, scheduler=args.scheduler,
                               n_workers=args.workers, progress=_batch_progress,
                               connect_timeout=args.connect_timeout)
    except BatchError as exc:
        raise UsageError(str(exc)) from None
    return _batch_finish(summary)


def cmd_compare_folders(args: argparse.Namespace) -> int:
    """``realscene compare DIR_A DIR_B -o OUT_DIR [--method ...] [--scheduler ...]``:
    tiles paired by name, one comparison per pair on Dask."""
    from heritage.monitoring.batch import BatchError, compare_folders

    if not args.output:
        raise UsageError("compare DIR_A DIR_B needs -o OUT_DIR")
    if getattr(args, "report", None):
        raise UsageError("--report is for two files; a folder comparison writes "
                         "OUT_DIR/summary.json with every tile's statistics")
    options = {k: v for k, v in _compare_options(args).items() if k != "method"}
    try:
        summary = compare_folders(args.a, args.b, args.output,
                                  method=getattr(args, "method", None) or "c2c",
                                  options=options, scheduler=args.scheduler,
                                  n_workers=args.workers, progress=_batch_progress,
                                  connect_timeout=args.connect_timeout)
    except BatchError as exc:
        raise UsageError(str(exc)) from None
    return _batch_finish(summary)


def cmd_compare(args: argparse.Namespace) -> int:
    """``realscene compare A B --method c2c|m3c2 -o OUT.laz [--report OUT.html]``: two
    files (:func:`heritage.monitoring.change.compare_files`); two folders go to
    :func:`cmd_compare_folders` (Dask)."""
    a, b = Path(args.a), Path(args.b)
    if a.is_dir() and b.is_dir():
        return cmd_compare_folders(args)
    if a.is_dir() or b.is_dir():
        raise UsageError("compare two files (A B) or two folders (DIR_A DIR_B), not one "
                         "of each")
    from heritage.monitoring.change import ChangeCancelled, compare_files

    for path in (a, b):
        if not path.exists():
            raise UsageError(f"{path}: file not found")
    if args.scheduler is not None or args.workers is not None:
        raise UsageError("--scheduler and --workers are for folders (compare DIR_A DIR_B)")
    if not args.output:
        raise UsageError("compare A B needs -o OUT.laz (B with the distances)")
    method = args.method or "c2c"
    options = {k: v for k, v in _compare_options(args).items() if k != "method"}
    wrong = sorted(k for k in options if k in
                   ({"local_model", "k", "signed"} if method == "m3c2" else
                    {"normal_radii", "cyl_radius", "max_distance", "registration_error",
                     "core_spacing", "robust", "min_points"}))
    if wrong:
        raise UsageError(f"--{wrong[0].replace('_', '-')} is not an option of --method "
                         f"{method}")
    try:
        result = compare_files(a, b, args.output, method=method, report_path=args.report,
                               **options)
    except ChangeCancelled:
        raise KeyboardInterrupt from None
    except ValueError as exc:
        raise UsageError(_one_line(exc)) from None
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    s = result.stats
    line = (f"{result.method}: {s.valid:,} of {s.count:,} points of {result.epoch_b['name']}"
            f" measured against {result.count_a:,} of {result.epoch_a['name']}; mean "
            f"{s.mean:.4f} m, median {s.median:.4f} m, p95 |d| {s.p95_abs:.4f} m, max |d| "
            f"{s.max_abs:.4f} m")
    if s.share_significant is not None:
        line += f"; significant {s.significant:,} ({100 * s.share_significant:.2f} %)"
    print(f"{line}; {result.seconds:.2f} s", file=sys.stderr)
    say(result.out_path)
    if result.report_path:
        say(result.report_path)
    return 0


def cmd_deviation(args: argparse.Namespace) -> int:
    """``realscene deviation SCAN MODEL [--tolerance T] -o OUT.csv [--laz OUT.laz]``:
    :func:`heritage.monitoring.deviation.deviation_files`."""
    from heritage.monitoring.deviation import DeviationCancelled, deviation_files

    for path in (Path(args.scan), Path(args.model)):
        if not path.exists():
            raise UsageError(f"{path}: file not found")
    if not args.output.lower().endswith(".csv"):
        raise UsageError(f"{args.output}: the summary is a .csv file")
    try:
        done = deviation_files(args.scan, args.model, args.output, laz_path=args.laz,
                               tolerance=args.tolerance, max_distance=args.max_distance)
    except DeviationCancelled:
        raise KeyboardInterrupt from None
    except ValueError as exc:
        raise UsageError(_one_line(exc)) from None
    result = done.result
    for warning in done.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"deviation: {result.assigned:,} of {done.scan_count:,} points within "
          f"{result.max_distance:g} m of {len(result.objects):,} objects; tolerance "
          f"{result.tolerance:g} m; {result.seconds:.2f} s", file=sys.stderr)
    for o in result.objects[:10]:
        print(f"  {o.key}  {o.type}  {o.points:,} points  mean {o.mean:+.3f} m  "
              f"mean |d| {o.mean_abs:.3f} m  max |d| {o.max_abs:.3f} m  "
              f"beyond {100 * o.beyond:.1f} %", file=sys.stderr)
    say(done.csv_path)
    if done.laz_path:
        say(done.laz_path)
    return 0


def _compare_options(args: argparse.Namespace) -> dict:
    """The per-pair options of ``compare`` given on the command line (None: not given)."""
    skip = {"a", "b", "output", "scheduler", "workers", "connect_timeout", "command",
            "debug", "report"}
    return {k: v for k, v in vars(args).items() if k not in skip and v is not None}


# --------------------------------------------------------------------------------------
# annotations (heritage exchange)
# --------------------------------------------------------------------------------------


def cmd_annotations(args: argparse.Namespace) -> int:
    from heritage.exchange import ExchangeError, export, merge_into, read_file
    from heritage.project import Project, ProjectError, same_file

    for source in [args.project] + ([args.import_file] if args.import_file else []):
        if same_file(args.output, source):  # (links and other spellings included)
            raise UsageError(f"{args.output}: is the input {source}; writing it would "
                             "overwrite it (choose another output name)")

    def warn(message: str) -> None:
        print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)

    try:
        project = Project.load(args.project)
        for warning in project.warnings:
            warn(f"{args.project}: {warning}")
        if args.export:
            if args.export == "report" and not args.no_views:
                with _OffscreenViews(project, parse_size(args.size)) as views:
                    say(export(project, args.export, args.output,
                               render_view=views.render, on_warning=warn, lang=args.lang))
            else:
                say(export(project, args.export, args.output, on_warning=warn,
                           lang=args.lang))
            return 0
        result = read_file(args.import_file)
        added, replaced = merge_into(project, result, args.import_file)
        out = project.save(args.output)
    except (ProjectError, ExchangeError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{exc.filename or args.output}: cannot write: "
                         f"{exc.strerror or exc}") from None
    say(out)
    if result.crs is None and project.crs:
        print(f"{PROG}: warning: {args.import_file} states no CRS; assumed to be the "
              f"project's ({project.crs})", file=sys.stderr)
    print(f"{len(result.annotations)} annotations read ({result.format}): {added} added, "
          f"{replaced} replaced", file=sys.stderr)
    return 0


class _OffscreenViews:
    """Renders each annotation's view of a project's layers off screen (for reports),
    through the pipeline and the off-screen renderer ``render`` uses. Layers that cannot
    be opened are reported on stderr and left out of the views."""

    def __init__(self, project, size: tuple[int, int]) -> None:
        self.project, self.size = project, size
        self.scene = self.offscreen = None

    def __enter__(self) -> "_OffscreenViews":
        from viewer import pipeline
        from viewer.offscreen import OffscreenRenderer

        def warn(message: str) -> None:
            if message.endswith("; left out"):
                message += " of the report's views"
            print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)

        session = pipeline.open_project(self.project, on_warning=warn)
        self.scene = session.scene
        if not self.scene.layers:
            return self
        self.offscreen = OffscreenRenderer(self.scene, self.size, session=session)
        self.offscreen.__enter__()
        return self

    def render(self, annotation) -> bytes | None:
        if self.offscreen is None:
            return None
        return self.offscreen.annotation_png(annotation)

    def __exit__(self, *exc) -> None:
        from viewer import pipeline

        if self.offscreen is not None:
            self.offscreen.close()
        if self.scene is not None:
            pipeline.close_scene(self.scene)


# --------------------------------------------------------------------------------------
# tour frames
# --------------------------------------------------------------------------------------


def cmd_propose(args: argparse.Namespace) -> int:
    """``realscene propose CHANGED.laz --project P``: clusters of significant change
    (:mod:`heritage.monitoring.clusters`) added to the project as proposals."""
    from datetime import date

    from heritage.project import Project, ProjectError
    from viewer.scene import Scene
    from viewer.session import ProjectSession

    for value in (args.date_a, args.date_b):
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise UsageError(f"bad date {value!r}: use YYYY-MM-DD") from None
    if not Path(args.changed).exists():
        raise UsageError(f"{args.changed}: file not found")
    try:
        project = Project.load(args.project)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    session = ProjectSession(Scene(), project)
    made = session.propose_annotations(args.changed, threshold=args.threshold,
                                       date_a=args.date_a, date_b=args.date_b,
                                       lang=args.lang, min_points=args.min_points,
                                       min_area=args.min_area)
    project.save()
    for a in made:
        print(f"{a.id}\t{a.category}\t{a.title}", file=sys.stderr)
    print(f"{len(made)} proposals added to {args.project} "
          f"({len(project.proposals)} waiting to be accepted or rejected)", file=sys.stderr)
    return 0


def cmd_clip(args: argparse.Namespace) -> int:
    """``realscene clip PATH --box ...|--polygon WKT [--outside] -o OUT``."""
    from heritage.monitoring.clip import Box, Polygon, clip_file

    if not Path(args.path).exists():
        raise UsageError(f"{args.path}: file not found")
    try:
        if args.box is not None:
            if args.zmin is not None or args.zmax is not None:
                raise ValueError("--zmin/--zmax go with --polygon (a box has its own Z range)")
            region = Box.parse(args.box, angle=args.angle)
        else:
            if args.angle:
                raise ValueError("--angle goes with --box")
            region = Polygon.from_wkt(args.polygon, args.zmin, args.zmax)
    except ValueError as exc:
        raise UsageError(f"bad clip region: {_one_line(exc)}") from None
    result = clip_file(args.path, region, args.output, outside=args.outside)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    how = (f"{result.nodes_read} of {result.nodes_total}+ COPC nodes" if result.copc_query
           else "the whole file")
    print(f"{result.points_written:,} of {result.source_points:,} points written "
          f"(read {result.points_read:,} points, {result.bytes_read:,} bytes from {how}) "
          f"in {result.seconds:.2f} s", file=sys.stderr)
    say(result.output)
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """``realscene profile PATH... --line X1,Y1,X2,Y2 --width W -o OUT``: the section
    (heritage.monitoring.profile) written as SVG, PNG or CSV."""
    from heritage.monitoring.profile import OUTPUT_SUFFIXES, ProfileLine, profile_files

    from .colormaps import CLASS_TABLE

    for path in args.paths:
        if not Path(path).exists():
            raise UsageError(f"{path}: file not found")
    if Path(args.output).suffix.lower() not in OUTPUT_SUFFIXES:
        raise UsageError(f"{args.output}: the output must end in .svg, .png or .csv")
    try:
        line = ProfileLine.parse(args.line, args.width)
    except ValueError as exc:
        raise UsageError(f"bad profile line: {_one_line(exc)}") from None
    profile = profile_files(args.paths, line)
    for warning in profile.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not profile.point_count and not profile.segment_count:
        print("warning: nothing lies in the section (is the line in the files' "
              "coordinates?)", file=sys.stderr)
    out = profile.write(args.output, class_table=CLASS_TABLE, title=args.title)
    print(f"{profile.point_count:,} points and {profile.segment_count:,} cut-line segments "
          f"along {line.length:.2f} {profile.units} (width {line.width:g})", file=sys.stderr)
    say(out)
    return 0


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def cmd_register(args: argparse.Namespace) -> int:
    """``realscene register A B -o B_aligned.laz``: B onto A (heritage.monitoring.register),
    B written moved at full resolution, the transform as JSON beside it."""
    from heritage.monitoring import register as reg

    for path in (args.a, args.b):
        if not Path(path).exists():
            raise UsageError(f"{path}: file not found")
    out = Path(args.output)
    if out.suffix.lower() not in (".las", ".laz"):
        raise UsageError(f"{args.output}: the output must end in .las or .laz")
    if args.no_icp and args.pairs is None:
        raise UsageError("--no-icp needs --pairs (nothing else to align by)")
    if args.allow_scale and args.pairs is None:
        raise UsageError("--allow-scale goes with --pairs")
    pairs = reg.read_pairs_csv(args.pairs) if args.pairs else None
    options: dict[str, Any] = {}
    if args.max_distance is not None:
        options["max_distance"] = args.max_distance
    if args.voxel is not None:
        options["voxel"] = args.voxel
    try:
        result = reg.register_files(args.a, args.b, pairs, allow_scale=args.allow_scale,
                                    icp=not args.no_icp, **options)
    except ValueError as exc:
        raise UsageError(f"cannot register {args.b} onto {args.a}: {_one_line(exc)}") from None
    count = reg.write_registered(args.b, out, result.matrix)
    transform = reg.write_transform_json(reg.transform_path(out), result, args.a, args.b)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.no_icp:
        say(f"point pairs RMS {result.pairs_rms:.4f} m (no ICP)")
    else:
        say(result.summary())
    print(f"{count:,} points written to {out}; transform in {transform}", file=sys.stderr)
    say(out)
    return 0


def cmd_tour(args: argparse.Namespace) -> int:
    """The frames of a project's tour, from the Qt-free camera path (viewer.tours) the
    window's player uses, rendered off screen with the project as saved (viewer.api)."""
    import time

    from heritage.project import Project, ProjectError
    from viewer.tours import UnknownTour, find_tour

    size = parse_size(args.size)
    if not (math.isfinite(args.fps) and 0 < args.fps <= 240):
        raise UsageError(f"bad --fps {args.fps:g}: expected 0 < N <= 240")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: not a folder (frames are written into a folder)")
    if out.is_dir() and any(out.glob("frame_*.png")):
        raise UsageError(f"{out}: already holds frames (frame_*.png); choose an empty or "
                         "new folder")
    try:
        project = Project.load(args.project)
        find_tour(project, args.name)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    except UnknownTour as exc:
        raise UsageError(f"{args.project}: {exc}") from None
    from viewer.api import open_project

    started = time.perf_counter()
    with open_project(project) as site:
        for warning in [f"{args.project}: {w}" for w in project.warnings] + site.warnings:
            print(f"{PROG}: warning: {_one_line(warning)}", file=sys.stderr)
        if not site.scene.layers:
            raise UsageError(f"{args.project}: none of the project's layers could be opened")
        try:
            frames = site.render_tour(args.name, out, size=size, fps=args.fps)
        except OSError as exc:
            raise UsageError(f"{exc.filename or out}: cannot write: "
                             f"{exc.strerror or exc}") from None
    say(out)
    print(f"{len(frames)} frames of “{args.name}” at {args.fps:g} fps, {size[0]}x{size[1]}, "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------
# exhibits (curator exports)
# --------------------------------------------------------------------------------------


def annotation_choice(text: str) -> Any:
    """``--annotations``: "all", "none", "category:KEY,..." (a filter) or "ID,..."."""
    from viewer.exhibit import by_category

    text = text.strip()
    if text in ("all", "none"):
        return text
    if text.startswith("category:"):
        keys = [k.strip() for k in text[len("category:"):].split(",") if k.strip()]
        if not keys:
            raise UsageError("bad --annotations: category: needs one or more category keys")
        return by_category(*keys)
    ids = [i.strip() for i in text.split(",") if i.strip()]
    if not ids:
        raise UsageError("bad --annotations: expected all, none, IDs or category:KEYS")
    return ids


class _ExportProgress:
    """Export progress as lines on stderr: one when the step changes, else every 10%."""

    def __init__(self) -> None:
        self.shown = (-10, "")

    def __call__(self, fraction: float, message: str) -> None:
        percent = int(max(0.0, min(1.0, float(fraction))) * 100)
        if message != self.shown[1] or percent >= self.shown[0] + 10:
            self.shown = (percent, message)
            print(f"{PROG}: export: {percent:3d}% {message}", file=sys.stderr, flush=True)


def cmd_export(args: argparse.Namespace) -> int:
    """An exhibit of a project (its layers as saved, annotations, tours, views) through the
    export step the window and scripts use (:func:`viewer.exhibit.export_exhibit`, via
    :meth:`viewer.api.Site.export_exhibit`)."""
    import time

    from heritage.exhibits import FORMATS, ExportError
    from heritage.project import Project, ProjectError
    from viewer.exhibit import check_output, format_available, format_options

    fmt = str(args.format).lower()
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {args.format!r}: one of {', '.join(FORMATS)}")
    try:
        project = Project.load(args.project)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    inputs = [Path(args.project)] + [project.absolute(r.path) for r in project.layers]
    try:  # before any layer is read: never the project or one of its files
        check_output(fmt, args.output, inputs)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not format_available(fmt):
        from heritage.exhibits import available_formats

        have = ", ".join(available_formats()) or "none"
        raise UsageError(f"format {fmt} is not available yet in this version "
                         f"(available: {have})")
    annotations = annotation_choice(args.annotations)
    layers = [n.strip() for n in args.layers.split(",") if n.strip()] if args.layers else None
    attributes = None
    if args.attributes is not None:
        attributes = [] if args.attributes.strip().lower() == "none" else [
            n.strip() for n in args.attributes.split(",") if n.strip()]
    options, ignored = format_options(fmt, {"triangles": args.triangles,
                                            "points": args.points,
                                            "attributes": attributes})
    for name in ignored:
        print(f"{PROG}: warning: --{name} does not apply to the {fmt} export; ignored",
              file=sys.stderr)
    from viewer.api import open_project

    started = time.perf_counter()
    with open_project(project) as site:
        for warning in [f"{args.project}: {w}" for w in project.warnings] + site.warnings:
            print(f"{PROG}: warning: {_one_line(warning)}", file=sys.stderr)
        if not site.scene.layers:
            raise UsageError(f"{args.project}: none of the project's layers could be opened")
        try:
            result = site.export_exhibit(fmt, args.output, layers=layers,
                                         annotations=annotations, tours=args.tour,
                                         progress=_ExportProgress(), **options)
        except (ExportError, ValueError) as exc:
            raise UsageError(f"{args.project}: {exc}") from None
        except OSError as exc:
            raise UsageError(f"{exc.filename or args.output}: cannot write: "
                             f"{exc.strerror or exc}") from None
    for warning in result.warnings:
        print(f"{PROG}: warning: {_one_line(warning)}", file=sys.stderr)
    say(result.path)
    counts = ", ".join(f"{v:,} {k}" for k, v in result.counts.items())
    print(f"{fmt} exhibit{': ' + counts if counts else ''} in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------
# GUI
# --------------------------------------------------------------------------------------


def cmd_open(args: argparse.Namespace) -> int:
    from loaders.copc import is_url

    for p in args.paths:
        if not is_url(p) and not Path(p).exists():
            raise UsageError(f"{p}: file not found")
    projects = [p for p in args.paths if _is_local_project(p)]
    if projects and len(args.paths) > 1:
        raise UsageError(f"{projects[0]}: a project opens on its own (open PROJECT)")
    budget = parse_budget(args.budget)
    if projects and args.crs:
        raise UsageError(f"{projects[0]}: --crs is for data files (a project keeps the CRS "
                         "assigned to each layer)")
    crs = assigned_crs(args.crs, args.paths)
    if projects:
        from heritage.project import Project, ProjectError

        try:  # a bad project is one line here, before any window appears
            Project.load(projects[0])
        except ProjectError as exc:
            raise UsageError(str(exc)) from None
    from viewer.qt.app import run_app

    return int(run_app([] if projects else list(args.paths), snapshot=args.snapshot,
                       budget=budget, project=projects[0] if projects else None,
                       allow_redirects=getattr(args, "allow_redirects", False),
                       assign_crs=crs or None) or 0)


def cmd_open_sample(args: argparse.Namespace) -> int:
    from viewer.qt.app import run_app

    return int(run_app([], snapshot=args.snapshot, sample=True) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
