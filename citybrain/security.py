"""The ``security:`` section of the config: who may sign in where, and the server's limits.

Pure settings (no Flask, no SQL): :mod:`access` signs people and walls in with them,
the gate and the limits in :mod:`access` and :mod:`guard` enforce them. Secrets never sit
in the file: each is named by the environment variable that holds it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from .catalogue import Strict

Role = Literal["wall", "leader", "analyst", "operator", "admin"]
ROLES: tuple[Role, ...] = ("wall", "leader", "analyst", "operator", "admin")


class Oidc(Strict):
    """Sign-in through the site's identity provider (OpenID Connect)."""

    issuer: str = Field(min_length=1)        # its metadata is at <issuer>/.well-known/openid-configuration
    client_id: str = Field(min_length=1)
    client_secret_env: str = "CITYBRAIN_OIDC_SECRET"
    scope: str = "openid profile email"
    roles_claim: str = "roles"                # a claim listing our role names
    areas_claim: str | None = None            # a claim listing the area ids a user is limited to
    label: str = "统一身份认证"                 # the button on the sign-in page


class Limits(Strict):
    """What one client or one request may cost the server."""

    max_body_bytes: PositiveInt = 1_000_000           # any request body, chunked included
    wall_heartbeats: str = "30 per minute"            # per client (Flask-Limiter syntax)
    expensive_queries: str = "60 per minute"          # explorer and drill reads, exports
    storage_url: str | None = None                    # None: the cache's Redis, else in-process
    max_query_days: PositiveInt = 400                 # the longest span one query may read
    statement_timeout_ms: PositiveInt = 5_000         # SQL statements longer than this are cancelled
    walls_max: PositiveInt = 500                      # walls kept in the registry
    wall_ttl_seconds: PositiveInt = 600               # a wall not heard from for this long is dropped


class Security(Strict):
    """Sign-in, sessions, headers and limits."""

    database: str | None = None                # users, roles, tokens, audit; None: SQLite in data_dir
    database_env: str = "CITYBRAIN_ACCESS_DB"  # overrides ``database`` when set
    data_dir_env: str = "CITYBRAIN_DATA_DIR"   # where the SQLite file and a generated secret live
    secret_key_env: str = "CITYBRAIN_SECRET_KEY"
    health_token_env: str = "CITYBRAIN_HEALTH_TOKEN"
    session_hours: PositiveInt = 12
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"])
    frame_ancestors: list[str] = Field(default_factory=lambda: ["'self'"])
    https: bool = False                        # Secure cookies and HSTS (behind an HTTPS proxy)
    proxy_hops: int = Field(default=0, ge=0, le=5)   # reverse proxies in front whose X-Forwarded-* count
    personal_fields: list[str] = Field(default_factory=lambda: [
        "reporter", "reporter_name", "phone", "plate", "licence_plate", "id_number"])
    personal_roles: list[Role] = Field(default_factory=lambda: ["operator", "admin"])
    oidc: Oidc | None = None
    limits: Limits = Limits()
