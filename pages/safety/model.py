"""The numbers of the safety page that are not single indicators: alerts by type."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from pages.common import events_of_kind


def counts_by_category(events: pd.DataFrame, kind: str, since: datetime, lang: str,
                       area_ids: set[str] | None = None) -> pd.Series:
    """How many ``kind`` events of each category (the type within the kind) since ``since``."""
    sel = events_of_kind(events, kind, since, area_ids)
    column = "category_en" if lang == "en" else "category_zh"
    if sel.empty:
        return pd.Series(dtype=int)
    labels = sel[column] if column in sel else sel["kind"]
    return labels.fillna("—").value_counts()
