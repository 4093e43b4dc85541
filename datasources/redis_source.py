"""Redis adapter: live values from hashes, strings or JSON documents, events from a
Redis Stream, map layers stored as GeoJSON — in the platform's own key layout.

Datasource options::

    platform:
      type: redis
      url_env: REDIS_URL            # wins when set; else the default below
      url: redis://127.0.0.1:6379/0
      socket_timeout: 2
      events: {stream: "cityos:events", count: 5000}
      areas: {key: "cityos:areas"}            # a JSON list of area rows
      layers: {roads: "cityos:geo:roads"}     # keys holding GeoJSON text

Indicator binding (``{indicator}`` and ``{level}`` fill the key template)::

    binding: {source: platform, key: "cityos:idx:{indicator}:{level}", type: hash,
              value_field: v, ts_field: t}

- ``hash``: one field per area id; the value is a number, or JSON with ``value_field``
  and ``ts_field`` inside (else the time is the hash field ``ts_hash_field`` or now).
- ``string``: ``key`` has ``{area_id}``; keys are found with SCAN; value as for hash.
- ``json``: ``key`` holds a JSON document; ``rows`` is a dotted path to the row list
  and ``columns`` renames (ours → theirs).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import redis

from . import tabular
from .base import AREA_COLUMNS, LATEST_COLUMNS, AreaLevel, Frame, Health, utcnow
from .errors import BadQuery, StoreUnavailable
from .validation import RejectCounter, unknown_keys

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator

OPTIONS = {"url", "url_env", "socket_timeout", "events", "areas", "layers", "max_connections"}
BINDING_KEYS = {"key", "type", "value_field", "ts_field", "ts_hash_field", "rows", "columns"}


class RedisSource:
    """A city platform's Redis, read with a connection pool and socket timeouts."""

    type = "redis"

    def __init__(self, name: str, *, url: str | None = None, url_env: str | None = None,
                 socket_timeout: float = 2.0, events: dict[str, Any] | None = None,
                 areas: dict[str, Any] | None = None, layers: dict[str, str] | None = None,
                 max_connections: int = 20) -> None:
        self.name = name
        self.url = os.environ.get(url_env or "", "") or url or "redis://127.0.0.1:6379/0"
        self.pool = redis.ConnectionPool.from_url(
            self.url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
            max_connections=max_connections, health_check_interval=30)
        self.client = redis.Redis(connection_pool=self.pool, decode_responses=False)
        self.events_cfg = events or {}
        self.areas_cfg = areas or {}
        self.layers_cfg = layers or {}
        self.rejects = RejectCounter()

    # --- configuration checks -------------------------------------------------------------
    @staticmethod
    def check_options(options: dict[str, Any]) -> list[str]:
        problems = unknown_keys(options, OPTIONS, what="a redis datasource")
        if not options.get("url") and not options.get("url_env"):
            problems.append("url: expected a redis:// URL or url_env naming a variable, found neither")
        url = options.get("url")
        if url and not (isinstance(url, str) and url.startswith(("redis://", "rediss://", "unix://"))):
            problems.append(f"url: expected a redis://, rediss:// or unix:// URL, found {url!r}")
        env = options.get("url_env")
        if env and not options.get("url") and env not in os.environ:
            problems.append(f"url_env: expected the environment variable {env!r} to be set (or a "
                            f"default `url`), found it unset")
        timeout = options.get("socket_timeout", 2.0)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            problems.append(f"socket_timeout: expected seconds > 0, found {timeout!r}")
        return problems

    @staticmethod
    def check_binding(indicator: Indicator) -> list[str]:
        p = indicator.binding.params()
        problems = unknown_keys(p, BINDING_KEYS, prefix="binding.", what="a redis binding")
        kind = p.get("type", "hash")
        if kind not in ("hash", "string", "json"):
            problems.append(f"binding.type: expected hash, string or json, found {kind!r}")
        key = p.get("key")
        if not isinstance(key, str) or not key:
            problems.append(f"binding.key: expected a key template, found {key!r}")
        elif kind == "string" and "{area_id}" not in key:
            problems.append(f"binding.key: expected {{area_id}} in a string key template, found {key!r}")
        return problems

    # --- the contract -----------------------------------------------------------------------
    def latest(self, indicators: Sequence[Indicator], level: AreaLevel,
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        frames = [self._latest_one(ind, level) for ind in indicators]
        data = pd.concat([f for f in frames if not f.empty], ignore_index=True) if any(
            not f.empty for f in frames) else pd.DataFrame(columns=LATEST_COLUMNS)
        return Frame(data, as_of=tabular.as_of([data], "ts", utcnow()), source=self.name)

    def series(self, indicators: Sequence[Indicator], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        raise BadQuery(self.name, "Redis holds live values only: give the indicator a `history` "
                                  "binding to a SQL, HTTP or file source for its series")

    def events(self, since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        stream = self.events_cfg.get("stream")
        if not stream:
            raise BadQuery(self.name, "no events stream configured (events: {stream: ...})")
        until = until or utcnow()
        count = int(self.events_cfg.get("count", 5000))
        raw = self._call(lambda: self.client.xrevrange(stream, count=count))
        rows = [{_text(k): _text(v) for k, v in fields.items()} for _id, fields in raw]
        data = tabular.rename(pd.DataFrame(rows), self.events_cfg.get("columns"))
        if "id" in data:   # the stream holds every state change; the newest comes first
            data = data.drop_duplicates("id", keep="first")
        for column in ("camera_ids", "facility_ids"):
            if column in data:
                data[column] = data[column].map(_json_list)
        events = tabular.event_rows(data, source=self.name, rejects=self.rejects)
        return Frame(tabular.within(events, since, until), as_of=until, source=self.name)

    def areas(self) -> Frame[pd.DataFrame]:
        key = self.areas_cfg.get("key")
        if not key:
            raise BadQuery(self.name, "no areas key configured (areas: {key: ...})")
        doc = self._json(key)
        data = tabular.rename(pd.DataFrame(doc), self.areas_cfg.get("columns"))
        missing = [c for c in AREA_COLUMNS if c not in data]
        if missing:
            raise StoreUnavailable(self.name, f"{key}: area rows lack {', '.join(missing)}")
        return Frame(data, as_of=utcnow(), source=self.name)

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        key = self.layers_cfg.get(name)
        if not key:
            raise BadQuery(self.name, f"no map layer {name!r} configured")
        doc = self._json(key)
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            raise StoreUnavailable(self.name, f"{key}: expected a GeoJSON FeatureCollection")
        return Frame(doc, as_of=utcnow(), source=self.name)

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            self.client.ping()
        except redis.RedisError as exc:
            return Health(self.name, False, error=f"{type(exc).__name__}: {exc}",
                          details={"rejects": self.rejects.to_json()})
        return Health(self.name, True, latency_ms=(time.perf_counter() - started) * 1000,
                      details={"rejects": self.rejects.to_json()})

    # --- internals --------------------------------------------------------------------------
    def _latest_one(self, ind: Indicator, level: str) -> pd.DataFrame:
        p = ind.binding.params()
        key = p["key"].replace("{indicator}", ind.id).replace("{level}", level)
        kind = p.get("type", "hash")
        if kind == "json":
            doc = self._json(key)
            rows = _walk(doc, p.get("rows", ""))
            data = tabular.rename(pd.DataFrame(rows if isinstance(rows, list) else []),
                                  p.get("columns"))
        else:
            pairs = self._hash(key) if kind == "hash" else self._strings(key)
            fallback = pairs.pop(p.get("ts_hash_field", "\0"), None) if kind == "hash" else None
            data = pd.DataFrame([_decode(area, raw, p, fallback) for area, raw in pairs.items()],
                                columns=["area_id", "ts", "value"])
        return tabular.latest_rows(data, ind.id, source=self.name, rejects=self.rejects)

    def _hash(self, key: str) -> dict[str, bytes]:
        raw = self._call(lambda: self.client.hgetall(key))
        return {_text(k): v for k, v in raw.items()}

    def _strings(self, pattern: str) -> dict[str, bytes]:
        head, _, tail = pattern.partition("{area_id}")

        def read() -> dict[str, bytes]:
            keys = list(self.client.scan_iter(match=f"{head}*{tail}", count=1000))
            values = self.client.mget(keys) if keys else []
            return {_text(k)[len(head):len(_text(k)) - len(tail)]: v
                    for k, v in zip(keys, values, strict=True) if v is not None}
        return self._call(read)

    def _json(self, key: str) -> Any:
        raw = self._call(lambda: self.client.get(key))
        if raw is None:
            raise StoreUnavailable(self.name, f"key {key!r} does not exist")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise StoreUnavailable(self.name, f"key {key!r} does not hold JSON: {exc}") from exc

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except redis.ResponseError as exc:
            raise BadQuery(self.name, f"Redis refused the command: {exc}") from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(self.name, f"{type(exc).__name__}: {exc}") from exc


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _decode(area: str, raw: bytes, p: dict[str, Any], fallback: bytes | None) -> tuple[str, Any, Any]:
    """(area, ts, value) from a plain number or a small JSON object."""
    text = _text(raw).strip()
    ts: Any = _text(fallback) if fallback is not None else utcnow()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return area, ts, text
        return area, doc.get(p.get("ts_field", "ts"), ts), doc.get(p.get("value_field", "value"))
    return area, ts, text


def _walk(doc: Any, path: str) -> Any:
    for part in [x for x in path.removeprefix("$").split(".") if x]:
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _json_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str) and value else []
    except ValueError:
        parsed = [v for v in str(value).split(",") if v]
    return [str(v) for v in parsed] if isinstance(parsed, list) else []


__all__ = ["RedisSource"]
