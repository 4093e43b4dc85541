"""The cockpit's YAML config: datasources, cache, city and the indicator catalogue.

``load_config(path)`` parses and validates one file (pure: it builds no adapter; whoever
builds the data service asks the adapter registry to check the bindings, see
``datasources.registry.load_checked``). Any problem raises
:class:`ConfigError` whose message names the file, the key path, what was expected
and what was found, e.g.::

    config/city.yaml: indicators[3].warn: expected a number, found 'high'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, PositiveInt, ValidationError, field_validator, model_validator

from .catalogue import Catalogue, Indicator, Level, Strict
from .security import Security

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "default.yaml"


class ConfigError(Exception):
    """A config file that cannot be used; the message says where and why."""


class City(Strict):
    """The city the cockpit watches."""

    id: str = Field(default="city", min_length=1)   # the root area's id when the store has no root row
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    # the platform's own level words → ours, e.g. {county: district, 区县: district, 街道: street}
    level_names: dict[str, Level] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone such as 'Asia/Shanghai', found {value!r}") from None
        return value


class DataSourceConfig(Strict):
    """One datasource: ``type`` picks the adapter; the other keys are its own."""

    model_config = Strict.model_config | {"extra": "allow"}

    type: str

    def options(self) -> dict[str, Any]:
        """The adapter's own keys."""
        return dict(self.model_extra or {})


class CacheConfig(Strict):
    """Where read results are cached and how long a read may take."""

    backend: Literal["simple", "redis", "none"] = "simple"   # none: every read hits the store
    redis_url: str | None = None
    redis_url_env: str | None = None
    key_prefix: str = "citybrain:"
    read_timeout_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _redis_needs_url(self) -> CacheConfig:
        if self.backend == "redis" and not self.redis_url:
            raise ValueError("expected redis_url (or CITYBRAIN_REDIS_URL) with backend 'redis', "
                             "found none")
        return self


class Heartbeat(Strict):
    """The heartbeat page: pulse window, tick and the index's status bands."""

    window_minutes: PositiveInt = 60
    tick_seconds: float = Field(default=5, ge=0.1)   # fractions for soak runs
    good_from: float = Field(default=80, ge=0, le=100)
    warn_from: float = Field(default=60, ge=0, le=100)
    ticker_events: PositiveInt = 12
    share_ticks: bool = True   # screens ticking in the same second share one computed tick
    stale_after: float = Field(default=3, ge=1)   # data is stale once this many refreshes old

    @model_validator(mode="after")
    def _bands_ordered(self) -> Heartbeat:
        if self.warn_from > self.good_from:
            raise ValueError(
                f"expected warn_from at or below good_from, found warn_from={self.warn_from} and "
                f"good_from={self.good_from}"
            )
        return self


class Roles(Strict):
    """Which datasource serves the area hierarchy, the events and the map layers.

    Left out, each is the simulator when there is one, else the first datasource.
    """

    areas: str | None = None
    events: str | None = None
    layers: str | None = None


SQL_NAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"
GEOMETRY_COLUMNS = ("id", "geometry", "name_zh", "name_en", "road_class", "area_id", "length_km")
SPEED_COLUMNS = ("id", "ts", "speed", "level", "flow")
RoadClass = Literal["expressway", "arterial", "secondary", "branch"]


class SegmentTable(Strict):
    """A table of the segment store and its columns, ours -> theirs."""

    table: str = Field(pattern=SQL_NAME)
    columns: dict[str, str]

    @field_validator("columns")
    @classmethod
    def _column_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [f"{k}: {v!r}" for k, v in value.items() if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(v))]
        if bad:
            raise ValueError(f"expected column names (letters, digits and _), found {', '.join(bad)}")
        return value


class Segments(Strict):
    """Road congestion from a platform's segment table (read by service.segments):
    the map layer ``layer`` and its live attributes, levels per GB/T 33171."""

    source: str
    layer: str = "roads"
    cadence_seconds: PositiveInt = 300   # a speed older than this before the newest is not current
    geometry: SegmentTable
    speeds: SegmentTable
    road_classes: dict[str, RoadClass] = Field(default_factory=dict)   # the platform's words -> ours

    @model_validator(mode="after")
    def _columns_known(self) -> Segments:
        for key, allowed, needed in (("geometry", GEOMETRY_COLUMNS, ("id", "geometry")),
                                     ("speeds", SPEED_COLUMNS, ("id", "ts"))):
            columns = getattr(self, key).columns
            unknown = sorted(set(columns) - set(allowed))
            if unknown:
                raise _AtPath(f"map.segments.{key}.columns", f"only the keys {', '.join(allowed)}, "
                              f"found {', '.join(unknown)}")
            missing = [c for c in needed if c not in columns]
            if missing:
                raise _AtPath(f"map.segments.{key}.columns", f"the column(s) {', '.join(missing)}, found none")
        if not {"speed", "level"} & set(self.speeds.columns):
            raise _AtPath("map.segments.speeds.columns", "speed (km/h) or level (GB/T 33171, 1-5), found neither")
        if "level" not in self.speeds.columns and "road_class" not in self.geometry.columns:
            raise _AtPath("map.segments.geometry.columns", "road_class (a level follows from speed and "
                          "road class), found none")
        return self


class MapConfig(Strict):
    """The map page. No tile server by default: the basemap is the city's own GeoJSON.

    ``tile_url`` names a site's own tile server (``http://tiles.local/{z}/{x}/{y}.png``);
    ``segments`` where road congestion comes from when not the layers source.
    """

    tile_url: str | None = None
    tile_attribution: str = ""
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    segments: Segments | None = None


class PlaylistItem(Strict):
    """One screen of a wall playlist: a page of the cockpit and how long it stays."""

    url: str = Field(pattern=r"^/")
    dwell_seconds: PositiveInt = 60


class Config(Strict):
    """The whole config file."""

    city: City
    datasources: dict[str, DataSourceConfig] = Field(min_length=1)
    roles: Roles = Roles()
    cache: CacheConfig = CacheConfig()
    heartbeat: Heartbeat = Heartbeat()
    map: MapConfig = MapConfig()
    playlists: dict[str, list[PlaylistItem]] = {}
    security: Security = Security()
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> Config:
        for role in ("areas", "events", "layers"):
            name = getattr(self.roles, role)
            if name is not None and name not in self.datasources:
                raise _AtPath(f"roles.{role}", f"one of the datasources {sorted(self.datasources)}"
                                               f", found {name!r}")
        segments = self.map.segments
        if segments is not None:
            kind = self.datasources[segments.source].type if segments.source in self.datasources else None
            if kind != "sql":
                raise _AtPath("map.segments.source", f"a datasource of type sql {sorted(self.datasources)}, "
                              f"found {segments.source!r}" + (f" of type {kind}" if kind else ""))
        seen: dict[str, int] = {}
        for n, ind in enumerate(self.indicators):
            if ind.id in seen:
                raise _AtPath(f"indicators[{n}].id", f"a unique id, found {ind.id!r} again "
                              f"(first at indicators[{seen[ind.id]}])")
            seen[ind.id] = n
        for n, ind in enumerate(self.indicators):
            if ind.binding.source not in self.datasources:
                raise _AtPath(f"indicators[{n}].binding.source",
                              f"one of the datasources {sorted(self.datasources)}, "
                              f"found {ind.binding.source!r}")
            if ind.history is not None and ind.history.source not in self.datasources:
                raise _AtPath(f"indicators[{n}].history.source",
                              f"one of the datasources {sorted(self.datasources)}, "
                              f"found {ind.history.source!r}")
            if ind.rollup.by == ind.id:
                raise _AtPath(f"indicators[{n}].rollup.by",
                              f"another indicator or a column to weigh by, found the indicator itself ({ind.id!r})")
        if not any(i.weight > 0 for i in self.indicators):
            raise _AtPath("indicators", "at least one indicator with weight > 0 "
                          "(the city operation index is their weighted mean), found none")
        return self

    @property
    def catalogue(self) -> Catalogue:
        """The indicators as a :class:`Catalogue`."""
        return Catalogue(self.indicators)


class _AtPath(ValueError):
    """A cross-reference error that knows its own key path."""

    def __init__(self, path: str, expected: str) -> None:
        super().__init__(expected)
        self.path = path


def config_file(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The config file to read: ``path`` > ``CITYBRAIN_CONFIG`` > the shipped default."""
    env = os.environ if env is None else env
    return Path(path or env.get("CITYBRAIN_CONFIG") or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file.

    ``path`` > ``CITYBRAIN_CONFIG`` > the shipped default. ``CITYBRAIN_REDIS_URL``
    in ``env`` switches the cache to Redis.
    """
    env = os.environ if env is None else env
    file = config_file(path, env)
    raw = _read_yaml(file)
    cache = raw.get("cache")
    url_env = cache.get("redis_url_env") if isinstance(cache, dict) else None
    if isinstance(url_env, str) and env.get(url_env):
        raw["cache"] = {**cache, "redis_url": env[url_env]}
    redis_url = env.get("CITYBRAIN_REDIS_URL")
    if redis_url and isinstance(raw.get("cache", {}), dict):
        raw["cache"] = {**raw.get("cache", {}), "backend": "redis", "redis_url": redis_url}
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(file, exc)) from None
    return config


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (plain YAML keeps the
    last one silently, so a pasted indicator field would quietly override the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"found the key {key!r} twice (first at line {seen[key].line + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the config file: {exc}") from None
    try:
        raw = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{file}: not valid YAML at {where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: (top level): expected a mapping with keys city, datasources, "
                          f"indicators, found {_show(raw)}")
    return raw


def _describe(file: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        path = _key_path(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _AtPath):
            lines.append(f"{file}: {cause.path}: expected {cause}")
            continue
        lines.append(f"{file}: {path or '(top level)'}: {_expected(err)}")
    return "\n".join(lines)


def _expected(err: Mapping[str, Any]) -> str:
    kind, found = err["type"], err.get("input")
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return "expected a value, found nothing (the key is missing)"
    if kind == "extra_forbidden":
        return f"expected no such key (a typo?), found {_show(found)}"
    if kind in {"float_parsing", "float_type", "int_parsing", "int_type"}:
        return f"expected a number, found {_show(found)}"
    if kind == "value_error":
        text = msg if msg.startswith("expected") else f"expected {msg}"
        return text if "found" in text else f"{text}, found {_show(found)}"
    return f"expected {msg.removeprefix('Input should be ')}, found {_show(found)}"


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
