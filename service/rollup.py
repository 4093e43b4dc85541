"""Combining leaf facts into area values by the catalogue's rule, for every store alike.

A city's congestion index is not the mean of its districts' indices, its incident count
is the sum of its districts' counts, and its parking occupancy is Σ occupied / Σ
capacity: the indicator's :class:`~citybrain.catalogue.Rollup` says which. The same
function also computes a leaf area's own value when its facts come as several rows (the
lots of a district) or as inputs only (pollutant concentrations, occupied + capacity).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from citybrain.standards import aqi, tpi
from datasources.errors import BadQuery

if TYPE_CHECKING:
    from citybrain.catalogue import Rollup

Period = Literal["hour", "day"]
OUT_COLUMNS = ["area_id", "ts", "value", "members"]


class RollupError(BadQuery):
    """Leaf facts that cannot give the rule's value (an input neither a column nor known)."""


def combine(rows: pd.DataFrame, target: Mapping[str, str] | pd.Series, rule: Rollup, *,
            by_time: bool, period: Period = "hour", source: str = "rollup",
            window: timedelta | None = None) -> pd.DataFrame:
    """Area values from leaf rows: one row per target area (and per ``ts`` when ``by_time``).

    ``rows`` has area_id, ts, value and every column ``rule.references()`` names (the
    caller joins inputs that are other indicators). ``target`` maps each leaf area id to the
    area it counts towards; rows of other areas are left out. ``members`` counts the leaf
    rows that gave the value. For a latest read (``by_time`` false) ``ts`` is the newest
    of the group's rows, and only rows within ``window`` (one cadence) of it count: a district
    that has not reported this hour is left out of this hour's city value, not summed in
    with last hour's.
    """
    if rows.empty:
        return pd.DataFrame(columns=OUT_COLUMNS)
    if rule.method in FAST:
        return _fast(rows, target, rule, by_time, window)
    to = rows["area_id"].astype(str).map(target)
    rows = rows.assign(_to=to)[to.notna()]
    if rows.empty:
        return pd.DataFrame(columns=OUT_COLUMNS)
    if not by_time and (window is not None or rule.method == "latest"):
        newest = rows.groupby("_to")["ts"].transform("max")
        keep = rows["ts"] == newest if rule.method == "latest" or window is None \
            else rows["ts"] > newest - pd.Timedelta(window)
        rows = rows[keep | rows["ts"].isna()]
    keys = ["_to", "ts"] if by_time else ["_to"]
    frame = _inputs(rows, rule, source)
    groups = frame.groupby(keys, sort=False)
    value = _aggregate(frame, groups, rule, period)
    out = pd.DataFrame({"value": value})
    out["members"] = groups["_n"].sum()
    if not by_time:
        out["ts"] = groups["ts"].max() if "ts" in frame else pd.NaT
    out = out.reset_index().rename(columns={"_to": "area_id"})
    out["value"] = out["value"].astype(float).replace([np.inf, -np.inf], np.nan)
    return out[OUT_COLUMNS]


FAST = frozenset({"sum", "mean", "weighted_mean", "ratio"})


def combine_each(rows: pd.DataFrame, target: Mapping[str, str], rule: Rollup,
                 windows: Mapping[str, timedelta]) -> pd.DataFrame:
    """:func:`combine` of a latest read for several indicators with the same plain rule
    (``sum`` or ``mean``) at once: one pass over the batch instead of one per indicator.
    Returns indicator, area_id, ts, value, members."""
    if rows.empty:
        return pd.DataFrame(columns=["indicator", *OUT_COLUMNS])
    indicator = rows["indicator"].astype(str).to_numpy(dtype=object)
    to = rows["area_id"].astype(str).map(target).to_numpy(dtype=object)
    keyed = np.where(pd.notna(to), indicator + "\x1f" + to.astype(str), None)
    window = pd.Series(indicator).map({k: v.total_seconds() * 1e9 for k, v in windows.items()})
    out = _fast(rows, keyed, rule, False, window.to_numpy(dtype=float))
    parts = out["area_id"].str.split("\x1f", n=1, expand=True)
    return out.assign(indicator=parts[0], area_id=parts[1])[["indicator", *OUT_COLUMNS]]


def _fast(rows: pd.DataFrame, target: Mapping[str, str] | pd.Series | np.ndarray, rule: Rollup,
          by_time: bool, window: timedelta | np.ndarray | None) -> pd.DataFrame:
    """The additive rules with numpy: sums over integer group codes (the pages' hot path).
    ``target`` may be the group of every row already; ``window`` one per row (ns)."""
    to = target if isinstance(target, np.ndarray) else \
        rows["area_id"].astype(str).map(target).to_numpy(dtype=object)
    pick = np.flatnonzero(pd.notna(to))
    stamps = pd.DatetimeIndex(rows["ts"]).as_unit("ns")
    ns = stamps.asi8
    to_codes, to_ids = pd.factorize(to[pick])
    if not by_time and window is not None and len(pick):
        newest = np.full(len(to_ids), np.iinfo(np.int64).min)
        np.maximum.at(newest, to_codes, ns[pick])
        span = window[pick] if isinstance(window, np.ndarray) else window.total_seconds() * 1e9
        keep = ns[pick] > newest[to_codes] - span
        pick, to_codes = pick[keep], to_codes[keep]
    if by_time:
        ts_codes, ts_values = pd.factorize(stamps[pick])
        key = to_codes * len(ts_values) + ts_codes
        size = len(to_ids) * len(ts_values)
    else:
        key, size = to_codes, len(to_ids)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=values, minlength=size)

    def column(name: str) -> np.ndarray:
        if name not in rows.columns:
            raise RollupError("rollup", f"rollup {rule.method!r} needs {name!r}, which the rows do not have")
        return pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)[pick]

    value = (rows["value"].to_numpy(dtype=float, na_value=np.nan)[pick] if "value" in rows
             else np.full(len(pick), np.nan))
    if rule.method == "ratio":
        num, den = column(str(rule.numerator)), column(str(rule.denominator))
        ok = ~(np.isnan(num) | np.isnan(den))
        top, bottom = total(np.where(ok, num, 0.0)), total(np.where(ok, den, 0.0))
        out = np.divide(top, bottom, out=np.full(size, np.nan), where=bottom != 0) * rule.scale
    elif rule.method == "weighted_mean":
        w = column(str(rule.by))
        ok = ~(np.isnan(value) | np.isnan(w))
        top, bottom = total(np.where(ok, value * w, 0.0)), total(np.where(ok, w, 0.0))
        out = np.divide(top, bottom, out=np.full(size, np.nan), where=bottom != 0)
    else:
        ok = ~np.isnan(value)
        top = total(np.where(ok, value, 0.0))
        count = total(ok.astype(float))
        out = top if rule.method == "sum" else np.divide(top, count, out=np.full(size, np.nan), where=count > 0)
        out = np.where(count > 0, out, np.nan)
    members = total(ok.astype(float)).astype(int)
    if by_time:
        area = np.repeat(np.asarray(to_ids, dtype=object), len(ts_values))
        present = np.flatnonzero(np.bincount(key, minlength=size) > 0)
        stamps = ts_values.take(present % len(ts_values))   # keeps the time zone, no object array
        data = pd.DataFrame({"area_id": area[present], "ts": stamps,
                             "value": out[present], "members": members[present]})
    else:
        last = np.full(len(to_ids), np.iinfo(np.int64).min)
        np.maximum.at(last, to_codes, ns[pick])
        newest = pd.to_datetime(last, unit="ns", utc=True) if len(last) else pd.DatetimeIndex([], tz=UTC)
        data = pd.DataFrame({"area_id": np.asarray(to_ids, dtype=object), "ts": newest,
                             "value": out, "members": members})
    data["value"] = data["value"].replace([np.inf, -np.inf], np.nan)
    return data[OUT_COLUMNS]


def _inputs(rows: pd.DataFrame, rule: Rollup, source: str) -> pd.DataFrame:
    """The numeric columns the rule needs, with a count column ``_n`` of contributing rows."""
    wanted: dict[str, str] = {"value": "value"}
    if rule.method == "weighted_mean":
        wanted["_w"] = str(rule.by)
    elif rule.method == "ratio":
        wanted["_num"], wanted["_den"] = str(rule.numerator), str(rule.denominator)
    elif rule.method == "standard":
        wanted.update({f"_in_{k}": v for k, v in rule.inputs.items()})
    missing = [theirs for ours, theirs in wanted.items() if ours != "value" and theirs not in rows.columns]
    if missing:
        raise RollupError(source, f"rollup {rule.method!r} needs {', '.join(map(repr, missing))}, "
                                  f"which the rows do not have (they have "
                                  f"{', '.join(c for c in rows.columns if not c.startswith('_'))})")
    out = rows[["_to", "ts"]].copy()
    for ours, theirs in wanted.items():
        column = rows[theirs] if theirs in rows.columns else pd.Series(np.nan, index=rows.index)
        if ours == "_in_road_class":
            out[ours] = column.astype(str).to_numpy()
        else:
            out[ours] = pd.to_numeric(column, errors="coerce").to_numpy(float)
    out["_n"] = _contributes(out, rule).astype(int)
    return out


def _contributes(frame: pd.DataFrame, rule: Rollup) -> pd.Series:
    if rule.method == "weighted_mean":
        return frame["value"].notna() & frame["_w"].notna()
    if rule.method == "ratio":
        return frame["_num"].notna() & frame["_den"].notna()
    if rule.method == "standard":
        cols = [c for c in frame.columns if c.startswith("_in_") and c != "_in_road_class"]
        return frame[cols].notna().any(axis=1)
    return frame["value"].notna()


def _aggregate(frame: pd.DataFrame, groups: pd.api.typing.DataFrameGroupBy, rule: Rollup,
               period: Period) -> pd.Series:
    m = rule.method
    if m == "sum":
        return groups["value"].sum(min_count=1)
    if m in ("mean", "latest"):
        return groups["value"].mean()
    if m == "max":
        return groups["value"].max()
    if m == "min":
        return groups["value"].min()
    if m == "weighted_mean":
        ok = frame["_n"] > 0
        frame = frame.assign(_vw=np.where(ok, frame["value"] * frame["_w"], 0.0),
                             _w=np.where(ok, frame["_w"], 0.0))
        g = frame.groupby(groups.keys, sort=False)
        return _divide(g["_vw"].sum(), g["_w"].sum())
    if m == "ratio":
        ok = frame["_n"] > 0
        frame = frame.assign(_num=np.where(ok, frame["_num"], 0.0), _den=np.where(ok, frame["_den"], 0.0))
        g = frame.groupby(groups.keys, sort=False)
        return _divide(g["_num"].sum(), g["_den"].sum()) * rule.scale
    if rule.standard == "aqi":
        return _aqi(groups, rule, period)
    return _tpi(frame, groups, rule)


def _divide(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den != 0)).astype(float)


def _aqi(groups: pd.api.typing.DataFrameGroupBy, rule: Rollup, period: Period) -> pd.Series:
    """HJ 633-2012 from the area's mean concentrations: hourly AQI from 1-hour means, daily
    AQI from 24-hour means (the caller's rows are already means over the step)."""
    means = {k: groups[f"_in_{k}"].mean().to_numpy(float) for k in rule.inputs}
    index = groups[f"_in_{next(iter(rule.inputs))}"].mean().index
    if period == "day":
        values = aqi.daily_aqi_array(**means)
    else:
        values = aqi.hourly_aqi_array(**means)
    return pd.Series(np.asarray(values, dtype=float), index=index)


def _tpi(frame: pd.DataFrame, groups: pd.api.typing.DataFrameGroupBy, rule: Rollup) -> pd.Series:
    """GB/T 33171-2016: the share of vehicle-km on moderately or severely congested segments
    (given as ``congested`` / ``total``, or from segment ``speed`` and ``road_class``)."""
    if "_in_speed" in frame:
        length = frame["_in_length"].fillna(1.0) if "_in_length" in frame else 1.0
        flow = frame["_in_flow"].fillna(1.0) if "_in_flow" in frame else 1.0
        vkt = np.asarray(length * flow, dtype=float) * np.ones(len(frame))
        speed = frame["_in_speed"].to_numpy(float)
        known = ~np.isnan(speed)
        level = np.zeros(len(frame))
        level[known] = tpi.segment_level(speed[known], frame["_in_road_class"].to_numpy()[known])
        frame = frame.assign(_in_congested=np.where(known, vkt * (level >= 4), 0.0),
                             _in_total=np.where(known, vkt, 0.0))
    elif "_in_total" not in frame:
        raise RollupError("rollup", "tpi from 'congested' also needs 'total' (all vehicle-km)")
    g = frame.groupby(groups.keys, sort=False)
    share = _divide(g["_in_congested"].sum(), g["_in_total"].sum())
    return pd.Series(np.round(np.asarray(tpi.tpi_from_congested_share(share.fillna(np.nan).to_numpy()),
                                         dtype=float), 2), index=share.index).where(share.notna())
