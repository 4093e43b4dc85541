"""Video-wall screen layouts: declarative grids of panels at a design resolution.

Each ``layouts/<name>.yaml`` is one layout; adding a layout is adding a file. A layout
names its design size, a grid, and which region goes where. With ``monitors`` (a grid
of physical screens, e.g. 3×3), every panel must lie within one monitor, so no text
or number ever sits on a bezel line.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import Field, PositiveInt, ValidationError, model_validator

from citybrain.catalogue import Strict
from citybrain.config import UniqueKeyLoader

FOLDER = Path(__file__).resolve().parent
REGIONS = ("header", "index", "domains", "pulse", "ticker", "tiles")


class Panel(Strict):
    """One region of the wall at a place in the layout's grid (1-based)."""

    region: str
    col: PositiveInt
    row: PositiveInt
    colspan: PositiveInt = 1
    rowspan: PositiveInt = 1

    @model_validator(mode="after")
    def _known_region(self) -> Panel:
        if self.region not in REGIONS and not self.region.startswith("indicator:"):
            raise ValueError(f"region: expected one of {', '.join(REGIONS)} or indicator:<id>, "
                             f"found {self.region!r}")
        return self


class ScreenLayout(Strict):
    """A wall layout at its design resolution."""

    name: str
    width: PositiveInt
    height: PositiveInt
    columns: PositiveInt
    rows: PositiveInt
    gap_px: int = Field(default=14, ge=0)
    content_zoom: float = Field(default=1.0, gt=0)
    min_font_px: PositiveInt = 12
    monitors: tuple[PositiveInt, PositiveInt] | None = None
    panels: list[Panel] = Field(min_length=1)

    @model_validator(mode="after")
    def _panels_fit(self) -> ScreenLayout:
        for n, p in enumerate(self.panels):
            if p.col + p.colspan - 1 > self.columns or p.row + p.rowspan - 1 > self.rows:
                raise ValueError(f"panels[{n}] ({p.region}) reaches past the {self.columns}×"
                                 f"{self.rows} grid")
            if self.monitors:
                per_col, per_row = self.columns / self.monitors[0], self.rows / self.monitors[1]
                if ((p.col - 1) // per_col != (p.col + p.colspan - 2) // per_col
                        or (p.row - 1) // per_row != (p.row + p.rowspan - 2) // per_row):
                    raise ValueError(f"panels[{n}] ({p.region}) crosses a bezel between monitors")
        return self


class LayoutError(ValueError):
    """A layout file that cannot be used, or a layout name that does not exist."""


def names() -> list[str]:
    """The shipped layouts, by file name."""
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


@cache
def load(name: str) -> ScreenLayout:
    """The layout ``name``; :class:`LayoutError` names the file and the problem."""
    if name not in names():
        raise LayoutError(f"no wall layout {name!r}; there are {', '.join(names())}")
    path = FOLDER / f"{name}.yaml"
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - safe loader
        return ScreenLayout.model_validate(raw)
    except (ValidationError, yaml.YAMLError) as exc:
        raise LayoutError(f"{path.name}: {exc}") from None
