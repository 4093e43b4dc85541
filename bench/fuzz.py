"""Fuzz: every server callback with hostile values, ids and shapes; prints what came back.

    python bench/fuzz.py [--calls 10000] [--alone 2000] [--wall 1000] [--seed 11] [--rate-limits]

Signs in as an admin and sends ``--calls`` hostile requests through the app as served
(sign-in gate, callback checks), ``--alone`` more with the callback checks off and requests
shaped as Dash sends them (the callbacks' own robustness), and ``--wall`` from a wall signed
in by a token. Counts: calls, 2xx / 4xx / 5xx, server errors (5xx, a callback that raised,
a 200 answering outputs not asked for) per callback, leaks (traceback text, file paths,
host:port, exception class names), calls per second. Rate limits are off unless
``--rate-limits`` (a 429 would hide callbacks from the fuzz). Exits 1 on any server error
or leak.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CITYBRAIN_DATA_DIR", tempfile.mkdtemp(prefix="citybrain-fuzz-"))  # its own users


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--alone", type=int, default=2_000)
    parser.add_argument("--wall", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rate-limits", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)   # hostile requests are meant to be refused; the counts say how

    import app as cockpit_app
    from access import tokens
    from guard.callback_inputs import SWITCH
    from tests.access.helpers import sign_in, store
    from tests.fuzz.harness import Fuzzer

    server = cockpit_app.server
    if not args.rate_limits:
        for limiter in server.extensions.get("limiter") or []:
            limiter.enabled = False
    fuzzer = Fuzzer(cockpit_app.app, sign_in(server.test_client(), "admin"), seed=args.seed)
    print(f"{len(fuzzer.targets)} server callbacks: " + ", ".join(t.name for t in fuzzer.targets))

    runs = {"served (admin)": fuzzer.run(args.calls)}
    server.config[SWITCH] = False
    runs["callbacks alone (checks off)"] = fuzzer.run(args.alone, values_only=True)
    server.config[SWITCH] = True
    secret, _ = tokens.create(store(), "bench-fuzz-wall", layouts=["1080p"], days=1, actor="bench")
    wall = server.test_client()
    wall.get(f"/kiosk/{secret}")
    fuzzer.client = wall
    runs["served (wall token)"] = fuzzer.run(args.wall)

    failed = False
    total = {"calls": 0, "2xx": 0, "4xx": 0, "5xx": 0, "server_errors": 0, "leaks": 0}
    for name, stats in runs.items():
        summary = stats.summary()
        examples = summary.pop("examples")
        print(f"\n== {name}")
        print(json.dumps(summary, ensure_ascii=False, indent=1))
        for line in examples[:10]:
            print("  e.g.", line[:200])
        for key in total:
            total[key] += summary[key]
        failed |= bool(summary["server_errors"] or summary["leaks"])
    print("\n== total")
    print(json.dumps(total))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
