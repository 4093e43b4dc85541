"""The explorer page on the simulated city: every catalogue indicator can be chosen, a
shared link renders its chart, bad links and bad control values show a message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from plotly.utils import PlotlyJSONEncoder

from service import runtime
from tests.conftest import cockpit_with_indicator

NOW = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def cockpit(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The default city plus an indicator that exists only for the whole city."""
    yield from cockpit_with_indicator(tmp_path_factory.mktemp("cfg"), {
        "id": "city_gdp_index", "name_zh": "经济景气指数", "name_en": "Economic climate", "domain": "economy",
        "better": "higher", "levels": ["city"], "binding": {"source": "sim", "metric": "hotline_close_rate"}})


@pytest.fixture()
def page(cockpit, monkeypatch):  # type: ignore[no-untyped-def]
    from pages.explore import page as explore

    monkeypatch.setattr(explore, "now_utc", lambda: NOW)
    return explore


def _text(component: Any) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


def _find(component: Any, id_: str) -> Any:
    """The component with ``id_`` in a layout tree."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, id_)
            if found is not None:
                return found
    return None


def test_every_catalogue_indicator_is_offered_under_its_domain(page, cockpit) -> None:  # type: ignore[no-untyped-def]
    options = page.indicator_options(cockpit.catalogue, "zh")
    chosen = [o["value"] for o in options if not o.get("disabled")]
    assert chosen == [i.id for d in ("traffic", "safety", "environment", "energy", "facilities", "services",
                                     "economy") for i in cockpit.catalogue.in_domain(d)]
    assert len(chosen) == len(cockpit.catalogue) and "city_gdp_index" in chosen
    assert [o["label"] for o in options if o.get("disabled")][:2] == ["— 交通 —", "— 安全 —"]


def test_a_shared_link_renders_one_line_per_area_and_dashed_compared_lines(page) -> None:  # type: ignore[no-untyped-def]
    layout = page.layout(indicator="alerts_110_today", areas="D01,D02", start="2026-11-18", end="2026-11-24",
                         compare="prev")
    graph = _find(layout, "explore-graph")
    assert graph is not None, _text(layout)[:2000]
    data = graph.figure["data"]
    assert [d["line"]["dash"] for d in data] == ["solid", "dash", "solid", "dash"]
    assert all(len(d["y"]) == 7 and None not in d["y"] for d in data)
    assert graph.config["displaylogo"] is False and graph.config["toImageButtonOptions"]["format"] == "png"
    rows = _find(layout, "explore-summary").rowData
    assert [r["area_id"] for r in rows] == ["D01", "D02"]
    assert rows[0]["value"] == pytest.approx(sum(data[0]["y"]), abs=0.5)     # a counter totals its days


def test_a_city_only_indicator_renders_at_the_city(page) -> None:  # type: ignore[no-untyped-def]
    layout = page.layout(indicator="city_gdp_index", start="2026-11-24", end="2026-11-24")
    assert len(_find(layout, "explore-graph").figure["data"]) == 1
    assert [o["value"] for o in _find(layout, "explore-level").options] == ["city"]


@pytest.mark.parametrize("params, words", [
    ({"indicator": "nope"}, "parameter 'indicator'"),
    ({"areas": "D01,<script>"}, "parameter 'areas'"),
    ({"start": "2026-11-24", "end": "2026-11-01"}, "parameter 'start'"),
    ({"level": "planet"}, "parameter 'level'"),
])
def test_a_bad_link_shows_its_message_and_controls_to_put_it_right(page, params, words) -> None:  # type: ignore[no-untyped-def]
    layout = page.layout(**params)
    text = _text(_find(layout, "explore-message"))
    assert words in text and "Traceback" not in _text(layout)
    assert _find(layout, "explore-graph") is None
    assert _find(layout, "explore-indicator").value == "traffic_tpi"


def test_controls_make_the_next_url(page) -> None:  # type: ignore[no-untyped-def]
    base = {"indicator": "traffic_tpi", "level": "district", "areas": ["D01", "D02"], "start": "2026-11-18",
            "end": "2026-11-24", "grain": "auto", "compare": "prev"}

    def params(href: str | None) -> dict[str, str]:
        assert href is not None
        return {k: v[0] for k, v in parse_qs(urlparse(href).query).items()}

    href, problem = page.next_href("explore-compare", base, "zh")
    assert problem is None and params(href) == {"indicator": "traffic_tpi", "level": "district",
                                                "areas": "D01,D02", "start": "2026-11-18", "end": "2026-11-24",
                                                "compare": "prev"}
    # another level starts from its first areas; an indicator without the level goes to its own
    assert params(page.next_href("explore-level", {**base, "level": "street"}, "zh")[0])["areas"].count(",") == 2
    city = params(page.next_href("explore-indicator", {**base, "indicator": "city_gdp_index"}, "zh")[0])
    assert (city["level"], city["areas"]) == ("city", "city")
    # bad control values never become a URL
    for change, words in (({"areas": ["D01", "D02", "D03", "D04", "D05", "D06"]}, "at most 5"),
                          ({"areas": None}, "choose at least one"), ({"end": "2030-01-01"}, "in the future"),
                          ({"grain": "hour", "start": "2026-10-01"}, "parameter 'grain'")):
        href, problem = page.next_href("explore-areas", {**base, **change}, "zh")
        assert href is None and problem is not None and words in problem


def test_bucket_labels_name_weekdays_and_cut_months(page) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    from pages.explore import model as m

    tz = ZoneInfo("Asia/Shanghai")
    state = m.read_state(runtime.current().catalogue, _tree(), tz, NOW,
                         {"start": "2026-09-15", "end": "2026-11-24", "grain": "month"}, "zh")
    months = m.buckets(state, tz)
    assert [page.bucket_label(b, "month", "zh") for b in months] == [
        "2026-09-15 – 2026-09-30", "2026年10月", "2026-11-01 – 2026-11-24"]
    day = m.buckets(m.read_state(runtime.current().catalogue, _tree(), tz, NOW, {}, "en"), tz)[0]
    assert page.bucket_label(day, "day", "en") == "18 Nov 2026 Wed"


def _tree():  # type: ignore[no-untyped-def]
    from citybrain.areas import AreaTree

    return AreaTree(runtime.current().data.areas().data)
