"""The leader cockpit in real Chromium: desktop and tablet fit without sideways scrolling,
every headline indicator shows, the ranking sorts, a district click opens its drill-down."""

from __future__ import annotations

import time

import pytest

from service import runtime
from tests.browser.conftest import read_all, read_one, save_screenshot, url_params, wait_for

pytestmark = pytest.mark.browser


def _open(dash_duo, app, width: int, height: int, lang: str = "zh") -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(app)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.get(dash_duo.server_url + ("/cockpit?lang=en" if lang == "en" else "/cockpit"))
    dash_duo.wait_for_element(".ck-row", timeout=20)
    dash_duo.wait_for_element("#ck-trend-graph .js-plotly-plot", timeout=20)


def _order(dash_duo) -> list[str]:  # type: ignore[no-untyped-def]
    return read_all(dash_duo, ".ck-row", "data-area")




@pytest.mark.parametrize(("width", "height", "lang", "name"), [
    (1920, 1080, "zh", "cockpit-desktop"), (1024, 768, "zh", "cockpit-tablet"),
    (1024, 768, "en", "cockpit-tablet-en")])
def test_cockpit_fits_the_screen_and_shows_every_headline_indicator(  # type: ignore[no-untyped-def]
        dash_duo, cockpit_app, width, height, lang, name):
    _open(dash_duo, cockpit_app, width, height, lang)
    scroll, client = dash_duo.driver.execute_script(
        "var d = document.documentElement; return [d.scrollWidth, d.clientWidth];")
    assert client == width and scroll <= client, f"horizontal scroll at {width}×{height}: {scroll} > {client}"

    headline = [i.id for i in runtime.current().catalogue if i.headline]
    gauges = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.ck-gauge')).map(g => [g.dataset.indicator,"
        " g.querySelector('a').href, g.querySelector('.ck-gauge-value').innerText.trim()])")
    assert [indicator for indicator, _, _ in gauges] == headline
    for indicator, href, value in gauges:
        assert f"indicator={indicator}" in href
        assert value, f"{indicator} shows no value"

    assert len(_order(dash_duo)) == 6
    scores = read_all(dash_duo, ".ck-score")
    numbers = [float(s) for s in scores if s != "—"]
    assert numbers == sorted(numbers), f"not worst first: {scores}"
    assert all(read_all(dash_duo, ".ck-att-link", "href"))
    assert read_one(dash_duo, "#ck-attention-count")
    if width >= 1280:   # the desktop fits one screen, the tablet scrolls down
        page_height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight")
        assert page_height <= height, f"desktop page is {page_height} px tall"
    save_screenshot(dash_duo, name)
    if width < 1280 and lang == "zh":
        dash_duo.driver.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
        time.sleep(0.3)
        save_screenshot(dash_duo, f"{name}-lower")
    assert dash_duo.get_logs() == [], "browser console errors"


def _scores(dash_duo) -> list[float]:  # type: ignore[no-untyped-def]
    return [float(text) for text in read_all(dash_duo, ".ck-score") if text != "—"]


def test_ranking_sorts_and_a_district_click_opens_its_drill_down(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    _open(dash_duo, cockpit_app, 1920, 1080)
    name_button = dash_duo.find_element("th.ck-col-name .ck-sort")
    score_button = dash_duo.find_elements("th.ck-col-num .ck-sort")[0]

    score_button.click()   # already sorted worst first: a click puts the best first
    wait_for(lambda: (s := _scores(dash_duo)) == sorted(s, reverse=True) and s != sorted(s))
    assert read_all(dash_duo, ".ck-th-arrow")[1] == "▼"

    name_button.click()
    wait_for(lambda: (n := read_all(dash_duo, ".ck-district-link")) == sorted(n))

    score_button.click()   # a new column starts worst first
    wait_for(lambda: (s := _scores(dash_duo)) == sorted(s) and s != sorted(s, reverse=True))
    worst = _order(dash_duo)[0]

    # click 1 of the analyst's four: the worst district opens its drill-down at that district
    dash_duo.find_element(f'.ck-row[data-area="{worst}"] .ck-district-link').click()
    wait_for(lambda: "/cockpit" not in dash_duo.driver.current_url)
    params = url_params(dash_duo)
    assert params.get("area") == worst and params.get("indicator")
    dash_duo.wait_for_element(".kpi-card", timeout=20)
    save_screenshot(dash_duo, "cockpit-drilled")
