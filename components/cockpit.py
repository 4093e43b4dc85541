"""Layout builders of the leader cockpit: bullet gauges, the district ranking table, the
needs-attention list and the city index trend. Plain values in, layout out; no fetching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import dcc, html

from citybrain.numbers import format_number

from .kpi_card import BLANK_COLOUR, is_blank, stale_flag, value_state

SORT_TYPE = "ck-sort"
ARROW_TYPE = "ck-sort-arrow"


@dataclass(frozen=True)
class BulletView:
    """What one bullet gauge shows; positions are fractions 0–1 of its scale."""

    indicator_id: str
    name: str
    value: str
    unit: str
    target: str
    status: str
    status_text: str
    colour: str
    bands: Sequence[tuple[float, float, str]]
    value_at: float | None
    target_at: float | None
    href: str
    note: str
    state: str = "ok"          # see service.kpi.Reading: a blank state shows no number
    reason: str = ""
    lang: str = "zh"


def bullet(view: BulletView) -> html.Div:
    """A headline indicator as a bullet gauge; the whole card links to its drill-down. A
    gauge without a value says why (未接入 / 暂无数据 / 错误) and draws no bar; a stale
    one is flagged; the reason on hover."""
    blank = is_blank(view.state)
    colour = BLANK_COLOUR if blank else view.colour
    marks: list[Any] = [html.Div(className=f"ck-band ck-band-{status}",
                                 style={"left": _pct(a), "width": _pct(b - a)}) for a, b, status in view.bands]
    if view.value_at is not None and not blank:
        marks.append(html.Div(className="ck-bar", style={"width": _pct(view.value_at),
                                                         "background": view.colour}))
    if view.target_at is not None:
        marks.append(html.Div(className="ck-target", style={"left": _pct(view.target_at)}))
    if blank:
        number: Any = value_state(view.state, view.lang, view.reason)
    else:
        number = [html.Span(view.value, className="ck-gauge-value", style={"color": colour}),
                  html.Span(view.unit, className="ck-gauge-unit")]
        if view.state == "stale":
            number.append(stale_flag(view.lang, view.reason))
    face = dcc.Link([
        html.Div([html.Span(view.name, className="ck-gauge-name"),
                  html.Span("" if blank else view.status_text, className="ck-gauge-status",
                            style={"color": colour})],
                 className="ck-gauge-head"),
        html.Div(number, className="ck-gauge-number"),
        html.Div(marks, className="ck-bullet"),
        html.Div(view.target, className="ck-gauge-target"),
    ], href=view.href, className="ck-gauge-link",
        title=f"{view.reason}\n{view.note}" if view.reason else view.note)
    return html.Div(face, className=f"ck-gauge ck-gauge-{view.state.replace('_', '-')}",
                    **{"data-indicator": view.indicator_id, "data-status": view.status,
                       "data-state": view.state})


def _pct(fraction: float) -> str:
    """A CSS position or width, not a number a reader sees."""
    return f"{max(0.0, min(1.0, fraction)) * 100:.2f}%"


# ---- district ranking ---------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A sortable column of the ranking: ``key`` is 'score', 'name' or an indicator id."""

    key: str
    label: str
    unit: str = ""
    decimals: int = 1


def ranking_head(columns: Sequence[Column], rank_label: str) -> html.Thead:
    """The header row: a rank column, then one sort button per column."""
    cells = [html.Th(rank_label, className="ck-col-rank")]
    for col in columns:
        cells.append(html.Th(html.Button([
            html.Span(col.label, className="ck-th-label"),
            html.Span(col.unit, className="ck-th-unit") if col.unit else None,
            html.Span(className="ck-th-arrow", id={"type": ARROW_TYPE, "key": col.key}),
        ], id={"type": SORT_TYPE, "key": col.key}, className="ck-sort", n_clicks=0),
            className=f"ck-col-{'name' if col.key == 'name' else 'num'}"))
    return html.Thead(html.Tr(cells))


def ranking_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> list[html.Tr]:
    """One row per district (as the page stores them): name links to its drill-down,
    the score with a bar, each headline value in its status colour."""
    out = []
    for rank, row in enumerate(rows, start=1):
        cells: list[Any] = [html.Td(str(rank), className="ck-col-rank")]
        for col in columns:
            if col.key == "name":
                cells.append(html.Td([
                    dcc.Link(row["name"], href=row["href"], className="ck-district-link"),
                    html.Div(row.get("weakest") or "", className="ck-weakest"),
                ], className="ck-col-name"))
            elif col.key == "score":
                score = row.get("score")
                cells.append(html.Td(html.Div([
                    html.Span(format_number(score, 1), className="ck-score",
                              style={"color": row["colour"]}),
                    html.Div(html.Div(className="ck-score-fill",
                                      style={"width": f"{max(0.0, min(100.0, score or 0.0)):.1f}%",
                                             "background": row["colour"]}), className="ck-score-track"),
                ], className="ck-score-cell"), className="ck-col-num"))
            else:
                value = (row.get("values") or {}).get(col.key)
                colour = (row.get("colours") or {}).get(col.key)
                cells.append(html.Td(format_number(value, col.decimals),
                                     className="ck-col-num ck-value", style={"color": colour} if colour else None))
        out.append(html.Tr(cells, className="ck-row", **{"data-area": row["id"]}))
    return out


def sort_arrows(columns: Sequence[Column], key: str, ascending: bool) -> list[str]:
    """The arrow each header shows: ▲/▼ on the sorted column, nothing elsewhere."""
    return [("▲" if ascending else "▼") if col.key == key else "" for col in columns]


# ---- needs attention ----------------------------------------------------------------------

@dataclass(frozen=True)
class AttentionView:
    """One line of the needs-attention list."""

    tag: str
    title: str
    detail: str
    colour: str
    href: str
    kind: str


def attention_list(items: Sequence[AttentionView], empty_text: str, more_text: str = "") -> html.Div:
    """The list, most urgent first; every line links to where it can be handled."""
    if not items:
        return html.Div(empty_text, className="ck-all-clear")
    lines = [html.Li(dcc.Link([
        html.Span(item.tag, className="ck-att-tag", style={"borderColor": item.colour, "color": item.colour}),
        html.Div([html.Div(item.title, className="ck-att-title"),
                  html.Div(item.detail, className="ck-att-detail", style={"color": item.colour})],
                 className="ck-att-text"),
    ], href=item.href, className="ck-att-link"), className=f"ck-att ck-att-{item.kind}")
        for item in items]
    return html.Div([html.Ul(lines, className="ck-att-list"),
                     html.Div(more_text, className="ck-att-more") if more_text else None])


# ---- city index trend ---------------------------------------------------------------------

def trend_figure(times: Sequence[datetime], values: Sequence[float | None], *, good_from: float,
                 warn_from: float, colours: Mapping[str, str], name: str) -> dict[str, Any]:
    """The city index over time with its good / warn lines, as a plain figure dict."""
    shown = [v for v in values if v is not None]
    low = max(0.0, min([warn_from - 10, *shown]) - 5) if shown else 0.0
    lines = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y,
              "line": {"color": colours[s], "width": 1, "dash": "dot"}}
             for y, s in ((good_from, "good"), (warn_from, "warn"))]
    return {
        "data": [{"type": "scatter", "mode": "lines+markers", "x": list(times), "y": list(values), "name": name,
                  "line": {"color": "#3ec5ff", "width": 3, "shape": "spline"},
                  "marker": {"size": 5, "color": "#3ec5ff"}, "fill": "tozeroy",
                  "fillcolor": "rgba(62,197,255,0.10)", "connectgaps": False,
                  "text": [format_number(v, 1) for v in values],
                  "hovertemplate": "%{x|%m-%d %H:%M}<br>%{text}<extra></extra>"}],
        "layout": {"margin": {"l": 36, "r": 12, "t": 8, "b": 28}, "showlegend": False,
                   "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                   "font": {"color": "#7f96b2", "size": 12}, "shapes": lines, "hovermode": "x",
                   "xaxis": {"type": "date", "gridcolor": "#12304f", "tickformat": "%H:%M", "showline": False},
                   "yaxis": {"range": [low, 100], "gridcolor": "#12304f", "zeroline": False}},
    }
