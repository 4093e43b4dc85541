"""The example 吉安市 platform (examples/platform) built in real PostgreSQL and Redis, served
by the real app on its own config: no grid level, no events source, a districts layer and
the roads of its own segment table (map.segments).

The map opens on the city's bounds with the districts in live colours and offers the roads;
the traffic page ranks the drilled district's segments; the heartbeat and the traffic page
say 未接入 where the platform has nothing, never an error or a zero.
Screenshots of the three pages go to tests/browser/screenshots/ (docs/ holds reviewed copies).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from citybrain.config import load_config
from datasources.geojson import bounds
from examples.platform import build as platform
from pages.map.model import NO_DATA
from service import runtime
from tests.browser.conftest import read_all, save_screenshot, wait_for
from tests.conftest import ROOT, require_services

pytestmark = pytest.mark.browser

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
EXAMPLE = ROOT / "examples" / "platform"
DISTRICTS = 6

# the fill colour of every area feature the map drew
_FILLS = """
const layers = ((window.citybrainMap || {}).layers || {}).areas || {};
return Object.values(layers).filter(l => l._map).map(l => l.options.fillColor);
"""
_MAP_BOUNDS = """
const layer = Object.values(window.citybrainMap.layers.areas).find(l => l._map);
const b = layer._map.getBounds();
return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
"""


def _reachable() -> None:
    require_services(sql=(PG,), redis_url=REDIS)


@pytest.fixture(scope="module")
def platform_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The platform built now under names of its own, and its cockpit.yaml pointed at them
    (the layer files found by an absolute root); dropped afterwards."""
    _reachable()
    tag = uuid.uuid4().hex[:8]
    names = {"schema": f"cityplat_ui_{tag}", "redis_prefix": f"cityplat_ui_{tag}:"}
    platform.build(pg_url=PG, redis_url=REDIS, **names)
    text = (EXAMPLE / "cockpit.yaml").read_text(encoding="utf-8")
    text = text.replace("search_path%3Dcityplat", f"search_path%3D{names['schema']}")
    text = text.replace('"cityplat:', f'"{names["redis_prefix"]}')
    raw = yaml.safe_load(text)
    raw["datasources"]["gis"]["root"] = str(EXAMPLE)
    path = tmp_path_factory.mktemp("platform") / "cockpit.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    try:
        yield path
    finally:
        platform.drop(pg_url=PG, redis_url=REDIS, **names)


@pytest.fixture
def on_platform(platform_config: Path, monkeypatch: pytest.MonkeyPatch) -> runtime.Cockpit:
    """The platform's cockpit installed for the pages (the stores' URLs from the config alone)."""
    monkeypatch.delenv("PLATFORM_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLATFORM_REDIS_URL", raising=False)
    cockpit = runtime.build(load_config(platform_config))
    monkeypatch.setattr(runtime, "_current", cockpit)
    return cockpit


def _viewport(dash_duo: Any) -> None:
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})


def _shot(dash_duo: Any, name: str) -> None:
    """Into tests/browser/screenshots/ (a test run never rewrites docs/; copy a good one there)."""
    save_screenshot(dash_duo, name)


def _no_failure_text(dash_duo: Any) -> None:
    page = dash_duo.driver.page_source
    assert "has no live attributes for map layers" not in page
    assert not read_all(dash_duo, ".panel-error"), "an error panel is shown"


def test_example_platform_map_heartbeat_and_traffic(dash_duo, cockpit_app, on_platform):  # type: ignore[no-untyped-def]
    assert on_platform.data.root_id == "360800"
    hier = on_platform.data.hierarchy()
    assert hier is not None and "grid" not in hier.levels_present()
    dash_duo.start_server(cockpit_app)
    _viewport(dash_duo)

    # the map: the districts in live colours, fitted to the city
    dash_duo.driver.get(dash_duo.server_url + "/map")
    dash_duo.wait_for_element(".leaflet-container", timeout=20)
    fills = wait_for(lambda: (f := dash_duo.driver.execute_script(_FILLS)) and len(f) == DISTRICTS
                     and all(c and c.lower() not in (NO_DATA, "#33475f") for c in f) and f, timeout=40)
    assert len(set(fills)) >= 1
    west, south, east, north = bounds(on_platform.data.layer("city").data)
    shown = wait_for(lambda: dash_duo.driver.execute_script(_MAP_BOUNDS), timeout=20)
    slack = 1e-6
    assert shown[0] <= west + slack and shown[1] <= south + slack, (shown, (west, south, east, north))
    assert shown[2] >= east - slack and shown[3] >= north - slack, (shown, (west, south, east, north))
    # the map offers only what the platform has: districts, no street / grid layer, its roads
    levels = read_all(dash_duo, "#map-level label")
    assert levels == ["区县"], levels
    layers = read_all(dash_duo, "#map-layers-on label")
    assert layers == ["区域指标", "道路拥堵"], layers
    _no_failure_text(dash_duo)
    _shot(dash_duo, "platform-map")

    # the heartbeat: the index is there, the ticker is not connected (with its reason)
    dash_duo.driver.get(dash_duo.server_url + "/")
    dash_duo.wait_for_element("#hb-ticker-missing", timeout=30)
    reason = read_all(dash_duo, "#hb-ticker-missing", "title")[0]
    assert "events" in reason, reason
    assert read_all(dash_duo, "#hb-ticker-missing")[0] == "未接入"
    wait_for(lambda: read_all(dash_duo, "#hb-index .ring-value, #hb-index svg, #hb-index div"), timeout=20)
    _no_failure_text(dash_duo)
    _shot(dash_duo, "platform-heartbeat")

    # traffic, drilled to a district: its own segments ranked, accidents not connected, never 0
    dash_duo.driver.get(dash_duo.server_url + "/traffic?indicator=checkpoint_flow&area=360802")
    dash_duo.wait_for_element("#traffic-top-roads", timeout=30)
    dash_duo.wait_for_element("#traffic-incidents-missing", timeout=10)
    assert not read_all(dash_duo, "#traffic-top-roads-missing")
    wait_for(lambda: "RS360802" in dash_duo.driver.page_source, timeout=30)
    assert "RS360803" not in dash_duo.driver.page_source, "only the drilled district's segments"
    assert "0 起" not in dash_duo.driver.page_source
    wait_for(lambda: read_all(dash_duo, "#drill-by-area .bars, #drill-by-area .plot-container"), timeout=30)
    _no_failure_text(dash_duo)
    _shot(dash_duo, "platform-traffic")
