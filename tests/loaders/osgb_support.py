"""Build REAL OSGB oblique-photogrammetry tilesets from real meshes, with OSG's own tools.

:func:`build_osgb_tileset` lays out what ContextCapture / DJI Terra deliver::

    out_dir/metadata.xml                                  <SRS> + <SRSOrigin>
    out_dir/Data/Tile_+000_+000/Tile_+000_+000.osgb       top tile: a root osg::PagedLOD
    out_dir/Data/Tile_+000_+000/Tile_+000_+000_L1_0.osgb  its children, by file name ...

over a real city mesh (the Delft 3dfier LOD1 OBJ of ../shared/data) textured with a real
JPEG (planar UVs over each top tile). Each top tile is a quadtree of ``levels`` levels:
a node's PagedLOD holds its own (coarser) geometry and names its four quadrant files;
coarser levels are simplified by ``osgconv --simplify``; the finest level is a plain Geode.
Every file is written as OSG ASCII (.osgt) and converted to binary .osgb by ``osgconv``
(the JPEG embedded, as the photogrammetry programmes do), in parallel processes.

The grid of top tiles can be larger than the mesh: top tile (i, j) takes source region
(i mod cells_x, j mod cells_y), shifted by whole copies of the mesh, so a 10,000-tile
pyramid is a real city repeated. Used by tests/loaders/test_osgb.py and the benchmarks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DELFT_OBJ = DATA / "meshes" / "delft_3dfier_lod1" / "testarea.obj"
TEXTURE_JPG = DATA / "meshes" / "fuze_textured_obj" / "fuze uv.jpg"
DELFT_CRS = "EPSG:28992"

OSGT_HEADER = "#Ascii Scene\n#Version 161\n#Generator OpenSceneGraph 3.6.5\n\n"


@dataclass
class BuiltTileset:
    """What :func:`build_osgb_tileset` made."""

    path: Path
    files: int
    top_tiles: int
    levels: int
    srs: str
    origin: tuple[float, float, float]
    seconds: float
    #: the source vertices placed in each top tile, in the metadata SRS (EPSG variant) or
    #: as (lon, lat, h) WGS 84 (ENU variant): {top tile name: (n, 3) float64}
    truth: dict[str, np.ndarray] = field(default_factory=dict)


def _fmt(rows: np.ndarray, fmt: str) -> str:
    if not len(rows):
        return ""
    return "\n".join(fmt % tuple(r) for r in rows.tolist())


class UniqueIds:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def geometry_osgt(xyz: np.ndarray, faces: np.ndarray, uv: np.ndarray | None,
                   texture: str | None, ids: UniqueIds) -> str:
    tex = ""
    if texture and uv is not None:
        tex = f"""    StateSet TRUE {{
      osg::StateSet {{
        UniqueID {ids()}
        DataVariance STATIC
        TextureModeList 1 {{
          Data 1 {{
            GL_TEXTURE_2D ON
          }}
        }}
        TextureAttributeList 1 {{
          Data 1 {{
            osg::Texture2D {{
              UniqueID {ids()}
              DataVariance STATIC
              WRAP_S CLAMP_TO_EDGE
              WRAP_T CLAMP_TO_EDGE
              MIN_FILTER LINEAR_MIPMAP_LINEAR
              MAG_FILTER LINEAR
              Image TRUE {{
                ClassName osg::Image
                UniqueID {ids()}
                FileName "{texture}"
                WriteHint 2 2
                DataVariance STATIC
              }}
            }}
            Value OFF
          }}
        }}
      }}
    }}
"""
    uvs = ""
    if uv is not None:
        uvs = f"""    TexCoordArrayList 1 {{
      osg::Vec2Array {{
        UniqueID {ids()}
        Binding BIND_PER_VERTEX
        vector {len(uv)} {{
{_fmt(uv, "%.6f %.6f")}
        }}
      }}
    }}
"""
    return f"""  osg::Geometry {{
    UniqueID {ids()}
    DataVariance STATIC
{tex}    PrimitiveSetList 1 {{
      osg::DrawElementsUInt {{
        UniqueID {ids()}
        Mode TRIANGLES
        vector {faces.size} {{
{_fmt(faces.reshape(-1, 3), "%d %d %d")}
        }}
      }}
    }}
    VertexArray TRUE {{
      osg::Vec3Array {{
        UniqueID {ids()}
        Binding BIND_PER_VERTEX
        vector {len(xyz)} {{
{_fmt(xyz, "%.4f %.4f %.4f")}
        }}
      }}
    }}
{uvs}  }}
"""


def geode_osgt(geom: str, ids: UniqueIds) -> str:
    return f"osg::Geode {{\n  UniqueID {ids()}\n  Drawables 1 {{\n{geom}  }}\n}}\n"


def paged_lod_osgt(center: np.ndarray, radius: float, geode: str, children: list[str],
                    pixel_range: float, ids: UniqueIds) -> str:
    n = 1 + len(children)
    ranges = "\n".join([f"    0 {pixel_range:g}"] + [f"    {pixel_range:g} 1e+30"] * len(children))
    names = "\n".join(['    ""'] + [f'    "{c}"' for c in children])
    prio = "\n".join(["    0 1"] * n)
    inner = "\n".join("    " + line if line else line for line in geode.splitlines())
    return (f"osg::PagedLOD {{\n  UniqueID {ids()}\n  CenterMode USER_DEFINED_CENTER\n"
            f"  UserCenter {center[0]:.4f} {center[1]:.4f} {center[2]:.4f} {radius:.4f}\n"
            f"  RangeMode PIXEL_SIZE_ON_SCREEN\n  RangeList {n} {{\n{ranges}\n  }}\n"
            f"  RangeDataList {n} {{\n{names}\n  }}\n  PriorityList {n} {{\n{prio}\n  }}\n"
            f"  Children 1 {{\n{inner}\n  }}\n}}\n")


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=300,
                          env=dict(os.environ, OSG_NOTIFY_LEVEL="WARN"))
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-300:]}")


def _simplify(xyz: np.ndarray, faces: np.ndarray, ratio: float, work: Path,
              name: str) -> tuple[np.ndarray, np.ndarray]:
    """``osgconv --simplify ratio`` of one geometry (OSG's own simplifier)."""
    from loaders.tiles.osgb import osgb_file_from_objects, parse_osgt

    src, dst = work / f"{name}.osgt", work / f"{name}_s.osgt"
    # one id counter for the Geode and its Geometry: two counters both gave "UniqueID 1",
    # OSG took the Geometry for a reference to the Geode and read an empty Geode, so
    # nothing was simplified (the input came back unchanged)
    ids = UniqueIds()
    src.write_text(OSGT_HEADER + geode_osgt(geometry_osgt(xyz, faces, None, None, ids), ids))
    _run(["osgconv", "--simplify", f"{ratio:g}", str(src), str(dst)], work)
    got = osgb_file_from_objects(dst, parse_osgt(dst.read_text()))
    geoms = got.free or [g for lod in got.lods for g in lod.geometry]
    if not geoms:
        return xyz, faces
    return geoms[0].xyz, geoms[0].faces


def _quadrant_path(level: int, k: int) -> list[int]:
    """The quadrants (0..3, base 4 digits) leading to node ``k`` of ``level``."""
    return [(k >> (2 * (level - 1 - d))) & 3 for d in range(level)]


def _cell_faces(centroids: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.nonzero(np.all((centroids >= lo) & (centroids < hi), axis=1))[0]


def build_osgb_tileset(out_dir: str | os.PathLike, *, grid: tuple[int, int] = (2, 2),
                       levels: int = 3, cells: tuple[int, int] | None = None,
                       srs: str = DELFT_CRS, enu: bool = False, texture: bool = True,
                       texture_px: int | None = 512, simplify: float = 0.4,
                       pixel_range: float = 256.0,
                       workers: int | None = None, source: Path = DELFT_OBJ) -> BuiltTileset:
    """Build an OSGB tileset in ``out_dir`` (created; must be empty or absent).

    grid: top tiles (x, y); levels: quadtree levels per top tile (1 = the top tile
    only), so the tileset has ``grid_x * grid_y * (4**levels - 1) / 3`` files;
    cells: source regions (x, y) the mesh is split into (default: the grid, at most 8x8;
    larger grids repeat the city); srs: the metadata SRS of the source mesh's CRS
    (Delft: EPSG:28992), written with an SRSOrigin; enu: write ``ENU:lat,lon`` instead
    (vertices turned into that east-north-up frame with pyproj's topocentric
    conversion); texture: embed a real JPEG with planar UVs (texture_px: its larger
    side scaled down to this many pixels, re-encoded as JPEG; None: as it is);
    simplify: triangles kept per level up (osgconv --simplify); pixel_range: the
    PagedLOD switch size in pixels;
    workers: parallel osgconv processes (default: the CPUs).
    """
    import loaders

    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mesh = loaders.read(source)
    xyz_all = mesh.vertices.astype(np.float64) + mesh.origin
    faces_all = np.asarray(mesh.faces, dtype=np.int64)
    lo_all, hi_all = xyz_all.min(axis=0), xyz_all.max(axis=0)
    extent = hi_all[:2] - lo_all[:2] + 1e-6
    gx, gy = grid
    cx, cy = cells or (min(gx, 8), min(gy, 8))
    cell = extent / np.array([cx, cy])
    origin = (float(np.floor(lo_all[0])), float(np.floor(lo_all[1])), 0.0)
    centroids = xyz_all[faces_all].mean(axis=1)[:, :2]
    workers = workers or os.cpu_count() or 2
    work = Path(tempfile.mkdtemp(prefix="realscene-osgb-build-"))
    to_enu = None
    if enu:
        from pyproj import Transformer

        lon0, lat0 = Transformer.from_crs(srs, "EPSG:4326", always_xy=True).transform(
            *origin[:2])
        to_geo = Transformer.from_crs(srs, "EPSG:4979", always_xy=True)
        topo = Transformer.from_pipeline(
            f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=cart +ellps=WGS84 +step +proj=topocentric +ellps=WGS84 "
            f"+lat_0={lat0!r} +lon_0={lon0!r} +h_0=0")
        to_enu = (to_geo, topo)
        srs_text, origin_text = f"ENU:{lat0!r},{lon0!r}", "0,0,0"
    else:
        srs_text, origin_text = srs, ",".join(f"{v:g}" for v in origin)
    (out / "metadata.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<ModelMetadata version="1">\n'
        f"\t<SRS>{srs_text}</SRS>\n\t<SRSOrigin>{origin_text}</SRSOrigin>\n"
        "\t<Texture>\n\t\t<ColorSource>Visible</ColorSource>\n\t</Texture>\n"
        "</ModelMetadata>\n", encoding="utf-8")
    if texture:
        if texture_px:
            from PIL import Image

            with Image.open(TEXTURE_JPG) as img:
                img.thumbnail((texture_px, texture_px))
                img.convert("RGB").save(work / "texture.jpg", quality=85)
        else:
            shutil.copyfile(TEXTURE_JPG, work / "texture.jpg")
    try:
        # 1. template pyramids: each source region's quadtree, coarse levels simplified
        templates: dict[tuple[int, int], list[list[tuple[np.ndarray, np.ndarray]]]] = {}
        jobs = []
        for a in range(cx):
            for b in range(cy):
                lo = lo_all[:2] + cell * [a, b]
                pyramid: list[list] = []
                for level in range(levels):
                    row = []
                    n = 2 ** level
                    for k in range(4 ** level):
                        ix = iy = 0
                        for q in _quadrant_path(level, k):
                            ix, iy = ix * 2 + (q & 1), iy * 2 + (q >> 1)
                        size = cell / n
                        sel = _cell_faces(centroids, lo + size * [ix, iy],
                                          lo + size * [ix + 1, iy + 1])
                        used, inv = np.unique(faces_all[sel], return_inverse=True)
                        row.append((xyz_all[used], inv.reshape(-1, 3)))
                    pyramid.append(row)
                templates[(a, b)] = pyramid
                for level in range(levels - 1):
                    ratio = simplify ** (levels - 1 - level)
                    for k, (_v, f) in enumerate(pyramid[level]):
                        if len(f) >= 8:
                            jobs.append((a, b, level, k, ratio))

        def simplify_job(job):
            a, b, level, k, ratio = job
            v, f = templates[(a, b)][level][k]
            return job, _simplify(v, f, ratio, work, f"s_{a}_{b}_{level}_{k}")

        with ThreadPoolExecutor(workers) as pool:
            for (a, b, level, k, _r), res in pool.map(simplify_job, jobs):
                templates[(a, b)][level][k] = res
        # 2. every tile file as .osgt, converted to .osgb in parallel
        truth: dict[str, np.ndarray] = {}
        convert: list[tuple[Path, Path]] = []
        data = out / "Data"
        for i in range(gx):
            for j in range(gy):
                name = f"Tile_+{i:03d}_+{j:03d}"
                folder = data / name
                folder.mkdir(parents=True, exist_ok=True)
                a, b = i % cx, j % cy
                shift = np.array([(i // cx) * extent[0], (j // cy) * extent[1], 0.0])
                tlo = lo_all[:2] + cell * [a, b] + shift[:2]
                pyramid = templates[(a, b)]
                placed = []
                for level in range(levels):
                    for k, (v, f) in enumerate(pyramid[level]):
                        world = v + shift
                        if level == levels - 1:
                            placed.append(world)
                        native = _native(world, origin, to_enu)
                        uv = ((world[:, :2] - tlo) / cell) if texture else None
                        fname = name if level == 0 else f"{name}_L{level}_{k}"
                        ids = UniqueIds()
                        geom = geometry_osgt(native, f, uv, "texture.jpg" if texture
                                              else None, ids)
                        if level == levels - 1:
                            text = geode_osgt(geom, ids)
                        else:
                            kids = [f"{name}_L{level + 1}_{4 * k + q}.osgb" for q in range(4)]
                            kids = [c for q, c in enumerate(kids)
                                    if len(pyramid[level + 1][4 * k + q][1])]
                            sub = [pyramid[level + 1][4 * k + q][0] + shift for q in range(4)]
                            pts = np.concatenate([world, *sub]) if len(world) else \
                                np.concatenate(sub)
                            if not len(pts):
                                pts = np.array([[*tlo, 0.0]])
                            nat = _native(pts, origin, to_enu)
                            c = (nat.min(axis=0) + nat.max(axis=0)) / 2
                            r = float(np.sqrt(((nat - c) ** 2).sum(axis=1).max())) + 1e-3
                            text = paged_lod_osgt(c, r, geode_osgt(geom, ids), kids,
                                                   pixel_range, ids)
                        src = work / f"{fname}.osgt"
                        src.write_text(OSGT_HEADER + text)
                        convert.append((src, folder / f"{fname}.osgb"))
                world = np.concatenate(placed) if placed else np.zeros((0, 3))
                truth[name] = world if to_enu is None else np.column_stack(
                    to_enu[0].transform(world[:, 0], world[:, 1], world[:, 2]))

        def convert_job(pair):
            src, dst = pair
            opts = ["-O", "WriteImageHint=IncludeFile"] if texture else []
            _run(["osgconv", *opts, str(src), str(dst)], work)
            src.unlink()

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(convert_job, convert))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuiltTileset(path=out, files=len(convert), top_tiles=gx * gy, levels=levels,
                        srs=srs_text, origin=origin if not enu else (0.0, 0.0, 0.0),
                        seconds=time.perf_counter() - t0, truth=truth)


def _native(world: np.ndarray, origin: tuple[float, float, float], to_enu) -> np.ndarray:
    """Source coordinates -> the tile file's native frame (offsets from SRSOrigin, or
    east-north-up metres through pyproj's topocentric conversion)."""
    if to_enu is None:
        return world - np.array(origin)
    to_geo, topo = to_enu
    lon, lat, h = to_geo.transform(world[:, 0], world[:, 1], world[:, 2])
    e, n, u = topo.transform(lon, lat, h)
    return np.column_stack([e, n, u])
