"""URL drill state: every parameter checked on the server, links that round-trip."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from citybrain.areas import AreaTree
from citybrain.catalogue import Catalogue, Indicator
from citybrain.drill import DrillError, drill_href, read_state

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
TREE = AreaTree(pd.DataFrame([
    ("city", None, "city", "云江市", "Yunjiang"), ("D01", "city", "district", "云湖区", "Yunhu"),
    ("D01S01", "D01", "street", "滨江街道", "Binjiang"), ("D01S01G01", "D01S01", "grid", "一格", "Grid 1"),
], columns=["id", "parent_id", "level", "name_zh", "name_en"]))


ALL_LEVELS = ("city", "district", "street", "grid")


def ind(id: str, domain: str = "traffic", levels: tuple[str, ...] = ALL_LEVELS) -> Indicator:
    return Indicator(id=id, name_zh=id, name_en=id, domain=domain, better="lower", levels=levels,
                     binding={"source": "sim", "metric": id})


CAT = Catalogue([ind("tpi"), ind("alerts", "safety"), ind("aqi", "environment", ("city", "district"))])


def state(**params: str | None):  # type: ignore[no-untyped-def]
    values = {"indicator": None, "area": None, "period": None, **params}
    return read_state(CAT, TREE, TZ, NOW, lang="zh", default_indicator="tpi", **values)


def test_defaults_are_the_city_today_and_live() -> None:
    s = state()
    assert (s.indicator.id, s.area.id, s.period.key, s.live) == ("tpi", "city", "2026-11-25", True)
    assert s.href("/traffic") == "/traffic?indicator=tpi"


def test_links_keep_the_state_and_change_one_thing() -> None:
    s = state(area="D01S01", period="2026-11-25T08")
    assert not s.live
    assert s.href("/traffic", area="D01") == "/traffic?indicator=tpi&area=D01&period=2026-11-25T08"
    assert s.href("/traffic", area=None, period=None) == "/traffic?indicator=tpi"
    assert [a.id for a in TREE.trail(s.area)] == ["city", "D01", "D01S01"]
    assert TREE.descendants(TREE.get("D01")) == {"D01", "D01S01", "D01S01G01"}


@pytest.mark.parametrize("params, words", [
    ({"indicator": "nope"}, "parameter 'indicator': unknown indicator 'nope'"),
    ({"indicator": "tpi'; drop table x"}, "unknown indicator"),
    ({"area": "D99"}, "parameter 'area': unknown area 'D99'"),
    ({"indicator": "aqi", "area": "D01S01"}, "'aqi' has no values at street level"),
    ({"period": "2026-13"}, "parameter 'period'"),
    ({"period": "2027"}, "in the future"),
])
def test_bad_parameters_name_what_and_where(params: dict[str, str], words: str) -> None:
    with pytest.raises(DrillError, match=words.replace("(", r"\(")):
        state(**params)


def test_an_indicator_drills_on_its_domain_page() -> None:
    assert drill_href(CAT.get("tpi"), area="D01") == "/traffic?indicator=tpi&area=D01"
    assert drill_href(CAT.get("alerts"), lang="en") == "/safety?indicator=alerts&lang=en"   # the whole city
    assert drill_href(CAT.get("alerts"), area="city") == "/safety?indicator=alerts&area=city"   # an id like any
    assert drill_href(CAT.get("aqi"), period="2026-11") == "/drill?indicator=aqi&period=2026-11"


def test_a_running_period_is_marked_so_far_and_a_closed_one_is_not() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from citybrain.timegrain import parse
    from pages.drill.model import _running

    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 12, 3, 6, 30, tzinfo=UTC)   # 14:30 local
    assert _running(parse("2026-12-03T14", tz, now), now, "zh") == "14时·至今"
    assert _running(parse("2026-12-03T13", tz, now), now, "zh") == "13时"
    assert _running(parse("2026-12", tz, now), now, "en") == "Dec so far"
