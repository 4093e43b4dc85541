"""/geo: static map geometry served once, with an ETag, and ready from start-up."""

from __future__ import annotations

import json
import re

from plotly.io.json import to_json_plotly

import app
from access.gate import trusted
from pages.map import page as map_page
from service import geo_routes
from tests.access.helpers import sign_in


def test_a_layer_is_geojson_with_an_etag_and_a_long_cache_life() -> None:
    reply = sign_in(app.server.test_client()).get("/geo/roads.json")
    assert reply.status_code == 200 and reply.mimetype == "application/geo+json"
    assert "max-age=3600" in reply.headers["Cache-Control"]
    body = json.loads(reply.data)
    assert body["type"] == "FeatureCollection" and len(body["features"]) >= 300
    assert all(f["id"] for f in body["features"])


def test_a_screen_that_holds_the_layer_gets_304() -> None:
    client = sign_in(app.server.test_client())
    etag = client.get("/geo/cameras.json").headers["ETag"]
    again = client.get("/geo/cameras.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_an_unknown_layer_is_404_naming_it() -> None:
    reply = sign_in(app.server.test_client()).get("/geo/nowhere.json")
    assert reply.status_code == 404 and b"nowhere" in reply.data


def test_warm_encodes_every_layer_the_map_opens_with() -> None:
    page = json.dumps(json.loads(to_json_plotly(map_page.layout(layers="all"))))
    opened = set(re.findall(r'"/geo/([a-z]+)\.json"', page))
    assert {"districts", "roads", "facilities"} <= opened <= set(map_page.OPENING_GEOMETRY), opened
    geo_routes.BODIES._values.clear()
    before = geo_routes.BODIES.computed
    with trusted():   # as app.py warms it at start-up
        geo_routes.warm(app.server, map_page.OPENING_GEOMETRY)
        assert geo_routes.BODIES.computed - before == len(map_page.OPENING_GEOMETRY)
        geo_routes.warm(app.server, map_page.OPENING_GEOMETRY)   # now served from the memo
    assert geo_routes.BODIES.computed - before == len(map_page.OPENING_GEOMETRY)
