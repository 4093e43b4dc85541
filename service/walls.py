"""Heartbeats of the open video walls, so operators see a frozen wall before the room does.

Each wall page posts a small heartbeat (page, layout, when it last rendered, JS heap where
the browser tells) to ``POST /wall/heartbeat``; ``/health`` lists the walls seen in the
last few minutes. With the Redis cache the registry is a Redis hash shared by every worker.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from flask import Flask, Response, jsonify, request

KEEP_SECONDS = 300
FIELDS = {"wall_id": str, "page": str, "layout": str, "last_render_ms_ago": (int, float),
          "js_heap_bytes": (int, float, type(None))}


class WallRegistry:
    """The latest heartbeat of each wall, in the process or in a shared Redis hash."""

    def __init__(self, redis_client: Any = None, key: str = "citybrain:walls") -> None:
        self.redis = redis_client
        self.key = key
        self._local: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def beat(self, beat: dict[str, Any]) -> None:
        beat = {**beat, "seen_at": time.time()}
        if self.redis is not None:
            self.redis.hset(self.key, beat["wall_id"], json.dumps(beat))
            return
        with self._lock:
            self._local[beat["wall_id"]] = beat

    def recent(self) -> list[dict[str, Any]]:
        """Walls heard from in the last :data:`KEEP_SECONDS`, each with its age in seconds."""
        now = time.time()
        if self.redis is not None:
            beats = [json.loads(v) for v in self.redis.hgetall(self.key).values()]
            old = [b["wall_id"] for b in beats if now - b["seen_at"] > KEEP_SECONDS]
            if old:
                self.redis.hdel(self.key, *old)
        else:
            with self._lock:
                for wall_id in [w for w, b in self._local.items() if now - b["seen_at"] > KEEP_SECONDS]:
                    del self._local[wall_id]
                beats = list(self._local.values())
        fresh = [b for b in beats if now - b["seen_at"] <= KEEP_SECONDS]
        return sorted(({**{k: v for k, v in b.items() if k != "seen_at"},
                        "age_s": round(now - b["seen_at"], 1)} for b in fresh),
                      key=lambda b: b["wall_id"])


def validate(payload: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The heartbeat if ``payload`` is one, else an error naming the field."""
    if not isinstance(payload, dict):
        return None, "expected a JSON object"
    beat = {}
    for name, kind in FIELDS.items():
        value = payload.get(name)
        if name == "js_heap_bytes" and value is None:
            beat[name] = None
            continue
        if not isinstance(value, kind) or isinstance(value, bool):
            return None, f"{name}: expected {getattr(kind, '__name__', 'a number')}, found {value!r}"
        if isinstance(value, str) and not 0 < len(value) <= 200:
            return None, f"{name}: expected 1 to 200 characters"
        beat[name] = value
    return beat, None


def register(server: Flask, registry: WallRegistry) -> None:
    """``POST /wall/heartbeat`` and the registry behind /health's ``walls``."""
    server.config["CITYBRAIN_WALLS"] = registry

    @server.route("/wall/heartbeat", methods=["POST"])
    def wall_heartbeat() -> Response | tuple[Response, int]:
        if (request.content_length or 0) > 4096:
            return jsonify(error="heartbeat too large"), 413
        beat, error = validate(request.get_json(silent=True))
        if beat is None:
            return jsonify(error=error), 400
        registry.beat(beat)
        return jsonify(ok=True)


def registry_for(redis_client: Any) -> WallRegistry:
    """A registry in the shared Redis when there is one (the client the data service's
    cache was built on), else in the process."""
    return WallRegistry(redis_client)


def walls_of(server: Flask) -> list[dict[str, Any]]:
    """The recent walls for /health (empty when the app has no registry)."""
    registry = server.config.get("CITYBRAIN_WALLS")
    return registry.recent() if registry is not None else []


__all__ = ["WallRegistry", "register", "registry_for", "validate", "walls_of"]
