"""The example platform (examples/platform) built into real PostgreSQL or MariaDB and Redis,
with a cockpit config pointing at it, for the tests that compare the cockpit's numbers with
recomputations from the platform's own tables; and the helpers those recomputations share.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import redis
import sqlalchemy as sa
import yaml

from citybrain.config import load_config
from service.data import DataService

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
    """The IAQI of concentration ``c``, rounded up (written out from HJ 633-2012)."""
    table = TABLES[pollutant]
    for lo, hi, ilo, ihi in zip(table, table[1:], IAQI, IAQI[1:], strict=False):
        if c <= hi:
            return math.ceil(round(ilo + (ihi - ilo) * (c - lo) / (hi - lo), 9))
    return 500


def hourly_aqi(means: dict[str, float]) -> int:
    """The AQI: the largest sub-index."""
    return max(sub_index(p, c) for p, c in means.items())


def reachable(url: str) -> bool:
    """Whether a database answers at ``url``."""
    try:
        with sa.create_engine(url).connect():
            return True
    except Exception:  # noqa: BLE001
        return False


def need(url: str) -> None:
    """Skip (laptop) or fail (CI) when ``url`` does not answer."""
    if not reachable(url):
        if os.environ.get("CI"):
            pytest.fail(f"{url} is not reachable (CI runs with every service)")
        pytest.skip(f"{url} is not reachable")


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[DataService, sa.Engine, redis.Redis, dict]]:
    """The platform in PostgreSQL or MariaDB (one run each) and Redis, under a fresh schema
    and key prefix; yields its data service, an engine on its tables, the Redis client and
    the build's info (with ``prefix`` and ``config``, the cockpit config's path)."""
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
    info["config"] = path
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
    """``frame`` with ``columns`` as floats (NUMERIC columns arrive as Decimal)."""
    return frame.assign(**{c: frame[c].astype(float) for c in columns})
