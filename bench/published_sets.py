"""First builds of the board's and funders' published sets (issue 30): the latest whole quarter, then its
year, each on a fresh process's cache, timed: `python -m bench.published_sets DB [DB ...] [--sets funders,board]
[--lengths quarter,year]`.
Not part of `make bench`: a quick check of the protection's cost on one database at a time."""

from __future__ import annotations

import datetime as dt
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


NAMES = {"funders": "funders' set", "board": "board's set"}


def measure(path: str, sets=("funders", "board"), lengths=("quarter", "year"), min_cell: int = 11):
    """(what, seconds) of each set's first build, the quarter before its year (as a visitor meets them)."""
    from atlas.views.network import published as board
    from atlas.views.outcomes import published as funders

    db = Atlas(path)
    latest, last = _latest(db)
    build = {"funders": lambda f: funders.period_set(db, f, min_cell, last),
             "board": lambda f: board.published(db, f, min_cell)}
    for which in sets:
        for length in lengths:
            start, end = latest[length]
            began = time.perf_counter()
            build[which](Filters(start, end, aligned=length))
            yield f"{NAMES[which]}, {length} from {start}", time.perf_counter() - began


if __name__ == "__main__":
    import argparse

    import scipy.optimize  # noqa: F401 - its import is not the protection's cost

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="+")
    parser.add_argument("--sets", default="funders,board")
    parser.add_argument("--lengths", default="quarter,year")
    args = parser.parse_args()
    for path in args.databases:
        for what, seconds in measure(path, args.sets.split(","), args.lengths.split(",")):
            print(f"{path}\t{what}\t{seconds:.2f} s", flush=True)
