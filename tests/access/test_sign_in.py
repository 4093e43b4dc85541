"""Signing in and out: the form, its CSRF token, failures and the lockout, the first-start
link, sessions that end when the user is disabled, re-roled or their time is up."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from access import bootstrap, login, users
from access.store import AuditEvent, User
from tests.access.helpers import PASSWORD, csrf_of, sign_out, store, user_for


def _post(client: Any, name: str, password: str, **extra: str) -> Any:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf": token, **extra})


def _actions(target: str) -> list[str]:
    with store()() as db:
        return list(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.target == target)
                               .order_by(AuditEvent.id)))


def test_the_sign_in_page_is_plain_local_html_with_a_csrf_field(client_as: Any) -> None:
    page = client_as(None).get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "登录" in html and "Sign in" in html
    assert csrf_of(html) and "<script" not in html
    assert "http://" not in html and "https://" not in html   # nothing fetched from elsewhere


def test_a_right_password_signs_in_and_goes_to_next(client_as: Any) -> None:
    client = client_as(None)
    name = user_for("leader")
    reply = _post(client, name, PASSWORD, next="/cockpit?lang=en")
    assert reply.status_code == 302 and reply.headers["Location"] == "/cockpit?lang=en"
    assert client.get("/cockpit").status_code == 200
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert _actions(name)[-1] == "sign_in"


def test_next_never_leaves_the_site(client_as: Any) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        reply = _post(client_as(None), user_for("leader"), PASSWORD, next=target)
        assert reply.headers["Location"] == "/", target


def test_a_wrong_password_or_name_is_refused_and_audited(client_as: Any) -> None:
    client = client_as(None)
    name = user_for("analyst")
    for who in (name, "nobody-at-all"):
        reply = _post(client, who, "wrong password!")
        assert reply.status_code == 401 and "错误" in reply.get_data(as_text=True)
        assert _actions(who)[-1] == "sign_in_failed"
    assert client.get("/_dash-layout").status_code == 401


def test_a_form_without_its_csrf_token_is_refused(client_as: Any) -> None:
    client = client_as(None)
    client.get("/login")
    reply = client.post("/login", data={"name": user_for("leader"), "password": PASSWORD, "csrf": "forged"})
    assert reply.status_code == 400 and client.get("/_dash-layout").status_code == 401


def test_repeated_failures_lock_that_name_from_that_client(client_as: Any) -> None:
    name = "locked-" + str(time.time_ns())
    users.add(store(), name, ["leader"], password=PASSWORD, actor="tests")
    client = client_as(None)
    for _ in range(login.MAX_FAILURES):
        assert _post(client, name, "not the password").status_code == 401
    locked = _post(client, name, PASSWORD)        # even the right password, for a while
    assert locked.status_code == 429 and "分钟" in locked.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 401
    other = client_as(None)
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"   # another client is not locked out
    assert _post(other, name, PASSWORD).status_code == 302
    assert _actions(name)[-2:] == ["sign_in_locked", "sign_in"]


def test_logout_ends_the_session(client_as: Any) -> None:
    client = client_as("leader")
    assert client.get("/_dash-layout").status_code == 200
    # a link (or another site's form) signs nobody out: it gets the button, which POSTs the token
    assert client.get("/logout").status_code == 200 and client.get("/_dash-layout").status_code == 200
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.get("/_dash-layout").status_code == 200
    assert sign_out(client).headers["Location"] == "/login"
    assert client.get("/_dash-layout").status_code == 401


def test_a_disabled_user_is_signed_out_at_the_next_request(client_as: Any, server: Any) -> None:
    name = "leaving-" + str(time.time_ns())
    users.add(store(), name, ["analyst"], password=PASSWORD, actor="tests")
    client = client_as(None)
    assert _post(client, name, PASSWORD).status_code == 302
    assert client.get("/explore").status_code == 200
    users.disable(store(), name)
    time.sleep(1.05)    # the longest a worker trusts what it read (RECHECK_SECONDS)
    reply = client.get("/_dash-dependencies")
    assert reply.status_code == 401 and reply.get_json() == {"error": "signed_out"}
    assert client.get("/explore").status_code == 302
    assert _post(client_as(None), name, PASSWORD).status_code == 401


def test_new_roles_sign_the_old_sessions_out(client_as: Any, server: Any) -> None:
    name = "moving-" + str(time.time_ns())
    users.add(store(), name, ["analyst"], password=PASSWORD, actor="tests")
    client = client_as(None)
    _post(client, name, PASSWORD)
    users.set_roles(store(), name, ["leader"])
    server.extensions["citybrain_access"]["sessions"].forget()
    assert client.get("/cockpit").status_code == 302
    _post(client, name, PASSWORD)
    assert client.get("/cockpit").status_code == 200 and client.get("/explore").status_code == 403
    assert "roles_changed" in _actions(name)


def test_a_session_ends_after_session_hours(client_as: Any, server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_as("leader")
    hours = server.extensions["citybrain_access"]["sessions"].security.session_hours
    later = time.time() + hours * 3600 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    server.extensions["citybrain_access"]["sessions"].forget()
    assert client.get("/_dash-layout").status_code == 401


def test_the_first_start_link_signs_in_once_only(client_as: Any) -> None:
    admin = users.find(store(), bootstrap.ADMIN)        # created when the app first started
    assert admin.roles == {"wall", "leader", "analyst", "operator", "admin"} and not admin.has_password
    assert bootstrap.ensure_admin(store()) is None      # users exist: no second admin, no link
    secret = bootstrap.new_link(store(), admin.id)
    with store()() as db:
        stored = db.scalar(sa.text("SELECT token_hash FROM cb_sign_in_links ORDER BY id DESC LIMIT 1"))
    assert secret not in stored
    client = client_as(None)
    assert client.get(f"/login/once/{secret}").status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    again = client_as(None).get(f"/login/once/{secret}")
    assert again.status_code == 401 and "链接无效" in again.get_data(as_text=True)


def test_only_one_admin_when_workers_start_together(tmp_path: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from access.store import Store

    fresh = Store(f"sqlite:///{tmp_path / 'access.db'}")
    with ThreadPoolExecutor(6) as pool:
        links = list(pool.map(lambda _: bootstrap.ensure_admin(fresh), range(6)))
    assert sum(link is not None for link in links) == 1
    with fresh() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_passwords_are_argon2_hashes_at_rest() -> None:
    name = user_for("operator")
    with store()() as db:
        stored = db.scalar(sa.select(User.password_hash).where(User.name == name))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(ValueError):
        users.add(store(), "short-" + str(time.time_ns()), ["leader"], password="short")


def test_every_signed_in_request_carries_the_users_scope(client_as: Any, cockpit: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import g

    name = "scoped-" + str(time.time_ns())
    users.add(store(), name, ["operator"], areas=["360802"], password=PASSWORD, actor="tests")
    client = client_as(None)
    _post(client, name, PASSWORD)
    seen = []
    server = cockpit.server

    def spy(reply: Any) -> Any:
        seen.append(g.get("citybrain_scope"))
        return reply
    monkeypatch.setitem(server.after_request_funcs, None, [*server.after_request_funcs.get(None, []), spy])
    client.get("/_dash-layout")
    scope = seen[-1]
    assert scope.who == name and scope.roles == {"operator"} and scope.areas == {"360802"}
    assert scope.personal and scope.layouts is None


def test_the_generated_secret_is_kept_private_and_reused() -> None:
    """Without the environment's secret, one is generated once in the data folder (0600) and
    read by every later start and worker (restarts: test_restart.py)."""
    import os
    import stat

    from access.sessions import secret_key
    from access.store import data_dir
    from citybrain.security import Security

    first, again = secret_key(Security()), secret_key(Security())
    assert first == again and len(first) >= 40
    assert stat.S_IMODE(os.stat(data_dir(Security()) / "secret_key").st_mode) == 0o600
