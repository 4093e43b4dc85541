"""A wrong config names the file, the key path, what was expected and what was found."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from citybrain.config import DEFAULT_CONFIG, ConfigError, load_config
from datasources.registry import load_checked

ROOT = Path(__file__).resolve().parents[2]


def default() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def broken(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    doc = default()
    mutate(doc)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def indicator(doc: dict[str, Any], n: int) -> dict[str, Any]:
    return doc["indicators"][n]


CASES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("unknown_adapter_type", lambda d: d["datasources"]["sim"].update(type="oracle"),
     ["datasources.sim.type", "expected one of", "'oracle'"]),
    ("binding_to_undeclared_datasource",
     lambda d: indicator(d, 2)["binding"].update(source="warehouse"),
     ["indicators[2].binding.source", "expected one of the datasources", "'warehouse'"]),
    ("threshold_as_text", lambda d: indicator(d, 3).update(warn="high"),
     ["indicators[3].warn", "expected a number", "'high'"]),
    ("thresholds_in_wrong_order", lambda d: indicator(d, 0).update(target=9, warn=6, alarm=8),
     ["indicators[0]", "expected thresholds that rise", "target=9.0", "warn=6.0"]),
    ("threshold_as_boolean", lambda d: indicator(d, 0).update(target=True),
     ["indicators[0].target", "expected a number", "True"]),
    ("boundaries_not_a_path", lambda d: d["datasources"]["sim"].update(boundaries=5),
     ["datasources.sim.boundaries", "expected the path of a GeoJSON file", "5"]),
    ("redis_url_not_a_url", lambda d: d["datasources"].update(live={"type": "redis", "url": 5}),
     ["datasources.live", "url: expected a redis://", "found 5"]),
    ("stale_after_below_one_refresh", lambda d: d["heartbeat"].update(stale_after=0.5),
     ["heartbeat.stale_after", "greater than or equal to 1", "0.5"]),
    ("unknown_crs", lambda d: d["datasources"]["sim"].update(crs="cgcs2000"),
     ["datasources.sim.crs", "expected one of", "'cgcs2000'"]),
    ("duplicate_id", lambda d: indicator(d, 1).update(id="traffic_tpi"),
     ["indicators[1].id", "expected a unique id", "'traffic_tpi'"]),
    ("unknown_domain", lambda d: indicator(d, 4).update(domain="weather"),
     ["indicators[4].domain", "'traffic'", "'weather'"]),
    ("missing_name", lambda d: indicator(d, 5).pop("name_zh"),
     ["indicators[5].name_zh", "expected a value", "missing"]),
    ("typo_key", lambda d: indicator(d, 6).update(treshold=3),
     ["indicators[6].treshold", "no such key", "3"]),
    ("top_level_typo", lambda d: d.update(indicatorz=[]),
     ["indicatorz", "no such key", "[]"]),
    ("weighted_mean_without_by", lambda d: indicator(d, 10).update(rollup={"method": "weighted_mean"}),
     ["indicators[10].rollup", "expected 'by'", "found no 'by'"]),
    ("unknown_simulator_metric", lambda d: indicator(d, 0)["binding"].update(metric="speedz"),
     ["indicators[0] (traffic_tpi).binding.metric", "expected one of the simulator's metrics",
      "'speedz'"]),
    ("bad_timezone", lambda d: d["city"].update(timezone="Mars/Olympus"),
     ["city.timezone", "expected an IANA time zone", "'Mars/Olympus'"]),
    ("zero_refresh", lambda d: indicator(d, 1).update(refresh_seconds=0),
     ["indicators[1].refresh_seconds", "greater than 0", "0"]),
    ("seed_as_text", lambda d: d["datasources"]["sim"].update(seed="abc"),
     ["datasources.sim.seed", "expected a non-negative integer", "'abc'"]),
    ("no_weighted_indicator", lambda d: [i.update(weight=0) for i in d["indicators"]],
     ["indicators", "at least one indicator with weight > 0", "found none"]),
    ("rollup_by_unknown_indicator",
     lambda d: indicator(d, 10).update(rollup={"method": "weighted_mean", "by": "people"}),
     ["indicators[10]", "rollup.by", "'people'", "neither another indicator nor a column"]),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in CASES],
                         ids=[name for name, _, _ in CASES])
def test_broken_config_is_refused_with_file_key_expected_and_found(
        tmp_path: Path, mutate: Callable[[dict[str, Any]], None], expected: list[str]) -> None:
    path = broken(tmp_path, mutate)
    with pytest.raises(ConfigError) as caught:
        load_checked(path, env={})
    message = str(caught.value)
    assert str(path) in message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("city:\n  name_zh: 云江市\n  name_en: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML at line \d+"):
        load_config(path, env={})


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    text = (DEFAULT_CONFIG.read_text(encoding="utf-8")
            .replace("    target: 4\n", "    target: 4\n    target: 9.0\n", 1))
    assert "target: 9.0" in text
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"twice.yaml: not valid YAML at line (\d+).*the key 'target' twice "
                                          r"\(first at line \d+\)"):
        load_config(path, env={})


@pytest.mark.parametrize(("text", "found"), [("- a\n- b\n", "['a', 'b']"), ("", "None")])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping") as caught:
        load_config(path, env={})
    assert found in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nowhere.yaml: config file not found"):
        load_config(tmp_path / "nowhere.yaml", env={})


def test_environment_selects_the_file_and_the_redis_cache(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda d: d["city"].update(name_en="Elsewhere"))
    config = load_config(env={"CITYBRAIN_CONFIG": str(path),
                              "CITYBRAIN_REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert config.city.name_en == "Elsewhere"
    assert config.cache.backend == "redis" and config.cache.redis_url.endswith("/3")


def test_shipped_default_is_a_full_catalogue() -> None:
    config = load_config(env={})
    assert len(config.indicators) >= 30
    assert {i.domain for i in config.indicators} == {
        "traffic", "safety", "environment", "energy", "facilities", "services", "economy"}
    assert all(config.catalogue.weighted())


def test_shipped_real_stores_example_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sqlalchemy")
    config = load_config(ROOT / "examples" / "real-stores.yaml", env={})
    assert config.datasources["platform"].type == "redis"


def test_app_refuses_to_start_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda d: indicator(d, 3).update(warn="high"))
    env = {**os.environ, "CITYBRAIN_CONFIG": str(path)}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert str(path) in done.stderr and "indicators[3].warn" in done.stderr
    assert "Traceback" not in done.stderr
