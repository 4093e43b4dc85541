"""The simulated city generated inside real district boundaries from a GeoJSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from datasources.simulator.adapter import SimulatorSource
from datasources.simulator.boundaries import BoundaryError, read_districts

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "boundaries-sample.geojson"


@pytest.fixture(scope="module")
def sim() -> SimulatorSource:
    return SimulatorSource("sim", boundaries=str(SAMPLE))


def test_districts_keep_their_real_names_and_outlines(sim: SimulatorSource) -> None:
    areas = sim.areas().data
    districts = areas[areas.level == "district"]
    assert districts.name_zh.tolist() == ["吉州区", "青原区", "庐陵新区", "井开区"]
    source = json.loads(SAMPLE.read_text(encoding="utf-8"))["features"]
    for n, feature in enumerate(source):
        ring = sim.layer("districts").data["features"][n]["geometry"]["coordinates"][0]
        assert shape(feature["geometry"]).buffer(1e-6).contains(shape(
            {"type": "Polygon", "coordinates": [ring]}))


def test_every_grid_lies_in_its_district(sim: SimulatorSource) -> None:
    areas = sim.areas().data
    outlines = {f["id"]: shape(f["geometry"]) for f in sim.layer("districts").data["features"]}
    grids = areas[areas.level == "grid"]
    assert len(grids) >= 300 and (areas.level == "street").sum() >= 40
    for grid in sim.layer("grids").data["features"]:
        district = grid["id"][:3]
        assert outlines[district].buffer(1e-6).contains(shape(grid["geometry"]).representative_point())


def test_features_stand_inside_the_city(sim: SimulatorSource) -> None:
    city = shape(sim.layer("city").data["features"][0]["geometry"]).buffer(0.01)
    for layer in ("cameras", "sensors", "facilities", "parking"):
        for feature in sim.layer(layer).data["features"]:
            assert city.contains(Point(feature["geometry"]["coordinates"])), (layer, feature["id"])
    assert len(sim.layer("roads").data["features"]) >= 300


def test_indicators_and_events_work_inside_the_boundaries(sim: SimulatorSource) -> None:
    from citybrain.config import load_config
    from tests.rolled import Rolled

    catalogue = load_config(env={}).catalogue
    values = Rolled(sim).latest([catalogue.get("traffic_tpi"), catalogue.get("aqi")], "district").data
    assert len(values) == 8 and values.value.notna().all()
    from datetime import timedelta

    from datasources.base import utcnow

    assert not sim.events(utcnow() - timedelta(hours=3)).data.empty


def test_a_file_without_polygons_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "points.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}))
    with pytest.raises(BoundaryError, match=r"points.geojson: features\[0\].geometry.type: expected "
                                            r"Polygon or MultiPolygon, found 'Point'"):
        read_districts(bad)
    problems = SimulatorSource.check_options({"boundaries": str(bad)})
    assert problems and problems[0].startswith("boundaries: ")
