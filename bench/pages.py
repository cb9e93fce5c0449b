"""Server time of each page's builder (what a page does between its widgets and its render), cold in a
fresh process and warm (the same call again), on the default demo and on a 5,000-agency demo.

This measures the pure `build` calls the pages make, through the same named queries, without the
Streamlit cache (which makes a repeat visit with the same filters near-instant).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.network_map import CACHE, ROOT, database as big_database

PAGES = ("overview", "bottlenecks", "need", "network", "outcomes")

ONE_PAGE = """
import json, sys, time, datetime as dt
sys.path.insert(0, {root!r})
import pandas as pd
from atlas.db import Atlas
from atlas.filters import Filters, period_bounds
from atlas import {module} as page
db = Atlas({db!r})
extent = db.query("data_extent").iloc[0]
first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
filters = Filters(*period_bounds("Last 12 months", first, last))
times = []
for _ in range(2):
    started = time.perf_counter()
    page.build(db, filters)
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def default_database() -> Path:
    path = CACHE / "demo_150_150000.duckdb"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "atlas", "demo", "--db", str(path)], cwd=ROOT, check=True)
    return path


def run(repeats: int = 3) -> dict:
    results = {}
    for label, path in (("150 agencies, 150,000 referrals", default_database()),
                        ("5,000 agencies, 1,000,000 referrals", big_database())):
        subprocess.run([sys.executable, "-m", "atlas", "upgrade", "--db", str(path)], cwd=ROOT, check=True,
                       capture_output=True)
        rows = {}
        for module in PAGES:
            cold, warm = [], []
            for _ in range(repeats):
                out = subprocess.run([sys.executable, "-c", ONE_PAGE.format(root=str(ROOT), db=str(path),
                                                                              module=module)],
                                     capture_output=True, text=True, check=True).stdout
                first, second = json.loads(out)
                cold.append(first)
                warm.append(second)
            rows[module] = {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm)}
        results[label] = rows
    return results
