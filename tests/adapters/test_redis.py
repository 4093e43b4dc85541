"""The Redis adapter against a real redis-server, and the shared Redis cache."""

from __future__ import annotations

import json
import pickle
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis

from citybrain.catalogue import Indicator
from datasources.base import LATEST_COLUMNS, Frame
from datasources.cache import CachedSource
from datasources.errors import BadQuery
from datasources.redis_source import RedisSource
from service.data import make_backend
from tests.adapters.redis_server import OwnRedis

NOW = datetime.now(UTC).replace(microsecond=0)


def indicator(id: str = "tpi", **binding: Any) -> Indicator:
    return Indicator.model_validate({
        "id": id, "name_zh": id, "name_en": id, "domain": "traffic", "better": "lower",
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
    return RedisSource("platform", url=server.url, socket_timeout=0.5,
                       events={"stream": "cityos:events"}, areas={"key": "cityos:areas"},
                       layers={"roads": "cityos:geo:roads"})


def test_hash_with_json_values_and_operator_key_names(source: RedisSource,
                                                      client: redis.Redis) -> None:
    client.hset("cityos:idx:tpi:district", mapping={
        "D01": json.dumps({"v": 6.2, "t": NOW.isoformat()}),
        "D02": json.dumps({"v": 3.1, "t": NOW.isoformat()})})
    ind = indicator(key="cityos:idx:{indicator}:{level}", type="hash", value_field="v",
                    ts_field="t")
    frame = source.latest([ind], "district")
    data = frame.data.set_index("area_id")
    assert list(frame.data.columns) == LATEST_COLUMNS
    assert data.loc["D01", "value"] == 6.2 and data.loc["D02", "value"] == 3.1
    assert frame.as_of == NOW


def test_plain_number_strings_found_by_scan(source: RedisSource, client: redis.Redis) -> None:
    client.set("sensor:G001:aqi", "57")
    client.set("sensor:G002:aqi", "81")
    ind = indicator("aqi", key="sensor:{area_id}:aqi", type="string")
    data = source.latest([ind], "grid").data.set_index("area_id").value
    assert data.to_dict() == {"G001": 57.0, "G002": 81.0}


def test_json_document_with_rows_and_renames(source: RedisSource, client: redis.Redis) -> None:
    client.set("cityos:doc:aqi", json.dumps({"data": {"items": [
        {"code": "D01", "time": NOW.isoformat(), "aqi": 64}]}}))
    ind = indicator("aqi", key="cityos:doc:{indicator}", type="json", rows="data.items",
                    columns={"area_id": "code", "ts": "time", "value": "aqi"})
    assert source.latest([ind], "district").data.value.tolist() == [64.0]


def test_malformed_rows_are_counted_and_good_rows_still_show(source: RedisSource,
                                                             client: redis.Redis) -> None:
    client.hset("cityos:idx:tpi:grid", mapping={"G1": "4.5", "G2": "not-a-number", "G3": "nan"})
    frame = source.latest([indicator(key="cityos:idx:{indicator}:{level}")], "grid")
    assert frame.data.area_id.tolist() == ["G1"]
    rejects = source.health().details["rejects"]["latest tpi"]
    assert rejects["value is not a number"] == 1 and rejects["value is missing or NaN"] == 1


def test_events_from_a_stream_reject_bad_rows(source: RedisSource, client: redis.Redis) -> None:
    good = {"id": "e1", "kind": "police_110", "severity": "2", "status": "handling",
            "reported_at": NOW.isoformat(), "lon": "114.98", "lat": "27.11", "area_id": "G1",
            "title_zh": "纠纷", "title_en": "Dispute", "source": "110",
            "camera_ids": json.dumps(["CAM1", "CAM2"])}
    client.xadd("cityos:events", good)
    client.xadd("cityos:events", {**good, "id": "e2", "lat": "200"})
    client.xadd("cityos:events", {**good, "id": "e3", "status": "lost"})
    events = source.events(NOW - timedelta(hours=1), NOW + timedelta(minutes=1)).data
    assert events.id.tolist() == ["e1"]
    assert events.camera_ids.iloc[0] == ["CAM1", "CAM2"]
    rejects = source.health().details["rejects"]["event"]
    assert rejects["coordinates missing or off the planet"] == 1 and rejects["unknown status"] == 1


def test_layers_and_areas_are_read_as_stored(source: RedisSource, client: redis.Redis) -> None:
    roads = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": "R1",
             "geometry": {"type": "LineString", "coordinates": [[114.9, 27.1], [115, 27.1]]},
             "properties": {}}]}
    client.set("cityos:geo:roads", json.dumps(roads))
    client.set("cityos:areas", json.dumps([{"id": "city", "parent_id": None, "level": "city",
                                            "name_zh": "云江市", "name_en": "Yunjiang"}]))
    assert source.layer("roads").data == roads
    assert source.areas().data.id.tolist() == ["city"]
    with pytest.raises(BadQuery, match="no map layer 'parks'"):
        source.layer("parks")


def test_config_checks_name_the_problem() -> None:
    assert any("url" in p for p in RedisSource.check_options({}))
    assert any("url_env" in p for p in RedisSource.check_options({"url_env": "NO_SUCH_VAR_X"}))
    problems = RedisSource.check_binding(indicator(key="k:{level}", type="list"))
    assert any("binding.type" in p and "'list'" in p for p in problems)
    assert any("{area_id}" in p for p in RedisSource.check_binding(indicator(key="k", type="string")))


class SlowCountingStore:
    """A store that takes a while and counts how often it is read."""

    name = "slow"

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def latest(self, indicators: Any, level: str, at: Any = None) -> Frame[pd.DataFrame]:
        with self.lock:
            self.calls += 1
        time.sleep(0.3)
        rows = [(i.id, "city", NOW, 1.0) for i in indicators]
        return Frame(pd.DataFrame(rows, columns=LATEST_COLUMNS), as_of=NOW, source=self.name)


def test_one_refresh_per_key_across_workers_sharing_redis(server: OwnRedis,
                                                          client: redis.Redis) -> None:
    """Eight 'workers' (each its own cache wrapper and Redis connection) read one key at
    once: the store is asked once, everyone gets the value."""
    from citybrain.config import CacheConfig

    store = SlowCountingStore()
    workers = [CachedSource(store, make_backend(CacheConfig(backend="redis", redis_url=server.url)),
                            timeout=3) for _ in range(8)]
    results: list[Frame[Any]] = []
    threads = [threading.Thread(target=lambda w=w: results.append(
        w.latest([indicator()], "city"))) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.calls == 1
    assert len(results) == 8 and all(r.data.value.tolist() == [1.0] for r in results)


def test_shared_cache_never_unpickles_what_it_finds(server: OwnRedis, client: redis.Redis) -> None:
    from citybrain.config import CacheConfig

    class Boom:
        def __reduce__(self) -> Any:
            return (pytest.fail, ("a pickled value was loaded from the shared cache",))

    store = SlowCountingStore()
    cache = CachedSource(store, make_backend(CacheConfig(backend="redis", redis_url=server.url)))
    key = cache.key("latest", {"i": ["tpi"], "level": "city", "at": None})
    client.set(key, b"!" + pickle.dumps(Boom()))
    frame = cache.latest([indicator()], "city")
    assert frame.data.value.tolist() == [1.0] and store.calls == 1
    assert client.get(key).startswith(b"cbf1:")


def test_rows_for_areas_the_hierarchy_does_not_know_are_counted_in_health(
        server: OwnRedis, client: redis.Redis, tmp_path: Path) -> None:
    import yaml

    from citybrain.config import DEFAULT_CONFIG, load_config
    from service.data import DataService

    doc = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    doc["datasources"]["platform"] = {"type": "redis", "url": server.url}
    tpi = next(i for i in doc["indicators"] if i["id"] == "traffic_tpi")
    tpi["binding"] = {"source": "platform", "key": "cityos:idx:{indicator}:{level}",
                      "level": "district"}
    tpi["rollup"] = {"method": "mean"}   # the live value itself, not computed from inputs
    tpi.pop("history", None)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    client.hset("cityos:idx:traffic_tpi:district", mapping={"D01": "5.5", "D99": "7.0"})
    service = DataService(load_config(path, env={}))
    data = service.latest(["traffic_tpi"], "district").data
    assert data.area_id.tolist() == ["D01"]
    health = service.health()["adapters"]["platform"]
    refused = health["details"]["area_rejects"].values()
    assert sum(reasons.get("unknown area id", 0) for reasons in refused) == 1


def test_wall_heartbeats_are_shared_through_redis(server: OwnRedis, client: redis.Redis) -> None:
    from service.wall_store import RedisWalls
    from service.walls import WallRegistry

    one = WallRegistry(RedisWalls(redis.Redis.from_url(server.url)))
    other = WallRegistry(RedisWalls(redis.Redis.from_url(server.url)))
    one.beat({"wall_id": "w1", "page": "/wall", "layout": "4k", "last_render_ms_ago": 10,
              "js_heap_bytes": None})
    assert [w["wall_id"] for w in other.recent()[0]] == ["w1"]
