"""Shared steps of adapters whose stores return rows: map the operator's column names to
ours, clean the rows, and shape them into the contract's frames.

An operator's binding may rename columns, e.g. ``columns: {area_id: district_code,
ts: updated_at, value: idx}``: keys are our names, values are theirs.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from .base import (
    AREA_COLUMNS,
    AREA_LEVELS,
    EVENT_COLUMNS,
    LATEST_COLUMNS,
    OPTIONAL_EVENT_COLUMNS,
    SERIES_COLUMNS,
    Frame,
    utcnow,
)
from .errors import BadQuery
from .geojson import read_layer
from .validation import RejectCounter, clean_points, clean_values


def rename(data: pd.DataFrame, columns: Mapping[str, str] | None) -> pd.DataFrame:
    """The operator's column names turned into ours (``columns`` maps ours → theirs)."""
    if not columns:
        return data
    return data.rename(columns={theirs: ours for ours, theirs in columns.items()})


def latest_rows(data: pd.DataFrame, indicator: str, *, source: str, rejects: RejectCounter,
                known_areas: Collection[str] | None = None, extras: Sequence[str] = (),
                many: bool = False) -> pd.DataFrame:
    """Clean (area_id, ts, value, *extras) rows into the latest shape: the newest row per
    area, or with ``many`` every row at the area's newest time (one per parking lot, say)."""
    what = f"latest {indicator}"
    rows = clean_values(data, source=source, what=what, rejects=rejects,
                        required=("area_id", "ts") if extras else ("area_id", "ts", "value"),
                        known_areas=known_areas)
    rows = _numbers(rows, extras, source=source, what=what, rejects=rejects)
    columns = LATEST_COLUMNS + list(extras)
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.sort_values("ts", kind="stable")
    if many:
        rows = rows[rows["ts"] == rows.groupby("area_id")["ts"].transform("max")]
    else:
        rows = rows.drop_duplicates("area_id", keep="last")
    rows = rows.sort_values("area_id", kind="stable").assign(indicator=indicator)
    return rows[columns].reset_index(drop=True)


def series_rows(data: pd.DataFrame, indicator: str, start: datetime, end: datetime,
                step: timedelta, *, source: str, rejects: RejectCounter,
                how: str = "mean", extras: Sequence[str] = (), many: bool = False) -> pd.DataFrame:
    """Clean (ts, area_id, value, *extras) rows bucketed to ``step`` over [start, end).

    Each number is aggregated per (bucket, area) by ``how``; with ``many`` the rows an area
    has at one time (one per parking lot, say) are summed first, as ``latest`` would be."""
    what = f"series {indicator}"
    rows = clean_values(data, source=source, what=what, rejects=rejects,
                        required=("area_id", "ts") if extras else ("area_id", "ts", "value"))
    rows = _numbers(rows, extras, source=source, what=what, rejects=rejects)
    numbers = ["value", *extras]
    if rows.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS + list(extras))
    rows = rows[(rows.ts >= pd.Timestamp(start)) & (rows.ts < pd.Timestamp(end))]
    rows = rows.sort_values("ts", kind="stable")
    if many:
        rows = rows.groupby(["ts", "area_id"], as_index=False)[numbers].sum(min_count=1)
    offset = (rows.ts - pd.Timestamp(start)) // pd.Timedelta(step)
    rows = rows.assign(ts=pd.Timestamp(start) + offset * pd.Timedelta(step))
    agg = {"sum": "sum", "max": "max", "min": "min", "latest": "last", "daily_total": "last"}.get(how, "mean")
    grouped = rows.groupby(["ts", "area_id"], as_index=False)[numbers]
    out = grouped.sum(min_count=1) if agg == "sum" else grouped.agg(agg)
    out["indicator"] = indicator
    return out[SERIES_COLUMNS + list(extras)]


def _numbers(rows: pd.DataFrame, extras: Sequence[str], *, source: str, what: str,
             rejects: RejectCounter) -> pd.DataFrame:
    """``value`` and the extra columns as floats; a row is kept while one of them is a
    number (without extras, clean_values has already required a numeric value)."""
    if not extras or rows.empty:
        return rows
    missing = [c for c in extras if c not in rows.columns]
    if missing:
        rejects.add(source, what, f"missing column(s) {', '.join(missing)}", len(rows),
                    example=list(rows.columns))
        return rows.iloc[0:0]
    out = rows.copy()
    if "value" not in out.columns:
        out["value"] = float("nan")
    for column in ["value", *extras]:
        numeric = pd.to_numeric(out[column], errors="coerce").astype(float)
        numeric = numeric.where(numeric.abs() != float("inf"))
        text = numeric.isna() & out[column].notna() & \
            ~out[column].astype(str).str.strip().str.lower().isin(["nan", "none", "null", ""])
        rejects.add(source, what, f"{column} is not a number (kept as missing)", int(text.sum()),
                    example=None if not text.any() else out.loc[text, column].iloc[0])
        out[column] = numeric
    empty = out[["value", *extras]].isna().all(axis=1)
    rejects.add(source, what, f"no number in {', '.join(['value', *extras])}", int(empty.sum()))
    return out[~empty].reset_index(drop=True)


def to_utc(values: pd.Series, zone: str) -> pd.Series:
    """Times as aware UTC: times without a zone are read in ``zone``, aware ones converted.
    What is not a time is left as it is, for the row checks to count."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    seen = {v: _stamp(v, zone) for v in pd.unique(values) if v is not None}
    return values.map(lambda v: seen.get(v, v) if v is not None else v).astype(object)


def _stamp(value: Any, zone: str) -> Any:
    if isinstance(value, int | float) or value is pd.NaT:
        return value
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return value
    if stamp is pd.NaT:
        return value
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    return stamp if stamp is pd.NaT else stamp.tz_convert("UTC")


def event_rows(data: pd.DataFrame, *, source: str, rejects: RejectCounter) -> pd.DataFrame:
    """Clean event rows: known statuses, parseable times, coordinates on the planet."""
    required = ("id", "kind", "status", "reported_at", "lon", "lat")
    missing = [c for c in required if c not in data.columns]
    if missing:
        rejects.add(source, "event", f"missing column(s) {', '.join(missing)}", len(data) or 1)
        return pd.DataFrame(columns=EVENT_COLUMNS)
    rows = clean_points(data, source=source, what="event", rejects=rejects)
    rows["reported_at"] = pd.to_datetime(rows["reported_at"], errors="coerce", utc=True)
    bad_time = rows.reported_at.isna()
    rejects.add(source, "event", "reported_at is not a time", int(bad_time.sum()))
    rows = rows[~bad_time]
    known = rows.status.isin(["reported", "dispatched", "handling", "closed"])
    rejects.add(source, "event", "unknown status", int((~known).sum()),
                example=None if known.all() else rows.loc[~known, "status"].iloc[0])
    rows = rows[known].copy()
    for column in EVENT_COLUMNS:
        if column not in rows.columns:
            rows[column] = [[] for _ in range(len(rows))] if column.endswith("_ids") else None
    rows["closed_at"] = pd.to_datetime(rows["closed_at"], errors="coerce", utc=True)
    rows["severity"] = pd.to_numeric(rows["severity"], errors="coerce").fillna(1).astype(int)
    rows["id"] = rows["id"].astype(str)
    extra = [c for c in OPTIONAL_EVENT_COLUMNS if c in rows.columns]
    for column in extra:
        if column.endswith("_at"):
            rows[column] = pd.to_datetime(rows[column], errors="coerce", utc=True)
    return (rows[EVENT_COLUMNS + extra].sort_values("reported_at", ascending=False)
            .reset_index(drop=True))


def platform_area_rows(data: pd.DataFrame, *, source: str, rejects: RejectCounter) -> pd.DataFrame:
    """Clean area rows of a platform's own table: an id and a level word (kept as the
    platform's text; the data service maps it to ours); name_zh defaults to the id."""
    missing = [c for c in ("id", "level") if c not in data.columns]
    if missing:
        rejects.add(source, "area", f"missing column(s) {', '.join(missing)}", len(data) or 1)
        return pd.DataFrame(columns=AREA_COLUMNS)
    bad = data["id"].isna() | data["level"].isna()
    rejects.add(source, "area", "missing id or level", int(bad.sum()))
    out = data[~bad].copy()
    out["id"], out["level"] = out["id"].astype(str), out["level"].astype(str)
    if "name_zh" not in out.columns:
        out["name_zh"] = out["id"]
    if "name_en" not in out.columns:
        out["name_en"] = out["name_zh"]
    parents = out["parent_id"] if "parent_id" in out.columns else [None] * len(out)
    out["parent_id"] = pd.Series([None if pd.isna(v) else str(v) for v in parents], index=out.index,
                                 dtype=object)
    return out[AREA_COLUMNS + [c for c in out.columns if c not in AREA_COLUMNS]].reset_index(drop=True)


def within(events: pd.DataFrame, since: datetime, until: datetime) -> pd.DataFrame:
    """The events reported in [since, until]."""
    kept = (events.reported_at >= pd.Timestamp(since)) & (events.reported_at <= pd.Timestamp(until))
    return events[kept].reset_index(drop=True)


def as_of(frames: Sequence[pd.DataFrame], column: str, default: datetime) -> datetime:
    """The newest time in ``column`` across frames, or ``default`` when there is none."""
    stamps = [f[column].max() for f in frames if not f.empty and column in f]
    stamps = [s for s in stamps if pd.notna(s)]
    return max(stamps).to_pydatetime() if stamps else default


def params_of(binding: Any) -> dict[str, Any]:
    """A binding's adapter-specific keys (works for the model and a plain dict)."""
    return binding.params() if hasattr(binding, "params") else dict(binding)


# --- shaping shared by the file, http and sql adapters -------------------------------------
def rows_frame(frames: list[pd.DataFrame], columns: list[str], source: str) -> Frame[pd.DataFrame]:
    """The non-empty ``frames`` as one frame of float values, dated by their newest ``ts``."""
    now = utcnow()
    parts = [f for f in frames if not f.empty]
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    if parts:
        data["value"] = data["value"].astype(float)
    return Frame(data, as_of=as_of(parts, "ts", now), source=source, fetched_at=now)


def aware(source: str, *stamps: datetime | None) -> None:
    """:class:`BadQuery` for a time without a zone."""
    for stamp in stamps:
        if stamp is not None and stamp.tzinfo is None:
            raise BadQuery(source, f"time {stamp} has no time zone")


def text_ids(data: pd.DataFrame) -> pd.DataFrame:
    """``area_id`` as text (a store may send numeric area codes); missing ids stay missing."""
    if "area_id" not in data.columns:
        return data
    return data.assign(area_id=data["area_id"].where(data["area_id"].isna(), data["area_id"].astype(str)))


def not_after(data: pd.DataFrame, at: datetime | None) -> pd.DataFrame:
    """Rows whose ``ts`` is not after ``at`` (unparseable times stay, to be counted)."""
    if at is None or "ts" not in data.columns:
        return data
    return data[~(pd.to_datetime(data["ts"], errors="coerce", utc=True) > pd.Timestamp(at))]


def area_rows(data: pd.DataFrame, *, source: str, rejects: RejectCounter) -> pd.DataFrame:
    """Clean area rows: an id and a known level; name_zh defaults to the id, name_en to name_zh."""
    if "id" not in data.columns or "level" not in data.columns:
        rejects.add(source, "area", "missing column(s) id, level", len(data) or 1, example=list(data.columns))
        return pd.DataFrame(columns=AREA_COLUMNS)
    bad = data["id"].isna() | ~data["level"].isin(AREA_LEVELS)
    rejects.add(source, "area", "missing id or unknown level", int(bad.sum()))
    out = data[~bad].copy()
    out["id"] = out["id"].astype(str)
    for column, fallback in (("parent_id", None), ("name_zh", out["id"]), ("name_en", None)):
        if column not in out.columns:
            out[column] = fallback if column != "name_en" else out["name_zh"]
    out["parent_id"] = [None if pd.isna(v) else str(v) for v in out["parent_id"]]
    return out[AREA_COLUMNS + [c for c in out.columns if c not in AREA_COLUMNS]].reset_index(drop=True)


def feature_collection(doc: Any, layer: str, source: str, where: str, *,
                       rejects: RejectCounter | None = None, id_property: str | None = None,
                       name_property: str | None = None) -> dict[str, Any]:
    """``doc`` (any GeoJSON shape) as layer ``layer``'s FeatureCollection with stable string
    ids; a thin wrapper over :func:`datasources.geojson.read_layer` for the other adapters."""
    return read_layer(doc, source=source, layer=layer, key_path=f"datasources.{source}.layers.{layer}",
                      origin=None if where == f"layers.{layer}" else where, id_property=id_property,
                      name_property=name_property, rejects=rejects).collection


def json_value(value: Any) -> Any:
    """A GeoJSON value from the database: text, bytes, or already parsed (json/jsonb)."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def present(value: Any) -> bool:
    """Not None and not NaN."""
    return value is not None and not (isinstance(value, float) and value != value)


def json_property(value: Any) -> Any:
    """A property value JSON can carry."""
    if not present(value) or value is pd.NaT:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):   # numpy scalars
        return value.item()
    return value if isinstance(value, str | int | float | bool | list | dict) else str(value)
