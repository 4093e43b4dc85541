"""The errors adapters raise.

    DataSourceError
    ├── StoreUnavailable   the store did not answer (down, refused, timed out): downstream
    └── BadQuery           the request or binding cannot be answered: ours to fix
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import OrderedDict


class DataSourceError(Exception):
    """Base of every error an adapter raises; ``source`` names the adapter."""

    downstream = False

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class StoreUnavailable(DataSourceError):
    """The store behind the adapter did not answer in time."""

    downstream = True


class BadQuery(DataSourceError):
    """The request names something the adapter cannot read."""


# --- what a screen may say of an error ----------------------------------------------------------
# A screen shows a short category and a reference; the details (driver messages with hosts,
# ports, paths) go to the log under that reference, where an operator finds them.

CATEGORIES: dict[str, tuple[str, str]] = {
    "connection": ("连接失败", "connection failed"),
    "timeout": ("超时", "timed out"),
    "query": ("查询错误", "query error"),
    "format": ("数据格式错误", "bad data format"),
    "request": ("请求有误", "bad request"),
    "internal": ("内部错误", "internal error"),
}
_NAMES = "|".join(en for _, en in CATEGORIES.values())
# "<category> (ref <id>)", after the name of the datasource it concerns when there is one
_PUBLIC = re.compile(rf"(?:([A-Za-z0-9_.-]{{1,64}}): )?({_NAMES}) \(ref ([0-9a-f]{{6,16}})\)")
_BY_EN = {en: code for code, (_, en) in CATEGORIES.items()}
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("timeout", ("timed out", "timeout", "no answer within", "statement_timeout", "canceling statement")),
    ("connection", ("refused", "connect", "unavailable", "unreachable", "not known", "broken pipe",
                    "reset by peer", "no route", "not a directory", "no such file")),
    ("format", ("json", "decode", "parse", "format", "invalid literal", "could not convert")),
    ("query", ("sql", "query", "syntax", "relation", "column", "binding", "no such", "unknown")),
)
log = logging.getLogger("citybrain.errors")
REF_SECONDS = 600.0   # the same error text keeps its reference this long
_refs: OrderedDict[str, tuple[str, float]] = OrderedDict()
_lock = threading.Lock()


def category_of(error: BaseException | str) -> str:
    """The short category of ``error`` (a key of :data:`CATEGORIES`)."""
    if isinstance(error, TimeoutError):
        return "timeout"
    text = str(error).lower()
    by_words = next((code for code, words in _WORDS if any(w in text for w in words)), None)
    if isinstance(error, StoreUnavailable | ConnectionError):
        return "timeout" if by_words == "timeout" else "connection"
    if isinstance(error, BadQuery):
        return "query"
    if isinstance(error, ValueError | TypeError | KeyError | UnicodeError):
        return "format"
    return by_words or "internal"


def is_public(text: str) -> bool:
    """Whether ``text`` is only public errors (``<category> (ref <id>)``, ``; ``-joined)."""
    parts = [p.strip() for p in text.split(";") if p.strip()]
    return bool(parts) and all(_PUBLIC.fullmatch(p) for p in parts)


def public(error: BaseException | str, *, where: str = "") -> str:
    """What a screen may say of ``error``: its category and a new reference, with the full
    error logged under that reference (a text that already is public is returned as is)."""
    text = str(error)
    if isinstance(error, str) and is_public(text):
        return text
    full = text if isinstance(error, str) else f"{type(error).__name__}: {text}"
    with _lock:
        known = _refs.get(full)
        if known is not None and known[1] > time.monotonic():
            _refs.move_to_end(full)
            return known[0]                  # the same error again (each tick): one ref, one log line
        shown = f"{CATEGORIES[category_of(error)][1]} (ref {secrets.token_hex(4)})"
        _refs[full] = (shown, time.monotonic() + REF_SECONDS)
        while len(_refs) > 512:
            _refs.popitem(last=False)
    log.warning("error %s%s: %s", shown, f" ({where})" if where else "", full)
    return shown


def references_of(detail: str) -> list[str]:
    """The references given lately to errors whose full text contains ``detail`` (what an
    operator greps the log for; tests check a screen names the right error)."""
    with _lock:
        return [shown.rsplit("(ref ", 1)[1].rstrip(")") for full, (shown, _) in _refs.items() if detail in full]


def on_screen(error: BaseException | str, lang: str) -> str:
    """``error`` as a screen shows it in ``lang``: e.g. ``连接失败 · 编号 1a2b3c4d``."""
    shown = []
    for part in public(error).split(";"):
        found = _PUBLIC.fullmatch(part.strip())
        if found:
            source, category, ref = found.groups()
            zh, en = CATEGORIES[_BY_EN[category]]
            said = f"{en[0].upper()}{en[1:]} · ref {ref}" if lang == "en" else f"{zh} · 编号 {ref}"
            shown.append(f"{source}: {said}" if source else said)
    return "; ".join(dict.fromkeys(shown))
