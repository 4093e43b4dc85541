"""The area hierarchy (city → district → street → grid) as a tree pages can walk."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

LEVELS = ("city", "district", "street", "grid")


class AreaError(ValueError):
    """An area id that the hierarchy does not know."""


@dataclass(frozen=True)
class Area:
    id: str
    parent_id: str | None
    level: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


class AreaTree:
    """Areas by id, with their children and ancestors."""

    def __init__(self, areas: pd.DataFrame) -> None:
        self._by_id: dict[str, Area] = {}
        self._children: dict[str, list[str]] = {}
        for row in areas.itertuples(index=False):
            parent = None if pd.isna(row.parent_id) else str(row.parent_id)
            area = Area(str(row.id), parent, str(row.level), str(row.name_zh), str(row.name_en))
            self._by_id[area.id] = area
            if parent is not None:
                self._children.setdefault(parent, []).append(area.id)
        roots = [a for a in self._by_id.values() if a.parent_id is None]
        self.root: Area | None = roots[0] if roots else None

    def __contains__(self, area_id: object) -> bool:
        return area_id in self._by_id

    def get(self, area_id: str | None) -> Area:
        """The area ``area_id`` (the city when empty); :class:`AreaError` when unknown."""
        if not area_id:
            if self.root is None:
                raise AreaError("the area hierarchy is empty")
            return self.root
        try:
            return self._by_id[area_id]
        except KeyError:
            raise AreaError(f"unknown area {area_id!r}") from None

    def children(self, area: Area) -> list[Area]:
        return [self._by_id[c] for c in self._children.get(area.id, [])]

    def siblings(self, area: Area) -> list[Area]:
        """The area and the others under the same parent (only itself at the top)."""
        if area.parent_id is None:
            return [area]
        return self.children(self._by_id[area.parent_id])

    def trail(self, area: Area) -> list[Area]:
        """From the city down to ``area``, for breadcrumbs."""
        out = [area]
        while out[0].parent_id is not None and out[0].parent_id in self._by_id:
            out.insert(0, self._by_id[out[0].parent_id])
        return out

    def descendants(self, area: Area) -> set[str]:
        """The ids of ``area`` and every area below it."""
        out, todo = {area.id}, [area.id]
        while todo:
            for child in self._children.get(todo.pop(), []):
                out.add(child)
                todo.append(child)
        return out

    def levels_present(self) -> list[str]:
        """The levels that have at least one area, top down."""
        have = {a.level for a in self._by_id.values()}
        return [lv for lv in LEVELS if lv in have]

    def at_level(self, level: str) -> list[Area]:
        return [a for a in self._by_id.values() if a.level == level]

    def names(self, lang: str) -> dict[str, str]:
        return {a.id: a.name(lang) for a in self._by_id.values()}
