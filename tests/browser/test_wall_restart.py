"""A server restart under an open wall: it says "reconnecting", then heals with no reload."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from tests.access.helpers import sign_in_browser
from tests.browser.conftest import save_screenshot
from tests.servers import free_port, serve_app

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def _wait(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_server_restart_under_an_open_wall_heals_without_reload(dash_duo, tmp_path: Path):  # type: ignore[no-untyped-def]
    doc = yaml.safe_load((ROOT / "config/default.yaml").read_text(encoding="utf-8"))
    doc["heartbeat"]["tick_seconds"] = 1
    config = tmp_path / "fast.yaml"
    config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    port = free_port()
    server = serve_app(config, port)
    try:
        driver = dash_duo.driver
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        sign_in_browser(driver, f"http://127.0.0.1:{port}")   # the session outlives the restart
        driver.get(f"http://127.0.0.1:{port}/wall?layout=1080p")
        dash_duo.wait_for_element(".wall-body .index-value", timeout=20)
        driver.execute_script("window.__sameDocument = true;")

        def overlay_shown() -> bool:
            return bool(driver.execute_script(
                "const o = document.getElementById('reconnect-overlay');"
                "return !!o && o.style.display !== 'none';"))

        server.kill()
        server.wait(10)
        assert _wait(overlay_shown, 15), "the wall says it is reconnecting"
        save_screenshot(dash_duo, "wall-reconnecting")

        server = serve_app(config, port)
        assert _wait(lambda: not overlay_shown(), 40), "the wall healed by itself"
        as_of = "return document.querySelector('.wall-header .badge').getAttribute('data-as-of')"
        before = driver.execute_script(as_of)
        assert _wait(lambda: driver.execute_script(as_of) != before, 15), "live data resumed"
        assert driver.execute_script("return window.__sameDocument === true"), "no reload"
    finally:
        server.kill()
        server.wait(10)
