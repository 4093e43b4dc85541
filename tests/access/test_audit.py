"""The audit trail and the admin page: what is written is what the page and the export show
(checked with plain SQL), filters and paging, the data service's audit hook, and the admin's
own actions (export, platform check, revoking a token) in the trail; nobody but an admin
gets any of it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from access import admin as admin_side
from access import audit, tokens
from access.store import Store
from pages.admin import model as page_model
from service import scope
from tests.access.helpers import sign_in

ADMIN = scope.Scope("root-admin", frozenset({"admin"}))
ANALYST = scope.Scope("an-analyst", frozenset({"analyst"}))


@pytest.fixture()
def store(tmp_path: Any) -> Store:
    return Store(f"sqlite:///{tmp_path / 'audit.db'}")


def sql_rows(store: Store, where: str = "", params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """(id, actor, action, target, detail) newest first, read without the access code."""
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            f"SELECT id, actor, action, target, detail FROM cb_audit {where} ORDER BY id DESC"), params or {})]


def fill(store: Store, n: int = 60) -> None:
    for i in range(n):
        audit.record(store, f"user-{i % 4}", ("sign_in", "export", "token_created")[i % 3], f"t{i}", n=i)


# --- the trail --------------------------------------------------------------------------------------
def test_audit_query_pages_newest_first_and_filters_as_sql_does(store: Store) -> None:
    fill(store)
    page, total = audit.query(store, offset=25, limit=25)
    everything = sql_rows(store)
    assert total == 60 and [(e.id, e.actor, e.action, e.target) for e in page] == [r[:4] for r in everything[25:50]]
    exports, total = audit.query(store, action="export", actor="user-1", limit=100)
    expected = sql_rows(store, "WHERE action = 'export' AND actor = 'user-1'")
    assert total == len(expected) == 5 and [e.id for e in exports] == [r[0] for r in expected]
    assert json.loads(exports[0].detail) == json.loads(expected[0][4])
    assert audit.actions(store) == ["export", "sign_in", "token_created"]


def test_audit_actor_filter_takes_wildcards_literally(store: Store) -> None:
    for actor in ("a_b", "axb", "50%", "5000"):
        audit.record(store, actor, "sign_in")
    assert [e.actor for e in audit.query(store, actor="a_b")[0]] == ["a_b"]
    assert [e.actor for e in audit.query(store, actor="50%")[0]] == ["50%"]


def test_audit_export_is_the_filtered_trail_with_formula_cells_quoted(store: Store) -> None:
    fill(store, 12)
    audit.record(store, "=HYPERLINK(\"http://evil\")", "sign_in_failed", "+1", reason="-2")
    text, count = audit.export_csv(store, action="sign_in_failed")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(audit.COLUMNS) and count == 1 and len(rows) == 2
    assert rows[1][2:5] == ["'=HYPERLINK(\"http://evil\")", "sign_in_failed", "'+1"]
    text, count = audit.export_csv(store)
    ids = [int(r[0]) for r in list(csv.reader(io.StringIO(text)))[1:]]
    assert count == 13 and ids == [r[0] for r in sql_rows(store)]


def test_audit_install_makes_the_data_services_hook_write_the_table(store: Store) -> None:
    before = scope._audit
    try:
        audit.install(store)
        with scope.using(scope.Scope("li.na", frozenset({"operator"}), None, True)):
            scope.audit("personal_view", target="evt-7", fields=["phone", "plate"])
    finally:
        scope.set_audit_sink(before)
    [(_, actor, action, target, detail)] = sql_rows(store)
    assert (actor, action, target, json.loads(detail)) == ("li.na", "personal_view", "evt-7",
                                                            {"fields": ["phone", "plate"]})


# --- the admin's server side ------------------------------------------------------------------------
def test_admin_side_refuses_everyone_but_an_admin(store: Store) -> None:
    side = admin_side.Admin(store)
    calls = [side.users, side.tokens, side.audit_actions, side.platform_check, lambda: side.revoke(1),
             lambda: side.audit_page(action=None, actor=None, page=0),
             lambda: side.export_audit(action=None, actor=None)]
    with scope.using(ANALYST):
        for call in calls:
            with pytest.raises(admin_side.NotAllowed):
                call()
    assert sql_rows(store) == []


def test_admin_export_and_revoke_are_in_the_trail(store: Store) -> None:
    fill(store, 7)
    _, wall = tokens.create(store, "lobby", layouts=["1080p"], actor="cli")
    side = admin_side.Admin(store)
    with scope.using(ADMIN):
        name, text = side.export_audit(action="sign_in", actor=None)
        assert side.revoke(wall.id) == ["lobby"]
        listed = side.tokens()
    assert name.startswith("audit-") and name.endswith(".csv")
    assert len(list(csv.reader(io.StringIO(text)))) - 1 == len(sql_rows(store, "WHERE action = 'sign_in'")) == 3
    [export] = sql_rows(store, "WHERE action = 'audit_export'")
    assert export[1] == "root-admin" and json.loads(export[4])["rows"] == 3
    [revoked] = sql_rows(store, "WHERE action = 'token_revoked'")
    assert revoked[1:4] == ("root-admin", "token_revoked", f"{wall.id}:lobby")
    assert [(t["name"], t["state"]) for t in listed] == [("lobby", "revoked")]


def test_admin_page_finds_the_server_side_by_the_name_it_registers_under() -> None:
    assert page_model.EXTENSION == admin_side.EXTENSION


# --- the page in the running cockpit ----------------------------------------------------------------
@pytest.fixture(scope="module")
def cockpit_server() -> Iterator[Any]:
    import app as cockpit_app

    server = cockpit_app.server
    if admin_side.EXTENSION not in server.extensions:      # app.py not wired yet: do what it will
        admin_side.register(server, server.extensions["citybrain_access"]["store"])
    yield server


def signed_in_as(server: Any, role: str) -> FlaskClient:
    return sign_in(server.test_client(), role)


def access_store(server: Any) -> Store:
    return server.extensions["citybrain_access"]["store"]


def callback(client: FlaskClient, output: str, inputs: list[dict[str, Any]],
             state: list[dict[str, Any]] | None = None, changed: str | None = None) -> Any:
    """POST one callback the way the browser does; ``output`` as Dash names it."""
    outs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in output.strip(".").split("...")]
    body = {"output": output, "outputs": outs if len(outs) > 1 else outs[0], "inputs": inputs,
            "state": state or [], "changedPropIds": [changed] if changed else []}
    return client.post("/_dash-update-component", json=body)


def dependency(client: FlaskClient, first_output: str) -> str:
    deps = client.get("/_dash-dependencies").get_json()
    return next(d["output"] for d in deps if d["output"].lstrip(".").startswith(first_output))


def render_page(client: FlaskClient, path: str) -> Any:
    router = dependency(client, "_pages_content.children")
    deps = client.get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if d["output"] == router)
    inputs = [{"id": i["id"], "property": i["property"], "value": path if i["property"] == "pathname" else ""}
              for i in spec["inputs"]]
    return callback(client, router, inputs, [{"id": s["id"], "property": s["property"]} for s in spec["state"]],
                    "_pages_location.pathname")


def texts(layout: Any) -> list[str]:
    """Every string in a layout's JSON."""
    if isinstance(layout, str):
        return [layout]
    if isinstance(layout, dict):
        return [t for v in layout.values() for t in texts(v)]
    if isinstance(layout, list):
        return [t for v in layout for t in texts(v)]
    return []


def table_rows(table: Any) -> list[list[str]]:
    """The body rows of the admin table in ``table`` as lists of cell texts."""
    body = next(n for n in _nodes(table) if n.get("type") == "Tbody")
    return [[" ".join(texts(cell["props"].get("children"))) for cell in row["props"]["children"]]
            for row in body["props"]["children"]]


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "type" in value and "props" in value:
            yield value
        for v in value.values():
            yield from _nodes(v)
    elif isinstance(value, list):
        for v in value:
            yield from _nodes(v)


def test_admin_page_and_its_callbacks_answer_admins_only(cockpit_server: Any) -> None:
    analyst = signed_in_as(cockpit_server, "analyst")
    assert analyst.get("/admin").status_code == 403
    assert render_page(analyst, "/admin").status_code == 403
    trail = dependency(analyst, "admin-trail.children")
    inputs, state = _trail_inputs(None, None)
    refused = callback(analyst, trail, inputs, state, "admin-audit-action.value")
    assert refused.status_code == 403 and "admin-trail" not in refused.get_data(as_text=True)

    admin = signed_in_as(cockpit_server, "admin")
    assert admin.get("/admin").status_code == 200
    page = render_page(admin, "/admin")
    assert page.status_code == 200
    shown = " ".join(texts(page.get_json()))
    assert "test-admin" in shown and "test-analyst" in shown and "系统管理" in shown


def _trail_inputs(action: Any, actor: Any, page: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    inputs = [{"id": "admin-audit-action", "property": "value", "value": action},
              {"id": "admin-audit-actor", "property": "value", "value": actor},
              {"id": "admin-prev", "property": "n_clicks", "value": 0},
              {"id": "admin-next", "property": "n_clicks", "value": 0},
              {"id": "admin-check-done", "property": "data", "value": None},
              {"id": "admin-export-done", "property": "data", "value": None},
              {"id": "admin-revoke-done", "property": "data", "value": None}]
    state = [{"id": "admin-trail-page", "property": "data", "value": page},
             {"id": "admin-lang", "property": "data", "value": "en"}]
    return inputs, state


def test_admin_trail_shows_the_rows_sql_holds_and_the_export_is_audited(cockpit_server: Any) -> None:
    admin = signed_in_as(cockpit_server, "admin")
    store = access_store(cockpit_server)
    trail = dependency(admin, "admin-trail.children")
    inputs, state = _trail_inputs("sign_in", "test-")
    answer = callback(admin, trail, inputs, state, "admin-audit-action.value")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    shown = table_rows(answer.get_json()["response"]["admin-trail"]["children"])
    expected = sql_rows(store, "WHERE action = 'sign_in' AND actor LIKE 'test-%'")[:page_model.PAGE_SIZE]
    assert [row[1:4] for row in shown] == [[r[1], r[2], r[3]] for r in expected] and expected

    export = dependency(admin, "admin-download.data")
    answer = callback(admin, export, [{"id": "admin-export", "property": "n_clicks", "value": 1}],
                      [{"id": "admin-audit-action", "property": "value", "value": "sign_in"},
                       {"id": "admin-audit-actor", "property": "value", "value": "test-"}], "admin-export.n_clicks")
    assert answer.status_code == 200
    download = answer.get_json()["response"]["admin-download"]["data"]
    rows = list(csv.reader(io.StringIO(download["content"])))
    expected = sql_rows(store, "WHERE action = 'sign_in' AND actor LIKE 'test-%'")
    assert [int(r[0]) for r in rows[1:]] == [r[0] for r in expected]
    newest = sql_rows(store, "WHERE action = 'audit_export'")[0]
    assert newest[1] == "test-admin" and json.loads(newest[4]) == {"rows": len(expected), "action": "sign_in",
                                                                    "actor": "test-"}


def test_admin_runs_the_platform_check_and_it_is_audited(cockpit_server: Any) -> None:
    admin = signed_in_as(cockpit_server, "admin")
    check = dependency(admin, "admin-check-report.children")
    answer = callback(admin, check, [{"id": "admin-run-check", "property": "n_clicks", "value": 1}],
                      [{"id": "admin-lang", "property": "data", "value": "en"}], "admin-run-check.n_clicks")
    assert answer.status_code == 200
    report = " ".join(texts(answer.get_json()["response"]["admin-check-report"]["children"]))
    assert "problems" in report and "areas" in report
    newest = sql_rows(access_store(cockpit_server), "WHERE action = 'platform_check'")[0]
    assert newest[1] == "test-admin" and "problems" in json.loads(newest[4])


def test_admin_revokes_a_wall_token_from_the_page(cockpit_server: Any) -> None:
    admin = signed_in_as(cockpit_server, "admin")
    store = access_store(cockpit_server)
    _, wall = tokens.create(store, "page-revoke-wall", layouts=["1080p"], actor="tests")
    revoke = dependency(admin, "admin-tokens.children")
    button = {"type": "admin-revoke", "token": wall.id}
    answer = callback(admin, revoke, [[{"id": button, "property": "n_clicks", "value": 1}]],
                      [{"id": "admin-lang", "property": "data", "value": "en"}],
                      json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert tokens.by_id(store, wall.id).revoked  # type: ignore[union-attr]
    assert "Revoked: page-revoke-wall" in texts(answer.get_json()["response"]["admin-revoke-msg"]["children"])
    newest = sql_rows(store, "WHERE action = 'token_revoked'")[0]
    assert newest[1:4] == ("test-admin", "token_revoked", f"{wall.id}:page-revoke-wall")


def test_audit_events_cannot_be_changed_or_removed_through_the_access_tables(store: Store) -> None:
    from access.store import AuditEvent

    audit.record(store, "someone", "sign_in", "someone")
    with store() as session, pytest.raises(audit.AppendOnly):
        session.scalars(sa.select(AuditEvent)).one().actor = "someone-else"
        session.commit()
    with store() as session, pytest.raises(audit.AppendOnly):
        session.delete(session.scalars(sa.select(AuditEvent)).one())
        session.commit()
    assert [r[1] for r in sql_rows(store)] == ["someone"]


def test_admin_runs_one_platform_check_at_a_time(store: Store) -> None:
    side = admin_side.Admin(store)
    side._checking.acquire()             # as if another request were checking
    try:
        with scope.using(ADMIN):
            text, problems = side.platform_check()
    finally:
        side._checking.release()
    assert problems is None and "running" in text
    assert sql_rows(store, "WHERE action = 'platform_check'") == []


def test_admin_shows_a_fresh_check_again_instead_of_rerunning_it(store: Store,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[int] = []

    def counted(config: Any, data: Any) -> dict[str, Any]:
        runs.append(1)
        return {"problems": ["p1", "p2"]}

    monkeypatch.setattr(admin_side, "run_check", counted)
    monkeypatch.setattr(admin_side, "render", lambda report: "REPORT")
    cockpit = SimpleNamespace(config=SimpleNamespace(city=SimpleNamespace(id="yunjiang")), data=None)
    monkeypatch.setattr(admin_side.runtime, "current", lambda: cockpit)
    side = admin_side.Admin(store)
    with scope.using(ADMIN):
        first, again = side.platform_check(), side.platform_check()
        monkeypatch.setattr(admin_side, "CHECK_REUSE_S", 0)
        third = side.platform_check()
    assert first == ("REPORT", 2) and again[1] == 2 and again[0].endswith("REPORT") and "s ago" in again[0]
    assert third == ("REPORT", 2) and len(runs) == 2
    assert len(sql_rows(store, "WHERE action = 'platform_check'")) == 2
