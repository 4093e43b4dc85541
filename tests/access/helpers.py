"""Signing tests in: one user per role in the test run's access database, and sign-in through
the real /login form for the Flask test client, a requests session or a browser."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from access import users
from access.store import Store
from citybrain.security import ROLES, Security

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@cache
def store() -> Store:
    """The access database of this test run (see tests/conftest.py)."""
    return Store.for_config(Security())


def user_for(role: str) -> str:
    """The name of a user holding only ``role`` (created on first use)."""
    assert role in ROLES, role
    name = f"test-{role}"
    try:
        users.find(store(), name)
    except users.UserError:
        users.add(store(), name, [role], password=PASSWORD, actor="tests")
    return name


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the sign-in page has no CSRF field"
    return found.group(1)


def sign_in(client: Any, role: str = "admin") -> Any:
    """Sign a Flask test client in as the user of ``role``; returns the client."""
    name = user_for(role)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    reply = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token, "next": "/"})
    assert reply.status_code == 302, f"sign-in as {name} failed: {reply.status_code}"
    return client


def sign_in_http(session: Any, base: str, role: str = "admin") -> Any:
    """Sign a ``requests.Session`` in on the server at ``base``; returns the session."""
    name = user_for(role)
    token = csrf_of(session.get(f"{base}/login", timeout=30).text)
    reply = session.post(f"{base}/login", data={"name": name, "password": PASSWORD, "csrf": token},
                         allow_redirects=False, timeout=30)
    assert reply.status_code == 302, f"sign-in as {name} failed: {reply.status_code}"
    return session


def sign_in_browser(driver: Any, base: str, role: str = "admin") -> None:
    """Sign a Selenium browser in through the form at ``base``/login."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    name = user_for(role)
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 30).until(ready.none_of(ready.url_contains("/login")))


def sign_out(client: Any) -> Any:
    """Sign a Flask test client out the way the sign-out button does (a POST with the
    session's CSRF token); returns the answer."""
    token = csrf_of(client.get("/logout").get_data(as_text=True))
    return client.post("/logout", data={"csrf": token})
