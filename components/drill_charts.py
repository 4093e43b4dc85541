"""Charts and breadcrumbs of a drill-down: bars that click one level down, paths that go up.

Each bar carries the key of what it stands for (an area id, a period key) in
``customdata``; the page's callback turns a click into the next URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dash import dcc, html

from citybrain.numbers import format_number

AXIS = {"gridcolor": "rgba(143,163,191,0.15)", "zerolinecolor": "rgba(143,163,191,0.25)",
        "color": "#8FA3BF", "automargin": True}
SELECTED_LINE = {"color": "#FFFFFF", "width": 2}


@dataclass(frozen=True)
class Bar:
    key: str            # what a click drills into (area id / period key)
    label: str
    value: float | None
    colour: str
    selected: bool = False


def graph_config(filename: str) -> dict[str, Any]:
    """Plotly's mode bar with PNG export named after the chart; no logo."""
    return {"displaylogo": False, "responsive": True,
            "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


def bar_figure(bars: Sequence[Bar], *, unit: str, decimals: int, target: float | None = None,
               horizontal: bool = False, compare: Sequence[float | None] | None = None,
               compare_name: str = "", name: str = "") -> dict[str, Any]:
    """A dark bar chart; ``compare`` draws a second series as a line (same hour last week…)."""
    labels = [b.label for b in bars]
    values = [b.value for b in bars]
    shown = [format_number(v, decimals) for v in values]
    main = {"type": "bar", "name": name, "x": values if horizontal else labels,
            "y": labels if horizontal else values, "orientation": "h" if horizontal else "v",
            "customdata": [b.key for b in bars],
            "marker": {"color": [b.colour for b in bars],
                       "line": {"color": ["#FFFFFF" if b.selected else "rgba(0,0,0,0)" for b in bars],
                                "width": [2 if b.selected else 0 for b in bars]}},
            # value labels only while they fit; a day of hours shows them on hover
            "text": [None if v is None or len(bars) > 16 else s for v, s in zip(values, shown, strict=True)],
            "textposition": "outside", "cliponaxis": False, "hovertext": shown,
            "hovertemplate": f"%{{{'y' if horizontal else 'x'}}}: %{{hovertext}} {unit}<extra></extra>"}
    data: list[dict[str, Any]] = [main]
    if compare is not None:
        data.append({"type": "scatter", "mode": "lines+markers", "name": compare_name,
                     "x": labels, "y": list(compare), "line": {"color": "#8FA3BF", "dash": "dot"},
                     "text": [format_number(v, decimals) for v in compare],
                     "hovertemplate": f"%{{x}}: %{{text}} {unit}<extra>{compare_name}</extra>"})
    shapes = []
    if target is not None and not horizontal:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target, "y1": target,
                       "line": {"color": "#3DDC97", "dash": "dash", "width": 1}})
    layout = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
              "font": {"color": "#DCE6F2", "size": 13}, "margin": {"l": 8, "r": 24, "t": 16, "b": 8},
              "xaxis": {**AXIS, "type": "category"} if not horizontal else dict(AXIS),
              "yaxis": dict(AXIS) if not horizontal else {**AXIS, "type": "category", "autorange": "reversed"},
              "showlegend": compare is not None, "legend": {"orientation": "h", "y": 1.12},
              "shapes": shapes, "bargap": 0.25, "clickmode": "event",
              # a click anywhere in a bar's column picks it, so a zero bar can be drilled too
              "hovermode": "y unified" if horizontal else "x unified"}
    return {"data": data, "layout": layout}


def drill_graph(graph_id: Any, figure: dict[str, Any], filename: str, height: int = 320) -> dcc.Graph:
    """A clickable chart with PNG export."""
    return dcc.Graph(id=graph_id, figure=figure, config=graph_config(filename),
                     style={"height": f"{height}px"}, className="drill-graph")


def breadcrumbs(items: Sequence[tuple[str, str | None]], class_name: str = "") -> html.Nav:
    """'云江市 › 东城区 › 东华街道': every item but the last links back up."""
    parts: list[Any] = []
    for n, (label, href) in enumerate(items):
        if n:
            parts.append(html.Span("›", className="crumb-sep"))
        last = n == len(items) - 1
        parts.append(html.Span(label, className="crumb crumb-current") if last or href is None
                     else dcc.Link(label, href=href, className="crumb"))
    return html.Nav(parts, className=f"breadcrumbs {class_name}".strip())
