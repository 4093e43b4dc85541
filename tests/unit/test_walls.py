"""Wall heartbeats: validated, capped, expired on write, listed in /health in bounded size."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask

from service.walls import SHOWN, WallRegistry, register, validate

BEAT = {"wall_id": "wall-1", "page": "/wall?layout=4k", "layout": "4k", "last_render_ms_ago": 800,
        "js_heap_bytes": 12_000_000}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def app_with(registry: WallRegistry) -> Flask:
    app = Flask(__name__)
    register(app, registry)
    return app


def test_a_heartbeat_is_kept_and_reading_does_not_consume_it() -> None:
    registry = WallRegistry()
    client = app_with(registry).test_client()
    assert client.post("/wall/heartbeat", json=BEAT).status_code == 200
    walls, total = registry.recent()
    assert total == 1 and walls[0]["layout"] == "4k" and walls[0]["last_render_ms_ago"] == 800
    assert walls[0]["age_s"] >= 0
    assert registry.recent()[1] == 1


@pytest.mark.parametrize(("raw", "field"), [
    ('{"wall_id": NaN}', "wall_id"),
    ('{"wall_id": "<script>alert(1)</script>"}', "wall_id"),
    ('{"wall_id": "x" }'.replace('"x"', json.dumps("a" * 65)), "wall_id"),
    ('{"wall_id": ""}', "wall_id"),
    ('{"wall_id": "w", "page": "/wall?x=<b>"}', "page"),
    ('{"wall_id": "w", "page": "wall"}', "page"),
    ('{"wall_id": "w", "page": "/wall", "layout": "a b"}', "layout"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": NaN}', "last_render_ms_ago"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": Infinity}',
     "last_render_ms_ago"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": -Infinity}',
     "last_render_ms_ago"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": 1e308}', "last_render_ms_ago"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": -1}', "last_render_ms_ago"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": true}', "last_render_ms_ago"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": "soon"}',
     "last_render_ms_ago"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": 5, "js_heap_bytes": false}',
     "js_heap_bytes"),
    ('{"wall_id": "w", "page": "/wall", "layout": "", "last_render_ms_ago": 5, "js_heap_bytes": NaN}',
     "js_heap_bytes"),
])
def test_a_bad_heartbeat_is_refused_with_400_naming_the_field(raw: str, field: str) -> None:
    registry = WallRegistry()
    client = app_with(registry).test_client()
    answer = client.post("/wall/heartbeat", data=raw, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["error"].startswith(f"{field}:")
    assert registry.recent() == ([], 0)


def test_not_an_object_and_too_large_are_refused() -> None:
    client = app_with(WallRegistry()).test_client()
    assert client.post("/wall/heartbeat", data="[1, 2]", content_type="application/json"
                       ).get_json()["error"] == "expected a JSON object"
    assert client.post("/wall/heartbeat", data="{not json", content_type="application/json"
                       ).status_code == 400
    assert client.post("/wall/heartbeat", data="x" * 5000).status_code == 413
    chunked = client.post("/wall/heartbeat", input_stream=io.BytesIO(b"x" * 9000),  # no length
                          headers={"Transfer-Encoding": "chunked"},
                          environ_overrides={"wsgi.input_terminated": True})
    assert chunked.status_code == 413


def test_valid_edge_values_pass() -> None:
    beat, error = validate({**BEAT, "wall_id": "a" * 64, "layout": "", "js_heap_bytes": None,
                            "last_render_ms_ago": 0.5, "extra": "ignored"})
    assert error is None and beat is not None and "extra" not in beat


def test_twenty_thousand_posts_keep_the_registry_at_its_cap_and_health_small() -> None:
    registry = WallRegistry(cap=100, ttl=600)
    client = app_with(registry).test_client()
    for n in range(20_000):
        assert client.post("/wall/heartbeat", json={**BEAT, "wall_id": f"w-{n}"}).status_code == 200
    walls, total = registry.recent()
    assert total == 100 and len(walls) == SHOWN
    assert walls[0]["wall_id"] == "w-19999"            # newest first, the oldest were dropped
    assert len(registry.local._beats) == 100
    assert len(json.dumps(registry.summary())) < 12_000


def test_expired_walls_are_dropped_on_write_not_only_on_read() -> None:
    clock = Clock()
    registry = WallRegistry(ttl=60, clock=clock)
    registry.beat({**BEAT, "wall_id": "old"})
    clock.now += 30
    registry.beat({**BEAT, "wall_id": "middle"})
    clock.now += 31                                    # "old" is 61 s old, "middle" 31 s
    registry.beat({**BEAT, "wall_id": "new"})
    assert list(registry.local._beats) == ["middle", "new"]   # dropped by the write itself
    clock.now += 30                                    # "middle" is 61 s old now
    assert [w["wall_id"] for w in registry.recent()[0]] == ["new"]


def test_a_wall_beating_again_moves_to_the_front() -> None:
    clock = Clock()
    registry = WallRegistry(cap=2, clock=clock)
    for wall_id in ("a", "b"):
        registry.beat({**BEAT, "wall_id": wall_id})
        clock.now += 1
    registry.beat({**BEAT, "wall_id": "a"})          # a is fresh again: b is now the oldest
    clock.now += 1
    registry.beat({**BEAT, "wall_id": "c"})
    assert [w["wall_id"] for w in registry.recent()[0]] == ["c", "a"]
