"""The KPI card, one component for every page: the number, how it compares, where it came from.

A number that is not there is never drawn as 0: :func:`value_state` stands in its place
(未接入 / 暂无数据 / 错误, each with its own look and the reason on hover), and a stale
number carries :func:`stale_flag`. The heartbeat tiles, the wall and the leader cockpit
use the same two."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html

from citybrain.catalogue import Indicator
from citybrain.i18n import t
from citybrain.numbers import format_compact, format_number, format_percent
from service.kpi import BLANK, Kpi

from .panels import not_connected, shown_reason

UP, DOWN = "▲", "▼"
GOOD_COLOUR, BAD_COLOUR, FLAT_COLOUR = "#3DDC97", "#FF6B6B", "#8FA3BF"
BLANK_COLOUR = "#7F8C9A"   # the grey of a value that is not there


def value_state(state: str, lang: str, reason: str) -> html.Span:
    """What stands where a number is not there: 未接入 (the config does not connect it),
    暂无数据 (connected, nothing came) or 错误 (the read failed); the reason on hover."""
    css = f"value-state value-state-{state.replace('_', '-')}"
    if state == "not_connected":
        return html.Span(not_connected(lang, reason), className=css, title=reason)
    return html.Span(t(f"state_{state}", lang), className=css, title=reason)


def stale_flag(lang: str, reason: str) -> html.Span:
    """The mark of a number that is the last good value of a failed read; why on hover."""
    return html.Span(t("state_stale", lang), className="value-state value-state-stale", title=reason)


def is_blank(state: str) -> bool:
    """Whether a reading in ``state`` shows no number."""
    return state in BLANK


def change_chip(kpi: Kpi, before: float | None, label: str) -> html.Span:
    """'▲ 3.2% vs yesterday', green when the change goes the good way."""
    change = kpi.change(before)
    if change is None:
        return html.Span(f"{label} —", className="kpi-change")
    better = (change < 0) if kpi.indicator.better == "lower" else (change > 0)
    colour = FLAT_COLOUR if abs(change) < 0.0005 else GOOD_COLOUR if better else BAD_COLOUR
    arrow = UP if change > 0 else DOWN if change < 0 else "="
    return html.Span(f"{label} {arrow}{format_percent(abs(change) * 100, 1)}", className="kpi-change",
                     style={"color": colour})


def sparkline(points: Sequence[tuple[datetime, float]], colour: str) -> dcc.Graph:
    """A tiny static line of the last hours."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    figure = {"data": [{"type": "scatter", "mode": "lines", "x": xs, "y": ys,
                        "line": {"color": colour, "width": 2}, "hoverinfo": "skip"}],
              "layout": {"margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "height": 36,
                         "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                         "xaxis": {"visible": False}, "yaxis": {"visible": False}, "showlegend": False}}
    return dcc.Graph(figure=figure, config={"staticPlot": True, "displayModeBar": False},
                     className="kpi-spark", style={"height": "36px"})


def rollup_text(ind: Indicator, lang: str, names: dict[str, str]) -> str:
    """How the indicator combines up the areas, in words."""
    method = ind.rollup.method
    if method == "weighted_mean":
        return t("rollup_weighted_mean", lang, by=names.get(ind.rollup.by or "", ind.rollup.by or ""))
    return t(f"rollup_{method}", lang)


def info_view(kpi: Kpi, lang: str, tz: Any, names: dict[str, str]) -> html.Details:
    """'Where does this number come from': definition, owner, source, query, roll-up, as-of."""
    ind = kpi.indicator
    as_of = "—" if kpi.as_of is None else f"{kpi.as_of.astimezone(tz):%Y-%m-%d %H:%M:%S}"
    rows = [("definition", ind.definition(lang)), ("owner", ind.owner or "—"),
            ("source", kpi.source or ind.binding.source), ("query", kpi.query_text()),
            ("rollup_rule", rollup_text(ind, lang, names)), ("as_of", as_of)]
    if kpi.error:
        rows.append(("stale", shown_reason(kpi.error, "error")))
    return html.Details([
        html.Summary("ⓘ " + t("info", lang), className="kpi-info-toggle"),
        html.Dl([item for key, text in rows
                 for item in (html.Dt(t(key, lang)), html.Dd(text, className=f"kpi-info-{key}"))],
                className="kpi-info"),
    ], className="kpi-info-box")


def kpi_card(kpi: Kpi, lang: str, href: str, tz: Any, names: dict[str, str] | None = None,
             selected: bool = False) -> html.Div:
    """The card; clicking its face opens the drill-down for its indicator at ``href``."""
    ind = kpi.indicator
    target = ("" if ind.target is None or not kpi.thresholds_apply
              else f"{t('target', lang)} {format_number(ind.target, ind.decimals)}")
    blank = is_blank(kpi.state)
    colour = BLANK_COLOUR if blank else kpi.colour
    reason = shown_reason(kpi.reason, kpi.state)   # a failure: its category and reference only
    number = (value_state(kpi.state, lang, reason) if blank
              else [html.Span(format_compact(kpi.value, ind.decimals, lang), className="kpi-value",
                              style={"color": colour}),
                    html.Span(ind.unit_in(lang), className="kpi-unit")])
    face = dcc.Link([
        html.Div([html.Span(ind.name(lang), className="kpi-name"),
                  html.Span(t("stale", lang), className="badge badge-stale kpi-stale",
                            title=reason or shown_reason(kpi.error, "error")) if kpi.stale else None],
                 className="kpi-head"),
        html.Div(number, className="kpi-number", title=reason),
        html.Div([html.Span(target, className="kpi-target"),
                  change_chip(kpi, kpi.yesterday, t("vs_yesterday", lang)),
                  change_chip(kpi, kpi.last_week, t("vs_last_week", lang))], className="kpi-compare"),
        sparkline(kpi.spark, colour),
    ], href=href, className="kpi-face")
    return html.Div([html.Div(className="kpi-status", style={"background": colour}), face,
                     info_view(kpi, lang, tz, names or {})],
                    className="kpi-card selected" if selected else "kpi-card",
                    id={"type": "kpi-card", "indicator": ind.id},
                    **{"data-status": kpi.status, "data-indicator": ind.id, "data-state": kpi.state})
