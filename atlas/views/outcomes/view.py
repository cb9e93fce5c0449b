"""The Funders' Outcomes page, its loading layer: `build(db, filters, funder, min_cell)` reads the named
queries (`outcome_mix`, `outcome_quarters`, `housing_returns`, `outcome_pathways`, `data_extent`), applies
the small-number protections once (atlas.views.outcomes.rates) and returns an `Outcomes` view of data; its
charts are drawn from that data on first use (atlas.views.charts.Drawn), so the view pickles as data. Pure:
no Streamlit; `db` is anything with `.query(name, **params)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property

import pandas as pd
import plotly.graph_objects as go

from atlas import config
from atlas.filters import Filters
from atlas.views.charts import Drawn
from atlas.views.outcomes import published as the_set
from atlas.views.outcomes.plots import FIGURES
from atlas.views.outcomes.rates import (
    MIX_PROGRAMS,
    NETWORK,
    NO_FUNDER,
    NO_PROGRAM,
    Suppressed,
    aggregate,
    mix_table,
    pathways_table,
    program_rows,
    protect_mix,
    returns_table,
    shown_only,
    total,
    trend_table,
)
from atlas.views.outcomes.words import notes, reading, set_notes
from atlas.vocab import label

SECTIONS = [
    "Against the network",
    "Trend by quarter",
    "Outcome mix",
    "Returns to homelessness",
    "Pathways",
    "Programs",
]


@dataclass(frozen=True)
class Outcomes(Drawn):
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

    @cached_property
    def _figures(self) -> dict[str, go.Figure | None]:  # the charts drawn so far
        return {}

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


def rate_tables(published: pd.DataFrame, filtered_published: pd.DataFrame, min_cell: int) -> dict[str, pd.DataFrame]:
    """The rate tables by service type, funder, agency and program, over shown programs: those of the
    selection (`published`), and for funders those of the filters whatever the funder chosen."""
    m = min_cell
    return {
        "service_type": aggregate(published.assign(group=published["service_type"].map(
            lambda s: NO_PROGRAM if pd.isna(s) else label(s))), ["group"], m),
        "region": aggregate(published.assign(group=published["region"]), ["group"], m),
        "funder": aggregate(filtered_published.assign(group=filtered_published["funder"].fillna(NO_FUNDER)),
                            ["group"], m),
        "agency": aggregate(published.rename(columns={"agency_name": "group"}),
                            ["agency_id", "group", "region", "sector"], m),
        "program": aggregate(published.assign(group=published["program_label"]), ["key", "group", "agency_name",
                                                                                "program_name", "service_type",
                                                                                "funder"], m),
    }


def build(db, filters: Filters, funder: str | None = None, min_cell: int | None = None) -> Outcomes:
    """Every section of the page for the filters and, optionally, one funder's programs."""
    m = config.min_cell() if min_cell is None else int(min_cell)
    period = Filters(filters.start, filters.end)
    extent = db.query("data_extent").iloc[0]
    as_of = None if pd.isna(extent["as_of"]) else pd.Timestamp(extent["as_of"]).to_pydatetime()
    if the_set.whole_network_period(filters, m) and not pd.isna(extent["last_referral"]):
        return _from_set(db, filters, funder, m, as_of, pd.Timestamp(extent["last_referral"]).date())

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

    by = rate_tables(published, filtered_published, m)
    network = total(network_programs[~network_programs["suppressed"]])
    selection = total(published)

    mix_cells = protect_mix(shown_only(cells, set(published["key"])), m)
    mix = {"service_type": mix_table(mix_cells, "service_type"),
           "program": mix_table(mix_cells, "program", top=MIX_PROGRAMS)}

    quarters = db.query("outcome_quarters", **period.params_for("outcome_quarters"), min_cell=m)
    trend = trend_table(shown_only(quarters, shown), m, funder)
    returns = returns_table(db.query("housing_returns", min_cell=m), m)
    routes = db.query("outcome_pathways", **period.params_for("outcome_pathways"), min_cell=m)
    pathways = pathways_table(shown_only(routes, shown), m)

    real = in_scope["program_id"].notna()  # exits recorded against an agency alone are not a program
    counts = Suppressed(
        min_cell=m, programs=int(real.sum()), programs_hidden=int((in_scope["suppressed"] & real).sum()),
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


def _from_set(db, filters: Filters, funder: str | None, m: int, as_of, last_day: dt.date) -> Outcomes:
    """The view of a whole quarter or year of the whole network, for the board and funders: the published set
    (atlas.views.outcomes.published), the same figures the Overview, the funder pack and its CSV carry. The
    outcome mix and referral routes cross programs with outcomes and referrers, which the set does not
    publish: they stay in the directors' view."""
    one = the_set.period_set(db, filters, m, last_day)
    funders = sorted(one.cells["funder"].dropna().unique().tolist())
    funder = funder if funder in funders else None
    programs = the_set.program_table(one, funder)
    by = {kind: the_set.breakdown(one, kind) for kind in the_set.KINDS}
    by["program"] = programs[~programs["suppressed"]].assign(group=lambda f: f["program_label"]).reset_index(drop=True)
    real = programs["program_id"].notna()
    returns = returns_table(db.query("housing_returns", min_cell=m), m)
    counts = Suppressed(min_cell=m, programs=int(real.sum()), programs_hidden=int((real & programs["suppressed"]).sum()),
                        returns_hidden=int(returns["suppressed"].sum()))
    trend = the_set.quarter_trend(db, one, last_day, funder)
    counts = replace(counts, trend_hidden=int(trend["suppressed"].sum()))
    empty_mix = pd.DataFrame(columns=["group", "outcome", "label", "exits", "share", "group_exits"])
    view = Outcomes(
        filters=filters, funder=funder, min_cell=m, as_of=as_of, network=the_set.network_figure(one),
        selection=the_set.network_figure(one, funder), programs=programs, by=by, trend=trend,
        mix={"service_type": empty_mix, "program": empty_mix}, returns=returns,
        pathways=pathways_table(pd.DataFrame(), m), suppressed=counts,
        notes=set_notes(one, programs, counts, by), reading=[], funders=funders,
    )
    object.__setattr__(view, "reading", reading(view))
    return view


def network_total(db, filters: Filters, min_cell: int) -> pd.Series:
    """The whole network's exits, positive exits and rate in the period (the Outcomes page's "Whole network"
    figure; region, service and sector filters do not narrow it): for a whole quarter or year the published
    set's figure (with `hidden`), else over the period's shown programs."""
    extent = db.query("data_extent").iloc[0]
    if the_set.whole_network_period(Filters(filters.start, filters.end, aligned=filters.aligned), min_cell) \
            and not pd.isna(extent["last_referral"]):
        return the_set.network_figure(the_set.period_set(db, Filters(filters.start, filters.end, aligned=filters.aligned),
                                                         min_cell, pd.Timestamp(extent["last_referral"]).date()))
    period = Filters(filters.start, filters.end)
    programs = program_rows(db.query("outcome_mix", **period.params_for("outcome_mix"), min_cell=min_cell), min_cell)
    return total(programs[~programs["suppressed"]])
