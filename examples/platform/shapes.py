"""The example platform's district boundaries: bare GeoJSON geometries in GCJ-02.

Six districts tile a 3 × 2 block around Ji'an (lon 114.90–115.30, lat 26.90–27.30) with
wavy shared borders, so neighbours meet exactly and never overlap. 吉州区 also owns an
island (白鹭洲) inside 青原区, which makes it a MultiPolygon and gives 青原区 a hole.
The shapes are drawn in WGS-84 and stored in GCJ-02, as Amap-based platforms keep them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from datasources.crs import wgs84_to_gcj02
from examples.platform.facts import DISTRICTS

BOUNDARIES = Path(__file__).with_name("boundaries-gcj02.json")
LONS = (114.90, 115.04, 115.17, 115.30)
LATS = (26.90, 27.13, 27.30)
# district code -> (column, row) in the block; row 0 is the south
CELLS = {"360821": (0, 0), "360802": (1, 0), "360803": (2, 0),
         "360823": (0, 1), "360824": (1, 1), "360822": (2, 1)}
ISLAND_OWNER, ISLAND_HOST = "360802", "360803"
ISLAND_CENTRE, ISLAND_RADIUS = (115.215, 27.02), 0.012

Point = tuple[float, float]


def _edge(p: Point, q: Point, key: int, steps: int = 10) -> list[Point]:
    """Points from ``p`` to ``q`` (both included), bent sideways by a fixed wave."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    length = math.hypot(dx, dy)
    nx, ny = -dy / length, dx / length
    a1 = 0.010 * (1 + (key * 37 % 7) / 7) * (-1 if key % 2 else 1)
    a2 = 0.005 * (1 + (key * 53 % 5) / 5)
    points = []
    for k in range(steps + 1):
        t = k / steps
        bend = a1 * math.sin(math.pi * t) + a2 * math.sin(2 * math.pi * t)
        points.append((p[0] + t * dx + bend * nx, p[1] + t * dy + bend * ny))
    return points


def _horizontal(row: int, col: int) -> list[Point]:
    return _edge((LONS[col], LATS[row]), (LONS[col + 1], LATS[row]), 10 * row + col + 1)


def _vertical(col: int, row: int) -> list[Point]:
    return _edge((LONS[col], LATS[row]), (LONS[col], LATS[row + 1]), 100 + 10 * col + row)


def _cell(col: int, row: int) -> list[Point]:
    """The cell's closed outer ring, counter-clockwise (south, east, north, west)."""
    ring = _horizontal(row, col)
    ring += _vertical(col + 1, row)[1:]
    ring += _horizontal(row + 1, col)[::-1][1:]
    ring += _vertical(col, row)[::-1][1:]
    return ring


def _island() -> list[Point]:
    (cx, cy), r = ISLAND_CENTRE, ISLAND_RADIUS
    ring = [(cx + 1.4 * r * math.cos(a), cy + r * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 9)[:-1]]
    return ring + ring[:1]


def _gcj(ring: list[Point]) -> list[list[float]]:
    lon, lat = wgs84_to_gcj02(np.array([p[0] for p in ring]), np.array([p[1] for p in ring]))
    return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(lon, lat, strict=True)]


def boundaries() -> list[dict[str, Any]]:
    """The six districts as bare geometries with ``properties`` {adcode, name}, in GCJ-02."""
    island = _island()
    out = []
    for code, name, *_rest in DISTRICTS:
        outer = _gcj(_cell(*CELLS[code]))
        if code == ISLAND_OWNER:
            geometry: dict[str, Any] = {"type": "MultiPolygon",
                                        "coordinates": [[outer], [_gcj(island)]]}
        elif code == ISLAND_HOST:
            geometry = {"type": "Polygon", "coordinates": [outer, _gcj(island[::-1])]}
        else:
            geometry = {"type": "Polygon", "coordinates": [outer]}
        geometry["properties"] = {"adcode": code, "name": name}
        out.append(geometry)
    return out


def write_boundaries(path: Path = BOUNDARIES) -> Path:
    """Write the boundary file: a JSON list, one geometry per line."""
    lines = ",\n".join(json.dumps(g, ensure_ascii=False, separators=(",", ":")) for g in boundaries())
    path.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    return path
