"""A datasource over a city platform's HTTP JSON API.

Each indicator's binding names a path template under the datasource's ``base_url``;
the adapter fills it with URL-encoded values, finds the rows in the JSON answer with a
dotted path, renames the operator's columns to ours and cleans the rows::

    datasources:
      platform:
        type: http
        base_url: https://platform.example.gov.cn/api/v1
        token_env: CITYBRAIN_PLATFORM_TOKEN     # the secret only ever comes from the environment
    indicators:
      - id: tpi
        binding: {source: platform, path: "/traffic/tpi?level={level}", rows: data.items,
                  series_path: "/traffic/tpi/history?areas={area_ids}&from={start}&to={end}",
                  columns: {area_id: district_code, ts: updated_at, value: idx}}

Connection errors, timeouts and 5xx answers are retried with exponential back-off and
then raise :class:`StoreUnavailable`; a 4xx answer raises :class:`BadQuery`.
"""

from __future__ import annotations

import os
import string
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd
import requests

from . import jsonpath
from .base import LATEST_COLUMNS, SERIES_COLUMNS, Adapter, AreaLevel, Frame, Health, utcnow
from .errors import BadQuery, StoreUnavailable
from .tabular import (
    area_rows,
    aware,
    event_rows,
    feature_collection,
    latest_rows,
    not_after,
    params_of,
    rename,
    rows_frame,
    series_rows,
    text_ids,
    within,
)
from .validation import RejectCounter, unknown_keys

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator

OPTIONS = {"base_url", "auth_header", "token_env", "timeout_seconds", "retries",
           "backoff_seconds", "health_path", "events", "areas", "layers"}
BINDING_KEYS = {"path", "series_path", "rows", "columns"}
LATEST_FIELDS = {"indicator", "level", "at"}
SERIES_FIELDS = {"indicator", "area_ids", "start", "end", "step_seconds"}
EVENT_FIELDS = {"since", "until"}
UNSENDABLE = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
              requests.exceptions.InvalidSchema, requests.exceptions.InvalidHeader)


class HttpSource(Adapter):
    """A datasource whose store is an HTTP JSON API."""

    type = "http"

    def __init__(self, name: str, *, base_url: str, auth_header: str = "Authorization",
                 token_env: str | None = None, timeout_seconds: float = 1.0, retries: int = 2,
                 backoff_seconds: float = 0.2, health_path: str = "",
                 events: Mapping[str, Any] | None = None, areas: Mapping[str, Any] | None = None,
                 layers: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout_seconds)
        self.retries = int(retries)
        self.backoff = float(backoff_seconds)
        self.health_path = health_path
        self.events_spec, self.areas_spec = dict(events or {}), dict(areas or {})
        self.layers_spec = dict(layers or {})
        self.rejects = RejectCounter()
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token_env:
            token = os.environ.get(token_env)
            if not token:
                raise BadQuery(name, f"token_env: environment variable {token_env} is not set")
            self.session.headers[auth_header] = token
        self._last_data_at: datetime | None = None

    # --- configuration checks ---------------------------------------------------------
    @staticmethod
    def check_options(options: dict[str, Any]) -> list[str]:
        """Problems with the datasource's own keys, as 'key: expected ..., found ...'."""
        problems = unknown_keys(options, OPTIONS, what="an http datasource")
        url = options.get("base_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            problems.append(f"base_url: expected an http:// or https:// URL, found {url!r}")
        for key in ("auth_header", "token_env", "health_path"):
            if key in options and not isinstance(options[key], str):
                problems.append(f"{key}: expected text, found {options[key]!r}")
        env = options.get("token_env")
        if isinstance(env, str) and not os.environ.get(env):
            problems.append(f"token_env: expected environment variable {env} to hold the token, "
                            f"found it unset or empty")
        for key, least in (("timeout_seconds", 0.001), ("backoff_seconds", 0), ("retries", 0)):
            value = options.get(key, least)
            whole = key != "retries" or isinstance(value, int)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < least or not whole:
                want = "a non-negative integer" if key == "retries" else f"a number >= {least}"
                problems.append(f"{key}: expected {want}, found {value!r}")
        for key in ("events", "areas"):
            if key in options:
                problems += _spec_problems(key, options[key], EVENT_FIELDS if key == "events" else set())
        layers = options.get("layers", {})
        if not isinstance(layers, dict):
            return [*problems, f"layers: expected {{name: path}}, found {layers!r}"]
        for layer, path in layers.items():
            found = _template_problem(path, set())
            problems += [f"layers.{layer}: {found}"] if found else []
        return problems

    @staticmethod
    def check_binding(indicator: Indicator) -> list[str]:
        """Problems with an indicator's binding to an http datasource."""
        params = indicator.binding.params()
        problems = unknown_keys(params, BINDING_KEYS, prefix="binding.", what="an http binding")
        spec = params if "path" in params or "series_path" not in params else {**params, "path": "/"}
        problems += _spec_problems("binding", spec, LATEST_FIELDS, strict=False)  # series_path alone: history
        if "series_path" in params:
            found = _template_problem(params["series_path"], SERIES_FIELDS)
            problems += [f"binding.series_path: {found}"] if found else []
        elif isinstance(params.get("path"), str) and not _template_problem(params["path"], LATEST_FIELDS):
            extra = sorted(_fields(params["path"]) - SERIES_FIELDS)
            if extra:
                problems.append(f"binding.series_path: expected a path for series reads since path "
                                f"uses {{{'}, {'.join(extra)}}}, found none")
        return problems

    # --- the contract -----------------------------------------------------------------
    def areas(self) -> Frame[pd.DataFrame]:
        if not self.areas_spec:
            raise BadQuery(self.name, "no areas configured: add areas: {path:, rows:, columns:}")
        data = self._rows(self._fill(self.areas_spec.get("path", ""), {}), self.areas_spec.get("rows", ""))
        return Frame(area_rows(rename(data, self.areas_spec.get("columns")), source=self.name,
                               rejects=self.rejects), as_of=utcnow(), source=self.name)

    def latest(self, indicators: Sequence[Indicator], level: AreaLevel,
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        aware(self.name, at)
        frames = []
        for ind in indicators:
            params = params_of(ind.binding)
            if "path" not in params:
                raise BadQuery(self.name, f"indicator {ind.id!r}: the binding has only a series_path, "
                                          f"no path for latest values")
            values = {"indicator": ind.id, "level": level, "at": (at or utcnow()).isoformat()}
            data = text_ids(rename(self._rows(self._fill(params["path"], values), params.get("rows", "")),
                                   params.get("columns")))
            if "level" in data.columns:
                data = data[data["level"].astype(str) == level]
            frames.append(latest_rows(not_after(data, at), ind.id, source=self.name,
                                      rejects=self.rejects))
        return self._seen(rows_frame(frames, LATEST_COLUMNS, self.name))

    def series(self, indicators: Sequence[Indicator], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        aware(self.name, start, end)
        if step <= timedelta(0) or end <= start:
            raise BadQuery(self.name, f"empty time range [{start}, {end}) at step {step}")
        values = {"area_ids": area_ids, "start": start.isoformat(), "end": end.isoformat(),
                  "step_seconds": int(step.total_seconds())}
        frames = []
        for ind in indicators:
            params = params_of(ind.binding)
            path = params.get("series_path", params.get("path", ""))
            data = text_ids(rename(self._rows(self._fill(path, {**values, "indicator": ind.id}),
                                              params.get("rows", "")), params.get("columns")))
            if area_ids and "area_id" in data.columns:
                data = data[data["area_id"].astype(str).isin([str(a) for a in area_ids])]
            frames.append(series_rows(data, ind.id, start, end, step, source=self.name,
                                      rejects=self.rejects, how=ind.time_rollup))
        return self._seen(rows_frame(frames, SERIES_COLUMNS, self.name))

    def events(self, since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        if not self.events_spec:
            raise BadQuery(self.name, "no events configured: add events: {path:, rows:, columns:}")
        until = until or utcnow()
        aware(self.name, since, until)
        url = self._fill(self.events_spec.get("path", ""), {"since": since.isoformat(), "until": until.isoformat()})
        data = rename(self._rows(url, self.events_spec.get("rows", "")), self.events_spec.get("columns"))
        rows = event_rows(data, source=self.name, rejects=self.rejects)
        return Frame(within(rows, since, until), as_of=until, source=self.name)

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        if name not in self.layers_spec:
            have = ", ".join(sorted(self.layers_spec)) or "none configured"
            raise BadQuery(self.name, f"no map layer {name!r}; this datasource has {have}")
        url = self._fill(self.layers_spec[name], {})
        return Frame(feature_collection(self._get_json(url), name, self.name, url),
                     as_of=utcnow(), source=self.name)

    def health(self) -> Health:
        url = self.base_url + "/" + self.health_path.lstrip("/") if self.health_path else self.base_url
        started = time.perf_counter()
        details: dict[str, Any] = {"url": url, "rejects": self.rejects.to_json()}
        try:
            answer = self.session.get(url, timeout=self.timeout)
            details["status"] = answer.status_code
            error = None if answer.status_code < 400 else f"GET {url} answered {answer.status_code}"
        except Exception as exc:  # noqa: BLE001 (health is a value, never an exception)
            error = f"GET {url} failed: {_reason(exc)}"
        return Health(self.name, error is None, latency_ms=(time.perf_counter() - started) * 1000,
                      last_data_at=self._last_data_at, error=error, details=details)

    # --- internals --------------------------------------------------------------------
    def _fill(self, template: str, values: Mapping[str, Any]) -> str:
        """``template`` under base_url with every value URL-encoded (never raw)."""
        try:
            encoded = {k: ",".join(map(_quote, v)) if isinstance(v, list | tuple) else _quote(v)
                       for k, v in values.items()}
        except ValueError as exc:
            raise BadQuery(self.name, str(exc)) from None
        try:
            path = string.Formatter().vformat(template, (), encoded)
        except (KeyError, IndexError, ValueError) as exc:
            raise BadQuery(self.name, f"path {template!r} uses {exc}, which this read does not "
                                      f"have (only {', '.join(sorted(values)) or 'none'})") from None
        return self.base_url + "/" + path.lstrip("/")

    def _get_json(self, url: str) -> Any:
        """The JSON at ``url``, retrying connection errors, timeouts and 5xx."""
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                answer = self.session.get(url, timeout=self.timeout)
                if 400 <= answer.status_code < 500:
                    raise BadQuery(self.name, f"GET {url} answered {answer.status_code} "
                                              f"{answer.reason}: {answer.text[:200]!r}")
                answer.raise_for_status()
            except UNSENDABLE as exc:
                raise BadQuery(self.name, f"GET {url} cannot be sent: {exc}") from exc
            except requests.RequestException as exc:  # refused, reset, timed out, 5xx
                if attempt + 1 >= attempts:
                    raise StoreUnavailable(self.name, f"GET {url} failed after {attempts} "
                                                      f"attempt(s): {_reason(exc)}") from exc
                time.sleep(self.backoff * 2 ** attempt)
                continue
            try:
                return answer.json()
            except ValueError as exc:
                raise StoreUnavailable(self.name, f"GET {url} returned invalid JSON "
                                                  f"({exc}): {answer.text[:80]!r}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _seen(self, frame: Frame[pd.DataFrame]) -> Frame[pd.DataFrame]:
        if not frame.data.empty:
            self._last_data_at = max(self._last_data_at or frame.as_of, frame.as_of)
        return frame

    def _rows(self, url: str, path: str) -> pd.DataFrame:
        """The rows at dotted ``path`` of the JSON at ``url`` as a frame."""
        try:
            found = jsonpath.walk(self._get_json(url), path)
        except jsonpath.PathError as exc:
            raise BadQuery(self.name, f"GET {url}: rows {path!r} not found: {exc}") from None
        if not isinstance(found, list):
            raise BadQuery(self.name, f"GET {url}: rows {path!r} is not a list of objects")
        good = [r for r in found if isinstance(r, dict)]
        self.rejects.add(self.name, "row", "row is not an object", len(found) - len(good),
                         example=next((r for r in found if not isinstance(r, dict)), None))
        return pd.DataFrame(good)


def _spec_problems(key: str, spec: Any, fields: set[str], strict: bool = True) -> list[str]:
    """Problems with a {path:, rows:, columns:} mapping found under ``key``."""
    if not isinstance(spec, dict):
        return [f"{key}: expected {{path:, rows:, columns:}}, found {spec!r}"]
    problems = [f"{key}.{k}: no such key (only path, rows, columns)"
                for k in sorted(set(spec) - {"path", "rows", "columns"}) if strict]
    found = _template_problem(spec.get("path"), fields)
    problems += [f"{key}.path: {found}"] if found else []
    if "rows" in spec and jsonpath.problem(spec["rows"]):
        problems.append(f"{key}.rows: expected a dotted path such as 'data.items', found {spec['rows']!r}")
    columns = spec.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        problems.append(f"{key}.columns: expected {{our_name: their_name}}, found {columns!r}")
    return problems


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def _template_problem(template: Any, fields: set[str]) -> str | None:
    if not isinstance(template, str) or template.startswith(("http:", "https:", "//")):
        return f"expected a path under base_url such as '/items' (not a full URL), found {template!r}"
    try:
        unknown = sorted(_fields(template) - fields)
    except ValueError as exc:
        return f"expected a valid template, found {template!r} ({exc})"
    if unknown:
        return (f"expected placeholders among {{{'}, {'.join(sorted(fields))}}}, "
                f"found {{{'}, {'.join(unknown)}}} in {template!r}")
    return None


def _quote(value: Any) -> str:
    text = quote(str(value), safe="")
    if text and not text.strip("."):  # '.' or '..' would be a dot segment, even encoded
        raise ValueError(f"value {value!r} cannot be sent in a URL")
    return text


def _reason(exc: Exception) -> str:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"answered {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"
