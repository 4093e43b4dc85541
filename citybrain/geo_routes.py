"""Static map geometry over plain HTTP, so the browser fetches it once and caches it.

``GET /geo/<layer>.json`` answers the layer's GeoJSON with an ETag and a long
``Cache-Control``; live attributes travel separately in the map page's callbacks. The
encoded body is kept for a minute: a map opening asks for eight layers at once, some of
them megabytes, and encoding each again for every screen was most of the server's share
of the map's first draw.
"""

from __future__ import annotations

import hashlib
import json

from flask import Flask, Response, abort, request

from datasources.errors import DataSourceError
from datasources.service import DataService

from . import runtime
from .memo import TtlMemo

MAX_AGE = 3600
BODIES = TtlMemo(seconds=60)     # (data service, layer name) -> (encoded GeoJSON, its ETag)


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
            body, etag = BODIES.get((data, name), lambda: _encoded(data, name))
        except _Unavailable as exc:
            abort(exc.status, description=exc.description)
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        return Response(body, mimetype="application/geo+json", headers={
            "ETag": f'"{etag}"', "Cache-Control": f"public, max-age={MAX_AGE}"})
