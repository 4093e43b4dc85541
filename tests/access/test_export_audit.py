"""Every export is in the audit trail: who exported what (the drill's rows from the server,
the explorer's summary from the grid), read back from the table with plain SQL."""

from __future__ import annotations

import base64
import json

import sqlalchemy as sa

import app
from tests.access.helpers import sign_in, store, user_for
from tests.access.test_scope_callbacks import callback, drill_export, spec


def _exports(actor: str, after: int) -> list[dict[str, object]]:
    with store().engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, actor, action, detail FROM cb_audit WHERE action = 'export' "
                                    "AND actor = :actor AND id > :after ORDER BY id"),
                            {"actor": actor, "after": after}).all()
    return [json.loads(r.detail) for r in rows]


def _last_id() -> int:
    with store().engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM cb_audit")).scalar_one())


def test_a_drill_export_is_audited_with_what_it_held() -> None:
    client, before = sign_in(app.server.test_client(), "analyst"), _last_id()
    reply = drill_export(client, "D02", "/traffic")
    assert reply.status_code == 200
    sent = reply.get_json()["response"]["drill-export-download"]["data"]
    text = base64.b64decode(sent["content"]).decode("utf-8-sig") if sent.get("base64") else sent["content"]
    lines = [line for line in text.splitlines() if line.strip()]
    [event] = _exports(user_for("analyst"), before)
    assert event["what"] == "drill" and event["indicator"] == "checkpoint_flow" and event["area"] == "D02"
    assert event["format"] == "csv" and event["rows"] == len(lines) - 1   # the header is no row


def test_an_explorer_export_is_audited_with_its_query() -> None:
    client, before = sign_in(app.server.test_client(), "analyst"), _last_id()
    out = spec(client, "explore-summary.exportDataAsCsv")["output"]
    query = "?indicator=checkpoint_flow&level=district&areas=D01,D02"
    reply = callback(client, out, [{"id": "explore-summary-csv", "property": "n_clicks", "value": 1}],
                     [{"id": "explore-nav", "property": "search", "value": query}],
                     changed="explore-summary-csv.n_clicks")
    assert reply.status_code == 200
    [event] = _exports(user_for("analyst"), before)
    assert event == {"what": "explore", "query": query}
