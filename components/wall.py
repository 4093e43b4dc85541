"""The wall's stage: a layout's grid at its design resolution, scaled in the browser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html

from citybrain.i18n import t
from layouts import ScreenLayout

TITLES = {"index": "city_index", "domains": "domain_scores", "pulse": "domain_pulse",
          "ticker": "live_events", "tiles": "headline"}


def wall_stage(screen: ScreenLayout, contents: Sequence[Any], badges: Sequence[Any], *,
               title: str, city: str, lang: str, timezone: str, server_now_ms: int,
               pulse_title: str | None = None) -> html.Div:
    """The viewport (fills the screen, no scrollbars) holding the stage at design size.

    Each panel has a body ``{"type": "wall-panel", "part": n}`` and a freshness badge
    ``{"type": "wall-badge", "part": n}``; ``server_now_ms`` lets the browser age the
    badges by the server's clock, whatever its own says."""
    panels = []
    for n, (panel, content, badge) in enumerate(zip(screen.panels, contents, badges, strict=True)):
        place = {"gridColumn": f"{panel.col} / span {panel.colspan}",
                 "gridRow": f"{panel.row} / span {panel.rowspan}"}
        body = html.Div(content, id={"type": "wall-panel", "part": n}, className="wall-body")
        slot = html.Div(badge, id={"type": "wall-badge", "part": n}, className="wall-badge")
        if panel.region == "header":
            inner = [html.Div([html.Span(city, className="brand-city"),
                               html.Span(title, className="brand-title")], className="wall-brand"),
                     html.Div([html.Div(id="shell-clock-time", className="clock-time"),
                               html.Div(id="shell-clock-date", className="clock-date")],
                              className="clock", **{"data-tz": timezone, "data-lang": lang}),
                     slot, body]
            cls = "wall-panel wall-header"
        else:
            key = TITLES.get(panel.region)
            text = pulse_title if key == "domain_pulse" and pulse_title else t(key, lang, n=60) if key else ""
            heading = html.H2(text, className="panel-title") if key else None
            inner = [html.Div([heading, slot], className="wall-head"), body]
            cls = f"wall-panel panel wall-{panel.region.split(':')[0]}"
        panels.append(html.Section(html.Div(inner, className="wall-zoom",
                                            style={"zoom": screen.content_zoom}),
                                   className=cls, style=place, **{"data-region": panel.region}))
    grid = {"width": f"{screen.width}px", "height": f"{screen.height}px",
            "gridTemplateColumns": f"repeat({screen.columns}, minmax(0, 1fr))",
            "gridTemplateRows": f"repeat({screen.rows}, minmax(0, 1fr))",
            "gap": f"{screen.gap_px}px", "padding": f"{screen.gap_px}px"}
    return html.Div(html.Div(panels, id="wall-stage", className="wall-stage", style=grid,
                             **{"data-width": screen.width, "data-height": screen.height,
                                "data-layout": screen.name, "data-min-font": screen.min_font_px,
                                "data-server-now": server_now_ms}),
                    className="wall-viewport")
