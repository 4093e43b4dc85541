"""Fixtures of the access tests: the real app, clients signed in per role and per wall token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from access import tokens
from tests.access.helpers import sign_in, store


@pytest.fixture(scope="session")
def cockpit() -> Any:
    import app

    return app.app


@pytest.fixture
def server(cockpit: Any) -> Iterator[Any]:
    """The app's Flask server; every in-process session read afresh after the test."""
    yield cockpit.server
    cockpit.server.extensions["citybrain_access"]["sessions"].forget()


@pytest.fixture
def client_as(server: Any) -> Callable[[str | None], Any]:
    """``client_as(role)``: a test client signed in with that role (``None``: anonymous)."""
    def make(role: str | None) -> Any:
        client = server.test_client()
        return sign_in(client, role) if role else client
    return make


@pytest.fixture
def wall_client(server: Any) -> Callable[..., Any]:
    """``wall_client(layouts=..., playlists=...)``: a test client signed in by a new wall
    token's kiosk URL; its ``token`` attribute is the :class:`access.tokens.Wall`."""
    def make(layouts: tuple[str, ...] = ("1080p",), playlists: tuple[str, ...] = (), days: int = 30) -> Any:
        secret, wall = tokens.create(store(), "test-wall", layouts=layouts, playlists=playlists, days=days,
                                     actor="tests")
        client = server.test_client()
        reply = client.get(f"/kiosk/{secret}")
        assert reply.status_code == 302, reply.status_code
        client.token, client.secret, client.landing = wall, secret, reply.headers["Location"]
        return client
    return make
