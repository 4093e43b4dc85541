"""What a drill-down shows for one drill read: bars by area, bars by time, the rows behind.

The values come from one call to :func:`service.drill.read` (the area chart shows the
children of the chosen area, its siblings once at the leaf; the time chart the periods
one grain below the chosen one); this module only shapes them, so both charts and the
grid always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from citybrain.areas import Area, AreaTree
from citybrain.drill import DrillState
from citybrain.i18n import t
from citybrain.numbers import round_half_up
from citybrain.scoring import STATUS_COLOURS
from citybrain.scoring import status as indicator_status
from citybrain.timegrain import Period
from components.drill_charts import Bar
from service.drill import DrillValues
from service.kpi import thresholds_apply
from service.period_values import PeriodValues

NEUTRAL = "#4FA3FF"
GRID_COLUMNS = ["indicator", "area_id", "area", "level", "period", "bucket", "value", "unit"]


@dataclass(frozen=True)
class DrillView:
    state: DrillState
    areas: list[Area]              # the bars of the area chart
    span: Period                   # the period whose children are the time chart's bars
    values: PeriodValues
    area_bars: list[Bar]
    time_bars: list[Bar]
    rows: pd.DataFrame             # GRID_COLUMNS


def build_view(state: DrillState, tree: AreaTree, read: DrillValues, now: datetime) -> DrillView:
    """The bars and rows of ``state`` from the values the drill read gave."""
    area, period, values, lang = state.area, state.period, read.values, state.lang
    area_bars = [Bar(a.id, a.name(lang), _value(values.totals, a.id),
                     _colour(state, a, _value(values.totals, a.id)), selected=a.id == area.id)
                 for a in read.areas]
    mine = values.table[values.table.area_id == area.id].set_index("bucket").value
    time_bars = [Bar(b.key, _running(b, now, lang), _value(mine, b.key), NEUTRAL, selected=b.key == period.key)
                 for b in values.buckets]
    return DrillView(state, read.areas, read.span, values, area_bars, time_bars,
                     _rows(state, tree, values, lang))


def _running(bucket: Period, now: datetime, lang: str) -> str:
    """A bar's label, marked when its period still runs: its total is so far, not final."""
    label = bucket.bucket_label(lang)
    return f"{label}{t('so_far', lang)}" if bucket.contains(now) else label


def _rows(state: DrillState, tree: AreaTree, values: PeriodValues, lang: str) -> pd.DataFrame:
    """One row per area and bucket: the numbers behind both charts."""
    if values.table.empty:
        return pd.DataFrame(columns=GRID_COLUMNS)
    names = tree.names(lang)
    labels = {b.key: b.label(lang) for b in values.buckets}
    table = values.table.copy()
    table["indicator"] = state.indicator.name(lang)
    table["area"] = table.area_id.map(names)
    table["level"] = table.area_id.map(lambda a: tree.get(a).level)
    table["period"] = table.bucket.map(labels)
    decimals = state.indicator.decimals   # the grid and its exports show what the cards show
    table["value"] = table.value.map(lambda v: round_half_up(v, decimals)).astype(float)
    table["unit"] = state.indicator.unit_in(lang)
    return table[GRID_COLUMNS].reset_index(drop=True)


def _value(series: pd.Series, key: str) -> float | None:
    value = series.get(key) if key in series.index else None
    return None if value is None or pd.isna(value) else float(value)


def _colour(state: DrillState, area: Area, value: float | None) -> str:
    """Status colour where the thresholds apply (city-level thresholds do not fit the
    parts of an indicator that sums up, so those bars stay neutral)."""
    if not thresholds_apply(state.indicator, area.level):
        return NEUTRAL
    status = indicator_status(state.indicator, value)
    return NEUTRAL if status == "unknown" else STATUS_COLOURS[status]
