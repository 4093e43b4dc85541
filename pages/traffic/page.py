"""交通运行 — the traffic page: every traffic indicator of the catalogue as a KPI card, the
drill-down of the chosen one, the ten most congested roads, today's hour-by-hour profile
against the same weekday last week, and how fast incidents are answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import html

from citybrain.areas import AreaTree
from citybrain.drill import DrillState
from citybrain.i18n import t
from citybrain.numbers import format_number
from citybrain.standards.tpi import LEVELS
from citybrain.timegrain import today
from components.drill_charts import Bar, bar_figure, drill_graph
from components.panels import not_connected
from pages.common import area_outline, events_missing, layer_missing
from pages.drill import domain_layout, guarded_panel, time_drill_id
from pages.traffic import model as dm
from service import runtime
from service.period_values import period_values

LEVEL_COLOURS = {lv.level: lv.colour for lv in LEVELS}


def extras(state: DrillState, tree: AreaTree, now: datetime) -> list[Any]:
    """The traffic page's own panels; each shows its error in place."""
    return [html.Div([guarded_panel(state.lang, "top_roads", _top_roads, state, tree),
                      guarded_panel(state.lang, "hour_profile", _hour_profile, state, now),
                      guarded_panel(state.lang, "incident_times", _incident_times, state, tree, now)],
                     className="extras-row")]


layout = domain_layout("traffic", extras)   # the URL's parameters go straight to the drill view
dash.register_page(__name__, path="/traffic", name="交通运行",
                   title="交通运行 · Traffic", order=2)


def _top_roads(state: DrillState, tree: AreaTree | None = None) -> Any:
    """The most congested roads of the drilled area (the whole city at the top): segments
    whose area is in it, or that run through its outline."""
    cockpit = runtime.current()
    missing = layer_missing(cockpit, "roads", live=True)
    if missing:
        return not_connected(state.lang, missing, element_id="traffic-top-roads-missing")
    states = cockpit.data.feature_states("roads").data
    collection = cockpit.data.layer("roads").data
    if state.area.level != "city":
        outline = area_outline(cockpit, state.area.id, state.area.level)
        within = dm.roads_in_area(collection, tree.descendants(state.area) if tree else {state.area.id},
                                   outline)
        states = states[states.id.astype(str).isin(within)]
        if states.empty:
            return html.Div(t("no_roads_here", state.lang), className="muted")
    roads = {f["properties"]["id"]: f["properties"] for f in collection["features"]}
    ranked = dm.top_congested(states, roads, state.lang)
    bars = [Bar(r.id, r.name, r.speed_kmh, LEVEL_COLOURS.get(r.level, "#8FA3BF")) for r in ranked]
    return drill_graph("traffic-top-roads", bar_figure(bars, unit="km/h", decimals=1, horizontal=True),
                       "top-congested-roads", height=360)


def _hour_profile(state: DrillState, now: datetime) -> Any:
    cockpit = runtime.current()
    day = today(now, cockpit.tz)
    ind, area = state.indicator, state.area.id
    lang = state.lang
    this = period_values(cockpit.data, ind, [area], day, day.children(), now)
    before_day = dm.same_day_last_week(day)
    before = period_values(cockpit.data, ind, [area], before_day, before_day.children(), now)
    current = dm.hourly_profile(this.table, area, day)
    previous = dm.hourly_profile(before.table, area, before_day)
    bars = [Bar(f"{day.key}T{h:02d}", f"{h}时" if lang == "zh" else f"{h:02d}", v, "#4FA3FF")
            for h, v in enumerate(current)]
    figure = bar_figure(bars, unit=ind.unit_in(lang), decimals=ind.decimals, compare=previous,
                        compare_name=t("last_week_same_day", lang), name=t("today", lang))
    return html.Div([html.Div(f"{ind.name(lang)} · {state.area.name(lang)}", className="chart-title"),
                     drill_graph(time_drill_id("traffic-hour-profile"), figure, f"{ind.id}-hour-profile", height=330)])


def _incident_times(state: DrillState, tree: AreaTree, now: datetime) -> Any:
    cockpit = runtime.current()
    missing = events_missing(cockpit)
    if missing:
        return not_connected(state.lang, missing, element_id="traffic-incidents-missing")
    day = today(now, cockpit.tz)
    events = cockpit.data.events(day.start.astimezone(now.tzinfo)).data
    times = dm.response_times(events, "traffic_accident", day.start, tree.descendants(state.area))
    lang = state.lang
    return html.Div([
        html.Div([html.Div(str(times.count), className="big-number"),
                  html.Div(t("cases", lang), className="big-label")], className="big-stat"),
        html.Div([html.Div(format_number(times.mean_response_min, 1), className="big-number"),
                  html.Div(f"{t('mean_response', lang)} ({t('minutes', lang)})", className="big-label")],
                 className="big-stat", id="traffic-mean-response"),
        html.Div([html.Div(format_number(times.mean_handling_min, 1), className="big-number"),
                  html.Div(f"{t('mean_handling', lang)} ({t('minutes', lang)})", className="big-label")],
                 className="big-stat", id="traffic-mean-handling"),
    ], className="big-stats")
