"""Periods of local time for drilling year → month → day → hour, in the city's time zone.

A period is written the way it appears in a URL: ``2026``, ``2026-11``, ``2026-11-25`` or
``2026-11-25T14``. "Today" is always computed from the clock at the moment of asking,
so a screen left open for days rolls over at local midnight; comparisons go back whole
days or weeks, so they land on the same hour of the same weekday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Grain = Literal["year", "month", "day", "hour"]
GRAINS: tuple[Grain, ...] = ("year", "month", "day", "hour")
CHILD: dict[Grain, Grain | None] = {"year": "month", "month": "day", "day": "hour", "hour": None}
_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}))?)?)?$")
EARLIEST_YEAR = 2000


class PeriodError(ValueError):
    """A period in a URL or callback that is malformed, impossible or in the future."""


@dataclass(frozen=True)
class Period:
    """One year, month, day or hour of local time."""

    grain: Grain
    start: datetime          # local, tz-aware
    tz: ZoneInfo

    @property
    def end(self) -> datetime:
        """The first instant after the period (local, tz-aware)."""
        s = self.start
        if self.grain == "year":
            return s.replace(year=s.year + 1)
        if self.grain == "month":
            return s.replace(year=s.year + (s.month == 12), month=s.month % 12 + 1)
        if self.grain == "day":
            return _local(s.year, s.month, s.day, 0, self.tz) + timedelta(days=1)
        return s + timedelta(hours=1)

    @property
    def key(self) -> str:
        """The period as written in a URL."""
        s = self.start
        return {"year": f"{s:%Y}", "month": f"{s:%Y-%m}", "day": f"{s:%Y-%m-%d}",
                "hour": f"{s:%Y-%m-%dT%H}"}[self.grain]

    def label(self, lang: str) -> str:
        """A short human label: '2026年11月' / 'Nov 2026'."""
        s = self.start
        if lang == "en":
            return {"year": f"{s:%Y}", "month": f"{s:%b %Y}", "day": f"{s:%d %b %Y}",
                    "hour": f"{s:%d %b %H}:00"}[self.grain]
        return {"year": f"{s.year}年", "month": f"{s.year}年{s.month}月",
                "day": f"{s.month}月{s.day}日", "hour": f"{s.month}月{s.day}日 {s.hour}时"}[self.grain]

    def bucket_label(self, lang: str) -> str:
        """The label of this period as one bar among its siblings ('11月', '25日', '14时')."""
        s = self.start
        if lang == "en":
            return {"year": f"{s:%Y}", "month": f"{s:%b}", "day": f"{s.day}",
                    "hour": f"{s:%H}:00"}[self.grain]
        return {"year": f"{s.year}年", "month": f"{s.month}月", "day": f"{s.day}日",
                "hour": f"{s.hour}时"}[self.grain]

    @property
    def parent(self) -> Period | None:
        """The period one grain up (None for a year)."""
        s = self.start
        if self.grain == "year":
            return None
        if self.grain == "month":
            return Period("year", _local(s.year, 1, 1, 0, self.tz), self.tz)
        if self.grain == "day":
            return Period("month", _local(s.year, s.month, 1, 0, self.tz), self.tz)
        return Period("day", _local(s.year, s.month, s.day, 0, self.tz), self.tz)

    def trail(self) -> list[Period]:
        """From the year down to this period, for breadcrumbs."""
        out: list[Period] = [self]
        while out[0].parent is not None:
            out.insert(0, out[0].parent)   # type: ignore[arg-type]
        return out

    def children(self, now: datetime | None = None) -> list[Period]:
        """The periods one grain down that have begun by ``now`` (all of them without it)."""
        grain = CHILD[self.grain]
        if grain is None:
            return []
        out = []
        start = self.start
        end = self.end
        while start < end and (now is None or start <= now):
            child = Period(grain, start, self.tz)
            out.append(child)
            start = child.end
        return out

    def shifted(self, days: int) -> Period:
        """The same grain ``days`` whole local days away (weekday kept when days % 7 == 0)."""
        return Period(self.grain, _floor(self.start + timedelta(days=days), self.grain, self.tz), self.tz)

    def utc_range(self) -> tuple[datetime, datetime]:
        """``[start, end)`` in UTC, for queries."""
        return self.start.astimezone(UTC), self.end.astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment.astimezone(self.tz) < self.end


def parse(text: str | None, tz: ZoneInfo, now: datetime) -> Period:
    """The period ``text`` names; empty means today. :class:`PeriodError` says what is wrong."""
    if text is None or text == "" or text == "today":
        return today(now, tz)
    m = _PATTERN.match(text.strip())
    if not m:
        raise PeriodError(f"period {text!r} is not a date: expected YYYY, YYYY-MM, YYYY-MM-DD "
                          f"or YYYY-MM-DDTHH")
    year, month, day, hour = (int(g) if g is not None else None for g in m.groups())
    grain: Grain = "hour" if hour is not None else "day" if day is not None else (
        "month" if month is not None else "year")
    try:
        start = _local(year, month or 1, day or 1, hour or 0, tz)   # type: ignore[arg-type]
    except ValueError as exc:
        raise PeriodError(f"period {text!r} is not a real date: {exc}") from None
    if year < EARLIEST_YEAR:   # type: ignore[operator]
        raise PeriodError(f"period {text!r} is before {EARLIEST_YEAR}")
    if start > now.astimezone(tz):
        raise PeriodError(f"period {text!r} is in the future")
    return Period(grain, start, tz)


def today(now: datetime, tz: ZoneInfo) -> Period:
    """The local day holding ``now``: it rolls over at local midnight."""
    return Period("day", _floor(now.astimezone(tz), "day", tz), tz)


def this_month(now: datetime, tz: ZoneInfo) -> Period:
    return Period("month", _floor(now.astimezone(tz), "month", tz), tz)


def _floor(moment: datetime, grain: Grain, tz: ZoneInfo) -> datetime:
    m = moment.astimezone(tz)
    if grain == "year":
        return _local(m.year, 1, 1, 0, tz)
    if grain == "month":
        return _local(m.year, m.month, 1, 0, tz)
    if grain == "day":
        return _local(m.year, m.month, m.day, 0, tz)
    return _local(m.year, m.month, m.day, m.hour, tz)


def _local(year: int, month: int, day: int, hour: int, tz: ZoneInfo) -> datetime:
    return datetime(year, month, day, hour, tzinfo=tz)
