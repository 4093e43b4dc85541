"""The leader cockpit page on the simulated city: built from the catalogue, callbacks called
as plain functions, a broken store shown in the panels instead of a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dash._callback_context import context_value
from dash._utils import AttributeDict
from plotly.utils import PlotlyJSONEncoder

import app  # noqa: F401 - the pages register with the app
from citybrain.config import load_config
from pages.cockpit import page as cockpit
from service import runtime
from service.data import DataService
from tests.conftest import says
from tests.unit.test_heartbeat_page import DeadStore

ROOT = Path(__file__).resolve().parents[2]


def _text(component: Any) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


def _install(config: Any, **kwargs: Any) -> Iterator[runtime.Cockpit]:
    before = runtime.current()
    runtime.install(runtime.Cockpit(config, DataService(config, **kwargs)))
    cockpit.TICKS._values.clear()
    yield runtime.current()
    runtime.install(before)
    cockpit.TICKS._values.clear()


@pytest.fixture
def extended(tmp_path: Path) -> Iterator[runtime.Cockpit]:
    """The default city plus a headline indicator no code knows about."""
    raw = yaml.safe_load((ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))
    raw["indicators"].append({
        "id": "bus_punctuality", "name_zh": "公交准点率", "name_en": "Bus punctuality", "unit": "%",
        "domain": "traffic", "better": "higher", "target": 90, "warn": 85, "alarm": 80, "headline": True,
        "rollup": {"method": "weighted_mean", "by": "population"},
        "binding": {"source": "sim", "metric": "hotline_close_rate"}})
    path = tmp_path / "cockpit.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    yield from _install(load_config(path))


@pytest.fixture
def dead() -> Iterator[runtime.Cockpit]:
    yield from _install(load_config(env={}), sources={"sim": DeadStore()})


def test_a_new_headline_indicator_in_the_config_shows_on_the_cockpit(extended) -> None:  # type: ignore[no-untyped-def]
    page = _text(cockpit.layout())
    assert '"data-indicator": "bus_punctuality"' in page and "公交准点率" in page
    assert "/traffic?indicator=bus_punctuality" in page
    headline = [i.id for i in extended.catalogue if i.headline]
    assert 6 <= len(headline) <= 10
    assert all(f'"data-indicator": "{i}"' in page for i in headline)
    assert '"key": "bus_punctuality"' in page            # a ranking column, sortable
    assert "error-detail" not in page


def test_every_district_is_ranked_and_links_to_its_drill_down() -> None:
    rows = cockpit.render("en")["rows"]
    assert rows["error"] is None and len(rows["rows"]) == 6
    for row in rows["rows"]:
        assert f"area={row['id']}" in row["href"] and "lang=en" in row["href"]
    scores = [r["score"] for r in rows["rows"] if r["score"] is not None]
    assert scores == sorted(scores)


def test_english_page_and_a_tick_render_without_errors() -> None:
    page = _text(cockpit.layout(lang="en", unexpected="x"))
    assert "Leader cockpit" in page and "District ranking" in page and "error-detail" not in page
    out = cockpit.refresh_cockpit(1, "en")
    assert len(out) == 7 and out[4]["data"][0]["y"]


def test_ranking_callback_sorts_and_ignores_a_bad_sort_payload() -> None:
    rows = cockpit.render("zh")["rows"]
    body, arrows = cockpit.refresh_ranking(rows, {"key": "name", "ascending": False}, "zh")
    order = [_text(tr).split('"data-area": "')[1][:3] for tr in body]
    by_name = sorted(rows["rows"], key=lambda r: r["name"], reverse=True)
    assert order == [r["id"] for r in by_name] and arrows[0] == "▼"
    body, arrows = cockpit.refresh_ranking(rows, {"key": "'; drop table", "ascending": 1}, "zh")
    assert arrows[1] == "▲" and len(body) == 6        # back to the default: score, worst first


def _click(key: str) -> None:
    prop = json.dumps({"key": key, "type": "ck-sort"}, separators=(",", ":")) + ".n_clicks"
    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop, "value": 1}]))


def test_sort_clicks_start_worst_first_and_then_reverse() -> None:
    _click("traffic_tpi")
    assert cockpit.on_sort([1], cockpit.DEFAULT_SORT, "zh") == {"key": "traffic_tpi", "ascending": False}
    _click("score")
    assert cockpit.on_sort([1], cockpit.DEFAULT_SORT, "zh") == {"key": "score", "ascending": False}
    _click("not_a_column")
    from dash import no_update
    assert cockpit.on_sort([1], cockpit.DEFAULT_SORT, "zh") is no_update


def test_a_dead_store_shows_its_last_good_values_as_stale(dead) -> None:  # type: ignore[no-untyped-def]
    page = _text(cockpit.layout())
    assert any(w in page for w in ("数据过期", "暂无数据", "面板暂不可用")), page[:2000]
    assert "Traceback" not in page


def test_a_failing_read_shows_in_its_panel_and_the_rest_still_renders(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = runtime.current().data

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("events store exploded")

    monkeypatch.setattr(data, "events", boom)
    views = cockpit.render("zh")
    assert says(_text(views["attention"]), "events store exploded")
    assert "events store exploded" not in _text(views["gauges"]) and views["rows"]["error"] is None
    monkeypatch.setattr(data, "latest", boom)
    views = cockpit.render("zh")
    assert says(_text(views["gauges"]), "events store exploded") and views["rows"]["error"]
    body, _arrows = cockpit.refresh_ranking(views["rows"], None, "zh")
    assert says(_text(body), "events store exploded")


def test_a_hotline_ticket_open_for_thirty_hours_is_listed_as_overdue(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    from datasources.base import Frame, utcnow

    now = utcnow()
    ticket = pd.DataFrame([{
        "id": "EV-OLD-1", "kind": "hotline_12345", "severity": 2, "status": "dispatched",
        "reported_at": pd.Timestamp(now) - pd.Timedelta(hours=30), "closed_at": pd.NaT,
        "lon": 115.0, "lat": 27.0, "area_id": "D01", "title_zh": "三十小时未办结的热线工单",
        "title_en": "Hotline ticket open for 30 hours"}])
    data = runtime.current().data

    def events(since: Any, until: Any = None) -> Frame:   # a store that answers what was asked
        return Frame(ticket[ticket.reported_at >= pd.Timestamp(since)].reset_index(drop=True), now, "test")

    monkeypatch.setattr(data, "events", events)
    assert "三十小时未办结的热线工单" in _text(cockpit.render("zh")["attention"])
