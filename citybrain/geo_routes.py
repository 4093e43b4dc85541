"""Static map geometry over plain HTTP, so the browser fetches it once and caches it.

``GET /geo/<layer>.json`` answers the layer's GeoJSON with an ETag and a long
``Cache-Control``; live attributes travel separately in the map page's callbacks.
"""

from __future__ import annotations

import hashlib
import json

from flask import Flask, Response, abort, request

from datasources.errors import DataSourceError

from . import runtime

MAX_AGE = 3600


def register(server: Flask) -> None:
    """Add the /geo routes to the Flask server."""

    @server.route("/geo/<name>.json")
    def geo_layer(name: str) -> Response:
        try:
            frame = runtime.current().data.layer(name)
        except DataSourceError as exc:
            abort(404, description=str(exc))
        if frame.stale and not frame.data.get("features"):
            abort(503, description=frame.error or "layer unavailable")
        body = json.dumps(frame.data, ensure_ascii=False, separators=(",", ":"))
        etag = hashlib.sha1(body.encode()).hexdigest()[:16]
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        return Response(body, mimetype="application/geo+json", headers={
            "ETag": f'"{etag}"', "Cache-Control": f"public, max-age={MAX_AGE}"})
