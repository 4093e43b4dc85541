"""What the admin page reads and does: users, wall tokens (revoke), the platform check and
the audit trail (page through, export).

The page never imports this package: :func:`register` leaves an :class:`Admin` in the
server's ``extensions`` under :data:`EXTENSION`, where ``pages.admin`` finds it by name.
Every method acts for the request's signed-in person (the gate's
:func:`service.scope.current`) and refuses anyone without the ``admin`` role, so a
callback the gate let through by mistake still gets nothing. Exports, checks and
revocations are audited.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from service import runtime, scope
from service.check import run_check
from service.check_text import render

from . import audit, tokens
from .store import Store, User, WallToken, utcnow

EXTENSION = "citybrain.admin"
PAGE_SIZE = 25
CHECK_REUSE_S = 30   # a platform check report younger than this is shown again


class NotAllowed(PermissionError):
    """The request's scope is not an admin's."""


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _ids(text: str) -> list[str]:
    return [i for i in text.split(",") if i]


class Admin:
    """The admin page's server side for one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._checking = threading.Lock()   # one platform check at a time per process
        self._last: tuple[float, str, int] | None = None   # (when, report, problems)

    @staticmethod
    def actor() -> str:
        """The admin acting (refuses anyone else)."""
        who = scope.current()
        if "admin" not in who.roles:
            raise NotAllowed("the admin page is for the admin role")
        return who.who

    # --- people and walls ---
    def users(self) -> list[dict[str, Any]]:
        """Every user with roles, areas, how they sign in and when they last did."""
        self.actor()
        with self.store() as session:
            rows = session.scalars(sa.select(User).order_by(User.name)).all()
        return [{"name": u.name, "display_name": u.display_name, "roles": _ids(u.roles), "areas": _ids(u.areas),
                 "method": "oidc" if u.oidc_subject else "password", "disabled": u.disabled,
                 "created": _when(u.created_at), "last_sign_in": _when(u.last_sign_in)} for u in rows]

    def tokens(self) -> list[dict[str, Any]]:
        """Every wall token (never its secret) and whether it still signs a wall in."""
        self.actor()
        now = utcnow()
        with self.store() as session:
            rows = session.scalars(sa.select(WallToken).order_by(WallToken.id.desc())).all()
        return [{"id": r.id, "name": r.name, "layouts": _ids(r.layouts), "playlists": _ids(r.playlists),
                 "areas": _ids(r.areas), "created_by": r.created_by, "created": _when(r.created_at),
                 "expires": _when(r.expires_at), "last_used": _when(r.last_used),
                 "state": "revoked" if r.revoked_at else "expired" if r.expires_at <= now else "live"}
                for r in rows]

    def revoke(self, token_id: int) -> list[str]:
        """Revoke one token (audited by :func:`access.tokens.revoke`); the names revoked."""
        actor = self.actor()
        return [w.name for w in tokens.revoke(self.store, str(int(token_id)), actor=actor)]

    # --- the platform check ---
    def platform_check(self) -> tuple[str, int | None]:
        """``python -m citybrain check`` on the running config: its report and problem count.
        One check at a time per process (a press meanwhile gets ``None`` problems), and a
        report younger than :data:`CHECK_REUSE_S` is shown again instead of reading every
        binding once more."""
        actor = self.actor()
        if not self._checking.acquire(blocking=False):
            return "检查正在进行 · A check is running already", None
        try:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < CHECK_REUSE_S:
                age = int(now - self._last[0])
                return f"{age}秒前的检查结果 · The check of {age} s ago\n\n{self._last[1]}", self._last[2]
            cockpit = runtime.current()
            report = run_check(cockpit.config, cockpit.data)
            problems = len(report["problems"])
            self._last = (time.monotonic(), render(report), problems)
        finally:
            self._checking.release()
        audit.record(self.store, actor, "platform_check", cockpit.config.city.id, problems=problems)
        return self._last[1], problems

    # --- the trail ---
    def audit_actions(self) -> list[str]:
        self.actor()
        return audit.actions(self.store)

    def audit_page(self, *, action: str | None, actor: str | None, page: int,
                   size: int = PAGE_SIZE) -> tuple[list[dict[str, Any]], int, int]:
        """Rows of page ``page`` (0 first; clamped to the last), the page shown and the count."""
        self.actor()
        page = max(0, page)
        rows, total = audit.query(self.store, action=action, actor=actor, offset=page * size, limit=size)
        last = max(0, math.ceil(total / size) - 1)
        if page > last:
            page = last
            rows, total = audit.query(self.store, action=action, actor=actor, offset=page * size, limit=size)
        return [r.as_dict() for r in rows], page, total

    def export_audit(self, *, action: str | None, actor: str | None) -> tuple[str, str]:
        """The filtered trail as CSV and its file name; the export itself is audited."""
        who = self.actor()
        text, count = audit.export_csv(self.store, action=action, actor=actor)
        audit.record(self.store, who, "audit_export", "audit", rows=count, action=action or "", actor=actor or "")
        return f"audit-{utcnow():%Y%m%d-%H%M%S}.csv", text


def register(server: Flask, store: Store) -> Admin:
    """Leave the admin page's server side where the page looks for it."""
    admin = Admin(store)
    server.extensions[EXTENSION] = admin
    return admin
