"""The check for a new site: ``python -m service.check [--config FILE] [--json]`` (also
``python -m citybrain check``).

It loads the config, builds a :class:`~service.data.DataService`, reads every
indicator's binding once at its leaf level and reports, in words an operator can act on:
the area hierarchy (root, areas per level, rows left out and why), per indicator what was
read (rows, area ids against the hierarchy, newest time against the cadence, the roll-up
and the city value it gives) and per map layer what was kept and dropped. Every problem
names the binding or key to change. Exit code: 0 without problems, 1 with, 2 when the
config itself cannot be used.

The cheap part ``/health`` uses (each indicator's last live read) is
:class:`service.outcomes.ReadOutcomes`.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from citybrain.numbers import format_number
from datasources.base import LiveCheck, utcnow
from datasources.errors import DataSourceError
from datasources.validation import Plausibility, RejectCounter

from .check_text import local_time as _local
from .check_text import plural as _plural
from .check_text import short as _short
from .check_text import span, what_to_check

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator
    from citybrain.config import Config

    from .data import DataService
    from .hierarchy import Hierarchy

STALE_CADENCES = 3   # newest value older than this many cadences: STALE
LISTED = 5           # ids listed per kind (unknown, no value)
QUERY_KEYS = ("latest", "series", "path", "json_path")   # texts shortened in the report


# --- the check --------------------------------------------------------------------------------
def role_source(config: Config, role: str) -> str:
    """The datasource serving ``role`` (areas, events, layers), as the data service picks it."""
    named = getattr(config.roles, role)
    if named:
        return str(named)
    simulated = [n for n, ds in config.datasources.items() if ds.type == "simulator"]
    return simulated[0] if simulated else next(iter(config.datasources))


def run_check(config: Config, service: DataService) -> dict[str, Any]:
    """The whole report as JSON-ready data; ``report["problems"]`` lists every problem."""
    areas, hier = check_areas(config, service)
    indicators = [check_indicator(config, service, hier, n, ind)
                  for n, ind in enumerate(config.indicators)]
    layers = check_layers(config, service)
    problems = [*areas["problems"], *(p for i in indicators for p in i["problems"]),
                *(p for lay in layers["layers"] for p in lay["problems"]), *layers["problems"]]
    return {"checked_at": utcnow().isoformat(), "city": {"id": config.city.id, "name_zh": config.city.name_zh,
                                                          "name_en": config.city.name_en},
            "areas": areas, "indicators": indicators, "layers": layers, "problems": problems}


def check_areas(config: Config, service: DataService) -> tuple[dict[str, Any], Hierarchy | None]:
    """The hierarchy's root, areas per level and the rows left out, with what to change."""
    name = role_source(config, "areas")
    out: dict[str, Any] = {"source": name, "type": config.datasources[name].type, "problems": []}
    try:
        frame = service.sources[name].areas()
    except DataSourceError as exc:
        frame = None
        out["problems"].append(f"areas: cannot read the area hierarchy from datasource {name}: {exc.message}")
    if frame is not None and frame.error:
        out["problems"].append(f"areas: cannot read the area hierarchy from datasource {name}: {frame.error}")
    hier = service.hierarchy() if frame is not None and not frame.error else None
    if hier is None:
        return out, None
    words = {lv: lv for lv in ("city", "district", "street", "grid")} | dict(config.city.level_names)
    from_store = any(words.get(w, words.get(w.lower())) == "city" for w in hier.words)
    out.update(root=hier.root_id, root_from="store" if from_store else "city.id",
               levels={lv: len(hier.by_level.get(lv, [])) for lv in ("city", "district", "street", "grid")},
               rows=int(sum(hier.words.values())), left_out=hier.dropped, words=dict(hier.words))
    out["problems"] += [f"areas ({name}): {p}" for p in hier.problems]
    if len(hier.areas) <= 1 and not hier.problems:
        out["problems"].append(f"areas ({name}): no area below the root {hier.root_id}: check the areas "
                               f"table / key of datasource {name} and city.level_names")
    return out, hier


def check_indicator(config: Config, service: DataService, hier: Hierarchy | None, n: int,
                    ind: Indicator) -> dict[str, Any]:
    """One indicator: its binding read once at the leaf level, held against the hierarchy."""
    source = ind.binding.source
    kind = config.datasources[source].type
    where = f"indicators[{n}] ({ind.id}).binding"
    leaf = service.derive.leaf(ind)
    params = ind.binding.params()
    out: dict[str, Any] = {
        "id": ind.id, "name_zh": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit,
        "binding": {"source": source, "adapter": kind,
                    **{k: (_short(v) if k in QUERY_KEYS else v) for k, v in params.items()}},
        "leaf_level": leaf, "cadence_seconds": ind.cadence, "rollup": _rule(ind), "problems": []}
    problems: list[str] = out["problems"]
    try:
        frame = service.sources[source].latest([ind], leaf)
    except DataSourceError as exc:
        problems.append(f"{where}: reading {source} ({kind}) at {leaf} failed: {exc.message}: correct "
                        f"{what_to_check(params)}")
        return out
    if frame.error:
        problems.append(f"{where}: reading {source} ({kind}) at {leaf} failed: {frame.error}: check "
                        f"{what_to_check(params)}")
    rows = frame.data[frame.data["indicator"] == ind.id] if not frame.data.empty else frame.data
    rows = _plausible(rows, ind, source, where, out, problems)
    live = _live_problems(service, kind, source, ind, leaf)
    problems += [f"{where}: {p}" for p in live]
    out["rows"] = len(rows)
    if rows.empty:
        if not live and not frame.error:
            problems.append(f"{where}: returned nothing at level {leaf}: check {what_to_check(params)} "
                            f"(does the {kind} store hold rows there at this level?)")
        return out
    out.update(_ids(rows, hier, leaf, where, problems))
    out.update(_freshness(rows, ind, config.city.timezone, where, problems))
    if hier is not None:
        out["city_value"] = _city_value(service, hier, ind, leaf, rows, config.city.timezone, where, problems)
    return out


def _plausible(rows: pd.DataFrame, ind: Indicator, source: str, where: str, out: dict[str, Any],
               problems: list[str]) -> pd.DataFrame:
    """``rows`` without the values ``ind`` cannot take, each reason named as a problem (the
    pages never show or score them, so a wrong column or unit shows as gaps)."""
    counted = RejectCounter()
    kept = Plausibility([ind], counted).check(rows, source=source, what="check")
    low, high = ind.bounds
    for reasons in counted.to_json().values():
        out["rejected"] = reasons
        problems += [f"{where}: {n} value(s) rejected, {reason} (valid {format_number(low, ind.decimals)} to "
                     f"{format_number(high, ind.decimals)}): check the column and unit the binding reads, or the "
                     f"indicator's valid range" for reason, n in reasons.items()]
    return kept


def _live_problems(service: DataService, kind: str, source: str, ind: Indicator, leaf: str) -> list[str]:
    if kind != "redis":
        return []
    store = service.sources[source].source
    return list(store.check_binding_live(ind, leaf)) if isinstance(store, LiveCheck) else []


def _ids(rows: pd.DataFrame, hier: Hierarchy | None, leaf: str, where: str,
         problems: list[str]) -> dict[str, Any]:
    found = set(rows["area_id"].astype(str))
    if hier is None:
        return {"area_ids": len(found)}
    known = hier.ids_at(leaf)
    unknown = sorted(found - known)
    no_value = sorted(known - found)
    names = dict(zip(hier.areas["id"].astype(str), hier.areas["name_zh"].astype(str), strict=True))
    if unknown:
        problems.append(
            f"{where}: {len(unknown)} of {len(found)} area id(s) at level {leaf} are not among the "
            f"hierarchy's {len(known)} {leaf} areas (e.g. {', '.join(unknown[:LISTED])}): check "
            f"binding.columns.area_id and binding.level, or the region table and city.level_names")
    return {"area_ids": len(found), "hierarchy_ids": len(known), "unknown_ids": unknown[:LISTED],
            "unknown_count": len(unknown), "no_value": [f"{a} ({names.get(a, a)})" for a in no_value[:LISTED]],
            "no_value_count": len(no_value)}


def _freshness(rows: pd.DataFrame, ind: Indicator, zone: str, where: str,
               problems: list[str]) -> dict[str, Any]:
    stamps = pd.to_datetime(rows["ts"], utc=True, errors="coerce")
    if stamps.isna().all():
        problems.append(f"{where}: the rows carry no time, so their age cannot be judged: map binding "
                        f"columns.ts (or ts_key / ts_field for Redis)")
        return {"newest": None}
    newest = stamps.max()
    age = (pd.Timestamp(utcnow()) - newest).to_pytimedelta()
    limit = timedelta(seconds=STALE_CADENCES * ind.cadence)
    if age > limit:
        cadence = _span(timedelta(seconds=ind.cadence))
        problems.append(f"{where}: STALE: the newest value is from {_local(newest, zone)}, {_span(age)} old, "
                        f"more than {STALE_CADENCES} cadences ({STALE_CADENCES} × {cadence}): "
                        f"check that the platform still writes it, or set cadence_seconds")
    if age < -timedelta(minutes=5):
        problems.append(f"{where}: the newest value is {_span(-age)} in the future ({_local(newest, zone)}): "
                        f"check the datasource's timezone")
    return {"newest": newest.isoformat(), "newest_local": _local(newest, zone),
            "age_seconds": round(age.total_seconds()), "stale": age > limit}


def _city_value(service: DataService, hier: Hierarchy, ind: Indicator, leaf: str, rows: pd.DataFrame,
                zone: str, where: str, problems: list[str]) -> dict[str, Any]:
    from citybrain.numbers import format_number

    frame = service.latest([ind.id], "city")
    got = frame.data[frame.data["indicator"] == ind.id] if not frame.data.empty else frame.data
    if ind.id in frame.missing or got.empty:
        why = frame.missing.get(ind.id) or "no leaf row maps to the city"
        if not any("not among the hierarchy" in p for p in problems):   # said once is enough
            problems.append(f"{where}: gives no city value: {why}")
        return {"value": None, "text": "—", "derived": why}
    row = got.iloc[0]
    value = None if pd.isna(row["value"]) else float(row["value"])
    text = format_number(value, ind.decimals)
    when = _local(pd.Timestamp(row["ts"]), zone) if pd.notna(row["ts"]) else "no time"
    if service.derive.plan(ind, "city").direct or leaf == "city":
        derived = f"the store's own city value at {when}"
    else:
        k, total = _members(rows, hier, ind, leaf)
        derived = f"{_rule(ind)['method']} of {k} of {total} {_plural(leaf)} at {when}"
    if value is None:
        problems.append(f"{where}: the city value is empty ({derived}): check the values and roll-up inputs")
    return {"value": value, "text": f"{text} {ind.unit}".strip() if value is not None else text,
            "derived": derived}


def _members(rows: pd.DataFrame, hier: Hierarchy, ind: Indicator, leaf: str) -> tuple[int, int]:
    """How many leaf areas count in the city value (within one cadence of the newest), of all."""
    under = hier.up(leaf, "city")
    rows = rows[rows["area_id"].astype(str).isin(under)]
    stamps = pd.to_datetime(rows["ts"], utc=True, errors="coerce")
    if stamps.notna().any():
        newest = stamps.max()
        keep = stamps == newest if ind.rollup.method == "latest" \
            else stamps > newest - pd.Timedelta(seconds=ind.cadence)
        rows = rows[keep | stamps.isna()]
    rule = ind.rollup
    cols = {"ratio": [rule.numerator, rule.denominator], "standard": list(rule.inputs.values())}.get(
        rule.method, ["value"] + ([rule.by] if rule.by else []))
    present = [c for c in cols if c in rows.columns]
    if not present:
        return 0, len(under)
    ok = rows[present].notna().any(axis=1) if rule.method == "standard" else rows[present].notna().all(axis=1)
    return rows.loc[ok, "area_id"].astype(str).nunique(), len(under)


def check_layers(config: Config, service: DataService) -> dict[str, Any]:
    """Every map layer the layers role's source offers: features read, kept, dropped."""
    name = role_source(config, "layers")
    ds = config.datasources[name]
    crs = ds.options().get("crs", "wgs84")
    out: dict[str, Any] = {"source": name, "type": ds.type, "crs": crs, "layers": [], "problems": []}
    if ds.type == "simulator":
        from datasources.simulator.layers import NAMES
        names = list(NAMES)
    else:
        offered = ds.options().get("layers") or {}
        names = list(offered) if isinstance(offered, dict) else []
    for layer in names:
        key = f"datasources.{name}.layers.{layer}"
        entry: dict[str, Any] = {"name": layer, "problems": []}
        out["layers"].append(entry)
        try:
            frame = service.layer(layer)
        except DataSourceError as exc:
            entry["problems"].append(f"{key}: {exc.message}")
            continue
        if frame.error:
            entry["problems"].append(f"{key}: {frame.error}")
            continue
        counts = frame.data.get("counts") or {}
        kept = len(frame.data.get("features", []))
        dropped = dict(counts.get("dropped") or {})
        entry.update(read=counts.get("read", kept), kept=kept, dropped=dropped,
                     id_property=counts.get("id_property"), ids_by_position=counts.get("ids_by_position", 0))
        if dropped:
            listing = ", ".join(f"{v} {k}" for k, v in dropped.items())
            entry["problems"].append(f"{key}: {sum(dropped.values())} feature(s) dropped ({listing}): fix the "
                                     f"export, or set id_property / crs")
        if kept == 0:
            entry["problems"].append(f"{key}: the layer has no features: check its file / key")
    return out


def _rule(ind: Indicator) -> dict[str, Any]:
    rule = ind.rollup
    out: dict[str, Any] = {"method": rule.method if rule.method != "standard" else str(rule.standard),
                           **{k: getattr(rule, k) for k in ("by", "numerator", "denominator") if getattr(rule, k)}}
    if rule.method == "ratio" and rule.scale != 1:
        out["scale"] = rule.scale
    return out | ({"inputs": dict(rule.inputs)} if rule.inputs else {})


def _span(delta: timedelta) -> str:
    return span(delta.total_seconds())


def cli(argv: list[str] | None = None, prog: str = "python -m service.check") -> int:
    """``[--config FILE] [--json]``: parse the arguments and run :func:`main`."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description="Read every binding of the config once and report "
                                                            "the areas, indicators and map layers, with what to fix.")
    parser.add_argument("--config", help="the config file (default: $CITYBRAIN_CONFIG, else the shipped one)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    return main(args.config, as_json=args.json)


def main(config_path: str | None = None, *, as_json: bool = False, out: TextIO | None = None) -> int:
    """Run the check and print it; the exit code: 0 clean, 1 problems, 2 config error."""
    import json

    from flask_caching.backends import SimpleCache

    from citybrain.config import DEFAULT_CONFIG, ConfigError
    from datasources.registry import load_checked

    from .check_text import render
    from .data import DataService

    out = out or sys.stdout
    for name in ("datasources", "service"):
        logging.getLogger(name).setLevel(logging.ERROR)   # the report says what failed
    try:
        config = load_checked(config_path)
        service = DataService(config, backend=SimpleCache(threshold=5000))   # read the stores, not a cache
    except (ConfigError, DataSourceError) as exc:
        message = str(exc)
        if as_json:
            print(json.dumps({"config_error": message}, ensure_ascii=False, indent=2), file=out)
        else:
            print(message, file=sys.stderr if out is sys.stdout else out)
        return 2
    report = {"config": str(config_path or os.environ.get("CITYBRAIN_CONFIG") or DEFAULT_CONFIG),
              **run_check(config, service)}
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str), file=out)
    else:
        print(render(report), file=out)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(cli())
