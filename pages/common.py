"""What every page shares: the top bar and its navigation, the freshness of a screen,
the age after which it is stale, whether a store answers a kind of read, the area outlines,
and what a live tick sends (only the parts whose content changed since the last one).

Plain helpers: no page imports another page's internals; what two pages share lives here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dash
import pandas as pd
from dash import html
from plotly.io.json import to_json_plotly

from citybrain.catalogue import Indicator
from citybrain.i18n import t
from citybrain.memo import TtlMemo
from citybrain.scoring import STATUS_COLOURS, status
from components.shell import shell
from datasources.base import Frame, utcnow
from datasources.errors import BadQuery, DataSourceError, public
from service import runtime, scope
from service.runtime import Cockpit

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
    viewer = scope.current()
    signed_in = viewer.grants is not None   # a request the sign-in gate let through
    nav = [(p, t(k, lang)) for p, k in NAV if viewer.may(k)]   # only the pages the gate would open
    if signed_in and viewer.may("admin"):
        nav.append(("/admin", t("admin_nav", lang)))
    return shell(city=cfg.city.name_en if lang == "en" else cfg.city.name_zh,
                 page_title=t(title_key, lang), lang=lang, path=path, timezone=cfg.city.timezone,
                 nav=nav, freshness=freshness, lang_href=lang_href,
                 account=(viewer.who, str(viewer.extra.get("csrf", ""))) if signed_in else None)


# --- what a live tick sends: only the parts whose content changed since the last one -----------
def fingerprint(value: Any) -> str:
    """A short hash of ``value`` as Dash would send it (components, figures, patches)."""
    return hashlib.blake2b(to_json_plotly(value).encode(), digest_size=8).hexdigest()


def fingerprints(parts: Sequence[Any]) -> list[str]:
    """The fingerprint of each part."""
    return [fingerprint(p) for p in parts]


def only_changed(parts: Sequence[Any], new: Sequence[str], shown: Any) -> tuple[list[Any], Any]:
    """``parts`` with those the browser already shows (same fingerprint in ``shown``, at
    the same place) replaced by ``no_update``, and the prints to store (``no_update``
    when nothing changed). A ``shown`` that is not a list of the same length sends all."""
    if not isinstance(shown, list) or len(shown) != len(new):
        shown = [None] * len(new)
    out = [dash.no_update if old == print_ else part for part, print_, old in zip(parts, new, shown, strict=True)]
    changed = any(p is not dash.no_update for p in out)
    return out, (list(new) if changed else dash.no_update)


# --- freshness and what the stores answer -----------------------------------------------------
CONNECTED = TtlMemo(seconds=60.0)   # whether a store answers a kind of read: its config, not each tick


def max_age_s(cockpit: Cockpit, shown: list[Indicator]) -> float:
    """Seconds after which what shows ``shown`` is stale: ``heartbeat.stale_after`` times the
    slower of the tick and the fastest refresh among them."""
    beat = cockpit.config.heartbeat
    refresh = min((max(i.refresh_seconds, i.cadence) for i in shown), default=0)   # the data's own cadence
    return beat.stale_after * max(beat.tick_seconds, refresh)


def headline_age_s(cockpit: Cockpit) -> float:
    """The age limit of a screen of the city's headline and weighted indicators."""
    return max_age_s(cockpit, [i for i in cockpit.catalogue if i.weight > 0 or i.headline])


@dataclass
class Freshness:
    """The age of everything on screen: oldest as_of, stale if any read was."""

    as_of: datetime | None = None
    stale: bool = False
    errors: list[str] = field(default_factory=list)
    not_connected: str | None = None   # why the config connects no source for this part

    def add(self, frame: Frame[Any], *, dates_screen: bool = True) -> None:
        """Count ``frame`` in; history reads (``dates_screen=False``) only add staleness."""
        if dates_screen and not (frame.stale and _empty(frame.data)):
            self.as_of = frame.as_of if self.as_of is None else min(self.as_of, frame.as_of)
        self.stale = self.stale or frame.stale
        if frame.error:
            self.errors.append(frame.error)

    @classmethod
    def combine(cls, *parts: Freshness) -> Freshness:
        """The freshness of a screen made of ``parts``: the oldest, stale if any is."""
        dated = [p.as_of for p in parts if p.as_of is not None]
        return cls(min(dated) if dated else None, any(p.stale for p in parts),
                   [e for p in parts for e in p.errors])

    def to_store(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "stale": self.stale,
                "error": "; ".join(dict.fromkeys(public(e) for e in self.errors)) or None}   # no details


def _empty(data: Any) -> bool:
    return data.empty if isinstance(data, pd.DataFrame) else not data


def indicator_colour(ind: Indicator, value: float | None) -> str:
    """The status colour of one indicator's value."""
    return STATUS_COLOURS[status(ind, value)]


def events_missing(cockpit: Cockpit) -> str | None:
    """Why no events source can answer (the store has no events configured), or None when
    one can; an outage is not this: it shows as stale."""
    def probe() -> str:
        since = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1)
        try:
            cockpit.data.events(since)
        except BadQuery as exc:
            return str(exc)
        return ""
    return CONNECTED.get((cockpit.data, "events"), probe) or None


def now_utc() -> datetime:
    """The current time (a seam for tests)."""
    return utcnow()


# --- map layers and area outlines ---------------------------------------------------------------
AREA_LAYER = {"district": "districts", "street": "streets", "grid": "grids"}
LAYER_OF_LEVEL = {"city": "city", **AREA_LAYER}
OFFERS = TtlMemo(seconds=60.0)   # what the stores offer changes with their config, not each tick


def area_outline(cockpit: Cockpit, area_id: str, level: str) -> dict[str, Any] | None:
    """The GeoJSON geometry of an area, from its level's layer; None when it has none."""
    layer = cockpit.data.layer(LAYER_OF_LEVEL[level]).data
    return next((f["geometry"] for f in layer.get("features", []) if str(f.get("id")) == area_id), None)


def layer_missing(cockpit: Cockpit, name: str, *, live: bool = False) -> str | None:
    """Why the layers source cannot draw map layer ``name`` (with its live attributes when
    ``live``), or None when it can; an outage is not this, it shows as stale."""
    def probe(read: Any) -> str:
        try:
            read(name)
        except DataSourceError as exc:
            return str(exc)
        return ""
    reason = OFFERS.get((cockpit.data, "layer", name), lambda: probe(cockpit.data.layer))
    if not reason and live:
        reason = OFFERS.get((cockpit.data, "states", name), lambda: probe(cockpit.data.feature_states))
    return reason or None


# --- events ---------------------------------------------------------------------------------
def events_of_kind(events: pd.DataFrame, kind: str, since: datetime, area_ids: set[str] | None) -> pd.DataFrame:
    """The ``kind`` events reported since ``since`` (in ``area_ids`` when given)."""
    if events.empty:
        return events
    sel = events[(events.kind == kind) & (events.reported_at >= pd.Timestamp(since))]
    if area_ids is not None:
        sel = sel[sel.area_id.astype(str).isin(area_ids)]
    return sel
