"""The drill state of an analysis page, read from and written to its URL.

Everything a drill-down shows (indicator, area, period) lives in the query string, so a
link can be shared and the browser's back button walks back up. Every value is checked
against the catalogue, the area hierarchy and the calendar before it is used; none
reaches a query as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .areas import Area, AreaError, AreaTree
from .catalogue import Catalogue, Indicator
from .timegrain import Period, PeriodError, parse

# domain → the page that drills its indicators; others drill on /drill
DOMAIN_PAGES = {"traffic": "/traffic", "safety": "/safety"}


class DrillError(ValueError):
    """A URL parameter that names nothing the cockpit knows, with what and where."""


@dataclass(frozen=True)
class DrillState:
    indicator: Indicator
    area: Area
    period: Period
    live: bool           # no period given: today, rolling over at local midnight
    lang: str

    def href(self, path: str, **changes: str | None) -> str:
        """This page's URL with ``changes`` applied (``None`` drops a parameter)."""
        params: dict[str, str | None] = {
            "indicator": self.indicator.id, "area": self.area.id if self.area.parent_id else None,
            "period": None if self.live else self.period.key,
            "lang": "en" if self.lang == "en" else None}
        params.update(changes)
        return path + query(params)


def query(params: dict[str, str | None]) -> str:
    """``?a=1&b=2`` of the parameters that have a value (empty when none)."""
    kept = {k: v for k, v in params.items() if v}
    return "?" + urlencode(kept) if kept else ""


def drill_href(indicator: Indicator, *, area: str | None = None, period: str | None = None,
               lang: str = "zh") -> str:
    """Where an indicator's drill-down lives, opened at ``area`` (None: the whole city) and
    ``period``."""
    path = DOMAIN_PAGES.get(indicator.domain, "/drill")
    return path + query({"indicator": indicator.id, "area": area,
                         "period": period, "lang": "en" if lang == "en" else None})


def read_state(catalogue: Catalogue, tree: AreaTree, tz: ZoneInfo, now: datetime, *,
               indicator: str | None, area: str | None, period: str | None, lang: str,
               default_indicator: str | None = None) -> DrillState:
    """The drill state the URL asks for; :class:`DrillError` names the bad parameter."""
    wanted = indicator or default_indicator
    if not wanted:
        raise DrillError("parameter 'indicator': none given and the page has no indicators")
    if not isinstance(wanted, str) or wanted not in catalogue:
        known = ", ".join(i.id for i in list(catalogue)[:12])
        raise DrillError(f"parameter 'indicator': unknown indicator {wanted!r} (known: {known}, …)")
    ind = catalogue.get(wanted)
    try:
        where = tree.get(area if isinstance(area, str) else None)
    except AreaError as exc:
        raise DrillError(f"parameter 'area': {exc}") from None
    if where.level not in ind.levels:
        raise DrillError(f"parameter 'area': {ind.id!r} has no values at {where.level} level "
                         f"(it has {', '.join(ind.levels)})")
    try:
        when = parse(period if isinstance(period, str) else None, tz, now)
    except PeriodError as exc:
        raise DrillError(f"parameter 'period': {exc}") from None
    return DrillState(ind, where, when, live=not period, lang=lang)
