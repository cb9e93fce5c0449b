"""The Overview's referrals by what became of them, as board members and funders see them: an audited set of its
own for a calendar year and its quarters. Loading and computing layer: it reads the named query `referral_trend`
and protects the set with `atlas.views.network.audit`, as the board's network set is protected.

The base cells are each month's accepted, declined and pending referrals (three months a quarter, a month with
none a row of zeros). The figures of a quarter are its cells (the Overview's monthly chart), each month's
referrals, the quarter's accepted, declined and pending referrals (the split its acceptance rate rests on) and
its referrals; the year shows its quarters' months as they stand, and adds its own split and referrals.

The period's referrals are the very figure the board's network set publishes as its total
(`atlas.views.network.published`, from `network_summary`): both sets show it as it stands (hidden only when it is
itself 1 to min_cell-1), so the two share nothing unknown, and any reading of one goes with any reading of the
other: each set's audit is the audit of both together. Each quarter is protected on its own (its figures never
change when later data arrive, and the quarter's own Overview shows exactly them), then the year with the
quarters' patterns fixed, hiding year figures only; a hidden figure the shown ones fix exactly is shown
(`audit.reveal_determined`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from atlas.filters import Filters, period_end
from atlas.views.network.audit import Figures, protect, reveal_determined

STATUSES = ("accepted", "declined", "pending")
MONTHS = 3  # months a quarter
QUARTERS = (1, 4, 7, 10)  # each quarter's first month
# what hiding a referral of each figure costs the reader: a status's total carries the acceptance rate and a
# month's its bar, so the complement hides a month's counts before them
COST = {"cell": 1.0, "month": 3.0, "status": 10.0}


@dataclass(frozen=True)
class Split:
    """What a board member or funder may see of one period's referrals by status: the period's `trend`
    (`referral_trend` rows, each month's counts and month total missing where hidden), whether each status's
    total and the period's referrals are shown."""
    start: dt.date
    end: dt.date
    trend: pd.DataFrame
    status_shown: dict
    total_shown: bool


def published_split(db, filters: Filters, min_cell: int) -> Split:
    """The set of a whole quarter (protected on its own) or a whole calendar year (with its quarters)."""
    if filters.aligned == "year":
        return split_sets(db, filters, min_cell)[-1]
    q = (filters.start.month - 1) // MONTHS
    return _protected(_quarters(db, filters, [q]), [q], False, min_cell)[0]


def split_sets(db, filters: Filters, min_cell: int) -> list[Split]:
    """The sets of the four quarters of the filters' year and of the year, protected together."""
    return _protected(_quarters(db, filters, range(4)), list(range(4)), True, min_cell)


def _quarters(db, filters: Filters, quarters) -> dict:
    """Each quarter's `referral_trend` rows (the filters' other choices kept), by the quarter's index."""
    out = {}
    for q in quarters:
        start = dt.date(filters.start.year, QUARTERS[q], 1)
        part = replace(filters, start=start, end=period_end(start, "quarter"), aligned="quarter")
        out[q] = (start, db.query("referral_trend", **part.params_for("referral_trend")))
    return out


class _Set:
    """The figures over the base cells (quarter, month, status), with a key each to read the pattern back."""

    def __init__(self, frames: dict):
        self.quarters = sorted(frames)
        self.values = np.zeros((len(self.quarters), MONTHS, len(STATUSES)))
        for i, q in enumerate(self.quarters):
            frame = frames[q][1]
            months = pd.to_datetime(frame["month"]).dt.month.to_numpy() - QUARTERS[q] if len(frame) else []
            for row, m in zip(frame[list(STATUSES)].to_numpy(dtype=float), months):
                self.values[i, m] = row
        self.keys: list[tuple] = []
        self.members: list[np.ndarray] = []

    def cell(self, q: int, m: int, s: int) -> int:
        return (self.quarters.index(q) * MONTHS + m) * len(STATUSES) + s

    def add(self, key: tuple, members) -> None:
        self.keys.append(key)
        self.members.append(np.asarray(list(members), np.int64))

    def quarter(self, q: int) -> None:
        every = [self.cell(q, m, s) for m in range(MONTHS) for s in range(len(STATUSES))]
        for m in range(MONTHS):
            for s in range(len(STATUSES)):
                self.add((q, "cell", m, s), [self.cell(q, m, s)])
            self.add((q, "month", m), [self.cell(q, m, s) for s in range(len(STATUSES))])
        for s in range(len(STATUSES)):
            self.add((q, "status", s), [self.cell(q, m, s) for m in range(MONTHS)])
        self.add((q, "total"), every)

    def year(self) -> None:
        for s in range(len(STATUSES)):
            self.add(("year", "status", s), [self.cell(q, m, s) for q in self.quarters for m in range(MONTHS)])
        self.add(("year", "total"), range(self.values.size))

    def protect(self, min_cell: int, fixed: dict, may_hide) -> dict:
        """Hide what must be hidden (never a period's referrals, which the board's network set shows as they
        stand), then show again what the shown figures fix; the pattern by key."""
        figures = Figures(self.values.ravel(), self.members, [k[1] for k in self.keys])
        hidden = np.array([fixed.get(k, bool(small)) for k, small in zip(self.keys, figures.small(min_cell))])
        allowed = np.asarray(may_hide, bool) & np.array([k[1] != "total" for k in self.keys])
        cost = np.array([COST.get(k[1], 1.0) for k in self.keys])
        pattern = protect(figures, min_cell, hidden=hidden, may_hide=allowed, cost=cost)
        return dict(zip(self.keys, reveal_determined(figures, pattern, min_cell, may_show=allowed)))


def _protected(frames: dict, quarters: list[int], with_year: bool, min_cell: int) -> list[Split]:
    """Each quarter protected on its own, then (`with_year`) the year with the quarters' patterns fixed."""
    hidden: dict = {}
    for q in quarters:
        one = _Set({q: frames[q]})
        one.quarter(q)
        hidden.update(one.protect(min_cell, {}, np.ones(len(one.keys), bool)))
    out = [_split(frames[q][0], period_end(frames[q][0], "quarter"), frames[q][1], q, hidden) for q in quarters]
    if with_year:
        every = _Set(frames)
        for q in quarters:
            every.quarter(q)
        every.year()
        hidden.update(every.protect(min_cell, hidden, [k[0] == "year" for k in every.keys]))
        start = frames[quarters[0]][0]
        trend = pd.concat([frames[q][1] for q in quarters], ignore_index=True)
        out.append(_split(dt.date(start.year, 1, 1), dt.date(start.year, 12, 31), trend, "year", hidden))
    return out


def _split(start: dt.date, end: dt.date, trend: pd.DataFrame, period, hidden: dict) -> Split:
    """One period's split as shown: each month's counts and total from the quarter's pattern it belongs to."""
    out = trend.copy()
    if len(out):
        month = pd.to_datetime(out["month"]).dt.month.to_numpy() - 1
        quarter, within = month // MONTHS, month % MONTHS
        for s, status in enumerate(STATUSES):
            gone = [hidden.get((q, "cell", m, s), False) for q, m in zip(quarter, within)]
            out[status] = pd.array(np.where(gone, pd.NA, trend[status]), dtype="Int64")
        gone = [hidden.get((q, "month", m), False) for q, m in zip(quarter, within)]
        out["referred"] = pd.array(np.where(gone, pd.NA, trend["referred"]), dtype="Int64")
    status = {name: not hidden.get((period, "status", s), False) for s, name in enumerate(STATUSES)}
    return Split(start, end, out, status, not hidden.get((period, "total"), False))
