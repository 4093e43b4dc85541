"""The explorer's numbers for a checked state: values per bucket for each area, the same
for the compared period, one value over the whole range, and the summary rows.

Values per bucket come from :func:`~service.period_values.period_values`, so they are
rolled up over time the way the drill-downs roll up theirs; reads go one calendar month
at a time, so no single read grows with the range (and past months stay cached).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from citybrain.catalogue import Indicator
from citybrain.numbers import round_half_up
from citybrain.timegrain import Period
from datasources.base import SERIES_COLUMNS, Frame
from pages.explore.model import SUMMARY_DECIMALS, ExploreState, buckets, shifted
from service.data import merge
from service.period_values import SeriesReader, period_values


@dataclass(frozen=True)
class Series:
    """One indicator for the chosen areas: a value per bucket, and one over the whole range."""

    buckets: list[Period]
    values: dict[str, list[float | None]]     # area id -> value per bucket (None: no data)
    totals: dict[str, float | None]           # area id -> value over the range
    frame: Frame[pd.DataFrame]                # the reads merged, for staleness and errors
    as_of: datetime | None = None             # the newest data time among the reads


def read_series(read: SeriesReader, ind: Indicator, area_ids: Sequence[str], spans: Sequence[Period],
                now: datetime) -> Series:
    """``ind`` for ``area_ids`` in every bucket that has begun by ``now``, one read per
    calendar month; nothing after ``now`` is read."""
    begun = [b for b in spans if b.start <= now.astimezone(b.tz)]
    tables, frames = [], []
    for _month, group in groupby(begun, key=lambda b: (b.start.year, b.start.month)):
        chunk = list(group)
        got = period_values(read, ind, area_ids, chunk[0], chunk, now)
        tables.append(got.table)
        frames.append(got.frame)
    found: dict[tuple[str, str], float] = {}
    for table in tables:
        for key, area, value in table.itertuples(index=False):
            if value is not None and not math.isnan(value):
                found[(key, area)] = float(value)
    values = {a: [found.get((b.key, a)) for b in spans] for a in area_ids}
    hours = [hours_elapsed(b, now) for b in spans]
    totals = {a: combine(values[a], hours, ind.time_rollup) for a in area_ids}
    newest = max((f.as_of for f in frames), default=None)
    return Series(list(spans), values, totals, merge(frames, SERIES_COLUMNS), newest)


def hours_elapsed(bucket: Period, now: datetime) -> float:
    """How much of ``bucket`` has passed by ``now``, in hours."""
    return max(0.0, (min(bucket.end, now.astimezone(bucket.tz)) - bucket.start) / timedelta(hours=1))


def combine(values: Sequence[float | None], hours: Sequence[float], how: str) -> float | None:
    """The value over several buckets: levels are the time-weighted mean, counters and
    rates the sum, ``max`` / ``min`` / ``latest`` keep their meaning."""
    pairs = [(v, h) for v, h in zip(values, hours, strict=True) if v is not None]
    vs = [v for v, _ in pairs]
    if not vs:
        return None
    if how in _REDUCE:
        return _REDUCE[how](vs)
    weight = sum(h for _, h in pairs)
    return sum(v * h for v, h in pairs) / weight if weight > 0 else sum(vs) / len(vs)


_REDUCE: dict[str, Any] = {"sum": sum, "daily_total": sum, "max": max, "min": min, "latest": lambda vs: vs[-1]}


def change_pct(current: float | None, previous: float | None) -> float | None:
    """The change from ``previous`` to ``current`` in percent (none from zero or nothing)."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous) * 100.0


@dataclass(frozen=True)
class Exploration:
    """Everything the chart and the summary show."""

    state: ExploreState
    current: Series
    previous: Series | None      # on the current buckets, read over the compared period


def explore(read: SeriesReader, state: ExploreState, tz: ZoneInfo, now: datetime) -> Exploration:
    """Read the chosen range, and the compared period up to the same moment (so a range
    that ends today is compared with the same part of its last day, like with like)."""
    ids = [a.id for a in state.areas]
    spans = buckets(state, tz)
    current = read_series(read, state.indicator, ids, spans, now)
    shift = state.shift_days
    if shift is None:
        return Exploration(state, current, None)
    back = [shifted(b, -shift) for b in spans]
    previous = read_series(read, state.indicator, ids, back, now - timedelta(days=shift))
    return Exploration(state, current, previous)


def summary_rows(ex: Exploration, lang: str) -> list[dict[str, Any]]:
    """Per area: the value over the range, the compared period's, the change in percent and
    whether that change is for the better."""
    ind = ex.state.indicator
    rows = []
    for area in ex.state.areas:
        now_value = ex.current.totals.get(area.id)
        before = ex.previous.totals.get(area.id) if ex.previous else None
        change = change_pct(now_value, before)
        trend = "" if change is None or abs(change) < 0.05 else (
            "better" if (change > 0) == (ind.better == "higher") else "worse")
        places = summary_places(ind)
        rows.append({"area": area.name(lang), "area_id": area.id, "value": round_half_up(now_value, places),
                     "previous": round_half_up(before, places),
                     "change": round_half_up(change, 1),
                     "unit": ind.unit_in(lang), "trend": trend})
    return rows


def summary_places(ind: Indicator) -> int:
    """Decimals of the summary: counts and totals as the indicator has them, means one more."""
    return ind.decimals + (0 if ind.time_rollup in ("sum", "daily_total") else SUMMARY_DECIMALS)
