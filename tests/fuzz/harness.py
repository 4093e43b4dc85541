"""A fuzzer of every server callback of the cockpit, through the Flask test client.

It reads the callbacks from ``GET /_dash-dependencies``, draws each page through the pages
router (the real layouts, as a browser gets them) and takes from them the component ids
(pattern-matching ones included) and their values; a valid request per callback is built
from those, then sent again and again with hostile values, ids and shapes. Every answer is
classified: 2xx / 4xx / 5xx, a callback that raised (Dash's ``on_error`` was called), a 200
whose outputs are not the ones asked for, and leaks (traceback text, file paths, host:port,
exception class names).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dash
from flask import got_request_exception

PAGES = ["/", "/map", "/traffic", "/safety", "/cockpit", "/explore", "/admin",
         "/drill?indicator=aqi&level=district", "/wall?layout=1080p", "/wall?layout=4k"]
ROUTER = "_pages_location"
WILDCARDS = (["ALL"], ["ALLSMALLER"], ["MATCH"])
LEAKS = {
    "traceback": re.compile(r"Traceback|File \""),
    "path": re.compile(r"(?:/work/|/home/|/usr/|/tmp/|site-packages|[\w/]+\.py\b)"),
    "host:port": re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}:\d{2,5}\b|\blocalhost:\d{2,5}\b"),
    "exception": re.compile(r"\b(?:[A-Z][a-z0-9]+)+(?:Error|Exception|Exceeded|Unavailable)\b|"
                            r"\b(?:KeyError|StopIteration|PreventUpdate|Traceback)\b"),
}


def deep(levels: int) -> Any:
    value: Any = "x"
    for n in range(levels):
        value = [value] if n % 2 else {"k": value}
    return value


HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1, 2**63, -(2**63), 1e308, -1e308, 1.5, "", " ", "0", "-1",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "'; DROP TABLE users; --",
    "😀\u202e\u0000\ud7ff城市", "../../../etc/passwd", "x" * 100_000, "区" * 5000,
    [], [None], [1, "a", None, {}], list(range(10_000)), ["D01"] * 10_000, {}, {"n": "x"},
    {"n": -1, "at": "x"}, {"a": [1, 2, {"b": None}]}, deep(60), deep(600),
    {"points": [{"customdata": None}]}, {"points": "x"}, {"points": [{"x": "2024-13-45", "customdata": [1e308]}]},
    ["index", "tiles", "indicator:aqi", "indicator:nope", "<b>"], "NaN", "Infinity",
]
NON_FINITE = [float("nan"), float("inf"), float("-inf")]   # sent as the NaN / Infinity tokens


@dataclass
class Target:
    """One server callback and a valid request for it."""

    name: str                 # the callback's function, or its output
    output: str
    body: dict[str, Any]
    pattern_ids: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Stats:
    """What a fuzz run saw."""

    calls: int = 0
    status: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)        # per callback: 5xx, raised, bad shape
    leaks: Counter[str] = field(default_factory=Counter)         # per kind of leak
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add_error(self, name: str, what: str) -> None:
        self.errors[name] += 1
        if len(self.examples) < 400:
            self.examples.append(f"{name}: {what}")

    @property
    def server_errors(self) -> int:
        return sum(self.errors.values())

    def summary(self) -> dict[str, Any]:
        by = Counter({f"{k // 100}xx": 0 for k in (200, 400, 500)})
        for code, n in self.status.items():
            by[f"{code // 100}xx"] += n
        return {"calls": self.calls, **dict(sorted(by.items())), "statuses": dict(sorted(self.status.items())),
                "server_errors": self.server_errors, "leaks": sum(self.leaks.values()),
                "leak_kinds": dict(self.leaks), "errors_per_callback": dict(self.errors),
                "calls_per_s": round(self.calls / self.seconds, 1) if self.seconds else None,
                "examples": self.examples}


# --- discovery --------------------------------------------------------------------------------
def components(layout: Any) -> Iterator[dict[str, Any]]:
    """Every component (``{type, namespace, props}``) in a layout's JSON."""
    stack = [layout]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "props" in node and "type" in node:
                yield node
                stack.extend(v for v in node["props"].values() if isinstance(v, list | dict))
            else:
                stack.extend(v for v in node.values() if isinstance(v, list | dict))


def matches(given: Any, declared: Any) -> bool:
    """Whether component id ``given`` answers to the declared (pattern) id."""
    if not isinstance(declared, dict):
        return given == declared
    return isinstance(given, dict) and set(given) == set(declared) and all(
        isinstance(v, list) or given[k] == v for k, v in declared.items())


def parse_id(raw: str) -> Any:
    return json.loads(raw) if raw.startswith("{") else raw


def split_output(output: str) -> list[tuple[Any, str]]:
    """``..a.b...c.d..`` (or ``a.b``) as [(id, property)]."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [(parse_id(p.rsplit(".", 1)[0]), p.rsplit(".", 1)[1].split("@")[0]) for p in parts]


class Fuzzer:
    """Hostile requests to every server callback of ``app`` through ``client``."""

    def __init__(self, app: dash.Dash, client: Any, seed: int = 11) -> None:
        self.app, self.client = app, client
        self.rng = random.Random(seed)
        self.path = app.config.routes_pathname_prefix + "_dash-update-component"
        self.deps = [d for d in client.get(app.config.routes_pathname_prefix + "_dash-dependencies").get_json()
                     if not d.get("clientside_function")]
        self.router = next(d for d in self.deps if any(i["id"] == ROUTER for i in d["inputs"]))
        self.nodes: list[dict[str, Any]] = []
        self.pages = {page: list(components(self._page(page))) for page in PAGES}
        everything = [n for nodes in self.pages.values() for n in nodes]
        self.area_ids = sorted({str(v) for n in everything if isinstance(n["props"].get("id"), dict)
                                for k, v in n["props"]["id"].items() if k in ("area", "key")} | {"D01", "D02"})
        self.targets = [self._target(d) for d in self.deps]
        self.raised: list[str] = []     # exceptions callbacks raised (to on_error)
        self.failures: list[str] = []   # exceptions that made a 500

    # --- valid requests from the real layouts ---
    def _page(self, page: str) -> Any:
        path, _, query = page.partition("?")
        body = self._body(self.router, {(ROUTER, "pathname"): path, (ROUTER, "search"): f"?{query}" if query else ""})
        reply = self.client.post(self.path, json=body)
        assert reply.status_code == 200, f"the router did not draw {page}: {reply.status_code}"
        return reply.get_json()

    def _found(self, declared: Any) -> list[dict[str, Any]]:
        return [n for n in self.nodes if matches(n["props"].get("id"), declared)]

    def _body(self, dep: dict[str, Any], values: dict[tuple[Any, str], Any] | None = None) -> dict[str, Any]:
        values = values or {}
        outputs = []
        for cid, prop in split_output(dep["output"]):
            if isinstance(cid, dict) and any(v in WILDCARDS for v in cid.values()):
                outputs.append([{"id": n["props"]["id"], "property": prop} for n in self._found(cid)])
            else:
                outputs.append({"id": cid, "property": prop})

        def entries(deps: list[dict[str, Any]]) -> list[Any]:
            out: list[Any] = []
            for d in deps:
                cid, prop = parse_id(d["id"]), d["property"]
                if isinstance(cid, dict) and any(v in WILDCARDS for v in cid.values()):
                    out.append([{"id": n["props"]["id"], "property": prop, "value": n["props"].get(prop)}
                                for n in self._found(cid)])
                    continue
                found = self._found(cid)
                value = values.get((cid if isinstance(cid, str) else json.dumps(cid), prop),
                                   found[0]["props"].get(prop) if found else None)
                out.append({"id": cid, "property": prop, "value": value})
            return out

        inputs = entries(dep["inputs"])
        first = dep["inputs"][0]
        return {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
                "inputs": inputs, "state": entries(dep["state"]),
                "changedPropIds": [f"{first['id']}.{first['property']}"]}

    def _target(self, dep: dict[str, Any]) -> Target:
        entry = self.app.callback_map.get(dep["output"], {})
        func = entry.get("callback")
        name = f"{func.__module__}.{func.__name__}" if func else dep["output"][:60]
        wanted = [parse_id(d["id"]) for d in (*dep["inputs"], *dep["state"])]
        self.nodes = max(self.pages.values(),   # the page that has this callback's components
                         key=lambda nodes: sum(any(matches(n["props"].get("id"), w) for n in nodes) for w in wanted))
        body = self._body(dep, {(ROUTER, "pathname"): "/", (ROUTER, "search"): ""})
        for item in (*body["inputs"], *body["state"]):
            if isinstance(item, dict) and item["property"] == "data" and isinstance(item["id"], dict) \
                    and item["id"].get("subcomponent") == "beat":
                item["value"] = {"n": 1, "at": 0}   # a tick the gate sent
        return Target(name, dep["output"], body)

    # --- hostile requests ---
    def hostile(self) -> Any:
        return self.rng.choice(HOSTILE + NON_FINITE)

    def mutate(self, target: Target, *, values_only: bool = False) -> Any:
        """A hostile variant of ``target``'s valid request (a dict, or raw bytes); with
        ``values_only`` the request keeps the shape Dash sends (hostile values and ids only)."""
        body = json.loads(json.dumps(target.body))
        slots = [(part, i, j) for part in ("inputs", "state") for i, item in enumerate(body[part])
                 for j in (range(len(item)) if isinstance(item, list) else [None])]
        pick = self.rng.random() * (0.8 if values_only else 1.0)
        if pick < 0.05 or not slots:
            return body                                             # the valid request
        if pick < 0.55:
            self._set(body, self.rng.choice(slots), self.hostile())  # one value
        elif pick < 0.70:
            for slot in slots:                                      # every value
                self._set(body, slot, self.hostile())
        elif pick < 0.80:
            self._other_ids(body, grow=not values_only)             # ids of other areas, hostile ids
        elif pick < 0.90:
            self._structure(body)                                   # the request's shape
        else:
            return self._raw(body)                                  # not JSON as Dash sends it
        return body

    def _set(self, body: dict[str, Any], slot: tuple[str, int, int | None], value: Any) -> None:
        part, i, j = slot
        item = body[part][i]
        if j is None:
            item["value"] = value
        else:
            item[j]["value"] = value

    def _other_ids(self, body: dict[str, Any], *, grow: bool) -> None:
        choices = [*self.area_ids, "D99", "<script>", "", 0, -1, 1e308, None, "x" * 300]
        for part in ("inputs", "state", "outputs"):
            items = body[part] if isinstance(body[part], list) else [body[part]]
            for item in items:
                for entry in item if isinstance(item, list) else [item]:
                    if isinstance(entry.get("id"), dict) and (grow or part != "outputs"):
                        for key in entry["id"]:
                            if key not in ("type", "component", "subcomponent", "aio_id"):
                                entry["id"][key] = self.rng.choice(choices)
                    elif grow and self.rng.random() < 0.2:
                        entry["id"] = self.rng.choice(["wall-regions", "nope", "", "<script>"])
                if grow and isinstance(item, list) and self.rng.random() < 0.5:
                    item.extend(json.loads(json.dumps(item[:1])) * self.rng.choice([1, 50, 3000]))

    def _structure(self, body: dict[str, Any]) -> None:
        what = self.rng.randrange(8)
        if what == 0:
            body["inputs"] = body["inputs"][:-1]
        elif what == 1:
            body["state"] = [*body["state"], {"id": "extra", "property": "data", "value": 1}]
        elif what == 2:
            body["outputs"] = self.hostile()
        elif what == 3:
            body["output"] = self.rng.choice(["nope.children", "", None, 5, body["output"] + "x"])
        elif what == 4:
            body["inputs"] = self.hostile()
        elif what == 5:
            body["changedPropIds"] = self.hostile()
        elif what == 6:
            outputs = body["outputs"] if isinstance(body["outputs"], list) else [body["outputs"]]
            for item in outputs:
                if isinstance(item, list):
                    item.extend(json.loads(json.dumps(item[:1])) * self.rng.choice([1, 100, 4000]))
                    break
            else:
                body.pop("outputs", None)
        else:
            for item in body["inputs"]:
                if isinstance(item, dict):
                    item["property"] = self.rng.choice(["children", "", None])
                    break

    def _raw(self, body: dict[str, Any]) -> bytes:
        what = self.rng.randrange(5)
        if what == 0:
            return json.dumps(body).encode()[: self.rng.randrange(1, 200)]
        if what == 1:
            return b"\xff\xfe" + bytes(self.rng.randrange(256) for _ in range(64))
        if what == 2:
            return json.dumps([body, body]).encode()
        if what == 3:
            return b"[" * 100_000 + b"]" * 100_000
        return json.dumps(self.hostile()).encode()

    # --- sending and judging ---
    def send(self, target: Target, body: Any, stats: Stats) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()   # NaN -> NaN token
        self.raised.clear()
        self.failures.clear()
        reply = self.client.post(self.path, data=raw, content_type="application/json")
        stats.calls += 1
        stats.status[reply.status_code] += 1
        text = reply.get_data(as_text=True)
        if reply.status_code >= 500:
            stats.add_error(target.name, f"HTTP {reply.status_code}: {self.failures[:1] or text[:120]}")
        elif self.raised:
            stats.add_error(target.name, f"raised {self.raised[0]}")
        elif reply.status_code == 200:
            problem = self._shape(body, reply)
            if problem:
                stats.add_error(target.name, problem)
        for kind, pattern in LEAKS.items():
            found = pattern.search(text)
            if found:
                stats.leaks[kind] += 1
                if len(stats.examples) < 20:
                    stats.examples.append(f"{target.name}: {kind} leak {found.group(0)!r} in {reply.status_code}")

    def _shape(self, body: Any, reply: Any) -> str | None:
        """Why a 200 does not answer the outputs asked for (None when it does)."""
        try:
            answer = reply.get_json()
        except Exception:  # noqa: BLE001 - a 200 that is not JSON is the finding
            return "a 200 that is not JSON"
        if not isinstance(answer, dict) or not isinstance(answer.get("response"), dict):
            return "a 200 without a response"
        asked = body.get("outputs") if isinstance(body, dict) else None
        items = asked if isinstance(asked, list) else [asked]
        ids = set()
        for item in items:
            for entry in item if isinstance(item, list) else [item]:
                if isinstance(entry, dict):
                    cid = entry.get("id")
                    ids.add(json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else cid)
        extra = [k for k in answer["response"] if k not in ids]
        return f"a 200 answering outputs not asked for: {extra[:3]}" if extra else None

    def watch_errors(self) -> Callable[[], None]:
        """Count every exception a callback raised (Dash hands it to the app's ``on_error``);
        returns the function that stops watching."""
        before = self.app._on_error

        def seen(err: Exception) -> Any:
            self.raised.append(f"{type(err).__name__}: {str(err)[:120]}")
            return before(err) if before else None

        def failed(_sender: Any, exception: BaseException, **_: Any) -> None:
            self.failures.append(f"{type(exception).__name__}: {str(exception)[:120]}")

        self.app._on_error = seen
        got_request_exception.connect(failed, self.app.server)

        def stop() -> None:
            self.app._on_error = before
            got_request_exception.disconnect(failed, self.app.server)
        return stop

    def run(self, calls: int, *, seconds: float | None = None, values_only: bool = False) -> Stats:
        """``calls`` hostile requests spread over every callback (fewer when ``seconds`` run out)."""
        stats = Stats()
        # Dash's own router raises on a path outside the app; only the guard's check stops that
        targets = [t for t in self.targets if not (values_only and t.name.startswith("dash."))]
        stop_watching = self.watch_errors()
        start = time.perf_counter()
        try:
            for n in range(calls):
                target = targets[n % len(targets)]
                self.send(target, self.mutate(target, values_only=values_only), stats)
                if seconds is not None and time.perf_counter() - start > seconds:
                    break
        finally:
            stop_watching()
            stats.seconds = time.perf_counter() - start
        return stats

