"""The heartbeat's panels, computed once for the heartbeat page and the video wall.

A private module (the pages loader skips ``_`` files), so both pages import the same
code without the heartbeat page being loaded twice.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
from dash import Patch, html

from citybrain.catalogue import DOMAINS, Indicator
from citybrain.drill import drill_href
from citybrain.i18n import t
from citybrain.numbers import format_number
from components.heartbeat import (
    DomainScore,
    Tile,
    domain_scores,
    event_ticker,
    index_ring,
    kpi_strip,
    pulse_figure,
    pulse_range,
)
from components.panels import error_state, live_badge, not_connected
from pages.common import Freshness, events_missing, headline_age_s, indicator_colour, now_utc
from pages.heartbeat import model
from service import runtime
from service.kpi import Reading

log = logging.getLogger(__name__)


def render(lang: str, *, initial: bool) -> dict[str, Any]:
    """Every panel's content; ``initial`` builds whole figures, ticks send only new data."""
    cockpit = runtime.current()
    cat, cfg = cockpit.catalogue, cockpit.config
    now = now_utc()
    current, pulse, recent = Freshness(), Freshness(), Freshness()
    out: dict[str, Any] = {}
    try:
        snap = model.snapshot(cockpit)
        if snap.frame is not None:
            current.add(snap.frame)
            pulse.add(snap.frame)
        else:
            current.errors.append(str(snap.failure))
    except Exception as exc:  # one broken part must not blank the screen
        log.exception("heartbeat snapshot failed")
        snap = None
        current.errors.append(str(exc))
        out["index"] = out["domains"] = out["tiles"] = error_state(lang, str(exc))
    if snap is not None:
        out["index"] = index_ring(snap.index, snap.index_colour, t(f"status_{snap.index_status}", lang),
                                  t("index_parts", lang, used=snap.used, total=snap.total),
                                  note_title=model.left_out(cockpit, snap, lang))
        out["domains"] = domain_scores([
            DomainScore(d, t(f"domain_{d}", lang), snap.domains[d],
                        model.domain_colour(snap.domains[d], cockpit)) for d in DOMAINS])
        out["tiles"] = kpi_strip([_tile(i, snap.readings.get(i.id), lang) for i in cat if i.headline], lang)
    out["labels"], out["figures"] = _pulses(cockpit, lang, now, snap, pulse, initial)
    missing = events_missing(cockpit)
    try:
        if missing:
            out["ticker"] = not_connected(lang, missing, element_id="hb-ticker-missing")
        else:
            events, frame = model.newest_events(cockpit, now, cfg.heartbeat.ticker_events)
            recent.add(frame)
            out["ticker"] = event_ticker(events, lang, cockpit.tz)
    except Exception as exc:
        log.exception("heartbeat events failed")
        recent.errors.append(str(exc))
        out["ticker"] = error_state(lang, str(exc))
    recent.not_connected = missing
    fresh = Freshness.combine(current, pulse, recent)
    # how old each region's data is, for the wall's per-panel badges
    out["parts"] = {"index": current, "domains": current, "tiles": current, "pulse": pulse,
                    "ticker": recent, "header": fresh}
    out["freshness"] = live_badge(fresh.as_of, lang, max_age_s=headline_age_s(cockpit),
                                  stale=fresh.stale, error=fresh.to_store()["error"], tz=cockpit.tz)
    return out


def _tile(ind: Indicator, reading: Reading | None, lang: str) -> Tile:
    """A headline tile: the value in its status colour, or why there is none."""
    got = reading or Reading(None, "no_data", f"no value of {ind.id}")
    return Tile(ind.name(lang), got.value, ind.unit_in(lang), ind.decimals,
                indicator_colour(ind, got.value),
                "" if ind.target is None else f"{t('target', lang)} {format_number(ind.target, ind.decimals)}",
                drill_href(ind, lang=lang), got.state, got.reason)


def _pulses(cockpit: runtime.Cockpit, lang: str, now: Any, snap: model.Snapshot | None,
            fresh: Freshness, initial: bool) -> tuple[list[Any], list[Any]]:
    labels: list[Any] = []
    figures: list[Any] = []
    try:
        if snap is None:
            raise RuntimeError("no current values")
        p = model.pulses(cockpit, now, snap)
        fresh.add(p.frame, dates_screen=False)
    except Exception as exc:
        log.exception("heartbeat pulses failed")
        fresh.errors.append(str(exc))
        msg = error_state(lang, str(exc))
        return [msg] * len(DOMAINS), [dash.no_update] * len(DOMAINS)
    for d in DOMAINS:
        score = p.scores[d][-1]
        colour = model.domain_colour(score, cockpit)
        labels.append([html.Span(t(f"domain_{d}", lang), className="pulse-name"),
                       html.Span(format_number(score, 0), className="pulse-value",
                                 style={"color": colour})])
        line = model.DOMAIN_COLOURS[d]
        low, high = pulse_range(p.scores[d])
        if initial:
            figures.append(pulse_figure(p.times, p.scores[d], line, low=low, high=high))
        else:
            patch = Patch()
            patch["data"][0]["x"] = p.times
            patch["data"][0]["y"] = p.scores[d]
            patch["layout"]["yaxis"]["range"] = [low, high]
            figures.append(patch)
    return labels, figures
