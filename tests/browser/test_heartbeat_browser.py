"""The heartbeat page in real Chromium: the index shows, a tick changes it, a screenshot."""

from __future__ import annotations

import re
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException

from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser


def _viewport(dash_duo, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _texts(dash_duo, selector: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Texts of the elements matching ``selector``, retried while a tick re-renders them."""
    for _ in range(20):
        try:
            return [e.text for e in dash_duo.find_elements(selector)]
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError(f"{selector} kept re-rendering")


def test_heartbeat_shows_index_and_it_changes_on_the_next_tick(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo, 1920, 1080)
    dash_duo.wait_for_element("#hb-index-value", timeout=20)
    first = dash_duo.find_element("#hb-index-value").text
    assert first.replace(".", "").isdigit(), f"index shows {first!r}"
    assert 0 <= float(first) <= 100

    # every panel is there and full
    assert len(dash_duo.find_elements(".pulse-row")) == 7
    assert len(dash_duo.find_elements(".tick")) >= 1
    assert len(dash_duo.find_elements(".tile")) >= 6
    links = [e.get_attribute("href") for e in dash_duo.find_elements("a.tile-link")]
    assert len(links) >= 6 and all("indicator=" in h for h in links), "a headline opens its drill-down"
    dash_duo.wait_for_contains_text("#shell-clock-time", ":", timeout=5)

    # the next tick brings new values: the data's as-of time, and the index or a headline
    def reading() -> tuple[str, ...]:
        pulses = tuple(_texts(dash_duo, ".pulse-value"))
        return (_texts(dash_duo, "#hb-index-value")[0], *_texts(dash_duo, ".tile-value"), *pulses)

    def as_of() -> str:
        return re.search(r"\d\d:\d\d:\d\d", _texts(dash_duo, "#shell-freshness")[0])[0]

    first_as_of = as_of()
    before = reading()
    deadline = time.monotonic() + 2.5 * 5  # two ticks of 5 s, with slack
    while time.monotonic() < deadline and reading() == before:
        time.sleep(0.5)
    after = reading()
    assert after != before, f"no value changed over two ticks: {before}"
    assert as_of() != first_as_of, "the data's as-of time did not move"
    assert after[0].replace(".", "").isdigit()

    freshness = dash_duo.find_element("#shell-freshness").text
    assert "数据时间" in freshness
    save_screenshot(dash_duo, "heartbeat-1920x1080")
    assert dash_duo.get_logs() == [], "browser console errors"


def test_language_switch_renders_english(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo, 1920, 1080)
    dash_duo.wait_for_element("#shell-lang-switch", timeout=20).click()
    dash_duo.wait_for_contains_text(".brand-page", "City heartbeat", timeout=10)
    dash_duo.wait_for_contains_text(".pulse-label", "Traffic", timeout=10)
    assert "lang=en" in dash_duo.driver.current_url
    save_screenshot(dash_duo, "heartbeat-en")
    assert dash_duo.get_logs() == []
