"""One drill read: the state a drill URL (or a drill page's store) asks for, checked, and
every value the drill view shows, in one call.

The page hands over the raw URL parameters; this module validates them against the
catalogue, the hierarchy and the calendar (:func:`citybrain.drill.read_state`), picks the
areas and periods of both charts, and reads the KPI cards and the period values through
the data service. Each part that fails is reported on its own, so the rest still shows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from citybrain.areas import Area, AreaTree
from citybrain.catalogue import Indicator
from citybrain.drill import DrillState, read_state
from citybrain.timegrain import Period

from .kpi import Kpi, read_kpis
from .period_values import PeriodValues, period_values
from .runtime import Cockpit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrillValues:
    """What both drill charts and the grid show: children of the area × children of the period."""

    areas: list[Area]      # the bars of the area chart (the area's children; its siblings at the leaf)
    span: Period           # the period whose children are the time chart's bars
    values: PeriodValues   # for the area itself and ``areas``, by bucket and over the period


@dataclass(frozen=True)
class DrillRead:
    """A checked drill state and what was read for it; a failed part keeps its error."""

    state: DrillState
    tree: AreaTree
    cards: list[Indicator] = field(default_factory=list)
    kpis: list[Kpi] | None = None
    kpis_error: Exception | None = None
    values: DrillValues | None = None
    values_error: Exception | None = None


def read(cockpit: Cockpit, params: Mapping[str, Any], now: datetime, *, lang: str,
         cards: Sequence[Indicator] = (), kpis: bool = True, values: bool = True) -> DrillRead:
    """The drill of ``params`` (indicator, area, period): the state, checked (a
    :class:`~citybrain.drill.DrillError` names a bad parameter), the KPI cards of ``cards``
    that exist at the area's level, and the values of both charts."""
    tree = AreaTree(cockpit.data.areas().data)
    state = read_state(cockpit.catalogue, tree, cockpit.tz, now, indicator=params.get("indicator"),
                       area=params.get("area"), period=params.get("period"), lang=lang,
                       default_indicator=cards[0].id if cards else None)
    shown = [i for i in cards if state.area.level in i.levels] or [state.indicator]
    if state.indicator not in shown:
        shown = [state.indicator, *shown]
    cards_read = kpis_error = values_read = values_error = None
    if kpis:
        try:
            cards_read = read_kpis(cockpit.data, shown, state.area.id, state.area.level, now)
        except Exception as exc:  # the rest of the page still shows
            log.exception("KPI cards of the drill failed")
            kpis_error = exc
    if values:
        try:
            values_read = _values(cockpit, tree, state, now)
        except Exception as exc:
            log.exception("drill values failed")
            values_error = exc
    return DrillRead(state, tree, shown, cards_read, kpis_error, values_read, values_error)


def _values(cockpit: Cockpit, tree: AreaTree, state: DrillState, now: datetime) -> DrillValues:
    ind, area, period = state.indicator, state.area, state.period
    children = [a for a in tree.children(area) if a.level in ind.levels]
    areas = children or tree.siblings(area)
    span = period if period.grain != "hour" else period.parent   # type: ignore[assignment]
    ids = list(dict.fromkeys([area.id, *[a.id for a in areas]]))
    return DrillValues(areas, span, period_values(cockpit.data, ind, ids, period, span.children(now), now))
