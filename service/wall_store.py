"""Where the video walls' heartbeats are kept: the cache's Redis, a SQL table, or the process.

Every store keeps at most ``cap`` walls and forgets a wall not heard from for ``ttl``
seconds; both are enforced on every write (not only when someone reads), so the registry
stays bounded however many heartbeats arrive. ``recent`` returns the newest walls first.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, Protocol

import sqlalchemy as sa

Beat = dict[str, Any]


class WallStore(Protocol):
    """A place for the latest heartbeat of each wall."""

    kind: str

    def put(self, beat: Beat, seen_at: float, *, ttl: float, cap: int) -> None:
        """Keep ``beat`` (its ``wall_id`` the key), drop the expired and the oldest over ``cap``."""
        ...

    def recent(self, since: float, limit: int) -> tuple[list[tuple[Beat, float]], int]:
        """Up to ``limit`` beats seen since ``since``, newest first, and how many there are."""
        ...


class LocalWalls:
    """The walls this process heard from (the fallback when no shared store answers)."""

    kind = "process"

    def __init__(self) -> None:
        self._beats: OrderedDict[str, tuple[Beat, float]] = OrderedDict()   # oldest first
        self._lock = threading.Lock()

    def put(self, beat: Beat, seen_at: float, *, ttl: float, cap: int) -> None:
        with self._lock:
            self._beats.pop(beat["wall_id"], None)
            self._beats[beat["wall_id"]] = (beat, seen_at)
            while self._beats and (len(self._beats) > cap
                                   or next(iter(self._beats.values()))[1] < seen_at - ttl):
                self._beats.popitem(last=False)

    def recent(self, since: float, limit: int) -> tuple[list[tuple[Beat, float]], int]:
        with self._lock:
            fresh = [entry for entry in reversed(self._beats.values()) if entry[1] >= since]
        return fresh[:limit], len(fresh)


# KEYS: the beats hash, the seen-at sorted set; ARGV: wall id, beat, seen at, cutoff, cap, ttl
_PUT = """
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[2], ARGV[3], ARGV[1])
local old = redis.call('zrangebyscore', KEYS[2], '-inf', '(' .. ARGV[4])
for _, id in ipairs(old) do redis.call('hdel', KEYS[1], id) end
redis.call('zremrangebyscore', KEYS[2], '-inf', '(' .. ARGV[4])
local over = redis.call('zcard', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local gone = redis.call('zpopmin', KEYS[2], over)
  for i = 1, #gone, 2 do redis.call('hdel', KEYS[1], gone[i]) end
end
redis.call('expire', KEYS[1], ARGV[6])
redis.call('expire', KEYS[2], ARGV[6])
return 1
"""


class RedisWalls:
    """The walls in the cache's Redis, shared by every worker and host (one script per beat)."""

    kind = "redis"

    def __init__(self, client: Any, key: str = "citybrain:walls") -> None:
        self.client = client
        self.key = key
        self.seen_key = f"{key}:seen"
        self._put = client.register_script(_PUT)

    def put(self, beat: Beat, seen_at: float, *, ttl: float, cap: int) -> None:
        self._put(keys=[self.key, self.seen_key],
                  args=[beat["wall_id"], json.dumps(beat), seen_at, seen_at - ttl, cap, int(ttl) + 1])

    def recent(self, since: float, limit: int) -> tuple[list[tuple[Beat, float]], int]:
        pipe = self.client.pipeline(transaction=False)
        pipe.zrevrangebyscore(self.seen_key, "+inf", since, start=0, num=limit, withscores=True)
        pipe.zcount(self.seen_key, since, "+inf")
        ranked, total = pipe.execute()
        if not ranked:
            return [], int(total)
        raw = self.client.hmget(self.key, [wall_id for wall_id, _ in ranked])
        beats = [(json.loads(text), float(seen)) for (_, seen), text in zip(ranked, raw, strict=True)
                 if text is not None]
        return beats, int(total)


_metadata = sa.MetaData()
WALLS = sa.Table(
    "cb_walls", _metadata,
    sa.Column("wall_id", sa.String(64), primary_key=True),
    sa.Column("beat", sa.Text, nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False, index=True),
)


def _timeouts(url: str, seconds: int = 1) -> dict[str, Any]:
    """Connect and statement timeouts of about ``seconds`` for the database at ``url``."""
    parsed = sa.engine.make_url(url)
    name = parsed.get_backend_name()
    if name == "sqlite":
        return {"check_same_thread": False, "timeout": seconds}
    if name == "postgresql":   # the URL's own options (a search_path) are kept
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        return {"connect_timeout": seconds,
                "options": f"{given} -c statement_timeout={seconds * 1000}".strip()}
    if name in ("mysql", "mariadb"):
        return {"connect_timeout": seconds, "read_timeout": seconds, "write_timeout": seconds}
    return {}


class SqlWalls:
    """The walls in a table of the access database (SQLite in the data folder by default,
    one file the workers of a host share; the site's database in production)."""

    kind = "sql"

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, connect_args=_timeouts(url), pool_pre_ping=True)
        self._ready = False   # the table is created on first use (the database may be down now)

    def _ensure(self) -> None:
        if not self._ready:
            _metadata.create_all(self.engine)
            self._ready = True

    def put(self, beat: Beat, seen_at: float, *, ttl: float, cap: int) -> None:
        self._ensure()
        wall_id = beat["wall_id"]
        try:
            with self.engine.begin() as conn:
                conn.execute(WALLS.delete().where(WALLS.c.wall_id == wall_id))
                conn.execute(WALLS.insert().values(wall_id=wall_id, beat=json.dumps(beat),
                                                   seen_at=seen_at))
                conn.execute(WALLS.delete().where(WALLS.c.seen_at < seen_at - ttl))
                count = conn.execute(sa.select(sa.func.count()).select_from(WALLS)).scalar_one()
                if count > cap:
                    oldest = conn.execute(sa.select(WALLS.c.wall_id).order_by(WALLS.c.seen_at)
                                          .limit(count - cap)).scalars().all()
                    conn.execute(WALLS.delete().where(WALLS.c.wall_id.in_(oldest)))
        except sa.exc.IntegrityError:
            pass   # another worker wrote the same wall's beat at the same moment: theirs stands

    def recent(self, since: float, limit: int) -> tuple[list[tuple[Beat, float]], int]:
        self._ensure()
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(WALLS)
                                 .where(WALLS.c.seen_at >= since)).scalar_one()
            rows = conn.execute(sa.select(WALLS.c.beat, WALLS.c.seen_at).where(WALLS.c.seen_at >= since)
                                .order_by(WALLS.c.seen_at.desc()).limit(limit)).all()
        return [(json.loads(beat), float(seen)) for beat, seen in rows], int(total)

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["WALLS", "LocalWalls", "RedisWalls", "SqlWalls", "WallStore"]
