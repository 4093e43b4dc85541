"""A viewer is never offered what the server would refuse: the drill's export buttons show
for roles granted ``export`` (analyst, admin) and not for a leader, whose export the gate
answers with 403."""

from __future__ import annotations

import pytest

import app
from tests.access.helpers import sign_in
from tests.access.test_scope_callbacks import drill_export, page


@pytest.mark.parametrize(("role", "offered"), [("leader", False), ("analyst", True), ("admin", True)])
def test_export_buttons_follow_the_export_grant(role: str, offered: bool) -> None:
    client = sign_in(app.server.test_client(), role)
    text = page(client, "/traffic").get_data(as_text=True)
    assert "drill-grid" in text   # the rows themselves are shown to every viewer of the page
    assert ("drill-export-csv" in text) is offered and ("drill-export-xlsx" in text) is offered


def test_a_leader_who_posts_the_export_anyway_gets_403_and_no_rows() -> None:
    reply = drill_export(sign_in(app.server.test_client(), "leader"), "city", "/traffic")
    assert reply.status_code == 403 and b"D01" not in reply.data
