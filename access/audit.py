"""The audit trail: an append-only table of sign-ins, exports, personal-data views, token
and role changes and platform checks."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import has_request_context, request

from .store import AuditEvent, Store

log = logging.getLogger("citybrain.audit")


def record(store: Store, actor: str, action: str, target: str = "", **detail: Any) -> None:
    """Append one event; a failing database is logged, never the reason a request fails."""
    client = request.remote_addr or "" if has_request_context() else "cli"
    try:
        with store() as session, session.begin():
            session.add(AuditEvent(actor=actor[:160], action=action[:60], target=str(target)[:255],
                                   detail=json.dumps(detail, ensure_ascii=False, default=str),
                                   client=client[:64]))
    except Exception:  # noqa: BLE001 - the trail must not take the request down with it
        log.exception("audit event not written: %s %s %s", actor, action, target)
