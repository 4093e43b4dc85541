"""The pages' one door to data: routes each read to the datasource its binding names.

Every adapter is wrapped in a :class:`CachedSource`; a read that spans several
sources returns one merged :class:`Frame` (oldest ``as_of``, stale if any part is).

Every read is cut to the request's scope (:mod:`service.scope`) here, after the shared
cached read and roll-up and never before (their memos and cache keys know no scope):
areas, values, series, events and map features outside the scope's areas are dropped
(:mod:`service.territory`), and personal fields are masked for those without the right
(:mod:`service.masking`). Pages, exports and ``/geo`` get nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from flask_caching.backends import NullCache, RedisCache, SimpleCache

from datasources.base import EVENT_COLUMNS, LATEST_COLUMNS, SERIES_COLUMNS, AreaLevel, DataSource, Frame, utcnow
from datasources.cache import STATIC_TTL, CachedSource, FallbackCache
from datasources.codec import FrameSerializer
from datasources.crs import convert, convert_geojson
from datasources.errors import BadQuery, DataSourceError
from datasources.geojson import union_outline
from datasources.registry import build_sources, source_crs
from datasources.validation import RejectCounter

from . import scope
from .derive import Deriver
from .hierarchy import Hierarchy, normalise
from .masking import Masker, shown_collection, shown_frame
from .outcomes import ReadOutcomes
from .segments import cached as cached_segments
from .territory import LAYER_OF_LEVEL, OUTSIDE, Territory, cut

if TYPE_CHECKING:
    from citybrain.catalogue import Catalogue, Indicator
    from citybrain.config import CacheConfig, Config


def make_redis(cfg: CacheConfig) -> Any:
    """The Redis client of the shared cache the config asks for, or None without one: 1 s
    to connect and to answer, no retries (a hung Redis must not hold a tick; the cache then
    serves from the process, see :class:`FallbackCache`)."""
    if cfg.backend != "redis":
        return None
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(cfg.redis_url or "", socket_timeout=1, socket_connect_timeout=1,
                                retry=Retry(NoBackoff(), 0))


def make_backend(cfg: CacheConfig, client: Any = None) -> Any:
    """The flask-caching backend the config asks for (on ``client`` when given)."""
    if cfg.backend == "redis":
        client = client if client is not None else make_redis(cfg)
        backend = RedisCache(host=client, key_prefix="", default_timeout=300)
        backend.serializer = FrameSerializer()   # JSON, never pickle: the Redis may be shared
        return FallbackCache(backend, client=client)   # the process serves while Redis cannot
    if cfg.backend == "none":
        return NullCache()
    return SimpleCache(threshold=5000, default_timeout=300)


class DataService:
    """Cached reads across all configured datasources."""

    def __init__(self, config: Config, sources: dict[str, DataSource] | None = None,
                 backend: Any = None) -> None:
        self.config = config
        self.catalogue: Catalogue = config.catalogue
        self.backend_name = config.cache.backend
        # the shared Redis the cache was built on (None with a given backend or without Redis):
        # what else the workers share (the video walls' heartbeats) is kept there too
        self.redis: Any = make_redis(config.cache) if backend is None else None
        backend = backend if backend is not None else make_backend(config.cache, self.redis)
        raw = sources if sources is not None else build_sources(config)
        self.sources: dict[str, CachedSource] = {
            name: CachedSource(src, backend, prefix=config.cache.key_prefix,
                               timeout=config.cache.read_timeout_seconds, redis_client=self.redis)
            for name, src in raw.items()
        }
        # rows an adapter passed but the area hierarchy refuses, per source
        self.rejects = {name: RejectCounter() for name in self.sources}
        self._hier_memo: tuple[float, Hierarchy, Frame[pd.DataFrame]] | None = None
        self.display_crs = config.map.crs
        self.crs = source_crs(config)
        simulated = [n for n, ds in config.datasources.items() if ds.type == "simulator"]
        first = simulated[0] if simulated else next(iter(self.sources))
        self._areas_from = self.sources[config.roles.areas or first]
        self._events_from = self.sources[config.roles.events or first]
        self._layers_from = self.sources[config.roles.layers or first]
        # road congestion from a platform's segment table (map.segments), when configured
        self._segments = cached_segments(config, self.sources, backend, self.rejects)
        self._segment_layer = config.map.segments.layer if config.map.segments else None
        self.derive = Deriver(self.catalogue, self.sources, self.full_hierarchy, self._count_unknown)
        self.masker = Masker(config.security.personal_fields)
        self._territories: dict[frozenset[str], Territory] = {}
        self._personal_layers: dict[tuple[Any, ...], bool] = {}   # layer versions holding personal fields
        self._no_areas = normalise(pd.DataFrame(columns=["id", "parent_id", "level"]), root_id=config.city.id,
                                   name_zh=config.city.name_zh, name_en=config.city.name_en, level_names={})
        # each indicator's last live read: failed, gave nothing or ok (for /health)
        self.outcomes = ReadOutcomes([i.id for i in config.indicators], lambda i, lv: self.derive.plan(
            self.catalogue.get(i), lv).read_level is not None)

    def _count_unknown(self, source: str, what: str, n: int, example: str) -> None:
        self.rejects[source].add(source, what, "unknown area id", n, example=example)

    def indicators(self, ids: Sequence[str]) -> list[Indicator]:
        """Catalogue entries for ``ids``; ``KeyError`` names an unknown one."""
        return [self.catalogue.get(i) for i in ids]

    def latest(self, ids: Sequence[str], level: AreaLevel = "city",
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        """Values of the indicators ``ids`` at ``level``, rolled up from their leaf facts; for a
        scope limited to areas, only theirs (nothing at a level above them)."""
        land = self.territory()
        if land is not None and level not in land.levels():
            return _outside(ids, LATEST_COLUMNS)
        try:
            frame = self.derive.latest(ids, level, at)
        except DataSourceError as exc:
            if at is None:
                self.outcomes.note(ids, level, error=exc)
            raise
        if at is None:
            self.outcomes.note(ids, level, frame)
        return frame if land is None else _cut_values(frame, land)

    def series(self, ids: Sequence[str], area_ids: Sequence[str], start: datetime, end: datetime,
               step: timedelta) -> Frame[pd.DataFrame]:
        """Values over ``[start, end)`` at ``step`` for the areas asked, rolled up alike; areas
        outside the scope are dropped before anything is read. A span longer than
        ``security.limits.max_query_days`` is refused (:class:`BadQuery`), so one analyst's
        query cannot hold the stores the walls read from."""
        longest = self.config.security.limits.max_query_days
        if end - start > timedelta(days=longest):
            raise BadQuery("query", f"{start:%Y-%m-%d} to {end:%Y-%m-%d} is longer than {longest} days "
                                    "(security.limits.max_query_days): ask for a shorter span")
        land = self.territory()
        if land is None:
            return self.derive.series(ids, area_ids, start, end, step)
        mine = land.ids(area_ids)
        if not mine:
            return _outside(ids, SERIES_COLUMNS)
        return _cut_values(self.derive.series(ids, mine, start, end, step), land)

    @property
    def root_id(self) -> str:
        """The id of the area pages start at: the whole city's (the store's root row, else
        ``city.id``), or, for a scope limited to one area, that area."""
        hier = self.hierarchy()
        return hier.root_id if hier is not None else self.config.city.id

    def hierarchy(self) -> Hierarchy | None:
        """The area hierarchy the request's scope sees (see :mod:`service.territory`); None
        while its store cannot be read."""
        hier = self.full_hierarchy()
        land = self.territory()
        return land.hierarchy if land is not None and hier is not None else hier

    def territory(self) -> Territory | None:
        """The areas the request's scope may see; None when it may see every area."""
        areas = scope.current().areas
        if areas is None:
            return None
        hier = self.full_hierarchy()
        if hier is None:   # the areas cannot be read: nothing can be placed, nothing is shown
            hier = self._no_areas
        land = self._territories.get(areas)
        if land is None or land.source is not hier:
            if len(self._territories) > 256:
                self._territories.clear()
            land = self._territories[areas] = cut(hier, areas)
        return land

    def full_hierarchy(self) -> Hierarchy | None:
        """The whole area hierarchy in our level words, whatever the scope (roll-ups,
        ``/health``), kept as long as the areas are cached; None while its store cannot be read."""
        now = time.monotonic()
        if self._hier_memo is None or now >= self._hier_memo[0]:
            try:
                frame = self._areas_from.areas()
            except DataSourceError:
                return self._hier_memo[1] if self._hier_memo else None
            city = self.config.city
            hier = normalise(frame.data, root_id=city.id, name_zh=city.name_zh, name_en=city.name_en,
                             level_names=city.level_names)
            self._hier_memo = (now + min(STATIC_TTL, 60), hier, frame)
        return self._hier_memo[1]

    def events(self, since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        """Events with their coordinates in the map's display system: those of the scope's
        areas, personal fields masked unless the scope may see them."""
        frame = self._events_from.events(since, until)
        src = self.crs.get(self._events_from.name, "wgs84")
        data = frame.data
        if src != self.display_crs and not data.empty:
            data = data.copy()
            data["lon"], data["lat"] = convert(data.lon.to_numpy(float), data.lat.to_numpy(float), src,
                                               self.display_crs)
        land = self.territory()
        if land is not None:
            data = land.points(data, self._outline(land))
        data = shown_frame(self.masker, data, "events", scalar=EVENT_COLUMNS)
        return frame if data is frame.data else replace(frame, data=data)

    def areas(self) -> Frame[pd.DataFrame]:
        """The area hierarchy in our level words, with a root row (see :meth:`hierarchy`)."""
        hier = self.hierarchy()
        if hier is None:
            return self._areas_from.areas()   # raises the store's error
        assert self._hier_memo is not None
        return replace(self._hier_memo[2], data=hier.areas.copy())

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        """A map layer with its coordinates in the map's display system; without a ``city``
        layer, ``city`` is the union of the districts (id: the root id). For a scope limited
        to areas, their features only, and ``city`` is the outline of the scope's areas."""
        frame = self._full_layer(name)   # a layer a scope lacks fails for every scope alike
        key = (name, frame.source, frame.fetched_at)   # a cache hit keeps its fetch time
        personal = self._personal_layers.get(key)
        if personal is None:
            if len(self._personal_layers) > 256:
                self._personal_layers.clear()
            personal = self._personal_layers[key] = bool(self.masker.collection(frame.data, mask=False)[1].rows)
        land = self.territory()
        if land is not None:
            hit = land.memo.get(("layer", name))
            if hit is None or hit[0] != key:
                data = self._outline_layer(land) if name == "city" else land.features(frame.data, self._outline(land))
                hit = land.memo[("layer", name)] = (key, replace(frame, data=data))
            frame = hit[1]
        if not personal:
            return frame
        data = shown_collection(self.masker, frame.data, f"layer {name}")
        return frame if data is frame.data else replace(frame, data=data)

    def _full_layer(self, name: str) -> Frame[dict[str, Any]]:
        """Map layer ``name`` whole, in the display system (see :meth:`layer`)."""
        source = self._layer_source(name)
        try:
            frame = source.layer(name)
        except BadQuery:
            if name != "city":
                raise
            districts = self._layers_from.layer("districts")
            city = self.config.city
            frame = replace(districts, data=union_outline(districts.data, feature_id=self.root_id,
                                                          name_zh=city.name_zh, name_en=city.name_en))
        src = self.crs.get(source.name, "wgs84")
        if src == self.display_crs:
            return frame
        return replace(frame, data=convert_geojson(frame.data, src, self.display_crs))

    def feature_states(self, name: str) -> Frame[pd.DataFrame]:
        """Live attributes of map layer ``name``'s features, keyed by feature id (the roads
        from ``map.segments`` when configured, in the simulator's columns); for a scope
        limited to areas, those of the features :meth:`layer` gives it."""
        frame = self._layer_source(name).feature_states(name)
        data = frame.data
        land = self.territory()
        if land is not None and not data.empty:
            try:
                ids = {str(f.get("id", (f.get("properties") or {}).get("id")))
                       for f in self.layer(name).data.get("features") or []}
            except DataSourceError:
                ids = set()   # no geometry to place them by: none is shown
            data = data[data["id"].astype(str).isin(ids)] if "id" in data.columns else data.iloc[0:0]
        data = shown_frame(self.masker, data, f"states {name}")
        return frame if data is frame.data else replace(frame, data=data)

    # --- the scope's outline ------------------------------------------------------------------
    def _outline(self, land: Territory) -> list[dict[str, Any]]:
        """The geometries of the scope's top areas, from their levels' layers (none without)."""
        if "outline" not in land.memo:
            shapes: list[dict[str, Any]] = []
            for level in sorted({land.source.level[t] for t in land.tops}):
                try:
                    layer = self._full_layer(LAYER_OF_LEVEL.get(level, level)).data
                except (DataSourceError, KeyError):
                    continue
                shapes += [f["geometry"] for f in layer.get("features") or []
                           if str(f.get("id")) in land.tops and f.get("geometry")]
            land.memo["outline"] = shapes
        return list(land.memo["outline"])

    def _outline_layer(self, land: Territory) -> dict[str, Any]:
        """The ``city`` layer a limited scope sees: one feature, the outline of its areas."""
        shapes = self._outline(land)
        if not shapes:
            return {"type": "FeatureCollection", "features": []}
        row = land.hierarchy.areas.set_index("id").loc[land.root_id]
        fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": g} for g in shapes]}
        return union_outline(fc, feature_id=land.root_id, name_zh=str(row["name_zh"]), name_en=str(row["name_en"]))

    def _layer_source(self, name: str) -> CachedSource:
        """Who answers map layer ``name``: the segments' reader for theirs, else the layers role."""
        if self._segments is not None and name == self._segment_layer:
            return self._segments
        return self._layers_from

    def health(self) -> dict[str, Any]:
        """Per adapter: status, latency, last data time and error; and the cache backend."""
        adapters = {}
        with ThreadPoolExecutor(len(self.sources)) as pool:   # one slow store does not add up
            checks = dict(zip(self.sources, pool.map(CachedSource.health, self.sources.values()),
                              strict=True))
        for name, src in self.sources.items():
            h = checks[name].to_json()
            stats = src.stats
            if stats.last_error and (stats.last_ok_at is None
                                     or (stats.last_error_at and stats.last_error_at
                                         > stats.last_ok_at)):
                h["status"] = "failing"
                h["error"] = h.get("error") or stats.last_error
            if stats.last_data_at and not h.get("last_data_at"):
                h["last_data_at"] = stats.last_data_at.isoformat()
            refused = self.rejects[name].to_json()
            if refused:
                h.setdefault("details", {})["area_rejects"] = refused
            h["reads"] = {"hits": stats.hits, "misses": stats.misses, "shared": stats.shared,
                          "failures": stats.failures}
            adapters[name] = h
        ok = all(a["status"] == "ok" for a in adapters.values())
        cache = next(iter(self.sources.values())).backend
        degraded = isinstance(cache, FallbackCache) and not cache.check()
        out = {"status": "ok" if ok and not degraded else "degraded", "time": utcnow().isoformat(),
               "cache": {"backend": self.backend_name, "degraded": degraded,
                         **({"error": cache.breaker.last_error} if degraded else {})},
               "adapters": adapters}
        hier = self.hierarchy()
        if hier is not None:
            out["areas"] = {"root": hier.root_id, "rows": len(hier.areas), "left_out": hier.dropped,
                            "levels": {lv: len(hier.by_level.get(lv, [])) for lv in hier.levels_present()},
                            "problems": list(hier.problems)}
            if hier.problems:
                out["status"] = "degraded"
        failed = self.outcomes.problems()   # bindings whose last read failed or gave nothing
        if failed:
            out["bindings"] = {"problems": failed}
            out["status"] = "degraded"
        rejected = self.derive.plausible.rejects.to_json()   # values no indicator can take
        if rejected:
            out["values"] = {"rejected": rejected, "problems": self.derive.plausible.problems()}
        return out

    def _by_source(self, ids: Sequence[str], *, history: bool = False
                   ) -> list[tuple[CachedSource, list[Indicator]]]:
        """Indicators grouped by the source that answers them; for history reads each
        indicator is handed over with its ``history`` binding in place of ``binding``."""
        groups: dict[str, list[Indicator]] = {}
        for ind in self.indicators(ids):
            if history and ind.history is not None:
                ind = ind.model_copy(update={"binding": ind.history})
            groups.setdefault(ind.binding.source, []).append(ind)
        return [(self.sources[name], inds) for name, inds in groups.items()]


def _outside(ids: Sequence[str], columns: list[str]) -> Frame[pd.DataFrame]:
    """Nothing, for a level or areas outside the scope: each indicator says why."""
    return Frame(pd.DataFrame(columns=columns), as_of=utcnow(), source="none",
                 missing={str(i): OUTSIDE for i in ids})


def _cut_values(frame: Frame[pd.DataFrame], land: Territory) -> Frame[pd.DataFrame]:
    """A latest or series frame without the rows of areas outside ``land``."""
    data = land.rows(frame.data)
    if len(data) == len(frame.data):
        return frame
    return replace(frame, data=data.reset_index(drop=True))


def merge(parts: list[Frame[pd.DataFrame]], columns: list[str]) -> Frame[pd.DataFrame]:
    """One frame of several: rows concatenated, oldest as_of, stale when any part is."""
    if not parts:
        return Frame(pd.DataFrame(columns=columns), as_of=utcnow(), source="none")
    if len(parts) == 1:
        return parts[0]
    frames = [p.data for p in parts if not p.data.empty]
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    errors = [p.error for p in parts if p.error]
    return Frame(data, as_of=min(p.as_of for p in parts),
                 source="+".join(p.source for p in parts),
                 fetched_at=min(p.fetched_at for p in parts),
                 stale=any(p.stale for p in parts), error="; ".join(errors) or None)
