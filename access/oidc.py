"""Sign-in through the site's identity provider: OpenID Connect, authorization code with PKCE.

``/login/oidc`` sends the browser to the provider (state, nonce and a PKCE challenge kept in
the signed session); ``/login/oidc/callback`` exchanges the code, checks the id token
against the provider's published keys (signature, issuer, audience, expiry, nonce), and
maps its claims to a user: found by subject or created, roles from ``roles_claim`` (only the
cockpit's :data:`~citybrain.security.ROLES`), areas from ``areas_claim``. The provider is
the source of truth: roles and areas are taken again at every sign-in, and a change is
audited. Any failure (provider down, state or nonce wrong, a token signed by another key)
is audited and ends on the sign-in page with a message, never a server error.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, Response, redirect, request, session, url_for
from joserfc.errors import JoseError

from citybrain.security import ROLES, Oidc, Security

from . import audit, login
from .store import Store, User
from .users import Account
from .views import login_page

log = logging.getLogger("citybrain.oidc")

CLIENT = "citybrain"              # the Authlib client's name (its state keys in the session)
TIMEOUT_S = 5                     # each call to the provider (metadata, keys, token)
NEXT_KEY = "citybrain_oidc_next"  # where the page asked for before sign-in waits in the session


# what the person reads on the sign-in page, per reason (the reason goes to the trail)
MESSAGES: dict[str, str] = {
    "bad_state": "登录请求已失效，请重新登录 · The sign-in request expired or was not ours; try again",
    "provider_unreachable": "身份认证服务暂不可用，请稍后再试 · The identity provider cannot be reached; try later",
    "provider_error": "身份认证服务拒绝了登录 · The identity provider refused the sign-in",
    "issuer_mismatch": "身份认证服务配置不一致 · The provider names another issuer than configured",
    "invalid_token": "身份令牌无效 · The identity token is not valid",
    "no_id_token": "身份认证服务未返回身份令牌 · The provider sent no identity token",
    "no_role": "该账号没有驾驶舱角色，请联系管理员 · This account has no cockpit role; ask an administrator",
    "no_area": "该账号未分配区域 · This account is limited to no area",
    "disabled": "该账号已停用 · This account is disabled",
    "error": "登录失败，请稍后再试 · Sign-in failed; try again later",
}


class SignInRefused(Exception):
    """The provider's answer does not sign anyone in; ``reason`` is audited, its message shown."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail[:120]

    @property
    def message(self) -> str:
        return MESSAGES.get(self.reason, MESSAGES["error"])


@dataclass(frozen=True)
class Identity:
    """What the id token says about the person."""

    subject: str
    name: str
    display_name: str
    roles: tuple[str, ...]
    dropped_roles: tuple[str, ...]
    areas: tuple[str, ...] | None     # None: the token does not limit the areas


def register(server: Flask, security: Security, store: Store) -> None:
    """Add the two OIDC routes (and the sign-in page's button) when ``security.oidc`` is set."""
    oidc = security.oidc
    if oidc is None:
        return
    scope = oidc.scope if "openid" in oidc.scope.split() else f"openid {oidc.scope}"
    if not os.environ.get(oidc.client_secret_env):
        log.warning("OIDC: %s is not set; the provider will refuse the cockpit's token requests",
                    oidc.client_secret_env)
    oauth = OAuth(server)
    client = oauth.register(
        CLIENT, client_id=oidc.client_id, client_secret=os.environ.get(oidc.client_secret_env),
        server_metadata_url=oidc.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": scope, "code_challenge_method": "S256", "default_timeout": TIMEOUT_S})

    def start() -> Response:
        try:
            _check_issuer(client.load_server_metadata(), oidc)
            session[NEXT_KEY] = login.safe_next(request.args.get("next"))
            return client.authorize_redirect(url_for("oidc_callback", _external=True))
        except SignInRefused as refused:
            return _refused(store, "", refused)
        except Exception as exc:  # noqa: BLE001 - every failure ends on the sign-in page
            return _refused(store, "", _classify(exc))

    def callback() -> Response:
        who = ""
        try:
            token = client.authorize_access_token(claims_options=_claims_options(oidc))
            claims = dict(token.get("userinfo") or {})
            if not claims:
                raise SignInRefused("no_id_token")
            who = _name_of(claims)
            user = upsert_user(store, identity_from_claims(claims, oidc))
        except SignInRefused as refused:
            return _refused(store, who, refused)
        except Exception as exc:  # noqa: BLE001 - every failure ends on the sign-in page
            return _refused(store, who, _classify(exc))
        next_url = login.safe_next(session.pop(NEXT_KEY, None))
        login.begin(Account.of(user), how="oidc", store=store)
        return redirect(next_url)

    provider = {"url": "/login/oidc", "label": oidc.label}
    if provider not in login.PROVIDERS:
        login.PROVIDERS.append(provider)
    server.add_url_rule("/login/oidc", "oidc_login", start, methods=["GET"])
    server.add_url_rule("/login/oidc/callback", "oidc_callback", callback, methods=["GET"])


# --- claims -> user -------------------------------------------------------------------------------
def _claims_options(oidc: Oidc) -> dict[str, Any]:
    """A fresh set each call (Authlib consumes it): issuer and audience must be ours."""
    return {"iss": {"essential": True, "value": oidc.issuer}, "aud": {"essential": True, "value": oidc.client_id},
            "sub": {"essential": True}}


def _check_issuer(metadata: dict[str, Any], oidc: Oidc) -> None:
    if metadata.get("issuer") != oidc.issuer:
        raise SignInRefused("issuer_mismatch")


def _listed(value: Any) -> list[str]:
    """A claim holding a list, or one string of names separated by spaces or commas."""
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, Iterable) and not isinstance(value, (bytes, dict)):
        return [v for v in value if isinstance(v, str) and v]
    return []


def _name_of(claims: dict[str, Any]) -> str:
    return str(claims.get("preferred_username") or claims.get("email") or claims.get("sub") or "")[:120]


def identity_from_claims(claims: dict[str, Any], oidc: Oidc) -> Identity:
    """The person the claims describe; only the cockpit's roles are kept."""
    subject = str(claims.get("sub") or "")
    named = _listed(claims.get(oidc.roles_claim))
    roles = tuple(r for r in ROLES if r in named)
    dropped = tuple(sorted({r for r in named if r not in ROLES}))
    if not roles:
        raise SignInRefused("no_role")
    areas: tuple[str, ...] | None = None
    if oidc.areas_claim and claims.get(oidc.areas_claim) is not None:
        areas = tuple(dict.fromkeys(_listed(claims[oidc.areas_claim])))
        if not areas:
            raise SignInRefused("no_area")
    name = _name_of(claims)
    return Identity(subject, name, str(claims.get("name") or name)[:200], roles, dropped, areas)


def _free_name(session: Any, wanted: str, subject: str) -> str:
    """``wanted``, or a variant no other user has: a provider's user never takes over a
    local account of the same name."""
    for name in (wanted, f"{wanted}@oidc", f"{wanted}@oidc-{subject[:12]}"):
        if session.scalar(sa.select(User.id).where(User.name == name)) is None:
            return name[:120]
    return f"oidc-{subject}"[:120]


def upsert_user(store: Store, identity: Identity) -> User:
    """The user with the identity's subject, created or updated to its roles and areas;
    a disabled user is refused. A creation or a change of roles or areas is audited (and a
    change signs the user's other sessions out, as a change made on the command line does)."""
    roles, areas = ",".join(sorted(identity.roles)), ",".join(sorted(identity.areas or ()))
    created, before = False, None
    with store() as session, session.begin():
        user = session.scalar(sa.select(User).where(User.oidc_subject == identity.subject))
        if user is None:
            created = True
            user = User(name=_free_name(session, identity.name, identity.subject),
                        display_name=identity.display_name, oidc_subject=identity.subject,
                        password_hash=None, roles=roles, areas=areas)
            session.add(user)
        elif user.disabled:
            raise SignInRefused("disabled")
        elif (user.roles, user.areas) != (roles, areas):
            before = (user.roles, user.areas)
            user.roles, user.areas = roles, areas
            user.session_epoch += 1
        user.display_name = identity.display_name
        session.flush()
        session.expunge(user)
    common = {"method": "oidc", "areas": sorted(identity.areas or ()), "dropped_roles": list(identity.dropped_roles)}
    if created:
        audit.record(store, "oidc", "user_created", user.name, roles=sorted(identity.roles), **common)
    elif before is not None:
        audit.record(store, "oidc", "roles_changed", user.name, before=[r for r in before[0].split(",") if r],
                     after=sorted(identity.roles), areas_before=[a for a in before[1].split(",") if a], **common)
    return user


# --- failures -------------------------------------------------------------------------------------
def _classify(exc: Exception) -> SignInRefused:
    """A failure as a short reason for the trail (and the message that goes with it)."""
    if isinstance(exc, MismatchingStateError):
        return SignInRefused("bad_state")
    if isinstance(exc, requests.RequestException):
        log.warning("identity provider unreachable: %s", type(exc).__name__)
        return SignInRefused("provider_unreachable", type(exc).__name__)
    if isinstance(exc, OAuthError):
        return SignInRefused("provider_error", str(exc.error or ""))
    if isinstance(exc, (JoseError, AuthlibBaseError, ValueError, KeyError)):
        return SignInRefused("invalid_token", type(exc).__name__ + (f": {exc}" if str(exc) else ""))
    log.error("OIDC sign-in failed unexpectedly", exc_info=exc)
    return SignInRefused("error", type(exc).__name__)


def _refused(store: Store, who: str, refused: SignInRefused) -> Response:
    """The sign-in page with the reason in words; the trail gets the reason's code."""
    audit.record(store, who or "-", "sign_in_failed", f"oidc:{who}" if who else "oidc", how="oidc",
                 reason=refused.reason, **({"detail": refused.detail} if refused.detail else {}))
    return login_page(csrf=login.csrf_token(), next_url=login.safe_next(session.pop(NEXT_KEY, None)),
                      error=refused.message, status=401, providers=login.PROVIDERS)
