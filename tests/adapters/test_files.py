"""The file adapter: CSV, Parquet and GeoJSON under a root, re-read when they change."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from citybrain.catalogue import Indicator
from datasources.errors import BadQuery, StoreUnavailable
from datasources.files import FileSource

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
LONG_CSV = """indicator,level,code,time,val
tpi,district,0101,2026-11-25T00:00:00Z,1.5
tpi,district,0101,2026-11-25T00:10:00Z,2.5
tpi,district,0102,2026-11-25T00:05:00Z,4
tpi,city,01,2026-11-25T00:10:00Z,3
aqi,district,0101,2026-11-25T00:10:00Z,80
"""
COLUMNS = {"area_id": "code", "ts": "time", "value": "val"}


def ind(id: str = "tpi", **binding: Any) -> Indicator:
    return Indicator(id=id, name_zh=id, name_en=id, domain="traffic", better="lower",
                     binding={"source": "drop", **binding})


def point(lon: float, lat: float, fid: str | None = None, **props: Any) -> dict[str, Any]:
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": props}
    return {**feature, "id": fid} if fid else feature


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "indicators.csv").write_text(LONG_CSV, encoding="utf-8")
    return tmp_path


def source(root: Path, **options: Any) -> FileSource:
    options = {"root": str(root), **options}
    assert FileSource.check_options(options) == []
    return FileSource("drop", **options)


def test_a_long_csv_is_filtered_by_indicator_and_level_and_renamed(root: Path) -> None:
    binding = dict(file="indicators.csv", filter={"indicator": "tpi"}, columns=COLUMNS)
    assert FileSource.check_binding(ind(**binding)) == []
    drop = source(root)
    district = drop.latest([ind(**binding)], "district")
    assert district.data.set_index("area_id").value.to_dict() == {"0101": 2.5, "0102": 4.0}
    assert district.as_of == T0 + timedelta(minutes=10)
    assert drop.latest([ind(**binding)], "city").data.area_id.tolist() == ["01"]
    earlier = drop.latest([ind(**binding)], "district", at=T0 + timedelta(minutes=5))
    assert earlier.data.set_index("area_id").value.to_dict() == {"0101": 1.5, "0102": 4.0}
    aqi = drop.latest([ind("aqi", file="indicators.csv", filter={"indicator": "aqi"}, columns=COLUMNS)],
                      "district")
    assert aqi.data[["indicator", "value"]].values.tolist() == [["aqi", 80.0]]
    assert drop.parses == 1, "one parse serves every indicator of the file"


def test_parquet_series_is_bucketed(root: Path) -> None:
    stamps = [T0 + timedelta(minutes=m) for m in (0, 10, 20, 30, 45)]
    pd.DataFrame({"area_id": ["d1"] * 5, "ts": stamps, "value": [1.0, 2.0, 3.0, 10.0, 20.0],
                  "level": ["district"] * 5}).to_parquet(root / "flow.parquet")
    drop = source(root)
    frame = drop.series([ind(file="flow.parquet")], ["d1"], T0, T0 + timedelta(hours=1),
                        timedelta(minutes=30))
    assert frame.data.set_index("ts").value.to_dict() == {T0: 2.0, T0 + timedelta(minutes=30): 15.0}
    assert drop.latest([ind(file="flow.parquet")], "district").data.value.tolist() == [20.0]


def test_geojson_rows_events_areas_and_layers(root: Path) -> None:
    (root / "sensors.geojson").write_text(collection(
        point(120, 30, area_id="g1", ts="2026-11-25T00:00:00Z", value=35),
        point(121, 30, area_id="g2", ts="2026-11-25T00:00:00Z", value="broken")))
    (root / "events.geojson").write_text(collection(
        point(120.2, 30.3, "e1", kind="fire", status="handling", reported_at="2026-11-25T00:30:00Z"),
        point(120.2, 130.3, "e2", kind="fire", status="reported", reported_at="2026-11-25T00:31:00Z"),
        point(120.2, 30.3, "e3", kind="fire", status="closed", reported_at="2026-11-24T00:00:00Z")))
    (root / "areas.csv").write_text("code,lvl,parent\n01,city,\n0101,district,01\n", encoding="utf-8")
    (root / "roads.geojson").write_text(collection(point(120, 30), point(121, 31, "r2")))
    drop = source(root, events={"file": "events.geojson"}, layers={"roads": "roads.geojson"},
                  areas={"file": "areas.csv", "columns": {"id": "code", "level": "lvl", "parent_id": "parent"}})
    grid = drop.latest([ind(file="sensors.geojson")], "grid").data
    assert grid[["area_id", "value"]].values.tolist() == [["g1", 35.0]]
    (root / "records.json").write_text('[{"area_id": 7, "ts": "2026-11-25T00:00:00Z", "value": 1}, 5]')
    assert drop.latest([ind(file="records.json")], "grid").data.area_id.tolist() == ["7"]
    events = drop.events(T0, T0 + timedelta(hours=1)).data
    assert events.id.tolist() == ["e1"] and (events.lon.iloc[0], events.lat.iloc[0]) == (120.2, 30.3)
    areas = drop.areas().data
    assert areas.id.tolist() == ["01", "0101"] and areas.parent_id.iloc[1] == "01"
    assert [f["id"] for f in drop.layer("roads").data["features"]] == ["roads-0", "r2"]
    with pytest.raises(BadQuery, match="no map layer 'rivers'; this datasource has roads"):
        drop.layer("rivers")
    rejects = drop.health().details["rejects"]
    assert rejects["latest tpi"] == {"value is not a number": 1}
    assert rejects["event"] == {"coordinates missing or off the planet": 1}


def test_a_rewritten_file_is_read_again_and_an_unchanged_one_is_not(root: Path) -> None:
    path = root / "indicators.csv"
    binding = dict(file="indicators.csv", filter={"indicator": "tpi"}, columns=COLUMNS)
    drop = source(root)
    assert drop.latest([ind(**binding)], "city").data.value.tolist() == [3.0]
    drop.latest([ind(**binding)], "city")
    assert drop.parses == 1
    stat = path.stat()
    path.write_text(LONG_CSV.replace("tpi,city,01,2026-11-25T00:10:00Z,3", "tpi,city,01,2026-11-25T00:10:00Z,7"))
    assert path.stat().st_size == stat.st_size, "same size: only the mtime tells the change"
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert drop.latest([ind(**binding)], "city").data.value.tolist() == [7.0]
    assert drop.parses == 2
    drop.latest([ind(**binding)], "city")
    assert drop.parses == 2


def test_a_missing_file_is_a_store_outage_until_it_is_written(root: Path) -> None:
    drop = source(root)
    with pytest.raises(StoreUnavailable, match=r"later\.csv does not exist"):
        drop.latest([ind(file="later.csv")], "city")
    health = drop.health()
    assert not health.ok and "later.csv" in health.error
    (root / "later.csv").write_text("area_id,ts,value\ncity,2026-11-25T00:00:00Z,1\n")
    assert drop.latest([ind(file="later.csv")], "city").data.value.tolist() == [1.0]
    health = drop.health()
    assert health.ok and health.last_data_at is not None and health.details["failing_files"] == {}


def test_an_unparseable_file_names_the_path_and_line(root: Path) -> None:
    (root / "torn.csv").write_text("area_id,ts,value\ncity,2026-11-25T00:00:00Z,1\ncity,x,1,extra,cells\n")
    (root / "torn.geojson").write_text('{"type": "FeatureCollection",\n "features": [,]}')
    drop = source(root)
    with pytest.raises(StoreUnavailable, match=r"cannot parse .*torn\.csv.*line 3"):
        drop.latest([ind(file="torn.csv")], "city")
    with pytest.raises(StoreUnavailable, match=r"cannot parse .*torn\.geojson: JSONDecodeError: .* line 2"):
        drop.latest([ind(file="torn.geojson")], "city")
    with pytest.raises(BadQuery, match="filter column 'kind' is not in indicators.csv"):
        drop.latest([ind(file="indicators.csv", filter={"kind": "x"})], "city")


def test_paths_outside_root_are_refused(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    for file in ("../secret.csv", "a/../../secret.csv", "/etc/passwd.csv"):
        assert FileSource.check_binding(ind(file=file)) == [
            f"binding.file: expected a path inside root, found {file!r}"]
    assert FileSource.check_binding(ind(file="x.xlsx"))[0].startswith("binding.file: expected a .csv")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.csv").write_text("area_id,ts,value\nx,2026-11-25T00:00:00Z,1\n")
    with pytest.raises(BadQuery, match="outside root"):
        source(root).latest([ind(file=f"../{outside.name}/secret.csv")], "city")
    problems = FileSource.check_options({"root": str(root / "nope"), "events": {"file": "../e.csv"},
                                         "layers": {"roads": "../roads.geojson"}, "colour": 1})
    assert f"root: expected an existing directory, found {str(root / 'nope')!r}" in problems
    assert "events.file: expected a path inside root, found '../e.csv'" in problems
    assert "layers.roads: expected a path inside root, found '../roads.geojson'" in problems
    assert any(p.startswith("colour: no such key") for p in problems)


def test_a_layer_of_bare_geometries_takes_its_ids_and_names_from_the_named_properties(root: Path) -> None:
    ring = [[[115, 27], [115.1, 27], [115.1, 27.1], [115, 27]]]
    (root / "districts.json").write_text(json.dumps([
        {"type": "Polygon", "coordinates": ring, "properties": {"adcode": 360802, "name": "吉州区"}},
        {"type": "Polygon", "coordinates": ring, "properties": {"adcode": 360802.0, "name": "重复"}},
        {"type": "Polygon", "coordinates": None, "properties": {"adcode": 360803, "name": "青原区"}}]),
        encoding="utf-8")
    spec = {"file": "districts.json", "id_property": "adcode", "name_property": "name"}
    drop = source(root, layers={"districts": spec, "roads": "districts.json"})
    layer = drop.layer("districts").data
    assert [(f["id"], f["properties"]["name_zh"]) for f in layer["features"]] == [("360802", "吉州区")]
    assert layer["counts"] == {"read": 3, "kept": 1, "id_property": "adcode", "ids_by_position": 0,
                               "dropped": {"duplicate id": 1, "malformed or empty coordinates": 1}}
    drop.layer("districts")
    assert drop.health().details["rejects"]["layer districts"] == {
        "duplicate id": 1, "malformed or empty coordinates": 1}, "an unchanged file is counted once"
    assert drop.health().ok


def test_a_layer_with_every_feature_dropped_fails_health_naming_the_key_path(root: Path) -> None:
    (root / "districts.json").write_text(json.dumps(
        {"type": "MultiPolygon", "coordinates": [[[[115, 27], [115.1, 27], [115, 27.1], [115, 27]]]]}))
    drop = source(root, layers={"districts": {"file": "districts.json", "id_property": "adcode"}})
    for _ in range(2):
        with pytest.raises(BadQuery, match=r"^drop: datasources.drop.layers.districts \(districts.json\): all 1 "
                                           r"features were dropped \(1 missing id\); id_property 'adcode'"):
            drop.layer("districts")
    health = drop.health()
    assert not health.ok and "datasources.drop.layers.districts" in health.error
    assert health.details["rejects"] == {"layer districts": {"missing id": 1}}


def test_layer_options_are_checked(root: Path) -> None:
    problems = FileSource.check_options({"root": str(root), "layers": {
        "a": {"file": "a.geojson", "id_property": 3, "colour": "red"},
        "b": {"id_property": "adcode"}, "c": ["a.geojson"], "d": {"file": "d.json", "name_property": ""}}})
    assert problems == [
        "layers.a.colour: no such key of a file layer (expected one of file, id_property, name_property)",
        "layers.a.id_property: expected the name of a feature property (e.g. adcode), found 3",
        "layers.b.file: expected a .geojson, .json file, found None",
        "layers.c: expected a file name or {file:, id_property:, name_property:}, found ['a.geojson']",
        "layers.d.name_property: expected the name of a feature property (e.g. adcode), found ''"]
