"""A wall signed in by its kiosk URL: the wall renders, ticks, and when its token is revoked
(by the command line) the next tick turns the whole screen to "access revoked"."""

from __future__ import annotations

import io

import pytest

from access import tokens
from access.cli import main as access_cli
from tests.access.helpers import store
from tests.browser.conftest import read_one, save_screenshot, wait_for

pytestmark = pytest.mark.browser


def test_kiosk_url_then_revoke_turns_the_wall_to_access_revoked(dash_duo, cockpit_app, tick):  # type: ignore[no-untyped-def]
    tick(1)
    secret, wall = tokens.create(store(), "kiosk-browser", layouts=["1080p"], days=30, actor="tests")
    dash_duo.start_server(cockpit_app, navigate=False)          # the wall never sees /login
    dash_duo.driver.get(f"{dash_duo.server.url}/kiosk/{secret}")
    wait_for(lambda: dash_duo.driver.current_url.endswith("/wall?layout=1080p"))
    dash_duo.wait_for_element(".wall-body .index-value", timeout=30)
    assert not dash_duo.driver.find_elements("css selector", "#cb-access-banner")
    assert dash_duo.driver.get_cookie("citybrain")["expiry"] > wall.expires_at.timestamp() - 86_400

    assert access_cli(["tokens", "revoke", str(wall.id)], out=io.StringIO()) == 0
    wait_for(lambda: dash_duo.driver.find_elements("css selector", "#cb-access-banner"), timeout=15)
    text = read_one(dash_duo, "#cb-access-banner")
    assert "访问已撤销" in text and "Access revoked" in text
    assert read_one(dash_duo, "#cb-access-banner", "data-kind") == "revoked"
    save_screenshot(dash_duo, "wall-access-revoked")

    dash_duo.driver.refresh()                                    # and reloading shows it too
    wait_for(lambda: "访问已撤销" in dash_duo.driver.find_element("css selector", "body").text)
