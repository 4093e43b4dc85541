"""Signing in and out: the form at /login, the one-time link, the kiosk URL, /logout.

The form carries a per-session CSRF token; a password is checked in constant time; every
failure goes to the audit trail, and after :data:`MAX_FAILURES` failures of one name from
one client within :data:`LOCK_MINUTES` minutes that pair is refused until the window passes
(counted in the audit table, so every worker agrees).
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, redirect, request, session
from flask_login import login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from . import audit, bootstrap, tokens, users
from .passwords import verify
from .sessions import Sessions, StoreDown, user_session_id, wall_session_id
from .store import AuditEvent, Store, utcnow
from .views import login_page, message_page, sign_out_page

log = logging.getLogger(__name__)
MAX_FAILURES = 5
LOCK_MINUTES = 5
PROVIDERS: list[dict[str, str]] = []   # other ways in (the identity provider): {"url", "label"}


def store_guarded(view: Callable[..., Response]) -> Callable[..., Response]:
    """A sign-in route whose database does not answer says so (503), never a 500."""
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except (SQLAlchemyError, StoreDown):
            log.exception("the access database failed during %s", request.path)
            return message_page("unavailable", 503)
    return guarded


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def _csrf_ok() -> bool:
    expected, given = session.get("csrf", ""), request.form.get("csrf", "")
    return bool(expected) and hmac.compare_digest(str(expected).encode(), given.encode())


def locked(store: Store, name: str, client: str) -> bool:
    """Whether ``name`` from ``client`` failed too often lately."""
    since = utcnow() - timedelta(minutes=LOCK_MINUTES)
    with store() as db:
        failures = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "sign_in_failed", AuditEvent.target == name[:255],
            AuditEvent.client == client[:64], AuditEvent.at > since))
    return bool(failures and failures >= MAX_FAILURES)


def begin(account: users.Account, *, how: str, store: Store) -> None:
    """Sign ``account`` in on this session (a fresh session: no fixation)."""
    session.clear()
    login_user(_SignIn(user_session_id(account)))
    session.permanent = True
    users.signed_in(store, account.id)
    audit.record(store, account.name, "sign_in", account.name, how=how)


class _SignIn:
    """What Flask-Login needs to start a session: its id."""

    is_active = True

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id


def register(server: Flask, store: Store, sessions: Sessions) -> None:
    """/login, /login/once/<token>, /kiosk/<token>, /logout on ``server``."""

    @server.route("/login", methods=["GET", "POST"], endpoint="access_login")
    @store_guarded
    def login() -> Response:
        next_url = safe_next(request.values.get("next"))
        if request.method == "GET":
            return login_page(csrf=csrf_token(), next_url=next_url, providers=PROVIDERS)
        name = request.form.get("name", "").strip()[:120]
        client = request.remote_addr or ""

        def refuse(error: str, status: int) -> Response:
            return login_page(csrf=csrf_token(), next_url=next_url, name=name, error=error,
                              status=status, providers=PROVIDERS)

        if not _csrf_ok():
            return refuse("表单已过期，请重试。 The form expired; please try again.", 400)
        if locked(store, name, client):
            audit.record(store, name or "-", "sign_in_locked", name)
            return refuse(f"尝试次数过多，请 {LOCK_MINUTES} 分钟后再试。 "
                          f"Too many attempts; try again in {LOCK_MINUTES} minutes.", 429)
        account, stored = users.password_hash(store, name)
        if not verify(stored, request.form.get("password", "")) or account is None or account.disabled:
            audit.record(store, name or "-", "sign_in_failed", name)
            return refuse("用户名或密码错误。 Wrong name or password.", 401)
        begin(account, how="password", store=store)
        return redirect(next_url)

    @server.route("/login/once/<token>", endpoint="access_once")
    @store_guarded
    def once(token: str) -> Response:
        user_id = bootstrap.use_link(store, token)
        account = users.by_id(store, user_id) if user_id is not None else None
        if account is None or account.disabled:
            audit.record(store, "-", "sign_in_failed", "one-time link")
            return message_page("link", 401)
        begin(account, how="one-time link", store=store)
        return redirect("/")

    @server.route("/kiosk/<token>", endpoint="access_kiosk")
    @store_guarded
    def kiosk(token: str) -> Response:
        wall = tokens.resolve(store, token)
        if wall is None:
            audit.record(store, "-", "sign_in_failed", "wall token")
            return message_page("revoked", 401)
        session.clear()
        login_user(_SignIn(wall_session_id(wall)))
        session.permanent = True
        tokens.used(store, wall.id)
        audit.record(store, f"wall:{wall.name}", "sign_in", f"{wall.id}:{wall.name}", how="wall token")
        first = sorted(wall.layouts)[0] if wall.layouts else None
        return redirect(f"/wall?layout={first}" if first else f"/wall?playlist={sorted(wall.playlists)[0]}")

    @server.route("/logout", methods=["GET", "POST"], endpoint="access_logout")
    @store_guarded
    def logout() -> Response:
        if request.method != "POST" or not _csrf_ok():   # a link or another site: ask first
            return sign_out_page(csrf=csrf_token(), status=200 if request.method == "GET" else 400)
        logout_user()
        session.clear()
        return redirect("/login")
