"""The Board's network map at state scale: 5,000 agencies.

Builds (once, cached under bench/cache/) a demo community of 5,000 agencies and 1,000,000 referrals,
then measures the server-side build of the map (named queries, scores, layout, HTML) cold and warm,
and, in headless Chromium, the time from navigation to the map being drawn.
"""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

AGENCIES, REFERRALS = 5_000, 1_000_000
PERIOD = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))

COLD_BUILD = """
import sys, time, datetime as dt
sys.path.insert(0, {root!r})
from atlas import network
from atlas.db import Atlas
from atlas.filters import Filters
db = Atlas({db!r})
started = time.perf_counter()
view = network.build(db, Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
cold = time.perf_counter() - started
started = time.perf_counter()
network.build(db, Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
print(cold, time.perf_counter() - started, view.summary["agencies"], view.flows_total, view.flows_drawn)
"""


def database() -> Path:
    path = CACHE / f"demo_{AGENCIES}_{REFERRALS}.duckdb"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "atlas", "demo", "--db", str(path), "--agencies", str(AGENCIES),
                        "--referrals", str(REFERRALS)], cwd=ROOT, check=True)
    return path


def run(repeats: int = 3) -> dict:
    from atlas import network
    from atlas.db import Atlas
    from atlas.filters import Filters
    from browser import chromium

    db_path = database()
    cold, warm = [], []
    for _ in range(repeats):  # a fresh process each time: nothing cached
        out = subprocess.run([sys.executable, "-c", COLD_BUILD.format(root=str(ROOT), db=str(db_path))],
                             capture_output=True, text=True, check=True).stdout.split()
        cold.append(float(out[0]))
        warm.append(float(out[1]))
        agencies, flows, drawn = map(int, out[2:])
    with Atlas(db_path) as db:
        html = network.build(db, Filters(*PERIOD)).html
    page_file = CACHE / "network_map_5000.html"
    page_file.write_text(html, encoding="utf-8")
    drawn_in = []
    with chromium() as browser:
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            started = time.perf_counter()
            page.goto(page_file.as_uri())
            page.wait_for_selector("body[data-drawn=true]", state="attached", timeout=120_000)
            drawn_in.append(time.perf_counter() - started)
            page.close()
    return {
        "agencies": agencies, "flows_scored": flows, "flows_drawn": drawn, "html_kib": len(html) // 1024,
        "server_build_cold_s": statistics.median(cold), "server_build_warm_s": statistics.median(warm),
        "browser_draw_s": statistics.median(drawn_in), "repeats": repeats,
    }
