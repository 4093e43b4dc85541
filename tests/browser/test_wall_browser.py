"""Every wall layout at its own resolution: fills the screen exactly, no scrollbars, every
panel inside; and scaled uniformly (letterboxed) on a screen of another aspect."""

from __future__ import annotations

import time

import pytest

import layouts
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser

GEOMETRY = """
const stage = document.getElementById('wall-stage');
const s = stage.getBoundingClientRect();
const panels = Array.from(document.querySelectorAll('.wall-panel')).map(p => {
  const r = p.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; });
return {scrollW: document.documentElement.scrollWidth, scrollH: document.documentElement.scrollHeight,
        w: window.innerWidth, h: window.innerHeight, stage: [s.left, s.top, s.width, s.height],
        panels: panels, scale: Number(stage.getAttribute('data-scale'))};
"""


def _open(dash_duo, name: str, width: int, height: int) -> dict:  # type: ignore[no-untyped-def]
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.get(f"{dash_duo.server_url}/wall?layout={name}")
    dash_duo.wait_for_element("#wall-stage", timeout=20)
    dash_duo.wait_for_element(".wall-body .index-value", timeout=20)
    time.sleep(1.2)   # the fit runs on load and every 0.5 s
    return dash_duo.driver.execute_script(GEOMETRY)


@pytest.mark.parametrize("name", layouts.names())
def test_each_layout_fills_its_screen_exactly(dash_duo, cockpit_app, name: str):  # type: ignore[no-untyped-def]
    screen = layouts.load(name)
    dash_duo.start_server(cockpit_app)
    g = _open(dash_duo, name, screen.width, screen.height)
    assert g["scrollW"] <= g["w"] and g["scrollH"] <= g["h"], "no scrollbars"
    assert g["scale"] == pytest.approx(1.0)
    assert g["stage"] == pytest.approx([0, 0, screen.width, screen.height], abs=1)
    assert len(g["panels"]) == len(screen.panels)
    for left, top, right, bottom in g["panels"]:
        assert left >= 0 and top >= 0 and right <= g["w"] + 0.5 and bottom <= g["h"] + 0.5
    save_screenshot(dash_duo, f"wall-{name}")
    assert dash_duo.get_logs() == []


def test_another_aspect_is_letterboxed_never_stretched(dash_duo, cockpit_app, monkeypatch):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    g = _open(dash_duo, "1080p", 1920, 1200)          # a 16:10 screen under a 16:9 layout
    left, top, width, height = g["stage"]
    assert width / height == pytest.approx(1920 / 1080, rel=1e-3), "uniform scale"
    assert width == pytest.approx(1920, abs=1) and top == pytest.approx(60, abs=1)
    assert g["scrollW"] <= g["w"] and g["scrollH"] <= g["h"]
    save_screenshot(dash_duo, "wall-1080p-on-16x10")

    # the open wall reports its heartbeat, and /health lists it
    import json
    from urllib.request import Request, urlopen

    monkeypatch.setenv("CITYBRAIN_HEALTH_TOKEN", "wall-test-health-token")   # /health's details
    asked = Request(f"{dash_duo.server_url}/health",
                    headers={"Authorization": "Bearer wall-test-health-token"})
    deadline = time.monotonic() + 30
    walls: list = []
    while time.monotonic() < deadline and not walls:
        health = json.loads(urlopen(asked, timeout=5).read())
        walls = [w for w in health["walls"]["recent"] if w["layout"] == "1080p"]
        time.sleep(0.5)
    assert walls and walls[0]["page"] == "/wall?layout=1080p"


def test_playlist_rotates_pauses_and_steps_by_keyboard(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.keys import Keys

    dash_duo.start_server(cockpit_app)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.get(f"{dash_duo.server_url}/wall?playlist=default&dwell=2")
    dash_duo.wait_for_element("#player .player-item", timeout=20)

    def current() -> str:
        return dash_duo.find_element("#player").get_attribute("data-current") or ""

    def settles_on(expected: str, seconds: float = 10) -> str:
        """The page shown once it is ``expected`` (or time is up): the value seen, never a
        second read that the next rotation may already have changed."""
        deadline = time.monotonic() + seconds
        seen = current()
        while time.monotonic() < deadline and seen != expected:
            time.sleep(0.1)
            seen = current()
        return seen

    def history() -> object:
        return dash_duo.driver.execute_script("return [window.__playerHistory, performance.now()]")

    # generous waits: on a loaded machine the pages in the frames can hold the main thread
    assert settles_on("0", 30) == "0", history()
    assert settles_on("1", 30) == "1", ("rotated after its dwell", history())
    shown = dash_duo.driver.execute_script("return window.__playerHistory")
    first_next = next(n for n, (index, _) in enumerate(shown) if index == 1)
    stayed = shown[first_next][1] - shown[first_next - 1][1]
    assert shown[first_next - 1][0] == 0 and stayed >= 1900, shown
    assert len(dash_duo.find_elements("#player .player-item.active")) == 1
    body = dash_duo.find_element("body")
    body.send_keys(Keys.SPACE)                       # pause
    dash_duo.wait_for_element("#player[data-paused='1']", timeout=15)
    paused_on = current()
    time.sleep(2.6)                                  # longer than a dwell: still there
    assert current() == paused_on and dash_duo.find_element("#player-paused").is_displayed()
    other = "0" if paused_on == "1" else "1"
    body.send_keys(Keys.ARROW_RIGHT)                 # next, while paused
    assert settles_on(other, 15) == other
    body.send_keys(Keys.ARROW_LEFT)
    assert settles_on(paused_on, 15) == paused_on
    time.sleep(2.6)
    assert current() == paused_on, "stepping keeps the pause"
    # the hidden pages keep running: the wall in the first frame still ticks
    frame = dash_duo.find_elements("#player .player-item")[0]
    dash_duo.driver.switch_to.frame(frame)
    assert dash_duo.driver.find_element("css selector", "#wall-stage")
    dash_duo.driver.find_element("css selector", "body").send_keys(Keys.ARROW_RIGHT)  # focus inside a page
    dash_duo.driver.switch_to.default_content()
    assert settles_on(other, 15) == other, "keys reach the player from inside a page"
    save_screenshot(dash_duo, "wall-playlist")
