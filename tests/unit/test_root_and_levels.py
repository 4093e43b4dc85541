"""A platform whose city is "360800" and whose hierarchy stops at the street: the pages take
the root id from the data service and offer only the levels and layers that exist."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml

from citybrain.areas import AreaTree
from citybrain.catalogue import Catalogue, Indicator
from citybrain.config import load_config
from datasources.base import Frame
from datasources.errors import BadQuery
from datasources.geojson import bounds
from pages.explore import model as explore
from pages.map import model as map_model
from service.data import DataService
from service.hierarchy import normalise
from tests.conftest import ROOT

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
ROWS = [("360802", None, "区县", "吉州区"), ("360803", None, "区县", "青原区"),
        ("360802001", "360802", "街道", "白塘街道"), ("360803001", "360803", "街道", "河东街道")]
RAW = pd.DataFrame(ROWS, columns=["id", "parent_id", "level", "name_zh"])
HIER = normalise(RAW, root_id="360800", name_zh="吉安市", name_en="Ji'an",
                 level_names={"区县": "district", "街道": "street"})
TREE = AreaTree(HIER.areas)
ALL = ("city", "district", "street", "grid")


def ind(id: str, levels: tuple[str, ...] = ALL) -> Indicator:
    return Indicator(id=id, name_zh=id, name_en=id, domain="traffic", better="lower", levels=levels,
                     binding={"source": "sim", "metric": id})


CAT = Catalogue([ind("flow"), ind("gdp", ("city",))])


def square(x: float, y: float, size: float = 0.1) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def feature(fid: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": {"id": fid}}


class _Data:
    """A data service of the platform's shape: districts only, no live attributes."""

    root_id = "360800"

    def __init__(self) -> None:
        islands = {"type": "MultiPolygon", "coordinates": [square(114.9, 26.9), square(115.3, 27.2)]}
        self.layers = {
            "city": {"type": "FeatureCollection", "features": [feature("360800", islands)]},
            "districts": {"type": "FeatureCollection", "features": [
                feature("360802", {"type": "Polygon", "coordinates": square(114.9, 26.9)}),
                feature("360803", islands)]},
        }

    def hierarchy(self) -> Any:
        return HIER

    def layer(self, name: str) -> Frame[dict[str, Any]]:
        if name not in self.layers:
            raise BadQuery("gis", f"no map layer {name!r}; this datasource has districts")
        return Frame(self.layers[name], as_of=NOW, source="gis")

    def feature_states(self, name: str) -> Frame[pd.DataFrame]:
        raise BadQuery("gis", "gis has no live attributes for map layers")


@pytest.fixture
def cockpit() -> Any:
    return SimpleNamespace(data=_Data())


def test_the_hierarchy_root_is_the_platform_code_and_there_is_no_grid() -> None:
    assert HIER.root_id == "360800" and TREE.root is not None and TREE.root.id == "360800"
    assert TREE.levels_present() == ["city", "district", "street"]


def test_the_explorer_offers_only_levels_the_hierarchy_has() -> None:
    present = TREE.levels_present()
    assert explore.level_choices(CAT.get("flow"), present) == ["district", "street"]
    assert explore.level_choices(CAT.get("gdp"), present) == ["city"]
    state = explore.read_state(CAT, TREE, TZ, NOW, {}, "zh")
    assert state.level == "district" and {a.id for a in state.areas} == {"360802", "360803"}
    with pytest.raises(explore.ExploreError, match="no grid areas"):
        explore.read_state(CAT, TREE, TZ, NOW, {"level": "grid"}, "zh")
    city = explore.read_state(CAT, TREE, TZ, NOW, {"areas": "360800,360802"}, "zh")
    assert [a.id for a in city.areas] == ["360800", "360802"]


def test_the_map_offers_only_levels_with_a_layer_and_drills_nowhere_below(cockpit: Any) -> None:
    assert map_model.map_levels(cockpit) == ["district"]     # streets exist, but have no layer
    assert map_model.next_level(cockpit, "city") == "district"
    assert map_model.next_level(cockpit, "district") is None
    assert map_model.offered_layers(cockpit, "no events configured") == ("areas",)
    assert "live attributes" in (map_model.layer_missing(cockpit, "districts", live=True) or "")


def test_area_bounds_cover_every_part_of_a_multipolygon(cockpit: Any) -> None:
    for area, level in (("360803", "district"), ("360800", "city")):
        box = map_model.area_bounds(cockpit, area, level)
        assert box is not None and box[0] + box[1] == pytest.approx([26.9, 114.9, 27.3, 115.4])
    assert map_model.area_bounds(cockpit, "nowhere", "district") is None


def test_without_a_city_layer_the_city_is_the_union_of_the_districts(tmp_path: Any) -> None:
    raw = yaml.safe_load((ROOT / "examples" / "platform" / "cockpit.yaml").read_text(encoding="utf-8"))
    raw["datasources"]["gis"]["root"] = str(ROOT / "examples" / "platform")
    raw["datasources"]["warehouse"]["url"] = "sqlite:///" + str(tmp_path / "none.db")
    raw["datasources"]["warehouse"].pop("url_env", None)
    path = tmp_path / "cockpit.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    data = DataService(load_config(path))
    city = data.layer("city").data
    districts = data.layer("districts").data
    [outline] = city["features"]
    assert outline["id"] == data.root_id == "360800" and outline["properties"]["name_zh"] == "吉安市"
    assert bounds(city) == pytest.approx(bounds(districts))
    with pytest.raises(BadQuery):   # the roads come from map.segments (test_platform_roads.py)
        data.layer("cameras")
