"""``/health``: a status anyone may read, the details for admins and the health token.

``GET /health`` answers ``{"status": "ok" | "degraded" | "down"}`` (HTTP 200, or 503 when
down) to anyone, the load balancer included. The details (adapters, bindings, areas, the
cache and the video walls) go only to a request with ``Authorization: Bearer <token>``
(the token in the variable ``security.health_token_env`` names) or ``?detail=1`` from a
signed-in admin. Everything in the details passes :class:`Redactor` first: no credential,
no file path, no host and port. The body is computed at most every few seconds, whoever
asks, and computing it never raises: a failure is ``down`` with a reference in the log.
"""

from __future__ import annotations

import hmac
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Flask, Request

from datasources.errors import public

from . import scope

SENSITIVE = ("password", "passwd", "pwd", "secret", "token", "key", "apikey", "api_key", "access_token",
             "auth", "sig", "signature", "credential", "credentials", "user", "username")
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_USERINFO = re.compile(r"[^\s:/@'\"]+:[^\s/@'\"]+@")
_NAMES = "|".join(SENSITIVE)
_PAIR = re.compile(rf"(?i)(?<![\w.:-])({_NAMES})(\s*=\s*|:\s+)(?!\*\*\*)([^\s&'\";,)]+)")
_HOSTS = (
    re.compile(r"(?i)(?<=\bhost=)['\"]?[^\s'\",)]+['\"]?"),                    # host='name'
    re.compile(r"\[[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\](?::\d{1,5})?"),               # [ipv6]:port
    re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b"),                  # ipv4[:port]
    re.compile(r"\blocalhost(?::\d{1,5})?\b"),
    re.compile(r"\b[A-Za-z][\w-]*(?:\.[\w-]+)*:\d{2,5}\b"),                   # name:port
)
_PORT = re.compile(r"(?i)\bport\s*=?\s*\d{2,5}\b")
_PATH = re.compile(r"(?<![\w*:/.~-])(?:~|[A-Za-z]:)?[/\\](?:[^\s/\\'\"(),;<>]+[/\\])+([^\s/\\'\"(),;<>]*)")
HOST = "<host>"
HIDDEN = "***"


class Redactor:
    """Takes credentials, file paths and hosts out of every string of a JSON-like value.

    Generic rules catch URLs (their user and password, host and port, secret query values),
    ``user:password@``, ``password=…``-style pairs, IP addresses, ``name:port`` and
    ``port N``, and absolute paths (reduced to the file name); the secrets, hosts and paths
    the config names are taken out wherever they appear, whatever their shape.
    """

    def __init__(self, secrets: Iterable[str] = (), hosts: Iterable[str] = (),
                 paths: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self.hosts = sorted({h for h in hosts if h}, key=len, reverse=True)
        self.paths = sorted({p.rstrip("/\\") for p in paths if len(p.rstrip("/\\")) > 1}, key=len,
                            reverse=True)

    @classmethod
    def for_config(cls, config: Any, env: dict[str, str] | None = None) -> Redactor:
        """A redactor knowing the secrets, hosts and paths in ``config`` and in the environment
        variables it names (``url_env``, ``token_env``, the security section's ``*_env``)."""
        env = dict(os.environ) if env is None else env
        dumped = config.model_dump()
        dumped.pop("playlists", None)   # the cockpit's own page URLs ("/wall?layout=…"), not files
        given = [env[name] for name in _env_names(dumped) if env.get(name)]
        secrets = [text for text in given if "://" not in text]
        hosts, paths = [], []
        for text in [*_strings(dumped), *given]:
            if "://" in text:
                parts = urlsplit(text)
                secrets += [parts.password or "", *(v for k, v in parse_qsl(parts.query)
                                                    if k.lower() in SENSITIVE)]
                hosts.append(parts.hostname or "")
            elif os.path.isabs(text):
                paths.append(text)
        return cls(secrets, hosts, paths)

    def __call__(self, value: Any) -> Any:
        """``value`` with every string (dict keys included) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self(k) if isinstance(k, str) else k: self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value

    def text(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, HIDDEN)
        for path in self.paths:
            text = text.replace(path, os.path.basename(path) or HIDDEN)
        text = _URL.sub(lambda m: _url(m.group(0)), text)
        text = _USERINFO.sub(HIDDEN + "@", text)
        text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
        for host in self.hosts:
            text = re.sub(rf"(?<![\w.-]){re.escape(host)}(?::\d{{1,5}})?(?![\w-])", HOST, text)
        for pattern in _HOSTS:
            text = pattern.sub(HOST, text)
        text = _PORT.sub("port " + HIDDEN, text)
        return _PATH.sub(lambda m: m.group(1) or HIDDEN, text)


def _url(url: str) -> str:
    """A URL with no user, password, host or port; secret query values hidden; its path
    cut to the last part (a file name, a database name)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return HIDDEN
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    query = urlencode([(k, HIDDEN if k.lower() in SENSITIVE else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return (f"{parts.scheme}://{HIDDEN}" + (f"/{last}" if last else "")
            + (f"?{query}" if query else ""))


def _env_names(value: Any) -> Iterable[str]:
    """The environment variables a dumped config names (values of keys ending in ``_env``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.endswith("_env") and isinstance(item, str):
                yield item
            else:
                yield from _env_names(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _env_names(item)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def status_of(details: dict[str, Any]) -> str:
    """``down`` when no adapter answers, else the details' ``ok`` or ``degraded``."""
    adapters = details.get("adapters") or {}
    if adapters and all(a.get("status") != "ok" for a in adapters.values()):
        return "down"
    walls = details.get("walls") or {}
    if details.get("status") == "ok" and not walls.get("degraded"):
        return "ok"
    return "down" if details.get("status") == "down" else "degraded"


class HealthReport:
    """The redacted details, computed at most every ``ttl`` seconds by one caller at a time
    (the others meanwhile get the previous ones)."""

    def __init__(self, compute: Callable[[], dict[str, Any]], redactor: Redactor,
                 ttl: float = 5.0) -> None:
        self.compute = compute
        self.redactor = redactor
        self.ttl = ttl
        self._last: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def details(self) -> dict[str, Any]:
        last = self._last
        if last is not None and time.monotonic() < last[0]:
            return last[1]
        if last is not None and not self._lock.acquire(blocking=False):
            return last[1]                                   # someone is computing: the previous
        if last is None:
            self._lock.acquire()
        try:
            if self._last is not None and self._last is not last:
                return self._last[1]                         # computed while we waited
            body = self._safely()
            self._last = (time.monotonic() + self.ttl, body)
            return body
        finally:
            self._lock.release()

    def _safely(self) -> dict[str, Any]:
        try:
            body = dict(self.compute())
        except Exception as exc:  # /health answers whatever fails below it
            body = {"status": "down", "error": public(exc, where="/health")}
        body["status"] = status_of(body)
        return self.redactor(body)


def details_allowed(security: Any, headers: Any, args: Any,
                    env: dict[str, str] | None = None) -> bool | int:
    """True when the request may see the details, False when it did not ask for them, or
    the HTTP status refusing them (401: a wrong token, 403: not an admin)."""
    env = dict(os.environ) if env is None else env
    given = headers.get("Authorization", "")
    if given.startswith("Bearer "):
        expected = env.get(security.health_token_env, "")
        ok = bool(expected) and hmac.compare_digest(given.removeprefix("Bearer ").strip().encode(),
                                                    expected.encode())
        return True if ok else 401
    if args.get("detail") not in (None, "", "0"):
        who = scope.current()
        return True if "admin" in who.roles or who.who == "health-token" else 403
    return False


def answer(report: HealthReport, security: Any, headers: Any, args: Any) -> tuple[dict[str, Any], int]:
    """The body and HTTP status of ``GET /health`` for a request with ``headers`` and ``args``."""
    allowed = details_allowed(security, headers, args)
    if allowed is not True and allowed is not False:
        return {"error": "details need the health token or a signed-in admin"}, int(allowed)
    details = report.details()
    status = str(details.get("status", "down"))
    code = 503 if status == "down" else 200
    return (details if allowed else {"status": status}), code




def respond(server: Flask, req: Request) -> tuple[dict[str, Any], int]:
    """``GET /health`` of the running cockpit (its report kept on ``server``, made anew when
    another cockpit was installed)."""
    from . import runtime, walls

    cockpit = runtime.current()
    held = server.config.get("CITYBRAIN_HEALTH")
    if held is None or held[0] is not cockpit:
        report = HealthReport(lambda: {**cockpit.data.health(), "walls": walls.walls_of(server)},
                              Redactor.for_config(cockpit.config))
        held = server.config["CITYBRAIN_HEALTH"] = (cockpit, report)
    return answer(held[1], cockpit.config.security, req.headers, req.args)


__all__ = ["HealthReport", "Redactor", "answer", "details_allowed", "respond", "status_of"]
