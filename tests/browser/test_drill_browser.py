"""Browser tests of the analysis pages: drill by clicks and by URL, breadcrumbs, export."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from tests.browser.conftest import save_screenshot, url_params, wait_for

pytestmark = pytest.mark.browser






def _css(graph: str) -> str:
    return graph if graph.startswith(".") else f"#{graph}"


def _click_bar(dash_duo, graph: str, label: str) -> None:  # type: ignore[no-untyped-def]
    """Click the bar of the chart ``graph`` (an id or a class selector) whose category is ``label``."""
    def bar():  # type: ignore[no-untyped-def]
        labels = dash_duo.driver.execute_script(
            f"return document.querySelector('{_css(graph)} .js-plotly-plot').data[0].x")
        index = list(labels).index(label)
        return dash_duo.find_elements(f"{_css(graph)} .bars .point path")[index]
    from selenium.webdriver.common.action_chains import ActionChains

    target = wait_for(bar)
    # a user's click lands on plotly's drag layer, which finds the bar under the pointer
    ActionChains(dash_duo.driver).move_to_element(target).pause(0.3).click().perform()


def _tallest(dash_duo, graph: str) -> str:  # type: ignore[no-untyped-def]
    """The category of the highest bar (a zero-height bar has no area to click)."""
    return str(dash_duo.driver.execute_script(
        f"var d = document.querySelector('{_css(graph)} .js-plotly-plot').data[0];"
        "var best = 0; d.y.forEach(function (v, i) { if (v > d.y[best]) { best = i; } });"
        "return d.x[best];"))


def _area_labels(dash_duo) -> list[str]:  # type: ignore[no-untyped-def]
    return list(dash_duo.driver.execute_script(
        "return document.querySelector('#drill-by-area .js-plotly-plot').data[0].x"))


def test_drill_path_by_clicks_and_back_up(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.get(f"{dash_duo.server_url}/traffic?indicator=alerts_110_today")
    dash_duo.wait_for_element("#drill-by-area .bars .point path", timeout=30)
    assert len(dash_duo.find_elements(".kpi-card")) >= 5, "every traffic indicator has a card"
    save_screenshot(dash_duo, "drill-city")

    districts = _area_labels(dash_duo)
    assert len(districts) == 6
    _click_bar(dash_duo, "drill-by-area", _tallest(dash_duo, "drill-by-area"))   # city → district
    district = wait_for(lambda: url_params(dash_duo).get("area"))
    assert district.startswith("D") and len(district) == 3
    wait_for(lambda: _area_labels(dash_duo) != districts)
    streets = _area_labels(dash_duo)
    assert 4 <= len(streets) <= 12
    chosen = _tallest(dash_duo, "drill-by-area")
    _click_bar(dash_duo, "drill-by-area", chosen)                # district → street
    street = wait_for(lambda: (a := url_params(dash_duo).get("area")) != district and a)
    assert street.startswith(district + "S")
    wait_for(lambda: dash_duo.find_element(".crumbs-area .crumb-current").text == chosen)
    save_screenshot(dash_duo, "drill-street")

    # the breadcrumb goes back up to the district
    dash_duo.find_elements(".crumbs-area a.crumb")[1].click()
    wait_for(lambda: url_params(dash_duo).get("area") == district)
    # and the browser's back button returns to the street
    dash_duo.driver.back()
    wait_for(lambda: url_params(dash_duo).get("area") == street)
    wait_for(lambda: dash_duo.find_element(".crumbs-area .crumb-current").text == chosen)

    # a time bar goes one grain down: today → an hour
    dash_duo.wait_for_element("#drill-by-time .bars .point path", timeout=20)
    data = dash_duo.driver.execute_script("return document.querySelector('#drill-by-time .js-plotly-plot').data[0]")
    hour = _tallest(dash_duo, "drill-by-time")
    _click_bar(dash_duo, "drill-by-time", hour)
    period = wait_for(lambda: url_params(dash_duo).get("period"))
    assert period == data["customdata"][list(data["x"]).index(hour)] and "T" in period

    # the page's own charts drill too: an hour of today's profile
    dash_duo.driver.get(f"{dash_duo.server_url}/traffic")
    dash_duo.wait_for_element(".extra-hour_profile .bars .point path", timeout=30)
    _click_bar(dash_duo, ".extra-hour_profile", _tallest(dash_duo, ".extra-hour_profile"))
    assert "T" in wait_for(lambda: url_params(dash_duo).get("period"))
    assert dash_duo.get_logs() == [], "no browser errors on the way"


def test_drill_by_url_export_and_bad_parameters(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": dash_duo.download_path})
    dash_duo.driver.get(f"{dash_duo.server_url}/safety?indicator=alerts_110_today&area=D02&lang=en")
    dash_duo.wait_for_element("#drill-grid .ag-row", timeout=30)
    assert dash_duo.find_element(".crumbs-area .crumb-current").text.endswith("District")
    count_text = dash_duo.find_element("#drill-export-count").text
    shown = int(count_text.rsplit("·", 1)[1])
    dash_duo.find_element("#drill-export-csv").click()
    csv = wait_for(lambda: next(Path(dash_duo.download_path).glob("*.csv"), None))
    time.sleep(0.5)
    rows = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(rows) == shown and {"Area", "Period", "Value"} <= set(rows.columns)
    assert set(rows.ID.str[:3]) == {"D02"}, "the rows behind the chart are the district and its streets"
    dash_duo.find_element("#drill-export-xlsx").click()
    xlsx = wait_for(lambda: next(Path(dash_duo.download_path).glob("*.xlsx"), None))
    time.sleep(0.5)
    assert len(pd.read_excel(xlsx)) == shown
    # charts export as PNG through the mode bar
    assert dash_duo.find_elements("#drill-by-area .modebar-btn[data-title='Download plot as a PNG']")

    for query, words in [("indicator=nope", "unknown indicator 'nope'"),
                         ("area=D99", "unknown area 'D99'"),
                         ("period=2026-13-40", "not a real date"),
                         ("period=2999", "in the future")]:
        dash_duo.driver.get(f"{dash_duo.server_url}/traffic?{query}")
        detail = dash_duo.wait_for_element(".panel-error .error-detail", timeout=15)
        assert words in detail.text, (query, detail.text)
    save_screenshot(dash_duo, "drill-bad-parameter")


def test_from_the_cockpits_worst_district_to_a_grid_and_hour_in_four_clicks(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": dash_duo.download_path})
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.get(f"{dash_duo.server_url}/cockpit")
    worst = dash_duo.wait_for_element(".ck-row .ck-district-link", timeout=30)   # ranked worst first
    worst.click()                                                                # 1: the worst district
    district = wait_for(lambda: url_params(dash_duo).get("area"))
    dash_duo.wait_for_element("#drill-by-area .bars .point path", timeout=30)
    streets = _area_labels(dash_duo)
    _click_bar(dash_duo, "drill-by-area", _tallest(dash_duo, "drill-by-area"))   # 2: its street
    street = wait_for(lambda: (a := url_params(dash_duo).get("area")) != district and a)
    wait_for(lambda: _area_labels(dash_duo) != streets)                          # its grids are drawn
    grid_label = _tallest(dash_duo, "drill-by-area")
    _click_bar(dash_duo, "drill-by-area", grid_label)                           # 3: its grid
    grid = wait_for(lambda: (a := url_params(dash_duo).get("area")) != street and a)
    assert grid.startswith(street) and "G" in grid[len(street):]
    wait_for(lambda: dash_duo.find_element(".crumbs-area .crumb-current").text == grid_label)
    hour_label = _tallest(dash_duo, "drill-by-time")
    _click_bar(dash_duo, "drill-by-time", hour_label)                           # 4: the hour
    hour = wait_for(lambda: url_params(dash_duo).get("period"))
    assert "T" in hour and url_params(dash_duo)["area"] == grid
    # the bar of an hour that still runs says so (·至今); the crumb names the hour alone
    wait_for(lambda: dash_duo.find_element(".crumbs-time .crumb-current").text.endswith(
        hour_label.removesuffix("·至今")))
    save_screenshot(dash_duo, "drill-grid-hour")

    dash_duo.wait_for_element("#drill-grid .ag-row", timeout=20)
    dash_duo.find_element("#drill-export-csv").click()
    csv = wait_for(lambda: next(Path(dash_duo.download_path).glob("*.csv"), None))
    time.sleep(0.5)
    rows = pd.read_csv(csv, encoding="utf-8-sig")
    assert grid in set(rows.ID), "the rows behind the charts hold the grid"
    assert len(rows[rows.ID == grid]) >= 1 and rows["ID"].str.startswith(street).all()
