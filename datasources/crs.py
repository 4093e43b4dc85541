"""Coordinate systems of Chinese platforms: WGS-84 (GPS), GCJ-02 (the national offset
used by Amap and Tencent) and BD-09 (Baidu), converted so layers from different
sources line up on one map.

The GCJ-02 offset is the published public algorithm (Krasovsky ellipsoid); its inverse
is solved by fixed-point iteration to centimetres. Points outside mainland China are
not offset, as the standard practice does.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

SYSTEMS = ("wgs84", "gcj02", "bd09")
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    return (float(lon), float(lat)) if scalar else (lon, lat)


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    lo, la, scalar = _arrays(lon, lat)
    dlon, dlat = _offset(lo, la)
    return _out(lo + dlon, la + dlat, scalar)


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """The inverse offset, refined until it maps back within 1e-9 degrees."""
    lo, la, scalar = _arrays(lon, lat)
    wlon, wlat = lo.copy(), la.copy()
    for _ in range(30):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        ex, ey = np.asarray(glon) - lo, np.asarray(glat) - la
        wlon, wlat = wlon - ex, wlat - ey
        if np.all(np.abs(ex) < 1e-9) and np.all(np.abs(ey) < 1e-9):
            break
    return _out(wlon, wlat, scalar)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    lo, la, scalar = _arrays(lon, lat)
    z = np.sqrt(lo * lo + la * la) + 0.00002 * np.sin(la * _X_PI)
    theta = np.arctan2(la, lo) + 0.000003 * np.cos(lo * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    lo, la, scalar = _arrays(lon, lat)
    x, y = lo - 0.0065, la - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta), z * np.sin(theta), scalar)


def convert(lon: Any, lat: Any, src: str, dst: str) -> tuple[Any, Any]:
    """(lon, lat) from system ``src`` to ``dst`` (scalars or arrays)."""
    for name in (src, dst):
        if name not in SYSTEMS:
            raise ValueError(f"unknown coordinate system {name!r}; expected one of {', '.join(SYSTEMS)}")
    if src == dst:
        return lon, lat
    if src == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    elif src == "wgs84":
        lon, lat = wgs84_to_gcj02(lon, lat)
    if dst == "gcj02":
        return lon, lat
    return gcj02_to_bd09(lon, lat) if dst == "bd09" else gcj02_to_wgs84(lon, lat)


def convert_geojson(collection: dict[str, Any], src: str, dst: str) -> dict[str, Any]:
    """A copy of a FeatureCollection with every coordinate converted from ``src`` to ``dst``."""
    out = copy.deepcopy(collection)
    if src == dst:
        return out
    for feature in out.get("features", []):
        geometry = feature.get("geometry")
        if geometry and "coordinates" in geometry:
            geometry["coordinates"] = _convert_nested(geometry["coordinates"], src, dst)
    return out


def _convert_nested(coords: Any, src: str, dst: str) -> Any:
    arr = np.asarray(coords, dtype=float) if _regular(coords) else None
    if arr is not None and arr.shape[-1] >= 2:
        lon, lat = convert(arr[..., 0], arr[..., 1], src, dst)
        result = arr.copy()
        result[..., 0], result[..., 1] = lon, lat
        return np.round(result, 7).tolist()
    return [_convert_nested(part, src, dst) for part in coords]


def _regular(coords: Any) -> bool:
    try:
        np.asarray(coords, dtype=float)
        return True
    except (ValueError, TypeError):
        return False
