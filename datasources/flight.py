"""Single-flight: one refresh per cache key at a time, across threads and processes.

In one process a non-blocking lock per key is enough; with gunicorn workers sharing a
Redis cache the lock is a Redis key set with ``NX PX`` (expiring on its own if its
holder dies) and released only by its holder's token.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


class Flight(Protocol):
    """Who refreshes a key: ``claim`` yields True to exactly one caller at a time."""

    def claim(self, key: str, ttl_seconds: float) -> Any: ...


class LocalFlight:
    """Single-flight between the threads of one process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def claim(self, key: str, ttl_seconds: float) -> Iterator[bool]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()


class RedisFlight:
    """Single-flight between every process that shares one Redis."""

    def __init__(self, client: Any, prefix: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self._release = client.register_script(_RELEASE)
        self.local = LocalFlight()

    @contextmanager
    def claim(self, key: str, ttl_seconds: float) -> Iterator[bool]:
        with self.local.claim(key, ttl_seconds) as mine:
            if not mine:   # another thread of this process is already on it
                yield False
                return
            token = uuid.uuid4().hex
            lock_key = f"{self.prefix}{key}:lock"
            try:
                got = bool(self.client.set(lock_key, token, nx=True,
                                           px=max(100, int(ttl_seconds * 1000))))
            except Exception:   # a cache fault: refresh without the lock, never fail the read
                got = True
                token = ""
            try:
                yield got
            finally:
                if got and token:
                    try:
                        self._release(keys=[lock_key], args=[token])
                    except Exception:
                        pass


class NoFlight:
    """No coordination: every caller reads (for a backend that caches nothing)."""

    @contextmanager
    def claim(self, key: str, ttl_seconds: float) -> Iterator[bool]:
        yield True


def flight_for(backend: Any, redis_client: Any = None) -> Flight:
    """The single-flight that matches a cache backend: across workers on ``redis_client``
    (the Redis the backend was built on, handed over by whoever built it), else in the process."""
    from flask_caching.backends import NullCache

    if isinstance(backend, NullCache):
        return NoFlight()
    if redis_client is not None:
        return RedisFlight(redis_client, getattr(backend, "key_prefix", "") or "")
    return LocalFlight()
