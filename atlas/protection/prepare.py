"""`python -m atlas prepare`: work out the board's and funders' protected sets of every period they can choose
(`atlas.filters.board_periods`: each whole quarter and year the data holds), so that no board member or funder
waits for the suppression audit: each set is stored beside the database (`atlas.protection.store`), where a
server, a pack or another process reads it. A set already stored for this database is read, not worked out.

The order is newest first, a year at a time: the year's quarters (the latest whole quarter is the sidebar's
default), then the year itself, which reuses its quarters' patterns. Layer: the commands, over the views (the
published modules work a set out and store it; this only asks for each in turn).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from atlas.filters import Filters, board_periods
from atlas.protection import store

AUDIENCES = ("board", "funders")


@dataclass(frozen=True)
class Prepared:
    """One set asked for: its period, audience, whether the store already held it, and the seconds it took (on
    the clock, and of this process's processor time: on a shared machine the two differ)."""

    label: str
    start: dt.date
    end: dt.date
    length: str
    audience: str
    stored_before: bool
    seconds: float
    cpu_seconds: float


def periods(db) -> list[tuple[str, dt.date, dt.date, str]]:
    """Every period the board and funders choose from, newest year first, each year's quarters (newest first)
    before the year; empty when the data holds no whole quarter."""
    extent = db.query("data_extent").iloc[0]
    if pd.isna(extent["first_referral"]):
        return []
    first, last = (pd.Timestamp(extent[c]).date() for c in ("first_referral", "last_referral"))
    chosen = board_periods(first, last)
    return sorted(chosen, key=lambda p: (-p[1].year, p[3] == "year", -p[1].toordinal()))


def one(db, audience: str, filters: Filters, min_cell: int, last_day: dt.date) -> None:
    """The audience's set of the filters' period, worked out (and stored) unless the store holds it."""
    from atlas.views.network import published as board
    from atlas.views.outcomes import published as funders

    if audience == "board":
        board.published(db, filters, min_cell)
    else:
        funders.period_set(db, filters, min_cell, last_day)


def prepare(db, min_cell: int, say: Callable[[str], None] = print, audiences=AUDIENCES,
            stop: Callable[[], bool] = lambda: False) -> list[Prepared]:
    """Work out and store every period's sets for `audiences`, newest first, saying each as it is done; `stop`
    is asked before each set (a server's thread stops once its database is replaced)."""
    extent = db.query("data_extent").iloc[0]
    done: list[Prepared] = []
    chosen = periods(db)
    if not chosen:
        say("The data holds no whole quarter: there is no published set to prepare.")
        return done
    last = pd.Timestamp(extent["last_referral"]).date()
    version = store.version_of(db)
    for label, start, end, length in chosen:
        for audience in audiences:
            if stop():
                return done
            before = store.load(version, audience, start, end, length, min_cell) is not None
            began, cpu = time.perf_counter(), time.process_time()
            one(db, audience, Filters(start, end, aligned=length), min_cell, last)
            took, cpu = time.perf_counter() - began, time.process_time() - cpu
            done.append(Prepared(label, start, end, length, audience, before, took, cpu))
            say(f"{label:>8}  {audience:<8} {took:8.1f} s (processor {cpu:7.1f} s)  "
                f"{'read from the store' if before else 'worked out'}")
    return done
