"""The cache's own Redis killed or hung under a running cockpit, as in the real-store example
(the platform's values and the cache in one Redis): /health says degraded and never 500, every
route answers, panels keep their last good values marked stale, a tick is not held by a hung
Redis, and everything heals when Redis is back."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dash
import pytest
import redis
import yaml

from citybrain.config import load_config
from service import runtime
from tests.access.helpers import sign_in
from tests.adapters.redis_server import OwnRedis, own_redis_server


@pytest.fixture
def own(tmp_path: Path) -> Iterator[OwnRedis]:
    with own_redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def cockpit(own: OwnRedis, tmp_path: Path) -> Iterator[runtime.Cockpit]:
    """The app's pages on a cockpit whose cache and traffic index live in ``own``."""
    base = yaml.safe_load(Path("config/default.yaml").read_text(encoding="utf-8"))
    base["datasources"]["platform"] = {"type": "redis", "url": own.url, "socket_timeout": 0.5}
    tpi = next(i for i in base["indicators"] if i["id"] == "traffic_tpi")
    tpi["refresh_seconds"] = 1
    tpi["binding"] = {"source": "platform", "key": "cityos:idx:{indicator}:{level}", "answers": ["city"],
                      "type": "hash", "value_field": "v", "ts_field": "t"}
    tpi["history"] = {"source": "sim", "metric": "tpi"}
    base["cache"] = {"backend": "redis", "redis_url": own.url, "key_prefix": "cbtest:",
                     "read_timeout_seconds": 1}
    path = tmp_path / "outage-cache.yaml"
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    import app  # noqa: F401  (registers the pages and the routes)

    built = runtime.build(load_config(path, env={}))
    before = runtime.current()
    runtime.install(built)
    try:
        yield built
    finally:
        runtime.install(before)


def put(url: str, value: float) -> None:
    redis.Redis.from_url(url).hset("cityos:idx:traffic_tpi:city", "city", json.dumps(
        {"v": value, "t": datetime.now(UTC).isoformat()}))


def until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def tick() -> dict[str, Any]:
    from pages.heartbeat import page as heartbeat

    return heartbeat.render("zh", initial=False)


def tpi(data: Any) -> tuple[bool, list[float]]:
    frame = data.latest(["traffic_tpi"], "city")
    return frame.stale, frame.data.value.tolist()


def routes() -> list[str]:
    """Every page of the app (with its defaults), the health and the map's geometry."""
    pages = [str(p["path"]) for p in dash.page_registry.values()]
    return [*pages, "/health", "/health?detail=1", "/geo/districts.json", "/geo/roads.json"]


def test_redis_killed_degrades_to_the_process_and_heals(own: OwnRedis, cockpit: runtime.Cockpit) -> None:
    import app

    data = cockpit.data
    put(own.url, 6.2)
    assert tpi(data) == (False, [6.2])
    assert "badge-fresh" in tick()["freshness"].className
    anonymous = app.server.test_client()
    admin = sign_in(app.server.test_client(), "admin")

    own.stop()
    time.sleep(1.1)                                            # past the index's refresh
    assert tpi(data) == (True, [6.2]), "the last good value, kept in the process, marked stale"
    views = tick()
    assert "badge-stale" in views["freshness"].className
    assert "6.2" in json.dumps(views["tiles"], default=str)

    answer = anonymous.get("/health")
    assert (answer.status_code, answer.get_json()) == (200, {"status": "degraded"})
    details = admin.get("/health?detail=1").get_json()
    assert details["cache"]["degraded"] and details["adapters"]["platform"]["status"] == "failing"
    assert str(own.port) not in json.dumps(details)
    failed = {path: code for path in routes() if (code := admin.get(path).status_code) >= 500}
    assert not failed, failed

    own.start()                                                # an empty Redis on the same port
    put(own.url, 7.4)
    assert until(lambda: tpi(data) == (False, [7.4])), "healed without a reload"
    assert until(lambda: anonymous.get("/health").get_json() == {"status": "ok"}), \
        admin.get("/health?detail=1").get_json()
    cockpit.data.health()
    assert not app.server.test_client().get("/health").get_json().get("cache")   # status only


def test_a_hung_redis_does_not_hold_a_tick(own: OwnRedis, cockpit: runtime.Cockpit) -> None:
    data = cockpit.data
    put(own.url, 5.5)
    tick()
    assert tpi(data) == (False, [5.5])
    assert own.proc is not None
    os.kill(own.proc.pid, signal.SIGSTOP)                      # hung: connects, never answers
    time.sleep(1.1)
    started = time.monotonic()
    views = tick()
    first = time.monotonic() - started
    started = time.monotonic()
    tick()
    second = time.monotonic() - started
    assert first < 2.5, f"the first tick on a hung Redis took {first:.1f} s"
    assert second < 1.0, f"the next tick waited on the hung Redis again ({second:.1f} s)"
    assert "badge-stale" in views["freshness"].className
    assert tpi(data) == (True, [5.5])

    os.kill(own.proc.pid, signal.SIGCONT)
    put(own.url, 5.9)
    assert until(lambda: tpi(data) == (False, [5.9])), "healed when Redis answers again"
