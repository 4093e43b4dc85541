"""The map's building blocks: spatial linkage, layer colours and the delta updates."""

from __future__ import annotations

import pandas as pd
import pytest
from dash import Patch, no_update

import app  # noqa: F401  (registers the pages)
from citybrain.scoring import STATUS_COLOURS
from citybrain.spatial import bounds, haversine_m, nearby
from citybrain.standards import aqi, tpi
from datasources.base import Frame, utcnow
from pages.map import model
from pages.map.deltas import DeltaBook, paint_update
from pages.traffic import model as dm
from service import runtime


def points(*coords: tuple[float, float]) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"P{n}", "properties": {"n": n},
         "geometry": {"type": "Point", "coordinates": list(c)}} for n, c in enumerate(coords)]}


def test_haversine_of_one_degree_of_latitude() -> None:
    assert haversine_m(115, 27, 115, 28) == pytest.approx(111_195, rel=1e-3)


def test_nearby_lists_points_within_the_radius_nearest_first() -> None:
    cams = points((115.0, 27.0), (115.005, 27.0), (115.002, 27.0), (115.2, 27.0))
    found = nearby(cams, 115.0, 27.0, radius_m=600)
    assert [f.id for f in found] == ["P0", "P2", "P1"]
    assert found[1].distance_m == pytest.approx(198, rel=0.02)
    assert nearby(cams, 115.0, 27.0, radius_m=600, limit=1)[0].id == "P0"
    assert nearby(points(), 115, 27, radius_m=1000) == []


def test_bounds_are_south_west_north_east() -> None:
    assert bounds([[115, 27], [115.1, 27], [115.1, 27.2], [115, 27]]) == [[27, 115], [27.2, 115.1]]


def test_choropleth_colours_by_catalogue_thresholds() -> None:
    cockpit = runtime.current()
    colours, legend, _ = model.choropleth(cockpit, cockpit.catalogue.get("traffic_tpi"), "district", "zh")
    assert len(colours) == 6 and set(colours.values()) <= set(STATUS_COLOURS.values())
    assert len(legend.items) == 3


def test_choropleth_without_thresholds_uses_quantile_classes() -> None:
    cockpit = runtime.current()
    colours, legend, _ = model.choropleth(cockpit, cockpit.catalogue.get("population"), "street", "en")
    assert len(colours) == 48 and set(colours.values()) <= set(model.SEQUENTIAL)
    assert len(legend.items) >= 3


def test_road_colours_are_the_gbt_33171_level_colours() -> None:
    colours, _ = model.road_colours(runtime.current())
    assert len(colours) == 808 and set(colours.values()) <= {lv.colour for lv in tpi.LEVELS}


class _States:
    """A cockpit whose store answers ``feature_states`` with the given frames."""

    def __init__(self, **frames: pd.DataFrame) -> None:
        self.data = self
        self.frames = frames

    def feature_states(self, name: str) -> Frame:
        return Frame(self.frames[name], utcnow(), "test")


def test_sensor_colours_follow_the_hj_633_categories_at_every_edge() -> None:
    values = [0, 50, 50.5, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500]
    states = _States(sensors=pd.DataFrame({"id": [f"S{n}" for n in range(len(values))], "aqi": values}))
    colours, _ = model.sensor_colours(states)
    assert colours == {f"S{n}": aqi.category(v).colour for n, v in enumerate(values)}


def test_features_without_a_reading_are_painted_as_no_data() -> None:
    states = _States(
        sensors=pd.DataFrame({"id": ["S1", "S2"], "aqi": [float("nan"), 42.0]}),
        roads=pd.DataFrame({"id": ["R1", "R2", "R3"], "level": [float("nan"), 1, 5]}),
        parking=pd.DataFrame({"id": ["P1", "P2", "P3", "P4"], "occupancy": [float("nan"), 10, 80, 95]}))
    assert model.sensor_colours(states)[0] == {"S1": model.NO_DATA, "S2": aqi.CATEGORIES[0].colour}
    assert model.road_colours(states)[0] == {"R1": model.NO_DATA, "R2": tpi.LEVELS[0].colour,
                                             "R3": tpi.LEVELS[4].colour}
    assert model.parking_colours(states)[0] == {"P1": model.NO_DATA, "P2": "#2ECC71", "P3": "#F5C242",
                                                "P4": "#FF4D4F"}


def test_facility_colours_count_the_faults() -> None:
    states = _States(facilities=pd.DataFrame({"id": ["F1", "F2", "F3"], "faulty": [False, True, False]}))
    colours, faults, _ = model.facility_colours(states)
    assert colours == {"F1": "#2ECC71", "F2": "#FF4D4F", "F3": "#2ECC71"} and faults == 1


def test_events_are_points_with_kind_and_severity() -> None:
    collection, _ = model.events_collection(runtime.current(), "zh")
    feature = collection["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert {"kind", "severity", "status", "tooltip"} <= set(feature["properties"])


def test_event_facts_link_cameras_within_the_radius() -> None:
    cockpit = runtime.current()
    collection, _ = model.events_collection(cockpit, "zh")
    facts = model.event_facts(cockpit, collection["features"][0]["id"])
    assert all(c.distance_m <= model.LINK_RADIUS_M for c in facts.cameras)
    with pytest.raises(KeyError, match="unknown or expired event"):
        model.event_facts(cockpit, "no-such-event")


def test_area_facts_name_the_area_and_its_values() -> None:
    row, facts = model.area_facts(runtime.current(), "D01")
    assert row.level == "district" and any(v is not None for _, v in facts)
    with pytest.raises(KeyError, match="unknown area 'Z9'"):
        model.area_facts(runtime.current(), "Z9")


def test_a_screen_gets_everything_first_then_only_what_changed() -> None:
    book = DeltaBook()
    green = {f"r{n}": "green" for n in range(5)}
    first, held = paint_update(book, "roads", "roads", {**green, "a": "red"}, {"hidden": False}, None)
    assert first == {"colours": {"a": "red"}, "base": "green", "hidden": False}, "only what differs from the base"
    same, held = paint_update(book, "roads", "roads", {**green, "a": "red"}, {"hidden": False}, held)
    assert same is no_update
    changed, held = paint_update(book, "roads", "roads", {**green, "a": "green", "r1": "amber"},
                                 {"hidden": False}, held)
    assert isinstance(changed, Patch)
    ops = changed.to_plotly_json()["operations"]
    assert ops == [{"operation": "Merge", "location": ["colours"],
                    "params": {"value": {"r1": "amber", "a": None}}}], "a is back to the base colour"


def test_a_new_base_colour_is_sent_with_the_changes() -> None:
    book = DeltaBook()
    _, held = paint_update(book, "roads", "roads", {"a": "green", "b": "green", "c": "red"}, {}, None)
    patch, _ = paint_update(book, "roads", "roads", {"a": "red", "b": "red", "c": "red"}, {}, held)
    ops = {op["location"][0]: op for op in patch.to_plotly_json()["operations"]}
    assert ops["colours"]["params"]["value"] == {"c": None}
    assert ops["base"]["params"]["value"] == "red"


def test_a_screen_from_another_process_or_key_gets_everything() -> None:
    book = DeltaBook()
    _, held = paint_update(book, "areas", "areas:aqi:district", {"D01": "x", "D02": "z"}, {}, None)
    full, _ = paint_update(book, "areas", "areas:aqi:street", {"S1": "y"}, {}, held)
    assert full == {"colours": {}, "base": "y"}
    foreign = {**held, "process": "elsewhere"}
    full, _ = paint_update(book, "areas", "areas:aqi:district", {"D01": "x", "D02": "z"}, {}, foreign)
    assert full == {"colours": {"D02": "z"}, "base": "x"}


def test_the_book_keeps_a_few_versions() -> None:
    book = DeltaBook(keep=2)
    versions = [book.publish("k", {"a": str(n)}) for n in range(4)]
    assert book.changes("k", versions[0], versions[3]) is None
    assert book.changes("k", versions[2], versions[3]) == {"a": "3"}


def test_a_tick_resends_neither_unchanged_colours_nor_unchanged_events(monkeypatch: pytest.MonkeyPatch) -> None:
    from pages.map import page as map_page

    # the city stands still for this test: each reader answers what it answered first
    for name in ("choropleth", "road_colours", "camera_colours", "sensor_colours", "facility_colours",
                 "parking_colours", "events_collection"):
        reader, answers = getattr(model, name), {}
        monkeypatch.setattr(model, name, lambda *a, _r=reader, _seen=answers: _seen.setdefault(
            tuple(str(x) for x in a[1:]), _r(*a)))
    on = ["areas", "roads", "events", "cameras", "sensors", "facilities", "parking", "heat"]
    url, events, *rest = map_page._map_updates("traffic_tpi", "district", on, "zh", None)
    held = rest[-1]
    assert url == "/geo/districts.json" and len(events["features"]) > 0
    assert all(isinstance(paint, dict) and "base" in paint for paint in rest[:len(map_page.PAINTED)])
    _, again, *rest = map_page._map_updates("traffic_tpi", "district", on, "zh", held)
    assert again is no_update, "the same events are not sent twice"
    assert all(paint is no_update for paint in rest[:len(map_page.PAINTED)])
    _, english, *_ = map_page._map_updates("traffic_tpi", "district", on, "en", held)
    assert english["features"][0]["properties"]["tooltip"] != events["features"][0]["properties"]["tooltip"]


def test_inside_tells_points_in_a_polygon_from_those_in_its_hole_or_outside() -> None:
    from citybrain.spatial import inside

    square = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    hole = [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]
    polygon = {"type": "Polygon", "coordinates": [square, hole]}
    lon, lat = [0.5, 1.5, 3.5, 5.0, -1.0], [0.5, 1.5, 3.9, 2.0, 2.0]
    assert inside(polygon, lon, lat).tolist() == [True, False, True, False, False]
    far = [[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]
    multi = {"type": "MultiPolygon", "coordinates": [[square], [far]]}
    assert inside(multi, [10.5, 2, 7], [10.5, 2, 7]).tolist() == [True, True, False]
    assert inside({"type": "Point", "coordinates": [1, 1]}, [1], [1]).tolist() == [False]


def test_the_roads_of_an_area_are_those_running_through_it() -> None:
    def road(fid: str, *points: tuple[float, float]) -> dict:
        return {"type": "Feature", "id": fid, "geometry": {"type": "LineString", "coordinates": list(points)}}

    area = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    roads = {"type": "FeatureCollection", "features": [
        road("in", (0.5, 0.5), (1.5, 0.5)), road("out", (3, 3), (4, 4)),
        road("leaves", (1, 1), (5, 1)), road("crosses", (-1, 1), (3, 1)),
        {"type": "Feature", "id": "broken", "geometry": None}]}
    assert dm.roads_within(roads, area) == {"in", "leaves", "crosses"}


def test_a_district_lists_only_its_own_congested_roads() -> None:
    from citybrain.areas import AreaTree
    from citybrain.drill import read_state
    from datasources.base import utcnow
    from pages.traffic import page as traffic

    cockpit = runtime.current()
    tree = AreaTree(cockpit.data.areas().data)

    def top(area: str | None) -> set[str]:
        state = read_state(cockpit.catalogue, tree, cockpit.tz, utcnow(), indicator="traffic_tpi",
                           area=area, period=None, lang="zh")
        figure = traffic._top_roads(state).figure
        return {str(key) for trace in figure["data"] for key in trace["customdata"]}

    district = top("D01")
    geo = cockpit.data
    outline = next(f["geometry"] for f in geo.layer("districts").data["features"] if f["id"] == "D01")
    assert len(top(None)) == 10 and len(district) == 10
    assert district <= dm.roads_within(geo.layer("roads").data, outline), "only roads through D01"
    assert len(set().union(*(top(f"D0{n}") for n in range(1, 7)))) > 20, "each district has its own"
