"""What the shared roll-up costs: the pages' reads through the data service against the
store's own leaf reads, on the simulated city.

    python bench/rollup.py [--scale 1] [--rounds 5]

For each read the pages make on a tick (every indicator's city value; the heartbeat's
60-minute pulse of the weighted indicators at one-minute steps; every indicator per
district), it times:
- baseline: the simulator's leaf read alone (its grid facts), as a store answers;
- cold: the data service's read after the cache expired (leaf read + roll-up);
- warm: the same read again (cache hit, roll-up remembered while the reads are unchanged).
Medians over ``--rounds`` rounds, each round at a new instant so nothing is cached across.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_caching.backends import SimpleCache

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from citybrain.config import load_config  # noqa: E402
from datasources.simulator.adapter import SimulatorSource  # noqa: E402
from service.data import DataService  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    config = load_config(env={})
    sim = SimulatorSource("sim", scale=args.scale)
    grids = [str(g) for g in sim.geo.grid_ids]
    ids = [i.id for i in config.catalogue]
    weighted = [i.id for i in config.catalogue.weighted()]
    inds = list(config.catalogue)
    pulse_inds = [config.catalogue.get(i) for i in weighted]
    results: dict[str, dict[str, list[float]]] = {}
    for n in range(args.rounds):
        at = datetime(2026, 11, 25, 0, 30, tzinfo=UTC) + timedelta(hours=n)
        start = at - timedelta(minutes=60)
        service = DataService(config, sources={"sim": SimulatorSource("sim", scale=args.scale)},
                              backend=SimpleCache(threshold=5000))
        reads = {
            "city latest, all indicators": (
                lambda at=at: sim.latest(inds, "grid", at),
                lambda at=at, s=service: s.latest(ids, "city", at)),
            "district latest, all indicators": (
                lambda at=at: sim.latest(inds, "grid", at),
                lambda at=at, s=service: s.latest(ids, "district", at)),
            "city pulse, 60 x 1 min, weighted": (
                lambda at=at, start=start: sim.series(pulse_inds, grids, start, at, timedelta(minutes=1)),
                lambda at=at, start=start, s=service: s.series(weighted, [s.root_id], start, at,
                                                               timedelta(minutes=1))),
        }
        for name, (leaf, derived) in reads.items():
            row = results.setdefault(name, {"baseline": [], "cold": [], "warm": []})
            row["baseline"].append(timed(leaf))
            row["cold"].append(timed(derived))
            row["warm"].append(timed(derived))
    print(f"scale {args.scale}: {len(grids)} grids, {len(ids)} indicators, {args.rounds} rounds (median ms)")
    for name, row in results.items():
        base, cold, warm = (statistics.median(row[k]) for k in ("baseline", "cold", "warm"))
        print(f"{name:34s} baseline leaf read {base:8.1f}   cold {cold:8.1f} ({cold / base:4.1f}x)   "
              f"warm {warm:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
