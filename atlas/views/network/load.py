"""The network map's entry points: `build(db, filters, choice, min_cell)` (the agency map, its scores and
tables) and `summary_view(db, filters, by, min_cell)` (the network by region or sector). Loading layer:
they read the named queries (`db` is anything with `.query(name, **params)`), apply the privacy rules once
(atlas.views.privacy: victim-service agencies never drawn, named or scored; atlas.views.suppression: the
board's and funders' small cells and their complement), then hand the frames to the computing modules
(`scores`, `layout`, `summary`) and the presenting ones (`drawing`, `tables`).

The views they return hold data only (frames, arrays, the drawing's plain nodes and edges), so they can
be cached and pickled; the tables the page shows under the map are built from them when read."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from atlas.filters import Filters
from atlas.views import privacy, suppression
from atlas.views.network.choice import SUMMARY_BY, MapChoice
from atlas.views.network.drawing import MapDrawing, drawing_html, map_drawing, summary_drawing
from atlas.views.network.layout import MapLayout, map_layout
from atlas.views.network.scores import FormalVersusReal, formal_versus_real, score
from atlas.views.network.summary import summary
from atlas.views.network.survey import round_of, split, survey_ties, with_survey_rows
from atlas.views.network.tables import (
    dormant_agreements,
    informal_flows,
    map_agencies_table,
    map_flows_table,
    map_ties_table,
    one_way_pairs,
    partners,
    scores_table,
    summary_flows_table,
    summary_table,
)

ONE_WAY_MIN = 10  # referrals one way, none back, that make a one-way pair (at least min_cell in board views)
SUMMARY_FIGURES = ("within", "sent", "received", "referrals")  # a summary row's figures that can read "hidden"


@dataclass(frozen=True)
class NetworkView:
    agencies: pd.DataFrame  # drawn agencies with their scores (raw column names)
    scores: pd.DataFrame  # the same, with readable headings, strongest brokers first
    summary: dict  # network-level figures
    cut_points: pd.DataFrame  # agency whose closure cuts others off, and whom
    drawing: MapDrawing  # the map: what vis-network draws, and its legend
    informal_flows: pd.DataFrame  # heavy flows with no formal agreement
    dormant: pd.DataFrame  # declared agreements that carried no referral
    one_way: pd.DataFrame  # pairs where referrals go one way only
    formal_real: FormalVersusReal  # the same, in figures
    focus_partners: pd.DataFrame  # the focus agency's partners and how they are tied
    hidden_referrals: int | None  # referrals to or from victim-service agencies (None in board views)
    flows: pd.DataFrame  # every flow scored (victim-service agencies and weak flows left out)
    flows_drawn: int
    choice: MapChoice = field(default_factory=MapChoice)
    survey_round: dict | None = None  # the survey round whose ties are the informal (survey) layer, if any are
    not_drawn: int = 0  # agencies with no flow or tie on the map, left out of it (they are in the tables)
    layout: MapLayout | None = None  # what the map draws and where (for static pictures and measures)
    min_cell: int | None = None  # the board's and funders' small-cell threshold (None: the directors' view)

    @property
    def html(self) -> str:
        """The map as one self-contained HTML document (the download)."""
        return drawing_html(self.drawing)

    @property
    def flows_total(self) -> int:
        return len(self.flows)

    @property
    def names(self) -> dict:
        """Each scored agency's name by its id."""
        return dict(zip(self.agencies["agency_id"], self.agencies["name"]))

    @property
    def map_agencies(self) -> pd.DataFrame:
        """The agencies the map draws, as their tooltips describe them (the map's text alternative)."""
        return map_agencies_table(self.layout, self.min_cell)

    @property
    def map_flows(self) -> pd.DataFrame:
        """The referral flows the map draws (its arrows), as their tooltips describe them."""
        return map_flows_table(self.layout, self.choice, restricted=self.min_cell is not None)

    @property
    def map_ties(self) -> pd.DataFrame:
        """The declared ties the map draws (its lines without arrows), as their tooltips describe them, and the
        survey's (kind "Informal (survey)"; ratings in director views only)."""
        restricted = self.min_cell is not None
        declared = map_ties_table(self.layout, self.choice, restricted=restricted)
        return with_survey_rows(declared, self.layout, self.choice, restricted) if self.survey_round else declared


@dataclass(frozen=True)
class SummaryView:
    by: str
    nodes: pd.DataFrame  # group, agencies, within, sent, received, referrals
    between: pd.DataFrame  # from_group, to_group, referrals
    drawing: MapDrawing
    # group -> the columns (within, sent, received) that read 0 only because every flow in them is under the
    # small-cell threshold: the table says "hidden" there, never 0
    hidden: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def html(self) -> str:
        """The summary map as one self-contained HTML document."""
        return drawing_html(self.drawing)

    @property
    def table(self) -> pd.DataFrame:
        return summary_table(self.nodes, self.by, self.hidden)

    @property
    def flows_table(self) -> pd.DataFrame:
        """The arrows of the summary map: referrals from one group's agencies to another's, heaviest first (sums of
        the flows the map shows, so nothing in them is small)."""
        return summary_flows_table(self.between, self.by)


def build(db, filters: Filters, choice: MapChoice = MapChoice(), min_cell: int | None = None) -> NetworkView:
    """The map, scores and tables for the filters; `db` is anything with `.query(name, **params)`.

    With `min_cell` (board and funder views) the map is built from flows of at least min_cell
    referrals only, so every figure on it (volumes, partners, tooltips, exports) adds up shown flows;
    if everything left out of the period's referral total would then add up to 1..min_cell-1, the
    smallest shown flows are left out too, so the Overview's total cannot be used to work it out.
    Accepted counts and referral counts of declared ties are not shown, and an agency's partner
    with only small flows reads "fewer than min_cell", never a number."""
    agencies, flows, ties = _read(db, filters)
    visible, protected = privacy.split_agencies(agencies)
    every_flow, hidden = privacy.split_rows(flows, protected)
    every_flow = every_flow.reset_index(drop=True)
    ties = privacy.shown_rows(ties, protected, privacy.TIE_ENDS).reset_index(drop=True)
    _, surveyed = survey_ties(db, filters, protected, restricted=min_cell is not None)
    if len(surveyed):  # the survey's ties travel with the declared ones, as kind "survey" (network/survey.py)
        ties = pd.concat([ties, surveyed], ignore_index=True)
    threshold = choice.min_referrals if min_cell is None else max(choice.min_referrals, int(min_cell))
    if min_cell is None:
        flows = every_flow[every_flow["referrals"] >= threshold].reset_index(drop=True)
    else:
        flows = suppression.published_flows(every_flow, _published_total(db, filters), int(min_cell), threshold)
        choice = replace(choice, min_referrals=threshold)
    # the distinct ids first: isin on Arrow strings converts every value it is given one by one
    ends = set(flows["from_agency_id"].unique()) | set(flows["to_agency_id"].unique()) \
        | set(ties["agency_a_id"].unique()) | set(ties["agency_b_id"].unique())
    shown = visible[visible["in_scope"] | visible["agency_id"].isin(ends)]
    if choice.group is not None:  # the agency map of one region or sector, opened from the summary
        shown, flows, every_flow, ties = _one_group(choice.group, shown, flows, every_flow, ties)
    return _network_view(shown.reset_index(drop=True), flows, every_flow, ties, choice, min_cell,
                         None if min_cell is not None else int(hidden["referrals"].sum()))


def _read(db, filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The period's agencies, referral flows and declared ties (with the partners' survey ratings, where given)."""
    agencies = db.query("network_agencies", **filters.params_for("network_agencies"))
    flows = db.query("network_edges", **filters.params_for("network_edges"))
    ties = db.query("partnership_activity", **filters.params_for("partnership_activity"))
    keys = ["agency_a_id", "agency_b_id", "kind", "instrument", "started_on"]
    rated = db.query("partnership_quality", start=filters.start, end=filters.end)[[*keys, "trust", "value"]]
    return agencies, flows, ties.merge(rated.drop_duplicates(keys), on=keys, how="left")


def _published_total(db, filters: Filters) -> int:
    """The period's referral total as the Overview publishes it (what the complementary rule guards)."""
    return int(db.query("network_summary", **filters.params_for("network_summary"))["referrals"].iloc[0])


def _one_group(group: tuple[str, str], shown: pd.DataFrame, flows: pd.DataFrame, every_flow: pd.DataFrame,
               ties: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The agencies of one region or sector, and the flows and ties among them only."""
    by, value = group
    shown = shown[shown[by] == value]
    inside = set(shown["agency_id"])
    flows = flows[flows["from_agency_id"].isin(inside) & flows["to_agency_id"].isin(inside)].reset_index(drop=True)
    every_flow = every_flow[every_flow["from_agency_id"].isin(inside) & every_flow["to_agency_id"].isin(inside)]
    ties = ties[ties["agency_a_id"].isin(inside) & ties["agency_b_id"].isin(inside)].reset_index(drop=True)
    return shown, flows, every_flow, ties


def _network_view(shown: pd.DataFrame, flows: pd.DataFrame, every_flow: pd.DataFrame, ties: pd.DataFrame,
                  choice: MapChoice, min_cell: int | None, hidden_referrals: int | None) -> NetworkView:
    """The view of the agencies `shown` over the scored `flows` (`every_flow`: before any threshold); `ties`
    holds the declared ties and the survey round's (drawn, never counted as declared)."""
    scored, figures, cut_points = score(shown, flows)
    focus = choice.focus if choice.focus in set(scored["agency_id"]) else None
    choice = replace(choice, focus=focus)
    names = dict(zip(scored["agency_id"], scored["name"]))
    drawn = flows.nlargest(choice.top_edges, "referrals") if len(flows) > choice.top_edges else flows
    restricted = min_cell is not None
    layout = map_layout(scored, drawn, ties, choice)
    survey_round = round_of(ties)
    ties, _ = split(ties)  # the declared ties alone, for what counts agreements
    one_way_min = max(ONE_WAY_MIN, choice.min_referrals) if restricted else ONE_WAY_MIN
    one_way = one_way_pairs(flows, names, min_referrals=one_way_min, every_flow=every_flow)
    dormant = dormant_agreements(ties, names)
    return NetworkView(
        agencies=scored, scores=scores_table(scored), summary=figures, cut_points=cut_points,
        drawing=map_drawing(scored, drawn, ties, choice, restricted=restricted, min_cell=min_cell, layout=layout,
                            survey_round=survey_round),
        informal_flows=informal_flows(flows, names, accepted=not restricted),
        dormant=dormant, one_way=one_way, formal_real=formal_versus_real(flows, ties, dormant, one_way, one_way_min),
        focus_partners=partners(focus, flows, ties, names, every_flow=every_flow,
                                min_cell=min_cell) if focus else pd.DataFrame(),
        hidden_referrals=hidden_referrals,
        flows=flows if not restricted else flows.drop(columns="accepted"),
        flows_drawn=len(drawn), choice=choice, not_drawn=len(scored) - len(layout.agencies), layout=layout,
        min_cell=min_cell, survey_round=survey_round,
    )


def summary_view(db, filters: Filters, by: str = "region", min_cell: int | None = None) -> SummaryView:
    """The summary map of the period: the flows the agency map scores by default (victim-service agencies
    left out; with `min_cell`, flows of at least min_cell and the complement rule, as on the board's map),
    summed by region or sector."""
    if by not in SUMMARY_BY:
        raise ValueError(f"by must be one of {', '.join(SUMMARY_BY)}")
    agencies = db.query("network_agencies", **filters.params_for("network_agencies"))
    flows = db.query("network_edges", **filters.params_for("network_edges"))
    agencies, protected = privacy.split_agencies(agencies)
    flows = privacy.shown_rows(flows, protected)
    if min_cell is None:
        nodes, between = summary(agencies, flows, by)
        return SummaryView(by, nodes, between, summary_drawing(nodes, between, by))
    every, _ = summary(agencies, flows, by)
    flows = suppression.published_flows(flows, _published_total(db, filters), int(min_cell))
    nodes, between = summary(agencies, flows, by)
    hidden = suppression.hidden_zeros(nodes, every, "group", SUMMARY_FIGURES)
    return SummaryView(by, nodes, between, summary_drawing(nodes, between, by, hidden), hidden)
