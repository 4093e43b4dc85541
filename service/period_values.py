"""An indicator's value over periods of local time, rolled up the way the catalogue says.

Levels (an index, a speed, a rate per hour) are the mean over the period, read at an even
spread of instants that covers every hour of the day and every weekday alike; counters
that restart at local midnight (``daily_total``) are a day's last value, an hour's rise,
and a month's sum of its days; ``max`` / ``min`` / ``latest`` keep their meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import pandas as pd

from citybrain.catalogue import Indicator
from citybrain.timegrain import Grain, Period
from datasources.base import Frame

# sampling step for levels, by the grain of the buckets being filled: 5 h walks through
# every hour of the day and every weekday within a month, so monthly means are not biased
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
LEVEL_STEP: dict[Grain, timedelta] = {"hour": timedelta(minutes=15), "day": timedelta(hours=1),
                                      "month": timedelta(hours=5), "year": timedelta(hours=5)}


@dataclass(frozen=True)
class PeriodValues:
    """Values of one indicator for areas × buckets, and for each area over the whole period."""

    buckets: list[Period]
    table: pd.DataFrame          # columns: bucket (period key), area_id, value
    totals: pd.Series            # area_id -> value over ``period``
    frame: Frame[pd.DataFrame]   # the raw read, for freshness and the detail rows


def period_values(read: SeriesReader, ind: Indicator, area_ids: Sequence[str], period: Period,
                  buckets: Sequence[Period], now: datetime) -> PeriodValues:
    """``ind`` for ``area_ids`` in every bucket (periods one grain below ``period``'s parent
    or ``period`` itself) and over ``period``; nothing after ``now`` is read."""
    buckets = [b for b in buckets if b.start <= now.astimezone(b.tz)]
    span_start = min([period.start, *[b.start for b in buckets]])
    span_end = max([period.end, *[b.end for b in buckets]])
    samples, step, frame = _samples(read, ind, list(area_ids), span_start, span_end, buckets, period, now)
    rows = [(b.key, area, value) for b in buckets for area, value in _reduce(samples, step, ind, b, now).items()]
    table = pd.DataFrame(rows, columns=["bucket", "area_id", "value"])
    totals = pd.Series(_reduce(samples, step, ind, period, now), dtype=float)
    return PeriodValues(list(buckets), table, totals, frame)


class SeriesReader(Protocol):
    """What :func:`period_values` needs of the data service."""

    def series(self, ids: Sequence[str], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]: ...


def _samples(read: SeriesReader, ind: Indicator, area_ids: list[str], start: datetime,
             end: datetime, buckets: Sequence[Period], period: Period,
             now: datetime) -> tuple[pd.DataFrame, timedelta, Frame[pd.DataFrame]]:
    """Timestamped values (ts, area_id, value) covering [start, min(end, now)], the step
    they were read at, and the read itself."""
    finest = min([period.grain, *[b.grain for b in buckets]], key=_rank)
    if ind.time_rollup == "daily_total":
        step = timedelta(hours=1) if finest == "hour" else timedelta(days=1)
    elif ind.time_rollup == "sum":   # bucket totals, summed as recorded: never extrapolated
        step = HOUR if finest in ("hour", "day") else DAY
    else:
        step = LEVEL_STEP[finest]
    stop = min(end, _ceil(now, step, start))
    frame = read.series([ind.id], area_ids, start.astimezone(now.tzinfo), stop.astimezone(now.tzinfo),
                        step)
    if frame.data.empty:
        return pd.DataFrame(columns=["ts", "area_id", "value"]), step, frame
    mine = frame.data[frame.data.indicator == ind.id]
    out = pd.DataFrame({"ts": pd.to_datetime(mine.ts, utc=True), "area_id": mine.area_id.astype(str),
                        "value": pd.to_numeric(mine.value, errors="coerce")})
    return out, step, frame


def _reduce(samples: pd.DataFrame, step: timedelta, ind: Indicator, bucket: Period,
            now: datetime) -> dict[str, float]:
    """Each area's value over ``bucket``, from samples read at ``step``."""
    if samples.empty:
        return {}
    lo, hi = (pd.Timestamp(x) for x in bucket.utc_range())
    inside = samples[(samples.ts >= lo) & (samples.ts < hi)].dropna(subset=["value"])
    how = ind.time_rollup
    if how == "daily_total":
        if step == timedelta(hours=1):   # samples are the running count at the end of each hour
            if bucket.grain == "hour":
                return _hour_rise(samples, lo)
            return inside.groupby("area_id").value.last().to_dict() if bucket.grain == "day" else {}
        return inside.groupby("area_id").value.sum().to_dict()   # day totals summed
    if inside.empty:
        return {}
    grouped = inside.sort_values("ts").groupby("area_id").value
    if how == "max":
        return grouped.max().to_dict()
    if how == "min":
        return grouped.min().to_dict()
    if how == "latest":
        return grouped.last().to_dict()
    if how == "sum":   # each sample is its step's total: the bucket's recorded steps, summed
        return grouped.sum().to_dict()
    return grouped.mean().to_dict()


def _hour_rise(samples: pd.DataFrame, hour_start: pd.Timestamp) -> dict[str, float]:
    """A daily counter's rise within one hour: its end-of-hour value less the previous
    hour's; where there is no previous hour, or the counter restarted at local midnight,
    the hour's own value is its rise."""
    this = samples[samples.ts == hour_start].set_index("area_id").value
    before = samples[samples.ts == hour_start - pd.Timedelta(hours=1)].set_index("area_id").value
    before = before.reindex(this.index)
    restarted = before.isna() | (this < before)
    return this.where(restarted, this - before).dropna().to_dict()


def _rank(grain: Grain) -> int:
    return {"hour": 0, "day": 1, "month": 2, "year": 3}[grain]


def _ceil(moment: datetime, step: timedelta, origin: datetime) -> datetime:
    """The first step boundary (counted from ``origin``) after ``moment``."""
    n = int((moment - origin) / step) + 1
    return origin + n * step
