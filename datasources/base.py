"""The contract between datasource adapters and the pages.

Every adapter, from the in-process simulator to a city platform's Redis, meets
:class:`DataSource`. Every read returns a :class:`Frame`: the data together with
when the store produced it, when it was fetched, and whether it is stale, so every
panel can show a freshness badge.

Shapes (columns of ``Frame.data``):

- areas:   id, parent_id, level, name_zh, name_en (polygons travel as a map layer)
- latest:  indicator, area_id, ts, value
- series:  ts, indicator, area_id, value over [start, end) at ``step``
- events:  id, kind, severity, status, reported_at, closed_at, lon, lat, area_id,
           title_zh, title_en, source, camera_ids, facility_ids
- layers:  a GeoJSON FeatureCollection (``dict``) with stable feature ids

Example adapter::

    class Constant:
        name = "constant"

        def latest(self, indicators, level, at=None):
            rows = [(i.id, "city", at, 1.0) for i in indicators]
            return Frame(pd.DataFrame(rows, columns=LATEST_COLUMNS), as_of=at, source=self.name)
        ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, Self, TypeVar, runtime_checkable

import pandas as pd

from .errors import BadQuery, DataSourceError

if TYPE_CHECKING:
    from citybrain.catalogue import Indicator
    from citybrain.config import City

__all__ = [
    "AREA_COLUMNS",
    "Adapter",
    "LiveAttributes",
    "LiveCheck",
    "AREA_LEVELS",
    "EVENT_COLUMNS",
    "OPTIONAL_EVENT_COLUMNS",
    "EVENT_STATUSES",
    "LATEST_COLUMNS",
    "SERIES_COLUMNS",
    "AreaLevel",
    "DataSource",
    "DataSourceError",
    "Frame",
    "Health",
    "utcnow",
]

AreaLevel = Literal["city", "district", "street", "grid"]
AREA_LEVELS: tuple[AreaLevel, ...] = ("city", "district", "street", "grid")
EVENT_STATUSES = ("reported", "dispatched", "handling", "closed")

AREA_COLUMNS = ["id", "parent_id", "level", "name_zh", "name_en"]
LATEST_COLUMNS = ["indicator", "area_id", "ts", "value"]
SERIES_COLUMNS = ["ts", "indicator", "area_id", "value"]
EVENT_COLUMNS = [
    "id", "kind", "severity", "status", "reported_at", "closed_at", "lon", "lat",
    "area_id", "title_zh", "title_en", "source", "camera_ids", "facility_ids",
]
# kept when a store has them: the type within a kind (盗窃 within 110) and the lifecycle times
OPTIONAL_EVENT_COLUMNS = ["category_zh", "category_en", "dispatched_at", "arrived_at"]

T = TypeVar("T")


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    from datetime import UTC

    return datetime.now(UTC)


@dataclass(frozen=True)
class Frame(Generic[T]):
    """Data read from a store, stamped with its age.

    ``as_of`` is the time the data describes (the store's newest timestamp);
    ``fetched_at`` is when this process read it; ``stale`` is true when the read
    failed and this is the last good value, with ``error`` saying why; ``missing``
    names the indicators of a derived read that gave nothing, and why.
    """

    data: T
    as_of: datetime
    source: str
    fetched_at: datetime = field(default_factory=utcnow)
    stale: bool = False
    error: str | None = None
    # indicators asked for that gave nothing, with the reason (derived reads only)
    missing: dict[str, str] = field(default_factory=dict)

    def as_stale(self, error: str) -> Frame[T]:
        """This frame re-issued as the last good value after a failed read."""
        return replace(self, stale=True, error=error)

    def age(self, now: datetime | None = None) -> timedelta:
        """How old the data is relative to ``now``."""
        return (now or utcnow()) - self.as_of


@dataclass(frozen=True)
class Health:
    """An adapter's health as a value: never an exception."""

    name: str
    ok: bool
    latency_ms: float | None = None
    last_data_at: datetime | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for ``/health``."""
        return {
            "name": self.name,
            "status": "ok" if self.ok else "failing",
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 2),
            "last_data_at": self.last_data_at.isoformat() if self.last_data_at else None,
            "error": self.error,
            **({"details": self.details} if self.details else {}),
        }


@runtime_checkable
class DataSource(Protocol):
    """What every adapter offers. Adapters raise only :class:`DataSourceError` subclasses."""

    name: str

    def areas(self) -> Frame[pd.DataFrame]:
        """The area hierarchy: city → district → street → grid."""
        ...

    def latest(
        self, indicators: Sequence[Indicator], level: AreaLevel, at: datetime | None = None
    ) -> Frame[pd.DataFrame]:
        """The newest value of each indicator for every area at ``level``."""
        ...

    def series(
        self,
        indicators: Sequence[Indicator],
        area_ids: Sequence[str],
        start: datetime,
        end: datetime,
        step: timedelta,
    ) -> Frame[pd.DataFrame]:
        """Values over ``[start, end)`` at ``step`` for the given areas."""
        ...

    def events(self, since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        """Events reported in ``[since, until]`` with their status at ``until``."""
        ...

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        """A map layer as a GeoJSON FeatureCollection."""
        ...

    def health(self) -> Health:
        """Whether the store answers, how fast, and how fresh its data is."""
        ...

    # --- optional capabilities: every adapter has them (:class:`Adapter` gives the defaults)

    leaf_level: str | None
    """The one level a store's facts always come at (the simulator's grids), else None."""

    def feature_states(self, name: str, at: datetime | None = None) -> Frame[pd.DataFrame]:
        """Live attributes (id + columns) of a map layer's features, apart from their geometry;
        :class:`BadQuery` from a store without them."""
        ...

    def check_binding_live(self, indicator: Indicator, level: str | None = None) -> list[str]:
        """Problems with a binding that only the live store can tell (e.g. its key types)."""
        ...


class Adapter:
    """The base of every adapter: how it is built from config, how its config is checked,
    and the defaults of the optional capabilities of :class:`DataSource`.

    A subclass sets ``type`` (the config's ``type:``) and overrides what its store offers.
    """

    type: str = ""
    name: str
    leaf_level: str | None = None

    @classmethod
    def from_config(cls, name: str, options: dict[str, Any], city: City) -> Self:
        """The adapter for datasource ``name`` with its config ``options`` (``crs`` removed)."""
        return cls(name, **options)

    @staticmethod
    def check_options(options: dict[str, Any]) -> list[str]:
        """Problems with the datasource's own keys, as 'key: expected ..., found ...'."""
        return []

    @staticmethod
    def check_binding(indicator: Indicator) -> list[str]:
        """Problems with an indicator's binding to this adapter."""
        return []

    @staticmethod
    def columns_of(indicator: Indicator) -> list[str] | None:
        """The columns a binding gives (for roll-up references), or None when not known."""
        return None

    def feature_states(self, name: str, at: datetime | None = None) -> Frame[pd.DataFrame]:
        raise BadQuery(self.name, f"{self.name} has no live attributes for map layers")

    def check_binding_live(self, indicator: Indicator, level: str | None = None) -> list[str]:
        return []


@runtime_checkable
class LiveAttributes(Protocol):
    """A source that can give map layers' live attributes (every :class:`Adapter`)."""

    def feature_states(self, name: str, at: datetime | None = None) -> Frame[pd.DataFrame]: ...


@runtime_checkable
class LiveCheck(Protocol):
    """A source that can check a binding against the live store (every :class:`Adapter`)."""

    def check_binding_live(self, indicator: Indicator, level: str | None = None) -> list[str]: ...
