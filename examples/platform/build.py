"""Build (or drop) the example 吉安市 platform in PostgreSQL, MariaDB/MySQL and Redis.

    python -m examples.platform.build --pg postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --mysql mysql+pymysql://root@127.0.0.1:3306/test --redis redis://127.0.0.1:6379/0

Only the stores given are built. A rebuild drops and recreates the platform's own tables
and keys and nothing else. PostgreSQL gets schema ``schema``; MariaDB gets a database of
that name when the account may create one, else tables prefixed ``{schema}_`` in the
database of the URL. The result describes what was built: tables, row counts, Redis keys
and the URLs to read them with.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):   # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from examples.platform import facts, roads  # noqa: E402
from examples.platform.shapes import BOUNDARIES, write_boundaries  # noqa: E402

TABLES = ("dim_region", "fact_district_hourly", "parking_status", "fact_street_hourly")
ROAD_TABLES = ("road_segment", "road_speed")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def _tables(metadata: sa.MetaData, schema: str | None, prefix: str) -> dict[str, sa.Table]:
    """The platform's tables (``prefix`` goes before each name, ``schema`` around them)."""
    def table(name: str, *columns: sa.Column[Any]) -> sa.Table:
        return sa.Table(prefix + name, metadata, *columns, schema=schema,
                        mysql_charset="utf8mb4", mysql_collate="utf8mb4_unicode_ci")

    def num(name: str, decimals: int) -> sa.Column[Any]:
        return sa.Column(name, sa.Integer if decimals == 0 else sa.Numeric(7, decimals))

    return {
        "dim_region": table(
            "dim_region", sa.Column("region_code", sa.String(12), primary_key=True),
            sa.Column("region_name", sa.String(32), nullable=False),
            sa.Column("region_type", sa.String(8), nullable=False),
            sa.Column("parent_code", sa.String(12))),
        "fact_district_hourly": table(
            "fact_district_hourly", sa.Column("district_code", sa.String(12), primary_key=True),
            sa.Column("stat_hour", sa.DateTime(timezone=False), primary_key=True),
            *(num(name, decimals) for name, decimals in facts.DISTRICT_COLUMNS.items())),
        "parking_status": table(
            "parking_status", sa.Column("lot_id", sa.String(16), primary_key=True),
            sa.Column("district_code", sa.String(12), nullable=False),
            sa.Column("stat_time", sa.DateTime(timezone=False), primary_key=True),
            sa.Column("capacity", sa.Integer, nullable=False),
            sa.Column("occupied", sa.Integer, nullable=False)),
        "fact_street_hourly": table(
            "fact_street_hourly", sa.Column("street_code", sa.String(12), primary_key=True),
            sa.Column("stat_hour", sa.DateTime(timezone=False), primary_key=True),
            sa.Column("hotline_calls", sa.Integer)),
        "road_segment": table(
            "road_segment", sa.Column("seg_id", sa.String(16), primary_key=True),
            sa.Column("road_name", sa.String(48), nullable=False),
            sa.Column("road_class", sa.String(8), nullable=False),
            sa.Column("district_code", sa.String(12), nullable=False),
            sa.Column("geometry", sa.Text, nullable=False),
            sa.Column("length_km", sa.Numeric(6, 2), nullable=False)),
        "road_speed": table(
            "road_speed", sa.Column("seg_id", sa.String(16), primary_key=True),
            sa.Column("stat_time", sa.DateTime(timezone=False), primary_key=True),
            sa.Column("speed_kmh", sa.Numeric(5, 1))),
    }


def _checked(schema: str, redis_prefix: str) -> None:
    if not _NAME.match(schema):
        raise ValueError(f"schema {schema!r} must be a lower-case SQL name (letters, digits, _)")
    if not redis_prefix or any(c.isspace() or c in "*?[]" for c in redis_prefix):
        raise ValueError(f"redis_prefix {redis_prefix!r} must be non-empty, without spaces or glob marks")


def _rows(seed: int, clock: facts.Clock) -> dict[str, list[dict[str, Any]]]:
    segments = roads.segments(seed)
    return {"dim_region": facts.regions(), "fact_district_hourly": facts.district_facts(seed, clock),
            "parking_status": facts.parking_status(seed, clock),
            "fact_street_hourly": facts.street_facts(seed, clock),
            "road_segment": segments, "road_speed": roads.speeds(seed, clock, segments)}


def _load(engine: sa.Engine, tables: dict[str, sa.Table], rows: dict[str, list[dict[str, Any]]]) -> None:
    """Drop and recreate the platform's tables, then fill them (batched by the driver)."""
    with engine.begin() as conn:
        for table in reversed(tables.values()):
            table.drop(conn, checkfirst=True)
        for table in tables.values():
            table.create(conn)
        for name, table in tables.items():
            conn.execute(table.insert(), rows[name])


def _names(tables: dict[str, sa.Table]) -> dict[str, str]:
    return {name: table.fullname for name, table in tables.items()}


def _mysql_target(url: str, schema: str) -> tuple[sa.URL, str]:
    """The URL and table prefix to use on MariaDB: a database ``schema`` when it can be
    created, else the URL's own database with ``{schema}_`` before each table."""
    given = sa.make_url(url)
    if given.database == schema:
        return given, ""
    admin = sa.create_engine(given)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{schema}` "
                                 "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        return given.set(database=schema), ""
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return given, f"{schema}_"
    finally:
        admin.dispose()


def _build_pg(url: str, schema: str, rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        tables = _tables(sa.MetaData(), schema, "")
        _load(engine, tables, rows)
    finally:
        engine.dispose()
    return {"url": url, "schema": schema, "tables": _names(tables)}


def _build_mysql(url: str, schema: str, rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    target, prefix = _mysql_target(url, schema)
    engine = sa.create_engine(target)
    try:
        tables = _tables(sa.MetaData(), None, prefix)
        _load(engine, tables, rows)
    finally:
        engine.dispose()
    return {"url": target.render_as_string(hide_password=False), "database": target.database,
            "tables": _names(tables)}


def redis_keys(redis_prefix: str) -> dict[str, dict[str, str]]:
    """The live layout: indicator -> {"hash": key of the value hash, "ts": key of its time}."""
    return {name: {"hash": f"{redis_prefix}rt:{name}", "ts": f"{redis_prefix}rt:{name}:ts"}
            for name in facts.LIVE_NAMES}


def _build_redis(url: str, redis_prefix: str, live: dict[str, dict[str, str]],
                 clock: facts.Clock) -> dict[str, Any]:
    keys = redis_keys(redis_prefix)
    stamp = clock.current_hour.strftime("%Y-%m-%d %H:%M:%S")
    client = redis.Redis.from_url(url)
    try:
        pipe = client.pipeline(transaction=True)
        for name, key in keys.items():
            pipe.delete(key["hash"], key["ts"])
            if live[name]:
                pipe.hset(key["hash"], mapping=live[name])
            pipe.set(key["ts"], stamp)
        pipe.execute()
    finally:
        client.close()
    return {"url": url, "keys": keys, "ts": stamp,
            "fields": {name: len(values) for name, values in live.items()}}


def build(*, pg_url: str | None = None, mysql_url: str | None = None, redis_url: str | None = None,
          schema: str = "cityplat", redis_prefix: str = "cityplat:", now: datetime | None = None,
          days: int = 8, seed: int = 7) -> dict[str, Any]:
    """Build the platform in the stores given, deterministically from ``seed`` and ``now``
    (local Asia/Shanghai when naive), over ``days`` days of hours; describe what was built."""
    _checked(schema, redis_prefix)
    clock = facts.clock(now, days)
    rows = _rows(seed, clock)
    result: dict[str, Any] = {
        "city": {"adcode": facts.CITY_CODE, "name": facts.CITY_NAME, "timezone": "Asia/Shanghai",
                 "levels": {"district": facts.DISTRICT_WORD, "street": facts.STREET_WORD}},
        "now": clock.now, "current_hour": clock.current_hour, "current_slot": clock.current_slot,
        "start_hour": clock.start_hour, "days": days, "seed": seed,
        "rows": {name: len(rows[name]) for name in TABLES},
        "road_rows": {name: len(rows[name]) for name in ROAD_TABLES},
        "boundaries": str(BOUNDARIES),
        "quirks": {"late_district": facts.LATE_DISTRICT, "late_lot": facts.LATE_LOT,
                   "late_segment": roads.LATE_SEGMENT,
                   "pm25_null": [(facts.PM25_GAP_DISTRICT, clock.current_hour - back * facts.HOUR)
                                 for back in facts.PM25_GAP_HOURS_BACK
                                 if clock.current_hour - back * facts.HOUR >= clock.start_hour],
                   "half_values": {facts.HALF_DISTRICT: {k: str(v) for k, v in facts.HALF_VALUES.items()}}},
    }
    if pg_url:
        result["postgresql"] = _build_pg(pg_url, schema, rows)
    if mysql_url:
        result["mysql"] = _build_mysql(mysql_url, schema, rows)
    if redis_url:
        live = facts.live_values(rows["fact_district_hourly"], clock)
        result["redis"] = _build_redis(redis_url, redis_prefix, live, clock)
    return result


def _drop_tables(engine: sa.Engine, tables: Iterable[sa.Table]) -> None:
    with engine.begin() as conn:
        for table in tables:
            table.drop(conn, checkfirst=True)


def drop(*, pg_url: str | None = None, mysql_url: str | None = None, redis_url: str | None = None,
         schema: str = "cityplat", redis_prefix: str = "cityplat:") -> None:
    """Remove what :func:`build` made: its tables, then its schema / database when left
    empty, and its Redis keys."""
    _checked(schema, redis_prefix)
    if pg_url:
        engine = sa.create_engine(pg_url)
        try:
            _drop_tables(engine, reversed(_tables(sa.MetaData(), schema, "").values()))
            if schema != "public":
                with engine.begin() as conn:   # RESTRICT: a schema holding anything else stays
                    conn.execute(sa.text(
                        f"DO $$ BEGIN DROP SCHEMA IF EXISTS \"{schema}\"; "
                        f"EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END $$"))
        finally:
            engine.dispose()
    if mysql_url:
        _drop_mysql(mysql_url, schema)
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        try:
            client.delete(*(k for key in redis_keys(redis_prefix).values() for k in key.values()))
        finally:
            client.close()


def _drop_mysql(url: str, schema: str) -> None:
    given = sa.make_url(url)
    engine = sa.create_engine(given)
    try:
        _drop_tables(engine, reversed(_tables(sa.MetaData(), None, f"{schema}_").values()))
        with engine.begin() as conn:
            exists = conn.execute(sa.text("SELECT count(*) FROM information_schema.schemata "
                                          "WHERE schema_name = :s"), {"s": schema}).scalar_one()
        if not exists:
            return
        _drop_tables(engine, reversed(_tables(sa.MetaData(), schema, "").values()))
        with engine.begin() as conn:
            left = conn.execute(sa.text("SELECT count(*) FROM information_schema.tables "
                                        "WHERE table_schema = :s"), {"s": schema}).scalar_one()
            if not left and given.database != schema:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{schema}`"))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """The command line: build (or ``--drop``) in the stores named; print what was built."""
    parser = argparse.ArgumentParser(description="Build the example 吉安市 city platform.")
    parser.add_argument("--pg", help="PostgreSQL SQLAlchemy URL")
    parser.add_argument("--mysql", help="MariaDB / MySQL SQLAlchemy URL")
    parser.add_argument("--redis", help="Redis URL")
    parser.add_argument("--schema", default="cityplat", help="PostgreSQL schema / MariaDB database")
    parser.add_argument("--redis-prefix", default="cityplat:")
    parser.add_argument("--now", type=datetime.fromisoformat, help="local time (default: now)")
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drop", action="store_true", help="remove the platform instead")
    parser.add_argument("--write-boundaries", action="store_true",
                        help=f"regenerate {BOUNDARIES.name} next to this file")
    args = parser.parse_args(argv)
    if args.write_boundaries:
        print(f"wrote {write_boundaries().name}")
    stores = {"pg_url": args.pg, "mysql_url": args.mysql, "redis_url": args.redis}
    if not any(stores.values()):
        if args.write_boundaries:
            return 0
        parser.error("name at least one store: --pg, --mysql or --redis")
    if args.drop:
        drop(**stores, schema=args.schema, redis_prefix=args.redis_prefix)
        print("dropped")
        return 0
    result = build(**stores, schema=args.schema, redis_prefix=args.redis_prefix, now=args.now,
                   days=args.days, seed=args.seed)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
