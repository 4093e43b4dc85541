"""Browser tests: dash_duo on real Chromium, serving the real app."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from service import runtime
from tests.access.helpers import sign_in_browser
from tests.conftest import CHROMIUM, require

SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(autouse=True)
def _browser_present() -> None:
    require(shutil.which("chromedriver") is not None and Path(CHROMIUM).exists(),
            "Chromium and chromedriver (apt-get install chromium chromium-driver)")


@pytest.fixture(autouse=True)
def _signed_in(request: pytest.FixtureRequest) -> None:
    """``dash_duo.start_server`` signs the browser in (as an admin, through the real /login
    form) before it opens the app; ``navigate=False`` leaves the browser signed out."""
    if "dash_duo" not in request.fixturenames:
        return
    duo = request.getfixturevalue("dash_duo")
    start = duo.start_server

    def start_signed_in(app: Any, navigate: bool = True, **kwargs: Any) -> None:
        start(app, navigate=False, **kwargs)
        if navigate:
            sign_in_browser(duo.driver, duo.server.url)
            duo.server_url = duo.server.url

    duo.start_server = start_signed_in


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed browser test leaves a screenshot of what the browser showed, as
    screenshots/failed-<test>.png, for whoever reads the failure."""
    outcome = yield
    report = outcome.get_result()
    duo = getattr(item, "funcargs", {}).get("dash_duo")
    if report.when == "call" and report.failed and duo is not None:
        try:
            SHOTS.mkdir(exist_ok=True)
            duo.driver.save_screenshot(str(SHOTS / f"failed-{item.name}.png"))
        except Exception:  # noqa: BLE001 - the browser may be gone with the failure
            pass


@pytest.fixture(autouse=True)
def _no_rate_limits() -> Iterator[None]:
    """Rate limits off: a browser test drives one client through more pages a minute than any
    person does, one test after another (the limits are tested in tests/guard)."""
    import app as cockpit

    limiters = list(cockpit.server.extensions.get("limiter") or [])
    before = [lim.enabled for lim in limiters]
    for lim in limiters:
        lim.enabled = False
    yield
    for lim, enabled in zip(limiters, before, strict=True):
        lim.enabled = enabled


@pytest.fixture(scope="session")
def cockpit_app() -> Iterator[object]:
    """The real app module's Dash app, on the shipped default config."""
    import app as cockpit

    yield cockpit.app


@pytest.fixture
def tick(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``tick(seconds, data=None)``: the installed cockpit with that tick (and data service)."""
    def install(seconds: float, data: Any = None) -> None:
        now = runtime.current()
        beat = now.config.heartbeat.model_copy(update={"tick_seconds": seconds})
        config = now.config.model_copy(update={"heartbeat": beat})
        monkeypatch.setattr(runtime, "_current", runtime.Cockpit(config, data or now.data))
    return install


def wait_for(check, timeout: float = 30):  # type: ignore[no-untyped-def]
    """The first truthy result of ``check()`` within ``timeout`` seconds; an exception while
    the page re-renders counts as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception:  # noqa: BLE001 - the page is re-rendering
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the page")


_READ_ALL = """
const [selector, prop] = arguments;
return Array.from(document.querySelectorAll(selector)).map(e => {
  const value = prop in e ? e[prop] : e.getAttribute(prop);
  return typeof value === "string" ? value.trim() : value;
});
"""


def read_all(dash_duo, selector: str, prop: str = "innerText") -> list:  # type: ignore[no-untyped-def]
    """``prop`` (a DOM property such as innerText or href, else an attribute) of every element
    matching ``selector``, read in one step: a live page that re-renders between finding an
    element and reading it cannot make the read fail."""
    return dash_duo.driver.execute_script(_READ_ALL, selector, prop)


def read_one(dash_duo, selector: str, prop: str = "innerText"):  # type: ignore[no-untyped-def]
    """``prop`` of the first element matching ``selector``, read in one step; fails if none."""
    values = read_all(dash_duo, selector, prop)
    assert values, f"no element matches {selector}"
    return values[0]


def url_params(dash_duo) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The query parameters of the page the browser shows."""
    return {k: v[0] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def save_screenshot(dash_duo, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save the browser's view as tests/browser/screenshots/<name>.png."""
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    dash_duo.driver.save_screenshot(str(path))
    return path
