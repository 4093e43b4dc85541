"""Test set-up shared by every suite: the browser for dash[testing], and CI strictness.

On a laptop a missing browser or service skips the tests that need it; with ``CI`` set
it is a failure, so CI never passes on tests it did not run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The access tables (users, wall tokens, audit) and the session secret of this test run live
# in a folder of its own, set before the app is imported; the servers tests start inherit it.
ACCESS_DIR = Path(tempfile.mkdtemp(prefix="citybrain-access-"))
os.environ["CITYBRAIN_DATA_DIR"] = str(ACCESS_DIR)
os.environ.pop("CITYBRAIN_ACCESS_DB", None)
atexit.register(shutil.rmtree, ACCESS_DIR, True)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
os.environ.setdefault("DASH_TEST_CHROMEPATH", CHROMIUM)


def in_ci() -> bool:
    """Whether the suite runs under CI, where nothing may be skipped."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require(condition: bool, what: str) -> None:
    """Skip (laptop) or fail (CI) when something a test needs is absent."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{what} is missing, and under CI nothing may be skipped")
    pytest.skip(f"{what} is missing")


def require_services(*, sql: tuple[str, ...] = (), redis_url: str | None = None) -> None:
    """:func:`require` each SQL database (by URL) and the Redis a test needs."""
    import redis
    import sqlalchemy as sa

    for url in sql:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError:
            require(False, f"the database at {url}")
        finally:
            engine.dispose()
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        try:
            client.ping()
        except redis.ConnectionError:
            require(False, f"Redis at {redis_url}")
        finally:
            client.close()


def says(text: str, error: str) -> bool:
    """Whether a screen's ``text`` names ``error``: in our own words, or (a store's error,
    whose details stay in the log) by the reference the log holds it under."""
    from datasources.errors import references_of

    return error in text or any(ref in text for ref in references_of(error))


def cockpit_with_indicator(folder: Path, indicator: dict[str, object]):  # type: ignore[no-untyped-def]
    """Install a cockpit on the shipped config plus ``indicator`` (one no code knows about)
    while the generator runs, and the previous cockpit again after; for page fixtures."""
    import yaml

    import app  # noqa: F401 - the pages register with the app
    from citybrain.config import DEFAULT_CONFIG, load_config
    from service import runtime

    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    raw["indicators"].append(indicator)
    path = folder / "cockpit.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    previous = runtime._current
    runtime.install(runtime.build(load_config(path)))
    yield runtime.current()
    runtime._current = previous


def pytest_setup_options():  # type: ignore[no-untyped-def]
    """Headless Debian Chromium for dash_duo (root needs --no-sandbox)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--hide-scrollbars",
                "--window-size=1920,1080"):
        options.add_argument(arg)
    return options
