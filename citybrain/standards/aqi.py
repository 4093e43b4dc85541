"""China's air quality index per HJ 633-2012 (环境空气质量指数 (AQI) 技术规定).

Each pollutant's sub-index (IAQI) is piecewise linear between the concentration breakpoints
of Table 1 (segment ``BP_lo <= C < BP_hi``) and rounded up to an integer (进位取整);
concentrations above the top breakpoint give 500. The AQI is the largest IAQI, reported in
six categories with the standard's colours (Appendix A); the primary pollutants are those
whose IAQI equals the AQI, named only when the AQI exceeds 50.

Two notes of Table 1 are applied: a 1-hour SO2 above 800 µg/m³ is indexed with the 24-hour
table, and an 8-hour O3 above 800 µg/m³ with the 1-hour table (in :func:`daily_aqi` the
1-hour O3 sub-index replaces it when given). The real-time hourly AQI uses the 1-hour tables
of SO2, NO2, CO and O3 and the 24-hour tables of PM10 and PM2.5, which callers feed with
moving 24-hour means. Concentrations are µg/m³, CO in mg/m³.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Literal

import numpy as np
import numpy.typing as npt

Period = Literal["1h", "8h", "24h"]

POLLUTANTS = ("so2", "no2", "pm10", "co", "o3", "pm25")
IAQI_LEVELS = (0, 50, 100, 150, 200, 300, 400, 500)
BREAKPOINTS: dict[tuple[str, str], tuple[float, ...]] = {
    ("so2", "24h"): (0, 50, 150, 475, 800, 1600, 2100, 2620),
    ("so2", "1h"): (0, 150, 500, 650, 800),
    ("no2", "24h"): (0, 40, 80, 180, 280, 565, 750, 940),
    ("no2", "1h"): (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    ("pm10", "24h"): (0, 50, 150, 250, 350, 420, 500, 600),
    ("co", "24h"): (0, 2, 4, 14, 24, 36, 48, 60),
    ("co", "1h"): (0, 5, 10, 35, 60, 90, 120, 150),
    ("o3", "1h"): (0, 160, 200, 300, 400, 800, 1000, 1200),
    ("o3", "8h"): (0, 100, 160, 215, 265, 800),
    ("pm25", "24h"): (0, 35, 75, 115, 150, 250, 350, 500),
}
# tables that stop short of IAQI 500 hand over to another table above their last breakpoint
_FALLBACK = {("so2", "1h"): ("so2", "24h"), ("o3", "8h"): ("o3", "1h")}


@dataclass(frozen=True)
class AqiCategory:
    """One of the six AQI categories (level 1 优 … 6 严重污染)."""

    level: int
    name_zh: str
    name_en: str
    colour: str


CATEGORIES = (
    AqiCategory(1, "优", "Excellent", "#00E400"),
    AqiCategory(2, "良", "Good", "#FFFF00"),
    AqiCategory(3, "轻度污染", "Lightly polluted", "#FF7E00"),
    AqiCategory(4, "中度污染", "Moderately polluted", "#FF0000"),
    AqiCategory(5, "重度污染", "Heavily polluted", "#99004C"),
    AqiCategory(6, "严重污染", "Severely polluted", "#7E0023"),
)
CATEGORY_TOPS = (50, 100, 150, 200, 300)   # the highest AQI of each category but the last


@dataclass(frozen=True)
class AqiResult:
    """An AQI with its category, primary pollutants and every sub-index computed."""

    aqi: int
    category: AqiCategory
    primary: tuple[str, ...]
    iaqi: dict[str, int] = field(default_factory=dict)


def _table(pollutant: str, period: str) -> tuple[float, ...]:
    try:
        return BREAKPOINTS[(pollutant, period)]
    except KeyError:
        raise ValueError(f"no {period} breakpoints for pollutant {pollutant!r} in HJ 633-2012; "
                         f"pollutants are {', '.join(POLLUTANTS)}") from None


def _raw_iaqi(pollutant: str, conc: np.ndarray, period: str) -> np.ndarray:
    """Un-rounded sub-index: linear within a segment, 500 above the full tables."""
    table = _table(pollutant, period)
    value = np.interp(conc, table, IAQI_LEVELS[: len(table)])
    fallback = _FALLBACK.get((pollutant, period))
    if fallback is None:
        return value
    return np.where(conc > table[-1], _raw_iaqi(fallback[0], conc, fallback[1]), value)


def _ceil(x: np.ndarray) -> np.ndarray:
    """Round up, ignoring floating-point dust just above an integer."""
    return np.ceil(np.round(x, 9))


def _checked(pollutant: str, concentration: float | npt.ArrayLike) -> np.ndarray:
    conc = np.asarray(concentration, dtype=float)
    if conc.ndim == 0:
        c = float(conc)
        if math.isnan(c) or c < 0:
            raise ValueError(f"{pollutant} concentration must be a non-negative number, got {c}")
    elif np.any(conc < 0):
        bad = float(conc[conc < 0].flat[0])
        raise ValueError(f"{pollutant} concentrations must be non-negative, got {bad}")
    return conc


def iaqi(pollutant: str, concentration: float | npt.ArrayLike, period: Period) -> int | np.ndarray:
    """The IAQI of ``concentration``, rounded up: an int for a scalar, a float array for arrays.

    NaN propagates through arrays; a scalar NaN or any negative value raises ValueError.
    """
    _table(pollutant, period)
    conc = _checked(pollutant, concentration)
    value = _ceil(_raw_iaqi(pollutant, conc, period))
    return int(value) if conc.ndim == 0 else value


def category(aqi_value: float) -> AqiCategory:
    """The category of an AQI value: 0–50 优, 51–100 良, … >300 严重污染."""
    if math.isnan(aqi_value) or aqi_value < 0:
        raise ValueError(f"AQI must be a non-negative number, got {aqi_value}")
    for top, cat in zip(CATEGORY_TOPS, CATEGORIES, strict=False):
        if aqi_value <= top:
            return cat
    return CATEGORIES[-1]


def _result(sub: dict[str, int]) -> AqiResult:
    if not sub:
        raise ValueError("no pollutant concentrations given")
    value = max(sub.values())
    primary = tuple(p for p, v in sub.items() if v == value) if value > 50 else ()
    return AqiResult(value, category(value), primary, sub)


_DAILY: dict[str, tuple[str, Period]] = {
    "so2": ("so2", "24h"), "no2": ("no2", "24h"), "pm10": ("pm10", "24h"),
    "co": ("co", "24h"), "pm25": ("pm25", "24h"), "o3_8h": ("o3", "8h"), "o3": ("o3", "1h"),
}
_HOURLY: dict[str, tuple[str, Period]] = {
    "so2": ("so2", "1h"), "no2": ("no2", "1h"), "co": ("co", "1h"), "o3": ("o3", "1h"),
    "pm10": ("pm10", "24h"), "pm25": ("pm25", "24h"),
}


def _sub_indices(conc: Mapping[str, float], keys: dict[str, tuple[str, Period]]) -> dict[str, int]:
    unknown = sorted(set(conc) - set(keys))
    if unknown:
        raise ValueError(f"unknown pollutant key(s) {', '.join(map(repr, unknown))}; "
                         f"expected some of {', '.join(keys)}")
    return {k: int(iaqi(keys[k][0], v, keys[k][1])) for k, v in conc.items()}


def daily_aqi(conc: Mapping[str, float]) -> AqiResult:
    """Daily AQI from 24-hour means of so2, no2, pm10, co, pm25, the 8-hour O3 maximum
    (``o3_8h``) and optionally the 1-hour O3 maximum (``o3``); give at least one."""
    sub = _sub_indices(conc, _DAILY)
    if "o3_8h" in sub and "o3" in sub and conc["o3_8h"] > BREAKPOINTS[("o3", "8h")][-1]:
        del sub["o3_8h"]  # not computed above 800 µg/m³: the 1-hour sub-index is reported
    return _result(sub)


def hourly_aqi(conc: Mapping[str, float]) -> AqiResult:
    """Real-time hourly AQI: so2, no2, co, o3 hourly; pm10, pm25 as moving 24-hour means."""
    return _result(_sub_indices(conc, _HOURLY))


# the table each pollutant is read against, by the period of its concentrations
_HOURLY_TABLES: dict[str, Period] = {k: period for k, (_p, period) in _HOURLY.items()}
_DAILY_TABLES: dict[str, Period] = {"pm25": "24h", "pm10": "24h", "so2": "24h", "no2": "24h", "co": "24h",
                                    "o3": "8h"}


def _largest_sub_index(tables: dict[str, Period], given: dict[str, npt.ArrayLike | None]) -> np.ndarray:
    subs = [np.asarray(iaqi(k, v, tables[k]), dtype=float) for k, v in given.items() if v is not None]
    if not subs:
        raise ValueError("no pollutant concentrations given")
    return np.asarray(reduce(np.maximum, subs), dtype=float)


def hourly_aqi_array(
    *,
    pm25: npt.ArrayLike | None = None,
    pm10: npt.ArrayLike | None = None,
    so2: npt.ArrayLike | None = None,
    no2: npt.ArrayLike | None = None,
    o3: npt.ArrayLike | None = None,
    co: npt.ArrayLike | None = None,
) -> np.ndarray:
    """Vectorised :func:`hourly_aqi` (inputs broadcast together): a float array of AQIs.

    A pollutant left as None is not considered; a NaN anywhere makes that element's AQI NaN.
    """
    return _largest_sub_index(_HOURLY_TABLES, {"pm25": pm25, "pm10": pm10, "so2": so2, "no2": no2,
                                               "o3": o3, "co": co})


def daily_aqi_array(
    *,
    pm25: npt.ArrayLike | None = None,
    pm10: npt.ArrayLike | None = None,
    so2: npt.ArrayLike | None = None,
    no2: npt.ArrayLike | None = None,
    o3: npt.ArrayLike | None = None,
    co: npt.ArrayLike | None = None,
) -> np.ndarray:
    """Vectorised daily AQI from 24-hour mean concentrations (HJ 633-2012 §5.1).

    ``o3`` is read against the 8-hour table: give the day's largest 8-hour mean where it is
    known; a day's mean is its lower bound. A NaN makes that element's AQI NaN.
    """
    return _largest_sub_index(_DAILY_TABLES, {"pm25": pm25, "pm10": pm10, "so2": so2, "no2": no2,
                                              "o3": o3, "co": co})
