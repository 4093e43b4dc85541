"""The simulated city's static map layers as GeoJSON, with stable feature ids."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .geography import CityGeography

AREA_LAYERS = {"city": "city", "districts": "district", "streets": "street", "grids": "grid"}
POINT_LAYERS = ("cameras", "sensors", "facilities", "parking")
NAMES = (*AREA_LAYERS, "roads", "water", *POINT_LAYERS)


def build(geo: CityGeography, name: str) -> dict[str, Any]:
    """The FeatureCollection ``name``; ``KeyError`` when there is no such layer."""
    if name in AREA_LAYERS:
        rows = geo.areas[geo.areas.level == AREA_LAYERS[name]]
        features = [_feature(r.id, {"type": "Polygon", "coordinates": [geo.polygons[r.id]]},
                             {"name_zh": r.name_zh, "name_en": r.name_en, "level": r.level,
                              "parent_id": r.parent_id})
                    for r in rows.itertuples()]
    elif name == "roads":
        features = [_feature(r.id, {"type": "LineString", "coordinates": r.coords},
                             {"name_zh": r.name_zh, "name_en": r.name_en,
                              "road_class": r.road_class, "length_km": r.length_km})
                    for r in geo.roads.itertuples()]
    elif name == "water":
        features = [_feature("river-1", {"type": "LineString", "coordinates": _river(geo)},
                             {"name_zh": "云江", "name_en": "Yun River", "kind": "river"})]
    elif name in POINT_LAYERS:
        frame = getattr(geo, name).frame
        features = [_point(row) for row in frame.drop(columns="grid_index").to_dict("records")]
        grids = geo.grid_ids[frame.grid_index.to_numpy()]
        for feature, grid in zip(features, grids, strict=True):
            feature["properties"]["area_id"] = str(grid)
    else:
        raise KeyError(name)
    return {"type": "FeatureCollection", "features": features}


def _river(geo: CityGeography) -> list[list[float]]:
    """A river meandering west to east through the middle of the city."""
    vx, vy = geo.vertices
    cols = vx.shape[0] - 1
    lon0, lon1 = float(vx[0].mean()), float(vx[-1].mean())
    lat0, lat1 = float(vy[:, 0].mean()), float(vy[:, -1].mean())
    steps = np.linspace(0.0, 1.0, 4 * cols + 1)
    middle = 0.56 + 0.12 * np.sin(steps * 2.6 * np.pi) * (1 - 0.3 * steps)
    return [[round(lon0 - 0.01 + (lon1 - lon0 + 0.02) * t, 6), round(lat0 + (lat1 - lat0) * m, 6)]
            for t, m in zip(steps, middle, strict=True)]


def _feature(fid: str, geometry: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    props = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in props.items()}
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": {"id": fid, **props}}


def _point(row: dict[str, Any]) -> dict[str, Any]:
    lon, lat = row.pop("lon"), row.pop("lat")
    return _feature(row["id"], {"type": "Point", "coordinates": [lon, lat]},
                    {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()})


def nearest(points: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, k: int,
            chunk: int = 256) -> list[list[str]]:
    """For each (lon, lat), the ids of the ``k`` nearest points (equirectangular distance),
    nearest first. Partitioned rather than sorted, a chunk of places at a time: a large
    city has twelve thousand facilities and a day thousands of events."""
    if len(lon) == 0:
        return []
    scale = np.cos(np.radians(float(np.mean(lat))))
    px, py, ids = points.lon.to_numpy(float) * scale, points.lat.to_numpy(float), points.id.to_numpy()
    k = min(k, len(ids))
    if k == 0:
        return [[] for _ in range(len(lon))]
    found: list[list[str]] = []
    for at in range(0, len(lon), chunk):
        dx = px[None, :] - lon[at:at + chunk, None] * scale
        dy = py[None, :] - lat[at:at + chunk, None]
        d2 = dx * dx + dy * dy
        near = np.argpartition(d2, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(near, np.argsort(np.take_along_axis(d2, near, axis=1), axis=1,
                                                    kind="stable"), axis=1)
        found.extend(list(ids[row]) for row in order)
    return found
