"""Building adapters from the config: ``type:`` picks the class, the rest are its options.

Each adapter class offers ``check_options(options)`` and ``check_binding(indicator)``
returning problems as text, so a wrong config is refused at start-up with every
problem named, not at the first read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import DataSource
from .crs import SYSTEMS
from .files import FileSource
from .http import HttpSource
from .redis_source import RedisSource
from .simulator.adapter import SimulatorSource
from .sql import SqlSource

if TYPE_CHECKING:
    from citybrain.config import Config

ADAPTER_TYPES: dict[str, Any] = {
    "simulator": SimulatorSource,
    "redis": RedisSource,
    "http": HttpSource,
    "file": FileSource,
    "sql": SqlSource,
}


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
                if cls is SimulatorSource and ind.rollup.by:   # the simulator weighs by the metric
                    weigher = config.catalogue.get(ind.rollup.by)
                    metric = weigher.binding.params().get("metric") if weigher.binding.source == binding.source \
                        else None
                    view = view.model_copy(update={"rollup": ind.rollup.model_copy(
                        update={"by": str(metric or ind.rollup.by)})})
                problems += [f"indicators[{n}] ({ind.id}).{p}".replace(".binding.", f".{key}.")
                             for p in cls.check_binding(view)]
    return problems


def build_sources(config: Config) -> dict[str, DataSource]:
    """One adapter per configured datasource, keyed by its name."""
    sources: dict[str, DataSource] = {}
    for name, ds in config.datasources.items():
        cls = ADAPTER_TYPES[ds.type]
        options = {k: v for k, v in ds.options().items() if k != "crs"}
        if cls is SimulatorSource:
            metric_of = {i.id: str(i.binding.params().get("metric")) for i in config.catalogue
                         if i.binding.source == name and i.binding.params().get("metric")}
            sources[name] = SimulatorSource(
                name, timezone=config.city.timezone, city_name_zh=config.city.name_zh,
                city_name_en=config.city.name_en, metric_of=metric_of, **options)
        else:
            sources[name] = cls(name, **options)
    return sources


def source_crs(config: Config) -> dict[str, str]:
    """The coordinate system each datasource declares (``crs:``, WGS-84 by default)."""
    return {name: ds.options().get("crs", "wgs84") for name, ds in config.datasources.items()}
