"""The leader cockpit's numbers from hand-made inputs: gauges, ranking, attention, trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from citybrain.areas import Area
from citybrain.catalogue import Binding, Indicator, Rollup
from citybrain.scoring import STATUS_COLOURS, composite
from pages.cockpit import model

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _ind(id_: str, *, better: str = "lower", target: float | None = 4, warn: float | None = 6,
         alarm: float | None = 8, weight: float = 1.0, headline: bool = True, rollup: str = "mean",
         domain: str = "traffic") -> Indicator:
    return Indicator(id=id_, name_zh=f"指标{id_}", name_en=f"Indicator {id_}", domain=domain, better=better,
                     target=target, warn=warn, alarm=alarm, weight=weight, headline=headline,
                     rollup=Rollup(method=rollup), binding=Binding(source="sim"))


TPI = _ind("tpi", weight=3)
SPEED = _ind("speed", better="higher", target=35, warn=25, alarm=18, domain="traffic")
ALERTS = _ind("alerts", target=260, warn=330, alarm=420, rollup="sum", domain="safety")
QUIET = _ind("quiet", headline=False, domain="environment", target=60, warn=65, alarm=70)
CATALOGUE = [TPI, SPEED, ALERTS, QUIET]
DISTRICTS = [Area(f"D0{n}", "city", "district", f"区{n}", f"District {n}") for n in (1, 2, 3)]


def _latest(rows: dict[str, dict[str, float | None]]) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": i, "area_id": a, "ts": NOW, "value": v}
                         for a, values in rows.items() for i, v in values.items()])


# ---- gauges ---------------------------------------------------------------------------------

def test_gauge_of_a_lower_is_better_indicator_runs_good_warn_alarm_left_to_right() -> None:
    g = model.gauge(TPI, 7.0)
    assert [b[2] for b in g.bands] == ["good", "warn", "alarm"]
    assert g.bands[0][0] == 0.0 and g.bands[-1][1] == 1.0
    assert g.status == "warn" and g.colour == STATUS_COLOURS["warn"]
    assert g.target_at is not None and g.value_at is not None and g.target_at < g.value_at < 1.0


def test_gauge_of_a_higher_is_better_indicator_runs_alarm_to_good() -> None:
    g = model.gauge(SPEED, 40.0)
    assert [b[2] for b in g.bands] == ["alarm", "warn", "good"]
    assert g.status == "good" and g.value_at is not None and g.value_at > (g.target_at or 1.0)


def test_gauge_scale_widens_to_a_value_past_every_threshold_and_shows_no_value_as_none() -> None:
    far = model.gauge(TPI, 50.0)
    assert far.value_at is not None and 0.95 < far.value_at <= 1.0 and far.bands[-1][2] == "alarm"
    empty = model.gauge(TPI, None)
    assert empty.value_at is None and empty.status == "unknown"
    plain = model.gauge(_ind("x", target=None, warn=None, alarm=None), 3.0)
    assert plain.bands == () and plain.target_at is None and 0.0 <= (plain.value_at or 0.0) <= 1.0


# ---- district ranking -----------------------------------------------------------------------

def test_ranking_puts_the_worst_district_first_and_names_its_weakest_indicator() -> None:
    latest = _latest({
        "D01": {"tpi": 3.0, "speed": 40.0, "alerts": 999.0, "quiet": 55.0},     # good everywhere
        "D02": {"tpi": 9.0, "speed": 30.0, "alerts": 1.0, "quiet": 58.0},       # traffic jam
        "D03": {"tpi": 5.0, "speed": 20.0, "alerts": 50.0, "quiet": 66.0},
    })
    rows = model.district_ranking(CATALOGUE, latest, DISTRICTS, "zh", good_from=80, warn_from=60)
    assert [r.area_id for r in rows][0] == "D02"
    assert [r.score for r in rows] == sorted(r.score for r in rows)
    assert rows[0].weakest == "tpi"
    assert rows[-1].area_id == "D01" and rows[-1].status == "good"
    # a district's share of a city count is shown, not scored or coloured
    d01 = rows[-1]
    assert d01.values["alerts"] == 999.0 and d01.statuses["alerts"] == "unknown"
    expected = composite([TPI, SPEED, QUIET], {"tpi": 3.0, "speed": 40.0, "quiet": 55.0}).value
    assert d01.score == expected
    assert "quiet" not in d01.values            # not headline: scored, not a column


def test_a_district_without_values_goes_last() -> None:
    latest = _latest({"D01": {"tpi": 9.0}, "D02": {"tpi": 3.0}})
    rows = model.district_ranking(CATALOGUE, latest, DISTRICTS, "en", 80, 60)
    assert [r.area_id for r in rows] == ["D01", "D02", "D03"]
    assert rows[-1].score is None and rows[-1].weakest is None and rows[-1].name == "District 3"


def test_sort_rows_keeps_missing_values_last_in_both_directions() -> None:
    rows = [{"id": "a", "name": "b", "score": 50.0, "values": {"tpi": 5.0}},
            {"id": "b", "name": "a", "score": None, "values": {"tpi": None}},
            {"id": "c", "name": "c", "score": 70.0, "values": {"tpi": 9.0}}]
    assert [r["id"] for r in model.sort_rows(rows, "score", True)] == ["a", "c", "b"]
    assert [r["id"] for r in model.sort_rows(rows, "score", False)] == ["c", "a", "b"]
    assert [r["id"] for r in model.sort_rows(rows, "tpi", False)] == ["c", "a", "b"]
    assert [r["id"] for r in model.sort_rows(rows, "name", True)] == ["b", "a", "c"]


def test_first_sort_direction_is_worst_first() -> None:
    by_id = {i.id: i for i in CATALOGUE}
    assert model.default_ascending(by_id, "score") is True
    assert model.default_ascending(by_id, "tpi") is False       # lower is better: highest first
    assert model.default_ascending(by_id, "speed") is True


# ---- needs attention ------------------------------------------------------------------------

def test_attention_lists_indicators_in_alarm_at_city_and_district_level() -> None:
    by_area = {"city": {"tpi": 8.5, "alerts": 500.0, "speed": 30.0},
               "D01": {"tpi": 9.5, "alerts": 480.0}, "D02": {"tpi": 5.0}}
    items = model.indicators_in_alarm(CATALOGUE, by_area, {"city": "全市", "D01": "区1"}, "zh", "city")
    keys = [a.key for a in items]
    assert set(keys) == {"tpi@city", "alerts@city", "tpi@D01"}   # a district's share of a sum is not judged
    tpi_d01 = next(a for a in items if a.key == "tpi@D01")
    assert tpi_d01.href == "/traffic?indicator=tpi&area=D01" and tpi_d01.area == "区1"
    assert tpi_d01.detail["alarm"] == "8.0"
    city = next(a for a in items if a.key == "tpi@city")
    assert "area=" not in city.href


def test_attention_knows_the_city_by_the_root_id_of_the_hierarchy() -> None:
    by_area = {"360800": {"tpi": 8.5, "alerts": 500.0}, "360802": {"tpi": 9.5, "alerts": 480.0}}
    items = model.indicators_in_alarm(CATALOGUE, by_area, {"360800": "吉安市"}, "zh", "360800")
    assert {a.key for a in items} == {"tpi@360800", "alerts@360800", "tpi@360802"}
    city = next(a for a in items if a.key == "tpi@360800")
    assert city.area == "吉安市" and "area=" not in city.href
    assert items[0].key.endswith("@360800")   # the city comes first


def _events(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """(id, kind, status, minutes ago) → an events frame."""
    return pd.DataFrame([{
        "id": i, "kind": k, "severity": 2, "status": s, "reported_at": NOW - timedelta(minutes=m),
        "closed_at": NOW - timedelta(minutes=1) if s == "closed" else pd.NaT, "lon": 0.0, "lat": 0.0,
        "area_id": "G1", "title_zh": f"事件{i}", "title_en": f"Event {i}", "source": "sim"}
        for i, k, s, m in rows])


def test_open_events_past_their_deadline_are_overdue_most_overdue_first() -> None:
    events = _events([
        ("late110", "police_110", "dispatched", 45),      # 15 min past 30
        ("fire", "fire_119", "handling", 90),             # 60 min past 30: two deadlines
        ("hotline", "hotline_12345", "reported", 120),    # within its day
        ("done", "police_110", "closed", 300),
        ("odd", "unknown_kind", "reported", 9999),
        ("fresh", "medical_120", "reported", 10),
    ])
    late = model.overdue_events(events, NOW)
    assert list(late["id"]) == ["fire", "late110"]
    assert list(late["overdue_min"]) == pytest.approx([60.0, 15.0])
    items = model.event_items(late, {"G1": "网格1"}, "en", "/map?lang=en")
    assert [i.title for i in items] == ["Event fire", "Event late110"]
    assert items[0].href == "/map?lang=en" and items[0].area == "网格1" and items[0].severity == 2.0


def test_no_events_means_nothing_overdue() -> None:
    empty = _events([]).reindex(columns=["id", "kind", "status", "reported_at", "closed_at", "area_id"])
    assert model.overdue_events(empty, NOW).empty


# ---- city index trend -----------------------------------------------------------------------

def test_index_trend_scores_every_time_step() -> None:
    t0, t1 = NOW - timedelta(hours=1), NOW
    series = pd.DataFrame([
        {"ts": t0, "indicator": "tpi", "area_id": "city", "value": 4.0},
        {"ts": t0, "indicator": "speed", "area_id": "city", "value": 35.0},
        {"ts": t1, "indicator": "tpi", "area_id": "city", "value": 8.0},
        {"ts": t1, "indicator": "speed", "area_id": "city", "value": None},
        {"ts": t1, "indicator": "tpi", "area_id": "D01", "value": 1.0},
    ])
    trend = model.index_trend(CATALOGUE, series, "city")
    assert [ts for ts, _ in trend] == [t0, t1]
    assert trend[0][1] == 80.0 and trend[1][1] == 30.0
    assert model.index_trend(CATALOGUE, series.iloc[:0], "city") == []
    rooted = series.assign(area_id=series.area_id.replace({"city": "360800"}))
    assert model.index_trend(CATALOGUE, rooted, "360800") == trend
