"""The Host allow-list: a request naming a host the site does not serve gets 400 before any
app code runs (no links or redirects built on a forged Host, no cache keyed by it).

Entries are host names (the port is ignored), ``*`` for any host, or ``.example.org`` for
that domain and every name under it. A client on this machine may always name the machine
itself (``localhost``, ``127.0.0.1``, ``::1``): the app's own start-up requests do, and such
a name lets no link or redirect point elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from guard.wsgi import WSGIApp, plain_response

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(value: str) -> str:
    """The name in a Host header, without the port, lower case (``[::1]:8050`` -> ``::1``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostAllowList:
    """WSGI middleware answering 400 to a Host outside ``allowed``."""

    def __init__(self, app: WSGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        names = [a.strip().lower() for a in allowed]
        self.any = "*" in names
        self.exact = {host_name(n) for n in names if not n.startswith(".")}
        self.domains = tuple(n for n in names if n.startswith("."))

    def allows(self, host: str) -> bool:
        name = host_name(host)
        if not name:
            return False
        return self.any or name in self.exact or name.endswith(self.domains) \
            or f".{name}" in self.domains

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        local = environ.get("REMOTE_ADDR") in LOOPBACK and host_name(host) in LOOPBACK
        if not (local or self.allows(host)):
            return plain_response(start_response, 400, "unknown host")
        return self.app(environ, start_response)
