"""The issue-19 "planner" scene of Delft, from real files, for the end-to-end tests and
the tiles screenshot: the AHN3 LiDAR scan, the CityJSON city model, an OSGB oblique
tileset built with OpenSceneGraph over the Delft 3dfier meshes (EPSG:28992 + SRSOrigin),
RealScene's own 3D Tiles export of the city model (ECEF), a DEM of the scan's ground
points and an orthophoto of its surface (in UTM 31N, so draping reprojects).

Everything is made by the existing builders (:mod:`tests.loaders.osgb_support`,
:mod:`tests.loaders.terrain_support`, :func:`heritage.exhibits.export`); this module only
puts them in one folder (about 3 s)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.conftest import SHARED_DATA

SCAN = SHARED_DATA / "pointclouds" / "ahn3_cropped_2.laz"
CITY = SHARED_DATA / "citymodels" / "delft.city.json"
#: the scan's LAZ has no CRS record: it is AHN3, RD New
SCAN_CRS = "EPSG:28992"


@dataclass(frozen=True)
class PlannerFiles:
    """The six inputs of the planner scene (paths), in the order they are opened."""

    scan: Path
    city: Path
    osgb: Path
    tiles3d: Path
    dem: Path
    ortho: Path

    @property
    def paths(self) -> list[Path]:
        return [self.scan, self.city, self.osgb, self.tiles3d, self.dem, self.ortho]

    @property
    def crs(self) -> dict[Path, str]:
        """The CRS to assign (``open_files(crs=...)``): the scan's."""
        return {self.scan: SCAN_CRS}


def build_planner_files(folder: Path) -> PlannerFiles:
    """Make the OSGB tileset, the 3D Tiles export, the DEM and the orthophoto in
    ``folder`` (created) and return the six paths."""
    from heritage.exhibits import export
    from heritage.exhibits.source import source_from_files
    from tests.loaders.osgb_support import build_osgb_tileset
    from tests.loaders.terrain_support import make_ahn3_dem, make_ahn3_ortho

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    osgb = folder / "delft_osgb"
    build_osgb_tileset(osgb, grid=(2, 2), levels=2)
    tiles3d = folder / "delft_3dtiles"
    export(source_from_files([CITY]), "3dtiles", tiles3d, leaf_triangles=4000)
    dem = make_ahn3_dem(folder / "ahn3_dem.tif", cell=1.0)
    ortho = make_ahn3_ortho(folder / "ahn3_ortho.tif", cell=0.5)
    return PlannerFiles(SCAN, CITY, osgb, tiles3d / "tileset.json", dem, ortho)
