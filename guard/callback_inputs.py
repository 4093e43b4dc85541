"""Callback requests checked before Dash runs them: a malformed or oversized one gets a
clear 400 naming the input, never a server error or minutes of work.

Every ``POST …/_dash-update-component`` body must be

- JSON of at most :data:`MAX_BYTES`, without NaN / Infinity tokens (a browser never
  sends them), nested at most :data:`MAX_DEPTH` deep, with lists of at most
  :data:`MAX_ITEMS` items and strings of at most :data:`MAX_CHARS` characters;
- shaped as Dash sends it for a callback the app has: ``output`` one of its callbacks,
  ``inputs`` / ``state`` one entry per declared dependency (a list of them for an ``ALL``
  pattern) with the declared id and property, ``outputs`` one per declared output;
- within the rules declared for its inputs: :data:`RULES` by component id and property
  (the wall's region list has one name per panel of the layout, no more), :data:`PROPS`
  by property (``n_clicks`` is a count).

The 400 body is ``{"error": "bad_callback_input", "input": "<id>.<property>", "reason":
"…"}``; it names only ids the app declares, never echoes what was sent. The check runs
before anything else reads the body (the sign-in gate and the rate limits parse it too),
for signed-in requesters: an anonymous one gets the gate's 401 and learns nothing of the
callbacks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, request
from flask_login import current_user

if TYPE_CHECKING:
    from dash import Dash
    from flask import Flask

MAX_BYTES = 512 * 1024
MAX_DEPTH = 24
MAX_ITEMS = 5000
MAX_CHARS = 10_000
MAX_REGIONS = 64      # panels of the largest wall layout there could be
NoneType = type(None)
SWITCH = "CITYBRAIN_CHECK_CALLBACK_INPUTS"   # the server config key that turns the checks off (tests)


class Refused(Exception):
    """A callback request that is not run: where (an input's name) and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


@dataclass(frozen=True)
class Rule:
    """What one input may be: its JSON types, and for lists their items and length."""

    types: tuple[type, ...]
    items: tuple[type, ...] = ()
    max_items: int = MAX_ITEMS
    max_chars: int = MAX_CHARS
    min_number: float | None = None
    per_output: int | None = None   # a list with one item per id of this (ALL) output
    prefix: str | None = None       # a string that starts so (a path: "/")

    def check(self, where: str, value: Any, outputs: list[Any]) -> None:
        if isinstance(value, bool) and bool not in self.types:
            raise Refused(where, f"expected {_names(self.types)}, found a boolean")
        if not isinstance(value, self.types):
            raise Refused(where, f"expected {_names(self.types)}, found {_json_type(value)}")
        if isinstance(value, str) and len(value) > self.max_chars:
            raise Refused(where, f"expected at most {self.max_chars} characters")
        if isinstance(value, str) and self.prefix is not None and not value.startswith(self.prefix):
            raise Refused(where, f"expected a string starting with {self.prefix!r}")
        if isinstance(value, int | float) and not isinstance(value, bool) and self.min_number is not None \
                and value < self.min_number:
            raise Refused(where, f"expected a number of at least {self.min_number:g}")
        if not isinstance(value, list):
            return
        if len(value) > self.max_items:
            raise Refused(where, f"expected at most {self.max_items} items")
        if self.items and not all(isinstance(v, self.items) and not isinstance(v, bool) for v in value):
            raise Refused(where, f"expected a list of {_names(self.items)}")
        if any(isinstance(v, str) and len(v) > self.max_chars for v in value):
            raise Refused(where, f"expected items of at most {self.max_chars} characters")
        if self.per_output is not None:
            ids = outputs[self.per_output] if self.per_output < len(outputs) else None
            if not isinstance(ids, list) or len(value) != len(ids):
                raise Refused(where, "expected one item per panel of the layout")


LANG = Rule((str, NoneType), max_chars=8)
PRINTS = Rule((list, NoneType), items=(str, NoneType), max_items=MAX_REGIONS, max_chars=64)
# by component id and property; the wall's lists have one item per panel of its layout
RULES: dict[tuple[str, str], Rule] = {
    ("wall-regions", "data"): Rule((list,), items=(str,), max_items=MAX_REGIONS, max_chars=200, per_output=0),
    ("wall-prints", "data"): Rule((list, NoneType), items=(str, NoneType), max_items=MAX_REGIONS,
                                  max_chars=64, per_output=0),
    ("hb-prints", "data"): PRINTS,
    ("explore-areas", "value"): Rule((list, str, NoneType), items=(str,), max_items=500, max_chars=100),
    ("explore-dates", "start_date"): Rule((str, NoneType), max_chars=40),
    ("explore-dates", "end_date"): Rule((str, NoneType), max_chars=40),
    **{(f"{page}-lang", "data"): LANG for page in ("wall", "hb", "ck", "map", "explore", "admin")},
    ("_pages_location", "pathname"): Rule((str, NoneType), max_chars=2000, prefix="/"),
    ("_pages_location", "search"): Rule((str, NoneType), max_chars=4000),
}
# by property, whatever the component
COUNT = Rule((int, NoneType), min_number=0)
PROPS: dict[str, Rule] = {"n_clicks": COUNT, "n_intervals": COUNT, "clickData": Rule((dict, NoneType))}


# --- the body: JSON, size, depth ------------------------------------------------------------
def parse(raw: bytes) -> Any:
    """The body as JSON, refused when too large, not JSON, or with NaN / Infinity."""
    if len(raw) > MAX_BYTES:
        raise Refused("body", f"expected at most {MAX_BYTES} bytes")
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise Refused("body", "expected JSON without NaN or Infinity") from None


def _no_constant(_token: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def walk(value: Any, where: str = "body") -> None:
    """Refused when nested deeper than MAX_DEPTH, a list or object too long, a string too long
    or a number not finite (iteratively: a deep body cannot exhaust the stack)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Refused(where, f"expected nesting at most {MAX_DEPTH} deep")
        if isinstance(node, dict):
            if len(node) > MAX_ITEMS:
                raise Refused(where, f"expected objects of at most {MAX_ITEMS} keys")
            for key, item in node.items():
                if len(key) > MAX_CHARS:
                    raise Refused(where, f"expected keys of at most {MAX_CHARS} characters")
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            if len(node) > MAX_ITEMS:
                raise Refused(where, f"expected lists of at most {MAX_ITEMS} items")
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str) and len(node) > MAX_CHARS:
            raise Refused(where, f"expected strings of at most {MAX_CHARS} characters")
        elif isinstance(node, float) and not math.isfinite(node):
            raise Refused(where, "expected finite numbers")


# --- the shape: what the app declares -------------------------------------------------------
def check_body(body: Any, callbacks: Mapping[str, Mapping[str, Any]]) -> None:
    """Refused unless ``body`` is a request for one of ``callbacks`` (Dash's callback map)
    shaped as declared, its inputs within :data:`RULES` and :data:`PROPS` (each input's
    size checked first, so that a refusal names it)."""
    if not isinstance(body, dict):
        raise Refused("body", "expected a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or output not in callbacks:
        raise Refused("output", "expected a callback of this app")
    walk(body.get("outputs"), "outputs")
    outputs = _outputs(body.get("outputs"), output)
    spec = callbacks[output]
    for part in ("inputs", "state"):
        declared = spec.get(part) or []
        given = body.get(part, [])
        if not isinstance(given, list) or len(given) != len(declared):
            raise Refused(part, f"expected {len(declared)} entries")
        for dep, item in zip(declared, given, strict=True):
            _dependency(dep, item, outputs)
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise Refused("changedPropIds", "expected a list of strings")
    walk(body)   # what else it holds


def _outputs(given: Any, output: str) -> list[Any]:
    """The outputs asked for, one per output the callback declares (its id and property; an
    ``ALL`` pattern: a list of distinct ids that match it)."""
    declared = _declared_outputs(output)
    items = given if len(declared) > 1 else [given]
    if not isinstance(items, list) or len(items) != len(declared):
        raise Refused("outputs", f"expected {len(declared)} outputs")
    for (cid, prop), item in zip(declared, items, strict=True):
        pattern = json.loads(cid) if cid.startswith("{") else None
        many = pattern is not None and any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values())
        entries = item if many and isinstance(item, list) else [item]
        if many and not isinstance(item, list):
            raise Refused("outputs", f"expected a list for {cid}.{prop}")
        seen = set()
        for entry in entries:
            given = entry.get("property") if isinstance(entry, dict) else None
            if not isinstance(given, str) or given.split("@", 1)[0] != prop \
                    or not _same_id(entry.get("id"), cid, pattern):
                raise Refused("outputs", f"expected {cid}.{prop} as declared")
            key = json.dumps(entry.get("id"), sort_keys=True)
            if key in seen:
                raise Refused("outputs", f"expected distinct ids for {cid}.{prop}")
            seen.add(key)
    return items


def _declared_outputs(output: str) -> list[tuple[str, str]]:
    """``..a.b...c.d..`` (or ``a.b``) as [(id, property)]; an ``@hash`` suffix (duplicate
    outputs) is not part of the property."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    out = []
    for part in parts:
        cid, _, prop = part.rpartition(".")
        out.append((cid, prop.split("@", 1)[0]))
    return out


def _dependency(dep: Mapping[str, str], item: Any, outputs: list[Any]) -> None:
    name = f"{dep['id']}.{dep['property']}"
    wildcard = dep["id"].startswith("{")
    pattern = json.loads(dep["id"]) if wildcard else None
    many = pattern is not None and any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values())
    entries = item if many else [item]
    if many and not isinstance(item, list):
        raise Refused(name, "expected a list of pattern-matching entries")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("property") != dep["property"]:
            raise Refused(name, "expected {id, property, value} with the declared property")
        if not _same_id(entry.get("id"), dep["id"], pattern):
            raise Refused(name, "expected the declared component id")
        if "value" in entry:
            walk(entry["value"], name)
            rule = RULES.get((str(dep["id"]), dep["property"])) or PROPS.get(dep["property"])
            if rule is not None:
                rule.check(name, entry["value"], outputs)


def _same_id(given: Any, declared: str, pattern: Mapping[str, Any] | None) -> bool:
    if pattern is None:
        return given == declared
    if not isinstance(given, dict) or set(given) != set(pattern):
        return False
    for key, want in pattern.items():
        got = given[key]
        if isinstance(want, list):   # ALL / MATCH / ALLSMALLER: any plain value
            if not isinstance(got, str | int | float) or isinstance(got, bool):
                return False
        elif got != want:
            return False
    return True


def _names(types: tuple[type, ...]) -> str:
    words = {list: "a list", dict: "an object", str: "a string", int: "an integer", float: "a number",
             NoneType: "null", bool: "a boolean"}
    return " or ".join(words.get(t, t.__name__) for t in types)


def _json_type(value: Any) -> str:
    return _names((type(value),)) if type(value) in (list, dict, str, int, float, NoneType) else "another type"


# --- the Flask hook ---------------------------------------------------------------------------
def refusal(exc: Refused) -> Response:
    """The 400 answer for ``exc``."""
    reply = jsonify({"error": "bad_callback_input", "input": exc.where, "reason": exc.reason})
    reply.status_code = 400
    return reply


def checker(app: Dash, path: str) -> Callable[[], Response | None]:
    """The ``before_request`` function checking the callback requests of ``app`` at ``path``."""
    def check() -> Response | None:
        if request.path != path or request.method != "POST" or not app.server.config.get(SWITCH, True):
            return None
        if not getattr(current_user, "is_authenticated", False):
            return None   # the sign-in gate answers 401 without reading the body: nothing to tell
        try:
            body = parse(request.get_data(cache=True))
            if app.callback_map:   # Dash fills it on its first request (app.py warms it up)
                check_body(body, app.callback_map)
            else:
                walk(body)
        except Refused as exc:
            return refusal(exc)
        return None
    return check


def install(app: Dash | Flask) -> None:
    """Check every callback request of the Dash ``app`` (or the Flask server it runs on)
    before anything else reads it; installing twice does nothing more."""
    dash_app = app if hasattr(app, "callback_map") else _dash_of(app)
    server = dash_app.server
    if server.extensions.get("citybrain_callback_inputs"):
        return
    server.extensions["citybrain_callback_inputs"] = True
    path = dash_app.config.routes_pathname_prefix + "_dash-update-component"
    # first of all: whatever reads the body after this (the gate, the rate limits) reads JSON
    # that parses, never a 600-deep array or a NaN
    server.before_request_funcs.setdefault(None, []).insert(0, checker(dash_app, path))


def _dash_of(server: Any) -> Dash:
    from dash import get_app

    found = get_app()
    if found.server is not server:
        raise ValueError("expected the Dash app (or its Flask server) to guard")
    return found
