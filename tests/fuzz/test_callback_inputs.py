"""The callback checks of guard/callback_inputs.py: a clear 400 naming the input, before
anything else reads the body; an anonymous requester gets the gate's 401 and nothing more."""

from __future__ import annotations

import json
from typing import Any

import pytest

import app as cockpit_app
from guard import callback_inputs as checks
from tests.access.helpers import sign_in
from tests.fuzz.harness import Fuzzer

PATH = "/_dash-update-component"


@pytest.fixture(scope="module")
def fuzzer() -> Fuzzer:
    return Fuzzer(cockpit_app.app, sign_in(cockpit_app.server.test_client(), "admin"))


def _wall(fuzzer: Fuzzer) -> dict[str, Any]:
    return json.loads(json.dumps(next(t for t in fuzzer.targets if t.name.endswith("refresh_wall")).body))


def _post(client: Any, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(PATH, data=raw, content_type="application/json")


def _refused(reply: Any, where: str) -> str:
    assert reply.status_code == 400, (reply.status_code, reply.get_data(as_text=True)[:200])
    answer = reply.get_json()
    assert answer["error"] == "bad_callback_input" and answer["input"] == where, answer
    return str(answer["reason"])


def test_bodies_that_are_not_what_dash_sends(fuzzer: Fuzzer) -> None:
    client, wall = fuzzer.client, _wall(fuzzer)
    assert "NaN" in _refused(_post(client, b'{"output": NaN}'), "body")
    _refused(_post(client, b"[" * 100_000 + b"]" * 100_000), "body")
    _refused(_post(client, b"x" * (checks.MAX_BYTES + 1)), "body")
    _refused(_post(client, [wall]), "body")
    _refused(_post(client, {**wall, "output": "nope.children"}), "output")
    _refused(_post(client, {**wall, "state": wall["state"][:-1]}), "state")
    _refused(_post(client, {**wall, "outputs": wall["outputs"][:2]}), "outputs")
    panels = wall["outputs"][0]
    _refused(_post(client, {**wall, "outputs": [panels + panels[:1], *wall["outputs"][1:]]}), "outputs")
    _refused(_post(client, {**wall, "changedPropIds": "x"}), "changedPropIds")


def test_inputs_outside_their_declared_rules_are_named(fuzzer: Fuzzer) -> None:
    wall = _wall(fuzzer)

    def with_state(name: str, value: Any) -> dict[str, Any]:
        return {**wall, "state": [{**s, "value": value} if s["id"] == name else s for s in wall["state"]]}

    regions = next(s["value"] for s in wall["state"] if s["id"] == "wall-regions")
    assert "one item per panel" in _refused(_post(fuzzer.client, with_state("wall-regions", regions + ["index"])),
                                             "wall-regions.data")
    _refused(_post(fuzzer.client, with_state("wall-regions", [True] * len(regions))), "wall-regions.data")
    _refused(_post(fuzzer.client, with_state("wall-lang", "x" * 9)), "wall-lang.data")
    _refused(_post(fuzzer.client, with_state("wall-prints", [[]] * len(regions))), "wall-prints.data")
    deep = with_state("wall-prints", json.loads("[" * 40 + "]" * 40))
    assert "nesting" in _refused(_post(fuzzer.client, deep), "wall-prints.data")
    sort = next(t for t in fuzzer.targets if t.name.endswith("on_sort")).body
    clicks = json.loads(json.dumps(sort))
    clicks["inputs"][0][0]["value"] = -1
    assert "at least 0" in _refused(_post(fuzzer.client, clicks), '{"key":["ALL"],"type":"ck-sort"}.n_clicks')
    router = next(t for t in fuzzer.targets if t.name == "dash.dash.update").body
    away = {**router, "inputs": [{**router["inputs"][0], "value": "../etc/passwd"}, router["inputs"][1]]}
    _refused(_post(fuzzer.client, away), "_pages_location.pathname")
    assert _post(fuzzer.client, wall).status_code == 200


def test_a_refusal_never_echoes_what_was_sent(fuzzer: Fuzzer) -> None:
    wall = _wall(fuzzer)
    hostile = {**wall, "state": [{**s, "id": "<script>x</script>"} if s["id"] == "wall-lang" else s
                                 for s in wall["state"]]}
    reply = _post(fuzzer.client, hostile)
    assert reply.status_code == 400 and "<script>" not in reply.get_data(as_text=True)


def test_an_anonymous_body_is_left_to_the_sign_in_gate() -> None:
    client = cockpit_app.server.test_client()
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"output": NaN}', b"{}"):
        reply = _post(client, body)
        assert reply.status_code == 401 and "bad_callback_input" not in reply.get_data(as_text=True)


def test_check_body_without_the_app() -> None:
    callbacks = {"a.children": {"output": "a.children", "inputs": [{"id": "b", "property": "n_clicks"}],
                                "state": []}}
    good = {"output": "a.children", "outputs": {"id": "a", "property": "children"},
            "inputs": [{"id": "b", "property": "n_clicks", "value": 3}], "changedPropIds": ["b.n_clicks"]}
    checks.check_body(good, callbacks)
    for bad, where in (({**good, "inputs": [{"id": "c", "property": "n_clicks", "value": 3}]}, "b.n_clicks"),
                       ({**good, "inputs": [{"id": "b", "property": "n_clicks", "value": True}]}, "b.n_clicks"),
                       ({**good, "inputs": [{"id": "b", "property": "n_clicks", "value": "3"}]}, "b.n_clicks"),
                       ({**good, "outputs": {"id": "a", "property": "style"}}, "outputs")):
        with pytest.raises(checks.Refused) as refused:
            checks.check_body(bad, callbacks)
        assert refused.value.where == where
