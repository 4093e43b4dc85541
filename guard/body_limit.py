"""A body limit for every request, chunked ones included.

A declared ``Content-Length`` over the limit is refused at once (413) without reading the
body. A body of unknown length (chunked) is read through a counting stream that raises
:class:`~werkzeug.exceptions.RequestEntityTooLarge` as soon as the limit is crossed, so
Flask answers 413 before it parses any JSON, and never holds more than the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge

from guard.wsgi import WSGIApp, plain_response

BLOCK = 64 * 1024


class CountingInput:
    """``wsgi.input`` that refuses to deliver more than ``limit`` bytes in all."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.read_bytes = 0

    def _count(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise RequestEntityTooLarge(f"the request body is over {self.limit} bytes")
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return self._count(self.stream.read(min(size, self.limit + 1 - self.read_bytes)))
        parts = []   # read all: in blocks, so an endless body is cut at the limit, not buffered
        while chunk := self.read(BLOCK):
            parts.append(chunk)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        room = self.limit + 1 - self.read_bytes
        return self._count(self.stream.readline(room if size is None or size < 0 else min(size, room)))

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(self)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def close(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


class BodyLimit:
    """WSGI middleware holding every request body to ``limit`` bytes."""

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app = app
        self.limit = int(limit)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        declared = environ.get("CONTENT_LENGTH") or ""
        try:
            length = int(declared) if declared else None
        except ValueError:
            return plain_response(start_response, 400, "bad Content-Length")
        if length is not None and (length < 0 or length > self.limit):
            return plain_response(start_response, 413, "request body too large", limit=self.limit)
        environ["wsgi.input"] = CountingInput(environ["wsgi.input"], self.limit)
        try:
            return self.app(environ, start_response)
        except RequestEntityTooLarge:   # read outside Flask's handling (Flask answers its own)
            return plain_response(start_response, 413, "request body too large", limit=self.limit)
