"""Sessions outlive the server: a person and a wall signed in before a restart are still signed
in after it (the secret is read again from the data folder, the session checked in SQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from access import tokens
from citybrain.config import DEFAULT_CONFIG
from tests.access.helpers import sign_in_http, store
from tests.servers import free_port, serve_app


@contextmanager
def running() -> Iterator[str]:
    port = free_port()
    proc = serve_app(DEFAULT_CONFIG, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_person_and_a_wall_stay_signed_in_across_a_restart() -> None:
    person, wall = requests.Session(), requests.Session()
    secret, token = tokens.create(store(), "restart-wall", layouts=["4k"], actor="tests")
    with running() as base:
        sign_in_http(person, base, "leader")
        landing = wall.get(f"{base}/kiosk/{secret}", allow_redirects=False, timeout=30)
        assert landing.headers["Location"] == "/wall?layout=4k"
        assert person.get(f"{base}/_dash-layout", timeout=30).status_code == 200
    with running() as base:   # a new process, another port: the same cookies
        assert person.get(f"{base}/_dash-layout", timeout=30).status_code == 200
        assert person.get(f"{base}/explore", allow_redirects=False, timeout=30).status_code == 403
        assert wall.get(f"{base}/wall?layout=4k", timeout=30).status_code == 200
        assert wall.get(f"{base}/wall?layout=1080p", timeout=30).status_code == 403
        tokens.revoke(store(), str(token.id), actor="tests")
        deadline = time.monotonic() + 3     # a worker trusts what it read for at most 1 s
        while (reply := wall.get(f"{base}/_dash-layout", timeout=30)).status_code == 200:
            assert time.monotonic() < deadline, "the revoked wall still gets the layout"
            time.sleep(0.1)
        assert reply.status_code == 401 and reply.json() == {"error": "revoked"}
    cookie = next(c for c in wall.cookies if c.name == "citybrain")
    assert cookie.expires and cookie.expires > token.expires_at.timestamp() - 86400   # weeks, not hours
