"""A store seen through the data service, for tests that ask it for any level.

Stores give leaf facts; every level above comes from the data service's roll-up. Tests
written against an adapter's ``latest(indicators, level)`` use this wrapper to get the
same values the pages get.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from flask_caching.backends import NullCache

from citybrain.catalogue import Indicator
from citybrain.config import Config, load_config
from datasources.base import Frame
from service.data import DataService


class Rolled:
    """``store`` behind a :class:`DataService` (no cache), with the adapter's call shapes."""

    def __init__(self, store: Any, config: Config | None = None) -> None:
        self.store = store
        self.config = config or load_config(env={})
        name = next(iter(self.config.datasources))
        self.service = DataService(self.config, sources={name: store}, backend=NullCache())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def latest(self, indicators: Sequence[Indicator], level: str, at: datetime | None = None
               ) -> Frame[pd.DataFrame]:
        return self.service.latest([i.id for i in indicators], level, at)

    def series(self, indicators: Sequence[Indicator], area_ids: Sequence[str], start: datetime,
               end: datetime, step: timedelta) -> Frame[pd.DataFrame]:
        return self.service.series([i.id for i in indicators], area_ids, start, end, step)
