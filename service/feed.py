"""Feed the simulated city into Redis and SQL, in the layout a city platform would use.

    python -m service.feed --redis redis://127.0.0.1:6379/0 \\
        --sql postgresql+psycopg://postgres@127.0.0.1:5432/test

Redis (live state):
  cityos:idx:<indicator>:<level>   hash, field = region code, value = {"v": 6.2, "t": iso}
  cityos:events                    stream, one entry per report and per status change
  cityos:areas                     JSON list of regions; cityos:geo:<layer> GeoJSON text
SQL (warehouse, minute history of city and districts):
  ods_indicator_minute(indicator_code, region_code, region_level, stat_time, val)

The layout is the platform's, not the cockpit's: examples/real-stores.yaml maps it back.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import redis
import sqlalchemy as sa
from flask_caching.backends import NullCache

from citybrain.config import City, Config, DataSourceConfig
from datasources.registry import load_checked
from datasources.simulator.adapter import SimulatorSource
from datasources.simulator.layers import NAMES as LAYER_NAMES

from .data import DataService

log = logging.getLogger("citybrain.feed")
PREFIX = "cityos"
HISTORY_LEVELS = ("city", "district")
LIVE_LEVELS = ("city", "district", "street", "grid")
STREAM_MAXLEN = 20_000

metadata = sa.MetaData()
history_table = sa.Table(
    "ods_indicator_minute", metadata,
    sa.Column("indicator_code", sa.String(64), nullable=False),
    sa.Column("region_code", sa.String(32), nullable=False),
    sa.Column("region_level", sa.String(16), nullable=False),
    sa.Column("stat_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("val", sa.Float),
    sa.PrimaryKeyConstraint("indicator_code", "region_code", "stat_time"),
)


class Feeder:
    """Writes one simulated city into a platform's Redis and SQL stores."""

    def __init__(self, sim: SimulatorSource, indicators: list[Any], *, redis_url: str | None,
                 sql_url: str | None) -> None:
        self.sim = sim
        self.indicators = indicators
        self.ids = [i.id for i in indicators]
        self.service = rolled(sim, indicators)
        self.redis = redis.Redis.from_url(redis_url) if redis_url else None
        self.engine = sa.create_engine(sql_url, pool_pre_ping=True) if sql_url else None
        self.last_minute: datetime | None = None
        self.events_until: datetime | None = None
        self.event_status: dict[str, str] = {}

    def setup(self, backfill: timedelta, now: datetime) -> None:
        """Static geometry and areas into Redis; the table and its backfill into SQL."""
        if self.redis is not None:
            areas = self.sim.areas().data
            rows = json.loads(areas.to_json(orient="records", force_ascii=False))
            self.redis.set(f"{PREFIX}:areas", json.dumps(rows, ensure_ascii=False))
            for name in LAYER_NAMES:
                self.redis.set(f"{PREFIX}:geo:{name}",
                               json.dumps(self.sim.layer(name).data, ensure_ascii=False))
        if self.engine is not None:
            metadata.create_all(self.engine)
            start = (now - backfill).replace(second=0, microsecond=0)
            self.write_history(start, now.replace(second=0, microsecond=0))
            self.last_minute = now.replace(second=0, microsecond=0)
        self.events_until = now - timedelta(hours=2)

    def tick(self, now: datetime) -> dict[str, int]:
        """One round: live values and new event states to Redis, new minutes to SQL."""
        counts = {"values": 0, "events": 0, "history": 0}
        if self.redis is not None:
            counts["values"] = self.write_live(now)
            counts["events"] = self.write_events(now)
        minute = now.replace(second=0, microsecond=0)
        if self.engine is not None and self.last_minute is not None and minute > self.last_minute:
            counts["history"] = self.write_history(self.last_minute + timedelta(minutes=1),
                                                   minute + timedelta(minutes=1))
            self.last_minute = minute
        return counts

    def write_live(self, now: datetime) -> int:
        assert self.redis is not None
        pipe = self.redis.pipeline(transaction=False)
        n = 0
        for level in LIVE_LEVELS:
            frame = self.service.latest(self.ids, level, now).data
            stamp = now.isoformat()
            for indicator, group in frame.groupby("indicator"):
                mapping = {area: json.dumps({"v": None if pd.isna(v) else float(v), "t": stamp})
                           for area, v in zip(group.area_id, group.value, strict=True)}
                pipe.hset(f"{PREFIX}:idx:{indicator}:{level}", mapping=mapping)
                n += len(mapping)
        pipe.execute()
        return n

    def write_events(self, now: datetime) -> int:
        """Append each new event, and each event whose status changed, to the stream."""
        assert self.redis is not None and self.events_until is not None
        events = self.sim.events(now - timedelta(hours=6), now).data
        pipe = self.redis.pipeline(transaction=False)
        n = 0
        for row in events.iloc[::-1].itertuples():   # oldest first
            if self.event_status.get(row.id) == row.status:
                continue
            self.event_status[row.id] = row.status
            pipe.xadd(f"{PREFIX}:events", _event_fields(row), maxlen=STREAM_MAXLEN,
                      approximate=True)
            n += 1
        pipe.execute()
        self.events_until = now
        if len(self.event_status) > 50_000:
            self.event_status = {e.id: e.status for e in events.itertuples()}
        return n

    def write_history(self, start: datetime, end: datetime) -> int:
        assert self.engine is not None
        areas = self.sim.areas().data
        ids = list(areas[areas.level.isin(HISTORY_LEVELS)].id)
        levels = dict(zip(areas.id, areas.level, strict=True))
        frame = self.service.series(self.ids, ids, start, end, timedelta(minutes=1)).data
        rows = [{"indicator_code": r.indicator, "region_code": r.area_id,
                 "region_level": levels[r.area_id], "stat_time": r.ts.to_pydatetime(),
                 "val": None if pd.isna(r.value) else float(r.value)}
                for r in frame.itertuples()]
        with self.engine.begin() as conn:
            conn.execute(history_table.delete().where(history_table.c.stat_time >= start)
                         .where(history_table.c.stat_time < end))
            for chunk in _chunks(rows, 5000):
                conn.execute(history_table.insert(), chunk)
        return len(rows)


def rolled(sim: SimulatorSource, indicators: list[Any]) -> DataService:
    """The simulator behind the data service, which rolls its grid facts up to every level the
    platform keeps, as the cockpit does for any store."""
    config = Config(city=City(name_zh=sim.geo.areas.name_zh.iloc[0], name_en=sim.geo.areas.name_en.iloc[0],
                              timezone=sim.timezone),
                    datasources={sim.name: DataSourceConfig(type="simulator")}, indicators=indicators)
    return DataService(config, sources={sim.name: sim}, backend=NullCache())


def _event_fields(row: Any) -> dict[str, str]:
    closed = "" if pd.isna(row.closed_at) else row.closed_at.isoformat()
    return {"id": row.id, "kind": row.kind, "severity": str(row.severity), "status": row.status,
            "reported_at": row.reported_at.isoformat(), "closed_at": closed,
            "lon": str(row.lon), "lat": str(row.lat), "area_id": row.area_id,
            "title_zh": row.title_zh, "title_en": row.title_en, "source": row.source,
            "camera_ids": json.dumps(list(row.camera_ids)),
            "facility_ids": json.dumps(list(row.facility_ids))}


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.feed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", help="Redis URL for live values, events and geometry")
    parser.add_argument("--sql", help="SQLAlchemy URL for the minute history")
    parser.add_argument("--seed", type=int, default=None, help="simulator seed (default: config)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    parser.add_argument("--backfill-hours", type=float, default=2.0)
    parser.add_argument("--once", action="store_true", help="set up, feed one round, exit")
    args = parser.parse_args(argv)
    if not args.redis and not args.sql:
        parser.error("give --redis, --sql or both")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_checked()
    sim_cfg = next((ds for ds in config.datasources.values() if ds.type == "simulator"), None)
    seed = args.seed if args.seed is not None else (sim_cfg.options().get("seed", 20261125)
                                                    if sim_cfg else 20261125)
    sim = SimulatorSource("feed", seed=seed, timezone=config.city.timezone,
                          city_name_zh=config.city.name_zh, city_name_en=config.city.name_en)
    indicators = [i.model_copy(update={"binding": i.binding.model_copy(
        update={"source": "feed"})}) for i in config.catalogue
        if i.binding.params().get("metric")]
    feeder = Feeder(sim, indicators, redis_url=args.redis, sql_url=args.sql)
    feeder.setup(timedelta(hours=args.backfill_hours), datetime.now(UTC))
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    while True:
        counts = feeder.tick(datetime.now(UTC))
        log.info("fed %s", counts)
        if args.once or stop["now"]:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    raise SystemExit(main())
