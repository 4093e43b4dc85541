"""The admin page's tables: plain rows in, Dash layout out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dash import html

from pages.admin.model import tr

Cell = Callable[[dict[str, Any]], Any]


def table(lang: str, columns: Sequence[tuple[str, Cell]], rows: Sequence[dict[str, Any]],
          table_id: str) -> html.Div:
    """A table of ``rows``; ``columns`` are (heading key, cell of a row)."""
    if not rows:
        return html.Div(tr("none", lang), className="muted", id=table_id)
    head = html.Thead(html.Tr([html.Th(tr(key, lang)) for key, _ in columns]))
    body = html.Tbody([html.Tr([html.Td(cell(row)) for _, cell in columns]) for row in rows])
    return html.Div(html.Table([head, body], className="admin-table"), id=table_id, className="admin-scroll")


def _listed(lang: str, ids: Sequence[str]) -> str:
    return ", ".join(ids) if ids else tr("all_areas", lang)


def users_table(lang: str, rows: Sequence[dict[str, Any]]) -> html.Div:
    return table(lang, [
        ("col_name", lambda r: r["name"]),
        ("col_display", lambda r: r["display_name"]),
        ("col_roles", lambda r: ", ".join(r["roles"])),
        ("col_areas", lambda r: _listed(lang, r["areas"])),
        ("col_method", lambda r: tr(f"method_{r['method']}", lang)),
        ("col_state", lambda r: tr("state_disabled" if r["disabled"] else "state_active", lang)),
        ("col_last", lambda r: r["last_sign_in"]),
    ], rows, "admin-users")


def tokens_table(lang: str, rows: Sequence[dict[str, Any]]) -> html.Div:
    def action(row: dict[str, Any]) -> Any:
        if row["state"] != "live":
            return ""
        return html.Button(tr("revoke", lang), id={"type": "admin-revoke", "token": row["id"]},
                           className="btn btn-revoke", n_clicks=0)
    return table(lang, [
        ("col_id", lambda r: r["id"]),
        ("col_name", lambda r: r["name"]),
        ("col_layouts", lambda r: ", ".join(r["layouts"])),
        ("col_playlists", lambda r: ", ".join(r["playlists"])),
        ("col_areas", lambda r: _listed(lang, r["areas"])),
        ("col_created_by", lambda r: r["created_by"]),
        ("col_expires", lambda r: r["expires"]),
        ("col_used", lambda r: r["last_used"]),
        ("col_state", lambda r: tr(f"state_{r['state']}", lang)),
        ("revoke", action),
    ], rows, "admin-tokens-table")


def trail_table(lang: str, rows: Sequence[dict[str, Any]]) -> html.Div:
    return table(lang, [
        ("col_at", lambda r: r["at"]),
        ("col_actor", lambda r: r["actor"]),
        ("col_action", lambda r: r["action"]),
        ("col_target", lambda r: r["target"]),
        ("col_detail", lambda r: html.Code(r["detail"])),
        ("col_client", lambda r: r["client"]),
    ], rows, "admin-trail-table")
