"""The Host allow-list answers 400 to a host the site does not serve, before any app code."""

from __future__ import annotations

import pytest
from flask import Flask

from guard.hosts import HostAllowList, host_name


@pytest.mark.parametrize(("header", "name"), [
    ("cockpit.example.org", "cockpit.example.org"), ("Cockpit.Example.ORG:8443", "cockpit.example.org"),
    ("127.0.0.1:8050", "127.0.0.1"), ("[::1]:8050", "::1"), ("[::1]", "::1"), ("", "")])
def test_the_host_name_drops_the_port(header: str, name: str) -> None:
    assert host_name(header) == name


def client(allowed: list[str]) -> tuple[Flask, list[str]]:
    app = Flask(__name__)
    reached: list[str] = []

    @app.before_request
    def seen() -> None:
        from flask import request
        reached.append(request.host)

    @app.get("/")
    def index() -> str:
        return "ok"

    app.wsgi_app = HostAllowList(app.wsgi_app, allowed)  # type: ignore[method-assign]
    return app, reached


@pytest.mark.parametrize(("host", "status"), [
    ("localhost", 200), ("localhost:8050", 200), ("127.0.0.1:1", 200), ("cockpit.example.org", 200),
    ("evil.example", 400), ("localhost.evil.example", 400), ("example.org", 400),
    ("wall.ops.example.net", 200), ("ops.example.net", 200), ("notops.example.net", 400)])
def test_only_listed_hosts_reach_the_app(host: str, status: int) -> None:
    app, reached = client(["localhost", "127.0.0.1", "cockpit.example.org", ".ops.example.net"])
    reply = app.test_client().get("/", headers={"Host": host})
    assert reply.status_code == status
    if status == 400:
        assert reply.get_json() == {"error": "unknown host"} and reached == []


def test_a_star_allows_any_host() -> None:
    app, _ = client(["*"])
    assert app.test_client().get("/", headers={"Host": "anything.example"}).status_code == 200


@pytest.mark.parametrize(("peer", "host", "status"), [
    ("127.0.0.1", "localhost", 200), ("::1", "127.0.0.1:8050", 200), ("127.0.0.1", "evil.example", 400),
    ("10.0.0.9", "localhost", 400), ("10.0.0.9", "cockpit.example.org", 200)])
def test_this_machine_may_always_name_itself(peer: str, host: str, status: int) -> None:
    app, _ = client(["cockpit.example.org"])
    reply = app.test_client().get("/", headers={"Host": host}, environ_base={"REMOTE_ADDR": peer})
    assert reply.status_code == status
