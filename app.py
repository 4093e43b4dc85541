"""City Brain Cockpit (城市大脑驾驶舱): the Dash app and its WSGI ``server``.

    python app.py                      # serves on 127.0.0.1:8050 (HOST / PORT override)
    gunicorn app:server -w 2 --threads 4 -b 127.0.0.1:8050

The config comes from ``CITYBRAIN_CONFIG`` (default: config/default.yaml); a wrong
config refuses to start with a message naming the file, key, expectation and finding.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import dash
from dash import Dash, html
from flask import jsonify, request

from access import gate as access_gate
from access.install import install as install_access
from access.store import database_url
from citybrain.config import Config, ConfigError
from datasources.registry import load_checked
from guard import QuietRequestHandler, callback_inputs, callback_log
from guard import install as install_guard
from pages.map.model import OPENING_GEOMETRY, has_layer
from service import geo_routes, runtime, walls
from service.health import respond as health_answer

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("citybrain")


def create_app(config: Config | None = None) -> Dash:
    """The cockpit app for ``config`` (default: the checked config file, see
    :func:`datasources.registry.load_checked`)."""
    cockpit = runtime.build(config or load_checked())
    runtime.install(cockpit)
    city = cockpit.config.city
    app = Dash(
        __name__, use_pages=True, pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"), title=f"{city.name_zh} · 城市大脑驾驶舱",
        update_title=None, suppress_callback_exceptions=True, serve_locally=True,
        on_error=_on_callback_error,
    )
    app.layout = html.Div(dash.page_container, className="app-root")
    server = app.server

    geo_routes.register(server)
    walls.register(server, walls.registry_for(   # shared by the workers: the cache's Redis, else SQL
        cockpit.data.redis, cockpit.config.security.limits, sql_url=database_url(cockpit.config.security),
        key=f"{cockpit.config.cache.key_prefix}walls"))

    @server.route("/health")
    def health():  # type: ignore[no-untyped-def]
        body, code = health_answer(server, request)   # status for anyone, details for admins
        return jsonify(body), code

    install_access(app, cockpit)   # sign-in, roles, wall tokens: one gate before every request
    install_guard(app, cockpit.config)   # headers, Host allow-list, body and rate limits
    callback_inputs.install(app)   # callback bodies: JSON, size, shape, declared types (400)
    return app


def _on_callback_error(err: Exception) -> None:
    """Anything a callback did not handle: logged (deduplicated, capped), never a traceback on a wall."""
    callback_log.failed(err)


def _app_or_exit() -> Dash:
    try:
        return create_app()
    except ConfigError as exc:
        sys.stderr.write(f"City Brain Cockpit refuses to start: the config is wrong.\n{exc}\n")
        raise SystemExit(2) from None


logging.basicConfig(level=os.environ.get("CITYBRAIN_LOG_LEVEL", "INFO"),
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = _app_or_exit()
server = app.server
# Dash builds its callback map on the first request; build it now, so the first concurrent
# requests of a fresh gunicorn worker never see "Callback function not found"; and read the
# map's opening geometry, so the first screens after a restart find it ready (only the layers
# this site's stores have: a platform without roads is not a warning). Both through the app
# in this thread, which the sign-in gate trusts.
with access_gate.trusted():
    server.test_client().get("/_dash-dependencies")
    geo_routes.warm(server, [name for name in OPENING_GEOMETRY if has_layer(runtime.current(), name)])

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8050")),
            debug=False, request_handler=QuietRequestHandler)   # no version banner either
