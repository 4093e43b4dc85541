"""The running cockpit: its config and data service, reachable from page callbacks.

``app.py`` installs one at start-up; pages call :func:`current` at request time, so
they never import the app module.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from citybrain.catalogue import Catalogue
from citybrain.config import Config
from service.data import DataService


@dataclass(frozen=True)
class Cockpit:
    """Everything a page needs: what the config says and where data comes from."""

    config: Config
    data: DataService

    @property
    def catalogue(self) -> Catalogue:
        return self.data.catalogue

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.city.timezone)


_current: Cockpit | None = None


def build(config: Config) -> Cockpit:
    """A cockpit for ``config`` with its adapters and cache."""
    return Cockpit(config=config, data=DataService(config))


def install(cockpit: Cockpit) -> None:
    """Make ``cockpit`` the one the pages read from."""
    global _current
    _current = cockpit


def current() -> Cockpit:
    """The installed cockpit; a clear error when the app was not started through app.py."""
    if _current is None:
        raise RuntimeError("no cockpit installed: start the app with app.create_app()")
    return _current
