"""Values no indicator can take never reach a tile or the city index.

A store's ±1e308, NaN, ±infinity and ``true`` are rejected and counted per indicator and
reason (``/health`` lists them); a value outside the indicator's ``valid`` range alike.
Numbers written as text ("12") are numbers: Redis, CSV files and many HTTP APIs hand
every value over as text. The city index of a cockpit whose store sends such rows next to
its good ones equals the index recomputed here from the good rows alone.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from citybrain.catalogue import MAGNITUDE_LIMIT, Indicator
from citybrain.config import DEFAULT_CONFIG, load_config
from datasources.registry import build_sources
from datasources.tabular import latest_rows
from datasources.validation import Plausibility, RejectCounter
from pages.heartbeat import model
from service import runtime
from service.data import DataService

AT = datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
HOSTILE: list[Any] = [1e308, -1e308, float("nan"), float("inf"), float("-inf"), True, False, "abc"]
REASONS = {"value above the valid maximum": 1, "value below the valid minimum": 1,
           "value is missing or NaN": 1, "value is infinite": 2,
           "value is a boolean, not a number": 2, "value is not a number": 1}


def _indicator(**extra: Any) -> Indicator:
    return Indicator.model_validate({"id": "share", "name_zh": "占比", "name_en": "Share", "unit": "%",
                                     "domain": "services", "better": "higher",
                                     "binding": {"source": "sim"}, **extra})


def test_valid_range_is_checked_and_defaults_to_the_magnitude_limit() -> None:
    assert _indicator(valid={"min": 0, "max": 100}).bounds == (0.0, 100.0)
    assert _indicator(valid={"min": 0}).bounds == (0.0, MAGNITUDE_LIMIT)
    assert _indicator().bounds == (-MAGNITUDE_LIMIT, MAGNITUDE_LIMIT)
    for wrong in ({"min": 10, "max": 1}, {"min": True}, {"max": float("nan")}, {"maximum": 3}):
        with pytest.raises(ValidationError):
            _indicator(valid=wrong)
    shipped = load_config(DEFAULT_CONFIG, env={}).catalogue
    assert all(i.valid.min is not None and i.valid.max is not None for i in shipped)
    assert all(i.bounds == (0, 100) for i in shipped if i.unit == "%")
    assert shipped.get("aqi").bounds == (0, 500)


def test_hostile_values_are_rejected_and_counted_once_per_fetch() -> None:
    check = Plausibility([_indicator(valid={"min": 0, "max": 100})])
    values = pd.Series([*HOSTILE, "12", " 7.5", 50, 100.0, 0], dtype=object)
    rows = pd.DataFrame({"indicator": "share", "area_id": "A", "ts": AT, "value": values})
    kept = check.check(rows, source="s", what="latest", fetch=1)
    assert kept["value"].tolist() == [12.0, 7.5, 50.0, 100.0, 0.0]
    assert kept["value"].dtype == float
    assert check.rejects.to_json() == {"latest share": REASONS}
    again = check.check(rows, source="s", what="latest", fetch=1)   # a cache hit of one fetch
    assert again["value"].tolist() == kept["value"].tolist()
    assert check.rejects.to_json() == {"latest share": REASONS}
    check.check(rows, source="s", what="latest", fetch=2)            # the next fetch counts
    assert check.rejects.total() == 2 * sum(REASONS.values())
    assert "latest share: 2 value(s) rejected (value above the valid maximum)" in check.problems()


def test_a_rollups_columns_lose_their_infinities_and_booleans_not_their_text() -> None:
    check = Plausibility([_indicator()])
    rows = pd.DataFrame({"indicator": "share", "area_id": ["A", "B", "C"], "ts": AT,
                         "value": np.nan, "occupied": pd.Series([3.0, np.inf, True], dtype=object),
                         "road_class": ["主干路", "快速路", "支路"]})
    kept = check.check(rows, source="s", what="latest")
    assert kept["occupied"].tolist()[0] == 3.0 and kept["road_class"].tolist() == ["主干路", "快速路", "支路"]
    assert all(pd.isna(v) for v in kept["occupied"].tolist()[1:])
    assert check.rejects.to_json() == {"latest share": {"occupied is a boolean or infinite (left out)": 2}}


def test_adapters_read_true_as_no_number_and_text_numbers_as_numbers() -> None:
    rejects = RejectCounter()
    data = pd.DataFrame({"area_id": ["A", "B", "C", "D"], "ts": [AT.isoformat()] * 4,
                         "value": pd.Series([True, "12", 3, "x"], dtype=object)})
    rows = latest_rows(data, "share", source="s", rejects=rejects)
    assert dict(zip(rows["area_id"], rows["value"], strict=True)) == {"B": 12.0, "C": 3.0}
    assert rejects.to_json() == {"latest share": {"value is a boolean, not a number": 1,
                                                  "value is not a number": 1}}


# --- end to end: a store that sends hostile rows next to its good ones --------------------

def _poison(store: Any, ids: set[str]) -> None:
    """Every read of ``store`` gets, for each indicator of ``ids``, one copy of its first
    row per hostile value (same area, same time), appended after the good rows."""
    def wrap(read: Any) -> Any:
        def poisoned(*args: Any, **kwargs: Any) -> Any:
            frame = read(*args, **kwargs)
            data = frame.data
            extra = []
            for ind in ids & set(data["indicator"]):
                first = data[data["indicator"] == ind].iloc[[0]]
                extra += [first.assign(value=pd.Series([v], index=first.index, dtype=object)) for v in HOSTILE]
            if not extra:
                return frame
            mixed = pd.concat([data.astype({"value": object}), *extra], ignore_index=True)
            return type(frame)(mixed, frame.as_of, frame.source, frame.fetched_at, frame.stale,
                               frame.error, frame.missing)
        return poisoned

    store.latest = wrap(store.latest)
    store.series = wrap(store.series)


def _cockpit(poison: set[str] | None = None) -> runtime.Cockpit:
    config = load_config(DEFAULT_CONFIG, env={})
    sources = build_sources(config)
    if poison:
        _poison(sources["sim"], poison)
    return runtime.Cockpit(config, DataService(config, sources=sources))


def _score(ind: Indicator, value: float) -> float:
    """The catalogue's piecewise-linear score, written out again: 100 one target→warn span
    better than target, 80 at target, 60 at warn, 30 at alarm, 0 one warn→alarm span past it."""
    t, w, a = ind.target, ind.warn, ind.alarm
    assert t is not None and w is not None and a is not None
    sign = 1.0 if ind.better == "lower" else -1.0
    xs = [sign * x for x in (t - (w - t), t, w, a, a + (a - w))]
    return float(np.interp(sign * value, xs, [100, 80, 60, 30, 0]))


def test_the_city_index_is_computed_without_the_rejected_values() -> None:
    clean = _cockpit()
    cat = clean.catalogue
    plain = {i.id for i in cat.weighted() if i.rollup.method in ("sum", "mean")}
    assert len(plain) >= 3
    dirty = _cockpit(plain)

    frame = clean.data.latest([i.id for i in cat.weighted()], "city", AT).data
    values = dict(zip(frame["indicator"], frame["value"], strict=True))
    weights = {i.id: i.weight for i in cat.weighted() if i.id in values}
    expected = sum(_score(cat.get(i), values[i]) * w for i, w in weights.items()) / sum(weights.values())

    snap = model.snapshot(dirty, AT)
    assert snap.index == pytest.approx(expected, abs=0.05)
    assert snap.used == len(weights) and not snap.failure
    for ind in plain:
        assert snap.values[ind] == pytest.approx(values[ind]), ind
    assert all(v is None or abs(v) < MAGNITUDE_LIMIT for v in snap.values.values())

    # the hourly pulse (series) alike
    start = AT - timedelta(hours=6)
    ids = sorted(plain)
    got = dirty.data.series(ids, [dirty.data.root_id], start, AT, timedelta(hours=1)).data
    want = clean.data.series(ids, [clean.data.root_id], start, AT, timedelta(hours=1)).data
    key = ["indicator", "ts"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True)[[*key, "value"]],
                                  want.sort_values(key).reset_index(drop=True)[[*key, "value"]],
                                  check_dtype=False)

    health = dirty.data.health()["values"]["rejected"]
    for ind in plain:
        counted = health[f"latest at grid {ind}"]
        assert counted["value is infinite"] == 2 and counted["value is a boolean, not a number"] == 2
        assert counted["value above the valid maximum"] == 1, counted
        assert f"series {ind}" in health
    assert "values" not in clean.data.health()


def test_a_derived_value_outside_its_range_is_not_shown() -> None:
    """A ratio of plausible columns can still be impossible (occupied > capacity)."""
    cockpit = _cockpit()
    store = cockpit.data.sources["sim"].source
    read = store.latest

    def overfull(inds: Any, level: str, at: Any = None) -> Any:
        frame = read(inds, level, at)
        data = frame.data.copy()
        if "occupied" in data.columns:
            data["occupied"] = data["occupied"] * 10
        return type(frame)(data, frame.as_of, frame.source, frame.fetched_at)

    store.latest = overfull
    frame = cockpit.data.latest(["parking_occupancy", "aqi"], "city", AT)
    assert "parking_occupancy" not in set(frame.data["indicator"])
    assert "valid range" in frame.missing["parking_occupancy"]
    assert math.isfinite(frame.data.set_index("indicator").loc["aqi", "value"])


def test_tile_numbers_stay_short_whatever_the_value() -> None:
    from citybrain.numbers import format_compact

    assert format_compact(987654.4, 1) == "987,654.4"      # below a million: in full
    assert (format_compact(123456789, 0), format_compact(123456789, 0, "en")) == ("1.23亿", "123M")
    assert (format_compact(9876543, 1), format_compact(9876543, 1, "en")) == ("988万", "9.88M")
    assert format_compact(-2.5e7, 1, "en") == "-25.0M"
    assert format_compact(1e308, 1) == "1.00e+308"           # beyond every unit, still short
    assert [format_compact(v, 1) for v in (None, float("nan"), float("inf"), True)] == ["—"] * 4
    assert all(len(format_compact(10 ** n * 0.987654, 1, lang)) <= 10 for n in range(1, 20) for lang in ("zh", "en"))
