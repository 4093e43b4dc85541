"""What a KPI card says about one indicator in one area: the number and where it came from.

The value is the newest one; "yesterday" and "last week" are the same quarter hour (or the
same slot of the data's own cadence, e.g. the same hour) one and seven days back (same
weekday), read from history; the sparkline is the last 24 hours.

A value that is not there is never 0: each indicator's :class:`Reading` is ``ok``, ``stale``
(the last good value of a failed read), ``no_data`` (connected, the store gave nothing),
``error`` (its read failed: the reason from ``Frame.missing`` or the frame's error) or
``not_connected`` (the config gives it no facts at this level), with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from citybrain.catalogue import Binding, Indicator
from citybrain.scoring import STATUS_COLOURS
from citybrain.scoring import status as indicator_status
from datasources.base import Frame

SLOT = timedelta(minutes=15)
# the states of a reading; the last three show no number at all
STATES = ("ok", "stale", "no_data", "error", "not_connected")
BLANK = frozenset({"no_data", "error", "not_connected"})


@dataclass(frozen=True)
class Reading:
    """One indicator's value in one area, or why there is none."""

    value: float | None
    state: str = "ok"
    reason: str = ""

    @property
    def blank(self) -> bool:
        """Whether no number is shown (no data, error, not connected)."""
        return self.state in BLANK


def unconnected(data: Any, indicators: Sequence[Indicator], level: str) -> dict[str, str]:
    """The indicators the config gives no facts for at ``level`` (their finest facts lie
    above it), with why; empty when ``data`` cannot say."""
    plan = getattr(getattr(data, "derive", None), "plan", None)
    out: dict[str, str] = {}
    if plan is None:
        return out
    for ind in indicators:
        try:
            how = plan(ind, level)
        except Exception:  # noqa: BLE001 - a plan that cannot be made shows as its read's error
            continue
        if how.read_level is None:
            out[ind.id] = how.reason
    return out


def readings(frame: Frame[pd.DataFrame] | None, indicators: Sequence[Indicator],
             area_id: str | None = None, *, failure: str | None = None,
             not_connected: Mapping[str, str] | None = None) -> dict[str, Reading]:
    """indicator id → its :class:`Reading` in ``area_id`` (None: any area, for a level of one
    area such as the city) from a latest frame; ``frame`` None means the read raised
    ``failure``."""
    values = _pick_latest(frame, area_id)
    out: dict[str, Reading] = {}
    for ind in indicators:
        value = values.get(ind.id)
        if not_connected and ind.id in not_connected:
            out[ind.id] = Reading(None, "not_connected", not_connected[ind.id])
        elif frame is None:
            out[ind.id] = Reading(None, "error", failure or "the read failed")
        elif ind.id in frame.missing:
            out[ind.id] = Reading(None, "error", frame.missing[ind.id])
        else:
            own, anyone = _errors_of(frame, ind)
            if value is not None:
                stale = frame.stale and (bool(own) or not anyone)
                out[ind.id] = Reading(value, "stale" if stale else "ok",
                                      (own or frame.error or "") if stale else "")
            elif own or (frame.stale and frame.error and not anyone):
                out[ind.id] = Reading(None, "error", own or frame.error or "")
            else:
                out[ind.id] = Reading(None, "no_data", f"{ind.binding.source}: no value of {ind.id}"
                                      + (f" in {area_id}" if area_id else "") + " from the store")
    return out


def _errors_of(frame: Frame[pd.DataFrame], ind: Indicator) -> tuple[str, bool]:
    """The frame's errors that name the indicator's source, and whether any part of the
    error names a source at all (then the others are not this indicator's)."""
    parts = [p for p in (frame.error or "").split("; ") if p]
    own = [p for p in parts if p.startswith(f"{ind.binding.source}:")]
    return "; ".join(own), any(":" in p for p in parts)


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
    state: str = "ok"                 # see :class:`Reading`
    reason: str = ""                  # why the value is stale or not there

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
    failure: list[str] = []
    latest = _safe(lambda: data.latest(ids, level), failure)
    found = readings(latest, indicators, area_id, failure="; ".join(failure) or None,
                     not_connected=unconnected(data, indicators, level))
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
        got = found[ind.id]
        value = got.value
        applies = thresholds_apply(ind, level)
        status = indicator_status(ind, value) if applies else "unknown"
        out.append(Kpi(
            indicator=ind, area_id=area_id, value=value,
            yesterday=back["yesterday"].get(ind.id), last_week=back["last_week"].get(ind.id),
            status=status, colour=STATUS_COLOURS[status], spark=sparks.get(ind.id, []),
            as_of=latest.as_of if latest is not None else None,
            stale=got.state == "stale", error=got.reason or None,
            source=latest.source if latest is not None else ind.binding.source,
            thresholds_apply=applies, state=got.state, reason=got.reason))
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


def _safe(read: Any, failure: list[str] | None = None) -> Frame[pd.DataFrame] | None:
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - the card shows the error state and why
        if failure is not None:
            failure.append(str(exc))
        return None


def _pick_latest(frame: Frame[pd.DataFrame] | None, area_id: str | None) -> dict[str, float]:
    if frame is None or frame.data.empty:
        return {}
    rows = frame.data if area_id is None else frame.data[frame.data.area_id.astype(str) == area_id]
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
