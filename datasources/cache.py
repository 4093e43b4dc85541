"""A caching wrapper with the same interface as the adapter it wraps.

Single-flight: one refresh per key per TTL across threads and, with Redis, across
gunicorn workers; the others keep serving the previous value meanwhile.

flask-caching's backends sit in front of every adapter read: ``SimpleCache`` in the
process by default, ``RedisCache`` when a Redis URL is configured. Each read is cached
for its indicators' refresh seconds. When the adapter raises or times out, the last
good value is served marked stale; when there never was one, an empty frame marked
stale. A fault of the cache itself never breaks a read: a shared cache (Redis) is wrapped
in :class:`FallbackCache`, which keeps every value in the process too and, after a fault,
skips the shared cache for a few seconds (a hung Redis costs one timeout, not one per read).
A store that hung is likewise rested for a few seconds, served from its last good values.
The error a stale frame carries is a category and a reference (the details are logged).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from .base import (
    AREA_COLUMNS,
    EVENT_COLUMNS,
    LATEST_COLUMNS,
    SERIES_COLUMNS,
    AreaLevel,
    DataSource,
    Frame,
    Health,
    LiveAttributes,
    utcnow,
)
from .breaker import Breaker
from .errors import BadQuery, DataSourceError, category_of, public
from .flight import Flight, LocalFlight, flight_for

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator

log = logging.getLogger(__name__)

STATIC_TTL = 3600          # areas and map geometry
GOOD_TTL = 7 * 24 * 3600   # how long a last good value is kept for stale serving
# ... for a read over a time window: its key moves on with the clock (a new one every
# minute for the heartbeat), so its good copy lives only while the key is still asked
# for (each read renews it), instead of piling up for a week
CLOSED_WINDOW_TTL = 60   # seconds a read of a window wholly in the past is kept
WINDOW_GOOD_TTL = 3600
REST_SECONDS = 5.0       # a store that timed out is not waited on again for this long
_EMPTY: dict[str, Callable[[], Any]] = {
    "areas": lambda: pd.DataFrame(columns=AREA_COLUMNS),
    "latest": lambda: pd.DataFrame(columns=LATEST_COLUMNS),
    "series": lambda: pd.DataFrame(columns=SERIES_COLUMNS),
    "events": lambda: pd.DataFrame(columns=EVENT_COLUMNS),
    "layer": lambda: {"type": "FeatureCollection", "features": []},
    "states": lambda: pd.DataFrame(columns=["id"]),
}


@dataclass
class ReadStats:
    """What the cache saw of one adapter, for ``/health``."""

    last_ok_at: datetime | None = None
    last_data_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_latency_ms: float | None = None
    failures: int = 0
    hits: int = 0
    misses: int = 0
    shared: int = 0     # reads that found another caller refreshing and did not read


class CachedSource:
    """``source`` behind a flask-caching backend, with timeouts and stale-on-error."""

    def __init__(self, source: DataSource, backend: Any, *, prefix: str = "citybrain:",
                 timeout: float = 5.0, default_ttl: int = 5, redis_client: Any = None) -> None:
        self.source = source
        self.name = source.name
        self.backend = backend
        self.prefix = f"{prefix}{source.name}:"
        self.timeout = timeout
        self.default_ttl = default_ttl
        self.stats = ReadStats()
        self._lock = threading.Lock()
        if redis_client is None and isinstance(backend, FallbackCache):
            redis_client = backend.client
        self.flight: Flight = flight_for(backend, redis_client)
        if isinstance(backend, FallbackCache):   # while the shared cache is skipped, so is its lock
            self.flight = GuardedFlight(self.flight, backend.breaker)
        self._rest_until = 0.0
        self._rest_error = ""

    # --- the contract, cached -------------------------------------------------------------
    def areas(self) -> Frame[pd.DataFrame]:
        return self._read("areas", {}, STATIC_TTL, self.source.areas)

    def latest(self, indicators: Sequence[Indicator], level: AreaLevel,
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        key = {"i": [i.id for i in indicators], "level": level,
               "at": at.isoformat() if at else None}
        return self._read("latest", key, _ttl(indicators, self.default_ttl),
                          lambda: self.source.latest(indicators, level, at))

    def series(self, indicators: Sequence[Indicator], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        key = {"i": [i.id for i in indicators], "a": list(area_ids), "s": start.isoformat(),
               "e": end.isoformat(), "step": step.total_seconds()}
        ttl = _ttl(indicators, self.default_ttl)
        if end <= utcnow():   # a window that has closed changes only by late data: read it once a minute
            ttl = max(ttl, CLOSED_WINDOW_TTL)
        return self._read("series", key, ttl,
                          lambda: self.source.series(indicators, area_ids, start, end, step),
                          good_ttl=WINDOW_GOOD_TTL)

    def events(self, since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        key = {"since": since.isoformat(), "until": until.isoformat() if until else None}
        return self._read("events", key, self.default_ttl, lambda: self.source.events(since, until),
                          good_ttl=WINDOW_GOOD_TTL)

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        return self._read("layer", {"name": name}, STATIC_TTL, lambda: self.source.layer(name))

    def feature_states(self, name: str) -> Frame[pd.DataFrame]:
        """Live attributes of a map layer's features (adapters without them: BadQuery)."""
        source = self.source
        if not isinstance(source, LiveAttributes):
            raise BadQuery(self.name, f"{self.name} has no live attributes for map layers")
        return self._read("states", {"name": name}, self.default_ttl, lambda: source.feature_states(name))

    def health(self) -> Health:
        """The adapter's own health, checked with the same timeout as reads."""
        started = time.perf_counter()
        try:
            health = self._call(self.source.health)
        except TimeoutError:
            health = Health(self.name, False, error=f"health check timed out after "
                                                    f"{self.timeout:g} s")
        except Exception as exc:  # a health check never raises out of here
            health = Health(self.name, False, error=f"{type(exc).__name__}: {exc}")
        if health.latency_ms is None:
            health = Health(health.name, health.ok, (time.perf_counter() - started) * 1000,
                            health.last_data_at, health.error, health.details)
        return health

    # --- internals --------------------------------------------------------------------------
    def key(self, method: str, params: dict[str, Any]) -> str:
        """The namespaced cache key of one read: the method and a hash of its parameters."""
        digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:20]
        return f"{self.prefix}{method}:{digest}"

    def _read(self, method: str, params: dict[str, Any], ttl: int,
              fetch: Callable[[], Frame[Any]], *, good_ttl: int = GOOD_TTL) -> Frame[Any]:
        key = self.key(method, params)
        cached = self._cache_get(key)
        if cached is not None:
            self.stats.hits += 1
            return cached
        with self.flight.claim(key, self.timeout + 1.0) as mine:
            if not mine:
                waited = self._while_another_refreshes(key)
                if waited is not None:
                    return waited
            else:
                cached = self._cache_get(key)   # filled while we took the claim
                if cached is not None:
                    self.stats.hits += 1
                    return cached
            return self._refresh(key, method, ttl, fetch, good_ttl)

    def _while_another_refreshes(self, key: str) -> Frame[Any] | None:
        """Someone else is refreshing ``key``: serve the previous value meanwhile, or on
        a cold start wait for theirs; None when it never came (then we read ourselves)."""
        self.stats.shared += 1
        previous = self._cache_get(key + ":good")
        if previous is not None:
            return previous
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
            value = self._cache_get(key)
            if value is not None:
                return value
        return None

    def _refresh(self, key: str, method: str, ttl: int, fetch: Callable[[], Frame[Any]],
                 good_ttl: int) -> Frame[Any]:
        self.stats.misses += 1
        if time.monotonic() < self._rest_until:   # it hung a moment ago: do not wait on it again
            return self._stale(key, method, self._rest_error, good_ttl)
        started = time.perf_counter()
        try:
            frame = self._call(fetch)
        except TimeoutError:
            return self._on_failure(key, method, TimeoutError(
                f"{self.name}: no answer within {self.timeout:g} s"), good_ttl)
        except DataSourceError as exc:
            if not exc.downstream:
                raise
            return self._on_failure(key, method, exc, good_ttl)
        except Exception as exc:  # a driver error the adapter did not wrap
            log.exception("adapter %s failed on %s", self.name, method)
            return self._on_failure(key, method, exc, good_ttl)
        with self._lock:
            self.stats.last_ok_at = utcnow()
            self.stats.last_data_at = frame.as_of
            self.stats.last_latency_ms = (time.perf_counter() - started) * 1000
            self.stats.last_error = None
        self._cache_set(key, frame, ttl)
        self._cache_set(key + ":good", frame, good_ttl)
        return frame

    def _call(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` in its own daemon thread, given up after ``timeout`` seconds.

        A thread per call (reads miss at most once per TTL) rather than a pool: a store
        that hangs strands only its own call, and nothing is shared that could wedge.
        """
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc

        worker = threading.Thread(target=run, name=f"read-{self.name}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive() or not box:
            raise TimeoutError(self.timeout)
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _on_failure(self, key: str, method: str, exc: BaseException, good_ttl: int) -> Frame[Any]:
        """Record the failure (details logged under a reference) and serve the last good value."""
        detail = str(exc) if isinstance(exc, DataSourceError | TimeoutError) \
            else f"{self.name}: {type(exc).__name__}: {exc}"
        # the datasource's name stays in front: a merged frame's error says whose it is
        shown = f"{self.name}: {public(exc, where=f'{self.name} {method}, serving stale {key}')}"
        with self._lock:
            self.stats.failures += 1
            self.stats.last_error = f"{detail} [{shown}]"
            self.stats.last_error_at = utcnow()
            if category_of(exc) == "timeout":
                self._rest_until = time.monotonic() + REST_SECONDS
                self._rest_error = shown
        return self._stale(key, method, shown, good_ttl)

    def _stale(self, key: str, method: str, error: str, good_ttl: int) -> Frame[Any]:
        """The last good value of ``key`` marked stale with ``error``, else an empty frame."""
        good = self._cache_get(key + ":good")
        if good is not None:
            self._cache_set(key + ":good", good, good_ttl)   # still asked for: keep it
            return good.as_stale(error)
        return Frame(_EMPTY[method](), as_of=utcnow(), source=self.name, stale=True, error=error)

    def _cache_get(self, key: str) -> Frame[Any] | None:
        try:
            value = self.backend.get(key)
        except Exception:
            log.exception("cache get failed for %s; reading through", key)
            return None
        return value if isinstance(value, Frame) else None

    def _cache_set(self, key: str, frame: Frame[Any], ttl: int) -> None:
        try:
            self.backend.set(key, frame, timeout=ttl)
        except Exception:
            log.exception("cache set failed for %s; value not cached", key)


class FallbackCache:
    """A shared cache backend (Redis) with the process as fallback.

    Every value is kept in an in-process cache too, so the last good values survive the
    shared cache going away; after a fault the shared cache is skipped for ``cooldown``
    seconds (reads and writes go to the process copy), then tried again.
    """

    def __init__(self, shared: Any, *, client: Any = None, threshold: int = 5000, cooldown: float = 5.0) -> None:
        from flask_caching.backends import SimpleCache

        self.shared = shared
        self.client = client   # the Redis the shared cache is built on: the workers' single-flight locks
        self.local = SimpleCache(threshold=threshold, default_timeout=300)
        self.key_prefix = getattr(shared, "key_prefix", "") or ""
        self.breaker = Breaker("shared cache", cooldown)

    @property
    def degraded(self) -> bool:
        """Whether the shared cache failed and values are served from the process."""
        return self.breaker.down

    def check(self) -> bool:
        """Whether the shared cache answers (tried now unless it is being skipped)."""
        self.get(f"{self.key_prefix}citybrain:probe")
        return not self.degraded

    def get(self, key: str) -> Any:
        if self.breaker.closed:
            try:
                value = self.shared.get(key)
            except Exception as exc:  # a cache fault: the process copy serves
                self.breaker.fail(exc)
            else:
                self.breaker.succeed()
                if value is not None:
                    return value
        return self.local.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self.local.set(key, value, timeout=timeout)
        if self.breaker.closed:
            try:
                self.shared.set(key, value, timeout=timeout)
            except Exception as exc:  # a cache fault: kept in the process only
                self.breaker.fail(exc)
            else:
                self.breaker.succeed()
        return True


class GuardedFlight:
    """The shared single-flight while the shared cache answers, the process's while it is skipped."""

    def __init__(self, shared: Flight, breaker: Breaker) -> None:
        self.shared = shared
        self.local = LocalFlight()
        self.breaker = breaker

    def claim(self, key: str, ttl_seconds: float) -> Any:
        return (self.shared if self.breaker.closed else self.local).claim(key, ttl_seconds)


def _ttl(indicators: Sequence[Indicator], default: int) -> int:
    return min((i.refresh_seconds for i in indicators), default=default)
