"""指标下钻 — the drill-down of any indicator whose domain has no page of its own
(environment, energy, facilities, services, economy): its domain's KPI cards, bars by
area and by time, and the rows behind them."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from citybrain.i18n import valid_lang
from pages.drill.view import drill_page
from service import runtime

dash.register_page(__name__, path="/drill", name="指标下钻", title="指标下钻 · Drill-down", order=6)


def layout(lang: str | None = None, **params: Any) -> html.Div:
    lang = valid_lang(lang)
    cat = runtime.current().catalogue
    wanted = params.get("indicator")
    domain = cat.get(wanted).domain if isinstance(wanted, str) and wanted in cat else None
    indicators = cat.in_domain(domain) if domain else list(cat)[:1]
    return drill_page("/drill", "drill_page", lang, params, indicators=indicators)
