"""Who may use what: the one table of roles, pages, callbacks and routes the gate enforces.

A *grant* names something a request may need: a page package (``"map"`` for ``pages.map``),
or a feature (``"geo"``, ``"export"``, ``"drill-panels"``, ``"health"``, ``"admin"``).
Each role holds a set of grants; a wall signed in with a token holds the grants of the
pages its layouts and playlists show. Every route of the server is classified here, and
every callback resolves to one grant by the module and name of its function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

from citybrain.security import ROLES

PUBLIC = "public"         # anyone, signed in or not
SIGNED_IN = "signed-in"   # anyone signed in, whatever the role
PAGE = "page"             # a page: the grant of the page its path names
CALLBACK = "callback"     # a Dash callback: the grant of the callback its body names
ASSET = "asset"           # a file of assets/: public for the sign-in page's own, else signed in
EVERY = "*"               # the admin's grant: everything the server has
DEFAULT_LAYOUT = "1080p"  # what /wall shows without ?layout=

VIEWER_PAGES = ("heartbeat", "cockpit", "map", "traffic", "safety", "wall")
ANALYST_PAGES = ("explore", "drill")
# what a page needs beyond itself (its data routes, the callbacks it shares with another page)
PAGE_NEEDS: Mapping[str, tuple[str, ...]] = {
    "map": ("geo",), "traffic": ("drill-panels",), "safety": ("drill-panels",),
    "drill": ("drill-panels",), "wall": ("wall-heartbeat",),
}
ROLE_PAGES: Mapping[str, tuple[str, ...]] = {
    "wall": ("wall",),
    "leader": VIEWER_PAGES,
    "operator": VIEWER_PAGES,          # + event actions (the events issue)
    "analyst": VIEWER_PAGES + ANALYST_PAGES,
    "admin": (),
}
ROLE_FEATURES: Mapping[str, tuple[str, ...]] = {"analyst": ("export",), "admin": (EVERY,)}

# a callback's grant: the longest prefix of "<module>.<function>" listed here; else the
# page package of its module (pages.<name>.*); anything else is the admin's alone
CALLBACK_GRANTS: Mapping[str, str] = {
    "pages.drill.view": "drill-panels",            # the drill-down, also on /traffic and /safety
    "pages.drill.view.on_export": "export",        # CSV / Excel of what the drill shows
    "pages.explore.page.on_export": "export",
    "components": SIGNED_IN,                       # shared widgets (the tick)
}
PAGES_CALLBACK = ("dash.dash", "update")   # Dash's page router: the grant of the page it renders

# every route of the server by its rule; the url-map test fails on a route missing here
ROUTES: Mapping[str, str] = {
    "/login": PUBLIC, "/login/once/<token>": PUBLIC, "/logout": PUBLIC,
    "/kiosk/<token>": PUBLIC, "/health": PUBLIC, "/_favicon.ico": PUBLIC,
    "/assets/<path:filename>": ASSET,
    "/static/<path:filename>": SIGNED_IN,
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": SIGNED_IN,
    "/_dash-layout": SIGNED_IN, "/_dash-dependencies": SIGNED_IN, "/_reload-hash": SIGNED_IN,
    "/": PAGE, "/<path:path>": PAGE,
    "/_dash-update-component": CALLBACK,
    "/geo/<name>.json": "geo",
    "/wall/heartbeat": "wall-heartbeat",
}
# routes added by the sign-in through the identity provider, the admin pages, /health's details
ROUTE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("/login/", PUBLIC), ("/admin", "admin"), ("/health/", "health"),
)
LOGIN_ASSETS = frozenset({"access.css"})   # what the sign-in page loads before anyone signs in


def grants_of(roles: Iterable[str], pages: Iterable[str] | None = None) -> frozenset[str]:
    """The grants of ``roles``; ``pages`` (a wall token's pages) replaces the role's pages."""
    roles = frozenset(roles)
    shown = set(pages) if pages is not None else {p for r in roles for p in ROLE_PAGES.get(r, ())}
    found = {SIGNED_IN, *shown}
    for page in shown:
        found.update(PAGE_NEEDS.get(page, ()))
    for role in roles:
        found.update(ROLE_FEATURES.get(role, ()))
    if "admin" in roles:
        found.update(("admin", "health"))
    return frozenset(found)


def allows(grants: frozenset[str], need: str) -> bool:
    return need == PUBLIC or EVERY in grants or need in grants


def route_need(rule: str | None) -> str:
    """What a route needs (see :data:`ROUTES`); a route nobody classified is the admin's."""
    if rule is None:
        return SIGNED_IN            # no such route: a 404 for the signed in, nothing for others
    if rule in ROUTES:
        return ROUTES[rule]
    for prefix, need in ROUTE_PREFIXES:
        if rule.startswith(prefix):
            return need
    return "admin"


def callback_grant(module: str, name: str) -> str:
    """The grant a server callback needs, by the module and name of its function."""
    qualified = f"{module}.{name}"
    best = ""
    for prefix in CALLBACK_GRANTS:
        if (qualified == prefix or qualified.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    if best:
        return CALLBACK_GRANTS[best]
    parts = module.split(".")
    if parts[0] == "pages" and len(parts) > 1:
        return parts[1]
    return "admin"


def page_grant(module: str | None) -> str:
    """The grant of a page by the module that registered it (``None``: no such page)."""
    if module is None:
        return SIGNED_IN            # Dash's "page not found"
    parts = module.split(".")
    return parts[1] if parts[0] == "pages" and len(parts) > 1 else "admin"


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """``/wall?layout=4k`` -> ("/wall", {"layout": "4k"}) (the first of a repeated key)."""
    parts = urlsplit(url)
    return parts.path or "/", {k: v[0] for k, v in parse_qs(parts.query).items()}


def wall_screens(layouts: Iterable[str], playlists: Iterable[str],
                 config_playlists: Mapping[str, Iterable[object]]) -> tuple[frozenset[str], frozenset[str]]:
    """A wall token's screens: the wall layouts it may show (its own and those its playlists
    rotate through) and the paths of the other pages its playlists show."""
    shown, paths = set(layouts), set()
    for name in playlists:
        for item in config_playlists.get(name, ()):
            path, args = split_url(str(getattr(item, "url", item)))
            if path == "/wall":
                shown.add(args.get("layout", DEFAULT_LAYOUT))
            else:
                paths.add(path)
    return frozenset(shown), frozenset(paths)


def wall_page_allowed(args: Mapping[str, str], layouts: frozenset[str], playlists: frozenset[str]) -> bool:
    """Whether a token of ``layouts`` / ``playlists`` may open /wall with these parameters."""
    if "playlist" in args:
        return args["playlist"] in playlists
    return (args.get("layout") or DEFAULT_LAYOUT) in layouts


assert set(ROLE_PAGES) == set(ROLES), "every role has its row in the policy"
