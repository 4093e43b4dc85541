"""Every page in real Chromium with the Content-Security-Policy on: each draws its content
and the browser reports no violation (no inline script, eval, style or load refused)."""

from __future__ import annotations

from typing import Any

import dash
import pytest
from selenium.common.exceptions import TimeoutException

from tests.browser.conftest import wait_for
from tests.servers import free_port

pytestmark = pytest.mark.browser

# what shows that a page has drawn its content (its data, charts, map); other pages: any content
READY = {
    "/": ["#hb-index-value"],
    "/cockpit": [".ck-row", "#ck-trend-graph .js-plotly-plot"],
    "/map": [".leaflet-container", ".leaflet-interactive"],
    "/traffic": ["#drill-by-area .bars .point path"],
    "/safety": ["#drill-by-area .bars .point path"],
    "/explore": ["#explore-graph .js-plotly-plot", "#explore-summary .ag-row"],
    "/drill": ["#drill-by-area .bars .point path"],
    "/wall": [".wall-body .index-value"],
}
GENERIC = ["#_pages_content > *"]

# violations reported to the page itself, from before its first script runs
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' +
                              (e.sourceFile || '') + ':' + (e.lineNumber || ''));
});
"""


def csp_messages(dash_duo: Any) -> list[str]:
    """Console messages about the policy since the last call."""
    return [entry["message"] for entry in dash_duo.get_logs() or []
            if "Content Security Policy" in entry["message"]]


def test_every_page_draws_with_the_policy_on_and_no_violation(dash_duo: Any, cockpit_app: Any) -> None:
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTEN})
    dash_duo.start_server(cockpit_app, port=free_port())
    paths = sorted({"/", *READY, *(page["relative_path"] for page in dash.page_registry.values())})
    found: dict[str, list[str]] = {}
    policy = dash_duo.driver.execute_script(
        "return fetch('/').then(r => r.headers.get('Content-Security-Policy'))")
    script_src = policy.split("script-src")[1].split(";")[0]
    assert "'self' 'sha256-" in script_src and "'unsafe-inline'" not in script_src
    for path in paths:
        dash_duo.driver.get(dash_duo.server_url + path)
        try:
            for selector in READY.get(path, GENERIC):
                dash_duo.wait_for_element(selector, timeout=30)
            wait_for(lambda: dash_duo.driver.execute_script("return document.readyState") == "complete")
            drawn = []
        except TimeoutException:
            drawn = [f"the page did not draw {READY.get(path, GENERIC)}"]
        reported = dash_duo.driver.execute_script("return window.__cspViolations || []")
        problems = drawn + reported + csp_messages(dash_duo)
        if problems:
            found[path] = problems
    assert found == {}, f"CSP violations: {found}"
