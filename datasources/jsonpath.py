"""A tiny dotted path walker for the JSON a store returns: ``$.data.items``,
``data.items[0].rows``, ``results[2]``. Keys and list indices only; no filters, no
wildcards, no eval. An empty path (or ``$``) is the document itself.
"""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")


class PathError(ValueError):
    """The path is malformed, or the document has nothing at it."""


def parse(path: str) -> list[str | int]:
    """The steps of ``path``: keys as strings, list indices as ints."""
    if not isinstance(path, str):
        raise PathError(f"expected a dotted path such as 'data.items', found {path!r}")
    text = path.strip()
    text = text.removeprefix("$")
    text = text[1:] if text.startswith(".") and not text.startswith("..") else text
    steps: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None or (pos == 0 and text.startswith(".")):
            raise PathError(f"cannot read path {path!r} at character {pos + 1}: "
                            f"expected a key or [index], found {text[pos:]!r}")
        key, index = match.groups()
        steps.append(int(index) if index is not None else key.strip())
        pos = match.end()
    return steps


def problem(path: Any) -> str | None:
    """Why ``path`` is not a valid dotted path, or None when it is."""
    try:
        parse(path)
    except PathError as exc:
        return str(exc)
    return None


def walk(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``; :class:`PathError` says where it stopped."""
    here: Any = document
    done = "$"
    for step in parse(path):
        if isinstance(step, int):
            if not isinstance(here, list):
                raise PathError(f"{done} is {_kind(here)}, not a list, so it has no [{step}]")
            if not -len(here) <= step < len(here):
                raise PathError(f"{done} has {len(here)} item(s), so it has no [{step}]")
            here = here[step]
            done += f"[{step}]"
        else:
            if not isinstance(here, dict):
                raise PathError(f"{done} is {_kind(here)}, not an object, so it has no key {step!r}")
            if step not in here:
                keys = ", ".join(map(str, list(here)[:10])) or "none"
                raise PathError(f"{done} has no key {step!r} (keys: {keys})")
            here = here[step]
            done += f".{step}"
    return here


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", type(None): "null"}.get(
        type(value), type(value).__name__)
