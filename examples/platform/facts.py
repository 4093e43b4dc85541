"""The example platform's rows: regions, hourly district and street facts, parking every
15 minutes, and the live values, all a pure function of the seed and the clock.

Every random draw is a hash of (seed, variable, area, time), so a value for a given hour
does not change when the platform is rebuilt later or over more days. Times are local
(Asia/Shanghai) and naive, as the platform stores them; a row at ``stat_hour`` covers the
hour that starts there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

TIMEZONE = ZoneInfo("Asia/Shanghai")
CITY_CODE, CITY_NAME = "360800", "吉安市"
DISTRICT_WORD, STREET_WORD = "区县", "街道"
HOUR, SLOT = timedelta(hours=1), timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1)

# code, name, urban share (0..1), resident population, peak vehicles/h, PM2.5 base, parking lots
DISTRICTS: tuple[tuple[str, str, float, int, int, float, int], ...] = (
    ("360802", "吉州区", 1.00, 383_000, 7200, 36.0, 5),
    ("360803", "青原区", 0.80, 218_000, 4300, 33.0, 4),
    ("360821", "吉安县", 0.55, 481_000, 5200, 40.0, 3),
    ("360822", "吉水县", 0.50, 497_000, 4800, 38.0, 4),
    ("360823", "峡江县", 0.35, 172_000, 2300, 31.0, 3),
    ("360824", "新干县", 0.45, 318_000, 3600, 42.0, 3),
)
STREETS: tuple[tuple[str, str], ...] = (
    ("360802001", "古南街道"), ("360802002", "永叔街道"), ("360802003", "文山街道"),
    ("360803001", "河东街道"), ("360803002", "滨江街道"),
    ("360821001", "敦厚镇"), ("360821002", "永和镇"),
    ("360822001", "文峰镇"), ("360822002", "乌江镇"),
    ("360823001", "巴邱镇"), ("360823002", "水边镇"),
    ("360824001", "金川镇"), ("360824002", "三湖镇"),
)
# the platform's deliberate rough edges, so missing-vs-zero and rounding are exercised
LATE_DISTRICT = "360824"          # has not reported the current hour (nor have its streets)
PM25_GAP_DISTRICT = "360823"      # PM2.5 analyser offline: NULL pm25 these many hours back
PM25_GAP_HOURS_BACK = (26, 4, 3)
HALF_DISTRICT = "360802"          # current hour: pm25 38.5 and response_min 12.25
HALF_VALUES = {"pm25": Decimal("38.5"), "response_min": Decimal("12.25")}
LATE_LOT = "P360803-02"           # this lot has not sent its latest 15-minute status

DISTRICT_COLUMNS: dict[str, int] = {   # numeric column -> decimals (0: INTEGER)
    "vehicle_flow": 0, "pm25": 1, "pm10": 1, "so2": 1, "no2": 1, "o3": 1, "co": 2,
    "noise_db": 1, "police_alerts": 0, "resident_pop": 0, "response_min": 2,
}
LIVE_NAMES = ("vehicle_flow", "pm25", "aqi_hour", "noise_db")


@dataclass(frozen=True)
class Clock:
    """The platform's now (local, naive), its current hour and 15-minute slot, and the span."""

    now: datetime
    current_hour: datetime
    current_slot: datetime
    start_hour: datetime

    @property
    def hours(self) -> list[datetime]:
        count = int((self.current_hour - self.start_hour) / HOUR) + 1
        return [self.start_hour + i * HOUR for i in range(count)]

    @property
    def slots(self) -> list[datetime]:
        count = int((self.current_slot - self.start_hour) / SLOT) + 1
        return [self.start_hour + i * SLOT for i in range(count)]


def clock(now: datetime | None = None, days: int = 8) -> Clock:
    """A clock at ``now`` (default: the present; aware times are converted to Asia/Shanghai,
    naive ones are taken as local) spanning ``days`` days of hours up to the current one."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if now is None:
        now = datetime.now(TIMEZONE)
    if now.tzinfo is not None:
        now = now.astimezone(TIMEZONE).replace(tzinfo=None)
    hour = now.replace(minute=0, second=0, microsecond=0)
    slot = hour + SLOT * (now.minute // 15)
    return Clock(now, hour, slot, hour - (days * 24 - 1) * HOUR)


def regions() -> list[dict[str, Any]]:
    """The region table: districts under the city (which has no row) and their streets."""
    rows = [{"region_code": c, "region_name": n, "region_type": DISTRICT_WORD, "parent_code": CITY_CODE}
            for c, n, *_ in DISTRICTS]
    rows += [{"region_code": c, "region_name": n, "region_type": STREET_WORD, "parent_code": c[:6]}
             for c, n in STREETS]
    return rows


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _unit(seed: int, tag: int, *keys: Any) -> np.ndarray:
    """Uniform [0, 1) draws that depend only on (seed, tag, keys), broadcast over the keys."""
    arrays = [np.asarray(k, dtype=np.int64).astype(np.uint64) for k in keys]
    x = np.full(np.broadcast_shapes(*(a.shape for a in arrays)), (seed * 1_000_003 + tag) % 2**63,
                dtype=np.uint64)
    with np.errstate(over="ignore"):   # multiplication modulo 2**64 is the point
        for a in arrays:
            x = _mix(x ^ (a + np.uint64(0x9E3779B97F4A7C15)))
    return (x >> np.uint64(11)).astype(float) / 2.0 ** 53


def _normal(seed: int, tag: int, *keys: Any) -> np.ndarray:
    u1, u2 = _unit(seed, tag, *keys), _unit(seed, tag + 500, *keys)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def _bump(x: np.ndarray, mu: float, width: float) -> np.ndarray:
    return np.exp(-(((x - mu) / width) ** 2))


def _traffic(tod: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Daily traffic shape (≈0.1 at night, ≈1.1 at the evening peak); no peaks at weekends."""
    weekday = 0.10 + 0.45 * _bump(tod, 13.5, 4.5) + 0.55 * _bump(tod, 8, 1.2) + 0.6 * _bump(tod, 17.8, 1.5)
    return np.where(weekend, 0.10 + 0.6 * _bump(tod, 14, 4.5), weekday)


def _ordinals(times: list[datetime], step: timedelta) -> np.ndarray:
    return np.array([(t - _EPOCH) // step for t in times], dtype=np.int64)


def _calendar(times: list[datetime]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tod = np.array([t.hour + t.minute / 60 for t in times])
    weekend = np.array([t.weekday() >= 5 for t in times])
    return tod, weekend, _ordinals(times, timedelta(days=1))


def _dec(value: float, decimals: int) -> Decimal | int:
    return int(round(value)) if decimals == 0 else Decimal(f"{value:.{decimals}f}")


def district_facts(seed: int, clk: Clock) -> list[dict[str, Any]]:
    """Hourly district rows, one per district and hour (the late district lacks the current one)."""
    hours = clk.hours
    tod, weekend, day = _calendar(hours)
    hour_no = _ordinals(hours, HOUR)[None, :]
    d = np.arange(len(DISTRICTS))[:, None]
    urban, pop, peak, pm_base = (np.array([row[i] for row in DISTRICTS], dtype=float)[:, None]
                                 for i in (2, 3, 4, 5))
    frac = tod / 24.0

    def daily(tag: int, lo: float, hi: float) -> np.ndarray:   # smooth day-to-day weather factor
        today, tomorrow = _unit(seed, tag, 0, day), _unit(seed, tag, 0, day + 1)
        return lo + (hi - lo) * (today * (1 - frac) + tomorrow * frac)

    def z(tag: int) -> np.ndarray:
        return _normal(seed, tag, d, hour_no)

    traffic = _traffic(tod, weekend)[None, :]
    haze, sun = daily(1, 0.6, 1.6)[None, :], daily(2, 0.7, 1.3)[None, :]
    t = tod[None, :]
    pm25 = pm_base * haze * (0.8 + 0.35 * _bump(t, 7, 3.5) + 0.25 * _bump(t, 22, 3)) \
        + 6 * traffic * urban + 3 * z(10)
    pop_today = pop + np.round(pop * 0.003 * np.sin(2 * np.pi * day[None, :] / 365.0)) \
        + np.round(40 * (_unit(seed, 20, d, day[None, :]) - 0.5))
    lam = pop / 100_000 * (0.35 + 0.9 * _bump(t, 21, 3.5) + 0.4 * _bump(t, 13, 4))
    values = {
        "vehicle_flow": peak * traffic * (1 + 0.06 * z(11)),
        "pm25": np.maximum(pm25, 3.0),
        "pm10": np.maximum(pm25 * 1.45 + 8 + 4 * z(12), 5.0),
        "so2": np.maximum(6 + 4 * (1 - urban) + 1.5 * z(13), 2.0),
        "no2": np.maximum(12 + 38 * traffic * urban + 4 * z(14), 3.0),
        "o3": np.maximum(18 + 110 * _bump(t, 15, 3) * sun + 6 * z(15), 2.0),
        "co": np.maximum(0.45 + 0.5 * traffic * urban + 0.05 * z(16), 0.1),
        "noise_db": 44 + 14 * np.minimum(traffic, 1.0) + 4 * urban + 1.2 * z(17),
        "police_alerts": np.maximum(lam + np.sqrt(lam) * z(18), 0.0),
        "resident_pop": pop_today,
        "response_min": np.maximum(7.5 + 5 * (1 - urban) + 1.8 * traffic + 0.8 * z(19), 3.0),
    }
    gaps = {clk.current_hour - back * HOUR for back in PM25_GAP_HOURS_BACK}
    rows = []
    for i, (code, *_rest) in enumerate(DISTRICTS):
        for j, hour in enumerate(hours):
            if code == LATE_DISTRICT and hour == clk.current_hour:
                continue
            row: dict[str, Any] = {"district_code": code, "stat_hour": hour}
            row.update({k: _dec(float(v[i, j]), DISTRICT_COLUMNS[k]) for k, v in values.items()})
            if code == PM25_GAP_DISTRICT and hour in gaps:
                row["pm25"] = None
            if code == HALF_DISTRICT and hour == clk.current_hour:
                row.update(HALF_VALUES)
            rows.append(row)
    return rows


def street_facts(seed: int, clk: Clock) -> list[dict[str, Any]]:
    """Hourly 12345 hotline calls per street (the late district's streets lack the current hour)."""
    hours = clk.hours
    tod, weekend, _day = _calendar(hours)
    hour_no = _ordinals(hours, HOUR)
    pops = {c: p for c, _n, _u, p, *_ in DISTRICTS}
    shape = 0.3 + 2.2 * _bump(tod, 10.5, 2.5) + 1.6 * _bump(tod, 15.5, 2.5)
    shape = np.where(weekend, 0.7 * shape, shape)
    rows = []
    for s, (code, _name) in enumerate(STREETS):
        district = code[:6]
        streets = sum(1 for c, _ in STREETS if c[:6] == district)
        lam = pops[district] / 100_000 * shape / streets * (0.6 + 0.8 * _unit(seed, 30, s))
        calls = np.maximum(np.round(lam + np.sqrt(lam) * _normal(seed, 31, s, hour_no)), 0)
        for hour, n in zip(hours, calls, strict=True):
            if district == LATE_DISTRICT and hour == clk.current_hour:
                continue
            rows.append({"street_code": code, "stat_hour": hour, "hotline_calls": int(n)})
    return rows


def lots() -> list[tuple[str, str]]:
    """(lot_id, district_code) of every public car park."""
    return [(f"P{code}-{k + 1:02d}", code) for code, *_rest, n in DISTRICTS for k in range(n)]


def parking_status(seed: int, clk: Clock) -> list[dict[str, Any]]:
    """One status row per car park every 15 minutes (the late lot lacks the latest slot)."""
    slots = clk.slots
    tod, weekend, _day = _calendar(slots)
    slot_no = _ordinals(slots, SLOT)
    rows = []
    for k, (lot, district) in enumerate(lots()):
        capacity = 80 + int(500 * _unit(seed, 40, k))
        if k % 2 == 0:   # shopping / office car park: full in the day
            ratio = 0.15 + 0.8 * _bump(tod, 14, 4.5) * np.where(weekend, 1.1, 1.0)
        else:            # residential: full at night
            ratio = 0.9 - 0.55 * _bump(tod, 13, 4.5)
        ratio = ratio * (0.85 + 0.25 * _unit(seed, 41, k)) + 0.04 * _normal(seed, 42, k, slot_no)
        occupied = np.clip(np.round(capacity * ratio), 0, capacity).astype(int)
        for slot, n in zip(slots, occupied, strict=True):
            if lot == LATE_LOT and slot == clk.current_slot:
                continue
            rows.append({"lot_id": lot, "district_code": district, "stat_time": slot,
                         "capacity": capacity, "occupied": int(n)})
    return rows


# HJ 633-2012 breakpoints of the hourly AQI (PM2.5 and PM10 on their 24-hour tables)
_AQI_LEVELS = (0, 50, 100, 150, 200, 300, 400, 500)
_AQI_TABLES = {
    "pm25": (0, 35, 75, 115, 150, 250, 350, 500), "pm10": (0, 50, 150, 250, 350, 420, 500, 600),
    "so2": (0, 150, 500, 650, 800), "no2": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "co": (0, 5, 10, 35, 60, 90, 120, 150), "o3": (0, 160, 200, 300, 400, 800, 1000, 1200),
}


def aqi_hour(row: dict[str, Any]) -> int | None:
    """The platform's hourly AQI of one row: the largest IAQI, each rounded up; None when a
    pollutant is missing."""
    worst = 0
    for name, table in _AQI_TABLES.items():
        if row.get(name) is None:
            return None
        c = float(row[name])
        if c >= table[-1]:
            raise ValueError(f"{name} {c} is beyond the hourly AQI table")
        k = next(i for i in range(len(table) - 1) if table[i] <= c < table[i + 1])
        sub = _AQI_LEVELS[k] + (c - table[k]) * (_AQI_LEVELS[k + 1] - _AQI_LEVELS[k]) / (table[k + 1] - table[k])
        worst = max(worst, math.ceil(round(sub, 9)))
    return worst


def live_values(facts: list[dict[str, Any]], clk: Clock) -> dict[str, dict[str, str]]:
    """The live hashes: indicator -> {district code: plain number text} at the current hour."""
    live: dict[str, dict[str, str]] = {name: {} for name in LIVE_NAMES}
    for row in facts:
        if row["stat_hour"] != clk.current_hour:
            continue
        values = {name: row.get(name) for name in LIVE_NAMES}
        values["aqi_hour"] = aqi_hour(row)
        for name, value in values.items():
            if value is not None:
                live[name][row["district_code"]] = str(value)
    return live
