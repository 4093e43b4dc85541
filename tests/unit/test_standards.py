"""AQI per HJ 633-2012 and the traffic operation index per GB/T 33171-2016, on worked values."""

from __future__ import annotations

import numpy as np
import pytest

from citybrain.standards import aqi, tpi


@pytest.mark.parametrize(("pollutant", "conc", "period", "expected"), [
    ("pm25", 80, "24h", 107),    # 100 + (150-100)/(115-75)*(80-75) = 106.25 → rounded up
    ("pm25", 35, "24h", 50),     # a breakpoint gives its own IAQI
    ("pm25", 0, "24h", 0),
    ("pm25", 600, "24h", 500),   # above the table: capped
    ("pm10", 160, "24h", 105),   # 100 + 50/100*10 = 105
    ("co", 12, "1h", 104),       # 100 + 50/25*2 = 104
    ("o3", 250, "1h", 125),      # 100 + 50/100*50 = 125
    ("no2", 150, "1h", 75),      # 50 + 50/100*50 = 75
    ("so2", 900, "1h", 213),     # above 800 µg/m³ the 1-h SO2 uses the 24-h table: 212.5 → 213
    ("o3", 900, "8h", 350),      # above 800 the 8-h O3 uses the 1-h table: 300 + 100/200*100
])
def test_iaqi_worked_values(pollutant: str, conc: float, period: str, expected: int) -> None:
    assert aqi.iaqi(pollutant, conc, period) == expected


def test_daily_aqi_takes_the_largest_sub_index_and_names_the_primary_pollutant() -> None:
    result = aqi.daily_aqi({"pm25": 80, "pm10": 160, "so2": 20, "no2": 50, "co": 1.0,
                            "o3_8h": 120})
    assert result.aqi == 107
    assert result.category.name_zh == "轻度污染" and result.category.colour == "#FF7E00"
    assert result.primary == ("pm25",)


def test_no_primary_pollutant_when_air_is_excellent() -> None:
    result = aqi.daily_aqi({"pm25": 20, "pm10": 30})
    assert result.aqi <= 50 and result.primary == () and result.category.name_zh == "优"


@pytest.mark.parametrize(("value", "name", "colour"), [
    (50, "优", "#00E400"), (51, "良", "#FFFF00"), (100, "良", "#FFFF00"),
    (101, "轻度污染", "#FF7E00"), (200, "中度污染", "#FF0000"), (300, "重度污染", "#99004C"),
    (301, "严重污染", "#7E0023"),
])
def test_six_categories_in_the_standard_colours(value: int, name: str, colour: str) -> None:
    assert (aqi.category(value).name_zh, aqi.category(value).colour) == (name, colour)


def test_negative_or_missing_concentration_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="pm25"):
        aqi.iaqi("pm25", -1, "24h")
    with pytest.raises(ValueError, match="no 1h breakpoints for pollutant 'pm10'"):
        aqi.iaqi("pm10", 10, "1h")


def test_array_aqi_equals_the_scalar_one() -> None:
    rng = np.random.default_rng(7)
    n = 200
    c = {"pm25": rng.uniform(0, 400, n), "pm10": rng.uniform(0, 500, n),
         "so2": rng.uniform(0, 1000, n), "no2": rng.uniform(0, 1500, n),
         "o3": rng.uniform(0, 900, n), "co": rng.uniform(0, 80, n)}
    vector = aqi.hourly_aqi_array(**c)
    for k in range(n):
        assert vector[k] == aqi.hourly_aqi({p: float(v[k]) for p, v in c.items()}).aqi


@pytest.mark.parametrize(("speed", "road_class", "level"), [
    (66, "expressway", 1), (65, "expressway", 2), (50, "expressway", 3), (35, "expressway", 4),
    (20, "expressway", 5),
    (40.1, "arterial", 1), (40, "arterial", 2), (30, "arterial", 3), (20, "arterial", 4),
    (15.01, "arterial", 4), (15, "arterial", 5),
    (36, "secondary", 1), (35, "secondary", 2), (25, "secondary", 3), (15, "secondary", 4),
    (10, "branch", 5),
])
def test_segment_levels_by_speed_and_road_class(speed: float, road_class: str, level: int) -> None:
    assert tpi.segment_level(speed, road_class) == level


@pytest.mark.parametrize(("share", "index"), [(0.0, 0.0), (0.02, 1.0), (0.06, 3.0),
                                              (0.095, 5.0), (0.125, 7.0), (0.19, 9.0),
                                              (0.24, 10.0), (0.30, 10.0)])
def test_tpi_from_the_congested_share(share: float, index: float) -> None:
    assert tpi.tpi_from_congested_share(share) == pytest.approx(index)


def test_network_tpi_weighs_segments_by_vehicle_km() -> None:
    # congested (level ≥ 4): the 18 km/h arterial (vkt 30) and the 12 km/h secondary (vkt 20)
    speeds = [70, 18, 12, 45]
    classes = ["expressway", "arterial", "secondary", "arterial"]
    vkt = [400, 30, 20, 50]          # share = 50 / 500 = 10 % → 4 + 2 * (10 - 8) / 3
    assert tpi.network_tpi(speeds, classes, vkt) == pytest.approx(4 + 2 * 2 / 3)
    assert tpi.network_tpi(speeds, classes, [0, 0, 0, 0]) == 0.0


@pytest.mark.parametrize(("value", "name"), [(0, "畅通"), (1.99, "畅通"), (2, "基本畅通"),
                                             (5.5, "轻度拥堵"), (7.9, "中度拥堵"), (8, "严重拥堵"),
                                             (10, "严重拥堵")])
def test_tpi_levels(value: float, name: str) -> None:
    assert tpi.tpi_level(value).name_zh == name


def test_vectorised_segment_levels_equal_scalar_ones() -> None:
    speeds = np.array([[70.0, 18.0], [12.0, 45.0]])
    classes = np.array([["expressway", "arterial"], ["secondary", "arterial"]])
    levels = tpi.segment_level(speeds, classes)
    assert levels.tolist() == [[1, 4], [4, 1]]


def test_unknown_road_class_is_named() -> None:
    with pytest.raises(ValueError, match="unknown road class 'motorway'"):
        tpi.segment_level(40, "motorway")
