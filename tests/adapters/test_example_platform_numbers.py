"""The example platform (a layout not ours) wired by bindings alone: every number the data
service gives equals a recomputation written here, in pandas, from the platform's own tables.

Built into real PostgreSQL and MariaDB (one run each) and Redis. Nothing here calls the
roll-up code: the expectations are sums, means and HJ 633 sub-indices computed in the test.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import redis
import sqlalchemy as sa
import yaml

from citybrain.config import load_config
from citybrain.period_values import period_values
from citybrain.timegrain import today
from datasources.service import DataService

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "platform"
TZ = ZoneInfo("Asia/Shanghai")
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/test"
REDIS = "redis://127.0.0.1:6379/0"

# HJ 633-2012 breakpoints, written out here: concentration → IAQI 0, 50, 100, 150, 200, 300, 400, 500
IAQI = [0, 50, 100, 150, 200, 300, 400, 500]
TABLES = {
    "pm25": [0, 35, 75, 115, 150, 250, 350, 500],        # 24 h
    "pm10": [0, 50, 150, 250, 350, 420, 500, 600],       # 24 h
    "so2": [0, 150, 500, 650, 800],                      # 1 h (above 800: the 24 h table)
    "no2": [0, 100, 200, 700, 1200, 2340, 3090, 3840],   # 1 h
    "co": [0, 5, 10, 35, 60, 90, 120, 150],              # 1 h, mg/m³
    "o3": [0, 160, 200, 300, 400, 800, 1000, 1200],      # 1 h
}


def sub_index(pollutant: str, c: float) -> int:
    table = TABLES[pollutant]
    for lo, hi, ilo, ihi in zip(table, table[1:], IAQI, IAQI[1:], strict=False):
        if c <= hi:
            return math.ceil(round(ilo + (ihi - ilo) * (c - lo) / (hi - lo), 9))
    return 500


def hourly_aqi(means: dict[str, float]) -> int:
    return max(sub_index(p, c) for p, c in means.items())


def reachable(url: str) -> bool:
    try:
        with sa.create_engine(url).connect():
            return True
    except Exception:  # noqa: BLE001
        return False


def need(url: str) -> None:
    if not reachable(url):
        if os.environ.get("CI"):
            pytest.fail(f"{url} is not reachable (CI runs with every service)")
        pytest.skip(f"{url} is not reachable")


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[DataService, sa.Engine, redis.Redis, dict]]:
    from examples.platform.build import build, drop

    kind = request.param
    schema = f"cp_{uuid.uuid4().hex[:8]}"
    prefix = f"{schema}:"
    base = PG if kind == "postgresql" else MARIADB
    need(base)
    args = {"pg_url": base} if kind == "postgresql" else {"mysql_url": base}
    info = build(**args, redis_url=REDIS, schema=schema, redis_prefix=prefix)
    info["prefix"] = prefix
    url = (f"{PG}?options=-csearch_path%3D{schema}" if kind == "postgresql"
           else info["mysql"]["url"])
    raw = yaml.safe_load((EXAMPLE / "cockpit.yaml").read_text(encoding="utf-8"))
    raw["datasources"]["warehouse"].update(url=url, url_env=None)
    raw["datasources"]["live"].update(url=REDIS, url_env=None)
    raw["datasources"]["gis"]["root"] = str(EXAMPLE)
    raw["datasources"] = {k: {kk: vv for kk, vv in v.items() if vv is not None}
                          for k, v in raw["datasources"].items()}
    for ind in raw["indicators"]:
        for key in ("binding", "history"):
            b = ind.get(key)
            if b and "key" in b:
                b["key"] = b["key"].replace("cityplat:", prefix)
                b["ts_key"] = b["ts_key"].replace("cityplat:", prefix)
            if b and kind == "mariadb" and "table" in b and info["mysql"].get("database") is None:
                b["table"] = info["mysql"]["tables"][b["table"]]
    path = tmp_path_factory.mktemp(kind) / "cockpit.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    service = DataService(load_config(path, env={}))
    engine = sa.create_engine(url)
    try:
        yield service, engine, redis.Redis.from_url(REDIS, decode_responses=True), info
    finally:
        engine.dispose()
        drop(**args, redis_url=REDIS, schema=schema, redis_prefix=prefix)


def table(engine: sa.Engine, name: str, time_column: str) -> pd.DataFrame:
    """A platform table as it is, its local times made aware."""
    data = pd.read_sql(sa.text(f"SELECT * FROM {name}"), engine)
    data[time_column] = pd.to_datetime(data[time_column]).dt.tz_localize(TZ).dt.tz_convert(UTC)
    return data


def floats(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].astype(float) for c in columns})


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
    from citybrain.kpi import read_kpis

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
