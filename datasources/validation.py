"""Checking the rows a store hands back: the good rows pass, the bad are counted by reason.

Real stores send missing columns, NaN, text in numbers, coordinates off the planet and
area ids nobody knows. Each adapter passes its rows through these functions; rejects
are logged and counted in :class:`RejectCounter`, which ``/health`` shows.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd

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


def unknown_keys(given: Collection[str], allowed: Collection[str], *, prefix: str = "",
                 what: str) -> list[str]:
    """One problem per key of ``given`` that ``allowed`` does not know, for config checks."""
    known = ", ".join(sorted(allowed))
    return [f"{prefix}{k}: no such key of {what} (expected one of {known})"
            for k in sorted(set(given) - set(allowed))]


def _first(series: pd.Series) -> Any:
    return None if series.empty else series.iloc[0]
