"""系统管理 — the admin page: users with their roles and areas, wall tokens (revoke), the
platform check, and the audit trail (filter, page through, export as CSV).

Only the ``admin`` role reaches it: the sign-in gate checks the page and each callback
here, and the server side (:mod:`pages.admin.model`'s backend) checks again. Revoking a
token, running the check and exporting the trail are themselves audited.
"""

from __future__ import annotations

import time
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from citybrain.i18n import valid_lang
from components.panels import panel
from pages.admin import view
from pages.admin.model import PAGE_SIZE, PATH, AdminBackend, backend, page_number, text_filter, tr
from pages.common import top_bar

dash.register_page(__name__, path=PATH, name="系统管理", title="系统管理 · Administration", order=90)


def layout(lang: str | None = None, **_params: Any) -> html.Div:
    """The page with the first page of the trail; a server without the admin side says so."""
    lang = valid_lang(lang)
    admin = backend()
    head = top_bar(lang, PATH, tr("title", lang))
    if admin is None:
        return html.Div([head, html.Main(tr("unavailable", lang), className="admin-main")],
                        className="page page-admin")
    rows, page, total = admin.audit_page(action=None, actor=None, page=0, size=PAGE_SIZE)
    return html.Div([
        head,
        dcc.Store(id="admin-lang", data=lang),
        dcc.Store(id="admin-trail-page", data=page),
        dcc.Store(id="admin-check-done"), dcc.Store(id="admin-export-done"), dcc.Store(id="admin-revoke-done"),
        html.Main([
            panel(tr("users", lang), view.users_table(lang, admin.users()), class_name="admin-users"),
            panel(tr("tokens", lang), html.Div(view.tokens_table(lang, admin.tokens()), id="admin-tokens"),
                  html.Div(id="admin-revoke-msg", className="admin-msg"), class_name="admin-tokens"),
            panel(tr("check", lang),
                  html.Div([html.Button(tr("run_check", lang), id="admin-run-check", className="btn", n_clicks=0),
                            html.Span(tr("check_hint", lang), className="muted")], className="admin-toolbar"),
                  dcc.Loading(html.Div(id="admin-check-report")), class_name="admin-check"),
            panel(tr("trail", lang), _trail_toolbar(lang, admin),
                  html.Div(view.trail_table(lang, rows), id="admin-trail"),
                  class_name="admin-trail", badge=html.Span(_label(lang, page, total), id="admin-trail-label")),
        ], className="admin-main"),
    ], className="page page-admin")


def _trail_toolbar(lang: str, admin: AdminBackend) -> html.Div:
    return html.Div([
        dcc.Dropdown(id="admin-audit-action", options=_action_options(admin), placeholder=tr("all_actions", lang),
                     clearable=True, className="admin-action-filter"),
        dcc.Input(id="admin-audit-actor", type="text", debounce=True, placeholder=tr("actor_filter", lang),
                  maxLength=160, className="admin-actor-filter"),
        html.Button(tr("prev", lang), id="admin-prev", className="btn", n_clicks=0),
        html.Button(tr("next", lang), id="admin-next", className="btn", n_clicks=0),
        html.Button(tr("export", lang), id="admin-export", className="btn btn-export", n_clicks=0),
        dcc.Download(id="admin-download"),
    ], className="admin-toolbar")


def _action_options(admin: AdminBackend) -> list[dict[str, str]]:
    return [{"label": a, "value": a} for a in admin.audit_actions()]


def _label(lang: str, page: int, total: int) -> str:
    pages = max(1, -(-total // PAGE_SIZE))
    return tr("page_of", lang, page=page + 1, pages=pages, total=total)


def _admin() -> AdminBackend:
    admin = backend()
    if admin is None:
        raise PreventUpdate
    return admin


@callback(Output("admin-trail", "children"), Output("admin-trail-page", "data"),
          Output("admin-trail-label", "children"), Output("admin-audit-action", "options"),
          Input("admin-audit-action", "value"), Input("admin-audit-actor", "value"),
          Input("admin-prev", "n_clicks"), Input("admin-next", "n_clicks"),
          Input("admin-check-done", "data"), Input("admin-export-done", "data"),
          Input("admin-revoke-done", "data"),
          State("admin-trail-page", "data"), State("admin-lang", "data"), prevent_initial_call=True)
def refresh_trail(action: Any, actor: Any, _prev: Any, _next: Any, _checked: Any, _exported: Any,
                  _revoked: Any, page: Any, lang: Any) -> tuple[Any, int, str, list[dict[str, str]]]:
    """The trail for the filter: a new filter starts at the first page, the buttons step."""
    admin, lang, page = _admin(), valid_lang(lang), page_number(page)
    trigger = ctx.triggered_id
    page = {"admin-prev": page - 1, "admin-next": page + 1}.get(trigger, page)
    if trigger in ("admin-audit-action", "admin-audit-actor"):
        page = 0
    rows, page, total = admin.audit_page(action=text_filter(action, 60), actor=text_filter(actor), page=page,
                                          size=PAGE_SIZE)
    return view.trail_table(lang, rows), page, _label(lang, page, total), _action_options(admin)


@callback(Output("admin-download", "data"), Output("admin-export-done", "data"),
          Input("admin-export", "n_clicks"), State("admin-audit-action", "value"),
          State("admin-audit-actor", "value"), prevent_initial_call=True)
def on_export(clicks: Any, action: Any, actor: Any) -> tuple[Any, int]:
    """The filtered trail as a CSV download (the export is audited)."""
    if not clicks:
        raise PreventUpdate
    name, text = _admin().export_audit(action=text_filter(action, 60), actor=text_filter(actor))
    return dcc.send_string(text, name, type="text/csv"), time.time_ns()


@callback(Output("admin-check-report", "children"), Output("admin-check-done", "data"),
          Input("admin-run-check", "n_clicks"), State("admin-lang", "data"), prevent_initial_call=True)
def on_check(clicks: Any, lang: Any) -> tuple[Any, int]:
    """Run the platform check and show its report (the run is audited)."""
    if not clicks:
        raise PreventUpdate
    report, problems = _admin().platform_check()
    if problems is None:                 # one is running already
        return html.Div(report, className="admin-problems"), no_update
    lang = valid_lang(lang)
    return [html.Div(tr("problems", lang, n=problems), className="admin-problems", id="admin-check-problems"),
            html.Pre(report, className="admin-report")], time.time_ns()


@callback(Output("admin-tokens", "children"), Output("admin-revoke-msg", "children"),
          Output("admin-revoke-done", "data"),
          Input({"type": "admin-revoke", "token": ALL}, "n_clicks"), State("admin-lang", "data"),
          prevent_initial_call=True)
def on_revoke(clicks: Any, lang: Any) -> tuple[Any, Any, Any]:
    """Revoke the token whose button was pressed; the table shows it revoked."""
    trigger = ctx.triggered_id
    pressed = ctx.triggered[0].get("value") if ctx.triggered else None
    if not isinstance(trigger, dict) or not pressed or type(trigger.get("token")) is not int:
        raise PreventUpdate
    admin, lang = _admin(), valid_lang(lang)
    try:
        names = admin.revoke(trigger["token"])
    except ValueError:       # no live token with that id (revoked meanwhile)
        names = []
    message = tr("revoked", lang, names=", ".join(names)) if names else no_update
    return view.tokens_table(lang, admin.tokens()), message, time.time_ns()
