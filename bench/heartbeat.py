"""What one heartbeat tick costs, with the cache and without it (the baseline), in one run.

    python bench/heartbeat.py [--ticks 200]

Prints per-tick latency (p50 / p95) and ticks per second for both, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_caching.backends import NullCache  # noqa: E402

from datasources.registry import load_checked  # noqa: E402
from service import runtime  # noqa: E402
from service.data import DataService  # noqa: E402


def measure(cockpit: runtime.Cockpit, ticks: int) -> list[float]:
    from pages.heartbeat import page as heartbeat

    runtime.install(cockpit)
    heartbeat.render("zh", initial=True)  # warm
    times = []
    for _ in range(ticks):
        started = time.perf_counter()
        heartbeat.render("zh", initial=False)
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(name: str, times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=20)
    return (f"{name:<10} p50 {statistics.median(times):7.2f} ms   p95 {cuts[18]:7.2f} ms   "
            f"{1000 / statistics.mean(times):7.1f} ticks/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=200)
    args = parser.parse_args()
    config = load_checked()
    import app  # noqa: F401  (installs pages)

    cached = measure(runtime.build(config), args.ticks)
    naive = measure(runtime.Cockpit(config, DataService(config, backend=NullCache())), args.ticks)
    print(summary("cached", cached))
    print(summary("no cache", naive))
    ratio = statistics.median(naive) / statistics.median(cached)
    print(f"one heartbeat tick: cached p50 {statistics.median(cached):.2f} ms vs uncached "
          f"{statistics.median(naive):.2f} ms ({ratio:.1f}x faster with the cache)")


if __name__ == "__main__":
    main()
