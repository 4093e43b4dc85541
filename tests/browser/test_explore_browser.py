"""The indicator explorer in real Chromium: a shared link opens the query it names, the
controls rewrite the link, the back button walks back, a bad link shows a message."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import save_screenshot, url_params, wait_for

pytestmark = pytest.mark.browser
GRAPH = "#explore-graph .js-plotly-plot"


def _viewport(dash_duo, height: int = 1080) -> None:  # type: ignore[no-untyped-def]
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": height, "deviceScaleFactor": 1, "mobile": False})






def _traces(dash_duo) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Name, dash style and point count of each line of the chart."""
    return dash_duo.driver.execute_script(
        f"var g = document.querySelector('{GRAPH}'); if (!g || !g.data) {{ return null; }}"
        "return g.data.map(function (d) { return {name: d.name, dash: d.line.dash, n: d.y.length,"
        " values: d.y.filter(function (v) { return v !== null; }).length}; });")


def _week() -> tuple[str, str]:
    """The last seven full days of the city's calendar."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return (today - timedelta(days=7)).isoformat(), (today - timedelta(days=1)).isoformat()


def test_a_shared_link_opens_its_query_and_the_controls_rewrite_it(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo)
    start, end = _week()
    dash_duo.driver.get(f"{dash_duo.server_url}/explore?indicator=traffic_tpi&level=district"
                        f"&areas=D01,D02&start={start}&end={end}&compare=prev")
    traces = wait_for(lambda: _traces(dash_duo))
    # two districts, each with its previous week dashed on the same axis, one point a day
    assert len(traces) == 4, traces
    assert [tr["dash"] for tr in traces] == ["solid", "dash", "solid", "dash"]
    assert all(tr["n"] == 7 and tr["values"] == 7 for tr in traces), traces
    assert "较" not in traces[0]["name"] and "对比期" in traces[1]["name"]
    rows = wait_for(lambda: dash_duo.find_elements("#explore-summary .ag-center-cols-container .ag-row"))
    assert len(rows) == 2
    assert "%" in rows[0].text or "—" in rows[0].text
    # the PNG export is plotly's own mode bar button, without the logo
    config = dash_duo.driver.execute_script(
        f"var c = document.querySelector('{GRAPH}')._context;"
        "return {logo: c.displaylogo, png: c.toImageButtonOptions.format,"
        " buttons: Array.from(document.querySelectorAll('#explore-graph .modebar-btn'))"
        ".map(function (b) { return b.getAttribute('data-title'); })};")
    assert config["logo"] is False and config["png"] == "png", config
    assert any("png" in (b or "").lower() for b in config["buttons"]), config
    save_screenshot(dash_duo, "explore-two-districts")
    _viewport(dash_duo, height=1400)
    save_screenshot(dash_duo, "explore-two-districts-full")
    _viewport(dash_duo)

    # choosing another indicator keeps the areas and the range, and rewrites the link
    dash_duo.find_element("#explore-indicator").click()
    option = wait_for(lambda: [o for o in dash_duo.find_elements(".dash-dropdown-option")
                                if o.text.startswith("空气质量指数")][0])
    headings = [o.text for o in dash_duo.find_elements(".dash-dropdown-option") if o.text.startswith("—")]
    assert "— 交通 —" in headings and "— 环境 —" in headings, headings
    save_screenshot(dash_duo, "explore-indicator-menu")
    option.click()
    wait_for(lambda: url_params(dash_duo).get("indicator") == "aqi")
    query = url_params(dash_duo)
    assert (query["areas"], query["start"], query["end"], query["compare"]) == ("D01,D02", start, end, "prev")
    wait_for(lambda: any("空气质量指数" in h.text for h in dash_duo.find_elements("#explore-chart-panel h2")))
    assert len(_traces(dash_duo)) == 4
    save_screenshot(dash_duo, "explore-indicator-changed")

    # the back button goes back to the shared query
    dash_duo.driver.back()
    wait_for(lambda: url_params(dash_duo).get("indicator") == "traffic_tpi")
    wait_for(lambda: any("交通运行指数" in h.text for h in dash_duo.find_elements("#explore-chart-panel h2")))
    assert dash_duo.get_logs() == [], "browser console errors"


def test_a_bad_link_shows_a_message_naming_the_parameter(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo)
    dash_duo.driver.get(f"{dash_duo.server_url}/explore?indicator=nope&areas=D01")
    dash_duo.wait_for_contains_text("#explore-message", "parameter 'indicator'", timeout=20)
    assert "unknown indicator 'nope'" in dash_duo.find_element("#explore-message").text
    assert "Traceback" not in dash_duo.driver.page_source
    # the controls are there, at their defaults, to put the query right
    assert dash_duo.find_element("#explore-indicator").text
    save_screenshot(dash_duo, "explore-bad-parameter")

    dash_duo.driver.get(f"{dash_duo.server_url}/explore?areas=D01,D02,D03,D04,D05,D06")
    dash_duo.wait_for_contains_text("#explore-message", "parameter 'areas'", timeout=20)
    dash_duo.driver.get(f"{dash_duo.server_url}/explore?start=2026-02-30")
    dash_duo.wait_for_contains_text("#explore-message", "parameter 'start'", timeout=20)
    assert not dash_duo.find_elements(GRAPH)


def test_months_and_hours_in_english(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo, height=1300)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    start = (today - timedelta(days=150)).isoformat()
    dash_duo.driver.get(f"{dash_duo.server_url}/explore?lang=en&indicator=aqi&level=street"
                        f"&areas=city,D01S01,D01S02&start={start}&end={today}&compare=year")
    traces = wait_for(lambda: _traces(dash_duo))
    assert len(traces) == 6 and all(tr["n"] in (5, 6) for tr in traces), traces
    dash_duo.wait_for_contains_text("#explore-chart-panel h2", "Air quality index", timeout=20)
    assert "Monthly" in dash_duo.find_element("#explore-chart-panel h2").text
    save_screenshot(dash_duo, "explore-en-months")

    dash_duo.driver.get(f"{dash_duo.server_url}/explore?lang=en&indicator=alerts_110_today&areas=D01"
                        f"&start={today - timedelta(days=1)}&end={today}&compare=prev")
    traces = wait_for(lambda: _traces(dash_duo) if "Hourly" in dash_duo.find_element(
        "#explore-chart-panel h2").text else None)
    assert len(traces) == 2 and traces[0]["n"] == 48, traces
    assert traces[1]["values"] >= traces[0]["values"]       # compared up to the same hour
    save_screenshot(dash_duo, "explore-en-hours")
    assert dash_duo.get_logs() == []
