"""Derived results kept while the reads behind them are unchanged.

A roll-up is recomputed only when one of the store reads it was made from changed: a cache
hit hands back the same fetch (same ``fetched_at``), so the same reads give the same result.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from datasources.base import Frame


class DerivedMemo:
    """The last ``size`` derived frames, each with the signature of the reads behind it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, tuple[tuple[Any, ...], Frame[pd.DataFrame]]] = OrderedDict()

    @staticmethod
    def signature(reads: Mapping[Any, Any]) -> tuple[Any, ...]:
        """What the reads behind a result were: a cache hit returns the same fetch time."""
        out = []
        for k, v in reads.items():
            frame = v[0] if isinstance(v, tuple) else v
            out.append((k, frame.fetched_at, frame.stale) if isinstance(frame, Frame) else (k, str(frame)))
        return tuple(sorted(out, key=repr))

    def recall(self, key: Hashable, signature: tuple[Any, ...]) -> Frame[pd.DataFrame] | None:
        """The result kept for ``key`` when the reads behind it are still the same (a copy)."""
        hit = self._kept.get(key)
        if hit is None or hit[0] != signature:
            return None
        return replace(hit[1], data=hit[1].data.copy())

    def keep(self, key: Hashable, signature: tuple[Any, ...], frame: Frame[pd.DataFrame]) -> Frame[pd.DataFrame]:
        """Keep ``frame`` for ``key``; returns a copy the caller may change."""
        self._kept[key] = (signature, frame)
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return replace(frame, data=frame.data.copy())
