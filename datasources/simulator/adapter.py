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

from ..base import EVENT_COLUMNS, LATEST_COLUMNS, SERIES_COLUMNS, AreaLevel, Frame, Health, utcnow
from ..errors import BadQuery
from ..rollup import roll_up
from . import events as ev
from . import layers, metrics, states
from .boundaries import BoundaryError, build_city_within, read_districts
from .geography import build_city
from .rhythm import LocalClock

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator

MAX_POINTS = 200_000  # instants × areas in one series read
EVENT_WINDOW = timedelta(days=2)
END_OF_STEP = frozenset({"latest", "daily_total"})  # time rollups read at the end of each step
KNOWN_METRICS = sorted([*metrics.GRID_METRICS, *metrics.LEVEL_METRICS])


class SimulatorSource:
    """A datasource whose store is a deterministic model of the city."""

    type = "simulator"

    def __init__(self, name: str, *, seed: int = 20261125, timezone: str = "Asia/Shanghai",
                 city_name_zh: str = "云江市", city_name_en: str = "Yunjiang",
                 scale: int = 1, boundaries: str | None = None, clock: Any = None,
                 metric_of: dict[str, str] | None = None) -> None:
        """``metric_of`` maps the catalogue's indicator ids to this simulator's metrics, so a
        ``weighted_mean`` roll-up ``by`` an indicator weighs by that indicator's metric."""
        self.name = name
        self.metric_of = dict(metric_of or {})
        self.seed = int(seed)
        self.timezone = timezone
        if boundaries:
            self.geo = build_city_within(self.seed, city_name_zh, city_name_en, boundaries)
        else:
            self.geo = build_city(self.seed, city_name_zh, city_name_en, scale=int(scale))
        self.statics = metrics.Statics(self.geo, self.seed)
        self._clock = clock or utcnow

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
        """Problems with an indicator's binding to the simulator."""
        params = indicator.binding.params()
        metric = params.get("metric")
        extra = set(params) - {"metric"}
        problems = [f"binding.{k}: no such key for a simulator binding (only 'metric')"
                    for k in sorted(extra)]
        if metric not in KNOWN_METRICS:
            problems.append(f"binding.metric: expected one of the simulator's metrics "
                            f"({', '.join(KNOWN_METRICS)}), found {metric!r}")
        elif indicator.rollup.by and indicator.rollup.by not in metrics.GRID_METRICS:
            problems.append(f"rollup.by: expected a simulator grid metric to weigh by, "
                            f"found {indicator.rollup.by!r}")
        elif (metric in metrics.LEVEL_METRICS) != (indicator.rollup.method == "derived"):
            want = "derived" if metric in metrics.LEVEL_METRICS else "sum, mean, weighted_mean, ..."
            problems.append(f"rollup.method: expected {want} for simulator metric {metric!r}, "
                            f"found {indicator.rollup.method!r}")
        return problems

    # --- the contract -----------------------------------------------------------------
    def areas(self) -> Frame[pd.DataFrame]:
        cols = ["id", "parent_id", "level", "name_zh", "name_en", "population", "lon", "lat"]
        return Frame(self.geo.areas[cols].copy(), as_of=self._now(), source=self.name)

    def latest(self, indicators: Sequence[Indicator], level: AreaLevel,
               at: datetime | None = None) -> Frame[pd.DataFrame]:
        at = self._align(at or self._now())
        ids, values = self._evaluate(indicators, level, np.array([at.timestamp()]))
        rows = [(ind.id, area, at, float(v)) for ind, arr in zip(indicators, values, strict=True)
                for area, v in zip(ids, arr[0], strict=True)]
        return Frame(pd.DataFrame(rows, columns=LATEST_COLUMNS), as_of=at, source=self.name)

    def series(self, indicators: Sequence[Indicator], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        if step <= timedelta(0) or end <= start:
            raise BadQuery(self.name, f"empty time range [{start}, {end}) at step {step}")
        stamps = np.arange(start.timestamp(), end.timestamp(), step.total_seconds())
        levels = self._levels_of(area_ids)
        if len(stamps) * max(len(area_ids), 1) * len(indicators) > MAX_POINTS:
            raise BadQuery(self.name, f"{len(stamps)} instants × {len(area_ids)} areas is too "
                                      f"many points; use a coarser step")
        # a value per step: an instant for levels and rates; for counters and "latest" the
        # last moment of the step (so a day of a counter that restarts at midnight is its total)
        now = self._now().timestamp()
        ends = np.minimum(stamps + step.total_seconds(), now) - 1.0
        ts = pd.to_datetime(stamps, unit="s", utc=True)
        parts = []
        for level, wanted in levels.items():
            for at_end in (False, True):
                group = [i for i in indicators if (i.time_rollup in END_OF_STEP) == at_end]
                if not group:
                    continue
                ids, values = self._evaluate(group, level, ends if at_end else stamps)
                pick = [ids.index(a) for a in wanted]
                for ind, arr in zip(group, values, strict=True):
                    for col, area in zip(pick, wanted, strict=True):
                        parts.append(pd.DataFrame({"ts": ts, "indicator": ind.id, "area_id": area,
                                                   "value": arr[:, col]}))
        data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SERIES_COLUMNS)
        last = stamps[-1] + (step.total_seconds() if any(i.time_rollup in END_OF_STEP for i in indicators)
                             else 0.0)
        as_of = min(self._now(), datetime.fromtimestamp(last, UTC))
        return Frame(data[SERIES_COLUMNS], as_of=as_of, source=self.name)

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

    def _levels_of(self, area_ids: Sequence[str]) -> dict[str, list[str]]:
        known = self.geo.areas.set_index("id").level
        out: dict[str, list[str]] = {}
        for a in area_ids:
            if a not in known.index:
                raise BadQuery(self.name, f"unknown area id {a!r}")
            out.setdefault(str(known[a]), []).append(a)
        return out

    def _evaluate(self, indicators: Sequence[Indicator], level: str,
                  stamps: np.ndarray) -> tuple[list[str], list[np.ndarray]]:
        clock = LocalClock.of(stamps, self.timezone)
        ctx = metrics.Context(self.seed, self.geo, self.statics, clock, self.timezone)
        ids, members = self.geo.members(level)
        out = []
        for ind in indicators:
            metric = ind.binding.params().get("metric")
            if metric in metrics.LEVEL_METRICS:
                out.append(metrics.LEVEL_METRICS[metric](ctx, members))
            elif metric in metrics.GRID_METRICS:
                base = metrics.GRID_METRICS[metric](ctx)
                weights = None
                if ind.rollup.method == "weighted_mean":
                    weights = self._weights(ctx, ind.rollup.by or "")
                out.append(roll_up(base, members, ind.rollup.method, weights, source=self.name))
            else:
                raise BadQuery(self.name, f"indicator {ind.id!r}: unknown metric {metric!r}")
        return ids, [np.round(v, ind.decimals + 1) for v, ind in zip(out, indicators, strict=True)]

    def _weights(self, ctx: metrics.Context, by: str) -> np.ndarray:
        metric = self.metric_of.get(by, by)
        if metric in metrics.GRID_METRICS:
            return metrics.GRID_METRICS[metric](ctx)
        raise BadQuery(self.name, f"cannot weigh by {by!r}: its metric {metric!r} is not a simulator grid metric")

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
