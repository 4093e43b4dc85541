"""The heartbeat page's callbacks called as plain functions, and /health."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dash import Patch

import app as cockpit_app
from citybrain.config import load_config
from datasources.base import Health
from datasources.errors import StoreUnavailable
from pages.heartbeat import page as heartbeat
from service import runtime
from service.data import DataService
from tests.access.helpers import sign_in


class DeadStore:
    """A store that is down for every read."""

    name = "sim"

    def __getattr__(self, method: str) -> Any:
        def fail(*_: Any, **__: Any) -> Any:
            raise StoreUnavailable("sim", "connection refused")
        return fail

    def health(self) -> Health:
        return Health("sim", False, error="connection refused")


@pytest.fixture
def dead_cockpit() -> Iterator[runtime.Cockpit]:
    before = runtime.current()
    config = load_config(env={})
    dead = runtime.Cockpit(config, DataService(config, sources={"sim": DeadStore()}))
    runtime.install(dead)
    yield dead
    runtime.install(before)


def text_of(component: Any) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


def test_first_render_fills_every_panel() -> None:
    views = heartbeat.render("zh", initial=True)
    assert set(views) >= {"index", "domains", "tiles", "ticker", "labels", "figures", "freshness"}
    value = float(text_of(views["index"]).split()[0])
    assert 0 <= value <= 100
    assert len(views["figures"]) == 7
    assert all(len(f["data"][0]["y"]) >= 2 for f in views["figures"])
    assert "交通" in text_of(views["labels"])
    assert "数据时间" in text_of(views["freshness"])


def test_tick_sends_only_new_points_as_patches() -> None:
    out = heartbeat.refresh_heartbeat({"n": 1, "at": 0}, "zh", None)
    figures = out[5]
    assert len(figures) == 7 and all(isinstance(f, Patch) for f in figures)


def test_english_switch_renders_english() -> None:
    views = heartbeat.render("en", initial=True)
    assert "Traffic" in text_of(views["labels"])
    assert "Data as of" in text_of(views["freshness"])


def test_layout_ignores_unknown_query_parameters() -> None:
    page = heartbeat.layout(lang="xx", foo="bar")
    assert "城市心跳" in text_of(page)


def test_store_outage_shows_stale_not_an_error(dead_cockpit: runtime.Cockpit) -> None:
    views = heartbeat.render("zh", initial=True)
    assert "—" in text_of(views["index"])
    assert "暂无数据" in text_of(views["freshness"]) or "数据过期" in text_of(views["freshness"])


def test_health_lists_adapters_with_status_latency_and_cache() -> None:
    anonymous = cockpit_app.server.test_client().get("/health").get_json()
    assert set(anonymous) == {"status"}   # the load balancer's answer: nothing else
    body = sign_in(cockpit_app.server.test_client()).get("/health?detail=1").get_json()   # an admin's
    sim = body["adapters"]["sim"]
    assert sim["status"] == "ok" and sim["latency_ms"] is not None
    assert sim["last_data_at"] and "error" in sim
    assert body["cache"]["backend"] == "simple"


def test_health_shows_the_failing_adapter(dead_cockpit: runtime.Cockpit) -> None:
    heartbeat.render("zh", initial=True)
    reply = sign_in(cockpit_app.server.test_client()).get("/health?detail=1")
    body = reply.get_json()
    assert body["status"] == "down" and reply.status_code == 503   # its only datasource is failing
    assert body["adapters"]["sim"]["status"] == "failing"
    assert "connection refused" in body["adapters"]["sim"]["error"]


def test_pages_answer_with_200() -> None:
    client = sign_in(cockpit_app.server.test_client())
    assert client.get("/").status_code == 200
    assert client.get("/?lang=en").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
