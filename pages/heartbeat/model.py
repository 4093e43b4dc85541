"""What the heartbeat page shows, computed from the cockpit's data service.

Plain values only (no layout), so callbacks stay thin and this is testable without Dash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from citybrain.catalogue import DOMAINS
from citybrain.i18n import t
from citybrain.scoring import STATUS_COLOURS, composite, index_status
from datasources.base import Frame
from service.kpi import Reading, readings, unconnected
from service.runtime import Cockpit

DOMAIN_COLOURS = {
    "traffic": "#36CFC9", "safety": "#FF7A45", "environment": "#73D13D", "energy": "#FADB14",
    "facilities": "#9254DE", "services": "#40A9FF", "economy": "#F759AB",
}


@dataclass(frozen=True)
class Snapshot:
    """The city right now: composite index, domain scores and headline values.

    ``readings`` says for every weighted or headline indicator whether it has a value and
    why not; the index and the domain scores use the ``used`` of ``total`` weighted ones
    that have one. ``frame`` is None when the whole read failed (``failure`` says why)."""

    index: float | None
    index_status: str
    index_colour: str
    parts: int
    domains: dict[str, float | None]
    values: dict[str, float | None]
    frame: Frame[pd.DataFrame] | None
    readings: dict[str, Reading] = field(default_factory=dict)
    used: int = 0
    total: int = 0
    failure: str | None = None


def snapshot(cockpit: Cockpit, at: datetime | None = None) -> Snapshot:
    """Latest city values of the weighted and headline indicators, scored; an indicator
    whose read failed is left out of the index, and a failed read of all of them leaves
    every one in the error state, never the screen blank."""
    cat = cockpit.catalogue
    shown = [i for i in cat if i.weight > 0 or i.headline]
    frame: Frame[pd.DataFrame] | None = None
    failure = None
    try:
        frame = cockpit.data.latest([i.id for i in shown], "city", at)   # the city level, whatever its id
    except Exception as exc:  # noqa: BLE001 - every indicator shows the error, the screen stays
        failure = str(exc)
    found = readings(frame, shown, failure=failure, not_connected=unconnected(cockpit.data, shown, "city"))
    values = {k: r.value for k, r in found.items() if not r.blank}
    total = composite(cat, values)
    hb = cockpit.config.heartbeat
    band = index_status(total.value, hb.good_from, hb.warn_from)
    domains = {d: composite(cat.in_domain(d), values).value for d in DOMAINS}
    return Snapshot(total.value, band, STATUS_COLOURS[band], total.used, domains, values,
                    frame, found, total.used, total.total, failure)


def left_out(cockpit: Cockpit, snap: Snapshot, lang: str) -> str:
    """Which weighted indicators the index could not use, and why (for its hover)."""
    return "\n".join(f"{i.name(lang)}: {snap.readings[i.id].reason}" for i in cockpit.catalogue.weighted()
                     if i.id in snap.readings and snap.readings[i.id].blank)


def city_values(data: pd.DataFrame) -> dict[str, float | None]:
    """indicator id → its value, from a latest frame (NaN becomes None)."""
    out: dict[str, float | None] = {}
    for ind, value in zip(data.get("indicator", []), data.get("value", []), strict=True):
        out[str(ind)] = None if pd.isna(value) else float(value)
    return out


def domain_colour(score: float | None, cockpit: Cockpit) -> str:
    """The status colour of a 0–100 domain score."""
    hb = cockpit.config.heartbeat
    return STATUS_COLOURS[index_status(score, hb.good_from, hb.warn_from)]


@dataclass(frozen=True)
class Pulses:
    """Each domain's score over the window, one point a step (see :func:`pulse_span`) plus 'now'."""

    times: list[datetime]
    scores: dict[str, list[float | None]]
    frame: Frame[pd.DataFrame]


def pulse_span(cockpit: Cockpit) -> tuple[timedelta, timedelta]:
    """The pulse's step and window: a point a minute over ``heartbeat.window_minutes``, or,
    when the weighted indicators' data comes less often (hourly facts), a point per cadence
    over the last 24 of them, so the line is never empty between two values."""
    cadence = max((i.cadence for i in cockpit.catalogue.weighted()), default=60)
    step = timedelta(minutes=max(1, cadence // 60))
    window = timedelta(minutes=cockpit.config.heartbeat.window_minutes)
    return step, window if step == timedelta(minutes=1) else max(window, 24 * step)


def pulse_title(cockpit: Cockpit, lang: str) -> str:
    """「领域脉搏 · 近60分钟」, or in hours when the pulse spans hours."""
    _step, window = pulse_span(cockpit)
    minutes = int(window.total_seconds() // 60)
    if minutes % 60 == 0 and minutes > 60:
        return t("domain_pulse_hours", lang, n=minutes // 60)
    return t("domain_pulse", lang, n=minutes)


def pulses(cockpit: Cockpit, now: datetime, snap: Snapshot) -> Pulses:
    """Domain scores over the last window: whole steps from the cache, plus ``snap`` now.

    The step-aligned range makes every viewer ask for the same cache key for a step.
    """
    cat = cockpit.catalogue
    step, window = pulse_span(cockpit)
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    end = epoch + ((now - epoch) // step) * step
    start = end - window
    ids = [i.id for i in cat.weighted()]
    frame = cockpit.data.series(ids, [cockpit.data.root_id], start, end, step)
    table = frame.data.pivot_table(index="ts", columns="indicator", values="value",
                                   aggfunc="last") if not frame.data.empty else pd.DataFrame()
    times: list[datetime] = [ts.to_pydatetime() for ts in table.index]
    scores: dict[str, list[float | None]] = {d: [] for d in DOMAINS}
    for _, row in table.iterrows():
        values = {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
        for d in DOMAINS:
            scores[d].append(composite(cat.in_domain(d), values).value)
    times.append(now)
    for d in DOMAINS:
        scores[d].append(snap.domains[d])
    return Pulses(times, scores, frame)


def newest_events(cockpit: Cockpit, now: datetime, limit: int) -> tuple[list[dict[str, Any]],
                                                                        Frame[pd.DataFrame]]:
    """The ``limit`` newest events of the last two hours, newest first."""
    since = (now - timedelta(hours=2)).replace(second=0, microsecond=0)
    frame = cockpit.data.events(since)
    data = frame.data.sort_values("reported_at", ascending=False).head(limit)
    return data.to_dict("records"), frame


