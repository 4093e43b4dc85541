"""The pages in the top bar's navigation, and the top bar as every page builds it."""

from __future__ import annotations

from typing import Any

from dash import html

from citybrain import runtime
from citybrain.i18n import t
from components.shell import shell

NAV: list[tuple[str, str]] = [
    ("/", "heartbeat"),
    ("/map", "map"),
    ("/traffic", "traffic"),
    ("/safety", "safety"),
    ("/cockpit", "cockpit"),
    ("/explore", "explore"),
]


def top_bar(lang: str, path: str, title_key: str, *, freshness: Any = None,
            lang_href: str | None = None) -> html.Header:
    """The shared top bar for page ``path`` titled with i18n key ``title_key``."""
    cfg = runtime.current().config
    return shell(city=cfg.city.name_en if lang == "en" else cfg.city.name_zh,
                 page_title=t(title_key, lang), lang=lang, path=path, timezone=cfg.city.timezone,
                 nav=[(p, t(k, lang)) for p, k in NAV], freshness=freshness, lang_href=lang_href)
