"""What the pages show on the example platform: every number read off the rendered page
(heartbeat tiles and index, cockpit ranking, drill bars, explorer lines, map colours, KPI
changes) equals a recomputation written here from the platform's own tables.

Built into real PostgreSQL and MariaDB (one run each) and Redis. The expectations are exact
rationals from the tables' decimals, shown with a half-up rounding written here; nothing
here calls the roll-up, scoring or number-formatting code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
import pytest
import yaml

from citybrain.config import load_config
from service import runtime
from tests.adapters.platform_fixture import TABLES, TZ, hourly_aqi, table

CITY = "360800"
DISTRICTS = ["360802", "360803", "360821", "360822", "360823", "360824"]
SILENT = "360824"          # 新干县: no row for the current hour
NUMBERS = ["vehicle_flow", "pm25", "pm10", "so2", "no2", "o3", "co", "noise_db", "police_alerts",
           "resident_pop", "response_min"]


# ---- exact numbers and their text, written out here ---------------------------------------

def exact(value: Any) -> Fraction | None:
    """A table value as an exact rational (NUMERIC arrives as Decimal); None when missing."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if isinstance(value, float):
        return Fraction(repr(float(value)))
    return Fraction(str(value))


def shown(value: Fraction | float | None, decimals: int) -> str:
    """``value`` as the screen must show it: half up (away from zero), thousands grouped,
    missing as '—'."""
    if value is None:
        return "—"
    exact_value = value if isinstance(value, Fraction) else Fraction(repr(float(value)))
    scaled = abs(exact_value) * 10 ** decimals
    units = math.floor(scaled + Fraction(1, 2))          # half up, away from zero
    rounded = Decimal(units if exact_value >= 0 else -units).scaleb(-decimals)
    rounded = abs(rounded) if rounded.is_zero() else rounded
    return f"{rounded:,.{decimals}f}"


def mean(values: list[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def weighted(values: list[Fraction | None], weights: list[Fraction | None]) -> Fraction:
    pairs = [(v, w) for v, w in zip(values, weights, strict=True) if v is not None and w is not None]
    return sum((v * w for v, w in pairs), Fraction(0)) / sum((w for _, w in pairs), Fraction(0))


def occupancy(lots: pd.DataFrame) -> Fraction:
    occupied = sum((exact(v) for v in lots.occupied), Fraction(0))
    return 100 * occupied / sum((exact(v) for v in lots.capacity), Fraction(0))


def aqi_of(rows: pd.DataFrame) -> int:
    """The HJ 633 AQI of the rows' mean concentrations (a missing reading left out)."""
    return hourly_aqi({p: float(mean([exact(v) for v in rows[p] if exact(v) is not None])) for p in TABLES})


@dataclass(frozen=True)
class Rule:
    """An indicator's thresholds and weight, read from the config file itself."""

    target: float
    warn: float
    alarm: float
    weight: Fraction
    lower: bool


def score(rule: Rule, value: Fraction) -> Fraction:
    """0–100: 80 at target, 60 at warn, 30 at alarm, 0 one warn→alarm span past alarm, 100
    one target→warn span better than target; straight lines between."""
    sign = 1 if rule.lower else -1
    x = sign * value
    t, w, a = (sign * Fraction(str(m)) for m in (rule.target, rule.warn, rule.alarm))
    points = [(t - (w - t), Fraction(100)), (t, Fraction(80)), (w, Fraction(60)), (a, Fraction(30)),
              (a + (a - w), Fraction(0))]
    if x <= points[0][0]:
        return Fraction(100)
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return Fraction(0)


def index(rules: dict[str, Rule], values: dict[str, Fraction]) -> Fraction:
    """The weighted mean score of the weighted indicators."""
    parts = {k: (score(r, values[k]), r.weight) for k, r in rules.items() if k in values}
    return sum((s * w for s, w in parts.values()), Fraction(0)) / sum((w for _, w in parts.values()), Fraction(0))


# ---- reading a rendered page --------------------------------------------------------------

def walk(node: Any) -> Iterator[Any]:
    """Every component in a layout tree."""
    if isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)
    elif hasattr(node, "to_plotly_json"):
        yield node
        yield from walk(getattr(node, "children", None))


def prop(component: Any, name: str) -> Any:
    return component.to_plotly_json()["props"].get(name)


def by_id(root: Any, wanted: Any) -> Any:
    found = [c for c in walk(root) if getattr(c, "id", None) == wanted]
    assert len(found) == 1, f"{wanted!r} found {len(found)} times"
    return found[0]


def by_class(root: Any, name: str) -> list[Any]:
    return [c for c in walk(root) if name in (getattr(c, "className", None) or "").split()]


def text(node: Any) -> str:
    """All text inside a component tree."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(text(c) for c in node)
    return text(getattr(node, "children", None))


# ---- the platform's tables and the installed cockpit --------------------------------------

@dataclass(frozen=True)
class Tables:
    facts: pd.DataFrame          # fact_district_hourly, stat_hour aware (UTC)
    lots: pd.DataFrame           # parking_status, stat_time aware (UTC)
    rules: dict[str, Rule]       # the weighted indicators' thresholds from the config
    raw: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def site(platform) -> Iterator[Tables]:  # noqa: ANN001
    """The platform's tables, and a cockpit on its config installed for the pages (the
    previous one again afterwards)."""
    import app  # noqa: F401 - the pages register with the app
    from pages.cockpit import page as cockpit_page

    _service, engine, _store, info = platform
    raw = yaml.safe_load(info["config"].read_text(encoding="utf-8"))
    inds = {i["id"]: i for i in raw["indicators"]}
    rules = {k: Rule(i["target"], i["warn"], i["alarm"], Fraction(str(i["weight"])), i["better"] == "lower")
             for k, i in inds.items() if i.get("weight", 0) > 0}
    tables = Tables(table(engine, "fact_district_hourly", "stat_hour"),
                    table(engine, "parking_status", "stat_time"), rules, inds)
    previous = runtime._current
    runtime.install(runtime.build(load_config(info["config"], env={})))
    cockpit_page.TICKS._values.clear()
    try:
        yield tables
    finally:
        runtime._current = previous
        cockpit_page.TICKS._values.clear()


def current_hour(site: Tables) -> pd.DataFrame:
    rows = site.facts[site.facts.stat_hour == site.facts.stat_hour.max()]
    assert pd.Timestamp(datetime.now(UTC)).floor("h") == site.facts.stat_hour.max(), \
        "the hour turned since the platform was built"
    assert sorted(rows.district_code) == sorted(set(DISTRICTS) - {SILENT})
    return rows


def city_now(site: Tables) -> dict[str, Fraction]:
    """The city's current values, recomputed from the tables."""
    rows = current_hour(site)
    newest = site.lots.stat_time.max()
    return {
        "alerts_110": sum((exact(v) for v in rows.police_alerts), Fraction(0)),
        "police_response_min": weighted([exact(v) for v in rows.response_min],
                                        [exact(v) for v in rows.resident_pop]),
        "aqi": Fraction(aqi_of(rows)),
        "noise_db": mean([exact(v) for v in rows.noise_db]),
        "parking_occupancy": occupancy(site.lots[site.lots.stat_time > newest - timedelta(minutes=15)]),
        "checkpoint_flow": sum((exact(v) for v in rows.vehicle_flow), Fraction(0)),
    }


def district_now(site: Tables) -> dict[str, dict[str, Fraction]]:
    """Each district's own newest facts (新干县's an hour old) and its newest parking status."""
    out: dict[str, dict[str, Fraction]] = {}
    for code, group in site.facts.groupby("district_code"):
        row = group.sort_values("stat_hour").iloc[[-1]]
        lots = site.lots[site.lots.district_code == code]
        out[str(code)] = {
            "alerts_110": exact(row.police_alerts.iloc[0]),
            "police_response_min": exact(row.response_min.iloc[0]),
            "aqi": Fraction(aqi_of(row)),
            "noise_db": exact(row.noise_db.iloc[0]),
            "population": exact(row.resident_pop.iloc[0]),
            "parking_occupancy": occupancy(lots[lots.stat_time == lots.stat_time.max()]),
        }
    return out


def local_day(day: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(datetime(day.year, day.month, day.day, tzinfo=TZ)).tz_convert(UTC)
    return start, start + pd.Timedelta(days=1)


# ---- heartbeat ----------------------------------------------------------------------------

def test_heartbeat_tiles_and_index_show_the_recomputed_city(site: Tables) -> None:
    from pages.heartbeat import model
    from pages.heartbeat import page as heartbeat

    page = heartbeat.layout()
    expected = city_now(site)
    headline = [i for i in site.raw.values() if i.get("headline")]
    tiles = by_class(by_id(page, "hb-tiles"), "tile")
    assert len(tiles) == len(headline)
    for tile, ind in zip(tiles, headline, strict=True):
        assert ind["name_zh"] in text(tile)
        value = text(by_class(tile, "tile-value"))
        assert value == shown(expected[ind["id"]], ind.get("decimals", 1)), ind["id"]

    # the index: its inputs are the city values, its number their weighted score
    snap = model.snapshot(runtime.current())
    for ind_id in site.rules:
        assert snap.values[ind_id] == pytest.approx(float(expected[ind_id]), rel=1e-12), ind_id
    assert snap.parts == len(site.rules)
    assert text(by_id(page, "hb-index-value")) == shown(index(site.rules, expected), 1)


# ---- cockpit ------------------------------------------------------------------------------

def test_cockpit_ranks_districts_by_their_recomputed_scores(site: Tables) -> None:
    from pages.cockpit import page as cockpit

    rows = cockpit.render("zh")["rows"]
    assert rows["error"] is None
    values = district_now(site)
    # a district is scored on the weighted indicators whose city thresholds judge it (not sums)
    scorers = {k: r for k, r in site.rules.items() if site.raw[k]["rollup"]["method"] != "sum"}
    scores = {code: index(scorers, v) for code, v in values.items()}
    order = sorted(scores, key=lambda code: (float(shown(scores[code], 1)), code))   # worst first
    assert [r["id"] for r in rows["rows"]] == order
    columns = [i["id"] for i in site.raw.values() if i.get("headline")]
    for row in rows["rows"]:
        assert format(row["score"], ".1f") == shown(scores[row["id"]], 1), row["id"]
        assert set(row["values"]) == set(columns)
        for ind_id in columns:
            assert row["values"][ind_id] == pytest.approx(float(values[row["id"]][ind_id]), rel=1e-12)

    # the table as shown: rank, name, score, then each headline value half up
    body, _arrows = cockpit.refresh_ranking(rows, cockpit.DEFAULT_SORT, "zh")
    for rank, tr in enumerate(body, start=1):
        area = prop(tr, "data-area")
        assert area == order[rank - 1]
        cells = [text(td) for td in tr.children]
        assert cells[0] == str(rank)
        assert text(by_class(tr, "ck-score")) == shown(scores[area], 1)
        got = [text(td) for td in by_class(tr, "ck-value")]
        assert got == [shown(values[area][i], site.raw[i].get("decimals", 1)) for i in columns], area
    # 吉州区's 12.25 minutes is a half at one decimal: 四舍五入 shows 12.3
    assert shown(values["360802"]["police_response_min"], 1) == "12.3"


# ---- drill-downs: bars by area and by time ------------------------------------------------

def figure_of(page: Any, graph_id: str) -> dict[str, Any]:
    return by_id(page, graph_id).figure


def bars(figure: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    """A bar chart's bars: key → (value, the value's text)."""
    main = figure["data"][0]
    return {k: (v, s) for k, v, s in zip(main["customdata"], main["y"], main["hovertext"], strict=True)}


DRILLED = [("traffic", "checkpoint_flow", "vehicle_flow"), ("safety", "alerts_110", "police_alerts")]


@pytest.mark.parametrize(("page_name", "ind_id", "column"), DRILLED)
def test_drill_bars_of_today_are_the_recorded_hours(site: Tables, page_name: str, ind_id: str,
                                                    column: str) -> None:
    import importlib

    page_module = importlib.import_module(f"pages.{page_name}.page")
    decimals = site.raw[ind_id].get("decimals", 1)
    now = datetime.now(UTC)
    day = now.astimezone(TZ).date()
    lo, hi = local_day(day)
    today_rows = site.facts[(site.facts.stat_hour >= lo) & (site.facts.stat_hour < hi)]
    page = page_module.layout(indicator=ind_id)

    # by area: each district's sum of today's recorded hours
    by_area = bars(figure_of(page, "drill-by-area"))
    assert sorted(by_area) == DISTRICTS
    for code in DISTRICTS:
        rows = today_rows[today_rows.district_code == code][column]
        # a district with no row yet today (just after midnight) has no value, not 0
        total = sum((exact(v) for v in rows), Fraction(0)) if len(rows) else None
        value, label = by_area[code]
        assert value == (None if total is None else float(total)) and label == shown(total, decimals), code

    # by time: the city's hours of today so far, each the sum of the districts' rows
    by_time = bars(figure_of(page, "drill-by-time"))
    hours = pd.date_range(lo, pd.Timestamp(now).floor("h"), freq="h")
    assert list(by_time) == [f"{h.tz_convert(TZ):%Y-%m-%dT%H}" for h in hours]
    for h in hours:
        rows = today_rows[today_rows.stat_hour == h]
        total = sum((exact(v) for v in rows[column]), Fraction(0)) if len(rows) else None
        value, label = by_time[f"{h.tz_convert(TZ):%Y-%m-%dT%H}"]
        assert (value is None if total is None else value == float(total)), h
        assert label == shown(total, decimals), h

    # the month's days: today's bar is the day so far, earlier days whole, none before the data
    month = page_module.layout(indicator=ind_id, period=f"{day:%Y-%m}")
    by_day = bars(figure_of(month, "drill-by-time"))
    assert list(by_day)[-1] == f"{day:%Y-%m-%d}" and list(by_day)[0] == f"{day:%Y-%m}-01"
    for key, (value, label) in by_day.items():
        d_lo, d_hi = local_day(date.fromisoformat(key))
        rows = site.facts[(site.facts.stat_hour >= d_lo) & (site.facts.stat_hour < d_hi)]
        total = sum((exact(v) for v in rows[column]), Fraction(0)) if len(rows) else None
        assert (value is None if total is None else value == float(total)), key
        assert label == shown(total, decimals), key
    assert by_day[f"{day:%Y-%m-%d}"][0] == float(sum((exact(v) for v in today_rows[column]), Fraction(0)))


def test_drill_bars_of_a_level_are_the_mean_of_its_hours(site: Tables) -> None:
    """The mean response time: a district's day is the mean of its recorded hours, the
    city's hour the population-weighted mean of the districts that reported it."""
    from pages.safety import page as safety

    now = datetime.now(UTC)
    lo, hi = local_day(now.astimezone(TZ).date())
    today_rows = site.facts[(site.facts.stat_hour >= lo) & (site.facts.stat_hour < hi)]
    page = safety.layout(indicator="police_response_min")
    by_area = bars(figure_of(page, "drill-by-area"))
    for code in DISTRICTS:
        hours = [exact(v) for v in today_rows[today_rows.district_code == code].response_min]
        value, label = by_area[code]
        if not hours:   # no row yet today (just after midnight): no value, not 0
            assert value is None and label == shown(None, 1), code
            continue
        want = mean(hours)
        assert value == pytest.approx(float(want), rel=1e-12) and label == shown(want, 1), code
    by_time = bars(figure_of(page, "drill-by-time"))
    for h, rows in today_rows.groupby("stat_hour"):
        want = weighted([exact(v) for v in rows.response_min], [exact(v) for v in rows.resident_pop])
        value, label = by_time[f"{h.tz_convert(TZ):%Y-%m-%dT%H}"]
        assert value == pytest.approx(float(want), rel=1e-12) and label == shown(want, 1), h


# ---- KPI cards ----------------------------------------------------------------------------

def change_text(label: str, value: Fraction, before: Fraction | None) -> str:
    """'较昨日 ▲3.2%': the arrow the way it went, the size in percent half up."""
    if before is None or before == 0:
        return f"{label} —"
    pct = (value - before) / abs(before) * 100
    arrow = "▲" if pct > 0 else "▼" if pct < 0 else "="
    return f"{label} {arrow}{shown(abs(pct), 1)}%"


def test_kpi_cards_compare_with_the_same_hour_yesterday_and_last_week(site: Tables) -> None:
    from pages.safety import page as safety
    from pages.traffic import page as traffic

    now_values = city_now(site)
    hour = pd.Timestamp(datetime.now(UTC)).floor("h")
    cards = {prop(c, "data-indicator"): c
             for page in (traffic.layout(), safety.layout()) for c in by_class(page, "kpi-card")}
    hourly = {"checkpoint_flow": "vehicle_flow", "alerts_110": "police_alerts"}
    for ind_id, column in hourly.items():
        card = cards[ind_id]
        decimals = site.raw[ind_id].get("decimals", 1)
        assert text(by_class(card, "kpi-value")) == shown(now_values[ind_id], decimals)
        chips = [text(c) for c in by_class(card, "kpi-change")]
        befores = []
        for days in (1, 7):
            rows = site.facts[site.facts.stat_hour == hour - pd.Timedelta(days=days)]
            assert len(rows) == 6
            befores.append(sum((exact(v) for v in rows[column]), Fraction(0)))
        assert chips == [change_text("较昨日", now_values[ind_id], befores[0]),
                         change_text("较上周同期", now_values[ind_id], befores[1])], ind_id

    # parking reports every 15 minutes: the same quarter hour, over the lots that reported in it
    card = cards["parking_occupancy"]
    assert text(by_class(card, "kpi-value")) == shown(now_values["parking_occupancy"], 1)
    quarter = pd.Timestamp(datetime.now(UTC)).floor("15min")
    befores = []
    for days in (1, 7):
        then = quarter - pd.Timedelta(days=days)
        lots = site.lots[(site.lots.stat_time >= then) & (site.lots.stat_time < then + pd.Timedelta(minutes=15))]
        assert len(lots) == 22
        befores.append(occupancy(lots))
    assert [text(c) for c in by_class(card, "kpi-change")] == [
        change_text("较昨日", now_values["parking_occupancy"], befores[0]),
        change_text("较上周同期", now_values["parking_occupancy"], befores[1])]

    card = cards["police_response_min"]
    assert text(by_class(card, "kpi-value")) == shown(now_values["police_response_min"], 1)
    chips = [text(c) for c in by_class(card, "kpi-change")]
    befores = []
    for days in (1, 7):
        rows = site.facts[site.facts.stat_hour == hour - pd.Timedelta(days=days)]
        befores.append(weighted([exact(v) for v in rows.response_min], [exact(v) for v in rows.resident_pop]))
    assert chips == [change_text("较昨日", now_values["police_response_min"], befores[0]),
                     change_text("较上周同期", now_values["police_response_min"], befores[1])]


# ---- explorer -----------------------------------------------------------------------------

@pytest.mark.parametrize(("ind_id", "column"), [("alerts_110", "police_alerts"), ("noise_db", "noise_db"),
                                                ("pm25", "pm25")])
def test_explorer_hourly_lines_are_the_districts_rows(site: Tables, ind_id: str, column: str) -> None:
    from pages.explore import page as explore

    now = datetime.now(UTC)
    day = now.astimezone(TZ).date()
    areas = ["360802", "360823", SILENT]
    page = explore.layout(indicator=ind_id, level="district", areas=",".join(areas),
                          start=f"{day - timedelta(days=1)}", end=f"{day}", grain="hour")
    figure = figure_of(page, "explore-graph")
    assert len(figure["data"]) == len(areas)
    lo, _ = local_day(day - timedelta(days=1))
    decimals = site.raw[ind_id].get("decimals", 1)
    for code, line in zip(areas, figure["data"], strict=True):
        mine = site.facts[site.facts.district_code == code].set_index("stat_hour")[column]
        assert len(line["x"]) == 48
        for n, (x, y, label) in enumerate(zip(line["x"], line["y"], line["text"], strict=True)):
            h = lo + pd.Timedelta(hours=n)
            assert x == f"{h.tz_convert(TZ):%Y-%m-%d %H:%M}"
            want = exact(mine.get(h)) if h in mine.index else None
            assert (y is None if want is None else y == pytest.approx(float(want), rel=1e-12)), (code, x)
            assert label == shown(want, decimals), (code, x)
    if site.raw[ind_id].get("time_rollup") == "sum":   # the summary: the range's recorded hours summed
        summary = {r["area_id"]: r["value"] for r in by_id(page, "explore-summary").rowData}
        for code in areas:
            rows = site.facts[(site.facts.district_code == code) & (site.facts.stat_hour >= lo)]
            assert summary[code] == float(sum((exact(v) for v in rows[column]), Fraction(0))), code
    # what the rough edges look like: 新干县's current hour is missing, never 0
    last = figure["data"][2]["y"]
    assert last[int((pd.Timestamp(now).floor("h") - lo) / pd.Timedelta(hours=1))] is None


# ---- map ----------------------------------------------------------------------------------

def legend_rows(legend: Any) -> list[tuple[str, str]]:
    """A legend block's rows: (swatch colour, label)."""
    out = []
    for row in by_class(legend, "legend-row"):
        swatch = by_class(row, "legend-swatch")[0]
        out.append((swatch.style["background"], text(row.children[1:]).strip()))
    return out


def number(label: str) -> Fraction:
    return Fraction(re.search(r"-?[\d,]+(?:\.\d+)?", label).group(0).replace(",", ""))  # type: ignore[union-attr]


@pytest.mark.parametrize("ind_id", ["aqi", "noise_db", "parking_occupancy", "population"])
def test_map_colours_each_district_by_the_class_its_value_falls_in(site: Tables, ind_id: str) -> None:
    from pages.map import page as map_page

    url, _events, *rest = map_page._map_updates(ind_id, "district", ["areas"], "zh", None)
    assert url == "/geo/districts.json"
    paint = rest[map_page.PAINTED.index("areas")]
    legends = rest[len(map_page.PAINTED)]
    colours = {code: paint["colours"].get(code, paint["base"]) for code in DISTRICTS}
    rows = legend_rows(legends[0])
    values = {code: v[ind_id] for code, v in district_now(site).items()}
    assert sorted(values) == DISTRICTS
    for code, value in values.items():
        if len(rows) == 3 and "–" not in rows[0][1]:     # good < warn, warn, alarm >= alarm
            warn, alarm = number(rows[0][1]), number(rows[2][1])
            band = 2 if value >= alarm else 1 if value >= warn else 0
        else:                                              # classes 'low – high'
            edges = [number(label.split("–")[0]) for _, label in rows] + [number(rows[-1][1].split("–")[1])]
            band = next((n for n in range(len(rows)) if value < edges[n + 1]), len(rows) - 1)
            assert edges[0] <= value <= edges[-1]
        assert colours[code] == rows[band][0], (code, float(value), rows)
