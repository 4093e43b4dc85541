"""WGS-84 / GCJ-02 / BD-09 conversions on known point pairs."""

from __future__ import annotations

import numpy as np
import pytest

from citybrain.spatial import haversine_m
from datasources.crs import convert, convert_geojson, gcj02_to_wgs84, wgs84_to_gcj02


def test_wgs84_to_gcj02_matches_the_published_reference_pair() -> None:
    # the reference pair of the widely used coordTransform library
    lon, lat = wgs84_to_gcj02(128.543, 37.065)
    assert lon == pytest.approx(128.54820547949757, abs=1e-9)
    assert lat == pytest.approx(37.065651049489816, abs=1e-9)


def test_gcj02_to_bd09_matches_the_reference_within_a_metre() -> None:
    lon, lat = convert(128.543, 37.065, "gcj02", "bd09")
    assert (lon, lat) == pytest.approx((128.54944262692933, 37.07113238044662), abs=1e-5)


@pytest.mark.parametrize(("src", "dst"), [("wgs84", "gcj02"), ("gcj02", "bd09"), ("wgs84", "bd09")])
def test_round_trips_come_back_within_centimetres(src: str, dst: str) -> None:
    lon, lat = 114.99, 27.11
    there = convert(lon, lat, src, dst)
    back = convert(*there, dst, src)
    assert haversine_m(lon, lat, *back) < 0.05


def test_the_offset_in_a_prefecture_city_is_hundreds_of_metres() -> None:
    moved = haversine_m(114.99, 27.11, *wgs84_to_gcj02(114.99, 27.11))
    assert 100 < moved < 700


def test_points_outside_china_are_not_offset() -> None:
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def test_vectorised_equals_scalar() -> None:
    lons, lats = np.array([114.9, 115.0, 121.47]), np.array([27.0, 27.2, 31.23])
    vlon, vlat = convert(lons, lats, "wgs84", "bd09")
    for n in range(3):
        assert (vlon[n], vlat[n]) == pytest.approx(convert(lons[n], lats[n], "wgs84", "bd09"))


def test_unknown_system_is_named() -> None:
    with pytest.raises(ValueError, match="unknown coordinate system 'cgcs2000'"):
        convert(1, 2, "cgcs2000", "wgs84")


def test_geojson_is_converted_into_a_copy() -> None:
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "properties": {"name": "区"},
         "geometry": {"type": "Polygon", "coordinates": [[[115, 27], [115.1, 27], [115.1, 27.1], [115, 27]]]}},
        {"type": "Feature", "id": "b", "properties": {},
         "geometry": {"type": "MultiLineString", "coordinates": [[[115, 27], [115.05, 27.05]],
                                                                 [[115.1, 27.1], [115.2, 27.2]]]}}]}
    out = convert_geojson(collection, "wgs84", "gcj02")
    assert collection["features"][0]["geometry"]["coordinates"][0][0] == [115, 27]
    first = out["features"][0]["geometry"]["coordinates"][0][0]
    assert first == pytest.approx(list(wgs84_to_gcj02(115, 27)), abs=1e-7)
    assert out["features"][0]["properties"] == {"name": "区"} and out["features"][1]["id"] == "b"
    assert len(out["features"][1]["geometry"]["coordinates"]) == 2


def test_sources_in_other_systems_line_up_on_the_display_system(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same city served as BD-09 by its source is shown where the WGS-84 one is
    shown after conversion to the map's GCJ-02."""
    import yaml

    from citybrain.config import DEFAULT_CONFIG, load_config
    from service.data import DataService

    doc = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    doc["map"] = {"crs": "gcj02"}
    path = tmp_path / "gcj.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    service = DataService(load_config(path, env={}))
    shown = service.layer("cameras").data["features"][0]["geometry"]["coordinates"]
    raw = service.sources["sim"].layer("cameras").data["features"][0]["geometry"]["coordinates"]
    assert shown == pytest.approx(list(wgs84_to_gcj02(*raw)), abs=1e-6)
    doc["datasources"]["sim"]["crs"] = "bd09"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    as_bd = DataService(load_config(path, env={})).layer("cameras").data
    assert as_bd["features"][0]["geometry"]["coordinates"] == pytest.approx(
        list(convert(*raw, "bd09", "gcj02")), abs=1e-6)
