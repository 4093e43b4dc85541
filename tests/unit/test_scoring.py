"""Indicator scores and the composite city operation index."""

from __future__ import annotations

import pytest

from citybrain.catalogue import Indicator
from citybrain.scoring import composite, index_status, score, status


def make(id: str = "x", *, better: str = "lower", target: float = 4, warn: float = 6,
         alarm: float = 8, weight: float = 1.0, domain: str = "traffic") -> Indicator:
    return Indicator.model_validate({
        "id": id, "name_zh": id, "name_en": id, "domain": domain, "better": better,
        "target": target, "warn": warn, "alarm": alarm, "weight": weight,
        "binding": {"source": "sim", "metric": "tpi"}})


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, 100.0),   # one target→warn span better than target, or more
    (2.0, 100.0),
    (3.0, 90.0),    # halfway from ideal (2) to target (4): 100 → 80
    (4.0, 80.0),    # target
    (5.0, 70.0),    # halfway target → warn
    (6.0, 60.0),    # warn
    (7.0, 45.0),    # halfway warn → alarm: 60 → 30
    (8.0, 30.0),    # alarm
    (9.0, 15.0),
    (10.0, 0.0),    # one warn→alarm span beyond alarm
    (99.0, 0.0),
])
def test_score_of_a_lower_is_better_indicator(value: float, expected: float) -> None:
    assert score(make(), value) == pytest.approx(expected)


def test_score_of_a_higher_is_better_indicator_mirrors() -> None:
    ind = make(better="higher", target=98, warn=95, alarm=90)
    assert score(ind, 98) == pytest.approx(80)
    assert score(ind, 101) == pytest.approx(100)
    assert score(ind, 95) == pytest.approx(60)
    assert score(ind, 90) == pytest.approx(30)
    assert score(ind, 80) == pytest.approx(0)


def test_missing_value_or_thresholds_cannot_be_scored() -> None:
    assert score(make(), None) is None
    assert score(make(), float("nan")) is None
    plain = Indicator.model_validate({"id": "f", "name_zh": "f", "name_en": "f",
                                      "domain": "traffic", "better": "higher",
                                      "binding": {"source": "sim"}})
    assert score(plain, 3.0) is None


def test_status_follows_thresholds() -> None:
    ind = make()
    assert [status(ind, v) for v in (3, 6, 7.9, 8, None)] == [
        "good", "warn", "warn", "alarm", "unknown"]


def test_composite_is_the_weight_averaged_score() -> None:
    a, b = make("a", weight=3), make("b", weight=1)
    result = composite([a, b], {"a": 4.0, "b": 8.0})   # scores 80 and 30
    assert result.value == pytest.approx((80 * 3 + 30 * 1) / 4, abs=0.05)
    assert result.parts == {"a": 80.0, "b": 30.0}


def test_composite_leaves_out_unweighted_and_names_missing() -> None:
    a, b, c = make("a", weight=1), make("b", weight=0), make("c", weight=2)
    result = composite([a, b, c], {"a": 4.0, "b": 10.0})
    assert result.value == pytest.approx(80.0)
    assert result.missing == ("c",)


def test_composite_of_nothing_is_none() -> None:
    assert composite([make(weight=1)], {}).value is None


@pytest.mark.parametrize(("value", "band"), [(95, "good"), (80, "good"), (79.9, "warn"),
                                             (60, "warn"), (59, "alarm"), (None, "unknown")])
def test_index_status_bands(value: float | None, band: str) -> None:
    assert index_status(value, 80, 60) == band


def test_thresholds_in_the_wrong_order_are_refused() -> None:
    with pytest.raises(ValueError, match="thresholds that rise"):
        make(target=6, warn=4, alarm=8)
