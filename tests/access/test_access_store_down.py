"""The access database failing: a session read lately holds (a wall stays on through a short
outage), a session never read gets 503, the sign-in form says the store is unavailable,
/health still answers, and no request is a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

import app
from tests.access.helpers import PASSWORD, csrf_of, sign_in, user_for
from tests.access.test_scope_callbacks import callback, page, spec


def _down(*_: Any, **__: Any) -> Any:
    raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``outage()`` makes the access database refuse every connection from then on."""
    access = app.server.extensions["citybrain_access"]
    monkeypatch.setattr(access["sessions"].recent, "seconds", 0.0)   # every request reads its session
    yield lambda: monkeypatch.setattr(access["store"], "session", _down)
    access["sessions"].forget()


def test_a_session_read_lately_holds_and_a_new_one_gets_503(outage: Any) -> None:
    known = sign_in(app.server.test_client(), "leader")
    assert page(known, "/").status_code == 200          # its session is read (and kept)
    fresh = app.server.test_client()
    token = csrf_of(fresh.get("/login").get_data(as_text=True))
    outage()

    assert page(known, "/").status_code == 200          # within the grace period: still on
    assert known.get("/").status_code == 200
    # a sign-in now cannot be checked: the form says so, never a 500
    reply = fresh.post("/login", data={"name": user_for("leader"), "password": PASSWORD, "csrf": token})
    assert reply.status_code == 503 and "暂时无法登录" in reply.get_data(as_text=True)
    assert fresh.get("/login").status_code == 200
    assert fresh.get("/health").status_code in (200, 503) and set(fresh.get("/health").get_json()) == {"status"}
    assert known.get("/health").status_code != 500


def test_a_session_not_read_before_the_outage_gets_503_not_500(outage: Any) -> None:
    client = sign_in(app.server.test_client(), "analyst")
    router = spec(client, "_pages_content.children")["output"]
    app.server.extensions["citybrain_access"]["sessions"].forget()   # never read in this process
    outage()
    reply = callback(client, router, [{"id": "_pages_location", "property": "pathname", "value": "/traffic"},
                                      {"id": "_pages_location", "property": "search", "value": ""}],
                     changed="_pages_location.pathname")
    assert reply.status_code == 503 and reply.get_json() == {"error": "unavailable"}
    got = client.get("/traffic")
    assert got.status_code == 503 and "暂时无法登录" in got.get_data(as_text=True)
