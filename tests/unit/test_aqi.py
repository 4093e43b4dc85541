"""AQI per HJ 633-2012 on hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from citybrain.standards import aqi

# IAQI = (IAQI_hi - IAQI_lo) / (BP_hi - BP_lo) * (C - BP_lo) + IAQI_lo, then rounded up


def test_iaqi_pm25_80_is_107_rounded_up() -> None:
    # 75..115 ↔ 100..150: 50/40 * (80 - 75) + 100 = 106.25 → 107
    assert aqi.iaqi("pm25", 80, "24h") == 107


def test_iaqi_pm25_35_at_a_breakpoint_is_50() -> None:
    assert aqi.iaqi("pm25", 35, "24h") == 50


def test_iaqi_pm25_0_is_0() -> None:
    assert aqi.iaqi("pm25", 0, "24h") == 0


def test_iaqi_pm10_160_is_105() -> None:
    # 150..250 ↔ 100..150: 50/100 * 10 + 100 = 105
    assert aqi.iaqi("pm10", 160, "24h") == 105


def test_iaqi_co_1h_12_is_104() -> None:
    # 10..35 mg/m³ ↔ 100..150: 50/25 * (12 - 10) + 100 = 104
    assert aqi.iaqi("co", 12, "1h") == 104


def test_iaqi_o3_1h_250_is_125() -> None:
    # 200..300 ↔ 100..150: 50/100 * (250 - 200) + 100 = 125
    assert aqi.iaqi("o3", 250, "1h") == 125


def test_iaqi_so2_1h_above_800_uses_the_24h_table() -> None:
    # 24-h table 800..1600 ↔ 200..300: 100/800 * (900 - 800) + 200 = 212.5 → 213
    assert aqi.iaqi("so2", 900, "1h") == 213
    assert aqi.iaqi("so2", 800, "1h") == 200  # still the 1-h table's top


def test_iaqi_o3_8h_above_800_uses_the_1h_table() -> None:
    # 1-h table 800..1000 ↔ 300..400: 100/200 * (900 - 800) + 300 = 350
    assert aqi.iaqi("o3", 900, "8h") == 350


def test_iaqi_above_the_top_breakpoint_is_capped_at_500() -> None:
    assert aqi.iaqi("pm25", 500, "24h") == 500
    assert aqi.iaqi("pm25", 600, "24h") == 500


def test_iaqi_just_above_an_integer_rounds_up() -> None:
    # 0..35 ↔ 0..50: 35.01 → 50 + 50/40 * 0.01 = 50.0125 → 51
    assert aqi.iaqi("pm25", 35.01, "24h") == 51


def test_iaqi_scalar_is_an_int() -> None:
    assert isinstance(aqi.iaqi("no2", 50.0, "24h"), int)


def test_iaqi_negative_concentration_names_the_pollutant() -> None:
    with pytest.raises(ValueError, match="pm25.*-1"):
        aqi.iaqi("pm25", -1, "24h")


def test_iaqi_nan_scalar_names_the_pollutant() -> None:
    with pytest.raises(ValueError, match="no2"):
        aqi.iaqi("no2", float("nan"), "1h")


def test_iaqi_unknown_pollutant_or_period_is_named() -> None:
    with pytest.raises(ValueError, match="'pm10'"):
        aqi.iaqi("pm10", 10, "1h")
    with pytest.raises(ValueError, match="'pb'"):
        aqi.iaqi("pb", 10, "24h")


def test_iaqi_array_propagates_nan_and_rounds_up() -> None:
    out = aqi.iaqi("pm25", np.array([80.0, np.nan, 35.0]), "24h")
    assert out.dtype == float
    assert out[0] == 107 and np.isnan(out[1]) and out[2] == 50


def test_iaqi_array_with_a_negative_value_is_refused() -> None:
    with pytest.raises(ValueError, match="co"):
        aqi.iaqi("co", np.array([1.0, -0.5]), "24h")


@pytest.mark.parametrize(("value", "level", "name_zh", "colour"), [
    (0, 1, "优", "#00E400"), (50, 1, "优", "#00E400"), (51, 2, "良", "#FFFF00"),
    (100, 2, "良", "#FFFF00"), (101, 3, "轻度污染", "#FF7E00"), (150, 3, "轻度污染", "#FF7E00"),
    (151, 4, "中度污染", "#FF0000"), (200, 4, "中度污染", "#FF0000"),
    (201, 5, "重度污染", "#99004C"), (300, 5, "重度污染", "#99004C"),
    (301, 6, "严重污染", "#7E0023"), (500, 6, "严重污染", "#7E0023"),
])
def test_category_boundaries(value: int, level: int, name_zh: str, colour: str) -> None:
    cat = aqi.category(value)
    assert (cat.level, cat.name_zh, cat.colour) == (level, name_zh, colour)


def test_category_of_a_negative_aqi_is_refused() -> None:
    with pytest.raises(ValueError):
        aqi.category(-1)


def test_daily_aqi_full_example_is_107_lightly_polluted_with_pm25_primary() -> None:
    # pm25 80 → 107; pm10 160 → 105; so2 20 → 20; no2 50 → 50/40*10+50 = 62.5 → 63;
    # co 1.0 → 25; o3_8h 120 → 50/60*20+50 = 66.7 → 67; the largest is 107
    result = aqi.daily_aqi({"pm25": 80, "pm10": 160, "so2": 20, "no2": 50, "co": 1.0,
                            "o3_8h": 120})
    assert result.aqi == 107
    assert result.iaqi == {"pm25": 107, "pm10": 105, "so2": 20, "no2": 63, "co": 25,
                           "o3_8h": 67}
    assert (result.category.name_zh, result.category.colour) == ("轻度污染", "#FF7E00")
    assert result.primary == ("pm25",)


def test_daily_aqi_45_is_excellent_without_primary_pollutant() -> None:
    # pm25 31.5 → 50/35*31.5 = 45
    result = aqi.daily_aqi({"pm25": 31.5, "pm10": 20})
    assert result.aqi == 45 and result.category.name_zh == "优" and result.primary == ()


def test_daily_aqi_ties_name_every_primary_pollutant() -> None:
    # pm25 80 → 107 and pm10 164 → 50/100*14+100 = 107
    assert aqi.daily_aqi({"pm25": 80, "pm10": 164}).primary == ("pm25", "pm10")


def test_daily_aqi_o3_8h_above_800_reports_the_1h_sub_index() -> None:
    # o3 1-h 1100 → 100/200*100+400 = 450 replaces the 8-h sub-index
    result = aqi.daily_aqi({"o3_8h": 850, "o3": 1100})
    assert result.iaqi == {"o3": 450} and result.aqi == 450


def test_daily_aqi_needs_at_least_one_pollutant() -> None:
    with pytest.raises(ValueError):
        aqi.daily_aqi({})


def test_daily_aqi_unknown_key_is_named() -> None:
    with pytest.raises(ValueError, match="'pm2.5'"):
        aqi.daily_aqi({"pm2.5": 80})


def test_hourly_aqi_uses_1h_tables_for_gases_and_24h_for_particles() -> None:
    # co 12 (1-h) → 104; o3 250 (1-h) → 125; no2 150 (1-h) → 50/100*50+50 = 75; pm25 80 → 107
    result = aqi.hourly_aqi({"co": 12, "o3": 250, "no2": 150, "pm25": 80})
    assert result.iaqi == {"co": 104, "o3": 125, "no2": 75, "pm25": 107}
    assert result.aqi == 125 and result.primary == ("o3",)


def test_hourly_aqi_array_equals_scalar_on_random_grid() -> None:
    rng = np.random.default_rng(2012)
    n = 300
    conc = {"pm25": rng.uniform(0, 550, n), "pm10": rng.uniform(0, 650, n),
            "so2": rng.uniform(0, 1800, n), "no2": rng.uniform(0, 4000, n),
            "o3": rng.uniform(0, 1300, n), "co": rng.uniform(0, 160, n)}
    vector = aqi.hourly_aqi_array(**conc)
    assert vector.shape == (n,) and vector.dtype == float
    for k in range(n):
        assert vector[k] == aqi.hourly_aqi({p: float(v[k]) for p, v in conc.items()}).aqi


def test_iaqi_array_equals_scalar_for_every_table() -> None:
    rng = np.random.default_rng(633)
    for (pollutant, period), table in aqi.BREAKPOINTS.items():
        values = np.concatenate([rng.uniform(0, 1.3 * table[-1], 50), table])
        vector = aqi.iaqi(pollutant, values, period)
        assert vector.tolist() == [aqi.iaqi(pollutant, float(v), period) for v in values]


def test_hourly_aqi_array_propagates_nan() -> None:
    out = aqi.hourly_aqi_array(pm25=np.array([80.0, 80.0]), o3=np.array([250.0, np.nan]))
    assert out[0] == 125 and np.isnan(out[1])


def test_hourly_aqi_array_needs_at_least_one_pollutant() -> None:
    with pytest.raises(ValueError):
        aqi.hourly_aqi_array()
