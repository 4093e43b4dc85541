"""The SQL adapter's groundwork: which parameters a query may use, read-only engines with
statement timeouts, and which database errors are an outage and which are our query's fault.

Every run-time value travels as a bound parameter; the SQL text comes only from the config.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy import event, exc

from . import sql_tables as tables
from .errors import BadQuery, DataSourceError, StoreUnavailable

OPTIONS = {"url", "url_env", "statement_timeout_ms", "pool_size", "timezone", "areas_query",
           "areas_table", "events_query", "layers"}
BINDING_KEYS = {"latest", "series", "columns", "rows_per_area"}
DEFAULT_TIMEZONE = "Asia/Shanghai"
BACKENDS = ("postgresql", "mysql", "mariadb", "sqlite")
# The parameters each kind of query is given; nothing else is ever bound.
GIVEN = {
    "latest": ("level", "indicator", "at"),
    "series": ("indicator", "area_ids", "start", "end", "step_seconds"),
    "events_query": ("since", "until"),
    "areas_query": (),
    "layers": (),
}
POOL_WAIT_SECONDS = 2
# SQLAlchemy's own rule for text(): ':name' not preceded by ':', a word character or '\'.
_PARAM = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])")
_CAST = re.compile(r"(?<![:\w\x5c]):(\w+)::")
# PostgreSQL SQLSTATE classes that mean the server or the connection failed, not the query.
_PG_STORE_CLASSES = {"08", "28", "3D", "40", "53", "55", "57", "58", "XX"}
_MYSQL_STORE_ERRNOS = {1040, 1044, 1045, 1053, 1077, 1152, 1205, 1213, 1317, 1927}
_MYSQL_TOO_SLOW = {1969, 3024}   # MariaDB max_statement_time, MySQL max_execution_time
_SQLITE_QUERY_CODES = {1, 8, 12, 18, 19, 20, 25}  # error, readonly, notfound, toobig, ...


def parameters(sql: str) -> set[str]:
    """The named bind parameters of a SQL text, as ``sqlalchemy.text`` will see them."""
    return set(_PARAM.findall(sql))


def query_problems(sql: Any, kind: str) -> list[str]:
    """Problems with one configured query of ``kind`` (a key of :data:`GIVEN`)."""
    if not isinstance(sql, str) or not sql.strip():
        return [f"expected a SQL text, found {sql!r}"]
    given = GIVEN[kind]
    allowed = ", ".join(f":{p}" for p in given) or "none"
    problems = [f"expected only the parameters {allowed}, found :{name}"
                for name in sorted(parameters(sql) - set(given))]
    problems += [f"expected CAST(:{name} AS type), found :{name}:: (a '::' cast hides the parameter)"
                 for name in sorted(set(_CAST.findall(sql)))]
    return problems


def check_options(options: Mapping[str, Any]) -> list[str]:
    """Problems with a sql datasource's own keys, as 'key: expected ..., found ...'."""
    problems = [f"{k}: no such option of a sql datasource (only {', '.join(sorted(OPTIONS))})"
                for k in sorted(set(options) - OPTIONS)]
    url, env = options.get("url"), options.get("url_env")
    if env is not None and (not isinstance(env, str) or not env):
        problems.append(f"url_env: expected the name of an environment variable, found {env!r}")
    elif url is None and env is None:
        problems.append("url: expected a SQLAlchemy URL, or url_env naming an environment "
                        "variable that holds one, found neither")
    elif url is None and env not in os.environ:
        problems.append(f"url_env: expected the environment variable {env} to hold a database "
                        f"URL, found it unset (and no url to fall back on)")
    if url is not None:
        problems += [f"url: {p}" for p in url_problems(url)]
    for key in ("statement_timeout_ms", "pool_size"):
        value = options.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            problems.append(f"{key}: expected a positive integer, found {value!r}")
    zone = options.get("timezone", DEFAULT_TIMEZONE)
    if not zone_ok(zone):
        problems.append(f"timezone: expected an IANA time zone such as Asia/Shanghai or UTC "
                        f"(the zone of times stored without one), found {zone!r}")
    if "areas_table" in options:
        problems += tables.check_areas_table(options["areas_table"])
        if "areas_query" in options:
            problems.append("areas_table: expected either areas_table or areas_query, found both: "
                            "remove one")
    for key in ("areas_query", "events_query"):
        if key in options:
            problems += [f"{key}: {p}" for p in query_problems(options[key], key)]
    layers = options.get("layers", {})
    if not isinstance(layers, Mapping):
        problems.append(f"layers: expected {{layer name: SQL}}, found {layers!r}")
    else:
        for name, sql in layers.items():
            problems += [f"layers.{name}: {p}" for p in query_problems(sql, "layers")]
    return problems


def url_problems(url: Any) -> list[str]:
    """Problems with a configured URL: unparseable, an unsupported backend, a password."""
    try:
        parsed = sa.engine.make_url(url)
    except (exc.ArgumentError, TypeError, ValueError):
        return [f"expected a SQLAlchemy URL such as postgresql+psycopg://user@host:5432/db, found {url!r}"]
    problems = []
    if parsed.get_backend_name() not in BACKENDS:
        problems.append(f"expected a {', '.join(BACKENDS)} URL, found {parsed.get_backend_name()!r}")
    if parsed.password:
        problems.append("expected no password in the config, found one: put the URL in an "
                        "environment variable and name it with url_env")
    return problems


def zone_ok(zone: Any) -> bool:
    """Whether ``zone`` names an IANA time zone this machine knows."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        return False
    return True


def check_binding(params: Mapping[str, Any]) -> list[str]:
    """Problems with an indicator's sql binding: a table binding, or SQL texts."""
    rows = params.get("rows_per_area", "one")
    problems = [] if rows in tables.ROWS_PER_AREA else [
        f"binding.rows_per_area: expected one or many, found {rows!r}"]
    if "table" in params:
        allowed = tables.TABLE_KEYS | {"latest", "series"}   # both forms: check_table_binding says so
        return [f"binding.{k}: no such key for a sql table binding "
                f"(only {', '.join(sorted(tables.TABLE_KEYS))})"
                for k in sorted(set(params) - allowed)] + problems + tables.check_table_binding(params)
    problems = [f"binding.{k}: no such key for a sql binding (only {', '.join(sorted(BINDING_KEYS))}; "
                f"or table with columns)" for k in sorted(set(params) - BINDING_KEYS)] + problems
    if "latest" not in params:
        problems.append("binding.latest: expected a SQL text giving area_id, ts, value (or a table "
                        "binding: table and columns), found nothing")
    for key in ("latest", "series"):
        if key in params:
            problems += [f"binding.{key}: {p}" for p in query_problems(params[key], key)]
    columns = params.get("columns", {})
    if not isinstance(columns, Mapping) or not all(isinstance(v, str) for v in columns.values()):
        problems.append(f"binding.columns: expected {{our_name: their_name}}, found {columns!r}")
    return problems


# --- engines --------------------------------------------------------------------------------
def make_engine(url: str, timeout_ms: int, pool_size: int, timezone: str = "UTC") -> sa.Engine:
    """A pooled engine whose every connection refuses writes, cuts slow statements and has
    ``timezone`` as its session zone (so zoneless columns compare in that zone)."""
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    seconds = max(1, math.ceil(timeout_ms / 1000))
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "sqlite":
        parsed = _read_only_file(parsed)
        kwargs["connect_args"] = {"timeout": timeout_ms / 1000}
        settings = ["PRAGMA query_only = ON"]
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=POOL_WAIT_SECONDS,
                      pool_recycle=1800)
        if backend == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": max(2, seconds)}
            settings = ["SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
                        f"SET statement_timeout = {int(timeout_ms)}"]
        elif backend in ("mysql", "mariadb"):
            kwargs["connect_args"] = {"connect_timeout": seconds, "read_timeout": seconds + 5,
                                      "write_timeout": seconds + 5}
            settings = ["SET SESSION TRANSACTION READ ONLY"]
        else:
            raise exc.ArgumentError(f"unsupported database {backend!r} (only {', '.join(BACKENDS)})")
    engine = sa.create_engine(parsed, **kwargs)

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            for statement in settings:
                cursor.execute(statement)
            if backend == "postgresql":
                cursor.execute("SELECT set_config('TimeZone', %s, false)", (timezone,))
            if backend in ("mysql", "mariadb"):
                _mysql_zone(cursor, timezone)
                cursor.execute("SELECT VERSION()")
                mariadb = "mariadb" in str(cursor.fetchone()[0]).lower()
                cursor.execute(f"SET SESSION max_statement_time = {timeout_ms / 1000:.3f}" if mariadb
                               else f"SET SESSION max_execution_time = {int(timeout_ms)}")
        finally:
            cursor.close()
        dbapi_conn.commit()   # a SET inside a transaction that is rolled back would be undone

    event.listen(engine, "connect", on_connect)
    return engine


def _mysql_zone(cursor: Any, timezone: str) -> None:
    """The session zone by name when the server has its zone tables, else today's offset."""
    try:
        cursor.execute("SET SESSION time_zone = %s", (timezone,))
    except Exception:  # noqa: BLE001 (error 1298: no zone tables loaded; the offset will do)
        offset = datetime.now(UTC).astimezone(ZoneInfo(timezone)).strftime("%z")
        cursor.execute("SET SESSION time_zone = %s", (f"{offset[:3]}:{offset[3:]}",))


def _read_only_file(url: sa.URL) -> sa.URL:
    """A SQLite file opened read-only (``mode=ro``); in-memory databases stay as they are."""
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    path = quote(os.path.abspath(database), safe="/:")
    return url.set(database=f"file:{path}", query={**url.query, "mode": "ro", "uri": "true"})


@contextmanager
def deadline(conn: sa.Connection, timeout_ms: int) -> Iterator[None]:
    """SQLite has no statement timeout: interrupt its statement after ``timeout_ms``."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    ends = time.monotonic() + timeout_ms / 1000
    raw.set_progress_handler(lambda: 1 if time.monotonic() > ends else 0, 1000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


# --- errors ---------------------------------------------------------------------------------
def classify(source: str, err: exc.SQLAlchemyError, timeout_ms: int) -> DataSourceError:
    """The adapter error for a database error: an outage (StoreUnavailable) or ours (BadQuery)."""
    orig = getattr(err, "orig", None)
    message = short(err)
    if isinstance(err, exc.TimeoutError):
        return StoreUnavailable(source, f"no free database connection within "
                                        f"{POOL_WAIT_SECONDS} s: {message}")
    verdict = _verdict(orig)
    if verdict == "slow":
        return StoreUnavailable(source, f"store too slow (over {timeout_ms} ms): {message}")
    if verdict is None:
        down = isinstance(err, exc.OperationalError | exc.InterfaceError | exc.DisconnectionError)
        verdict = "store" if down or getattr(err, "connection_invalidated", False) else "query"
    return (StoreUnavailable if verdict == "store" else BadQuery)(source, message)


def _verdict(orig: Any) -> str | None:
    """'slow', 'store' or 'query' from the driver's own error code; None when it has none."""
    driver = type(orig).__module__.split(".")[0]
    args = getattr(orig, "args", ())
    if driver in ("pymysql", "MySQLdb", "mysql") and args and isinstance(args[0], int):
        errno = args[0]                                                        # MariaDB / MySQL
        if errno in _MYSQL_TOO_SLOW:
            return "slow"
        client = errno < 1000 or 2000 <= errno < 3000   # CR_* codes: the link, not the query
        return "store" if client or errno in _MYSQL_STORE_ERRNOS else "query"
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):                                                  # SQLite
        code &= 0xFF
        return "slow" if code == 9 else "query" if code in _SQLITE_QUERY_CODES else "store"
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate:                                 # PostgreSQL
        if sqlstate == "57014":
            return "slow"
        return "store" if sqlstate[:2] in _PG_STORE_CLASSES else "query"
    return None


def short(err: BaseException) -> str:
    """The first line of the driver's message, without the SQL and its parameters."""
    orig = getattr(err, "orig", None)
    lines = str(orig if orig is not None else err).strip().splitlines()
    return lines[0][:300] if lines else type(err).__name__
