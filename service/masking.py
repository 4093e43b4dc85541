"""Personal data masked for those who do not need it: names, phone numbers, licence plates,
ID numbers (``security.personal_fields``), in event rows, map features and detail rows.

A field is personal when its name (a column, a GeoJSON property, or a key inside a dict or
JSON text in a cell) is one of the configured names, or ends in ``_<name>``
(``reporter_phone``). Each value keeps enough to tell rows apart and never the whole:
``张三丰`` → ``张**``, ``13812345678`` → ``138****5678``, ``赣B12345`` → ``赣B****5``,
``360802199001011234`` → ``3608**********1234``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import scope

STAR = "*"
_PHONE = re.compile(r"^\+?[\d\s\-()]{7,20}$")
_ID_NUMBER = re.compile(r"^\d{15}$|^\d{17}[\dXx]$")
_PLATE = re.compile(r"^[\u4e00-\u9fff][A-Za-z][A-Za-z0-9\u4e00-\u9fff·]{4,7}$")


@dataclass
class Found:
    """What a masking pass met: the personal fields that had values, and in how many rows."""

    fields: set[str] = field(default_factory=set)
    rows: int = 0


class Masker:
    """Masks the fields named personal in the config."""

    def __init__(self, fields: Iterable[str]) -> None:
        self.fields = frozenset(f.strip().lower() for f in fields if f.strip())

    def personal(self, name: Any) -> str | None:
        """The configured field ``name`` is (or ends in ``_<field>``), else None."""
        key = str(name).strip().lower()
        if key in self.fields:
            return key
        return next((f for f in self.fields if key.endswith("_" + f)), None)

    # --- frames --------------------------------------------------------------------------
    def frame(self, data: pd.DataFrame, *, mask: bool, scalar: Sequence[str] = ()) -> tuple[pd.DataFrame, Found]:
        """``data`` with its personal values masked when ``mask`` (a copy; the input is never
        changed), and what personal values it holds. Columns in ``scalar`` are known to hold
        plain values and are not searched for nested fields."""
        found = Found()
        if data.empty or not self.fields:
            return data, found
        out = data
        touched = pd.Series(False, index=data.index)
        for column in data.columns:
            name = self.personal(column)
            values = data[column]
            if name is not None:
                present = values.notna() & (values.astype(str).str.strip() != "")
                if present.any():
                    found.fields.add(str(column))
                    touched |= present
                    if mask:
                        out = out.copy() if out is data else out
                        out[column] = values.map(lambda v, n=name: mask_value(n, v))
            elif column not in scalar and (values.dtype == object or pd.api.types.is_string_dtype(values)):
                seen: set[str] = set()
                nested = values.map(lambda v, s=seen: self.nested(v, s, mask=mask))
                hit = pd.Series([bool(x[1]) for x in nested], index=data.index)
                if hit.any():
                    found.fields |= {f"{column}.{k}" for k in seen}
                    touched |= hit
                    if mask:
                        out = out.copy() if out is data else out
                        out[column] = [x[0] for x in nested]
        found.rows = int(touched.sum())
        return out, found

    def nested(self, value: Any, seen: set[str], *, mask: bool) -> tuple[Any, bool]:
        """``value`` (a dict, a list, or JSON text of one) with personal keys masked when
        ``mask``; and whether it held any. Other values come back as they are."""
        if isinstance(value, str):
            text = value.lstrip()
            if text[:1] not in ("{", "["):
                return value, False
            try:
                parsed = json.loads(value)
            except ValueError:
                return value, False
            masked, hit = self.nested(parsed, seen, mask=mask)
            return (json.dumps(masked, ensure_ascii=False) if hit and mask else value), hit
        if isinstance(value, dict):
            out, hit = {}, False
            for key, item in value.items():
                name = self.personal(key)
                if name is not None and item not in (None, ""):
                    seen.add(str(key))
                    hit = True
                    out[key] = mask_value(name, item) if mask else item
                else:
                    out[key], inner = self.nested(item, seen, mask=mask)
                    hit = hit or inner
            return (out if mask else value), hit
        if isinstance(value, list):
            parts = [self.nested(v, seen, mask=mask) for v in value]
            hit = any(h for _v, h in parts)
            return ([v for v, _h in parts] if mask else value), hit
        return value, False

    # --- map layers ------------------------------------------------------------------------
    def collection(self, collection: dict[str, Any], *, mask: bool) -> tuple[dict[str, Any], Found]:
        """A FeatureCollection with its features' personal properties masked when ``mask``."""
        found = Found()
        seen: set[str] = set()
        features = []
        for feature in collection.get("features") or []:
            props, hit = self.nested(feature.get("properties") or {}, seen, mask=mask)
            if hit:
                found.rows += 1
                feature = {**feature, "properties": props} if mask else feature
            features.append(feature)
        found.fields = seen
        if not found.rows or not mask:
            return collection, found
        return {**collection, "features": features}, found


def mask_value(field_name: str, value: Any) -> Any:
    """One personal value masked by what it looks like and what its field is called."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    text = str(value).strip()
    if not text:
        return value
    kind = _kind(field_name, text)
    if kind == "phone":
        digits = [c for c in text if c.isdigit()]
        if len(digits) >= 7:
            return _keep("".join(digits), 3, 4)
    if kind == "id":
        return _keep(text, 4, 4)
    if kind == "plate":
        return _keep(text, 2, 1)
    if kind == "name":
        return _keep(text, 1, 0)
    return _keep(text, 1, 1)


def _kind(field_name: str, text: str) -> str:
    name = field_name.lower()
    if any(w in name for w in ("phone", "mobile", "tel")):
        return "phone"
    if any(w in name for w in ("id_number", "id_card", "idcard", "identity")):
        return "id"
    if "plate" in name:
        return "plate"
    if "name" in name or "reporter" in name or "contact" in name:
        return "name" if not _PHONE.match(text) else "phone"
    if _ID_NUMBER.match(text):
        return "id"
    if _PLATE.match(text):
        return "plate"
    if _PHONE.match(text):
        return "phone"
    return "other"


def _keep(text: str, head: int, tail: int) -> str:
    """``text`` with all but ``head`` leading and ``tail`` trailing characters starred; at
    least a third of it (and one character) is always starred."""
    hidden = max(1, -(-len(text) // 3))
    while head + tail > len(text) - hidden and (head or tail):
        if tail >= head and tail:
            tail -= 1
        else:
            head -= 1
    return text[:head] + STAR * (len(text) - head - tail) + (text[len(text) - tail:] if tail else "")


# --- who sees what ------------------------------------------------------------------------------
REPEAT_SECONDS = 60.0   # the same rows read again by the same person (a ticking screen): one record
_recent: dict[tuple[Any, ...], float] = {}


def shown_frame(masker: Masker, data: pd.DataFrame, what: str, *, scalar: Sequence[str] = ()) -> pd.DataFrame:
    """``data`` as the current scope may see it: masked without the personal right; with it,
    whole, and the view of personal fields recorded in the audit trail."""
    who = scope.current()
    out, found = masker.frame(data, mask=not who.personal, scalar=scalar)
    if who.personal and found.fields:
        record_view(what, found)
    return out


def shown_collection(masker: Masker, collection: dict[str, Any], what: str) -> dict[str, Any]:
    """A FeatureCollection as the current scope may see it (see :func:`shown_frame`)."""
    who = scope.current()
    out, found = masker.collection(collection, mask=not who.personal)
    if who.personal and found.fields:
        record_view(what, found)
    return out


def record_view(what: str, found: Found) -> None:
    """``personal_view`` in the audit trail, once per read; a screen reading the same rows
    again within :data:`REPEAT_SECONDS` is not recorded again."""
    fields = sorted(found.fields)
    key = (scope.current().who, what, tuple(fields), found.rows)
    now = time.monotonic()
    if now - _recent.get(key, -REPEAT_SECONDS) < REPEAT_SECONDS:
        return
    if len(_recent) > 4096:
        _recent.clear()
    _recent[key] = now
    scope.audit("personal_view", what=what, fields=fields, rows=found.rows)
