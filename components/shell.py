"""The big-screen top bar every page shares: city, page title, navigation, clock, freshness.

The clock is driven in the browser (a clientside callback in app.py) in the city's
time zone, so it keeps ticking even when the server is slow. The freshness badge of a
live page ages in the browser too (assets/stale.js), on the server's clock, which the
header carries as ``data-server-now``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from dash import dcc, html

from citybrain.i18n import t


def nav_href(path: str, lang: str) -> str:
    """A link to ``path`` that keeps the chosen language."""
    return f"{path}?{urlencode({'lang': lang})}" if lang != "zh" else path


def shell(*, city: str, page_title: str, lang: str, path: str, timezone: str,
          nav: Sequence[tuple[str, str]] = (), freshness: Any = None,
          freshness_id: str = "shell-freshness", lang_href: str | None = None,
          account: tuple[str, str] | None = None) -> html.Header:
    """The top bar; ``nav`` is (path, label) pairs, ``path`` the current page's path;
    ``lang_href`` is this page in the other language (keeping its state), when it has state;
    ``account`` is who is signed in and the CSRF token their sign-out (a POST) carries."""
    links = [dcc.Link(label, href=nav_href(p, lang),
                      className="nav-link active" if p == path else "nav-link") for p, label in nav]
    other = "en" if lang == "zh" else "zh"
    return html.Header([
        html.Div([
            html.Div(city, className="brand-city"),
            html.Div([html.Span(t("app_title", lang)), html.Span("·", className="brand-dot"),
                      html.Span(page_title, className="brand-page")], className="brand-title"),
        ], className="brand"),
        html.Nav(links, className="nav"),
        html.Div([
            html.Div(freshness, id=freshness_id, className="shell-freshness"),
            html.Div([html.Div(id="shell-clock-time", className="clock-time"),
                      html.Div(id="shell-clock-date", className="clock-date")],
                     className="clock", **{"data-tz": timezone, "data-lang": lang}),
            dcc.Link(t("lang_switch", lang),
                     href=lang_href or (nav_href(path, other) if other != "zh" else path),
                     className="lang-switch", id="shell-lang-switch"),
            *([html.Div([html.Span(account[0], className="shell-user", id="shell-user"),
                         html.Form([dcc.Input(type="hidden", name="csrf", value=account[1]),
                                    html.Button(t("sign_out", lang), type="submit", className="sign-out",
                                                id="shell-sign-out")],
                                   action="/logout", method="POST", className="sign-out-form")],
                        className="shell-account")] if account else []),
        ], className="shell-right"),
    ], className="shell", **{"data-server-now": round(time.time() * 1000)})
