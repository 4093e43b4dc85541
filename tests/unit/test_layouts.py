"""Wall layouts: every shipped file loads, and a bad layout is refused with a reason."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import layouts


def test_the_four_shipped_layouts_load() -> None:
    assert {"1080p", "4k", "3x3", "7680x2160"} <= set(layouts.names())
    sizes = {n: (layouts.load(n).width, layouts.load(n).height) for n in layouts.names()}
    assert sizes["3x3"] == (5760, 3240) and sizes["7680x2160"] == (7680, 2160)


def test_an_unknown_layout_is_named() -> None:
    with pytest.raises(layouts.LayoutError, match="no wall layout 'cinema'"):
        layouts.load("cinema")


def test_a_panel_across_a_bezel_is_refused() -> None:
    with pytest.raises(ValidationError, match="crosses a bezel"):
        layouts.ScreenLayout.model_validate({
            "name": "x", "width": 5760, "height": 3240, "columns": 3, "rows": 3, "monitors": [3, 3],
            "panels": [{"region": "pulse", "col": 1, "row": 1, "colspan": 2}]})


def test_a_panel_outside_the_grid_or_an_unknown_region_is_refused() -> None:
    base = {"name": "x", "width": 1920, "height": 1080, "columns": 2, "rows": 2}
    with pytest.raises(ValidationError, match="reaches past"):
        layouts.ScreenLayout.model_validate({**base, "panels": [{"region": "index", "col": 2,
                                                                 "row": 1, "colspan": 2}]})
    with pytest.raises(ValidationError, match="expected one of header"):
        layouts.ScreenLayout.model_validate({**base, "panels": [{"region": "weather", "col": 1,
                                                                 "row": 1}]})
