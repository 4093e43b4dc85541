"""Traffic operation index per GB/T 33171-2016 on hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from citybrain.standards import tpi


@pytest.mark.parametrize(("speed", "level"), [
    (65.1, 1), (65, 2), (50.1, 2), (50, 3), (35.1, 3), (35, 4), (20.1, 4), (20, 5), (0, 5),
])
def test_segment_level_expressway_boundaries(speed: float, level: int) -> None:
    assert tpi.segment_level(speed, "expressway") == level


@pytest.mark.parametrize(("speed", "level"), [
    (40.1, 1), (40, 2), (30.1, 2), (30, 3), (20.1, 3), (20, 4), (15.01, 4), (15, 5),
])
def test_segment_level_arterial_boundaries(speed: float, level: int) -> None:
    assert tpi.segment_level(speed, "arterial") == level


@pytest.mark.parametrize(("speed", "level"), [
    (35.1, 1), (35, 2), (25.1, 2), (25, 3), (15.1, 3), (15, 4), (10.1, 4), (10, 5),
])
def test_segment_level_secondary_boundaries(speed: float, level: int) -> None:
    assert tpi.segment_level(speed, "secondary") == level


def test_segment_level_branch_is_an_alias_of_secondary() -> None:
    assert [tpi.segment_level(v, "branch") for v in (36, 30, 20, 12, 10)] == [1, 2, 3, 4, 5]


def test_segment_level_scalar_is_an_int() -> None:
    assert isinstance(tpi.segment_level(30.0, "arterial"), int)


def test_segment_level_unknown_road_class_is_named() -> None:
    with pytest.raises(ValueError, match="'motorway'"):
        tpi.segment_level(40, "motorway")
    with pytest.raises(ValueError, match="'lane'"):
        tpi.segment_level([40, 30], ["arterial", "lane"])


def test_segment_level_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        tpi.segment_level(-1, "arterial")


def test_segment_level_vectorised_equals_scalar() -> None:
    rng = np.random.default_rng(33171)
    speeds = rng.uniform(0, 90, 400).round(1)
    classes = rng.choice(["expressway", "arterial", "secondary", "branch"], 400)
    vector = tpi.segment_level(speeds, classes)
    assert vector.dtype.kind == "i"
    assert vector.tolist() == [tpi.segment_level(float(v), str(c))
                               for v, c in zip(speeds, classes, strict=True)]


def test_segment_level_broadcasts_one_class_and_2d_arrays() -> None:
    assert tpi.segment_level(np.array([45.0, 35.0, 10.0]), "arterial").tolist() == [1, 2, 5]
    speeds = np.array([[70.0, 18.0], [12.0, 45.0]])
    classes = np.array(["expressway", "arterial"])  # one class per column
    assert tpi.segment_level(speeds, classes).tolist() == [[1, 4], [5, 1]]  # 12 on expressway → 5


@pytest.mark.parametrize(("share", "index"), [
    (0.0, 0.0),     # R = 0
    (0.02, 1.0),    # 0..4 % ↔ 0..2: 2 * 2/4
    (0.06, 3.0),    # 4..8 % ↔ 2..4: 2 + 2 * 2/4
    (0.095, 5.0),   # 8..11 % ↔ 4..6: 4 + 2 * 1.5/3
    (0.125, 7.0),   # 11..14 % ↔ 6..8: 6 + 2 * 1.5/3
    (0.19, 9.0),    # 14..24 % ↔ 8..10: 8 + 2 * 5/10
    (0.24, 10.0),
    (0.30, 10.0),   # R >= 24 % → 10
    (1.0, 10.0),
])
def test_tpi_from_congested_share(share: float, index: float) -> None:
    assert tpi.tpi_from_congested_share(share) == pytest.approx(index)


def test_tpi_from_congested_share_outside_0_1_is_refused_for_scalars() -> None:
    for bad in (-0.01, 1.01, float("nan")):
        with pytest.raises(ValueError):
            tpi.tpi_from_congested_share(bad)


def test_tpi_from_congested_share_vectorised_clips_and_equals_scalar() -> None:
    shares = np.linspace(0, 1, 101)
    vector = tpi.tpi_from_congested_share(shares)
    assert vector == pytest.approx([tpi.tpi_from_congested_share(float(s)) for s in shares])
    assert tpi.tpi_from_congested_share(np.array([-0.1, 1.5])).tolist() == [0.0, 10.0]


def test_network_tpi_weighs_segments_by_vehicle_km() -> None:
    # expressway 70 km/h → 1 (vkt 300); arterial 25 → 3 (170); arterial 18 → 4 (20);
    # secondary 8 → 5 (10). Congested = 20 + 10 = 30 of 500 → R = 6 % → 2 + 2 * 2/4 = 3.0
    speeds = [70, 25, 18, 8]
    classes = ["expressway", "arterial", "arterial", "secondary"]
    vkt = [300, 170, 20, 10]
    assert tpi.network_tpi(speeds, classes, vkt) == pytest.approx(3.0)


def test_network_tpi_with_zero_vehicle_km_is_0() -> None:
    assert tpi.network_tpi([10, 10], ["arterial", "arterial"], [0, 0]) == 0.0


def test_network_tpi_all_congested_is_10() -> None:
    assert tpi.network_tpi([10, 5], "arterial", [1, 2]) == 10.0


def test_network_tpi_negative_vehicle_km_is_refused() -> None:
    with pytest.raises(ValueError):
        tpi.network_tpi([50, 10], "arterial", [1, -1])


@pytest.mark.parametrize(("value", "level", "name_zh"), [
    (0, 1, "畅通"), (1.99, 1, "畅通"), (2, 2, "基本畅通"), (3.99, 2, "基本畅通"),
    (4, 3, "轻度拥堵"), (6, 4, "中度拥堵"), (7.9, 4, "中度拥堵"), (8, 5, "严重拥堵"),
    (10, 5, "严重拥堵"),
])
def test_tpi_level_bands(value: float, level: int, name_zh: str) -> None:
    got = tpi.tpi_level(value)
    assert (got.level, got.name_zh) == (level, name_zh)
    assert got is tpi.LEVELS[level - 1]


def test_tpi_level_outside_0_10_is_refused() -> None:
    with pytest.raises(ValueError):
        tpi.tpi_level(10.5)


def test_levels_carry_the_five_colours() -> None:
    assert [lv.colour for lv in tpi.LEVELS] == ["#2ECC71", "#A3D65C", "#F5C242", "#F07F3C",
                                                 "#D7263D"]
