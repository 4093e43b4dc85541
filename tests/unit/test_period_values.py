"""Time roll-ups of the drill-down, on a fake history with known answers, and the right
area roll-up on the simulated city (sums add up, indexes are not plain means)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from citybrain import timegrain as tg
from citybrain.catalogue import Indicator
from datasources.base import Frame
from service.period_values import period_values

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)   # 17:30 local


def indicator(time_rollup: str) -> Indicator:
    return Indicator(id="x", name_zh="x", name_en="x", domain="safety", better="lower",
                     time_rollup=time_rollup, binding={"source": "fake"})


class Clockwork:
    """A history: a level that equals the local hour, and a counter that counts one
    event per local hour since local midnight (read at the end of each step)."""

    def __init__(self) -> None:
        self.calls: list[timedelta] = []

    def series(self, ids, area_ids, start, end, step):  # type: ignore[no-untyped-def]
        self.calls.append(step)
        stamps = pd.date_range(start, end, freq=step, inclusive="left", tz=UTC)
        rows = []
        for ts in stamps:
            local = ts.tz_convert(TZ)
            end_local = min(ts + step, pd.Timestamp(NOW)).tz_convert(TZ) - pd.Timedelta(seconds=1)
            count = end_local.hour + 1       # events since midnight at the end of the step
            for area in area_ids:
                value = float(local.hour) if ids == ["level"] else float(count)
                rows.append((ts, ids[0], area, value * (2 if area == "b" else 1)))
        data = pd.DataFrame(rows, columns=["ts", "indicator", "area_id", "value"])
        return Frame(data, as_of=NOW, source="fake")


def _ind(kind: str) -> Indicator:
    ind = indicator(kind)
    return ind.model_copy(update={"id": "level" if kind == "mean" else "count"})


def test_a_level_is_the_mean_over_the_period_and_its_hours() -> None:
    read = Clockwork()
    day = tg.parse("2026-11-24", TZ, NOW)
    pv = period_values(read, _ind("mean"), ["a", "b"], day, day.children(NOW), NOW)
    assert pv.totals["a"] == pytest.approx(np.mean(range(24)))
    assert pv.totals["b"] == pytest.approx(2 * np.mean(range(24)))
    hours = pv.table[pv.table.area_id == "a"].value.tolist()
    assert hours == pytest.approx(list(range(24)))
    assert read.calls == [timedelta(minutes=15)]


def test_a_daily_counter_is_its_last_value_per_day_its_rise_per_hour_and_a_sum_per_month() -> None:
    read = Clockwork()
    day = tg.parse("2026-11-24", TZ, NOW)
    pv = period_values(read, _ind("daily_total"), ["a"], day, day.children(NOW), NOW)
    assert pv.totals["a"] == 24, "a whole day: the count at its end"
    assert pv.table.value.tolist() == [1.0] * 24, "one event in every hour"
    today = tg.parse(None, TZ, NOW)
    live = period_values(read, _ind("daily_total"), ["a"], today, today.children(NOW), NOW)
    assert live.totals["a"] == 18 and len(live.buckets) == 18, "today so far: 00:00 to 17:30"
    month = tg.parse("2026-11", TZ, NOW)
    pv = period_values(read, _ind("daily_total"), ["a"], month, month.children(NOW), NOW)
    days = pv.table.set_index("bucket").value
    assert days["2026-11-24"] == 24 and days["2026-11-25"] == 18
    assert pv.totals["a"] == 24 * 24 + 18, "a month is the sum of its days"


def test_hours_after_now_are_not_read_or_shown() -> None:
    read = Clockwork()
    today = tg.parse(None, TZ, NOW)
    pv = period_values(read, _ind("mean"), ["a"], today, today.children(), NOW)
    assert pv.table.bucket.max() == "2026-11-25T17"


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    from citybrain.config import load_config
    from service.data import DataService

    return DataService(load_config("config/default.yaml"))


def test_city_sums_are_the_sum_of_districts_and_indexes_are_not_plain_means(city) -> None:  # type: ignore[no-untyped-def]
    areas = city.areas().data
    districts = list(areas[areas.level == "district"].id)
    now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)   # 09:00 local, morning rush
    day = tg.today(now, TZ)
    alerts = period_values(city, city.catalogue.get("alerts_110_today"), ["city", *districts], day,
                           day.children(now), now)
    assert alerts.totals["city"] == pytest.approx(alerts.totals[districts].sum())
    latest = city.latest(["traffic_tpi", "population", "police_response_min"], "district", now).data
    by = latest.pivot(index="area_id", columns="indicator", values="value")
    city_now = city.latest(["traffic_tpi", "police_response_min"], "city", now).data.set_index("indicator").value
    # the congestion index comes from the congested road length of the whole city
    assert city_now["traffic_tpi"] != pytest.approx(by.traffic_tpi.mean(), abs=1e-3)
    # response time is weighted by population, not a plain mean of the districts
    weighted = (by.police_response_min * by.population).sum() / by.population.sum()
    assert city_now["police_response_min"] == pytest.approx(weighted, rel=0.02)


def test_a_weighted_mean_weighs_by_the_indicator_named_in_by_whatever_its_metric(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from citybrain.config import DEFAULT_CONFIG, load_config
    from service.data import DataService

    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for ind in raw["indicators"]:
        if ind["id"] == "population":
            ind["id"] = "resident_population"        # its metric stays 'population'
        if ind.get("rollup", {}).get("by") == "population":
            ind["rollup"]["by"] = "resident_population"
    path = tmp_path / "renamed.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    renamed = DataService(load_config(path)).latest(["police_response_min"], "city", now)
    shipped = DataService(load_config(DEFAULT_CONFIG)).latest(["police_response_min"], "city", now)
    assert renamed.error is None and not renamed.data.empty
    assert renamed.data.value.tolist() == shipped.data.value.tolist()


def test_a_rate_summed_over_a_day_is_the_sum_of_its_hours_on_the_simulator() -> None:
    """A store that records an hourly rate: a day is its 24 hours added up, a month its days."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from citybrain.config import load_config
    from citybrain.timegrain import parse
    from datasources.simulator.adapter import SimulatorSource
    from service.period_values import period_values
    from tests.rolled import Rolled

    base = load_config(env={})
    flow = base.catalogue.get("checkpoint_flow").model_copy(update={"time_rollup": "sum"})
    config = base.model_copy(update={"indicators": [flow if i.id == flow.id else i for i in base.indicators]})
    rolled = Rolled(SimulatorSource("sim"), config)
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 26, 4, tzinfo=UTC)
    day = parse("2026-11-25", tz, now)
    start, _end = day.utc_range()
    hourly = rolled.series([flow], ["city"], start, start + timedelta(days=1), timedelta(hours=1)).data
    values = period_values(rolled.service, flow, ["city"], day, [], now)
    assert values.totals["city"] == pytest.approx(hourly.value.sum())
    month = parse("2026-11", tz, now)
    by_day = period_values(rolled.service, flow, ["city"], month, month.children(now), now)
    table = dict(zip(by_day.table.bucket, by_day.table.value, strict=True))
    assert table["2026-11-25"] == pytest.approx(hourly.value.sum())
