"""Table bindings of the SQL adapter on the real PostgreSQL and MariaDB, and SQLite: the
adapter writes the SELECTs from a table name and its columns.

The tables hold times without a zone, written in local Asia/Shanghai time, as many
Chinese platforms store them; each test builds them under a schema (PostgreSQL) or a
table-name prefix (MariaDB, SQLite) of its own and drops them after.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from citybrain.catalogue import Indicator
from datasources.errors import BadQuery
from datasources.sql import SqlSource
from tests.conftest import require

T0 = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)   # stored as '2026-12-03 08:00:00' Asia/Shanghai
HOUR = timedelta(hours=1)
SERVERS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
           "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test"}
TIME_TYPE = {"postgresql": "TIMESTAMP", "mariadb": "DATETIME", "sqlite": "TEXT"}
FACTS = [("pm25", "D01", "county", T0 - HOUR, 30.0), ("pm25", "D01", "county", T0, 35.0),
         ("pm25", "D02", "county", T0, 50.0), ("pm25", "D01", "county", T0 + HOUR, 99.0),
         ("no2", "D01", "county", T0, 20.0), ("pm25", "C", "city", T0, 40.0),
         ("pm25", "D03", "county", T0, None)]
LOTS = [("P1", "D01", T0 - HOUR, 10, 100), ("P1", "D01", T0, 60, 100), ("P2", "D01", T0, 30, 50),
        ("P3", "D02", T0 - HOUR, 5, 20), ("P5", "D02", T0 - HOUR, None, None)]
REGIONS = [("C", None, "city", "云江市"), ("D01", "C", "county", "东区"),
           ("D01S01", "D01", "township", "东街道"), (None, "C", "county", "无编码")]
TABLES = ("fact", "lots", "region")


class Db:
    """One backend holding this test's tables, with naive local (Asia/Shanghai) times."""

    def __init__(self, kind: str, url: str, prefix: str) -> None:
        self.kind, self.url, self.prefix = kind, url, prefix
        self.writer = sa.create_engine(url)
        self.sources: list[SqlSource] = []

    def t(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.kind == "postgresql" else f"{self.prefix}_{name}"

    def stamp(self, ts: datetime) -> Any:
        local = (ts + 8 * HOUR).replace(tzinfo=None)   # Asia/Shanghai has no daylight saving
        return local.strftime("%Y-%m-%d %H:%M:%S") if self.kind == "sqlite" else local

    def source(self, **options: Any) -> SqlSource:
        self.sources.append(SqlSource("warehouse", url=self.url, **options))
        return self.sources[-1]

    def create(self) -> None:
        ts = TIME_TYPE[self.kind]
        with self.writer.begin() as conn:
            run = conn.execute
            if self.kind == "postgresql":
                run(sa.text(f"CREATE SCHEMA {self.prefix}"))
            run(sa.text(f"CREATE TABLE {self.t('fact')} (indicator_code VARCHAR(16), district_code "
                        f"VARCHAR(16), region_level VARCHAR(16), stat_hour {ts}, pm25_avg FLOAT)"))
            run(sa.text(f"INSERT INTO {self.t('fact')} VALUES (:i, :a, :l, :t, :v)"),
                [{"i": i, "a": a, "l": lv, "t": self.stamp(t), "v": v} for i, a, lv, t, v in FACTS])
            run(sa.text(f"CREATE TABLE {self.t('lots')} (lot_id VARCHAR(8), district_code VARCHAR(16), "
                        f"stat_time {ts}, used_spaces INTEGER, total_spaces INTEGER)"))
            run(sa.text(f"INSERT INTO {self.t('lots')} VALUES (:p, :a, :t, :u, :c)"),
                [{"p": p, "a": a, "t": self.stamp(t), "u": u, "c": c} for p, a, t, u, c in LOTS])
            run(sa.text(f"CREATE TABLE {self.t('region')} (region_code VARCHAR(16), parent_code "
                        f"VARCHAR(16), region_level VARCHAR(16), region_name VARCHAR(16))"))
            run(sa.text(f"INSERT INTO {self.t('region')} VALUES (:c, :p, :l, :n)"),
                [{"c": c, "p": p, "l": lv, "n": n} for c, p, lv, n in REGIONS])

    def drop(self) -> None:
        for src in self.sources:
            src.close()
        with self.writer.begin() as conn:
            if self.kind == "postgresql":
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.prefix} CASCADE"))
            elif self.kind == "mariadb":
                for table in TABLES:
                    conn.execute(sa.text(f"DROP TABLE IF EXISTS {self.t(table)}"))
        self.writer.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service),
                        pytest.param("mariadb", marks=pytest.mark.service)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    kind = request.param
    url = f"sqlite:///{tmp_path / 'warehouse.db'}" if kind == "sqlite" else SERVERS[kind]
    base = Db(kind, url, f"cb_tab_{uuid.uuid4().hex[:10]}")
    try:
        with base.writer.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        base.writer.dispose()
        require(False, f"{kind} at {url}")
    base.create()
    yield base
    base.drop()


def ind(id: str = "pm25", time_rollup: str = "mean", **binding: Any) -> Indicator:
    return Indicator.model_validate({
        "id": id, "name_zh": "指标", "name_en": "Indicator", "domain": "environment",
        "better": "lower", "time_rollup": time_rollup, "binding": {"source": "warehouse", **binding}})


def pm25(db: Db, **more: Any) -> Indicator:
    return ind(table=db.t("fact"), where={"indicator_code": "pm25"},
               columns={"area_id": "district_code", "ts": "stat_hour", "value": "pm25_avg"}, **more)


def parking(db: Db) -> Indicator:
    return ind("parking_free", rows_per_area="many", table=db.t("lots"),
               columns={"area_id": "district_code", "ts": "stat_time", "occupied": "used_spaces",
                        "capacity": "total_spaces"})


def test_latest_reads_naive_local_times_and_filters(db: Db) -> None:
    src = db.source()   # the default zone: Asia/Shanghai
    assert SqlSource.check_binding(pm25(db, level_column="region_level", level_value="county")) == []
    frame = src.latest([pm25(db, level_column="region_level", level_value="county")], "district", at=T0)
    assert list(frame.data.columns) == ["indicator", "area_id", "ts", "value"]
    assert frame.data.set_index("area_id").value.to_dict() == {"D01": 35.0, "D02": 50.0}
    assert set(frame.data.ts) == {T0} and frame.as_of == T0   # 08:00 local is 00:00 UTC
    assert src.health().details["rejects"]["latest pm25"] == {"value is missing or NaN": 1}
    city = src.latest([pm25(db, level_column="region_level")], "city", at=T0).data   # the asked word
    assert city[["area_id", "value"]].values.tolist() == [["C", 40.0]]
    later = src.latest([pm25(db)], "district", at=T0 + HOUR).data.set_index("area_id").value
    assert later["D01"] == 99.0


def test_series_reads_the_window_of_the_asked_areas(db: Db) -> None:
    src = db.source()
    frame = src.series([pm25(db)], ["D01", "D02", "D01'; DROP TABLE x; --"], T0 - HOUR, T0 + HOUR, HOUR)
    got = {(r.area_id, r.ts): r.value for r in frame.data.itertuples()}
    assert got == {("D01", T0 - HOUR): 30.0, ("D01", T0): 35.0, ("D02", T0): 50.0}
    assert list(frame.data.columns) == ["ts", "indicator", "area_id", "value"]


def test_many_rows_per_area_with_extras_and_no_value(db: Db) -> None:
    src = db.source()
    latest = src.latest([parking(db)], "district", at=T0).data
    assert list(latest.columns) == ["indicator", "area_id", "ts", "value", "occupied", "capacity"]
    assert latest.value.isna().all()
    got = sorted((r.area_id, r.ts, r.occupied, r.capacity) for r in latest.itertuples())
    assert got == [("D01", T0, 30.0, 50.0), ("D01", T0, 60.0, 100.0), ("D02", T0 - HOUR, 5.0, 20.0)]
    assert src.health().details["rejects"]["latest parking_free"] == {
        "no number in value, occupied, capacity": 1}

    # the lots of one time are summed first, then the time rule (mean) runs per bucket
    series = src.series([parking(db)], ["D01", "D02"], T0 - HOUR, T0 + HOUR, 2 * HOUR).data
    got = {r.area_id: (r.occupied, r.capacity) for r in series.itertuples()}
    assert got == {"D01": (50.0, 125.0), "D02": (5.0, 20.0)}
    assert set(series.ts) == {T0 - HOUR} and series.value.isna().all()


def test_one_row_per_area_unless_many(db: Db) -> None:
    one = ind("parking_one", table=db.t("lots"), columns={
        "area_id": "district_code", "ts": "stat_time", "occupied": "used_spaces"})
    latest = db.source().latest([one], "district", at=T0).data
    assert latest.area_id.tolist() == ["D01", "D02"] and latest.occupied.notna().all()


def test_sum_of_extras_in_a_bucket_follows_the_time_rule(db: Db) -> None:
    total = ind("parking_sum", time_rollup="sum", table=db.t("lots"), columns={
        "area_id": "district_code", "ts": "stat_time", "value": "used_spaces", "capacity": "total_spaces"})
    series = db.source().series([total], ["D01", "D02"], T0 - HOUR, T0 + HOUR, 2 * HOUR).data
    got = {r.area_id: (r.value, r.capacity) for r in series.itertuples()}
    assert got == {"D01": (100.0, 250.0), "D02": (5.0, 20.0)}


def test_an_aware_utc_datasource_reads_the_same_rows_as_utc(db: Db) -> None:
    frame = db.source(timezone="UTC").latest([pm25(db)], "district", at=T0 + 8 * HOUR)
    assert set(frame.data.ts) == {T0 + 8 * HOUR}   # the same wall time, now read as UTC


def test_areas_table_keeps_the_platforms_level_words(db: Db) -> None:
    src = db.source(areas_table={"table": db.t("region"), "columns": {
        "id": "region_code", "parent_id": "parent_code", "level": "region_level",
        "name_zh": "region_name"}})
    areas = src.areas().data.sort_values("id")
    assert areas[["id", "parent_id", "level"]].values.tolist() == [
        ["C", None, "city"], ["D01", "C", "county"], ["D01S01", "D01", "township"]]
    assert areas.name_en.tolist() == areas.name_zh.tolist()
    assert src.health().details["rejects"]["area"] == {"missing id or level": 1}


def test_a_missing_table_names_the_indicator_and_the_key(db: Db) -> None:
    bad = ind(table="cb_no_such_table", columns={"area_id": "a", "ts": "t", "value": "v"})
    with pytest.raises(BadQuery, match=r"indicator 'pm25' binding\.table \(cb_no_such_table\)"):
        db.source().latest([bad], "district", at=T0)


def test_bad_identifiers_are_refused_at_check_time() -> None:
    problems = SqlSource.check_binding(ind(
        table="fact; DROP TABLE x", columns={"area_id": "code name", "ts": "t"},
        where={"a-b": 1, "ok": [1, 2]}, level_value="county", rows_per_area="several",
        latest="SELECT 1"))
    assert problems == [
        "binding.rows_per_area: expected one or many, found 'several'",
        "binding.table: expected a table name such as fact_district_hour or plat.fact_district_hour "
        "(letters, digits and _, one optional schema dot), found 'fact; DROP TABLE x'",
        "binding.table: expected either table (with columns) or the SQL texts latest / series, found both: "
        "remove one",
        "binding.columns.area_id: expected a column name (letters, digits and _, not starting with "
        "a digit), found 'code name'",
        "binding.columns.value: expected the column holding the value (or extra columns such as "
        "occupied: used_spaces), found nothing",
        "binding.where.a-b: expected a column name (letters, digits and _, not starting with a "
        "digit), found 'a-b'",
        "binding.where.ok: expected a text or a number, found [1, 2]",
        "binding.level_value: expected level_column next to it, found none"]
    assert SqlSource.check_binding(ind(table="plat.fact", columns={"area_id": "a", "ts": "t", "v": "x"},
                                       colour="red")) == [
        "binding.colour: no such key for a sql table binding (only columns, level_column, level_value, "
        "rows_per_area, table, where)"]
    assert SqlSource.check_binding(ind(table="a.b.c", columns={"area_id": "a", "ts": "t"}))[0].startswith(
        "binding.table: expected a table name")
    assert SqlSource.check_options({"url": "sqlite://", "timezone": "Mars/Olympus", "areas_table": {
        "table": "dim region", "columns": {"id": "1x"}, "sort": "id"}}) == [
        "timezone: expected an IANA time zone such as Asia/Shanghai or UTC (the zone of times "
        "stored without one), found 'Mars/Olympus'",
        "areas_table.sort: no such key (only columns, table, where)",
        "areas_table.table: expected a table name such as fact_district_hour or "
        "plat.fact_district_hour (letters, digits and _, one optional schema dot), found 'dim region'",
        "areas_table.columns.id: expected a column name (letters, digits and _, not starting with a "
        "digit), found '1x'"]
    with pytest.raises(BadQuery, match="areas_table.table"):
        SqlSource("warehouse", url="sqlite://", areas_table={"table": "x;y"})


def test_extras_reach_the_frame_as_floats_from_sql_texts_too(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with sa.create_engine(f"sqlite:///{path}").begin() as conn:
        conn.execute(sa.text("CREATE TABLE lots (d TEXT, t TEXT, u TEXT, c INTEGER)"))
        conn.execute(sa.text("INSERT INTO lots VALUES ('D01', '2026-12-03 08:00:00', 'n/a', 100), "
                             "('D01', '2026-12-03 08:00:00', '7', 50)"))
    text = ind("lots", rows_per_area="many", latest="SELECT d, t, u, c FROM lots WHERE t <= :at",
               columns={"area_id": "d", "ts": "t", "occupied": "u", "capacity": "c"})
    src = SqlSource("warehouse", url=f"sqlite:///{path}")
    data = src.latest([text], "district", at=T0).data
    assert data.occupied.dtype == float and data.capacity.tolist() == [100.0, 50.0]
    assert math.isnan(data.occupied[0]) and data.occupied[1] == 7.0
    assert src.health().details["rejects"]["latest lots"] == {"occupied is not a number (kept as missing)": 1}
    src.close()
