"""GeoJSON as city GIS departments really export it, read into one FeatureCollection.

:func:`read_layer` accepts any of these documents and returns features with stable
string ids, counting every feature it drops by reason (nothing is dropped silently):

- a FeatureCollection, a single Feature, or a list of Features;
- a GeometryCollection: each geometry becomes a feature;
- bare geometries (a ``Polygon`` / ``MultiPolygon`` / ``LineString`` / ``Point`` ...
  document, or a list of them), also the common "feature-like" geometry that carries
  ``properties`` (``{"type": "Polygon", "coordinates": ..., "properties": {...}}``);
- a list of records ``{"adcode": ..., "name": ..., "geometry": {...}}``.

A feature's id is its ``id_property`` (e.g. ``adcode``), else its ``id``, else its
``properties.id``; numbers become text (``360802``, never ``360802.0``). Without an
``id_property`` a feature with none of these is named by its position (``roads-0``).

:func:`bounds` frames any geometry or collection; :func:`union_outline` builds a city
outline from its district polygons.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import BadQuery
from .validation import RejectCounter

__all__ = ["COUNTS_KEY", "GEOMETRY_TYPES", "LayerRead", "bounds", "features_of", "id_text",
           "read_layer", "union_outline"]

# how deep the positions sit in each geometry type's coordinates
GEOMETRY_TYPES = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
                  "MultiPolygon": 3}
COUNTS_KEY = "counts"   # the collection's foreign member that carries the read's counts
NOT_A_FEATURE = "not a feature or geometry"
NO_GEOMETRY = "no geometry"
BAD_TYPE = "invalid geometry type"
MALFORMED = "malformed or empty coordinates"
OFF_PLANET = "coordinates off the planet"
MISSING_ID = "missing id"
DUPLICATE_ID = "duplicate id"


@dataclass(frozen=True)
class LayerRead:
    """One document read as a layer: the collection and what happened on the way.

    ``read`` counts the features found in the document, ``dropped`` those refused by
    reason, ``by_position`` the kept ones named ``<layer>-<n>`` for want of an id.
    """

    collection: dict[str, Any]
    read: int
    dropped: dict[str, int]
    id_property: str | None
    by_position: int = 0
    examples: dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return len(self.collection["features"])

    def summary(self) -> dict[str, Any]:
        """The counts as JSON (also stored in the collection under :data:`COUNTS_KEY`)."""
        return {"read": self.read, "kept": self.kept, "dropped": dict(self.dropped),
                "id_property": self.id_property, "ids_by_position": self.by_position}


def read_layer(doc: Any, *, source: str, layer: str, key_path: str, origin: str | None = None,
               id_property: str | None = None, name_property: str | None = None,
               rejects: RejectCounter | None = None) -> LayerRead:
    """``doc`` (parsed JSON) as the FeatureCollection of map layer ``layer``.

    ``key_path`` (``datasources.gis.layers.districts``) and ``origin`` (the file or URL)
    name the layer in errors. ``name_property`` fills ``name_zh`` / ``name_en`` when the
    features lack them. Drops are counted into ``rejects`` as ``layer <layer>``. Raises
    :class:`BadQuery` when ``doc`` is not GeoJSON, or when every feature is dropped.
    """
    where = f"{key_path} ({origin})" if origin and origin != key_path else key_path
    try:
        raw = features_of(doc)
    except ValueError as exc:
        raise BadQuery(source, f"{where}: {exc}") from None
    drops: Counter[str] = Counter()
    examples: dict[str, str] = {}
    features: list[dict[str, Any]] = []
    seen: set[str] = set()
    by_position = 0
    for n, feature in enumerate(raw):
        reason, example = _problem(feature)
        fid, positional = None, False
        if feature is not None and reason is None:
            fid = _feature_id(feature, id_property)
            if fid is None and id_property is None:
                fid, positional = f"{layer}-{n}", True
            if fid is None:
                reason, example = MISSING_ID, _keys(feature["properties"])
            elif fid in seen:
                reason, example = DUPLICATE_ID, fid
        if feature is None or fid is None or reason is not None:
            reason = reason or NOT_A_FEATURE
            drops[reason] += 1
            if example is not None:
                examples.setdefault(reason, str(example))
            continue
        seen.add(fid)
        by_position += positional
        features.append(_shaped(feature, fid, name_property))
    result = LayerRead({"type": "FeatureCollection", "features": features}, read=len(raw),
                       dropped=dict(drops), id_property=id_property, by_position=by_position,
                       examples=examples)
    result.collection[COUNTS_KEY] = result.summary()
    if rejects is not None:
        for reason, count in drops.items():
            rejects.add(source, f"layer {layer}", reason, count, example=examples.get(reason))
    if raw and not features:
        raise BadQuery(source, f"{where}: all {len(raw)} features were dropped "
                               f"({_listing(drops)}); {_advice(raw, drops, examples, id_property)}")
    return result


def features_of(doc: Any) -> list[dict[str, Any] | None]:
    """Every feature-ish item of ``doc`` as ``{type: Feature, id?, geometry, properties}``,
    unchecked; ``None`` for an item that is neither a feature nor a geometry.
    ``ValueError`` says what ``doc`` is when it is not GeoJSON at all."""
    if isinstance(doc, list):
        return [_feature(item) for item in _flat(doc)]
    if isinstance(doc, dict):
        kind = doc.get("type")
        if kind == "FeatureCollection" or (kind is None and "features" in doc):
            if not isinstance(doc.get("features"), list):
                raise ValueError(f"expected a list of features in a FeatureCollection, found "
                                 f"{_describe(doc.get('features'))}")
            return [_feature(item) for item in _flat(doc["features"])]
        if kind in ("Feature", "GeometryCollection", *GEOMETRY_TYPES) or "geometry" in doc:
            return [_feature(item) for item in _flat([doc])]
    raise ValueError("expected GeoJSON (a FeatureCollection, a Feature, a GeometryCollection, a "
                     f"geometry, or a list of them), found {_describe(doc)}")


def id_text(value: Any) -> str | None:
    """An id as text: whole numbers without a decimal point; ``None`` when it is no id."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def bounds(geometry_or_collection: Any) -> tuple[float, float, float, float] | None:
    """``(min_lon, min_lat, max_lon, max_lat)`` of every position in a geometry (Polygon,
    MultiPolygon, ...), a Feature, a FeatureCollection, a GeometryCollection or a list of
    them; ``None`` when there is no position. Leaflet wants ``[[min_lat, min_lon],
    [max_lat, max_lon]]``."""
    parts = [p for g in _geometries(geometry_or_collection)
             if (p := _positions(g.get("coordinates"), GEOMETRY_TYPES[g["type"]])) is not None]
    if not parts:
        return None
    every = np.concatenate(parts)
    return (float(every[:, 0].min()), float(every[:, 1].min()), float(every[:, 0].max()),
            float(every[:, 1].max()))


def union_outline(districts: dict[str, Any], *, feature_id: str, name_zh: str, name_en: str,
                  grid_size: float | None = None) -> dict[str, Any]:
    """The city outline for a platform that has district boundaries but no city layer.

    ``districts`` is the districts layer's FeatureCollection (``DataService.layer(...)
    .data``, in any coordinate system: the union does not care). Returns a
    FeatureCollection of one feature, ``id`` ``feature_id``, whose geometry is the union
    of the districts' Polygons and MultiPolygons (a MultiPolygon stays one when the
    districts do not touch, e.g. islands), with properties ``id``, ``name_zh``,
    ``name_en``, ``level: city`` and ``parent_id: None``, like every area layer. Serve
    it as the ``city`` layer, e.g. ``union_outline(districts, feature_id=city_id,
    name_zh=cfg.city.name_zh, name_en=cfg.city.name_en)``. ``grid_size`` (degrees,
    e.g. ``1e-6``) snaps the borders first, closing hairline seams between districts
    digitised separately. ``ValueError`` when no feature has a polygon.
    """
    import shapely
    from shapely.geometry import shape

    shapes = [shapely.make_valid(shape(g)) for g in _geometries(districts)
              if g["type"] in ("Polygon", "MultiPolygon")]
    polygons = [p for s in shapes for p in getattr(s, "geoms", [s])
                if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    if not polygons:
        raise ValueError("no district Polygon or MultiPolygon to build the city outline from")
    union = shapely.union_all(polygons, grid_size=grid_size)
    if union.geom_type == "GeometryCollection":   # keep the areas, drop stray lines / points
        union = shapely.union_all([p for p in union.geoms if p.area > 0])
    geometry = json.loads(shapely.to_geojson(union))
    props = {"id": feature_id, "name_zh": name_zh, "name_en": name_en, "level": "city", "parent_id": None}
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "id": feature_id, "geometry": geometry, "properties": props}]}


# --- internals --------------------------------------------------------------------------
def _flat(items: list[Any]) -> Iterator[Any]:
    """Items with every GeometryCollection opened into its geometries."""
    for item in items:
        if isinstance(item, dict) and item.get("type") == "GeometryCollection" \
                and isinstance(item.get("geometries"), list):
            yield from _flat(item["geometries"])
        else:
            yield item


def _feature(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    given = item.get("properties")
    props = dict(given) if isinstance(given, dict) else {}
    if kind == "Feature":
        return {**item, "properties": props}
    if kind in GEOMETRY_TYPES or kind == "GeometryCollection":   # a bare or feature-like geometry
        geometry = {k: v for k, v in item.items() if k not in ("properties", "id")}
        return {"type": "Feature", "id": item.get("id"), "geometry": geometry, "properties": props}
    if "geometry" in item:   # a record: every other key is a property
        extra = {k: v for k, v in item.items() if k not in ("geometry", "properties")}
        return {"type": "Feature", "geometry": item["geometry"], "properties": {**extra, **props}}
    return None


def _feature_id(feature: dict[str, Any], id_property: str | None) -> str | None:
    props = feature["properties"]
    named = id_text(props.get(id_property)) if id_property else None
    return named or id_text(feature.get("id")) or id_text(props.get("id"))


def _shaped(feature: dict[str, Any], fid: str, name_property: str | None) -> dict[str, Any]:
    """The feature as served: its id set, ``properties.id`` and the names filled in."""
    props = feature["properties"]
    props.setdefault("id", fid)
    name = props.get(name_property) if name_property else None
    if name is not None and str(name).strip():
        props.setdefault("name_zh", str(name).strip())
        props.setdefault("name_en", props["name_zh"])
    return {**feature, "id": fid, "properties": props}


def _problem(feature: dict[str, Any] | None) -> tuple[str | None, Any]:
    """The reason a feature's geometry is refused, with an example; (None, None) if fine."""
    if feature is None:
        return NOT_A_FEATURE, None
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        return NO_GEOMETRY, feature.get("id")
    kind = geometry.get("type")
    if kind not in GEOMETRY_TYPES:
        return BAD_TYPE, kind
    positions = _positions(geometry.get("coordinates"), GEOMETRY_TYPES[kind])
    if positions is None:
        return MALFORMED, kind
    off = (np.abs(positions[:, 0]) > 180) | (np.abs(positions[:, 1]) > 90)
    if off.any():
        return OFF_PLANET, positions[off][0].tolist()
    return None, None


def _positions(coords: Any, depth: int) -> np.ndarray | None:
    """The (lon, lat) pairs of ``coords`` nested ``depth`` lists deep, or None when they
    are not numbers in that shape (or there are none)."""
    if depth == 0:
        coords, depth = [coords], 1
    if not isinstance(coords, list | tuple) or not coords:
        return None
    try:
        arr = np.asarray(coords)
    except ValueError:   # ragged: polygons with rings of different lengths
        arr = None
    if arr is not None and arr.ndim == depth + 1 and arr.dtype.kind in "iuf" and arr.shape[-1] >= 2 \
            and arr.size:
        pairs = arr.reshape(-1, arr.shape[-1])[:, :2].astype(float)
        return pairs if np.isfinite(pairs).all() else None
    if depth == 1:
        return None
    parts = [_positions(part, depth - 1) for part in coords]
    return None if any(p is None for p in parts) else np.concatenate(parts)  # type: ignore[arg-type]


def _geometries(obj: Any) -> Iterator[dict[str, Any]]:
    """The geometries (of a known type) inside any GeoJSON value."""
    if isinstance(obj, list):
        for item in obj:
            yield from _geometries(item)
    elif isinstance(obj, dict):
        kind = obj.get("type")
        if kind in GEOMETRY_TYPES:
            yield obj
        elif kind == "GeometryCollection":
            yield from _geometries(obj.get("geometries") or [])
        elif kind == "Feature" or "geometry" in obj:
            yield from _geometries(obj.get("geometry"))
        elif isinstance(obj.get("features"), list):
            yield from _geometries(obj["features"])


def _advice(raw: list[dict[str, Any] | None], drops: Counter[str], examples: dict[str, str],
            id_property: str | None) -> str:
    """What was found in a layer whose every feature was dropped, and what to change."""
    names = sorted({k for f in raw if f for k in f["properties"]})
    types = sorted({str((f.get("geometry") or {}).get("type")) for f in raw
                    if f and isinstance(f.get("geometry"), dict)})
    found = (f"the features have the properties {', '.join(names[:15]) or '(none)'}"
             f"{' ...' if len(names) > 15 else ''} and the geometry types {', '.join(types) or '(none)'}")
    worst = drops.most_common(1)[0][0]
    if worst == MISSING_ID:
        wanted = f"id_property {id_property!r} is on no feature" if id_property else "no feature has an id"
        return f"{wanted}; {found}: set id_property: to the property that holds the area code"
    if worst == OFF_PLANET:
        return (f"{found}; the coordinates are not degrees (e.g. {examples.get(OFF_PLANET)}): export "
                "the file as longitude / latitude (WGS-84, GCJ-02 or BD-09) and set crs:")
    return (f"{found}; expected Point, LineString, Polygon or MultiPolygon (Multi...) geometries with "
            "[lon, lat] coordinates: fix the export")


def _listing(drops: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in drops.most_common())


def _keys(props: dict[str, Any]) -> str:
    return "properties " + (", ".join(sorted(props)[:10]) or "(none)")


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "an empty object"
        if "type" in value:
            return f"an object of type {value['type']!r}"
        return f"an object with the keys {', '.join(sorted(map(str, value))[:10]) or '(none)'}"
    return f"a {type(value).__name__}"
