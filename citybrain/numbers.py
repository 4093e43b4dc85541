"""The one number formatter: every number on screen and in exports goes through here.

Chinese statistics round half up (四舍五入): 238.5 shows as 239, -238.5 as -239 (half
away from zero), and 2.675 at two decimals as 2.68. Python's ``round`` and f-string
formats round a binary float half to even, so 2.675 would show as 2.67 and 238.5 as 238;
here a float is read as the shortest decimal that gives it back (``repr``), then rounded
in decimal arithmetic.

Missing values (``None``, NaN, infinities, anything that is not a number) are never
shown as 0: they come out as the missing mark, or ``None`` from :func:`round_half_up`.

>>> format_number(1234567.5, 0)
'1,234,568'
>>> format_number(2.675, 2), format_number(None, 1)
('2.68', '—')
>>> format_percent(3.25, 1, signed=True)
'+3.3%'
>>> format_compact(123456789, 0, "zh"), format_compact(123456789, 0, "en")
('1.23亿', '123M')
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

__all__ = ["MISSING", "format_compact", "format_number", "format_percent", "round_half_up"]

MISSING = "—"


def _to_decimal(value: Any) -> Decimal | None:
    """``value`` as an exact decimal, or None when it is missing or not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    return Decimal(repr(number))   # the shortest decimal that reads back as the same float


def _quantize(value: Any, decimals: int) -> tuple[Decimal, int] | None:
    """``value`` rounded half up (away from zero) to ``decimals`` places, never '-0'."""
    exact = _to_decimal(value)
    if exact is None:
        return None
    places = max(0, int(decimals))
    with localcontext() as ctx:   # enough digits that even 1e308 rounds instead of failing
        ctx.prec = max(28, exact.adjusted() + places + 2)
        try:
            rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            return None
    return (abs(rounded) if rounded.is_zero() else rounded), places


def round_half_up(value: Any, decimals: int) -> float | None:
    """``value`` rounded half up to ``decimals`` places as a number (for exports, grids and
    chart data); None when the value is missing."""
    got = _quantize(value, decimals)
    return None if got is None else float(got[0])


def format_number(value: Any, decimals: int, *, grouping: bool = True, missing: str = MISSING) -> str:
    """``value`` as text with ``decimals`` places, rounded half up, thousands grouped with
    ',' unless ``grouping`` is false; ``missing`` when there is no number."""
    got = _quantize(value, decimals)
    if got is None:
        return missing
    rounded, places = got
    return f"{rounded:{',' if grouping else ''}.{places}f}"


def format_percent(percent: Any, decimals: int = 1, *, signed: bool = False, missing: str = MISSING) -> str:
    """A value already in percent as '3.2%'; with ``signed`` a rise shows as '+3.2%'
    (nothing that rounds to zero gets a sign)."""
    got = _quantize(percent, decimals)
    if got is None:
        return missing
    sign = "+" if signed and got[0] > 0 else ""
    return f"{sign}{format_number(got[0], got[1])}%"


# a tile's number: at most COMPACT_FROM in full, larger in 万 / 亿 (zh) or k / M / B / T (en)
COMPACT_FROM = 1_000_000
_STEPS = {"zh": ((Decimal(10) ** 12, "万亿"), (Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万")),
          "en": ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"),
                 (Decimal(10) ** 3, "k"))}


def format_compact(value: Any, decimals: int, lang: str = "zh", *, missing: str = MISSING) -> str:
    """``value`` as :func:`format_number` while below one million in size; larger, in three
    significant figures of the largest unit it reaches (1.23亿, 123M), so a tile's number
    stays a few characters long whatever the value."""
    exact = _to_decimal(value)
    if exact is None:
        return missing
    if abs(exact) < COMPACT_FROM:
        return format_number(exact, decimals, missing=missing)
    for size, unit in _STEPS["en" if lang == "en" else "zh"]:
        if abs(exact) >= size:
            scaled = exact / size
            if abs(scaled) >= 10_000:   # beyond any unit: no 300-digit number across a screen
                return f"{float(exact):.2e}"
            digits = max(0, 2 - min(2, scaled.copy_abs().adjusted()))   # three significant figures
            return f"{format_number(scaled, digits)}{unit}"
    return format_number(exact, decimals, missing=missing)   # pragma: no cover - the steps reach 1e3
