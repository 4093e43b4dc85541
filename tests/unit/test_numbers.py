"""The one number formatter: half-up rounding (四舍五入), the missing mark, and that every
page and component goes through it."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from citybrain.catalogue import Indicator
from citybrain.numbers import format_number, format_percent, round_half_up
from components.kpi_card import kpi_card
from service.kpi import Kpi

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (238.5, 0, "239"),            # f"{238.5:.0f}" gives '238' (half to even)
    (239.5, 0, "240"),
    (0.5, 0, "1"),
    (2.5, 0, "3"),
    (0.125, 2, "0.13"),
    (2.675, 2, "2.68"),           # the float is 2.67499999…; its decimal reading is 2.675
    (1.005, 2, "1.01"),
    (-238.5, 0, "-239"),          # half away from zero
    (-2.675, 2, "-2.68"),
    (-0.4, 0, "0"),               # never '-0'
    (1234567.5, 0, "1,234,568"),
    (1234.5, 1, "1,234.5"),
    (35, 1, "35.0"),
    (7, 0, "7"),
    (np.float64(2.675), 2, "2.68"),
    (np.int64(1234), 0, "1,234"),
    (Decimal("0.045"), 2, "0.05"),
])
def test_format_number_rounds_half_up(value: Any, decimals: int, shown: str) -> None:
    assert format_number(value, decimals) == shown


@pytest.mark.parametrize("value", [None, math.nan, np.nan, math.inf, -math.inf, "abc", True])
def test_missing_is_the_missing_mark_never_zero(value: Any) -> None:
    assert format_number(value, 1) == "—"
    assert format_number(value, 1, missing="") == ""
    assert round_half_up(value, 1) is None
    assert format_percent(value) == "—"


def test_grouping_can_be_left_out() -> None:
    assert format_number(1234567.25, 1, grouping=False) == "1234567.3"


def test_huge_values_are_formatted_not_crashed() -> None:
    text = format_number(1e308, 2)
    assert text.startswith("100,000,") and text.endswith(".00") and len(text) == 414
    assert format_number(-1.7976931348623157e308, 0).startswith("-179,769,313,486,231,57")
    assert round_half_up(1e308, 2) == 1e308
    assert format_number(5e-324, 4) == "0.0000"


def test_round_half_up_gives_numbers_for_exports() -> None:
    assert round_half_up(238.5, 0) == 239.0
    assert round_half_up(2.675, 2) == 2.68
    assert round_half_up(-238.5, 0) == -239.0
    assert isinstance(round_half_up(np.float64(1.25), 1), float) and round_half_up(1.25, 1) == 1.3


def test_percent_has_one_place_and_an_optional_sign() -> None:
    assert format_percent(3.25) == "3.3%"
    assert format_percent(3.25, signed=True) == "+3.3%"
    assert format_percent(-3.25, signed=True) == "-3.3%"
    assert format_percent(0.04, signed=True) == "0.0%"   # rounds to zero: no sign
    assert format_percent(12.345, 2) == "12.35%"


def _texts(node: Any, class_name: str) -> list[str]:
    """The children of every element of the layout tree with ``class_name``."""
    found = []
    if getattr(node, "className", None) == class_name:
        found.append(node.children)
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found += _texts(child, class_name)
    return found


def test_kpi_card_shows_238_5_as_239() -> None:
    ind = Indicator(id="alerts", name_zh="警情", name_en="Alerts", domain="safety", better="lower",
                    decimals=0, target=120.5, binding={"source": "sim"})
    kpi = Kpi(ind, "city", 238.5, 200.0, None, "alarm", "#f00")
    card = kpi_card(kpi, "zh", "/safety", ZoneInfo("Asia/Shanghai"))
    assert _texts(card, "kpi-value") == ["239"]
    assert _texts(card, "kpi-target") == ["目标 121"]
    # (238.5 - 200) / 200 = 19.25 %: half up to one place
    assert any("▲19.3%" in text for text in _texts(card, "kpi-change"))


def test_kpi_card_shows_a_missing_value_as_a_dash() -> None:
    ind = Indicator(id="aqi", name_zh="AQI", name_en="AQI", domain="environment", better="lower",
                    decimals=2, binding={"source": "sim"})
    card = kpi_card(Kpi(ind, "city", None, None, None, "unknown", "#888"), "en", "/x", ZoneInfo("UTC"))
    assert _texts(card, "kpi-value") == ["—"]


# f-string and template formats that round or pad a number on their own: '{v:.1f}',
# '{v:,.{d}f}', '{v:g}', '{v:.0%}', plotly's '%{y:.1f}', and Python / numpy / pandas / JS rounding
AD_HOC = re.compile(r":[,_]?(\.(\d+|\{[^{}]*\}))?[fFgGeE%]\}|:[,_]\}|(?<![\w.])round\(|\.round\(|toFixed\(")
# Where such a format is not a number a reader sees (or is already rounded by the formatter)
ALLOWED = {
    ("components/cockpit.py", "* 100:.2f}%"),                      # CSS left/width of a gauge band
    ("components/cockpit.py", '"width": f"{max(0.0, min(100.0, score or 0.0)):.1f}%"'),   # CSS width
    ("components/heartbeat.py", "deg, #16263a 0deg)"),             # CSS conic-gradient angle
    ("components/ticker.py", "round(seconds * 1000"),              # timer period in ms
    ("components/ticker.py", "round(pick.uniform(0, period))"),    # timer phase in ms
    ("components/shell.py", "round(time.time() * 1000)"),          # clock sync, epoch ms
    ("components/panels.py", "round(as_of.timestamp() * 1000)"),   # freshness data attributes, ms
    ("pages/wall/page.py", "round(time.time() * 1000)"),                # clock sync, epoch ms
    ("pages/map/model.py", "np.round(0.08 + 0.3"),                # road line weights in pixels
    # the summary grid's rows are rounded half up on the server to these places; toFixed only pads
    ("components/explore.py", "params.value.toFixed({decimals})"),
    ("components/explore.py", "params.value.toFixed(1) + '%'"),
}


def test_no_display_formatting_bypasses_the_formatter() -> None:
    found = []
    for folder in ("components", "pages"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if AD_HOC.search(line) and not any(f == name and s in line for f, s in ALLOWED):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "format numbers with citybrain.numbers, not by hand:\n" + "\n".join(found)


@pytest.mark.parametrize("line", ['f"{v:.1f}"', 'f"{v:,.{ind.decimals}f} m"', 'f"{x:g}"', "round(v, 1)",
                                  "t.value.round(2)", '"%{y:.1f}"', 'f"{n:,}"', "v.toFixed(2)"])
def test_the_source_check_catches_ad_hoc_formats(line: str) -> None:
    assert AD_HOC.search(line)


@pytest.mark.parametrize("line", ['f"{ts:%Y-%m-%d %H:%M}"', '"%{x|%m-%d %H:%M}"', "round_half_up(v, 1)",
                                  'f"{regions!r:.80}"', 'f"{name}: {format_number(v, 1)}"'])
def test_the_source_check_lets_other_formats_be(line: str) -> None:
    assert not AD_HOC.search(line)
