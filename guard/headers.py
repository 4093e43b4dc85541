"""Security headers on every response: a strict Content-Security-Policy with Dash's script
hashes, framing from the config, no sniffing, a short referrer, HSTS behind HTTPS, and
session cookies that scripts cannot read.

Dash adds inline scripts of its own (the renderer, clientside callbacks; the pages router
adds one at the first request), so the hashes are taken when a page is served, not at
start-up: ``script-src`` never needs ``'unsafe-inline'``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import Flask, Response
from werkzeug.serving import WSGIRequestHandler

if TYPE_CHECKING:
    from dash import Dash

    from citybrain.security import Security

HSTS = "max-age=31536000; includeSubDomains"
REFERRER = "strict-origin-when-cross-origin"


def policy(hashes: list[str], frame_ancestors: list[str], *, dev_bundles: bool = False) -> str:
    """The CSP for a page whose inline scripts hash to ``hashes``; Dash's dev bundles
    evaluate code at run time, so only they get ``'unsafe-eval'``."""
    script = ["'self'", *dict.fromkeys(hashes)] + (["'unsafe-eval'"] if dev_bundles else [])
    directives = {
        "default-src": ["'self'"],
        "script-src": script,
        "style-src": ["'self'", "'unsafe-inline'"],   # the renderer sets inline styles
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": list(frame_ancestors) or ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def frame_options(frame_ancestors: list[str]) -> str | None:
    """X-Frame-Options saying what ``frame-ancestors`` says, for browsers without CSP; none
    when the list names other sites (the old header cannot express that)."""
    ancestors = set(frame_ancestors)
    if not ancestors or ancestors == {"'none'"}:
        return "DENY"
    if ancestors == {"'self'"}:
        return "SAMEORIGIN"
    return None


class SecurityHeaders:
    """The after-request hook that writes the headers; the policy is recomputed when an
    HTML page is served (cheap: a few hashes), reused for every other response."""

    def __init__(self, app: Dash, security: Security) -> None:
        self.app = app
        self.security = security
        self._policy: str | None = None
        self._lock = threading.Lock()
        self.fixed = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": REFERRER,
                      "Cross-Origin-Opener-Policy": "same-origin"}
        xfo = frame_options(security.frame_ancestors)
        if xfo:
            self.fixed["X-Frame-Options"] = xfo
        if security.https:
            self.fixed["Strict-Transport-Security"] = HSTS

    def current_policy(self, *, fresh: bool) -> str:
        """The policy for the app's inline scripts as they are now (``fresh``) or as last seen."""
        with self._lock:
            if fresh or self._policy is None:
                dev = bool(getattr(self.app, "_dev_tools", {}).get("serve_dev_bundles"))
                self._policy = policy(list(self.app.csp_hashes()), self.security.frame_ancestors,
                                      dev_bundles=dev)
            return self._policy

    def __call__(self, response: Response) -> Response:
        html_page = response.mimetype == "text/html"
        response.headers["Content-Security-Policy"] = self.current_policy(fresh=html_page)
        for name, value in self.fixed.items():
            response.headers.setdefault(name, value)
        return response


def secure_cookies(server: Flask, https: bool) -> None:
    """Session (and remember-me) cookies HttpOnly, SameSite=Lax, Secure behind HTTPS; a
    value someone set on purpose is kept (only Flask's defaults are replaced)."""
    config = server.config
    if config.get("SESSION_COOKIE_HTTPONLY") is None:   # Flask's default is already True
        config["SESSION_COOKIE_HTTPONLY"] = True
    if config.get("SESSION_COOKIE_SAMESITE") is None:
        config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if https and not config.get("SESSION_COOKIE_SECURE"):
        config["SESSION_COOKIE_SECURE"] = True
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    config.setdefault("REMEMBER_COOKIE_SECURE", https)


def install(app: Dash, security: Security) -> SecurityHeaders:
    """Write the security headers on every response of ``app`` and secure its cookies."""
    secure_cookies(app.server, security.https)
    headers = SecurityHeaders(app, security)
    app.server.after_request(headers)
    return headers


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's request handler without the ``Server: Werkzeug/x Python/y``
    banner (``app.run(..., request_handler=QuietRequestHandler)``)."""

    def version_string(self) -> str:
        return "cockpit"
