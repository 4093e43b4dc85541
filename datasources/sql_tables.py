"""Table bindings of the SQL adapter: the binding names where an indicator's leaf facts
live (a table and its columns) and the adapter writes the SELECTs itself.

    binding:
      source: warehouse
      table: plat.fact_district_hour            # optionally schema-qualified
      columns: {area_id: district_code, ts: stat_hour, value: pm25_avg}   # ours -> theirs
      where: {indicator_code: pm25}             # fixed filters, each value a bound parameter
      level_column: region_level                # optional: filter on the level word ...
      level_value: county                       # ... this one (default: the level asked for)
      rows_per_area: one                        # or many (several facts per area and time)

Identifiers are checked against :data:`IDENT` before any SQL is built and always quoted;
every value (filters, level, times, area ids) is a bound parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import quoted_name

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STANDARD = ("area_id", "ts", "value")
RESERVED = ("area_id", "ts", "value", "indicator")   # ours, never an extra
TABLE_KEYS = {"table", "columns", "where", "level_column", "level_value", "rows_per_area"}
AREA_KEYS = {"table", "columns", "where"}
AREA_COLUMNS = ("id", "parent_id", "level", "name_zh", "name_en")
ROWS_PER_AREA = ("one", "many")


def extras_of(columns: Any) -> list[str]:
    """Our names of a binding's extra numeric columns (keys beyond area_id, ts, value)."""
    if not isinstance(columns, Mapping):
        return []
    return [str(k) for k in columns if k not in RESERVED]


def many_rows(params: Mapping[str, Any]) -> bool:
    """Whether the binding keeps every row of an area's newest time (``rows_per_area: many``)."""
    return params.get("rows_per_area") == "many"


# --- checks ---------------------------------------------------------------------------------
def table_problems(value: Any, key: str) -> list[str]:
    """Problems with a table name at ``key``."""
    if isinstance(value, str) and IDENT.match(value):
        return []
    return [f"{key}: expected a table name such as fact_district_hour or plat.fact_district_hour "
            f"(letters, digits and _, one optional schema dot), found {value!r}"]


def column_problems(value: Any, key: str) -> list[str]:
    """Problems with a column name at ``key``."""
    if isinstance(value, str) and COLUMN.match(value):
        return []
    return [f"{key}: expected a column name (letters, digits and _, not starting with a digit), "
            f"found {value!r}"]


def where_problems(where: Any, key: str) -> list[str]:
    """Problems with fixed filters ``{column: literal}``."""
    if where is None:
        return []
    if not isinstance(where, Mapping):
        return [f"{key}: expected {{column: value}} (e.g. {{indicator_code: pm25}}), found {where!r}"]
    problems = []
    for column, literal in where.items():
        problems += column_problems(column, f"{key}.{column}")
        if not isinstance(literal, str | int | float | bool):
            problems.append(f"{key}.{column}: expected a text or a number, found {literal!r}")
    return problems


def check_table_binding(params: Mapping[str, Any]) -> list[str]:
    """Problems with a table binding (the form without SQL texts)."""
    problems = table_problems(params.get("table"), "binding.table")
    if "latest" in params or "series" in params:
        problems.append("binding.table: expected either table (with columns) or the SQL texts "
                        "latest / series, found both: remove one")
    columns = params.get("columns")
    if not isinstance(columns, Mapping):
        return problems + [f"binding.columns: expected {{area_id: ..., ts: ..., value: ...}} "
                           f"(ours -> your column), found {columns!r}"]
    for ours, theirs in columns.items():
        problems += column_problems(ours, "binding.columns (our name)")
        problems += column_problems(theirs, f"binding.columns.{ours}")
    problems += [f"binding.columns.{need}: expected the column holding {need}, found nothing"
                 for need in ("area_id", "ts") if need not in columns]
    if "value" not in columns and not extras_of(columns):
        problems.append("binding.columns.value: expected the column holding the value "
                        "(or extra columns such as occupied: used_spaces), found nothing")
    problems += where_problems(params.get("where"), "binding.where")
    if "level_column" in params:
        problems += column_problems(params["level_column"], "binding.level_column")
    if "level_value" in params:
        if "level_column" not in params:
            problems.append("binding.level_value: expected level_column next to it, found none")
        if not isinstance(params["level_value"], str | int):
            problems.append(f"binding.level_value: expected a text, found {params['level_value']!r}")
    return problems


def check_areas_table(spec: Any) -> list[str]:
    """Problems with the ``areas_table`` datasource option."""
    if not isinstance(spec, Mapping):
        return [f"areas_table: expected {{table: ..., columns: {{id: ..., parent_id: ..., level: ..., "
                f"name_zh: ...}}}}, found {spec!r}"]
    problems = [f"areas_table.{k}: no such key (only {', '.join(sorted(AREA_KEYS))})"
                for k in sorted(set(spec) - AREA_KEYS)]
    problems += table_problems(spec.get("table"), "areas_table.table")
    columns = spec.get("columns", {})
    if not isinstance(columns, Mapping):
        return problems + [f"areas_table.columns: expected {{our name: your column}}, found {columns!r}"]
    for ours, theirs in columns.items():
        problems += column_problems(ours, "areas_table.columns (our name)")
        problems += column_problems(theirs, f"areas_table.columns.{ours}")
    return problems + where_problems(spec.get("where"), "areas_table.where")


# --- statements -----------------------------------------------------------------------------
def _table(name: str, columns: Sequence[str]) -> sa.TableClause:
    schema, _, table = name.rpartition(".")
    cols = [sa.column(quoted_name(c, quote=True)) for c in dict.fromkeys(columns)]
    return sa.table(quoted_name(table, quote=True), *cols,
                    schema=quoted_name(schema, quote=True) if schema else None)


def _filters(t: Any, where: Mapping[str, Any] | None) -> list[sa.ColumnElement[bool]]:
    return [t.c[c] == sa.bindparam(None, v, unique=True) for c, v in (where or {}).items()]


def _spec(params: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The ours -> theirs map and every column the statement touches."""
    columns = {str(k): str(v) for k, v in params["columns"].items()}
    used = list(columns.values()) + list(params.get("where") or {})
    if params.get("level_column"):
        used.append(str(params["level_column"]))
    return columns, used


def _level_filter(t: Any, params: Mapping[str, Any], level: str | None) -> list[Any]:
    column = params.get("level_column")
    if not column:
        return []
    word = params.get("level_value", level)
    return [] if word is None else [t.c[column] == sa.bindparam("level", word, unique=True)]


def latest_select(params: Mapping[str, Any], level: str, at: sa.BindParameter[Any]) -> sa.Select[Any]:
    """The rows at each area's newest time not after ``at``: a MAX(ts) per area, joined back."""
    columns, used = _spec(params)
    base = _table(str(params["table"]), used)
    inner, outer = base.alias("m"), base.alias("f")
    area, ts = columns["area_id"], columns["ts"]
    newest = (sa.select(inner.c[area].label("a"), sa.func.max(inner.c[ts]).label("t"))
              .where(*_filters(inner, params.get("where")), *_level_filter(inner, params, level),
                     inner.c[ts] <= at)
              .group_by(inner.c[area]).subquery("newest"))
    joined = outer.join(newest, sa.and_(outer.c[area] == newest.c.a, outer.c[ts] == newest.c.t))
    return (sa.select(*[outer.c[theirs].label(ours) for ours, theirs in columns.items()])
            .select_from(joined)
            .where(*_filters(outer, params.get("where")), *_level_filter(outer, params, level)))


def series_select(params: Mapping[str, Any], area_ids: sa.BindParameter[Any],
                  start: sa.BindParameter[Any], end: sa.BindParameter[Any]) -> sa.Select[Any]:
    """The rows of the given areas with start <= ts < end."""
    columns, used = _spec(params)
    t = _table(str(params["table"]), used)
    ts = t.c[columns["ts"]]
    level = _level_filter(t, params, None) if "level_value" in params else []
    return (sa.select(*[t.c[theirs].label(ours) for ours, theirs in columns.items()])
            .where(t.c[columns["area_id"]].in_(area_ids), ts >= start, ts < end,
                   *_filters(t, params.get("where")), *level))


def areas_select(spec: Mapping[str, Any]) -> sa.Select[Any]:
    """The area rows of ``areas_table``, labelled with our column names."""
    columns = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
    for ours in ("id", "level"):
        columns.setdefault(ours, ours)
    t = _table(str(spec["table"]), list(columns.values()) + list(spec.get("where") or {}))
    return (sa.select(*[t.c[theirs].label(ours) for ours, theirs in columns.items()])
            .where(*_filters(t, spec.get("where"))))
