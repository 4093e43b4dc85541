"""Area scope in the data service, on the simulated city: a district head gets that district
and everything below it, in areas, values, series, events, map layers, live states and the
road ranking, and nothing of the others; the numbers are those of the whole city's run,
recomputed here from the grid facts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import shapely
from flask import Flask
from shapely.geometry import shape

from citybrain.config import DEFAULT_CONFIG, load_config
from pages.traffic.model import top_congested
from service.data import DataService
from service.scope import NOTHING, Scope, using
from service.territory import OUTSIDE

HEAD = Scope("head-d02", frozenset({"leader"}), frozenset({"D02"}), False)
TWO = Scope("two", frozenset({"analyst"}), frozenset({"D01", "D03S02"}), False)
AT = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def data() -> DataService:
    return DataService(load_config(DEFAULT_CONFIG))


@pytest.fixture(scope="module")
def tree(data: DataService) -> pd.DataFrame:
    return data.areas().data   # outside a request: everything


def below(tree: pd.DataFrame, *tops: str) -> set[str]:
    """The tops and every area under them, walking parent ids (written out here)."""
    parent = dict(zip(tree.id.astype(str), tree.parent_id, strict=True))
    out = set()
    for area in parent:
        current: str | None = area
        while current is not None:
            if current in tops:
                out.add(area)
                break
            p = parent.get(current)
            current = None if p is None or pd.isna(p) else str(p)
    return out


def test_a_district_head_sees_the_district_as_the_root(data: DataService, tree: pd.DataFrame) -> None:
    with using(HEAD):
        areas = data.areas().data
        assert set(areas.id) == below(tree, "D02")
        assert data.root_id == "D02" and data.hierarchy().root_id == "D02"
        assert areas[areas.parent_id.isna()].id.tolist() == ["D02"]
    assert "city" not in set(areas.id) and len(areas) == 1 + 8 + 64


def test_values_at_every_level_are_the_districts_own_recomputed_from_grid_facts(
        data: DataService, tree: pd.DataFrame) -> None:
    grids = data.sources["sim"].latest([data.catalogue.get("checkpoint_flow"), data.catalogue.get("pm25")],
                                       "grid", AT).data
    parent = dict(zip(tree.id, tree.parent_id, strict=True))
    grids = grids.assign(street=grids.area_id.map(parent))
    grids = grids.assign(district=grids.street.map(parent))
    mine = grids[grids.district == "D02"]
    with using(HEAD):
        city = data.latest(["checkpoint_flow", "pm25"], "city", AT)
        district = data.latest(["checkpoint_flow", "pm25"], "district", AT).data
        street = data.latest(["checkpoint_flow", "pm25"], "street", AT).data
    assert city.data.empty and city.missing == {"checkpoint_flow": OUTSIDE, "pm25": OUTSIDE}
    assert set(district.area_id) == {"D02"}
    flow = district.set_index("indicator").value
    assert flow["checkpoint_flow"] == pytest.approx(mine[mine.indicator == "checkpoint_flow"].value.sum())
    assert flow["pm25"] == pytest.approx(mine[mine.indicator == "pm25"].value.mean())
    expected = mine[mine.indicator == "checkpoint_flow"].groupby("street").value.sum()
    got = street[street.indicator == "checkpoint_flow"].set_index("area_id").value
    assert set(got.index) == set(expected.index) == below(tree, "D02") & set(tree[tree.level == "street"].id)
    assert got.sort_index().tolist() == pytest.approx(expected.sort_index().tolist())


def test_series_drop_other_areas_before_anything_is_read(data: DataService,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[list[str]] = []
    real = data.derive.series
    monkeypatch.setattr(data.derive, "series", lambda ids, areas, *a: asked.append(list(areas)) or real(ids, areas, *a))
    start, end, step = AT - timedelta(hours=3), AT, timedelta(hours=1)
    whole = data.series(["checkpoint_flow"], ["D02", "D02S03"], start, end, step).data
    with using(HEAD):
        got = data.series(["checkpoint_flow"], ["D01", "D02", "city", "D05S01", "D02S03"], start, end, step).data
        none = data.series(["checkpoint_flow"], ["D01", "city"], start, end, step)
    assert asked == [["D02", "D02S03"], ["D02", "D02S03"]]   # the whole city's read, then the head's
    assert set(got.area_id) == {"D02", "D02S03"}
    pd.testing.assert_frame_equal(got.reset_index(drop=True), whole.reset_index(drop=True))
    assert none.data.empty and none.missing == {"checkpoint_flow": OUTSIDE}


def test_events_are_those_of_the_district(data: DataService, tree: pd.DataFrame) -> None:
    since = datetime.now(UTC) - timedelta(hours=6)
    every = data.events(since).data
    with using(HEAD):
        mine = data.events(since).data
    expected = every[every.area_id.isin(below(tree, "D02"))]
    assert len(expected) and len(expected) < len(every)
    assert sorted(mine.id) == sorted(expected.id)


def test_map_layers_and_their_live_states_are_the_districts(data: DataService, tree: pd.DataFrame) -> None:
    mine = below(tree, "D02")
    outline = shape(next(f for f in data.layer("districts").data["features"] if f["id"] == "D02")["geometry"])
    with using(HEAD):
        layers = {n: data.layer(n).data["features"] for n in
                  ("city", "districts", "streets", "grids", "roads", "cameras", "sensors", "facilities", "parking")}
        states = {n: data.feature_states(n).data for n in ("roads", "cameras", "sensors", "facilities", "parking")}
    for name in ("districts", "streets", "grids"):
        every = {f["id"] for f in data.layer(name).data["features"]}
        assert {f["id"] for f in layers[name]} == every & mine, name
    for name in ("cameras", "sensors", "facilities", "parking"):
        every = data.layer(name).data["features"]
        assert {f["id"] for f in layers[name]} == {f["id"] for f in every if f["properties"]["area_id"] in mine}
        assert set(states[name].id) == {f["id"] for f in layers[name]}, name
    (city,) = layers["city"]
    assert city["id"] == "D02" and shape(city["geometry"]).symmetric_difference(outline).area < 1e-9
    roads = {f["id"]: shape(f["geometry"]) for f in data.layer("roads").data["features"]}
    kept = {f["id"] for f in layers["roads"]}
    assert all(roads[r].intersects(outline) for r in kept)
    assert {r for r, line in roads.items() if any(outline.contains(shapely.Point(p)) for p in line.coords)} <= kept
    assert len(kept) < len(roads) and set(states["roads"].id) == kept
    props = {f["id"]: f["properties"] for f in layers["roads"]}
    assert {r.id for r in top_congested(states["roads"], props, "zh", n=50)} <= kept


def test_several_areas_hang_under_the_city_by_name_without_its_values(data: DataService,
                                                                      tree: pd.DataFrame) -> None:
    with using(TWO):
        areas = data.areas().data
        root = data.root_id
        city = data.latest(["population"], "city", AT).data
        districts = data.latest(["population"], "district", AT).data
        streets = data.latest(["population"], "street", AT).data
    assert root == "city" and set(areas.id) == below(tree, "D01", "D03S02") | {"city"}
    assert areas.set_index("id").loc["D03S02", "parent_id"] == "city"
    assert city.empty and set(districts.area_id) == {"D01"}
    assert set(streets.area_id) == (below(tree, "D01") | {"D03S02"}) & set(tree[tree.level == "street"].id)


def test_a_limited_read_leaves_the_shared_memos_whole(data: DataService) -> None:
    with using(HEAD):
        data.latest(["population"], "district", AT)
        data.layer("roads")
    assert len(data.latest(["population"], "district", AT).data) == 6
    assert len(data.layer("roads").data["features"]) == 808
    with using(HEAD):
        assert len(data.latest(["population"], "district", AT).data) == 1


def test_unknown_areas_and_unmarked_requests_get_nothing(data: DataService) -> None:
    stranger = Scope("stranger", frozenset({"leader"}), frozenset({"X99"}), False)
    since = datetime.now(UTC) - timedelta(hours=6)
    with using(stranger):
        assert data.areas().data.id.tolist() == ["city"]
        assert data.latest(["population"], "district", AT).data.empty
        assert data.events(since).data.empty
        assert data.layer("grids").data["features"] == []
    with Flask(__name__).test_request_context():   # a request the gate never marked
        assert data.areas().data.id.tolist() == ["city"] and NOTHING.areas == frozenset()
        assert data.feature_states("cameras").data.empty
