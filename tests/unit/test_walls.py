"""Wall heartbeats: validated, kept for a few minutes, listed in /health."""

from __future__ import annotations

import app as cockpit_app
from service.walls import WallRegistry, validate

BEAT = {"wall_id": "wall-1", "page": "/wall?layout=4k", "layout": "4k", "last_render_ms_ago": 800,
        "js_heap_bytes": 12_000_000}


def test_a_heartbeat_is_listed_in_health() -> None:
    client = cockpit_app.server.test_client()
    assert client.post("/wall/heartbeat", json=BEAT).status_code == 200
    walls = client.get("/health").get_json()["walls"]
    mine = next(w for w in walls if w["wall_id"] == "wall-1")
    assert mine["layout"] == "4k" and mine["last_render_ms_ago"] == 800 and mine["age_s"] >= 0
    again = client.get("/health").get_json()["walls"]     # reading does not consume them
    assert any(w["wall_id"] == "wall-1" for w in again)


def test_a_bad_heartbeat_is_refused_with_the_field_named() -> None:
    client = cockpit_app.server.test_client()
    answer = client.post("/wall/heartbeat", json={**BEAT, "last_render_ms_ago": "soon"})
    assert answer.status_code == 400 and "last_render_ms_ago" in answer.get_json()["error"]
    assert client.post("/wall/heartbeat", data="x" * 5000).status_code == 413
    assert validate([1, 2])[1] == "expected a JSON object"


def test_old_walls_are_forgotten(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import service.walls as walls

    registry = WallRegistry()
    registry.beat(BEAT)
    now = walls.time.time()
    monkeypatch.setattr(walls.time, "time", lambda: now + walls.KEEP_SECONDS + 1)
    assert registry.recent() == []
