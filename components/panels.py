"""Panels, freshness badges and the small pieces every page is built from.

Components take plain values and return layout; they never fetch.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dash import html

from citybrain.i18n import t
from datasources.errors import on_screen, public


def panel(title: str, *children: Any, panel_id: str | None = None, badge: Any = None,
          class_name: str = "") -> html.Section:
    """A titled dark panel; ``badge`` sits at the right of the title (freshness, counts)."""
    head = html.Header([html.H2(title, className="panel-title"),
                        html.Div(badge, className="panel-badge")], className="panel-head")
    kwargs = {"id": panel_id} if panel_id else {}
    return html.Section([head, html.Div(list(children), className="panel-body")],
                        className=f"panel {class_name}".strip(), **kwargs)


def age_text(as_of: datetime, now: datetime, lang: str) -> str:
    """'12 s ago' / '3 min ago' in ``lang``."""
    seconds = max(0, int((now - as_of) / timedelta(seconds=1)))
    return t("ago_s", lang, n=seconds) if seconds < 120 else t("ago_m", lang, n=seconds // 60)


def freshness_badge(as_of: datetime | None, now: datetime, lang: str, *, stale: bool = False,
                    error: str | None = None, tz: Any = None) -> html.Span:
    """As-of time and age of a panel's data; stale data looks stale and says why."""
    if as_of is None:
        return html.Span(t("no_data", lang), className="badge badge-stale", title=_hover(error))
    local = as_of.astimezone(tz) if tz else as_of
    text = f"{t('updated', lang)} {local:%H:%M:%S} · {age_text(as_of, now, lang)}"
    if stale:
        return html.Span([html.Span(t("stale", lang), className="badge-flag"), text],
                         className="badge badge-stale", title=_hover(error))
    return html.Span(text, className="badge badge-fresh")


def live_badge(as_of: datetime | None, lang: str, *, max_age_s: float, stale: bool = False,
               error: str | None = None, tz: Any = None) -> html.Span:
    """A panel's as-of time that ages in the browser: assets/stale.js writes its age each
    second and flags it stale once older than ``max_age_s``, also when the server can no
    longer say so. ``stale`` (the store served its last good value) flags it at once."""
    flag = html.Span(t("stale", lang), className="badge-flag")
    if as_of is None:
        return html.Span([flag, t("no_data", lang)], className="badge live-badge badge-stale",
                         title=_hover(error))
    local = as_of.astimezone(tz) if tz else as_of
    return html.Span(
        [flag, f"{t('updated', lang)} {local:%H:%M:%S}", html.Span(className="badge-age")],
        className=f"badge live-badge {'badge-stale' if stale else 'badge-fresh'}", title=_hover(error),
        **{"data-as-of": round(as_of.timestamp() * 1000), "data-max-age": round(max_age_s * 1000),
           "data-ago-s": t("ago_s", lang, n="{n}"), "data-ago-m": t("ago_m", lang, n="{n}")})


def error_state(lang: str, message: BaseException | str, *, public: bool = False) -> html.Div:
    """What a panel shows when its callback could not produce data: a short category and
    a reference, the details logged under it (:func:`datasources.errors.public`). Only a
    ``public`` message (our own words about the request, e.g. a bad URL parameter) is shown
    as it is."""
    shown = str(message) if public else on_screen(message, lang)
    return html.Div([html.Div(t("error_panel", lang), className="error-title"),
                     html.Div(shown, className="error-detail")], className="panel-error")


def _hover(error: str | None) -> str:
    """A badge's hover text for ``error``: its category and reference, never its details."""
    return public(error) if error else ""


def shown_reason(reason: str | None, state: str) -> str:
    """Why a value is stale or missing, as a screen may say it: a failure (``state`` error
    or stale) by its category and reference; any other reason (not connected) as it is."""
    if not reason:
        return ""
    return public(reason) if state in ("error", "stale") else reason


NOT_CONNECTED = {"zh": "未接入", "en": "Not connected"}


def not_connected(lang: str, reason: str, *, element_id: str | None = None) -> html.Div:
    """What a panel shows when no store of this site can answer it: not an error, not
    zero; the reason is on hover."""
    kwargs = {"id": element_id} if element_id else {}
    return html.Div(NOT_CONNECTED["en" if lang == "en" else "zh"], className="panel-not-connected",
                    title=reason, **kwargs)


def status_dot(colour: str) -> html.Span:
    """A small round status light."""
    return html.Span(className="status-dot", style={"background": colour})
