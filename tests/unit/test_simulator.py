"""The simulated city: size, determinism, reproducible history and daily rhythms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from citybrain.config import load_config
from datasources.errors import BadQuery
from datasources.simulator.adapter import SimulatorSource
from tests.rolled import Rolled

CONFIG = load_config(env={})
CAT = CONFIG.catalogue
# Asia/Shanghai is UTC+8: local 08:00 on Wednesday 2026-11-25 is 00:00 UTC
WED_0800 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def local(day: int, hour: float) -> datetime:
    """UTC instant of local time ``hour`` on 2026-11-``day`` in Asia/Shanghai."""
    return datetime(2026, 11, day, tzinfo=UTC) + timedelta(hours=hour - 8)


@pytest.fixture(scope="module")
def sim() -> Rolled:
    """The simulator behind the data service, which rolls its grid facts up to every level."""
    return Rolled(SimulatorSource("sim", seed=20261125), CONFIG)


def city_value(sim: SimulatorSource, indicator: str, at: datetime) -> float:
    frame = sim.latest([CAT.get(indicator)], "city", at)
    return float(frame.data.value.iloc[0])


def test_city_has_the_size_of_a_prefecture_city(sim: SimulatorSource) -> None:
    levels = sim.areas().data.level.value_counts()
    assert levels["city"] == 1 and levels["district"] >= 6
    assert levels["street"] >= 40 and levels["grid"] >= 300
    grids = sim.layer("grids").data["features"]
    assert len(grids) >= 300
    assert all(f["geometry"]["type"] == "Polygon" for f in grids)
    assert all(f["geometry"]["coordinates"][0][0] == f["geometry"]["coordinates"][0][-1]
               for f in grids), "polygons are closed rings"
    assert len(sim.layer("roads").data["features"]) >= 300
    assert len(sim.layer("cameras").data["features"]) >= 200
    assert len(sim.layer("sensors").data["features"]) >= 100
    kinds = {f["properties"]["kind"] for f in sim.layer("facilities").data["features"]}
    assert {"street_light", "water_node", "power_node"} <= kinds


def test_area_hierarchy_is_consistent(sim: SimulatorSource) -> None:
    areas = sim.areas().data.set_index("id")
    parent_level = {"district": "city", "street": "district", "grid": "street"}
    for area_id, row in areas.iterrows():
        if row.level == "city":
            continue
        assert areas.loc[row.parent_id].level == parent_level[row.level], area_id


def test_same_seed_gives_the_same_city_and_values() -> None:
    a, b = Rolled(SimulatorSource("sim", seed=7), CONFIG), Rolled(SimulatorSource("sim", seed=7), CONFIG)
    inds = list(CAT)
    fa, fb = a.latest(inds, "grid", WED_0800), b.latest(inds, "grid", WED_0800)
    assert fa.data.equals(fb.data)
    assert a.events(WED_0800 - timedelta(hours=3), WED_0800).data.id.tolist() == \
        b.events(WED_0800 - timedelta(hours=3), WED_0800).data.id.tolist()


def test_another_seed_gives_another_city() -> None:
    a, b = Rolled(SimulatorSource("sim", seed=1), CONFIG), Rolled(SimulatorSource("sim", seed=2), CONFIG)
    assert a.layer("grids").data != b.layer("grids").data
    assert not a.latest(list(CAT), "grid", WED_0800).data.value.equals(
        b.latest(list(CAT), "grid", WED_0800).data.value)


def test_past_values_are_reproducible_without_storage(sim: SimulatorSource) -> None:
    """A value read live equals the same instant read later as part of a series."""
    ids = ["traffic_tpi", "aqi", "alerts_110_today", "power_load_mw"]
    inds = [CAT.get(i) for i in ids]
    at = local(20, 18)
    live = sim.latest(inds, "district", at).data.set_index(["indicator", "area_id"]).value
    fresh = Rolled(SimulatorSource("sim", seed=20261125), CONFIG)
    series = fresh.series(inds, ["D01", "D02", "D03"], at - timedelta(hours=1),
                          at + timedelta(minutes=1), timedelta(minutes=5)).data
    at_row = series[series.ts == at].set_index(["indicator", "area_id"]).value
    for key, value in at_row.items():
        assert live[key] == pytest.approx(value), key


def test_rush_hour_is_congested_and_the_night_is_free(sim: SimulatorSource) -> None:
    rush, night = city_value(sim, "traffic_tpi", local(25, 8)), city_value(
        sim, "traffic_tpi", local(25, 3))
    assert rush >= 4 > 1 >= night
    assert city_value(sim, "avg_speed", local(25, 8)) < city_value(sim, "avg_speed",
                                                                      local(25, 3))


def test_weekend_mornings_are_quieter_than_workday_mornings(sim: SimulatorSource) -> None:
    saturday, wednesday = local(28, 8), local(25, 8)
    assert city_value(sim, "traffic_tpi", saturday) < city_value(sim, "traffic_tpi", wednesday)
    assert city_value(sim, "checkpoint_flow", saturday) < city_value(sim, "checkpoint_flow",
                                                                       wednesday)


def test_power_load_is_lowest_at_night(sim: SimulatorSource) -> None:
    loads = {h: city_value(sim, "power_load_mw", local(25, h)) for h in (4, 10, 20)}
    assert loads[4] < loads[10] and loads[4] < loads[20]


def test_counts_of_today_restart_at_local_midnight(sim: SimulatorSource) -> None:
    before = city_value(sim, "hotline_calls_today", local(25, 23.9))
    after = city_value(sim, "hotline_calls_today", local(26, 0.05))
    assert before > 50 and after < 5


def test_city_count_is_the_sum_of_its_districts(sim: SimulatorSource) -> None:
    ind = [CAT.get("alerts_110_today")]
    city = sim.latest(ind, "city", local(25, 15)).data.value.sum()
    districts = sim.latest(ind, "district", local(25, 15)).data.value.sum()
    assert city == pytest.approx(districts)


def test_city_tpi_is_not_the_mean_of_district_tpis(sim: SimulatorSource) -> None:
    ind = [CAT.get("traffic_tpi")]
    city = sim.latest(ind, "city", local(25, 8)).data.value.iloc[0]
    districts = sim.latest(ind, "district", local(25, 8)).data.value
    assert districts.min() <= city <= districts.max()
    assert 0 <= city <= 10


def test_city_aqi_follows_mean_concentrations_per_hj633(sim: SimulatorSource) -> None:
    from citybrain.standards import aqi

    at = local(25, 14)
    names = ["pm25", "pm10", "no2", "o3", "aqi"]
    vals = {n: city_value(sim, n, at) for n in names}
    sub = max(aqi.iaqi("pm25", vals["pm25"], "24h"), aqi.iaqi("pm10", vals["pm10"], "24h"),
              aqi.iaqi("no2", vals["no2"], "1h"), aqi.iaqi("o3", vals["o3"], "1h"))
    assert vals["aqi"] >= sub - 1  # so2 and co can only raise it
    assert vals["aqi"] == int(vals["aqi"])


def test_events_live_through_their_lifecycle(sim: SimulatorSource) -> None:
    since = local(25, 9)
    events = sim.events(since, since + timedelta(hours=2)).data
    assert len(events) > 20
    assert set(events.status) <= {"reported", "dispatched", "handling", "closed"}
    assert {"police_110", "hotline_12345"} <= set(events.kind)
    one = events.iloc[-1]  # the oldest
    statuses = [sim.events(since, t).data.set_index("id").status.get(one.id)
                for t in (one.reported_at + timedelta(seconds=1),
                          one.reported_at + timedelta(hours=30))]
    assert statuses[0] == "reported" and statuses[1] == "closed"
    assert all(len(c) == 3 for c in events.camera_ids)


def test_facility_faults_come_and_go(sim: SimulatorSource) -> None:
    counts = [city_value(sim, "facility_faults", local(25, h)) for h in range(0, 24, 4)]
    assert min(counts) > 0 and len(set(counts)) > 1


def test_unknown_area_in_a_series_is_a_bad_query(sim: SimulatorSource) -> None:
    with pytest.raises(BadQuery, match="unknown area id 'nowhere'"):
        sim.series([CAT.get("aqi")], ["nowhere"], WED_0800, WED_0800 + timedelta(hours=1),
                   timedelta(minutes=5))


def test_grid_values_have_no_gaps(sim: SimulatorSource) -> None:
    frame = sim.latest([CAT.get("aqi"), CAT.get("traffic_tpi")], "grid", WED_0800)
    assert np.isfinite(frame.data.value.to_numpy()).all()
