"""The example platform (a layout not ours) wired by bindings alone: every number the data
service gives equals a recomputation written here, in pandas, from the platform's own tables.

Built into real PostgreSQL and MariaDB (one run each) and Redis. Nothing here calls the
roll-up code: the expectations are sums, means and HJ 633 sub-indices computed in the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from citybrain.config import load_config
from citybrain.timegrain import today
from service.data import DataService
from service.period_values import period_values
from tests.adapters.platform_fixture import TABLES, TZ, floats, hourly_aqi, table


def service_values(service: DataService, level: str) -> pd.DataFrame:
    frame = service.latest([i.id for i in service.catalogue], level)
    assert frame.missing == {}, frame.missing
    return frame.data.pivot(index="area_id", columns="indicator", values="value")


def test_city_values_equal_an_independent_recomputation(platform) -> None:  # noqa: ANN001
    service, engine, store, info = platform
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"),
                   ["vehicle_flow", "pm25", "pm10", "so2", "no2", "o3", "co", "noise_db", "police_alerts",
                    "resident_pop", "response_min"])
    hour = facts.stat_hour.max()
    now_rows = facts[facts.stat_hour == hour]
    assert len(now_rows) == 5, "one district has not reported this hour"
    got = service_values(service, "city").loc["360800"]

    assert got["alerts_110"] == now_rows.police_alerts.sum()
    assert got["population"] == now_rows.resident_pop.sum()
    assert got["noise_db"] == pytest.approx(now_rows.noise_db.mean())
    both = now_rows.dropna(subset=["response_min", "resident_pop"])
    assert got["police_response_min"] == pytest.approx(
        (both.response_min * both.resident_pop).sum() / both.resident_pop.sum())
    means = {p: now_rows[p].dropna().mean() for p in TABLES}
    assert got["aqi"] == hourly_aqi(means)

    prefix = info["prefix"]
    flows = {k: float(v) for k, v in store.hgetall(f"{prefix}rt:vehicle_flow").items()}
    pm25 = {k: float(v) for k, v in store.hgetall(f"{prefix}rt:pm25").items()}
    assert got["checkpoint_flow"] == sum(flows.values()) == now_rows.vehicle_flow.sum()
    assert got["pm25"] == pytest.approx(sum(pm25.values()) / len(pm25))

    streets = floats(table(engine, "fact_street_hourly", "stat_hour"), ["hotline_calls"])
    assert got["hotline_calls"] == streets[streets.stat_hour == hour].hotline_calls.sum()

    lots = floats(table(engine, "parking_status", "stat_time"), ["capacity", "occupied"])
    newest = lots.stat_time.max()
    current = lots[lots.stat_time > newest - timedelta(minutes=15)]
    assert got["parking_occupancy"] == pytest.approx(100 * current.occupied.sum() / current.capacity.sum())


def test_district_values_are_each_districts_own_newest_facts(platform) -> None:  # noqa: ANN001
    service, engine, _store, _info = platform
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"), ["police_alerts", "pm25", "noise_db"])
    newest = facts.sort_values("stat_hour").groupby("district_code").last()
    got = service_values(service, "district")
    assert sorted(got.index) == sorted(newest.index)
    for code, row in newest.iterrows():
        assert got.loc[code, "alerts_110"] == row.police_alerts, code
        assert got.loc[code, "noise_db"] == pytest.approx(row.noise_db), code
    lots = floats(table(engine, "parking_status", "stat_time"), ["capacity", "occupied"])
    for code, group in lots.groupby("district_code"):
        at = group.stat_time.max()
        now = group[group.stat_time == at]
        assert got.loc[code, "parking_occupancy"] == pytest.approx(100 * now.occupied.sum() / now.capacity.sum())


def test_the_day_so_far_is_the_sum_of_recorded_hours(platform) -> None:  # noqa: ANN001
    service, engine, _store, _info = platform
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"), ["police_alerts", "vehicle_flow"])
    now = datetime.now(UTC)
    day = today(now, TZ)
    start, end = (pd.Timestamp(x) for x in day.utc_range())
    inside = facts[(facts.stat_hour >= start) & (facts.stat_hour < end)]
    for ind_id, column in (("alerts_110", "police_alerts"), ("checkpoint_flow", "vehicle_flow")):
        values = period_values(service, service.catalogue.get(ind_id), ["360800"], day, [], now)
        assert values.totals["360800"] == inside[column].sum(), ind_id


def test_street_facts_roll_up_to_districts(platform) -> None:  # noqa: ANN001
    service, engine, _store, _info = platform
    streets = floats(table(engine, "fact_street_hourly", "stat_hour"), ["hotline_calls"])
    regions = pd.read_sql(sa.text("SELECT * FROM dim_region"), engine)
    parent = dict(zip(regions.region_code.astype(str), regions.parent_code.astype(str), strict=True))
    hour = streets.stat_hour.max()
    now = streets[streets.stat_hour == hour].assign(district=lambda d: d.street_code.astype(str).map(parent))
    expected = now.groupby("district").hotline_calls.sum()
    got = service_values(service, "district")["hotline_calls"].dropna()
    for code, value in expected.items():
        assert got[code] == value, code


def test_kpi_comparisons_read_the_same_hour_yesterday_and_last_week(platform) -> None:  # noqa: ANN001
    from service.kpi import read_kpis

    service, engine, _store, _info = platform
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"), ["police_alerts", "noise_db"])
    now = datetime.now(UTC)
    hour = pd.Timestamp(now).floor("h")
    inds = [service.catalogue.get("alerts_110"), service.catalogue.get("noise_db")]
    kpis = {k.indicator.id: k for k in read_kpis(service, inds, "360800", "city", now)}
    for days, field in ((1, "yesterday"), (7, "last_week")):
        then = facts[facts.stat_hour == hour - pd.Timedelta(days=days)]
        assert len(then) == 6
        assert getattr(kpis["alerts_110"], field) == then.police_alerts.sum(), field
        assert getattr(kpis["noise_db"], field) == pytest.approx(then.noise_db.mean()), field
    spark = dict(kpis["alerts_110"].spark)
    assert len(spark) >= 23, "the sparkline draws the last 24 hourly points"


def test_one_broken_binding_blanks_only_its_own_indicator(platform, tmp_path: Path) -> None:  # noqa: ANN001
    service, engine, _store, info = platform
    raw = yaml.safe_load(Path(info["config"]).read_text(encoding="utf-8"))
    broken = next(i for i in raw["indicators"] if i["id"] == "alerts_110")
    broken["binding"]["table"] = "fact_district_hour"   # a table the platform does not have
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    frame = DataService(load_config(path, env={})).latest([i["id"] for i in raw["indicators"]], "city")
    assert set(frame.missing) == {"alerts_110"} and "fact_district_hour" in frame.missing["alerts_110"]
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"), ["noise_db"])
    now_rows = facts[facts.stat_hour == facts.stat_hour.max()]
    got = frame.data.set_index("indicator").value
    assert got["noise_db"] == pytest.approx(now_rows.noise_db.mean()), "the same source's other indicators read on"


def test_hourly_facts_draw_the_last_24_hours_in_the_heartbeat_pulse(platform) -> None:  # noqa: ANN001
    from pages.heartbeat.model import pulse_span, pulse_title, pulses, snapshot
    from service import runtime

    _service, engine, _store, info = platform
    cockpit = runtime.build(load_config(info["config"], env={}))
    assert pulse_span(cockpit) == (timedelta(hours=1), timedelta(hours=24))
    assert pulse_title(cockpit, "zh") == "领域脉搏 · 近24小时"
    now = datetime.now(UTC)
    drawn = pulses(cockpit, now, snapshot(cockpit))
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"), ["police_alerts"])
    hour = pd.Timestamp(now).floor("h")
    hours = facts[(facts.stat_hour >= hour - pd.Timedelta(hours=24)) & (facts.stat_hour < hour)].stat_hour.unique()
    assert len(drawn.times) == len(hours) + 1 == 25, "24 hourly points and now"
    assert all(v is not None for v in drawn.scores["safety"]), "the safety line has a point every hour"


def test_month_and_year_totals_are_the_sum_of_recorded_hours(platform) -> None:  # noqa: ANN001
    from citybrain.timegrain import parse

    service, engine, _store, _info = platform
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"), ["police_alerts"])
    now = datetime.now(UTC)
    local = facts.stat_hour.dt.tz_convert(TZ)
    for text in (f"{now.astimezone(TZ):%Y}", f"{now.astimezone(TZ):%Y-%m}"):
        period = parse(text, TZ, now)
        values = period_values(service, service.catalogue.get("alerts_110"), ["360800"], period,
                               period.children(now), now)
        start, end = (pd.Timestamp(x) for x in period.utc_range())
        inside = facts[(facts.stat_hour >= start) & (facts.stat_hour < end)]
        assert values.totals["360800"] == inside.police_alerts.sum(), text
        by_bucket = dict(zip(values.table.bucket, values.table.value, strict=True))
        key = "%Y-%m" if len(text) == 4 else "%Y-%m-%d"
        expected = facts.assign(k=local.dt.strftime(key))[local.dt.strftime(key).isin(by_bucket)]
        for bucket, total in expected.groupby("k").police_alerts.sum().items():
            assert by_bucket[bucket] == total, (text, bucket)
