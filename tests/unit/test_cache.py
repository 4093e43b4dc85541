"""The cache wrapper: TTL from the catalogue, stale-on-error, timeouts, cache faults bypassed."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from flask_caching.backends import SimpleCache

from citybrain.config import load_config
from datasources.base import EVENT_COLUMNS, LATEST_COLUMNS, Frame, Health
from datasources.cache import GOOD_TTL, WINDOW_GOOD_TTL, CachedSource
from datasources.errors import BadQuery, StoreUnavailable

CAT = load_config(env={}).catalogue
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


class FlakyStore:
    """A test double: answers with a counter, or fails / hangs when told to."""

    name = "flaky"

    def __init__(self) -> None:
        self.calls = 0
        self.mode = "ok"
        self.release = threading.Event()

    def latest(self, indicators: Any, level: str, at: datetime | None = None) -> Frame[Any]:
        self.calls += 1
        if self.mode == "down":
            raise StoreUnavailable(self.name, "connection refused")
        if self.mode == "bug":
            raise ZeroDivisionError("driver blew up")
        if self.mode == "bad":
            raise BadQuery(self.name, "no such column 'speed'")
        if self.mode == "hang":
            self.release.wait(5)
        rows = [(i.id, "city", T0, float(self.calls)) for i in indicators]
        return Frame(pd.DataFrame(rows, columns=LATEST_COLUMNS), as_of=T0 + timedelta(
            seconds=self.calls), source=self.name)

    def events(self, since: datetime, until: datetime | None = None) -> Frame[Any]:
        self.calls += 1
        if self.mode == "down":
            raise StoreUnavailable(self.name, "connection refused")
        return Frame(pd.DataFrame(columns=EVENT_COLUMNS), as_of=since, source=self.name)

    def health(self) -> Health:
        return Health(self.name, self.mode == "ok")


class BrokenBackend:
    """A cache backend whose every call fails."""

    def get(self, key: str) -> Any:
        raise ConnectionError("cache down")

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        raise ConnectionError("cache down")


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


def cached(store: FlakyStore, backend: Any = None, timeout: float = 2.0) -> CachedSource:
    return CachedSource(store, backend if backend is not None else SimpleCache(), timeout=timeout)


def test_second_read_within_ttl_is_served_from_cache(store: FlakyStore) -> None:
    src = cached(store)
    a = src.latest([CAT.get("traffic_tpi")], "city")
    b = src.latest([CAT.get("traffic_tpi")], "city")
    assert store.calls == 1 and a.data.equals(b.data) and not b.stale


def test_ttl_is_the_shortest_refresh_of_the_indicators(store: FlakyStore,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    src = cached(store)
    seen: list[int] = []
    original = src._cache_set
    monkeypatch.setattr(src, "_cache_set", lambda k, f, ttl: (seen.append(ttl), original(k, f, ttl)))
    src.latest([CAT.get("traffic_tpi"), CAT.get("hazards_open")], "city")
    assert seen[0] == min(CAT.get("traffic_tpi").refresh_seconds,
                          CAT.get("hazards_open").refresh_seconds)


def test_good_copies_of_moving_windows_expire_unless_still_asked_for(
        store: FlakyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    src = cached(store)
    good: dict[str, list[int]] = {}
    original = src._cache_set

    def spy(key: str, frame: Frame[Any], ttl: int) -> None:
        if key.endswith(":good"):
            good.setdefault(key.split(":")[2], []).append(ttl)
        original(key, frame, ttl)

    monkeypatch.setattr(src, "_cache_set", spy)
    src.latest([CAT.get("aqi")], "city")
    for minute in range(3):                 # a new window, so a new key, every minute
        src.events(T0 + timedelta(minutes=minute))
    assert good == {"latest": [GOOD_TTL], "events": [WINDOW_GOOD_TTL] * 3}
    src.backend.delete(src.key("events", {"since": T0.isoformat(), "until": None}))
    store.mode = "down"
    assert src.events(T0).stale
    assert good["events"] == [WINDOW_GOOD_TTL] * 4, "serving it stale renews the good copy"


def test_expired_entry_is_read_again(store: FlakyStore) -> None:
    backend = SimpleCache()
    src = cached(store, backend)
    src.latest([CAT.get("aqi")], "city")
    backend.clear()
    src.latest([CAT.get("aqi")], "city")
    assert store.calls == 2


def test_store_outage_serves_last_good_value_marked_stale(store: FlakyStore) -> None:
    backend = SimpleCache()
    src = cached(store, backend)
    good = src.latest([CAT.get("aqi")], "city")
    backend.delete(src.key("latest", {"i": ["aqi"], "level": "city", "at": None}))
    store.mode = "down"
    stale = src.latest([CAT.get("aqi")], "city")
    assert stale.stale and (stale.error or "").startswith("flaky: connection failed (ref ")   # details: the log
    assert "connection refused" in (src.stats.last_error or "")
    assert stale.data.equals(good.data) and stale.as_of == good.as_of
    assert src.stats.failures == 1 and src.stats.last_error


def test_unexpected_driver_error_also_serves_stale(store: FlakyStore) -> None:
    backend = SimpleCache()
    src = cached(store, backend)
    src.latest([CAT.get("aqi")], "city")
    backend.delete(src.key("latest", {"i": ["aqi"], "level": "city", "at": None}))
    store.mode = "bug"
    frame = src.latest([CAT.get("aqi")], "city")
    assert frame.stale and (frame.error or "").startswith("flaky: internal error (ref ")
    assert "ZeroDivisionError" in (src.stats.last_error or "")


def test_outage_with_no_good_value_gives_an_empty_stale_frame(store: FlakyStore) -> None:
    store.mode = "down"
    frame = cached(store).latest([CAT.get("aqi")], "city")
    assert frame.stale and frame.data.empty and list(frame.data.columns) == LATEST_COLUMNS


def test_a_hanging_store_times_out_to_stale(store: FlakyStore) -> None:
    backend = SimpleCache()
    src = cached(store, backend, timeout=0.3)
    src.latest([CAT.get("aqi")], "city")
    backend.delete(src.key("latest", {"i": ["aqi"], "level": "city", "at": None}))
    store.mode = "hang"
    started = time.monotonic()
    frame = src.latest([CAT.get("aqi")], "city")
    store.release.set()
    assert frame.stale and (frame.error or "").split(": ", 1)[-1].startswith("timed out (ref ")
    assert "no answer within 0.3 s" in (src.stats.last_error or "")
    assert time.monotonic() - started < 3


def test_store_heals_and_the_next_read_is_fresh(store: FlakyStore) -> None:
    backend = SimpleCache()
    src = cached(store, backend)
    key = src.key("latest", {"i": ["aqi"], "level": "city", "at": None})
    src.latest([CAT.get("aqi")], "city")
    backend.delete(key)
    store.mode = "down"
    assert src.latest([CAT.get("aqi")], "city").stale
    store.mode = "ok"
    backend.delete(key)
    healed = src.latest([CAT.get("aqi")], "city")
    assert not healed.stale and healed.error is None and src.stats.last_error is None


def test_bad_query_is_ours_and_is_raised_not_hidden(store: FlakyStore) -> None:
    store.mode = "bad"
    with pytest.raises(BadQuery, match="no such column"):
        cached(store).latest([CAT.get("aqi")], "city")


def test_a_failing_cache_is_bypassed(store: FlakyStore) -> None:
    src = cached(store, BrokenBackend())
    frame = src.latest([CAT.get("aqi")], "city")
    assert not frame.stale and store.calls == 1


def test_keys_are_namespaced_and_hash_their_parameters(store: FlakyStore) -> None:
    src = CachedSource(store, SimpleCache(), prefix="cb:")
    a = src.key("latest", {"i": ["aqi"], "level": "city"})
    b = src.key("latest", {"i": ["aqi"], "level": "grid"})
    assert a.startswith("cb:flaky:latest:") and a != b


def test_health_of_a_failing_store_is_a_value_not_an_exception(store: FlakyStore) -> None:
    store.mode = "down"
    health = cached(store).health()
    assert health.ok is False and health.to_json()["status"] == "failing"


def test_a_window_that_has_closed_is_read_once_a_minute_one_still_open_at_the_refresh(
        store: FlakyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from datasources.base import SERIES_COLUMNS, utcnow
    from datasources.cache import CLOSED_WINDOW_TTL

    monkeypatch.setattr(store, "series", lambda *args: Frame(pd.DataFrame(columns=SERIES_COLUMNS),
                                                             as_of=utcnow(), source="flaky"), raising=False)
    src = cached(store)
    seen: list[int] = []
    original = src._cache_set
    monkeypatch.setattr(src, "_cache_set", lambda k, f, ttl: (seen.append(ttl), original(k, f, ttl))
                        if not k.endswith(":good") else original(k, f, ttl))
    ind = CAT.get("traffic_tpi")
    end = utcnow().replace(second=0, microsecond=0)
    src.series([ind], ["city"], end - timedelta(hours=1), end, timedelta(minutes=1))
    src.series([ind], ["city"], end - timedelta(hours=1), end + timedelta(hours=1), timedelta(minutes=1))
    assert seen == [CLOSED_WINDOW_TTL, ind.refresh_seconds]
