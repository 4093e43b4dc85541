"""The simulator's metrics: pure functions of (seed, time) over the city's geography.

A *grid metric* gives a (T, G) array of values per grid. A *fact metric* gives several
(T, G) columns per grid from which the indicator's rule makes the value at every level:
pollutant concentrations (the AQI per HJ 633-2012 from their area means), vehicle-km on
congested segments and on all (the TPI per GB/T 33171-2016), spaces taken and spaces.
The simulator rolls nothing up itself: the data service does, as for every store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from citybrain.standards import tpi

from . import events as ev
from . import noise, rhythm
from .geography import ROAD_CLASS_LANES, ROAD_CLASS_SPEED, CityGeography

H, DAY = 3600.0, 86400.0
JITTER = 0.02  # relative measurement noise with a 10-second period: live data moves


class Context:
    """One evaluation batch: the instants, the geography and a memo of shared arrays."""

    def __init__(self, seed: int, geo: CityGeography, statics: Statics, clock: rhythm.LocalClock,
                 timezone: str) -> None:
        self.seed, self.geo, self.s, self.clock, self.timezone = seed, geo, statics, clock, timezone
        self._memo: dict[str, Any] = {}

    def memo(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self._memo:
            self._memo[name] = build()
        return self._memo[name]

    def smooth(self, stream: str, period: float, members: np.ndarray | None = None) -> np.ndarray:
        return noise.smooth(self.seed, noise.key(stream), self.clock.seconds, period, members)


class Statics:
    """Per-grid and per-segment constants derived once from the geography."""

    def __init__(self, geo: CityGeography, seed: int) -> None:
        grids = geo.areas[geo.areas.level == "grid"]
        self.n_grids = len(grids)
        self.population = grids.population.to_numpy(dtype=float)
        ci, cj = grids.cell_i.to_numpy(float) + 0.5, grids.cell_j.to_numpy(float) + 0.5
        mi, mj = ci.max() / 2 + 0.25, cj.max() / 2 + 0.25
        self.centrality = np.exp(-1.4 * (((ci - mi) / mi) ** 2 + ((cj - mj) / mj) ** 2))
        roads = geo.roads
        self.road_class = roads.road_class.to_numpy()
        self.free_speed = roads.road_class.map(ROAD_CLASS_SPEED).to_numpy(float)
        self.capacity = roads.road_class.map(ROAD_CLASS_LANES).to_numpy(float) * 900.0
        self.length = roads.length_km.to_numpy(float)
        self.seg_grid = roads.grid_index.to_numpy()
        class_busy = roads.road_class.map({"expressway": 1.0, "arterial": 1.0, "secondary": 0.8})
        self.seg_ids = np.arange(len(roads))
        # lognormal spread: a few segments jam at midday, many at rush hour, none at night
        spread = np.exp(-0.8 + 0.6 * noise.normal(seed, noise.key("seg-busy"), self.seg_ids))
        self.seg_busy = class_busy.to_numpy(float) * spread * (
            0.75 + 0.5 * self.centrality[self.seg_grid])
        self.cameras = np.bincount(geo.cameras.grid_index, minlength=self.n_grids).astype(float)
        fac = geo.facilities.frame
        self.fac_grid = fac.grid_index.to_numpy()
        self.fac_kind = fac.kind.to_numpy()
        self.fac_ids = np.arange(len(fac))
        park = geo.parking.frame
        self.park_grid = park.grid_index.to_numpy()
        self.park_capacity = park.capacity.to_numpy(float)


# --- traffic -----------------------------------------------------------------------------

def segment_state(ctx: Context) -> dict[str, np.ndarray]:
    """Speeds, flows and vehicle-km of every road segment at every instant, (T, S) each."""
    def build() -> dict[str, np.ndarray]:
        s = ctx.s
        demand = rhythm.traffic_demand(ctx.clock)[:, None] * s.seg_busy[None, :]
        demand = demand * (1 + 0.18 * ctx.smooth("seg-slow", 900, s.seg_ids))
        demand = np.clip(demand + 0.04 * ctx.smooth("seg-fast", 30, s.seg_ids), 0.02, None)
        speed = s.free_speed / (1.0 + 1.1 * (demand / 1.0) ** 4)
        flow = np.minimum(demand, 1.0) * s.capacity
        return {"speed": speed, "flow": flow, "vkt": flow * s.length}
    return ctx.memo("segments", build)


def _per_grid(ctx: Context, per_segment: np.ndarray) -> np.ndarray:
    """(T, S) segment values summed into (T, G) grids."""
    out = np.zeros((per_segment.shape[0], ctx.s.n_grids))
    np.add.at(out.T, ctx.s.seg_grid, per_segment.T)
    return out


def fact_tpi(ctx: Context) -> dict[str, np.ndarray]:
    """Vehicle-km per grid, all and on moderately or severely congested segments (GB/T 33171)."""
    seg = segment_state(ctx)
    level = tpi.segment_level(seg["speed"], ctx.s.road_class[None, :].repeat(len(seg["speed"]), 0))
    return {"congested_vkt": _per_grid(ctx, seg["vkt"] * (level >= 4)), "vkt": _per_grid(ctx, seg["vkt"])}


def fact_avg_speed(ctx: Context) -> dict[str, np.ndarray]:
    """Vehicle-km and vehicle-hours per grid: their ratio is the space-mean speed."""
    seg = segment_state(ctx)
    return {"vkt": _per_grid(ctx, seg["vkt"]), "vht": _per_grid(ctx, seg["vkt"] / seg["speed"])}


def grid_checkpoint_flow(ctx: Context) -> np.ndarray:
    flow = segment_state(ctx)["flow"]
    out = np.zeros((flow.shape[0], ctx.s.n_grids))
    np.add.at(out.T, ctx.s.seg_grid, flow.T)
    return np.round(out * 0.25)


def parking_occupancy(ctx: Context) -> np.ndarray:
    """(T, lots) share of each parking lot's spaces taken."""
    lots = np.arange(len(ctx.s.park_capacity))
    base = (0.25 + 0.6 * rhythm.commerce(ctx.clock)[:, None]
            + 0.15 * rhythm.activity(ctx.clock)[:, None])
    return np.clip(base * (0.8 + 0.3 * ctx.smooth("parking", 1800, lots)), 0.02, 0.99)


def fact_parking(ctx: Context) -> dict[str, np.ndarray]:
    """Spaces taken and spaces per grid (grids without a lot have no facts)."""
    s = ctx.s
    taken = parking_occupancy(ctx) * s.park_capacity
    occupied = np.zeros((len(taken), s.n_grids))
    np.add.at(occupied.T, s.park_grid, taken.T)
    capacity = np.bincount(s.park_grid, weights=s.park_capacity, minlength=s.n_grids)
    has = capacity > 0
    return {"occupied": np.where(has, occupied, np.nan),
            "capacity": np.broadcast_to(np.where(has, capacity, np.nan), occupied.shape)}


# --- events-derived counts ------------------------------------------------------------

def events_for(ctx: Context) -> Any:
    return ctx.memo("events", lambda: ev.generate(
        ctx.seed, ctx.geo, ctx.timezone, float(ctx.clock.midnight.min()),
        float(ctx.clock.seconds.max())))


def count_today(kind: str, when: str = "reported_s") -> Callable[[Context], np.ndarray]:
    def metric(ctx: Context) -> np.ndarray:
        return ev.counts_since_midnight(events_for(ctx), ctx.clock, ctx.s.n_grids, kind, when)
    return metric


# --- environment ------------------------------------------------------------------------

def concentrations(ctx: Context) -> dict[str, np.ndarray]:
    """Pollutant concentrations per grid, (T, G): weather-driven, plus traffic and sun."""
    def build() -> dict[str, np.ndarray]:
        s, grids = ctx.s, np.arange(ctx.s.n_grids)
        region = 1.0 + 0.55 * ctx.smooth("weather-slow", 1.5 * DAY) + 0.25 * ctx.smooth("weather", 6 * H)
        region = np.clip(region, 0.25, None)[:, None]
        traffic = rhythm.traffic_demand(ctx.clock)[:, None] * (0.5 + s.centrality[None, :])
        local = 1 + 0.12 * ctx.smooth("pm-local", 3 * H, grids) + 0.03 * ctx.smooth("pm-fast", 30, grids)
        pm25 = (30 * region * (0.8 + 0.4 * s.centrality) + 10 * traffic) * local
        sun = rhythm.sunlight(ctx.clock)[:, None]
        return {
            "pm25": pm25,
            "pm10": pm25 * 1.55 + 12 * local,
            "no2": (14 + 42 * traffic) * local,
            "co": 0.45 + 0.7 * traffic + 0.15 * region,
            "so2": (7 + 5 * region) * local,
            "o3": (25 + 150 * sun / np.sqrt(region)) * (1 + 0.08 * ctx.smooth("o3", 2 * H, grids)),
        }
    return ctx.memo("conc", build)


def fact_aqi(ctx: Context) -> dict[str, np.ndarray]:
    """Pollutant concentrations per grid: the AQI of an area is computed from their means."""
    return dict(concentrations(ctx))


def pollutant(name: str) -> Callable[[Context], np.ndarray]:
    def metric(ctx: Context) -> np.ndarray:
        return concentrations(ctx)[name]
    return metric


def grid_noise_db(ctx: Context) -> np.ndarray:
    traffic = rhythm.traffic_demand(ctx.clock)[:, None] * (0.4 + ctx.s.centrality[None, :])
    return 42 + 18 * traffic + 1.5 * ctx.smooth("noise-db", 600, np.arange(ctx.s.n_grids))


# --- facilities ---------------------------------------------------------------------------

def facility_faulty(ctx: Context) -> np.ndarray:
    """(T, F) whether each facility is in a fault: faults start at random and last hours."""
    def build() -> np.ndarray:
        s = ctx.s
        phase = noise.uniform(ctx.seed, noise.key("fault-phase"), s.fac_ids) * 4 * H
        bucket = np.floor((ctx.clock.seconds[:, None] + phase[None, :]) / (4 * H)).astype(np.int64)
        rate = np.where(s.fac_kind == "street_light", 0.035, 0.05)
        return noise.uniform(ctx.seed, noise.key("fault"), bucket, s.fac_ids[None, :]) < rate
    return ctx.memo("faults", build)


def grid_facility_faults(ctx: Context) -> np.ndarray:
    faulty = facility_faulty(ctx).astype(float)
    out = np.zeros((faulty.shape[0], ctx.s.n_grids))
    np.add.at(out.T, ctx.s.fac_grid, faulty.T)
    return out


def fact_lights(ctx: Context) -> dict[str, np.ndarray]:
    """Street lights per grid, all and working (grids without a light have no facts)."""
    lights = ctx.s.fac_kind == "street_light"
    working = (~facility_faulty(ctx)[:, lights]).astype(float)
    grids = ctx.s.fac_grid[lights]
    out = np.zeros((len(working), ctx.s.n_grids))
    np.add.at(out.T, grids, working.T)
    total = np.bincount(grids, minlength=ctx.s.n_grids).astype(float)
    has = total > 0
    return {"lights_working": np.where(has, out, np.nan),
            "lights": np.broadcast_to(np.where(has, total, np.nan), out.shape)}


# --- smooth per-grid fields --------------------------------------------------------------

def field(stream: str, base: float, amp: float, period: float, *, curve: Callable[[rhythm.LocalClock], np.ndarray]
          | None = None, curve_amp: float = 0.0, scale: str | None = None,
          low: float | None = None, high: float | None = None) -> Callable[[Context], np.ndarray]:
    """A grid metric: base (× population/1000 when scale='population') shaped by a rhythm."""
    def metric(ctx: Context) -> np.ndarray:
        grids = np.arange(ctx.s.n_grids)
        shape = 1.0 + curve_amp * (curve(ctx.clock)[:, None] - 0.5) if curve else 1.0
        wobble = (1.0 + amp * ctx.smooth(f"field-{stream}", period, grids)
                  + JITTER * ctx.smooth(f"jitter-{stream}", 10, grids))
        value = base * shape * wobble
        if scale == "population":
            value = value * ctx.s.population[None, :] / 1000.0
        elif scale == "cameras":
            value = value * ctx.s.cameras[None, :]
        return np.clip(value, low, high) if (low is not None or high is not None) else value
    return metric


def grid_population(ctx: Context) -> np.ndarray:
    return np.broadcast_to(ctx.s.population, (len(ctx.clock.seconds), ctx.s.n_grids))


GRID_METRICS: dict[str, Callable[[Context], np.ndarray]] = {
    "population": grid_population,
    "checkpoint_flow": grid_checkpoint_flow,
    "traffic_accidents_today": count_today("traffic_accident"),
    "alerts_110_today": count_today("police_110"),
    "alerts_119_today": count_today("fire_119"),
    "enforcement_cases_today": count_today("urban_mgmt"),
    "hotline_calls_today": count_today("hotline_12345"),
    "hazards_found_today": count_today("safety_hazard"),
    "hazards_rectified_today": count_today("safety_hazard", "closed_s"),
    "video_alerts_hour": field("video_alerts_hour", 0.9, 0.5, 1800, curve=rhythm.activity, curve_amp=1.2,
                               scale="cameras", low=0),
    "hazards_open": field("hazards_open", 1.2, 0.4, DAY, scale="population", low=0),
    "police_response_min": field("police_response_min", 7.5, 0.18, 1800, curve=rhythm.traffic_demand, curve_amp=0.5,
                                 low=2),
    "noise_db": grid_noise_db,
    "power_load_mw": field("power_load_mw", 1.1, 0.08, 1200, curve=rhythm.power_demand, curve_amp=1.0,
                           scale="population", low=0),
    "water_supply_m3h": field("water_supply_m3h", 18, 0.08, 1200, curve=rhythm.water_demand, curve_amp=1.0,
                              scale="population", low=0),
    "ev_charging_util": field("ev_charging_util", 48, 0.25, 1800, curve=rhythm.activity, curve_amp=0.8,
                              low=0, high=100),
    "facility_faults": grid_facility_faults,
    "water_pressure_kpa": field("water_pressure_kpa", 300, 0.05, 900, curve=rhythm.water_demand, curve_amp=-0.15),
    "hotline_close_rate": field("hotline_close_rate", 93, 0.03, 3 * H, low=0, high=100),
    "citizen_satisfaction": field("citizen_satisfaction", 95, 0.02, 6 * H, low=0, high=100),
    "service_wait_min": field("service_wait_min", 9, 0.3, 1800, curve=rhythm.activity, curve_amp=1.0, low=0),
    "retail_sales_10k": field("retail_sales_10k", 6.5, 0.15, 1800, curve=rhythm.commerce, curve_amp=1.8,
                              scale="population", low=0),
    "visitors_per_hour": field("visitors_per_hour", 160, 0.2, 1800, curve=rhythm.commerce, curve_amp=1.8,
                               scale="population", low=0),
    "industrial_power_index": field("industrial_power_index", 102, 0.04, 3 * H, curve=rhythm.power_demand,
                                    curve_amp=0.1),
}

GRID_METRICS.update({"pm25": pollutant("pm25"), "pm10": pollutant("pm10"), "no2": pollutant("no2"),
                     "o3": pollutant("o3")})

# metrics whose facts are several columns per grid; the catalogue's rule makes the value
FACT_METRICS: dict[str, Callable[[Context], dict[str, np.ndarray]]] = {
    "tpi": fact_tpi,
    "avg_speed": fact_avg_speed,
    "parking_occupancy": fact_parking,
    "aqi": fact_aqi,
    "streetlight_intact_rate": fact_lights,
}
FACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "tpi": ("congested_vkt", "vkt"),
    "avg_speed": ("vkt", "vht"),
    "parking_occupancy": ("occupied", "capacity"),
    "aqi": ("pm25", "pm10", "so2", "no2", "o3", "co"),
    "streetlight_intact_rate": ("lights_working", "lights"),
}
