"""Checking the rows a store hands back: the good rows pass, the bad are counted by reason.

Real stores send missing columns, NaN, text in numbers, coordinates off the planet and
area ids nobody knows. Each adapter passes its rows through these functions; rejects
are logged and counted in :class:`RejectCounter`, which ``/health`` shows.

What counts as a number: ints, floats and decimals, and numbers written as text ("12",
" 3.5"), since Redis, CSV files and many HTTP APIs hand every value over as text. Not a
number: booleans (``true`` is not 1), other text, NaN, ±infinity. Above the adapters,
:class:`Plausibility` holds every value to its indicator's ``valid`` range (or the
magnitude limit), so a store's ±1e308 never reaches a tile or the city index.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator

log = logging.getLogger(__name__)


class RejectCounter:
    """Thread-safe counts of rejected rows by (what, reason)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, source: str, what: str, reason: str, n: int = 1, example: Any = None) -> None:
        """Count ``n`` rejected rows of ``what`` for ``reason`` and log one example."""
        if n <= 0:
            return
        with self._lock:
            self._counts[(what, reason)] += n
        log.warning("%s: rejected %d %s row(s): %s%s", source, n, what, reason,
                    f" (e.g. {example!r})" if example is not None else "")

    def to_json(self) -> dict[str, dict[str, int]]:
        """{what: {reason: count}} for /health."""
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            for (what, reason), n in sorted(self._counts.items()):
                out.setdefault(what, {})[reason] = n
        return out

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


def clean_values(data: pd.DataFrame, *, source: str, what: str, rejects: RejectCounter,
                 required: Sequence[str], known_areas: Collection[str] | None = None,
                 ts_column: str = "ts") -> pd.DataFrame:
    """Rows with every required column, a numeric finite ``value``, a parseable time
    and, when ``known_areas`` is given, a known ``area_id``. Times become aware UTC."""
    missing = [c for c in required if c not in data.columns]
    if missing:
        rejects.add(source, what, f"missing column(s) {', '.join(missing)}", len(data) or 1,
                    example=list(data.columns))
        return pd.DataFrame(columns=list(required))
    out = data.copy()
    for column in (c for c in required if c not in ("value", ts_column)):
        absent = out[column].isna() | (out[column].astype(str).str.strip() == "")
        rejects.add(source, what, f"{column} is missing", int(absent.sum()))
        out = out[~absent]
    if "value" in required:
        boolean = booleans(out["value"])
        rejects.add(source, what, "value is a boolean, not a number", int(boolean.sum()),
                    example=_first(out.loc[boolean, "value"]))
        out = out[~boolean]
        numeric = pd.to_numeric(out["value"], errors="coerce")
        blank = out["value"].astype(str).str.strip().str.lower().isin(["nan", "none", "null", ""])
        text = numeric.isna() & out["value"].notna() & ~blank
        rejects.add(source, what, "value is not a number", int(text.sum()),
                    example=_first(out.loc[text, "value"]))
        nan = numeric.isna() & ~text
        rejects.add(source, what, "value is missing or NaN", int(nan.sum()))
        infinite = numeric.abs() == float("inf")
        rejects.add(source, what, "value is infinite", int(infinite.sum()))
        out["value"] = numeric
        out = out[numeric.notna() & ~infinite]
    if ts_column in required:
        stamps = pd.to_datetime(out[ts_column], errors="coerce", utc=True)
        bad = stamps.isna()
        rejects.add(source, what, f"{ts_column} is not a time", int(bad.sum()),
                    example=_first(out.loc[bad, ts_column]))
        out[ts_column] = stamps
        out = out[~bad]
    if known_areas is not None and "area_id" in out.columns:
        out["area_id"] = out["area_id"].astype(str)
        unknown = ~out["area_id"].isin(known_areas)
        rejects.add(source, what, "unknown area id", int(unknown.sum()),
                    example=_first(out.loc[unknown, "area_id"]))
        out = out[~unknown]
    return out.reset_index(drop=True)


def clean_points(data: pd.DataFrame, *, source: str, what: str,
                 rejects: RejectCounter) -> pd.DataFrame:
    """Rows whose lon / lat are numbers on the planet (−180..180, −90..90)."""
    if "lon" not in data.columns or "lat" not in data.columns:
        rejects.add(source, what, "missing column(s) lon, lat", len(data) or 1)
        return data.iloc[0:0]
    lon = pd.to_numeric(data["lon"], errors="coerce")
    lat = pd.to_numeric(data["lat"], errors="coerce")
    off = lon.isna() | lat.isna() | (lon.abs() > 180) | (lat.abs() > 90)
    rejects.add(source, what, "coordinates missing or off the planet", int(off.sum()),
                example=_first(data.loc[off, ["lon", "lat"]].map(str).agg(",".join, axis=1)))
    out = data[~off].copy()
    out["lon"], out["lat"] = lon[~off], lat[~off]
    return out.reset_index(drop=True)


def booleans(values: pd.Series) -> pd.Series:
    """Which entries are booleans (``True`` is not a 1)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(True, index=values.index)
    if values.dtype != object:
        return pd.Series(False, index=values.index)
    return values.map(lambda v: isinstance(v, bool | np.bool_)).astype(bool)


class Plausibility:
    """Values an indicator cannot take, taken out and counted per indicator and reason.

    Rows (``indicator``, ``value`` and perhaps the columns a roll-up reads) pass when the
    value is a finite number (text that reads as one included) within the indicator's
    bounds; a row without a value passes only when another of its columns has a number
    (a ratio's numerator and denominator), whose infinities and booleans are blanked; such
    a row with no number at all is an area without facts, left out and not counted.
    A fetch (``fetch``: what identifies one store read, e.g. its time) is checked and
    counted once; its cached re-reads get the same rows back.
    """

    def __init__(self, indicators: Iterable[Indicator], rejects: RejectCounter | None = None,
                 remember: int = 64) -> None:
        bounds = {i.id: i.bounds for i in indicators}
        self.low = {k: lo for k, (lo, _hi) in bounds.items()}
        self.high = {k: hi for k, (_lo, hi) in bounds.items()}
        self.rejects = rejects or RejectCounter()
        # the checked rows of the last fetches: a cache hit is not checked (or counted) again
        self._seen: OrderedDict[Hashable, pd.DataFrame | None] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()

    def check(self, rows: pd.DataFrame, *, source: str, what: str, fetch: Hashable = None,
              keep_missing: bool = False) -> pd.DataFrame:
        """``rows`` without the implausible ones; each reason counted once per ``fetch``.
        With ``keep_missing`` a row without a value stays (a roll-up's "no value")."""
        if rows.empty or "value" not in rows.columns or "indicator" not in rows.columns:
            return rows
        key = (source, what, fetch)
        if fetch is not None:
            with self._lock:
                if key in self._seen:   # the same fetch again (a cache hit): the same answer
                    self._seen.move_to_end(key)
                    kept = self._seen[key]
                    return rows if kept is None else kept.copy()
        out = self._check(rows, source=source, what=what, keep_missing=keep_missing)
        if fetch is not None:
            with self._lock:   # nothing taken out: remember just that
                self._seen[key] = None if out is rows else out
                while len(self._seen) > self._remember:
                    self._seen.popitem(last=False)
        return out

    def _check(self, rows: pd.DataFrame, *, source: str, what: str, keep_missing: bool) -> pd.DataFrame:
        value = rows["value"]
        boolean = booleans(value)
        numeric = pd.to_numeric(value.where(~boolean), errors="coerce").astype(float)
        text = numeric.isna() & value.notna() & ~boolean
        if text.any():
            text &= ~_blank(value)
        infinite = np.isinf(numeric)
        ids = rows["indicator"].astype(str)
        low, high = ids.map(self.low).astype(float), ids.map(self.high).astype(float)
        below, above = ~infinite & (numeric < low), ~infinite & (numeric > high)
        out = rows if value.dtype == float and not infinite.any() else rows.assign(value=numeric.where(~infinite))
        extras = [c for c in rows.columns if c not in ("indicator", "area_id", "ts", "value")]
        for column in extras:
            blanked = self._blank_bad(rows[column], ids, source, what)
            if blanked is not rows[column]:
                out = out.assign(**{column: blanked})
        has_extra = out[extras].notna().any(axis=1) if extras else pd.Series(False, index=rows.index)
        # no number at all: a plain value's NaN is counted; a roll-up's row with none in any
        # column is an area without facts (a grid without a car park), left out uncounted
        empty = numeric.isna() & ~boolean & ~text & ~has_extra & (not keep_missing)
        nan = empty & (not extras)
        bad = boolean | text | infinite | below | above | empty
        if bad.any():
            for reason, mask in (("value is a boolean, not a number", boolean),
                                 ("value is not a number", text), ("value is missing or NaN", nan),
                                 ("value is infinite", infinite),
                                 ("value below the valid minimum", below),
                                 ("value above the valid maximum", above)):
                self._count(ids, value, mask, source, what, reason)
        return out[~bad] if bad.any() else out

    def _blank_bad(self, column: pd.Series, ids: pd.Series, source: str, what: str) -> pd.Series:
        """A roll-up's input column with its booleans and infinities blanked (text stays:
        a road class is a column too)."""
        if pd.api.types.is_bool_dtype(column.dtype):
            bad = pd.Series(True, index=column.index)
        elif pd.api.types.is_numeric_dtype(column.dtype):
            bad = pd.Series(np.isinf(column.to_numpy(float)), index=column.index)
        elif column.dtype == object:
            bad = column.map(lambda v: isinstance(v, bool | np.bool_)
                             or (isinstance(v, float) and math.isinf(v))).astype(bool)
        else:
            return column
        if not bad.any():
            return column
        self._count(ids, column, bad, source, what, f"{column.name} is a boolean or infinite (left out)")
        return column.astype(object).where(~bad) if column.dtype == object else \
            column.astype(float).where(~bad)

    def _count(self, ids: pd.Series, values: pd.Series, mask: pd.Series, source: str, what: str,
               reason: str) -> None:
        if not mask.any():
            return
        for ind, n in ids[mask].value_counts(sort=False).items():
            example = values[mask & (ids == ind)].iloc[0]
            self.rejects.add(source, f"{what} {ind}", reason, int(n), example=example)

    def problems(self) -> list[str]:
        """One line per indicator and reason with values rejected so far."""
        return [f"{what}: {n} value(s) rejected ({reason})"
                for what, reasons in self.rejects.to_json().items() for reason, n in reasons.items()]


def _blank(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower().isin(["nan", "none", "null", ""])


def unknown_keys(given: Collection[str], allowed: Collection[str], *, prefix: str = "",
                 what: str) -> list[str]:
    """One problem per key of ``given`` that ``allowed`` does not know, for config checks."""
    known = ", ".join(sorted(allowed))
    return [f"{prefix}{k}: no such key of {what} (expected one of {known})"
            for k in sorted(set(given) - set(allowed))]


def _first(series: pd.Series) -> Any:
    return None if series.empty else series.iloc[0]
