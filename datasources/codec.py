"""A safe serialisation of cached :class:`Frame` values: JSON, never pickle.

A Redis shared with other systems may hold anything; unpickling what it returns would
run whatever code someone put there. JSON only ever becomes data. Anything that does
not decode as one of our frames is treated as a cache miss.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pandas as pd

from .base import Frame

MAGIC = b"cbf1:"


class FrameSerializer:
    """cachelib serializer interface: ``dumps(value) -> bytes``, ``loads(bytes) -> value``."""

    def dumps(self, value: Any, protocol: int | None = None) -> bytes:
        return encode(value)

    def loads(self, value: bytes | None) -> Any:
        if value is None:
            return None
        try:
            return decode(value)
        except (ValueError, KeyError, TypeError):
            return None


def encode(value: Any) -> bytes:
    """Bytes for a Frame (DataFrame or JSON-able data) or a plain JSON-able value."""
    if isinstance(value, Frame):
        if isinstance(value.data, pd.DataFrame):
            data = {"kind": "table", "table": value.data.to_json(orient="table", date_unit="ns")}
        else:
            data = {"kind": "json", "json": value.data}
        doc = {"frame": data, "as_of": value.as_of.isoformat(), "source": value.source,
               "fetched_at": value.fetched_at.isoformat(), "stale": value.stale,
               "error": value.error}
    else:
        doc = {"plain": value}
    return MAGIC + json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8")


def decode(raw: bytes) -> Any:
    """The value :func:`encode` made; ``ValueError`` for anything else."""
    if not raw.startswith(MAGIC):
        raise ValueError("not a cockpit cache value")
    doc = json.loads(raw[len(MAGIC):].decode("utf-8"))
    if "plain" in doc:
        return doc["plain"]
    body = doc["frame"]
    if body["kind"] == "table":
        data: Any = pd.read_json(io.StringIO(body["table"]), orient="table", convert_dates=True)
        data = data.reset_index(drop=True)
    else:
        data = body["json"]
    return Frame(data, as_of=datetime.fromisoformat(doc["as_of"]), source=doc["source"],
                 fetched_at=datetime.fromisoformat(doc["fetched_at"]), stale=bool(doc["stale"]),
                 error=doc["error"])
