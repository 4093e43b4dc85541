"""What a live page's tick sends: only the parts whose content changed since the last one.

The browser keeps the fingerprint of every part it shows (a ``dcc.Store``) and sends it
with each tick; parts whose new fingerprint is the same come back as ``no_update``, so a
tick with nothing new answers without resending data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import dash
from plotly.io.json import to_json_plotly


def fingerprint(value: Any) -> str:
    """A short hash of ``value`` as Dash would send it (components, figures, patches)."""
    return hashlib.blake2b(to_json_plotly(value).encode(), digest_size=8).hexdigest()


def fingerprints(parts: Sequence[Any]) -> list[str]:
    """The fingerprint of each part."""
    return [fingerprint(p) for p in parts]


def only_changed(parts: Sequence[Any], new: Sequence[str], shown: Any) -> tuple[list[Any], Any]:
    """``parts`` with those the browser already shows (same fingerprint in ``shown``, at
    the same place) replaced by ``no_update``, and the prints to store (``no_update``
    when nothing changed). A ``shown`` that is not a list of the same length sends all."""
    if not isinstance(shown, list) or len(shown) != len(new):
        shown = [None] * len(new)
    out = [dash.no_update if old == print_ else part for part, print_, old in zip(parts, new, shown, strict=True)]
    changed = any(p is not dash.no_update for p in out)
    return out, (list(new) if changed else dash.no_update)
