"""The analysis pages on the simulated city: built from the catalogue, KPI cards that say
where their numbers come from, exports that hold the rows, the pages' own numbers."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from components.detail_grid import export_bytes
from pages.safety import model as safety_model
from pages.traffic import model as dm
from service.kpi import Kpi, read_kpis, thresholds_apply
from tests.conftest import cockpit_with_indicator


@pytest.fixture(scope="module")
def cockpit(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The default city plus one traffic indicator that no code knows about."""
    yield from cockpit_with_indicator(tmp_path_factory.mktemp("cfg"), {
        "id": "bus_punctuality", "name_zh": "公交准点率", "name_en": "Bus punctuality", "unit": "%",
        "domain": "traffic", "better": "higher", "target": 90, "warn": 85, "alarm": 80,
        "rollup": {"method": "weighted_mean", "by": "population"},
        "binding": {"source": "sim", "metric": "hotline_close_rate"}})


def _text(component) -> str:  # type: ignore[no-untyped-def]
    import json

    from plotly.utils import PlotlyJSONEncoder

    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


def test_a_new_indicator_in_the_config_shows_on_its_domain_page(cockpit) -> None:  # type: ignore[no-untyped-def]
    from pages.traffic import page as traffic

    page = _text(traffic.layout())
    assert "公交准点率" in page and '"data-indicator": "bus_punctuality"' in page
    drilled = _text(traffic.layout(indicator="bus_punctuality", area="D01"))
    assert "drill-by-area" in drilled and "error-detail" not in drilled


def test_bad_url_parameters_show_a_message_not_a_traceback(cockpit) -> None:  # type: ignore[no-untyped-def]
    from pages.safety import page as safety

    page = _text(safety.layout(indicator="alerts_110_today", area="'; select 1; --"))
    assert "unknown area" in page and "error-detail" in page


def test_kpis_compare_with_yesterday_and_last_week_and_say_their_source(cockpit) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    inds = [cockpit.catalogue.get(i) for i in ("traffic_tpi", "alerts_110_today")]
    kpis = {k.indicator.id: k for k in read_kpis(cockpit.data, inds, "D01", "district", now)}
    tpi = kpis["traffic_tpi"]
    assert tpi.value is not None and tpi.yesterday is not None and tpi.last_week is not None
    assert len(tpi.spark) == 24 and tpi.query_text() == "sim: metric=tpi"
    assert tpi.status in {"good", "warn", "alarm"}
    # the city's 110 target does not judge one district
    assert kpis["alerts_110_today"].status == "unknown"
    assert thresholds_apply(inds[1], "city") and not thresholds_apply(inds[1], "district")


def test_change_goes_by_the_previous_value() -> None:
    from citybrain.catalogue import Indicator

    ind = Indicator(id="x", name_zh="x", name_en="x", domain="traffic", better="lower", binding={"source": "s"})
    k = Kpi(ind, "city", 110.0, 100.0, 0.0, "good", "#fff")
    assert k.change(k.yesterday) == pytest.approx(0.10) and k.change(k.last_week) is None


def test_exports_hold_every_row_with_readable_headers() -> None:
    rows = pd.DataFrame({"area": ["东城区", "西城区"], "value": [1.5, 2.0], "secret": ["a", "b"]})
    columns = [("area", "区域"), ("value", "数值")]
    csv = export_bytes(rows, columns, "csv")
    assert csv.startswith(b"\xef\xbb\xbf"), "a BOM, so spreadsheet programs read Chinese"
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert back.to_dict("list") == {"区域": ["东城区", "西城区"], "数值": [1.5, 2.0]}
    xlsx = pd.read_excel(io.BytesIO(export_bytes(rows, columns, "xlsx")))
    assert xlsx.to_dict("list") == back.to_dict("list")
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        export_bytes(rows, columns, "pdf")


def test_most_congested_roads_and_response_times() -> None:
    states = pd.DataFrame({"id": ["a", "b", "c"], "speed_kmh": [30.0, 12.0, 18.0], "level": [3, 5, 5]})
    ranked = dm.top_congested(states, {"b": {"name_zh": "人民路"}}, "zh", n=2)
    assert [r.id for r in ranked] == ["b", "c"] and ranked[0].name == "人民路 (b)"
    t0 = pd.Timestamp("2026-11-25T01:00Z")
    events = pd.DataFrame({
        "kind": ["traffic_accident"] * 3 + ["police_110"], "area_id": ["g1", "g2", "g9", "g1"],
        "reported_at": [t0, t0, t0, t0],
        "arrived_at": [t0 + timedelta(minutes=4), t0 + timedelta(minutes=8), pd.NaT, t0],
        "closed_at": [t0 + timedelta(minutes=34), pd.NaT, pd.NaT, t0],
        "category_zh": ["追尾", "剐蹭", "追尾", "盗窃"]})
    times = dm.response_times(events, "traffic_accident", t0.to_pydatetime(), {"g1", "g2"})
    assert (times.count, times.mean_response_min, times.mean_handling_min) == (2, 6.0, 30.0)
    counts = safety_model.counts_by_category(events, "traffic_accident", t0.to_pydatetime(), "zh")
    assert counts.to_dict() == {"追尾": 2, "剐蹭": 1}


def test_a_page_left_open_on_today_redraws_for_the_new_day_at_local_midnight(cockpit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dash import Patch

    from pages.drill import view as view

    store = {"path": "/traffic", "indicator": "traffic_accidents_today", "area": "city", "period": None,
             "lang": "en", "cards": ["traffic_accidents_today"], "day": "2026-11-24"}
    before_midnight = datetime(2026, 11, 24, 15, 59, 30, tzinfo=UTC)    # 23:59:30 in Shanghai
    monkeypatch.setattr(view, "now_utc", lambda: before_midnight)
    main, kept = view.refresh(1, store)
    assert isinstance(main, Patch) and kept is view.no_update, "same day: only the cards are sent"
    monkeypatch.setattr(view, "now_utc", lambda: before_midnight + timedelta(minutes=1))
    main, store_after = view.refresh(2, store)
    assert store_after["day"] == "2026-11-25"
    page = _text(main)
    assert "25 Nov 2026" in page and "24 Nov 2026" not in page
