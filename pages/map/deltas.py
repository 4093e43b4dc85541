"""Send a screen only the feature colours that changed since the version it holds.

A layer's colours travel as its most common colour (``base``) and the features that differ
from it: twelve thousand street lights of which thirty are faulty cost thirty entries, not
twelve thousand. These are published as numbered versions (a few kept per layer). A
screen remembers the version it last received; the next tick sends the ids whose colour
changed since then (``None`` for one back to the base colour), or nothing at all. A screen
whose version this process does not know (a new screen, another gunicorn worker, an old
version) gets everything.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import Counter
from typing import Any

from dash import Patch, no_update

PROCESS = uuid.uuid4().hex[:8]


class DeltaBook:
    """Recent versions of each layer's colours."""

    def __init__(self, keep: int = 8) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._versions: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._counter = 0

    def publish(self, key: str, colours: dict[str, str]) -> int:
        """The version number of ``colours`` for ``key`` (a new one only if they changed)."""
        with self._lock:
            history = self._versions.setdefault(key, [])
            if history and history[-1][1] == colours:
                return history[-1][0]
            self._counter += 1
            history.append((self._counter, colours))
            del history[:-self.keep]
            return self._counter

    def changes(self, key: str, since: int, now: int) -> dict[str, str | None] | None:
        """The ids whose colour differs between versions ``since`` and ``now`` (``None``:
        no longer listed); None when ``since`` is not kept."""
        with self._lock:
            versions = dict(self._versions.get(key, []))
        if since not in versions or now not in versions:
            return None
        old, new = versions[since], versions[now]
        changed: dict[str, str | None] = {fid: colour for fid, colour in new.items() if old.get(fid) != colour}
        changed.update({fid: None for fid in old.keys() - new.keys()})
        return changed


def split_base(colours: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    """The most common colour, and the features whose colour differs from it."""
    if not colours:
        return None, {}
    base = Counter(colours.values()).most_common(1)[0][0]
    return base, {fid: colour for fid, colour in colours.items() if colour != base}


def paint_update(book: DeltaBook, layer: str, key: str, colours: dict[str, str],
                 extra: dict[str, Any], held: dict[str, Any] | None) -> tuple[Any, dict[str, Any]]:
    """What to send for one layer's paint store, and the state the screen holds afterwards.

    ``held`` is what the screen told us it holds: {"key", "version", "process", "extra"}.
    """
    base, colours = split_base(colours)
    extra = {**extra, "base": base}
    version = book.publish(key, colours)
    state = {"key": key, "version": version, "process": PROCESS, "extra": extra}
    if not isinstance(held, dict) or held.get("key") != key or held.get("process") != PROCESS \
            or not isinstance(held.get("version"), int) or isinstance(held.get("version"), bool):
        return {"colours": colours, **extra}, state   # nothing the screen holds that we know
    changed = book.changes(key, held["version"], version)
    if changed is None:
        return {"colours": colours, **extra}, state
    if not changed and held.get("extra") == extra:
        return no_update, state
    patch = Patch()
    if changed:
        patch["colours"].update(changed)
    shown = held.get("extra") if isinstance(held.get("extra"), dict) else {}
    for name, value in extra.items():
        if shown.get(name) != value:
            patch[name] = value
    return patch, state


def content_key(value: Any) -> str:
    """A short digest of a JSON value: equal digests, equal values."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha1(encoded.encode()).hexdigest()[:16]
