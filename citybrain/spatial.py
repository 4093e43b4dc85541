"""Spatial linkage: what stands near an event (cameras, facilities), by real distance, and
what lies inside an area."""

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


def inside(geometry: dict[str, Any], lon: Any, lat: Any) -> np.ndarray:
    """Which of the points (lon, lat) lie inside a GeoJSON Polygon or MultiPolygon (holes
    excluded): even-odd ray casting over every ring, vectorised over the points."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    crossings = np.zeros(lon.shape, dtype=bool)
    for ring in (np.asarray(r, dtype=float) for polygon in polygons for r in polygon):
        if len(ring) < 3:
            continue
        x1, y1 = ring[:, 0], ring[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        spans = (y1[None, :] > lat[..., None]) != (y2[None, :] > lat[..., None])
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (lat[..., None] - y1) * (x2 - x1) / (y2 - y1)
        crossings ^= (np.count_nonzero(spans & (lon[..., None] < x_at), axis=-1) % 2).astype(bool)
    return crossings
