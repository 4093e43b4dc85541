"""The audit trail: an append-only table of sign-ins, exports, personal-data views, token
and role changes and platform checks.

:func:`record` appends; :func:`install` points :func:`service.scope.audit` (the data
service's hook, e.g. for views of personal data) at the table; :func:`query` and
:func:`export_csv` read it back for the admin page. Nothing here updates or deletes a row.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event

from service import scope

from .store import AuditEvent, Store

log = logging.getLogger("citybrain.audit")

COLUMNS = ("id", "at", "actor", "action", "target", "detail", "client")
EXPORT_MAX_ROWS = 100_000          # one export never reads more than this many rows
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # cells a spreadsheet would run as a formula


class AppendOnly(RuntimeError):
    """Something tried to change or remove an audit event."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise AppendOnly(f"audit event {target.id} cannot be changed or removed: the trail is append-only")


def record(store: Store, actor: str, action: str, target: str = "", /, **detail: Any) -> None:
    """Append one event (``detail`` may use any key, ``action`` included); a failing database
    is logged, never the reason a request fails."""
    client = (request.remote_addr or "") if has_request_context() else "cli"
    try:
        with store() as session, session.begin():
            session.add(AuditEvent(actor=actor[:160], action=action[:60], target=str(target)[:255],
                                   detail=json.dumps(detail, ensure_ascii=False, default=str),
                                   client=client[:64]))
    except Exception:  # noqa: BLE001 - the trail must not take the request down with it
        log.exception("audit event not written: %s %s %s", actor, action, target)


def install(store: Store) -> None:
    """Make :func:`service.scope.audit` write to ``store``'s trail (a ``target`` in the
    detail becomes the event's target)."""
    def sink(who: str, action: str, detail: dict[str, Any]) -> None:
        rest = dict(detail)
        target = rest.pop("target", "")
        record(store, who, action, str(target), **rest)
    scope.set_audit_sink(sink)


@dataclass(frozen=True)
class Event:
    """One row of the trail, as the admin page shows it."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str
    client: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.strftime("%Y-%m-%d %H:%M:%S"), "actor": self.actor,
                "action": self.action, "target": self.target, "detail": self.detail,
                "client": self.client}


def _filtered(action: str | None, actor: str | None) -> sa.Select[Any]:
    stmt = sa.select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor:
        pattern = actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(AuditEvent.actor.like(f"%{pattern}%", escape="\\"))
    return stmt


def _event(row: AuditEvent) -> Event:
    return Event(row.id, row.at, row.actor, row.action, row.target, row.detail, row.client)


def query(store: Store, *, action: str | None = None, actor: str | None = None,
          offset: int = 0, limit: int = 50) -> tuple[list[Event], int]:
    """One page of the trail, newest first, with the number of events matching the filter
    (``action`` exactly, ``actor`` as a part of the name)."""
    stmt = _filtered(action, actor)
    with store() as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(stmt.order_by(AuditEvent.id.desc())
                               .offset(max(0, offset)).limit(max(1, limit))).all()
    return [_event(r) for r in rows], int(total)


def actions(store: Store) -> list[str]:
    """The actions the trail holds, for the filter."""
    with store() as session:
        return sorted(session.scalars(sa.select(AuditEvent.action).distinct()).all())


def _cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(store: Store, *, action: str | None = None, actor: str | None = None) -> tuple[str, int]:
    """The filtered trail as CSV (newest first, at most :data:`EXPORT_MAX_ROWS` rows) and its
    row count; a cell that a spreadsheet would read as a formula is quoted with ``'``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    with store() as session:
        stmt = _filtered(action, actor).order_by(AuditEvent.id.desc()).limit(EXPORT_MAX_ROWS)
        for row in session.scalars(stmt):
            data = _event(row).as_dict()
            writer.writerow([_cell(data[c]) for c in COLUMNS])
            count += 1
    return out.getvalue(), count
