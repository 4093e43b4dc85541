"""Every request body is held to the limit, declared or chunked, on a real HTTP server:
over the limit is 413 before the app parses anything; at the limit the app gets it all."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from guard.body_limit import BodyLimit

LIMIT = 10_000


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, list[int]]]:
    """A Flask app behind the body limit on a werkzeug server; the list records the size of
    every body the app parsed."""
    app = Flask(__name__)
    parsed: list[int] = []

    @app.post("/echo")
    def echo():  # type: ignore[no-untyped-def]
        body = request.get_json()
        parsed.append(len(body["x"]))
        return jsonify(size=len(body["x"]))

    app.wsgi_app = BodyLimit(app.wsgi_app, LIMIT)  # type: ignore[method-assign]
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port, parsed
    httpd.shutdown()


def payload(size: int) -> bytes:
    """A JSON body of exactly ``size`` bytes."""
    return json.dumps({"x": "a" * (size - len(b'{"x": ""}'))}).encode()


def post(port: int, body: bytes) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/echo", body=body, headers={"Content-Type": "application/json"})
    reply = conn.getresponse()
    return reply.status, json.loads(reply.read())


def post_chunked(port: int, body: bytes, chunk: int = 1000, path: str = "/echo",
                 cookie: str = "") -> tuple[int, bytes]:
    """``body`` sent chunked over a raw socket (no Content-Length); the status and body of
    the answer, read even if the server answers before the whole body is sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        extra = f"Cookie: {cookie}\r\n" if cookie else ""
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Transfer-Encoding: chunked\r\nConnection: close\r\n{extra}\r\n".encode())
        try:
            for start in range(0, len(body), chunk):
                piece = body[start:start + chunk]
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)   # all sent: a server still draining the body sees the end
        except (BrokenPipeError, ConnectionResetError):
            pass   # the server answered and closed early: read what it said
        answer = b""
        while data := sock.recv(65536):
            answer += data
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def test_a_body_at_the_limit_is_parsed_whole(server: tuple[int, list[int]]) -> None:
    port, _ = server
    assert post(port, payload(LIMIT)) == (200, {"size": LIMIT - 9})


def test_a_declared_length_over_the_limit_is_refused_unread(server: tuple[int, list[int]]) -> None:
    port, parsed = server
    before = len(parsed)
    status, body = post(port, payload(LIMIT + 1))
    assert status == 413 and body == {"error": "request body too large", "limit": LIMIT}
    assert len(parsed) == before


def test_a_chunked_body_within_the_limit_is_parsed(server: tuple[int, list[int]]) -> None:
    port, _ = server
    status, body = post_chunked(port, payload(LIMIT))
    assert status == 200 and b'"size"' in body


@pytest.mark.parametrize("size", [LIMIT + 1, 2_000_000])
def test_a_chunked_body_over_the_limit_is_413_and_never_parsed(server: tuple[int, list[int]], size: int) -> None:
    port, parsed = server
    before = len(parsed)
    status, _ = post_chunked(port, payload(size))
    assert status == 413
    assert len(parsed) == before
