"""Layout builders of the map page: legends and the side panels for an area or an event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from citybrain.i18n import t
from citybrain.numbers import format_number

from .panels import status_dot

LIFECYCLE = ("reported", "dispatched", "handling", "closed")


def legend(title: str, items: Sequence[tuple[str, str]]) -> html.Div:
    """One layer's legend: a title and colour swatches with labels."""
    return html.Div([html.Div(title, className="legend-title"),
                     *[html.Div([html.Span(className="legend-swatch", style={"background": c}), label],
                                className="legend-row") for c, label in items]],
                    className="legend-block")


def area_panel(name: str, level_name: str, facts: Sequence[tuple[str, str, str, str]],
               *, drill_label: str | None, area_id: str,
               analysis: tuple[str, str] | None = None) -> html.Div:
    """An area's KPIs (name, value, unit, colour), below city grids a drill button, and
    ``analysis`` (label, href): a link to the area's drill-down charts."""
    rows = [html.Div([html.Span([status_dot(colour), label], className="fact-name"),
                      html.Span([value, html.Small(f" {unit}")], className="fact-value",
                                style={"color": colour})], className="fact-row")
            for label, value, unit, colour in facts]
    button = (html.Button(drill_label, id={"type": "map-drill", "area": area_id},
                          className="drill-button", n_clicks=0) if drill_label else None)
    return html.Div([html.Div(level_name, className="side-kicker"),
                     html.H3(name, className="side-title", id="map-side-title"),
                     html.Div(rows, className="fact-list"), button,
                     dcc.Link(analysis[0], href=analysis[1], className="analysis-link", id="map-analysis-link")
                     if analysis else None], className="side-area")


def event_panel(event: dict[str, Any], cameras: Sequence[Any], facilities: Sequence[Any],
                *, lang: str, tz: Any, radius_m: int, video_url: str | None) -> html.Div:
    """An event: title, kind and time, its lifecycle, the nearest cameras with a video
    tile for the first one, and the facilities nearby."""
    title = event["title_en"] if lang == "en" else event["title_zh"]
    reached = LIFECYCLE.index(event["status"]) if event["status"] in LIFECYCLE else 0
    steps = [html.Li(t(f"event_{s}", lang), className="step done" if n <= reached else "step")
             for n, s in enumerate(LIFECYCLE)]
    when = event["reported_at"].astimezone(tz).strftime("%m-%d %H:%M")
    cams = [html.Li([html.Span(c.id, className="link-id"),
                     html.Span(f"{format_number(c.distance_m, 0)} m", className="link-dist")],
                    className="link-row camera-row") for c in cameras]
    facs = [html.Li([html.Span(f"{f.id} · {f.properties.get('kind', '')}", className="link-id"),
                     html.Span(f"{format_number(f.distance_m, 0)} m", className="link-dist")], className="link-row")
            for f in facilities]
    video = (html.Div([html.Img(src=video_url, className="video-still", alt=cameras[0].id),
                       html.Div(cameras[0].id, className="video-caption")], className="video-tile")
             if video_url and cameras else None)
    return html.Div([
        html.Div([t(f"kind_{event['kind']}", lang), " · ", when,
                  " · ", t("severity", lang, n=int(event["severity"]))], className="side-kicker"),
        html.H3(title, className="side-title", id="map-side-title"),
        html.Div(t("lifecycle", lang), className="side-sub"),
        html.Ol(steps, className="lifecycle"),
        html.Div(t("nearby_cameras", lang, r=radius_m), className="side-sub"),
        video,
        html.Ul(cams or [html.Li(t("none_nearby", lang))], className="link-list", id="map-event-cameras"),
        html.Div(t("nearby_facilities", lang), className="side-sub"),
        html.Ul(facs or [html.Li(t("none_nearby", lang))], className="link-list"),
    ], className="side-event")
