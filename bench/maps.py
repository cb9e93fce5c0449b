"""The board's map, measured for readability and time to draw (issue 16), at 150 and 5,000 agencies of the dense
demo and on the ordinary-size continuum profile (issue 30).

For each network: the map a director opens (every flow of 5 referrals or more, the 150 strongest drawn)
and the board's (flows of at least 11, the complement rule) for the latest 12 months and the latest
whole quarter, laid out by community and by region. Measured: agencies drawn, names written, label
boxes overlapping another label at the default zoom (target 0), share of the frame used (cells of an
8 x 5 grid over the fitted frame holding a dot), the build time of the whole view from a cold layout
cache (scores, layout, HTML), the map's HTML size, and the summary view's build time.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from dataclasses import replace

from bench.data import CACHE, ROOT, SCALES, ensure

NETWORKS = {"150 agencies, 150,000 referrals": (150, 150_000), "5,000 agencies, 1,000,000 referrals": (5_000, 1_000_000),
            # the ordinary-size profile (issue 30), its sizes its own: the benchmark's cached continuum
            f"continuum profile: {SCALES['continuum'].agencies:,} agencies, {SCALES['continuum'].referrals:,} "
            "referrals": "continuum"}


def _database(agencies: int, referrals: int):
    path = CACHE / f"maps_{agencies}_{referrals}.duckdb"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "atlas", "demo", "--db", str(path), "--agencies", str(agencies),
                        "--referrals", str(referrals)], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-m", "atlas", "upgrade", "--db", str(path)], cwd=ROOT, check=True,
                   capture_output=True)
    return path


def run(networks: dict = NETWORKS) -> dict:
    import pandas as pd

    from atlas.db import Atlas
    from atlas.filters import Filters, period_bounds, reporting_periods
    from atlas.views import network

    out = {"date": dt.datetime.now().isoformat(timespec="minutes"), "networks": {}}
    for name, size in networks.items():
        rows = []
        with Atlas(ensure(SCALES[size]).db if isinstance(size, str) else _database(*size)) as db:
            extent = db.query("data_extent").iloc[0]
            first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
            year = Filters(*period_bounds("Last 12 months", first, last))
            _, qs, qe = reporting_periods(first, last, "quarter")[0]
            quarter = Filters(qs, qe, aligned="quarter")
            cases = [("director", "last 12 months", year, network.MapChoice(min_referrals=5), None),
                     ("director, up to 5,000 flows drawn", "last 12 months", year,
                      network.MapChoice(min_referrals=5, top_edges=5_000), None),
                     ("board", f"{quarter.describe_period()}", quarter, network.MapChoice(min_referrals=11), 11)]
            for audience, period, filters, choice, min_cell in cases:
                for cluster_by in network.CLUSTER_BY:
                    network._clustered_layout.cache_clear()
                    network._layout.cache_clear()
                    network._betweenness.cache_clear()
                    started = time.perf_counter()
                    view = network.build(db, filters, replace(choice, cluster_by=cluster_by), min_cell=min_cell)
                    took = time.perf_counter() - started
                    measures = network.readability(view.layout)
                    started = time.perf_counter()
                    network.summary_view(db, filters, by="region", min_cell=min_cell)
                    summary = time.perf_counter() - started
                    rows.append({"audience": audience, "period": period, "cluster_by": cluster_by,
                                 "agencies_drawn": measures["agencies"], "labels": measures["labels"],
                                 "label_overlaps": int(measures["label_overlaps"]),
                                 "frame_used": measures["frame_used"], "build_s": took,
                                 "html_kib": len(view.html.encode()) / 1024, "summary_s": summary,
                                 "flows_drawn": view.flows_drawn, "flows_total": view.flows_total})
        out["networks"][name] = rows
    return out


def table(results: dict) -> list[str]:
    m = results.get("maps")
    if not m:
        return []
    lines = ["## The board's map: readability and time to draw (issue 16)", "",
             "`python -m bench --only-maps` (`bench/maps.py`), measured " + m.get("date", "") + ": the Network map as "
             "a director opens it (flows of 5 or more, last 12 months) and as the board does (flows of at least 11, "
             "the latest whole quarter), laid out by community and by region, from a cold layout cache. **Overlaps** "
             "counts label boxes that overlap another at the default zoom (target 0); **frame used** is the share of "
             "an 8 × 5 grid over the fitted frame holding a dot (a knot in the middle with a scatter around it reads "
             "low); **build** is the whole view (scores, layout, labels, HTML) on the server; the summary view is "
             "built separately." + _measured_apart(m), "",
             "| network | audience, period | grouped by | agencies drawn | names written | overlaps | frame used "
             "| build | map HTML | summary view |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, rows in m["networks"].items():
        for r in rows:
            lines.append(f"| {name} | {r['audience']}, {r['period']} | {r['cluster_by']} | {r['agencies_drawn']:,} "
                         f"| {r['labels']} | {r['label_overlaps']} | "
                         + ("—" if r["frame_used"] is None else f"{r['frame_used']:.0%}")
                         + f" | {r['build_s']:.2f} s | {r['html_kib']:,.0f} KiB | {r['summary_s']:.2f} s |")
    return lines + [""]


def _measured_apart(m: dict) -> str:
    """Networks measured later than the table's date (a profile's run alone, merged), and when."""
    apart = {name: date for name, date in m.get("measured", {}).items() if date != m.get("date")}
    return "".join(f" The {name} was measured {date}." for name, date in apart.items())
