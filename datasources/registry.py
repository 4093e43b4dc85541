"""Building adapters from the config: ``type:`` picks the class, the rest are its options.

Each adapter class offers ``check_options(options)`` and ``check_binding(indicator)``
returning problems as text, so a wrong config is refused at start-up with every
problem named, not at the first read.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path

from citybrain.config import Config, ConfigError, config_file, load_config

from .base import Adapter, DataSource
from .crs import SYSTEMS
from .files import FileSource
from .http import HttpSource
from .redis_source import RedisSource
from .simulator.adapter import SimulatorSource
from .sql import SqlSource

ADAPTER_TYPES: dict[str, type[Adapter]] = {
    "simulator": SimulatorSource,
    "redis": RedisSource,
    "http": HttpSource,
    "file": FileSource,
    "sql": SqlSource,
}


def load_checked(path: str | PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """:func:`citybrain.config.load_config` and then :func:`check_bindings`: the config an
    app or a command builds its data service from."""
    config = load_config(path, env)
    check_bindings(config, config_file(path, env))
    return config


def check_bindings(config: Config, file: str | Path = "config") -> None:
    """Ask each adapter type whether the bindings aimed at it can be answered; raise
    :class:`ConfigError` naming every problem (prefixed with ``file``)."""
    problems = [f"{file}: {p}" for p in binding_problems(config)]
    if problems:
        raise ConfigError("\n".join(problems))


def binding_problems(config: Config) -> list[str]:
    """Every problem with the datasources' options and the indicators' bindings."""
    problems: list[str] = []
    for name, ds in config.datasources.items():
        cls = ADAPTER_TYPES.get(ds.type)
        if cls is None:
            problems.append(f"datasources.{name}.type: expected one of "
                            f"{', '.join(sorted(ADAPTER_TYPES))}, found {ds.type!r}")
            continue
        options = ds.options()
        crs = options.pop("crs", "wgs84")
        if crs not in SYSTEMS:
            problems.append(f"datasources.{name}.crs: expected one of {', '.join(SYSTEMS)}, found {crs!r}")
        problems += [f"datasources.{name}.{p}" for p in cls.check_options(options)]
    for n, ind in enumerate(config.indicators):
        for key, binding in (("binding", ind.binding), ("history", ind.history)):
            if binding is None:
                continue
            cls = ADAPTER_TYPES.get(config.datasources[binding.source].type)
            if cls is not None:
                view = ind.model_copy(update={"binding": binding})
                problems += [f"indicators[{n}] ({ind.id}).{p}".replace(".binding.", f".{key}.")
                             for p in cls.check_binding(view)]
    return problems + reference_problems(config)


def reference_problems(config: Config) -> list[str]:
    """Roll-up inputs (``by``, ``numerator``, ``inputs`` ...) that are neither an indicator nor a
    column the binding gives, where the adapter can tell which columns it gives."""
    problems = []
    for n, ind in enumerate(config.indicators):
        cls = ADAPTER_TYPES.get(config.datasources[ind.binding.source].type)
        columns = cls.columns_of(ind) if cls is not None else None   # an unknown type is reported above
        if columns is None:
            continue
        rule = ind.rollup
        for key in ("by", "numerator", "denominator"):
            ref = getattr(rule, key)
            if ref and ref not in config.catalogue and ref not in columns:
                problems.append(_unknown_ref(n, ind.id, f"rollup.{key}", ref, columns))
        for name, ref in rule.inputs.items():
            if ref not in config.catalogue and ref not in columns:
                problems.append(_unknown_ref(n, ind.id, f"rollup.inputs.{name}", ref, columns))
    return problems


def _unknown_ref(n: int, ind: str, key: str, ref: str, columns: list[str]) -> str:
    gives = ", ".join(columns) if columns else "a value only"
    return (f"indicators[{n}] ({ind}).{key}: expected another indicator's id or a column of the "
            f"binding, found {ref!r}, which is neither another indicator nor a column (the binding "
            f"gives {gives})")


def build_sources(config: Config) -> dict[str, DataSource]:
    """One adapter per configured datasource, keyed by its name."""
    sources: dict[str, DataSource] = {}
    for name, ds in config.datasources.items():
        options = {k: v for k, v in ds.options().items() if k != "crs"}
        if ds.type == "sql":   # no statement may run longer than the site allows
            cap = config.security.limits.statement_timeout_ms
            options["statement_timeout_ms"] = min(int(options.get("statement_timeout_ms", cap)), cap)
        sources[name] = ADAPTER_TYPES[ds.type].from_config(name, options, config.city)
    return sources


def source_crs(config: Config) -> dict[str, str]:
    """The coordinate system each datasource declares (``crs:``, WGS-84 by default)."""
    return {name: ds.options().get("crs", "wgs84") for name, ds in config.datasources.items()}
