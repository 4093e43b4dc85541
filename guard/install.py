"""Everything :mod:`guard` puts around the app, in one call from ``app.create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

from guard import headers, rate_limit
from guard.body_limit import BodyLimit
from guard.hosts import HostAllowList

if TYPE_CHECKING:
    from dash import Dash

    from citybrain.config import Config


def install(app: Dash, config: Config) -> None:
    """Security headers, rate limits, and around the whole WSGI app (before any app code):
    the Host allow-list, then the body limit. Installing twice on one app does nothing more."""
    if app.server.extensions.get("citybrain_guard"):
        return
    app.server.extensions["citybrain_guard"] = True
    security = config.security
    headers.install(app, security)
    rate_limit.install(app, config)
    server = app.server
    server.wsgi_app = HostAllowList(  # type: ignore[method-assign]
        BodyLimit(server.wsgi_app, security.limits.max_body_bytes), security.allowed_hosts)
    if security.proxy_hops:   # behind the site's proxies: the client, scheme and host they saw
        hops = security.proxy_hops
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
