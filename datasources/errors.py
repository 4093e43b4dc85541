"""The errors adapters raise.

    DataSourceError
    ├── StoreUnavailable   the store did not answer (down, refused, timed out): downstream
    └── BadQuery           the request or binding cannot be answered: ours to fix
"""

from __future__ import annotations


class DataSourceError(Exception):
    """Base of every error an adapter raises; ``source`` names the adapter."""

    downstream = False

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class StoreUnavailable(DataSourceError):
    """The store behind the adapter did not answer in time."""

    downstream = True


class BadQuery(DataSourceError):
    """The request names something the adapter cannot read."""
