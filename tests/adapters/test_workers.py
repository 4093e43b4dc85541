"""The drill and wall pages under gunicorn with two workers: every refresh callback answers
from its inputs and the data service alone, whichever worker serves it (a worker that never
rendered the page answers the same)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from citybrain.config import DEFAULT_CONFIG, load_config
from service.data import DataService
from tests.access.helpers import sign_in_http
from tests.servers import free_port, serve_gunicorn

ROUNDS = 40
# signed in as an admin; a new connection per request, so both workers serve
WEB = requests.Session()
WEB.headers["Connection"] = "close"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("gunicorn") / "access.log"
    port = free_port()
    proc = serve_gunicorn(DEFAULT_CONFIG, port, log)
    try:
        sign_in_http(WEB, f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _callbacks(base: str) -> list[dict[str, Any]]:
    return list(WEB.get(f"{base}/_dash-dependencies", timeout=30).json())


def _by_output(deps: list[dict[str, Any]], needle: str) -> dict[str, Any]:
    return next(d for d in deps if needle in d["output"])


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _prop(layout: Any, component_id: Any, prop: str) -> Any:
    """The value of ``prop`` of the component ``component_id`` in a layout's JSON."""
    for node in _walk(layout):
        props = node.get("props")
        if isinstance(props, dict) and props.get("id") == component_id:
            return props.get(prop)
    raise AssertionError(f"{component_id!r} not in the page")


def _ids_of(layout: Any, kind: str) -> list[dict[str, Any]]:
    found = []
    for node in _walk(layout):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), dict) and props["id"].get("type") == kind:
            found.append(props["id"])
    return found


def _page(base: str, deps: list[dict[str, Any]], path: str, search: str) -> Any:
    """The page's layout as the pages router sends it to a browser opening ``path + search``."""
    router = _by_output(deps, "_pages_content.children")
    inputs = [{"id": i["id"], "property": i["property"],
               "value": path if i["property"] == "pathname" else search if i["property"] == "search" else None}
              for i in router["inputs"]]
    body = {"output": router["output"], "outputs": _outputs(router["output"]), "inputs": inputs,
            "changedPropIds": ["_pages_location.pathname"], "state": [
                {"id": s["id"], "property": s["property"]} for s in router["state"]]}
    answer = WEB.post(f"{base}/_dash-update-component", json=body, timeout=60)
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()["response"]["_pages_content"]["children"]


def _outputs(spec: str) -> Any:
    parts = spec[2:-2].split("...")
    outs = []
    for part in parts:
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    return outs if len(outs) > 1 else outs[0]


def _served_by(log: Path, path: str) -> Counter[str]:
    lines = [line.split() for line in log.read_text().splitlines()]
    return Counter(parts[0] for parts in lines if len(parts) >= 3 and parts[2] == path and parts[1] == "POST")


def test_the_drill_refresh_answers_for_the_urls_area_from_both_workers(server: tuple[str, Path]) -> None:
    base, log = server
    data = DataService(load_config(DEFAULT_CONFIG, env={}))
    areas = data.areas().data
    district = str(areas[areas.level == "district"].id.iloc[0])
    deps = _callbacks(base)
    page = _page(base, deps, "/traffic", f"?area={district}")
    store = _prop(page, "drill-state", "data")
    assert store["area"] == district and store["path"] == "/traffic"
    refresh = _by_output(deps, "drill-main.children")
    body = {"output": refresh["output"], "outputs": _outputs(refresh["output"]),
            "inputs": [{"id": "drill-tick", "property": "n_intervals", "value": 1}],
            "changedPropIds": ["drill-tick.n_intervals"],
            "state": [{"id": "drill-state", "property": "data", "value": store}]}
    before = _served_by(log, "/_dash-update-component")
    for _ in range(ROUNDS):
        answer = WEB.post(f"{base}/_dash-update-component", json=body, timeout=60)
        assert answer.status_code == 200, answer.text[:500]
        main = json.dumps(answer.json()["response"]["drill-main"]["children"], ensure_ascii=False)
        assert "drill-kpis" in main and f"area={district}" in main, main[:300]
    served = _served_by(log, "/_dash-update-component") - before
    assert len(served) == 2, f"both workers should have served the refresh: {served}"


def test_the_wall_refresh_answers_every_panel_from_both_workers(server: tuple[str, Path]) -> None:
    base, log = server
    deps = _callbacks(base)
    page = _page(base, deps, "/wall", "?layout=1080p")
    regions = _prop(page, "wall-regions", "data")
    panels = _ids_of(page, "wall-panel")
    assert regions and len(panels) == len(regions)
    refresh = next(d for d in deps if '"wall-panel"' in d["output"] and "wall-prints.data" in d["output"])
    ack = json.loads(refresh["output"][2:-2].split("...")[-1].rsplit(".", 1)[0])
    beat = refresh["inputs"][0]["id"]
    beat = json.loads(beat) if isinstance(beat, str) else beat
    outputs = [[{"id": p, "property": "children"} for p in panels],
               [{"id": {**p, "type": "wall-badge"}, "property": "children"} for p in panels],
               {"id": "wall-prints", "property": "data"}, {"id": ack, "property": "data"}]
    before = _served_by(log, "/_dash-update-component")
    for n in range(1, ROUNDS + 1):
        body = {"output": refresh["output"], "outputs": outputs,
                "inputs": [{"id": beat, "property": "data", "value": {"n": n}}],
                "changedPropIds": [f"{json.dumps(beat, separators=(',', ':'), sort_keys=True)}.data"],
                "state": [{"id": "wall-regions", "property": "data", "value": regions},
                          {"id": "wall-lang", "property": "data", "value": "zh"},
                          {"id": "wall-prints", "property": "data", "value": None}]}
        answer = WEB.post(f"{base}/_dash-update-component", json=body, timeout=60)
        assert answer.status_code == 200, answer.text[:500]
        response = answer.json()["response"]
        shown = [v["children"] for k, v in response.items() if '"wall-panel"' in k]
        assert len(shown) == len(regions), list(response)
        assert "panel-error" not in json.dumps(shown), "a region failed"
        assert [v["data"] for k, v in response.items() if '"ack"' in k] == [n]
    served = _served_by(log, "/_dash-update-component") - before
    assert len(served) == 2, f"both workers should have served the refresh: {served}"
