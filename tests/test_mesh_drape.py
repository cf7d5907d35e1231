"""An orthophoto draped on city meshes (issue 19): the Delft CityJSON model and an OSGB
tileset built from the Delft meshes, both in RD New, textured top-down by an orthophoto
of the AHN3 surface stored in UTM 31N (so the drape reprojects). Roof pixels of a top
render must show the orthophoto's colours where rasterio itself samples it.

Files are real: the city model from ../shared/data, the orthophoto and the OSGB tileset
made from real data by the test builders (:mod:`tests.loaders.terrain_support`,
:mod:`tests.loaders.osgb_support`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import pyvista as pv

from loaders import LoadError
from loaders.tiles.drape import TILE_TEXTURE, undrape_mesh
from tests.conftest import SHARED_DATA
from viewer import pipeline

CITY = SHARED_DATA / "citymodels" / "delft.city.json"
SIZE = (700, 700)


@pytest.fixture(scope="module")
def ortho(tmp_path_factory) -> Path:
    from tests.loaders.terrain_support import make_ahn3_ortho

    return make_ahn3_ortho(tmp_path_factory.mktemp("ortho") / "ahn3_ortho.tif", cell=0.5)


@pytest.fixture(scope="module")
def osgb(tmp_path_factory) -> Path:
    from tests.loaders.osgb_support import build_osgb_tileset

    out = tmp_path_factory.mktemp("osgb") / "delft_osgb"
    build_osgb_tileset(out, grid=(2, 2), levels=2)
    return out


def ortho_samples(ortho: Path, xy: np.ndarray, crs) -> np.ndarray:
    """rasterio's own sample of the orthophoto's RGB at ``xy`` (given in ``crs``)."""
    import rasterio
    from pyproj import Transformer

    with rasterio.open(ortho) as ds:
        tr = Transformer.from_crs(crs, ds.crs.to_wkt(), always_xy=True)
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.array(list(ds.sample(zip(x, y, strict=True))), dtype=float)[:, :3]


def texture_samples(mesh, points: np.ndarray) -> np.ndarray:
    """The draped texture's texel under each vertex index in ``points``."""
    tex = mesh.parts[0].material.texture
    uv = mesh.uvs[points].astype(float)
    h, w = tex.shape[:2]
    col = np.clip((uv[:, 0] * w).astype(int), 0, w - 1)
    row = np.clip(((1.0 - uv[:, 1]) * h).astype(int), 0, h - 1)
    return tex[row, col, :3].astype(float)


def flat_roof_probes(mesh, ortho_samples_fn, min_area: float = 2.0) -> np.ndarray:
    """Centroids (true xyz) of large, flat, upward building triangles (roofs: the model
    has no semantics) of a city model whose
    orthophoto neighbourhood is uniform (a probe off by a pixel still compares)."""
    xyz = mesh.vertices.astype(np.float64) + mesh.origin
    tri = xyz[mesh.faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(normal, axis=1) / 2
    up = normal[:, 2] / np.maximum(2 * area, 1e-12)
    building = np.array([f.type.startswith("Building") for f in mesh.features])
    keep = building[mesh.face_feature] & (up > 0.99) & (area > min_area)
    centres = tri[keep].mean(axis=1)
    # uniform around: the orthophoto within 1 m varies little
    rings = [centres[:, :2] + d for d in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))]
    samples = np.stack([ortho_samples_fn(r) for r in rings])
    uniform = (samples.max(axis=0) - samples.min(axis=0)).max(axis=1) < 40
    lit = samples[0].max(axis=1) > 30  # on the orthophoto (nodata is 0)
    return centres[uniform & lit]


def render_top(scene, layer_probes: np.ndarray, path: Path):
    """A top render of ``scene`` (off screen) and the RGB at each probe's pixel."""
    from viewer.render import SceneRenderer

    plotter = pv.Plotter(off_screen=True, window_size=SIZE)
    scene.set_background((0.0, 0.0, 0.0))
    renderer = SceneRenderer(plotter, scene)
    try:
        renderer.view_preset("top")
        renderer.screenshot(path)
        xy = renderer.project(layer_probes)
    finally:
        renderer.close()
        plotter.close()
    from PIL import Image

    with Image.open(path) as img:
        image = np.asarray(img.convert("RGB")).astype(float)
    h, w = image.shape[:2]
    cols = np.clip(np.round(xy[:, 0]).astype(int), 0, w - 1)
    rows = np.clip(h - 1 - np.round(xy[:, 1]).astype(int), 0, h - 1)
    return image[rows, cols]


def agreement(pixels: np.ndarray, expected: np.ndarray) -> float:
    """How well the rendered pixels follow the orthophoto's colours: the correlation of
    the two over every probe and channel (lighting scales the colours, it does not
    change their order)."""
    return float(np.corrcoef(pixels.ravel(), expected.ravel())[0, 1])


@pytest.mark.timeout(120)
def test_city_model_roofs_take_the_orthophoto_colours(ortho, tmp_path):
    scene = pipeline.open_files([str(CITY)])
    (layer,) = scene.layers
    model = layer.data
    before = layer.color_mode
    own_uvs, own_parts = model.uvs, model.parts
    pipeline.drape(scene, layer, ortho)
    assert layer.color_mode == "material" and model.metadata["ortho"] == str(ortho)
    (part,) = model.parts
    tex = part.material.texture
    assert part.stop == model.triangle_count and tex.dtype == np.uint8
    assert max(tex.shape[:2]) <= 4096 and model.uvs.shape == (model.vertex_count, 2)

    probes = flat_roof_probes(model, lambda xy: ortho_samples(ortho, xy, model.crs))
    assert len(probes) > 20
    expected = ortho_samples(ortho, probes[:, :2], model.crs)
    # the texture itself: the texel under each roof vertex is the orthophoto's colour
    faces = model.faces
    xyz = model.vertices.astype(np.float64) + model.origin
    verts = np.unique(faces.ravel())[::10]
    got = texture_samples(model, verts)
    want = ortho_samples(ortho, xyz[verts, :2], model.crs)
    on = want.max(axis=1) > 0
    assert on.sum() > 200
    assert np.median(np.abs(got[on] - want[on]).max(axis=1)) < 20

    # the picture: roof pixels follow the orthophoto's colours, the undraped model's not
    pixels = render_top(scene, probes, tmp_path / "draped.png")
    assert agreement(pixels, expected) > 0.85
    assert pixels.max(axis=1).min() > 20  # lit: the textured roofs are drawn
    assert pipeline.undrape(scene, layer)
    assert model.uvs is own_uvs and model.parts is own_parts and "ortho" not in model.metadata
    assert layer.color_mode == before  # the model had no materials: its own colours
    plain = render_top(scene, probes, tmp_path / "plain.png")
    assert agreement(plain, expected) < 0.5
    assert not undrape_mesh(model)  # (nothing draped now)


def test_an_orthophoto_elsewhere_is_one_clear_message(ortho, tmp_path):
    """The same real pixels, georeferenced 20 km away: nothing is draped, the message
    says where each lies."""
    import rasterio
    from rasterio.transform import Affine

    far = tmp_path / "elsewhere.tif"
    with rasterio.open(ortho) as src:
        profile = src.profile
        profile["transform"] = Affine.translation(20_000, 0) * src.transform
        with rasterio.open(far, "w", **profile) as dst:
            dst.write(src.read())
    scene = pipeline.open_files([str(CITY)])
    (layer,) = scene.layers
    with pytest.raises(LoadError) as err:
        pipeline.drape(scene, layer, far)
    assert "does not overlap delft.city.json" in err.value.reason
    assert "covers x" in err.value.hint
    assert "ortho" not in layer.data.metadata and "undraped" not in layer.data.metadata
    # not an image at all: a DEM is refused as an orthophoto
    from tests.loaders.terrain_support import make_ahn3_dem

    dem = make_ahn3_dem(tmp_path / "dem.tif", cell=4.0)
    with pytest.raises(LoadError, match="not an image"):
        pipeline.drape(scene, layer, dem)


@pytest.mark.timeout(180)
def test_osgb_tiles_are_draped_as_they_load(ortho, osgb, tmp_path):
    """An OSGB tileset (RD New + SRSOrigin): each tile's meshes get the orthophoto as
    they load (a texture of at most 512 px per tile), their texels the orthophoto's
    colours; a top render shows them; another tileset off the orthophoto is refused."""
    scene = pipeline.open_files([str(osgb)])
    (layer,) = scene.layers
    tiles = layer.data
    pipeline.drape(scene, layer, ortho)
    assert tiles.metadata["ortho"] == str(ortho) and layer.color_mode == "material"
    stack, compared, textured = [tiles.root], 0, 0
    while stack:
        tile = stack.pop()
        stack += tiles.expand(tile)
        if not tile.content:
            continue
        for mesh in tiles.load(tile).meshes:
            if mesh.parts and mesh.parts[0].name == "orthophoto":
                textured += 1
                assert max(mesh.parts[0].material.texture.shape[:2]) <= TILE_TEXTURE
                xyz = mesh.vertices.astype(np.float64) + mesh.origin
                verts = np.arange(0, mesh.vertex_count, 7)
                want = ortho_samples(ortho, xyz[verts, :2], mesh.crs)
                on = want.max(axis=1) > 0
                if on.sum() > 20:
                    got = texture_samples(mesh, verts)
                    assert np.median(np.abs(got[on] - want[on]).max(axis=1)) < 25
                    compared += 1
    assert textured >= 4 and compared >= 2

    # the picture: the tiles' pixels follow the orthophoto where the city model's flat
    # roofs are (the OSGB is built from the same Delft meshes)
    model = pipeline.load(str(CITY), scene.crs).data
    probes = flat_roof_probes(model, lambda xy: ortho_samples(ortho, xy, scene.crs))
    expected = ortho_samples(ortho, probes[:, :2], scene.crs)
    pixels = render_top(scene, probes, tmp_path / "osgb_draped.png")
    assert agreement(pixels, expected) > 0.7
    # taken off: tiles are read with their own photo texture again
    assert pipeline.undrape(scene, layer) and "ortho" not in tiles.metadata
    leaf = next(t for t in tiles.root.children if t.content)
    assert all(not m.parts or m.parts[0].name != "orthophoto"
               for m in tiles.load(leaf).meshes)


@pytest.mark.timeout(120)
def test_a_draped_city_model_is_saved_and_reopens_draped(ortho, tmp_path):
    """site.drape on a mesh layer; the project keeps display["drape"] (relative) and
    drapes it again when reopened; the CLI's --drape takes a city model too."""
    from viewer import api
    from viewer.cli import main

    folder = tmp_path / "site"
    folder.mkdir()
    photo = folder / ortho.name
    shutil.copy(ortho, photo)
    with api.open_files(CITY) as site:
        (layer,) = site.layers
        site.drape(layer, photo)
        assert layer.layer.color_mode == "material"
        saved = site.save(folder / "draped.realscene.json")
    record = json.loads(saved.read_text(encoding="utf-8"))["layers"][0]
    assert record["display"]["drape"] == photo.name
    with api.open_project(saved) as again:
        (layer,) = again.layers
        data = layer.layer.data
        assert Path(data.metadata["ortho"]).name == photo.name
        assert data.parts[0].name == "orthophoto" and layer.layer.color_mode == "material"

    out = tmp_path / "cli.png"
    flags = ["--size", "300x300", "--view", "top", "--background", "0,0,0", "--msaa", "0",
             "--no-attribution"]
    assert main(["render", str(CITY), "--drape", f"{CITY.name}={photo}", *flags,
                 "-o", str(out)]) == 0
    from PIL import Image

    with Image.open(out) as img:
        rgb = np.asarray(img.convert("RGB")).astype(int)
    # the orthophoto's greens and browns on the east side of the district
    assert ((rgb[..., 1] > rgb[..., 0] + 15) & (rgb[..., 1] > rgb[..., 2] + 15)).mean() > 0.01
