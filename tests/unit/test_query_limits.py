"""The site's query limits reach every store: the longest span one series read may cover,
and the statement timeout no SQL datasource may exceed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from citybrain.config import DEFAULT_CONFIG, load_config
from datasources.errors import BadQuery
from datasources.registry import build_sources
from service.data import DataService

PLATFORM = Path(__file__).resolve().parents[2] / "examples" / "platform" / "cockpit.yaml"


def _config(path: Path, tmp_path: Path, **limits: object):  # type: ignore[no-untyped-def]
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw.setdefault("security", {})["limits"] = limits
    out = tmp_path / "cockpit.yaml"
    out.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(out)


def test_a_series_longer_than_the_site_allows_is_refused_before_any_read(tmp_path: Path) -> None:
    service = DataService(_config(DEFAULT_CONFIG, tmp_path, max_query_days=10))
    end = datetime(2026, 11, 30, tzinfo=UTC)
    ind = next(iter(service.catalogue)).id
    with pytest.raises(BadQuery, match="longer than 10 days"):
        service.series([ind], [service.root_id], end - timedelta(days=11), end, timedelta(days=1))
    got = service.series([ind], [service.root_id], end - timedelta(days=10), end, timedelta(days=1))
    assert not got.data.empty   # ten days exactly is allowed


@pytest.mark.parametrize(("asked", "cap", "expected"), [(60_000, 2_000, 2_000), (1_000, 2_000, 1_000)])
def test_no_sql_datasource_runs_statements_longer_than_the_site_allows(tmp_path: Path, asked: int, cap: int,
                                                                      expected: int) -> None:
    raw = yaml.safe_load(PLATFORM.read_text(encoding="utf-8"))
    raw["datasources"]["warehouse"]["statement_timeout_ms"] = asked
    raw["security"] = {"limits": {"statement_timeout_ms": cap}}
    path = tmp_path / "cockpit.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    sources = build_sources(load_config(path))
    assert sources["warehouse"].timeout_ms == expected   # type: ignore[attr-defined]
