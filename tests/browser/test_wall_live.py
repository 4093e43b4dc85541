"""Live ticks in real Chromium: never two at once on a slow server, nothing resent when
nothing changed, badges that go stale by themselves, failures shown in their panels."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import app  # noqa: F401  (creates the app before its pages are imported)
from citybrain.memo import TtlMemo
from pages.heartbeat import page as heartbeat
from pages.wall import page as wall
from service import runtime
from tests.browser.conftest import read_all, read_one, save_screenshot
from tests.conftest import says
from tests.unit.test_heartbeat_page import DeadStore
from tests.unit.test_live_ticks import raising

pytestmark = pytest.mark.browser
PANELS = 6   # the 1080p layout
ANSWERS = """
return performance.getEntriesByType('resource')
  .filter(r => r.name.includes('_dash-update-component') && r.startTime > arguments[0])
  .map(r => r.encodedBodySize);
"""


def _open(dash_duo, path: str, ready: str = ".wall-body .index-value") -> None:  # type: ignore[no-untyped-def]
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.get(f"{dash_duo.server_url}{path}")
    dash_duo.wait_for_element(ready, timeout=20)


def _until(condition: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


@pytest.mark.parametrize(("path", "module", "name"), [("/wall?layout=1080p", wall, "wall"),
                                                      ("/", heartbeat, "hb")])
def test_a_slow_server_never_gets_two_ticks_of_one_screen_at_once(  # type: ignore[no-untyped-def]
        dash_duo, cockpit_app, tick, monkeypatch, path: str, module: Any, name: str):
    tick(0.3)
    seen = {"now": 0, "most": 0, "calls": 0}
    lock = threading.Lock()
    number = module.beat_number

    def slow(beat: Any) -> int:       # every tick takes three periods on the server
        n = number(beat)
        with lock:
            seen["now"] += 1
            seen["calls"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        time.sleep(0.9)
        with lock:
            seen["now"] -= 1
        return n

    monkeypatch.setattr(module, "beat_number", slow)
    dash_duo.start_server(cockpit_app)
    _open(dash_duo, path, "#wall-stage" if name == "wall" else "#hb-index-value")
    _until(lambda: seen["calls"] >= 4, 30)   # four slow ticks, however long the server takes
    stats = dash_duo.driver.execute_script("return window.citybrainTicks")[name]
    logs = dash_duo.get_logs()
    dash_duo.driver.get("about:blank")   # let the last slow tick finish before the server stops
    time.sleep(1)
    assert seen["calls"] >= 4, seen
    assert seen["most"] == 1, f"ticks overlapped on the server: {seen}"
    assert stats["held"] > stats["fired"] and stats["forced"] == 0, stats
    assert logs == []


def test_ticks_with_nothing_new_answer_without_panel_data(dash_duo, cockpit_app, tick,  # type: ignore[no-untyped-def]
                                                          monkeypatch):
    tick(0.4)
    monkeypatch.setattr(wall, "PANELS", TtlMemo(seconds=3600))   # the city stands still
    monkeypatch.setattr(wall, "VIEWS", TtlMemo(seconds=3600))
    dash_duo.start_server(cockpit_app)
    _open(dash_duo, "/wall?layout=1080p")
    mark = dash_duo.driver.execute_script("return performance.now()")
    quiet = _until(lambda: dash_duo.driver.execute_script(ANSWERS, mark)[3:], 30)
    assert quiet and max(quiet) < 200, f"answers while nothing changed: {quiet} bytes"

    monkeypatch.setattr(wall, "PANELS", TtlMemo(seconds=3600))   # the city moves on
    monkeypatch.setattr(wall, "VIEWS", TtlMemo(seconds=3600))
    mark = dash_duo.driver.execute_script("return performance.now()")
    sizes = _until(lambda: len(dash_duo.driver.execute_script(ANSWERS, mark)) >= 4 and
                   dash_duo.driver.execute_script(ANSWERS, mark), 30)
    assert max(sizes) > 2000, f"the change was sent: {sizes}"
    assert max(sizes[sizes.index(max(sizes)) + 1:] or [0]) < 200, "and then nothing again"
    assert len(dash_duo.find_elements(".wall-body .index-value")) == 1
    assert dash_duo.get_logs() == []


def test_each_panel_flags_its_data_stale_when_it_stops_updating(dash_duo, cockpit_app, tick,  # type: ignore[no-untyped-def]
                                                                monkeypatch):
    tick(0.5)
    monkeypatch.setattr(wall, "PANELS", TtlMemo(seconds=3600))   # data frozen from now on
    monkeypatch.setattr(wall, "max_age", lambda *_: 3)
    dash_duo.start_server(cockpit_app)
    _open(dash_duo, "/wall?layout=1080p")
    old = _until(lambda: len(dash_duo.find_elements(".live-badge[data-old]")) == PANELS, 30)
    assert old, "every panel's badge turned stale"
    flags = read_all(dash_duo, ".live-badge .badge-flag")
    assert flags == ["数据过期"] * PANELS
    assert "秒前" in read_one(dash_duo, ".wall-index .live-badge")
    opacity = dash_duo.driver.execute_script(
        "return getComputedStyle(document.querySelector('.wall-index .wall-body')).opacity")
    assert float(opacity) < 1, "stale content is dimmed"
    save_screenshot(dash_duo, "wall-stale")
    assert dash_duo.get_logs() == []


def test_a_store_outage_flags_every_panel_stale_and_the_wall_stays_up(dash_duo, cockpit_app, tick,  # type: ignore[no-untyped-def]
                                                                      monkeypatch):
    from service.data import DataService

    tick(0.5, DataService(runtime.current().config, sources={"sim": DeadStore()}))
    monkeypatch.setattr(wall, "PANELS", TtlMemo(seconds=0))
    monkeypatch.setattr(wall, "VIEWS", TtlMemo(seconds=0))
    dash_duo.start_server(cockpit_app)
    _open(dash_duo, "/wall?layout=1080p", "#wall-stage .live-badge")
    assert len(dash_duo.find_elements(".live-badge.badge-stale")) == PANELS
    assert len(dash_duo.find_elements("#wall-stage .wall-panel")) == PANELS
    assert read_one(dash_duo, ".wall-index .index-value") == "—"
    assert dash_duo.get_logs() == []


def test_a_failing_tick_shows_in_its_panels_never_blank_nor_a_dialog(dash_duo, cockpit_app, tick,  # type: ignore[no-untyped-def]
                                                                   monkeypatch):
    from selenium.common.exceptions import NoAlertPresentException

    tick(0.5)
    dash_duo.start_server(cockpit_app)
    _open(dash_duo, "/wall?layout=1080p")
    with monkeypatch.context() as broken:
        broken.setattr(wall, "PANELS", TtlMemo(seconds=0))
        broken.setattr(wall, "VIEWS", TtlMemo(seconds=0))
        broken.setattr(wall, "render", raising(RuntimeError("renderer exploded")))
        assert _until(lambda: len(dash_duo.find_elements(".wall-body .panel-error")) == PANELS, 30)
        assert says(read_one(dash_duo, ".wall-pulse .panel-error"), "renderer exploded")
        assert len(dash_duo.find_elements("#wall-stage .wall-panel")) == PANELS
        with pytest.raises(NoAlertPresentException):
            dash_duo.driver.switch_to.alert.text   # noqa: B018
        save_screenshot(dash_duo, "wall-panel-error")
    assert _until(lambda: not dash_duo.find_elements(".wall-body .panel-error"), 30), "healed"
    assert read_one(dash_duo, ".wall-index .index-value") != "—"
    assert dash_duo.get_logs() == []
