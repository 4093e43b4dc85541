"""A real Redis killed mid-test: panels go stale, /health names the adapter, then heal."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import yaml

from citybrain.config import load_config
from service import runtime
from tests.adapters.redis_server import OwnRedis


@pytest.fixture
def own(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path).start()
    yield server
    server.stop()


def write_config(tmp_path: Path, url: str) -> Path:
    base = yaml.safe_load(Path("config/default.yaml").read_text(encoding="utf-8"))
    base["datasources"]["platform"] = {"type": "redis", "url": url, "socket_timeout": 0.5}
    tpi = next(i for i in base["indicators"] if i["id"] == "traffic_tpi")
    tpi["refresh_seconds"] = 1
    tpi["binding"] = {"source": "platform", "key": "cityos:idx:{indicator}:{level}", "answers": ["city"],
                      "type": "hash", "value_field": "v", "ts_field": "t"}
    tpi["history"] = {"source": "sim", "metric": "tpi"}
    path = tmp_path / "outage.yaml"
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    return path


def put(url: str, value: float) -> None:
    redis.Redis.from_url(url).hset("cityos:idx:traffic_tpi:city", "city", json.dumps(
        {"v": value, "t": datetime.now(UTC).isoformat()}))


def test_redis_killed_gives_stale_values_then_heals_without_reload(own: OwnRedis,
                                                                   tmp_path: Path) -> None:
    cockpit = runtime.build(load_config(write_config(tmp_path, own.url), env={}))
    data = cockpit.data
    put(own.url, 6.2)
    fresh = data.latest(["traffic_tpi"], "city")
    assert not fresh.stale and fresh.data.value.tolist() == [6.2]

    own.stop()                       # the store goes away
    time.sleep(1.1)                  # past the indicator's TTL
    stale = data.latest(["traffic_tpi"], "city")
    assert stale.stale and stale.data.value.tolist() == [6.2]
    assert (stale.error or "").startswith("platform: connection failed (ref ")   # the details are in the log
    assert "refused" in (data.sources["platform"].stats.last_error or "")
    health = data.health()
    assert health["status"] == "degraded"
    assert health["adapters"]["platform"]["status"] == "failing"
    assert health["adapters"]["sim"]["status"] == "ok"

    # the page keeps answering, marked stale
    import app  # noqa: F401  (the app registers the pages)
    from pages.heartbeat import page as heartbeat

    before = runtime.current()
    runtime.install(cockpit)
    try:
        views = heartbeat.render("zh", initial=False)
        badge = views["freshness"]
        assert "badge-stale" in badge.className
    finally:
        runtime.install(before)

    own.start()                      # the store comes back on the same port
    put(own.url, 7.4)
    time.sleep(1.1)
    healed = data.latest(["traffic_tpi"], "city")
    assert not healed.stale and healed.data.value.tolist() == [7.4]
    assert data.health()["adapters"]["platform"]["status"] == "ok"
