"""The HTTP JSON API adapter against a real local HTTP server on an ephemeral port."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from citybrain.catalogue import Indicator
from datasources.errors import BadQuery, StoreUnavailable
from datasources.http import HttpSource

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def ind(id: str = "tpi", time_rollup: str = "mean", **binding: Any) -> Indicator:
    return Indicator(id=id, name_zh=id, name_en=id, domain="traffic", better="lower",
                     time_rollup=time_rollup, binding={"source": "api", **binding})


class Handler(BaseHTTPRequestHandler):
    """Answers from ``server.routes``: {path: [(status, body[, delay]), ...]}; the last repeats."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        server: Any = self.server
        server.seen.append((self.path, dict(self.headers)))
        answers = server.routes.get(urlsplit(self.path).path, [(404, {"error": "no such route"})])
        status, body, *delay = answers.pop(0) if len(answers) > 1 else answers[0]
        time.sleep(delay[0] if delay else 0)
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server():
    httpd: Any = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes, httpd.seen = {}, []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def source(server: Any, **options: Any) -> HttpSource:
    options = {"base_url": server.url + "/api", "backoff_seconds": 0.01, **options}
    assert HttpSource.check_options(options) == []
    return HttpSource("api", **options)


def test_latest_renames_columns_and_walks_a_nested_rows_path(server: Any) -> None:
    rows = [{"code": "d1", "updated": iso(0), "idx": 1.5}, {"code": "d1", "updated": iso(5), "idx": 2.0},
            {"code": 102, "updated": iso(3), "idx": "3.25"}]
    server.routes["/api/traffic/tpi"] = [(200, {"data": {"items": [{"rows": rows}]}})]
    binding = dict(path="/traffic/{indicator}?level={level}", rows="$.data.items[0].rows",
                   columns={"area_id": "code", "ts": "updated", "value": "idx"},
                   series_path="/x?from={start}")
    assert HttpSource.check_binding(ind(**binding)) == []
    frame = source(server).latest([ind(**binding)], "district")
    got = frame.data.set_index("area_id").value.to_dict()
    assert got == {"d1": 2.0, "102": 3.25}, "newest row per area wins; numeric codes become text"
    assert list(frame.data.columns) == ["indicator", "area_id", "ts", "value"]
    assert set(frame.data.indicator) == {"tpi"} and frame.as_of == T0 + timedelta(minutes=5)
    assert parse_qs(urlsplit(server.seen[0][0]).query) == {"level": ["district"]}


def test_series_buckets_values_to_the_step_with_the_time_rollup(server: Any) -> None:
    rows = [{"area_id": a, "ts": iso(m), "value": v}
            for a, m, v in [("d1", 0, 1), ("d1", 10, 2), ("d1", 20, 6), ("d1", 30, 10),
                            ("d2", 5, 100), ("d9", 5, 7), ("d1", 60, 99)]]
    server.routes["/api/history"] = [(200, {"rows": rows})]
    binding = dict(path="/now", series_path="/history?ind={indicator}&from={start}&to={end}&s={step_seconds}",
                   rows="rows")
    api = source(server)
    mean = api.series([ind(**binding)], ["d1", "d2"], T0, T0 + timedelta(hours=1), timedelta(minutes=30))
    got = {(r.area_id, r.ts): r.value for r in mean.data.itertuples()}
    assert got == {("d1", T0): 3.0, ("d1", T0 + timedelta(minutes=30)): 10.0, ("d2", T0): 100.0}
    total = api.series([ind("flow", "sum", **binding)], ["d1"], T0, T0 + timedelta(hours=1),
                       timedelta(minutes=30))
    assert total.data[total.data.ts == T0].value.iloc[0] == 9.0
    query = parse_qs(urlsplit(server.seen[0][0]).query)
    assert query == {"ind": ["tpi"], "from": [T0.isoformat()], "to": [iso(60)], "s": ["1800"]}


def test_the_auth_header_comes_from_the_environment(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    options = {"base_url": server.url, "token_env": "CB_TEST_TOKEN", "auth_header": "X-Api-Key"}
    monkeypatch.delenv("CB_TEST_TOKEN", raising=False)
    assert any(p.startswith("token_env: expected environment variable CB_TEST_TOKEN")
               for p in HttpSource.check_options(options))
    monkeypatch.setenv("CB_TEST_TOKEN", "s3cret")
    server.routes["/v"] = [(200, [{"area_id": "c", "ts": iso(0), "value": 1}])]
    source(server, **options).latest([ind(path="/v")], "city")
    assert server.seen[0][1]["X-Api-Key"] == "s3cret"


def test_two_server_errors_are_retried_then_the_answer_is_read(server: Any) -> None:
    ok = [{"area_id": "c", "ts": iso(0), "value": 7}]
    server.routes["/api/v"] = [(500, {"error": "boom"}), (502, "bad gateway"), (200, ok)]
    frame = source(server, retries=2).latest([ind(path="/v")], "city")
    assert frame.data.value.tolist() == [7.0] and len(server.seen) == 3


def test_exhausted_retries_raise_store_unavailable(server: Any) -> None:
    server.routes["/api/v"] = [(503, {"error": "down"})]
    with pytest.raises(StoreUnavailable, match=r"after 3 attempt\(s\): answered 503") as err:
        source(server, retries=2).latest([ind(path="/v")], "city")
    assert err.value.__cause__ is not None and len(server.seen) == 3


def test_a_slow_server_times_out_quickly(server: Any) -> None:
    server.routes["/api/v"] = [(200, [], 2.0)]
    started = time.perf_counter()
    with pytest.raises(StoreUnavailable, match="timed out"):
        source(server, timeout_seconds=0.2, retries=1).latest([ind(path="/v")], "city")
    assert time.perf_counter() - started < 1.5 and len(server.seen) == 2


def test_a_client_error_is_a_bad_query_and_not_retried(server: Any) -> None:
    with pytest.raises(BadQuery, match=r"GET http://127\.0\.0\.1:\d+/api/missing answered 404"):
        source(server).latest([ind(path="/missing")], "city")
    assert len(server.seen) == 1


def test_invalid_json_is_a_downstream_fault(server: Any) -> None:
    server.routes["/api/v"] = [(200, "<html>maintenance</html>")]
    with pytest.raises(StoreUnavailable, match="invalid JSON"):
        source(server).latest([ind(path="/v")], "city")
    server.routes["/api/w"] = [(200, {"data": []})]
    with pytest.raises(BadQuery, match="has no key 'items'"):
        source(server).latest([ind(path="/w", rows="data.items")], "city")


def test_malformed_rows_are_rejected_counted_and_good_rows_kept(server: Any) -> None:
    server.routes["/api/v"] = [(200, '[{"area_id": "a", "ts": "%s", "value": 1},'
                                     ' {"area_id": "b", "ts": "%s", "value": "n/a"},'
                                     ' {"area_id": "c", "ts": "%s", "value": NaN},'
                                     ' {"area_id": "d", "ts": "yesterday", "value": 4}, 5]' % ((iso(0),) * 3))]
    server.routes["/api/no_ts"] = [(200, [{"area_id": "a", "value": 1}])]
    event = {"kind": "fire", "status": "reported", "reported_at": iso(1), "severity": 2}
    server.routes["/api/events"] = [(200, {"items": [
        {**event, "no": "e1", "x": 120.1, "y": 30.2}, {**event, "no": "e2", "x": 120.1, "y": 95},
        {**event, "no": "e3", "x": "east", "y": 30}, {**event, "no": "e4", "x": 120, "y": 30, "status": "??"}]})]
    server.routes["/api/ping"] = [(200, {"ok": True})]
    api = source(server, health_path="/ping", events={
        "path": "/events?since={since}", "rows": "items", "columns": {"id": "no", "lon": "x", "lat": "y"}})
    assert api.latest([ind(path="/v")], "city").data.area_id.tolist() == ["a"]
    assert api.latest([ind("other", path="/no_ts")], "city").data.empty
    events = api.events(T0, T0 + timedelta(hours=1)).data
    assert events.id.tolist() == ["e1"] and events.lon.iloc[0] == 120.1
    health = api.health()
    assert health.ok and health.error is None and health.latency_ms is not None
    assert health.last_data_at == T0
    rejects = health.details["rejects"]
    assert rejects["latest tpi"] == {"value is not a number": 1, "value is missing or NaN": 1,
                                     "ts is not a time": 1}
    assert rejects["row"] == {"row is not an object": 1}
    assert rejects["latest other"] == {"missing column(s) ts": 1}
    assert rejects["event"] == {"coordinates missing or off the planet": 2, "unknown status": 1}


def test_hostile_template_values_are_url_encoded(server: Any) -> None:
    hostile = ["../admin", "d1&x=1"]
    server.routes["/api/areas/..%2Fadmin,d1%26x%3D1/history"] = [(200, [])]
    binding = dict(path="/now", series_path="/areas/{area_ids}/history?ids={area_ids}")
    api = source(server)
    assert api.series([ind(**binding)], hostile, T0, T0 + timedelta(hours=1), timedelta(minutes=5)).data.empty
    raw = server.seen[0][0]
    assert raw == "/api/areas/..%2Fadmin,d1%26x%3D1/history?ids=..%2Fadmin,d1%26x%3D1"
    assert parse_qs(urlsplit(raw).query) == {"ids": ["../admin,d1&x=1"]}
    with pytest.raises(BadQuery, match="cannot be sent in a URL"):
        api.series([ind(**binding)], [".."], T0, T0 + timedelta(hours=1), timedelta(minutes=5))


def test_areas_layers_and_a_failing_health_check(server: Any) -> None:
    server.routes["/api/areas"] = [(200, {"areas": [{"code": "c", "lvl": "city", "name": "云江市"},
                                                    {"code": "x", "lvl": "planet"}]})]
    server.routes["/api/roads"] = [(200, {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120, 30]}, "properties": {}}]})]
    api = source(server, areas={"path": "/areas", "rows": "areas",
                                "columns": {"id": "code", "level": "lvl", "name_zh": "name"}},
                 layers={"roads": "/roads"}, health_path="/down")
    areas = api.areas().data
    assert areas.id.tolist() == ["c"] and areas.name_zh.iloc[0] == "云江市"
    assert api.layer("roads").data["features"][0]["id"] == "roads-0"
    with pytest.raises(BadQuery, match="no map layer 'rivers'"):
        api.layer("rivers")
    health = api.health()
    assert not health.ok and "404" in health.error and health.details["status"] == 404
    assert health.details["rejects"] == {"area": {"missing id or unknown level": 1}}


def test_configuration_problems_are_named() -> None:
    problems = HttpSource.check_options({"base_url": "ftp://x", "retries": -1, "colour": "red",
                                         "events": {"path": "/e?d={day}"}})
    assert "base_url: expected an http:// or https:// URL, found 'ftp://x'" in problems
    assert any(p.startswith("retries: expected a non-negative integer") for p in problems)
    assert any(p.startswith("colour: no such key") for p in problems)
    assert any(p.startswith("events.path: expected placeholders among {since}, {until}, found {day}") for p in problems)
    assert any("binding.series_path: expected a path for series reads since path uses {level}" in p
               for p in HttpSource.check_binding(ind(path="/t?l={level}")))
    assert any(p.startswith("binding.rows: expected a dotted path")
               for p in HttpSource.check_binding(ind(path="/t", rows="data..x", sql="1")))
    assert any(p.startswith("binding.path: expected a path under base_url")
               for p in HttpSource.check_binding(ind(path="https://elsewhere/t")))
    assert any(p.startswith("binding.path: expected a path under base_url") for p in HttpSource.check_binding(ind()))
    assert HttpSource.check_binding(ind(series_path="/h?from={start}")) == [], "a history binding"


def test_a_refused_connection_is_an_outage_and_health_says_so() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = HttpSource("api", base_url=f"http://127.0.0.1:{port}", retries=1, backoff_seconds=0.01)
    with pytest.raises(StoreUnavailable, match=r"after 2 attempt\(s\): ConnectionError"):
        api.latest([ind(path="/v")], "city")
    health = api.health()
    assert not health.ok and "ConnectionError" in health.error and health.latency_ms is not None
