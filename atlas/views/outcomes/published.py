"""The funders' published set (loading and computing layers): what a board member or funder may read of
outcomes for a whole quarter or a whole calendar year, computed from every record and protected as a set.

For each period the set is fixed: the whole network's exits, people and positive exits (with the rate
and its interval), the same by service type, by region, by funder and by agency, and one row per
program (exits recorded against an agency with no program are a row of their own). Every figure but
people is a line over the period's **cells** (a program's positive and other exits; `suppression`), so
the set is one table with totals, and a year is the sum of its quarters' cells. `suppression.protect_nested`
protects each quarter on its own (so a quarter's figures never change when a later quarter's data
arrive), then the year with the quarters fixed, and the linear-programming audit runs over the five
together: nothing published for a year and its quarters pins a hidden count within 1..min_cell-1.

A quarter's set is worked out alone (`quarter_set`), a year's with its quarters (`year_sets`), each once per
database version and min_cell and kept here: the Outcomes page, the Overview, the funder pack and its CSV all read the same published figures.
People are distinct clients, which do not add up over programs or quarters, so they are published for
the whole network only, hidden when they are 1..min_cell-1 or when the network's exits are hidden.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.filters import Filters, period_end, period_label, period_start
from atlas.protection import store
from atlas.protection.kept import Kept
from atlas.views import suppression
from atlas.views.outcomes.rates import NO_FUNDER, NO_PROGRAM
from atlas.vocab import label

KINDS = ("service_type", "region", "funder")  # the breakdowns published beside the network
CELL_COLUMNS = ["key", "agency_id", "program_id", "agency_name", "program_name", "program_label", "region",
                "sector", "service_type", "service", "funder", "funder_group"]


@dataclass(frozen=True)
class PeriodSet:
    """One period's published outcome figures, hidden ones flagged (their counts are still here: only the
    presenting layer leaves them out, through `shown`)."""

    start: dt.date
    end: dt.date
    length: str  # "quarter" or "year"
    cells: pd.DataFrame  # CELL_COLUMNS, exits, positive, hidden: the period's rows with exits
    lines: pd.DataFrame  # kind ("network" or a KINDS), group, programs, exits, positive, hidden
    people: int
    min_cell: int

    @property
    def network(self) -> pd.Series:
        return self.lines[self.lines["kind"] == "network"].iloc[0]

    @property
    def people_hidden(self) -> bool:
        return bool(self.network["hidden"]) or bool(suppression.small([self.people], self.min_cell)[0])

    @property
    def label(self) -> str:
        return period_label(self.start, self.length)


_KEPT = Kept(64)  # each set, year cells and pattern, by database version, period, min_cell and last day


def _kept(key: tuple, make):
    """`make()`, kept under `key` (whose first part is the database version; nothing is kept without one)."""
    return _KEPT.get_or_make(key, make)


def period_set(db, filters: Filters, min_cell: int, last_day: dt.date) -> PeriodSet:
    """The published set of a whole quarter or year (`filters.aligned`). A quarter is protected on its own
    and never changes when its year is protected (`suppression.protect_nested` fixes the quarters first),
    so a quarter's view does not wait for its year."""
    if filters.aligned == "quarter":
        return quarter_set(db, filters.start, min_cell, last_day)
    return year_sets(db, filters.start.year, min_cell, last_day)[(filters.start, filters.aligned)]


def quarter_set(db, start: dt.date, min_cell: int, last_day: dt.date) -> PeriodSet:
    """The published set of the quarter from `start`: the very figures `year_sets` gives it. Kept per database
    version and min_cell."""
    key = (store.version_of(db), "quarter", start, min_cell, last_day)
    return _kept(key, lambda: _protect_quarter(db, start, min_cell, last_day))


def year_sets(db, year: int, min_cell: int, last_day: dt.date) -> dict[tuple[dt.date, str], PeriodSet]:
    """Every published set of a calendar year: each quarter that has ended by `last_day`, and the year
    when it has; keyed by (start, length). Kept per database version and min_cell."""
    return _kept((store.version_of(db), year, min_cell, last_day), lambda: _protect_year(db, year, min_cell, last_day))


@dataclass(frozen=True)
class _Year:
    """A year's cells as the protection sees them: the quarters ended by the last day, every cell any of them
    has (a quarter's rows are the year's, so its lines are the same whichever period is asked), each
    quarter's counts (quarters, cells, positive and other exits) and the lines published over the cells."""

    quarters: list[tuple[dt.date, dt.date]]
    universe: pd.DataFrame
    values: np.ndarray
    groups: list[tuple[str, str, np.ndarray]]

    @property
    def lines(self) -> list[np.ndarray]:
        return [members for _, _, members in self.groups]


def _year(db, year: int, min_cell: int, last_day: dt.date) -> _Year:
    return _kept((store.version_of(db), "cells", year, min_cell, last_day), lambda: _year_cells(db, year, min_cell, last_day))


def _year_cells(db, year: int, min_cell: int, last_day: dt.date) -> _Year:
    quarters = _quarters(year, last_day)
    per_quarter = [_cells(db.query("outcome_mix", start=s, end=e, min_cell=min_cell)) for s, e in quarters]
    universe = (pd.concat(per_quarter, ignore_index=True).drop_duplicates("key", keep="last")
                .sort_values("key").reset_index(drop=True)[CELL_COLUMNS] if quarters
                else pd.DataFrame(columns=CELL_COLUMNS))
    values = np.zeros((len(quarters), len(universe), 2))
    for q, cells in enumerate(per_quarter):
        index = universe["key"].searchsorted(cells["key"])
        values[q, index, 0] = cells["positive"].to_numpy(float)
        values[q, index, 1] = (cells["exits"] - cells["positive"]).to_numpy(float)
    return _Year(quarters, universe, values, _groups(universe))


def _quarter_pattern(db, start: dt.date, min_cell: int, last_day: dt.date) -> suppression.Pattern | None:
    """The quarter's own protection (None when the year has no cells), kept so its year reuses it: read from the
    protected store (atlas.protection.store) when it holds it, else worked out and stored."""
    def make():
        cells = _year(db, start.year, min_cell, last_day)
        if not len(cells.universe):
            return None
        q = [s for s, _ in cells.quarters].index(start)
        end = cells.quarters[q][1]
        found = _stored(db, start, end, "quarter", min_cell, cells)
        if found is not None:
            return suppression.Pattern(*found)
        began = time.perf_counter()
        pattern = suppression.protect(cells.values[q], cells.lines, min_cell)
        _store(db, start, end, "quarter", min_cell, cells, time.perf_counter() - began,
               pattern.hidden, pattern.lines_hidden, pattern.primary)
        return pattern
    return _kept((store.version_of(db), "pattern", start, min_cell, last_day), make)


def _universe(cells: _Year) -> str:
    """What a stored pattern's cells and lines are numbered over: it is read back only over the very same."""
    digest = hashlib.sha256("\n".join(cells.universe["key"].astype(str)).encode())
    digest.update("\n".join(f"{kind}|{group}" for kind, group, _ in cells.groups).encode())
    return digest.hexdigest()[:16]


def _stored(db, start: dt.date, end: dt.date, length: str, min_cell: int, cells: _Year) -> tuple | None:
    """(hidden cells, primary cells, hidden lines) of a period from the protected store, or None."""
    pattern = store.load(store.version_of(db), "funders", start, end, length, min_cell)
    if pattern is None or pattern.get("universe") != _universe(cells):
        return None
    keys = cells.universe["key"].astype(str)
    lines = {tuple(line) for line in pattern["lines"]}
    return (keys.isin(set(pattern["hidden"])).to_numpy(), keys.isin(set(pattern["primary"])).to_numpy(),
            np.array([(kind, group) in lines for kind, group, _ in cells.groups], dtype=bool))


def _store(db, start: dt.date, end: dt.date, length: str, min_cell: int, cells: _Year, seconds: float, hidden,
           lines_hidden, primary=None) -> None:
    keys = cells.universe["key"].astype(str).to_numpy()
    primary = np.zeros(len(keys), bool) if primary is None else np.asarray(primary, bool)
    store.save(store.version_of(db), "funders", start, end, length, min_cell,
               {"universe": _universe(cells), "hidden": keys[np.asarray(hidden, bool)].tolist(),
                "primary": keys[primary].tolist(),
                "lines": [[kind, group] for (kind, group, _), off in zip(cells.groups, lines_hidden) if off]},
               seconds)


def _protect_quarter(db, start: dt.date, min_cell: int, last_day: dt.date) -> PeriodSet:
    cells = _year(db, start.year, min_cell, last_day)
    q = [s for s, _ in cells.quarters].index(start)
    return _quarter_period(db, cells, q, _quarter_pattern(db, start, min_cell, last_day), min_cell)


def _quarter_period(db, cells: _Year, q: int, pattern: suppression.Pattern | None, min_cell: int) -> PeriodSet:
    start, end = cells.quarters[q]
    hidden = pattern.hidden if pattern else np.zeros(0, bool)
    lines_hidden = pattern.lines_hidden if pattern else np.zeros(len(cells.groups), bool)
    return _period(db, start, end, "quarter", cells.universe, cells.values[q], hidden, cells.groups, lines_hidden,
                   min_cell)


def _quarters(year: int, last_day: dt.date) -> list[tuple[dt.date, dt.date]]:
    out = []
    for month in (1, 4, 7, 10):
        start = dt.date(year, month, 1)
        end = period_end(start, "quarter")
        if end <= last_day:
            out.append((start, end))
    return out


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (agency, program) of an `outcome_mix` result: exits and positive exits, and its labels."""
    if frame.empty:
        return pd.DataFrame(columns=[*CELL_COLUMNS, "exits", "positive"])
    frame = frame.assign(key=frame["agency_id"].astype(str) + "|" + frame["program_id"].fillna("").astype(str),
                         positive_exits=frame["exits"].where(frame["is_positive"], 0))
    keys = ["key", "agency_id", "program_id", "agency_name", "program_name", "region", "sector", "service_type",
            "funder"]
    rows = (frame.groupby(keys, dropna=False, sort=True)
            .agg(exits=("exits", "sum"), positive=("positive_exits", "sum")).reset_index())
    rows["program_label"] = rows["agency_name"] + " — " + rows["program_name"].fillna(NO_PROGRAM.lower())
    rows["service"] = rows["service_type"].map(lambda s: NO_PROGRAM if pd.isna(s) else label(s))
    rows["funder_group"] = rows["funder"].fillna(NO_FUNDER)
    return rows[[*CELL_COLUMNS, "exits", "positive"]]


def _groups(cells: pd.DataFrame) -> list[tuple[str, str, np.ndarray]]:
    """The published lines over the cells: the network, then each group of each breakdown (sorted)."""
    out = [("network", "Whole network", np.arange(len(cells)))]
    columns = {"service_type": "service", "region": "region", "funder": "funder_group", "agency": "agency_name"}
    for kind in KINDS:
        values = cells[columns[kind]].fillna("").astype(str).to_numpy()
        for group in sorted(set(values)):
            out.append((kind, group, np.flatnonzero(values == group)))
    return out


def _protect_year(db, year: int, min_cell: int, last_day: dt.date) -> dict[tuple[dt.date, str], PeriodSet]:
    cells = _year(db, year, min_cell, last_day)
    if not cells.quarters:
        return {}
    out = {(start, "quarter"): quarter_set(db, start, min_cell, last_day) for start, _ in cells.quarters}
    if len(cells.quarters) < 4 or period_end(dt.date(year, 1, 1), "year") > last_day:
        return out
    start = period_start(dt.date(year, 1, 1), "year")
    hidden, lines_hidden = _year_pattern(db, cells, start, min_cell, last_day)
    out[(start, "year")] = _period(db, start, period_end(start, "year"), "year", cells.universe,
                                   cells.values.sum(axis=0), hidden, cells.groups, lines_hidden, min_cell)
    return out


def _year_pattern(db, cells: _Year, start: dt.date, min_cell: int, last_day: dt.date) -> tuple:
    """(hidden cells, hidden lines) of the year: from the protected store, else protected with its quarters
    (`suppression.protect_nested`, the quarters' patterns fixed) and stored."""
    end = period_end(start, "year")
    if not len(cells.universe):
        return np.zeros(0, bool), np.zeros(len(cells.groups), bool)
    found = _stored(db, start, end, "year", min_cell, cells)
    if found is not None:
        return found[0], found[2]
    patterns = [_quarter_pattern(db, s, min_cell, last_day) for s, _ in cells.quarters]
    began = time.perf_counter()
    nested = suppression.protect_nested(cells.values, cells.lines, min_cell, year_cells=True, quarters=patterns)
    hidden, lines_hidden = nested.year_cells_hidden, nested.year_hidden[len(cells.universe):]
    _store(db, start, end, "year", min_cell, cells, time.perf_counter() - began, hidden, lines_hidden)
    return hidden, lines_hidden


def _period(db, start, end, length, universe, values, hidden, groups, lines_hidden, min_cell) -> PeriodSet:
    """One period's set from its cells' counts and the protection's pattern."""
    cells = universe.assign(positive=values[:, 0].astype(int), exits=(values[:, 0] + values[:, 1]).astype(int),
                            hidden=np.asarray(hidden, bool))
    real = cells["program_id"].notna().to_numpy()
    has_exits = cells["exits"].to_numpy() > 0
    rows = [{"kind": kind, "group": group, "programs": int((real & has_exits)[members].sum()),
             "exits": int(cells["exits"].to_numpy()[members].sum()),
             "positive": int(cells["positive"].to_numpy()[members].sum()), "hidden": bool(off)}
            for (kind, group, members), off in zip(groups, lines_hidden)]
    if not rows:
        rows = [{"kind": "network", "group": "Whole network", "programs": 0, "exits": 0, "positive": 0,
                 "hidden": False}]
    people = int(db.query("exit_people", start=start, end=end, min_cell=min_cell).iloc[0]["people"])
    return PeriodSet(start, end, length, cells[has_exits].reset_index(drop=True), pd.DataFrame(rows), people,
                     min_cell)


def shown(frame: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Rows ready to present: rate and interval added, and a hidden row's counts, rate and interval left
    out (`suppressed`), as `suppression.publish_rates` writes them."""
    return suppression.publish_rates(frame, min_cell, hidden=frame["hidden"].to_numpy(bool))


def whole_network_period(filters: Filters, min_cell: int) -> bool:
    """Whether a view is asked for one of the board's and funders' periods of the whole network, which the
    published set answers (a director's free filters, or min_cell 0, are answered record by record)."""
    return (min_cell > 0 and filters.aligned in ("quarter", "year") and filters.start is not None
            and not (filters.region or filters.service_type or filters.sector))


def network_figure(one: PeriodSet, funder: str | None = None) -> pd.Series:
    """The network's (or one funder's) published exits, positive exits, rate and interval, with `hidden`;
    for the network also its people (`people` None when hidden)."""
    lines = one.lines
    row = (lines[(lines["kind"] == "funder") & (lines["group"] == funder)] if funder else
           lines[lines["kind"] == "network"])
    out = shown(row.reset_index(drop=True), one.min_cell).iloc[0]
    out["hidden"] = bool(row["hidden"].iloc[0])
    out["people"] = None if funder or one.people_hidden else one.people
    return out


def breakdown(one: PeriodSet, kind: str) -> pd.DataFrame:
    """One breakdown of the period's set (service type, region, funder, agency), largest first, hidden
    rows kept (without counts: `suppressed`)."""
    rows = one.lines[one.lines["kind"] == kind].drop(columns="kind").reset_index(drop=True)
    rows = rows[(rows["exits"] > 0)]
    if kind == "agency":
        places = one.cells.drop_duplicates("agency_name").set_index("agency_name")[["region", "sector"]]
        rows = rows.join(places, on="group")
    out = shown(rows.reset_index(drop=True), one.min_cell)
    order = out.assign(_hidden=out["suppressed"], _exits=out["exits"].fillna(-1).astype(float))
    return (out.loc[order.sort_values(["_hidden", "_exits", "group"], ascending=[True, False, True]).index]
            .reset_index(drop=True))


def program_table(one: PeriodSet, funder: str | None = None) -> pd.DataFrame:
    """The period's program rows (a funder's only, when given), as `rates.program_rows` has them."""
    cells = one.cells if funder is None else one.cells[one.cells["funder"] == funder]
    return shown(cells.reset_index(drop=True), one.min_cell)


def quarter_trend(db, one: PeriodSet, last_day: dt.date, funder: str | None = None) -> pd.DataFrame:
    """The published positive-exit rate of each quarter of the period (one for a quarter, four for a year):
    the very figures those quarters publish, the network's and, when given, the funder's."""
    sets = ({(one.start, "quarter"): one} if one.length == "quarter"
            else year_sets(db, one.start.year, one.min_cell, last_day))
    rows = []
    for (start, length), quarter in sorted(sets.items()):
        if length != "quarter" or not (one.start <= start <= one.end):
            continue
        for scope, name in (("network", None), ("funder", funder)):
            if scope == "funder" and not funder:
                continue
            line = quarter.lines[(quarter.lines["kind"] == scope) & ((quarter.lines["group"] == name) | (name is None))]
            if len(line):
                rows.append({"scope": scope, "quarter": start, "exits": int(line["exits"].iloc[0]),
                             "positive": int(line["positive"].iloc[0]), "hidden": bool(line["hidden"].iloc[0])})
    frame = pd.DataFrame(rows, columns=["scope", "quarter", "exits", "positive", "hidden"])
    out = shown(frame, one.min_cell) if len(frame) else frame.assign(suppressed=frame["hidden"])
    return out[["scope", "quarter", "exits", "positive", "rate", "ci_low", "ci_high", "suppressed"]] if len(frame) \
        else pd.DataFrame(columns=["scope", "quarter", "exits", "positive", "rate", "ci_low", "ci_high", "suppressed"])
