"""大屏 — the video wall: a layout from layouts/, kiosk, scaled uniformly to the screen.

``/wall?layout=4k``: the layout is designed at its own resolution; assets/wall.js scales
the whole stage by one factor to fit the real screen, letterboxed when the aspect
differs, so text is never stretched and there is never a scrollbar.

Each panel has its own freshness badge, aged in the browser (stale once its data is
older than ``heartbeat.stale_after`` refresh periods). A tick (components/ticker.py) never
overlaps the previous one and sends only the panels whose content changed; anything that
fails shows in the panels it concerns, never as a blank screen.
"""

from __future__ import annotations

import logging
import time
from typing import Any, NamedTuple

import dash
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

import layouts
from citybrain.catalogue import DOMAINS
from citybrain.i18n import t, valid_lang
from citybrain.memo import TtlMemo
from citybrain.numbers import format_number
from components.heartbeat import indicator_tile, not_connected_badge, pulse_rows
from components.panels import error_state, live_badge
from components.ticker import TickAIO, beat_number
from components.wall import wall_stage
from pages.common import Freshness, fingerprints, headline_age_s, indicator_colour, max_age_s, only_changed
from pages.heartbeat import pulse_title, render
from service import runtime, scope
from service.kpi import readings, unconnected

dash.register_page(__name__, path="/wall", name="大屏", title="大屏 · Video wall", order=9)
log = logging.getLogger(__name__)
VIEWS = TtlMemo(seconds=1.0)   # every wall ticking in the same second shares one render
PANELS = TtlMemo(seconds=1.0)  # ... and, per layout, one set of panels and fingerprints


def layout(layout: str | None = None, lang: str | None = None, playlist: str | None = None,
           dwell: str | None = None, **_: Any) -> html.Div:
    """The wall for layout ``layout`` (default 1080p), or the rotation of ``playlist``
    (``dwell`` seconds overrides every item's, for previews)."""
    lang = valid_lang(lang)
    if playlist is not None:
        return _player(playlist, dwell, lang)
    try:
        screen = layouts.load(layout or "1080p")
    except layouts.LayoutError as exc:
        return html.Div(error_state(lang, str(exc), public=True), className="wall-error")
    cockpit = runtime.current()
    regions = [p.region for p in screen.panels]
    view = safe_view(regions, lang)
    return html.Div([
        dcc.Store(id="wall-regions", data=regions),
        dcc.Store(id="wall-lang", data=lang),
        dcc.Store(id="wall-prints", data=view.prints),
        TickAIO("wall", seconds=cockpit.config.heartbeat.tick_seconds),
        wall_stage(screen, view.contents, view.badges, title=t("app_title", lang), lang=lang,
                   timezone=cockpit.config.city.timezone, server_now_ms=round(time.time() * 1000),
                   city=cockpit.config.city.name_en if lang == "en" else cockpit.config.city.name_zh,
                   pulse_title=pulse_title(cockpit, lang)),
    ], className="wall-page")


def _player(name: str, dwell: str | None, lang: str) -> html.Div:
    items = runtime.current().config.playlists.get(name)
    if not items:
        known = ", ".join(sorted(runtime.current().config.playlists)) or "none"
        return html.Div(error_state(lang, f"no playlist {name!r}; the config has {known}", public=True),
                        className="wall-error")
    seconds = int(dwell) if dwell and dwell.isdigit() and int(dwell) > 0 else None
    return html.Div([
        html.Iframe(src=item.url, className="player-item active" if n == 0 else "player-item",
                    **{"data-dwell": seconds or item.dwell_seconds, "data-index": n})
        for n, item in enumerate(items)
    ] + [html.Div(t("paused", lang), id="player-paused", className="player-paused")],
        id="player", className="player")


class WallView(NamedTuple):
    """What every panel of a wall shows: its body, its badge, and their fingerprints."""

    contents: list[Any]
    badges: list[Any]
    prints: list[str]


@callback(Output({"type": "wall-panel", "part": ALL}, "children"),
          Output({"type": "wall-badge", "part": ALL}, "children"),
          Output("wall-prints", "data"), Output(TickAIO.ids.ack("wall"), "data"),
          Input(TickAIO.ids.beat("wall"), "data"), State("wall-regions", "data"),
          State("wall-lang", "data"), State("wall-prints", "data"), prevent_initial_call=True)
def refresh_wall(beat: Any, regions: Any, lang: Any, shown: Any) -> tuple[Any, ...]:
    """One tick: every panel from one shared render of the city; only the panels whose
    content changed since what the browser shows (``shown`` fingerprints) are sent."""
    n = beat_number(beat)
    panels = len(dash.ctx.outputs_list[0])   # the layout's panels, whatever ``regions`` says
    if len(dash.ctx.outputs_list[1]) != panels:   # not a request the wall's page makes
        raise PreventUpdate
    view = safe_view(regions, valid_lang(lang), panels)
    parts, prints = only_changed(list(zip(view.contents, view.badges, strict=True)), view.prints,
                                 shown)
    unchanged = dash.no_update
    return ([unchanged if p is unchanged else p[0] for p in parts],
            [unchanged if p is unchanged else p[1] for p in parts], prints, n)


def safe_view(regions: Any, lang: str, panels: int | None = None) -> WallView:
    """The wall's view of ``panels`` panels (default: one per region); when even that fails,
    the error in every panel (never a blank)."""
    count = panels if panels is not None else len(regions) if isinstance(regions, list) else 0
    if not isinstance(regions, list) or len(regions) != count or not all(isinstance(r, str) for r in regions):
        return _failed(count, lang, f"wall-regions: expected a list of {count} region names")
    try:
        return PANELS.get((lang, tuple(regions), scope.current().view_key), lambda: wall_view(regions, lang))
    except Exception as exc:  # a wall must never go blank, nor pop up a dialog
        log.exception("wall tick failed")
        return _failed(count, lang, str(exc))


def _failed(count: int, lang: str, error: str) -> WallView:
    """``error`` in each of ``count`` panels and badges."""
    contents = [error_state(lang, error)] * count
    badges = [live_badge(None, lang, max_age_s=0, error=error)] * count
    return WallView(contents, badges, fingerprints(list(zip(contents, badges, strict=True))))


def wall_view(regions: list[str], lang: str) -> WallView:
    """Each region's content and badge, in order; a failing region shows its error in place."""
    views = VIEWS.get((lang, scope.current().view_key), lambda: render(lang, initial=True))
    cockpit = runtime.current()
    contents, badges = [], []
    for region in regions:
        try:
            content, fresh = _region(region, views, lang)
        except Exception as exc:  # one region must never blank the wall
            log.exception("wall region %s failed", region)
            content, fresh = error_state(lang, str(exc)), Freshness(errors=[str(exc)])
        contents.append(content)
        if fresh.not_connected and fresh.as_of is None:   # 未接入, not "no data"
            badges.append(not_connected_badge(lang, fresh.not_connected))
            continue
        badges.append(live_badge(fresh.as_of, lang, max_age_s=max_age(region, cockpit),
                                 stale=fresh.stale, error=fresh.to_store()["error"], tz=cockpit.tz))
    return WallView(contents, badges, fingerprints(list(zip(contents, badges, strict=True))))


def max_age(region: str, cockpit: runtime.Cockpit) -> float:
    """Seconds after which a region's data is stale (see :func:`pages.common.max_age_s`)."""
    cat = cockpit.catalogue
    ind_id = region.split(":", 1)[1] if region.startswith("indicator:") else None
    return max_age_s(cockpit, [cat.get(ind_id)]) if ind_id in cat else headline_age_s(cockpit)


def _region(region: str, views: dict[str, Any], lang: str) -> tuple[Any, Freshness]:
    if region == "header":
        return None, views["parts"]["header"]
    if region == "pulse":
        return pulse_rows(views["labels"], views["figures"], DOMAINS), views["parts"]["pulse"]
    if region.startswith("indicator:"):
        return _indicator(region.split(":", 1)[1], lang)
    return views[region], views["parts"][region]


def _indicator(indicator_id: str, lang: str) -> tuple[Any, Freshness]:
    cockpit = runtime.current()
    fresh = Freshness()
    if indicator_id not in cockpit.catalogue:
        fresh.errors.append(f"unknown indicator {indicator_id!r}")
        return error_state(lang, fresh.errors[0]), fresh
    ind = cockpit.catalogue.get(indicator_id)
    frame, failure = None, None
    try:
        frame = cockpit.data.latest([ind.id], "city")
        fresh.add(frame)
    except Exception as exc:  # noqa: BLE001 - the tile shows the error state and why
        failure = str(exc)
        fresh.errors.append(failure)
    got = readings(frame, [ind], failure=failure,
                   not_connected=unconnected(cockpit.data, [ind], "city"))[ind.id]
    note = "" if ind.target is None else f"{t('target', lang)} {format_number(ind.target, ind.decimals)}"
    return indicator_tile(ind.name(lang), got.value, ind.unit_in(lang), ind.decimals,
                          indicator_colour(ind, got.value), note, state=got.state,
                          reason=got.reason, lang=lang), fresh
