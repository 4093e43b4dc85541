"""What the leader cockpit shows, as plain values computed from plain inputs.

Every function here takes catalogue indicators and DataFrames and returns dataclasses or
lists, so the cockpit's numbers are testable without Dash or a datasource.

Event deadlines: an open event (not closed) whose age exceeds its kind's deadline in
:data:`DEADLINE_MINUTES` is overdue. The defaults follow common operations-centre
practice: emergency calls (110, 119, 120) within 30 minutes, traffic accidents within
45, urban-management cases within 4 hours, safety hazards within 12 hours, 12345
hotline tickets within a day. A kind without a deadline is never counted as overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from citybrain.areas import Area
from citybrain.catalogue import Indicator
from citybrain.drill import drill_href
from citybrain.numbers import format_number
from citybrain.scoring import STATUS_COLOURS, composite, index_status, score, status
from service.kpi import thresholds_apply

DEADLINE_MINUTES: dict[str, int] = {
    "police_110": 30, "fire_119": 30, "medical_120": 30, "traffic_accident": 45,
    "urban_mgmt": 240, "safety_hazard": 720, "hotline_12345": 1440,
}
# how far back the cockpit looks for open events: three times the longest deadline, so a
# 12345 ticket still open two days on is listed (it is the most overdue of all)
OVERDUE_LOOKBACK_MINUTES = 3 * max(DEADLINE_MINUTES.values())
CLOSED = "closed"


def headline(indicators: Iterable[Indicator]) -> list[Indicator]:
    """The catalogue's headline indicators, in config order."""
    return [i for i in indicators if i.headline]


def district_scorers(indicators: Iterable[Indicator]) -> list[Indicator]:
    """The weighted indicators a district is scored on: those with district values whose
    city thresholds also judge a district (a district's share of a city count has no target)."""
    return [i for i in indicators
            if i.weight > 0 and "district" in i.levels and thresholds_apply(i, "district")]


def values_by_area(latest: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """area id → indicator id → value, from a latest frame (NaN and text become None)."""
    out: dict[str, dict[str, float | None]] = {}
    if latest.empty:
        return out
    numbers = pd.to_numeric(latest["value"], errors="coerce")
    for area, ind, value in zip(latest["area_id"], latest["indicator"], numbers, strict=True):
        out.setdefault(str(area), {})[str(ind)] = None if pd.isna(value) else float(value)
    return out


# ---- headline gauges ----------------------------------------------------------------------

@dataclass(frozen=True)
class Gauge:
    """A bullet gauge of one indicator: its scale, coloured bands, value and target marks.

    Positions are fractions 0–1 of the scale; ``bands`` are (start, end, status)."""

    indicator: Indicator
    value: float | None
    status: str
    colour: str
    bands: tuple[tuple[float, float, str], ...]
    value_at: float | None
    target_at: float | None


def gauge(ind: Indicator, value: float | None) -> Gauge:
    """The bullet gauge of ``value`` against the indicator's target, warn and alarm."""
    lo, hi = _scale([m for m in (ind.target, ind.warn, ind.alarm) if m is not None], value)

    def pos(x: float) -> float:
        return min(1.0, max(0.0, (x - lo) / (hi - lo)))

    # bands from the good end of the scale to the bad end, cut at warn and alarm
    cuts = [(mark, name) for mark, name in ((ind.warn, "warn"), (ind.alarm, "alarm")) if mark is not None]
    edges = [lo, *(m for m, _ in cuts), hi] if ind.better == "lower" else [hi, *(m for m, _ in cuts), lo]
    names = ["good", *(n for _, n in cuts)]
    bands = sorted((min(pos(a), pos(b)), max(pos(a), pos(b)), name)
                   for a, b, name in zip(edges, edges[1:], names, strict=False)) if cuts else []
    st = status(ind, value)
    return Gauge(ind, value, st, STATUS_COLOURS[st], tuple(bands),
                 None if value is None else pos(value), None if ind.target is None else pos(ind.target))


def _scale(marks: Sequence[float], value: float | None) -> tuple[float, float]:
    """A scale around the thresholds, half a span wider each side, widened to the value."""
    points = list(marks) or ([value] if value is not None else [0.0])
    low, high = min(points), max(points)
    span = (high - low) or abs(high) * 0.4 or 1.0
    lo, hi = low - span / 2, high + span / 2
    if low >= 0 > lo:
        lo = 0.0
    if value is not None:
        lo = min(lo, value - span * 0.05)
        hi = max(hi, value + span * 0.05)
    return lo, hi


# ---- district ranking ---------------------------------------------------------------------

@dataclass(frozen=True)
class DistrictRow:
    """One district of the ranking: its composite score and its headline values."""

    area_id: str
    name: str
    score: float | None
    status: str
    values: dict[str, float | None]
    statuses: dict[str, str]
    weakest: str | None           # the scored indicator doing worst, where its link drills


def district_ranking(indicators: Sequence[Indicator], latest: pd.DataFrame, districts: Sequence[Area],
                     lang: str, good_from: float, warn_from: float) -> list[DistrictRow]:
    """Every district scored like the city index over :func:`district_scorers`, worst first
    (districts without a score last)."""
    by_area = values_by_area(latest)
    scorers = district_scorers(indicators)
    shown = [i for i in headline(indicators) if "district" in i.levels]
    rows = []
    for area in districts:
        values = by_area.get(area.id, {})
        total = composite(scorers, values)
        weakest = min(total.parts, key=lambda k: total.parts[k]) if total.parts else None
        rows.append(DistrictRow(
            area.id, area.name(lang), total.value, index_status(total.value, good_from, warn_from),
            {i.id: values.get(i.id) for i in shown},
            {i.id: status(i, values.get(i.id)) if thresholds_apply(i, "district") else "unknown"
             for i in shown},
            weakest))
    return sorted(rows, key=lambda r: (r.score is None, r.score if r.score is not None else 0.0, r.area_id))


def default_ascending(indicators: Mapping[str, Indicator], key: str) -> bool:
    """The first sort direction of a column: worst first (lowest score, worst value), names A→Z."""
    ind = indicators.get(key)
    return ind.better == "higher" if ind is not None else True


def sort_rows(rows: Sequence[dict[str, Any]], key: str, ascending: bool) -> list[dict[str, Any]]:
    """Ranking rows (as stored in the page) sorted by ``key`` ('score', 'name' or an
    indicator id); rows without a value always go last."""
    def value(row: dict[str, Any]) -> Any:
        return row.get(key) if key in ("score", "name") else (row.get("values") or {}).get(key)

    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    return sorted(present, key=value, reverse=not ascending) + missing


# ---- needs attention ----------------------------------------------------------------------

@dataclass(frozen=True)
class Attention:
    """One thing that needs a leader's attention, and where clicking it leads."""

    kind: str                     # "indicator" or "event"
    key: str
    title: str
    area: str
    detail: dict[str, Any]        # values for the page's i18n text
    href: str
    severity: float               # larger = more urgent, to order the list


def indicators_in_alarm(indicators: Sequence[Indicator], by_area: Mapping[str, Mapping[str, float | None]],
                        names: Mapping[str, str], lang: str, root: str) -> list[Attention]:
    """Every (indicator, area) whose value is past its alarm line, the city (``root``, its
    area id) first, then the districts worst first; only where the city thresholds judge
    that level."""
    out = []
    for area_id, values in by_area.items():
        level = "city" if area_id == root else "district"
        for ind in indicators:
            value = values.get(ind.id)
            if ind.alarm is None or not thresholds_apply(ind, level) or status(ind, value) != "alarm":
                continue
            s = score(ind, value)
            out.append(Attention(
                "indicator", f"{ind.id}@{area_id}", ind.name(lang), names.get(area_id, area_id),
                {"value": format_number(value, ind.decimals), "alarm": format_number(ind.alarm, ind.decimals),
                 "unit": ind.unit_in(lang)},
                drill_href(ind, area=None if area_id == root else area_id, lang=lang),
                1000.0 + (100.0 - (s or 0.0)) + (50.0 if area_id == root else 0.0)))
    return sorted(out, key=lambda a: -a.severity)


def overdue_events(events: pd.DataFrame, now: datetime,
                   deadlines: Mapping[str, int] = DEADLINE_MINUTES) -> pd.DataFrame:
    """Open events older than their kind's deadline, with ``deadline_min`` and
    ``overdue_min`` columns; most overdue first, counted in deadlines (a 119 call 60 min
    late is ahead of a hotline ticket 3 h late)."""
    if events.empty:
        return events.assign(deadline_min=pd.Series(dtype=float), overdue_min=pd.Series(dtype=float))
    closed = events["closed_at"].notna() if "closed_at" in events else False
    open_ = events[(events["status"] != CLOSED) & ~closed & events["kind"].isin(list(deadlines))]
    deadline = open_["kind"].map(deadlines).astype(float)
    age = (pd.Timestamp(now) - open_["reported_at"]).dt.total_seconds() / 60
    late = open_.assign(deadline_min=deadline, overdue_min=age - deadline)
    late = late[late["overdue_min"] > 0].reset_index(drop=True)
    order = (late["overdue_min"] / late["deadline_min"]).sort_values(ascending=False, kind="stable").index
    return late.loc[order]


def event_items(late: pd.DataFrame, names: Mapping[str, str], lang: str, map_href: str) -> list[Attention]:
    """Overdue events as attention items; each opens the map."""
    title = "title_en" if lang == "en" else "title_zh"
    return [Attention("event", str(row["id"]), str(row.get(title) or row["kind"]),
                      names.get(str(row["area_id"]), str(row["area_id"])),
                      {"overdue": int(row["overdue_min"]), "deadline": int(row["deadline_min"]),
                       "kind": str(row["kind"]), "status": str(row["status"])},
                      map_href, float(row["overdue_min"]) / float(row["deadline_min"]))
            for row in late.to_dict("records")]


# ---- city index trend ---------------------------------------------------------------------

def index_trend(indicators: Sequence[Indicator], series: pd.DataFrame,
                area_id: str) -> list[tuple[datetime, float | None]]:
    """The composite index of ``area_id`` (the city's root id for the city index) at every
    time step of a series of the weighted indicators."""
    if series.empty:
        return []
    rows = series[series["area_id"].astype(str) == area_id]
    rows = rows.assign(value=pd.to_numeric(rows["value"], errors="coerce"))
    table = rows.pivot_table(index="ts", columns="indicator", values="value", aggfunc="last")
    out = []
    for ts, row in table.iterrows():
        values = {str(k): (None if pd.isna(v) else float(v)) for k, v in row.items()}
        out.append((pd.Timestamp(ts).to_pydatetime(), composite(indicators, values).value))
    return out
