"""The wall registry in a shared store: seen by every registry on it, capped and expired on
write there too, and kept in the process when the store fails."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from service.wall_store import RedisWalls, SqlWalls, WallStore
from service.walls import WallRegistry, registry_for
from tests.adapters.redis_server import OwnRedis
from tests.conftest import require_services

REDIS = "redis://127.0.0.1:6379/0"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BEAT = {"wall_id": "w", "page": "/wall", "layout": "4k", "last_render_ms_ago": 5, "js_heap_bytes": None}


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["redis", "sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[WallStore, WallStore]]:
    """Two handles on one shared store, as two workers would have."""
    if request.param == "redis":
        require_services(redis_url=REDIS)
        key = f"cbtest:walls:{uuid.uuid4().hex[:8]}"
        clients = [redis.Redis.from_url(REDIS) for _ in range(2)]
        yield RedisWalls(clients[0], key), RedisWalls(clients[1], key)
        clients[0].delete(key, f"{key}:seen")
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'access.db'}"
        pair = SqlWalls(url), SqlWalls(url)
        yield pair
    else:
        require_services(sql=(POSTGRES,))
        schema = f"cbtest_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(POSTGRES)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        pair = SqlWalls(url), SqlWalls(url)
        yield pair
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    for store in pair:
        store.close()


def test_two_registries_on_one_store_see_each_others_walls(stores: tuple[WallStore, WallStore]) -> None:
    clock = Clock()
    first, second = (WallRegistry(store, cap=10, ttl=60, clock=clock) for store in stores)
    first.beat({**BEAT, "wall_id": "lobby"})
    clock.now += 1
    second.beat({**BEAT, "wall_id": "control-room", "js_heap_bytes": 1e6})
    for registry in (first, second):
        walls, total = registry.recent()
        assert total == 2 and [w["wall_id"] for w in walls] == ["control-room", "lobby"]
        assert walls[0]["js_heap_bytes"] == 1e6 and walls[1]["age_s"] == 1.0
        assert registry.summary()["store"] == stores[0].kind and not registry.degraded


def test_the_store_is_capped_and_expired_on_write(stores: tuple[WallStore, WallStore]) -> None:
    clock = Clock()
    registry = WallRegistry(stores[0], cap=5, ttl=60, clock=clock)
    for n in range(12):
        registry.beat({**BEAT, "wall_id": f"w{n}"})
        clock.now += 1
    assert stored(stores[1]) == {f"w{n}" for n in range(7, 12)}     # the 5 newest
    clock.now += 58                                                   # w7..w9 older than 60 s now
    registry.beat({**BEAT, "wall_id": "late"})
    assert stored(stores[1]) == {"w10", "w11", "late"}


def stored(store: WallStore) -> set[str]:
    """Every wall id the store holds, expired or not (read below the registry)."""
    if isinstance(store, RedisWalls):
        return {k.decode() for k in store.client.hkeys(store.key)}
    assert isinstance(store, SqlWalls)
    with store.engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT wall_id FROM cb_walls")).scalars())


def test_a_failing_store_degrades_to_the_process_and_recovers(tmp_path: Path) -> None:
    own = OwnRedis(tmp_path).start()
    try:
        client = redis.Redis.from_url(own.url, socket_timeout=1, socket_connect_timeout=1)
        registry = registry_for(client)
        registry.breaker.cooldown = 0.2
        registry.beat({**BEAT, "wall_id": "before"})
        own.stop()
        registry.beat({**BEAT, "wall_id": "during"})            # not lost: kept in the process
        summary = registry.summary()
        assert summary["degraded"] and summary["store"] == "process"
        assert {w["wall_id"] for w in summary["recent"]} == {"before", "during"}
        own.start()
        registry.breaker._open_until = 0.0                      # past the cooldown
        registry.beat({**BEAT, "wall_id": "after"})
        summary = registry.summary()
        assert not summary["degraded"] and summary["store"] == "redis"
        assert [w["wall_id"] for w in summary["recent"]] == ["after"]   # the new Redis is empty
    finally:
        own.stop()


def test_without_redis_the_registry_is_in_the_sql_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'access.db'}"
    registry = registry_for(None, sql_url=url)
    registry.beat(BEAT)
    other = registry_for(None, sql_url=url)
    assert other.summary()["store"] == "sql" and other.recent()[1] == 1
    assert registry_for(None).summary()["store"] == "process"
