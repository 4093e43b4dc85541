"""The explorer's state and numbers: every parameter checked on the server with a message
naming it, ranges and grains, the compared period, values rolled up over the range."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from citybrain.areas import AreaTree
from citybrain.catalogue import Catalogue, Indicator
from datasources.base import SERIES_COLUMNS, Frame
from pages.explore import model as m
from pages.explore import values as numbers
from pages.explore.model import ExploreError

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)          # 09:30 on Wednesday 25 Nov, local
ROWS = [("city", None, "city", "云江市", "Yunjiang")]
ROWS += [(f"D0{n}", "city", "district", f"区{n}", f"District {n}") for n in range(1, 7)]
ROWS += [("D01S01", "D01", "street", "滨江街道", "Binjiang"), ("D01S02", "D01", "street", "金昌街道", "Jinchang")]
TREE = AreaTree(pd.DataFrame(ROWS, columns=["id", "parent_id", "level", "name_zh", "name_en"]))
ALL = ("city", "district", "street", "grid")


def ind(id: str, *, levels: tuple[str, ...] = ALL, time_rollup: str = "mean", better: str = "lower",
        decimals: int = 1) -> Indicator:
    return Indicator(id=id, name_zh=id, name_en=id, domain="traffic", better=better, levels=levels,
                     time_rollup=time_rollup, decimals=decimals, binding={"source": "sim", "metric": id})


CAT = Catalogue([ind("tpi"), ind("alerts", time_rollup="daily_total"), ind("aqi", levels=("city", "district")),
                 ind("gdp", levels=("city",))])


def state(**params: Any) -> m.ExploreState:
    return m.read_state(CAT, TREE, TZ, NOW, params, "zh")


# ---- the state and its URL ----------------------------------------------------------------

def test_defaults_are_the_first_indicator_three_districts_and_the_last_full_week() -> None:
    s = state()
    assert (s.indicator.id, s.level, [a.id for a in s.areas]) == ("tpi", "district", ["D01", "D02", "D03"])
    assert (s.start, s.end, s.grain, s.auto_grain, s.compare) == (
        date(2026, 11, 18), date(2026, 11, 24), "day", True, "off")
    assert s.href() == "/explore?indicator=tpi&level=district&areas=D01,D02,D03&start=2026-11-18&end=2026-11-24"


def test_the_url_round_trips_and_names_every_choice() -> None:
    s = state(indicator="alerts", areas="city,D02", start="2026-11-01", end="2026-11-02", grain="day",
              compare="year", lang="en")
    url = urlparse(s.href(lang="en"))
    again = m.read_state(CAT, TREE, TZ, NOW, {k: v[0] for k, v in parse_qs(url.query).items()}, "en")
    assert again == m.ExploreState(s.indicator, s.level, s.areas, s.start, s.end, s.grain, s.auto_grain,
                                   s.compare, "en")
    assert "areas=city,D02" in url.query and "grain=day" in url.query and "compare=year" in url.query


def test_a_city_only_indicator_is_explored_at_the_city() -> None:
    s = state(indicator="gdp")
    assert (s.level, [a.id for a in s.areas]) == ("city", ["city"])
    assert m.level_choices(CAT.get("gdp")) == ["city"] and m.level_choices(CAT.get("aqi")) == ["district"]


def test_control_values_are_accepted_as_lists_and_picker_dates() -> None:
    s = state(areas=["D01", "D02", "D01"], start="2026-11-10T00:00:00", end="2026-11-12", compare="prev")
    assert [a.id for a in s.areas] == ["D01", "D02"] and s.start == date(2026, 11, 10) and s.compare == "prev"
    assert state(compare="1").compare == "prev" and state(compare="").compare == "off"


@pytest.mark.parametrize("params, words", [
    ({"indicator": "nope"}, "parameter 'indicator': unknown indicator 'nope'"),
    ({"indicator": "tpi'; drop table x; --"}, "parameter 'indicator': unknown indicator"),
    ({"indicator": ["tpi", "aqi"]}, "parameter 'indicator': given 2 times"),
    ({"indicator": 5}, "parameter 'indicator': expected text, found int"),
    ({"level": "county"}, "parameter 'level': unknown level 'county'"),
    ({"indicator": "aqi", "level": "street"}, "parameter 'level': 'aqi' has no values at street level"),
    ({"areas": "D01,D99"}, "parameter 'areas': unknown area 'D99'"),
    ({"areas": "D01,D02,D03,D04,D05,D06"}, "parameter 'areas': at most 5 areas can be compared, 6"),
    ({"areas": "D01S01"}, "parameter 'areas': D01S01 is a street, not a district"),
    ({"areas": []}, "parameter 'areas': choose at least one area"),
    ({"areas": [{"id": "D01"}]}, "parameter 'areas': expected area ids, found dict"),
    ({"start": "yesterday"}, "parameter 'start': 'yesterday' is not a date: expected YYYY-MM-DD"),
    ({"start": "2026-02-30"}, "parameter 'start': '2026-02-30' is not a real date"),
    ({"start": "1999-12-01", "end": "2000-01-01"}, "parameter 'start': 1999-12-01 is before 2000"),
    ({"end": "2026-11-26"}, "parameter 'end': 2026-11-26 is in the future"),
    ({"start": "2026-11-20", "end": "2026-11-10"}, "parameter 'start': 2026-11-20 is after the end 2026-11-10"),
    ({"start": "2025-01-01", "end": "2026-11-24"}, "parameters 'start' and 'end'"),
    ({"grain": "week"}, "parameter 'grain': unknown grain 'week'"),
    ({"grain": "hour", "start": "2026-11-01", "end": "2026-11-10"}, "parameter 'grain': hourly values cover at most 7"),
    ({"grain": "day", "start": "2026-01-01", "end": "2026-11-10"}, "parameter 'grain': daily values cover at most 62"),
    ({"compare": "maybe"}, "parameter 'compare': unknown value 'maybe'"),
])
def test_each_bad_parameter_gets_a_message_naming_it(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ExploreError) as err:
        state(**params)
    assert words in str(err.value)


def test_a_huge_bad_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(ExploreError) as err:
        state(indicator="x" * 5000)
    assert len(str(err.value)) < 300


# ---- range and grain ----------------------------------------------------------------------

@pytest.mark.parametrize("days, grain", [(1, "hour"), (2, "hour"), (3, "day"), (62, "day"), (63, "month"),
                                         (366, "month")])
def test_the_grain_follows_the_length_of_the_range(days: int, grain: str) -> None:
    end = date(2026, 11, 24)
    s = state(start=(end - timedelta(days=days - 1)).isoformat(), end=end.isoformat())
    assert (s.days, s.grain, s.auto_grain) == (days, grain, True)


def test_a_year_and_a_day_is_the_longest_range_and_grains_may_be_chosen() -> None:
    assert state(start="2025-11-24", end="2026-11-24").days == 366
    with pytest.raises(ExploreError, match="367 days"):
        state(start="2025-11-23", end="2026-11-24")
    assert state(grain="hour").grain == "hour"                      # a week, hourly
    assert state(grain="month", start="2026-11-20", end="2026-11-24").grain == "month"


def test_a_missing_end_is_a_week_on_and_a_missing_start_a_week_back() -> None:
    assert (state(start="2026-11-01").end, state(start="2026-11-22").end) == (date(2026, 11, 7), date(2026, 11, 25))
    assert state(end="2026-11-10").start == date(2026, 11, 4)


def test_buckets_are_local_hours_days_or_months_cut_to_the_range() -> None:
    hours = m.buckets(state(start="2026-11-23", end="2026-11-24"), TZ)
    assert len(hours) == 48 and hours[0].start == datetime(2026, 11, 23, tzinfo=TZ)
    days = m.buckets(state(), TZ)
    assert [b.key for b in days][:2] == ["2026-11-18", "2026-11-19"] and len(days) == 7
    months = m.buckets(state(start="2026-01-15", end="2026-03-10", grain="month"), TZ)
    assert [(b.start.date(), b.end.date()) for b in months] == [
        (date(2026, 1, 15), date(2026, 2, 1)), (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 11))]


# ---- the compared period ------------------------------------------------------------------

def test_the_previous_period_is_just_before_and_weeks_land_on_the_same_weekdays() -> None:
    week = state(compare="prev")
    assert week.shift_days == 7 and week.previous_range() == (date(2026, 11, 11), date(2026, 11, 17))
    assert week.previous_range()[0].weekday() == week.start.weekday()
    ten = state(start="2026-11-01", end="2026-11-10", compare="prev")
    assert ten.previous_range() == (date(2026, 10, 22), date(2026, 10, 31))    # ends the day before
    year = state(compare="year")
    assert year.shift_days == 364 and year.previous_range()[0].weekday() == year.start.weekday()
    assert state().previous_range() is None


def test_a_cut_month_moves_whole_and_keeps_its_cut() -> None:
    first = m.buckets(state(start="2026-01-15", end="2026-03-10", grain="month", compare="prev"), TZ)[0]
    back = m.shifted(first, -55)
    assert (back.start.date(), back.end.date()) == (date(2025, 11, 21), date(2025, 12, 8))
    assert back.key != first.key and back.start.hour == 0


# ---- values over the range ----------------------------------------------------------------

def test_combining_buckets_follows_the_indicators_time_rollup() -> None:
    values, hours = [1.0, None, 4.0], [24.0, 24.0, 12.0]
    assert numbers.combine(values, hours, "mean") == pytest.approx((24 + 48) / 36)
    assert numbers.combine(values, hours, "daily_total") == 5.0 == numbers.combine(values, hours, "sum")
    assert (numbers.combine(values, hours, "max"), numbers.combine(values, hours, "min")) == (4.0, 1.0)
    assert numbers.combine(values, hours, "latest") == 4.0
    assert numbers.combine([None, None], [1.0, 1.0], "mean") is None


def test_change_is_against_the_size_of_the_previous_value() -> None:
    assert numbers.change_pct(110, 100) == pytest.approx(10.0)
    assert numbers.change_pct(-90, -100) == pytest.approx(10.0)
    assert numbers.change_pct(5, 0) is None and numbers.change_pct(None, 3) is None


class FakeReader:
    """Every area's value is its district number; the reads are recorded."""

    def __init__(self) -> None:
        self.reads: list[tuple[datetime, datetime, timedelta]] = []

    def series(self, ids: Any, area_ids: Any, start: datetime, end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        self.reads.append((start, end, step))
        stamps = pd.date_range(start, end, freq=step, inclusive="left")
        rows = [(ts, i, a, float(int(a[-1]) if a[-1].isdigit() else 0)) for i in ids for a in area_ids for ts in stamps]
        return Frame(pd.DataFrame(rows, columns=SERIES_COLUMNS), as_of=end, source="fake")


def test_values_are_read_a_calendar_month_at_a_time_and_nothing_after_now() -> None:
    reader = FakeReader()
    s = state(start="2026-10-20", end="2026-11-25", areas="D01,D02")
    series = numbers.read_series(reader, s.indicator, ["D01", "D02"], m.buckets(s, TZ), NOW)
    assert len(reader.reads) == 2                                   # October, November
    assert max(end for _, end, _ in reader.reads) <= NOW + timedelta(hours=1)
    assert series.values["D02"][:3] == [2.0, 2.0, 2.0] and series.totals == {"D01": 1.0, "D02": 2.0}
    assert len(series.values["D01"]) == 37


def test_a_counter_totals_its_days_and_the_compared_period_stops_at_the_same_moment() -> None:
    reader = FakeReader()
    s = state(indicator="alerts", start="2026-11-19", end="2026-11-25", areas="D03", compare="prev")
    ex = numbers.explore(reader, s, TZ, NOW)
    assert ex.current.totals["D03"] == 3.0 * 7                      # seven day totals of 3
    assert ex.previous is not None and ex.previous.totals["D03"] == 3.0 * 7
    assert [b.start.date() for b in ex.previous.buckets][0] == date(2026, 11, 12)
    assert max(end for _, end, _ in reader.reads[1:]) <= NOW - timedelta(days=7) + timedelta(days=1)


def test_summary_rows_say_whether_the_change_is_for_the_better() -> None:
    def series(value: float) -> numbers.Series:
        return numbers.Series([], {"D01": []}, {"D01": value}, Frame(pd.DataFrame(), as_of=NOW, source="x"))

    lower = state(areas="D01", compare="prev")
    row = numbers.summary_rows(numbers.Exploration(lower, series(1.2), series(1.0)), "zh")[0]
    assert (row["value"], row["previous"], row["change"], row["trend"]) == (1.2, 1.0, 20.0, "worse")
    higher = replace(lower, indicator=ind("x", better="higher"))
    assert numbers.summary_rows(numbers.Exploration(higher, series(1.2), series(1.0)), "zh")[0]["trend"] == "better"
