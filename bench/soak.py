"""Soak: a screen left running must not accumulate memory, in the browser or on the server.

    python bench/soak.py [--ticks 2000] [--warmup 200] [--tick 0.25] [--page wall|map]

Serves the cockpit with a short tick, opens /wall?layout=1080p (or, with ``--page map``,
the map with every layer on) at 1920×1080 in headless Chromium and lets it tick. After
``warmup`` ticks (the baseline: caches filled, code compiled) and again at the end it
forces garbage collection and reads the page's JS heap
(``performance.memory.usedJSHeapSize``) and the server's resident memory (VmRSS), then
prints both with their growth, from the baseline and over the second half of the run
(so an early peak of freshly compiled code cannot hide a slow leak); the goal is under 5 %.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.map import browser  # noqa: E402
from tests.servers import free_port, serve_app  # noqa: E402

TICKS = ("const s = (window.citybrainTicks || {})[arguments[0]]; "
         "return s ? [s.fired, s.held, s.forced] : [0, 0, 0];")
PAGES = {"wall": "/wall?layout=1080p", "map": "/map?layers=all&kiosk=1"}
HISTORY = "return window.store ? window.store.getState().history.past.length : -1;"
HEAP = """
const done = arguments[arguments.length - 1];
window.gc(); window.gc();
setTimeout(() => { window.gc(); done(performance.memory.usedJSHeapSize); }, 200);
"""


def rss_bytes(pid: int) -> int:
    """The resident memory of process ``pid`` (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def measure(driver: Any, pid: int, page: str) -> dict[str, int]:
    """JS heap after garbage collection, server RSS, and the ticks so far."""
    fired, held, forced = driver.execute_script(TICKS, page)
    return {"heap": int(driver.execute_async_script(HEAP)), "rss": rss_bytes(pid), "ticks": fired,
            "held": held, "forced": forced, "history": driver.execute_script(HISTORY),
            "nodes": driver.execute_script("return document.getElementsByTagName('*').length")}


def wait_ticks(driver: Any, page: str, count: int, timeout: float) -> int:
    """Let the page tick until it has sent ``count`` ticks; the ticks sent."""
    deadline = time.monotonic() + timeout
    fired = 0
    while time.monotonic() < deadline:
        fired = driver.execute_script(TICKS, page)[0]
        if fired >= count:
            break
        time.sleep(0.5)
    return int(fired)


def growth(start: int, end: int) -> float:
    return (end - start) / start * 100


def row(name: str, m: dict[str, int]) -> str:
    return (f"{name:<9} tick {m['ticks']:>5}  JS heap {m['heap'] / 2**20:8.2f} MiB  server RSS "
            f"{m['rss'] / 2**20:8.1f} MiB  DOM nodes {m['nodes']:>5}  Dash history {m['history']:>4}  "
            f"held {m['held']:>5}  forced {m['forced']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--tick", type=float, default=0.25, help="seconds between ticks")
    parser.add_argument("--samples", type=int, default=4, help="measurements between warm-up and end")
    parser.add_argument("--page", choices=sorted(PAGES), default="wall")
    args = parser.parse_args()
    doc = yaml.safe_load((ROOT / "config/default.yaml").read_text(encoding="utf-8"))
    doc["heartbeat"]["tick_seconds"] = args.tick
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "soak.yaml"
        config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        port = free_port()
        server = serve_app(config, port)
        driver = browser("--js-flags=--expose-gc", "--enable-precise-memory-info")
        try:
            driver.set_script_timeout(60)
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
            started = time.monotonic()
            driver.get(f"http://127.0.0.1:{port}{PAGES[args.page]}")
            budget = args.ticks * args.tick * 4 + 120
            wait_ticks(driver, args.page, args.warmup, budget)
            first = measure(driver, server.pid, args.page)
            print(row("start", first), flush=True)
            step = (args.ticks - args.warmup) / (args.samples + 1)
            samples = [first]
            for k in range(1, args.samples + 1):
                wait_ticks(driver, args.page, round(args.warmup + k * step), budget)
                samples.append(measure(driver, server.pid, args.page))
                print(row("", samples[-1]), flush=True)
            wait_ticks(driver, args.page, args.ticks, budget)
            last = measure(driver, server.pid, args.page)
            print(row("end", last), flush=True)
            minutes = (time.monotonic() - started) / 60
        finally:
            driver.quit()
            server.terminate()
            server.wait(10)
    heap, rss = growth(first["heap"], last["heap"]), growth(first["rss"], last["rss"])
    # a slow leak could hide behind the early peak of JIT-compiled code: the second half too
    middle = samples[len(samples) // 2]
    late_heap, late_rss = growth(middle["heap"], last["heap"]), growth(middle["rss"], last["rss"])
    print(f"second half (tick {middle['ticks']} to {last['ticks']}): JS heap {late_heap:+.1f} %, "
          f"server RSS {late_rss:+.1f} %")
    verdict = "ok" if max(heap, rss, late_heap, late_rss) < 5 else "GROWS"
    print(f"summary: {args.page}, {last['ticks']} ticks in {minutes:.1f} min; JS heap {first['heap'] / 2**20:.2f} → "
          f"{last['heap'] / 2**20:.2f} MiB ({heap:+.1f} %), server RSS {first['rss'] / 2**20:.1f} → "
          f"{last['rss'] / 2**20:.1f} MiB ({rss:+.1f} %) from tick {first['ticks']} to "
          f"{last['ticks']}; goal < 5 %: {verdict}")


if __name__ == "__main__":
    main()
