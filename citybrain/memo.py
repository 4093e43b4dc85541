"""A short-lived, per-process memo of computed views, with one computation per key.

Two hundred screens ticking at once ask for the same heartbeat within the same second;
the first computes it and the others take the result, so the cost of a tick does not
grow with the number of viewers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class TtlMemo:
    """``get(key, compute)``: the value computed for ``key`` less than ``seconds`` ago,
    else ``compute()`` run once while concurrent callers of the same key wait for it."""

    def __init__(self, seconds: float, max_keys: int = 64) -> None:
        self.seconds = seconds
        self.max_keys = max_keys
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self.computed = 0
        self.served = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        hit = self._fresh(key)
        if hit is not None:
            return hit[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._fresh(key)   # computed while we waited for the lock
            if hit is not None:
                return hit[1]
            value = compute()
            with self._guard:
                if len(self._values) >= self.max_keys:
                    self._values.clear()
                self._values[key] = (time.monotonic(), value)
                self.computed += 1
            return value

    def _fresh(self, key: Hashable) -> tuple[float, Any] | None:
        with self._guard:
            hit = self._values.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.seconds:
                self.served += 1
                return hit
        return None
