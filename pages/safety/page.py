"""公共安全 — the safety page: every safety indicator of the catalogue as a KPI card, the
drill-down of the chosen one, 110 alerts by type, hazards found against rectified, and
the chosen indicator's last 30 days against the same weeks a year ago.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import html

from citybrain.areas import AreaTree
from citybrain.drill import DrillState
from citybrain.i18n import t
from citybrain.timegrain import Period, today
from components.drill_charts import Bar, bar_figure, drill_graph
from components.panels import not_connected
from pages.common import events_missing
from pages.drill import domain_layout, guarded_panel, time_drill_id
from pages.safety import model as dm
from service import runtime
from service.period_values import period_values

TREND_DAYS = 30
HAZARD_FLOW = ("hazards_found_today", "hazards_rectified_today")


def extras(state: DrillState, tree: AreaTree, now: datetime) -> list[Any]:
    """The safety page's own panels; each shows its error in place."""
    lang = state.lang
    return [html.Div([
        guarded_panel(lang, "alerts_by_type", _alerts_by_type, state, tree, now),
        guarded_panel(lang, "hazards_flow", _hazard_flow, state, now),
        guarded_panel(lang, "trend_year_title", _trend, state, now),
    ], className="extras-row")]


layout = domain_layout("safety", extras)   # the URL's parameters go straight to the drill view
dash.register_page(__name__, path="/safety", name="公共安全",
                   title="公共安全 · Safety", order=3)


def _alerts_by_type(state: DrillState, tree: AreaTree, now: datetime) -> Any:
    cockpit = runtime.current()
    missing = events_missing(cockpit)
    if missing:
        return not_connected(state.lang, missing, element_id="safety-alerts-missing")
    day = today(now, cockpit.tz)
    events = cockpit.data.events(day.start.astimezone(now.tzinfo)).data
    counts = dm.counts_by_category(events, "police_110", day.start, state.lang, tree.descendants(state.area))
    bars = [Bar(str(k), str(k), float(v), "#4FA3FF") for k, v in counts.items()]
    return drill_graph("safety-alert-types", bar_figure(bars, unit=t("cases", state.lang), decimals=0,
                                                        horizontal=True), "110-alerts-by-type", height=330)


def _hazard_flow(state: DrillState, now: datetime) -> Any:
    cockpit = runtime.current()
    cat, lang = cockpit.catalogue, state.lang
    present = [i for i in HAZARD_FLOW if i in cat]
    if len(present) < 2:
        return html.Div(t("no_data", lang), className="muted")
    day = today(now, cockpit.tz)
    found, fixed = (period_values(cockpit.data, cat.get(i), [state.area.id], day, day.children(), now)
                    for i in present)
    hours = [b.key for b in found.buckets]
    labels = [b.bucket_label(lang) for b in found.buckets]
    fixed_by_hour = fixed.table.set_index("bucket").value
    bars = [Bar(k, label, v, "#FF8C42") for k, label, v in
            zip(hours, labels, found.table.set_index("bucket").value.reindex(hours).tolist(), strict=True)]
    figure = bar_figure(bars, unit=cat.get(present[0]).unit_in(lang), decimals=0,
                        compare=[None if v != v else v for v in fixed_by_hour.reindex(hours).tolist()],
                        compare_name=t("rectified", lang), name=t("found", lang))
    return drill_graph(time_drill_id("safety-hazard-flow"), figure, "hazards-found-rectified", height=330)


def _trend(state: DrillState, now: datetime) -> Any:
    cockpit = runtime.current()
    ind, lang, area = state.indicator, state.lang, state.area.id
    day = today(now, cockpit.tz)
    days = [day.shifted(-n) for n in range(TREND_DAYS - 1, -1, -1)]
    year_ago = [d.shifted(-7 * 52) for d in days]
    this = _daily(ind, area, days, now)
    before = _daily(ind, area, year_ago, now)
    bars = [Bar(d.key, d.bucket_label(lang) if d.start.day != 1 else d.label(lang), v, "#4FA3FF")
            for d, v in zip(days, this, strict=True)]
    figure = bar_figure(bars, unit=ind.unit_in(lang), decimals=ind.decimals, compare=before,
                        compare_name=t("last_year", lang), name=t("this_year", lang))
    return html.Div([html.Div(t("trend_last_year", lang, indicator=ind.name(lang)), className="chart-title"),
                     drill_graph(time_drill_id("safety-trend"), figure, f"{ind.id}-trend-vs-last-year", height=300)])


def _daily(ind: Any, area: str, days: list[Period], now: datetime) -> list[float | None]:
    values = period_values(runtime.current().data, ind, [area], days[-1], days, now)
    mine = values.table.set_index("bucket").value
    return [float(mine[d.key]) if d.key in mine.index and mine[d.key] == mine[d.key] else None for d in days]

