"""The SQL adapter against the real PostgreSQL and MariaDB on this machine, and SQLite.

Each test builds its own tables (a schema of its own on PostgreSQL, a table-name prefix of
its own on MariaDB and SQLite) through a separate writing engine, and drops them after.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from citybrain.catalogue import Indicator
from datasources.errors import BadQuery, StoreUnavailable
from datasources.sql import SqlSource
from tests.conftest import require

T0 = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
SERVERS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
           "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test"}
TIME_TYPE = {"postgresql": "TIMESTAMP WITH TIME ZONE", "mariadb": "DATETIME", "sqlite": "TEXT"}
SLOW = {"postgresql": "SELECT pg_sleep(3) AS area_id",
        "mariadb": "SELECT SLEEP(3) AS area_id",
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) "
                  "SELECT count(*) AS area_id FROM c"}
VALUES = [("tpi", "D01", "district", T0 - 10 * MIN, "4.0"), ("tpi", "D01", "district", T0 - 5 * MIN, "5.0"),
          ("tpi", "D01", "district", T0, "6.2"), ("tpi", "D02", "district", T0, "3.1"),
          ("tpi", "D03", "district", T0, "abc"), ("tpi", "D01", "district", T0 + 10 * MIN, "9.9"),
          ("tpi", "C", "city", T0, "4.4"), ("aqi", "D01", "district", T0, "77")]
EVENTS = [("E1", "handling", T0 - 30 * MIN, "114.98", "27.11", '["C1", "C2"]'),
          ("E2", "reported", T0 - 20 * MIN, "114.90", "27.05", None),
          ("E3", "reported", T0 - 20 * MIN, None, "27.05", None),        # no lon
          ("E4", "reported", T0 - 20 * MIN, "east", "27.05", None),      # text for a number
          ("E5", "reported", T0 - 20 * MIN, "114.90", "200", None),      # lat off the planet
          ("E6", "teleported", T0 - 20 * MIN, "114.90", "27.05", None),  # unknown status
          ("E7", "closed", T0 - 3 * 60 * MIN, "114.90", "27.05", None)]  # outside the window


class Db:
    """One backend with this test's tables; ``source()`` builds adapters closed afterwards."""

    def __init__(self, kind: str, url: str, prefix: str) -> None:
        self.kind, self.url, self.prefix = kind, url, prefix
        self.writer = sa.create_engine(url)
        self.sources: list[SqlSource] = []

    def t(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.kind == "postgresql" else f"{self.prefix}_{name}"

    def stamp(self, ts: datetime) -> Any:
        return ts if self.kind == "postgresql" else ts.replace(tzinfo=None) if self.kind == "mariadb" \
            else ts.strftime("%Y-%m-%d %H:%M:%S")

    def source(self, **options: Any) -> SqlSource:
        """An adapter on this backend; these tables hold UTC times, so its zone is UTC."""
        self.sources.append(SqlSource("warehouse", url=self.url, **{"timezone": "UTC", **options}))
        return self.sources[-1]

    def count(self, table: str) -> int:
        with self.writer.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {self.t(table)}")).scalar_one()

    def create(self) -> None:
        ts = TIME_TYPE[self.kind]
        with self.writer.begin() as conn:
            if self.kind == "postgresql":
                conn.execute(sa.text(f"CREATE SCHEMA {self.prefix}"))
            run = conn.execute
            run(sa.text(f"CREATE TABLE {self.t('ind')} (indicator_code VARCHAR(16), region_code "
                        f"VARCHAR(16), region_level VARCHAR(16), stat_time {ts}, val VARCHAR(16))"))
            run(sa.text(f"INSERT INTO {self.t('ind')} VALUES (:i, :a, :l, :t, :v)"),
                [{"i": i, "a": a, "l": lv, "t": self.stamp(t), "v": v} for i, a, lv, t, v in VALUES])
            run(sa.text(f"CREATE TABLE {self.t('ev')} (event_no VARCHAR(8), kind VARCHAR(16), status "
                        f"VARCHAR(16), reported_at {ts}, lon VARCHAR(16), lat VARCHAR(16), cams VARCHAR(64))"))
            run(sa.text(f"INSERT INTO {self.t('ev')} VALUES (:e, 'fire', :s, :t, :lon, :lat, :c)"),
                [{"e": e, "s": s, "t": self.stamp(t), "lon": lon, "lat": lat, "c": c}
                 for e, s, t, lon, lat, c in EVENTS])
            run(sa.text(f"CREATE TABLE {self.t('region')} (id VARCHAR(8), parent_id VARCHAR(8), "
                        f"level VARCHAR(16), name_zh VARCHAR(16), name_en VARCHAR(16))"))
            run(sa.text(f"INSERT INTO {self.t('region')} VALUES ('C', NULL, 'city', '云江市', 'Yunjiang'), "
                        f"('D01', 'C', 'district', '东区', 'East'), ('X', 'C', 'planet', 'X', 'X')"))
            run(sa.text(f"CREATE TABLE {self.t('road')} (id INTEGER, geometry TEXT, name VARCHAR(16))"))
            run(sa.text(f"INSERT INTO {self.t('road')} VALUES "
                        f"(1, '{{\"type\": \"LineString\", \"coordinates\": [[114.9, 27.1], [115.0, 27.2]]}}', "
                        f"'Ring road'), (2, 'not json', 'Broken')"))

    def drop(self) -> None:
        for src in self.sources:
            src.close()
        with self.writer.begin() as conn:
            if self.kind == "postgresql":
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.prefix} CASCADE"))
            elif self.kind == "mariadb":
                for table in ("ind", "ev", "region", "road"):
                    conn.execute(sa.text(f"DROP TABLE IF EXISTS {self.t(table)}"))
        self.writer.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service),
                        pytest.param("mariadb", marks=pytest.mark.service)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    kind = request.param
    url = f"sqlite:///{tmp_path / 'warehouse.db'}" if kind == "sqlite" else SERVERS[kind]
    base = Db(kind, url, f"cb_test_{uuid.uuid4().hex[:10]}")
    try:
        with base.writer.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        base.writer.dispose()
        require(False, f"{kind} at {url}")
    base.create()
    yield base
    base.drop()


def ind(db: Db | None = None, **binding: Any) -> Indicator:
    t = db.t("ind") if db else "ind"
    return Indicator.model_validate({
        "id": "tpi", "name_zh": "指数", "name_en": "Index", "domain": "traffic", "better": "lower",
        "binding": {"source": "warehouse",
                    "latest": f"SELECT region_code, stat_time, val FROM {t} WHERE indicator_code = "
                              f":indicator AND region_level = :level AND stat_time <= :at",
                    "series": f"SELECT region_code, stat_time, val FROM {t} WHERE indicator_code = "
                              f":indicator AND region_code IN :area_ids AND stat_time >= :start "
                              f"AND stat_time < :end",
                    "columns": {"area_id": "region_code", "ts": "stat_time", "value": "val"},
                    **binding}})


def test_latest_renames_columns_keeps_the_newest_and_counts_rejects(db: Db) -> None:
    src = db.source()
    frame = src.latest([ind(db)], "district", at=T0)
    assert frame.data.set_index("area_id").value.to_dict() == {"D01": 6.2, "D02": 3.1}
    assert list(frame.data.columns) == ["indicator", "area_id", "ts", "value"]
    assert frame.as_of == T0 and set(frame.data.indicator) == {"tpi"}
    health = src.health()
    assert health.ok and health.details["dialect"] == db.kind
    assert health.details["rejects"]["latest tpi"] == {"value is not a number": 1}
    assert src.latest([ind(db)], "city", at=T0).data.value.tolist() == [4.4]


def test_series_is_bucketed_to_the_step(db: Db) -> None:
    frame = db.source().series([ind(db)], ["D01", "D02"], T0 - 10 * MIN, T0 + 10 * MIN, 10 * MIN)
    got = {(r.area_id, r.ts): r.value for r in frame.data.itertuples()}
    assert got == {("D01", T0 - 10 * MIN): 4.5, ("D01", T0): 6.2, ("D02", T0): 3.1}
    with pytest.raises(BadQuery, match="no series query"):
        db.source().series([ind(db, series=None)], ["D01"], T0 - MIN, T0, MIN)


def test_events_keep_good_rows_and_count_malformed_ones(db: Db) -> None:
    src = db.source(events_query=f"SELECT event_no AS id, kind, status, reported_at, lon, lat, "
                                 f"cams AS camera_ids FROM {db.t('ev')} "
                                 f"WHERE reported_at >= :since AND reported_at <= :until")
    frame = src.events(T0 - 60 * MIN, T0)
    assert sorted(frame.data.id) == ["E1", "E2"]
    assert frame.data.set_index("id").camera_ids["E1"] == ["C1", "C2"]
    assert src.health().details["rejects"]["event"] == {
        "coordinates missing or off the planet": 3, "unknown status": 1}


def test_areas_and_layers(db: Db) -> None:
    doc = '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "p1", ' \
          '"geometry": {"type": "Point", "coordinates": [114.9, 27.1]}, "properties": {}}]}'
    src = db.source(areas_query=f"SELECT id, parent_id, level, name_zh, name_en FROM {db.t('region')} ORDER BY id",
                    layers={"roads": f"SELECT id, geometry, name FROM {db.t('road')}",
                            "points": f"SELECT '{doc}' AS doc"})
    areas = src.areas().data
    assert areas.id.tolist() == ["C", "D01"] and areas.parent_id.isna().tolist() == [True, False]
    roads = src.layer("roads").data
    assert [(f["id"], f["properties"]["name"]) for f in roads["features"]] == [("1", "Ring road")]
    assert src.layer("points").data["features"][0]["id"] == "p1"
    rejects = src.health().details["rejects"]
    assert rejects["area"] == {"missing id or unknown level": 1}
    assert rejects["layer roads"] == {"geometry is not GeoJSON": 1}
    with pytest.raises(BadQuery, match="no layer 'rivers'"):
        src.layer("rivers")
    bare = db.source()
    for call, what in ((bare.areas, "areas_query"), (lambda: bare.events(T0), "events_query")):
        with pytest.raises(BadQuery, match=f"has no {what}"):
            call()


def test_a_hostile_parameter_stays_data(db: Db) -> None:
    hostile = f"D01'; DROP TABLE {db.t('ind')}; --"
    src = db.source()
    assert src.series([ind(db)], [hostile], T0 - 60 * MIN, T0 + 60 * MIN, 5 * MIN).data.empty
    assert src.latest([ind(db)], hostile, at=T0).data.empty   # type: ignore[arg-type]
    assert db.count("ind") == len(VALUES)
    assert src.latest([ind(db)], "district", at=T0).data.shape[0] == 2


def test_connections_refuse_writes(db: Db) -> None:
    writer = ind(db, latest=f"INSERT INTO {db.t('ind')} VALUES ('tpi', 'D09', :level, NULL, '1')")
    with pytest.raises(BadQuery):
        db.source().latest([writer], "district", at=T0)
    assert db.count("ind") == len(VALUES)


def test_a_missing_table_or_bad_sql_is_our_query_to_fix(db: Db) -> None:
    src = db.source()
    for sql in ("SELECT region_code FROM cb_no_such_table WHERE region_level = :level",
                "SELEC region_code FROM x WHERE region_level = :level"):
        with pytest.raises(BadQuery):
            src.latest([ind(db, latest=sql)], "district", at=T0)
    assert src.health().ok


def test_a_slow_statement_is_cut_by_the_timeout(db: Db) -> None:
    src = db.source(statement_timeout_ms=300)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="too slow"):
        src.latest([ind(db, latest=SLOW[db.kind])], "district")
    assert time.monotonic() - started < 2.5
    assert src.latest([ind(db)], "district", at=T0).data.shape[0] == 2   # the pool still works


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres@127.0.0.1:1/test",
                                 "mysql+pymysql://root@127.0.0.1:1/test"])
def test_an_unreachable_server_is_a_store_outage(url: str) -> None:
    src = SqlSource("warehouse", url=url, statement_timeout_ms=1000)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        src.latest([ind()], "district")
    health = src.health()
    assert not health.ok and health.error and time.monotonic() - started < 10
    assert "rejects" in health.details and health.details["dialect"] in ("postgresql", "mysql")


def test_a_missing_sqlite_file_is_a_store_outage(tmp_path: Path) -> None:
    src = SqlSource("warehouse", url=f"sqlite:///{tmp_path / 'not-there.db'}")
    with pytest.raises(StoreUnavailable):
        src.latest([ind()], "district")
    assert not src.health().ok and not (tmp_path / "not-there.db").exists()


def test_built_like_the_registry_with_the_url_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}").connect().close()
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    options = {"url_env": "WAREHOUSE_URL", "url": "sqlite:///elsewhere.db", "statement_timeout_ms": 2000,
               "pool_size": 2, "layers": {"roads": "SELECT 1"}}
    assert SqlSource.check_options(options) == []
    src = SqlSource("warehouse", **options)
    assert src.health().ok and "w.db" in src.health().details["url"]


def test_config_checks_name_each_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_URL_VAR", raising=False)
    problems = SqlSource.check_options({"url": "sqlite://", "dsn": "x", "pool_size": "5",
                                        "statement_timeout_ms": 0, "events_query": "SELECT :drop",
                                        "layers": {"roads": 7}})
    assert problems == [
        "dsn: no such option of a sql datasource (only areas_query, areas_table, events_query, layers, "
        "pool_size, statement_timeout_ms, timezone, url, url_env)",
        "statement_timeout_ms: expected a positive integer, found 0",
        "pool_size: expected a positive integer, found '5'",
        "events_query: expected only the parameters :since, :until, found :drop",
        "layers.roads: expected a SQL text, found 7"]
    assert any(p.startswith("url: expected a SQLAlchemy URL") for p in SqlSource.check_options({}))
    assert any("NO_SUCH_URL_VAR" in p for p in SqlSource.check_options({"url_env": "NO_SUCH_URL_VAR"}))
    assert any("no password" in p for p in SqlSource.check_options({"url": "postgresql://u:secret@h/db"}))
    assert any("'oracle'" in p for p in SqlSource.check_options({"url": "oracle://u@h/db"}))

    assert SqlSource.check_binding(ind()) == []
    assert SqlSource.check_binding(ind(latest="SELECT a::text FROM t WHERE lvl = :level")) == []
    assert SqlSource.check_binding(ind(latest="SELECT * FROM t WHERE a = :drop")) == [
        "binding.latest: expected only the parameters :level, :indicator, :at, found :drop"]
    assert SqlSource.check_binding(ind(series="SELECT * FROM t WHERE ts > :at::timestamptz")) == [
        "binding.series: expected CAST(:at AS type), found :at:: (a '::' cast hides the parameter)"]
    assert SqlSource.check_binding(ind(latest=None, extra="x")) == [
        "binding.extra: no such key for a sql binding (only columns, latest, rows_per_area, series; "
        "or table with columns)",
        "binding.latest: expected a SQL text, found None"]
