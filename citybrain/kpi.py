"""What a KPI card says about one indicator in one area: the number and where it came from.

The value is the newest one; "yesterday" and "last week" are the same quarter hour (or the
same slot of the data's own cadence, e.g. the same hour) one and seven days back (same
weekday), read from history; the sparkline is the last 24 hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from datasources.base import Frame

from .catalogue import Binding, Indicator
from .scoring import STATUS_COLOURS
from .scoring import status as indicator_status

SLOT = timedelta(minutes=15)


@dataclass(frozen=True)
class Kpi:
    """One indicator in one area, ready for a card."""

    indicator: Indicator
    area_id: str
    value: float | None
    yesterday: float | None
    last_week: float | None
    status: str                       # good / warn / alarm / unknown
    colour: str
    spark: list[tuple[datetime, float]] = field(default_factory=list)
    as_of: datetime | None = None
    stale: bool = False
    error: str | None = None
    source: str = ""
    thresholds_apply: bool = True     # city thresholds do not fit the parts of a sum

    def change(self, before: float | None) -> float | None:
        """Relative change against ``before`` (None when either side is missing or zero)."""
        if self.value is None or before is None or before == 0:
            return None
        return (self.value - before) / abs(before)

    def query_text(self) -> str:
        """The binding that produced the number, as an operator would read it."""
        return describe_binding(self.indicator.binding)


def describe_binding(binding: Binding) -> str:
    """``source: key=value …``, with SQL text kept whole."""
    parts = [f"{k}={v}" for k, v in sorted(binding.params().items())]
    return f"{binding.source}: " + "; ".join(parts)


def read_kpis(data: Any, indicators: Sequence[Indicator], area_id: str, level: str,
              now: datetime) -> list[Kpi]:
    """Cards for ``indicators`` in one area; a failed read leaves its parts empty, marked."""
    ids = [i.id for i in indicators]
    latest = _safe(lambda: data.latest(ids, level))
    values = _pick_latest(latest, area_id)
    back: dict[str, dict[str, float]] = {"yesterday": {}, "last_week": {}}
    for slot, group in _by_slot(indicators).items():   # hourly data compares whole hours
        for name, days in (("yesterday", 1), ("last_week", 7)):
            t0 = _floor(now - timedelta(days=days), slot)
            frame = _safe(lambda t0=t0, slot=slot, group=group: data.series(group, [area_id], t0, t0 + slot, slot))
            back[name].update(_first_by_indicator(frame, area_id))
    end = _floor(now, timedelta(hours=1)) + timedelta(hours=1)
    spark_frame = _safe(lambda: data.series(ids, [area_id], end - timedelta(hours=24), end,
                                            timedelta(hours=1)))
    sparks = _sparks(spark_frame, area_id)
    out = []
    for ind in indicators:
        value = values.get(ind.id)
        applies = thresholds_apply(ind, level)
        status = indicator_status(ind, value) if applies else "unknown"
        out.append(Kpi(
            indicator=ind, area_id=area_id, value=value,
            yesterday=back["yesterday"].get(ind.id), last_week=back["last_week"].get(ind.id),
            status=status, colour=STATUS_COLOURS[status], spark=sparks.get(ind.id, []),
            as_of=latest.as_of if latest is not None else None,
            stale=latest is None or latest.stale,
            error=None if latest is not None and not latest.error else (
                latest.error if latest is not None else "no data"),
            source=latest.source if latest is not None else ind.binding.source,
            thresholds_apply=applies))
    return out


def _by_slot(indicators: Sequence[Indicator]) -> dict[timedelta, list[str]]:
    """Indicator ids by the slot their comparisons read: a quarter hour, or one cadence of
    data that comes less often (the same hour yesterday for hourly facts)."""
    out: dict[timedelta, list[str]] = {}
    for ind in indicators:
        out.setdefault(max(SLOT, timedelta(seconds=ind.cadence)), []).append(ind.id)
    return out


def thresholds_apply(ind: Indicator, level: str) -> bool:
    """Whether the catalogue's (city-level) target and thresholds judge a value at
    ``level``: not for the districts, streets and grids of an indicator that sums up."""
    return level == "city" or ind.rollup.method != "sum"


def _safe(read: Any) -> Frame[pd.DataFrame] | None:
    try:
        return read()
    except Exception:  # noqa: BLE001 - the card shows "no data" and the stale badge
        return None


def _pick_latest(frame: Frame[pd.DataFrame] | None, area_id: str) -> dict[str, float]:
    if frame is None or frame.data.empty:
        return {}
    rows = frame.data[frame.data.area_id.astype(str) == area_id]
    values = pd.to_numeric(rows.value, errors="coerce")
    return {str(i): float(v) for i, v in zip(rows.indicator, values, strict=True) if pd.notna(v)}


def _first_by_indicator(frame: Frame[pd.DataFrame] | None, area_id: str) -> dict[str, float]:
    if frame is None or frame.data.empty:
        return {}
    rows = frame.data[frame.data.area_id.astype(str) == area_id].sort_values("ts")
    rows = rows.assign(value=pd.to_numeric(rows.value, errors="coerce")).dropna(subset=["value"])
    return {str(k): float(v) for k, v in rows.groupby("indicator").value.first().items()}


def _sparks(frame: Frame[pd.DataFrame] | None, area_id: str) -> dict[str, list[tuple[datetime, float]]]:
    if frame is None or frame.data.empty:
        return {}
    rows = frame.data[frame.data.area_id.astype(str) == area_id].sort_values("ts")
    rows = rows.assign(value=pd.to_numeric(rows.value, errors="coerce")).dropna(subset=["value"])
    return {str(k): [(t.to_pydatetime(), float(v)) for t, v in zip(g.ts, g.value, strict=True)]
            for k, g in rows.groupby("indicator")}


def _floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=moment.tzinfo)
    return epoch + ((moment - epoch) // step) * step
