"""Layout builders of the city heartbeat: index ring, domain scores, pulses, ticker, KPI strip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import dcc, html

from citybrain.i18n import t
from citybrain.numbers import format_compact, format_number

from .kpi_card import BLANK_COLOUR, is_blank, stale_flag, value_state
from .panels import NOT_CONNECTED, status_dot

SEVERITY_COLOURS = {1: "#4FC3F7", 2: "#F5C242", 3: "#FF8C42", 4: "#FF4D4F"}
KIND_ICONS = {"police_110": "警", "fire_119": "火", "medical_120": "医", "hotline_12345": "民",
              "urban_mgmt": "城", "traffic_accident": "交",
              "safety_hazard": "隐"}


def index_ring(value: float | None, colour: str, status_text: str, note: str,
               note_title: str = "") -> html.Div:
    """The composite index as a big number inside a ring filled to ``value`` %; ``note``
    (how many indicators it is based on) small beneath, what it left out on hover."""
    pct = 0.0 if value is None else max(0.0, min(100.0, value))
    ring = {"background": f"conic-gradient({colour} {pct * 3.6:.1f}deg, #16263a 0deg)"}   # CSS, not shown
    shown = format_number(value, 1)
    return html.Div([
        html.Div(html.Div([
            html.Div(shown, id="hb-index-value", className="index-value", style={"color": colour}),
            html.Div("/ 100", className="index-scale"),
        ], className="index-core"), className="index-ring", style=ring),
        html.Div([status_dot(colour), status_text], className="index-status",
                 style={"color": colour}),
        html.Div(note, className="index-note", title=note_title),
    ], className="index-block")


@dataclass(frozen=True)
class DomainScore:
    """One domain's current score for the side list and its pulse row."""

    domain: str
    name: str
    score: float | None
    colour: str


def domain_scores(rows: Sequence[DomainScore]) -> html.Div:
    """Horizontal bars of each domain's score."""
    items = []
    for row in rows:
        width = 0 if row.score is None else max(0, min(100, row.score))
        shown = format_number(row.score, 0)
        items.append(html.Div([
            html.Span(row.name, className="dscore-name"),
            html.Div(html.Div(className="dscore-fill",
                              style={"width": f"{width}%", "background": row.colour}),
                     className="dscore-track"),
            html.Span(shown, className="dscore-value", style={"color": row.colour}),
        ], className="dscore-row"))
    return html.Div(items, className="dscore-list")


def pulse_figure(times: Sequence[datetime], values: Sequence[float | None], colour: str,
                 *, low: float = 0, high: float = 100) -> dict[str, Any]:
    """A borderless sparkline figure (plain dict: cheap to build every tick)."""
    return {
        "data": [{"type": "scatter", "mode": "lines", "x": list(times), "y": list(values),
                  "line": {"color": colour, "width": 2.5, "shape": "spline", "smoothing": 0.6},
                  "fill": "tozeroy", "fillcolor": _alpha(colour, 0.12), "hoverinfo": "x+y",
                  "connectgaps": True}],
        "layout": {
            "margin": {"l": 0, "r": 0, "t": 4, "b": 0}, "height": 74,
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"visible": False, "fixedrange": True},
            "yaxis": {"visible": False, "range": [low, high], "fixedrange": True},
            "showlegend": False, "uirevision": "pulse",
        },
    }


def pulse_range(values: Sequence[float | None], *, min_span: float = 12.0) -> tuple[float, float]:
    """A y-range that fits the line with room, at least ``min_span`` points tall."""
    seen = [v for v in values if v is not None]
    if not seen:
        return 0.0, 100.0
    low, high = min(seen), max(seen)
    pad = max(min_span - (high - low), 0) / 2 + 2
    return max(0.0, low - pad), min(100.0, high + pad)


def _alpha(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def event_ticker(events: Sequence[dict[str, Any]], lang: str, tz: Any) -> html.Ul:
    """The newest events, newest first: time, kind, title, severity and status."""
    if not events:
        return html.Ul(html.Li(t("no_events", lang), className="tick-empty"), className="ticker")
    items = []
    for e in events:
        colour = SEVERITY_COLOURS.get(int(e["severity"]), "#4FC3F7")
        when = e["reported_at"].astimezone(tz).strftime("%H:%M")
        title = e["title_en"] if lang == "en" else e["title_zh"]
        items.append(html.Li([
            html.Span(KIND_ICONS.get(e["kind"], "事"), className="tick-icon",
                      style={"borderColor": colour, "color": colour}),
            html.Div([
                html.Div([html.Span(when, className="tick-time"),
                          html.Span(t(f"kind_{e['kind']}", lang), className="tick-kind")],
                         className="tick-meta"),
                html.Div(title, className="tick-title"),
            ], className="tick-main"),
            html.Div([
                html.Span(t("severity", lang, n=int(e["severity"])), className="tick-sev",
                          style={"color": colour}),
                html.Span(t(f"event_{e['status']}", lang),
                          className=f"tick-status status-{e['status']}"),
            ], className="tick-side"),
        ], className="tick", id={"type": "hb-event", "id": str(e["id"])}))
    return html.Ul(items, className="ticker")


@dataclass(frozen=True)
class Tile:
    """A headline indicator for the KPI strip; ``state`` and ``reason`` as in
    :class:`service.kpi.Reading` (a blank state shows no number)."""

    name: str
    value: float | None
    unit: str
    decimals: int
    colour: str
    target_text: str
    href: str | None = None     # the indicator's drill-down
    state: str = "ok"
    reason: str = ""


def kpi_strip(tiles: Sequence[Tile], lang: str = "zh") -> html.Div:
    """A row of headline indicator tiles with status colour and target; a tile without a
    value says why (未接入 / 暂无数据 / 错误), a stale one is flagged, the reason on hover."""
    items = []
    for tile in tiles:
        blank = is_blank(tile.state)
        colour = BLANK_COLOUR if blank else tile.colour
        if blank:
            number: Any = value_state(tile.state, lang, tile.reason)
        else:
            number = [html.Span(format_compact(tile.value, tile.decimals, lang), className="tile-value",
                                style={"color": colour}),
                      html.Span(tile.unit, className="tile-unit")]
            if tile.state == "stale":
                number.append(stale_flag(lang, tile.reason))
        body = [html.Div([status_dot(colour), tile.name], className="tile-name"),
                html.Div(number, className="tile-number", **{"data-state": tile.state}),
                html.Div(tile.target_text, className="tile-target")]
        style = {"borderTopColor": colour}
        css = f"tile tile-{tile.state.replace('_', '-')}"
        items.append(dcc.Link(body, href=tile.href, className=f"{css} tile-link", style=style,
                              title=tile.reason) if tile.href
                     else html.Div(body, className=css, style=style, title=tile.reason))
    return html.Div(items, className="kpi-strip")


def pulse_rows(labels: Sequence[Any], figures: Sequence[Any], domains: Sequence[str],
               *, id_type: str | None = None) -> list[html.Div]:
    """One row per domain: its name and score beside its sparkline. With ``id_type`` the
    label and graph get pattern ids ``{"type": id_type + "-label" | id_type, "domain": d}``."""

    rows = []
    for label, figure, domain in zip(labels, figures, domains, strict=True):
        label_id = {"id": {"type": f"{id_type}-label", "domain": domain}} if id_type else {}
        graph_id = {"id": {"type": id_type, "domain": domain}} if id_type else {}
        rows.append(html.Div([
            html.Div(label, className="pulse-label", **label_id),
            dcc.Graph(figure=figure, config={"displayModeBar": False, "staticPlot": True},
                      className="pulse-graph", **graph_id),
        ], className="pulse-row"))
    return rows


def indicator_tile(name: str, value: float | None, unit: str, decimals: int, colour: str,
                   note: str, *, state: str = "ok", reason: str = "", lang: str = "zh") -> html.Div:
    """One indicator, big: for a wall region of its own; without a value it says why."""
    blank = is_blank(state)
    colour = BLANK_COLOUR if blank else colour
    if blank:
        number: Any = value_state(state, lang, reason)
    else:
        number = [html.Span(format_compact(value, decimals, lang), className="big-value", style={"color": colour}),
                  html.Span(unit, className="big-unit")]
        if state == "stale":
            number.append(stale_flag(lang, reason))
    return html.Div([
        html.Div([status_dot(colour), name], className="big-name"),
        html.Div(number, className="big-number", **{"data-state": state}),
        html.Div(note, className="big-note"),
    ], className=f"big-tile big-{state.replace('_', '-')}", style={"borderColor": colour}, title=reason)


def not_connected_badge(lang: str, reason: str) -> html.Span:
    """A panel badge for a source the config does not connect: 未接入, not "no data"."""
    return html.Span(NOT_CONNECTED["en" if lang == "en" else "zh"],
                     className="badge badge-not-connected", title=reason)
