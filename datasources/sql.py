"""A SQL warehouse as a datasource, through SQLAlchemy 2: PostgreSQL, MariaDB/MySQL, SQLite.

The SQL texts come only from the config; every run-time value (level, indicator id, area
ids, times) is a bound parameter, never text in the SQL. Connections are read-only where
the database can enforce it and carry a statement timeout. An indicator's binding is either
a table and its columns (the adapter writes the SELECTs, see :mod:`datasources.sql_tables`)
or SQL texts::

    datasources:
      warehouse:
        type: sql
        url_env: WAREHOUSE_URL            # secrets only from the environment
        statement_timeout_ms: 5000
        pool_size: 5
        timezone: Asia/Shanghai           # the zone of DATETIME / TIMESTAMP values without one
        areas_query: SELECT id, parent_id, level, name_zh, name_en FROM dim_region
        events_query: SELECT ... FROM ods_event WHERE reported_at >= :since AND reported_at <= :until
        layers: {roads: SELECT id, geometry, name FROM gis_road}
    indicators:
      - id: pm25
        binding: {source: warehouse, table: plat.fact_district_hour, where: {indicator_code: pm25},
                  columns: {area_id: district_code, ts: stat_hour, value: pm25_avg}}
      - id: traffic_tpi
        binding:
          source: warehouse
          latest: SELECT region_code, stat_time, val FROM ods_tpi WHERE region_level = :level
          series: SELECT region_code, stat_time, val FROM ods_tpi
                  WHERE region_code IN :area_ids AND stat_time >= :start AND stat_time < :end
          columns: {area_id: region_code, ts: stat_time, value: val}

See docs/datasources-sql.md for the table layout this reads and what each query is given.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc

from . import sql_queries as q
from . import sql_tables as tables
from . import tabular
from .base import EVENT_COLUMNS, LATEST_COLUMNS, SERIES_COLUMNS, Adapter, AreaLevel, Frame, Health, utcnow
from .errors import BadQuery
from .tabular import area_rows, aware, feature_collection, json_property, json_value, not_after, present, text_ids
from .validation import RejectCounter

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator

MAX_ROWS = 500_000   # rows one query may return; more is a query to narrow, not to load
EVENT_TIMES = ("reported_at", "closed_at", "dispatched_at", "arrived_at")


class SqlSource(Adapter):
    """A datasource whose store is a SQL database, read through a pooled read-only engine."""

    type = "sql"

    def __init__(self, name: str, *, url: str | None = None, url_env: str | None = None,
                 statement_timeout_ms: int = 5000, pool_size: int = 5,
                 timezone: str = q.DEFAULT_TIMEZONE, areas_query: str | None = None,
                 areas_table: Mapping[str, Any] | None = None, events_query: str | None = None,
                 layers: Mapping[str, str] | None = None) -> None:
        self.name = name
        resolved = (os.environ.get(url_env) if url_env else None) or url
        if not resolved:
            raise BadQuery(name, f"no database URL: set the environment variable {url_env}"
                           if url_env else "no database URL: give url or url_env")
        if not q.zone_ok(timezone):
            raise BadQuery(name, f"timezone: expected an IANA time zone such as Asia/Shanghai, "
                                 f"found {timezone!r}")
        problems = tables.check_areas_table(areas_table) if areas_table is not None else []
        if problems:
            raise BadQuery(name, "; ".join(problems))
        self.timeout_ms, self.timezone, self.zone = int(statement_timeout_ms), timezone, ZoneInfo(timezone)
        self.areas_query, self.events_query = areas_query, events_query
        self.areas_table = dict(areas_table) if areas_table is not None else None
        self.layers = dict(layers or {})
        self.rejects = RejectCounter()
        self._last_data_at: datetime | None = None
        try:
            self.engine = q.make_engine(resolved, self.timeout_ms, int(pool_size), timezone)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError, ValueError) as err:
            raise BadQuery(name, f"cannot use the database URL: {q.short(err)}") from err
        self.dialect = self.engine.dialect.name
        self.display_url = sa.engine.make_url(resolved).render_as_string(hide_password=True)

    # --- configuration checks -------------------------------------------------------------
    @staticmethod
    def check_options(options: dict[str, Any]) -> list[str]:
        """Problems with the datasource's own keys, as 'key: expected ..., found ...'."""
        return q.check_options(options)

    @staticmethod
    def check_binding(indicator: Indicator) -> list[str]:
        """Problems with an indicator's binding: keys, and only the parameters each query gets."""
        return q.check_binding(indicator.binding.params())

    # --- the contract -----------------------------------------------------------------------
    def latest(self, indicators: Sequence[Indicator], level: AreaLevel,
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        aware(self.name, at)
        when = at or utcnow()
        parts = []
        for ind in indicators:
            params = tabular.params_of(ind.binding)
            if "table" in params:
                where = f"indicator {ind.id!r} binding.table ({params['table']})"
                select = tables.latest_select(params, level, self._bind("at", when))
                rows = self._fetch(select, where)
            else:
                sql = params.get("latest")
                if not isinstance(sql, str):
                    raise BadQuery(self.name, f"indicator {ind.id!r} has no latest query in its "
                                              f"binding: give binding.latest or binding.table")
                values = {"level": level, "indicator": ind.id, "at": when}
                rows = self._rows(sql, values, "latest", f"indicator {ind.id!r} binding.latest")
            rows = not_after(self._times(text_ids(tabular.rename(rows, _renames(params)))), at)
            parts.append(tabular.latest_rows(rows, ind.id, source=self.name, rejects=self.rejects,
                                             extras=tables.extras_of(params.get("columns")),
                                             many=tables.many_rows(params)))
        return self._seen(_frame(parts, LATEST_COLUMNS, when, self.name))

    def series(self, indicators: Sequence[Indicator], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        aware(self.name, start, end)
        if step <= timedelta(0) or end <= start:
            raise BadQuery(self.name, f"empty time range [{start}, {end}) at step {step}")
        wanted = [str(a) for a in area_ids]
        parts = []
        for ind in indicators:
            params = tabular.params_of(ind.binding)
            sql = params.get("series")
            if "table" not in params and not isinstance(sql, str):
                raise BadQuery(self.name, f"indicator {ind.id!r} has no series query in its binding: "
                                          f"give binding.series or binding.table")
            if not wanted:
                continue
            if "table" in params:
                select = tables.series_select(params, self._bind("area_ids", wanted),
                                              self._bind("start", start), self._bind("end", end))
                rows = self._fetch(select, f"indicator {ind.id!r} binding.table ({params['table']})")
            else:
                values = {"indicator": ind.id, "area_ids": wanted, "start": start, "end": end,
                          "step_seconds": int(step.total_seconds())}
                rows = self._rows(str(sql), values, "series", f"indicator {ind.id!r} binding.series")
            rows = self._times(text_ids(tabular.rename(rows, _renames(params))))
            if "area_id" in rows.columns:   # a query that ignores :area_ids still answers only these
                rows = rows[rows["area_id"].isna() | rows["area_id"].isin(wanted)]
            parts.append(tabular.series_rows(rows, ind.id, start, end, step, source=self.name,
                                             rejects=self.rejects, how=ind.time_rollup,
                                             extras=tables.extras_of(params.get("columns")),
                                             many=tables.many_rows(params)))
        return self._seen(_frame(parts, SERIES_COLUMNS, min(end, utcnow()), self.name))

    def events(self, since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        if not self.events_query:
            raise BadQuery(self.name, "this datasource has no events_query")
        aware(self.name, since, until)
        until = until or utcnow()
        rows = self._rows(self.events_query, {"since": since, "until": until}, "events_query",
                          "events_query")
        rows = text_ids(self._times(rows, EVENT_TIMES))
        for column in ("camera_ids", "facility_ids"):
            if column in rows.columns:
                rows[column] = rows[column].map(_id_list)
        for column in ("lon", "lat"):   # NULL as text: clean_points' example fails on NaN (pandas 3)
            if column in rows.columns:
                rows[column] = rows[column].astype(object).where(rows[column].notna(), "NULL")
        data = tabular.event_rows(rows, source=self.name, rejects=self.rejects)
        if not data.empty:   # a query that ignores :since / :until still answers only the window
            inside = (data.reported_at >= pd.Timestamp(since)) & (data.reported_at <= pd.Timestamp(until))
            data = data[inside].reset_index(drop=True)
        return Frame(data if not data.empty else pd.DataFrame(columns=EVENT_COLUMNS), as_of=until,
                     source=self.name)

    def areas(self) -> Frame[pd.DataFrame]:
        if self.areas_table is not None:   # the platform's own level words, kept as text
            where = f"areas_table ({self.areas_table['table']})"
            rows = self._fetch(tables.areas_select(self.areas_table), where)
            return Frame(tabular.platform_area_rows(rows, source=self.name, rejects=self.rejects),
                         as_of=utcnow(), source=self.name)
        if not self.areas_query:
            raise BadQuery(self.name, "this datasource has no areas_query or areas_table")
        rows = self._rows(self.areas_query, {}, "areas_query", "areas_query")
        missing = [c for c in ("id", "level") if c not in rows.columns]
        if missing:
            raise BadQuery(self.name, f"areas_query gives no column(s) {', '.join(missing)} "
                                      f"(it gives {', '.join(map(str, rows.columns))}): alias them")
        return Frame(area_rows(rows, source=self.name, rejects=self.rejects), as_of=utcnow(),
                     source=self.name)

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        sql = self.layers.get(name)
        if not sql:
            have = ", ".join(sorted(self.layers)) or "none"
            raise BadQuery(self.name, f"this datasource has no layer {name!r} (layers: {have})")
        rows = self._rows(sql, {}, "layers", f"layers.{name}")
        return Frame(self._collection(name, rows), as_of=utcnow(), source=self.name)

    def health(self) -> Health:
        started = time.perf_counter()
        error = None
        try:
            with self.engine.connect() as conn, q.deadline(conn, self.timeout_ms):
                conn.execute(sa.text("SELECT 1")).fetchall()
        except Exception as err:  # noqa: BLE001 (health is a value, never an exception)
            error = q.short(err)
        latency = (time.perf_counter() - started) * 1000
        mariadb = getattr(self.engine.dialect, "is_mariadb", False)   # known once connected
        details = {"dialect": "mariadb" if mariadb else self.dialect,
                   "url": self.display_url,
                   "statement_timeout_ms": self.timeout_ms, "timezone": self.timezone,
                   "pool": self.engine.pool.status(),
                   "rejects": self.rejects.to_json()}
        return Health(self.name, error is None, latency_ms=latency, last_data_at=self._last_data_at,
                      error=error, details=details)

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    # --- for readers the data service composes on this store (service.segments) -----------
    def fetch(self, statement: sa.Executable, where: str) -> pd.DataFrame:
        """The rows of a Core ``statement``, read as the adapter's own are (read-only, with the
        statement timeout and the row limit); an error names ``where`` in the config."""
        return self._fetch(statement, where)

    def bind(self, key: str, value: Any) -> sa.BindParameter[Any]:
        """``value`` as a bound parameter, a time in the form this database compares."""
        return self._bind(key, value)

    # --- internals --------------------------------------------------------------------------
    def _rows(self, sql: str, values: dict[str, Any], kind: str, where: str) -> pd.DataFrame:
        """The rows of a configured query, every value bound; at most MAX_ROWS of them."""
        used = q.parameters(sql)
        missing = sorted(used - set(values))
        if missing:
            given = ", ".join(f":{k}" for k in q.GIVEN[kind]) or "no parameters"
            raise BadQuery(self.name, f"{where}: the query uses :{', :'.join(missing)}, but it is "
                                      f"given only {given}")
        statement = sa.text(sql).bindparams(*[self._bind(k, v) for k, v in values.items() if k in used])
        return self._fetch(statement, where)

    def _fetch(self, statement: sa.Executable, where: str) -> pd.DataFrame:
        """The rows of ``statement``; a database error names ``where`` in the config."""
        try:
            with self.engine.connect() as conn, q.deadline(conn, self.timeout_ms):
                result = conn.execute(statement)
                if not result.returns_rows:
                    raise BadQuery(self.name, f"{where}: the query returned no rows: expected a SELECT")
                columns = [str(c) for c in result.keys()]
                rows = result.fetchmany(MAX_ROWS + 1)
        except exc.SQLAlchemyError as err:
            error = q.classify(self.name, err, self.timeout_ms)
            raise type(error)(self.name, f"{where}: {error.message}") from err
        if len(rows) > MAX_ROWS:
            raise BadQuery(self.name, f"{where}: the query returned over {MAX_ROWS} rows: narrow it")
        return pd.DataFrame([tuple(r) for r in rows], columns=columns)

    def _bind(self, key: str, value: Any) -> sa.BindParameter[Any]:
        """``value`` as a bound parameter; times in the datasource's zone, in the form the
        database compares with a column of that zone."""
        if key == "area_ids":
            return sa.bindparam(key, list(value), expanding=True)
        if isinstance(value, datetime):
            value = value.astimezone(self.zone)
            if self.dialect == "sqlite":   # SQLite compares times as text: 'YYYY-MM-DD HH:MM:SS'
                return sa.bindparam(key, value.replace(tzinfo=None).isoformat(" ", "auto"), sa.String)
            if self.dialect in ("mysql", "mariadb"):   # DATETIME has no zone; the session has ours
                return sa.bindparam(key, value.replace(tzinfo=None), sa.DateTime())
            return sa.bindparam(key, value, sa.DateTime(timezone=True))
        return sa.bindparam(key, value)

    def _times(self, rows: pd.DataFrame, columns: Sequence[str] = ("ts",)) -> pd.DataFrame:
        """Time columns as aware UTC, zoneless values read in the datasource's zone."""
        present = {c: tabular.to_utc(rows[c], self.timezone) for c in columns if c in rows.columns}
        return rows.assign(**present) if present else rows

    def _collection(self, name: str, rows: pd.DataFrame) -> dict[str, Any]:
        """A layer query's answer as a FeatureCollection: one GeoJSON document, or rows of
        id + geometry + properties."""
        where = f"layers.{name}"
        if "geometry" not in rows.columns:
            if len(rows.columns) != 1:
                raise BadQuery(self.name, f"{where}: expected one column of GeoJSON or the "
                                          f"columns id, geometry, ...; found {list(rows.columns)}")
            docs = [json_value(v) for v in rows.iloc[:, 0] if v is not None]
            if len(docs) == 1 and isinstance(docs[0], dict) and docs[0].get("type") == "FeatureCollection":
                return feature_collection(docs[0], name, self.name, where)
            return feature_collection({"type": "FeatureCollection", "features": docs}, name, self.name,
                                      where)
        features = []
        for n, record in enumerate(rows.to_dict("records")):
            geometry = json_value(record.pop("geometry"))
            if not isinstance(geometry, dict) or "type" not in geometry:
                self.rejects.add(self.name, f"layer {name}", "geometry is not GeoJSON",
                                 example=str(record.get("id")))
                continue
            fid = str(record["id"]) if present(record.get("id")) else f"{name}-{n}"
            props = {k: json_property(v) for k, v in record.items()}
            features.append({"type": "Feature", "id": fid, "geometry": geometry,
                             "properties": {**props, "id": fid}})
        return {"type": "FeatureCollection", "features": features}

    def _seen(self, frame: Frame[pd.DataFrame]) -> Frame[pd.DataFrame]:
        if not frame.data.empty:
            self._last_data_at = max(self._last_data_at or frame.as_of, frame.as_of)
        return frame


def _frame(parts: list[pd.DataFrame], columns: list[str], default: datetime,
           source: str) -> Frame[pd.DataFrame]:
    parts = [p for p in parts if not p.empty]
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    if parts:
        for column in data.columns[len(columns):].tolist() + ["value"]:   # value and the extras
            data[column] = data[column].astype(float)
    return Frame(data, as_of=tabular.as_of([data], "ts", default), source=source)


def _renames(params: Mapping[str, Any]) -> Mapping[str, str] | None:
    """The rename map of a SQL-text binding; a table binding's SELECT already uses our names."""
    return None if "table" in params else params.get("columns")


def _id_list(value: Any) -> list[str]:
    """Camera / facility ids as a list: a database array, JSON text, or comma-separated text."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if not isinstance(value, str) or not value.strip():
        return []
    if value.lstrip().startswith("["):
        parsed = json_value(value)
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return [v.strip() for v in value.split(",") if v.strip()]
