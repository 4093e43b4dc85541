"""The top bar offers what the gate would open and says who is signed in: a leader sees no
explorer link, an analyst does, an admin also sees the admin page; every signed-in person
sees their name and a sign-out that works."""

from __future__ import annotations

import json
import re

import pytest

import app
from tests.access.helpers import sign_in, user_for
from tests.access.test_scope_callbacks import page


def _nav(text: str) -> list[str]:
    """The paths the top bar's navigation links go to."""
    return re.findall(r'"href": "(/[a-z]*)", "className": "nav-link', text)


@pytest.mark.parametrize(("role", "shown", "hidden"), [
    ("leader", ["/", "/map", "/traffic", "/safety", "/cockpit"], ["/explore", "/admin"]),
    ("analyst", ["/", "/map", "/explore"], ["/admin"]),
    ("admin", ["/", "/explore", "/admin"], []),
])
def test_the_nav_offers_only_the_pages_the_gate_opens(role: str, shown: list[str], hidden: list[str]) -> None:
    client = sign_in(app.server.test_client(), role)
    text = json.dumps(json.loads(page(client, "/").get_data(as_text=True)), ensure_ascii=False)
    nav = _nav(text)
    assert all(p in nav for p in shown) and not any(p in nav for p in hidden), nav
    for path in hidden:   # and what is hidden is refused, not just hidden
        assert client.get(path).status_code == 403
    assert f'"children": "{user_for(role)}", "id": "shell-user"' in text
    assert '"action": "/logout"' in text and '"method": "POST"' in text


def test_signing_out_from_the_top_bar_ends_the_session() -> None:
    client = sign_in(app.server.test_client(), "leader")
    text = json.dumps(json.loads(page(client, "/").get_data(as_text=True)), ensure_ascii=False)
    token = re.search(r'"value": "([^"]+)", "type": "hidden", "name": "csrf"', text)
    assert token, "the top bar's sign-out form carries the session's CSRF token"
    assert client.post("/logout", data={"csrf": token.group(1)}).status_code in (302, 303)
    reply = client.get("/")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]
