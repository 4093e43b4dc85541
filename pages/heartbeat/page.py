"""城市心跳 — the city heartbeat, home of the cockpit, for a 1920×1080 dark big screen.

The composite city operation index, one pulse line per domain over the last hour, the
headline indicators and a ticker of the newest events; one tick every few seconds.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from citybrain.catalogue import DOMAINS
from citybrain.i18n import t, valid_lang
from citybrain.memo import TtlMemo
from components.heartbeat import pulse_rows
from components.panels import error_state, live_badge, panel
from components.ticker import TickAIO, beat_number
from pages.common import fingerprints, only_changed, top_bar
from pages.heartbeat.model import pulse_title
from pages.heartbeat.view import render
from service import runtime, scope

dash.register_page(__name__, path="/", name="城市心跳", title="城市心跳 · City heartbeat", order=0)

log = logging.getLogger(__name__)
# every screen ticking within the same second gets the same computed tick
TICKS = TtlMemo(seconds=1.0)


def layout(lang: str | None = None, kiosk: str | None = None, **_: Any) -> html.Div:
    """The page, rendered with live data so the first paint is already full; ``?kiosk=1``
    hides navigation for a wall."""
    lang = valid_lang(lang)
    cockpit = runtime.current()
    cfg = cockpit.config
    views = render(lang, initial=True)
    rows = pulse_rows(views["labels"], views["figures"], DOMAINS, id_type="hb-pulse")
    return html.Div([
        top_bar(lang, "/", "heartbeat", freshness=views["freshness"]),
        dcc.Store(id="hb-lang", data=lang),
        dcc.Store(id="hb-prints", data=None),
        TickAIO("hb", seconds=cfg.heartbeat.tick_seconds),
        html.Main([
            panel(t("city_index", lang), html.Div(views["index"], id="hb-index"),
                  html.Div(views["domains"], id="hb-domains"), class_name="hb-left"),
            panel(pulse_title(runtime.current(), lang), *rows,
                  class_name="hb-center"),
            panel(t("live_events", lang), html.Div(views["ticker"], id="hb-ticker"),
                  class_name="hb-right"),
            panel(t("headline", lang), html.Div(views["tiles"], id="hb-tiles"),
                  class_name="hb-bottom"),
        ], className="heartbeat-grid"),
    ], className="page page-heartbeat kiosk" if kiosk else "page page-heartbeat")


@callback(
    Output("hb-index", "children"), Output("hb-domains", "children"),
    Output("hb-tiles", "children"), Output("hb-ticker", "children"),
    Output({"type": "hb-pulse-label", "domain": ALL}, "children"),
    Output({"type": "hb-pulse", "domain": ALL}, "figure"),
    Output("shell-freshness", "children"), Output("hb-prints", "data"),
    Output(TickAIO.ids.ack("hb"), "data"),
    Input(TickAIO.ids.beat("hb"), "data"), State("hb-lang", "data"), State("hb-prints", "data"),
    prevent_initial_call=True,
)
def refresh_heartbeat(beat: Any, lang: str, shown: Any = None) -> tuple[Any, ...]:
    """One tick: every panel from one pass over the cache, only the changed ones sent; a
    failing part shows in its panel, and so does anything else that fails."""
    n = beat_number(beat)
    lang = valid_lang(lang)
    try:
        if runtime.current().config.heartbeat.share_ticks:
            parts, prints = TICKS.get((lang, scope.current().view_key), lambda: _tick(lang))
        else:
            parts, prints = _tick(lang)
    except Exception as exc:  # the screen shows what failed, never a blank or a dialog
        log.exception("heartbeat tick failed")
        parts = _failed(lang, str(exc))
        prints = fingerprints(parts)
    sent, prints = only_changed(parts, prints, shown)
    d = len(DOMAINS)
    return (*sent[:4], sent[4:4 + d], sent[4 + d:4 + 2 * d], sent[-1], prints, n)


def _tick(lang: str) -> tuple[list[Any], list[str]]:
    """The tick's outputs as one flat list (pulse labels and figures spread out), and
    their fingerprints."""
    v = render(lang, initial=False)
    parts = [v["index"], v["domains"], v["tiles"], v["ticker"], *v["labels"], *v["figures"],
             v["freshness"]]
    return parts, fingerprints(parts)


def _failed(lang: str, message: str) -> list[Any]:
    """The tick's outputs when the tick itself failed: the error in every panel."""
    msg = error_state(lang, message)
    return [msg] * (4 + len(DOMAINS)) + [dash.no_update] * len(DOMAINS) + [
        live_badge(None, lang, max_age_s=0, error=message)]
