"""Wall tokens: long-lived sign-ins for video walls, scoped to layouts and playlists.

The secret (``secrets.token_urlsafe(32)``) is shown once, in the kiosk URL; the database
keeps only its SHA-256. A token expires (180 days by default) and can be revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from . import audit
from .store import Store, WallToken, utcnow

DEFAULT_DAYS = 180


class TokenError(ValueError):
    """A token command that cannot be done."""


@dataclass(frozen=True)
class Wall:
    """A wall token as the gate sees it (never its secret)."""

    id: int
    name: str
    layouts: frozenset[str]
    playlists: frozenset[str]
    areas: frozenset[str] | None
    expires_at: datetime
    revoked: bool
    created_by: str = ""

    @classmethod
    def of(cls, row: WallToken) -> Wall:
        def ids(text: str) -> frozenset[str]:
            return frozenset(i for i in text.split(",") if i)
        return cls(row.id, row.name, ids(row.layouts), ids(row.playlists), ids(row.areas) or None,
                   row.expires_at, row.revoked_at is not None, row.created_by)

    def valid(self, now: datetime | None = None) -> bool:
        return not self.revoked and (now or utcnow()) < self.expires_at


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(store: Store, name: str, *, layouts: Iterable[str] = (), playlists: Iterable[str] = (),
           areas: Iterable[str] = (), days: int = DEFAULT_DAYS, actor: str = "cli") -> tuple[str, Wall]:
    """A new token: its secret (shown once, never stored) and what it allows."""
    layouts, playlists = sorted(set(layouts) - {""}), sorted(set(playlists) - {""})
    if not layouts and not playlists:
        raise TokenError("a wall token needs at least one layout or playlist")
    if days <= 0:
        raise TokenError("a wall token lasts at least one day")
    secret = secrets.token_urlsafe(32)
    with store() as session, session.begin():
        row = WallToken(name=name, token_hash=digest(secret), layouts=",".join(layouts),
                        playlists=",".join(playlists), areas=",".join(sorted(set(areas) - {""})),
                        created_by=actor, expires_at=utcnow() + timedelta(days=days))
        session.add(row)
        session.flush()
        wall = Wall.of(row)
    audit.record(store, actor, "token_created", f"{wall.id}:{name}", layouts=layouts, playlists=playlists,
                 expires=wall.expires_at.isoformat(timespec="minutes"))
    return secret, wall


def resolve(store: Store, secret: str) -> Wall | None:
    """The valid token whose secret this is, else ``None``."""
    with store() as session:
        row = session.scalar(sa.select(WallToken).where(WallToken.token_hash == digest(secret)))
        wall = Wall.of(row) if row is not None else None
    return wall if wall is not None and wall.valid() else None


def by_id(store: Store, token_id: int) -> Wall | None:
    with store() as session:
        row = session.get(WallToken, token_id)
        return Wall.of(row) if row is not None else None


def everything(store: Store) -> list[Wall]:
    with store() as session:
        return [Wall.of(r) for r in session.scalars(sa.select(WallToken).order_by(WallToken.id))]


def revoke(store: Store, id_or_name: str, *, actor: str = "cli") -> list[Wall]:
    """Revoke the token with this id, or every live token with this name."""
    with store() as session, session.begin():
        query = sa.select(WallToken).where(WallToken.revoked_at.is_(None))
        query = query.where(WallToken.id == int(id_or_name)) if id_or_name.isdigit() \
            else query.where(WallToken.name == id_or_name)
        rows = list(session.scalars(query))
        if not rows:
            raise TokenError(f"no live wall token {id_or_name!r}")
        for row in rows:
            row.revoked_at = utcnow()
        walls = [Wall.of(r) for r in rows]
    for wall in walls:
        audit.record(store, actor, "token_revoked", f"{wall.id}:{wall.name}")
    return walls


def used(store: Store, token_id: int) -> None:
    with store() as session, session.begin():
        session.execute(sa.update(WallToken).where(WallToken.id == token_id).values(last_used=utcnow()))
