"""Area scope on the example platform 吉安市 (PostgreSQL and MariaDB, and Redis): a district
head's areas, values, series, map layers and road states are the district's alone, and equal
recomputations written here from the platform's own tables restricted to that district.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from service.scope import Scope, using
from service.territory import OUTSIDE
from tests.adapters.platform_fixture import floats, platform, table  # noqa: F401 - a fixture, by name


def regions(engine: sa.Engine) -> pd.DataFrame:
    return pd.read_sql(sa.text("SELECT region_code, parent_code, region_type FROM dim_region"), engine).astype(
        {"region_code": str})


def head_of(engine: sa.Engine) -> tuple[str, set[str], set[str]]:
    """A district, its streets, and the other districts (from dim_region, by SQL)."""
    rows = regions(engine)
    districts = sorted(rows[rows.region_type == "区县"].region_code)
    mine = districts[1]
    streets = set(rows[rows.parent_code.astype(str) == mine].region_code)
    return mine, streets, set(districts) - {mine}


def test_a_district_heads_areas_are_the_district_and_its_streets(platform) -> None:  # noqa: ANN001, F811
    service, engine, _store, _info = platform
    mine, streets, _others = head_of(engine)
    with using(Scope("head", frozenset({"leader"}), frozenset({mine}), False)):
        areas = service.areas().data
        assert service.root_id == mine
    assert set(areas.id) == {mine} | streets and "360800" not in set(areas.id)


def test_values_are_the_districts_own_recomputed_from_its_tables(platform) -> None:  # noqa: ANN001, F811
    service, engine, _store, _info = platform
    mine, streets, _others = head_of(engine)
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"), ["police_alerts", "noise_db"])
    newest = facts[facts.district_code == mine].sort_values("stat_hour").iloc[-1]
    street_facts = floats(table(engine, "fact_street_hourly", "stat_hour"), ["hotline_calls"])
    hour = street_facts.stat_hour.max()
    now = street_facts[(street_facts.stat_hour == hour) & street_facts.street_code.isin(streets)]
    with using(Scope("head", frozenset({"leader"}), frozenset({mine}), False)):
        city = service.latest(["alerts_110"], "city")
        district = service.latest(["alerts_110", "noise_db", "hotline_calls"], "district").data
        by_street = service.latest(["hotline_calls"], "street").data
    assert city.data.empty and city.missing == {"alerts_110": OUTSIDE}
    assert set(district.area_id) == {mine}
    got = district.set_index("indicator").value
    assert got["alerts_110"] == newest.police_alerts
    assert got["noise_db"] == pytest.approx(newest.noise_db)
    assert got["hotline_calls"] == now.hotline_calls.sum()
    assert set(by_street.area_id) == set(now.street_code)
    assert by_street.set_index("area_id").value.sort_index().tolist() == \
        now.set_index("street_code").hotline_calls.sort_index().tolist()


def test_series_of_other_districts_are_not_read(platform) -> None:  # noqa: ANN001, F811
    service, engine, _store, _info = platform
    mine, _streets, others = head_of(engine)
    facts = floats(table(engine, "fact_district_hourly", "stat_hour"), ["police_alerts"])
    end = pd.Timestamp(datetime.now(UTC)).floor("h").to_pydatetime()
    start = end - timedelta(hours=6)
    with using(Scope("head", frozenset({"leader"}), frozenset({mine}), False)):
        got = service.series(["alerts_110"], [mine, *sorted(others), "360800"], start, end, timedelta(hours=1)).data
        none = service.series(["alerts_110"], sorted(others), start, end, timedelta(hours=1))
    assert set(got.area_id) == {mine} and none.data.empty
    expected = facts[(facts.district_code == mine) & (facts.stat_hour >= pd.Timestamp(start))
                     & (facts.stat_hour < pd.Timestamp(end))].set_index("stat_hour").police_alerts.sort_index()
    assert got.set_index("ts").value.sort_index().tolist() == expected.tolist()


def test_map_layers_and_road_states_are_the_districts(platform) -> None:  # noqa: ANN001, F811
    service, engine, _store, _info = platform
    mine, _streets, _others = head_of(engine)
    segments = pd.read_sql(sa.text("SELECT seg_id, district_code FROM road_segment"), engine).astype(str)
    own = set(segments[segments.district_code == mine].seg_id)
    assert own and len(own) < len(segments)
    with using(Scope("head", frozenset({"leader"}), frozenset({mine}), False)):
        districts = service.layer("districts").data["features"]
        city = service.layer("city").data["features"]
        roads = service.layer("roads").data["features"]
        states = service.feature_states("roads").data
    assert [f["id"] for f in districts] == [mine] and [f["id"] for f in city] == [mine]
    assert {f["id"] for f in roads} == own and set(states.id) == own
