"""Incidents that arrive at random and live through reported → dispatched → handling → closed.

Arrivals are a Poisson process per kind and per minute whose rate follows the city's
activity; each event's place, severity and lifecycle durations are hashes of its id,
so the events of any past window are reproducible from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import noise, rhythm
from .geography import CityGeography, bilinear

MINUTE = 60.0


@dataclass(frozen=True)
class EventKind:
    """One kind of incident and how it behaves."""

    kind: str
    per_hour: float          # city-wide arrivals per hour at full activity
    severity_weights: tuple[float, float, float, float]
    dispatch_min: tuple[float, float]
    handle_min: tuple[float, float]
    close_min: tuple[float, float]
    titles: tuple[tuple[str, str], ...]
    source: str
    follows: str = "activity"


KINDS: tuple[EventKind, ...] = (
    EventKind("police_110", 14, (0.45, 0.35, 0.15, 0.05), (1, 5), (4, 15), (20, 120),
              (("治安纠纷", "Public-order dispute"), ("盗窃警情", "Theft report"),
               ("噪音扰民", "Noise disturbance"), ("可疑人员", "Suspicious person")), "110"),
    EventKind("fire_119", 0.8, (0.2, 0.4, 0.3, 0.1), (1, 2), (5, 12), (30, 150),
              (("居民楼火情", "Residential fire"), ("车辆起火", "Vehicle fire"),
               ("电气火灾", "Electrical fire")), "119"),
    EventKind("medical_120", 6, (0.3, 0.4, 0.2, 0.1), (1, 3), (6, 15), (30, 90),
              (("急救呼叫", "Ambulance call"), ("突发疾病", "Sudden illness")), "120"),
    EventKind("hotline_12345", 22, (0.7, 0.25, 0.05, 0.0), (10, 60), (60, 240), (240, 1440),
              (("路灯不亮", "Street light out"), ("噪音投诉", "Noise complaint"),
               ("占道经营", "Street vending"), ("供水问题", "Water supply problem"),
               ("道路破损", "Damaged road")), "12345"),
    EventKind("urban_mgmt", 9, (0.6, 0.3, 0.1, 0.0), (5, 30), (20, 90), (60, 480),
              (("违规占道", "Illegal road occupation"), ("乱堆乱放", "Illegal dumping"),
               ("违章搭建", "Illegal structure"), ("渣土车违规", "Muck truck violation")),
              "城市管理"),
    EventKind("safety_hazard", 3, (0.5, 0.35, 0.15, 0.0), (5, 30), (30, 120), (60, 600),
              (("消防通道堵塞", "Blocked fire exit"), ("燃气管线隐患", "Gas line hazard"),
               ("电动车违规充电", "Illegal e-bike charging"), ("危险边坡", "Unstable slope")), "安全检查"),
    EventKind("traffic_accident", 5, (0.5, 0.3, 0.15, 0.05), (1, 4), (5, 15), (20, 90),
              (("两车追尾", "Rear-end collision"), ("车辆剐蹭", "Minor collision"),
               ("非机动车事故", "Bicycle accident")), "交警", follows="traffic"),
)
KIND_BY_NAME = {k.kind: k for k in KINDS}


def generate(seed: int, geo: CityGeography, timezone: str, start: float, end: float,
             kinds: tuple[EventKind, ...] = KINDS) -> pd.DataFrame:
    """Every event reported in [start, end] (epoch seconds), with its lifecycle times."""
    m0, m1 = int(np.floor(start / MINUTE)), int(np.floor(end / MINUTE))
    minutes = np.arange(m0, m1 + 1, dtype=np.int64)
    if len(minutes) == 0:
        return _empty()
    clock = rhythm.LocalClock.of(minutes * MINUTE, timezone)
    weights = geo.areas.loc[geo.areas.level == "grid", "population"].to_numpy(dtype=float)
    cdf = np.cumsum(weights) / weights.sum()
    frames = []
    for kind in kinds:
        k = noise.key(kind.kind)
        curve = rhythm.traffic_demand(clock) if kind.follows == "traffic" else rhythm.activity(clock)
        lam = kind.per_hour / 60.0 * np.clip(curve, 0.05, None)
        counts = noise.poisson_counts(noise.uniform(seed, k, minutes), lam)
        minute = np.repeat(minutes, counts)
        if len(minute) == 0:
            continue
        nth = np.concatenate([np.arange(c) for c in counts if c])
        frames.append(_lifecycle(seed, geo, kind, k, minute, nth, cdf))
    if not frames:
        return _empty()
    events = pd.concat(frames, ignore_index=True)
    events = events[(events.reported_s >= start) & (events.reported_s <= end)]
    return events.sort_values("reported_s", kind="stable").reset_index(drop=True)


def _lifecycle(seed: int, geo: CityGeography, kind: EventKind, k: int, minute: np.ndarray,
               nth: np.ndarray, cdf: np.ndarray) -> pd.DataFrame:
    def u(stream: int) -> np.ndarray:
        return noise.uniform(seed, k, minute, nth, stream)

    reported = minute * MINUTE + 60.0 * u(1)
    cells = np.minimum(np.searchsorted(cdf, u(2)), len(cdf) - 1)
    sev_cdf = np.cumsum(kind.severity_weights)
    severity = np.searchsorted(sev_cdf / sev_cdf[-1], u(3)) + 1

    def span(bounds: tuple[float, float], stream: int) -> np.ndarray:
        return (bounds[0] + (bounds[1] - bounds[0]) * u(stream)) * MINUTE

    dispatched = reported + span(kind.dispatch_min, 4)
    handling = dispatched + span(kind.handle_min, 5)
    closed = handling + span(kind.close_min, 6)
    ci, cj = geo.grid_of_cell(cells)
    vx, vy = geo.vertices
    uu, vv = 0.1 + 0.8 * u(7), 0.1 + 0.8 * u(8)
    title = (u(9) * len(kind.titles)).astype(int)
    grids = geo.grid_ids[cells]
    names = geo.areas.set_index("id").loc[grids]
    return pd.DataFrame({
        "id": [f"{kind.source}-{m}-{n}" for m, n in zip(minute, nth, strict=True)],
        "kind": kind.kind, "severity": severity.astype(int),
        "reported_s": reported, "dispatched_s": dispatched, "handling_s": handling,
        "closed_s": closed, "grid_index": cells,
        "lon": bilinear(vx, ci, cj, uu, vv).round(6), "lat": bilinear(vy, ci, cj, uu, vv).round(6),
        "area_id": grids,
        "title_zh": [f"{n}{kind.titles[t][0]}" for n, t in zip(names.name_zh, title, strict=True)],
        "title_en": [f"{kind.titles[t][1]}, {n}" for n, t in zip(names.name_en, title, strict=True)],
        "source": kind.source,
        "category_zh": [kind.titles[t][0] for t in title],
        "category_en": [kind.titles[t][1] for t in title],
    })


def status_at(events: pd.DataFrame, at: float) -> np.ndarray:
    """Each event's lifecycle status at epoch second ``at``."""
    return np.select(
        [events.closed_s <= at, events.handling_s <= at, events.dispatched_s <= at],
        ["closed", "handling", "dispatched"], default="reported")


def counts_since_midnight(events: pd.DataFrame, clock: rhythm.LocalClock, n_grids: int,
                          kind: str, when: str = "reported_s") -> np.ndarray:
    """(T, G) events of ``kind`` reported (or, with ``when="closed_s"``, closed) since
    local midnight up to each instant."""
    sel = events[events.kind == kind]
    t = sel[when].to_numpy(dtype=np.float64)
    g = sel.grid_index.to_numpy(dtype=np.int64)
    out = np.zeros((len(clock.seconds), n_grids))
    for n, (mid, now) in enumerate(zip(clock.midnight, clock.seconds, strict=True)):
        mask = (t >= mid) & (t <= now)
        out[n] = np.bincount(g[mask], minlength=n_grids)
    return out


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["id", "kind", "severity", "reported_s", "dispatched_s",
                                 "handling_s", "closed_s", "grid_index", "lon", "lat", "area_id",
                                 "title_zh", "title_en", "source", "category_zh", "category_en"])
