"""The Funders' Outcomes page's figures (computing layer): rates with 95 % Wilson intervals over shown
programs, the outcome mix protected inside each program, the trend, returns to homelessness and pathways,
each passed through `atlas.views.suppression`. Pure functions over the named queries' rows; the rules they
keep are set out in the package's docstring (atlas.views.outcomes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.views import suppression
from atlas.vocab import NEGATIVE_OUTCOMES, NEUTRAL_OUTCOMES, POSITIVE_OUTCOMES, label

NO_PROGRAM = "No program recorded"
NO_FUNDER = "No funder recorded"
NETWORK = "Whole network"
VICTIM_REFERRERS = "Victim-service agencies (not named)"
NO_REFERRAL = "No referral on record"
HORIZONS = (6, 12, 24)
MIX_PROGRAMS = 20

OUTCOME_LABELS = {
    "housed_permanent": "Housed, permanent", "housed_temporary": "Housed, temporary", "employed": "Employed",
    "income_increased": "Income increased", "education_enrolled": "Enrolled in education",
    "health_connected": "Connected to health care", "exited_no_outcome": "Left, no outcome recorded",
    "unknown": "Unknown", "exited_to_street": "Exited to the street",
    "returned_to_homelessness": "Returned to homelessness",
    "positive_not_shown": "Positive, outcome not shown", "other_not_shown": "Other, outcome not shown",
}
OUTCOME_ORDER = (*POSITIVE_OUTCOMES, "positive_not_shown", *NEUTRAL_OUTCOMES, "other_not_shown", *NEGATIVE_OUTCOMES)
DIMENSIONS = {"service_type": "Service type", "region": "Region", "funder": "Funder", "agency": "Agency",
              "program": "Program"}


@dataclass(frozen=True)
class Suppressed:
    """What was hidden, counted, for the page's and the pack's suppression note."""

    min_cell: int
    programs: int = 0  # programs in the selection
    programs_hidden: int = 0
    mix_cells_hidden: int = 0  # outcome counts inside shown programs that are not itemised
    trend_hidden: int = 0  # quarter figures hidden (network or the funder's)
    returns_hidden: int = 0
    referrers_pooled: int = 0


def _key(frame: pd.DataFrame) -> pd.Series:
    return frame["agency_id"].astype(str) + "|" + frame["program_id"].fillna("").astype(str)


def shown_only(frame: pd.DataFrame, keys: set[str]) -> pd.DataFrame:
    """The rows of shown programs only."""
    if frame.empty:
        return frame
    return frame[_key(frame).isin(keys)]


def program_rows(cells: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """One rate row per (agency, program) from the outcome cells, primary suppression applied."""
    columns = ["key", "agency_id", "program_id", "agency_name", "program_name", "program_label", "region",
               "sector", "service_type", "funder", "exits", "positive", "rate", "ci_low", "ci_high", "suppressed"]
    if cells.empty:
        return pd.DataFrame(columns=columns).astype({"suppressed": bool})
    cells = cells.assign(key=_key(cells))
    cells["positive_exits"] = cells["exits"].where(cells["is_positive"], 0)
    keys = ["key", "agency_id", "program_id", "agency_name", "program_name", "region", "sector", "service_type",
            "funder"]
    rows = (cells.groupby(keys, dropna=False, sort=True)
            .agg(exits=("exits", "sum"), positive=("positive_exits", "sum")).reset_index())
    rows["program_label"] = rows["agency_name"] + " — " + rows["program_name"].fillna(NO_PROGRAM.lower())
    rows = suppression.publish_rates(rows, min_cell)
    return rows[columns]


def aggregate(published: pd.DataFrame, keys: list[str], min_cell: int) -> pd.DataFrame:
    """A rate table over shown programs, grouped by `keys`: sums of shown rows only, so no hidden program
    is ever part of it (and a sum of shown counts is never 1..min_cell-1; the primary rule re-checks)."""
    if published.empty:
        return pd.DataFrame(columns=[*keys, "programs", "exits", "positive", "rate", "ci_low", "ci_high",
                                     "suppressed"])
    frame = published.astype({"exits": "int64", "positive": "int64"})
    out = (frame.groupby(keys, dropna=False, sort=False)
           .agg(programs=("exits", "size"), exits=("exits", "sum"), positive=("positive", "sum")).reset_index())
    out = suppression.publish_rates(out, min_cell)
    return out.sort_values(["exits", "group"], ascending=[False, True], na_position="last").reset_index(drop=True)


def total(published: pd.DataFrame) -> pd.Series:
    """Exits, positive exits, rate and interval over the shown programs."""
    exits = int(published["exits"].sum()) if len(published) else 0
    positive = int(published["positive"].sum()) if len(published) else 0
    low, high = suppression.wilson([positive], [exits])
    return pd.Series({"exits": exits, "positive": positive, "rate": positive / exits if exits else np.nan,
                      "ci_low": low[0], "ci_high": high[0], "programs": len(published)}, dtype=object)


def protect_mix(cells: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Each shown program's outcome counts with a `hidden` flag: counts of 1..min_cell-1 hidden, with
    complements so that a program's hidden positive outcomes, and its hidden other outcomes, each add
    up to 0 or at least min_cell (the program's positive and other exits are shown, so those are the
    totals a reader could subtract from)."""
    if cells.empty:
        return cells.assign(hidden=pd.Series(dtype=bool), key=pd.Series(dtype=str))
    out = cells.assign(key=_key(cells)).sort_values(["key", "outcome"]).reset_index(drop=True)
    # every program is its own table, its positive and its other outcomes the two totals (positive first)
    positive = out["is_positive"].to_numpy(bool)
    out["hidden"] = suppression.protect_many(out["exits"].to_numpy(float), out["key"].to_numpy(),
                                             np.where(positive, 0, 1), min_cell)
    return out


def mix_table(mix_cells: pd.DataFrame, by: str, top: int | None = None) -> pd.DataFrame:
    """Exits by outcome per service type (or per program, the `top` largest): shown counts added up,
    the hidden rest of each program shown as 'positive/other, outcome not shown'."""
    columns = ["group", "outcome", "label", "exits", "share", "group_exits"]
    if mix_cells.empty:
        return pd.DataFrame(columns=columns)
    cells = mix_cells.copy()
    if by == "service_type":
        cells["group"] = cells["service_type"].map(lambda s: NO_PROGRAM if pd.isna(s) else label(s))
    else:
        cells["group"] = cells["agency_name"] + " — " + cells["program_name"].fillna(NO_PROGRAM.lower())
    cells["shown_as"] = np.where(~cells["hidden"], cells["outcome"],
                                 np.where(cells["is_positive"], "positive_not_shown", "other_not_shown"))
    table = cells.groupby(["group", "shown_as"], sort=False)["exits"].sum().reset_index()
    table = table.rename(columns={"shown_as": "outcome"})
    table["group_exits"] = table.groupby("group")["exits"].transform("sum")
    if top is not None:
        biggest = table.drop_duplicates("group").nlargest(top, "group_exits")["group"]
        table = table[table["group"].isin(set(biggest))]
    table["share"] = table["exits"] / table["group_exits"]
    table["label"] = table["outcome"].map(OUTCOME_LABELS)
    order = {o: i for i, o in enumerate(OUTCOME_ORDER)}
    table = table.assign(_o=table["outcome"].map(order)).sort_values(["group_exits", "group", "_o"],
                                                                     ascending=[False, True, True])
    return table[columns].reset_index(drop=True)


def trend_pattern(quarters: pd.DataFrame, min_cell: int):
    """The funders x quarters table of shown programs' exits, as (funders, quarters, exits, positive,
    totals, pattern): cells are (positive, other) pairs numbered row by row; every funder's total,
    every quarter's total and the grand total are published."""
    frame = quarters.assign(funder=quarters["funder"].fillna(NO_FUNDER))
    grid = frame.pivot_table(index="funder", columns="quarter", values=["exits", "positive"], aggfunc="sum",
                             fill_value=0)
    names, periods = list(grid.index), list(grid["exits"].columns)
    exits = grid["exits"].to_numpy(float)
    positive = grid["positive"].to_numpy(float)
    values = np.column_stack([positive.ravel(), (exits - positive).ravel()])
    lines = suppression.table_lines(exits.shape)
    return names, periods, exits, positive, lines, suppression.protect(values, lines, min_cell)


def trend_table(quarters: pd.DataFrame, min_cell: int, funder: str | None = None) -> pd.DataFrame:
    """Positive-exit rate per quarter for the network and, when given, one funder's programs.

    The funders x quarters table is protected as a whole (each funder's total and each quarter's total
    are published), so the pattern is the same whichever funder is looked at."""
    columns = ["scope", "quarter", "exits", "positive", "rate", "ci_low", "ci_high", "suppressed"]
    if quarters.empty:
        return pd.DataFrame(columns=columns).astype({"suppressed": bool})
    names, periods, exits, positive, lines, pattern = trend_pattern(quarters, min_cell)
    rows = []
    column_hidden = pattern.lines_hidden[len(names):len(names) + len(periods)]
    for j, quarter in enumerate(periods):
        rows.append(("network", quarter, exits[:, j].sum(), positive[:, j].sum(), bool(column_hidden[j])))
    if funder in names:
        i = names.index(funder)
        for j, quarter in enumerate(periods):
            rows.append(("funder", quarter, exits[i, j], positive[i, j], bool(pattern.hidden[i * len(periods) + j])))
    out = pd.DataFrame(rows, columns=["scope", "quarter", "exits", "positive", "suppressed"])
    out = suppression.publish_rates(out, min_cell, hidden=out["suppressed"])
    out["quarter"] = pd.to_datetime(out["quarter"]).dt.date
    return out[columns]


def returns_table(housed: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Per horizon (6, 12, 24 months): the clients housed in that horizon's window (the latest year that
    can be followed in full) and how many returned to homelessness within the horizon.

    A row is hidden when its returns or its non-returns are 1..min_cell-1 (or fewer than min_cell clients
    were followed). The three cohorts are separate windows of time, not parts of one total, and the
    table does not depend on the page's filters, so no difference between two figures counts a group."""
    columns = ["horizon_months", "housed_from", "housed_to", "followed", "returned", "rate", "ci_low", "ci_high",
               "suppressed"]
    if housed.empty:
        return pd.DataFrame(columns=columns).astype({"suppressed": bool})
    sums = (housed.groupby(["horizon_months", "housed_from", "housed_to"])[["followed", "returned"]].sum()
            .reset_index().sort_values("horizon_months"))
    out = suppression.publish_rates(sums.rename(columns={"followed": "exits", "returned": "positive"}), min_cell)
    out = out.rename(columns={"exits": "followed", "positive": "returned"})
    for column in ("housed_from", "housed_to"):
        out[column] = pd.to_datetime(out[column]).dt.date
    return out[columns].reset_index(drop=True)


def pathways_table(routes: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Positive-exit rate by referring agency, over the exits of shown programs. Referrers with small
    numbers (and their complements) are pooled into one row, which adds up to 0 or at least min_cell in
    both positive and other exits; victim-service referrers are one unnamed row."""
    columns = ["referrer", "sector", "kind", "exits", "positive", "rate", "ci_low", "ci_high", "suppressed"]
    if routes.empty:
        return pd.DataFrame(columns=columns).astype({"suppressed": bool})
    frame = routes.assign(referrer_id=routes["referrer_id"].fillna(""))
    rows = (frame.groupby(["referrer_kind", "referrer_id"], sort=True)
            .agg(referrer=("referrer_name", "first"), sector=("referrer_sector", "first"),
                 exits=("exits", "sum"), positive=("positive", "sum")).reset_index())
    rows.loc[rows["referrer_kind"] == "none", "referrer"] = NO_REFERRAL
    rows.loc[rows["referrer_kind"] == "victim_service", ["referrer", "sector"]] = [VICTIM_REFERRERS, None]
    values = np.column_stack([rows["positive"], rows["exits"] - rows["positive"]]).astype(float)
    pattern = suppression.protect(values, [np.arange(len(rows))], min_cell)
    shown = rows[~pattern.hidden].assign(kind=lambda f: f["referrer_kind"])
    pooled = rows[pattern.hidden]
    if len(pooled):
        shown = pd.concat([shown, pd.DataFrame([{
            "referrer": f"Other referral routes, pooled ({len(pooled)} with small numbers)", "sector": None,
            "kind": "pooled", "exits": pooled["exits"].sum(), "positive": pooled["positive"].sum()}])],
            ignore_index=True)
    out = suppression.publish_rates(shown, min_cell, hidden=np.zeros(len(shown), bool))
    order = out["kind"].map({"agency": 0, "victim_service": 1, "none": 2, "pooled": 3})
    out = out.assign(_o=order).sort_values(["_o", "exits"], ascending=[True, False])
    out = out[columns].reset_index(drop=True)
    out.attrs["pooled"] = len(pooled)
    return out
