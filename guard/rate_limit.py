"""Rate limits per client on what costs the server most: wall heartbeats, and the callbacks
that read long spans or build exports (the explorer's and the drill-down's).

Counts live in Redis (``security.limits.storage_url``, else the cache's Redis) so every
worker shares them; without Redis, in the process. When that Redis fails, the limiter falls
back to counting in the process instead of failing the request. A client over its limit
gets 429 with a JSON body and ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dash
from flask import Flask, Response, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

if TYPE_CHECKING:
    from citybrain.config import Config

HEARTBEAT_PATH = "/wall/heartbeat"
# callbacks (by the module of their function) and pages (by the module that registered them)
# whose reads a client sizes: a span, an area list, an export
EXPENSIVE_MODULES = ("pages.explore", "pages.drill", "pages.traffic", "pages.safety")
ROUTER_INPUT = ("_pages_location", "pathname")
STORE_TIMEOUT_SECONDS = 1.0


def storage_url(config: Config) -> str:
    """Where the counts live: the configured URL, else the cache's Redis, else the process."""
    limits = config.security.limits
    if limits.storage_url:
        return limits.storage_url
    if config.cache.backend == "redis" and config.cache.redis_url:
        return config.cache.redis_url
    return "memory://"


def _module_is_expensive(module: str | None) -> bool:
    return bool(module) and any(module == m or module.startswith(m + ".") for m in EXPENSIVE_MODULES)


class ExpensiveCallbacks:
    """Which Dash callback requests count against ``expensive_queries``: a callback of an
    expensive page module (but not its timer refresh, which the server's tick paces and
    which reads what every screen reads), and the pages router drawing an expensive page."""

    def __init__(self, app: dash.Dash) -> None:
        self.app = app

    def __call__(self) -> bool:
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        entry = self.app.callback_map.get(output) if isinstance(output, str) else None
        if entry is None:
            return False
        inputs = entry.get("inputs") or []
        if any((i.get("id"), i.get("property")) == ROUTER_INPUT for i in inputs):
            return _module_is_expensive(self._page_module(body))
        if inputs and all(i.get("property") == "n_intervals" for i in inputs):
            return False
        return _module_is_expensive(getattr(entry.get("callback"), "__module__", None))

    def _page_module(self, body: dict[str, Any]) -> str | None:
        """The module of the page the router is asked to draw."""
        pathname = next((i.get("value") for i in body.get("inputs") or []
                         if isinstance(i, dict) and (i.get("id"), i.get("property")) == ROUTER_INPUT), None)
        if not isinstance(pathname, str):
            return None
        wanted = pathname.rstrip("/") or "/"
        for page in dash.page_registry.values():
            if (page.get("relative_path", "").rstrip("/") or "/") == wanted:
                return str(page.get("module"))
        return None


def too_many(err: RateLimitExceeded) -> tuple[Response, int]:
    """429 as JSON, saying which limit."""
    return jsonify(error="too many requests", limit=str(err.description)), 429


def make_limiter(server: Flask, config: Config) -> Limiter:
    """The Flask-Limiter of ``server``: shared storage, in-process fallback, no default limits."""
    url = storage_url(config)
    options: dict[str, Any] = {}
    if url.startswith(("redis://", "rediss://", "unix://")):
        options = {"socket_timeout": STORE_TIMEOUT_SECONDS, "socket_connect_timeout": STORE_TIMEOUT_SECONDS}
    return Limiter(get_remote_address, app=server, storage_uri=url, storage_options=options,
                   in_memory_fallback_enabled=True, key_prefix=f"{config.cache.key_prefix}limits",
                   headers_enabled=True, default_limits=[])


def _limit_route(server: Flask, path: str, decorate: Callable[[Any], Any]) -> bool:
    """Wrap the view serving ``path`` (POST) with ``decorate``; False when there is none."""
    for rule in server.url_map.iter_rules():
        if rule.rule == path:
            server.view_functions[rule.endpoint] = decorate(server.view_functions[rule.endpoint])
            return True
    return False


def install(app: dash.Dash, config: Config) -> Limiter:
    """Limit wall heartbeats and expensive callbacks per client on ``app``'s server."""
    server = app.server
    limits = config.security.limits
    limiter = make_limiter(server, config)
    server.register_error_handler(RateLimitExceeded, too_many)
    _limit_route(server, HEARTBEAT_PATH, limiter.limit(limits.wall_heartbeats, scope="wall-heartbeat"))
    expensive = ExpensiveCallbacks(app)
    _limit_route(server, f"{app.config.routes_pathname_prefix}_dash-update-component",
                 limiter.limit(limits.expensive_queries, scope="expensive-queries",
                               exempt_when=lambda: not expensive()))
    return limiter
