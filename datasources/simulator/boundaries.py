"""A simulated city inside real boundaries: district polygons from any GeoJSON file.

The lattice is laid over the districts' extent; every cell whose centre falls in a
district becomes a grid (clipped to the district's edge), grids are grouped into streets
of about eight, and roads, cameras, sensors and facilities stand on the cells inside.
The districts keep their real outlines and names.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from shapely import prepared
from shapely.geometry import Point, Polygon, shape
from shapely.ops import unary_union

from . import noise
from .geography import CityGeography, Layout, assemble, lattice

GRIDS_WANTED = 384
GRIDS_PER_STREET = 8


class BoundaryError(ValueError):
    """The boundaries file cannot be used; the message names the file and the feature."""


def read_districts(path: str | Path) -> list[dict[str, Any]]:
    """District features (Polygon / MultiPolygon) of a GeoJSON FeatureCollection."""
    file = Path(path)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BoundaryError(f"{file}: cannot read the boundaries GeoJSON: {exc}") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not features:
        raise BoundaryError(f"{file}: expected a FeatureCollection of district polygons, found none")
    out = []
    for n, feature in enumerate(features):
        geometry = feature.get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise BoundaryError(f"{file}: features[{n}].geometry.type: expected Polygon or "
                                f"MultiPolygon, found {geometry.get('type')!r}")
        props = feature.get("properties") or {}
        name = props.get("name_zh") or props.get("name") or f"第{n + 1}区"
        out.append({"shape": shape(geometry).buffer(0), "name_zh": str(name),
                    "name_en": str(props.get("name_en") or props.get("name") or f"District {n + 1}")})
    return out


def build_city_within(seed: int, name_zh: str, name_en: str, path: str | Path) -> CityGeography:
    """The simulated city for ``seed`` inside the districts of the GeoJSON at ``path``."""
    districts = read_districts(path)
    city = unary_union([d["shape"] for d in districts])
    west, south, east, north = city.bounds
    cell = float(np.sqrt(city.area / GRIDS_WANTED))
    lay = Layout(cols=int(np.ceil((east - west) / cell)) + 1, rows=int(np.ceil((north - south) / cell)) + 1,
                 cell=(cell, cell), origin=(west - cell / 2, south - cell / 2))
    vx, vy = lattice(seed, lay)
    tests = [prepared.prep(d["shape"]) for d in districts]
    index = -np.ones((lay.cols, lay.rows), dtype=int)
    cells: list[tuple[int, int, int]] = []   # (i, j, district)
    for i in range(lay.cols):
        for j in range(lay.rows):
            centre = Point(vx[i:i + 2, j:j + 2].mean(), vy[i:i + 2, j:j + 2].mean())
            owner = next((k for k, test in enumerate(tests) if test.contains(centre)), None)
            if owner is not None:
                index[i, j] = len(cells)
                cells.append((i, j, owner))
    if not cells:
        raise BoundaryError(f"{path}: the districts are too small to hold a single grid")
    rows: list[dict[str, Any]] = [dict(id="city", parent_id=None, level="city", name_zh=name_zh, name_en=name_en)]
    polygons: dict[str, list[list[float]]] = {"city": _ring(city)}
    grid_rows: list[dict[str, Any]] = []
    grid_ids: list[str] = [""] * len(cells)
    for k, district in enumerate(districts):
        did = f"D{k + 1:02d}"
        rows.append(dict(id=did, parent_id="city", level="district", name_zh=district["name_zh"],
                         name_en=district["name_en"]))
        polygons[did] = _ring(district["shape"])
        mine = [n for n, c in enumerate(cells) if c[2] == k]
        for s_n, members in enumerate(_streets(seed, k, [cells[n] for n in mine], mine), start=1):
            sid = f"{did}S{s_n:02d}"
            rows.append(dict(id=sid, parent_id=did, level="street", name_zh=f"{district['name_zh']}第{s_n}街道",
                             name_en=f"{district['name_en']} Subdistrict {s_n}"))
            shapes = []
            for g_n, n in enumerate(members, start=1):
                i, j, _ = cells[n]
                quad = Polygon([(vx[i, j], vy[i, j]), (vx[i + 1, j], vy[i + 1, j]),
                                (vx[i + 1, j + 1], vy[i + 1, j + 1]), (vx[i, j + 1], vy[i, j + 1])])
                clipped = quad.intersection(district["shape"]).buffer(0) or quad
                shapes.append(clipped)
                gid = f"{sid}G{g_n:02d}"
                grid_ids[n] = gid
                polygons[gid] = _ring(clipped)
                spread = ((i - lay.cols / 2) ** 2 + (j - lay.rows / 2) ** 2) / (lay.cols * lay.rows / 4)
                pop = 900 + 6000 * noise.uniform(seed, noise.key("pop"), i, j)[0] * (
                    0.4 + 0.6 * np.exp(-spread))
                grid_rows.append(dict(
                    id=gid, parent_id=sid, level="grid", name_zh=f"{district['name_zh']}第{s_n}街道第{g_n}网格",
                    name_en=f"{district['name_en']} {s_n}-{g_n}", population=round(float(pop)),
                    street_id=sid, district_id=did, cell_i=i, cell_j=j, order=n))
            polygons[sid] = _ring(unary_union(shapes))
    grids = pd.DataFrame(grid_rows).sort_values("order").drop(columns="order")
    areas = pd.concat([pd.DataFrame(rows), grids], ignore_index=True)
    areas["lon"] = [round(float(np.mean(polygons[a][:-1], axis=0)[0]), 6) for a in areas.id]
    areas["lat"] = [round(float(np.mean(polygons[a][:-1], axis=0)[1]), 6) for a in areas.id]
    cell_ij = np.array([[i, j] for i, j, _ in cells])
    geo = assemble(seed, areas, polygons, np.array(grid_ids), (vx, vy), cell_ij, index, lay)
    inside = prepared.prep(city.buffer(cell * 0.05))
    keep = [inside.contains(Point(np.mean(c, axis=0))) for c in geo.roads.coords]
    return replace(geo, roads=geo.roads[keep].reset_index(drop=True))


def _streets(seed: int, district: int, cells: list[tuple[int, int, int]],
             numbers: list[int]) -> list[list[int]]:
    """The district's cells grouped into compact streets of about eight (seeded k-means)."""
    count = max(1, round(len(cells) / GRIDS_PER_STREET))
    xy = np.array([[i, j] for i, j, _ in cells], dtype=float)
    order = np.argsort(noise.uniform(seed, noise.key("streets"), district, np.arange(len(cells))))
    centres = xy[order[:count]].copy()
    for _ in range(12):
        label = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for c in range(count):
            if (label == c).any():
                centres[c] = xy[label == c].mean(axis=0)
    groups = [[numbers[n] for n in np.flatnonzero(label == c)] for c in range(count)]
    return [g for g in groups if g]


def _ring(geometry: Any) -> list[list[float]]:
    """The exterior ring of a polygon (the largest part of a multipolygon)."""
    if geometry.geom_type == "MultiPolygon":
        geometry = max(geometry.geoms, key=lambda g: g.area)
    if geometry.geom_type != "Polygon":
        geometry = geometry.convex_hull
    return [[round(x, 6), round(y, 6)] for x, y in geometry.exterior.coords]
