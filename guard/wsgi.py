"""What the WSGI middlewares of :mod:`guard` share: the app type and a small JSON answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def plain_response(start_response: Callable[..., Any], status: int, error: str,
                   **detail: Any) -> list[bytes]:
    """A JSON error answered by the middleware itself; the connection is closed after it,
    since a body the client is still sending is not read."""
    body = json.dumps({"error": error, **detail}).encode()
    start_response(f"{status} {HTTPStatus(status).phrase}", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"), ("Connection", "close")])
    return [body]
