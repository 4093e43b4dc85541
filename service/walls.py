"""Heartbeats of the open video walls, so operators see a frozen wall before the room does.

Each wall page posts a small heartbeat (page, layout, when it last rendered, JS heap where
the browser tells) to ``POST /wall/heartbeat``; ``/health`` lists the walls heard from
lately. The registry is shared by every worker: in the cache's Redis when the cache is
Redis, else in a table of the access database. It is capped (``security.limits.walls_max``,
oldest dropped), expires walls by time on every write (``limits.wall_ttl_seconds``), and
keeps working in the process when the shared store fails.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request

from citybrain.security import Limits
from datasources.breaker import Breaker

from .wall_store import Beat, LocalWalls, RedisWalls, SqlWalls, WallStore

MAX_BODY = 4096
SHOWN = 50                                       # walls listed in /health (the count says how many)
WALL_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
LAYOUT = re.compile(r"[A-Za-z0-9_.:-]{0,64}")
PAGE = re.compile(r"/[!#-&(-;=?-\[\]-_a-~]{0,199}")   # printable, no quotes, <, >, \ or `
NUMBERS = {"last_render_ms_ago": (0.0, 30 * 24 * 3600 * 1000.0),   # up to 30 days
           "js_heap_bytes": (0.0, float(2 ** 40))}                  # up to 1 TiB


def validate(payload: Any) -> tuple[Beat | None, str | None]:
    """The heartbeat if ``payload`` is one, else an error naming the field."""
    if not isinstance(payload, dict):
        return None, "expected a JSON object"
    beat: Beat = {}
    for name, pattern, what in (("wall_id", WALL_ID, "1 to 64 characters of A-Z a-z 0-9 _ . : -"),
                                ("page", PAGE, "a path of at most 200 plain characters"),
                                ("layout", LAYOUT, "at most 64 characters of A-Z a-z 0-9 _ . : -")):
        value = payload.get(name)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            return None, f"{name}: expected {what}"
        beat[name] = value
    for name, (low, high) in NUMBERS.items():
        value = payload.get(name)
        if value is None and name == "js_heap_bytes":
            beat[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"{name}: expected a number"
        if not math.isfinite(value) or not low <= value <= high:
            return None, f"{name}: expected a finite number from {low:g} to {high:g}"
        beat[name] = value
    return beat, None


class WallRegistry:
    """The latest heartbeat of each wall, in a shared store with the process as fallback.

    Every beat is also kept in the process, so when the shared store fails the walls this
    worker heard from are still listed (and ``degraded`` says the list is partial).
    """

    def __init__(self, shared: WallStore | None = None, *, cap: int = 500, ttl: float = 600.0,
                 clock: Callable[[], float] = time.time, cooldown: float = 5.0) -> None:
        self.shared = shared
        self.local = LocalWalls()
        self.cap = cap
        self.ttl = ttl
        self.clock = clock
        self.breaker = Breaker(f"wall registry ({shared.kind})" if shared else "wall registry",
                               cooldown)

    @property
    def degraded(self) -> bool:
        """Whether the shared store failed and the list is this process's only."""
        return self.shared is not None and self.breaker.down

    def beat(self, beat: Beat) -> None:
        seen_at = self.clock()
        self.local.put(beat, seen_at, ttl=self.ttl, cap=self.cap)
        self._shared(lambda store: store.put(beat, seen_at, ttl=self.ttl, cap=self.cap))

    def recent(self, limit: int = SHOWN) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` walls heard from within the TTL, newest first, each with its age in
        seconds; and how many there are."""
        now = self.clock()
        since = now - self.ttl
        found = self._shared(lambda store: store.recent(since, limit))
        beats, total = found if found is not None else self.local.recent(since, limit)
        return [{**beat, "age_s": round(max(0.0, now - seen), 1)} for beat, seen in beats], total

    def summary(self, limit: int = SHOWN) -> dict[str, Any]:
        """What ``/health`` shows: where the walls are kept, how many, and the newest few."""
        walls, total = self.recent(limit)
        store = self.shared.kind if self.shared is not None and not self.degraded else "process"
        return {"store": store, "degraded": self.degraded, "count": total, "recent": walls}

    def _shared(self, call: Callable[[WallStore], Any]) -> Any:
        """``call(shared store)``; None without one, while it is skipped, or when it fails."""
        if self.shared is None or not self.breaker.closed:
            return None
        try:
            result = call(self.shared)
        except Exception as exc:  # a store fault: the process copy serves
            self.breaker.fail(exc)
            return None
        self.breaker.succeed()
        return result


def register(server: Flask, registry: WallRegistry) -> None:
    """``POST /wall/heartbeat`` and the registry behind /health's ``walls``."""
    server.config["CITYBRAIN_WALLS"] = registry

    @server.route("/wall/heartbeat", methods=["POST"])
    def wall_heartbeat() -> Response | tuple[Response, int]:
        raw = request.stream.read(MAX_BODY + 1)   # bounded, whatever Content-Length says
        if len(raw) > MAX_BODY or (request.content_length or 0) > MAX_BODY:
            return jsonify(error="heartbeat too large"), 413
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        beat, error = validate(payload)
        if beat is None:
            return jsonify(error=error), 400
        registry.beat(beat)
        return jsonify(ok=True)


def registry_for(redis_client: Any, limits: Limits | None = None, *, sql_url: str | None = None,
                 key: str = "citybrain:walls") -> WallRegistry:
    """The registry in the cache's Redis when there is one, else in the SQL database at
    ``sql_url`` when given, else in the process; bounded by ``limits``."""
    limits = limits or Limits()
    shared: WallStore | None = None
    if redis_client is not None:
        shared = RedisWalls(redis_client, key)
    elif sql_url:
        shared = SqlWalls(sql_url)
    return WallRegistry(shared, cap=limits.walls_max, ttl=float(limits.wall_ttl_seconds))


def walls_of(server: Flask, limit: int = SHOWN) -> dict[str, Any]:
    """The walls for /health (none when the app has no registry)."""
    registry = server.config.get("CITYBRAIN_WALLS")
    if registry is None:
        return {"store": None, "degraded": False, "count": 0, "recent": []}
    return registry.summary(limit)


__all__ = ["WallRegistry", "register", "registry_for", "validate", "walls_of"]
