"""The example 吉安市 platform (examples/platform) built in the real PostgreSQL, MariaDB and
Redis: its own layout, its counts, its deliberate gaps, live values that agree with the SQL
facts, a boundary file of bare GCJ-02 geometries, and a clean drop.

Everything is read back with plain SQL and redis-py, never through the cockpit's adapters.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from shapely.geometry import shape

from citybrain.standards.aqi import hourly_aqi
from datasources.crs import gcj02_to_wgs84
from examples.platform import build as platform
from examples.platform import facts, shapes
from tests.conftest import require_services

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/test"
REDIS = "redis://127.0.0.1:6379/0"
NOW = datetime(2025, 6, 3, 14, 37)             # local time: current hour 14:00, slot 14:30
HOUR = timedelta(hours=1)
DISTRICTS = {"360802", "360803", "360821", "360822", "360823", "360824"}
POLLUTANTS = ("pm25", "pm10", "so2", "no2", "o3", "co")


def _reachable() -> None:
    require_services(sql=(PG, MARIADB), redis_url=REDIS)


def _names() -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"schema": f"cityplat_test_{tag}", "redis_prefix": f"cityplat_test_{tag}:"}


@pytest.fixture(scope="module")
def built() -> Iterator[dict[str, Any]]:
    """The platform in all three stores for this module, dropped afterwards."""
    _reachable()
    stores = {"pg_url": PG, "mysql_url": MARIADB, "redis_url": REDIS, **_names()}
    result = platform.build(**stores, now=NOW)
    yield result
    platform.drop(**stores)


def _sql(result: dict[str, Any], backend: str, query: str, **params: Any) -> list[sa.Row[Any]]:
    """Run ``query`` with {table} names filled in for ``backend`` (postgresql or mysql)."""
    info = result[backend]
    engine = sa.create_engine(info["url"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query.format(**info["tables"])), params))
    finally:
        engine.dispose()


BACKENDS = pytest.mark.parametrize("backend", ["postgresql", "mysql"])


def test_boundary_file_is_bare_gcj02_geometries_with_adcodes() -> None:
    geometries = json.loads(shapes.BOUNDARIES.read_text(encoding="utf-8"))
    assert geometries == shapes.boundaries(), "the committed file is out of date: --write-boundaries"
    assert isinstance(geometries, list) and len(geometries) == 6
    assert {g["properties"]["adcode"] for g in geometries} == DISTRICTS
    assert all(g["type"] in ("Polygon", "MultiPolygon") and "geometry" not in g for g in geometries)
    assert any(g["type"] == "MultiPolygon" for g in geometries)
    polygons = [shape(g) for g in geometries]
    assert all(p.is_valid and 114.85 < p.bounds[0] and p.bounds[2] < 115.35
               and 26.85 < p.bounds[1] and p.bounds[3] < 27.35 for p in polygons)
    assert all(a.intersection(b).area < 1e-12 for a, b in itertools.combinations(polygons, 2))
    # GCJ-02, not WGS-84: 吉安县's first corner is (114.90, 26.90) only after the inverse offset
    x, y = geometries[[g["properties"]["adcode"] for g in geometries].index("360821")]["coordinates"][0][0]
    assert abs(x - 114.90) > 1e-3
    assert gcj02_to_wgs84(x, y) == pytest.approx((114.90, 26.90), abs=1e-5)


def test_clock_is_local_and_truncated() -> None:
    clock = facts.clock(datetime(2025, 6, 3, 6, 37, 12, tzinfo=UTC), days=2)   # 14:37 in Shanghai
    assert (clock.current_hour, clock.current_slot) == (datetime(2025, 6, 3, 14), datetime(2025, 6, 3, 14, 30))
    assert clock.start_hour == datetime(2025, 6, 1, 15) and len(clock.hours) == 48


def test_history_does_not_depend_on_when_it_is_built() -> None:
    early, late = facts.clock(NOW, days=2), facts.clock(NOW + 5 * HOUR, days=2)
    rows = {(r["district_code"], r["stat_hour"]): r for r in facts.district_facts(7, late)}
    quirky = {c.current_hour - back * HOUR for c in (early, late) for back in facts.PM25_GAP_HOURS_BACK}
    same = [r == rows[(r["district_code"], r["stat_hour"])] for r in facts.district_facts(7, early)
            if r["stat_hour"] < early.current_hour and r["stat_hour"] not in quirky
            and (r["district_code"], r["stat_hour"]) in rows]
    assert len(same) > 100 and all(same)
    assert facts.district_facts(8, early) != facts.district_facts(7, early)


@pytest.mark.service
@BACKENDS
def test_row_counts(built: dict[str, Any], backend: str) -> None:
    hours, slots = 8 * 24, (8 * 24 - 1) * 4 + 3
    expected = {"dim_region": 19, "fact_district_hourly": 6 * hours - 1,
                "fact_street_hourly": 13 * hours - 2, "parking_status": 22 * slots - 1}
    assert built["rows"] == expected
    for name, count in expected.items():
        assert _sql(built, backend, f"SELECT count(*) FROM {{{name}}}")[0][0] == count


@pytest.mark.service
@BACKENDS
def test_regions_use_the_platforms_level_words_and_no_root_row(built: dict[str, Any], backend: str) -> None:
    rows = _sql(built, backend, "SELECT region_code, region_type, parent_code FROM {dim_region}")
    assert "360800" not in {r[0] for r in rows}
    assert {r[1] for r in rows} == {"区县", "街道"}
    districts = {r[0] for r in rows if r[1] == "区县"}
    assert districts == DISTRICTS and {r[2] for r in rows if r[1] == "区县"} == {"360800"}
    assert all(r[2] in districts and r[0].startswith(r[2]) for r in rows if r[1] == "街道")


@pytest.mark.service
@BACKENDS
def test_redis_live_values_equal_the_sql_current_hour(built: dict[str, Any], backend: str) -> None:
    hour = built["current_hour"]
    rows = {r._mapping["district_code"]: r._mapping for r in _sql(
        built, backend, "SELECT * FROM {fact_district_hourly} WHERE stat_hour = :h", h=hour)}
    assert set(rows) == DISTRICTS - {"360824"}                      # 新干县 has not reported yet
    client = redis.Redis.from_url(REDIS, decode_responses=True)
    try:
        for name, key in built["redis"]["keys"].items():
            live = client.hgetall(key["hash"])
            assert set(live) == set(rows), name                      # missing, not zero
            assert client.get(key["ts"]) == hour.strftime("%Y-%m-%d %H:%M:%S") == "2025-06-03 14:00:00"
            for code, text in live.items():
                row = rows[code]
                if name == "aqi_hour":
                    want = hourly_aqi({p: float(row[p]) for p in POLLUTANTS}).aqi
                    assert int(text) == want, code
                else:
                    assert Decimal(text) == Decimal(row[name]), (name, code)
    finally:
        client.close()


@pytest.mark.service
@BACKENDS
def test_the_platforms_rough_edges(built: dict[str, Any], backend: str) -> None:
    hour = built["current_hour"]
    nulls = _sql(built, backend, "SELECT district_code, stat_hour FROM {fact_district_hourly} "
                                 "WHERE pm25 IS NULL ORDER BY stat_hour")
    assert [(r[0], r[1]) for r in nulls] == [tuple(q) for q in built["quirks"]["pm25_null"]]
    assert [(r[0], r[1]) for r in nulls] == [("360823", hour - 26 * HOUR), ("360823", hour - 4 * HOUR),
                                             ("360823", hour - 3 * HOUR)]
    half = _sql(built, backend, "SELECT pm25, response_min FROM {fact_district_hourly} "
                                "WHERE district_code = '360802' AND stat_hour = :h", h=hour)
    assert tuple(half[0]) == (Decimal("38.5"), Decimal("12.25"))
    streets = _sql(built, backend, "SELECT street_code FROM {fact_street_hourly} WHERE stat_hour = :h", h=hour)
    assert len(streets) == 11 and not any(r[0].startswith("360824") for r in streets)
    latest = _sql(built, backend, "SELECT lot_id, max(stat_time), min(capacity - occupied), count(*) "
                                  "FROM {parking_status} GROUP BY lot_id")
    assert len(latest) == 22 and all(r[2] >= 0 for r in latest)
    assert {r[0]: r[1] for r in latest if r[1] != built["current_slot"]} == \
        {"P360803-02": built["current_slot"] - timedelta(minutes=15)}
    lots = _sql(built, backend, "SELECT district_code, count(DISTINCT lot_id) FROM {parking_status} "
                                "GROUP BY district_code")
    assert all(3 <= r[1] <= 5 for r in lots) and {r[0] for r in lots} == DISTRICTS


@pytest.mark.service
def test_both_warehouses_hold_the_same_facts(built: dict[str, Any]) -> None:
    query = "SELECT * FROM {fact_district_hourly} ORDER BY district_code, stat_hour"
    pg, my = (_sql(built, b, query) for b in ("postgresql", "mysql"))
    assert [tuple(r) for r in pg] == [tuple(r) for r in my]
    assert isinstance(pg[0]._mapping["stat_hour"], datetime) and pg[0]._mapping["stat_hour"].tzinfo is None


@pytest.mark.service
def test_rebuild_replaces_only_its_own_tables_and_keys(built: dict[str, Any]) -> None:
    schema, prefix = built["postgresql"]["schema"], built["redis"]["keys"]["pm25"]["hash"][:-len("rt:pm25")]
    engine = sa.create_engine(PG)
    client = redis.Redis.from_url(REDIS, decode_responses=True)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE {schema}.operator_notes (note TEXT)"))
        client.set(f"{prefix}operator:note", "keep")
        again = platform.build(pg_url=PG, redis_url=REDIS, schema=schema, redis_prefix=prefix, now=NOW)
        assert again["rows"] == built["rows"]
        with engine.connect() as conn:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {schema}.operator_notes")).scalar_one() == 0
        assert client.get(f"{prefix}operator:note") == "keep"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {schema}.operator_notes"))
        client.delete(f"{prefix}operator:note")
        client.close()
        engine.dispose()
    assert _sql(built, "postgresql", "SELECT sum(vehicle_flow) FROM {fact_district_hourly}") == \
        _sql(built, "mysql", "SELECT sum(vehicle_flow) FROM {fact_district_hourly}")


@pytest.mark.service
def test_drop_leaves_nothing_behind() -> None:
    _reachable()
    names = _names()
    stores = {"pg_url": PG, "mysql_url": MARIADB, "redis_url": REDIS, **names}
    result = platform.build(**stores, now=NOW, days=1)
    assert result["rows"]["fact_district_hourly"] == 6 * 24 - 1
    assert [q[1] for q in result["quirks"]["pm25_null"]] == [NOW.replace(minute=0) - 4 * HOUR,
                                                             NOW.replace(minute=0) - 3 * HOUR]
    platform.drop(**stores)
    client = redis.Redis.from_url(REDIS)
    try:
        assert not list(client.scan_iter(match=f"{names['redis_prefix']}*"))
    finally:
        client.close()
    engine = sa.create_engine(PG)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"),
                                {"s": names["schema"]}).scalar_one() == 0
    finally:
        engine.dispose()
    engine = sa.create_engine(MARIADB)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"),
                                {"s": names["schema"]}).scalar_one() == 0
    finally:
        engine.dispose()
