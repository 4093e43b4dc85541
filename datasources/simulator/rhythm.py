"""The city's daily and weekly rhythms: rush hours, nights, weekends.

Every curve takes local clock arrays (hour as a float in [0, 24), weekday 0 = Monday)
and returns a multiplier, mostly in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class LocalClock:
    """Local time of a batch of instants: the epoch seconds and their wall-clock parts."""

    seconds: np.ndarray   # (T,) epoch seconds, float
    hour: np.ndarray      # (T,) local hour of day, float
    weekday: np.ndarray   # (T,) 0 = Monday
    day_of_year: np.ndarray
    midnight: np.ndarray  # (T,) epoch seconds of the local midnight that starts the day

    @property
    def weekend(self) -> np.ndarray:
        return self.weekday >= 5

    @classmethod
    def of(cls, seconds: np.ndarray, timezone: str) -> LocalClock:
        """Local clock parts of epoch ``seconds`` in ``timezone``."""
        sec = np.asarray(seconds, dtype=np.float64)
        utc = pd.to_datetime(sec, unit="s", utc=True)
        local = pd.DatetimeIndex(utc).tz_convert(ZoneInfo(timezone))
        hour = local.hour + local.minute / 60.0 + local.second / 3600.0
        midnight = (local.normalize() - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        return cls(seconds=sec, hour=np.asarray(hour, dtype=np.float64),
                   weekday=np.asarray(local.day_of_week), day_of_year=np.asarray(local.day_of_year),
                   midnight=np.asarray(midnight, dtype=np.float64))


def _bump(hour: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((hour - centre) / width) ** 2)


def traffic_demand(clock: LocalClock) -> np.ndarray:
    """Road demand: morning and evening rush on workdays, a late broad hump at weekends."""
    h = clock.hour
    workday = (0.12 + 0.78 * _bump(h, 8.0, 1.1) + 0.82 * _bump(h, 18.0, 1.3)
               + 0.5 * _bump(h, 12.5, 2.6) + 0.25 * _bump(h, 21.0, 1.5))
    weekend = 0.12 + 0.55 * _bump(h, 11.0, 2.2) + 0.6 * _bump(h, 17.0, 2.0)
    night = 0.06 * (h < 5)
    return np.where(clock.weekend, weekend, workday) - night


def activity(clock: LocalClock) -> np.ndarray:
    """People awake and about: low at night, high in the day, an evening tail."""
    h = clock.hour
    day = 0.1 + 0.9 * np.clip(np.sin(np.pi * (h - 6.0) / 17.0), 0, None) ** 0.8
    return day * np.where(clock.weekend, 0.9, 1.0)


def commerce(clock: LocalClock) -> np.ndarray:
    """Shops and visitors: from mid-morning to late evening, busier at weekends."""
    h = clock.hour
    base = 0.05 + 0.6 * _bump(h, 12.5, 2.0) + 0.85 * _bump(h, 19.5, 1.8)
    return base * np.where(clock.weekend, 1.35, 1.0)


def sunlight(clock: LocalClock) -> np.ndarray:
    """Solar strength that drives ozone: 0 at night, peaking mid-afternoon."""
    return np.clip(np.sin(np.pi * (clock.hour - 6.5) / 13.0), 0, None) ** 1.5


def power_demand(clock: LocalClock) -> np.ndarray:
    """Electricity load: a working-day plateau, an evening peak, and the night trough."""
    h = clock.hour
    work = 0.35 + 0.4 * _bump(h, 10.5, 2.5) + 0.35 * _bump(h, 15.5, 2.2) + 0.45 * _bump(h, 20, 1.6)
    return np.where(clock.weekend, 0.85 * work + 0.05, work)


def water_demand(clock: LocalClock) -> np.ndarray:
    """Water use: morning and evening peaks of households."""
    h = clock.hour
    return 0.25 + 0.75 * _bump(h, 7.5, 1.2) + 0.6 * _bump(h, 12.0, 1.5) + 0.8 * _bump(h, 19.5, 1.6)


def darkness(clock: LocalClock) -> np.ndarray:
    """1 when street lights should be on (before 6:00 and after 18:30), else 0."""
    return ((clock.hour < 6.0) | (clock.hour >= 18.5)).astype(float)
