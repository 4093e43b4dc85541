"""The example platform's road network: segments inside the districts and their speeds.

``road_segment`` holds each segment's line (GeoJSON text in GCJ-02, like the boundaries)
with the platform's own road-class words (快速路 / 主干路 / 次干路 / 支路); ``road_speed``
one mean speed per segment every 5 minutes, local time without a zone. Rush hours slow
every segment, the busier ones (``severity``) down to a crawl; speeds are a pure function
of (seed, segment, time), like the other facts.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from datasources.crs import wgs84_to_gcj02
from examples.platform import facts
from examples.platform.shapes import CELLS, ISLAND_CENTRE, LATS, LONS

FIVE = timedelta(minutes=5)
MARGIN = 0.04            # degrees kept clear of a district's wavy border
ISLAND_CLEARANCE = 0.035
# the platform's words, and the free-flow speed (km/h) of each
CLASSES = {"快速路": 78.0, "主干路": 50.0, "次干路": 40.0, "支路": 36.0}
# per district: the class of each of its segments
LAYOUT = ("快速路", "主干路", "主干路", "主干路", "次干路", "次干路", "次干路", "支路")
ROAD_NAMES = {
    "快速路": ("井冈山大道", "庐陵大道", "吉州大道"),
    "主干路": ("人民大道", "阳明路", "韶山路", "中山路", "文天祥大道", "青原大道"),
    "次干路": ("永叔路", "习溪桥路", "仁山路", "鹭洲路", "后河路", "白塘路"),
    "支路": ("古南巷", "槐树巷", "钟鼓楼巷"),
}
LATE_SEGMENT = "RS36080305"    # has not sent its latest 5-minute speed


def five_minute_slots(clk: facts.Clock) -> list[datetime]:
    """Every 5-minute slot from the clock's first hour up to the one holding ``now``."""
    current = clk.current_hour + FIVE * (clk.now.minute // 5)
    count = int((current - clk.start_hour) / FIVE) + 1
    return [clk.start_hour + i * FIVE for i in range(count)]


def _km(lon: np.ndarray, lat: np.ndarray) -> float:
    """Length of a WGS-84 polyline in km (haversine per stretch)."""
    rad = np.radians
    dlon, dlat = rad(np.diff(lon)), rad(np.diff(lat))
    a = np.sin(dlat / 2) ** 2 + np.cos(rad(lat[:-1])) * np.cos(rad(lat[1:])) * np.sin(dlon / 2) ** 2
    return float(np.sum(2 * 6371.0088 * np.arcsin(np.sqrt(a))))


def _line(seed: int, code: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A gently bent line of 5 vertices inside the district's cell, clear of the border and
    of the island another district owns (WGS-84)."""
    col, row = CELLS[code]
    x0, x1 = LONS[col] + MARGIN, LONS[col + 1] - MARGIN
    y0, y1 = LATS[row] + MARGIN, LATS[row + 1] - MARGIN
    for attempt in range(50):
        u = facts._unit(seed, 60, int(code), k, attempt, np.arange(4))
        sx, sy = x0 + (x1 - x0) * u[0], y0 + (y1 - y0) * u[1]
        angle, length = 2 * math.pi * u[2], 0.012 + 0.014 * u[3]
        ex = min(max(sx + length * math.cos(angle), x0), x1)
        ey = min(max(sy + length * math.sin(angle), y0), y1)
        t = np.linspace(0.0, 1.0, 5)
        bend = 0.0015 * np.sin(math.pi * t) * (1 if k % 2 else -1)
        lon = sx + t * (ex - sx) - bend * (ey - sy) / max(length, 1e-9) * 5
        lat = sy + t * (ey - sy) + bend * (ex - sx) / max(length, 1e-9) * 5
        lon, lat = np.clip(lon, x0, x1), np.clip(lat, y0, y1)
        clear = np.hypot(lon - ISLAND_CENTRE[0], lat - ISLAND_CENTRE[1]).min() > ISLAND_CLEARANCE
        if clear and _km(lon, lat) > 0.5:
            return lon, lat
    raise RuntimeError(f"no room for segment {k} of {code}")


def segments(seed: int = 7) -> list[dict[str, Any]]:
    """The ``road_segment`` rows: 8 segments in each of the six districts."""
    rows = []
    for d, (code, name, *_rest) in enumerate(facts.DISTRICTS):
        for k, word in enumerate(LAYOUT):
            lon, lat = _line(seed, code, k)
            glon, glat = wgs84_to_gcj02(lon, lat)
            coords = [[round(float(x), 6), round(float(y), 6)] for x, y in zip(glon, glat, strict=True)]
            names = ROAD_NAMES[word]
            rows.append({"seg_id": f"RS{code}{k + 1:02d}",
                         "road_name": f"{names[(d + k) % len(names)]}({name[:2]}段)",
                         "road_class": word, "district_code": code,
                         "geometry": json.dumps({"type": "LineString", "coordinates": coords}),
                         "length_km": Decimal(f"{_km(lon, lat):.2f}")})
    return rows


def speeds(seed: int, clk: facts.Clock, segs: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The ``road_speed`` rows: one per segment every 5 minutes (the late segment lacks the
    latest slot). Rush hours slow each segment by its severity; a few are bottlenecks."""
    slots = five_minute_slots(clk)
    last = slots[-1]
    tod, weekend, _day = facts._calendar(slots)
    slot_no = facts._ordinals(slots, FIVE)
    traffic = facts._traffic(tod, weekend)
    rows = []
    for s, seg in enumerate(segs if segs is not None else segments(seed)):
        free = CLASSES[seg["road_class"]]
        severity = 0.3 + 0.7 * float(facts._unit(seed, 70, s))
        busy = traffic if s % 7 else np.maximum(traffic, 0.75 * (tod > 7) * (tod < 20))   # bottlenecks
        ratio = np.maximum(1.0 - 0.9 * severity * busy, 0.1) * (1 + 0.06 * facts._normal(seed, 71, s, slot_no))
        speed = np.clip(free * ratio, 3.0, free * 1.2)
        for slot, v in zip(slots, speed, strict=True):
            if seg["seg_id"] == LATE_SEGMENT and slot == last:
                continue
            rows.append({"seg_id": seg["seg_id"], "stat_time": slot, "speed_kmh": Decimal(f"{v:.1f}")})
    return rows
