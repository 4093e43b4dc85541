"""The indicator catalogue: the single place that says what an indicator is.

Pages, KPI cards, drill-downs and the heartbeat are generated from it; adding an
indicator is a config change, not code. The models here are validated from the YAML
config by :mod:`citybrain.config`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

Domain = Literal["traffic", "safety", "environment", "energy", "facilities", "services", "economy"]
DOMAINS: tuple[Domain, ...] = (
    "traffic", "safety", "environment", "energy", "facilities", "services", "economy",
)
Level = Literal["city", "district", "street", "grid"]
RollupMethod = Literal["sum", "mean", "weighted_mean", "ratio", "max", "min", "latest", "standard"]
Standard = Literal["aqi", "tpi"]
LEVEL_ORDER: tuple[Level, ...] = ("city", "district", "street", "grid")
# what each standard computes from, by input name (a column of the binding's rows or an indicator)
STANDARD_INPUTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {   # (required one of, allowed)
    "aqi": (frozenset({"pm25", "pm10", "so2", "no2", "o3", "co"}),
            frozenset({"pm25", "pm10", "so2", "no2", "o3", "co"})),
    "tpi": (frozenset({"congested", "speed"}),
            frozenset({"congested", "total", "speed", "road_class", "length", "flow"})),
}
# Over time: ``mean`` for levels (an index, a speed), ``sum`` for rates per hour (a flow),
# ``daily_total`` for counters that restart at local midnight (alerts today): a day is
# its last value, an hour the rise within it, a month the sum of its days.
TimeRollup = Literal["mean", "sum", "max", "min", "latest", "daily_total"]
# no indicator measures beyond this magnitude: the bound of one without ``valid`` (a store's
# 1e308 is a fault, not a reading; a tile could not show it and the index would not survive it)
MAGNITUDE_LIMIT = 1e15


class Strict(BaseModel):
    """A config model that rejects unknown keys and is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Rollup(Strict):
    """How an indicator's leaf facts combine up the area hierarchy (and within one area).

    - ``sum``, ``mean``, ``max``, ``min``, ``latest``: of the leaf values;
    - ``weighted_mean`` with ``by``: weighted by another indicator (population, road
      length) or by a column of the binding's rows;
    - ``ratio``: Σ ``numerator`` / Σ ``denominator`` × ``scale`` (occupancy = Σ occupied /
      Σ capacity × 100); each a column of the rows or an indicator;
    - ``standard``: computed per a national standard from ``inputs`` (columns or
      indicators): ``aqi`` per HJ 633-2012 from the area's mean pollutant concentrations,
      ``tpi`` per GB/T 33171-2016 from congested / total vehicle-km, or from segment
      ``speed`` + ``road_class`` (+ ``length``, ``flow``).
    """

    method: RollupMethod
    by: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    standard: Standard | None = None
    inputs: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _no_derived(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("method") == "derived":
            raise ValueError(
                "expected a roll-up the cockpit can compute from leaf facts ('ratio' with "
                "numerator/denominator, 'standard' with standard aqi|tpi and inputs, or "
                "sum/mean/weighted_mean/max/min/latest), found 'derived'; a store that answers a "
                "level itself says so with binding.answers: [city, district]")
        return data

    @model_validator(mode="after")
    def _keys_fit_the_method(self) -> Rollup:
        m = self.method
        if m == "weighted_mean" and not self.by:
            raise ValueError("expected 'by' (the indicator or column that weighs areas) with method "
                             "'weighted_mean', found no 'by'")
        if m != "weighted_mean" and self.by:
            raise ValueError(f"expected 'by' only with method 'weighted_mean', found it with {m!r}")
        if m == "ratio" and not (self.numerator and self.denominator):
            raise ValueError("expected 'numerator' and 'denominator' (columns or indicators) with "
                             "method 'ratio'")
        if m != "ratio" and (self.numerator or self.denominator):
            raise ValueError(f"expected numerator/denominator only with method 'ratio', found them "
                             f"with {m!r}")
        if m == "standard":
            if self.standard is None:
                raise ValueError("expected 'standard' (aqi or tpi) with method 'standard'")
            need, allowed = STANDARD_INPUTS[self.standard]
            unknown = sorted(set(self.inputs) - allowed)
            if unknown:
                raise ValueError(f"expected inputs of {self.standard} among {sorted(allowed)}, "
                                 f"found {unknown}")
            if not need & set(self.inputs):
                raise ValueError(f"expected inputs for {self.standard} naming at least one of "
                                 f"{sorted(need)} (a column of the rows or an indicator id)")
            if "speed" in self.inputs and "road_class" not in self.inputs:
                raise ValueError("expected 'road_class' with the 'speed' input of tpi (segment "
                                 "levels depend on the road class)")
        elif self.standard or self.inputs:
            raise ValueError(f"expected standard/inputs only with method 'standard', found them "
                             f"with {m!r}")
        return self

    def references(self) -> list[str]:
        """Every column or indicator this rule reads besides the value."""
        names = [self.by, self.numerator, self.denominator, *self.inputs.values()]
        return [n for n in names if n]


class ValidRange(Strict):
    """The values an indicator can take (``valid: {min: 0, max: 100}`` for a percentage);
    a store's value outside it is rejected and counted, never shown or scored. Either end
    may be left out; the other stays within ±:data:`MAGNITUDE_LIMIT`."""

    min: float | None = None
    max: float | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _finite_numbers(cls, value: object) -> object:
        if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError(f"expected a finite number, found {value!r}")
        return value

    @model_validator(mode="after")
    def _min_below_max(self) -> ValidRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"expected min <= max, found min={self.min} and max={self.max}")
        return self

    def bounds(self) -> tuple[float, float]:
        """(lowest, highest) plausible value, the magnitude limit where an end is open."""
        return (-MAGNITUDE_LIMIT if self.min is None else self.min,
                MAGNITUDE_LIMIT if self.max is None else self.max)


class Binding(Strict):
    """Which datasource answers for an indicator, where its leaf facts live, and with which
    query.

    ``source`` names an entry of ``datasources``; ``level`` is the level of the leaf facts
    the store gives (default: the indicator's finest level), from which the data service
    rolls every level above up; ``answers`` lists levels the store answers itself (a
    platform that keeps its own city row). The other keys are the adapter's own (the
    simulator's ``metric``, a table and columns, a Redis key pattern...) and are checked by
    that adapter at start-up.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    source: str
    level: Level | None = None
    answers: tuple[Level, ...] = ()

    def params(self) -> dict[str, Any]:
        """The adapter-specific keys of this binding."""
        return dict(self.model_extra or {})


class Indicator(Strict):
    """One indicator of the catalogue."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: str = ""
    unit_en: str | None = None
    domain: Domain
    better: Literal["higher", "lower"]
    target: float | None = None
    warn: float | None = None
    alarm: float | None = None
    refresh_seconds: PositiveInt = 10
    cadence_seconds: PositiveInt | None = None   # how often the store gets a value (default: refresh)
    levels: tuple[Level, ...] = ("city", "district", "street", "grid")
    rollup: Rollup = Rollup(method="mean")
    time_rollup: TimeRollup = "mean"
    weight: float = Field(default=0.0, ge=0)
    headline: bool = False
    decimals: int = Field(default=1, ge=0, le=4)
    valid: ValidRange = ValidRange()
    definition_zh: str = ""
    definition_en: str = ""
    owner: str = ""
    binding: Binding
    history: Binding | None = None

    @model_validator(mode="before")
    @classmethod
    def _levels_stop_at_the_leaf(cls, data: Any) -> Any:
        """Left out, ``levels`` are the binding's leaf level and every level above it."""
        if isinstance(data, dict) and "levels" not in data:
            binding = data.get("binding")
            leaf = binding.get("level") if isinstance(binding, dict) else getattr(binding, "level", None)
            if leaf in LEVEL_ORDER:
                data = {**data, "levels": LEVEL_ORDER[:LEVEL_ORDER.index(leaf) + 1]}
        return data

    @field_validator("target", "warn", "alarm", "weight", "refresh_seconds", mode="before")
    @classmethod
    def _numbers_not_booleans(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, found {value!r}")
        if isinstance(value, float) and value != value:
            raise ValueError("expected a number, found NaN")
        return value

    @model_validator(mode="after")
    def _thresholds_run_the_right_way(self) -> Indicator:
        if "city" not in self.levels:
            raise ValueError(f"expected levels to include 'city' (every indicator has a city value), "
                             f"found {list(self.levels)}")
        leaf = self.binding.level
        if leaf is not None:
            below = [lv for lv in self.levels if LEVEL_ORDER.index(lv) > LEVEL_ORDER.index(leaf)]
            if below:
                raise ValueError(f"expected levels at or above binding.level {leaf!r} (the store's "
                                 f"finest facts), found {below}: drop them or bind finer facts")
        marks = [(k, getattr(self, k)) for k in ("target", "warn", "alarm")]
        present = [(k, v) for k, v in marks if v is not None]
        for (k1, v1), (k2, v2) in zip(present, present[1:], strict=False):
            wrong = v2 < v1 if self.better == "lower" else v2 > v1
            if wrong:
                way = "rise" if self.better == "lower" else "fall"
                raise ValueError(
                    f"expected thresholds that {way} from target to warn to alarm (better="
                    f"{self.better!r}), found {k1}={v1} and {k2}={v2}"
                )
        return self

    def name(self, lang: str) -> str:
        """The indicator's name in ``lang`` ('zh' or 'en')."""
        return self.name_en if lang == "en" else self.name_zh

    def unit_in(self, lang: str) -> str:
        """The unit in ``lang`` (``unit_en`` when given, else the one unit)."""
        return (self.unit_en if lang == "en" and self.unit_en is not None else self.unit)

    @property
    def leaf_level(self) -> Level:
        """The level of the facts the store gives: the binding's, else the finest of ``levels``."""
        return self.binding.level or max(self.levels, key=LEVEL_ORDER.index)

    @property
    def bounds(self) -> tuple[float, float]:
        """The plausible values of this indicator (``valid``, else ±MAGNITUDE_LIMIT)."""
        return self.valid.bounds()

    @property
    def cadence(self) -> int:
        """Seconds between the store's values (``cadence_seconds``, else ``refresh_seconds``)."""
        return self.cadence_seconds or self.refresh_seconds

    def series_binding(self) -> Binding:
        """Where history comes from: ``history`` when given, else ``binding``."""
        return self.history or self.binding

    def definition(self, lang: str) -> str:
        """The indicator's definition in ``lang``."""
        return (self.definition_en if lang == "en" else self.definition_zh) or self.name(lang)


class Catalogue:
    """The indicators of the config, looked up by id, domain and weight."""

    def __init__(self, indicators: Sequence[Indicator]) -> None:
        self._by_id = {i.id: i for i in indicators}

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._by_id

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with this id; ``KeyError`` names it when unknown."""
        try:
            return self._by_id[indicator_id]
        except KeyError:
            raise KeyError(f"unknown indicator {indicator_id!r}") from None

    def in_domain(self, domain: str) -> list[Indicator]:
        """The indicators of one domain, in config order."""
        return [i for i in self if i.domain == domain]

    def weighted(self) -> list[Indicator]:
        """The indicators that count in the composite city operation index."""
        return [i for i in self if i.weight > 0]

    def for_source(self, source: str) -> list[Indicator]:
        """The indicators bound to one datasource, for live values or history."""
        return [i for i in self if source in (i.binding.source, i.series_binding().source)]
