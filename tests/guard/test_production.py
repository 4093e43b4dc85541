"""The production command (``gunicorn -c gunicorn.conf.py app:server``) as it runs: loopback,
no version banner, the Host allow-list, and the body limit on declared and chunked bodies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.request import urlopen

import pytest
import requests

from tests.access.helpers import sign_in_http
from tests.guard.test_body_limit import post_chunked
from tests.servers import ROOT, free_port

LIMIT = 1_000_000   # security.limits.max_body_bytes of the shipped config


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "CITYBRAIN_BIND": f"127.0.0.1:{port}", "CITYBRAIN_WORKERS": "1",
           "CITYBRAIN_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_no_header_names_a_version(server: int) -> None:
    reply = requests.get(f"http://127.0.0.1:{server}/health", timeout=10)
    assert reply.status_code == 200 and reply.headers["Server"] == "cockpit"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    text = " ".join(f"{k}: {v}" for k, v in reply.headers.items()).lower()
    assert not any(word in text for word in ("gunicorn", "werkzeug", "python", "flask", "dash"))


def test_an_unknown_host_is_400(server: int) -> None:
    reply = requests.get(f"http://127.0.0.1:{server}/health", headers={"Host": "evil.example"}, timeout=10)
    assert reply.status_code == 400


def test_bodies_over_the_limit_are_413_declared_or_chunked(server: int) -> None:
    body = b'{"output": "' + b"a" * (2 * LIMIT) + b'"}'
    declared = requests.post(f"http://127.0.0.1:{server}/_dash-update-component", data=body,
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert declared.status_code == 413
    web = sign_in_http(requests.Session(), f"http://127.0.0.1:{server}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in web.cookies)
    status, _ = post_chunked(server, body, chunk=64 * 1024, path="/_dash-update-component", cookie=cookie)
    assert status == 413
    small, _ = post_chunked(server, b'{"output": "no-such.children"}', path="/_dash-update-component",
                            cookie=cookie)
    assert small != 413
