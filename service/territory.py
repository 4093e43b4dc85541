"""The part of the city one scope may see: its top areas, everything below them, and how
rows, events and map features are kept or dropped by it.

A scope names top areas (``Scope.areas``); the territory is those areas and their
subtrees in the full hierarchy. Ancestors are outside: a district head does not see the
city's row or values, which include other districts. With one top area the territory's
root is that area (pages that start at the root start there); with several, the root is
the city's row as a bare container (its name, never its values), so the tree still has
one root. Unknown ids in a scope give nothing.

A row is placed by its area id; an event or a map feature without one (or with an area
above the territory) by its coordinates inside the outline of the top areas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from citybrain.spatial import inside

from .hierarchy import COLUMNS, Hierarchy

LAYER_OF_LEVEL = {"district": "districts", "street": "streets", "grid": "grids"}
OUTSIDE = "outside the areas this account may see"


@dataclass(frozen=True)
class Territory:
    """Top areas, every area below them, and the hierarchy a scope sees."""

    source: Hierarchy                 # the full hierarchy it was cut from
    tops: tuple[str, ...]             # the scope's top areas that exist, none under another
    allowed: frozenset[str]           # the tops and everything below them
    hierarchy: Hierarchy              # the scoped tree (see the module docstring for its root)
    above: frozenset[str]             # ancestors of the tops: rows there are placed by coordinates
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def root_id(self) -> str:
        return self.hierarchy.root_id

    def levels(self) -> set[str]:
        """The levels at which the territory holds at least one area."""
        return {self.source.level[a] for a in self.allowed}

    def rows(self, data: pd.DataFrame, column: str = "area_id") -> pd.DataFrame:
        """The rows of ``data`` whose ``column`` names an area of the territory."""
        if data.empty or column not in data.columns:
            return data.iloc[0:0] if column not in data.columns else data
        return data[data[column].astype(str).isin(self.allowed)]

    def ids(self, area_ids: Iterable[str]) -> list[str]:
        """``area_ids`` without those outside, in their order."""
        return [a for a in (str(i) for i in area_ids) if a in self.allowed]

    def points(self, data: pd.DataFrame, outline: list[dict[str, Any]]) -> pd.DataFrame:
        """Events (or any rows with ``area_id``, ``lon``, ``lat``) of the territory: by their
        area when it is one of ours or someone else's; by their coordinates inside ``outline``
        when they have none, an unknown one, or one above the territory."""
        if data.empty:
            return data
        area = data["area_id"] if "area_id" in data.columns else pd.Series(None, index=data.index)
        text = area.astype(str)
        keep = text.isin(self.allowed).to_numpy()
        placed_elsewhere = area.notna() & text.isin(self.source.level) & ~text.isin(self.above)
        unplaced = ~keep & ~placed_elsewhere.to_numpy()
        if unplaced.any() and outline and {"lon", "lat"} <= set(data.columns):
            lon = pd.to_numeric(data["lon"], errors="coerce").to_numpy(float)[unplaced]
            lat = pd.to_numeric(data["lat"], errors="coerce").to_numpy(float)[unplaced]
            keep[unplaced] = within(outline, lon, lat)
        return data[keep]

    def features(self, collection: dict[str, Any], outline: list[dict[str, Any]]) -> dict[str, Any]:
        """The features of a layer that lie in the territory: an area's own feature by its id,
        others by their ``area_id`` property, and those without one by their geometry (any
        vertex, or the middle of a stretch, inside ``outline``)."""
        kept, unplaced = [], []
        for feature in collection.get("features") or []:
            props = feature.get("properties") or {}
            fid = str(feature.get("id", props.get("id")))
            owner = props.get("area_id")
            if fid in self.source.level:
                verdict: bool | None = fid in self.allowed
            elif owner is not None and str(owner) in self.source.level and str(owner) not in self.above:
                verdict = str(owner) in self.allowed
            else:
                verdict = None
            if verdict:
                kept.append(feature)
            elif verdict is None:
                unplaced.append(feature)
        if unplaced and outline:
            kept += [f for f, hit in zip(unplaced, _features_inside(unplaced, outline), strict=True) if hit]
        return {**collection, "features": kept}


def cut(hier: Hierarchy, areas: frozenset[str]) -> Territory:
    """The territory of a scope limited to ``areas`` in the full hierarchy ``hier``."""
    known = [a for a in sorted(str(a) for a in areas) if a in hier.level]
    children: dict[str, list[str]] = {}
    for child, parent in hier.parent.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    below: dict[str, set[str]] = {}
    for top in known:
        todo, seen = [top], {top}
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        below[top] = seen
    tops = tuple(t for t in known if not any(t in below[o] for o in known if o != t))
    allowed = frozenset().union(*(below[t] for t in tops)) if tops else frozenset()
    above = frozenset(a for t in tops for a in _ancestors(hier, t))
    rows = hier.areas[hier.areas["id"].astype(str).isin(allowed)].copy()
    if len(tops) == 1:
        rows.loc[rows["id"] == tops[0], "parent_id"] = None
        root = tops[0]
    else:   # several tops (or none): the city's row holds them, by name only
        root = hier.root_id
        rows.loc[rows["id"].isin(tops), "parent_id"] = root
        city = hier.areas[hier.areas["id"] == root][COLUMNS]
        rows = pd.concat([city, rows], ignore_index=True)
    scoped = Hierarchy(rows.reset_index(drop=True), root)
    return Territory(hier, tops, allowed, scoped, above)


def _ancestors(hier: Hierarchy, area: str) -> list[str]:
    out, current = [], hier.parent.get(area)
    while current is not None and current not in out and len(out) < 16:
        out.append(current)
        current = hier.parent.get(current)
    return out


def within(outline: list[dict[str, Any]], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which points lie inside any of the polygons of ``outline``."""
    hit = np.zeros(len(lon), dtype=bool)
    for geometry in outline:
        todo = ~hit
        if todo.any():
            hit[todo] = inside(geometry, lon[todo], lat[todo])
    return hit


def _features_inside(features: list[dict[str, Any]], outline: list[dict[str, Any]]) -> list[bool]:
    """Per feature: whether a vertex, or the middle of a stretch, of its geometry lies inside."""
    owners, lon, lat = [], [], []
    for n, feature in enumerate(features):
        for line in _lines((feature.get("geometry") or {}).get("coordinates")):
            probes = np.vstack([line, (line[1:] + line[:-1]) / 2]) if len(line) > 1 else line
            owners += [n] * len(probes)
            lon.append(probes[:, 0])
            lat.append(probes[:, 1])
    out = [False] * len(features)
    if owners:
        hits = within(outline, np.concatenate(lon), np.concatenate(lat))
        for n in np.asarray(owners)[hits]:
            out[int(n)] = True
    return out


def _lines(coords: Any) -> list[np.ndarray]:
    """The vertex runs of any GeoJSON coordinates (a point is a run of one)."""
    try:
        arr = np.asarray(coords, dtype=float)
    except (TypeError, ValueError):   # ragged: a multi-geometry or a polygon with holes
        return [run for part in coords or [] for run in _lines(part)]
    if arr.ndim == 1 and len(arr) >= 2:
        return [arr[None, :2]]
    if arr.ndim == 2 and arr.shape[1] >= 2:
        return [arr[:, :2]]
    if arr.ndim > 2:
        return [run for part in arr for run in _lines(part)]
    return []
