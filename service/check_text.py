"""The check's report (:mod:`service.check`) as text for a terminal."""

from __future__ import annotations

from typing import Any

import pandas as pd

LEVELS = ("city", "district", "street", "grid")


def render(report: dict[str, Any]) -> str:
    """The report as readable lines; problems marked ``PROBLEM`` where they arise, then a count."""
    city = report["city"]
    lines = [f"City Brain check: {report.get('config', 'config')}",
             f"city {city['name_zh']} / {city['name_en']} (city.id {city['id']})", ""]
    lines += _areas(report["areas"])
    lines += ["", f"Indicators ({len(report['indicators'])})"]
    for ind in report["indicators"]:
        lines += _indicator(ind)
    lines += [""] + _layers(report["layers"])
    n = len(report["problems"])
    lines += ["", f"{n} problem{'s' if n != 1 else ''}"]
    return "\n".join(lines)


def _areas(areas: dict[str, Any]) -> list[str]:
    lines = [f"Areas (datasource {areas['source']}, {areas['type']})"]
    if "root" in areas:
        whence = ("a row of the store" if areas["root_from"] == "store"
                  else "city.id: the store keeps no city row")
        lines.append(f"  root       {areas['root']} (from {whence})")
        counts = " · ".join(f"{lv} {areas['levels'][lv]}" for lv in LEVELS[1:])
        lines.append(f"  areas      {counts}")
        words = ", ".join(f"{w} {n}" for w, n in areas.get("words", {}).items()) or "none"
        lines.append(f"  rows       {areas['rows']} read (level words: {words}), {areas['left_out']} left out")
    lines += [f"  PROBLEM    {p}" for p in areas["problems"]]
    return lines


def _indicator(ind: dict[str, Any]) -> list[str]:
    b = ind["binding"]
    params = " ".join(f"{k}={compact(v)}" for k, v in b.items() if k not in ("source", "adapter"))
    lines = [f"  {ind['id']}  {ind['name_zh']} / {ind['name_en']}",
             f"    binding    {b['source']} ({b['adapter']}) {params}".rstrip()]
    leaf = ind["leaf_level"]
    if "rows" in ind:
        read = f"{ind['rows']} row(s) at level {leaf}"
        if "hierarchy_ids" in ind:
            read += (f", {ind['area_ids'] - ind['unknown_count']} of {ind['hierarchy_ids']} {leaf} ids of "
                     f"the hierarchy")
            if ind["unknown_count"]:
                read += f"; {ind['unknown_count']} unknown: {', '.join(ind['unknown_ids'])}"
                read += " …" if ind["unknown_count"] > len(ind["unknown_ids"]) else ""
        lines.append(f"    read       {read}")
        if ind.get("no_value_count"):
            more = " …" if ind["no_value_count"] > len(ind["no_value"]) else ""
            lines.append(f"    no value   {', '.join(ind['no_value'])}{more}")
    else:
        lines.append(f"    read       nothing at level {leaf}")
    cadence = span(ind["cadence_seconds"])
    if ind.get("newest_local"):
        lines.append(f"    newest     {ind['newest_local']} ({span(ind['age_seconds'])} old; cadence {cadence})"
                     + ("  STALE" if ind.get("stale") else ""))
    lines.append(f"    roll-up    {_rule(ind['rollup'])}")
    city = ind.get("city_value")
    if city is not None:
        lines.append(f"    city       {city['text']} = {city['derived']}")
    lines += [f"    PROBLEM    {p}" for p in ind["problems"]]
    return lines


def _layers(layers: dict[str, Any]) -> list[str]:
    lines = [f"Map layers (datasource {layers['source']}, {layers['type']}, crs {layers['crs']})"]
    if not layers["layers"]:
        lines.append("  none offered")
    for lay in layers["layers"]:
        if "kept" in lay:
            dropped = ", ".join(f"{n} {why}" for why, n in lay["dropped"].items()) or "none"
            ident = lay["id_property"] or "id"
            lines.append(f"  {lay['name']}: {lay['read']} feature(s) read, {lay['kept']} kept, dropped: "
                         f"{dropped}; id property {ident}")
        else:
            lines.append(f"  {lay['name']}: not read")
        lines += [f"    PROBLEM    {p}" for p in lay["problems"]]
    lines += [f"  PROBLEM    {p}" for p in layers["problems"]]
    return lines


def _rule(rule: dict[str, Any]) -> str:
    extra = [f"{k} {v}" for k, v in rule.items() if k not in ("method", "inputs")]
    if "inputs" in rule:
        extra.append("inputs " + ", ".join(k if k == v else f"{k}={v}" for k, v in rule["inputs"].items()))
    return rule["method"] + (f" ({'; '.join(extra)})" if extra else "")


def compact(value: Any) -> str:
    """A binding value on one line."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def span(seconds: float) -> str:
    """A duration in the largest unit that reads well (s, min, h, days)."""
    s = int(seconds)
    if abs(s) < 120:
        return f"{s} s"
    if abs(s) < 7200:
        return f"{s // 60} min"
    if abs(s) < 2 * 86400:
        return f"{s / 3600:.1f} h".replace(".0 h", " h")
    return f"{s / 86400:.1f} days"


def short(value: Any, size: int = 70) -> Any:
    """A long text (a SQL query) flattened and cut to ``size`` characters."""
    if not isinstance(value, str):
        return value
    flat = " ".join(value.split())
    return flat if len(flat) <= size else flat[:size - 1] + "…"


def local_time(ts: pd.Timestamp, zone: str) -> str:
    """A time as local ``YYYY-MM-DD HH:MM`` in ``zone``."""
    stamp = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return stamp.tz_convert(zone).strftime("%Y-%m-%d %H:%M")


def plural(level: str) -> str:
    """The plural of a level word."""
    return {"city": "cities", "district": "districts", "street": "streets", "grid": "grids"}.get(level, level)


def what_to_check(params: dict[str, Any]) -> str:
    """The binding keys that say where its rows are, with their values."""
    keys = [k for k in ("table", "key", "latest", "file", "path", "metric", "columns", "where")
            if k in params]
    return " or ".join(f"binding.{k} {compact(short(params[k]))}" for k in keys[:2]) or "the binding"
