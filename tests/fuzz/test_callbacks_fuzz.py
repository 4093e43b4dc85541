"""Every server callback, fuzzed with hostile values, ids and shapes: 0 server errors, 0 leaks.

The callbacks come from ``GET /_dash-dependencies``, the component ids (pattern-matching
ones too) and their values from the pages as the router draws them (see
:mod:`tests.fuzz.harness`). A server error is a 5xx, a callback that raised (Dash handed
the exception to the app's ``on_error``), or a 200 answering outputs that were not asked
for; a leak is traceback text, a file path, a host:port or an exception class name in a
response. Rate limits are off here (they have tests of their own): a 429 would only hide
callbacks from the fuzz. ``bench/fuzz.py`` runs the same fuzz longer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import app as cockpit_app
from access import tokens
from guard.callback_inputs import SWITCH
from tests.access.helpers import sign_in, store
from tests.fuzz.harness import Fuzzer, Stats

CALLS = 2400          # through the guard, as served
ALONE = 1000          # the callbacks alone: the guard off, requests shaped as Dash sends them
WALL_CALLS = 300      # signed in by a wall token


@pytest.fixture(scope="module")
def fuzzer() -> Iterator[Fuzzer]:
    server = cockpit_app.server
    limiters = list(server.extensions.get("limiter") or [])
    before = [lim.enabled for lim in limiters]
    for lim in limiters:
        lim.enabled = False
    try:
        yield Fuzzer(cockpit_app.app, sign_in(server.test_client(), "admin"))
    finally:
        for lim, enabled in zip(limiters, before, strict=True):
            lim.enabled = enabled
        server.config[SWITCH] = True


def _clean(stats: Stats) -> None:
    summary = stats.summary()
    assert stats.server_errors == 0, summary
    assert not stats.leaks, summary


def test_the_fuzz_reaches_every_server_callback_with_a_request_that_works(fuzzer: Fuzzer) -> None:
    server_callbacks = {k for k, v in cockpit_app.app.callback_map.items() if v.get("callback")}
    assert {t.output for t in fuzzer.targets} == server_callbacks
    assert any("wall-panel" in t.output for t in fuzzer.targets)
    for target in fuzzer.targets:   # the valid request of each: run, never refused by the guard
        reply = fuzzer.client.post(fuzzer.path, json=target.body)
        assert reply.status_code in (200, 204), (target.name, reply.status_code, reply.get_data(as_text=True)[:200])
    wall = next(t for t in fuzzer.targets if t.name.endswith("refresh_wall"))
    regions = next(s["value"] for s in wall.body["state"] if s["id"] == "wall-regions")
    assert len(regions) == len(wall.body["outputs"][0]) > 3, "the wall's ids come from its real layout"


def test_hostile_requests_through_the_guard(fuzzer: Fuzzer) -> None:
    stats = fuzzer.run(CALLS, seconds=50)
    assert stats.calls >= 1500, stats.summary()
    _clean(stats)
    assert stats.status[200] > 100 and stats.status[400] > 100, stats.summary()


def test_the_callbacks_alone_never_throw_on_hostile_values(fuzzer: Fuzzer) -> None:
    """The guard off: values and ids that pass any shape check reach the callbacks themselves."""
    cockpit_app.server.config[SWITCH] = False
    try:
        stats = fuzzer.run(ALONE, seconds=30, values_only=True)
    finally:
        cockpit_app.server.config[SWITCH] = True
    assert stats.calls >= 500, stats.summary()
    _clean(stats)


def test_hostile_requests_from_a_wall(fuzzer: Fuzzer) -> None:
    secret, _wall = tokens.create(store(), "fuzz-wall", layouts=["1080p"], actor="tests")
    client = cockpit_app.server.test_client()
    assert client.get(f"/kiosk/{secret}").status_code == 302
    admin, fuzzer.client = fuzzer.client, client
    try:
        stats = fuzzer.run(WALL_CALLS, seconds=20)
    finally:
        fuzzer.client = admin
    _clean(stats)
    assert stats.status[403] > 0, "a wall may not run the analysts' callbacks"


@pytest.mark.parametrize("regions", [None, "index", 5, {"a": 1}, ["index"] * 10_002, [1, 2, 3]])
def test_a_wall_tick_with_a_wrong_region_list(fuzzer: Fuzzer, regions: Any) -> None:
    """Refused with a 400 naming the input; without the guard, one panel per output."""
    wall = next(t for t in fuzzer.targets if t.name.endswith("refresh_wall"))
    body = {**wall.body, "state": [{**s, "value": regions} if s["id"] == "wall-regions" else s
                                   for s in wall.body["state"]]}
    reply = fuzzer.client.post(fuzzer.path, json=body)
    assert reply.status_code == 400
    assert reply.get_json() == {"error": "bad_callback_input", "input": "wall-regions.data",
                                "reason": reply.get_json()["reason"]}
    cockpit_app.server.config[SWITCH] = False
    try:
        reply = fuzzer.client.post(fuzzer.path, json=body)
    finally:
        cockpit_app.server.config[SWITCH] = True
    assert reply.status_code == 200
    panels = [k for k in reply.get_json()["response"] if "wall-panel" in k]
    assert len(panels) == len(wall.body["outputs"][0]), "every panel answered (it once got 0 of 9)"
