"""Road congestion from a platform's own segment table, on any SQL store.

``map.segments`` (see :class:`citybrain.config.Segments`) names a geometry table (id, line,
road class, area) and a speeds table (id, time, speed or GB/T 33171 level). The data service
composes a :class:`SegmentSource` on that SQL datasource and serves it, behind the cache, as
the map layer ``roads`` and its live attributes, in the simulator's columns: ``id``,
``speed_kmh``, ``level`` (1–5, from :func:`citybrain.standards.tpi.segment_level` with the
mapped road class, or the store's own level), ``flow_vph`` and ``ts``.

A segment's speed is its newest within one cadence of the table's newest time (not after
now); a segment with none, or whose road-class word is not mapped, has no level (never 0).
Unknown words and bad rows are counted in the source's reject counter, named.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import quoted_name

from citybrain.standards import tpi
from datasources.base import DataSource, Frame, Health, utcnow
from datasources.cache import CachedSource
from datasources.errors import BadQuery
from datasources.tabular import json_property, json_value, to_utc
from datasources.validation import RejectCounter

if TYPE_CHECKING:
    from citybrain.config import Config, Segments

STATE_COLUMNS = ["id", "speed_kmh", "level", "flow_vph", "ts"]
WHAT = "road segments"
LINES = ("LineString", "MultiLineString")


def cached(config: Config, sources: Mapping[str, CachedSource], backend: Any,
           rejects: Mapping[str, RejectCounter]) -> CachedSource | None:
    """The segments' reader behind the cache, or None when the config has no ``map.segments``."""
    spec = config.map.segments
    if spec is None:
        return None
    store = sources[spec.source].source
    if not (hasattr(store, "fetch") and hasattr(store, "bind")):
        raise BadQuery(spec.source, "map.segments.source: expected a SQL datasource, found a "
                                    f"{getattr(store, 'type', '?')} one")
    reader = SegmentSource(spec, store, rejects[spec.source])
    return CachedSource(cast(DataSource, reader), backend, prefix=f"{config.cache.key_prefix}segments:",
                        timeout=config.cache.read_timeout_seconds,
                        default_ttl=max(5, min(60, spec.cadence_seconds // 10)))


def _table(name: str, columns: Mapping[str, str]) -> sa.TableClause:
    schema, _, table = name.rpartition(".")
    cols = [sa.column(quoted_name(c, quote=True)) for c in dict.fromkeys(columns.values())]
    return sa.table(quoted_name(table, quote=True), *cols,
                    schema=quoted_name(schema, quote=True) if schema else None)


def class_words(spec: Segments) -> dict[str, str]:
    """Road-class words -> our class: ours as they are, then the config's mapping."""
    words = {c: c for c in tpi.ROAD_CLASSES} | dict(tpi.ROAD_CLASS_ALIASES)
    words |= {str(k): tpi.ROAD_CLASS_ALIASES.get(v, v) for k, v in spec.road_classes.items()}
    return words


class SegmentSource:
    """The map layer of a segment table and its live attributes, read through a SQL source's
    public ``fetch`` / ``bind`` (the data service composes it; adapters never import each other)."""

    type = "segments"

    def __init__(self, spec: Segments, store: Any, rejects: RejectCounter) -> None:
        self.spec, self.store, self.rejects = spec, store, rejects
        self.name = spec.source
        self.words = class_words(spec)
        self._lower = {k.lower(): v for k, v in self.words.items()}

    # --- what the cache calls ------------------------------------------------------------------
    def layer(self, name: str) -> Frame[dict[str, Any]]:
        """The segments as a FeatureCollection of lines with stable ids and their properties."""
        self._is_ours(name)
        rows = self._select(self.spec.geometry.table, self.spec.geometry.columns, "geometry")
        features, bad = [], 0
        for record in rows.to_dict("records"):
            geometry = json_value(record.pop("geometry"))
            if not (isinstance(geometry, dict) and geometry.get("type") in LINES and record.get("id") is not None):
                bad += 1
                continue
            fid = str(record["id"])
            props = {k: json_property(v) for k, v in record.items()}
            props["area_id"] = None if props.get("area_id") is None else str(props["area_id"])
            props.setdefault("name_zh", fid)
            props.setdefault("name_en", props["name_zh"])
            if "road_class" in record:
                props["road_class_word"] = props["road_class"]
                props["road_class"] = self._class_of(props["road_class"]) or props["road_class"]
            features.append({"type": "Feature", "id": fid, "geometry": geometry, "properties": {**props, "id": fid}})
        self.rejects.add(self.name, WHAT, f"map.segments.geometry: no id or not a GeoJSON line "
                                          f"in {self.spec.geometry.table}", bad)
        counts = {"read": len(rows), "dropped": {"not a line": bad} if bad else {}}
        return Frame({"type": "FeatureCollection", "features": features, "counts": counts},
                     as_of=utcnow(), source=self.name)

    def feature_states(self, name: str) -> Frame[pd.DataFrame]:
        """Per segment of the geometry table: its newest speed within one cadence and level."""
        self._is_ours(name)
        geo_cols = {k: v for k, v in self.spec.geometry.columns.items() if k in ("id", "road_class")}
        segs = self._select(self.spec.geometry.table, geo_cols, "geometry")
        segs = segs.dropna(subset=["id"]).assign(id=lambda d: d["id"].astype(str)).drop_duplicates("id")
        speeds, newest = self._current()
        known = speeds["id"].isin(set(segs["id"]))
        self.rejects.add(self.name, WHAT, f"map.segments.speeds: segment id not in {self.spec.geometry.table}",
                         int((~known).sum()), example=None if known.all() else speeds.loc[~known, "id"].iloc[0])
        data = segs.merge(speeds[known], on="id", how="left")
        data["level"] = self._levels(data)
        out = data.reindex(columns=STATE_COLUMNS)
        out["speed_kmh"] = out["speed_kmh"].astype(float)
        out["flow_vph"] = out["flow_vph"].astype(float)
        return Frame(out.sort_values("id").reset_index(drop=True), as_of=newest or utcnow(), source=self.name)

    def health(self) -> Health:
        return cast(Health, self.store.health())

    # --- internals --------------------------------------------------------------------------
    def _is_ours(self, name: str) -> None:
        if name != self.spec.layer:
            raise BadQuery(self.name, f"map.segments serves the layer {self.spec.layer!r}, not {name!r}")

    def _select(self, table: str, columns: Mapping[str, str], key: str,
                t: sa.TableClause | None = None, *where: Any) -> pd.DataFrame:
        t = _table(table, columns) if t is None else t
        statement = sa.select(*[t.c[theirs].label(ours) for ours, theirs in columns.items()]).where(*where)
        return self.store.fetch(statement, f"map.segments.{key} ({table})")

    def _current(self) -> tuple[pd.DataFrame, Any]:
        """Each segment's newest row within one cadence of the table's newest time; that time."""
        spec = self.spec.speeds
        ts = spec.columns["ts"]
        t = _table(spec.table, spec.columns)
        where = f"map.segments.speeds ({spec.table})"
        top = self.store.fetch(sa.select(sa.func.max(t.c[ts]).label("ts"))
                               .where(t.c[ts] <= self.store.bind("now", utcnow())), where)
        stamp = to_utc(top["ts"], self.store.timezone).iloc[0] if len(top) else None
        empty = pd.DataFrame(columns=["id", "ts", "speed_kmh", "level_given", "flow_vph"])
        if stamp is None or pd.isna(stamp):
            return empty, None
        newest = pd.Timestamp(stamp).to_pydatetime()
        since = newest - timedelta(seconds=self.spec.cadence_seconds)
        rows = self._select(spec.table, spec.columns, "speeds", t, t.c[ts] > self.store.bind("since", since),
                            t.c[ts] <= self.store.bind("until", newest))
        rows = rows.assign(ts=to_utc(rows["ts"], self.store.timezone), id=rows["id"].astype(str))
        rows = rows.sort_values("ts", kind="stable").drop_duplicates("id", keep="last")
        rows = rows.rename(columns={"speed": "speed_kmh", "level": "level_given", "flow": "flow_vph"})
        for column, low, high in (("speed_kmh", 0.0, np.inf), ("level_given", 1, 5), ("flow_vph", 0.0, np.inf)):
            if column in rows.columns:
                rows[column] = self._number(rows, column, low, high)
        return rows.reindex(columns=empty.columns), newest

    def _number(self, rows: pd.DataFrame, column: str, low: float, high: float) -> pd.Series:
        values = pd.to_numeric(rows[column], errors="coerce").astype(float)
        ok = values.between(low, high) & (values == values.round() if column == "level_given" else True)
        bad = rows[column].notna() & ~ok
        self.rejects.add(self.name, WHAT, f"map.segments.speeds: {column.removesuffix('_given')} outside "
                                          f"{low:g}..{high:g} or not a number (kept as missing)",
                         int(bad.sum()), example=None if not bad.any() else rows.loc[bad, column].iloc[0])
        return values.where(ok)

    def _class_of(self, word: Any) -> str | None:
        if word is None or (isinstance(word, float) and np.isnan(word)):
            return None
        text = str(word).strip()
        return self.words.get(text) or self._lower.get(text.lower())

    def _levels(self, data: pd.DataFrame) -> pd.Series:
        """The store's level where it gives one, else GB/T 33171 from speed and road class."""
        if "level" in self.spec.speeds.columns:
            return data["level_given"].astype(float)
        classes = data["road_class"].map(self._class_of)
        unknown = data.loc[classes.isna(), "road_class"]
        for word, n in unknown.fillna("NULL").astype(str).value_counts().items():
            self.rejects.add(self.name, WHAT, f"map.segments.road_classes: the road-class word {word!r} "
                                              f"is not mapped (add it, e.g. {word!r}: secondary, or fix "
                                              f"{self.spec.geometry.table}): no level", int(n), example=word)
        speed = data["speed_kmh"].astype(float)
        ok = classes.notna() & speed.notna()
        level = pd.Series(np.nan, index=data.index)
        if ok.any():
            level[ok] = tpi.segment_level(speed[ok].to_numpy(), classes[ok].to_numpy(str))
        return level
