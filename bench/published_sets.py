"""First builds of the board's and funders' published sets (issue 30): the latest whole quarter, then its
year, each on a fresh process's cache, timed. `python -m bench.published_sets DB [DB ...]`.
Not part of `make bench`: a quick check of the protection's cost on one database at a time."""

from __future__ import annotations

import datetime as dt
import sys
import time

import pandas as pd

from atlas.db import Atlas
from atlas.filters import Filters, board_periods


def _latest(db: Atlas) -> tuple[dict[str, tuple[dt.date, dt.date]], dt.date]:
    """The latest whole quarter and the latest whole year, by length, and the data's last day."""
    extent = db.query("data_extent").iloc[0]
    first, last = (pd.Timestamp(extent[c]).date() for c in ("first_referral", "last_referral"))
    latest: dict[str, tuple[dt.date, dt.date]] = {}
    for _, start, end, length in board_periods(first, last):
        latest.setdefault(length, (start, end))
    return latest, last


def measure(path: str, min_cell: int = 11) -> list[tuple[str, float]]:
    from atlas.views.outcomes import published

    db = Atlas(path)
    latest, last = _latest(db)
    out = []
    for length, (start, end) in latest.items():
        began = time.perf_counter()
        published.period_set(db, Filters(start, end, aligned=length), min_cell, last)
        out.append((f"funders' set, {length} from {start}", time.perf_counter() - began))
    return out


if __name__ == "__main__":
    import scipy.optimize  # noqa: F401 - its import is not the protection's cost

    for path in sys.argv[1:]:
        for what, seconds in measure(path):
            print(f"{path}\t{what}\t{seconds:.2f} s", flush=True)
