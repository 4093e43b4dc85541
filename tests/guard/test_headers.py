"""Security headers on pages, callbacks and assets: a CSP whose script hashes cover every
inline script the page has (and nothing else inline), framing from the config, no sniffing,
a short referrer, HSTS and Secure cookies only behind HTTPS, no version banner."""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import threading

import pytest
from dash import Dash, Input, Output, html
from flask import session

from citybrain.security import Security
from guard import QuietRequestHandler, headers

CALLBACK = {"output": "out.children", "outputs": {"id": "out", "property": "children"},
            "inputs": [{"id": "in", "property": "children", "value": "x"}],
            "changedPropIds": ["in.children"], "state": []}


def inline_script_hashes(page: str) -> set[str]:
    """The CSP hash of every inline script the browser would run on ``page``."""
    found = set()
    page = re.sub(r"<!--.*?-->", "", page, flags=re.S)   # (Dash's IE notice sits in a comment)
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S):
        if "src=" in attrs or "application/json" in attrs:
            continue
        found.add("'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'")
    return found


def directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split("; ")}


def small_app(security: Security, **dash_kw: object) -> Dash:
    """A Dash app with a server callback and a clientside callback (an inline script)."""
    app = Dash(__name__, **dash_kw)  # type: ignore[arg-type]
    app.layout = html.Div([html.Div("x", id="in"), html.Div(id="out"), html.Div(id="echo")])
    app.callback(Output("out", "children"), Input("in", "children"))(lambda v: v)
    app.clientside_callback("function(v) { return v + '!'; }", Output("echo", "children"),
                            Input("in", "children"))

    @app.server.get("/sign")
    def sign() -> str:
        session["who"] = "someone"
        return "ok"

    headers.install(app, security)
    return app


def test_the_csp_hashes_every_inline_script_of_the_page_and_allows_no_other() -> None:
    client = small_app(Security()).server.test_client()
    reply = client.get("/")
    page = reply.get_data(as_text=True)
    policy = directives(reply.headers["Content-Security-Policy"])
    inline = inline_script_hashes(page)
    assert len(inline) >= 2 and "return v + '!'" in page   # the renderer and the clientside callback
    assert inline <= set(policy["script-src"])
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'self'"] and policy["connect-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"] and policy["form-action"] == ["'self'"]


def test_pages_callbacks_and_assets_all_carry_the_headers() -> None:
    app = small_app(Security())
    client = app.server.test_client()
    page = client.get("/").get_data(as_text=True)
    script = re.search(r'src="(/_dash-component-suites/[^"]+\.js)', page).group(1)  # type: ignore[union-attr]
    replies = {"page": client.get("/"), "callback": client.post("/_dash-update-component", json=CALLBACK),
               "asset": client.get(script), "layout": client.get("/_dash-layout"),
               "missing": client.get("/no/such/file.js")}
    assert replies["callback"].status_code == 200 and replies["asset"].status_code == 200
    for what, reply in replies.items():
        assert reply.headers["X-Content-Type-Options"] == "nosniff", what
        assert reply.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", what
        assert reply.headers["X-Frame-Options"] == "SAMEORIGIN", what
        assert "script-src 'self'" in reply.headers["Content-Security-Policy"], what
        assert "Strict-Transport-Security" not in reply.headers, what
        assert not any(re.search(r"\d+\.\d+", v) for k, v in reply.headers.items()
                       if k.lower() in ("server", "x-powered-by")), what


@pytest.mark.parametrize(("ancestors", "xfo"), [
    (["'none'"], "DENY"), (["'self'"], "SAMEORIGIN"), (["'self'", "https://ops.example.org"], None)])
def test_framing_follows_the_config(ancestors: list[str], xfo: str | None) -> None:
    reply = small_app(Security(frame_ancestors=ancestors)).server.test_client().get("/")
    assert directives(reply.headers["Content-Security-Policy"])["frame-ancestors"] == ancestors
    assert reply.headers.get("X-Frame-Options") == xfo


def test_dev_bundles_alone_get_unsafe_eval() -> None:
    app = small_app(Security())
    app.enable_dev_tools(debug=False, dev_tools_serve_dev_bundles=True)
    policy = directives(app.server.test_client().get("/").headers["Content-Security-Policy"])
    assert "'unsafe-eval'" in policy["script-src"] and "'unsafe-inline'" not in policy["script-src"]


@pytest.mark.parametrize("https", [False, True])
def test_cookies_and_hsts_follow_https(https: bool) -> None:
    app = small_app(Security(https=https))
    app.server.secret_key = "test"
    reply = app.server.test_client().get("/sign")
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is https
    assert ("Strict-Transport-Security" in reply.headers) is https


def test_a_cookie_setting_made_on_purpose_is_kept() -> None:
    app = Dash(__name__)
    app.server.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    headers.secure_cookies(app.server, https=False)
    assert app.server.config["SESSION_COOKIE_SAMESITE"] == "Strict"


def test_the_development_server_names_no_version() -> None:
    from werkzeug.serving import make_server

    app = small_app(Security())
    httpd = make_server("127.0.0.1", 0, app.server, request_handler=QuietRequestHandler)
    threading.Thread(target=httpd.handle_request, daemon=True).start()
    conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port, timeout=10)
    conn.request("GET", "/_dash-layout")
    reply = conn.getresponse()
    httpd.server_close()
    assert reply.status == 200 and reply.getheader("Server") == "cockpit"


def test_the_cockpits_own_pages_have_every_inline_script_hashed() -> None:
    import app as cockpit
    from tests.access.helpers import sign_in

    client = sign_in(cockpit.server.test_client())
    for path in ("/", "/explore", "/wall", "/login"):
        reply = client.get(path, follow_redirects=True)
        policy = directives(reply.headers["Content-Security-Policy"])
        assert inline_script_hashes(reply.get_data(as_text=True)) <= set(policy["script-src"]), path
        assert "'unsafe-inline'" not in policy["script-src"], path
