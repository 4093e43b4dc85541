"""Every role (and nobody, and a wall token) against every callback and every route of the real
app. The expectations are written out here, independently of access/policy.py; a callback or
route that nobody listed fails the test. The views are stubbed (299), so "allowed" means the
gate let the request reach its view; refusals must carry no data at all."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from citybrain.security import ROLES

VIEW = {"leader", "analyst", "operator", "admin"}
ANALYSE = {"analyst", "admin"}
WALL = "wall-token"                  # a wall signed in by a token for layout 1080p
WALL_TOUR = "wall-token-playlist"    # a wall signed in by a token for the playlist "default"
WHO = (None, *ROLES, WALL, WALL_TOUR)
REACHED = 299

# every server callback, by the module and name of its function -> who may call it
CALLBACKS: dict[str, set[str]] = {
    "pages.heartbeat.page.refresh_heartbeat": VIEW,
    "pages.cockpit.page.refresh_cockpit": VIEW,
    "pages.cockpit.page.refresh_ranking": VIEW,
    "pages.cockpit.page.on_sort": VIEW,
    "pages.map.page.refresh_map": VIEW | {WALL_TOUR},
    "pages.map.page.on_area_click": VIEW | {WALL_TOUR},
    "pages.map.page.on_event_click": VIEW | {WALL_TOUR},
    "pages.map.page.on_drill": VIEW | {WALL_TOUR},
    "pages.drill.view.refresh": VIEW,            # the drill-down panels of /traffic, /safety, /drill
    "pages.drill.view.on_area_click": VIEW,
    "pages.drill.view.on_time_click": VIEW,
    "pages.drill.view.on_export": ANALYSE,
    "pages.explore.page.on_query": ANALYSE,
    "pages.explore.page.on_export": ANALYSE,
    "pages.wall.page.refresh_wall": VIEW | {"wall", WALL, WALL_TOUR},
}
ADMIN_PAGES = "pages.admin."         # the admin pages: admin only, whatever their callbacks

# every page path (with its query) -> who may open it (the page GET and Dash's page router)
PAGES: dict[str, set[str]] = {
    "/": VIEW, "/cockpit": VIEW, "/traffic": VIEW, "/safety": VIEW,
    "/map": VIEW | {WALL_TOUR}, "/map?layers=areas,roads,events&kiosk=1": VIEW | {WALL_TOUR},
    "/explore": ANALYSE, "/drill": ANALYSE,
    "/wall": VIEW | {"wall", WALL, WALL_TOUR},                 # the default layout is 1080p
    "/wall?layout=1080p": VIEW | {"wall", WALL, WALL_TOUR},
    "/wall?layout=4k": VIEW | {"wall"},
    "/wall?playlist=default": VIEW | {"wall", WALL_TOUR},
    "/no-such-page": VIEW | {"wall", WALL, WALL_TOUR},         # Dash's "not found"
}
SIGNED_IN = VIEW | {"wall", WALL, WALL_TOUR}
# every route rule of the server -> (a URL of it, its method, who may use it; None: anyone)
ROUTES: dict[str, tuple[str, str, set[str] | None]] = {
    "/login": ("/login", "GET", None),
    "/login/once/<token>": ("/login/once/x", "GET", None),
    "/logout": ("/logout", "GET", None),
    "/kiosk/<token>": ("/kiosk/x", "GET", None),
    "/health": ("/health", "GET", None),
    "/_favicon.ico": ("/_favicon.ico", "GET", None),
    "/assets/<path:filename>": ("/assets/cockpit.css", "GET", SIGNED_IN),
    "/static/<path:filename>": ("/static/x.css", "GET", SIGNED_IN),
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>":
        ("/_dash-component-suites/dash/dcc/dash_core_components.js", "GET", SIGNED_IN),
    "/_dash-layout": ("/_dash-layout", "GET", SIGNED_IN),
    "/_dash-dependencies": ("/_dash-dependencies", "GET", SIGNED_IN),
    "/_reload-hash": ("/_reload-hash", "GET", SIGNED_IN),
    "/geo/<name>.json": ("/geo/roads.json", "POST", VIEW | {WALL_TOUR}),
    "/wall/heartbeat": ("/wall/heartbeat", "POST", VIEW | {"wall", WALL, WALL_TOUR}),
    "/": ("/", "GET", VIEW),
    "/<path:path>": ("/cockpit", "GET", VIEW),
    "/_dash-update-component": ("/_dash-update-component", "POST", set()),   # by callback, below
}
PUBLIC_ASSETS = {"/assets/access.css"}


@pytest.fixture
def everyone(client_as: Any, wall_client: Any, server: Any, monkeypatch: pytest.MonkeyPatch) -> dict[Any, Any]:
    """A client per principal, then every view of the server stubbed to answer 299 (and the
    request checks after the gate left out: body shapes and rates are tested on their own)."""
    clients = {who: client_as(who) for who in (None, *ROLES)}
    clients[WALL] = wall_client(layouts=("1080p",))
    clients[WALL_TOUR] = wall_client(layouts=(), playlists=("default",))
    gate = server.extensions["citybrain_access"]["gate"]
    monkeypatch.setitem(server.before_request_funcs, None, [
        check for check in server.before_request_funcs[None]
        if check is gate or getattr(check, "__module__", "").startswith("dash.")])
    for endpoint in list(server.view_functions):
        monkeypatch.setitem(server.view_functions, endpoint, lambda **_: ("reached", REACHED))
    return clients


def _qualified(entry: dict[str, Any]) -> str:
    function = entry["callback"]
    function = getattr(function, "__wrapped__", function)
    return f"{function.__module__}.{function.__name__}"


def _check_refusal(reply: Any, who: Any, what: str) -> None:
    expected = 401 if who is None else 403
    assert reply.status_code == expected, f"{who} on {what}: {reply.status_code}, expected {expected}"
    if reply.mimetype == "application/json":
        assert reply.get_json() == {"error": "signed_out" if who is None else "forbidden"}, what
    else:   # a page: the sign-in redirect or the short "denied" page, nothing of the cockpit
        assert b"hb-" not in reply.data and b"_dash" not in reply.data, what


def test_every_server_callback_is_in_the_table(cockpit: Any) -> None:
    served = {_qualified(e) for e in cockpit.callback_map.values() if e.get("callback")}
    served -= {"dash.dash.update"}   # Dash's page router: checked by page, below
    listed = {q for q in served if not q.startswith(ADMIN_PAGES)}
    assert listed == set(CALLBACKS), f"callbacks without an expectation: {listed ^ set(CALLBACKS)}"


def test_every_role_against_every_callback(cockpit: Any, everyone: dict[Any, Any]) -> None:
    deps = everyone["admin"].get("/_dash-dependencies")
    assert deps.status_code == REACHED   # stubbed: the outputs come from the callback map
    for output, entry in cockpit.callback_map.items():
        if not entry.get("callback") or _qualified(entry) == "dash.dash.update":
            continue
        name = _qualified(entry)
        allowed = {"admin"} if name.startswith(ADMIN_PAGES) else CALLBACKS[name]
        body = {"output": output, "outputs": [], "inputs": [], "state": [], "changedPropIds": []}
        for who, client in everyone.items():
            reply = client.post("/_dash-update-component", json=body)
            if who in allowed or who == "admin":
                assert reply.status_code == REACHED, f"{who} refused {name}: {reply.status_code}"
            elif who in (WALL, WALL_TOUR) or who is None or who in ROLES:
                _check_refusal(reply, who, name)


def test_an_unknown_or_clientside_callback_is_refused_to_everyone(cockpit: Any, everyone: dict[Any, Any]) -> None:
    clientside = next(k for k, e in cockpit.callback_map.items() if not e.get("callback"))
    for output in ("no-such.children", clientside, None, ["a"]):
        for who, client in everyone.items():
            reply = client.post("/_dash-update-component", json={"output": output})
            _check_refusal(reply, who, str(output))
    assert everyone["admin"].post("/_dash-update-component", data="not json").status_code == 403


def _router_body(cockpit: Any, url: str) -> dict[str, Any]:
    output = next(k for k, e in cockpit.callback_map.items()
                  if e.get("callback") and _qualified(e) == "dash.dash.update")
    path, _, query = url.partition("?")
    return {"output": output, "outputs": [], "changedPropIds": ["_pages_location.pathname"], "state": [],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": f"?{query}" if query else ""}]}


def test_every_role_against_every_page_and_the_page_router(cockpit: Any, everyone: dict[Any, Any]) -> None:
    for url, allowed in PAGES.items():
        for who, client in everyone.items():
            page = client.get(url)
            routed = client.post("/_dash-update-component", json=_router_body(cockpit, url))
            if who in allowed or who == "admin":
                assert page.status_code == REACHED, f"{who} refused {url}: {page.status_code}"
                assert routed.status_code == REACHED, f"{who} refused the router to {url}"
            elif who is None:
                target = urlsplit(page.headers["Location"])
                assert page.status_code == 302 and target.path == "/login"
                assert parse_qs(target.query)["next"] == [url]
                _check_refusal(routed, who, url)
            else:
                _check_refusal(page, who, url)
                _check_refusal(routed, who, url)


def test_every_route_is_classified_and_checked(server: Any, everyone: dict[Any, Any]) -> None:
    rules = {r.rule for r in server.url_map.iter_rules()}
    unknown = rules - set(ROUTES)
    for rule in unknown:   # routes added by other parts of the access package
        assert rule.startswith(("/admin", "/login/", "/health/")), f"route {rule} has no expectation here"
    for rule, (url, method, allowed) in ROUTES.items():
        if rule not in rules or rule == "/_dash-update-component":
            continue
        for who, client in everyone.items():
            reply = client.open(url, method="GET" if rule == "/geo/<name>.json" else method)
            if allowed is None or who in allowed or (who == "admin" and allowed):
                assert reply.status_code == REACHED, f"{who} refused {url}: {reply.status_code}"
            elif who is None and rule in ("/", "/<path:path>"):
                assert reply.status_code == 302
            else:
                _check_refusal(reply, who, url)
    for asset in PUBLIC_ASSETS:
        assert everyone[None].get(asset).status_code == REACHED


def test_refusals_carry_no_data(client_as: Any) -> None:
    """Unstubbed: what a refused request gets back is the short answer, nothing of the view."""
    nobody, wall_role = client_as(None), client_as("leader")
    for url in ("/_dash-layout", "/_dash-dependencies", "/geo/roads.json", "/geo/cameras.json"):
        reply = nobody.get(url)
        assert reply.status_code == 401 and json.loads(reply.data) == {"error": "signed_out"}
    reply = wall_role.get("/explore")
    assert reply.status_code == 403 and b"_dash-config" not in reply.data and "无权访问" in reply.get_data(as_text=True)
