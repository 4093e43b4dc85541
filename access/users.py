"""People who sign in: created, listed, given roles and areas, disabled, given a password.

Every change that alters what someone may see is written to the audit trail; disabling a
user or changing their roles raises their session epoch, which signs every session of
theirs out at its next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from citybrain.security import ROLES

from . import audit
from .passwords import hash_password
from .store import Store, User, utcnow


class UserError(ValueError):
    """A user command that cannot be done (unknown name, unknown role, name taken)."""


@dataclass(frozen=True)
class Account:
    """What the gate needs to know of a user, detached from the database session."""

    id: int
    name: str
    roles: frozenset[str]
    areas: frozenset[str] | None
    epoch: int
    disabled: bool
    has_password: bool

    @classmethod
    def of(cls, user: User) -> Account:
        return cls(user.id, user.name, user.role_set, user.area_set, user.session_epoch,
                   user.disabled, user.password_hash is not None)


def checked_roles(roles: Iterable[str]) -> frozenset[str]:
    found = frozenset(r.strip() for r in roles if r.strip())
    unknown = sorted(found - set(ROLES))
    if unknown:
        raise UserError(f"unknown role(s) {', '.join(unknown)}; the roles are {', '.join(ROLES)}")
    return found


def _joined(items: Iterable[str]) -> str:
    return ",".join(sorted({i.strip() for i in items if i.strip()}))


def add(store: Store, name: str, roles: Iterable[str], *, areas: Iterable[str] = (),
        password: str | None = None, actor: str = "cli") -> Account:
    """A new user; ``UserError`` when the name is taken."""
    role_set = checked_roles(roles)
    hashed = hash_password(password) if password is not None else None
    try:
        with store() as session, session.begin():
            user = User(name=name, display_name=name, roles=_joined(role_set), areas=_joined(areas),
                        password_hash=hashed)
            session.add(user)
            session.flush()
            account = Account.of(user)
    except sa.exc.IntegrityError:
        raise UserError(f"a user named {name!r} exists already") from None
    audit.record(store, actor, "user_created", name, roles=sorted(role_set), areas=sorted(account.areas or ()))
    return account


def find(store: Store, name: str) -> Account:
    with store() as session:
        user = session.scalar(sa.select(User).where(User.name == name))
        if user is None:
            raise UserError(f"no user named {name!r}")
        return Account.of(user)


def by_id(store: Store, user_id: int) -> Account | None:
    with store() as session:
        user = session.get(User, user_id)
        return Account.of(user) if user is not None else None


def everyone(store: Store) -> list[Account]:
    with store() as session:
        return [Account.of(u) for u in session.scalars(sa.select(User).order_by(User.name))]


def _change(store: Store, name: str, **values: object) -> Account:
    with store() as session, session.begin():
        user = session.scalar(sa.select(User).where(User.name == name).with_for_update())
        if user is None:
            raise UserError(f"no user named {name!r}")
        for key, value in values.items():
            setattr(user, key, value)
        if "session_epoch" in values:
            user.session_epoch = user.session_epoch + 1
        return Account.of(user)


def set_roles(store: Store, name: str, roles: Iterable[str], *, areas: Iterable[str] | None = None,
              actor: str = "cli") -> Account:
    """Replace a user's roles (and areas, when given); their sessions sign out."""
    role_set = checked_roles(roles)
    before = find(store, name)
    values: dict[str, object] = {"roles": _joined(role_set), "session_epoch": True}
    if areas is not None:
        values["areas"] = _joined(areas)
    account = _change(store, name, **values)
    audit.record(store, actor, "roles_changed", name, before=sorted(before.roles), after=sorted(role_set),
                 areas=sorted(account.areas or ()))
    return account


def disable(store: Store, name: str, *, actor: str = "cli") -> Account:
    """The user can no longer sign in; their sessions sign out at their next request."""
    account = _change(store, name, disabled=True, session_epoch=True)
    audit.record(store, actor, "user_disabled", name)
    return account


def set_password(store: Store, name: str, password: str, *, actor: str = "cli") -> Account:
    """A new password; every other session of the user signs out."""
    account = _change(store, name, password_hash=hash_password(password), session_epoch=True)
    audit.record(store, actor, "password_set", name)
    return account


def signed_in(store: Store, user_id: int) -> None:
    with store() as session, session.begin():
        session.execute(sa.update(User).where(User.id == user_id).values(last_sign_in=utcnow()))


def password_hash(store: Store, name: str) -> tuple[Account | None, str | None]:
    """The account named ``name`` (``None`` if unknown) and its stored hash."""
    with store() as session:
        user = session.scalar(sa.select(User).where(User.name == name))
        return (Account.of(user), user.password_hash) if user is not None else (None, None)
