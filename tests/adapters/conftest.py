"""Fixtures the adapter suites share: the example platform in the real stores."""

from tests.adapters.platform_fixture import platform  # noqa: F401 - a fixture, found by name
