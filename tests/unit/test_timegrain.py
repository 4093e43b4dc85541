"""Local periods: parsing, edges, rollover at local midnight, same-weekday comparisons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from citybrain import timegrain as tg

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)          # 17:30 in Shanghai, a Wednesday


def test_today_rolls_over_at_local_midnight_not_utc_midnight() -> None:
    before = datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC)   # 23:59:59 local
    after = before + timedelta(seconds=2)                      # 00:00:01 local, still the 25th in UTC
    assert tg.today(before, TZ).key == "2026-11-25"
    assert tg.today(after, TZ).key == "2026-11-26"
    assert tg.parse(None, TZ, after).key == "2026-11-26", "no period means today, whenever asked"
    start, end = tg.today(after, TZ).utc_range()
    assert start == datetime(2026, 11, 25, 16, tzinfo=UTC) and end - start == timedelta(days=1)


@pytest.mark.parametrize("text, grain, children", [
    ("2026", "year", 11), ("2026-11", "month", 25), ("2026-11-25", "day", 18), ("2026-11-25T14", "hour", 0),
    ("2025-02", "month", 28), ("2024-02", "month", 29),
])
def test_parse_grains_and_children_up_to_now(text: str, grain: str, children: int) -> None:
    period = tg.parse(text, TZ, NOW)
    assert period.grain == grain and period.key == text
    assert len(period.children(NOW)) == children


@pytest.mark.parametrize("text, words", [
    ("2026-13", "not a real date"), ("2026-02-30", "not a real date"), ("26-11", "is not a date"),
    ("2026-11-25T14:00", "is not a date"), ("'; drop table x; --", "is not a date"),
    ("2026-11-26", "in the future"), ("1999", "before 2000"),
])
def test_bad_periods_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(tg.PeriodError, match=words):
        tg.parse(text, TZ, NOW)


def test_trail_parent_and_labels() -> None:
    hour = tg.parse("2026-11-25T08", TZ, NOW)
    assert [p.key for p in hour.trail()] == ["2026", "2026-11", "2026-11-25", "2026-11-25T08"]
    assert hour.label("zh") == "11月25日 8时" and hour.bucket_label("en") == "08:00"
    assert tg.parse("2026-12", TZ, datetime(2027, 1, 5, tzinfo=UTC)).end == datetime(2027, 1, 1, tzinfo=TZ)


def test_shifting_by_weeks_keeps_the_weekday_and_hour() -> None:
    day = tg.parse("2026-11-25", TZ, NOW)
    week_before = day.shifted(-7)
    assert week_before.key == "2026-11-18" and week_before.start.weekday() == day.start.weekday()
    year_before = day.shifted(-7 * 52)
    assert year_before.start.weekday() == day.start.weekday() and year_before.start.year == 2025
    hour = tg.parse("2026-11-25T08", TZ, NOW)
    assert hour.shifted(-1).key == "2026-11-24T08"
