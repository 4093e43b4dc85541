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
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

__all__ = ["MISSING", "format_number", "format_percent", "round_half_up"]

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
