"""Area scope through the whole app: a district head (limited to 云溪区, D02) signed in
through /login sends other districts' ids in URLs and callback payloads (the drill and
its export, the explorer, the map's layers and clicks, /geo, the heartbeat, the cockpit
and the wall) and gets none of their ids, names or values back.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from flask.testing import FlaskClient

import app
from access import users
from citybrain.config import DEFAULT_CONFIG, load_config
from service.data import DataService
from tests.access.helpers import PASSWORD, csrf_of, sign_in, store

HEAD = "test-head-d02"
MINE = "D02"
OTHER_ID = re.compile(r"\bD0[13-6](?:S\d\d(?:G\d\d)?)?\b")


@pytest.fixture(scope="module")
def tree() -> pd.DataFrame:
    return DataService(load_config(DEFAULT_CONFIG)).areas().data


@pytest.fixture(scope="module")
def foreign(tree: pd.DataFrame) -> list[str]:
    """Names of areas outside D02 that no area of D02 shares (its grids' names hold its
    streets' names)."""
    own = tree[tree.id.str.startswith(MINE)]
    own_text = " ".join([*own.name_zh, *own.name_en])
    others = tree[~tree.id.str.startswith(MINE) & (tree.level != "city")]
    return sorted({n for n in [*others.name_zh, *others.name_en] if n not in own_text})


@pytest.fixture(scope="module")
def head() -> Iterator[FlaskClient]:
    try:
        users.find(store(), HEAD)
    except users.UserError:
        users.add(store(), HEAD, ["leader", "analyst"], areas=[MINE], password=PASSWORD, actor="tests")
    client = app.server.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    reply = client.post("/login", data={"name": HEAD, "password": PASSWORD, "csrf": token, "next": "/"})
    assert reply.status_code == 302
    yield client


def leaks(text: str, foreign: list[str]) -> list[str]:
    """Other areas' ids and names found in ``text``."""
    return sorted(set(OTHER_ID.findall(text))) + [n for n in foreign if n in text]


def callback(client: FlaskClient, output: str, inputs: list[dict[str, Any]],
             state: list[dict[str, Any]] | None = None, changed: str | None = None) -> Any:
    """POST one callback the way the browser does (``output`` as /_dash-dependencies names it)."""
    outs = [{"id": _id(part.rsplit(".", 1)[0]), "property": part.rsplit(".", 1)[1].split("@")[0]}
            for part in output.strip(".").split("...")]
    body = {"output": output, "outputs": outs if len(outs) > 1 else outs[0], "inputs": inputs,
            "state": state or [], "changedPropIds": [changed] if changed else []}
    return client.post("/_dash-update-component", json=body)


def drill_export(client: FlaskClient, area: str, path: str = "/drill") -> Any:
    """POST the drill's CSV export of ``checkpoint_flow`` at ``area`` the way the page does."""
    out = spec(client, "drill-export-download.data")["output"]
    state = {"path": path, "indicator": "checkpoint_flow", "area": area, "period": None, "lang": "zh",
             "cards": ["checkpoint_flow"], "day": None}
    return callback(client, out, [{"id": "drill-export-csv", "property": "n_clicks", "value": 1},
                                  {"id": "drill-export-xlsx", "property": "n_clicks", "value": None}],
                    [{"id": "drill-state", "property": "data", "value": state}], "drill-export-csv.n_clicks")


def _id(text: str) -> Any:
    return json.loads(text) if text.startswith("{") else text


def spec(client: FlaskClient, first_output: str) -> dict[str, Any]:
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if d["output"].lstrip(".").startswith(first_output))


def page(client: FlaskClient, path: str, search: str = "") -> Any:
    router = spec(client, "_pages_content.children")["output"]
    return callback(client, router, [
        {"id": "_pages_location", "property": "pathname", "value": path},
        {"id": "_pages_location", "property": "search", "value": search}], changed="_pages_location.pathname")


@pytest.mark.parametrize(("path", "search"), [
    ("/", ""), ("/map", ""), ("/cockpit", ""), ("/wall", ""),
    ("/traffic", "?area=D01"), ("/traffic", ""), ("/safety", "?area=D01S01"), ("/safety", ""),
    ("/drill", "?area=D03&indicator=checkpoint_flow"), ("/drill", "?indicator=checkpoint_flow"),
    ("/explore", "?indicator=checkpoint_flow&level=district&areas=D01,D03"),
    ("/explore", "?indicator=checkpoint_flow&level=street&areas=D01S01,D02S01"),
])
def test_pages_asked_for_other_areas_show_nothing_of_them(head: FlaskClient, foreign: list[str],
                                                          path: str, search: str) -> None:
    reply = page(head, path, search)
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    asked = OTHER_ID.findall(search)
    if asked:
        # the page may name what the URL asked for, and only as it names an area that does not
        # exist: an area outside the scope is indistinguishable from no area at all
        ghosts = {a: "Q" + a[1:] for a in asked}
        ghost_search = OTHER_ID.sub(lambda m: ghosts[m.group(0)], search)
        ghost_text = page(head, path, ghost_search).get_data(as_text=True)
        echoed = [a for a in asked if repr(a) in text]
        assert [a for a in echoed if repr(ghosts[a]) not in ghost_text] == [], "told apart from a ghost"
        assert ("unknown area" in text) == ("unknown area" in ghost_text)
        for a in echoed:
            text = text.replace(repr(a), "'…'")
    assert leaks(text, foreign) == []


def test_the_drill_export_of_another_district_gives_none_of_its_rows(head: FlaskClient, foreign: list[str]) -> None:
    theirs = drill_export(head, "D01")
    assert leaks(theirs.get_data(as_text=True), foreign) == []
    ours = drill_export(head, MINE).get_json()["response"]["drill-export-download"]["data"]
    rows = list(csv.reader(io.StringIO(_content(ours))))
    ids = {r[1] for r in rows[1:]}
    assert ids and all(i.startswith(MINE) for i in ids)


def _content(download: dict[str, Any]) -> str:
    import base64

    raw = base64.b64decode(download["content"]) if download.get("base64") else download["content"].encode()
    return raw.decode("utf-8-sig")


def test_map_callbacks_colour_and_describe_only_the_district(head: FlaskClient, foreign: list[str]) -> None:
    main = spec(head, "map-areas.url")
    inputs = [{"id": _id(i["id"]), "property": i["property"],
               "value": {"map-indicator": "checkpoint_flow", "map-level": "grid",
                         "map-layers-on": ["areas", "roads", "events", "cameras", "sensors", "facilities",
                                           "parking"]}.get(i["id"] if isinstance(i["id"], str) else "",
                                                            {"n": 1, "at": None})}
              for i in main["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": "zh" if s["id"] == "map-lang" else None}
             for s in main["state"]]
    reply = callback(head, main["output"], inputs, state, "map-level.value")
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    text = reply.get_data(as_text=True)
    assert leaks(text, foreign) == [] and "D02S0" in text
    side = spec(head, "map-side.children")   # the area click: first of the two side callbacks
    for area in ("D01", "D03S02", "D05S01G01"):
        click = callback(head, side["output"], [{"id": "map-areas", "property": "clickData", "value": {"id": area}}],
                         [{"id": "map-lang", "property": "data", "value": "zh"},
                          {"id": "map-level", "property": "value", "value": "district"},
                          {"id": "map-indicator", "property": "value", "value": "checkpoint_flow"}],
                         "map-areas.clickData")
        assert leaks(click.get_data(as_text=True).replace(area, ""), foreign) == [], area
    drill = spec(head, "map-level.value")
    flown = callback(head, drill["output"],
                     [[{"id": {"area": "D01", "type": "map-drill"}, "property": "n_clicks", "value": 1}]],
                     [{"id": "map-level", "property": "value", "value": "district"},
                      {"id": "map-indicator", "property": "value", "value": "checkpoint_flow"},
                      {"id": "map-lang", "property": "data", "value": "zh"}],
                     '{"area":"D01","type":"map-drill"}.n_clicks')
    assert flown.status_code in (200, 204), flown.get_data(as_text=True)[:300]
    assert leaks(flown.get_data(as_text=True), foreign) == []


@pytest.mark.parametrize("layer", ["city", "districts", "streets", "grids", "roads", "cameras", "facilities",
                                   "sensors", "parking"])
def test_geo_bodies_hold_only_the_districts_features(head: FlaskClient, foreign: list[str], layer: str) -> None:
    reply = head.get(f"/geo/{layer}.json")
    assert reply.status_code == 200 and "private" in reply.headers["Cache-Control"]
    body = reply.get_json()
    assert body["features"] and leaks(reply.get_data(as_text=True), foreign) == []
    if layer in ("cameras", "facilities", "sensors", "parking"):
        assert all(f["properties"]["area_id"].startswith(MINE) for f in body["features"])


def _tick(client: FlaskClient, path: str, first_output: str) -> Any:
    """One tick of a shared-render page, as its browser sends it: pattern outputs name the
    components of the page's layout, states carry what the layout holds."""
    layout = page(client, path).get_json()
    dep = spec(client, first_output)
    held = {"ck-tick": 1, "hb-prints": None, "wall-prints": None}   # a screen showing nothing yet

    def value(cid: str) -> Any:
        found = _find(layout, _id(cid))
        return held[cid] if cid in held else (found or {}).get("data", (found or {}).get("value"))
    inputs = [{"id": _id(i["id"]), "property": i["property"],
               "value": {"n": 1, "at": None} if "beat" in i["id"] else value(i["id"])} for i in dep["inputs"]]
    state = [{"id": _id(s["id"]), "property": s["property"], "value": value(s["id"])} for s in dep["state"]]
    outs: list[Any] = []
    for part in dep["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        prop = prop.split("@")[0]
        pattern = _id(cid)
        if isinstance(pattern, dict) and ["ALL"] in pattern.values():
            outs.append([{"id": i, "property": prop} for i in _ids(layout, pattern["type"])])
        else:
            outs.append({"id": pattern, "property": prop})
    body = {"output": dep["output"], "outputs": outs, "inputs": inputs, "state": state, "changedPropIds": []}
    return client.post("/_dash-update-component", json=body)


def _find(layout: Any, component_id: Any) -> Any:
    if isinstance(layout, dict):
        if isinstance(layout.get("props"), dict) and layout["props"].get("id") == component_id:
            return layout["props"]
        return next((f for v in layout.values() if (f := _find(v, component_id)) is not None), None)
    if isinstance(layout, list):
        return next((f for v in layout if (f := _find(v, component_id)) is not None), None)
    return None


def _ids(layout: Any, kind: str) -> list[dict[str, Any]]:
    """The dict ids of type ``kind`` in a layout, in order."""
    out: list[dict[str, Any]] = []
    if isinstance(layout, dict):
        cid = layout.get("props", {}).get("id") if isinstance(layout.get("props"), dict) else None
        if isinstance(cid, dict) and cid.get("type") == kind and cid not in out:
            out.append(cid)
        for v in layout.values():
            out += [i for i in _ids(v, kind) if i not in out]
    elif isinstance(layout, list):
        for v in layout:
            out += [i for i in _ids(v, kind) if i not in out]
    return out


@pytest.mark.parametrize(("path", "first_output"), [("/", "hb-index.children"), ("/cockpit", "ck-gauges.children"),
                                                  ("/wall", '{"part":["ALL"],"type":"wall-panel"}.children')])
def test_a_shared_tick_is_never_another_scopes(head: FlaskClient, foreign: list[str], path: str,
                                               first_output: str) -> None:
    """Viewers ticking together share one render: never across scopes. A city viewer ticks
    first; the head's tick at once after must be the head's own."""
    admin = sign_in(app.server.test_client(), "admin")
    city = _tick(admin, path, first_output)
    mine = _tick(head, path, first_output)
    assert city.status_code == 200, city.get_data(as_text=True)[:300]
    assert mine.status_code == 200, mine.get_data(as_text=True)[:300]
    assert leaks(mine.get_data(as_text=True), foreign) == []
    assert mine.get_json()["response"] != city.get_json()["response"]
