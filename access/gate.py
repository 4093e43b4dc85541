"""The one check every request passes: signed in, and holding the grant its route,
page or callback needs (:mod:`access.policy`). What it lets through carries the
requester's :class:`service.scope.Scope`; what it refuses gets nothing of the data.

- anonymous page GET: 302 to ``/login?next=…`` (a revoked wall: a page saying so)
- anonymous callback or data route: 401 ``{"error": "signed_out" | "revoked"}``
- signed in without the grant: 403 (``{"error": "forbidden"}`` or a page saying so)
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dash
from dash._callback import GLOBAL_CALLBACK_MAP
from flask import Response, g, jsonify, redirect, request, url_for
from flask_login import current_user

from citybrain.security import Security
from service import scope as scopes

from . import policy
from .login import csrf_token
from .sessions import Principal
from .views import message_page

_trusted = threading.local()


@contextmanager
def trusted() -> Iterator[None]:
    """Requests this thread makes to the app in-process (start-up warm-ups through a test
    client) pass as the system; requests served by other threads are unaffected."""
    before = getattr(_trusted, "on", False)
    _trusted.on = True
    try:
        yield
    finally:
        _trusted.on = before


class Gate:
    """The ``before_request`` check of one Dash app."""

    def __init__(self, app: dash.Dash, security: Security) -> None:
        self.app, self.security = app, security
        self.enabled = True            # off only in the benchmark that measures what it costs
        self._callbacks: dict[str, tuple[str, str] | None] = {}
        self._pages: dict[str, str] | None = None

    def __call__(self) -> Response | None:
        if not self.enabled or getattr(_trusted, "on", False):
            scopes.set_for_request(scopes.EVERYTHING)
            return None
        rule = request.url_rule.rule if request.url_rule is not None else None
        need = policy.route_need(rule)
        if need == policy.ASSET:
            if (request.view_args or {}).get("filename") in policy.LOGIN_ASSETS:
                return None
            need = policy.SIGNED_IN
        who: Any = current_user   # the session's principal; anonymous while the access database is down
        signed_in = isinstance(who, Principal)
        if need == policy.PUBLIC:
            if signed_in:
                self._mark(who)
            return None
        if need == "health" and self._health_token():
            scopes.set_for_request(scopes.Scope("health-token"))
            return None
        if not signed_in:
            return self._anonymous(need)
        if need == policy.CALLBACK:
            allowed = self._callback_allowed(who)
        elif need == policy.PAGE:
            allowed = self.page_allowed(who, request.path, request.args.to_dict())
        else:
            allowed = policy.allows(who.grants, need)
        if not allowed:
            return self._forbidden(need)
        self._mark(who)
        return None

    # ---- pages and callbacks -----------------------------------------------------------
    def page_allowed(self, who: Principal, path: str, args: dict[str, str]) -> bool:
        """Whether ``who`` may open the page at ``path`` with these query parameters."""
        if self._pages is None:
            self._pages = {str(p.get("path")): str(m) for m, p in dash.page_registry.items()}
        grant = policy.page_grant(self._pages.get(path))
        if not policy.allows(who.grants, grant):
            return False
        if who.wall_id is None or grant == policy.SIGNED_IN:
            return True
        if grant == "wall":
            return policy.wall_page_allowed(args, who.layouts or frozenset(), who.playlists or frozenset())
        return path in who.paths

    def _callback_allowed(self, who: Principal) -> bool:
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        found = self._callback(output) if isinstance(output, str) else None
        if found is None:
            return False
        module, name = found
        if (module, name) == policy.PAGES_CALLBACK:
            values = {(i.get("id"), i.get("property")): i.get("value")
                      for i in body.get("inputs", []) if isinstance(i, dict)}
            path, search = values.get(("_pages_location", "pathname")), values.get(("_pages_location", "search"))
            if not isinstance(path, str) or not isinstance(search, str | None):
                return False
            return self.page_allowed(who, path, policy.split_url(f"{path}{search or ''}")[1])
        return policy.allows(who.grants, policy.callback_grant(module, name))

    def _callback(self, output: str) -> tuple[str, str] | None:
        """The module and name of the function serving the callback of ``output``."""
        if output in self._callbacks:
            return self._callbacks[output]
        entry = self.app.callback_map.get(output) or GLOBAL_CALLBACK_MAP.get(output)
        function = entry.get("callback") if isinstance(entry, dict) else None
        if function is None:
            return None                              # unknown, or a clientside callback
        function = getattr(function, "__wrapped__", function)
        found = (str(function.__module__), str(function.__name__))
        self._callbacks[output] = found
        return found

    # ---- answers -----------------------------------------------------------------------
    def _mark(self, who: Principal) -> None:
        shown = (who.layouts or frozenset()) | (who.playlists or frozenset()) if who.wall_id is not None else None
        scopes.set_for_request(scopes.Scope(
            who.who, who.roles, who.areas, bool(who.roles & set(self.security.personal_roles)), shown,
            grants=who.grants, extra={"csrf": csrf_token()}))   # the top bar's sign-out form carries it

    def _health_token(self) -> bool:
        expected = os.environ.get(self.security.health_token_env, "")
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())

    def _anonymous(self, need: str) -> Response:
        reason = g.get("access_reason", "signed_out")
        if reason == "unavailable":   # the access database does not answer: say so, never a 500
            return self._unavailable(need)
        if need == policy.PAGE and request.method == "GET":
            if reason == "revoked":
                return message_page("revoked", 401)
            return redirect(url_for("access_login", next=request.full_path.rstrip("?")))
        return _json(reason, 401)

    def _unavailable(self, need: str) -> Response:
        if need == policy.PAGE and request.method == "GET":
            return message_page("unavailable", 503)
        return _json("unavailable", 503)

    def _forbidden(self, need: str) -> Response:
        if need == policy.PAGE and request.method == "GET":
            return message_page("forbidden", 403)
        return _json("forbidden", 403)


def _json(error: str, status: int) -> Response:
    reply = jsonify({"error": error})
    reply.status_code = status
    reply.headers["Cache-Control"] = "no-store"
    return reply
