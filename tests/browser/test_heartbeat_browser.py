"""The heartbeat page in real Chromium: the index shows, a tick changes it, a screenshot."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import read_all, read_one, save_screenshot, wait_for

pytestmark = pytest.mark.browser


def _viewport(dash_duo, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def test_heartbeat_shows_index_and_it_changes_on_the_next_tick(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo, 1920, 1080)
    dash_duo.wait_for_element("#hb-index-value", timeout=20)
    first = read_one(dash_duo, "#hb-index-value")
    assert first.replace(".", "").isdigit(), f"index shows {first!r}"
    assert 0 <= float(first) <= 100

    # every panel is there and full
    assert len(read_all(dash_duo, ".pulse-row")) == 7
    assert len(read_all(dash_duo, ".tick")) >= 1
    assert len(read_all(dash_duo, ".tile")) >= 6
    links = read_all(dash_duo, "a.tile-link", "href")
    assert len(links) >= 6 and all("indicator=" in h for h in links), "a headline opens its drill-down"
    dash_duo.wait_for_contains_text("#shell-clock-time", ":", timeout=15)

    # the next tick brings new values: the data's as-of time, and the index or a headline
    def reading() -> tuple[str, ...]:
        pulses = tuple(read_all(dash_duo, ".pulse-value"))
        return (read_one(dash_duo, "#hb-index-value"), *read_all(dash_duo, ".tile-value"), *pulses)

    def as_of() -> str:
        return re.search(r"\d\d:\d\d:\d\d", read_one(dash_duo, "#shell-freshness"))[0]

    first_as_of = as_of()
    before = reading()
    deadline = time.monotonic() + 30  # two ticks of 5 s, with room for a loaded machine
    while time.monotonic() < deadline and reading() == before:
        time.sleep(0.5)
    after = reading()
    assert after != before, f"no value changed over two ticks: {before}"
    assert as_of() != first_as_of, "the data's as-of time did not move"
    assert after[0].replace(".", "").isdigit()

    freshness = read_one(dash_duo, "#shell-freshness")
    assert "数据时间" in freshness
    # the header's age is kept by the browser, so it goes on ageing if the server stops
    assert wait_for(lambda: "秒前" in read_one(dash_duo, "#shell-freshness .live-badge .badge-age"))
    # and a badge a tick has just re-rendered shows its age at once, not a second later
    assert "秒前" in dash_duo.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const header = document.querySelector('#shell-freshness');
        new MutationObserver((_, watching) => {
          const age = header.querySelector('.badge-age');
          if (!age || age.textContent) { return; }
          watching.disconnect();   // a new, still empty badge: look again two frames on
          requestAnimationFrame(() => requestAnimationFrame(() => done(age.textContent)));
        }).observe(header, {childList: true, subtree: true});
    """)
    save_screenshot(dash_duo, "heartbeat-1920x1080")
    assert dash_duo.get_logs() == [], "browser console errors"


def test_language_switch_renders_english(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo, 1920, 1080)
    dash_duo.wait_for_element("#shell-lang-switch", timeout=20).click()
    dash_duo.wait_for_contains_text(".brand-page", "City heartbeat", timeout=20)
    dash_duo.wait_for_contains_text(".pulse-label", "Traffic", timeout=20)
    assert "lang=en" in dash_duo.driver.current_url
    save_screenshot(dash_duo, "heartbeat-en")
    assert dash_duo.get_logs() == []


def test_a_failing_indicator_blanks_only_its_tile_with_the_reason_on_hover(  # type: ignore[no-untyped-def]
        dash_duo, cockpit_app, tmp_path, monkeypatch):
    from datasources.errors import BadQuery
    from datasources.registry import build_sources
    from service import runtime
    from service.data import DataService
    from tests.unit.test_missing_states import EMPTY, FAILING, EmptyStore, FailingStore, _config

    config = _config(tmp_path)
    sources = build_sources(config)
    sources["dead"] = FailingStore("dead", BadQuery("dead", "relation alerts does not exist"))
    sources["empty"] = EmptyStore()
    monkeypatch.setattr(runtime, "_current", runtime.Cockpit(config, DataService(config, sources=sources)))
    weighted = [i.id for i in config.catalogue.weighted()]
    used = len(weighted) - len({FAILING, EMPTY} & set(weighted))

    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo, 1920, 1080)
    dash_duo.wait_for_element(f"a.tile-error[href*='indicator={FAILING}']", timeout=20)
    failing = dash_duo.find_element(f"a.tile-error[href*='indicator={FAILING}']")
    assert "错误" in failing.text and "relation alerts does not exist" in failing.get_attribute("title")
    empty = dash_duo.find_element(f"a.tile-no-data[href*='indicator={EMPTY}']")
    assert "暂无数据" in empty.text and "0" not in empty.find_element("css selector", ".tile-number").text
    assert len(read_all(dash_duo, ".tile-ok .tile-value")) >= 4, "the other tiles keep their numbers"
    assert read_one(dash_duo, ".index-note") == f"基于 {used}/{len(weighted)} 项指标"
    assert read_one(dash_duo, "#hb-index-value").replace(".", "").isdigit()
    assert len(read_all(dash_duo, ".pulse-row")) == 7
    save_screenshot(dash_duo, "heartbeat-one-indicator-failing")
    assert dash_duo.get_logs() == []
