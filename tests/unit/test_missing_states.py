"""Missing is not zero: one failing indicator blanks only its own tiles, with the reason on
hover, and the city index is computed over the rest and says from how many.

The city is the shipped simulator; one weighted headline indicator is bound to a second
store that fails, one to a third that answers with nothing, and the events role to that
third store, which has no events (so the ticker is not connected).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from plotly.utils import PlotlyJSONEncoder

import app  # noqa: F401 - the pages register with the app
from citybrain.config import DEFAULT_CONFIG, load_config
from citybrain.memo import TtlMemo
from components.kpi_card import kpi_card
from datasources.base import LATEST_COLUMNS, SERIES_COLUMNS, Frame, Health, utcnow
from datasources.errors import BadQuery, DataSourceError, StoreUnavailable
from datasources.registry import build_sources
from pages.cockpit import page as cockpit
from pages.heartbeat import model
from pages.heartbeat import page as heartbeat
from pages.wall import page as wall
from service import runtime
from service.data import DataService
from service.kpi import Reading, read_kpis, readings
from tests.conftest import says

FAILING = "alerts_110_today"     # weighted, headline, summed up from its leaf facts
EMPTY = "power_load_mw"          # weighted, headline: its store gives no rows
COARSE = "coarse_aqi"            # facts down to districts only: not connected at grid level


class FailingStore:
    """A store whose every read fails with ``error``."""

    def __init__(self, name: str, error: DataSourceError) -> None:
        self.name = name
        self.error = error

    def latest(self, *_: Any, **__: Any) -> Frame[pd.DataFrame]:
        raise self.error

    series = events = areas = layer = latest

    def health(self) -> Health:
        return Health(self.name, False, error=str(self.error))


class EmptyStore:
    """A connected store that has no rows for anything, and no events source."""

    name = "empty"

    def latest(self, *_: Any, **__: Any) -> Frame[pd.DataFrame]:
        return Frame(pd.DataFrame(columns=LATEST_COLUMNS), utcnow(), self.name)

    def series(self, *_: Any, **__: Any) -> Frame[pd.DataFrame]:
        return Frame(pd.DataFrame(columns=SERIES_COLUMNS), utcnow(), self.name)

    def events(self, *_: Any, **__: Any) -> Frame[pd.DataFrame]:
        raise BadQuery(self.name, "this datasource has no events_query")

    def health(self) -> Health:
        return Health(self.name, True)


def _config(tmp_path: Path) -> Any:
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    raw["datasources"]["dead"] = {"type": "simulator", "seed": 1}
    raw["datasources"]["empty"] = {"type": "simulator", "seed": 2}
    raw["roles"] = {"areas": "sim", "events": "empty", "layers": "sim"}
    for ind in raw["indicators"]:
        if ind["id"] == FAILING:
            ind["binding"] = {**ind["binding"], "source": "dead"}
        elif ind["id"] == EMPTY:
            ind["binding"] = {**ind["binding"], "source": "empty"}
    aqi = next(i for i in raw["indicators"] if i["id"] == "aqi")
    raw["indicators"].append({**aqi, "id": COARSE, "weight": 0, "headline": False,
                              "levels": ["city", "district"],
                              "binding": {"source": "empty", "metric": "aqi"}})
    path = tmp_path / "cockpit.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(path, env={})


@pytest.fixture(params=[BadQuery("dead", "relation alerts does not exist"),
                        StoreUnavailable("dead", "connection refused")], ids=["bad-query", "outage"])
def broken(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[runtime.Cockpit, str]]:
    """A cockpit with one failing and one empty indicator; the failure's text."""
    config = _config(tmp_path)
    sources = build_sources(config)
    sources["dead"] = FailingStore("dead", request.param)
    sources["empty"] = EmptyStore()
    before = runtime.current()
    runtime.install(runtime.Cockpit(config, DataService(config, sources=sources)))
    for module, name in ((wall, "PANELS"), (wall, "VIEWS"), (heartbeat, "TICKS"), (cockpit, "TICKS")):
        monkeypatch.setattr(module, name, TtlMemo(seconds=0))
    yield runtime.current(), request.param.message
    runtime.install(before)


def _json(component: Any) -> Any:
    return json.loads(json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False))


def _nodes(component: Any) -> list[dict[str, Any]]:
    """Every component in a layout tree as {type, props}."""
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict) and "props" in node:
            out.append(node)
            walk(node["props"].get("children"))

    walk(_json(component))
    return out


def _text(component: Any) -> str:
    return json.dumps(_json(component), ensure_ascii=False)


def _counts(cockpit_: runtime.Cockpit, *blank: str) -> tuple[int, int]:
    weighted = [i.id for i in cockpit_.catalogue.weighted()]
    return len(weighted) - sum(1 for b in blank if b in weighted), len(weighted)


def _tiles(strip: Any) -> dict[str, dict[str, Any]]:
    """Headline tiles by their drill-down link's indicator: state, title and value text."""
    out = {}
    for node in _nodes(strip):
        props = node["props"]
        if "tile" in str(props.get("className", "")).split():
            number = next(n for n in _nodes(props["children"]) if "data-state" in n["props"])
            ind = str(props.get("href", "")).split("indicator=")[1].split("&")[0]
            values = [n["props"]["children"] for n in _nodes(number) if n["props"].get("className") == "tile-value"]
            out[ind] = {"state": number["props"]["data-state"], "title": props.get("title", ""),
                        "value": values[0] if values else None, "text": _text(number)}
    return out


def test_heartbeat_blanks_only_the_failing_tile_and_indexes_the_rest(broken) -> None:  # type: ignore[no-untyped-def]
    cockpit_, reason = broken
    views = heartbeat.render("zh", initial=True)
    tiles = _tiles(views["tiles"])
    assert tiles[FAILING]["state"] == "error" and says(tiles[FAILING]["title"], reason)
    assert "错误" in tiles[FAILING]["text"] and tiles[FAILING]["value"] is None
    assert tiles[EMPTY]["state"] == "no_data" and "暂无数据" in tiles[EMPTY]["text"]
    assert tiles[EMPTY]["value"] is None, "an empty store is not a 0"
    others = {k: v for k, v in tiles.items() if k not in (FAILING, EMPTY)}
    assert others and all(v["state"] == "ok" and v["value"] not in (None, "—") for v in others.values())

    used, total = _counts(cockpit_, FAILING, EMPTY)
    assert used == total - 2
    index = _text(views["index"])
    assert f"基于 {used}/{total} 项指标" in index and says(index, reason)   # what it left out, on hover
    value = next(n["props"]["children"] for n in _nodes(views["index"]) if n["props"].get("id") == "hb-index-value")
    assert 0 <= float(value) <= 100
    snap = model.snapshot(cockpit_)
    assert (snap.used, snap.total) == (used, total) and snap.index is not None

    # every pulse still draws, and says its score
    assert len(views["figures"]) == 7 and all(len(f["data"][0]["y"]) >= 2 for f in views["figures"])
    assert "面板暂不可用" not in _text(views["labels"])
    assert "Traffic" in _text(heartbeat.render("en", initial=True)["labels"])
    en = _text(heartbeat.render("en", initial=True)["index"])
    assert f"from {used} of {total} indicators" in en


def test_wall_tiles_index_and_ticker_say_what_is_missing(broken) -> None:  # type: ignore[no-untyped-def]
    cockpit_, reason = broken
    regions = ["index", "tiles", "ticker", f"indicator:{FAILING}", f"indicator:{EMPTY}", "indicator:aqi"]
    view = wall.wall_view(regions, "zh")
    body = dict(zip(regions, view.contents, strict=True))
    badge = dict(zip(regions, view.badges, strict=True))
    used, total = _counts(cockpit_, FAILING, EMPTY)
    assert f"基于 {used}/{total} 项指标" in _text(body["index"])
    assert _tiles(body["tiles"])[FAILING]["state"] == "error"

    def big(region: str) -> dict[str, Any]:
        return next(n["props"] for n in _nodes(body[region]) if "data-state" in n["props"])

    assert big(f"indicator:{FAILING}")["data-state"] == "error" and says(_text(body[f"indicator:{FAILING}"]), reason)
    assert big(f"indicator:{EMPTY}")["data-state"] == "no_data" and "暂无数据" in _text(body[f"indicator:{EMPTY}"])
    assert big("indicator:aqi")["data-state"] == "ok"
    # no events source: the ticker and its badge say 未接入, not "no data"
    assert "未接入" in _text(body["ticker"]) and "未接入" in _text(badge["ticker"])
    assert "暂无数据" not in _text(badge["ticker"]) and "no events_query" in _text(badge["ticker"])


def test_cockpit_gauges_and_index_keep_the_rest(broken) -> None:  # type: ignore[no-untyped-def]
    cockpit_, reason = broken
    views = cockpit.render("zh")
    gauges = {n["props"]["data-indicator"]: n["props"] for n in _nodes(views["gauges"])
              if "data-indicator" in n["props"]}
    assert gauges[FAILING]["data-state"] == "error" and says(_text(views["gauges"]), reason)
    assert gauges[EMPTY]["data-state"] == "no_data"
    assert all(g["data-state"] == "ok" for k, g in gauges.items() if k not in (FAILING, EMPTY))
    used, total = _counts(cockpit_, FAILING, EMPTY)
    assert f"基于 {used}/{total} 项指标" in _text(views["trend_note"])
    assert views["rows"]["error"] is None


def test_kpi_cards_show_error_no_data_and_not_connected_never_zero(broken) -> None:  # type: ignore[no-untyped-def]
    cockpit_, reason = broken
    cat = cockpit_.catalogue
    now = utcnow()
    inds = [cat.get(i) for i in (FAILING, EMPTY, "aqi")]
    kpis = {k.indicator.id: k for k in read_kpis(cockpit_.data, inds, cockpit_.data.root_id, "city", now)}
    assert kpis[FAILING].state == "error" and says(kpis[FAILING].reason or "", reason) and kpis[FAILING].value is None
    assert kpis[EMPTY].state == "no_data" and kpis[EMPTY].value is None
    assert kpis["aqi"].state == "ok" and kpis["aqi"].value is not None
    card = _text(kpi_card(kpis[EMPTY], "zh", "/x", cockpit_.tz))
    assert "暂无数据" in card and '"data-state": "no_data"' in card
    assert "错误" in _text(kpi_card(kpis[FAILING], "zh", "/x", cockpit_.tz))

    grid = cockpit_.data.hierarchy().ids_at("grid")
    coarse = read_kpis(cockpit_.data, [cat.get(COARSE)], sorted(grid)[0], "grid", now)[0]
    assert coarse.state == "not_connected" and "district" in coarse.reason
    assert "未接入" in _text(kpi_card(coarse, "zh", "/x", cockpit_.tz))


def test_readings_tell_the_four_states_apart() -> None:
    cat = runtime.current().catalogue
    a, b, c, d = (cat.get(i) for i in ("aqi", "pm25", FAILING, EMPTY))
    rows = pd.DataFrame([("aqi", "city", utcnow(), 56.0), ("pm25", "city", utcnow(), float("nan"))],
                        columns=LATEST_COLUMNS)
    frame = Frame(rows, utcnow(), "sim", missing={FAILING: "sim: query failed"})
    got = readings(frame, [a, b, c, d], not_connected={EMPTY: "not at this level"})
    assert got["aqi"] == Reading(56.0, "ok", "")
    assert got["pm25"].state == "no_data" and got["pm25"].value is None
    assert got[FAILING] == Reading(None, "error", "sim: query failed")
    assert got[EMPTY].state == "not_connected"
    stale = readings(Frame(rows, utcnow(), "sim", stale=True, error="sim: timed out"), [a])
    assert stale["aqi"] == Reading(56.0, "stale", "sim: timed out")
    assert readings(None, [a], failure="sim: down")["aqi"] == Reading(None, "error", "sim: down")
