"""Redis adapter: live values from hashes, strings or JSON documents, events from a
Redis Stream, map layers stored as GeoJSON — in the platform's own key layout.

Datasource options::

    platform:
      type: redis
      url_env: REDIS_URL            # wins when set; else the default below
      url: redis://127.0.0.1:6379/0
      socket_timeout: 2
      timezone: Asia/Shanghai       # for times the platform writes without a zone
      events: {stream: "cityos:events", count: 5000}
      areas: {key: "cityos:areas"}            # a JSON list of area rows
      layers: {roads: "cityos:geo:roads"}     # keys holding GeoJSON text

Indicator binding: ``{indicator}`` and ``{level}`` fill the key template; the time of a
value comes from ``ts_field`` inside it, else the hash field ``ts_hash_field``, else the
key ``ts_key``, else the time of reading (said in ``Frame.data.attrs["stamped_at_read"]``
and in ``health()``). Times without a zone are read in the datasource's ``timezone``
(IANA name, default Asia/Shanghai)::

    # one hash per indicator and level, one field per area
    binding: {source: platform, key: "cityos:idx:{indicator}:{level}", type: hash,
              value_field: v, ts_field: t}            # or ts_hash_field / ts_key
    # one string key per area
    binding: {source: platform, key: "cityos:{indicator}:{area_id}", type: string,
              ts_key: "cityos:{indicator}:updated_at"}
    # one hash per area, ``field`` names this indicator's field
    binding: {source: platform, key: "cityos:area:{area_id}", type: hash, field: pm25,
              ts_hash_field: updated_at}

- a value is a number, a JSON number, a JSON string holding a number, or a JSON object
  with ``value_field`` (default ``value``) and ``ts_field`` (default ``ts``) inside.
- keys with ``{area_id}`` are found with SCAN.
- ``json``: ``key`` holds a JSON document; ``rows`` is a dotted path to the row list
  and ``columns`` renames (ours → theirs).

A key that does not exist gives no rows and a problem in ``health()`` naming the
indicator, the key and look-alike keys; ``check_binding_live`` reads one binding once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd
import redis

from . import tabular
from .base import AREA_COLUMNS, LATEST_COLUMNS, Adapter, AreaLevel, Frame, Health, utcnow
from .errors import BadQuery, DataSourceError, StoreUnavailable
from .redis_values import KeyReader, text, zone_problem
from .validation import RejectCounter, unknown_keys

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator

OPTIONS = {"url", "url_env", "socket_timeout", "events", "areas", "layers", "max_connections",
           "timezone"}
BINDING_KEYS = {"key", "type", "field", "value_field", "ts_field", "ts_hash_field", "ts_key",
                "rows", "columns", "level"}
STAMPED_AT_READ = ("the store gives no time for these values, so they carry the time of "
                   "reading and their age cannot be judged: set binding.ts_field, "
                   "ts_hash_field or ts_key")


class RedisSource(Adapter):
    """A city platform's Redis, read with a connection pool and socket timeouts."""

    type = "redis"

    def __init__(self, name: str, *, url: str | None = None, url_env: str | None = None,
                 socket_timeout: float = 2.0, events: dict[str, Any] | None = None,
                 areas: dict[str, Any] | None = None, layers: dict[str, str] | None = None,
                 max_connections: int = 20, timezone: str = "Asia/Shanghai") -> None:
        self.name = name
        self.url = os.environ.get(url_env or "", "") or url or "redis://127.0.0.1:6379/0"
        self.pool = redis.ConnectionPool.from_url(
            self.url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
            max_connections=max_connections, health_check_interval=30)
        self.client = redis.Redis(connection_pool=self.pool, decode_responses=False)
        self.reader = KeyReader(name, self.client, ZoneInfo(timezone))
        self.events_cfg = events or {}
        self.areas_cfg = areas or {}
        self.layers_cfg = layers or {}
        self.rejects = RejectCounter()
        self._lock = threading.Lock()
        self._problems: dict[str, str] = {}     # indicator id → what is wrong with its binding
        self._stamped_at_read: set[str] = set()

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
        zone = zone_problem(options.get("timezone", "Asia/Shanghai"))
        if zone:
            problems.append(f"timezone: {zone}")
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
            key = ""
        per_area = "{area_id}" in key
        if key and kind == "string" and not per_area:
            problems.append(f"binding.key: expected {{area_id}} in a string key template, found {key!r}")
        if kind == "json" and per_area:
            problems.append(f"binding.key: a json key holds every area, found {{area_id}} in {key!r}")
        if kind == "hash" and per_area and not isinstance(p.get("field"), str):
            problems.append(f"binding.field: expected the hash field holding {indicator.id} in "
                            f"each area's hash {key!r}, found {p.get('field')!r}")
        if "field" in p and not (kind == "hash" and per_area):
            problems.append("binding.field: only for type hash with {area_id} in the key; "
                            "a hash per indicator has one field per area")
        for name in ("value_field", "ts_field", "ts_hash_field", "ts_key"):
            if name in p and (not isinstance(p[name], str) or not p[name]):
                problems.append(f"binding.{name}: expected a non-empty text, found {p[name]!r}")
        if "{area_id}" in str(p.get("ts_key", "")):
            problems.append("binding.ts_key: one key for the whole indicator, found {area_id} in it")
        return problems

    def check_binding_live(self, indicator: Indicator, level: str | None = None) -> list[str]:
        """Read ``indicator``'s binding once (at ``level``, else the binding's ``level``, else
        the indicator's finest level) and return what is wrong as text; [] when all is well."""
        p = indicator.binding.params()
        level = level or getattr(indicator.binding, "level", None) or p.get("level") \
            or indicator.levels[-1]
        where = (f"datasource {self.name}, indicator {indicator.id} "
                 f"(binding.key {p.get('key')!r}, level {level})")
        counter = RejectCounter()
        try:
            rows, stamped, problems = self._latest_one(indicator, level, counter)
        except DataSourceError as exc:
            return [f"{where}: {exc.message}"]
        out = [f"{where}: {problem}" for problem in problems]
        for reasons in counter.to_json().values():
            out += [f"{where}: {n} value(s) refused: {reason}" for reason, n in reasons.items()]
        if rows.empty and not out:
            out.append(f"{where}: the key exists but holds no values")
        if stamped:
            out.append(f"{where}: {STAMPED_AT_READ}")
        return out

    # --- the contract -----------------------------------------------------------------------
    def latest(self, indicators: Sequence[Indicator], level: AreaLevel,
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        """Rows (indicator, area_id, ts, value) for the areas the binding's keys hold."""
        frames: list[pd.DataFrame] = []
        timed: list[pd.DataFrame] = []
        read: list[str] = []
        for ind in indicators:
            rows, stamped, problems = self._latest_one(ind, level, self.rejects)
            self._remember(ind, problems, stamped and not rows.empty)
            if rows.empty:
                continue
            frames.append(rows)
            if stamped:
                read.append(ind.id)
            else:
                timed.append(rows)
        data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LATEST_COLUMNS)
        data.attrs["stamped_at_read"] = read
        return Frame(data, as_of=tabular.as_of(timed, "ts", utcnow()), source=self.name)

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
        rows = [{text(k): text(v) for k, v in fields.items()} for _id, fields in raw]
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
        """Ping; the rows refused, the bindings that read nothing, and the indicators whose
        values carry the time of reading, in ``details``."""
        details: dict[str, Any] = {"rejects": self.rejects.to_json()}
        with self._lock:
            if self._problems:
                details["problems"] = [self._problems[k] for k in sorted(self._problems)]
            if self._stamped_at_read:
                details["stamped_at_read"] = sorted(self._stamped_at_read)
        started = time.perf_counter()
        try:
            self.client.ping()
        except redis.RedisError as exc:
            return Health(self.name, False, error=f"{type(exc).__name__}: {exc}", details=details)
        return Health(self.name, True, latency_ms=(time.perf_counter() - started) * 1000,
                      details=details)

    # --- internals --------------------------------------------------------------------------
    def _remember(self, ind: Indicator, problems: list[str], stamped: bool) -> None:
        """Keep (or clear) what the last read of ``ind`` found wrong, for ``health()``."""
        with self._lock:
            if problems:
                key = ind.binding.params().get("key")
                self._problems[ind.id] = (f"indicator {ind.id} (binding.key {key!r}): "
                                          + "; ".join(problems))
            else:
                self._problems.pop(ind.id, None)
            (self._stamped_at_read.add if stamped else self._stamped_at_read.discard)(ind.id)

    def _latest_one(self, ind: Indicator, level: str, rejects: RejectCounter
                    ) -> tuple[pd.DataFrame, bool, list[str]]:
        """``ind``'s rows at ``level``, whether they carry the time of reading, and what is
        wrong with its binding (a missing key, a wrong type, a missing ``ts_key``)."""
        data, stamped, problems = self.reader.read(ind.id, ind.binding.params(), level, rejects)
        if data.empty:
            return pd.DataFrame(columns=LATEST_COLUMNS), False, problems
        rows = tabular.latest_rows(data, ind.id, source=self.name, rejects=rejects)
        return rows, stamped, problems

    def _json(self, key: str) -> Any:
        raw = self._call(lambda: self.client.get(key))
        if raw is None:
            raise StoreUnavailable(self.name, f"key {key!r} does not exist")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise StoreUnavailable(self.name, f"key {key!r} does not hold JSON: {exc}") from exc

    def _call(self, fn: Callable[[], Any]) -> Any:
        return self.reader.call(fn)


def _json_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str) and value else []
    except ValueError:
        parsed = [v for v in str(value).split(",") if v]
    return [str(v) for v in parsed] if isinstance(parsed, list) else []


__all__ = ["RedisSource"]
