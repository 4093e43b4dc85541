"""What the map shows: colours per feature id, event points, and the side panels' facts.

Plain values (no layout); geometry never passes through here, only ids and colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from citybrain.catalogue import Indicator
from citybrain.i18n import t
from citybrain.numbers import format_number, round_half_up
from citybrain.scoring import STATUS_COLOURS, status
from citybrain.spatial import Nearby, nearby
from citybrain.standards import aqi, tpi
from datasources.base import utcnow
from datasources.geojson import bounds as geo_bounds
from pages.common import AREA_LAYER, LAYER_OF_LEVEL, area_outline, layer_missing
from service.runtime import Cockpit

POINT_LAYERS = ("cameras", "sensors", "facilities", "parking")
# The big layers get their url only once the first colours are in the browser, so each
# feature is drawn once, in its colour, rather than drawn grey and restyled; meanwhile
# the browser fetches their geometry into its cache (assets/map.js fetchGeometry).
LATER = {"roads": "roads", "heat": "sensors", **{name: name for name in POINT_LAYERS}}   # layer: /geo layer
OPENING_GEOMETRY = ("city", "water", "districts", *dict.fromkeys(LATER.values()))   # what the map fetches first
SEQUENCE = ("city", "district", "street", "grid")
# the layer switcher's live layers and the /geo layer each draws (with its live attributes)
LIVE_GEOMETRY = {"roads": "roads", "cameras": "cameras", "sensors": "sensors", "facilities": "facilities",
                 "parking": "parking", "heat": "sensors"}
SWITCHABLE = ("areas", "roads", "events", "cameras", "sensors", "facilities", "parking", "heat")
SEQUENTIAL = ["#16324f", "#1f5f8b", "#2b8cbe", "#7fcdbb", "#edf8b1"]
LINK_RADIUS_M = 1500


@dataclass(frozen=True)
class Legend:
    """A legend: a title and (colour, label) rows."""

    title: str
    items: list[tuple[str, str]]


def choropleth(cockpit: Cockpit, ind: Indicator, level: str, lang: str
               ) -> tuple[dict[str, str], Legend, Any]:
    """Area colours of ``ind`` at ``level``: status colours against the thresholds, or
    quantile classes when the indicator has none."""
    frame = cockpit.data.latest([ind.id], level)
    values = frame.data.set_index("area_id").value.astype(float)
    title = f"{ind.name(lang)}{f' ({ind.unit_in(lang)})' if ind.unit_in(lang) else ''}"
    if ind.warn is not None:
        colours = {a: STATUS_COLOURS[status(ind, v)] for a, v in values.items()}
        op = "<" if ind.better == "lower" else ">"
        back = ">" if op == "<" else "<"
        items = [(STATUS_COLOURS["good"], f"{t('band_good', lang)} {op} {format_number(ind.warn, ind.decimals)}"),
                 (STATUS_COLOURS["warn"], t("band_warn", lang)),
                 (STATUS_COLOURS["alarm"], f"{t('band_alarm', lang)} {back}= {format_number(ind.alarm, ind.decimals)}"
                  if ind.alarm is not None else t("band_alarm", lang))]
        return colours, Legend(title, items), frame
    finite = values[np.isfinite(values)]
    if finite.empty:
        return {}, Legend(title, []), frame
    # the breaks as the legend shows them, so a value on a break takes the class the legend
    # gives it (a quantile landing on a value can come out a hair above it in floats)
    quantiles = np.quantile(finite, np.linspace(0, 1, len(SEQUENTIAL) + 1))
    edges = np.unique([round_half_up(q, ind.decimals) for q in quantiles])
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(SEQUENTIAL) - 1)
    colours = {a: SEQUENTIAL[b] for a, b in zip(values.index, bins, strict=True)}
    items = [(SEQUENTIAL[n], f"{format_number(edges[n], ind.decimals)} – {format_number(edges[n + 1], ind.decimals)}")
             for n in range(len(edges) - 1)]
    return colours, Legend(title, items), frame


NO_DATA = "#5b6675"


def _by_id(data: pd.DataFrame, values: np.ndarray) -> dict[str, Any]:
    """Feature id -> value (a colour, a weight), built column-wise: a city has tens of
    thousands of features."""
    return dict(zip(data.id.astype(str).tolist(), values.tolist(), strict=True))


def _numbers(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(float)


def road_colours(cockpit: Cockpit) -> tuple[dict[str, str], Any]:
    frame = cockpit.data.feature_states("roads")
    level = _numbers(frame.data.level)
    palette = np.array([NO_DATA, *(lv.colour for lv in tpi.LEVELS)])
    known = np.isfinite(level)
    index = np.where(known, np.clip(np.nan_to_num(level), 1, len(tpi.LEVELS)), 0).astype(int)
    return _by_id(frame.data, palette[index]), frame


def sensor_colours(cockpit: Cockpit) -> tuple[dict[str, str], Any]:
    frame = cockpit.data.feature_states("sensors")
    value = _numbers(frame.data.aqi)
    # 0–50 优, 51–100 良, … as aqi.category; no reading: the no-data grey
    tops = np.array(aqi.CATEGORY_TOPS, dtype=float)
    palette = np.array([NO_DATA, *(c.colour for c in aqi.CATEGORIES)])
    index = np.where(np.isfinite(value) & (value >= 0),
                     np.searchsorted(tops, np.nan_to_num(value, nan=-1.0), side="left") + 1, 0)
    return _by_id(frame.data, palette[index]), frame


def heat_weights(sensors: pd.DataFrame) -> dict[str, float]:
    """Opacity of each sensor's heat disc: faint for clean air, strong from 轻度污染 on."""
    if sensors.empty:
        return {}
    level = np.clip((_numbers(sensors.aqi) - 25) / 175, 0.05, 1.0)
    weights = np.round(0.08 + 0.3 * np.nan_to_num(level, nan=0.05), 3)
    return _by_id(sensors, weights)


def facility_colours(cockpit: Cockpit) -> tuple[dict[str, str], int, Any]:
    frame = cockpit.data.feature_states("facilities")
    faulty = frame.data.faulty.fillna(False).to_numpy(bool)
    return _by_id(frame.data, np.where(faulty, "#FF4D4F", "#2ECC71")), int(faulty.sum()), frame


def parking_colours(cockpit: Cockpit) -> tuple[dict[str, str], Any]:
    frame = cockpit.data.feature_states("parking")
    occupancy = _numbers(frame.data.occupancy)
    colours = np.select([~np.isfinite(occupancy), occupancy < 70, occupancy < 90],
                        [NO_DATA, "#2ECC71", "#F5C242"], "#FF4D4F")
    return _by_id(frame.data, colours), frame


def camera_colours(cockpit: Cockpit) -> tuple[dict[str, str], Any]:
    frame = cockpit.data.feature_states("cameras")
    online = frame.data.online.fillna(False).to_numpy(bool)
    return _by_id(frame.data, np.where(online, "#3EC5FF", "#5b6675")), frame


def events_collection(cockpit: Cockpit, lang: str, hours: float = 2) -> tuple[dict[str, Any], Any]:
    """Open and recent events as GeoJSON points: the only geometry that changes."""
    since = (utcnow() - timedelta(hours=hours)).replace(second=0, microsecond=0)
    frame = cockpit.data.events(since)
    features = []
    for e in frame.data.itertuples():
        features.append({"type": "Feature", "id": e.id,
                         "geometry": {"type": "Point", "coordinates": [float(e.lon), float(e.lat)]},
                         "properties": {"id": e.id, "kind": e.kind, "severity": int(e.severity),
                                        "status": e.status,
                                        "tooltip": e.title_en if lang == "en" else e.title_zh}})
    return {"type": "FeatureCollection", "features": features}, frame


def area_facts(cockpit: Cockpit, area_id: str) -> tuple[pd.Series, list[tuple[Indicator, float | None]]]:
    """The area's row and its headline / weighted indicators' values at its level."""
    areas = cockpit.data.areas().data.set_index("id")
    if area_id not in areas.index:
        raise KeyError(f"unknown area {area_id!r}")
    row = areas.loc[area_id]
    inds = [i for i in cockpit.catalogue if (i.headline or i.weight > 0) and row.level in i.levels]
    data = cockpit.data.latest([i.id for i in inds], row.level).data
    mine = data[data.area_id == area_id].set_index("indicator").value
    return row, [(i, None if i.id not in mine or pd.isna(mine[i.id]) else float(mine[i.id]))
                 for i in inds]


@dataclass(frozen=True)
class EventFacts:
    """An event, where it is in its lifecycle, and what stands near it."""

    event: dict[str, Any]
    cameras: list[Nearby]
    facilities: list[Nearby]


def event_facts(cockpit: Cockpit, event_id: str) -> EventFacts:
    """The event ``event_id`` with the cameras and facilities within the link radius."""
    since = utcnow() - timedelta(hours=24)
    events = cockpit.data.events(since).data
    match = events[events.id == event_id]
    if match.empty:
        raise KeyError(f"unknown or expired event {event_id!r}")
    event = match.iloc[0].to_dict()
    cams = nearby(cockpit.data.layer("cameras").data, event["lon"], event["lat"],
                  radius_m=LINK_RADIUS_M, limit=6)
    facs = nearby(cockpit.data.layer("facilities").data, event["lon"], event["lat"],
                  radius_m=LINK_RADIUS_M / 2, limit=6)
    return EventFacts(event, cams, facs)


def area_bounds(cockpit: Cockpit, area_id: str, level: str) -> list[list[float]] | None:
    """Leaflet bounds ``[[south, west], [north, east]]`` of an area's outline (Polygon or
    MultiPolygon), from its layer's geometry; None when it has none."""
    outline = area_outline(cockpit, area_id, level) if level in LAYER_OF_LEVEL else None
    box = geo_bounds(outline) if outline else None
    return [[box[1], box[0]], [box[3], box[2]]] if box else None


def has_layer(cockpit: Cockpit, name: str) -> bool:
    """Whether the layers source has map layer ``name``."""
    return layer_missing(cockpit, name) is None


def offered_layers(cockpit: Cockpit, events_missing: str | None) -> tuple[str, ...]:
    """The layer switcher's layers that this site's stores can draw: the areas when there is
    a districts layer, events when an events source answers, and each live layer when its
    geometry and its live attributes are both there."""
    out = []
    for name in SWITCHABLE:
        if name == "areas":
            ok = bool(map_levels(cockpit))
        elif name == "events":
            ok = events_missing is None
        else:
            ok = layer_missing(cockpit, LIVE_GEOMETRY[name], live=True) is None
        if ok:
            out.append(name)
    return tuple(out)


def map_levels(cockpit: Cockpit) -> list[str]:
    """The area levels the map can colour: below the city, present in the hierarchy, with a layer."""
    hier = cockpit.data.hierarchy()
    present = hier.levels_present() if hier is not None else list(AREA_LAYER)
    return [lv for lv in present if lv in AREA_LAYER and has_layer(cockpit, AREA_LAYER[lv])]


def next_level(cockpit: Cockpit, level: str) -> str | None:
    """The map level one step below ``level`` (None at the bottom)."""
    below = SEQUENCE[SEQUENCE.index(level) + 1:] if level in SEQUENCE else ()
    return next((lv for lv in below if lv in map_levels(cockpit)), None)
