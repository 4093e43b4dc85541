"""A circuit breaker for a shared store (Redis, SQL) the cockpit can live without.

After a failure the store is skipped for ``cooldown`` seconds, so a hung store costs one
timeout per cooldown instead of one per read; then one call tries it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Breaker:
    """Open (skip the store) for ``cooldown`` seconds after :meth:`fail`."""

    def __init__(self, name: str, cooldown: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.last_error: str | None = None
        self._open_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """Whether the store may be tried now."""
        return self.clock() >= self._open_until

    @property
    def down(self) -> bool:
        """Whether the last call to the store failed (it is being served around)."""
        return self._down

    def fail(self, exc: BaseException) -> None:
        """The store failed: skip it for a while (logged once per outage, not per read)."""
        with self._lock:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._open_until = self.clock() + self.cooldown
            first = not self._down
            self._down = True
        if first:
            log.warning("%s unavailable, served in-process for now: %s", self.name, self.last_error)

    def succeed(self) -> None:
        """The store answered."""
        if self._down:
            with self._lock:
                self._down = False
            log.warning("%s answers again", self.name)


__all__ = ["Breaker"]
