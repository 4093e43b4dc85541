"""The indicator catalogue: the single place that says what an indicator is.

Pages, KPI cards, drill-downs and the heartbeat are generated from it; adding an
indicator is a config change, not code. The models here are validated from the YAML
config by :mod:`citybrain.config`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

Domain = Literal["traffic", "safety", "environment", "energy", "facilities", "services", "economy"]
DOMAINS: tuple[Domain, ...] = (
    "traffic", "safety", "environment", "energy", "facilities", "services", "economy",
)
Level = Literal["city", "district", "street", "grid"]
RollupMethod = Literal["sum", "mean", "weighted_mean", "max", "min", "latest", "derived"]
# Over time: ``mean`` for levels (an index, a speed), ``sum`` for rates per hour (a flow),
# ``daily_total`` for counters that restart at local midnight (alerts today): a day is
# its last value, an hour the rise within it, a month the sum of its days.
TimeRollup = Literal["mean", "sum", "max", "min", "latest", "daily_total"]


class Strict(BaseModel):
    """A config model that rejects unknown keys and is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Rollup(Strict):
    """How values combine up the area hierarchy or over time.

    ``weighted_mean`` needs ``by``: the indicator whose values weigh each area (road
    length, population). ``derived`` means the adapter computes every level from its
    inputs (AQI from mean concentrations, TPI from the segments in the area).
    """

    method: RollupMethod
    by: str | None = None

    @model_validator(mode="after")
    def _by_only_for_weighted(self) -> Rollup:
        if self.method == "weighted_mean" and not self.by:
            raise ValueError("expected 'by' (the indicator that weighs areas) with method "
                             "'weighted_mean', found no 'by'")
        if self.method != "weighted_mean" and self.by:
            raise ValueError(f"expected 'by' only with method 'weighted_mean', found it with "
                             f"{self.method!r}")
        return self


class Binding(Strict):
    """Which datasource answers for an indicator and with which query.

    ``source`` names an entry of ``datasources``; the other keys are the adapter's own
    (the simulator's ``metric``, a SQL text, a Redis key pattern...) and are checked by
    that adapter at start-up.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    source: str

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
    levels: tuple[Level, ...] = ("city", "district", "street", "grid")
    rollup: Rollup = Rollup(method="mean")
    time_rollup: TimeRollup = "mean"
    weight: float = Field(default=0.0, ge=0)
    headline: bool = False
    decimals: int = Field(default=1, ge=0, le=4)
    definition_zh: str = ""
    definition_en: str = ""
    owner: str = ""
    binding: Binding
    history: Binding | None = None

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
