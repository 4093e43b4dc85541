"""Rate limits per client: wall heartbeats and expensive callbacks get 429 (JSON) after the
configured count, another client is unaffected, cheap callbacks are never counted; counts are
shared through Redis by every worker, and a Redis that dies or hangs never makes a 500."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from limits import parse

from citybrain.config import Config
from guard.rate_limit import ExpensiveCallbacks, storage_url
from service import runtime
from tests.access.helpers import sign_in
from tests.adapters.redis_server import OwnRedis, own_redis_server

BEAT = {"wall_id": "wall-1", "page": "/wall?layout=4k", "layout": "4k", "last_render_ms_ago": 800,
        "js_heap_bytes": 12_000_000}


def call(output: str, inputs: list[dict[str, Any]], state: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The body of a Dash callback request for ``output`` (``id.prop`` or ``..a.p...b.q..``)."""
    props = [o.rsplit(".", 1) for o in output.strip(".").split("...")]
    outputs: Any = [{"id": i, "property": p} for i, p in props]
    return {"output": output, "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": inputs, "state": state or [],
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else []}


EXPORT = call("explore-summary.exportDataAsCsv", [{"id": "explore-summary-csv", "property": "n_clicks", "value": 1}],
              [{"id": "explore-nav", "property": "search", "value": "?indicator=aqi"}])
TICK = call("..drill-main.children...drill-state.data..", [{"id": "drill-tick", "property": "n_intervals", "value": 3}],
            [{"id": "drill-state", "property": "data", "value": None}])
ROUTER = ".._pages_content.children..._pages_store.data.."


def route(path: str) -> dict[str, Any]:
    return call(ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                         {"id": "_pages_location", "property": "search", "value": ""}])


@pytest.fixture(scope="module")
def cockpit_app() -> Any:
    import app as cockpit

    return cockpit.app


@pytest.mark.parametrize(("body", "expensive"), [
    (EXPORT, True), (route("/explore"), True), (route("/drill"), True), (route("/traffic"), True),
    (call("drill-export-download.data", [{"id": "drill-export-csv", "property": "n_clicks", "value": 1}]), True),
    (call("..explore-nav.href...explore-result.children...explore-result.className..",
          [{"id": "explore-indicator", "property": "value", "value": "pm25"}]), True),
    (TICK, False), (route("/"), False), (route("/cockpit"), False), (route("/wall"), False),
    (route("/no/such/page"), False), (call("ck-sort.data", []), False),
    (call("no-such-output.children", []), False), ({"output": ["not", "a", "string"]}, False), ([], False)])
def test_which_callbacks_are_expensive(cockpit_app: Any, body: Any, expensive: bool) -> None:
    with cockpit_app.server.test_request_context("/_dash-update-component", method="POST", json=body):
        assert ExpensiveCallbacks(cockpit_app)() is expensive


def limited_config(**limits: Any) -> Config:
    import app  # noqa: F401 - installs the default cockpit

    config = runtime.current().config
    security = config.security.model_copy(update={"limits": config.security.limits.model_copy(update={
        "wall_heartbeats": "2 per minute", "expensive_queries": "3 per minute", **limits})})
    cache = config.cache.model_copy(update={"key_prefix": f"test-{uuid.uuid4().hex[:8]}:"})
    return config.model_copy(update={"security": security, "cache": cache})


@pytest.fixture
def fresh_app() -> Iterator[Any]:
    """``fresh_app(config)``: a new app on ``config``; the cockpit installed before comes back after."""
    import app as cockpit

    previous = runtime._current
    yield cockpit.create_app
    runtime._current = previous


def client_of(app: Any, addr: str = "127.0.0.1") -> Any:
    """A client of ``app`` at address ``addr``, signed in."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return sign_in(client)


def test_heartbeats_over_the_limit_get_429_per_client(fresh_app: Any) -> None:
    app = fresh_app(limited_config())
    first, other = client_of(app), client_of(app, "10.0.0.2")
    assert [first.post("/wall/heartbeat", json=BEAT).status_code for _ in range(2)] == [200, 200]
    refused = first.post("/wall/heartbeat", json=BEAT)
    assert refused.status_code == 429 and refused.get_json()["error"] == "too many requests"
    assert "2 per 1 minute" in refused.get_json()["limit"] and int(refused.headers["Retry-After"]) > 0
    assert other.post("/wall/heartbeat", json=BEAT).status_code == 200


def test_expensive_callbacks_over_the_limit_get_429_cheap_ones_never(cockpit_app: Any) -> None:
    # the app module's own app: the pages' callbacks belong to the first app built in a process
    allowed = parse(runtime.current().config.security.limits.expensive_queries).amount
    client = client_of(cockpit_app, f"10.1.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")
    statuses = [client.post("/_dash-update-component", json=EXPORT).status_code for _ in range(allowed)]
    assert statuses == [200] * allowed
    refused = client.post("/_dash-update-component", json=EXPORT)
    assert refused.status_code == 429 and refused.get_json()["error"] == "too many requests"
    for _ in range(5):   # the drill's tick is paced by the server, not counted
        assert client.post("/_dash-update-component", json=TICK).status_code == 200
    assert client.post("/wall/heartbeat", json=BEAT).status_code == 200   # a limit of its own
    assert client_of(cockpit_app, "10.2.0.3").post("/_dash-update-component", json=EXPORT).status_code == 200


def test_the_limiter_counts_in_the_caches_redis_or_the_configured_url() -> None:
    config = limited_config()
    assert storage_url(config) == "memory://"
    cache = config.cache.model_copy(update={"backend": "redis", "redis_url": "redis://127.0.0.1:6379/3"})
    assert storage_url(config.model_copy(update={"cache": cache})) == "redis://127.0.0.1:6379/3"
    assert storage_url(limited_config(storage_url="redis://10.1.1.1:6379/0")) == "redis://10.1.1.1:6379/0"


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    with own_redis_server(tmp_path) as server:
        yield server


@pytest.mark.service
def test_workers_share_the_counts_in_redis_and_a_dead_or_hung_redis_is_no_500(
        fresh_app: Any, own_redis: OwnRedis) -> None:
    config = limited_config(storage_url=own_redis.url)
    one, two = client_of(fresh_app(config)), client_of(fresh_app(config))   # two workers
    assert one.post("/wall/heartbeat", json=BEAT).status_code == 200
    assert two.post("/wall/heartbeat", json=BEAT).status_code == 200
    assert two.post("/wall/heartbeat", json=BEAT).status_code == 429
    assert any(config.cache.key_prefix in k.decode() for k in redis.Redis.from_url(own_redis.url).keys())

    assert own_redis.proc is not None
    os.kill(own_redis.proc.pid, signal.SIGSTOP)   # hung: connections open, nothing answers
    started = time.monotonic()
    assert one.post("/wall/heartbeat", json=BEAT).status_code == 200
    assert time.monotonic() - started < 5
    own_redis.stop()                              # dead
    replies = [one.post("/wall/heartbeat", json=BEAT).status_code for _ in range(3)]
    assert replies == [200, 429, 429]             # counted in the process meanwhile (1 + 1, then over)


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_the_sites_proxy_each_forwarded_client_has_its_own_count(fresh_app: Any, hops: int) -> None:
    """With ``proxy_hops: 1`` the client the proxy names in X-Forwarded-For is counted; without
    it the header is ignored (anyone could send it), and everything from the proxy is one client."""
    config = limited_config()
    config = config.model_copy(update={"security": config.security.model_copy(update={"proxy_hops": hops})})
    app = fresh_app(config)
    proxy = "10.9.9.9"
    first, other = client_of(app, proxy), client_of(app, proxy)
    first.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    other.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.8"
    assert [first.post("/wall/heartbeat", json=BEAT).status_code for _ in range(2)] == [200, 200]
    assert first.post("/wall/heartbeat", json=BEAT).status_code == 429
    assert other.post("/wall/heartbeat", json=BEAT).status_code == (200 if hops else 429)
