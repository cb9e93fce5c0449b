"""The Funders' Outcomes page (and the funder pack): what the network achieves for people, with every
small number protected.

`build(db, filters, funder, min_cell)` reads the named queries and returns an `Outcomes` view: rate
tables with 95 % Wilson intervals by program, agency, service type and funder, the network rate,
a quarterly trend, the outcome mix, returns to homelessness after a housing exit and outcomes by
referring agency, each already passed through `atlas.views.suppression`, with the charts and plain notes
of what was hidden and why. It is pure (no Streamlit); `db` is anything with `.query(name, **params)`.

How the page keeps hidden counts hidden, whatever the filters:

* A program (an agency's exits for one program, or recorded against the agency only) is shown or
  hidden on its own counts in the period (primary rule), which no region, sector, service-type or
  funder choice changes. Every figure that adds programs up (agency, service type, funder, the
  selection's total, the network rate, the trend, the mix, returns, pathways) adds up **shown
  programs only**. So the difference between any two totals, on one view or across two filter
  choices, is a sum of programs that are shown anyway: a hidden program is never the remainder.
* The outcome mix is protected inside each shown program first (outcome counts of 1 to m-1 hidden,
  with complements so that the program's hidden positive and hidden other outcomes each add up to 0
  or at least m); groups add up the shown counts and show the rest as "outcome not shown".
* The trend and pathways break figures down by time and by referrer. They are built for the whole
  network of the period (they ignore the region, service-type and sector filters, so two filter
  choices cannot be differenced), with complementary suppression inside each table; the trend's
  funder rows are protected together with the network's. Returns to homelessness are network-wide
  too, and each horizon has its own fixed window of housing exits, whatever the period.
* Victim-service agencies are left out (the queries drop them whenever min_cell > 0), and as
  referrers they are pooled and never named.

What suppression cannot stop: two overlapping periods (say the last 12 and the last 6 months)
differ by the exits in between, which can be few. See docs/metrics.md, "Small numbers".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas import config, escape, formats
from atlas.filters import Filters
from atlas.views import suppression
from atlas.views.charts import titled
from atlas.vocab import NEGATIVE_OUTCOMES, NEUTRAL_OUTCOMES, POSITIVE_OUTCOMES, label

# The page's sections below its top (app.sections: each drawn only when opened), in order.
SECTIONS = [
    "Against the network",
    "Trend by quarter",
    "Outcome mix",
    "Returns to homelessness",
    "Pathways",
    "Programs",
]

NO_PROGRAM = "No program recorded"
NO_FUNDER = "No funder recorded"
NETWORK = "Whole network"
VICTIM_REFERRERS = "Victim-service agencies (not named)"
NO_REFERRAL = "No referral on record"
HORIZONS = (6, 12, 24)
DOT_ROWS = 30  # the comparison dot plots show at most this many rows (the largest by exits)
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
OUTCOME_COLOURS = {
    "housed_permanent": "#1b7a5a", "housed_temporary": "#3aa67a", "employed": "#5fbf8f",
    "income_increased": "#8fd3ad", "education_enrolled": "#2a9d8f", "health_connected": "#74c2b8",
    "positive_not_shown": "#b9e2cb", "exited_no_outcome": "#b8c0c8", "unknown": "#d9dee3",
    "other_not_shown": "#dde1e5", "exited_to_street": "#e76f51", "returned_to_homelessness": "#b5382a",
}
DIMENSIONS = {"service_type": "Service type", "funder": "Funder", "agency": "Agency", "program": "Program"}
COLOURS = {"dot": "#264653", "network": "#e76f51", "band": "rgba(231,111,81,0.12)", "funder": "#2a9d8f"}


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


@dataclass(frozen=True)
class Outcomes:
    filters: Filters
    funder: str | None
    min_cell: int
    as_of: dt.datetime | None
    network: pd.Series  # exits, positive, rate, ci_low, ci_high: the whole network in the period (shown programs)
    selection: pd.Series  # the same for the filters and the funder
    programs: pd.DataFrame  # every program of the selection; `suppressed` ones without counts
    by: dict[str, pd.DataFrame]  # service_type, funder, agency, program: rate tables over shown programs
    trend: pd.DataFrame  # scope, quarter, exits, positive, rate, ci_low, ci_high, suppressed
    mix: dict[str, pd.DataFrame]  # service_type, program: group, outcome, label, exits, share
    returns: pd.DataFrame  # horizon_months, followed, returned, rate, ci_low, ci_high, suppressed
    pathways: pd.DataFrame  # referrer, sector, kind, exits, positive, rate, ci_low, ci_high
    suppressed: Suppressed
    notes: list[str]  # what was hidden and why, plain text (no data text in it)
    reading: list[str]  # the headline findings, Markdown-escaped names
    funders: list[str]  # the funders with exits in the period (for the funder choice)
    _figures: dict = field(default_factory=dict, repr=False, compare=False)

    def figure(self, key: str) -> go.Figure | None:
        """One chart of the view (see FIGURES), drawn on first use; None when there is nothing to draw."""
        if key not in self._figures:
            self._figures[key] = FIGURES[key](self)
        return self._figures[key]

    @property
    def figures(self) -> dict[str, go.Figure]:
        """Every chart there is something to draw for."""
        return {key: fig for key in FIGURES if (fig := self.figure(key)) is not None}

    @property
    def scope(self) -> str:
        return self.funder or NETWORK

    @property
    def empty(self) -> bool:
        return self.programs.empty


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------

def build(db, filters: Filters, funder: str | None = None, min_cell: int | None = None) -> Outcomes:
    """Every section of the page for the filters and, optionally, one funder's programs."""
    m = config.min_cell() if min_cell is None else int(min_cell)
    period = Filters(filters.start, filters.end)
    extent = db.query("data_extent").iloc[0]
    as_of = None if pd.isna(extent["as_of"]) else pd.Timestamp(extent["as_of"]).to_pydatetime()

    network_cells = db.query("outcome_mix", **period.params_for("outcome_mix"), min_cell=m)
    cells = db.query("outcome_mix", **filters.params_for("outcome_mix"), min_cell=m)
    network_programs = program_rows(network_cells, m)
    shown = set(network_programs.loc[~network_programs["suppressed"], "key"])
    funders = sorted(network_cells["funder"].dropna().unique().tolist())
    funder = funder if funder in funders else None

    programs = program_rows(cells, m)
    in_scope = programs if funder is None else programs[programs["funder"] == funder]
    published = in_scope[~in_scope["suppressed"]]
    filtered_published = programs[~programs["suppressed"]]

    by = {
        "service_type": aggregate(published.assign(group=published["service_type"].map(
            lambda s: NO_PROGRAM if pd.isna(s) else label(s))), ["group"], m),
        "funder": aggregate(filtered_published.assign(group=filtered_published["funder"].fillna(NO_FUNDER)),
                            ["group"], m),
        "agency": aggregate(published.rename(columns={"agency_name": "group"}),
                            ["agency_id", "group", "region", "sector"], m),
        "program": aggregate(published.assign(group=published["program_label"]), ["key", "group", "agency_name",
                                                                                "program_name", "service_type",
                                                                                "funder"], m),
    }
    network = total(network_programs[~network_programs["suppressed"]])
    selection = total(published)

    mix_cells = protect_mix(_only(cells, set(published["key"])), m)
    mix = {"service_type": mix_table(mix_cells, "service_type"),
           "program": mix_table(mix_cells, "program", top=MIX_PROGRAMS)}

    quarters = db.query("outcome_quarters", **period.params_for("outcome_quarters"), min_cell=m)
    trend = trend_table(_only(quarters, shown), m, funder)
    returns = returns_table(db.query("housing_returns", min_cell=m), m)
    routes = db.query("outcome_pathways", **period.params_for("outcome_pathways"), min_cell=m)
    pathways = pathways_table(_only(routes, shown), m)

    counts = Suppressed(
        min_cell=m, programs=len(in_scope), programs_hidden=int(in_scope["suppressed"].sum()),
        mix_cells_hidden=int((mix_cells["hidden"] & (mix_cells["exits"] > 0)).sum()) if len(mix_cells) else 0,
        trend_hidden=int(trend["suppressed"].sum()), returns_hidden=int(returns["suppressed"].sum()),
        referrers_pooled=int(pathways.attrs.get("pooled", 0)),
    )
    view = Outcomes(
        filters=filters, funder=funder, min_cell=m, as_of=as_of, network=network, selection=selection,
        programs=in_scope.reset_index(drop=True), by=by, trend=trend, mix=mix, returns=returns, pathways=pathways,
        suppressed=counts, notes=notes(counts, funder), reading=[], funders=funders,
    )
    object.__setattr__(view, "reading", reading(view))
    return view


def network_total(db, filters: Filters, min_cell: int) -> pd.Series:
    """The whole network's exits, positive exits and rate over its shown programs in the period (the
    Outcomes page's "Whole network" figure; region, service and sector filters do not narrow it)."""
    period = Filters(filters.start, filters.end)
    programs = program_rows(db.query("outcome_mix", **period.params_for("outcome_mix"), min_cell=min_cell), min_cell)
    return total(programs[~programs["suppressed"]])


def _key(frame: pd.DataFrame) -> pd.Series:
    return frame["agency_id"].astype(str) + "|" + frame["program_id"].fillna("").astype(str)


def _only(frame: pd.DataFrame, keys: set[str]) -> pd.DataFrame:
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


# --------------------------------------------------------------------------------------------
# The outcome mix: protected inside each program, then added up
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Trend, returns, pathways: whole network of the period, complementary suppression inside
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------

def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def notes(counts: Suppressed, funder: str | None) -> list[str]:
    """What was hidden and why, in plain words (no data text, so safe in Markdown and HTML)."""
    m = counts.min_cell
    lines = [f"Counts of 1 to {m - 1} people are never shown, nor rates or intervals built on them "
             f"(the threshold, {m}, is set by this deployment)."]
    if counts.programs_hidden:
        lines.append(f"{counts.programs_hidden:,} of {counts.programs:,} programs are hidden: fewer than {m} exits, "
                     f"or 1 to {m - 1} positive or other exits. They are left out of every total, rate and chart "
                     "here, so no total can be used to work them out, whichever filters are combined.")
    if counts.mix_cells_hidden:
        lines.append(f"In the outcome mix, {counts.mix_cells_hidden:,} small outcome counts inside programs are "
                     "not itemised: they appear as “outcome not shown”, and with each of them enough others "
                     "that no program's hidden outcomes can be worked out from its totals.")
    if counts.trend_hidden:
        lines.append(f"{_n(counts.trend_hidden, 'quarterly figure of the trend is', 'quarterly figures of the trend are')} "
                     "hidden (small, or hidden with a small one so that it cannot be worked out from the totals).")
    if counts.returns_hidden:
        lines.append(f"{_n(counts.returns_hidden, 'return-to-homelessness figure is', 'return-to-homelessness figures are')} "
                     "hidden for small numbers.")
    if counts.referrers_pooled:
        lines.append(f"{_n(counts.referrers_pooled, 'referral route', 'referral routes')} with small numbers (and, where needed, the "
                     "next smallest) are pooled into one row.")
    lines.append("Victim-service agencies are left out of this page, and as referrers are never named.")
    return lines


def day(value: dt.date) -> str:
    """A date as people write it: 1 Jan 2024 (atlas.formats)."""
    return formats.date(value)


def pct(value: float) -> str:
    return formats.percent(value)


def interval(row) -> str:
    return formats.percent_range(row["ci_low"], row["ci_high"])


def reading(view: Outcomes) -> list[str]:
    """The headline findings, from shown figures only (names Markdown-escaped)."""
    sel, net = view.selection, view.network
    if not sel["exits"]:
        return []
    scope = "these programs" if (view.funder or view.filters.region or view.filters.service_type
                                 or view.filters.sector) else "the network's programs"
    lines = [f"**{pct(sel['rate'])}** of the {sel['exits']:,} exits from {scope} shown ended positively "
             f"(95% interval {interval(sel)})."]
    if sel["exits"] != net["exits"] and net["exits"]:
        lines.append(f"The whole network: {pct(net['rate'])} of {net['exits']:,} exits ({interval(net)}).")
    services = view.by["service_type"]
    services = services[~services["suppressed"] & (services["group"] != NO_PROGRAM)]
    if len(services) >= 2:
        best, worst = services.loc[services["rate"].idxmax()], services.loc[services["rate"].idxmin()]
        lines.append(f"By service type, **{escape.markdown(best['group'])}** does best ({pct(best['rate'])}) and "
                     f"**{escape.markdown(worst['group'])}** least well ({pct(worst['rate'])}).")
    shown = view.returns[~view.returns["suppressed"]]
    if len(shown):
        last = shown.iloc[-1]
        lines.append(f"Of {last['followed']:,} clients housed between {day(last['housed_from'])} and "
                     f"{day(last['housed_to'])}, {pct(last['rate'])} returned to homelessness within "
                     f"{last['horizon_months']} months.")
    return lines


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------

def _comparison(key: str):
    def draw(view: Outcomes) -> go.Figure | None:
        table = view.by[key]
        return comparison_chart(table, view.network, f"Positive-exit rate by {DIMENSIONS[key].lower()}") \
            if len(table) else None
    return draw


def _mix(key: str):
    return lambda view: mix_chart(view.mix[key], key) if len(view.mix[key]) else None


FIGURES = {
    **{f"by_{key}": _comparison(key) for key in DIMENSIONS},
    "trend": lambda view: trend_chart(view.trend, view.funder) if (~view.trend["suppressed"]).any() else None,
    "mix_service_type": _mix("service_type"),
    "mix_program": _mix("program"),
    "returns": lambda view: returns_chart(view.returns) if (~view.returns["suppressed"]).any() else None,
    "pathways": lambda view: comparison_chart(view.pathways.rename(columns={"referrer": "group"}), view.network,
                                              "Positive-exit rate by referring agency") if len(view.pathways)
    else None,
}


def comparison_chart(table: pd.DataFrame, network: pd.Series, title: str, rows: int = DOT_ROWS) -> go.Figure:
    """A dot plot: each group's rate with its 95% interval, against the network's rate and interval."""
    shown = table[~table["suppressed"].astype(bool)].nlargest(rows, "exits").sort_values("rate")
    names = [escape.html(g) for g in shown["group"]]
    fig = go.Figure()
    if pd.notna(network["rate"]):
        fig.add_vrect(x0=network["ci_low"], x1=network["ci_high"], fillcolor=COLORS_BAND, line_width=0, layer="below")
        fig.add_vline(x=network["rate"], line=dict(color=COLOURS["network"], dash="dash", width=2))
    fig.add_scatter(
        x=shown["rate"], y=names, mode="markers", name="Rate with 95% interval",
        marker=dict(color=COLOURS["dot"], size=9),
        error_x=dict(type="data", symmetric=False, array=shown["ci_high"] - shown["rate"],
                     arrayminus=shown["rate"] - shown["ci_low"], color=COLOURS["dot"], thickness=1.5, width=4),
        customdata=np.column_stack([shown["exits"].astype(float), shown["ci_low"], shown["ci_high"]]),
        hovertemplate="%{y}: %{x:.1%} of %{customdata[0]:,} exits (95% interval %{customdata[1]:.1%}–"
                      "%{customdata[2]:.1%})<extra></extra>",
    )
    if pd.notna(network["rate"]):
        fig.add_scatter(x=[None], y=[None], mode="lines", name=f"Whole network: {formats.percent(network['rate'])}",
                        line=dict(color=COLOURS["network"], dash="dash", width=2))
    subtitle = f"<br><sup>{len(shown)} largest by exits shown</sup>" if len(table) > rows else ""
    titled(fig, title + subtitle)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], title_text="Share of exits that ended positively")
    fig.update_yaxes(automargin=True)
    fig.update_layout(height=140 + 24 * max(len(shown), 3), hovermode="closest", margin=dict(t=70 if subtitle else 50))
    return fig


COLORS_BAND = COLOURS["band"]


def trend_chart(trend: pd.DataFrame, funder: str | None) -> go.Figure:
    """The network's positive-exit rate by quarter with its interval as a band (and a funder's, if any)."""
    fig = go.Figure()
    series = [("network", NETWORK, COLOURS["network"], "rgba(231,111,81,0.15)")]
    if funder:
        series.append(("funder", escape.html(funder), COLOURS["funder"], "rgba(42,157,143,0.15)"))
    for scope, name, colour, band in series:
        part = trend[(trend["scope"] == scope)].sort_values("quarter")
        x = [f"{q.year} Q{(q.month - 1) // 3 + 1}" for q in part["quarter"]]
        single = len(part) == 1  # one quarter (a board or funder's period): a band has no width, so a bar
        if not single:
            fig.add_scatter(x=x + x[::-1], y=list(part["ci_high"]) + list(part["ci_low"])[::-1], fill="toself",
                            mode="lines", fillcolor=band, line=dict(width=0), hoverinfo="skip", showlegend=False)
        interval = dict(type="data", symmetric=False, color=colour, thickness=2, width=12,
                        array=(part["ci_high"] - part["rate"]).tolist(),
                        arrayminus=(part["rate"] - part["ci_low"]).tolist()) if single else None
        fig.add_scatter(x=x, y=part["rate"], mode="lines+markers", name=name, line=dict(color=colour, width=2),
                        marker=dict(size=10 if single else 6), error_y=interval,
                        customdata=part[["exits"]].astype(float).to_numpy(),
                        hovertemplate="%{x}: %{y:.1%} of %{customdata[0]:,} exits<extra>" + name + "</extra>")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="Positive-exit rate")
    fig.update_xaxes(type="category")
    titled(fig, "Positive-exit rate by quarter, with 95% intervals")
    fig.update_layout(hovermode="closest", height=360)
    return fig


def mix_chart(mix: pd.DataFrame, by: str) -> go.Figure:
    """Stacked bars: each group's exits by outcome, as shares (positive outcomes first)."""
    groups = list(dict.fromkeys(mix["group"]))[::-1]
    names = {g: escape.html(g) for g in groups}
    fig = go.Figure()
    for outcome in OUTCOME_ORDER:
        part = mix[mix["outcome"] == outcome].set_index("group").reindex(groups)
        if part["exits"].isna().all():
            continue
        fig.add_bar(y=[names[g] for g in groups], x=part["share"].fillna(0).to_numpy(), orientation="h",
                    name=OUTCOME_LABELS[outcome], marker_color=OUTCOME_COLOURS[outcome], marker_line_width=0,
                    marker_pattern_shape="/" if outcome.endswith("_not_shown") else "",
                    marker_pattern_fgcolor="white", marker_pattern_size=6,
                    customdata=part[["exits"]].fillna(0).astype(float).to_numpy(),
                    hovertemplate="%{y}: %{x:.1%} (%{customdata[0]:,} exits)<extra>" + OUTCOME_LABELS[outcome]
                                  + "</extra>")
    fig.update_layout(barmode="stack", hovermode="closest", height=170 + 26 * len(groups),
                      legend=dict(orientation="h", yanchor="top", y=-0.12, x=0, xanchor="left", traceorder="normal"))
    fig.update_xaxes(tickformat=".0%", range=[0, 1], side="top")
    fig.update_yaxes(automargin=True)
    what = "service type" if by == "service_type" else "program (the largest by exits)"
    titled(fig, f"Outcome mix by {what}")
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.02, x=0, xanchor="left"),
                      margin=dict(b=10, t=80), height=200 + 26 * len(groups))
    return fig


def returns_chart(returns: pd.DataFrame) -> go.Figure:
    """Share of housed clients back in homelessness within 6, 12 and 24 months, with intervals."""
    shown = returns[~returns["suppressed"]]
    x = [f"Within {h} months" for h in shown["horizon_months"]]
    fig = go.Figure()
    fig.add_bar(x=x, y=shown["rate"], marker_color=COLOURS["network"],
                error_y=dict(type="data", symmetric=False, array=shown["ci_high"] - shown["rate"],
                             arrayminus=shown["rate"] - shown["ci_low"], color="#444"),
                customdata=shown[["followed", "returned"]].astype(float).to_numpy(),
                hovertemplate="%{x}: %{y:.1%} (%{customdata[1]:,} of %{customdata[0]:,} clients)<extra></extra>")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="Returned to homelessness")
    titled(fig, "Returns to homelessness after a positive housing exit")
    fig.update_layout(hovermode="closest", height=340, showlegend=False)
    return fig


# --------------------------------------------------------------------------------------------
# Tables for people (readable headings) and for the CSV
# --------------------------------------------------------------------------------------------

SHOWN_COLUMNS = {"programs": "Programs", "exits": "Exits", "positive": "Positive exits", "rate": "Rate",
                 "ci_low": "95% from", "ci_high": "95% to"}
PERCENT_COLUMNS = ("Rate", "95% from", "95% to")
FIRST_COLUMNS = {
    "service_type": {"group": "Service type"},
    "funder": {"group": "Funder"},
    "agency": {"group": "Agency", "region": "Region", "sector": "Sector"},
    "program": {"agency_name": "Agency", "program": "Program", "service": "Service type", "funder": "Funder"},
    "pathways": {"referrer": "Referred in by", "sector": "Sector"},
    "returns": {"horizon": "Back in homelessness", "housed": "Housed between", "followed": "Clients followed",
                "returned": "Returned"},
}


def display(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A table with readable headings for the page; hidden rows keep their names, their counts stay empty. Rates
    are percentages (0-100), for a column of format atlas.formats.PERCENT_PRINTF: written as everywhere else."""
    frame = table
    if kind == "program":
        frame = table.assign(service=table["service_type"].map(lambda s: "" if pd.isna(s) else label(s)),
                             program=table["program_name"].fillna(NO_PROGRAM.lower()),
                             funder=table["funder"].fillna(""))
    if kind == "returns":
        frame = table.assign(horizon=table["horizon_months"].map(lambda h: f"within {h} months"),
                             housed=[f"{day(a)} – {day(b)}" for a, b in
                                     zip(table["housed_from"], table["housed_to"])])
    columns = {**FIRST_COLUMNS[kind], **{k: v for k, v in SHOWN_COLUMNS.items()
                                         if k in frame.columns and not (kind == "returns" and k in ("exits",
                                                                                                    "positive"))}}
    out = formats.as_percent(frame[list(columns)].rename(columns=columns), PERCENT_COLUMNS)
    if "suppressed" in frame.columns and frame["suppressed"].astype(bool).any():
        out["Note"] = np.where(frame["suppressed"].astype(bool), "hidden: small numbers", "")
    return out.reset_index(drop=True)


def aggregate_tables(view: Outcomes) -> dict[str, pd.DataFrame]:
    """Every aggregate table of the view, in long form, for the CSV (counts of shown programs only)."""
    tables = {}
    rate_cols = ["exits", "positive", "rate", "ci_low", "ci_high"]
    for key in ("service_type", "funder", "agency"):
        t = view.by[key]
        tables[f"by_{key}"] = t.assign(group=t["group"])[["group", "programs", *rate_cols]]
    p = view.programs[~view.programs["suppressed"]]
    tables["by_program"] = p.assign(group=p["program_label"])[["group", *rate_cols]]
    tables["network"] = pd.DataFrame([{"group": NETWORK, **view.network[rate_cols].to_dict()}])
    if view.funder or view.filters != Filters(view.filters.start, view.filters.end):
        tables["selection"] = pd.DataFrame([{"group": view.funder or "Selection", **view.selection[rate_cols].to_dict()}])
    trend = view.trend[~view.trend["suppressed"]]
    tables["trend"] = trend.assign(group=np.where(trend["scope"] == "network", NETWORK, view.funder or ""),
                                   period=trend["quarter"].astype(str))[["group", "period", *rate_cols]]
    for key in ("service_type", "program"):
        mix = view.mix[key]
        tables[f"mix_{key}"] = mix.assign(outcome=mix["label"])[["group", "outcome", "exits", "share"]]
    ret = view.returns[~view.returns["suppressed"]]
    tables["returns"] = ret.assign(group=NETWORK, period=ret["horizon_months"].map(lambda h: f"within {h} months"),
                                   exits=ret["followed"], positive=ret["returned"])[["group", "period", *rate_cols]]
    tables["pathways"] = view.pathways.assign(group=view.pathways["referrer"])[["group", *rate_cols]]
    return tables


def long_table(view: Outcomes) -> pd.DataFrame:
    """All aggregate tables stacked, with a `table` column: the pack's CSV."""
    parts = [t.assign(table=name) for name, t in aggregate_tables(view).items() if len(t)]
    frame = pd.concat(parts, ignore_index=True)
    first = ["table", "group", "period", "outcome", "programs", "exits", "positive", "rate", "ci_low", "ci_high",
             "share"]
    for column in first:
        if column not in frame.columns:
            frame[column] = None
    for count in ("programs", "exits", "positive"):  # stacking tables without a count made them floats (26.0)
        frame[count] = frame[count].astype("Int64")
    return frame[first]
