"""Wall tokens: hashed at rest, scoped to their layouts and playlists, expiring, revocable
within one tick; and the kiosk URL that signs a wall in."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from access import tokens
from access.store import WallToken, utcnow
from tests.access.helpers import store


def _forget(server: Any) -> None:
    server.extensions["citybrain_access"]["sessions"].forget()


def test_the_secret_is_shown_once_and_only_its_hash_is_kept() -> None:
    secret, wall = tokens.create(store(), "lobby", layouts=["1080p"], actor="tests")
    assert len(secret) >= 43
    with store()() as db:
        row = db.get(WallToken, wall.id)
        dump = " ".join(str(v) for v in db.execute(sa.select(WallToken)).scalars().all()
                        for v in vars(v).values())
    assert row.token_hash == tokens.digest(secret) and secret not in dump
    assert tokens.resolve(store(), secret) == wall
    assert tokens.resolve(store(), secret[:-1] + "x") is None


def test_a_token_lasts_180_days_by_default_and_needs_a_screen() -> None:
    _, wall = tokens.create(store(), "default-life", layouts=["4k"], actor="tests")
    assert abs((wall.expires_at - utcnow()) - timedelta(days=180)) < timedelta(minutes=1)
    with pytest.raises(tokens.TokenError):
        tokens.create(store(), "nothing", actor="tests")


def test_the_kiosk_url_opens_the_first_layout_or_the_playlist(wall_client: Any) -> None:
    assert wall_client(layouts=("4k", "3x3")).landing == "/wall?layout=3x3"
    tour = wall_client(layouts=(), playlists=("default",))
    assert tour.landing == "/wall?playlist=default"
    assert tour.get("/wall?playlist=default").status_code == 200
    assert tour.get("/wall?layout=1080p").status_code == 200            # a screen of its playlist
    assert tour.get("/map?layers=areas,roads,events&kiosk=1").status_code == 200
    assert tour.get("/geo/districts.json").status_code == 200
    assert tour.get("/cockpit").status_code == 403


def test_a_token_opens_only_its_layouts(wall_client: Any) -> None:
    wall = wall_client(layouts=("4k",))
    assert wall.get("/wall?layout=4k").status_code == 200
    for url in ("/wall?layout=1080p", "/wall", "/wall?playlist=default", "/", "/explore", "/geo/roads.json"):
        reply = wall.get(url)
        assert reply.status_code == 403, url
        assert b"hb-" not in reply.data


def test_an_unknown_or_revoked_kiosk_url_signs_nobody_in(client_as: Any) -> None:
    secret, wall = tokens.create(store(), "gone", layouts=["4k"], actor="tests")
    tokens.revoke(store(), str(wall.id), actor="tests")
    for url in (f"/kiosk/{secret}", "/kiosk/not-a-token"):
        client = client_as(None)
        reply = client.get(url)
        assert reply.status_code == 401 and "访问已撤销" in reply.get_data(as_text=True)
        assert client.get("/_dash-layout").status_code == 401


def test_revoking_stops_the_wall_within_a_tick(wall_client: Any, server: Any) -> None:
    wall = wall_client(layouts=("1080p",))
    assert wall.get("/_dash-layout").status_code == 200
    tokens.revoke(store(), "test-wall", actor="tests")     # by name: every live token of it
    started = time.monotonic()
    while (reply := wall.get("/_dash-layout")).status_code == 200:
        assert time.monotonic() - started < 2, "the revoked token still works"
        time.sleep(0.05)
    assert reply.status_code == 401 and reply.get_json() == {"error": "revoked"}
    beat = wall.post("/wall/heartbeat", json={"wall_id": "w1", "layout": "1080p"})
    assert beat.status_code == 401 and beat.get_json() == {"error": "revoked"}
    tick = wall.get("/_dash-dependencies")   # the tick itself: tests/browser/test_kiosk_browser.py
    assert tick.status_code == 401 and tick.get_json() == {"error": "revoked"}
    page = wall.get("/wall?layout=1080p")
    assert page.status_code == 401 and "Access revoked" in page.get_data(as_text=True)


def test_an_expired_token_stops_the_wall(wall_client: Any, server: Any) -> None:
    wall = wall_client(layouts=("1080p",))
    with store()() as db, db.begin():
        db.execute(sa.update(WallToken).where(WallToken.id == wall.token.id)
                   .values(expires_at=utcnow() - timedelta(seconds=1)))
    _forget(server)
    assert wall.get("/_dash-layout").get_json() == {"error": "revoked"}
    assert tokens.resolve(store(), wall.secret) is None


def test_a_wall_session_carries_its_scope(wall_client: Any, server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import g

    wall = wall_client(layouts=("4k",))
    seen = []

    def spy(reply: Any) -> Any:
        seen.append(g.get("citybrain_scope"))
        return reply
    monkeypatch.setitem(server.after_request_funcs, None, [*server.after_request_funcs.get(None, []), spy])
    wall.get("/_dash-layout")
    scope = seen[-1]
    assert scope.who == "wall:test-wall" and scope.roles == {"wall"} and scope.layouts == {"4k"}
    assert not scope.personal and scope.areas is None


def test_creation_and_revocation_are_audited() -> None:
    from access.store import AuditEvent

    _, wall = tokens.create(store(), "audited", layouts=["4k"], actor="tests")
    tokens.revoke(store(), str(wall.id), actor="tests")
    with store()() as db:
        actions = list(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.target == f"{wall.id}:audited")))
    assert actions == ["token_created", "token_revoked"]
