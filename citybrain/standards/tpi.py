"""Traffic operation index (交通运行指数, TPI) per GB/T 33171-2016 (城市交通运行状况评价规范).

A segment's operating level (1 畅通 … 5 严重拥堵) follows from its average travel speed and road
class, using the standard's speed thresholds (km/h; level k applies when v <= its threshold):

    expressway (快速路)             >65 | 50–65 | 35–50 | 20–35 | <=20
    arterial (主干路)               >40 | 30–40 | 20–30 | 15–20 | <=15
    secondary (次干路、支路, branch)  >35 | 25–35 | 15–25 | 10–15 | <=10

The road-network TPI (0–10) converts R, the share of vehicle-kilometres travelled on moderately
or severely congested segments (levels 4 and 5), piecewise-linearly through the
congestion-mileage table of the standard's family — Beijing's DB11/T 785 (城市道路交通运行评价
指标体系) uses the same breakpoints: R = 0, 4, 8, 11, 14, 24 % → TPI 0, 2, 4, 6, 8, 10, and
R >= 24 % → 10. TPI bands [0,2) [2,4) [4,6) [6,8) [8,10] carry the five level names and colours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

ROAD_CLASSES = ("expressway", "arterial", "secondary")
ROAD_CLASS_ALIASES = {"branch": "secondary"}
# speed thresholds (km/h) between levels 1|2, 2|3, 3|4, 4|5
SPEED_THRESHOLDS: dict[str, tuple[float, float, float, float]] = {
    "expressway": (65.0, 50.0, 35.0, 20.0),
    "arterial": (40.0, 30.0, 20.0, 15.0),
    "secondary": (35.0, 25.0, 15.0, 10.0),
}
CONGESTED_SHARE_BREAKPOINTS = (0.0, 0.04, 0.08, 0.11, 0.14, 0.24)
TPI_BREAKPOINTS = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)
CONGESTED_LEVEL = 4  # levels 4 (中度拥堵) and 5 (严重拥堵) count as congested


@dataclass(frozen=True)
class TrafficLevel:
    """One of the five operating levels (1 畅通 … 5 严重拥堵)."""

    level: int
    name_zh: str
    name_en: str
    colour: str


LEVELS = (
    TrafficLevel(1, "畅通", "Free-flowing", "#2ECC71"),
    TrafficLevel(2, "基本畅通", "Basically free", "#A3D65C"),
    TrafficLevel(3, "轻度拥堵", "Lightly congested", "#F5C242"),
    TrafficLevel(4, "中度拥堵", "Moderately congested", "#F07F3C"),
    TrafficLevel(5, "严重拥堵", "Severely congested", "#D7263D"),
)


def _class(name: object) -> str:
    key = ROAD_CLASS_ALIASES.get(str(name), str(name))
    if key not in SPEED_THRESHOLDS:
        raise ValueError(f"unknown road class {str(name)!r}; expected one of "
                         f"{', '.join(ROAD_CLASSES)} (or {', '.join(ROAD_CLASS_ALIASES)})")
    return key


def _thresholds(road_class: str | npt.ArrayLike) -> np.ndarray:
    """Speed thresholds of each class: shape ``road_class.shape + (4,)``."""
    classes = np.asarray(road_class)
    if classes.ndim == 0:
        return np.array(SPEED_THRESHOLDS[_class(classes.item())])
    names, inverse = np.unique(classes, return_inverse=True)
    table = np.array([SPEED_THRESHOLDS[_class(n)] for n in names])
    return table[np.reshape(inverse, classes.shape)]


def segment_level(
    speed_kmh: float | npt.ArrayLike, road_class: str | npt.ArrayLike
) -> int | np.ndarray:
    """Operating level 1–5 from average speed (km/h) and road class; scalars or arrays.

    Speeds and classes broadcast together; arrays give an int array. A negative or NaN
    speed, or an unknown class, raises ValueError.
    """
    speed = np.asarray(speed_kmh, dtype=float)
    bad = np.isnan(speed) | (speed < 0)
    if np.any(bad):
        raise ValueError(f"speed must be a non-negative number, got {float(speed[bad].flat[0])}")
    bounds = _thresholds(road_class)
    level = 1 + np.sum(speed[..., None] <= bounds, axis=-1)
    return int(level) if level.ndim == 0 else level.astype(int)


def tpi_from_congested_share(share: float | npt.ArrayLike) -> float | np.ndarray:
    """TPI 0–10 from the congested share R of vehicle-km (a fraction, 0–1).

    A scalar outside 0..1 or NaN raises ValueError; arrays are clipped to 0..1 (NaN stays NaN).
    """
    arr = np.asarray(share, dtype=float)
    if arr.ndim == 0:
        r = float(arr)
        if math.isnan(r) or not 0.0 <= r <= 1.0:
            raise ValueError(f"congested share must be a fraction within 0..1, got {r}")
        return float(np.interp(r, CONGESTED_SHARE_BREAKPOINTS, TPI_BREAKPOINTS))
    return np.interp(np.clip(arr, 0.0, 1.0), CONGESTED_SHARE_BREAKPOINTS, TPI_BREAKPOINTS)


def network_tpi(
    speeds: npt.ArrayLike, road_classes: str | npt.ArrayLike, vkt: npt.ArrayLike
) -> float:
    """TPI of one road network from its segments' speeds, road classes and vehicle-km.

    ``road_classes`` may be one class for all segments. Zero total vehicle-km gives 0.0;
    negative vehicle-km raises ValueError.
    """
    levels = np.asarray(segment_level(speeds, road_classes))
    weights = np.asarray(vkt, dtype=float)
    if np.any(np.isnan(weights) | (weights < 0)):
        raise ValueError("vehicle-km must be non-negative numbers")
    levels, weights = np.broadcast_arrays(levels, weights)
    total = float(weights.sum())
    if total <= 0.0:
        return 0.0
    congested = float(weights[levels >= CONGESTED_LEVEL].sum())
    return float(tpi_from_congested_share(min(1.0, congested / total)))


def tpi_level(tpi: float) -> TrafficLevel:
    """The operating level of a TPI value: [0,2) 畅通, [2,4) 基本畅通, … [8,10] 严重拥堵."""
    if math.isnan(tpi) or not 0.0 <= tpi <= 10.0:
        raise ValueError(f"TPI must be within 0..10, got {tpi}")
    return LEVELS[min(4, int(tpi // 2.0))]
