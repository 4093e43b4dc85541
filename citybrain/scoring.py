"""Scores: how well an indicator is doing (0–100), and the composite city operation index.

An indicator's score is piecewise linear in its value against its catalogue
thresholds: 80 at target, 60 at warn, 30 at alarm, falling to 0 one more warn→alarm
span beyond alarm, and rising to 100 one target→warn span better than target (so a
city doing better than its targets still shows movement). The city operation index (城市运行指数) is the
weighted mean of the scores of the indicators with weight > 0 that have a value; a
domain's pulse is the same mean over that domain's indicators. An indicator without a
value (its read failed, the store gave nothing) is left out, never counted as 0, and the
result says how many it used out of how many (``used`` / ``total``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .catalogue import Indicator
from .numbers import round_half_up

Status = Literal["good", "warn", "alarm", "unknown"]
STATUS_COLOURS: dict[str, str] = {
    "good": "#2ECC71", "warn": "#F5C242", "alarm": "#FF4D4F", "unknown": "#7F8C9A",
}


def score(indicator: Indicator, value: float | None) -> float | None:
    """The 0–100 score of ``value``; None when it cannot be scored (no value or thresholds)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    t, w, a = indicator.target, indicator.warn, indicator.alarm
    if t is None or w is None or a is None:
        return None
    sign = 1.0 if indicator.better == "lower" else -1.0
    x, t, w, a = sign * value, sign * t, sign * w, sign * a
    points = [(t - max(w - t, 1e-9), 100.0), (t, 80.0), (w, 60.0), (a, 30.0),
              (a + max(a - w, 1e-9), 0.0)]
    if x <= points[0][0]:
        return 100.0
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1
    return 0.0


def status(indicator: Indicator, value: float | None) -> Status:
    """good / warn / alarm by the catalogue thresholds, or unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    sign = 1.0 if indicator.better == "lower" else -1.0
    if indicator.alarm is not None and sign * value >= sign * indicator.alarm:
        return "alarm"
    if indicator.warn is not None and sign * value >= sign * indicator.warn:
        return "warn"
    return "good" if indicator.warn is not None or indicator.target is not None else "unknown"


@dataclass(frozen=True)
class Composite:
    """A weighted mean of scores and what went into it."""

    value: float | None
    parts: dict[str, float]          # indicator id → score
    missing: tuple[str, ...]         # weighted indicators without a usable value

    @property
    def used(self) -> int:
        """How many weighted indicators went into the value."""
        return len(self.parts)

    @property
    def total(self) -> int:
        """How many weighted indicators there are, with a value or not."""
        return len(self.parts) + len(self.missing)


def composite(indicators: Iterable[Indicator], values: Mapping[str, float | None]) -> Composite:
    """The weight-averaged score of ``indicators`` whose weight is > 0, over those that
    have a scorable value in ``values`` (absent or None: left out, listed in ``missing``)."""
    total = weight = 0.0
    parts: dict[str, float] = {}
    missing = []
    for ind in indicators:
        if ind.weight <= 0:
            continue
        s = score(ind, values.get(ind.id))
        if s is None:
            missing.append(ind.id)
            continue
        parts[ind.id] = s
        total += s * ind.weight
        weight += ind.weight
    return Composite(round_half_up(total / weight, 1) if weight else None, parts, tuple(missing))


def index_status(value: float | None, good_from: float, warn_from: float) -> Status:
    """The status band of a 0–100 index."""
    if value is None:
        return "unknown"
    return "good" if value >= good_from else "warn" if value >= warn_from else "alarm"
