"""The area hierarchy in the cockpit's words, from a platform's region table in its own.

A platform calls its districts ``county`` or ``区县`` and may keep no row for the city
itself. The config maps its level words (``city.level_names``) and names the root
(``city.id``, ``city.name_zh``); rows that still do not fit (an unknown level word, a
parent that does not exist) are left out and *counted*, with a message naming what to
change, for ``/health`` and the check command.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

LEVELS = ("city", "district", "street", "grid")
COLUMNS = ["id", "parent_id", "level", "name_zh", "name_en"]


@dataclass(frozen=True)
class Hierarchy:
    """Areas with our level names, one root, and what had to be left out."""

    areas: pd.DataFrame
    root_id: str
    problems: tuple[str, ...] = ()
    dropped: int = 0
    words: Mapping[str, int] = field(default_factory=dict)   # the store's level words seen, with counts

    @cached_property
    def parent(self) -> dict[str, str | None]:
        return {str(i): (None if pd.isna(p) else str(p))
                for i, p in zip(self.areas["id"], self.areas["parent_id"], strict=True)}

    @cached_property
    def level(self) -> dict[str, str]:
        return dict(zip(self.areas["id"].astype(str), self.areas["level"].astype(str), strict=True))

    @cached_property
    def by_level(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {lv: [] for lv in LEVELS}
        for area_id, lv in self.level.items():
            out.setdefault(lv, []).append(area_id)
        return out

    def levels_present(self) -> list[str]:
        """Our levels that have at least one area, top down."""
        return [lv for lv in LEVELS if self.by_level.get(lv)]

    def ancestor(self, area_id: str, level: str) -> str | None:
        """The area at ``level`` that holds ``area_id`` (itself at its own level)."""
        seen = 0
        current: str | None = area_id
        while current is not None and seen < 16:
            if self.level.get(current) == level:
                return current
            current = self.parent.get(current)
            seen += 1
        return None

    @cached_property
    def _up(self) -> dict[tuple[str, str], dict[str, str]]:
        return {}

    def up(self, leaf_level: str, level: str) -> dict[str, str]:
        """Every area of ``leaf_level`` mapped to the area at ``level`` that holds it."""
        key = (leaf_level, level)
        if key not in self._up:
            self._up[key] = {a: top for a in self.by_level.get(leaf_level, [])
                             if (top := self.ancestor(a, level)) is not None}
        return self._up[key]

    def towards(self, leaf_level: str, areas: Iterable[str]) -> dict[str, str]:
        """Each area of ``leaf_level`` under one of ``areas`` (all of one level), mapped to it."""
        wanted = set(areas)
        if not wanted:
            return {}
        level = self.level.get(next(iter(wanted)))
        if level is None:
            return {}
        return {leaf: top for leaf, top in self.up(leaf_level, level).items() if top in wanted}

    def ids_at(self, level: str) -> frozenset[str]:
        return frozenset(self.by_level.get(level, []))


def normalise(raw: pd.DataFrame, *, root_id: str, name_zh: str, name_en: str,
              level_names: Mapping[str, str]) -> Hierarchy:
    """The store's area rows in our words: levels mapped, a root added when the store has none,
    orphans and unknown levels counted and left out."""
    words = {lv: lv for lv in LEVELS} | {str(k): v for k, v in level_names.items()}
    lowered = {k.lower(): v for k, v in words.items()}
    data = raw.copy()
    for column in COLUMNS:
        if column not in data.columns:
            data[column] = None
    data["id"] = data["id"].astype(str)
    seen = Counter(str(w) for w in data["level"])
    mapped = data["level"].map(lambda w: words.get(str(w), lowered.get(str(w).lower())))
    problems: list[str] = []
    unknown = data.loc[mapped.isna(), "level"].astype(str)
    for word, n in Counter(unknown).most_common():
        problems.append(f"{n} area row(s) have the level word {word!r}, which is not mapped: add it to "
                        f"city.level_names (e.g. {word!r}: district) or fix the region table")
    data = data.assign(level=mapped)[mapped.notna()]
    roots = data[data["level"] == "city"]
    if roots.empty:
        root = pd.DataFrame([{"id": root_id, "parent_id": None, "level": "city", "name_zh": name_zh,
                              "name_en": name_en}])
        data = pd.concat([root, data], ignore_index=True)
    elif len(roots) > 1:
        problems.append(f"{len(roots)} area rows are at level city ({', '.join(roots['id'][:3])}): "
                        f"keep one root")
    root = str(data.loc[data["level"] == "city", "id"].iloc[0])
    data["parent_id"] = data["parent_id"].map(lambda p: None if p is None or pd.isna(p) else str(p))
    ids = set(data["id"])
    top = data["level"] == "district"
    data.loc[top & data["parent_id"].isna(), "parent_id"] = root
    data.loc[data["level"] == "city", "parent_id"] = None
    orphan = (data["level"] != "city") & ~data["parent_id"].isin(ids)
    if orphan.any():
        examples = ", ".join(f"{i} (parent {p})" for i, p in
                             data.loc[orphan, ["id", "parent_id"]].head(3).itertuples(index=False))
        problems.append(f"{int(orphan.sum())} area row(s) name a parent that is not in the hierarchy, "
                        f"e.g. {examples}: set city.id to the root's id or fix parent ids")
    kept = data[~orphan]
    dropped = int(mapped.isna().sum() + orphan.sum())
    kept = _reachable(kept, root)
    kept["name_zh"] = kept["name_zh"].where(kept["name_zh"].notna(), kept["id"]).astype(str)
    kept["name_en"] = kept["name_en"].where(kept["name_en"].notna(), kept["name_zh"]).astype(str)
    extra = [c for c in kept.columns if c not in COLUMNS]
    return Hierarchy(kept[COLUMNS + extra].reset_index(drop=True), root, tuple(problems), dropped, dict(seen))


def _reachable(data: pd.DataFrame, root: str) -> pd.DataFrame:
    """Rows whose parents lead to the root (cycles and detached branches left out)."""
    parent = dict(zip(data["id"], data["parent_id"], strict=True))
    ok: dict[str, bool] = {root: True}

    def reaches(area: str) -> bool:
        path = []
        while area not in ok and len(path) < 16:
            path.append(area)
            nxt = parent.get(area)
            if nxt is None:
                break
            area = nxt
        good = ok.get(area, False)
        for p in path:
            ok[p] = good
        return good

    return data[[reaches(a) for a in data["id"]]].copy()
