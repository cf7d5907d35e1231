"""Regenerate ``assets/sample_site/delft.realscene.json``, the bundled sample project.

The annotations sit on real points of the bundled AHN3 scan (picked by class and height
below), so they stay correct if the script is re-run. Run: ``./run python`` is not a
command, so use ``.venv/bin/python assets/make_sample_project.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import loaders
from heritage.model import Annotation, Measurement, Tour, TourStop, View
from heritage.project import LayerRecord, Project

HERE = Path(__file__).resolve().parent / "sample_site"


def camera(eye, target) -> dict:
    return {"position": [float(c) for c in eye], "focal_point": [float(c) for c in target],
            "view_up": [0.0, 0.0, 1.0], "parallel": False}


def main() -> Path:
    cloud = loaders.read(HERE / "delft_ahn3.laz")
    xyz, cls = cloud.xyz(), cloud.attributes["classification"]
    building, ground, water = xyz[cls == 6], xyz[cls == 2], xyz[cls == 9]
    veg = xyz[cls == 1]
    top = building[np.argmax(building[:, 2])]
    near_ground = ground[np.argmin(np.hypot(*(ground[:, :2] - top[:2]).T))]
    roof = building[(np.hypot(*(building[:, :2] - top[:2]).T) < 4) & (building[:, 2] > 23)]
    quad = [roof[np.argmin(roof[:, 0])], roof[np.argmin(roof[:, 1])],
            roof[np.argmax(roof[:, 0])], roof[np.argmax(roof[:, 1])]]
    quay = water[np.argsort(water[:, 1])][:: max(1, len(water) // 5)][:4]
    tree = veg[np.argmax(veg[:, 2])]
    facade = building[(building[:, 2] > 8) & (building[:, 2] < 10)][len(building) // 50]
    dist = np.hypot(*(building[:, :2] - top[:2]).T)
    other = building[np.argmax(np.where(dist < 40, dist, 0))]  # a building across the street

    project = Project(path=HERE / "delft.realscene.json",
                      title="Delft sample site — condition survey 2026", crs="EPSG:28992")
    for rel, name, display in (
            ("delft_city_lod1/testarea.obj", "testarea.obj", {"opacity": 0.6}),
            ("delft_ahn3.laz", "delft_ahn3.laz", {"color_mode": "classification"}),
            # the same 3dfier city as a CityJSON model (objects with BGT/BAG attributes);
            # hidden at first: it covers the OBJ mesh
            ("delft.city.json", "delft.city.json", {"visible": False, "color_mode": "type"})):
        project.layers.append(LayerRecord(path=rel, name=name, display=display))
    project.update_hashes()
    lo, hi = cloud.bounds
    centre = (lo + hi) / 2
    overview = View("Overview", camera(centre + [-90, -250, 230], centre))
    roof_view = View("Roof close-up", camera(top + [-25, -30, 20], top))
    project.views += [overview, roof_view]
    survey = dict(observed="2026-10-14", author="M. de Vries (heritage survey team)")
    anns = [
        Annotation("point", [top.tolist()], title="Weathered roof ridge",
                   description="Ridge tiles loose and eroded on the south side.",
                   category="erosion", condition="fair", tags=["roof", "tiles"],
                   view=roof_view.camera, **survey),
        Annotation("polygon", [p.tolist() for p in quad], title="Moss on the roof slope",
                   description="Biological growth over about half of the slope; keeps "
                   "the tiles wet.", category="biological_growth", condition="poor",
                   tags=["roof"], view=roof_view.camera, **survey),
        Annotation("polyline", [p.tolist() for p in quay], title="Crack along the quay wall",
                   description="Continuous crack just above the water line; monitor "
                   "yearly.", category="crack", condition="critical",
                   tags=["quay", "water"], **survey),
        Annotation("box", [(tree - [3, 3, 6]).tolist(), (tree + [3, 3, 2]).tolist()],
                   title="Tree canopy against the facade",
                   description="Branches touch the facade and gutter.",
                   category="other", condition="fair", tags=["vegetation"], **survey),
        Annotation("point", [facade.tolist()], title="Facade repair (1998)",
                   description="Brickwork replaced during the 1998 restoration; mortar "
                   "colour differs.", category="past_intervention", condition="good",
                   observed="2026-10-15", author="J. Bakker", tags=["facade", "brick"]),
    ]
    project.annotations += anns
    project.measurements += [
        Measurement("height_difference", [near_ground.tolist(), top.tolist()],
                    label="Ridge height above the street"),
        Measurement("horizontal_distance", [top.tolist(), other.tolist()],
                    label="Between the two survey buildings"),
        Measurement("area", [p.tolist() for p in quad], label="Moss-covered area"),
    ]
    project.tours.append(Tour("Condition walk", [
        TourStop(view_id=overview.id, duration=1.5, pause=1.5),
        TourStop(annotation_id=anns[0].id), TourStop(annotation_id=anns[2].id),
        TourStop(annotation_id=anns[4].id)]))
    return project.save()


if __name__ == "__main__":
    print(main())
