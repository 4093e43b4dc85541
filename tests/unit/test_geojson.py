"""The GeoJSON reader: every shape a GIS export comes in, ids as text, drops counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from datasources.crs import gcj02_to_wgs84
from datasources.errors import BadQuery
from datasources.geojson import COUNTS_KEY, LayerRead, bounds, id_text, read_layer, union_outline
from datasources.tabular import feature_collection
from datasources.validation import RejectCounter


def square(x: float, y: float, size: float = 0.1) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def polygon(x: float = 115.0, y: float = 27.0) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": square(x, y)}


def feature(geometry: Any, fid: Any = None, **props: Any) -> dict[str, Any]:
    out = {"type": "Feature", "geometry": geometry, "properties": props}
    return out if fid is None else {**out, "id": fid}


def read(doc: Any, **options: Any) -> LayerRead:
    return read_layer(doc, source="gis", layer="districts", key_path="datasources.gis.layers.districts",
                      origin="districts.json", **options)


def ids(result: LayerRead) -> list[str]:
    return [f["id"] for f in result.collection["features"]]


def test_a_feature_collection_takes_ids_from_the_named_property_as_text() -> None:
    doc = {"type": "FeatureCollection", "features": [
        feature(polygon(), "x", adcode=360802.0, name="吉州区"),
        feature(polygon(116), "y", adcode=360803, name="青原区")]}
    result = read(doc, id_property="adcode", name_property="name")
    assert ids(result) == ["360802", "360803"]
    first = result.collection["features"][0]
    assert first["properties"]["id"] == "360802" and first["properties"]["name_zh"] == "吉州区"
    assert first["properties"]["name_en"] == "吉州区", "the English name falls back to the Chinese"
    assert result.read == 2 and result.kept == 2 and result.dropped == {}
    assert result.collection[COUNTS_KEY] == {"read": 2, "kept": 2, "dropped": {}, "id_property": "adcode",
                                             "ids_by_position": 0}
    assert doc["features"][0]["properties"] == {"adcode": 360802.0, "name": "吉州区"}, "input untouched"


def test_without_the_named_property_the_id_is_the_features_id_then_properties_id() -> None:
    doc = [feature(polygon(), 7, adcode=1), feature(polygon(), None, id=8.0), feature(polygon(), "c")]
    assert ids(read(doc)) == ["7", "8", "c"]
    assert ids(read(doc, id_property="adcode")) == ["1", "8", "c"]


def test_a_single_feature_is_a_layer_of_one() -> None:
    assert ids(read(feature(polygon(), "360802"))) == ["360802"]


@pytest.mark.parametrize("value, text", [(360802, "360802"), (360802.0, "360802"), (" 36 ", "36"),
                                         (1.5, "1.5"), (True, None), (None, None), ("", None),
                                         (float("nan"), None), ([1], None)])
def test_ids_become_text_without_a_decimal_point(value: Any, text: str | None) -> None:
    assert id_text(value) == text


def test_a_geometry_collection_becomes_one_feature_per_geometry() -> None:
    doc = {"type": "GeometryCollection", "geometries": [
        polygon(), {"type": "LineString", "coordinates": [[115, 27], [115.1, 27.1]]},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [115, 27]}]}]}
    result = read(doc)
    assert ids(result) == ["districts-0", "districts-1", "districts-2"]
    assert [f["geometry"]["type"] for f in result.collection["features"]] == ["Polygon", "LineString", "Point"]
    assert result.by_position == 3 and result.collection[COUNTS_KEY]["ids_by_position"] == 3


def test_bare_geometries_a_document_or_a_list() -> None:
    assert ids(read(polygon())) == ["districts-0"]
    many = [polygon(), {"type": "MultiPolygon", "coordinates": [square(115, 27), square(116, 27)]},
            {"type": "Point", "coordinates": [115.5, 27.5, 12.0]}]
    result = read(many)
    assert result.kept == 3 and result.dropped == {}
    assert result.collection["features"][1]["geometry"] == many[1]


def test_feature_like_geometries_carry_their_properties() -> None:
    doc = [{**polygon(), "properties": {"adcode": 360802, "name": "吉州区"}},
           {**polygon(116), "properties": {"adcode": "360803", "name": "青原区"}}]
    result = read(doc, id_property="adcode", name_property="name")
    assert ids(result) == ["360802", "360803"]
    first = result.collection["features"][0]
    assert first["geometry"] == polygon(), "properties are not left in the geometry"
    assert first["properties"]["name_zh"] == "吉州区"


def test_records_with_a_geometry_key_keep_every_other_key_as_a_property() -> None:
    doc = [{"adcode": 360802, "name": "吉州区", "type": "区", "geometry": polygon()},
           {"adcode": 360803, "name": "青原区", "geometry": polygon(116)}]
    result = read(doc, id_property="adcode", name_property="name")
    assert ids(result) == ["360802", "360803"]
    assert result.collection["features"][0]["properties"] == {
        "adcode": 360802, "name": "吉州区", "type": "区", "id": "360802", "name_zh": "吉州区", "name_en": "吉州区"}
    assert ids(read({"adcode": 1, "geometry": polygon()}, id_property="adcode")) == ["1"]


def test_every_dropped_feature_is_counted_by_reason() -> None:
    doc = [feature(polygon(), adcode=1),
           feature(None, adcode=2),                                               # no geometry
           feature({"type": "Circle", "coordinates": [115, 27]}, adcode=3),       # invalid type
           feature({"type": "Polygon", "coordinates": [[[115, "x"]]]}, adcode=4),  # malformed
           feature({"type": "Polygon", "coordinates": []}, adcode=5),             # empty
           feature(polygon(12958175, 4825923), adcode=6),                         # projected metres
           feature(polygon(), name="no code"),                                    # missing id
           feature(polygon(), adcode=1.0),                                        # duplicate id
           42]
    rejects = RejectCounter()
    result = read(doc, id_property="adcode", rejects=rejects)
    assert ids(result) == ["1"]
    expected = {"no geometry": 1, "invalid geometry type": 1, "malformed or empty coordinates": 2,
                "coordinates off the planet": 1, "missing id": 1, "duplicate id": 1,
                "not a feature or geometry": 1}
    assert result.dropped == expected and result.read == 9
    assert sum(result.dropped.values()) + result.kept == result.read
    assert rejects.to_json() == {"layer districts": expected}
    assert result.collection[COUNTS_KEY]["dropped"] == expected
    assert result.examples["duplicate id"] == "1" and result.examples["invalid geometry type"] == "Circle"


def test_a_layer_whose_every_feature_is_dropped_names_the_layer_the_property_and_what_was_found() -> None:
    doc = [{**polygon(), "properties": {"code": 360802, "name": "吉州区"}},
           {**polygon(116), "properties": {"code": 360803, "name": "青原区"}}]
    rejects = RejectCounter()
    with pytest.raises(BadQuery) as caught:
        read(doc, id_property="adcode", rejects=rejects)
    message = str(caught.value)
    assert message.startswith("gis: datasources.gis.layers.districts (districts.json): all 2 features "
                              "were dropped (2 missing id)")
    assert "id_property 'adcode' is on no feature" in message
    assert "the properties code, name" in message and "geometry types Polygon" in message
    assert "set id_property:" in message
    assert rejects.to_json() == {"layer districts": {"missing id": 2}}, "counted even when refused"


def test_projected_coordinates_are_refused_with_the_fix() -> None:
    with pytest.raises(BadQuery, match=r"all 1 features were dropped \(1 coordinates off the planet\).*"
                                       r"not degrees \(e.g. \[12958175.0, 4825923.0\]\).*set crs:"):
        read([feature(polygon(12958175, 4825923), "a")])


def test_an_empty_collection_is_an_empty_layer_not_an_error() -> None:
    result = read({"type": "FeatureCollection", "features": []})
    assert result.kept == 0 and result.read == 0


@pytest.mark.parametrize("doc, found", [({"type": "Topology", "objects": {}}, "an object of type 'Topology'"),
                                        ({"rows": []}, "an object with the keys rows"), ("text", "a str"),
                                        ({"type": "FeatureCollection", "features": {}}, "an empty object")])
def test_a_document_that_is_not_geojson_says_what_it_is(doc: Any, found: str) -> None:
    with pytest.raises(BadQuery, match=f"datasources.gis.layers.districts \\(districts.json\\): expected .*{found}"):
        read(doc)


def test_the_wrapper_other_adapters_import_keeps_working() -> None:
    doc = {"type": "FeatureCollection", "features": [feature(polygon()), feature(polygon(), 5)]}
    out = feature_collection(doc, "roads", "api", "http://gis.local/roads")
    assert [f["id"] for f in out["features"]] == ["roads-0", "5"]
    with pytest.raises(BadQuery, match=r"datasources.api.layers.roads \(http://gis.local/roads\)"):
        feature_collection([feature(None)], "roads", "api", "http://gis.local/roads")


def test_the_reader_keeps_gcj02_coordinates_untouched() -> None:
    doc = [{**polygon(114.98765, 27.12345), "properties": {"adcode": 360802}}]
    result = read(doc, id_property="adcode")
    assert result.collection["features"][0]["geometry"]["coordinates"] == square(114.98765, 27.12345)


def test_a_gcj02_file_layer_is_shown_converted_by_the_data_service(tmp_path: Path) -> None:
    from citybrain.config import DEFAULT_CONFIG, load_config
    from service.data import DataService

    drawn = square(114.98765, 27.12345)
    (tmp_path / "districts.json").write_text(json.dumps(
        [{"type": "Polygon", "coordinates": drawn, "properties": {"adcode": 360802}}]), encoding="utf-8")
    doc = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    doc["datasources"]["gis"] = {"type": "file", "root": str(tmp_path), "crs": "gcj02",
                                 "layers": {"districts": {"file": "districts.json", "id_property": "adcode"}}}
    doc["roles"] = {"layers": "gis"}
    path = tmp_path / "gis.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    layer = DataService(load_config(path, env={})).layer("districts").data
    shown = layer["features"][0]
    assert shown["id"] == "360802"
    wgs = [list(gcj02_to_wgs84(lon, lat)) for lon, lat in drawn[0]]
    for got, want in zip(shown["geometry"]["coordinates"][0], wgs, strict=True):
        assert got == pytest.approx(want, abs=1e-6)
    assert abs(shown["geometry"]["coordinates"][0][0][0] - drawn[0][0][0]) > 1e-4, "really moved"


def test_union_outline_of_two_adjacent_squares_is_one_polygon_of_their_total_area() -> None:
    from shapely.geometry import shape

    a = feature({"type": "Polygon", "coordinates": square(115.0, 27.0, 0.2)}, "d1")
    b = feature({"type": "Polygon", "coordinates": square(115.2, 27.0, 0.2)}, "d2")
    out = union_outline({"type": "FeatureCollection", "features": [a, b]},
                        feature_id="360800", name_zh="吉安市", name_en="Ji'an")
    [city] = out["features"]
    assert out["type"] == "FeatureCollection" and city["id"] == "360800"
    assert city["properties"] == {"id": "360800", "name_zh": "吉安市", "name_en": "Ji'an", "level": "city",
                                  "parent_id": None}
    assert city["geometry"]["type"] == "Polygon"
    assert shape(city["geometry"]).area == pytest.approx(0.2 * 0.2 + 0.2 * 0.2)
    assert bounds(city["geometry"]) == pytest.approx((115.0, 27.0, 115.4, 27.2))
    json.dumps(out)   # plain JSON: lists, not tuples or shapely objects


def test_union_outline_keeps_a_multipolygon_when_districts_do_not_touch() -> None:
    from shapely.geometry import shape

    island = {"type": "MultiPolygon", "coordinates": [square(116.0, 27.0, 0.1), square(116.5, 27.0, 0.1)]}
    out = union_outline([feature(polygon(115.0, 27.0), "d1"), feature(island, "d2")],  # type: ignore[arg-type]
                        feature_id="c", name_zh="市", name_en="City")
    geometry = out["features"][0]["geometry"]
    assert geometry["type"] == "MultiPolygon" and len(geometry["coordinates"]) == 3
    assert shape(geometry).area == pytest.approx(3 * 0.1 * 0.1)
    with pytest.raises(ValueError, match="no district Polygon"):
        union_outline({"type": "FeatureCollection", "features": []}, feature_id="c", name_zh="市", name_en="C")


def test_bounds_of_a_multipolygon_cover_every_part() -> None:
    multi = {"type": "MultiPolygon", "coordinates": [square(115.0, 27.0, 0.1), square(115.5, 27.3, 0.2)]}
    assert bounds(multi) == pytest.approx((115.0, 27.0, 115.7, 27.5))
    assert bounds(polygon(115.0, 27.0)) == pytest.approx((115.0, 27.0, 115.1, 27.1))
    collection = {"type": "FeatureCollection", "features": [
        feature(multi, "a"), feature({"type": "Point", "coordinates": [114.0, 28.0]}, "b"), feature(None, "c")]}
    assert bounds(collection) == pytest.approx((114.0, 27.0, 115.7, 28.0))
    assert bounds({"type": "GeometryCollection", "geometries": [multi]}) == bounds(multi)
    assert bounds({"type": "FeatureCollection", "features": []}) is None
