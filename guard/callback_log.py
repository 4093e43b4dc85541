"""Failed callbacks in the log, deduplicated and capped, so a flood of bad requests cannot
flood the log: one line per distinct (callback, exception type, message) per interval with
how often it happened, the full traceback only the first time, and at most so many lines a
minute in all (then one line saying how many were held back).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("citybrain.callbacks")

MAX_MESSAGE = 300      # characters of an exception message kept (a message may carry a payload)
MAX_KEYS = 1000        # distinct failures remembered; the oldest is forgotten first


@dataclass
class _Seen:
    last_logged: float
    repeats: int = 0


class CallbackLog:
    """The deduplicating, capped log of failed callbacks."""

    def __init__(self, logger: logging.Logger = log, *, interval: float = 60.0, per_minute: int = 30,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.interval = interval
        self.per_minute = per_minute
        self.clock = clock
        self._seen: OrderedDict[tuple[str, str, str], _Seen] = OrderedDict()
        self._minute_start = clock()
        self._lines = 0
        self._held_back = 0
        self._lock = threading.Lock()

    def failed(self, err: BaseException, callback: str | None = None) -> None:
        """Note that ``callback`` (default: the one the current request names) raised ``err``."""
        callback = callback or requested_callback()
        message = short(str(err))
        key = (callback, type(err).__name__, message)
        with self._lock:
            now = self.clock()
            seen = self._seen.get(key)
            if seen is not None and now - seen.last_logged < self.interval:
                seen.repeats += 1
                return
            if not self._room(now):
                if seen is not None:
                    seen.repeats += 1
                return
            if seen is None:
                self._remember(key, now)
                self.logger.error("callback %s failed: %s: %s\n%s", callback, key[1], message, stack(err))
            else:
                self.logger.error("callback %s failed: %s: %s (%d more times in the last %.0f s)",
                                  callback, key[1], message, seen.repeats + 1, now - seen.last_logged)
                seen.last_logged, seen.repeats = now, 0

    def _room(self, now: float) -> bool:
        """Whether another line fits in this minute; a new minute first says how many lines
        the last one held back."""
        if now - self._minute_start >= 60:
            if self._held_back:
                self.logger.error("callback failures: %d log lines held back in the last minute",
                                  self._held_back)
            self._minute_start, self._lines, self._held_back = now, 0, 0
        if self._lines >= self.per_minute:
            self._held_back += 1
            return False
        self._lines += 1
        return True

    def _remember(self, key: tuple[str, str, str], now: float) -> None:
        self._seen[key] = _Seen(now)
        while len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)


def short(text: str) -> str:
    """``text`` on one line, at most :data:`MAX_MESSAGE` characters (and its length if cut)."""
    cut = " ".join(text[:MAX_MESSAGE].split())
    return cut if len(text) <= MAX_MESSAGE else f"{cut}… ({len(text)} characters)"


def stack(err: BaseException) -> str:
    """The traceback of ``err`` and of what caused it, messages shortened (an exception
    message may hold a whole hostile payload: the log gets its first characters only)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{type(current).__name__}: "
                     f"{short(str(current))}")
        current = current.__cause__ or current.__context__
    return "\n\nThe above exception led to:\n".join(reversed(parts))


def requested_callback() -> str:
    """The outputs the current Dash callback request names (a short form), else ``?``."""
    from flask import has_request_context, request

    if not has_request_context():
        return "?"
    body = request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    return short(output)[:120] if isinstance(output, str) else "?"


_default = CallbackLog()


def failed(err: BaseException) -> None:
    """Log a failed callback through the app's one :class:`CallbackLog` (Dash's ``on_error``)."""
    _default.failed(err)
