"""Static map geometry over plain HTTP, so the browser fetches it once and caches it.

``GET /geo/<layer>.json`` answers the layer's GeoJSON with an ETag and a long
``Cache-Control``; live attributes travel separately in the map page's callbacks. The
encoded body is kept for five minutes: a map opening asks for eight layers at once, some
of them megabytes, and encoding each again for every screen was most of the server's
share of the map's first draw. :func:`warm` encodes them at start-up, so the first
screens after a restart (a whole wall reconnecting) do not pay for it either.

A body is what the request's scope may see (the data service cuts it), so it is kept
per scope's areas and personal right, and answered ``private``: no shared proxy may
hand one person's body to another.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable

from flask import Flask, Response, abort, request

from citybrain.memo import TtlMemo
from datasources.errors import DataSourceError
from service.data import DataService

from . import runtime, scope

log = logging.getLogger(__name__)

MAX_AGE = 3600
BODIES = TtlMemo(seconds=300)    # (data service, layer name, scope view) -> (encoded GeoJSON, its ETag)


class _Unavailable(Exception):
    """The layer could not be read and there is no good copy: answer with ``status``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _encoded(data: DataService, name: str) -> tuple[bytes, str]:
    try:
        frame = data.layer(name)
    except DataSourceError as exc:
        raise _Unavailable(404, str(exc)) from exc
    if frame.stale and not frame.data.get("features"):
        raise _Unavailable(503, frame.error or "layer unavailable")
    body = json.dumps(frame.data, ensure_ascii=False, separators=(",", ":")).encode()
    return body, hashlib.sha1(body).hexdigest()[:16]


def register(server: Flask) -> None:
    """Add the /geo routes to the Flask server."""

    @server.route("/geo/<name>.json")
    def geo_layer(name: str) -> Response:
        try:
            data = runtime.current().data
            body, etag = _body(data, name)
        except _Unavailable as exc:
            abort(exc.status, description=exc.description)
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        return Response(body, mimetype="application/geo+json", headers={
            "ETag": f'"{etag}"', "Cache-Control": f"private, max-age={MAX_AGE}", "Vary": "Cookie"})


def _body(data: DataService, name: str) -> tuple[bytes, str]:
    """The encoded layer the current scope sees, kept per scope view."""
    return BODIES.get((data, name, scope.current().view_key), lambda: _encoded(data, name))


def warm(server: Flask, names: Iterable[str]) -> None:
    """Read and encode the layers ``names`` now, as the whole city sees them (the body most
    screens ask for). A layer that cannot be read is logged and left for its first
    request: start-up never fails here."""
    data = runtime.current().data
    started = time.perf_counter()
    everyone = scope.Scope("start-up", frozenset({"wall"}), None, False)
    with server.test_request_context(), scope.using(everyone):
        for name in names:
            try:
                _body(data, name)
            except _Unavailable as exc:
                log.warning("map layer %s not ready at start-up (HTTP %s)", name, exc.status)
            except Exception:  # noqa: BLE001 - logged; the layer's first request tries again
                log.exception("map layer %s not ready at start-up", name)
    log.info("map geometry encoded in %.2f s", time.perf_counter() - started)
