"""The indicator explorer's pieces: its controls, the line chart, the summary grid.

Plain values in, layout out; nothing here reads data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dash_ag_grid as dag
from dash import dcc, html

from citybrain.i18n import t
from citybrain.numbers import format_number
from components.drill_charts import AXIS, graph_config

PALETTE = ("#3EC5FF", "#FFB547", "#3DDC97", "#FF6B8A", "#B58CFF")
HOVER_FORMAT = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}
TICK_FORMAT = {"hour": "%H:%M<br>%m-%d", "day": "%m-%d", "month": "%Y-%m"}
Options = list[dict[str, Any]]


@dataclass(frozen=True)
class Line:
    """One line of the chart: ``labels`` name each point's own period in the hover."""

    name: str
    x: list[str]
    y: list[float | None]
    labels: list[str]
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Choices:
    """What the controls offer and what they show as chosen."""

    indicators: Options
    indicator: str
    levels: Options
    level: str
    areas: Options
    chosen: list[str]
    start: str
    end: str
    earliest: str
    latest: str
    grain: str                 # auto / hour / day / month
    compare: str               # off / prev / year
    max_areas: int


def _field(label: str, control: Any, class_name: str = "") -> html.Div:
    return html.Div([html.Label(label, className="explore-label"), control],
                    className=f"explore-field {class_name}".strip())


def controls(c: Choices, lang: str) -> html.Div:
    """The query row: indicator, level, areas, dates, granularity, comparison."""
    radios = {"className": "explore-radios", "inline": True}
    labels = {"select_all": t("explore_select_all", lang), "deselect_all": t("explore_deselect_all", lang),
              "selected_count": t("explore_selected", lang), "search": t("explore_search", lang),
              "no_options_found": t("explore_no_options", lang)}
    return html.Div([
        _field(t("indicator", lang), dcc.Dropdown(
            id="explore-indicator", options=c.indicators, value=c.indicator, clearable=False,
            search_order="original", maxHeight=420, labels=labels), "explore-field-indicator"),
        _field(t("level", lang), dcc.RadioItems(id="explore-level", options=c.levels, value=c.level,
                                                **radios)),
        _field(t("explore_areas", lang, n=c.max_areas), dcc.Dropdown(
            id="explore-areas", options=c.areas, value=c.chosen, multi=True, clearable=True,
            closeOnSelect=False, debounce=True, search_order="original", maxHeight=360, labels=labels),
            "explore-field-areas"),
        _field(t("explore_range", lang), dcc.DatePickerRange(
            id="explore-dates", start_date=c.start, end_date=c.end, min_date_allowed=c.earliest,
            max_date_allowed=c.latest, display_format="YYYY-MM-DD", first_day_of_week=1,
            updatemode="bothdates", minimum_nights=0)),
        _field(t("explore_grain", lang), dcc.RadioItems(
            id="explore-grain", value=c.grain, **radios,
            options=[{"label": t(f"explore_grain_{g}", lang), "value": g}
                     for g in ("auto", "hour", "day", "month")])),
        _field(t("explore_compare", lang), dcc.RadioItems(
            id="explore-compare", value=c.compare, **radios,
            options=[{"label": t(f"explore_compare_{k}", lang), "value": k}
                     for k in ("off", "prev", "year")])),
    ], className="explore-controls")


def line_figure(lines: Sequence[Line], *, unit: str, decimals: int, grain: str) -> dict[str, Any]:
    """A dark line chart on a date axis; compared periods are dashed lines on the same axis."""
    data = []
    for line in lines:
        marker = len(line.x) <= 62
        data.append({
            "type": "scatter", "mode": "lines+markers" if marker else "lines", "name": line.name,
            "x": line.x, "y": line.y, "customdata": line.labels, "text": [format_number(v, decimals) for v in line.y],
            "line": {"color": line.colour, "width": 1.6 if line.dashed else 2.4,
                     "dash": "dash" if line.dashed else "solid"},
            "marker": {"size": 5 if marker else 0}, "opacity": 0.75 if line.dashed else 1.0,
            "hovertemplate": f"%{{customdata}}: %{{text}} {unit}<extra>{line.name}</extra>",
        })
    layout = {
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": "#DCE6F2", "size": 13}, "margin": {"l": 8, "r": 24, "t": 36, "b": 8},
        "xaxis": {**AXIS, "type": "date", "hoverformat": HOVER_FORMAT.get(grain, "%Y-%m-%d"),
                  "tickformat": TICK_FORMAT.get(grain, "%m-%d"), **({"dtick": "M1"} if grain == "month" else {})},
        "yaxis": {**AXIS, "title": {"text": unit}, "rangemode": "tozero" if _positive(lines) else "normal"},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hovermode": "x unified", "showlegend": True,
    }
    return {"data": data, "layout": layout}


def _positive(lines: Sequence[Line]) -> bool:
    return all(v is None or v >= 0 for line in lines for v in line.y)


def chart(graph_id: str, figure: dict[str, Any], filename: str) -> dcc.Graph:
    """The chart with plotly's mode bar: PNG export named after the query, no logo."""
    return dcc.Graph(id=graph_id, figure=figure, config=graph_config(filename),
                     style={"height": "440px"}, className="explore-graph")


def summary_grid(grid_id: str, rows: list[dict[str, Any]], *, lang: str, value_header: str,
                 compared: bool, filename: str, decimals: int, note: str = "") -> html.Div:
    """Per area: the value over the range, the compared period's and the change, with CSV export.
    The rows come rounded half up to ``decimals`` (the change to 1), so ``toFixed`` only pads them."""
    number = {"type": "numericColumn", "filter": "agNumberColumnFilter",
              "valueFormatter": {"function": f"params.value == null ? '—' : params.value.toFixed({decimals})"}}
    defs: list[dict[str, Any]] = [
        {"field": "area", "headerName": t("area", lang), "minWidth": 160},
        {"field": "area_id", "headerName": "ID", "maxWidth": 150},
        {"field": "value", "headerName": value_header, **number},
    ]
    if compared:
        defs += [
            {"field": "previous", "headerName": t("explore_previous", lang), **number},
            {"field": "change", "headerName": t("explore_change", lang), "type": "numericColumn",
             "filter": "agNumberColumnFilter",
             "valueFormatter": {"function": "params.value == null ? '—' : "
                                            "(params.value > 0 ? '+' : '') + params.value.toFixed(1) + '%'"},
             "cellClassRules": {"explore-better": "params.data.trend === 'better'",
                                "explore-worse": "params.data.trend === 'worse'"}},
        ]
    defs.append({"field": "unit", "headerName": t("unit", lang), "maxWidth": 120})
    return html.Div([
        html.Div([html.Span(note, className="grid-count"),
                  html.Button(t("export_csv", lang), id=f"{grid_id}-csv", className="btn btn-export")],
                 className="grid-toolbar"),
        dag.AgGrid(id=grid_id, rowData=rows, columnDefs=[{**d, "sortable": True, "resizable": True}
                                                         for d in defs],
                   defaultColDef={"flex": 1, "minWidth": 110}, csvExportParams={"fileName": f"{filename}.csv"},
                   dashGridOptions={"domLayout": "autoHeight", "animateRows": False},
                   className="ag-theme-alpine-dark detail-grid explore-grid"),
    ])
