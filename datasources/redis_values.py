"""One Redis value as platforms write it: a number, JSON, and times in the many spellings
platforms use; plus the key-template helpers of the Redis adapter.

Times may be ISO text with or without a zone ("2026-12-03T08:00:00+08:00",
"2026-12-03 08:00:00"), compact local text ("20261203080000") or epoch seconds,
milliseconds or microseconds. A time without a zone is local time in the datasource's
``timezone``: a platform writing "2026-12-03 08:00:00" in Shanghai means 08:00 CST.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import redis

from . import tabular
from .base import utcnow
from .errors import BadQuery, StoreUnavailable
from .validation import RejectCounter

__all__ = ["KeyReader", "decode", "fill", "glob_escape", "parse_time", "scan_prefix", "similar",
           "split_area", "text", "zone_problem"]

HINT_SCAN_LIMIT = 10_000   # keys looked at when suggesting look-alikes of a missing key
HINT_TTL = 300.0           # seconds a suggestion is reused before SCAN looks again
_COMPACT = re.compile(r"^(19|20)\d{12}$")   # yyyymmddHHMMSS


def text(value: Any) -> str:
    """A Redis reply (bytes) as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def zone_problem(name: Any) -> str | None:
    """Why ``name`` is not an IANA time zone, or None when it is one."""
    if not isinstance(name, str) or not name:
        return f"expected an IANA time zone name such as 'Asia/Shanghai', found {name!r}"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"expected an IANA time zone name such as 'Asia/Shanghai', found {name!r}"
    return None


def fill(template: str, indicator: str, level: str) -> str:
    """A key template with ``{indicator}`` and ``{level}`` filled in."""
    return template.replace("{indicator}", indicator).replace("{level}", level)


def glob_escape(value: str) -> str:
    """``value`` with the glob characters of SCAN MATCH escaped."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", value)


def split_area(pattern: str) -> tuple[str, str]:
    """The constant text before and after ``{area_id}`` in a filled key pattern."""
    head, _, tail = pattern.partition("{area_id}")
    return head, tail


def scan_prefix(key: str) -> str:
    """The part of ``key`` to SCAN for look-alikes: up to its first separator."""
    head = key.split("{", 1)[0]
    match = re.search(r"[:/|.]", head)
    return head[:match.end()] if match else head[:3]


def similar(wanted: str, candidates: list[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``candidates`` most like ``wanted``, ignoring case."""
    scored = sorted(((difflib.SequenceMatcher(None, wanted.lower(), c.lower()).ratio(), c)
                     for c in candidates if c != wanted), reverse=True)
    return [c for score, c in scored[:n] if score >= 0.5]


def decode(raw: Any, value_field: str, ts_field: str) -> tuple[Any, Any]:
    """(value, time or None) of one stored value: a plain number, a JSON number, a JSON
    string holding a number, or a JSON object with ``value_field`` and ``ts_field``.
    Anything else is handed back as it is, for the row checks to count."""
    body = text(raw).strip()
    try:
        doc = json.loads(body)
    except ValueError:
        return body, None
    if isinstance(doc, dict):
        return doc.get(value_field), doc.get(ts_field)
    if isinstance(doc, bool) or isinstance(doc, list):
        return body, None
    return doc, None


def parse_time(raw: Any, zone: tzinfo) -> pd.Timestamp | None:
    """An aware UTC time from ISO text, compact text or epoch numbers; None when ``raw``
    is none of these. Naive times are read in ``zone``."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, bytes):
        raw = text(raw)
    if isinstance(raw, str):
        raw = raw.strip()
        if _COMPACT.match(raw):
            return _aware(datetime.strptime(raw, "%Y%m%d%H%M%S"), zone)
        try:
            raw = float(raw)
        except ValueError:
            return _from_text(raw, zone)
    if isinstance(raw, int | float):
        return _from_epoch(float(raw))
    if isinstance(raw, datetime):
        return _aware(raw, zone)
    return None


def _from_epoch(number: float) -> pd.Timestamp | None:
    if number != number or number <= 0:
        return None
    unit = "s" if number < 1e11 else "ms" if number < 1e14 else "us" if number < 1e17 else "ns"
    try:
        return pd.Timestamp(number, unit=unit, tz=UTC)
    except (OverflowError, ValueError):
        return None


def _from_text(value: str, zone: tzinfo) -> pd.Timestamp | None:
    try:
        return _aware(datetime.fromisoformat(value), zone)
    except ValueError:
        pass
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if pd.isna(stamp) else _aware(stamp.to_pydatetime(), zone)


def _aware(value: datetime, zone: tzinfo) -> pd.Timestamp:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return pd.Timestamp(value).tz_convert(UTC)


class KeyReader:
    """Reads one binding's keys in the platform's layout into raw (area_id, ts, value) rows,
    noting config mistakes (a missing key, a wrong type, a missing ``ts_key``) as text."""

    def __init__(self, name: str, client: redis.Redis, zone: tzinfo) -> None:
        self.name = name
        self.client = client
        self.zone = zone
        self._hints: dict[str, tuple[float, str]] = {}   # missing key → (when, look-alikes)

    def read(self, indicator: str, p: dict[str, Any], level: str, rejects: RejectCounter
             ) -> tuple[pd.DataFrame, bool, list[str]]:
        """Raw rows of ``indicator`` at ``level``, whether they carry the time of reading,
        and what is wrong with the binding ``p``."""
        key = fill(p["key"], indicator, level)
        problems: list[str] = []
        if p.get("type", "hash") == "json":
            return self._json_rows(key, p, problems), False, problems
        ts_key = fill(p["ts_key"], indicator, level) if p.get("ts_key") else None
        found = self._found(key, p, problems, rejects, indicator, skip=ts_key)
        key_ts = self._ts_key(ts_key, problems) if ts_key and found else None
        data, stamped = self._rows(found, p, key_ts, rejects, indicator)
        return data, stamped, problems

    def _rows(self, found: list[tuple[str, Any, Any]], p: dict[str, Any], key_ts: Any,
              rejects: RejectCounter, indicator: str) -> tuple[pd.DataFrame, bool]:
        """(area_id, ts, value) rows of raw values; the time is the value's ``ts_field``, else
        the row's ``ts_hash_field``, else the ``ts_key``, else now (and ``True`` says so)."""
        now, stamped, rows = utcnow(), False, []
        value_field, ts_field = p.get("value_field", "value"), p.get("ts_field", "ts")
        for area, raw, row_ts in found:
            value, ts = decode(raw, value_field, ts_field)
            ts = next((t for t in (ts, row_ts, key_ts) if t is not None), None)
            if ts is None:
                stamp, stamped = now, True
            else:
                stamp = parse_time(ts, self.zone)
            if stamp is None:
                rejects.add(self.name, f"latest {indicator}", "ts is not a time", example=ts)
                continue
            rows.append((area, stamp, value))
        return pd.DataFrame(rows, columns=["area_id", "ts", "value"]), stamped

    def _found(self, key: str, p: dict[str, Any], problems: list[str], rejects: RejectCounter,
               indicator: str, skip: str | None = None) -> list[tuple[str, Any, Any]]:
        """(area id, raw value, raw row time or None) of a hash or string layout; a key
        matching the pattern that is the ``ts_key`` (``skip``) is not an area."""
        if "{area_id}" not in key:   # a hash per indicator, one field per area
            pairs = self._typed(lambda: self.client.hgetall(key), key, "hash", problems)
            if pairs is None:
                return []
            if not pairs:
                problems.append(self._missing(key))
            fields = {text(k): v for k, v in pairs.items()}
            row_ts = fields.pop(p["ts_hash_field"], None) if p.get("ts_hash_field") else None
            return [(area, raw, row_ts) for area, raw in fields.items()]
        keys = self._scan(key, problems, skip)
        if not keys:
            return []
        if p.get("type", "hash") == "string":
            values: list[Any] = []
            for n in range(0, len(keys), 1000):
                chunk = [k for _, k in keys[n:n + 1000]]
                values += self.call(lambda chunk=chunk: self.client.mget(chunk))
            found = [(area, v, None) for (area, _), v in zip(keys, values, strict=True)
                     if v is not None]
            rejects.add(self.name, f"latest {indicator}", "key is not a string",
                        len(keys) - len(found))
            return found
        return self._area_hashes(keys, key, p, problems, rejects, indicator)

    def _area_hashes(self, keys: list[tuple[str, bytes]], pattern: str, p: dict[str, Any],
                     problems: list[str], rejects: RejectCounter,
                     indicator: str) -> list[tuple[str, Any, Any]]:
        """The ``field`` (and ``ts_hash_field``) of each area's hash."""
        wanted = [p["field"], p.get("ts_hash_field") or p["field"]]

        def read() -> list[Any]:
            pipe = self.client.pipeline(transaction=False)
            for _, k in keys:
                pipe.hmget(k, wanted)
            return pipe.execute(raise_on_error=False)
        replies = self.call(read)
        hashes = [(area, r) for (area, _), r in zip(keys, replies, strict=True)
                  if isinstance(r, list)]
        rejects.add(self.name, f"latest {indicator}", "key is not a hash", len(keys) - len(hashes))
        found = [(area, r[0], r[1] if p.get("ts_hash_field") else None)
                 for area, r in hashes if r[0] is not None]
        if hashes and not found:
            sample = next(k for area, k in keys if area == hashes[0][0])
            names = sorted(text(f) for f in self.call(lambda: self.client.hkeys(sample)))[:8]
            problems.append(f"no hash matching {_match(pattern)!r} has field {p['field']!r} "
                            f"({text(sample)!r} has {', '.join(map(repr, names))}): "
                            f"correct binding.field")
        return found

    def _scan(self, pattern: str, problems: list[str], skip: str | None = None
              ) -> list[tuple[str, bytes]]:
        """(area id, key) of every key matching a pattern with ``{area_id}``."""
        head, tail = split_area(pattern)
        keys = self.call(lambda: list(self.client.scan_iter(match=_match(pattern), count=1000)))
        found = [(text(k)[len(head):len(text(k)) - len(tail)], k) for k in keys]
        found = [(area, k) for area, k in found if area and text(k) != skip]
        if not found:
            problems.append(self._missing(pattern))
        return found

    def _ts_key(self, key: str, problems: list[str]) -> Any:
        """The time held in ``ts_key``, or None (with a problem) when it is absent or not a time."""
        before = len(problems)
        raw = self._typed(lambda: self.client.get(key), key, "string", problems)
        if raw is None:
            if len(problems) == before:
                problems.append(f"ts_key {key!r} does not exist, so values carry the time of "
                                f"reading: correct binding.ts_key")
            return None
        value, _ = decode(raw, "", "")
        if parse_time(value, self.zone) is None:
            problems.append(f"ts_key {key!r} holds {text(raw)[:40]!r}, not a time (expected ISO "
                            f"text or epoch seconds or milliseconds)")
            return None
        return value

    def _json_rows(self, key: str, p: dict[str, Any], problems: list[str]) -> pd.DataFrame:
        raw = self._typed(lambda: self.client.get(key), key, "string", problems)
        if raw is None:
            problems += [] if problems else [self._missing(key)]
            return pd.DataFrame()
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            problems.append(f"key {key!r} does not hold JSON ({exc}): correct binding.key")
            return pd.DataFrame()
        rows = _walk(doc, p.get("rows", ""))
        if not isinstance(rows, list):
            problems.append(f"binding.rows {p.get('rows', '')!r} does not lead to a list in key "
                            f"{key!r}: correct binding.rows")
            return pd.DataFrame()
        data = tabular.rename(pd.DataFrame(rows), p.get("columns"))
        if "ts" in data:
            data["ts"] = [(parse_time(t, self.zone) if t is not None else None) or t
                          for t in data["ts"]]
        return data

    def _missing(self, key: str) -> str:
        """Says ``key`` (or pattern) is absent, with up to 3 look-alike keys SCAN finds."""
        when, hint = self._hints.get(key, (0.0, ""))
        if time.monotonic() - when > HINT_TTL:
            prefix = scan_prefix(key)

            def look() -> list[str]:
                seen: list[str] = []
                for k in self.client.scan_iter(match=glob_escape(prefix) + "*", count=1000):
                    seen.append(text(k))
                    if len(seen) >= HINT_SCAN_LIMIT:
                        break
                return seen
            like = similar(key.replace("{area_id}", ""), self.call(look))
            hint = f"SCAN {prefix + '*'!r} found " + (", ".join(map(repr, like)) or "no key like it")
            if len(self._hints) > 256:
                self._hints.clear()
            self._hints[key] = (time.monotonic(), hint)
        what = f"no key matches {_match(key)!r}" if "{area_id}" in key \
            else f"key {key!r} does not exist"
        return f"{what} ({hint}): correct binding.key, or check the platform writes it"

    def _typed(self, fn: Callable[[], Any], key: str, want: str, problems: list[str]) -> Any:
        """``fn()``; None with a problem when ``key`` holds another type than ``want``."""
        try:
            return fn()
        except redis.ResponseError as exc:
            if "WRONGTYPE" not in str(exc):
                raise BadQuery(self.name, f"Redis refused the command: {exc}") from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(self.name, f"{type(exc).__name__}: {exc}") from exc
        held = text(self.call(lambda: self.client.type(key)))
        problems.append(f"key {key!r} holds a {held}, not a {want}: correct binding.type or "
                        f"binding.key")
        return None

    def call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except redis.ResponseError as exc:
            raise BadQuery(self.name, f"Redis refused the command: {exc}") from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(self.name, f"{type(exc).__name__}: {exc}") from exc


def _match(pattern: str) -> str:
    """The SCAN MATCH glob of a filled key pattern with ``{area_id}``."""
    head, tail = split_area(pattern)
    return f"{glob_escape(head)}*{glob_escape(tail)}"


def _walk(doc: Any, path: str) -> Any:
    for part in [x for x in path.removeprefix("$").split(".") if x]:
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc
