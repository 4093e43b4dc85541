"""Tiles lay out any plausible number without overflowing: every headline value near the top
of its indicator's valid range stays short (1.23亿, 123M) and inside its own tile."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from service import runtime

from .conftest import SHOTS

INSIDE = """
return Array.from(document.querySelectorAll(arguments[0])).map(tile => {
  const box = tile.getBoundingClientRect();
  const value = tile.querySelector('.tile-value, .big-value');
  const v = value ? value.getBoundingClientRect() : box;
  return {text: value ? value.textContent : '', inside: v.left >= box.left - 1 && v.right <= box.right + 1,
          clipped: value ? value.scrollWidth > value.clientWidth + 1 : false};
});
"""


def _huge(monkeypatch: Any) -> None:
    """City values of the installed cockpit at 98.7654 % of each indicator's valid maximum."""
    data = runtime.current().data
    read = data.latest

    def latest(ids: Any, level: str = "city", at: Any = None) -> Any:
        frame = read(ids, level, at)
        top = {i.id: i.bounds[1] * 0.987654 for i in data.catalogue}
        values = frame.data.copy()
        values["value"] = [top.get(i, v) for i, v in zip(values["indicator"], values["value"], strict=True)]
        return replace(frame, data=values)

    monkeypatch.setattr(data, "latest", latest)


def test_large_numbers_stay_inside_their_tiles(dash_duo, cockpit_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _huge(monkeypatch)
    dash_duo.start_server(cockpit_app, port=int(os.environ.get("TILES_TEST_PORT", "8071")))
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.wait_for_element(".tile-ok .tile-value", timeout=30)
    tiles = dash_duo.driver.execute_script(INSIDE, ".tile")
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / "tiles-large-numbers.png"))
    shown = [t for t in tiles if t["text"]]
    assert len(shown) >= 4, tiles
    assert all(t["inside"] and not t["clipped"] for t in shown), tiles
    assert all(len(t["text"]) <= 9 for t in shown), [t["text"] for t in shown]
    assert any(unit in t["text"] for t in shown for unit in ("万", "亿")), [t["text"] for t in shown]

    dash_duo.driver.set_window_size(1280, 720)   # narrower tiles: the number shrinks, still whole
    tiles = dash_duo.driver.execute_script(INSIDE, ".tile")
    assert all(t["inside"] for t in tiles if t["text"]), tiles

    dash_duo.wait_for_page(f"{dash_duo.server_url}/wall?layout=1080p")
    dash_duo.wait_for_element(".big-tile .big-value, .tile-ok .tile-value", timeout=30)
    walls = dash_duo.driver.execute_script(INSIDE, ".big-tile, .tile")
    dash_duo.driver.save_screenshot(str(SHOTS / "tiles-large-numbers-wall.png"))
    assert all(t["inside"] for t in walls if t["text"]), walls
