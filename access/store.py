"""Users, roles, area limits, wall tokens and the audit trail, kept in SQL.

SQLite in the data folder by default; the site's own database in production
(``security.database`` or the variable named by ``security.database_env``). Tables are
created when missing; the audit table is only ever appended to.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from citybrain.security import Security

ROOT = Path(__file__).resolve().parent.parent


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    """A person who signs in (with a password, or through the identity provider)."""

    __tablename__ = "cb_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)  # None: OIDC only
    roles: Mapped[str] = mapped_column(sa.String(200), default="")        # comma-separated role names
    areas: Mapped[str] = mapped_column(sa.Text, default="")               # comma-separated area ids; "" = all
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, unique=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    session_epoch: Mapped[int] = mapped_column(default=0)   # raised to sign every session of the user out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in: Mapped[datetime | None] = mapped_column(nullable=True)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    @property
    def area_set(self) -> frozenset[str] | None:
        ids = frozenset(a for a in self.areas.split(",") if a)
        return ids or None


class WallToken(Base):
    """A long-lived sign-in for one video wall, limited to layouts and playlists."""

    __tablename__ = "cb_wall_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    token_hash: Mapped[str] = mapped_column(sa.String(128), unique=True)   # sha256 of the secret
    layouts: Mapped[str] = mapped_column(sa.Text, default="")              # comma-separated; "" = none
    playlists: Mapped[str] = mapped_column(sa.Text, default="")
    areas: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used: Mapped[datetime | None] = mapped_column(nullable=True)


class AuditEvent(Base):
    """One thing someone did that the site must be able to account for."""

    __tablename__ = "cb_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(160))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target: Mapped[str] = mapped_column(sa.String(255), default="")
    detail: Mapped[str] = mapped_column(sa.Text, default="")   # JSON
    client: Mapped[str] = mapped_column(sa.String(64), default="")


def data_dir(security: Security) -> Path:
    """Where the default SQLite file and a generated secret live (never in the repository)."""
    folder = Path(os.environ.get(security.data_dir_env) or ROOT / "instance")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def database_url(security: Security) -> str:
    return (os.environ.get(security.database_env) or security.database
            or f"sqlite:///{data_dir(security) / 'access.db'}")


TIMEOUT_SECONDS = 2   # a hung access database holds no request longer than this


def bounded_engine(url: str) -> sa.Engine:
    """An engine whose connects and statements give up after :data:`TIMEOUT_SECONDS`: every
    request asks this database who is signed in, so it must never wait on a hung one."""
    backend = sa.engine.make_url(url).get_backend_name()
    args: dict[str, object] = {}
    setting = ""
    if backend == "sqlite":
        args = {"check_same_thread": False, "timeout": TIMEOUT_SECONDS}
    elif backend == "postgresql":
        args = {"connect_timeout": TIMEOUT_SECONDS}
        setting = f"SET statement_timeout = {TIMEOUT_SECONDS * 1000}"
    elif backend in ("mysql", "mariadb"):
        args = {"connect_timeout": TIMEOUT_SECONDS, "read_timeout": TIMEOUT_SECONDS + 1,
                "write_timeout": TIMEOUT_SECONDS + 1}
    engine = sa.create_engine(url, connect_args=args, pool_pre_ping=True)
    if setting:
        @sa.event.listens_for(engine, "connect")
        def _bounded(dbapi_conn: object, _record: object) -> None:
            cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
            cursor.execute(setting)
            cursor.close()
    return engine


class Store:
    """The access tables of one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = bounded_engine(url)
        Base.metadata.create_all(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def for_config(cls, security: Security) -> Store:
        return cls(database_url(security))

    def __call__(self) -> Session:
        return self.session()
