"""The Redis adapter against a real redis-server, for each key layout platforms use:
values as numbers or JSON, times from the value, a hash field or another key (zoned or
local), the area id in the key name, and bindings whose keys do not exist."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import redis

from citybrain.catalogue import Indicator
from datasources.base import LATEST_COLUMNS
from datasources.redis_source import RedisSource
from datasources.redis_values import parse_time
from tests.adapters.redis_server import OwnRedis

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOCAL = "2026-12-03 08:00:00"                              # as a platform in Shanghai writes it
AT = pd.Timestamp("2026-12-03T00:00:00", tz=UTC)           # ... which is midnight UTC
EPOCH = int(AT.timestamp())


def indicator(id: str = "pm25", **binding: Any) -> Indicator:
    return Indicator.model_validate({
        "id": id, "name_zh": id, "name_en": id, "domain": "environment", "better": "lower",
        "refresh_seconds": 1, "binding": {"source": "platform", **binding}})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    own = OwnRedis(tmp_path_factory.mktemp("redis")).start()
    yield own
    own.stop()


@pytest.fixture
def client(server: OwnRedis) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(server.url)
    c.flushdb()
    yield c
    c.flushdb()


@pytest.fixture
def source(server: OwnRedis) -> RedisSource:
    return RedisSource("platform", url=server.url, socket_timeout=0.5)


def values(source: RedisSource, ind: Indicator, level: str = "district") -> dict[str, float]:
    return source.latest([ind], level).data.set_index("area_id").value.to_dict()


def times(source: RedisSource, ind: Indicator, level: str = "district") -> set[pd.Timestamp]:
    return set(source.latest([ind], level).data.ts)


# --- values ---------------------------------------------------------------------------------
def test_hash_values_as_plain_numbers_json_numbers_and_json_strings(
        source: RedisSource, client: redis.Redis) -> None:
    client.hset("cityos:idx:pm25:district", mapping={
        "D01": "35", "D02": json.dumps(41.5), "D03": json.dumps("52.25"), "updated_at": EPOCH})
    ind = indicator(key="cityos:idx:{indicator}:{level}", ts_hash_field="updated_at")
    frame = source.latest([ind], "district")
    assert list(frame.data.columns) == LATEST_COLUMNS
    assert values(source, ind) == {"D01": 35.0, "D02": 41.5, "D03": 52.25}
    assert times(source, ind) == {AT}
    assert frame.as_of == AT and frame.data.attrs["stamped_at_read"] == []


def test_hash_objects_with_value_and_local_time_fields(source: RedisSource,
                                                       client: redis.Redis) -> None:
    client.hset("cityos:idx:pm25:district", mapping={
        "D01": json.dumps({"v": 35, "t": LOCAL}),
        "D02": json.dumps({"v": "40", "t": "2026-12-03T08:00:00+08:00"}),
        "D03": json.dumps({"v": 45, "t": EPOCH * 1000})})
    ind = indicator(key="cityos:idx:{indicator}:{level}", value_field="v", ts_field="t")
    assert values(source, ind) == {"D01": 35.0, "D02": 40.0, "D03": 45.0}
    assert times(source, ind) == {AT}


def test_naive_times_follow_the_datasource_timezone(server: OwnRedis,
                                                    client: redis.Redis) -> None:
    client.hset("cityos:idx:pm25:district", mapping={"D01": json.dumps({"v": 35, "t": LOCAL})})
    ind = indicator(key="cityos:idx:{indicator}:{level}", value_field="v", ts_field="t")
    utc = RedisSource("platform", url=server.url, timezone="UTC")
    assert times(utc, ind) == {pd.Timestamp(LOCAL, tz=UTC)}
    assert RedisSource.check_options({"url": server.url}) == []
    assert any(p.startswith("timezone:") and "'Mars/Olympus'" in p
               for p in RedisSource.check_options({"url": server.url, "timezone": "Mars/Olympus"}))


def test_a_bad_time_is_counted_and_the_other_rows_still_show(source: RedisSource,
                                                             client: redis.Redis) -> None:
    client.hset("cityos:idx:pm25:district", mapping={
        "D01": json.dumps({"v": 35, "t": LOCAL}), "D02": json.dumps({"v": 36, "t": "soon"})})
    ind = indicator(key="cityos:idx:{indicator}:{level}", value_field="v", ts_field="t")
    assert values(source, ind) == {"D01": 35.0}
    assert source.health().details["rejects"]["latest pm25"]["ts is not a time"] == 1


def test_fields_that_are_not_area_ids_are_returned_for_the_service_to_count(
        source: RedisSource, client: redis.Redis) -> None:
    client.hset("cityos:idx:pm25:district", mapping={"D01": "35", "D99": "40", "total": "75"})
    ind = indicator(key="cityos:idx:{indicator}:{level}")
    assert values(source, ind) == {"D01": 35.0, "D99": 40.0, "total": 75.0}


# --- times from another key, or the time of reading ------------------------------------------
@pytest.mark.parametrize("stamp", [LOCAL, "2026-12-03T00:00:00Z", str(EPOCH), str(EPOCH * 1000)],
                         ids=["iso-local", "iso-utc", "epoch-s", "epoch-ms"])
def test_time_from_another_key(source: RedisSource, client: redis.Redis, stamp: str) -> None:
    client.set("cityos:pm25:D01", "35")
    client.set("cityos:pm25:D02", "37")
    client.set("cityos:pm25:updated_at", stamp)   # matches the area pattern too: not an area
    ind = indicator(key="cityos:{indicator}:{area_id}", type="string",
                    ts_key="cityos:{indicator}:updated_at")
    assert values(source, ind) == {"D01": 35.0, "D02": 37.0}
    assert times(source, ind) == {AT}
    assert "problems" not in source.health().details


def test_a_missing_ts_key_is_a_problem_and_values_carry_the_reading_time(
        source: RedisSource, client: redis.Redis) -> None:
    client.set("cityos:pm25:D01", "35")
    ind = indicator(key="cityos:{indicator}:{area_id}", type="string",
                    ts_key="cityos:{indicator}:updated_at")
    before = datetime.now(UTC)
    frame = source.latest([ind], "district")
    assert frame.data.ts.iloc[0] >= pd.Timestamp(before)
    assert frame.data.attrs["stamped_at_read"] == ["pm25"]
    details = source.health().details
    assert details["stamped_at_read"] == ["pm25"]
    assert any("indicator pm25" in p and "'cityos:pm25:updated_at' does not exist" in p
               and "binding.ts_key" in p for p in details["problems"])


def test_values_without_any_time_say_they_carry_the_reading_time(source: RedisSource,
                                                                 client: redis.Redis) -> None:
    client.hset("cityos:idx:pm25:district", mapping={"D01": "35"})
    ind = indicator(key="cityos:idx:{indicator}:{level}")
    assert source.latest([ind], "district").data.attrs["stamped_at_read"] == ["pm25"]
    assert source.health().details["stamped_at_read"] == ["pm25"]
    assert any("time of reading" in p for p in source.check_binding_live(ind, "district"))
    client.hset("cityos:idx:pm25:district", mapping={"D01": json.dumps({"value": 35, "ts": LOCAL})})
    source.latest([ind], "district")
    assert "stamped_at_read" not in source.health().details


# --- the area id in the key name ------------------------------------------------------------
def test_string_per_area_found_by_scan(source: RedisSource, client: redis.Redis) -> None:
    client.set("cityos:pm25:D01", json.dumps({"value": 35, "ts": LOCAL}))
    client.set("cityos:pm25:D02", json.dumps({"value": 37, "ts": LOCAL}))
    client.set("cityos:no2:D01", "12")
    client.hset("cityos:pm25:D03", mapping={"x": "1"})   # not a string: counted, not read
    ind = indicator(key="cityos:{indicator}:{area_id}", type="string")
    assert values(source, ind) == {"D01": 35.0, "D02": 37.0}
    assert times(source, ind) == {AT}
    assert source.health().details["rejects"]["latest pm25"]["key is not a string"] >= 1


def test_hash_per_area_with_a_field_per_indicator(source: RedisSource,
                                                  client: redis.Redis) -> None:
    client.hset("cityos:area:D01", mapping={"pm25": "35", "no2": "12", "updated_at": LOCAL})
    client.hset("cityos:area:D02", mapping={"pm25": json.dumps({"value": 37}),
                                            "updated_at": str(EPOCH)})
    client.hset("cityos:area:D03", mapping={"no2": "9", "updated_at": LOCAL})   # no pm25: skipped
    client.set("cityos:area:D04", "35")                                        # not a hash
    ind = indicator(key="cityos:area:{area_id}", type="hash", field="pm25",
                    ts_hash_field="updated_at")
    assert values(source, ind) == {"D01": 35.0, "D02": 37.0}
    assert times(source, ind) == {AT}
    assert source.health().details["rejects"]["latest pm25"]["key is not a hash"] >= 1
    assert source.check_binding_live(ind, "district") == [
        "datasource platform, indicator pm25 (binding.key 'cityos:area:{area_id}', level "
        "district): 1 value(s) refused: key is not a hash"]
    client.delete("cityos:area:D04")
    assert source.check_binding_live(ind, "district") == []


def test_hash_per_area_without_the_field_names_the_fields_it_has(source: RedisSource,
                                                                 client: redis.Redis) -> None:
    client.hset("cityos:area:D01", mapping={"PM2_5": "35", "updated_at": LOCAL})
    ind = indicator(key="cityos:area:{area_id}", type="hash", field="pm25")
    assert source.latest([ind], "district").data.empty
    problems = source.check_binding_live(ind, "district")
    assert len(problems) == 1
    assert "datasource platform, indicator pm25" in problems[0]
    assert "field 'pm25'" in problems[0] and "'PM2_5'" in problems[0]
    assert "binding.field" in problems[0]


def test_area_in_key_bindings_are_checked(source: RedisSource) -> None:
    no_field = RedisSource.check_binding(indicator(key="cityos:area:{area_id}", type="hash"))
    assert any(p.startswith("binding.field:") and "pm25" in p for p in no_field)
    stray = RedisSource.check_binding(indicator(key="cityos:idx:{indicator}", field="pm25"))
    assert any(p.startswith("binding.field:") for p in stray)
    per_area = RedisSource.check_binding(indicator(key="k:{area_id}", type="string",
                                                   ts_key="t:{area_id}"))
    assert any(p.startswith("binding.ts_key:") for p in per_area)
    good = indicator(key="cityos:area:{area_id}", type="hash", field="pm25",
                     ts_hash_field="updated_at", ts_key="cityos:ts")
    assert RedisSource.check_binding(good) == []


# --- keys that do not exist -----------------------------------------------------------------
def test_a_missing_key_is_a_health_problem_with_look_alike_keys(source: RedisSource,
                                                                client: redis.Redis) -> None:
    client.hset("cityos:idx:PM25:district", mapping={"D01": "35"})
    client.hset("cityos:idx:no2:district", mapping={"D01": "12"})
    ind = indicator(key="cityos:idx:{indicator}:{level}")
    frame = source.latest([ind], "district")
    assert frame.data.empty and list(frame.data.columns) == LATEST_COLUMNS
    health = source.health()
    assert health.ok
    [problem] = health.details["problems"]
    assert problem.startswith("indicator pm25 (binding.key 'cityos:idx:{indicator}:{level}')")
    assert "key 'cityos:idx:pm25:district' does not exist" in problem
    assert "SCAN 'cityos:*' found 'cityos:idx:PM25:district'" in problem
    assert "binding.key" in problem.split("found", 1)[1]
    client.hset("cityos:idx:pm25:district", mapping={"D01": "35"})
    assert not source.latest([ind], "district").data.empty
    assert "problems" not in source.health().details


def test_a_missing_area_pattern_and_a_wrong_type_are_problems(source: RedisSource,
                                                              client: redis.Redis) -> None:
    client.set("cityos:idx:pm25:district", "35")
    client.set("cityos:pm2.5:D01", "35")
    as_hash = indicator(key="cityos:idx:{indicator}:{level}")
    per_area = indicator("no2", key="cityos:{indicator}:{area_id}", type="string")
    assert source.latest([as_hash, per_area], "district").data.empty
    problems = source.health().details["problems"]
    assert any("'cityos:idx:pm25:district' holds a string, not a hash" in p
               and "binding.type" in p for p in problems)
    assert any(p.startswith("indicator no2") and "no key matches 'cityos:no2:*'" in p
               for p in problems)


def test_check_binding_live_reads_one_binding_once(source: RedisSource,
                                                   client: redis.Redis) -> None:
    ind = indicator(key="cityos:idx:{indicator}:{level}", value_field="v", ts_field="t",
                    level="district")
    [problem] = source.check_binding_live(ind)
    assert problem.startswith("datasource platform, indicator pm25 (binding.key "
                              "'cityos:idx:{indicator}:{level}', level district)")
    assert "does not exist" in problem
    client.hset("cityos:idx:pm25:district", mapping={"D01": json.dumps({"v": 35, "t": LOCAL}),
                                                     "D02": json.dumps({"v": "n/a", "t": LOCAL})})
    assert source.check_binding_live(ind) == [
        "datasource platform, indicator pm25 (binding.key 'cityos:idx:{indicator}:{level}', "
        "level district): 1 value(s) refused: value is not a number"]
    assert "rejects" not in source.health().details or not source.health().details["rejects"]


def test_a_json_document_key_that_is_missing_is_a_problem_not_an_outage(
        source: RedisSource) -> None:
    ind = indicator(key="cityos:doc:{indicator}", type="json", rows="items")
    assert source.latest([ind], "district").data.empty
    assert any("'cityos:doc:pm25' does not exist" in p for p in source.health().details["problems"])


def test_a_json_document_with_local_times(source: RedisSource, client: redis.Redis) -> None:
    client.set("cityos:doc:pm25", json.dumps({"items": [{"code": "D01", "time": LOCAL, "v": 35}]}))
    ind = indicator(key="cityos:doc:{indicator}", type="json", rows="items",
                    columns={"area_id": "code", "ts": "time", "value": "v"})
    assert values(source, ind) == {"D01": 35.0} and times(source, ind) == {AT}


# --- reading times --------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [LOCAL, "2026-12-03T08:00:00+08:00", "2026-12-03T00:00:00Z",
                                 "20261203080000", EPOCH, float(EPOCH), str(EPOCH * 1000),
                                 EPOCH * 1000, b"2026/12/03 08:00:00"])
def test_parse_time_reads_the_spellings_platforms_use(raw: Any) -> None:
    assert parse_time(raw, SHANGHAI) == AT


@pytest.mark.parametrize("raw", [None, True, "soon", "", -5, {"t": 1}])
def test_parse_time_refuses_what_is_not_a_time(raw: Any) -> None:
    assert parse_time(raw, SHANGHAI) is None
