"""A page's live tick: spread in time, never overlapping, the same for every live page.

``TickAIO("wall", seconds=5)`` puts one hidden block on the page. Its callbacks (here,
serving every instance by ``MATCH``, with the gate itself in assets/ticker.js) do this:

- **spread**: the first tick comes at a random phase within one period, and each page's
  period is the configured one ± a small jitter, so two hundred screens switched on in
  the same second do not poll the server in the same second, then or later;
- **no overlap**: the page's server callback listens to ``TickAIO.ids.beat`` and
  answers each beat's number into ``TickAIO.ids.ack``; until the last beat is answered
  the gate holds the next ticks back instead of starting a second request (Dash would
  send it and drop the first one's answer: plotly/dash#1613). Matching by number, a late
  answer to an older beat never opens the gate. A beat whose answer never comes (the
  network dropped: assets/reconnect.js says so) no longer holds it, nor does one older
  than ``STUCK_AFTER`` periods.
- **first draw**: a page whose server callback also runs at load (the map draws its first
  colours that way) passes ``first_beat=True``: that initial call is beat 1, and the gate
  holds the ticks until it is answered, as for any other beat.

    TickAIO("wall", seconds=cfg.heartbeat.tick_seconds)        # in the layout

    @callback(Output(...), Output(TickAIO.ids.ack("wall"), "data"),
              Input(TickAIO.ids.beat("wall"), "data"), prevent_initial_call=True)
    def refresh_wall(beat: dict) -> ...: ...   # returns (..., beat_number(beat))
"""

from __future__ import annotations

import random
from functools import partial
from typing import Any

from dash import MATCH, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html
from dash.exceptions import PreventUpdate

JITTER = 0.05       # each page's period: the configured tick ± 5 %
STUCK_AFTER = 3     # periods after which a request that never answered stops holding the gate
MIN_STUCK_MS = 10_000


def _id(subcomponent: str, aio_id: str | Any) -> dict[str, Any]:
    return {"component": "TickAIO", "subcomponent": subcomponent, "aio_id": aio_id}


class TickAIO(html.Div):
    """An interval, a gate and a beat store: see the module's docstring."""

    class ids:
        """The dict ids of one instance's parts, by its ``aio_id``."""

        interval = staticmethod(partial(_id, "interval"))
        plan = staticmethod(partial(_id, "plan"))
        beat = staticmethod(partial(_id, "beat"))
        ack = staticmethod(partial(_id, "ack"))

    def __init__(self, aio_id: str, *, seconds: float, jitter: float = JITTER,
                 rng: random.Random | None = None, first_beat: bool = False) -> None:
        plan = tick_plan(aio_id, seconds, jitter=jitter, rng=rng)
        super().__init__([
            dcc.Interval(id=self.ids.interval(aio_id), interval=plan["phase_ms"]),
            dcc.Store(id=self.ids.plan(aio_id), data=plan),
            # sent "at" page load: the gate reads a missing time as the page's own start
            dcc.Store(id=self.ids.beat(aio_id), data={"n": 1, "at": None} if first_beat else None),
            dcc.Store(id=self.ids.ack(aio_id), data=0),
        ], className="tick", style={"display": "none"})


def beat_number(beat: Any) -> int:
    """The number of ``beat`` (the gate's store), to answer into ``TickAIO.ids.ack``."""
    if isinstance(beat, dict) and isinstance(beat.get("n"), int):
        return int(beat["n"])
    raise PreventUpdate   # not a beat the gate sent: nothing to do


def tick_plan(aio_id: str, seconds: float, *, jitter: float = JITTER,
              rng: random.Random | None = None) -> dict[str, Any]:
    """This page's timing: a first tick at a random phase, then a jittered period (ms)."""
    if seconds <= 0:
        raise ValueError(f"tick seconds: expected a positive number, found {seconds!r}")
    pick = rng or random
    period = round(seconds * 1000 * (1 + pick.uniform(-jitter, jitter)))
    return {"name": aio_id, "period_ms": period, "phase_ms": round(pick.uniform(0, period)) + 1,
            "stuck_ms": max(STUCK_AFTER * period, MIN_STUCK_MS)}


clientside_callback(
    ClientsideFunction(namespace="citybrainTick", function_name="gate"),
    Output(TickAIO.ids.beat(MATCH), "data"), Output(TickAIO.ids.interval(MATCH), "interval"),
    Input(TickAIO.ids.interval(MATCH), "n_intervals"),
    State(TickAIO.ids.ack(MATCH), "data"), State(TickAIO.ids.beat(MATCH), "data"),
    State(TickAIO.ids.plan(MATCH), "data"),
    prevent_initial_call=True,
)
