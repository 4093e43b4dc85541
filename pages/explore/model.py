"""The explorer's state and numbers: any indicator, any area level, a date range, up to
five areas, and the period before (or a year before) to compare with.

The state comes from the URL or the controls and is checked here, on the server, before
anything is read: an unknown name, a malformed date or a range too long raises
:class:`ExploreError` naming the parameter, and only catalogue entries, areas of the
hierarchy and real dates go on to a read. The numbers are in :mod:`pages.explore.values`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from citybrain.areas import LEVELS, Area, AreaError, AreaTree
from citybrain.catalogue import Catalogue, Indicator
from citybrain.timegrain import EARLIEST_YEAR, Grain, Period

PATH = "/explore"
MAX_AREAS = 5
MAX_DAYS = 366
# the longest range each grain may show; "auto" takes the finest that fits the default limits
GRAIN_DAYS: dict[str, int] = {"hour": 7, "day": 62, "month": MAX_DAYS}
AUTO_GRAIN: tuple[tuple[int, Grain], ...] = ((2, "hour"), (62, "day"), (MAX_DAYS, "month"))
GRAIN_WORDS = {"hour": "hourly", "day": "daily", "month": "monthly"}
YEAR_DAYS = 364          # 52 weeks: a year before, on the same weekdays
DEFAULT_DAYS = 7
DEFAULT_AREAS = 3
SUMMARY_DECIMALS = 1     # one more than the indicator's own for levels, so a small change shows
_COMPARE_WORDS = {**dict.fromkeys(("off", "0", "false", "no", "none"), "off"), "year": "year",
                  **dict.fromkeys(("prev", "on", "1", "true", "yes"), "prev")}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T00:00(?::00(?:\.0+)?)?)?$")


class ExploreError(ValueError):
    """A URL parameter or control value the explorer cannot use, naming which and why."""


@dataclass(frozen=True)
class ExploreState:
    """What the explorer shows; every field already checked."""

    indicator: Indicator
    level: str
    areas: tuple[Area, ...]
    start: date              # first local day
    end: date                # last local day, inclusive
    grain: Grain             # the grain in use
    auto_grain: bool         # chosen from the range's length rather than asked for
    compare: str             # off / prev / year
    lang: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def shift_days(self) -> int | None:
        """How many days back the compared period lies: the range's own length (so a range
        of whole weeks is compared with the weeks just before, weekday on weekday), or 364
        days for a year before on the same weekdays; ``None`` without a comparison."""
        return {"prev": self.days, "year": YEAR_DAYS}.get(self.compare)

    def previous_range(self) -> tuple[date, date] | None:
        back = timedelta(days=self.shift_days or 0)
        return None if self.shift_days is None else (self.start - back, self.end - back)

    def params(self) -> dict[str, str | None]:
        """The state as URL parameters (defaults left out)."""
        return {"indicator": self.indicator.id, "level": self.level,
                "areas": ",".join(a.id for a in self.areas), "start": self.start.isoformat(),
                "end": self.end.isoformat(), "grain": None if self.auto_grain else self.grain,
                "compare": None if self.compare == "off" else self.compare,
                "lang": "en" if self.lang == "en" else None}

    def href(self, **changes: str | None) -> str:
        """This page's URL with ``changes`` applied (``None`` drops a parameter); the
        areas stay readable as ``D01,D02``."""
        kept = {k: v for k, v in {**self.params(), **changes}.items() if v}
        return PATH + ("?" + urlencode(kept, safe=",") if kept else "")


def read_state(catalogue: Catalogue, tree: AreaTree, tz: ZoneInfo, now: datetime,
               params: Mapping[str, Any], lang: str) -> ExploreState:
    """The state ``params`` (URL parameters or control values) ask for, defaults filled in;
    :class:`ExploreError` names the first bad parameter."""
    ind = _indicator(catalogue, _one(params, "indicator"))
    present = tree.levels_present()
    level = _one(params, "level") or default_level(ind, present)
    if level not in LEVELS:
        raise ExploreError(f"parameter 'level': unknown level {_shown(level)} (expected one of "
                           f"{', '.join(LEVELS)})")
    if level not in ind.levels:
        raise ExploreError(f"parameter 'level': {ind.id!r} has no values at {level} level (it has "
                           f"{', '.join(ind.levels)})")
    if level not in present:
        raise ExploreError(f"parameter 'level': the area hierarchy has no {level} areas (it has "
                           f"{', '.join(present)})")
    areas = _areas(tree, level, params.get("areas"))
    start, end = _range(params, now.astimezone(tz).date())
    grain, auto = _grain(_one(params, "grain"), (end - start).days + 1)
    word = (_one(params, "compare") or "off").lower()
    if word not in _COMPARE_WORDS:
        raise ExploreError(f"parameter 'compare': unknown value {_shown(word)} (expected off, prev or "
                           f"year)")
    return ExploreState(ind, level, areas, start, end, grain, auto, _COMPARE_WORDS[word], lang)


def default_level(ind: Indicator, present: Sequence[str] = LEVELS) -> str:
    """District when the indicator has it, else its first level below the city, else the
    city; of the levels ``present`` in the hierarchy."""
    return level_choices(ind, present)[0]


def level_choices(ind: Indicator, present: Sequence[str] = LEVELS) -> list[str]:
    """The levels the explorer offers for ``ind``: its levels below the city that the
    hierarchy has (``present``), or the city alone."""
    return [lv for lv in ind.levels if lv != "city" and lv in present] or ["city"]


def auto_grain(days: int) -> Grain:
    """Hours for up to 2 days, days for up to 62, months beyond."""
    return next(grain for limit, grain in AUTO_GRAIN if days <= limit or limit == MAX_DAYS)


def _one(params: Mapping[str, Any], name: str) -> str | None:
    """A single text parameter; blank means not given."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, list | tuple):
        raise ExploreError(f"parameter {name!r}: given {len(value)} times, expected once")
    if not isinstance(value, str):
        raise ExploreError(f"parameter {name!r}: expected text, found {type(value).__name__}")
    return value.strip() or None


def _shown(text: str) -> str:
    """``text`` quoted for a message, cut short."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _indicator(catalogue: Catalogue, wanted: str | None) -> Indicator:
    if wanted is None:
        first = next(iter(catalogue), None)
        if first is None:
            raise ExploreError("parameter 'indicator': none given and the catalogue is empty")
        return first
    if wanted not in catalogue:
        known = ", ".join(i.id for i in list(catalogue)[:8])
        raise ExploreError(f"parameter 'indicator': unknown indicator {_shown(wanted)} "
                           f"(known: {known}, …)")
    return catalogue.get(wanted)


def _areas(tree: AreaTree, level: str, raw: Any) -> tuple[Area, ...]:
    """Areas from 'a,b,c' (URL) or ['a', 'b'] (control); the first few of the level by default."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        chosen = tree.at_level(level)[:DEFAULT_AREAS]
        if not chosen:
            raise ExploreError(f"parameter 'level': the area hierarchy has no {level} areas")
        return tuple(chosen)
    parts = list(raw) if isinstance(raw, list | tuple) else [raw]
    ids: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise ExploreError(f"parameter 'areas': expected area ids, found {type(part).__name__}")
        ids += [p.strip() for p in part.split(",") if p.strip()]
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ExploreError("parameter 'areas': choose at least one area")
    if len(ids) > MAX_AREAS:
        raise ExploreError(f"parameter 'areas': at most {MAX_AREAS} areas can be compared, "
                           f"{len(ids)} were given")
    out = []
    for area_id in ids:
        try:
            area = tree.get(area_id)
        except AreaError:
            raise ExploreError(f"parameter 'areas': unknown area {_shown(area_id)}") from None
        if area.level not in (level, "city"):
            raise ExploreError(f"parameter 'areas': {area.id} is a {area.level}, not a {level} "
                               f"(choose areas of the level, or the city)")
        out.append(area)
    return tuple(out)


def _date(params: Mapping[str, Any], name: str, today: date) -> date | None:
    text = _one(params, name)
    if text is None:
        return None
    m = _DATE.match(text)
    if not m:
        raise ExploreError(f"parameter {name!r}: {_shown(text)} is not a date: expected YYYY-MM-DD")
    try:
        day = date(*(int(g) for g in m.groups()))
    except ValueError as exc:
        raise ExploreError(f"parameter {name!r}: {_shown(text)} is not a real date: {exc}") from None
    if day.year < EARLIEST_YEAR:
        raise ExploreError(f"parameter {name!r}: {day} is before {EARLIEST_YEAR}")
    if day > today:
        raise ExploreError(f"parameter {name!r}: {day} is in the future (the city's date today is "
                           f"{today})")
    return day


def _range(params: Mapping[str, Any], today: date) -> tuple[date, date]:
    """[start, end] in local days: the last full week by default; a missing end is a week on."""
    start, end = _date(params, "start", today), _date(params, "end", today)
    week = timedelta(days=DEFAULT_DAYS - 1)
    if start is None and end is None:
        end = today - timedelta(days=1)
    if end is None:
        end = min(start + week, today)          # type: ignore[operator]
    if start is None:
        start = end - week
    if start > end:
        raise ExploreError(f"parameter 'start': {start} is after the end {end}")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ExploreError(f"parameters 'start' and 'end': {start} to {end} is {days} days; at most "
                           f"{MAX_DAYS} days can be shown")
    return start, end


def _grain(choice: str | None, days: int) -> tuple[Grain, bool]:
    if choice is None or choice == "auto":
        return auto_grain(days), True
    if choice not in GRAIN_DAYS:
        raise ExploreError(f"parameter 'grain': unknown grain {_shown(choice)} (expected auto, hour, "
                           f"day or month)")
    if days > GRAIN_DAYS[choice]:
        raise ExploreError(f"parameter 'grain': {GRAIN_WORDS[choice]} values cover at most "
                           f"{GRAIN_DAYS[choice]} days; this range has {days}")
    return choice, False   # type: ignore[return-value]


# ---- buckets ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Span(Period):
    """A month cut to the chosen range: the first and the last month may be partial."""

    until: datetime = datetime.min

    @property
    def end(self) -> datetime:
        return self.until

    @property
    def key(self) -> str:
        return f"{self.start:%Y-%m-%d}/{self.until:%Y-%m-%d}"


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def buckets(state: ExploreState, tz: ZoneInfo) -> list[Period]:
    """The hours, days or (range-cut) months the chart's points stand for."""
    stop = local_midnight(state.end + timedelta(days=1), tz)
    if state.grain == "month":
        out: list[Period] = []
        cur = local_midnight(state.start, tz)
        while cur < stop:
            nxt = local_midnight(date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1), tz)
            out.append(Span("month", cur, tz, min(nxt, stop)))
            cur = nxt
        return out
    days = [Period("day", local_midnight(state.start + timedelta(days=n), tz), tz) for n in range(state.days)]
    return days if state.grain == "day" else [h for d in days for h in d.children()]


def shifted(bucket: Period, days: int) -> Period:
    """``bucket`` moved by whole local days (a cut month keeps its cut)."""
    if isinstance(bucket, Span):
        return Span(bucket.grain, bucket.start + timedelta(days=days), bucket.tz,
                    bucket.until + timedelta(days=days))
    return bucket.shifted(days)
