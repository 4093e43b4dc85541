"""The map page in real Chromium: offline, layers switch, an area drills, an event links cameras."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.browser.conftest import read_one, save_screenshot
from tests.conftest import says

pytestmark = pytest.mark.browser


def _viewport(dash_duo, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _toggle(dash_duo, name: str) -> None:  # type: ignore[no-untyped-def]
    for label in dash_duo.find_elements("#map-layers-on label"):
        if label.text.strip() == name:
            label.find_element(By.TAG_NAME, "input").click()
            return
    raise AssertionError(f"no layer named {name!r}")


# every live feature is drawn on a canvas and registered by assets/map.js under its layer
_SHOWN = """
const layers = ((window.citybrainMap || {}).layers || {})[arguments[0]] || {};
return Object.values(layers).filter(l => l._map && (l.options.stroke || l.options.fill)).length;
"""
# how much of the map's canvases is painted at all: an empty or grey map is a failure
_INKED = """
let inked = 0;
for (const canvas of document.querySelectorAll('.leaflet-map-pane canvas')) {
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < px.length; i += 4 * 7) { if (px[i] > 0) { inked += 1; } }
}
return inked;
"""


# the stacking order of the basemap's, the areas' and the roads' canvases
_STACKING = """
const z = element => Number(getComputedStyle(element).zIndex);
const drawn = name => Object.values(window.citybrainMap.layers[name]).find(l => l._map);
return [z(document.querySelector('.leaflet-citybrain-basemap-pane')),
        z(drawn('areas')._renderer._container.parentElement),
        z(drawn('roads')._renderer._container.parentElement)];
"""
# where on the map (container pixels) the first feature of a layer is: a polygon's centre
_WHERE = """
const layers = Object.values(window.citybrainMap.layers[arguments[0]]).filter(l => l._map);
const p = layers[0]._map.latLngToContainerPoint(layers[0].getCenter());
return [p.x, p.y];
"""


def _shown(dash_duo, layer: str) -> int:  # type: ignore[no-untyped-def]
    """How many of ``layer``'s features are on the map and visible."""
    return dash_duo.driver.execute_script(_SHOWN, layer)


def _open_map(dash_duo, cockpit_app) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo, 1920, 1080)
    dash_duo.driver.get(dash_duo.server_url + "/map")
    dash_duo.wait_for_element(".leaflet-container", timeout=20)


def _cameras_within(title: str, radius_m: float) -> set[int]:
    """How many cameras lie within ``radius_m`` of the event titled ``title`` (one count per
    event of that title; recomputed here from the layer with numpy, not by the map's code)."""
    from datetime import timedelta

    import numpy as np

    from datasources.base import utcnow
    from service import runtime

    data = runtime.current().data
    events = data.events(utcnow() - timedelta(hours=24)).data
    points = np.array([f["geometry"]["coordinates"][:2] for f in data.layer("cameras").data["features"]])
    counts = set()
    for event in events[events.title_zh == title].itertuples():
        lon1, lat1, lon2, lat2 = map(np.radians, (event.lon, event.lat, points[:, 0], points[:, 1]))
        h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        counts.add(int((2 * 6_371_008.8 * np.arcsin(np.sqrt(h)) <= radius_m).sum()))
    assert counts, f"no event titled {title!r}"
    return counts


def _wait(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError("condition not met in time")


def test_map_layers_area_drill_and_event_linkage_offline(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    _open_map(dash_duo, cockpit_app)
    _wait(lambda: _shown(dash_duo, "areas") == 6 and _shown(dash_duo, "roads") >= 800)
    _wait(lambda: _shown(dash_duo, "cameras") >= 200 and _shown(dash_duo, "sensors") >= 100)
    assert _shown(dash_duo, "facilities") == 0 and _shown(dash_duo, "heat") == 0, "off by default"
    assert dash_duo.driver.execute_script(_INKED) > 20_000, "the map's canvases are (nearly) empty"
    basemap, areas, roads = dash_duo.driver.execute_script(_STACKING)
    assert basemap < areas < roads, "the basemap under the areas, the roads over them, whatever came first"
    _wait(lambda: len(dash_duo.find_elements(".event-pin, .event-cluster")) > 0)
    save_screenshot(dash_duo, "map-1920x1080")

    # the points' canvas follows the map: zoomed in, it is drawn again at the new scale
    inked = dash_duo.driver.execute_script(_INKED)
    dash_duo.find_element(".leaflet-control-zoom-in").click()
    _wait(lambda: dash_duo.driver.execute_script(_INKED) not in (0, inked))
    assert _shown(dash_duo, "cameras") >= 200
    dash_duo.find_element(".leaflet-control-zoom-out").click()
    _wait(lambda: abs(dash_duo.driver.execute_script(_INKED) - inked) < inked * 0.05)

    # the air heat map: sensor discs drawn on their own canvas
    _toggle(dash_duo, "空气热力")
    _wait(lambda: _shown(dash_duo, "heat") >= 100)
    time.sleep(1)
    save_screenshot(dash_duo, "map-heat")
    _toggle(dash_duo, "空气热力")
    _wait(lambda: _shown(dash_duo, "heat") == 0)

    # switching a layer off hides its features, on brings them back
    roads = _shown(dash_duo, "roads")
    _toggle(dash_duo, "道路拥堵")
    _wait(lambda: _shown(dash_duo, "roads") == 0)
    _toggle(dash_duo, "道路拥堵")
    _wait(lambda: _shown(dash_duo, "roads") == roads)

    # an event: its details and the cameras near it
    _wait(lambda: len(dash_duo.find_elements(".event-pin-wrap")) > 0)
    dash_duo.driver.execute_script("document.querySelector('.event-pin-wrap').click();")  # live pins re-render
    dash_duo.wait_for_element(".side-event", timeout=30)
    assert len(dash_duo.find_elements(".lifecycle .step.done")) >= 1
    # the cameras it lists are those within 1500 m, as a plain haversine over the camera layer
    # says (about one event in ten has none: then the panel says so)
    title = read_one(dash_duo, "#map-side-title")
    near = {min(n, 6) for n in _cameras_within(title, 1500)}   # the panel lists six at most
    _wait(lambda: len(dash_duo.find_elements("#map-event-cameras .camera-row")) in near - {0}
          or (0 in near and "附近没有" in read_one(dash_duo, "#map-event-cameras")))
    save_screenshot(dash_duo, "map-event")

    # an area: hide the point layers, click a district, drill into its streets
    for name in ("视频监控", "环境监测", "道路拥堵", "实时事件"):
        _toggle(dash_duo, name)
    _wait(lambda: not dash_duo.find_elements(".event-pin-wrap, .event-cluster-wrap"))
    time.sleep(0.5)
    # a real click on the canvas, where the first district is drawn
    x, y = dash_duo.driver.execute_script(_WHERE, "areas")
    container = dash_duo.find_element(".leaflet-container")   # selenium 4.2: offset from top-left
    ActionChains(dash_duo.driver).move_to_element_with_offset(container, round(x), round(y)).click().perform()
    dash_duo.wait_for_element(".side-area", timeout=30)
    assert read_one(dash_duo, "#map-side-title")
    analysis = read_one(dash_duo, "#map-analysis-link", "href")
    assert "indicator=" in analysis and "area=D0" in analysis, "the area opens its analysis too"
    dash_duo.find_element(".drill-button").click()
    _wait(lambda: dash_duo.find_element("#map-level input[value='street']").is_selected())
    _wait(lambda: _shown(dash_duo, "areas") > 6)   # the district's streets, fetched once
    time.sleep(1)
    save_screenshot(dash_duo, "map-drilled")

    # live ticks go through the gate: answered ones only, never two at once
    _wait(lambda: (dash_duo.driver.execute_script("return (window.citybrainTicks || {}).map") or {})
          .get("fired", 0) >= 2)

    # nothing left this machine: every resource came from the app itself
    urls = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    hosts = {urlparse(u).hostname for u in urls if u.startswith("http")}
    assert hosts <= {"127.0.0.1", "localhost"}, hosts
    logs = dash_duo.get_logs()
    assert logs == [], [entry["message"][:400] for entry in logs]


def test_the_first_draw_and_the_ticks_never_overlap_on_a_slow_server(  # type: ignore[no-untyped-def]
        dash_duo, cockpit_app, tick, monkeypatch):
    from pages.map import page as map_page

    tick(0.3)
    seen = {"now": 0, "most": 0, "calls": 0}
    lock = threading.Lock()
    updates = map_page._map_updates

    def slow(*args: Any) -> Any:          # the first draw and every tick take three periods
        with lock:
            seen["now"] += 1
            seen["calls"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        try:
            time.sleep(0.9)
            return updates(*args)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(map_page, "_map_updates", slow)
    _open_map(dash_duo, cockpit_app)
    time.sleep(6)
    stats = dash_duo.driver.execute_script("return window.citybrainTicks")["map"]
    dash_duo.driver.get("about:blank")   # let the last slow tick finish before the server stops
    time.sleep(1.5)
    assert seen["calls"] >= 4, seen
    assert seen["most"] == 1, f"the map's calls overlapped on the server: {seen}"
    assert stats["held"] > stats["fired"] and stats["forced"] == 0, stats


def test_a_failed_first_draw_still_shows_the_map_geometry_and_says_why(dash_duo, cockpit_app, monkeypatch):  # type: ignore[no-untyped-def]
    from pages.map import page as map_page

    def broken(*_: Any) -> Any:
        raise RuntimeError("the colours could not be computed")

    monkeypatch.setattr(map_page, "_map_updates", broken)
    _open_map(dash_duo, cockpit_app)
    time.sleep(3)
    assert _shown(dash_duo, "roads") == 0, "the big layers wait for their colours first"
    _wait(lambda: _shown(dash_duo, "roads") >= 800 and _shown(dash_duo, "cameras") >= 200, timeout=20)
    time.sleep(1)
    assert _shown(dash_duo, "facilities") == 0 and _shown(dash_duo, "heat") == 0, "switched off, still off"
    assert says(read_one(dash_duo, "#map-legend .panel-error"), "the colours could not be computed"), \
        "the failure is shown (by the reference its details are logged under)"
    assert dash_duo.find_elements(".shell-freshness .badge-stale, #shell-freshness .badge-stale")
    save_screenshot(dash_duo, "map-without-colours")
