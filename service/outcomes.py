"""What ``/health`` reports of the indicators: the outcome of each one's last live read."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pandas as pd

from datasources.base import Frame


class ReadOutcomes:
    """What the last live (``at=None``) read of each indicator gave: ok, failed or nothing.

    ``readable(indicator_id, level)`` says whether the indicator exists at a level at all,
    so a page asking a level finer than the facts is not counted as a failed binding.
    """

    def __init__(self, order: Sequence[str], readable: Callable[[str, str], bool]) -> None:
        self.index = {ind: n for n, ind in enumerate(order)}
        self.readable = readable
        self._last: dict[str, str | None] = {}   # indicator -> problem text, None when ok
        self._lock = threading.Lock()

    def note(self, ids: Sequence[str], level: str, frame: Frame[pd.DataFrame] | None = None,
             error: Exception | None = None) -> None:
        """Record the outcome of ``DataService.latest(ids, level)``: its frame or its error."""
        got = set(frame.data["indicator"].unique()) if frame is not None and not frame.data.empty else set()
        missing = frame.missing if frame is not None else {}
        outcomes: dict[str, str | None] = {}
        for ind in ids:
            if not self.readable(ind, level):
                continue
            if error is not None:
                outcomes[ind] = f"read failed at {level}: {error}"
            elif ind in missing:
                outcomes[ind] = f"read failed at {level}: {missing[ind]}"
            elif ind not in got:
                why = f" ({frame.error})" if frame is not None and frame.error else ""
                outcomes[ind] = f"returned nothing at {level}{why}"
            else:
                outcomes[ind] = None
        with self._lock:
            self._last.update(outcomes)

    def problems(self) -> list[str]:
        """One line per indicator whose last live read failed or gave nothing."""
        with self._lock:
            bad = [(ind, text) for ind, text in self._last.items() if text]
        return [f"indicators[{self.index.get(ind, '?')}] ({ind}).binding: {text}"
                for ind, text in sorted(bad, key=lambda p: self.index.get(p[0], 0))]
