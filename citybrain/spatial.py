"""Spatial linkage: what stands near an event (cameras, facilities), by real distance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance in metres (broadcasts over arrays)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@dataclass(frozen=True)
class Nearby:
    """A point feature near a place: its id, properties and distance in metres."""

    id: str
    distance_m: float
    properties: dict[str, Any]


def nearby(collection: dict[str, Any], lon: float, lat: float, *, radius_m: float,
           limit: int = 10) -> list[Nearby]:
    """Point features of ``collection`` within ``radius_m`` of (lon, lat), nearest first."""
    points = [f for f in collection.get("features", [])
              if (f.get("geometry") or {}).get("type") == "Point"]
    if not points:
        return []
    coords = np.array([f["geometry"]["coordinates"][:2] for f in points], dtype=float)
    dist = haversine_m(lon, lat, coords[:, 0], coords[:, 1])
    order = np.argsort(dist)
    out = []
    for n in order[:limit]:
        if dist[n] > radius_m:
            break
        feature = points[n]
        fid = str(feature.get("id", feature.get("properties", {}).get("id", n)))
        out.append(Nearby(fid, float(dist[n]), dict(feature.get("properties") or {})))
    return out


def bounds(ring: list[list[float]]) -> list[list[float]]:
    """[[south, west], [north, east]] of a polygon ring (Leaflet's order)."""
    arr = np.asarray(ring, dtype=float)
    return [[float(arr[:, 1].min()), float(arr[:, 0].min())],
            [float(arr[:, 1].max()), float(arr[:, 0].max())]]
