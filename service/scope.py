"""Whose request this is, as the data service sees it: the areas and personal fields allowed.

The sign-in gate puts a :class:`Scope` on every request it lets through (``flask.g``); the
data service reads it with :func:`current` and filters what it returns, so every page,
export, map layer, event list and ranking is limited alike. Outside a request (start-up,
the command line, a test calling the service) the scope is everything. Inside a request
that the gate did not mark, it is nothing: a forgotten check fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import g, has_request_context


@dataclass(frozen=True)
class Scope:
    """What one signed-in person or wall may see."""

    who: str
    roles: frozenset[str] = frozenset()
    areas: frozenset[str] | None = None      # the top areas allowed (and all below); None: every area
    personal: bool = False                   # personal fields shown unmasked
    layouts: frozenset[str] | None = None    # a wall token's layouts and playlists; None: any
    grants: frozenset[str] | None = None     # what the policy grants (e.g. "export"); None: all
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def unlimited(self) -> bool:
        return self.areas is None

    def may(self, grant: str) -> bool:
        """Whether this scope holds ``grant`` (pages hide what the gate would refuse)."""
        return self.grants is None or grant in self.grants or "*" in self.grants

    @property
    def view_key(self) -> tuple[frozenset[str] | None, bool]:
        """What decides the data this scope is shown: key any memo of rendered or read views
        by it, so one person's view is never served to another."""
        return (self.areas, self.personal)


EVERYTHING = Scope("system", frozenset({"admin"}), None, True)
NOTHING = Scope("nobody", frozenset(), frozenset(), False, frozenset())

_audit: Callable[[str, str, dict[str, Any]], None] | None = None
_outside: Scope | None = None   # a scope set with :func:`using` outside any request


def current() -> Scope:
    """The scope of the request being served (see the module docstring)."""
    if has_request_context():
        return getattr(g, "citybrain_scope", NOTHING)
    return _outside or EVERYTHING


def set_for_request(scope: Scope) -> None:
    """The gate marks the request it lets through."""
    g.citybrain_scope = scope


@contextmanager
def using(scope: Scope) -> Iterator[Scope]:
    """``scope`` for the code inside, in a request or outside (tests, the command line)."""
    global _outside
    if has_request_context():
        before = getattr(g, "citybrain_scope", None)
        g.citybrain_scope = scope
        try:
            yield scope
        finally:
            if before is None:
                g.pop("citybrain_scope", None)
            else:
                g.citybrain_scope = before
        return
    previous, _outside = _outside, scope
    try:
        yield scope
    finally:
        _outside = previous


Sink = Callable[[str, str, dict[str, Any]], None]


def set_audit_sink(sink: Sink | None) -> Sink | None:
    """Where :func:`audit` writes: ``sink(who, action, detail)`` (the access package's table);
    returns the sink it replaces."""
    global _audit
    before, _audit = _audit, sink
    return before


def audit(action: str, **detail: Any) -> None:
    """Record that the current scope did ``action`` (e.g. viewed personal data)."""
    if _audit is not None:
        _audit(current().who, action, detail)
