"""Shared steps of adapters whose stores return rows: map the operator's column names to
ours, clean the rows, and shape them into the contract's frames.

An operator's binding may rename columns, e.g. ``columns: {area_id: district_code,
ts: updated_at, value: idx}``: keys are our names, values are theirs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from .base import EVENT_COLUMNS, LATEST_COLUMNS, OPTIONAL_EVENT_COLUMNS, SERIES_COLUMNS
from .validation import RejectCounter, clean_points, clean_values


def rename(data: pd.DataFrame, columns: Mapping[str, str] | None) -> pd.DataFrame:
    """The operator's column names turned into ours (``columns`` maps ours → theirs)."""
    if not columns:
        return data
    return data.rename(columns={theirs: ours for ours, theirs in columns.items()})


def latest_rows(data: pd.DataFrame, indicator: str, *, source: str, rejects: RejectCounter,
                known_areas: Collection[str] | None = None) -> pd.DataFrame:
    """Clean (area_id, ts, value) rows into the latest shape; newest row per area wins."""
    rows = clean_values(data, source=source, what=f"latest {indicator}", rejects=rejects,
                        required=("area_id", "ts", "value"), known_areas=known_areas)
    if rows.empty:
        return pd.DataFrame(columns=LATEST_COLUMNS)
    rows = rows.sort_values("ts").groupby("area_id", as_index=False).last()
    rows["indicator"] = indicator
    return rows[LATEST_COLUMNS]


def series_rows(data: pd.DataFrame, indicator: str, start: datetime, end: datetime,
                step: timedelta, *, source: str, rejects: RejectCounter,
                how: str = "mean") -> pd.DataFrame:
    """Clean (ts, area_id, value) rows bucketed to ``step`` over [start, end)."""
    rows = clean_values(data, source=source, what=f"series {indicator}", rejects=rejects,
                        required=("area_id", "ts", "value"))
    if rows.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    rows = rows[(rows.ts >= pd.Timestamp(start)) & (rows.ts < pd.Timestamp(end))]
    offset = (rows.ts - pd.Timestamp(start)) // pd.Timedelta(step)
    rows = rows.assign(ts=pd.Timestamp(start) + offset * pd.Timedelta(step))
    agg = {"sum": "sum", "max": "max", "min": "min", "latest": "last", "daily_total": "last"}.get(how, "mean")
    out = rows.groupby(["ts", "area_id"], as_index=False)["value"].agg(agg)
    out["indicator"] = indicator
    return out[SERIES_COLUMNS]


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
