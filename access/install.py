"""``install(app, cockpit)``: sign-in (password, one-time link, kiosk URL, OIDC), sessions, the
gate, the audit sink and the admin page's server side on one app."""

from __future__ import annotations

import os
from typing import Any

import dash

from . import admin, audit, bootstrap, login, oidc, sessions, views
from .gate import Gate
from .store import Store


def install(app: dash.Dash, cockpit: Any) -> Gate:
    """Everything of :mod:`access` on ``app``'s server, for ``cockpit``'s config."""
    security = cockpit.config.security
    server = app.server
    store = Store.for_config(security)
    known = sessions.Sessions(store, security, cockpit.config.playlists)
    sessions.install(server, known, security)
    login.register(server, store, known)
    views.CITY["name"] = cockpit.config.city.name_zh
    gate = Gate(app, security)
    server.before_request(gate)
    server.extensions["citybrain_access"] = {"store": store, "sessions": known, "gate": gate}
    audit.install(store)
    oidc.register(server, security, store)   # /login/oidc(/callback) when security.oidc is set
    admin.register(server, store)            # what the /admin page reads and does
    port = os.environ.get("PORT", "8050")
    bootstrap.ensure_admin(store, f"http://127.0.0.1:{port}")
    return gate
