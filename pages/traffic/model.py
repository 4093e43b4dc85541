"""The numbers of the traffic page that are not single indicators: the most congested
roads, incident response times, hour-of-day profiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from citybrain.spatial import inside
from citybrain.timegrain import Period
from pages.common import events_of_kind


@dataclass(frozen=True)
class RoadRank:
    id: str
    name: str
    road_class: str
    speed_kmh: float
    level: int


def top_congested(states: pd.DataFrame, roads: dict[str, dict[str, object]], lang: str,
                  n: int = 10) -> list[RoadRank]:
    """The ``n`` roads with the worst congestion level, slowest first within a level."""
    if states.empty:
        return []
    rows = states.dropna(subset=["level"]).sort_values(["level", "speed_kmh"], ascending=[False, True],
                                                       na_position="last")
    out = []
    for row in rows.head(n).itertuples(index=False):
        props = roads.get(str(row.id), {})
        name = str(props.get("name_en" if lang == "en" else "name_zh", row.id))
        out.append(RoadRank(str(row.id), f"{name} ({row.id})", str(props.get("road_class", "")),
                            float(row.speed_kmh), int(row.level)))
    return out


def roads_within(roads: dict[str, object], area: dict[str, object]) -> set[str]:
    """Ids of the road segments of a GeoJSON collection that run through ``area`` (a
    GeoJSON geometry): a vertex or the middle of a stretch lies inside it."""
    ids, lon, lat = [], [], []
    for feature in roads.get("features", []):  # type: ignore[union-attr]
        line = np.asarray((feature.get("geometry") or {}).get("coordinates") or [], dtype=float)
        if line.ndim != 2 or len(line) == 0:
            continue
        probes = np.vstack([line, (line[1:] + line[:-1]) / 2]) if len(line) > 1 else line
        ids += [str(feature.get("id"))] * len(probes)
        lon.append(probes[:, 0])
        lat.append(probes[:, 1])
    if not ids:
        return set()
    hits = inside(area, np.concatenate(lon), np.concatenate(lat))  # type: ignore[arg-type]
    return {fid for fid, hit in zip(ids, hits, strict=True) if hit}


def roads_in_area(roads: dict[str, object], area_ids: set[str], area: dict[str, object] | None) -> set[str]:
    """Ids of the road segments in the area whose subtree is ``area_ids``: by the area their
    ``area_id`` property names; segments without one (or an area below theirs) by geometry."""
    by_area, unplaced = set(), False
    for feature in roads.get("features", []):  # type: ignore[union-attr]
        owner = (feature.get("properties") or {}).get("area_id")
        if owner is None:
            unplaced = True
        elif str(owner) in area_ids:
            by_area.add(str(feature.get("id")))
    if by_area and not unplaced:
        return by_area
    return by_area | (roads_within(roads, area) if area else set())


@dataclass(frozen=True)
class ResponseTimes:
    count: int
    mean_response_min: float | None     # reported → on scene
    mean_handling_min: float | None     # on scene → closed


def response_times(events: pd.DataFrame, kind: str, since: datetime,
                   area_ids: set[str] | None = None) -> ResponseTimes:
    """Mean response and handling minutes of ``kind`` events reported since ``since``
    (events still open count in the total, not in the means)."""
    sel = events_of_kind(events, kind, since, area_ids)
    if sel.empty:
        return ResponseTimes(0, None, None)
    arrived = sel["arrived_at"] if "arrived_at" in sel else pd.Series(pd.NaT, index=sel.index)
    response = (arrived - sel.reported_at).dt.total_seconds() / 60
    handling = (sel.closed_at - arrived).dt.total_seconds() / 60
    return ResponseTimes(len(sel), _mean(response), _mean(handling))


def hourly_profile(values: pd.DataFrame, area_id: str, day: Period) -> list[float | None]:
    """Hour-by-hour values of one area over ``day`` (None for hours not reached yet)."""
    mine = values[values.area_id == area_id].set_index("bucket").value
    keys = [f"{day.key}T{h:02d}" for h in range(24)]
    return [float(mine[k]) if k in mine.index and pd.notna(mine[k]) else None for k in keys]


def _mean(minutes: pd.Series) -> float | None:
    valid = minutes.dropna()
    valid = valid[valid >= 0]
    return None if valid.empty else float(valid.mean())


def same_day_last_week(day: Period) -> Period:
    """The same weekday one week earlier."""
    return day.shifted(-7)
