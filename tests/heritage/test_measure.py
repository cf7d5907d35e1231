import math

import numpy as np
import pytest

from heritage import measure as M
from heritage.model import Measurement

# national-grid coordinates (Swiss LV95): precision must survive the large offsets
E, N = 2_680_000.0, 1_250_000.0


def test_distances_at_national_grid_coordinates():
    a = [E + 0.001, N + 0.002, 400.0]
    b = [E + 3.001, N + 4.002, 412.0]
    assert M.distance(a, b) == pytest.approx(13.0, abs=1e-9)
    assert M.horizontal_distance(a, b) == pytest.approx(5.0, abs=1e-9)
    assert M.vertical_distance(a, b) == pytest.approx(12.0, abs=1e-9)
    assert M.height_difference(b, a) == pytest.approx(-12.0, abs=1e-9)
    # a 1 mm distance is still 1 mm
    assert M.distance([E, N, 0], [E + 0.001, N, 0]) == pytest.approx(0.001, abs=1e-9)


def test_polyline_and_areas():
    square = [[E, N, 10], [E + 2, N, 10], [E + 2, N + 2, 10], [E, N + 2, 10]]
    assert M.polyline_length(square) == pytest.approx(6.0)
    assert M.polygon_area_3d(square) == pytest.approx(4.0, abs=1e-9)
    assert M.polygon_area_projected(square) == pytest.approx(4.0, abs=1e-9)
    # a wall (vertical square): true area 4, projected on the ground 0
    wall = [[E, N, 0], [E + 2, N, 0], [E + 2, N, 2], [E, N, 2]]
    assert M.polygon_area_3d(wall) == pytest.approx(4.0, abs=1e-9)
    assert M.polygon_area_projected(wall) == pytest.approx(0.0, abs=1e-9)
    # a 45-degree roof: in-plane area is sqrt(2) times the projected one
    roof = [[E, N, 0], [E + 2, N, 0], [E + 2, N + 2, 2], [E, N + 2, 2]]
    assert M.polygon_area_3d(roof) == pytest.approx(4 * math.sqrt(2), rel=1e-12)
    assert M.polygon_area_projected(roof) == pytest.approx(4.0, rel=1e-12)


def test_angles():
    assert M.angle([1, 0, 0], [0, 0, 0], [0, 1, 0]) == pytest.approx(90.0)
    assert M.angle([E + 1, N, 0], [E, N, 0], [E + 1, N + 1, 0]) == pytest.approx(45.0)
    assert M.angle([1, 0, 0], [0, 0, 0], [-1, 1e-9, 0]) == pytest.approx(180.0, abs=1e-6)
    with pytest.raises(ValueError):
        M.angle([0, 0, 0], [0, 0, 0], [1, 0, 0])


def test_measurement_record_computes_value_and_validates():
    m = Measurement("area", [[0, 0, 0], [3, 0, 0], [3, 3, 0]])
    assert m.value == pytest.approx(4.5)
    assert Measurement.from_dict(m.to_dict()).value == m.value
    with pytest.raises(ValueError):
        Measurement("angle", [[0, 0, 0], [1, 1, 1]])
    with pytest.raises(ValueError):
        Measurement("volume", [[0, 0, 0], [1, 1, 1]])


def test_against_numpy_reference_on_random_polygons():
    rng = np.random.default_rng(1)
    for _ in range(20):
        pts = rng.normal(size=(6, 3)) + [E, N, 0]
        pts[:, 2] = 5.0
        ref = 0.5 * abs(np.sum((pts[:, 0] - E) * np.roll(pts[:, 1] - N, -1)
                               - np.roll(pts[:, 0] - E, -1) * (pts[:, 1] - N)))
        assert M.polygon_area_projected(pts.tolist()) == pytest.approx(ref, rel=1e-9)
        assert M.polygon_area_3d(pts.tolist()) == pytest.approx(ref, rel=1e-9)
