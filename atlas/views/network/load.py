"""The network map's entry points: `build(db, filters, choice, min_cell)` (the agency map, its scores and
tables) and `summary_view(db, filters, by, min_cell)` (the network by region or sector). Loading layer:
they read the named queries (`db` is anything with `.query(name, **params)`), apply the privacy rules once
(atlas.views.privacy: victim-service agencies never drawn, named or scored; atlas.views.network.published:
the board's published set, small figures and their complements protected together), then hand the frames to the computing modules
(`scores`, `layout`, `summary`) and the presenting ones (`drawing`, `tables`).

The views they return hold data only (frames, arrays, the drawing's plain nodes and edges), so they can
be cached and pickled; the tables the page shows under the map are built from them when read."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from atlas.filters import Filters
from atlas.views import privacy
from atlas.views.network.choice import SUMMARY_BY, MapChoice
from atlas.views.network.drawing import MapDrawing, drawing_html, map_drawing, summary_drawing
from atlas.views.network.layout import MapLayout, map_layout
from atlas.views.network.published import published
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
    region_formal_table,
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
    # formal versus real by ordered pair of regions, from every referral: from_group, to_group, referrals,
    # formal_referrals and (board views) which of them the board's set shows
    region_pairs: pd.DataFrame | None = None
    hidden_flows: tuple[int, int] | None = None  # board views: (flows the set hides, flows) among these agencies

    @property
    def html(self) -> str:
        """The map as one self-contained HTML document (the download)."""
        return drawing_html(self.drawing)

    @property
    def region_formal(self) -> pd.DataFrame:
        """Formal versus real by ordered pair of regions, as the page and the board pack show it."""
        return region_formal_table(self.region_pairs)

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
    between: pd.DataFrame  # from_group, to_group, referrals, shown (board views: whether the board's set shows it)
    drawing: MapDrawing
    # group -> the figures (within, sent, received, referrals) the board's set does not show: they read "hidden"
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
        """Every ordered pair of groups with referrals between them, heaviest first: the map's arrows, and
        "hidden" for a pair the board's set does not show (it has no arrow)."""
        return summary_flows_table(self.between, self.by)

    @property
    def arrows(self) -> pd.DataFrame:
        """The pairs the map draws as arrows."""
        return self.between[self.between["shown"]] if "shown" in self.between else self.between


def build(db, filters: Filters, choice: MapChoice = MapChoice(), min_cell: int | None = None) -> NetworkView:
    """The map, scores and tables for the filters; `db` is anything with `.query(name, **params)`.

    With `min_cell` (board and funder views) the map is built from the flows the board's published set
    shows (atlas.views.network.published: protected with every region and sector figure, the formal
    versus real figures by region and the network total, for the period and its year together), so
    every figure on it (volumes, partners, tooltips, exports) adds up shown flows. Accepted counts and
    referral counts of declared ties are not shown, and a partner's flow the set hides reads "hidden"."""
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
        board = published(db, filters, int(min_cell)).shown_flows()
        every_flow = every_flow.merge(board[["from_agency_id", "to_agency_id"]].assign(_shown=True), how="left",
                                      on=["from_agency_id", "to_agency_id"])
        every_flow["_shown"] = every_flow["_shown"].fillna(False).astype(bool)
        flows = every_flow[every_flow["_shown"] & (every_flow["referrals"] >= threshold)].drop(columns="_shown") \
            .reset_index(drop=True)
        choice = replace(choice, min_referrals=threshold)
    # the distinct ids first: isin on Arrow strings converts every value it is given one by one
    ends = set(flows["from_agency_id"].unique()) | set(flows["to_agency_id"].unique()) \
        | set(ties["agency_a_id"].unique()) | set(ties["agency_b_id"].unique())
    shown = visible[visible["in_scope"] | visible["agency_id"].isin(ends)]
    if choice.group is not None:  # the agency map of one region or sector, opened from the summary
        shown, flows, every_flow, ties = _one_group(choice.group, shown, flows, every_flow, ties)
    counted = None
    if min_cell is not None:
        counted = (int((~every_flow["_shown"]).sum()), len(every_flow))
        every_flow = every_flow.drop(columns="_shown")
    view = _network_view(shown.reset_index(drop=True), flows, every_flow, ties, choice, min_cell,
                         None if min_cell is not None else int(hidden["referrals"].sum()))
    return replace(view, region_pairs=_region_pairs(db, filters, min_cell), hidden_flows=counted)


def _region_pairs(db, filters: Filters, min_cell: int | None) -> pd.DataFrame | None:
    """Formal versus real by ordered pair of regions: the board's set (its figures and what it shows), or for
    directors the named query's figures as they are. Only for the whole network (no filter but the period)."""
    if filters.region or filters.sector or filters.service_type:
        return None
    if min_cell is None:
        rows = db.query("group_flows", start=filters.start, end=filters.end, by="region")
    else:
        rows = published(db, filters, int(min_cell)).pairs["region"]
    return rows[rows["from_group"] != rows["to_group"]].reset_index(drop=True)


def _read(db, filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The period's agencies, referral flows and declared ties (with the partners' survey ratings, where given)."""
    agencies = db.query("network_agencies", **filters.params_for("network_agencies"))
    flows = db.query("network_edges", **filters.params_for("network_edges"))
    ties = db.query("partnership_activity", **filters.params_for("partnership_activity"))
    keys = ["agency_a_id", "agency_b_id", "kind", "instrument", "started_on"]
    rated = db.query("partnership_quality", start=filters.start, end=filters.end)[[*keys, "trust", "value"]]
    return agencies, flows, ties.merge(rated.drop_duplicates(keys), on=keys, how="left")


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
    """The summary map of the period: the flows the agency map scores (victim-service agencies left out) summed
    by region or sector; with `min_cell` (board and funder views) the board's published set: every pair and
    every group's figures from all records, each shown or "hidden" as the set decides."""
    if by not in SUMMARY_BY:
        raise ValueError(f"by must be one of {', '.join(SUMMARY_BY)}")
    if min_cell is None:
        agencies = db.query("network_agencies", **filters.params_for("network_agencies"))
        flows = db.query("network_edges", **filters.params_for("network_edges"))
        agencies, protected = privacy.split_agencies(agencies)
        nodes, between = summary(agencies, privacy.shown_rows(flows, protected), by)
        return SummaryView(by, nodes, between, summary_drawing(nodes, between, by))
    board = published(db, filters, int(min_cell))
    volumes = board.volumes[by]
    pairs = board.pairs[by]
    between = pairs[pairs["from_group"] != pairs["to_group"]][["from_group", "to_group", "referrals", "shown"]] \
        .reset_index(drop=True)
    nodes = volumes[["group", "agencies", *SUMMARY_FIGURES]]
    hidden = tuple((g, tuple(f for f in SUMMARY_FIGURES if not row[f"{f}_shown"]))
                   for g, (_, row) in zip(volumes["group"], volumes.iterrows())
                   if not all(row[f"{f}_shown"] for f in SUMMARY_FIGURES))
    return SummaryView(by, nodes, between, summary_drawing(nodes, between, by, hidden), hidden)
