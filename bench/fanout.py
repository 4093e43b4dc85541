"""Fan-out: many viewers polling the heartbeat must not multiply store queries.

    python bench/fanout.py [--viewers 200] [--interval 2] [--duration 60]
    python bench/fanout.py --sign-in-cost [--requests 3000]

Runs the cockpit under gunicorn (2 workers) twice against the same Redis store, fed by
the simulator in the platform's layout: once as built (shared Redis cache with
single-flight) and once as the naive baseline (no cache: every callback reads the store,
the way the Dash examples do). Viewers POST the heartbeat callback every ``interval``
seconds. Store queries are counted by the store itself (Redis INFO commandstats). Viewers
are signed in (one session each run, through the real /login form).

``--sign-in-cost`` measures what the sign-in gate adds to one request, in-process (the
Flask test client, no network): a light callback (a cockpit sort click) and a page GET, each
timed alternately by a signed-in client with the gate on and by a client without a session
with the gate off, in the same run; it prints p50 / p95 of both and their difference.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from citybrain.catalogue import DOMAINS  # noqa: E402
from datasources.registry import load_checked  # noqa: E402
from datasources.simulator.adapter import SimulatorSource  # noqa: E402
from service.feed import Feeder  # noqa: E402
from tests.access.helpers import sign_in, sign_in_http  # noqa: E402
from tests.adapters.redis_server import OwnRedis  # noqa: E402
from tests.servers import free_port  # noqa: E402

ACK = {"aio_id": "hb", "component": "TickAIO", "subcomponent": "ack"}
BEAT = {"aio_id": "hb", "component": "TickAIO", "subcomponent": "beat"}
CALLBACK = {   # one heartbeat tick of a viewer that has nothing yet (no fingerprints)
    "output": "..hb-index.children...hb-domains.children...hb-tiles.children...hb-ticker.children"
              "...{\"domain\":[\"ALL\"],\"type\":\"hb-pulse-label\"}.children"
              "...{\"domain\":[\"ALL\"],\"type\":\"hb-pulse\"}.figure...shell-freshness.children"
              "...hb-prints.data...{\"aio_id\":\"hb\",\"component\":\"TickAIO\",\"subcomponent\":\"ack\"}"
              ".data..",
    "outputs": [{"id": "hb-index", "property": "children"},
                {"id": "hb-domains", "property": "children"},
                {"id": "hb-tiles", "property": "children"},
                {"id": "hb-ticker", "property": "children"},
                [{"id": {"type": "hb-pulse-label", "domain": d}, "property": "children"}
                 for d in DOMAINS],
                [{"id": {"type": "hb-pulse", "domain": d}, "property": "figure"} for d in DOMAINS],
                {"id": "shell-freshness", "property": "children"},
                {"id": "hb-prints", "property": "data"}, {"id": ACK, "property": "data"}],
    "inputs": [{"id": BEAT, "property": "data", "value": {"n": 1, "at": 0}}],
    "state": [{"id": "hb-lang", "property": "data", "value": "zh"},
              {"id": "hb-prints", "property": "data", "value": None}],
    "changedPropIds": ['{"aio_id":"hb","component":"TickAIO","subcomponent":"beat"}.data'],
}


def write_config(folder: Path, store_url: str, cache_url: str | None) -> Path:
    """Live values and events from the store's Redis; history from the simulator."""
    base = yaml.safe_load((ROOT / "config/default.yaml").read_text(encoding="utf-8"))
    base["datasources"]["platform"] = {"type": "redis", "url": store_url,
                                       "events": {"stream": "cityos:events"}}
    base["roles"] = {"events": "platform"}
    for ind in base["indicators"]:
        ind["history"] = ind["binding"]
        ind["binding"] = {"source": "platform", "key": "cityos:idx:{indicator}:{level}",
                          "type": "hash", "value_field": "v", "ts_field": "t"}
    base["cache"] = ({"backend": "redis", "redis_url": cache_url} if cache_url
                     else {"backend": "none"})
    base["heartbeat"]["share_ticks"] = cache_url is not None
    path = folder / ("cached.yaml" if cache_url else "naive.yaml")
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    return path


def serve(config: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CITYBRAIN_CONFIG": str(config), "CITYBRAIN_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "-w", "2", "--threads", "8",
         "-b", f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning", "--graceful-timeout", "3",
         "--keep-alive", "10"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def viewer(port: int, interval: float, until: float, latencies: list[float],
           errors: list[int], cookie: str) -> None:
    body = json.dumps(CALLBACK).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    time.sleep(random.uniform(0, interval))  # viewers opened their screens at different times
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            conn.request("POST", "/_dash-update-component", body,
                         {"Content-Type": "application/json", "Cookie": cookie})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
        except (OSError, http.client.HTTPException):
            errors.append(0)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append((time.monotonic() - started) * 1000)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def store_reads(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_hgetall", {}).get("calls", 0))


def run(name: str, config: Path, store: redis.Redis, args: argparse.Namespace,
        keys: int, ttl: float) -> dict[str, float]:
    port = free_port()
    proc = serve(config, port)
    try:
        web = sign_in_http(requests.Session(), f"http://127.0.0.1:{port}", "leader")
        cookie = "; ".join(f"{c.name}={c.value}" for c in web.cookies)
        before = store_reads(store)
        latencies: list[float] = []
        errors: list[int] = []
        until = time.monotonic() + args.duration
        threads = [threading.Thread(target=viewer, args=(port, args.interval, until, latencies,
                                                         errors, cookie), daemon=True)
                   for _ in range(args.viewers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.duration + 60)
        reads = store_reads(store) - before
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    windows = args.duration / ttl
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0.0] * 19
    result = {"requests": len(latencies), "errors": len(errors), "rps": len(latencies) / args.duration,
              "p50": statistics.median(latencies) if latencies else 0.0, "p95": cuts[18],
              "per_key_per_ttl": reads / keys / windows, "store_reads": reads}
    print(f"{name:<8} {result['requests']:>7} req {result['rps']:7.1f} req/s  p50 {result['p50']:8.1f} ms  "
          f"p95 {result['p95']:8.1f} ms  errors {result['errors']:>4}  store reads {reads:>7}  "
          f"per key per {ttl:g}s TTL {result['per_key_per_ttl']:8.2f}", flush=True)
    if errors:
        print(f"         errors by HTTP status (0 = connection): {dict(Counter(errors))}", flush=True)
    return result


def _timed(client: object, method: str, url: str, body: dict[str, object] | None) -> float:
    started = time.perf_counter()
    reply = client.open(url, method=method, json=body)  # type: ignore[attr-defined]
    elapsed = (time.perf_counter() - started) * 1000
    assert reply.status_code in (200, 204), (url, reply.status_code, reply.get_data()[:200])
    return elapsed


def sign_in_cost(requests_each: int) -> None:
    """p50 / p95 of one request with the gate (signed in) and without it, alternating."""
    import app as cockpit  # the data folder is this run's (set in main)

    gate = cockpit.server.extensions["citybrain_access"]["gate"]
    signed, plain = sign_in(cockpit.server.test_client(), "leader"), cockpit.server.test_client()
    sort = next(d for d in signed.get("/_dash-dependencies").get_json() if d["output"] == "ck-sort.data")
    body = {"output": sort["output"], "outputs": {"id": "ck-sort", "property": "data"},
            "inputs": [[]], "changedPropIds": [],
            "state": [{"id": "ck-sort", "property": "data", "value": None},
                      {"id": "ck-lang", "property": "data", "value": "zh"}]}
    cases = {"light callback": ("POST", "/_dash-update-component", body), "page GET": ("GET", "/cockpit", None)}
    print(f"sign-in cost per request, in-process, {requests_each} requests per case and mode", flush=True)
    for name, (method, url, payload) in cases.items():
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(50):   # warm both paths
            for on in (True, False):
                gate.enabled = on
                _timed(signed if on else plain, method, url, payload)
        for n in range(requests_each * 2):
            on = n % 2 == 0
            gate.enabled = on
            times[on].append(_timed(signed if on else plain, method, url, payload))
        gate.enabled = True
        q = {on: (statistics.median(t), statistics.quantiles(t, n=20)[18]) for on, t in times.items()}
        print(f"{name:<15} gate on  p50 {q[True][0]:6.3f} ms  p95 {q[True][1]:6.3f} ms | "
              f"gate off p50 {q[False][0]:6.3f} ms  p95 {q[False][1]:6.3f} ms | "
              f"difference p50 {q[True][0] - q[False][0]:+6.3f} ms  p95 {q[True][1] - q[False][1]:+6.3f} ms",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--sign-in-cost", action="store_true", help="only the gate's cost per request")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    access_dir = tempfile.mkdtemp(prefix="citybrain-bench-access-")   # users and secret of this run
    atexit.register(shutil.rmtree, access_dir, True)
    os.environ["CITYBRAIN_DATA_DIR"] = access_dir
    os.environ.pop("CITYBRAIN_ACCESS_DB", None)
    os.environ.setdefault("CITYBRAIN_LOG_LEVEL", "WARNING")
    if args.sign_in_cost:
        sign_in_cost(args.requests)
        return
    config = load_checked()
    catalogue = config.catalogue
    snapshot = [i for i in catalogue if i.weight > 0 or i.headline]
    ttl = float(min(i.refresh_seconds for i in snapshot))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store_server = OwnRedis(folder).start()
        cache_server = OwnRedis(folder).start()
        try:
            sim = SimulatorSource("feed", seed=20261125)
            feeder = Feeder(sim, [i.model_copy(update={"binding": i.binding.model_copy(
                update={"source": "feed"})}) for i in catalogue], redis_url=store_server.url,
                sql_url=None)
            now = datetime.now(UTC)
            feeder.setup(timedelta(0), now)
            feeder.tick(now)
            store = redis.Redis.from_url(store_server.url)
            print(f"{args.viewers} viewers polling every {args.interval:g} s for "
                  f"{args.duration:g} s; gunicorn -w 2; heartbeat reads {len(snapshot)} store keys "
                  f"with a {ttl:g} s TTL", flush=True)
            ours = run("cached", write_config(folder, store_server.url, cache_server.url), store,
                       args, len(snapshot), ttl)
            naive = run("naive", write_config(folder, store_server.url, None), store, args,
                        len(snapshot), ttl)
        finally:
            store_server.stop()
            cache_server.stop()
    ratio = naive["per_key_per_ttl"] / max(ours["per_key_per_ttl"], 1e-9)
    print(f"summary: cached {ours['per_key_per_ttl']:.2f} vs naive {naive['per_key_per_ttl']:.1f} "
          f"store reads per key per TTL ({ratio:.0f}x fewer); {ours['rps']:.0f} vs "
          f"{naive['rps']:.0f} req/s; p50 {ours['p50']:.0f} vs {naive['p50']:.0f} ms; "
          f"p95 {ours['p95']:.0f} vs {naive['p95']:.0f} ms")


if __name__ == "__main__":
    main()
