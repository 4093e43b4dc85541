"""The shared roll-up: each catalogue rule on a handful of leaf rows, against worked values."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from citybrain.catalogue import Rollup
from service.hierarchy import normalise
from service.rollup import RollupError, combine

T0 = pd.Timestamp("2026-12-03 05:00", tz="UTC")
T1 = T0 + pd.Timedelta(hours=1)
UP = {"a": "D1", "b": "D1", "c": "D2"}


def rows(**columns: list) -> pd.DataFrame:
    base = {"area_id": ["a", "b", "c"], "ts": [T1, T1, T1], "value": [1.0, 2.0, 4.0]}
    return pd.DataFrame({**base, **columns})


def values(out: pd.DataFrame) -> dict[str, float]:
    return dict(zip(out.area_id, out.value, strict=True))


@pytest.mark.parametrize(("method", "d1", "d2"), [("sum", 3.0, 4.0), ("mean", 1.5, 4.0), ("max", 2.0, 4.0),
                                                   ("min", 1.0, 4.0), ("latest", 1.5, 4.0)])
def test_plain_rules(method: str, d1: float, d2: float) -> None:
    out = combine(rows(), UP, Rollup(method=method), by_time=False)
    assert values(out) == {"D1": d1, "D2": d2}


def test_weighted_mean_by_a_column_leaves_out_rows_without_a_weight() -> None:
    out = combine(rows(pop=[100.0, 300.0, None]), UP, Rollup(method="weighted_mean", by="pop"), by_time=False)
    assert values(out)["D1"] == pytest.approx((1 * 100 + 2 * 300) / 400)
    assert pd.isna(values(out)["D2"])


def test_ratio_of_sums_is_not_the_mean_of_ratios() -> None:
    lots = rows(occupied=[10.0, 90.0, 5.0], capacity=[100.0, 100.0, 0.0], value=[None] * 3)
    out = combine(lots, UP, Rollup(method="ratio", numerator="occupied", denominator="capacity", scale=100),
                  by_time=False)
    assert values(out)["D1"] == pytest.approx(50.0)
    assert pd.isna(values(out)["D2"]), "no capacity: no value, never a division by zero"


def test_an_area_that_has_not_reported_this_hour_is_left_out_of_this_hours_sum() -> None:
    late = rows(ts=[T1, T0, T1])
    out = combine(late, {"a": "C", "b": "C", "c": "C"}, Rollup(method="sum"), by_time=False,
                  window=timedelta(hours=1))
    assert values(out) == {"C": 5.0} and out.members.tolist() == [2]
    assert out.ts.tolist() == [T1]


def test_series_roll_up_per_time_step() -> None:
    two = pd.concat([rows(), rows(ts=[T0, T0, T0], value=[10.0, 20.0, 40.0])])
    out = combine(two, UP, Rollup(method="sum"), by_time=True).sort_values(["area_id", "ts"])
    assert out.value.tolist() == [30.0, 3.0, 40.0, 4.0]


def test_aqi_comes_from_the_mean_concentrations_not_the_mean_of_aqis() -> None:
    conc = rows(pm25=[30.0, 80.0, 10.0], no2=[40.0, 40.0, 40.0])
    rule = Rollup(method="standard", standard="aqi", inputs={"pm25": "pm25", "no2": "no2"})
    out = values(combine(conc, UP, rule, by_time=False))
    # PM2.5 mean 55 µg/m³ (24 h table 35–75 → 50–100): 50 + 50 × 20/40 = 75
    assert out["D1"] == 75
    daily = values(combine(conc, UP, rule, by_time=False, period="day"))
    assert daily["D1"] == 75   # PM2.5 uses the 24-hour table in both; NO2 40 is 20 on either


def test_tpi_from_segment_speeds_by_road_class() -> None:
    segs = rows(speed=[10.0, 60.0, 70.0], road_class=["arterial", "arterial", "expressway"], length=[1.0, 3.0, 1.0])
    rule = Rollup(method="standard", standard="tpi", inputs={"speed": "speed", "road_class": "road_class",
                                                             "length": "length"})
    out = values(combine(segs, UP, rule, by_time=False))
    assert 0 < out["D1"] <= 10 and out["D2"] == 0   # a quarter of D1's km is congested; D2 flows


def test_a_missing_input_column_is_named() -> None:
    with pytest.raises(RollupError, match="'capacity'"):
        combine(rows(occupied=[1.0, 2.0, 3.0]), UP,
                Rollup(method="ratio", numerator="occupied", denominator="capacity"), by_time=False)


def test_platform_level_words_and_a_missing_root_are_named_and_counted() -> None:
    raw = pd.DataFrame({"id": ["360802", "360803", "360802001", "x1"],
                        "parent_id": ["360800", "360800", "360802", "360802"],
                        "level": ["区县", "区县", "街道", "county"], "name_zh": ["吉州区", "青原区", "街道一", "?"]})
    hier = normalise(raw, root_id="360800", name_zh="吉安市", name_en="Ji'an",
                     level_names={"区县": "district", "街道": "street"})
    assert hier.root_id == "360800" and hier.levels_present() == ["city", "district", "street"]
    assert hier.up("street", "city") == {"360802001": "360800"}
    assert hier.dropped == 1 and "'county'" in hier.problems[0] and "city.level_names" in hier.problems[0]
