"""A datasource over files a city platform drops into a directory: CSV, Parquet, GeoJSON.

Each indicator's binding names a file under the datasource's ``root``; a long file may
hold many indicators and levels, picked by ``filter`` and ``level_column``::

    datasources:
      drop:
        type: file
        root: /srv/citybrain/drop
        events: {file: events.csv, columns: {id: event_no, reported_at: report_time}}
        layers:
          roads: roads.geojson                  # ids from each feature's id or properties.id
          districts: {file: districts.json, id_property: adcode, name_property: name}
    indicators:
      - id: tpi
        binding: {source: drop, file: indicators.csv, filter: {indicator: tpi},
                  columns: {area_id: code, ts: time}}

Parsed files are cached by (path, mtime_ns, size): a rewritten file is parsed again on
the next read, an unchanged one is not. A missing or half-written file raises
:class:`StoreUnavailable`, so the last good value is served stale until it is fixed.

A layer file may be any GeoJSON a GIS department exports (see :mod:`datasources.geojson`):
``id_property`` names the property holding the feature id (an area code), ``name_property``
the one holding its name. Features it cannot serve are dropped and counted in ``/health``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from .base import LATEST_COLUMNS, SERIES_COLUMNS, Adapter, AreaLevel, Frame, Health, utcnow
from .errors import BadQuery, StoreUnavailable
from .geojson import features_of, read_layer
from .tabular import (
    area_rows,
    aware,
    event_rows,
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

ROW_FILES = (".csv", ".csv.gz", ".parquet", ".pq", ".geojson", ".json")
BINDING_KEYS = {"file", "columns", "filter", "level_column"}
OPTIONS = {"root", "events", "areas", "layers"}
LAYER_KEYS = {"file", "id_property", "name_property"}
LAYER_FILES = (".geojson", ".json")


class FileSource(Adapter):
    """A datasource whose store is a directory of files."""

    type = "file"

    def __init__(self, name: str, *, root: str, events: Mapping[str, Any] | None = None,
                 areas: Mapping[str, Any] | None = None,
                 layers: Mapping[str, str | Mapping[str, str]] | None = None) -> None:
        self.name = name
        self.root = os.path.abspath(root)
        self.events_spec, self.areas_spec = dict(events or {}), dict(areas or {})
        self.layers_spec = dict(layers or {})
        self.rejects = RejectCounter()
        self.parses = 0  # files parsed so far: a cache hit does not count
        self._cache: dict[str, tuple[tuple[int, int], Any]] = {}
        self._errors: dict[str, str] = {}
        self._layers: dict[str, tuple[Any, Any]] = {}   # layer -> (parsed doc, LayerRead | error text)
        self._lock = threading.Lock()

    # --- configuration checks ---------------------------------------------------------
    @staticmethod
    def check_options(options: dict[str, Any]) -> list[str]:
        """Problems with the datasource's own keys, as 'key: expected ..., found ...'."""
        problems = unknown_keys(options, OPTIONS, what="a file datasource")
        root = options.get("root")
        if not isinstance(root, str) or not os.path.isdir(root):
            problems.append(f"root: expected an existing directory, found {root!r}")
        for key in ("events", "areas"):
            spec = options.get(key, {})
            if not isinstance(spec, dict):
                problems.append(f"{key}: expected {{file:, columns:}}, found {spec!r}")
                continue
            problems += [f"{key}.{k}: no such key (only file, columns)"
                         for k in sorted(set(spec) - {"file", "columns"})]
            problems += [f"{key}.{p}" for p in _file_problems(spec, ROW_FILES)] if key in options else []
        layers = options.get("layers", {})
        if not isinstance(layers, dict):
            problems.append(f"layers: expected {{name: file.geojson}}, found {layers!r}")
            layers = {}
        for layer, spec in layers.items():
            problems += [f"layers.{layer}{p}" for p in _layer_problems(spec)]
        return problems

    @staticmethod
    def check_binding(indicator: Indicator) -> list[str]:
        """Problems with an indicator's binding to a file datasource."""
        params = indicator.binding.params()
        problems = unknown_keys(params, BINDING_KEYS, prefix="binding.", what="a file binding")
        problems += [f"binding.{p}" for p in _file_problems(params, ROW_FILES)]
        where = params.get("filter", {})
        if not isinstance(where, dict) or not all(isinstance(v, str | int | float) for v in where.values()):
            problems.append(f"binding.filter: expected {{column: value}}, found {where!r}")
        if not isinstance(params.get("level_column", "level"), str):
            problems.append(f"binding.level_column: expected a column name, found {params['level_column']!r}")
        return problems

    # --- the contract -----------------------------------------------------------------
    def areas(self) -> Frame[pd.DataFrame]:
        if not self.areas_spec:
            raise BadQuery(self.name, "no areas configured: add areas: {file:, columns:}")
        data = rename(self._rows(self.areas_spec.get("file")), self.areas_spec.get("columns"))
        return Frame(area_rows(data, source=self.name, rejects=self.rejects), as_of=utcnow(), source=self.name)

    def latest(self, indicators: Sequence[Indicator], level: AreaLevel,
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        aware(self.name, at)
        frames = []
        for ind in indicators:
            params = params_of(ind.binding)
            data = self._picked(params)
            column = params.get("level_column", "level")
            if column in data.columns:
                data = data[data[column].astype(str) == level]
            data = not_after(text_ids(rename(data, params.get("columns"))), at)
            frames.append(latest_rows(data, ind.id, source=self.name, rejects=self.rejects))
        return rows_frame(frames, LATEST_COLUMNS, self.name)

    def series(self, indicators: Sequence[Indicator], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        aware(self.name, start, end)
        if step <= timedelta(0) or end <= start:
            raise BadQuery(self.name, f"empty time range [{start}, {end}) at step {step}")
        frames = []
        for ind in indicators:
            params = params_of(ind.binding)
            data = text_ids(rename(self._picked(params), params.get("columns")))
            if area_ids and "area_id" in data.columns:
                data = data[data["area_id"].astype(str).isin([str(a) for a in area_ids])]
            frames.append(series_rows(data, ind.id, start, end, step, source=self.name,
                                      rejects=self.rejects, how=ind.time_rollup))
        return rows_frame(frames, SERIES_COLUMNS, self.name)

    def events(self, since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        if not self.events_spec:
            raise BadQuery(self.name, "no events configured: add events: {file:, columns:}")
        until = until or utcnow()
        aware(self.name, since, until)
        data = rename(self._rows(self.events_spec.get("file")), self.events_spec.get("columns"))
        rows = event_rows(data, source=self.name, rejects=self.rejects)
        return Frame(within(rows, since, until), as_of=until, source=self.name)

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        if name not in self.layers_spec:
            have = ", ".join(sorted(self.layers_spec)) or "none configured"
            raise BadQuery(self.name, f"no map layer {name!r}; this datasource has {have}")
        spec = _layer_spec(self.layers_spec[name])
        doc = self._load(spec.get("file"))
        with self._lock:
            memo = self._layers.get(name)
        if memo is None or memo[0] is not doc:   # read (and count drops) once per file version
            try:
                read: Any = read_layer(doc, source=self.name, layer=name, origin=spec.get("file"),
                                       key_path=f"datasources.{self.name}.layers.{name}",
                                       id_property=spec.get("id_property"),
                                       name_property=spec.get("name_property"), rejects=self.rejects)
            except BadQuery as exc:
                read = exc.message
            with self._lock:
                self._layers[name] = memo = (doc, read)
        if isinstance(memo[1], str):
            with self._lock:
                self._errors[self._resolve(spec.get("file"))] = memo[1]
            raise BadQuery(self.name, memo[1])
        return Frame(memo[1].collection, as_of=utcnow(), source=self.name)

    def health(self) -> Health:
        started = time.perf_counter()
        error = None if os.path.isdir(self.root) else f"root {self.root} is not a directory"
        with self._lock:
            errors, paths = dict(self._errors), list(self._cache)
        newest = max(filter(None, map(_mtime, paths)), default=None)
        error = error or next(iter(errors.values()), None)
        return Health(self.name, error is None,
                      latency_ms=(time.perf_counter() - started) * 1000,
                      last_data_at=datetime.fromtimestamp(newest, UTC) if newest else None, error=error,
                      details={"root": self.root, "files_cached": len(self._cache), "parses": self.parses,
                               "failing_files": errors, "rejects": self.rejects.to_json()})

    # --- internals --------------------------------------------------------------------
    def _resolve(self, file: str | None) -> str:
        if not isinstance(file, str) or not file:
            raise BadQuery(self.name, f"expected a file name, found {file!r}")
        full = os.path.normpath(os.path.join(self.root, file))
        if os.path.commonpath([self.root, full]) != self.root:
            raise BadQuery(self.name, f"file {file!r} is outside root {self.root}")
        return full

    def _load(self, file: str | None) -> Any:
        """The parsed file (a frame, or a dict for GeoJSON), parsed again only when it changed."""
        path = self._resolve(file)
        try:
            stat = os.stat(path)
        except OSError as exc:
            why = "does not exist (not written yet?)" if isinstance(exc, FileNotFoundError) else str(exc)
            raise self._fail(path, f"file {path} {why}") from exc
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            hit = self._cache.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        try:
            parsed = _parse(path)
        except ImportError as exc:
            raise BadQuery(self.name, f"cannot read {path}: {exc}") from exc
        except (ValueError, OSError, NotImplementedError) as exc:
            raise self._fail(path, f"cannot parse {path}: {type(exc).__name__}: {str(exc).strip()}") from exc
        with self._lock:
            self._cache[path] = (key, parsed)
            self._errors.pop(path, None)
            self.parses += 1
        return parsed

    def _fail(self, path: str, message: str) -> StoreUnavailable:
        with self._lock:
            self._errors[path] = message
        return StoreUnavailable(self.name, message)

    def _rows(self, file: str | None) -> pd.DataFrame:
        parsed = self._load(file)
        if isinstance(parsed, list):  # a plain JSON array of records
            return pd.DataFrame([r for r in parsed if isinstance(r, dict)])
        return parsed if isinstance(parsed, pd.DataFrame) else geojson_rows(parsed, self.name, file)

    def _picked(self, params: Mapping[str, Any]) -> pd.DataFrame:
        """The binding's file rows where every ``filter`` column holds its value."""
        data = self._rows(params.get("file"))
        for column, value in (params.get("filter") or {}).items():
            if column not in data.columns:
                raise BadQuery(self.name, f"filter column {column!r} is not in {params['file']} "
                                          f"(columns: {', '.join(map(str, data.columns))})")
            data = data[data[column].astype(str) == str(value)]
        return data


def _parse(path: str) -> Any:
    lower = path.lower()
    if lower.endswith((".csv", ".csv.gz")):  # text columns: area codes keep their leading zeros
        return pd.read_csv(path, dtype=str)
    if lower.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _layer_spec(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """A layer's config as ``{file, id_property?, name_property?}``."""
    return {"file": spec} if isinstance(spec, str) else dict(spec)


def _layer_problems(spec: Any) -> list[str]:
    """Problems with one ``layers:`` entry, each starting where its key path goes on."""
    if isinstance(spec, str):
        return [p[4:] for p in _file_problems({"file": spec}, LAYER_FILES)]
    if not isinstance(spec, dict):
        return [f": expected a file name or {{file:, id_property:, name_property:}}, found {spec!r}"]
    problems = [f".{p}" for p in unknown_keys(spec, LAYER_KEYS, what="a file layer")]
    problems += [f".{p}" for p in _file_problems({"file": spec.get("file")}, LAYER_FILES)]
    for key in ("id_property", "name_property"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key].strip()):
            problems.append(f".{key}: expected the name of a feature property (e.g. adcode), "
                            f"found {spec[key]!r}")
    return problems


def _file_problems(spec: Mapping[str, Any], suffixes: tuple[str, ...]) -> list[str]:
    file = spec.get("file")
    if not isinstance(file, str) or not file.lower().endswith(suffixes):
        return [f"file: expected a {', '.join(suffixes)} file, found {file!r}"]
    if os.path.isabs(file) or os.path.normpath(file).split(os.sep)[0] == os.pardir:
        return [f"file: expected a path inside root, found {file!r}"]
    columns = spec.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        return [f"columns: expected {{our_name: their_name}}, found {columns!r}"]
    return []


def geojson_rows(doc: Any, source: str, where: str) -> pd.DataFrame:
    """GeoJSON features (any shape :func:`features_of` reads) as rows: properties, the
    feature id, a point's lon / lat."""
    try:
        features = features_of(doc)
    except ValueError as exc:
        raise BadQuery(source, f"{where}: {exc}") from None
    rows = []
    for feature in filter(None, features):
        row = {"id": feature.get("id"), **feature["properties"]}
        geometry = feature.get("geometry") if isinstance(feature.get("geometry"), dict) else {}
        coords = geometry.get("coordinates")
        if geometry.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
            row.setdefault("lon", coords[0])
            row.setdefault("lat", coords[1])
        rows.append(row)
    return pd.DataFrame(rows)
