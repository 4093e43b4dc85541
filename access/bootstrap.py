"""First start: with no users at all, create ``admin`` (every role) and print one sign-in
link that works once, within a day. Safe when several workers start at once: the user
name is unique, so one worker creates the admin and prints the link; the others find it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sys
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from citybrain.security import ROLES

from . import audit
from .store import Base, Store, User, utcnow

log = logging.getLogger("citybrain.access")
ADMIN = "admin"
LINK_HOURS = 24


class SignInLink(Base):
    """A one-time sign-in link: only the SHA-256 of its secret is kept."""

    __tablename__ = "cb_sign_in_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("cb_users.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(128), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def ensure_admin(store: Store, base_url: str = "http://127.0.0.1:8050") -> str | None:
    """Create the first admin when there are no users; returns (and prints) its link."""
    SignInLink.__table__.create(store.engine, checkfirst=True)
    with store() as session:
        if session.scalar(sa.select(sa.func.count()).select_from(User)):
            return None
    try:
        with store() as session, session.begin():
            user = User(name=ADMIN, display_name="Administrator", roles=",".join(ROLES))
            session.add(user)
            session.flush()
            user_id = user.id
    except sa.exc.IntegrityError:
        return None                     # another worker created it a moment ago
    audit.record(store, "system", "user_created", ADMIN, roles=list(ROLES), first_start=True)
    link = f"{base_url.rstrip('/')}/login/once/{new_link(store, user_id)}"
    sys.stderr.write(
        "\nNo users yet: created the user 'admin' with every role.\n"
        f"Sign in once, within {LINK_HOURS} hours, by opening:\n\n    {link}\n\n"
        "Then give admin a password:  python -m access users passwd admin\n"
        "and add people:              python -m access users add NAME --roles leader\n\n")
    log.warning("first start: one-time sign-in link for 'admin' printed on stderr")
    return link


def new_link(store: Store, user_id: int, hours: int = LINK_HOURS) -> str:
    """A one-time link secret for ``user_id`` (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    with store() as session, session.begin():
        session.add(SignInLink(user_id=user_id, token_hash=_digest(secret),
                               expires_at=utcnow() + timedelta(hours=hours)))
    return secret


def use_link(store: Store, secret: str) -> int | None:
    """The user a one-time link signs in, marking it used; ``None`` if used, expired or unknown."""
    with store() as session, session.begin():
        marked = session.execute(
            sa.update(SignInLink)
            .where(SignInLink.token_hash == _digest(secret), SignInLink.used_at.is_(None),
                   SignInLink.expires_at > utcnow())
            .values(used_at=utcnow()))
        if marked.rowcount != 1:
            return None
        return session.scalar(sa.select(SignInLink.user_id).where(SignInLink.token_hash == _digest(secret)))
