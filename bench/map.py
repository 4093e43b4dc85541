"""The map at scale: time to the first full render and for a live update to show.

    python bench/map.py [--scale 3]

Serves the cockpit on a large simulated city (scale 3: 7,032 road segments, 21,240 point
features, 3,456 grids) and, as the baseline in the same run, on the default city (scale
1), and opens /map?layers=all in headless Chromium for each:
- first render: from navigation until every feature of every layer is drawn;
- live update: from the start of a tick's request until the frame that shows its new
  colours (ticks that changed no colour are not counted).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from selenium import webdriver
from selenium.webdriver.chrome.options import Options

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, serve_app  # noqa: E402

WATCH = """
// each map tick's request, by its start time: the refresh callback is the one that
// answers the map's own state store
window.__ticks = [];
const send = window.fetch;
window.fetch = function (url, options) {
  const start = performance.now();
  const reply = send.apply(this, arguments);
  if (options && typeof options.body === 'string' && options.body.includes('"map-held"')) {
    reply.then(() => window.__ticks.push(start));
  }
  return reply;
};
"""
# the live features on the map (assets/map.js registers each one it draws), and whether
# every layer has its live colours (a feature drawn after they came is drawn in them; one
# drawn before is restyled in the same task)
DRAWN = """
const registry = window.citybrainMap || {};
const paint = registry.paint || {};
const drawn = Object.values(registry.layers || {})
  .reduce((n, layer) => n + Object.values(layer).filter(f => f._map).length, 0);
return [drawn, Object.keys(paint).length === 7 && Object.values(paint).every(p => 'base' in p)];
"""
# the first tick whose colours were repainted, and the frame that showed them: the map's
# paint callback (assets/map.js) stamps each frame after a restyle in citybrainMap.painted
UPDATE = """
const ticks = window.__ticks.filter(t => t > arguments[0]);
const painted = window.citybrainMap.painted;
for (let i = 0; i < ticks.length; i++) {
  const next = i + 1 < ticks.length ? ticks[i + 1] : Infinity;
  const frame = painted.find(p => p > ticks[i] && p < next);
  if (frame !== undefined) return [ticks[i], frame];
}
return null;
"""


def serve(scale: int, folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    doc = yaml.safe_load((ROOT / "config/default.yaml").read_text(encoding="utf-8"))
    doc["datasources"]["sim"]["scale"] = scale
    doc["heartbeat"]["tick_seconds"] = 3
    config = folder / f"scale{scale}.yaml"
    config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    port = free_port()
    return serve_app(config, port), port


def browser(*extra: str) -> webdriver.Chrome:
    """Headless Chromium at 1920×1080, with ``extra`` command-line switches."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1920,1080", *extra):
        options.add_argument(arg)
    return webdriver.Chrome(options=options)


def features(scale: int) -> int:
    """How many live features /map?layers=all draws: districts, roads, the point layers and
    the sensors' heat discs."""
    from datasources.simulator.geography import build_city

    geo = build_city(20261125, "云江市", "Yunjiang", scale=scale)
    points = sum(len(p.frame) for p in (geo.cameras, geo.sensors, geo.facilities, geo.parking))
    return 6 + len(geo.roads) + points + len(geo.sensors.frame)


def measure(scale: int, folder: Path, updates: int) -> dict[str, float]:
    proc, port = serve(scale, folder)
    driver = browser()
    try:
        expected = features(scale)
        started = time.monotonic()
        driver.get(f"http://127.0.0.1:{port}/map?layers=all")
        drawn = 0
        while time.monotonic() - started < 120:
            drawn, coloured = driver.execute_script(DRAWN)
            if drawn >= expected and coloured:
                driver.execute_script("return new Promise(r => requestAnimationFrame(() => "
                                      "requestAnimationFrame(r)))")   # painted
                break
            time.sleep(0.05)
        first = time.monotonic() - started
        driver.execute_script(WATCH)
        waits = []
        for _ in range(updates):
            mark = driver.execute_script("return performance.now()")
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                times = driver.execute_script(UPDATE, mark)
                if times:
                    waits.append(times[1] - times[0])
                    break
                time.sleep(0.05)
        return {"features": expected, "drawn": drawn, "first_s": first,
                "update_ms": statistics.median(waits) if waits else float("nan"),
                "update_max_ms": max(waits) if waits else float("nan")}
    finally:
        driver.quit()
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--updates", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = {name: measure(scale, Path(tmp), args.updates)
                for name, scale in (("baseline", 1), ("large", args.scale))}
    for name, r in rows.items():
        print(f"{name:<9} {r['features']:>6} features ({r['drawn']} drawn)  first render "
              f"{r['first_s']:5.2f} s  live update median {r['update_ms']:6.0f} ms  "
              f"max {r['update_max_ms']:6.0f} ms", flush=True)
    big = rows["large"]
    print(f"summary: {big['features']} features first render {big['first_s']:.2f} s (goal < 3 s), "
          f"update {big['update_ms']:.0f} ms (goal < 500 ms); default city "
          f"{rows['baseline']['first_s']:.2f} s / {rows['baseline']['update_ms']:.0f} ms")


if __name__ == "__main__":
    main()
