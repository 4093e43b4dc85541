"""Personal data: the fields the config names personal are masked in everything the data
service returns to a scope without the right (event rows, JSON details, map features), and
shown whole, and recorded in the audit trail, to one with it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from citybrain.config import DEFAULT_CONFIG, load_config
from datasources.base import Frame
from datasources.registry import build_sources
from pages.map.model import event_facts
from service import masking, scope
from service.data import DataService
from service.masking import Masker, mask_value
from service.runtime import Cockpit

VIEWER = scope.Scope("viewer", frozenset({"leader"}), None, False)
OPERATOR = scope.Scope("operator-1", frozenset({"operator"}), None, True)
PEOPLE = {  # what a platform's event table might hold about the people involved
    "reporter": ["张三丰", "李四"],
    "phone": ["13812345678", "0796-8221234"],
    "plate": ["赣B12345", "赣D7K88A"],
    "id_number": ["360802199001011234", "36080219850505123X"],
    "reporter_phone": ["13912345678", None],
}


@pytest.mark.parametrize(("field", "value", "masked"), [
    ("reporter", "张三丰", "张**"),
    ("reporter_name", "张三", "张*"),
    ("phone", "13812345678", "138****5678"),
    ("plate", "赣B12345", "赣B****5"),
    ("licence_plate", "赣D7K88A", "赣D****A"),
    ("id_number", "360802199001011234", "3608**********1234"),
    ("remark", "13812345678", "138****5678"),       # known by its shape under any name
    ("reporter", "张", "*"),
])
def test_each_kind_keeps_enough_to_tell_apart_and_never_the_whole(field: str, value: str, masked: str) -> None:
    assert mask_value(field, value) == masked
    assert mask_value(field, value) != value


@pytest.fixture()
def audited() -> Any:
    rows: list[tuple[str, str, dict[str, Any]]] = []
    before = scope.set_audit_sink(lambda who, action, detail: rows.append((who, action, detail)))
    masking._recent.clear()
    yield rows
    scope.set_audit_sink(before)   # the app's own trail again


@pytest.fixture(scope="module")
def data() -> DataService:
    """The simulated city whose event table also holds the people involved."""
    config = load_config(DEFAULT_CONFIG)
    sources = build_sources(config)
    sim = sources["sim"]
    plain = sim.events

    def events(since: datetime, until: datetime | None = None) -> Frame[pd.DataFrame]:
        frame = plain(since, until)
        rows = frame.data.head(2).copy()
        for column, values in PEOPLE.items():
            rows[column] = values[:len(rows)]
        rows["details"] = [json.dumps({"caller": {"reporter_name": "王五", "phone": "13700001111"}, "note": "渍水"},
                                      ensure_ascii=False), "not json"][:len(rows)]
        rows["extra"] = [{"witnesses": [{"reporter": "赵六", "plate": "赣C99999"}]}, None][:len(rows)]
        return Frame(rows.reset_index(drop=True), as_of=frame.as_of, source=frame.source)

    sim.events = events  # type: ignore[method-assign]
    return DataService(config, sources=sources)


def since() -> datetime:
    return datetime.now(UTC) - timedelta(hours=12)


def test_a_scope_without_the_right_gets_every_personal_field_masked(data: DataService, audited: list) -> None:
    with scope.using(VIEWER):
        rows = data.events(since()).data
    assert len(rows) == 2
    for column, values in PEOPLE.items():
        for got, whole in zip(rows[column], values, strict=True):
            if whole is None:
                assert pd.isna(got)
            else:
                assert got == mask_value(column, whole) and got != whole and "*" in got, column
    details = json.loads(rows.details[0])
    assert details == {"caller": {"reporter_name": "王*", "phone": "137****1111"}, "note": "渍水"}
    assert rows.details[1] == "not json"
    assert rows.extra[0] == {"witnesses": [{"reporter": "赵*", "plate": "赣C****9"}]}
    assert audited == []
    assert rows.title_zh.tolist() == data.events(since()).data.title_zh.tolist()   # the rest is as it was


def test_the_right_shows_them_whole_and_records_the_view(data: DataService, audited: list) -> None:
    with scope.using(VIEWER):
        data.events(since())           # a masked read first: the shared copy stays whole
    with scope.using(OPERATOR):
        rows = data.events(since()).data
    assert rows.reporter.tolist() == PEOPLE["reporter"] and rows.plate.tolist() == PEOPLE["plate"]
    assert json.loads(rows.details[0])["caller"]["phone"] == "13700001111"
    assert len(audited) == 1
    who, action, detail = audited[0]
    assert (who, action, detail["what"], detail["rows"]) == ("operator-1", "personal_view", "events", 2)
    assert set(detail["fields"]) == {"reporter", "phone", "plate", "id_number", "reporter_phone",
                                     "details.reporter_name", "details.phone", "extra.reporter", "extra.plate"}


def test_a_screen_reading_the_same_rows_again_is_recorded_once(data: DataService, audited: list) -> None:
    with scope.using(OPERATOR):
        data.events(since())
        data.events(since())
    assert len(audited) == 1


def test_an_event_detail_on_the_map_is_masked(data: DataService, audited: list) -> None:
    cockpit = Cockpit(data.config, data)
    event_id = data.events(since()).data.id.iloc[0]
    with scope.using(VIEWER):
        shown = event_facts(cockpit, event_id).event
    assert shown["reporter"] == "张**" and shown["phone"] == "138****5678"
    assert shown["id_number"] == "3608**********1234"


def test_map_features_with_personal_properties_are_masked() -> None:
    masker = Masker(["reporter", "phone"])
    layer = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "P1", "geometry": None, "properties": {"id": "P1", "phone": "13812345678"}},
        {"type": "Feature", "id": "P2", "geometry": None, "properties": {"id": "P2", "kind": "camera"}}]}
    masked, found = masker.collection(layer, mask=True)
    assert masked["features"][0]["properties"] == {"id": "P1", "phone": "138****5678"}
    assert masked["features"][1] is layer["features"][1] and found.rows == 1 and found.fields == {"phone"}
    assert layer["features"][0]["properties"]["phone"] == "13812345678"   # the input is never changed
