"""Live ticks of the wall and the heartbeat, called as plain functions: spread in time,
only changed panels sent, every failure shown in its panel, badges that age and go stale."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dash
import pytest

import app  # noqa: F401  (installs the cockpit and its pages)
from citybrain.memo import TtlMemo
from components.panels import live_badge
from components.ticker import JITTER, TickAIO, beat_number, tick_plan
from pages import common as model
from pages.common import fingerprint, only_changed
from pages.heartbeat import page as heartbeat
from pages.wall import page as wall
from service import runtime, scope
from tests.conftest import says
from tests.unit.test_heartbeat_page import text_of

BEAT = {"n": 7, "at": 0}
REGIONS = ["header", "index", "domains", "pulse", "ticker", "tiles"]


def find(component: Any, wanted: Any) -> Any:
    """The component in a layout tree whose id is ``wanted``."""
    return next(c for c in component._traverse() if getattr(c, "id", None) == wanted)


def raising(exc: Exception) -> Any:
    """A stand-in for a function that fails with ``exc``."""
    def fail(*_: Any, **__: Any) -> Any:
        raise exc
    return fail


def wall_outputs(panels: int) -> Any:
    """The callback context Dash gives the wall's tick: one output per panel of its layout."""
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    each = [{"id": {"type": "wall-panel", "part": n}, "property": "children"} for n in range(panels)]
    return context_value.set(AttributeDict(outputs_list=[each, each, {}, {}], triggered_inputs=[]))


@pytest.fixture(autouse=True)
def in_wall_tick() -> Iterator[None]:
    """Each test runs as the tick of a wall with one panel per region of ``REGIONS``."""
    from dash._callback_context import context_value

    token = wall_outputs(len(REGIONS))
    yield
    context_value.reset(token)


@pytest.fixture
def frozen_wall(monkeypatch: pytest.MonkeyPatch) -> None:
    """One wall render for the whole test, so "nothing changed" is exactly true."""
    monkeypatch.setattr(wall, "PANELS", TtlMemo(seconds=3600))
    monkeypatch.setattr(wall, "VIEWS", TtlMemo(seconds=3600))


@pytest.fixture
def fresh_memos(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No memo: every call renders anew."""
    for module, name in ((wall, "PANELS"), (wall, "VIEWS"), (heartbeat, "TICKS")):
        monkeypatch.setattr(module, name, TtlMemo(seconds=0))
    yield


def test_two_page_loads_tick_at_different_phases_within_the_jitter() -> None:
    tick = runtime.current().config.heartbeat.tick_seconds * 1000
    plans = []
    for _ in range(2):
        page = wall.layout(layout="1080p")
        plans.append(find(page, TickAIO.ids.plan("wall")).data)
    assert plans[0]["phase_ms"] != plans[1]["phase_ms"], "same phase on two screens"
    for plan in plans:
        assert tick * (1 - JITTER) <= plan["period_ms"] <= tick * (1 + JITTER)
        assert 0 < plan["phase_ms"] <= plan["period_ms"] + 1
        assert plan["stuck_ms"] >= 3 * plan["period_ms"]
    interval = find(heartbeat.layout(), TickAIO.ids.interval("hb"))
    assert 0 < interval.interval <= tick * (1 + JITTER) + 1, "the first tick comes within a period"


def test_two_hundred_screens_spread_over_the_whole_period() -> None:
    rng = random.Random(1)
    phases = [tick_plan("wall", 5, rng=rng)["phase_ms"] for _ in range(200)]
    per_second = [sum(1 for p in phases if s * 1000 <= p < (s + 1) * 1000) for s in range(5)]
    assert max(per_second) < 60, per_second          # about 40 a second, not 200 at once


def test_a_bad_tick_plan_or_beat_is_refused() -> None:
    with pytest.raises(ValueError, match="tick seconds"):
        tick_plan("wall", 0)
    with pytest.raises(dash.exceptions.PreventUpdate):
        beat_number(None)                            # the store's own first value
    assert beat_number({"n": 3, "at": 1}) == 3


def test_unchanged_tick_answers_without_data_and_a_change_sends_only_its_panel(
        frozen_wall: None, monkeypatch: pytest.MonkeyPatch) -> None:
    bodies, badges, prints, ack = wall.refresh_wall(BEAT, REGIONS, "zh", None)
    assert ack == 7 and dash.no_update not in bodies and len(prints) == len(REGIONS)
    bodies, badges, again, ack = wall.refresh_wall({"n": 8, "at": 1}, REGIONS, "zh", prints)
    assert ack == 8
    assert all(b is dash.no_update for b in bodies + badges) and again is dash.no_update

    key = ("zh", scope.current().view_key)   # the views are shared per language and scope
    views = dict(wall.VIEWS.get(key, lambda: None))
    monkeypatch.setattr(wall, "PANELS", TtlMemo(seconds=3600))
    monkeypatch.setattr(wall, "VIEWS", TtlMemo(seconds=3600))
    wall.VIEWS.get(key, lambda: {**views, "ticker": "a new event"})
    bodies, badges, changed, _ = wall.refresh_wall({"n": 9, "at": 2}, REGIONS, "zh", prints)
    sent = [r for r, b in zip(REGIONS, bodies, strict=True) if b is not dash.no_update]
    assert sent == ["ticker"] and bodies[REGIONS.index("ticker")] == "a new event"
    assert changed[REGIONS.index("ticker")] != prints[REGIONS.index("ticker")]


def test_first_tick_after_load_sends_nothing_new(frozen_wall: None) -> None:
    page = wall.layout(layout="1080p")
    shown = find(page, "wall-prints").data
    bodies, _, prints, _ = wall.refresh_wall(BEAT, REGIONS, "zh", shown)
    assert all(b is dash.no_update for b in bodies) and prints is dash.no_update


def test_a_failing_tick_shows_its_error_in_every_panel(fresh_memos: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wall, "render", raising(RuntimeError("renderer exploded")))
    bodies, badges, prints, ack = wall.refresh_wall(BEAT, REGIONS, "en", None)
    assert ack == 7 and len(bodies) == len(REGIONS)
    for body, badge in zip(bodies, badges, strict=True):
        assert "Panel unavailable" in text_of(body) and says(text_of(body), "renderer exploded")
        assert "No data" in text_of(badge)


def test_a_failing_region_shows_only_in_its_panel(fresh_memos: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wall, "pulse_rows", raising(KeyError("pulse figure")))
    bodies, _, _, _ = wall.refresh_wall(BEAT, REGIONS, "zh", None)
    failed = [r for r, b in zip(REGIONS, bodies, strict=True) if "面板暂不可用" in text_of(b)]
    assert failed == ["pulse"]


def test_a_bad_regions_payload_is_named_in_the_panels() -> None:
    from dash._callback_context import context_value

    token = wall_outputs(2)
    try:
        bodies, _, _, _ = wall.refresh_wall(BEAT, ["index", 3], "en", None)
    finally:
        context_value.reset(token)
    assert len(bodies) == 2 and says(text_of(bodies[0]), "wall-regions: expected a list of 2 region names")


def test_heartbeat_tick_sends_only_what_changed_and_shows_failures(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heartbeat, "TICKS", TtlMemo(seconds=3600))
    first = heartbeat.refresh_heartbeat(BEAT, "zh", None)
    prints, ack = first[-2], first[-1]
    assert ack == 7 and len(prints) == 4 + 2 * 7 + 1
    again = heartbeat.refresh_heartbeat({"n": 8, "at": 1}, "zh", prints)
    assert again[-1] == 8 and again[-2] is dash.no_update
    assert all(part is dash.no_update for part in again[:4] + (again[6],))
    assert all(p is dash.no_update for p in again[4] + again[5])

    monkeypatch.setattr(heartbeat, "TICKS", TtlMemo(seconds=0))
    monkeypatch.setattr(heartbeat, "render", raising(RuntimeError("tick exploded")))
    failed = heartbeat.refresh_heartbeat({"n": 9, "at": 2}, "en", prints)
    assert failed[-1] == 9 and says(text_of(failed[0]), "tick exploded")
    assert all(says(text_of(label), "tick exploded") for label in failed[4])
    assert all(f is dash.no_update for f in failed[5]), "the pulse keeps its last good line"


def test_only_changed_sends_everything_when_the_browser_prints_are_unusable() -> None:
    parts = ["a", {"b": 1}]
    prints = [fingerprint(p) for p in parts]
    for shown in (None, "junk", [prints[0]], {"a": 1}):
        sent, stored = only_changed(parts, prints, shown)
        assert sent == parts and stored == prints


def test_each_panel_is_stale_after_three_refreshes_of_what_it_shows() -> None:
    cockpit = runtime.current()
    tick = cockpit.config.heartbeat.tick_seconds
    slow = next(i for i in cockpit.catalogue if i.refresh_seconds >= 60)
    assert wall.max_age(f"indicator:{slow.id}", cockpit) == 3 * slow.refresh_seconds
    assert wall.max_age("index", cockpit) == 3 * max(tick, 5)
    beat = cockpit.config.heartbeat.model_copy(update={"stale_after": 5})
    patient = runtime.Cockpit(cockpit.config.model_copy(update={"heartbeat": beat}), cockpit.data)
    assert wall.max_age("index", patient) == 5 * max(tick, 5), "the config sets the factor"


def test_live_badge_carries_its_age_limit_and_flags_store_staleness() -> None:
    as_of = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    badge = live_badge(as_of, "en", max_age_s=15, stale=True, error="store down")
    props = badge.to_plotly_json()["props"]
    assert props["data-as-of"] == round(as_of.timestamp() * 1000) and props["data-max-age"] == 15000
    assert props["data-ago-s"] == "{n}s ago" and "badge-stale" in props["className"]
    assert says(props["title"], "store down") and "store down" not in props["title"] and "Stale data" in text_of(badge)
    assert "No data" in text_of(live_badge(None, "en", max_age_s=15))


def test_freshness_of_a_screen_is_its_oldest_part() -> None:
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    whole = model.Freshness.combine(model.Freshness(new), model.Freshness(old, True, ["x"]),
                                    model.Freshness())
    assert whole.as_of == old and whole.stale and whole.errors == ["x"]
