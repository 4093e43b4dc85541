"""Signing out from the top bar in a real browser: the button POSTs the session's CSRF token,
the browser lands on the sign-in page, and the cockpit no longer opens without signing in."""

from __future__ import annotations

import pytest

from tests.browser.conftest import save_screenshot, wait_for

pytestmark = pytest.mark.browser


def test_the_top_bars_sign_out_ends_the_session(dash_duo, cockpit_app):  # type: ignore[no-untyped-def]
    dash_duo.start_server(cockpit_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/traffic")
    user = dash_duo.wait_for_element("#shell-user", timeout=30)
    assert user.text == "test-admin"
    save_screenshot(dash_duo, "top-bar-signed-in")
    dash_duo.find_element("#shell-sign-out").click()
    wait_for(lambda: "/login" in dash_duo.driver.current_url)
    dash_duo.driver.get(f"{dash_duo.server_url}/traffic")
    wait_for(lambda: "/login" in dash_duo.driver.current_url and
             dash_duo.driver.find_elements("css selector", "form[action='/login']"))
    assert not dash_duo.driver.find_elements("css selector", "#shell-user")
