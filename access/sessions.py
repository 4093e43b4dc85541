"""Signed-in sessions: who a session is, checked again at every request.

Flask-Login keeps one string in the signed session cookie: ``u.<id>.<epoch>.<since>`` for
a person (the user's session epoch and the sign-in time) or ``t.<id>`` for a wall token.
Every request turns it back into a :class:`Principal` through a short in-process cache
(at most :data:`RECHECK_SECONDS` old), so a disabled user, a raised epoch, a revoked or
expired token stops the session within a second, in every worker.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from flask import Flask, g
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import LoginManager, UserMixin

from citybrain.security import Security

from . import policy, tokens, users
from .store import Store, data_dir

RECHECK_SECONDS = 1.0
GRACE_SECONDS = 300.0   # while the access database does not answer, a session read this recently holds
log = logging.getLogger(__name__)
COOKIE_YEARS = timedelta(days=3660)   # the cookie's signature; each session ends sooner (below)
T = TypeVar("T")


class StoreDown(RuntimeError):
    """The access database did not answer, and the session was not read recently enough."""


class Recent(Generic[T]):
    """Values read at most ``seconds`` ago, per key (thread-safe enough: a race reads twice).
    While the read fails, a value read within :data:`GRACE_SECONDS` is kept: a wall signed
    in stays on through a short outage of the access database; a new session waits for it."""

    def __init__(self, read: Callable[[Any], T], seconds: float = RECHECK_SECONDS) -> None:
        self.read, self.seconds = read, seconds
        self.values: dict[Hashable, tuple[float, T]] = {}
        self.lock = threading.Lock()

    def __call__(self, key: Hashable) -> T:
        now = time.monotonic()
        hit = self.values.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        try:
            value = self.read(key)
        except Exception as exc:  # the database is down or hung: degrade, never a 500
            if hit is not None and now - hit[0] < GRACE_SECONDS:
                log.warning("access database failed (%s); keeping a session read %.0f s ago",
                            type(exc).__name__, now - hit[0])
                return hit[1]
            raise StoreDown(f"the access database failed: {type(exc).__name__}") from exc
        with self.lock:
            if len(self.values) > 10_000:
                self.values.clear()
            self.values[key] = (now, value)
        return value

    def forget(self) -> None:
        with self.lock:
            self.values.clear()


@dataclass(frozen=True, eq=False)
class Principal(UserMixin):
    """A signed-in person or wall, as one request sees it."""

    session_id: str
    name: str
    roles: frozenset[str]
    areas: frozenset[str] | None
    grants: frozenset[str]
    layouts: frozenset[str] | None = None     # a wall token's wall layouts (None: any)
    playlists: frozenset[str] | None = None   # a wall token's playlists
    paths: frozenset[str] = frozenset()       # other pages its playlists show
    wall_id: int | None = None

    def get_id(self) -> str:
        return self.session_id

    @property
    def who(self) -> str:
        return f"wall:{self.name}" if self.wall_id is not None else self.name


def user_session_id(account: users.Account) -> str:
    return f"u.{account.id}.{account.epoch}.{int(time.time())}"


def wall_session_id(wall: tokens.Wall) -> str:
    return f"t.{wall.id}"


class Sessions:
    """Turns session ids into principals for one store and config."""

    def __init__(self, store: Store, security: Security, playlists: Mapping[str, Any]) -> None:
        self.store, self.security, self.playlists = store, security, playlists
        self.recent: Recent[Principal | str] = Recent(self._principal)

    def load(self, session_id: str) -> Principal | None:
        """The principal of a session, or ``None`` (with the reason in ``g.access_reason``:
        ``unavailable`` while the access database cannot say)."""
        try:
            found = self.recent(session_id)
        except StoreDown:
            log.warning("the access database cannot say who session %s is", session_id.split(".", 1)[0])
            found = "unavailable"
        if isinstance(found, str):
            g.access_reason = found
            return None
        return found

    def forget(self) -> None:
        """Read every session afresh at its next request (after a change in this process)."""
        self.recent.forget()

    def _principal(self, session_id: str) -> Principal | str:
        kind, _, rest = session_id.partition(".")
        try:
            numbers = [int(n) for n in rest.split(".")]
        except ValueError:
            return "signed_out"
        if kind == "u" and len(numbers) == 3:
            return self._person(session_id, *numbers)
        if kind == "t" and len(numbers) == 1:
            return self._wall(session_id, numbers[0])
        return "signed_out"

    def _person(self, session_id: str, user_id: int, epoch: int, since: int) -> Principal | str:
        account = users.by_id(self.store, user_id)
        if (account is None or account.disabled or account.epoch != epoch
                or time.time() - since > self.security.session_hours * 3600):
            return "signed_out"
        return Principal(session_id, account.name, account.roles, account.areas,
                         policy.grants_of(account.roles))

    def _wall(self, session_id: str, token_id: int) -> Principal | str:
        wall = tokens.by_id(self.store, token_id)
        if wall is None or not wall.valid():
            return "revoked"
        layouts, paths = policy.wall_screens(wall.layouts, wall.playlists, self.playlists)
        pages = {"wall", *(policy.page_grant(_module_of(p)) for p in paths)}
        return Principal(session_id, wall.name, frozenset({"wall"}), wall.areas,
                         policy.grants_of({"wall"}, pages), layouts, wall.playlists, paths, wall.id)

    def expires(self, session_id: str | None) -> float | None:
        """When a session's cookie ends (seconds since the epoch), or ``None`` for none."""
        if not session_id:
            return None
        kind, _, rest = session_id.partition(".")
        if kind == "u":
            return int(rest.rsplit(".", 1)[-1]) + self.security.session_hours * 3600
        wall = tokens.by_id(self.store, int(rest)) if rest.isdigit() else None
        return wall.expires_at.replace(tzinfo=UTC).timestamp() if wall is not None else None


def _module_of(path: str) -> str | None:
    import dash

    for module, page in dash.page_registry.items():
        if page.get("path") == path:
            return str(module)
    return None


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, ending when its sign-in ends: a person's after
    ``session_hours``, a wall's when its token expires (weeks, across restarts)."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> Any:
        ends = self.sessions.expires(session.get("_user_id"))
        return datetime.fromtimestamp(ends, UTC) if ends is not None else None


def secret_key(security: Security) -> str:
    """The session secret: the environment's, else one generated once in the data folder
    (0600), so sessions survive restarts and every worker of this host agrees."""
    value = os.environ.get(security.secret_key_env)
    if value:
        return value
    path = data_dir(security) / "secret_key"
    if not path.exists():
        _create_once(path, secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def _create_once(path: Path, text: str) -> None:
    """Write ``path`` atomically unless it exists (the first worker wins, the others read)."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o600)
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temp)


def install(server: Flask, sessions: Sessions, security: Security) -> LoginManager:
    """Sessions on ``server``: the secret, the cookie's flags and lifetime, Flask-Login."""
    server.secret_key = secret_key(security)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=security.https, SESSION_COOKIE_NAME="citybrain",
                         PERMANENT_SESSION_LIFETIME=COOKIE_YEARS, SESSION_REFRESH_EACH_REQUEST=False)
    server.session_interface = CookieSessions(sessions)
    manager = LoginManager(server)
    manager.session_protection = None     # walls move between addresses; sessions end server-side
    manager.user_loader(sessions.load)
    return manager
