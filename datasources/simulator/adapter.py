"""The simulator as a full datasource adapter: a seeded synthetic Chinese prefecture city.

It serves in-process as the embedded default. Everything it returns is a pure function
of the seed and the instant asked for, so history exists without storage.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..base import EVENT_COLUMNS, LATEST_COLUMNS, SERIES_COLUMNS, Adapter, AreaLevel, Frame, Health, utcnow
from ..errors import BadQuery
from . import events as ev
from . import layers, metrics, states
from .boundaries import BoundaryError, build_city_within, read_districts
from .geography import build_city
from .rhythm import LocalClock

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator
    from citybrain.config import City

MAX_POINTS = 2_000_000  # instants × grids × indicators in one series read
EVENT_WINDOW = timedelta(days=2)
END_OF_STEP = frozenset({"latest", "daily_total"})  # time rollups read at the end of each step
KNOWN_METRICS = sorted([*metrics.GRID_METRICS, *metrics.FACT_METRICS])
LEAF = "grid"
HOUR = timedelta(hours=1)


class SimulatorSource(Adapter):
    """A datasource whose store is a deterministic model of the city."""

    type = "simulator"
    leaf_level = LEAF   # the store's facts are per grid; the data service rolls them up

    def __init__(self, name: str, *, seed: int = 20261125, timezone: str = "Asia/Shanghai",
                 city_name_zh: str = "云江市", city_name_en: str = "Yunjiang",
                 scale: int = 1, boundaries: str | None = None, clock: Any = None) -> None:
        self.name = name
        self.seed = int(seed)
        self.timezone = timezone
        if boundaries:
            self.geo = build_city_within(self.seed, city_name_zh, city_name_en, boundaries)
        else:
            self.geo = build_city(self.seed, city_name_zh, city_name_en, scale=int(scale))
        self.statics = metrics.Statics(self.geo, self.seed)
        self._clock = clock or utcnow

    @classmethod
    def from_config(cls, name: str, options: dict[str, Any], city: City) -> SimulatorSource:
        """The simulated city named and zoned as the config's ``city``."""
        return cls(name, timezone=city.timezone, city_name_zh=city.name_zh, city_name_en=city.name_en, **options)

    # --- configuration checks ---------------------------------------------------------
    @staticmethod
    def check_options(options: dict[str, Any]) -> list[str]:
        """Problems with the datasource's own keys, as 'key: expected ..., found ...'."""
        problems = []
        unknown = set(options) - {"seed", "scale", "boundaries"}
        problems += [f"{k}: no such option of a simulator datasource (only 'seed', 'scale', "
                     f"'boundaries')" for k in sorted(unknown)]
        if "boundaries" in options:
            path = options["boundaries"]
            if not isinstance(path, str) or not path:
                problems.append(f"boundaries: expected the path of a GeoJSON file, found {path!r}")
            else:
                try:
                    read_districts(path)
                except BoundaryError as exc:
                    problems.append(f"boundaries: {exc}")
        scale = options.get("scale", 1)
        if not isinstance(scale, int) or isinstance(scale, bool) or not 1 <= scale <= 4:
            problems.append(f"scale: expected an integer from 1 to 4, found {scale!r}")
        seed = options.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            problems.append(f"seed: expected a non-negative integer, found {seed!r}")
        return problems

    @staticmethod
    def check_binding(indicator: Indicator) -> list[str]:
        """Problems with an indicator's binding to the simulator: the metric, and the columns
        its roll-up reads."""
        params = indicator.binding.params()
        metric = params.get("metric")
        extra = set(params) - {"metric"}
        problems = [f"binding.{k}: no such key for a simulator binding (only 'metric')"
                    for k in sorted(extra)]
        if indicator.binding.level not in (None, LEAF):
            problems.append(f"binding.level: the simulator gives {LEAF} facts, found {indicator.binding.level!r}")
        if metric not in KNOWN_METRICS:
            problems.append(f"binding.metric: expected one of the simulator's metrics "
                            f"({', '.join(KNOWN_METRICS)}), found {metric!r}")
            return problems
        rule = indicator.rollup
        columns = metrics.FACT_COLUMNS.get(metric, ())
        if columns and rule.method not in ("ratio", "standard"):
            problems.append(f"rollup.method: simulator metric {metric!r} gives the columns "
                            f"{', '.join(columns)}, not a value: expected 'ratio' or 'standard' over them, "
                            f"found {rule.method!r}")
        wanted = [r for r in (rule.numerator, rule.denominator, *rule.inputs.values()) if r]
        absent = [r for r in wanted if r not in columns]
        if absent and rule.method in ("ratio", "standard"):
            problems.append(f"rollup: {', '.join(map(repr, absent))} is not a column of simulator metric "
                            f"{metric!r} (it gives {', '.join(columns) or 'a value only'})")
        return problems

    @staticmethod
    def columns_of(indicator: Indicator) -> list[str]:
        """The fact columns the binding's rows carry besides the value."""
        return list(metrics.FACT_COLUMNS.get(str(indicator.binding.params().get("metric")), ()))

    # --- the contract -----------------------------------------------------------------
    def areas(self) -> Frame[pd.DataFrame]:
        cols = ["id", "parent_id", "level", "name_zh", "name_en", "population", "lon", "lat"]
        return Frame(self.geo.areas[cols].copy(), as_of=self._now(), source=self.name)

    def latest(self, indicators: Sequence[Indicator], level: AreaLevel,
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        """Each indicator's facts per grid at ``at`` (the simulator gives grid facts only)."""
        self._leaf_only(level)
        at = self._align(at or self._now())
        grids = self.geo.grid_ids
        parts = [self._long(ind, columns, grids, np.array([at.timestamp()]), slice(None))
                 for ind, columns in zip(indicators, self._evaluate(indicators, np.array([at.timestamp()])),
                                         strict=True)]
        return Frame(_concat(parts, LATEST_COLUMNS), as_of=at, source=self.name)

    def series(self, indicators: Sequence[Indicator], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        """Grid facts over ``[start, end)`` at ``step``."""
        if step <= timedelta(0) or end <= start:
            raise BadQuery(self.name, f"empty time range [{start}, {end}) at step {step}")
        stamps = np.arange(start.timestamp(), end.timestamp(), step.total_seconds())
        pick = self._grid_columns(area_ids)
        if len(stamps) * max(len(pick), 1) * len(indicators) > MAX_POINTS:
            raise BadQuery(self.name, f"{len(stamps)} instants × {len(pick)} grids is too "
                                      f"many points; use a coarser step")
        # a value per step: an instant for levels and rates; for counters and "latest" the
        # last moment of the step (so a day of a counter that restarts at midnight is its total)
        now = self._now().timestamp()
        ends = np.minimum(stamps + step.total_seconds(), now) - 1.0
        grids = [self.geo.grid_ids[c] for c in pick]
        parts = []
        totals = [i for i in indicators if i.time_rollup == "sum" and step >= HOUR]
        if totals:   # rates per hour over buckets of an hour or more: the bucket's total so far
            values = self._bucket_totals(totals, stamps, step, now)
            parts += [self._long(ind, cols, grids, stamps, pick) for ind, cols in zip(totals, values, strict=True)]
        for at_end in (False, True):
            group = [i for i in indicators if (i.time_rollup in END_OF_STEP) == at_end and i not in totals]
            if group:
                values = self._evaluate(group, ends if at_end else stamps)
                parts += [self._long(ind, cols, grids, stamps, pick)
                          for ind, cols in zip(group, values, strict=True)]
        data = _concat(parts, SERIES_COLUMNS)
        last = stamps[-1] + (step.total_seconds() if any(i.time_rollup in END_OF_STEP for i in indicators)
                             else 0.0)
        as_of = min(self._now(), datetime.fromtimestamp(last, UTC))
        return Frame(data, as_of=as_of, source=self.name)

    def events(self, since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        until = until or self._now()
        since = max(since, until - EVENT_WINDOW)
        raw = ev.generate(self.seed, self.geo, self.timezone, since.timestamp(), until.timestamp())
        data = self._event_rows(raw, until.timestamp())
        return Frame(data, as_of=until, source=self.name)

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        try:
            collection = layers.build(self.geo, name)
        except KeyError:
            raise BadQuery(self.name, f"no map layer {name!r}; the simulator has "
                                      f"{', '.join(layers.NAMES)}") from None
        return Frame(collection, as_of=self._now(), source=self.name)

    def feature_states(self, name: str, at: datetime | None = None) -> Frame[pd.DataFrame]:
        """Live attributes of a map layer's features, keyed by feature id."""
        at = self._align(at or self._now())
        clock = LocalClock.of(np.array([at.timestamp()]), self.timezone)
        ctx = metrics.Context(self.seed, self.geo, self.statics, clock, self.timezone)
        try:
            data = states.states(ctx, name)
        except KeyError:
            raise BadQuery(self.name, f"no live attributes for layer {name!r}; the simulator "
                                      f"has {', '.join(states.STATE_LAYERS)}") from None
        return Frame(data, as_of=at, source=self.name)

    def health(self) -> Health:
        started = time.perf_counter()
        now = self._now()
        ok = len(self.geo.grid_ids) > 0
        return Health(self.name, ok, latency_ms=(time.perf_counter() - started) * 1000,
                      last_data_at=now, details={"seed": self.seed, "grids": len(self.geo.grid_ids)})

    # --- internals --------------------------------------------------------------------
    def _now(self) -> datetime:
        return self._clock()

    @staticmethod
    def _align(at: datetime) -> datetime:
        if at.tzinfo is None:
            raise BadQuery("simulator", f"time {at} has no time zone")
        return at.astimezone(UTC).replace(microsecond=0)

    def _bucket_totals(self, indicators: Sequence[Indicator], stamps: np.ndarray, step: timedelta,
                       now: float) -> list[dict[str, np.ndarray]]:
        """Each bucket's sum of the hourly rate at every hour of it that has begun: what a
        store that records an hourly value gives summed over the bucket."""
        hours = np.arange(stamps[0], min(stamps[-1] + step.total_seconds(), now), HOUR.total_seconds())
        if len(hours) * self.statics.n_grids * len(indicators) > MAX_POINTS * 4:
            raise BadQuery(self.name, f"{len(hours)} hours × {self.statics.n_grids} grids is too many "
                                      f"points; ask for fewer indicators or a shorter range")
        bucket = np.floor((hours - stamps[0]) / step.total_seconds()).astype(int)
        out = []
        for columns in self._evaluate(indicators, hours):
            summed = {}
            for name, arr in columns.items():
                total = np.zeros((len(stamps), arr.shape[1]))
                np.add.at(total, bucket, np.nan_to_num(np.asarray(arr, dtype=float)))
                seen = np.zeros(len(stamps), dtype=bool)
                seen[bucket] = True
                summed[name] = np.where(seen[:, None], total, np.nan)
            out.append(summed)
        return out

    def _leaf_only(self, level: str) -> None:
        if level != LEAF:
            raise BadQuery(self.name, f"the simulator gives {LEAF} facts only, asked for level {level!r}; "
                                      f"the data service rolls grids up to every other level")

    def _grid_columns(self, area_ids: Sequence[str]) -> list[int]:
        index = self.geo.grid_index_of
        out = []
        for a in area_ids:
            if a not in index:
                known = self.geo.areas.set_index("id").level
                what = f"a {known[a]}, not a grid" if a in known.index else "unknown"
                raise BadQuery(self.name, f"area id {a!r} is {what}: the simulator gives {LEAF} facts only")
            out.append(index[a])
        return out

    def _evaluate(self, indicators: Sequence[Indicator], stamps: np.ndarray) -> list[dict[str, np.ndarray]]:
        """Per indicator: its (T, G) columns: ``value`` for grid metrics, the facts otherwise."""
        clock = LocalClock.of(stamps, self.timezone)
        ctx = metrics.Context(self.seed, self.geo, self.statics, clock, self.timezone)
        out = []
        for ind in indicators:
            metric = ind.binding.params().get("metric")
            if metric in metrics.FACT_METRICS:
                out.append(metrics.FACT_METRICS[metric](ctx))
            elif metric in metrics.GRID_METRICS:
                out.append({"value": metrics.GRID_METRICS[metric](ctx)})
            else:
                raise BadQuery(self.name, f"indicator {ind.id!r}: unknown metric {metric!r}")
        return out

    @staticmethod
    def _long(ind: Indicator, columns: dict[str, np.ndarray], grids: Sequence[str], stamps: np.ndarray,
              pick: slice | list[int]) -> pd.DataFrame:
        """(T, G) columns as long rows: ts, indicator, area_id, value and any fact columns."""
        n_t, n_a = len(stamps), len(grids)
        data: dict[str, Any] = {
            "ts": pd.to_datetime(np.repeat(stamps, n_a), unit="s", utc=True),
            "indicator": ind.id,
            "area_id": np.tile(np.asarray(grids, dtype=object), n_t),
        }
        data["value"] = (np.asarray(columns["value"])[:, pick].reshape(-1) if "value" in columns
                         else np.full(n_t * n_a, np.nan))
        for name, arr in columns.items():
            if name != "value":
                data[name] = np.asarray(arr)[:, pick].reshape(-1)
        return pd.DataFrame(data)

    def _event_rows(self, raw: pd.DataFrame, at: float) -> pd.DataFrame:
        if raw.empty:
            return pd.DataFrame(columns=EVENT_COLUMNS)
        status = ev.status_at(raw, at)
        closed = np.where(status == "closed", raw.closed_s, np.nan)
        dispatched = np.where(raw.dispatched_s <= at, raw.dispatched_s, np.nan)
        arrived = np.where(raw.handling_s <= at, raw.handling_s, np.nan)
        cams = layers.nearest(self.geo.cameras.frame, raw.lon.to_numpy(), raw.lat.to_numpy(), 3)
        facs = layers.nearest(self.geo.facilities.frame, raw.lon.to_numpy(), raw.lat.to_numpy(), 2)
        data = pd.DataFrame({
            "id": raw.id, "kind": raw.kind, "severity": raw.severity, "status": status,
            "reported_at": pd.to_datetime(raw.reported_s, unit="s", utc=True),
            "closed_at": pd.to_datetime(closed, unit="s", utc=True),
            "lon": raw.lon, "lat": raw.lat, "area_id": raw.area_id,
            "title_zh": raw.title_zh, "title_en": raw.title_en, "source": raw.source,
            "camera_ids": cams, "facility_ids": facs,
            "category_zh": raw.category_zh, "category_en": raw.category_en,
            "dispatched_at": pd.to_datetime(dispatched, unit="s", utc=True),
            "arrived_at": pd.to_datetime(arrived, unit="s", utc=True),
        })
        return data.sort_values("reported_at", ascending=False, kind="stable").reset_index(drop=True)


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Long parts as one frame, the contract's columns first, fact columns after."""
    if not parts:
        return pd.DataFrame(columns=columns)
    data = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return data[columns + [c for c in data.columns if c not in columns]]
